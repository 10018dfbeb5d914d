// JetStream in a test suite: a stream, publishes with acks and dedupe, reading back, and a
// crash that file streams survive (the README's JetStream example, run as a user would).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createServer, type NatsServer } from 'nats-embedded';

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await createServer({ jetstream: true });
  nc = await connect({ servers: server.url, reconnectTimeWait: 50 });
});

afterAll(async () => {
  await nc.close();
  await server.close(); // also removes the temporary store
});

it('stores orders, dedupes by message id and keeps them across a crash', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], storage: 'file', max_msgs_per_subject: 10 } as never);

  const js = jetstream(nc);
  const ack = await js.publish('orders.new', JSON.stringify({ id: 1 }), { msgID: 'order-1' });
  expect(ack).toMatchObject({ stream: 'ORDERS', seq: 1, duplicate: false });
  expect(await js.publish('orders.new', JSON.stringify({ id: 1 }), { msgID: 'order-1' })).toMatchObject({ seq: 1, duplicate: true });

  const m = await jsm.streams.getMessage('ORDERS', { seq: ack.seq });
  expect(m?.json()).toEqual({ id: 1 });
  const last = await jsm.streams.getMessage('ORDERS', { last_by_subj: 'orders.new' });
  expect(last?.seq).toBe(1);

  await server.restart(); // a crash and a restart on the same port
  const info = await server.jetstream.waitForStream('ORDERS', { messages: 1 });
  expect(info.state).toMatchObject({ messages: 1, firstSeq: 1, lastSeq: 1 });
});
