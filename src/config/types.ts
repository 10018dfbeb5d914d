/**
 * The option types: `ServerOptions` (camelCase of nats-server's config keys, as given to
 * `createServer()`) and `ResolvedOptions` (validated, defaults filled in, durations in ms).
 * Types only: the config modules import them from here, and `options.ts` re-exports them with
 * the functions, so that no file of the config layer imports another in a circle.
 *
 * Defaults are nats-server's (v2.10.29); they are listed in the option table (`table.ts`).
 */
import type { AuthorizationOptions, Duration, ResolvedAuth, UserOptions } from '../auth/types.js';

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
  /**
   * Route credentials (nats-server's `cluster { authorization }`): an accepted route's CONNECT
   * must carry this `user` and `password`, else `-ERR 'Authorization Violation'`. Routes this
   * server dials send the credentials of their URL (`nats-route://user:pass@host:port`); routes
   * learned by gossip send these. Tokens and `users` lists are refused, as nats-server does.
   */
  authorization?: ClusterAuthorizationOptions;
}

/**
 * The `leafnodes` block (nats-server's `leafnodes { ... }`): a listener that accepts leaf node
 * connections from other servers (this server is their hub), and `remotes` this server dials
 * as a leaf node of a hub. Either part may be given alone.
 */
export interface LeafNodeOptions {
  /** Address of the leaf node listener. Default: the server's `host`. */
  host?: string;
  /**
   * Leaf node port. `0` or `-1` picks a free ephemeral port. The listener exists when `port` or
   * `host` is given (a block with only `remotes` accepts no leaf nodes).
   */
  port?: number;
  /** `host:port` hubs tell their leaf nodes instead of the listener's address (INFO `leafnode_urls`). */
  advertise?: string;
  /** Do not advertise this server's leaf node URL to the cluster. Default false. */
  noAdvertise?: boolean;
  /**
   * Credentials accepted leaf nodes must present, and the account they bind to. Without it, a
   * leaf node authenticates as a client would (the top-level users and accounts; no credentials:
   * the global account when no authentication is configured).
   */
  authorization?: LeafNodeAuthorizationOptions;
  /** Hubs to connect to as a leaf node. */
  remotes?: LeafNodeRemoteOptions[];
  /** Pause before dialling a remote again after its connection dropped or failed. Default 1 s, as nats-server. */
  reconnect?: Duration;
  /**
   * TLS on the leaf node listener: accepted leaf nodes must upgrade (INFO `tls_required`; with
   * `verify`, `tls_verify` and a client certificate signed by `ca`). As nats-server, the INFO
   * goes out in plain text and the leaf node starts the handshake after it, unless
   * `handshakeFirst`.
   */
  tls?: LeafNodeTlsOptions;
}

/** `leafnodes.tls`: the listener's certificate, the CA of leaf nodes' certificates, and when the handshake happens. */
export interface LeafNodeTlsOptions {
  /** Certificate chain (PEM text, or a path to a PEM file). */
  cert: string;
  /** Private key (PEM text, or a path). */
  key: string;
  /** CA certificates to verify leaf nodes' certificates with (PEM text, or a path). */
  ca?: string;
  /** Require and verify a certificate of every leaf node. Default false. */
  verify?: boolean;
  /**
   * `verify`, and with `authorization.users`: the leaf node's certificate names its user (an
   * email, DNS or URI alternative name, or its subject as Go prints it, `CN=leaf,O=Acme`), whose
   * account it binds to; the CONNECT's user name does not count (its password still does).
   */
  verifyAndMap?: boolean;
  /** Handshake timeout. Default 2 s (nats-server `tls_timeout`). */
  timeout?: Duration;
  /**
   * nats-server 2.10's `handshake_first`: the TLS handshake starts at once, and the INFO goes
   * out over TLS (the leaf node's remote must say `handshakeFirst` too). Default false.
   */
  handshakeFirst?: boolean;
}

/** `leafnodes.remotes[].tls`: TLS to a hub (every field optional; an empty block is TLS with the system's CAs). */
export interface LeafNodeRemoteTlsOptions {
  /** A client certificate for a hub that verifies leaf nodes (PEM text, or a path); with `key`. */
  cert?: string;
  /** Its private key (PEM text, or a path). */
  key?: string;
  /** CA certificates to verify the hub's certificate with (PEM text, or a path). Default: the system's. */
  ca?: string;
  /** Do not verify the hub's certificate (nats-server's `insecure`). Default false. */
  insecure?: boolean;
  /** Handshake timeout. Default 2 s (nats-server's DEFAULT_LEAF_TLS_TIMEOUT). */
  timeout?: Duration;
  /** Start the TLS handshake at once instead of after the hub's INFO (the hub must say `handshakeFirst` too). Default false. */
  handshakeFirst?: boolean;
}

/** `leafnodes { authorization }`: one user, one nkey, or a list of users, each bound to an account. */
export interface LeafNodeAuthorizationOptions {
  user?: string;
  /** Plain, or a bcrypt hash (`$2a$...`). */
  password?: string;
  /**
   * nats-server 2.10: a user public nkey (`U...`); a leaf node must sign the INFO nonce with its
   * seed (the remote's `nkey`). Not with `users`; `user` takes precedence.
   */
  nkey?: string;
  /** The account the single `user` or `nkey` binds to. Default: the global account. */
  account?: string;
  /** Users, each with its own account. */
  users?: Array<{ user: string; password?: string; account?: string }>;
  /** Time an accepted leaf node has to send CONNECT. Default 2 s (as nats-server: the auth timeout). */
  timeout?: Duration;
}

/** One hub a leaf node connects to (`leafnodes.remotes[]`). */
export interface LeafNodeRemoteOptions {
  /** The hub's leaf node URL, `nats-leaf://[user:pass@]host:port` (`nats://`, `tls://` and `ws://` schemes too). */
  url?: string;
  /** Several URLs of the hub's cluster, tried in turn. */
  urls?: string[];
  /** A `.creds` file (user JWT and nkey seed) sent in CONNECT, for a hub in operator mode. */
  credentials?: string;
  /**
   * nats-server 2.10: a user nkey seed (`SU...`; config `nkey` or `seed`): CONNECT carries its
   * public key and the INFO nonce signed with it. Not with `credentials`.
   */
  nkey?: string;
  /** The local account this connection serves (its subjects travel to and from the hub). Default: the global account. */
  account?: string;
  /**
   * TLS to the hub. Without it, TLS is still used when the hub's INFO says `tls_required`
   * (with the system's CAs), or for a `wss://` URL.
   */
  tls?: LeafNodeRemoteTlsOptions;
  /**
   * Subjects (wildcards allowed) the hub's messages may not come in on: this server announces no
   * interest in them and asks the hub not to send them (CONNECT `deny_pub`). nats-server's
   * `deny_imports`.
   */
  denyImports?: string[];
  /** Subjects (wildcards allowed) this server's messages may not go out to the hub on. nats-server's `deny_exports`. */
  denyExports?: string[];
  /**
   * This server is the hub of the connection it dials (CONNECT `is_hub`): the roles are
   * reversed, the accepting server acts as the leaf node. Default false.
   */
  hub?: boolean;
}

/** A leaf node remote URL after validation. */
export interface LeafRemoteUrl {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly pass?: string;
  /** `ws://` or `wss://`: a websocket connection to the hub's websocket listener. */
  readonly ws: boolean;
  /** `wss://`: the websocket connection is over TLS. */
  readonly wss: boolean;
}

/** `leafnodes.tls` after validation. */
export interface ResolvedLeafTls extends ResolvedTls {
  readonly handshakeFirst: boolean;
}

/** `leafnodes.remotes[].tls` after validation: PEM contents loaded. */
export interface ResolvedLeafRemoteTls {
  readonly cert: string | null;
  readonly key: string | null;
  readonly ca: string | null;
  readonly insecure: boolean;
  readonly timeoutMs: number;
  readonly handshakeFirst: boolean;
}

/** One remote of `leafnodes.remotes` after validation. */
export interface ResolvedLeafRemote {
  readonly urls: readonly LeafRemoteUrl[];
  readonly credentials: string | null;
  /** A user nkey seed. */
  readonly nkey: string | null;
  readonly account: string;
  readonly tls: ResolvedLeafRemoteTls | null;
  readonly denyImports: readonly string[];
  readonly denyExports: readonly string[];
  readonly hub: boolean;
}

/** The `leafnodes` block after validation. */
export interface ResolvedLeafNodes {
  /** The listener, or null when this server accepts no leaf nodes. */
  readonly listen: { readonly host: string; readonly port: number } | null;
  readonly advertise: string | null;
  readonly noAdvertise: boolean;
  readonly authorization: {
    readonly user: string | null;
    readonly password: string;
    readonly nkey: string | null;
    readonly account: string;
    readonly users: ReadonlyArray<{ readonly user: string; readonly password: string; readonly account: string }>;
  } | null;
  readonly authTimeoutMs: number;
  readonly remotes: readonly ResolvedLeafRemote[];
  readonly reconnectMs: number;
  readonly tls: ResolvedLeafTls | null;
}

/** The `cluster { authorization }` block: one user and password for every route. */
export interface ClusterAuthorizationOptions {
  /** The user a route must present. An empty or absent user means no route authentication. */
  user?: string;
  /** Its password: plain, or a bcrypt hash (`$2a$...`) as nats-server accepts. */
  password?: string;
  /** Time an accepted route has to send its CONNECT. Default 2 s (TLS: its timeout + 1 s). */
  timeout?: Duration;
}

/** The `gateway` block: this cluster's gateway name and listener, and the remote gateways to dial. */
export interface GatewayOptions {
  /** This cluster's gateway name (every server of a cluster uses the same). Required. */
  name: string;
  /** Address of the gateway listener. Default: the server's `host`. */
  host?: string;
  /** Gateway port. `0` or `-1` picks a free ephemeral port. Default `0`. */
  port?: number;
  /** `host:port` remote gateways are told to dial (nats-server's `advertise`). Default: the listener's. */
  advertise?: string;
  /**
   * Credentials an inbound gateway's CONNECT must carry (one user and password, as nats-server's
   * `gateway { authorization }`). Outbound gateways send their URL's credentials, else these.
   */
  authorization?: ClusterAuthorizationOptions;
  /** Refuse inbound gateways that are not in `gateways` (nats-server's `reject_unknown_cluster`). */
  rejectUnknown?: boolean;
  /** Attempts for gateways learned by gossip (implicit), after the first. Default 0. */
  connectRetries?: number;
  /**
   * Pause before dialling a configured gateway again (plus up to 100 ms). Default 1 s, as
   * nats-server. A nats-embedded extension: tests may shorten it to reconnect faster.
   */
  reconnectDelay?: Duration;
  /** The remote gateways (clusters) to dial: a name and one URL or several. */
  gateways?: RemoteGatewayOptions[];
  /**
   * TLS on gateway connections, both directions (nats-server's `gateway { tls }`): the handshake
   * comes first, before any INFO; every inbound gateway must do TLS (INFO `tls_required` and
   * `tls_verify`, client certificates checked against `ca` with `verify`); outbound gateways
   * check the remote's certificate against `ca` and the URL's host name (remote gateways
   * without their own `tls` use this one). `verifyAndMap`: an inbound gateway's certificate
   * must name `authorization.user`.
   */
  tls?: TlsOptions;
}

/** One remote gateway of {@link GatewayOptions.gateways}. */
export interface RemoteGatewayOptions {
  /** The remote cluster's gateway name. */
  name: string;
  /** One gateway URL (`nats://host:port`) of a server of that cluster. */
  url?: string;
  /** Several gateway URLs of that cluster's servers. */
  urls?: string[];
  /** TLS to this remote gateway (nats-server's per-gateway `tls`). Default: the `gateway` block's `tls`. */
  tls?: TlsOptions;
}

/** The `gateway` block after validation. */
export interface ResolvedGatewayOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly advertise: string | null;
  readonly authorization: { readonly user: string; readonly password: string } | null;
  readonly authTimeoutMs: number;
  readonly rejectUnknown: boolean;
  readonly connectRetries: number;
  readonly reconnectDelayMs: number;
  /** TLS of one remote gateway: its own `tls`, else the block's; null: plain TCP. */
  readonly gateways: ReadonlyArray<{ readonly name: string; readonly urls: readonly RouteUrl[]; readonly tls: ResolvedTls | null }>;
  /** The listener's TLS (also used to dial gateways learned by gossip). */
  readonly tls: ResolvedTls | null;
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
  /** Route credentials; null: routes are not authenticated (no user configured). */
  readonly authorization: { readonly user: string; readonly password: string } | null;
  /** The time an accepted route has to send CONNECT (nats-server's `Cluster.AuthTimeout`). */
  readonly authTimeoutMs: number;
}

/**
 * What runs the server: the broker inside this process, or a real `nats-server` process
 * started with the equivalent configuration (see {@link ServerOptions.backend}).
 */
export type Backend = 'embedded' | 'nats-server';

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
  /**
   * Tags describing the server (nats-server's `server_tags`): `/varz` lists them, and clustered
   * JetStream places a stream with `placement.tags` only on servers that have every one of them
   * (a server tagged `!jetstream` gets no new stream replica). Tags are trimmed and compared in
   * lower case, as nats-server's. A reload may change them. Default: none.
   */
  serverTags?: readonly string[] | string;
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
  /** Leaf nodes: accept leaf node connections (a hub), and/or connect to hubs as a leaf node. Off by default. */
  leafnodes?: LeafNodeOptions;
  /**
   * Gateways (nats-server's `gateway` block): this server's cluster joins a supercluster, linked
   * to other named clusters by gateway connections. Off by default.
   */
  gateway?: GatewayOptions;
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
   * With JetStream on, configured accounts have it only when their `jetstream` says so.
   */
  accounts?: Record<string, AccountOptions>;
  /** The user (of `authorization.users`) a client without credentials is taken to be. */
  noAuthUser?: string;
  /**
   * Operator (decentralised JWT) mode, as nats-server's `operator`: the operator's JWT, as a
   * path to its file (plain, or decorated as nsc writes it) or the JWT itself (`eyJ...`); a list
   * for several operators. Clients then authenticate with a user JWT whose account JWT this
   * operator (or one of its signing keys) signed, plus a signature of the INFO nonce by the
   * user's nkey: what a `.creds` file gives the client libraries. Needs `resolver`; cannot be
   * combined with `accounts`, `authorization.users` or `noAuthUser` (nats-server refuses them).
   */
  operator?: string | string[];
  /**
   * The system account (nats-server's `system_account`): where the server's events go and its
   * `$SYS.REQ.>` requests are served. Without `operator`: a configured account's name; default
   * `$SYS` (created when not configured). In operator mode: the account's public key; default the
   * operator JWT's `system_account`; when both are given they must be the same.
   */
  systemAccount?: string;
  /**
   * nats-server's `no_system_account`: without `systemAccount` (and outside operator mode), no
   * system account is created, so no `$SYS` events are sent and no `$SYS.REQ` request (nor
   * `nc.context()`'s `$SYS.REQ.USER.INFO`) is answered. A named `systemAccount` still wins, as
   * in nats-server. Default false. A reload cannot change it.
   */
  noSystemAccount?: boolean;
  /**
   * Where account JWTs come from in operator mode: `'MEMORY'` (nats-server's `resolver:
   * MEMORY`): the accounts of `resolverPreload`, nothing else; or a directory of account JWTs
   * (nats-server's `resolver { type: full | cache, dir }`), which the system account's
   * `$SYS.REQ.CLAIMS.UPDATE` requests update at run time. The URL resolver is not supported.
   */
  resolver?: 'MEMORY' | 'MEM' | DirResolverOptions;
  /**
   * Account JWTs by account public key (nats-server's `resolver_preload`). Each must be an
   * account JWT. The memory resolver looks accounts up here; a directory resolver stores them
   * in its directory (unless the file there is newer).
   */
  resolverPreload?: Record<string, string>;
  /**
   * A WebSocket listener (`ws://host:port`, or `wss://` with its `tls`): browser and `wsconnect` clients speak the NATS
   * protocol in binary frames and share subjects, auth and limits with TCP clients. Off by default.
   */
  websocket?: WebSocketOptions;
  /**
   * Seed for queue-group member selection: with a seed, the same sequence of operations picks
   * the same members, so a failing test replays. Default: random.
   */
  seed?: number;
  /**
   * JetStream (streams and persistence), as nats-server's `jetstream { ... }` / `-js`: `true`, or
   * its settings. Off by default, as in nats-server.
   */
  jetstream?: boolean | JetStreamOptions;
}

/**
 * A directory account resolver, as nats-server's `resolver { type: full | cache, dir }`: one
 * `<account public key>.jwt` file per account, read at start and when an account is first
 * used; `resolverPreload` entries are stored there (unless the file holds a newer JWT).
 */
export interface DirResolverOptions {
  /** `full`: every account JWT lives in the directory; `cache`: a bounded, expiring cache of them. */
  type: 'full' | 'cache';
  /** The directory (relative paths are from the working directory); created when missing. */
  dir: string;
  /** Full resolver: `$SYS.REQ.CLAIMS.DELETE` may remove accounts (renamed to `.jwt.deleted`). Default false. */
  allowDelete?: boolean;
  /** Full resolver with `allowDelete`: delete the file instead of renaming it. */
  hardDelete?: boolean;
  /** Full resolver: nats-server's store synchronisation interval between servers (default 1 minute). */
  interval?: Duration;
  /** The most account JWTs kept. Full: no limit by default (more are refused); cache: 1000 (least recently used evicted). */
  limit?: number;
  /** Cache: how long an unused JWT is kept (default: until it expires). */
  ttl?: Duration;
  /** How long a lookup of an unknown account waits for other servers (nats-server's `timeout`, default 1.9 s). */
  timeout?: Duration;
}

/** One account of {@link ServerOptions.accounts}. */
export interface AccountOptions {
  /** The account's users (they authenticate into this account). */
  users?: UserOptions[];
  /**
   * JetStream in this account (nats-server's account `jetstream` key): `true` with no limits,
   * its limits (which also turn it on), or `false` (the default). With configured accounts, only
   * those that say so have JetStream; the global account `$G` then has none. Needs JetStream
   * on the server (the top-level `jetstream` option); without it, this is ignored, as by
   * nats-server.
   */
  jetstream?: boolean | AccountJetStreamLimits;
  /**
   * What this account offers other accounts (nats-server's account `exports`): streams
   * (`{ stream: 'events.>' }`: messages published here on those subjects may be imported) and
   * services (`{ service: 'api.>' }`: requests may be sent here from accounts that import it).
   * Without `accounts`, any account may import it; with it, only those named.
   */
  exports?: AccountExport[];
  /**
   * What this account takes from others (nats-server's account `imports`): a stream import
   * delivers the exporter's messages to this account's subscribers (under `prefix` or `to`); a
   * service import sends requests published here (on `to`, default the subject) to the
   * exporter, and routes the responses back. Token-authorised imports (JWT activations) are not
   * supported.
   */
  imports?: AccountImport[];
}

/** A stream export: messages published in the account on `stream` may be imported. */
export interface StreamExport {
  /** The subject (wildcards allowed). */
  stream: string;
  /** The accounts that may import it; any account when left out. */
  accounts?: string[];
}

/** A service export: requests on `service` may be sent to this account by importers. */
export interface ServiceExport {
  /** The subject (wildcards allowed). */
  service: string;
  /** The accounts that may import it; any account when left out. */
  accounts?: string[];
  /**
   * How many responses a request may get: one (`singleton`, the default), or any number until
   * `responseThreshold` passes without one (`stream`, `chunked`).
   */
  responseType?: 'singleton' | 'stream' | 'chunked';
  /** How long the responder has to answer (nats-server's `response_threshold`). Default 2 minutes. */
  responseThreshold?: Duration;
  /**
   * Latency tracking (nats-server's export `latency`): for a sampled request that crosses a
   * service import, this account receives a `ServiceLatency` JSON message
   * (`io.nats.server.metric.v1.service_latency`) on the results subject once the response is
   * delivered (status 200), or when the request is not answered (400 no reply subject, 408 the
   * requester went away, 503 no responders, 504 the response threshold passed). A string is
   * the results subject with every request sampled. Only for `singleton` services.
   */
  latency?: string | ServiceLatencyOptions;
}

/** {@link ServiceExport.latency} in full. */
export interface ServiceLatencyOptions {
  /**
   * The share of requests measured, in percent (1-100, default 100), or `'headers'`: only the
   * requests whose tracing headers ask for it (`Uber-Trace-Id`, `traceparent`, `X-B3-Sampled`,
   * `X-B3-TraceId`, `B3`), which a percentage below 100 also lets through.
   */
  sampling?: number | 'headers';
  /** Where the measurements are published in the exporting account (a literal subject, not a service export of it). */
  subject: string;
}

/** A service export's latency tracking after validation. */
export interface ResolvedServiceLatency {
  /** Percent of requests sampled (1-100), or 0: only those whose tracing headers ask for it. */
  readonly sampling: number;
  /** The results subject in the exporting account. */
  readonly subject: string;
}

/** One entry of {@link AccountOptions.exports}. */
export type AccountExport = StreamExport | ServiceExport;

/** Where an import comes from: the exporting account and the exported subject (or a subset of it). */
export interface ImportSource {
  account: string;
  subject: string;
}

/** A stream import: the exporter's messages on `stream.subject` reach this account. */
export interface StreamImport {
  stream: ImportSource;
  /** A literal prefix put before the subject (`prefix.subject`). Not with `to`. */
  prefix?: string;
  /** The subject the messages get here (wildcards as `$1`/`*` in the order of the source's `*`). Not with `prefix`. */
  to?: string;
}

/** A service import: requests published here on `to` (default `service.subject`) go to the exporter. */
export interface ServiceImport {
  service: ImportSource;
  /** The local subject requests are published on. */
  to?: string;
  /**
   * Share the requester's details with the exporter (nats-server's import `share`): the
   * `requestor` of a latency measurement then has the client's id, name, user, server... and
   * not only its account and RTT.
   */
  share?: boolean;
}

/** One entry of {@link AccountOptions.imports}. */
export type AccountImport = StreamImport | ServiceImport;

/** A service export's response type (nats-server's `ServiceRespType`). */
export type ResponseType = 'singleton' | 'stream' | 'chunked';

/** An export after validation. */
export interface ResolvedExport {
  readonly kind: 'stream' | 'service';
  readonly subject: string;
  /** The accounts allowed to import it, or null for any. */
  readonly accounts: readonly string[] | null;
  /** Services only (`singleton` for streams). */
  readonly responseType: ResponseType;
  /** Services only: milliseconds a responder has (0 for streams). */
  readonly responseThresholdMs: number;
  /** Services only: latency tracking, when configured. */
  readonly latency?: ResolvedServiceLatency;
}

/** An import after validation. */
export interface ResolvedImport {
  readonly kind: 'stream' | 'service';
  /** The exporting account. */
  readonly account: string;
  /** The subject in the exporting account. */
  readonly subject: string;
  /** Streams: the literal prefix as given, or null. */
  readonly prefix: string | null;
  /** The `to` as given, or null. */
  readonly to: string | null;
  /**
   * Operator mode: when the activation token that authorised the import expires (Unix
   * seconds); the import is unwired then. Absent: no end.
   */
  readonly expiresAt?: number;
  /** Services only: the requester's details are shared with the exporter (latency measurements). */
  readonly share?: boolean;
}

/** An import of an account JWT that was not wired, and why (nats-server logs and skips it). */
export interface SkippedImport {
  readonly kind: 'stream' | 'service';
  readonly account: string;
  readonly subject: string;
  /** nats-server's log line for it. */
  readonly reason: string;
  /** Whether nats-server logs it as an error (an exporting account it cannot find) rather than a debug line. */
  readonly error: boolean;
}

/** An account's exports and imports after validation. */
export interface ResolvedAccountLinks {
  readonly exports: readonly ResolvedExport[];
  readonly imports: readonly ResolvedImport[];
  /** Operator mode: the imports of the account's JWT that were not wired. */
  readonly skipped?: readonly SkippedImport[];
}

/**
 * An account's JetStream limits (nats-server's `JetStreamAccountLimits`, config keys in
 * parentheses). Every field is optional: `-1` (the default) is unlimited.
 */
export interface AccountJetStreamLimits {
  /** Most bytes the account's memory streams may hold, and reserve with `max_bytes` (`max_mem`). */
  maxMemory?: number;
  /** Most bytes the account's file streams may hold, and reserve with `max_bytes` (`max_file`). */
  maxStore?: number;
  /** Most streams (`max_streams`). */
  maxStreams?: number;
  /** Most consumers, and the highest `max_consumers` a stream may ask for (`max_consumers`). */
  maxConsumers?: number;
  /** Highest `max_ack_pending` of a consumer (`max_ack_pending`). */
  maxAckPending?: number;
  /**
   * Highest `max_bytes` of a memory stream (`memory_max_stream_bytes`); also a cap on all the
   * account's memory stream bytes, as nats-server 2.10 enforces it when storing.
   */
  memoryMaxStreamBytes?: number;
  /** The same for file streams (`store_max_stream_bytes`). */
  storeMaxStreamBytes?: number;
  /** Streams must set `max_bytes` (`max_bytes_required`). Default false. */
  maxBytesRequired?: boolean;
}

/** An account's JetStream limits after validation: every field set, -1 = unlimited. */
export interface ResolvedAccountJetStream {
  readonly maxMemory: number;
  readonly maxStore: number;
  readonly maxStreams: number;
  readonly maxConsumers: number;
  readonly maxAckPending: number;
  readonly memoryMaxStreamBytes: number;
  readonly storeMaxStreamBytes: number;
  readonly maxBytesRequired: boolean;
}

/** The `jetstream` block (nats-server's `jetstream { store_dir, max_mem, max_file, domain }`). */
export interface JetStreamOptions {
  /** Default true: giving the block turns JetStream on (nats-server's `enabled`). */
  enabled?: boolean;
  /**
   * Where file-storage streams live. Default: a new temporary directory per server, removed by
   * `close()` (kept across `kill()` and `restart()`, so file streams survive them).
   */
  storeDir?: string;
  /** Most bytes all memory-storage streams may reserve (nats-server `max_memory_store`). Default: 75 % of system memory. */
  maxMemory?: number;
  /** Most bytes all file-storage streams may reserve (nats-server `max_file_store`). Default 1 TiB. */
  maxStore?: number;
  /** JetStream domain: the API also answers on `$JS.<domain>.API.>`, acks carry `domain`. */
  domain?: string;
  /**
   * Clustered JetStream (nats-server's `unique_tag`): a tag prefix, e.g. `az:`. The replicas of
   * a stream go to servers whose tags with that prefix differ (one per availability zone), and a
   * server without such a tag gets none — unless the stream's `placement.tags` name a tag with
   * the prefix. Compared in lower case. Default: none.
   */
  uniqueTag?: string;
  /**
   * Clustered JetStream (a nats-embedded extension: nats-server discovers its peers over the
   * routes): the `serverName`s of every JetStream server of the cluster, this one included. With
   * two or more, streams are replicated through Raft among them. `createCluster({ jetstream })`
   * sets it. Default: none (JetStream of this server alone).
   */
  clusterPeers?: string[];
  /**
   * Raft timing of clustered JetStream, in ms. Default nats-server's: elections after 4–9 s
   * without a leader, heartbeats every 1 s. `createCluster()` uses 300–600 ms and 100 ms, so a
   * killed leader is replaced well within a test's timeout.
   */
  raftTiming?: { electionTimeoutMin: number; electionTimeoutMax: number; heartbeatInterval: number };
  /**
   * When a replicated stream's Raft log is compacted into a snapshot: once this many entries
   * were applied since the last snapshot, or they hold this many bytes — and in either case at
   * least as many bytes as the stream holds (a snapshot carries the messages). Default
   * nats-server's thresholds: 65,536 entries or 8 MiB. Lower them in tests to exercise members
   * that catch up from a snapshot.
   */
  raftCompaction?: { entries?: number; bytes?: number };
  /**
   * The timers of mirrors and sources, in ms (a nats-embedded extension; nats-server's are
   * fixed). Default nats-server 2.10's: a copying consumer silent for 10 s (checked every 10 s,
   * also its `inactive_threshold`) is made again; a failed setup is retried no sooner than 2 s
   * after the last request, plus 2 × 5 s per failure up to 2 minutes; a create request gets 30 s
   * for its answer. Lower them in tests that wait for a mirror to recover. `healthCheckInterval`
   * must be at least 2000: the origin's consumer heartbeats every second.
   */
  sourceTiming?: { healthCheckInterval?: number; retryThreshold?: number; retryBackoff?: number; createTimeout?: number };
  /**
   * Clustered JetStream: how long after its `$JS.API.SERVER.REMOVE` a removed server may join
   * the meta group again (started with an empty store: it then joins as a new member), in ms
   * or a duration string. Until then the meta leader ignores it. Default 5 minutes: nats-server
   * 2.10's `peerRemoveTimeout` (raft.go), which it does not let you configure; a test may
   * want it shorter. (2.9.10 re-adds a removed server at once.)
   */
  peerRemoveTimeout?: Duration;
}

/** The timers of mirrors and sources after validation (ms): see `JetStreamOptions.sourceTiming`. */
export interface SourceTiming {
  readonly healthCheckInterval: number;
  readonly retryThreshold: number;
  readonly retryBackoff: number;
  readonly createTimeout: number;
}

/** The `jetstream` block after validation. */
export interface ResolvedJetStream {
  /** null: a temporary directory per server. */
  readonly storeDir: string | null;
  readonly maxMemory: number;
  readonly maxStore: number;
  readonly domain: string | null;
  /** The unique tag prefix, lower case; '' for none. */
  readonly uniqueTag: string;
  /** Clustered JetStream's peers (server names), or null without clustering. */
  readonly clusterPeers: readonly string[] | null;
  readonly raftTiming: { readonly electionTimeoutMin: number; readonly electionTimeoutMax: number; readonly heartbeatInterval: number };
  readonly raftCompaction: { readonly entries: number; readonly bytes: number };
  readonly sourceTiming: SourceTiming;
  /** ms. */
  readonly peerRemoveTimeout: number;
}

/** The `websocket` block (nats-server's `websocket { ... }`). */
export interface WebSocketOptions {
  /** WebSocket port. `0` or `-1` picks a free ephemeral port. Default `0`. */
  port?: number;
  /** Address to listen on. Default: the server's `host`. */
  host?: string;
  /**
   * Plain `ws://` without TLS. As nats-server, a websocket listener needs `tls` unless this is
   * `true`; with `tls` given it is ignored (the listener is `wss://`).
   */
  noTls?: boolean;
  /**
   * TLS for the websocket listener (`wss://`): the handshake comes first, before the HTTP
   * upgrade. `verify` asks for client certificates; `verifyAndMap` maps them to users (of the
   * top-level `authorization`) as the client `tls` block does.
   */
  tls?: TlsOptions;
  /** Offer permessage-deflate compression to clients. Default false. */
  compression?: boolean;
  /** Refuse (HTTP 403) a handshake whose `Origin` differs from its `Host`. Default false. */
  sameOrigin?: boolean;
  /**
   * Accept only handshakes whose `Origin` is one of these (`'http://localhost:8080'`): scheme,
   * host and port must match; others get HTTP 403. Requests without `Origin` are accepted.
   */
  allowedOrigins?: string[];
  /**
   * Credentials for websocket clients instead of the top-level ones (nats-server's
   * `websocket { authorization }`): a `user`/`password` or a `token`, and the time to send
   * CONNECT. A user or token here cannot be combined with top-level `users`.
   */
  authorization?: WebSocketAuthorizationOptions;
  /** The user (of the top-level `authorization.users` or accounts) websocket clients without credentials become. */
  noAuthUser?: string;
  /**
   * Operator mode: the name of a cookie of the HTTP upgrade request that carries the user JWT,
   * used when the CONNECT has none (nats-server's `jwt_cookie`).
   */
  jwtCookie?: string;
}

/** `websocket.authorization`: one user or one token, as nats-server's parseSimpleAuth reads it. */
export interface WebSocketAuthorizationOptions {
  user?: string;
  /** Plain text or a bcrypt hash (`$2a$...`). */
  password?: string;
  token?: string;
  /** Time a websocket client has to send CONNECT. Default: the top-level auth timeout. */
  timeout?: Duration;
}

/** The `websocket` block after validation. */
export interface ResolvedWebSocket {
  readonly host: string;
  /** 0 = ephemeral. */
  readonly port: number;
  readonly noTls: boolean;
  /** TLS of the listener (`wss://`), or null for `ws://`. */
  readonly tls: ResolvedTls | null;
  readonly compression: boolean;
  readonly sameOrigin: boolean;
  readonly allowedOrigins: readonly string[];
  /**
   * Websocket-only credentials (nats-server's "auth override": any of user, token or
   * no_auth_user given), or null: websocket clients authenticate as TCP clients do.
   */
  readonly authOverride: { readonly user: string | null; readonly password: string | null; readonly token: string | null; readonly noAuthUser: string | null } | null;
  /** `authorization.timeout` in ms, or null (the top-level auth timeout applies). */
  readonly authTimeoutMs: number | null;
  /** Operator mode: the cookie carrying the user JWT, or null. */
  readonly jwtCookie: string | null;
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
  /**
   * nats-server's `verify_and_map`: `verify`, and the client certificate names
   * the user — an email or DNS name of its subject alternative names, or its subject as an
   * RFC 2253 DN (`'CN=alice,O=Acme'`) — which must be one of `authorization.users` (or an
   * account's). On routes (`cluster.tls`): the route's certificate must name the cluster's
   * `authorization.user`. Default false.
   */
  verifyAndMap?: boolean;
  /** Handshake timeout. Default 2 s (nats-server `tls_timeout`). */
  timeout?: Duration;
}

/** TLS settings after validation: PEM contents loaded. */
export interface ResolvedTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | null;
  readonly verify: boolean;
  /** `verifyAndMap`: clients are the users their certificates name. */
  readonly map: boolean;
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
  /** Lower case, trimmed, without duplicates or empty tags. */
  readonly serverTags: readonly string[];
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
  readonly leafnodes: ResolvedLeafNodes | null;
  readonly gateway: ResolvedGatewayOptions | null;
  readonly http: ResolvedHttpOptions | null;
  readonly logger: Logger | null;
  readonly debug: boolean;
  readonly trace: boolean;
  readonly seed: number | null;
  /** null when no authentication is configured. */
  readonly auth: ResolvedAuth | null;
  /** Configured account names (besides `$G`). */
  readonly accountNames: readonly string[];
  /** The configured accounts with JetStream, and their limits (in `accountNames` order). */
  readonly accountJetStream: Readonly<Record<string, ResolvedAccountJetStream>>;
  /** The configured accounts that have exports or imports (in `accountNames` order). */
  readonly accountLinks: Readonly<Record<string, ResolvedAccountLinks>>;
  /**
   * The system account's name: `systemAccount`, else `$SYS` (created when not configured, as
   * nats-server does); in operator mode the operator's system account, or null without one;
   * null with `noSystemAccount` and no `systemAccount`.
   */
  readonly systemAccount: string | null;
  readonly tls: ResolvedTls | null;
  /** TLS available but not required (only with `tls`). */
  readonly allowNonTls: boolean;
  /** null when no websocket listener is configured. */
  readonly websocket: ResolvedWebSocket | null;
  /** null when JetStream is off. */
  readonly jetstream: ResolvedJetStream | null;
}
