import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Needs a nats-server binary: run by `npm run test:conformance`. The timing-based consumer
    // model test runs on its own: `npm run test:model`.
    // The Jepsen-style runs against the embedded cluster wait for clustered JetStream (issue 18):
    // `npx vitest run -c test/jscluster/vitest.jepsen.config.ts`.
    exclude: ['test/conformance/**', 'node_modules/**', 'test/jetstream/consumer.property.test.ts', 'test/jscluster/jepsen-embedded.test.ts', 'test/jscluster/jepsen.chaos.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // CI also writes a JSON report, from which .ci/run prints a plain pass/fail line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
