/**
 * `nats-embedded/vitest`: fixtures for test files. `natsTest` gives each test that asks for
 * `nats` a fresh broker, `createNatsTest(options)` does the same with `createServer()` options,
 * `natsJetStreamTest` is `createNatsTest({ jetstream: true })` (each test with its own store;
 * `nats.jetstream.seed()`, `kvBucket()`, `reset()` on the handle), and
 * `createNatsClusterTest(options)` gives a `cluster` (`createCluster()`). Importing this
 * module also types `inject('natsUrl')` / `inject('natsUrls')` for the global setups.
 *
 * This module builds fixtures with `test.extend` as it loads, which needs vitest's test runtime:
 * import it from test files (and `setupFiles`) only. A `globalSetup` file runs without that
 * runtime and must import `nats-embedded/global-setup` instead.
 *
 * ```ts
 * import { natsTest as test } from 'nats-embedded/vitest';
 * test('publishes', async ({ nats }) => {
 *   const nc = await connect({ servers: nats.url });
 * });
 * ```
 */
import { test as base, type TestAPI } from 'vitest';
import { createCluster, createServer, type ClusterHarnessOptions, type NatsCluster, type NatsServer, type ServerOptions } from 'nats-embedded';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Client URL of the broker started by the nats-embedded global setup. */
    natsUrl: string;
    /** Client URLs of every member (one entry unless a cluster was asked for). */
    natsUrls: string[];
  }
}

/** Fixtures added by {@link natsTest} and {@link createNatsTest}. */
export interface NatsFixtures {
  /** A fresh broker for this test, closed when the test ends, whatever its outcome. */
  nats: NatsServer;
}

/** Fixtures added by {@link createNatsClusterTest}. */
export interface NatsClusterFixtures {
  /** A fresh, fully meshed cluster for this test, closed when the test ends, whatever its outcome. */
  cluster: NatsCluster;
}

/**
 * The body of a fixture: starts a resource, hands it to the test, closes it when the test ends.
 *
 * vitest runs the code after `use()` once the test is over, failed and timed-out tests too. But
 * a test can time out while its fixture is still starting (a cluster forming its mesh, a
 * nats-server process coming up): vitest then runs the cleanups it has, and a `use()` called
 * later would never return, so the resource would stay open. The test's `signal` is aborted at
 * that point; a resource that comes up after it is closed at once, and the fixture fails with
 * the abort reason (the test has already failed with it). vitest before 3.2 has no `signal`.
 */
async function provide<T extends { close(): Promise<void> }>(
  signal: AbortSignal | undefined,
  start: () => Promise<T>,
  use: (value: T) => Promise<void>,
  internalErrors: (value: T) => number,
): Promise<void> {
  // A start error rejects the fixture, which fails the test with that error.
  const resource = await start();
  if (signal?.aborted === true) {
    await resource.close();
    throw signal.reason;
  }
  try {
    await use(resource);
  } finally {
    await resource.close();
  }
  // A bug of the broker's own (caught, its connection closed) must not let the test pass.
  const n = internalErrors(resource);
  if (n > 0) throw new Error(`nats-embedded: ${n} internal error(s) in the broker during this test (see the process warnings)`);
}

/** Internal errors of an embedded server (the nats-server backend has no such count). */
function internalErrorsOf(server: NatsServer): number {
  return server.backend === 'embedded' ? server.stats().internalErrors : 0;
}

/**
 * `test` with a `nats` fixture started with `options`: each test that asks for `nats` gets its
 * own broker, on its own ephemeral port (unless `options.port` says otherwise). Extend it like
 * any vitest test: `createNatsTest(options).extend({ ... })`.
 *
 * If the broker cannot start (invalid option, port in use, no nats-server binary for the
 * `nats-server` backend), the test fails with that error.
 *
 * `{ jetstream: true }` turns JetStream on (a new temporary store per test, removed when the
 * test ends; on the `nats-server` backend, `-js` with such a store): `nats.jetstream` then seeds
 * (`seed()`), shows (`streams()`, `kvBucket()`, ...) and waits on what the test stored.
 * {@link natsJetStreamTest} is that fixture ready-made.
 *
 * @example
 * ```ts
 * const test = createNatsTest({ maxPayload: 8 * 1024 * 1024 });
 * test('takes big messages', async ({ nats }) => { ... });
 *
 * const jsTest = createNatsTest({ jetstream: { maxMemory: 64 * 1024 * 1024 } });
 * ```
 */
export function createNatsTest(options: ServerOptions = {}): TestAPI<NatsFixtures> {
  // A copy: the fixture starts a server per test, long after the caller may have changed its object.
  const serverOptions: ServerOptions = { ...options };
  return base.extend<NatsFixtures>({
    nats: ({ signal }, use) => provide(signal, () => createServer(serverOptions), use, internalErrorsOf),
  });
}

/**
 * `test` with a `nats` fixture: each test that asks for it gets its own broker, with default
 * options. `natsTest.extend({ ... })` adds fixtures of your own, which may use `nats`.
 *
 * @example
 * ```ts
 * import { natsTest as test } from 'nats-embedded/vitest';
 * test('publishes', async ({ nats }) => {
 *   const nc = await connect({ servers: nats.url });
 * });
 * ```
 */
export const natsTest: TestAPI<NatsFixtures> = createNatsTest();

/**
 * `test` with a `nats` fixture that has JetStream on: `createNatsTest({ jetstream: true })`.
 * Each test gets its own broker and its own temporary store (removed when the test ends), on
 * either backend, so no stream, bucket or consumer leaks from one test into the next.
 *
 * @example
 * ```ts
 * import { natsJetStreamTest as test } from 'nats-embedded/vitest';
 * test('reads config from KV', async ({ nats }) => {
 *   await nats.jetstream.seed({ kv: { config: { 'app.port': '8080' } } });
 *   const nc = await connect({ servers: nats.url });
 *   const kv = await new Kvm(nc).open('config');
 * });
 * ```
 */
export const natsJetStreamTest: TestAPI<NatsFixtures> = createNatsTest({ jetstream: true });

/**
 * `test` with a `cluster` fixture: each test that asks for it gets its own cluster from
 * `createCluster(options)` (`size` members, default 3), fully meshed before the test starts and
 * closed after it. The embedded backend only: with `nats-server` the test fails with
 * `createCluster()`'s `UnsupportedError`.
 *
 * @example
 * ```ts
 * const test = createNatsClusterTest({ size: 3 });
 * test('fails over', async ({ cluster }) => {
 *   const nc = await connect({ servers: cluster.urls });
 *   await cluster.kill(0);
 * });
 * ```
 */
export function createNatsClusterTest(options: ClusterHarnessOptions = {}): TestAPI<NatsClusterFixtures> {
  const clusterOptions: ClusterHarnessOptions = { ...options };
  return base.extend<NatsClusterFixtures>({
    // createCluster() closes the members it started if the mesh does not form.
    cluster: ({ signal }, use) =>
      provide(signal, () => createCluster(clusterOptions), use, (c) => c.servers.reduce((n, s) => n + internalErrorsOf(s), 0)),
  });
}
