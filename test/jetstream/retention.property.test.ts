/**
 * Model-based property test of retention that depends on consumers, through the official client
 * (`@nats-io/jetstream`): random sequences of publishes (random subjects), consumer create and
 * delete (random filters and ack policies), fetch, ack, nak and term over interest and
 * work-queue streams. After every step the stream's messages (STREAM.INFO with deleted details:
 * which sequences remain) and each consumer's `num_pending` / `num_ack_pending` are compared with
 * a small model:
 *
 * - interest: a message is stored only when some consumer's filter matches it, and stays while
 *   some consumer needs it (nats-server's `needAck`: it matches the filter and is above the ack
 *   floor; with ack explicit it is also pending or not delivered yet);
 * - work queue: every message is stored and an ack or term removes it; consumers must be
 *   explicit and must not overlap (10084, 10098, 10099, 10100).
 *
 * It runs against the embedded broker and, in the conformance run, against nats-server (the
 * file is one of run.mjs's BACKEND_SUITES).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { useScope } from '../helpers/scope.js';
import { rejection } from '../helpers/errors.js';

const scope = useScope();

const SUBJECTS = ['p.a', 'p.b', 'p.c'] as const;
/** Consumer filters ('' = none). */
const FILTERS = ['', 'p.a', 'p.b', 'p.*'] as const;
type Ack = 'explicit' | 'all' | 'none';
type Retention = 'interest' | 'workqueue';

type Op =
  | { t: 'pub'; subj: number }
  | { t: 'add'; c: number; filter: number; ack: Ack }
  | { t: 'del'; c: number }
  | { t: 'fetch'; c: number; n: number }
  | { t: 'ack' | 'nak' | 'term'; c: number; i: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('pub' as const), subj: fc.nat(SUBJECTS.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('add' as const), c: fc.nat(2), filter: fc.nat(FILTERS.length - 1), ack: fc.constantFrom<Ack>('explicit', 'explicit', 'all', 'none') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('del' as const), c: fc.nat(2) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('fetch' as const), c: fc.nat(2), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constantFrom('ack' as const, 'nak' as const, 'term' as const), c: fc.nat(2), i: fc.nat(4) }) },
);

const matches = (filter: string, subj: string): boolean => filter === '' || filter === subj || (filter === 'p.*' && subj.startsWith('p.'));
/** Two filters share subjects (SubjectsCollide; '' is every subject). */
const collide = (a: string, b: string): boolean => a === '' || b === '' || a === b || a === 'p.*' || b === 'p.*';

interface ModelConsumer {
  filter: string;
  ack: Ack;
  /** Next stream sequence to consider. */
  sseq: number;
  /** Ack floor (stream sequence). */
  asflr: number;
  /**
   * Delivered, not acked: stream seq → the message as the client got it last, or null once it
   * was nak'd (the client acks a message once: it waits for the redelivery).
   */
  pending: Map<number, JsMsg | null>;
  /** Nak'd, for redelivery first (in order). */
  rdq: number[];
}

class Model {
  /** Stored messages: seq → subject. */
  readonly stored = new Map<number, string>();
  lastSeq = 0;
  readonly consumers = new Map<string, ModelConsumer>();
  /**
   * nats-server 2.10 purges an interest stream when its last consumer is deleted: the first
   * sequence then moves past the last even when no sequence was ever used (0 → 1). 2.9 removes
   * the messages one by one and leaves an unused stream's first sequence at 0.
   */
  purged = false;

  constructor(readonly retention: Retention, readonly purgesOnLastDelete: boolean) {}

  /** STREAM.INFO's first_seq. */
  firstSeq(): number {
    if (this.stored.size > 0) return Math.min(...this.stored.keys());
    return this.lastSeq === 0 && !this.purged ? 0 : this.lastSeq + 1;
  }

  needAck(c: ModelConsumer, seq: number, subj: string): boolean {
    if (!matches(c.filter, subj) || seq <= c.asflr) return false;
    return c.ack !== 'explicit' || seq >= c.sseq || c.pending.has(seq);
  }

  /** Interest: what no consumer needs goes (the server checks at each ack, delivery and delete). */
  sweep(): void {
    if (this.retention !== 'interest') return;
    for (const [seq, subj] of this.stored) {
      if (![...this.consumers.values()].some((c) => this.needAck(c, seq, subj))) this.stored.delete(seq);
    }
  }

  publish(subj: string): void {
    const seq = ++this.lastSeq;
    if (this.retention === 'workqueue' || [...this.consumers.values()].some((c) => matches(c.filter, subj))) this.stored.set(seq, subj);
  }

  /** The error code a create gets, or 0. */
  createError(filter: string, ack: Ack): number {
    if (this.retention !== 'workqueue') return 0;
    if (ack === 'none') return 10084;
    if (ack !== 'explicit') return 10098;
    if (this.consumers.size > 0) {
      if (filter === '') return 10099;
      if ([...this.consumers.values()].some((c) => collide(filter, c.filter))) return 10100;
    }
    return 0;
  }

  /** The sequences a fetch of `n` delivers (redeliveries first), recorded as delivered. */
  fetch(c: ModelConsumer, n: number): number[] {
    const out: number[] = [];
    while (out.length < n && c.rdq.length > 0) out.push(c.rdq.shift()!);
    const fresh = [...this.stored.entries()].filter(([seq, subj]) => seq >= c.sseq && matches(c.filter, subj)).map(([seq]) => seq).sort((a, b) => a - b);
    for (const seq of fresh) {
      if (out.length >= n) break;
      out.push(seq);
      c.sseq = seq + 1;
      if (c.ack === 'none') c.asflr = seq;
    }
    return out;
  }

  numPending(c: ModelConsumer): number {
    let n = 0;
    for (const [seq, subj] of this.stored) if (seq >= c.sseq && matches(c.filter, subj)) n++;
    return n;
  }

  /** An ack (or term) of a pending `seq`. */
  ack(c: ModelConsumer, seq: number): void {
    if (c.ack === 'all') {
      for (const s of [...c.pending.keys()]) if (s <= seq) c.pending.delete(s);
      c.rdq = c.rdq.filter((s) => s > seq);
      if (seq > c.asflr) c.asflr = seq;
    } else {
      c.pending.delete(seq);
      c.rdq = c.rdq.filter((s) => s !== seq);
      // The floor: below the oldest still pending, or all delivered when none is.
      const rest = [...c.pending.keys()];
      c.asflr = rest.length === 0 ? c.sseq - 1 : Math.max(c.asflr, Math.min(...rest) - 1);
    }
    if (this.retention === 'workqueue') this.stored.delete(seq);
  }
}

async function check(jsm: JetStreamManager, stream: string, m: Model, step: string): Promise<void> {
  const want = [...m.stored.keys()].sort((a, b) => a - b);
  const storedOf = (st: Awaited<ReturnType<JetStreamManager['streams']['info']>>['state']): number[] => {
    const deleted = new Set(st.deleted ?? []);
    const have: number[] = [];
    if (st.messages > 0) for (let s = st.first_seq; s <= st.last_seq; s++) if (!deleted.has(s)) have.push(s);
    return have;
  };
  let info = await jsm.streams.info(stream, { deleted_details: true });
  // nats-server removes a message an ack or term let go asynchronously (the consumer's ack
  // processing, then the stream's): like num_pending below, it gets up to 1 s to settle (the
  // embedded broker has removed it when the ack's flush returns).
  for (const deadline = Date.now() + 1000; JSON.stringify(storedOf(info.state)) !== JSON.stringify(want) && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 20));
    info = await jsm.streams.info(stream, { deleted_details: true });
  }
  const st = info.state;
  const have = storedOf(st);
  expect({ step, stored: have, last: st.last_seq }).toEqual({ step, stored: want, last: m.lastSeq });
  // An empty stream: first = last + 1, or 0 when no sequence was ever used.
  expect({ step, first: st.first_seq }).toEqual({ step, first: m.firstSeq() });
  expect(st.consumer_count).toBe(m.consumers.size);
  for (const [name, c] of m.consumers) {
    const want = { step, name, num_pending: m.numPending(c), num_ack_pending: c.pending.size };
    // nats-server tells its consumers of a new message asynchronously (signalNewMessages), so
    // right after a publish its num_pending may lag for a moment: it gets up to 1 s to settle
    // (the embedded broker answers at once).
    let ci = await jsm.consumers.info(stream, name);
    for (let i = 0; i < 20 && (ci.num_pending !== want.num_pending || ci.num_ack_pending !== want.num_ack_pending); i++) {
      await new Promise((r) => setTimeout(r, 50));
      ci = await jsm.consumers.info(stream, name);
    }
    expect({ step, name, num_pending: ci.num_pending, num_ack_pending: ci.num_ack_pending }).toEqual(want);
  }
}

let runs = 0;

async function run(nc: NatsConnection, jsm: JetStreamManager, retention: Retention, ops: Op[]): Promise<void> {
  const stream = `R${++runs}`;
  await jsm.streams.add({ name: stream, subjects: ['p.>'], retention } as never);
  const js = jetstream(nc);
  const m = new Model(retention, !(nc.info?.version ?? '').startsWith('2.9.'));
  try {
    for (let k = 0; k < ops.length; k++) {
      const op = ops[k]!;
      const step = `${k}: ${JSON.stringify(op)}`;
      const name = 'c' in op ? `C${op.c}` : '';
      const c = m.consumers.get(name);
      switch (op.t) {
        case 'pub': {
          const ack = await js.publish(SUBJECTS[op.subj]!, 'x');
          m.publish(SUBJECTS[op.subj]!);
          expect(ack.seq).toBe(m.lastSeq);
          break;
        }
        case 'add': {
          if (c !== undefined) continue;
          const filter = FILTERS[op.filter]!;
          const cfg = { durable_name: name, ack_policy: op.ack, ...(filter === '' ? {} : { filter_subject: filter }) };
          const code = m.createError(filter, op.ack);
          if (code !== 0) {
            const err = await rejection(jsm.consumers.add(stream, cfg as never));
            expect(err).toBeInstanceOf(JetStreamApiError);
            expect({ step, code: (err as JetStreamApiError).code }).toEqual({ step, code });
            continue;
          }
          await jsm.consumers.add(stream, cfg as never);
          // deliver all: from the stream's first message; the floor just below it.
          const first = m.stored.size > 0 ? Math.min(...m.stored.keys()) : m.lastSeq + 1;
          // (A consumer's own start is last + 1 on an empty stream whatever first_seq says.)
          m.consumers.set(name, { filter, ack: op.ack, sseq: first, asflr: first - 1, pending: new Map(), rdq: [] });
          break;
        }
        case 'del':
          if (c === undefined) continue;
          await jsm.consumers.delete(stream, name);
          m.consumers.delete(name);
          if (m.retention === 'interest' && m.consumers.size === 0 && m.purgesOnLastDelete) m.purged = true;
          m.sweep();
          break;
        case 'fetch': {
          if (c === undefined) continue;
          const want = m.fetch(c, op.n);
          if (want.length === 0) continue;
          const got: JsMsg[] = [];
          const consumer = await js.consumers.get(stream, name);
          for await (const msg of await consumer.fetch({ max_messages: want.length, expires: 2000 })) got.push(msg);
          expect({ step, seqs: got.map((g) => g.seq) }).toEqual({ step, seqs: want });
          if (c.ack !== 'none') for (const g of got) c.pending.set(g.seq, g);
          m.sweep();
          break;
        }
        default: {
          if (c === undefined) continue;
          // nak and term: explicit consumers only (ack all floors make their rules another test's).
          if (op.t !== 'ack' && c.ack !== 'explicit') continue;
          const seqs = [...c.pending].filter(([, msg]) => msg !== null).map(([seq]) => seq).sort((a, b) => a - b);
          if (seqs.length === 0) continue;
          const seq = seqs[op.i % seqs.length]!;
          const msg = c.pending.get(seq)!;
          if (op.t === 'ack') {
            await msg.ackAck();
            m.ack(c, seq);
          } else if (op.t === 'term') {
            msg.term();
            m.ack(c, seq);
          } else {
            msg.nak();
            c.pending.set(seq, null);
            if (!c.rdq.includes(seq)) c.rdq.push(seq);
          }
          await nc.flush();
          m.sweep();
        }
      }
      await check(jsm, stream, m, step);
    }
  } finally {
    await jsm.streams.delete(stream);
  }
}

/** Sequences that once failed, replayed on every run. */
const EXAMPLES: Record<Retention, Array<[Op[]]>> = {
  // 2.10 purges on the last consumer's delete: first_seq 1 on an unused stream (2.9: 0).
  interest: [[[{ t: 'add', c: 1, filter: 0, ack: 'explicit' }, { t: 'del', c: 1 }, { t: 'pub', subj: 0 }]]],
  // An ack after a nak waits for the redelivery (the client acks a message once).
  workqueue: [[[{ t: 'add', c: 1, filter: 0, ack: 'explicit' }, { t: 'pub', subj: 0 }, { t: 'fetch', c: 1, n: 1 }, { t: 'nak', c: 1, i: 0 }, { t: 'ack', c: 1, i: 0 }, { t: 'fetch', c: 1, n: 1 }, { t: 'ack', c: 1, i: 0 }]]],
};

describe('retention that depends on consumers (model-based)', () => {
  for (const retention of ['interest', 'workqueue'] as const) {
    it(`${retention}: stored messages, num_pending and num_ack_pending follow the model`, async () => {
      const s = await scope.server({ jetstream: true });
      const nc = await scope.client(s);
      const jsm = await jetstreamManager(nc);
      // RETENTION_EXAMPLE='[[ops...]]' replays a counterexample first (e.g. against nats-server).
      const example = process.env.RETENTION_EXAMPLE;
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), (ops) => run(nc, jsm, retention, ops)),
        { numRuns: 40, examples: example === undefined ? EXAMPLES[retention] : [JSON.parse(example) as [Op[]]] },
      );
    }, 120_000);
  }
});
