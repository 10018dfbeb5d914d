/**
 * JetStream in the vitest entry points, on both backends: the `natsJetStreamTest` fixture
 * (`createNatsTest({ jetstream: true })`) gives each test a broker with its own temporary store,
 * removed when the test ends; `natsGlobalSetup({ jetstream: true })` provides a URL to a broker
 * with JetStream (on the nats-server backend: `-js` with a temporary store dir) that tests reset
 * and seed through that URL alone, and its teardown removes the store.
 *
 * Reads the built package (dist/): run `npm run build` first, as `npm test` does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { jetstreamManager } from '@nats-io/jetstream';
import { resetJetStream, seedJetStream, jetstreamHelpers } from 'nats-embedded';
import { natsGlobalSetup } from 'nats-embedded/global-setup';
import { createNatsTest, natsJetStreamTest } from 'nats-embedded/vitest';

/** The temporary JetStream stores this process has now (both backends name them so). */
function tempStores(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith(`nats-embedded-js-${process.pid}-`)).map((n) => join(tmpdir(), n));
}

describe.each(['embedded', 'nats-server'] as const)('JetStream fixtures and global setup (%s backend)', (backend) => {
  const test = createNatsTest({ jetstream: true, backend });
  const stores: string[] = [];

  test('the fixture has JetStream, with a store of its own', async ({ nats }) => {
    expect(nats.backend).toBe(backend);
    expect(nats.jetstream.enabled).toBe(true);
    await nats.jetstream.seed({ kv: { config: { 'app.port': '8080' } }, streams: { ORDERS: { subjects: ['orders.>'], storage: 'file' } } });
    const nc = await connect({ servers: nats.url });
    try {
      const kv = await new Kvm(nc).open('config');
      expect((await kv.get('app.port'))?.string()).toBe('8080');
    } finally {
      await nc.close();
    }
    const dir = nats.jetstream.storeDir;
    expect(dir).not.toBeNull();
    expect(existsSync(dir!)).toBe(true);
    stores.push(dir!);
  });

  test('the next test gets a new broker and an empty store', async ({ nats }) => {
    expect(await nats.jetstream.streams()).toEqual([]);
    expect(nats.jetstream.storeDir).not.toBe(stores[0]);
  });

  afterAll(() => {
    // The first test's store went with its broker.
    expect(stores).toHaveLength(1);
    expect(existsSync(stores[0])).toBe(false);
  });

  it('natsGlobalSetup({ jetstream: true }): tests seed and reset through the provided URL; teardown removes the store', async () => {
    const before = tempStores();
    const provided: { natsUrl?: string } = {};
    const teardown = await natsGlobalSetup({ jetstream: true, backend })({
      provide: ((key: string, value: unknown) => {
        if (key === 'natsUrl') provided.natsUrl = value as string;
      }) as never,
    });
    try {
      const url = provided.natsUrl!;
      // What a test file does: seed, use, reset before the next test.
      await seedJetStream(url, { streams: { ORDERS: { subjects: ['orders.>'], storage: 'file', messages: [{ subject: 'orders.1', data: { id: 1 } }] } } });
      const nc = await connect({ servers: url });
      try {
        const jsm = await jetstreamManager(nc);
        expect((await jsm.streams.info('ORDERS')).state.messages).toBe(1);
        await jsm.consumers.add('ORDERS', { durable_name: 'worker' });
        expect(tempStores().filter((d) => !before.includes(d))).toHaveLength(1);
        expect(await resetJetStream(url)).toEqual({ streams: 1, consumers: 1 });
        const js = await jetstreamHelpers(url);
        try {
          expect(await js.streams()).toEqual([]);
        } finally {
          js.close();
        }
      } finally {
        await nc.close();
      }
    } finally {
      await teardown();
    }
    expect(tempStores().filter((d) => !before.includes(d))).toEqual([]);
  });
});

natsJetStreamTest('natsJetStreamTest is createNatsTest({ jetstream: true })', async ({ nats }) => {
  expect(nats.jetstream.enabled).toBe(true);
  expect(await nats.jetstream.reset()).toEqual({ streams: 0, consumers: 0 });
});
