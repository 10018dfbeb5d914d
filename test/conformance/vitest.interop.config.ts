import { defineConfig } from 'vitest/config';

// The mixed-cluster suite: needs NATS_SERVER_BIN, so only `npm run test:conformance` runs it.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/conformance/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
