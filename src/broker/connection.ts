/**
 * The skeleton every connection kind shares (clients, routes, leaf nodes, gateways): the
 * outbound queue and its flush, a server peer's message frames, liveness (PINGs out, PONGs in,
 * RTT; a server peer's PING timer and stale check), a server peer's handshake rules (the auth
 * timeout, CONNECT first), and closing with a flush bounded by the write deadline. nats-server
 * keeps one `client` struct for every kind; here each kind extends this class and adds its
 * protocol.
 */
import { DEFAULTS, ERR, PING, encodeErr } from '../protocol/constants.js';
import { CloseReason } from './close-reason.js';
import { parseJsonObject, type GoStruct } from '../protocol/go-json.js';
import { Outbound } from '../io/outbound.js';
import type { Transport } from '../io/transport.js';
import type { ResolvedOptions } from '../config/options.js';
import type { TestControls } from './controls.js';
import { timerDelay } from '../io/timers.js';
import type { PubArg } from '../protocol/parser.js';
import { routedLineLength, writeRoutedLine } from '../protocol/encode.js';
import { leafLineLength, writeLeafLine } from '../protocol/leaf-encode.js';
import { copyBytes } from '../protocol/bytes.js';

/** A connection with an outbound queue, flushed once per read chunk. */
export interface Flushable {
  flushQueued: boolean;
  flush(): void;
}

/** What a connection needs of the broker around it. */
export interface ConnectionHost {
  readonly options: ResolvedOptions;
  readonly controls: TestControls;
  /** Remembers that `c` has queued output: it is written once per read chunk. */
  markForFlush(c: Flushable): void;
  /** Writes out every connection with queued output now. */
  flushAll(): void;
}

/** Nanoseconds since `startHr` (a `performance.now()`), at least 1 (nats-server's computeRTT). */
export function elapsedNs(startHr: number): number {
  return Math.max(1, Math.round((performance.now() - startHr) * 1e6));
}

export abstract class Connection implements Flushable {
  readonly out = new Outbound();
  /** Set while the connection is in the broker's flush list. */
  flushQueued = false;
  closed = false;
  /** When the connection was created (epoch ms). */
  readonly start = Date.now();
  /** Last inbound activity nats-server counts (messages, subscription changes, CONNECT). */
  lastActivity = this.start;
  // Counters, as /connz and /routez report them.
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  /** Round-trip time of the last PING, in ns; 0 = not measured yet. */
  rttNs = 0;
  /** Why the connection closed; null while it is open. */
  closeReason: CloseReason | null = null;
  /** PINGs sent and not answered yet. */
  protected pingsOut = 0;
  /** `performance.now()` when the last PING went out (0: none yet). */
  protected rttStartHr = 0;
  /**
   * A server peer's stream must start with CONNECT (an accepted route with route
   * authentication, an inbound gateway): see {@link connectFirst}.
   */
  protected expectConnect = false;
  private pingTimer: NodeJS.Timeout | null = null;
  private closeTimer: NodeJS.Timeout | null = null;
  /** A server peer's handshake deadline ({@link startAuthTimeout}). */
  private authTimeout: NodeJS.Timeout | null = null;
  private readonly onPingTimerBound = (): void => {
    this.pingTimer = null;
    if (!this.closed) this.onPingTimer();
  };

  constructor(
    protected readonly host: ConnectionHost,
    readonly socket: Transport,
  ) {}

  /** Bytes queued for the peer and not yet taken by the kernel (here and in the transport). */
  get pendingBytes(): number {
    return this.out.queued + this.socket.writableLength;
  }

  /** Queues a pre-encoded frame. */
  send(frame: Buffer): void {
    if (this.closed) return;
    this.out.appendBytes(frame);
    this.host.markForFlush(this);
  }

  /** Queues a frame given as text (INFO, CONNECT, interest), one byte per character. */
  sendText(frame: string): void {
    this.send(Buffer.from(frame, 'latin1'));
  }

  /** Sends `-ERR '<text>'` and closes, the error written out at once. */
  sendErrAndClose(text: string, reason: CloseReason): void {
    this.send(encodeErr(text));
    this.close(reason);
    this.host.flushAll();
  }

  /** Hands queued frames to the transport (nothing while the server is paused). */
  flush(): void {
    this.flushQueued = false;
    if (this.closed || this.socket.destroyed) {
      this.out.clear();
      return;
    }
    if (this.host.controls.paused) return;
    const delayMs = this.writeDelayMs();
    if (delayMs > 0) {
      const chunks = this.out.take();
      const socket = this.socket;
      if (chunks.length > 0) {
        setTimeout(() => {
          if (!socket.destroyed) for (const c of chunks) socket.write(c);
        }, delayMs).unref();
      }
      return;
    }
    this.out.flush(this.socket);
    this.afterWrite();
  }

  /**
   * Queues one message for a server peer: `RMSG <account> …` to a route or gateway, `LMSG …` to
   * a leaf node (`account` null); HMSG when it has headers and the peer takes them (`headers`),
   * the payload alone when the peer does not. With `origin` (a leaf node cluster's message to a
   * route whose peer advertised `lnoc`): `LMSG <origin> <account> …`, headers included.
   */
  protected queuePeerMsg(
    account: string | null,
    subject: string,
    reply: string,
    queues: readonly string[],
    pa: PubArg,
    buf: Buffer,
    start: number,
    headers: boolean,
    origin = '',
  ): void {
    let size = pa.size;
    let hdr = pa.hdr;
    if (origin !== '') {
      // LMSG: headers always travel (the peer advertised lnoc, a 2.x route).
    } else if (hdr > 0 && !headers) {
      start += hdr;
      size -= hdr;
      hdr = -1;
    } else if (hdr === 0) {
      hdr = -1;
    }
    const out = this.out;
    let p: number;
    let slab: Buffer;
    if (account === null) {
      slab = out.reserve(leafLineLength(subject, reply, queues) + size + 2);
      p = writeLeafLine(slab, out.pos, subject, reply, queues, hdr, size);
    } else {
      slab = out.reserve(routedLineLength(account, subject, reply, queues, origin) + size + 2);
      p = writeRoutedLine(slab, out.pos, account, subject, reply, queues, hdr, size, origin);
    }
    if (size > 0) p = copyBytes(slab, p, buf, start, size);
    slab[p++] = 0x0d;
    slab[p++] = 0x0a;
    out.pos = p;
    this.outMsgs++;
    this.outBytes += size;
    this.host.markForFlush(this);
  }

  /** Delay of every write (the `setLatency()` fault), 0 for none. */
  protected writeDelayMs(): number {
    return 0;
  }

  /** Runs after queued bytes were handed to the transport. */
  protected afterWrite(): void {}

  // ---- Liveness ---------------------------------------------------------------------------

  protected setPingTimer(ms: number): void {
    if (this.pingTimer !== null) clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(this.onPingTimerBound, timerDelay(ms));
    this.pingTimer.unref();
  }

  protected stopPingTimer(): void {
    if (this.pingTimer !== null) {
      clearTimeout(this.pingTimer);
      this.pingTimer = null;
    }
  }

  /** The PING timer fired (the connection is open). */
  protected abstract onPingTimer(): void;

  /**
   * Sends a PING and starts an RTT measurement, unless `maxPingsOut` are already unanswered:
   * then returns false and the caller closes the connection as stale.
   */
  protected ping(maxPingsOut: number): boolean {
    if (this.pingsOut + 1 > maxPingsOut) return false;
    this.pingsOut++;
    this.rttStartHr = performance.now();
    this.send(PING);
    this.host.flushAll();
    return true;
  }

  /** A PONG arrived: the peer is alive; the RTT of the last PING is known. */
  protected pongReceived(): void {
    this.pingsOut = 0;
    if (this.rttStartHr > 0) this.rttNs = elapsedNs(this.rttStartHr);
  }

  /**
   * The first PING of a server peer: `firstMs` (a route's or gateway's: 1 s, nats-server's
   * firstPingInterval) plus up to 20% (setFirstPingTimer's random offset).
   */
  protected startPeerPings(firstMs: number = DEFAULTS.routeFirstPingMs): void {
    this.setPingTimer(firstMs + Math.floor(Math.random() * firstMs * 0.2));
  }

  /**
   * The PING timer of a server peer (route, gateway, leaf node): PINGed whatever its traffic;
   * with `maxPingsOut` PINGs unanswered it is told `Stale Connection` and closed
   * (processPingTimer). The next PING comes after the ping interval, at most `maxIntervalMs`.
   */
  protected peerPingTimer(maxIntervalMs: number): void {
    const opts = this.host.options;
    if (!this.ping(opts.maxPingsOut)) return this.sendErrAndClose(ERR.StaleConnection, CloseReason.StaleConnection);
    this.setPingTimer(Math.min(opts.pingIntervalMs, maxIntervalMs));
  }

  // ---- A server peer's handshake -----------------------------------------------------------

  /**
   * Closes the connection with `-ERR '<text>'` (an authentication timeout) unless `settled()`
   * holds `ms` from now, or {@link clearAuthTimeout} is called before.
   */
  protected startAuthTimeout(ms: number, text: string, settled: () => boolean): void {
    this.clearAuthTimeout();
    this.authTimeout = setTimeout(() => {
      this.authTimeout = null;
      if (!this.closed && !settled()) this.sendErrAndClose(text, CloseReason.AuthTimeout);
    }, timerDelay(ms));
    this.authTimeout.unref();
  }

  protected clearAuthTimeout(): void {
    if (this.authTimeout !== null) {
      clearTimeout(this.authTimeout);
      this.authTimeout = null;
    }
  }

  /**
   * A server peer's CONNECT as nats-server's processConnect takes it before the kind's own
   * checks: decoded as Go decodes it into `structs` ({@link parseJsonObject}; what Go cannot
   * decode closes the connection as a protocol violation, without -ERR), the auth timeout
   * stopped, and an `account` or `new_account` in it refused with an authorization violation
   * (client.go: an account designation "is now considered an error"; the same -ERR and close
   * as failed credentials, so the order of the two checks does not show). Null when the
   * connection was closed.
   */
  protected peerConnect(json: string, structs: readonly [GoStruct, ...GoStruct[]]): Record<string, unknown> | null {
    const opts = parseJsonObject(json, structs);
    if (opts === null) {
      this.close(CloseReason.ProtocolViolation);
      return null;
    }
    this.clearAuthTimeout();
    if ((typeof opts.account === 'string' && opts.account !== '') || opts.new_account === true) {
      this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
      return null;
    }
    return opts;
  }

  /**
   * nats-server's parser, while a CONNECT is awaited (`expectConnect`): an op other than
   * CONNECT first is an authorization violation (parser.go authErr). Only the stream's first
   * byte is checked: CONNECT itself settles the rest. False when the connection was closed.
   */
  protected connectFirst(chunk: Buffer): boolean {
    if (!this.expectConnect || chunk.length === 0) return true;
    this.expectConnect = false;
    const b = chunk[0];
    if (b === 0x43 /* C */ || b === 0x63 /* c */) return true;
    this.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
    return false;
  }

  // ---- Closing ----------------------------------------------------------------------------

  /**
   * Closes the connection with `reason`: queued frames are flushed first unless `flush` is
   * false, and every timer is released. Safe to call more than once.
   */
  abstract close(reason: CloseReason, flush?: boolean): void;

  /**
   * Ends the transport: queued frames are written first (unless `flush` is false), then it is
   * closed — nats-server flushes, then closes. A peer that stops reading cannot hold it open for
   * longer than the write deadline. The PING timer and a peer's auth timeout end here.
   */
  protected closeTransport(flush: boolean): void {
    this.stopPingTimer();
    this.clearAuthTimeout();
    const socket = this.socket;
    if (!flush || socket.destroyed) {
      this.out.clear();
      socket.destroy();
      return;
    }
    this.out.flush(socket);
    this.out.clear();
    socket.end(() => socket.destroy());
    const timer = setTimeout(() => socket.destroy(), timerDelay(this.host.options.writeDeadlineMs));
    timer.unref();
    this.closeTimer = timer;
    socket.once('close', () => {
      if (this.closeTimer !== null) clearTimeout(this.closeTimer);
      this.closeTimer = null;
    });
  }
}
