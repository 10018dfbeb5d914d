import { defineConfig } from 'vitest/config';

// The Jepsen-style runs against the embedded cluster (jepsen-embedded.test.ts, jepsen.chaos.test.ts):
// not in the default run until clustered JetStream lands.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/jscluster/jepsen-embedded.test.ts', 'test/jscluster/jepsen.chaos.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
