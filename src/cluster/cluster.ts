/**
 * The cluster layer of one server: the route listener, dialling configured and gossiped routes
 * (with retry), route registration (one per peer server, first wins), interest export (RS+/RS-
 * with nats-server's 0↔1 and queue-weight rules), gossip of new peers, and the client
 * `connect_urls` that follow membership. Route protocol facts: nats-server 2.9/2.10 `route.go`,
 * single uncompressed connection per peer (no pooling, no compression); a leaf node cluster's
 * interest is announced with its origin (`LS+ <origin>`).
 *
 * Mixed JetStream clusters: a server whose JetStream runs here refuses routes to nats-server
 * servers with JetStream ({@link ClusterManagerOptions.refuseJetStreamPeers}): nats-embedded's
 * JetStream (its Raft groups, its API answers) cannot work with nats-server's, so the routes are
 * closed rather than left to misbehave; a nats-server without JetStream is routed as ever.
 *
 * A little over 500 lines: the route lifecycle (dial, register, gossip, retry) reads as one story.
 */
import { PeerLayer } from '../broker/peer-layer.js';
import { createServer as createTcpServer, connect as tcpConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { dialHost, hostPort, listen, urlHost } from '../io/listen.js';
import { handshakeDeadline, secureContext, serverSocket } from '../io/tls.js';
import type { Transport } from '../io/transport.js';
import { ERR, NATS_SERVER_VERSION, encodeErr } from '../protocol/constants.js';
import type { PubArg } from '../protocol/parser.js';
import type { BrokerCore } from '../broker/core.js';
import type { Account, Subscription } from '../broker/account.js';
import type { ClusterHooks } from '../broker/cluster-hooks.js';
import { CloseReason } from '../broker/close-reason.js';
import { peerIp } from '../broker/snapshot.js';
import type { ResolvedClusterOptions, ResolvedTls, RouteUrl } from '../config/options.js';
import { RouteConn, type RouteHost, type RouteInfo } from './route.js';
import { implicitRouteUrl, routeAuthorized, routeConnectCredentials } from './route-auth.js';
import { timerDelay } from '../io/timers.js';

/** Route protocol level sent in route INFO (2 = accounts in every RS±/RMSG). */
const ROUTE_PROTO = 2;

/**
 * What a refused peer and this server's log are told: nats-server says `"jetstream":true` in its
 * route INFO when JetStream is enabled (2.9.10 on the wire; 2.10.29 route.go `JetStream:
 * s.info.JetStream`). nats-embedded never says it, so its servers are routed to each other, and
 * a nats-server sees an embedded server as one without JetStream.
 */
export const MIXED_JETSTREAM = 'a cluster that mixes nats-server and nats-embedded servers with JetStream on both is not supported (nats-embedded speaks its own JetStream cluster protocol)';

/** A refused configured route is dialled again this rarely (the peer may come back without JetStream). */
const REFUSED_RETRY_MS = 30_000;

/** Options of a {@link ClusterManager} that the server composing it decides. */
export interface ClusterManagerOptions {
  /**
   * Refuse routes to servers that run JetStream (a route INFO with `"jetstream":true`): set when
   * this server runs nats-embedded's JetStream. The route is closed after an `-ERR` naming the
   * reason, the refusal is logged as an error once per peer (later ones at debug level), and
   * a configured route to it is dialled again only every 30 s.
   */
  readonly refuseJetStreamPeers?: boolean;
}

/**
 * What the route layer tells the gateway layer (gateway/gateway.ts, wired by the embedded
 * backend): route INFOs carry this server's gateway URL (`gateway_url`) and gossip about
 * gateways (`gateway`, `gateway_cmd` 1), as nats-server's route.go does.
 */
export interface RouteGatewayLink {
  /** This server's gateway URL (`host:port`), or '' before it listens. */
  readonly url: string;
  /** A route INFO about a gateway (nats-server's processGatewayInfoFromRoute). */
  routeGossip(info: RouteInfo): void;
  /** The INFOs a newly registered route gets (the gateways this server is connected to), or null. */
  gossipForRoute(): Buffer | null;
  /** A route peer's gateway URL came (`added`) or went. */
  peerUrl(url: string, added: boolean): void;
}

/**
 * What the route layer tells the leaf node layer (leaf/leafnodes.ts, wired by the embedded
 * backend): route INFOs carry this server's leaf node URL (`leafnode_urls`, one entry, unless
 * `leafnodes.noAdvertise`), and a peer's URL reaches this server's leaf nodes (route.go
 * addLeafNodeURL / removeLeafNodeURL).
 */
export interface RouteLeafLink {
  /** This server's leaf node URL (`host:port`) to tell route peers, or '' (no listener, or `noAdvertise`). */
  readonly advertisedUrl: string;
  /** A route peer's leaf node URL came (`added`) or went. */
  peerUrl(url: string, added: boolean): void;
}

/** A peer as `ClusterManager.peers()` reports it. */
export interface RoutePeer {
  readonly id: string;
  readonly name: string;
  readonly solicited: boolean;
  readonly url: string | null;
}

export class ClusterManager extends PeerLayer<RouteConn> implements ClusterHooks, RouteHost {
  /** Registered routes by peer server id. */
  readonly routes = new Map<string, RouteConn>();
  port = 0;
  name: string;
  private readonly dynamicName: boolean;
  /**
   * This server's own interest (its clients', and leaf node connections' without a cluster):
   * `account subject [queue]` → number of subscriptions (a queue's: total weight). Announced as
   * RS+/RS- to peers with `lnocu`.
   */
  private readonly interest = new Map<string, number>();
  /**
   * Leaf node clusters' interest, by origin (nats-server 2.10 keys a route's subscription map by
   * origin too, keyFromSubWithOrigin): `origin account subject [queue]` → count. Announced as
   * `LS+ <origin> …` / `LS- <origin> …` to peers with `lnocu`.
   */
  private readonly originInterest = new Map<string, number>();
  /**
   * Both together: `account subject [queue]` → count, whatever the origin. A peer without `lnocu`
   * (2.9) keys a route's interest by subject alone, so an RS- or LS- withdraws the subject for
   * every origin: it gets one RS+ when this count leaves 0, a queue's new total weight, and one
   * RS- when it is back to 0, as 2.9's own route subscription map counts (route.go
   * updateRouteSubscriptionMap, keyFromSub). Never `LS+ <origin>`, which 2.9 sends for the
   * first interest of a subject: such a peer keeps that origin while the subject stays wanted,
   * and then tells none of its leaf connections of that cluster of it — even once the interest
   * left is a client's (a message lost, with nats-server alone too).
   */
  private readonly mergedInterest = new Map<string, number>();
  /** Configured routes: URL key → state (`refused`: its server runs JetStream, see {@link ClusterManagerOptions}). */
  private readonly configured = new Map<string, { url: RouteUrl; dialing: boolean; timer: NodeJS.Timeout | null; self: boolean; refused: boolean; peerName: string | null }>();
  /** Server ids of peers refused for their JetStream: logged once, never dialled from gossip. */
  private readonly refusedPeers = new Set<string>();
  /** Connections closed for their peer's JetStream (no implicit retry). */
  private readonly refusedConns = new WeakSet<RouteConn>();
  /** URLs being dialled for gossiped (implicit) routes. */
  private readonly implicitDials = new Set<string>();
  /** Names of peers this server must not be routed to (a partition in tests). */
  private blocked: ReadonlySet<string> = new Set();
  private everRouted = false;
  /** Called when the membership (registered routes) changes. */
  onChange: (() => void) | null = null;
  /** The gateway layer, when a `gateway` block is configured. */
  gatewayLink: RouteGatewayLink | null = null;
  /** The leaf node layer, when this server has one. */
  leafLink: RouteLeafLink | null = null;

  /** Sends a frame on every registered route (gateway gossip). */
  broadcast(frame: Buffer): void {
    for (const route of this.routes.values()) route.send(frame);
  }

  /** `nats-route://host:port` of this server's route listener. */
  get routeUrl(): string {
    return `nats-route://${urlHost(this.opts.host)}:${this.port}`;
  }

  /** Lame duck: peers drop this server's client URLs from what they advertise. */
  sendLameDuck(): void {
    const frame = Buffer.from(`INFO ${JSON.stringify({ ...this.routeInfo(), ldm: true })} \r\n`, 'latin1');
    for (const route of this.routes.values()) route.send(frame);
    this.core.flushAll();
  }

  constructor(
    core: BrokerCore,
    readonly opts: ResolvedClusterOptions,
    private readonly managerOptions: ClusterManagerOptions = {},
  ) {
    super(core);
    this.dynamicName = opts.name === null;
    this.name = opts.name ?? randomBytes(11).toString('base64url');
    core.cluster = this;
    core.clusterName = this.name;
    for (const url of opts.routes) {
      this.configured.set(url.url, { url, dialing: false, timer: null, self: false, refused: false, peerName: null });
    }
    // Interest that exists before the routes: the internal clients started first (JetStream's
    // API and streams, clustered JetStream's Raft transport in $SYS).
    for (const client of core.internals) for (const sub of client.subs.values()) this.localInterest(sub, 1);
  }

  /** Binds the route listener on `port` (0 = ephemeral), then dials the configured routes. */
  async start(port = this.opts.port): Promise<void> {
    const tcp = createTcpServer({ noDelay: true }, (socket) => this.accept(socket));
    this.port = await listen(tcp, this.opts.host, port, (err) => this.core.log.error(`Error accepting route connection: ${err.message}`));
    this.tcp = tcp;
    for (const entry of this.configured.values()) this.dial(entry.url, true);
  }

  /** Stops accepting and dialling, and closes every route (flushing unless `graceful` is false). */
  stop(graceful: boolean): Promise<void> {
    for (const entry of this.configured.values()) {
      if (entry.timer !== null) clearTimeout(entry.timer);
      entry.timer = null;
    }
    return this.closeAll(graceful);
  }

  /** The peers this server has a registered route to. */
  peers(): RoutePeer[] {
    return [...this.routes.values()].map((r) => ({
      id: r.remoteId!,
      name: r.remoteName,
      solicited: r.solicited,
      url: r.url?.url ?? null,
    }));
  }

  /**
   * Cuts routes to the named peers and refuses new ones until unblocked (test partitions).
   * Unblocking re-dials configured routes at once.
   */
  setBlocked(names: Iterable<string>): void {
    this.blocked = new Set(names);
    for (const conn of [...this.conns]) {
      if (conn.info !== null && this.blocked.has(conn.remoteName)) conn.close(CloseReason.Partitioned, false);
    }
    // Healed: configured routes waiting for their next attempt are dialled now.
    for (const entry of this.configured.values()) {
      if (entry.dialing || entry.self || this.isBlocked(entry)) continue;
      if (entry.timer !== null) clearTimeout(entry.timer);
      entry.timer = null;
      this.dial(entry.url, true);
    }
  }

  private isBlocked(entry: { peerName: string | null }): boolean {
    return entry.peerName !== null && this.blocked.has(entry.peerName);
  }

  // ---- Connections ------------------------------------------------------------------------

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const tls = this.opts.tls;
    // With TLS the handshake comes first on routes (nats-server), then the protocol.
    const s = tls === null ? socket : serverSocket(socket, tls);
    const conn = this.wire(s, null, false);
    const sendInfo = (): void => {
      // INFO goes out at once, without waiting for the peer (2.10 solicitors wait for it).
      conn.sendText(`INFO ${JSON.stringify(this.routeInfo())} \r\n`);
      this.core.flushAll();
      // As nats-server, the auth timer starts once the TLS handshake is done.
      if (this.opts.authorization !== null) conn.startAuth(this.opts.authTimeoutMs);
    };
    if (tls === null) sendInfo();
    else this.handshake(s, conn, tls, sendInfo, 'secure');
  }

  /** Runs `then` once the TLS handshake is done; closes the route if it does not finish in time. */
  private handshake(socket: Transport, conn: RouteConn, tls: ResolvedTls, then: () => void, event: 'secure' | 'secureConnect'): void {
    handshakeDeadline(socket, tls, event, () => {
      if (!conn.closed) then();
    }, () => conn.close(CloseReason.TlsHandshake, false));
  }

  private wire(socket: Socket, url: RouteUrl | null, explicit: boolean): RouteConn {
    const conn = new RouteConn(this, socket, url, explicit);
    return this.track(conn, 'route');
  }

  private dial(url: RouteUrl, explicit: boolean): RouteConn | null {
    if (this.stopped) return null;
    const entry = explicit ? this.configured.get(url.url) : undefined;
    if (entry !== undefined) {
      if (entry.dialing || entry.self) return null;
      entry.dialing = true;
    }
    const tls = this.opts.tls;
    const socket: Socket = tls === null
      ? tcpConnect({ host: url.host, port: url.port })
      : tlsConnect({
        host: url.host,
        port: url.port,
        secureContext: secureContext(tls),
        // Peer certificates are checked against the CA when one is given.
        rejectUnauthorized: tls.ca !== null,
        servername: isIP(url.host) === 0 ? url.host : undefined,
        checkServerIdentity: () => undefined,
      });
    socket.setNoDelay(true);
    const conn = this.wire(socket, url, explicit);
    const start = (): void => {
      if (conn.closed) return;
      const connect: Record<string, unknown> = {
        echo: true, verbose: false, pedantic: false, tls_required: this.opts.tls !== null, headers: true,
        name: this.core.serverId, cluster: this.name,
      };
      if (this.dynamicName) connect.cluster_dynamic = true;
      Object.assign(connect, routeConnectCredentials(url));
      conn.sendText(`CONNECT ${JSON.stringify(connect)}\r\n`);
      conn.sendText(`INFO ${JSON.stringify(this.routeInfo())} \r\n`);
      this.core.flushAll();
    };
    if (tls === null) socket.once('connect', start);
    else this.handshake(socket, conn, tls, start, 'secureConnect');
    return conn;
  }

  /** The INFO this server sends on a route. */
  private routeInfo(): Record<string, unknown> {
    const o = this.core.options;
    const info: Record<string, unknown> = {
      server_id: this.core.serverId,
      server_name: o.serverName ?? this.core.serverId,
      version: NATS_SERVER_VERSION,
      proto: ROUTE_PROTO,
      go: `node${process.versions.node}`,
      host: this.opts.host,
      port: this.port,
      headers: !o.noHeaderSupport,
      // Go's field order: auth_required comes between headers and max_payload.
      ...(this.opts.authorization !== null ? { auth_required: true } : {}),
      max_payload: o.maxPayload,
      cluster: this.name,
    };
    if (this.opts.tls !== null) {
      info.tls_required = true;
      if (this.opts.tls.verify) info.tls_verify = true;
    }
    if (this.dynamicName) info.cluster_dynamic = true;
    if (!this.opts.noAdvertise) info.connect_urls = [this.ownClientUrl()];
    const ws = this.ownWsUrl();
    if (ws !== null && !this.opts.noAdvertise) info.ws_connect_urls = [ws];
    // Leaf node origin clusters: LS+ <origin> and LMSG <origin> are understood, and (lnocu, 2.10)
    // this server sends LS- <origin> and keeps a peer's interest apart by origin.
    info.lnoc = true;
    info.lnocu = true;
    if (this.gatewayLink !== null && this.gatewayLink.url !== '') info.gateway_url = this.gatewayLink.url;
    // Go's field order: the leaf node part comes last.
    if (this.leafLink !== null && this.leafLink.advertisedUrl !== '') info.leafnode_urls = [this.leafLink.advertisedUrl];
    return info;
  }

  /** This server's websocket URL (`host:port`), or null without a websocket listener. */
  private ownWsUrl(): string | null {
    const ws = this.core.options.websocket;
    if (ws === null || this.core.wsPort === 0) return null;
    return hostPort(dialHost(ws.host), this.core.wsPort);
  }

  private ownClientUrl(): string {
    return hostPort(dialHost(this.core.options.host), this.core.port);
  }

  // ---- Handshake ----------------------------------------------------------------------------

  onRouteConnect(conn: RouteConn, opts: Record<string, unknown>): void {
    // Credentials first (nats-server's checkAuthentication runs before processRouteConnect).
    const peerCert = (): Buffer | null => conn.socket.getPeerX509Certificate?.()?.raw ?? null;
    if (!routeAuthorized(this.opts.authorization, opts, this.opts.tls?.map ?? false, peerCert)) {
      const ip = conn.socket.remoteAddress ?? '';
      // nats-server logs ErrAuthentication's text, and answers with the violation.
      this.core.log.error(`${hostPort(peerIp(ip), conn.socket.remotePort ?? 0)} - rid:${conn.rid} - authentication error`);
      return conn.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
    }
    if (typeof opts.lang === 'string' && opts.lang !== '') {
      conn.send(encodeErr('attempted to connect to route port'));
      return conn.close(CloseReason.ProtocolViolation);
    }
    const theirs = typeof opts.cluster === 'string' ? opts.cluster : '';
    // A CONNECT without a cluster name does not match a configured one (route.go
    // processRouteConnect compares the names whatever they are).
    if (theirs === '' && !this.dynamicName) {
      conn.send(encodeErr(`Rejecting connection, cluster name "" does not match "${this.name}"`));
      return conn.close(CloseReason.ClusterNameConflict);
    }
    if (theirs !== '' && theirs !== this.name) {
      if (this.dynamicName && this.routes.size === 0) {
        this.adoptName(theirs);
      } else if (opts.cluster_dynamic !== true) {
        conn.send(encodeErr(`Rejecting connection, cluster name "${theirs}" does not match "${this.name}"`));
        return conn.close(CloseReason.ClusterNameConflict);
      }
    }
  }

  onRouteInfo(conn: RouteConn, info: RouteInfo): void {
    if (typeof info.gateway === 'string' && info.gateway !== '') {
      // Gossip about a gateway (route.go: before anything else); ignored without gateways.
      if (conn.info !== null) this.gatewayLink?.routeGossip(info);
      return;
    }
    if (conn.info === null) return this.register(conn, info);
    if (info.server_id !== conn.info.server_id) {
      // Gossip: a server our peer just met. Dial it unless we know it already.
      return this.implicitRoute(info);
    }
    // An update from the peer itself: its client URLs, or lame duck mode.
    const urlsKey = (i: RouteInfo): string => JSON.stringify([i.connect_urls ?? [], i.ws_connect_urls ?? []]);
    const before = urlsKey(conn.info);
    conn.info = {
      ...conn.info,
      connect_urls: info.ldm === true ? [] : info.connect_urls ?? [],
      ws_connect_urls: info.ldm === true ? [] : info.ws_connect_urls ?? [],
    };
    if (urlsKey(conn.info) !== before) this.core.sendAsyncInfo();
  }

  private register(conn: RouteConn, info: RouteInfo): void {
    conn.info = info;
    conn.headers = info.headers === true && !this.core.options.noHeaderSupport;
    conn.lnoc = info.lnoc === true;
    conn.lnocu = conn.parser.lnocu = info.lnocu === true;
    const entry = conn.url !== null ? this.configured.get(conn.url.url) : undefined;
    if (info.server_id === this.core.serverId) {
      // A route to ourselves (e.g. a config listing every member): never retried.
      if (entry !== undefined) entry.self = true;
      return conn.close(CloseReason.RouteToSelf);
    }
    if (entry !== undefined) entry.peerName = info.server_name ?? info.server_id;
    const theirs = info.cluster ?? '';
    if (theirs !== this.name) {
      if (this.dynamicName && this.routes.size === 0 && theirs !== '') this.adoptName(theirs);
      else if (info.cluster_dynamic !== true) return conn.close(CloseReason.ClusterNameConflict);
    }
    if (this.managerOptions.refuseJetStreamPeers === true && info.jetstream === true) return this.refuseJetStream(conn, info, entry);
    if (entry !== undefined) entry.refused = false;
    if (this.blocked.has(conn.remoteName)) return conn.close(CloseReason.Partitioned, false);
    const existing = this.routes.get(info.server_id);
    if (existing !== undefined) {
      // One route per server: the first registered wins. It inherits this one's URL, so
      // that it is re-dialled if it drops.
      if (conn.url !== null && existing.url === null) {
        existing.url = conn.url;
        existing.explicit = conn.explicit;
      }
      return conn.close(CloseReason.DuplicateRoute);
    }
    conn.registered = true;
    conn.lastActivity = Date.now();
    this.everRouted = true;
    this.routes.set(info.server_id, conn);
    // Everyone else learns about the newcomer (they dial it); it is not told about them.
    const gossip = Buffer.from(`INFO ${JSON.stringify(this.gossipInfo(conn, info))}\r\n`, 'latin1');
    for (const other of this.routes.values()) if (other !== conn) other.send(gossip);
    this.sendInterest(conn);
    const gw = this.gatewayLink;
    if (gw !== null) {
      const gossipFrame = gw.gossipForRoute();
      if (gossipFrame !== null) conn.send(gossipFrame);
      if (typeof info.gateway_url === 'string') gw.peerUrl(info.gateway_url, true);
    }
    // route.go: a route INFO's leafnode_urls has at most one entry, the peer's own.
    const leafUrl = peerLeafUrl(info);
    if (leafUrl !== null) this.leafLink?.peerUrl(leafUrl, true);
    this.core.flushAll();
    this.core.sendAsyncInfo();
    this.onChange?.();
  }

  /** Closes a route to a server with JetStream (see {@link ClusterManagerOptions.refuseJetStreamPeers}). */
  private refuseJetStream(conn: RouteConn, info: RouteInfo, entry: { refused: boolean } | undefined): void {
    const first = !this.refusedPeers.has(info.server_id);
    this.refusedPeers.add(info.server_id);
    this.refusedConns.add(conn);
    if (entry !== undefined) entry.refused = true;
    const text = `JetStream: route to ${JSON.stringify(conn.remoteName)} refused: ${MIXED_JETSTREAM}`;
    const log = this.core.log;
    if (first) log.error(`${text}; run JetStream on one kind of server only`);
    else if (log.debugOn) log.debug(text);
    conn.sendErrAndClose(`JetStream route refused: ${MIXED_JETSTREAM}`, CloseReason.MixedJetStream);
  }

  private gossipInfo(conn: RouteConn, info: RouteInfo): RouteInfo {
    const copy: RouteInfo = { ...info };
    delete copy.nonce;
    if (copy.ip === undefined) {
      const ip = peerIp(conn.socket.remoteAddress ?? info.host ?? '127.0.0.1');
      copy.ip = `nats-route://${hostPort(ip, info.port ?? 0)}/`;
    }
    return copy;
  }

  private implicitRoute(info: RouteInfo): void {
    const id = info.server_id;
    if (id === this.core.serverId || this.routes.has(id) || this.refusedPeers.has(id) || typeof info.ip !== 'string') return;
    if (this.blocked.has(info.server_name ?? id)) return;
    let url: RouteUrl;
    try {
      const u = new URL(info.ip);
      url = { url: `nats-route://${u.host}`, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
      url = implicitRouteUrl(url, info.auth_required === true, this.opts.authorization);
    } catch {
      return;
    }
    if (this.configured.has(url.url) || this.implicitDials.has(url.url)) return;
    this.implicitDials.add(url.url);
    this.dialImplicit(url, this.opts.connectRetries);
  }

  private dialImplicit(url: RouteUrl, retriesLeft: number): void {
    const conn = this.dial(url, false);
    if (conn === null) {
      this.implicitDials.delete(url.url);
      return;
    }
    conn.socket.once('close', () => {
      this.implicitDials.delete(url.url);
      if (!conn.registered && !this.stopped && retriesLeft > 0 && !this.refusedConns.has(conn)) {
        this.implicitDials.add(url.url);
        const t = setTimeout(() => this.dialImplicit(url, retriesLeft - 1), timerDelay(this.opts.reconnectDelayMs));
        t.unref();
      }
    });
  }

  private adoptName(name: string): void {
    this.name = name;
    this.core.clusterName = name;
  }

  /**
   * Full interest snapshot for a newly registered route (route.go sendSubsToRoute): by origin to a
   * peer with `lnocu`, one entry per subject to another (see {@link mergedInterest}).
   */
  private sendInterest(conn: RouteConn): void {
    let batch = '';
    const add = (line: string): void => {
      batch += line;
      if (batch.length > 64 * 1024) {
        conn.sendText(batch);
        batch = '';
      }
    };
    // Keys are `account subject` or `account subject queue` (then with the weight).
    const plain = (key: string, count: number): string => (key.split(' ').length === 2 ? `RS+ ${key}\r\n` : `RS+ ${key} ${count}\r\n`);
    if (conn.lnocu) {
      for (const [key, count] of this.interest) add(plain(key, count));
      // `origin account subject [queue]`.
      for (const [key, count] of this.originInterest) add(key.split(' ').length === 3 ? `LS+ ${key}\r\n` : `LS+ ${key} ${count}\r\n`);
    } else {
      for (const [key, count] of this.mergedInterest) add(plain(key, count));
    }
    if (batch.length > 0) conn.sendText(batch);
  }

  // ---- Route end ----------------------------------------------------------------------------

  onRouteClosed(conn: RouteConn, reason: CloseReason): void {
    const log = this.core.log;
    if (log.debugOn) log.debug(`${conn.remoteName || 'route'} - rid:${conn.rid} - Route connection closed: ${reason}`);
    this.conns.delete(conn);
    const id = conn.remoteId;
    if (conn.registered && id !== null && this.routes.get(id) === conn) {
      this.routes.delete(id);
      const gwUrl = conn.info?.gateway_url;
      if (typeof gwUrl === 'string') this.gatewayLink?.peerUrl(gwUrl, false);
      const leafUrl = conn.info === null ? null : peerLeafUrl(conn.info);
      if (leafUrl !== null && !this.stopped) this.leafLink?.peerUrl(leafUrl, false);
      // A server shutting down tells its clients nothing (nats-server: no INFO when shutting down).
      if (!this.stopped) this.core.sendAsyncInfo();
      this.onChange?.();
    }
    const url = conn.url;
    if (url === null || this.stopped) return;
    const entry = this.configured.get(url.url);
    if (entry !== undefined && conn.explicit) {
      entry.dialing = false;
      // A duplicate closed while another connection serves that server needs no retry.
      if (entry.self || (id !== null && this.routes.has(id))) return;
      this.scheduleRetry(entry);
    } else if (entry === undefined && conn.registered) {
      // A gossiped route that was up: try it again as nats-server does (connect_retries).
      if (this.opts.connectRetries > 0 && !this.implicitDials.has(url.url)) {
        this.implicitDials.add(url.url);
        this.dialImplicit(url, this.opts.connectRetries - 1);
      }
    }
  }

  private scheduleRetry(entry: { url: RouteUrl; timer: NodeJS.Timeout | null; refused: boolean; peerName: string | null }): void {
    // A partitioned peer is not retried; unblocking dials it again.
    if (entry.timer !== null || this.stopped || this.isBlocked(entry)) return;
    // A little jitter keeps two servers that dial each other from colliding forever; a peer
    // refused for its JetStream is tried rarely.
    const delay = (entry.refused ? Math.max(REFUSED_RETRY_MS, this.opts.reconnectDelayMs) : this.opts.reconnectDelayMs) * (1 + Math.random() * 0.2);
    entry.timer = setTimeout(() => {
      entry.timer = null;
      this.dial(entry.url, true);
    }, timerDelay(delay));
    entry.timer.unref();
  }


  findAccount(name: string): Account | undefined {
    return this.core.accounts.get(name);
  }

  routeFromPeer(route: RouteConn, account: Account, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    this.core.routeFromPeer(route, account, pa, queues, buf, start, end);
  }

  notifyChange(): void {
    this.core.notifyChange();
  }

  remoteInterest(account: string, subject: string, queue: string | null, delta: 1 | -1): void {
    this.core.gateway?.clusterInterest(account, subject, queue, delta, null);
  }

  // ---- ClusterHooks -------------------------------------------------------------------------

  localInterest(sub: Subscription, delta: 1 | -1): void {
    this.leafInterest(sub.client.account.name, sub.subject, sub.queue, delta);
  }

  leafInterest(account: string, subject: string, queue: string | null, delta: number, origin = ''): void {
    const rest = queue === null ? `${account} ${subject}` : `${account} ${subject} ${queue}`;
    const own = origin === '' ? countChange(this.interest, rest, delta, queue !== null) : countChange(this.originInterest, `${origin} ${rest}`, delta, queue !== null);
    const merged = countChange(this.mergedInterest, rest, delta, queue !== null);
    if (this.routes.size === 0 || (own < 0 && merged < 0)) return;
    // Frames built once, for the peers that need them (route.go addRouteSubOrUnsubProtoToBuf).
    let byOrigin: Buffer | null = null;
    let together: Buffer | null = null;
    for (const route of this.routes.values()) {
      if (route.lnocu) {
        if (own < 0) continue;
        byOrigin ??= Buffer.from(interestLine(origin, rest, queue !== null, own), 'latin1');
        route.send(byOrigin);
      } else if (merged >= 0) {
        together ??= Buffer.from(interestLine('', rest, queue !== null, merged), 'latin1');
        route.send(together);
      }
    }
  }

  connectUrls(): readonly string[] | null {
    // Absent until the first route; from then on at least this server's own URL.
    if (this.routes.size === 0 && !this.everRouted) return null;
    const urls = [this.ownClientUrl()];
    if (!this.opts.noAdvertise) {
      for (const r of this.routes.values()) {
        for (const u of r.info?.connect_urls ?? []) if (!urls.includes(u)) urls.push(u);
      }
    }
    return urls;
  }

  wsConnectUrls(): readonly string[] | null {
    if (this.routes.size === 0 && !this.everRouted) return null;
    const own = this.ownWsUrl();
    const urls = own === null ? [] : [own];
    if (!this.opts.noAdvertise) {
      for (const r of this.routes.values()) {
        for (const u of r.info?.ws_connect_urls ?? []) if (!urls.includes(u)) urls.push(u);
      }
    }
    return urls.length > 0 ? urls : null;
  }
}

/** The leaf node URL a route peer's INFO gives (`leafnode_urls` with exactly one entry), or null. */
function peerLeafUrl(info: RouteInfo): string | null {
  const urls = info.leafnode_urls;
  return Array.isArray(urls) && urls.length === 1 && typeof urls[0] === 'string' ? urls[0] : null;
}

/**
 * Applies `delta` to `key`'s count in `counts` and says what the peers must be told: -1 for
 * nothing, else the new count (0: withdrawn). Plain interest is told when it appears or goes;
 * a queue group's every change of total weight is.
 */
function countChange(counts: Map<string, number>, key: string, delta: number, queue: boolean): number {
  const before = counts.get(key) ?? 0;
  const after = Math.max(before + delta, 0);
  if (after === 0) counts.delete(key);
  else counts.set(key, after);
  if (queue) return before === 0 && after === 0 ? -1 : after;
  return (before === 0) === (after === 0) ? -1 : after;
}

/**
 * `RS+ <rest>[ <weight>]` / `RS- <rest>`, or with an `origin` `LS+ <origin> <rest>[ <weight>]` /
 * `LS- <origin> <rest>` (to a peer with lnocu).
 */
function interestLine(origin: string, rest: string, queue: boolean, count: number): string {
  if (origin === '') return count > 0 ? (queue ? `RS+ ${rest} ${count}\r\n` : `RS+ ${rest}\r\n`) : `RS- ${rest}\r\n`;
  if (count > 0) return queue ? `LS+ ${origin} ${rest} ${count}\r\n` : `LS+ ${origin} ${rest}\r\n`;
  return `LS- ${origin} ${rest}\r\n`;
}
