/**
 * STREAM.CREATE / STREAM.UPDATE requests and nats-server 2.10's answers to them: the config it
 * echoes, or its exact error response. Written from nats-server v2.10.29's source (stream.go
 * checkStreamCfg / configUpdateCheck, jetstream_api.go); each case also says what 2.9.10
 * answers, and stream-config-real.test.ts sends those marked 'same' (or with a 2.9.10 answer
 * of their own) to the real nats-server to check them.
 */
import { apiErrorResponse, type ApiError } from '../../src/jetstream/errors.js';
import { checkStreamConfig } from '../../src/jetstream/stream-config-check.js';
import { checkStreamUpdate } from '../../src/jetstream/stream-config-update.js';
import { decodeStreamConfig, encodeStreamConfig } from '../../src/jetstream/stream-config.js';

export interface ConfigCase {
  title: string;
  op: 'create' | 'update';
  /** The stream name token of the API subject. */
  subject: string;
  /** update: the body the stream was created with. */
  current?: string;
  body: string;
  /** 2.10's answer: the config echo on success, else the whole error response. */
  expect: string;
  /**
   * 2.9.10: 'same' (for a success, the echo without 2.10's fields), its own answer where it
   * differs (checked against the binary too), or why it can not be compared.
   */
  v29: 'same' | { expect: string; why: string } | { skip: string };
}

/** The 2.10 echo of `{"name":<name>}`, to edit with {@link sub}. */
export function echo(name: string, subjects = `["${name}"]`): string {
  return (
    `{"name":"${name}","subjects":${subjects},"retention":"limits","max_consumers":-1,"max_msgs":-1,` +
    `"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old","storage":"file",` +
    `"num_replicas":1,"duplicate_window":120000000000,"compression":"none","allow_direct":false,` +
    `"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false,` +
    `"consumer_limits":{}}`
  );
}

/** `s` with `from` replaced by `to`; `from` must occur. */
export function sub(s: string, ...pairs: string[]): string {
  let out = s;
  for (let i = 0; i < pairs.length; i += 2) {
    if (!out.includes(pairs[i])) throw new Error(`${pairs[i]} not in ${out}`);
    out = out.replace(pairs[i], pairs[i + 1]);
  }
  return out;
}

/** An error response, written out. */
export function errResp(code: number, errCode: number, description: string, kind = 'stream_create'): string {
  return `{"type":"io.nats.jetstream.api.v1.${kind}_response","error":{"code":${code},"err_code":${errCode},"description":${JSON.stringify(description).replace(/>/g, '\\u003e')}}}`;
}

const create = (title: string, subject: string, body: string, expect: string, v29: ConfigCase['v29'] = 'same'): ConfigCase => ({
  title,
  op: 'create',
  subject,
  body,
  expect,
  v29,
});
const update = (title: string, current: string, body: string, expect: string, v29: ConfigCase['v29'] = 'same'): ConfigCase => ({
  title,
  op: 'update',
  subject: (JSON.parse(current) as { name: string }).name,
  current,
  body,
  expect,
  v29,
});

const INVALID_JSON = errResp(400, 10025, 'invalid JSON');
const cfgErr = (text: string, kind = 'stream_create'): string => errResp(500, 10052, text, kind);
const updErr = (text: string): string => cfgErr(text, 'stream_update');
const ONLY_210 = { skip: 'uses a field 2.9.10 does not know' };

export const CASES: ConfigCase[] = [
  // --- Decoding: any json.Unmarshal error is 10025.
  create('an empty body', 'A', '', INVALID_JSON),
  create('bad syntax', 'A', '{nope', INVALID_JSON),
  create('a number for the name', 'A', '{"name":1}', INVALID_JSON),
  create('a string for max_msgs', 'A', '{"name":"A","max_msgs":"x"}', INVALID_JSON),
  create('a fraction for max_msgs', 'A', '{"name":"A","max_msgs":1.5}', INVALID_JSON),
  create('an exponent for max_bytes', 'A', '{"name":"A","max_bytes":1e3}', INVALID_JSON),
  create('a duration as a Go duration string', 'A', '{"name":"A","max_age":"1h"}', INVALID_JSON),
  create('max_msg_size beyond int32', 'A', '{"name":"A","max_msg_size":2147483648}', INVALID_JSON),
  create('an unknown retention', 'A', '{"name":"A","retention":"bogus"}', INVALID_JSON),
  create('retention is matched byte for byte', 'A', '{"name":"A","retention":"Limits"}', INVALID_JSON),
  create('null for an enum calls its UnmarshalJSON, which fails', 'A', '{"name":"A","retention":null}', INVALID_JSON),
  create('"disk" is no storage type', 'A', '{"name":"A","storage":"disk"}', INVALID_JSON),
  create('a string for a bool', 'A', '{"name":"A","no_ack":"true"}', INVALID_JSON),
  create('a string for subjects', 'A', '{"name":"A","subjects":"a"}', INVALID_JSON),
  create('a number in subjects', 'A', '{"name":"A","subjects":[1]}', INVALID_JSON),
  create('a string for the mirror', 'A', '{"name":"A","mirror":"B"}', INVALID_JSON),
  create('a number for a mirror field', 'A', '{"name":"A","mirror":{"name":"B","opt_start_seq":-1}}', INVALID_JSON),
  create('a bad RFC 3339 time', 'A', '{"name":"A","mirror":{"name":"B","opt_start_time":"2024-13-01T00:00:00Z"}}', INVALID_JSON),
  create('a time without a zone', 'A', '{"name":"A","mirror":{"name":"B","opt_start_time":"2024-01-01T00:00:00"}}', INVALID_JSON),
  create('a number for a metadata value', 'A', '{"name":"A","metadata":{"a":1}}', INVALID_JSON, ONLY_210),
  create('an unknown compression', 'A', '{"name":"A","compression":"zstd"}', INVALID_JSON, {
    expect: echo('A'),
    why: '2.9.10 has no compression field and ignores it',
  }),
  create('null compression ("" is unknown)', 'A', '{"name":"A","compression":null}', INVALID_JSON, ONLY_210),
  create('a top-level null decodes to the zero config: the name does not match', 'A', 'null', errResp(400, 10056, 'stream name in subject does not match request')),
  create('a top-level array', 'A', '[]', INVALID_JSON),
  create('max_msgs beyond int64', 'A', '{"name":"A","max_msgs":9223372036854775808}', INVALID_JSON),
  create('storage "any": nats-server takes it and crashes; here invalid JSON', 'A', '{"name":"A","storage":"any"}', INVALID_JSON, {
    skip: '2.9.10 dies on it (checked once by hand: the connection closes, the process is gone)',
  }),

  // --- Decoding: what Go accepts.
  create('keys are case-insensitive, unknown keys ignored', 'A', '{"NAME":"A","Max_Msgs":5,"unknown":{"x":[1]}}', sub(echo('A'), '"max_msgs":-1', '"max_msgs":5')),
  create('discard is lower-cased first', 'A', '{"name":"A","discard":"NEW"}', sub(echo('A'), '"discard":"old"', '"discard":"new"')),
  create('null leaves fields as they are', 'A', '{"name":"A","subjects":null,"max_msgs":null,"mirror":null}', echo('A')),
  create('a later duplicate key wins', 'A', '{"name":"A","max_msgs":1,"max_msgs":2}', sub(echo('A'), '"max_msgs":-1', '"max_msgs":2')),
  create('-0 is 0 for a signed field (then -1)', 'A', '{"name":"A","max_msgs":-0}', echo('A')),
  create('max_msgs at the int64 maximum is echoed exactly', 'A', '{"name":"A","max_msgs":9223372036854775807}', sub(echo('A'), '"max_msgs":-1', '"max_msgs":9223372036854775807')),
  create('memory storage', 'A', '{"name":"A","storage":"memory"}', sub(echo('A'), '"storage":"file"', '"storage":"memory"')),
  create('2.10 fields: compression, first_seq, consumer_limits, metadata (sorted keys)', 'A',
    '{"name":"A","compression":"s2","first_seq":5,"consumer_limits":{"max_ack_pending":10,"inactive_threshold":5000000000},"metadata":{"b":"2","a":"<1>"}}',
    sub(echo('A'), '"compression":"none"', '"compression":"s2","first_seq":5', '"consumer_limits":{}', '"consumer_limits":{"inactive_threshold":5000000000,"max_ack_pending":10},"metadata":{"a":"\\u003c1\\u003e","b":"2"}'),
    ONLY_210),
  create('an empty placement is echoed, empty subjects are defaulted', 'A', '{"name":"A","placement":{},"subjects":[]}', sub(echo('A'), '"duplicate_window":120000000000', '"duplicate_window":120000000000,"placement":{}')),
  create('the full echo of the optional fields', 'A',
    '{"name":"A","description":"d","subjects":["a.>","b"],"max_msg_size":1024,"no_ack":true,"discard":"new","discard_new_per_subject":true,"max_msgs_per_subject":3,"allow_direct":true,"allow_rollup_hdrs":true,"deny_delete":true,"republish":{"dest":"rp.>","headers_only":true}}',
    sub(echo('A', '["a.\\u003e","b"]'),
      '"name":"A"', '"name":"A","description":"d"',
      '"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old"', '"max_msgs_per_subject":3,"max_msg_size":1024,"discard":"new"',
      '"num_replicas":1', '"num_replicas":1,"no_ack":true',
      '"compression":"none","allow_direct":false', '"compression":"none","republish":{"src":"\\u003e","dest":"rp.\\u003e","headers_only":true},"allow_direct":true',
      '"mirror_direct":false,"sealed":false,"deny_delete":false', '"mirror_direct":false,"discard_new_per_subject":true,"sealed":false,"deny_delete":true',
      '"allow_rollup_hdrs":false', '"allow_rollup_hdrs":true')),

  // --- The request checks of jsStreamCreateRequest.
  create('name in the body differs from the subject', 'A', '{"name":"B"}', errResp(400, 10056, 'stream name in subject does not match request')),
  create('path separators', 'a/b', '{"name":"a/b"}', errResp(400, 10128, 'Stream name can not contain path separators')),
  create('sealed on create', 'A', '{"name":"A","sealed":true}', cfgErr('stream configuration for create can not be sealed')),
  create('mirror_direct without a mirror', 'A', '{"name":"A","mirror_direct":true}', cfgErr('stream has no mirror but does have mirror direct')),

  // --- checkStreamCfg.
  create('a wildcard in the name', 'a*', '{"name":"a*"}', cfgErr("stream name is required and can not contain '.', '*', '>'")),
  create('a name of 256 bytes', 'n'.repeat(256), `{"name":"${'n'.repeat(256)}"}`, cfgErr('stream name is too long, maximum allowed is 255')),
  create('a description of 4097 bytes', 'A', `{"name":"A","description":"${'d'.repeat(4097)}"}`, cfgErr('stream description is too long, maximum allowed is 4096')),
  create('metadata over 128 KiB', 'A', `{"name":"A","metadata":{"k":"${'v'.repeat(128 * 1024)}"}}`, cfgErr('stream metadata exceeds maximum size of 131072 bytes'), ONLY_210),
  create('6 replicas', 'A', '{"name":"A","num_replicas":6}', cfgErr('maximum replicas is 5')),
  create('negative replicas', 'A', '{"name":"A","num_replicas":-1}', errResp(400, 10133, 'replicas count cannot be negative')),
  create('3 replicas on a single server', 'A', '{"name":"A","num_replicas":3}', errResp(500, 10074, 'replicas > 1 not supported in non-clustered mode')),
  create('max_age below 100ms', 'A', '{"name":"A","max_age":50000000}', cfgErr('max age needs to be >= 100ms')),
  create('a short max_age is the duplicate window', 'A', '{"name":"A","max_age":1000000000}', sub(echo('A'), '"max_age":0', '"max_age":1000000000', '"duplicate_window":120000000000', '"duplicate_window":1000000000')),
  create('a negative max_age makes a negative duplicate window', 'A', '{"name":"A","max_age":-1}', cfgErr('duplicates window can not be negative')),
  create('a negative duplicate window', 'A', '{"name":"A","duplicate_window":-1}', cfgErr('duplicates window can not be negative')),
  create('a duplicate window above max_age', 'A', '{"name":"A","max_age":300000000000,"duplicate_window":600000000000}', cfgErr('duplicates window can not be larger then max age')),
  create('a duplicate window below 100ms', 'A', '{"name":"A","duplicate_window":50000000}', cfgErr('duplicates window needs to be >= 100ms')),
  create('rollups with deny_purge', 'A', '{"name":"A","deny_purge":true,"allow_rollup_hdrs":true}', cfgErr('roll-ups require the purge permission')),
  create('discard new per subject without discard new', 'A', '{"name":"A","discard_new_per_subject":true,"max_msgs_per_subject":1}', cfgErr('discard new per subject requires discard new policy to be set')),
  create('discard new per subject without a per-subject limit', 'A', '{"name":"A","discard":"new","discard_new_per_subject":true}', cfgErr('discard new per subject requires max msgs per subject > 0')),
  create('an invalid subject', 'A', '{"name":"A","subjects":["a..b"]}', cfgErr('invalid subject')),
  create('whitespace in a subject', 'A', '{"name":"A","subjects":["a b"]}', cfgErr('invalid subject')),
  create('duplicate subjects', 'A', '{"name":"A","subjects":["a","a"]}', cfgErr('duplicate subjects detected')),
  create('subjects that overlap each other', 'A', '{"name":"A","subjects":["a.>","a.b"]}', cfgErr('subject "a.>" overlaps with "a.b"')),
  create('capturing everything', 'A', '{"name":"A","subjects":[">"]}', cfgErr('capturing all subjects requires no-ack to be true'), {
    skip: '2.9.10 accepts a stream on ">" (and then captures its own API traffic)',
  }),
  create('capturing everything with no_ack', 'A', '{"name":"A","subjects":[">"],"no_ack":true}', sub(echo('A', '["\\u003e"]'), '"num_replicas":1', '"num_replicas":1,"no_ack":true'), {
    skip: 'a stream on ">" captures the rest of the run on 2.9.10',
  }),
  create('the JetStream API', 'A', '{"name":"A","subjects":["$JS.API.>"]}', cfgErr('subjects that overlap with jetstream api require no-ack to be true'), {
    expect: cfgErr('subjects overlap with jetstream api'),
    why: '2.10 allows API subjects with no_ack and words the error differently',
  }),
  create('the JetStream API with no_ack', 'A', '{"name":"A","subjects":["$JS.API.FOO"],"no_ack":true}', sub(echo('A', '["$JS.API.FOO"]'), '"num_replicas":1', '"num_replicas":1,"no_ack":true'), {
    expect: cfgErr('subjects overlap with jetstream api'),
    why: '2.9.10 refuses any subject under $JS.API.>',
  }),
  create('$JS.EVENT.> is allowed', 'A', '{"name":"A","subjects":["$JS.EVENT.>"]}', echo('A', '["$JS.EVENT.\\u003e"]')),
  create('the system API', 'A', '{"name":"A","subjects":["$SYS.>"]}', cfgErr('subjects that overlap with system api require no-ack to be true'), {
    skip: '2.9.10 accepts $SYS.> (a stream there would swallow the system events)',
  }),
  create('a subject of another JetStream namespace', 'A', '{"name":"A","subjects":["$JSC.x"]}', cfgErr('subjects that overlap with jetstream api require no-ack to be true'), {
    expect: echo('A', '["$JSC.x"]'),
    why: '2.9.10 checks $JS.API.> only',
  }),
  create('republish onto its own subjects', 'A', '{"name":"A","subjects":["a.>"],"republish":{"src":"a.>","dest":"a.b"}}', cfgErr('stream configuration for republish destination forms a cycle')),
  create('republish with a bad transform', 'A', '{"name":"A","subjects":["a.*"],"republish":{"src":"a.*","dest":"b.{{wildcard(2)}}"}}',
    cfgErr("stream configuration for republish with transform from 'a.*' to 'b.{{wildcard(2)}}' not valid"), {
      expect: cfgErr('stream configuration for republish not valid'),
      why: '2.10 names the transform',
    }),
  create('a stream subject transform with a wildcard index out of range', 'A', '{"name":"A","subjects":["a.*"],"subject_transform":{"src":"a.*","dest":"b.$2"}}',
    errResp(500, 10049, "stream subject transform from 'a.*' to 'b.$2': invalid mapping destination: wildcard index out of range in $2: [2]"), ONLY_210),
  create('a stream subject transform with an unknown function', 'A', '{"name":"A","subject_transform":{"src":"a.*","dest":"b.{{nope(1)}}"}}',
    errResp(500, 10049, "stream subject transform from 'a.*' to 'b.{{nope(1)}}': invalid mapping destination: unknown function in {{nope(1)}}"), ONLY_210),

  // --- Mirrors and sources.
  create('a mirror with subjects', 'M', '{"name":"M","subjects":["m"],"mirror":{"name":"O"}}', errResp(400, 10034, 'stream mirrors can not contain subjects')),
  create('a mirror with sources', 'M', '{"name":"M","mirror":{"name":"O"},"sources":[{"name":"P"}]}', errResp(400, 10031, 'stream mirrors can not also contain other sources')),
  create('a mirror with first_seq', 'M', '{"name":"M","mirror":{"name":"O"},"first_seq":3}', errResp(400, 10143, 'stream mirrors can not have first sequence configured'), ONLY_210),
  create('a mirror with an invalid name', 'M', '{"name":"M","mirror":{"name":"a.b"}}', errResp(400, 10142, 'mirrored stream name is invalid'), {
    skip: '2.9.10 does not check the name (and sets up a mirror of "a.b")',
  }),
  create('a mirror (no subjects, no duplicate window); its start time canonical', 'M',
    '{"name":"M","mirror":{"name":"O","opt_start_time":"2024-01-02T03:04:05.500000000+00:00"}}',
    '{"name":"M","retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old","storage":"file","num_replicas":1,"mirror":{"name":"O","opt_start_time":"2024-01-02T03:04:05.5Z"},"compression":"none","allow_direct":false,"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false,"consumer_limits":{}}'),
  create('a start time keeps its offset', 'M', '{"name":"M","mirror":{"name":"O","opt_start_seq":5,"opt_start_time":"2024-01-02T03:04:05.123+02:00"}}',
    '{"name":"M","retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old","storage":"file","num_replicas":1,"mirror":{"name":"O","opt_start_seq":5,"opt_start_time":"2024-01-02T03:04:05.123+02:00"},"compression":"none","allow_direct":false,"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false,"consumer_limits":{}}'),
  create('a mirror filter with transforms', 'M', '{"name":"M","mirror":{"name":"O","filter_subject":"a","subject_transforms":[{"src":"b","dest":"c"}]}}', errResp(400, 10150, 'mirror with multiple subject transforms cannot also have a single subject filter'), ONLY_210),
  create('overlapping mirror transforms', 'M', '{"name":"M","mirror":{"name":"O","subject_transforms":[{"src":"a.*","dest":"x"},{"src":"a.b","dest":"y"}]}}', errResp(400, 10152, 'mirror subject filters can not overlap'), ONLY_210),
  create('an invalid mirror filter', 'M', '{"name":"M","mirror":{"name":"O","filter_subject":"a..b"}}', errResp(500, 10049, "subject filter 'a..b' for the mirror invalid subject"), {
    skip: '2.9.10 accepts it',
  }),
  create('an invalid source name', 'S', '{"name":"S","sources":[{"name":"a b"}]}', errResp(400, 10141, 'sourced stream name is invalid'), { skip: '2.9.10 does not check the name' }),
  create('a duplicate source', 'S', '{"name":"S","sources":[{"name":"O"},{"name":"O","filter_subject":">"}]}', errResp(400, 10140, 'duplicate source configuration detected'), { skip: '2.9.10 does not check duplicates' }),
  create('a source filter with transforms', 'S', '{"name":"S","sources":[{"name":"O","filter_subject":"a","subject_transforms":[{"src":"b","dest":"c"}]}]}', errResp(400, 10144, 'source with multiple subject transforms cannot also have a single subject filter'), ONLY_210),
  create('a bad source transform destination', 'S', '{"name":"S","sources":[{"name":"O","subject_transforms":[{"src":"b","dest":"c..d"}]}]}', errResp(400, 10146, 'source transform destination is invalid'), ONLY_210),
  create('overlapping source filters', 'S', '{"name":"S","sources":[{"name":"O","subject_transforms":[{"src":"a.b","dest":""},{"src":"a.*","dest":""}]}]}', errResp(400, 10147, 'source filters can not overlap'), ONLY_210),
  create('a source with a bad transform', 'S', '{"name":"S","sources":[{"name":"O","subject_transforms":[{"src":"a.*","dest":"b.{{wildcard(2)}}"}]}]}',
    errResp(500, 10049, "subject transform from 'a.*' to 'b.{{wildcard(2)}}' for the source: invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]"), ONLY_210),
  create('a source: subjects are not defaulted', 'S', '{"name":"S","sources":[{"name":"O","opt_start_seq":10,"filter_subject":"o.>"}]}',
    '{"name":"S","retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old","storage":"file","num_replicas":1,"duplicate_window":120000000000,"sources":[{"name":"O","opt_start_seq":10,"filter_subject":"o.\\u003e"}],"compression":"none","allow_direct":false,"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false,"consumer_limits":{}}'),
  create('an external delivery prefix with a wildcard', 'M', '{"name":"M","mirror":{"name":"O","external":{"api":"$JS.h.API","deliver":"dl.*"}}}', errResp(400, 10024, 'stream external delivery prefix dl.* must not contain wildcards')),
  create('an external API prefix with a wildcard', 'M', '{"name":"M","mirror":{"name":"O","external":{"api":"x.*","deliver":""}}}', cfgErr('stream external api prefix "x.*" must be a valid subject without wildcards')),
  create('an external API prefix on the local API', 'M', '{"name":"M","mirror":{"name":"O","external":{"api":"$JS.API","deliver":""}}}', errResp(400, 10021, 'stream external api prefix $JS.API must not overlap with $JS.API')),

  // --- Updates (configUpdateCheck, updateWithAdvisory).
  update('subjects and limits may change', '{"name":"U","subjects":["u.1"]}', '{"name":"U","subjects":["u.2"],"max_msgs":10,"description":"x"}',
    sub(echo('U', '["u.2"]'), '"name":"U"', '"name":"U","description":"x"', '"max_msgs":-1', '"max_msgs":10')),
  update('the name in the body differs from the subject', '{"name":"U"}', '{"name":"V"}', errResp(400, 10056, 'stream name in subject does not match request', 'stream_update')),
  update('checkStreamCfg errors come first', '{"name":"U"}', '{"name":"U","max_age":1}', updErr('max age needs to be >= 100ms')),
  update('storage', '{"name":"U"}', '{"name":"U","storage":"memory"}', updErr('stream configuration update can not change storage type')),
  update('max_consumers', '{"name":"U"}', '{"name":"U","max_consumers":5}', updErr('stream configuration update can not change MaxConsumers')),
  update('retention limits to interest', '{"name":"U"}', '{"name":"U","retention":"interest"}', sub(echo('U'), '"retention":"limits"', '"retention":"interest"'), {
    expect: updErr('stream configuration update can not change retention policy'),
    why: '2.10 allows limits <-> interest',
  }),
  update('retention to workqueue', '{"name":"U"}', '{"name":"U","retention":"workqueue"}', updErr('stream configuration update can not change retention policy to/from workqueue'), {
    expect: updErr('stream configuration update can not change retention policy'),
    why: '2.10 words it for workqueue only',
  }),
  update('sealing: discard new, deny delete and purge', '{"name":"U"}', '{"name":"U","sealed":true}', sub(echo('U'), '"discard":"old"', '"discard":"new"', '"sealed":false,"deny_delete":false,"deny_purge":false', '"sealed":true,"deny_delete":true,"deny_purge":true')),
  update('cancelling deny_delete', '{"name":"U","deny_delete":true}', '{"name":"U"}', updErr('stream configuration update can not cancel deny message deletes')),
  update('cancelling deny_purge', '{"name":"U","deny_purge":true}', '{"name":"U"}', updErr('stream configuration update can not cancel deny purge')),
  update('sealing clears max_age and rollups', '{"name":"U","max_age":60000000000,"allow_rollup_hdrs":true}', '{"name":"U","max_age":60000000000,"allow_rollup_hdrs":true,"sealed":true}',
    sub(echo('U'), '"discard":"old"', '"discard":"new"', '"duplicate_window":120000000000', '"duplicate_window":60000000000', '"sealed":false,"deny_delete":false,"deny_purge":false', '"sealed":true,"deny_delete":true,"deny_purge":true')),
  update('the mirror', '{"name":"UM","mirror":{"name":"O"}}', '{"name":"UM","mirror":{"name":"P"}}', errResp(400, 10055, 'stream mirror configuration can not be updated', 'stream_update')),
  update('a new republish', '{"name":"U","subjects":["u"]}', '{"name":"U","subjects":["u"],"republish":{"src":"u","dest":"rp.u"}}',
    sub(echo('U', '["u"]'), '"allow_direct":false', '"republish":{"src":"u","dest":"rp.u"},"allow_direct":false'), {
      expect: updErr('stream configuration update can not change RePublish'),
      why: '2.10 lets republish change',
    }),
  update('discard new per subject on update', '{"name":"U"}', '{"name":"U","discard_new_per_subject":true,"max_msgs_per_subject":2}', updErr('discard new per subject requires discard new policy to be set')),
  update('3 replicas on a single server are accepted on update', '{"name":"U"}', '{"name":"U","num_replicas":3}', sub(echo('U'), '"num_replicas":1', '"num_replicas":3')),
  update('a stream subject transform with an unknown function', '{"name":"U"}', '{"name":"U","subject_transform":{"src":"a","dest":"{{nope()}}"}}',
    errResp(500, 10069, "stream configuration for subject transform from 'a' to '{{nope()}}': invalid mapping destination: unknown function in {{nope()}}", 'stream_update'), ONLY_210),
];

/** A config decoded and checked for create, as this package answers it (echo or error response). */
export function ourCreate(subject: string, body: string): string {
  const d = decodeStreamConfig(body);
  if ('error' in d) return apiErrorResponse('stream_create', d.error);
  const r = checkStreamConfig(d.config, { isCreate: true, subjectName: subject });
  return 'error' in r ? apiErrorResponse('stream_create', r.error) : encodeStreamConfig(r.config);
}

/** An update of the stream created with `current`, as this package answers it. */
export function ourUpdate(subject: string, current: string, body: string): string {
  const c = decodeStreamConfig(current);
  if ('error' in c) throw new Error('bad current config');
  const cur = checkStreamConfig(c.config, { isCreate: true, subjectName: subject });
  if ('error' in cur) throw new Error(`current config refused: ${cur.error.description}`);
  const fail = (e: ApiError): string => apiErrorResponse('stream_update', e);
  const d = decodeStreamConfig(body);
  if ('error' in d) return fail(d.error);
  const r = checkStreamConfig(d.config, { isCreate: false, subjectName: subject });
  if ('error' in r) return fail(r.error);
  const u = checkStreamUpdate(cur.config, r.config);
  return 'error' in u ? fail(u.error) : encodeStreamConfig(u.config);
}

/** The answer of a case, from this package. */
export function ourAnswer(c: ConfigCase): string {
  return c.op === 'create' ? ourCreate(c.subject, c.body) : ourUpdate(c.subject, c.current!, c.body);
}

/** A 2.10 config echo as 2.9.10 writes it: without `compression` and `consumer_limits`. */
export function as29(echoJson: string): string {
  return echoJson.replace(/,"compression":"[a-z0-9]+"/, '').replace(/,"consumer_limits":\{[^}]*\}/, '');
}
