/**
 * The broker core: client registry, subscriptions and message routing. It owns no listener;
 * `NatsServer` (server.ts) accepts sockets and hands them to `accept()`.
 */
import type { Socket } from 'node:net';
import { TLSSocket, createSecureContext, type SecureContext } from 'node:tls';
import { Sublist } from '../subject/sublist.js';
import { Account, GLOBAL_ACCOUNT } from './account.js';
import type { PubArg } from '../protocol/parser.js';
import { ERR, NATS_SERVER_VERSION, PROTO_VERSION, SYS_QUEUE, OK, errSubViolation } from '../protocol/constants.js';
import { Client, CloseReason, Subscription } from './client.js';
import type { ResolvedOptions, ResolvedTls } from '../config/options.js';
import { newServerId, newXKey } from './ids.js';
import { Log } from './log.js';
import { Authenticator, newNonce } from '../auth/auth.js';
import { ClosedRing } from './closed.js';
import { DEFAULT_FAULT_SINK, TestControls, type FaultSink, type TappedMessage } from './controls.js';

export type { TappedMessage, DropRule } from './controls.js';

/** The INFO fields a client sees (one connection's view: `client_id`/`client_ip` vary). */
export interface ServerInfo {
  readonly server_id: string;
  readonly server_name: string;
  readonly version: string;
  readonly proto: number;
  readonly go: string;
  readonly host: string;
  readonly port: number;
  readonly headers: boolean;
  /** Present (true) when clients must authenticate. */
  readonly auth_required?: boolean;
  /** Present (true) when clients must upgrade to TLS after INFO. */
  readonly tls_required?: boolean;
  /** Present (true) when client certificates are required and verified. */
  readonly tls_verify?: boolean;
  /** Present (true) when TLS is offered but not required (`allowNonTls`). */
  readonly tls_available?: boolean;
  readonly max_payload: number;
  readonly client_id?: number;
  readonly client_ip?: string;
  /** Per-connection nonce for nkey signatures, when nkey users exist. */
  readonly nonce?: string;
  /** The cluster name, when clustered. */
  readonly cluster?: string;
  /** Client URLs (`host:port`) of the cluster's members, this server's first. */
  readonly connect_urls?: readonly string[];
  /** Only in the async INFO sent when the server enters lame duck mode. */
  readonly ldm?: boolean;
  readonly xkey: string;
}

/** Server-wide counters. */
export interface CoreStats {
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
  slowConsumers: number;
  totalConnections: number;
}

const NO_RESPONDERS_HDR = Buffer.from('NATS/1.0 503\r\n\r\n');

/** Where a message goes when it leaves this server (a route connection). */
export interface RouteTarget {
  /** Sends one RMSG/HMSG carrying `pa`'s message and the queue groups chosen for that server. */
  sendMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void;
}

/** Interest a peer server announced (RS+): lives in the sublist beside local subscriptions. */
export class RemoteSub {
  readonly remote = true;
  constructor(
    readonly route: RouteTarget,
    readonly subject: string,
    readonly queue: string | null,
    /** Queue weight: how many members the peer has in the group (1 for plain interest). */
    public weight: number,
    readonly account: Account,
  ) {}
}

/** A sublist entry: a local client's subscription or a peer's interest. */
export type AnySub = Subscription | RemoteSub;

/** mulberry32: a small, fast, seedable generator (for replayable queue choices). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A connection with an outbound queue (client or route), flushed once per read chunk. */
export interface Flushable {
  flushQueued: boolean;
  flush(): void;
}

/** What the core needs of the cluster layer. */
export interface ClusterHooks {
  /** A local subscription was added (+1) or removed (-1): update interest sent to routes. */
  localInterest(sub: Subscription, delta: 1 | -1): void;
  /** connect_urls for client INFO (own URL first), or null when there are no routes. */
  connectUrls(): readonly string[] | null;
  /** The websocket URLs of the cluster (own first), or null when there are none or no routes. */
  wsConnectUrls(): readonly string[] | null;
}

export class BrokerCore {
  /** Accounts by name; `$G` always exists. */
  readonly accounts = new Map<string, Account>();
  readonly globalAccount: Account;

  /** The global account's sublist (the only one without configured accounts). */
  get sublist(): Sublist<AnySub> {
    return this.globalAccount.sublist;
  }

  /** The account named `name`, created on first use (configured accounts). */
  account(name: string): Account {
    let acc = this.accounts.get(name);
    if (acc === undefined) {
      acc = new Account(name);
      this.accounts.set(name, acc);
    }
    return acc;
  }

  /** Subscriptions held in all accounts (local and remote interest). */
  get subscriptionCount(): number {
    let n = 0;
    for (const a of this.accounts.values()) n += a.sublist.size;
    return n;
  }
  readonly clients = new Map<number, Client>();
  readonly serverId = newServerId();
  readonly xkey = newXKey();
  readonly stats: CoreStats = {
    inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, slowConsumers: 0, totalConnections: 0,
  };
  /** Set by the server once it listens. */
  port = 0;
  /** The websocket listener's port, once it listens (0 without one). */
  wsPort = 0;
  /** The last closed client connections (`/connz?state=closed`). */
  readonly closedClients = new ClosedRing();

  private nextCid = 1;
  private readonly pending: Flushable[] = [];
  private inRead = false;
  private flushScheduled = false;
  private readonly flushAllBound = (): void => this.flushAll();
  /** The cluster layer, when clustering is configured. */
  cluster: ClusterHooks | null = null;
  // Route targets of the message being routed (reused: no allocation per message).
  private readonly rtRoutes: RouteTarget[] = [];
  private readonly rtQueues: string[][] = [];
  private rtCount = 0;
  /** Called when a client is closed as a slow consumer (set by NatsServer). */
  onSlowConsumer: ((client: Client, reason: CloseReason, pendingBytes: number) => void) | null = null;

  /** Replaced by a config reload (`NatsServer.reload`). */
  options: ResolvedOptions;
  log: Log;

  /**
   * @param controls the handle's test controls (they outlive this core across restarts)
   * @param faults where user-code exceptions and internal errors go
   */
  constructor(
    options: ResolvedOptions,
    readonly controls: TestControls = new TestControls(),
    readonly faults: FaultSink = DEFAULT_FAULT_SINK,
  ) {
    this.globalAccount = this.account(GLOBAL_ACCOUNT);
    for (const name of options.accountNames) this.account(name);
    this.options = options;
    this.log = new Log(options, faults.userError);
    this.random = options.seed === null ? Math.random : seededRandom(options.seed);
    this.auth = options.auth === null ? null : new Authenticator(options.auth);
  }

  /** Queue-member choice: Math.random, or a seeded generator (`seed` option). */
  random: () => number;

  /** Subscriptions or connections changed: wakes `waitFor...()` calls. */
  notifyChange(): void {
    this.controls.notifyChange();
  }

  /** Applies reloaded options to the running core: limits take effect for every client now. */
  applyOptions(options: ResolvedOptions): void {
    for (const name of options.accountNames) this.account(name);
    this.options = options;
    this.log = new Log(options, this.faults.userError);
    this.auth = options.auth === null ? null : new Authenticator(options.auth);
    for (const client of [...this.clients.values()]) {
      client.parser.maxPayload = options.maxPayload;
      client.parser.maxControlLine = options.maxControlLine;
      // As nats-server's reload: clients whose credentials no longer pass are closed, the
      // others get their (possibly new) permissions.
      if (client.connectReceived) client.reauthenticate();
    }
    this.flushAll();
  }

  /** The authenticator, when authorization is configured. */
  auth: Authenticator | null;

  /** The INFO a client sees; without `client` the fields common to every connection. */
  info(client?: { cid: number; ip: string; nonce?: string | null; websocket?: boolean }, ldm = false): ServerInfo {
    const o = this.options;
    const auth = o.auth;
    // As nats-server's generateClientInfoJSON: a websocket client sees the websocket listener's
    // host/port, TLS as the websocket listener has it, and the websocket URLs as connect_urls.
    if (client?.websocket === true && o.websocket !== null) {
      const base = this.info(undefined, ldm);
      const { tls_required: _r, tls_verify: _v, connect_urls: _c, ldm: _l, xkey, ...rest } = base;
      let urls = this.cluster?.wsConnectUrls() ?? null;
      if (urls !== null && ldm) urls = urls.slice(1);
      return {
        ...rest,
        host: o.websocket.host,
        port: this.wsPort,
        ...(client.nonce ? { nonce: client.nonce } : {}),
        client_id: client.cid,
        client_ip: client.ip,
        ...(urls !== null && urls.length > 0 ? { connect_urls: urls } : {}),
        ...(ldm ? { ldm: true } : {}),
        xkey,
      };
    }
    return {
      server_id: this.serverId,
      server_name: o.serverName ?? this.serverId,
      version: NATS_SERVER_VERSION,
      proto: PROTO_VERSION,
      go: `node${process.versions.node}`,
      host: o.host,
      port: this.port,
      headers: !o.noHeaderSupport,
      // auth_required is false when no_auth_user lets clients in without credentials.
      ...(auth !== null && auth.noAuthUser === null ? { auth_required: true } : {}),
      ...(o.tls !== null && !o.allowNonTls ? { tls_required: true } : {}),
      ...(o.tls !== null && o.tls.verify ? { tls_verify: true } : {}),
      ...(o.tls !== null && o.allowNonTls ? { tls_available: true } : {}),
      max_payload: o.maxPayload,
      ...(client === undefined ? {} : { client_id: client.cid, client_ip: client.ip }),
      ...(client?.nonce ? { nonce: client.nonce } : {}),
      ...this.clusterInfo(ldm),
      ...(ldm ? { ldm: true } : {}),
      xkey: this.xkey,
    };
  }

  private clusterInfo(ldm: boolean): { cluster?: string; connect_urls?: readonly string[] } {
    const name = this.clusterName;
    if (name === null) return {};
    let urls = this.cluster?.connectUrls() ?? null;
    // In lame duck mode clients are pointed at the other servers only.
    if (urls !== null && ldm) urls = urls.slice(1);
    return urls === null || urls.length === 0 ? { cluster: name } : { cluster: name, connect_urls: urls };
  }

  /** Set by the cluster layer: INFO `cluster`. */
  clusterName: string | null = null;

  /** Pushes a fresh INFO (new connect_urls) to every client that accepts async INFO. */
  sendAsyncInfo(): void {
    for (const client of this.clients.values()) {
      if (client.acceptsAsyncInfo) client.sendProto(this.infoFrame(client));
    }
    this.flushAll();
  }

  /**
   * Takes over an accepted socket: sends INFO, enforces max_connections, wires events.
   * `websocket`: a connection of the websocket listener (a `WebSocketConnection` standing in
   * for the socket; it uses setNoDelay, remoteAddress/remotePort, write, cork/uncork, end,
   * destroy, pause/resume, writableLength, bytesWritten, destroyed and the data/drain/error/
   * end/close events). Its TLS, if any, belongs to the websocket listener.
   */
  accept(raw: Socket, websocket = false): void {
    const cid = this.nextCid++;
    raw.setNoDelay(true);
    const tls = websocket ? null : this.options.tls;
    if (tls === null) {
      this.attach(raw, cid, { websocket, tls: null, raw: null, infoSent: false, nonce: null });
    } else if (!this.options.allowNonTls) {
      // With TLS the INFO goes out in plain text, then the client upgrades (nats-server's order).
      this.attach(this.tlsServerSocket(raw, tls), cid, { websocket, tls, raw, infoSent: false, nonce: null });
    } else {
      this.acceptEither(raw, cid, tls);
    }
  }

  /**
   * `allow_non_tls`: INFO (with `tls_available`) goes out first; then the client's first bytes
   * say which it chose — a TLS handshake record starts with 0x16 (nats-server reads up to 4
   * bytes, within tls_timeout; no bytes by then means plain text).
   */
  private acceptEither(raw: Socket, cid: number, tls: ResolvedTls): void {
    const nonce = this.auth?.needsNonce ? newNonce() : null;
    raw.write(this.infoFrameFor(cid, raw.remoteAddress ?? '', nonce, false));
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
      const socket = secure ? this.tlsServerSocket(raw, tls) : raw;
      this.attach(socket, cid, { websocket: false, tls: secure ? tls : null, raw: secure ? raw : null, infoSent: true, nonce });
      if (!secure) raw.resume();
    };
    const gone = (): void => {
      decided = true;
      clearTimeout(timer);
      raw.destroy();
    };
    const timer = setTimeout(() => decide(null), tls.timeoutMs);
    timer.unref();
    raw.on('data', decide);
    raw.once('close', gone);
    raw.once('error', gone);
  }

  /** Registers a client on `socket` (TLS already wrapped when `how.tls`), sending INFO unless sent. */
  private attach(
    socket: Socket,
    cid: number,
    how: { websocket: boolean; tls: ResolvedTls | null; raw: Socket | null; infoSent: boolean; nonce: string | null },
  ): Client {
    const client = new Client(this, cid, socket);
    client.websocket = how.websocket;
    if (this.auth !== null) client.startAuth(this.auth, how.nonce);
    if (how.tls === null) {
      if (!how.infoSent) client.sendProto(this.infoFrame(client));
    } else {
      if (!how.infoSent) how.raw!.write(this.infoFrame(client));
      const timer = setTimeout(() => {
        // nats-server: "Secure Connection - TLS Required" after tls_timeout, then close.
        if (!client.tlsReady) client.close(CloseReason.TlsHandshake, false);
      }, how.tls.timeoutMs);
      timer.unref();
      socket.once('secure', () => {
        client.tlsReady = true;
        clearTimeout(timer);
      });
      socket.once('close', () => clearTimeout(timer));
    }
    socket.on('data', (chunk: Buffer) => this.onData(client, chunk));
    socket.on('drain', client.onDrain);
    socket.on('error', () => client.close(CloseReason.ReadError, false));
    socket.on('end', () => client.close(CloseReason.ClientClosed));
    socket.on('close', () => client.close(CloseReason.ClientClosed, false));
    if (this.log.debugOn) this.log.debug(`${client.label} - Client connection created`);
    if (this.clients.size >= this.options.maxConnections) {
      // nats-server sends INFO first, then the error, then closes.
      client.sendErrAndClose(ERR.MaxConnections, CloseReason.MaxConnections);
    } else {
      this.clients.set(cid, client);
      this.stats.totalConnections++;
      if (this.controls.paused) socket.pause();
    }
    this.flushAll();
    this.notifyChange();
    return client;
  }

  private tlsContext: SecureContext | null = null;

  private tlsServerSocket(raw: Socket, opts: ResolvedTls): TLSSocket {
    this.tlsContext ??= createSecureContext({ cert: opts.cert, key: opts.key, ...(opts.ca !== null ? { ca: opts.ca } : {}) });
    return new TLSSocket(raw, {
      isServer: true,
      secureContext: this.tlsContext,
      requestCert: opts.verify,
      rejectUnauthorized: opts.verify,
    });
  }

  /** `INFO {...} \r\n` as `client` sees it (note the space before CRLF, as nats-server). */
  infoFrame(client: Client, ldm = false): Buffer {
    return this.infoFrameFor(client.cid, client.socket.remoteAddress ?? '', client.nonce, client.websocket, ldm);
  }

  private infoFrameFor(cid: number, ip: string, nonce: string | null, websocket: boolean, ldm = false): Buffer {
    return Buffer.from(`INFO ${JSON.stringify(this.info({ cid, ip, nonce, websocket }, ldm))} \r\n`, 'utf8');
  }

  /** Lame duck: tells every client that accepts async INFO (protocol 1, past its first PING). */
  sendLameDuckInfo(): void {
    for (const client of this.clients.values()) {
      if (client.acceptsAsyncInfo) client.sendProto(this.infoFrame(client, true));
    }
    this.flushAll();
  }

  private onData(client: Client, chunk: Buffer): void {
    this.runRead(() => client.onData(chunk), () => client.close(CloseReason.ProtocolViolation, false), `client ${client.cid}`);
  }

  /**
   * Runs the processing of one read chunk, then flushes every connection it queued output
   * for. A bug must cost one connection (`onError`), never the process or other clients.
   */
  runRead(work: () => void, onError: () => void, who: string): void {
    this.inRead = true;
    try {
      work();
    } catch (err) {
      this.internalError(err, who);
      onError();
    } finally {
      this.inRead = false;
    }
    this.flushAll();
  }

  /** Counts and reports a bug of the broker's own, caught while serving `who`. */
  internalError(err: unknown, who: string): void {
    this.controls.internalErrors++;
    this.faults.internalError(err, who);
  }

  // ---- Subscriptions ------------------------------------------------------------------------

  subscribe(client: Client, subject: string, queue: string | null, sid: string): void {
    const perms = client.perms;
    if (queue === SYS_QUEUE || (perms !== null && !perms.canSubscribe(subject, queue))) {
      return client.sendErr(errSubViolation(subject, queue));
    }
    const max = this.options.maxSubscriptions;
    if (max > 0 && client.subs.size >= max) return client.sendErr(ERR.MaxSubscriptions);
    if (!client.subs.has(sid)) {
      const sub = new Subscription(client, subject, queue, sid);
      if (!client.account.sublist.insert(sub)) return client.sendErr(ERR.InvalidSubject);
      client.subs.set(sid, sub);
      this.cluster?.localInterest(sub, 1);
      this.notifyChange();
    }
    // A SUB reusing a live sid is ignored, but still acknowledged.
    if (client.verbose) client.sendProto(OK);
  }

  unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    const subs = sub.client.subs;
    if (subs.get(sub.sid) === sub) subs.delete(sub.sid);
    if (sub.client.account.sublist.remove(sub)) this.cluster?.localInterest(sub, -1);
    this.notifyChange();
  }

  // ---- Routing ------------------------------------------------------------------------------

  /**
   * Delivers a message to every matching subscription. `pub` is the publishing client, or
   * null for a message that came from a route: that one goes to local subscribers only (one
   * hop), and to local members of the queue groups in `queueFilter` only.
   */
  routeMessage(
    pub: Client | null,
    pa: PubArg,
    buf: Buffer,
    start: number,
    end: number,
    queueFilter: readonly string[] | null = null,
    source: RouteTarget | null = null,
    account: Account = this.globalAccount,
  ): void {
    this.stats.inMsgs++;
    this.stats.inBytes += end - start;
    const controls = this.controls;
    if (controls.drops !== null && controls.dropped(pa.subject, this.random)) return;
    if (controls.taps !== null) this.tap(pub, pa, buf, start, end);
    const acc = pub === null ? account : pub.account;
    const r = acc.sublist.match(pa.subject);
    const fromRoute = pub === null;
    let delivered = false;
    this.rtCount = 0;
    const psubs = r.psubs;
    for (let i = 0; i < psubs.length; i++) {
      const sub = psubs[i];
      if (sub.remote) {
        if (!fromRoute) this.addRouteTarget(sub.route, null);
      } else if (this.deliverTo(pub, sub, pa, buf, start, end)) {
        delivered = true;
      }
    }
    const qsubs = r.qsubs;
    for (let g = 0; g < qsubs.length; g++) {
      const members = qsubs[g];
      if (fromRoute) {
        if (queueFilter === null || !queueFilter.includes(members[0].queue!)) continue;
        if (this.pickLocal(members, source, pa, buf, start, end)) delivered = true;
      } else if (this.pickMember(pub, members, pa, buf, start, end)) {
        delivered = true;
      }
    }
    if (this.rtCount > 0) {
      // One message per route, carrying the queue groups that route's server must serve.
      for (let i = 0; i < this.rtCount; i++) this.rtRoutes[i].sendMsg(acc.name, pa, this.rtQueues[i], buf, start, end);
      delivered = true;
    }
    if (!delivered && pub !== null && pa.reply.length > 0 && pub.noResponders) this.sendNoResponders(pub, pa.reply);
  }

  private tap(pub: Client | null, pa: PubArg, buf: Buffer, start: number, end: number): void {
    const hdr = pa.hdr > 0 ? pa.hdr : 0;
    const msg: TappedMessage = {
      subject: pa.subject,
      reply: pa.reply.length > 0 ? pa.reply : null,
      headers: hdr > 0 ? Buffer.from(buf.subarray(start, start + hdr)) : null,
      data: Buffer.from(buf.subarray(start + hdr, end)),
      publisherCid: pub === null ? null : pub.cid,
    };
    // A tap is user code: what it throws goes to the test runner, never to the publisher.
    for (const t of this.controls.taps!) {
      try {
        t(msg);
      } catch (err) {
        this.faults.userError(err);
      }
    }
  }

  /** A queue member for a client's message: weighted random over local and remote members. */
  private pickMember(pub: Client, members: readonly AnySub[], pa: PubArg, buf: Buffer, start: number, end: number): boolean {
    const n = members.length;
    let total = 0;
    let remote = false;
    for (let i = 0; i < n; i++) {
      const m = members[i];
      if (m.remote) {
        remote = true;
        total += m.weight;
      } else {
        total++;
      }
    }
    // Start at a random member (remote ones weighted by their member count), then walk on
    // until one can take the message.
    let first = 0;
    if (n > 1) {
      if (!remote) first = Math.floor(this.random() * n);
      else {
        let x = this.random() * total;
        while (first < n - 1) {
          const m = members[first];
          x -= m.remote ? m.weight : 1;
          if (x < 0) break;
          first++;
        }
      }
    }
    for (let k = 0; k < n; k++) {
      const m = members[(first + k) % n];
      if (m.remote) {
        if (m.weight === 0) continue;
        this.addRouteTarget(m.route, m.queue);
        return true;
      }
      if (this.deliverTo(pub, m, pa, buf, start, end)) return true;
    }
    return false;
  }

  /**
   * A queue member for a routed message: a local member, chosen at random. When none can take
   * it (e.g. the last one just left), nats-server passes it on to another server that has
   * members of the group: the only case of a second hop.
   */
  private pickLocal(
    members: readonly AnySub[],
    source: RouteTarget | null,
    pa: PubArg,
    buf: Buffer,
    start: number,
    end: number,
  ): boolean {
    const n = members.length;
    const first = n > 1 ? Math.floor(this.random() * n) : 0;
    let fallback: RemoteSub | null = null;
    for (let k = 0; k < n; k++) {
      const m = members[(first + k) % n];
      if (m.remote) {
        if (fallback === null && m.route !== source && m.weight > 0) fallback = m;
      } else if (this.deliverTo(null, m, pa, buf, start, end)) {
        return true;
      }
    }
    if (fallback === null) return false;
    this.addRouteTarget(fallback.route, fallback.queue);
    return true;
  }

  private addRouteTarget(route: RouteTarget, queue: string | null): void {
    let i = 0;
    while (i < this.rtCount && this.rtRoutes[i] !== route) i++;
    if (i === this.rtCount) {
      this.rtRoutes[i] = route;
      if (this.rtQueues[i] === undefined) this.rtQueues[i] = [];
      else this.rtQueues[i].length = 0;
      this.rtCount++;
    }
    if (queue !== null) this.rtQueues[i].push(queue);
  }

  private deliverTo(pub: Client | null, sub: Subscription, pa: PubArg, buf: Buffer, start: number, end: number): boolean {
    const client = sub.client;
    if ((client === pub && !pub.echo) || sub.closed || client.closed) return false;
    const perms = client.perms;
    if (perms !== null) {
      // A wildcard subscription overlapping a subscribe deny: each subject is checked here.
      if (perms.hasSubDeny && perms.deniesDelivery(pa.subject)) return false;
      // allow_responses: the reply subject of a delivered message may be published to.
      if (perms.responses !== null && pa.reply.length > 0) client.allowReply(pa.reply);
    }
    sub.nm++;
    if (sub.max > 0) {
      if (sub.nm > sub.max) {
        this.unsubscribe(sub);
        return false;
      }
      if (sub.nm === sub.max) {
        // The message that reaches the limit is delivered, then the subscription goes.
        const ok = client.deliver(sub, pa, buf, start, end);
        this.unsubscribe(sub);
        if (ok) this.countOut(end - start);
        return ok;
      }
    }
    if (!client.deliver(sub, pa, buf, start, end)) return false;
    this.countOut(end - start);
    return true;
  }

  private countOut(bytes: number): void {
    this.stats.outMsgs++;
    this.stats.outBytes += bytes;
  }

  /**
   * nats-server answers a request nobody received with a 503 status message, on the
   * publisher's own subscription that matches the reply subject; without one, nothing.
   */
  private sendNoResponders(pub: Client, reply: string): void {
    const psubs = pub.account.sublist.match(reply).psubs;
    for (let i = 0; i < psubs.length; i++) {
      const sub = psubs[i];
      if (sub.remote || sub.client !== pub) continue;
      pub.sendProto(Buffer.from(`HMSG ${reply} ${sub.sid} 16 16\r\n${NO_RESPONDERS_HDR.toString('latin1')}\r\n`, 'latin1'));
      return;
    }
  }

  // ---- Flushing -----------------------------------------------------------------------------

  /** Remembers that `client` has queued output; it is written once per read chunk. */
  markForFlush(client: Flushable): void {
    if (client.flushQueued) return;
    client.flushQueued = true;
    this.pending.push(client);
    if (!this.inRead && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushAllBound);
    }
  }

  /** Writes out every client with queued output. */
  flushAll(): void {
    this.flushScheduled = false;
    const pending = this.pending;
    for (let i = 0; i < pending.length; i++) pending[i].flush();
    pending.length = 0;
  }

  // ---- Connection end -----------------------------------------------------------------------

  /** Drops `client` without flushing (nats-server sends no -ERR to a slow consumer). */
  slowConsumer(client: Client, reason: CloseReason): void {
    if (client.closed) return;
    const pendingBytes = client.out.queued + client.socket.writableLength;
    this.stats.slowConsumers++;
    client.close(reason, false);
    this.onSlowConsumer?.(client, reason, pendingBytes);
  }

  /** A connection id for a new route: clients and routes share one sequence, as in nats-server. */
  allocCid(): number {
    return this.nextCid++;
  }

  /** Called by `Client.close()`: drops the client's subscriptions and registration. */
  removeClient(client: Client): void {
    this.closedClients.record(client);
    for (const sub of client.subs.values()) {
      sub.closed = true;
      if (client.account.sublist.remove(sub)) this.cluster?.localInterest(sub, -1);
    }
    client.subs.clear();
    this.clients.delete(client.cid);
    this.notifyChange();
  }
}
