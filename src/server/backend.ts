/**
 * What a backend does for a {@link NatsServer} handle. The handle owns the lifecycle rules
 * (close is final, interruptions, waits, events); a backend starts and stops one server — the
 * broker in this process, or a nats-server process — and answers what it can about it. What
 * only the embedded broker can do is {@link EmbeddedFeatures}: `null` on the process backend,
 * which makes the handle throw `UnsupportedError` from one place.
 */
import type { Backend, ResolvedOptions, ServerOptions } from '../config/options.js';
import type {
  ClientSummary,
  ConnectionInfo,
  DropHandle,
  DropOptions,
  JetStreamConsumerInfo,
  JetStreamStreamInfo,
  ReloadOptions,
  RoutePeer,
  ServerInfo,
  ServerState,
  ServerStats,
  SlowConsumerEvent,
  SubscriptionInfo,
  TapOptions,
  TappedMessage,
} from './types.js';

/** Where a backend reports to its handle. The handle makes every call safe for the backend. */
export interface BackendEvents {
  slowConsumer(event: SlowConsumerEvent): void;
  routesChanged(): void;
  /** A leaf node connection was registered or closed. */
  leafnodesChanged(): void;
  /** User code the backend called (the logger) threw. */
  userError(err: unknown): void;
  /** The broker caught an error of its own (the warning is already printed). */
  internalError(err: unknown): void;
}

export interface ServerBackend {
  readonly kind: Backend;
  /** The options in force (a reload replaces them). */
  readonly options: ResolvedOptions;
  readonly state: ServerState;
  /**
   * Starts the server (on the ports of its last start, if any). When `current()` turns false
   * meanwhile (`close()`/`kill()` interrupted it), releases what it started and throws
   * `interrupted()`.
   */
  start(current: () => boolean, interrupted: () => Error): Promise<void>;
  /**
   * Stops the server (flushing clients first when `graceful`); resolves when everything is closed.
   * `final` (the handle's `close()`): nothing starts again, so what the backend keeps for a
   * restart (a temporary JetStream store) goes too.
   */
  stop(graceful: boolean, final: boolean): Promise<void>;
  /**
   * Lame duck mode; resolves when the server has stopped. `current()` turns false when
   * `close()`/`kill()`/`restart()` took over (then it returns at once); `sleep(ms)` resolves false
   * when such an interruption cut it short.
   */
  lameDuck(durationMs: number, current: () => boolean, sleep: (ms: number) => Promise<boolean>): Promise<void>;

  readonly port: number;
  readonly url: string;
  readonly info: ServerInfo;
  readonly id: string;
  readonly monitorPort: number;
  readonly monitorUrl: string | null;
  readonly websocketPort: number;
  readonly websocketUrl: string | null;
  readonly clusterPort: number;
  readonly routeUrl: string | null;
  readonly gatewayUrl: string | null;
  readonly clusterName: string | null;
  /** The leaf node listener's port (0 without one). */
  readonly leafnodePort: number;
  /** `nats-leaf://host:port` for leaf nodes' `remotes`, or null without a leaf node listener. */
  readonly leafnodeUrl: string | null;
  /** The server process's id (a nats-server process), or null (the embedded broker, or stopped). */
  readonly pid: number | null;

  /** Subscriptions (local and remote interest) matching the literal `subject`, counted up to at least `enough`. */
  interest(subject: string, enough: number): number | Promise<number>;
  /** Client connections open now. */
  connectionCount(): number | Promise<number>;
  /** Calls `fn` when subscriptions or connections change (where the backend can tell); returns an unsubscribe. */
  watch(fn: () => void): () => void;

  /** JetStream's store directory (configured, or the handle's temporary one), or null when off. */
  readonly jetstreamStoreDir: string | null;
  /**
   * The JetStream streams of the running server (of `account` only, when given); none when
   * JetStream is off. Rejects (or throws) when the server is not running.
   */
  jetstreamStreams(account: string | undefined): Promise<JetStreamStreamInfo[]>;
  /**
   * The consumers of every stream named `stream` (of `account` only, when given), each with its
   * account; none when JetStream is off. Rejects (or throws) when the server is not running.
   */
  jetstreamConsumers(account: string | undefined, stream: string): Promise<JetStreamConsumerInfo[]>;

  /**
   * A connection into `account` (the default account when undefined) for the requests of the
   * `server.jetstream` helpers (`$JS.API` calls and publishes that want an ack): an internal
   * client in the embedded broker, a client connection to a nats-server process. Throws
   * `InvalidArgumentError` for an unknown account, `UnsupportedError` when the process backend
   * has no way in (no user with a plain-text password), `ServerClosedError` when not running.
   */
  openSession(account: string | undefined): Promise<RequestSession>;

  /** The embedded-only features, or null on the process backend. */
  readonly embedded: EmbeddedFeatures | null;
}

/** A reply to a {@link RequestSession} request. */
export interface SessionReply {
  /** The payload (a copy). */
  readonly data: Buffer;
  /** The status of a status reply (`NATS/1.0 503` no responders), or 0. */
  readonly status: number;
}

/** Requests into one account; see {@link ServerBackend.openSession}. */
export interface RequestSession {
  /**
   * Publishes `data` (with the header block `headers`, `NATS/1.0\r\n...\r\n\r\n`, when not
   * null) to `subject` with a reply inbox; resolves with the first reply. Rejects with
   * `WaitTimeoutError` after `timeoutMs`, `ServerClosedError` when the session or server closes.
   */
  request(subject: string, data: Uint8Array, headers: string | null, timeoutMs: number): Promise<SessionReply>;
  /** The server's `max_payload`: the largest message (headers included) it takes. */
  readonly maxPayload: number;
  /** Releases the session (pending requests reject). Safe to call twice. */
  close(): void;
}

/** What only the embedded broker can do: introspection, the tap, fault injection, reload. */
/** The gateways of a server: the remote gateway names of its outbound and inbound connections. */
export interface GatewayPeers {
  readonly outbound: readonly string[];
  /** One name per inbound connection (a remote cluster's servers each connect). */
  readonly inbound: readonly string[];
}

/** nats-server's interest modes of an account on an outbound gateway connection (/gatewayz `interest_mode`). */
export type GatewayInterestMode = 'Optimistic' | 'Transitioning' | 'Interest-Only';

export interface EmbeddedFeatures {
  reload(options: ServerOptions, reloadOptions: ReloadOptions): void;
  readonly connectionCount: number;
  clients(): ClientSummary[];
  connections(): ConnectionInfo[];
  subscriptions(filter: { cid?: number }): SubscriptionInfo[];
  stats(): ServerStats;
  routes(): RoutePeer[];
  /** Clustered JetStream: the meta group's leader as this server knows it (null: none, or not clustered). */
  jetstreamMetaLeader(): string | null;
  /** Clustered JetStream: the leader of a stream's group as this server knows it (null: none known here). */
  jetstreamStreamLeader(account: string, stream: string): string | null;
  /** Clustered JetStream: the leader of a consumer as this server knows it (null: none known here). */
  jetstreamConsumerLeader(account: string, stream: string, consumer: string): string | null;
  blockRoutes(serverNames: readonly string[]): void;
  blockedRouteNames(): readonly string[];
  /** The remote gateways this server has an outbound connection to, and inbound ones from. */
  gateways(): GatewayPeers;
  blockGateways(names: readonly string[]): void;
  setGatewayLatency(gateway: string, ms: number): void;
  /** The interest mode of `account` on the outbound connection to `gateway`, or null (none). */
  gatewayInterestMode(gateway: string, account: string): GatewayInterestMode | null;
  /** Registers a tap (its callback already checked); returns the function that removes it. */
  tap(callback: (msg: TappedMessage) => void, options: TapOptions): () => void;
  pause(): void;
  resume(): void;
  setLatency(ms: number): void;
  dropMessages(options: DropOptions): DropHandle;
  resetFaults(): void;
  disconnectClient(cid: number): boolean;
  disconnectClients(filter?: (client: ClientSummary) => boolean): number;
  /**
   * A JetStream test fault on one live consumer (`server.jetstream.expireAckWait()` and
   * friends). Throws `InvalidArgumentError` when there is no such consumer (or several
   * accounts have it and none was named), `ServerClosedError` when the server is not running.
   */
  consumerFault(account: string | undefined, stream: string, consumer: string, fault: ConsumerFault): void;
}

/** A fault {@link EmbeddedFeatures.consumerFault} applies. */
export type ConsumerFault =
  | { readonly kind: 'expireAckWait' }
  | { readonly kind: 'pause'; readonly paused: boolean }
  | { readonly kind: 'dropAcks'; readonly count: number };
