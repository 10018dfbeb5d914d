/**
 * CONSUMER.CREATE requests and nats-server 2.10's answers to them: the consumer config it
 * echoes (ConsumerInfo.config), or its exact error response. Written from nats-server
 * v2.10.29's source (jetstream_api.go jsConsumerCreateRequest; consumer.go
 * setConsumerConfigDefaults, checkConsumerCfg, addConsumerWithAssignment,
 * checkNewConsumerConfig); each case also says what 2.9.10 answers, and
 * test/conformance/jetstream-consumer-config.test.ts sends those to the real nats-server.
 *
 * A case runs on a fresh stream (`stream`, a STREAM.CREATE body, default S on `s.>`): the
 * `before` requests are made first (they must succeed), then the case's request.
 */
import { apiErrorResponse, type ApiError } from '../../src/jetstream/errors.js';
import { checkStreamConfig } from '../../src/jetstream/stream-config-check.js';
import { decodeStreamConfig, type StreamConfig } from '../../src/jetstream/stream-config.js';
import { encodeConsumerConfig, type ConsumerConfig } from '../../src/jetstream/consumer-config.js';
import { checkConsumerCreate, type ConsumerCheckEnv } from '../../src/jetstream/consumer-config-check.js';

export interface ConsumerCase {
  title: string;
  /** The STREAM.CREATE body of the stream the case runs on. */
  stream: string;
  /** Requests made first, [subject, body]; each must create or update a consumer. */
  before: ReadonlyArray<readonly [string, string]>;
  subject: string;
  body: string;
  /** 2.10's answer: the config echo on success, else the whole error response. */
  expect: string;
  /** 2.9.10: 'same', its own answer where it differs (checked against the binary too), or why it can not be compared. */
  v29: 'same' | { expect: string; why: string } | { skip: string };
}

export const STREAM = '{"name":"S","subjects":["s.>"]}';
/** The name a legacy ephemeral gets here (nats-server: random). */
export const GENERATED_NAME = 'GENNAME1';

/** `$JS.API.CONSUMER.<tail>`. */
export const api = (tail: string): string => `$JS.API.CONSUMER.${tail}`;
/** A CreateConsumerRequest body for stream S. */
export const req = (config: string, extra = ''): string => `{"stream_name":"S","config":${config}${extra}}`;

/** An error response of CONSUMER.CREATE. */
export function errResp(code: number, errCode: number, description: string): string {
  return apiErrorResponse('consumer_create', { code, err_code: errCode, description });
}

/** `s` with each `from` replaced by its `to`; every `from` must occur. */
export function sub(s: string, ...pairs: string[]): string {
  let out = s;
  for (let i = 0; i < pairs.length; i += 2) {
    if (!out.includes(pairs[i])) throw new Error(`${pairs[i]} not in ${out}`);
    out = out.replace(pairs[i], pairs[i + 1]);
  }
  return out;
}

/** The echo of a named pull consumer with explicit acks (`{"ack_policy":"explicit"}` on CREATE.S.<name>). */
export const pullEcho = (name = 'C'): string =>
  `{"name":"${name}","deliver_policy":"all","ack_policy":"explicit","ack_wait":30000000000,"max_deliver":-1,"replay_policy":"instant",` +
  `"max_waiting":512,"max_ack_pending":1000,"inactive_threshold":5000000000,"num_replicas":0}`;
/** The echo of a push durable with explicit acks delivering to `x` (DURABLE.CREATE.S.<name>). */
export const pushDurableEcho = (name = 'D'): string =>
  `{"durable_name":"${name}","deliver_policy":"all","ack_policy":"explicit","ack_wait":30000000000,"max_deliver":-1,` +
  `"replay_policy":"instant","max_ack_pending":1000,"deliver_subject":"x","num_replicas":0}`;

const INVALID_JSON = errResp(400, 10025, 'invalid JSON');
const policyErr = (text: string): string => errResp(400, 10094, text);
const createErr = (text: string): string => errResp(500, 10012, text);
const ONLY_210 = { skip: 'uses a field or rule 2.9.10 does not have' };
const NO_ACTION = { skip: '2.9.10 ignores "action" (every request is create-or-update)' };

const EXPLICIT = '{"ack_policy":"explicit"}';
/** 2.9.10 refuses max_deliver <= len(backoff) (so -1 too); 2.10 only max_deliver != -1 && max_deliver < len(backoff). */
const V29_BACKOFF = {
  expect: errResp(400, 10116, 'max deliver is required to be > length of backoff values'),
  why: '2.9.10 requires max_deliver > len(backoff) even when unlimited; 2.10.29 allows -1 and equality',
};
/** Switching pull/push also changes max_waiting (512 vs 0): 2.9.10 checks max_waiting first. */
const V29_MAX_WAITING_FIRST = { expect: errResp(500, 10012, 'max waiting can not be updated'), why: '2.9.10 checks max_waiting before the deliver subject; 2.10 after' };
const PUSH = (extra = ''): string => `{"durable_name":"D","ack_policy":"explicit","deliver_subject":"x"${extra}}`;

function cs(title: string, subject: string, body: string, expect: string, v29: ConsumerCase['v29'] = 'same', more: Partial<ConsumerCase> = {}): ConsumerCase {
  return { title, stream: STREAM, before: [], subject: api(subject), body, expect, v29, ...more };
}
/** A pull consumer C on S with `config` (CREATE.S.C). */
const pull = (title: string, config: string, expect: string, v29: ConsumerCase['v29'] = 'same', more: Partial<ConsumerCase> = {}): ConsumerCase =>
  cs(title, 'CREATE.S.C', req(config), expect, v29, more);

const WQ = '{"name":"S","subjects":["s.>"],"retention":"workqueue"}';

export const CASES: ConsumerCase[] = [
  // --- Decoding: any json.Unmarshal error of CreateConsumerRequest is 10025.
  cs('an empty body', 'CREATE.S.C', '', INVALID_JSON),
  cs('bad syntax', 'CREATE.S.C', '{nope', INVALID_JSON),
  pull('ack_policy is matched byte for byte', '{"ack_policy":"Explicit"}', INVALID_JSON),
  pull('an unknown deliver_policy', '{"deliver_policy":"first"}', INVALID_JSON),
  pull('null for an enum calls its UnmarshalJSON, which fails', '{"replay_policy":null}', INVALID_JSON),
  pull('a Go duration string for ack_wait', '{"ack_wait":"30s"}', INVALID_JSON),
  pull('a negative opt_start_seq (uint64)', '{"opt_start_seq":-1}', INVALID_JSON),
  pull('a bad RFC 3339 start time', '{"deliver_policy":"by_start_time","opt_start_time":"2024-01-01"}', INVALID_JSON),
  cs('an unknown action', 'CREATE.S.C', req(EXPLICIT, ',"action":"upsert"'), INVALID_JSON, NO_ACTION),
  cs('a top-level null: empty stream_name does not match the subject', 'CREATE.S.C', 'null', errResp(400, 10056, 'stream name in subject does not match request')),

  // --- Decoding: what Go accepts.
  pull('"undefined" is read as deliver all; keys are case-insensitive', '{"Deliver_Policy":"undefined","ACK_POLICY":"explicit"}', pullEcho()),
  pull('config null leaves the zero config (ack none)', 'null',
    '{"name":"C","deliver_policy":"all","ack_policy":"none","max_deliver":-1,"replay_policy":"instant","max_waiting":512,"inactive_threshold":5000000000,"num_replicas":0}'),

  // --- The API subject and the request (jsConsumerCreateRequest).
  cs('stream_name differs from the subject', 'CREATE.S.C', '{"stream_name":"T","config":{}}', errResp(400, 10056, 'stream name in subject does not match request')),
  // jsConsumerCreateRequest would answer 10016, but only DURABLE.CREATE.*.* is subscribed.
  cs('DURABLE.CREATE without a durable token gets no reply', 'DURABLE.CREATE.S', req(EXPLICIT), '(no reply)'),
  cs('DURABLE.CREATE with an extra token gets no reply', 'DURABLE.CREATE.S.D.x', req('{"durable_name":"D"}'), '(no reply)'),
  cs('DURABLE.CREATE without durable_name', 'DURABLE.CREATE.S.D', req(EXPLICIT), errResp(400, 10018, 'consumer expected to be durable but a durable name was not set')),
  cs('DURABLE.CREATE with another durable_name', 'DURABLE.CREATE.S.D', req('{"durable_name":"E"}'), errResp(400, 10017, 'consumer name in subject does not match durable name in request')),
  cs('CREATE.<stream>.<name> with another durable_name', 'CREATE.S.C', req('{"durable_name":"D"}'), errResp(400, 10017, 'consumer name in subject does not match durable name in request')),
  cs('legacy ephemeral CREATE.<stream> with a durable_name', 'CREATE.S', req('{"durable_name":"D"}'), errResp(400, 10020, 'consumer expected to be ephemeral but a durable name was set in request')),
  cs('a path separator in the consumer name', 'CREATE.S.a\\b', req(EXPLICIT), errResp(400, 10127, 'Consumer name can not contain path separators')),
  cs('the filter in the subject differs from filter_subject', 'CREATE.S.C.s.a', req('{"filter_subject":"s.b"}'), errResp(400, 10131, 'Consumer create request did not match filtered subject from create subject')),
  cs('a filter in the subject with filter_subjects', 'CREATE.S.C.s.a', req('{"filter_subjects":["s.a"]}'), errResp(400, 10137, 'consumer with multiple subject filters cannot use subject based API'), {
    expect: errResp(400, 10131, 'Consumer create request did not match filtered subject from create subject'),
    why: '2.9.10 has no filter_subjects (ignored), so filter_subject "" differs from the subject\'s',
  }),
  cs('the filter in the subject matches filter_subject', 'CREATE.S.C.s.a', req('{"ack_policy":"explicit","filter_subject":"s.a"}'),
    sub(pullEcho(), '"replay_policy"', '"filter_subject":"s.a","replay_policy"')),
  pull('num_replicas 3 on a single server', '{"num_replicas":3}', errResp(500, 10074, 'replicas > 1 not supported in non-clustered mode')),
  cs('the stream does not exist', 'CREATE.T.C', '{"stream_name":"T","config":{}}', errResp(404, 10059, 'stream not found')),

  // --- Defaults (setConsumerConfigDefaults, updateInactiveThreshold).
  pull('a pull consumer with explicit acks', EXPLICIT, pullEcho()),
  cs('a push durable', 'DURABLE.CREATE.S.D', req(PUSH()), pushDurableEcho()),
  pull('ack none: no ack_wait, no max_ack_pending', '{"ack_policy":"none"}',
    '{"name":"C","deliver_policy":"all","ack_policy":"none","max_deliver":-1,"replay_policy":"instant","max_waiting":512,"inactive_threshold":5000000000,"num_replicas":0}'),
  pull('ack all gets ack_wait and max_ack_pending', '{"ack_policy":"all"}', sub(pullEcho(), '"ack_policy":"explicit"', '"ack_policy":"all"')),
  pull('backoff sets ack_wait to its first value', '{"ack_policy":"explicit","backoff":[1000000000,2000000000],"max_deliver":5}',
    sub(pullEcho(), '"ack_wait":30000000000,"max_deliver":-1', '"ack_wait":1000000000,"max_deliver":5,"backoff":[1000000000,2000000000]')),
  cs('a legacy ephemeral gets a generated name (2.10 writes it into the config)', 'CREATE.S', req('{"deliver_subject":"x"}'),
    `{"name":"${GENERATED_NAME}","deliver_policy":"all","ack_policy":"none","max_deliver":-1,"replay_policy":"instant","deliver_subject":"x","inactive_threshold":5000000000,"num_replicas":0}`,
    { skip: 'the name is random, and 2.9.10 does not write it into the config' }),
  cs('the stream\'s consumer_limits are the defaults', 'CREATE.S.C', req(EXPLICIT),
    sub(pullEcho(), '"max_ack_pending":1000,"inactive_threshold":5000000000', '"max_ack_pending":50,"inactive_threshold":10000000000'),
    ONLY_210, { stream: '{"name":"S","subjects":["s.>"],"consumer_limits":{"inactive_threshold":10000000000,"max_ack_pending":50}}' }),
  cs('a pull durable has no inactive threshold unless set', 'CREATE.S.D', req('{"durable_name":"D","ack_policy":"explicit","inactive_threshold":0}'),
    sub(pullEcho('D'), '"name":"D"', '"durable_name":"D","name":"D"', ',"inactive_threshold":5000000000', '')),
  pull('the optional fields echoed in Go order',
    '{"ack_policy":"explicit","description":"d","deliver_policy":"by_start_sequence","opt_start_seq":7,"filter_subject":"s.>","replay_policy":"original","sample_freq":"50%","max_batch":10,"max_expires":60000000000,"max_bytes":1024,"headers_only":true,"mem_storage":true,"max_waiting":20,"max_ack_pending":5}',
    '{"name":"C","description":"d","deliver_policy":"by_start_sequence","opt_start_seq":7,"ack_policy":"explicit","ack_wait":30000000000,"max_deliver":-1,' +
      '"filter_subject":"s.\\u003e","replay_policy":"original","sample_freq":"50%","max_waiting":20,"max_ack_pending":5,"headers_only":true,' +
      '"max_batch":10,"max_expires":60000000000,"max_bytes":1024,"inactive_threshold":5000000000,"num_replicas":0,"mem_storage":true}'),
  pull('2.10 fields: filter_subjects and metadata (sorted keys)', '{"ack_policy":"explicit","filter_subjects":["s.a","s.b"],"metadata":{"b":"2","a":"1"}}',
    sub(pullEcho(), '"replay_policy"', '"filter_subjects":["s.a","s.b"],"replay_policy"', '"num_replicas":0', '"num_replicas":0,"metadata":{"a":"1","b":"2"}'),
    ONLY_210),
  pull('by start time echoes the time as Go writes it back', '{"ack_policy":"explicit","deliver_policy":"by_start_time","opt_start_time":"2024-01-02T03:04:05.500+00:00"}',
    sub(pullEcho(), '"deliver_policy":"all"', '"deliver_policy":"by_start_time","opt_start_time":"2024-01-02T03:04:05.5Z"')),
  pull('a filter outside the stream\'s subjects is allowed in 2.10', '{"ack_policy":"explicit","filter_subject":"t"}',
    sub(pullEcho(), '"replay_policy"', '"filter_subject":"t","replay_policy"'), {
      expect: errResp(400, 10093, 'consumer filter subject is not a valid subset of the interest subjects'),
      why: '2.9.10 requires the filter to be within the stream\'s subjects; 2.10.29 dropped that check',
    }),

  // --- Echoes at the edges of the rules.
  cs('a push durable with a queue group, rate limit, heartbeat and flow control', 'DURABLE.CREATE.S.D',
    req(PUSH(',"deliver_group":"q","rate_limit_bps":8000,"idle_heartbeat":100000000,"flow_control":true,"headers_only":true')),
    sub(pushDurableEcho(), '"replay_policy":"instant"', '"replay_policy":"instant","rate_limit_bps":8000', '"max_ack_pending":1000',
      '"max_ack_pending":1000,"idle_heartbeat":100000000,"flow_control":true,"headers_only":true', '"deliver_subject":"x"', '"deliver_subject":"x","deliver_group":"q"')),
  pull('backoff exactly as long as max_deliver', '{"ack_policy":"explicit","backoff":[1000000000,2000000000],"max_deliver":2}',
    sub(pullEcho(), '"ack_wait":30000000000,"max_deliver":-1', '"ack_wait":1000000000,"max_deliver":2,"backoff":[1000000000,2000000000]'), V29_BACKOFF),
  pull('backoff with max_deliver unlimited', '{"ack_policy":"explicit","backoff":[1000000000,2000000000,3000000000]}',
    sub(pullEcho(), '"ack_wait":30000000000', '"ack_wait":1000000000', '"max_deliver":-1', '"max_deliver":-1,"backoff":[1000000000,2000000000,3000000000]'), V29_BACKOFF),
  pull('max_expires of exactly 1ms', '{"ack_policy":"explicit","max_expires":1000000}', sub(pullEcho(), '"inactive_threshold"', '"max_expires":1000000,"inactive_threshold"')),
  pull('deliver last per subject with a filter', '{"ack_policy":"explicit","deliver_policy":"last_per_subject","filter_subject":"s.*"}',
    sub(pullEcho(), '"deliver_policy":"all"', '"deliver_policy":"last_per_subject"', '"replay_policy"', '"filter_subject":"s.*","replay_policy"')),
  pull('a sample frequency without %', '{"ack_policy":"explicit","sample_freq":"100"}', sub(pullEcho(), '"max_waiting"', '"sample_freq":"100","max_waiting"')),
  pull('a start time\'s fraction is cut to 9 digits and its zeros dropped', '{"ack_policy":"explicit","deliver_policy":"by_start_time","opt_start_time":"2024-05-06T07:08:09.1234567890+01:00"}',
    sub(pullEcho(), '"deliver_policy":"all"', '"deliver_policy":"by_start_time","opt_start_time":"2024-05-06T07:08:09.123456789+01:00"')),
  pull('ack none keeps an ack_wait it is given; max_deliver 0 becomes -1', '{"ack_policy":"none","ack_wait":5000000000,"max_deliver":0}',
    '{"name":"C","deliver_policy":"all","ack_policy":"none","ack_wait":5000000000,"max_deliver":-1,"replay_policy":"instant","max_waiting":512,"inactive_threshold":5000000000,"num_replicas":0}'),
  pull('a given inactive_threshold is kept', '{"ack_policy":"explicit","inactive_threshold":60000000000}', sub(pullEcho(), '"inactive_threshold":5000000000', '"inactive_threshold":60000000000')),
  pull('num_replicas 1', '{"ack_policy":"explicit","num_replicas":1}', sub(pullEcho(), '"num_replicas":0', '"num_replicas":1')),
  cs('workqueue: a filtered consumer after an unfiltered one', 'CREATE.S.C2', req('{"ack_policy":"explicit","filter_subject":"s.a"}'),
    errResp(400, 10100, 'filtered consumer not unique on workqueue stream'), 'same', { stream: WQ, before: [[api('CREATE.S.C1'), req(EXPLICIT)]] }),
  cs('action update on a legacy ephemeral (no name)', 'CREATE.S', req('{"deliver_subject":"x"}', ',"action":"update"'), errResp(400, 10149, 'consumer does not exist'), NO_ACTION),

  // --- checkConsumerCfg, in its order.
  pull('negative num_replicas', '{"num_replicas":-1}', errResp(400, 10133, 'replicas count cannot be negative')),
  // 10134 (replicas differ from an interest or workqueue stream's) needs a stream with more
  // than one replica: not reachable on a single server (10074 comes first).
  cs('an interest stream: num_replicas 1 is the stream\'s', 'CREATE.S.C', req('{"ack_policy":"explicit","num_replicas":1}'),
    sub(pullEcho(), '"num_replicas":0', '"num_replicas":1'), 'same',
    { stream: '{"name":"S","subjects":["s.>"],"retention":"interest"}' }),
  pull('more backoff values than max_deliver', '{"ack_policy":"explicit","backoff":[1000000000,2000000000],"max_deliver":1}', errResp(400, 10116, 'max deliver is required to be > length of backoff values')),
  pull('a description over 4 KiB', `{"description":"${'d'.repeat(4097)}"}`, errResp(400, 10107, 'consumer description is too long, maximum allowed is 4096')),
  cs('a wildcard deliver subject', 'DURABLE.CREATE.S.D', req('{"durable_name":"D","deliver_subject":"x.*"}'), errResp(400, 10079, 'consumer deliver subject has wildcards')),
  cs('an invalid deliver subject', 'DURABLE.CREATE.S.D', req('{"durable_name":"D","deliver_subject":"x..y"}'), errResp(400, 10112, 'invalid push consumer deliver subject')),
  cs('a deliver subject inside the stream', 'DURABLE.CREATE.S.D', req('{"durable_name":"D","deliver_subject":"s.d"}'), errResp(400, 10081, 'consumer deliver subject forms a cycle')),
  cs('push with max_waiting', 'DURABLE.CREATE.S.D', req(PUSH(',"max_waiting":5')), errResp(400, 10080, 'consumer in push mode can not set max waiting')),
  cs('push, ack none, max_ack_pending', 'DURABLE.CREATE.S.D', req('{"durable_name":"D","deliver_subject":"x","max_ack_pending":5}'), errResp(400, 10082, 'consumer requires ack policy for max ack pending')),
  cs('push with a 50ms heartbeat', 'DURABLE.CREATE.S.D', req(PUSH(',"idle_heartbeat":50000000')), errResp(400, 10083, 'consumer idle heartbeat needs to be >= 100ms')),
  cs('pull with ack none on a workqueue', 'CREATE.S.C', req('{"ack_policy":"none"}'), errResp(400, 10084, 'consumer in pull mode requires ack policy'), 'same', { stream: WQ }),
  pull('pull with a rate limit', '{"ack_policy":"explicit","rate_limit_bps":1000}', errResp(400, 10086, 'consumer in pull mode can not have rate limit set')),
  pull('pull with negative max_waiting', '{"ack_policy":"explicit","max_waiting":-1}', errResp(400, 10087, 'consumer max waiting needs to be positive')),
  pull('pull with a heartbeat', '{"ack_policy":"explicit","idle_heartbeat":1000000000}', errResp(400, 10088, 'consumer idle heartbeat requires a push based consumer')),
  pull('pull with flow control', '{"ack_policy":"explicit","flow_control":true}', errResp(400, 10089, 'consumer flow control requires a push based consumer')),
  pull('pull with a negative max_batch', '{"ack_policy":"explicit","max_batch":-1}', errResp(400, 10114, 'consumer max request batch needs to be > 0')),
  pull('pull with max_expires under 1ms', '{"ack_policy":"explicit","max_expires":1000}', errResp(400, 10115, 'consumer max request expires needs to be >= 1ms')),
  pull('max_ack_pending over the stream\'s limit', '{"ack_policy":"explicit","max_ack_pending":100}', errResp(400, 10121, 'consumer max ack pending exceeds system limit of 50'), ONLY_210,
    { stream: '{"name":"S","subjects":["s.>"],"consumer_limits":{"max_ack_pending":50}}' }),
  pull('inactive_threshold over the stream\'s limit', '{"ack_policy":"explicit","inactive_threshold":120000000000}', errResp(400, 10153, 'consumer inactive threshold exceeds system limit of 1m0s'), ONLY_210,
    { stream: '{"name":"S","subjects":["s.>"],"consumer_limits":{"inactive_threshold":60000000000}}' }),
  pull('direct on a pull consumer', '{"ack_policy":"explicit","direct":true}', errResp(400, 10090, 'consumer direct requires a push based consumer')),
  cs('direct on a durable', 'DURABLE.CREATE.S.D', req(PUSH(',"direct":true')), errResp(400, 10091, 'consumer direct requires an ephemeral consumer')),
  pull('filter_subject and filter_subjects', '{"filter_subject":"s.a","filter_subjects":["s.b"]}', errResp(400, 10136, 'consumer cannot have both FilterSubject and FilterSubjects specified'), ONLY_210),
  pull('an invalid filter_subject', '{"filter_subject":"s..a"}', errResp(500, 10052, 'invalid subject'), {
    expect: errResp(400, 10093, 'consumer filter subject is not a valid subset of the interest subjects'),
    why: '2.9.10 checks the filter against the stream\'s subjects instead',
  }),
  pull('an empty filter in filter_subjects', '{"filter_subjects":["s.a",""]}', errResp(400, 10139, 'consumer filter in FilterSubjects cannot be empty'), ONLY_210),
  pull('overlapping filter_subjects', '{"filter_subjects":["s.a","s.*"]}', errResp(400, 10138, 'consumer subject filters cannot overlap'), ONLY_210),
  pull('deliver all with a start sequence', '{"opt_start_seq":3}', policyErr('consumer delivery policy is deliver all, but optional start sequence is also set')),
  pull('deliver new with a start time', '{"deliver_policy":"new","opt_start_time":"2024-01-01T00:00:00Z"}', policyErr('consumer delivery policy is deliver new, but optional start time is also set')),
  pull('deliver last per subject without a filter', '{"deliver_policy":"last_per_subject"}', policyErr('consumer delivery policy is deliver last per subject, but optional filter subject is not set')),
  pull('by start sequence without one', '{"deliver_policy":"by_start_sequence"}', policyErr('consumer delivery policy is deliver by start sequence, but optional start sequence is not set')),
  pull('by start time with a start sequence', '{"deliver_policy":"by_start_time","opt_start_time":"2024-01-01T00:00:00Z","opt_start_seq":2}', policyErr('consumer delivery policy is deliver by start time, but optional start start sequence is also set')),
  pull('by start time without one', '{"deliver_policy":"by_start_time"}', policyErr('consumer delivery policy is deliver by start time, but optional start time is not set')),
  pull('a sample frequency that is not a number', '{"sample_freq":"abc"}', errResp(400, 10095, 'failed to parse consumer sampling configuration: strconv.Atoi: parsing "abc": invalid syntax')),
  pull('a sample frequency out of int64 range', '{"sample_freq":"9223372036854775808%"}', errResp(400, 10095, 'failed to parse consumer sampling configuration: strconv.Atoi: parsing "9223372036854775808": value out of range')),
  pull('the sample frequency in the error is quoted as Go quotes it', '{"sample_freq":"a\\tb\\u00e9"}', errResp(400, 10095, 'failed to parse consumer sampling configuration: strconv.Atoi: parsing "a\\tb\u00e9": invalid syntax')),
  pull('a negative sample frequency (Go formats the nil error)', '{"sample_freq":"-5%"}', errResp(400, 10095, 'failed to parse consumer sampling configuration: \u003cnil\u003e')),
  cs('flow control without heartbeats', 'DURABLE.CREATE.S.D', req(PUSH(',"flow_control":true')), errResp(400, 10108, 'consumer with flow control also needs heartbeats')),
  cs('durable_name and name differ', 'DURABLE.CREATE.S.D', req(PUSH(',"name":"N"')), errResp(400, 10132, 'Consumer Durable and Name have to be equal if both are provided'), ONLY_210),
  pull('metadata over 128 KiB', `{"metadata":{"k":"${'v'.repeat(128 * 1024)}"}}`, errResp(400, 10135, 'consumer metadata exceeds maximum size of 128KB'), ONLY_210),

  // --- addConsumerWithAssignment: names, limits, workqueue streams.
  cs('a durable name over 255 characters', `DURABLE.CREATE.S.${'d'.repeat(256)}`, req(`{"durable_name":"${'d'.repeat(256)}"}`), errResp(400, 10102, 'consumer name is too long, maximum allowed is 255')),
  cs('a consumer name with a wildcard character', 'CREATE.S.a*b', req(EXPLICIT), errResp(400, 10103, 'durable name can not contain \'.\', \'*\', \'>\'')),
  cs('max_consumers reached', 'CREATE.S.C2', req(EXPLICIT), errResp(400, 10026, 'maximum consumers limit reached'), 'same',
    { stream: '{"name":"S","subjects":["s.>"],"max_consumers":1}', before: [[api('CREATE.S.C1'), req(EXPLICIT)]] }),
  cs('max_consumers reached: re-creating an existing consumer does not count', 'CREATE.S.C1', req(EXPLICIT), pullEcho('C1'), 'same',
    { stream: '{"name":"S","subjects":["s.>"],"max_consumers":1}', before: [[api('CREATE.S.C1'), req(EXPLICIT)]] }),
  cs('workqueue: ack all', 'CREATE.S.C', req('{"ack_policy":"all"}'), errResp(400, 10098, 'workqueue stream requires explicit ack'), 'same', { stream: WQ }),
  cs('workqueue: a second unfiltered consumer', 'CREATE.S.C2', req(EXPLICIT), errResp(400, 10099, 'multiple non-filtered consumers not allowed on workqueue stream'), 'same',
    { stream: WQ, before: [[api('CREATE.S.C1'), req(EXPLICIT)]] }),
  cs('workqueue: overlapping filters', 'CREATE.S.C2', req('{"ack_policy":"explicit","filter_subject":"s.*"}'), errResp(400, 10100, 'filtered consumer not unique on workqueue stream'), 'same',
    { stream: WQ, before: [[api('CREATE.S.C1'), req('{"ack_policy":"explicit","filter_subject":"s.a"}')]] }),
  cs('workqueue: disjoint filters are fine', 'CREATE.S.C2', req('{"ack_policy":"explicit","filter_subject":"s.b"}'),
    sub(pullEcho('C2'), '"replay_policy"', '"filter_subject":"s.b","replay_policy"'), 'same',
    { stream: WQ, before: [[api('CREATE.S.C1'), req('{"ack_policy":"explicit","filter_subject":"s.a"}')]] }),
  cs('workqueue: deliver new', 'CREATE.S.C', req('{"ack_policy":"explicit","deliver_policy":"new"}'), errResp(400, 10101, 'consumer must be deliver all on workqueue stream'), 'same', { stream: WQ }),

  // --- An existing consumer: action create / update / create-or-update, and what may change.
  cs('create-or-update with the same config returns it', 'CREATE.S.C', req(EXPLICIT), pullEcho(), 'same', { before: [[api('CREATE.S.C'), req(EXPLICIT)]] }),
  cs('create-or-update may change max_deliver, max_ack_pending, description', 'CREATE.S.C', req('{"ack_policy":"explicit","max_deliver":5,"max_ack_pending":10,"description":"x"}'),
    sub(pullEcho(), '"name":"C"', '"name":"C","description":"x"', '"max_deliver":-1', '"max_deliver":5', '"max_ack_pending":1000', '"max_ack_pending":10'), 'same',
    { before: [[api('CREATE.S.C'), req(EXPLICIT)]] }),
  cs('update: deliver policy', 'CREATE.S.C', req('{"ack_policy":"explicit","deliver_policy":"new"}'), createErr('deliver policy can not be updated'), 'same', { before: [[api('CREATE.S.C'), req(EXPLICIT)]] }),
  cs('update: start sequence', 'CREATE.S.C', req('{"ack_policy":"explicit","deliver_policy":"by_start_sequence","opt_start_seq":5}'), createErr('start sequence can not be updated'), 'same',
    { before: [[api('CREATE.S.C'), req('{"ack_policy":"explicit","deliver_policy":"by_start_sequence","opt_start_seq":4}')]] }),
  cs('update: start time (compared as instants)', 'CREATE.S.C', req('{"ack_policy":"explicit","deliver_policy":"by_start_time","opt_start_time":"2024-01-01T01:00:00Z"}'),
    createErr('start time can not be updated'), 'same',
    { before: [[api('CREATE.S.C'), req('{"ack_policy":"explicit","deliver_policy":"by_start_time","opt_start_time":"2024-01-01T00:00:00Z"}')]] }),
  cs('update: the same start instant in another zone is no change', 'CREATE.S.C', req('{"ack_policy":"explicit","deliver_policy":"by_start_time","opt_start_time":"2024-01-01T02:00:00+02:00"}'),
    sub(pullEcho(), '"deliver_policy":"all"', '"deliver_policy":"by_start_time","opt_start_time":"2024-01-01T02:00:00+02:00"'),
    { expect: createErr('start time can not be updated'), why: '2.9.10 compares the *time.Time pointers (set start times always differ); 2.10 uses time.Equal' },
    { before: [[api('CREATE.S.C'), req('{"ack_policy":"explicit","deliver_policy":"by_start_time","opt_start_time":"2024-01-01T00:00:00Z"}')]] }),
  cs('update: ack policy', 'CREATE.S.C', req('{"ack_policy":"all"}'), createErr('ack policy can not be updated'), 'same', { before: [[api('CREATE.S.C'), req(EXPLICIT)]] }),
  cs('update: replay policy', 'CREATE.S.C', req('{"ack_policy":"explicit","replay_policy":"original"}'), createErr('replay policy can not be updated'), 'same', { before: [[api('CREATE.S.C'), req(EXPLICIT)]] }),
  cs('update: heartbeat', 'DURABLE.CREATE.S.D', req(PUSH(',"idle_heartbeat":1000000000')), createErr('heart beats can not be updated'), 'same', { before: [[api('DURABLE.CREATE.S.D'), req(PUSH())]] }),
  cs('update: pull to push', 'CREATE.S.C', req('{"ack_policy":"explicit","deliver_subject":"x"}'), createErr('can not update pull consumer to push based'), V29_MAX_WAITING_FIRST, { before: [[api('CREATE.S.C'), req(EXPLICIT)]] }),
  cs('update: push to pull', 'DURABLE.CREATE.S.D', req('{"durable_name":"D","ack_policy":"explicit"}'), createErr('can not update push consumer to pull based'), V29_MAX_WAITING_FIRST, { before: [[api('DURABLE.CREATE.S.D'), req(PUSH())]] }),
  cs('update: a new deliver subject without interest in the old one', 'DURABLE.CREATE.S.D', req('{"durable_name":"D","ack_policy":"explicit","deliver_subject":"y"}'),
    sub(pushDurableEcho(), '"deliver_subject":"x"', '"deliver_subject":"y"'), 'same', { before: [[api('DURABLE.CREATE.S.D'), req(PUSH())]] }),
  cs('update: max_waiting', 'CREATE.S.C', req('{"ack_policy":"explicit","max_waiting":10}'), createErr('max waiting can not be updated'), 'same', { before: [[api('CREATE.S.C'), req(EXPLICIT)]] }),
  cs('action create with the same config returns the consumer', 'CREATE.S.D', req('{"durable_name":"D","ack_policy":"explicit"}', ',"action":"create"'),
    sub(pullEcho('D'), '"name":"D"', '"durable_name":"D","name":"D"', ',"inactive_threshold":5000000000', ''), 'same',
    { before: [[api('CREATE.S.D'), req('{"durable_name":"D","ack_policy":"explicit"}')]] }),
  cs('action create with another config', 'CREATE.S.C', req('{"ack_policy":"explicit","max_deliver":5}', ',"action":"create"'), errResp(400, 10148, 'consumer already exists'), NO_ACTION,
    { before: [[api('CREATE.S.C'), req(EXPLICIT)]] }),
  cs('action create on a named ephemeral with the same body: its 5s threshold makes it differ', 'CREATE.S.C', req(EXPLICIT, ',"action":"create"'), errResp(400, 10148, 'consumer already exists'), NO_ACTION,
    { before: [[api('CREATE.S.C'), req(EXPLICIT)]] }),
  cs('action update on a missing consumer', 'CREATE.S.C', req(EXPLICIT, ',"action":"update"'), errResp(400, 10149, 'consumer does not exist'), NO_ACTION),
  cs('action update on an existing consumer', 'CREATE.S.C', req('{"ack_policy":"explicit","max_deliver":3}', ',"action":"update"'), sub(pullEcho(), '"max_deliver":-1', '"max_deliver":3'), 'same',
    { before: [[api('CREATE.S.C'), req(EXPLICIT)]] }),
  cs('workqueue: an update keeps its own partition', 'CREATE.S.C1', req('{"ack_policy":"explicit","filter_subject":"s.a","max_deliver":2}'),
    sub(pullEcho('C1'), '"max_deliver":-1', '"max_deliver":2,"filter_subject":"s.a"'), 'same',
    { stream: WQ, before: [[api('CREATE.S.C1'), req('{"ack_policy":"explicit","filter_subject":"s.a"}')], [api('CREATE.S.C2'), req('{"ack_policy":"explicit","filter_subject":"s.b"}')]] }),
  cs('workqueue: an update onto another consumer\'s partition', 'CREATE.S.C1', req('{"ack_policy":"explicit","filter_subject":"s.b"}'),
    errResp(400, 10100, 'filtered consumer not unique on workqueue stream'), {
      expect: sub(pullEcho('C1'), '"replay_policy"', '"filter_subject":"s.b","replay_policy"'),
      why: '2.9.10 does not check the partition when an existing consumer is updated',
    },
    { stream: WQ, before: [[api('CREATE.S.C1'), req('{"ack_policy":"explicit","filter_subject":"s.a"}')], [api('CREATE.S.C2'), req('{"ack_policy":"explicit","filter_subject":"s.b"}')]] }),
];

/** The stream a case runs on, with nats-server's defaults. */
export function streamOf(body: string, clustered = false): StreamConfig {
  const d = decodeStreamConfig(body);
  if ('error' in d) throw new Error(d.error.description);
  const r = checkStreamConfig(d.config, { isCreate: true, clustered });
  if ('error' in r) throw new Error(r.error.description);
  return r.config;
}

/** A stream with its consumers, as the engine would keep them, for {@link checkConsumerCreate}. */
export class FakeStream {
  readonly config: StreamConfig;
  readonly consumers = new Map<string, ConsumerConfig>();
  constructor(body: string, clustered = false) {
    this.config = streamOf(body, clustered);
  }
  env(extra: Partial<ConsumerCheckEnv> = {}): ConsumerCheckEnv {
    return {
      lookupStream: (name) => (name === this.config.name ? this.config : undefined),
      consumers: () => this.consumers.entries(),
      newConsumerName: () => GENERATED_NAME,
      ...extra,
    };
  }
  /** Runs a request: the echo of the config, or the error response (kept consumers updated). */
  request(subject: string, body: string, extra: Partial<ConsumerCheckEnv> = {}): string {
    const r = checkConsumerCreate({ subject, body }, this.env(extra));
    if ('ignore' in r) return '(no reply)';
    if ('error' in r) return apiErrorResponse('consumer_create', r.error as ApiError);
    this.consumers.set(r.name, r.config);
    return encodeConsumerConfig(r.config);
  }
}

/** This package's answer to a case. */
export function ourAnswer(c: ConsumerCase): string {
  const s = new FakeStream(c.stream);
  for (const [subject, body] of c.before) {
    const r = s.request(subject, body);
    if (!r.startsWith('{"') || r.includes('"error"')) throw new Error(`before: ${subject} ${body}: ${r}`);
  }
  return s.request(c.subject, c.body);
}
