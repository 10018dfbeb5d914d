/**
 * `nats-embedded/vitest`: fixtures for test files (a `test.extend` fixture that gives each test
 * its own fresh broker), and the types of `inject('natsUrl')` for the global setups.
 *
 * This module builds its fixture with `test.extend` as it loads, which needs vitest's test
 * runtime: import it from test files only. A `globalSetup` file runs without that runtime and
 * imports `nats-embedded/global-setup` (or lists `nats-embedded/vitest-setup`); so this module
 * does not re-export `natsGlobalSetup`.
 */
import { test as base } from 'vitest';
import { createServer, type NatsServer } from 'nats-embedded';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Client URL of the broker started by the nats-embedded global setup. */
    natsUrl: string;
    /** Client URLs of every member (one entry unless a cluster was asked for). */
    natsUrls: string[];
  }
}

/** Fixtures added by {@link natsTest}. */
export interface NatsFixtures {
  /** A fresh broker for this test, closed when it ends. */
  nats: NatsServer;
}

/**
 * `test` with a `nats` fixture: each test that asks for it gets its own broker.
 *
 * ```ts
 * import { natsTest as test } from 'nats-embedded/vitest';
 * test('publishes', async ({ nats, expect }) => {
 *   const nc = await connect({ servers: nats.url });
 *   ...
 * });
 * ```
 */
export const natsTest = base.extend<NatsFixtures>({
  // eslint-disable-next-line no-empty-pattern
  nats: async ({}, use) => {
    const server = await createServer();
    try {
      await use(server);
    } finally {
      await server.close();
    }
  },
});
