/**
 * The message store behind a stream, as nats-server's `StreamStore` (server/store.go): one
 * interface, two implementations — memory (`memory.ts`, nats-server's memstore) and file
 * (`file.ts`, an append log that survives a crash). A stream stores messages through it and
 * reads them back by sequence or by subject; the store enforces the stream's limits
 * (`max_msgs`, `max_bytes`, `max_age`, `max_msgs_per_subject`, discard old/new) itself, as
 * nats-server's stores do, so every path that adds a message is limited the same way.
 *
 * Times are milliseconds since the epoch as a float (sub-millisecond digits from a monotonic
 * clock): enough for nats-server's nanosecond RFC 3339 timestamps to order correctly.
 */
import { performance } from 'node:perf_hooks';

/** A stored message. `hdr` is the whole header block (`NATS/1.0\r\n...\r\n\r\n`) or null. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly hdr: Buffer | null;
  readonly data: Buffer;
  /** When it was stored: ms since the epoch, with a fraction. */
  readonly ts: number;
}

/** The limits a store enforces (a stream config's, resolved; -1 or 0 = unlimited as noted). */
export interface StoreLimits {
  /** -1: unlimited. */
  readonly maxMsgs: number;
  /** -1: unlimited. */
  readonly maxBytes: number;
  /** ms; 0: unlimited. */
  readonly maxAgeMs: number;
  /** -1: unlimited (0 is treated as unlimited too). */
  readonly maxMsgsPerSubject: number;
  /** -1: unlimited. */
  readonly maxMsgSize: number;
  readonly discard: 'old' | 'new';
  /** With `discard: 'new'`: a full subject refuses new messages (else per-subject limits drop old ones). */
  readonly discardNewPerSubject: boolean;
}

/** Why a store refused a message: nats-server's store error texts (server/store.go). */
export const StoreError = {
  MaxMsgs: 'maximum messages exceeded',
  MaxBytes: 'maximum bytes exceeded',
  MaxMsgsPerSubject: 'maximum messages per subject exceeded',
  MsgTooLarge: 'message to large',
  Closed: 'store is closed',
} as const;
export type StoreError = (typeof StoreError)[keyof typeof StoreError];

/** The result of a store: the new message's sequence and time, or why it was refused. */
export type StoreResult = { readonly seq: number; readonly ts: number } | { readonly error: StoreError };

/** nats-server's `StreamState` (without the consumer count, which the stream adds). */
export interface StoreState {
  readonly msgs: number;
  readonly bytes: number;
  /** After everything was removed: last + 1. */
  readonly firstSeq: number;
  /** ms; 0 when the store is empty. */
  readonly firstTs: number;
  readonly lastSeq: number;
  /** ms; 0 when nothing was ever stored (or the last message is gone and unknown). */
  readonly lastTs: number;
  /** Distinct subjects with messages. */
  readonly numSubjects: number;
  /** Sequences between first and last that were removed (interior gaps). */
  readonly numDeleted: number;
}

/** Messages and sequence range of one subject (nats-server's `SimpleState`). */
export interface SubjectState {
  readonly msgs: number;
  readonly first: number;
  readonly last: number;
}

/** Something removed messages (limits, expiry, purge, a delete): stream accounting and consumers follow. */
export type RemovalListener = (seq: number, subject: string, bytes: number) => void;

export interface StreamStore {
  readonly kind: 'memory' | 'file';

  /**
   * Stores a message at the next sequence, applying the limits (discard old drops old messages;
   * discard new refuses this one). `ts` defaults to now.
   */
  store(subject: string, hdr: Buffer | null, data: Buffer, ts?: number): StoreResult;
  /** Consumes the next sequence without storing (interest retention with no consumers). */
  skip(): number;
  /**
   * Consumes every sequence up to `last` without storing (a mirror's gap): one record, not one
   * per sequence. `ts` is the time the store's last message time becomes (default now).
   */
  skipThrough(last: number, ts?: number): void;

  /** The message at `seq`, or null (never stored, removed, expired). */
  load(seq: number): StoredMessage | null;
  /** The newest message whose subject matches `filter` (wildcards allowed), or null. */
  loadLast(filter: string): StoredMessage | null;
  /**
   * The sequence of the newest message on `subject`, 0 when it has none: `loadLast(subject)?.seq
   * ?? 0` without reading the message (the expected-last-subject-sequence check of every KV
   * create and update). '' and a subject with wildcards are filters, as for `loadLast`.
   */
  lastSeqOn(subject: string): number;
  /** The first message at or after `start` whose subject matches `filter` ('' or '>' = any), or null. */
  loadNext(filter: string, start: number): StoredMessage | null;

  /** Removes one message; false when there is none at `seq`. `erase` overwrites it on disk (file store). */
  remove(seq: number, erase?: boolean): boolean;
  /**
   * nats-server's `PurgeEx`: removes messages matching `subject` ('' = all) below sequence
   * `seq` (0 = no bound), keeping the newest `keep` of them (0 = keep none). Returns how many
   * went. With `subject` '' and no `seq`/`keep`, the sequence moves past the last message
   * (first = last + 1).
   */
  purge(subject: string, seq: number, keep: number): number;

  state(): StoreState;
  /** The bytes stored (`state().bytes`, without building the state): for limit checks per message. */
  storedBytes(): number;
  /** The state of messages at or after `start` matching `filter` (nats-server's `FilteredState`). */
  filteredState(start: number, filter: string): SubjectState;
  /** Per-subject state of the subjects matching `filter` ('' or '>' = all). */
  subjectsState(filter: string): Map<string, SubjectState>;
  /** The removed sequences between first and last (for `deleted_details`). */
  deleted(): number[];

  /** Applies new limits (a stream update), enforcing them on what is stored now. */
  updateLimits(limits: StoreLimits): void;
  /**
   * Removes the messages older than `max_age` as of `now` (epoch ms) — a clustered replica
   * applying an entry of the leader's time `now`, so that every replica applies it to the same
   * messages. Returns how many went.
   */
  expireAsOf(now: number): number;
  /**
   * With `false`, messages past `max_age` go only through {@link expireAsOf} — no timer, no
   * expiry on a limits update: a clustered replica, whose messages expire as of the times its
   * log gives, so that every replica's store is the same function of the log. Default true.
   */
  setExpiryTimer(enabled: boolean): void;
  /** Called after messages are removed by the store itself or by `remove`/`purge`. */
  onRemove(listener: RemovalListener | null): void;

  /** Stops timers and closes files; the data stays (a file store reopens it). Idempotent. */
  stop(): Promise<void>;
  /** Stops and deletes the data. */
  delete(): Promise<void>;
}

/** The size nats-server accounts a stored message at (`state.bytes`, `max_bytes`). */
export function memoryMsgSize(subject: string, hdr: Buffer | null, data: Buffer): number {
  // memstore's memStoreMsgSize: subject, header and data plus 16 bytes (seq and timestamp).
  return subject.length + (hdr === null ? 0 : hdr.length) + data.length + 16;
}

/** The size nats-server's filestore accounts a stored message at (`fileStoreMsgSize`). */
export function fileMsgSize(subject: string, hdr: Buffer | null, data: Buffer): number {
  // 22 bytes of record header (length, seq, ts, subject length) + 8 bytes of hash, and 4 more
  // for the header length when there are headers.
  if (hdr === null || hdr.length === 0) return 22 + subject.length + data.length + 8;
  return 22 + subject.length + hdr.length + data.length + 8 + 4;
}

/** The process's time origin (constant): read once. `performance` from perf_hooks, not the global's getter per call. */
const TIME_ORIGIN = performance.timeOrigin;

/** A clock for store timestamps: epoch milliseconds with a monotonic fraction. */
export function nowMs(): number {
  return TIME_ORIGIN + performance.now();
}
