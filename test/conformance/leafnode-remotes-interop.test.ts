/**
 * Options of a leaf node remote against the real nats-server (2.9.10), in both roles:
 * `deny_imports` and `deny_exports` (the leaf node announces no interest in a denied import and
 * asks its hub not to send those subjects — CONNECT `deny_pub`, which the hub honours — and sends
 * nothing on a denied export: leafnode.go newLeafNodeCfg, processLeafNodeConnect's
 * mergeDenyPermissions), and `hub: true` (the dialling server is the hub, the accepting one the
 * spoke, which keeps its hub's interest from its route peers). The same code in 2.10.29. Run by
 * `npm run test:conformance` (NATS_SERVER_BIN).
 */
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { clusterBlock, freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope();

/** `hub` and `leaf` are clients of the two sides; the leaf node denies imports `in.secret`, `in.deny.>` and export `out.secret`. */
async function check(hub: NatsConnection, leaf: NatsConnection): Promise<void> {
  const leafAll: string[] = [];
  const hubAll: string[] = [];
  leaf.subscribe('in.>', { callback: (_e, m) => void leafAll.push(m.string()) });
  hub.subscribe('out.>', { callback: (_e, m) => void hubAll.push(m.string()) });
  await Promise.all([leaf.flush(), hub.flush()]);
  // Interest crossed once a probe does, both ways.
  await eventually(async () => {
    if (leafAll.includes('probe') && hubAll.includes('probe')) return true;
    hub.publish('in.probe', 'probe');
    leaf.publish('out.probe', 'probe');
    await Promise.all([leaf.flush(), hub.flush()]);
    return false;
  }, 'interest both ways', 10_000);
  leafAll.length = 0;
  hubAll.length = 0;
  for (const [s, d] of [['in.secret', 'secret'], ['in.deny.x', 'deny'], ['in.ok', 'ok'], ['in.end', 'end']]) hub.publish(s, d);
  for (const [s, d] of [['out.secret', 'secret'], ['out.ok', 'ok'], ['out.end', 'end']]) leaf.publish(s, d);
  await Promise.all([leaf.flush(), hub.flush()]);
  await eventually(() => leafAll.includes('end') && hubAll.includes('end'), 'the last messages', 10_000);
  await new Promise((r) => setTimeout(r, 50));
  expect(leafAll).toEqual(['ok', 'end']);
  expect(hubAll).toEqual(['ok', 'end']);
}

describe.skipIf(BIN === '')('leaf node deny_imports / deny_exports, against nats-server', () => {
  it('nats-server hub, embedded leaf node with the deny lists', async () => {
    const [port, leafPort] = [await freePort(), await freePort()];
    const real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, `leafnodes { listen: "127.0.0.1:${leafPort}" }`]);
    scope.defer(() => real.stop());
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://127.0.0.1:${leafPort}`, denyImports: ['in.secret', 'in.deny.>'], denyExports: ['out.secret'] }] } });
    await check(await scope.client(`nats://127.0.0.1:${port}`), await scope.client(leaf));
  });

  it('embedded hub, nats-server leaf node with the deny lists', async () => {
    const hub = await scope.server({ leafnodes: { port: 0 } });
    const port = await freePort();
    const real = await startRealServer(BIN, [
      `listen: "127.0.0.1:${port}"`,
      `leafnodes { remotes: [{ url: "${hub.leafnodeUrl!}", deny_imports: ["in.secret", "in.deny.>"], deny_exports: "out.secret" }] }`,
    ]);
    scope.defer(() => real.stop());
    await check(await scope.client(hub), await scope.client(`nats://127.0.0.1:${port}`));
  });

  /** A subscriber on the dialling side; the accepting server `near` (the spoke) and its route peer `far`. */
  async function spokeKeepsInterest(sub: NatsConnection, near: NatsConnection, far: NatsConnection): Promise<void> {
    const got: string[] = [];
    sub.subscribe('hubx', { callback: (_e, m) => void got.push(m.string()) });
    await sub.flush();
    await eventually(async () => {
      if (got.length > 0) return true;
      near.publish('hubx', 'near');
      await near.flush();
      return false;
    }, 'a message from the spoke', 10_000);
    far.publish('hubx', 'far');
    await far.flush();
    await new Promise((r) => setTimeout(r, 200));
    expect(new Set(got)).toEqual(new Set(['near']));
  }

  it('hub: true on an embedded remote: the nats-server it dials (in a cluster) acts as the spoke', async () => {
    const [p1, p2, c1, c2, l1] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const n1 = await startRealServer(BIN, [`listen: "127.0.0.1:${p1}"`, 'server_name: n1', ...clusterBlock(c1, [`nats-route://127.0.0.1:${c2}`]), `leafnodes { listen: "127.0.0.1:${l1}" }`]);
    scope.defer(() => n1.stop());
    const n2 = await startRealServer(BIN, [`listen: "127.0.0.1:${p2}"`, 'server_name: n2', ...clusterBlock(c2, [`nats-route://127.0.0.1:${c1}`])]);
    scope.defer(() => n2.stop());
    const a = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://127.0.0.1:${l1}`, hub: true }] } });
    await spokeKeepsInterest(await scope.client(a), await scope.client(`nats://127.0.0.1:${p1}`), await scope.client(`nats://127.0.0.1:${p2}`));
  });

  it('hub: true on a nats-server remote: the embedded cluster member it dials acts as the spoke', async () => {
    const cluster = await scope.cluster({ size: 2, leafnodes: { port: 0 } });
    const [b1, b2] = cluster.servers;
    const port = await freePort();
    const real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, `leafnodes { remotes: [{ url: "${b1.leafnodeUrl!}", hub: true }] }`]);
    scope.defer(() => real.stop());
    await spokeKeepsInterest(await scope.client(`nats://127.0.0.1:${port}`), await scope.client(b1), await scope.client(b2));
  });
});
