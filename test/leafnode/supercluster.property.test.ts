/**
 * Interest in a supercluster with a leaf node, against a model (fast-check): clusters A (2
 * servers) and B (1) joined by gateways, and a leaf node L of A's second server. Random plain
 * and queue subscriptions (literal and wildcard) on every server, then random publications from
 * every server: each message reaches every matching plain subscription once, and per queue
 * group name one member — the nearest to the publisher, as nats-server 2.10 chooses
 * (processMsgResults, sendMsgToGateways, processInboundLeafMsg):
 *
 * - from L: a member on L, else in cluster A (the hub's, or over its routes), else in B;
 * - from A: a member in A (local and route members alike), else on L (a leaf node's member is a
 *   fallback), else in B (a group served in the cluster does not cross a gateway);
 * - from B: a member in B, else in A, else on L.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createServer, createSupercluster, type NatsServer, type NatsSupercluster } from '../../src/index.js';
import { subjectMatches } from '../../src/subject/subject.js';
import { eventually } from '../helpers/eventually.js';

/** The servers, by index: A0, A1 (the hub), B0, L. */
const A0 = 0;
const A1 = 1;
const B0 = 2;
const L = 3;
/** Per publisher: the tiers of servers whose queue members it prefers, nearest first. */
const TIERS: Record<number, number[][]> = {
  [L]: [[L], [A0, A1], [B0]],
  [A0]: [[A0, A1], [L], [B0]],
  [A1]: [[A0, A1], [L], [B0]],
  [B0]: [[B0], [A0, A1], [L]],
};

const PATTERNS = ['a.b', 'a.c', 'a.*', 'a.>', 'x.b'];
const LITERALS = ['a.b', 'a.c', 'x.b'];

interface SubSpec {
  server: number;
  pattern: string;
  queue: string | null;
}

const subSpec = fc.record({
  server: fc.nat({ max: 3 }),
  pattern: fc.constantFrom(...PATTERNS),
  queue: fc.constantFrom(null, null, 'q1', 'q2'),
});
const pubSpec = fc.record({ server: fc.nat({ max: 3 }), subject: fc.constantFrom(...LITERALS) });

let sc: NatsSupercluster;
let leaf: NatsServer;
let urls: string[];
let run = 0;

beforeAll(async () => {
  sc = await createSupercluster({ clusters: [2, 1], leafnodes: { port: 0 }, seed: 5 });
  const [a0, a1] = sc.cluster('A').servers;
  leaf = await createServer({ leafnodes: { reconnect: 50, remotes: [{ url: a1.leafnodeUrl! }] }, seed: 9 });
  urls = [a0.url, a1.url, sc.cluster('B').servers[0].url, leaf.url];
});

afterAll(async () => {
  await leaf?.close();
  await sc?.close();
});

it('delivers as the model of interest says, across gateways and a leaf node', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(subSpec, { minLength: 1, maxLength: 5 }), fc.array(pubSpec, { minLength: 1, maxLength: 5 }), async (subs: SubSpec[], pubs) => {
      const prefix = `p${++run}`;
      const conns: NatsConnection[] = [];
      try {
        const pubServers = [...new Set(pubs.map((p) => p.server))];
        const pubConns = new Map<number, NatsConnection>();
        for (const ps of pubServers) {
          const nc = await connect({ servers: urls[ps], reconnect: false });
          conns.push(nc);
          pubConns.set(ps, nc);
        }
        // Received: message id → subscription indices.
        const got = new Map<string, number[]>();
        for (let i = 0; i < subs.length; i++) {
          const s = subs[i];
          const nc = await connect({ servers: urls[s.server], reconnect: false });
          conns.push(nc);
          nc.subscribe(`${prefix}.${s.pattern}`, {
            ...(s.queue === null ? {} : { queue: s.queue }),
            callback: (_e, m) => {
              const list = got.get(m.string()) ?? [];
              list.push(i);
              got.set(m.string(), list);
            },
          });
          // A sentinel after it on the same connection: once a publisher's message reaches it,
          // the publisher's server knows the subscription before it (interest keeps its order).
          const sync = `${prefix}.sync.${i}`;
          let synced = 0;
          nc.subscribe(sync, { callback: () => void synced++ });
          await nc.flush();
          for (const [ps, pc] of pubConns) {
            const before = synced;
            await eventually(async () => {
              if (synced > before) return true;
              pc.publish(sync);
              await pc.flush();
              return false;
            }, `sync ${i} from server ${ps}`, 5000);
          }
        }
        pubs.forEach((p, k) => pubConns.get(p.server)!.publish(`${prefix}.${p.subject}`, `m${k}`));
        await Promise.all([...pubConns.values()].map((c) => c.flush()));
        const expected = pubs.map((p) => {
          const matching = subs.map((s, i) => ({ ...s, i })).filter((s) => subjectMatches(`${prefix}.${s.pattern}`, `${prefix}.${p.subject}`));
          const groups = new Set(matching.filter((s) => s.queue !== null).map((s) => s.queue));
          return { matching, count: matching.filter((s) => s.queue === null).length + groups.size };
        });
        await eventually(() => pubs.every((_p, k) => (got.get(`m${k}`)?.length ?? 0) >= expected[k].count), 'every delivery', 5000);
        // Nothing more arrives.
        await new Promise((r) => setTimeout(r, 30));
        pubs.forEach((p, k) => {
          const receivers = got.get(`m${k}`) ?? [];
          const e = expected[k];
          expect(receivers.length).toBe(e.count);
          for (const s of e.matching) if (s.queue === null) expect(receivers.filter((r) => r === s.i)).toHaveLength(1);
          for (const q of new Set(e.matching.filter((s) => s.queue !== null).map((s) => s.queue))) {
            const members = e.matching.filter((s) => s.queue === q);
            const hit = receivers.filter((r) => members.some((m) => m.i === r));
            expect(hit).toHaveLength(1);
            const tier = TIERS[p.server].find((t) => members.some((m) => t.includes(m.server)))!;
            expect(tier).toContain(subs[hit[0]].server);
          }
        });
      } finally {
        await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
      }
    }),
    // A failure shrinks through 5 s waits: reported with the smallest case found in 50 s.
    { numRuns: Number(process.env.LEAF_GATEWAY_PROP_RUNS ?? 10), seed: Number(process.env.FC_SEED ?? 20261201), interruptAfterTimeLimit: 50_000, markInterruptAsFailure: true },
  );
}, 60_000);
