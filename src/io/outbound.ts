/**
 * Per-connection outbound queue. Frames are appended into a slab (one Buffer filled from the
 * front); a flush hands the filled region to the socket as a view and keeps appending after
 * it, so bytes in flight are never overwritten and a flush allocates no new memory. Large
 * payloads are queued as views of the publisher's buffer instead of being copied.
 */
import type { Transport } from './transport.js';

/** Smallest slab: small enough to come from Node's shared buffer pool. */
const MIN_SLAB = 2048;
/** Slabs double while a connection is busy, up to this size. */
const MAX_SLAB = 64 * 1024;
/** Payloads at least this large are queued by reference, not copied. */
export const ZERO_COPY_MIN = 32 * 1024;

export class Outbound {
  private slab: Buffer | null = null;
  /** Start of the bytes in `slab` not yet handed to the socket. */
  private start = 0;
  /** Write position in `slab`. */
  pos = 0;
  private slabSize = MIN_SLAB;
  /** Regions queued before the current one, in order (full slabs, large payloads). */
  private readonly chunks: Buffer[] = [];
  /** Bytes in `chunks`. */
  private chunkBytes = 0;

  /** Bytes queued here and not yet handed to the socket. */
  get queued(): number {
    return this.chunkBytes + (this.pos - this.start);
  }

  /**
   * Returns a buffer with at least `need` free bytes at `this.pos`. The caller writes there and
   * advances `pos`.
   */
  reserve(need: number): Buffer {
    const slab = this.slab;
    if (slab !== null && this.pos + need <= slab.length) return slab;
    if (slab !== null) {
      this.pushRegion();
      // The connection is busy: give it a bigger slab next time.
      if (this.slabSize < MAX_SLAB) this.slabSize *= 2;
    }
    const fresh = Buffer.allocUnsafe(need > this.slabSize ? need : this.slabSize);
    this.slab = fresh;
    this.start = 0;
    this.pos = 0;
    return fresh;
  }

  /** Queues `buf[start, end)` by reference (after what is already queued). */
  appendRef(buf: Buffer, start: number, end: number): void {
    this.pushRegion();
    const view = buf.subarray(start, end);
    this.chunks.push(view);
    this.chunkBytes += view.length;
  }

  /** Copies `data` into the queue. */
  appendBytes(data: Buffer): void {
    const slab = this.reserve(data.length);
    data.copy(slab, this.pos);
    this.pos += data.length;
  }

  /** Hands everything queued to `socket`; returns the number of bytes written. */
  flush(socket: Transport): number {
    const tail = this.pos - this.start;
    const total = this.chunkBytes + tail;
    if (total === 0) return 0;
    const chunks = this.chunks;
    if (chunks.length === 0) {
      socket.write(this.slab!.subarray(this.start, this.pos));
    } else {
      socket.cork();
      for (let i = 0; i < chunks.length; i++) socket.write(chunks[i]);
      if (tail > 0) socket.write(this.slab!.subarray(this.start, this.pos));
      socket.uncork();
      chunks.length = 0;
      this.chunkBytes = 0;
    }
    this.start = this.pos;
    // Drop a used-up slab, and the small slab of a quiet connection (it comes from Node's
    // shared pool, cheap to take again): an idle connection then holds no buffer at all.
    // Busy connections (grown slabs) keep theirs.
    if (this.slab !== null && (this.slab.length - this.pos < 64 || this.slabSize === MIN_SLAB)) {
      this.slab = null;
      this.start = this.pos = 0;
    }
    return total;
  }

  /** Takes everything queued out of the queue, in order (for delayed writes). */
  take(): Buffer[] {
    const out = this.chunks.splice(0);
    this.chunkBytes = 0;
    if (this.slab !== null && this.pos > this.start) {
      out.push(this.slab.subarray(this.start, this.pos));
      this.start = this.pos;
    }
    return out;
  }

  /** Drops everything queued (used when a connection is killed). */
  clear(): void {
    this.chunks.length = 0;
    this.chunkBytes = 0;
    this.slab = null;
    this.start = this.pos = 0;
  }

  private pushRegion(): void {
    if (this.slab !== null && this.pos > this.start) {
      const view = this.slab.subarray(this.start, this.pos);
      this.chunks.push(view);
      this.chunkBytes += view.length;
      this.start = this.pos;
    }
  }
}
