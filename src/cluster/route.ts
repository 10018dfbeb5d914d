/**
 * One route connection to a peer server: handshake, interest import, message forwarding and
 * liveness. The cluster-wide decisions (registration, gossip, retries) are `ClusterManager`'s.
 */
import type { Socket } from 'node:net';
import { RouteParser, type RouteSink } from '../protocol/route-parser.js';
import type { PubArg } from '../protocol/parser.js';
import { DEFAULTS, PING, PONG, encodeErr } from '../protocol/constants.js';
import { Outbound } from '../io/outbound.js';
import { RemoteSub, type RouteTarget } from '../broker/core.js';
import type { RouteUrl } from '../config/options.js';
import type { ClusterManager } from './cluster.js';

export { GLOBAL_ACCOUNT } from '../broker/account.js';

/** The fields of a peer's route INFO this broker uses (the rest is kept for gossip). */
export interface RouteInfo {
  server_id: string;
  server_name?: string;
  cluster?: string;
  host?: string;
  port?: number;
  ip?: string;
  headers?: boolean;
  connect_urls?: string[];
  /** The peer's websocket URLs (`host:port`), when it has a websocket listener. */
  ws_connect_urls?: string[];
  ldm?: boolean;
  [key: string]: unknown;
}

export class RouteConn implements RouteSink, RouteTarget {
  readonly parser = new RouteParser(this);
  readonly out = new Outbound();
  flushQueued = false;
  closed = false;
  /** Registered as the route to `remoteId` (the first connection to a server wins). */
  registered = false;
  /** The peer's first INFO, once received. */
  info: RouteInfo | null = null;
  /** Interest the peer announced, by `subject` or `subject queue`. */
  readonly remoteSubs = new Map<string, RemoteSub>();
  /** Peer accepts HMSG. */
  headers = false;
  // For /routez: id (shared sequence with client ids), times (epoch ms), counters, RTT (ns).
  readonly rid: number;
  readonly start = Date.now();
  lastActivity = this.start;
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  rttNs = 0;
  private rttStartHr = 0;
  private pingsOut = 0;
  private pingTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly manager: ClusterManager,
    readonly socket: Socket,
    /** The URL this server dialled, or null for an accepted connection. */
    public url: RouteUrl | null,
    /** Whether `url` is configured (retried forever) rather than learned by gossip. */
    public explicit: boolean,
  ) {
    this.rid = manager.core.allocCid();
    socket.setNoDelay(true);
    const firstPing = DEFAULTS.routeFirstPingMs + Math.floor(Math.random() * DEFAULTS.routeFirstPingMs * 0.2);
    this.setPingTimer(firstPing);
  }

  get remoteId(): string | null {
    return this.info?.server_id ?? null;
  }

  get remoteName(): string {
    return this.info?.server_name ?? this.info?.server_id ?? '';
  }

  get solicited(): boolean {
    return this.url !== null;
  }

  /** Feeds bytes read from the socket; messages count as activity (nats-server's `last`). */
  onData(chunk: Buffer): void {
    const msgsBefore = this.inMsgs;
    this.parser.parse(chunk);
    if (this.inMsgs !== msgsBefore) this.lastActivity = Date.now();
  }

  // ---- RouteSink ------------------------------------------------------------------------

  onInfo(json: string): void {
    let info: RouteInfo;
    try {
      info = JSON.parse(json) as RouteInfo;
    } catch {
      return this.close('Protocol Violation');
    }
    if (info === null || typeof info !== 'object' || typeof info.server_id !== 'string') return this.close('Protocol Violation');
    this.manager.onRouteInfo(this, info);
  }

  onConnect(json: string): void {
    let opts: Record<string, unknown>;
    try {
      opts = JSON.parse(json) as Record<string, unknown>;
    } catch {
      return this.close('Protocol Violation');
    }
    if (opts === null || typeof opts !== 'object') return this.close('Protocol Violation');
    this.manager.onRouteConnect(this, opts);
  }

  onPing(): void {
    this.send(PONG);
  }

  onPong(): void {
    this.pingsOut = 0;
    if (this.rttStartHr > 0) this.rttNs = Math.max(1, Math.round((performance.now() - this.rttStartHr) * 1e6));
  }

  onErr(): void {
    // A route that reports an error is closed (nats-server logs it and closes).
    this.close('Protocol Violation');
  }

  onSubInterest(account: string, subject: string, queue: string | null, weight: number): void {
    // Interest for accounts this server does not have (e.g. $SYS) is ignored, as nats-server does.
    const acc = this.manager.core.accounts.get(account);
    if (acc === undefined || !this.registered) return;
    const key = queue === null ? `${account} ${subject}` : `${account} ${subject} ${queue}`;
    const existing = this.remoteSubs.get(key);
    if (existing !== undefined) {
      // A queue weight is replaced, not added.
      if (queue !== null) existing.weight = weight;
      return;
    }
    const sub = new RemoteSub(this, subject, queue, queue === null ? 1 : weight, acc);
    if (!acc.sublist.insert(sub)) {
      this.send(encodeErr('Invalid Subscription'));
      return;
    }
    this.remoteSubs.set(key, sub);
    this.manager.core.notifyChange();
  }

  onUnsubInterest(account: string, subject: string, queue: string | null): void {
    const key = queue === null ? `${account} ${subject}` : `${account} ${subject} ${queue}`;
    const sub = this.remoteSubs.get(key);
    if (sub === undefined) return;
    this.remoteSubs.delete(key);
    sub.account.sublist.remove(sub);
    this.manager.core.notifyChange();
  }

  onRoutedMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    const acc = this.manager.core.accounts.get(account);
    if (acc === undefined || !this.registered) return;
    this.inMsgs++;
    this.inBytes += end - start;
    this.manager.core.routeMessage(null, pa, buf, start, end, queues, this, acc);
  }

  onParseError(): void {
    this.send(encodeErr('Unknown Protocol Operation'));
    this.close('Protocol Violation');
  }

  // ---- RouteTarget ------------------------------------------------------------------------

  /** `RMSG $G <subject> [reply | + reply q… | | q…] <size>` (HMSG with headers). */
  sendMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    if (this.closed) return;
    let size = pa.size;
    let hdr = pa.hdr;
    if (hdr > 0 && !this.headers) {
      // A peer without headers gets the payload alone.
      start += hdr;
      size -= hdr;
      hdr = -1;
    }
    let line = `${hdr > 0 ? 'HMSG' : 'RMSG'} ${account} ${pa.subject}`;
    if (queues.length > 0) {
      line += pa.reply.length > 0 ? ` + ${pa.reply}` : ' |';
      for (let i = 0; i < queues.length; i++) line += ` ${queues[i]}`;
    } else if (pa.reply.length > 0) {
      line += ` ${pa.reply}`;
    }
    line += hdr > 0 ? ` ${hdr} ${size}\r\n` : ` ${size}\r\n`;
    const out = this.out;
    const slab = out.reserve(line.length + size + 2);
    out.pos += slab.latin1Write(line, out.pos);
    if (size > 0) {
      buf.copy(slab, out.pos, start, start + size);
      out.pos += size;
    }
    slab[out.pos++] = 0x0d;
    slab[out.pos++] = 0x0a;
    this.outMsgs++;
    this.outBytes += size;
    this.manager.core.markForFlush(this);
  }

  // ---- Output -------------------------------------------------------------------------------

  send(frame: Buffer | string): void {
    if (this.closed) return;
    this.out.appendBytes(typeof frame === 'string' ? Buffer.from(frame, 'latin1') : frame);
    this.manager.core.markForFlush(this);
  }

  flush(): void {
    this.flushQueued = false;
    if (this.closed || this.socket.destroyed) {
      this.out.clear();
      return;
    }
    if (this.manager.core.controls.paused) return;
    this.out.flush(this.socket);
  }

  // ---- Liveness -----------------------------------------------------------------------------

  private setPingTimer(ms: number): void {
    if (this.pingTimer !== null) clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => this.onPingTimer(), ms);
    this.pingTimer.unref();
  }

  private onPingTimer(): void {
    this.pingTimer = null;
    if (this.closed) return;
    const opts = this.manager.core.options;
    // Routes are always PINGed (no activity shortcut); 2.10 caps the interval at 30 s.
    if (this.pingsOut + 1 > opts.maxPingsOut) {
      this.send(encodeErr('Stale Connection'));
      this.close('Stale Connection');
      this.manager.core.flushAll();
      return;
    }
    this.pingsOut++;
    this.rttStartHr = performance.now();
    this.send(PING);
    this.manager.core.flushAll();
    this.setPingTimer(Math.min(opts.pingIntervalMs, DEFAULTS.routeMaxPingIntervalMs));
  }

  // ---- Closing ------------------------------------------------------------------------------

  /** Closes the route (flushing what is queued unless `flush` is false). */
  close(reason: string, flush = true): void {
    if (this.closed) return;
    this.closed = true;
    this.parser.stop();
    if (this.pingTimer !== null) {
      clearTimeout(this.pingTimer);
      this.pingTimer = null;
    }
    for (const sub of this.remoteSubs.values()) sub.account.sublist.remove(sub);
    this.remoteSubs.clear();
    const socket = this.socket;
    if (flush && !socket.destroyed) {
      this.out.flush(socket);
      this.out.clear();
      socket.end(() => socket.destroy());
      const t = setTimeout(() => socket.destroy(), this.manager.core.options.writeDeadlineMs);
      t.unref();
      socket.once('close', () => clearTimeout(t));
    } else {
      this.out.clear();
      socket.destroy();
    }
    this.manager.onRouteClosed(this, reason);
  }
}
