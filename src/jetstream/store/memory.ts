/**
 * The memory store: nats-server's memstore (server/memstore.go). The semantics are the shared
 * ones of `base.ts`; this module only keeps payloads, sized by {@link memoryMsgSize}.
 *
 * Payloads (header block and data, back to back) are copied into arena chunks: Buffers of up
 * to 1 MiB (the first ones smaller, so that a store of a few messages stays small; a larger
 * payload gets a chunk of its own) filled in sequence order. Per message the store then holds
 * its 40-byte index entry and its bytes, and no JS object; nats-server copies each message too.
 * A chunk whose messages are all gone is dropped; a full chunk with more dead bytes than live
 * ones (and at least 1 KiB dead) is copied to a chunk of exactly the live size, so the memory
 * held stays within about twice the live payload bytes. Chunks are never written again once a
 * payload is in them, so the Buffers `load` returns (views into a chunk, no copy) stay valid
 * however long the caller keeps them — except after `remove(seq, true)`, which overwrites the
 * payload with random bytes where it lies.
 */
import { randomFillSync } from 'node:crypto';
import { memoryMsgSize, type StoredMessage, type StoreLimits } from './store.js';
import { BaseStore, type StoreOptions } from './base.js';
import { emptyList, type IndexBlock } from './seq-index.js';

const MAX_CHUNK = 1024 * 1024;
const MIN_CHUNK = 4096;
/** A chunk is compacted once it has at least this many dead bytes (and more dead than live). */
const COMPACT_MIN = 1024;

/** Options of a {@link MemoryStore}. */
export interface MemoryStoreOptions extends StoreOptions {
  /** Largest arena chunk in bytes (default 1 MiB); tests use small chunks. */
  readonly chunkSize?: number;
}

/** One arena chunk. `minSeq`/`maxSeq` bound the messages whose payloads are in it. */
class Chunk {
  used = 0;
  liveBytes = 0;
  liveMsgs = 0;
  minSeq = 0;
  maxSeq = 0;
  dirty = false;
  constructor(
    readonly id: number,
    public buf: Buffer,
  ) {}
}

/** A stream's messages in memory (nats-server's memstore). */
export class MemoryStore extends BaseStore {
  readonly kind = 'memory' as const;

  private readonly chunks: (Chunk | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private cur: Chunk | null = null;
  private readonly maxChunk: number;
  private readonly compactMin: number;
  private nextChunkSize: number;
  private readonly dirtyChunks: Chunk[] = [];

  /** An empty store enforcing `limits`. */
  constructor(limits: StoreLimits, options?: MemoryStoreOptions) {
    // memstore: discard new may replace a subject's oldest unless it is smaller than the new one.
    super(limits, options, memoryMsgSize, (oldest, size) => oldest < size);
    this.maxChunk = Math.max(64, options?.chunkSize ?? MAX_CHUNK);
    this.nextChunkSize = Math.min(MIN_CHUNK, this.maxChunk);
    this.compactMin = Math.min(COMPACT_MIN, this.maxChunk >> 2);
  }

  protected writeMsg(seq: number, _ts: number, _subject: string, hdr: Buffer | null, data: Buffer): void {
    const hdrLen = hdr === null ? 0 : hdr.length;
    const len = hdrLen + data.length;
    let c = this.cur;
    if (c === null || c.used + len > c.buf.length) c = this.newChunk(len);
    const off = c.used;
    if (hdr !== null) hdr.copy(c.buf, off);
    data.copy(c.buf, off + hdrLen);
    c.used += len;
    c.liveBytes += len;
    c.liveMsgs++;
    if (c.minSeq === 0) c.minSeq = seq;
    c.maxSeq = seq;
    this.wChunk = c.id;
    this.wOff = off;
  }

  protected readMsg(b: IndexBlock, i: number, subject: string): StoredMessage {
    const buf = (this.chunks[b.chunk(i)] as Chunk).buf;
    const off = b.off(i);
    const hdrLen = b.hdrLen(i);
    const end = off + hdrLen + b.dataLen(i);
    return {
      seq: b.seq(i),
      subject,
      hdr: hdrLen === 0 ? null : buf.subarray(off, off + hdrLen),
      data: buf.subarray(off + hdrLen, end),
      ts: b.ts(i),
    };
  }

  protected dropMsg(b: IndexBlock, i: number, _persist: boolean, erase: boolean): void {
    const c = this.chunks[b.chunk(i)] as Chunk;
    const len = b.hdrLen(i) + b.dataLen(i);
    if (erase && len > 0) randomFillSync(c.buf, b.off(i), len);
    c.liveBytes -= len;
    c.liveMsgs--;
    if (!c.dirty) {
      c.dirty = true;
      this.dirtyChunks.push(c);
    }
  }

  protected writeFloor(): void {
    // Nothing to record: memory does not survive the process.
  }

  protected writeSkip(): void {
    // Likewise.
  }

  protected maintain(): void {
    const dirty = this.dirtyChunks;
    if (dirty.length === 0) return;
    for (const c of dirty) {
      c.dirty = false;
      if (c.liveMsgs === 0) {
        // Views handed out by load() keep the Buffer alive; the store forgets it.
        if (c === this.cur) this.cur = null;
        this.chunks[c.id] = undefined;
        this.freeIds.push(c.id);
      } else if (c !== this.cur && c.liveBytes * 2 < c.used && c.used - c.liveBytes >= this.compactMin) {
        this.compactChunk(c);
      }
    }
    emptyList(dirty);
  }

  protected close(): void {
    this.chunks.length = 0;
    this.freeIds.length = 0;
    this.dirtyChunks.length = 0;
    this.cur = null;
  }

  protected async destroy(): Promise<void> {
    // Nothing outside the process.
  }

  private newChunk(len: number): Chunk {
    // A payload larger than the standard chunk gets one of its own and leaves the current open.
    const own = len > this.nextChunkSize;
    const size = own ? len : this.nextChunkSize;
    if (!own) this.nextChunkSize = Math.min(this.maxChunk, this.nextChunkSize * 2);
    const id = this.freeIds.length > 0 ? (this.freeIds.pop() as number) : this.chunks.length;
    // Not from Buffer's shared pool: a chunk is dropped as a whole.
    const c = new Chunk(id, Buffer.allocUnsafeSlow(size));
    this.chunks[id] = c;
    if (!own) this.cur = c;
    return c;
  }

  /** Moves a chunk's live payloads to a Buffer of their size (entries are updated in place). */
  private compactChunk(c: Chunk): void {
    const buf = Buffer.allocUnsafeSlow(c.liveBytes);
    const idx = this.index;
    let pos = 0;
    let min = 0;
    for (let ok = idx.lowerBound(c.minSeq); ok; ok = idx.next(idx.b, idx.i)) {
      const b = idx.b;
      const i = idx.i;
      if (b.seq(i) > c.maxSeq) break;
      if (b.chunk(i) !== c.id) continue;
      const off = b.off(i);
      const len = b.hdrLen(i) + b.dataLen(i);
      c.buf.copy(buf, pos, off, off + len);
      b.setLocation(i, c.id, pos);
      if (min === 0) min = b.seq(i);
      pos += len;
    }
    c.buf = buf;
    c.used = pos;
    c.minSeq = min;
  }

  /** Bytes held in arena chunks (for tests and benchmarks). */
  arenaBytes(): number {
    let n = 0;
    for (const c of this.chunks) if (c !== undefined) n += c.buf.length;
    return n;
  }
}
