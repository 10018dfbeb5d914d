/**
 * A leaf node of a cluster in a supercluster (nats-server 2.10 leafnode.go and gateway.go): the
 * hub counts its leaf node's subscriptions as its cluster's interest toward the gateways
 * (processLeafSub → gatewayUpdateSubInterest), a leaf node's messages go on to the gateways
 * (processInboundLeafMsg → sendMsgToGateways, queue groups only as the LMSG names them), a
 * gateway's messages reach the hub's leaf nodes, and the hub tells its leaf nodes of the other
 * clusters' interest (updateInterestForAccountOnGateway) and of `_GR_.>`, so that a leaf node
 * answers a request from another cluster through the mapped reply.
 *
 * Clusters A (2 servers) and B (1), a leaf node on each server of A: B's server dials one of
 * them, so one leaf node's hub is the server the gateway reaches, the other's is behind a route.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { createSupercluster, type NatsServer, type NatsSupercluster } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually, publishUntil } from '../helpers/eventually.js';

const scope = useScope('file');
let sc: NatsSupercluster;
/** The leaf nodes of A's servers 0 and 1. */
let leaves: NatsServer[];
let onLeaf: NatsConnection[];
let a0: NatsConnection;
let hub1: NatsConnection;
let b0: NatsConnection;
let bServer: NatsServer;

beforeAll(async () => {
  sc = await createSupercluster({ clusters: [2, 1], leafnodes: { port: 0 } });
  const a = sc.cluster('A').servers;
  bServer = sc.cluster('B').servers[0];
  leaves = await Promise.all(a.map((s) => scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: s.leafnodeUrl! }] } })));
  onLeaf = await Promise.all(leaves.map((l) => scope.client(l)));
  [a0, hub1, b0] = await Promise.all([scope.client(a[0]), scope.client(a[1]), scope.client(bServer)]);
  // The leaf connections are up once each leaf node knows a subscription of its hub.
  a0.subscribe('ready');
  hub1.subscribe('ready');
  await Promise.all([a0.flush(), hub1.flush()]);
  for (const l of leaves) await l.waitForSubscription('ready', { timeoutMs: 5000 });
});

afterAll(async () => {
  await sc?.close();
});

it('a leaf node\'s subscription gets messages published in the other cluster', async () => {
  for (const [i, nc] of onLeaf.entries()) {
    const got: string[] = [];
    nc.subscribe(`down${i}.>`, { callback: (_e, m) => void got.push(m.subject) });
    await nc.flush();
    // B learns the interest (whichever server of A its gateway reached).
    await publishUntil(b0, `down${i}.1`, () => got.length > 0, 5000);
    got.length = 0;
    b0.publish(`down${i}.1`, 'once');
    await b0.flush();
    // And from the other server of A, through the route.
    await publishUntil(a0, `down${i}.2`, () => got.includes(`down${i}.2`), 5000);
    expect(got.filter((s) => s === `down${i}.1`)).toEqual([`down${i}.1`]);
  }
});

it('a leaf node\'s messages reach the other cluster\'s subscribers', async () => {
  const got: string[] = [];
  b0.subscribe('up', { callback: (_e, m) => void got.push(m.string()) });
  await b0.flush();
  for (const [i, nc] of onLeaf.entries()) {
    // The hub tells its leaf node of B's interest (interest-only mode): the leaf sends it up.
    await leaves[i].waitForSubscription('up', { timeoutMs: 5000 });
    nc.publish('up', `from leaf ${i}`);
    await nc.flush();
    await eventually(() => got.length === i + 1, `the message of leaf node ${i} in B`);
  }
  expect(got).toEqual(['from leaf 0', 'from leaf 1']);
});

it('requests cross both ways between a leaf node and the other cluster', async () => {
  b0.subscribe('svc.b', { callback: (_e, m) => void m.respond(`B answers ${m.string()}`) });
  await b0.flush();
  for (const [i, nc] of onLeaf.entries()) {
    const replies: string[] = [];
    nc.subscribe(`svc.leaf${i}`, { callback: (_e, m) => {
      replies.push(m.reply ?? '');
      m.respond(`leaf ${i} answers ${m.string()}`);
    } });
    await nc.flush();
    // The request carries a mapped `_GR_.` reply to the leaf node, which answers through its hub.
    await eventually(async () => {
      try {
        return (await b0.request(`svc.leaf${i}`, 'hi', { timeout: 300 })).string() === `leaf ${i} answers hi`;
      } catch {
        return false;
      }
    }, `an answer from leaf node ${i}`, 5000);
    // The leaf node's client sees the plain reply (a client may not publish on `_GR_.`).
    expect(replies.every((r) => r.startsWith('_INBOX.'))).toBe(true);
    await leaves[i].waitForSubscription('svc.b', { timeoutMs: 5000 });
    expect((await nc.request('svc.b', 'hello', { timeout: 2000 })).string()).toBe('B answers hello');
  }
});

it('queue groups: a leaf node\'s message goes to another cluster\'s group only when its own cluster has no member', async () => {
  const leaf = leaves[1];
  const nc = onLeaf[1];
  const counts = { leaf: 0, b: 0, hub: 0 };
  b0.subscribe('jobs', { queue: 'w', callback: () => void counts.b++ });
  await b0.flush();
  await leaf.waitForSubscription('jobs', { timeoutMs: 5000 });
  for (let i = 0; i < 10; i++) nc.publish('jobs');
  await nc.flush();
  await eventually(() => counts.b === 10, 'the ten in B');
  // A member on the hub: the leaf node's messages are served in cluster A.
  hub1.subscribe('jobs', { queue: 'w', callback: () => void counts.hub++ });
  await hub1.flush();
  await eventually(async () => {
    const before = counts.b;
    for (let i = 0; i < 10; i++) nc.publish('jobs');
    await nc.flush();
    await new Promise((r) => setTimeout(r, 30));
    return counts.b === before;
  }, 'the leaf node\'s messages served in A', 5000);
  const [h, b] = [counts.hub, counts.b];
  for (let i = 0; i < 20; i++) nc.publish('jobs');
  await nc.flush();
  await eventually(() => counts.hub === h + 20, 'twenty on the hub');
  expect(counts.b).toBe(b);
  // A member on the leaf node too: B's messages go to one member of the group each.
  nc.subscribe('jobs', { queue: 'w', callback: () => void counts.leaf++ });
  await nc.flush();
  const total = (): number => counts.leaf + counts.b + counts.hub;
  const t0 = total();
  for (let i = 0; i < 20; i++) a0.publish('jobs');
  await a0.flush();
  await eventually(() => total() === t0 + 20, 'twenty from A, each once');
  await new Promise((r) => setTimeout(r, 30));
  expect(total()).toBe(t0 + 20);
});
