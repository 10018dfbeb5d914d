/**
 * protocol/text.ts: the byte strings the broker keeps subjects in, and their text as JSON shows
 * it — Go's utf8.DecodeRune rules, one U+FFFD per byte that starts no valid sequence (Node's
 * own decoder replaces whole maximal subparts instead, which would differ from nats-server).
 */
import { describe, expect, it } from 'vitest';
import { goQuoteBytes, subjectFromText, subjectToText } from '../../src/protocol/text.js';

const bytes = (...b: number[]): string => Buffer.from(b).toString('latin1');

describe('subject text', () => {
  it('text to bytes and back, for 1- to 4-byte characters', () => {
    for (const s of ['foo.bar', 'o.ü', '€.*', 'x.😀.>', 'ü€😀']) {
      const b = subjectFromText(s);
      expect(b).toBe(Buffer.from(s, 'utf8').toString('latin1'));
      expect(subjectToText(b)).toBe(s);
    }
    expect(subjectFromText('o.ü')).toBe('o.\u00c3\u00bc');
    // ASCII is passed through as the same string.
    const ascii = 'a.b.c';
    expect(subjectFromText(ascii)).toBe(ascii);
    expect(subjectToText(ascii)).toBe(ascii);
  });

  it('invalid UTF-8 as Go writes it: one U+FFFD per bad byte', () => {
    const R = '\ufffd';
    expect(subjectToText(bytes(0x61, 0xff))).toBe(`a${R}`);
    // A cut-off 3-byte sequence: two replacements (Node would write one).
    expect(subjectToText(bytes(0xe2, 0x82, 0x78))).toBe(`${R}${R}x`);
    // A surrogate's encoding, an overlong NUL, a code point above U+10FFFF.
    expect(subjectToText(bytes(0xed, 0xa0, 0x80))).toBe(R.repeat(3));
    expect(subjectToText(bytes(0xc0, 0x80))).toBe(R.repeat(2));
    expect(subjectToText(bytes(0xf4, 0x90, 0x80, 0x80))).toBe(R.repeat(4));
    // Valid sequences around bad bytes are kept.
    expect(subjectToText(bytes(0xc3, 0xbc, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0xe2))).toBe(`ü${R}😀${R}`);
    // Lone surrogates in text become U+FFFD's bytes, as Go's decoder makes them.
    expect(subjectFromText('a\ud800')).toBe(bytes(0x61, 0xef, 0xbf, 0xbd));
  });

  it("goQuoteBytes is Go's %q of the bytes (the -ERR texts)", () => {
    const q = (text: string): string => subjectToText(goQuoteBytes(subjectFromText(text)));
    expect(q('foo.bar')).toBe('"foo.bar"');
    // Printable characters stay as they are, whatever their length.
    expect(q('ü.€.😀')).toBe('"ü.€.😀"');
    expect(q('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(q('a\x01\x7f\t')).toBe('"a\\x01\\x7f\\t"');
    // Unprintable non-ASCII: a C1 control, a zero-width space, a private-use plane 15 character.
    expect(q('\u0085\u200b\u{f0000}')).toBe('"\\u0085\\u200b\\U000f0000"');
    // Invalid UTF-8: each byte as \xNN.
    expect(goQuoteBytes(bytes(0x72, 0xff, 0xe2, 0x82))).toBe('"r\\xff\\xe2\\x82"');
  });
});
