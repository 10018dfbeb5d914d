/**
 * The wire forms of mirrors and sources (nats-server v2.10.29 stream.go, events.go,
 * jetstream_cluster.go): the CONSUMER.CREATE request of an origin's internal consumer and its
 * subjects (API and deliver prefixes), the index name of a source (composeIName), the
 * `Nats-Stream-Source` header (genSourceHeader, and streamAndSeq reading back every version of
 * it), the name hash (getHash), the random subject suffix (syncSubject). Pure; used by
 * sourcing.ts and the config checks.
 */
import { randomInt } from 'node:crypto';
import { getHash } from '../broker/ids.js';
import type { InternalMessage } from '../broker/internal.js';
import { goJson } from '../protocol/go-format.js';
import { subjectFromText, subjectToText } from '../protocol/text.js';
import { goSubject } from './json.js';
import type { StreamSource } from './stream-config.js';

/** stream.go sourceHealthHB (ns). The health check interval, also the inactive threshold, is `SourceTiming`'s. */
export const HEALTH_HB_NS = 1_000_000_000;
/** The 22 hours of ack wait nats-server asks for (ns). */
const ACK_WAIT_NS = 22 * 3600 * 1_000_000_000;

export const HDR_STREAM_SOURCE = 'Nats-Stream-Source';
/** infoReplySubject's prefix: the reply subject of the consumer create requests. */
export const INTERNAL_REPLY_PREFIX = '$JSC.R.';
const CONTROL_PREFIX = 'NATS/1.0 100 ';
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export { getHash };

/** jetstream_cluster.go syncSubject: `pre` and 8 random base-62 characters. */
export function syncSubject(pre: string): string {
  let out = `${pre}.`;
  for (let i = 0; i < 8; i++) out += DIGITS[randomInt(62)];
  return out;
}

/** Integer nanoseconds in decimal (an ack reply's time) as epoch ms with a fraction. */
export function nsToMs(ns: string): number {
  if (ns.length <= 6) return Number(ns) / 1e6;
  return Number(ns.slice(0, -6)) + Number(ns.slice(-6)) / 1e6;
}

/**
 * StreamSource.composeIName: name (`:<hash of the API prefix>` when external), filters,
 * destinations; a byte string, as the `Nats-Stream-Source` header carries it.
 */
export function sourceIndexName(s: StreamSource): string {
  let iname = subjectFromText(s.name);
  if (s.external !== undefined) iname += `:${getHash(s.external.api)}`;
  let source = s.filter_subject;
  let dest = '>';
  const trs = s.subject_transforms ?? [];
  if (trs.length === 0) {
    if (source === '') source = '>';
  } else {
    source = trs.map((t) => (t.src === '' ? '>' : t.src)).join('\f');
    dest = trs.map((t) => (t.dest === '' ? '>' : t.dest)).join('\f');
  }
  return `${iname} ${source} ${dest}`;
}

/**
 * stream.go streamAndSeq: the stream name, index name ('' for the pre-2.10 forms) and origin
 * sequence of a `Nats-Stream-Source` value.
 */
export function streamAndSeq(v: string): { stream: string; iname: string; seq: number } {
  const none = { stream: '', iname: '', seq: 0 };
  if (v.startsWith('$JS.ACK.')) {
    const t = v.split('.');
    if (t.length !== 9) return none;
    return { stream: t[2]!, iname: '', seq: ackNumber(t[5]!) };
  }
  const f = v.split(' ');
  if (f.length !== 2 && f.length <= 3) return none;
  if (f.length >= 4) return { stream: f[0]!, iname: `${f[0]} ${f[2]} ${f[3]}`, seq: ackNumber(f[1]!) };
  return { stream: f[0]!, iname: '', seq: ackNumber(f[1]!) };
}

function ackNumber(s: string): number {
  return /^\d{1,16}$/.test(s) ? Number(s) : 0;
}

/** The parsed CONSUMER.CREATE answer: what setup needs. */
export interface CreateAnswer {
  error?: unknown;
  name?: unknown;
  delivered?: { stream_seq?: unknown };
}

/** A consumer create request's config, in Go's field order (ConsumerConfig). */
export interface ConsumerRequest {
  name?: string;
  deliver_policy: 'all' | 'by_start_sequence' | 'by_start_time';
  opt_start_seq?: number;
  opt_start_time?: string;
  filter_subject?: string;
  filter_subjects?: string[];
  deliver_subject: string;
}

/** The request body; `inactiveMs`: the consumer's inactive threshold (the health check interval). */
export function createRequest(stream: string, c: ConsumerRequest, inactiveMs: number): string {
  const f: string[] = [];
  if (c.name !== undefined) f.push(`"name":${goJson(c.name, false)}`);
  f.push(`"deliver_policy":"${c.deliver_policy}"`);
  if (c.opt_start_seq !== undefined && c.opt_start_seq > 0) f.push(`"opt_start_seq":${c.opt_start_seq}`);
  if (c.opt_start_time !== undefined) f.push(`"opt_start_time":${goJson(c.opt_start_time, false)}`);
  f.push('"ack_policy":"none"', `"ack_wait":${ACK_WAIT_NS}`, '"max_deliver":1');
  if (c.filter_subject !== undefined && c.filter_subject !== '') f.push(`"filter_subject":${goSubject(c.filter_subject)}`);
  f.push('"replay_policy":"instant"');
  f.push(`"deliver_subject":${goSubject(c.deliver_subject)}`);
  f.push('"flow_control":true', `"idle_heartbeat":${HEALTH_HB_NS}`, '"direct":true');
  f.push(`"inactive_threshold":${inactiveMs * 1_000_000}`);
  if (c.filter_subjects !== undefined && c.filter_subjects.length > 0) f.push(`"filter_subjects":${goJson(c.filter_subjects.map(subjectToText), false)}`);
  return `{"stream_name":${goJson(stream, false)},"config":{${f.join(',')}}}`;
}

/** An API subject under the origin's API prefix (external.api replaces `$JS.API`). */
export function apiSubject(subject: string, s: StreamSource): string {
  if (s.external === undefined) return subject;
  return subject.replace('$JS.API', s.external.api).split('..').join('.');
}

export function deliverSubject(s: StreamSource, kind: 'M' | 'S'): string {
  const pfx = s.external?.deliver ?? '';
  if (pfx !== '') return syncSubject(`${pfx}.${kind}`).split('..').join('.');
  return syncSubject(`$JS.${kind}`);
}

export function isControl(msg: InternalMessage): boolean {
  const h = msg.headers;
  return msg.data.length === 0 && h !== null && h.length > CONTROL_PREFIX.length && h.toString('latin1', 0, CONTROL_PREFIX.length) === CONTROL_PREFIX;
}

/** The header block without `name` lines and lines starting with `prefix` (null when nothing is left). */
export function stripHeaders(hdr: Buffer, name: string, prefix: string): string {
  const text = hdr.toString('latin1');
  const lines = text.split('\r\n');
  const out: string[] = [lines[0]!];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === '') continue;
    const colon = l.indexOf(':');
    const key = colon < 0 ? l : l.slice(0, colon);
    if (key === name || key.startsWith(prefix)) continue;
    out.push(l);
  }
  return out.join('\r\n');
}

