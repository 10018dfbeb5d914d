/**
 * Validation of the options that are more than one value: the `cluster`, `websocket`, `tls`
 * and `http` blocks, route URLs, the logger and the backend. The option table (`table.ts`)
 * calls these for its block entries; each takes the value as given and its path.
 *
 * Rules from nats-server v2.10.29's server/opts.go (parseCluster, parseWebsocket, parseTLS,
 * parseListen, parseSimpleAuth) and websocket.go (validateWebsocketOptions: a websocket listener
 * needs TLS unless `no_tls`; the websocket-only credentials against the top-level users).
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { ConfigError } from '../errors.js';
import { DEFAULTS } from '../protocol/constants.js';
import type {
  Backend, Logger, ResolvedAuth, ResolvedClusterOptions, ResolvedGatewayOptions, ResolvedHttpOptions, ResolvedJetStream, ResolvedTls, ResolvedWebSocket, RouteUrl, SourceTiming,
} from './types.js';
import {
  INT32_MAX, checkKeys, checkName, child, describe, objectWithKeys, optBool, optDuration, optInt, optPort, optString,
} from './validate.js';

/** The environment variable that picks the default {@link Backend}. */
export const BACKEND_ENV = 'NATS_EMBEDDED_BACKEND';

const BACKENDS: readonly Backend[] = ['embedded', 'nats-server'];

/** `backend`, else the `NATS_EMBEDDED_BACKEND` environment variable, else `'embedded'`. */
export function resolveBackend(value: unknown, path: string): Backend {
  if (value === undefined) {
    const env = process.env[BACKEND_ENV];
    if (env === undefined || env === '') return 'embedded';
    if ((BACKENDS as readonly string[]).includes(env)) return env as Backend;
    throw new ConfigError(path, `${BACKEND_ENV} must be "embedded" or "nats-server", got ${JSON.stringify(env)}`);
  }
  if (typeof value === 'string' && (BACKENDS as readonly string[]).includes(value)) return value as Backend;
  throw new ConfigError(path, `must be "embedded" or "nats-server", got ${describe(value)}`);
}

/** A logger needs the three levels every server logs at; debug and trace are optional. */
export function resolveLogger(value: unknown, path: string): Logger | null {
  if (value === undefined || value === null) return null;
  const l = value as Record<string, unknown>;
  for (const fn of ['info', 'warn', 'error']) {
    if (typeof l[fn] !== 'function') throw new ConfigError(path, `must have ${fn}(message) (and optionally debug, trace)`);
  }
  return value as Logger;
}

const TLS_KEYS: ReadonlySet<string> = new Set(['cert', 'key', 'ca', 'verify', 'verifyAndMap', 'timeout']);

/** PEM text as given, or the contents of the file it names. */
export function pem(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(path, 'must be PEM text or a file path');
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new ConfigError(path, `cannot read ${value}: ${(err as Error).message}`);
  }
}

/**
 * A `tls` block (clients', websocket's or routes'): the PEM contents are loaded here, once.
 * `verifyAndMap` implies `verify` (opts.go parseTLS).
 */
export function resolveTls(value: unknown, path: string): ResolvedTls {
  const t = objectWithKeys(value, path, TLS_KEYS);
  const map = optBool(t.verifyAndMap, child(path, 'verifyAndMap'), false);
  return {
    cert: pem(t.cert, child(path, 'cert')),
    key: pem(t.key, child(path, 'key')),
    ca: t.ca === undefined ? null : pem(t.ca, child(path, 'ca')),
    verify: map || optBool(t.verify, child(path, 'verify'), false),
    map,
    timeoutMs: optDuration(t.timeout, child(path, 'timeout'), DEFAULTS.tlsTimeoutMs),
  };
}

const WEBSOCKET_KEYS: ReadonlySet<string> = new Set([
  'port', 'host', 'noTls', 'tls', 'compression', 'sameOrigin', 'allowedOrigins', 'authorization', 'noAuthUser', 'jwtCookie',
]);
const WEBSOCKET_AUTH_KEYS: ReadonlySet<string> = new Set(['user', 'password', 'token', 'timeout']);

/** An optional string; '' counts as not given (nats-server tests these options against ""). */
function optText(v: unknown, path: string): string | null {
  if (v === undefined) return null;
  if (typeof v !== 'string') throw new ConfigError(path, `must be a string, got ${describe(v)}`);
  return v === '' ? null : v;
}

/**
 * The `websocket` block; its host defaults to the server's. `auth` is the resolved top-level
 * authentication, which the websocket-only credentials are checked against as nats-server's
 * validateWebsocketOptions does.
 */
export function resolveWebSocket(value: unknown, path: string, serverHost: string, auth: ResolvedAuth | null = null): ResolvedWebSocket {
  const w = objectWithKeys(value, path, WEBSOCKET_KEYS);
  const port = optPort(w.port, child(path, 'port'));
  const host = optString(w.host, child(path, 'host'), serverHost);
  if (host.length === 0) throw new ConfigError(child(path, 'host'), 'must not be empty');
  const noTls = optBool(w.noTls, child(path, 'noTls'), false);
  const tls = w.tls === undefined ? null : resolveTls(w.tls, child(path, 'tls'));
  if (tls === null && !noTls) {
    // nats-server: "websocket requires TLS configuration" unless no_tls is set.
    throw new ConfigError(child(path, 'tls'), 'websocket requires TLS configuration (or noTls: true for plain ws://)');
  }
  const origins = w.allowedOrigins ?? [];
  if (!Array.isArray(origins)) throw new ConfigError(child(path, 'allowedOrigins'), 'must be an array of origins');
  const allowedOrigins = origins.map((a: unknown, i) => {
    const name = `${child(path, 'allowedOrigins')}[${i}]`;
    if (typeof a !== 'string' || a === '') throw new ConfigError(name, 'must be an origin such as "http://localhost:8080"');
    try {
      const u = new URL(a);
      if (u.host === '') throw new Error('no host');
    } catch {
      throw new ConfigError(name, `unable to parse allowed origin "${a}"`);
    }
    return a;
  });
  const a = w.authorization === undefined ? {} : objectWithKeys(w.authorization, child(path, 'authorization'), WEBSOCKET_AUTH_KEYS);
  const ap = child(path, 'authorization');
  const user = optText(a.user, child(ap, 'user'));
  const password = optText(a.password, child(ap, 'password'));
  const token = optText(a.token, child(ap, 'token'));
  const noAuthUser = optText(w.noAuthUser, child(path, 'noAuthUser'));
  const jwtCookie = optText(w.jwtCookie, child(path, 'jwtCookie'));
  const operator = auth?.operator !== undefined;
  const users = auth?.users ?? [];
  // validateWebsocketOptions, in its order.
  if (noAuthUser !== null) {
    if (operator) throw new ConfigError(child(path, 'noAuthUser'), 'no_auth_user not compatible with Trusted Operator');
    if (users.length === 0) throw new ConfigError(child(path, 'noAuthUser'), `no_auth_user: "${noAuthUser}" present, but users/nkeys are not defined`);
    if (!users.some((u) => u.user === noAuthUser || u.nkey === noAuthUser)) {
      throw new ConfigError(child(path, 'noAuthUser'), `no_auth_user: "${noAuthUser}" not present as user or nkey in authorization block or account configuration`);
    }
  }
  if (users.length > 0) {
    if (user !== null) throw new ConfigError(child(ap, 'user'), 'websocket authentication username not compatible with presence of users/nkeys');
    if (token !== null) throw new ConfigError(child(ap, 'token'), 'websocket authentication token not compatible with presence of users/nkeys');
  }
  if (jwtCookie !== null && !operator) {
    throw new ConfigError(child(path, 'jwtCookie'), `trusted operators or trusted keys configuration is required for JWT authentication via cookie "${jwtCookie}"`);
  }
  return {
    host,
    port,
    noTls,
    tls,
    compression: optBool(w.compression, child(path, 'compression'), false),
    sameOrigin: optBool(w.sameOrigin, child(path, 'sameOrigin'), false),
    allowedOrigins,
    // websocket.go wsConfigAuth: a user, a token or a no_auth_user is an override.
    authOverride: user !== null || token !== null || noAuthUser !== null ? { user, password, token, noAuthUser } : null,
    authTimeoutMs: a.timeout === undefined ? null : optDuration(a.timeout, child(ap, 'timeout'), 0),
    jwtCookie,
  };
}

const HTTP_KEYS: ReadonlySet<string> = new Set(['host', 'port']);

/**
 * The monitoring listener: a port, a `"host:port"` string (nats-server's `http`), or
 * `{ host, port }`. The host defaults to the server's; `-1` means an ephemeral port.
 */
export function resolveHttp(value: unknown, path: string, serverHost: string): ResolvedHttpOptions {
  let host = serverHost;
  let port: unknown;
  if (typeof value === 'number') port = value;
  else if (typeof value === 'string') {
    const m = /^(?:(.*):)?(-?\d+)$/.exec(value);
    if (m === null) throw new ConfigError(path, `must be a port or "host:port", got "${value}"`);
    if (m[1] !== undefined && m[1] !== '') host = m[1].replace(/^\[|\]$/g, '');
    port = Number(m[2]);
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const h = value as Record<string, unknown>;
    checkKeys(h, path, HTTP_KEYS);
    if (h.host !== undefined) {
      if (typeof h.host !== 'string' || h.host === '') throw new ConfigError(child(path, 'host'), 'must be a non-empty string');
      host = h.host;
    }
    port = h.port ?? 0;
  } else {
    throw new ConfigError(path, 'must be a port, "host:port" or { host, port }');
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < -1 || port > 65535) {
    throw new ConfigError(path, `port must be between -1 and 65535, got ${String(port)}`);
  }
  return { host, port: port === -1 ? 0 : port };
}

const CLUSTER_KEYS: ReadonlySet<string> = new Set([
  'name', 'host', 'port', 'routes', 'noAdvertise', 'connectRetries', 'reconnectDelay', 'tls', 'authorization',
]);

/** `token` and `users` are known only to be refused in nats-server's words. */
const CLUSTER_AUTH_KEYS: ReadonlySet<string> = new Set(['user', 'password', 'timeout', 'token', 'users']);

/**
 * `cluster.authorization` (nats-server's parseCluster): one user and password; a token or a
 * users list stops the start, as nats-server refuses them. The timeout defaults to the
 * server's AUTH_TIMEOUT, or the route TLS timeout + 1 s (getDefaultAuthTimeout).
 */
function resolveClusterAuth(value: unknown, path: string, tls: ResolvedTls | null): Pick<ResolvedClusterOptions, 'authorization' | 'authTimeoutMs'> {
  const defaultTimeoutMs = tls === null ? DEFAULTS.authTimeoutMs : tls.timeoutMs + 1000;
  if (value === undefined) return { authorization: null, authTimeoutMs: defaultTimeoutMs };
  const a = objectWithKeys(value, path, CLUSTER_AUTH_KEYS);
  if (a.users !== undefined) throw new ConfigError(child(path, 'users'), 'Cluster authorization does not allow multiple users');
  if (a.token !== undefined && a.token !== '') throw new ConfigError(child(path, 'token'), 'Cluster authorization does not support tokens');
  const user = optString(a.user, child(path, 'user'), '');
  const password = optString(a.password, child(path, 'password'), '');
  return {
    authorization: user === '' ? null : { user, password },
    authTimeoutMs: optDuration(a.timeout, child(path, 'timeout'), defaultTimeoutMs),
  };
}

/** The `cluster` block; its host defaults to the server's. */
export function resolveCluster(value: unknown, path: string, serverHost: string): ResolvedClusterOptions {
  const c = objectWithKeys(value, path, CLUSTER_KEYS);
  const port = optPort(c.port, child(path, 'port'));
  const name = c.name === undefined ? null : optString(c.name, child(path, 'name'), '');
  if (name !== null) checkName(name, child(path, 'name'));
  const routesValue = c.routes ?? [];
  if (!Array.isArray(routesValue)) throw new ConfigError(child(path, 'routes'), 'must be an array of route URLs');
  const routes = routesValue.map((r, i) => parseRouteUrl(r, `${child(path, 'routes')}[${i}]`));
  const tls = c.tls === undefined ? null : resolveTls(c.tls, child(path, 'tls'));
  return {
    name,
    host: optString(c.host, child(path, 'host'), serverHost),
    port,
    routes,
    noAdvertise: optBool(c.noAdvertise, child(path, 'noAdvertise'), false),
    connectRetries: optInt(c.connectRetries, child(path, 'connectRetries'), 0, 0, INT32_MAX),
    reconnectDelayMs: optDuration(c.reconnectDelay, child(path, 'reconnectDelay'), DEFAULTS.routeReconnectMs),
    tls,
    ...resolveClusterAuth(c.authorization, child(path, 'authorization'), tls),
  };
}

const GATEWAY_KEYS: ReadonlySet<string> = new Set([
  'name', 'host', 'port', 'advertise', 'authorization', 'rejectUnknown', 'connectRetries', 'reconnectDelay', 'gateways', 'tls',
]);
const REMOTE_GATEWAY_KEYS: ReadonlySet<string> = new Set(['name', 'url', 'urls', 'tls']);

/**
 * The `gateway` block (nats-server's validateGatewayOptions: a name without spaces, remote
 * gateways with names and URLs); its host defaults to the server's.
 */
export function resolveGateway(value: unknown, path: string, serverHost: string): ResolvedGatewayOptions {
  const g = objectWithKeys(value, path, GATEWAY_KEYS);
  const name = optString(g.name, child(path, 'name'), '');
  if (name === '') throw new ConfigError(child(path, 'name'), 'gateway has no name');
  if (/\s/.test(name)) throw new ConfigError(child(path, 'name'), `gateway name "${name}" cannot contain spaces`);
  const tls = g.tls === undefined ? null : resolveTls(g.tls, child(path, 'tls'));
  const remotesValue = g.gateways ?? [];
  if (!Array.isArray(remotesValue)) throw new ConfigError(child(path, 'gateways'), 'must be an array of remote gateways');
  const gateways = remotesValue.map((rv, i) => {
    const rp = `${child(path, 'gateways')}[${i}]`;
    const r = objectWithKeys(rv, rp, REMOTE_GATEWAY_KEYS);
    const rname = optString(r.name, child(rp, 'name'), '');
    if (rname === '') throw new ConfigError(child(rp, 'name'), 'gateway has no name');
    const list: unknown[] = [];
    if (r.url !== undefined) list.push(r.url);
    if (r.urls !== undefined) {
      if (!Array.isArray(r.urls)) throw new ConfigError(child(rp, 'urls'), 'must be an array of gateway URLs');
      list.push(...(r.urls as unknown[]));
    }
    if (list.length === 0) throw new ConfigError(rp, `gateway "${rname}" has no URL`);
    // gateway.go newGateway: a remote without its own TLS configuration uses the block's.
    const rtls = r.tls === undefined ? tls : resolveTls(r.tls, child(rp, 'tls'));
    return { name: rname, urls: list.map((u, j) => parseRouteUrl(u, `${child(rp, 'urls')}[${j}]`)), tls: rtls };
  });
  const advertise = g.advertise === undefined ? null : optString(g.advertise, child(path, 'advertise'), '');
  return {
    name,
    host: optString(g.host, child(path, 'host'), serverHost),
    port: optPort(g.port, child(path, 'port')),
    advertise: advertise === '' ? null : advertise,
    rejectUnknown: optBool(g.rejectUnknown, child(path, 'rejectUnknown'), false),
    connectRetries: optInt(g.connectRetries, child(path, 'connectRetries'), 0, 0, INT32_MAX),
    reconnectDelayMs: optDuration(g.reconnectDelay, child(path, 'reconnectDelay'), 1000),
    gateways,
    tls,
    ...resolveClusterAuth(g.authorization, child(path, 'authorization'), tls),
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
  // url.Parse refuses a malformed %-escape in the user info.
  const unescape = (v: string): string => {
    try {
      return decodeURIComponent(v);
    } catch {
      throw new ConfigError(option, `route URL "${value}" has an invalid escape in its user info`);
    }
  };
  return {
    url: `nats-route://${u.host}`,
    host,
    port,
    ...(u.username ? { user: unescape(u.username) } : {}),
    ...(u.password ? { pass: unescape(u.password) } : {}),
  };
}

const JETSTREAM_KEYS: ReadonlySet<string> = new Set(['enabled', 'storeDir', 'maxMemory', 'maxStore', 'domain', 'uniqueTag', 'clusterPeers', 'raftTiming', 'raftCompaction',
  'peerRemoveTimeout', 'sourceTiming']);
const RAFT_COMPACTION_KEYS: ReadonlySet<string> = new Set(['entries', 'bytes']);

/** nats-server's stream log compaction thresholds (jetstream_cluster.go: compactNumMin 65,536, compactSizeMin 8 MiB). */
export const RAFT_COMPACTION_DEFAULT = { entries: 65_536, bytes: 8 * 1024 * 1024 } as const;

function resolveRaftCompaction(value: unknown, path: string): ResolvedJetStream['raftCompaction'] {
  if (value === undefined) return RAFT_COMPACTION_DEFAULT;
  const c = objectWithKeys(value, path, RAFT_COMPACTION_KEYS);
  return {
    entries: optInt(c.entries, child(path, 'entries'), RAFT_COMPACTION_DEFAULT.entries, 1, Number.MAX_SAFE_INTEGER),
    bytes: optInt(c.bytes, child(path, 'bytes'), RAFT_COMPACTION_DEFAULT.bytes, 1, Number.MAX_SAFE_INTEGER),
  };
}
const RAFT_TIMING_KEYS: ReadonlySet<string> = new Set(['electionTimeoutMin', 'electionTimeoutMax', 'heartbeatInterval']);

/** nats-server's Raft timing (raft.go: minElectionTimeoutDefault 4 s, max 9 s, hbIntervalDefault 1 s). */
export const RAFT_TIMING_DEFAULT = { electionTimeoutMin: 4000, electionTimeoutMax: 9000, heartbeatInterval: 1000 } as const;

function resolveRaftTiming(value: unknown, path: string): ResolvedJetStream['raftTiming'] {
  if (value === undefined) return RAFT_TIMING_DEFAULT;
  const t = objectWithKeys(value, path, RAFT_TIMING_KEYS);
  const min = optInt(t.electionTimeoutMin, child(path, 'electionTimeoutMin'), RAFT_TIMING_DEFAULT.electionTimeoutMin, 10, 600_000);
  const max = optInt(t.electionTimeoutMax, child(path, 'electionTimeoutMax'), Math.max(min * 2, RAFT_TIMING_DEFAULT.electionTimeoutMax), 10, 600_000);
  if (max <= min) throw new ConfigError(child(path, 'electionTimeoutMax'), 'must be more than electionTimeoutMin');
  const hb = optInt(t.heartbeatInterval, child(path, 'heartbeatInterval'), Math.min(RAFT_TIMING_DEFAULT.heartbeatInterval, Math.floor(min / 3)), 1, 600_000);
  if (hb >= min) throw new ConfigError(child(path, 'heartbeatInterval'), 'must be less than electionTimeoutMin');
  return { electionTimeoutMin: min, electionTimeoutMax: max, heartbeatInterval: hb };
}

const SOURCE_TIMING_KEYS: ReadonlySet<string> = new Set(['healthCheckInterval', 'retryThreshold', 'retryBackoff', 'createTimeout']);

/**
 * nats-server 2.10's timers of mirrors and sources (stream.go: sourceHealthCheckInterval 10 s,
 * sourceConsumerRetryThreshold 2 s, retryBackOff 5 s, srcConsumerWaitTime 30 s).
 */
export const SOURCE_TIMING_DEFAULT: SourceTiming = { healthCheckInterval: 10_000, retryThreshold: 2_000, retryBackoff: 5_000, createTimeout: 30_000 };

function resolveSourceTiming(value: unknown, path: string): SourceTiming {
  if (value === undefined) return SOURCE_TIMING_DEFAULT;
  const t = objectWithKeys(value, path, SOURCE_TIMING_KEYS);
  const d = SOURCE_TIMING_DEFAULT;
  return {
    // Above the 1 s heartbeat of the origin's consumer, which counts as activity.
    healthCheckInterval: optInt(t.healthCheckInterval, child(path, 'healthCheckInterval'), d.healthCheckInterval, 2_000, 600_000),
    retryThreshold: optInt(t.retryThreshold, child(path, 'retryThreshold'), d.retryThreshold, 10, 600_000),
    retryBackoff: optInt(t.retryBackoff, child(path, 'retryBackoff'), d.retryBackoff, 1, 600_000),
    createTimeout: optInt(t.createTimeout, child(path, 'createTimeout'), d.createTimeout, 100, 600_000),
  };
}

function resolveClusterPeers(value: unknown, path: string): readonly string[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === '')) throw new ConfigError(path, 'must be an array of server names');
  const peers = [...new Set(value as string[])];
  return peers.length < 2 ? null : peers;
}

/** nats-server's default `max_file_store` (JetStreamMaxStoreDefault): 1 TiB. */
export const JETSTREAM_MAX_STORE_DEFAULT = 1024 ** 4;

/**
 * The `jetstream` option: `true`, `false`, or the block. nats-server's defaults: memory 75 % of
 * the system's (`JetStreamMaxMemory` unset → 75 % of `sysMem`), file 1 TiB.
 */
export function resolveJetStream(value: unknown, path: string): ResolvedJetStream | null {
  if (value === undefined || value === false) return null;
  const j = value === true ? {} : objectWithKeys(value, path, JETSTREAM_KEYS);
  if (!optBool(j.enabled, child(path, 'enabled'), true)) return null;
  const storeDir = optString(j.storeDir, child(path, 'storeDir'), undefined);
  if (storeDir === '') throw new ConfigError(child(path, 'storeDir'), 'must not be empty');
  const domain = optString(j.domain, child(path, 'domain'), undefined);
  if (domain !== undefined && (domain === '' || /[\s.*>]/.test(domain))) {
    throw new ConfigError(child(path, 'domain'), 'must be a name without spaces, dots or wildcards');
  }
  return {
    storeDir: storeDir ?? null,
    maxMemory: optInt(j.maxMemory, child(path, 'maxMemory'), Math.floor(totalmem() * 0.75), -1, Number.MAX_SAFE_INTEGER),
    maxStore: optInt(j.maxStore, child(path, 'maxStore'), JETSTREAM_MAX_STORE_DEFAULT, -1, Number.MAX_SAFE_INTEGER),
    domain: domain ?? null,
    uniqueTag: optString(j.uniqueTag, child(path, 'uniqueTag'), '')!.trim().toLowerCase(),
    clusterPeers: resolveClusterPeers(j.clusterPeers, child(path, 'clusterPeers')),
    raftTiming: resolveRaftTiming(j.raftTiming, child(path, 'raftTiming')),
    raftCompaction: resolveRaftCompaction(j.raftCompaction, child(path, 'raftCompaction')),
    peerRemoveTimeout: optDuration(j.peerRemoveTimeout, child(path, 'peerRemoveTimeout'), 5 * 60_000),
    sourceTiming: resolveSourceTiming(j.sourceTiming, child(path, 'sourceTiming')),
  };
}

/**
 * `serverTags`: a tag or a list of them, as nats-server's `server_tags` (jwt.TagList.Add): each
 * trimmed and in lower case, empty ones and repeats dropped.
 */
export function resolveServerTags(value: unknown, path: string): readonly string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((t) => typeof t !== 'string')) throw new ConfigError(path, 'must be a string or an array of strings');
  const out: string[] = [];
  for (const t of list as string[]) {
    const tag = t.trim().toLowerCase();
    if (tag !== '' && !out.includes(tag)) out.push(tag);
  }
  return out;
}
