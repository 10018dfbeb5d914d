import { expect, inject, test } from 'vitest';
import { connect, errors } from '@nats-io/transport-node';
import 'nats-embedded/vitest'; // types for inject('natsUrls')

test('a request sent to one member reaches a service on another', async () => {
  const urls = inject('natsUrls');
  expect(urls).toHaveLength(3);
  const service = await connect({ servers: urls[0] });
  const caller = await connect({ servers: urls[2] });
  service.subscribe('orders.create', { callback: (_err, m) => void m.respond(`created ${m.string()}`) });
  await service.flush();
  // The subscription reaches the other members over the routes a moment later: until then
  // the request gets "no responders".
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const reply = await caller.request('orders.create', 'book', { timeout: 1000 });
      expect(reply.string()).toBe('created book');
      break;
    } catch (err) {
      if (!(err instanceof errors.NoRespondersError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  await caller.close();
  await service.close();
});
