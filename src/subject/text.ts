/**
 * The two forms of a subject, and the conversions at the boundary between them.
 *
 * Inside the broker a subject (and a queue group, a reply subject, a subject filter, a
 * transform's source and destination) is a byte string: latin1, one char per wire byte, as the
 * parser reads it (see subject.ts). Text that comes from JSON or a config (a JetStream API body,
 * a stored `meta.json`, a conf file, `createServer` options) is Unicode. nats-server compares
 * bytes only, so a subject taken from text is converted once with {@link subjectFromText} (its
 * UTF-8 bytes) where it is decoded — never per message — and converted back with
 * {@link subjectToText} where it is written as JSON. Invalid UTF-8 written as JSON becomes
 * U+FFFD, one per bad byte, as Go's encoding/json writes it.
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
 * RuneError of width 1). ASCII is returned as is.
 */
export function subjectToText(bytes: string): string {
  let i = 0;
  while (i < bytes.length && bytes.charCodeAt(i) < 0x80) i++;
  if (i === bytes.length) return bytes;
  const buf = Buffer.from(bytes, 'latin1');
  if (isUtf8(buf)) return buf.toString('utf8');
  return goDecode(buf);
}

/** The subjects of a list, as text (a fresh array). */
export function subjectsToText(list: readonly string[]): string[] {
  return list.map(subjectToText);
}

const REPLACEMENT = 0xfffd;
const cont = (b: number | undefined): boolean => b !== undefined && b >= 0x80 && b <= 0xbf;

/** Go's utf8.DecodeRune over `buf`, rune by rune (Node's decoder replaces maximal subparts instead). */
function goDecode(buf: Buffer): string {
  const out: number[] = [];
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    const n = runeLength(buf, i, b);
    if (n === 0) {
      out.push(REPLACEMENT);
      i++;
      continue;
    }
    let cp: number;
    if (n === 1) cp = b;
    else if (n === 2) cp = ((b & 0x1f) << 6) | (buf[i + 1]! & 0x3f);
    else if (n === 3) cp = ((b & 0x0f) << 12) | ((buf[i + 1]! & 0x3f) << 6) | (buf[i + 2]! & 0x3f);
    else cp = ((b & 0x07) << 18) | ((buf[i + 1]! & 0x3f) << 12) | ((buf[i + 2]! & 0x3f) << 6) | (buf[i + 3]! & 0x3f);
    out.push(cp);
    i += n;
  }
  let s = '';
  for (const cp of out) s += String.fromCodePoint(cp);
  return s;
}

/** The length of the valid UTF-8 sequence at `i` (Go's first/accept ranges), 0 when there is none. */
function runeLength(buf: Buffer, i: number, b: number): number {
  if (b < 0x80) return 1;
  const b1 = buf[i + 1];
  if (b >= 0xc2 && b <= 0xdf) return cont(b1) ? 2 : 0;
  const b2 = buf[i + 2];
  if (b >= 0xe0 && b <= 0xef) {
    const lo = b === 0xe0 ? 0xa0 : 0x80;
    const hi = b === 0xed ? 0x9f : 0xbf;
    return b1 !== undefined && b1 >= lo && b1 <= hi && cont(b2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const lo = b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xf4 ? 0x8f : 0xbf;
    return b1 !== undefined && b1 >= lo && b1 <= hi && cont(b2) && cont(buf[i + 3]) ? 4 : 0;
  }
  return 0;
}
