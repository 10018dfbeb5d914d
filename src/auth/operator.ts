/**
 * Operator mode authentication: a CONNECT's user JWT (and signature of the INFO nonce) checked
 * as nats-server v2.10.29's processClientOrLeafAuthentication does when it has trusted keys
 * (server/auth.go), with the account found by the MEMORY resolver (server/accounts.go
 * MemAccResolver, server/server.go fetchAccountClaims/verifyAccountClaims):
 *
 * 1. the JWT decodes as user claims and `Validate` finds nothing blocking (time checks too:
 *    `exp`, `nbf`);
 * 2. the account (`issuer_account`, else the issuer) is preloaded, its JWT decodes, its subject
 *    is that key, its issuer is a trusted operator key and it validates now (not expired);
 * 3. the user's issuer is the account or one of its signing keys (a scoped key's template
 *    replaces the user's permissions and limits, which must then be empty);
 * 4. bearer tokens: refused when the account disallows them, else no signature is needed;
 * 5. `allowed_connection_types`, then the signature of the nonce by the user's nkey (raw
 *    base64url, or standard base64), revocations (`iat` at or before the revocation time of the
 *    user's key or of `*`), `src` CIDRs, `times` windows;
 * 6. the user's permissions from the JWT (the account's default permissions when it has none),
 *    and when the connection must close (`exp`, or the end of its time window).
 *
 * Any failure is `null`: the client gets `-ERR 'Authorization Violation'`.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { decodeAccountJwt, decodeUserJwt, goClock, validateClaims, verifySignature, type AccountClaims, type AccountLookup, type JwtPermissions, type UserClaims, type UserNats } from './jwt.js';
import { Permissions, type ResolvedPermissions } from './permissions.js';
import { isValidSubscribeSubject } from '../subject/subject.js';
import type { ResolvedOperatorMode } from './types.js';

/** A user the JWT let in. */
export interface JwtUser {
  /** The user's public key (nats-server names such a connection by it). */
  readonly name: string;
  /** The account's public key: the user's subject space. */
  readonly account: string;
  readonly permissions: Permissions | null;
  /** Milliseconds until the connection must close (`exp` or the end of its `times` window), or undefined. */
  readonly expiresInMs?: number;
  /** Milliseconds until the account JWT expires (accounts.go checkExpiration), or undefined. */
  readonly accountExpiresInMs?: number;
  /** The account's connection limit (`conn`, -1 none; absent decodes as 0). */
  readonly accountMaxConnections: number;
  /** The user's and its account's limits combined (-1 unlimited); the server's own still apply. */
  readonly limits: JwtLimits;
}

/** Per-connection limits from the JWTs (client.go applyAccountLimits), -1 unlimited. */
export interface JwtLimits {
  readonly payload: number;
  readonly subs: number;
}

/** client.go minLimit: the smaller of two limits, -1 being none. */
export function minLimit(value: number, limit: number): number {
  if (value === -1) return limit;
  return limit !== -1 && limit < value ? limit : value;
}

/** The connection being authenticated. */
export interface ConnectionFacts {
  readonly websocket: boolean;
  /** A leaf node connection (LEAFNODE, or LEAFNODE_WS over a websocket). */
  readonly leaf?: boolean;
  /** The client's address ('' when not known). */
  readonly ip: string;
}

/** nats-server's DEFAULT_ALLOW_RESPONSE_MAX_MSGS / DEFAULT_ALLOW_RESPONSE_EXPIRATION. */
const RESPONSE_MAX = 1;
const RESPONSE_EXPIRES_MS = 2 * 60 * 1000;

/** The connection types a client can be here (jwt.ConnectionType*); IN_PROCESS is 2.10's. */
const KNOWN_TYPES = new Set(['STANDARD', 'WEBSOCKET', 'LEAFNODE', 'LEAFNODE_WS', 'MQTT', 'MQTT_WS', 'IN_PROCESS']);

/** buildPermissionsFromJwt (accounts.go) with validateResponsePermissions; null when there are none. */
export function permissionsFromJwt(p: JwtPermissions): ResolvedPermissions | null {
  const pub = p.pub.allow.length > 0 || p.pub.deny.length > 0;
  const sub = p.sub.allow.length > 0 || p.sub.deny.length > 0;
  if (!pub && !sub && p.resp === null) return null;
  const lists = (l: JwtPermissions['pub']): { allow?: string[]; deny?: string[] } => ({
    ...(l.allow.length > 0 ? { allow: [...l.allow] } : {}),
    ...(l.deny.length > 0 ? { deny: [...l.deny] } : {}),
  });
  return {
    ...(pub ? { publish: lists(p.pub) } : {}),
    ...(sub ? { subscribe: lists(p.sub) } : {}),
    ...(p.resp === null ? {} : {
      allowResponses: {
        max: p.resp.max === 0 ? RESPONSE_MAX : p.resp.max,
        expiresMs: p.resp.ttlNs === 0 ? RESPONSE_EXPIRES_MS : Math.floor(p.resp.ttlNs / 1e6),
      },
    }),
  };
}

/** accounts.go isRevoked: revoked when the key's (or `*`'s) revocation time is at or after `iat`. */
export function isRevoked(revocations: Readonly<Record<string, number>>, subject: string, issuedAt: number): boolean {
  const own = revocations[subject];
  const all = revocations['*'];
  return (own !== undefined && own >= issuedAt) || (all !== undefined && all >= issuedAt);
}

/** auth.go validateSrc: the client's address inside one of the CIDRs (or no CIDRs). */
function validateSrc(src: readonly string[], address: string): boolean {
  if (src.length === 0) return true;
  // Node shows an IPv4 client of a dual-stack listener as IPv4-mapped IPv6; Go as IPv4.
  const ip = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
  const family = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : null;
  if (family === null) return false;
  const list = new BlockList();
  for (const cidr of src) {
    const [net, bits] = cidr.split('/');
    const f = isIPv4(net!) ? 'ipv4' : isIPv6(net!) ? 'ipv6' : null;
    if (f === null) return false;
    try {
      if (bits === undefined) list.addAddress(net!, f);
      else list.addSubnet(net!, Number(bits), f);
    } catch {
      return false;
    }
  }
  return list.check(ip, family);
}

/** Seconds since midnight, now, in the IANA zone `loc` ('' = local time); null for an unknown zone. */
function secondsOfDay(nowMs: number, loc: string): number | null {
  if (loc === '' || loc === 'Local') {
    const d = new Date(nowMs);
    return d.getHours() * 3600 + d.getMinutes() * 60 + d.getSeconds();
  }
  try {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone: loc, hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(nowMs));
    const n = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 'NaN');
    return (n('hour') % 24) * 3600 + n('minute') * 60 + n('second');
  } catch {
    return null;
  }
}


/**
 * auth.go validateTimes: may the user connect now, and for how long (ms; 0 = no window). As
 * there, a window that wraps past midnight counts from its start today (so its early-morning
 * part, yesterday's window, does not let a client in).
 */
export function validateTimes(u: UserNats, nowMs: number): { allow: boolean; validForMs: number } {
  if (u.times.length === 0) return { allow: true, validForMs: 0 };
  const now = secondsOfDay(nowMs, u.timesLocation);
  if (now === null) return { allow: false, validForMs: 0 };
  const frac = nowMs % 1000;
  for (const t of u.times) {
    const start = goClock(t.start);
    let end = goClock(t.end);
    if (start === null || end === null) return { allow: false, validForMs: 0 };
    if (start > end) end += 86_400;
    if (start < now && end > now) return { allow: true, validForMs: (end - now) * 1000 - frac };
  }
  return { allow: false, validForMs: 0 };
}

/** nats-server's IsValidSubject: no empty token, nothing after `>`, no whitespace. */
function isValidSubject(s: string): boolean {
  return isValidSubscribeSubject(s) && !/[\t\n\f\r ]/.test(s);
}

/** Cartesian product of lists (auth.go nArrayCartesianProduct). */
function product(lists: readonly string[][]): string[][] {
  let out: string[][] = [[]];
  for (const l of lists) out = out.flatMap((p) => l.map((v) => [...p, v]));
  return lists.length === 0 ? [] : out;
}

/**
 * auth.go processUserPermissionsTemplate applied to one list: `{{name()}}`, `{{subject()}}`,
 * `{{account-name()}}`, `{{account-subject()}}`, `{{tag(x)}}`, `{{account-tag(x)}}` tokens
 * replaced (tags: every value of `x:` tags, one subject per combination); a subject that comes
 * out invalid is dropped, or fails the user when `failOnBad` (deny lists). Null: failure.
 */
function applyTemplate(list: readonly string[], failOnBad: boolean, user: UserClaims, acc: AccountClaims): string[] | null {
  const isMacro = (t: string): boolean => t.startsWith('{{') && t.endsWith('}}');
  if (!list.some((s) => s.split('.').some(isMacro))) return [...list];
  const out: string[] = [];
  const emit = (subject: string): boolean => {
    if (isValidSubject(subject)) out.push(subject);
    else if (failOnBad) return false;
    return true;
  };
  for (const subject of list) {
    const tagValues: string[][] = [];
    const tokens = subject.split('.').map((tk) => {
      if (!isMacro(tk)) return tk;
      const op = tk.slice(2, -2).toLowerCase();
      if (op === 'name()') return user.name;
      if (op === 'subject()') return user.sub;
      if (op === 'account-name()') return acc.name;
      if (op === 'account-subject()') return user.nats.issuerAccount;
      const m = /^(account-)?tag\((.*)\)$/.exec(op);
      if (m === null) return ' '; // an unknown macro makes the subject invalid on purpose
      const prefix = `${m[2]!.toLowerCase()}:`;
      const values = (m[1] !== undefined ? acc.nats.tags : user.nats.tags).filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
      if (values.length > 0) tagValues.push(values);
      return '';
    });
    if (tagValues.length === 0) {
      if (!emit(tokens.join('.'))) return null;
      continue;
    }
    for (const combo of product(tagValues)) {
      const values = [...combo];
      if (!emit(tokens.map((t) => (t === '' && values.length > 0 ? values.shift()! : t)).join('.'))) return null;
    }
  }
  return out;
}

/** A scoped signing key's template for this user, or null when it generates an invalid deny subject. */
function expandTemplate(tpl: UserNats, user: UserClaims, acc: AccountClaims): UserNats | null {
  const subAllow = applyTemplate(tpl.sub.allow, false, user, acc);
  const subDeny = applyTemplate(tpl.sub.deny, true, user, acc);
  const pubAllow = applyTemplate(tpl.pub.allow, false, user, acc);
  const pubDeny = applyTemplate(tpl.pub.deny, true, user, acc);
  if (subAllow === null || subDeny === null || pubAllow === null || pubDeny === null) return null;
  // An allow list that templating emptied denies everything instead (StringList.Add: no duplicate).
  const denyAll = (deny: string[], was: readonly string[], now: string[]): string[] =>
    was.length > 0 && now.length === 0 && !deny.includes('>') ? [...deny, '>'] : deny;
  return {
    ...tpl,
    sub: { allow: subAllow, deny: denyAll(subDeny, tpl.sub.allow, subAllow) },
    pub: { allow: pubAllow, deny: denyAll(pubDeny, tpl.pub.allow, pubAllow) },
  };
}


/** Checks user JWTs against the operators and the accounts of the resolver. */
export class OperatorAuthenticator {
  private readonly trusted: ReadonlySet<string>;

  /**
   * @param lookup where account JWTs come from (auth/account-jwts.ts: the accounts in use over
   *   the resolver); default: `resolver_preload` as it is
   */
  constructor(
    readonly mode: ResolvedOperatorMode,
    private readonly lookup: AccountLookup = (name) => mode.preload[name],
  ) {
    this.trusted = new Set(mode.trustedKeys);
  }

  /** The account `name` if the resolver has a valid one now (fetchAccountClaims), else null. */
  account(name: string, nowSec: number): AccountClaims | null {
    const jwt = this.lookup(name);
    if (jwt === undefined) return null;
    if (typeof jwt !== 'string') return jwt;
    const r = decodeAccountJwt(jwt);
    if (!r.ok || r.claims.sub !== name || !this.trusted.has(r.claims.iss)) return null;
    return validateClaims(r.claims, nowSec).length === 0 ? r.claims : null;
  }

  /**
   * Is the user of this JWT revoked by its account as the resolver has it now? What a reload
   * that brings new account JWTs answers with `User Authentication Revoked` (accounts.go
   * UpdateAccountClaims) rather than an Authorization Violation.
   */
  revoked(jwt: string, nowMs = Date.now()): boolean {
    const d = decodeUserJwt(jwt);
    if (!d.ok) return false;
    const issuer = d.claims.nats.issuerAccount !== '' ? d.claims.nats.issuerAccount : d.claims.iss;
    const acc = this.account(issuer, Math.floor(nowMs / 1000));
    return acc !== null && isRevoked(acc.nats.revocations, d.claims.sub, d.claims.iat);
  }

  /** Is the user of this JWT a bearer token its account (as the resolver has it now) refuses? */
  refusesBearer(jwt: string, nowMs = Date.now()): boolean {
    const d = decodeUserJwt(jwt);
    if (!d.ok || !d.claims.nats.bearerToken) return false;
    const issuer = d.claims.nats.issuerAccount !== '' ? d.claims.nats.issuerAccount : d.claims.iss;
    return this.account(issuer, Math.floor(nowMs / 1000))?.nats.limits.disallowBearer === true;
  }

  /** The user of a CONNECT (`jwt`, `sig` over `nonce`), or null: Authorization Violation. */
  authenticate(jwt: string, sig: string, nonce: string | null, conn: ConnectionFacts, nowMs = Date.now()): JwtUser | null {
    if (jwt === '') return null;
    const nowSec = Math.floor(nowMs / 1000);
    const decoded = decodeUserJwt(jwt);
    if (!decoded.ok) return null;
    let user: UserClaims = decoded.claims;
    if (validateClaims(user, nowSec).length > 0) return null;
    const issuer = user.nats.issuerAccount !== '' ? user.nats.issuerAccount : user.iss;
    const acc = this.account(issuer, nowSec);
    if (acc === null) return null;
    // hasIssuer: one of the account's signing keys, or its own key unless a strict operator's
    // signing key issued the account (nats-server's strictSigningKeyUsage).
    const signing = acc.nats.signingKeys.find((k) => k.key === user.iss);
    if (signing === undefined && (user.iss !== acc.sub || this.mode.strictSigningKeys.includes(acc.iss))) return null;
    if (signing?.scope != null) {
      if (!user.nats.emptyPermissions) return null;
      const tpl = expandTemplate(signing.scope.template, user, acc);
      if (tpl === null) return null;
      user = { ...user, nats: { ...tpl, issuerAccount: user.nats.issuerAccount, tags: user.nats.tags, version: user.nats.version } };
    }
    const u = user.nats;
    if (u.bearerToken && acc.nats.limits.disallowBearer) return null;
    if (u.allowedConnectionTypes.length > 0) {
      // convertAllowedConnectionTypes (client.go) upper-cases each entry.
      const known = u.allowedConnectionTypes.map((t) => t.toUpperCase()).filter((t) => KNOWN_TYPES.has(t));
      if (known.length === 0) return null;
      // connectionTypeAllowed: a leaf connection is LEAFNODE (LEAFNODE_WS over a websocket).
      const want = conn.leaf === true ? (conn.websocket ? 'LEAFNODE_WS' : 'LEAFNODE') : conn.websocket ? 'WEBSOCKET' : 'STANDARD';
      if (!known.includes(want)) return null;
    }
    if (!u.bearerToken) {
      if (sig === '' || nonce === null) return null;
      const bytes = decodeSig(sig);
      if (bytes === null || !verifySignature(user.sub, new TextEncoder().encode(nonce), bytes)) return null;
    }
    if (isRevoked(acc.nats.revocations, user.sub, user.iat)) return null;
    if (!validateSrc(u.src, conn.ip)) return null;
    const times = validateTimes(u, nowMs);
    if (!times.allow) return null;
    const resolved = permissionsFromJwt(u) ?? permissionsFromJwt(acc.nats.defaultPermissions);
    return {
      name: user.sub,
      account: acc.sub,
      permissions: resolved === null ? null : new Permissions(resolved),
      ...expiry(user.exp, times.validForMs, nowSec),
      ...(acc.exp > 0 ? { accountExpiresInMs: (acc.exp - nowSec) * 1000 } : {}),
      accountMaxConnections: acc.nats.limits.conn,
      // A user JWT without limits decodes them as 0 (nsc writes -1), as in nats-server.
      limits: { payload: minLimit(u.payload, acc.nats.limits.payload), subs: minLimit(u.subs, acc.nats.limits.subs) },
    };
  }
}

/** client.go setExpiration: whole seconds to `exp`, or the time window's end when sooner. */
function expiry(exp: number, validForMs: number, nowSec: number): { expiresInMs?: number } {
  if (exp === 0) return validForMs !== 0 ? { expiresInMs: validForMs } : {};
  const expiresAt = exp > nowSec ? (exp - nowSec) * 1000 : 0;
  return { expiresInMs: validForMs !== 0 && validForMs < expiresAt ? validForMs : expiresAt };
}

/** The CONNECT `sig`: raw base64url, else standard base64 (auth.go); null when it is neither. */
export function decodeSig(sig: string): Uint8Array | null {
  if (/^[A-Za-z0-9_-]*$/.test(sig) && sig.length % 4 !== 1) return Buffer.from(sig, 'base64url');
  if (/^[A-Za-z0-9+/]*={0,2}$/.test(sig) && sig.length % 4 === 0) return Buffer.from(sig, 'base64');
  return null;
}
