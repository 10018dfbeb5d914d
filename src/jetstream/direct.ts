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
import { rfc3339Nano } from '../protocol/go-format.js';
import type { StoredMessage, StreamStore } from './store/store.js';

/** A message-get request (JSApiMsgGetRequest), shared with STREAM.MSG.GET. */
export interface MsgGetRequest {
  seq: number;
  last_by_subj: string;
  next_by_subj: string;
}

export const MSG_GET_REQUEST: GoStructSchema = {
  kind: 'struct',
  fields: { seq: 'uint64', last_by_subj: 'string', next_by_subj: 'string' },
};

/** How a direct get is answered: headers (a status line, or the message's) and a body. */
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

/** `$JS.API.DIRECT.GET.<stream>.<subject>`: the last message on `subject`; the body must be empty. */
export function directGetLast(stream: string, store: StreamStore, subject: string, body: Buffer): DirectReply {
  if (body.length !== 0) return status('408 Bad Request');
  // The key is everything after the fifth token ($JS.API.DIRECT.GET.<stream>.).
  let key = '';
  for (let i = 0, n = 0; i < subject.length; i++) {
    if (subject.charCodeAt(i) === 0x2e) {
      if (n === 4) {
        key = subject.slice(i + 1);
        break;
      }
      n++;
    }
  }
  if (key === '') return status('408 Bad Request');
  return reply(stream, store.loadLast(key));
}

function reply(stream: string, m: StoredMessage | null): DirectReply {
  if (m === null) return status('404 Message Not Found');
  const head = m.hdr === null || m.hdr.length <= 2 ? 'NATS/1.0\r\n' : m.hdr.toString('latin1', 0, m.hdr.length - 2);
  const block = `${head}Nats-Stream: ${stream}\r\nNats-Subject: ${m.subject}\r\nNats-Sequence: ${m.seq}\r\nNats-Time-Stamp: ${rfc3339Nano(m.ts)}\r\n\r\n`;
  return { headers: Buffer.from(block, 'latin1'), data: m.data };
}
