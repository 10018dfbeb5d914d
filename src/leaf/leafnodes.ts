/**
 * The leaf node layer of one server (nats-server 2.10 server/leafnode.go): the leaf node
 * listener (this server is a hub), the remotes it dials (this server is a leaf node of a hub)
 * with their reconnects, authentication and account binding of accepted leaf nodes, and
 * interest propagation: what each connection announces follows every change of its account's
 * interest (`Account.leafInterest`), and an accepted leaf node's interest is announced to the
 * routes and the gateways as this server's own; with gateways, a leaf connection also hears of
 * the other clusters' interest.
 *
 * `ws://` remotes dial the hub's websocket listener on `/leafnode`; a websocket listener hands
 * such connections here ({@link LeafManager.acceptTransport}).
 *
 * Not supported yet: TLS on leaf connections (`wss://` too), compression (this server
 * advertises none, so 2.10 peers fall back to none), leaf node permissions
 * (beyond a remote's deny_imports/deny_exports and a leaf node's CONNECT deny_pub), the JetStream
 * domain logic.
 */
import { createServer as createTcpServer, connect as tcpConnect, type Server as TcpServer, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fromSeed } from '@nats-io/nkeys';
import { WebSocket } from 'ws';
import { PassThrough, type Duplex } from 'node:stream';
import { dialHost, hostPort, listen } from '../io/listen.js';
import { WebSocketConnection } from '../io/websocket.js';
import type { Transport } from '../io/transport.js';
import { PendingTransport } from './pending-transport.js';
import { ERR, NATS_SERVER_VERSION } from '../protocol/constants.js';
import type { PubArg } from '../protocol/parser.js';
import { comparePasswords, newNonce } from '../auth/auth.js';
import type { BrokerCore } from '../broker/core.js';
import { LeafKind, type Account, type AnySub, type RemoteSub } from '../broker/account.js';
import { CloseReason } from '../broker/close-reason.js';
import type { Flushable } from '../broker/connection.js';
import type { TestControls } from '../broker/controls.js';
import type { ResolvedLeafNodes, ResolvedOptions } from '../config/options.js';
import { LDS_PREFIX, LeafConn, type LeafHost } from './leaf.js';
import { LeafGatewayReplies } from './gw-replies.js';

/** leafnode.go leafNodeReconnectDelayAfterLoopDetected. */
const LOOP_RECONNECT_MS = 30_000;
/** How long a dialled connection waits for the hub's first INFO (nats-server's first_info_timeout: 1 s). */
const FIRST_INFO_MS = 1000;
/** How long a solicited connection waits for the INFO answering its CONNECT (connectProcessTimeout: 2 s). */
const CONNECT_PROCESS_MS = 2000;

/** nats-server's credsRe: the user JWT and the seed of a `.creds` file. */
const CREDS_RE = /\s*(?:(?:-{3,}.*-{3,}\r?\n)([\w\-.=]+)(?:\r?\n-{3,}.*-{3,}(\r?\n|$)))/g;

interface RemoteState {
  readonly index: number;
  next: number;
  timer: NodeJS.Timeout | null;
  /** The delay of the next attempt when set (a loop was detected). */
  delayMs: number;
  conn: LeafConn | null;
}

/** A leaf connection as `/leafz` reports it. */
export interface LeafInfo {
  readonly conn: LeafConn;
  readonly account: string;
}

export class LeafManager implements LeafHost {
  private tcp: TcpServer | null = null;
  port = 0;
  /** Every open leaf connection. */
  readonly conns = new Set<LeafConn>();
  /** Registered connections by account. */
  private readonly byAccount = new Map<Account, Set<LeafConn>>();
  /** Loop detection subjects by account. */
  private readonly lds = new Map<Account, string>();
  private readonly remotes: RemoteState[];
  private stopped = false;
  /** Called when a leaf connection registers or closes. */
  onChange: (() => void) | null = null;
  /** The `_GR_.` replies this server's hubs sent (used without gateways of its own). */
  private readonly gwReplies = new LeafGatewayReplies();

  constructor(
    readonly core: BrokerCore,
    readonly opts: ResolvedLeafNodes,
  ) {
    this.remotes = opts.remotes.map((_, index) => ({ index, next: 0, timer: null, delayMs: 0, conn: null }));
    core.leafReplies = this.gwReplies;
  }

  /** Binds the leaf node listener (when configured) on `port`, then dials the remotes. */
  async start(port = this.opts.listen?.port ?? 0): Promise<void> {
    const l = this.opts.listen;
    if (l !== null) {
      const tcp = createTcpServer({ noDelay: true }, (socket) => this.accept(socket));
      this.port = await listen(tcp, l.host, port, (err) => this.core.log.error(`Error accepting leafnode connection: ${err.message}`));
      this.tcp = tcp;
    }
    for (const r of this.remotes) this.dial(r);
  }

  stop(graceful: boolean): Promise<void> {
    this.stopped = true;
    this.gwReplies.stop();
    if (this.core.leafReplies === this.gwReplies) this.core.leafReplies = null;
    for (const r of this.remotes) {
      if (r.timer !== null) clearTimeout(r.timer);
      r.timer = null;
    }
    for (const conn of [...this.conns]) conn.close(CloseReason.ServerShutdown, graceful);
    const tcp = this.tcp;
    this.tcp = null;
    if (tcp === null) return Promise.resolve();
    return new Promise((resolve) => tcp.close(() => resolve()));
  }

  setPaused(paused: boolean): void {
    for (const conn of this.conns) {
      if (paused) conn.socket.pause();
      else {
        conn.socket.resume();
        this.core.markForFlush(conn);
      }
    }
  }

  /** The registered leaf connections. */
  leafs(): LeafConn[] {
    return [...this.conns].filter((c) => c.registered && !c.closed);
  }

  /** `host:port` leaf nodes are told to reconnect to (INFO `leafnode_urls`). */
  ownUrl(): string {
    return this.opts.advertise ?? hostPort(dialHost(this.opts.listen?.host ?? this.core.options.host), this.port);
  }

  // ---- Accepting ------------------------------------------------------------------------------

  private accept(socket: Socket): void {
    this.acceptTransport(socket);
  }

  /** An accepted leaf connection: a TCP socket of the leaf node listener, or a websocket connection on `/leafnode`. */
  acceptTransport(socket: Transport): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const conn = this.wire(socket, LeafKind.ACCEPTED, -1);
    conn.nonce = newNonce();
    conn.sendText(`INFO ${JSON.stringify(this.leafInfo(conn, false))} \r\n`);
    conn.startAuthTimer(this.opts.authTimeoutMs, ERR.AuthTimeout);
    this.core.flushAll();
  }

  /** The leaf node listener's INFO (leafnode.go startLeafNodeAcceptLoop), in Go's field order. */
  private leafInfo(conn: LeafConn, connectInfo: boolean): Record<string, unknown> {
    const o = this.core.options;
    const host = this.opts.listen?.host ?? o.host;
    const info: Record<string, unknown> = {
      server_id: this.core.serverId,
      server_name: o.serverName ?? this.core.serverId,
      version: NATS_SERVER_VERSION,
      proto: 1,
      go: `node${process.versions.node}`,
      host,
      port: this.port,
      headers: !o.noHeaderSupport,
      auth_required: true,
      max_payload: o.maxPayload,
      ip: hostPort(host, this.port),
      client_id: conn.cid,
    };
    if (!connectInfo) info.nonce = conn.nonce;
    const cluster = this.core.clusterName;
    if (cluster !== null) info.cluster = cluster;
    // The INFO answering CONNECT is the listener's INFO again (without the nonce), plus connect_info.
    info.info_on_connect = true;
    if (connectInfo) info.connect_info = true;
    info.leafnode_urls = [this.ownUrl()];
    if (connectInfo && conn.account !== null) info.remote_account = conn.account.name;
    return info;
  }

  onLeafConnect(conn: LeafConn, c: Record<string, unknown>): void {
    // A client on the leaf node port sends `lang`; leaf nodes never do (processLeafNodeConnect).
    if (typeof c.lang === 'string' && c.lang !== '') return conn.sendErrAndClose('attempted to connect to leaf node port', CloseReason.ProtocolViolation);
    if (typeof c.gateway === 'string' && c.gateway !== '') {
      return conn.sendErrAndClose(`Rejecting connection from gateway ${JSON.stringify(c.gateway)} on the leafnode port`, CloseReason.ProtocolViolation);
    }
    const bound = this.authenticate(conn, c);
    if (bound === null) {
      this.core.log.error(`${hostPort(conn.socket.remoteAddress ?? '', conn.socket.remotePort ?? 0)} - lid:${conn.cid} - authentication error`);
      return conn.sendErrAndClose(ERR.AuthViolation, CloseReason.AuthViolation);
    }
    conn.account = this.core.account(bound.account);
    conn.user = bound.user;
    conn.headers = c.headers === true && !this.core.options.noHeaderSupport;
    conn.remoteName = str(c.name) || str(c.server_id);
    conn.remoteCluster = str(c.cluster);
    conn.remoteAccount = str(c.remote_account);
    // processLeafNodeConnect: a leaf node that declares itself the hub (`is_hub`) makes this side the spoke.
    if (c.is_hub === true) conn.leafKind = LeafKind.SOLICITED;
    // The leaf node's deny_imports: nothing is sent to it on those (processLeafNodeConnect's mergeDenyPermissions).
    if (Array.isArray(c.deny_pub)) {
      const deny = c.deny_pub.filter((s): s is string => typeof s === 'string' && s !== '');
      if (deny.length > 0) conn.denyOut = deny;
    }
    // sendPermsAndAccountInfo: the INFO answering CONNECT, then the interest.
    conn.sendText(`INFO ${JSON.stringify(this.leafInfo(conn, true))} \r\n`);
    this.register(conn);
  }

  /**
   * auth.go isLeafNodeAuthorized: the `leafnodes.authorization` user or users when configured
   * (each bound to its account), else the clients' authentication (the user's account), else
   * the global account (or `authorization.account` alone).
   */
  private authenticate(conn: LeafConn, c: Record<string, unknown>): { account: string; user: string } | null {
    const la = this.opts.authorization;
    const user = str(c.user);
    const pass = str(c.pass);
    if (la !== null && la.user !== null) {
      return user === la.user && comparePasswords(la.password, pass) ? { account: la.account, user } : null;
    }
    if (la !== null && la.users.length > 0) {
      const u = la.users.find((x) => x.user === user);
      return u !== undefined && comparePasswords(u.password, pass) ? { account: u.account, user } : null;
    }
    const auth = this.core.auth;
    if (auth !== null) {
      const creds = { user, pass, token: str(c.auth_token), nkey: str(c.nkey), sig: str(c.sig), jwt: str(c.jwt) };
      const u = auth.authenticate(creds, conn.nonce, { websocket: false, ip: conn.socket.remoteAddress ?? '' });
      return u === null ? null : { account: u.account, user: u.name };
    }
    return { account: la?.account ?? '$G', user };
  }

  // ---- Soliciting -----------------------------------------------------------------------------

  private dial(r: RemoteState): void {
    if (this.stopped) return;
    const remote = this.opts.remotes[r.index];
    const url = remote.urls[r.next % remote.urls.length];
    r.next++;
    const socket: Transport = url.ws ? this.dialWebSocket(url.host, url.port) : tcpConnect({ host: url.host, port: url.port });
    // A remote with `hub: true`: this server is the hub of the connection it dials (CONNECT `is_hub`).
    const conn = this.wire(socket, remote.hub ? LeafKind.ACCEPTED : LeafKind.SOLICITED, r.index);
    // newLeafNodeCfg: deny_exports as the connection's publish deny list, deny_imports as its subscribe deny list.
    if (remote.denyExports.length > 0) conn.denyOut = remote.denyExports;
    if (remote.denyImports.length > 0) conn.denyIn = remote.denyImports;
    conn.account = this.core.account(remote.account);
    r.conn = conn;
    conn.startAuthTimer(FIRST_INFO_MS + CONNECT_PROCESS_MS, 'Stale Leaf Node Connection - Closing');
  }

  /**
   * A `ws://` remote (leafnode.go leafNodeSolicitWSConnection): a websocket to the hub's
   * websocket listener on `/leafnode`, masked as a client's. Until it is open, writes wait and
   * reads have nothing; a failed handshake closes it (and the reconnect follows).
   */
  private dialWebSocket(host: string, port: number): Transport {
    const ws = new WebSocket(`ws://${hostPort(host, port)}/leafnode`, { perMessageDeflate: false });
    const stream = new PendingTransport(() => ws.terminate());
    let raw: Duplex | null = null;
    ws.once('upgrade', (res) => {
      raw = res.socket;
    });
    ws.once('open', () => stream.attach(new WebSocketConnection(ws, raw ?? new PassThrough())));
    // Kept for the socket's life: terminate() during the handshake emits 'error' again.
    ws.on('error', () => stream.fail());
    ws.once('unexpected-response', () => {
      ws.terminate();
      stream.fail();
    });
    return stream;
  }

  onLeafInfo(conn: LeafConn, info: Record<string, unknown>): void {
    if (!conn.solicited) return;
    if (!conn.infoReceived) {
      conn.infoReceived = true;
      // A solicited connection must find a leaf node port: INFO with a client id and leafnode URLs.
      if (typeof info.client_id !== 'number' || !Array.isArray(info.leafnode_urls)) {
        this.core.log.error('Attempted to connect to a port that is not a leafnode port');
        return conn.close(CloseReason.ProtocolViolation);
      }
      conn.nonce = str(info.nonce);
      conn.headers = info.headers === true && !this.core.options.noHeaderSupport;
      conn.remoteName = str(info.server_name) || str(info.server_id);
      conn.remoteCluster = str(info.cluster);
      if (!this.sendConnect(conn)) return;
      if (info.info_on_connect !== true) this.register(conn);
      return;
    }
    if (typeof info.remote_account === 'string') conn.remoteAccount = info.remote_account;
    if (info.connect_info === true && !conn.registered) this.register(conn);
  }

  /** leafnode.go sendLeafConnect. False when the credentials could not be read (the connection is closed). */
  private sendConnect(conn: LeafConn): boolean {
    const remote = this.opts.remotes[conn.remoteIndex];
    const r = this.remotes[conn.remoteIndex];
    const url = remote.urls[(r.next - 1 + remote.urls.length) % remote.urls.length];
    const o = this.core.options;
    const connect: Record<string, unknown> = { version: NATS_SERVER_VERSION };
    if (remote.credentials !== null) {
      let jwt: string;
      let sig: string;
      try {
        const text = readFileSync(remote.credentials, 'utf8');
        const items = [...text.matchAll(CREDS_RE)].map((m) => m[1]);
        if (items.length < 2) throw new Error('Credentials file malformed');
        jwt = items[0];
        sig = Buffer.from(fromSeed(new TextEncoder().encode(items[1])).sign(new TextEncoder().encode(conn.nonce))).toString('base64url');
      } catch (err) {
        this.core.log.error(`Leafnode remote ${url.url}: ${(err as Error).message}`);
        conn.close(CloseReason.AuthViolation);
        return false;
      }
      connect.jwt = jwt;
      connect.sig = sig;
    }
    if (url.user !== undefined) {
      connect.user = url.user;
      if (url.pass !== undefined) connect.pass = url.pass;
      else connect.auth_token = url.user;
    }
    connect.server_id = this.core.serverId;
    connect.name = o.serverName ?? this.core.serverId;
    if (remote.hub) connect.is_hub = true;
    if (this.core.clusterName !== null) connect.cluster = this.core.clusterName;
    connect.headers = !o.noHeaderSupport;
    // deny_imports: the hub is asked not to send those (leafConnectInfo DenyPub).
    if (remote.denyImports.length > 0) connect.deny_pub = remote.denyImports;
    connect.remote_account = conn.account!.name;
    conn.sendText(`CONNECT ${JSON.stringify(connect)}\r\n`);
    this.core.flushAll();
    return true;
  }

  onLeafErr(conn: LeafConn, text: string): void {
    if (text.includes('Loop detected') && conn.solicited) {
      const r = this.remotes[conn.remoteIndex];
      r.delayMs = LOOP_RECONNECT_MS;
      this.core.log.error(`Leafnode connection dropped: ${text}`);
    } else {
      this.core.log.error(`Leafnode connection error: ${text}`);
    }
    conn.close(CloseReason.ProtocolViolation);
  }

  // ---- Registration and interest ----------------------------------------------------------------

  /** Binds the connection to its account, sends the account's interest, starts pings. */
  private register(conn: LeafConn): void {
    if (conn.closed || conn.registered) return;
    conn.clearAuthTimer();
    conn.registered = true;
    conn.lastActivity = Date.now();
    const acc = conn.account!;
    conn.denyJs = acc !== this.core.systemAccount;
    let set = this.byAccount.get(acc);
    if (set === undefined) {
      set = new Set();
      this.byAccount.set(acc, set);
      const conns = set;
      acc.leafInterest = (sub: AnySub, delta: number) => {
        for (const c of conns) c.updateSmap(sub, delta);
      };
    }
    set.add(conn);
    const subs: AnySub[] = [];
    acc.sublist.forEach((sub) => subs.push(sub));
    // With gateways, the remote clusters' interest too, and the `_GR_.` replies that must come
    // back through this server (initLeafNodeSmapAndSendSubs' applyGlobalRouting).
    const gateway = this.core.gateway;
    if (gateway !== null) gateway.remoteInterestForLeaf(acc, subs);
    conn.sendAllInterest(subs, this.loopSubject(acc), gateway !== null);
    conn.startPings();
    this.core.flushAll();
    const log = this.core.log;
    log.info(`${conn.remoteName} - lid:${conn.cid} - Leafnode connection created${conn.solicited ? ` for account: ${acc.name}` : ''}`);
    this.core.notifyChange();
    this.onChange?.();
  }

  loopSubject(acc: Account): string {
    let s = this.lds.get(acc);
    if (s === undefined) {
      s = `${LDS_PREFIX}${randomBytes(16).toString('base64url').replace(/[-_]/g, 'x')}`;
      this.lds.set(acc, s);
    }
    return s;
  }

  onLeafInterest(conn: LeafConn, sub: RemoteSub, delta: number): void {
    // processLeafSub: a hub treats its leaf nodes' interest as a client's (routes and gateways
    // learn it); a spoke keeps its hub's interest to itself.
    if (!conn.isSpoke) {
      this.core.cluster?.leafInterest(sub.account.name, sub.subject, sub.queue, delta);
      this.core.gateway?.clusterInterest(sub.account.name, sub.subject, sub.queue, delta, sub);
    }
    sub.account.leafInterest?.(sub, delta);
    this.core.notifyChange();
  }

  routeFromLeaf(conn: LeafConn, acc: Account, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    // A server with gateways unmaps `_GR_.` replies itself (GatewayHooks.unmapRouted).
    if (conn.isSpoke && this.core.gateway === null) this.gwReplies.unmap(acc, pa);
    this.core.routeFromPeer(conn, acc, pa, queues, buf, start, end);
  }

  onLeafClosed(conn: LeafConn, reason: CloseReason): void {
    this.conns.delete(conn);
    const acc = conn.account;
    if (conn.registered && acc !== null) {
      const set = this.byAccount.get(acc);
      set?.delete(conn);
      if (set !== undefined && set.size === 0) {
        this.byAccount.delete(acc);
        acc.leafInterest = null;
      }
      for (const sub of conn.remoteSubs.values()) {
        acc.sublist.remove(sub);
        this.onLeafInterest(conn, sub, -sub.weight);
      }
      this.core.log.info(`${conn.remoteName} - lid:${conn.cid} - Leafnode connection closed: ${reason}${conn.solicited ? ` - Account: ${acc.name}` : ''}`);
    }
    conn.remoteSubs.clear();
    conn.smap = null;
    if (conn.registered) {
      this.core.notifyChange();
      this.onChange?.();
    }
    if (conn.solicited && !this.stopped) {
      const r = this.remotes[conn.remoteIndex];
      if (r.conn === conn) r.conn = null;
      const delay = r.delayMs > 0 ? r.delayMs : this.opts.reconnectMs;
      r.delayMs = 0;
      if (r.timer !== null) clearTimeout(r.timer);
      r.timer = setTimeout(() => {
        r.timer = null;
        this.dial(r);
      }, delay);
      r.timer.unref();
    }
  }

  private wire(socket: Transport, kind: LeafKind, remoteIndex: number): LeafConn {
    const conn = new LeafConn(this, socket, kind, remoteIndex);
    this.conns.add(conn);
    if (this.core.controls.paused) socket.pause();
    socket.on('data', (chunk: Buffer) => {
      this.core.runRead(() => conn.onData(chunk), () => conn.close(CloseReason.ProtocolViolation, false), 'leafnode');
    });
    socket.on('error', () => conn.close(CloseReason.ReadError, false));
    socket.on('end', () => conn.close(CloseReason.ClientClosed));
    socket.on('close', () => conn.close(CloseReason.ClientClosed, false));
    return conn;
  }

  // ---- ConnectionHost ------------------------------------------------------------------------

  get options(): ResolvedOptions {
    return this.core.options;
  }

  get controls(): TestControls {
    return this.core.controls;
  }

  markForFlush(c: Flushable): void {
    this.core.markForFlush(c);
  }

  flushAll(): void {
    this.core.flushAll();
  }

  allocCid(): number {
    return this.core.allocCid();
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
