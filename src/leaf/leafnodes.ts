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
 * TLS (leafnode.go createLeafNode, processLeafnodeInfo): with `leafnodes.tls` the hub sends its
 * INFO (`tls_required`) in plain text and then waits for the leaf node's handshake; a leaf node
 * reads that INFO and upgrades when it says `tls_required` or the remote has a `tls` block. With
 * nats-server 2.10's `handshake_first` on both sides, the handshake comes first and the INFO
 * after it. `wss://` remotes (or `ws://` with a `tls` block) dial the websocket listener over TLS.
 *
 * Not supported yet: compression (this server advertises none, so 2.10 peers fall back to
 * none), the JetStream domain logic.
 */
import { PeerLayer } from '../broker/peer-layer.js';
import { timerDelay } from '../io/timers.js';
import { createServer as createTcpServer, connect as tcpConnect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fromSeed } from '@nats-io/nkeys';
import { WebSocket } from 'ws';
import { PassThrough, type Duplex } from 'node:stream';
import { dialHost, hostPort, listen } from '../io/listen.js';
import { WebSocketConnection } from '../io/websocket.js';
import { handshakeDeadline, serverSocket } from '../io/tls.js';
import type { Transport } from '../io/transport.js';
import { PendingTransport } from './pending-transport.js';
import { ERR, NATS_SERVER_VERSION } from '../protocol/constants.js';
import type { PubArg } from '../protocol/parser.js';
import { comparePasswords, newNonce, verifyNonce } from '../auth/auth.js';
import { Permissions } from '../auth/permissions.js';
import { certNameMatch, certNames } from '../auth/cert-map.js';
import type { BrokerCore } from '../broker/core.js';
import { LeafKind, type Account, type AnySub, type RemoteSub } from '../broker/account.js';
import { CloseReason } from '../broker/close-reason.js';
import type { LeafRemoteUrl, ResolvedLeafNodes, ResolvedLeafRemote } from '../config/options.js';
import { ROUTE_MAX_CONTROL_LINE } from '../protocol/route-parser.js';
import { LDS_PREFIX, LeafConn, type LeafHost } from './leaf.js';
import { LeafGatewayReplies } from './gw-replies.js';

/** leafnode.go leafNodeReconnectDelayAfterLoopDetected. */
const LOOP_RECONNECT_MS = 30_000;
/** leafnode.go leafNodeReconnectDelayAfterClusterNameSame. */
const SAME_CLUSTER_RECONNECT_MS = 30_000;
/** How long a dialled connection waits for the hub's first INFO (nats-server's first_info_timeout: 1 s). */
const FIRST_INFO_MS = 1000;
/** How long a solicited connection waits for the INFO answering its CONNECT (connectProcessTimeout: 2 s). */
const CONNECT_PROCESS_MS = 2000;
/** nats-server's DEFAULT_LEAF_TLS_TIMEOUT: a remote without a `tls` block upgrading because the hub asks. */
const LEAF_TLS_TIMEOUT_MS = 2000;

/** nats-server's credsRe: the user JWT and the seed of a `.creds` file. */
const CREDS_RE = /\s*(?:(?:-{3,}.*-{3,}\r?\n)([\w\-.=]+)(?:\r?\n-{3,}.*-{3,}(\r?\n|$)))/g;

interface RemoteState {
  readonly index: number;
  /**
   * The URLs to dial, in turn (leafnode.go leafNodeCfg.urls): the ones the hub told about
   * (INFO `leafnode_urls`, or `ws_connect_urls` for a websocket remote) first, then the
   * configured ones.
   */
  urls: LeafRemoteUrl[];
  /** The URL of the current (or last) attempt. */
  current: LeafRemoteUrl | null;
  /** The first configured URL's user and password, for URLs a hub told about (saveUserPassword). */
  readonly user: string | undefined;
  readonly pass: string | undefined;
  timer: NodeJS.Timeout | null;
  /** The delay of the next attempt when set (a loop was detected). */
  delayMs: number;
  conn: LeafConn | null;
  /**
   * The name a hub's certificate is checked against when a URL's host is an IP address: the
   * first host name among the remote's URLs (leafnode.go saveTLSHostname).
   */
  readonly tlsName: string;
}

/** A leaf connection as `/leafz` reports it. */
export interface LeafInfo {
  readonly conn: LeafConn;
  readonly account: string;
}

export class LeafManager extends PeerLayer<LeafConn> implements LeafHost {
  port = 0;
  /** Registered connections by account. */
  private readonly byAccount = new Map<Account, Set<LeafConn>>();
  /** Loop detection subjects by account. */
  private readonly lds = new Map<Account, string>();
  private readonly remotes: RemoteState[];
  /**
   * The leaf node URLs this hub tells its leaf nodes (INFO `leafnode_urls`): its own and its
   * route peers', counted (leafnode.go leafURLsMap).
   */
  private readonly urls = new Map<string, number>();
  /** Called when a leaf connection registers or closes. */
  onChange: (() => void) | null = null;
  /** The `_GR_.` replies this server's hubs sent (used without gateways of its own). */
  private readonly gwReplies = new LeafGatewayReplies();

  constructor(
    core: BrokerCore,
    readonly opts: ResolvedLeafNodes,
  ) {
    super(core);
    this.remotes = opts.remotes.map((r, index) => {
      const withUser = r.urls.find((u) => u.user !== undefined);
      return {
        index, urls: [...r.urls], current: null, user: withUser?.user, pass: withUser?.pass,
        timer: null, delayMs: 0, conn: null, tlsName: r.urls.find((u) => isIP(u.host) === 0)?.host ?? '',
      };
    });
    core.leafReplies = this.gwReplies;
  }

  /** Binds the leaf node listener (when configured) on `port`, then dials the remotes. */
  async start(port = this.opts.listen?.port ?? 0): Promise<void> {
    await this.listen(port);
    this.connectRemotes();
  }

  /**
   * Binds the leaf node listener, when configured, on `port` (before the routes start, so that
   * their INFO carries its URL).
   */
  async listen(port = this.opts.listen?.port ?? 0): Promise<void> {
    const l = this.opts.listen;
    if (l === null || this.tcp !== null) return;
    const tcp = createTcpServer({ noDelay: true }, (socket) => this.accept(socket));
    this.port = await listen(tcp, l.host, port, (err) => this.core.log.error(`Error accepting leafnode connection: ${err.message}`));
    this.tcp = tcp;
    this.urls.set(this.ownUrl(), 1);
  }

  /** Dials every remote. */
  connectRemotes(): void {
    for (const r of this.remotes) this.dial(r);
  }

  stop(graceful: boolean): Promise<void> {
    this.gwReplies.stop();
    if (this.core.leafReplies === this.gwReplies) this.core.leafReplies = null;
    for (const r of this.remotes) {
      if (r.timer !== null) clearTimeout(r.timer);
      r.timer = null;
    }
    return this.closeAll(graceful);
  }

  /** The registered leaf connections. */
  leafs(): LeafConn[] {
    return [...this.conns].filter((c) => c.registered && !c.closed);
  }

  /** `host:port` leaf nodes are told to reconnect to (INFO `leafnode_urls`). */
  ownUrl(): string {
    return this.opts.advertise ?? hostPort(dialHost(this.opts.listen?.host ?? this.core.options.host), this.port);
  }

  /** This server's leaf node URL for its route peers, unless `noAdvertise` (route.go: `LeafNode.NoAdvertise`). */
  get advertisedUrl(): string {
    return this.tcp === null || this.opts.noAdvertise ? '' : this.ownUrl();
  }

  /**
   * A route peer's leaf node URL came or went (route.go addLeafNodeURL / removeLeafNodeURL):
   * when the list changes, every leaf connection gets the listener's INFO again
   * (sendAsyncLeafNodeInfo), so that leaf nodes can fail over to the cluster's other members.
   */
  peerUrl(url: string, added: boolean): void {
    if (this.stopped || this.tcp === null) return;
    const n = this.urls.get(url) ?? 0;
    if (added) this.urls.set(url, n + 1);
    else if (n <= 1) this.urls.delete(url);
    else this.urls.set(url, n - 1);
    if (added ? n !== 0 : n !== 1) return;
    const frame = `INFO ${JSON.stringify(this.leafInfo(null, false))} \r\n`;
    for (const conn of this.leafs()) conn.sendText(frame);
    this.core.flushAll();
  }

  // ---- Accepting ------------------------------------------------------------------------------

  private accept(socket: Socket): void {
    const tls = this.opts.tls;
    if (tls === null) return this.acceptTransport(socket);
    if (this.stopped) {
      socket.destroy();
      return;
    }
    // createLeafNode: INFO in plain text (unless handshake_first), the server-side handshake
    // within tls_timeout, then (the INFO, with handshake_first, and) the auth timer.
    const secure = serverSocket(socket, tls);
    const conn = this.wire(secure, LeafKind.ACCEPTED, -1);
    conn.nonce = newNonce();
    const info = `INFO ${JSON.stringify(this.leafInfo(conn, false))} \r\n`;
    if (!tls.handshakeFirst) socket.write(info);
    const who = (): string => `${hostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0)} - lid:${conn.cid}`;
    let tlsDone = false;
    secure.once('error', (err) => {
      if (!tlsDone) this.core.log.error(`${who()} - TLS leafnode handshake error: ${err.message}`);
    });
    handshakeDeadline(secure, tls, 'secure', () => {
      tlsDone = true;
      if (conn.closed) return;
      if (tls.handshakeFirst) conn.sendText(info);
      conn.startAuthTimer(this.opts.authTimeoutMs, ERR.AuthTimeout);
      this.core.flushAll();
    }, () => {
      this.core.log.error(`${who()} - TLS leafnode handshake timeout`);
      conn.close(CloseReason.TlsHandshake, false);
    });
  }

  /** An accepted leaf connection: a TCP socket of the leaf node listener, or a websocket connection on `/leafnode`. */
  acceptTransport(socket: Transport): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const conn = this.wire(socket, LeafKind.ACCEPTED, -1);
    conn.websocket = socket instanceof WebSocketConnection;
    conn.nonce = newNonce();
    conn.sendText(`INFO ${JSON.stringify(this.leafInfo(conn, false))} \r\n`);
    conn.startAuthTimer(this.opts.authTimeoutMs, ERR.AuthTimeout);
    this.core.flushAll();
  }

  /**
   * The leaf node listener's INFO (leafnode.go startLeafNodeAcceptLoop), in Go's field order;
   * without a connection (`conn` null), the asynchronous INFO: no client id or nonce.
   */
  private leafInfo(conn: LeafConn | null, connectInfo: boolean): Record<string, unknown> {
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
    };
    if (this.opts.tls !== null) {
      info.tls_required = true;
      if (this.opts.tls.verify) info.tls_verify = true;
    }
    Object.assign(info, {
      max_payload: o.maxPayload,
      ip: hostPort(host, this.port),
    });
    if (conn !== null) info.client_id = conn.cid;
    if (conn !== null && !connectInfo) info.nonce = conn.nonce;
    const cluster = this.core.clusterName;
    if (cluster !== null) info.cluster = cluster;
    // The INFO answering CONNECT is the listener's INFO again (without the nonce), plus connect_info.
    info.info_on_connect = true;
    if (connectInfo) info.connect_info = true;
    info.leafnode_urls = [...this.urls.keys()];
    // sendPermsAndAccountInfo: the user's lists, for the leaf node to enforce on its side.
    if (connectInfo && conn !== null && conn.perms !== null) Object.assign(info, conn.perms.leafInfoLists());
    if (connectInfo && conn !== null && conn.account !== null) info.remote_account = conn.account.name;
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
    const cluster = str(c.cluster);
    if (/\s/u.test(cluster)) return conn.sendErrAndClose('cluster name cannot contain spaces or new lines', CloseReason.ProtocolViolation);
    // processLeafNodeConnect, after authentication (processConnect): a leaf node of the hub's own cluster (ErrLeafNodeHasSameClusterName).
    if (cluster !== '' && cluster === this.core.clusterName) {
      this.core.log.error(`${conn.remoteName || hostPort(conn.socket.remoteAddress ?? '', conn.socket.remotePort ?? 0)} - lid:${conn.cid} - remote leafnode has same cluster name`);
      return conn.sendErrAndClose('remote leafnode has same cluster name', CloseReason.ClusterNamesIdentical);
    }
    // A CONNECT again on a registered connection binds it anew (as nats-server, whose INFO then
    // names the new account): its interest moves to the new account, none stays in the old one.
    const moved = conn.registered ? this.unregister(conn) : null;
    conn.account = this.core.account(bound.account);
    conn.user = bound.user;
    conn.perms = bound.perms;
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
    if (moved !== null) {
      for (const s of moved) conn.onSubInterest('', s.subject, s.queue, s.weight, '');
      this.core.flushAll();
    }
  }

  /**
   * Takes a registered connection out of its account (before a CONNECT binds it anew): its
   * interest leaves the account's sublist (and the routes', gateways', other leaf nodes'), and
   * is returned to be announced again in the new account.
   */
  private unregister(conn: LeafConn): { subject: string; queue: string | null; weight: number }[] {
    const acc = conn.account!;
    const set = this.byAccount.get(acc);
    set?.delete(conn);
    if (set !== undefined && set.size === 0) {
      this.byAccount.delete(acc);
      acc.leafInterest = null;
    }
    const moved: { subject: string; queue: string | null; weight: number }[] = [];
    for (const sub of conn.remoteSubs.values()) {
      acc.sublist.remove(sub);
      this.core.leafSubRemoved(sub);
      this.onLeafInterest(conn, sub, -sub.weight);
      moved.push({ subject: sub.subject, queue: sub.queue, weight: sub.weight });
    }
    conn.remoteSubs.clear();
    conn.smap = null;
    conn.registered = false;
    conn.denyOut = null;
    conn.perms = null;
    return moved;
  }

  onLeafPermViolation(conn: LeafConn, subject: string): void {
    // leafnode.go leafPermViolation (the hub's side): the error, then the connection closes.
    this.core.log.error(`${conn.remoteName} - lid:${conn.cid} - Subscription Violation on ${JSON.stringify(subject)} - Check other side configuration`);
    conn.sendErrAndClose(`Permissions Violation for Subscription to ${JSON.stringify(subject)}`, CloseReason.ProtocolViolation);
  }

  /**
   * auth.go isLeafNodeAuthorized: the `leafnodes.authorization` user, nkey or users when
   * configured (each bound to its account; with `verify_and_map`, the user the certificate
   * names), else the clients' authentication (the user's account), else
   * the global account (or `authorization.account` alone).
   */
  private authenticate(conn: LeafConn, c: Record<string, unknown>): { account: string; user: string; perms: Permissions | null } | null {
    const la = this.opts.authorization;
    const user = str(c.user);
    const pass = str(c.pass);
    if (la !== null && la.user !== null) {
      return user === la.user && comparePasswords(la.password, pass) ? { account: la.account, user, perms: null } : null;
    }
    // nats-server 2.10: the nkey must be this one, and the nonce signed with its seed.
    if (la !== null && la.nkey !== null) {
      const nkey = str(c.nkey);
      return nkey === la.nkey && verifyNonce(nkey, str(c.sig), conn.nonce) ? { account: la.account, user: nkey, perms: null } : null;
    }
    if (la !== null && la.users.length > 0 && this.opts.tls?.map === true) {
      // verify_and_map: the certificate names the user (checkClientTLSCertSubject's names).
      const der = conn.socket.getPeerX509Certificate?.()?.raw ?? null;
      const names = der === null ? null : certNames(der);
      const name = names === null ? null : certNameMatch(names, (n) => la.users.some((x) => x.user === n));
      const u = name === null ? undefined : la.users.find((x) => x.user === name);
      if (u === undefined) return null;
      if (user !== '') this.core.log.warn(`User ${JSON.stringify(user)} found in connect proto, but user required from cert`);
      return comparePasswords(u.password, pass) ? { account: u.account, user: u.user, perms: null } : null;
    }
    if (la !== null && la.users.length > 0) {
      const u = la.users.find((x) => x.user === user);
      return u !== undefined && comparePasswords(u.password, pass) ? { account: u.account, user, perms: null } : null;
    }
    const auth = this.core.auth;
    if (auth !== null) {
      const creds = { user, pass, token: str(c.auth_token), nkey: str(c.nkey), sig: str(c.sig), jwt: str(c.jwt) };
      // isClientAuthorized: the user's account and permissions (RegisterUser); the connection
      // type is LEAFNODE, or LEAFNODE_WS over a websocket (connectionTypeAllowed).
      const u = auth.authenticate(creds, conn.nonce, { websocket: conn.websocket, leaf: true, ip: conn.socket.remoteAddress ?? '' });
      return u === null ? null : { account: u.account, user: u.name, perms: u.permissions?.forConnection() ?? null };
    }
    return { account: la?.account ?? '$G', user, perms: null };
  }

  // ---- Soliciting -----------------------------------------------------------------------------

  private dial(r: RemoteState): void {
    if (this.stopped) return;
    const remote = this.opts.remotes[r.index];
    const url = pickNextUrl(r);
    const socket: Transport = url.ws ? this.dialWebSocket(url, remote, r) : this.dialTcp(url, remote, r);
    // A remote with `hub: true`: this server is the hub of the connection it dials (CONNECT `is_hub`).
    const conn = this.wire(socket, remote.hub ? LeafKind.ACCEPTED : LeafKind.SOLICITED, r.index);
    // newLeafNodeCfg: deny_exports as the connection's publish deny list, deny_imports as its subscribe deny list.
    if (remote.denyExports.length > 0) conn.denyOut = remote.denyExports;
    if (remote.denyImports.length > 0) conn.denyIn = remote.denyImports;
    conn.account = this.core.account(remote.account);
    r.conn = conn;
    // A TLS handshake has its own timeout on top of the INFO's and the CONNECT's.
    const tlsMs = remote.tls !== null || url.wss ? (remote.tls?.timeoutMs ?? LEAF_TLS_TIMEOUT_MS) : 0;
    conn.startAuthTimer(FIRST_INFO_MS + CONNECT_PROCESS_MS + tlsMs, 'Stale Leaf Node Connection - Closing');
  }

  /**
   * A TCP remote. With `handshakeFirst` the TLS handshake starts at once; otherwise the hub's
   * first line is read in plain text: when it is an INFO with `tls_required`, or the remote has
   * a `tls` block, the connection upgrades (the INFO is handed to the leaf connection once the
   * handshake is done), else it stays plain (leafnode.go processLeafnodeInfo).
   */
  private dialTcp(url: LeafRemoteUrl, remote: ResolvedLeafRemote, r: RemoteState): Transport {
    const raw = tcpConnect({ host: url.host, port: url.port });
    raw.setNoDelay(true);
    const pending = new PendingTransport(() => raw.destroy());
    if (remote.tls?.handshakeFirst === true) {
      this.upgrade(raw, pending, url, remote, r, null);
      return pending;
    }
    let buf: Buffer = Buffer.alloc(0);
    const gone = (): void => pending.fail();
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n');
      if (end < 0 && buf.length < ROUTE_MAX_CONTROL_LINE) return;
      raw.off('data', onData);
      raw.off('close', gone);
      raw.off('error', gone);
      raw.pause();
      if (remote.tls !== null || (end >= 0 && infoRequiresTls(buf.subarray(0, end)))) {
        this.upgrade(raw, pending, url, remote, r, buf);
        return;
      }
      raw.unshift(buf);
      pending.attach(raw);
      raw.resume();
    };
    raw.on('data', onData);
    raw.once('close', gone);
    raw.once('error', gone);
    return pending;
  }

  /**
   * The client side of a leaf connection's TLS handshake on `raw` (leafnode.go
   * leafClientHandshakeIfNeeded): the remote's certificate and CA (else the system's), the hub's
   * certificate checked against the URL's host name (an IP address's: the remote's `tlsName`),
   * within the remote's TLS timeout. `prefix`: what was read before (the hub's INFO).
   */
  private upgrade(raw: Socket, pending: PendingTransport, url: LeafRemoteUrl, remote: ResolvedLeafRemote, r: RemoteState, prefix: Buffer | null): void {
    const secure: TLSSocket = tlsConnect({ socket: raw, ...this.tlsClientOptions(url, remote, r) });
    // The TLS socket reports the connection's errors from now on (the leaf connection's handlers, once attached).
    raw.on('error', () => undefined);
    let done = false;
    secure.on('error', (err) => {
      if (done) return;
      done = true;
      this.core.log.error(`Leafnode remote ${url.url}: TLS leafnode handshake error: ${err.message}`);
      pending.fail();
    });
    handshakeDeadline(secure, { timeoutMs: remote.tls?.timeoutMs ?? LEAF_TLS_TIMEOUT_MS }, 'secureConnect', () => {
      if (done) return;
      done = true;
      pending.attach(secure, prefix);
    }, () => {
      if (done) return;
      done = true;
      this.core.log.error(`Leafnode remote ${url.url}: TLS leafnode handshake timeout`);
      secure.destroy();
      pending.fail();
    });
  }

  /** tls.connect options of a remote (also for its `wss://` websocket). */
  private tlsClientOptions(url: LeafRemoteUrl, remote: ResolvedLeafRemote, r: RemoteState): ConnectionOptions {
    const t = remote.tls;
    const insecure = t?.insecure === true;
    const name = isIP(url.host) !== 0 && r.tlsName !== '' ? r.tlsName : url.host;
    return {
      ...(t?.ca != null ? { ca: t.ca } : {}),
      ...(t?.cert != null && t.key !== null ? { cert: t.cert, key: t.key } : {}),
      rejectUnauthorized: !insecure,
      // SNI takes host names only.
      ...(isIP(name) === 0 ? { servername: name } : {}),
      checkServerIdentity: (_host, cert) => (insecure ? undefined : checkServerIdentity(name, cert)),
    };
  }

  /**
   * A `ws://` remote (leafnode.go leafNodeSolicitWSConnection): a websocket to the hub's
   * websocket listener on `/leafnode`, masked as a client's; over TLS (`wss://`) for a `wss://`
   * URL or a remote with a `tls` block. Until it is open, writes wait and reads have nothing; a
   * failed handshake closes it (and the reconnect follows).
   */
  private dialWebSocket(url: LeafRemoteUrl, remote: ResolvedLeafRemote, r: RemoteState): Transport {
    const secure = url.wss || remote.tls !== null;
    const ws = new WebSocket(`${secure ? 'wss' : 'ws'}://${hostPort(url.host, url.port)}/leafnode`, {
      perMessageDeflate: false,
      ...(secure ? this.tlsClientOptions(url, remote, r) : {}),
    });
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
      this.learnUrls(conn, info);
      if (!this.sendConnect(conn)) return;
      if (info.info_on_connect !== true) this.register(conn);
      return;
    }
    this.learnUrls(conn, info);
    if (typeof info.remote_account === 'string') conn.remoteAccount = info.remote_account;
    // processLeafnodeInfo: the hub's `import`/`export` (its user's subscribe and publish lists)
    // bind this side too, so that nothing the hub would refuse is sent (an LS+ it refuses
    // closes the connection). LeafConn's checks read the lists as a hub's, hence swapped here.
    const imp = subjectPermission(info.import);
    const exp = subjectPermission(info.export);
    if (imp !== null || exp !== null) conn.perms = new Permissions({ publish: imp ?? undefined, subscribe: exp ?? undefined });
    if (info.connect_info === true && !conn.registered) this.register(conn);
  }

  /**
   * leafnode.go updateLeafNodeURLs: the URLs in a hub's INFO (first or later) are the cluster's
   * current list; those not configured already come first, then the configured ones. A
   * websocket remote takes `ws_connect_urls` instead.
   */
  private learnUrls(conn: LeafConn, info: Record<string, unknown>): void {
    const remote = this.opts.remotes[conn.remoteIndex];
    const ws = remote.urls[0].ws;
    const list = ws ? info.ws_connect_urls : info.leafnode_urls;
    if (!Array.isArray(list) || list.length === 0) return;
    const r = this.remotes[conn.remoteIndex];
    const wss = remote.urls[0].wss || remote.tls !== null;
    const learned: LeafRemoteUrl[] = [];
    for (const item of list) {
      if (typeof item !== 'string') continue;
      const u = parseHostPort(item);
      if (u === null) continue;
      if (remote.urls.some((c) => c.host === u.host && c.port === u.port)) continue;
      const scheme = ws ? (wss ? 'wss' : 'ws') : 'nats-leaf';
      learned.push({ url: `${scheme}://${hostPort(u.host, u.port)}`, host: u.host, port: u.port, ws, wss: ws && wss });
    }
    r.urls = [...learned, ...remote.urls];
  }

  /** leafnode.go sendLeafConnect. False when the credentials could not be read (the connection is closed). */
  private sendConnect(conn: LeafConn): boolean {
    const remote = this.opts.remotes[conn.remoteIndex];
    const r = this.remotes[conn.remoteIndex];
    const url = r.current ?? remote.urls[0];
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
    } else if (remote.nkey !== null) {
      // sendLeafConnect: the seed's public key, and the hub's nonce signed with it.
      const kp = fromSeed(new TextEncoder().encode(remote.nkey));
      connect.nkey = kp.getPublicKey();
      connect.sig = Buffer.from(kp.sign(new TextEncoder().encode(conn.nonce))).toString('base64url');
    }
    if (url.user !== undefined) {
      connect.user = url.user;
      if (url.pass !== undefined) connect.pass = url.pass;
      else connect.auth_token = url.user;
    } else if (r.user !== undefined) {
      // A URL a hub told about has no user: the configured one's (leafnode.go saveUserPassword).
      connect.user = r.user;
      if (r.pass !== undefined) connect.pass = r.pass;
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
    if (text.includes('remote leafnode has same cluster name') && conn.solicited) {
      // leafProcessErr: the hub shares this server's cluster name; redial after 30 s.
      this.remotes[conn.remoteIndex].delayMs = SAME_CLUSTER_RECONNECT_MS;
      this.core.log.error(`Leafnode connection dropped with same cluster name error. Delaying attempt to reconnect for ${SAME_CLUSTER_RECONNECT_MS / 1000}s`);
    } else if (text.includes('Loop detected') && conn.solicited) {
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
      this.core.cluster?.leafInterest(sub.account.name, sub.subject, sub.queue, delta, sub.origin);
      this.core.gateway?.clusterInterest(sub.account.name, sub.subject, sub.queue, delta, sub);
    }
    sub.account.leafInterest?.(sub, delta);
    this.core.notifyChange();
  }

  onLeafSub(sub: RemoteSub, added: boolean): void {
    if (added) this.core.leafSubAdded(sub);
    else this.core.leafSubRemoved(sub);
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
        this.core.leafSubRemoved(sub);
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
      }, timerDelay(delay));
      r.timer.unref();
    }
  }

  private wire(socket: Transport, kind: LeafKind, remoteIndex: number): LeafConn {
    const conn = new LeafConn(this, socket, kind, remoteIndex);
    return this.track(conn, 'leafnode');
  }

}

/** An INFO `import`/`export` (`{ allow?, deny? }`, lists of strings), or null when absent or malformed. */
function subjectPermission(v: unknown): { allow?: string[]; deny?: string[] } | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const list = (x: unknown): string[] | undefined | null =>
    x === undefined || x === null ? undefined : Array.isArray(x) && x.every((e) => typeof e === 'string') ? (x as string[]) : null;
  const allow = list(o.allow);
  const deny = list(o.deny);
  if (allow === null || deny === null) return null;
  return { ...(allow !== undefined ? { allow } : {}), ...(deny !== undefined ? { deny } : {}) };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * leafnode.go pickNextURL: when the last attempt's URL is first in the list (and there are
 * others), it moves to the end; the first URL is the next attempt's.
 */
function pickNextUrl(r: RemoteState): LeafRemoteUrl {
  const cur = r.current;
  if (cur !== null && r.urls.length > 1 && r.urls[0].host === cur.host && r.urls[0].port === cur.port) {
    r.urls.push(r.urls.shift()!);
  }
  r.current = r.urls[0];
  return r.current;
}

/** `host:port` (IPv6 in brackets) of an INFO's URL list, or null. */
function parseHostPort(text: string): { host: string; port: number } | null {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(text);
  if (m === null) return null;
  const port = Number(m[2]);
  return m[1] === '' || port <= 0 || port > 65535 ? null : { host: m[1], port };
}

/** Whether a hub's first line is an INFO with `tls_required` (anything else is left to the parser). */
function infoRequiresTls(line: Buffer): boolean {
  const text = line.toString('utf8');
  if (!/^info\s/i.test(text)) return false;
  try {
    return (JSON.parse(text.slice(5)) as { tls_required?: unknown }).tls_required === true;
  } catch {
    return false;
  }
}
