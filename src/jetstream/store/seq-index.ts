/**
 * The sequence index both stores share: one entry per stored message, ordered by sequence,
 * held in typed arrays instead of one JS object per message. nats-server's memstore keeps a
 * `map[uint64]*StoreMsg` and its filestore a per-block index (server/memstore.go,
 * server/filestore.go); here both use this structure, which costs 40 bytes per message, makes
 * no garbage per message and leaves the garbage collector nothing to trace per message.
 *
 * Entries live in blocks of at most {@link BLOCK_CAP} entries, each block two typed arrays:
 * `f64` holds `[seq, ts]` per entry, `u32` holds `[subject id, size, chunk, offset, header
 * length, data length]` (chunk and offset say where the payload is: an arena chunk of the
 * memory store, a segment file of the file store). Sequences increase along the blocks but may
 * have gaps (skips, removals). A removed entry stays in place, marked by the subject id
 * {@link DEAD}, until `tidy()` (called once at the end of each store operation) shrinks blocks
 * that are mostly dead and drops empty ones, so memory follows the live messages, not the
 * sequence range (a KV bucket whose old keys sit among millions of removed updates stays small).
 *
 * Positions are passed around as the cursor fields `b`/`i` (set by the lookups) so that
 * walking the index allocates nothing. Positions stay valid until the next `tidy()`.
 */

/** The subject id of a removed entry. */
/**
 * Empties `a` by popping: `a.length = 0` is a runtime call (some 200 ns) and the stores empty
 * a few short lists on every message that removes another (KV history, limits).
 */
export function emptyList(a: unknown[]): void {
  while (a.length > 0) a.pop();
}

export const DEAD = 0xffffffff;
/** Entries per block when full (tests use smaller blocks). */
export const BLOCK_CAP = 4096;
const FIRST_CAP = 16;
/** u32 columns per entry. */
const U = 6;

/** One block of entries (see the module comment for the layout). */
export class IndexBlock {
  /** Entries used, dead ones included. */
  n = 0;
  /** Live entries. */
  live = 0;
  /** No live entry before this index. */
  head = 0;
  /** This block's place in `SeqIndex.blocks` (kept current by `tidy()`). */
  pos = 0;
  /** Queued for `tidy()`. */
  dirty = false;
  f64: Float64Array;
  u32: Uint32Array;

  constructor(cap: number) {
    this.f64 = new Float64Array(cap * 2);
    this.u32 = new Uint32Array(cap * U);
  }

  get cap(): number {
    return this.f64.length >> 1;
  }
  seq(i: number): number {
    return this.f64[i * 2];
  }
  ts(i: number): number {
    return this.f64[i * 2 + 1];
  }
  subj(i: number): number {
    return this.u32[i * U];
  }
  size(i: number): number {
    return this.u32[i * U + 1];
  }
  chunk(i: number): number {
    return this.u32[i * U + 2];
  }
  off(i: number): number {
    return this.u32[i * U + 3];
  }
  hdrLen(i: number): number {
    return this.u32[i * U + 4];
  }
  dataLen(i: number): number {
    return this.u32[i * U + 5];
  }
  setLocation(i: number, chunk: number, off: number): void {
    this.u32[i * U + 2] = chunk;
    this.u32[i * U + 3] = off;
  }

  /** Copies entry `i` of `from` to entry `j` of this block. */
  copyFrom(j: number, from: IndexBlock, i: number): void {
    this.f64[j * 2] = from.f64[i * 2];
    this.f64[j * 2 + 1] = from.f64[i * 2 + 1];
    for (let k = 0; k < U; k++) this.u32[j * U + k] = from.u32[i * U + k];
  }

  /** Index of the entry with `seq` (dead or alive), or -1. */
  find(seq: number): number {
    const n = this.n;
    if (n === 0) return -1;
    const first = this.f64[0];
    // Dense blocks (no skipped sequences): the position is the distance from the first entry.
    const guess = seq - first;
    if (guess >= 0 && guess < n && this.f64[guess * 2] === seq) return guess;
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.f64[mid * 2];
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Index of the first entry (dead or alive) with a sequence at or above `seq`, or `n`. */
  lowerBound(seq: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.f64[mid * 2] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The ordered entries of a store (see the module comment). */
export class SeqIndex {
  blocks: IndexBlock[] = [];

  /** @param cap entries per full block (default {@link BLOCK_CAP}). */
  constructor(private readonly cap: number = BLOCK_CAP) {}

  /** Cursor: the block and entry the last successful lookup found. */
  b: IndexBlock = new IndexBlock(0);
  i = 0;
  private readonly dirtyBlocks: IndexBlock[] = [];
  /** No live entry in the blocks before this one (reset when the block list changes). */
  private headHint = 0;

  /** Appends an entry; `seq` must be above every sequence already in the index. */
  append(seq: number, ts: number, subj: number, size: number, chunk: number, off: number, hdrLen: number, dataLen: number): void {
    let b = this.blocks.length === 0 ? null : this.blocks[this.blocks.length - 1];
    if (b === null || b.n >= this.cap) {
      if (b !== null) this.markDirty(b); // no longer the tail: tidy() may shrink it now
      b = new IndexBlock(Math.min(FIRST_CAP, this.cap));
      b.pos = this.blocks.length;
      this.blocks.push(b);
    } else if (b.n === b.cap) {
      this.grow(b, Math.min(this.cap, b.cap * 2));
    }
    const i = b.n++;
    b.live++;
    b.f64[i * 2] = seq;
    b.f64[i * 2 + 1] = ts;
    const u = b.u32;
    const k = i * U;
    u[k] = subj;
    u[k + 1] = size;
    u[k + 2] = chunk;
    u[k + 3] = off;
    u[k + 4] = hdrLen;
    u[k + 5] = dataLen;
  }

  /** The block that may hold `seq` (the last whose first sequence is at or below it), or -1. */
  private blockFor(seq: number): number {
    const blocks = this.blocks;
    let lo = 0;
    let hi = blocks.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (blocks[mid].f64[0] <= seq) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Finds the live entry with `seq`: true and the cursor on it, or false. */
  locate(seq: number): boolean {
    const bi = this.blockFor(seq);
    if (bi < 0) return false;
    const b = this.blocks[bi];
    const i = b.find(seq);
    if (i < 0 || b.u32[i * U] === DEAD) return false;
    this.b = b;
    this.i = i;
    return true;
  }

  /** Puts the cursor on the first live entry with a sequence at or above `seq`; false if none. */
  lowerBound(seq: number): boolean {
    let bi = this.blockFor(seq);
    if (bi < 0) bi = 0;
    if (bi >= this.blocks.length) return false;
    const b = this.blocks[bi];
    const i = Math.max(b.lowerBound(seq), b.head);
    return this.forwardFrom(bi, i);
  }

  /** Puts the cursor on the last live entry with a sequence at or below `seq`; false if none. */
  upperBound(seq: number): boolean {
    const bi = this.blockFor(seq);
    if (bi < 0) return false;
    const b = this.blocks[bi];
    let i = b.lowerBound(seq);
    if (i >= b.n || b.f64[i * 2] !== seq) i--;
    return this.backwardFrom(bi, i);
  }

  /** The first live entry. */
  first(): boolean {
    // Blocks before `headHint` are known empty: removing a long prefix (a purge, max_msgs)
    // then costs O(1) per message instead of a walk over the emptied blocks each time.
    // The hint never passes the tail block, which may still receive entries.
    const blocks = this.blocks;
    const tail = blocks.length - 1;
    let bi = this.headHint;
    while (bi < tail && blocks[bi].live === 0) bi++;
    this.headHint = bi;
    return bi <= tail && this.forwardFrom(bi, blocks[bi].head);
  }

  /** The last live entry. */
  last(): boolean {
    const n = this.blocks.length;
    return n > 0 && this.backwardFrom(n - 1, this.blocks[n - 1].n - 1);
  }

  /** The live entry after (`b`, `i`). */
  next(b: IndexBlock, i: number): boolean {
    return this.forwardFrom(b.pos, i + 1);
  }

  /** The live entry before (`b`, `i`). */
  prev(b: IndexBlock, i: number): boolean {
    return this.backwardFrom(b.pos, i - 1);
  }

  private forwardFrom(bi: number, i: number): boolean {
    const blocks = this.blocks;
    for (; bi < blocks.length; bi++) {
      const b = blocks[bi];
      if (b.live > 0) {
        if (i < b.head) i = b.head;
        const u = b.u32;
        for (; i < b.n; i++) {
          if (u[i * U] !== DEAD) {
            this.b = b;
            this.i = i;
            return true;
          }
        }
      }
      i = 0;
    }
    return false;
  }

  private backwardFrom(bi: number, i: number): boolean {
    const blocks = this.blocks;
    for (; bi >= 0; bi--) {
      const b = blocks[bi];
      if (b.live > 0) {
        if (i >= b.n) i = b.n - 1;
        const u = b.u32;
        for (; i >= b.head; i--) {
          if (u[i * U] !== DEAD) {
            this.b = b;
            this.i = i;
            return true;
          }
        }
      }
      if (bi > 0) i = blocks[bi - 1].n - 1;
    }
    return false;
  }

  /** Marks entry `i` of `b` removed. */
  kill(b: IndexBlock, i: number): void {
    b.u32[i * U] = DEAD;
    b.live--;
    if (i === b.head) {
      const u = b.u32;
      let h = i + 1;
      while (h < b.n && u[h * U] === DEAD) h++;
      b.head = h;
    }
    this.markDirty(b);
  }

  /** Live entries at or above `seq` (whole blocks counted from their live counts). */
  countFrom(seq: number): number {
    if (!this.lowerBound(seq)) return 0;
    const start = this.b;
    let count = 0;
    const u = start.u32;
    for (let i = this.i; i < start.n; i++) if (u[i * U] !== DEAD) count++;
    for (let bi = start.pos + 1; bi < this.blocks.length; bi++) count += this.blocks[bi].live;
    return count;
  }

  /** Forgets every entry. */
  clear(): void {
    this.blocks = [];
    this.headHint = 0;
    this.dirtyBlocks.length = 0;
  }

  private markDirty(b: IndexBlock): void {
    if (!b.dirty) {
      b.dirty = true;
      this.dirtyBlocks.push(b);
    }
  }

  private grow(b: IndexBlock, cap: number): void {
    const f64 = new Float64Array(cap * 2);
    f64.set(b.f64.subarray(0, b.n * 2));
    const u32 = new Uint32Array(cap * U);
    u32.set(b.u32.subarray(0, b.n * U));
    b.f64 = f64;
    b.u32 = u32;
  }

  /**
   * Drops empty blocks, shrinks mostly dead ones (not the tail, which is still filling) and
   * merges small neighbours. Cheap when nothing was removed: only blocks touched since the last
   * call are looked at, and the block list is rebuilt only if one changed shape.
   */
  tidy(): void {
    const dirty = this.dirtyBlocks;
    if (dirty.length === 0) return;
    const tail = this.blocks.length === 0 ? null : this.blocks[this.blocks.length - 1];
    let reshaped = false;
    for (const b of dirty) {
      b.dirty = false;
      if (b.live === 0) {
        b.n = 0; // dropped below
        reshaped = true;
      } else if (b !== tail && b.live * 2 < b.n && b.n >= Math.min(32, this.cap)) {
        this.shrink(b, b.live);
        reshaped = true;
      }
    }
    emptyList(dirty);
    if (!reshaped) return;
    const kept: IndexBlock[] = [];
    for (const b of this.blocks) {
      if (b.n === 0) continue;
      const prev = kept.length === 0 ? null : kept[kept.length - 1];
      // Merge two small sealed neighbours (so blocks left with a few survivors do not each
      // carry a block's overhead).
      if (prev !== null && b !== tail && prev.live + b.live <= this.cap / 4) {
        this.mergeInto(prev, b);
        continue;
      }
      b.pos = kept.length;
      kept.push(b);
    }
    this.blocks = kept;
    this.headHint = 0;
  }

  /** Rewrites `b` to hold its live entries only. */
  private shrink(b: IndexBlock, cap: number): void {
    const f64 = b.f64;
    const u32 = b.u32;
    const n = b.n;
    b.f64 = new Float64Array(cap * 2);
    b.u32 = new Uint32Array(cap * U);
    let j = 0;
    for (let i = b.head; i < n; i++) {
      if (u32[i * U] === DEAD) continue;
      b.f64[j * 2] = f64[i * 2];
      b.f64[j * 2 + 1] = f64[i * 2 + 1];
      for (let k = 0; k < U; k++) b.u32[j * U + k] = u32[i * U + k];
      j++;
    }
    b.n = j;
    b.live = j;
    b.head = 0;
  }

  /** Appends the live entries of `b` to `into` (which precedes it). */
  private mergeInto(into: IndexBlock, b: IndexBlock): void {
    this.shrink(into, into.live + b.live);
    let j = into.n;
    for (let i = b.head; i < b.n; i++) {
      if (b.u32[i * U] === DEAD) continue;
      into.copyFrom(j++, b, i);
    }
    into.n = j;
    into.live = j;
  }
}
