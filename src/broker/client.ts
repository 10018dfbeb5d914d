/**
 * One client connection: parses its stream, applies nats-server's rules to each op, and
 * queues outbound frames. Message routing is the server's job (`server.ts`).
 */
import type { Socket } from 'node:net';
import { Parser, ParseErrorKind, type ParserSink, type PubArg } from '../protocol/parser.js';
import {
  DEFAULTS,
  ERR,
  GW_REPLY_PREFIX,
  JS_ACK_PREFIX,
  OK,
  PING,
  PONG,
  SERVICE_REPLY_PREFIX,
  encodeErr,
  errPubViolation,
  errReplyViolation,
} from '../protocol/constants.js';
import { isValidLiteralSubject } from '../subject/subject.js';
import { CLIENT_OPTS, INFO as INFO_STRUCT, decodeGoJson } from '../protocol/go-json.js';
import { newNonce, type AuthenticatedUser, type Authenticator, type Credentials } from '../auth/auth.js';
import type { Permissions } from '../auth/permissions.js';
import type { Account } from './account.js';
import { Outbound, ZERO_COPY_MIN } from '../io/outbound.js';
import type { BrokerCore } from './core.js';

/** Why a connection was closed; the texts are nats-server's (`/connz` `reason`). */
export const CloseReason = {
  ClientClosed: 'Client Closed',
  ProtocolViolation: 'Protocol Violation',
  AuthViolation: 'Authentication Failure',
  AuthTimeout: 'Authentication Timeout',
  TlsHandshake: 'TLS Handshake Failure',
  MaxPayload: 'Maximum Message Payload Exceeded',
  MaxControlLine: 'Maximum Control Line Exceeded',
  MaxConnections: 'Maximum Connections Exceeded',
  SlowConsumerPendingBytes: 'Slow Consumer (Pending Bytes)',
  SlowConsumerWriteDeadline: 'Slow Consumer (Write Deadline)',
  StaleConnection: 'Stale Connection',
  BadClientProtocol: 'Bad Client Protocol Version',
  NoRespondersRequiresHeaders: 'No Responders Requires Headers',
  ServerShutdown: 'Server Shutdown',
  ReadError: 'Read Error',
  WriteError: 'Write Error',
  Kicked: 'Kicked',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];

/** A subscription of one client. */
export class Subscription {
  readonly remote = false;
  /** Messages delivered so far. */
  nm = 0;
  /** Auto-unsubscribe limit; 0 means none. */
  max = 0;
  closed = false;

  constructor(
    readonly client: Client,
    readonly subject: string,
    readonly queue: string | null,
    readonly sid: string,
  ) {}
}

/** The client's CONNECT options, with nats-server's defaults for fields left out. */
export interface ClientOptions {
  verbose: boolean;
  pedantic: boolean;
  echo: boolean;
  headers: boolean;
  noResponders: boolean;
  protocol: number;
  name: string;
  lang: string;
  version: string;
}

const CRLF_LEN = 2;

export class Client implements ParserSink {
  readonly parser: Parser;
  readonly subs = new Map<string, Subscription>();
  readonly out = new Outbound();
  readonly start = Date.now();
  /** Last inbound messages or subscription changes (or CONNECT), as nats-server's `last`. */
  lastActivity = this.start;
  /** Round-trip time of the last PING (at first: accept to CONNECT), in ns; 0 = not measured. */
  rttNs = 0;
  /** SUB and UNSUB ops received (nats-server's `in.subs`): they count as activity. */
  private subOps = 0;
  private readonly startHr = performance.now();
  private rttStartHr = 0;

  // CONNECT state. Before CONNECT nats-server runs a connection on verbose/pedantic/echo = true.
  verbose = true;
  pedantic = true;
  echo = true;
  /** Headers negotiated: the client may send HPUB and receives HMSG. */
  headers = false;
  noResponders = false;
  protocol = 0;
  name = '';
  lang = '';
  version = '';
  connectReceived = false;
  /** The authenticated user's permissions, or null (no auth, or a user without any). */
  perms: Permissions | null = null;
  /** The authenticated user's name ('' without auth). */
  user = '';
  /** TLS handshake done (for connections of a TLS server). */
  tlsReady = false;
  /** A connection of the websocket listener. */
  websocket = false;
  /** The account whose subject space this client lives in. */
  account: Account;
  /** The nonce sent in INFO for nkey signatures, or null. */
  nonce: string | null = null;
  /** Credentials from CONNECT, kept for re-authentication on config reload. */
  private creds: Credentials = { user: '', pass: '', token: '', nkey: '', sig: '' };
  /** Reply subjects this client may answer (allow_responses): subject → sent count, since. */
  private replies: Map<string, { n: number; t: number }> | null = null;
  private authTimer: NodeJS.Timeout | null = null;
  /** Set when the first PING after CONNECT was answered: from then on async INFO may be sent. */
  firstPongSent = false;

  closed = false;
  closeReason: CloseReason | null = null;
  /** Set while the client is in the server's flush list. */
  flushQueued = false;

  // Statistics, as /connz reports them.
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;

  // Liveness (PING timer), as nats-server's processPingTimer.
  pingsOut = 0;
  lastIn = 0;
  rttStart = 0;
  private pingTimer: NodeJS.Timeout | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  /** Runs while the socket holds unwritten bytes; cleared on 'drain'. */
  private writeTimer: NodeJS.Timeout | null = null;

  private readonly onPingTimer = (): void => this.processPingTimer();
  /** Bytes the kernel had taken when the write-deadline timer started. */
  private writtenAtTimerStart = 0;
  private readonly onWriteDeadline = (): void => {
    this.writeTimer = null;
    const socket = this.socket;
    if (this.closed || socket.writableLength === 0) return;
    const written = socket.bytesWritten - socket.writableLength;
    if (written > this.writtenAtTimerStart) {
      // Slow, but moving: give it another deadline.
      this.startWriteTimer();
      return;
    }
    this.core.slowConsumer(this, CloseReason.SlowConsumerWriteDeadline);
  };
  /** Called by the socket's 'drain' event: the kernel took everything, progress was made. */
  readonly onDrain = (): void => {
    if (this.writeTimer !== null) {
      clearTimeout(this.writeTimer);
      this.writeTimer = null;
    }
  };

  constructor(
    readonly core: BrokerCore,
    readonly cid: number,
    readonly socket: Socket,
  ) {
    const opts = core.options;
    this.account = core.globalAccount;
    this.parser = new Parser(this, { maxControlLine: opts.maxControlLine, maxPayload: opts.maxPayload });
    this.setPingTimer(opts.pingIntervalMs);
  }

  /** Feeds bytes read from the socket. */
  onData(chunk: Buffer): void {
    const msgsBefore = this.inMsgs;
    const subOpsBefore = this.subOps;
    this.parser.parse(chunk);
    if (this.inMsgs !== msgsBefore || this.subOps !== subOpsBefore) this.lastIn = this.lastActivity = Date.now();
  }

  /**
   * Auth is configured: the first op must be CONNECT (unless no_auth_user lets clients in
   * without one), within the auth timeout.
   */
  startAuth(auth: Authenticator, nonce: string | null = null): void {
    if (auth.needsNonce) this.nonce = nonce ?? newNonce();
    const noAuth = auth.noAuthUser();
    if (noAuth !== null) this.setUser(noAuth);
    else this.parser.awaitingAuth = true;
    this.authTimer = setTimeout(() => {
      this.authTimer = null;
      if (!this.connectReceived && !this.closed) {
        this.sendErrAndClose(ERR.AuthTimeout, CloseReason.AuthTimeout);
        this.core.flushAll();
      }
    }, auth.config.timeoutMs);
    this.authTimer.unref();
  }

  private clearAuthTimer(): void {
    if (this.authTimer !== null) {
      clearTimeout(this.authTimer);
      this.authTimer = null;
    }
  }

  private setUser(user: AuthenticatedUser): void {
    this.user = user.name;
    this.perms = user.permissions;
    this.account = this.core.account(user.account);
  }

  /** Config reload: checks the CONNECT credentials again; closes the client if they fail. */
  reauthenticate(): void {
    const auth = this.core.auth;
    if (auth === null) {
      this.user = '';
      this.perms = null;
      return;
    }
    const user = auth.authenticate(this.creds, this.nonce);
    // A client cannot move between accounts with its subscriptions: that closes it too.
    if (user === null || user.account !== this.account.name) this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
    else this.setUser(user);
  }

  /** allow_responses: `reply` may now be published to (see Permissions). */
  allowReply(reply: string): void {
    let replies = this.replies;
    if (replies === null) replies = this.replies = new Map();
    replies.set(reply, { n: 0, t: Date.now() });
    if (replies.size > 4096) this.pruneReplies();
  }

  private pruneReplies(): void {
    const r = this.perms?.responses;
    const replies = this.replies!;
    const now = Date.now();
    for (const [k, v] of replies) {
      if (r === null || r === undefined || (r.expiresMs > 0 && now - v.t > r.expiresMs) || (r.max > 0 && v.n >= r.max)) replies.delete(k);
    }
  }

  /** Publish permission, including allowed responses (nats-server pubAllowedFullCheck). */
  private canPublish(subject: string): boolean {
    const perms = this.perms!;
    if (perms.canPublish(subject)) return true;
    const r = perms.responses;
    const entry = r === null ? undefined : this.replies?.get(subject);
    if (entry === undefined || r === null) return false;
    entry.n++;
    if ((r.max > 0 && entry.n > r.max) || (r.expiresMs > 0 && Date.now() - entry.t > r.expiresMs)) {
      this.replies!.delete(subject);
      return false;
    }
    return true;
  }

  /** `ip:port - cid:N`, the prefix of this connection's log lines (nats-server's). */
  get label(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0} - cid:${this.cid}`;
  }

  /** Logs an inbound op as nats-server's trace does: `<<- [SUB foo 1]`. */
  private traceIn(op: string): void {
    this.core.log.trace(`${this.label} - <<- [${op}]`);
  }

  // ---- ParserSink -------------------------------------------------------------------------

  onConnect(json: string): void {
    if (this.core.log.traceOn) this.traceIn(`CONNECT ${json.replace(/"(pass|auth_token|sig|jwt)":"[^"]*"/g, '"$1":"[REDACTED]"')}`);
    // A CONNECT that Go cannot decode into ClientOpts closes the connection without an -ERR.
    const fields = decodeGoJson(json, CLIENT_OPTS);
    if (fields === null) return this.close(CloseReason.ProtocolViolation);
    this.clearAuthTimer();
    this.applyConnect(fields);
    this.connectReceived = true;
    this.headers = this.headers && !this.core.options.noHeaderSupport;
    this.parser.headers = this.headers;
    const auth = this.core.auth;
    if (auth !== null) {
      // When auth is not required, credentials are accepted and ignored (nats-server).
      const user = auth.authenticate(this.creds, this.nonce);
      if (user === null) return this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
      this.setUser(user);
      this.parser.awaitingAuth = false;
    }
    if (this.connectAccount) return this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
    if (this.protocol < 0 || this.protocol > 1) return this.sendErrAndClose(ERR.BadClientProtocol, CloseReason.BadClientProtocol);
    if (this.noResponders && !this.headers) {
      return this.sendErrAndClose(ERR.NoRespondersNeedHeaders, CloseReason.NoRespondersRequiresHeaders);
    }
    this.lastActivity = Date.now();
    // nats-server's first RTT estimate: from accept to CONNECT.
    this.rttNs = elapsedNs(this.startHr);
    if (this.verbose) this.sendProto(OK);
    this.setFirstPingTimer();
  }

  private connectAccount = false;

  /** Applies decoded CONNECT fields on top of the current options (absent fields keep theirs). */
  private applyConnect(fields: Map<string, unknown>): void {
    for (const [key, v] of fields) {
      switch (key) {
        case 'verbose': this.verbose = v as boolean; break;
        case 'pedantic': this.pedantic = v as boolean; break;
        case 'echo': this.echo = v as boolean; break;
        case 'headers': this.headers = v as boolean; break;
        case 'no_responders': this.noResponders = v as boolean; break;
        case 'protocol': this.protocol = v as number; break;
        case 'name': this.name = v as string; break;
        case 'lang': this.lang = v as string; break;
        case 'version': this.version = v as string; break;
        case 'account': if (v !== '') this.connectAccount = true; break;
        case 'new_account': if (v === true) this.connectAccount = true; break;
        case 'user': this.creds.user = v as string; break;
        case 'pass': this.creds.pass = v as string; break;
        case 'auth_token': this.creds.token = v as string; break;
        case 'nkey': this.creds.nkey = v as string; break;
        case 'sig': this.creds.sig = v as string; break;
        default: break;
      }
    }
  }

  onPubArgs(pa: PubArg): void {
    this.clearAuthTimer();
    if (this.core.log.traceOn) {
      this.traceIn(`${pa.hdr >= 0 ? 'HPUB' : 'PUB'} ${pa.subject}${pa.reply ? ` ${pa.reply}` : ''}${pa.hdr >= 0 ? ` ${pa.hdr}` : ''} ${pa.size}`);
    }
    if (this.pedantic && !isValidLiteralSubject(pa.subject)) this.sendErr(ERR.InvalidPublishSubject);
  }

  onMsg(pa: PubArg, buf: Buffer, start: number, end: number): void {
    this.inMsgs++;
    this.inBytes += end - start;
    // Reserved prefixes: gateway-routed subjects, and replies owned by the server.
    if (pa.subject.startsWith(GW_REPLY_PREFIX) && pa.subject.length > GW_REPLY_PREFIX.length) {
      return this.sendErr(errPubViolation(pa.subject));
    }
    if (this.perms !== null && !this.canPublish(pa.subject)) return this.sendErr(errPubViolation(pa.subject));
    if (pa.reply.length > 0 && isReservedReply(pa.reply)) return this.sendErr(errReplyViolation(pa.reply));
    if (this.verbose) this.sendProto(OK);
    this.core.routeMessage(this, pa, buf, start, end);
  }

  onSub(subject: string, queue: string | null, sid: string): void {
    this.clearAuthTimer();
    this.subOps++;
    if (this.core.log.traceOn) this.traceIn(`SUB ${subject}${queue === null ? '' : ` ${queue}`} ${sid}`);
    this.core.subscribe(this, subject, queue, sid);
  }

  onUnsub(sid: string, max: number): void {
    this.subOps++;
    if (this.core.log.traceOn) this.traceIn(`UNSUB ${sid}${max >= 0 ? ` ${max}` : ''}`);
    const sub = this.subs.get(sid);
    let remove = false;
    if (sub !== undefined) {
      if (max > 0 && max > sub.nm) sub.max = max;
      else {
        sub.max = 0;
        remove = true;
      }
    }
    if (this.verbose) this.sendProto(OK);
    if (remove) this.core.unsubscribe(sub!);
  }

  onPing(): void {
    if (this.core.log.traceOn) this.traceIn('PING');
    this.sendProto(PONG);
    this.lastIn = Date.now();
    // nats-server sends async INFO only to clients whose first PING after CONNECT it answered.
    if (this.connectReceived) this.firstPongSent = true;
  }

  /** True when the client accepts async INFO now (protocol 1 and past its first PING). */
  get acceptsAsyncInfo(): boolean {
    return this.protocol >= 1 && this.firstPongSent && !this.closed;
  }

  onPong(): void {
    if (this.core.log.traceOn) this.traceIn('PONG');
    this.pingsOut = 0;
    if (this.rttStartHr > 0) this.rttNs = elapsedNs(this.rttStartHr);
  }

  onInfo(json: string): void {
    // nats-server decodes a client's INFO and otherwise ignores it; one it cannot decode
    // closes the connection without a reply.
    if (decodeGoJson(json, INFO_STRUCT) === null) this.close(CloseReason.ProtocolViolation);
  }

  onErr(): void {
    // A client sending -ERR is closed (nats-server's processErr), without a reply.
    this.close(CloseReason.ProtocolViolation);
  }

  onParseError(kind: ParseErrorKind): void {
    switch (kind) {
      case ParseErrorKind.UnknownOp:
        return this.sendErrAndClose(ERR.UnknownOp, CloseReason.ProtocolViolation);
      case ParseErrorKind.MaxControlLine:
        return this.sendErrAndClose(ERR.MaxControlLine, CloseReason.MaxControlLine);
      case ParseErrorKind.MaxPayload:
        return this.sendErrAndClose(ERR.MaxPayload, CloseReason.MaxPayload);
      case ParseErrorKind.AuthViolation:
        return this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
      case ParseErrorKind.BadArgs:
      case ParseErrorKind.HeadersNotSupported:
        return this.close(CloseReason.ProtocolViolation);
    }
  }

  // ---- Outbound ---------------------------------------------------------------------------

  /** Queues a pre-encoded frame. */
  sendProto(frame: Buffer): void {
    if (this.closed) return;
    this.out.appendBytes(frame);
    this.core.markForFlush(this);
  }

  /** Queues `-ERR '<text>'`; the connection stays open. */
  sendErr(text: string): void {
    if (this.core.log.traceOn) this.core.log.trace(`${this.label} - ->> [-ERR '${text}']`);
    this.sendProto(encodeErr(text));
  }

  /** Queues `-ERR '<text>'`, flushes it and closes the connection. */
  sendErrAndClose(text: string, reason: CloseReason): void {
    this.sendErr(text);
    this.close(reason);
  }

  /**
   * Queues a MSG/HMSG for `sub` carrying `pa`'s message with payload `buf[start, end)`.
   * Returns false when the connection was closed as a slow consumer instead.
   */
  deliver(sub: Subscription, pa: PubArg, buf: Buffer, start: number, end: number): boolean {
    const subject = pa.subject;
    const reply = pa.reply;
    const sid = sub.sid;
    let hdr = pa.hdr;
    let size = pa.size;
    let withHeaders = false;
    if (hdr > 0) {
      if (this.headers) withHeaders = true;
      else {
        // A client that did not negotiate headers gets the payload without the header block.
        start += hdr;
        size -= hdr;
      }
    }
    const out = this.out;
    const line = 5 + subject.length + 1 + sid.length + 1 + reply.length + 1 + 20 + 1 + 20 + CRLF_LEN;
    const copyPayload = size < ZERO_COPY_MIN;
    const slab = out.reserve(copyPayload ? line + size + CRLF_LEN : line);
    let p = out.pos;
    if (withHeaders) slab[p++] = 0x48; // H
    slab[p++] = 0x4d; // M
    slab[p++] = 0x53; // S
    slab[p++] = 0x47; // G
    slab[p++] = 0x20;
    p = writeLatin1(slab, p, subject);
    slab[p++] = 0x20;
    p = writeLatin1(slab, p, sid);
    slab[p++] = 0x20;
    if (reply.length > 0) {
      p = writeLatin1(slab, p, reply);
      slab[p++] = 0x20;
    }
    if (withHeaders) {
      for (let z = pa.hdrZeros; z > 0; z--) slab[p++] = 0x30;
      p = writeUint(slab, p, hdr);
      slab[p++] = 0x20;
    }
    // The size field as the publisher wrote it, unless it was recomputed (headers stripped).
    if (hdr <= 0 || withHeaders) for (let z = pa.sizeZeros; z > 0; z--) slab[p++] = 0x30;
    p = writeUint(slab, p, size);
    slab[p++] = 0x0d;
    slab[p++] = 0x0a;
    if (copyPayload) {
      if (size > 0) {
        if (size <= SMALL_COPY) {
          for (let k = 0; k < size; k++) slab[p + k] = buf[start + k];
        } else {
          buf.copy(slab, p, start, start + size);
        }
        p += size;
      }
      slab[p++] = 0x0d;
      slab[p++] = 0x0a;
      out.pos = p;
    } else {
      out.pos = p;
      out.appendRef(buf, start, start + size);
      const tail = out.reserve(CRLF_LEN);
      tail[out.pos++] = 0x0d;
      tail[out.pos++] = 0x0a;
    }
    this.outMsgs++;
    this.outBytes += size;
    if (out.queued + this.socket.writableLength > this.core.options.maxPending) {
      this.core.slowConsumer(this, CloseReason.SlowConsumerPendingBytes);
      return false;
    }
    this.core.markForFlush(this);
    return true;
  }

  /** Hands queued frames to the socket. */
  flush(): void {
    this.flushQueued = false;
    if (this.closed || this.socket.destroyed) {
      this.out.clear();
      return;
    }
    const faults = this.core.controls;
    // A paused server writes nothing; resume() flushes what queued up meanwhile.
    if (faults.paused) return;
    if (faults.latencyMs > 0) {
      const chunks = this.out.take();
      const socket = this.socket;
      if (chunks.length > 0) {
        setTimeout(() => {
          if (!socket.destroyed) for (const c of chunks) socket.write(c);
        }, faults.latencyMs).unref();
      }
      return;
    }
    this.out.flush(this.socket);
    // While the socket holds bytes the kernel has not taken, the client must make progress
    // within writeDeadline, or it is closed as a slow consumer.
    if (this.writeTimer === null && this.socket.writableLength > 0) this.startWriteTimer();
  }

  private startWriteTimer(): void {
    const socket = this.socket;
    this.writtenAtTimerStart = socket.bytesWritten - socket.writableLength;
    this.writeTimer = setTimeout(this.onWriteDeadline, this.core.options.writeDeadlineMs);
    this.writeTimer.unref();
  }

  // ---- Liveness -----------------------------------------------------------------------------

  private setPingTimer(ms: number): void {
    if (this.pingTimer !== null) clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(this.onPingTimer, ms);
    this.pingTimer.unref();
  }

  /** After CONNECT the first PING comes sooner: min(interval, 2s) plus up to 20% jitter. */
  private setFirstPingTimer(): void {
    let d = Math.min(this.core.options.pingIntervalMs, DEFAULTS.firstPingIntervalMs);
    d += Math.floor(Math.random() * (d / 5));
    this.setPingTimer(d);
  }

  private processPingTimer(): void {
    this.pingTimer = null;
    if (this.closed) return;
    const opts = this.core.options;
    // A paused (hung) server sends no PINGs either.
    if (this.core.controls.paused) return this.setPingTimer(opts.pingIntervalMs);
    const now = Date.now();
    const needRTT = this.rttStart === 0 || now - this.rttStart > 3_600_000;
    // Recent traffic from the client stands in for a PONG (clients only, as nats-server).
    if (needRTT || now - this.lastIn >= opts.pingIntervalMs) {
      if (this.pingsOut + 1 > opts.maxPingsOut) {
        this.sendErrAndClose(ERR.StaleConnection, CloseReason.StaleConnection);
        this.core.flushAll();
        return;
      }
      this.pingsOut++;
      this.rttStart = now;
      this.rttStartHr = performance.now();
      this.sendProto(PING);
      this.core.flushAll();
    }
    this.setPingTimer(opts.pingIntervalMs);
  }

  // ---- Closing ------------------------------------------------------------------------------

  /**
   * Closes the connection: queued frames are flushed (unless `flush` is false) and the
   * socket is ended. Safe to call more than once.
   */
  close(reason: CloseReason, flush = true): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.parser.stop();
    if (this.core.log.debugOn) this.core.log.debug(`${this.label} - Client connection closed: ${reason}`);
    if (this.pingTimer !== null) {
      clearTimeout(this.pingTimer);
      this.pingTimer = null;
    }
    this.clearAuthTimer();
    this.onDrain();
    this.core.removeClient(this);
    const socket = this.socket;
    if (!flush || socket.destroyed) {
      this.out.clear();
      socket.destroy();
      return;
    }
    this.out.flush(socket);
    this.out.clear();
    // Close once the queued bytes are written (nats-server flushes, then closes the socket).
    // A peer that stops reading cannot hold it open for longer than writeDeadline.
    socket.end(() => socket.destroy());
    this.closeTimer = setTimeout(() => socket.destroy(), this.core.options.writeDeadlineMs);
    this.closeTimer.unref();
    socket.once('close', () => {
      if (this.closeTimer !== null) clearTimeout(this.closeTimer);
    });
  }
}

/** Nanoseconds since `startHr` (a `performance.now()`), at least 1 (nats-server's computeRTT). */
function elapsedNs(startHr: number): number {
  return Math.max(1, Math.round((performance.now() - startHr) * 1e6));
}

/** Replies a client may not use: service-import replies, JetStream acks, gateway replies. */
function isReservedReply(reply: string): boolean {
  return (
    reply.startsWith(SERVICE_REPLY_PREFIX) ||
    (reply.length > JS_ACK_PREFIX.length && reply.startsWith(JS_ACK_PREFIX)) ||
    (reply.length > GW_REPLY_PREFIX.length && reply.startsWith(GW_REPLY_PREFIX))
  );
}

/**
 * Below this size a byte loop beats a native copy call (measured with the pub/sub bench: the
 * native call's fixed cost dominates for short subjects, sids and payloads).
 */
const SMALL_COPY = 64;

/** Writes a latin1 string (one byte per char) at `p`; returns the new position. */
function writeLatin1(buf: Buffer, p: number, s: string): number {
  const n = s.length;
  if (n > SMALL_COPY) return p + buf.latin1Write(s, p);
  for (let k = 0; k < n; k++) buf[p + k] = s.charCodeAt(k);
  return p + n;
}

/** Writes `n` (a non-negative integer) in decimal at `p`; returns the new position. */
function writeUint(buf: Buffer, p: number, n: number): number {
  if (n < 10) {
    buf[p] = 0x30 + n;
    return p + 1;
  }
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  let q = p + digits - 1;
  while (n >= 10) {
    const next = Math.floor(n / 10);
    buf[q--] = 0x30 + (n - next * 10);
    n = next;
  }
  buf[q] = 0x30 + n;
  return p + digits;
}
