/**
 * What a STREAM.UPDATE may change, as nats-server 2.10 decides it, with its exact errors.
 *
 * Follows nats-server v2.10.29 stream.go: configUpdateCheck (10052 texts, 10055 for the
 * mirror) and updateWithAdvisory (consumer limits against the stream's consumers, overlap
 * with other streams 10065, the republish and subject transforms: 10069 "{err}").
 */
import { subjectToText } from '../protocol/text.js';
import { jsError, jsErrorUnless, type ApiError } from './errors.js';
import { checkStreamCfg, err, invalid, type CheckResult, type StreamCheckEnv } from './stream-config-check.js';
import type { StreamConfig, StreamConfigRequest, StreamSource } from './stream-config.js';
import { subjectTransformError } from './subject-rules.js';

/** A consumer of the stream, as far as the update check needs it. */
export interface ConsumerLimitsView {
  name: string;
  /** ns */
  inactive_threshold: number;
  max_ack_pending: number;
}

/** Options of {@link checkStreamUpdate}. */
export interface StreamUpdateOptions extends StreamCheckEnv {
  /** The stream's consumers: a change of consumer_limits must not leave one above them. */
  consumers?: readonly ConsumerLimitsView[];
}

/**
 * stream.go configUpdateCheck and updateWithAdvisory: may the stream whose config is
 * `current` take the request `next`? Runs {@link checkStreamCfg} on `next`, then the update
 * rules: name, max_consumers, storage, retention to or from workqueue, templates, unsealing,
 * cancelling deny_delete / deny_purge (10052), any change of the mirror (10055), discard new
 * per subject; a sealed stream gets max_age 0, discard new, deny_delete and deny_purge and no
 * rollups; then `checkLimits`, consumer_limits against `consumers` and `overlapsOtherStreams`
 * (10069 / 10065), and the republish and subject transforms (10069). Returns the config to
 * store.
 *
 * 2.9.10 also refused any change of `retention` and of `republish`; 2.10 allows limits ↔
 * interest and a new republish.
 */
export function checkStreamUpdate(current: StreamConfig, next: StreamConfigRequest, opts: StreamUpdateOptions = {}): CheckResult {
  const r = checkStreamCfg(next, opts);
  if ('error' in r) return r;
  const c = r.config;
  if (c.name !== current.name) return invalid('stream configuration name must match original');
  if (c.max_consumers !== current.max_consumers) return invalid('stream configuration update can not change MaxConsumers');
  if (c.storage !== current.storage) return invalid('stream configuration update can not change storage type');
  if (c.retention !== current.retention && (current.retention === 'workqueue' || c.retention === 'workqueue')) {
    return invalid('stream configuration update can not change retention policy to/from workqueue');
  }
  if (current.template_owner !== '') return invalid('stream configuration update not allowed on template owned stream');
  if (c.template_owner !== '') return invalid('stream configuration update can not be owned by a template');
  if (!c.sealed && current.sealed) return invalid('stream configuration update can not unseal a sealed stream');
  if (!c.deny_delete && current.deny_delete) return invalid('stream configuration update can not cancel deny message deletes');
  if (!c.deny_purge && current.deny_purge) return invalid('stream configuration update can not cancel deny purge');
  if (!mirrorsEqual(c.mirror, current.mirror)) return err('JSStreamMirrorNotUpdatableErr');
  if (c.discard_new_per_subject) {
    if (c.discard !== 'new') return invalid('discard new per subject requires discard new policy to be set');
    if (c.max_msgs_per_subject <= 0) return invalid('discard new per subject requires max msgs per subject > 0');
  }
  if (c.sealed) {
    c.max_age = 0;
    c.discard = 'new';
    c.deny_delete = true;
    c.deny_purge = true;
    c.allow_rollup_hdrs = false;
  }
  const limits = opts.checkLimits?.(c);
  if (limits !== undefined) return { error: jsErrorUnless('JSStreamInvalidConfigF', limits) };

  const updateErr = (text: string): { error: ApiError } => ({ error: jsError('JSStreamUpdateErrF', { err: text }) });
  const ol = current.consumer_limits;
  const nl = c.consumer_limits;
  if (ol.inactive_threshold !== nl.inactive_threshold || ol.max_ack_pending !== nl.max_ack_pending) {
    // nats-server lists them in map order (random); here in the order given.
    const over = (opts.consumers ?? [])
      .filter((cc) => cc.inactive_threshold > nl.inactive_threshold || cc.max_ack_pending > nl.max_ack_pending)
      .map((cc) => cc.name);
    if (over.length > 0) return updateErr(`change to limits violates consumers: ${over.join(', ')}`);
  }
  if (opts.overlapsOtherStreams?.(c.subjects ?? [])) return err('JSStreamSubjectOverlapErr');
  const rp = c.republish;
  if (rp !== undefined) {
    // updateWithAdvisory fills both ends, and the stored config keeps them.
    if (rp.src === '') rp.src = '>';
    if (rp.dest === '') rp.dest = '>';
    const e = subjectTransformError(rp.src, rp.dest);
    if (e !== undefined) return updateErr(`stream configuration for republish from '${subjectToText(rp.src)}' to '${subjectToText(rp.dest)}': ${subjectToText(e)}`);
  }
  const st = c.subject_transform;
  const ost = current.subject_transform;
  if (st !== undefined && (ost === undefined || ost.src !== st.src || ost.dest !== st.dest)) {
    const e = subjectTransformError(st.src, st.dest);
    if (e !== undefined) return updateErr(`stream configuration for subject transform from '${subjectToText(st.src)}' to '${subjectToText(st.dest)}': ${subjectToText(e)}`);
  }
  return { config: c };
}

function mirrorsEqual(a: StreamSource | undefined, b: StreamSource | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(normalizeSource(a)) === JSON.stringify(normalizeSource(b));
}

/** A source with its keys in one order, for reflect.DeepEqual-like comparison. */
function normalizeSource(s: StreamSource): unknown[] {
  return [
    s.name,
    s.opt_start_seq,
    s.opt_start_time ?? null,
    s.filter_subject,
    s.subject_transforms === undefined ? null : s.subject_transforms.map((t) => [t.src, t.dest]),
    s.external === undefined ? null : [s.external.api, s.external.deliver],
  ];
}
