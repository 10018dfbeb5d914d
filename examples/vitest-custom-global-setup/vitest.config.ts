import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    globalSetup: ['./nats-setup.ts'], // your own setup file, with createServer() options
  },
});
