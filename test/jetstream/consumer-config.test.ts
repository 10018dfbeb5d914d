/**
 * Consumer configuration (src/jetstream/consumer-config*.ts): the table of CONSUMER.CREATE
 * requests and nats-server 2.10's answers (consumer-config-cases.ts; its 2.9.10-visible
 * entries are checked against the real binary by
 * test/conformance/jetstream-consumer-config.test.ts), and what the table can not reach
 * (server and account limits, interest on a deliver subject, ignored subjects).
 */
import { describe, expect, it } from 'vitest';
import { CASES, FakeStream, STREAM, api, errResp, ourAnswer, pullEcho, req, sub } from './consumer-config-cases.js';

describe('consumer config: requests and nats-server 2.10 answers', () => {
  for (const c of CASES) {
    it(c.title, () => {
      expect(ourAnswer(c)).toBe(c.expect);
    });
  }
});
