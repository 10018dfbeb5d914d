/**
 * The outbound queue (src/io/outbound.ts) against a model: random sequences of reserve+write,
 * appendRef, appendBytes, flush (to a fake socket that keeps every view it is handed), take and
 * clear. After every step:
 * - `queued` is the model's count of bytes queued and not yet handed out;
 * - the socket has received exactly the bytes queued, in order (flush returns their count);
 * - every view handed out (to the socket, or by take() for a delayed write) still holds the
 *   bytes it held when it was handed out: later appends never write over bytes in flight.
 * Replay a failure with the seed and path fast-check prints (`fc.assert(..., { seed, path })`).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Transport } from '../../src/io/transport.js';
import { Outbound } from '../../src/io/outbound.js';

type Op =
  | { kind: 'write'; reserve: number; write: number }
  | { kind: 'ref'; size: number; offset: number }
  | { kind: 'bytes'; size: number }
  | { kind: 'flush' }
  | { kind: 'take' }
  | { kind: 'clear' };

/** Sizes around the queue's thresholds: tiny, around the 2 KiB first slab, the 64 KiB cap, past it. */
const size = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 1500, max: 5000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 60 * 1024, max: 140 * 1024 }) },
);

const op: fc.Arbitrary<Op> = fc.oneof(
  // Callers reserve room for a frame and may write less than they reserved.
  { weight: 6, arbitrary: fc.tuple(size, fc.nat()).map(([reserve, w]): Op => ({ kind: 'write', reserve, write: reserve === 0 ? 0 : w % (reserve + 1) })) },
  { weight: 2, arbitrary: fc.tuple(size, fc.nat(64)).map(([s, offset]): Op => ({ kind: 'ref', size: s, offset })) },
  { weight: 2, arbitrary: size.map((s): Op => ({ kind: 'bytes', size: s })) },
  { weight: 4, arbitrary: fc.constant<Op>({ kind: 'flush' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'take' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'clear' }) },
);

/** A socket that keeps every buffer written to it (by reference, as a real one does until sent). */
class FakeSocket {
  readonly writes: Buffer[] = [];
  corked = 0;
  write(b: Buffer): boolean {
    this.writes.push(b);
    return true;
  }
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    this.corked--;
  }
}

/** Bytes to queue: slices of a pattern that does not repeat every 256 bytes, at a moving offset. */
const PATTERN = Buffer.from(Array.from({ length: 64 * 1024 + 150 * 1024 }, (_, i) => (i * 7 + (i >> 8) * 13) & 0xff));

/** A view handed out, with a copy of what it held at that moment. */
interface HandedOut {
  readonly view: Buffer;
  readonly copy: Buffer;
}

describe('Outbound (model-based)', () => {
  it('delivers the queued bytes in order, keeps `queued` exact, and never writes over bytes in flight', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
        const q = new Outbound();
        const socket = new FakeSocket();
        // Each chunk queued is a different slice of PATTERN, so that an overwrite (with other
        // queued bytes) changes what a view holds.
        let offset = 0;
        const fresh = (n: number): Buffer => {
          offset = (offset + 4099) % (64 * 1024);
          return Buffer.from(PATTERN.subarray(offset, offset + n));
        };
        const pending: Buffer[] = []; // the model: bytes queued, not yet handed out
        const pendingBytes = (): number => pending.reduce((n, b) => n + b.length, 0);
        const handedOut: HandedOut[] = [];
        const handOut = (view: Buffer): void => void handedOut.push({ view, copy: Buffer.from(view) });

        for (const o of ops) {
          switch (o.kind) {
            case 'write': {
              const slab = q.reserve(o.reserve);
              expect(slab.length - q.pos).toBeGreaterThanOrEqual(o.reserve);
              const data = fresh(o.write);
              data.copy(slab, q.pos);
              q.pos += o.write;
              pending.push(data);
              break;
            }
            case 'ref': {
              // The caller's buffer, with bytes on either side that must not be queued.
              const buf = fresh(o.size + o.offset + 8);
              q.appendRef(buf, o.offset, o.offset + o.size);
              pending.push(Buffer.from(buf.subarray(o.offset, o.offset + o.size)));
              break;
            }
            case 'bytes': {
              const data = fresh(o.size);
              q.appendBytes(data);
              pending.push(Buffer.from(data));
              data.fill(0xee); // the caller may reuse its buffer at once: appendBytes copied it
              break;
            }
            case 'flush': {
              const before = socket.writes.length;
              const expectedCount = pendingBytes();
              expect(q.flush(socket as unknown as Transport)).toBe(expectedCount);
              expect(socket.corked).toBe(0);
              const written = socket.writes.slice(before);
              // In order, whole, and nothing else.
              expect(Buffer.concat(written).equals(Buffer.concat(pending.splice(0)))).toBe(true);
              for (const w of written) handOut(w);
              break;
            }
            case 'take': {
              const out = q.take();
              expect(Buffer.concat(out).equals(Buffer.concat(pending.splice(0)))).toBe(true);
              for (const b of out) handOut(b);
              break;
            }
            case 'clear':
              q.clear();
              pending.length = 0;
              break;
          }
          expect(q.queued).toBe(pendingBytes());
        }
        // Whatever is left comes out whole with a last flush.
        const before = socket.writes.length;
        expect(q.flush(socket as unknown as Transport)).toBe(pendingBytes());
        expect(q.queued).toBe(0);
        expect(Buffer.concat(socket.writes.slice(before)).equals(Buffer.concat(pending))).toBe(true);
        // An overwrite stays: checking every view once, at the end, finds one made at any step
        // (fast-check then shrinks the steps to the shortest sequence that makes it).
        handedOut.forEach((h, i) => {
          if (!h.view.equals(h.copy)) throw new Error(`view ${i} handed out (${h.view.length} bytes) was overwritten later`);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('flushes nothing, and writes nothing, when nothing is queued', () => {
    const q = new Outbound();
    const socket = new FakeSocket();
    expect(q.flush(socket as unknown as Transport)).toBe(0);
    q.reserve(10); // room reserved, nothing written
    expect(q.flush(socket as unknown as Transport)).toBe(0);
    expect(q.take()).toEqual([]);
    expect(socket.writes).toEqual([]);
  });

  it('queues a reference without copying: the socket gets a view of the caller\'s buffer', () => {
    const q = new Outbound();
    const socket = new FakeSocket();
    const big = Buffer.alloc(40 * 1024, 0x61);
    q.appendBytes(Buffer.from('MSG x 1 40960\r\n'));
    q.appendRef(big, 0, big.length);
    q.appendBytes(Buffer.from('\r\n'));
    q.flush(socket as unknown as Transport);
    expect(socket.writes).toHaveLength(3);
    expect(socket.writes[1].buffer).toBe(big.buffer);
    expect(socket.writes[1].byteOffset).toBe(big.byteOffset);
  });
});
