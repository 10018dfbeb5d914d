/**
 * What nats-server 2.10 does with a consumer create request before the consumer exists: the
 * request-level checks of the API subject and body, the defaults, the config validation, and
 * the create / update / create-or-update semantics against the stream's existing consumers,
 * with its exact errors, in its order. The API's CONSUMER.CREATE (api.ts) answers with it.
 *
 * Follows nats-server v2.10.29 (non-clustered, single server):
 * - jetstream_api.go jsConsumerCreateRequest: the subject forms
 *   `$JS.API.CONSUMER.CREATE.<stream>` (legacy ephemeral),
 *   `$JS.API.CONSUMER.CREATE.<stream>.<name>[.<filter>]` and
 *   `$JS.API.CONSUMER.DURABLE.CREATE.<stream>.<durable>`, with 10016-10020, 10056, 10127,
 *   10131, 10137, 10074, 10059;
 * - consumer.go setConsumerConfigDefaults, checkConsumerCfg, addConsumerWithAssignment (the
 *   existing-consumer path, 10148 / 10149, max consumers, the workqueue rules, name checks),
 *   updateInactiveThreshold (ephemerals get 5s), checkNewConsumerConfig (what an update may
 *   change: the other changes are 10012 with nats-server's text).
 */
import { goDuration, goQuote } from '../protocol/go-format.js';
import { jsError, type ApiError } from './errors.js';
import type { StreamConfig } from './stream-config.js';
import { consumerConfigsEqual, decodeCreateConsumerRequest, type ConsumerConfig } from './consumer-config.js';
import { isValidName, isValidSubject, subjectIsSubsetMatch, subjectsCollide } from './subject-rules.js';

/** consumer.go JsAckWaitDefault: 30s in nanoseconds. */
export const JS_ACK_WAIT_DEFAULT = 30_000_000_000;
/** consumer.go JsDeleteWaitTimeDefault: the inactive threshold of ephemerals, 5s in nanoseconds. */
export const JS_DELETE_WAIT_TIME_DEFAULT = 5_000_000_000;
/** consumer.go JsDefaultMaxAckPending. */
export const JS_DEFAULT_MAX_ACK_PENDING = 1000;
/** jetstream_api.go JSWaitQueueDefaultMax: max_waiting of pull consumers. */
export const JS_WAIT_QUEUE_DEFAULT_MAX = 512;
const JS_MAX_NAME_LEN = 255;
const JS_MAX_DESCRIPTION_LEN = 4 * 1024;
const JS_MAX_METADATA_LEN = 128 * 1024;
const MS = 1_000_000;

/**
 * The account- and server-side state the checks consult: the stream (required), the rest
 * optional. Only the single-server path is modelled; `clustered` just lifts the 10074 check
 * (nats-server's clustered path, jsClusteredConsumerRequest, orders some checks differently).
 */
export interface ConsumerCheckEnv {
  /** The stream named in the subject, or undefined (10059 stream not found). */
  lookupStream: (name: string) => StreamConfig | undefined;
  /** The stream's consumers by name, with their current configs (defaults filled). */
  consumers?: () => Iterable<readonly [string, ConsumerConfig]>;
  /** The server's `jetstream { limits { max_ack_pending, max_request_batch } }` (0: none). */
  serverLimits?: { maxAckPending?: number; maxRequestBatch?: number };
  /** The account tier's limits (0: none); for the checks that take them directly. */
  accountLimits?: AccountConsumerLimits;
  /**
   * acc.selectLimits: the account's limits for the tier of `replicas` (see
   * {@link consumerReplicas}), or undefined when the account has none for it (10120). When
   * given, it replaces `accountLimits` in {@link checkConsumerCreate}.
   */
  selectLimits?: (replicas: number) => AccountConsumerLimits | undefined;
  /** A generated name for a legacy ephemeral (nats-server: 8 random characters). */
  newConsumerName?: () => string;
  /** Clustered JetStream: replicas > 1 are then allowed (default false: 10074). */
  clustered?: boolean;
  /**
   * True when a push consumer's current deliver subject has interest: changing it on update
   * is then 10013 (checkNewConsumerConfig).
   */
  deliverSubjectHasInterest?: (subject: string) => boolean;
}

/** The account limits that concern consumers (0 or absent: none). */
export interface AccountConsumerLimits {
  maxAckPending?: number;
  maxConsumers?: number;
}

/**
 * consumer.go ConsumerConfig.replicas: the replica count that selects the account's limits
 * tier (0 or more than the stream's: the stream's; a legacy-style ephemeral on a limits
 * stream: 1).
 */
export function consumerReplicas(c: ConsumerConfig, stream: StreamConfig): number {
  if (c.num_replicas === 0 || c.num_replicas > stream.num_replicas) {
    if (c.durable_name === '' && stream.retention === 'limits' && c.num_replicas === 0) return 1;
    return stream.num_replicas;
  }
  return c.num_replicas;
}

/** The request: the full API subject and the raw body. */
export interface ConsumerCreateInput {
  subject: string;
  body: string;
}

/**
 * The outcome: `ignore` (nats-server sends no reply: fewer than 5 subject tokens, or a
 * DURABLE.CREATE subject of other than 7 tokens, which its subscription does not take), the error
 * to answer with, or the consumer's name and config (defaults filled); `existing` when an
 * existing consumer was returned or updated (`updated` when its config changed).
 */
export type ConsumerCheckResult =
  | { ignore: true }
  | { error: ApiError }
  | { stream: string; name: string; config: ConsumerConfig; existing: boolean; updated: boolean };

const fail = (e: ApiError): { error: ApiError } => ({ error: e });
const failNamed = (name: Parameters<typeof jsError>[0], args?: Parameters<typeof jsError>[1]): { error: ApiError } => ({
  error: jsError(name, args),
});

/** A deep copy, so that filling defaults never changes the caller's object. */
export function cloneConsumerConfig(c: ConsumerConfig): ConsumerConfig {
  return {
    ...c,
    backoff: c.backoff && [...c.backoff],
    filter_subjects: c.filter_subjects && [...c.filter_subjects],
    metadata: c.metadata && Object.assign(Object.create(null) as Record<string, string>, c.metadata),
  };
}

/** consumer.go gatherSubjectFilters: filter_subjects, then filter_subject when set. */
export function subjectFilters(c: ConsumerConfig): string[] {
  const out = c.filter_subjects ? [...c.filter_subjects] : [];
  if (c.filter_subject !== '') out.push(c.filter_subject);
  return out;
}

/** consumer.go setConsumerConfigDefaults (the limits are the server's and the account tier's). */
export function setConsumerConfigDefaults(c: ConsumerConfig, stream: StreamConfig, env: Pick<ConsumerCheckEnv, 'serverLimits' | 'accountLimits'> = {}): void {
  const srvAckPending = env.serverLimits?.maxAckPending ?? 0;
  const accAckPending = env.accountLimits?.maxAckPending ?? 0;
  const srvBatch = env.serverLimits?.maxRequestBatch ?? 0;
  if (c.deliver_subject === '' && c.max_waiting === 0) c.max_waiting = JS_WAIT_QUEUE_DEFAULT_MAX;
  if (c.ack_wait === 0 && (c.ack_policy === 'explicit' || c.ack_policy === 'all')) c.ack_wait = JS_ACK_WAIT_DEFAULT;
  if (c.max_deliver === 0) c.max_deliver = -1;
  // A backoff overrides ack_wait.
  if (c.backoff !== undefined && c.backoff.length > 0) c.ack_wait = c.backoff[0];
  if (c.max_ack_pending === 0) c.max_ack_pending = stream.consumer_limits.max_ack_pending;
  if (c.inactive_threshold === 0) c.inactive_threshold = stream.consumer_limits.inactive_threshold;
  if ((c.ack_policy === 'explicit' || c.ack_policy === 'all') && c.max_ack_pending === 0) {
    let p = JS_DEFAULT_MAX_ACK_PENDING;
    if (srvAckPending > 0 && srvAckPending < p) p = srvAckPending;
    if (accAckPending > 0 && accAckPending < p) p = accAckPending;
    c.max_ack_pending = p;
  }
  if (c.deliver_subject === '' && c.max_batch === 0 && srvBatch > 0) c.max_batch = srvBatch;
}

/** sublist.go subjectIsLiteral. */
function subjectIsLiteral(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if ((ch === '*' || ch === '>') && (i === 0 || s[i - 1] === '.') && (i + 1 === s.length || s[i + 1] === '.')) return false;
  }
  return true;
}

/** Go's strconv.Atoi (64-bit int): the number, or the NumError's text. */
function atoi(s: string): { n: number } | { err: string } {
  if (!/^[+-]?[0-9]+$/.test(s)) return { err: `strconv.Atoi: parsing ${goQuote(s)}: invalid syntax` };
  const v = BigInt(s);
  if (v > 2n ** 63n - 1n || v < -(2n ** 63n)) return { err: `strconv.Atoi: parsing ${goQuote(s)}: value out of range` };
  return { n: Number(v) };
}

/**
 * consumer.go checkConsumerCfg (not recovering): the first error nats-server finds in a
 * config whose defaults are filled, or undefined.
 */
export function checkConsumerCfg(c: ConsumerConfig, stream: StreamConfig, env: Pick<ConsumerCheckEnv, 'serverLimits' | 'accountLimits'> = {}): ApiError | undefined {
  const srvAckPending = env.serverLimits?.maxAckPending ?? 0;
  const accAckPending = env.accountLimits?.maxAckPending ?? 0;
  const srvBatch = env.serverLimits?.maxRequestBatch ?? 0;
  if (c.num_replicas > 0 && c.num_replicas > stream.num_replicas) return jsError('JSConsumerReplicasExceedsStream');
  if (c.num_replicas < 0) return jsError('JSReplicasCountCannotBeNegative');
  if ((stream.retention === 'interest' || stream.retention === 'workqueue') && c.num_replicas !== 0 && c.num_replicas !== stream.num_replicas) {
    return jsError('JSConsumerReplicasShouldMatchStream');
  }
  const lbo = c.backoff?.length ?? 0;
  if (lbo > 0 && c.max_deliver !== -1 && lbo > c.max_deliver) return jsError('JSConsumerMaxDeliverBackoffErr');
  if (Buffer.byteLength(c.description, 'utf8') > JS_MAX_DESCRIPTION_LEN) return jsError('JSConsumerDescriptionTooLongErrF', { max: JS_MAX_DESCRIPTION_LEN });

  if (c.deliver_subject !== '') {
    if (!subjectIsLiteral(c.deliver_subject)) return jsError('JSConsumerDeliverToWildcardsErr');
    if (!isValidSubject(c.deliver_subject)) return jsError('JSConsumerInvalidDeliverSubject');
    if ((stream.subjects ?? []).some((s) => subjectIsSubsetMatch(c.deliver_subject, s))) return jsError('JSConsumerDeliverCycleErr');
    if (c.max_waiting !== 0) return jsError('JSConsumerPushMaxWaitingErr');
    if (c.max_ack_pending > 0 && c.ack_policy === 'none') return jsError('JSConsumerMaxPendingAckPolicyRequiredErr');
    if (c.idle_heartbeat > 0 && c.idle_heartbeat < 100 * MS) return jsError('JSConsumerSmallHeartbeatErr');
  } else {
    if (c.ack_policy === 'none' && stream.retention === 'workqueue') return jsError('JSConsumerPullRequiresAckErr');
    if (c.rate_limit_bps > 0) return jsError('JSConsumerPullWithRateLimitErr');
    if (c.max_waiting < 0) return jsError('JSConsumerMaxWaitingNegativeErr');
    if (c.idle_heartbeat > 0) return jsError('JSConsumerHBRequiresPushErr');
    if (c.flow_control) return jsError('JSConsumerFCRequiresPushErr');
    if (c.max_batch < 0) return jsError('JSConsumerMaxRequestBatchNegativeErr');
    if (c.max_expires !== 0 && c.max_expires < MS) return jsError('JSConsumerMaxRequestExpiresToSmall');
    if (srvBatch > 0 && c.max_batch > srvBatch) return jsError('JSConsumerMaxRequestBatchExceededF', { limit: srvBatch });
  }
  if (srvAckPending > 0 && c.max_ack_pending > srvAckPending) return jsError('JSConsumerMaxPendingAckExcessErrF', { limit: srvAckPending });
  if (accAckPending > 0 && c.max_ack_pending > accAckPending) return jsError('JSConsumerMaxPendingAckExcessErrF', { limit: accAckPending });
  const cl = stream.consumer_limits;
  if (cl.max_ack_pending > 0 && c.max_ack_pending > cl.max_ack_pending) return jsError('JSConsumerMaxPendingAckExcessErrF', { limit: cl.max_ack_pending });
  // The limit is a time.Duration passed as `any`: Go writes its String(), e.g. "1m0s".
  if (cl.inactive_threshold > 0 && c.inactive_threshold > cl.inactive_threshold) {
    return jsError('JSConsumerInactiveThresholdExcess', { limit: goDuration(cl.inactive_threshold) });
  }
  if (c.direct) {
    if (c.deliver_subject === '') return jsError('JSConsumerDirectRequiresPushErr');
    if (c.durable_name !== '') return jsError('JSConsumerDirectRequiresEphemeralErr');
  }
  if (c.filter_subject !== '' && c.filter_subjects !== undefined && c.filter_subjects.length > 0) return jsError('JSConsumerDuplicateFilterSubjects');
  if (c.filter_subject !== '' && !isValidSubject(c.filter_subject)) return jsError('JSStreamInvalidConfigF', { err: 'invalid subject' });
  for (const f of c.filter_subjects ?? []) if (f === '') return jsError('JSConsumerEmptyFilter');
  const filters = subjectFilters(c);
  for (let i = 0; i < filters.length; i++) {
    if (!isValidSubject(filters[i])) return jsError('JSStreamInvalidConfigF', { err: 'invalid subject' });
    for (let j = 0; j < filters.length; j++) {
      if (i !== j && subjectsCollide(filters[i], filters[j])) return jsError('JSConsumerOverlappingSubjectFilters');
    }
  }

  const badStart = (dp: string, start: string): ApiError =>
    jsError('JSConsumerInvalidPolicyErrF', { err: `consumer delivery policy is deliver ${dp}, but optional start ${start} is also set` });
  const notSet = (dp: string, what: string): ApiError =>
    jsError('JSConsumerInvalidPolicyErrF', { err: `consumer delivery policy is deliver ${dp}, but optional ${what} is not set` });
  const hasTime = c.opt_start_time !== undefined;
  switch (c.deliver_policy) {
    case 'all':
    case 'last':
    case 'new':
    case 'last_per_subject': {
      const dp = c.deliver_policy === 'last_per_subject' ? 'last per subject' : c.deliver_policy;
      if (c.opt_start_seq > 0) return badStart(dp, 'sequence');
      if (hasTime) return badStart(dp, 'time');
      if (c.deliver_policy === 'last_per_subject' && c.filter_subject === '' && (c.filter_subjects?.length ?? 0) === 0) {
        return notSet(dp, 'filter subject');
      }
      break;
    }
    case 'by_start_sequence':
      if (c.opt_start_seq === 0) return notSet('by start sequence', 'start sequence');
      if (hasTime) return badStart('by start sequence', 'time');
      break;
    case 'by_start_time':
      if (!hasTime) return notSet('by start time', 'start time');
      if (c.opt_start_seq !== 0) return badStart('by start time', 'start sequence');
      break;
  }
  if (c.sample_freq !== '') {
    const r = atoi(c.sample_freq.endsWith('%') ? c.sample_freq.slice(0, -1) : c.sample_freq);
    // A negative number parses without error: Go formats the nil error as "<nil>".
    if ('err' in r) return jsError('JSConsumerInvalidSamplingErrF', { err: r.err });
    if (r.n < 0) return jsError('JSConsumerInvalidSamplingErrF', { err: '<nil>' });
  }
  if (c.flow_control && c.idle_heartbeat === 0) return jsError('JSConsumerWithFlowControlNeedsHeartbeats');
  if (c.durable_name !== '' && c.name !== '' && c.name !== c.durable_name) return jsError('JSConsumerCreateDurableAndNameMismatch');
  let metaLen = 0;
  for (const [k, v] of Object.entries(c.metadata ?? {})) metaLen += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
  if (metaLen > JS_MAX_METADATA_LEN) return jsError('JSConsumerMetadataLengthErrF', { limit: `${JS_MAX_METADATA_LEN / 1024}KB` });
  return undefined;
}

/** An RFC 3339 time as written back by goTimeFromJson, in nanoseconds since the epoch (time.Time.Equal). */
function instant(t: string): bigint {
  const m = /^(.{19})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})$/.exec(t);
  if (!m) return 0n;
  return BigInt(Date.parse(`${m[1]}${m[3]}`)) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/**
 * consumer.go checkNewConsumerConfig: what an update may not change, as the plain error
 * nats-server then wraps as 10012 (or the API error it returns).
 */
export function checkConsumerUpdate(cur: ConsumerConfig, next: ConsumerConfig, env: Pick<ConsumerCheckEnv, 'deliverSubjectHasInterest'> = {}): ApiError | undefined {
  if (consumerConfigsEqual(cur, next)) return undefined;
  const e = (text: string): ApiError => jsError('JSConsumerCreateErrF', { err: text });
  if (cur.deliver_policy !== next.deliver_policy) return e('deliver policy can not be updated');
  if (cur.opt_start_seq !== next.opt_start_seq) return e('start sequence can not be updated');
  if (cur.opt_start_time !== undefined && next.opt_start_time !== undefined) {
    if (instant(cur.opt_start_time) !== instant(next.opt_start_time)) return e('start time can not be updated');
  } else if (cur.opt_start_time !== undefined || next.opt_start_time !== undefined) {
    return e('start time can not be updated');
  }
  if (cur.ack_policy !== next.ack_policy) return e('ack policy can not be updated');
  if (cur.replay_policy !== next.replay_policy) return e('replay policy can not be updated');
  if (cur.idle_heartbeat !== next.idle_heartbeat) return e('heart beats can not be updated');
  if (cur.flow_control !== next.flow_control) return e('flow control can not be updated');
  if (cur.deliver_subject !== next.deliver_subject) {
    if (cur.deliver_subject === '') return e('can not update pull consumer to push based');
    if (next.deliver_subject === '') return e('can not update push consumer to pull based');
    if (env.deliverSubjectHasInterest?.(cur.deliver_subject)) return jsError('JSConsumerNameExistErr');
  }
  if (cur.max_waiting !== next.max_waiting) return e('max waiting can not be updated');
  const lbo = next.backoff?.length ?? 0;
  if (lbo > 0 && next.max_deliver !== -1 && lbo > next.max_deliver) return jsError('JSConsumerMaxDeliverBackoffErr');
  return undefined;
}

/** consumer.go updateInactiveThreshold: ephemerals (no durable name) always get one, 5s by default. */
function stampInactiveThreshold(c: ConsumerConfig): void {
  if (c.durable_name === '' && c.inactive_threshold <= 0) c.inactive_threshold = JS_DELETE_WAIT_TIME_DEFAULT;
}

/** Go's strings.ContainsAny(name, `\/`). */
const PATH_SEPARATORS = /[\\/]/;

/**
 * A CONSUMER.CREATE request as single-server nats-server 2.10 handles it, up to (not
 * including) making the consumer: the subject and body checks of jsConsumerCreateRequest,
 * then addConsumerWithAssignment's defaults, checks and the existing-consumer rules of the
 * request's action.
 */
export function checkConsumerCreate(input: ConsumerCreateInput, env: ConsumerCheckEnv): ConsumerCheckResult {
  const decoded = decodeCreateConsumerRequest(input.body);
  if ('error' in decoded) return decoded;
  const req = decoded.request;
  const config = cloneConsumerConfig(req.config);

  const tokens = input.subject.split('.');
  const n = tokens.length;
  let streamName: string;
  let consumerName = '';
  let filtered = '';
  let kind: 'new' | 'legacyEphemeral' | 'legacyDurable';
  if (n < 5) return { ignore: true };
  if (n === 5) {
    kind = 'legacyEphemeral';
    streamName = tokens[4];
  } else if (tokens[3] === 'DURABLE') {
    kind = 'legacyDurable';
    // nats-server answers 10016 here, but its subscription ($JS.API.CONSUMER.DURABLE.CREATE.*.*)
    // only takes 7 tokens, so no such request reaches the handler: no reply.
    if (n !== 7) return { ignore: true };
    streamName = tokens[5];
    consumerName = tokens[6];
  } else {
    kind = 'new';
    streamName = tokens[4];
    consumerName = tokens[5];
    if (n > 6) filtered = tokens.slice(6).join('.');
  }
  if (streamName !== req.stream_name) return failNamed('JSStreamMismatchErr');
  if (consumerName !== '' && PATH_SEPARATORS.test(consumerName)) return failNamed('JSConsumerNameContainsPathSeparatorsErr');
  if (kind === 'legacyDurable') {
    if (config.durable_name === '') return failNamed('JSConsumerDurableNameNotSetErr');
    if (consumerName !== config.durable_name) return failNamed('JSConsumerDurableNameNotMatchSubjectErr');
  }
  if (kind === 'new') {
    if (config.durable_name !== '' && consumerName !== config.durable_name) return failNamed('JSConsumerDurableNameNotMatchSubjectErr');
    config.name = consumerName;
  }
  if (kind === 'legacyEphemeral' && config.durable_name !== '') return failNamed('JSConsumerEphemeralWithDurableNameErr');
  if (filtered !== '' && (config.filter_subjects?.length ?? 0) !== 0) return failNamed('JSConsumerMultipleFiltersNotAllowed');
  if (filtered !== '' && config.filter_subject !== filtered) return failNamed('JSConsumerCreateFilterSubjectMismatchErr');
  if (!env.clustered && config.num_replicas > 1) return failNamed('JSStreamReplicasNotSupportedErr');
  const stream = env.lookupStream(req.stream_name);
  if (stream === undefined) return failNamed('JSStreamNotFoundErr');

  // addConsumerWithAssignment.
  let accountLimits = env.accountLimits;
  if (env.selectLimits !== undefined) {
    accountLimits = env.selectLimits(consumerReplicas(config, stream));
    if (accountLimits === undefined) return failNamed('JSNoLimitsErr');
  }
  const limits = { serverLimits: env.serverLimits, accountLimits };
  setConsumerConfigDefaults(config, stream, limits);
  const bad = checkConsumerCfg(config, stream, limits);
  if (bad !== undefined) return fail(bad);

  const existing = new Map(env.consumers?.() ?? []);
  const cName = config.durable_name !== '' ? config.durable_name : config.name;
  if (cName !== '') {
    const eo = existing.get(cName);
    if (eo !== undefined) {
      if (req.action === 'create' && !consumerConfigsEqual(config, eo)) return failNamed('JSConsumerAlreadyExists');
      if (stream.retention === 'workqueue' && !partitionUnique(existing, cName, subjectFilters(config))) {
        return failNamed('JSConsumerWQConsumerNotUniqueErr');
      }
      const upd = checkConsumerUpdate(eo, config, env);
      if (upd !== undefined) return fail(upd);
      // updateConfig: the threshold is re-stamped only when it changed.
      if (config.inactive_threshold !== eo.inactive_threshold) stampInactiveThreshold(config);
      const updated = !consumerConfigsEqual(eo, config);
      return { stream: stream.name, name: cName, config: updated ? config : cloneConsumerConfig(eo), existing: true, updated };
    }
  }
  if (req.action === 'update') return failNamed('JSConsumerDoesNotExist');

  let maxc = stream.max_consumers;
  const accMax = accountLimits?.maxConsumers ?? 0;
  if (maxc <= 0 || (accMax > 0 && accMax < maxc)) maxc = accMax;
  let numPublic = 0;
  for (const c of existing.values()) if (!c.direct) numPublic++;
  if (maxc > 0 && numPublic >= maxc) return failNamed('JSMaximumConsumersLimitErr');

  if (stream.retention === 'workqueue' && !config.direct) {
    if (config.ack_policy !== 'explicit') return failNamed('JSConsumerWQRequiresExplicitAckErr');
    if (existing.size > 0) {
      const subjects = subjectFilters(config);
      if (subjects.length === 0) return failNamed('JSConsumerWQMultipleUnfilteredErr');
      if (!partitionUnique(existing, cName, subjects)) return failNamed('JSConsumerWQConsumerNotUniqueErr');
    }
    if (config.deliver_policy !== 'all') return failNamed('JSConsumerWQConsumerNotDeliverAllErr');
  }

  let name: string;
  if (config.durable_name !== '') {
    if (Buffer.byteLength(config.durable_name, 'utf8') > JS_MAX_NAME_LEN) return failNamed('JSConsumerNameTooLongErrF', { max: JS_MAX_NAME_LEN });
    name = config.durable_name;
  } else if (config.name !== '') {
    name = config.name;
  } else {
    const gen = env.newConsumerName ?? randomName;
    do name = gen();
    while (existing.has(name));
    config.name = name;
  }
  if (!isValidName(name)) return failNamed('JSConsumerBadDurableNameErr');
  stampInactiveThreshold(config);
  return { stream: stream.name, name, config, existing: false, updated: false };
}

/** stream.go partitionUnique: no other consumer's filter collides with `partitions` (an unfiltered one always does). */
function partitionUnique(consumers: ReadonlyMap<string, ConsumerConfig>, name: string, partitions: readonly string[]): boolean {
  for (const p of partitions) {
    for (const [n, c] of consumers) {
      if (n === name) continue;
      const filters = subjectFilters(c);
      if (filters.length === 0) return false;
      if (filters.some((f) => subjectsCollide(p, f))) return false;
    }
  }
  return true;
}

const NAME_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** consumer.go createConsumerName-like: 8 random alphanumerics (nats-server uses a hash of a NUID). */
function randomName(): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
  return s;
}
