/**
 * A JetStream stream's configuration as nats-server 2.10 reads and writes it on the wire:
 * the `StreamConfig` type (JSON names), the decoding of a STREAM.CREATE / STREAM.UPDATE
 * body with Go's `json.Unmarshal` rules, the echo nats-server writes back (Go field order,
 * omitempty), and Go's `reflect.DeepEqual` of two configs (used for "create with the same
 * config"). The checks and defaults are in stream-config-check.ts (create) and
 * stream-config-update.ts (update).
 *
 * Follows nats-server v2.10.29: stream.go (StreamConfig, StreamSource, ExternalStream,
 * SubjectTransformConfig, RePublish, StreamConsumerLimits), jetstream_cluster.go (Placement),
 * store.go and filestore.go (the enums' MarshalJSON / UnmarshalJSON), jetstream_api.go
 * (jsStreamCreateRequest / jsStreamUpdateRequest: any decoding error is 10025 "invalid JSON").
 */
import { GO_JSON_ERROR, decodeGoValue, type GoSchema, type GoStructSchema } from '../protocol/go-json.js';
import { jsError, type ApiError } from './errors.js';
import {
  goDeepEqual, goInt, goObject as object, goOptBool as optBool, goOptInt as optInt, goOptSlice as optSlice, goOptString as optStr,
  goString, goStringMap as encodeMetadata, goTimeFromJson, GO_SUBJECT, GO_SUBJECTS, goSubject, goOptSubject as optSubj,
} from './json.js';

// The overlap check the engine needs against the account's other streams (10065).
export { subjectsOverlap } from './subject-rules.js';

export type RetentionPolicy = 'limits' | 'interest' | 'workqueue';
export type DiscardPolicy = 'old' | 'new';
export type StorageType = 'file' | 'memory';
export type StoreCompression = 'none' | 's2';

/**
 * Throughout, an optional field is one Go holds as a pointer, slice or map: `undefined` is
 * nil, which Go tells apart from an empty slice or map (reflect.DeepEqual does, so a stream
 * created with `"metadata":{}` differs from one without). Every other field is always
 * present, at its Go zero value when not given. Durations are int64 nanoseconds.
 */
export interface Placement {
  cluster: string;
  tags?: string[];
}

export interface ExternalStream {
  /** `api`: the API prefix of the other account or domain, e.g. `$JS.hub.API`. */
  api: string;
  /** `deliver`: the delivery prefix. */
  deliver: string;
}

export interface SubjectTransformConfig {
  src: string;
  dest: string;
}

export interface StreamSource {
  name: string;
  opt_start_seq: number;
  /** RFC 3339, as nats-server writes it back (see goTimeFromJson). */
  opt_start_time?: string;
  filter_subject: string;
  subject_transforms?: SubjectTransformConfig[];
  external?: ExternalStream;
}

export interface RePublish {
  src: string;
  dest: string;
  headers_only: boolean;
}

export interface StreamConsumerLimits {
  /** Nanoseconds. */
  inactive_threshold: number;
  max_ack_pending: number;
}

/** nats-server 2.10's StreamConfig, field for field, in the Go struct's order. */
export interface StreamConfig {
  name: string;
  description: string;
  subjects?: string[];
  retention: RetentionPolicy;
  max_consumers: number;
  max_msgs: number;
  max_bytes: number;
  /** Nanoseconds; 0 = unlimited. */
  max_age: number;
  max_msgs_per_subject: number;
  max_msg_size: number;
  discard: DiscardPolicy;
  storage: StorageType;
  num_replicas: number;
  no_ack: boolean;
  template_owner: string;
  /** Nanoseconds. */
  duplicate_window: number;
  placement?: Placement;
  mirror?: StreamSource;
  sources?: StreamSource[];
  compression: StoreCompression;
  first_seq: number;
  subject_transform?: SubjectTransformConfig;
  republish?: RePublish;
  allow_direct: boolean;
  mirror_direct: boolean;
  discard_new_per_subject: boolean;
  sealed: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
  allow_rollup_hdrs: boolean;
  consumer_limits: StreamConsumerLimits;
  metadata?: Record<string, string>;
}

/**
 * A config as decoded from a request, before the defaults: the same as {@link StreamConfig}
 * except that `storage` may be unset (Go's zero StorageType, which the check makes "file").
 */
export type StreamConfigRequest = Omit<StreamConfig, 'storage'> & { storage: StorageType | undefined };

// ---------------------------------------------------------------------------------------------
// Decoding.

/** An enum with a custom UnmarshalJSON that compares the raw bytes (store.go). */
function rawEnum<T extends string>(zero: T | undefined, accept: (raw: string) => T | undefined): GoSchema {
  return {
    kind: 'unmarshaler',
    zero,
    unmarshal: (raw) => accept(raw) ?? GO_JSON_ERROR,
  };
}

/** `"limits"`, `"interest"`, `"workqueue"`: matched byte for byte, quotes included. */
const RETENTION = rawEnum<RetentionPolicy>('limits', (raw) =>
  raw === '"limits"' ? 'limits' : raw === '"interest"' ? 'interest' : raw === '"workqueue"' ? 'workqueue' : undefined,
);
/** DiscardPolicy lower-cases the raw bytes first: `"OLD"` is old. */
const DISCARD = rawEnum<DiscardPolicy>('old', (raw) => {
  const l = raw.toLowerCase();
  return l === '"old"' ? 'old' : l === '"new"' ? 'new' : undefined;
});
/**
 * `"file"`, `"memory"`. nats-server also takes `"any"` (AnyStorage), and then crashes on
 * create (no store is made; 2.9.10 checked: the process dies). Here it is an invalid-JSON
 * error instead.
 */
const STORAGE = rawEnum<StorageType>(undefined, (raw) => (raw === '"file"' ? 'file' : raw === '"memory"' ? 'memory' : undefined));
/** StoreCompression unmarshals a Go string first (so escapes are fine, null is ""): "s2" or "none". */
const COMPRESSION: GoSchema = {
  kind: 'unmarshaler',
  zero: 'none',
  unmarshal: (raw) => {
    const v: unknown = JSON.parse(raw);
    return v === 's2' || v === 'none' ? v : GO_JSON_ERROR;
  },
};
/** `*time.Time`: time.Time's UnmarshalJSON (null is a no-op, but the pointer takes null first). */
const TIME: GoSchema = {
  kind: 'unmarshaler',
  zero: undefined,
  unmarshal: (raw, current) => (raw === 'null' ? current : (goTimeFromJson(raw) ?? GO_JSON_ERROR)),
};

const struct = (fields: GoStructSchema['fields']): GoStructSchema => ({ kind: 'struct', fields });
const ptr = (elem: GoSchema): GoSchema => ({ kind: 'ptr', elem });
const slice = (elem: GoSchema): GoSchema => ({ kind: 'slice', elem });

// Subjects, filters, transforms and API prefixes are kept as byte strings (GO_SUBJECT).
const SUBJECT_TRANSFORM = struct({ src: GO_SUBJECT, dest: GO_SUBJECT });
const STREAM_SOURCE = struct({
  name: 'string',
  opt_start_seq: 'uint64',
  opt_start_time: TIME,
  filter_subject: GO_SUBJECT,
  subject_transforms: slice(SUBJECT_TRANSFORM),
  external: ptr(struct({ api: GO_SUBJECT, deliver: GO_SUBJECT })),
});

/** nats-server 2.10.29's StreamConfig as Go's decoder sees it (int is 64-bit). */
export const STREAM_CONFIG_SCHEMA: GoStructSchema = struct({
  name: 'string',
  description: 'string',
  subjects: GO_SUBJECTS,
  retention: RETENTION,
  max_consumers: 'int64',
  max_msgs: 'int64',
  max_bytes: 'int64',
  max_age: 'int64',
  max_msgs_per_subject: 'int64',
  max_msg_size: 'int32',
  discard: DISCARD,
  storage: STORAGE,
  num_replicas: 'int64',
  no_ack: 'bool',
  template_owner: 'string',
  duplicate_window: 'int64',
  placement: ptr(struct({ cluster: 'string', tags: 'strings' })),
  mirror: ptr(STREAM_SOURCE),
  sources: slice(ptr(STREAM_SOURCE)),
  compression: COMPRESSION,
  first_seq: 'uint64',
  subject_transform: ptr(SUBJECT_TRANSFORM),
  republish: ptr(struct({ src: GO_SUBJECT, dest: GO_SUBJECT, headers_only: 'bool' })),
  allow_direct: 'bool',
  mirror_direct: 'bool',
  discard_new_per_subject: 'bool',
  sealed: 'bool',
  deny_delete: 'bool',
  deny_purge: 'bool',
  allow_rollup_hdrs: 'bool',
  consumer_limits: struct({ inactive_threshold: 'int64', max_ack_pending: 'int64' }),
  metadata: { kind: 'map', elem: 'string' },
});

const EMPTY_SOURCE: StreamSource = { name: '', opt_start_seq: 0, opt_start_time: undefined, filter_subject: '', subject_transforms: undefined, external: undefined };

/**
 * Decodes a STREAM.CREATE / STREAM.UPDATE body as nats-server does (`json.Unmarshal` into
 * StreamConfig): keys matched case-insensitively, unknown keys ignored, `null` leaves a value
 * as it is (and makes a pointer, slice or map nil). Any error (bad syntax, an empty body, a
 * value of the wrong type, an integer out of range, an unknown enum value, a bad RFC 3339
 * time) is 10025 "invalid JSON". A body of `null` decodes to the zero config.
 *
 * Where nats-server would crash the difference is noted: a `null` element of `sources` is a
 * nil *StreamSource that checkStreamCfg dereferences; here it is an empty source (which the
 * check then refuses: invalid source name).
 */
export function decodeStreamConfig(body: string): { config: StreamConfigRequest } | { error: ApiError } {
  const r = decodeGoValue(body, STREAM_CONFIG_SCHEMA);
  if (r === null) return { error: jsError('JSInvalidJSONErr') };
  const config = r.value as StreamConfigRequest;
  if (config.sources !== undefined) config.sources = config.sources.map((s) => s ?? { ...EMPTY_SOURCE });
  return { config };
}

// ---------------------------------------------------------------------------------------------
// Encoding.

const str = (s: string): string => goString(s);

function encodeTransform(t: SubjectTransformConfig): string {
  return object([['src', goSubject(t.src)], ['dest', goSubject(t.dest)]]);
}

/** A StreamSource (mirror or source) as Go writes it. */
export function encodeStreamSource(s: StreamSource): string {
  return object([
    ['name', str(s.name)],
    ['opt_start_seq', optInt(s.opt_start_seq, 'uint64')],
    ['opt_start_time', s.opt_start_time === undefined ? undefined : str(s.opt_start_time)],
    ['filter_subject', optSubj(s.filter_subject)],
    ['subject_transforms', optSlice(s.subject_transforms, encodeTransform)],
    ['external', s.external === undefined ? undefined : object([['api', goSubject(s.external.api)], ['deliver', goSubject(s.external.deliver)]])],
  ]);
}

/**
 * The config as nats-server 2.10 writes it (in StreamInfo, and so in the create/update
 * replies): the Go struct's field order, omitempty where Go has it (`description`,
 * `subjects`, `max_msg_size`, `no_ack`, `template_owner`, `duplicate_window`, `placement`,
 * `mirror`, `sources`, `first_seq`, `subject_transform`, `republish`,
 * `discard_new_per_subject`, `metadata`), durations as nanosecond integers, and Go's
 * `\u003e`-style escaping. The 2.10 fields `compression` and `consumer_limits` are always
 * written (2.9.10 has neither).
 */
export function encodeStreamConfig(c: StreamConfig): string {
  const p = c.placement;
  const r = c.republish;
  const cl = c.consumer_limits;
  return object([
    ['name', str(c.name)],
    ['description', optStr(c.description)],
    ['subjects', optSlice(c.subjects, goSubject)],
    ['retention', str(c.retention)],
    ['max_consumers', goInt(c.max_consumers, 'int')],
    ['max_msgs', goInt(c.max_msgs, 'int64')],
    ['max_bytes', goInt(c.max_bytes, 'int64')],
    ['max_age', goInt(c.max_age, 'int64')],
    ['max_msgs_per_subject', goInt(c.max_msgs_per_subject, 'int64')],
    ['max_msg_size', optInt(c.max_msg_size, 'int32')],
    ['discard', str(c.discard)],
    ['storage', str(c.storage)],
    ['num_replicas', goInt(c.num_replicas, 'int')],
    ['no_ack', optBool(c.no_ack)],
    ['template_owner', optStr(c.template_owner)],
    ['duplicate_window', optInt(c.duplicate_window, 'int64')],
    // A non-nil pointer to an empty struct is written ({}); only nil is left out.
    ['placement', p === undefined ? undefined : object([['cluster', optStr(p.cluster)], ['tags', optSlice(p.tags, goString)]])],
    ['mirror', c.mirror === undefined ? undefined : encodeStreamSource(c.mirror)],
    ['sources', optSlice(c.sources, encodeStreamSource)],
    ['compression', str(c.compression)],
    ['first_seq', optInt(c.first_seq, 'uint64')],
    ['subject_transform', c.subject_transform === undefined ? undefined : encodeTransform(c.subject_transform)],
    ['republish', r === undefined ? undefined : object([['src', optSubj(r.src)], ['dest', goSubject(r.dest)], ['headers_only', optBool(r.headers_only)]])],
    ['allow_direct', String(c.allow_direct)],
    ['mirror_direct', String(c.mirror_direct)],
    ['discard_new_per_subject', optBool(c.discard_new_per_subject)],
    ['sealed', String(c.sealed)],
    ['deny_delete', String(c.deny_delete)],
    ['deny_purge', String(c.deny_purge)],
    ['allow_rollup_hdrs', String(c.allow_rollup_hdrs)],
    ['consumer_limits', object([['inactive_threshold', optInt(cl.inactive_threshold, 'int64')], ['max_ack_pending', optInt(cl.max_ack_pending, 'int')]])],
    ['metadata', encodeMetadata(c.metadata)],
  ]);
}

// ---------------------------------------------------------------------------------------------
// Equality.

/**
 * Go's `reflect.DeepEqual` of two configs, as nats-server compares a create request with the
 * existing stream's config (same config: the existing stream is returned; else 10058): nil
 * and empty slices or maps differ, map order does not matter.
 */
export function streamConfigsEqual(a: StreamConfig, b: StreamConfig): boolean {
  return goDeepEqual(a, b);
}
