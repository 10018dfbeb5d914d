import { defineConfig } from 'vitest/config';

// The Jepsen-style runs against the embedded cluster with a longer timeout: the many-seed chaos
// job (`npm run test:chaos`), and the three seeds `npm test` runs too.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/jscluster/jepsen-embedded.test.ts', 'test/jscluster/jepsen.chaos.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
