/**
 * The pure wire forms of mirrors and sources (sourcing-wire.ts) against nats-server v2.10.29's
 * stream.go: index names (composeIName), reading back each version of the Nats-Stream-Source
 * header (streamAndSeq: the 2.10 form, the 2.9 form, the pre-2.9 ack reply), getHash.
 */
import { describe, expect, it } from 'vitest';
import { getHash, sourceIndexName, streamAndSeq, stripHeaders } from '../../src/jetstream/sourcing-wire.js';

describe('sourcing wire forms', () => {
  it('getHash is nats-server\'s (verified: 2.9.10 wrote `O:HJXnVj96 1` for the API prefix $X.API)', () => {
    expect(getHash('$X.API')).toBe('HJXnVj96');
    expect(getHash('$X.API')).toMatch(/^[0-9A-Za-z]{8}$/);
  });

  it('index names: name (with the API prefix hash when external), filters, destinations', () => {
    const base = { name: 'O', opt_start_seq: 0, filter_subject: '' };
    expect(sourceIndexName(base)).toBe('O > >');
    expect(sourceIndexName({ ...base, filter_subject: 'o.a' })).toBe('O o.a >');
    expect(sourceIndexName({ ...base, subject_transforms: [{ src: 'a.*', dest: 'x.{{wildcard(1)}}' }, { src: '', dest: '' }] }))
      .toBe('O a.*\f> x.{{wildcard(1)}}\f>');
    expect(sourceIndexName({ ...base, external: { api: '$X.API', deliver: '' } })).toBe('O:HJXnVj96 > >');
  });

  it('reads back the 2.10, 2.9 and ack-reply forms of Nats-Stream-Source', () => {
    expect(streamAndSeq('O 12 o.a >')).toEqual({ stream: 'O', iname: 'O o.a >', seq: 12 });
    expect(streamAndSeq('O 12')).toEqual({ stream: 'O', iname: '', seq: 12 });
    expect(streamAndSeq('$JS.ACK.O.c.1.7.7.1700000000000000000.0')).toEqual({ stream: 'O', iname: '', seq: 7 });
    expect(streamAndSeq('O')).toEqual({ stream: '', iname: '', seq: 0 });
    expect(streamAndSeq('O 1 x')).toEqual({ stream: '', iname: '', seq: 0 });
    expect(streamAndSeq('$JS.ACK.O.c.1')).toEqual({ stream: '', iname: '', seq: 0 });
  });

  it('strips a header and a header prefix, keeping the rest in order', () => {
    const hdr = Buffer.from('NATS/1.0\r\nA: 1\r\nNats-Stream-Source: P 3\r\nNats-Expected-Stream: X\r\nB: 2\r\n\r\n', 'latin1');
    expect(stripHeaders(hdr, 'Nats-Stream-Source', 'Nats-Expected-')).toBe('NATS/1.0\r\nA: 1\r\nB: 2');
  });
});
