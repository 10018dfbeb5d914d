/**
 * Stream configuration (src/jetstream/stream-config*.ts, errors.ts, subject-rules.ts): the
 * table of STREAM.CREATE / UPDATE requests and nats-server 2.10's answers
 * (stream-config-cases.ts; its 2.9.10-visible entries are checked against the real binary by
 * stream-config-real.test.ts), the parts the table can not reach (other streams, limits,
 * consumers), the subject rules, the error table, and a round-trip property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GO_JSON_ERROR, decodeGoValue } from '../../src/protocol/go-json.js';
import {
  JS_ERRORS,
  apiErrorResponse,
  encodeApiError,
  jsError,
  jsErrorUnless,
  type ApiError,
} from '../../src/jetstream/errors.js';
import { goInt, goTimeFromJson } from '../../src/jetstream/json.js';
import { checkStreamCfg, checkStreamConfig, type StreamCheckOptions } from '../../src/jetstream/stream-config-check.js';
import { checkStreamUpdate } from '../../src/jetstream/stream-config-update.js';
import {
  STREAM_CONFIG_SCHEMA,
  decodeStreamConfig,
  encodeStreamConfig,
  streamConfigsEqual,
  type StreamConfig,
  type StreamConfigRequest,
} from '../../src/jetstream/stream-config.js';
import {
  isValidMappingDestination,
  subjectIsSubsetMatch,
  subjectTransformError,
  subjectsCollide,
  subjectsOverlap,
} from '../../src/jetstream/subject-rules.js';
import { CASES, echo, ourAnswer, sub } from './stream-config-cases.js';

function req(body: string): StreamConfigRequest {
  const d = decodeStreamConfig(body);
  if ('error' in d) throw new Error(d.error.description);
  return d.config;
}

function filled(body: string, opts: Partial<StreamCheckOptions> = {}): StreamConfig {
  const r = checkStreamConfig(req(body), { isCreate: true, ...opts });
  if ('error' in r) throw new Error(r.error.description);
  return r.config;
}

function errorOf(r: { error: ApiError } | { config: StreamConfig }): ApiError | undefined {
  return 'error' in r ? r.error : undefined;
}

describe('stream config: requests and nats-server 2.10 answers', () => {
  for (const c of CASES) {
    it(`${c.op}: ${c.title}`, () => {
      expect(ourAnswer(c)).toBe(c.expect);
    });
  }
});

describe('stream config: checks that need the account', () => {
  const origin = filled('{"name":"O","subjects":["o.>"],"max_msg_size":2048,"allow_direct":true}');
  const lookup = (name: string): StreamConfig | undefined => (name === 'O' ? origin : undefined);

  it('a mirror inherits mirror_direct from its origin allow_direct', () => {
    expect(filled('{"name":"M","mirror":{"name":"O"}}', { lookupStream: lookup }).mirror_direct).toBe(true);
    expect(filled('{"name":"M","mirror":{"name":"X"}}', { lookupStream: lookup }).mirror_direct).toBe(false);
  });

  it('max_msg_size below the origin\'s (10030 / 10046)', () => {
    const m = checkStreamConfig(req('{"name":"M","max_msg_size":1024,"mirror":{"name":"O"}}'), { isCreate: true, lookupStream: lookup });
    expect(errorOf(m)).toEqual({ code: 400, err_code: 10030, description: 'stream mirror must have max message size >= source' });
    const s = checkStreamConfig(req('{"name":"S","max_msg_size":1024,"sources":[{"name":"O"}]}'), { isCreate: true, lookupStream: lookup });
    expect(errorOf(s)).toEqual({ code: 400, err_code: 10046, description: 'stream source must have max message size >= target' });
  });

  it('an external delivery prefix that overlaps the origin subjects (10022)', () => {
    // Only subjects of local origins are checked, and `sub` never collides with `pfx.sub`
    // unless `sub` has a wildcard that takes the prefix: ">" does.
    const wide = filled('{"name":"W","subjects":[">"],"no_ack":true}');
    const r = checkStreamConfig(
      req('{"name":"S","sources":[{"name":"W"},{"name":"E","external":{"api":"$JS.x.API","deliver":"dlv"}}]}'),
      { isCreate: true, lookupStream: (n) => (n === 'W' ? wide : undefined) },
    );
    expect(errorOf(r)).toEqual({ code: 400, err_code: 10022, description: 'stream external delivery prefix dlv overlaps with stream subject >' });
  });

  it('a source cycle is detected when the subjects flow round', () => {
    const streams: Record<string, StreamConfig> = { A: filled('{"name":"A","subjects":["a"],"sources":[{"name":"B"}]}') };
    const r = checkStreamConfig(req('{"name":"B","subjects":["b"],"sources":[{"name":"A"}]}'), { isCreate: true, lookupStream: (n) => streams[n] });
    expect(errorOf(r)).toEqual({ code: 500, err_code: 10052, description: 'detected cycle' });
    // Where the loop closes (A sourcing B), a filter that A's subjects do not match breaks it.
    streams.A = filled('{"name":"A","subjects":["a"],"sources":[{"name":"B","filter_subject":"zzz"}]}');
    const ok = checkStreamConfig(req('{"name":"B","subjects":["b"],"sources":[{"name":"A"}]}'), {
      isCreate: true,
      lookupStream: (n) => streams[n],
    });
    expect(errorOf(ok)).toBeUndefined();
  });

  it('create: the same config returns the existing stream, a different one is 10058', () => {
    const s = filled('{"name":"S","subjects":["s.>"]}');
    const same = checkStreamConfig(req('{"name":"S","subjects":["s.>"]}'), { isCreate: true, lookupStream: () => s });
    expect(same).toEqual({ config: s, existing: true });
    const other = checkStreamConfig(req('{"name":"S","subjects":["s.x"]}'), { isCreate: true, lookupStream: () => s });
    expect(errorOf(other)).toEqual({ code: 400, err_code: 10058, description: 'stream name already in use with a different configuration' });
    // reflect.DeepEqual: an empty map is not a nil map.
    const meta = checkStreamConfig(req('{"name":"S","subjects":["s.>"],"metadata":{}}'), { isCreate: true, lookupStream: () => s });
    expect(errorOf(meta)?.err_code).toBe(10058);
  });

  it('create: overlap with other streams is 10065, after the transform checks of sources', () => {
    const over = { isCreate: true, overlapsOtherStreams: (subs: readonly string[]) => subjectsOverlap(subs, ['a.*']) };
    expect(errorOf(checkStreamConfig(req('{"name":"S","subjects":["a.b"]}'), over))).toEqual({
      code: 400,
      err_code: 10065,
      description: 'subjects overlap with an existing stream',
    });
    expect(errorOf(checkStreamConfig(req('{"name":"S","subjects":["a.b"],"sources":[{"name":"O","filter_subject":"x..y"}]}'), over))?.err_code).toBe(10049);
  });

  it('account limits come in nats-server\'s places', () => {
    const limit: ApiError = jsError('JSMaximumStreamsLimitErr');
    // Before checkStreamCfg (on the request as decoded), after the request checks.
    expect(errorOf(checkStreamConfig(req('{"name":"S","max_age":1}'), { isCreate: true, checkRequestLimits: () => limit }))).toEqual(limit);
    expect(errorOf(checkStreamConfig(req('{"name":"S","sealed":true}'), { isCreate: true, checkRequestLimits: () => limit }))?.err_code).toBe(10052);
    // max_bytes required / per-stream maximum.
    const bytes = (required: boolean, limitBytes: number): Partial<StreamCheckOptions> => ({ streamBytesLimits: () => ({ required, limit: limitBytes }) });
    expect(errorOf(checkStreamConfig(req('{"name":"S"}'), { isCreate: true, ...bytes(true, 0) }))).toEqual({
      code: 400,
      err_code: 10113,
      description: 'account requires a stream config to have max bytes set',
    });
    expect(errorOf(checkStreamConfig(req('{"name":"S","max_bytes":2000}'), { isCreate: true, ...bytes(false, 1000) }))?.err_code).toBe(10122);
    // The server's duplicate window limit (its Duration.String() in the text).
    expect(filled('{"name":"S"}', { maxDuplicateWindow: 60_000_000_000 }).duplicate_window).toBe(60_000_000_000);
    expect(errorOf(checkStreamConfig(req('{"name":"S","duplicate_window":90000000000}'), { isCreate: true, maxDuplicateWindow: 60_000_000_000 }))?.description).toBe(
      'duplicates window can not be larger then server limit of 1m0s',
    );
  });

  it('clustered mode allows replicas on create', () => {
    expect(filled('{"name":"S","num_replicas":3}', { clustered: true }).num_replicas).toBe(3);
  });
});

describe('stream config: update rules beyond the table', () => {
  const base = filled('{"name":"U","subjects":["u"],"consumer_limits":{"max_ack_pending":100}}');

  it('a sealed stream can not be unsealed', () => {
    const sealed = checkStreamUpdate(base, { ...req('{"name":"U","subjects":["u"],"sealed":true}'), consumer_limits: base.consumer_limits });
    if ('error' in sealed) throw new Error(sealed.error.description);
    expect(errorOf(checkStreamUpdate(sealed.config, req('{"name":"U","subjects":["u"],"consumer_limits":{"max_ack_pending":100}}')))?.description).toBe(
      'stream configuration update can not unseal a sealed stream',
    );
  });

  it('template owned streams', () => {
    expect(errorOf(checkStreamUpdate({ ...base, template_owner: 'T' }, req('{"name":"U","subjects":["u"]}')))?.description).toBe(
      'stream configuration update not allowed on template owned stream',
    );
  });

  it('consumer limits may not drop below a consumer (10069, names in the order given)', () => {
    const r = checkStreamUpdate(base, req('{"name":"U","subjects":["u"],"consumer_limits":{"max_ack_pending":10}}'), {
      consumers: [
        { name: 'c1', inactive_threshold: 0, max_ack_pending: 50 },
        { name: 'c2', inactive_threshold: 0, max_ack_pending: 5 },
        { name: 'c3', inactive_threshold: 0, max_ack_pending: 20 },
      ],
    });
    expect(errorOf(r)).toEqual({ code: 500, err_code: 10069, description: 'change to limits violates consumers: c1, c3' });
  });

  it('an empty republish destination becomes ">" on update', () => {
    const r = checkStreamUpdate(base, req('{"name":"U","subjects":["u"],"consumer_limits":{"max_ack_pending":100},"republish":{"dest":""}}'));
    if ('error' in r) throw new Error(r.error.description);
    expect(r.config.republish).toEqual({ src: '>', dest: '>', headers_only: false });
  });

  it('limits errors pass through as they are', () => {
    const e = jsError('JSStorageResourcesExceededErr');
    expect(errorOf(checkStreamUpdate(base, req('{"name":"U","subjects":["u"],"consumer_limits":{"max_ack_pending":100}}'), { checkLimits: () => e }))).toEqual(e);
  });

  it('the caller\'s objects are never changed', () => {
    const r = req('{"name":"U","subjects":["u"],"republish":{"dest":"x"}}');
    const before = JSON.stringify(r);
    checkStreamCfg(r);
    expect(JSON.stringify(r)).toBe(before);
  });
});

describe('subject rules (sublist.go, subject_transform.go)', () => {
  it('SubjectsCollide', () => {
    const yes: Array<[string, string]> = [['a', 'a'], ['a.*', 'a.b'], ['a.>', '*.b.c'], ['>', 'x'], ['a.*.c', 'a.b.*'], ['*', '>']];
    const no: Array<[string, string]> = [['a', 'b'], ['a.*', 'a.b.c'], ['a.*', 'b.>'], ['a.b', 'a.b.>'], ['*.*', 'a']];
    for (const [x, y] of yes) expect(subjectsCollide(x, y), `${x} ~ ${y}`).toBe(true);
    for (const [x, y] of no) expect(subjectsCollide(x, y), `${x} !~ ${y}`).toBe(false);
    expect(subjectsOverlap(['a', 'b.*'], ['c', 'b.x'])).toBe(true);
    expect(subjectsOverlap(['a'], ['b'])).toBe(false);
  });

  it('subjectIsSubsetMatch', () => {
    expect(subjectIsSubsetMatch('foo.*', '>')).toBe(true);
    expect(subjectIsSubsetMatch('foo.*', '*.*')).toBe(true);
    expect(subjectIsSubsetMatch('foo.*', 'foo.*')).toBe(true);
    expect(subjectIsSubsetMatch('foo.*', 'foo.bar')).toBe(false);
    expect(subjectIsSubsetMatch('foo.>', 'foo.*')).toBe(false);
    expect(subjectIsSubsetMatch('$JS.EVENT.x', '$JS.EVENT.>')).toBe(true);
  });

  it('transform errors, texts as Go writes them', () => {
    expect(subjectTransformError('a.*', '')).toBeUndefined();
    expect(subjectTransformError('', 'b.>')).toBeUndefined();
    expect(subjectTransformError('a.*', 'b.{{wildcard(1)}}')).toBeUndefined();
    expect(subjectTransformError('a.*.*', 'b.$2.{{partition(3,1,2)}}.{{split(1,-)}}')).toBeUndefined();
    expect(subjectTransformError('a.>', 'b')).toBe('invalid subject');
    expect(subjectTransformError('a.*', 'b.*')).toBe('invalid subject');
    expect(subjectTransformError('a', 'b.{{wildcard(1)}}')).toBe('invalid mapping destination: wildcard index out of range in {{wildcard(1)}}');
    expect(subjectTransformError('a.*', 'b.{{wildcard()}}')).toBe('invalid mapping destination: not enough arguments passed to the function in {{wildcard()}}');
    expect(subjectTransformError('a.*', 'b.{{wildcard(1,2)}}')).toBe('invalid mapping destination: too many arguments passed to the function in {{wildcard(1,2)}}');
    expect(subjectTransformError('a.*', 'b.{{wildcard(x)}}')).toBe('invalid mapping destination: function argument is invalid or in the wrong format in {{wildcard(x)}}');
    expect(subjectTransformError('a.*', 'b.{{split(1,a b)}}')).toBe('invalid mapping destination: function argument is invalid or in the wrong format in {{split(1,a b)}}');
    // Tokens are split at dots first: "{{split(1," is a plain token.
    expect(subjectTransformError('a.*', 'b.{{split(1,.)}}')).toBeUndefined();
    expect(subjectTransformError('a.*', 'b.{{ Left( 1 , 2 ) }}')).toBeUndefined();
    // A $ token that is not a number is a plain token.
    expect(subjectTransformError('a', 'b.$x')).toBeUndefined();
  });

  it('ValidateMappingDestination knows no left/right', () => {
    expect(isValidMappingDestination('')).toBe(true);
    expect(isValidMappingDestination('a.{{wildcard(1)}}.>')).toBe(true);
    expect(isValidMappingDestination('a.{{left(1,2)}}')).toBe(false);
    expect(isValidMappingDestination('a.>.b')).toBe(false);
    expect(isValidMappingDestination('a b')).toBe(false);
  });
});

describe('errors.ts', () => {
  it('the table: 152 errors of 2.10.29, unique codes', () => {
    const all = Object.values(JS_ERRORS);
    expect(all.length).toBe(152);
    expect(new Set(all.map((e) => e.err_code)).size).toBe(152);
    expect(JS_ERRORS.JSStreamNotFoundErr).toEqual({ code: 404, err_code: 10059, description: 'stream not found' });
  });

  it('templates are filled in one pass, as strings.NewReplacer', () => {
    expect(jsError('JSSequenceNotFoundErrF', { seq: 2 }).description).toBe('sequence 2 not found');
    expect(jsError('JSStreamExternalDelPrefixOverlapsErrF', { prefix: 'p', subject: '{prefix}' }).description).toBe(
      'stream external delivery prefix p overlaps with stream subject {prefix}',
    );
    expect(jsError('JSStreamGeneralErrorF', { err: new Error('boom') }).description).toBe('boom');
    expect(jsError('JSStreamGeneralErrorF', { err: jsError('JSStreamNotFoundErr') }).description).toBe('stream not found (10059)');
    expect(jsErrorUnless('JSStreamGeneralErrorF', jsError('JSStreamNotFoundErr'))).toEqual(JS_ERRORS.JSStreamNotFoundErr);
    expect(jsErrorUnless('JSStreamGeneralErrorF', 'x').description).toBe('x');
  });

  it('the error response with each type\'s always-present fields', () => {
    expect(apiErrorResponse('stream_info', JS_ERRORS.JSStreamNotFoundErr)).toBe(
      '{"type":"io.nats.jetstream.api.v1.stream_info_response","error":{"code":404,"err_code":10059,"description":"stream not found"},"total":0,"offset":0,"limit":0}',
    );
    expect(apiErrorResponse('stream_purge', JS_ERRORS.JSStreamNotFoundErr)).toBe(
      '{"type":"io.nats.jetstream.api.v1.stream_purge_response","error":{"code":404,"err_code":10059,"description":"stream not found"},"purged":0}',
    );
    expect(apiErrorResponse('stream_names', JS_ERRORS.JSBadRequestErr, { total: 3 })).toBe(
      '{"type":"io.nats.jetstream.api.v1.stream_names_response","error":{"code":400,"err_code":10003,"description":"bad request"},"total":3,"offset":0,"limit":0,"streams":null}',
    );
    expect(encodeApiError({ code: 503, err_code: 0, description: '' })).toBe('{"code":503}');
  });
});

describe('Go JSON details', () => {
  it('RFC 3339 times as Go reads and rewrites them', () => {
    expect(goTimeFromJson('"2024-02-29T23:59:59.123456789123Z"')).toBe('2024-02-29T23:59:59.123456789Z');
    expect(goTimeFromJson('"2024-01-01T00:00:00.000Z"')).toBe('2024-01-01T00:00:00Z');
    expect(goTimeFromJson('"2024-01-01T02:00:00+02:00"')).toBe('2024-01-01T02:00:00+02:00');
    expect(goTimeFromJson('"2023-02-29T00:00:00Z"')).toBeUndefined();
    expect(goTimeFromJson('"2024-01-01 00:00:00Z"')).toBeUndefined();
    expect(goTimeFromJson('"2024-01-01T00:00:00\\u005a"')).toBeUndefined();
    expect(goTimeFromJson('1')).toBeUndefined();
  });

  it('int64 extremes survive the trip through a JS number', () => {
    expect(goInt(9223372036854775807, 'int64')).toBe('9223372036854775807');
    expect(goInt(-9223372036854775808, 'int64')).toBe('-9223372036854775808');
    expect(goInt(18446744073709551615, 'uint64')).toBe('18446744073709551615');
    expect(goInt(1e21, 'int64')).toBe('9223372036854775807');
    const c = filled('{"name":"S","max_bytes":9223372036854775807}');
    expect(encodeStreamConfig(c)).toContain('"max_bytes":9223372036854775807,');
  });

  it('decode into existing values: duplicate keys merge structs and maps, rewrite slices', () => {
    const c = req(
      '{"name":"S","placement":{"cluster":"c"},"placement":{"tags":["t"]},"metadata":{"a":"1"},"metadata":{"b":"2"},' +
        '"subjects":["x","y"],"subjects":[null],"sources":[{"name":"O","filter_subject":"f"}],"sources":[{"name":"P"}]}',
    );
    expect(c.placement).toEqual({ cluster: 'c', tags: ['t'] });
    expect({ ...c.metadata }).toEqual({ a: '1', b: '2' });
    expect(c.subjects).toEqual(['x']);
    expect(c.sources?.[0]).toMatchObject({ name: 'P', filter_subject: 'f' });
    // null makes a pointer, slice or map nil again.
    const n = req('{"name":"S","placement":{},"placement":null,"metadata":{"a":"1"},"metadata":null}');
    expect(n.placement).toBeUndefined();
    expect(n.metadata).toBeUndefined();
  });

  it('lone surrogates become U+FFFD, as in a Go string', () => {
    expect(req('{"name":"a\\ud800b"}').name).toBe('a\ufffdb');
  });

  it('a null source is an empty source (nats-server would crash on it)', () => {
    expect(errorOf(checkStreamConfig(req('{"name":"S","sources":[null]}'), { isCreate: true }))?.err_code).toBe(10141);
  });

  it('an unmarshaler sees the raw text', () => {
    const seen: string[] = [];
    const r = decodeGoValue('{"x":"a\\u0062"}', {
      kind: 'struct',
      fields: { x: { kind: 'unmarshaler', zero: '', unmarshal: (raw) => (seen.push(raw), raw === '"ab"' ? 'ab' : GO_JSON_ERROR) } },
    });
    expect(r).toBeNull();
    expect(seen).toEqual(['"a\\u0062"']);
  });

  it('the schema covers every field of the echo', () => {
    const all = filled(
      '{"name":"A","description":"d","subjects":["a"],"max_msg_size":1,"no_ack":true,"duplicate_window":1000000000,"placement":{"cluster":"c","tags":["t"]},' +
        '"sources":[{"name":"O","opt_start_seq":1,"opt_start_time":"2024-01-01T00:00:00Z","filter_subject":"o","external":{"api":"$JS.x.API","deliver":"d"}}],' +
        '"first_seq":2,"subject_transform":{"src":"a","dest":"b"},"republish":{"src":"a","dest":"r","headers_only":true},"discard":"new","max_msgs_per_subject":1,' +
        '"discard_new_per_subject":true,"metadata":{"k":"v"},"consumer_limits":{"inactive_threshold":1,"max_ack_pending":1}}',
    );
    const echoed = JSON.parse(encodeStreamConfig(all)) as Record<string, unknown>;
    expect(Object.keys(echoed).sort()).toEqual(Object.keys(STREAM_CONFIG_SCHEMA.fields).filter((k) => k !== 'template_owner' && k !== 'mirror').sort());
  });
});

// ---------------------------------------------------------------------------------------------
// Property: any valid config, once checked, echoes as JSON that decodes and checks back to
// the same config (and the same echo).

const token = fc.stringMatching(/^[a-z0-9_-]{1,6}$/);
const subject = fc.array(token, { minLength: 1, maxLength: 3 }).map((t) => t.join('.'));
const durationNs = fc.oneof(fc.constant(0), fc.integer({ min: 100, max: 10_000_000 }).map((ms) => ms * 1_000_000));
const int64 = fc.oneof(fc.constant(0), fc.constant(-1), fc.integer({ min: 1, max: 2 ** 40 }), fc.constant(9223372036854775807));
const text = fc.string({ maxLength: 12 });

const configArb = fc
  .record({
    name: token.map((t) => `S${t}`),
    description: text,
    subjects: fc.option(fc.uniqueArray(subject, { maxLength: 3 }), { nil: undefined }),
    retention: fc.constantFrom('limits', 'interest', 'workqueue'),
    max_consumers: fc.integer({ min: -1, max: 100 }),
    max_msgs: int64,
    max_bytes: int64,
    max_age: durationNs,
    max_msgs_per_subject: int64,
    max_msg_size: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    discard: fc.constantFrom('old', 'new'),
    storage: fc.constantFrom('file', 'memory', undefined),
    no_ack: fc.boolean(),
    duplicate_window: durationNs,
    placement: fc.option(fc.record({ cluster: text, tags: fc.option(fc.array(text, { maxLength: 2 }), { nil: undefined }) }), { nil: undefined }),
    sources: fc.option(
      fc.array(
        fc.record({
          name: token.map((t) => `O${t}`),
          opt_start_seq: fc.nat(),
          opt_start_time: fc.option(fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => goTimeFromJson(`"${d.toISOString()}"`)), { nil: undefined }),
          filter_subject: fc.option(subject, { nil: '' }),
          subject_transforms: fc.constant(undefined),
          external: fc.option(fc.record({ api: token.map((t) => `$JS.${t}.API`), deliver: fc.option(token, { nil: '' }) }), { nil: undefined }),
        }),
        { maxLength: 2 },
      ),
      { nil: undefined },
    ),
    compression: fc.constantFrom('none', 's2'),
    first_seq: fc.nat(),
    allow_direct: fc.boolean(),
    sealed: fc.constant(false),
    deny_delete: fc.boolean(),
    deny_purge: fc.boolean(),
    allow_rollup_hdrs: fc.boolean(),
    consumer_limits: fc.record({ inactive_threshold: durationNs, max_ack_pending: fc.nat(1000) }),
    metadata: fc.option(fc.dictionary(token, text, { maxKeys: 3 }), { nil: undefined }),
  })
  .map(
    (r): StreamConfigRequest => ({
      ...r,
      num_replicas: 1,
      template_owner: '',
      mirror: undefined,
      subject_transform: undefined,
      republish: undefined,
      mirror_direct: false,
      discard_new_per_subject: false,
    }),
  );

describe('stream config: property', () => {
  it('decode(encode(check(c))) gives check(c) back, and the same echo', () => {
    fc.assert(
      fc.property(configArb, (request) => {
        const r = checkStreamConfig(request, { isCreate: true });
        fc.pre(!('error' in r));
        if ('error' in r) return;
        const json = encodeStreamConfig(r.config);
        const back = decodeStreamConfig(json);
        expect('error' in back).toBe(false);
        if ('error' in back) return;
        const again = checkStreamConfig(back.config, { isCreate: true });
        if ('error' in again) throw new Error(again.error.description);
        expect(encodeStreamConfig(again.config)).toBe(json);
        // Empty slices and maps are omitted by the echo, so they come back nil: equal up to that.
        const norm = (c: StreamConfig): string => encodeStreamConfig(c);
        expect(norm(again.config)).toBe(norm(r.config));
        if (r.config.metadata === undefined || Object.keys(r.config.metadata).length > 0) {
          if ((r.config.sources ?? [1]).length > 0 && (r.config.placement?.tags ?? [1]).length > 0) {
            expect(streamConfigsEqual(again.config, { ...r.config, subjects: again.config.subjects })).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the echo is what the table expects for the plainest config', () => {
    expect(encodeStreamConfig(filled('{"name":"S1","subjects":["s1.>"]}'))).toBe(echo('S1', '["s1.\\u003e"]'));
    expect(sub('abc', 'b', 'x')).toBe('axc');
  });
});
