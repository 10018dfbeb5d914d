/**
 * {@link RaftStorage} on disk: what one Raft member keeps across crashes, in a directory of its
 * own (later slices give each replicated stream and consumer group one).
 *
 * Files (formats in format.ts):
 * - `hard`: term and vote, replaced atomically (temp file, fsync, rename, fsync of the directory).
 * - `snap`: the latest snapshot and the log *generation* that continues it, replaced atomically.
 * - `<gen>-<seq>.log`: the log after the snapshot, as append-only checksummed records; an entry
 *   record at index i replaces everything from i on (a conflicting suffix is cut by the next
 *   write), a truncate record cuts without a replacement. A segment is closed at `segmentBytes`
 *   and the next one opened.
 *
 * Writes are buffered in memory and reach the disk in {@link FileRaftStorage.sync}: one write and
 * one fsync per batch (the hard state first, so a term is never older than the log's entries).
 * Dropping the object without a sync is therefore exactly a crash: what was not synced is gone,
 * as with `MemoryRaftStorage.crash()`.
 *
 * Compaction (a snapshot, from `compact()` or installed from the leader) starts a new generation:
 * the entries the log keeps are written to `<gen+1>-0.log` and fsynced, then `snap` names the new
 * generation (the atomic switch), then the old generation's segments are deleted. A crash before
 * the rename leaves the old snapshot and generation (the new segment is removed at open); after
 * it, the old segments are leftovers removed at open.
 *
 * Opening recovers: temp files and segments of other generations are removed; the segments are
 * replayed in order, and a torn or damaged record (a crash in the middle of a write, a flipped
 * byte) ends the log there: the segment is cut at the last valid record and later segments are
 * removed. Opening never fails on that; {@link FileRaftStorage.recovery} says what was lost.
 * A damaged `hard` or `snap` file cannot come from a crash (they are renamed into place), so it
 * is an error.
 *
 * The entries after the snapshot are also kept in memory (the node's log holds them too); a
 * compaction rewrites the kept suffix, which is short when the node compacts up to what it has
 * applied.
 */
import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RaftPersistentState, RaftStorage } from '../raft/storage.js';
import type { LogEntry, Snapshot } from '../raft/types.js';
import { decodeHardState, decodeSnapshot, encodeHardState, encodeRecord, encodeSnapshot, K_ENTRY, K_TRUNCATE, readRecord, RECORD_OVERHEAD, writeRecord } from './format.js';

/** Options of {@link FileRaftStorage}. */
export interface FileRaftStorageOptions {
  /** A segment is closed once it holds this many bytes (64 MiB by default). */
  readonly segmentBytes?: number;
  /**
   * fsync the log at every `sync()` (default true). False writes the batch without the fsync:
   * durable across a crash of the process (the page cache), not of the machine — nats-server's
   * default for its stream WALs (`sync_interval`). Term and vote are always fsynced.
   */
  readonly fsync?: boolean;
}

/** What opening found and repaired. */
export interface RaftStorageRecovery {
  /** Bytes of log records dropped: a torn or damaged tail and everything after it. */
  readonly lostBytes: number;
  /** The segment cut at its last valid record, and where; null when none was. */
  readonly cut: { readonly segment: string; readonly offset: number } | null;
  /** Whole segments removed: after a cut, or left over from another generation. */
  readonly removedSegments: readonly string[];
}

const HARD = 'hard';
const SNAP = 'snap';
const SEGMENT = /^(\d{10})-(\d{10})\.log$/;
const segmentName = (gen: number, seq: number) => `${String(gen).padStart(10, '0')}-${String(seq).padStart(10, '0')}.log`;

/** Writes `data` to `dir/name` atomically and durably. */
function replaceFile(dir: string, name: string, data: Buffer): void {
  const tmp = join(dir, `${name}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  syncDir(dir);
}

function writeAll(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** {@link RaftStorage} in a directory; see the module comment. Not safe for two processes at once. */
export class FileRaftStorage implements RaftStorage {
  readonly dir: string;
  /** What opening found and repaired. */
  readonly recovery: RaftStorageRecovery;
  /** How many syncs wrote something. */
  syncs = 0;
  private readonly segmentBytes: number;
  private readonly fsync: boolean;
  private term = 0;
  private vote: string | null = null;
  private snapshot: Snapshot | null = null;
  private entries: LogEntry[] = [];
  private gen = 0;
  private seq = 0;
  private fd: number | null = null;
  private size = 0;
  private pending: Buffer[] = [];
  private hardDirty = false;
  private snapDirty = false;
  private closed = false;
  /** A write or fsync that failed: the disk may hold part of a batch, so nothing more is written. */
  private failed: Error | null = null;

  /** Opens (creating it if needed) and recovers the storage in `dir`. */
  constructor(dir: string, o: FileRaftStorageOptions = {}) {
    this.dir = dir;
    this.segmentBytes = o.segmentBytes ?? 64 * 1024 * 1024;
    this.fsync = o.fsync ?? true;
    mkdirSync(dir, { recursive: true });
    this.recovery = this.open();
  }

  private open(): RaftStorageRecovery {
    const names = readdirSync(this.dir);
    for (const n of names) if (n.endsWith('.tmp')) rmSync(join(this.dir, n), { force: true });
    if (names.includes(HARD)) {
      const h = decodeHardState(readFileSync(join(this.dir, HARD)));
      if (h === null) throw new Error(`raft storage ${this.dir}: the hard state file is damaged`);
      this.term = h.term;
      this.vote = h.vote;
    }
    if (names.includes(SNAP)) {
      const s = decodeSnapshot(readFileSync(join(this.dir, SNAP)));
      if (s === null) throw new Error(`raft storage ${this.dir}: the snapshot file is damaged`);
      this.snapshot = s.snapshot;
      this.gen = s.gen;
    }
    const removed: string[] = [];
    const segments: { name: string; seq: number }[] = [];
    for (const n of names) {
      const m = SEGMENT.exec(n);
      if (m === null) continue;
      if (Number(m[1]) === this.gen) segments.push({ name: n, seq: Number(m[2]) });
      else {
        rmSync(join(this.dir, n), { force: true });
        removed.push(n);
      }
    }
    segments.sort((a, b) => a.seq - b.seq);
    const base = this.snapshot?.lastIndex ?? 0;
    let lostBytes = 0;
    let cut: RaftStorageRecovery['cut'] = null;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      const path = join(this.dir, seg.name);
      if (cut !== null) {
        lostBytes += statSync(path).size;
        rmSync(path, { force: true });
        removed.push(seg.name);
        continue;
      }
      const buf = readFileSync(path);
      let pos = 0;
      while (pos < buf.length) {
        const r = readRecord(buf, pos);
        // A record out of sequence (a gap, or at or before the snapshot) ends the log as damage does.
        if (r === null || r.index <= base || r.index > base + this.entries.length + 1) break;
        this.entries.length = Math.min(this.entries.length, r.index - base - 1);
        if (r.entry !== null) this.entries.push(r.entry);
        pos = r.end;
      }
      this.seq = seg.seq;
      this.size = pos;
      if (pos < buf.length) {
        cut = { segment: seg.name, offset: pos };
        lostBytes += buf.length - pos;
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, pos);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    }
    if (segments.length > 0) this.fd = openSync(join(this.dir, segmentName(this.gen, this.seq)), 'a');
    if (removed.length > 0) syncDir(this.dir);
    return { lostBytes, cut, removedSegments: removed };
  }

  /** What is durable: the state found at open (call before any write). */
  load(): RaftPersistentState {
    if (this.unsynced) throw new Error('raft storage: load() after unsynced writes');
    return { term: this.term, vote: this.vote, snapshot: this.snapshot, entries: this.entries.slice() };
  }

  saveTermVote(term: number, vote: string | null): void {
    this.term = term;
    this.vote = vote;
    this.hardDirty = true;
  }

  writeEntries(firstIndex: number, entries: readonly LogEntry[]): void {
    const base = this.snapshot?.lastIndex ?? 0;
    if (firstIndex <= base || firstIndex > base + this.entries.length + 1) {
      throw new RangeError(`raft storage: entries at ${firstIndex} do not continue the log (${base + 1}..${base + this.entries.length})`);
    }
    const cutting = firstIndex <= base + this.entries.length;
    this.entries.length = firstIndex - base - 1;
    for (const e of entries) this.entries.push(e);
    if (this.snapDirty) return; // the compaction at the next sync rewrites the whole log
    if (entries.length === 0) {
      if (cutting) this.pending.push(encodeRecord(K_TRUNCATE, firstIndex, 0, 0, new Uint8Array(0)));
      return;
    }
    let bytes = 0;
    for (const e of entries) bytes += RECORD_OVERHEAD + e.data.length;
    const buf = Buffer.allocUnsafe(bytes);
    let pos = 0;
    for (let i = 0; i < entries.length; i++) pos = writeRecord(buf, pos, K_ENTRY, firstIndex + i, entries[i].term, entries[i].type, entries[i].data);
    this.pending.push(buf);
  }

  saveSnapshot(snapshot: Snapshot, keepSuffix: boolean): void {
    const base = this.snapshot?.lastIndex ?? 0;
    this.entries = keepSuffix ? this.entries.slice(Math.max(0, snapshot.lastIndex - base)) : [];
    this.snapshot = snapshot;
    this.snapDirty = true;
    this.pending = [];
  }

  /** Whether there are writes not yet synced. */
  get unsynced(): boolean {
    return this.hardDirty || this.snapDirty || this.pending.length > 0;
  }

  /** Writes and fsyncs everything since the last sync: the hard state, then the log or a compaction. */
  sync(): void {
    if (this.closed) throw new Error('raft storage: closed');
    if (this.failed !== null) throw this.failed;
    if (!this.unsynced) return;
    try {
      if (this.hardDirty) {
        replaceFile(this.dir, HARD, encodeHardState(this.term, this.vote));
        this.hardDirty = false;
      }
      if (this.snapDirty) this.compactNow();
      else if (this.pending.length > 0) this.appendPending();
    } catch (err) {
      // What reached the disk is unknown (a partial record is cut at the next open): refuse
      // every later sync rather than write after a hole. Reopening recovers.
      this.failed = err instanceof Error ? err : new Error(String(err));
      throw this.failed;
    }
    this.syncs++;
  }

  private appendPending(): void {
    let created = false;
    if (this.fd === null || this.size >= this.segmentBytes) {
      if (this.fd !== null) {
        closeSync(this.fd);
        this.seq++;
      }
      this.fd = openSync(join(this.dir, segmentName(this.gen, this.seq)), 'a');
      this.size = 0;
      created = true;
    }
    const data = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    writeAll(this.fd, data);
    this.size += data.length;
    if (this.fsync) fsyncSync(this.fd);
    if (created) syncDir(this.dir);
  }

  private compactNow(): void {
    const snapshot = this.snapshot as Snapshot;
    const old = this.gen;
    const gen = old + 1;
    const base = snapshot.lastIndex;
    let bytes = 0;
    for (const e of this.entries) bytes += RECORD_OVERHEAD + e.data.length;
    const buf = Buffer.allocUnsafe(bytes);
    let pos = 0;
    for (let i = 0; i < this.entries.length; i++) pos = writeRecord(buf, pos, K_ENTRY, base + 1 + i, this.entries[i].term, this.entries[i].type, this.entries[i].data);
    const fd = openSync(join(this.dir, segmentName(gen, 0)), 'w');
    try {
      writeAll(fd, buf);
      fsyncSync(fd);
      syncDir(this.dir); // the new segment's name is durable before the snapshot names it
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    replaceFile(this.dir, SNAP, encodeSnapshot(snapshot, gen)); // the switch; fsyncs the directory
    if (this.fd !== null) closeSync(this.fd);
    this.fd = fd;
    this.gen = gen;
    this.seq = 0;
    this.size = buf.length;
    this.snapDirty = false;
    this.pending = [];
    for (const n of readdirSync(this.dir)) {
      const m = SEGMENT.exec(n);
      if (m !== null && Number(m[1]) !== gen) rmSync(join(this.dir, n), { force: true });
    }
  }

  /** Closes the segment file. Writes not synced are lost, as in a crash. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.pending = [];
  }
}
