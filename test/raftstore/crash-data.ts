/**
 * The bytes of the crash test's entries and snapshots, a function of (index, term): the checker
 * recomputes them, so every entry found after a crash is checked byte for byte. Shared by the
 * test and its child (bundled with the storage by esbuild).
 */
export function entryBytes(index: number, term: number, size = 128): Uint8Array {
  const out = new Uint8Array(size);
  let x = (index * 2654435761 + term * 40503) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
