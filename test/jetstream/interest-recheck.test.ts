/**
 * interest.ts `recheckAcked` (nats-server's `checkStateForInterestStream`): what a consumer
 * acked is acked to the stream again when a clustered stream gets a new leader (a removal the
 * former leader proposed may have been lost with its term) or a consumer is recovered. That
 * includes the messages acked above the ack floor: the Jepsen work-queue run (seed 18402 of
 * `JEPSEN_RETENTION=workqueue npm run test:chaos`) found one kept for good after a stream
 * leader stepdown: acked (confirmed) while older messages were still pending, its removal
 * lost with the old leader's term, and the new leader's re-check skipped it (it asked the
 * consumer's `needAck`, which is false exactly for an acked message: nats-server 2.10's loop,
 * a no-op for explicit acks; nats-server 2.14 acks every non-pending one up to delivered).
 * The clustered paths pass `lostRemovals` (2.14's walk); a single server keeps 2.10.29's
 * client-visible behaviour (interest.test.ts: a retention change to interest).
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/jetstream/store/memory.js';
import { InterestSnapshot, recheckAcked, type InterestStream } from '../../src/jetstream/interest.js';
import type { ConsumerSnapshot } from '../../src/jetstream/consumer-state.js';
import { decodeConsumerState, encodeConsumerState } from '../../src/jetstream/consumer-store.js';
import type { RetentionPolicy } from '../../src/jetstream/stream-config.js';

import { NO_LIMITS as LIMITS } from '../helpers/store-limits.js';

/** A stream of `n` messages on subject `a` (`b` for the seqs in `onB`), its removals done at once. */
function stream(retention: RetentionPolicy, n: number, consumers: Map<string, { state: InterestSnapshot }>, onB: number[] = []): InterestStream & { store: MemoryStore } {
  const store = new MemoryStore(LIMITS);
  for (let i = 1; i <= n; i++) store.store(onB.includes(i) ? 'b' : 'a', null, Buffer.from(`m${i}`));
  return { cfg: { retention }, store, interestConsumers: consumers, removeMsg: (seq) => store.remove(seq, false), purgeAll: () => store.purge('', 0, 0) };
}

/** A consumer state: delivered up to `delivered`, acked up to `floor`, `pending` awaiting acks, `redelivered` counts. */
function snapshot(floor: number, delivered: number, pending: number[], redelivered: Array<[number, number]> = []): ConsumerSnapshot {
  return {
    deliveredConsumer: delivered, deliveredStream: delivered, ackFloorConsumer: floor, ackFloorStream: floor,
    pending: Float64Array.from(pending.flatMap((s) => [s, s, 0])),
    redelivered: Float64Array.from(redelivered.flat()), redeliveryQueue: new Float64Array(0),
  };
}

/** The interest rules' reading of a replicated state (as a clustered stream's leader reads it). */
const shadow = (snap: ConsumerSnapshot, filters: readonly string[], ackPolicy: 'explicit' | 'all' | 'none'): InterestSnapshot =>
  new InterestSnapshot(encodeConsumerState(snap, 1), (raw) => decodeConsumerState(raw)?.state ?? null, filters, ackPolicy);

const seqs = (s: MemoryStore): number[] => {
  const out: number[] = [];
  for (let m = s.loadNext('', 1); m !== null; m = s.loadNext('', m.seq + 1)) out.push(m.seq);
  return out;
};

describe('recheckAcked: what a consumer acked goes again', () => {
  it('work queue: the acked messages above the ack floor go too, the pending ones and the undelivered ones stay', () => {
    // Delivered 1..6, 3 and 5 still pending (floor 2), 4 and 6 acked; 7, 8 not delivered yet.
    const st = shadow(snapshot(2, 6, [3, 5]), [], 'explicit');
    const s = stream('workqueue', 8, new Map([['c', { state: st }]]));
    recheckAcked(s, st, true);
    expect(seqs(s.store)).toEqual([3, 5, 7, 8]);
  });

  it('work queue: also with nothing acked below the first pending message (ack floor 0)', () => {
    const st = shadow(snapshot(0, 4, [1]), [], 'explicit');
    const s = stream('workqueue', 5, new Map([['c', { state: st }]]));
    recheckAcked(s, st, true);
    expect(seqs(s.store)).toEqual([1, 5]);
  });

  it('a message that reached max_deliver unacked stays (no longer pending, still tracked as redelivered), and one the filter does not match is not this consumer\'s', () => {
    // 3 hit max_deliver (not pending, redelivered twice); 4 is on subject b, outside the filter.
    const st = shadow(snapshot(1, 6, [2], [[3, 2]]), ['a'], 'explicit');
    const s = stream('workqueue', 6, new Map([['c', { state: st }]]), [4]);
    recheckAcked(s, st, true);
    expect(seqs(s.store)).toEqual([2, 3, 4]);
  });

  it('without lostRemovals (a single server, as nats-server 2.10.29): an acked message above the floor stays', () => {
    const st = shadow(snapshot(2, 6, [3, 5]), [], 'explicit');
    const s = stream('workqueue', 8, new Map([['c', { state: st }]]));
    recheckAcked(s, st);
    expect(seqs(s.store)).toEqual([3, 4, 5, 6, 7, 8]);
  });

  it('interest: an acked message above the floor goes once no other consumer needs it', () => {
    const c1 = shadow(snapshot(1, 4, [2]), [], 'explicit');
    const c2 = shadow(snapshot(3, 3, []), [], 'explicit');
    const s = stream('interest', 4, new Map([['c1', { state: c1 }], ['c2', { state: c2 }]]));
    recheckAcked(s, c1, true);
    // 1 acked by both; 2 pending on c1; 3 acked by both; 4 acked by c1, not yet delivered to c2.
    expect(seqs(s.store)).toEqual([2, 4]);
  });
});
