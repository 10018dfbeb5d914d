/**
 * Latin-1 byte helpers for the hot paths (parsing and MSG encoding). Node's Buffer has
 * `latin1Slice`/`latin1Write` fast paths that `@types/node` does not declare (they are what
 * `toString('latin1', s, e)` and `write(str, off, 'latin1')` call underneath, minus the
 * argument checks). They are used here and nowhere else, so a Node change is a one-file fix;
 * test/unit/bytes.test.ts asserts they exist.
 */

/** `buf[start, end)` as a string, one char per byte. */
export function latin1(buf: Buffer, start: number, end: number): string {
  return buf.latin1Slice(start, end);
}

/**
 * Below this length a byte loop beats a native call (measured with the pub/sub bench: the
 * native call's fixed cost dominates for short subjects, sids and payloads).
 */
export const SMALL_COPY = 64;

/** Writes a latin1 string (one byte per char) at `p`; returns the new position. */
export function writeLatin1(buf: Buffer, p: number, s: string): number {
  const n = s.length;
  if (n > SMALL_COPY) return p + buf.latin1Write(s, p);
  for (let k = 0; k < n; k++) buf[p + k] = s.charCodeAt(k);
  return p + n;
}

/** Writes `n` (a non-negative integer) in decimal at `p`; returns the new position. */
export function writeUint(buf: Buffer, p: number, n: number): number {
  if (n < 10) {
    buf[p] = 0x30 + n;
    return p + 1;
  }
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  let q = p + digits - 1;
  while (n >= 10) {
    const next = Math.floor(n / 10);
    buf[q--] = 0x30 + (n - next * 10);
    n = next;
  }
  buf[q] = 0x30 + n;
  return p + digits;
}

/** Copies `src[start, start + n)` to `dst` at `p` (a byte loop for short runs); returns the new position. */
export function copyBytes(dst: Buffer, p: number, src: Buffer, start: number, n: number): number {
  if (n <= SMALL_COPY) {
    for (let k = 0; k < n; k++) dst[p + k] = src[start + k];
  } else {
    src.copy(dst, p, start, start + n);
  }
  return p + n;
}
