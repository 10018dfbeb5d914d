import { expect } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { createNatsTest } from 'nats-embedded/vitest';

// createServer() options for every test's broker.
const test = createNatsTest({ maxPayload: 8 * 1024 * 1024 });

test('takes messages above the default 1 MiB', async ({ nats }) => {
  const nc = await connect({ servers: nats.url });
  const sub = nc.subscribe('blobs', { max: 1 });
  nc.publish('blobs', new Uint8Array(4 * 1024 * 1024));
  for await (const m of sub) expect(m.data.length).toBe(4 * 1024 * 1024);
  await nc.close();
});
