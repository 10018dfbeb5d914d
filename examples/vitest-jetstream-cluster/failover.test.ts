// Failover of a replicated stream (the README's clustered JetStream guide, run as a user would):
// kill the member that leads an R3 stream while a publisher and a consumer keep going, and
// assert that nothing acknowledged is lost or duplicated.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createCluster, type NatsCluster } from 'nats-embedded';

let cluster: NatsCluster;
let nc: NatsConnection;

beforeAll(async () => {
  // Three members, JetStream replicated through Raft; resolves once a meta leader is elected.
  cluster = await createCluster({ size: 3, jetstream: true });
  nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
});

afterAll(async () => {
  await nc.close();
  await cluster.close();
});

it('loses no acknowledged order when the stream leader dies', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], num_replicas: 3 });
  await jsm.consumers.add('ORDERS', { durable_name: 'billing', ack_policy: AckPolicy.Explicit });
  const js = jetstream(nc);

  // A publish is acked once a majority stored it. While a new leader is elected the client
  // gets "no responders" or a timeout: retry with the same Nats-Msg-Id (deduplicated).
  const acked: string[] = [];
  const publish = async (id: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await js.publish('orders.new', id, { msgID: id, timeout: 500 });
        acked.push(id);
        return;
      } catch (err) {
        if (attempt === 50) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  for (let i = 0; i < 20; i++) await publish(`order-${i}`);
  const leader = await cluster.streamLeader('ORDERS'); // index into cluster.servers
  await cluster.kill(leader); // crash it: no goodbye, no flush
  for (let i = 20; i < 40; i++) await publish(`order-${i}`);
  expect(await cluster.streamLeader('ORDERS')).not.toBe(leader);

  // The consumer has a Raft group of its own (as in nats-server): it elects its new leader on its
  // own, and requests to it go unanswered until then. Wait for it, then it resumes there:
  // every acked order, once, in order.
  await cluster.consumerLeader('ORDERS', 'billing');
  const billed: string[] = [];
  const consumer = await js.consumers.get('ORDERS', 'billing');
  while (billed.length < acked.length) {
    const batch = await consumer.fetch({ max_messages: 10, expires: 1000 });
    for await (const m of batch) {
      billed.push(m.string());
      await m.ackAck();
    }
  }
  expect(billed).toEqual(acked);

  // The killed member comes back on the same ports and catches up.
  await cluster.restart(leader);
  expect((await jsm.streams.info('ORDERS')).state.messages).toBe(40);
});
