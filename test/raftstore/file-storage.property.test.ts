/**
 * FileRaftStorage against MemoryRaftStorage as the model: random sequences of appends,
 * truncations (a conflicting suffix replaced, or cut), compactions and installed snapshots,
 * hard-state changes, syncs and reopens. A reopen drops the file storage without a sync (a
 * crash: what was not synced is gone) and crashes the model; the reopened state must equal the
 * model's synced state, and the working states must agree after every step. Small segments, so
 * rotation is exercised.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRaftStorage } from '../../src/raftstore/file-storage.js';
import { MemoryRaftStorage } from '../../src/raft/storage.js';
import { EntryType, type LogEntry, type Snapshot } from '../../src/raft/types.js';

const ROOT = mkdtempSync(join(tmpdir(), 'raft-file-model-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

type Op =
  | { op: 'append'; n: number; size: number; type: 0 | 2 }
  | { op: 'replace'; back: number; n: number; size: number }
  | { op: 'cut'; back: number }
  | { op: 'compact'; back: number }
  | { op: 'install'; ahead: number; match: boolean }
  | { op: 'hard'; bump: number; vote: string | null }
  | { op: 'sync' }
  | { op: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('append' as const), n: fc.integer({ min: 1, max: 5 }), size: fc.integer({ min: 0, max: 90 }), type: fc.constantFrom(0 as const, 2 as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('replace' as const), back: fc.nat(6), n: fc.integer({ min: 1, max: 3 }), size: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), back: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('compact' as const), back: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('install' as const), ahead: fc.integer({ min: -4, max: 4 }), match: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('hard' as const), bump: fc.nat(2), vote: fc.constantFrom(null, 'a', 'b', 'ü-peer') }) },
  { weight: 4, arbitrary: fc.constant({ op: 'sync' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'reopen' as const }) },
);

let counter = 0;
const data = (size: number): Uint8Array => {
  counter++;
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = (counter * 31 + i * 7) & 0xff;
  return d;
};

describe('FileRaftStorage against the in-memory model', () => {
  it('after every step and every reopen, holds what the model holds', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
        const dir = join(ROOT, `run-${run++}`);
        const model = new MemoryRaftStorage();
        let real = new FileRaftStorage(dir, { segmentBytes: 256 });
        let term = 1;
        try {
          for (const o of ops) {
            const w = working(model);
            const base = w.snapshot?.lastIndex ?? 0;
            const last = base + w.entries.length;
            switch (o.op) {
              case 'append': {
                const es: LogEntry[] = Array.from({ length: o.n }, () => ({ term, type: o.type === 0 ? EntryType.Normal : EntryType.PeerState, data: data(o.size) }));
                model.writeEntries(last + 1, es);
                real.writeEntries(last + 1, es);
                break;
              }
              case 'replace': {
                const from = Math.max(base + 1, last + 1 - o.back);
                term++;
                const es: LogEntry[] = Array.from({ length: o.n }, () => ({ term, type: EntryType.Normal, data: data(o.size) }));
                model.writeEntries(from, es);
                real.writeEntries(from, es);
                break;
              }
              case 'cut': {
                const from = Math.max(base + 1, last + 1 - o.back);
                model.writeEntries(from, []);
                real.writeEntries(from, []);
                break;
              }
              case 'compact': {
                if (last === base) break;
                const at = Math.max(base + 1, last - o.back);
                const s = { lastIndex: at, lastTerm: w.entries[at - base - 1].term, peers: ['a', 'b', 'c'], data: data(20) };
                model.saveSnapshot(s, true);
                real.saveSnapshot(s, true);
                break;
              }
              case 'install': {
                const at = Math.max(base + 1, last + o.ahead);
                const have = at <= last ? w.entries[at - base - 1].term : undefined;
                const lastTerm = o.match && have !== undefined ? have : term + 1;
                const keep = have === lastTerm;
                const s = { lastIndex: at, lastTerm, peers: ['a', 'b'], data: data(33) };
                model.saveSnapshot(s, keep);
                real.saveSnapshot(s, keep);
                break;
              }
              case 'hard':
                term += o.bump;
                model.saveTermVote(term, o.vote);
                real.saveTermVote(term, o.vote);
                break;
              case 'sync':
                model.sync();
                real.sync();
                break;
              case 'reopen':
                real.close();
                model.crash();
                real = new FileRaftStorage(dir, { segmentBytes: 256 });
                expect(real.recovery.lostBytes).toBe(0);
                expect(real.recovery.cut).toBeNull();
                expect(real.load()).toEqual(model.load());
                break;
            }
            expect(fileWorking(real)).toEqual(working(model));
          }
          real.close();
          model.crash();
          const again = new FileRaftStorage(dir, { segmentBytes: 256 });
          expect(again.load()).toEqual(model.load());
          again.close();
        } finally {
          real.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 150, seed: 18018 },
    );
  });
});

/** The model's working image (the private field, read for the comparison). */
function working(m: MemoryRaftStorage): { term: number; vote: string | null; snapshot: Snapshot | null; entries: LogEntry[] } {
  const w = (m as unknown as { working: { term: number; vote: string | null; snapshot: Snapshot | null; entries: LogEntry[] } }).working;
  return { term: w.term, vote: w.vote, snapshot: w.snapshot, entries: w.entries };
}

/** The file storage's working image (its private fields). */
function fileWorking(f: FileRaftStorage): ReturnType<typeof working> {
  const w = f as unknown as { term: number; vote: string | null; snapshot: Snapshot | null; entries: LogEntry[] };
  return { term: w.term, vote: w.vote, snapshot: w.snapshot, entries: w.entries };
}
