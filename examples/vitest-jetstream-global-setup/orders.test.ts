import { beforeEach, expect, inject, test } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { resetJetStream, seedJetStream } from 'nats-embedded';
import 'nats-embedded/vitest'; // types for inject('natsUrl')

const url = inject('natsUrl');

// Every test starts from an empty JetStream: no restart, a few milliseconds.
beforeEach(() => resetJetStream(url));

test('the ORDERS stream holds what was seeded and published', async () => {
  await seedJetStream(url, {
    streams: { ORDERS: { subjects: ['orders.>'], messages: [{ subject: 'orders.1', data: { id: 1 } }] } },
  });
  const nc = await connect({ servers: url });
  await jetstream(nc).publish('orders.2', JSON.stringify({ id: 2 }));
  const info = await (await jetstreamManager(nc)).streams.info('ORDERS');
  expect(info.state.messages).toBe(2);
  await nc.close();
});

test('nothing is left from the previous test', async () => {
  const nc = await connect({ servers: url });
  const names = [];
  for await (const name of (await jetstreamManager(nc)).streams.names()) names.push(name);
  expect(names).toEqual([]);
  await nc.close();
});
