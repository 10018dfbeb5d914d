/**
 * The public types of a server handle: what its methods take and return, its events, its
 * lifecycle states. Shared by both backends.
 */
import type { Duration } from '../config/options.js';
import type { StreamConfig } from '../jetstream/stream-config.js';

export type { RoutePeer } from '../cluster/cluster.js';
export type { ServerInfo } from '../broker/info.js';
export type { TappedMessage } from '../broker/controls.js';

/** A client connection as the server API shows it. */
export interface ClientSummary {
  /** Connection id (INFO `client_id`). */
  readonly cid: number;
  /** CONNECT `name`, `lang` and `version` ('' when not sent). */
  readonly name: string;
  readonly lang: string;
  readonly version: string;
  /** Peer address. */
  readonly ip: string;
  readonly port: number;
  /** Subscriptions the client holds now. */
  readonly subscriptions: number;
}

/** A client connection with its counters, as `connections()` reports it. */
export interface ConnectionInfo extends ClientSummary {
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
  /** Bytes queued for the client and not yet written. */
  readonly pendingBytes: number;
}

/** A client subscription, as `subscriptions()` reports it. */
export interface SubscriptionInfo {
  readonly cid: number;
  /** The client's CONNECT name ('' when not sent). */
  readonly clientName: string;
  readonly subject: string;
  readonly queue: string | null;
  readonly sid: string;
  /** Messages delivered so far. */
  readonly msgs: number;
  /** Auto-unsubscribe limit, or 0. */
  readonly max: number;
}

/** Options of the `waitFor...()` methods. */
export interface WaitOptions {
  /** How long to wait: ms, or a duration string such as `'2s'`. Default 5000 ms. */
  timeoutMs?: Duration;
}

/** Filter of `messages()` / `onMessage()`. */
export interface TapOptions {
  /** Only messages whose subject matches this subscription subject (wildcards allowed). Default `>`. */
  subject?: string;
}

/** Options of `dropMessages()`: a ratio (0..1) of matching messages, or the next `count` of them. */
export type DropOptions = { subject: string; ratio: number; count?: never } | { subject: string; count: number; ratio?: never };

/** Handle of one `dropMessages()` rule. */
export interface DropHandle {
  /** Messages dropped by this rule so far. */
  readonly dropped: number;
  /** Removes the rule. */
  cancel(): void;
}

/** Payload of the `slowConsumer` event. */
export interface SlowConsumerEvent {
  readonly cid: number;
  readonly name: string;
  /** nats-server's closed-connection reason. */
  readonly reason: 'Slow Consumer (Pending Bytes)' | 'Slow Consumer (Write Deadline)';
  /** Bytes that were queued for the client when it was dropped. */
  readonly pendingBytes: number;
}

/** Counters since the server (re)started. */
export interface ServerStats {
  readonly inMsgs: number;
  readonly inBytes: number;
  readonly outMsgs: number;
  readonly outBytes: number;
  readonly slowConsumers: number;
  /** Client connections open now. */
  readonly connections: number;
  /** Client connections accepted since start. */
  readonly totalConnections: number;
  /** Subscriptions held now, all clients together. */
  readonly subscriptions: number;
  /**
   * Errors of the broker's own caught while serving a connection (each closed that connection),
   * since the server was created. A bug: tests can assert it stays 0.
   */
  readonly internalErrors: number;
}

/** Events of {@link NatsServer}. */
export interface NatsServerEvents {
  /** A client was dropped because it could not keep up (`maxPending` or `writeDeadline`). */
  slowConsumer: [event: SlowConsumerEvent];
  /** A route to a peer server came up or went down. */
  routesChanged: [];
  /**
   * User code the server called (a tap, an event listener, the logger) threw. Without a
   * listener the error is rethrown asynchronously (an uncaught exception, which test runners
   * report); the client the broker was serving is never affected.
   */
  error: [error: unknown];
  /** The broker caught an error of its own (a bug) and closed the connection it was serving. */
  internalError: [error: unknown];
}

/** Options of {@link NatsServer.restart}. */
export interface RestartOptions {
  /**
   * Time the server stays down before it listens again: ms, or a duration string such as
   * `'500ms'`. Default 0.
   */
  downMs?: Duration;
  /** Close gracefully (flush, then close) instead of killing. Default false: like a crash. */
  graceful?: boolean;
}

/** Options of {@link NatsServer.reload}. */
export interface ReloadOptions {
  /**
   * Replace every option instead of patching: options not given return to their defaults, as
   * when nats-server re-reads its whole config file on SIGHUP. Default false.
   */
  replace?: boolean;
}

/** Lifecycle state: `running` accepts clients; `lameDuck` is draining; `stopped` serves nothing. */
export type ServerState = 'running' | 'lameDuck' | 'stopped';


// ---- JetStream introspection ----------------------------------------------------------------

/**
 * A stream's configuration as the server reports it in `$JS.API.STREAM.INFO` (nats-server's
 * JSON field names). Fields the server leaves out (empty ones, and on the `nats-server` backend
 * those its version does not have) are absent.
 */
export type JetStreamStreamConfig = Readonly<Partial<StreamConfig>> & { readonly name: string };

/** A stream's state now. */
export interface JetStreamStreamState {
  /** Messages stored. */
  readonly messages: number;
  /** Bytes stored, as nats-server counts them (per message: subject, headers, payload and overhead). */
  readonly bytes: number;
  /** The first sequence still stored (after everything was removed: the last one + 1). */
  readonly firstSeq: number;
  /** The last sequence assigned. */
  readonly lastSeq: number;
  /** When the first stored message arrived, or null when the stream is empty. */
  readonly firstTime: Date | null;
  /** When the last message arrived, or null when none ever did (or it is unknown). */
  readonly lastTime: Date | null;
  /** Distinct subjects with messages. */
  readonly numSubjects: number;
  /** Sequences between the first and the last that were removed. */
  readonly numDeleted: number;
  /** Consumers of the stream. */
  readonly consumerCount: number;
}

/** One stream, as `server.jetstream` shows it. */
export interface JetStreamStreamInfo {
  /** The account that owns it (`$G` when no accounts are configured). */
  readonly account: string;
  readonly name: string;
  /** When it was created. */
  readonly created: Date;
  readonly config: JetStreamStreamConfig;
  readonly state: JetStreamStreamState;
}

/** Which streams `server.jetstream` looks at. */
export interface JetStreamQuery {
  /** Only this account's streams. Default: every account's. */
  account?: string;
}

/** Options of {@link JetStreamView.waitForStream}. */
export interface WaitForStreamOptions extends WaitOptions, JetStreamQuery {
  /** Also wait until the stream holds at least this many messages. Default 0. */
  messages?: number;
}

/**
 * `server.jetstream`: what JetStream holds, for tests. Works on both backends (the `nats-server`
 * backend reads the server's `/jsz`).
 */
export interface JetStreamView {
  /** Whether JetStream is enabled in the options (`jetstream: true` or an object). */
  readonly enabled: boolean;
  /**
   * Where file streams are kept: the `storeDir` option, or the handle's temporary directory
   * (removed by `close()`); nats-server puts them in its `jetstream/` subdirectory. Null when
   * JetStream is off.
   */
  readonly storeDir: string | null;
  /**
   * The streams now (of one account with `{ account }`), sorted by account and name.
   * @throws {ServerClosedError} when the server is not running
   */
  streams(query?: JetStreamQuery): Promise<JetStreamStreamInfo[]>;
  /**
   * One stream, or null when there is none of that name.
   * @throws {InvalidArgumentError} when several accounts have a stream of that name and no
   *   `account` was given
   * @throws {ServerClosedError} when the server is not running
   */
  stream(name: string, query?: JetStreamQuery): Promise<JetStreamStreamInfo | null>;
  /**
   * Resolves with the stream once it exists (and holds `messages` messages). The wait goes on
   * across `kill()` and `restart()`.
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   * @throws {ServerClosedError} when the server is closed (or stopped and not restarting)
   */
  waitForStream(name: string, options?: WaitForStreamOptions): Promise<JetStreamStreamInfo>;
}
