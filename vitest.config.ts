import { defineConfig } from 'vitest/config';

// Needs a nats-server binary: run by `npm run test:conformance`. The timing-based consumer
// model test runs on its own: `npm run test:model`.
// The many-seed Jepsen-style job runs in `npm run test:chaos` (its own config,
// test/jscluster/vitest.jepsen.config.ts); some seeds run here (jepsen-embedded.test.ts).
const EXCLUDE = ['test/conformance/**', 'node_modules/**', 'test/jetstream/consumer.property.test.ts', 'test/jscluster/jepsen.chaos.test.ts'];

// Clusters (Raft elections of 300-600 ms, failovers, partitions, the Jepsen runs) are
// timing-sensitive: their files run one at a time, after the rest, which runs two files at a time
// (the CI machine has 2 cores; one worker per core would leave most single-server files waiting
// on sockets and timers one after another).
const SERIAL = ['test/jscluster/**/*.test.ts', 'test/cluster/**/*.test.ts', 'test/leafnode/**/*.test.ts', 'test/gateway/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // CI also writes a JSON report, from which .ci/run prints a plain pass/fail line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        test: { name: 'parallel', include: ['test/**/*.test.ts'], exclude: [...EXCLUDE, ...SERIAL], maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'serial', include: SERIAL, exclude: EXCLUDE, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
