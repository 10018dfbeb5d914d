/**
 * Go's text formats as nats-server's monitoring endpoints produce them: `time.Duration`'s
 * `String()`, nats-server's `myUptime`, RFC3339Nano times, `encoding/json`'s output, and the
 * `strconv` parsers (with their error texts) used to decode query parameters.
 */

const NS_PER_US = 1_000n;
const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/**
 * Go's `time.Duration.String()`: `"0s"`, `"1ns"`, `"262µs"`, `"1.5ms"`, `"45s"`,
 * `"1m2.5s"`, `"72h3m0.5s"`. `ns` is an integer number of nanoseconds.
 */
export function goDuration(ns: number | bigint): string {
  let u = typeof ns === 'bigint' ? ns : BigInt(Math.trunc(ns));
  const neg = u < 0n;
  if (neg) u = -u;
  let out: string;
  if (u < NS_PER_S) {
    if (u === 0n) return '0s';
    if (u < NS_PER_US) out = `${u}ns`;
    else if (u < NS_PER_MS) out = `${fmtFrac(u, 3)}µs`;
    else out = `${fmtFrac(u, 6)}ms`;
  } else {
    const secs = u / NS_PER_S;
    const frac = fracDigits(u % NS_PER_S, 9);
    out = `${secs % 60n}${frac}s`;
    const mins = secs / 60n;
    if (mins > 0n) {
      out = `${mins % 60n}m${out}`;
      const hours = mins / 60n;
      if (hours > 0n) out = `${hours}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

/** `v / 10^prec` with the fraction's trailing zeros (and a bare point) dropped. */
function fmtFrac(v: bigint, prec: number): string {
  const div = 10n ** BigInt(prec);
  return `${v / div}${fracDigits(v % div, prec)}`;
}

function fracDigits(rem: bigint, prec: number): string {
  if (rem === 0n) return '';
  return `.${rem.toString().padStart(prec, '0').replace(/0+$/, '')}`;
}

/**
 * nats-server's `myUptime`: whole seconds, with minutes, hours, days and years spelled out
 * (`"0s"`, `"45s"`, `"1m2s"`, `"3h0m5s"`, `"2d1h0m0s"`, `"1y2d0h0m0s"`). `ms` is milliseconds.
 */
export function goUptime(ms: number): string {
  const tsecs = Math.max(0, Math.floor(ms / 1000));
  const tmins = Math.floor(tsecs / 60);
  const thrs = Math.floor(tmins / 60);
  const tdays = Math.floor(thrs / 24);
  const tyrs = Math.floor(tdays / 365);
  if (tyrs > 0) return `${tyrs}y${tdays % 365}d${thrs % 24}h${tmins % 60}m${tsecs % 60}s`;
  if (tdays > 0) return `${tdays}d${thrs % 24}h${tmins % 60}m${tsecs % 60}s`;
  if (thrs > 0) return `${thrs}h${tmins % 60}m${tsecs % 60}s`;
  if (tmins > 0) return `${tmins}m${tsecs % 60}s`;
  return `${tsecs}s`;
}

/**
 * A time as Go marshals `time.Time` in UTC (RFC3339Nano: trailing fraction zeros dropped).
 * `ms` may carry a fraction (JetStream's message times): its digits become the nanoseconds.
 */
export function rfc3339Nano(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // 2026-01-02T03:04:05.678Z
  const dot = iso.indexOf('.');
  // Nanoseconds within the second: the millisecond digits plus the fraction's six.
  const ns = (whole % 1000 + 1000) % 1000 * 1e6 + Math.min(999_999, Math.round((ms - whole) * 1e6));
  const frac = String(ns).padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, dot)}${frac === '' ? '' : `.${frac}`}Z`;
}

/** The whole second {@link writeRfc3339Nano} last formatted, and its date and time text. */
let rfcSecond = NaN;
let rfcSecondText = '';

/**
 * {@link rfc3339Nano} written into `buf` at `off` (latin1; at most 31 bytes for years up to
 * 9999): returns the offset after it. No string per call: the date and time of the second are
 * kept from the previous call when it fell in the same second, the fraction is written digit by
 * digit. For hot paths (a direct get's `Nats-Time-Stamp`).
 */
export function writeRfc3339Nano(buf: Buffer, off: number, ms: number): number {
  const whole = Math.floor(ms);
  const sec = Math.floor(whole / 1000);
  if (sec !== rfcSecond) {
    const iso = new Date(sec * 1000).toISOString();
    rfcSecondText = iso.slice(0, iso.indexOf('.'));
    rfcSecond = sec;
  }
  off += buf.write(rfcSecondText, off, 'latin1');
  let ns = (whole % 1000 + 1000) % 1000 * 1e6 + Math.min(999_999, Math.round((ms - whole) * 1e6));
  if (ns !== 0) {
    let digits = 9;
    while (ns % 10 === 0) {
      ns /= 10;
      digits--;
    }
    buf[off] = 0x2e; // '.'
    for (let i = digits; i > 0; i--) {
      buf[off + i] = 0x30 + (ns % 10);
      ns = Math.floor(ns / 10);
    }
    off += digits + 1;
  }
  buf[off] = 0x5a; // 'Z'
  return off + 1;
}

/**
 * `json.MarshalIndent(v, "", "  ")` (or `json.Marshal` when `indent` is false) of a value
 * built with Go's key order: 2-space indent, and Go's HTML-safe escaping of `<`, `>`, `&`,
 * U+2028 and U+2029 inside strings.
 */
export function goJson(value: unknown, indent = true): string {
  return goEscape(indent ? JSON.stringify(value, null, 2) : JSON.stringify(value));
}

/**
 * Go's `json.Indent(dst, src, "", "  ")`: compact JSON text laid out as `json.MarshalIndent`
 * writes it (one element per line, `"key": value`, empty objects and arrays kept as `{}` and
 * `[]`). For documents holding pre-encoded fragments or integers beyond 2^53, which
 * `JSON.stringify` cannot write.
 */
export function goIndent(compact: string): string {
  let out = '';
  let depth = 0;
  let inString = false;
  let newline = false; // a line break is due before the next value or closing bracket
  const nl = (): string => `\n${'  '.repeat(depth)}`;
  for (let i = 0; i < compact.length; i++) {
    const c = compact[i];
    if (inString) {
      out += c;
      if (c === '\\') out += compact[++i];
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (newline && c !== ']' && c !== '}') {
      out += nl();
      newline = false;
    }
    switch (c) {
      case '{':
      case '[':
        out += c;
        depth++;
        newline = true;
        break;
      case '}':
      case ']':
        depth--;
        // An empty object or array stays on its line.
        if (newline) newline = false;
        else out += nl();
        out += c;
        break;
      case ',':
        out += c;
        newline = true;
        break;
      case ':':
        out += ': ';
        break;
      case '"':
        inString = true;
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

function goEscape(json: string): string {
  // These characters only occur inside strings in JSON text, so a global replace is exact.
  return json.replace(/[<>&\u2028\u2029]/g, (c) => GO_ESCAPES[c]);
}

/** Go's `%q` / `strconv.Quote` of a string (enough for the texts of query parameters). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"': out += '\\"'; continue;
      case '\\': out += '\\\\'; continue;
      case '\x07': out += '\\a'; continue;
      case '\b': out += '\\b'; continue;
      case '\f': out += '\\f'; continue;
      case '\n': out += '\\n'; continue;
      case '\r': out += '\\r'; continue;
      case '\t': out += '\\t'; continue;
      case '\v': out += '\\v'; continue;
      default: break;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** The outcome of parsing a query value: the value, or Go's error text. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const BOOL_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** `strconv.ParseBool`. */
export function parseGoBool(s: string): Parsed<boolean> {
  if (BOOL_TRUE.has(s)) return { ok: true, value: true };
  if (BOOL_FALSE.has(s)) return { ok: true, value: false };
  return { ok: false, error: `strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax` };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** `strconv.Atoi` (64-bit `int`). */
export function parseGoInt(s: string): Parsed<number> {
  if (!/^[+-]?[0-9]+$/.test(s)) return { ok: false, error: `strconv.Atoi: parsing ${goQuote(s)}: invalid syntax` };
  const v = BigInt(s);
  if (v < INT64_MIN || v > INT64_MAX) return { ok: false, error: `strconv.Atoi: parsing ${goQuote(s)}: value out of range` };
  return { ok: true, value: Number(v) };
}

/** `strconv.ParseUint(s, 10, 64)`. */
export function parseGoUint(s: string): Parsed<number> {
  if (!/^[0-9]+$/.test(s)) return { ok: false, error: `strconv.ParseUint: parsing ${goQuote(s)}: invalid syntax` };
  const v = BigInt(s);
  if (v > UINT64_MAX) return { ok: false, error: `strconv.ParseUint: parsing ${goQuote(s)}: value out of range` };
  return { ok: true, value: Number(v) };
}
