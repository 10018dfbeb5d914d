/**
 * Leaf nodes in a supercluster, with the real nats-server (2.9.10) on the other end, in both
 * roles: a nats-server hub with gateways and an embedded leaf node, and an embedded hub with
 * gateways and a nats-server leaf node. In each, the other cluster (gateway) is of the other
 * implementation too. Messages cross both ways, and requests both ways: a request from the
 * other cluster reaches the leaf node with a `_GR_.`-mapped reply, which the leaf node's server
 * hides from its client and answers through the hub's `_GR_.>` interest (nats-server's
 * trackGWReply and handleGWReplyMap; leafnode.go initLeafNodeSmapAndSendSubs). The code read is
 * 2.10.29's; these paths are the same in 2.9.10. Run by `npm run test:conformance`
 * (NATS_SERVER_BIN).
 */
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope();

/** A request answered within the eventual interest propagation. */
async function answered(nc: NatsConnection, subject: string, want: string): Promise<void> {
  await eventually(async () => {
    try {
      return (await nc.request(subject, 'q', { timeout: 500 })).string() === want;
    } catch {
      return false;
    }
  }, `an answer on ${subject}`, 10_000);
}

/** Publishes on `subject` until `got` has a message. */
async function delivered(nc: NatsConnection, subject: string, got: string[]): Promise<void> {
  await eventually(async () => {
    if (got.length > 0) return true;
    nc.publish(subject, 'm');
    await nc.flush();
    return false;
  }, `a message on ${subject}`, 10_000);
}

/**
 * The checks, whoever runs what: `other` is a client of the other cluster, `leaf` of the leaf
 * node; `replies` collects the reply subjects the leaf node's responder saw.
 */
async function exchange(other: NatsConnection, leaf: NatsConnection): Promise<void> {
  const replies: string[] = [];
  leaf.subscribe('svc.leaf', { callback: (_e, m) => {
    replies.push(m.reply ?? '');
    m.respond('leaf answers');
  } });
  other.subscribe('svc.other', { callback: (_e, m) => void m.respond('other answers') });
  const toLeaf: string[] = [];
  const toOther: string[] = [];
  leaf.subscribe('down', { callback: (_e, m) => void toLeaf.push(m.string()) });
  other.subscribe('up', { callback: (_e, m) => void toOther.push(m.string()) });
  await Promise.all([leaf.flush(), other.flush()]);
  await delivered(other, 'down', toLeaf);
  await delivered(leaf, 'up', toOther);
  await answered(other, 'svc.leaf', 'leaf answers');
  await answered(leaf, 'svc.other', 'other answers');
  // The leaf node's client never sees a `_GR_.` reply (it could not publish on one).
  expect(replies.length).toBeGreaterThan(0);
  for (const r of replies) expect(r.startsWith('_GR_.')).toBe(false);
}

describe.skipIf(BIN === '')('leaf nodes of a cluster with gateways, against nats-server', () => {
  it('nats-server hub with a gateway to an embedded cluster, embedded leaf node', async () => {
    const [port, gwPort, leafPort] = [await freePort(), await freePort(), await freePort()];
    const real = await startRealServer(BIN, [
      `listen: "127.0.0.1:${port}"`,
      'server_name: real-hub',
      // nats-server requires one with both leaf nodes and gateways (leafnode.go validateLeafNode).
      'accounts { SYS {} }',
      'system_account: SYS',
      `gateway { name: R, listen: "127.0.0.1:${gwPort}" }`,
      `leafnodes { listen: "127.0.0.1:${leafPort}" }`,
    ]);
    scope.defer(() => real.stop());
    const emb = await scope.server({ serverName: 'emb-gw', gateway: { name: 'E', gateways: [{ name: 'R', url: `nats://127.0.0.1:${gwPort}` }] } });
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats://127.0.0.1:${leafPort}` }] } });
    await exchange(await scope.client(emb), await scope.client(leaf));
  });

  it('embedded hub with a gateway to a nats-server cluster, nats-server leaf node', async () => {
    const [rPort, rGw, lPort] = [await freePort(), await freePort(), await freePort()];
    const realGw = await startRealServer(BIN, [`listen: "127.0.0.1:${rPort}"`, 'server_name: real-gw', `gateway { name: R, listen: "127.0.0.1:${rGw}" }`]);
    scope.defer(() => realGw.stop());
    const hub = await scope.server({ serverName: 'emb-hub', leafnodes: { port: 0 }, gateway: { name: 'E', gateways: [{ name: 'R', url: `nats://127.0.0.1:${rGw}` }] } });
    const realLeaf = await startRealServer(BIN, [`listen: "127.0.0.1:${lPort}"`, 'server_name: real-leaf', `leafnodes { remotes: [{ url: "${hub.leafnodeUrl!}" }] }`]);
    scope.defer(() => realLeaf.stop());
    await exchange(await scope.client(`nats://127.0.0.1:${rPort}`), await scope.client(`nats://127.0.0.1:${lPort}`));
  });
});
