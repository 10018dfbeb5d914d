/**
 * NATS JWTs (operator → account → user), decoded and checked as nats-server 2.10 does through
 * github.com/nats-io/jwt/v2 (`Decode`, `DecodeOperatorClaims`/`DecodeAccountClaims`/
 * `DecodeUserClaims`, `Validate`):
 *
 * - three base64url (no padding) chunks: a header `{"typ":"JWT","alg":"ed25519-nkey"}` (`typ`
 *   compared upper-cased, `alg` lower-cased; `ed25519` is the v1 algorithm), the claims, the
 *   signature;
 * - the signature (ed25519 by the issuer's nkey, checked with @nats-io/nkeys) covers
 *   `header.claims` for v2 claims and the claims chunk alone for v1 ones;
 * - the issuer's key kind must be what the claim kind expects (an operator key for operator
 *   claims, an account or operator key for account claims, an account key for user claims);
 * - fields are typed as Go decodes them (a string where a number belongs fails the decode);
 *   unknown fields are ignored.
 *
 * Nothing here throws on bad input: every function returns a typed failure (`{ ok: false }`)
 * whose `error` says why, as the Go library's errors do.
 */
import { fromPublic } from '@nats-io/nkeys';

/** Subjects allowed and denied (jwt.Permission). */
export interface JwtPermission {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

/** Responses a user may publish to (jwt.ResponsePermission): `ttl` is nanoseconds. */
export interface JwtResponsePermission {
  readonly max: number;
  readonly ttlNs: number;
}

/** Publish/subscribe/response permissions (jwt.Permissions). */
export interface JwtPermissions {
  readonly pub: JwtPermission;
  readonly sub: JwtPermission;
  readonly resp: JwtResponsePermission | null;
}

/** A connect time window, `HH:MM:SS` (jwt.TimeRange). */
export interface JwtTimeRange {
  readonly start: string;
  readonly end: string;
}

/** What the common JWT claims carry (jwt.ClaimsData); times are Unix seconds, 0 when unset. */
export interface JwtClaimsData {
  readonly jti: string;
  readonly iat: number;
  readonly iss: string;
  readonly sub: string;
  readonly name: string;
  readonly aud: string;
  readonly exp: number;
  readonly nbf: number;
}

/** The `nats` part of a user JWT (jwt.User). */
export interface UserNats extends JwtPermissions {
  /** Client source CIDRs (empty: any). */
  readonly src: readonly string[];
  readonly times: readonly JwtTimeRange[];
  readonly timesLocation: string;
  /** Limits, -1 unlimited; 0 when absent, as Go decodes them. */
  readonly subs: number;
  readonly data: number;
  readonly payload: number;
  /** No signature over the nonce is needed. */
  readonly bearerToken: boolean;
  readonly allowedConnectionTypes: readonly string[];
  /** When signed by a signing key of the account: the account's public key. */
  readonly issuerAccount: string;
  readonly tags: readonly string[];
  readonly version: number;
}

/** A signing key of an account: plain, or scoped (a `user_scope` with the users' template). */
export interface AccountSigningKey {
  readonly key: string;
  /** The scope's template (a scoped key's users take these permissions and limits), or null. */
  readonly scope: { readonly role: string; readonly template: UserNats } | null;
}

/** Account limits (jwt.OperatorLimits), -1 unlimited; 0 (or false) when absent, as Go decodes them. */
export interface AccountLimits {
  readonly subs: number;
  readonly data: number;
  readonly payload: number;
  readonly imports: number;
  readonly exports: number;
  readonly wildcards: boolean;
  readonly conn: number;
  readonly leaf: number;
  readonly disallowBearer: boolean;
  /** JetStream (jwt.JetStreamLimits): on when `memStorage` or `diskStorage` is not 0. */
  readonly memStorage: number;
  readonly diskStorage: number;
  readonly streams: number;
  readonly consumer: number;
  readonly maxAckPending: number;
  readonly memMaxStreamBytes: number;
  readonly diskMaxStreamBytes: number;
  readonly maxBytesRequired: boolean;
}

/** The `nats` part of an account JWT (jwt.Account). */
export interface AccountNats {
  readonly signingKeys: readonly AccountSigningKey[];
  /** User public key (or `*`) → Unix seconds: users issued at or before it are revoked. */
  readonly revocations: Readonly<Record<string, number>>;
  readonly limits: AccountLimits;
  readonly defaultPermissions: JwtPermissions;
  readonly tags: readonly string[];
  readonly version: number;
}

/** The `nats` part of an operator JWT (jwt.Operator). */
export interface OperatorNats {
  readonly signingKeys: readonly string[];
  readonly systemAccount: string;
  readonly accountServerUrl: string;
  readonly strictSigningKeyUsage: boolean;
  readonly assertServerVersion: string;
  readonly version: number;
}

export interface OperatorClaims extends JwtClaimsData {
  readonly kind: 'operator';
  readonly nats: OperatorNats;
}
export interface AccountClaims extends JwtClaimsData {
  readonly kind: 'account';
  readonly nats: AccountNats;
}
export interface UserClaims extends JwtClaimsData {
  readonly kind: 'user';
  readonly nats: UserNats;
}
export type JwtClaims = OperatorClaims | AccountClaims | UserClaims;
export type JwtKind = JwtClaims['kind'];

/** A decode result: the claims, or why there are none. */
export type JwtResult<C> = { readonly ok: true; readonly claims: C } | { readonly ok: false; readonly error: string };

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Go's error for base64 that RawURLEncoding refuses: the first bad byte, or the lone last one. */
function base64Error(s: string): string {
  const bad = /[^A-Za-z0-9_-]/.exec(s);
  return `illegal base64 data at input byte ${bad !== null ? bad.index : s.length - 1}`;
}

/** Go's base64.RawURLEncoding.DecodeString: the URL alphabet, no padding; null when invalid. */
function rawUrlDecode(s: string): Buffer | null {
  if (!B64URL.test(s) || s.length % 4 === 1) return null;
  return Buffer.from(s, 'base64url');
}

/** A field decoding failure (caught inside this module only). */
class Bad extends Error {}

type Obj = Record<string, unknown>;

function obj(v: unknown, what: string): Obj | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new Bad(`json: cannot unmarshal into ${what}`);
  return v as Obj;
}
function str(o: Obj | null, k: string): string {
  const v = o?.[k];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Bad(`json: cannot unmarshal ${typeof v} into field ${k} of type string`);
  return v;
}
function int(o: Obj | null, k: string): number {
  const v = o?.[k];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Bad(`json: cannot unmarshal ${typeof v} into field ${k} of type int64`);
  return v;
}
function bool(o: Obj | null, k: string): boolean {
  const v = o?.[k];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new Bad(`json: cannot unmarshal ${typeof v} into field ${k} of type bool`);
  return v;
}
function strs(o: Obj | null, k: string): string[] {
  const v = o?.[k];
  if (v === undefined || v === null) return [];
  // jwt.StringList also takes one string (TagList and CIDRList a comma-separated one).
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new Bad(`json: cannot unmarshal into field ${k} of type []string`);
  return v as string[];
}

function permission(v: unknown, k: string): JwtPermission {
  const o = obj(v, k);
  return { allow: strs(o, 'allow'), deny: strs(o, 'deny') };
}

function permissions(o: Obj | null): JwtPermissions {
  const r = obj(o?.resp, 'resp');
  return {
    pub: permission(o?.pub, 'pub'),
    sub: permission(o?.sub, 'sub'),
    resp: r === null ? null : { max: int(r, 'max'), ttlNs: int(r, 'ttl') },
  };
}

function times(o: Obj | null): JwtTimeRange[] {
  const v = o?.times;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Bad('json: cannot unmarshal into field times');
  return v.map((t) => {
    const r = obj(t, 'times');
    return { start: str(r, 'start'), end: str(r, 'end') };
  });
}

function userNats(o: Obj | null): UserNats {
  const src = o?.src;
  return {
    ...permissions(o),
    // nats-server 2.10's CIDRList: a list, or (older JWTs) one comma-separated string.
    src: typeof src === 'string' ? src.split(',').map((s) => s.trim()).filter((s) => s !== '') : strs(o, 'src'),
    times: times(o),
    timesLocation: str(o, 'times_location'),
    subs: int(o, 'subs'),
    data: int(o, 'data'),
    payload: int(o, 'payload'),
    bearerToken: bool(o, 'bearer_token'),
    allowedConnectionTypes: strs(o, 'allowed_connection_types'),
    issuerAccount: str(o, 'issuer_account'),
    tags: strs(o, 'tags'),
    version: int(o, 'version'),
  };
}

function signingKeys(v: unknown): AccountSigningKey[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Bad('json: cannot unmarshal into field signing_keys');
  return v.map((k): AccountSigningKey => {
    if (typeof k === 'string') return { key: k, scope: null };
    const o = obj(k, 'signing_keys');
    if (o === null) throw new Bad('json: cannot unmarshal null into signing_keys');
    const kind = str(o, 'kind');
    if (kind !== 'user_scope') throw new Bad(`unknown signing key scope "${kind}"`);
    return { key: str(o, 'key'), scope: { role: str(o, 'role'), template: userNats(obj(o.template, 'template')) } };
  });
}

function accountNats(o: Obj | null): AccountNats {
  const l = obj(o?.limits, 'limits');
  const rv = obj(o?.revocations, 'revocations') ?? {};
  const revocations: Record<string, number> = {};
  for (const [k, t] of Object.entries(rv)) {
    if (typeof t !== 'number' || !Number.isInteger(t)) throw new Bad('json: cannot unmarshal into revocations');
    revocations[k] = t;
  }
  return {
    signingKeys: signingKeys(o?.signing_keys),
    revocations,
    limits: {
      subs: int(l, 'subs'), data: int(l, 'data'), payload: int(l, 'payload'),
      imports: int(l, 'imports'), exports: int(l, 'exports'),
      wildcards: bool(l, 'wildcards'),
      conn: int(l, 'conn'), leaf: int(l, 'leaf'),
      disallowBearer: bool(l, 'disallow_bearer'),
      memStorage: int(l, 'mem_storage'), diskStorage: int(l, 'disk_storage'),
      streams: int(l, 'streams'), consumer: int(l, 'consumer'), maxAckPending: int(l, 'max_ack_pending'),
      memMaxStreamBytes: int(l, 'mem_max_stream_bytes'), diskMaxStreamBytes: int(l, 'disk_max_stream_bytes'),
      maxBytesRequired: bool(l, 'max_bytes_required'),
    },
    defaultPermissions: permissions(obj(o?.default_permissions, 'default_permissions')),
    tags: strs(o, 'tags'),
    version: int(o, 'version'),
  };
}

function operatorNats(o: Obj | null): OperatorNats {
  return {
    signingKeys: strs(o, 'signing_keys'),
    systemAccount: str(o, 'system_account'),
    accountServerUrl: str(o, 'account_server_url'),
    strictSigningKeyUsage: bool(o, 'strict_signing_key_usage'),
    assertServerVersion: str(o, 'assert_server_version'),
    version: int(o, 'version'),
  };
}

/** Is `key` a valid public nkey of the kind its first letter says (`O`, `A`, `U`)? */
export function isPublicKey(key: string, prefix: 'O' | 'A' | 'U'): boolean {
  if (key.length !== 56 || key[0] !== prefix) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

/** Checks an ed25519 signature by the public nkey `key`; false on any bad input. */
export function verifySignature(key: string, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return fromPublic(key).verify(data, sig);
  } catch {
    return false;
  }
}

const EXPECTED_ISSUER: Record<JwtKind, ReadonlyArray<'O' | 'A'>> = { operator: ['O'], account: ['A', 'O'], user: ['A'] };

/**
 * Decodes a JWT and verifies its signature (jwt.Decode): the claims of any of the three kinds,
 * or why not. Never throws.
 */
export function decodeJwt(token: string): JwtResult<JwtClaims> {
  try {
    return decode(token);
  } catch (err) {
    return { ok: false, error: err instanceof Bad ? err.message : `invalid JWT: ${String(err)}` };
  }
}

function decode(token: string): JwtResult<JwtClaims> {
  if (typeof token !== 'string') return { ok: false, error: 'expected a string' };
  const chunks = token.split('.');
  if (chunks.length !== 3) return { ok: false, error: 'expected 3 chunks' };
  const [h, c, s] = chunks as [string, string, string];
  const hb = rawUrlDecode(h);
  if (hb === null) return { ok: false, error: base64Error(h) };
  const header = obj(parseJson(hb), 'header') ?? {};
  const typ = str(header, 'typ');
  const alg = str(header, 'alg').toLowerCase();
  if (typ.toUpperCase() !== 'JWT') return { ok: false, error: `not supported type "${typ}"` };
  if (alg !== 'ed25519' && alg !== 'ed25519-nkey') return { ok: false, error: `unexpected "${str(header, 'alg')}" algorithm` };
  const cb = rawUrlDecode(c);
  if (cb === null) return { ok: false, error: base64Error(c) };
  const raw = obj(parseJson(cb), 'claims') ?? {};
  const nats = obj(raw.nats, 'nats');
  // jwt's identifier: a top-level `type` is a v1 claim; else `nats.type` and `nats.version`.
  const v1Type = str(raw, 'type');
  const kind = v1Type !== '' ? v1Type : str(nats, 'type');
  const version = v1Type !== '' ? 1 : int(nats, 'version');
  if (version > 2) return { ok: false, error: 'JWT was generated by a newer version ' };
  const sig = rawUrlDecode(s);
  if (sig === null) return { ok: false, error: base64Error(s) };
  const data: JwtClaimsData = {
    jti: str(raw, 'jti'), iat: int(raw, 'iat'), iss: str(raw, 'iss'), sub: str(raw, 'sub'), name: str(raw, 'name'),
    aud: str(raw, 'aud'), exp: int(raw, 'exp'), nbf: int(raw, 'nbf'),
  };
  let claims: JwtClaims;
  switch (kind) {
    case 'operator': claims = { ...data, kind, nats: operatorNats(nats) }; break;
    case 'account': claims = { ...data, kind, nats: accountNats(nats) }; break;
    case 'user': claims = { ...data, kind, nats: userNats(nats) }; break;
    default: return { ok: false, error: `unsupported claim type "${kind}"` };
  }
  const signed = version <= 1 ? c : token.slice(0, h.length + 1 + c.length);
  if (!verifySignature(data.iss, new TextEncoder().encode(signed), sig)) {
    return { ok: false, error: `claim failed V${version <= 1 ? 1 : 2} signature verification` };
  }
  if (!EXPECTED_ISSUER[kind].some((p) => isPublicKey(data.iss, p))) {
    return { ok: false, error: `unable to validate expected prefixes - ${EXPECTED_ISSUER[kind].join(',')}` };
  }
  return { ok: true, claims };
}

function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8')) as unknown;
  } catch {
    throw new Bad('invalid character in JSON');
  }
}

function decodeKind<K extends JwtKind>(token: string, kind: K): JwtResult<Extract<JwtClaims, { kind: K }>> {
  const r = decodeJwt(token);
  if (!r.ok) return r;
  if (r.claims.kind !== kind) return { ok: false, error: `not ${kind} claim` };
  return r as JwtResult<Extract<JwtClaims, { kind: K }>>;
}

/** jwt.DecodeOperatorClaims. */
export function decodeOperatorJwt(token: string): JwtResult<OperatorClaims> {
  return decodeKind(token, 'operator');
}
/** jwt.DecodeAccountClaims. */
export function decodeAccountJwt(token: string): JwtResult<AccountClaims> {
  return decodeKind(token, 'account');
}
/** jwt.DecodeUserClaims. */
export function decodeUserJwt(token: string): JwtResult<UserClaims> {
  return decodeKind(token, 'user');
}

/**
 * The blocking problems `Validate(vr)` + `vr.IsBlocking(true)` finds (time checks included):
 * an empty list when the claims are usable now (`nowSec`: Unix seconds).
 */
export function validateClaims(claims: JwtClaims, nowSec: number): string[] {
  const out: string[] = [];
  if (claims.exp > 0 && nowSec > claims.exp) out.push('claim is expired');
  if (claims.nbf > 0 && nowSec < claims.nbf) out.push('claim is not yet valid');
  // jwt's Subject.Validate; subscribe entries may name a queue (`"subject queue"`).
  const subjects = (p: JwtPermissions): void => {
    for (const s of [...p.pub.allow, ...p.pub.deny]) {
      if (s === '') out.push('subject cannot be empty');
      else if (s.includes(' ')) out.push(`subject "${s}" cannot have spaces`);
    }
    for (const s of [...p.sub.allow, ...p.sub.deny]) if (s === '') out.push('subject cannot be empty');
  };
  if (claims.kind === 'user') {
    const u = claims.nats;
    subjects(u);
    if (u.issuerAccount !== '' && !isPublicKey(u.issuerAccount, 'A')) out.push('account_id is not an account public key');
    for (const cidr of u.src) if (!isCidr(cidr)) out.push(`invalid cidr "${cidr}"`);
    for (const t of u.times) {
      if (!TIME.test(t.start) || !TIME.test(t.end)) out.push('time format invalid');
    }
  } else if (claims.kind === 'account') {
    subjects(claims.nats.defaultPermissions);
    for (const k of claims.nats.signingKeys) if (!isPublicKey(k.key, 'A')) out.push(`${k.key} is not an account public key`);
  } else {
    for (const k of claims.nats.signingKeys) if (!isPublicKey(k, 'O')) out.push(`${k} is not an operator public key`);
    if (claims.nats.systemAccount !== '' && !isPublicKey(claims.nats.systemAccount, 'A')) out.push('system_account is not an account public key');
  }
  return out;
}

const TIME = /^\d{2}:\d{2}:\d{2}$/;

/** An IPv4 or IPv6 CIDR (or a plain address, which nats-server takes as a /32 or /128). */
function isCidr(s: string): boolean {
  const [ip, bits, extra] = s.split('/');
  if (extra !== undefined || ip === undefined) return false;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  const max = v4 !== null ? 32 : 128;
  if (v4 !== null ? v4.slice(1).some((o) => Number(o) > 255) : !/^[0-9a-fA-F:.]+$/.test(ip) || !ip.includes(':')) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
}
