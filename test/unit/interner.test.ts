import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Interner } from '../../src/protocol/interner.js';

describe('subject interner', () => {
  it('always returns the bytes as a latin1 string, and the same string object for repeated bytes', () => {
    const interner = new Interner();
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 140 }), { minLength: 1, maxLength: 50 }), (subjects) => {
        for (const bytes of subjects) {
          const buf = Buffer.concat([Buffer.from('xx'), Buffer.from(bytes), Buffer.from('yy')]);
          const s = interner.get(buf, 2, 2 + bytes.length);
          expect(s).toBe(Buffer.from(bytes).toString('latin1'));
          // Short subjects come back as the very same string (no new allocation).
          if (bytes.length <= 128) expect(Object.is(interner.get(buf, 2, 2 + bytes.length), s)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
