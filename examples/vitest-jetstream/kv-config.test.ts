// A KV-backed service under test: each test gets its own broker with JetStream (natsJetStreamTest),
// seeds the bucket it needs in one call, and checks what the code under test stored.
import { expect } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { natsJetStreamTest as test } from 'nats-embedded/vitest';

test('reads its settings from KV and records the last start', async ({ nats }) => {
  await nats.jetstream.seed({ kv: { config: { 'app.port': '8080', 'app.mode': 'test' } } });

  // The code under test, with the official client.
  const nc = await connect({ servers: nats.url });
  const config = await new Kvm(nc).open('config');
  const port = (await config.get('app.port'))?.string();
  await config.put('app.started', `on port ${port}`);
  await config.delete('app.mode');
  await nc.close();

  const bucket = await nats.jetstream.kvBucket('config', { keys: true });
  expect(bucket?.keys?.map((k) => [k.key, k.value])).toEqual([
    ['app.port', '8080'],
    ['app.started', 'on port 8080'],
  ]);
});
