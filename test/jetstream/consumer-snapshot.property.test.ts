/**
 * Snapshot → state file → restore of the consumer delivery state (consumer-state.ts
 * `snapshot`/`restore`, consumer-store.ts `encodeConsumerState`/`decodeConsumerState`) is the
 * identity: for random delivery/ack histories, a state restored from the encoded snapshot of
 * another, taken at a random step, has the same snapshot (and num_pending, counted again from the
 * stream on both), and from then on both answer every
 * delivery, ack (all kinds), redelivery check and stream change the same way. And a state file
 * with any one byte changed, or cut short, is refused (null), never misread and never a throw.
 * The interest rules' reading of a snapshot (interest.ts InterestSnapshot) answers `needAck`
 * as the state it was taken from.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryStore } from '../../src/jetstream/store/memory.js';
import { NO_LIMITS as LIMITS } from '../helpers/store-limits.js';
import { ConsumerState, sourceFromStore, type AckPolicy, type ConsumerSnapshot } from '../../src/jetstream/consumer-state.js';
import { decodeConsumerState, encodeConsumerState } from '../../src/jetstream/consumer-store.js';
import { InterestSnapshot } from '../../src/jetstream/interest.js';

const SUBJECTS = ['a', 'b', 'c.x'];
const RUNS = Number(process.env.CONSUMER_PROP_RUNS ?? 300);
const BODIES = ['+ACK', '', '-NAK', '-NAK 40ms', '+WPI', '+TERM', '+NXT 1'];

type Op =
  | { k: 'append'; subject: string; n: number }
  | { k: 'remove'; pick: number }
  | { k: 'deliver'; n: number; miss: boolean }
  | { k: 'ack'; body: number; pick: number }
  | { k: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('append' as const), subject: fc.constantFrom(...SUBJECTS), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('deliver' as const), n: fc.integer({ min: 1, max: 5 }), miss: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('ack' as const), body: fc.nat(BODIES.length - 1), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 150 }) }) },
);

const cfgArb = fc.record({
  ackPolicy: fc.constantFrom<AckPolicy>('explicit', 'explicit', 'all', 'none'),
  maxDeliver: fc.constantFrom(-1, 2, 4),
  maxAckPending: fc.constantFrom(-1, 3, 8),
  filters: fc.constantFrom<string[]>([], ['a'], ['a', 'c.*']),
  backoff: fc.boolean(),
});

/** Order-free form of a snapshot (the tables are in map order). */
function canon(s: ConsumerSnapshot): unknown {
  const rows = (a: Float64Array, w: number): number[][] => {
    const out: number[][] = [];
    for (let i = 0; i < a.length; i += w) out.push([...a.subarray(i, i + w)]);
    return out.sort((x, y) => x[0]! - y[0]!);
  };
  return {
    d: [s.deliveredConsumer, s.deliveredStream], f: [s.ackFloorConsumer, s.ackFloorStream],
    p: rows(s.pending, 3), r: rows(s.redelivered, 2), q: [...s.redeliveryQueue],
  };
}

describe('consumer state snapshot and restore', () => {
  it('restore(decode(encode(snapshot))) behaves as the original from then on', () => {
    fc.assert(
      fc.property(cfgArb, fc.array(opArb, { maxLength: 60 }), fc.nat(), fc.array(opArb, { maxLength: 40 }), (cfg, before, gen, after) => {
        let t = 1_700_000_000_000;
        const clock = (): number => t;
        const store = new MemoryStore(LIMITS, { clock });
        const events: string[][] = [[], []];
        const make = (i: number): ConsumerState =>
          new ConsumerState(
            {
              stream: 'S', consumer: 'C', ackPolicy: cfg.ackPolicy, ackWaitMs: 100, backoffMs: cfg.backoff && cfg.maxDeliver !== 2 ? [30, 60] : [],
              maxDeliver: cfg.maxDeliver, maxAckPending: cfg.maxAckPending, filters: cfg.filters,
            },
            sourceFromStore(store),
            clock,
            { onMaxDeliveries: (s, d) => events[i]!.push(`max ${s} ${d}`), onStreamAck: (s) => events[i]!.push(`sack ${s}`) },
          );
        const states: ConsumerState[] = [make(0)];
        const step = (op: Op): void => {
          switch (op.k) {
            case 'append':
              for (let i = 0; i < op.n; i++) {
                const r = store.store(op.subject, null, Buffer.from('x'));
                if (!('seq' in r)) throw new Error('store failed');
                for (const c of states) c.messageStored(r.seq, op.subject);
              }
              break;
            case 'remove': {
              const st = store.state();
              if (st.msgs === 0) break;
              const seq = st.firstSeq + (op.pick % (st.lastSeq - st.firstSeq + 1));
              const sm = store.load(seq);
              if (sm === null || !store.remove(seq)) break;
              const r = states.map((c) => c.messageRemoved(seq, sm.subject));
              expect(new Set(r).size).toBe(1);
              break;
            }
            case 'deliver':
              for (let i = 0; i < op.n; i++) {
                if (op.miss && i === 0) {
                  // A message taken but not sent (no waiting request could take it): put back.
                  for (const c of states) {
                    const m = c.take();
                    if (m !== null) c.putBack(m);
                  }
                }
                const got = states.map((c) => {
                  const m = c.next();
                  return m === null ? [null, c.lastStall] : [m.seq, c.lastDc, c.lastDseq, c.lastPending, c.ackReply(m)];
                });
                if (states.length === 2) expect(got[1]).toEqual(got[0]);
                if (got[0]![0] === null) break;
              }
              break;
            case 'ack': {
              const seqs = states[0]!.pendingSeqs();
              const seq = seqs.length === 0 ? 1 : seqs[op.pick % seqs.length]!;
              const dseq = states[0]!.pendingOf(seq)?.dseq ?? 1;
              const body = Buffer.from(BODIES[op.body]!);
              const flags = states.map((c) => c.processAck(seq, dseq, body));
              if (states.length === 2) expect(flags[1]).toBe(flags[0]);
              break;
            }
            case 'advance':
              t += op.ms;
              // Both run checkPending at the same moments (their timers differ after a restore).
              if (states.some((c) => c.deadline !== 0 && c.deadline <= t)) for (const c of states) c.checkPending();
              break;
          }
          if (states.length === 2) {
            const [a, b] = states as [ConsumerState, ConsumerState];
            expect(canon(b.snapshot())).toEqual(canon(a.snapshot()));
            expect([b.numPending(), b.numAckPending, b.numRedelivered, b.redeliveryQueue()]).toEqual([a.numPending(), a.numAckPending, a.numRedelivered, a.redeliveryQueue()]);
            expect(events[1]).toEqual(events[0]);
          }
        };
        for (const op of before) step(op);
        const a = states[0]!;
        const snap = a.snapshot();
        const decoded = decodeConsumerState(encodeConsumerState(snap, gen + 1));
        expect(decoded?.generation).toBe(gen + 1);
        const b = make(1);
        b.restore(decoded!.state);
        events[0]!.length = 0;
        // num_pending is not part of the state: a restore counts it from the stream, as
        // nats-server does on recovery (its running count may have drifted).
        a.recomputeNumPending();
        expect(canon(b.snapshot())).toEqual(canon(snap));
        expect([b.numPending(), b.numAckPending, b.numRedelivered, b.redeliveryQueue()]).toEqual([a.numPending(), a.numAckPending, a.numRedelivered, a.redeliveryQueue()]);
        expect([b.deliveredConsumerSeq, b.deliveredStreamSeq, b.ackFloorConsumerSeq, b.ackFloorStreamSeq]).toEqual([
          a.deliveredConsumerSeq, a.deliveredStreamSeq, a.ackFloorConsumerSeq, a.ackFloorStreamSeq,
        ]);
        for (const seq of a.pendingSeqs()) {
          expect(b.pendingOf(seq)).toEqual(a.pendingOf(seq));
          expect(b.deliveryCount(seq)).toBe(a.deliveryCount(seq));
        }
        // A restored state with pending messages checks them soon (as nats-server's applyState).
        expect(b.deadline).toBe(a.numAckPending > 0 ? t + Math.min(1000, 101) : 0);
        // A clustered stream's leader reads a consumer led elsewhere through its replicated
        // state (interest.ts InterestSnapshot): it answers the interest rules as the live state.
        const shadow = new InterestSnapshot(encodeConsumerState(snap, 1), (raw) => decodeConsumerState(raw)?.state ?? null, cfg.filters, cfg.ackPolicy);
        expect([shadow.ackFloorStreamSeq, shadow.deliveredStreamSeq, shadow.numAckPending]).toEqual([a.ackFloorStreamSeq, a.deliveredStreamSeq, a.numAckPending]);
        for (let seq = 1; seq <= store.state().lastSeq + 2; seq++) {
          expect(shadow.isPending(seq)).toBe(a.isPending(seq));
          for (const subject of SUBJECTS) expect([seq, subject, shadow.needAck(seq, subject)]).toEqual([seq, subject, a.needAck(seq, subject)]);
        }
        states.push(b);
        for (const op of after) step(op);
      }),
      { numRuns: RUNS },
    );
  });

  it('a pending message gone from the stream while the state was on disk leaves pending on restore', () => {
    const store = new MemoryStore(LIMITS);
    for (let i = 0; i < 4; i++) store.store('a', null, Buffer.from('x'));
    const make = (): ConsumerState => new ConsumerState({ stream: 'S', consumer: 'C', ackPolicy: 'explicit', ackWaitMs: 30_000 }, sourceFromStore(store), Date.now);
    const a = make();
    for (let i = 0; i < 3; i++) a.next();
    const snap = a.snapshot();
    // Removed (say, max_age) with no consumer to tell: 1 and 3 of the 3 pending.
    store.remove(1);
    store.remove(3);
    const b = make();
    b.restore(snap);
    expect([b.pendingSeqs(), b.ackFloorStreamSeq, b.ackFloorConsumerSeq, b.deliveredStreamSeq, b.numPending()]).toEqual([[2], 1, 1, 3, 1]);
  });

  it('a state file with one byte changed, or cut short, is refused', () => {
    fc.assert(
      fc.property(
        fc.record({
          d: fc.nat(1e6), s: fc.nat(1e6),
          pend: fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.nat(1e6), fc.integer({ min: 0, max: 2 ** 45 })), { maxLength: 6 }),
          rdc: fc.array(fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: -1, max: 9 })), { maxLength: 4 }),
        }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (r, at, xor) => {
          const snap: ConsumerSnapshot = {
            deliveredConsumer: r.d + 1000, deliveredStream: r.s + 1000, ackFloorConsumer: r.d, ackFloorStream: r.s,
            pending: Float64Array.from(r.pend.flat()), redelivered: Float64Array.from(r.rdc.flat()), redeliveryQueue: Float64Array.from(r.pend.map((p) => p[0])),
          };
          const buf = encodeConsumerState(snap, 7);
          expect(canon(decodeConsumerState(buf)!.state)).toEqual(canon(snap));
          const bad = Buffer.from(buf);
          bad[at % bad.length] ^= xor;
          expect(decodeConsumerState(bad)).toBeNull();
          expect(decodeConsumerState(buf.subarray(0, at % buf.length))).toBeNull();
        },
      ),
      { numRuns: RUNS },
    );
  });
});
