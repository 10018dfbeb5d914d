/**
 * A real nats-server and embedded servers in one cluster, dialling in both directions, carrying
 * plain, queue and request/reply traffic between clients on either side. Run by
 * `npm run test:conformance` (it needs the nats-server binary: NATS_SERVER_BIN).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type NatsServer } from '../../src/index.js';
import { freePort, startRealServer } from '../helpers/real-server.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

interface Real {
  clientUrl: string;
  routeUrl: string;
}

async function realServer(name: string, routes: string[]): Promise<Real> {
  const [port, clusterPort] = [await freePort(), await freePort()];
  const real = await startRealServer(BIN, [
    `listen: "127.0.0.1:${port}"`,
    `server_name: ${name}`,
    'cluster {',
    '  name: C',
    `  listen: "127.0.0.1:${clusterPort}"`,
    `  routes: [${routes.map((r) => `"${r}"`).join(', ')}]`,
    '}',
  ]);
  cleanup.push(() => real.stop());
  return { clientUrl: `nats://127.0.0.1:${port}`, routeUrl: `nats-route://127.0.0.1:${clusterPort}` };
}

async function embedded(name: string, routes: string[] = []): Promise<NatsServer> {
  const s = await createServer({ serverName: name, cluster: { name: 'C', routes, reconnectDelay: 100 } });
  cleanup.push(() => s.close());
  return s;
}

async function client(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url });
  cleanup.push(() => nc.close());
  return nc;
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Publishes until `done()`: interest crosses the route asynchronously. */
async function publishUntil(nc: NatsConnection, subject: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`nothing arrived on ${subject}`);
    nc.publish(subject, 'probe');
    await nc.flush();
    await new Promise((r) => setTimeout(r, 20));
  }
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
  await new Promise((r) => setTimeout(r, 200)); // let RS+ with the queue weight cross
  const total = 400;
  for (let i = 0; i < total / 2; i++) {
    onReal.publish('q.work', '');
    onEmb.publish('q.work', '');
  }
  await Promise.all([onReal.flush(), onEmb.flush()]);
  await until(() => counts[0] + counts[1] >= total, 'all queue messages');
  await Promise.all([onReal.flush(), onEmb.flush()]);
  expect(counts[0] + counts[1]).toBe(total);
  expect(counts[0]).toBeGreaterThan(0);
  expect(counts[1]).toBeGreaterThan(0);
}

async function retryRequest(nc: NatsConnection, subject: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return (await nc.request(subject, '', { timeout: 1000 })).string();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('cluster interop with a real nats-server', () => {
  it('nats-server dials an embedded server', async () => {
    const emb = await embedded('emb-a');
    const real = await realServer('real-a', [emb.routeUrl!]);
    await until(() => emb.routes().some((r) => r.name === 'real-a'), 'route from nats-server');
    await traffic(real.clientUrl, emb.url);
  });

  it('an embedded server dials nats-server', async () => {
    const real = await realServer('real-b', []);
    const emb = await embedded('emb-b', [real.routeUrl]);
    await until(() => emb.routes().some((r) => r.name === 'real-b'), 'route to nats-server');
    await traffic(real.clientUrl, emb.url);
  });

  it('gossip completes a mesh of one nats-server and two embedded servers', async () => {
    const real = await realServer('real-c', []);
    const e1 = await embedded('emb-c1', [real.routeUrl]);
    const e2 = await embedded('emb-c2', [real.routeUrl]);
    await until(() => e1.routes().length === 2 && e2.routes().length === 2, 'full mesh via gossip');
    expect(e1.routes().map((r) => r.name).sort()).toEqual(['emb-c2', 'real-c']);
    await traffic(real.clientUrl, e2.url);
  });
});
