/**
 * protocol/bytes.ts relies on Buffer's undeclared latin1 fast paths: if a Node release drops
 * them, this fails first, and bytes.ts is the one file to change.
 */
import { describe, expect, it } from 'vitest';
import { copyBytes, latin1, writeLatin1, writeUint } from '../../src/protocol/bytes.js';

describe('latin1 byte helpers', () => {
  it('Buffer still has latin1Slice and latin1Write', () => {
    const b = Buffer.alloc(4) as Buffer & { latin1Slice?: unknown; latin1Write?: unknown };
    expect(typeof b.latin1Slice).toBe('function');
    expect(typeof b.latin1Write).toBe('function');
  });

  it('latin1() and writeLatin1() round-trip every byte value, short and long strings', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(latin1(all, 0, 256)).toBe(all.toString('latin1'));
    for (const s of ['foo.bar', 'x'.repeat(64), 'y'.repeat(65), all.toString('latin1')]) {
      const buf = Buffer.alloc(s.length + 3);
      expect(writeLatin1(buf, 2, s)).toBe(2 + s.length);
      expect(buf.toString('latin1', 2, 2 + s.length)).toBe(s);
    }
  });

  it('writeUint() writes decimal numbers up to the largest safe integer', () => {
    for (const n of [0, 7, 10, 99, 100, 12345, 1048576, Number.MAX_SAFE_INTEGER]) {
      const buf = Buffer.alloc(20);
      const end = writeUint(buf, 1, n);
      expect(buf.toString('latin1', 1, end)).toBe(String(n));
    }
  });

  it('copyBytes() copies short and long runs', () => {
    for (const n of [0, 1, 64, 65, 1000]) {
      const src = Buffer.from(Array.from({ length: n + 2 }, (_, i) => i & 0xff));
      const dst = Buffer.alloc(n + 5);
      expect(copyBytes(dst, 3, src, 1, n)).toBe(3 + n);
      expect(dst.subarray(3, 3 + n).equals(src.subarray(1, 1 + n))).toBe(true);
    }
  });
});
