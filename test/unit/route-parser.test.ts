import { afterEach, describe, expect, it, vi } from 'vitest';
import { ROUTE_MAX_CONTROL_LINE, RouteParser, type RouteSink } from '../../src/protocol/route-parser.js';
import type { PubArg } from '../../src/protocol/parser.js';

interface Delivery {
  buf: Buffer;
  start: number;
  end: number;
}

/** Records sink calls as strings (parse errors by category) and keeps each payload's buffer. */
class Recorder implements RouteSink {
  readonly events: string[] = [];
  readonly details: string[] = [];
  readonly deliveries: Delivery[] = [];
  onInfo(json: string): void { this.events.push(`INFO ${json}`); }
  onConnect(json: string): void { this.events.push(`CONNECT ${json}`); }
  onPing(): void { this.events.push('PING'); }
  onPong(): void { this.events.push('PONG'); }
  onErr(text: string): void { this.events.push(`ERR ${text}`); }
  onSubInterest(account: string, subject: string, queue: string | null, weight: number, origin: string): void {
    this.events.push(`SUB ${account} ${subject} ${queue} ${weight}${origin === '' ? '' : ` origin=${origin}`}`);
  }
  onUnsubInterest(account: string, subject: string, queue: string | null, leaf: boolean, origin: string): void {
    this.events.push(`UNSUB ${account} ${subject} ${queue}${leaf ? ' (LS-)' : ''}${origin === '' ? '' : ` origin=${origin}`}`);
  }
  onRoutedMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    this.deliveries.push({ buf, start, end });
    // Reply and payload quoted, so that a reply of "+" or "|" or an empty payload shows.
    const text = end - start > 64 ? `<${end - start} bytes>` : JSON.stringify(buf.toString('latin1', start, end));
    this.events.push(`MSG ${account} ${pa.subject} ${JSON.stringify(pa.reply)} [${queues.join(',')}] ${pa.hdr} ${pa.size} ${text}${pa.origin === '' ? '' : ` origin=${pa.origin}`}`);
  }
  onParseError(detail: string): void {
    this.details.push(detail);
    this.events.push(`FAIL ${detail.split(':')[0]}`);
  }
}

function parser(maxControlLine?: number): { rec: Recorder; p: RouteParser } {
  const rec = new Recorder();
  return { rec, p: new RouteParser(rec, maxControlLine) };
}

function run(text: string, maxControlLine?: number, lnocu = false): string[] {
  const { rec, p } = parser(maxControlLine);
  p.lnocu = lnocu;
  p.parse(Buffer.from(text, 'latin1'));
  return rec.events;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('route parser: ops', () => {
  it('INFO and CONNECT hand over their JSON, trimmed', () => {
    expect(run('INFO {"server_id":"A"}\r\nCONNECT\t {"x":1} \r\n')).toEqual(['INFO {"server_id":"A"}', 'CONNECT {"x":1}']);
    expect(run('info {}\ninfo\r\nINFO \r\n')).toEqual(['INFO {}', 'INFO ', 'INFO ']);
  });

  it('PING, PONG and +OK ignore the rest of their line', () => {
    expect(run('PING\r\nping\npong\r\nPONG whatever\r\n+OK\r\n+ok \r\nPING\r\n')).toEqual(['PING', 'PING', 'PONG', 'PONG', 'PING']);
  });

  it('-ERR passes its text without the quotes', () => {
    expect(run("-ERR 'Stale Connection'\r\n")).toEqual(['ERR Stale Connection']);
    expect(run('-err plain text\r\n-ERR\r\n')).toEqual(['ERR plain text', 'ERR ']);
  });

  it('RS+ carries plain interest, or a queue with its weight (1 when absent)', () => {
    expect(run('RS+ $G foo.>\r\nRS+ $G foo q 3\r\nRS+\t$G  foo\tq\r\nrs+ ACC bar q 0\r\n')).toEqual([
      'SUB $G foo.> null 0',
      'SUB $G foo q 3',
      'SUB $G foo q 1',
      'SUB ACC bar q 0',
    ]);
  });

  it('LS+ carries the origin cluster first; LS- has none (no lnocu) and is told apart from RS-', () => {
    expect(run('LS+ C1 $G foo\r\nLS+ C1 $G foo q 2\r\nLS- $G foo\r\nLS- $G foo q\r\nRS- $G foo\r\n')).toEqual([
      'SUB $G foo null 0 origin=C1',
      'SUB $G foo q 2 origin=C1',
      'UNSUB $G foo null (LS-)',
      'UNSUB $G foo q (LS-)',
      'UNSUB $G foo null',
    ]);
  });

  it("from a peer with lnocu (2.10), LS- carries the origin cluster first; RS- does not", () => {
    expect(run('LS- C1 $G foo\r\nLS- C1 $G foo q\r\nRS- $G foo\r\nRS- $G foo q\r\n', undefined, true)).toEqual([
      'UNSUB $G foo null (LS-) origin=C1',
      'UNSUB $G foo q (LS-) origin=C1',
      'UNSUB $G foo null',
      'UNSUB $G foo q',
    ]);
    // Without the origin, the line is one argument short (route.go parseUnsubProto: parse error).
    expect(run('LS- $G foo\r\n', undefined, true)).toEqual(['FAIL bad LS-']);
    expect(run('LS- C1 $G foo q x\r\n', undefined, true)).toEqual(['FAIL bad LS-']);
  });

  it('RS- and LS- remove plain or queue interest (LS- without origin: no lnocu)', () => {
    expect(run('RS- $G foo\r\nRS- $G foo q\r\nLS- $G foo\r\nls- $G foo q\r\n')).toEqual([
      'UNSUB $G foo null',
      'UNSUB $G foo q',
      'UNSUB $G foo null (LS-)',
      'UNSUB $G foo q (LS-)',
    ]);
  });

  it('RMSG: plain, with a reply, with a reply and queues, with queues only', () => {
    expect(
      run('RMSG $G foo 2\r\nhi\r\nRMSG $G foo r.1 2\r\nhi\r\nRMSG $G foo + r.1 q1 q2 2\r\nhi\r\nRMSG $G foo | q1 0\r\n\r\n'),
    ).toEqual([
      'MSG $G foo "" [] -1 2 "hi"',
      'MSG $G foo "r.1" [] -1 2 "hi"',
      'MSG $G foo "r.1" [q1,q2] -1 2 "hi"',
      'MSG $G foo "" [q1] -1 0 ""',
    ]);
  });

  it('RMSG: a lone "+" or "|" before the size is the reply, as in nats-server', () => {
    // nats-server writes `RMSG $G foo + 2` when a client publishes with reply "+" (replies are
    // not validated); reading it as a reply indicator used to fail the route.
    expect(run('RMSG $G foo + 2\r\nhi\r\nRMSG $G foo | 2\r\nhi\r\nHMSG $G foo + 0 2\r\nhi\r\n')).toEqual([
      'MSG $G foo "+" [] -1 2 "hi"',
      'MSG $G foo "|" [] -1 2 "hi"',
      'MSG $G foo "+" [] 0 2 "hi"',
    ]);
  });

  it('HMSG and LMSG carry header and total sizes (LMSG: origin cluster first)', () => {
    const hdr = 'NATS/1.0\r\n\r\n';
    expect(run(`HMSG $G foo r 12 14\r\n${hdr}hi\r\nLMSG C1 $G foo + r q 12 14\r\n${hdr}hi\r\n`)).toEqual([
      `MSG $G foo "r" [] 12 14 ${JSON.stringify(`${hdr}hi`)}`,
      `MSG $G foo "r" [q] 12 14 ${JSON.stringify(`${hdr}hi`)} origin=C1`,
    ]);
    // LMSG always has a header size: 0 is a message without headers; the next RMSG has no origin.
    expect(run('LMSG C1 $G foo 0 2\r\nhi\r\nRMSG $G foo 2\r\nhi\r\n')).toEqual(['MSG $G foo "" [] -1 2 "hi" origin=C1', 'MSG $G foo "" [] -1 2 "hi"']);
  });

  it('accepts op names in any case, and blanks made of spaces and tabs', () => {
    expect(run('rMsG \t $G\t\tfoo  2 \r\nhi\r\nHmSg $G foo 0 0\r\n\r\n')).toEqual(['MSG $G foo "" [] -1 2 "hi"', 'MSG $G foo "" [] 0 0 ""']);
  });
});

describe('route parser: malformed input', () => {
  it('rejects an unknown op at the byte that makes it unknown, before any newline', () => {
    expect(run('RMSGX')).toEqual(['FAIL unknown op']);
    expect(run('PINGX\r\n')).toEqual(['FAIL unknown op']);
    expect(run('PUB foo 1\r\n')).toEqual(['FAIL unknown op']);
    expect(run('MSG foo 1 1\r\n')).toEqual(['FAIL unknown op']);
    expect(run('RS*')).toEqual(['FAIL unknown op']);
    expect(run('RS+$G foo\r\n')).toEqual(['FAIL unknown op']);
    expect(run('INFO{}\r\n')).toEqual(['FAIL unknown op']);
    expect(run('\r\n')).toEqual(['FAIL unknown op']);
    expect(run(' PING\r\n')).toEqual(['FAIL unknown op']);
    // A CR after the op name must be the one before LF.
    expect(run('PING\r\r\n')).toEqual(['FAIL unknown op']);
  });

  it('rejects RS+/LS+/RS-/LS- with the wrong number of arguments', () => {
    expect(run('RS+\r\n')).toEqual(['FAIL bad RS+']);
    expect(run('RS+ $G\r\n')).toEqual(['FAIL bad RS+']);
    expect(run('RS+ $G foo q 1 x\r\n')).toEqual(['FAIL bad RS+']);
    expect(run('LS+ $G foo\r\n')).toEqual(['FAIL bad LS+']);
    expect(run('RS- $G\r\n')).toEqual(['FAIL bad RS-']);
    expect(run('LS- C1 $G foo q\r\n')).toEqual(['FAIL bad LS-']);
  });

  it('takes queue weights as 1 to 9 decimal digits only', () => {
    expect(run('RS+ $G foo q 007\r\n')).toEqual(['SUB $G foo q 7']);
    expect(run('RS+ $G foo q 999999999\r\n')).toEqual(['SUB $G foo q 999999999']);
    // Number() used to accept these; none is a route-protocol weight.
    for (const w of ['x', '-1', '1.5', '0x10', '1e3', '+1', '1000000000']) {
      expect(run(`RS+ $G foo q ${w}\r\n`), w).toEqual(['FAIL bad queue weight']);
    }
  });

  it('rejects bad message arguments, sizes and header sizes', () => {
    expect(run('RMSG\r\n')).toEqual(['FAIL bad message args']);
    expect(run('RMSG $G 1\r\n')).toEqual(['FAIL bad message args']);
    expect(run('HMSG $G foo 1\r\n')).toEqual(['FAIL bad message args']);
    expect(run('LMSG $G foo 0 1\r\n')).toEqual(['FAIL bad message args']);
    expect(run('RMSG $G foo x q 1\r\n')).toEqual(['FAIL bad message args']);
    expect(run('RMSG $G foo ++ r q 1\r\n')).toEqual(['FAIL bad message args']);
    expect(run('RMSG $G foo x\r\n')).toEqual(['FAIL bad size']);
    expect(run('RMSG $G foo -1\r\n')).toEqual(['FAIL bad size']);
    expect(run('RMSG $G foo 1234567890\r\n')).toEqual(['FAIL bad size']);
    expect(run('HMSG $G foo x 2\r\n')).toEqual(['FAIL bad header size']);
    expect(run('HMSG $G foo 3 2\r\n')).toEqual(['FAIL bad header size']);
  });

  it('checks the payload terminator', () => {
    expect(run('RMSG $G foo 2\r\nabc\r\n')).toEqual(['FAIL bad payload terminator']);
    expect(run('RMSG $G foo 2\r\nab\n')).toEqual(['FAIL bad payload terminator']);
    const { rec, p } = parser();
    p.parse(Buffer.from('RMSG $G foo 2\r\nab'));
    p.parse(Buffer.from('\rX'));
    expect(rec.events).toEqual(['FAIL bad payload terminator']);
  });

  it('stops at the first error, and stop() ends parsing even within a chunk', () => {
    const { rec, p } = parser();
    p.parse(Buffer.from('PING\r\nXX\r\nPING\r\n'));
    p.parse(Buffer.from('PING\r\n'));
    expect(rec.events).toEqual(['PING', 'FAIL unknown op']);

    class Stopper extends Recorder {
      override onPing(): void {
        super.onPing();
        p2.stop();
      }
    }
    const rec2 = new Stopper();
    const p2 = new RouteParser(rec2);
    p2.parse(Buffer.from('PING\r\nPING\r\n'));
    p2.parse(Buffer.from('PING\r\n'));
    expect(rec2.events).toEqual(['PING']);
  });
});

describe('route parser: control-line cap', () => {
  it('defaults to a cap far above what nats-server sends (it has none for routes)', () => {
    expect(ROUTE_MAX_CONTROL_LINE).toBe(1024 * 1024);
    const queues = Array.from({ length: 2000 }, (_, i) => `queue-group-${i}`).join(' ');
    const events = run(`RMSG $G foo | ${queues} 2\r\nhi\r\n`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatch(/^MSG \$G foo "" \[queue-group-0,.*,queue-group-1999\] -1 2 "hi"$/);
    expect(run(`INFO ${'x'.repeat(ROUTE_MAX_CONTROL_LINE + 1)}\r\n`)).toEqual(['FAIL maximum control line exceeded']);
  });

  it('fails a complete argument line over the cap, the CR not counted', () => {
    const arg = `$G ${'a'.repeat(13)}`; // 16 bytes
    expect(run(`RS+ ${arg}\r\n`, 16)).toEqual([`SUB $G ${'a'.repeat(13)} null 0`]);
    expect(run(`RS+ ${arg}b\r\n`, 16)).toEqual(['FAIL maximum control line exceeded']);
  });

  it('fails a partial line as soon as it is over the cap, without waiting for its end', () => {
    const { rec, p } = parser(16);
    p.parse(Buffer.from(`INFO ${'x'.repeat(10)}`));
    p.parse(Buffer.from(`${'x'.repeat(6)}\r`));
    expect(rec.events).toEqual([]);
    // 16 bytes and a CR that may be the end of the line: not over yet. The next byte puts the
    // CR inside the line: 18 bytes.
    p.parse(Buffer.from('x'));
    expect(rec.events).toEqual(['FAIL maximum control line exceeded']);
    expect(rec.details[0]).toBe('maximum control line exceeded: INFO argument of 18 bytes, limit 16');
  });

  it('does not limit what PING, PONG and +OK ignore, nor payloads; 0 disables the cap', () => {
    expect(run(`PING ${'x'.repeat(100)}\r\n`, 16)).toEqual(['PING']);
    expect(run(`RMSG $G foo 100\r\n${'y'.repeat(100)}\r\n`, 16)).toEqual(['MSG $G foo "" [] -1 100 <100 bytes>']);
    expect(run(`INFO ${'x'.repeat(100)}\r\n`, 0)).toEqual([`INFO ${'x'.repeat(100)}`]);
  });
});

describe('route parser: buffers', () => {
  /** Bytes copied by Buffer#copy while `fn` runs (the parser copies with nothing else). */
  function countCopies(fn: () => void): { bytes: number; calls: number; concats: number } {
    let bytes = 0;
    let calls = 0;
    const copy = Buffer.prototype.copy;
    Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>): number {
      const n = copy.apply(this, args);
      bytes += n;
      calls++;
      return n;
    };
    const concat = vi.spyOn(Buffer, 'concat');
    try {
      fn();
    } finally {
      Buffer.prototype.copy = copy;
    }
    return { bytes, calls, concats: concat.mock.calls.length };
  }

  it('assembles a large RMSG split over many reads with one copy of its bytes', () => {
    const size = 4 * 1024 * 1024;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = (i * 31 + (i >> 12)) & 0xff;
    const stream = Buffer.concat([Buffer.from(`RMSG $G big.subject _INBOX.r ${size}\r\n`), body, Buffer.from('\r\nPING\r\n')]);
    // 4 KiB reads: 1025 chunks. Copying what was pending on every read (the old parser's
    // Buffer.concat) would copy about 2 GiB.
    const chunks: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 4096) chunks.push(stream.subarray(i, i + 4096));
    expect(chunks.length).toBeGreaterThan(1000);

    const { rec, p } = parser();
    const alloc = vi.spyOn(Buffer, 'allocUnsafe');
    const copied = countCopies(() => {
      for (const c of chunks) p.parse(c);
    });
    expect(rec.events).toEqual([`MSG $G big.subject "_INBOX.r" [] -1 ${size} <${size} bytes>`, 'PING']);
    const d = rec.deliveries[0];
    expect(d.end - d.start).toBe(size);
    expect(d.buf.subarray(d.start, d.end).equals(body)).toBe(true);
    // One buffer of the final size, filled once; nothing concatenated.
    expect(alloc.mock.calls.filter(([n]) => n === size)).toHaveLength(1);
    expect(copied.concats).toBe(0);
    // All but the part of the payload in the first read is copied, once.
    expect(copied.bytes).toBeGreaterThan(size - 4096);
    expect(copied.bytes).toBeLessThanOrEqual(size);
    expect(copied.calls).toBeLessThanOrEqual(chunks.length);
  });

  it('hands a payload whole in one read over as a view of that read', () => {
    const chunk = Buffer.from(`RMSG $G foo ${10_000}\r\n${'z'.repeat(10_000)}\r\n`);
    const { rec, p } = parser();
    const copied = countCopies(() => p.parse(chunk));
    expect(rec.deliveries).toHaveLength(1);
    expect(rec.deliveries[0].buf).toBe(chunk);
    expect(copied.bytes).toBe(0);
  });

  it('assembles a payload whose CR LF (or only LF) comes in the next read', () => {
    for (const [a, b] of [['RMSG $G foo 2\r\nhi', '\r\n'], ['RMSG $G foo 2\r\nhi\r', '\n'], ['RMSG $G foo 0\r\n', '\r\n']]) {
      const { rec, p } = parser();
      p.parse(Buffer.from(a));
      p.parse(Buffer.from(b));
      expect(rec.events).toHaveLength(1);
      expect(rec.events[0]).toMatch(/^MSG \$G foo "" \[\] -1 [02] "(hi)?"$/);
    }
  });

  it('keeps a control line split over many reads in a buffer grown by doubling', () => {
    const queues = Array.from({ length: 5000 }, (_, i) => `q${i}`);
    const line = Buffer.from(`RMSG $G foo | ${queues.join(' ')} 2\r\nhi\r\n`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < line.length; i += 7) chunks.push(line.subarray(i, i + 7));
    const { rec, p } = parser();
    const copied = countCopies(() => {
      for (const c of chunks) p.parse(c);
    });
    expect(rec.events).toEqual([`MSG $G foo "" [${queues.join(',')}] -1 2 "hi"`]);
    expect(copied.concats).toBe(0);
    // Each byte is copied in once, plus the regrowths (a geometric series under 2x the line).
    expect(copied.bytes).toBeLessThan(3 * line.length);
  });
});
