/**
 * The file store's own concerns: what the segment files hold and how they are reclaimed
 * (deleted when dead, rewritten when mostly dead), floors kept in segment headers, records
 * larger than a block, corruption in a sealed segment, erasing on disk, reopening with other
 * limits.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore, type FileStoreOptions } from '../../../src/jetstream/store/file.js';
import { NO_LIMITS as NONE } from '../../helpers/store-limits.js';

const ROOT = mkdtempSync(join(tmpdir(), 'js-store-file-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));
let n = 0;


const open = (dir: string, options: FileStoreOptions = { blockSize: 512 }, limits = NONE) => FileStore.open(dir, limits, options);
const payload = (seq: number) => Buffer.from(`message-${seq}`.padEnd(24, '.'));
const segFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
const dirBytes = (dir: string) => segFiles(dir).reduce((t, f) => t + statSync(join(dir, f)).size, 0);

/** Everything a reopened store must reproduce. */
function snapshot(s: FileStore) {
  const msgs = [];
  for (let m = s.loadNext('>', 0); m !== null; m = s.loadNext('>', m.seq + 1)) msgs.push([m.seq, m.subject, m.data.toString(), m.ts]);
  return { state: s.state(), deleted: s.deleted(), msgs, subjects: [...s.subjectsState('>')] };
}

describe('file store', () => {
  it('writes segments of about blockSize, each starting with a header record', async () => {
    const dir = join(ROOT, `f${n++}`);
    const s = await open(dir);
    for (let i = 1; i <= 40; i++) s.store('a', null, payload(i));
    const files = segFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    expect(files[0]).toBe('0000000001.seg');
    for (const f of files.slice(0, -1)) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(512);
    // Record type 4 (segment header) first in every file.
    for (const f of files) expect(readFileSync(join(dir, f))[1]).toBe(4);
    await s.delete();
  });

  it('deletes segments whose messages are all gone and rewrites mostly dead ones', async () => {
    const dir = join(ROOT, `f${n++}`);
    const s = await open(dir, { blockSize: 2048 });
    for (let i = 1; i <= 400; i++) s.store(`k.${i % 10}`, null, payload(i));
    const full = dirBytes(dir);
    // Keep one message in ten: every sealed segment becomes mostly dead and is rewritten.
    for (let i = 1; i <= 400; i++) if (i % 10 !== 0) s.remove(i);
    const thinned = dirBytes(dir);
    expect(thinned).toBeLessThan(full / 3);
    const before = snapshot(s);
    await s.stop();
    const again = await open(dir, { blockSize: 2048 });
    expect(snapshot(again)).toEqual(before);
    // Everything gone: only the active segment stays, and small.
    again.purge('', 0, 0);
    expect(segFiles(dir).length).toBe(1);
    expect(dirBytes(dir)).toBeLessThan(2048 + 200);
    await again.delete();
  });

  it('keeps a floor when the segment that recorded it is deleted (segment headers carry it)', async () => {
    const dir = join(ROOT, `f${n++}`);
    const s = await open(dir);
    for (let i = 1; i <= 20; i++) s.store('a', null, payload(i));
    const straddling = segFiles(dir)[1]; // holds 9..16 or so: some below the floor, some above
    expect(s.purge('', 12, 0)).toBe(11); // one floor record, no flag on 9..11
    expect(segFiles(dir)).toContain(straddling);
    for (let i = 21; i <= 40; i++) s.store('a', null, payload(i));
    // Remove everything after 16: the segments holding the floor record die and go.
    for (let i = 17; i <= 36; i++) s.remove(i);
    const before = snapshot(s);
    expect(before.msgs.map((m) => m[0])).toEqual([12, 13, 14, 15, 16, 37, 38, 39, 40]);
    await s.stop();
    const again = await open(dir);
    expect(snapshot(again)).toEqual(before);
    expect(again.load(9)).toBeNull();
    await again.delete();
  });

  it('stores and reads back records larger than a block, from disk and from the cache', async () => {
    const dir = join(ROOT, `f${n++}`);
    const s = await open(dir, { blockSize: 1024 });
    const big = Buffer.alloc(5000, 7);
    s.store('small', null, payload(1));
    s.store('big', Buffer.from('NATS/1.0\r\n\r\n'), big);
    s.store('small', null, payload(3));
    s.store('small', null, payload(4));
    expect(s.load(2)?.data.equals(big)).toBe(true);
    expect(s.load(2)?.hdr?.toString()).toBe('NATS/1.0\r\n\r\n');
    expect(s.load(3)?.data.toString()).toBe(payload(3).toString());
    for (let i = 5; i <= 60; i++) s.store('small', null, payload(i));
    expect(s.load(2)?.data.equals(big)).toBe(true);
    const before = snapshot(s);
    await s.stop();
    const again = await open(dir, { blockSize: 1024 });
    expect(snapshot(again)).toEqual(before);
    await again.delete();
  });

  it('recovers lastSeq and lastTs from removed and skipped records, and a purge past the end', async () => {
    const dir = join(ROOT, `f${n++}`);
    let now = 1000;
    const s = await open(dir, { clock: () => now });
    s.store('a', null, payload(1));
    now = 2000;
    s.store('a', null, payload(2));
    s.remove(2);
    await s.stop();
    let again = await open(dir, { clock: () => now });
    expect(again.state()).toMatchObject({ msgs: 1, firstSeq: 1, lastSeq: 2, lastTs: 2000, numDeleted: 1 });
    now = 3000;
    again.skip();
    await again.stop();
    again = await open(dir, { clock: () => now });
    expect(again.state()).toMatchObject({ lastSeq: 3, lastTs: 3000 });
    now = 3500;
    again.skipThrough(50);
    await again.stop();
    again = await open(dir, { clock: () => now });
    expect(again.state()).toMatchObject({ msgs: 1, firstSeq: 1, lastSeq: 50, lastTs: 3500 });
    again.purge('', 100, 0);
    await again.stop();
    again = await open(dir);
    expect(again.state()).toMatchObject({ msgs: 0, firstSeq: 100, lastSeq: 99, lastTs: 3500 });
    expect(again.store('a', null, payload(100))).toHaveProperty('seq', 100);
    await again.delete();
  });

  it('enforces limits that changed while it was closed', async () => {
    const dir = join(ROOT, `f${n++}`);
    const s = await open(dir);
    for (let i = 1; i <= 10; i++) s.store(`k.${i % 2}`, null, payload(i));
    await s.stop();
    const again = await open(dir, { blockSize: 512 }, { ...NONE, maxMsgs: 6, maxMsgsPerSubject: 2 });
    expect(again.state()).toMatchObject({ msgs: 4, firstSeq: 7 });
    await again.stop();
    const third = await open(dir);
    expect(third.state()).toMatchObject({ msgs: 4, firstSeq: 7 });
    await third.delete();
  });

  it('cuts a sealed segment at a corrupt record, reports the loss and keeps the later segments', async () => {
    const dir = join(ROOT, `f${n++}`);
    const s = await open(dir);
    for (let i = 1; i <= 30; i++) s.store('a', null, payload(i));
    await s.stop();
    const second = join(dir, segFiles(dir)[1]);
    const bytes = readFileSync(second);
    bytes[bytes.length - 10] ^= 0xff; // inside the segment's last message
    writeFileSync(second, bytes);
    const again = await open(dir);
    expect(again.recovered.lostBytes).toBeGreaterThan(0);
    const seqs = snapshot(again).msgs.map((m) => m[0] as number);
    expect(seqs.length).toBe(29);
    expect(seqs[seqs.length - 1]).toBe(30);
    expect(again.state()).toMatchObject({ msgs: 29, lastSeq: 30, numDeleted: 1 });
    await again.delete();
  });

  it('erases a removed message’s bytes on disk and removes leftovers of an interrupted rewrite', async () => {
    const dir = join(ROOT, `f${n++}`);
    const s = await open(dir);
    s.store('secret', null, Buffer.from('the-password-1234'));
    s.store('other', null, Buffer.from('kept'));
    expect(s.remove(1, true)).toBe(true);
    const onDisk = Buffer.concat(segFiles(dir).map((f) => readFileSync(join(dir, f))));
    expect(onDisk.includes(Buffer.from('the-password-1234'))).toBe(false);
    expect(onDisk.includes(Buffer.from('kept'))).toBe(true);
    await s.stop();
    writeFileSync(join(dir, '0000000001.seg.tmp'), 'partial');
    const again = await open(dir);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(again.state()).toMatchObject({ msgs: 1, firstSeq: 2, lastSeq: 2 });
    await again.delete();
  });

  it('writes on after a crash that left the newest segment empty or cut inside its header', async () => {
    // A kill between creating a segment file and writing its header leaves an empty file; the
    // reopened store starts that segment afresh and must not reclaim it as a dead one.
    for (const cut of [0, 5]) {
      const dir = join(ROOT, `f${n++}`);
      const s = await open(dir);
      for (let seq = 1; seq <= 40; seq++) s.store(`t.${seq % 3}`, null, payload(seq));
      await s.stop();
      const files = segFiles(dir);
      const next = String(Number(files[files.length - 1].slice(0, 10)) + 1).padStart(10, '0');
      writeFileSync(join(dir, `${next}.seg`), Buffer.alloc(cut));
      const a = await open(dir);
      expect(a.state()).toMatchObject({ msgs: 40, lastSeq: 40 });
      a.store('t.new', null, Buffer.from('after the crash'));
      await a.stop();
      const b = await open(dir);
      expect(b.state()).toMatchObject({ msgs: 41, lastSeq: 41 });
      expect(b.loadLast('t.new')?.data.toString()).toBe('after the crash');
      await b.delete();
    }
  });
  it('writes behind the removal of a written record too: after the records appended before it, at flushWrites()', async () => {
    const dir = join(ROOT, `f${n++}`);
    let asked = 0;
    const s = await open(dir, { blockSize: 4096, writeBehind: () => asked++ });
    for (let i = 1; i <= 5; i++) s.store('a', null, payload(i));
    s.flushWrites();
    const before = asked;
    // A removal and then a new record (a KV put over history 1 is this order): one batch.
    s.remove(2);
    s.store('a', null, payload(6));
    expect(asked).toBe(before + 1);
    const unflushed = join(ROOT, `f${n++}`);
    cpSync(dir, unflushed, { recursive: true });
    s.flushWrites();
    const flushed = join(ROOT, `f${n++}`);
    cpSync(dir, flushed, { recursive: true });
    // Killed before the flush: neither the removal nor the record is on disk.
    const a = await open(unflushed, { blockSize: 4096 });
    expect(a.state()).toMatchObject({ msgs: 5, lastSeq: 5 });
    expect(a.load(2)?.data.toString()).toBe(payload(2).toString());
    await a.delete();
    // After it: both.
    const b = await open(flushed, { blockSize: 4096 });
    expect(b.state()).toMatchObject({ msgs: 5, lastSeq: 6 });
    expect(b.load(2)).toBeNull();
    await b.delete();
    // An erase is still written at once (its bytes are overwritten where they lie).
    s.flushWrites();
    s.remove(3, true);
    expect(readFileSync(join(dir, segFiles(dir)[0])).includes(payload(3))).toBe(false);
    await s.delete();
  });

  it('writes behind when asked: records reach the file only at flushWrites(), asking once per batch', async () => {
    const dir = join(ROOT, `f${n++}`);
    let asked = 0;
    const s = await open(dir, { blockSize: 4096, writeBehind: () => asked++ });
    s.flushWrites(); // the new segment's header record
    const empty = dirBytes(dir);
    expect(asked).toBe(1);
    for (let i = 1; i <= 10; i++) s.store('a', null, payload(i));
    expect(dirBytes(dir)).toBe(empty);
    expect(asked).toBe(2);
    // Read back from the cache meanwhile; a removal of an unwritten record is marked in the cache.
    expect(s.load(3)?.data.toString()).toBe(payload(3).toString());
    s.remove(4);
    s.remove(5, true);
    s.flushWrites();
    expect(dirBytes(dir)).toBeGreaterThan(empty);
    expect(readFileSync(join(dir, segFiles(dir)[0])).includes(payload(5))).toBe(false);
    s.flushWrites(); // nothing pending: no-op
    s.store('a', null, payload(11));
    expect(asked).toBe(3);
    // A record larger than a block is written at once, after what was pending.
    s.store('big', null, Buffer.alloc(5000, 0x62));
    const onDisk = dirBytes(dir);
    // What a killed process leaves now (no stop()): everything up to the big record.
    const copy = join(ROOT, `f${n++}`);
    cpSync(dir, copy, { recursive: true });
    const again = await open(copy, { blockSize: 4096 });
    expect(again.state()).toMatchObject({ msgs: 10, firstSeq: 1, lastSeq: 12 });
    expect(again.load(4)).toBeNull();
    expect(again.load(11)?.data.toString()).toBe(payload(11).toString());
    await again.delete();
    // stop() writes what is pending.
    s.store('a', null, payload(13));
    expect(dirBytes(dir)).toBe(onDisk);
    await s.stop();
    const reopened = await open(dir, { blockSize: 4096 });
    expect(reopened.load(13)?.data.toString()).toBe(payload(13).toString());
    await reopened.delete();
  });
});
