/**
 * The delivery state of one JetStream consumer: the bookkeeping nats-server 2.10 keeps in
 * `server/consumer.go` (`o.dseq`/`o.sseq`, `o.adflr`/`o.asflr`, `o.pending`, `o.rdc`, `o.rdq`),
 * with the same rules for selecting the next message (`getNextMsg`), tracking it
 * (`deliverMsg`/`trackPending`), acks (`processAck`, `processAckMsg`, `processNak`,
 * `processTerm`, `progressUpdate`) and ack-wait expiry (`checkPending`, `hasMaxDeliveries`).
 *
 * Pure: no sockets and no timers. Time comes from an injected clock (ms since the epoch); the
 * caller arms one timer for {@link ConsumerState.deadline} and calls
 * {@link ConsumerState.checkPending} when it fires. Messages come from a {@link ConsumerSource}
 * (a stream's store; see {@link sourceFromStore}).
 *
 * Allocation: the delivery and ack paths allocate no per-message objects here (the pending
 * table is one seq→slot map over typed arrays; results are returned in fields and codes, not
 * objects). The strings a delivery needs (its ack reply subject) are built once.
 *
 * `num_pending` is kept as nats-server keeps it (`o.npc`, `o.npf`): counted from the store when
 * the state is created (or {@link ConsumerState.recomputeNumPending} after a purge), then moved
 * by one per delivery and by {@link ConsumerState.messageStored} /
 * {@link ConsumerState.messageRemoved}, which the stream must call for every message it stores
 * or removes.
 */
import type { StoredMessage, StreamStore, SubjectState } from './store/store.js';
import { filterMatches } from './store/subjects.js';

/** A consumer's `ack_policy`. */
export type AckPolicy = 'none' | 'all' | 'explicit';
/** A stream's `retention`: with `limits` an ack does not remove messages from the stream. */
export type RetentionPolicy = 'limits' | 'interest' | 'workqueue';

/** Where a consumer's messages come from: a few calls of a stream's store. */
export interface ConsumerSource {
  /** The first message at or after `start` whose subject matches `filter` ('' = any), or null. */
  loadNext(filter: string, start: number): StoredMessage | null;
  /** The message at `seq`, or null (removed). */
  load(seq: number): StoredMessage | null;
  /** Messages at or after `start` matching `filter` ('' = any). */
  filteredState(start: number, filter: string): SubjectState;
  /** The stream's first sequence (last + 1 when empty). */
  firstSeq(): number;
  /** The stream's last sequence (0 when nothing was ever stored). */
  lastSeq(): number;
  /**
   * Per-subject state of the subjects matching `filter` ('' = all): needed only by a
   * `last_per_subject` consumer (its skip list and num pending).
   */
  subjectsState?(filter: string): Map<string, SubjectState>;
}

/** A {@link ConsumerSource} reading a {@link StreamStore}. */
export function sourceFromStore(store: StreamStore): ConsumerSource {
  return {
    loadNext: (filter, start) => store.loadNext(filter, start),
    load: (seq) => store.load(seq),
    filteredState: (start, filter) => store.filteredState(start, filter),
    firstSeq: () => store.state().firstSeq,
    lastSeq: () => store.state().lastSeq,
    subjectsState: (filter) => store.subjectsState(filter),
  };
}

/**
 * Where a `deliver_policy: last_per_subject` consumer starts (consumer.go selectStartingSeqNo,
 * 2.10.29): the sorted last sequences of the subjects matching `filters` (`MultiLastSeqs`),
 * delivered first, then everything after the stream's last sequence at creation (`resume`).
 * With `max_msgs_per_subject: 1` every message is the last of its subject, so the consumer
 * simply starts at the first sequence (no skip list). With no matching subject it starts at the
 * stream's last sequence. The caller still clamps the start into the stream (below the first
 * sequence → first; empty store → 1).
 */
export function lastPerSubjectStart(
  source: ConsumerSource,
  filters: readonly string[],
  maxMsgsPerSubject: number,
): { startSeq: number; skipList?: SkipList } {
  const first = source.firstSeq();
  const last = source.lastSeq();
  if (maxMsgsPerSubject === 1) return { startSeq: first };
  const seen = new Set<number>();
  const fs = filters.length === 0 ? [''] : filters;
  for (const f of fs) {
    const m = source.subjectsState?.(f);
    if (m !== undefined) for (const ss of m.values()) seen.add(ss.last);
  }
  const seqs = [...seen].sort((a, b) => a - b);
  return { startSeq: seqs.length === 0 ? last : seqs[0]!, skipList: { seqs, resume: last } };
}

/** A `last_per_subject` consumer's skip list (nats-server's `lastSeqSkipList`). */
export interface SkipList {
  /** The last sequence of each matching subject at creation, ascending. */
  readonly seqs: readonly number[];
  /** The stream's last sequence at creation: delivery continues after it. */
  readonly resume: number;
}

/** The fields of a consumer config an update may change that the delivery state reads (durations in ms). */
export interface ConsumerStateUpdate {
  readonly ackWaitMs: number;
  readonly backoffMs?: readonly number[];
  readonly maxDeliver?: number;
  readonly maxAckPending?: number;
  readonly filters?: readonly string[];
}

/** The delivery-relevant part of a consumer's config, resolved (durations in ms). */
export interface ConsumerStateConfig {
  readonly stream: string;
  readonly consumer: string;
  readonly ackPolicy: AckPolicy;
  /** `ack_wait` in ms (nats-server default 30 s). */
  readonly ackWaitMs: number;
  /** `backoff` in ms; empty = none. */
  readonly backoffMs?: readonly number[];
  /** `max_deliver`; -1 or 0 = unlimited. */
  readonly maxDeliver?: number;
  /** `max_ack_pending`; -1 or 0 = unlimited (ignored with ack policy none, as nats-server does). */
  readonly maxAckPending?: number;
  /** `filter_subject(s)`; empty = all. */
  readonly filters?: readonly string[];
  /** The first stream sequence to consider (from the deliver policy); default 1. */
  readonly startSeq?: number;
  /** The stream's retention (default limits): decides ack replies and stream acks. */
  readonly retention?: RetentionPolicy;
  /**
   * `deliver_policy: last_per_subject`: num pending counts subjects, not messages (nats-server's
   * `NumPending(…, lastPerSubject)`).
   */
  readonly lastPerSubject?: boolean;
  /** The skip list from {@link lastPerSubjectStart}, delivered before anything else. */
  readonly skipList?: SkipList;
}

/** Hooks for what nats-server does outside the state (advisories, stream acks). */
export interface ConsumerStateHooks {
  /** Max deliveries reached for `seq` (send `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES`). */
  onMaxDeliveries?(seq: number, deliveries: number): void;
  /** An ack for `seq` with interest/workqueue retention: the stream may remove the message. */
  onStreamAck?(seq: number): void;
}

/** `processAck` outcome flags (a bit set). */
export const AckResult = {
  /** Send the empty ack reply to the ack's reply subject (if it had one). */
  Reply: 1,
  /** `+NXT`: acked; the rest of the body after the 4 bytes `+NXT` is a pull request (no ack reply). */
  Next: 2,
  /** A `-NAK` was processed (send the MSG_NAKED advisory). */
  Nak: 4,
  /** A `+TERM` was processed (send the MSG_TERMINATED advisory; reason in `termReason`). */
  Term: 8,
} as const;

/** nats-server's `ackWaitDelay`: 1 ms added to timer delays so bursts fire together. */
const ACK_WAIT_DELAY = 1;

/** A parsed ack reply subject (filled by {@link parseAckReply}; reuse one). */
export interface AckInfo {
  stream: string;
  consumer: string;
  /** Delivery count. */
  dc: number;
  sseq: number;
  dseq: number;
  /** Message timestamp, ns since the epoch, as a decimal string (exceeds 2^53). */
  ts: string;
  pending: number;
  /** The v2 form's domain (`_` = none) and account hash; '' in the 9-token form. */
  domain: string;
  accountHash: string;
}

/** An empty {@link AckInfo} to pass to {@link parseAckReply}. */
export function newAckInfo(): AckInfo {
  return { stream: '', consumer: '', dc: 0, sseq: 0, dseq: 0, ts: '0', pending: 0, domain: '', accountHash: '' };
}

/**
 * nats-server's `parseAckReplyNum`: a decimal of digits only; anything else is -1, which Go then
 * converts to the largest uint64. That is returned as `Infinity` so comparisons behave the same.
 */
function ackNum(s: string, from: number, to: number): number {
  if (to <= from) return Infinity;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Infinity;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Parses an ack reply subject into `out`. Accepts the 9-token form nats-server 2.10 emits
 * (`$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>`, the only one its
 * `ackReplyInfo` accepts) and the v2 form of ADR-15 that clients also parse
 * (`$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>[.<token>]`,
 * 11 or 12 tokens). Returns false (and leaves `out` zeroed) for anything else. Numeric tokens
 * that are not plain decimals parse as `Infinity`, as nats-server's parser makes them huge.
 */
export function parseAckReply(subject: string, out: AckInfo): boolean {
  out.stream = out.consumer = out.domain = out.accountHash = '';
  out.dc = out.sseq = out.dseq = out.pending = 0;
  out.ts = '0';
  if (!subject.startsWith('$JS.ACK.')) return false;
  // Dot positions after "$JS.ACK." (at most 11 matter), found without splitting.
  const d = DOTS;
  let n = 0;
  for (let i = subject.indexOf('.', 8); i !== -1; i = subject.indexOf('.', i + 1)) {
    if (n === 11) return false;
    d[n++] = i;
  }
  // n dots after "$JS.ACK." → n + 3 tokens; the token after dot k ends at dot k+1 (or the end).
  d[n] = subject.length;
  let o: number;
  if (n === 6) o = -1;
  else if (n === 8 || n === 9) {
    out.domain = subject.slice(8, d[0]);
    out.accountHash = subject.slice(d[0]! + 1, d[1]);
    o = 1;
  } else return false;
  out.stream = o < 0 ? subject.slice(8, d[0]) : subject.slice(d[o]! + 1, d[o + 1]);
  out.consumer = subject.slice(d[o + 1]! + 1, d[o + 2]);
  out.dc = ackNum(subject, d[o + 2]! + 1, d[o + 3]!);
  out.sseq = ackNum(subject, d[o + 3]! + 1, d[o + 4]!);
  out.dseq = ackNum(subject, d[o + 4]! + 1, d[o + 5]!);
  out.ts = subject.slice(d[o + 5]! + 1, d[o + 6]);
  out.pending = ackNum(subject, d[o + 6]! + 1, d[o + 7]!);
  return true;
}

/** Scratch for {@link parseAckReply}'s dot positions (11 dots and the end). */
const DOTS = new Int32Array(12);

/** Epoch ms (with a fraction) as integer nanoseconds in decimal (beyond 2^53, so as text). */
export function msToNsString(ms: number): string {
  let whole = Math.floor(ms);
  let frac = Math.round((ms - whole) * 1e6);
  if (frac >= 1e6) {
    whole++;
    frac -= 1e6;
  }
  if (whole <= 0) return String(frac);
  const f = String(frac);
  return String(whole) + '000000'.slice(f.length) + f;
}

/** The ack reply subject nats-server 2.10 gives a delivered message (`consumer.ackReply`). */
export function buildAckReply(
  stream: string,
  consumer: string,
  dc: number,
  sseq: number,
  dseq: number,
  tsMs: number,
  pending: number,
): string {
  return `$JS.ACK.${stream}.${consumer}.${dc}.${sseq}.${dseq}.${msToNsString(tsMs)}.${pending}`;
}

const GO_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's `time.ParseDuration`, in ms; null when Go would return an error. */
export function parseGoDuration(s: string): number | null {
  let i = 0;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    i++;
  }
  if (s.slice(i) === '0') return 0;
  if (i >= s.length) return null;
  let total = 0;
  while (i < s.length) {
    const start = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    const intEnd = i;
    let fracEnd = i;
    if (s[i] === '.') {
      i++;
      while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
      fracEnd = i;
    }
    // Go: at least one digit before or after the point.
    if (intEnd === start && fracEnd - intEnd <= 1) return null;
    const num = Number(s.slice(start, fracEnd));
    const uStart = i;
    while (i < s.length && s[i] !== '.' && (s.charCodeAt(i) < 48 || s.charCodeAt(i) > 57)) i++;
    const unit = GO_UNITS[s.slice(uStart, i)];
    if (unit === undefined) return null;
    total += num * unit;
  }
  return neg ? -total : total;
}

function bodyIs(body: Uint8Array, word: string): boolean {
  if (body.length !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (body[i] !== word.charCodeAt(i)) return false;
  return true;
}

function bodyStarts(body: Uint8Array, word: string): boolean {
  if (body.length < word.length) return false;
  for (let i = 0; i < word.length; i++) if (body[i] !== word.charCodeAt(i)) return false;
  return true;
}

/** Go's `bytes.TrimSpace` of `body[from:]`, as a string. */
function trimmedRest(body: Uint8Array, from: number): string {
  let a = from;
  let b = body.length;
  const ws = (c: number | undefined): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
  while (a < b && ws(body[a])) a++;
  while (b > a && ws(body[b - 1])) b--;
  return Buffer.from(body.buffer, body.byteOffset + a, b - a).toString('utf8');
}

/**
 * The pending table (`o.pending`): stream seq → slot, and per slot the original delivery
 * sequence and the delivered time in two growable typed arrays, so that tracking a delivery
 * allocates nothing once the table has grown (nats-server allocates a `Pending` per message).
 */
class PendingTable {
  private readonly slots = new Map<number, number>();
  private d = new Float64Array(64);
  private t = new Float64Array(64);
  private readonly free: number[] = [];
  private used = 0;

  get size(): number {
    return this.slots.size;
  }
  has(seq: number): boolean {
    return this.slots.has(seq);
  }
  dseqOf(seq: number): number | undefined {
    const i = this.slots.get(seq);
    return i === undefined ? undefined : this.d[i];
  }
  tsOf(seq: number): number | undefined {
    const i = this.slots.get(seq);
    return i === undefined ? undefined : this.t[i];
  }
  add(seq: number, dseq: number, ts: number): void {
    let i = this.free.pop();
    if (i === undefined) {
      i = this.used++;
      if (i === this.d.length) {
        const d = new Float64Array(i * 2);
        d.set(this.d);
        this.d = d;
        const t = new Float64Array(i * 2);
        t.set(this.t);
        this.t = t;
      }
    }
    this.d[i] = dseq;
    this.t[i] = ts;
    this.slots.set(seq, i);
  }
  setTs(seq: number, ts: number): void {
    const i = this.slots.get(seq);
    if (i !== undefined) this.t[i] = ts;
  }
  delete(seq: number): boolean {
    const i = this.slots.get(seq);
    if (i === undefined) return false;
    this.slots.delete(seq);
    if (this.slots.size === 0) {
      // Empty: start over (and drop a table that grew large).
      this.free.length = 0;
      this.used = 0;
      if (this.d.length > 4096) {
        this.d = new Float64Array(64);
        this.t = new Float64Array(64);
      }
    } else this.free.push(i);
    return true;
  }
  keys(): IterableIterator<number> {
    return this.slots.keys();
  }
  /** Writes (seq, dseq, ts) triples into `out` from index `at`, in table order. */
  exportTo(out: Float64Array, at: number): void {
    for (const [seq, i] of this.slots) {
      out[at++] = seq;
      out[at++] = this.d[i]!;
      out[at++] = this.t[i]!;
    }
  }
  clear(): void {
    this.slots.clear();
    this.free.length = 0;
    this.used = 0;
  }
}

/**
 * A consumer's persistent state (what nats-server's consumer store keeps: delivered, ack floor,
 * pending with delivery times, redelivery counts — and the redelivery queue, which nats-server
 * rebuilds from ack-wait expiry instead). Numbers are plain integers (ms for times).
 */
export interface ConsumerSnapshot {
  /** `delivered.consumer_seq` / `delivered.stream_seq`. */
  readonly deliveredConsumer: number;
  readonly deliveredStream: number;
  /** `ack_floor.consumer_seq` / `ack_floor.stream_seq`. */
  readonly ackFloorConsumer: number;
  readonly ackFloorStream: number;
  /** Pending acks as triples: stream seq, original delivery seq, delivered time (ms). */
  readonly pending: Float64Array;
  /** Redelivery counts as pairs: stream seq, count (may be -1 after a delivery not made). */
  readonly redelivered: Float64Array;
  /** The redelivery queue (stream seqs), in order. */
  readonly redeliveryQueue: Float64Array;
}

/** Checks a snapshot read back from disk; returns what is wrong, or '' when it is usable. */
export function checkSnapshot(s: ConsumerSnapshot): string {
  const seq = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;
  if (!seq(s.deliveredConsumer) || !seq(s.deliveredStream) || !seq(s.ackFloorConsumer) || !seq(s.ackFloorStream)) return 'bad sequences';
  // (An ack floor above delivered is not refused: an ack-all naming an undelivered sequence
  // gets there, in nats-server too.)
  const p = s.pending;
  if (p.length % 3 !== 0 || s.redelivered.length % 2 !== 0) return 'bad table length';
  for (let i = 0; i < p.length; i += 3) {
    if (!seq(p[i]!) || p[i] === 0 || p[i]! > s.deliveredStream || !seq(p[i + 1]!) || !Number.isFinite(p[i + 2]!)) return 'bad pending entry';
  }
  for (let i = 0; i < s.redelivered.length; i += 2) {
    if (!seq(s.redelivered[i]!) || !Number.isSafeInteger(s.redelivered[i + 1]!)) return 'bad redelivery count';
  }
  for (const q of s.redeliveryQueue) if (!seq(q) || q === 0) return 'bad redelivery queue entry';
  return '';
}

/**
 * One consumer's delivery state. Create it with the consumer's config, a source and a clock;
 * call {@link next} to pick and record each delivery, {@link processAck} for what arrives on
 * the ack subject, and {@link checkPending} when {@link deadline} passes.
 */
export class ConsumerState {
  /** Next consumer (delivery) sequence: nats-server's `o.dseq`. */
  private dseq = 1;
  /** Next stream sequence to look at: nats-server's `o.sseq`. */
  private sseq: number;
  /** Ack floor, consumer and stream sequence (`o.adflr`, `o.asflr`). */
  private adflr = 0;
  private asflr = 0;
  /** Pending acks: stream seq → original delivery seq, and → delivered time (ms). */
  private readonly pend = new PendingTable();
  /** Redelivery counts (`o.rdc`: deliveries - 1 after a redelivery; see `deliveryCount`). */
  private readonly rdc = new Map<number, number>();
  /** Redelivery queue (`o.rdq`, ordered) from `rdqHead`, and its membership (`o.rdqi`). */
  private rdq: number[] = [];
  private rdqHead = 0;
  private readonly rdqi = new Set<number>();

  private filters: readonly string[];
  private readonly ackPolicy: AckPolicy;
  private ackWaitMs: number;
  private backoff: readonly number[];
  private maxdc: number;
  private maxp: number;
  private readonly lastPerSubject: boolean;
  /** The skip list still to deliver (`o.lss`): `lss[lssHead..]`, null when done or none. */
  private lss: readonly number[] | null = null;
  private lssHead = 0;
  private lssResume = 0;
  /** The skip list state before the last take() of one of its entries (for putBack), else null. */
  private undoLss: readonly number[] | null = null;
  private undoLssHead = 0;
  private undoSseq = 0;
  private retention: RetentionPolicy;
  private readonly prefix: string;
  /** Cached num pending and the last stream sequence it covers (`o.npc`, `o.npf`). */
  private npc = 0;
  private npf = 0;

  /**
   * Absolute time (clock ms) at which {@link checkPending} should run; 0 = no timer needed.
   * nats-server's pending timer (`o.ptmr`/`o.ptmrEnd`).
   */
  deadline = 0;

  /** Of the last {@link next}: its delivery count, consumer sequence and num pending after it. */
  lastDc = 0;
  lastDseq = 0;
  lastPending = 0;
  /** Why the last {@link next} returned null: 'empty' (nothing to deliver) or 'max_ack_pending'. */
  lastStall: 'empty' | 'max_ack_pending' | '' = '';
  /** The reason text of the last `+TERM` ('' if none given). */
  termReason = '';
  /** After {@link messageRemoved} returned true: the removed message's delivery sequence and count. */
  removedDseq = 0;
  removedDc = 0;
  /** Changed since the last {@link snapshot} (see {@link onChange}): 0 no, 1 yes, 2 urgently. */
  private dirty = 0;
  private changed: ((urgent: boolean) => void) | null = null;

  constructor(
    cfg: ConsumerStateConfig,
    private readonly source: ConsumerSource,
    private readonly now: () => number,
    private readonly hooks: ConsumerStateHooks = {},
  ) {
    this.filters = normalFilters(cfg.filters);
    this.ackPolicy = cfg.ackPolicy;
    this.ackWaitMs = cfg.ackWaitMs;
    this.backoff = cfg.backoffMs ?? [];
    this.maxdc = cfg.maxDeliver !== undefined && cfg.maxDeliver > 0 ? cfg.maxDeliver : 0;
    this.maxp =
      cfg.ackPolicy !== 'none' && cfg.maxAckPending !== undefined && cfg.maxAckPending > 0 ? cfg.maxAckPending : 0;
    this.retention = cfg.retention ?? 'limits';
    this.lastPerSubject = cfg.lastPerSubject === true;
    if (cfg.skipList !== undefined && cfg.skipList.seqs.length > 0) {
      this.lss = cfg.skipList.seqs;
      this.lssResume = cfg.skipList.resume;
    }
    this.sseq = Math.max(1, cfg.startSeq ?? 1);
    // selectStartingSeqNo: the ack floor starts just below the first sequence to deliver.
    this.asflr = this.sseq - 1;
    this.prefix = `$JS.ACK.${cfg.stream}.${cfg.consumer}.`;
    this.recomputeNumPending();
  }

  // ---- persistence ----

  /**
   * Calls `fn` when the persistent state (see {@link snapshot}) changes after a snapshot: once,
   * and once more if the change becomes urgent, until the next snapshot (a store remembers to
   * write it; nothing is allocated per change). Urgent: a client is about to see it — a
   * delivery, or an ack's reply ({@link ackReplied}); the rest (an ack without a reply, a nak,
   * an expiry) may be written later.
   */
  onChange(fn: ((urgent: boolean) => void) | null): void {
    this.changed = fn;
  }

  /** Marks the persistent state changed (one comparison on the hot path). */
  private touch(level: 1 | 2 = 1): void {
    if (this.dirty >= level) return;
    this.dirty = level;
    this.changed?.(level === 2);
  }

  /** The caller sends the reply of the ack just processed: its state change becomes urgent. */
  ackReplied(): void {
    this.touch(2);
  }

  /** The persistent state, as of now; clears the changed mark. */
  snapshot(): ConsumerSnapshot {
    this.dirty = 0;
    const pending = new Float64Array(this.pend.size * 3);
    this.pend.exportTo(pending, 0);
    const redelivered = new Float64Array(this.rdc.size * 2);
    let i = 0;
    for (const [seq, n] of this.rdc) {
      redelivered[i++] = seq;
      redelivered[i++] = n;
    }
    const q = this.rdq;
    const redeliveryQueue = new Float64Array(q.length - this.rdqHead);
    for (let j = this.rdqHead; j < q.length; j++) redeliveryQueue[j - this.rdqHead] = q[j]!;
    return {
      deliveredConsumer: this.dseq - 1, deliveredStream: this.sseq - 1,
      ackFloorConsumer: this.adflr, ackFloorStream: this.asflr,
      pending, redelivered, redeliveryQueue,
    };
  }

  /**
   * Replaces the state with a snapshot (nats-server's `applyState` on recovery): delivered, ack
   * floor, pending, redelivery counts and queue; num pending is counted from the source again.
   * With messages pending, {@link deadline} is set to check them soon (nats-server: 0.5-1.5 s,
   * or the ack wait if shorter): those whose ack wait passed while the server was down are
   * redelivered then. Pending messages the source no longer has leave pending as
   * {@link messageRemoved} takes them. Throws on a snapshot {@link checkSnapshot} refuses (state unchanged).
   */
  restore(s: ConsumerSnapshot): void {
    const bad = checkSnapshot(s);
    if (bad !== '') throw new Error(`consumer state: ${bad}`);
    this.dseq = s.deliveredConsumer + 1;
    this.sseq = s.deliveredStream + 1;
    // The skip list (last_per_subject) was built from the stream as it is now; once the restored
    // sequence reached its resume point it is spent (2.10.29 setLeader: "Cleanup lss", after
    // readStoredState), else its entries would be delivered again.
    if (this.lss !== null && this.sseq >= this.lssResume) {
      this.lss = null;
      this.lssHead = 0;
    }
    this.undoLss = null;
    this.adflr = s.ackFloorConsumer;
    this.asflr = s.ackFloorStream;
    this.pend.clear();
    const p = s.pending;
    for (let i = 0; i < p.length; i += 3) this.pend.add(p[i]!, p[i + 1]!, p[i + 2]!);
    this.rdc.clear();
    for (let i = 0; i < s.redelivered.length; i += 2) this.rdc.set(s.redelivered[i]!, s.redelivered[i + 1]!);
    this.clearRedeliverQueue();
    for (const seq of s.redeliveryQueue) if (!this.rdqi.has(seq)) this.pushRedelivery(seq);
    // A pending message the stream no longer has (expired by max_age while the server was down,
    // before its consumers were back) goes as a live removal would take it (messageRemoved).
    for (const seq of this.pendingSeqs()) if (this.source.load(seq) === null) this.ackMsg(seq, this.pend.dseqOf(seq)!);
    this.recomputeNumPending();
    this.deadline = this.pend.size > 0 ? this.now() + Math.min(1000, this.ackWaitMs + ACK_WAIT_DELAY) : 0;
    this.dirty = 0;
  }

  // ---- state (consumer info) ----

  /** `delivered.consumer_seq`. */
  get deliveredConsumerSeq(): number {
    return this.dseq - 1;
  }
  /** `delivered.stream_seq`. */
  get deliveredStreamSeq(): number {
    return this.sseq - 1;
  }
  /** `ack_floor.consumer_seq`. */
  get ackFloorConsumerSeq(): number {
    return this.adflr;
  }
  /** `ack_floor.stream_seq`. */
  get ackFloorStreamSeq(): number {
    return this.asflr;
  }
  /** `num_ack_pending`. */
  get numAckPending(): number {
    return this.pend.size;
  }
  /** `num_redelivered`: messages with a redelivery count. */
  get numRedelivered(): number {
    return this.rdc.size;
  }
  /** `num_pending`: messages at or after the next stream sequence matching the filter(s). */
  numPending(): number {
    return this.npc < 0 ? 0 : this.npc;
  }

  /** Counts num pending from the store again (`streamNumPending`), e.g. after a purge. */
  recomputeNumPending(): number {
    this.npf = this.source.lastSeq();
    this.npc = this.countPending();
    return this.npc;
  }

  /**
   * The stream's retention changed to interest (nats-server's stream update sets
   * `o.retention`; it does so only on a change to interest): acks now go to the stream.
   */
  setRetention(retention: RetentionPolicy): void {
    this.retention = retention;
  }

  /** Whether the consumer has any filter (nats-server's `isFiltered`, short of comparing with the stream's subjects). */
  get filtered(): boolean {
    return this.filters.length > 0;
  }

  /**
   * nats-server's `needAck`: does this consumer still need the message at `seq` (interest
   * retention keeps a message while some consumer does)? A message outside the filter is not
   * needed; with ack none or all, one above the ack floor is; with explicit, one above the
   * floor that is pending or not yet delivered is. A message that reached max deliveries (its
   * redelivery count is kept) is still needed.
   */
  needAck(seq: number, subject: string): boolean {
    if (this.filters.length > 0 && !this.isFilteredMatch(subject)) return false;
    let need = false;
    if (seq > this.asflr) need = this.ackPolicy !== 'explicit' || seq >= this.sseq || this.pend.has(seq);
    return need || this.rdc.has(seq);
  }

  /** Does `subject` pass the consumer's filter(s) (`isFilteredMatch`)? */
  isFilteredMatch(subject: string): boolean {
    const f = this.filters;
    if (f.length === 0) return true;
    for (let i = 0; i < f.length; i++) if (filterMatches(f[i]!, subject)) return true;
    return false;
  }

  /**
   * The stream stored a message (`processStreamSignal`): a matching one past what num pending
   * already counted adds to it.
   */
  messageStored(seq: number, subject: string): void {
    if (seq > this.npf && this.isFilteredMatch(subject)) this.npc++;
  }

  /**
   * Applies a consumer update (consumer.go updateConfig): the new max_ack_pending, max_deliver,
   * ack_wait/backoff and filters take effect now; a changed ack_wait re-arms a running pending
   * timer 100 ms out ({@link deadline}); num pending is counted again from the store (nats-server
   * recalculates it on every update). The caller delivers again (a higher max_ack_pending may
   * free a stall) and re-arms its timer.
   */
  update(u: ConsumerStateUpdate): void {
    if (u.ackWaitMs !== this.ackWaitMs && this.deadline !== 0) this.deadline = this.now() + 100;
    this.ackWaitMs = u.ackWaitMs;
    this.backoff = u.backoffMs ?? [];
    this.maxdc = u.maxDeliver !== undefined && u.maxDeliver > 0 ? u.maxDeliver : 0;
    this.maxp =
      this.ackPolicy !== 'none' && u.maxAckPending !== undefined && u.maxAckPending > 0 ? u.maxAckPending : 0;
    this.filters = normalFilters(u.filters);
    this.recomputeNumPending();
  }

  /** The skip list of a last_per_subject consumer still to deliver (empty when done). */
  skipListPending(): number[] {
    return this.lss === null ? [] : this.lss.slice(this.lssHead);
  }

  private countPending(): number {
    if (this.lastPerSubject && this.source.subjectsState !== undefined) {
      // Subjects whose last message is at or after the next sequence (nats-server 2.9's
      // calculation; 2.10's memstore NumPending(…, lastPerSubject) gives the same count).
      const subjects = new Set<string>();
      const fs = this.filters.length === 0 ? [''] : this.filters;
      for (const f of fs) {
        for (const [subj, ss] of this.source.subjectsState(f)) if (ss.last >= this.sseq) subjects.add(subj);
      }
      return subjects.size;
    }
    const f = this.filters;
    if (f.length === 0) return this.source.filteredState(this.sseq, '').msgs;
    if (f.length === 1) return this.source.filteredState(this.sseq, f[0]!).msgs;
    // Several filters may overlap: count distinct messages.
    let n = 0;
    for (let s = this.nextMatch(this.sseq); s > 0; s = this.nextMatch(s + 1)) n++;
    return n;
  }
  /** Is `seq` delivered and awaiting its ack? */
  isPending(seq: number): boolean {
    return this.pend.has(seq);
  }
  /** The original delivery sequence and delivery time of a pending message, or undefined. */
  pendingOf(seq: number): { readonly dseq: number; readonly ts: number } | undefined {
    const d = this.pend.dseqOf(seq);
    return d === undefined ? undefined : { dseq: d, ts: this.pend.tsOf(seq)! };
  }
  /** Stream sequences awaiting an ack (ascending). */
  pendingSeqs(): number[] {
    return [...this.pend.keys()].sort((a, b) => a - b);
  }
  /** How many messages wait for redelivery (the queue's length, without copying it). */
  get redeliveryLength(): number {
    return this.rdq.length - this.rdqHead;
  }
  /** The redelivery queue, in order. */
  redeliveryQueue(): number[] {
    return this.rdq.slice(this.rdqHead);
  }
  /** The delivery count nats-server reports for `seq` (`deliveryCount`). */
  deliveryCount(seq: number): number {
    const dc = this.rdc.get(seq);
    return dc !== undefined && dc >= 1 ? dc : 1;
  }
  /** The redelivery count stored for `seq` (`o.rdc[seq]`), 0 if none. */
  redeliveryCount(seq: number): number {
    return this.rdc.get(seq) ?? 0;
  }

  // ---- delivery ----

  /**
   * Picks the next message to deliver and records the delivery (`getNextMsg` + `deliverMsg`):
   * redeliveries first, then the next matching stream message, stalling at `max_ack_pending`.
   * Returns null when there is nothing (see {@link lastStall}). After a message,
   * {@link lastDc}/{@link lastDseq}/{@link lastPending} describe it and {@link ackReply} builds
   * its reply subject.
   */
  next(): StoredMessage | null {
    const sm = this.take();
    if (sm !== null) this.commit(sm);
    return sm;
  }

  /**
   * `getNextMsg` alone: picks the next message as {@link next} does (the stream pointer, the
   * redelivery queue and the delivery count move; {@link ackReply} describes it with the
   * delivery sequence it will get) without recording the delivery. The caller then either
   * {@link commit}s it (`deliverMsg`) or, when no waiting request can take it (max_bytes),
   * {@link putBack}s it.
   */
  take(): StoredMessage | null {
    const src = this.source;
    this.lastStall = '';
    this.undoLss = null;
    if (this.rdqHead < this.rdq.length) this.touch();
    while (this.rdqHead < this.rdq.length) {
      const seq = this.popRedelivery();
      const dc = this.incDeliveryCount(seq);
      if (this.maxdc > 0 && dc > this.maxdc) {
        if (dc === this.maxdc + 1) this.hooks.onMaxDeliveries?.(seq, dc - 1);
        this.pend.delete(seq);
        continue;
      }
      const sm = src.load(seq);
      if (sm === null) {
        // Removed meanwhile: the removal (messageRemoved) fixes pending; do not count it.
        this.rdc.set(seq, (this.rdc.get(seq) ?? 0) - 1);
        continue;
      }
      this.picked(dc);
      return sm;
    }
    if (this.maxp > 0 && this.pend.size >= this.maxp) {
      this.lastStall = 'max_ack_pending';
      return null;
    }
    // last_per_subject: the skip list first. As nats-server does, the next stream sequence only
    // steps by one per entry (from the first entry), and jumps past `resume` after the last.
    while (this.lss !== null) {
      const lss = this.lss;
      const head = this.lssHead;
      const sseq = this.sseq;
      const seq = lss[this.lssHead++]!;
      if (this.lssHead === lss.length) {
        this.sseq = this.lssResume;
        this.lss = null;
        this.lssHead = 0;
      }
      this.sseq++;
      const m = src.load(seq);
      if (m === null) continue;
      // What putBack restores if no waiting request can take it.
      this.undoLss = lss;
      this.undoLssHead = head;
      this.undoSseq = sseq;
      this.picked(1);
      return m;
    }
    const f = this.filters;
    let sm: StoredMessage | null;
    if (f.length === 0) sm = src.loadNext('', this.sseq);
    else if (f.length === 1) sm = src.loadNext(f[0]!, this.sseq);
    else {
      sm = null;
      for (let i = 0; i < f.length; i++) {
        const m = src.loadNext(f[i]!, this.sseq);
        if (m !== null && (sm === null || m.seq < sm.seq)) sm = m;
      }
    }
    if (sm === null) {
      // nats-server's store returns the last sequence with EOF; the consumer moves past it.
      const last = src.lastSeq();
      if (last >= this.sseq) {
        this.sseq = last + 1;
        this.touch();
      }
      // checkNumPendingOnEOF: past the last message nothing can be pending.
      if (this.sseq > last && this.npc !== 0) {
        this.npc = 0;
        this.npf = last;
      }
      this.lastStall = 'empty';
      return null;
    }
    if (sm.seq >= this.sseq) this.sseq = sm.seq + 1;
    this.picked(1);
    return sm;
  }

  private picked(dc: number): void {
    this.lastDc = dc;
    this.lastDseq = this.dseq;
    if (dc === 1) this.npc--;
    this.lastPending = this.npc < 0 ? 0 : this.npc;
  }

  /**
   * The message {@link take} returned was not sent (loopAndGatherMsgs without a waiting
   * request): a first delivery moves the stream pointer back, a redelivery goes back on the
   * redelivery queue with its delivery count restored. Nothing else changed.
   */
  putBack(sm: StoredMessage): void {
    if (this.undoLss !== null) {
      // A skip-list entry: the list and the stream pointer as they were before take().
      this.lss = this.undoLss;
      this.lssHead = this.undoLssHead;
      this.sseq = this.undoSseq;
      this.undoLss = null;
      this.npc++;
    } else if (this.lastDc === 1 && sm.seq === this.sseq - 1) {
      this.sseq--;
      this.npc++;
    } else if (!this.rdqi.has(sm.seq)) {
      this.rdc.set(sm.seq, (this.rdc.get(sm.seq) ?? 0) - 1);
      this.pushRedelivery(sm.seq);
    }
  }

  /** The ack reply subject of the last message {@link next} returned. */
  ackReply(sm: StoredMessage): string {
    return `${this.prefix}${this.lastDc}.${sm.seq}.${this.lastDseq}.${msToNsString(sm.ts)}.${this.lastPending}`;
  }

  /** Records the delivery of the message {@link take} returned (`deliverMsg`, trackPending). */
  commit(sm: StoredMessage): void {
    this.touch(2);
    const dseq = this.dseq++;
    const seq = sm.seq;
    const ap = this.ackPolicy;
    if (ap === 'none') {
      this.adflr = dseq;
      this.asflr = seq;
      if (this.retention !== 'limits') this.hooks.onStreamAck?.(seq);
      return;
    }
    // trackPending
    const now = this.now();
    let minDelay: number;
    const l = this.backoff.length;
    if (l > 0) {
      let bi = this.rdc.get(seq) ?? 0;
      if (bi < 0) bi = 0;
      else if (bi >= l) bi = l - 1;
      minDelay = this.backoff[bi]! + ACK_WAIT_DELAY;
    } else minDelay = this.ackWaitMs + ACK_WAIT_DELAY;
    const minDeadline = now + minDelay;
    if (this.deadline === 0 || this.deadline > minDeadline) this.deadline = minDeadline;
    if (this.pend.has(seq)) this.pend.setTs(seq, now);
    else this.pend.add(seq, dseq, now);
  }

  private nextMatch(start: number): number {
    let best = 0;
    for (const f of this.filters) {
      const m = this.source.loadNext(f, start);
      if (m !== null && (best === 0 || m.seq < best)) best = m.seq;
    }
    return best;
  }

  private incDeliveryCount(seq: number): number {
    const v = (this.rdc.get(seq) ?? 0) + 1;
    this.rdc.set(seq, v);
    return v + 1;
  }

  // ---- redelivery queue ----

  private pushRedelivery(seq: number): void {
    this.rdq.push(seq);
    this.rdqi.add(seq);
  }

  private popRedelivery(): number {
    const seq = this.rdq[this.rdqHead++]!;
    this.rdqi.delete(seq);
    if (this.rdqHead === this.rdq.length) {
      this.rdq.length = 0;
      this.rdqHead = 0;
    } else if (this.rdqHead > 64 && this.rdqHead * 2 > this.rdq.length) {
      this.rdq = this.rdq.slice(this.rdqHead);
      this.rdqHead = 0;
    }
    return seq;
  }

  private removeFromRedeliverQueue(seq: number): void {
    if (!this.rdqi.delete(seq)) return;
    const i = this.rdq.indexOf(seq, this.rdqHead);
    if (i >= 0) this.rdq.splice(i, 1);
    if (this.rdqHead === this.rdq.length) {
      this.rdq.length = 0;
      this.rdqHead = 0;
    }
  }

  private clearRedeliverQueue(): void {
    this.rdq.length = 0;
    this.rdqHead = 0;
    this.rdqi.clear();
  }

  // ---- acks ----

  /**
   * Processes a message on the ack subject (`processAck`): `sseq`/`dseq` from
   * {@link parseAckReply} (0 when the subject did not parse), `body` the payload after any
   * headers. Returns {@link AckResult} flags telling the caller what to send (the advisories
   * report the delivery count from the subject).
   */
  processAck(sseq: number, dseq: number, body: Uint8Array): number {
    this.touch();
    // nats-server: no reply when the subject did not parse (sseq 0), unless `updateAcks` sends it.
    let reply = sseq !== 0;
    let flags = 0;
    if (body.length === 0 || bodyIs(body, '+ACK') || bodyIs(body, '+OK')) {
      const r = this.ackMsg(sseq, dseq);
      if (r === REPLY_SENT) reply = true;
      else if (r === REPLY_NONE) reply = false;
    } else if (bodyStarts(body, '+NXT')) {
      this.ackMsg(sseq, dseq);
      flags |= AckResult.Next;
      reply = false;
    } else if (bodyStarts(body, '-NAK')) {
      if (this.nak(sseq, dseq, body)) flags |= AckResult.Nak;
    } else if (bodyIs(body, '+WPI')) {
      this.progress(sseq);
    } else if (bodyStarts(body, '+TERM')) {
      this.termReason = body.length > 5 ? trimmedRest(body, 5) : '';
      const r = this.ackMsg(sseq, dseq);
      if (r === REPLY_SENT) reply = true;
      else if (r === REPLY_NONE) reply = false;
      flags |= AckResult.Term;
    }
    return reply ? flags | AckResult.Reply : flags;
  }

  /**
   * `processAckMsg` (explicit/all/none). Returns who replies: {@link REPLY_SENT} (`updateAcks`
   * sends it, limits retention), {@link REPLY_CALLER} (processed in place: `processAck` sends
   * it unless the subject did not parse) or {@link REPLY_NONE} (ignored).
   */
  private ackMsg(sseq: number, dseq: number): number {
    // An ack past the next stream sequence to deliver is ignored (no reply at all).
    if (sseq >= this.sseq) return REPLY_NONE;
    const inPlace = this.retention !== 'limits';
    const ap = this.ackPolicy;
    if (ap === 'explicit') {
      const pd = this.pend.dseqOf(sseq);
      if (pd !== undefined) {
        this.pend.delete(sseq);
        dseq = pd;
        if (this.pend.size === 0) {
          this.adflr = this.dseq - 1;
          this.asflr = this.sseq - 1;
        } else if (dseq === this.adflr + 1) {
          this.adflr = dseq;
          this.asflr = sseq;
          for (let ss = sseq + 1; ss < this.sseq; ss++) {
            const p = this.pend.dseqOf(ss);
            if (p !== undefined) {
              if (p > 0) {
                this.adflr = p - 1;
                this.asflr = ss - 1;
              }
              break;
            }
          }
        }
      }
      this.rdc.delete(sseq);
      this.removeFromRedeliverQueue(sseq);
      if (inPlace) this.hooks.onStreamAck?.(sseq);
      return inPlace ? REPLY_CALLER : REPLY_SENT;
    }
    if (ap === 'all') {
      if (dseq <= this.adflr || sseq <= this.asflr) return REPLY_CALLER;
      const sgap = sseq - this.asflr;
      let floor = sseq;
      this.adflr = dseq;
      this.asflr = sseq;
      if (sgap > this.pend.size) {
        for (const seq of this.pend.keys()) {
          if (seq <= sseq) {
            this.pend.delete(seq);
            this.rdc.delete(seq);
            this.removeFromRedeliverQueue(seq);
            if (seq < floor) floor = seq;
          }
        }
      } else {
        for (let seq = sseq; seq > sseq - sgap && this.pend.size > 0; seq--) {
          this.pend.delete(seq);
          this.rdc.delete(seq);
          this.removeFromRedeliverQueue(seq);
          if (seq < floor) floor = seq;
        }
      }
      if (inPlace && this.hooks.onStreamAck !== undefined) {
        if (sgap > 1) for (let seq = sseq; seq >= floor; seq--) this.hooks.onStreamAck(seq);
        else this.hooks.onStreamAck(sseq);
      }
      return inPlace ? REPLY_CALLER : REPLY_SENT;
    }
    // Ack none: nothing is pending; nats-server answers only with interest/workqueue retention.
    return inPlace ? REPLY_CALLER : REPLY_NONE;
  }

  /** `processNak`; true when it was processed (the advisory is due). */
  private nak(sseq: number, dseq: number, body: Uint8Array): boolean {
    if (dseq <= this.adflr || dseq > this.dseq) return false;
    if (!this.pend.has(sseq)) return false;
    if (body.length > 4) {
      const arg = trimmedRest(body, 4);
      if (arg.length > 0) {
        let d: number | null = null;
        if (arg[0] === '{') {
          try {
            const v: unknown = JSON.parse(arg);
            if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
              // Go's json.Unmarshal into ConsumerNakOptions: the field name matches any case,
              // null is no change, anything but an integer is an error (a plain NAK).
              d = 0;
              for (const [k, delay] of Object.entries(v as Record<string, unknown>)) {
                if (k.toLowerCase() !== 'delay' || delay === null) continue;
                if (typeof delay === 'number' && Number.isInteger(delay)) d = delay / 1e6;
                else {
                  d = null;
                  break;
                }
              }
            }
          } catch {
            d = null;
          }
        } else d = parseGoDuration(arg);
        if (d !== null) {
          this.removeFromRedeliverQueue(sseq);
          if (this.pend.has(sseq)) {
            const now = this.now();
            this.pend.setTs(sseq, now - this.ackWaitMs + d);
            if (this.deadline !== 0) this.deadline = now + 10;
          }
          return true;
        }
        // A bad delay is a plain NAK (nats-server logs a warning).
      }
    }
    if (!this.rdqi.has(sseq)) this.pushRedelivery(sseq);
    return true;
  }

  /** `progressUpdate` (+WPI): restarts the ack wait of a pending message. */
  private progress(sseq: number): void {
    if (this.pend.has(sseq)) this.pend.setTs(sseq, this.now());
  }

  /**
   * A message left the stream (limits, delete, purge): nats-server's `decStreamPending`. A
   * matching one not yet delivered leaves num pending; a pending one is treated as terminated
   * (`processTerm` with reason "unacknowledged message was deleted"). Returns true when it was
   * pending (the caller sends the MSG_TERMINATED advisory).
   */
  messageRemoved(seq: number, subject: string): boolean {
    if (seq >= this.sseq && this.isFilteredMatch(subject)) this.npc--;
    const pd = this.pend.dseqOf(seq);
    if (pd === undefined) return false;
    this.touch();
    this.removedDseq = pd;
    this.removedDc = this.deliveryCount(seq);
    this.ackMsg(seq, pd);
    return true;
  }

  // ---- ack wait expiry ----

  /**
   * nats-server's `checkPending`, run when {@link deadline} passes: drops pending messages below
   * the stream's first sequence or the ack floor, queues expired ones for redelivery (sorted,
   * unless max deliveries was reached: then they leave pending and `onMaxDeliveries` is called
   * once), and sets the next {@link deadline} (0 when nothing is pending; the ack floor then
   * jumps to what was delivered).
   */
  checkPending(): void {
    this.touch();
    const now = this.now();
    const fseq = this.source.firstSeq();
    const ttl = this.ackWaitMs;
    const bo = this.backoff;
    let next = bo.length > 0 ? bo[bo.length - 1]! : ttl + ACK_WAIT_DELAY;
    let expired: number[] | null = null;
    // Keys, not entries: no [seq, ts] pair per pending message. Deleting while iterating is safe.
    for (const seq of this.pend.keys()) {
      const ts = this.pend.tsOf(seq)!;
      if (seq < fseq || seq <= this.asflr) {
        const pd = this.pend.dseqOf(seq)!;
        this.pend.delete(seq);
        this.rdc.delete(seq);
        this.removeFromRedeliverQueue(seq);
        if (seq > this.asflr) this.asflr = seq;
        if (pd > this.adflr) this.adflr = pd;
        continue;
      }
      const elapsed = now - ts;
      let deadline = ttl;
      if (bo.length > 0) {
        let dc = this.rdc.get(seq) ?? 0;
        if (dc < 0) dc = 0;
        let nbi = dc + 1;
        if (dc + 1 >= bo.length) {
          dc = bo.length - 1;
          nbi = dc;
        }
        deadline = bo[dc]!;
        if (bo[nbi]! < next) next = bo[nbi]!;
      }
      if (elapsed >= deadline) {
        if (!this.rdqi.has(seq) && !this.hasMaxDeliveries(seq)) (expired ??= []).push(seq);
      } else if (deadline - elapsed < next) next = deadline - elapsed;
    }
    if (expired !== null) {
      expired.sort((a, b) => a - b);
      for (const seq of expired) this.pushRedelivery(seq);
      const off = now - this.pend.tsOf(expired[0]!)!;
      for (const seq of expired) {
        const ts = this.pend.tsOf(seq);
        if (ts !== undefined) this.pend.setTs(seq, ts + off);
      }
    }
    if (this.pend.size > 0) this.deadline = now + next;
    else {
      this.deadline = 0;
      this.clearRedeliverQueue();
      this.adflr = this.dseq - 1;
      this.asflr = this.sseq - 1;
    }
  }

  /**
   * Test fault (nats-embedded only): every pending message's ack wait is over, so the next
   * {@link checkPending} queues all of them for redelivery (those at `max_deliver` leave pending).
   */
  expireAll(): void {
    if (this.pend.size > 0) this.touch();
    for (const seq of this.pend.keys()) this.pend.setTs(seq, 0);
    this.deadline = this.pend.size > 0 ? this.now() : 0;
  }

  /** `hasMaxDeliveries` (lock held, from checkPending). */
  private hasMaxDeliveries(seq: number): boolean {
    if (this.maxdc === 0) return false;
    const dc = this.deliveryCount(seq);
    if (dc < this.maxdc) return false;
    if (dc === this.maxdc) this.hooks.onMaxDeliveries?.(seq, dc);
    this.pend.delete(seq);
    this.rdc.set(seq, dc);
    return true;
  }
}

/** A '>' (or empty) filter matches everything: the same as no filter. */
function normalFilters(filters: readonly string[] | undefined): readonly string[] {
  if (filters === undefined) return [];
  return filters.some((f) => f === '' || f === '>') ? [] : [...filters];
}

/** `ackMsg` results: who sends the ack's empty reply. */
const REPLY_NONE = 0;
const REPLY_CALLER = 1;
const REPLY_SENT = 2;
