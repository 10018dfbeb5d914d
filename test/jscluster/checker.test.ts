/**
 * The Jepsen-style checker on synthetic histories: a clean run passes, runs with the allowed
 * nondeterminism (indeterminate publishes, lost acks and their redeliveries, concurrent
 * publishes) pass, and each kind of anomaly is reported by a history that has it, and only it.
 */
import { describe, expect, it } from 'vitest';
import { check } from './checker.js';
import type { AckOp, AnomalyKind, Delivery, FinalRead, History, PublishOp, StoredMessage } from './history.js';

interface Run {
  history: History;
  final: FinalRead;
}

/** n publishes by one publisher, acked with seqs 1..n, each delivered once and its ack confirmed; drained. */
function clean(n = 5): Run {
  const history: History = {
    seed: 1, options: {}, publishes: [], deliveries: [], acks: [], nemesis: [], events: [], workloadEndAt: 10 * n + 10, endAt: 10 * n + 20,
  };
  const messages: StoredMessage[] = [];
  for (let i = 0; i < n; i++) {
    const id = `p0-${i}`;
    const seq = i + 1;
    history.publishes.push({
      process: 0, id, subject: 'jepsen.p0', payload: `x${i}`, invokeAt: 10 * i, completeAt: 10 * i + 5, outcome: 'ok', seq,
      attempts: [{ at: 10 * i, end: 10 * i + 5, result: 'ack', seq, duplicate: false }],
    });
    messages.push({ seq, subject: 'jepsen.p0', id, payload: `x${i}` });
    history.deliveries.push({ worker: 0, id, seq, deliveryCount: 1, redelivered: false, payload: `x${i}`, at: 10 * i + 6 });
    history.acks.push({ worker: 0, id, seq, deliveryCount: 1, invokeAt: 10 * i + 6, completeAt: 10 * i + 7, outcome: 'ok' });
  }
  return {
    history,
    final: { state: { firstSeq: 1, lastSeq: n, messages: n }, messages, consumer: { deliveredStreamSeq: n, ackFloorStreamSeq: n, numPending: 0, numAckPending: 0 } },
  };
}

/** Adds a message to the end of the stream: published as `outcome`, delivered and acked. */
function append(run: Run, id: string, outcome: PublishOp['outcome'], at: number, publish = true): number {
  const seq = run.final.state.lastSeq + 1;
  if (publish) {
    run.history.publishes.push({
      process: 1, id, subject: 'jepsen.p1', payload: id, invokeAt: at, completeAt: at + 50, outcome, seq: outcome === 'ok' ? seq : undefined,
      attempts: outcome === 'ok' ? [{ at, end: at + 50, result: 'ack', seq }] : [{ at, end: at + 50, result: outcome === 'fail' ? 'no-responders' : 'timeout' }],
    });
  }
  run.final.messages.push({ seq, subject: 'jepsen.p1', id, payload: id });
  run.final.state = { ...run.final.state, lastSeq: seq, messages: run.final.state.messages + 1 };
  run.history.deliveries.push({ worker: 1, id, seq, deliveryCount: 1, redelivered: false, payload: id, at: at + 60 });
  run.history.acks.push({ worker: 1, id, seq, deliveryCount: 1, invokeAt: at + 60, completeAt: at + 61, outcome: 'ok' });
  run.final.consumer = { ...run.final.consumer!, deliveredStreamSeq: seq, ackFloorStreamSeq: seq };
  return seq;
}

const kinds = (run: Run): AnomalyKind[] => [...new Set(check(run.history, run.final).map((a) => a.kind))].sort();

describe('Jepsen checker', () => {
  it('passes a clean history', () => {
    expect(check(clean().history, clean().final)).toEqual([]);
  });

  it('passes an empty run', () => {
    const run = clean(0);
    expect(check(run.history, run.final)).toEqual([]);
  });

  it('allows an indeterminate publish to be in the stream or not, and a failed one to be absent', () => {
    const run = clean();
    run.history.publishes.push({
      process: 1, id: 'gone', subject: 'jepsen.p1', payload: 'gone', invokeAt: 20, completeAt: 90, outcome: 'info',
      attempts: [{ at: 20, end: 40, result: 'timeout' }, { at: 45, end: 90, result: 'error', error: 'disconnected' }],
    });
    run.history.publishes.push({ process: 1, id: 'refused', subject: 'jepsen.p1', payload: 'r', invokeAt: 91, completeAt: 92, outcome: 'fail', attempts: [{ at: 91, end: 92, result: 'no-responders' }] });
    append(run, 'late', 'info', 21);
    expect(check(run.history, run.final)).toEqual([]);
  });

  it('allows concurrent publishes in either order, and a retried publish acked as a duplicate', () => {
    const run = clean(2);
    // q0 is invoked before p0-1 is acked and acked after: either order is linearizable.
    const seq = append(run, 'q0', 'ok', 8);
    expect(seq).toBe(3);
    // p0-1 was retried: its first attempt timed out but was stored; the retry says duplicate.
    const p = run.history.publishes[1]!;
    p.attempts = [{ at: 10, end: 12, result: 'timeout' }, { at: 13, end: 15, result: 'ack', seq: 2, duplicate: true }];
    expect(check(run.history, run.final)).toEqual([]);
  });

  it('allows redeliveries after an unconfirmed ack, and an unconfirmed ack that landed', () => {
    const run = clean();
    // seq 2: the first ack timed out and the message came back; the second ack was confirmed.
    run.history.acks[1] = { ...run.history.acks[1]!, outcome: 'info', completeAt: 30, error: 'TimeoutError' };
    run.history.deliveries.push({ worker: 1, id: 'p0-1', seq: 2, deliveryCount: 2, redelivered: true, payload: 'x1', at: 100 });
    run.history.acks.push({ worker: 1, id: 'p0-1', seq: 2, deliveryCount: 2, invokeAt: 100, completeAt: 101, outcome: 'ok' });
    // seq 4: the ack timed out but the server took it (below the ack floor), no redelivery.
    run.history.acks[3] = { ...run.history.acks[3]!, outcome: 'info', completeAt: 60 };
    expect(check(run.history, run.final)).toEqual([]);
  });

  it('(a) lost: an acked publish missing from the stream', () => {
    const run = clean();
    run.final.messages.splice(2, 1);
    run.final.state = { ...run.final.state, messages: 4 };
    run.history.deliveries.splice(2, 1);
    run.history.acks.splice(2, 1);
    expect(kinds(run)).toEqual(['lost']);
    expect(check(run.history, run.final)[0]).toMatchObject({ kind: 'lost', id: 'p0-2', seq: 3 });
  });

  it('(b) duplicated: one message id stored twice', () => {
    const run = clean();
    append(run, 'p0-3', 'ok', 200, false);
    run.final.messages[5]!.subject = 'jepsen.p0';
    run.final.messages[5]!.payload = 'x3';
    expect(kinds(run)).toEqual(['duplicated']);
    expect(check(run.history, run.final)[0]).toMatchObject({ kind: 'duplicated', id: 'p0-3', details: { seqs: [4, 6] } });
  });

  it('(c) reordered: a message acked before another was published has the higher seq', () => {
    const run = clean();
    // p0-1 (acked at 15) stored at 4, p0-3 (published at 30) stored at 2; PubAcks and deliveries agree with the stream.
    const swap = (id: string, seq: number): void => {
      const p = run.history.publishes.find((x) => x.id === id)!;
      p.seq = seq;
      p.attempts[0]!.seq = seq;
      run.final.messages.find((m) => m.id === id)!.seq = seq;
      for (const d of run.history.deliveries) if (d.id === id) d.seq = seq;
      for (const a of run.history.acks) if (a.id === id) a.seq = seq;
    };
    swap('p0-1', 4);
    swap('p0-3', 2);
    run.final.messages.sort((a, b) => a.seq - b.seq);
    expect(kinds(run)).toEqual(['reordered']);
    const found = check(run.history, run.final).filter((a) => a.kind === 'reordered');
    expect(found.map((a) => a.details)).toContainEqual({ before: 'p0-1', beforeSeq: 4, after: 'p0-3', afterSeq: 2 });
  });

  it('(d) seq-mismatch: a PubAck seq that is not where the message is', () => {
    const run = clean();
    run.history.publishes[2]!.attempts[0]!.seq = 9;
    expect(kinds(run)).toEqual(['seq-mismatch']);
  });

  it('(e) unexpected: a stored message never published, or whose publish certainly failed', () => {
    const ghost = clean();
    append(ghost, 'ghost', 'ok', 200, false);
    expect(kinds(ghost)).toEqual(['unexpected']);
    const refused = clean();
    append(refused, 'refused', 'fail', 200);
    expect(kinds(refused)).toEqual(['unexpected']);
  });

  it('(e) corrupted: a stored payload or subject differs from the published one', () => {
    const run = clean();
    run.final.messages[1]!.payload = 'tampered';
    expect(kinds(run)).toEqual(['corrupted']);
    const subject = clean();
    subject.final.messages[1]!.subject = 'jepsen.other';
    expect(kinds(subject)).toEqual(['corrupted']);
  });

  it('(f) undelivered: a stored message never delivered', () => {
    const run = clean();
    run.history.deliveries.splice(2, 1);
    run.history.acks.splice(2, 1);
    run.final.consumer = { deliveredStreamSeq: 5, ackFloorStreamSeq: 2, numPending: 0, numAckPending: 1 };
    expect(kinds(run)).toEqual(['undelivered']);
  });

  it('(f) unacked: delivered, its ack lost, and never delivered again', () => {
    const run = clean();
    run.history.acks[2] = { ...run.history.acks[2]!, outcome: 'info', completeAt: 40 };
    run.final.consumer = { deliveredStreamSeq: 5, ackFloorStreamSeq: 2, numPending: 0, numAckPending: 1 };
    expect(kinds(run)).toEqual(['unacked']);
  });

  it('(f) redelivered-after-ack: delivered again after the ack was confirmed', () => {
    const run = clean();
    run.history.deliveries.push({ worker: 1, id: 'p0-1', seq: 2, deliveryCount: 2, redelivered: true, payload: 'x1', at: 500 });
    run.history.acks.push({ worker: 1, id: 'p0-1', seq: 2, deliveryCount: 2, invokeAt: 500, completeAt: 501, outcome: 'ok' });
    expect(kinds(run)).toEqual(['redelivered-after-ack']);
  });

  it('(f) a redelivery crossing the ack confirmation (within the grace) is not an anomaly', () => {
    const run = clean();
    // The ack of seq 2 was confirmed at 17; ack_wait ran out as it arrived, and the redelivery
    // reached another worker 100 ms later.
    run.history.deliveries.push({ worker: 1, id: 'p0-1', seq: 2, deliveryCount: 2, redelivered: true, payload: 'x1', at: 117 });
    run.history.acks.push({ worker: 1, id: 'p0-1', seq: 2, deliveryCount: 2, invokeAt: 117, completeAt: 118, outcome: 'ok' });
    expect(check(run.history, run.final)).toEqual([]);
    expect(check(run.history, run.final, { redeliveryGraceMs: 50 }).map((a) => a.kind)).toEqual(['redelivered-after-ack']);
  });

  it('(f) delivered-not-stored: a delivery the final stream does not have', () => {
    const run = clean();
    run.history.deliveries.push({ worker: 1, id: 'p0-9', seq: 9, deliveryCount: 1, redelivered: false, payload: 'x9', at: 500 });
    expect(kinds(run)).toEqual(['delivered-not-stored']);
    const other = clean();
    other.history.deliveries.push({ worker: 1, id: 'p0-4', seq: 2, deliveryCount: 1, redelivered: false, payload: 'x4', at: 500 });
    expect(kinds(other)).toEqual(['delivered-not-stored']);
  });

  it('(g) consumer-state: final counts that contradict the stream or the acks', () => {
    const cases: Array<Partial<NonNullable<FinalRead['consumer']>>> = [
      { numPending: 1 }, // nothing is above delivered
      { numAckPending: 1 }, // every message's ack was confirmed
      { deliveredStreamSeq: 6 }, // beyond the stream
      { deliveredStreamSeq: 3, ackFloorStreamSeq: 3, numPending: 2 }, // seq 5 was delivered
      { ackFloorStreamSeq: 5, deliveredStreamSeq: 4, numPending: 1 }, // floor above delivered
    ];
    for (const patch of cases) {
      const run = clean();
      run.final.consumer = { ...run.final.consumer!, ...patch };
      expect(kinds(run), JSON.stringify(patch)).toEqual(['consumer-state']);
    }
    // Acked by the consumer though no ack was ever sent (the only ack reached nobody).
    const noAck = clean();
    noAck.history.acks[1] = { ...noAck.history.acks[1]!, outcome: 'fail', error: 'no responders' };
    expect(kinds(noAck)).toEqual(['consumer-state']);
    const unread = clean();
    unread.final.consumer = null;
    expect(kinds(unread)).toEqual(['consumer-state']);
  });

  it('read-inconsistent: a final read that disagrees with the stream state', () => {
    const count = clean();
    count.final.state = { ...count.final.state, messages: 6 };
    expect(kinds(count)).toEqual(['read-inconsistent']);
    const range = clean();
    range.final.state = { ...range.final.state, lastSeq: 4 };
    expect(kinds(range)).toContain('read-inconsistent');
    const order = clean();
    order.final.messages.reverse();
    expect(kinds(order)).toContain('read-inconsistent');
  });
});

/**
 * Work-queue mode: n publishes acked with seqs 1..n, each delivered once and its ack confirmed,
 * so each was removed: the final stream is empty, the consumer at seq n.
 */
function cleanWq(n = 5): Run {
  const run = clean(n);
  run.history.options = { retention: 'workqueue' };
  run.final.messages = [];
  run.final.state = { firstSeq: n + 1, lastSeq: n, messages: 0 };
  return run;
}

/** Puts seq `seq` (published, delivered as in `clean`) back into the final stream: not removed. */
function keep(run: Run, seq: number): void {
  const p = run.history.publishes[seq - 1]!;
  run.final.messages.push({ seq, subject: p.subject, id: p.id, payload: p.payload });
  run.final.messages.sort((a, b) => a.seq - b.seq);
  run.final.state = { firstSeq: run.final.messages[0]!.seq, lastSeq: run.final.state.lastSeq, messages: run.final.messages.length };
}

/** The delivery and the ack of `seq` in `cleanWq` (one each). */
const deliveryOf = (run: Run, seq: number): Delivery => run.history.deliveries.find((d) => d.seq === seq)!;
const ackOf = (run: Run, seq: number): AckOp => run.history.acks.find((a) => a.seq === seq)!;

describe('Jepsen checker, work-queue mode', () => {
  it('passes a clean history: every message delivered, acked and removed', () => {
    const run = cleanWq();
    expect(check(run.history, run.final)).toEqual([]);
    expect(check(run.history, run.final, { retention: 'workqueue' })).toEqual([]);
    // The mode matters: a limits stream must have kept them.
    expect(kinds({ history: { ...run.history, options: {} }, final: run.final })).toEqual(['delivered-not-stored', 'lost']);
  });

  it('passes an empty run', () => {
    const run = cleanWq(0);
    expect(check(run.history, run.final)).toEqual([]);
  });

  it('allows the nondeterminism of a work queue: indeterminate publishes, unconfirmed acks that landed, redeliveries, unacked messages still pending', () => {
    const run = cleanWq();
    // An indeterminate publish that was stored, delivered, acked and removed; another never stored.
    run.history.publishes[1] = { ...run.history.publishes[1]!, outcome: 'info', seq: undefined, attempts: [{ at: 10, end: 15, result: 'timeout' }] };
    run.history.publishes.push({ process: 1, id: 'gone', subject: 'jepsen.p1', payload: 'gone', invokeAt: 20, completeAt: 90, outcome: 'info', attempts: [{ at: 20, end: 90, result: 'timeout' }] });
    // seq 3: the ack timed out but the server took it (removed, no redelivery).
    ackOf(run, 3).outcome = 'info';
    // seq 4: the first delivery was dropped (worker crash); the redelivery was acked.
    run.history.acks.splice(run.history.acks.indexOf(ackOf(run, 4)), 1);
    deliveryOf(run, 4).dropped = true;
    run.history.deliveries.push({ worker: 1, id: 'p0-3', seq: 4, deliveryCount: 2, redelivered: true, payload: 'x3', at: 4000 });
    run.history.acks.push({ worker: 1, id: 'p0-3', seq: 4, deliveryCount: 2, invokeAt: 4000, completeAt: 4001, outcome: 'ok' });
    expect(check(run.history, run.final)).toEqual([]);
  });

  it('lost: an acked publish that is gone and was never delivered', () => {
    const run = cleanWq();
    run.history.deliveries.splice(2, 1);
    run.history.acks.splice(2, 1);
    expect(kinds(run)).toEqual(['lost']);
    expect(check(run.history, run.final)[0]).toMatchObject({ kind: 'lost', id: 'p0-2', seq: 3 });
  });

  it('removed-unacked: a delivered message gone though no ack was sent for it (dropped, or the only ack reached nobody)', () => {
    const dropped = cleanWq();
    deliveryOf(dropped, 2).dropped = true;
    dropped.history.acks.splice(dropped.history.acks.indexOf(ackOf(dropped, 2)), 1);
    expect(kinds(dropped)).toEqual(['removed-unacked']);
    expect(check(dropped.history, dropped.final)[0]).toMatchObject({ kind: 'removed-unacked', id: 'p0-1', seq: 2 });
    const refused = cleanWq();
    ackOf(refused, 4).outcome = 'fail';
    expect(kinds(refused)).toEqual(['removed-unacked']);
    // Whatever the publish's outcome: the delivery proves it was stored.
    const info = cleanWq();
    info.history.publishes[1] = { ...info.history.publishes[1]!, outcome: 'info', seq: undefined, attempts: [{ at: 10, end: 15, result: 'timeout' }] };
    ackOf(info, 2).outcome = 'fail';
    expect(kinds(info)).toEqual(['removed-unacked']);
  });

  it('kept-after-ack: a message whose ack was confirmed is still in the stream (the consumer then contradicts the stream too)', () => {
    const run = cleanWq();
    keep(run, 3);
    expect(kinds(run)).toEqual(['consumer-state', 'kept-after-ack']);
    expect(check(run.history, run.final).find((a) => a.kind === 'kept-after-ack')).toMatchObject({ id: 'p0-2', seq: 3 });
  });

  it('redelivered-after-ack: a removed message delivered again after its ack was confirmed (grace as in limits mode)', () => {
    const run = cleanWq();
    run.history.deliveries.push({ worker: 1, id: 'p0-1', seq: 2, deliveryCount: 2, redelivered: true, payload: 'x1', at: 500 });
    run.history.acks.push({ worker: 1, id: 'p0-1', seq: 2, deliveryCount: 2, invokeAt: 500, completeAt: 501, outcome: 'ok' });
    expect(kinds(run)).toEqual(['redelivered-after-ack']);
    const crossing = cleanWq();
    crossing.history.deliveries.push({ worker: 1, id: 'p0-1', seq: 2, deliveryCount: 2, redelivered: true, payload: 'x1', at: 117 });
    expect(check(crossing.history, crossing.final)).toEqual([]);
  });

  it('duplicated: one id delivered (so stored) at two sequences, or stored at one and delivered at another', () => {
    const run = cleanWq();
    run.final.state = { firstSeq: 7, lastSeq: 6, messages: 0 };
    run.final.consumer = { deliveredStreamSeq: 6, ackFloorStreamSeq: 6, numPending: 0, numAckPending: 0 };
    run.history.deliveries.push({ worker: 1, id: 'p0-3', seq: 6, deliveryCount: 1, redelivered: false, payload: 'x3', at: 500 });
    run.history.acks.push({ worker: 1, id: 'p0-3', seq: 6, deliveryCount: 1, invokeAt: 500, completeAt: 501, outcome: 'ok' });
    expect(kinds(run)).toEqual(['duplicated']);
    expect(check(run.history, run.final)[0]).toMatchObject({ kind: 'duplicated', id: 'p0-3', details: { seqs: [4, 6] } });
    const stored = cleanWq();
    stored.final.messages = [{ seq: 6, subject: 'jepsen.p0', id: 'p0-3', payload: 'x3' }];
    stored.final.state = { firstSeq: 6, lastSeq: 6, messages: 1 };
    stored.final.consumer = { deliveredStreamSeq: 6, ackFloorStreamSeq: 5, numPending: 0, numAckPending: 1 };
    stored.history.deliveries.push({ worker: 1, id: 'p0-3', seq: 6, deliveryCount: 1, redelivered: false, payload: 'x3', at: 500, dropped: true });
    // (Delivered, never acked and still stored: unacked too.)
    expect(kinds(stored)).toEqual(['duplicated', 'unacked']);
  });

  it('seq-mismatch: a removed message delivered at another sequence than its PubAck said', () => {
    const run = cleanWq();
    run.history.publishes[2]!.attempts[0]!.seq = 9;
    expect(kinds(run)).toEqual(['seq-mismatch']);
  });

  it('delivered-not-stored: one sequence delivered as two messages, or as another than the stream has', () => {
    const run = cleanWq();
    run.history.deliveries.push({ worker: 1, id: 'p0-4', seq: 2, deliveryCount: 2, redelivered: true, payload: 'x4', at: 20 });
    expect(kinds(run)).toEqual(['delivered-not-stored']);
    const other = cleanWq();
    keep(other, 5);
    other.final.consumer = { deliveredStreamSeq: 5, ackFloorStreamSeq: 4, numPending: 0, numAckPending: 1 };
    other.final.messages[0] = { seq: 5, subject: 'jepsen.p0', id: 'p0-1', payload: 'x1' };
    other.history.acks.splice(other.history.acks.indexOf(ackOf(other, 5)), 1);
    expect(kinds(other)).toContain('delivered-not-stored');
  });

  it('unexpected and corrupted: a delivery never published, or unlike what was published', () => {
    const ghost = cleanWq();
    ghost.history.deliveries.push({ worker: 1, id: 'ghost', seq: 6, deliveryCount: 1, redelivered: false, payload: 'g', at: 500 });
    ghost.history.acks.push({ worker: 1, id: 'ghost', seq: 6, deliveryCount: 1, invokeAt: 500, completeAt: 501, outcome: 'ok' });
    ghost.final.state = { firstSeq: 7, lastSeq: 6, messages: 0 };
    ghost.final.consumer = { deliveredStreamSeq: 6, ackFloorStreamSeq: 6, numPending: 0, numAckPending: 0 };
    expect(kinds(ghost)).toEqual(['unexpected']);
    const tampered = cleanWq();
    deliveryOf(tampered, 3).payload = 'tampered';
    expect(kinds(tampered)).toEqual(['corrupted']);
  });

  it('reordered: judged on the sequences the removed messages were delivered at', () => {
    const run = cleanWq();
    // p0-1 (acked at 15) delivered from seq 4, p0-3 (published at 30) from seq 2.
    for (const [id, seq] of [['p0-1', 4], ['p0-3', 2]] as const) {
      const p = run.history.publishes.find((x) => x.id === id)!;
      p.seq = seq;
      p.attempts[0]!.seq = seq;
      for (const d of run.history.deliveries) if (d.id === id) d.seq = seq;
      for (const a of run.history.acks) if (a.id === id) a.seq = seq;
    }
    expect(kinds(run)).toEqual(['reordered']);
  });

  it('undelivered and unacked: a message left in the stream never delivered, or delivered and never acked', () => {
    const undelivered = cleanWq();
    keep(undelivered, 5);
    undelivered.history.deliveries.splice(4, 1);
    undelivered.history.acks.splice(4, 1);
    undelivered.final.consumer = { deliveredStreamSeq: 4, ackFloorStreamSeq: 4, numPending: 1, numAckPending: 0 };
    expect(kinds(undelivered)).toEqual(['undelivered']);
    const unacked = cleanWq();
    keep(unacked, 5);
    ackOf(unacked, 5).outcome = 'info';
    unacked.final.consumer = { deliveredStreamSeq: 5, ackFloorStreamSeq: 4, numPending: 0, numAckPending: 1 };
    expect(kinds(unacked)).toEqual(['unacked']);
  });

  it('consumer-state: a consumer that contradicts what the stream holds', () => {
    // seq 5 still stored, delivered, its ack unconfirmed: pending between the floor 4 and delivered 5.
    const base = (): Run => {
      const run = cleanWq();
      keep(run, 5);
      ackOf(run, 5).outcome = 'info';
      run.final.consumer = { deliveredStreamSeq: 5, ackFloorStreamSeq: 4, numPending: 0, numAckPending: 1 };
      return run;
    };
    expect(kinds(base())).toEqual(['unacked']);
    const cases: Array<Partial<NonNullable<FinalRead['consumer']>>> = [
      { ackFloorStreamSeq: 5, numAckPending: 0 }, // acked by the consumer, kept by the stream
      { numAckPending: 0 }, // stored and unacked, yet not pending
      { numAckPending: 2 }, // pending, yet not stored
      { numPending: 1 }, // nothing stored above delivered
      { deliveredStreamSeq: 6 }, // beyond the stream
      { deliveredStreamSeq: 4, ackFloorStreamSeq: 3, numPending: 1, numAckPending: 0 }, // seq 5 was delivered
    ];
    for (const patch of cases) {
      const run = base();
      run.final.consumer = { ...run.final.consumer!, ...patch };
      expect(kinds(run), JSON.stringify(patch)).toEqual(patch.ackFloorStreamSeq === 5 ? ['consumer-state'] : ['consumer-state', 'unacked']);
    }
    const unread = cleanWq();
    unread.final.consumer = null;
    expect(kinds(unread)).toEqual(['consumer-state']);
  });
});
