/**
 * A real nats-server and embedded servers in one cluster, dialling in both directions, carrying
 * plain, queue and request/reply traffic between clients on either side. Run by
 * `npm run test:conformance` (it needs the nats-server binary: NATS_SERVER_BIN).
 */
import { describe, expect, it } from 'vitest';
import { type NatsConnection } from '@nats-io/transport-node';
import { type NatsServer } from '../../src/index.js';
import { clusterBlock, freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually, publishUntil } from '../helpers/eventually.js';
import { WireClient } from '../helpers/wire.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope();

interface Real {
  clientUrl: string;
  routeUrl: string;
}

async function realServer(name: string, routes: string[]): Promise<Real & { clusterPort: number }> {
  const [port, clusterPort] = [await freePort(), await freePort()];
  const real = await startRealServer(BIN, [
    `listen: "127.0.0.1:${port}"`,
    `server_name: ${name}`,
    ...clusterBlock(clusterPort, routes),
  ]);
  scope.defer(() => real.stop());
  return { clientUrl: `nats://127.0.0.1:${port}`, routeUrl: `nats-route://127.0.0.1:${clusterPort}`, clusterPort };
}

function embedded(name: string, routes: string[] = []): Promise<NatsServer> {
  return scope.server({ serverName: name, cluster: { name: 'C', routes, reconnectDelay: 100 } });
}

function client(url: string): Promise<NatsConnection> {
  return scope.client(url);
}

async function traffic(realUrl: string, embUrl: string): Promise<void> {
  const onReal = await client(realUrl);
  const onEmb = await client(embUrl);
  // Plain, both directions.
  let realGot = 0;
  let embGot = 0;
  onReal.subscribe('to.real', { callback: () => void realGot++ });
  onEmb.subscribe('to.emb', { callback: () => void embGot++ });
  await Promise.all([onReal.flush(), onEmb.flush()]);
  await publishUntil(onEmb, 'to.real', () => realGot > 0);
  await publishUntil(onReal, 'to.emb', () => embGot > 0);
  // Request/reply both ways.
  onReal.subscribe('svc.real', { callback: (_e, m) => void m.respond('from real') });
  onEmb.subscribe('svc.emb', { callback: (_e, m) => void m.respond('from embedded') });
  await Promise.all([onReal.flush(), onEmb.flush()]);
  const r1 = await retryRequest(onEmb, 'svc.real');
  const r2 = await retryRequest(onReal, 'svc.emb');
  expect([r1, r2]).toEqual(['from real', 'from embedded']);
  // A queue group with a member on each side: every message exactly once, both sides used.
  const counts = [0, 0];
  onReal.subscribe('q.work', { queue: 'g', callback: () => void counts[0]++ });
  onEmb.subscribe('q.work', { queue: 'g', callback: () => void counts[1]++ });
  await Promise.all([onReal.flush(), onEmb.flush()]);
  // Each server sent its RS+ (with the queue weight) to the route when it processed the SUB,
  // that is before the PONG of the flush above. A message sent over the same route after it
  // is processed after it: once a marker from each side has arrived on the other, both
  // servers know both queue members.
  const [realBefore, embBefore] = [realGot, embGot];
  onEmb.publish('to.real', 'marker');
  onReal.publish('to.emb', 'marker');
  await Promise.all([onReal.flush(), onEmb.flush()]);
  await eventually(() => realGot > realBefore && embGot > embBefore, 'the markers across the route', 10_000);
  const total = 400;
  for (let i = 0; i < total / 2; i++) {
    onReal.publish('q.work', '');
    onEmb.publish('q.work', '');
  }
  await Promise.all([onReal.flush(), onEmb.flush()]);
  await eventually(() => counts[0] + counts[1] >= total, 'all queue messages', 10_000);
  await Promise.all([onReal.flush(), onEmb.flush()]);
  expect(counts[0] + counts[1]).toBe(total);
  expect(counts[0]).toBeGreaterThan(0);
  expect(counts[1]).toBeGreaterThan(0);
}

/** Requests until a reply comes: the responder's interest crosses the route asynchronously. */
function retryRequest(nc: NatsConnection, subject: string): Promise<string> {
  return eventually(
    () => nc.request(subject, '', { timeout: 1000 }).then((m) => m.string(), () => undefined),
    `a reply on ${subject}`,
    10_000,
  );
}

describe('cluster interop with a real nats-server', () => {
  it('nats-server dials an embedded server', async () => {
    const emb = await embedded('emb-a');
    const real = await realServer('real-a', [emb.routeUrl!]);
    await eventually(() => emb.routes().some((r) => r.name === 'real-a'), 'route from nats-server', 10_000);
    await traffic(real.clientUrl, emb.url);
  });

  it('an embedded server dials nats-server', async () => {
    const real = await realServer('real-b', []);
    const emb = await embedded('emb-b', [real.routeUrl]);
    await eventually(() => emb.routes().some((r) => r.name === 'real-b'), 'route to nats-server', 10_000);
    await traffic(real.clientUrl, emb.url);
  });

  it('gossip completes a mesh of one nats-server and two embedded servers', async () => {
    const real = await realServer('real-c', []);
    const e1 = await embedded('emb-c1', [real.routeUrl]);
    const e2 = await embedded('emb-c2', [real.routeUrl]);
    await eventually(() => e1.routes().length === 2 && e2.routes().length === 2, 'full mesh via gossip', 10_000);
    expect(e1.routes().map((r) => r.name).sort()).toEqual(['emb-c2', 'real-c']);
    await traffic(real.clientUrl, e2.url);
  });
});

/**
 * A route INFO or CONNECT that Go's json.Unmarshal cannot decode into Info, ClientOpts or
 * connectInfo (client.go processInfo/processConnect, route.go processRouteConnect): nats-server's
 * read loop closes the route as a protocol violation and sends nothing; a CONNECT naming an
 * account is an authorization violation. Differences left: an INFO
 * without `server_id` (`{}`, `null`) registers a route with an empty id on nats-server and is
 * refused here; a CONNECT without `cluster` is refused by nats-server (cluster name "" does not
 * match) and taken here.
 */
describe('route INFO and CONNECT that Go cannot decode, against nats-server', () => {
  it('the same answer (none) and the same close', async () => {
    const r = await realServer('real-json', []);
    const e = await embedded('emb-json');
    const inputs = [
      ...['[1]', '1', '"s"', 'true', '{bad', '{"server_id":"X","port":"1"}'].map((j) => `INFO ${j}\r\n`),
      ...['[1]', '1', '"s"', 'false', '{bad', '{"verbose":"x"}', '{"name":"x","cluster":"C","lnoc":"yes"}'].map((j) => `CONNECT ${j}\r\n`),
    ];
    for (const input of inputs) {
      const theirs = await WireClient.answer(r.clusterPort, input);
      expect(theirs, `nats-server: ${input}`).toEqual({ text: '', closed: true });
      expect(await WireClient.answer(e.clusterPort, input), input).toEqual(theirs);
    }
    // client.go processConnect: an account designation is an authorization violation.
    for (const input of ['CONNECT {"name":"x","cluster":"C","account":"A"}\r\n', 'CONNECT {"name":"x","cluster":"C","new_account":true}\r\n']) {
      const theirs = await WireClient.answer(r.clusterPort, input);
      expect(theirs, `nats-server: ${input}`).toEqual({ text: "-ERR 'Authorization Violation'\r\n", closed: true });
      expect(await WireClient.answer(e.clusterPort, input), input).toEqual(theirs);
    }
  });
});
