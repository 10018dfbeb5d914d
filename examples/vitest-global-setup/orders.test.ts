import { expect, inject, test } from 'vitest';
import { connect } from '@nats-io/transport-node';
import 'nats-embedded/vitest'; // types for inject('natsUrl')

test('a service answers over the shared broker', async () => {
  const nc = await connect({ servers: inject('natsUrl') });
  nc.subscribe('orders.create', { callback: (_err, msg) => void msg.respond(`created ${msg.string()}`) });
  const reply = await nc.request('orders.create', 'book', { timeout: 2000 });
  expect(reply.string()).toBe('created book');
  await nc.close();
});
