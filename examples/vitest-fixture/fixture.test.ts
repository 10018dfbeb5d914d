import { expect } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { natsTest as test } from 'nats-embedded/vitest';

// Each test gets its own fresh broker (`nats`), closed when the test ends.
test('each test has its own broker', async ({ nats }) => {
  const nc = await connect({ servers: nats.url });
  const sub = nc.subscribe('greet', { max: 1 });
  nc.publish('greet', 'hello');
  for await (const m of sub) expect(m.string()).toBe('hello');
  expect(nats.stats().inMsgs).toBe(1); // a fresh broker: nothing else was published on it
  await nc.close();
});
