/**
 * Replicas decide as the leader did, however late they apply an entry: a whole-cluster restart
 * rebuilds every store from the logs with the configs, duplicate windows and max_age expiry in
 * force when each entry was proposed; config changes apply in log order; republish happens once;
 * concurrent creates are all answered. (Found by a review: each case failed before its fix.)
 */
import { describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { createCluster, type NatsCluster } from '../../src/index.js';

async function restartAll(cluster: NatsCluster): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  for (let i = 0; i < 3; i++) await cluster.kill(i);
  for (let i = 0; i < 3; i++) await cluster.restart(i);
  await cluster.waitForJetStream();
  const nc = await connect({ servers: cluster.urls });
  return { nc, jsm: await jetstreamManager(nc) };
}

async function stateOf(jsm: JetStreamManager, name: string): Promise<{ messages: number; last_seq: number }> {
  for (let i = 0; ; i++) {
    try {
      return (await jsm.streams.info(name)).state;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('clustered JetStream: replay and determinism', () => {
  it('a whole-cluster restart replays sealed and shrunk-limit streams, dedupe and max_age as they were', async () => {
    const cluster = await createCluster({ size: 3, jetstream: true });
    try {
      let nc = await connect({ servers: cluster.urls });
      let jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      await jsm.streams.add({ name: 'Z', subjects: ['z'], num_replicas: 3 });
      await jsm.streams.add({ name: 'Y', subjects: ['y'], num_replicas: 3 });
      await jsm.streams.add({ name: 'D', subjects: ['d'], num_replicas: 3, duplicate_window: 1_000_000_000 });
      await jsm.streams.add({ name: 'E', subjects: ['e.>'], num_replicas: 3, max_age: 1_000_000_000, max_msgs: 2, discard: 'new' as never });
      for (let i = 0; i < 3; i++) await js.publish('z', `m${i}`);
      await js.publish('y', 'x'.repeat(500));
      await jsm.streams.update('Z', { sealed: true } as never);
      await jsm.streams.update('Y', { max_msg_size: 100 });
      expect((await js.publish('d', 'one', { msgID: 'X' })).duplicate).toBe(false);
      expect((await js.publish('d', 'two', { msgID: 'X' })).duplicate).toBe(true);
      await js.publish('e.k', '1');
      await js.publish('e.j', '2');
      await new Promise((r) => setTimeout(r, 1500));
      // Both expired: there is room again, and e.k has no message any more.
      expect((await js.publish('e.k', '3', { expect: { lastSubjectSequence: 0 } })).seq).toBe(3);
      expect((await js.publish('e.j', '4')).seq).toBe(4);
      await nc.close();
      ({ nc, jsm } = await restartAll(cluster));
      expect((await stateOf(jsm, 'Z')).messages).toBe(3);
      expect((await stateOf(jsm, 'Y')).messages).toBe(1);
      expect((await stateOf(jsm, 'D')).messages).toBe(1);
      expect((await stateOf(jsm, 'E')).last_seq).toBe(4);
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 90_000);

  it('republishes each message once, also when a member restarts; concurrent creates are all answered', async () => {
    const cluster = await createCluster({ size: 3, jetstream: true });
    try {
      const nc = await connect({ servers: cluster.urls[0] });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'R', subjects: ['r.>'], num_replicas: 3, republish: { src: 'r.>', dest: 'rp.>' } as never });
      let n = 0;
      const sub = nc.subscribe('rp.>', { callback: () => void n++ });
      await nc.flush();
      const js = jetstream(nc);
      for (let i = 0; i < 5; i++) await js.publish('r.a', `m${i}`);
      await cluster.restart(1);
      await new Promise((r) => setTimeout(r, 1000));
      sub.unsubscribe();
      expect(n).toBe(5);
      const creates = await Promise.allSettled([0, 1, 2].map((i) => jsm.streams.add({ name: 'C', subjects: [`c${i === 2 ? 'x' : ''}`], num_replicas: 3 })));
      expect(creates.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
      for (const r of creates) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/stream name already in use/);
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
