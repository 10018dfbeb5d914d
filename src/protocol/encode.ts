/**
 * The one encoder of message frames, for clients (`MSG`/`HMSG`) and routes (`RMSG`/`HMSG`),
 * and the no-responders status message. It decides which bytes; where they go (a connection's
 * outbound queue) and the limits are the caller's — nats-server's `msgHeader` and
 * `msgHeaderForRouteOrLeaf` (client.go), kept apart from `deliverMsg`/`queueOutbound`.
 *
 * Each writer takes a buffer with enough room at `p` (the `*LineLength` functions give the
 * worst case) and returns the position after what it wrote.
 */
import { SMALL_COPY, writeLatin1, writeUint } from './bytes.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const ZERO = 0x30;
const H = 0x48;
const M = 0x4d;
const S = 0x53;
const G = 0x47;
const R = 0x52;
const L = 0x4c;
const PLUS = 0x2b;
const PIPE = 0x7c;

/** Room for a decimal number of up to 20 digits (any safe integer). */
const NUM = 20;

/** Worst-case length of a client `MSG`/`HMSG` control line (CRLF included). */
export function msgLineLength(subject: string, sid: string, reply: string): number {
  // "HMSG " subject " " sid " " reply " " hdr " " size CRLF
  return 5 + subject.length + 1 + sid.length + 1 + reply.length + 1 + NUM + 1 + NUM + 2;
}

/**
 * `MSG <subject> <sid> [reply] <size>\r\n`. `sizeZeros` leading zeros are written before the
 * size: nats-server copies the publisher's size field byte for byte.
 */
export function writeMsgLine(buf: Buffer, p: number, subject: string, sid: string, reply: string, size: number, sizeZeros: number): number {
  buf[p++] = M;
  buf[p++] = S;
  buf[p++] = G;
  buf[p++] = SP;
  return writeMsgTail(buf, p, subject, sid, reply, -1, size, 0, sizeZeros);
}

/**
 * A whole `MSG` frame with a short payload (`payload[start, start + size)`, copied), CRLF
 * included: the common delivery, in one function that V8 optimizes on its own. (Inlined into
 * the delivery path, it and its helpers overran V8's inlining budget there and the helpers were
 * called out of line; the fan-out benchmark showed it.)
 */
export function writeMsg(
  buf: Buffer,
  p: number,
  subject: string,
  sid: string,
  reply: string,
  sizeZeros: number,
  payload: Buffer,
  start: number,
  size: number,
): number {
  buf[p++] = M;
  buf[p++] = S;
  buf[p++] = G;
  buf[p++] = SP;
  // Subject, sid and reply in loops of their own rather than three calls of writeLatin1: the
  // delivery path has a small inlining budget and this body must fit in it whole.
  let n = subject.length;
  if (n > SMALL_COPY) p += buf.latin1Write(subject, p);
  else {
    for (let k = 0; k < n; k++) buf[p + k] = subject.charCodeAt(k);
    p += n;
  }
  buf[p++] = SP;
  n = sid.length;
  for (let k = 0; k < n; k++) buf[p + k] = sid.charCodeAt(k);
  p += n;
  buf[p++] = SP;
  n = reply.length;
  if (n > 0) {
    if (n > SMALL_COPY) p += buf.latin1Write(reply, p);
    else {
      for (let k = 0; k < n; k++) buf[p + k] = reply.charCodeAt(k);
      p += n;
    }
    buf[p++] = SP;
  }
  for (let z = sizeZeros; z > 0; z--) buf[p++] = ZERO;
  p = writeUint(buf, p, size);
  buf[p++] = CR;
  buf[p++] = LF;
  // The payload copy written out here, not through copyBytes: one call less per delivery.
  if (size <= SMALL_COPY) {
    for (let k = 0; k < size; k++) buf[p + k] = payload[start + k];
  } else {
    payload.copy(buf, p, start, start + size);
  }
  p += size;
  buf[p++] = CR;
  buf[p++] = LF;
  return p;
}

/** `HMSG <subject> <sid> [reply] <hdr> <size>\r\n`, leading zeros as in {@link writeMsgLine}. */
export function writeHmsgLine(
  buf: Buffer,
  p: number,
  subject: string,
  sid: string,
  reply: string,
  hdr: number,
  size: number,
  hdrZeros: number,
  sizeZeros: number,
): number {
  buf[p++] = H;
  buf[p++] = M;
  buf[p++] = S;
  buf[p++] = G;
  buf[p++] = SP;
  return writeMsgTail(buf, p, subject, sid, reply, hdr, size, hdrZeros, sizeZeros);
}

/** The arguments after the op name: `<subject> <sid> [reply] [<hdr>] <size>\r\n` (`hdr` < 0: none). */
function writeMsgTail(
  buf: Buffer,
  p: number,
  subject: string,
  sid: string,
  reply: string,
  hdr: number,
  size: number,
  hdrZeros: number,
  sizeZeros: number,
): number {
  p = writeLatin1(buf, p, subject);
  buf[p++] = SP;
  p = writeLatin1(buf, p, sid);
  buf[p++] = SP;
  if (reply.length > 0) {
    p = writeLatin1(buf, p, reply);
    buf[p++] = SP;
  }
  if (hdr >= 0) {
    for (let z = hdrZeros; z > 0; z--) buf[p++] = ZERO;
    p = writeUint(buf, p, hdr);
    buf[p++] = SP;
  }
  for (let z = sizeZeros; z > 0; z--) buf[p++] = ZERO;
  p = writeUint(buf, p, size);
  buf[p++] = CR;
  buf[p++] = LF;
  return p;
}

/** Worst-case length of a route `RMSG`/`HMSG`/`LMSG` control line (CRLF included). */
export function routedLineLength(account: string, subject: string, reply: string, queues: readonly string[], origin = ''): number {
  let n = 5 + origin.length + 1 + account.length + 1 + subject.length + 3 + reply.length + 1 + NUM + 1 + NUM + 2;
  for (let i = 0; i < queues.length; i++) n += 1 + queues[i].length;
  return n;
}

/**
 * `RMSG <account> <subject> [reply | + <reply> <q...> | | <q...>] <size>\r\n`, or `HMSG` with
 * `<hdr> <size>` when `hdr >= 0` (nats-server's route message header); with an `origin` (a
 * leaf node cluster's message, to a peer that advertised `lnoc`) `LMSG <origin> <account> ...`.
 */
export function writeRoutedLine(
  buf: Buffer,
  p: number,
  account: string,
  subject: string,
  reply: string,
  queues: readonly string[],
  hdr: number,
  size: number,
  origin = '',
): number {
  if (origin !== '') {
    // A leaf node cluster's message (route.go msgHeaderForRouteOrLeaf with lnoc):
    // `LMSG <origin> <account> ...`, always with a header size (0 for none).
    buf[p++] = L;
    buf[p++] = M;
    buf[p++] = S;
    buf[p++] = G;
    buf[p++] = SP;
    p = writeLatin1(buf, p, origin);
    buf[p++] = SP;
    p = writeLatin1(buf, p, account);
    buf[p++] = SP;
    return writeRoutedTail(buf, p, subject, reply, queues, hdr < 0 ? 0 : hdr, size);
  }
  if (hdr >= 0) {
    buf[p++] = H;
    buf[p++] = M;
  } else {
    buf[p++] = R;
    buf[p++] = M;
  }
  buf[p++] = S;
  buf[p++] = G;
  buf[p++] = SP;
  p = writeLatin1(buf, p, account);
  buf[p++] = SP;
  return writeRoutedTail(buf, p, subject, reply, queues, hdr, size);
}

/**
 * The part of a routed message line after its op and account (routes) or op (leaf nodes):
 * `<subject> [reply | + <reply> <q...> | | <q...>] [<hdr>] <size>\r\n`.
 */
export function writeRoutedTail(buf: Buffer, p: number, subject: string, reply: string, queues: readonly string[], hdr: number, size: number): number {
  p = writeLatin1(buf, p, subject);
  if (queues.length > 0) {
    buf[p++] = SP;
    if (reply.length > 0) {
      buf[p++] = PLUS;
      buf[p++] = SP;
      p = writeLatin1(buf, p, reply);
    } else {
      buf[p++] = PIPE;
    }
    for (let i = 0; i < queues.length; i++) {
      buf[p++] = SP;
      p = writeLatin1(buf, p, queues[i]);
    }
  } else if (reply.length > 0) {
    buf[p++] = SP;
    p = writeLatin1(buf, p, reply);
  }
  buf[p++] = SP;
  if (hdr >= 0) {
    p = writeUint(buf, p, hdr);
    buf[p++] = SP;
  }
  p = writeUint(buf, p, size);
  buf[p++] = CR;
  buf[p++] = LF;
  return p;
}

/** The status header of a no-responders reply (nats-server's `NATS/1.0 503`). */
const NO_RESPONDERS_HEADER = Buffer.from('NATS/1.0 503\r\n\r\n', 'latin1');

/** The whole no-responders message for the publisher's `sid` on `reply`: an HMSG without payload. */
export function noRespondersFrame(reply: string, sid: string): Buffer {
  const h = NO_RESPONDERS_HEADER.length;
  const buf = Buffer.allocUnsafe(msgLineLength(reply, sid, '') + h + 2);
  let p = writeHmsgLine(buf, 0, reply, sid, '', h, h, 0, 0);
  p += NO_RESPONDERS_HEADER.copy(buf, p);
  buf[p++] = CR;
  buf[p++] = LF;
  return buf.subarray(0, p);
}
