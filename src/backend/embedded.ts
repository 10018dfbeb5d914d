/**
 * The embedded backend: the broker in this process. It is the composition root of one server —
 * a {@link BrokerCore} per start, the client listener, and the websocket, route (cluster) and
 * monitoring listeners as configured — and keeps what must outlive a restart: the options, the
 * bound ports, the test controls, route blocks.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NATS_SERVER_VERSION } from '../protocol/constants.js';
import { dialHost, hostPort, listen, urlHost } from '../io/listen.js';
import { startWebSocketListener, type WebSocketListener } from '../io/websocket.js';
import type { ResolvedOptions, ServerOptions } from '../config/options.js';
import { acceptSocket, acceptWebSocket } from '../broker/accept.js';
import { BrokerCore } from '../broker/core.js';
import { CloseReason } from '../broker/close-reason.js';
import { TestControls, warnInternal, type FaultSink } from '../broker/controls.js';
import type { ServerInfo } from '../broker/info.js';
import { ClusterManager } from '../cluster/cluster.js';
import { LeafManager } from '../leaf/leafnodes.js';
import { GatewayManager } from '../gateway/gateway.js';
import { JetStream } from '../jetstream/jetstream.js';
import { startMonitor, type MonitorContext, type MonitorHandle } from '../monitor/monitor.js';
import { startSystemServices, type SystemServices } from '../monitor/system.js';
import type { BackendEvents, ServerBackend } from '../server/backend.js';
import type { JetStreamConsumerInfo, JetStreamStreamConfig, JetStreamStreamInfo, ServerState } from '../server/types.js';
import { consumerInfoFromJson } from '../server/jetstream-view.js';
import { consumerInfoJson } from '../jetstream/api.js';
import { encodeStreamConfig } from '../jetstream/stream-config.js';
import { ServerClosedError } from '../errors.js';
import { EmbeddedControls } from './embedded-controls.js';
import { internalSession, type InternalSession } from './sessions.js';
import type { RequestSession } from '../server/backend.js';
import { subjectFromText } from '../protocol/text.js';
import { ClaimsService, simpleServerBlock } from '../broker/claims-service.js';

/** Listeners bound by one start of the server, released together. */
interface Listeners {
  readonly tcp: TcpServer;
  readonly port: number;
  readonly jetstream: JetStream | null;
  readonly ws: WebSocketListener | null;
  readonly cluster: ClusterManager | null;
  readonly leaf: LeafManager | null;
  readonly gateway: GatewayManager | null;
  readonly monitor: MonitorHandle | null;
}

export class EmbeddedBackend implements ServerBackend {
  readonly kind = 'embedded' as const;
  /** The options in force (a reload replaces them). */
  options: ResolvedOptions;
  /** The options as given (before defaults): a reload patches them. */
  input: ServerOptions;
  /** The broker of the current (or last) start; a restart makes a new one. */
  core: BrokerCore;
  /** Test controls and fault state: kept across restarts. */
  readonly controls = new TestControls();
  readonly embedded: EmbeddedControls;
  /** Peer server names routes are refused to (set by `createCluster()` partitions). */
  blockedPeers: readonly string[] = [];
  cluster: ClusterManager | null = null;
  /** The leaf node layer of the current start, when `leafnodes` is configured. */
  leaf: LeafManager | null = null;
  /** Gateway names gateway connections are refused to (set by `createSupercluster()` partitions). */
  blockedGateways: readonly string[] = [];
  /** Write delay per remote gateway name (`setGatewayLatency()`), kept across restarts. */
  readonly gatewayLatency = new Map<string, number>();
  /** The gateway layer of the current start, when a `gateway` block is configured. */
  gateway: GatewayManager | null = null;
  private gatewayPort_ = 0;
  /** The JetStream engine of the current start, when JetStream is on. */
  jetstream: JetStream | null = null;
  /**
   * JetStream's store when the options name none: one directory for the handle's life (made
   * on the first file stream), so file streams survive `kill()` and `restart()`; `close()`
   * removes it.
   */
  private readonly tempStoreDir: string;
  private tcp: TcpServer | null = null;
  private ws: WebSocketListener | null = null;
  private monitor: MonitorHandle | null = null;
  /** Operator mode with a system account: the account resolver's requests (broker/claims-service.ts). */
  private claims: ClaimsService | null = null;
  /** The system account's request services and STATSZ heartbeat (monitor/system.ts). */
  private system: SystemServices | null = null;
  // Bound ports: a restart binds the same ones.
  private port_ = 0;
  private clusterPort_ = 0;
  private leafPort_ = 0;
  private wsPort_ = 0;
  private monitorPort_ = 0;
  private startedAt = new Date();
  configLoadedAt = new Date();
  private state_: ServerState = 'stopped';
  private started = false;
  /** Settles when the current listener has closed and all its sockets are gone. */
  private listenerClosed: Promise<void> = Promise.resolve();
  private readonly faults: FaultSink;
  /** The open request sessions of the `server.jetstream` helpers, failed when the broker stops. */
  private readonly sessions = new Set<InternalSession>();

  constructor(
    options: ResolvedOptions,
    input: ServerOptions,
    private readonly events: BackendEvents,
  ) {
    this.options = options;
    this.input = input;
    this.faults = {
      userError: (err) => events.userError(err),
      internalError: (err, what) => {
        warnInternal(err, what);
        events.internalError(err);
      },
    };
    this.core = this.newCore();
    this.embedded = new EmbeddedControls(this);
    this.tempStoreDir = join(tmpdir(), `nats-embedded-js-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
  }

  /** JetStream's store directory: the configured one, or this handle's temporary one. */
  private storeDir(): string {
    const dir = this.options.jetstream?.storeDir ?? this.tempStoreDir;
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private newCore(): BrokerCore {
    const core = new BrokerCore(this.options, this.controls, this.faults);
    core.onSlowConsumer = (client, reason, pendingBytes) => {
      this.events.slowConsumer({
        cid: client.cid,
        name: client.name,
        reason: reason as 'Slow Consumer (Pending Bytes)' | 'Slow Consumer (Write Deadline)',
        pendingBytes,
      });
    };
    return core;
  }

  get state(): ServerState {
    return this.state_;
  }

  /** Binds every listener, on the ports of the last start if there was one. */
  async start(current: () => boolean, interrupted: () => Error): Promise<void> {
    // A restarted server is a new process to its clients: a new core, a new server id.
    if (this.started) this.core = this.newCore();
    this.started = true;
    const o = this.options;
    const core = this.core;
    const release: Array<() => Promise<void>> = [];
    const check = (): void => {
      if (!current()) throw interrupted();
    };
    try {
      // JetStream first: its API and recovered streams are there for the first client.
      let jetstream: JetStream | null = null;
      if (o.jetstream !== null) {
        const js = new JetStream(core, o.jetstream, () => this.storeDir(), () => existsSync(o.jetstream?.storeDir ?? this.tempStoreDir));
        release.push(() => js.stop());
        await js.start();
        check();
        jetstream = js;
      }
      const tcp = createTcpServer({ noDelay: true }, (socket: Socket) => acceptSocket(core, socket));
      // Accept errors (e.g. EMFILE) must not crash the process; nats-server logs them the same way.
      const bound = await listen(tcp, o.host, this.port_ || o.port, (err) => core.log.error(`Temporary Client Accept Error (${err.message})`));
      release.push(() => new Promise<void>((resolve) => tcp.close(() => resolve())));
      check();
      core.port = bound;
      let ws: WebSocketListener | null = null;
      let leafRef: LeafManager | null = null;
      if (o.websocket !== null) {
        // A leaf node connects to the websocket listener on `/leafnode` (nats-server's leafNodeWSPath).
        ws = await startWebSocketListener(o.websocket, this.wsPort_ || o.websocket.port, (conn, cookieJwt, path) => {
          if (path.endsWith('/leafnode') && leafRef !== null) leafRef.acceptTransport(conn);
          else acceptWebSocket(core, conn, cookieJwt);
        }, core.log);
        const w = ws;
        release.push(() => w.close());
        check();
        core.wsPort = ws.port;
      }
      let cluster: ClusterManager | null = null;
      let gateway: GatewayManager | null = null;
      // The leaf node listener binds before the routes start (their INFO carries its URL); the
      // remotes are dialled once the cluster layer exists.
      let leaf: LeafManager | null = null;
      if (o.leafnodes !== null) {
        const l = new LeafManager(core, o.leafnodes);
        release.push(() => l.stop(false));
        leaf = l;
      }
      const leafListen = async (): Promise<void> => {
        if (leaf === null) return;
        await leaf.listen(this.leafPort_ || o.leafnodes?.listen?.port);
        check();
      };
      if (o.gateway !== null) {
        const g = new GatewayManager(core, o.gateway, this.gatewayLatency);
        release.push(() => g.stop(false));
        g.setBlocked(this.blockedGateways);
        gateway = g;
      }
      if (o.cluster !== null) {
        // nats-embedded's JetStream cannot share a cluster with nats-server's: routes to
        // nats-server servers with JetStream are refused (cluster/cluster.ts MIXED_JETSTREAM).
        const c = new ClusterManager(core, o.cluster, { refuseJetStreamPeers: jetstream !== null });
        release.push(() => c.stop(false));
        c.leafLink = leaf;
        await leafListen();
        if (gateway !== null) {
          c.gatewayLink = gateway;
          gateway.routeLayer = { routes: () => c.routes, broadcast: (frame) => c.broadcast(frame) };
          // Listening first: the routes' INFO carries the gateway URL.
          await gateway.start(this.gatewayPort_ || o.gateway!.port);
          check();
        }
        await c.start(this.clusterPort_ || o.cluster.port);
        check();
        c.setBlocked(this.blockedPeers);
        if (this.controls.paused) c.setPaused(true);
        c.onChange = () => this.events.routesChanged();
        cluster = c;
      } else if (gateway !== null) {
        await gateway.start(this.gatewayPort_ || o.gateway!.port);
        check();
      }
      if (leaf !== null) {
        const l = leaf;
        await leafListen();
        l.connectRemotes();
        if (this.controls.paused) l.setPaused(true);
        leafRef = l;
        l.onChange = () => this.events.leafnodesChanged();
      }
      let monitor: MonitorHandle | null = null;
      const ctx = this.monitorContext();
      if (o.http !== null) {
        monitor = await startMonitor(ctx, o.http.host, this.monitorPort_ || o.http.port);
        const m = monitor;
        release.push(() => m.close());
        check();
      }
      core.jetStreamState = () => ({ enabled: this.jetstream !== null, domain: o.jetstream?.domain ?? '' });
      this.system?.close();
      // $SYS.REQ.SERVER.<id>.RELOAD: the options in force applied again (server.reload({})).
      this.system = startSystemServices(ctx, { reload: () => this.embedded.reload({}, {}) });
      this.commit({ tcp, port: bound, jetstream, ws, cluster, leaf, gateway, monitor });
      this.restartClaims();
    } catch (err) {
      for (const r of release.reverse()) await r();
      throw err;
    }
  }

  /** Starts (again) the account resolver's system requests, as the options say. */
  restartClaims(): void {
    this.claims?.close();
    this.claims = null;
    const mode = this.options.auth?.operator;
    if (mode === undefined || mode.systemAccount === null || this.state_ === 'stopped') return;
    const core = this.core;
    this.claims = new ClaimsService(core, mode, {
      // An account JWT update: its accounts applied as a reload applies them.
      apply: (next) => {
        this.options = next;
        core.applyOptions(next, true);
        this.jetstream?.configure(next);
      },
      // The `server` block of every system message, with its shared `seq` (broker/events.ts).
      serverBlock: ((fallback) => () => core.events?.serverBlock() ?? fallback())(simpleServerBlock(core)),
      remoteServers: () => this.cluster?.routes.size ?? 0,
      accountRemoved: (name) => this.jetstream?.disableAccount(name),
    });
  }

  /** What the monitoring endpoints and the system services read. Getters: a reload replaces the options, a restart the core. */
  private monitorContext(): MonitorContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    return {
      get options() {
        return self.options;
      },
      core: () => this.core,
      cluster: () => this.cluster,
      leaf: () => this.leaf,
      gateway: () => this.gateway,
      jetstream: () => this.jetstream,
      startedAt: () => this.startedAt,
      configLoadedAt: () => this.configLoadedAt,
      port: () => this.port_,
      wsPort: () => this.wsPort_,
    };
  }

  /** The listeners are bound: the server runs. */
  private commit(l: Listeners): void {
    this.tcp = l.tcp;
    this.port_ = l.port;
    this.jetstream = l.jetstream;
    this.ws = l.ws;
    if (l.ws !== null) this.wsPort_ = l.ws.port;
    this.cluster = l.cluster;
    if (l.cluster !== null) this.clusterPort_ = l.cluster.port;
    this.leaf = l.leaf;
    if (l.leaf !== null && l.leaf.port !== 0) this.leafPort_ = l.leaf.port;
    this.gateway = l.gateway;
    if (l.gateway !== null) this.gatewayPort_ = l.gateway.port;
    this.monitor = l.monitor;
    if (l.monitor !== null) this.monitorPort_ = l.monitor.port;
    this.startedAt = new Date();
    this.logStartup();
    this.listenerClosed = new Promise<void>((resolve) => l.tcp.once('close', () => resolve()));
    this.state_ = 'running';
  }

  private logStartup(): void {
    const log = this.core.log;
    const o = this.options;
    log.info(`Starting nats-embedded (nats-server ${NATS_SERVER_VERSION} protocol)`);
    log.info(`  Name:     ${o.serverName ?? this.core.serverId}`);
    log.info(`  ID:       ${this.core.serverId}`);
    if (this.monitor !== null) log.info(`Starting http monitor on ${hostPort(o.http!.host, this.monitorPort_)}`);
    this.jetstream?.logStartup(join(o.jetstream?.storeDir ?? this.tempStoreDir, 'jetstream'));
    if (this.cluster !== null) {
      log.info(`Cluster name is ${this.cluster.name}`);
      log.info(`Listening for route connections on ${hostPort(this.cluster.opts.host, this.clusterPort_)}`);
    }
    if (this.leaf !== null && o.leafnodes?.listen != null) log.info(`Listening for leafnode connections on ${hostPort(o.leafnodes.listen.host, this.leafPort_)}`);
    if (o.websocket !== null) {
      const scheme = o.websocket.tls === null ? 'ws' : 'wss';
      log.info(`Listening for websocket clients on ${scheme}://${hostPort(o.websocket.host, this.wsPort_)}`);
      if (o.websocket.tls === null) log.warn('Websocket not configured with TLS. DO NOT USE IN PRODUCTION!');
    }
    log.info(`Listening for client connections on ${hostPort(o.host, this.port_)}`);
    log.info('Server is ready');
  }

  /**
   * Stops serving; resolves when every listener and socket is closed and JetStream's stores
   * are closed. `final` (close()) also removes a temporary JetStream store. Safe to call twice.
   */
  stop(graceful: boolean, final = false): Promise<void> {
    // Operator mode's directory store has an expiry timer, also when the server never ran.
    if (final) this.core.accountJwts?.close();
    if (this.state_ === 'stopped') {
      if (final) this.listenerClosed = this.listenerClosed.then(() => this.removeTempStore());
      return this.listenerClosed;
    }
    this.state_ = 'stopped';
    // nats-server's shutdownEventing, first of all (the event still crosses the routes): a
    // graceful stop sends SHUTDOWN and then no more events; a kill is a crash and sends nothing.
    const events = this.core.events;
    if (graceful) events?.shutdown();
    else events?.halt();
    this.core.flushAll();
    const tcp = this.tcp!;
    this.tcp = null;
    if (tcp.listening) tcp.close();
    const cluster = this.cluster;
    this.cluster = null;
    const gateway = this.gateway;
    this.gateway = null;
    const gatewaysClosed = gateway?.stop(graceful) ?? Promise.resolve();
    const routesClosed = cluster?.stop(graceful) ?? Promise.resolve();
    const leaf = this.leaf;
    this.leaf = null;
    const leafsClosed = leaf?.stop(graceful) ?? Promise.resolve();
    const monitor = this.monitor;
    this.monitor = null;
    const monitorClosed = monitor?.close() ?? Promise.resolve();
    this.system?.close();
    this.system = null;
    const ws = this.ws;
    this.ws = null;
    const wsClosed = ws?.close() ?? Promise.resolve();
    for (const client of [...this.core.clients.values()]) client.close(CloseReason.ServerShutdown, graceful);
    this.claims?.close();
    this.claims = null;
    this.core.accountJwts?.close();
    // Response-threshold timers of service exports.
    this.core.links?.close();
    // The helpers' requests in flight get no reply now: they reject at once, as on nats-server.
    for (const session of [...this.sessions]) session.fail(new ServerClosedError('finish a JetStream request', 'the server stopped'));
    this.core.flushAll();
    const jetstream = this.jetstream;
    this.jetstream = null;
    const jsStopped = jetstream?.stop() ?? Promise.resolve();
    let closed: Promise<void> = Promise.all([this.listenerClosed, routesClosed, leafsClosed, gatewaysClosed, monitorClosed, wsClosed, jsStopped]).then(() => undefined);
    if (final) closed = closed.then(() => this.removeTempStore());
    // A second stop() waits for all of it too.
    this.listenerClosed = closed;
    return closed;
  }

  private removeTempStore(): void {
    rmSync(this.tempStoreDir, { recursive: true, force: true });
  }

  /** nats-server's `lameDuckMode`, in event-loop terms. */
  async lameDuck(durationMs: number, current: () => boolean, sleep: (ms: number) => Promise<boolean>): Promise<void> {
    this.state_ = 'lameDuck';
    const core = this.core;
    // nats-server's sendLDMShutdownEventLocked, as it stops accepting.
    core.events?.lameDuck();
    core.flushAll();
    this.tcp!.close();
    this.ws?.stopAccepting();
    // nats-server: with no client to move, lame duck mode is a plain shutdown.
    if (core.clients.size === 0) return this.stop(true);
    this.cluster?.sendLameDuck();
    core.sendLameDuckInfo();
    const grace = Math.min(this.options.lameDuckGracePeriodMs, durationMs);
    let spread = durationMs - grace;
    if (spread <= 0) spread = 1000;
    if (!(await sleep(grace))) return;
    core.log.info('Closing existing clients');
    const clients = [...core.clients.values()];
    // Between closes: a random pause of at least half the even share, at most 1 s (nats-server).
    const share = clients.length > 0 ? Math.min(spread / clients.length, 1000) : 0;
    for (let i = 0; i < clients.length; i++) {
      if (!current()) return;
      clients[i].close(CloseReason.ServerShutdown);
      core.flushAll();
      if (i < clients.length - 1 && share >= 1 && !(await sleep(Math.max(share / 2, Math.random() * share)))) return;
    }
    if (current()) await this.stop(true);
  }

  // ---- Addresses and identity -------------------------------------------------------------------

  get port(): number {
    return this.port_;
  }

  get url(): string {
    return `nats://${urlHost(this.options.host)}:${this.port_}`;
  }

  get info(): ServerInfo {
    return this.core.info();
  }

  get id(): string {
    return this.core.serverId;
  }

  get monitorPort(): number {
    return this.monitorPort_;
  }

  get monitorUrl(): string | null {
    const http = this.options.http;
    return http === null ? null : `http://${urlHost(http.host)}:${this.monitorPort_}`;
  }

  get websocketPort(): number {
    return this.wsPort_;
  }

  get websocketUrl(): string | null {
    const ws = this.options.websocket;
    return ws === null ? null : `${ws.tls === null ? 'ws' : 'wss'}://${urlHost(ws.host)}:${this.wsPort_}`;
  }

  get clusterPort(): number {
    return this.clusterPort_;
  }

  get leafnodePort(): number {
    return this.options.leafnodes?.listen == null ? 0 : this.leafPort_;
  }

  get leafnodeUrl(): string | null {
    const l = this.options.leafnodes?.listen;
    return l == null ? null : `nats-leaf://${urlHost(dialHost(l.host))}:${this.leafPort_}`;
  }

  get gatewayUrl(): string | null {
    const g = this.gateway;
    return g === null || g.url === '' ? null : `nats://${g.url}`;
  }

  get routeUrl(): string | null {
    return this.cluster?.routeUrl ?? null;
  }

  get clusterName(): string | null {
    return this.cluster?.name ?? null;
  }

  get pid(): null {
    return null;
  }

  /** The bound ports (for reload checks: ephemeral ports stand for them). */
  get boundPorts(): { port: number; clusterPort: number; websocketPort: number; monitorPort: number } {
    return { port: this.port_, clusterPort: this.clusterPort_, websocketPort: this.wsPort_, monitorPort: this.monitorPort_ };
  }

  // ---- Waits ------------------------------------------------------------------------------------

  interest(subject: string, _enough: number): number {
    let n = 0;
    // The test's text as the wire's bytes (protocol/text.ts).
    const wire = subjectFromText(subject);
    for (const acc of this.core.accounts.values()) {
      const r = acc.sublist.match(wire);
      n += r.psubs.length;
      for (const g of r.qsubs) n += g.length;
    }
    return n;
  }

  connectionCount(): number {
    return this.core.clients.size;
  }

  // ---- JetStream --------------------------------------------------------------------------------

  get jetstreamStoreDir(): string | null {
    return this.options.jetstream === null ? null : (this.options.jetstream.storeDir ?? this.tempStoreDir);
  }

  async openSession(account: string | undefined): Promise<RequestSession> {
    if (this.state !== 'running') throw new ServerClosedError('send a JetStream request', 'the server is not running');
    const session = internalSession(this.core, this.options, account, () => this.sessions.delete(session));
    this.sessions.add(session);
    return session;
  }

  async jetstreamConsumers(account: string | undefined, stream: string): Promise<JetStreamConsumerInfo[]> {
    if (this.options.jetstream === null) return [];
    const js = this.jetstream;
    if (js === null) throw new ServerClosedError('list JetStream consumers', 'the server is not running');
    const out: JetStreamConsumerInfo[] = [];
    for (const jsa of js.enabledAccounts()) {
      if (account !== undefined && jsa.name !== account) continue;
      const s = jsa.streams.get(stream);
      if (s === undefined) continue;
      // The JSON CONSUMER.INFO answers, read as the nats-server backend reads /jsz's.
      for (const c of s.consumers.values()) out.push(consumerInfoFromJson(jsa.name, JSON.parse(consumerInfoJson(jsa, c, true)) as Record<string, unknown>));
    }
    return out;
  }

  async jetstreamStreams(account: string | undefined): Promise<JetStreamStreamInfo[]> {
    if (this.options.jetstream === null) return [];
    const js = this.jetstream;
    if (js === null) throw new ServerClosedError('list JetStream streams', 'the server is not running');
    const out: JetStreamStreamInfo[] = [];
    for (const jsa of js.enabledAccounts()) {
      if (account !== undefined && jsa.name !== account) continue;
      for (const s of jsa.streams.values()) {
        const st = s.state();
        out.push({
          account: jsa.name,
          name: s.name,
          created: new Date(s.created),
          // What STREAM.INFO shows: the JSON of the config, a copy the caller cannot change ours through.
          config: JSON.parse(encodeStreamConfig(s.cfg)) as JetStreamStreamConfig,
          state: {
            messages: st.msgs,
            bytes: st.bytes,
            firstSeq: st.firstSeq,
            lastSeq: st.lastSeq,
            firstTime: st.msgs > 0 && st.firstTs > 0 ? new Date(st.firstTs) : null,
            lastTime: st.lastTs > 0 ? new Date(st.lastTs) : null,
            numSubjects: st.numSubjects,
            numDeleted: st.numDeleted,
            consumerCount: s.consumers.size,
          },
        });
      }
    }
    return out;
  }

  watch(fn: () => void): () => void {
    const waiters = this.controls.changeWaiters;
    waiters.add(fn);
    return () => void waiters.delete(fn);
  }
}
