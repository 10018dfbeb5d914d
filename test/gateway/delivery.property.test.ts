/**
 * Property: in a supercluster of clusters A (2 servers), B (2) and C (1), random subscriptions
 * (plain and queue, literal and wildcard, on random servers) and random publications are
 * delivered as the model says: one copy to every matching plain subscription wherever it is,
 * and per queue group name one member among the matching ones — in the publisher's cluster
 * whenever that cluster has a matching member (nats-server's processMsgResults and
 * sendMsgToGateways).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createSupercluster, type NatsSupercluster } from '../../src/index.js';
import { subjectMatches } from '../../src/subject/subject.js';
import { eventually } from '../helpers/eventually.js';

let sc: NatsSupercluster;
/** Every server, with the index of its cluster. */
let servers: Array<{ url: string; cluster: number }> = [];

beforeAll(async () => {
  sc = await createSupercluster({ clusters: [2, 2, 1] });
  servers = sc.clusters.flatMap((c, ci) => c.servers.map((s) => ({ url: s.url, cluster: ci })));
});

afterAll(async () => {
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

describe('supercluster delivery (property)', () => {
  it('delivers to every plain subscription once and to one queue member per group, preferring the publisher\'s cluster', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(subSpec, { minLength: 1, maxLength: 6 }), fc.array(pubSpec, { minLength: 1, maxLength: 5 }), async (subs: SubSpec[], pubs) => {
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
});
