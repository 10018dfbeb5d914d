/**
 * Service latency measurements against the real nats-server (NATS_SERVER_BIN, 2.9.10 here;
 * 2.10.29's ServiceLatency, shouldSample and sendTrackingLatency are the same):
 *
 * - side by side: the same accounts on a real nats-server and on nats-embedded, the same
 *   exchanges (a 200, a `share`d requestor, a "headers"-sampled request, a 400, a 503); the
 *   documents' shapes — every key path and the type of its value — and statuses must be equal
 *   (the values differ: ids, times, RTTs);
 * - across a route between the two: the requester's server merges the responder's server's half
 *   (`$SYS.LATENCY.M2.<hash>`), in both directions, so nats-embedded reads nats-server's half and
 *   nats-server reads nats-embedded's.
 *
 * Run by `npm run test:conformance`.
 */
import { describe, expect, it } from 'vitest';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { ServerOptions } from '../../src/index.js';
import { clusterBlock, freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope();

const ACCOUNTS = {
  A: {
    users: [{ user: 'a', password: 'a' }],
    exports: [
      { service: 'svc.>', latency: 'lat.svc' },
      { service: 'shared', latency: { sampling: 100, subject: 'lat.shared' } },
      { service: 'hdr', latency: { sampling: 'headers', subject: 'lat.hdr' } },
      { service: 'down', latency: 'lat.down' },
    ],
  },
  B: {
    users: [{ user: 'b', password: 'b' }],
    imports: [
      { service: { account: 'A', subject: 'svc.>' } },
      { service: { account: 'A', subject: 'shared' }, share: true },
      { service: { account: 'A', subject: 'hdr' } },
      { service: { account: 'A', subject: 'down' } },
    ],
  },
} satisfies ServerOptions['accounts'];

const ACCOUNTS_CONF = [
  'accounts {',
  '  A: { users: [{ user: a, password: a }], exports: [',
  '    { service: "svc.>", latency: "lat.svc" }',
  '    { service: "shared", latency: { sampling: 100, subject: "lat.shared" } }',
  '    { service: "hdr", latency: { sampling: "headers", subject: "lat.hdr" } }',
  '    { service: "down", latency: "lat.down" }',
  '  ] }',
  '  B: { users: [{ user: b, password: b }], imports: [',
  '    { service: { account: A, subject: "svc.>" } }',
  '    { service: { account: A, subject: "shared" }, share: true }',
  '    { service: { account: A, subject: "hdr" } }',
  '    { service: { account: A, subject: "down" } }',
  '  ] }',
  '}',
];

/** Every key path of a JSON value with the JSON type at it (`a.b: number`); arrays by their first element. */
function shape(v: unknown, path = ''): string[] {
  if (Array.isArray(v)) return [`${path}: array`, ...(v.length > 0 ? shape(v[0], `${path}[]`) : [])];
  if (v !== null && typeof v === 'object') {
    return [`${path}: object`, ...Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => shape(x, path === '' ? k : `${path}.${k}`))].sort();
  }
  return [`${path}: ${v === null ? 'null' : typeof v}`];
}

async function client(url: string, user: string, name: string): Promise<NatsConnection> {
  return scope.client(url, { user, pass: user, name, reconnect: false });
}

/** The same exchanges on one server; its measurements by results subject. */
async function exchanges(url: string): Promise<Map<string, Array<Record<string, unknown>>>> {
  const a = await client(url, 'a', 'responder');
  const b = await client(url, 'b', 'requester');
  const got = new Map<string, Array<Record<string, unknown>>>();
  a.subscribe('lat.>', {
    callback: (_e, m) => {
      const list = got.get(m.subject) ?? [];
      list.push(m.json<Record<string, unknown>>());
      got.set(m.subject, list);
    },
  });
  for (const s of ['svc.x', 'shared', 'hdr']) a.subscribe(s, { callback: (_e, m) => void m.respond('ok') });
  await a.flush();
  await b.request('svc.x', 'x', { timeout: 2000 });
  await b.request('shared', 'x', { timeout: 2000 });
  const h = headers();
  h.set('X-B3-TraceId', '80f198ee56343ba864fe8b2a57d3eff7');
  h.set('X-B3-SpanId', 'e457b5a2e4d86bd1');
  await b.request('hdr', 'x', { timeout: 2000, headers: h });
  b.publish('svc.x', 'no reply');
  void b.request('down', 'x', { timeout: 300 }).catch(() => undefined);
  await b.flush();
  await eventually(() => ['lat.svc', 'lat.shared', 'lat.hdr', 'lat.down'].every((s) => (got.get(s)?.length ?? 0) >= (s === 'lat.svc' ? 2 : 1)) || undefined, 'every measurement');
  return got;
}

describe('service latency measurements: nats-server and nats-embedded', () => {
  it('the same exchanges give documents of the same shape and status', async () => {
    const port = await freePort();
    const real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, ...ACCOUNTS_CONF]);
    scope.defer(() => real.stop());
    const emb = await scope.server({ accounts: ACCOUNTS });
    const [fromReal, fromEmb] = [await exchanges(`nats://127.0.0.1:${port}`), await exchanges(emb.url)];
    const view = (got: Map<string, Array<Record<string, unknown>>>): Record<string, Array<{ status: unknown; shape: string[] }>> =>
      Object.fromEntries([...got.entries()].sort(([x], [y]) => x.localeCompare(y)).map(([s, list]) => [s, list.map((m) => ({ status: m.status, shape: shape(m) }))]));
    expect(view(fromEmb)).toEqual(view(fromReal));
    // What the shapes hold, to read the comparison: the statuses, and the header that triggered one.
    expect(view(fromReal)['lat.svc']!.map((m) => m.status)).toEqual([200, 400]);
    expect(fromEmb.get('lat.hdr')![0]!.header).toEqual(fromReal.get('lat.hdr')![0]!.header);
  });
});

describe('service latency across a route between nats-server and nats-embedded', () => {
  it('either server as the requester\'s, the other as the responder\'s: one merged measurement naming the remote responder', async () => {
    const [port, clusterPort] = [await freePort(), await freePort()];
    const real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, 'server_name: real', ...clusterBlock(clusterPort), ...ACCOUNTS_CONF]);
    scope.defer(() => real.stop());
    const emb = await scope.server({ serverName: 'emb', accounts: ACCOUNTS, cluster: { name: 'C', routes: [`nats-route://127.0.0.1:${clusterPort}`], reconnectDelay: 100 } });
    const realUrl = `nats://127.0.0.1:${port}`;
    const got: Record<string, Array<Record<string, unknown>>> = { real: [], emb: [] };
    // Each measurement is published on the requester's server, in A: listen on both.
    (await client(realUrl, 'a', 'listener')).subscribe('lat.svc', { callback: (_e, m) => void got.real.push(m.json<Record<string, unknown>>()) });
    (await client(emb.url, 'a', 'listener')).subscribe('lat.svc', { callback: (_e, m) => void got.emb.push(m.json<Record<string, unknown>>()) });
    (await client(realUrl, 'a', 'real-responder')).subscribe('svc.real', { callback: (_e, m) => void m.respond('from real') });
    (await client(emb.url, 'a', 'emb-responder')).subscribe('svc.emb', { callback: (_e, m) => void m.respond('from embedded') });
    const bEmb = await client(emb.url, 'b', 'requester');
    const bReal = await client(realUrl, 'b', 'requester');
    const ask = (nc: NatsConnection, subject: string): Promise<unknown> =>
      eventually(async () => (await nc.request(subject, 'hi', { timeout: 500 }).then(() => true, () => false)) || undefined, `a response on ${subject}`, 10_000);
    await ask(bEmb, 'svc.real');
    await ask(bReal, 'svc.emb');
    const embMerged = await eventually(() => got.emb.find((m) => (m.responder as Record<string, unknown> | undefined)?.server === 'real'), 'nats-embedded\'s merged measurement', 10_000);
    const realMerged = await eventually(() => got.real.find((m) => (m.responder as Record<string, unknown> | undefined)?.server === 'emb'), 'nats-server\'s merged measurement', 10_000);
    expect(embMerged).toMatchObject({ status: 200, requestor: { acc: 'B' }, responder: { acc: 'A', name: 'real-responder' } });
    expect(realMerged).toMatchObject({ status: 200, requestor: { acc: 'B' }, responder: { acc: 'A', name: 'emb-responder' } });
    expect(shape(embMerged)).toEqual(shape(realMerged));
  });
});
