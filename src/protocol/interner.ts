/**
 * Subject interning: maps subject bytes to one shared string without allocating when the
 * subject was seen recently. Publishing the same subjects over and over (the common case) then
 * creates no string per message, and the interned string's hash is computed once, which makes
 * the sublist's cache lookup cheaper too.
 *
 * An open table of 4096 slots indexed by an FNV-1a hash of the bytes; a slot holds the last
 * string that hashed there (a collision simply replaces it). Bounded, no eviction bookkeeping.
 */
import { latin1 } from './bytes.js';

const SLOTS = 4096;
const MASK = SLOTS - 1;
/** Longer subjects are sliced every time: hashing them would cost more than it saves. */
const MAX_INTERNED = 128;

export class Interner {
  private readonly table: (string | undefined)[] = new Array<string | undefined>(SLOTS);

  /** The latin1 string of `buf[start, end)`, shared with earlier calls for the same bytes. */
  get(buf: Buffer, start: number, end: number): string {
    const len = end - start;
    if (len > MAX_INTERNED) return latin1(buf, start, end);
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const slot = (h >>> 0) & MASK;
    const cached = this.table[slot];
    if (cached !== undefined && cached.length === len) {
      let same = true;
      for (let i = 0; i < len; i++) {
        if (cached.charCodeAt(i) !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return cached;
    }
    const s = latin1(buf, start, end);
    this.table[slot] = s;
    return s;
  }
}
