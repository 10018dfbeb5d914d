import { defineConfig } from 'vitest/config';

// `npm run test:model`: the timing-based consumer model test (consumer.property.test.ts), run
// on its own, outside `npm test` and the conformance run (see the file's header: its ack-wait
// simulation can disagree with a loaded machine's timers on the order of near-simultaneous
// redeliveries).
export default defineConfig({
  test: {
    include: ['test/jetstream/consumer.property.test.ts'],
    testTimeout: 300_000,
    pool: 'forks',
  },
});
