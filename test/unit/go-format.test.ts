import { describe, expect, it } from 'vitest';
import {
  goDuration,
  goIndent,
  goJson,
  goQuote,
  goUptime,
  parseGoBool,
  parseGoInt,
  parseGoUint,
  rfc3339Nano,
  writeRfc3339Nano,
} from '../../src/protocol/go-format.js';
import { ClosedRing } from '../../src/broker/closed.js';
import { peerIp, type ConnSnapshot } from '../../src/broker/snapshot.js';

describe('goDuration (Go time.Duration.String)', () => {
  it.each([
    [0, '0s'],
    [1, '1ns'],
    [999, '999ns'],
    [1_000, '1µs'],
    [1_500, '1.5µs'],
    [262_000, '262µs'],
    [1_000_000, '1ms'],
    [1_500_000, '1.5ms'],
    [1_234_567, '1.234567ms'],
    [1_000_000_000, '1s'],
    [45_000_000_000, '45s'],
    [1_500_000_000, '1.5s'],
    [62_000_000_000, '1m2s'],
    [60_000_000_000, '1m0s'],
    [3_723_500_000_000, '1h2m3.5s'],
    [72 * 3_600_000_000_000, '72h0m0s'],
    [-1_500_000, '-1.5ms'],
  ])('%d ns → %s', (ns, text) => {
    expect(goDuration(ns)).toBe(text);
  });
});

describe('goUptime (nats-server myUptime)', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [45_000, '45s'],
    [62_000, '1m2s'],
    [3_600_000, '1h0m0s'],
    [90_061_000, '1d1h1m1s'],
    [365 * 86_400_000, '1y0d0h0m0s'],
    [-5_000, '0s'],
  ])('%d ms → %s', (ms, text) => {
    expect(goUptime(ms)).toBe(text);
  });
});

describe('rfc3339Nano', () => {
  it('drops trailing zeros of the fraction, and the fraction when zero', () => {
    expect(rfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5, 600))).toBe('2026-01-02T03:04:05.6Z');
    expect(rfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5, 123))).toBe('2026-01-02T03:04:05.123Z');
    expect(rfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5, 0))).toBe('2026-01-02T03:04:05Z');
  });

  it('writes the fraction of a millisecond as nanoseconds (JetStream message times)', () => {
    expect(rfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5, 678) + 0.25)).toBe('2026-01-02T03:04:05.67825Z');
    expect(rfc3339Nano(Date.UTC(2026, 0, 2, 3, 4, 5, 0) + 0.5)).toBe('2026-01-02T03:04:05.0005Z');
    expect(rfc3339Nano(0)).toBe('1970-01-01T00:00:00Z');
  });
});

describe('writeRfc3339Nano (the same text written into a buffer)', () => {
  const written = (ms: number, at = 3): string => {
    const buf = Buffer.alloc(48, 0x2d);
    const end = writeRfc3339Nano(buf, at, ms);
    expect(buf.subarray(0, at).toString('latin1')).toBe('-'.repeat(at)); // nothing before `at` touched
    return buf.toString('latin1', at, end);
  };

  it('writes what rfc3339Nano returns, and returns the offset after it', () => {
    for (const ms of [
      0, 0.5, 999.999999, 1000, Date.UTC(2026, 0, 2, 3, 4, 5, 600), Date.UTC(2026, 0, 2, 3, 4, 5, 678) + 0.25,
      Date.UTC(2026, 0, 2, 3, 4, 5, 0), Date.UTC(2026, 0, 2, 3, 4, 5, 0) + 0.000001, -1, -1500.25, Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 0.999999,
    ]) expect(written(ms), String(ms)).toBe(rfc3339Nano(ms));
  });

  it('agrees with rfc3339Nano over consecutive and random times (the cached second is reused and replaced)', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const base = Date.UTC(2026, 10, 30, 6, 59, 59, 990);
    for (let i = 0; i < 2000; i++) {
      const ms = i < 1000 ? base + i * 0.0371 + i : base + (rnd() - 0.5) * 1e11 + rnd();
      expect(written(ms, i % 5)).toBe(rfc3339Nano(ms));
    }
  });
});

describe('goJson', () => {
  it('indents by two spaces and escapes <, >, & as Go does', () => {
    expect(goJson({ a: 'foo.>', b: [], c: {}, d: [1] })).toBe(
      '{\n  "a": "foo.\\u003e",\n  "b": [],\n  "c": {},\n  "d": [\n    1\n  ]\n}',
    );
    expect(goJson({ s: '<&>' }, false)).toBe('{"s":"\\u003c\\u0026\\u003e"}');
  });
});

describe('goIndent (json.Indent)', () => {
  it('lays out compact JSON as json.MarshalIndent does, strings untouched', () => {
    const docs: unknown[] = [
      { a: 1, b: [], c: {}, d: [1, { x: 'a"b,:{}[] \\', y: [[]] }], e: '<&>' },
      [], {}, 's', 5, [{}], { k: [1, 2], n: null, t: true },
    ];
    for (const d of docs) expect(goIndent(goJson(d, false))).toBe(goJson(d));
  });

  it('keeps integers JSON.stringify cannot write', () => {
    expect(goIndent('{"max":18446744073709551615,"c":{"x":-9223372036854775808}}')).toBe(
      '{\n  "max": 18446744073709551615,\n  "c": {\n    "x": -9223372036854775808\n  }\n}',
    );
  });
});

describe('strconv parsers', () => {
  it('ParseBool accepts exactly Go’s spellings', () => {
    for (const t of ['1', 't', 'T', 'true', 'TRUE', 'True']) expect(parseGoBool(t)).toEqual({ ok: true, value: true });
    for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False']) expect(parseGoBool(f)).toEqual({ ok: true, value: false });
    expect(parseGoBool('yes')).toEqual({ ok: false, error: 'strconv.ParseBool: parsing "yes": invalid syntax' });
  });

  it('Atoi and ParseUint with Go’s error texts', () => {
    expect(parseGoInt('+12')).toEqual({ ok: true, value: 12 });
    expect(parseGoInt('-3')).toEqual({ ok: true, value: -3 });
    expect(parseGoInt('1.5')).toEqual({ ok: false, error: 'strconv.Atoi: parsing "1.5": invalid syntax' });
    expect(parseGoInt('99999999999999999999')).toEqual({
      ok: false,
      error: 'strconv.Atoi: parsing "99999999999999999999": value out of range',
    });
    expect(parseGoUint('7')).toEqual({ ok: true, value: 7 });
    expect(parseGoUint('-1')).toEqual({ ok: false, error: 'strconv.ParseUint: parsing "-1": invalid syntax' });
    expect(goQuote('a"b\n')).toBe('"a\\"b\\n"');
  });
});

describe('ClosedRing', () => {
  function fake(cid: number): ConnSnapshot {
    return {
      cid, account: '$G', ip: peerIp('::ffff:10.0.0.1'), port: 5, start: 1, lastActivity: 2, rttNs: 0, pendingBytes: 0,
      inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0, numSubs: 0, name: '', lang: '', version: '', subs: [],
    };
  }

  it('keeps the newest `max` entries, oldest first', () => {
    const ring = new ClosedRing(3);
    for (let cid = 1; cid <= 5; cid++) ring.record(fake(cid), 'Client Closed');
    expect(ring.list().map((c) => c.cid)).toEqual([3, 4, 5]);
    expect(ring.totalClosed).toBe(5);
    expect(ring.list()[0].ip).toBe('10.0.0.1');
    expect(ring.list()[0].reason).toBe('Client Closed');
    ring.record(fake(6), 'Client Closed');
    expect(ring.list().map((c) => c.cid)).toEqual([4, 5, 6]);
  });
});
