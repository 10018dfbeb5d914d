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
