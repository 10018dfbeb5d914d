/**
 * A leaf node of one member of a cluster: its interest reaches the other members over the
 * routes (the hub announces it as its own), their messages reach it through the hub, and the
 * leaf's messages reach the other members' subscribers (nats-server 2.10 leafnode.go: a hub
 * treats its leaf nodes' subscriptions as its clients'; messages from routes go to its leaves).
 */
import { expect, it } from 'vitest';
import { createServer, type NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

async function member(routes: string[]): Promise<NatsServer> {
  const s = await createServer({ cluster: { name: 'hub', port: 0, routes, reconnectDelay: 50 }, leafnodes: { port: 0 } });
  scope.defer(() => s.close());
  return s;
}

it('a leaf node of one cluster member talks to clients of the others, plain and queue subscriptions', async () => {
  const a = await member([]);
  const b = await member([a.routeUrl!]);
  await eventually(() => a.routes().length === 1 && b.routes().length === 1, 'the route');
  const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: a.leafnodeUrl! }] } });
  const onB = await scope.client(b);
  const onLeaf = await scope.client(leaf);
  const gotB: string[] = [];
  const gotLeaf: string[] = [];
  const gotLeafQ: string[] = [];
  onB.subscribe('up', { callback: (_e, m) => void gotB.push(m.string()) });
  onLeaf.subscribe('down', { callback: (_e, m) => void gotLeaf.push(m.string()) });
  onLeaf.subscribe('work', { queue: 'q', callback: (_e, m) => void gotLeafQ.push(m.string()) });
  await onB.flush();
  await onLeaf.flush();
  // Interest crosses leaf → a → route → b, and b → route → a → leaf.
  await b.waitForSubscription('down');
  await b.waitForSubscription('work');
  await leaf.waitForSubscription('up');
  onB.publish('down', 'from b');
  for (let i = 0; i < 5; i++) onB.publish('work', `w${i}`);
  onLeaf.publish('up', 'from leaf');
  await onB.flush();
  await onLeaf.flush();
  await eventually(() => gotB.length === 1 && gotLeaf.length === 1 && gotLeafQ.length === 5, 'the messages across the route and the leaf');
  expect([gotB, gotLeaf, gotLeafQ.length]).toEqual([['from leaf'], ['from b'], 5]);
  // Request/reply from the leaf to a responder on b.
  onB.subscribe('svc', { callback: (_e, m) => void m.respond('b answers') });
  await onB.flush();
  await leaf.waitForSubscription('svc');
  expect((await onLeaf.request('svc', '', { timeout: 2000 })).string()).toBe('b answers');
});
