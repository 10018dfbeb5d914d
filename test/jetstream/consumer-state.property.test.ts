/**
 * Model-based test of the consumer delivery state (src/jetstream/consumer-state.ts): random
 * interleavings of stream appends and removals (a real MemoryStore), deliveries, acks of every
 * kind sent on the ack reply subjects the consumer built, and clock advances that fire the
 * pending timer, applied to the ConsumerState and to a plain model of nats-server 2.10.29's
 * consumer (consumer.go: getNextMsg, deliverMsg/trackPending, processAckMsg, processNak,
 * progressUpdate, checkPending, hasMaxDeliveries, decStreamPending), and consumer updates
 * (updateConfig: ack_wait/backoff, max_deliver, max_ack_pending, filters, num pending recounted). After every step the
 * delivered and ack-floor sequences, the pending table, redelivery counts and queue, num_pending,
 * the ack results and the reported events must agree, and invariants hold (max_ack_pending and
 * max_deliver respected, floors never move back, the queue only holds pending messages, the
 * timer is armed no later than the earliest ack-wait expiry).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryStore } from '../../src/jetstream/store/memory.js';
import { NO_LIMITS as LIMITS } from '../helpers/store-limits.js';
import {
  AckResult,
  ConsumerState,
  newAckInfo,
  parseAckReply,
  sourceFromStore,
  type AckPolicy,
  type RetentionPolicy,
} from '../../src/jetstream/consumer-state.js';

const SUBJECTS = ['a', 'b', 'c.x', 'c.y'];
const FILTER_SETS: string[][] = [[], ['a'], ['c.*'], ['a', 'c.y'], ['>']];
const RUNS = Number(process.env.CONSUMER_PROP_RUNS ?? 400);

/** Subject matching for the test's filters (tokens, `*`, `>`). */
function matches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

interface Cfg {
  ackPolicy: AckPolicy;
  ackWaitMs: number;
  backoffMs: number[];
  maxDeliver: number;
  maxAckPending: number;
  filters: string[];
  retention: RetentionPolicy;
  /** Messages stored before the consumer exists, and where it starts (as a deliver policy sets). */
  prefill: string[];
  startSeq: number;
}

const cfgArb: fc.Arbitrary<Cfg> = fc
  .record({
    ackPolicy: fc.constantFrom<AckPolicy>('explicit', 'explicit', 'all', 'none'),
    ackWaitMs: fc.constantFrom(30, 100),
    backoff: fc.boolean(),
    maxDeliver: fc.constantFrom(-1, 1, 2, 3, 5),
    maxAckPending: fc.constantFrom(-1, 1, 3, 8),
    filters: fc.constantFrom(...FILTER_SETS),
    retention: fc.constantFrom<RetentionPolicy>('limits', 'interest'),
    prefill: fc.array(fc.constantFrom(...SUBJECTS), { maxLength: 6 }),
    start: fc.nat(),
  })
  .map((r) => {
    // nats-server requires max_deliver > len(backoff) (10116) and sets ack_wait = backoff[0].
    const backoffMs = r.backoff && (r.maxDeliver === -1 || r.maxDeliver > 3) ? [20, 50, 120] : [];
    return {
      ackPolicy: r.ackPolicy,
      ackWaitMs: backoffMs.length > 0 ? backoffMs[0]! : r.ackWaitMs,
      backoffMs,
      maxDeliver: r.maxDeliver,
      maxAckPending: r.maxAckPending,
      filters: r.filters,
      retention: r.retention,
      prefill: r.prefill,
      startSeq: 1 + (r.start % (r.prefill.length + 1)),
    };
  });

type AckKind = '+ACK' | '' | '+OK' | '-NAK' | '-NAK 40ms' | '-NAK {"delay":10000000}' | '-NAK x' | '+WPI' | '+TERM' | '+TERM why' | '+NXT' | 'junk';
type Op =
  | { k: 'append'; subject: string; n: number }
  | { k: 'remove'; pick: number }
  | { k: 'deliver'; n: number }
  | { k: 'ack'; kind: AckKind; pick: number }
  | { k: 'advance'; ms: number }
  | { k: 'update'; wait: 30 | 100 | 'backoff'; maxDeliver: number; maxAckPending: number; filters: string[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('append' as const), subject: fc.constantFrom(...SUBJECTS), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('deliver' as const), n: fc.integer({ min: 1, max: 5 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('ack' as const),
      kind: fc.constantFrom<AckKind>('+ACK', '+ACK', '', '+OK', '-NAK', '-NAK 40ms', '-NAK {"delay":10000000}', '-NAK x', '+WPI', '+TERM', '+TERM why', '+NXT', 'junk'),
      pick: fc.nat(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 150 }) }) },
  // A consumer update (ConsumerState.update, consumer.go updateConfig): what may change.
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('update' as const),
      wait: fc.constantFrom<30 | 100 | 'backoff'>(30, 100, 'backoff'),
      maxDeliver: fc.constantFrom(-1, 1, 2, 5),
      maxAckPending: fc.constantFrom(-1, 1, 3, 8),
      filters: fc.constantFrom(...FILTER_SETS),
    }),
  },
);

/** A plain model of one nats-server 2.10 consumer (no timers; the harness fires checkPending). */
class Model {
  sseq = 1;
  dseq = 1;
  adflr = 0;
  asflr = 0;
  pending = new Map<number, { dseq: number; ts: number }>();
  rdc = new Map<number, number>();
  rdq: number[] = [];
  msgs = new Map<number, string>();
  lastSeq = 0;
  events: string[] = [];
  maxdc: number;
  maxp: number;

  constructor(
    readonly cfg: Cfg,
    readonly now: () => number,
  ) {
    this.maxdc = cfg.maxDeliver > 0 ? cfg.maxDeliver : 0;
    this.maxp = cfg.ackPolicy !== 'none' && cfg.maxAckPending > 0 ? cfg.maxAckPending : 0;
    cfg.prefill.forEach((subj, i) => this.msgs.set(i + 1, subj));
    this.lastSeq = cfg.prefill.length;
    this.sseq = cfg.startSeq;
    this.asflr = cfg.startSeq - 1;
  }

  match(subject: string): boolean {
    const f = this.cfg.filters;
    return f.length === 0 || f.some((x) => matches(x, subject));
  }
  firstSeq(): number {
    let min = Infinity;
    for (const s of this.msgs.keys()) min = Math.min(min, s);
    return min === Infinity ? this.lastSeq + 1 : min;
  }
  numPending(): number {
    let n = 0;
    for (const [s, subj] of this.msgs) if (s >= this.sseq && this.match(subj)) n++;
    return n;
  }
  removeFromRdq(seq: number): void {
    this.rdq = this.rdq.filter((s) => s !== seq);
  }

  /** getNextMsg + deliverMsg: [seq, dc, dseq] or null. */
  next(): [number, number, number] | null {
    while (this.rdq.length > 0) {
      const seq = this.rdq.shift()!;
      this.rdc.set(seq, (this.rdc.get(seq) ?? 0) + 1);
      const dc = this.rdc.get(seq)! + 1;
      if (this.maxdc > 0 && dc > this.maxdc) {
        if (dc === this.maxdc + 1) this.events.push(`max ${seq} ${dc - 1}`);
        this.pending.delete(seq);
        continue;
      }
      if (!this.msgs.has(seq)) {
        this.rdc.set(seq, this.rdc.get(seq)! - 1);
        continue;
      }
      return this.deliver(seq, dc);
    }
    if (this.maxp > 0 && this.pending.size >= this.maxp) return null;
    let found = 0;
    for (let s = this.sseq; s <= this.lastSeq; s++) {
      const subj = this.msgs.get(s);
      if (subj !== undefined && this.match(subj)) {
        found = s;
        break;
      }
    }
    if (found === 0) {
      if (this.lastSeq >= this.sseq) this.sseq = this.lastSeq + 1;
      return null;
    }
    this.sseq = found + 1;
    return this.deliver(found, 1);
  }

  deliver(seq: number, dc: number): [number, number, number] {
    const dseq = this.dseq++;
    if (this.cfg.ackPolicy === 'none') {
      this.adflr = dseq;
      this.asflr = seq;
      if (this.cfg.retention !== 'limits') this.events.push(`sack ${seq}`);
    } else {
      const p = this.pending.get(seq);
      if (p) p.ts = this.now();
      else this.pending.set(seq, { dseq, ts: this.now() });
    }
    return [seq, dc, dseq];
  }

  /** processAckMsg; returns 'none' | 'caller' | 'sent' (who replies). */
  ackMsg(sseq: number, dseq: number): 'none' | 'caller' | 'sent' {
    if (sseq >= this.sseq) return 'none';
    const inPlace = this.cfg.retention !== 'limits';
    if (this.cfg.ackPolicy === 'explicit') {
      const p = this.pending.get(sseq);
      if (p) {
        this.pending.delete(sseq);
        if (this.pending.size === 0) {
          this.adflr = this.dseq - 1;
          this.asflr = this.sseq - 1;
        } else if (p.dseq === this.adflr + 1) {
          this.adflr = p.dseq;
          this.asflr = sseq;
          // The floor stops just below the next pending message in stream order.
          const above = [...this.pending.keys()].filter((s) => s > sseq && s < this.sseq).sort((a, b) => a - b);
          if (above.length > 0) {
            this.adflr = this.pending.get(above[0]!)!.dseq - 1;
            this.asflr = above[0]! - 1;
          }
        }
      }
      this.rdc.delete(sseq);
      this.removeFromRdq(sseq);
      if (inPlace) this.events.push(`sack ${sseq}`);
      return inPlace ? 'caller' : 'sent';
    }
    if (this.cfg.ackPolicy === 'all') {
      if (dseq <= this.adflr || sseq <= this.asflr) return 'caller';
      const oldFloor = this.asflr;
      const sgap = sseq - oldFloor;
      let floor = sseq;
      this.adflr = dseq;
      this.asflr = sseq;
      const drop = (s: number) => {
        this.pending.delete(s);
        this.rdc.delete(s);
        this.removeFromRdq(s);
        floor = Math.min(floor, s);
      };
      if (sgap > this.pending.size) {
        for (const s of [...this.pending.keys()]) if (s <= sseq) drop(s);
      } else {
        for (let s = sseq; s > oldFloor && this.pending.size > 0; s--) drop(s);
      }
      if (inPlace) {
        if (sgap > 1) for (let s = sseq; s >= floor; s--) this.events.push(`sack ${s}`);
        else this.events.push(`sack ${sseq}`);
      }
      return inPlace ? 'caller' : 'sent';
    }
    return inPlace ? 'caller' : 'none';
  }

  /** processAck → AckResult flags. */
  processAck(sseq: number, dseq: number, body: string): number {
    let reply = sseq !== 0;
    let flags = 0;
    const who = (r: 'none' | 'caller' | 'sent') => {
      if (r === 'sent') reply = true;
      else if (r === 'none') reply = false;
    };
    if (body === '' || body === '+ACK' || body === '+OK') who(this.ackMsg(sseq, dseq));
    else if (body.startsWith('+NXT')) {
      this.ackMsg(sseq, dseq);
      flags |= AckResult.Next;
      reply = false;
    } else if (body.startsWith('-NAK')) {
      if (this.nak(sseq, dseq, body.slice(4).trim())) flags |= AckResult.Nak;
    } else if (body === '+WPI') {
      const p = this.pending.get(sseq);
      if (p) p.ts = this.now();
    } else if (body.startsWith('+TERM')) {
      who(this.ackMsg(sseq, dseq));
      flags |= AckResult.Term;
    }
    return reply ? flags | AckResult.Reply : flags;
  }

  nak(sseq: number, dseq: number, arg: string): boolean {
    if (dseq <= this.adflr || dseq > this.dseq) return false;
    const p = this.pending.get(sseq);
    if (!p) return false;
    // The delays this test sends: 40ms and {"delay":10000000} (10 ms); 'x' is a plain NAK.
    const delay = arg === '40ms' ? 40 : arg.startsWith('{') ? 10 : null;
    if (delay !== null) {
      this.removeFromRdq(sseq);
      p.ts = this.now() - this.cfg.ackWaitMs + delay;
      return true;
    }
    if (!this.rdq.includes(sseq)) this.rdq.push(sseq);
    return true;
  }

  /** Wait before a pending message with redelivery count `rdc` expires (checkPending's deadline). */
  waitFor(seq: number): number {
    const bo = this.cfg.backoffMs;
    if (bo.length === 0) return this.cfg.ackWaitMs;
    const dc = Math.max(0, this.rdc.get(seq) ?? 0);
    return bo[Math.min(dc, bo.length - 1)]!;
  }

  checkPending(): void {
    const now = this.now();
    const fseq = this.firstSeq();
    const expired: number[] = [];
    for (const [seq, p] of [...this.pending]) {
      if (seq < fseq || seq <= this.asflr) {
        this.pending.delete(seq);
        this.rdc.delete(seq);
        this.removeFromRdq(seq);
        this.asflr = Math.max(this.asflr, seq);
        this.adflr = Math.max(this.adflr, p.dseq);
        continue;
      }
      if (now - p.ts >= this.waitFor(seq) && !this.rdq.includes(seq)) {
        // hasMaxDeliveries: deliveryCount is max(rdc, 1).
        const dc = Math.max(1, this.rdc.get(seq) ?? 0);
        if (this.maxdc > 0 && dc >= this.maxdc) {
          if (dc === this.maxdc) this.events.push(`max ${seq} ${dc}`);
          this.pending.delete(seq);
          this.rdc.set(seq, dc);
        } else expired.push(seq);
      }
    }
    if (expired.length > 0) {
      expired.sort((a, b) => a - b);
      this.rdq.push(...expired);
      const off = now - this.pending.get(expired[0]!)!.ts;
      for (const s of expired) this.pending.get(s)!.ts += off;
    }
    if (this.pending.size === 0) {
      this.rdq = [];
      this.adflr = this.dseq - 1;
      this.asflr = this.sseq - 1;
    }
  }

  /** decStreamPending: a pending message removed from the stream is terminated. */
  removed(seq: number): boolean {
    this.msgs.delete(seq);
    const p = this.pending.get(seq);
    if (!p) return false;
    this.ackMsg(seq, p.dseq);
    return true;
  }
}

class Harness {
  t = 1_000_000;
  readonly clock = () => this.t;
  readonly store = new MemoryStore(LIMITS, { clock: this.clock });
  readonly events: string[] = [];
  readonly c: ConsumerState;
  readonly m: Model;
  /** Ack subjects handed out, oldest first. */
  readonly replies: string[] = [];
  readonly deliveries = new Map<number, number>();
  readonly info = newAckInfo();
  prevFloor: [number, number] = [0, 0];
  /** The highest max_deliver in effect so far (Infinity once unlimited): no message is delivered more often. */
  deliverCap: number;
  /** An update that changed ack_wait re-armed a running timer to fire 100 ms later (resetPtmr). */
  resetAt = 0;
  updated = false;

  constructor(readonly cfg: Cfg) {
    this.deliverCap = cfg.maxDeliver > 0 ? cfg.maxDeliver : Infinity;
    for (const subj of cfg.prefill) this.store.store(subj, null, Buffer.from('x'));
    this.prevFloor = [0, cfg.startSeq - 1];
    this.c = new ConsumerState(
      { stream: 'S', consumer: 'C', ...cfg },
      sourceFromStore(this.store),
      this.clock,
      {
        onMaxDeliveries: (s, d) => this.events.push(`max ${s} ${d}`),
        onStreamAck: (s) => this.events.push(`sack ${s}`),
      },
    );
    this.m = new Model(cfg, this.clock);
  }

  step(op: Op): void {
    const { c, m } = this;
    switch (op.k) {
      case 'append':
        for (let i = 0; i < op.n; i++) {
          const r = this.store.store(op.subject, null, Buffer.from('x'));
          if (!('seq' in r)) throw new Error('store failed');
          c.messageStored(r.seq, op.subject);
          m.msgs.set(r.seq, op.subject);
          m.lastSeq = r.seq;
        }
        break;
      case 'remove': {
        const seqs = [...m.msgs.keys()];
        if (seqs.length === 0) break;
        const seq = seqs[op.pick % seqs.length]!;
        expect(this.store.remove(seq)).toBe(true);
        expect(c.messageRemoved(seq, m.msgs.get(seq)!)).toBe(m.removed(seq));
        break;
      }
      case 'deliver':
        for (let i = 0; i < op.n; i++) {
          const got = c.next();
          const want = m.next();
          expect(got === null ? null : [got.seq, c.lastDc, c.lastDseq]).toEqual(want);
          if (got === null) break;
          // The reply subject carries what the model says, including num_pending after it.
          const reply = c.ackReply(got);
          expect(parseAckReply(reply, this.info)).toBe(true);
          expect([this.info.stream, this.info.consumer, this.info.dc, this.info.sseq, this.info.dseq, this.info.pending]).toEqual([
            'S',
            'C',
            want![1],
            want![0],
            want![2],
            m.numPending(),
          ]);
          this.replies.push(reply);
          const n = (this.deliveries.get(got.seq) ?? 0) + 1;
          this.deliveries.set(got.seq, n);
          expect(n).toBeLessThanOrEqual(this.deliverCap);
        }
        break;
      case 'ack': {
        if (this.replies.length === 0) break;
        // Mostly recent deliveries, sometimes old (double acks, acks of earlier deliveries).
        const idx = this.replies.length - 1 - (op.pick % Math.min(this.replies.length, op.pick % 3 === 0 ? 1000 : 4));
        expect(parseAckReply(this.replies[idx]!, this.info)).toBe(true);
        const { sseq, dseq } = this.info;
        const got = c.processAck(sseq, dseq, Buffer.from(op.kind));
        expect(got).toBe(m.processAck(sseq, dseq, op.kind));
        break;
      }
      case 'update': {
        // nats-server sets ack_wait to backoff[0] and needs max_deliver > len(backoff) (10116).
        const backoffMs = op.wait === 'backoff' ? [20, 50, 120] : [];
        const ackWaitMs = op.wait === 'backoff' ? 20 : op.wait;
        const maxDeliver = backoffMs.length > 0 && op.maxDeliver > 0 && op.maxDeliver <= 3 ? 5 : op.maxDeliver;
        if (ackWaitMs !== this.cfg.ackWaitMs && c.deadline !== 0) this.resetAt = this.t + 100;
        c.update({ ackWaitMs, backoffMs, maxDeliver, maxAckPending: op.maxAckPending, filters: op.filters });
        // The model reads its config live.
        Object.assign(this.cfg, { ackWaitMs, backoffMs, maxDeliver, maxAckPending: op.maxAckPending, filters: op.filters });
        m.maxdc = maxDeliver > 0 ? maxDeliver : 0;
        m.maxp = this.cfg.ackPolicy !== 'none' && op.maxAckPending > 0 ? op.maxAckPending : 0;
        this.deliverCap = maxDeliver > 0 ? Math.max(this.deliverCap, maxDeliver) : Infinity;
        this.updated = true;
        break;
      }
      case 'advance':
        this.t += op.ms;
        if (c.deadline !== 0 && this.t >= c.deadline) {
          c.checkPending();
          m.checkPending();
        }
        break;
    }
    this.compare();
  }

  compare(): void {
    const { c, m } = this;
    expect([c.deliveredConsumerSeq, c.deliveredStreamSeq]).toEqual([m.dseq - 1, m.sseq - 1]);
    expect([c.ackFloorConsumerSeq, c.ackFloorStreamSeq]).toEqual([m.adflr, m.asflr]);
    const seqs = [...m.pending.keys()].sort((a, b) => a - b);
    expect(c.pendingSeqs()).toEqual(seqs);
    for (const s of seqs) expect(c.pendingOf(s)).toEqual(m.pending.get(s));
    expect(c.numAckPending).toBe(m.pending.size);
    expect(c.redeliveryQueue()).toEqual(m.rdq);
    expect(c.numRedelivered).toBe(m.rdc.size);
    for (const [s, n] of m.rdc) expect(c.redeliveryCount(s)).toBe(n);
    expect(c.numPending()).toBe(m.numPending());
    expect(this.events).toEqual(m.events);

    // Invariants that do not depend on the model.
    // (A lowered max_ack_pending leaves what was already pending.)
    if (m.maxp > 0 && this.resetAt === 0 && !this.updated) expect(c.numAckPending).toBeLessThanOrEqual(m.maxp);
    expect(c.ackFloorConsumerSeq).toBeGreaterThanOrEqual(this.prevFloor[0]);
    expect(c.ackFloorStreamSeq).toBeGreaterThanOrEqual(this.prevFloor[1]);
    this.prevFloor = [c.ackFloorConsumerSeq, c.ackFloorStreamSeq];
    expect(c.ackFloorStreamSeq).toBeLessThanOrEqual(c.deliveredStreamSeq);
    const rdq = c.redeliveryQueue();
    expect(new Set(rdq).size).toBe(rdq.length);
    for (const s of rdq) expect(m.pending.has(s)).toBe(true);
    if (this.cfg.ackPolicy === 'none') expect(c.numAckPending).toBe(0);
    // The timer fires no later than the earliest ack-wait expiry of a message not already
    // queued (+1 ms ackWaitDelay, or the 10 ms nats-server rearms with after a NAK delay).
    let earliest = Infinity;
    for (const [s, p] of m.pending) if (!m.rdq.includes(s)) earliest = Math.min(earliest, p.ts + m.waitFor(s));
    if (earliest !== Infinity) {
      expect(c.deadline).toBeGreaterThan(0);
      expect(c.deadline).toBeLessThanOrEqual(Math.max(earliest, this.t, this.resetAt) + 10);
    }
  }
}

describe('consumer delivery state against the model', () => {
  it('agrees after every step of random appends, removals, deliveries, acks and clock advances', () => {
    fc.assert(
      fc.property(cfgArb, fc.array(opArb, { minLength: 1, maxLength: 120 }), (cfg, ops) => {
        const h = new Harness(cfg);
        for (const op of ops) h.step(op);
      }),
      { numRuns: RUNS },
    );
  });

  it('delivers every matching message once and redelivers until acked or max_deliver', () => {
    // A directed property: with explicit acks and no acks sent, after enough time and pulls each
    // matching message was delivered exactly max_deliver times (or stays pending forever).
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...SUBJECTS), { minLength: 1, maxLength: 12 }),
        fc.constantFrom(1, 2, 4),
        fc.constantFrom(...FILTER_SETS),
        (subjects, maxDeliver, filters) => {
          const h = new Harness({ ackPolicy: 'explicit', ackWaitMs: 30, backoffMs: [], maxDeliver, maxAckPending: -1, filters, retention: 'limits', prefill: [], startSeq: 1 });
          for (const s of subjects) h.step({ k: 'append', subject: s, n: 1 });
          for (let round = 0; round < maxDeliver + 2; round++) {
            h.step({ k: 'deliver', n: 20 });
            h.step({ k: 'advance', ms: 40 });
          }
          h.step({ k: 'deliver', n: 20 });
          const f = filters.filter((x) => x !== '>');
          const matching = subjects.map((s, i) => [i + 1, s] as const).filter(([, s]) => f.length === 0 || f.some((x) => matches(x, s)));
          for (const [seq] of matching) expect(h.deliveries.get(seq)).toBe(maxDeliver);
          expect(h.deliveries.size).toBe(matching.length);
          expect(h.c.numAckPending).toBe(0);
          expect(h.events.filter((e) => e.startsWith('max')).length).toBe(matching.length);
        },
      ),
      { numRuns: 100 },
    );
  });
});
