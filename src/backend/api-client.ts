/**
 * A minimal NATS client for the `server.jetstream` helpers on the nats-server backend: one TCP
 * connection into one account that sends requests (PUB/HPUB with a reply inbox) and reads the
 * replies (MSG/HMSG) of one wildcard inbox subscription. Nothing else of the protocol: no
 * reconnect, no TLS (a server that requires TLS is refused with `BackendError`).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { BackendError, ServerClosedError, WaitTimeoutError } from '../errors.js';
import type { RequestSession } from '../server/backend.js';
import { PendingReplies, checkRequestSubject, type SessionCredentials } from './sessions.js';

const CRLF = Buffer.from('\r\n');
const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/** nats-server's default max_payload, for an INFO without one. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
const PUB_VIOLATION = /Permissions Violation for Publish to "([^"]*)"/;

/**
 * Connects to `host:port` as `credentials`; resolves once the server answered the first PING
 * (within `connectTimeoutMs`). An `-ERR` before that refuses the connection; after it, the
 * requests it concerns reject with the server's text and the session goes on (the server
 * closes the connection itself when the error is fatal).
 */
export function openClientSession(
  host: string,
  port: number,
  credentials: SessionCredentials | null,
  connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): Promise<RequestSession> {
  const pending = new PendingReplies();
  const socket: Socket = tcpConnect({ host, port });
  socket.setNoDelay(true);
  // What has arrived and not been parsed: `buf`, then `more` (kept apart, not copied, while a
  // large reply is incomplete: `need` is the length it takes).
  let buf: Buffer = Buffer.alloc(0);
  let more: Buffer[] = [];
  let moreLen = 0;
  let need = 0;
  let ready: ((err: Error | null) => void) | null = null;
  let maxPayload = DEFAULT_MAX_PAYLOAD;
  let lastErr: string | null = null;

  const fail = (err: Error): void => {
    pending.failAll(err);
    socket.destroy();
    ready?.(err);
  };

  /** Parses what has arrived, up to an incomplete line or message. */
  const parse = (): void => {
    for (;;) {
      const eol = buf.indexOf(CRLF);
      if (eol < 0) return;
      const line = buf.subarray(0, eol).toString('latin1');
      const op = line.slice(0, 4).toUpperCase();
      if (op === 'MSG ' || op === 'HMSG') {
        const parts = line.split(' ').filter((p) => p !== '');
        const isH = op === 'HMSG';
        // MSG subject sid [reply] size / HMSG subject sid [reply] hdrsize totalsize
        const total = Number(parts[parts.length - 1]);
        const hdr = isH ? Number(parts[parts.length - 2]) : 0;
        const start = eol + 2;
        if (buf.length < start + total + 2) {
          need = start + total + 2;
          return;
        }
        const headers = isH ? buf.subarray(start, start + hdr) : null;
        const data = buf.subarray(start + hdr, start + total);
        pending.settle(parts[1] ?? '', data, headers);
        buf = buf.subarray(start + total + 2);
        continue;
      }
      buf = buf.subarray(eol + 2);
      if (line.startsWith('PING')) socket.write('PONG\r\n');
      else if (line.startsWith('PONG')) {
        ready?.(null);
        ready = null;
      } else if (line.startsWith('-ERR')) {
        const text = line.slice(5).trim();
        if (ready !== null) {
          fail(new BackendError(`nats-server refused the helper's connection: ${text}`));
          return;
        }
        // After the handshake: the requests it concerns fail, the session goes on.
        lastErr = text;
        const m = PUB_VIOLATION.exec(text);
        pending.fail(m === null ? null : (m[1] ?? null), new BackendError(`the server refused a request: ${text}`));
      } else if (line.startsWith('INFO ') && ready !== null && !sentConnect) {
        sentConnect = true;
        let info: { tls_required?: boolean; max_payload?: number } = {};
        try {
          info = JSON.parse(line.slice(5)) as { tls_required?: boolean; max_payload?: number };
        } catch {
          // an INFO we cannot read: carry on, the server answers CONNECT if it can
        }
        if (info.tls_required === true) {
          fail(new BackendError('the server requires TLS, which the server.jetstream helpers do not speak on the nats-server backend'));
          return;
        }
        if (typeof info.max_payload === 'number' && info.max_payload > 0) maxPayload = info.max_payload;
        const connect = { verbose: false, pedantic: false, headers: true, no_responders: true, protocol: 1, lang: 'nats-embedded', version: '0', name: 'nats-embedded test helper', ...credentials };
        socket.write(`CONNECT ${JSON.stringify(connect)}\r\nSUB ${pending.prefix}.* 1\r\nPING\r\n`);
      }
    }
  };
  let sentConnect = false;

  socket.on('data', (chunk: Buffer) => {
    if (need > 0 && buf.length + moreLen + chunk.length < need) {
      more.push(chunk);
      moreLen += chunk.length;
      return;
    }
    buf = buf.length === 0 && more.length === 0 ? chunk : Buffer.concat([buf, ...more, chunk]);
    more = [];
    moreLen = 0;
    need = 0;
    parse();
  });
  socket.on('error', (err) => fail(new BackendError(`the helper's connection to nats-server failed: ${err.message}`, { cause: err })));
  socket.on('close', () => fail(new ServerClosedError('finish a JetStream request', `the connection to nats-server closed${lastErr === null ? '' : ` (after -ERR ${lastErr})`}`)));

  return new Promise<RequestSession>((resolve, reject) => {
    const timer = setTimeout(() => fail(new WaitTimeoutError('the helper connection to nats-server', connectTimeoutMs)), connectTimeoutMs);
    timer.unref();
    ready = (err) => {
      clearTimeout(timer);
      ready = null;
      if (err !== null) {
        reject(err);
        return;
      }
      resolve({
        get maxPayload() {
          return maxPayload;
        },
        request(subject, data, headers, timeoutMs) {
          if (pending.closed) return Promise.reject(new ServerClosedError(`send ${subject}`, 'the connection to nats-server is closed'));
          try {
            checkRequestSubject(subject);
          } catch (err) {
            return Promise.reject(err);
          }
          const { reply, promise } = pending.add(subject, timeoutMs);
          if (headers === null) {
            socket.write(`PUB ${subject} ${reply} ${data.byteLength}\r\n`);
          } else {
            // UTF-8, as the clients write header values.
            const h = Buffer.byteLength(headers, 'utf8');
            socket.write(`HPUB ${subject} ${reply} ${h} ${h + data.byteLength}\r\n${headers}`, 'utf8');
          }
          socket.write(data);
          socket.write(CRLF);
          return promise;
        },
        close() {
          pending.failAll(new ServerClosedError('finish a JetStream request', 'the session was closed'));
          socket.destroy();
        },
      });
    };
  });
}
