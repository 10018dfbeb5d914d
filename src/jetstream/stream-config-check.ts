/**
 * The checks and defaults nats-server 2.10 applies to a stream's configuration on
 * STREAM.CREATE and STREAM.UPDATE, with its exact errors, in its order.
 *
 * Follows nats-server v2.10.29 (non-clustered, single server):
 * - jetstream_api.go jsStreamCreateRequest / jsStreamUpdateRequest: the request-level checks
 *   (name in the subject 10056, path separators 10128, sealed on create, mirror_direct);
 * - stream.go checkStreamCfg: defaults and validation (errors 10052 "{err}" and the specific
 *   mirror/source codes);
 * - stream.go addStreamWithAssignment: replicas in non-clustered mode (10074), "same config"
 *   (10058), the source/mirror filter and transform checks and the stream's subject transform
 *   (10049 "{err}"), overlap with other streams (10065);
 *
 * The update rules (configUpdateCheck) are in stream-config-update.ts.
 * What depends on the account (its other streams, its limits, a stream's consumers) comes in
 * through optional callbacks, so that the engine keeps that state and the errors still come
 * in nats-server's order.
 */
import { subjectToText } from '../protocol/text.js';
import { goDuration, goQuote } from '../protocol/go-format.js';
import { jsError, type ApiError } from './errors.js';
import type { StreamConfig, StreamConfigRequest, StreamSource } from './stream-config.js';
import { streamConfigsEqual } from './stream-config.js';
import { sourceIndexName } from './sourcing-wire.js';
import {
  isValidMappingDestination,
  isValidName,
  isValidPublishSubject,
  isValidSubject,
  subjectIsSubsetMatch,
  subjectsCollide,
  subjectTransformError,
} from './subject-rules.js';

/** jetstream_api.go JSMaxNameLen, JSMaxDescriptionLen, JSMaxMetadataLen; stream.go StreamMaxReplicas. */
export const JS_MAX_NAME_LEN = 255;
export const JS_MAX_DESCRIPTION_LEN = 4 * 1024;
export const JS_MAX_METADATA_LEN = 128 * 1024;
export const STREAM_MAX_REPLICAS = 5;
/** stream.go StreamDefaultDuplicatesWindow: 2 minutes, in nanoseconds. */
export const STREAM_DEFAULT_DUPLICATES_WINDOW = 120_000_000_000;
const MS100 = 100_000_000;
const JS_API_PREFIX = '$JS.API';

/** The account-side state the checks consult. Every member is optional. */
export interface StreamCheckEnv {
  /**
   * Another stream of the account by name, or undefined. Used for the mirror and source
   * checks (max_msg_size, the origin's subjects for external prefixes, inheriting
   * mirror_direct from the origin's allow_direct), cycle detection, and on create the
   * "already exists" comparison (10058, or the existing config when identical).
   */
  lookupStream?: (name: string) => StreamConfig | undefined;
  /** True when `subjects` overlap a stream of the account other than the one checked (10065). */
  overlapsOtherStreams?: (subjects: readonly string[]) => boolean;
  /**
   * Create only: the account limits check nats-server makes on the request as decoded, before
   * any default (jsNonClusteredStreamLimitsCheck: 10027 max streams, 10026, 10028/10047
   * resources). Return the error, or undefined.
   */
  checkRequestLimits?: (request: StreamConfigRequest) => ApiError | undefined;
  /**
   * The account limits check on the filled config (checkAllLimits: 10026, 10028/10047, 10120
   * no limits), on create after the "already exists" comparison and on update among the
   * update rules (pass the new config; the engine accounts for the old max_bytes).
   */
  checkLimits?: (config: StreamConfig) => ApiError | undefined;
  /** Account limits for max_bytes (maxBytesLimits): max_bytes_required, and the tier's max stream bytes for the config's storage (0 = none). */
  streamBytesLimits?: (config: StreamConfig) => { required: boolean; limit: number };
  /** The server's `jetstream { limits { duplicate_window } }` in ns (0 or undefined: none). */
  maxDuplicateWindow?: number;
  /** Clustered JetStream: replicas > 1 are then allowed on create (default false: 10074). */
  clustered?: boolean;
}

/** Options of {@link checkStreamConfig}. */
export interface StreamCheckOptions extends StreamCheckEnv {
  /** STREAM.CREATE (true) or STREAM.UPDATE (false). */
  isCreate: boolean;
  /**
   * The stream name token of the request subject (`$JS.API.STREAM.CREATE.<name>`); when
   * given, the name mismatch (10056) and, on create, path separators (10128) are checked
   * where nats-server checks them.
   */
  subjectName?: string;
}

/** A check's outcome: the config to use, or the error to answer with. */
export type CheckResult = { config: StreamConfig; existing?: boolean } | { error: ApiError };

/** A 10052 error with `text` (NewJSStreamInvalidConfigError). */
export const invalid = (text: string): { error: ApiError } => ({ error: jsError('JSStreamInvalidConfigF', { err: text }) });
/** The named error, without arguments. */
export const err = (name: Parameters<typeof jsError>[0]): { error: ApiError } => ({ error: jsError(name) });

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function cloneSource(s: StreamSource): StreamSource {
  return {
    ...s,
    subject_transforms: s.subject_transforms?.map((t) => ({ ...t })),
    external: s.external && { ...s.external },
  };
}

/** A deep copy, so that filling defaults never changes the caller's object. */
function clone<T extends StreamConfigRequest>(c: T): T {
  return {
    ...c,
    subjects: c.subjects && [...c.subjects],
    placement: c.placement && { ...c.placement, tags: c.placement.tags && [...c.placement.tags] },
    mirror: c.mirror && cloneSource(c.mirror),
    sources: c.sources?.map(cloneSource),
    subject_transform: c.subject_transform && { ...c.subject_transform },
    republish: c.republish && { ...c.republish },
    consumer_limits: { ...c.consumer_limits },
    metadata: c.metadata && Object.assign(Object.create(null) as Record<string, string>, c.metadata),
  };
}

/**
 * stream.go checkStreamCfg: fills the defaults (storage file, num_replicas 1, max_msgs,
 * max_bytes, max_msgs_per_subject, max_msg_size and max_consumers -1, duplicate_window 2
 * minutes or max_age when shorter, subjects `[name]`, republish src `>`, mirror_direct from
 * the origin) and validates, returning the first error nats-server would.
 */
export function checkStreamCfg(request: StreamConfigRequest, env: StreamCheckEnv = {}): CheckResult {
  if (!isValidName(request.name)) return invalid("stream name is required and can not contain '.', '*', '>'");
  if (byteLength(request.name) > JS_MAX_NAME_LEN) return invalid(`stream name is too long, maximum allowed is ${JS_MAX_NAME_LEN}`);
  if (byteLength(request.description) > JS_MAX_DESCRIPTION_LEN) {
    return invalid(`stream description is too long, maximum allowed is ${JS_MAX_DESCRIPTION_LEN}`);
  }
  let metadataLen = 0;
  for (const [k, v] of Object.entries(request.metadata ?? {})) metadataLen += byteLength(k) + byteLength(v);
  if (metadataLen > JS_MAX_METADATA_LEN) return invalid(`stream metadata exceeds maximum size of ${JS_MAX_METADATA_LEN} bytes`);

  const c = clone(request) as StreamConfig;
  if (c.storage === undefined) c.storage = 'file';
  if (c.num_replicas === 0) c.num_replicas = 1;
  if (c.num_replicas > STREAM_MAX_REPLICAS) return invalid(`maximum replicas is ${STREAM_MAX_REPLICAS}`);
  if (c.num_replicas < 0) return err('JSReplicasCountCannotBeNegative');
  if (c.max_msgs === 0) c.max_msgs = -1;
  if (c.max_msgs_per_subject === 0) c.max_msgs_per_subject = -1;
  if (c.max_bytes === 0) c.max_bytes = -1;
  if (c.max_msg_size === 0) c.max_msg_size = -1;
  if (c.max_consumers === 0) c.max_consumers = -1;
  const limDup = env.maxDuplicateWindow ?? 0;
  if (c.duplicate_window === 0 && c.mirror === undefined) {
    let maxWindow = STREAM_DEFAULT_DUPLICATES_WINDOW;
    if (limDup > 0 && maxWindow > limDup) maxWindow = limDup;
    // A negative max_age lands here too, and is then refused as a negative window.
    c.duplicate_window = c.max_age !== 0 && c.max_age < maxWindow ? c.max_age : maxWindow;
  }
  if (c.max_age > 0 && c.max_age < MS100) return invalid('max age needs to be >= 100ms');
  if (c.duplicate_window < 0) return invalid('duplicates window can not be negative');
  if (c.max_age !== 0 && c.duplicate_window > c.max_age) return invalid('duplicates window can not be larger then max age');
  if (limDup > 0 && c.duplicate_window > limDup) {
    return invalid(`duplicates window can not be larger then server limit of ${goDuration(limDup)}`);
  }
  if (c.duplicate_window > 0 && c.duplicate_window < MS100) return invalid('duplicates window needs to be >= 100ms');
  if (c.deny_purge && c.allow_rollup_hdrs) return invalid('roll-ups require the purge permission');
  if (c.discard_new_per_subject) {
    if (c.discard !== 'new') return invalid('discard new per subject requires discard new policy to be set');
    if (c.max_msgs_per_subject <= 0) return invalid('discard new per subject requires max msgs per subject > 0');
  }

  const lookup = env.lookupStream ?? (() => undefined);
  const streamSubs: string[] = [];
  const deliveryPrefixes: string[] = [];
  const apiPrefixes: string[] = [];

  const m = c.mirror;
  if (m !== undefined) {
    if (c.first_seq > 0) return err('JSMirrorWithFirstSeqErr');
    if (c.subjects !== undefined && c.subjects.length > 0) return err('JSMirrorWithSubjectsErr');
    if (c.sources !== undefined && c.sources.length > 0) return err('JSMirrorWithSourcesErr');
    const trs = m.subject_transforms ?? [];
    if (m.filter_subject !== '' && trs.length !== 0) return err('JSMirrorMultipleFiltersNotAllowed');
    for (let outer = 0; outer < trs.length; outer++) {
      if (!isValidSubject(trs[outer].src)) return err('JSMirrorInvalidSubjectFilter');
      for (let inner = 0; inner < trs.length; inner++) {
        if (inner !== outer && subjectsCollide(trs[outer].src, trs[inner].src)) return err('JSMirrorOverlappingSubjectFilters');
      }
    }
    if (m.external === undefined) {
      if (!isValidName(m.name)) return err('JSMirrorInvalidStreamName');
      // The origin need not exist; when it does, its message size and direct gets count.
      const origin = lookup(m.name);
      if (origin?.subjects !== undefined) streamSubs.push(...origin.subjects);
      if (origin !== undefined) {
        if (c.max_msg_size > 0 && origin.max_msg_size > 0 && c.max_msg_size < origin.max_msg_size) return err('JSMirrorMaxMessageSizeTooBigErr');
        c.mirror_direct = origin.allow_direct;
      }
    } else {
      if (m.external.deliver !== '') deliveryPrefixes.push(m.external.deliver);
      if (m.external.api !== '') apiPrefixes.push(m.external.api);
    }
  }

  const inames = new Set<string>();
  for (const src of c.sources ?? []) {
    if (!isValidName(src.name)) return err('JSSourceInvalidStreamName');
    const iname = sourceIndexName(src);
    if (inames.has(iname)) return err('JSSourceDuplicateDetected');
    inames.add(iname);
    if (src.external === undefined) {
      const origin = lookup(src.name);
      if (origin?.subjects !== undefined) streamSubs.push(...origin.subjects);
      if (origin !== undefined && c.max_msg_size > 0 && origin.max_msg_size > 0 && c.max_msg_size < origin.max_msg_size) {
        return err('JSSourceMaxMessageSizeTooBigErr');
      }
      const trs = src.subject_transforms ?? [];
      if (src.filter_subject !== '' && trs.length !== 0) return err('JSSourceMultipleFiltersNotAllowed');
      for (const tr of trs) if (!isValidMappingDestination(tr.dest)) return err('JSSourceInvalidTransformDestination');
      for (let outer = 0; outer < trs.length; outer++) {
        if (!isValidSubject(trs[outer].src)) return err('JSSourceInvalidSubjectFilter');
        for (let inner = 0; inner < trs.length; inner++) {
          if (inner !== outer && subjectIsSubsetMatch(trs[outer].src, trs[inner].src)) return err('JSSourceOverlappingSubjectFilters');
        }
      }
    } else {
      if (src.external.deliver !== '') deliveryPrefixes.push(src.external.deliver);
      if (src.external.api !== '') apiPrefixes.push(src.external.api);
    }
  }

  for (const pfx of deliveryPrefixes) {
    if (!isValidPublishSubject(pfx)) return { error: jsError('JSStreamInvalidExternalDeliverySubjErrF', { prefix: pfx }) };
    for (const sub of streamSubs) {
      if (subjectsCollide(sub, `${pfx}.${sub}`)) return { error: jsError('JSStreamExternalDelPrefixOverlapsErrF', { prefix: subjectToText(pfx), subject: subjectToText(sub) }) };
    }
  }
  for (const pfx of apiPrefixes) {
    if (!isValidPublishSubject(pfx)) return invalid(`stream external api prefix ${goQuote(subjectToText(pfx))} must be a valid subject without wildcards`);
    if (subjectsCollide(pfx, JS_API_PREFIX)) return { error: jsError('JSStreamExternalApiOverlapErrF', { prefix: pfx, subject: JS_API_PREFIX }) };
  }

  const cycle = detectCycle(c, lookup);
  if (cycle !== undefined) return cycle;

  if (c.subjects === undefined || c.subjects.length === 0) {
    if (c.mirror === undefined && (c.sources === undefined || c.sources.length === 0)) c.subjects = [...(c.subjects ?? []), c.name];
  } else {
    if (c.mirror !== undefined) return err('JSMirrorWithSubjectsErr');
    const seen = new Set<string>();
    for (const subj of c.subjects) {
      if (!isValidSubject(subj)) return invalid('invalid subject');
      if (seen.has(subj)) return invalid('duplicate subjects detected');
      if (subj === '>') {
        if (!c.no_ack) return invalid('capturing all subjects requires no-ack to be true');
        if (c.num_replicas !== 1) return invalid('capturing all subjects requires replicas of 1');
      }
      if (!c.no_ack) {
        for (const ns of ['$JS.>', '$JSC.>', '$NRG.>']) {
          // $JS.EVENT.> is allowed: such streams were made before this check existed.
          if (subjectsCollide(subj, ns) && !subjectIsSubsetMatch(subj, '$JS.EVENT.>')) {
            return invalid('subjects that overlap with jetstream api require no-ack to be true');
          }
        }
        if (subjectsCollide(subj, '$SYS.>') && !subjectIsSubsetMatch(subj, '$SYS.ACCOUNT.>')) {
          return invalid('subjects that overlap with system api require no-ack to be true');
        }
      }
      seen.add(subj);
    }
  }

  if ((c.subjects === undefined || c.subjects.length === 0) && (c.sources === undefined || c.sources.length === 0) && c.mirror === undefined) {
    return invalid('stream needs at least one configured subject or be a source/mirror');
  }

  if (env.streamBytesLimits !== undefined) {
    const { required, limit } = env.streamBytesLimits(c);
    if (required && c.max_bytes <= 0) return err('JSStreamMaxBytesRequired');
    if (limit > 0 && c.max_bytes > limit) return err('JSStreamMaxStreamBytesExceeded');
  }

  const subjects = c.subjects ?? [];
  if (subjects.length > 1) {
    for (const subj of subjects) {
      for (const tsubj of subjects) {
        if (tsubj !== subj && subjectsCollide(tsubj, subj)) return invalid(`subject ${goQuote(subjectToText(subj))} overlaps with ${goQuote(subjectToText(tsubj))}`);
      }
    }
  }

  const rp = c.republish;
  if (rp !== undefined) {
    if (rp.src === '') rp.src = '>';
    if (subjects.some((subj) => subjectsCollide(rp.dest, subj))) return invalid('stream configuration for republish destination forms a cycle');
    if (subjectTransformError(rp.src, rp.dest) !== undefined) {
      return invalid(`stream configuration for republish with transform from '${subjectToText(rp.src)}' to '${subjectToText(rp.dest)}' not valid`);
    }
  }
  return { config: c };
}

/** checkStreamCfg's cycle check through the account's sources and mirrors. */
function detectCycle(cfg: StreamConfig, lookup: (name: string) => StreamConfig | undefined): { error: ApiError } | undefined {
  const toVisit: StreamConfig[] = [cfg];
  const visited = new Set<string>();
  const overlaps = (subjects: readonly string[] | undefined, filter: string): boolean =>
    filter === '' || (subjects ?? []).some((s) => subjectsCollide(s, filter));
  // Bounded: each pass marks one stream visited, and a stream is queued only while unvisited.
  for (let guard = 0; toVisit.length > 0 && guard < 100_000; guard++) {
    const c = toVisit.shift()!;
    visited.add(c.name);
    for (const src of c.sources ?? []) {
      if (src.external !== undefined) continue;
      if (visited.has(src.name)) {
        // A stream seen before is a cycle only when the subjects really flow round.
        if (overlaps(c.subjects, src.filter_subject)) return invalid('detected cycle');
      } else {
        const next = lookup(src.name);
        if (next !== undefined) toVisit.push(next);
      }
    }
    const m = c.mirror;
    if (m !== undefined && m.external === undefined) {
      if (visited.has(m.name)) return invalid('detected cycle');
      const next = lookup(m.name);
      if (next !== undefined) toVisit.push(next);
    }
  }
  return undefined;
}

/** addStreamWithAssignment's checks of mirror/source filters and transforms (10049 texts). */
function sourceTransformError(c: StreamConfig): string | undefined {
  const m = c.mirror;
  if (m !== undefined) {
    const trs = m.subject_transforms ?? [];
    if (trs.length === 0) {
      if (m.filter_subject !== '' && !isValidSubject(m.filter_subject)) return `subject filter '${subjectToText(m.filter_subject)}' for the mirror invalid subject`;
    } else {
      for (const st of trs) {
        if (st.src !== '' && !isValidSubject(st.src)) return `invalid subject transform source '${subjectToText(st.src)}' for the mirror: invalid subject`;
        const e = st.dest === '' ? undefined : subjectTransformError(st.src, st.dest);
        if (e !== undefined) return `subject transform from '${subjectToText(st.src)}' to '${subjectToText(st.dest)}' for the mirror: ${subjectToText(e)}`;
      }
    }
  }
  for (const s of c.sources ?? []) {
    const trs = s.subject_transforms ?? [];
    if (trs.length === 0) {
      if (s.filter_subject !== '' && !isValidSubject(s.filter_subject)) return `subject filter '${subjectToText(s.filter_subject)}' for the source: invalid subject`;
    } else {
      for (const st of trs) {
        if (st.src !== '' && !isValidSubject(st.src)) return `subject filter '${subjectToText(st.src)}' for the source: invalid subject`;
        const e = st.dest === '' ? undefined : subjectTransformError(st.src, st.dest);
        if (e !== undefined) return `subject transform from '${subjectToText(st.src)}' to '${subjectToText(st.dest)}' for the source: ${subjectToText(e)}`;
      }
    }
  }
  return undefined;
}

/**
 * The checks of a STREAM.CREATE or STREAM.UPDATE request's config, in nats-server's order.
 *
 * Create: the request checks (10056 when `subjectName` is given, 10128, "stream
 * configuration for create can not be sealed", "stream has no mirror but does have mirror
 * direct"), `checkRequestLimits`, {@link checkStreamCfg}, replicas > 1 when not clustered
 * (10074), then with `lookupStream` the existing stream of that name (identical config:
 * `{ config: existing, existing: true }`; else 10058), `checkLimits`, the mirror/source
 * filter and transform checks (10049), `overlapsOtherStreams` (10065) and the stream's
 * subject transform (10049). The result is the config to create the stream with.
 *
 * Update: {@link checkStreamCfg} and then 10056; the caller then finds the stream (10059) and
 * calls `checkStreamUpdate` (stream-config-update.ts) with its config and this request.
 */
export function checkStreamConfig(request: StreamConfigRequest, opts: StreamCheckOptions): CheckResult {
  if (!opts.isCreate) {
    const r = checkStreamCfg(request, opts);
    if ('error' in r) return r;
    if (opts.subjectName !== undefined && opts.subjectName !== r.config.name) return err('JSStreamMismatchErr');
    return r;
  }
  const streamName = opts.subjectName ?? request.name;
  if (streamName !== request.name) return err('JSStreamMismatchErr');
  if (/[\\/]/.test(streamName)) return err('JSStreamNameContainsPathSeparatorsErr');
  if (request.sealed) return invalid('stream configuration for create can not be sealed');
  if (request.mirror_direct && request.mirror === undefined) return invalid('stream has no mirror but does have mirror direct');
  const limitErr = opts.checkRequestLimits?.(request);
  if (limitErr !== undefined) return { error: limitErr };

  const r = checkStreamCfg(request, opts);
  if ('error' in r) return r;
  const c = r.config;
  if (!opts.clustered && c.num_replicas > 1) return err('JSStreamReplicasNotSupportedErr');
  const existing = opts.lookupStream?.(c.name);
  if (existing !== undefined) return streamConfigsEqual(existing, c) ? { config: existing, existing: true } : err('JSStreamNameExistErr');
  const limits = opts.checkLimits?.(c);
  if (limits !== undefined) return { error: limits };
  const createErr = (text: string): { error: ApiError } => ({ error: jsError('JSStreamCreateErrF', { err: text }) });
  const srcErr = sourceTransformError(c);
  if (srcErr !== undefined) return createErr(srcErr);
  if (opts.overlapsOtherStreams?.(c.subjects ?? [])) return err('JSStreamSubjectOverlapErr');
  const st = c.subject_transform;
  if (st !== undefined) {
    const e = subjectTransformError(st.src, st.dest);
    if (e !== undefined) return createErr(`stream subject transform from '${subjectToText(st.src)}' to '${subjectToText(st.dest)}': ${subjectToText(e)}`);
  }
  return { config: c };
}
