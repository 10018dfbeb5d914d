/**
 * The two forms of a subject, and the conversions at the boundary between them.
 *
 * Inside the broker a subject (and a queue group, a reply subject, a sid, a subject filter, a
 * transform's source and destination) is a byte string: latin1, one char per wire byte, as the
 * parser reads it (see subject/subject.ts). Text that comes from JSON or a config (a JetStream
 * API body, a stored `meta.json`, a conf file, `createServer` options, a monitoring query) is
 * Unicode. nats-server compares bytes only, so a subject taken from text is converted once with
 * {@link subjectFromText} (its UTF-8 bytes) where it is decoded — never per message — and
 * converted back with {@link subjectToText} where it is written as JSON or handed to user code.
 * Invalid UTF-8 becomes U+FFFD, one per bad byte, as Go's encoding/json writes it; in a `%q`
 * text (an -ERR) each bad byte is `\xNN`, as Go's strconv.Quote writes it ({@link goQuoteBytes}).
 */
import { isUtf8 } from 'node:buffer';

/** The byte string (latin1) of a Unicode subject: its UTF-8 bytes, one char each. ASCII is returned as is. */
export function subjectFromText(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return Buffer.from(text, 'utf8').toString('latin1');
  }
  return text;
}

/**
 * The Unicode text of a byte-string subject, as Go's encoding/json writes a string: valid UTF-8
 * is decoded, every byte that does not start a valid sequence is U+FFFD (utf8.DecodeRune's
 * RuneError of width 1; Node's decoder replaces maximal subparts instead). ASCII is returned as is.
 */
export function subjectToText(bytes: string): string {
  let i = 0;
  while (i < bytes.length && bytes.charCodeAt(i) < 0x80) i++;
  if (i === bytes.length) return bytes;
  const buf = Buffer.from(bytes, 'latin1');
  if (isUtf8(buf)) return buf.toString('utf8');
  let out = bytes.slice(0, i);
  while (i < bytes.length) {
    const w = runeWidth(bytes, i);
    out += w === 0 ? '\ufffd' : String.fromCodePoint(runeAt(bytes, i, w));
    i += w === 0 ? 1 : w;
  }
  return out;
}

/**
 * Any other byte string as Go reads it into a string from JSON (a CONNECT line, as the parser
 * hands it over): the same conversion.
 */
export const bytesToText: (bytes: string) => string = subjectToText;

/** Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SHORT_ESCAPES: Readonly<Record<number, string>> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };
const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');

/**
 * Go's `%q` (strconv.Quote) of a byte string, as a byte string: printable characters stay as
 * their bytes, `"` and `\` are escaped, control characters are `\a`…`\v` or `\xNN`, other
 * unprintable ones `\uNNNN` / `\UNNNNNNNN`, and each byte of invalid UTF-8 `\xNN`.
 */
export function goQuoteBytes(bytes: string): string {
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes.charCodeAt(i);
    if (b >= 0x20 && b < 0x7f) {
      out += b === 0x22 || b === 0x5c ? `\\${bytes[i]}` : bytes[i];
      i++;
      continue;
    }
    const w = runeWidth(bytes, i);
    if (w === 0) {
      out += `\\x${hex(b, 2)}`;
      i++;
      continue;
    }
    const cp = runeAt(bytes, i, w);
    if (cp >= 0x80 && PRINTABLE.test(String.fromCodePoint(cp))) out += bytes.slice(i, i + w);
    else if (SHORT_ESCAPES[cp] !== undefined) out += SHORT_ESCAPES[cp];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
    i += w;
  }
  return `${out}"`;
}

/** The code point of the valid `w`-byte sequence at `i`. */
function runeAt(s: string, i: number, w: number): number {
  const b = s.charCodeAt(i);
  const c = (k: number): number => s.charCodeAt(i + k) & 0x3f;
  if (w === 1) return b;
  if (w === 2) return ((b & 0x1f) << 6) | c(1);
  if (w === 3) return ((b & 0x0f) << 12) | (c(1) << 6) | c(2);
  return ((b & 0x07) << 18) | (c(1) << 12) | (c(2) << 6) | c(3);
}

const cont = (s: string, i: number): boolean => {
  const b = s.charCodeAt(i);
  return b >= 0x80 && b <= 0xbf;
};

/** The length of the valid UTF-8 sequence at `i` of a byte string (Go's first/accept ranges), 0 when there is none. */
function runeWidth(s: string, i: number): number {
  const b = s.charCodeAt(i);
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return cont(s, i + 1) ? 2 : 0;
  const b1 = s.charCodeAt(i + 1);
  if (b >= 0xe0 && b <= 0xef) {
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return b1 >= lo && b1 <= hi && cont(s, i + 2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return b1 >= lo && b1 <= hi && cont(s, i + 2) && cont(s, i + 3) ? 4 : 0;
  }
  return 0;
}
