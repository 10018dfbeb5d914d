/**
 * Server options: the public `ServerOptions` (camelCase of nats-server's config keys) and their
 * validation into a frozen `ResolvedOptions`. Defaults equal nats-server's.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { DEFAULTS } from '../protocol/constants.js';
import type { ResolvedPermissions, SubjectPermission } from '../auth/permissions.js';
import type {
  AuthorizationOptions, Duration, PermissionsOptions, ResolvedAuth, ResolvedUser, UserOptions,
} from '../auth/types.js';

// The auth option types live in the auth layer (auth/ imports nothing from config/); they are
// re-exported here so that every option type is importable from this module.
export type {
  AuthorizationOptions, Duration, PermissionsOptions, ResolvedAuth, ResolvedUser, SubjectPermission, UserOptions,
} from '../auth/types.js';

/** The `cluster` block: routes to other servers (nats-server's route protocol). */
export interface ClusterOptions {
  /** Cluster name; all members must agree. Default: generated, and adopted from the first peer. */
  name?: string;
  /** Address of the route listener. Default: the server's `host`. */
  host?: string;
  /** Route port. `0` or `-1` picks a free ephemeral port. Default `0`. */
  port?: number;
  /** Seed routes to dial, e.g. `['nats-route://127.0.0.1:6222']`; retried while unreachable. */
  routes?: string[];
  /** Do not advertise other members' client URLs to clients (INFO `connect_urls`). Default false. */
  noAdvertise?: boolean;
  /** Attempts for routes learned by gossip (implicit routes), after the first. Default 0. */
  connectRetries?: number;
  /**
   * Pause between attempts to (re)connect a configured route. Default 1 s, as nats-server.
   * A nats-embedded extension: tests may shorten it to re-form a mesh faster.
   */
  reconnectDelay?: Duration;
  /** TLS on routes (both directions): the handshake comes first, as nats-server does. */
  tls?: TlsOptions;
}

/** A route URL after validation. */
export interface RouteUrl {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly pass?: string;
}

/** The `cluster` block after validation. */
export interface ResolvedClusterOptions {
  /** null: not configured, generated at start and adopted from peers (nats-server's dynamic name). */
  readonly name: string | null;
  readonly host: string;
  readonly port: number;
  readonly routes: readonly RouteUrl[];
  readonly noAdvertise: boolean;
  readonly connectRetries: number;
  readonly reconnectDelayMs: number;
  readonly tls: ResolvedTls | null;
}

/**
 * What runs the server: the broker inside this process, or a real `nats-server` process
 * started with the equivalent configuration (see {@link ServerOptions.backend}).
 */
export type Backend = 'embedded' | 'nats-server';

/** The environment variable that picks the default {@link Backend}. */
export const BACKEND_ENV = 'NATS_EMBEDDED_BACKEND';

/** Options of {@link createServer}. Every field is optional; defaults are nats-server's. */
export interface ServerOptions {
  /**
   * `'embedded'` (the broker in this process) or `'nats-server'` (spawns the real binary —
   * `NATS_SERVER_BIN`, else `nats-server` on `PATH` — with the equivalent configuration, behind
   * the same handle; features only the embedded broker has throw `UnsupportedError`).
   * Default: the `NATS_EMBEDDED_BACKEND` environment variable, else `'embedded'`.
   */
  backend?: Backend;
  /** Client port. `0` or `-1` (nats-server's "random") picks a free ephemeral port. Default `0`. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1` (loopback only; use `0.0.0.0` to expose it). */
  host?: string;
  /** INFO `server_name`. Default: the generated server id. */
  serverName?: string;
  /** Largest message payload (headers included) a client may publish. Default 1 MiB. */
  maxPayload?: number;
  /** Longest protocol control line a client may send. Default 4096. */
  maxControlLine?: number;
  /** Bytes that may queue for one connection before it is closed as a slow consumer. Default 64 MiB. */
  maxPending?: number;
  /** How often the server PINGs an idle client. Default 2 minutes. */
  pingInterval?: Duration;
  /** Unanswered PINGs after which a client is closed as stale. Default 2. */
  maxPingsOut?: number;
  /** How long a write may make no progress before the client is closed as a slow consumer. Default 10 s. */
  writeDeadline?: Duration;
  /** Most client connections at once. Default 65536. */
  maxConnections?: number;
  /** Most subscriptions per connection; 0 means unlimited. Default 0. */
  maxSubscriptions?: number;
  /** Disables message headers (INFO `headers: false`; HPUB is refused). Default false. */
  noHeaderSupport?: boolean;
  /** Total time of {@link NatsServer.lameDuck} when not given. Default 2 minutes. */
  lameDuckDuration?: Duration;
  /** Wait after the lame duck INFO before clients start being closed. Default 10 s. */
  lameDuckGracePeriod?: Duration;
  /** Clustering: a route listener and routes to other servers. Off by default. */
  cluster?: ClusterOptions;
  /**
   * Monitoring HTTP endpoints (`/varz`, `/connz`, ...): a port (`-1` = random), a
   * `"host:port"` string as nats-server's `http`, or `{ host, port }`. Off by default.
   */
  http?: number | string | { host?: string; port?: number };
  /** Where log lines go. Default: nowhere (silent in library use). */
  logger?: Logger;
  /** Log debug lines (nats-server `-D`). Default false. */
  debug?: boolean;
  /** Log protocol traces (nats-server `-V`): `<<- [SUB foo 1]`. Default false. */
  trace?: boolean;
  /** Client authentication and per-user permissions. Off by default. */
  authorization?: AuthorizationOptions;
  /** TLS for client connections: INFO says `tls_required`, clients upgrade after INFO. */
  tls?: TlsOptions;
  /**
   * With `tls`: TLS is available but not required (nats-server's `allow_non_tls`). INFO says
   * `tls_available` instead of `tls_required`; a client that starts a TLS handshake after INFO
   * gets TLS, one that sends CONNECT stays in plain text. Default false.
   */
  allowNonTls?: boolean;
  /**
   * Accounts: separate subject spaces, each with its users (`{ A: { users: [...] } }`). A
   * message in one account never reaches another. Users outside any account are in `$G`.
   */
  accounts?: Record<string, { users?: UserOptions[] }>;
  /** The user (of `authorization.users`) a client without credentials is taken to be. */
  noAuthUser?: string;
  /**
   * A WebSocket listener (`ws://host:port`): browser and `wsconnect` clients speak the NATS
   * protocol in binary frames and share subjects, auth and limits with TCP clients. Off by default.
   */
  websocket?: WebSocketOptions;
  /**
   * Seed for queue-group member selection: with a seed, the same sequence of operations picks
   * the same members, so a failing test replays. Default: random.
   */
  seed?: number;
}

/** The `websocket` block (nats-server's `websocket { ... }`). */
export interface WebSocketOptions {
  /** WebSocket port. `0` or `-1` picks a free ephemeral port. Default `0`. */
  port?: number;
  /** Address to listen on. Default: the server's `host`. */
  host?: string;
  /**
   * Plain `ws://` without TLS. Must be `true`: as nats-server, a websocket listener without
   * TLS has to be asked for explicitly, and `wss://` is not supported yet.
   */
  noTls?: boolean;
  /** Offer permessage-deflate compression to clients. Default false. */
  compression?: boolean;
  /** Refuse (HTTP 403) a handshake whose `Origin` differs from its `Host`. Default false. */
  sameOrigin?: boolean;
  /**
   * Accept only handshakes whose `Origin` is one of these (`'http://localhost:8080'`): scheme,
   * host and port must match; others get HTTP 403. Requests without `Origin` are accepted.
   */
  allowedOrigins?: string[];
}

/** The `websocket` block after validation. */
export interface ResolvedWebSocket {
  readonly host: string;
  /** 0 = ephemeral. */
  readonly port: number;
  readonly noTls: boolean;
  readonly compression: boolean;
  readonly sameOrigin: boolean;
  readonly allowedOrigins: readonly string[];
}

/** TLS settings: PEM text or file paths. */
export interface TlsOptions {
  /** Certificate chain (PEM text, or a path to a PEM file). */
  cert: string;
  /** Private key (PEM text, or a path). */
  key: string;
  /** CA certificates to verify peers with (PEM text, or a path). */
  ca?: string;
  /** Require and verify client (or peer route) certificates. Default false. */
  verify?: boolean;
  /** Handshake timeout. Default 2 s (nats-server `tls_timeout`). */
  timeout?: Duration;
}

/** TLS settings after validation: PEM contents loaded. */
export interface ResolvedTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | null;
  readonly verify: boolean;
  readonly timeoutMs: number;
}

/** Receives the server's log lines, already formatted without level or timestamp. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
  trace?(message: string): void;
}

/** The monitoring listener after validation. */
export interface ResolvedHttpOptions {
  readonly host: string;
  /** 0 = ephemeral. */
  readonly port: number;
}

/** Options after validation and defaulting. Durations are in milliseconds. */
export interface ResolvedOptions {
  readonly backend: Backend;
  readonly port: number;
  readonly host: string;
  readonly serverName: string | undefined;
  readonly maxPayload: number;
  readonly maxControlLine: number;
  readonly maxPending: number;
  readonly pingIntervalMs: number;
  readonly maxPingsOut: number;
  readonly writeDeadlineMs: number;
  readonly maxConnections: number;
  readonly maxSubscriptions: number;
  readonly noHeaderSupport: boolean;
  readonly lameDuckDurationMs: number;
  readonly lameDuckGracePeriodMs: number;
  readonly cluster: ResolvedClusterOptions | null;
  readonly http: ResolvedHttpOptions | null;
  readonly logger: Logger | null;
  readonly debug: boolean;
  readonly trace: boolean;
  readonly seed: number | null;
  /** null when no authentication is configured. */
  readonly auth: ResolvedAuth | null;
  /** Configured account names (besides `$G`). */
  readonly accountNames: readonly string[];
  readonly tls: ResolvedTls | null;
  /** TLS available but not required (only with `tls`). */
  readonly allowNonTls: boolean;
  /** null when no websocket listener is configured. */
  readonly websocket: ResolvedWebSocket | null;
}

const KNOWN_KEYS: ReadonlySet<string> = new Set([
  'backend', 'port', 'host', 'serverName', 'maxPayload', 'maxControlLine', 'maxPending', 'pingInterval',
  'maxPingsOut', 'writeDeadline', 'maxConnections', 'maxSubscriptions', 'noHeaderSupport',
  'lameDuckDuration', 'lameDuckGracePeriod', 'cluster', 'http', 'logger', 'debug', 'trace', 'seed', 'authorization', 'noAuthUser', 'accounts', 'tls',
  'allowNonTls', 'websocket',
]);

const CLUSTER_KEYS: ReadonlySet<string> = new Set([
  'name', 'host', 'port', 'routes', 'noAdvertise', 'connectRetries', 'reconnectDelay', 'tls',
]);

/** Largest value nats-server holds in an int32 field such as max_payload. */
const INT32_MAX = 2 ** 31 - 1;

/** Validates `options` and fills in the defaults. Throws {@link ConfigError} naming the option. */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError('options', 'must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(key, 'unknown option');
  }
  const o = options as Record<string, unknown>;
  const backend = resolveBackend(o.backend);
  let port = optInt(o, 'port', 0, -1, 65535);
  if (port === -1) port = 0;
  const host = optString(o, 'host', DEFAULTS.host);
  if (host.length === 0) throw new ConfigError('host', 'must not be empty');
  const serverName = o.serverName === undefined ? undefined : optString(o, 'serverName', '');
  if (serverName !== undefined && (serverName.length === 0 || /\s/.test(serverName))) {
    throw new ConfigError('serverName', 'must be a non-empty string without spaces');
  }
  const maxPayload = optInt(o, 'maxPayload', DEFAULTS.maxPayload, 1, INT32_MAX);
  const maxControlLine = optInt(o, 'maxControlLine', DEFAULTS.maxControlLine, 1, INT32_MAX);
  const maxPending = optInt(o, 'maxPending', DEFAULTS.maxPending, 1, Number.MAX_SAFE_INTEGER);
  if (maxPayload > maxPending) {
    throw new ConfigError('maxPayload', `(${maxPayload}) cannot be higher than maxPending (${maxPending})`);
  }
  const tls = o.tls === undefined ? null : resolveTls(o.tls, 'tls');
  const resolved: ResolvedOptions = {
    backend,
    port,
    host,
    serverName,
    maxPayload,
    maxControlLine,
    maxPending,
    pingIntervalMs: optDuration(o, 'pingInterval', DEFAULTS.pingIntervalMs),
    maxPingsOut: optInt(o, 'maxPingsOut', DEFAULTS.maxPingsOut, 1, INT32_MAX),
    writeDeadlineMs: optDuration(o, 'writeDeadline', DEFAULTS.writeDeadlineMs),
    maxConnections: optInt(o, 'maxConnections', DEFAULTS.maxConnections, 1, INT32_MAX),
    maxSubscriptions: optInt(o, 'maxSubscriptions', DEFAULTS.maxSubscriptions, 0, INT32_MAX),
    noHeaderSupport: optBool(o, 'noHeaderSupport', false),
    lameDuckDurationMs: optDuration(o, 'lameDuckDuration', DEFAULTS.lameDuckDurationMs),
    lameDuckGracePeriodMs: optDuration(o, 'lameDuckGracePeriod', DEFAULTS.lameDuckGracePeriodMs),
    cluster: o.cluster === undefined ? null : resolveCluster(o.cluster, host),
    http: o.http === undefined ? null : resolveHttp(o.http, host),
    logger: resolveLogger(o.logger),
    debug: optBool(o, 'debug', false),
    trace: optBool(o, 'trace', false),
    seed: o.seed === undefined ? null : optInt(o, 'seed', 0, -(2 ** 31), 2 ** 32 - 1),
    ...resolveAccountsAndAuth(o.authorization, o.noAuthUser, o.accounts, tls),
    tls,
    allowNonTls: optBool(o, 'allowNonTls', false),
    websocket: o.websocket === undefined ? null : resolveWebSocket(o.websocket, host),
  };
  return Object.freeze(resolved);
}

const BACKENDS: readonly Backend[] = ['embedded', 'nats-server'];

/** `backend`, else the `NATS_EMBEDDED_BACKEND` environment variable, else `'embedded'`. */
function resolveBackend(value: unknown): Backend {
  if (value === undefined) {
    const env = process.env[BACKEND_ENV];
    if (env === undefined || env === '') return 'embedded';
    if ((BACKENDS as readonly string[]).includes(env)) return env as Backend;
    throw new ConfigError('backend', `${BACKEND_ENV} must be "embedded" or "nats-server", got ${JSON.stringify(env)}`);
  }
  if (typeof value === 'string' && (BACKENDS as readonly string[]).includes(value)) return value as Backend;
  throw new ConfigError('backend', `must be "embedded" or "nats-server", got ${describe(value)}`);
}

const AUTH_KEYS = new Set(['token', 'user', 'password', 'users', 'defaultPermissions', 'timeout']);
const USER_KEYS = new Set(['user', 'password', 'nkey', 'permissions']);
const PERM_KEYS = new Set(['publish', 'subscribe', 'allowResponses']);

function resolveAccountsAndAuth(
  authorization: unknown,
  noAuthUser: unknown,
  accounts: unknown,
  tls: ResolvedTls | null,
): { auth: ResolvedAuth | null; accountNames: string[] } {
  // With TLS the client has the handshake time plus one second to authenticate (nats-server).
  const authTimeoutMs = tls === null ? DEFAULTS.authTimeoutMs : tls.timeoutMs + 1000;
  if (accounts === undefined) return { auth: resolveAuth(authorization, noAuthUser, [], authTimeoutMs), accountNames: [] };
  if (accounts === null || typeof accounts !== 'object' || Array.isArray(accounts)) throw new ConfigError('accounts', 'must be an object');
  const names: string[] = [];
  const users: Array<{ user: unknown; account: string; at: string }> = [];
  for (const [name, value] of Object.entries(accounts as Record<string, unknown>)) {
    if (name === '' || /\s/.test(name)) throw new ConfigError(`accounts.${name}`, 'account names must be non-empty, without spaces');
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`accounts.${name}`, 'must be an object');
    const a = value as Record<string, unknown>;
    for (const k of Object.keys(a)) if (k !== 'users') throw new ConfigError(`accounts.${name}.${k}`, 'unknown option (imports and exports are not supported yet)');
    if (a.users !== undefined && !Array.isArray(a.users)) throw new ConfigError(`accounts.${name}.users`, 'must be an array');
    names.push(name);
    for (const [i, u] of ((a.users as unknown[] | undefined) ?? []).entries()) users.push({ user: u, account: name, at: `accounts.${name}.users[${i}]` });
  }
  return { auth: resolveAuth(authorization ?? (users.length > 0 ? {} : undefined), noAuthUser, users, authTimeoutMs), accountNames: names };
}

function resolveAuth(
  value: unknown,
  noAuthUser: unknown,
  accountUsers: ReadonlyArray<{ user: unknown; account: string; at: string }>,
  defaultTimeoutMs: number,
): ResolvedAuth | null {
  if (value === undefined) {
    if (noAuthUser !== undefined) throw new ConfigError('noAuthUser', 'needs authorization.users');
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError('authorization', 'must be an object');
  const a = value as Record<string, unknown>;
  for (const k of Object.keys(a)) if (!AUTH_KEYS.has(k)) throw new ConfigError(`authorization.${k}`, 'unknown option');
  const str = (v: unknown, name: string): string | null => {
    if (v === undefined) return null;
    if (typeof v !== 'string' || v === '') throw new ConfigError(name, 'must be a non-empty string');
    return v;
  };
  const token = str(a.token, 'authorization.token');
  const user = str(a.user, 'authorization.user');
  const password = str(a.password, 'authorization.password');
  if (token !== null && user !== null) throw new ConfigError('authorization.token', 'cannot be combined with user/password');
  const defaults = a.defaultPermissions === undefined ? null : resolvePermissions(a.defaultPermissions, 'authorization.defaultPermissions');
  const usersValue = a.users ?? [];
  if (!Array.isArray(usersValue)) throw new ConfigError('authorization.users', 'must be an array');
  const all = [
    ...usersValue.map((u: unknown, i) => ({ user: u, account: '$G', at: `authorization.users[${i}]` })),
    ...accountUsers,
  ];
  const users = all.map(({ user: u, account, at }): ResolvedUser => {
    if (u === null || typeof u !== 'object' || Array.isArray(u)) throw new ConfigError(at, 'must be an object');
    const r = u as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!USER_KEYS.has(k)) throw new ConfigError(`${at}.${k}`, 'unknown option');
    const name = str(r.user, `${at}.user`);
    const nkey = str(r.nkey, `${at}.nkey`);
    if ((name === null) === (nkey === null)) throw new ConfigError(at, 'needs exactly one of user or nkey');
    if (nkey !== null && !/^U[A-Z2-7]{55}$/.test(nkey)) throw new ConfigError(`${at}.nkey`, 'must be a public user nkey (U...)');
    const perms = r.permissions === undefined ? defaults : resolvePermissions(r.permissions, `${at}.permissions`);
    return {
      ...(name !== null ? { user: name } : {}),
      ...(nkey !== null ? { nkey } : {}),
      ...(r.password !== undefined ? { password: str(r.password, `${at}.password`)! } : {}),
      permissions: perms,
      account,
    };
  });
  const names = new Set<string>();
  for (const u of users) {
    const key = u.user ?? u.nkey!;
    if (names.has(key)) throw new ConfigError('authorization.users', `duplicate user "${key}"`);
    names.add(key);
  }
  let nau: string | null = null;
  if (noAuthUser !== undefined) {
    nau = str(noAuthUser, 'noAuthUser');
    if (!users.some((u) => u.user === nau || u.nkey === nau)) throw new ConfigError('noAuthUser', `"${nau}" is not one of authorization.users`);
  }
  if (token === null && user === null && users.length === 0) {
    throw new ConfigError('authorization', 'needs a token, a user/password or users');
  }
  const holder: Record<string, unknown> = { 'authorization.timeout': a.timeout };
  return {
    token,
    user,
    password,
    users,
    timeoutMs: optDuration(holder, 'authorization.timeout', defaultTimeoutMs),
    noAuthUser: nau,
  };
}

function resolvePermissions(value: unknown, at: string): ResolvedPermissions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(at, 'must be an object');
  const p = value as Record<string, unknown>;
  for (const k of Object.keys(p)) if (!PERM_KEYS.has(k)) throw new ConfigError(`${at}.${k}`, 'unknown option');
  const subjects = (v: unknown, name: string): SubjectPermission | undefined => {
    if (v === undefined) return undefined;
    const isList = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string' && s.length > 0);
    if (typeof v === 'string' && v.length > 0) return v;
    if (isList(v)) return v;
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) if (k !== 'allow' && k !== 'deny') throw new ConfigError(`${name}.${k}`, 'unknown option (allow or deny)');
      if (o.allow !== undefined && !isList(o.allow)) throw new ConfigError(`${name}.allow`, 'must be an array of subjects');
      if (o.deny !== undefined && !isList(o.deny)) throw new ConfigError(`${name}.deny`, 'must be an array of subjects');
      return { ...(o.allow !== undefined ? { allow: o.allow as string[] } : {}), ...(o.deny !== undefined ? { deny: o.deny as string[] } : {}) };
    }
    throw new ConfigError(name, 'must be a subject, a list of subjects, or { allow, deny }');
  };
  const out: { -readonly [K in keyof ResolvedPermissions]: ResolvedPermissions[K] } = {};
  const pub = subjects(p.publish, `${at}.publish`);
  const sub = subjects(p.subscribe, `${at}.subscribe`);
  if (pub !== undefined) out.publish = pub;
  if (sub !== undefined) out.subscribe = sub;
  const ar = p.allowResponses;
  if (ar !== undefined) {
    if (typeof ar === 'boolean') out.allowResponses = ar;
    else if (ar !== null && typeof ar === 'object' && !Array.isArray(ar)) {
      const r = ar as Record<string, unknown>;
      const holder: Record<string, unknown> = { [`${at}.allowResponses.max`]: r.max, [`${at}.allowResponses.expires`]: r.expires };
      out.allowResponses = {
        max: optInt(holder, `${at}.allowResponses.max`, 1, 0, INT32_MAX),
        expiresMs: optDuration(holder, `${at}.allowResponses.expires`, 2 * 60 * 1000),
      };
    } else throw new ConfigError(`${at}.allowResponses`, 'must be a boolean or { max, expires }');
  }
  return out;
}

const TLS_KEYS = new Set(['cert', 'key', 'ca', 'verify', 'timeout']);

/** PEM text as given, or the contents of the file it names. */
function pem(value: unknown, option: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(option, 'must be PEM text or a file path');
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new ConfigError(option, `cannot read ${value}: ${(err as Error).message}`);
  }
}

function resolveTls(value: unknown, at: string): ResolvedTls {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(at, 'must be an object');
  const t = value as Record<string, unknown>;
  for (const k of Object.keys(t)) if (!TLS_KEYS.has(k)) throw new ConfigError(`${at}.${k}`, 'unknown option');
  const holder: Record<string, unknown> = { [`${at}.verify`]: t.verify, [`${at}.timeout`]: t.timeout };
  return {
    cert: pem(t.cert, `${at}.cert`),
    key: pem(t.key, `${at}.key`),
    ca: t.ca === undefined ? null : pem(t.ca, `${at}.ca`),
    verify: optBool(holder, `${at}.verify`, false),
    timeoutMs: optDuration(holder, `${at}.timeout`, DEFAULTS.tlsTimeoutMs),
  };
}

const WEBSOCKET_KEYS = new Set(['port', 'host', 'noTls', 'compression', 'sameOrigin', 'allowedOrigins']);

function resolveWebSocket(value: unknown, serverHost: string): ResolvedWebSocket {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError('websocket', 'must be an object');
  const w = value as Record<string, unknown>;
  for (const k of Object.keys(w)) if (!WEBSOCKET_KEYS.has(k)) throw new ConfigError(`websocket.${k}`, 'unknown option');
  const prefixed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(w)) prefixed[`websocket.${k}`] = v;
  let port = optInt(prefixed, 'websocket.port', 0, -1, 65535);
  if (port === -1) port = 0;
  const host = optString(prefixed, 'websocket.host', serverHost);
  if (host.length === 0) throw new ConfigError('websocket.host', 'must not be empty');
  const noTls = optBool(prefixed, 'websocket.noTls', false);
  if (!noTls) {
    // nats-server: "websocket requires TLS configuration" unless no_tls is set.
    throw new ConfigError('websocket.noTls', 'must be true: websocket requires TLS configuration, and wss:// is not supported by nats-embedded yet (set noTls: true for ws://)');
  }
  const origins = w.allowedOrigins ?? [];
  if (!Array.isArray(origins)) throw new ConfigError('websocket.allowedOrigins', 'must be an array of origins');
  const allowedOrigins = origins.map((a: unknown, i) => {
    const name = `websocket.allowedOrigins[${i}]`;
    if (typeof a !== 'string' || a === '') throw new ConfigError(name, 'must be an origin such as "http://localhost:8080"');
    try {
      const u = new URL(a);
      if (u.host === '') throw new Error('no host');
    } catch {
      throw new ConfigError(name, `unable to parse allowed origin "${a}"`);
    }
    return a;
  });
  return {
    host,
    port,
    noTls,
    compression: optBool(prefixed, 'websocket.compression', false),
    sameOrigin: optBool(prefixed, 'websocket.sameOrigin', false),
    allowedOrigins,
  };
}

function resolveHttp(value: unknown, serverHost: string): ResolvedHttpOptions {
  let host = serverHost;
  let port: unknown;
  if (typeof value === 'number') port = value;
  else if (typeof value === 'string') {
    const m = /^(?:(.*):)?(-?\d+)$/.exec(value);
    if (m === null) throw new ConfigError('http', `must be a port or "host:port", got "${value}"`);
    if (m[1] !== undefined && m[1] !== '') host = m[1].replace(/^\[|\]$/g, '');
    port = Number(m[2]);
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const h = value as Record<string, unknown>;
    for (const key of Object.keys(h)) if (key !== 'host' && key !== 'port') throw new ConfigError(`http.${key}`, 'unknown option');
    if (h.host !== undefined) {
      if (typeof h.host !== 'string' || h.host === '') throw new ConfigError('http.host', 'must be a non-empty string');
      host = h.host;
    }
    port = h.port ?? 0;
  } else {
    throw new ConfigError('http', 'must be a port, "host:port" or { host, port }');
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < -1 || port > 65535) {
    throw new ConfigError('http', `port must be between -1 and 65535, got ${String(port)}`);
  }
  return { host, port: port === -1 ? 0 : port };
}

function resolveLogger(value: unknown): Logger | null {
  if (value === undefined || value === null) return null;
  const l = value as Record<string, unknown>;
  for (const fn of ['info', 'warn', 'error']) {
    if (typeof l[fn] !== 'function') throw new ConfigError('logger', `must have ${fn}(message) (and optionally debug, trace)`);
  }
  return value as Logger;
}

function resolveCluster(value: unknown, serverHost: string): ResolvedClusterOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('cluster', 'must be an object');
  }
  const c = value as Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (!CLUSTER_KEYS.has(key)) throw new ConfigError(`cluster.${key}`, 'unknown option');
  }
  const prefixed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) prefixed[`cluster.${k}`] = v;
  let port = optInt(prefixed, 'cluster.port', 0, -1, 65535);
  if (port === -1) port = 0;
  const name = prefixed['cluster.name'] === undefined ? null : optString(prefixed, 'cluster.name', '');
  if (name !== null && (name.length === 0 || /\s/.test(name))) {
    throw new ConfigError('cluster.name', 'must be a non-empty string without spaces');
  }
  const routesValue = c.routes ?? [];
  if (!Array.isArray(routesValue)) throw new ConfigError('cluster.routes', 'must be an array of route URLs');
  const routes = routesValue.map((r, i) => parseRouteUrl(r, `cluster.routes[${i}]`));
  return {
    name,
    host: optString(prefixed, 'cluster.host', serverHost),
    port,
    routes,
    noAdvertise: optBool(prefixed, 'cluster.noAdvertise', false),
    connectRetries: optInt(prefixed, 'cluster.connectRetries', 0, 0, INT32_MAX),
    reconnectDelayMs: optDuration(prefixed, 'cluster.reconnectDelay', DEFAULTS.routeReconnectMs),
    tls: c.tls === undefined ? null : resolveTls(c.tls, 'cluster.tls'),
  };
}

/** Parses `nats-route://[user:pass@]host:port` (also `nats://`, or a bare `host:port`). */
export function parseRouteUrl(value: unknown, option: string): RouteUrl {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(option, 'must be a route URL string');
  const text = value.includes('://') ? value : `nats-route://${value}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ConfigError(option, `invalid route URL "${value}"`);
  }
  if (!['nats-route:', 'nats:', 'tls:', 'route:'].includes(u.protocol)) {
    throw new ConfigError(option, `unsupported scheme in "${value}" (use nats-route://host:port)`);
  }
  const port = Number(u.port);
  if (!Number.isInteger(port) || port <= 0) throw new ConfigError(option, `route URL "${value}" needs a port`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return {
    url: `nats-route://${u.host}`,
    host,
    port,
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { pass: decodeURIComponent(u.password) } : {}),
  };
}

function optInt(o: Record<string, unknown>, key: string, def: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(key, `must be an integer, got ${describe(v)}`);
  if (v < min || v > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function optString(o: Record<string, unknown>, key: string, def: string): string {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'string') throw new ConfigError(key, `must be a string, got ${describe(v)}`);
  return v;
}

function optBool(o: Record<string, unknown>, key: string, def: boolean): boolean {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw new ConfigError(key, `must be a boolean, got ${describe(v)}`);
  return v;
}

function optDuration(o: Record<string, unknown>, key: string, def: number): number {
  const v = o[key];
  if (v === undefined) return def;
  let ms: number;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') ms = parseDuration(v, key);
  else throw new ConfigError(key, `must be milliseconds or a duration string, got ${describe(v)}`);
  if (!Number.isFinite(ms) || ms <= 0) throw new ConfigError(key, `must be a positive duration, got ${describe(v)}`);
  return ms;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/** Parses a Go duration string (`"1h30m"`, `"2.5s"`, `"500ms"`) into milliseconds, or null. */
export function parseDurationMs(text: string): number | null {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    matched += m[0].length;
  }
  return matched !== text.length || text.length === 0 ? null : total;
}

/** {@link parseDurationMs}, throwing {@link ConfigError} naming `option` when `text` is not a duration. */
export function parseDuration(text: string, option: string): number {
  const ms = parseDurationMs(text);
  if (ms === null) throw new ConfigError(option, `invalid duration "${text}" (use e.g. "500ms", "10s", "2m")`);
  return ms;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : String(v);
}
