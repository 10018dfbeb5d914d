/**
 * One route connection to a peer server: handshake, interest import, message forwarding and
 * liveness. The cluster-wide decisions (registration, gossip, retries) belong to its
 * {@link RouteHost} (the cluster manager); the connection never reaches past it.
 */
import { RouteParser, type RouteSink } from '../protocol/route-parser.js';
import type { PubArg } from '../protocol/parser.js';
import { DEFAULTS, ERR, PONG, encodeErr } from '../protocol/constants.js';
import { remapJetStreamDelivery } from '../protocol/js-delivery.js';
import { PEER_INFO, ROUTE_CONNECT_STRUCTS, parseJsonObject } from '../protocol/go-json.js';
import type { Transport } from '../io/transport.js';
import { RemoteSub, type Account, type RouteTarget } from '../broker/account.js';
import { CloseReason } from '../broker/close-reason.js';
import { Connection, type ConnectionHost } from '../broker/connection.js';
import type { RouteUrl } from '../config/options.js';

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
  /** The peer takes `LS+ <origin> …` and `LMSG <origin> …` (leaf node origin cluster). */
  lnoc?: boolean;
  /** The peer's `LS-` carries the origin cluster, and it keys a route's interest by origin (2.10). */
  lnocu?: boolean;
  [key: string]: unknown;
}

/** What a route connection needs of the cluster layer (and, through it, of the broker). */
export interface RouteHost extends ConnectionHost {
  /** A connection id from the sequence clients share. */
  allocCid(): number;
  /** The account `name` if this server has it: interest and messages for others are ignored. */
  findAccount(name: string): Account | undefined;
  /** Routes a message the peer sent, to local subscribers only. */
  routeFromPeer(route: RouteConn, account: Account, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void;
  /** Interest changed (for `waitForSubscription()`). */
  notifyChange(): void;
  /** The peer's interest gained (+1) or lost (-1) an entry (gateways announce the cluster's interest). */
  remoteInterest(account: string, subject: string, queue: string | null, delta: 1 | -1): void;
  onRouteInfo(conn: RouteConn, info: RouteInfo): void;
  onRouteConnect(conn: RouteConn, opts: Record<string, unknown>): void;
  onRouteClosed(conn: RouteConn, reason: CloseReason): void;
}

export class RouteConn extends Connection implements RouteSink, RouteTarget {
  readonly parser = new RouteParser(this);
  /** Registered as the route to `remoteId` (the first connection to a server wins). */
  registered = false;
  /** The peer's first INFO, once received. */
  info: RouteInfo | null = null;
  /** Interest the peer announced, by `account subject` or `account subject queue`. */
  readonly remoteSubs = new Map<string, RemoteSub>();
  /** Peer accepts HMSG. */
  headers = false;
  /** The peer takes a leaf node cluster's interest and messages with their origin (`lnoc` in its INFO). */
  lnoc = false;
  /**
   * The peer advertised `lnocu` (2.10): it keeps a leaf node cluster's interest apart from its
   * own, by origin, and so does this server for it (`LS- <origin> …` withdraws one origin's). A
   * peer without it (2.9) keeps one count per subject whatever the origin, and so does this
   * server towards it and for it (route.go processRemoteSub's `oldStyle`).
   */
  lnocu = false;
  /** Connection id for /routez (shared sequence with client ids). */
  readonly rid: number;

  constructor(
    protected override readonly host: RouteHost,
    socket: Transport,
    /** The URL this server dialled, or null for an accepted connection. */
    public url: RouteUrl | null,
    /** Whether `url` is configured (retried forever) rather than learned by gossip. */
    public explicit: boolean,
  ) {
    super(host, socket);
    this.rid = host.allocCid();
    socket.setNoDelay(true);
    this.startPeerPings();
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

  /**
   * Route authentication is required of this accepted connection: any op but CONNECT first is
   * an authorization violation, and no CONNECT within `timeoutMs` an authentication timeout.
   */
  startAuth(timeoutMs: number): void {
    this.expectConnect = true;
    this.startAuthTimeout(timeoutMs, ERR.AuthTimeout, () => false);
  }

  /** Feeds bytes read from the transport; messages count as activity (nats-server's `last`). */
  onData(chunk: Buffer): void {
    if (!this.connectFirst(chunk)) return;
    const msgsBefore = this.inMsgs;
    this.parser.parse(chunk);
    if (this.inMsgs !== msgsBefore) this.lastActivity = Date.now();
  }

  // ---- RouteSink ------------------------------------------------------------------------

  onInfo(json: string): void {
    const info = parseJsonObject(json, PEER_INFO);
    // Stricter than nats-server, which takes an INFO without an id (route.go processRouteInfo).
    if (info === null || typeof info.server_id !== 'string') return this.close(CloseReason.ProtocolViolation);
    this.host.onRouteInfo(this, info as RouteInfo);
  }

  onConnect(json: string): void {
    const opts = this.peerConnect(json, ROUTE_CONNECT_STRUCTS);
    if (opts !== null) this.host.onRouteConnect(this, opts);
  }

  onPing(): void {
    this.send(PONG);
  }

  onPong(): void {
    this.pongReceived();
  }

  onErr(): void {
    // A route that reports an error is closed (nats-server logs it and closes).
    this.close(CloseReason.ProtocolViolation);
  }

  onSubInterest(account: string, subject: string, queue: string | null, weight: number, origin: string): void {
    // Interest for accounts this server does not have (one only the peer configures) is ignored, as nats-server does.
    const acc = this.host.findAccount(account);
    if (acc === undefined || !this.registered) return;
    const key = this.interestKey(origin !== '', origin, account, subject, queue);
    const existing = this.remoteSubs.get(key);
    if (existing !== undefined) {
      // A queue weight is replaced, not added (a plain one is already there: nothing changes,
      // not even its origin, as route.go processRemoteSub).
      if (queue !== null) {
        const delta = weight - existing.weight;
        existing.weight = weight;
        if (delta !== 0) acc.leafInterest?.(existing, delta);
      }
      return;
    }
    // The origin of a peer without lnocu is not kept: that peer's entry stands for every origin
    // and its own clients together (it counts them together), so no leaf connection may be
    // kept from it for an origin that may have left (nats-server 2.9/2.10 keep the first one, and
    // so can lose a message).
    const sub = new RemoteSub(this, subject, queue, queue === null ? 1 : weight, acc, this.lnocu ? origin : '');
    if (!acc.sublist.insert(sub)) {
      this.send(encodeErr('Invalid Subscription'));
      return;
    }
    this.remoteSubs.set(key, sub);
    acc.leafInterest?.(sub, sub.weight);
    this.host.remoteInterest(account, subject, queue, 1);
    this.host.notifyChange();
  }

  onUnsubInterest(account: string, subject: string, queue: string | null, leaf: boolean, origin: string): void {
    const key = this.interestKey(leaf, origin, account, subject, queue);
    const sub = this.remoteSubs.get(key);
    if (sub === undefined) return;
    this.remoteSubs.delete(key);
    sub.account.sublist.remove(sub);
    sub.account.leafInterest?.(sub, -sub.weight);
    this.host.remoteInterest(account, subject, queue, -1);
    this.host.notifyChange();
  }

  /**
   * The key of a peer's interest in {@link remoteSubs} (route.go processRemoteSub): from a peer
   * with `lnocu`, `R <account> <subject> [<queue>]` for its own (RS+) and `L <origin> <account>
   * <subject> [<queue>]` for a leaf node cluster's (LS+); from one without, `<account> <subject>
   * [<queue>]` for both, so that an RS- or LS- withdraws the subject whoever announced it, as
   * that peer counts them together.
   */
  private interestKey(leaf: boolean, origin: string, account: string, subject: string, queue: string | null): string {
    const rest = queue === null ? `${account} ${subject}` : `${account} ${subject} ${queue}`;
    if (!this.lnocu) return rest;
    return leaf ? `L ${origin} ${rest}` : `R ${rest}`;
  }

  onRoutedMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    const acc = this.host.findAccount(account);
    if (acc === undefined || !this.registered) return;
    remapJetStreamDelivery(pa);
    this.inMsgs++;
    this.inBytes += end - start;
    this.host.routeFromPeer(this, acc, pa, queues, buf, start, end);
  }

  onParseError(): void {
    this.send(encodeErr(ERR.UnknownOp));
    this.close(CloseReason.ProtocolViolation);
  }

  // ---- RouteTarget ------------------------------------------------------------------------

  /** `RMSG $G <subject> [reply | + reply q… | | q…] <size>` (HMSG with headers). */
  sendMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number): void {
    if (this.closed) return;
    // A JetStream delivery (pa.deliver: the subscriber's subject, pa.subject the stored one)
    // travels on its delivery subject, the stored subject after an '@' in the reply, as
    // nats-server's processMsgResults sends it.
    const subject = pa.deliver === '' ? pa.subject : pa.deliver;
    // A reply mapped by a gateway (`_GR_.`) travels on mapped: the server that delivers it tracks it.
    const reply = pa.gwReply !== '' ? pa.gwReply : pa.deliver === '' || pa.reply === '' ? pa.reply : `${pa.reply}@${pa.subject}`;
    // A leaf node cluster's message carries its origin (LMSG), so that the peer does not send it
    // back into that cluster through another leaf node connection.
    this.queuePeerMsg(account, subject, reply, queues, pa, buf, start, this.headers, this.lnoc ? pa.origin : '');
  }


  // ---- Liveness -----------------------------------------------------------------------------

  protected onPingTimer(): void {
    // 2.10 caps a route's PING interval at 30 s (routeMaxPingInterval).
    this.peerPingTimer(DEFAULTS.routeMaxPingIntervalMs);
  }

  // ---- Closing ------------------------------------------------------------------------------

  /** Closes the route (flushing what is queued unless `flush` is false). */
  close(reason: CloseReason, flush = true): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.parser.stop();
    for (const sub of this.remoteSubs.values()) {
      sub.account.sublist.remove(sub);
      sub.account.leafInterest?.(sub, -sub.weight);
      this.host.remoteInterest(sub.account.name, sub.subject, sub.queue, -1);
    }
    this.remoteSubs.clear();
    this.closeTransport(flush);
    this.host.onRouteClosed(this, reason);
  }
}
