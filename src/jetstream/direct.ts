/**
 * Direct get (ADR-31): a stream with `allow_direct` answers `$JS.API.DIRECT.GET.<stream>`
 * (a JSON body: `seq`, `last_by_subj` or `next_by_subj`) and
 * `$JS.API.DIRECT.GET.<stream>.<subject>` (no body: the subject's last message) with the stored
 * message itself, its headers followed by `Nats-Stream`, `Nats-Subject`, `Nats-Sequence` and
 * `Nats-Time-Stamp`; or a status: `404 Message Not Found`, `408 Empty Request`,
 * `408 Malformed Request`, `408 Bad Request`. As nats-server's processDirectGetRequest,
 * processDirectGetLastBySubjectRequest and getDirectRequest (server/stream.go, v2.10.29).
 */
import { decodeGoValue, type GoStructSchema } from '../protocol/go-json.js';
import { writeRfc3339Nano } from '../protocol/go-format.js';
import { writeLatin1, writeUint } from '../protocol/bytes.js';
import type { StoredMessage, StreamStore } from './store/store.js';
import { GO_SUBJECT } from './json.js';

/** A message-get request (JSApiMsgGetRequest), shared with STREAM.MSG.GET. */
export interface MsgGetRequest {
  seq: number;
  last_by_subj: string;
  next_by_subj: string;
}

export const MSG_GET_REQUEST: GoStructSchema = {
  kind: 'struct',
  fields: { seq: 'uint64', last_by_subj: GO_SUBJECT, next_by_subj: GO_SUBJECT },
};

/**
 * How a direct get is answered: headers (a status line, or the message's) and a body. A found
 * message's are adjacent views of one buffer (the router sends them without another copy).
 */
export interface DirectReply {
  readonly headers: Buffer;
  readonly data: Buffer;
}

const EMPTY = Buffer.alloc(0);
const status = (line: string): DirectReply => ({ headers: Buffer.from(`NATS/1.0 ${line}\r\n\r\n`, 'latin1'), data: EMPTY });

/** The message a request asks for (nats-server's LoadMsg / LoadNextMsg / LoadLastMsg choice). */
export function loadRequested(store: StreamStore, req: MsgGetRequest): StoredMessage | null {
  if (req.seq > 0 && req.next_by_subj === '') return store.load(req.seq);
  if (req.next_by_subj !== '') return store.loadNext(req.next_by_subj, req.seq);
  return store.loadLast(req.last_by_subj);
}

/** `$JS.API.DIRECT.GET.<stream>` with a JSON body. */
export function directGet(stream: string, store: StreamStore, body: Buffer): DirectReply {
  if (body.length === 0) return status('408 Empty Request');
  const decoded = decodeGoValue(body.toString('utf8'), MSG_GET_REQUEST);
  if (decoded === null) return status('408 Malformed Request');
  const req = decoded.value as MsgGetRequest;
  if (req.seq === 0 && req.last_by_subj === '' && req.next_by_subj === '') return status('408 Empty Request');
  if (req.seq > 0 && req.last_by_subj !== '') return status('408 Bad Request');
  if (req.last_by_subj !== '' && req.next_by_subj !== '') return status('408 Bad Request');
  return reply(stream, loadRequested(store, req));
}

/**
 * `$JS.API.DIRECT.GET.<stream>.<key>`: the last message on `key` (everything after the stream
 * name's token, cut by the caller; '' when there was none); the body must be empty.
 */
export function directGetLastKey(stream: string, store: StreamStore, key: string, body: Buffer): DirectReply {
  if (body.length !== 0) return status('408 Bad Request');
  if (key === '') return status('408 Bad Request');
  return reply(stream, store.loadLast(key));
}

const NO_HEADERS = Buffer.from('NATS/1.0\r\n', 'latin1');
const H_SUBJECT = Buffer.from('\r\nNats-Subject: ', 'latin1');
const H_SEQUENCE = Buffer.from('\r\nNats-Sequence: ', 'latin1');
const H_TIME = Buffer.from('\r\nNats-Time-Stamp: ', 'latin1');

/** `Nats-Stream: <name>` of the stream last answered for (one stream's gets are the common case). */
let streamLineFor = '';
let streamLine: Buffer = Buffer.alloc(0);

/**
 * The reply to a found message: its header block without the closing CRLF (or `NATS/1.0`), the
 * four `Nats-*` headers, the blank line, then the payload — written straight into one buffer
 * (no header text built as a string, no second copy to join headers and payload). Latin1, as
 * the subjects (one char per byte, as the parser reads them).
 */
function reply(stream: string, m: StoredMessage | null): DirectReply {
  if (m === null) return status('404 Message Not Found');
  if (stream !== streamLineFor) {
    // The name is text (from JSON), the subject bytes.
    streamLine = Buffer.from(`Nats-Stream: ${stream}`, 'utf8');
    streamLineFor = stream;
  }
  const head = m.hdr === null || m.hdr.length <= 2 ? NO_HEADERS : m.hdr;
  const headLen = head === NO_HEADERS ? NO_HEADERS.length : head.length - 2;
  // 16 digits of sequence and 40 bytes of time are more than either can take.
  const max = headLen + streamLine.length + H_SUBJECT.length + m.subject.length + H_SEQUENCE.length + 16 + H_TIME.length + 40 + 4 + m.data.length;
  const buf = Buffer.allocUnsafe(max);
  let p = head.copy(buf, 0, 0, headLen);
  p += streamLine.copy(buf, p);
  p += H_SUBJECT.copy(buf, p);
  p = writeLatin1(buf, p, m.subject);
  p += H_SEQUENCE.copy(buf, p);
  p = writeUint(buf, p, m.seq);
  p += H_TIME.copy(buf, p);
  p = writeRfc3339Nano(buf, p, m.ts);
  buf[p++] = 0x0d;
  buf[p++] = 0x0a;
  buf[p++] = 0x0d;
  buf[p++] = 0x0a;
  const end = p + m.data.copy(buf, p);
  return { headers: buf.subarray(0, p), data: buf.subarray(p, end) };
}
