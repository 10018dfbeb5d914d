/**
 * The file store: nats-server's filestore (server/filestore.go) in spirit — messages appended
 * to segment files ("message blocks"), removed ones marked in place, blocks compacted or
 * deleted as their messages go — with the semantics of `base.ts` and sizes by
 * {@link fileMsgSize}. The record format is in `record.ts`.
 *
 * Open it with `await FileStore.open(dir, limits, options)`; one store per directory (nothing
 * stops a second process from opening it too: don't). The directory holds `<id>.seg` files.
 *
 * What survives what:
 * - Every operation writes its record (or flag) with `fs.writeSync` before it returns, so an
 *   acknowledged store — and a remove, skip or purge that returned — survives the *process*
 *   being killed (kill -9, a crash): the data is in the OS's page cache. With the
 *   `writeBehind` option, appended records stay in the active segment's cache until
 *   {@link FileStore.flushWrites} (called by the owner before it acknowledges anything, or
 *   else at the end of the current task), one write for many records; the JetStream engine
 *   uses it so that the PubAcks of a read chunk follow one write, not one write each. The
 *   removal flags of records already written wait too, and are written after the records
 *   (a key's old revision is never marked removed on disk before its new one is there; a
 *   removal lost in a crash is redone by the limits enforced on open). Erasures are written at
 *   once. Like nats-server
 *   (which syncs every 2 minutes by default), it does not fsync each write, so an OS crash or
 *   power loss may lose the last writes; `syncAlways` fsyncs after every write for that.
 *   `stop()` fsyncs the active segment.
 * - A purge or limit enforcement interrupted by a crash may be partly applied (a prefix of the
 *   removals); each single removal is atomic (one byte).
 * - On open, a torn or corrupt record (a write cut short by the crash, a bad checksum) ends its
 *   segment: the file is truncated there and the loss is reported in `recovered.lostBytes`;
 *   opening never fails on it.
 *
 * Space: the active segment is sealed once it reaches `blockSize` (default 4 MiB, nats-server's
 * medium block) and a new one starts with a segment-header record. A sealed segment whose
 * messages are all removed is deleted; one with more dead bytes than live (and at least a
 * quarter block dead) is rewritten with its live records only (temp file, fsync, rename).
 * So the directory stays within about twice the live data plus two blocks.
 *
 * Reads: the active and the previous segment are kept in memory (two buffers of at most
 * `blockSize` each, reused), so recent messages are read without a system call; older ones are
 * read with one positioned read. Loads return copies (the buffers are reused).
 */
import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { fileMsgSize, type StoredMessage, type StoreLimits } from './store.js';
import { BaseStore, type StoreOptions } from './base.js';
import type { IndexBlock } from './seq-index.js';
import {
  encodeRecord,
  FLAG_ERASED,
  FLAG_REMOVED,
  recordLength,
  RecordParser,
  REC_HEAD,
  SEG_HEADER_LEN,
  segmentHeaderData,
  T_FLOOR,
  T_MSG,
  T_SEGMENT,
  T_SKIP,
} from './record.js';

/** Options of {@link FileStore.open}. */
export interface FileStoreOptions extends StoreOptions {
  /** Size at which a segment is sealed and a new one started (default 4 MiB, minimum 256 bytes). */
  readonly blockSize?: number;
  /** fsync after every write (survives power loss; much slower). Default false. */
  readonly syncAlways?: boolean;
  /**
   * Write-behind: appended records (messages, skips, floors) are kept in the active segment's
   * cache and written together by {@link FileStore.flushWrites}. The first record that has to
   * wait calls this function with the store, once per batch; its owner must call
   * `flushWrites()` before it tells anyone the write happened (the JetStream engine does it
   * before any socket write). Without it, every record is written before its operation returns.
   */
  readonly writeBehind?: (store: FileStore) => void;
}

/** What opening found on disk. */
export interface RecoveryReport {
  readonly segments: number;
  /** Bytes cut off torn or corrupt segment tails. */
  readonly lostBytes: number;
}

const DEFAULT_BLOCK = 4 * 1024 * 1024;
const MIN_BLOCK = 256;
const FIRST_CACHE = 64 * 1024;
/** Sealed segments kept open for reading. */
const MAX_OPEN = 32;
/** Deferred removal slots kept after a flush (a purge may defer many more, once). */
const PENDING_KEPT = 4096;
const SEG_RE = /^(\d{10})\.seg$/;

/** One segment file. `minSeq`/`maxSeq` bound the message records in it. */
class Segment {
  size = 0;
  liveBytes = 0;
  liveMsgs = 0;
  minSeq = 0;
  maxSeq = 0;
  dirty = false;
  constructor(
    readonly id: number,
    readonly path: string,
  ) {}
}

/** {@link fileMsgSize} from the lengths (nats-server's `fileStoreMsgSize`). */
function fileSizeOf(subjLen: number, hdrLen: number, dataLen: number): number {
  return hdrLen === 0 ? 22 + subjLen + dataLen + 8 : 22 + subjLen + hdrLen + dataLen + 8 + 4;
}

const REMOVED_FLAG = Buffer.from([FLAG_REMOVED]);
const ERASED_FLAG = Buffer.from([FLAG_REMOVED | FLAG_ERASED]);

/** A stream's messages in a directory (nats-server's filestore). */
export class FileStore extends BaseStore {
  readonly kind = 'file' as const;
  /** What opening found. */
  recovered: RecoveryReport = { segments: 0, lostBytes: 0 };

  private readonly blockSize: number;
  private readonly syncAlways: boolean;
  private readonly segments = new Map<number, Segment>();
  private active!: Segment;
  private activeFd = -1;
  /** Open fds of sealed segments, oldest first. */
  private readonly fds = new Map<number, number>();
  /** The active segment's bytes [0, cachedUpTo). */
  private wbuf: Buffer;
  private cachedUpTo = 0;
  /** The previous segment's bytes [0, prevLen), or prevId -1. */
  private prevBuf: Buffer;
  private prevId = -1;
  private prevLen = 0;
  private readonly dirtySegs: Segment[] = [];
  private readonly writeBehind: ((store: FileStore) => void) | null;
  /** Removal bytes deferred by write-behind: the first {@link npend} (segment id, offset) pairs. */
  private readonly pendSeg: number[] = [];
  private readonly pendOff: number[] = [];
  private npend = 0;
  /** Write-behind: the active segment's bytes from here to `cachedUpTo` are not written yet (-1: none). */
  private unwrittenFrom = -1;

  private constructor(
    readonly dir: string,
    limits: StoreLimits,
    options: FileStoreOptions | undefined,
  ) {
    // filestore: discard new may replace a subject's oldest only if it is larger than the new one.
    super(limits, options, fileMsgSize, (oldest, size) => oldest <= size);
    this.blockSize = Math.max(MIN_BLOCK, options?.blockSize ?? DEFAULT_BLOCK);
    this.syncAlways = options?.syncAlways ?? false;
    this.writeBehind = options?.writeBehind ?? null;
    this.wbuf = Buffer.allocUnsafeSlow(Math.min(FIRST_CACHE, this.blockSize));
    this.prevBuf = Buffer.allocUnsafeSlow(0);
  }

  /**
   * Opens (creating if needed) the store in `dir`: rebuilds the state from the segments,
   * truncating torn or corrupt tails, then enforces `limits` (which may differ from last time).
   */
  static async open(dir: string, limits: StoreLimits, options?: FileStoreOptions): Promise<FileStore> {
    const fs = new FileStore(dir, limits, options);
    fs.recover();
    return fs;
  }

  // ─── writing ────────────────────────────────────────────────────────────────────────────

  protected writeMsg(seq: number, ts: number, subject: string, hdr: Buffer | null, data: Buffer): void {
    const len = recordLength(subject.length, hdr === null ? 0 : hdr.length, data.length);
    const off = this.append(len, T_MSG, seq, ts, subject, hdr, data);
    const seg = this.active;
    seg.liveBytes += len;
    seg.liveMsgs++;
    if (seg.minSeq === 0) seg.minSeq = seq;
    seg.maxSeq = seq;
    this.wChunk = seg.id;
    this.wOff = off;
  }

  protected writeSkip(seq: number, ts: number): void {
    this.append(recordLength(0, 0, 0), T_SKIP, seq, ts, '', null, null);
  }

  protected writeFloor(seq: number): void {
    this.append(recordLength(0, 0, 0), T_FLOOR, seq, 0, '', null, null);
  }

  /** Appends a record to the active segment (sealing it first if full); returns its offset. */
  private append(len: number, type: number, seq: number, ts: number, subject: string, hdr: Buffer | null, data: Buffer | null): number {
    if (this.active.size + len > this.blockSize && this.active.size > SEG_HEADER_LEN) this.roll();
    const seg = this.active;
    const off = seg.size;
    let buf = this.wbuf;
    let pos = off;
    if (off === this.cachedUpTo && off + len <= this.blockSize) {
      // The usual case: encode into the cache and write from there (no allocation).
      if (off + len > buf.length) buf = this.growCache(off + len);
      this.cachedUpTo = off + len;
      if (this.writeBehind !== null) {
        encodeRecord(buf, pos, type, seq, ts, subject, hdr, data);
        seg.size = off + len;
        if (this.unwrittenFrom < 0) {
          this.unwrittenFrom = off;
          // Once per batch (deferred removals may have opened it).
          if (this.npend === 0) this.writeBehind(this);
        }
        return off;
      }
    } else {
      // A record larger than a block: written from a buffer of its own, not cached.
      this.flushWrites();
      buf = Buffer.allocUnsafe(len);
      pos = 0;
    }
    encodeRecord(buf, pos, type, seq, ts, subject, hdr, data);
    this.write(this.activeFd, buf, pos, len, off);
    seg.size = off + len;
    return off;
  }

  /**
   * Write-behind: writes the records appended since the last call (one write). Throws what the
   * write throws (the records stay pending). A no-op without pending records.
   */
  flushWrites(): void {
    const from = this.unwrittenFrom;
    if (from >= 0 && this.activeFd >= 0) {
      this.write(this.activeFd, this.wbuf, from, this.cachedUpTo - from, from);
      this.unwrittenFrom = -1;
    }
    if (this.npend > 0) this.flushRemovals();
  }

  /** Writes the removal bytes that write-behind deferred (after the records: see dropMsg). */
  private flushRemovals(): void {
    const n = this.npend;
    for (let k = 0; k < n; k++) {
      const id = this.pendSeg[k];
      // A segment deleted meanwhile needs no mark (maintain flushes before it rewrites one).
      if (this.segments.has(id)) this.write(this.fdOf(id), REMOVED_FLAG, 0, 1, this.pendOff[k]);
    }
    this.npend = 0;
    if (this.pendSeg.length > PENDING_KEPT) {
      this.pendSeg.length = PENDING_KEPT;
      this.pendOff.length = PENDING_KEPT;
    }
  }

  private write(fd: number, buf: Buffer, pos: number, len: number, at: number): void {
    let done = 0;
    while (done < len) done += writeSync(fd, buf, pos + done, len - done, at + done);
    if (this.syncAlways) fsyncSync(fd);
  }

  private growCache(need: number): Buffer {
    let cap = this.wbuf.length;
    while (cap < need) cap *= 2;
    const buf = Buffer.allocUnsafeSlow(Math.min(cap, this.blockSize));
    this.wbuf.copy(buf, 0, 0, this.cachedUpTo);
    this.wbuf = buf;
    return buf;
  }

  /** Seals the active segment and starts the next one with a header record. */
  private roll(): void {
    this.flushWrites();
    const old = this.active;
    const seg = this.createSegment(old.id + 1);
    // The old segment's cache becomes the previous-segment cache; its buffer is reused next.
    const spare = this.prevBuf;
    this.prevBuf = this.wbuf;
    this.prevId = old.id;
    this.prevLen = this.cachedUpTo;
    this.wbuf = spare.length > 0 ? spare : Buffer.allocUnsafeSlow(Math.min(FIRST_CACHE, this.blockSize));
    this.cachedUpTo = 0;
    this.fds.set(old.id, this.activeFd);
    this.trimFds();
    this.active = seg;
    this.activeFd = openSync(seg.path, 'r+');
    this.append(SEG_HEADER_LEN, T_SEGMENT, this.lastSeq, this.lastTs, '', null, segmentHeaderData(this.firstSeq));
    this.markDirty(old);
  }

  private createSegment(id: number): Segment {
    const seg = new Segment(id, join(this.dir, `${String(id).padStart(10, '0')}.seg`));
    closeSync(openSync(seg.path, 'w'));
    this.segments.set(id, seg);
    return seg;
  }

  // ─── reading ────────────────────────────────────────────────────────────────────────────

  protected readMsg(b: IndexBlock, i: number, subject: string): StoredMessage {
    const id = b.chunk(i);
    const hdrLen = b.hdrLen(i);
    const len = hdrLen + b.dataLen(i);
    const at = b.off(i) + REC_HEAD + subject.length;
    const out = Buffer.allocUnsafe(len);
    if (id === this.active.id && at + len <= this.cachedUpTo) this.wbuf.copy(out, 0, at, at + len);
    else if (id === this.prevId && at + len <= this.prevLen) this.prevBuf.copy(out, 0, at, at + len);
    else this.readFrom(id, out, len, at);
    return { seq: b.seq(i), subject, hdr: hdrLen === 0 ? null : out.subarray(0, hdrLen), data: out.subarray(hdrLen), ts: b.ts(i) };
  }

  private readFrom(id: number, out: Buffer, len: number, at: number): void {
    const fd = this.fdOf(id);
    let done = 0;
    while (done < len) {
      const n = readSync(fd, out, done, len - done, at + done);
      if (n === 0) throw new Error(`nats-embedded file store: segment ${id} is shorter than its index says`);
      done += n;
    }
  }

  private fdOf(id: number): number {
    if (id === this.active.id) return this.activeFd;
    let fd = this.fds.get(id);
    if (fd === undefined) {
      fd = openSync((this.segments.get(id) as Segment).path, 'r+');
      this.fds.set(id, fd);
      this.trimFds();
    }
    return fd;
  }

  private trimFds(): void {
    for (const [id, fd] of this.fds) {
      if (this.fds.size <= MAX_OPEN) break;
      closeSync(fd);
      this.fds.delete(id);
    }
  }

  // ─── removal and space ──────────────────────────────────────────────────────────────────

  protected dropMsg(b: IndexBlock, i: number, persist: boolean, erase: boolean): void {
    const seg = this.segments.get(b.chunk(i)) as Segment;
    const subjLen = (this.subjects.byId[b.subj(i)] as { name: string }).name.length;
    const len = recordLength(subjLen, b.hdrLen(i), b.dataLen(i));
    seg.liveBytes -= len;
    seg.liveMsgs--;
    this.markDirty(seg);
    if (!persist) return;
    const off = b.off(i);
    if (seg === this.active && this.unwrittenFrom >= 0 && off >= this.unwrittenFrom) {
      // Not written yet: mark (and erase) it in the cache, which goes to disk as it is.
      this.wbuf[off] = erase ? FLAG_REMOVED | FLAG_ERASED : FLAG_REMOVED;
      if (erase && len > REC_HEAD + 4) randomFillSync(this.wbuf, off + REC_HEAD, len - REC_HEAD - 4);
      return;
    }
    if (!erase && this.writeBehind !== null) {
      // Write-behind: the removal byte is written by flushWrites, after the records appended
      // before it (a crash in between must not leave a key's old revision removed and its new
      // one unwritten) and with them, instead of a write of its own per removal.
      if (this.unwrittenFrom < 0 && this.npend === 0) this.writeBehind(this);
      const k = this.npend++;
      this.pendSeg[k] = seg.id;
      this.pendOff[k] = off;
      return;
    }
    const fd = this.fdOf(seg.id);
    this.write(fd, erase ? ERASED_FLAG : REMOVED_FLAG, 0, 1, off);
    if (erase && len > REC_HEAD + 4) {
      const noise = randomFillSync(Buffer.allocUnsafe(len - REC_HEAD - 4));
      this.write(fd, noise, 0, noise.length, off + REC_HEAD);
      // The cached copy too (the entry is gone, but erased means erased).
      if (seg === this.active && off + len <= this.cachedUpTo) noise.copy(this.wbuf, off + REC_HEAD);
      if (seg.id === this.prevId && off + len <= this.prevLen) noise.copy(this.prevBuf, off + REC_HEAD);
    }
  }

  private markDirty(seg: Segment): void {
    if (!seg.dirty) {
      seg.dirty = true;
      this.dirtySegs.push(seg);
    }
  }

  protected maintain(): void {
    const dirty = this.dirtySegs;
    if (dirty.length === 0) return;
    const compactAt = Math.max(MIN_BLOCK, this.blockSize >> 2);
    for (let k = 0; k < dirty.length; k++) {
      const seg = dirty[k];
      seg.dirty = false;
      if (this.segments.get(seg.id) !== seg) continue; // deleted, or replaced by a new file of that id
      if (seg === this.active) {
        // A dead active segment of some size (after a purge, a drained work queue): start
        // afresh so that it can be deleted (roll() queues it again).
        if (seg.liveMsgs === 0 && seg.size >= compactAt) this.roll();
        continue;
      }
      const dead = seg.size - SEG_HEADER_LEN - seg.liveBytes;
      if (seg.liveMsgs === 0) this.deleteSegment(seg);
      else if (dead > seg.liveBytes && dead >= compactAt) {
        // Its removal bytes first: a rewrite reads the file (or the cache) as it is.
        this.flushWrites();
        this.rewrite(seg);
      }
    }
    dirty.length = 0;
  }

  private deleteSegment(seg: Segment): void {
    const fd = this.fds.get(seg.id);
    if (fd !== undefined) {
      closeSync(fd);
      this.fds.delete(seg.id);
    }
    unlinkSync(seg.path);
    this.segments.delete(seg.id);
    if (this.prevId === seg.id) this.prevId = -1;
  }

  /** Rewrites a sealed segment with its header and live messages only. */
  private rewrite(seg: Segment): void {
    const cached = this.prevId === seg.id && this.prevLen === seg.size;
    const src = cached ? this.prevBuf.subarray(0, this.prevLen) : readFileSync(seg.path);
    const out = Buffer.allocUnsafe(SEG_HEADER_LEN + seg.liveBytes);
    src.copy(out, 0, 0, SEG_HEADER_LEN);
    out[0] = 0;
    let pos = SEG_HEADER_LEN;
    const idx = this.index;
    // First pass: copy. The index is updated only once the new file is in place.
    const moved: number[] = [];
    for (let ok = idx.lowerBound(seg.minSeq); ok; ok = idx.next(idx.b, idx.i)) {
      const b = idx.b;
      const i = idx.i;
      if (b.seq(i) > seg.maxSeq) break;
      if (b.chunk(i) !== seg.id) continue;
      const off = b.off(i);
      const len = recordLength((this.subjects.byId[b.subj(i)] as { name: string }).name.length, b.hdrLen(i), b.dataLen(i));
      src.copy(out, pos, off, off + len);
      out[pos] = 0;
      moved.push(b.seq(i), pos);
      pos += len;
    }
    const tmp = `${seg.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      this.write(fd, out, 0, pos, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const old = this.fds.get(seg.id);
    if (old !== undefined) {
      closeSync(old);
      this.fds.delete(seg.id);
    }
    renameSync(tmp, seg.path);
    for (let k = 0; k < moved.length; k += 2) {
      if (idx.locate(moved[k])) idx.b.setLocation(idx.i, seg.id, moved[k + 1]);
    }
    seg.size = pos;
    if (this.prevId === seg.id) this.prevId = -1;
  }

  // ─── lifecycle ──────────────────────────────────────────────────────────────────────────

  protected close(discard: boolean): void {
    if (this.activeFd >= 0) {
      if (!discard) {
        this.flushWrites();
        fsyncSync(this.activeFd);
      }
      this.unwrittenFrom = -1;
      this.npend = 0;
      closeSync(this.activeFd);
      this.activeFd = -1;
    }
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    this.segments.clear();
    this.prevId = -1;
    this.cachedUpTo = 0;
  }

  protected async destroy(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Segment files in the directory now (for tests). */
  segmentCount(): number {
    return this.segments.size;
  }

  // ─── recovery ───────────────────────────────────────────────────────────────────────────

  private recover(): void {
    mkdirSync(this.dir, { recursive: true });
    const ids: number[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = SEG_RE.exec(name);
      if (m !== null) ids.push(Number(m[1]));
      else if (name.endsWith('.seg.tmp')) unlinkSync(join(this.dir, name)); // an interrupted rewrite
    }
    ids.sort((a, b) => a - b);
    const p = new RecordParser();
    let lost = 0;
    let data = Buffer.alloc(0);
    for (const id of ids) {
      const seg = new Segment(id, join(this.dir, `${String(id).padStart(10, '0')}.seg`));
      this.segments.set(id, seg);
      data = readFileSync(seg.path);
      let pos = 0;
      while (pos < data.length && p.parse(data, pos, data.length)) {
        if (pos === 0 ? p.type !== T_SEGMENT : p.type === T_SEGMENT) break;
        if ((p.type === T_MSG || p.type === T_SKIP) && p.seq <= this.lastSeq) break; // out of order: corrupt
        if (p.type === T_SEGMENT) {
          this.recoverLast(p.seq, p.ts);
          this.recoverFloor(p.floor);
        } else if (p.type === T_FLOOR) {
          this.recoverFloor(p.seq);
        } else if (p.type === T_SKIP || (p.flags & FLAG_REMOVED) !== 0) {
          this.recoverLast(p.seq, p.ts);
        } else {
          const subject = data.toString('latin1', pos + REC_HEAD, pos + REC_HEAD + p.subjLen);
          const size = fileSizeOf(p.subjLen, p.hdrLen, p.dataLen);
          this.recoverMsg(p.seq, p.ts, subject, p.hdrLen, p.dataLen, size, id, pos);
          seg.liveBytes += p.len;
          seg.liveMsgs++;
          if (seg.minSeq === 0) seg.minSeq = p.seq;
          seg.maxSeq = p.seq;
        }
        pos += p.len;
      }
      if (pos < data.length) {
        // A torn or corrupt record: the rest of this segment is unreadable.
        lost += data.length - pos;
        const fd = openSync(seg.path, 'r+');
        ftruncateSync(fd, pos);
        closeSync(fd);
      }
      seg.size = pos;
      this.markDirty(seg);
    }
    this.recovered = { segments: ids.length, lostBytes: lost };
    this.recoverFirst();
    // Write on in the last segment unless it is missing or unusable (no header).
    const last = ids.length === 0 ? undefined : this.segments.get(ids[ids.length - 1]);
    if (last !== undefined && last.size >= SEG_HEADER_LEN) {
      this.active = last;
      this.activeFd = openSync(last.path, 'r+');
      if (last.size <= this.blockSize) {
        if (last.size > this.wbuf.length) this.growCache(last.size);
        data.copy(this.wbuf, 0, 0, last.size);
        this.cachedUpTo = last.size;
      } else {
        this.cachedUpTo = -1; // never matches: the next append rolls
      }
    } else {
      if (last !== undefined) this.segments.delete(last.id);
      this.active = this.createSegment(last === undefined ? 1 : last.id);
      this.activeFd = openSync(this.active.path, 'r+');
      this.append(SEG_HEADER_LEN, T_SEGMENT, this.lastSeq, this.lastTs, '', null, segmentHeaderData(this.firstSeq));
    }
    this.recoverLimits();
  }
}
