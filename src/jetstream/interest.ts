/**
 * Retention that depends on consumers: nats-server 2.10.29's interest and work-queue rules
 * (server/stream.go `ackMsg`, `noInterest`, `checkForInterestWithSubject`; server/consumer.go
 * `needAck`, `cleanupNoInterestMessages`, `checkStateForInterestStream`).
 *
 * - **Publish** (interest): a message no consumer's filter matches is not stored; its sequence
 *   is used up ({@link hasConsumerInterest}, the stream's `csl.HasInterest`).
 * - **Ack** ({@link streamAck}): a consumer acked (or, with ack none, was delivered) a
 *   message. Work queue: it goes. Interest: it goes once no other consumer needs it
 *   ({@link ConsumerState.needAck}).
 * - **Consumer deleted** ({@link cleanupAfterConsumerDelete}): the messages no remaining
 *   consumer needs go; with no consumer left the stream is purged.
 * - **Retention changed to interest** ({@link retentionChangedToInterest}): each consumer's
 *   acked messages are acked to the stream again.
 *
 * Pure bookkeeping over a stream's store and its consumers' states: no timers, no sockets.
 */
import type { AckPolicy } from './consumer-config.js';
import type { ConsumerSnapshot, ConsumerState } from './consumer-state.js';
import type { StreamStore } from './store/store.js';
import { filterMatches } from './store/subjects.js';
import type { RetentionPolicy } from './stream-config.js';

/** What the interest rules read of a consumer's state ({@link ConsumerState}, {@link InterestSnapshot}). */
export interface InterestState {
  readonly ackFloorStreamSeq: number;
  readonly deliveredStreamSeq: number;
  readonly numAckPending: number;
  /** nats-server's `needAck`: does the consumer still need the message at `seq`? */
  needAck(seq: number, subject: string): boolean;
  /** Does `subject` pass the consumer's filter(s)? */
  isFilteredMatch(subject: string): boolean;
  /** Is `seq` delivered and awaiting its ack? */
  isPending(seq: number): boolean;
}

/** What the interest rules read of a stream. */
export interface InterestStream {
  readonly cfg: { readonly retention: RetentionPolicy };
  readonly store: StreamStore;
  /**
   * The consumers whose interest counts (a deleted one already removed): a single server's
   * consumers; on a clustered stream every replicated consumer wherever it runs, each as its
   * last replicated state on this server says.
   */
  readonly interestConsumers: ReadonlyMap<string, { readonly state: InterestState }>;
  /**
   * Removes a message the rules let go (`store.remove(seq, false)`; a clustered stream proposes
   * the removal to its log instead, applied by every replica). Whether it is (or will be) gone.
   */
  removeMsg(seq: number): boolean;
  /** Purges every message (`store.purge('', 0, 0)`; a clustered stream: through its log). */
  purgeAll(): void;
}

/** Does some consumer's filter match `subject` (nats-server: `mset.csl.HasInterest`)? */
export function hasConsumerInterest(stream: InterestStream, subject: string): boolean {
  for (const c of stream.interestConsumers.values()) if (c.state.isFilteredMatch(subject)) return true;
  return false;
}

/** Does no consumer but `except` still need the message `seq` on `subject` (`noInterestWithSubject`)? */
function noInterest(stream: InterestStream, seq: number, subject: string, except: InterestState | null): boolean {
  for (const c of stream.interestConsumers.values()) {
    if (c.state !== except && c.state.needAck(seq, subject)) return false;
  }
  return true;
}

/**
 * nats-server's `mset.ackMsg`: `by` acked `seq` (null: an ack none delivery, which every
 * consumer's state already reflects). Returns whether the message was removed.
 */
export function streamAck(stream: InterestStream, by: InterestState | null, seq: number): boolean {
  const retention = stream.cfg.retention;
  if (seq === 0 || retention === 'limits') return false;
  const store = stream.store;
  // Already gone or never stored (ackMsg: "if this has already been deleted or is past, just ignore").
  const st = store.state();
  if (seq < st.firstSeq || seq > st.lastSeq) return false;
  // Work queue: removed on ack (nats-server waits for direct consumers of sources and mirrors,
  // which this package does not create).
  if (retention === 'workqueue') return stream.removeMsg(seq);
  let subject = '';
  const consumers = stream.interestConsumers;
  // One consumer (the acking one): nothing else can need it, no need to read its subject.
  if (consumers.size > 1 || (by === null && consumers.size > 0)) {
    const sm = store.load(seq);
    if (sm === null) return false;
    subject = sm.subject;
    if (!noInterest(stream, seq, subject, by)) return false;
  }
  return stream.removeMsg(seq);
}

/**
 * After a consumer of an interest stream was deleted (`cleanupNoInterestMessages` with the
 * consumer ignored): from its ack floor (at least the stream's first sequence) to the last
 * message, what no remaining consumer needs goes. With no consumer left, the stream is purged
 * (its first sequence moves past the last; nats-server 2.9 removed the messages one by one).
 */
export function cleanupAfterConsumerDelete(stream: InterestStream, deleted: InterestState): void {
  cleanupNoInterestMessages(stream, deleted.ackFloorStreamSeq);
}

/**
 * nats-server's `cleanupNoInterestMessages` on an interest stream, for the consumers in
 * `stream.consumers`: from `ackFloor` (at least the stream's first sequence) on, the messages
 * no consumer needs go. For a deleted consumer (already out of the map), and for a consumer
 * update that changes its filter (2.10 calls it with the updated consumer counted).
 */
export function cleanupNoInterestMessages(stream: InterestStream, ackFloor: number): void {
  if (stream.cfg.retention !== 'interest') return;
  const store = stream.store;
  if (stream.interestConsumers.size === 0) {
    stream.purgeAll();
    return;
  }
  const st = store.state();
  const start = Math.max(ackFloor, st.firstSeq);
  const gone: number[] = [];
  for (let m = store.loadNext('', start); m !== null && m.seq <= st.lastSeq; m = store.loadNext('', m.seq + 1)) {
    if (noInterest(stream, m.seq, m.subject, null)) gone.push(m.seq);
  }
  for (const seq of gone) stream.removeMsg(seq);
}

/**
 * A stream update changed the retention to interest: each consumer's state learns it and
 * (`checkStateForInterestStream`) acks to the stream again the messages at or below its ack
 * floor that match its filter, and the delivered ones between its floor and what it delivered
 * that are no longer pending. Messages no consumer matches stay (as in nats-server).
 */
export function retentionChangedToInterest(stream: InterestStream & { readonly consumers: ReadonlyMap<string, { readonly state: ConsumerState }> }, decides = true): void {
  for (const c of stream.consumers.values()) c.state.setRetention('interest');
  if (decides) checkInterestState(stream);
}

/**
 * nats-server's `checkInterestState` / `checkForOrphanMsgs` (stream.go): on an interest or
 * work-queue stream, each consumer's `checkStateForInterestStream` acks to the stream again what
 * it had acked — run when the retention changes to interest and when consumers are recovered
 * (a crash may have kept a consumer's ack but not the stream's removal).
 */
export function checkInterestState(stream: InterestStream, lostRemovals = false): void {
  if (stream.cfg.retention === 'limits') return;
  for (const c of [...stream.interestConsumers.values()]) recheckAcked(stream, c.state, lostRemovals);
}

/**
 * One consumer's part of {@link checkInterestState} (`checkStateForInterestStream`): the
 * messages at or below its ack floor that match its filter, and some delivered ones above it
 * that are no longer pending, are acked to the stream again.
 *
 * Above the floor, nats-server 2.10.29 (as a single server here, client-visible: a retention
 * change to interest, a recovery) walks only with a floor above 0 and acks the ones its
 * `needAck` says it still needs: for explicit acks that is none but those that reached
 * max_deliver, so an acked message above the floor stays. `lostRemovals` (a clustered stream's
 * new leader, or a consumer group's restored snapshot: the removals the former leader proposed
 * may have been lost with its term, where nats-server's replicas each remove as they apply the
 * acks and lose none) acks every one above the floor that the consumer no longer needs (acked:
 * not pending, matched by its filter, not kept for having reached max_deliver), as nats-server
 * 2.14 does (`[IMPROVED] Consumer interest check with large gap`). Without it, a message acked
 * while older ones were pending kept its place for good once its removal was lost (the Jepsen
 * work-queue run found it: test/jetstream/interest-recheck.test.ts).
 */
export function recheckAcked(stream: InterestStream, st: InterestState, lostRemovals = false): void {
  if (stream.cfg.retention === 'limits') return;
  const store = stream.store;
  const floor = st.ackFloorStreamSeq;
  const first = store.state().firstSeq;
  for (let m = store.loadNext('', first); m !== null && m.seq <= floor; m = store.loadNext('', m.seq + 1)) {
    if (st.isFilteredMatch(m.subject)) streamAck(stream, st, m.seq);
  }
  if (lostRemovals) {
    if (st.numAckPending === 0) return;
    for (let m = store.loadNext('', Math.max(floor + 1, first)); m !== null && m.seq <= st.deliveredStreamSeq; m = store.loadNext('', m.seq + 1)) {
      if (!st.isPending(m.seq) && st.isFilteredMatch(m.subject) && !st.needAck(m.seq, m.subject)) streamAck(stream, st, m.seq);
    }
  } else if (st.numAckPending > 0 && floor > 0) {
    for (let seq = floor + 1; seq <= st.deliveredStreamSeq; seq++) {
      if (st.isPending(seq)) continue;
      const m = store.load(seq);
      if (m !== null && st.needAck(seq, m.subject)) streamAck(stream, st, seq);
    }
  }
}

/**
 * A consumer's interest as a replicated state of it says (consumer-store.ts's snapshot): what
 * the rules read of a consumer that runs on another server of the cluster. Answers as
 * {@link ConsumerState} restored from the same snapshot would (a property test holds them
 * equal). A null snapshot (no state replicated yet) needs every message its filter matches.
 */
export class InterestSnapshot implements InterestState {
  private readonly filters: readonly string[];
  /** Read from `raw` on first use (the acking consumer's own snapshot is often never read). */
  private read: { floor: number; delivered: number; pending: Set<number>; redelivered: Set<number> } | null = null;

  /**
   * @param raw the state in consumer-store.ts's encoding (null: none replicated yet)
   * @param decode reads `raw` (consumer-store.ts `decodeConsumerState`; null: it does not decode)
   */
  constructor(
    private readonly raw: Buffer | null,
    private readonly decode: (raw: Buffer) => ConsumerSnapshot | null,
    filters: readonly string[],
    private readonly ackPolicy: AckPolicy,
  ) {
    // A '>' (or empty) filter is the same as none (ConsumerState's normalFilters).
    this.filters = filters.some((f) => f === '' || f === '>') ? [] : filters;
  }

  private get s(): { floor: number; delivered: number; pending: Set<number>; redelivered: Set<number> } {
    if (this.read !== null) return this.read;
    const s = this.raw === null ? null : this.decode(this.raw);
    const pending = new Set<number>();
    const redelivered = new Set<number>();
    if (s !== null) {
      for (let i = 0; i < s.pending.length; i += 3) pending.add(s.pending[i]!);
      for (let i = 0; i < s.redelivered.length; i += 2) redelivered.add(s.redelivered[i]!);
    }
    this.read = { floor: s?.ackFloorStream ?? 0, delivered: s?.deliveredStream ?? 0, pending, redelivered };
    return this.read;
  }

  get ackFloorStreamSeq(): number {
    return this.s.floor;
  }

  get deliveredStreamSeq(): number {
    return this.s.delivered;
  }

  get numAckPending(): number {
    return this.s.pending.size;
  }

  needAck(seq: number, subject: string): boolean {
    if (this.filters.length > 0 && !this.isFilteredMatch(subject)) return false;
    const s = this.s;
    let need = false;
    if (seq > s.floor) need = this.ackPolicy !== 'explicit' || seq > s.delivered || s.pending.has(seq);
    return need || s.redelivered.has(seq);
  }

  isFilteredMatch(subject: string): boolean {
    const f = this.filters;
    if (f.length === 0) return true;
    for (let i = 0; i < f.length; i++) if (filterMatches(f[i]!, subject)) return true;
    return false;
  }

  isPending(seq: number): boolean {
    return this.s.pending.has(seq);
  }
}
