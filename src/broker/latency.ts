/**
 * Service latency tracking, the pure parts (nats-server v2.10.29 server/accounts.go
 * shouldSample, ServiceLatency, sanitizeLatencyMetric, merge; client.go trackRemoteReply;
 * events.go remoteLatencyUpdate): whether a request is sampled, and the JSON of a measurement.
 * imports.ts decides when one is sent; nothing here runs for an export without `latency`.
 *
 * A measurement (`io.nats.server.metric.v1.service_latency`) is published in the exporting
 * account on the export's results subject: status 200 with the requestor's and the responder's
 * client info once the response reached the requester, or an error status when none did (400
 * a request without a reply subject, 408 the requester's interest went away, 503 nobody took
 * the request, 504 the response threshold passed).
 */
import type { PubArg } from '../protocol/parser.js';
import { rfc3339Nano } from '../protocol/go-format.js';

/** nats-server's ServiceLatencyType. */
export const SERVICE_LATENCY_TYPE = 'io.nats.server.metric.v1.service_latency';

/** An export's latency tracking at run time (nats-server's serviceLatency). */
export interface LatencyRule {
  /** Percent sampled (1-100), or 0: only requests whose tracing headers ask for it. */
  readonly sampling: number;
  /** The results subject in the exporting account. */
  readonly subject: string;
}

/** The tracing headers that triggered a measurement (Go's http.Header: canonical key → values). */
export type TraceHeader = Record<string, string[]>;

/** {@link shouldSample}'s answer for a request sampled by the rate (no header to report). */
export const SAMPLED: TraceHeader = Object.freeze({}) as TraceHeader;

const UBER = 'Uber-Trace-Id';
const UBER_CTX_PREFIX = 'Uberctx-';
const TRACEPARENT = 'Traceparent';
const TRACESTATE = 'Tracestate';
const B3 = 'B3';
const B3_SAMPLED = 'X-B3-Sampled';
// Go's canonical forms of X-B3-TraceId, X-B3-ParentSpanId, X-B3-SpanId.
const B3_TRACE_ID = 'X-B3-Traceid';
const B3_PARENT_SPAN_ID = 'X-B3-Parentspanid';
const B3_SPAN_ID = 'X-B3-Spanid';

/**
 * Go's textproto.CanonicalMIMEHeaderKey: the first letter and each letter after a `-` upper
 * case, the others lower case; a key with a character outside token characters is kept as is.
 */
export function canonicalHeaderKey(key: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return key;
  let out = '';
  let upper = true;
  for (const ch of key) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

/**
 * The header block of a message (`NATS/1.0\r\nKey: value\r\n...`) by canonical key, values
 * trimmed (textproto's ReadMIMEHeader: a malformed line makes it fail, then there are none).
 */
export function parseHeaders(block: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const lines = block.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) return new Map();
    const key = canonicalHeaderKey(line.slice(0, colon));
    const value = line.slice(colon + 1).trim();
    const list = out.get(key);
    if (list === undefined) out.set(key, [value]);
    else list.push(value);
  }
  return out;
}

/** The given keys of `h` that are present, as a TraceHeader with keys in Go's JSON order (sorted). */
function pick(h: Map<string, string[]>, keys: readonly string[]): TraceHeader {
  const out: TraceHeader = {};
  for (const k of [...keys].sort()) {
    const v = h.get(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * nats-server's shouldSample: null when the request is not measured; {@link SAMPLED} when the
 * rate picked it; else the tracing headers that asked for it. A rate below 100 draws as
 * nats-server does (`rand.Int31n(100) <= sampling`), then looks at the headers.
 */
export function shouldSample(l: LatencyRule, pa: PubArg, buf: Buffer, start: number, random: () => number = Math.random): TraceHeader | null {
  if (l.sampling >= 100) return SAMPLED;
  if (l.sampling > 0 && Math.floor(random() * 100) <= l.sampling) return SAMPLED;
  if (pa.hdr <= 0) return null;
  return sampleByHeaders(parseHeaders(buf.toString('latin1', start, start + pa.hdr)));
}

/** The header part of shouldSample. */
export function sampleByHeaders(h: Map<string, string[]>): TraceHeader | null {
  if (h.size === 0) return null;
  const uber = h.get(UBER);
  if (uber !== undefined && uber.length > 0) {
    // `<trace>:<span>:<parent>:<flags>`: sampled when the flags byte (1 or 2 hex digits) is odd.
    const tk = uber[0]!.split(':');
    const flags = tk[3];
    if (tk.length === 4 && flags !== undefined && flags.length > 0 && flags.length <= 2 && /^[0-9a-fA-F]+$/.test(flags) && (parseInt(flags, 16) & 1) === 1) {
      const keys = [UBER, ...[...h.keys()].filter((k) => k.startsWith(UBER_CTX_PREFIX))];
      return pick(h, keys);
    }
    return null;
  }
  const sampled = h.get(B3_SAMPLED);
  if (sampled !== undefined && sampled.length > 0 && sampled[0] === '1') return pick(h, [B3_SAMPLED, B3_TRACE_ID, B3_PARENT_SPAN_ID, B3_SPAN_ID]);
  if (sampled !== undefined && sampled.length > 0 && sampled[0] === '0') return null;
  if (h.has(B3_TRACE_ID)) return pick(h, [B3_SAMPLED, B3_TRACE_ID, B3_PARENT_SPAN_ID, B3_SPAN_ID]);
  const b3 = h.get(B3);
  if (b3 !== undefined && b3.length > 0) {
    const tk = b3[0]!.split('-');
    if ((tk.length > 2 && tk[2] === '0') || (tk.length === 1 && tk[0] === '0')) return null;
    return { [B3]: b3 };
  }
  const tp = h.get(TRACEPARENT);
  if (tp !== undefined && tp.length > 0) {
    const tk = tp[0]!.split('-');
    return tk.length === 4 && tk[3] === '01' ? pick(h, [TRACEPARENT, TRACESTATE]) : null;
  }
  return null;
}

/** A measurement (nats-server's ServiceLatency), durations in nanoseconds. */
export interface ServiceLatency {
  status: number;
  description: string;
  requestor: Record<string, unknown> | null;
  responder: Record<string, unknown> | null;
  header: TraceHeader | null;
  /** Epoch ms (with a fraction) the request started, the requester's RTT before it reached the server. */
  startMs: number;
  serviceNs: number;
  systemNs: number;
  totalNs: number;
}

/** An empty measurement with a status. */
export function newLatency(status: number, description: string): ServiceLatency {
  return { status, description, requestor: null, responder: null, header: null, startMs: 0, serviceNs: 0, systemNs: 0, totalNs: 0 };
}

/** sanitizeLatencyMetric: estimated RTTs may make a part negative; it is then 0. */
export function sanitize(sl: ServiceLatency): void {
  if (sl.serviceNs < 0) sl.serviceNs = 0;
  if (sl.systemNs < 0) sl.systemNs = 0;
}

/** The RTT in a client info (0 when it has none). */
export function rttOf(ci: Record<string, unknown> | null): number {
  const r = ci?.rtt;
  return typeof r === 'number' ? r : 0;
}

/**
 * ServiceLatency.merge: `m1` (the requester's server: total correct) with `m2` (the responder's
 * server: service time and responder correct) when they are on different servers.
 */
export function merge(m1: ServiceLatency, m2: ServiceLatency): void {
  m1.systemNs = m1.serviceNs - (m2.serviceNs + rttOf(m2.responder));
  m1.serviceNs = m2.serviceNs;
  m1.responder = m2.responder;
  sanitize(m1);
}

/** The JSON object of a measurement, fields in Go's order (`omitempty` ones left out when empty). */
export function latencyJson(sl: ServiceLatency, id: string, nowMs: number): Record<string, unknown> {
  return {
    type: SERVICE_LATENCY_TYPE,
    id,
    timestamp: rfc3339Nano(nowMs),
    status: sl.status,
    ...(sl.description !== '' ? { description: sl.description } : {}),
    ...(sl.requestor !== null ? { requestor: sl.requestor } : {}),
    ...(sl.responder !== null ? { responder: sl.responder } : {}),
    ...(sl.header !== null && Object.keys(sl.header).length > 0 ? { header: sl.header } : {}),
    start: rfc3339Nano(sl.startMs),
    service: Math.round(sl.serviceNs),
    system: Math.round(sl.systemNs),
    total: Math.round(sl.totalNs),
  };
}

/** A ServiceLatency decoded from JSON (a remote measurement's `m2`), or null. */
export function latencyFromJson(v: unknown): ServiceLatency | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const num = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
  const ci = (x: unknown): Record<string, unknown> | null => (x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null);
  const start = typeof o.start === 'string' ? Date.parse(o.start) : NaN;
  return {
    status: num(o.status),
    description: typeof o.description === 'string' ? o.description : '',
    requestor: ci(o.requestor),
    responder: ci(o.responder),
    header: null,
    startMs: Number.isNaN(start) ? 0 : start,
    serviceNs: num(o.service),
    systemNs: num(o.system),
    totalNs: num(o.total),
  };
}
