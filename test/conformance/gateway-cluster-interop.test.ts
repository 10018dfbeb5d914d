/**
 * A cluster of two embedded servers (gateway E) and a cluster of two real nats-servers
 * (gateway R), joined by gateways that only one server of each side is configured with: the
 * others learn them through their routes (gateway gossip) and through inbound connections
 * (implicit gateways). Requests are answered across whichever servers the outbound connections
 * reach (a `_GR_.` reply may land on another server of the origin cluster, which forwards it
 * over its route), and a queue group fails over from the local cluster to the remote one.
 * Run by `npm run test:conformance` (NATS_SERVER_BIN).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type NatsServer } from '../../src/index.js';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually, publishUntil } from '../helpers/eventually.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope('file');

const real: Array<{ url: string; monitor: string }> = [];
const emb: NatsServer[] = [];

async function outboundOf(monitor: string): Promise<string[]> {
  const z = (await (await fetch(`${monitor}/gatewayz`)).json()) as { outbound_gateways: Record<string, unknown> };
  return Object.keys(z.outbound_gateways);
}

beforeAll(async () => {
  const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
  const [c1, c2, g1, g2, h1, h2, r1, r2] = ports;
  const realConf = (i: number, port: number, cport: number, gport: number, http: number, routeTo: number): string[] => [
    `listen: "127.0.0.1:${port}"`,
    `server_name: real-${i}`,
    `http: "127.0.0.1:${http}"`,
    `cluster { name: R, listen: "127.0.0.1:${cport}", routes: ["nats-route://127.0.0.1:${routeTo}"] }`,
    `gateway { name: R, listen: "127.0.0.1:${gport}" }`,
  ];
  for (const [i, p, cp, gp, h, to] of [[1, c1, r1, g1, h1, r2], [2, c2, r2, g2, h2, r1]] as const) {
    const s = await startRealServer(BIN, realConf(i, p, cp, gp, h, to));
    scope.defer(() => s.stop());
    real.push({ url: `nats://127.0.0.1:${p}`, monitor: `http://127.0.0.1:${h}` });
  }
  // Only the first embedded server knows R's first server; the second learns R from its route.
  const e1 = await scope.server({ serverName: 'emb-1', cluster: { name: 'E', reconnectDelay: 100 }, gateway: { name: 'E', gateways: [{ name: 'R', url: `nats://127.0.0.1:${g1}` }] } });
  const e2 = await scope.server({ serverName: 'emb-2', cluster: { name: 'E', routes: [e1.routeUrl!], reconnectDelay: 100 }, gateway: { name: 'E' } });
  emb.push(e1, e2);
  await eventually(async () => {
    for (const r of real) if (!(await outboundOf(r.monitor)).includes('E')) return false;
    return emb.every((e) => e.gateways().outbound.includes('R'));
  }, 'every server with an outbound gateway to the other cluster', 15_000);
});

describe('an embedded cluster gatewayed with a nats-server cluster', () => {
  it('answers requests from every server of each cluster on every server of the other', async () => {
    const responders = [...real.map((r) => r.url), ...emb.map((e) => e.url)];
    const names = ['real-1', 'real-2', 'emb-1', 'emb-2'];
    for (let i = 0; i < responders.length; i++) {
      const nc = await scope.client(responders[i]);
      nc.subscribe(`svc.${names[i]}`, { callback: (_e, m) => void m.respond(names[i]) });
      await nc.flush();
    }
    const requesters = [...real.map((r) => r.url), ...emb.map((e) => e.url)];
    // First every responder's interest reaches every server of the other cluster.
    for (let i = 0; i < requesters.length; i++) {
      const nc = await scope.client(requesters[i]);
      for (const t of i < 2 ? ['emb-1', 'emb-2'] : ['real-1', 'real-2']) {
        await eventually(async () => {
          try {
            return (await nc.request(`svc.${t}`, 'q', { timeout: 500 })).string() === t;
          } catch {
            return false;
          }
        }, `svc.${t} from ${names[i]}`, 10_000);
      }
    }
    // Then requests from new connections, answered at the first try: a new inbox's subscription
    // is recent, so its reply is mapped (_GR_.) and the answer goes straight back to its server
    // even before its interest crossed the gateways.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < requesters.length; i++) {
        for (const t of i < 2 ? ['emb-1', 'emb-2'] : ['real-1', 'real-2']) {
          const nc = await scope.client(requesters[i]);
          expect((await nc.request(`svc.${t}`, 'q', { timeout: 2000 })).string()).toBe(t);
          await nc.close();
        }
      }
    }
  });

  it('keeps a queue group in the publisher\'s cluster, then fails over to the other cluster', async () => {
    const counts = { emb: 0, real: 0 };
    const embMember = await scope.client(emb[1].url);
    const realMember = await scope.client(real[1].url);
    const sub = embMember.subscribe('qwork', { queue: 'g', callback: () => void counts.emb++ });
    realMember.subscribe('qwork', { queue: 'g', callback: () => void counts.real++ });
    await Promise.all([embMember.flush(), realMember.flush()]);
    const pubEmb = await scope.client(emb[0].url);
    const pubReal = await scope.client(real[0].url);
    // Interest propagated: probes from each side reach the member in its own cluster.
    await publishUntil(pubEmb, 'qwork', () => counts.emb > 0);
    await publishUntil(pubReal, 'qwork', () => counts.real > 0);
    const before = { ...counts };
    for (let i = 0; i < 25; i++) pubEmb.publish('qwork');
    for (let i = 0; i < 25; i++) pubReal.publish('qwork');
    await Promise.all([pubEmb.flush(), pubReal.flush()]);
    await eventually(() => counts.emb + counts.real === before.emb + before.real + 50, '50 queue messages');
    expect(counts).toEqual({ emb: before.emb + 25, real: before.real + 25 });
    // The embedded member leaves: the embedded cluster's messages go to the real cluster.
    sub.unsubscribe();
    await embMember.flush();
    const r0 = counts.real;
    await publishUntil(pubEmb, 'qwork', () => counts.real > r0);
    const r1 = counts.real;
    for (let i = 0; i < 20; i++) pubEmb.publish('qwork');
    await pubEmb.flush();
    await eventually(() => counts.real === r1 + 20, 'the real cluster\'s member took over');
  });
});
