/**
 * A leaf cluster (L1, L2, routed) attached to a hub cluster (H1, H2, routed) through both
 * members: L1 → H1 and L2 → H2. nats-server 2.10 marks a leaf node's interest with its cluster
 * (`sub.origin`), routes carry it (`LS+ <origin> …`) and its messages (`LMSG <origin> …`), and
 * neither interest nor messages go back into that cluster through another leaf connection
 * (leafnode.go updateLeafNodes / initLeafNodeSmapAndSendSubs, client.go processMsgResults'
 * leafOrigin). So a message published on L1 reaches a subscriber on L2 once, over L's route,
 * not a second time through H1 → H2 → L2. nats-server 2.9.10 gives one copy in this topology too.
 */
import { expect, it } from 'vitest';
import { createServer, type NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

async function member(name: string, routes: string[], extra: object): Promise<NatsServer> {
  const s = await createServer({ cluster: { name, port: 0, routes, reconnectDelay: 50 }, ...extra });
  scope.defer(() => s.close());
  return s;
}

it('a leaf cluster attached through two hub members gets one copy per subscriber, the hub cluster still gets its messages', async () => {
  const h1 = await member('H', [], { leafnodes: { port: 0 } });
  const h2 = await member('H', [h1.routeUrl!], { leafnodes: { port: 0 } });
  await eventually(() => h1.routes().length === 1 && h2.routes().length === 1, 'the hub route');
  const l1 = await member('L', [], { leafnodes: { reconnect: 50, remotes: [{ url: h1.leafnodeUrl! }] } });
  const l2 = await member('L', [l1.routeUrl!], { leafnodes: { reconnect: 50, remotes: [{ url: h2.leafnodeUrl! }] } });
  await eventually(() => l1.routes().length === 1 && l2.routes().length === 1, 'the leaf route');
  const c2 = await scope.client(l2);
  const c1 = await scope.client(l1);
  const hc = await scope.client(h1);
  const plain: string[] = [];
  const queued: string[] = [];
  const onHub: string[] = [];
  c2.subscribe('foo', { callback: (_e, m) => void plain.push(m.string()) });
  c2.subscribe('work', { queue: 'q', callback: (_e, m) => void queued.push(m.string()) });
  await c2.flush();
  hc.subscribe('hub', { callback: (_e, m) => void onHub.push(m.string()) });
  await hc.flush();
  // L2's interest reaches H1 (through H2 and the hub route) and L1 (over L's route).
  await h1.waitForSubscription('foo');
  await h1.waitForSubscription('work');
  await l1.waitForSubscription('work');
  await l2.waitForSubscription('hub');
  await l1.waitForSubscription('hub');
  for (let i = 0; i < 5; i++) {
    c1.publish('foo', `f${i}`);
    c1.publish('work', `w${i}`);
  }
  c1.publish('hub', 'to the hub');
  await c1.flush();
  await eventually(() => plain.length >= 5 && queued.length >= 5 && onHub.length >= 1, 'the messages');
  // A second copy through the hub cluster would come within a few milliseconds.
  await new Promise((r) => setTimeout(r, 150));
  expect(plain).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
  expect(queued).toEqual(['w0', 'w1', 'w2', 'w3', 'w4']);
  expect(onHub).toEqual(['to the hub']);
});

it('two leaf clusters on one hub cluster: one copy each, and one cluster leaving a subject takes nothing from the other', async () => {
  // Hub H1–H2; leaf cluster A: A1 → H1, A2 → H2; leaf cluster B: B1 → H1. H1 announces A's and
  // B's interest to H2 apart (`LS+ A …`, `LS+ B …`, lnocu) and withdraws only A's (`LS- A …`).
  const h1 = await member('H', [], { leafnodes: { port: 0 } });
  const h2 = await member('H', [h1.routeUrl!], { leafnodes: { port: 0 } });
  await eventually(() => h1.routes().length === 1 && h2.routes().length === 1, 'the hub route');
  const a1 = await member('A', [], { leafnodes: { reconnect: 50, remotes: [{ url: h1.leafnodeUrl! }] } });
  const a2 = await member('A', [a1.routeUrl!], { leafnodes: { reconnect: 50, remotes: [{ url: h2.leafnodeUrl! }] } });
  const b1 = await member('B', [], { leafnodes: { reconnect: 50, remotes: [{ url: h1.leafnodeUrl! }] } });
  await eventually(() => a1.routes().length === 1 && a2.routes().length === 1, 'the leaf route');
  const servers = [a1, a2, b1, h1, h2];
  const clients = await Promise.all(servers.map((s) => scope.client(s)));
  const got: string[][] = servers.map(() => []);
  const subs = clients.map((c, i) => c.subscribe('foo', { callback: (_e, m) => void got[i].push(m.string()) }));
  for (const c of clients) await c.flush();
  // Its own, and one entry per connection that announces the subject: A1 and A2 their route
  // and their hub; B1 its hub; H1 and H2 their leaf nodes, and from the route the other hub's
  // own and one per leaf cluster behind it (by origin).
  await Promise.all([a1.waitForSubscription('foo', { count: 3 }), a2.waitForSubscription('foo', { count: 3 }), b1.waitForSubscription('foo', { count: 2 })]);
  await Promise.all([h1.waitForSubscription('foo', { count: 5 }), h2.waitForSubscription('foo', { count: 5 })]);
  clients.forEach((c, i) => c.publish('foo', `from ${i}`));
  for (const c of clients) await c.flush();
  const all = ['from 0', 'from 1', 'from 2', 'from 3', 'from 4'];
  await eventually(() => got.every((g) => g.length >= 5), 'five messages at each subscriber');
  await new Promise((r) => setTimeout(r, 150));
  for (const g of got) expect([...g].sort()).toEqual(all);
  // A1 and H1's own subscriber leave `foo`: H2 still sends B's copy over the route.
  subs[0].unsubscribe();
  subs[3].unsubscribe();
  await clients[0].flush();
  await clients[3].flush();
  // Interest made after the unsubscriptions, on the same paths: once H2 sees it, it has seen them.
  clients[0].subscribe('sync.a');
  clients[3].subscribe('sync.h');
  await clients[0].flush();
  await clients[3].flush();
  await h2.waitForSubscription('sync.a');
  await h2.waitForSubscription('sync.h');
  for (const g of got) g.length = 0;
  clients[4].publish('foo', 'after');
  await clients[4].flush();
  await eventually(() => got[1].length > 0 && got[2].length > 0 && got[4].length > 0, 'the message at A2, B1 and H2');
  await new Promise((r) => setTimeout(r, 100));
  expect(got).toEqual([[], ['after'], ['after'], [], ['after']]);
});
