/**
 * nats-server configuration keys → `createServer()` options. The CLI and the library share one
 * options model: every supported key maps onto a `ServerOptions` field.
 *
 * The keys, their aliases and what nats-server does with them follow `server/opts.go` of
 * nats-server v2.10.29 (processConfigFileLine, parseCluster, parseAuthorization, parseUsers,
 * parseUserPermissions, parseVariablePermissions, parseSubjectPermission, parseAllowResponses,
 * parseTLS, parseWebsocket, parseSimpleAuth, parseAccounts). As there, keys match whatever their
 * case. Every key nats-server knows is, here, one of:
 *
 * - mapped onto an option (its aliases onto the same one);
 * - ignored with a warning, for a feature not built here whose absence a client cannot be
 *   harmed by (leaf nodes, syslog, ...);
 * - refused ("not supported by nats-embedded yet"), when ignoring it would be unsafe
 *   (authentication, TLS) or would leave a client with a server that is not what it asked for.
 *
 * A key nats-server does not know is refused as an unknown field, unless a `$variable`
 * reference used it (nats-server lets such keys be: they are the file's variables).
 *
 * Errors are a {@link ConfigError} whose `option` is the key's path (`authorization.users[0].pass`)
 * and whose message gives the file position once, in nats-server's words where it has some:
 * `Invalid option "a.b": file.conf:3:5: unknown field "b"`.
 */
import { ConfigError } from '../errors.js';
import type {
  AccountExport, AccountImport, AccountJetStreamLimits, AuthorizationOptions, ClusterAuthorizationOptions, ClusterOptions, GatewayOptions, RemoteGatewayOptions, JetStreamOptions, PermissionsOptions, ServerOptions, SubjectPermission, TlsOptions,
  UserOptions, WebSocketAuthorizationOptions, WebSocketOptions, DirResolverOptions,
  LeafNodeAuthorizationOptions, LeafNodeOptions, LeafNodeRemoteOptions, LeafNodeRemoteTlsOptions, LeafNodeTlsOptions,
} from './types.js';
import type { ConfMap, ConfValue, ParsedConf } from './conf.js';
import { parseDuration } from './duration.js';
import { OPTION_ROWS, type ConfRead, type OwnConfKey, type ProcessOption } from './table.js';
import { accountExports, accountImports, goType, isMap } from './from-conf-links.js';

/** Settings that belong to the process (the CLI), not to the server. */
export interface ProcessSettings {
  pidFile?: string;
  portsFileDir?: string;
  logFile?: string;
  /** Timestamps on log lines (nats-server `logtime`, default true). */
  logtime?: boolean;
  /** Timestamps in UTC instead of local time (nats-server `logtime_utc`). */
  logtimeUtc?: boolean;
  debug?: boolean;
  trace?: boolean;
}

export interface ConfResult {
  options: ServerOptions;
  process: ProcessSettings;
  /** One line per ignored key (naming it, with its position), and nats-server's own warnings. */
  warnings: string[];
}

// ---- The reader: positions, errors, warnings, value types ------------------------------------

/** What a key does: applies its value to the target being built. */
type Apply<T> = (r: Reader, value: ConfValue, path: string, target: T) => void;

/**
 * One block's keys (`authorization { ... }`, the top level, ...): each entry lists a key with its
 * aliases, lower case. `ignored` keys are warned about, `refused` keys stop the start.
 */
interface Block<T> {
  readonly keys: ReadonlyArray<readonly [names: readonly string[], apply: Apply<T>]>;
  readonly ignored?: readonly string[];
  readonly refused?: readonly string[];
}

const IGNORE = 'ignore';
const REFUSE = 'refuse';
type Entry<T> = Apply<T> | typeof IGNORE | typeof REFUSE;

/** A block's keys as one lookup table, built once per block. */
function table<T>(block: Block<T>): ReadonlyMap<string, Entry<T>> {
  const m = new Map<string, Entry<T>>();
  for (const [names, apply] of block.keys) for (const n of names) m.set(n, apply);
  for (const n of block.ignored ?? []) m.set(n, IGNORE);
  for (const n of block.refused ?? []) m.set(n, REFUSE);
  return m;
}

class Reader {
  readonly warnings: string[] = [];

  constructor(private readonly conf: ParsedConf) {}

  /** `a.b[0].c` → the parser's path `a.b.0.c`. */
  private static confPath(path: string): string {
    return path.replace(/\[(\d+)\]/g, '.$1');
  }

  /** "file:line:col: " of a key, or nothing when it is not known (flags, defaults). */
  private at(path: string): string {
    const pos = this.conf.positions.get(Reader.confPath(path));
    return pos === undefined ? '' : `${pos}: `;
  }

  fail(path: string, reason: string): never {
    throw new ConfigError(path, `${this.at(path)}${reason}`);
  }

  warn(path: string, message: string): void {
    this.warnings.push(`${this.at(path)}${message}`);
  }

  /** Applies each key of a block, as nats-server's parse functions do. */
  block<T>(value: ConfValue, path: string, keys: ReadonlyMap<string, Entry<T>>, target: T): T {
    const map = this.map(value, path);
    for (const [rawKey, v] of Object.entries(map)) {
      const p = path === '' ? rawKey : `${path}.${rawKey}`;
      const entry = keys.get(rawKey.toLowerCase());
      if (entry === undefined) {
        // A key that only serves as a variable (`TOKEN: x` ... `token: $TOKEN`) is not an error.
        if (this.isUsedVariable(p)) continue;
        this.fail(p, `unknown field "${rawKey}"`);
      }
      if (entry === IGNORE) this.warn(p, `"${p}" is not supported by nats-embedded yet; ignored`);
      else if (entry === REFUSE) this.fail(p, 'not supported by nats-embedded yet (refusing to start without it)');
      else entry(this, v, p, target);
    }
    return target;
  }

  isUsedVariable(path: string): boolean {
    return this.conf.usedVariables.has(Reader.confPath(path));
  }

  map(v: ConfValue, path: string): ConfMap {
    return isMap(v) ? v : this.fail(path, 'expected a block');
  }

  int(v: ConfValue, path: string): number {
    return typeof v === 'number' && Number.isInteger(v) ? v : this.fail(path, 'expected an integer');
  }

  str(v: ConfValue, path: string, what = 'a string'): string {
    return typeof v === 'string' ? v : this.fail(path, `expected ${what}`);
  }

  bool(v: ConfValue, path: string): boolean {
    return typeof v === 'boolean' ? v : this.fail(path, 'expected a boolean');
  }

  /** One string or an array of them (nats-server's parseStringArray). */
  strings(v: ConfValue, path: string, what: string): string[] {
    if (typeof v === 'string') return [v];
    if (Array.isArray(v)) return v.map((x) => this.str(x, path, what));
    return this.fail(path, `expected ${what}`);
  }

  /**
   * nats-server's parseDuration (ping_interval, write_deadline): a Go duration string, or, for
   * compatibility, a number of seconds, with nats-server's warning.
   */
  duration(v: ConfValue, path: string, field: string): number | string {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isInteger(v)) {
      this.warn(path, `invalid use of field "${field}": ${field} should be converted to a duration`);
      return v * 1000;
    }
    return this.fail(path, 'expected a duration');
  }

  /** Milliseconds of a Go duration string; an invalid one fails with the key's position. */
  goDuration(text: string, path: string): number {
    try {
      return parseDuration(text, path);
    } catch (err) {
      return this.fail(path, err instanceof ConfigError ? err.message.replace(/^Invalid option "[^"]*": /, '') : String(err));
    }
  }

  /** `"host:port"`, `":port"` or a bare port (nats-server's parseListen); `-1` means random. */
  hostPort(v: ConfValue, path: string): { host: string; port: number } {
    if (typeof v === 'number' && Number.isInteger(v)) return { host: '', port: v };
    const m = typeof v === 'string' ? /^(?:\[?([^\]]*?)\]?:)?(-?\d+)$/.exec(v) : null;
    if (m === null) return this.fail(path, 'expected a port or "host:port"');
    return { host: m[1] ?? '', port: Number(m[2]) };
  }
}

/** An `authorization { timeout }` (also websocket's): seconds, fractions allowed. */
function authTimeout(r: Reader, v: ConfValue, path: string): number {
  if (typeof v === 'number') return v * 1000;
  // nats-server reads only numbers here; anything else leaves its default of 1 second, silently.
  r.warn(path, `"${path}" must be a number of seconds; nats-server takes ${JSON.stringify(v)} as 1 second, and so does nats-embedded`);
  return 1000;
}

// ---- Permissions -----------------------------------------------------------------------------

/** `{ allow, deny }` (parseSubjectPermission), or subjects as one string or a list (the old style). */
function subjectPermission(r: Reader, v: ConfValue, path: string): SubjectPermission {
  const subjects = (x: ConfValue, p: string): string[] => r.strings(x, p, 'a subject or an array of subjects');
  if (!isMap(v)) return typeof v === 'string' ? v : subjects(v, path);
  const out: { allow?: string[]; deny?: string[] } = {};
  r.block(v, path, SUBJECT_PERMISSION, out);
  return out;
}

const SUBJECT_PERMISSION = table<{ allow?: string[]; deny?: string[] }>({
  keys: [
    [['allow'], (r, v, p, o) => void (o.allow = r.strings(v, p, 'a subject or an array of subjects'))],
    [['deny'], (r, v, p, o) => void (o.deny = r.strings(v, p, 'a subject or an array of subjects'))],
  ],
});

type ResponsePermission = { max?: number; expires?: number | string };

const ALLOW_RESPONSES = table<ResponsePermission>({
  keys: [
    // 0 means nats-server's default (1 message, 2 minutes): leave it to the default here too.
    [['max', 'max_msgs', 'max_messages', 'max_responses'], (r, v, p, o) => {
      const n = r.int(v, p);
      if (n !== 0) o.max = n;
    }],
    [['expires', 'expiration', 'ttl'], (r, v, p, o) => {
      // A duration string only: nats-server refuses a number here.
      const d = r.str(v, p, 'a duration string');
      if (r.goDuration(d, p) !== 0) o.expires = d;
    }],
  ],
});

const PERMISSIONS = table<PermissionsOptions>({
  keys: [
    // For routes, nats-server reads import as publish and export as subscribe; the keys are
    // accepted in any permissions block.
    [['publish', 'pub', 'import'], (r, v, p, o) => void (o.publish = subjectPermission(r, v, p))],
    [['subscribe', 'sub', 'export'], (r, v, p, o) => void (o.subscribe = subjectPermission(r, v, p))],
    [['allow_responses', 'publish_allow_responses'], (r, v, p, o) => {
      if (typeof v === 'boolean') o.allowResponses = v;
      else if (isMap(v)) o.allowResponses = r.block(v, p, ALLOW_RESPONSES, {});
      else r.fail(p, 'expected a boolean or a map { max, expires }');
    }],
  ],
});

function permissions(r: Reader, v: ConfValue, path: string): PermissionsOptions {
  return r.block(v, path, PERMISSIONS, {});
}

// ---- Users, authorization, accounts -----------------------------------------------------------

const USER = table<UserOptions>({
  keys: [
    [['user', 'username'], (r, v, p, u) => void (u.user = r.str(v, p))],
    [['password', 'pass'], (r, v, p, u) => void (u.password = r.str(v, p))],
    [['nkey'], (r, v, p, u) => void (u.nkey = r.str(v, p, 'a public nkey'))],
    [['permissions', 'permission', 'authorization'], (r, v, p, u) => void (u.permissions = permissions(r, v, p))],
  ],
  // Restricts the kinds of connection (websocket, leaf node, ...) the user may make: ignoring
  // it would let the user in where the file says no.
  refused: ['allowed_connection_types', 'connection_types', 'clients'],
});

function users(r: Reader, v: ConfValue, path: string): UserOptions[] {
  if (!Array.isArray(v)) return r.fail(path, 'expected an array of users');
  return v.map((u, i) => r.block(u, `${path}[${i}]`, USER, {}));
}

const AUTHORIZATION = table<AuthorizationOptions>({
  keys: [
    [['user', 'username'], (r, v, p, a) => void (a.user = r.str(v, p))],
    [['password', 'pass'], (r, v, p, a) => void (a.password = r.str(v, p))],
    [['token'], (r, v, p, a) => void (a.token = r.str(v, p))],
    [['timeout'], (r, v, p, a) => void (a.timeout = authTimeout(r, v, p))],
    [['users'], (r, v, p, a) => void (a.users = users(r, v, p))],
    [['permissions', 'default_permissions', 'default_permission'], (r, v, p, a) => void (a.defaultPermissions = permissions(r, v, p))],
  ],
  refused: ['auth_callout', 'auth_hook'],
});

type Accounts = NonNullable<ServerOptions['accounts']>;
type AccountDraft = {
  users?: UserOptions[];
  defaultPermissions?: PermissionsOptions;
  jetstream?: boolean | AccountJetStreamLimits;
  exports?: AccountExport[];
  imports?: AccountImport[];
};

const ACCOUNT = table<AccountDraft>({
  keys: [
    [['users'], (r, v, p, a) => void (a.users = users(r, v, p))],
    [['default_permissions'], (r, v, p, a) => void (a.defaultPermissions = permissions(r, v, p))],
    [['jetstream'], (r, v, p, a) => void (a.jetstream = accountJetStream(r, v, p))],
    [['exports'], (r, v, p, a) => void (a.exports = accountExports(r, v, p))],
    [['imports'], (r, v, p, a) => void (a.imports = accountImports(r, v, p))],
  ],
  // An account's public key matters to JWT/operator setups only; the others are features that
  // are ignored at the top level too.
  ignored: ['nkey', 'mappings', 'maps'],
  refused: ['limits'],
});

/** Go's `%v` of a config value. */
function goValue(v: ConfValue): string {
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goValue(v[k])}`).join(' ')}]`;
  return String(v);
}

/** An account's JetStream limits by config key (parseJetStreamForAccount: key, aliases, int64 or bool). */
const ACCOUNT_JS_LIMITS: ReadonlyArray<readonly [readonly string[], keyof AccountJetStreamLimits]> = [
  [['max_memory', 'max_mem', 'mem', 'memory'], 'maxMemory'],
  [['max_store', 'max_file', 'max_disk', 'store', 'disk'], 'maxStore'],
  [['max_streams', 'streams'], 'maxStreams'],
  [['max_consumers', 'consumers'], 'maxConsumers'],
  [['max_bytes_required', 'max_stream_bytes', 'max_bytes'], 'maxBytesRequired'],
  [['mem_max_stream_bytes', 'memory_max_stream_bytes'], 'memoryMaxStreamBytes'],
  [['disk_max_stream_bytes', 'store_max_stream_bytes'], 'storeMaxStreamBytes'],
  [['max_ack_pending'], 'maxAckPending'],
];
const ACCOUNT_JS_KEY: ReadonlyMap<string, keyof AccountJetStreamLimits> = new Map(
  ACCOUNT_JS_LIMITS.flatMap(([keys, field]) => keys.map((k) => [k, field] as const)),
);

/**
 * An account's `jetstream` (nats-server's parseJetStreamForAccount): a boolean, `enabled` /
 * `disabled`, or the limits (which turn it on; sizes are plain integers there, `1G` in quotes
 * is refused). Errors in nats-server's words.
 */
function accountJetStream(r: Reader, v: ConfValue, path: string): boolean | AccountJetStreamLimits {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const word = v.toLowerCase();
    if (word === 'enabled' || word === 'enable') return true;
    if (word === 'disabled' || word === 'disable') return false;
    return r.fail(path, `Expected 'enabled' or 'disabled' for string value, got '${v}'`);
  }
  if (!isMap(v)) return r.fail(path, `Expected map, bool or string to define JetStream, got ${goType(v)}`);
  const limits: AccountJetStreamLimits = {};
  for (const [key, value] of Object.entries(v)) {
    const p = `${path}.${key}`;
    const field = ACCOUNT_JS_KEY.get(key.toLowerCase());
    if (field === undefined) {
      if (r.isUsedVariable(p)) continue;
      r.fail(p, `unknown field "${key}"`);
    } else if (field === 'maxBytesRequired') {
      if (typeof value !== 'boolean') r.fail(p, `Expected a parseable bool for "${key}", got ${goValue(value)}`);
      limits.maxBytesRequired = value;
    } else {
      if (typeof value !== 'number' || !Number.isInteger(value)) r.fail(p, `Expected a parseable size for "${key}", got ${goValue(value)}`);
      limits[field] = value;
    }
  }
  return limits;
}

/** `accounts { A: { users: [...] } }`, or `accounts: [A, B]` (names only). */
function accounts(r: Reader, v: ConfValue, path: string): Accounts {
  const out: Accounts = {};
  if (Array.isArray(v)) {
    v.forEach((name, i) => void (out[r.str(name, `${path}[${i}]`, 'an account name')] = {}));
    return out;
  }
  for (const [name, acc] of Object.entries(r.map(v, path))) {
    const p = `${path}.${name}`;
    // nats-server skips entries of the block that serve as variables.
    if (r.isUsedVariable(p)) continue;
    if (!isMap(acc)) r.fail(p, 'expected a block (an account)');
    const draft = r.block<AccountDraft>(acc, p, ACCOUNT, {});
    // The account's default_permissions go to its users that have none (applyDefaultPermissions).
    const list = draft.users?.map((u) => (u.permissions === undefined && draft.defaultPermissions !== undefined ? { ...u, permissions: draft.defaultPermissions } : u));
    out[name] = {
      ...(list === undefined ? {} : { users: list }),
      ...(draft.jetstream === undefined ? {} : { jetstream: draft.jetstream }),
      ...(draft.exports === undefined ? {} : { exports: draft.exports }),
      ...(draft.imports === undefined ? {} : { imports: draft.imports }),
    };
  }
  return out;
}

// ---- TLS, cluster, websocket ----------------------------------------------------------------

type TlsDraft = Partial<TlsOptions>;

const TLS = table<TlsDraft>({
  keys: [
    [['cert_file'], (r, v, p, t) => void (t.cert = r.str(v, p, 'a file name'))],
    [['key_file'], (r, v, p, t) => void (t.key = r.str(v, p, 'a file name'))],
    [['ca_file'], (r, v, p, t) => void (t.ca = r.str(v, p, 'a file name'))],
    [['verify'], (r, v, p, t) => void (t.verify = r.bool(v, p))],
    // opts.go parseTLS: `verify_and_map: true` turns on verify as well; false clears only the mapping.
    [['verify_and_map'], (r, v, p, t) => {
      const on = r.bool(v, p);
      if (on) t.verify = true;
      t.verifyAndMap = on;
    }],
    // Seconds (fractions allowed) or a duration string.
    [['timeout'], (r, v, p, t) => void (t.timeout = typeof v === 'number' ? v * 1000 : r.str(v, p, 'seconds or a duration'))],
  ],
  // `insecure` only skips verifying the certificates of servers this one dials: without it,
  // they are verified. A connection rate limit only protects against floods.
  ignored: ['insecure', 'connection_rate_limit'],
  refused: [
    'verify_cert_and_check_known_urls', 'cipher_suites', 'curve_preferences', 'min_version',
    'pinned_certs', 'cert_store', 'cert_match_by', 'cert_match', 'cert_match_skip_invalid', 'ca_certs_match',
    'handshake_first', 'first', 'immediate', 'ocsp_peer', 'certs', 'certificates',
  ],
});

/**
 * opts.go parseTLS's `handshake_first` (aliases `first`, `immediate`): a boolean, or "true"/"on",
 * "false"/"off"; "auto" or a duration mean true with a fallback delay, which only client
 * connections use (a leaf connection's handshake is first or not).
 */
function handshakeFirst(r: Reader, v: ConfValue, path: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return r.fail(path, `field "handshake_first" should be a boolean or a string, got ${typeof v}`);
  const s = v.toLowerCase();
  if (s === 'true' || s === 'on' || s === 'auto' || s === 'auto_fallback') return true;
  if (s === 'false' || s === 'off') return false;
  try {
    parseDuration(v, path);
    return true;
  } catch {
    return r.fail(path, `field "handshake_first"'s value "${v}" is invalid`);
  }
}

/** `leafnodes { tls }`: the TLS block with `handshake_first` (nats-server 2.10). */
const LEAF_TLS = new Map<string, Entry<Partial<LeafNodeTlsOptions>>>([
  ...TLS,
  ['handshake_first', (r, v, p, t) => void (t.handshakeFirst = handshakeFirst(r, v, p))],
  ['first', (r, v, p, t) => void (t.handshakeFirst = handshakeFirst(r, v, p))],
  ['immediate', (r, v, p, t) => void (t.handshakeFirst = handshakeFirst(r, v, p))],
]);

/** A remote's `tls` block: a client's (no certificate needed; `insecure` skips verifying the hub; `verify` means nothing there). */
const LEAF_REMOTE_TLS = new Map<string, Entry<LeafNodeRemoteTlsOptions>>([
  ...[...LEAF_TLS].filter(([k]) => k !== 'verify' && k !== 'verify_and_map'),
  ['verify', IGNORE],
  ['verify_and_map', IGNORE],
  ['insecure', (r, v, p, t) => void (t.insecure = r.bool(v, p))],
]);

function tls(r: Reader, v: ConfValue, path: string): TlsOptions {
  const { cert, key, ...rest } = r.block<TlsDraft>(v, path, TLS, {});
  if (cert === undefined || key === undefined) return r.fail(path, 'needs cert_file and key_file');
  return { ...rest, cert, key };
}

const CLUSTER = table<ClusterOptions>({
  keys: [
    [['name'], (r, v, p, c) => void (c.name = r.str(v, p))],
    [['listen'], (r, v, p, c) => {
      const { host, port } = r.hostPort(v, p);
      if (host !== '') c.host = host;
      c.port = port;
    }],
    [['port'], (r, v, p, c) => void (c.port = r.int(v, p))],
    [['host', 'net'], (r, v, p, c) => void (c.host = r.str(v, p))],
    [['routes'], (r, v, p, c) => {
      if (!Array.isArray(v)) return r.fail(p, 'expected an array of route URLs');
      c.routes = v.map((x) => r.str(x, p, 'route URL strings'));
    }],
    [['no_advertise'], (r, v, p, c) => void (c.noAdvertise = r.bool(v, p))],
    [['connect_retries'], (r, v, p, c) => void (c.connectRetries = r.int(v, p))],
    [['tls'], (r, v, p, c) => void (c.tls = tls(r, v, p))],
    [['authorization'], (r, v, p, c) => void (c.authorization = clusterAuthorization(r, v, p))],
  ],
  ignored: ['cluster_advertise', 'advertise', 'pool_size', 'compression', 'ping_interval', 'ping_max', 'accounts'],
  // Route permissions: ignoring them would let routes import and export everything.
  refused: ['permissions'],
});

/** One entry of `gateway { gateways: [...] }` (opts.go parseGateways: name, url, urls, tls). */
const REMOTE_GATEWAY = table<Partial<RemoteGatewayOptions>>({
  keys: [
    [['name'], (r, v, p, g) => void (g.name = r.str(v, p))],
    [['url'], (r, v, p, g) => void (g.url = r.str(v, p, 'a gateway URL'))],
    [['urls'], (r, v, p, g) => {
      if (!Array.isArray(v)) return r.fail(p, 'expected an array of gateway URLs');
      g.urls = v.map((x) => r.str(x, p, 'gateway URL strings'));
    }],
    [['tls'], (r, v, p, g) => void (g.tls = tls(r, v, p))],
  ],
  ignored: [],
});

/** The `gateway` block (opts.go parseGateway). */
const GATEWAY = table<Partial<GatewayOptions>>({
  keys: [
    [['name'], (r, v, p, g) => void (g.name = r.str(v, p))],
    [['listen'], (r, v, p, g) => {
      const { host, port } = r.hostPort(v, p);
      if (host !== '') g.host = host;
      g.port = port;
    }],
    [['port'], (r, v, p, g) => void (g.port = r.int(v, p))],
    [['host', 'net'], (r, v, p, g) => void (g.host = r.str(v, p))],
    [['advertise'], (r, v, p, g) => void (g.advertise = r.str(v, p))],
    [['connect_retries'], (r, v, p, g) => void (g.connectRetries = r.int(v, p))],
    [['reject_unknown', 'reject_unknown_cluster'], (r, v, p, g) => void (g.rejectUnknown = r.bool(v, p))],
    [['authorization'], (r, v, p, g) => void (g.authorization = clusterAuthorization(r, v, p))],
    [['gateways'], (r, v, p, g) => {
      if (!Array.isArray(v)) return r.fail(p, 'expected an array of gateways');
      g.gateways = v.map((x, i) => r.block<Partial<RemoteGatewayOptions>>(x, `${p}[${i}]`, REMOTE_GATEWAY, {}) as RemoteGatewayOptions);
    }],
    [['tls'], (r, v, p, g) => void (g.tls = tls(r, v, p))],
  ],
  ignored: [],
});

/** `cluster { authorization }`: nats-server's parseCluster refuses users lists and tokens. */
function clusterAuthorization(r: Reader, v: ConfValue, path: string): ClusterAuthorizationOptions {
  const a = r.block<AuthorizationOptions>(v, path, AUTHORIZATION, {});
  if (a.users !== undefined) return r.fail(path, 'Cluster authorization does not allow multiple users');
  if (a.token !== undefined && a.token !== '') return r.fail(path, 'Cluster authorization does not support tokens');
  if (a.defaultPermissions !== undefined) {
    // nats-server takes them as the (deprecated) route permissions, which are not supported yet.
    return r.fail(`${path}.permissions`, 'not supported by nats-embedded yet (refusing to start without it)');
  }
  const out: ClusterAuthorizationOptions = {};
  if (a.user !== undefined) out.user = a.user;
  if (a.password !== undefined) out.password = a.password;
  if (a.timeout !== undefined) out.timeout = a.timeout;
  return out;
}

/** `leafnodes { authorization }`: opts.go parseLeafAuthorization (no tokens, no permissions). */
const LEAF_AUTHORIZATION = table<LeafNodeAuthorizationOptions>({
  keys: [
    [['user', 'username'], (r, v, p, a) => void (a.user = r.str(v, p))],
    [['pass', 'password'], (r, v, p, a) => void (a.password = r.str(v, p))],
    [['account'], (r, v, p, a) => void (a.account = r.str(v, p))],
    [['nkey'], (r, v, p, a) => void (a.nkey = r.str(v, p, 'a public nkey'))],
    [['timeout'], (r, v, p, a) => void (a.timeout = authTimeout(r, v, p))],
    [['users'], (r, v, p, a) => {
      if (!Array.isArray(v)) return r.fail(p, `Expected users field to be an array, got ${typeof v}`);
      a.users = v.map((u, i) => r.block<{ user: string; password?: string; account?: string }>(u, `${p}[${i}]`, LEAF_USER, { user: '' }));
    }],
  ],
});

const LEAF_USER = table<{ user: string; password?: string; account?: string }>({
  keys: [
    [['user', 'username'], (r, v, p, u) => void (u.user = r.str(v, p))],
    [['pass', 'password'], (r, v, p, u) => void (u.password = r.str(v, p))],
    [['account'], (r, v, p, u) => void (u.account = r.str(v, p))],
  ],
});

/** `leafnodes { remotes: [...] }`: opts.go parseRemoteLeafNodes. */
const LEAF_REMOTE = table<LeafNodeRemoteOptions>({
  keys: [
    [['url'], (r, v, p, o) => void (o.url = r.str(v, p, 'a URL'))],
    [['urls'], (r, v, p, o) => void (o.urls = r.strings(v, p, 'URL strings'))],
    [['credentials', 'creds'], (r, v, p, o) => void (o.credentials = r.str(v, p, 'a file path'))],
    [['nkey', 'seed'], (r, v, p, o) => void (o.nkey = r.str(v, p, 'an nkey seed'))],
    [['account', 'local'], (r, v, p, o) => void (o.account = r.str(v, p, 'an account name'))],
    [['tls'], (r, v, p, o) => void (o.tls = r.block<LeafNodeRemoteTlsOptions>(v, p, LEAF_REMOTE_TLS, {}))],
    [['deny_imports', 'deny_import'], (r, v, p, o) => void (o.denyImports = r.strings(v, p, 'a subject or an array of subjects'))],
    [['deny_exports', 'deny_export'], (r, v, p, o) => void (o.denyExports = r.strings(v, p, 'a subject or an array of subjects'))],
    [['hub'], (r, v, p, o) => void (o.hub = r.bool(v, p))],
  ],
  ignored: ['first_info_timeout', 'compression', 'ws_compression', 'ws_no_masking'],
  refused: ['jetstream_cluster_migrate', 'signature_handler'],
});

const LEAFNODES = table<LeafNodeOptions>({
  keys: [
    [['listen'], (r, v, p, l) => {
      const { host, port } = r.hostPort(v, p);
      if (host !== '') l.host = host;
      l.port = port;
    }],
    [['port'], (r, v, p, l) => void (l.port = r.int(v, p))],
    [['host', 'net'], (r, v, p, l) => void (l.host = r.str(v, p))],
    [['advertise', 'leafnode_advertise'], (r, v, p, l) => void (l.advertise = r.str(v, p))],
    [['no_advertise'], (r, v, p, l) => void (l.noAdvertise = r.bool(v, p))],
    [['authorization'], (r, v, p, l) => void (l.authorization = r.block<LeafNodeAuthorizationOptions>(v, p, LEAF_AUTHORIZATION, {}))],
    [['remotes'], (r, v, p, l) => {
      if (!Array.isArray(v)) return r.fail(p, `Expected remotes field to be an array, got ${typeof v}`);
      l.remotes = v.map((x, i) => r.block<LeafNodeRemoteOptions>(x, `${p}[${i}]`, LEAF_REMOTE, {}));
    }],
    [['reconnect', 'reconnect_delay', 'reconnect_interval'], (r, v, p, l) => void (l.reconnect = durationOrSeconds(r, v, p))],
    [['tls'], (r, v, p, l) => {
      const { cert, key, ...rest } = r.block<Partial<LeafNodeTlsOptions>>(v, p, LEAF_TLS, {});
      if (cert === undefined || key === undefined) return r.fail(p, 'needs cert_file and key_file');
      l.tls = { ...rest, cert, key };
    }],
  ],
  ignored: ['compression', 'min_version', 'minimum_version'],
});

/** nats-server starts no leafnode listener when the port is 0 (`leafnodes { port: 0 }` or remotes alone). */
function leafnodes(r: Reader, v: ConfValue, p: string): LeafNodeOptions {
  const l = r.block<LeafNodeOptions>(v, p, LEAFNODES, {});
  if (l.port === 0) {
    delete l.port;
    delete l.host;
  } else if (l.port === undefined && l.host !== undefined) {
    delete l.host;
  }
  return l;
}

/** `websocket { authorization }`: nats-server's parseSimpleAuth (no users, no permissions). */
const WEBSOCKET_AUTHORIZATION = table<WebSocketAuthorizationOptions>({
  keys: [
    [['user', 'username'], (r, v, p, a) => void (a.user = r.str(v, p))],
    [['pass', 'password'], (r, v, p, a) => void (a.password = r.str(v, p))],
    [['token'], (r, v, p, a) => void (a.token = r.str(v, p))],
    [['timeout'], (r, v, p, a) => void (a.timeout = authTimeout(r, v, p))],
  ],
});

const WEBSOCKET = table<WebSocketOptions>({
  keys: [
    [['listen'], (r, v, p, w) => {
      const { host, port } = r.hostPort(v, p);
      if (host !== '') w.host = host;
      w.port = port;
    }],
    [['port'], (r, v, p, w) => void (w.port = r.int(v, p))],
    [['host', 'net'], (r, v, p, w) => void (w.host = r.str(v, p))],
    [['no_tls'], (r, v, p, w) => void (w.noTls = r.bool(v, p))],
    [['compression', 'compress'], (r, v, p, w) => void (w.compression = r.bool(v, p))],
    [['same_origin'], (r, v, p, w) => void (w.sameOrigin = r.bool(v, p))],
    [['allowed_origins', 'allowed_origin', 'allow_origins', 'allow_origin', 'origins', 'origin'],
      (r, v, p, w) => void (w.allowedOrigins = r.strings(v, p, 'origin strings'))],
    [['tls'], (r, v, p, w) => void (w.tls = tls(r, v, p))],
    [['authorization', 'authentication'], (r, v, p, w) => void (w.authorization = r.block<WebSocketAuthorizationOptions>(v, p, WEBSOCKET_AUTHORIZATION, {}))],
    [['no_auth_user'], (r, v, p, w) => void (w.noAuthUser = r.str(v, p))],
    [['jwt_cookie'], (r, v, p, w) => void (w.jwtCookie = r.str(v, p))],
  ],
  ignored: ['advertise', 'handshake_timeout'],
});

// ---- JetStream -----------------------------------------------------------------------------------

/** nats-server's getStorageSize: an integer, or a string ending in K, M, G or T (powers of 1024). */
function storageSize(r: Reader, v: ConfValue, path: string, key: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v !== 'string') return r.fail(path, `${key} must be int64 or string`);
  if (v === '') return 0;
  const m = /^(-?\d+)([KMGT])$/.exec(v);
  if (m === null) return r.fail(path, `${key} sizes defined as strings must end in K, M, G, T`);
  return Number(m[1]) * 1024 ** ('KMGT'.indexOf(m[2]) + 1);
}

/** The JetStream settings as the file gives them: the block, `jetstream: true` or a top-level `store_dir`. */
function jetStreamDraft(o: ServerOptions): JetStreamOptions {
  if (typeof o.jetstream === 'object') return o.jetstream;
  const draft: JetStreamOptions = { enabled: o.jetstream === true };
  o.jetstream = draft;
  return draft;
}

/** `store_dir` is accepted at the top level and in the block, but only once (nats-server: "Duplicate 'store_dir' configuration"). */
function storeDir(r: Reader, v: ConfValue, path: string, o: ServerOptions): void {
  const draft = jetStreamDraft(o);
  if (draft.storeDir !== undefined) r.fail(path, "Duplicate 'store_dir' configuration");
  draft.storeDir = r.str(v, path, 'a directory');
}

const JETSTREAM = table<ServerOptions>({
  keys: [
    [['store', 'store_dir', 'storedir'], storeDir],
    [['max_memory_store', 'max_mem_store', 'max_mem'], (r, v, p, o) => void (jetStreamDraft(o).maxMemory = storageSize(r, v, p, 'max_mem_store'))],
    [['max_file_store', 'max_file'], (r, v, p, o) => void (jetStreamDraft(o).maxStore = storageSize(r, v, p, 'max_file_store'))],
    [['domain'], (r, v, p, o) => void (jetStreamDraft(o).domain = r.str(v, p))],
    [['unique_tag'], (r, v, p, o) => void (jetStreamDraft(o).uniqueTag = r.str(v, p))],
    [['enable', 'enabled'], (r, v, p, o) => void (jetStreamDraft(o).enabled = r.bool(v, p))],
  ],
  // Tuning of nats-server's own file store and clustering: nothing a client can observe here.
  ignored: ['sync', 'sync_interval', 'extension_hint', 'max_outstanding_catchup', 'request_queue_limit'],
  // Encryption at rest, and server-wide limits on consumers and batches: refused rather than
  // a server that stores in the clear or allows what the file forbids.
  refused: ['key', 'ek', 'encryption_key', 'prev_key', 'prev_ek', 'prev_encryption_key', 'cipher', 'limits'],
});

/** nats-server's parseJetStream: a boolean, `enabled`/`disabled`, or the block (which turns JetStream on unless it says `enabled: false`). */
function jetstream(r: Reader, v: ConfValue, path: string, o: ServerOptions): void {
  if (typeof v === 'boolean') {
    jetStreamDraft(o).enabled = v;
  } else if (typeof v === 'string') {
    const word = v.toLowerCase();
    if (word !== 'enabled' && word !== 'enable' && word !== 'disabled' && word !== 'disable') {
      r.fail(path, `Expected 'enabled' or 'disabled' for string value, got '${v}'`);
    }
    jetStreamDraft(o).enabled = word.startsWith('enable');
  } else if (isMap(v)) {
    const draft = jetStreamDraft(o);
    draft.enabled = true;
    r.block(v, path, JETSTREAM, o);
  } else {
    r.fail(path, 'Expected map, bool or string to define JetStream');
  }
}

// ---- The top level ---------------------------------------------------------------------------

/**
 * The readers of the top-level keys the option table marks `read: 'own'`: blocks, and values
 * with a syntax of their own. Keyed by config key; a key the table adds without a reader here
 * does not compile.
 */
const OWN: { readonly [K in OwnConfKey]: Apply<ConfResult> } = {
  tls: (r, v, p, { options: o }) => void (o.tls = tls(r, v, p)),
  server_tags: (r, v, p, { options: o }) => void (o.serverTags = r.strings(v, p, 'a tag or a list of tags (error parsing tags: unsupported type)')),
  http: (r, v, p, { options: o }) => {
    const { host, port } = r.hostPort(v, p);
    o.http = host === '' ? port : { host, port };
  },
  http_port: (r, v, p, { options: o }) => void (o.http = r.int(v, p)),
  monitor_port: (r, v, p, { options: o }) => void (o.http = r.int(v, p)),
  authorization: (r, v, p, { options: o }) => void (o.authorization = r.block<AuthorizationOptions>(v, p, AUTHORIZATION, {})),
  accounts: (r, v, p, { options: o }) => void (o.accounts = accounts(r, v, p)),
  websocket: (r, v, p, { options: o }) => void (o.websocket = r.block<WebSocketOptions>(v, p, WEBSOCKET, {})),
  ws: (r, v, p, { options: o }) => void (o.websocket = r.block<WebSocketOptions>(v, p, WEBSOCKET, {})),
  cluster: (r, v, p, { options: o }) => void (o.cluster = r.block<ClusterOptions>(v, p, CLUSTER, {})),
  leafnodes: (r, v, p, { options: o }) => void (o.leafnodes = leafnodes(r, v, p)),
  leaf: (r, v, p, { options: o }) => void (o.leafnodes = leafnodes(r, v, p)),
  gateway: (r, v, p, { options: o }) => void (o.gateway = r.block<Partial<GatewayOptions>>(v, p, GATEWAY, {}) as GatewayOptions),
  jetstream: (r, v, p, { options: o }) => jetstream(r, v, p, o),
  operator: operators,
  operators,
  roots: operators,
  root: operators,
  root_operators: operators,
  root_operator: operators,
  resolver: resolver,
  account_resolver: resolver,
  accounts_resolver: resolver,
  resolver_preload: (r, v, p, { options: o }) => {
    if (!isMap(v)) return r.fail(p, 'preload should be a map of account_public_key:account_jwt');
    const out: Record<string, string> = {};
    for (const [k, jwt] of Object.entries(v)) out[k] = r.str(jwt, `${p}.${k}`, 'a string JWT (preload map value)');
    o.resolverPreload = out;
  },
};

/** `operator` and its aliases: a JWT or the path of its file, or a list of them (opts.go). */
function operators(r: Reader, v: ConfValue, p: string, { options: o }: ConfResult): void {
  const list = r.strings(v, p, 'a JWT or the path of its file (error parsing operators: unsupported type)');
  o.operator = list.length === 1 ? list[0]! : list;
}

/**
 * `resolver`: MEM/MEMORY (opts.go's regular expression), or a directory resolver's map (opts.go
 * parseAccountResolver: `type`, `dir`, `allow_delete`, `hard_delete`, `limit`, `ttl`, `interval`,
 * `timeout`; other keys are not read). The URL resolver is refused.
 */
function resolver(r: Reader, v: ConfValue, p: string, { options: o }: ConfResult): void {
  if (isMap(v)) {
    const out: DirResolverOptions = { type: 'full', dir: '' };
    let type = '';
    const duration = (x: ConfValue, kp: string): number => r.goDuration(r.str(x, kp, 'a duration string'), kp);
    for (const [k, x] of Object.entries(v)) {
      const kp = `${p}.${k}`;
      switch (k) {
        case 'dir': out.dir = r.str(x, kp); break;
        case 'type': type = r.str(x, kp); break;
        case 'allow_delete': out.allowDelete = r.bool(x, kp); break;
        case 'hard_delete': out.hardDelete = r.bool(x, kp); break;
        case 'limit': out.limit = r.int(x, kp); break;
        case 'ttl': out.ttl = duration(x, kp); break;
        case 'interval': out.interval = duration(x, kp); break;
        case 'timeout': out.timeout = duration(x, kp); break;
        default: break;
      }
    }
    const upper = type.toUpperCase();
    if (upper === 'MEM' || upper === 'MEMORY') return void (o.resolver = 'MEMORY');
    if (upper !== 'FULL' && upper !== 'CACHE') {
      return r.fail(p, 'error parsing account resolver, should be MEM or  URL("url") or a map containing dir and type state=[FULL|CACHE])');
    }
    out.type = upper === 'FULL' ? 'full' : 'cache';
    o.resolver = out;
    return;
  }
  const text = r.str(v, p, 'MEMORY');
  if (!/(MEM|MEMORY)\s*/i.test(text)) return r.fail(p, 'only the MEMORY and directory resolvers are supported by nats-embedded yet (refusing to start without it)');
  o.resolver = 'MEMORY';
}

/** How a scalar key of the option table is read. */
function scalarReader(read: Exclude<ConfRead, 'own'>, field: string): (r: Reader, v: ConfValue, path: string) => unknown {
  if (typeof read === 'object') return (r, v, p) => r.str(v, p, read.string);
  switch (read) {
    case 'int': return (r, v, p) => r.int(v, p);
    case 'bool': return (r, v, p) => r.bool(v, p);
    case 'string': return (r, v, p) => r.str(v, p);
    case 'duration': return (r, v, p) => r.duration(v, p, field);
    case 'durationOrSeconds': return durationOrSeconds;
  }
}

/** The top-level keys of the option table, each applied to its option (or process setting). */
function optionKeys(): Array<readonly [readonly string[], Apply<ConfResult>]> {
  const out: Array<readonly [readonly string[], Apply<ConfResult>]> = [];
  for (const [name, row] of OPTION_ROWS) {
    const conf = row.conf;
    if (conf === null) continue;
    if (conf.read === 'own') {
      for (const key of conf.keys) out.push([[key], OWN[key as OwnConfKey]]);
      continue;
    }
    const read = scalarReader(conf.read, conf.keys[0]);
    // The reader's type matches the option's by the table's construction; the resolver checks it again.
    out.push([conf.keys, conf.process === true
      ? (r, v, p, { process: s }) => void (s[name as ProcessOption] = read(r, v, p) as boolean)
      : (r, v, p, { options: o }) => void ((o as Record<string, unknown>)[name] = read(r, v, p))]);
  }
  return out;
}

const TOP = table<ConfResult>({
  keys: [
    ...optionKeys(),
    // Not one option: host and port at once.
    [['listen'], (r, v, p, { options: o }) => {
      const { host, port } = r.hostPort(v, p);
      if (host !== '') o.host = host;
      o.port = port;
    }],
    // nats-server: trace_verbose also sets trace (the verbose part adds message bodies to traces).
    [['trace_verbose'], (r, v, p, { process: s }) => void (s.trace = r.bool(v, p))],
    [['logtime'], (r, v, p, { process: s }) => void (s.logtime = r.bool(v, p))],
    [['logtime_utc'], (r, v, p, { process: s }) => void (s.logtimeUtc = r.bool(v, p))],
    [['logfile', 'log_file'], (r, v, p, { process: s }) => void (s.logFile = r.str(v, p, 'a path'))],
    [['pidfile', 'pid_file'], (r, v, p, { process: s }) => void (s.pidFile = r.str(v, p, 'a path'))],
    [['ports_file_dir'], (r, v, p, { process: s }) => void (s.portsFileDir = r.str(v, p, 'a directory'))],
    // Where JetStream keeps file streams; it does not turn JetStream on.
    [['store_dir', 'storedir'], (r, v, p, { options: o }) => storeDir(r, v, p, o)],
  ],
  ignored: [
    'client_advertise', 'mappings', 'maps', 'disable_sublist_cache', 'no_sublist_cache',
    'logfile_size_limit', 'log_size_limit', 'logfile_max_num', 'log_max_num',
    'syslog', 'remote_syslog', 'prof_port', 'prof_block_rate', 'http_base_path', 'max_traced_msg_len',
    'max_sub_tokens', 'max_subscription_tokens', 'connect_error_reports', 'reconnect_error_reports', 'mqtt', 'default_js_domain',
    'ocsp_cache', 'no_fast_producer_stall', 'max_closed_clients',
  ],
  // Security features: starting without them would be a server the file did not describe.
  refused: [
    'https', 'https_port', 'ocsp', 'resolver_tls', 'resolver_pinned_accounts', 'trusted', 'trusted_keys',
  ],
});

/** A Go duration string, or (for compatibility) a number of seconds. */
function durationOrSeconds(r: Reader, v: ConfValue, path: string): number | string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return v * 1000;
  return r.fail(path, 'expected a duration string');
}

/** Maps a parsed config onto options. Throws {@link ConfigError} naming the key and its position. */
export function optionsFromConf(conf: ParsedConf): ConfResult {
  const r = new Reader(conf);
  const out = r.block<ConfResult>(conf.values, '', TOP, { options: {}, process: {}, warnings: [] });
  out.warnings = r.warnings;
  return out;
}
