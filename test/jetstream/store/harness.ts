/**
 * The harness of the store property tests: a MemoryStore, a FileStore and a model each per
 * store, driven by the same operations and compared after each (store.property.test.ts).
 */
import { expect } from 'vitest';
import fc from 'fast-check';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryStore } from '../../../src/jetstream/store/memory.js';
import { FileStore } from '../../../src/jetstream/store/file.js';
import { fileMsgSize, memoryMsgSize, type StoreLimits } from '../../../src/jetstream/store/store.js';
import { Model } from './model.js';

let dirs = 0;
const SUBJECTS = ['a', 'b', 'c.d', 'c.e', 'x.y.z', 'x.q.z'];
const FILTERS = ['', '>', 'a', 'b', 'c.*', 'c.>', '*.y.*', 'x.>', 'none', 'c'];
const HDR = Buffer.from('NATS/1.0\r\nk: v\r\n\r\n');

export const limitsArb: fc.Arbitrary<StoreLimits> = fc.record({
  maxMsgs: fc.constantFrom(-1, -1, -1, 0, 3, 8, 40),
  maxBytes: fc.constantFrom(-1, -1, -1, 150, 400, 2000),
  maxAgeMs: fc.constantFrom(0, 0, 1000, 5000),
  maxMsgsPerSubject: fc.constantFrom(-1, -1, -1, 0, 1, 2, 4, 10),
  maxMsgSize: fc.constantFrom(-1, -1, -1, 24, 60),
  discard: fc.constantFrom<'old' | 'new'>('old', 'new'),
  discardNewPerSubject: fc.boolean(),
});

/**
 * Sequences in operations are positions `at` in 0..1000 over the store's range 0..last + 2,
 * so that they hit existing messages whatever the size of the store.
 */
export type Op =
  | { k: 'store'; subject: string; hdr: 0 | 1 | 2; data: Uint8Array }
  | { k: 'burst'; n: number; seed: number }
  | { k: 'skip' }
  | { k: 'remove'; at: number; erase: boolean }
  | { k: 'thin'; every: number; keepOne: boolean }
  | { k: 'purge'; subject: string; at: number; keep: number }
  | { k: 'load'; at: number }
  | { k: 'loadNext'; filter: string; at: number }
  | { k: 'loadLast'; filter: string }
  | { k: 'filtered'; filter: string; at: number }
  | { k: 'subjects'; filter: string }
  | { k: 'advance'; ms: number }
  | { k: 'limits'; limits: StoreLimits }
  | { k: 'reopen' };

const atArb = fc.integer({ min: 0, max: 1000 });
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('store' as const),
      subject: fc.constantFrom(...SUBJECTS),
      hdr: fc.constantFrom<0 | 1 | 2>(0, 0, 1, 2),
      data: fc.uint8Array({ maxLength: 40 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('burst' as const), n: fc.integer({ min: 5, max: 40 }), seed: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ k: 'skip' as const }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('remove' as const), at: atArb, erase: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('thin' as const), every: fc.integer({ min: 2, max: 9 }), keepOne: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('purge' as const),
      subject: fc.constantFrom('', '>', 'a', 'c.*', 'x.>', 'b'),
      // -1: 0 (no bound), -2: 1, else a position (past the end included).
      at: fc.oneof(fc.constant(-1), fc.constant(-2), atArb, fc.integer({ min: 1000, max: 1400 })),
      keep: fc.constantFrom(0, 0, 1, 2, 5),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('load' as const), at: atArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('loadNext' as const), filter: fc.constantFrom(...FILTERS), at: atArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('loadLast' as const), filter: fc.constantFrom(...FILTERS) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('filtered' as const), filter: fc.constantFrom(...FILTERS), at: atArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('subjects' as const), filter: fc.constantFrom(...FILTERS) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.constantFrom(0, 100, 999, 1000, 3000) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('limits' as const), limits: limitsArb }) },
  { weight: 2, arbitrary: fc.constant({ k: 'reopen' as const }) },
);

/** The sequence a position stands for in a store whose last sequence is `last`. */
function seqAt(at: number, last: number): number {
  if (at === -1) return 0;
  if (at === -2) return 1;
  return Math.floor((at * (last + 3)) / 1000);
}

/** A small deterministic generator for bursts. */
function lcg(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
}

function header(kind: 0 | 1 | 2): Buffer | null {
  return kind === 0 ? null : kind === 1 ? HDR : Buffer.alloc(0);
}

/** A message as compared: plain values (Buffers as hex). */
function msg(m: { seq: number; subject: string; hdr: Buffer | null; data: Buffer; ts: number } | null) {
  return m === null ? null : { seq: m.seq, subject: m.subject, hdr: m.hdr?.toString('hex') ?? null, data: m.data.toString('hex'), ts: m.ts };
}

/** Every message of a store, by walking loadNext. */
function all(s: MemoryStore | FileStore) {
  const out = [];
  for (let m = s.loadNext('>', 0); m !== null; m = s.loadNext('>', m.seq + 1)) out.push(msg(m));
  return out;
}

function sorted(m: Map<string, unknown>) {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
}

export class Harness {
  now = 1_700_000_000_000;
  readonly clock = () => this.now;
  readonly mem: MemoryStore;
  file!: FileStore;
  readonly memModel: Model;
  readonly fileModel: Model;
  dir: string;
  /** Write-behind: records the file store has asked to have written (calls of its callback). */
  flushRequests = 0;
  private steps = 0;
  memRemoved: [number, string, number][] = [];
  fileRemoved: [number, string, number][] = [];
  /** No byte limit was ever set: memory and file must agree on everything but bytes. */
  comparable: boolean;

  constructor(
    public limits: StoreLimits,
    private readonly root: string,
    /**
     * Open the file store with write-behind: its records are written by `flushWrites()`, called
     * after every third step only, and `reopen` opens a copy of the directory taken right after
     * `flushWrites()` without stopping the store (what a killed process leaves on disk).
     */
    readonly writeBehind = false,
  ) {
    this.dir = join(root, `s${dirs++}`);
    this.mem = new MemoryStore(limits, { clock: this.clock, indexBlock: 8, chunkSize: 128 });
    this.mem.onRemove((s, subj, b) => this.memRemoved.push([s, subj, b]));
    this.memModel = new Model(limits, memoryMsgSize, (oldest, size) => oldest < size);
    this.fileModel = new Model(limits, fileMsgSize, (oldest, size) => oldest <= size);
    this.comparable = limits.maxBytes <= 0;
  }

  async openFile(): Promise<void> {
    this.file = await FileStore.open(this.dir, this.limits, {
      clock: this.clock,
      blockSize: 512,
      indexBlock: 8,
      writeBehind: this.writeBehind ? () => this.flushRequests++ : undefined,
    });
    this.file.onRemove((s, subj, b) => this.fileRemoved.push([s, subj, b]));
  }

  /** Applies `op` to everything and checks the results agree. */
  async step(op: Op): Promise<void> {
    const { mem, file, memModel, fileModel } = this;
    // The same operation on each store and its model: `f(store, model, last)` returns both results.
    const each = (f: (s: MemoryStore | FileStore, m: Model) => [unknown, unknown]): void => {
      const [a, b] = f(mem, memModel);
      expect(a, 'memory store').toEqual(b);
      const [c, d] = f(file, fileModel);
      expect(c, 'file store').toEqual(d);
    };
    switch (op.k) {
      case 'store': {
        const hdr = header(op.hdr);
        const data = Buffer.from(op.data);
        each((s, m) => [s.store(op.subject, hdr, data), m.store(op.subject, hdr, data, this.now)]);
        break;
      }
      case 'burst': {
        const rnd = lcg(op.seed);
        for (let k = 0; k < op.n; k++) {
          const subject = SUBJECTS[rnd() % SUBJECTS.length];
          const hdr = header((rnd() % 3) as 0 | 1 | 2);
          const data = Buffer.alloc(rnd() % 30, rnd() & 0xff);
          each((s, m) => [s.store(subject, hdr, data), m.store(subject, hdr, data, this.now)]);
        }
        break;
      }
      case 'skip':
        each((s, m) => [s.skip(), m.skip(this.now)]);
        break;
      case 'remove':
        each((s, m) => {
          const seq = seqAt(op.at, m.last);
          return [s.remove(seq, op.erase), m.remove(seq)];
        });
        break;
      case 'thin':
        // Interior removals all over (one in `every`, or all but one in `every`): leaves sparse
        // index blocks, chunks and segments.
        each((s, m) => {
          const seqs = m.msgs.map((x) => x.seq).filter((_, k) => (k % op.every === 1) !== op.keepOne);
          return [seqs.map((q) => s.remove(q)), seqs.map((q) => m.remove(q))];
        });
        break;
      case 'purge':
        each((s, m) => {
          const seq = seqAt(op.at, m.last);
          return [s.purge(op.subject, seq, op.keep), m.purge(op.subject, seq, op.keep)];
        });
        break;
      case 'load':
        each((s, m) => [msg(s.load(seqAt(op.at, m.last))), msg(m.load(seqAt(op.at, m.last)))]);
        break;
      case 'loadNext':
        each((s, m) => [msg(s.loadNext(op.filter, seqAt(op.at, m.last))), msg(m.loadNext(op.filter, seqAt(op.at, m.last)))]);
        break;
      case 'loadLast':
        // lastSeqOn: the sequence loadLast would read, without reading the message.
        each((s, m) => [[msg(s.loadLast(op.filter)), s.lastSeqOn(op.filter)], [msg(m.loadLast(op.filter)), m.loadLast(op.filter)?.seq ?? 0]]);
        break;
      case 'filtered':
        each((s, m) => [s.filteredState(seqAt(op.at, m.last), op.filter), m.filteredState(seqAt(op.at, m.last), op.filter)]);
        break;
      case 'subjects':
        each((s, m) => [sorted(s.subjectsState(op.filter)), sorted(m.subjectsState(op.filter))]);
        break;
      case 'advance':
        this.now += op.ms;
        each((s, m) => [s.checkExpiry(), m.expire(this.now)]);
        break;
      case 'limits':
        this.limits = op.limits;
        if (op.limits.maxBytes > 0) this.comparable = false;
        each((s, m) => [s.updateLimits(op.limits), m.updateLimits(op.limits, this.now)]);
        break;
      case 'reopen':
        if (this.writeBehind) {
          file.flushWrites();
          const copy = join(this.root, `s${dirs++}`);
          cpSync(this.dir, copy, { recursive: true });
          await file.stop();
          this.dir = copy;
        } else {
          await file.stop();
        }
        await this.openFile();
        break;
    }
    if (this.writeBehind && this.steps++ % 3 === 0) this.file.flushWrites();
    this.check();
  }

  check(): void {
    const { mem, file, memModel, fileModel } = this;
    expect(mem.state()).toEqual(memModel.state());
    expect(file.state()).toEqual(fileModel.state());
    expect(mem.deleted()).toEqual(memModel.deleted());
    expect(file.deleted()).toEqual(fileModel.deleted());
    expect(sorted(mem.subjectsState('>'))).toEqual(sorted(memModel.subjectsState('>')));
    expect(sorted(file.subjectsState('>'))).toEqual(sorted(fileModel.subjectsState('>')));
    // Every message, read back.
    expect(all(mem)).toEqual(memModel.msgs.map(msg));
    expect(all(file)).toEqual(fileModel.msgs.map(msg));
    // The removal reports (their order within one operation is not part of the contract).
    const bySeq = (r: [number, string, number][]) => [...r].sort((x, y) => x[0] - y[0]);
    expect(bySeq(this.memRemoved)).toEqual(bySeq(memModel.removed));
    expect(bySeq(this.fileRemoved)).toEqual(bySeq(fileModel.removed));
    this.memRemoved = [];
    this.fileRemoved = [];
    memModel.removed = [];
    fileModel.removed = [];
    if (this.comparable) {
      const { bytes: _m, ...ms } = mem.state();
      const { bytes: _f, ...fs } = file.state();
      expect(fs).toEqual(ms);
    }
  }
}

