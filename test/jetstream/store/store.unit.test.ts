/**
 * Exact rules of both stores, case by case: the byte accounting of memory and file stores
 * (nats-server's memStoreMsgSize / fileStoreMsgSize), the limits' edge cases, PurgeEx's rules
 * and expiry on a real timer that never outlives the store.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../../src/jetstream/store/memory.js';
import { FileStore } from '../../../src/jetstream/store/file.js';
import { fileMsgSize, memoryMsgSize, StoreError, type StoreLimits } from '../../../src/jetstream/store/store.js';
import { NO_LIMITS as NONE } from '../../helpers/store-limits.js';

const ROOT = mkdtempSync(join(tmpdir(), 'js-store-unit-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));
let n = 0;

const HDR = Buffer.from('NATS/1.0\r\nk: v\r\n\r\n'); // 18 bytes
const B = (s: string) => Buffer.from(s);

type Make = (limits?: Partial<StoreLimits>, clock?: () => number) => Promise<MemoryStore | FileStore>;
const KINDS: [string, Make][] = [
  ['memory', async (l = {}, clock) => new MemoryStore({ ...NONE, ...l }, { clock })],
  ['file', async (l = {}, clock) => FileStore.open(join(ROOT, `u${n++}`), { ...NONE, ...l }, { clock })],
];

describe('byte accounting', () => {
  it('memory: subject + header + data + 16 (in.a with a 1-byte body: 21)', async () => {
    const s = new MemoryStore(NONE);
    s.store('in.a', null, B('x'));
    expect(s.state().bytes).toBe(21);
    s.store('in.a', HDR, B('xyz'));
    expect(s.state().bytes).toBe(21 + 4 + 18 + 3 + 16);
    expect(memoryMsgSize('in.a', HDR, B('xyz'))).toBe(41);
    s.remove(1);
    expect(s.state().bytes).toBe(41);
    await s.stop();
  });

  it('file: 30 + subject + data without headers, 34 + subject + header + data with them', async () => {
    const s = await FileStore.open(join(ROOT, `u${n++}`), NONE);
    s.store('in.a', null, B('x'));
    expect(s.state().bytes).toBe(30 + 4 + 1);
    s.store('in.a', HDR, B('xyz'));
    expect(s.state().bytes).toBe(35 + 34 + 4 + 18 + 3);
    expect(fileMsgSize('in.a', HDR, B('xyz'))).toBe(59);
    // An empty header block counts as none (and is stored as none).
    s.store('in.a', Buffer.alloc(0), B('xyz'));
    expect(s.state().bytes).toBe(35 + 59 + 37);
    expect(s.load(3)?.hdr).toBeNull();
    // The accounting survives a reopen (it is recomputed from the records).
    await s.stop();
    const again = await FileStore.open(s.dir, NONE);
    expect(again.state().bytes).toBe(35 + 59 + 37);
    await again.delete();
  });
});

describe.each(KINDS)('%s store rules', (_kind, make) => {
  it('a fresh store has first 0; skip on an empty store makes first = last + 1', async () => {
    const s = await make();
    expect(s.state()).toMatchObject({ msgs: 0, firstSeq: 0, lastSeq: 0, firstTs: 0, lastTs: 0 });
    expect(s.skip()).toBe(1);
    expect(s.state()).toMatchObject({ firstSeq: 2, lastSeq: 1, numDeleted: 0 });
    expect(s.store('a', null, B('1'))).toMatchObject({ seq: 2 });
    expect(s.skip()).toBe(3);
    // A skipped sequence after a message is an interior gap until a message follows or all go.
    expect(s.state()).toMatchObject({ msgs: 1, firstSeq: 2, lastSeq: 3, numDeleted: 1 });
    expect(s.deleted()).toEqual([3]);
    await s.delete();
  });

  it('skipThrough: a gap of a million sequences in one step, the same state as that many skips', async () => {
    const s = await make();
    s.store('a', null, B('1'));
    s.skipThrough(1_000_001);
    expect(s.state()).toMatchObject({ msgs: 1, firstSeq: 1, lastSeq: 1_000_001, numDeleted: 1_000_000 });
    expect(s.store('a', null, B('2'))).toMatchObject({ seq: 1_000_002 });
    s.skipThrough(5); // not past the last: nothing
    expect(s.state().lastSeq).toBe(1_000_002);
    s.purge('', 0, 0);
    s.skipThrough(2_000_000);
    expect(s.state()).toMatchObject({ msgs: 0, firstSeq: 2_000_001, lastSeq: 2_000_000 });
    await s.delete();
  });

  it('remove: the first moves to the next message; interior removals count as deleted', async () => {
    const s = await make();
    for (let i = 0; i < 5; i++) s.store('a', null, B(`m${i}`), 1000 + i);
    expect(s.remove(3)).toBe(true);
    expect(s.remove(3)).toBe(false);
    expect(s.state()).toMatchObject({ msgs: 4, firstSeq: 1, numDeleted: 1 });
    expect(s.deleted()).toEqual([3]);
    s.remove(1);
    s.remove(2);
    expect(s.state()).toMatchObject({ msgs: 2, firstSeq: 4, firstTs: 1003, numDeleted: 0 });
    expect(s.deleted()).toEqual([]);
    s.remove(5);
    expect(s.state()).toMatchObject({ msgs: 1, firstSeq: 4, lastSeq: 5, lastTs: 1004, numDeleted: 1 });
    // loadLast('>') is the newest message there is (not the removed last sequence).
    expect(s.loadLast('>')?.seq).toBe(4);
    s.remove(4);
    expect(s.state()).toMatchObject({ msgs: 0, firstSeq: 6, lastSeq: 5, firstTs: 0, lastTs: 1004, numDeleted: 0 });
    await s.delete();
  });

  it("purge('', 0, 0) moves first past the last and keeps the last sequence and time", async () => {
    const s = await make();
    for (let i = 0; i < 4; i++) s.store(`s.${i % 2}`, null, B('x'), 500 + i);
    expect(s.purge('', 0, 0)).toBe(4);
    expect(s.state()).toMatchObject({ msgs: 0, bytes: 0, firstSeq: 5, lastSeq: 4, lastTs: 503, numSubjects: 0 });
    expect(s.store('s.0', null, B('y'))).toMatchObject({ seq: 5 });
    await s.delete();
  });

  it('purge: seq is exclusive (1 purges nothing), keep keeps the newest N of the matching, both with a subject', async () => {
    const s = await make();
    for (let i = 1; i <= 10; i++) s.store(i % 2 === 0 ? 'even' : 'odd', null, B(`${i}`));
    expect(s.purge('even', 1, 0)).toBe(0);
    expect(s.purge('', 1, 0)).toBe(0);
    // Below 5: even 2 and 4.
    expect(s.purge('even', 5, 0)).toBe(2);
    expect(s.subjectsState('even').get('even')).toEqual({ msgs: 3, first: 6, last: 10 });
    // Keep the newest 2 odd ones.
    expect(s.purge('odd', 0, 2)).toBe(3);
    expect(s.subjectsState('odd').get('odd')).toEqual({ msgs: 2, first: 7, last: 9 });
    // Both: below 10, keeping 2 of the 3 even (6, 8, 10): only 6 may go.
    expect(s.purge('even', 10, 2)).toBe(1);
    expect(s.subjectsState('even').get('even')).toEqual({ msgs: 2, first: 8, last: 10 });
    // Everything, keeping the newest 3 (8, 9, 10).
    expect(s.purge('>', 0, 3)).toBe(1);
    expect(s.state()).toMatchObject({ msgs: 3, firstSeq: 8 });
    // A sequence past the end: the next message gets it.
    expect(s.purge('', 20, 0)).toBe(3);
    expect(s.state()).toMatchObject({ msgs: 0, firstSeq: 20, lastSeq: 19 });
    expect(s.store('odd', null, B('x'))).toMatchObject({ seq: 20 });
    await s.delete();
  });

  it('max_msg_size counts header and data, not the subject', async () => {
    const s = await make({ maxMsgSize: 20 });
    expect(s.store('a.long.subject.name', HDR, B('xxx'))).toEqual({ error: StoreError.MsgTooLarge });
    expect(s.store('a.long.subject.name', HDR, B('xx'))).toHaveProperty('seq', 1);
    expect(s.store('a', null, Buffer.alloc(20))).toHaveProperty('seq', 2);
    expect(s.store('a', null, Buffer.alloc(21))).toEqual({ error: StoreError.MsgTooLarge });
    await s.delete();
  });

  it('max_msgs and max_bytes: discard old drops the oldest, discard new refuses', async () => {
    const old = await make({ maxMsgs: 2 });
    for (let i = 0; i < 4; i++) old.store('a', null, B('x'));
    expect(old.state()).toMatchObject({ msgs: 2, firstSeq: 3 });
    await old.delete();
    const neu = await make({ maxMsgs: 2, discard: 'new' });
    neu.store('a', null, B('x'));
    neu.store('b', null, B('x'));
    expect(neu.store('c', null, B('x'))).toEqual({ error: StoreError.MaxMsgs });
    await neu.delete();
  });

  it('discard new refuses a message that would bring bytes to exactly max_bytes (nats-server 2.10: >=)', async () => {
    const s = await make({ discard: 'new', maxBytes: 1 });
    const size = s.kind === 'memory' ? memoryMsgSize('a', null, B('x')) : fileMsgSize('a', null, B('x'));
    s.updateLimits({ ...NONE, discard: 'new', maxBytes: 2 * size + 1 });
    expect(s.store('a', null, B('x'))).toHaveProperty('seq', 1);
    s.updateLimits({ ...NONE, discard: 'new', maxBytes: 2 * size });
    expect(s.store('a', null, B('x'))).toEqual({ error: StoreError.MaxBytes });
    await s.delete();
  });

  it('per subject: drops the subject’s oldest (discard old, or new without discardNewPerSubject); refuses with it', async () => {
    for (const discard of ['old', 'new'] as const) {
      const s = await make({ maxMsgsPerSubject: 2, discard });
      for (let i = 0; i < 3; i++) s.store('k', null, B(`${i}`));
      s.store('j', null, B('j'));
      expect(s.subjectsState('>')).toEqual(
        new Map([
          ['k', { msgs: 2, first: 2, last: 3 }],
          ['j', { msgs: 1, first: 4, last: 4 }],
        ]),
      );
      await s.delete();
    }
    const s = await make({ maxMsgsPerSubject: 1, discard: 'new', discardNewPerSubject: true });
    s.store('k', null, B('1'));
    expect(s.store('k', null, B('2'))).toEqual({ error: StoreError.MaxMsgsPerSubject });
    // A full store still takes a message for a full subject: it replaces that subject's oldest.
    const r = await make({ maxMsgsPerSubject: 1, maxMsgs: 1, discard: 'new' });
    r.store('k', null, B('1'));
    expect(r.store('x', null, B('2'))).toEqual({ error: StoreError.MaxMsgs });
    expect(r.store('k', null, B('2'))).toHaveProperty('seq', 2);
    expect(r.state()).toMatchObject({ msgs: 1, firstSeq: 2 });
    await s.delete();
    await r.delete();
  });

  it('discard new at max_bytes replaces a subject’s oldest of the same size: memory yes, file no (as nats-server)', async () => {
    const s = await make({ maxMsgsPerSubject: 1, discard: 'new', maxBytes: 10 });
    const size = s.kind === 'memory' ? memoryMsgSize('k', null, B('a')) : fileMsgSize('k', null, B('a'));
    s.updateLimits({ ...NONE, maxMsgsPerSubject: 1, discard: 'new', maxBytes: size + 1 });
    expect(s.store('k', null, B('a'))).toHaveProperty('seq', 1);
    const again = s.store('k', null, B('b'));
    if (s.kind === 'memory') expect(again).toHaveProperty('seq', 2);
    else expect(again).toEqual({ error: StoreError.MaxBytes });
    // A smaller one always replaces.
    expect(s.store('k', null, B(''))).toHaveProperty('seq', s.kind === 'memory' ? 3 : 2);
    await s.delete();
  });

  it('lastSeqOn: the newest sequence on a subject (KV history), after removals of its last, and 0 when it has none', async () => {
    const s = await make({ maxMsgsPerSubject: 3 });
    expect(s.lastSeqOn('k.a')).toBe(0);
    for (let i = 0; i < 10; i++) s.store(`k.${'abc'[i % 3]}`, null, B(`${i}`));
    // k.a: 1, 4, 7, 10 → 4, 7, 10 kept; k.b: 5, 8 (2 dropped); k.c: 6, 9.
    expect([s.lastSeqOn('k.a'), s.lastSeqOn('k.b'), s.lastSeqOn('k.c'), s.lastSeqOn('k.d')]).toEqual([10, 8, 9, 0]);
    expect(s.remove(10)).toBe(true); // the last one: found again by a scan back
    expect(s.lastSeqOn('k.a')).toBe(7);
    expect(s.loadLast('k.a')?.seq).toBe(7);
    s.purge('k.b', 0, 0);
    expect(s.lastSeqOn('k.b')).toBe(0);
    // A subject with wildcards is a filter, as for loadLast.
    expect(s.lastSeqOn('k.*')).toBe(9);
    expect(s.lastSeqOn('>')).toBe(9);
    expect(s.lastSeqOn('')).toBe(9);
    await s.delete();
  });

  it('one subject among many: loadNext and purge (with keep and a sequence bound) touch only its messages', async () => {
    const s = await make();
    // k.0 .. k.9 in turn, 5 times: k.3 holds 4, 14, 24, 34, 44.
    for (let i = 0; i < 50; i++) s.store(`k.${i % 10}`, null, B(`${i}`));
    expect(s.loadNext('k.3', 1)?.seq).toBe(4);
    expect(s.loadNext('k.3', 15)?.seq).toBe(24);
    expect(s.loadNext('k.3', 45)).toBeNull();
    expect(s.loadNext('k.x', 1)).toBeNull();
    // Below sequence 30, keeping the newest 4: only the oldest of k.3 goes.
    expect(s.purge('k.3', 30, 4)).toBe(1);
    expect(s.subjectsState('k.3').get('k.3')).toEqual({ msgs: 4, first: 14, last: 44 });
    // Below 30, keeping none: 14 and 24.
    expect(s.purge('k.3', 30, 0)).toBe(2);
    expect(s.loadNext('k.3', 1)?.seq).toBe(34);
    // Keeping the newest one (a rollup): 34 goes.
    expect(s.purge('k.3', 0, 1)).toBe(1);
    expect(s.purge('k.3', 0, 1)).toBe(0);
    expect(s.purge('k.3', 0, 0)).toBe(1);
    expect(s.lastSeqOn('k.3')).toBe(0);
    expect(s.state()).toMatchObject({ msgs: 45, firstSeq: 1, lastSeq: 50 });
    expect(s.subjectsState('k.4').get('k.4')).toEqual({ msgs: 5, first: 5, last: 45 });
    await s.delete();
  });

  it('updateLimits enforces a per-subject limit set where there was none, and lowered ones', async () => {
    const s = await make();
    for (let i = 0; i < 6; i++) s.store(`k${i % 2}`, null, B(`${i}`));
    s.updateLimits({ ...NONE, maxMsgsPerSubject: 2 });
    expect(s.state()).toMatchObject({ msgs: 4, firstSeq: 3 });
    s.updateLimits({ ...NONE, maxMsgsPerSubject: 1 });
    expect([...s.subjectsState('>').values()]).toEqual([
      { msgs: 1, first: 5, last: 5 },
      { msgs: 1, first: 6, last: 6 },
    ]);
    // A lowered max_msgs with discard new drops nothing (only new messages are refused).
    s.updateLimits({ ...NONE, maxMsgs: 1, discard: 'new' });
    expect(s.state().msgs).toBe(2);
    await s.delete();
  });

  it('expiry: the timer fires at the oldest message’s expiry and reports the removals', async () => {
    const s = await make({ maxAgeMs: 60 });
    const removed: [number, string, number][] = [];
    s.onRemove((seq, subject, bytes) => removed.push([seq, subject, bytes]));
    const t0 = Date.now();
    s.store('a', null, B('1'));
    await new Promise((r) => setTimeout(r, 30));
    s.store('b', null, B('2'));
    await expect.poll(() => removed.length, { timeout: 2000, interval: 5 }).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    expect(removed[0].slice(0, 2)).toEqual([1, 'a']);
    expect(s.state()).toMatchObject({ msgs: 1, firstSeq: 2 });
    await expect.poll(() => removed.length, { timeout: 2000, interval: 5 }).toBe(2);
    expect(s.state()).toMatchObject({ msgs: 0, firstSeq: 3, lastSeq: 2 });
    await s.delete();
  });

  it('expiry with an injected clock: checkExpiry removes from the first message while at or past max_age', async () => {
    let now = 10_000;
    const s = await make({ maxAgeMs: 100 }, () => now);
    s.store('a', null, B('1'));
    now += 50;
    s.store('a', null, B('2'));
    now += 50;
    expect(s.checkExpiry()).toBe(1); // 10 000 + 100 <= now: gone
    expect(s.state()).toMatchObject({ msgs: 1, firstSeq: 2, firstTs: 10_050 });
    now += 49;
    expect(s.checkExpiry()).toBe(0);
    await s.delete();
  });

  it('keeps no timer alive: the expiry timer is unref()ed, and cleared by stop()', async () => {
    const refd = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = refd();
    const set = vi.spyOn(globalThis, 'setTimeout');
    const clear = vi.spyOn(globalThis, 'clearTimeout');
    try {
      const s = await make({ maxAgeMs: 3_600_000 });
      s.store('a', null, B('1'));
      const timers = set.mock.results.map((r) => r.value as NodeJS.Timeout);
      expect(timers).toHaveLength(1);
      expect(timers[0].hasRef()).toBe(false);
      // Not among what keeps the event loop alive.
      expect(refd()).toBe(before);
      await s.stop();
      expect(clear).toHaveBeenCalledWith(timers[0]);
      // A stopped store refuses work and sets no timer.
      expect(s.store('a', null, B('1'))).toEqual({ error: StoreError.Closed });
      expect(set).toHaveBeenCalledTimes(1);
      expect(refd()).toBe(before);
      await s.delete();
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });
});

describe('memory store', () => {
  it('loaded messages stay valid after their chunk is compacted', async () => {
    const s = new MemoryStore(NONE, { chunkSize: 256 });
    for (let i = 0; i < 100; i++) s.store('a', null, B(`payload-${i}`.padEnd(20, '.')));
    const kept = [10, 50, 51, 90].map((q) => s.load(q));
    for (let i = 1; i <= 100; i++) if (i % 7 !== 0) s.remove(i);
    expect(kept.map((m) => m?.data.toString())).toEqual([10, 50, 51, 90].map((q) => `payload-${q - 1}`.padEnd(20, '.')));
    for (let i = 7; i <= 100; i += 7) expect(s.load(i)?.data.toString()).toBe(`payload-${i - 1}`.padEnd(20, '.'));
    expect(s.arenaBytes()).toBeLessThan(2 * 256 + 14 * 20 * 2);
    await s.stop();
  });
});
