/**
 * Operator (decentralised JWT) mode: the `operator`, `systemAccount`, `resolver` and
 * `resolverPreload` options, resolved with the other auth options (they are parts of the
 * `authorization` row: operator mode replaces the configured users).
 *
 * The checks are nats-server v2.10.29's at startup: server/opts.go (the `operator` key:
 * readOperatorJWT, a file or an inline JWT starting `eyJ`, decorated or plain; `resolver`:
 * MEM/MEMORY, or a map `{ type: full | cache, dir, ... }` with parseAccountResolver's checks;
 * `resolver_preload`: "invalid account JWT"), server/jwt.go validateTrustedOperators
 * (a resolver is required; no `accounts`, no configured users; `system_account` equal to the
 * operator's; the trusted keys), server/server.go configureAccounts (the system account must
 * resolve: "error resolving system account", unless NewServer registered the bootstrapping
 * system account: one operator and a directory resolver), server/auth.go validateNoAuthUser ("no_auth_user not compatible
 * with Trusted Operator") and server/server.go configureResolver (each preload decodes as an
 * account JWT; a directory resolver stores them in its directory, unless the file there is
 * newer, and creates the directory when it is missing, as NewDirAccResolver does).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { decodeAccountJwt, decodeOperatorJwt, isPublicKey, validateClaims } from '../auth/jwt.js';
import { badDirectory, DirJwtStore } from '../auth/jwt-dir.js';
import type { ResolvedAuth, ResolvedDirResolver, ResolvedOperatorMode } from '../auth/types.js';
import type { DirResolverOptions, ResolvedAccountJetStream } from './types.js';
import { checkKeys, describe, object, optDuration } from './validate.js';

/** jwt.ParseDecoratedJWT: the first `---...---` framed JWT, or the contents as they are. */
const DECORATED = /\s*(?:(?:-{3,}.*-{3,}\r?\n)([\w\-.=]+)(?:\r?\n-{3,}.*-{3,}(\r?\n|$)))/;

/** An operator given as a file path or inline: its JWT (opts.go readOperatorJWT). */
function readOperator(value: string, path: string): string {
  let contents: string;
  try {
    contents = readFileSync(value, 'utf8');
  } catch (err) {
    if (!value.startsWith('eyJ')) {
      const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String((err as Error).message);
      throw new ConfigError(path, `error parsing operator JWT: open ${value}: ${code}`);
    }
    contents = value;
  }
  const m = DECORATED.exec(contents);
  return m === null ? contents : m[1]!.trim();
}

function operatorList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new ConfigError('operator', 'must be a JWT (or the path of its file), or a list of them');
}

const DIR_KEYS = new Set(['type', 'dir', 'allowDelete', 'hardDelete', 'interval', 'limit', 'ttl', 'timeout']);
/** nats-server's DEFAULT_ACCOUNT_FETCH_TIMEOUT. */
const FETCH_TIMEOUT_MS = 1900;
const WRONG_TYPE = 'error parsing account resolver, should be MEM or  URL("url") or a map containing dir and type state=[FULL|CACHE])';

/** The `resolver` option: MEMORY, or a directory resolver checked as opts.go parseAccountResolver does. */
function resolveResolver(value: unknown): 'MEMORY' | ResolvedDirResolver {
  if (typeof value === 'string') {
    if (!/(MEM|MEMORY)\s*/i.test(value)) throw new ConfigError('resolver', 'only the MEMORY and directory resolvers are supported by nats-embedded yet');
    return 'MEMORY';
  }
  const o = object(value, 'resolver') as Partial<DirResolverOptions>;
  checkKeys(o, 'resolver', DIR_KEYS);
  const type = typeof o.type === 'string' ? o.type.toLowerCase() : '';
  if (type === 'mem' || type === 'memory') return 'MEMORY';
  if (type !== 'full' && type !== 'cache') throw new ConfigError('resolver.type', WRONG_TYPE);
  if (typeof o.dir !== 'string') throw new ConfigError('resolver.dir', o.dir === undefined ? 'dir has no value and needs to point to a directory' : `must be a string, got ${describe(o.dir)}`);
  if (o.dir === '') throw new ConfigError('resolver.dir', 'dir has no value and needs to point to a directory');
  if (badDirectory(o.dir)) throw new ConfigError('resolver.dir', 'dir needs to point to an accessible directory');
  for (const k of ['allowDelete', 'hardDelete'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new ConfigError(`resolver.${k}`, `must be a boolean, got ${describe(o[k])}`);
  }
  if (o.limit !== undefined && (typeof o.limit !== 'number' || !Number.isSafeInteger(o.limit))) throw new ConfigError('resolver.limit', `must be an integer, got ${describe(o.limit)}`);
  const limit = o.limit ?? 0;
  const timeoutMs = optDuration(o.timeout, 'resolver.timeout', FETCH_TIMEOUT_MS);
  if (type === 'cache') {
    if (o.interval !== undefined) throw new ConfigError('resolver.interval', 'CACHE does not accept sync');
    if (o.allowDelete === true) throw new ConfigError('resolver.allowDelete', 'CACHE does not accept allow_delete');
    if (o.hardDelete !== undefined) throw new ConfigError('resolver.hardDelete', 'CACHE does not accept hard_delete');
    return {
      type, dir: resolve(o.dir), delete: 'hard', limit: limit <= 0 ? 1000 : limit, intervalMs: 0,
      ttlMs: o.ttl === undefined ? 0 : optDuration(o.ttl, 'resolver.ttl', 0), timeoutMs,
    };
  }
  if (o.ttl !== undefined) throw new ConfigError('resolver.ttl', 'FULL does not accept ttl');
  if (o.hardDelete !== undefined && o.allowDelete !== true) throw new ConfigError('resolver.hardDelete', 'hard_delete has no effect without delete');
  return {
    type, dir: resolve(o.dir), delete: o.allowDelete === true ? (o.hardDelete === true ? 'hard' : 'rename') : 'none',
    limit: Math.max(0, limit), intervalMs: optDuration(o.interval, 'resolver.interval', 60_000), ttlMs: 0, timeoutMs,
  };
}

/** The inputs of operator mode, as given. */
export interface OperatorInput {
  readonly operator: unknown;
  readonly systemAccount: unknown;
  readonly resolver: unknown;
  readonly resolverPreload: unknown;
  readonly accounts: unknown;
  readonly noAuthUser: unknown;
  readonly authorization: unknown;
}

/** Operator mode from the options, or null without `operator`. */
export function resolveOperatorMode(input: OperatorInput): ResolvedOperatorMode | null {
  const { systemAccount, resolver, resolverPreload } = input;
  if (systemAccount !== undefined && typeof systemAccount !== 'string') throw new ConfigError('systemAccount', 'must be a string');
  const kind = resolver === undefined ? undefined : resolveResolver(resolver);
  const preload: Record<string, string> = {};
  if (resolverPreload !== undefined) {
    for (const [k, v] of Object.entries(object(resolverPreload, 'resolverPreload'))) {
      if (typeof v !== 'string') throw new ConfigError(`resolverPreload.${k}`, 'preload map value should be a string JWT');
      if (!decodeAccountJwt(v).ok) throw new ConfigError(`resolverPreload.${k}`, 'invalid account JWT');
      preload[k] = v;
    }
  }
  if (input.operator === undefined) return null;
  const jwts = operatorList(input.operator).map((o, i) => readOperator(o, i === 0 ? 'operator' : `operator[${i}]`));
  const operators = jwts.map((j) => {
    const r = decodeOperatorJwt(j);
    if (!r.ok) throw new ConfigError('operator', `error parsing operator JWT: ${r.error}`);
    return r.claims;
  });
  if (kind === undefined) throw new ConfigError('operator', 'operators require an account resolver to be configured');
  if (input.accounts !== undefined) throw new ConfigError('accounts', 'operators do not allow Accounts to be configured directly');
  const auth = input.authorization;
  if (auth !== null && typeof auth === 'object' && Array.isArray((auth as { users?: unknown }).users) && ((auth as { users: unknown[] }).users.length > 0)) {
    throw new ConfigError('authorization.users', 'operators do not allow users to be configured directly');
  }
  if (input.noAuthUser !== undefined) throw new ConfigError('noAuthUser', 'no_auth_user not compatible with Trusted Operator');
  // opts.go: with one operator, its system account stands in for a missing `system_account`.
  let sys = typeof systemAccount === 'string' && systemAccount !== '' ? systemAccount : null;
  if (sys === null && operators.length === 1 && operators[0]!.nats.systemAccount !== '') sys = operators[0]!.nats.systemAccount;
  if (sys !== null) {
    const named = operators.filter((o) => o.nats.systemAccount !== '');
    if (named.length > 0 && !named.some((o) => o.nats.systemAccount === sys)) {
      throw new ConfigError('systemAccount', 'system_account in config and operator JWT must be identical');
    }
  }
  const trustedKeys: string[] = [];
  for (const o of operators) {
    if (!o.nats.strictSigningKeyUsage) trustedKeys.push(o.sub);
    trustedKeys.push(...o.nats.signingKeys);
  }
  for (const key of trustedKeys) {
    if (!isPublicKey(key, 'O')) throw new ConfigError('operator', `trusted Keys "${key}" are required to be a valid public operator nkey`);
  }
  for (const o of operators) {
    const problems = validateClaims(o, 0).filter((p) => !p.startsWith('claim is'));
    if (problems.length > 0) throw new ConfigError('operator', `error parsing operator JWT: ${problems[0]}`);
  }
  // server.go configureResolver: a directory resolver stores the preloads (Store: saveIfNewer).
  const store = kind === 'MEMORY' ? null : new DirJwtStore(kind);
  if (store !== null) {
    for (const [k, v] of Object.entries(preload)) {
      const r = store.saveIfNewer(k, v);
      if ('error' in r) throw new ConfigError(`resolverPreload.${k}`, r.error);
    }
  }
  // server.go configureAccounts: the system account is looked up at startup, through the resolver.
  // server.go NewServer: with one operator and a directory resolver, a system account that
  // does not resolve (no JWT, or one that fails the checks) is registered without a JWT — the
  // bootstrapping system account (auth/account-jwts.ts) — and the server starts.
  const bootstraps = store !== null && jwts.length === 1 && sys !== '$SYS';
  if (sys !== null && !bootstraps) {
    const jwt = store === null ? preload[sys] : (store.peek(sys) ?? undefined);
    if (jwt === undefined) throw new ConfigError('systemAccount', 'error resolving system account: account missing');
    const acc = decodeAccountJwt(jwt);
    const nowSec = Math.floor(Date.now() / 1000);
    if (!acc.ok || acc.claims.sub !== sys || !trustedKeys.includes(acc.claims.iss) || validateClaims(acc.claims, nowSec).length > 0) {
      throw new ConfigError('systemAccount', 'error resolving system account: account validation failed');
    }
  }
  const strictSigningKeys = operators.flatMap((o) => (o.nats.strictSigningKeyUsage ? o.nats.signingKeys : []));
  return { operatorJwts: jwts, trustedKeys, strictSigningKeys, systemAccount: sys, resolver: kind, preload };
}

/**
 * The auth of operator mode: user JWTs only (a token or user/password of an `authorization`
 * block is never looked at, as in nats-server). The auth timeout is `authorization.timeout`
 * when given, else the default.
 */
export function operatorAuth(mode: ResolvedOperatorMode, authorization: unknown, defaultTimeoutMs: number): ResolvedAuth {
  const timeout = authorization !== null && typeof authorization === 'object' ? (authorization as { timeout?: unknown }).timeout : undefined;
  return {
    token: null, user: null, password: null, users: [],
    timeoutMs: optDuration(timeout, 'authorization.timeout', defaultTimeoutMs),
    noAuthUser: null,
    operator: mode,
  };
}

/**
 * The JWTs of the accounts the resolver has at start: the preloads (MEMORY), or the files of
 * the directory (where the preloads were stored).
 */
export function resolverJwts(mode: ResolvedOperatorMode): Record<string, string> {
  if (mode.resolver === 'MEMORY') return { ...mode.preload };
  const store = new DirJwtStore(mode.resolver);
  const out: Record<string, string> = {};
  for (const pub of store.keys()) {
    const jwt = store.peek(pub);
    if (jwt !== null) out[pub] = jwt;
  }
  return out;
}

/**
 * The resolver's accounts as the server's accounts, with JetStream where their JWT turns it on
 * (accounts.go UpdateAccountClaims: `mem_storage` or `disk_storage` not 0; the per-stream byte
 * limits and `max_ack_pending` at 0 or below are unlimited). The system account never has
 * JetStream. Tiered (per-replica) limits are not read yet.
 */
export function operatorAccounts(
  mode: ResolvedOperatorMode,
  jwts: Readonly<Record<string, string>> = resolverJwts(mode),
): { accountNames: string[]; accountJetStream: Record<string, ResolvedAccountJetStream> } {
  const accountNames: string[] = [];
  const accountJetStream: Record<string, ResolvedAccountJetStream> = {};
  const unlimited = (v: number): number => (v > 0 ? v : -1);
  for (const [name, jwt] of Object.entries(jwts)) {
    const r = decodeAccountJwt(jwt);
    if (!r.ok || r.claims.sub !== name || !mode.trustedKeys.includes(r.claims.iss)) continue;
    accountNames.push(name);
    const l = r.claims.nats.limits;
    if (name === mode.systemAccount || (l.memStorage === 0 && l.diskStorage === 0)) continue;
    accountJetStream[name] = {
      maxMemory: l.memStorage, maxStore: l.diskStorage, maxStreams: l.streams, maxConsumers: l.consumer,
      maxAckPending: unlimited(l.maxAckPending), memoryMaxStreamBytes: unlimited(l.memMaxStreamBytes),
      storeMaxStreamBytes: unlimited(l.diskMaxStreamBytes), maxBytesRequired: l.maxBytesRequired,
    };
  }
  return { accountNames, accountJetStream };
}
