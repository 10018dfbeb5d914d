/**
 * The public types of a server handle: what its methods take and return, its events, its
 * lifecycle states. Shared by both backends.
 */
import type { Duration } from '../config/options.js';
import type { StreamConfig } from '../jetstream/stream-config.js';
import type { ConsumerConfig } from '../jetstream/consumer-config.js';
import type { JetStreamHelpers, JetStreamQuery } from './jetstream-helper-types.js';

export type { JetStreamQuery } from './jetstream-helper-types.js';

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
  /** A leaf node connection (accepted, or to a remote hub) came up or went down. */
  leafnodesChanged: [];
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


/** Options of {@link JetStreamView.waitForStream}. */
export interface WaitForStreamOptions extends WaitOptions, JetStreamQuery {
  /** Also wait until the stream holds at least this many messages. Default 0. */
  messages?: number;
}

/**
 * A consumer's configuration as the server reports it in `$JS.API.CONSUMER.INFO` (nats-server's
 * JSON field names; durations in nanoseconds). Fields the server leaves out are absent.
 */
export type JetStreamConsumerConfig = Readonly<Partial<ConsumerConfig>>;

/** A position in the stream: nats-server's `SequenceInfo`. */
export interface JetStreamSequenceInfo {
  /** The consumer (delivery) sequence. */
  readonly consumerSeq: number;
  /** The stream sequence. */
  readonly streamSeq: number;
  /** When it last moved, or null when it never did. */
  readonly lastActive: Date | null;
}

/** A consumer's delivery state now (ConsumerInfo's counters). */
export interface JetStreamConsumerState {
  /** The last delivery (`delivered`). */
  readonly delivered: JetStreamSequenceInfo;
  /** Everything up to here is acknowledged (`ack_floor`). */
  readonly ackFloor: JetStreamSequenceInfo;
  /** Messages of the stream matching the consumer not delivered yet (`num_pending`). */
  readonly pending: number;
  /** Delivered and not acknowledged yet (`num_ack_pending`). */
  readonly ackPending: number;
  /** Messages delivered more than once and still pending (`num_redelivered`). */
  readonly redelivered: number;
  /** Pull requests waiting (`num_waiting`). */
  readonly waiting: number;
}

/** One consumer, as `server.jetstream` shows it. */
export interface JetStreamConsumerInfo {
  /** The account that owns its stream (`$G` when no accounts are configured). */
  readonly account: string;
  readonly stream: string;
  readonly name: string;
  /** When it was created. */
  readonly created: Date;
  readonly config: JetStreamConsumerConfig;
  readonly state: JetStreamConsumerState;
}

/**
 * Options of {@link JetStreamView.waitForConsumer}: the consumer must exist and meet every
 * condition given. Counts must be equal; `ackFloor` and `delivered` are stream sequences the
 * consumer must have reached.
 */
export interface WaitForConsumerOptions extends WaitOptions, JetStreamQuery {
  /** `num_pending` equals this (e.g. 0: everything was delivered). */
  pending?: number;
  /** `num_ack_pending` equals this (e.g. 0: every delivery was acknowledged). */
  ackPending?: number;
  /** `num_redelivered` equals this. */
  redelivered?: number;
  /** `num_waiting` equals this (e.g. 1: a worker is parked in a pull). */
  waiting?: number;
  /** The ack floor's stream sequence is at least this. */
  ackFloor?: number;
  /** The last delivered stream sequence is at least this. */
  delivered?: number;
}

/**
 * `server.jetstream`: what JetStream holds, for tests. Works on both backends (the `nats-server`
 * backend reads the server's `/jsz`).
 */
export interface JetStreamView extends JetStreamHelpers {
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
  /**
   * The consumers of `stream` now, sorted by name; none when the stream does not exist.
   * @throws {InvalidArgumentError} bad arguments, or several accounts have such a stream and no `account` was given
   * @throws {ServerClosedError} when the server is not running
   */
  consumers(stream: string, query?: JetStreamQuery): Promise<JetStreamConsumerInfo[]>;
  /**
   * One consumer, or null when it (or its stream) does not exist.
   * @throws {InvalidArgumentError} bad arguments, or several accounts have such a stream and no `account` was given
   * @throws {ServerClosedError} when the server is not running
   */
  consumer(stream: string, name: string, query?: JetStreamQuery): Promise<JetStreamConsumerInfo | null>;
  /**
   * Resolves with the consumer once it exists and meets the conditions of `options`, e.g.
   * `{ ackPending: 0, pending: 0 }` (all delivered and acknowledged). Replaces sleeps in tests.
   * @throws {InvalidArgumentError} a condition that is not an integer >= 0
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   * @throws {ServerClosedError} when the server is closed (or stopped and not restarting)
   */
  waitForConsumer(stream: string, name: string, options?: WaitForConsumerOptions): Promise<JetStreamConsumerInfo>;
  /**
   * Resolves once the consumer's ack floor reached stream sequence `streamSeq`: every message up
   * to it was acknowledged (or terminated). The same as `waitForConsumer(stream, name, { ackFloor: streamSeq })`.
   * @throws {InvalidArgumentError} `streamSeq` is not an integer >= 0
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   * @throws {ServerClosedError} when the server is closed (or stopped and not restarting)
   */
  waitForAckFloor(stream: string, name: string, streamSeq: number, options?: WaitOptions & JetStreamQuery): Promise<JetStreamConsumerInfo>;

  // Fault injection on a live consumer: embedded backend only (UnsupportedError, code
  // ERR_UNSUPPORTED, on the nats-server backend). The faults belong to the consumer as it is now:
  // deleting it (or a restart) clears them.

  /**
   * Ends the ack wait of every message the consumer has delivered and not had acknowledged: they
   * are redelivered at once (to waiting pulls), as if `ack_wait` had passed — a worker that
   * "crashed" holding a message, without waiting for the ack wait. Counts toward `max_deliver`.
   * @throws {InvalidArgumentError} no such consumer, or it is in several accounts and no `account` was given
   * @throws {UnsupportedError} on the nats-server backend
   * @throws {ServerClosedError} when the server is not running
   */
  expireAckWait(stream: string, consumer: string, query?: JetStreamQuery): void;
  /**
   * Holds the consumer's deliveries: pull requests queue up (and expire with their 408) but get
   * no messages until {@link resumeConsumer}. Acks are still processed.
   * @throws {InvalidArgumentError} no such consumer (see {@link expireAckWait})
   * @throws {UnsupportedError} on the nats-server backend
   * @throws {ServerClosedError} when the server is not running
   */
  pauseConsumer(stream: string, consumer: string, query?: JetStreamQuery): void;
  /**
   * Resumes a consumer held by {@link pauseConsumer}: waiting pulls get their messages now.
   * @throws {InvalidArgumentError} no such consumer (see {@link expireAckWait})
   * @throws {UnsupportedError} on the nats-server backend
   * @throws {ServerClosedError} when the server is not running
   */
  resumeConsumer(stream: string, consumer: string, query?: JetStreamQuery): void;
  /**
   * Loses the next `count` acknowledgements (of any kind: ack, nak, term, in-progress) sent to
   * the consumer, as a lossy network would: the messages stay pending and come back after the
   * ack wait (or {@link expireAckWait}); an ack sent as a request gets no reply. `0` stops
   * dropping.
   * @throws {InvalidArgumentError} `count` is not an integer >= 0, or no such consumer
   * @throws {UnsupportedError} on the nats-server backend
   * @throws {ServerClosedError} when the server is not running
   */
  dropAcks(stream: string, consumer: string, count: number, query?: JetStreamQuery): void;
}
