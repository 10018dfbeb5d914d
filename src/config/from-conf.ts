/**
 * nats-server configuration keys → `createServer()` options. The CLI and the library share one
 * options model: every supported key maps onto a `ServerOptions` field. Keys nats-server knows
 * for features not built here are warned about and ignored, unless ignoring them would be
 * unsafe (authentication, TLS: those are errors). Keys nats-server does not know are errors.
 */
import { ConfigError } from '../errors.js';
import type {
  AuthorizationOptions, ClusterOptions, PermissionsOptions, ServerOptions, SubjectPermission, TlsOptions, UserOptions, WebSocketOptions,
} from '../server/options.js';
import type { ConfMap, ConfValue, ParsedConf } from './conf.js';

/** Settings that belong to the process (the CLI), not to the server. */
export interface ProcessSettings {
  pidFile?: string;
  portsFileDir?: string;
  logFile?: string;
  /** Timestamps on log lines (nats-server `logtime`, default true). */
  logtime?: boolean;
  debug?: boolean;
  trace?: boolean;
}

export interface ConfResult {
  options: ServerOptions;
  process: ProcessSettings;
  /** One line per ignored key, naming it. */
  warnings: string[];
}

/** nats-server keys for features this broker does not have: warned about, then ignored. */
const IGNORED = new Set([
  'leaf', 'leafnodes', 'mqtt', 'gateway', 'jetstream', 'store_dir', 'storedir',
  'server_tags', 'default_js_domain', 'mappings', 'maps', 'prof_port', 'prof_block_rate',
  'max_traced_msg_len', 'trace_verbose', 'logtime_utc', 'syslog', 'remote_syslog', 'logfile_size_limit',
  'log_size_limit', 'logfile_max_num', 'log_max_num', 'connect_error_reports', 'reconnect_error_reports',
  'disable_sublist_cache', 'no_sublist_cache', 'client_advertise', 'http_base_path', 'max_sub_tokens',
  'max_subscription_tokens', 'no_fast_producer_stall', 'max_closed_clients', 'ocsp_cache', 'system_account',
  'system', 'no_system_account', 'no_system', 'no_sys_acc',
]);

/** nats-server keys whose features matter for security: refusing to start beats ignoring them. */
const UNSAFE_TO_IGNORE = new Set([
  'ocsp', 'allow_non_tls', 'operator', 'operators', 'roots', 'root',
  'root_operators', 'root_operator', 'resolver', 'account_resolver', 'accounts_resolver', 'resolver_tls',
  'resolver_preload', 'resolver_pinned_accounts', 'trusted', 'trusted_keys', 'https',
  'https_port',
]);

/** `websocket` keys for features not built: ignoring them changes nothing a client relies on. */
const WEBSOCKET_IGNORED = new Set(['advertise', 'handshake_timeout']);
/** `websocket` keys that matter for security (TLS, websocket-only auth): refused. */
const WEBSOCKET_UNSAFE = new Set(['tls', 'authorization', 'authentication', 'jwt_cookie', 'no_auth_user']);

const CLUSTER_IGNORED = new Set(['pool_size', 'compression', 'cluster_advertise', 'advertise', 'ping_interval', 'ping_max', 'accounts']);
const CLUSTER_UNSAFE = new Set(['authorization', 'permissions']);

/** Maps a parsed config onto options. Throws {@link ConfigError} naming the key and its position. */
export function optionsFromConf(conf: ParsedConf): ConfResult {
  const out: ConfResult = { options: {}, process: {}, warnings: [] };
  const o = out.options;
  const at = (key: string): string => conf.positions.get(key) ?? key;
  const bad = (key: string, reason: string): never => {
    throw new ConfigError(key, `${at(key)}: ${key}: ${reason}`);
  };
  for (const [rawKey, v] of Object.entries(conf.values)) {
    const key = rawKey.toLowerCase();
    const where = rawKey;
    switch (key) {
      case 'listen': {
        const { host, port } = hostPort(v, () => bad(where, 'expected "host:port"'));
        if (host !== '') o.host = host;
        o.port = port;
        break;
      }
      case 'port': o.port = int(v, () => bad(where, 'expected an integer')); break;
      case 'host':
      case 'net': o.host = str(v, () => bad(where, 'expected a string')); break;
      case 'server_name': o.serverName = str(v, () => bad(where, 'expected a string')); break;
      case 'max_payload': o.maxPayload = int(v, () => bad(where, 'expected an integer')); break;
      case 'max_control_line': o.maxControlLine = int(v, () => bad(where, 'expected an integer')); break;
      case 'max_pending': o.maxPending = int(v, () => bad(where, 'expected an integer')); break;
      case 'max_connections':
      case 'max_conn': o.maxConnections = int(v, () => bad(where, 'expected an integer')); break;
      case 'max_subscriptions':
      case 'max_subs': o.maxSubscriptions = int(v, () => bad(where, 'expected an integer')); break;
      case 'ping_interval': o.pingInterval = duration(v, () => bad(where, 'expected a duration')); break;
      case 'ping_max': o.maxPingsOut = int(v, () => bad(where, 'expected an integer')); break;
      case 'write_deadline': o.writeDeadline = duration(v, () => bad(where, 'expected a duration')); break;
      case 'lame_duck_duration': o.lameDuckDuration = duration(v, () => bad(where, 'expected a duration string')); break;
      case 'lame_duck_grace_period': o.lameDuckGracePeriod = duration(v, () => bad(where, 'expected a duration string')); break;
      case 'no_header_support': o.noHeaderSupport = bool(v, () => bad(where, 'expected a boolean')); break;
      case 'debug': out.process.debug = bool(v, () => bad(where, 'expected a boolean')); break;
      case 'trace': out.process.trace = bool(v, () => bad(where, 'expected a boolean')); break;
      case 'logtime': out.process.logtime = bool(v, () => bad(where, 'expected a boolean')); break;
      case 'logfile':
      case 'log_file': out.process.logFile = str(v, () => bad(where, 'expected a path')); break;
      case 'pidfile':
      case 'pid_file': out.process.pidFile = str(v, () => bad(where, 'expected a path')); break;
      case 'ports_file_dir': out.process.portsFileDir = str(v, () => bad(where, 'expected a directory')); break;
      case 'http': {
        if (typeof v === 'number') o.http = v;
        else {
          const { host, port } = hostPort(v, () => bad(where, 'expected a port or "host:port"'));
          o.http = host === '' ? port : { host, port };
        }
        break;
      }
      case 'http_port':
      case 'monitor_port': o.http = int(v, () => bad(where, 'expected an integer')); break;
      case 'cluster': o.cluster = clusterFrom(v, where, conf, out.warnings, bad); break;
      case 'authorization': o.authorization = authorizationFrom(v, where, bad); break;
      case 'tls': o.tls = tlsFrom(v, where, bad); break;
      case 'websocket':
      case 'ws': o.websocket = websocketFrom(v, where, conf, out.warnings, bad); break;
      case 'no_auth_user': o.noAuthUser = str(v, () => bad(where, 'expected a user name')); break;
      case 'accounts': {
        if (!isMap(v)) return bad(where, 'expected a block of accounts');
        const accounts: Record<string, { users?: UserOptions[] }> = {};
        for (const [name, acc] of Object.entries(v)) {
          const path = `${where}.${name}`;
          if (!isMap(acc)) return bad(path, 'expected a block');
          accounts[name] = {};
          for (const [k, x] of Object.entries(acc)) {
            if (k.toLowerCase() !== 'users') bad(`${path}.${k}`, 'not supported by nats-embedded yet (imports, exports and limits)');
            if (!Array.isArray(x)) return bad(`${path}.${k}`, 'expected an array of users');
            accounts[name].users = x.map((u, i) => userFrom(u, `${path}.${k}[${i}]`, bad));
          }
        }
        o.accounts = accounts;
        break;
      }
      default:
        if (UNSAFE_TO_IGNORE.has(key)) bad(where, 'not supported by nats-embedded yet (refusing to start without it)');
        if (IGNORED.has(key)) {
          out.warnings.push(`${at(where)}: "${rawKey}" is not supported by nats-embedded yet; ignored`);
          break;
        }
        bad(where, 'unknown field');
    }
  }
  return out;
}

function clusterFrom(
  v: ConfValue,
  where: string,
  conf: ParsedConf,
  warnings: string[],
  bad: (key: string, reason: string) => never,
): ClusterOptions {
  if (!isMap(v)) return bad(where, 'expected a block');
  const c: ClusterOptions = {};
  for (const [rawKey, value] of Object.entries(v)) {
    const key = rawKey.toLowerCase();
    const path = `${where}.${rawKey}`;
    switch (key) {
      case 'name': c.name = str(value, () => bad(path, 'expected a string')); break;
      case 'listen': {
        const { host, port } = hostPort(value, () => bad(path, 'expected "host:port"'));
        if (host !== '') c.host = host;
        c.port = port;
        break;
      }
      case 'port': c.port = int(value, () => bad(path, 'expected an integer')); break;
      case 'host':
      case 'net': c.host = str(value, () => bad(path, 'expected a string')); break;
      case 'routes': {
        if (!Array.isArray(value)) return bad(path, 'expected an array of route URLs');
        c.routes = value.map((r) => str(r, () => bad(path, 'expected route URL strings')));
        break;
      }
      case 'no_advertise': c.noAdvertise = bool(value, () => bad(path, 'expected a boolean')); break;
      case 'connect_retries': c.connectRetries = int(value, () => bad(path, 'expected an integer')); break;
      case 'tls': c.tls = tlsFrom(value, path, bad); break;
      default:
        if (CLUSTER_UNSAFE.has(key)) bad(path, 'not supported by nats-embedded yet (refusing to start without it)');
        if (CLUSTER_IGNORED.has(key)) {
          warnings.push(`${conf.positions.get(path) ?? path}: "cluster.${rawKey}" is not supported by nats-embedded; ignored`);
          break;
        }
        bad(path, 'unknown field');
    }
  }
  return c;
}

/** `websocket { listen, port, host, no_tls, compression, same_origin, allowed_origins }` (also `ws`). */
function websocketFrom(
  v: ConfValue,
  where: string,
  conf: ParsedConf,
  warnings: string[],
  bad: (key: string, reason: string) => never,
): WebSocketOptions {
  if (!isMap(v)) return bad(where, 'expected a block');
  const w: WebSocketOptions = {};
  for (const [rawKey, value] of Object.entries(v)) {
    const key = rawKey.toLowerCase();
    const path = `${where}.${rawKey}`;
    switch (key) {
      case 'listen': {
        const { host, port } = hostPort(value, () => bad(path, 'expected "host:port"'));
        if (host !== '') w.host = host;
        w.port = port;
        break;
      }
      case 'port': w.port = int(value, () => bad(path, 'expected an integer')); break;
      case 'host':
      case 'net': w.host = str(value, () => bad(path, 'expected a string')); break;
      case 'no_tls': w.noTls = bool(value, () => bad(path, 'expected a boolean')); break;
      case 'compress':
      case 'compression': w.compression = bool(value, () => bad(path, 'expected a boolean')); break;
      case 'same_origin': w.sameOrigin = bool(value, () => bad(path, 'expected a boolean')); break;
      case 'allowed_origins':
      case 'allowed_origin':
      case 'allow_origins':
      case 'allow_origin':
      case 'origins':
      case 'origin':
        w.allowedOrigins = (Array.isArray(value) ? value : [value]).map((x) => str(x, () => bad(path, 'expected origin strings')));
        break;
      default:
        if (WEBSOCKET_UNSAFE.has(key)) bad(path, 'not supported by nats-embedded yet (refusing to start without it)');
        if (WEBSOCKET_IGNORED.has(key)) {
          warnings.push(`${conf.positions.get(path) ?? path}: "${where}.${rawKey}" is not supported by nats-embedded; ignored`);
          break;
        }
        bad(path, 'unknown field');
    }
  }
  return w;
}

function authorizationFrom(v: ConfValue, where: string, bad: (key: string, reason: string) => never): AuthorizationOptions {
  if (!isMap(v)) return bad(where, 'expected a block');
  const a: AuthorizationOptions = {};
  for (const [rawKey, value] of Object.entries(v)) {
    const key = rawKey.toLowerCase();
    const path = `${where}.${rawKey}`;
    switch (key) {
      case 'user':
      case 'username': a.user = str(value, () => bad(path, 'expected a string')); break;
      case 'password':
      case 'pass': a.password = str(value, () => bad(path, 'expected a string')); break;
      case 'token': a.token = str(value, () => bad(path, 'expected a string')); break;
      case 'timeout':
        // nats-server: seconds (a number, fractions allowed) or a duration string.
        if (typeof value === 'number') a.timeout = value * 1000;
        else a.timeout = str(value, () => bad(path, 'expected seconds or a duration'));
        break;
      case 'users': {
        if (!Array.isArray(value)) return bad(path, 'expected an array of users');
        a.users = value.map((u, i) => userFrom(u, `${path}[${i}]`, bad));
        break;
      }
      case 'default_permissions':
      case 'permissions': a.defaultPermissions = permissionsFrom(value, path, bad); break;
      default: bad(path, 'unknown field');
    }
  }
  return a;
}

function userFrom(v: ConfValue, where: string, bad: (key: string, reason: string) => never): UserOptions {
  if (!isMap(v)) return bad(where, 'expected a block');
  const u: UserOptions = {};
  for (const [rawKey, value] of Object.entries(v)) {
    const key = rawKey.toLowerCase();
    const path = `${where}.${rawKey}`;
    switch (key) {
      case 'user':
      case 'username': u.user = str(value, () => bad(path, 'expected a string')); break;
      case 'password':
      case 'pass': u.password = str(value, () => bad(path, 'expected a string')); break;
      case 'nkey': u.nkey = str(value, () => bad(path, 'expected a public nkey')); break;
      case 'permissions': u.permissions = permissionsFrom(value, path, bad); break;
      default: bad(path, 'unknown field');
    }
  }
  return u;
}

function permissionsFrom(v: ConfValue, where: string, bad: (key: string, reason: string) => never): PermissionsOptions {
  if (!isMap(v)) return bad(where, 'expected a block');
  const p: PermissionsOptions = {};
  const subjects = (value: ConfValue, path: string): SubjectPermission => {
    if (typeof value === 'string') return value;
    const list = (x: ConfValue, at: string): string[] =>
      typeof x === 'string' ? [x] : Array.isArray(x) ? x.map((s) => str(s, () => bad(at, 'expected subjects'))) : bad(at, 'expected subjects');
    if (Array.isArray(value)) return list(value, path);
    if (isMap(value)) {
      const out: { allow?: string[]; deny?: string[] } = {};
      for (const [k, x] of Object.entries(value)) {
        const lk = k.toLowerCase();
        if (lk === 'allow') out.allow = list(x, `${path}.${k}`);
        else if (lk === 'deny') out.deny = list(x, `${path}.${k}`);
        else bad(`${path}.${k}`, 'unknown field (allow or deny)');
      }
      return out;
    }
    return bad(path, 'expected subjects');
  };
  for (const [rawKey, value] of Object.entries(v)) {
    const key = rawKey.toLowerCase();
    const path = `${where}.${rawKey}`;
    switch (key) {
      case 'publish':
      case 'pub': p.publish = subjects(value, path); break;
      case 'subscribe':
      case 'sub': p.subscribe = subjects(value, path); break;
      case 'allow_responses': {
        if (typeof value === 'boolean') p.allowResponses = value;
        else if (isMap(value)) {
          const r: { max?: number; expires?: number | string } = {};
          for (const [k, x] of Object.entries(value)) {
            const lk = k.toLowerCase();
            if (lk === 'max' || lk === 'max_msgs' || lk === 'max_messages') r.max = int(x, () => bad(`${path}.${k}`, 'expected an integer'));
            else if (lk === 'expires' || lk === 'ttl') r.expires = duration(x, () => bad(`${path}.${k}`, 'expected a duration'));
            else bad(`${path}.${k}`, 'unknown field');
          }
          p.allowResponses = r;
        } else bad(path, 'expected true or { max, expires }');
        break;
      }
      default: bad(path, 'unknown field');
    }
  }
  return p;
}

/** `tls { cert_file, key_file, ca_file, verify, timeout }` (timeout in seconds or a duration). */
function tlsFrom(v: ConfValue, where: string, bad: (key: string, reason: string) => never): TlsOptions {
  if (!isMap(v)) return bad(where, 'expected a block');
  let cert: string | undefined;
  let key: string | undefined;
  const t: Partial<TlsOptions> = {};
  for (const [rawKey, value] of Object.entries(v)) {
    const k = rawKey.toLowerCase();
    const path = `${where}.${rawKey}`;
    switch (k) {
      case 'cert_file': cert = str(value, () => bad(path, 'expected a path')); break;
      case 'key_file': key = str(value, () => bad(path, 'expected a path')); break;
      case 'ca_file': t.ca = str(value, () => bad(path, 'expected a path')); break;
      case 'verify': t.verify = bool(value, () => bad(path, 'expected a boolean')); break;
      case 'timeout':
        if (typeof value === 'number') t.timeout = value * 1000;
        else t.timeout = str(value, () => bad(path, 'expected seconds or a duration'));
        break;
      default: bad(path, 'not supported by nats-embedded yet');
    }
  }
  if (cert === undefined || key === undefined) return bad(where, 'needs cert_file and key_file');
  return { ...t, cert, key };
}

function isMap(v: ConfValue): v is ConfMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function int(v: ConfValue, fail: () => never): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  return fail();
}

function str(v: ConfValue, fail: () => never): string {
  if (typeof v === 'string') return v;
  return fail();
}

function bool(v: ConfValue, fail: () => never): boolean {
  if (typeof v === 'boolean') return v;
  return fail();
}

/** nats-server durations: a Go duration string, or (for compatibility) a number of seconds. */
function duration(v: ConfValue, fail: () => never): number | string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return v * 1000;
  return fail();
}

/** `"host:port"`, `":port"` or a bare port; `-1` means random. */
function hostPort(v: ConfValue, fail: () => never): { host: string; port: number } {
  if (typeof v === 'number' && Number.isInteger(v)) return { host: '', port: v };
  if (typeof v !== 'string') return fail();
  const m = /^(?:\[?([^\]]*?)\]?:)?(-?\d+)$/.exec(v);
  if (m === null) return fail();
  return { host: m[1] ?? '', port: Number(m[2]) };
}
