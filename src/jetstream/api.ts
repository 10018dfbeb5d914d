/**
 * The JetStream API (`$JS.API.*`): one request in, one JSON reply out, as nats-server 2.10.29's
 * handlers in server/jetstream_api.go answer them — the same response types, field order,
 * error codes and texts, and the same API counters (`api.total`, `api.errors`).
 *
 * The account's catch-all subscription hands every `$JS.API.>` request to
 * {@link handleApiRequest}. As in nats-server's apiDispatch: a subject no endpoint matches gets
 * a `system_response` with 10003 "bad request" (2.10; 2.9 did not answer); direct gets and pull
 * requests (`DIRECT.GET`, `CONSUMER.MSG.NEXT`) are not for it — they are served by the
 * stream's and the consumer's own subscriptions, and without one the requester gets the
 * no-responders status (nats-server 2.10.29 answers them 503 through its service import).
 */
import type { InternalMessage } from '../broker/internal.js';
import { decodeGoValue, type GoStructSchema } from '../protocol/go-json.js';
import { goJson, rfc3339Nano } from '../protocol/go-format.js';
import { apiErrorResponse, apiResponseType, jsError, type ApiError } from './errors.js';
import { loadRequested, MSG_GET_REQUEST, type MsgGetRequest } from './direct.js';
import type { JsAccountLimits, JsUsage } from './types.js';
import type { Stream } from './stream.js';
import type { StreamStore } from './store/store.js';
import type { Consumer } from './consumer.js';
import { checkConsumerCreate } from './consumer-config-check.js';
import { cleanupNoInterestMessages } from './interest.js';
import { encodeConsumerConfig, type ConsumerConfig } from './consumer-config.js';
import { checkStreamConfig, type StreamCheckEnv } from './stream-config-check.js';
import { checkStreamUpdate } from './stream-config-update.js';
import { decodeStreamConfig, encodeStreamConfig, type StreamConfig, type StreamConfigRequest } from './stream-config.js';
import { subjectsCollide, subjectsOverlap } from './subject-rules.js';
import { GO_SUBJECT } from './json.js';
import { subjectToText } from '../protocol/text.js';

/**
 * Clustered JetStream's say over a request (cluster/meta.ts): which server answers it, and
 * how — the meta leader for the account's streams and consumers, the stream leader for one
 * stream, through the stream's or the meta group's log for the changes.
 */
export interface ClusterApi {
  /**
   * True when the request is taken care of (answered, proposed, or left to another server);
   * false when this server runs the endpoint as a single server does.
   */
  intercept(jsa: ApiAccount, op: string, token: string, body: Buffer, reply: string, subject: string): boolean;
  /** Whether this server answers the requests every server would answer alike (the meta leader). */
  answersForAll(): boolean;
  /** `$JS.API.META.LEADER.STEPDOWN` from the system account: the meta leader steps down and answers. */
  metaStepdown(jsa: ApiAccount, reply: string, subject: string, body: Buffer): void;
  /** `$JS.API.SERVER.REMOVE` from the system account: the meta leader removes a server and answers. */
  serverRemove(jsa: ApiAccount, reply: string, subject: string, body: Buffer): void;
  /** CONSUMER.INFO's `cluster` block of a consumer on a local replica. */
  consumerClusterInfo(jsa: ApiAccount, s: Stream, c: Consumer): Record<string, unknown>;
  /** STREAM.INFO's `cluster` block of a local replica. */
  clusterInfo(jsa: ApiAccount, s: Stream): Record<string, unknown>;
}

/** What the API needs of an account with JetStream (the engine's `JsAccount`). */
export interface ApiAccount {
  /** Clustered JetStream, or null on a single server. */
  readonly cluster: ClusterApi | null;
  readonly name: string;
  /** false: every request is answered "JetStream not enabled for account" (10039). */
  readonly enabled: boolean;
  readonly domain: string | null;
  readonly streams: ReadonlyMap<string, Stream>;
  readonly limits: JsAccountLimits;
  readonly api: { readonly total: number; readonly errors: number };
  usage(): JsUsage;
  addStream(cfg: StreamConfig): Promise<Stream>;
  updateStream(stream: Stream, cfg: StreamConfig): void;
  deleteStream(stream: Stream): Promise<void>;
  /** Runs `task` after the requests before it. */
  serialize(task: () => void | Promise<void>): void;
  reply(subject: string, data: string | Buffer, headers?: Buffer | null): void;
  serverName(): string;
  /** The account's limits on a create request as decoded (max streams, then bytes: jsNonClusteredStreamLimitsCheck). */
  checkRequestLimits(request: StreamConfigRequest): ApiError | undefined;
  /** The account's and the server's limits on a filled config (`current`: the stream's config, on update). */
  checkLimits(cfg: StreamConfig, current?: StreamConfig): ApiError | undefined;
  /** max_bytes_required and the account's per-stream maximum of the config's storage (0 = none). */
  streamBytesLimits(cfg: StreamConfig): { required: boolean; limit: number };
  advisory(event: string, stream: string, action: 'create' | 'modify' | 'delete'): void;
  /** Someone (a local or remote subscription) is interested in `subject` (sl.HasInterest). */
  hasInterest(subject: string): boolean;
  /** Creates a checked consumer (pull or push) on `stream`. */
  addConsumer(stream: Stream, name: string, cfg: ConsumerConfig): Consumer;
  deleteConsumer(stream: Stream, c: Consumer): void;
  /** A consumer's config was updated (a file stream's consumer writes it to disk). */
  consumerConfigChanged(stream: Stream, c: Consumer): void;
  consumerAdvisory(event: string, stream: string, consumer: string, action: 'create' | 'delete'): void;
  countApi(error: boolean): void;
  internalError(err: unknown, what: string): void;
  /** The API audit advisory of an answered request (sent only to listeners). */
  apiAudit(subject: string, reply: string, request: Buffer, response: string): void;
  /** STREAM.INFO's `mirror` and `sources` blocks of a stream (sourcing.ts). */
  sourcingInfo(stream: Stream): { mirror?: Record<string, unknown>; sources?: Array<Record<string, unknown>> };
}

/** Page sizes (nats-server's JSApiNamesLimit, JSApiListLimit, JSMaxSubjectDetails). */
export const NAMES_LIMIT = 1024;
export const LIST_LIMIT = 256;
const SUBJECT_DETAILS_LIMIT = 100_000;

/** How an endpoint answers: a JSON body (counted as an error or not), or nothing. */
export type Answer = { json: string; error: boolean; count?: boolean } | null;

type Handler = (jsa: ApiAccount, token: string, body: Buffer) => Answer | Promise<Answer>;

export const ok = (json: string): Answer => ({ json, error: false });
export const fail = (kind: string, error: ApiError, fields?: Readonly<Record<string, unknown>>): Answer => ({
  json: apiErrorResponse(kind, error, fields),
  error: true,
});

/** A response body built in Go's field order: `{"type":"...", <fields>}`. */
export function response(kind: string, fields: Readonly<Record<string, unknown>> = {}): string {
  let out = `{"type":${goJson(apiResponseType(kind), false)}`;
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out += `,${goJson(k, false)}:${raw(v)}`;
  return `${out}}`;
}

/** A pre-encoded JSON fragment (a config echo) passed through {@link response} as is. */
export class RawJson {
  constructor(readonly text: string) {}
}

function raw(v: unknown): string {
  return v instanceof RawJson ? v.text : goJson(v, false);
}

/** nats-server's isEmptyRequest: no body, `{}`, or a JSON object without keys. */
export function isEmptyRequest(body: Buffer): boolean {
  if (body.length === 0) return true;
  const text = body.toString('utf8');
  if (text === '{}') return true;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
  } catch {
    return false;
  }
}

/** Decodes a request body with Go's rules; null is Go's unmarshal error. */
function decode<T>(body: Buffer, schema: GoStructSchema): T | null {
  const r = decodeGoValue(body.toString('utf8'), schema);
  return r === null ? null : (r.value as T);
}

// ---- Shapes -------------------------------------------------------------------------------------

const ZERO_TIME = '0001-01-01T00:00:00Z';
const time = (ms: number): string => (ms === 0 ? ZERO_TIME : rfc3339Nano(ms));

/** StreamState in Go's field order (`subjects` and `deleted` only when asked for); also `/jsz`'s. */
export function streamState(s: Stream, opts: { deleted?: boolean; subjects?: Record<string, number> } = {}): Record<string, unknown> {
  const st = s.state();
  const out: Record<string, unknown> = {
    messages: st.msgs,
    bytes: st.bytes,
    first_seq: st.firstSeq,
    first_ts: time(st.firstTs),
    last_seq: st.lastSeq,
    last_ts: time(st.lastTs),
  };
  if (st.numSubjects > 0) out.num_subjects = st.numSubjects;
  if (opts.subjects !== undefined && Object.keys(opts.subjects).length > 0) out.subjects = opts.subjects;
  if (st.numDeleted > 0) out.num_deleted = st.numDeleted;
  if (opts.deleted === true && st.numDeleted > 0) out.deleted = s.store.deleted();
  out.consumer_count = publicConsumerCount(s);
  return out;
}

/** numPublicConsumers: the consumers of mirrors and sources (`direct`) are not counted or listed. */
export function publicConsumerCount(s: Stream): number {
  // Clustered: the replicated consumers (some may run on other members) and the local others.
  let n = s.replica?.consumers.size ?? 0;
  for (const c of s.consumers.values()) if (!c.cfg.direct && s.replica?.consumers.has(c.name) !== true) n++;
  return n;
}

/** StreamInfo's fields, in Go's order. */
export function streamInfo(
  jsa: ApiAccount,
  s: Stream,
  opts: { domain?: boolean; cluster?: boolean; deleted?: boolean; subjects?: Record<string, number> } = {},
): Record<string, unknown> {
  const domain = jsa.domain;
  return {
    config: new RawJson(encodeStreamConfig(s.cfg)),
    created: rfc3339Nano(s.created),
    state: streamState(s, opts),
    domain: opts.domain === true && domain !== null ? domain : undefined,
    // Single server: nats-server 2.10 names itself the leader (in STREAM.INFO only); a clustered
    // stream's block is in every StreamInfo.
    cluster: jsa.cluster !== null ? jsa.cluster.clusterInfo(jsa, s) : opts.cluster === true ? { leader: jsa.serverName() } : undefined,
    ...jsa.sourcingInfo(s),
    ts: rfc3339Nano(Date.now()),
  };
}

// ---- The environment of the config checks ----------------------------------------------------

function checkEnv(jsa: ApiAccount, self: string | null): StreamCheckEnv {
  const current = self === null ? undefined : jsa.streams.get(self)?.cfg;
  return {
    lookupStream: (name) => jsa.streams.get(name)?.cfg,
    overlapsOtherStreams: (subjects) => {
      for (const s of jsa.streams.values()) {
        if (s.name !== self && subjectsOverlap(subjects, s.cfg.subjects ?? [])) return true;
      }
      return false;
    },
    checkRequestLimits: (request) => jsa.checkRequestLimits(request),
    checkLimits: (cfg) => jsa.checkLimits(cfg, current),
    streamBytesLimits: (cfg) => jsa.streamBytesLimits(cfg),
  };
}

// ---- Endpoints --------------------------------------------------------------------------------

/** The account info answer for this usage and these API counters (clustered: summed over the servers). */
export function accountInfoAnswer(
  jsa: ApiAccount,
  u: Pick<JsUsage, 'memory' | 'storage' | 'reservedMemory' | 'reservedStorage' | 'streams' | 'consumers'>,
  api: { readonly total: number; readonly errors: number },
): Answer {
  return ok(response('account_info', {
    memory: u.memory,
    storage: u.storage,
    reserved_memory: u.reservedMemory,
    reserved_storage: u.reservedStorage,
    streams: u.streams,
    consumers: u.consumers,
    limits: jsa.limits,
    domain: jsa.domain ?? undefined,
    api: { total: api.total, errors: api.errors },
  }));
}

const accountInfo: Handler = (jsa) => accountInfoAnswer(jsa, jsa.usage(), jsa.api);

const streamCreate: Handler = async (jsa, name, body) => {
  const kind = 'stream_create';
  const decoded = decodeStreamConfig(body.toString('utf8'));
  if ('error' in decoded) return fail(kind, decoded.error);
  const r = checkStreamConfig(decoded.config, { ...checkEnv(jsa, null), isCreate: true, subjectName: name });
  if ('error' in r) return fail(kind, r.error);
  // An identical config answers with the stream as it is (nats-server still says did_create).
  const s = r.existing === true ? jsa.streams.get(r.config.name)! : await jsa.addStream(r.config);
  if (r.existing !== true) jsa.advisory('STREAM.CREATED', s.name, 'create');
  return ok(response(kind, { ...streamInfo(jsa, s), did_create: true }));
};

const streamUpdate: Handler = (jsa, name, body) => {
  const kind = 'stream_update';
  const decoded = decodeStreamConfig(body.toString('utf8'));
  if ('error' in decoded) return fail(kind, decoded.error);
  const first = checkStreamConfig(decoded.config, { ...checkEnv(jsa, name), isCreate: false, subjectName: name });
  if ('error' in first) return fail(kind, first.error);
  const s = jsa.streams.get(name);
  if (s === undefined) return fail(kind, jsError('JSStreamNotFoundErr'));
  const r = checkStreamUpdate(s.cfg, decoded.config, checkEnv(jsa, name));
  if ('error' in r) return fail(kind, jsErrorUpdate(r.error));
  jsa.updateStream(s, r.config);
  jsa.advisory('STREAM.UPDATED', s.name, 'modify');
  return ok(response(kind, streamInfo(jsa, s, { domain: true })));
};

/** nats-server wraps an update failure as NewJSStreamUpdateError(err, Unless(err)): API errors pass through. */
function jsErrorUpdate(e: ApiError): ApiError {
  return e;
}

interface NamesRequest {
  offset: number;
  subject: string;
}
const NAMES_REQUEST: GoStructSchema = { kind: 'struct', fields: { offset: 'int64', subject: GO_SUBJECT } };

/** The account's streams whose subjects collide with `filter` ('' = all), sorted by name. */
function filteredStreams(jsa: ApiAccount, filter: string): Stream[] {
  const out: Stream[] = [];
  for (const s of jsa.streams.values()) {
    if (filter === '' || (s.cfg.subjects ?? []).some((subj) => subjectsCollide(filter, subj))) out.push(s);
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function pageRequest(kind: string, body: Buffer): { offset: number; filter: string } | Answer {
  if (isEmptyRequest(body)) return { offset: 0, filter: '' };
  const req = decode<NamesRequest>(body, NAMES_REQUEST);
  if (req === null) return fail(kind, jsError('JSInvalidJSONErr'));
  return { offset: req.offset, filter: req.subject };
}

const streamNames: Handler = (jsa, _t, body) => {
  const kind = 'stream_names';
  const page = pageRequest(kind, body);
  if (page === null || 'json' in page) return page;
  const all = filteredStreams(jsa, page.filter);
  const offset = Math.max(0, Math.min(page.offset, all.length));
  const names = all.slice(offset, offset + NAMES_LIMIT).map((s) => s.name);
  // A nil slice in Go: null when there is nothing to list.
  return ok(response(kind, { total: all.length, offset, limit: NAMES_LIMIT, streams: names.length === 0 ? null : names }));
};

const streamList: Handler = (jsa, _t, body) => {
  const kind = 'stream_list';
  const page = pageRequest(kind, body);
  if (page === null || 'json' in page) return page;
  const all = filteredStreams(jsa, page.filter);
  const offset = Math.max(0, Math.min(page.offset, all.length));
  const infos = all.slice(offset, offset + LIST_LIMIT).map((s) => streamInfo(jsa, s, { domain: true }));
  // One pre-encoded array: goJson would write each RawJson element as an object of its own.
  return ok(response(kind, { total: all.length, offset, limit: LIST_LIMIT, streams: new RawJson(`[${infos.map((i) => rawInfo(i).text).join(',')}]`) }));
};

/** A StreamInfo object with its pre-encoded config, as one JSON fragment. */
function rawInfo(info: Record<string, unknown>): RawJson {
  let out = '';
  for (const [k, v] of Object.entries(info)) if (v !== undefined) out += `${out === '' ? '' : ','}${goJson(k, false)}:${raw(v)}`;
  return new RawJson(`{${out}}`);
}

interface InfoRequest {
  deleted_details: boolean;
  subjects_filter: string;
  offset: number;
}
const INFO_REQUEST: GoStructSchema = {
  kind: 'struct',
  fields: { deleted_details: 'bool', subjects_filter: GO_SUBJECT, offset: 'int64' },
};

const streamInfoRequest: Handler = (jsa, name, body) => {
  const kind = 'stream_info';
  let req: InfoRequest = { deleted_details: false, subjects_filter: '', offset: 0 };
  if (!isEmptyRequest(body)) {
    const r = decode<InfoRequest>(body, INFO_REQUEST);
    if (r === null) return fail(kind, jsError('JSInvalidJSONErr'));
    req = r;
  }
  const s = jsa.streams.get(name);
  if (s === undefined) return fail(kind, jsError('JSStreamNotFoundErr'));
  let total = 0;
  let offset = 0;
  let limit = 0;
  let subjects: Record<string, number> | undefined;
  if (req.subjects_filter !== '') {
    const st = s.store.subjectsState(req.subjects_filter);
    if (st.size > 0) {
      total = st.size;
      offset = req.offset;
      limit = SUBJECT_DETAILS_LIMIT;
      const names = [...st.keys()].sort();
      const from = Math.max(0, Math.min(offset, names.length));
      subjects = {};
      for (const subj of names.slice(from, from + SUBJECT_DETAILS_LIMIT)) subjects[subjectToText(subj)] = st.get(subj)!.msgs;
    }
  }
  return ok(response(kind, {
    total, offset, limit,
    ...streamInfo(jsa, s, { domain: true, cluster: true, deleted: req.deleted_details, subjects }),
  }));
};

const streamDelete: Handler = async (jsa, name, body) => {
  const kind = 'stream_delete';
  if (!isEmptyRequest(body)) return fail(kind, jsError('JSNotEmptyRequestErr'));
  const s = jsa.streams.get(name);
  if (s === undefined) return fail(kind, jsError('JSStreamNotFoundErr'));
  await jsa.deleteStream(s);
  jsa.advisory('STREAM.DELETED', name, 'delete');
  return ok(response(kind, { success: true }));
};

interface PurgeRequest {
  filter: string;
  seq: number;
  keep: number;
}
const PURGE_REQUEST: GoStructSchema = { kind: 'struct', fields: { filter: GO_SUBJECT, seq: 'uint64', keep: 'uint64' } };

const streamPurge: Handler = (jsa, name, body) => {
  const kind = 'stream_purge';
  let req: PurgeRequest = { filter: '', seq: 0, keep: 0 };
  if (!isEmptyRequest(body)) {
    const r = decode<PurgeRequest>(body, PURGE_REQUEST);
    if (r === null) return fail(kind, jsError('JSInvalidJSONErr'));
    if (r.seq > 0 && r.keep > 0) return fail(kind, jsError('JSBadRequestErr'));
    req = r;
  }
  const s = jsa.streams.get(name);
  if (s === undefined) return fail(kind, jsError('JSStreamNotFoundErr'));
  if (s.cfg.sealed) return fail(kind, jsError('JSStreamSealedErr'));
  if (s.cfg.deny_purge) return fail(kind, jsError('JSStreamPurgeFailedF', { err: 'stream purge not permitted' }));
  const purged = s.purge(req.filter, req.seq, req.keep);
  return ok(response(kind, { success: true, purged }));
};

interface MsgDeleteRequest {
  seq: number;
  no_erase: boolean;
}
const MSG_DELETE_REQUEST: GoStructSchema = { kind: 'struct', fields: { seq: 'uint64', no_erase: 'bool' } };

/**
 * The file store's error for a delete outside its messages (v2.10.29 filestore.go removeMsg and
 * selectMsgBlockWithIndex): seq 0 and a sequence below the first or with no messages left are
 * ErrStoreMsgNotFound, one past the last ErrStoreEOF; the API reports them as 10057 with that
 * text. An interior gap is "not removed" (10043), as in the memory store, which has no range check.
 */
function fileStoreOutOfRange(store: StreamStore, seq: number): string | null {
  if (store.kind !== 'file') return null;
  if (seq === 0) return 'no message found';
  const st = store.state();
  if (seq >= st.firstSeq && seq <= st.lastSeq && st.msgs > 0) return null;
  return seq <= st.lastSeq ? 'no message found' : 'stream store EOF';
}

const msgDelete: Handler = (jsa, name, body) => {
  const kind = 'stream_msg_delete';
  if (isEmptyRequest(body)) return fail(kind, jsError('JSBadRequestErr'));
  const req = decode<MsgDeleteRequest>(body, MSG_DELETE_REQUEST);
  if (req === null) return fail(kind, jsError('JSInvalidJSONErr'));
  const s = jsa.streams.get(name);
  if (s === undefined) return fail(kind, jsError('JSStreamNotFoundErr'));
  if (s.cfg.sealed) return fail(kind, jsError('JSStreamSealedErr'));
  if (s.cfg.deny_delete) return fail(kind, jsError('JSStreamMsgDeleteFailedF', { err: 'message delete not permitted' }));
  // nats-server answers a missing sequence through its success path: counted, not an API error.
  const outside = fileStoreOutOfRange(s.store, req.seq);
  if (outside !== null) return { json: apiErrorResponse(kind, jsError('JSStreamMsgDeleteFailedF', { err: outside })), error: false };
  if (!s.store.remove(req.seq, !req.no_erase)) return { json: apiErrorResponse(kind, jsError('JSSequenceNotFoundErrF', { seq: req.seq })), error: false };
  return ok(response(kind, { success: true }));
};

const msgGet: Handler = (jsa, name, body) => {
  const kind = 'stream_msg_get';
  if (isEmptyRequest(body)) return fail(kind, jsError('JSBadRequestErr'));
  const req = decode<MsgGetRequest>(body, MSG_GET_REQUEST);
  if (req === null) return fail(kind, jsError('JSInvalidJSONErr'));
  if ((req.seq > 0 && req.last_by_subj !== '') || (req.seq === 0 && req.last_by_subj === '' && req.next_by_subj === '')) {
    return fail(kind, jsError('JSBadRequestErr'));
  }
  if (req.last_by_subj !== '' && req.next_by_subj !== '') return fail(kind, jsError('JSBadRequestErr'));
  const s = jsa.streams.get(name);
  if (s === undefined) return fail(kind, jsError('JSStreamNotFoundErr'));
  const m = loadRequested(s.store, req);
  if (m === null) return fail(kind, jsError('JSNoMessageFoundErr'));
  const message: Record<string, unknown> = { subject: subjectToText(m.subject), seq: m.seq };
  if (m.hdr !== null && m.hdr.length > 0) message.hdrs = m.hdr.toString('base64');
  if (m.data.length > 0) message.data = m.data.toString('base64');
  message.time = rfc3339Nano(m.ts);
  // nats-server sends this reply without counting it in the API totals.
  return { json: response(kind, { message }), error: false, count: false };
};

/** ConsumerInfo's fields, in Go's order (server/consumer.go ConsumerInfo, SequenceInfo). */
function consumerInfoFields(jsa: ApiAccount, c: Consumer): Record<string, unknown> {
  const st = c.state;
  const seqInfo = (consumer: number, stream: number, last: number): Record<string, unknown> => ({
    consumer_seq: consumer,
    stream_seq: stream,
    last_active: last === 0 ? undefined : rfc3339Nano(last),
  });
  return {
    stream_name: c.stream,
    name: c.name,
    created: rfc3339Nano(c.created),
    config: new RawJson(encodeConsumerConfig(c.cfg)),
    delivered: seqInfo(st.deliveredConsumerSeq, st.deliveredStreamSeq, c.lastDelivered),
    // nats-server reads the ack floor from the consumer's store, which starts at {0, 0} (its
    // SetStarting moves only the delivered stream sequence): 0 until a delivery is acked.
    ack_floor: seqInfo(st.ackFloorConsumerSeq, st.ackFloorConsumerSeq === 0 ? 0 : st.ackFloorStreamSeq, c.lastAcked),
    num_ack_pending: st.numAckPending,
    num_redelivered: st.numRedelivered,
    num_waiting: c.numWaiting,
    num_pending: st.numPending(),
    // Only clustered: 2.10.29's infoWithSnapAndReply sets it only for a consumer with a raft
    // group, unlike stream info. A consumer here follows its stream's group (cluster/meta.ts).
    cluster: jsa.cluster !== null && jsa.streams.has(c.stream) ? jsa.cluster.consumerClusterInfo(jsa, jsa.streams.get(c.stream)!, c) : undefined,
    push_bound: c.push !== null && c.push.active ? true : undefined,
    ts: rfc3339Nano(Date.now()),
  };
}

/** Push delivery settings an update may not change yet (nats-server 2.10 can): refused with 10012. */
const PUSH_FIELDS = ['deliver_group', 'rate_limit_bps'] as const;

/**
 * CONSUMER.CREATE's checks: the answer when refused (or null when ignored), else what to create
 * or update. `op` is the endpoint (`CONSUMER.CREATE`, `CONSUMER.DURABLE.CREATE`).
 */
export function checkConsumerRequest(
  jsa: ApiAccount, op: string, token: string, body: Buffer,
  /** The stream's consumers (clustered: the replicated ones too); default its local ones. */
  existing?: ReadonlyArray<readonly [string, ConsumerConfig]>,
): { answer: Answer } | { stream: Stream; name: string; config: ConsumerConfig; updated: boolean } {
  const kind = 'consumer_create';
  const subject = `$JS.API.${op}.${token}`;
  const r = checkConsumerCreate({ subject, body: body.toString('utf8') }, {
    lookupStream: (n) => jsa.streams.get(n)?.cfg,
    consumers: () => existing ?? [...(jsa.streams.get(token.split('.')[0]!)?.consumers ?? new Map<string, Consumer>())].map(([n, c]) => [n, c.cfg] as const),
    accountLimits: { maxAckPending: jsa.limits.max_ack_pending, maxConsumers: jsa.limits.max_consumers },
    // updateConfig: a push consumer's deliver subject changes only while nobody listens on it.
    deliverSubjectHasInterest: (subject) => jsa.hasInterest(subject),
    clustered: jsa.cluster !== null,
  });
  if ('ignore' in r) return { answer: null };
  if ('error' in r) return { answer: fail(kind, r.error) };
  return { stream: jsa.streams.get(r.stream)!, name: r.name, config: r.config, updated: r.updated };
}

/** Creates (or updates) a checked consumer and answers with its info. */
export function commitConsumerCreate(jsa: ApiAccount, stream: Stream, name: string, config: ConsumerConfig, updated: boolean): Answer {
  const kind = 'consumer_create';
  let c = stream.consumers.get(name);
  if (c !== undefined) {
    if (updated) {
      const cur = c.cfg;
      const changed = PUSH_FIELDS.find((f) => cur[f] !== config[f]);
      if (changed !== undefined) return fail(kind, jsError('JSConsumerCreateErrF', { err: `updating ${changed} of a consumer is not supported by nats-embedded yet` }));
      c.update(config);
      // consumer.go updateConfig: on an interest stream, messages that lost interest go (a
      // clustered stream's leader decides: cluster/consumers.ts applyConsumer when it runs elsewhere).
      if (stream.replica === null || stream.replica.isLeader) cleanupNoInterestMessages(stream, c.state.ackFloorStreamSeq);
      jsa.consumerConfigChanged(stream, c);
    }
  } else {
    c = jsa.addConsumer(stream, name, config);
    jsa.consumerAdvisory('CONSUMER.CREATED', stream.name, name, 'create');
  }
  return ok(response(kind, consumerInfoFields(jsa, c)));
}

const consumerCreate = (op: string): Handler => (jsa, token, body) => {
  const r = checkConsumerRequest(jsa, op, token, body);
  if ('answer' in r) return r.answer;
  return commitConsumerCreate(jsa, r.stream, r.name, r.config, r.updated);
};

/** The stream's consumers sorted by name, and the page of `offset`. */
function consumerPage(s: Stream, offset: number, limit: number): { total: number; offset: number; page: Consumer[] } {
  const all = [...s.consumers.values()].filter((c) => !c.cfg.direct).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const from = Math.max(0, Math.min(offset, all.length));
  return { total: all.length, offset: from, page: all.slice(from, from + limit) };
}

const consumerNames: Handler = (jsa, name, body) => {
  const kind = 'consumer_names';
  const page = pageRequest(kind, body);
  if (page === null || 'json' in page) return page;
  const s = jsa.streams.get(name);
  if (s === undefined) return fail(kind, jsError('JSStreamNotFoundErr'));
  const p = consumerPage(s, page.offset, NAMES_LIMIT);
  // jsConsumerNamesRequest starts from `Consumers: []string{}` (unlike the stream names' nil slice).
  return ok(response(kind, { total: p.total, offset: p.offset, limit: NAMES_LIMIT, consumers: p.page.map((c) => c.name) }));
};

const consumerList: Handler = (jsa, name, body) => {
  const kind = 'consumer_list';
  const page = pageRequest(kind, body);
  if (page === null || 'json' in page) return page;
  const s = jsa.streams.get(name);
  if (s === undefined) return fail(kind, jsError('JSStreamNotFoundErr'));
  const p = consumerPage(s, page.offset, LIST_LIMIT);
  const infos = p.page.map((c) => rawInfo(consumerInfoFields(jsa, c)).text);
  return ok(response(kind, { total: p.total, offset: p.offset, limit: LIST_LIMIT, consumers: new RawJson(`[${infos.join(',')}]`) }));
};

/** The stream and consumer of `<stream>.<consumer>`, or the error answer. */
function findConsumer(jsa: ApiAccount, kind: string, token: string): { s: Stream; c: Consumer } | Answer {
  const dot = token.indexOf('.');
  const s = jsa.streams.get(token.slice(0, dot));
  if (s === undefined) return fail(kind, jsError('JSStreamNotFoundErr'));
  const c = s.consumers.get(token.slice(dot + 1));
  if (c === undefined) return fail(kind, jsError('JSConsumerNotFoundErr'));
  return { s, c };
}

const consumerInfo: Handler = (jsa, token) => {
  const kind = 'consumer_info';
  const f = findConsumer(jsa, kind, token);
  if (f === null || 'json' in f) return f;
  return ok(response(kind, consumerInfoFields(jsa, f.c)));
};

const consumerDelete: Handler = (jsa, token) => {
  const kind = 'consumer_delete';
  const f = findConsumer(jsa, kind, token);
  if (f === null || 'json' in f) return f;
  jsa.deleteConsumer(f.s, f.c);
  jsa.consumerAdvisory('CONSUMER.DELETED', f.s.name, f.c.name, 'delete');
  return ok(response(kind, { success: true }));
};

/** Clustering operations on a single server (nats-server: "JetStream clustering support required"). */
const clusterOnly = (kind: string): Handler => () => fail(kind, jsError('JSClusterRequiredErr'));

const CONSUMER_CREATE = consumerCreate('CONSUMER.CREATE');

/**
 * The endpoints: `op` is the API subject after `$JS.API.`, its last `*` tokens (the stream,
 * the consumer) passed to the handler as `token`. `tokens` is how many of those follow.
 */
const ENDPOINTS: ReadonlyArray<{ op: string; tokens: number; handler: Handler; tail?: boolean; anyAccount?: true }> = [
  { op: 'INFO', tokens: 0, handler: accountInfo },
  { op: 'STREAM.CREATE', tokens: 1, handler: streamCreate },
  { op: 'STREAM.UPDATE', tokens: 1, handler: streamUpdate },
  { op: 'STREAM.NAMES', tokens: 0, handler: streamNames },
  { op: 'STREAM.LIST', tokens: 0, handler: streamList },
  { op: 'STREAM.INFO', tokens: 1, handler: streamInfoRequest },
  { op: 'STREAM.DELETE', tokens: 1, handler: streamDelete },
  { op: 'STREAM.PURGE', tokens: 1, handler: streamPurge },
  { op: 'STREAM.MSG.DELETE', tokens: 1, handler: msgDelete },
  { op: 'STREAM.MSG.GET', tokens: 1, handler: msgGet },
  { op: 'STREAM.LEADER.STEPDOWN', tokens: 1, handler: clusterOnly('stream_leader_stepdown'), anyAccount: true },
  { op: 'STREAM.PEER.REMOVE', tokens: 1, handler: clusterOnly('stream_remove_peer'), anyAccount: true },
  { op: 'CONSUMER.CREATE', tokens: 1, handler: CONSUMER_CREATE },
  { op: 'CONSUMER.CREATE', tokens: 2, handler: CONSUMER_CREATE, tail: true },
  { op: 'CONSUMER.DURABLE.CREATE', tokens: 2, handler: consumerCreate('CONSUMER.DURABLE.CREATE') },
  { op: 'CONSUMER.NAMES', tokens: 1, handler: consumerNames },
  { op: 'CONSUMER.LIST', tokens: 1, handler: consumerList },
  { op: 'CONSUMER.INFO', tokens: 2, handler: consumerInfo },
  { op: 'CONSUMER.DELETE', tokens: 2, handler: consumerDelete },
  { op: 'CONSUMER.LEADER.STEPDOWN', tokens: 2, handler: clusterOnly('consumer_leader_stepdown'), anyAccount: true },
];

/** Finds the endpoint of `rest` (the subject after `$JS.API.`) and its name tokens. */
function route(rest: string): { handler: Handler; op: string; token: string; anyAccount: boolean } | null {
  for (const e of ENDPOINTS) {
    if (!rest.startsWith(e.op)) continue;
    const after = rest.slice(e.op.length);
    if (e.tokens === 0) {
      if (after === '') return { handler: e.handler, op: e.op, token: '', anyAccount: false };
      continue;
    }
    if (after[0] !== '.') continue;
    const names = after.slice(1);
    const parts = names.split('.');
    if (parts.some((p) => p === '')) continue;
    if (e.tail === true ? parts.length > e.tokens - 1 : parts.length === e.tokens) return { handler: e.handler, op: e.op, token: names, anyAccount: e.anyAccount === true };
  }
  return null;
}

/**
 * Runs a request a clustered stream replicated through its log (cluster/stream-replica.ts) on
 * this replica, now; the answer is sent (and counted) only when `respond` (the leader).
 */
export function applyReplicatedRequest(jsa: ApiAccount, rest: string, body: Buffer, reply: string, respond: boolean): void {
  const found = route(rest);
  if (found === null) return;
  const answer = found.handler(jsa, found.token, body);
  if (answer instanceof Promise) throw new Error(`replicated request ${rest} is not synchronous`);
  if (respond) send(jsa, reply, answer, `$JS.API.${rest}`, body);
}

/** Go's json.Unmarshal into a struct fails on this body (empty, not JSON, or not an object). */
function notJsonObject(body: Buffer): boolean {
  try {
    const v: unknown = JSON.parse(body.toString('utf8'));
    return typeof v !== 'object' || Array.isArray(v);
  } catch {
    return true;
  }
}

/**
 * Answers one API request. `subject` is the request subject in its `$JS.API.` form (a domain
 * prefix already mapped); returns false for the subjects this catch-all does not serve.
 */
export function handleApiRequest(jsa: ApiAccount, subject: string, msg: InternalMessage, prefixLength: number): boolean {
  const rest = subject.slice(prefixLength);
  if (rest.startsWith('DIRECT.GET.') || rest.startsWith('CONSUMER.MSG.NEXT.')) return false;
  // Operator and system-account requests, which nats-server's apiDispatch ignores: META.LEADER.STEPDOWN
  // and SERVER.REMOVE are served in the system account only (JsAccount.systemRequest). 2.10.29's
  // jsLeaderStepDownRequest / jsLeaderServerRemoveRequest drop a request from another account
  // unanswered (`acc != s.SystemAccount()`); 2.9.10 answered it from any account.
  if (rest === 'META.LEADER.STEPDOWN' || rest === 'SERVER.REMOVE' || rest.startsWith('ACCOUNT.')) return true;
  const found = route(rest);
  const reply = msg.reply;
  const body = msg.data.length === 0 ? msg.data : Buffer.from(msg.data);
  // Clustered, the answers every server would give alike come from the meta leader alone.
  if (found === null) {
    if (jsa.cluster === null || jsa.cluster.answersForAll()) send(jsa, reply, fail('system', jsError('JSBadRequestErr')), subject, body);
    return true;
  }
  // An account without JetStream: nats-server's handlers answer 10039 first, except the
  // clustering ones (10010 on a single server) and consumer creation, which decodes its request
  // before (10025; an approximation of Go's decoding: JSON that is not an object).
  if (!jsa.enabled && !found.anyAccount) {
    if (jsa.cluster !== null && !jsa.cluster.answersForAll()) return true;
    const kind = kindOf(found.handler);
    const error = kind === 'consumer_create' && notJsonObject(body) ? jsError('JSInvalidJSONErr') : jsError('JSNotEnabledForAccountErr');
    send(jsa, reply, fail(kind, error), subject, body);
    return true;
  }
  if (jsa.cluster !== null && jsa.cluster.intercept(jsa, found.op, found.token, body, reply, subject)) return true;
  jsa.serialize(async () => {
    let answer: Answer;
    try {
      answer = await found.handler(jsa, found.token, body);
    } catch (err) {
      jsa.internalError(err, `JetStream API request on ${subject}; answered with an error`);
      answer = fail('system', jsError('JSStreamGeneralErrorF', { err: err instanceof Error ? err.message : String(err) }));
    }
    send(jsa, reply, answer, subject, body);
  });
  return true;
}

/** The response type kind of an endpoint, for its "not enabled" error. */
function kindOf(h: Handler): string {
  const names = new Map<Handler, string>([
    [accountInfo, 'account_info'], [streamCreate, 'stream_create'], [streamUpdate, 'stream_update'],
    [streamNames, 'stream_names'], [streamList, 'stream_list'], [streamInfoRequest, 'stream_info'],
    [streamDelete, 'stream_delete'], [streamPurge, 'stream_purge'], [msgDelete, 'stream_msg_delete'],
    [msgGet, 'stream_msg_get'], [consumerNames, 'consumer_names'], [consumerList, 'consumer_list'],
    [consumerInfo, 'consumer_info'], [consumerDelete, 'consumer_delete'],
  ]);
  return names.get(h) ?? 'consumer_create';
}

export function send(jsa: ApiAccount, reply: string, answer: Answer, subject: string, request: Buffer): void {
  if (answer === null) return;
  if (answer.count !== false) jsa.countApi(answer.error);
  if (reply !== '') jsa.reply(reply, answer.json);
  // sendAPIResponse / sendAPIErrResponse audit what they answer; the uncounted replies
  // (STREAM.MSG.GET's sendInternalAccountMsg) are not audited either.
  if (answer.count !== false) jsa.apiAudit(subject, reply, request, answer.json);
}

/**
 * A consumer's ConsumerInfo as JSON text (no `type`), as CONSUMER.INFO writes it — for `/jsz`'s
 * `consumer_detail`, which leaves `config` out unless asked (monitor.go accountDetail).
 */
export function consumerInfoJson(jsa: ApiAccount, c: Consumer, withConfig: boolean): string {
  const fields = consumerInfoFields(jsa, c);
  if (!withConfig) fields.config = undefined;
  return rawInfo(fields).text;
}
