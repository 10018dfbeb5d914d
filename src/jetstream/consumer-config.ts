/**
 * A JetStream consumer's configuration as nats-server 2.10 reads and writes it on the wire:
 * the `ConsumerConfig` type (JSON names), the decoding of a CONSUMER.CREATE body
 * (`CreateConsumerRequest {stream_name, config, action}`) with Go's `json.Unmarshal` rules,
 * the config as nats-server writes it back (Go field order, omitempty), and Go's
 * `reflect.DeepEqual` of two configs. The defaults and checks are in consumer-config-check.ts.
 *
 * Follows nats-server v2.10.29: consumer.go (ConsumerConfig, CreateConsumerRequest,
 * ConsumerAction and its UnmarshalJSON), store.go (DeliverPolicy, AckPolicy, ReplayPolicy
 * MarshalJSON / UnmarshalJSON), jetstream_api.go (jsConsumerCreateRequest: any decoding
 * error is 10025 "invalid JSON").
 */
import { GO_JSON_ERROR, decodeGoValue, type GoSchema, type GoStructSchema } from '../protocol/go-json.js';
import { jsError, type ApiError } from './errors.js';
import {
  goDeepEqual, goInt, goObject as object, goOptBool as optBool, goOptInt as optInt, goOptSlice as optSlice, goOptString as optStr,
  goString, goStringMap as encodeMetadata, goTimeFromJson,
  GO_SUBJECT, GO_SUBJECTS, goSubject, goOptSubject as optSubj,
} from './json.js';

export type DeliverPolicy = 'all' | 'last' | 'new' | 'by_start_sequence' | 'by_start_time' | 'last_per_subject';
export type AckPolicy = 'none' | 'all' | 'explicit';
export type ReplayPolicy = 'instant' | 'original';
/** ConsumerAction: `""` create-or-update (the zero value), `"create"`, `"update"`. */
export type ConsumerAction = '' | 'create' | 'update';

/**
 * nats-server 2.10's ConsumerConfig, field for field, in the Go struct's order. An optional
 * field is one Go holds as a pointer, slice or map (`undefined` is nil, which differs from an
 * empty slice or map for reflect.DeepEqual); every other field is always present, at its Go
 * zero value when not given. Durations are int64 nanoseconds.
 */
export interface ConsumerConfig {
  durable_name: string;
  name: string;
  description: string;
  deliver_policy: DeliverPolicy;
  opt_start_seq: number;
  /** RFC 3339, as nats-server writes it back (see goTimeFromJson). */
  opt_start_time?: string;
  /** The zero value is `none` (AckNone is 0 in Go). */
  ack_policy: AckPolicy;
  ack_wait: number;
  max_deliver: number;
  backoff?: number[];
  filter_subject: string;
  filter_subjects?: string[];
  replay_policy: ReplayPolicy;
  rate_limit_bps: number;
  sample_freq: string;
  max_waiting: number;
  max_ack_pending: number;
  idle_heartbeat: number;
  flow_control: boolean;
  headers_only: boolean;
  max_batch: number;
  max_expires: number;
  max_bytes: number;
  deliver_subject: string;
  deliver_group: string;
  inactive_threshold: number;
  num_replicas: number;
  mem_storage: boolean;
  direct: boolean;
  metadata?: Record<string, string>;
}

/** CreateConsumerRequest: `config` is a struct value (not a pointer), so `null` leaves it zero. */
export interface CreateConsumerRequest {
  stream_name: string;
  config: ConsumerConfig;
  action: ConsumerAction;
}

// ---------------------------------------------------------------------------------------------
// Decoding.

/**
 * An enum whose UnmarshalJSON compares the raw bytes, quotes included (so `null`, escapes and
 * other cases are refused: Go hands a non-pointer Unmarshaler the `null` literal too).
 */
function rawEnum<T extends string>(zero: T, table: Readonly<Record<string, T>>): GoSchema {
  return {
    kind: 'unmarshaler',
    zero,
    unmarshal: (raw) => (Object.hasOwn(table, raw) ? table[raw] : GO_JSON_ERROR),
  };
}

/** `"undefined"` is also read as all (what DeliverPolicy's MarshalJSON writes for an unknown value). */
const DELIVER = rawEnum<DeliverPolicy>('all', {
  '"all"': 'all',
  '"undefined"': 'all',
  '"last"': 'last',
  '"last_per_subject"': 'last_per_subject',
  '"new"': 'new',
  '"by_start_sequence"': 'by_start_sequence',
  '"by_start_time"': 'by_start_time',
});
const ACK = rawEnum<AckPolicy>('none', { '"none"': 'none', '"all"': 'all', '"explicit"': 'explicit' });
const REPLAY = rawEnum<ReplayPolicy>('instant', { '"instant"': 'instant', '"original"': 'original' });
const ACTION = rawEnum<ConsumerAction>('', { '""': '', '"create"': 'create', '"update"': 'update' });

/** `*time.Time`: null leaves the pointer nil; otherwise time.Time's UnmarshalJSON. */
const TIME: GoSchema = {
  kind: 'unmarshaler',
  zero: undefined,
  unmarshal: (raw, current) => (raw === 'null' ? current : (goTimeFromJson(raw) ?? GO_JSON_ERROR)),
};

const struct = (fields: GoStructSchema['fields']): GoStructSchema => ({ kind: 'struct', fields });

/** nats-server 2.10.29's ConsumerConfig as Go's decoder sees it (int is 64-bit, Duration int64). */
export const CONSUMER_CONFIG_SCHEMA: GoStructSchema = struct({
  durable_name: 'string',
  name: 'string',
  description: 'string',
  deliver_policy: DELIVER,
  opt_start_seq: 'uint64',
  opt_start_time: TIME,
  ack_policy: ACK,
  ack_wait: 'int64',
  max_deliver: 'int64',
  backoff: { kind: 'slice', elem: 'int64' },
  filter_subject: GO_SUBJECT,
  filter_subjects: GO_SUBJECTS,
  replay_policy: REPLAY,
  rate_limit_bps: 'uint64',
  sample_freq: 'string',
  max_waiting: 'int64',
  max_ack_pending: 'int64',
  idle_heartbeat: 'int64',
  flow_control: 'bool',
  headers_only: 'bool',
  max_batch: 'int64',
  max_expires: 'int64',
  max_bytes: 'int64',
  deliver_subject: GO_SUBJECT,
  deliver_group: GO_SUBJECT,
  inactive_threshold: 'int64',
  num_replicas: 'int64',
  mem_storage: 'bool',
  direct: 'bool',
  metadata: { kind: 'map', elem: 'string' },
});

/** CreateConsumerRequest as Go's decoder sees it. */
export const CREATE_CONSUMER_REQUEST_SCHEMA: GoStructSchema = struct({
  stream_name: 'string',
  config: CONSUMER_CONFIG_SCHEMA,
  action: ACTION,
});

/**
 * Decodes a CONSUMER.CREATE / CONSUMER.DURABLE.CREATE body as nats-server does
 * (`json.Unmarshal` into CreateConsumerRequest): keys matched case-insensitively, unknown
 * keys ignored, `null` leaves a value as it is (a pointer, slice or map nil; the enums and
 * the action refuse it). Any error (bad syntax, an empty body, a wrong type, an integer out of
 * range, an unknown enum or action, a bad RFC 3339 time) is 10025 "invalid JSON".
 */
export function decodeCreateConsumerRequest(body: string): { request: CreateConsumerRequest } | { error: ApiError } {
  const r = decodeGoValue(body, CREATE_CONSUMER_REQUEST_SCHEMA);
  if (r === null) return { error: jsError('JSInvalidJSONErr') };
  return { request: r.value as CreateConsumerRequest };
}

/** A ConsumerConfig with every field at its Go zero value. */
export function zeroConsumerConfig(): ConsumerConfig {
  const r = decodeGoValue('{}', CONSUMER_CONFIG_SCHEMA);
  return r!.value as ConsumerConfig;
}

// ---------------------------------------------------------------------------------------------
// Encoding.

const str = (s: string): string => goString(s);

/**
 * The config as nats-server 2.10 writes it (ConsumerInfo.config): the Go struct's order,
 * omitempty everywhere except `deliver_policy`, `ack_policy`, `replay_policy` and
 * `num_replicas`, durations as nanosecond integers, Go's `\u003e`-style escaping.
 */
export function encodeConsumerConfig(c: ConsumerConfig): string {
  return object([
    ['durable_name', optStr(c.durable_name)],
    ['name', optStr(c.name)],
    ['description', optStr(c.description)],
    ['deliver_policy', str(c.deliver_policy)],
    ['opt_start_seq', optInt(c.opt_start_seq, 'uint64')],
    ['opt_start_time', c.opt_start_time === undefined ? undefined : str(c.opt_start_time)],
    ['ack_policy', str(c.ack_policy)],
    ['ack_wait', optInt(c.ack_wait, 'int64')],
    ['max_deliver', optInt(c.max_deliver, 'int')],
    ['backoff', optSlice(c.backoff, (d) => goInt(d, 'int64'))],
    ['filter_subject', optSubj(c.filter_subject)],
    ['filter_subjects', optSlice(c.filter_subjects, goSubject)],
    ['replay_policy', str(c.replay_policy)],
    ['rate_limit_bps', optInt(c.rate_limit_bps, 'uint64')],
    ['sample_freq', optStr(c.sample_freq)],
    ['max_waiting', optInt(c.max_waiting, 'int')],
    ['max_ack_pending', optInt(c.max_ack_pending, 'int')],
    ['idle_heartbeat', optInt(c.idle_heartbeat, 'int64')],
    ['flow_control', optBool(c.flow_control)],
    ['headers_only', optBool(c.headers_only)],
    ['max_batch', optInt(c.max_batch, 'int')],
    ['max_expires', optInt(c.max_expires, 'int64')],
    ['max_bytes', optInt(c.max_bytes, 'int')],
    ['deliver_subject', optSubj(c.deliver_subject)],
    ['deliver_group', optSubj(c.deliver_group)],
    ['inactive_threshold', optInt(c.inactive_threshold, 'int64')],
    ['num_replicas', goInt(c.num_replicas, 'int')],
    ['mem_storage', optBool(c.mem_storage)],
    ['direct', optBool(c.direct)],
    ['metadata', encodeMetadata(c.metadata)],
  ]);
}

// ---------------------------------------------------------------------------------------------
// Equality.

/**
 * Go's `reflect.DeepEqual` of two configs (CONSUMER.CREATE with action "create" on an existing
 * consumer succeeds only when equal): nil and empty slices or maps differ, map order does not
 * matter, start times compare as written back.
 */
export function consumerConfigsEqual(a: ConsumerConfig, b: ConsumerConfig): boolean {
  return goDeepEqual(a, b);
}
