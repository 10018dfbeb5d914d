/**
 * The WebSocket listener: browser and `wsconnect` clients speak the ordinary NATS protocol in
 * binary WebSocket frames (text frames are accepted too, as nats-server does). Framing,
 * masking and permessage-deflate are the `ws` library's; each connection is handed to
 * `BrokerCore.accept` through {@link WebSocketConnection}, which looks like the part of a
 * `net.Socket` the core uses, so parser, auth, permissions, limits and slow-consumer rules
 * are the same as for TCP clients.
 *
 * nats-server facts (v2.10 `server/websocket.go`): the Origin check (`checkOrigin`) runs only
 * with `same_origin` or `allowed_origins`, accepts a request without an Origin header, and
 * answers a refused one with HTTP 403; the upgrade is served on every path. With `tls` the
 * listener is `wss://`: the TLS handshake comes first (client certificates with `verify`),
 * then the HTTP upgrade. With `jwt_cookie`, the named cookie of the upgrade request is handed
 * to the broker with the connection (its user JWT, when the CONNECT carries none).
 */
import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server as HttpServer } from 'node:http';
import type { X509Certificate } from 'node:crypto';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { listen } from './listen.js';
import { handshakeDeadline, serverSocket, type TlsSettings } from './tls.js';
import type { Transport } from './transport.js';

/** The websocket settings the listener uses (a resolved `websocket` option satisfies it). */
export interface WebSocketSettings {
  readonly host: string;
  readonly compression: boolean;
  readonly sameOrigin: boolean;
  readonly allowedOrigins: readonly string[];
  /** TLS of the listener (`wss://`), or null for `ws://`. */
  readonly tls: TlsSettings | null;
  /** The cookie of the upgrade request that may carry a user JWT, or null. */
  readonly jwtCookie: string | null;
}

/**
 * One WebSocket connection as a {@link Transport}: `write` sends a binary frame (writes
 * between `cork()` and `uncork()` go out as one frame), `data` events carry the payloads of
 * received frames, `end` closes with a close frame, `destroy` terminates. Byte counters are the
 * underlying TCP socket's, plus what `ws` still queues.
 */
export class WebSocketConnection extends EventEmitter implements Transport {
  private corked = 0;
  private readonly corkedChunks: Buffer[] = [];
  private corkedBytes = 0;
  private closed = false;
  private endCallbacks: Array<() => void> = [];

  constructor(
    private readonly ws: WebSocket,
    private readonly raw: Duplex,
  ) {
    super();
    ws.on('message', (data: RawData) => this.emit('data', toBuffer(data)));
    ws.on('error', (err: Error) => this.emit('error', err));
    ws.on('close', () => {
      this.closed = true;
      const callbacks = this.endCallbacks;
      this.endCallbacks = [];
      for (const cb of callbacks) cb();
      this.emit('close', false);
    });
    raw.on('drain', () => this.emit('drain'));
  }

  private get tcp(): Partial<Socket> {
    return this.raw as Partial<Socket>;
  }

  get remoteAddress(): string | undefined {
    return this.tcp.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.tcp.remotePort;
  }

  /** Bytes queued and not yet taken by the kernel (in `ws`, in the TCP socket, or corked). */
  get writableLength(): number {
    return this.ws.bufferedAmount + this.corkedBytes;
  }

  /** Bytes the kernel took, plus {@link writableLength} (as `net.Socket` counts it). */
  get bytesWritten(): number {
    const raw = this.raw as Partial<Socket> & { writableLength: number };
    return (raw.bytesWritten ?? 0) - raw.writableLength + this.writableLength;
  }

  get destroyed(): boolean {
    return this.closed || this.raw.destroyed;
  }

  /** The client certificate of a `wss://` connection (undefined without one, or over `ws://`). */
  getPeerX509Certificate(): X509Certificate | undefined {
    const tls = this.raw as Partial<{ getPeerX509Certificate(): X509Certificate | undefined }>;
    return typeof tls.getPeerX509Certificate === 'function' ? tls.getPeerX509Certificate() : undefined;
  }

  setNoDelay(noDelay = true): this {
    this.tcp.setNoDelay?.(noDelay);
    return this;
  }

  write(chunk: Buffer | string, cb?: (err?: Error) => void): boolean {
    if (this.destroyed) return false;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (this.corked > 0) {
      this.corkedChunks.push(buf);
      this.corkedBytes += buf.length;
      if (cb !== undefined) queueMicrotask(() => cb());
      return true;
    }
    this.send(buf, cb);
    return this.raw.writableLength === 0;
  }

  private send(buf: Buffer, cb?: (err?: Error) => void): void {
    if (buf.length === 0) return;
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(buf, { binary: true }, cb);
  }

  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked === 0) return;
    if (--this.corked > 0) return;
    const chunks = this.corkedChunks.splice(0);
    const bytes = this.corkedBytes;
    this.corkedBytes = 0;
    if (chunks.length === 1) this.send(chunks[0]);
    else if (chunks.length > 1) this.send(Buffer.concat(chunks, bytes));
  }

  /** Sends what is queued, then a close frame; `cb` runs once the connection has closed. */
  end(cb?: () => void): this {
    if (this.corked > 0) {
      this.corked = 1;
      this.uncork();
    }
    if (this.closed) {
      if (cb !== undefined) queueMicrotask(cb);
      return this;
    }
    if (cb !== undefined) this.endCallbacks.push(cb);
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(1000);
    return this;
  }

  destroy(): this {
    this.corkedChunks.length = 0;
    this.corkedBytes = 0;
    if (!this.closed) this.ws.terminate();
    return this;
  }

  pause(): this {
    this.ws.pause();
    return this;
  }

  resume(): this {
    this.ws.resume();
    return this;
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** `host` and `port` of a `Host`/`Origin` authority, with the scheme's default port. */
function hostAndPort(authority: string, tls: boolean): { host: string; port: string } | null {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  if (m === null) return null;
  const host = m[1].replace(/^\[|\]$/g, '').toLowerCase();
  return { host, port: m[2] !== undefined && m[2] !== '' ? m[2] : tls ? '443' : '80' };
}

/** nats-server's `checkOrigin`: null when the request may upgrade, else the reason. */
export function checkOrigin(opts: WebSocketSettings, req: IncomingMessage): string | null {
  if (!opts.sameOrigin && opts.allowedOrigins.length === 0) return null;
  const header = req.headers.origin ?? req.headers['sec-websocket-origin'];
  const origin = Array.isArray(header) ? header[0] : header;
  if (origin === undefined || origin === '') return null;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return `invalid origin "${origin}"`;
  }
  const o = hostAndPort(u.host, u.protocol === 'https:');
  if (o === null) return `invalid origin "${origin}"`;
  if (opts.sameOrigin) {
    const r = hostAndPort(req.headers.host ?? '', opts.tls !== null);
    if (r === null || r.host !== o.host || r.port !== o.port) return 'not same origin';
  }
  if (opts.allowedOrigins.length > 0) {
    const ok = opts.allowedOrigins.some((a) => {
      let au: URL;
      try {
        au = new URL(a);
      } catch {
        return false;
      }
      const ah = hostAndPort(au.host, au.protocol === 'https:');
      return ah !== null && ah.host === o.host && ah.port === o.port && au.protocol === u.protocol;
    });
    if (!ok) return 'not in the allowed list';
  }
  return null;
}

/**
 * The value of cookie `name` in a request's `Cookie` header (the first one; surrounding
 * double quotes dropped, as Go's `Request.Cookie`), or '' when absent.
 */
export function cookieValue(header: string | undefined, name: string): string {
  if (header === undefined || header === '') return '';
  for (const part of header.split(';')) {
    const p = part.trim();
    const eq = p.indexOf('=');
    if ((eq < 0 ? p : p.slice(0, eq)) !== name) continue;
    const v = eq < 0 ? '' : p.slice(eq + 1);
    return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  }
  return '';
}

/** A running WebSocket listener. */
export interface WebSocketListener {
  readonly port: number;
  /** Stops accepting; resolves once the listener and every connection it accepted are closed. */
  close(): Promise<void>;
  /** Stops accepting new connections (lame duck), keeping the open ones. */
  stopAccepting(): void;
}

function httpError(socket: Duplex, status: number, text: string, body: string): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Binds the WebSocket listener; each upgraded connection goes to `accept`. */
/** The largest WebSocket message accepted (after inflating), one message being delivered whole. */
export const WS_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

export async function startWebSocketListener(
  opts: WebSocketSettings,
  port: number,
  /** `path`: the upgrade request's path (`/leafnode` for a leaf node, nats-server's leafNodeWSPath). */
  accept: (conn: WebSocketConnection, cookieJwt: string, path: string) => void,
  log: { warn(message: string): void },
): Promise<WebSocketListener> {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: opts.compression ? { serverNoContextTakeover: false, clientNoContextTakeover: false } : false,
    // The NATS parser enforces max_payload and max_control_line; this bounds one frame.
    maxPayload: WS_MAX_MESSAGE_BYTES,
  });
  const plain: RequestListener = (_req, res) => {
    // A plain HTTP request (no upgrade): nats-server answers 400 as well.
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
    res.end('websocket: invalid value for header "Upgrade"\n');
  };
  const http: HttpServer = createHttpServer(plain);
  // wss: the TCP listener does the TLS handshake (tls.ts, as for TCP clients, within the TLS
  // timeout) and hands the secured socket to the HTTP server. Sockets still in their handshake
  // are tracked, so close() releases them at once.
  const tls = opts.tls;
  const handshaking = new Set<TLSSocket>();
  const server: NetServer = tls === null
    ? http
    : createNetServer((raw) => {
        raw.on('error', () => raw.destroy());
        const secured = serverSocket(raw, tls);
        handshaking.add(secured);
        // A failed handshake (no or a bad certificate with verify) closes that socket only.
        secured.on('error', () => secured.destroy());
        secured.once('close', () => handshaking.delete(secured));
        handshakeDeadline(secured, tls, 'secure', () => {
          handshaking.delete(secured);
          http.emit('connection', secured);
        }, () => secured.destroy());
      });
  // Sockets the HTTP server has that are not upgraded yet (a half-sent or missing upgrade
  // request): close() destroys them, as nats-server's http.Server.Close drops every connection;
  // Node counts them neither idle nor upgraded, so the listener would never close.
  const preUpgrade = new Set<Duplex>();
  http.on('connection', (socket: Duplex) => {
    preUpgrade.add(socket);
    socket.once('close', () => preUpgrade.delete(socket));
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    preUpgrade.delete(socket);
    socket.on('error', () => socket.destroy());
    const refused = checkOrigin(opts, req);
    if (refused !== null) {
      log.warn(`websocket: origin not allowed: ${refused}`);
      return httpError(socket, 403, 'Forbidden', `origin not allowed: ${refused}\n`);
    }
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      return httpError(socket, 400, 'Bad Request', 'websocket: invalid value for header "Upgrade"\n');
    }
    const cookie = opts.jwtCookie === null ? '' : cookieValue(req.headers.cookie, opts.jwtCookie);
    const path = (req.url ?? '/').split('?')[0];
    wss.handleUpgrade(req, socket, head, (ws) => accept(new WebSocketConnection(ws, socket), cookie, path));
  });
  const bound = await listen(server, opts.host, port, (err) => process.emitWarning(`nats-embedded: websocket listener error: ${err.message}`));
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  const stop = (): void => {
    if (server.listening) server.close();
    for (const s of handshaking) s.destroy();
    for (const s of preUpgrade) s.destroy();
    http.closeIdleConnections();
  };
  return {
    port: bound,
    stopAccepting: stop,
    close() {
      stop();
      // Open connections are closed by the server (flushed or not), as TCP clients are.
      wss.close();
      return closed;
    },
  };
}
