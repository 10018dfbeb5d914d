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
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
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
  /**
   * jwt UserClaims.HasEmptyPermissions: reflect.DeepEqual with the zero value, so a list that is
   * present yet empty (`"src": []`, `"pub": {"allow": []}`) makes the permissions not empty.
   */
  readonly emptyPermissions: boolean;
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

/** An import or export type (jwt.ExportType): '' when absent (jwt's Unknown). */
export type JwtExportType = 'stream' | 'service' | '';

/** Latency tracking of a service export (jwt.ServiceLatency); `sampling` 0 is `"headers"`. */
export interface JwtServiceLatency {
  readonly sampling: number;
  readonly results: string;
}

/** One export of an account JWT (jwt.Export). */
export interface JwtExport {
  readonly name: string;
  readonly subject: string;
  readonly type: JwtExportType;
  /** Importers need an activation token. */
  readonly tokenReq: boolean;
  /** Importing account (or `*`) → Unix seconds: activations issued at or before it are revoked. */
  readonly revocations: Readonly<Record<string, number>>;
  /** `Singleton`, `Stream`, `Chunked`, or '' (a singleton). */
  readonly responseType: string;
  /** Nanoseconds (a Go duration); 0 when absent. */
  readonly responseThresholdNs: number;
  readonly latency: JwtServiceLatency | null;
  /** 1-based token of the subject that must be the importing account's key; 0 none. */
  readonly accountTokenPosition: number;
  readonly advertise: boolean;
  readonly allowTrace: boolean;
  readonly description: string;
  readonly infoUrl: string;
}

/** One import of an account JWT (jwt.Import). */
export interface JwtImport {
  readonly name: string;
  /** A stream's subject in the exporter; a service's subject as the importer publishes it (unless `localSubject`). */
  readonly subject: string;
  /** The exporting account. */
  readonly account: string;
  /** The activation JWT ('' none). */
  readonly token: string;
  /** Deprecated: a stream's prefix, a service's subject in the exporter. */
  readonly to: string;
  /** A stream's subject here, a service's subject as the importer publishes it (`$n` references allowed). */
  readonly localSubject: string;
  readonly type: JwtExportType;
  readonly share: boolean;
  readonly allowTrace: boolean;
}

/** The `nats` part of an account JWT (jwt.Account). */
export interface AccountNats {
  /** The imports; null for a `null` entry (which fails validation). */
  readonly imports: ReadonlyArray<JwtImport | null>;
  /** The exports; null for a `null` entry (which fails validation). */
  readonly exports: ReadonlyArray<JwtExport | null>;
  readonly signingKeys: readonly AccountSigningKey[];
  /** User public key (or `*`) → Unix seconds: users issued at or before it are revoked. */
  readonly revocations: Readonly<Record<string, number>>;
  readonly limits: AccountLimits;
  readonly defaultPermissions: JwtPermissions;
  readonly tags: readonly string[];
  readonly version: number;
  /**
   * What jwt's Account.Validate finds in the parts nats-embedded does not otherwise use: the
   * account's info, its subject `mappings`, external `authorization`, `trace`, tiered JetStream
   * limits, `cluster_traffic`.
   */
  readonly otherProblems: readonly string[];
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

/** The `nats` part of an activation JWT (jwt.Activation): the exporter's grant to the account in `sub`. */
export interface ActivationNats {
  /** The subject (or wildcard) the grant covers. */
  readonly subject: string;
  readonly importType: JwtExportType;
  /** When a signing key issued it: the exporting account's public key. */
  readonly issuerAccount: string;
  readonly version: number;
}
export interface ActivationClaims extends JwtClaimsData {
  readonly kind: 'activation';
  readonly nats: ActivationNats;
}
export type JwtClaims = OperatorClaims | AccountClaims | UserClaims | ActivationClaims;
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

/** Is the JSON value there (Go leaves a field it decodes from `null` at its zero value)? */
function present(o: Obj | null, k: string): boolean {
  return o?.[k] !== undefined && o?.[k] !== null;
}

/** A permission (`pub`/`sub`) that decodes to a non-zero jwt.Permission. */
function permissionSet(o: Obj | null, k: string): boolean {
  const p = obj(o?.[k], k);
  return present(p, 'allow') || present(p, 'deny');
}

function userNats(o: Obj | null): UserNats {
  const src = o?.src;
  const zero = !permissionSet(o, 'pub') && !permissionSet(o, 'sub') && !present(o, 'resp') && !present(o, 'src') &&
    !present(o, 'times') && str(o, 'times_location') === '' && int(o, 'subs') === 0 && int(o, 'data') === 0 &&
    int(o, 'payload') === 0 && !bool(o, 'bearer_token') && !present(o, 'allowed_connection_types');
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
    emptyPermissions: zero,
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

function revocationList(v: unknown, k: string): Record<string, number> {
  const rv = obj(v, k) ?? {};
  const out: Record<string, number> = {};
  for (const [key, t] of Object.entries(rv)) {
    if (typeof t !== 'number' || !Number.isInteger(t)) throw new Bad(`json: cannot unmarshal into ${k}`);
    out[key] = t;
  }
  return out;
}

/** jwt.ExportType's UnmarshalJSON: "stream" or "service"; absent is Unknown. */
function exportType(o: Obj, k: string): JwtExportType {
  const v = o[k];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Bad(`json: cannot unmarshal ${typeof v} into Go value of type string`);
  if (v !== 'stream' && v !== 'service') throw new Bad(`unknown export type ${JSON.stringify(v)}`);
  return v;
}

function uint(o: Obj, k: string): number {
  const n = int(o, k);
  if (n < 0) throw new Bad(`json: cannot unmarshal number ${n} into field ${k} of type uint`);
  return n;
}

/** A list of objects where `null` entries are kept as null (Go decodes them as nil pointers). */
function entries<T>(v: unknown, k: string, one: (o: Obj) => T): Array<T | null> {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Bad(`json: cannot unmarshal into field ${k}`);
  return v.map((e) => {
    const o = obj(e, k);
    return o === null ? null : one(o);
  });
}

function latency(v: unknown): JwtServiceLatency | null {
  const o = obj(v, 'service_latency');
  if (o === null) return null;
  const s = o.sampling;
  let sampling: number;
  if (typeof s === 'string' && s.toLowerCase() === 'headers') sampling = 0;
  else if (typeof s === 'number' && Number.isInteger(s)) sampling = s;
  else if (s === undefined) throw new Bad('empty sampling rate');
  else throw new Bad('json: cannot unmarshal into sampling rate');
  return { sampling, results: str(o, 'results') };
}

function jwtExport(o: Obj): JwtExport {
  return {
    name: str(o, 'name'), subject: str(o, 'subject'), type: exportType(o, 'type'), tokenReq: bool(o, 'token_req'),
    revocations: revocationList(o.revocations, 'revocations'), responseType: str(o, 'response_type'),
    responseThresholdNs: int(o, 'response_threshold'), latency: latency(o.service_latency),
    accountTokenPosition: uint(o, 'account_token_position'), advertise: bool(o, 'advertise'), allowTrace: bool(o, 'allow_trace'),
    description: str(o, 'description'), infoUrl: str(o, 'info_url'),
  };
}

function jwtImport(o: Obj): JwtImport {
  return {
    name: str(o, 'name'), subject: str(o, 'subject'), account: str(o, 'account'), token: str(o, 'token'),
    to: str(o, 'to'), localSubject: str(o, 'local_subject'), type: exportType(o, 'type'), share: bool(o, 'share'),
    allowTrace: bool(o, 'allow_trace'),
  };
}

function accountNats(o: Obj | null): AccountNats {
  const l = obj(o?.limits, 'limits');
  const revocations = revocationList(o?.revocations, 'revocations');
  return {
    imports: entries(o?.imports, 'imports', jwtImport),
    exports: entries(o?.exports, 'exports', jwtExport),
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
    otherProblems: accountOtherProblems(o, l),
  };
}

/** Go's uint8 field: a JSON integer 0..255, else the decode fails. */
function uint8(o: Obj | null, k: string): number {
  const v = int(o, k);
  if (v < 0 || v > 255) throw new Bad(`json: cannot unmarshal number ${v} into Go struct field .${k} of type uint8`);
  return v;
}

/** See AccountNats.otherProblems. */
function accountOtherProblems(o: Obj | null, limits: Obj | null): string[] {
  const out: string[] = [];
  validateInfo(str(o, 'description'), str(o, 'info_url'), out);
  // jwt.Mapping.Validate (weights are uint8 and their sum wraps as Go's does).
  const mappings = obj(o?.mappings, 'mappings') ?? {};
  for (const [from, list] of Object.entries(mappings)) {
    if (list === null) continue;
    if (!Array.isArray(list)) throw new Bad('json: cannot unmarshal into field mappings');
    validateSubject(from, out);
    const perCluster = new Map<string, number>();
    let total = 0;
    for (const m of list) {
      const e = obj(m, 'mappings');
      validateSubject(str(e, 'subject'), out);
      const weight = uint8(e, 'weight');
      const cluster = str(e, 'cluster');
      if (cluster !== '') {
        const t = ((perCluster.get(cluster) ?? 0) + weight) & 0xff;
        perCluster.set(cluster, t);
        if (t > 100) out.push(`Mapping "${from}" in cluster "${cluster}" exceeds 100% among all of it's weighted to mappings`);
      } else {
        total = (total + (weight === 0 ? 100 : weight)) & 0xff;
      }
    }
    if (total > 100) out.push(`Mapping "${from}" exceeds 100% among all of it's weighted to mappings`);
  }
  // jwt.ExternalAuthorization.Validate.
  const auth = obj(o?.authorization, 'authorization');
  const authUsers = strs(auth, 'auth_users');
  const allowed = strs(auth, 'allowed_accounts');
  if (allowed.length > 0 && authUsers.length === 0) out.push('External authorization cannot have accounts without users specified');
  for (const u of authUsers) if (!isPublicKey(u, 'U')) out.push(`AuthUser "${u}" is not a valid user public key`);
  for (const a of allowed) {
    if (a === '*') {
      if (allowed.length > 1) out.push('AllowedAccounts can only be a list of accounts or "*"');
    } else if (!isPublicKey(a, 'A')) out.push(`Account "${a}" is not a valid account public key`);
  }
  const xkey = str(auth, 'xkey');
  if (xkey !== '' && !isPublicKey(xkey, 'X')) out.push(`XKey "${xkey}" is not a valid public xkey`);
  // Account.Validate's trace block.
  const trace = obj(o?.trace, 'trace');
  if (trace !== null) {
    const dest = str(trace, 'dest');
    const tvr: string[] = [];
    validateSubject(dest, tvr);
    if (tvr.length > 0) out.push(`the account Trace.Destination ${tvr[0]}`);
    if (hasWildcards(dest)) out.push(`the account Trace.Destination subject "${dest}" is not a valid publish subject`);
    const sampling = int(trace, 'sampling');
    if (sampling < 0 || sampling > 100) out.push(`the account Trace.Sampling value '${sampling}' is not valid, should be in the range [1..100]`);
  }
  // OperatorLimits.Validate: tiered JetStream limits exclude the flat ones.
  const tiered = obj(limits?.tiered_limits, 'tiered_limits');
  if (tiered !== null && Object.keys(tiered).length > 0) {
    const flat = ['mem_storage', 'disk_storage', 'streams', 'consumer', 'max_ack_pending', 'mem_max_stream_bytes', 'disk_max_stream_bytes'];
    if (flat.some((k) => int(limits, k) !== 0) || bool(limits, 'max_bytes_required')) out.push('JetStream Limits and tiered JetStream Limits are mutually exclusive');
    if ('' in tiered) out.push('Tiered JetStream Limits can not contain a blank "" tier name');
  }
  const traffic = str(o, 'cluster_traffic');
  if (traffic !== '' && traffic !== 'system' && traffic !== 'owner') out.push(`unknown cluster traffic option: "${traffic}"`);
  return out;
}


function activationNats(o: Obj | null): ActivationNats {
  return { subject: str(o, 'subject'), importType: o === null ? '' : exportType(o, 'kind'), issuerAccount: str(o, 'issuer_account'), version: int(o, 'version') };
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

/** Is `key` a valid public nkey of the kind its first letter says (`O`, `A`, `U`, `X` for a curve key)? */
export function isPublicKey(key: string, prefix: 'O' | 'A' | 'U' | 'X'): boolean {
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
    const k = publicKeyObject(key);
    return k !== null && sig.length === 64 && cryptoVerify(null, data, k, sig);
  } catch {
    return false;
  }
}

/** The DER (SPKI) header of an ed25519 public key: the 32 raw key bytes follow. */
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const keyObjects = new Map<string, KeyObject>();

/**
 * The node:crypto key of a public nkey (checked by @nats-io/nkeys: prefix and CRC), or null.
 * Node's native ed25519 verifies in microseconds where the pure-JavaScript one takes
 * milliseconds, and every connection in operator mode verifies two signatures.
 */
function publicKeyObject(key: string): KeyObject | null {
  const hit = keyObjects.get(key);
  if (hit !== undefined) return hit;
  try {
    fromPublic(key);
  } catch {
    return null;
  }
  // base32 (RFC 4648, no padding): a prefix byte, the 32 key bytes, a 2-byte CRC.
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of key) {
    acc = (acc << 5) | B32.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  if (bytes.length !== 35) return null;
  const obj = createPublicKey({ key: Buffer.concat([ED25519_SPKI, Buffer.from(bytes.slice(1, 33))]), format: 'der', type: 'spki' });
  if (keyObjects.size >= 1024) keyObjects.delete(keyObjects.keys().next().value!);
  keyObjects.set(key, obj);
  return obj;
}

const EXPECTED_ISSUER: Record<JwtKind, ReadonlyArray<'O' | 'A'>> = { operator: ['O'], account: ['A', 'O'], user: ['A'], activation: ['A', 'O'] };

/**
 * Decodes a JWT and verifies its signature (jwt.Decode): the claims of any of the three kinds,
 * or why not. Never throws.
 */
export function decodeJwt(token: string): JwtResult<JwtClaims> {
  const hit = typeof token === 'string' ? decoded.get(token) : undefined;
  if (hit !== undefined) {
    // Least recently used first: a hit moves to the end.
    decoded.delete(token);
    decoded.set(token, hit);
    return hit;
  }
  let r: JwtResult<JwtClaims>;
  try {
    r = decode(token);
  } catch (err) {
    r = { ok: false, error: err instanceof Bad ? err.message : `invalid JWT: ${String(err)}` };
  }
  if (typeof token === 'string' && token.length <= MEMO_MAX_LENGTH) {
    if (decoded.size >= MEMO_ENTRIES) decoded.delete(decoded.keys().next().value!);
    decoded.set(token, r);
  }
  return r;
}

/**
 * The last decodes, by token: a decode is a pure function of the token, and its ed25519 check
 * costs milliseconds in JavaScript, while the same account and activation JWTs are decoded at
 * every connection, resolution and reload. Least recently used entries go first; at most
 * 512 tokens of up to 16 KiB each are kept. Results are readonly objects, shared.
 */
const decoded = new Map<string, JwtResult<JwtClaims>>();
const MEMO_ENTRIES = 512;
const MEMO_MAX_LENGTH = 16 * 1024;

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
    case 'activation': claims = { ...data, kind, nats: activationNats(nats) }; break;
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
/**
 * The claims of an account that has no JWT: nats-server's NewAccount with the defaults (no
 * limits, no signing keys, no imports or exports), issued by `iss` — the "bootstrapping
 * system account" a directory resolver starts with when the system account's JWT is missing
 * (server.go NewServer).
 */
export function bareAccountClaims(sub: string, iss: string): AccountClaims {
  // NewAccount: every limit unlimited (jwt.NoLimit), wildcards allowed, no JetStream.
  const nats = accountNats({ limits: { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 } });
  return { jti: '', iat: 0, iss, sub, name: '', aud: '', exp: 0, nbf: 0, kind: 'account', nats };
}

/** Where operator mode finds an account: its JWT, the claims of an account without one (the bootstrapping system account), or undefined. */
export type AccountLookup = (name: string) => string | AccountClaims | undefined;

export function decodeOperatorJwt(token: string): JwtResult<OperatorClaims> {
  return decodeKind(token, 'operator');
}
/** jwt.DecodeAccountClaims. */
export function decodeAccountJwt(token: string): JwtResult<AccountClaims> {
  return decodeKind(token, 'account');
}
/** jwt.DecodeActivationClaims. */
export function decodeActivationJwt(token: string): JwtResult<ActivationClaims> {
  return decodeKind(token, 'activation');
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
  // jwt's Permissions.Validate: each entry a Subject, a subscribe entry may name a queue.
  const subjects = (p: JwtPermissions): void => {
    for (const s of [...p.pub.allow, ...p.pub.deny]) checkPermission(s, false, out);
    for (const s of [...p.sub.allow, ...p.sub.deny]) checkPermission(s, true, out);
  };
  if (claims.kind === 'user') {
    const u = claims.nats;
    subjects(u);
    if (u.issuerAccount !== '' && !isPublicKey(u.issuerAccount, 'A')) out.push('account_id is not an account public key');
    // jwt.Limits.Validate.
    for (const cidr of u.src) if (!isCidr(cidr)) out.push(`invalid cidr "${cidr}" in user src limits`);
    for (const t of u.times) {
      if (t.start === '') out.push('time ranges start must contain a start');
      else if (goClock(t.start) === null) out.push(`start in time range is invalid "${t.start}"`);
      if (t.end === '') out.push('time ranges end must contain an end');
      else if (goClock(t.end) === null) out.push(`end in time range is invalid "${t.end}"`);
    }
    if (u.timesLocation !== '' && !isKnownZone(u.timesLocation)) out.push('could not parse iana time zone by name: unknown time zone ' + u.timesLocation);
  } else if (claims.kind === 'account') {
    const a = claims.nats;
    validateImports(a.imports, claims.sub, out);
    validateExports(a.exports, out);
    subjects(a.defaultPermissions);
    out.push(...a.otherProblems);
    // jwt.Account.Validate: the operator's import and export limits (absent limits decode as 0).
    if (a.limits.imports !== -1 && a.imports.length > a.limits.imports) out.push('the account contains more imports than allowed by the operator');
    if (a.limits.exports !== -1) {
      if (a.exports.length > a.limits.exports) out.push('the account contains more exports than allowed by the operator');
      if (!a.limits.wildcards && a.exports.some((e) => e !== null && hasWildcards(e.subject))) {
        out.push('the account contains wildcard exports that are not allowed by the operator');
      }
    }
    for (const k of a.signingKeys) if (!isPublicKey(k.key, 'A')) out.push(`${k.key} is not an account public key`);
  } else if (claims.kind === 'activation') {
    validateActivation(claims, out);
  } else {
    for (const k of claims.nats.signingKeys) if (!isPublicKey(k, 'O')) out.push(`${k} is not an operator public key`);
    if (claims.nats.systemAccount !== '' && !isPublicKey(claims.nats.systemAccount, 'A')) out.push('system_account is not an account public key');
  }
  return out;
}

/** jwt's checkPermission: a subject, or (subscribe only) a subject and a queue. */
function checkPermission(entry: string, permitQueue: boolean, out: string[]): void {
  const tk = entry.split(' ');
  if (tk.length === 1) validateSubject(tk[0], out);
  else if (tk.length === 2) {
    validateSubject(tk[0], out);
    validateSubject(tk[1], out);
    if (!permitQueue) out.push(`Permission Subject "${entry}" is not allowed to contain queue`);
  } else out.push(`Permission Subject "${entry}" contains too many spaces`);
}

/**
 * Go's time.Parse("15:04:05", v): seconds since midnight, or null. The hour may have one
 * digit; minutes and seconds have two.
 */
export function goClock(v: string): number | null {
  const m = /^(\d{1,2}):(\d{2}):(\d{2})$/.exec(v);
  if (m === null) return null;
  const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return h > 23 || mi > 59 || s > 59 ? null : h * 3600 + mi * 60 + s;
}

/**
 * Would Go's time.LoadLocation find this zone? `UTC` and `Local` always; other names as the
 * IANA database spells them (Go reads them from files, so the case must match).
 */
export function isKnownZone(loc: string): boolean {
  if (loc === 'UTC' || loc === 'Local') return true;
  if (loc.startsWith('/') || loc.includes('..') || loc.includes('\\')) return false;
  try {
    const resolved = new Intl.DateTimeFormat('en-GB', { timeZone: loc }).resolvedOptions().timeZone;
    return resolved === loc || resolved.toLowerCase() !== loc.toLowerCase();
  } catch {
    return false;
  }
}

/** An IPv4 or IPv6 CIDR, as Go's net.ParseCIDR takes it (the prefix length is required). */
function isCidr(s: string): boolean {
  const [ip, bits, extra] = s.split('/');
  if (extra !== undefined || ip === undefined || bits === undefined) return false;
  // Go (1.17+) refuses an IPv4 octet with a leading zero.
  const v4 = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/.exec(ip);
  const max = v4 !== null ? 32 : 128;
  if (v4 !== null ? v4.slice(1).some((o) => Number(o) > 255) : !/^[0-9a-fA-F:.]+$/.test(ip) || !ip.includes(':')) return false;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

// ---- Imports, exports and activations (jwt's exports.go, imports.go, activation_claims.go, types.go) ----

/** jwt.Subject.Validate. */
function validateSubject(v: string, out: string[]): void {
  if (v === '') {
    out.push('subject cannot be empty');
    return;
  }
  if (v.includes(' ')) out.push(`subject "${v}" cannot have spaces`);
  if (v.startsWith('.') || v.endsWith('.')) out.push(`subject "${v}" cannot start or end with a \`.\``);
  if (v.includes('..')) out.push(`subject "${v}" cannot contain consecutive \`.\``);
}

/** jwt.Subject.HasWildCards. */
export function hasWildcards(v: string): boolean {
  return v.endsWith('.>') || v.includes('.*.') || v.endsWith('.*') || v.startsWith('*.') || v === '*' || v === '>';
}

/** jwt.Subject.IsContainedIn: is every subject of `s` one of `other`'s (a plain token test)? */
export function isContainedIn(s: string, other: string): boolean {
  const o = other.split('.');
  const m = s.split('.');
  if (m.length > o.length && o[o.length - 1] !== '>') return false;
  if (m.length < o.length) return false;
  for (let i = 0; i < o.length; i++) {
    if (i === o.length - 1 && o[i] === '>') return true;
    if (o[i] !== m[i] && o[i] !== '*') return false;
  }
  return true;
}

/** jwt.RenamingSubject.Validate: a local subject that renames `from` (`$n` refers to `from`'s n-th `*`). */
function validateRenaming(v: string, from: string, out: string[]): void {
  validateSubject(v, out);
  if (from === '') out.push('subject cannot be empty');
  if (v.includes(' ')) out.push(`subject "${v}" cannot have spaces`);
  const gt = (x: string): boolean => x === '>' || x.endsWith('.>');
  if (gt(v) !== gt(from)) out.push('both, renaming subject and subject, need to end or not end in >');
  const fromCnt = from === '*' ? 1 : from.split('.').filter((t) => t === '*').length;
  let refCnt = 0;
  for (const tk of v.split('.')) {
    if (tk === '*') refCnt++;
    if (tk.length < 2 || tk[0] !== '$') continue;
    // Go's strconv.Atoi: an optional sign and decimal digits.
    if (!/^[+-]?\d+$/.test(tk.slice(1))) continue;
    const idx = Number(tk.slice(1));
    if (idx > fromCnt) out.push(`Reference $${idx} in "${v}" reference * in "${from}" that do not exist`);
    else refCnt++;
  }
  if (refCnt !== fromCnt) out.push('subject does not contain enough * or reference wildcards $[0-9]');
}

/** jwt.RenamingSubject.ToSubject: `$n` tokens become `*`. */
function renamingToSubject(v: string): string {
  if (!v.includes('$')) return v;
  return v.split('.').map((tk) => (tk.length > 1 && tk[0] === '$' && /^[+-]?\d+$/.test(tk.slice(1)) ? '*' : tk)).join('.');
}

const typeName = (t: JwtExportType): string => (t === '' ? 'unknown' : t);

/** jwt.Activation.Validate plus the issuer_account check (validateWithTimeChecks without the time checks). */
function validateActivationBody(a: ActivationClaims, out: string[]): void {
  if (a.nats.importType === '') out.push('invalid import type: "unknown"');
  validateSubject(a.nats.subject, out);
  if (a.nats.issuerAccount !== '' && !isPublicKey(a.nats.issuerAccount, 'A')) out.push('account_id is not an account public key');
}

function validateActivation(a: ActivationClaims, out: string[]): void {
  validateActivationBody(a, out);
}

/**
 * jwt.Import.Validate for an import of the account `account` (blocking problems only; the
 * deprecated `to` is a warning there). An activation token's own times are not checked here.
 */
export function validateImport(i: JwtImport, account: string, out: string[]): void {
  if (i.type === '') out.push('invalid import type: "unknown"');
  if (i.type === 'service' && i.allowTrace) out.push('AllowTrace only valid for stream import');
  if (i.account === '') out.push('account to import from is not specified');
  validateSubject(i.subject, out);
  if (i.localSubject !== '') {
    validateRenaming(i.localSubject, i.subject, out);
    if (i.to !== '') out.push('Local Subject replaces To');
  }
  if (i.share && i.type !== 'service') out.push(`sharing information (for latency tracking) is only valid for services: "${i.subject}"`);
  if (i.token === '') return;
  const d = decodeActivationJwt(i.token);
  if (!d.ok) {
    out.push(`import "${i.subject}" contains an invalid activation token`);
    return;
  }
  const act = d.claims;
  if (act.iss !== i.account && act.nats.issuerAccount !== i.account) out.push(`activation token doesn't match account for import "${i.subject}"`);
  if (act.sub !== account) out.push(`activation token doesn't match account it is being included in, "${i.subject}"`);
  if (act.nats.importType !== i.type) out.push(`mismatch between token import type ${typeName(act.nats.importType)} and type of import ${typeName(i.type)}`);
  validateActivationBody(act, out);
  const subj = i.type === 'service' && i.to !== '' ? i.to : i.subject;
  if (!isContainedIn(subj, act.nats.subject)) out.push(`activation token import subject "${act.nats.subject}" doesn't match import "${i.subject}"`);
}

/** jwt.Imports.Validate (v2.7.4, what nats-server 2.10.29 builds with): service imports' local subjects may not overlap. */
function validateImports(list: ReadonlyArray<JwtImport | null>, account: string, out: string[]): void {
  const seen: string[] = [];
  for (const v of list) {
    if (v === null) {
      out.push('null import is not allowed');
      continue;
    }
    if (v.type === 'service') {
      const sub = v.to !== '' ? v.to : v.localSubject !== '' ? renamingToSubject(v.localSubject) : v.subject;
      for (const k of seen) {
        if (isContainedIn(sub, k) || isContainedIn(k, sub)) out.push(`overlapping subject namespace for "${sub}" and "${k}"`);
      }
      if (seen.includes(sub)) out.push(`overlapping subject namespace for "${v.to}"`);
      seen.push(sub);
    }
    validateImport(v, account, out);
  }
}

const RESPONSE_TYPES = new Set(['', 'Singleton', 'Stream', 'Chunked']);
const MAX_INFO_LENGTH = 8 * 1024;

/** jwt.Export.Validate. */
function validateExport(e: JwtExport, out: string[]): void {
  if (e.type === '') out.push('invalid export type: "unknown"');
  if (e.type === 'service' && !RESPONSE_TYPES.has(e.responseType)) out.push(`invalid response type for service: "${e.responseType}"`);
  if (e.type === 'stream') {
    if (e.responseType !== '') out.push(`invalid response type for stream: "${e.responseType}"`);
    if (e.allowTrace) out.push('AllowTrace only valid for service export');
  }
  if (e.latency !== null) {
    if (e.type !== 'service') out.push('latency tracking only permitted for services');
    if (e.latency.sampling !== 0 && (e.latency.sampling < 1 || e.latency.sampling > 100)) out.push('sampling percentage needs to be between 1-100');
    validateSubject(e.latency.results, out);
    if (hasWildcards(e.latency.results)) out.push('results subject can not contain wildcards');
  }
  if (e.responseThresholdNs < 0) out.push('negative response threshold is invalid');
  if (e.responseThresholdNs > 0 && e.type !== 'service') out.push('response threshold only valid for services');
  validateSubject(e.subject, out);
  if (e.accountTokenPosition > 0) {
    if (!hasWildcards(e.subject)) out.push(`Account Token Position can only be used with wildcard subjects: ${e.subject}`);
    else {
      const tokens = e.subject.split('.');
      if (e.accountTokenPosition > tokens.length) {
        out.push(`Account Token Position ${e.accountTokenPosition} exceeds length of subject '${e.subject}'`);
      } else if (tokens[e.accountTokenPosition - 1] !== '*') {
        out.push(`Account Token Position ${e.accountTokenPosition} matches '${tokens[e.accountTokenPosition - 1]}' but must match a * in: ${e.subject}`);
      }
    }
  }
  validateInfo(e.description, e.infoUrl, out);
}

/** jwt.Info.Validate: an export's or an account's description and info URL. */
function validateInfo(description: string, infoUrl: string, out: string[]): void {
  if (description.length > MAX_INFO_LENGTH) out.push('Description is too long');
  if (infoUrl !== '') {
    if (infoUrl.length > MAX_INFO_LENGTH) out.push('Info URL is too long');
    let ok = false;
    try {
      const u = new URL(infoUrl);
      ok = u.hostname !== '' && u.protocol !== '';
    } catch {
      ok = false;
    }
    if (!ok) out.push('error parsing info url: no hostname or scheme');
  }
}

/** jwt.Exports.Validate: each export, and no export of a kind inside another of the same kind. */
function validateExports(list: ReadonlyArray<JwtExport | null>, out: string[]): void {
  const byKind = new Map<JwtExportType, string[]>();
  for (const e of list) {
    if (e === null) {
      out.push('null export is not allowed');
      continue;
    }
    // jwt groups every non-service export with the streams.
    const kind = e.type === 'service' ? 'service' : 'stream';
    byKind.set(kind, [...(byKind.get(kind) ?? []), e.subject]);
    validateExport(e, out);
  }
  for (const [kind, subjects] of byKind) {
    subjects.forEach((ns, i) => subjects.forEach((other, j) => {
      if (i !== j && isContainedIn(ns, other)) out.push(`${kind} export subject "${other}" already exports "${ns}"`);
    }));
  }
}
