/**
 * Service latency tracking of account exports (nats-server's export `latency`), with the
 * official client: a sampled request through a service import makes the exporting account
 * receive a `ServiceLatency` JSON on the results subject — 200 with the requestor and responder
 * once the response came, or the error statuses (400 no reply subject, 408 the requester went
 * away, 503 nobody took the request, 504 the response threshold passed). Runs on both backends
 * (`npm run test:conformance` runs it again on the nats-server backend), so every assertion here
 * is what nats-server 2.9.10 does too; test/conformance/latency-shape.test.ts compares the
 * documents' shapes side by side.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { headers, jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { createAccount } from '@nats-io/nkeys';
import type { NatsServer, ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { makeAccount, makeOperator, makeUser, publicKeyOf } from '../helpers/jwt.js';

const OPTIONS = {
  accounts: {
    A: {
      users: [{ user: 'a', password: 'a' }],
      exports: [
        { service: 'svc.full', latency: 'lat.full' },
        { service: 'svc.hdr', latency: { sampling: 'headers', subject: 'lat.hdr' } },
        { service: 'svc.share', latency: { sampling: 100, subject: 'lat.share' } },
        { service: 'svc.down', latency: 'lat.down' },
        { service: 'svc.slow', latency: 'lat.slow', responseThreshold: '300ms' },
        { service: 'svc.gone', latency: 'lat.gone' },
        { service: 'svc.plain' },
      ],
    },
    B: {
      users: [{ user: 'b', password: 'b' }],
      imports: [
        { service: { account: 'A', subject: 'svc.full' } },
        { service: { account: 'A', subject: 'svc.hdr' } },
        { service: { account: 'A', subject: 'svc.share' }, share: true },
        { service: { account: 'A', subject: 'svc.down' } },
        { service: { account: 'A', subject: 'svc.slow' } },
        { service: { account: 'A', subject: 'svc.gone' } },
        { service: { account: 'A', subject: 'svc.plain' } },
      ],
    },
  },
} satisfies ServerOptions;

const scope = useScope('file');
let server: NatsServer;
let a: NatsConnection;
let b: NatsConnection;
/** Every latency document the exporting account received, by results subject. */
const got = new Map<string, Array<Record<string, unknown>>>();

beforeAll(async () => {
  server = await scope.server(OPTIONS);
  a = await scope.client(server, { user: 'a', pass: 'a', name: 'the-responder' });
  b = await scope.client(server, { user: 'b', pass: 'b', name: 'the-requester' });
  a.subscribe('lat.>', {
    callback: (_e, m) => {
      const list = got.get(m.subject) ?? [];
      list.push(m.json<Record<string, unknown>>());
      got.set(m.subject, list);
    },
  });
  for (const s of ['svc.full', 'svc.hdr', 'svc.share', 'svc.plain']) a.subscribe(s, { callback: (_e, m) => void m.respond('ok') });
  // Take the request and never answer.
  a.subscribe('svc.slow', { callback: () => undefined });
  a.subscribe('svc.gone', { callback: () => undefined });
  await a.flush();
});

/** The documents on `subject` once there are `n`. */
async function measurements(subject: string, n: number, timeoutMs = 5000): Promise<Array<Record<string, unknown>>> {
  return eventually(() => ((got.get(subject)?.length ?? 0) >= n ? got.get(subject)! : undefined), `${n} measurements on ${subject}`, timeoutMs);
}

function expectEnvelope(m: Record<string, unknown>, status: number): void {
  expect(m.type).toBe('io.nats.server.metric.v1.service_latency');
  expect(m.status).toBe(status);
  expect(m.id).toMatch(/^[0-9A-Za-z]{22}$/);
  expect(Date.parse(m.timestamp as string)).not.toBeNaN();
  expect(Date.parse(m.start as string)).not.toBeNaN();
  for (const k of ['service', 'system', 'total']) {
    expect(Number.isInteger(m[k]), k).toBe(true);
    expect(m[k] as number, k).toBeGreaterThanOrEqual(0);
  }
}

describe('service latency tracking', () => {
  it('a sampled request (the short form: every request) gets a 200 measurement with the requestor, the responder and the latencies', async () => {
    for (let i = 0; i < 5; i++) expect((await b.request('svc.full', 'x', { timeout: 2000 })).string()).toBe('ok');
    const list = await measurements('lat.full', 5);
    expect(list).toHaveLength(5);
    for (const m of list) {
      expectEnvelope(m, 200);
      expect(Object.keys(m).sort()).toEqual(['id', 'requestor', 'responder', 'service', 'start', 'status', 'system', 'timestamp', 'total', 'type']);
      // Not shared: the requester's account and RTT only.
      const req = m.requestor as Record<string, unknown>;
      expect(req.acc).toBe('B');
      expect(req.name).toBeUndefined();
      expect(req.rtt as number).toBeGreaterThan(0);
      const resp = m.responder as Record<string, unknown>;
      expect(resp).toMatchObject({ acc: 'A', name: 'the-responder', user: 'a', kind: 'Client', client_type: 'nats' });
      expect(typeof resp.server).toBe('string');
      expect(m.total as number).toBeGreaterThanOrEqual(m.service as number);
      expect(Date.parse(m.start as string)).toBeLessThanOrEqual(Date.parse(m.timestamp as string));
    }
  });

  it('the responder sees a tracked reply subject (`.<server hash>.T`)', async () => {
    const sub = a.subscribe('svc.full', { max: 1 });
    const seen = (async () => {
      for await (const m of sub) return m.reply ?? '';
      return '';
    })();
    await a.flush();
    await b.request('svc.full', 'x', { timeout: 2000 });
    expect(await seen).toMatch(/^_R_\.[0-9A-Za-z]{6}\.[0-9A-Za-z]{6}\.[0-9A-Za-z]{8}\.T$/);
  });

  it('with `share` on the import, the requestor has the requester\'s details', async () => {
    await b.request('svc.share', 'x', { timeout: 2000 });
    const [m] = await measurements('lat.share', 1);
    expectEnvelope(m!, 200);
    expect(m!.requestor).toMatchObject({ acc: 'B', name: 'the-requester', user: 'b', kind: 'Client' });
    expect(typeof (m!.requestor as Record<string, unknown>).server).toBe('string');
  });

  it('"headers" sampling measures only the requests whose tracing headers ask for it, and reports those headers', async () => {
    const trace = (pairs: Record<string, string>): ReturnType<typeof headers> => {
      const h = headers();
      for (const [k, v] of Object.entries(pairs)) h.set(k, v);
      return h;
    };
    // Not measured: no headers, a traceparent not sampled, X-B3-Sampled 0, an Uber trace with an even flag.
    await b.request('svc.hdr', 'x', { timeout: 2000 });
    await b.request('svc.hdr', 'x', { timeout: 2000, headers: trace({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' }) });
    await b.request('svc.hdr', 'x', { timeout: 2000, headers: trace({ 'X-B3-Sampled': '0', 'X-B3-TraceId': '80f198ee56343ba864fe8b2a57d3eff7' }) });
    await b.request('svc.hdr', 'x', { timeout: 2000, headers: trace({ 'uber-trace-id': '479fefe9525eddb:5adb976bfc1f95c1:479fefe9525eddb:0' }) });
    // Measured.
    await b.request('svc.hdr', 'x', { timeout: 2000, headers: trace({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'k=v' }) });
    await b.request('svc.hdr', 'x', { timeout: 2000, headers: trace({ 'uber-trace-id': '479fefe9525eddb:5adb976bfc1f95c1:479fefe9525eddb:1', 'uberctx-user': 'u1' }) });
    const list = await measurements('lat.hdr', 2);
    await b.request('svc.full', 'x', { timeout: 2000 });
    await measurements('lat.full', 7);
    expect(list).toHaveLength(2);
    expect(list.map((m) => m.header)).toEqual([
      { Traceparent: ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'], Tracestate: ['k=v'] },
      { 'Uber-Trace-Id': ['479fefe9525eddb:5adb976bfc1f95c1:479fefe9525eddb:1'], 'Uberctx-User': ['u1'] },
    ]);
    for (const m of list) expectEnvelope(m, 200);
  });

  it('an export without latency sends nothing', async () => {
    const before = [...got.values()].reduce((n, l) => n + l.length, 0);
    const full = got.get('lat.full')?.length ?? 0;
    await b.request('svc.plain', 'x', { timeout: 2000 });
    // A tracked request after it: once its measurement is in, one for svc.plain would be too.
    await b.request('svc.full', 'x', { timeout: 2000 });
    await measurements('lat.full', full + 1);
    expect([...got.values()].reduce((n, l) => n + l.length, 0)).toBe(before + 1);
  });

  it('a request without a reply subject: 400 Bad Request, with the requestor', async () => {
    b.publish('svc.full', 'no reply');
    await b.flush();
    const m = await eventually(() => got.get('lat.full')?.find((x) => x.status === 400), 'a 400');
    expectEnvelope(m, 400);
    expect(m.description).toBe('Bad Request');
    expect((m.requestor as Record<string, unknown>).acc).toBe('B');
    expect(m.responder).toBeUndefined();
  });

  it('nobody takes the request: 503 Service Unavailable', async () => {
    // nats-embedded answers no-responders at once (2.10); 2.9.10 lets the request time out.
    void b.request('svc.down', 'x', { timeout: 300 }).catch(() => undefined);
    const [m] = await measurements('lat.down', 1);
    expectEnvelope(m!, 503);
    expect(m!.description).toBe('Service Unavailable');
    expect((m!.requestor as Record<string, unknown>).acc).toBe('B');
    expect(m!.responder).toBeUndefined();
  });

  it('no response within the export\'s response threshold: 504 Service Timeout', async () => {
    void b.request('svc.slow', 'x', { timeout: 200 }).catch(() => undefined);
    const [m] = await measurements('lat.slow', 1, 3000);
    expectEnvelope(m!, 504);
    expect(m!.description).toBe('Service Timeout');
  });

  it('the requester\'s reply subscription goes before the response: 408 Request Timeout', async () => {
    const inbox = b.subscribe('reply.once');
    await b.flush();
    b.publish('svc.gone', 'x', { reply: 'reply.once' });
    await b.flush();
    inbox.unsubscribe();
    await b.flush();
    const [m] = await measurements('lat.gone', 1);
    expectEnvelope(m!, 408);
    expect(m!.description).toBe('Request Timeout');
    expect((m!.requestor as Record<string, unknown>).acc).toBe('B');
  });
});

describe('service latency tracking from account JWTs (operator mode)', () => {
  it('an export\'s `service_latency` measures the requests of an import with `share`; one nats-server cannot track (a streamed service) is served without', async () => {
    const op = makeOperator();
    const sys = makeAccount(op.kp);
    const expKp = createAccount();
    const impKp = createAccount();
    const EXP = publicKeyOf(expKp);
    const exporter = makeAccount(op.kp, {
      exports: [
        { name: 'svc', subject: 'jsvc.>', type: 'service', service_latency: { sampling: 100, results: 'jlat.svc' } },
        { name: 'streamed', subject: 'jstreamed', type: 'service', response_type: 'Stream', service_latency: { sampling: 100, results: 'jlat.streamed' } },
      ],
    }, { name: 'EXP' }, expKp);
    const importer = makeAccount(op.kp, {
      imports: [
        { subject: 'jsvc.>', account: EXP, type: 'service', share: true },
        { subject: 'jstreamed', account: EXP, type: 'service' },
      ],
    }, { name: 'IMP' }, impKp);
    const s = await scope.server({
      operator: op.jwt, systemAccount: sys.pub, resolver: 'MEMORY',
      resolverPreload: Object.fromEntries([sys, exporter, importer].map((x) => [x.pub, x.jwt])),
    });
    const e = await scope.client(s, { reconnect: false, name: 'jwt-responder', authenticator: jwtAuthenticator(makeUser(expKp, { bearer_token: true }).jwt) });
    const i = await scope.client(s, { reconnect: false, name: 'jwt-requester', authenticator: jwtAuthenticator(makeUser(impKp, { bearer_token: true }).jwt) });
    const seen: Array<{ subject: string; m: Record<string, unknown> }> = [];
    e.subscribe('jlat.>', { callback: (_e, m) => void seen.push({ subject: m.subject, m: m.json<Record<string, unknown>>() }) });
    e.subscribe('jsvc.>', { callback: (_e, m) => void m.respond('ok') });
    e.subscribe('jstreamed', { callback: (_e, m) => void m.respond('ok') });
    await e.flush();
    expect((await i.request('jstreamed', 'x', { timeout: 2000 })).string()).toBe('ok');
    expect((await i.request('jsvc.a', 'x', { timeout: 2000 })).string()).toBe('ok');
    await eventually(() => seen.length >= 1 || undefined, 'a measurement');
    await e.flush();
    expect(seen.map((x) => x.subject)).toEqual(['jlat.svc']);
    expect(seen[0]!.m).toMatchObject({ status: 200, requestor: { acc: impKp.getPublicKey(), name: 'jwt-requester' }, responder: { acc: EXP, name: 'jwt-responder' } });
  });
});
