/**
 * The harness of the store property tests: a MemoryStore, a FileStore and a model each per
 * store, driven by the same operations and compared after each (store.property.test.ts).
 */
import { expect } from 'vitest';
import fc from 'fast-check';
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
  maxMsgs: fc.constantFrom(-1, -1, 0, 3, 8),
  maxBytes: fc.constantFrom(-1, -1, 150, 400),
  maxAgeMs: fc.constantFrom(0, 0, 1000, 5000),
  maxMsgsPerSubject: fc.constantFrom(-1, -1, 0, 1, 2, 4),
  maxMsgSize: fc.constantFrom(-1, -1, 24, 60),
  discard: fc.constantFrom<'old' | 'new'>('old', 'new'),
  discardNewPerSubject: fc.boolean(),
});

export type Op =
  | { k: 'store'; subject: string; hdr: 0 | 1 | 2; data: Uint8Array }
  | { k: 'skip' }
  | { k: 'remove'; seq: number; erase: boolean }
  | { k: 'purge'; subject: string; seq: number; keep: number }
  | { k: 'load'; seq: number }
  | { k: 'loadNext'; filter: string; start: number }
  | { k: 'loadLast'; filter: string }
  | { k: 'filtered'; filter: string; start: number }
  | { k: 'subjects'; filter: string }
  | { k: 'advance'; ms: number }
  | { k: 'limits'; limits: StoreLimits }
  | { k: 'reopen' };

const seqArb = fc.integer({ min: 0, max: 40 });
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
  { weight: 1, arbitrary: fc.constant({ k: 'skip' as const }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('remove' as const), seq: seqArb, erase: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('purge' as const),
      subject: fc.constantFrom('', '>', 'a', 'c.*', 'x.>', 'b'),
      seq: fc.oneof(fc.constant(0), fc.constant(1), seqArb, fc.integer({ min: 40, max: 60 })),
      keep: fc.constantFrom(0, 0, 1, 2, 5),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('load' as const), seq: seqArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('loadNext' as const), filter: fc.constantFrom(...FILTERS), start: seqArb }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('loadLast' as const), filter: fc.constantFrom(...FILTERS) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('filtered' as const), filter: fc.constantFrom(...FILTERS), start: seqArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('subjects' as const), filter: fc.constantFrom(...FILTERS) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.constantFrom(0, 100, 999, 1000, 3000) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('limits' as const), limits: limitsArb }) },
  { weight: 2, arbitrary: fc.constant({ k: 'reopen' as const }) },
);

function header(kind: 0 | 1 | 2): Buffer | null {
  return kind === 0 ? null : kind === 1 ? HDR : Buffer.alloc(0);
}

/** A message as compared: plain values (Buffers as hex). */
function msg(m: { seq: number; subject: string; hdr: Buffer | null; data: Buffer; ts: number } | null) {
  return m === null ? null : { seq: m.seq, subject: m.subject, hdr: m.hdr?.toString('hex') ?? null, data: m.data.toString('hex'), ts: m.ts };
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
  readonly dir: string;
  memRemoved: [number, string, number][] = [];
  fileRemoved: [number, string, number][] = [];
  /** No byte limit was ever set: memory and file must agree on everything but bytes. */
  comparable: boolean;

  constructor(
    public limits: StoreLimits,
    root: string,
  ) {
    this.dir = join(root, `s${dirs++}`);
    this.mem = new MemoryStore(limits, { clock: this.clock, indexBlock: 4, chunkSize: 128 });
    this.mem.onRemove((s, subj, b) => this.memRemoved.push([s, subj, b]));
    this.memModel = new Model(limits, memoryMsgSize, (oldest, size) => oldest < size);
    this.fileModel = new Model(limits, fileMsgSize, (oldest, size) => oldest <= size);
    this.comparable = limits.maxBytes <= 0;
  }

  async openFile(): Promise<void> {
    this.file = await FileStore.open(this.dir, this.limits, { clock: this.clock, blockSize: 512, indexBlock: 4 });
    this.file.onRemove((s, subj, b) => this.fileRemoved.push([s, subj, b]));
  }

  /** Applies `op` to everything and checks the results agree. */
  async step(op: Op): Promise<void> {
    const { mem, file, memModel, fileModel } = this;
    switch (op.k) {
      case 'store': {
        const hdr = header(op.hdr);
        const data = Buffer.from(op.data);
        expect(mem.store(op.subject, hdr, data)).toEqual(memModel.store(op.subject, hdr, data, this.now));
        expect(file.store(op.subject, hdr, data)).toEqual(fileModel.store(op.subject, hdr, data, this.now));
        break;
      }
      case 'skip':
        expect(mem.skip()).toBe(memModel.skip(this.now));
        expect(file.skip()).toBe(fileModel.skip(this.now));
        break;
      case 'remove':
        expect(mem.remove(op.seq, op.erase)).toBe(memModel.remove(op.seq));
        expect(file.remove(op.seq, op.erase)).toBe(fileModel.remove(op.seq));
        break;
      case 'purge':
        expect(mem.purge(op.subject, op.seq, op.keep)).toBe(memModel.purge(op.subject, op.seq, op.keep));
        expect(file.purge(op.subject, op.seq, op.keep)).toBe(fileModel.purge(op.subject, op.seq, op.keep));
        break;
      case 'load':
        expect(msg(mem.load(op.seq))).toEqual(msg(memModel.load(op.seq)));
        expect(msg(file.load(op.seq))).toEqual(msg(fileModel.load(op.seq)));
        break;
      case 'loadNext':
        expect(msg(mem.loadNext(op.filter, op.start))).toEqual(msg(memModel.loadNext(op.filter, op.start)));
        expect(msg(file.loadNext(op.filter, op.start))).toEqual(msg(fileModel.loadNext(op.filter, op.start)));
        break;
      case 'loadLast':
        expect(msg(mem.loadLast(op.filter))).toEqual(msg(memModel.loadLast(op.filter)));
        expect(msg(file.loadLast(op.filter))).toEqual(msg(fileModel.loadLast(op.filter)));
        break;
      case 'filtered':
        expect(mem.filteredState(op.start, op.filter)).toEqual(memModel.filteredState(op.start, op.filter));
        expect(file.filteredState(op.start, op.filter)).toEqual(fileModel.filteredState(op.start, op.filter));
        break;
      case 'subjects':
        expect(sorted(mem.subjectsState(op.filter))).toEqual(sorted(memModel.subjectsState(op.filter)));
        expect(sorted(file.subjectsState(op.filter))).toEqual(sorted(fileModel.subjectsState(op.filter)));
        break;
      case 'advance':
        this.now += op.ms;
        mem.checkExpiry();
        file.checkExpiry();
        memModel.expire(this.now);
        fileModel.expire(this.now);
        break;
      case 'limits':
        this.limits = op.limits;
        if (op.limits.maxBytes > 0) this.comparable = false;
        mem.updateLimits(op.limits);
        file.updateLimits(op.limits);
        memModel.updateLimits(op.limits, this.now);
        fileModel.updateLimits(op.limits, this.now);
        break;
      case 'reopen':
        await file.stop();
        await this.openFile();
        break;
    }
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
    expect(this.memRemoved).toEqual(memModel.removed);
    expect(this.fileRemoved).toEqual(fileModel.removed);
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

