/**
 * Clustered JetStream under partitions and whole-cluster restarts: the minority side stops
 * acknowledging, the majority elects a leader and goes on, healing catches the minority up;
 * every member killed and restarted comes back from its logs with every acknowledged message.
 */
import { describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { eventually } from '../helpers/eventually.js';
import { createCluster, type NatsCluster } from '../../src/index.js';

async function publishUntilAcked(nc: NatsConnection, subject: string, data: string, ms = 10_000): Promise<number> {
  const js = jetstream(nc);
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return (await js.publish(subject, data, { msgID: data, timeout: 500 })).seq;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** eventually(), with a probe that may reject while the cluster changes (counted as not yet). */
function until(what: string, fn: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  return eventually(() => fn().catch(() => false), what, ms);
}

describe('clustered JetStream: partitions and restarts', () => {
  it('a leader cut off in the minority stops acking; the majority goes on; healing catches it up', async () => {
    const cluster: NatsCluster = await createCluster({ size: 3, jetstream: true });
    try {
      const ncs = await Promise.all(cluster.urls.map((url) => connect({ servers: url, reconnect: false })));
      await (await jetstreamManager(ncs[0]!)).streams.add({ name: 'P', subjects: ['p'], num_replicas: 3 });
      for (let i = 1; i <= 5; i++) await publishUntilAcked(ncs[0]!, 'p', `a${i}`);
      const leader = await cluster.streamLeader('P');
      const others = [0, 1, 2].filter((i) => i !== leader);
      await cluster.partition([leader], others);
      // The old leader steps down once it misses its quorum: no more acks on its side.
      await until('the isolated leader to step down', async () => cluster.servers[leader]!.jetstreamStreamLeader('P') !== cluster.servers[leader]!.info.server_name);
      await expect(jetstream(ncs[leader]!).publish('p', 'lost', { timeout: 500 })).rejects.toThrow();
      // The majority elects and takes publishes.
      const seq = await publishUntilAcked(ncs[others[0]!]!, 'p', 'b1');
      expect(seq).toBe(6);
      await cluster.heal();
      await until('the healed member to catch up', async () => {
        const r = (await (await jetstreamManager(ncs[others[1]!]!)).streams.info('P')).cluster?.replicas ?? [];
        return r.length === 2 && r.every((x) => x.current);
      });
      const st = (await (await jetstreamManager(ncs[leader]!)).streams.info('P')).state;
      expect([st.messages, st.last_seq]).toEqual([6, 6]);
      for (const nc of ncs) await nc.close();
    } finally {
      await cluster.close();
    }
  }, 60_000);

  it('every member killed and restarted: the streams, messages and consumers come back from the logs', async () => {
    // A system-account user for META.LEADER.STEPDOWN (2.10.29 serves it to the system account only).
    const cluster = await createCluster({
      size: 3, jetstream: true,
      authorization: { users: [{ user: 'g', password: 'g' }] },
      accounts: { $SYS: { users: [{ user: 's', password: 's' }] } },
    });
    try {
      let nc = await connect({ servers: cluster.urls, user: 'g', pass: 'g' });
      let jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'F', subjects: ['f'], num_replicas: 3 });
      await jsm.streams.add({ name: 'M', subjects: ['m'], num_replicas: 3, storage: 'memory' as never });
      await jsm.consumers.add('F', { durable_name: 'D', ack_policy: 'explicit' as never });
      for (let i = 1; i <= 10; i++) {
        await publishUntilAcked(nc, 'f', `f${i}`);
        await publishUntilAcked(nc, 'm', `m${i}`);
      }
      const c = await jetstream(nc).consumers.get('F', 'D');
      const batch = await c.fetch({ max_messages: 4, expires: 2000 });
      for await (const m of batch) await m.ackAck();
      await new Promise((r) => setTimeout(r, 100));
      await nc.close();
      for (let i = 0; i < 3; i++) await cluster.kill(i);
      for (let i = 0; i < 3; i++) await cluster.restart(i);
      await cluster.waitForJetStream();
      nc = await connect({ servers: cluster.urls, user: 'g', pass: 'g' });
      jsm = await jetstreamManager(nc);
      await until('both streams back', async () => (await jsm.streams.info('F')).state.messages === 10 && (await jsm.streams.info('M')).state.messages === 10);
      const ci = await jsm.consumers.info('F', 'D');
      expect(ci.ack_floor.stream_seq).toBe(4);
      expect(await publishUntilAcked(nc, 'f', 'f11')).toBe(11);
      // Meta leader stepdown, from the system account.
      const before = await cluster.waitForJetStream();
      const sys = await connect({ servers: cluster.urls, user: 's', pass: 's' });
      const r = await sys.request('$JS.API.META.LEADER.STEPDOWN', '', { timeout: 2000 });
      expect(r.json()).toEqual({ type: 'io.nats.jetstream.api.v1.meta_leader_stepdown_response', success: true });
      await until('a new meta leader', async () => (await cluster.waitForJetStream()) !== before);
      await sys.close();
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
