import { describe, it, expect } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createCluster } from '../../src/index.js';

describe('clustered jetstream consumers', () => {
  it('a durable pull consumer resumes from the replicated ack floor after the leader dies', async () => {
    const cluster = await createCluster({ size: 3, jetstream: true });
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'S', subjects: ['s.>'], num_replicas: 3 });
      const ci = await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 2_000_000_000 });
      expect(ci.cluster?.leader).toBeTruthy();
      const js = jetstream(nc);
      for (let i = 1; i <= 20; i++) await js.publish('s.a', `m${i}`);
      const c = await js.consumers.get('S', 'D');
      const got: number[] = [];
      const batch = await c.fetch({ max_messages: 10, expires: 2000 });
      for await (const m of batch) {
        got.push(m.seq);
        await m.ackAck();
      }
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      // Let the state entry commit, then kill the leader.
      await new Promise((r) => setTimeout(r, 100));
      const leader = await cluster.streamLeader('S');
      await cluster.kill(leader);
      await cluster.streamLeader('S');
      const after: number[] = [];
      const deadline = Date.now() + 10_000;
      while (after.length < 10 && Date.now() < deadline) {
        try {
          const c2 = await js.consumers.get('S', 'D');
          const b = await c2.fetch({ max_messages: 10 - after.length, expires: 1000 });
          for await (const m of b) {
            after.push(m.seq);
            m.ack();
          }
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(after).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      const info = await jsm.consumers.info('S', 'D');
      expect(info.delivered.stream_seq).toBe(20);
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 60_000);

  it('an ack is confirmed only once replicated: not by a leader cut off from its followers', async () => {
    const cluster = await createCluster({ size: 3, jetstream: true });
    try {
      const nc0 = await connect({ servers: cluster.urls });
      const jsm0 = await jetstreamManager(nc0);
      await jsm0.streams.add({ name: 'W', subjects: ['w'], num_replicas: 3 });
      await jsm0.consumers.add('W', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 2_000_000_000 });
      await jetstream(nc0).publish('w', 'one');
      await nc0.close();
      const leader = await cluster.streamLeader('W');
      const nc = await connect({ servers: cluster.urls[leader], reconnect: false });
      const c = await jetstream(nc).consumers.get('W', 'D');
      const m = await c.next({ expires: 2000 });
      expect(m?.string()).toBe('one');
      // A healthy group confirms a double ack.
      await jetstream(nc).publish('w', 'two');
      const m2 = await c.next({ expires: 2000 });
      expect(await m2!.ackAck({ timeout: 2000 })).toBe(true);
      await cluster.partition([leader], [0, 1, 2].filter((i) => i !== leader));
      // Cut off, the leader cannot replicate the ack: no confirmation (nats-server 2.10 answers
      // acks once applied; 2.9 confirmed them at once — nats-server#5419).
      await expect(m!.ackAck({ timeout: 1000 })).rejects.toThrow();
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
