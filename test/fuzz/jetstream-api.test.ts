/**
 * Hostile input to JetStream: random `$JS.API` requests (names good and bad, bodies from
 * mutated valid configs to random JSON and random bytes) and publishes with random JetStream
 * headers into streams of both storages. Every request must get an answer nats-server could
 * give (an API response with a `type`, or an error `{code, err_code, description}`; status
 * replies for direct gets), the broker must count no internal error, and a bystander's
 * messages keep flowing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type NatsServer } from '../../src/index.js';

let server: NatsServer;
let nc: NatsConnection;
let bystander: NatsConnection;

beforeAll(async () => {
  server = await createServer({ jetstream: { maxMemory: 1 << 20, maxStore: 4 << 20 } });
  nc = await connect({ servers: server.url });
  bystander = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await bystander?.close();
  await server?.close();
});

const NAMES = ['S', 'T', 'M', '', 'a.b', 'x*', 'y>', 'ü'];
const name = fc.constantFrom(...NAMES);
const subject = fc.constantFrom('s.a', 's.b', 's.c.d', 't.x', 'm.1', '*', '>', 's.*', '', 'a..b');

const CONFIG_FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  name,
  subjects: fc.array(subject, { maxLength: 3 }),
  storage: fc.constantFrom('file', 'memory', 'FILE', 'disk', 0, 1),
  retention: fc.constantFrom('limits', 'interest', 'workqueue', 'bogus'),
  max_msgs: fc.integer({ min: -3, max: 20 }),
  max_bytes: fc.oneof(fc.integer({ min: -2, max: 4000 }), fc.constant(1e15)),
  max_age: fc.oneof(fc.constant(0), fc.integer({ min: -5, max: 5_000_000_000 })),
  max_msgs_per_subject: fc.integer({ min: -2, max: 5 }),
  max_msg_size: fc.integer({ min: -2, max: 300 }),
  discard: fc.constantFrom('old', 'new', 'OLD', 'x'),
  discard_new_per_subject: fc.boolean(),
  num_replicas: fc.integer({ min: -1, max: 6 }),
  duplicate_window: fc.oneof(fc.constant(0), fc.integer({ min: -1, max: 10_000_000_000 })),
  allow_rollup_hdrs: fc.boolean(),
  deny_delete: fc.boolean(),
  deny_purge: fc.boolean(),
  sealed: fc.boolean(),
  allow_direct: fc.boolean(),
  mirror_direct: fc.boolean(),
  first_seq: fc.integer({ min: 0, max: 50 }),
  republish: fc.record({ src: subject, dest: subject, headers_only: fc.boolean() }, { requiredKeys: [] }),
  subject_transform: fc.record({ src: subject, dest: fc.constantFrom('out.{{wildcard(1)}}', 'z.>', 'bad{{', '') }, { requiredKeys: [] }),
  metadata: fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
  mirror: fc.record({ name }, { requiredKeys: [] }),
  sources: fc.array(fc.record({ name }), { maxLength: 2 }),
  placement: fc.record({ cluster: fc.string({ maxLength: 3 }) }),
};
const configBody = fc.record(CONFIG_FIELDS, { requiredKeys: [] });
const requestBody = fc.record(
  {
    seq: fc.integer({ min: -1, max: 30 }),
    last_by_subj: subject,
    next_by_subj: subject,
    filter: subject,
    keep: fc.integer({ min: -1, max: 5 }),
    no_erase: fc.boolean(),
    offset: fc.integer({ min: -1, max: 5 }),
    subject,
    deleted_details: fc.boolean(),
    subjects_filter: subject,
    batch: fc.integer({ min: -1, max: 3 }),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  { weight: 4, arbitrary: configBody.map((o) => JSON.stringify(o)) },
  { weight: 3, arbitrary: requestBody.map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constant('') },
);

type Step =
  | { kind: 'api'; subject: string; body: string }
  | { kind: 'pub'; subject: string; hdrs: Array<[string, string]>; data: string };

const API = fc.oneof(
  fc.constantFrom('INFO', 'STREAM.NAMES', 'STREAM.LIST'),
  fc.tuple(
    fc.constantFrom('STREAM.CREATE', 'STREAM.UPDATE', 'STREAM.INFO', 'STREAM.DELETE', 'STREAM.PURGE', 'STREAM.MSG.GET', 'STREAM.MSG.DELETE', 'CONSUMER.CREATE', 'CONSUMER.NAMES', 'CONSUMER.LIST'),
    name,
  ).map(([op, n]) => (n === '' ? op : `${op}.${n}`)),
  fc.tuple(fc.constantFrom('CONSUMER.INFO', 'CONSUMER.DELETE', 'CONSUMER.DURABLE.CREATE'), name, fc.constantFrom('c', 'd')).map(([op, n, c]) => `${op}.${n}.${c}`),
  fc.constantFrom('STREAM', 'STREAM.BOGUS.S', 'NOPE'),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('api' as const), subject: API.map((op) => `$JS.API.${op}`), body }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('api' as const), subject: fc.tuple(name, subject).map(([n, s]) => `$JS.API.DIRECT.GET.${n}${s === '' ? '' : `.${s}`}`), body }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('pub' as const),
      subject: fc.constantFrom('s.a', 's.b', 's.c.d', 't.x', 'm.1'),
      hdrs: fc.array(
        fc.tuple(
          fc.constantFrom('Nats-Msg-Id', 'Nats-Expected-Stream', 'Nats-Expected-Last-Msg-Id', 'Nats-Expected-Last-Sequence', 'Nats-Expected-Last-Subject-Sequence', 'Nats-Rollup'),
          fc.constantFrom('1', '0', 'S', 'T', 'id-1', 'sub', 'all', 'x', '-1', '99999999999999999999'),
        ),
        { maxLength: 3 },
      ),
      data: fc.string({ maxLength: 200 }),
    }),
  },
);

function checkApiAnswer(subject: string, data: Uint8Array, hdr: { code: number } | null): string | null {
  if (subject.startsWith('$JS.API.DIRECT.GET')) return null; // a message or a status reply: both fine
  const text = new TextDecoder().decode(data);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return `${subject}: not JSON: ${text.slice(0, 100)} (status ${hdr?.code})`;
  }
  const err = json.error as Record<string, unknown> | undefined;
  if (err !== undefined) {
    if (typeof err.code !== 'number' || typeof err.description !== 'string') return `${subject}: bad error ${text}`;
    return null;
  }
  if (typeof json.type !== 'string' && typeof json.stream !== 'string') return `${subject}: no type: ${text.slice(0, 200)}`;
  return null;
}

describe('JetStream API under random requests', () => {
  it('answers every request as nats-server could, with no internal error and the bystander unaffected', async () => {
    let bystanderGot = 0;
    bystander.subscribe('bystander', { callback: () => void bystanderGot++ });
    await bystander.flush();
    let sent = 0;
    let runs = 0;
    const numRuns = Number(process.env.FUZZ_RUNS ?? 60);
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        for (const st of steps) {
          if (st.kind === 'api') {
            let m;
            try {
              m = await nc.request(st.subject, st.body, { timeout: 2000 });
            } catch (err) {
              // No responders: DIRECT.GET without allow_direct, as nats-server 2.10.
              const msg = String(err);
              // A subject with an empty token matches no subscription (the core's rule, as nats-server's sublist).
              if ((st.subject.startsWith('$JS.API.DIRECT.GET') || st.subject.includes('..') || st.subject.endsWith('.')) && /503|no responders/i.test(msg)) continue;
              throw new Error(`${st.subject} ${st.body}: ${msg}`);
            }
            const problem = checkApiAnswer(st.subject, m.data, m.headers === undefined ? null : { code: m.headers.code });
            if (problem !== null) throw new Error(`${problem}\nbody: ${st.body}`);
          } else {
            const h = headers();
            for (const [k, v] of st.hdrs) h.append(k, v);
            try {
              const m = await nc.request(st.subject, st.data, { timeout: 2000, headers: h });
              const problem = checkApiAnswer(st.subject, m.data, null);
              if (problem !== null) throw new Error(problem);
            } catch (err) {
              // No stream on that subject (or a stream with no_ack): nobody answers.
              if (!/503|no responders/i.test(String(err))) throw err;
            }
          }
          sent++;
        }
        bystander.publish('bystander', 'x');
        runs++;
        expect(server.stats().internalErrors).toBe(0);
      }),
      { numRuns, seed: Number(process.env.FUZZ_SEED ?? 0x15), endOnFailure: true },
    );
    await nc.flush();
    await bystander.flush();
    expect(sent).toBeGreaterThan(100);
    expect(runs).toBe(numRuns);
    expect(bystanderGot).toBe(numRuns);
    expect(server.stats().internalErrors).toBe(0);
  }, 120_000);
});
