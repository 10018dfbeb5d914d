/**
 * Accepting client connections: a socket of the client listener (TLS as configured: required,
 * or optional with `allow_non_tls`) or a connection of the websocket listener becomes a
 * {@link Client} registered with the core, after the INFO nats-server sends first.
 */
import type { Socket } from 'node:net';
import { serverSocket } from '../io/tls.js';
import type { Transport } from '../io/transport.js';
import { newNonce } from '../auth/auth.js';
import type { ResolvedTls } from '../config/options.js';
import { Client } from './client.js';
import { CloseReason } from './close-reason.js';
import type { BrokerCore } from './core.js';
import { infoFrame } from './info.js';
import { timerDelay } from '../io/timers.js';

/** How a client's transport came to be. */
interface Arrival {
  readonly websocket: boolean;
  /** TLS of the connection (already wrapped), or null for plain text. */
  readonly tls: ResolvedTls | null;
  /** The plain socket under a TLS one: the INFO goes out on it before the handshake. */
  readonly raw: Socket | null;
  /** INFO already sent (allow_non_tls sends it before the client chooses). */
  readonly infoSent: boolean;
  /** The nonce that INFO carried. */
  readonly nonce: string | null;
}

/**
 * Takes over a socket of the client listener: sends INFO (TLS after it, as configured),
 * enforces max_connections, wires events.
 */
export function acceptSocket(core: BrokerCore, socket: Socket): void {
  const cid = core.allocCid();
  socket.setNoDelay(true);
  const tls = core.options.tls;
  if (tls === null) {
    attach(core, socket, cid, { websocket: false, tls: null, raw: null, infoSent: false, nonce: null });
  } else if (!core.options.allowNonTls) {
    // With TLS the INFO goes out in plain text, then the client upgrades (nats-server's order).
    attach(core, serverSocket(socket, tls), cid, { websocket: false, tls, raw: socket, infoSent: false, nonce: null });
  } else {
    acceptEither(core, socket, cid, tls);
  }
}

/**
 * Takes over a connection of the websocket listener (its TLS, if any, was the listener's
 * handshake, done before the upgrade); `cookieJwt` is the `jwtCookie` cookie's value, or ''.
 */
export function acceptWebSocket(core: BrokerCore, conn: Transport, cookieJwt = ''): void {
  const cid = core.allocCid();
  conn.setNoDelay(true);
  const client = attach(core, conn, cid, { websocket: true, tls: null, raw: null, infoSent: false, nonce: null });
  client.cookieJwt = cookieJwt;
}

/**
 * `allow_non_tls`: INFO (with `tls_available`) goes out first; then the client's first bytes
 * say which it chose — a TLS handshake record starts with 0x16 (nats-server reads up to 4
 * bytes, within tls_timeout; no bytes by then means plain text).
 */
function acceptEither(core: BrokerCore, raw: Socket, cid: number, tls: ResolvedTls): void {
  const nonce = core.auth?.needsNonce ? newNonce() : null;
  raw.write(infoFrame(core, { cid, ip: raw.remoteAddress ?? '', nonce }));
  let decided = false;
  const decide = (chunk: Buffer | null): void => {
    if (decided) return;
    decided = true;
    clearTimeout(timer);
    raw.off('data', decide);
    raw.off('close', gone);
    raw.off('error', gone);
    if (chunk !== null) {
      raw.pause();
      raw.unshift(chunk);
    }
    const secure = chunk !== null && chunk[0] === 0x16;
    const transport = secure ? serverSocket(raw, tls) : raw;
    attach(core, transport, cid, { websocket: false, tls: secure ? tls : null, raw: secure ? raw : null, infoSent: true, nonce });
    if (!secure) raw.resume();
  };
  const gone = (): void => {
    decided = true;
    clearTimeout(timer);
    raw.destroy();
  };
  const timer = setTimeout(() => decide(null), timerDelay(tls.timeoutMs));
  timer.unref();
  raw.on('data', decide);
  raw.once('close', gone);
  raw.once('error', gone);
}

/** Makes and registers a client on `transport` (TLS already wrapped when `how.tls`), sending INFO unless sent. */
function attach(core: BrokerCore, transport: Transport, cid: number, how: Arrival): Client {
  const client = new Client(core, cid, transport, how.websocket);
  const auth = how.websocket ? core.wsAuth : core.auth;
  if (auth !== null) client.startAuth(auth, how.nonce);
  if (how.tls === null) {
    if (!how.infoSent) client.send(core.infoFrame(client));
  } else {
    if (!how.infoSent) how.raw!.write(core.infoFrame(client));
    const timer = setTimeout(() => {
      // nats-server: "Secure Connection - TLS Required" after tls_timeout, then close.
      if (!client.tlsReady) client.close(CloseReason.TlsHandshake, false);
    }, timerDelay(how.tls.timeoutMs));
    timer.unref();
    transport.once('secure', () => {
      client.tlsReady = true;
      clearTimeout(timer);
    });
    transport.once('close', () => clearTimeout(timer));
  }
  transport.on('data', (chunk: Buffer) => core.onData(client, chunk));
  transport.on('drain', client.onDrain);
  transport.on('error', () => client.close(CloseReason.ReadError, false));
  transport.on('end', () => client.close(CloseReason.ClientClosed));
  transport.on('close', () => client.close(CloseReason.ClientClosed, false));
  const log = core.log;
  if (log.debugOn) log.debug(`${client.label} - Client connection created`);
  core.register(client);
  return client;
}
