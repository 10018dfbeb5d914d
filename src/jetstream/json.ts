/**
 * Go `encoding/json` output for the values JetStream's API writes: integers of a given Go type
 * (int64 and uint64 values written in full, never in exponent form), strings with Go's
 * HTML-safe escaping, and `time.Time` in RFC 3339 (strict parse, canonical re-format), as
 * nats-server 2.10 reads and writes them.
 */
import { goJson } from '../protocol/go-format.js';
import { GO_JSON_ERROR, type GoSchema } from '../protocol/go-json.js';
import { subjectFromText, subjectToText } from '../protocol/text.js';

/** Go integer types that JetStream's structs use. */
export type GoIntType = 'int' | 'int32' | 'int64' | 'uint64';

const RANGES: Readonly<Record<GoIntType, readonly [bigint, bigint]>> = {
  int: [-(2n ** 63n), 2n ** 63n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/**
 * An integer as Go writes a field of type `type`. Config values are JS numbers, so an int64
 * beyond 2^53 arrives rounded; the value is clamped to the type's range so that the extremes
 * clients actually send (math.MaxInt64 rounds to 2^63) are written back exactly and stay
 * decodable by a Go client.
 */
export function goInt(n: number, type: GoIntType): string {
  const [min, max] = RANGES[type];
  let v = BigInt(Number.isFinite(n) ? Math.trunc(n) : 0);
  if (v < min) v = min;
  if (v > max) v = max;
  return v.toString();
}

/** A JSON string as Go writes it (`<`, `>`, `&`, U+2028 and U+2029 escaped). */
export function goString(s: string): string {
  return goJson(s, false);
}

/**
 * A Go `string` field that holds a subject (a filter, a transform's source or destination, a
 * deliver subject or group, an API prefix): decoded as Go decodes a string, then kept as the
 * broker's byte string (protocol/text.ts), so it is compared and matched with wire subjects as
 * is. Converted once, when a request or a stored config is decoded.
 */
export const GO_SUBJECT: GoSchema = {
  kind: 'unmarshaler',
  zero: '',
  unmarshal: (raw, current) => {
    if (raw === 'null') return current;
    if (raw.charCodeAt(0) !== 0x22) return GO_JSON_ERROR;
    return subjectFromText(JSON.parse(raw) as string);
  },
};

/** A `[]string` of subjects (see {@link GO_SUBJECT}). */
export const GO_SUBJECTS: GoSchema = { kind: 'slice', elem: GO_SUBJECT };

/** A byte-string subject as a JSON string, as Go writes it (see protocol/text.ts). */
export function goSubject(s: string): string {
  return goJson(subjectToText(s), false);
}

/** omitempty for a subject: '' is left out. */
export const goOptSubject = (s: string): string | undefined => (s === '' ? undefined : goSubject(s));

/** A JSON object key and colon. */
export function goKey(k: string): string {
  return `${goString(k)}:`;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const DAYS_IN = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Parses `s` as an unsigned decimal within [min, max]; NaN when it is not one. */
function num(s: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(s)) return NaN;
  const n = Number(s);
  return n < min || n > max ? NaN : n;
}

/**
 * `time.Time.UnmarshalJSON` then `MarshalJSON` (Go 1.23): the raw JSON text must be a string
 * literal whose bytes, not unescaped, are strict RFC 3339 (`2006-01-02T15:04:05[.frac](Z|±hh:mm)`,
 * dates checked against the calendar); returns the time as Go writes it back (RFC3339Nano: the
 * same wall clock, the fraction cut to 9 digits and its trailing zeros dropped, `Z` for a
 * zero offset), or undefined where Go fails.
 */
export function goTimeFromJson(raw: string): string | undefined {
  if (raw.length < 2 || raw[0] !== '"' || raw[raw.length - 1] !== '"') return undefined;
  const s = raw.slice(1, -1);
  if (s.length < 19) return undefined;
  const year = num(s.slice(0, 4), 0, 9999);
  const month = num(s.slice(5, 7), 1, 12);
  const dim = month === 2 && isLeap(year) ? 29 : DAYS_IN[month - 1];
  const day = num(s.slice(8, 10), 1, dim ?? 31);
  const hour = num(s.slice(11, 13), 0, 23);
  const min = num(s.slice(14, 16), 0, 59);
  const sec = num(s.slice(17, 19), 0, 59);
  if ([year, month, day, hour, min, sec].some(Number.isNaN)) return undefined;
  if (s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':') return undefined;
  let rest = s.slice(19);
  let frac = '';
  const m = /^\.([0-9]+)/.exec(rest);
  if (m) {
    frac = m[1].slice(0, 9).replace(/0+$/, '');
    rest = rest.slice(m[0].length);
  }
  let zone: string;
  if (rest === 'Z') {
    zone = 'Z';
  } else {
    if (rest.length !== 6 || (rest[0] !== '+' && rest[0] !== '-') || rest[3] !== ':') return undefined;
    const zh = num(rest.slice(1, 3), 0, 23);
    const zm = num(rest.slice(4, 6), 0, 59);
    if (Number.isNaN(zh) || Number.isNaN(zm)) return undefined;
    zone = zh === 0 && zm === 0 ? 'Z' : rest;
  }
  return `${s.slice(0, 19)}${frac === '' ? '' : `.${frac}`}${zone}`;
}

/**
 * Go's `reflect.DeepEqual` of two decoded configs: nil and empty slices or maps differ (absent
 * and `[]` are not equal), map order does not matter.
 */
export function goDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => goDeepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!goDeepEqual(ao[k], bo[k])) return false;
  return true;
}

// ---- Encoding a Go struct's JSON (the stream and consumer configs) ----

/** Writes `"key":value` pairs into an object; `undefined` values (omitempty) are left out. */
export function goObject(pairs: ReadonlyArray<readonly [string, string | undefined]>): string {
  const parts: string[] = [];
  for (const [k, v] of pairs) if (v !== undefined) parts.push(`${goKey(k)}${v}`);
  return `{${parts.join(',')}}`;
}

/** omitempty for a string: '' is left out. */
export const goOptString = (s: string): string | undefined => (s === '' ? undefined : goString(s));
/** omitempty for a bool: false is left out. */
export const goOptBool = (b: boolean): string | undefined => (b ? 'true' : undefined);
/** omitempty for an integer: 0 is left out. */
export const goOptInt = (n: number, t: GoIntType): string | undefined => (n === 0 ? undefined : goInt(n, t));
/** omitempty for a slice: nil and empty are both left out. */
export const goOptSlice = <T>(a: readonly T[] | undefined, enc: (v: T) => string): string | undefined =>
  a === undefined || a.length === 0 ? undefined : `[${a.map(enc).join(',')}]`;

/** Go's map[string]string encoding: keys sorted by their UTF-8 bytes; omitempty leaves out nil and empty. */
export function goStringMap(m: Readonly<Record<string, string>> | undefined): string | undefined {
  if (m === undefined) return undefined;
  const keys = Object.keys(m).sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  if (keys.length === 0) return undefined;
  return `{${keys.map((k) => `${goKey(k)}${goString(m[k]!)}`).join(',')}}`;
}
