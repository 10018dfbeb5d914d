/**
 * TLS for listeners and dialled routes: one secure context per TLS configuration (built on
 * first use), server-side wrapping of an accepted socket, and the handshake deadline
 * (nats-server's `tls_timeout`): a connection whose handshake has not finished in time is
 * closed by the caller's `onTimeout`.
 */
import type { Socket } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { timerDelay } from './timers.js';

/** The TLS settings these helpers need (a resolved `tls` option). */
export interface TlsSettings {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | null;
  readonly verify: boolean;
  readonly timeoutMs: number;
}

/** Secure contexts by the settings object they were made for (options are frozen and reused). */
const contexts = new WeakMap<TlsSettings, SecureContext>();

/** The secure context of `tls`, created once. */
export function secureContext(tls: TlsSettings): SecureContext {
  let ctx = contexts.get(tls);
  if (ctx === undefined) {
    ctx = createSecureContext({ cert: tls.cert, key: tls.key, ...(tls.ca !== null ? { ca: tls.ca } : {}) });
    contexts.set(tls, ctx);
  }
  return ctx;
}

/**
 * Wraps an accepted socket for a server-side handshake (client certificates required with
 * `verify`). A `TLSSocket` made outside a `tls.Server` does not reject a certificate that fails
 * verification by itself (OpenSSL only refuses a missing one; `tls.Server` checks the chain when
 * the handshake is done): with `verify`, the chain's verification error is checked here, before
 * any other 'secure' listener runs, and the socket destroyed with it. Fails closed when the
 * check is not available.
 */
export function serverSocket(raw: Socket, tls: TlsSettings): TLSSocket {
  const socket = new TLSSocket(raw, { isServer: true, secureContext: secureContext(tls), requestCert: tls.verify, rejectUnauthorized: tls.verify });
  if (tls.verify) {
    socket.once('secure', () => {
      const handle = (socket as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
      const err = typeof handle?.verifyError === 'function' ? handle.verifyError() : new Error('client certificate could not be verified');
      if (err === null) socket.authorized = true;
      else {
        socket.authorizationError = err;
        socket.destroy(err);
      }
    });
  }
  return socket;
}

/**
 * Calls `onTimeout` unless `socket` emits `event` ('secure' on the server side, 'secureConnect'
 * when dialling) within `tls.timeoutMs`; `onSecure` runs once it does (unless the socket was
 * destroyed by then). The timer never keeps
 * the process alive.
 */
export function handshakeDeadline(
  socket: { once(event: string, listener: () => void): unknown; readonly destroyed?: boolean },
  tls: { readonly timeoutMs: number },
  event: 'secure' | 'secureConnect',
  onSecure: () => void,
  onTimeout: () => void,
): void {
  const timer = setTimeout(onTimeout, timerDelay(tls.timeoutMs));
  timer.unref();
  socket.once(event, () => {
    clearTimeout(timer);
    // A certificate refused after the handshake (serverSocket's check) destroyed the socket.
    if (socket.destroyed !== true) onSecure();
  });
  socket.once('close', () => clearTimeout(timer));
}
