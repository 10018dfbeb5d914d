/**
 * FileRaftStorage's recovery from what a crash or a bad disk leaves: the last record cut at
 * every byte offset, a flipped byte anywhere in the log, leftovers of an interrupted compaction.
 * Opening never fails on a damaged log; it ends the log at the last valid record, says what was
 * lost, and takes new writes after it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRaftStorage } from '../../src/raftstore/file-storage.js';
import { EntryType, type LogEntry } from '../../src/raft/types.js';

const ROOT = mkdtempSync(join(tmpdir(), 'raft-file-torn-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

const entry = (i: number, term = 1): LogEntry => ({ term, type: EntryType.Normal, data: new TextEncoder().encode(`entry-${i}-${'z'.repeat(i % 13)}`) });
const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.log')).sort();

/** A directory holding `n` synced entries, term 3 and vote 'b'; the size of each record. */
function seeded(name: string, n: number): { dir: string; sizes: number[] } {
  const dir = join(ROOT, name);
  const s = new FileRaftStorage(dir);
  s.saveTermVote(3, 'b');
  const sizes: number[] = [];
  for (let i = 1; i <= n; i++) {
    s.writeEntries(i, [entry(i)]);
    s.sync();
    sizes.push(statSync(join(dir, segments(dir)[0])).size - sizes.reduce((a, b) => a + b, 0));
  }
  s.close();
  return { dir, sizes };
}

describe('FileRaftStorage recovery', () => {
  it('a last record cut at every byte offset is dropped, the rest kept, and the log takes new entries', () => {
    const { dir, sizes } = seeded('cut', 5);
    const seg = segments(dir)[0];
    const full = statSync(join(dir, seg)).size;
    const lastStart = full - sizes[4];
    for (let off = lastStart; off < full; off++) {
      const copy = join(ROOT, `cut-${off}`);
      cpSync(dir, copy, { recursive: true });
      truncateSync(join(copy, seg), off);
      const s = new FileRaftStorage(copy);
      const st = s.load();
      expect(st.term).toBe(3);
      expect(st.vote).toBe('b');
      expect(st.entries).toEqual([1, 2, 3, 4].map((i) => entry(i)));
      expect(s.recovery.lostBytes).toBe(off - lastStart);
      expect(s.recovery.cut).toEqual(off === lastStart ? null : { segment: seg, offset: lastStart });
      s.writeEntries(5, [entry(50, 2)]);
      s.sync();
      s.close();
      const again = new FileRaftStorage(copy);
      expect(again.load().entries).toEqual([...[1, 2, 3, 4].map((i) => entry(i)), entry(50, 2)]);
      expect(again.recovery.lostBytes).toBe(0);
      again.close();
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('a flipped byte drops its record and everything after it, never misreads it', () => {
    const { dir, sizes } = seeded('flip', 4);
    const seg = segments(dir)[0];
    const orig = readFileSync(join(dir, seg));
    const starts = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
    for (let pos = 0; pos < orig.length; pos++) {
      const copy = join(ROOT, `flip-${pos}`);
      cpSync(dir, copy, { recursive: true });
      const bad = Buffer.from(orig);
      bad[pos] ^= 0x5a;
      writeFileSync(join(copy, seg), bad);
      const s = new FileRaftStorage(copy);
      const rec = starts.filter((st) => st <= pos).length - 1; // the damaged record
      expect(s.load().entries).toEqual(Array.from({ length: rec }, (_, i) => entry(i + 1)));
      expect(s.recovery.cut).toEqual({ segment: seg, offset: starts[rec] });
      expect(s.recovery.lostBytes).toBe(orig.length - starts[rec]);
      s.close();
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('a damaged record in an earlier segment removes the later segments', () => {
    const dir = join(ROOT, 'multi');
    const s = new FileRaftStorage(dir, { segmentBytes: 100 });
    for (let i = 1; i <= 12; i++) {
      s.writeEntries(i, [entry(i)]);
      s.sync();
    }
    s.close();
    const segs = segments(dir);
    expect(segs.length).toBeGreaterThan(2);
    const first = readFileSync(join(dir, segs[0]));
    const inFirst = new FileRaftStorage(dir, { segmentBytes: 100 });
    const keep = inFirst.load().entries.length;
    inFirst.close();
    expect(keep).toBe(12);
    first[first.length - 1] ^= 1; // the last record of the first segment
    writeFileSync(join(dir, segs[0]), first);
    const r = new FileRaftStorage(dir, { segmentBytes: 100 });
    const got = r.load().entries;
    expect(got.length).toBeLessThan(12);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => entry(i + 1)));
    expect(r.recovery.removedSegments).toEqual(segs.slice(1));
    expect(segments(dir)).toEqual([segs[0]]);
    r.close();
  });

  it('an interrupted compaction leaves the old snapshot and log; a finished one leaves no old segments', () => {
    const dir = join(ROOT, 'compact');
    const s = new FileRaftStorage(dir);
    s.writeEntries(1, [1, 2, 3, 4].map((i) => entry(i)));
    s.sync();
    s.saveSnapshot({ lastIndex: 2, lastTerm: 1, peers: ['a', 'b', 'c'], data: new Uint8Array([7]) }, true);
    s.sync();
    s.close();
    // After the switch: only the new generation's segment.
    expect(segments(dir)).toEqual(['0000000001-0000000000.log']);
    // A crash after the next generation's segment was written but before the snapshot switch.
    copyFileSync(join(dir, '0000000001-0000000000.log'), join(dir, '0000000002-0000000000.log'));
    writeFileSync(join(dir, 'snap.tmp'), 'half');
    const r = new FileRaftStorage(dir);
    const st = r.load();
    expect(st.snapshot?.lastIndex).toBe(2);
    expect(st.entries).toEqual([3, 4].map((i) => entry(i)));
    expect(r.recovery.removedSegments).toEqual(['0000000002-0000000000.log']);
    expect(readdirSync(dir).sort()).toEqual(['0000000001-0000000000.log', 'snap']);
    r.close();
  });

  it('a damaged hard state is an error (it is renamed into place, so no crash tears it)', () => {
    const dir = join(ROOT, 'hard');
    const s = new FileRaftStorage(dir);
    s.saveTermVote(9, 'c');
    s.sync();
    s.close();
    const h = readFileSync(join(dir, 'hard'));
    h[5] ^= 1;
    writeFileSync(join(dir, 'hard'), h);
    expect(() => new FileRaftStorage(dir)).toThrow(/hard state file is damaged/);
  });

  it('after a failed sync it writes nothing more; a reopen finds the last good sync', () => {
    const dir = join(ROOT, 'failed');
    const s = new FileRaftStorage(dir);
    s.saveTermVote(2, 'a');
    s.writeEntries(1, [entry(1, 2)]);
    s.sync();
    mkdirSync(join(dir, 'hard.tmp')); // the next hard-state write cannot create its temp file
    s.saveTermVote(3, null);
    s.writeEntries(2, [entry(2, 3)]);
    expect(() => s.sync()).toThrow(/EISDIR/);
    rmSync(join(dir, 'hard.tmp'), { recursive: true });
    s.writeEntries(3, [entry(3, 3)]);
    expect(() => s.sync()).toThrow(/EISDIR/);
    s.close();
    const r = new FileRaftStorage(dir);
    expect(r.load()).toEqual({ term: 2, vote: 'a', snapshot: null, entries: [entry(1, 2)] });
    r.close();
  });
});
