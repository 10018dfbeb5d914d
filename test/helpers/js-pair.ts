/**
 * The two servers a JetStream differential suite compares: a real `nats-server -js` (on a fresh
 * store directory) and an embedded broker with JetStream, each with a client connection, started
 * before the file's tests and stopped (store removed) after them.
 */
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type NatsServer } from '../../src/index.js';
import { freePort, startRealServer, type RealServer } from './real-server.js';
import { natsServerBin } from '../jetstream/real-js.js';

export interface JetStreamPair {
  /** A client of the real nats-server. */
  readonly realNc: NatsConnection;
  /** A client of the embedded broker. */
  readonly embNc: NatsConnection;
}

/** Registers the file's beforeAll/afterAll; the connections are there once beforeAll ran. */
export function useJetStreamPair(storePrefix: string): JetStreamPair {
  let real: RealServer | undefined;
  let embedded: NatsServer | undefined;
  let store: string | undefined;
  const pair = {} as { realNc: NatsConnection; embNc: NatsConnection };
  beforeAll(async () => {
    store = mkdtempSync(join(tmpdir(), storePrefix));
    const port = await freePort();
    real = await startRealServer(natsServerBin(), [`listen: "127.0.0.1:${port}"`, `jetstream { store_dir: "${store}" }`]);
    pair.realNc = await connect({ servers: `127.0.0.1:${port}` });
    embedded = await createServer({ jetstream: true });
    pair.embNc = await connect({ servers: embedded.url });
  }, 30_000);
  afterAll(async () => {
    await pair.realNc?.close();
    await pair.embNc?.close();
    await embedded?.close();
    await real?.stop();
    if (store !== undefined) rmSync(store, { recursive: true, force: true });
  });
  return pair;
}
