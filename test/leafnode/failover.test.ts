/**
 * A hub in a cluster tells its leaf nodes the leaf node URLs of its route peers (nats-server 2.10
 * route.go addLeafNodeURL / removeLeafNodeURL, leafnode.go sendAsyncLeafNodeInfo), unless a peer
 * has `leafnodes.noAdvertise`; a leaf node adds what it hears to its remote's URLs
 * (updateLeafNodeURLs) and fails over to them when its hub dies.
 */
import { expect, it } from 'vitest';
import { createServer, type NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { readInfo } from '../helpers/wire.js';
import { eventually } from '../helpers/eventually.js';
import { monitorJson } from '../helpers/monitor.js';

const scope = useScope();

async function member(routes: string[], noAdvertise = false): Promise<NatsServer> {
  const s = await createServer({ http: -1, cluster: { name: 'hub', port: 0, routes, reconnectDelay: 50 }, leafnodes: { port: 0, noAdvertise } });
  scope.defer(() => s.close());
  return s;
}

/** The `leafnode_urls` of the INFO a leaf node port sends. */
async function leafUrls(port: number): Promise<string[]> {
  return (await readInfo(port)).leafnode_urls as string[];
}

const own = (s: NatsServer): string => `127.0.0.1:${s.leafnodePort}`;

async function leafCount(s: NatsServer): Promise<number> {
  return ((await monitorJson(s.monitorUrl!, '/leafz').catch(() => ({ leafnodes: -1 }))).leafnodes as number);
}

it('a hub advertises its peers\' leaf node URLs (not a no_advertise peer\'s); a leaf node learns them and fails over when its hub dies', async () => {
  const a = await member([]);
  // The leaf node knows only a; b joins the cluster after the leaf connected (an async INFO tells it).
  const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: a.leafnodeUrl! }] } });
  await eventually(async () => (await leafCount(a)) === 1, 'the leaf on a');
  const b = await member([a.routeUrl!]);
  const c = await member([a.routeUrl!], true);
  await eventually(() => a.routes().length === 2 && b.routes().length === 2 && c.routes().length === 2, 'the mesh');
  await eventually(async () => (await leafUrls(a.leafnodePort)).length === 2, 'a advertising b');
  expect((await leafUrls(a.leafnodePort)).sort()).toEqual([own(a), own(b)].sort());
  // c does not tell its URL, but it still lists its own and the others'.
  expect((await leafUrls(c.leafnodePort)).sort()).toEqual([own(a), own(b), own(c)].sort());

  await a.kill();
  await eventually(async () => (await leafCount(b)) === 1, 'the leaf failed over to b', 5000);
  expect(await leafCount(c)).toBe(0);
  // Traffic flows through the new hub.
  const onC = await scope.client(c);
  onC.subscribe('svc', { callback: (_e, m) => void m.respond('c answers') });
  await onC.flush();
  await leaf.waitForSubscription('svc', { timeoutMs: 3000 });
  const l = await scope.client(leaf);
  expect((await l.request('svc', '', { timeout: 2000 })).string()).toBe('c answers');
  // A peer that left is no longer told about.
  await eventually(async () => (await leafUrls(b.leafnodePort)).length === 1, 'b forgetting a');
  expect(await leafUrls(b.leafnodePort)).toEqual([own(b)]);
});
