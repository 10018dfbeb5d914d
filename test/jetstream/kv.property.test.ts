/**
 * Model-based property test of Key-Value through the official client (`@nats-io/kv`): random
 * sequences of put, create, update (with the current or a stale revision), delete, purge, get
 * (latest and by revision), history and keys on a bucket with a random history depth, checked
 * against a map-with-history model after every step:
 *
 * - every successful write takes the next revision (the stream sequence); a refused one none;
 * - a key keeps its newest `history` entries (`max_msgs_per_subject`), delete markers included;
 *   a purge (rollup of the key's subject) leaves only its marker;
 * - create succeeds on a key with no entries, or whose newest entry is a delete or purge marker
 *   (the client then updates on the marker's revision), and fails otherwise with 10071
 *   "wrong last sequence: <the key's revision>"; update succeeds only on the key's revision;
 * - get returns the newest entry (markers too), get by revision the entry still stored at that
 *   sequence for that key, history the key's stored entries, keys those whose newest is a put.
 *
 * Watchers (one from the start on the empty bucket, more started at random points) must see, in
 * order, the newest entry of each key when they start (the "initialized" point) and then every
 * write, each with the revision, operation and value the model gave it.
 *
 * Seeded (KV_SEED overrides; KV_EXAMPLE='[[ops...], history]' replays a counterexample first).
 * It runs against the embedded broker and, in the conformance run, against nats-server (the file
 * is one of run.mjs's BACKEND_SUITES).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry, type KvWatchEntry } from '@nats-io/kv';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

const KEYS = ['a', 'b', 'c.d'] as const;

type Op =
  | { t: 'put' | 'create' | 'delete' | 'purge' | 'get' | 'history'; k: number }
  | { t: 'update'; k: number; stale: boolean; pick: number }
  | { t: 'getRev'; k: number; pick: number }
  | { t: 'keys' }
  | { t: 'watch' };

const key = fc.nat(KEYS.length - 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('put' as const), k: key }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('create' as const), k: key }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('update' as const), k: key, stale: fc.boolean(), pick: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), k: key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('purge' as const), k: key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('get' as const), k: key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('getRev' as const), k: key, pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('history' as const), k: key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('keys' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('watch' as const) }) },
);

type Operation = 'PUT' | 'DEL' | 'PURGE';
interface Rec {
  key: string;
  rev: number;
  op: Operation;
  value: string;
}

class Model {
  /** Stored entries by revision (the stream's messages). */
  readonly stored = new Map<number, Rec>();
  lastRev = 0;
  /** Every successful write, in order (what a watcher sees after it starts). */
  readonly log: Rec[] = [];

  constructor(readonly history: number) {}

  entries(k: string): Rec[] {
    return [...this.stored.values()].filter((r) => r.key === k).sort((a, b) => a.rev - b.rev);
  }
  latest(k: string): Rec | null {
    const e = this.entries(k);
    return e.length === 0 ? null : e[e.length - 1]!;
  }
  /** The key's revision (its newest stored entry's sequence, 0 without one). */
  keyRev(k: string): number {
    return this.latest(k)?.rev ?? 0;
  }

  write(k: string, op: Operation, value: string): Rec {
    const r: Rec = { key: k, rev: ++this.lastRev, op, value };
    if (op === 'PURGE') for (const e of this.entries(k)) this.stored.delete(e.rev);
    this.stored.set(r.rev, r);
    const e = this.entries(k);
    for (let i = 0; i < e.length - this.history; i++) this.stored.delete(e[i]!.rev);
    this.log.push(r);
    return r;
  }

  /** What a watcher started now sees first: each key's newest entry, by revision. */
  initial(): Rec[] {
    return KEYS.map((k) => this.latest(k)).filter((r): r is Rec => r !== null).sort((a, b) => a.rev - b.rev);
  }
}

const shape = (e: KvEntry | null): Rec | null => (e === null ? null : { key: e.key, rev: e.revision, op: e.operation, value: new TextDecoder().decode(e.value) });

/** The 10071 conflict a write with a wrong expected revision gets. */
async function conflict(p: Promise<unknown>): Promise<{ code: number; message: string } | 'resolved'> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    if (!(err instanceof JetStreamApiError)) throw err;
    return { code: err.code, message: err.message };
  }
}

interface Watcher {
  want: Rec[];
  got: Rec[];
  iter: AsyncIterable<KvWatchEntry> & { stop(): void };
}

async function startWatcher(kv: KV, m: Model): Promise<Watcher> {
  const iter = await kv.watch();
  const w: Watcher = { want: m.initial(), got: [], iter };
  void (async () => {
    for await (const e of iter) w.got.push(shape(e)!);
  })();
  // The client returns before the consumer has delivered (or even, on nats-server, been
  // created): a write now could replace an initial entry before it is sent (history 1), on
  // either server. Like an application waiting for the initialized marker, the run goes on
  // once the initial entries are in.
  await eventually(() => w.got.length >= w.want.length, `the watcher's ${w.want.length} initial entries`, 5000);
  return w;
}

let runs = 0;

async function run(nc: NatsConnection, kvm: Kvm, ops: Op[], history: number, memory: boolean): Promise<void> {
  const bucket = `P${++runs}`;
  const kv = await kvm.create(bucket, { history, ...(memory ? { storage: 'memory' as never } : {}) });
  const jsm = await jetstreamManager(nc);
  const m = new Model(history);
  const watchers: Watcher[] = [await startWatcher(kv, m)];
  const value = (): string => `v${m.lastRev + 1}`;
  try {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      const step = `${i}: ${JSON.stringify(op)}`;
      const k = 'k' in op ? KEYS[op.k]! : '';
      switch (op.t) {
        case 'put': {
          const v = value();
          expect({ step, rev: await kv.put(k, v) }).toEqual({ step, rev: m.write(k, 'PUT', v).rev });
          break;
        }
        case 'create': {
          const v = value();
          const last = m.latest(k);
          if (last === null || last.op !== 'PUT') {
            expect({ step, rev: await kv.create(k, v) }).toEqual({ step, rev: m.write(k, 'PUT', v).rev });
          } else {
            expect({ step, err: await conflict(kv.create(k, v)) }).toEqual({ step, err: { code: 10071, message: `wrong last sequence: ${last.rev}` } });
          }
          break;
        }
        case 'update': {
          const v = value();
          const current = m.keyRev(k);
          // A stale revision: any other of 1..last+1 (0 is refused by the client itself).
          let rev = current;
          if (op.stale || current === 0) {
            rev = 1 + (op.pick % (m.lastRev + 1));
            if (rev === current) rev = current + 1;
          }
          if (rev === current) {
            expect({ step, rev: await kv.update(k, v, rev) }).toEqual({ step, rev: m.write(k, 'PUT', v).rev });
          } else {
            expect({ step, err: await conflict(kv.update(k, v, rev)) }).toEqual({ step, err: { code: 10071, message: `wrong last sequence: ${current}` } });
          }
          break;
        }
        case 'delete':
          await kv.delete(k);
          m.write(k, 'DEL', '');
          break;
        case 'purge':
          await kv.purge(k);
          m.write(k, 'PURGE', '');
          break;
        case 'get':
          expect({ step, got: shape(await kv.get(k)) }).toEqual({ step, got: m.latest(k) });
          break;
        case 'getRev': {
          if (m.lastRev === 0) continue;
          const rev = 1 + (op.pick % (m.lastRev + 1));
          const r = m.stored.get(rev);
          expect({ step, rev, got: shape(await kv.get(k, { revision: rev })) }).toEqual({ step, rev, got: r !== undefined && r.key === k ? r : null });
          break;
        }
        case 'history': {
          const got: Array<Rec | null> = [];
          for await (const e of await kv.history({ key: k })) got.push(shape(e));
          expect({ step, got }).toEqual({ step, got: m.entries(k) });
          break;
        }
        case 'keys': {
          const got: string[] = [];
          for await (const kk of await kv.keys()) got.push(kk);
          expect({ step, keys: got.sort() }).toEqual({ step, keys: KEYS.filter((kk) => m.latest(kk)?.op === 'PUT') });
          break;
        }
        case 'watch':
          if (watchers.length < 3) watchers.push(await startWatcher(kv, m));
          continue;
      }
      // Every write after a watcher started is what it sees next.
      if (['put', 'create', 'update', 'delete', 'purge'].includes(op.t)) {
        const last = m.log[m.log.length - 1];
        for (const w of watchers) if (last !== undefined && !w.want.includes(last)) w.want.push(last);
      }
      const st = (await jsm.streams.info(`KV_${bucket}`)).state;
      expect({ step, messages: st.messages, last: st.last_seq }).toEqual({ step, messages: m.stored.size, last: m.lastRev });
    }
    for (const [n, w] of watchers.entries()) {
      await eventually(() => w.got.length >= w.want.length, `watcher ${n}: ${w.want.length} entries`, 5000).catch(() => undefined);
      expect({ watcher: n, got: w.got }).toEqual({ watcher: n, got: w.want });
    }
    const all: Array<Rec | null> = [];
    for await (const e of await kv.history()) all.push(shape(e));
    expect(all).toEqual([...m.stored.values()].sort((a, b) => a.rev - b.rev));
  } finally {
    for (const w of watchers) w.iter.stop();
    await kv.destroy();
  }
}

/** Sequences worth replaying on every run. */
const EXAMPLES: Array<[Op[], number]> = [
  // create over a delete marker, then over a purge marker; a stale update after both.
  [[{ t: 'put', k: 0 }, { t: 'delete', k: 0 }, { t: 'create', k: 0 }, { t: 'purge', k: 0 }, { t: 'create', k: 0 }, { t: 'update', k: 0, stale: true, pick: 0 }, { t: 'history', k: 0 }], 2],
  // history depth 1: a delete marker replaces the value; a watcher started after sees the marker.
  [[{ t: 'put', k: 1 }, { t: 'put', k: 1 }, { t: 'delete', k: 1 }, { t: 'watch' }, { t: 'getRev', k: 1, pick: 1 }, { t: 'put', k: 2 }, { t: 'keys' }], 1],
];

describe('Key-Value (model-based)', () => {
  it('writes, conflicts, history, keys and watchers follow the map-with-history model', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const kvm = new Kvm(nc);
    const example = process.env.KV_EXAMPLE;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 4, maxLength: 24 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), (ops, history, memory) => run(nc, kvm, ops, history, memory)),
      {
        numRuns: 30,
        seed: Number(process.env.KV_SEED ?? 20261130),
        examples: (example === undefined ? EXAMPLES : [JSON.parse(example) as [Op[], number]]).map(([ops, h]) => [ops, h, false] as [Op[], number, boolean]),
      },
    );
  }, 120_000);
});
