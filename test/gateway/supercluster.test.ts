/**
 * `createSupercluster()`: clusters of embedded servers joined by gateways. Messages cross
 * clusters where there is interest, requests are answered across, a queue group is served in
 * the publisher's cluster while it has members there and by one remote cluster otherwise, and
 * partitions and killed clusters cut and restore the links.
 *
 * Property (fast-check): random subscriptions (plain and queue, literal and wildcard, on random
 * servers of clusters A (2), B (2), C (1)) and random publications are delivered as the model
 * says: one copy to every matching plain subscription wherever it is, and per queue group name
 * one member among the matching ones — in the publisher's cluster whenever that cluster has a
 * matching member (nats-server's processMsgResults and sendMsgToGateways).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createSupercluster, type NatsSupercluster } from '../../src/index.js';
import { subjectMatches } from '../../src/subject/subject.js';
import { eventually, publishUntil } from '../helpers/eventually.js';

let sc: NatsSupercluster;
const conns: NatsConnection[] = [];

async function client(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, reconnect: false });
  conns.push(nc);
  return nc;
}

beforeAll(async () => {
  sc = await createSupercluster({ clusters: [2, 2, 1] });
});

afterAll(async () => {
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
  await sc?.close();
});

const PATTERNS = ['a.b', 'a.c', 'a.*', 'a.>', 'x.b'];
const LITERALS = ['a.b', 'a.c', 'x.b'];

interface SubSpec {
  server: number;
  pattern: string;
  queue: string | null;
}

const subSpec = fc.record({
  server: fc.nat({ max: 4 }),
  pattern: fc.constantFrom(...PATTERNS),
  queue: fc.constantFrom(null, null, 'q1', 'q2'),
});
const pubSpec = fc.record({ server: fc.nat({ max: 4 }), subject: fc.constantFrom(...LITERALS) });

let run = 0;

describe('createSupercluster', () => {
  it('joins every server to every other cluster, in interest-only mode', () => {
    for (const s of sc.servers) {
      const mine = sc.clusters.find((c) => c.servers.includes(s))!.clusterName;
      expect(new Set(s.gateways().outbound)).toEqual(new Set(['A', 'B', 'C'].filter((n) => n !== mine)));
      for (const other of s.gateways().outbound) expect(s.gatewayInterestMode(other)).toBe('Interest-Only');
    }
  });

  it('delivers to every plain subscription once and to one queue member per group, preferring the publisher\'s cluster', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(subSpec, { minLength: 1, maxLength: 6 }), fc.array(pubSpec, { minLength: 1, maxLength: 5 }), async (subs: SubSpec[], pubs) => {
        const servers = sc.clusters.flatMap((c, ci) => c.servers.map((s) => ({ url: s.url, cluster: ci })));
        const prefix = `r${++run}`;
        const conns: NatsConnection[] = [];
        try {
          // One connection per subscription; received: message id → subscription indices.
          const got = new Map<string, number[]>();
          const syncs: string[] = [];
          for (let i = 0; i < subs.length; i++) {
            const s = subs[i];
            const nc = await connect({ servers: servers[s.server].url, reconnect: false });
            conns.push(nc);
            nc.subscribe(`${prefix}.${s.pattern}`, {
              ...(s.queue === null ? {} : { queue: s.queue }),
              callback: (_e, m) => {
                const list = got.get(m.string()) ?? [];
                list.push(i);
                got.set(m.string(), list);
              },
            });
            // A sentinel after it, on the same connection: once a publisher reaches it, that
            // publisher's server knows the subscription before it (RS+ keep their order).
            const sync = `${prefix}.sync.${i}`;
            let synced = 0;
            nc.subscribe(sync, { callback: () => void synced++ });
            await nc.flush();
            syncs.push(sync);
            const pubServers = [...new Set(pubs.map((p) => p.server))];
            for (const ps of pubServers) {
              const pc = await connect({ servers: servers[ps].url, reconnect: false });
              conns.push(pc);
              const before = synced;
              await eventually(async () => {
                if (synced > before) return true;
                pc.publish(sync);
                await pc.flush();
                return false;
              }, `sync ${i} from server ${ps}`, 5000);
            }
          }
          const pubConns = await Promise.all(pubs.map((p) => connect({ servers: servers[p.server].url, reconnect: false })));
          conns.push(...pubConns);
          pubs.forEach((p, k) => pubConns[k].publish(`${prefix}.${p.subject}`, `m${k}`));
          await Promise.all(pubConns.map((c) => c.flush()));
          // The expected number of deliveries per message.
          const expected = pubs.map((p) => {
            const subject = `${prefix}.${p.subject}`;
            const matching = subs.map((s, i) => ({ ...s, i })).filter((s) => subjectMatches(`${prefix}.${s.pattern}`, subject));
            const plain = matching.filter((s) => s.queue === null).length;
            const groups = new Set(matching.filter((s) => s.queue !== null).map((s) => s.queue)).size;
            return { plain: matching.filter((s) => s.queue === null), matching, count: plain + groups };
          });
          await eventually(() => pubs.every((_p, k) => (got.get(`m${k}`)?.length ?? 0) >= expected[k].count), 'every delivery', 5000);
          await new Promise((r) => setTimeout(r, 30));
          pubs.forEach((p, k) => {
            const receivers = got.get(`m${k}`) ?? [];
            const e = expected[k];
            expect(receivers.length).toBe(e.count);
            for (const s of e.plain) expect(receivers.filter((r) => r === s.i)).toHaveLength(1);
            const pubCluster = servers[p.server].cluster;
            for (const q of new Set(e.matching.filter((s) => s.queue !== null).map((s) => s.queue))) {
              const members = e.matching.filter((s) => s.queue === q);
              const hit = receivers.filter((r) => members.some((m) => m.i === r));
              expect(hit).toHaveLength(1);
              if (members.some((m) => servers[m.server].cluster === pubCluster)) {
                expect(servers[subs[hit[0]].server].cluster).toBe(pubCluster);
              }
            }
          });
        } finally {
          await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
        }
      }),
      { numRuns: Number(process.env.GATEWAY_PROP_RUNS ?? 12) },
    );
  });

  it('delivers across clusters, from any member to a subscriber on any other member, and answers requests', async () => {
    const sub = await client(sc.cluster('B').servers[1].url);
    const got: string[] = [];
    sub.subscribe('x.>', { callback: (_e, m) => void got.push(m.string()) });
    sub.subscribe('svc', { callback: (_e, m) => void m.respond(`B says ${m.string()}`) });
    await sub.flush();
    const fromA = await client(sc.cluster('A').servers[0].url);
    await publishUntil(fromA, 'x.1', () => got.includes('probe'), 5000);
    const fromC = await client(sc.cluster('C').servers[0].url);
    await eventually(async () => {
      try {
        return (await fromC.request('svc', 'hi', { timeout: 300 })).string() === 'B says hi';
      } catch {
        return false;
      }
    }, 'an answer from cluster B');
  });

  it('serves a queue group in the publisher\'s cluster, then in one remote cluster when the local members are gone', async () => {
    const counts = { a: 0, b: 0 };
    const memberA = await client(sc.cluster('A').servers[1].url);
    const memberB = await client(sc.cluster('B').servers[0].url);
    memberA.subscribe('jobs', { queue: 'w', callback: () => void counts.a++ });
    memberB.subscribe('jobs', { queue: 'w', callback: () => void counts.b++ });
    await Promise.all([memberA.flush(), memberB.flush()]);
    const pubA = await client(sc.cluster('A').servers[0].url);
    const pubC = await client(sc.cluster('C').servers[0].url);
    // Interest reached every cluster once a probe from C reached one of the members.
    await publishUntil(pubC, 'jobs', () => counts.a + counts.b > 0, 5000);
    // Every member of A knows A's member through the routes: A's messages stay in A.
    await eventually(async () => {
      const before = counts.b;
      for (let i = 0; i < 20; i++) pubA.publish('jobs');
      await pubA.flush();
      await new Promise((r) => setTimeout(r, 50));
      return counts.b === before;
    }, 'A\'s messages served in A');
    const [a0, b0] = [counts.a, counts.b];
    for (let i = 0; i < 30; i++) pubA.publish('jobs');
    await pubA.flush();
    await eventually(() => counts.a === a0 + 30, '30 more in A');
    expect(counts.b).toBe(b0);
    // From C (no member): each message to exactly one cluster.
    const total = counts.a + counts.b;
    for (let i = 0; i < 30; i++) pubC.publish('jobs');
    await pubC.flush();
    await eventually(() => counts.a + counts.b === total + 30, '30 from C, each once');
    // Cluster A dies: B's member takes every message from C.
    await sc.killCluster('A');
    const b1 = counts.b;
    await publishUntil(pubC, 'jobs', () => counts.b > b1, 5000);
    const b2 = counts.b;
    for (let i = 0; i < 20; i++) pubC.publish('jobs');
    await pubC.flush();
    await eventually(() => counts.b === b2 + 20, 'B\'s member took over');
    await sc.restartCluster('A');
  });

  it('delays the gateway links between two clusters (setLatency), the others stay fast', async () => {
    const inA = await client(sc.cluster('A').servers[0].url);
    const inB = await client(sc.cluster('B').servers[0].url);
    const arrived: Record<string, number> = {};
    inA.subscribe('lat.a', { callback: () => void (arrived.a ??= Date.now()) });
    inB.subscribe('lat.b', { callback: () => void (arrived.b ??= Date.now()) });
    await Promise.all([inA.flush(), inB.flush()]);
    const inC = await client(sc.cluster('C').servers[0].url);
    await publishUntil(inC, 'lat.a', () => arrived.a !== undefined, 5000);
    await publishUntil(inC, 'lat.b', () => arrived.b !== undefined, 5000);
    delete arrived.a;
    delete arrived.b;
    sc.setLatency('A', 'C', 150);
    const t0 = Date.now();
    inC.publish('lat.a');
    inC.publish('lat.b');
    await inC.flush();
    await eventually(() => arrived.a !== undefined && arrived.b !== undefined, 'both messages', 3000);
    expect(arrived.a! - t0).toBeGreaterThanOrEqual(140);
    expect(arrived.b! - t0).toBeLessThan(100);
    sc.setLatency('A', 'C', 0);
  });

  it('partitions two clusters (no message crosses) and heals them', async () => {
    const inB = await client(sc.cluster('B').servers[0].url);
    let got = 0;
    inB.subscribe('p', { callback: () => void got++ });
    await inB.flush();
    const inC = await client(sc.cluster('C').servers[0].url);
    await publishUntil(inC, 'p', () => got > 0, 5000);
    await sc.partition('B', 'C');
    expect(sc.cluster('C').servers[0].gateways().outbound).not.toContain('B');
    const before = got;
    for (let i = 0; i < 10; i++) inC.publish('p');
    await inC.flush();
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toBe(before);
    await sc.heal();
    await publishUntil(inC, 'p', () => got > before, 5000);
  });
});
