/**
 * Unit tests of the consumer delivery state (src/jetstream/consumer-state.ts) against the
 * semantics of nats-server 2.10.29 server/consumer.go: the ack reply subject, ack policies,
 * ack floor movement, NAK delays, backoff and max deliveries.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/jetstream/store/memory.js';
import { NO_LIMITS as LIMITS } from '../helpers/store-limits.js';
import {
  AckResult,
  ConsumerState,
  buildAckReply,
  msToNsString,
  newAckInfo,
  parseAckReply,
  parseGoDuration,
  sourceFromStore,
  type ConsumerStateConfig,
} from '../../src/jetstream/consumer-state.js';

const EMPTY = Buffer.alloc(0);
const b = (s: string): Buffer => Buffer.from(s);

function setup(cfg: Partial<ConsumerStateConfig>, subjects: string[] = ['a', 'a', 'a', 'a', 'a']) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const store = new MemoryStore(LIMITS, { clock: clock.now });
  for (const s of subjects) store.store(s, null, b('x'));
  const maxDeliveries: [number, number][] = [];
  const acked: number[] = [];
  const c = new ConsumerState(
    { stream: 'S', consumer: 'C', ackPolicy: 'explicit', ackWaitMs: 1000, ...cfg },
    sourceFromStore(store),
    clock.now,
    { onMaxDeliveries: (s, d) => maxDeliveries.push([s, d]), onStreamAck: (s) => acked.push(s) },
  );
  const deliver = (n: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const m = c.next();
      if (m === null) break;
      out.push(m.seq);
    }
    return out;
  };
  /** Runs the pending timer if its deadline has passed. */
  const tick = (ms: number) => {
    clock.advance(ms);
    if (c.deadline !== 0 && clock.now() >= c.deadline) c.checkPending();
  };
  return { c, store, clock, deliver, tick, maxDeliveries, acked };
}

describe('ack reply subject', () => {
  it('is $JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts ns>.<pending> and parses back', () => {
    const { c, deliver } = setup({}, ['a', 'b', 'a']);
    const m = c.next()!;
    const reply = c.ackReply(m);
    expect(reply).toBe(`$JS.ACK.S.C.1.1.1.${msToNsString(m.ts)}.2`);
    expect(deliver(2)).toEqual([2, 3]);
    const info = newAckInfo();
    expect(parseAckReply(reply, info)).toBe(true);
    expect(info).toMatchObject({ stream: 'S', consumer: 'C', dc: 1, sseq: 1, dseq: 1, pending: 2, domain: '' });
  });

  it('writes the timestamp as integer nanoseconds', () => {
    // Store times are epoch ms doubles (about 0.25 µs resolution at today's dates).
    expect(msToNsString(1795981922351.5)).toBe('1795981922351500000');
    expect(msToNsString(1795981922351.25)).toBe('1795981922351250000');
    expect(msToNsString(1000)).toBe('1000000000');
    expect(msToNsString(1.9999999)).toBe('2000000');
    expect(buildAckReply('S', 'C', 2, 6, 9, 1000.5, 0)).toBe('$JS.ACK.S.C.2.6.9.1000500000.0');
  });

  it('parses the v2 form with domain and account hash (11 or 12 tokens)', () => {
    const info = newAckInfo();
    expect(parseAckReply('$JS.ACK.hub.ACCHASH.S.C.3.10.12.1700000000000000000.4.rnd', info)).toBe(true);
    expect(info).toMatchObject({ domain: 'hub', accountHash: 'ACCHASH', stream: 'S', consumer: 'C', dc: 3, sseq: 10, dseq: 12, ts: '1700000000000000000', pending: 4 });
    expect(parseAckReply('$JS.ACK._.H.S.C.1.2.3.4.5', info)).toBe(true);
    expect(info).toMatchObject({ domain: '_', stream: 'S', sseq: 2, dseq: 3, pending: 5 });
  });

  it('rejects other token counts and prefixes; non-decimal numbers become huge (as Go uint64(-1))', () => {
    const info = newAckInfo();
    expect(parseAckReply('$JS.ACK.S.C.1.2.3.4', info)).toBe(false);
    expect(info.sseq).toBe(0);
    expect(parseAckReply('$JS.ACK.S.C.1.2.3.4.5.6', info)).toBe(false);
    expect(parseAckReply('$JS.NAK.S.C.1.2.3.4.5', info)).toBe(false);
    expect(parseAckReply('$JS.ACK.a.b.c.d.e.f.g.h.i.j.k', info)).toBe(false);
    expect(parseAckReply('$JS.ACK.S.C.1.x.-3.4.5', info)).toBe(true);
    expect(info.sseq).toBe(Infinity);
    expect(info.dseq).toBe(Infinity);
  });
});

describe('explicit acks and the ack floor', () => {
  it('moves the floor only over contiguous acks and jumps to delivered when pending empties', () => {
    const { c, deliver } = setup({});
    expect(deliver(4)).toEqual([1, 2, 3, 4]);
    expect(c.processAck(2, 2, EMPTY)).toBe(AckResult.Reply);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([0, 0]);
    c.processAck(1, 1, b('+ACK'));
    // Floor to 1, then to just below the next pending (3).
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([2, 2]);
    c.processAck(4, 4, b('+OK'));
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([2, 2]);
    c.processAck(3, 3, EMPTY);
    expect(c.numAckPending).toBe(0);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([4, 4]);
    expect([c.deliveredConsumerSeq, c.deliveredStreamSeq]).toEqual([4, 4]);
  });

  it('a double ack changes nothing and still replies; an ack past delivered is ignored without reply', () => {
    const { c, deliver } = setup({});
    deliver(2);
    c.processAck(1, 1, EMPTY);
    const before = [c.ackFloorStreamSeq, c.numAckPending];
    expect(c.processAck(1, 1, EMPTY)).toBe(AckResult.Reply);
    expect([c.ackFloorStreamSeq, c.numAckPending]).toEqual(before);
    expect(c.processAck(3, 3, EMPTY)).toBe(0);
    expect(c.numAckPending).toBe(1);
  });

  it('uses the pending record\'s delivery sequence, not the one in the subject', () => {
    const { c, deliver } = setup({});
    deliver(2);
    c.processAck(1, 99, EMPTY);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([1, 1]);
  });

  it('with interest retention tells the stream about each acked message', () => {
    const { c, deliver, acked } = setup({ retention: 'interest' });
    deliver(2);
    c.processAck(2, 2, EMPTY);
    expect(acked).toEqual([2]);
  });
});

describe('ack policy all and none', () => {
  it('all: acking N acks everything up to N; older acks are no-ops that still reply', () => {
    const { c, deliver } = setup({ ackPolicy: 'all' });
    deliver(5);
    expect(c.processAck(3, 3, EMPTY)).toBe(AckResult.Reply);
    expect(c.pendingSeqs()).toEqual([4, 5]);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([3, 3]);
    expect(c.processAck(2, 2, EMPTY)).toBe(AckResult.Reply);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([3, 3]);
    c.processAck(5, 5, EMPTY);
    expect(c.numAckPending).toBe(0);
  });

  it('all with interest retention acks every sequence from the floor up', () => {
    const { c, deliver, acked } = setup({ ackPolicy: 'all', retention: 'workqueue' });
    deliver(4);
    c.processAck(3, 3, EMPTY);
    expect(acked).toEqual([3, 2, 1]);
  });

  it('none: nothing pending, the floor follows deliveries, and acks get no reply (limits)', () => {
    const { c, deliver } = setup({ ackPolicy: 'none', maxAckPending: 1 });
    expect(deliver(3)).toEqual([1, 2, 3]);
    expect(c.numAckPending).toBe(0);
    expect(c.deadline).toBe(0);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([3, 3]);
    expect(c.processAck(1, 1, EMPTY)).toBe(0);
  });
});

describe('delivery limits', () => {
  it('max_ack_pending stalls new messages but not redeliveries', () => {
    const { c, deliver, tick } = setup({ maxAckPending: 2 });
    expect(deliver(5)).toEqual([1, 2]);
    expect(c.lastStall).toBe('max_ack_pending');
    tick(1001);
    expect(c.redeliveryQueue()).toEqual([1, 2]);
    expect(deliver(5)).toEqual([1, 2]);
    expect(c.lastDc).toBe(2);
    c.processAck(1, 1, EMPTY);
    expect(deliver(5)).toEqual([3]);
  });

  it('a filter skips non-matching messages; num_pending counts matching ones', () => {
    const { c, deliver } = setup({ filters: ['b'] }, ['a', 'b', 'a', 'b', 'a']);
    expect(c.numPending()).toBe(2);
    expect(deliver(5)).toEqual([2, 4]);
    expect(c.lastStall).toBe('empty');
    // At EOF the next sequence moves past the stream's last message, as nats-server's does.
    expect(c.deliveredStreamSeq).toBe(5);
    expect(c.numPending()).toBe(0);
  });

  it('keeps num_pending as the stream stores and removes messages (and recounts after a purge)', () => {
    const { c, store, deliver } = setup({ filters: ['a'] }, ['a', 'b', 'a']);
    expect(c.numPending()).toBe(2);
    for (const subj of ['b', 'a', 'a']) {
      const r = store.store(subj, null, b('x'));
      if ('seq' in r) c.messageStored(r.seq, subj);
    }
    expect(c.numPending()).toBe(4);
    expect(deliver(1)).toEqual([1]);
    expect(c.lastPending).toBe(3);
    // Removing an undelivered matching message lowers it; a non-matching one does not.
    store.remove(3);
    expect(c.messageRemoved(3, 'a')).toBe(false);
    store.remove(4);
    c.messageRemoved(4, 'b');
    expect(c.numPending()).toBe(2);
    store.purge('', 0, 0);
    expect(c.recomputeNumPending()).toBe(0);
    expect(deliver(5)).toEqual([]);
  });

  it('starts at startSeq with delivered and the ack floor just below it (selectStartingSeqNo)', () => {
    const { c, deliver } = setup({ startSeq: 4 });
    expect([c.deliveredConsumerSeq, c.deliveredStreamSeq]).toEqual([0, 3]);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([0, 3]);
    expect(c.numPending()).toBe(2);
    expect(deliver(5)).toEqual([4, 5]);
    c.processAck(4, 1, EMPTY);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([1, 4]);
  });

  it('several filters deliver the union in stream order', () => {
    const { c, deliver } = setup({ filters: ['a', 'c'] }, ['a', 'b', 'c', 'b', 'a']);
    expect(c.numPending()).toBe(3);
    expect(deliver(5)).toEqual([1, 3, 5]);
  });
});

describe('redelivery', () => {
  it('ack_wait expiry queues in stream order, delivers with dc+1 and a new consumer sequence', () => {
    const { c, deliver, tick } = setup({});
    deliver(3);
    c.processAck(2, 2, EMPTY);
    tick(999);
    expect(c.redeliveryQueue()).toEqual([]);
    tick(2);
    expect(c.redeliveryQueue()).toEqual([1, 3]);
    const m = c.next()!;
    expect([m.seq, c.lastDc, c.lastDseq]).toEqual([1, 2, 4]);
    expect(c.ackReply(m)).toMatch(/^\$JS\.ACK\.S\.C\.2\.1\.4\.\d+\.2$/);
    expect(c.numRedelivered).toBe(1);
    // The original delivery sequence stays in pending.
    expect(c.pendingOf(1)?.dseq).toBe(1);
  });

  it('max_deliver: the last allowed delivery is the max, then the message leaves pending once, reported', () => {
    const { c, deliver, tick, maxDeliveries } = setup({ maxDeliver: 3 }, ['a']);
    expect(deliver(1)).toEqual([1]);
    for (let i = 2; i <= 3; i++) {
      tick(1001);
      expect(deliver(1)).toEqual([1]);
      expect(c.lastDc).toBe(i);
    }
    tick(1001);
    expect(deliver(1)).toEqual([]);
    expect(maxDeliveries).toEqual([[1, 3]]);
    expect(c.numAckPending).toBe(0);
    tick(5000);
    expect(deliver(1)).toEqual([]);
    expect(maxDeliveries).toHaveLength(1);
  });

  it('max_deliver 1: dropped at the first expiry', () => {
    const { c, deliver, tick, maxDeliveries } = setup({ maxDeliver: 1 }, ['a', 'a']);
    deliver(2);
    c.processAck(2, 2, EMPTY);
    tick(1001);
    expect(maxDeliveries).toEqual([[1, 1]]);
    expect(c.numAckPending).toBe(0);
    // Pending emptied by the timer: the floor jumps to delivered.
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([2, 2]);
    expect(c.deadline).toBe(0);
  });

  it('backoff: backoff[i] by redelivery count, the last entry repeating', () => {
    const { c, deliver, tick } = setup({ ackWaitMs: 100, backoffMs: [100, 300, 700] }, ['a']);
    deliver(1);
    const times: number[] = [];
    let t = 0;
    for (let step = 0; step < 3000 && times.length < 4; step++) {
      tick(1);
      t++;
      if (c.next() !== null) times.push(t);
    }
    // Redeliveries after 100, then 300, 700, 700 ms (first timer fires at +1 ms ackWaitDelay).
    const gaps = times.map((x, i) => x - (i === 0 ? 0 : times[i - 1]!));
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[0]).toBeLessThan(110);
    expect(gaps[1]).toBeGreaterThanOrEqual(300);
    expect(gaps[1]).toBeLessThan(310);
    expect(gaps[2]).toBeGreaterThanOrEqual(700);
    expect(gaps[2]).toBeLessThan(710);
    expect(gaps[3]).toBeGreaterThanOrEqual(700);
    expect(gaps[3]).toBeLessThan(710);
  });

  it('-NAK redelivers now; -NAK with a delay (Go duration or JSON ns) waits', () => {
    const { c, deliver, tick } = setup({ ackWaitMs: 10_000 }, ['a', 'a', 'a', 'a']);
    deliver(4);
    expect(c.processAck(1, 1, b('-NAK'))).toBe(AckResult.Reply | AckResult.Nak);
    expect(c.redeliveryQueue()).toEqual([1]);
    c.processAck(2, 2, b('-NAK 500ms'));
    c.processAck(3, 3, b('-NAK {"delay":2000000000}'));
    c.processAck(4, 4, b('-NAK bogus'));
    expect(c.redeliveryQueue()).toEqual([1, 4]);
    expect(deliver(5)).toEqual([1, 4]);
    tick(501);
    expect(c.redeliveryQueue()).toEqual([2]);
    tick(1500);
    expect(c.redeliveryQueue()).toEqual([2, 3]);
  });

  it('-NAK JSON delays follow Go\'s json: any-case field name, null is 0, non-integers are a plain NAK', () => {
    const { c, deliver, tick } = setup({ ackWaitMs: 10_000 }, ['a', 'a', 'a', 'a', 'a']);
    deliver(5);
    c.processAck(1, 1, b('-NAK {"Delay":300000000}'));
    c.processAck(2, 2, b('-NAK {"delay":null}'));
    c.processAck(3, 3, b('-NAK {"delay":"1s"}'));
    c.processAck(4, 4, b('-NAK {"delay":1.5}'));
    c.processAck(5, 5, b('-NAK {bad json'));
    // 3, 4 and 5 are plain NAKs: queued now; 2 (delay 0) expires at the timer's next run.
    expect(c.redeliveryQueue()).toEqual([3, 4, 5]);
    tick(11);
    expect(c.redeliveryQueue()).toEqual([3, 4, 5, 2]);
    tick(300);
    expect(c.redeliveryQueue()).toEqual([3, 4, 5, 2, 1]);
  });

  it('-NAK outside the delivered range or for a non-pending message is ignored but replied to', () => {
    const { c, deliver } = setup({});
    deliver(2);
    c.processAck(1, 1, EMPTY);
    expect(c.processAck(1, 1, b('-NAK'))).toBe(AckResult.Reply);
    expect(c.processAck(2, 7, b('-NAK'))).toBe(AckResult.Reply);
    expect(c.redeliveryQueue()).toEqual([]);
  });

  it('+WPI restarts the ack wait', () => {
    const { c, deliver, tick } = setup({}, ['a']);
    deliver(1);
    tick(800);
    expect(c.processAck(1, 1, b('+WPI'))).toBe(AckResult.Reply);
    tick(300);
    expect(c.redeliveryQueue()).toEqual([]);
    tick(800);
    expect(c.redeliveryQueue()).toEqual([1]);
  });

  it('+TERM acks without redelivery and keeps the reason; +NXT acks and hands over the request', () => {
    const { c, deliver, tick } = setup({}, ['a', 'a']);
    deliver(2);
    expect(c.processAck(1, 1, b('+TERM  bad data '))).toBe(AckResult.Reply | AckResult.Term);
    expect(c.termReason).toBe('bad data');
    expect(c.processAck(2, 2, b('+NXT {"batch":2}'))).toBe(AckResult.Next);
    tick(2000);
    expect(c.numAckPending).toBe(0);
    expect(c.redeliveryQueue()).toEqual([]);
  });

  it('take() then putBack() leaves a first delivery undone: no consumer sequence, pending count restored', () => {
    // loopAndGatherMsgs without a waiting request that fits (max_bytes): o.sseq--, o.npc++.
    const { c, deliver } = setup({}, ['a', 'a']);
    expect(c.numPending()).toBe(2);
    const m = c.take()!;
    expect(c.ackReply(m)).toBe(`$JS.ACK.S.C.1.1.1.${msToNsString(m.ts)}.1`);
    c.putBack(m);
    expect([c.deliveredConsumerSeq, c.deliveredStreamSeq, c.numAckPending, c.numRedelivered, c.numPending()]).toEqual([0, 0, 0, 0, 2]);
    expect(deliver(5)).toEqual([1, 2]);
    expect([c.lastDseq, c.deliveredConsumerSeq]).toEqual([2, 2]);
  });

  it('take() then putBack() of a redelivery queues it again with its delivery count restored', () => {
    const { c, deliver, tick } = setup({}, ['a']);
    deliver(1);
    tick(1001);
    const m = c.take()!;
    expect([m.seq, c.lastDc, c.lastDseq]).toEqual([1, 2, 2]);
    c.putBack(m);
    expect([c.redeliveryQueue(), c.deliveryCount(1), c.deliveredConsumerSeq]).toEqual([[1], 1, 1]);
    expect(c.next()?.seq).toBe(1);
    expect([c.lastDc, c.lastDseq, c.numRedelivered]).toEqual([2, 2, 1]);
  });

  it('a removed pending message is treated as terminated and skipped in the redelivery queue', () => {
    const { c, deliver, tick, store } = setup({}, ['a', 'a', 'a']);
    deliver(3);
    tick(1001);
    store.remove(2);
    expect(c.messageRemoved(2, 'a')).toBe(true);
    expect(c.messageRemoved(2, 'a')).toBe(false);
    expect(deliver(5)).toEqual([1, 3]);
  });
});

describe('timer and queue details', () => {
  it('a new delivery arms the timer earlier than a pending message\'s long backoff', () => {
    const { c, deliver, tick, store, clock } = setup({ ackWaitMs: 20, backoffMs: [20, 50, 500] }, ['a']);
    deliver(1);
    tick(21);
    deliver(1);
    tick(51);
    deliver(1);
    expect(c.lastDc).toBe(3);
    expect(c.deadline).toBe(clock.now() + 500);
    // A new message must be redelivered after backoff[0] (+1 ms), not when seq 1's 500 ms end.
    store.store('a', null, b('x'));
    c.messageStored(2, 'a');
    expect(deliver(1)).toEqual([2]);
    expect(c.deadline).toBe(clock.now() + 21);
  });

  it('-NAK with a consumer sequence at or below the ack floor is ignored (ack all)', () => {
    const { c, deliver, tick } = setup({ ackPolicy: 'all' }, ['a', 'a']);
    deliver(2);
    tick(1001);
    // Seq 1 redelivered as consumer seq 3; acking it (ack all) moves the floor to 3/1.
    expect(deliver(1)).toEqual([1]);
    c.processAck(1, 3, EMPTY);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([3, 1]);
    // Seq 2's queued redelivery is still pending; a NAK naming its first delivery (2) is out of range.
    expect(c.pendingSeqs()).toEqual([2]);
    const q = c.redeliveryQueue();
    expect(c.processAck(2, 2, b('-NAK'))).toBe(AckResult.Reply);
    expect(c.redeliveryQueue()).toEqual(q);
  });

  it('ack all walks the sequence range when the gap is small, acking unseen sequences too (interest)', () => {
    // nats-server walks seq..floor+1 when the gap is not larger than pending, and tells the
    // stream about every sequence down to the lowest it visited, matching or not.
    const { c, deliver, acked } = setup({ ackPolicy: 'all', retention: 'interest', filters: ['a'] }, ['b', 'a', 'a', 'a', 'a']);
    expect(deliver(5)).toEqual([2, 3, 4, 5]);
    c.processAck(3, 2, EMPTY);
    expect(acked).toEqual([3, 2, 1]);
    expect(c.pendingSeqs()).toEqual([4, 5]);
  });

  it('the timer drops pending messages below the stream\'s first sequence and raises the floor', () => {
    const { c, deliver, tick, store } = setup({}, ['a', 'a', 'a']);
    deliver(3);
    c.processAck(3, 3, EMPTY);
    // Removed without the consumer being told (messageRemoved not called).
    store.remove(1);
    store.remove(2);
    tick(1001);
    expect(c.numAckPending).toBe(0);
    expect(c.redeliveryQueue()).toEqual([]);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([3, 3]);
  });

  it('keeps the redelivery queue in order through pops, removals and compaction', () => {
    const n = 300;
    const { c, deliver, tick } = setup({}, Array.from({ length: n }, () => 'a'));
    expect(deliver(n)).toHaveLength(n);
    tick(1001);
    const want = Array.from({ length: n }, (_, i) => i + 1);
    expect(c.redeliveryQueue()).toEqual(want);
    expect(deliver(100)).toEqual(want.slice(0, 100));
    // Ack some queued ones in the middle: they leave the queue.
    for (const s of [150, 151, 200, 300]) c.processAck(s, s, EMPTY);
    const rest = want.slice(100).filter((s) => ![150, 151, 200, 300].includes(s));
    expect(c.redeliveryQueue()).toEqual(rest);
    expect(deliver(1000)).toEqual(rest);
    expect(c.redeliveryQueue()).toEqual([]);
  });
});

describe('parseGoDuration', () => {
  it('accepts what time.ParseDuration accepts', () => {
    expect(parseGoDuration('1s')).toBe(1000);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
    expect(parseGoDuration('250us')).toBe(0.25);
    expect(parseGoDuration('-2ms')).toBe(-2);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('.5s')).toBe(500);
    for (const bad of ['', '1', 's', '1x', '.s', '1.s2', '--1s']) expect(parseGoDuration(bad), bad).toBeNull();
  });
});

describe('needAck (interest retention: does this consumer still need the message?)', () => {
  it('explicit: above the floor and pending or not delivered yet; outside the filter never', () => {
    const { c, deliver } = setup({ retention: 'interest', filters: ['a'] }, ['a', 'b', 'a', 'a']);
    expect([1, 3, 4].map((s) => c.needAck(s, 'a'))).toEqual([true, true, true]);
    expect(c.needAck(2, 'b')).toBe(false);
    expect(deliver(2)).toEqual([1, 3]);
    c.processAck(3, 2, EMPTY);
    // 1 pending, 3 acked (above the floor, not pending), 4 not delivered.
    expect([1, 3, 4].map((s) => c.needAck(s, 'a'))).toEqual([true, false, true]);
    c.processAck(1, 1, EMPTY);
    expect(c.ackFloorStreamSeq).toBe(3);
    expect([1, 3, 4].map((s) => c.needAck(s, 'a'))).toEqual([false, false, true]);
  });

  it('ack all and none: above the ack floor', () => {
    const all = setup({ retention: 'interest', ackPolicy: 'all' });
    all.deliver(3);
    expect([1, 2, 3, 4].map((s) => all.c.needAck(s, 'a'))).toEqual([true, true, true, true]);
    all.c.processAck(2, 2, EMPTY);
    expect([1, 2, 3, 4].map((s) => all.c.needAck(s, 'a'))).toEqual([false, false, true, true]);
    const none = setup({ retention: 'interest', ackPolicy: 'none' });
    none.deliver(2);
    expect([2, 3].map((s) => none.c.needAck(s, 'a'))).toEqual([false, true]);
    expect(none.acked).toEqual([1, 2]);
  });

  it('a message that reached max deliveries is still needed (its redelivery count is kept)', () => {
    const { c, deliver, tick } = setup({ retention: 'interest', maxDeliver: 1 }, ['a']);
    deliver(1);
    tick(2000);
    expect(c.numAckPending).toBe(0);
    expect(c.needAck(1, 'a')).toBe(true);
  });
});
