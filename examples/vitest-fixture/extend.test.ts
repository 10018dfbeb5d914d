import { expect } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsTest } from 'nats-embedded/vitest';

// Your own fixtures on top of `nats`: here a connection, closed before its broker is.
const test = natsTest.extend<{ nc: NatsConnection }>({
  nc: async ({ nats }, use) => {
    const nc = await connect({ servers: nats.url });
    try {
      await use(nc);
    } finally {
      await nc.close();
    }
  },
});

test('replies', async ({ nc }) => {
  nc.subscribe('svc.echo', { callback: (_err, m) => void m.respond(m.data) });
  const reply = await nc.request('svc.echo', 'hi');
  expect(reply.string()).toBe('hi');
});
