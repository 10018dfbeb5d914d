/**
 * The Raft message encoding: every message survives a round trip, any byte string decodes to a
 * message or to null without throwing, and a node fed garbage counts it and carries on.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMessage, decodePeerIdData, decodePeers, encodeMessage, encodePeers } from '../../src/raft/codec.js';
import { RaftNode } from '../../src/raft/node.js';
import { MemoryRaftStorage } from '../../src/raft/storage.js';
import { EntryType, type LogEntry, type RaftMessage } from '../../src/raft/types.js';

const num = fc.oneof(fc.nat(1000), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER));
const data = fc.uint8Array({ maxLength: 40 });
const peerId = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }).filter((s) => new TextEncoder().encode(s).length <= 255);
const logEntry: fc.Arbitrary<LogEntry> = fc.record({ term: num, type: fc.constantFrom(...Object.values(EntryType)), data });

const message: fc.Arbitrary<RaftMessage> = fc.oneof(
  fc.record({ kind: fc.constant('vote' as const), term: num, lastTerm: num, lastIndex: num, transfer: fc.boolean() }),
  fc.record({ kind: fc.constant('vote-response' as const), term: num, granted: fc.boolean() }),
  fc.record({ kind: fc.constant('append' as const), term: num, commit: num, pterm: num, pindex: num, entries: fc.array(logEntry, { maxLength: 5 }) }),
  fc.record({ kind: fc.constant('append-response' as const), term: num, success: fc.boolean(), index: num }),
  fc.record({
    kind: fc.constant('snapshot' as const),
    term: num,
    snapshot: fc.record({ lastIndex: num, lastTerm: num, peers: fc.array(peerId, { maxLength: 5 }), data }),
  }),
  fc.record({ kind: fc.constant('timeout-now' as const), term: num }),
);

describe('raft codec', () => {
  it('round-trips every message', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes any bytes to a message or null, never throwing; what decodes re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        const m = decodeMessage(b);
        if (m !== null) expect(encodeMessage(m)).toEqual(b);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses every truncation, extension and most byte flips of a valid message', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 1, max: 255 }), (m, at, flip) => {
        const b = encodeMessage(m);
        expect(decodeMessage(b.subarray(0, b.length - 1 - (at % b.length)))).toBeNull();
        expect(decodeMessage(Uint8Array.from([...b, at & 0xff]))).toBeNull();
        const flipped = b.slice();
        flipped[at % b.length] ^= flip;
        const d = decodeMessage(flipped);
        // A flip inside a number or payload may still be a valid message: then it is canonical.
        if (d !== null) expect(encodeMessage(d)).toEqual(flipped);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses numbers beyond 2^53, unknown kinds and entry types, bad booleans', () => {
    const vote = encodeMessage({ kind: 'vote', term: 1, lastTerm: 1, lastIndex: 1, transfer: false });
    const big = vote.slice();
    big[7] = 0x20; // the term's high word (bytes 5-8) 0x00200000: 2^53
    expect(decodeMessage(big)).toBeNull();
    const kind = vote.slice();
    kind[0] = 9;
    expect(decodeMessage(kind)).toBeNull();
    const flag = vote.slice();
    flag[25] = 2;
    expect(decodeMessage(flag)).toBeNull();
    const ae = encodeMessage({ kind: 'append', term: 1, commit: 0, pterm: 0, pindex: 0, entries: [{ term: 1, type: EntryType.Normal, data: new Uint8Array(0) }] });
    const badType = ae.slice();
    badType[37 + 8] = 1; // EntryOldSnapshot is not spoken here
    expect(decodeMessage(badType)).toBeNull();
    expect(decodeMessage(new Uint8Array(0))).toBeNull();
    expect(() => encodeMessage({ kind: 'timeout-now', term: -1 })).toThrow(RangeError);
  });

  it('entries decoded from a Buffer are copies: the log does not keep the transport\'s read buffer', () => {
    const m: RaftMessage = { kind: 'append', term: 3, commit: 1, pterm: 2, pindex: 1, entries: [{ term: 3, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) }] };
    const wire = Buffer.from(encodeMessage(m));
    const read = Buffer.concat([Buffer.alloc(100), wire]).subarray(100);
    const d = decodeMessage(read);
    expect(d?.kind).toBe('append');
    const data = (d as Extract<RaftMessage, { kind: 'append' }>).entries[0].data;
    expect(data.buffer).not.toBe(read.buffer);
    read.fill(0);
    expect([...data]).toEqual([1, 2, 3]);
  });

  it('peer sets and peer ids of membership entries', () => {
    expect(decodePeers(encodePeers(['a', 'ünïcode', 'c']))).toEqual(['a', 'ünïcode', 'c']);
    expect(decodePeers(new Uint8Array([1, 0]))).toBeNull();
    expect(decodePeerIdData(new Uint8Array([0xff]))).toBeNull();
    expect(decodePeerIdData(new Uint8Array(0))).toBeNull();
  });

  it('a node fed random bytes never throws and counts them', () => {
    const storage = new MemoryRaftStorage();
    const node = new RaftNode({ id: 'a', peers: ['a', 'b', 'c'], storage, now: 0, random: () => 0.5 });
    let garbage = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), (b) => {
        if (decodeMessage(b) === null) garbage++;
        node.receive('b', b);
        node.ready();
      }),
      { numRuns: 3000 },
    );
    expect(node.malformed).toBe(garbage);
    expect(garbage).toBeGreaterThan(0);
  });
});
