import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    globalSetup: ['./nats-setup.ts'],
    fileParallelism: false, // the test files share one JetStream and reset it before each test
  },
});
