import { expect } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { createNatsClusterTest } from 'nats-embedded/vitest';

// Each test gets its own meshed cluster of three embedded servers, closed when the test ends.
const test = createNatsClusterTest({ size: 3 });

test('a client fails over when its server dies', async ({ cluster }) => {
  const nc = await connect({ servers: cluster.urls[0], reconnectTimeWait: 50 });
  const status = nc.status(); // before the kill, so that the reconnect is not missed
  await cluster.kill(0);
  for await (const s of status) if (s.type === 'reconnect') break;
  expect(cluster.urls.slice(1)).toContain(`nats://${nc.getServer()}`);
  await nc.close();
});
