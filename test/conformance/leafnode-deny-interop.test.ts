/**
 * A leaf node remote's `deny_imports` and `deny_exports` against the real nats-server (2.9.10),
 * in both roles: the leaf node announces no interest in a denied import and asks its hub not to
 * send those subjects (CONNECT `deny_pub`, which the hub honours), and sends nothing on a denied
 * export (leafnode.go newLeafNodeCfg, processLeafNodeConnect's mergeDenyPermissions; the same in
 * 2.10.29). Run by `npm run test:conformance` (NATS_SERVER_BIN).
 */
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { freePort, startRealServer } from '../helpers/real-server.js';
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
});
