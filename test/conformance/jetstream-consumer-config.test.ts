/**
 * The consumer-config table against the real nats-server (2.9.10 on these machines): every
 * case whose 2.9.10 answer is known ('same', or its own answer where 2.10 differs, each
 * difference explained in test/jetstream/consumer-config-cases.ts) is sent to
 * `nats-server -js` over a raw socket as a `$JS.API.CONSUMER.CREATE…` request, after the
 * case's stream and `before` consumers are made, and the reply must be that answer byte for
 * byte (for a created or updated consumer: its `config`). The stream is deleted after each
 * case, so cases do not meet. Part of `npm run test:conformance`; the cases 2.9.10 cannot
 * show (2.10-only fields, rules and actions) are compared with our answers only, in
 * test/jetstream/consumer-config.test.ts. `CONSUMER_CONFIG_PRINT=1` prints each reply.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES, type ConsumerCase } from '../jetstream/consumer-config-cases.js';
import { natsServerBin, startRealJetStream, type RealJetStream } from '../jetstream/real-js.js';

const BIN = natsServerBin();
/** The table states 2.9.10's answers: another version is not compared. */
const IS_29 = BIN !== '' && /v2\.9\./.test(execFileSync(BIN, ['--version'], { encoding: 'utf8' }));

/** The answer 2.9.10 should give for a case, or undefined when it can not be compared. */
function expected29(c: ConsumerCase): string | undefined {
  if (c.v29 === 'same') return c.expect;
  if ('skip' in c.v29) return undefined;
  return c.v29.expect;
}

/** The part of a reply a case compares: the config of a created consumer, else all of it. */
function comparable(reply: string): string {
  const i = reply.indexOf('"config":');
  if (i < 0 || reply.includes('"error":')) return reply;
  const j = reply.indexOf(',"delivered":', i);
  return reply.slice(i + '"config":'.length, j);
}

describe('consumer config: the table against the real nats-server', () => {
  let js: RealJetStream;
  beforeAll(async () => {
    if (!IS_29) throw new Error(`the table states nats-server 2.9.10's answers; ${BIN || 'no nats-server'} is not a 2.9 binary`);
    js = await startRealJetStream(BIN);
  });
  afterAll(async () => {
    await js?.stop();
  });

  for (const c of CASES) {
    const want = expected29(c);
    if (want === undefined) continue;
    it(c.title, async () => {
      const stream = (JSON.parse(c.stream) as { name: string }).name;
      const made = await js.request(`$JS.API.STREAM.CREATE.${stream}`, c.stream);
      expect(made, 'the stream').toContain('"did_create":true');
      try {
        for (const [subject, body] of c.before) {
          const r = await js.request(subject, body);
          expect(r, `before: ${subject}`).toContain('"config":');
        }
        const reply = await js.request(c.subject, c.body);
        if (process.env.CONSUMER_CONFIG_PRINT) console.log(`${c.title}\n  ${reply}`);
        expect(comparable(reply)).toBe(want);
      } finally {
        await js.request(`$JS.API.STREAM.DELETE.${stream}`, '');
      }
    });
  }
});
