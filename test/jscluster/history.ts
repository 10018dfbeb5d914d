/**
 * What a Jepsen-style run records (the history) and reads back at the end (the final read),
 * and what the checker reports (anomalies). Plain data: a history can be written to JSON,
 * replayed through `check()`, or built by hand in unit tests.
 *
 * Times are milliseconds since the start of the run (`performance.now()` based, monotonic).
 */

/**
 * The outcome of an operation, Jepsen style: `ok` it happened (PubAck / ack confirmation
 * received), `fail` it certainly did not happen (nobody received the request), `info` unknown
 * (timed out, connection lost: it may or may not have happened), `pending` still in flight
 * when the run ended (treated as `info`).
 */
export type Outcome = 'ok' | 'fail' | 'info' | 'pending';

/** One attempt of a logical publish (retries reuse the logical publish's Nats-Msg-Id). */
export interface PublishAttempt {
  /** When the request was sent. */
  at: number;
  /** When it completed (answer, error or timeout). */
  end: number;
  /** `ack` a PubAck came back; `no-responders` the request reached nobody; else unknown. */
  result: 'ack' | 'no-responders' | 'timeout' | 'error';
  /** Stream sequence from the PubAck. */
  seq?: number;
  /** The PubAck's `duplicate` flag. */
  duplicate?: boolean;
  error?: string;
}

/** A logical publish: one message id, published (and retried) until acked or out of attempts. */
export interface PublishOp {
  /** Publisher index. */
  process: number;
  /** The Nats-Msg-Id, unique per logical publish. */
  id: string;
  subject: string;
  payload: string;
  /** First attempt sent. */
  invokeAt: number;
  /** Last attempt completed. */
  completeAt?: number;
  /** `ok` some attempt got a PubAck; `fail` every attempt reached nobody; else `info`. */
  outcome: Outcome;
  /** Stream sequence from the (first) PubAck. */
  seq?: number;
  attempts: PublishAttempt[];
}

/** A message handed to a consumer worker by the durable pull consumer. */
export interface Delivery {
  /** Consumer worker index. */
  worker: number;
  /** Nats-Msg-Id header of the delivered message (undefined: none). */
  id: string | undefined;
  /** Stream sequence (from the ack subject). */
  seq: number;
  /** Delivery count from the ack subject (1 on the first delivery). */
  deliveryCount: number;
  redelivered: boolean;
  payload: string;
  at: number;
  /** The worker dropped it without acking (simulated crash of the worker mid-message). */
  dropped?: boolean;
}

/** An ack of a delivery (double ack: `ok` means the server confirmed it). */
export interface AckOp {
  worker: number;
  id: string | undefined;
  seq: number;
  deliveryCount: number;
  invokeAt: number;
  completeAt?: number;
  /** `ok` confirmed, `fail` reached nobody, `info` unknown (timed out, or sent without confirmation). */
  outcome: Outcome;
  error?: string;
}

/**
 * A fault injected (or undone) by the nemesis. The stepdowns ask the stream's (or the durable
 * consumer's) leader to step down, sent through member `via`; with no leader they are no-ops.
 */
export type NemesisAction =
  | { kind: 'kill'; member: number }
  | { kind: 'restart'; member: number }
  | { kind: 'partition'; groups: number[][] }
  | { kind: 'heal' }
  | { kind: 'stream-stepdown'; via: number }
  | { kind: 'consumer-stepdown'; via: number };

/** The leaders (server names, '' none or unknown) as sampled before a nemesis action. */
export interface LeaderSample {
  stream: string;
  consumer: string;
  /** The consumer's `delivered.stream_seq` and `ack_floor.stream_seq` from that CONSUMER.INFO (undefined: not read). */
  delivered?: number;
  ackFloor?: number;
}

export interface NemesisOp {
  action: NemesisAction;
  /** The pause before this action (ms), as drawn from the seed. */
  delayMs: number;
  invokeAt: number;
  completeAt?: number;
  /**
   * `ok` done; `fail` the cluster control threw, or a stepdown got an API error (the planner
   * state does not change); `info` a stepdown timed out.
   */
  outcome: Outcome;
  error?: string;
  /** The leaders just before the action (runs with stepdowns only). */
  leaders?: LeaderSample;
}

/** Something a client saw that is not an operation (fetch errors, reconnects): for the report. */
export interface ClientEvent {
  role: 'publisher' | 'worker' | 'admin';
  index: number;
  at: number;
  event: string;
}

/** Everything a run did. */
export interface History {
  seed: number;
  /** The run's options (as plain data, for the report). */
  options: Record<string, unknown>;
  publishes: PublishOp[];
  deliveries: Delivery[];
  acks: AckOp[];
  nemesis: NemesisOp[];
  events: ClientEvent[];
  /** When the workload stopped (before the final heal/restart/drain). */
  workloadEndAt: number;
  /** When the run ended. */
  endAt: number;
}

/** One message of the stream as read back at the end. */
export interface StoredMessage {
  seq: number;
  subject: string;
  /** Nats-Msg-Id header (undefined: none). */
  id: string | undefined;
  payload: string;
}

/** The durable consumer's state at the end (CONSUMER.INFO). */
export interface ConsumerFinalState {
  /** `delivered.stream_seq`. */
  deliveredStreamSeq: number;
  /** `ack_floor.stream_seq`. */
  ackFloorStreamSeq: number;
  numPending: number;
  numAckPending: number;
}

/** The stream and the consumer as read back after healing everything. */
export interface FinalRead {
  /** STREAM.INFO state. */
  state: { firstSeq: number; lastSeq: number; messages: number };
  /** Every message, by ascending sequence. */
  messages: StoredMessage[];
  /** The durable consumer (null: it could not be read). */
  consumer: ConsumerFinalState | null;
}

/** The kinds of anomaly the checker reports. */
export type AnomalyKind =
  /** (a) an acknowledged publish is not in the stream (work queue: nor delivered with an ack sent). */
  | 'lost'
  /** Work queue: a message is gone from the stream though no ack was ever sent for it. */
  | 'removed-unacked'
  /** Work queue: a message whose ack was confirmed is still in the stream after the removals settled. */
  | 'kept-after-ack'
  /** (a, b) a message id is in the stream more than once. */
  | 'duplicated'
  /** (c) a message acked before another was published has a higher sequence. */
  | 'reordered'
  /** (d) the PubAck's sequence is not where the message is. */
  | 'seq-mismatch'
  /** (e) a message in the stream that was never published (or whose publish certainly failed). */
  | 'unexpected'
  /** (e) a stored message's subject or payload differs from what was published. */
  | 'corrupted'
  /** (f) a stored message that was never delivered. */
  | 'undelivered'
  /** (f) a stored message delivered but never acked: deliveries stopped before its ack. */
  | 'unacked'
  /** (f) a message delivered again after its ack was confirmed. */
  | 'redelivered-after-ack'
  /** (f) a delivered message that is not in the final stream (or another message at its sequence). */
  | 'delivered-not-stored'
  /** (g) the consumer's final ack floor / pending counts contradict the history. */
  | 'consumer-state'
  /** The final read contradicts the stream state (gaps, order, count). */
  | 'read-inconsistent';

export interface Anomaly {
  kind: AnomalyKind;
  message: string;
  id?: string;
  seq?: number;
  details?: Record<string, unknown>;
}
