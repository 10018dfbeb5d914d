/**
 * Vitest integration: a `globalSetup` that starts one broker (or a cluster) for the whole run
 * and provides its URL to every test file, and a `test.extend` fixture that gives each test its
 * own fresh broker.
 *
 * ```ts
 * // vitest.config.ts
 * export default defineConfig({ test: { globalSetup: ['nats-embedded/vitest-setup'] } });
 * // a test file
 * import { inject } from 'vitest';
 * const nc = await connect({ servers: inject('natsUrl') });
 * ```
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

export { natsGlobalSetup, type NatsGlobalSetupOptions, type GlobalSetupProject } from './global-setup.js';

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
