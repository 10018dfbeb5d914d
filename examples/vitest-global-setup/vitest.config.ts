import { defineConfig } from 'vitest/config';

// One broker for the whole run; every test file reads its URL with inject('natsUrl').
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    globalSetup: ['nats-embedded/vitest-setup'],
  },
});
