import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Parser, type ParserSink, type PubArg, type ParseErrorKind } from '../../src/protocol/parser.js';

/** Records every sink call as a string, so two parses can be compared event by event. */
class Recorder implements ParserSink {
  readonly events: string[] = [];
  parser!: Parser;
  onConnect(json: string): void { this.events.push(`CONNECT ${json}`); this.parser.headers = true; }
  onPubArgs(pa: PubArg): void { this.events.push(`ARGS ${pa.subject}|${pa.reply}|${pa.hdr}|${pa.size}`); }
  onMsg(pa: PubArg, buf: Buffer, start: number, end: number): void {
    this.events.push(`MSG ${pa.subject}|${pa.reply}|${pa.hdr}|${buf.toString('latin1', start, end)}`);
  }
  onSub(subject: string, queue: string | null, sid: string): void { this.events.push(`SUB ${subject}|${queue}|${sid}`); }
  onUnsub(sid: string, max: number): void { this.events.push(`UNSUB ${sid}|${max}`); }
  onPing(): void { this.events.push('PING'); }
  onPong(): void { this.events.push('PONG'); }
  onInfo(json: string): void { this.events.push(`INFO ${json}`); }
  onErr(text: string): void { this.events.push(`ERR ${text}`); }
  onParseError(kind: ParseErrorKind): void { this.events.push(`FAIL ${kind}`); }
}

function parseChunks(chunks: Buffer[], limits = { maxControlLine: 4096, maxPayload: 1 << 20 }): string[] {
  const rec = new Recorder();
  rec.parser = new Parser(rec, limits);
  for (const c of chunks) rec.parser.parse(c);
  return rec.events;
}

/** Splits `buf` at the given cut points (sorted, deduplicated, within bounds). */
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
const payload = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a).toString('latin1'));
const blank = fc.constantFrom(' ', '\t', '  ', ' \t ');
const eol = fc.constantFrom('\r\n', '\n');
const casing = (op: string) => fc.boolean().map((lower) => (lower ? op.toLowerCase() : op));

/** A valid client frame, and the events a parser must report for it. */
interface Frame {
  text: string;
  events: string[];
}
const frame: fc.Arbitrary<Frame> = fc.oneof<fc.Arbitrary<Frame>[]>(
  fc.tuple(casing('PUB'), blank, subject, fc.option(subject, { nil: undefined }), blank, payload, eol).map(
    ([op, sp, s, r, sp2, p, e]) => ({
      text: `${op}${sp}${s}${r === undefined ? '' : ` ${r}`}${sp2}${Buffer.byteLength(p, 'latin1')}${e}${p}\r\n`,
      events: [`ARGS ${s}|${r ?? ''}|-1|${Buffer.byteLength(p, 'latin1')}`, `MSG ${s}|${r ?? ''}|-1|${p}`],
    }),
  ),
  fc.tuple(subject, fc.option(subject, { nil: undefined }), payload, payload).map(([s, r, h, p]) => {
    const hdr = `NATS/1.0\r\n${h.replace(/[\r\n]/g, '')}\r\n\r\n`;
    const total = Buffer.byteLength(hdr + p, 'latin1');
    const hl = Buffer.byteLength(hdr, 'latin1');
    return {
      text: `HPUB ${s}${r === undefined ? '' : ` ${r}`} ${hl} ${total}\r\n${hdr}${p}\r\n`,
      events: [`ARGS ${s}|${r ?? ''}|${hl}|${total}`, `MSG ${s}|${r ?? ''}|${hl}|${hdr}${p}`],
    };
  }),
  fc.tuple(casing('SUB'), subject, fc.option(token, { nil: undefined }), token, eol).map(([op, s, q, sid, e]) => ({
    text: `${op} ${s}${q === undefined ? '' : ` ${q}`} ${sid}${e}`,
    events: [`SUB ${s}|${q ?? null}|${sid}`],
  })),
  fc.tuple(token, fc.option(fc.integer({ min: 0, max: 99999 }), { nil: undefined })).map(([sid, max]) => ({
    text: `UNSUB ${sid}${max === undefined ? '' : ` ${max}`}\r\n`,
    events: [`UNSUB ${sid}|${max ?? -1}`],
  })),
  casing('PING').map((op) => ({ text: `${op}\r\n`, events: ['PING'] })),
  casing('PONG').map((op) => ({ text: `${op}\r\n`, events: ['PONG'] })),
  fc.constant<Frame>({ text: '+OK\r\n', events: [] }),
  fc.constant<Frame>({ text: 'INFO {"a":1}\r\n', events: ['INFO {"a":1}'] }),
);

// The first frame is a CONNECT with headers, so HPUB is allowed.
const connectFrame = { text: 'CONNECT {"headers":true}\r\n', events: ['CONNECT {"headers":true}'] };

describe('parser (property)', () => {
  it('reports exactly the ops of a valid stream, however it is split', () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 12 }), (frames, cuts) => {
        const all = [connectFrame, ...frames];
        const bytes = Buffer.from(all.map((f) => f.text).join(''), 'latin1');
        const expected = all.flatMap((f) => f.events);
        expect(parseChunks([bytes])).toEqual(expected);
        expect(parseChunks(splitAt(bytes, cuts))).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('a CONNECT that holds the input (a CONNECT waiting for its account): nothing after it is reported until resume(), then the same ops in order', () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 12 }), fc.nat(), (frames, cuts, resumeAt) => {
        const all = [connectFrame, ...frames, connectFrame, ...frames];
        const bytes = Buffer.from(all.map((f) => f.text).join(''), 'latin1');
        const expected = all.flatMap((f) => f.events);
        const rec = new Recorder();
        const parser = new Parser(rec, { maxControlLine: 4096, maxPayload: 1 << 20 });
        rec.parser = parser;
        // Every CONNECT holds; the test resumes after some chunk, and at the end until all is parsed.
        let held = false;
        // heldBytes: what was fed after the end of the CONNECT that holds.
        const connectEnds: number[] = [];
        let offset = 0;
        for (const f of all) {
          offset += Buffer.byteLength(f.text, 'latin1');
          if (f === connectFrame) connectEnds.push(offset);
        }
        let connects = 0;
        let holdEnd = 0;
        let fed = 0;
        const onConnect = rec.onConnect.bind(rec);
        rec.onConnect = (json) => {
          onConnect(json);
          parser.hold();
          held = true;
          holdEnd = connectEnds[connects++]!;
        };
        const resume = (): void => {
          held = false;
          parser.resume();
        };
        const chunks = splitAt(bytes, cuts);
        chunks.forEach((c, i) => {
          parser.parse(c);
          fed += c.length;
          // While held, nothing after the CONNECT that held was reported.
          if (held) expect(rec.events[rec.events.length - 1]!.startsWith('CONNECT')).toBe(true);
          expect(parser.heldBytes).toBe(held ? fed - holdEnd : 0);
          if (i === resumeAt % chunks.length) resume();
          expect(parser.heldBytes).toBe(held ? fed - holdEnd : 0);
        });
        for (let k = 0; k < 3; k++) resume();
        expect(rec.events).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same result one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 8 }), (frames) => {
        const bytes = Buffer.from([connectFrame, ...frames].map((f) => f.text).join(''), 'latin1');
        const single = [...bytes].map((b) => Buffer.from([b]));
        expect(parseChunks(single)).toEqual(parseChunks([bytes]));
      }),
      { numRuns: 200 },
    );
  });

  it('is split-invariant on arbitrary (mostly invalid) input, and stops at the first error', () => {
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      frame.map((f) => Buffer.from(f.text, 'latin1')),
      fc.constantFrom('PUB foo 3\r\nabcd\r\n', 'PUB foo -1\r\n', 'SUB\r\n', 'HPUB foo 5 2\r\n', 'PUBX', 'MSG x 1 1\r\n')
        .map((s) => Buffer.from(s, 'latin1')),
    );
    fc.assert(
      fc.property(fc.array(noise, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
        const bytes = Buffer.concat([Buffer.from(connectFrame.text), ...parts]);
        const whole = parseChunks([bytes], { maxControlLine: 64, maxPayload: 100 });
        const split = parseChunks(splitAt(bytes, cuts), { maxControlLine: 64, maxPayload: 100 });
        // An over-long partial line may be caught before its LF arrives: the error kind is the same,
        // but nothing after the first failure may be reported.
        expect(split).toEqual(whole);
        const failures = whole.filter((e) => e.startsWith('FAIL'));
        expect(failures.length).toBeLessThanOrEqual(1);
        if (failures.length === 1) expect(whole[whole.length - 1]).toBe(failures[0]);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parser (examples)', () => {
  const run = (s: string, limits?: { maxControlLine: number; maxPayload: number }) =>
    parseChunks([Buffer.from(s, 'latin1')], limits);

  it('rejects an op at the byte that makes it invalid, before any newline', () => {
    expect(run('PUBX')).toEqual(['FAIL unknown-op']);
    expect(run('XYZ')).toEqual(['FAIL unknown-op']);
    expect(run('MSG foo 1 2\r\n')).toEqual(['FAIL unknown-op']);
    expect(run('UNSUB\r\n')).toEqual(['FAIL unknown-op']);
  });

  it('checks the payload terminator', () => {
    expect(run('PUB foo 2\r\nabc\r\n')).toEqual(['ARGS foo||-1|2', 'FAIL unknown-op']);
    expect(run('PUB foo 2\r\nab\n')).toEqual(['ARGS foo||-1|2', 'FAIL unknown-op']);
  });

  it('parses sizes as nats-server: 1-9 digits', () => {
    expect(run('PUB foo 1234567890\r\n')).toEqual(['FAIL bad-args']);
    expect(run('PUB foo -1\r\n')).toEqual(['FAIL bad-args']);
    expect(run('UNSUB 1 x\r\n')).toEqual(['UNSUB 1|-1']);
  });

  it('enforces max_control_line on complete and partial lines', () => {
    const limits = { maxControlLine: 16, maxPayload: 100 };
    expect(run(`SUB ${'a'.repeat(20)} 1\r\n`, limits)).toEqual(['FAIL max-control-line']);
    const rec = new Recorder();
    rec.parser = new Parser(rec, limits);
    rec.parser.parse(Buffer.from(`SUB ${'a'.repeat(10)}`));
    expect(rec.events).toEqual([]);
    rec.parser.parse(Buffer.from('a'.repeat(10)));
    expect(rec.events).toEqual(['FAIL max-control-line']);
    // PING lines are not arguments and are not limited.
    expect(run(`PING ${'x'.repeat(50)}\r\n`, limits)).toEqual(['PING']);
  });

  it('enforces max_payload on the size field, before the payload', () => {
    expect(run('PUB foo 101\r\n', { maxControlLine: 4096, maxPayload: 100 })).toEqual(['FAIL max-payload']);
    expect(run('PUB foo 100\r\n', { maxControlLine: 4096, maxPayload: 100 })).toEqual(['ARGS foo||-1|100']);
  });

  it('refuses HPUB until headers are negotiated, and hdr > total', () => {
    const rec = new Recorder();
    rec.parser = new Parser(rec, { maxControlLine: 4096, maxPayload: 100 });
    rec.parser.parse(Buffer.from('HPUB foo 12 14\r\n'));
    expect(rec.events).toEqual(['FAIL headers-not-supported']);
    expect(run('CONNECT {}\r\nHPUB foo 5 2\r\n')).toEqual(['CONNECT {}', 'FAIL bad-args']);
  });

  it('only accepts CONNECT first while auth is pending', () => {
    const rec = new Recorder();
    rec.parser = new Parser(rec, { maxControlLine: 4096, maxPayload: 100 });
    rec.parser.awaitingAuth = true;
    rec.parser.parse(Buffer.from('PING\r\n'));
    expect(rec.events).toEqual(['FAIL auth-violation']);
  });
});
