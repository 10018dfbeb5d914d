/**
 * Interest and work-queue retention on replicated streams: every replica stores and removes the
 * same messages (the consumers that decide are replicated), so a new leader has the same stream.
 */
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, RetentionPolicy } from '@nats-io/jetstream';
import type { NatsCluster } from '../../src/index.js';
import { setUpStream } from './leadership.js';

async function stepDownAndWait(cluster: NatsCluster, nc: NatsConnection, stream: string): Promise<void> {
  const before = await cluster.streamLeader(stream);
  await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, '', { timeout: 2000 });
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
    if ((await cluster.streamLeader(stream)) !== before) return;
  }
  throw new Error('no new leader');
}

describe('clustered JetStream retention', () => {
  it('a work queue: acked messages leave every replica', async () => {
    const { cluster, nc, jsm } = await setUpStream(RetentionPolicy.Workqueue, { name: 'WQ', subjects: ['jobs.>'] });
    try {
      await jsm.consumers.add('WQ', { durable_name: 'W', ack_policy: AckPolicy.Explicit });
      const js = jetstream(nc);
      for (let i = 0; i < 10; i++) await js.publish('jobs.a', `j${i}`);
      const c = await js.consumers.get('WQ', 'W');
      const batch = await c.fetch({ max_messages: 6, expires: 2000 });
      for await (const m of batch) await m.ackAck();
      await new Promise((r) => setTimeout(r, 100));
      expect((await jsm.streams.info('WQ')).state).toMatchObject({ messages: 4, first_seq: 7 });
      await stepDownAndWait(cluster, nc, 'WQ');
      expect((await jsm.streams.info('WQ')).state).toMatchObject({ messages: 4, first_seq: 7 });
      const rest: string[] = [];
      const b2 = await (await js.consumers.get('WQ', 'W')).fetch({ max_messages: 4, expires: 2000 });
      for await (const m of b2) {
        rest.push(m.string());
        await m.ackAck();
      }
      expect(rest).toEqual(['j6', 'j7', 'j8', 'j9']);
      await new Promise((r) => setTimeout(r, 100));
      expect((await jsm.streams.info('WQ')).state.messages).toBe(0);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('interest: nothing kept without a consumer; kept until every consumer acked', async () => {
    const { cluster, nc, jsm } = await setUpStream(RetentionPolicy.Interest, { name: 'I', subjects: ['ev.>'] });
    try {
      const js = jetstream(nc);
      expect((await js.publish('ev.a', 'nobody')).seq).toBe(1);
      await jsm.consumers.add('I', { durable_name: 'A', ack_policy: AckPolicy.Explicit });
      await jsm.consumers.add('I', { durable_name: 'B', ack_policy: AckPolicy.Explicit, filter_subject: 'ev.b' });
      await js.publish('ev.a', 'a1');
      await js.publish('ev.b', 'b1');
      expect((await jsm.streams.info('I')).state).toMatchObject({ messages: 2, last_seq: 3 });
      const a = await js.consumers.get('I', 'A');
      for await (const m of await a.fetch({ max_messages: 2, expires: 2000 })) await m.ackAck();
      await new Promise((r) => setTimeout(r, 100));
      // b1 still waits for B.
      expect((await jsm.streams.info('I')).state).toMatchObject({ messages: 1, first_seq: 3 });
      await stepDownAndWait(cluster, nc, 'I');
      expect((await jsm.streams.info('I')).state).toMatchObject({ messages: 1, first_seq: 3 });
      await jsm.consumers.delete('I', 'B');
      await new Promise((r) => setTimeout(r, 100));
      expect((await jsm.streams.info('I')).state.messages).toBe(0);
      await stepDownAndWait(cluster, nc, 'I');
      expect((await jsm.streams.info('I')).state.messages).toBe(0);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);
});
