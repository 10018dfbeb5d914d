/**
 * Consumer configuration (src/jetstream/consumer-config*.ts): the table of CONSUMER.CREATE
 * requests and nats-server 2.10's answers (consumer-config-cases.ts; its 2.9.10-visible
 * entries are checked against the real binary by
 * test/conformance/jetstream-consumer-config.test.ts), and what the table can not reach
 * (server and account limits, interest on a deliver subject, ignored subjects).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONSUMER_CONFIG_SCHEMA,
  consumerConfigsEqual,
  decodeCreateConsumerRequest,
  encodeConsumerConfig,
  zeroConsumerConfig,
  type ConsumerConfig,
} from '../../src/jetstream/consumer-config.js';
import { checkConsumerCreate, checkConsumerUpdate } from '../../src/jetstream/consumer-config-check.js';
import { decodeGoValue } from '../../src/protocol/go-json.js';
import { CASES, FakeStream, STREAM, api, errResp, ourAnswer, pullEcho, pushDurableEcho, req, sub } from './consumer-config-cases.js';

describe('consumer config: requests and nats-server 2.10 answers', () => {
  for (const c of CASES) {
    it(c.title, () => {
      expect(ourAnswer(c)).toBe(c.expect);
    });
  }
});

const EXPLICIT = '{"ack_policy":"explicit"}';

describe('consumer config: what depends on the server, the account and the clients', () => {
  it('server max_ack_pending lowers the default and caps the value (10121)', () => {
    const s = new FakeStream(STREAM);
    const env = { serverLimits: { maxAckPending: 100 } };
    expect(s.request(api('CREATE.S.C'), req(EXPLICIT), env)).toBe(sub(pullEcho(), '"max_ack_pending":1000', '"max_ack_pending":100'));
    expect(s.request(api('CREATE.S.D'), req('{"ack_policy":"explicit","max_ack_pending":101}'), env)).toBe(
      errResp(400, 10121, 'consumer max ack pending exceeds system limit of 100'),
    );
  });

  it('the account tier\'s max_ack_pending, when lower than the server\'s, wins', () => {
    const s = new FakeStream(STREAM);
    const env = { serverLimits: { maxAckPending: 100 }, accountLimits: { maxAckPending: 20 } };
    expect(s.request(api('CREATE.S.C'), req(EXPLICIT), env)).toBe(sub(pullEcho(), '"max_ack_pending":1000', '"max_ack_pending":20'));
    expect(s.request(api('CREATE.S.D'), req('{"ack_policy":"explicit","max_ack_pending":50}'), env)).toBe(
      errResp(400, 10121, 'consumer max ack pending exceeds system limit of 20'),
    );
  });

  it('server max_request_batch is the pull default and the cap (10125); push consumers do not get it', () => {
    const s = new FakeStream(STREAM);
    const env = { serverLimits: { maxRequestBatch: 10 } };
    expect(s.request(api('CREATE.S.C'), req(EXPLICIT), env)).toBe(sub(pullEcho(), '"inactive_threshold"', '"max_batch":10,"inactive_threshold"'));
    expect(s.request(api('CREATE.S.E'), req('{"ack_policy":"explicit","max_batch":11}'), env)).toBe(
      errResp(400, 10125, 'consumer max request batch exceeds server limit of 10'),
    );
    expect(s.request(api('DURABLE.CREATE.S.D'), req('{"durable_name":"D","ack_policy":"explicit","deliver_subject":"x"}'), env)).toBe(pushDurableEcho());
  });

  it('the account\'s max consumers applies when the stream has none; direct consumers do not count', () => {
    const s = new FakeStream(STREAM);
    const env = { accountLimits: { maxConsumers: 1 } };
    s.consumers.set('X', { ...zeroConsumerConfig(), direct: true, deliver_subject: 'y' });
    expect(s.request(api('CREATE.S.C'), req(EXPLICIT), env)).toBe(pullEcho());
    expect(s.request(api('CREATE.S.D'), req(EXPLICIT), env)).toBe(errResp(400, 10026, 'maximum consumers limit reached'));
  });

  it('selectLimits: the tier of the consumer\'s replicas; none for it is 10120', () => {
    const s = new FakeStream(STREAM);
    const asked: number[] = [];
    const env = {
      selectLimits: (r: number) => {
        asked.push(r);
        return r === 1 ? { maxAckPending: 7 } : undefined;
      },
    };
    expect(s.request(api('CREATE.S.C'), req(EXPLICIT), env)).toBe(sub(pullEcho(), '"max_ack_pending":1000', '"max_ack_pending":7'));
    const c = new FakeStream('{"name":"S","subjects":["s.>"],"num_replicas":3}', true);
    // A consumer without a durable name on a limits stream counts as 1 replica, whatever the stream's.
    expect(c.request(api('CREATE.S.C'), req(EXPLICIT), { ...env, clustered: true })).toBe(sub(pullEcho(), '"max_ack_pending":1000', '"max_ack_pending":7'));
    expect(asked).toEqual([1, 1]);
    expect(c.request(api('DURABLE.CREATE.S.D'), req('{"durable_name":"D"}'), { ...env, clustered: true })).toBe(
      errResp(400, 10120, 'no JetStream default or applicable tiered limit present'),
    );
    expect(asked).toEqual([1, 1, 3]);
  });

  it('a new deliver subject while the old one has interest is 10013', () => {
    const s = new FakeStream(STREAM);
    const push = (ds: string): string => req(`{"durable_name":"D","ack_policy":"explicit","deliver_subject":"${ds}"}`);
    s.request(api('DURABLE.CREATE.S.D'), push('x'));
    expect(s.request(api('DURABLE.CREATE.S.D'), push('y'), { deliverSubjectHasInterest: (subj) => subj === 'x' })).toBe(
      errResp(400, 10013, 'consumer name already in use'),
    );
    expect(s.request(api('DURABLE.CREATE.S.D'), push('y'), { deliverSubjectHasInterest: () => false })).toBe(
      sub(pushDurableEcho(), '"deliver_subject":"x"', '"deliver_subject":"y"'),
    );
  });

  it('clustered: replicas over the stream\'s (10126), or not the interest stream\'s (10134)', () => {
    const s = new FakeStream(STREAM);
    expect(s.request(api('CREATE.S.C'), req('{"num_replicas":3}'), { clustered: true })).toBe(errResp(400, 10126, 'consumer config replica count exceeds parent stream'));
    const i = new FakeStream('{"name":"S","subjects":["s.>"],"retention":"interest","num_replicas":3}', true);
    expect(i.request(api('CREATE.S.C'), req('{"ack_policy":"explicit","num_replicas":2}'), { clustered: true })).toBe(
      errResp(400, 10134, 'consumer config replicas must match interest retention stream\'s replicas'),
    );
  });

  it('subjects with fewer than 5 tokens get no reply', () => {
    expect(new FakeStream(STREAM).request('$JS.API.CONSUMER.CREATE', req(EXPLICIT))).toBe('(no reply)');
  });

  it('a legacy ephemeral\'s generated name avoids existing ones; the default generator makes 8 alphanumerics', () => {
    const s = new FakeStream(STREAM);
    const names = ['A', 'A', 'B'];
    s.consumers.set('A', zeroConsumerConfig());
    const r = checkConsumerCreate({ subject: api('CREATE.S'), body: req('{}') }, s.env({ newConsumerName: () => names.shift()! }));
    expect('name' in r && r.name).toBe('B');
    const d = checkConsumerCreate({ subject: api('CREATE.S'), body: req('{}') }, { lookupStream: () => s.config });
    expect('name' in d && d.name).toMatch(/^[A-Za-z0-9]{8}$/);
  });

  it('an update of an ephemeral\'s inactive_threshold to 0 restores 5s; a durable keeps 0', () => {
    const s = new FakeStream(STREAM);
    s.request(api('CREATE.S.C'), req('{"ack_policy":"explicit","inactive_threshold":10000000000}'));
    expect(s.request(api('CREATE.S.C'), req(EXPLICIT))).toBe(pullEcho());
    const durable = (t: number): string => req(`{"durable_name":"D","ack_policy":"explicit","inactive_threshold":${t}}`);
    s.request(api('CREATE.S.D'), durable(10_000_000_000));
    expect(s.request(api('CREATE.S.D'), durable(0))).toBe(sub(pullEcho('D'), '"name":"D"', '"durable_name":"D","name":"D"', ',"inactive_threshold":5000000000', ''));
  });

  it('checkConsumerUpdate: equal configs pass; a backoff longer than max_deliver is 10116', () => {
    const cur: ConsumerConfig = { ...zeroConsumerConfig(), ack_policy: 'explicit', max_deliver: -1 };
    expect(checkConsumerUpdate(cur, { ...cur })).toBeUndefined();
    expect(checkConsumerUpdate(cur, { ...cur, backoff: [1, 2, 3], max_deliver: 2 })).toEqual({
      code: 400,
      err_code: 10116,
      description: 'max deliver is required to be > length of backoff values',
    });
    expect(checkConsumerUpdate(cur, { ...cur, backoff: [1, 2, 3] })).toBeUndefined();
  });

  it('nil and empty slices differ (reflect.DeepEqual)', () => {
    const a = zeroConsumerConfig();
    expect(consumerConfigsEqual(a, { ...a, filter_subjects: [] })).toBe(false);
    expect(consumerConfigsEqual(a, { ...a, metadata: { x: '1' } })).toBe(false);
    expect(consumerConfigsEqual({ ...a, metadata: { x: '1', y: '2' } }, { ...a, metadata: { y: '2', x: '1' } })).toBe(true);
  });
});

describe('consumer config: the action scenarios of nats-server 2.10.29\'s own tests', () => {
  const ok = (r: string): void => expect(r).toMatch(/^\{"durable_name"|^\{"name"/);

  it('create is idempotent only for an identical config; update needs an existing consumer; a named ephemeral differs from itself', () => {
    // jetstream_consumer_test.go TestJetStreamConsumerActions, as API requests.
    const s = new FakeStream('{"name":"TEST","subjects":["one","two","three","four","five.>"],"max_age":90000000000}');
    const body = (cfg: string, action: string): string => `{"stream_name":"TEST","config":${cfg},"action":"${action}"}`;
    const dur = (filters: string): string => `{"durable_name":"DUR","filter_subjects":${filters},"ack_policy":"explicit","deliver_policy":"all","ack_wait":30000000000}`;
    ok(s.request(api('CREATE.TEST.DUR'), body(dur('["one","two"]'), 'create')));
    ok(s.request(api('CREATE.TEST.DUR'), body(dur('["one","two"]'), 'create')));
    expect(s.request(api('CREATE.TEST.DUR'), body(dur('["one"]'), 'create'))).toBe(errResp(400, 10148, 'consumer already exists'));
    ok(s.request(api('CREATE.TEST.DUR'), body(dur('["one"]'), 'update')));
    expect(s.request(api('CREATE.TEST.NEW'), body(dur('["one"]').replace('"DUR"', '"NEW"'), 'update'))).toBe(errResp(400, 10149, 'consumer does not exist'));
    const eph = '{"name":"EPH","filter_subjects":["one"],"ack_policy":"explicit","deliver_policy":"all","ack_wait":30000000000}';
    ok(s.request(api('CREATE.TEST.EPH'), body(eph, 'create')));
    expect(s.request(api('CREATE.TEST.EPH'), body(eph, 'create'))).toBe(errResp(400, 10148, 'consumer already exists'));
  });

  it('workqueue partitions on create and on update', () => {
    // jetstream_consumer_test.go TestJetStreamConsumerActionsOnWorkQueuePolicyStream, as API requests.
    const s = new FakeStream('{"name":"TEST","subjects":["one","two","three","four","five.>"],"retention":"workqueue"}');
    const body = (name: string, filters: string, action: string): string =>
      `{"stream_name":"TEST","config":{"durable_name":"${name}","filter_subjects":${filters},"ack_policy":"explicit"},"action":"${action}"}`;
    ok(s.request(api('CREATE.TEST.C1'), body('C1', '["one","two"]', 'create')));
    ok(s.request(api('CREATE.TEST.C2'), body('C2', '["three","four"]', 'create')));
    ok(s.request(api('CREATE.TEST.C3'), body('C3', '["five.*"]', 'create')));
    ok(s.request(api('CREATE.TEST.C1'), body('C1', '["one"]', 'update')));
    ok(s.request(api('CREATE.TEST.C2'), body('C2', '["three","four","two"]', 'update')));
    const notUnique = errResp(400, 10100, 'filtered consumer not unique on workqueue stream');
    expect(s.request(api('CREATE.TEST.C4'), body('C4', '["one","two","three","four"]', 'create'))).toBe(notUnique);
    expect(s.request(api('CREATE.TEST.C3'), body('C3', '["one","two","three","four"]', 'update'))).toBe(notUnique);
  });
});

describe('consumer config: properties', () => {
  it('any body or subject gets an answer, never an exception', () => {
    const s = new FakeStream(STREAM);
    const body = fc.oneof(
      fc.json(),
      fc.string(),
      fc.record({ stream_name: fc.constantFrom('S', 'T', ''), config: fc.dictionary(fc.constantFrom(...Object.keys(CONSUMER_CONFIG_SCHEMA.fields)), fc.jsonValue()) }).map((o) => JSON.stringify(o)),
    );
    const subject = fc.array(fc.constantFrom('S', 'C', 'DURABLE', 'CREATE', 's', '*', '>', 'a/b'), { maxLength: 5 }).map((t) => ['$JS', 'API', 'CONSUMER', 'CREATE', ...t].join('.'));
    fc.assert(
      fc.property(subject, body, (subj, b) => {
        const r = checkConsumerCreate({ subject: subj, body: b }, s.env());
        expect('ignore' in r || 'error' in r || 'config' in r).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('the echo decodes back to the same config', () => {
    const dur = fc.integer({ min: 0, max: 2 ** 50 });
    const cfg = fc.record({
      durable_name: fc.string(),
      description: fc.string(),
      deliver_policy: fc.constantFrom('all', 'last', 'new', 'by_start_sequence', 'by_start_time', 'last_per_subject'),
      opt_start_seq: dur,
      ack_policy: fc.constantFrom('none', 'all', 'explicit'),
      ack_wait: dur,
      max_deliver: fc.integer({ min: -1, max: 1000 }),
      backoff: fc.option(fc.array(dur, { minLength: 1, maxLength: 3 }), { nil: undefined }),
      filter_subjects: fc.option(fc.array(fc.string(), { minLength: 1, maxLength: 3 }), { nil: undefined }),
      replay_policy: fc.constantFrom('instant', 'original'),
      flow_control: fc.boolean(),
      num_replicas: fc.integer({ min: -1, max: 5 }),
      metadata: fc.option(fc.dictionary(fc.string(), fc.string(), { minKeys: 1 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(cfg, (partial) => {
        const c = { ...zeroConsumerConfig(), ...partial } as ConsumerConfig;
        const back = decodeGoValue(encodeConsumerConfig(c), CONSUMER_CONFIG_SCHEMA);
        expect(back).not.toBeNull();
        expect(consumerConfigsEqual(back!.value as ConsumerConfig, c)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes the request\'s action', () => {
    const d = decodeCreateConsumerRequest('{"stream_name":"S","config":{},"action":"update"}');
    expect('request' in d && d.request.action).toBe('update');
    expect(decodeCreateConsumerRequest('{"stream_name":"S","action":null}')).toEqual({ error: { code: 400, err_code: 10025, description: 'invalid JSON' } });
  });
});
