/**
 * The gateway layer of one server (nats-server 2.10's server/gateway.go): the gateway listener,
 * one outbound connection per remote gateway (cluster), inbound connections from every remote
 * server, gossip of gateway URLs (to inbound gateways, and inside the cluster over the routes),
 * implicit gateways, interest propagation and the `_GR_.` reply mapping.
 *
 * Interest: as nats-server since 2.9, this server switches every account to interest-only mode
 * on each inbound connection (INFO `gateway_iom`, then per account `gateway_cmd` 2, the RS+ of
 * every plain subscription of the cluster, `gateway_cmd` 3), and queue subscriptions are always
 * sent (RS+ with weight 1). The outbound side understands both modes: optimistic (send unless
 * an RS- said no), transitioning, interest-only (send only where an RS+ said yes), per account.
 * Queue groups: a group served in this cluster is not sent on; otherwise one remote cluster
 * with members gets it (the first outbound gateway in order of RTT).
 */
import { timerDelay } from '../io/timers.js';
import { createServer as createTcpServer, connect as tcpConnect, isIP, type Socket } from 'node:net';
import { PeerLayer } from '../broker/peer-layer.js';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import { createHash } from 'node:crypto';
import { hostPort, listen } from '../io/listen.js';
import { handshakeDeadline, secureContext, serverSocket } from '../io/tls.js';
import { linkAuthorized } from '../auth/auth.js';
import { ERR, NATS_SERVER_VERSION, encodeErr } from '../protocol/constants.js';
import { PubArg } from '../protocol/parser.js';
import { remapJetStreamDelivery } from '../protocol/js-delivery.js';
import type { BrokerCore } from '../broker/core.js';
import { LeafKind, RemoteSub, type Account, type AnySub, type RouteTarget } from '../broker/account.js';
import type { GatewayHooks } from '../broker/gateway-hooks.js';
import { ALL_QUEUES } from '../broker/router.js';
import { CloseReason } from '../broker/close-reason.js';
import type { ResolvedGatewayOptions, ResolvedTls, RouteUrl } from '../config/options.js';
import { Sublist } from '../subject/sublist.js';
import { subjectMatches } from '../subject/subject.js';
import { GatewayConn, GwInterest, Mode, OutAccount, type GatewayConnHost, type GatewayInfo } from './conn.js';

const GW_REPLY_PREFIX = '_GR_.';
const GW_HASH_LEN = 6;
/** `_GR_.<cluster hash>.<server hash>.` */
const GW_SUBJECT_OFFSET = GW_REPLY_PREFIX.length + 2 * (GW_HASH_LEN + 1);
/** gateway.go defaultGatewayRecentSubExpiration: a reply subscribed this recently is mapped. */
const RECENT_SUB_MS = 2000;
/** gateway_cmd values. */
const CMD_GOSSIP = 1;
const CMD_ALL_SUBS_START = 2;
const CMD_ALL_SUBS_COMPLETE = 3;

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** server.go getHashSize(name, 6): 6 base-62 characters of the SHA-256 of `name`. */
export function gatewayHash(name: string): string {
  const b = createHash('sha256').update(name).digest();
  let out = '';
  for (let i = 0; i < GW_HASH_LEN; i++) out += DIGITS[b[i]! % 62];
  return out;
}

/** A remote gateway: configured (explicit) or learned (implicit). */
interface RemoteGateway {
  readonly name: string;
  readonly hash: string;
  readonly implicit: boolean;
  /** Its URLs by `host:port`. */
  readonly urls: Map<string, RouteUrl>;
  conn: GatewayConn | null;
  timer: NodeJS.Timeout | null;
  /** Rounds over every URL that failed since the last registered connection. */
  attempts: number;
  /** URLs not yet tried in this round (gateway.go solicitGateway tries each, in random order). */
  round: RouteUrl[];
  /** TLS to this gateway (its own, else the `gateway` block's); null: plain TCP. */
  readonly tls: ResolvedTls | null;
  /**
   * The name a TLS certificate is checked against when a URL's host is an IP address: the
   * first host name among its URLs (gateway.go saveTLSHostname).
   */
  tlsName: string;
}

/** What the gateway layer needs of the route layer (wired by the embedded backend). */
export interface GatewayRoutes {
  /** Registered routes by peer server id. */
  routes(): ReadonlyMap<string, RouteTarget>;
  /** Sends a frame on every registered route. */
  broadcast(frame: Buffer): void;
}

/** A remote gateway as {@link GatewayManager.snapshot} reports it (for /gatewayz). */
export interface GatewaySnapshot {
  readonly name: string;
  readonly url: string;
  readonly outbound: ReadonlyArray<{ name: string; implicit: boolean; urls: string[]; conn: GatewayConn | null }>;
  readonly inbound: ReadonlyArray<{ name: string; conn: GatewayConn }>;
}

export class GatewayManager extends PeerLayer<GatewayConn> implements GatewayHooks, GatewayConnHost {
  readonly name: string;
  port = 0;
  private readonly remotes = new Map<string, RemoteGateway>();
  /** Registered outbound connections, in registration order. */
  private readonly outList: GatewayConn[] = [];
  private readonly inbound = new Set<GatewayConn>();
  /** The gateway URLs of this cluster's servers (this one's and the routes'), counted. */
  private readonly urls = new Map<string, number>();
  private ownUrl = '';
  /** The cluster's interest per account: `subject` or `subject queue` → count (gateway.go pasi). */
  private readonly pasi = new Map<string, Map<string, number>>();
  /** Subscriptions (local, and leaf nodes') made in the last 2 s, per account: a request whose reply they match is mapped. */
  private readonly recent = new Map<Account, Sublist<AnySub>>();
  private readonly recentTimers = new Set<NodeJS.Timeout>();
  /** Replies to map back (`reply` → `_GR_.…reply`, expiry), per account. */
  private readonly replies = new Map<Account, Map<string, { routed: string; exp: number }>>();
  private replyTimer: NodeJS.Timeout | null = null;
  tracksReplies = false;
  readonly clusterHash: string;
  readonly serverHash: string;
  private readonly replyPrefix: string;
  /** The PubArg of internal publications sent by {@link mappedInternal} (reused). */
  private readonly internalPa = new PubArg();
  /** Queue groups given to a gateway during one {@link sendToGateways} (reused). */
  private readonly chosen: string[] = [];
  private readonly queuesOut: string[] = [];
  /** The route layer, when clustering is configured. */
  routeLayer: GatewayRoutes | null = null;
  /** Gateway names this server must not connect to (test partitions). */
  private blocked: ReadonlySet<string> = new Set();

  constructor(
    core: BrokerCore,
    readonly opts: ResolvedGatewayOptions,
    /** Write delay per remote gateway name (a test fault; the backend keeps it across restarts). */
    private readonly latency: ReadonlyMap<string, number> = new Map(),
  ) {
    super(core);
    this.name = opts.name;
    this.clusterHash = gatewayHash(opts.name);
    this.serverHash = gatewayHash(core.serverId);
    this.replyPrefix = `${GW_REPLY_PREFIX}${this.clusterHash}.${this.serverHash}.`;
    for (const g of opts.gateways) {
      if (g.name === this.name) continue;
      const urls = new Map<string, RouteUrl>();
      for (const u of g.urls) urls.set(hostPort(u.host, u.port), u);
      const tlsName = g.tls === null ? '' : g.urls.find((u) => isIP(u.host) === 0)?.host ?? '';
      this.remotes.set(g.name, { name: g.name, hash: gatewayHash(g.name), implicit: false, urls, conn: null, timer: null, attempts: 0, round: [], tls: g.tls, tlsName });
    }
    // Interest that exists already (internal clients started before this layer, leaf nodes).
    for (const acc of core.accounts.values()) {
      acc.sublist.forEach((s) => {
        if (!s.remote) this.clusterInterest(acc.name, s.subject, s.queue, 1, null);
        else if (s.route.leafKind === LeafKind.ACCEPTED) this.clusterInterest(acc.name, s.subject, s.queue, s.weight, null);
      });
    }
    core.gateway = this;
  }

  /** `host:port` remote gateways dial to reach this server. */
  get url(): string {
    return this.ownUrl;
  }

  async start(port = this.opts.port): Promise<void> {
    const tcp = createTcpServer({ noDelay: true }, (socket) => this.accept(socket));
    this.port = await listen(tcp, this.opts.host, port, (err) => this.core.log.error(`Error accepting gateway connection: ${err.message}`));
    this.tcp = tcp;
    this.ownUrl = this.opts.advertise ?? hostPort(this.opts.host === '0.0.0.0' || this.opts.host === '::' ? '127.0.0.1' : this.opts.host, this.port);
    this.addUrl(this.ownUrl);
    this.core.log.info(`Gateway name is ${this.name}`);
    this.core.log.info(`Listening for gateways connections on ${hostPort(this.opts.host, this.port)}`);
    for (const r of this.remotes.values()) this.solicit(r);
  }

  stop(graceful: boolean): Promise<void> {
    for (const r of this.remotes.values()) {
      if (r.timer !== null) clearTimeout(r.timer);
      r.timer = null;
    }
    for (const t of this.recentTimers) clearTimeout(t);
    this.recentTimers.clear();
    if (this.replyTimer !== null) clearInterval(this.replyTimer);
    this.replyTimer = null;
    const closed = this.closeAll(graceful);
    if (this.core.gateway === this) this.core.gateway = null;
    return closed;
  }

  /** Outbound connections in order of RTT (gateway.go orderOutboundConnections): the first with interest gets a queue group. */
  orderOutbound(): void {
    const rtt = (c: GatewayConn): number => (c.rttNs > 0 ? c.rttNs : Number.MAX_SAFE_INTEGER);
    this.outList.sort((a, b) => rtt(a) - rtt(b));
  }

  /** Cuts the connections to and from the named gateways and refuses new ones (test partitions). */
  setBlocked(names: Iterable<string>): void {
    this.blocked = new Set(names);
    for (const c of [...this.conns]) if (this.blocked.has(c.name)) c.close(CloseReason.Partitioned, false);
    for (const r of this.remotes.values()) {
      if (r.conn === null && r.timer === null && !this.blocked.has(r.name)) this.solicit(r);
    }
  }

  /** For /gatewayz and varz. */
  snapshot(): GatewaySnapshot {
    const outbound = [...this.remotes.values()].map((r) => ({
      name: r.name, implicit: r.implicit, urls: [...r.urls.keys()], conn: this.outList.find((c) => c.name === r.name) ?? null,
    }));
    const inbound = [...this.inbound].map((conn) => ({ name: conn.name, conn }));
    return { name: this.name, url: this.ownUrl, outbound, inbound };
  }

  /** Names of the remote gateways with a registered outbound connection. */
  connectedGateways(): string[] {
    return this.outList.map((c) => c.name);
  }

  /** The interest mode of `account` on the outbound connection to `gateway` (/gatewayz `interest_mode`), or null. */
  interestMode(gateway: string, account: string): 'Optimistic' | 'Transitioning' | 'Interest-Only' | null {
    const conn = this.outList.find((c) => c.name === gateway);
    if (conn === undefined) return null;
    const e = conn.outsim.get(account);
    if (e === undefined || e === null) return conn.interestOnlyMode ? 'Interest-Only' : 'Optimistic';
    return e.mode === Mode.InterestOnly ? 'Interest-Only' : e.mode === Mode.Transitioning ? 'Transitioning' : 'Optimistic';
  }

  /** Number of registered inbound connections from the named gateway. */
  inboundFrom(name: string): number {
    let n = 0;
    for (const c of this.inbound) if (c.name === name) n++;
    return n;
  }

  // ---- URLs of this cluster -----------------------------------------------------------------

  private addUrl(url: string): boolean {
    const n = this.urls.get(url) ?? 0;
    this.urls.set(url, n + 1);
    return n === 0;
  }

  private removeUrl(url: string): boolean {
    const n = this.urls.get(url) ?? 0;
    if (n <= 1) this.urls.delete(url);
    else this.urls.set(url, n - 1);
    return n === 1;
  }

  /** A route peer's gateway URL (route INFO `gateway_url`) came or went: inbound gateways hear of the cluster's URLs. */
  peerUrl(url: string, added: boolean): void {
    if (url === '' || url === this.ownUrl) return;
    if (added ? this.addUrl(url) : this.removeUrl(url)) {
      const frame = Buffer.from(`INFO ${JSON.stringify(this.gatewayInfo())}\r\n`, 'latin1');
      for (const c of this.inbound) c.send(frame);
      this.core.flushAll();
    }
  }

  /** The gateway INFO (nats-server's field names and order). */
  private gatewayInfo(): Record<string, unknown> {
    const o = this.core.options;
    const [host, port] = splitHostPort(this.ownUrl);
    return {
      server_id: this.core.serverId,
      server_name: o.serverName ?? this.core.serverId,
      version: NATS_SERVER_VERSION,
      // Zero values, as nats-server's gateway INFO has them (it sets no proto or go version).
      proto: 0,
      go: '',
      host,
      port,
      headers: !o.noHeaderSupport,
      ...(this.opts.authorization !== null ? { auth_required: true } : {}),
      // gateway.go generateInfoJSON: with TLS, both required and verified (whatever `verify` says).
      ...(this.opts.tls !== null ? { tls_required: true, tls_verify: true } : {}),
      max_payload: o.maxPayload,
      gateway: this.name,
      gateway_urls: [...this.urls.keys()],
      gateway_url: this.ownUrl,
      gateway_nrp: true,
      gateway_iom: true,
    };
  }

  // ---- Connections ----------------------------------------------------------------------------

  private wire(socket: Socket, outbound: boolean, name: string, url: RouteUrl | null): GatewayConn {
    const conn = new GatewayConn(this, socket, outbound, name, url);
    return this.track(conn, 'gateway');
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const tls = this.opts.tls;
    // gateway.go createGateway: with TLS the handshake comes first (either side), then the INFO
    // and the auth timer.
    const s = tls === null ? socket : serverSocket(socket, tls);
    const conn = this.wire(s, false, '', null);
    const start = (): void => {
      conn.sendText(`INFO ${JSON.stringify(this.gatewayInfo())}\r\n`);
      conn.startAuth(this.opts.authTimeoutMs);
      this.core.flushAll();
    };
    if (tls === null) return start();
    const who = `${hostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0)}`;
    this.handshake(s, conn, tls, 'secure', who, start);
  }

  /**
   * Runs `then` once `socket`'s TLS handshake is done; a handshake error or timeout is logged
   * (client.go doTLSHandshake's words) and closes the connection.
   */
  private handshake(socket: Socket, conn: GatewayConn, tls: ResolvedTls, event: 'secure' | 'secureConnect', who: string, then: () => void): void {
    let done = false;
    // A dial that fails before TCP is up is no handshake error (the retry logs nothing either).
    let up = event === 'secure';
    if (!up) socket.once('connect', () => void (up = true));
    socket.once('error', (err) => {
      if (!done && up) this.core.log.error(`${who} - TLS gateway handshake error: ${err.message}`);
    });
    handshakeDeadline(socket, tls, event, () => {
      done = true;
      if (!conn.closed) then();
    }, () => {
      this.core.log.error(`${who} - TLS gateway handshake timeout`);
      conn.close(CloseReason.TlsHandshake, false);
    });
  }

  /** Dials a remote gateway (its next URL of this round), unless connected or blocked. */
  private solicit(r: RemoteGateway): void {
    if (this.stopped || r.conn !== null || this.blocked.has(r.name)) return;
    if (r.round.length === 0) {
      r.round = [...r.urls.values()];
      for (let i = r.round.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [r.round[i], r.round[j]] = [r.round[j], r.round[i]];
      }
    }
    const url = r.round.pop();
    if (url === undefined) return;
    const tls = r.tls;
    // The remote's certificate is checked against the URL's host name (an IP address's: the
    // remote's tlsName, when it has one), as client.go doTLSHandshake sets ServerName.
    const name = tls !== null && isIP(url.host) !== 0 && r.tlsName !== '' ? r.tlsName : url.host;
    let socket: Socket;
    try {
      socket = this.dial(url, tls, name);
    } catch (err) {
      // nats-server logs a failed dial and tries again later; it is never fatal.
      this.core.log.error(`Error connecting to gateway "${r.name}" (${url.url}): ${(err as Error).message}`);
      return this.scheduleSolicit(r, true);
    }
    socket.setNoDelay(true);
    const conn = this.wire(socket, true, r.name, url);
    r.conn = conn;
    // The remote's INFO comes after the handshake; an outbound gateway waits for it.
    if (tls !== null) this.handshake(socket, conn, tls, 'secureConnect', `Gateway "${r.name}" ${url.url}`, () => undefined);
  }

  /** Opens the connection to one URL of a remote gateway (TLS checked against `name`). */
  private dial(url: RouteUrl, tls: ResolvedTls | null, name: string): Socket {
    return tls === null
      ? tcpConnect({ host: url.host, port: url.port })
      : tlsConnect({
        host: url.host,
        port: url.port,
        secureContext: secureContext(tls),
        rejectUnauthorized: true,
        // SNI takes host names only.
        ...(isIP(name) === 0 ? { servername: name } : {}),
        checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
      });
  }

  /** After a failed dial: the round's next URL at once, else a new round after a pause. */
  private scheduleSolicit(r: RemoteGateway, failed: boolean): void {
    if (this.stopped || r.timer !== null || this.blocked.has(r.name)) return;
    if (failed && r.round.length > 0) return this.solicit(r);
    if (failed) r.attempts++;
    if (r.implicit && failed && r.attempts > this.opts.connectRetries && this.inboundFrom(r.name) === 0) {
      // An implicit gateway that cannot be reached is forgotten (gateway.go solicitGateway).
      this.remotes.delete(r.name);
      return;
    }
    const delay = (r.implicit ? 0 : this.opts.reconnectDelayMs) + Math.floor(Math.random() * 100);
    r.timer = setTimeout(() => {
      r.timer = null;
      this.solicit(r);
    }, timerDelay(delay));
    r.timer.unref();
  }

  // ---- GatewayConnHost (the rest is PeerLayer's) -----------------------------------------------

  onGwConnect(conn: GatewayConn, opts: Record<string, unknown>): void {
    // auth.go isGatewayAuthorized: one user and password, or (verifyAndMap) the certificate names
    // the user. First, as client.go processConnect checks credentials before processGatewayConnect.
    const peerCert = (): Buffer | null => conn.socket.getPeerX509Certificate?.()?.raw ?? null;
    if (!linkAuthorized(this.opts.authorization, opts, this.opts.tls?.map ?? false, peerCert)) {
      return conn.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
    }
    const gw = typeof opts.gateway === 'string' ? opts.gateway : '';
    if (gw === '') {
      // gateway.go processGatewayConnect: a client or a route on the gateway port.
      return conn.sendErrAndClose('attempted to connect to gateway port', CloseReason.WrongPort);
    }
    if (this.opts.rejectUnknown && !this.remotes.has(gw)) {
      this.core.log.error(`Rejecting connection from gateway "${gw}"`);
      return conn.sendErrAndClose(`Connection to gateway "${this.name}" rejected`, CloseReason.WrongGateway);
    }
    if (this.blocked.has(gw)) return conn.close(CloseReason.Partitioned, false);
    conn.connected = true;
    conn.name = gw;
  }

  onGwInfo(conn: GatewayConn, info: GatewayInfo): void {
    if (conn.outbound) return this.outboundInfo(conn, info);
    if (conn.info !== null) return;
    if (!conn.connected) return conn.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
    this.registerInbound(conn, info);
  }

  private outboundInfo(conn: GatewayConn, info: GatewayInfo): void {
    const first = conn.info === null;
    const gw = typeof info.gateway === 'string' ? info.gateway : '';
    if (gw === '') return conn.sendErrAndClose(`Attempt to connect to gateway "${conn.name}" using wrong port`, CloseReason.WrongPort);
    const r = this.remotes.get(conn.name);
    if (gw !== conn.name) {
      if (!first && info.gateway_cmd === CMD_GOSSIP) return this.implicitGateway(info);
      this.core.log.error(`Failing connection to gateway "${conn.name}", remote gateway name is "${gw}"`);
      conn.send(encodeErr(`Connection from "${this.name}" rejected, wanted to connect to "${conn.name}", this is "${gw}"`));
      return conn.close(CloseReason.WrongGateway);
    }
    if (Array.isArray(info.gateway_urls) && r !== undefined) addUrls(r, info.gateway_urls);
    if (first) {
      conn.info = info;
      conn.interestOnlyMode = info.gateway_iom === true;
      conn.headers = info.headers === true && !this.core.options.noHeaderSupport;
      const connect: Record<string, unknown> = { echo: false, verbose: false, pedantic: false };
      const url = conn.url;
      const user = url?.user ?? this.opts.authorization?.user;
      const pass = url?.user !== undefined ? url.pass : this.opts.authorization?.password;
      if (user !== undefined && user !== '') connect.user = user;
      if (pass !== undefined && pass !== '') connect.pass = pass;
      Object.assign(connect, { tls_required: r?.tls != null, name: this.core.serverId, gateway: this.name });
      conn.sendText(`CONNECT ${JSON.stringify(connect)}\r\n`);
      conn.sendText(`INFO ${JSON.stringify(this.gatewayInfo())}\r\n`);
      const existing = this.outList.find((c) => c.name === conn.name);
      if (existing !== undefined) return conn.close(CloseReason.WrongGateway);
      conn.registered = true;
      this.outList.push(conn);
      if (r !== undefined) r.attempts = 0;
      conn.startPings();
      this.core.log.info(`Outbound gateway connection to "${conn.name}" (${info.server_id}) registered`);
      this.core.flushAll();
      this.core.notifyChange();
    } else if (info.gateway_cmd === CMD_ALL_SUBS_START || info.gateway_cmd === CMD_ALL_SUBS_COMPLETE) {
      const acc = typeof info.gateway_cmd_payload === 'string' ? Buffer.from(info.gateway_cmd_payload, 'base64').toString('latin1') : '';
      if (acc === '') {
        const cmd = info.gateway_cmd === CMD_ALL_SUBS_START ? 'start' : 'complete';
        return conn.sendErrAndClose(`Account absent from receive-all-subscriptions-${cmd} command`, CloseReason.ProtocolViolation);
      }
      if (info.gateway_cmd === CMD_ALL_SUBS_START) {
        let e = conn.outsim.get(acc);
        if (e === undefined || e === null) {
          e = new OutAccount();
          e.ni = null;
          conn.outsim.set(acc, e);
        }
        e.mode = Mode.Transitioning;
      } else {
        const e = conn.outsim.get(acc);
        if (e !== undefined && e !== null) {
          e.ni = null;
          e.mode = Mode.InterestOnly;
        }
      }
      return;
    }
    // The remote's cluster learns of it too: its servers dial this gateway (forwardNewGatewayToLocalCluster).
    this.forwardToCluster(info);
  }

  private forwardToCluster(info: GatewayInfo): void {
    const routes = this.routeLayer;
    if (routes === null) return;
    const gossip = {
      server_id: `GW${this.core.serverId}`,
      server_name: this.core.options.serverName ?? this.core.serverId,
      gateway: info.gateway,
      gateway_urls: info.gateway_urls,
      gateway_cmd: CMD_GOSSIP,
    };
    routes.broadcast(Buffer.from(`INFO ${JSON.stringify(gossip)}\r\n`, 'latin1'));
    this.core.flushAll();
  }

  private registerInbound(conn: GatewayConn, info: GatewayInfo): void {
    conn.info = info;
    conn.name = typeof info.gateway === 'string' && info.gateway !== '' ? info.gateway : conn.name;
    conn.headers = info.headers === true && !this.core.options.noHeaderSupport;
    conn.registered = true;
    this.inbound.add(conn);
    conn.startPings();
    this.core.log.info(`Inbound gateway connection from "${conn.name}" (${info.server_id}) registered`);
    // Queue subscriptions of every account first (sendQueueSubsToGateway).
    let batch = '';
    for (const [acc, m] of this.pasi) {
      for (const key of m.keys()) if (key.includes(' ')) batch += `RS+ ${acc} ${key} 1\r\n`;
    }
    if (batch !== '') conn.sendText(batch);
    // Dial back (an implicit gateway), and tell it of the other gateways known here.
    this.implicitGateway(info);
    for (const r of this.remotes.values()) {
      if (r.name === conn.name || r.urls.size === 0) continue;
      const gossip = { server_id: this.core.serverId, gateway: r.name, gateway_urls: [...r.urls.keys()], gateway_cmd: CMD_GOSSIP };
      conn.sendText(`INFO ${JSON.stringify(gossip)}\r\n`);
    }
    // Every account goes to interest-only mode at once (2.9.0+).
    for (const acc of this.core.accounts.keys()) this.switchToInterestOnly(conn, acc);
    this.core.flushAll();
    this.core.notifyChange();
  }

  /** gateway.go gatewaySwitchAccountToSendAllSubs: start, every plain subscription, complete. */
  private switchToInterestOnly(conn: GatewayConn, acc: string): void {
    conn.insim.set(acc, Mode.InterestOnly);
    const payload = Buffer.from(acc, 'latin1').toString('base64');
    const cmd = (c: number): string => `INFO ${JSON.stringify({ server_id: '', gateway: this.name, gateway_cmd: c, gateway_cmd_payload: payload })}\r\n`;
    let batch = cmd(CMD_ALL_SUBS_START);
    const m = this.pasi.get(acc);
    if (m !== undefined) for (const key of m.keys()) if (!key.includes(' ')) batch += `RS+ ${acc} ${key}\r\n`;
    batch += cmd(CMD_ALL_SUBS_COMPLETE);
    conn.sendText(batch);
  }

  /** gateway.go processImplicitGateway: dial a gateway learned from an INFO. */
  private implicitGateway(info: GatewayInfo): void {
    const gw = info.gateway;
    if (typeof gw !== 'string' || gw === '' || gw === this.name || this.stopped) return;
    const existing = this.remotes.get(gw);
    if (existing !== undefined) {
      if (Array.isArray(info.gateway_urls)) addUrls(existing, info.gateway_urls);
      if (existing.conn === null && existing.timer === null) this.solicit(existing);
      return;
    }
    if (this.opts.rejectUnknown) return;
    // gateway.go processImplicitGateway: the `gateway` block's TLS.
    const r: RemoteGateway = {
      name: gw, hash: gatewayHash(gw), implicit: true, urls: new Map(), conn: null, timer: null, attempts: 0, round: [], tls: this.opts.tls, tlsName: '',
    };
    if (Array.isArray(info.gateway_urls)) addUrls(r, info.gateway_urls);
    if (r.urls.size === 0) return;
    this.remotes.set(gw, r);
    this.solicit(r);
  }

  /** A route INFO about a gateway (nats-server's processGatewayInfoFromRoute). */
  routeGossip(info: GatewayInfo): void {
    if (info.gateway_cmd === CMD_GOSSIP) this.implicitGateway(info);
  }

  /** The INFOs a newly registered route gets: the gateways this server has outbound connections to. */
  gossipForRoute(): Buffer | null {
    let text = '';
    for (const c of this.outList) {
      const r = this.remotes.get(c.name);
      if (r === undefined || r.urls.size === 0) continue;
      text += `INFO ${JSON.stringify({ server_id: `GW${this.core.serverId}`, gateway: r.name, gateway_urls: [...r.urls.keys()], gateway_cmd: CMD_GOSSIP })}\r\n`;
    }
    return text === '' ? null : Buffer.from(text, 'latin1');
  }

  gatewayLatencyMs(name: string): number {
    return this.latency.size === 0 ? 0 : this.latency.get(name) ?? 0;
  }

  onGwRtt(): void {
    this.orderOutbound();
  }

  onGwClosed(conn: GatewayConn, reason: CloseReason): void {
    this.conns.delete(conn);
    const log = this.core.log;
    if (log.debugOn) log.debug(`gateway "${conn.name}" - gid:${conn.cid} - connection closed: ${reason}`);
    if (conn.outbound) {
      const i = this.outList.indexOf(conn);
      if (i >= 0) this.outList.splice(i, 1);
      if (!this.stopped) {
        for (const [acc, e] of conn.outsim) {
          if (e === null) continue;
          const account = this.core.accounts.get(acc);
          for (const sub of e.subs.values()) {
            account?.sublist.notifyWatchers(sub.subject);
            // The hub's leaf nodes stop counting on that cluster's interest.
            if (sub.leaf !== null) account?.leafInterest?.(sub.leaf, -1);
          }
        }
      }
      const r = this.remotes.get(conn.name);
      if (r !== undefined && r.conn === conn) {
        r.conn = null;
        if (conn.registered) {
          r.attempts = 0;
          r.round = [];
        }
        if (reason !== CloseReason.WrongGateway || conn.registered) this.scheduleSolicit(r, !conn.registered);
      }
    } else {
      this.inbound.delete(conn);
    }
    if (!this.stopped) this.core.notifyChange();
  }

  // ---- Interest from the remote (outbound connections) ----------------------------------------

  onGwSub(conn: GatewayConn, account: string, subject: string, queue: string | null): void {
    let e = conn.outsim.get(account);
    if (e === undefined || e === null) {
      if (queue === null) return; // plain RS+ without an entry: nothing was said no to
      e = new OutAccount();
      conn.outsim.set(account, e);
    }
    if (queue !== null || e.mode !== Mode.Optimistic) {
      const key = queue === null ? subject : `${subject} ${queue}`;
      if (e.subs.has(key)) return;
      const acc = this.core.accounts.get(account);
      const sub = new GwInterest(subject, queue, acc === undefined ? null : new RemoteSub(GATEWAY_INTEREST, subject, queue, 1, acc));
      if (!e.sl.insert(sub)) return;
      e.subs.set(key, sub);
      if (queue !== null) e.qsubs++;
      // leafnode.go updateInterestForAccountOnGateway: a hub's leaf nodes learn of it.
      if (sub.leaf !== null) acc?.leafInterest?.(sub.leaf, 1);
    } else if (e.ni !== null) {
      if (subject.includes('*') || subject.includes('>')) {
        for (const s of e.ni) if (subjectMatches(s, subject)) e.ni.delete(s);
      } else {
        e.ni.delete(subject);
      }
    }
    this.interestChanged(account, subject);
  }

  onGwUnsub(conn: GatewayConn, account: string, subject: string, queue: string | null): void {
    let e = conn.outsim.get(account);
    if (e === undefined || e === null) {
      if (queue !== null) return;
      e = new OutAccount();
      conn.outsim.set(account, e);
    }
    if (queue !== null || e.mode !== Mode.Optimistic) {
      const key = queue === null ? subject : `${subject} ${queue}`;
      const sub = e.subs.get(key);
      if (sub === undefined) return;
      e.sl.remove(sub);
      e.subs.delete(key);
      if (queue !== null) e.qsubs--;
      if (sub.leaf !== null) sub.leaf.account.leafInterest?.(sub.leaf, -1);
    } else {
      // Optimistic mode: a no-interest record.
      e.ni?.add(subject);
    }
    this.interestChanged(account, subject);
  }

  /** A remote's interest changed: push consumers on `subject` look again (consumer.go hasDeliveryInterest). */
  private interestChanged(account: string, subject: string): void {
    this.core.accounts.get(account)?.sublist.notifyWatchers(subject);
    this.core.notifyChange();
  }

  /**
   * Whether the remote behind `conn` may want `subject` without an RS+ for it (gateway.go
   * gatewayInterest): optimistic mode with no RS- for it. `e` is the account's entry (undefined:
   * none; null: no interest in the account at all).
   */
  private optimisticInterest(conn: GatewayConn, e: OutAccount | null | undefined, subject: string): boolean {
    if (e === null) return false;
    if (e === undefined) return !conn.interestOnlyMode;
    return !conn.interestOnlyMode && e.ni !== null && !e.ni.has(subject);
  }

  remoteInterest(acc: Account, subject: string): boolean {
    const tracked = this.replies.get(acc)?.get(subject);
    if (tracked !== undefined && tracked.exp >= Date.now()) return true;
    for (let i = 0; i < this.outList.length; i++) {
      const conn = this.outList[i];
      const e = conn.outsim.get(acc.name);
      if (this.optimisticInterest(conn, e, subject)) return true;
      if (e !== undefined && e !== null && (e.ni === null || e.qsubs > 0)) {
        const r = e.sl.match(subject);
        if (r.psubs.length > 0 || r.qsubs.length > 0) return true;
      }
    }
    return false;
  }

  remoteInterestForLeaf(acc: Account, into: AnySub[]): void {
    for (let i = 0; i < this.outList.length; i++) {
      const e = this.outList[i].outsim.get(acc.name);
      if (e === undefined || e === null) continue;
      for (const sub of e.subs.values()) if (sub.leaf !== null) into.push(sub.leaf);
    }
  }

  // ---- GatewayHooks: messages out -------------------------------------------------------------

  sendToGateways(acc: Account, pa: PubArg, buf: Buffer, start: number, qsubs: readonly (readonly AnySub[])[], source: RouteTarget | null, leafQueues: readonly string[] | null): boolean {
    const outs = this.outList;
    if (outs.length === 0) return false;
    const subject = pa.deliver === '' ? pa.subject : pa.deliver;
    if (subject.length === 0) return false;
    const direct = subject.startsWith(GW_REPLY_PREFIX) && subject.length > GW_SUBJECT_OFFSET;
    const chosen = this.chosen;
    chosen.length = 0;
    let sent = false;
    let reply: string | null = null;
    for (let i = 0; i < outs.length; i++) {
      const conn = outs[i];
      const queues = this.queuesOut;
      queues.length = 0;
      if (direct) {
        const r = this.remotes.get(conn.name);
        if (r === undefined || subject.slice(GW_REPLY_PREFIX.length, GW_REPLY_PREFIX.length + GW_HASH_LEN) !== r.hash) continue;
      } else {
        const e = conn.outsim.get(acc.name);
        let psi = this.optimisticInterest(conn, e, subject);
        if (e !== undefined && e !== null && (e.ni === null || e.qsubs > 0)) {
          const r = e.sl.match(subject);
          if (r.psubs.length > 0) psi = true;
          for (let g = 0; g < r.qsubs.length; g++) {
            const q = r.qsubs[g][0].queue!;
            // A leaf node's message: only the groups its LMSG named (sendMsgToGateways' checkLeafQF),
            // unless it crossed a service import (checkLeafQF false: every group).
            if (source !== null && leafQueues !== ALL_QUEUES && (leafQueues === null || !leafQueues.includes(q))) continue;
            if (servedHere(qsubs, q, source) || chosen.includes(q)) continue;
            chosen.push(q);
            queues.push(q);
          }
        }
        if (!psi && queues.length === 0) continue;
      }
      if (reply === null) reply = this.mapReply(acc, pa.deliver === '' || pa.reply === '' ? pa.reply : `${pa.reply}@${pa.subject}`);
      conn.sendMsg(acc.name, subject, reply, queues, pa, buf, start);
      // A publisher faster than this gateway connection is stalled (client.go stalledWait).
      this.core.checkBacklog(conn);
      sent = true;
    }
    return sent;
  }

  /** A reply subscribed in the last 2 s gets the `_GR_.` prefix (gateway.go shouldMapReplyForGatewaySend). */
  private mapReply(acc: Account, reply: string): string {
    if (reply === '') return reply;
    const sl = this.recent.get(acc);
    if (sl === undefined) return reply;
    const r = sl.match(reply);
    return r.psubs.length > 0 ? this.replyPrefix + reply : reply;
  }

  mappedReply(acc: Account, pa: PubArg, buf: Buffer, start: number): boolean {
    const m = this.replies.get(acc);
    const entry = m?.get(pa.subject);
    if (entry === undefined || entry.exp < Date.now()) return false;
    const subject = pa.subject;
    pa.subject = entry.routed;
    this.core.stats.inMsgs++;
    this.core.stats.inBytes += pa.size;
    try {
      this.sendToGateways(acc, pa, buf, start, NO_GROUPS, null, null);
    } finally {
      pa.subject = subject;
    }
    return true;
  }

  mappedInternal(acc: Account, subject: string, reply: string, headers: Buffer | null, data: Buffer, deliver: string): boolean {
    const entry = this.replies.get(acc)?.get(deliver === '' ? subject : deliver);
    if (entry === undefined || entry.exp < Date.now()) return false;
    const pa = this.internalPa;
    const hdr = headers === null ? 0 : headers.length;
    pa.subject = deliver === '' ? entry.routed : subject;
    pa.deliver = deliver === '' ? '' : entry.routed;
    pa.reply = reply;
    pa.hdr = headers === null ? -1 : hdr;
    pa.size = hdr + data.length;
    const buf = headers === null ? data : Buffer.concat([headers, data]);
    this.sendToGateways(acc, pa, buf, 0, NO_GROUPS, null, null);
    this.core.flushOutsideRead();
    return true;
  }

  unmapRouted(acc: Account, pa: PubArg): void {
    const s = pa.subject;
    if (s.length > GW_SUBJECT_OFFSET && s.startsWith(GW_REPLY_PREFIX) && s.slice(GW_REPLY_PREFIX.length, GW_REPLY_PREFIX.length + GW_HASH_LEN) === this.clusterHash) {
      pa.subject = s.slice(GW_SUBJECT_OFFSET);
    }
    // A request a server of this cluster got from a gateway: delivered here with the plain
    // reply, an answer goes straight back to the requester's cluster (client.go deliverMsg).
    const r = pa.reply;
    if (r.length > GW_SUBJECT_OFFSET && r.charCodeAt(0) === 0x5f && r.startsWith(GW_REPLY_PREFIX)) {
      pa.reply = r.slice(GW_SUBJECT_OFFSET);
      // Leaf nodes get the mapped reply (processMsgResults hands route and leaf targets the
      // reply as it came); the route parser clears it with the next message.
      pa.gwReply = r;
      // The route parser left a JetStream delivery's `@` in the mapped reply.
      if (pa.deliver === '') remapJetStreamDelivery(pa);
      this.trackReply(acc, pa.reply, r.slice(0, GW_SUBJECT_OFFSET + pa.reply.length));
    }
  }

  // ---- Messages in (inbound connections) ------------------------------------------------------

  onGwMsg(conn: GatewayConn, account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    if (conn.outbound) return conn.close(CloseReason.ProtocolViolation);
    const acc = this.core.accounts.get(account);
    if (acc === undefined) return;
    const subject = pa.subject;
    let q = queues;
    if (subject.length > GW_SUBJECT_OFFSET && subject.startsWith(GW_REPLY_PREFIX)) {
      // A reply on its way back (gateway.go handleGatewayReply): for this cluster only, and to
      // the server that sent the request when that is another server of the cluster.
      if (subject.slice(GW_REPLY_PREFIX.length, GW_REPLY_PREFIX.length + GW_HASH_LEN) !== this.clusterHash) return;
      const srv = subject.slice(GW_REPLY_PREFIX.length + GW_HASH_LEN + 1, GW_SUBJECT_OFFSET - 1);
      if (srv !== this.serverHash && this.routeLayer !== null) {
        for (const [id, route] of this.routeLayer.routes()) {
          if (gatewayHash(id) === srv) {
            route.sendMsg(account, pa, NO_QUEUES, buf, start);
            return;
          }
        }
      }
      pa.subject = subject.slice(GW_SUBJECT_OFFSET);
      q = NO_QUEUES;
    }
    const reply = pa.reply;
    if (reply.length > GW_SUBJECT_OFFSET && reply.startsWith(GW_REPLY_PREFIX)) {
      // A request whose reply must go back to its origin: subscribers see the plain reply (the
      // routes carry the mapped one), and an answer on it is sent straight to that cluster for
      // the next 2 s.
      pa.gwReply = reply;
      pa.reply = reply.slice(GW_SUBJECT_OFFSET);
      remapJetStreamDelivery(pa);
      this.trackReply(acc, pa.reply, reply.slice(0, GW_SUBJECT_OFFSET + pa.reply.length));
      try {
        this.core.routeFromGateway(acc, pa, q, buf, start, end);
      } finally {
        pa.gwReply = '';
      }
      return;
    }
    remapJetStreamDelivery(pa);
    this.core.routeFromGateway(acc, pa, q, buf, start, end);
  }

  private trackReply(acc: Account, reply: string, routed: string): void {
    let m = this.replies.get(acc);
    if (m === undefined) {
      m = new Map();
      this.replies.set(acc, m);
    }
    m.set(reply, { routed, exp: Date.now() + RECENT_SUB_MS });
    this.tracksReplies = true;
    if (this.replyTimer === null) {
      this.replyTimer = setInterval(() => this.expireReplies(), RECENT_SUB_MS / 2);
      this.replyTimer.unref();
    }
  }

  private expireReplies(): void {
    const now = Date.now();
    for (const [acc, m] of this.replies) {
      for (const [k, v] of m) if (v.exp <= now) m.delete(k);
      if (m.size === 0) this.replies.delete(acc);
    }
    if (this.replies.size === 0) {
      this.tracksReplies = false;
      if (this.replyTimer !== null) clearInterval(this.replyTimer);
      this.replyTimer = null;
    }
  }

  // ---- GatewayHooks: this cluster's interest --------------------------------------------------

  clusterInterest(account: string, subject: string, queue: string | null, delta: number, sub: AnySub | null): void {
    let m = this.pasi.get(account);
    if (m === undefined) {
      if (delta < 0) return;
      m = new Map();
      this.pasi.set(account, m);
    }
    const key = queue === null ? subject : `${subject} ${queue}`;
    const before = m.get(key) ?? 0;
    if (before === 0 && delta < 0) return;
    const after = before + delta;
    if (after <= 0) m.delete(key);
    else m.set(key, after);
    if (sub !== null && queue === null) this.recentSub(sub, delta);
    if (before !== 0 && after !== 0) return;
    const added = after > 0;
    for (const conn of this.inbound) {
      if (queue !== null) {
        conn.sendText(added ? `RS+ ${account} ${key} 1\r\n` : `RS- ${account} ${key}\r\n`);
        continue;
      }
      const mode = conn.insim.get(account);
      if (mode === undefined) {
        // An account this connection has not heard of yet: it goes interest-only now.
        if (added) this.switchToInterestOnly(conn, account);
      } else if (mode === Mode.InterestOnly) {
        conn.sendText(added ? `RS+ ${account} ${subject}\r\n` : `RS- ${account} ${subject}\r\n`);
      }
    }
  }

  /** Keeps a new local (or leaf node's) subscription for 2 s, for the reply mapping. */
  private recentSub(sub: AnySub, delta: number): void {
    const acc = sub.remote ? sub.account : sub.client.account;
    let sl = this.recent.get(acc);
    if (delta < 0) {
      sl?.remove(sub);
      return;
    }
    if (sl === undefined) {
      sl = new Sublist<AnySub>(false);
      this.recent.set(acc, sl);
    }
    if (!sl.insert(sub)) return;
    const t = setTimeout(() => {
      this.recentTimers.delete(t);
      sl!.remove(sub);
    }, RECENT_SUB_MS);
    t.unref();
    this.recentTimers.add(t);
  }
}

const NO_QUEUES: readonly string[] = [];
const NO_GROUPS: readonly (readonly AnySub[])[] = [];
/** The target of the remote clusters' interest as a hub announces it to its leaf nodes: never in a sublist, never sent to. */
const GATEWAY_INTEREST: RouteTarget = { sendMsg: () => undefined };

/**
 * Whether this cluster served queue group `q` (it has members among the local match). For a leaf
 * node's message (`source`), only members the router could pick count: not the source's own,
 * and for a message from this server's hub, no route's (Router.pickMember).
 */
function servedHere(qsubs: readonly (readonly AnySub[])[], q: string, source: RouteTarget | null): boolean {
  for (let i = 0; i < qsubs.length; i++) {
    const members = qsubs[i];
    if (members[0].queue !== q) continue;
    if (source === null) return true;
    for (let k = 0; k < members.length; k++) {
      const m = members[k];
      if (!m.remote) return true;
      if (m.route !== source && m.weight > 0 && (m.route.leafKind !== undefined || source.leafKind !== LeafKind.SOLICITED)) return true;
    }
    return false;
  }
  return false;
}

function addUrls(r: RemoteGateway, urls: readonly unknown[]): void {
  for (const u of urls) {
    if (typeof u !== 'string' || u === '') continue;
    const [host, port] = splitHostPort(u.replace(/^[a-z-]+:\/\//, ''));
    // A port no dial can use (nats-server's dial would fail on it every time).
    if (!Number.isInteger(port) || port <= 0 || port > 65535 || host === '') continue;
    const key = hostPort(host, port);
    if (r.urls.has(key)) continue;
    r.urls.set(key, { url: `${r.tls !== null ? 'tls' : 'nats'}://${key}`, host, port });
    if (r.tls !== null && r.tlsName === '' && isIP(host) === 0) r.tlsName = host;
  }
}

/** `host:port` (or `[v6]:port`) into its parts; port 0 when absent. */
function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  if (i < 0) return [s, 0];
  return [s.slice(0, i).replace(/^\[|\]$/g, ''), Number(s.slice(i + 1)) || 0];
}
