import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Needs a nats-server binary: run by `npm run test:conformance`. The timing-based consumer
    // model test runs on its own: `npm run test:model`.
    // The many-seed Jepsen-style job runs in `npm run test:chaos` (its own config,
    // test/jscluster/vitest.jepsen.config.ts); two seeds run here (jepsen-embedded.test.ts).
    exclude: ['test/conformance/**', 'node_modules/**', 'test/jetstream/consumer.property.test.ts', 'test/jscluster/jepsen.chaos.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // CI also writes a JSON report, from which .ci/run prints a plain pass/fail line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
