import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RouteParser, type RouteSink } from '../../src/protocol/route-parser.js';
import type { PubArg } from '../../src/protocol/parser.js';

/**
 * Records every sink call as a string, so two parses can be compared event by event. A parse
 * error is recorded by its category (the text before the first colon): the rest quotes the
 * bytes at hand, which depend on where the stream was split.
 */
class Recorder implements RouteSink {
  readonly events: string[] = [];
  onInfo(json: string): void { this.events.push(`INFO ${json}`); }
  onConnect(json: string): void { this.events.push(`CONNECT ${json}`); }
  onPing(): void { this.events.push('PING'); }
  onPong(): void { this.events.push('PONG'); }
  onErr(text: string): void { this.events.push(`ERR ${text}`); }
  onSubInterest(account: string, subject: string, queue: string | null, weight: number): void {
    this.events.push(`SUB ${account}|${subject}|${queue}|${weight}`);
  }
  onUnsubInterest(account: string, subject: string, queue: string | null): void {
    this.events.push(`UNSUB ${account}|${subject}|${queue}`);
  }
  onRoutedMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    this.events.push(`MSG ${account}|${pa.subject}|${pa.reply}|${queues.join(',')}|${pa.hdr}|${pa.size}|${buf.toString('latin1', start, end)}`);
  }
  onParseError(detail: string): void { this.events.push(`FAIL ${detail.split(':')[0]}`); }
}

function parseChunks(chunks: Buffer[], maxControlLine?: number): string[] {
  const rec = new Recorder();
  const parser = new RouteParser(rec, maxControlLine);
  for (const c of chunks) parser.parse(c);
  return rec.events;
}

/** Splits `buf` at the given cut points (taken modulo its length, sorted, deduplicated). */
function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

const token = fc.stringMatching(/^[a-zA-Z0-9_$-]{1,8}$/);
const subject = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
const account = fc.constantFrom('$G', '$SYS', 'ACC', 'a-b');
const queues = fc.array(token, { minLength: 1, maxLength: 5 });
const payload = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a).toString('latin1'));
const blank = fc.constantFrom(' ', '\t', '  ', ' \t ');
const eol = fc.constantFrom('\r\n', '\n');
const casing = (op: string) => fc.constantFrom(op, op.toLowerCase(), op[0] + op.slice(1).toLowerCase());
const size = (s: string) => Buffer.byteLength(s, 'latin1');

/** A valid route frame, and the events a parser must report for it. */
interface Frame {
  text: string;
  events: string[];
}

/** What follows the subject of a routed message: the reply and/or queue groups, as on the wire. */
const routing = fc.oneof(
  fc.constant({ wire: '', reply: '', queues: [] as string[] }),
  subject.map((r) => ({ wire: ` ${r}`, reply: r, queues: [] as string[] })),
  // A client may reply to "+" or "|": alone, it is still the reply.
  fc.constantFrom('+', '|').map((r) => ({ wire: ` ${r}`, reply: r, queues: [] as string[] })),
  fc.tuple(subject, queues).map(([r, q]) => ({ wire: ` + ${r} ${q.join(' ')}`, reply: r, queues: q })),
  queues.map((q) => ({ wire: ` | ${q.join(' ')}`, reply: '', queues: q })),
);

const frame: fc.Arbitrary<Frame> = fc.oneof<fc.Arbitrary<Frame>[]>(
  fc.tuple(casing('RMSG'), blank, account, subject, routing, blank, payload, eol).map(([op, sp, a, s, r, sp2, p, e]) => ({
    text: `${op}${sp}${a} ${s}${r.wire}${sp2}${size(p)}${e}${p}\r\n`,
    events: [`MSG ${a}|${s}|${r.reply}|${r.queues.join(',')}|-1|${size(p)}|${p}`],
  })),
  fc.tuple(fc.constantFrom('HMSG', 'LMSG', 'hmsg'), account, subject, routing, payload, payload, eol).map(([op, a, s, r, h, p, e]) => {
    const hdr = `NATS/1.0\r\n${h.replace(/[\r\n]/g, '')}\r\n\r\n`;
    const origin = op === 'LMSG' ? 'C1 ' : '';
    return {
      text: `${op} ${origin}${a} ${s}${r.wire} ${size(hdr)} ${size(hdr + p)}${e}${hdr}${p}\r\n`,
      events: [`MSG ${a}|${s}|${r.reply}|${r.queues.join(',')}|${size(hdr)}|${size(hdr + p)}|${hdr}${p}`],
    };
  }),
  fc.tuple(casing('RS+'), account, subject, blank, eol).map(([op, a, s, sp, e]) => ({
    text: `${op}${sp}${a}${sp}${s}${e}`,
    events: [`SUB ${a}|${s}|null|0`],
  })),
  fc.tuple(fc.constantFrom('RS+', 'LS+', 'ls+'), account, subject, token, fc.option(fc.integer({ min: 0, max: 999 }), { nil: undefined })).map(
    ([op, a, s, q, w]) => ({
      text: `${op} ${op === 'RS+' ? '' : 'C1 '}${a} ${s} ${q}${w === undefined ? '' : ` ${w}`}\r\n`,
      events: [`SUB ${a}|${s}|${q}|${w ?? 1}`],
    }),
  ),
  fc.tuple(fc.constantFrom('RS-', 'LS-', 'rs-'), account, subject, fc.option(token, { nil: undefined }), eol).map(([op, a, s, q, e]) => ({
    text: `${op} ${a} ${s}${q === undefined ? '' : ` ${q}`}${e}`,
    events: [`UNSUB ${a}|${s}|${q ?? null}`],
  })),
  casing('PING').map((op) => ({ text: `${op}\r\n`, events: ['PING'] })),
  casing('PONG').map((op) => ({ text: `${op}\r\n`, events: ['PONG'] })),
  fc.constant<Frame>({ text: '+OK\r\n', events: [] }),
  fc.constant<Frame>({ text: 'INFO {"server_id":"S1","headers":true}\r\n', events: ['INFO {"server_id":"S1","headers":true}'] }),
  fc.constant<Frame>({ text: 'CONNECT {"name":"S2"}\n', events: ['CONNECT {"name":"S2"}'] }),
  fc.constant<Frame>({ text: "-ERR 'Unknown Protocol Operation'\r\n", events: ['ERR Unknown Protocol Operation'] }),
);

const bytesOf = (frames: Frame[]) => Buffer.from(frames.map((f) => f.text).join(''), 'latin1');

describe('route parser (property)', () => {
  it('reports exactly the ops of a valid stream, however it is split', () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, cuts) => {
        const bytes = bytesOf(frames);
        const expected = frames.flatMap((f) => f.events);
        expect(parseChunks([bytes])).toEqual(expected);
        expect(parseChunks(splitAt(bytes, cuts))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('gives the same result one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 8 }), (frames) => {
        const bytes = bytesOf(frames);
        const single = [...bytes].map((b) => Buffer.from([b]));
        expect(parseChunks(single)).toEqual(frames.flatMap((f) => f.events));
      }),
      { numRuns: 200 },
    );
  });

  it('is split-invariant on arbitrary (mostly invalid) input, and stops at the first error', () => {
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      frame.map((f) => Buffer.from(f.text, 'latin1')),
      fc.constantFrom(
        'RMSG $G foo 3\r\nabcd\r\n', 'RMSG $G foo -1\r\n', 'RMSG $G\r\n', 'HMSG $G foo 5 2\r\n', 'RS+ $G foo q x\r\n',
        'RS+\r\n', 'LS- $G\r\n', 'RMSG $G foo x q 1\r\n', 'RMSGX', 'PINGX', 'PUB foo 1\r\n', 'MSG foo 1 1\r\n',
        `INFO ${'x'.repeat(80)}`, `RS+ $G ${'a'.repeat(70)}\r\n`, 'PING \r', '\r\n',
      ).map((s) => Buffer.from(s, 'latin1')),
    );
    fc.assert(
      fc.property(fc.array(noise, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
        const bytes = Buffer.concat(parts);
        // A small cap, so that over-long lines (complete or not) are part of the noise.
        const whole = parseChunks([bytes], 64);
        expect(parseChunks(splitAt(bytes, cuts), 64)).toEqual(whole);
        const failures = whole.filter((e) => e.startsWith('FAIL'));
        expect(failures.length).toBeLessThanOrEqual(1);
        if (failures.length === 1) expect(whole[whole.length - 1]).toBe(failures[0]);
      }),
      { numRuns: 1000 },
    );
  });
});
