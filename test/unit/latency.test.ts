/**
 * Latency tracking's pure parts (broker/latency.ts) and its option checks: which requests are
 * sampled (nats-server's shouldSample: the rate drawn as `rand.Int31n(100) <= sampling`, then the
 * tracing headers), what a measurement's JSON holds, how a remote half is merged, and the
 * `latency` / `share` options refused as nats-server refuses them at startup.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PubArg } from '../../src/protocol/parser.js';
import { canonicalHeaderKey, latencyJson, merge, newLatency, parseHeaders, SAMPLED, sampleByHeaders, shouldSample } from '../../src/broker/latency.js';
import { resolveOptions, type ServerOptions } from '../../src/config/options.js';
import { ConfigError } from '../../src/errors.js';

/** A request with these headers (HPUB), as the parser hands it over. */
function request(hdrs: Record<string, string> | null): { pa: PubArg; buf: Buffer } {
  const pa = new PubArg();
  pa.subject = 'svc';
  if (hdrs === null) {
    pa.hdr = -1;
    pa.size = 1;
    return { pa, buf: Buffer.from('x') };
  }
  const head = `NATS/1.0\r\n${Object.entries(hdrs).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  pa.hdr = head.length;
  pa.size = head.length + 1;
  return { pa, buf: Buffer.from(`${head}x`, 'latin1') };
}

describe('sampling', () => {
  it('a rate of n percent takes the draws 0..n of 0..99 (nats-server\'s `<=`), 100 takes all', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), (n) => {
      const { pa, buf } = request(null);
      let taken = 0;
      // Each draw d of 0..99 (mid-interval: `Math.random() * 100` floors to d).
      for (let d = 0; d < 100; d++) if (shouldSample({ sampling: n, subject: 'r' }, pa, buf, 0, () => (d + 0.5) / 100) !== null) taken++;
      expect(taken).toBe(Math.min(n + 1, 100));
    }));
  });

  it('"headers" (0) takes no request without tracing headers, whatever the draw', () => {
    const { pa, buf } = request(null);
    for (let d = 0; d < 100; d++) expect(shouldSample({ sampling: 0, subject: 'r' }, pa, buf, 0, () => d / 100)).toBeNull();
    const other = request({ 'X-Other': '1' });
    expect(shouldSample({ sampling: 0, subject: 'r' }, other.pa, other.buf, 0)).toBeNull();
  });

  it('a rate that did not take the request still lets tracing headers ask for it', () => {
    const { pa, buf } = request({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    expect(shouldSample({ sampling: 10, subject: 'r' }, pa, buf, 0, () => 0.99)).toEqual({ Traceparent: ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'] });
    expect(shouldSample({ sampling: 10, subject: 'r' }, pa, buf, 0, () => 0)).toBe(SAMPLED);
  });

  const UBER = '479fefe9525eddb:5adb976bfc1f95c1:479fefe9525eddb';
  it.each<[string, Record<string, string>, Record<string, string[]> | null]>([
    ['Uber, odd flags', { 'uber-trace-id': `${UBER}:1`, 'uberctx-a': 'x', other: 'y' }, { 'Uber-Trace-Id': [`${UBER}:1`], 'Uberctx-A': ['x'] }],
    ['Uber, two hex digits, odd', { 'Uber-Trace-Id': `${UBER}:0f` }, { 'Uber-Trace-Id': [`${UBER}:0f`] }],
    ['Uber, even flags', { 'Uber-Trace-Id': `${UBER}:2` }, null],
    ['Uber, bad hex', { 'Uber-Trace-Id': `${UBER}:zz` }, null],
    ['Uber, three tokens', { 'Uber-Trace-Id': 'a:b:1' }, null],
    ['B3 sampled 1', { 'X-B3-Sampled': '1', 'X-B3-TraceId': 't', 'X-B3-SpanId': 's', 'X-B3-ParentSpanId': 'p' }, { 'X-B3-Parentspanid': ['p'], 'X-B3-Sampled': ['1'], 'X-B3-Spanid': ['s'], 'X-B3-Traceid': ['t'] }],
    ['B3 sampled 0 wins over a trace id', { 'X-B3-Sampled': '0', 'X-B3-TraceId': 't' }, null],
    ['B3 trace id alone', { 'x-b3-traceid': 't' }, { 'X-B3-Traceid': ['t'] }],
    ['single B3, sampled', { b3: 'a-b-1-c' }, { B3: ['a-b-1-c'] }],
    ['single B3 without a decision', { b3: 'a-b' }, { B3: ['a-b'] }],
    ['single B3, denied', { b3: 'a-b-0' }, null],
    ['single B3 "0"', { b3: '0' }, null],
    ['traceparent 01 with tracestate', { traceparent: '00-t-s-01', tracestate: 'k=v' }, { Traceparent: ['00-t-s-01'], Tracestate: ['k=v'] }],
    ['traceparent 00', { traceparent: '00-t-s-00' }, null],
  ])('headers: %s', (_what, hdrs, expected) => {
    const { pa, buf } = request(hdrs);
    expect(shouldSample({ sampling: 0, subject: 'r' }, pa, buf, 0)).toEqual(expected);
  });

  it('a malformed header block has no headers (textproto fails), so nothing asks', () => {
    expect(sampleByHeaders(parseHeaders('NATS/1.0\r\ntraceparent: 00-t-s-01\r\nnot a header\r\n\r\n'))).toBeNull();
  });

  it('header keys are Go\'s canonical MIME keys', () => {
    expect(['x-b3-traceid', 'UBER-TRACE-ID', 'traceparent', 'with space'].map(canonicalHeaderKey)).toEqual(['X-B3-Traceid', 'Uber-Trace-Id', 'Traceparent', 'with space']);
  });
});

describe('measurements', () => {
  it('the JSON has Go\'s field order and leaves out the empty optional fields', () => {
    const sl = newLatency(503, 'Service Unavailable');
    sl.requestor = { acc: 'B', rtt: 5 };
    sl.startMs = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
    expect(Object.keys(latencyJson(sl, 'id', Date.now()))).toEqual(['type', 'id', 'timestamp', 'status', 'description', 'requestor', 'start', 'service', 'system', 'total']);
    const ok = newLatency(200, '');
    ok.requestor = { acc: 'B' };
    ok.responder = { acc: 'A' };
    ok.header = { Traceparent: ['x'] };
    expect(Object.keys(latencyJson(ok, 'id', Date.now()))).toEqual(['type', 'id', 'timestamp', 'status', 'requestor', 'responder', 'header', 'start', 'service', 'system', 'total']);
  });

  it('a remote half: service time and responder from it, the rest of the requester\'s service time is system time', () => {
    const m1 = newLatency(200, '');
    m1.serviceNs = 10_000;
    m1.totalNs = 12_000;
    const m2 = newLatency(200, '');
    m2.serviceNs = 6_000;
    m2.responder = { acc: 'A', rtt: 1_000 };
    merge(m1, m2);
    expect([m1.serviceNs, m1.systemNs, m1.totalNs, m1.responder]).toEqual([6_000, 3_000, 12_000, { acc: 'A', rtt: 1_000 }]);
    // Estimated RTTs may exceed the measured time: never negative.
    const m3 = newLatency(200, '');
    m3.serviceNs = 1_000;
    merge(m3, m2);
    expect(m3.systemNs).toBe(0);
  });
});

describe('latency options', () => {
  const withExport = (e: Record<string, unknown>, imports: Array<Record<string, unknown>> = []): ServerOptions => ({
    accounts: { A: { exports: [e as never] }, B: { imports: imports as never } },
  });
  const refusal = (o: ServerOptions): string => {
    try {
      resolveOptions(o);
      return 'accepted';
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
  };

  it('the short form and the full one resolve to a rate and a subject', () => {
    const r = resolveOptions(withExport({ service: 's', latency: 'lat' }, [{ service: { account: 'A', subject: 's' }, share: true }]));
    expect(r.accountLinks.A!.exports[0]!.latency).toEqual({ sampling: 100, subject: 'lat' });
    expect(r.accountLinks.B!.imports[0]!.share).toBe(true);
    expect(resolveOptions(withExport({ service: 's', latency: { sampling: 'headers', subject: 'lat' } })).accountLinks.A!.exports[0]!.latency).toEqual({ sampling: 0, subject: 'lat' });
    expect(resolveOptions(withExport({ service: 's', latency: { subject: 'lat' } })).accountLinks.A!.exports[0]!.latency).toEqual({ sampling: 100, subject: 'lat' });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a rate of 0', { service: 's', latency: { sampling: 0, subject: 'lat' } }, 'bad sampling percentage, should be 1-100'],
    ['a rate above 100', { service: 's', latency: { sampling: 101, subject: 'lat' } }, 'bad sampling percentage, should be 1-100'],
    ['a fractional rate', { service: 's', latency: { sampling: 2.5, subject: 'lat' } }, 'bad sampling percentage, should be 1-100'],
    ['no subject', { service: 's', latency: { sampling: 5 } }, 'Latency subject required, but missing'],
    ['an unknown key', { service: 's', latency: { subject: 'lat', rate: 5 } }, 'rate'],
    ['a wildcard results subject', { service: 's', latency: 'lat.>' }, 'Error adding service latency sampling for "s" on subject "lat.>": invalid publish subject'],
    ['results on the export itself', { service: 's.>', latency: 's.lat' }, 'Error adding service latency sampling for "s.>" on subject "s.lat": invalid publish subject'],
    ['a streamed service', { service: 's', responseType: 'stream', latency: 'lat' }, 'Error adding service latency sampling for "s" on subject "lat": bad service response type'],
    ['latency on a stream export', { stream: 's', latency: 'lat' }, 'latency'],
  ])('refused: %s', (_what, e, words) => {
    expect(refusal(withExport(e))).toContain(words);
  });

  it('refused with noSystemAccount: the results need the system account (nats-server 2.9.10 says the same)', () => {
    expect(refusal({ ...withExport({ service: 's', latency: 'lat' }), noSystemAccount: true })).toContain('Error adding service latency sampling for "s": system account not setup');
    expect(refusal({ ...withExport({ service: 's', latency: 'lat' }), noSystemAccount: true, systemAccount: 'B' })).toBe('accepted');
  });

  it('refused: a `share` that is not a boolean', () => {
    expect(refusal(withExport({ service: 's' }, [{ service: { account: 'A', subject: 's' }, share: 'yes' }]))).toContain('share');
  });
});
