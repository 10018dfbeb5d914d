/**
 * The table of top-level options: one row per `ServerOptions` field, saying everything the
 * rest of the config layer needs to know about it:
 *
 * - how it is validated and what it resolves into (`kind`, `into`, bounds, default);
 * - the nats-server config keys that set it, and how `from-conf.ts` reads them (`conf`);
 * - how `to-conf.ts` writes it into a config file for the `nats-server` backend (`write`);
 * - whether `reload()` may change it (`reload`), checked by `checkReload()` in reload.ts.
 *
 * Adding an option is adding a row: `ServerOptions` without a row, or a `ResolvedOptions`
 * field no row produces, does not compile. Blocks (`cluster`, `authorization`, ...) have a
 * resolver of their own here, and keep their own key tables in from-conf.ts.
 *
 * The order of the rows is the order options are resolved in (later rows read earlier ones:
 * the blocks default their host to `host`, the auth timeout depends on `tls`) and the order
 * of the lines written into a config file (scalars first, then the blocks).
 *
 * Sources, nats-server v2.10.29: config keys and aliases from server/opts.go
 * (processConfigFileLine); defaults from server/const.go (in `DEFAULTS`); reloadability from
 * server/reload.go (`diffOptions`: the options it has a `case` for are reloadable, any other
 * change fails with "config reload not supported for ...").
 */
import { ConfigError } from '../errors.js';
import { DEFAULTS } from '../protocol/constants.js';
import type { ResolvedOptions, ServerOptions } from './types.js';
import { resolveAccountsAndAuth, resolveSystemAccount, withGlobalNoAuthUser } from './resolve-auth.js';
import { operatorAccounts, operatorAuth, resolveOperatorMode, resolverJwts } from './resolve-operator.js';
import { jwtAccountLinks } from './resolve-jwt-links.js';
import { resolveBackend, resolveCluster, resolveGateway, resolveHttp, resolveJetStream, resolveLogger, resolveServerTags, resolveTls, resolveWebSocket } from './resolve-blocks.js';
import { INT32_MAX, checkName } from './validate.js';
import { resolveLeafNodes } from './resolve-leaf.js';

/** nats-server refuses a `lame_duck_duration` below 30 s. */
export const MIN_LAME_DUCK_MS = 30_000;

/**
 * Whether `reload()` may change an option:
 * - `'yes'`: it may, as nats-server's config reload also applies it;
 * - `'no'`: "cannot be changed by a reload" (a listener, or an identity clients and peers
 *   already hold);
 * - `'extension'`: it may here, although nats-server 2.10.29 refuses the change (its
 *   `diffOptions` has no case for it) or has no such option. The embedded broker applies these
 *   at once, and existing callers rely on it.
 */
export type Reload = 'yes' | 'no' | 'extension';

/** The ports a running server bound: where an option asked for an ephemeral port (0), these stand for it. */
export interface BoundPorts {
  readonly port: number;
  readonly clusterPort: number;
  readonly websocketPort: number;
  readonly monitorPort: number;
}

/**
 * How `from-conf.ts` reads the option's keys:
 * - `'int'`, `'bool'`, `'string'` (`{ string }`: with what it must be, for the error);
 * - `'duration'`: a Go duration, or a number of seconds with nats-server's deprecation
 *   warning (opts.go parseDuration: `ping_interval`, `write_deadline`);
 * - `'durationOrSeconds'`: the same without the warning (the lame duck keys);
 * - `'own'`: the key has a reader of its own in from-conf.ts (blocks, `"host:port"`).
 */
export type ConfRead = 'int' | 'bool' | 'string' | { readonly string: string } | 'duration' | 'durationOrSeconds' | 'own';

/** The nats-server config keys of an option. */
export interface ConfKeys {
  /** Lower case; the first is the one written, the others are nats-server's aliases. */
  readonly keys: readonly string[];
  readonly read: ConfRead;
  /**
   * Read into the process settings instead of the options: the CLI combines the file's value
   * with its command line flags (`-D`, `-V`), as nats-server does.
   */
  readonly process?: true;
}

/**
 * How `to-conf.ts` writes a scalar option, under its first conf key: `'ifTrue'` writes
 * `key: true` only when set; `'string'` is left out when not set; a duration is written in Go
 * syntax, raised to `atLeastMs` when given.
 */
export type ScalarWrite = 'int' | 'bool' | 'ifTrue' | 'string' | 'duration' | { readonly as: 'duration'; readonly atLeastMs: number };

/** What the option's resolver may read besides its own value. */
export interface ResolveContext {
  /** The options as given. */
  readonly input: Readonly<Record<string, unknown>>;
  /** A field resolved by an earlier row (the table's order guarantees it). */
  resolved<F extends keyof ResolvedOptions>(field: F): ResolvedOptions[F];
}

/** The `ResolvedOptions` fields whose type is `T`. */
type FieldsOf<T> = { [K in keyof ResolvedOptions]-?: ResolvedOptions[K] extends T ? K : never }[keyof ResolvedOptions];

interface Row {
  readonly conf: ConfKeys | null;
  readonly reload: Reload;
  /** For a `'no'` option holding a port: 0 (ephemeral) in it stands for this bound port. */
  readonly bound?: keyof BoundPorts;
}

/** An integer between `min` and `max`; `default: null` leaves it null when not given. */
export interface IntRow extends Row {
  readonly kind: 'int';
  readonly into: FieldsOf<number | null>;
  readonly min: number;
  readonly max: number;
  readonly default: number | null;
  /** A check against options resolved before (rows above). */
  readonly check?: (value: number, ctx: ResolveContext) => void;
  readonly write: 'int' | null;
}

/** A port, 0 to 65535; `-1` (nats-server's "random") and `0` mean ephemeral. Default 0. */
export interface PortRow extends Row {
  readonly kind: 'port';
  readonly into: FieldsOf<number>;
  readonly write: 'own' | null;
}

export interface BoolRow extends Row {
  readonly kind: 'bool';
  readonly into: FieldsOf<boolean>;
  readonly default: boolean;
  readonly write: 'bool' | 'ifTrue' | null;
}

/** Milliseconds, or a Go duration string; resolved into a `...Ms` field. */
export interface DurationRow extends Row {
  readonly kind: 'duration';
  readonly into: FieldsOf<number>;
  readonly default: number;
  readonly write: 'duration' | { readonly as: 'duration'; readonly atLeastMs: number } | null;
}

/** A string; `validate` runs on a given value. */
export interface StringRow extends Row {
  readonly kind: 'string';
  readonly into: FieldsOf<string | undefined>;
  readonly default: string | undefined;
  readonly validate?: (value: string, path: string) => void;
  readonly write: 'string' | null;
}

/** A block or other structured option: its resolver yields the `into` fields. */
export interface BlockRow extends Row {
  readonly kind: 'block';
  readonly into: readonly (keyof ResolvedOptions)[];
  /** Called also when the option is not given (`value` undefined), to yield the default. */
  readonly resolve: (value: unknown, path: string, ctx: ResolveContext) => Partial<ResolvedOptions>;
  readonly write: 'own' | null;
}

/** An option resolved (and written) by the row of another one, `of`. */
export interface PartRow extends Row {
  readonly kind: 'part';
  readonly of: keyof ServerOptions;
  /** Nothing of its own to compare: it changes with `of`, whose row decides. */
  readonly reload: 'yes' | 'extension';
  readonly write: null;
}

/** One row of the option table. */
export type OptionRow = IntRow | PortRow | BoolRow | DurationRow | StringRow | BlockRow | PartRow;

/** Every top-level option, in resolution (and config file) order. */
export const OPTIONS = {
  // Not a nats-server option: which server runs behind the handle.
  backend: {
    kind: 'block', into: ['backend'], resolve: (v, path) => ({ backend: resolveBackend(v, path) }),
    conf: null, reload: 'no', write: null,
  },
  // reload.go: a port change fails unless the new port is 0 (random), which here stands for the bound port.
  port: {
    kind: 'port', into: 'port', bound: 'port',
    // The writer writes `listen` (host and port) instead.
    conf: { keys: ['port'], read: 'int' }, reload: 'no', write: 'own',
  },
  host: {
    kind: 'string', into: 'host', default: DEFAULTS.host,
    validate: (host, path) => {
      if (host.length === 0) throw new ConfigError(path, 'must not be empty');
    },
    // Written in `listen`, by the `port` row.
    conf: { keys: ['host', 'net'], read: 'string' }, reload: 'no', write: null,
  },
  serverName: {
    kind: 'string', into: 'serverName', default: undefined, validate: checkName,
    conf: { keys: ['server_name'], read: 'string' }, reload: 'no', write: 'string',
  },
  // reload.go reloads `server_tags` (tagsOption).
  serverTags: {
    kind: 'block', into: ['serverTags'], resolve: (v, path) => ({ serverTags: resolveServerTags(v, path) }),
    conf: { keys: ['server_tags'], read: 'own' }, reload: 'yes', write: 'own',
  },
  maxPayload: {
    kind: 'int', into: 'maxPayload', min: 1, max: INT32_MAX, default: DEFAULTS.maxPayload,
    conf: { keys: ['max_payload'], read: 'int' }, reload: 'yes', write: 'int',
  },
  maxControlLine: {
    kind: 'int', into: 'maxControlLine', min: 1, max: INT32_MAX, default: DEFAULTS.maxControlLine,
    conf: { keys: ['max_control_line'], read: 'int' }, reload: 'yes', write: 'int',
  },
  maxPending: {
    kind: 'int', into: 'maxPending', min: 1, max: Number.MAX_SAFE_INTEGER, default: DEFAULTS.maxPending,
    // nats-server's validateOptions: a message larger than the pending limit could never be sent.
    check: (maxPending, ctx) => {
      const maxPayload = ctx.resolved('maxPayload');
      if (maxPayload > maxPending) throw new ConfigError('maxPayload', `(${maxPayload}) cannot be higher than maxPending (${maxPending})`);
    },
    conf: { keys: ['max_pending'], read: 'int' }, reload: 'extension', write: 'int',
  },
  // reload.go: tlsconfig and tlstimeout. Not written: the backend refuses TLS (the resolved
  // options hold PEM contents, and nats-server wants files).
  tls: {
    kind: 'block', into: ['tls'], resolve: (v, path) => ({ tls: v === undefined ? null : resolveTls(v, path) }),
    conf: { keys: ['tls'], read: 'own' }, reload: 'yes', write: null,
  },
  pingInterval: {
    kind: 'duration', into: 'pingIntervalMs', default: DEFAULTS.pingIntervalMs,
    conf: { keys: ['ping_interval'], read: 'duration' }, reload: 'yes', write: 'duration',
  },
  maxPingsOut: {
    kind: 'int', into: 'maxPingsOut', min: 1, max: INT32_MAX, default: DEFAULTS.maxPingsOut,
    conf: { keys: ['ping_max'], read: 'int' }, reload: 'yes', write: 'int',
  },
  writeDeadline: {
    kind: 'duration', into: 'writeDeadlineMs', default: DEFAULTS.writeDeadlineMs,
    conf: { keys: ['write_deadline'], read: 'duration' }, reload: 'yes', write: 'duration',
  },
  maxConnections: {
    kind: 'int', into: 'maxConnections', min: 1, max: INT32_MAX, default: DEFAULTS.maxConnections,
    conf: { keys: ['max_connections', 'max_conn'], read: 'int' }, reload: 'yes', write: 'int',
  },
  maxSubscriptions: {
    kind: 'int', into: 'maxSubscriptions', min: 0, max: INT32_MAX, default: DEFAULTS.maxSubscriptions,
    conf: { keys: ['max_subscriptions', 'max_subs'], read: 'int' }, reload: 'extension', write: 'int',
  },
  noHeaderSupport: {
    kind: 'bool', into: 'noHeaderSupport', default: false,
    conf: { keys: ['no_header_support'], read: 'bool' }, reload: 'extension', write: 'bool',
  },
  lameDuckDuration: {
    kind: 'duration', into: 'lameDuckDurationMs', default: DEFAULTS.lameDuckDurationMs,
    conf: { keys: ['lame_duck_duration'], read: 'durationOrSeconds' }, reload: 'extension',
    write: { as: 'duration', atLeastMs: MIN_LAME_DUCK_MS },
  },
  lameDuckGracePeriod: {
    kind: 'duration', into: 'lameDuckGracePeriodMs', default: DEFAULTS.lameDuckGracePeriodMs,
    conf: { keys: ['lame_duck_grace_period'], read: 'durationOrSeconds' }, reload: 'extension', write: 'duration',
  },
  // reload.go: HTTPHost and HTTPPort changes fail. The writer always writes a monitoring
  // listener (the backend watches the process through it).
  http: {
    kind: 'block', into: ['http'], bound: 'monitorPort',
    resolve: (v, path, ctx) => ({ http: v === undefined ? null : resolveHttp(v, path, ctx.resolved('host')) }),
    conf: { keys: ['http', 'http_port', 'monitor_port'], read: 'own' }, reload: 'no', write: 'own',
  },
  // Not a nats-server option: user code receiving the log lines.
  logger: {
    kind: 'block', into: ['logger'], resolve: (v, path) => ({ logger: resolveLogger(v, path) }),
    conf: null, reload: 'extension', write: null,
  },
  debug: {
    kind: 'bool', into: 'debug', default: false,
    conf: { keys: ['debug'], read: 'bool', process: true }, reload: 'yes', write: 'ifTrue',
  },
  trace: {
    kind: 'bool', into: 'trace', default: false,
    conf: { keys: ['trace'], read: 'bool', process: true }, reload: 'yes', write: 'ifTrue',
  },
  // Not a nats-server option (the backend refuses it): queue member selection replays.
  seed: {
    kind: 'int', into: 'seed', min: -(2 ** 31), max: 2 ** 32 - 1, default: null,
    conf: null, reload: 'extension', write: null,
  },
  // reload.go: authorization, username, password, authtimeout, users, nkeys, accounts. The
  // three auth options resolve together: users of accounts turn authentication on, and
  // `noAuthUser` must name one of the users.
  authorization: {
    kind: 'block', into: ['auth', 'accountNames', 'accountJetStream', 'accountLinks', 'systemAccount'],
    resolve: (v, _path, ctx) => {
      const i = ctx.input;
      const tls = ctx.resolved('tls');
      const mode = resolveOperatorMode({
        operator: i.operator, systemAccount: i.systemAccount, resolver: i.resolver, resolverPreload: i.resolverPreload,
        accounts: i.accounts, noAuthUser: i.noAuthUser, authorization: v,
      });
      if (mode === null) {
        const r = resolveAccountsAndAuth(v, i.noAuthUser, i.accounts, tls);
        const systemAccount = resolveSystemAccount(i.systemAccount, r.accountNames, i.noSystemAccount);
        // TrackServiceExportWithSampling: latency results need the system account's events.
        if (systemAccount === null) {
          for (const [name, links] of Object.entries(r.accountLinks)) {
            const at = links.exports.findIndex((e) => e.latency !== undefined);
            if (at >= 0) throw new ConfigError(`accounts.${name}.exports[${at}]`, `Error adding service latency sampling for ${JSON.stringify(links.exports[at]!.subject)}: system account not setup`);
          }
        }
        const onlySystem = v === undefined && i.noAuthUser === undefined && r.accountNames.length === 1 && r.accountNames[0] === systemAccount;
        return { ...r, auth: onlySystem && r.auth !== null ? withGlobalNoAuthUser(r.auth) : r.auth, systemAccount };
      }
      // With TLS the client has the handshake time plus one second to authenticate (nats-server).
      const timeoutMs = tls === null ? DEFAULTS.authTimeoutMs : tls.timeoutMs + 1000;
      // The accounts the resolver has: the preloads, or a directory resolver's files (preloads stored there).
      const jwts = resolverJwts(mode);
      return { auth: operatorAuth(mode, v, timeoutMs), ...operatorAccounts(mode, jwts), accountLinks: jwtAccountLinks(mode, Math.floor(Date.now() / 1000), jwts), systemAccount: mode.systemAccount };
    },
    // Writes `accounts`, `authorization` and `no_auth_user`.
    conf: { keys: ['authorization'], read: 'own' }, reload: 'yes', write: 'own',
  },
  // reload.go refuses a change of no_auth_user (except dropping it with its user).
  noAuthUser: {
    kind: 'part', of: 'authorization',
    conf: { keys: ['no_auth_user'], read: { string: 'a user name' } }, reload: 'extension', write: null,
  },
  accounts: {
    kind: 'part', of: 'authorization',
    conf: { keys: ['accounts'], read: 'own' }, reload: 'yes', write: null,
  },
  // Operator mode (resolve-operator.ts). nats-server's reload refuses a change of the
  // operators; the embedded broker applies one (and a new preload) at once, re-checking clients.
  operator: {
    kind: 'part', of: 'authorization',
    conf: { keys: ['operator', 'operators', 'roots', 'root', 'root_operators', 'root_operator'], read: 'own' }, reload: 'extension', write: null,
  },
  systemAccount: {
    kind: 'part', of: 'authorization',
    conf: { keys: ['system_account', 'system'], read: { string: 'an account name' } }, reload: 'extension', write: null,
  },
  // opts.go `no_system_account` (also `no_system`, `no_sys_acc`): no default `$SYS`. A reload
  // may not change it (it would change the system account).
  noSystemAccount: {
    kind: 'part', of: 'authorization',
    conf: { keys: ['no_system_account', 'no_system', 'no_sys_acc'], read: 'bool' }, reload: 'extension', write: null,
  },
  resolver: {
    kind: 'part', of: 'authorization',
    conf: { keys: ['resolver', 'account_resolver', 'accounts_resolver'], read: 'own' }, reload: 'extension', write: null,
  },
  resolverPreload: {
    kind: 'part', of: 'authorization',
    conf: { keys: ['resolver_preload'], read: 'own' }, reload: 'extension', write: null,
  },
  // Not written: it only matters with `tls`, which the backend refuses.
  allowNonTls: {
    kind: 'bool', into: 'allowNonTls', default: false,
    conf: { keys: ['allow_non_tls'], read: 'bool' }, reload: 'extension', write: null,
  },
  // reload.go: any change but the TLS config fails. Not written: the backend refuses it.
  websocket: {
    kind: 'block', into: ['websocket'], bound: 'websocketPort',
    resolve: (v, path, ctx) => ({ websocket: v === undefined ? null : resolveWebSocket(v, path, ctx.resolved('host'), ctx.resolved('auth')) }),
    conf: { keys: ['websocket', 'ws'], read: 'own' }, reload: 'no', write: null,
  },
  // reload.go reloads some of the cluster block (routes, permissions, compression, pool);
  // nats-embedded reloads none of it.
  cluster: {
    kind: 'block', into: ['cluster'], bound: 'clusterPort',
    resolve: (v, path, ctx) => ({ cluster: v === undefined ? null : resolveCluster(v, path, ctx.resolved('host')) }),
    conf: { keys: ['cluster'], read: 'own' }, reload: 'no', write: 'own',
  },
  // reload.go: the leafnodes block is not reloadable (nats-server reloads its TLS and the remotes' TLS; nats-embedded does not yet).
  leafnodes: {
    kind: 'block', into: ['leafnodes'],
    resolve: (v, path, ctx) => ({ leafnodes: v === undefined ? null : resolveLeafNodes(v, path, ctx.resolved('host'), ctx.resolved('accountNames')) }),
    conf: { keys: ['leafnodes', 'leaf'], read: 'own' }, reload: 'no', write: 'own',
  },
  // reload.go: gateway settings are not reloadable (a listener, and the cluster's identity).
  gateway: {
    kind: 'block', into: ['gateway'],
    resolve: (v, path, ctx) => ({ gateway: v === undefined ? null : resolveGateway(v, path, ctx.resolved('host')) }),
    conf: { keys: ['gateway'], read: 'own' }, reload: 'no', write: 'own',
  },
  // reload.go: JetStream settings are not reloadable (the store directory, domain and limits
  // hold data and identities).
  jetstream: {
    kind: 'block', into: ['jetstream'], resolve: (v, path) => ({ jetstream: resolveJetStream(v, path) }),
    conf: { keys: ['jetstream'], read: 'own' }, reload: 'no', write: 'own',
  },
} as const satisfies { readonly [K in keyof ServerOptions]-?: OptionRow };

/** The rows, in order. */
export const OPTION_ROWS: ReadonlyArray<readonly [keyof ServerOptions, OptionRow]> =
  Object.entries(OPTIONS) as Array<[keyof ServerOptions, OptionRow]>;

/** The names `resolveOptions()` accepts. */
export const KNOWN_KEYS: ReadonlySet<string> = new Set(Object.keys(OPTIONS));

/** The `ResolvedOptions` fields a row yields (none for a part of another row). */
export function fieldsOf(row: OptionRow): ReadonlyArray<keyof ResolvedOptions> {
  if (row.kind === 'part') return [];
  return typeof row.into === 'string' ? [row.into] : row.into;
}

// ---- Compile-time checks of the table ---------------------------------------------------------

type Table = typeof OPTIONS;
type Yielded = { [K in keyof Table]: Table[K] extends { readonly into: infer I } ? (I extends readonly (infer F)[] ? F : I) : never }[keyof Table];
type NotYielded = Exclude<keyof ResolvedOptions, Yielded>;
/** Fails to compile, naming the field, when a `ResolvedOptions` field has no row yielding it. */
const everyFieldYielded: [NotYielded] extends [never] ? true : NotYielded = true;
void everyFieldYielded;

/** The top-level config keys that from-conf.ts reads with a reader of its own. */
export type OwnConfKey = {
  [K in keyof Table]: Table[K]['conf'] extends { readonly read: 'own'; readonly keys: readonly (infer N)[] } ? N : never
}[keyof Table];

/** The options whose config key is read into the CLI's process settings (`conf.process`). */
export type ProcessOption = { [K in keyof Table]: Table[K]['conf'] extends { readonly process: true } ? K : never }[keyof Table];

/** The options that to-conf.ts writes with a writer of its own. */
export type OwnWritten = { [K in keyof Table]: Table[K]['write'] extends 'own' ? K : never }[keyof Table];
