/**
 * A minimal NATS client for the `server.jetstream` helpers on the nats-server backend: one TCP
 * connection into one account that sends requests (PUB/HPUB with a reply inbox) and reads the
 * replies (MSG/HMSG) of one wildcard inbox subscription. Nothing else of the protocol: no
 * reconnect, no TLS (a server that requires TLS is refused with `UnsupportedError`).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { BackendError, ServerClosedError, WaitTimeoutError } from '../errors.js';
import type { RequestSession } from '../server/backend.js';
import { PendingReplies, type SessionCredentials } from './sessions.js';

const CRLF = Buffer.from('\r\n');
const CONNECT_TIMEOUT_MS = 5000;

/** Connects to `host:port` as `credentials`; resolves once the server answered the first PING. */
export function openClientSession(host: string, port: number, credentials: SessionCredentials | null): Promise<RequestSession> {
  const pending = new PendingReplies();
  const socket: Socket = tcpConnect({ host, port });
  socket.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  let ready: ((err: Error | null) => void) | null = null;

  const fail = (err: Error): void => {
    pending.failAll(err);
    socket.destroy();
    ready?.(err);
  };

  /** Parses what has arrived; returns false while a message's payload is incomplete. */
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
        if (buf.length < start + total + 2) return;
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
        fail(new BackendError(`nats-server refused the helper's connection: ${line.slice(5)}`));
        return;
      } else if (line.startsWith('INFO ') && ready !== null && !sentConnect) {
        sentConnect = true;
        let info: { tls_required?: boolean } = {};
        try {
          info = JSON.parse(line.slice(5)) as { tls_required?: boolean };
        } catch {
          // an INFO we cannot read: carry on, the server answers CONNECT if it can
        }
        if (info.tls_required === true) {
          fail(new BackendError('the server requires TLS, which the server.jetstream helpers do not speak on the nats-server backend'));
          return;
        }
        const connect = { verbose: false, pedantic: false, headers: true, no_responders: true, protocol: 1, lang: 'nats-embedded', version: '0', name: 'nats-embedded test helper', ...credentials };
        socket.write(`CONNECT ${JSON.stringify(connect)}\r\nSUB ${pending.prefix}.* 1\r\nPING\r\n`);
      }
    }
  };
  let sentConnect = false;

  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    parse();
  });
  socket.on('error', (err) => fail(new BackendError(`the helper's connection to nats-server failed: ${err.message}`, { cause: err })));
  socket.on('close', () => fail(new ServerClosedError('finish a JetStream request', 'the connection to nats-server closed')));

  return new Promise<RequestSession>((resolve, reject) => {
    const timer = setTimeout(() => fail(new WaitTimeoutError('the helper connection to nats-server', CONNECT_TIMEOUT_MS)), CONNECT_TIMEOUT_MS);
    timer.unref();
    ready = (err) => {
      clearTimeout(timer);
      ready = null;
      if (err !== null) {
        reject(err);
        return;
      }
      resolve({
        request(subject, data, headers, timeoutMs) {
          if (pending.closed) return Promise.reject(new ServerClosedError(`send ${subject}`, 'the connection to nats-server is closed'));
          const { reply, promise } = pending.add(subject, timeoutMs);
          if (headers === null) {
            socket.write(`PUB ${subject} ${reply} ${data.byteLength}\r\n`);
          } else {
            const h = Buffer.byteLength(headers, 'latin1');
            socket.write(`HPUB ${subject} ${reply} ${h} ${h + data.byteLength}\r\n${headers}`, 'latin1');
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
