/**
 * The stream-config table against the real nats-server (2.9.10 on these machines): every case
 * whose 2.9.10 answer is known ('same', or its own answer where 2.10 differs) is sent to
 * `nats-server -js` over a raw socket, and the reply must be that answer byte for byte (for a
 * created stream: its `config`, which 2.9.10 writes without 2.10's `compression` and
 * `consumer_limits`). Streams made on the way are deleted again, so cases do not meet.
 * Part of `npm run test:conformance`; the cases 2.9.10 cannot show (2.10-only fields and
 * rules) are compared with the embedded broker only, in test/jetstream/stream-config.test.ts.
 * `STREAM_CONFIG_PRINT=1` prints each reply.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES, as29, type ConfigCase } from '../jetstream/stream-config-cases.js';
import { natsServerBin, startRealJetStream, type RealJetStream } from '../jetstream/real-js.js';

const BIN = natsServerBin();
/** The table states 2.9.10's answers: another version is not compared. */
const IS_29 = BIN !== '' && /v2\.9\./.test(execFileSync(BIN, ['--version'], { encoding: 'utf8' }));

/** The answer 2.9.10 should give for a case, or undefined when it can not be compared. */
function expected29(c: ConfigCase): string | undefined {
  if (c.v29 === 'same') return c.expect.startsWith('{"name"') ? as29(c.expect) : c.expect;
  if ('skip' in c.v29) return undefined;
  return c.v29.expect.startsWith('{"name"') ? as29(c.v29.expect) : c.v29.expect;
}

/** The part of a reply a case compares: the config of a created/updated stream, else all of it. */
function comparable(reply: string): string {
  const i = reply.indexOf('"config":');
  if (i < 0 || reply.includes('"error":')) return reply;
  const j = reply.indexOf(',"created":', i);
  return reply.slice(i + '"config":'.length, j);
}

describe('stream config: the table against the real nats-server', () => {
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
    it(`${c.op}: ${c.title}`, async () => {
      if (c.op === 'update') {
        const made = await js.request(`$JS.API.STREAM.CREATE.${c.subject}`, c.current!);
        expect(made, 'the stream to update').toContain('"did_create":true');
      }
      const api = c.op === 'create' ? 'CREATE' : 'UPDATE';
      const reply = await js.request(`$JS.API.STREAM.${api}.${c.subject}`, c.body);
      if (process.env.STREAM_CONFIG_PRINT) console.log(`${c.title}\n  ${reply}`);
      await js.request(`$JS.API.STREAM.DELETE.${c.subject}`, '');
      expect(comparable(reply)).toBe(want);
    });
  }
});
