/**
 * The one encoder of message frames: MSG/HMSG for clients (size fields repeated with the
 * publisher's leading zeros, as nats-server copies them), RMSG/HMSG for routes (reply and queue
 * forms), the no-responders status message; line-length bounds hold.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { msgLineLength, noRespondersFrame, routedLineLength, writeHmsgLine, writeMsgLine, writeRoutedLine } from '../../src/protocol/encode.js';

function msg(subject: string, sid: string, reply: string, hdr: number, size: number, hz = 0, sz = 0): string {
  const buf = Buffer.alloc(msgLineLength(subject, sid, reply) + hz + sz);
  const end = hdr >= 0 ? writeHmsgLine(buf, 0, subject, sid, reply, hdr, size, hz, sz) : writeMsgLine(buf, 0, subject, sid, reply, size, sz);
  return buf.toString('latin1', 0, end);
}

function rmsg(account: string, subject: string, reply: string, queues: string[], hdr: number, size: number): string {
  const buf = Buffer.alloc(routedLineLength(account, subject, reply, queues));
  return buf.toString('latin1', 0, writeRoutedLine(buf, 0, account, subject, reply, queues, hdr, size));
}

describe('client frames', () => {
  it('MSG and HMSG, with and without reply', () => {
    expect(msg('foo', '1', '', -1, 5)).toBe('MSG foo 1 5\r\n');
    expect(msg('foo', '1', '_INBOX.x', -1, 0)).toBe('MSG foo 1 _INBOX.x 0\r\n');
    expect(msg('foo', '22', '', 12, 17)).toBe('HMSG foo 22 12 17\r\n');
    expect(msg('foo', '22', 'r', 12, 17)).toBe('HMSG foo 22 r 12 17\r\n');
  });

  it('repeats the leading zeros of the publisher\'s size fields', () => {
    expect(msg('foo', '1', '', -1, 2, 0, 2)).toBe('MSG foo 1 002\r\n');
    expect(msg('foo', '1', '', 12, 14, 1, 3)).toBe('HMSG foo 1 012 00014\r\n');
  });

  it('the line never exceeds msgLineLength()', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 80 }), fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 80 }), fc.integer({ min: -1, max: 2 ** 31 }), fc.nat(), (s, sid, r, hdr, size) => {
        const subject = s.replace(/[^\x21-\x7e]/g, 'a');
        const line = msg(subject, sid.replace(/[^\x21-\x7e]/g, '1'), r.replace(/[^\x21-\x7e]/g, 'b'), hdr, Math.max(size, Math.max(hdr, 0)));
        expect(line.length).toBeLessThanOrEqual(msgLineLength(subject, sid, r));
      }),
    );
  });
});

describe('route frames', () => {
  it('RMSG with reply, queues, or both; HMSG with headers', () => {
    expect(rmsg('$G', 'foo', '', [], -1, 5)).toBe('RMSG $G foo 5\r\n');
    expect(rmsg('$G', 'foo', 'r', [], -1, 5)).toBe('RMSG $G foo r 5\r\n');
    expect(rmsg('$G', 'foo', 'r', ['q1', 'q2'], -1, 5)).toBe('RMSG $G foo + r q1 q2 5\r\n');
    expect(rmsg('$G', 'foo', '', ['q1'], -1, 5)).toBe('RMSG $G foo | q1 5\r\n');
    expect(rmsg('A', 'foo', '', [], 12, 17)).toBe('HMSG A foo 12 17\r\n');
    expect(rmsg('A', 'foo', 'r', ['q'], 12, 17)).toBe('HMSG A foo + r q 12 17\r\n');
  });

  it('LMSG <origin> <account> for a leaf node cluster\'s message, always with a header size', () => {
    const line = (reply: string, queues: string[], hdr: number, size: number): string => {
      const buf = Buffer.alloc(routedLineLength('$G', 'foo', reply, queues, 'L'));
      return buf.toString('latin1', 0, writeRoutedLine(buf, 0, '$G', 'foo', reply, queues, hdr, size, 'L'));
    };
    expect(line('', [], -1, 5)).toBe('LMSG L $G foo 0 5\r\n');
    expect(line('r', [], 12, 17)).toBe('LMSG L $G foo r 12 17\r\n');
    expect(line('r', ['q1', 'q2'], -1, 2)).toBe('LMSG L $G foo + r q1 q2 0 2\r\n');
    expect(line('', ['q'], -1, 2)).toBe('LMSG L $G foo | q 0 2\r\n');
  });
});

describe('no responders', () => {
  it('is nats-server\'s HMSG with the 503 status and no payload', () => {
    expect(noRespondersFrame('_INBOX.a', '7').toString('latin1')).toBe('HMSG _INBOX.a 7 16 16\r\nNATS/1.0 503\r\n\r\n\r\n');
  });
});
