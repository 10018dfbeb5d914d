import { expect, inject, test } from 'vitest';
import { connect } from '@nats-io/transport-node';
import 'nats-embedded/vitest';

test('the broker takes the configured payload', async () => {
  const nc = await connect({ servers: inject('natsUrl') });
  expect(nc.info?.max_payload).toBe(8_388_608);
  await nc.close();
});
