/**
 * The Jepsen-style checker: a pure function of the history and the final read, listing every
 * anomaly found. What it checks (issue 18):
 *
 *  (a) every acknowledged publish (PubAck received) is in the final stream (`lost`), once;
 *  (b) no message id is in the stream twice: Nats-Msg-Id dedupe holds across retries and
 *      failovers (`duplicated`);
 *  (c) the stream order agrees with real time: a message whose PubAck arrived before another
 *      message was first published has the lower sequence (`reordered`);
 *  (d) every PubAck's sequence is where the message is in the final stream (`seq-mismatch`);
 *  (e) the stream holds nothing that was never published or whose publish certainly failed
 *      (`unexpected`), and what it holds is what was published (`corrupted`); publishes of
 *      unknown outcome may be there or not (at most once, by (b));
 *  (f) every stored message was delivered to the durable consumer (`undelivered`) and delivered
 *      until acked (`unacked`); a message is not delivered again after its ack was confirmed
 *      (`redelivered-after-ack`, with a small grace for a redelivery crossing the confirmation); what was delivered is in the final stream at the delivered
 *      sequence (`delivered-not-stored`); redeliveries of unconfirmed acks are fine;
 *  (g) the consumer's final delivered / ack floor / num_pending / num_ack_pending agree with the
 *      stream and with the acks sent and confirmed (`consumer-state`).
 *
 * And the final read itself must be consistent with the stream state (`read-inconsistent`).
 * The stream is expected to keep everything (limits retention, no limits, no deletes).
 *
 * Work-queue mode (`retention: 'workqueue'`, the default when `history.options.retention` says
 * so): an ack removes the message, so the final stream holds only what the consumer has not
 * acked, and what was removed is known from the deliveries:
 *
 *  (a) every acknowledged publish is in the final stream or was delivered with an ack sent
 *      (`lost`: never delivered and gone); a message delivered but gone though no ack was ever
 *      sent for it (any publish outcome: the delivery proves it was stored) is `removed-unacked`;
 *  (b) an id is stored at one sequence only, over the final stream and every delivery
 *      (`duplicated`); one sequence is one message (`delivered-not-stored`: a delivery that
 *      disagrees with the final stream or with another delivery of that sequence);
 *  (c) as above, a removed message's sequence being the one it was delivered at;
 *  (d) also for removed messages: the PubAck's sequence is the delivered one (`seq-mismatch`);
 *  (e) also for deliveries: what was delivered was published (`unexpected`) unaltered (`corrupted`);
 *  (f) a message whose ack was confirmed is not in the final stream (`kept-after-ack`: the final
 *      read waits for the removals to settle) nor delivered after the confirmation
 *      (`redelivered-after-ack`, same grace); a stored message was delivered (`undelivered`);
 *  (g) the consumer agrees with the stream: nothing stored at or below the ack floor (acked
 *      there, so removed), num_pending the stored messages above delivered, num_ack_pending the
 *      stored messages between the floor and delivered (each delivered and unacked, so pending;
 *      a pending message is unacked, so stored) (`consumer-state`).
 */
import type { Anomaly, Delivery, FinalRead, History, PublishOp, StoredMessage } from './history.js';

/** Options of {@link check}. */
export interface CheckOptions {
  /**
   * A delivery counts as redelivered after a confirmed ack only if it arrived more than this
   * many ms after the confirmation: a redelivery the server sent just before it processed the
   * ack (ack_wait ran out as the ack came in) can reach the client through another connection
   * a moment after the confirmation. A lost ack shows up far later (ack_wait, failover). Default 250.
   */
  redeliveryGraceMs?: number;
  /** The stream's retention. Default: `history.options.retention` if it is 'workqueue', else 'limits'. */
  retention?: 'limits' | 'workqueue';
}

/** Lists the anomalies of a run (empty: none found). */
export function check(history: History, final: FinalRead, options: CheckOptions = {}): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const add = (a: Anomaly): void => void anomalies.push(a);
  const workqueue = (options.retention ?? (history.options.retention === 'workqueue' ? 'workqueue' : 'limits')) === 'workqueue';
  const graceMs = options.redeliveryGraceMs ?? 250;

  checkRead(final, add);

  const pubById = new Map<string, PublishOp>();
  for (const p of history.publishes) pubById.set(p.id, p);
  const storedById = new Map<string, StoredMessage[]>();
  const storedBySeq = new Map<number, StoredMessage>();
  for (const m of final.messages) {
    storedBySeq.set(m.seq, m);
    if (m.id === undefined) continue;
    const list = storedById.get(m.id);
    if (list === undefined) storedById.set(m.id, [m]);
    else list.push(m);
  }

  if (workqueue) {
    checkWorkQueue(history, final, pubById, storedById, storedBySeq, graceMs, add);
    return anomalies;
  }

  // (a) acknowledged publishes are there; (d) at the acked sequence.
  for (const p of history.publishes) {
    const stored = storedById.get(p.id);
    if (p.outcome === 'ok' && stored === undefined) {
      add({ kind: 'lost', id: p.id, seq: p.seq, message: `${p.id} was acked (seq ${p.seq}) but is not in the stream` });
      continue;
    }
    if (stored === undefined) continue;
    for (const a of p.attempts) {
      if (a.result === 'ack' && a.seq !== stored[0]!.seq) {
        add({
          kind: 'seq-mismatch',
          id: p.id,
          seq: stored[0]!.seq,
          message: `${p.id}: PubAck said seq ${a.seq}${a.duplicate === true ? ' (duplicate)' : ''}, the stream has it at ${stored[0]!.seq}`,
          details: { ackSeq: a.seq, storedSeq: stored[0]!.seq, duplicate: a.duplicate },
        });
      }
    }
  }

  // (b) once; (e) nothing unpublished, nothing altered.
  for (const [id, list] of storedById) {
    if (list.length > 1) add({ kind: 'duplicated', id, seq: list[1]!.seq, message: `${id} is in the stream ${list.length} times (seqs ${list.map((m) => m.seq).join(', ')})`, details: { seqs: list.map((m) => m.seq) } });
  }
  checkStoredContent(final, pubById, add);
  checkOrder(history, (p) => storedById.get(p.id)?.[0]?.seq, add);
  checkDeliveries(history, final, storedBySeq, graceMs, add);
  return anomalies;
}

/** (e) The final stream holds nothing unpublished (or certainly failed), nothing altered. */
function checkStoredContent(final: FinalRead, pubById: Map<string, PublishOp>, add: (a: Anomaly) => void): void {
  for (const m of final.messages) {
    const p = m.id === undefined ? undefined : pubById.get(m.id);
    if (p === undefined) {
      add({ kind: 'unexpected', id: m.id, seq: m.seq, message: `seq ${m.seq} (${m.id ?? 'no Nats-Msg-Id'}) was never published` });
    } else if (p.outcome === 'fail') {
      add({ kind: 'unexpected', id: m.id, seq: m.seq, message: `seq ${m.seq} is ${p.id}, whose publish certainly failed (every attempt reached nobody)` });
    } else if (p.subject !== m.subject || p.payload !== m.payload) {
      add({
        kind: 'corrupted',
        id: p.id,
        seq: m.seq,
        message: `seq ${m.seq} (${p.id}) differs from what was published`,
        details: { published: { subject: p.subject, payload: p.payload }, stored: { subject: m.subject, payload: m.payload } },
      });
    }
  }
}

/** The final read: strictly ascending sequences inside [first, last], as many as the state says. */
function checkRead(final: FinalRead, add: (a: Anomaly) => void): void {
  let prev = 0;
  for (const m of final.messages) {
    if (m.seq <= prev) add({ kind: 'read-inconsistent', seq: m.seq, message: `the final read has seq ${m.seq} after seq ${prev}` });
    if (m.seq < final.state.firstSeq || m.seq > final.state.lastSeq) {
      add({ kind: 'read-inconsistent', seq: m.seq, message: `seq ${m.seq} is outside the stream's [${final.state.firstSeq}, ${final.state.lastSeq}]` });
    }
    prev = m.seq;
  }
  if (final.messages.length !== final.state.messages) {
    add({ kind: 'read-inconsistent', message: `the stream state counts ${final.state.messages} messages, the final read has ${final.messages.length}` });
  }
}

/**
 * (c) If A's PubAck arrived before B was first sent, A's sequence is below B's. Sweep: B by
 * invoke time, A by ack time, keeping the highest stored sequence among the As acked so far.
 */
function checkOrder(history: History, seqOf: (p: PublishOp) => number | undefined, add: (a: Anomaly) => void): void {
  const acked = history.publishes
    .filter((p) => p.outcome === 'ok' && p.completeAt !== undefined && seqOf(p) !== undefined)
    .sort((x, y) => x.completeAt! - y.completeAt!);
  const stored = history.publishes.filter((p) => p.outcome !== 'fail' && seqOf(p) !== undefined).sort((x, y) => x.invokeAt - y.invokeAt);
  let i = 0;
  let max: PublishOp | undefined;
  for (const b of stored) {
    while (i < acked.length && acked[i]!.completeAt! < b.invokeAt) {
      const a = acked[i++]!;
      if (max === undefined || seqOf(a)! > seqOf(max)!) max = a;
    }
    if (max !== undefined && seqOf(max)! > seqOf(b)!) {
      add({
        kind: 'reordered',
        id: b.id,
        seq: seqOf(b),
        message: `${max.id} was acked at ${max.completeAt!.toFixed(1)} ms, before ${b.id} was published at ${b.invokeAt.toFixed(1)} ms, yet has the higher seq (${seqOf(max)} > ${seqOf(b)})`,
        details: { before: max.id, beforeSeq: seqOf(max), after: b.id, afterSeq: seqOf(b) },
      });
    }
  }
}

/** (f) and (g): deliveries and acks of the durable consumer against the final stream. */
function checkDeliveries(history: History, final: FinalRead, storedBySeq: Map<number, StoredMessage>, graceMs: number, add: (a: Anomaly) => void): void {
  const delivered = new Set<number>();
  const valid: Delivery[] = [];
  let maxDelivered = 0;
  for (const d of history.deliveries) {
    const m = storedBySeq.get(d.seq);
    if (m === undefined || m.id !== d.id) {
      add({
        kind: 'delivered-not-stored',
        id: d.id,
        seq: d.seq,
        message: `worker ${d.worker} got ${d.id ?? 'a message without id'} at seq ${d.seq}, the final stream has ${m === undefined ? 'nothing' : (m.id ?? 'a message without id')} there`,
      });
      continue;
    }
    delivered.add(d.seq);
    valid.push(d);
    maxDelivered = Math.max(maxDelivered, d.seq);
  }
  // The first confirmation of an ack, by stream sequence; any ack sent (not certainly lost).
  const { confirmedAt, ackSent } = ackIndex(history);
  checkRedeliveries(valid, confirmedAt, graceMs, add);
  const c = final.consumer;
  const floor = c?.ackFloorStreamSeq ?? 0;
  for (const m of final.messages) {
    if (!delivered.has(m.seq)) add({ kind: 'undelivered', id: m.id, seq: m.seq, message: `seq ${m.seq} (${m.id}) was never delivered` });
    else if (!confirmedAt.has(m.seq) && m.seq > floor) {
      add({ kind: 'unacked', id: m.id, seq: m.seq, message: `seq ${m.seq} (${m.id}) was delivered but never acked (no confirmed ack, above the ack floor ${floor})` });
    }
  }

  const state = checkConsumerCommon(final, maxDelivered, add);
  if (state === null || c === null) return;
  const mayBePending = final.messages.filter((m) => m.seq > c.ackFloorStreamSeq && m.seq <= c.deliveredStreamSeq && !confirmedAt.has(m.seq)).length;
  if (c.numAckPending > mayBePending) {
    state(`num_ack_pending ${c.numAckPending}, but only ${mayBePending} messages between the ack floor and delivered lack a confirmed ack`);
  }
  for (const m of final.messages) {
    if (m.seq > c.ackFloorStreamSeq) break;
    if (!ackSent.has(m.seq)) state(`seq ${m.seq} (${m.id}) is at or below the ack floor ${c.ackFloorStreamSeq}, but no ack was ever sent for it`, { seq: m.seq });
  }
}

/**
 * (g), the part both modes share: the consumer could be read, its ack floor is not above what it
 * delivered, which is neither above the stream's last sequence nor below a sequence seen
 * delivered, and num_pending counts the stored messages above it. Returns the reporter of
 * further `consumer-state` anomalies, or null when the consumer could not be read.
 */
type StateReport = (message: string, details?: Record<string, unknown>) => void;
function checkConsumerCommon(final: FinalRead, maxDelivered: number, add: (a: Anomaly) => void): StateReport | null {
  const c = final.consumer;
  if (c === null) {
    add({ kind: 'consumer-state', message: 'the durable consumer could not be read at the end' });
    return null;
  }
  const state: StateReport = (message, details = {}) => add({ kind: 'consumer-state', message, details: { ...c, ...details } });
  if (c.ackFloorStreamSeq > c.deliveredStreamSeq) state(`ack floor ${c.ackFloorStreamSeq} is above delivered ${c.deliveredStreamSeq}`);
  if (c.deliveredStreamSeq > final.state.lastSeq) state(`delivered ${c.deliveredStreamSeq} is above the stream's last seq ${final.state.lastSeq}`);
  if (c.deliveredStreamSeq < maxDelivered) state(`delivered ${c.deliveredStreamSeq} is below seq ${maxDelivered}, which was delivered`);
  const notYetDelivered = final.messages.filter((m) => m.seq > c.deliveredStreamSeq).length;
  if (c.numPending !== notYetDelivered) state(`num_pending ${c.numPending}, but ${notYetDelivered} stored messages are above delivered ${c.deliveredStreamSeq}`);
  return state;
}

/** The first confirmation of an ack by stream sequence, and the sequences any ack was sent for (not certainly lost). */
function ackIndex(history: History): { confirmedAt: Map<number, number>; ackSent: Set<number> } {
  const confirmedAt = new Map<number, number>();
  const ackSent = new Set<number>();
  for (const a of history.acks) {
    if (a.outcome !== 'fail') ackSent.add(a.seq);
    if (a.outcome === 'ok' && a.completeAt !== undefined) {
      const t = confirmedAt.get(a.seq);
      if (t === undefined || a.completeAt < t) confirmedAt.set(a.seq, a.completeAt);
    }
  }
  return { confirmedAt, ackSent };
}

/** Deliveries after their ack's confirmation (plus the grace): `redelivered-after-ack`. */
function checkRedeliveries(deliveries: readonly Delivery[], confirmedAt: Map<number, number>, graceMs: number, add: (a: Anomaly) => void): void {
  for (const d of deliveries) {
    const t = confirmedAt.get(d.seq);
    if (t !== undefined && d.at > t + graceMs) {
      add({
        kind: 'redelivered-after-ack',
        id: d.id,
        seq: d.seq,
        message: `seq ${d.seq} (${d.id}) was delivered to worker ${d.worker} at ${d.at.toFixed(1)} ms (delivery ${d.deliveryCount}) after its ack was confirmed at ${t.toFixed(1)} ms`,
      });
    }
  }
}

/** Work-queue mode (see the top of this file): what is gone was delivered and acked; what was acked is gone. */
function checkWorkQueue(
  history: History, final: FinalRead, pubById: Map<string, PublishOp>, storedById: Map<string, StoredMessage[]>, storedBySeq: Map<number, StoredMessage>,
  graceMs: number, add: (a: Anomaly) => void,
): void {
  const { confirmedAt, ackSent } = ackIndex(history);

  // Deliveries: one message per sequence, the published one, unaltered. Reported once per sequence.
  const seqsById = new Map<string, Set<number>>();
  const noteSeq = (id: string, seq: number): void => {
    const set = seqsById.get(id);
    if (set === undefined) seqsById.set(id, new Set([seq]));
    else set.add(seq);
  };
  for (const m of final.messages) if (m.id !== undefined) noteSeq(m.id, m.seq);
  const firstAtSeq = new Map<number, Delivery>();
  const badSeqs = new Set<number>();
  const valid: Delivery[] = [];
  let maxDelivered = 0;
  for (const d of history.deliveries) {
    if (badSeqs.has(d.seq)) continue;
    const m = storedBySeq.get(d.seq);
    const before = firstAtSeq.get(d.seq);
    if ((m !== undefined && m.id !== d.id) || (before !== undefined && (before.id !== d.id || before.payload !== d.payload))) {
      badSeqs.add(d.seq);
      add({
        kind: 'delivered-not-stored',
        id: d.id,
        seq: d.seq,
        message: m !== undefined && m.id !== d.id
          ? `worker ${d.worker} got ${d.id ?? 'a message without id'} at seq ${d.seq}, the final stream has ${m.id ?? 'a message without id'} there`
          : `seq ${d.seq} was delivered as ${before!.id ?? 'a message without id'} (${JSON.stringify(before!.payload)}) and later as ${d.id ?? 'a message without id'} (${JSON.stringify(d.payload)})`,
      });
      continue;
    }
    maxDelivered = Math.max(maxDelivered, d.seq);
    valid.push(d);
    if (before !== undefined) continue;
    firstAtSeq.set(d.seq, d);
    const p = d.id === undefined ? undefined : pubById.get(d.id);
    if (p === undefined) {
      add({ kind: 'unexpected', id: d.id, seq: d.seq, message: `worker ${d.worker} got seq ${d.seq} (${d.id ?? 'no Nats-Msg-Id'}), which was never published` });
      continue;
    }
    if (p.outcome === 'fail') add({ kind: 'unexpected', id: p.id, seq: d.seq, message: `worker ${d.worker} got seq ${d.seq} (${p.id}), whose publish certainly failed (every attempt reached nobody)` });
    else if (p.payload !== d.payload) {
      add({ kind: 'corrupted', id: p.id, seq: d.seq, message: `seq ${d.seq} (${p.id}) was delivered with another payload than published`, details: { published: p.payload, delivered: d.payload } });
    }
    noteSeq(p.id, d.seq);
  }

  // (b) One sequence per id, over the final stream and the deliveries.
  for (const [id, seqs] of seqsById) {
    if (seqs.size > 1) {
      const list = [...seqs].sort((x, y) => x - y);
      add({ kind: 'duplicated', id, seq: list[1], message: `${id} was stored ${list.length} times (seqs ${list.join(', ')}, from the final stream and the deliveries)`, details: { seqs: list } });
    }
  }
  const seqOf = (p: PublishOp): number | undefined => {
    const seqs = seqsById.get(p.id);
    return seqs === undefined ? undefined : Math.min(...seqs);
  };

  // (a) Gone only if delivered and acked; (d) every PubAck at the message's sequence.
  for (const p of history.publishes) {
    const stored = storedById.get(p.id)?.[0];
    const seq = seqOf(p);
    if (stored === undefined) {
      const deliveredAt = [...(seqsById.get(p.id) ?? [])];
      if (deliveredAt.length === 0) {
        if (p.outcome === 'ok') add({ kind: 'lost', id: p.id, seq: p.seq, message: `${p.id} was acked (seq ${p.seq}) but is not in the stream and was never delivered` });
        continue;
      }
      if (!deliveredAt.some((s) => ackSent.has(s))) {
        add({ kind: 'removed-unacked', id: p.id, seq, message: `${p.id} (seq ${seq}) was delivered and is gone from the stream, but no ack was ever sent for it` });
      }
    }
    if (seq === undefined) continue;
    for (const a of p.attempts) {
      if (a.result === 'ack' && a.seq !== seq) {
        add({
          kind: 'seq-mismatch',
          id: p.id,
          seq,
          message: `${p.id}: PubAck said seq ${a.seq}${a.duplicate === true ? ' (duplicate)' : ''}, the stream ${stored === undefined ? 'delivered it from' : 'has it at'} ${seq}`,
          details: { ackSeq: a.seq, storedSeq: seq, duplicate: a.duplicate },
        });
      }
    }
  }

  // (e) on the final stream; (c) with removed messages at their delivered sequences.
  checkStoredContent(final, pubById, add);
  checkOrder(history, seqOf, add);

  // (f) Confirmed acks removed the message and ended its deliveries; what is left was delivered.
  checkRedeliveries(valid, confirmedAt, graceMs, add);
  // At or below the ack floor the consumer took an ack (an unconfirmed one landed): (g) reports it being kept.
  const floor = final.consumer?.ackFloorStreamSeq ?? 0;
  for (const m of final.messages) {
    const t = confirmedAt.get(m.seq);
    if (t !== undefined) add({ kind: 'kept-after-ack', id: m.id, seq: m.seq, message: `seq ${m.seq} (${m.id}) is still in the stream, though its ack was confirmed at ${t.toFixed(1)} ms` });
    else if (!firstAtSeq.has(m.seq)) add({ kind: 'undelivered', id: m.id, seq: m.seq, message: `seq ${m.seq} (${m.id}) was never delivered` });
    else if (!badSeqs.has(m.seq) && m.seq > floor) add({ kind: 'unacked', id: m.id, seq: m.seq, message: `seq ${m.seq} (${m.id}) was delivered but never acked (no confirmed ack) and is still in the stream` });
  }

  // (g) The consumer against the stream.
  const c = final.consumer;
  const state = checkConsumerCommon(final, maxDelivered, add);
  if (state === null || c === null) return;
  const kept = final.messages.filter((m) => m.seq <= c.ackFloorStreamSeq);
  if (kept.length > 0) state(`the ack floor ${c.ackFloorStreamSeq} is not below the first stored seq ${kept[0]!.seq}: ${kept.length} messages acked by the consumer are still in the stream`, { seqs: kept.slice(0, 10).map((m) => m.seq) });
  const unackedStored = final.messages.filter((m) => m.seq > c.ackFloorStreamSeq && m.seq <= c.deliveredStreamSeq).length;
  if (c.numAckPending !== unackedStored) {
    state(`num_ack_pending ${c.numAckPending}, but ${unackedStored} stored messages are between the ack floor ${c.ackFloorStreamSeq} and delivered ${c.deliveredStreamSeq}`);
  }
}

/** Counts of anomalies by kind, for a one-line report. */
export function summarize(anomalies: readonly Anomaly[]): string {
  if (anomalies.length === 0) return 'no anomalies';
  const counts = new Map<string, number>();
  for (const a of anomalies) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}: ${n}`).join(', ');
}
