/**
 * `NatsServer`: the public handle of one broker — its TCP listener, lifecycle controls and
 * events, around a {@link BrokerCore}.
 */
import { EventEmitter } from 'node:events';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { ConfigError, ListenError, ServerClosedError, WaitTimeoutError } from '../errors.js';
import { subjectMatches } from '../subject/subject.js';
import { NATS_SERVER_VERSION } from '../protocol/constants.js';
import { BrokerCore, type DropRule, type ServerInfo, type TappedMessage } from './core.js';
import { type Client, CloseReason } from './client.js';
import { resolveOptions, type Backend, type ResolvedOptions, type ServerOptions } from './options.js';
import { ClusterManager, type RoutePeer } from '../cluster/cluster.js';
import { startMonitor, type MonitorHandle } from '../monitor/monitor.js';
import { startWebSocketListener, type WebSocketListener } from './websocket.js';

export type { RoutePeer } from '../cluster/cluster.js';

export type { ServerInfo, TappedMessage } from './core.js';

/** A client connection as the server API shows it. */
export interface ClientSummary {
  /** Connection id (INFO `client_id`). */
  readonly cid: number;
  /** CONNECT `name`, `lang` and `version` ('' when not sent). */
  readonly name: string;
  readonly lang: string;
  readonly version: string;
  /** Peer address. */
  readonly ip: string;
  readonly port: number;
  /** Subscriptions the client holds now. */
  readonly subscriptions: number;
}

/** A client connection with its counters, as `connections()` reports it. */
export interface ConnectionInfo extends ClientSummary {
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
  /** Bytes queued for the client and not yet written. */
  readonly pendingBytes: number;
}

/** A client subscription, as `subscriptions()` reports it. */
export interface SubscriptionInfo {
  readonly cid: number;
  /** The client's CONNECT name ('' when not sent). */
  readonly clientName: string;
  readonly subject: string;
  readonly queue: string | null;
  readonly sid: string;
  /** Messages delivered so far. */
  readonly msgs: number;
  /** Auto-unsubscribe limit, or 0. */
  readonly max: number;
}

/** Options of the `waitFor...()` methods. */
export interface WaitOptions {
  /** Default 5000 ms. */
  timeoutMs?: number;
}

/** Filter of `messages()` / `onMessage()`. */
export interface TapOptions {
  /** Only messages whose subject matches this subscription subject (wildcards allowed). Default `>`. */
  subject?: string;
}

/** Options of `dropMessages()`: a ratio (0..1) of matching messages, or the next `count` of them. */
export type DropOptions = { subject: string; ratio: number; count?: never } | { subject: string; count: number; ratio?: never };

/** Handle of one `dropMessages()` rule. */
export interface DropHandle {
  /** Messages dropped by this rule so far. */
  readonly dropped: number;
  /** Removes the rule. */
  cancel(): void;
}

/** Payload of the `slowConsumer` event. */
export interface SlowConsumerEvent {
  readonly cid: number;
  readonly name: string;
  /** nats-server's closed-connection reason. */
  readonly reason: 'Slow Consumer (Pending Bytes)' | 'Slow Consumer (Write Deadline)';
  /** Bytes that were queued for the client when it was dropped. */
  readonly pendingBytes: number;
}

/** Counters since the server (re)started. */
export interface ServerStats {
  readonly inMsgs: number;
  readonly inBytes: number;
  readonly outMsgs: number;
  readonly outBytes: number;
  readonly slowConsumers: number;
  /** Client connections open now. */
  readonly connections: number;
  /** Client connections accepted since start. */
  readonly totalConnections: number;
  /** Subscriptions held now, all clients together. */
  readonly subscriptions: number;
}

/** Events of {@link NatsServer}. */
export interface NatsServerEvents {
  /** A client was dropped because it could not keep up (`maxPending` or `writeDeadline`). */
  slowConsumer: [event: SlowConsumerEvent];
  /** A route to a peer server came up or went down. */
  routesChanged: [];
}

/** Options of {@link NatsServer.restart}. */
export interface RestartOptions {
  /** Time the server stays down before it listens again, in ms. Default 0. */
  downMs?: number;
  /** Close gracefully (flush, then close) instead of killing. Default false: like a crash. */
  graceful?: boolean;
}

/** Lifecycle state: `running` accepts clients; `lameDuck` is draining; `stopped` serves nothing. */
export type ServerState = 'running' | 'lameDuck' | 'stopped';

/** A running broker. Create one with {@link createServer}. */
export class NatsServer extends EventEmitter<NatsServerEvents> implements AsyncDisposable {
  private options_: ResolvedOptions;
  private core: BrokerCore;
  private cluster: ClusterManager | null = null;
  private clusterPort_ = 0;
  /** Peer server names routes are refused to (set by `createCluster()` partitions). */
  private blockedPeers: readonly string[] = [];
  private tcp: TcpServer | null = null;
  private ws: WebSocketListener | null = null;
  private wsPort_ = 0;
  private monitor: MonitorHandle | null = null;
  private monitorPort_ = 0;
  private startedAt = new Date();
  private configLoadedAt = new Date();
  private port_ = 0;
  private state_: ServerState = 'stopped';
  /** Settles when the current listener has closed and all its sockets are gone. */
  private listenerClosed: Promise<void> = Promise.resolve();
  private lameDuckTimer: NodeJS.Timeout | null = null;

  /** @internal Use {@link createServer}. */
  constructor(options: ResolvedOptions) {
    super();
    this.options_ = options;
    this.core = this.newCore();
  }

  private newCore(): BrokerCore {
    const core = new BrokerCore(this.options);
    core.onSlowConsumer = (client, reason, pendingBytes) => {
      if (this.listenerCount('slowConsumer') === 0) return;
      this.emit('slowConsumer', {
        cid: client.cid,
        name: client.name,
        reason: reason as SlowConsumerEvent['reason'],
        pendingBytes,
      });
    };
    return core;
  }

  /** @internal Binds the listener; used by {@link createServer} and {@link restart}. */
  async listen(port = this.options.port): Promise<void> {
    const host = this.options.host;
    const tcp = createTcpServer({ noDelay: true }, (socket: Socket) => this.core.accept(socket));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        tcp.off('listening', onListening);
        reject(new ListenError(host, port, err));
      };
      const onListening = (): void => {
        tcp.off('error', onError);
        resolve();
      };
      tcp.once('error', onError);
      tcp.once('listening', onListening);
      tcp.listen({ host, port, exclusive: true });
    });
    // Accept errors (e.g. EMFILE) must not crash the process; nats-server logs them the same way.
    tcp.on('error', (err) => this.core.log.error(`Temporary Client Accept Error (${err.message})`));
    const address = tcp.address();
    this.port_ = typeof address === 'object' && address !== null ? address.port : port;
    this.core.port = this.port_;
    const closeTcp = (): Promise<void> => new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (this.options.websocket !== null) {
      try {
        const core = this.core;
        this.ws = await startWebSocketListener(
          this.options.websocket,
          this.wsPort_ || this.options.websocket.port,
          (conn) => core.accept(conn.asSocket(), true),
          core.log,
        );
      } catch (err) {
        await closeTcp();
        throw err;
      }
      this.wsPort_ = this.ws.port;
      this.core.wsPort = this.wsPort_;
    }
    const closeWs = async (): Promise<void> => {
      await this.ws?.close();
      this.ws = null;
    };
    if (this.options.cluster !== null) {
      const cluster = new ClusterManager(this.core, this.options.cluster);
      try {
        await cluster.start(this.clusterPort_ || this.options.cluster.port);
      } catch (err) {
        await closeWs();
        await closeTcp();
        throw err;
      }
      cluster.setBlocked(this.blockedPeers);
      cluster.onChange = () => this.emit('routesChanged');
      this.clusterPort_ = cluster.port;
      this.cluster = cluster;
    }
    if (this.options.http !== null) {
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      const self = this;
      try {
        this.monitor = await startMonitor(
          {
            // A getter: a reload replaces the options.
            get options() {
              return self.options_;
            },
            core: () => this.core,
            cluster: () => this.cluster,
            startedAt: () => this.startedAt,
            configLoadedAt: () => this.configLoadedAt,
            port: () => this.port_,
            wsPort: () => this.wsPort_,
          },
          this.options.http.host,
          this.monitorPort_ || this.options.http.port,
        );
      } catch (err) {
        await this.cluster?.stop(false);
        this.cluster = null;
        await closeWs();
        await closeTcp();
        throw err;
      }
      this.monitorPort_ = this.monitor.port;
    }
    this.startedAt = new Date();
    this.tcp = tcp;
    this.logStartup();
    const tcpClosed = new Promise<void>((resolve) => tcp.once('close', () => resolve()));
    this.listenerClosed = tcpClosed;
    this.state_ = 'running';
  }

  private logStartup(): void {
    const log = this.core.log;
    const o = this.options_;
    log.info(`Starting nats-embedded (nats-server ${NATS_SERVER_VERSION} protocol)`);
    log.info(`  Name:     ${o.serverName ?? this.core.serverId}`);
    log.info(`  ID:       ${this.core.serverId}`);
    if (this.monitor !== null) log.info(`Starting http monitor on ${hostPort(o.http!.host, this.monitorPort_)}`);
    if (this.cluster !== null) {
      log.info(`Cluster name is ${this.cluster.name}`);
      log.info(`Listening for route connections on ${hostPort(this.cluster.opts.host, this.clusterPort_)}`);
    }
    if (o.websocket !== null) {
      log.info(`Listening for websocket clients on ws://${hostPort(o.websocket.host, this.wsPort_)}`);
      log.warn('Websocket not configured with TLS. DO NOT USE IN PRODUCTION!');
    }
    log.info(`Listening for client connections on ${hostPort(o.host, this.port_)}`);
    log.info('Server is ready');
  }

  /** The options in force, after defaults (durations in ms). `reload()` replaces them. */
  get options(): ResolvedOptions {
    return this.options_;
  }

  /**
   * What runs this server: `'embedded'` (this process) or `'nats-server'` (a real nats-server
   * process; embedded-only features throw `UnsupportedError`).
   */
  get backend(): Backend {
    return this.options_.backend;
  }

  /**
   * Applies new options to the running server, as nats-server's config reload (SIGHUP) does:
   * limits, liveness settings, logging and lame duck settings take effect at once for every
   * connection. Listen addresses, server name, clustering and monitoring cannot change.
   * @throws {ConfigError} an option is invalid, or cannot be changed by a reload
   */
  reload(options: ServerOptions): void {
    const cur = this.options_;
    const next = resolveOptions({ backend: cur.backend, ...options });
    const fixed: Array<[keyof ResolvedOptions, string]> = [
      ['backend', 'backend'], ['host', 'host'], ['serverName', 'serverName'],
    ];
    for (const [key, name] of fixed) {
      if (next[key] !== cur[key]) throw new ConfigError(name, 'cannot be changed by a reload');
    }
    // Ephemeral ports (0) stand for the ports actually bound.
    const bound = (p: number, actual: number): number => (p === 0 ? actual : p);
    if (bound(next.port, this.port_) !== this.port_) throw new ConfigError('port', 'cannot be changed by a reload');
    const clusterKey = (c: ResolvedOptions['cluster']): string =>
      JSON.stringify(c === null ? null : { ...c, port: bound(c.port, this.clusterPort_) });
    if (clusterKey(next.cluster) !== clusterKey(cur.cluster)) throw new ConfigError('cluster', 'cannot be changed by a reload');
    const wsKey = (w: ResolvedOptions['websocket']): string =>
      JSON.stringify(w === null ? null : { ...w, port: bound(w.port, this.wsPort_) });
    if (wsKey(next.websocket) !== wsKey(cur.websocket)) throw new ConfigError('websocket', 'cannot be changed by a reload');
    const httpKey = (h: ResolvedOptions['http']): string =>
      JSON.stringify(h === null ? null : { ...h, port: bound(h.port, this.monitorPort_) });
    if (httpKey(next.http) !== httpKey(cur.http)) throw new ConfigError('http', 'cannot be changed by a reload');
    this.options_ = next;
    this.core.applyOptions(next);
    this.configLoadedAt = new Date();
    this.core.log.info('Reloaded server configuration');
  }

  /** The port clients connect to (the real one when an ephemeral port was asked for). */
  get port(): number {
    return this.port_;
  }

  /** The address the server listens on. */
  get host(): string {
    return this.options.host;
  }

  /** A URL for clients, e.g. `nats://127.0.0.1:4222`. */
  get url(): string {
    return `nats://${urlHost(this.options.host)}:${this.port_}`;
  }

  /** The INFO clients receive on connect (without the per-connection `client_id`/`client_ip`). */
  get info(): ServerInfo {
    return this.core.info();
  }

  /** The server's id (INFO `server_id`). A restart gives it a new one, as a new process would. */
  get id(): string {
    return this.core.serverId;
  }

  /** The monitoring port when `http` is configured (the real one if ephemeral), else 0. */
  get monitorPort(): number {
    return this.monitorPort_;
  }

  /** `http://host:port` of the monitoring endpoints, or null when `http` is not configured. */
  get monitorUrl(): string | null {
    if (this.options.http === null) return null;
    return `http://${urlHost(this.options.http.host)}:${this.monitorPort_}`;
  }

  /** The websocket port when `websocket` is configured (the real one if ephemeral), else 0. */
  get websocketPort(): number {
    return this.wsPort_;
  }

  /** `ws://host:port` for browser and `wsconnect` clients, or null without `websocket`. */
  get websocketUrl(): string | null {
    if (this.options.websocket === null) return null;
    return `ws://${urlHost(this.options.websocket.host)}:${this.wsPort_}`;
  }

  /** The route port when clustering is configured (the real one if ephemeral), else 0. */
  get clusterPort(): number {
    return this.clusterPort_;
  }

  /** `nats-route://host:port` for other servers' `cluster.routes`, or null without clustering. */
  get routeUrl(): string | null {
    return this.cluster?.routeUrl ?? null;
  }

  /** The cluster name in use (configured, or adopted from peers), or null without clustering. */
  get clusterName(): string | null {
    return this.cluster?.name ?? null;
  }

  /** The servers this one has a route to now. */
  routes(): RoutePeer[] {
    return this.cluster?.peers() ?? [];
  }

  /**
   * Refuses routes to the named peer servers (by server name) and cuts existing ones, until
   * called again without them. `createCluster().partition()` is built on this.
   */
  blockRoutes(serverNames: readonly string[]): void {
    this.blockedPeers = [...serverNames];
    this.cluster?.setBlocked(this.blockedPeers);
  }

  /** The peer server names set by {@link blockRoutes}. */
  blockedRouteNames(): readonly string[] {
    return this.blockedPeers;
  }

  /** `running`, `lameDuck` or `stopped`. */
  get state(): ServerState {
    return this.state_;
  }

  /** True when the server is not serving (after `close()`, `kill()`, or a finished lame duck). */
  get closed(): boolean {
    return this.state_ === 'stopped';
  }

  /** Number of client connections open now. */
  get connectionCount(): number {
    return this.core.clients.size;
  }

  /** The client connections open now. */
  clients(): ClientSummary[] {
    return [...this.core.clients.values()].map(summarize);
  }

  /** The client connections open now, with their message counters. */
  connections(): ConnectionInfo[] {
    return [...this.core.clients.values()].map((c) => ({
      ...summarize(c),
      inMsgs: c.inMsgs,
      outMsgs: c.outMsgs,
      inBytes: c.inBytes,
      outBytes: c.outBytes,
      pendingBytes: c.out.queued + c.socket.writableLength,
    }));
  }

  /** Every client subscription, or those of one connection. */
  subscriptions(filter: { cid?: number } = {}): SubscriptionInfo[] {
    const out: SubscriptionInfo[] = [];
    for (const c of this.core.clients.values()) {
      if (filter.cid !== undefined && c.cid !== filter.cid) continue;
      for (const s of c.subs.values()) {
        out.push({ cid: c.cid, clientName: c.name, subject: s.subject, queue: s.queue, sid: s.sid, msgs: s.nm, max: s.max });
      }
    }
    return out;
  }

  /**
   * Resolves once `count` subscriptions (default 1: local, or interest from other servers)
   * match the literal `subject` — the usual race in tests is publishing before the consumer's
   * SUB has reached the server.
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   */
  waitForSubscription(subject: string, options: WaitOptions & { count?: number } = {}): Promise<void> {
    const count = options.count ?? 1;
    return this.waitFor(() => {
      let n = 0;
      for (const acc of this.core.accounts.values()) {
        const r = acc.sublist.match(subject);
        n += r.psubs.length;
        for (const g of r.qsubs) n += g.length;
      }
      return n >= count;
    }, `${count} subscription(s) matching "${subject}"`, options.timeoutMs);
  }

  /**
   * Resolves once at least `n` client connections are open.
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   */
  waitForConnections(n: number, options: WaitOptions = {}): Promise<void> {
    return this.waitFor(() => this.core.clients.size >= n, `${n} connection(s)`, options.timeoutMs);
  }

  private waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new WaitTimeoutError(what, timeoutMs));
      }, timeoutMs);
      // Routes and restarts replace parts of the state: poll as well as listen.
      const poll = setInterval(check, 25);
      const cleanup = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.core.changeWaiters.delete(check);
      };
      this.core.changeWaiters.add(check);
    });
  }

  /**
   * Calls `callback` with every message the server routes (matching `options.subject`), with
   * its headers, reply subject and the publisher's client id. Returns a function that stops it.
   * Costs nothing while no tap is registered.
   */
  onMessage(callback: (msg: TappedMessage) => void, options: TapOptions = {}): () => void {
    const pattern = options.subject ?? '>';
    const tap = (msg: TappedMessage): void => {
      if (subjectMatches(pattern, msg.subject)) callback(msg);
    };
    const core = this.core;
    if (core.taps === null) core.taps = new Set();
    core.taps.add(tap);
    return () => {
      core.taps?.delete(tap);
      if (core.taps?.size === 0) core.taps = null;
    };
  }

  /**
   * The messages the server routes, as an async iterator (see {@link onMessage}). Breaking out
   * of the loop stops the tap.
   *
   * ```ts
   * for await (const msg of server.messages({ subject: 'orders.>' })) { ... }
   * ```
   */
  messages(options: TapOptions = {}): AsyncIterableIterator<TappedMessage> {
    const queue: TappedMessage[] = [];
    let wake: (() => void) | null = null;
    let done = false;
    const stop = this.onMessage((m) => {
      queue.push(m);
      wake?.();
    }, options);
    const iterator: AsyncIterableIterator<TappedMessage> = {
      next: async () => {
        while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        wake = null;
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        return { value: undefined, done: true };
      },
      return: async () => {
        done = true;
        stop();
        wake?.();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Makes the server hang, as a stuck process looks to clients: it stops reading and writing
   * without closing anything (clients' PINGs go unanswered). {@link resume} undoes it.
   */
  pause(): void {
    const core = this.core;
    if (core.faults.paused) return;
    core.faults.paused = true;
    for (const c of core.clients.values()) c.socket.pause();
    this.cluster?.setPaused(true);
  }

  /** Ends {@link pause}: reading resumes and everything queued meanwhile is written. */
  resume(): void {
    const core = this.core;
    if (!core.faults.paused) return;
    core.faults.paused = false;
    for (const c of core.clients.values()) {
      c.socket.resume();
      core.markForFlush(c);
    }
    this.cluster?.setPaused(false);
    core.flushAll();
  }

  /** Delays every write to clients by `ms` (0 turns it off), order preserved. */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new ConfigError('latency', `must be >= 0 ms, got ${ms}`);
    this.core.faults.latencyMs = ms;
  }

  /**
   * Drops published messages on `subject` (wildcards allowed): a `ratio` of them at random
   * (seeded by the `seed` option), or the next `count`. Returns a handle to read and cancel it.
   */
  dropMessages(options: DropOptions): DropHandle {
    const ratio = options.ratio;
    const count = options.count;
    if (typeof options.subject !== 'string' || options.subject === '') throw new ConfigError('subject', 'must be a subject');
    if (count === undefined && (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1))) {
      throw new ConfigError('ratio', 'must be between 0 and 1');
    }
    if (count !== undefined && (!Number.isInteger(count) || count < 0)) throw new ConfigError('count', 'must be a non-negative integer');
    const rule: DropRule = { subject: options.subject, ratio: ratio ?? 0, remaining: count ?? null, dropped: 0 };
    const core = this.core;
    core.drops = [...(core.drops ?? []), rule];
    return {
      get dropped() {
        return rule.dropped;
      },
      cancel: () => {
        const left = (core.drops ?? []).filter((r) => r !== rule);
        core.drops = left.length > 0 ? left : null;
      },
    };
  }

  /** Undoes every fault: resumes, removes latency and drop rules. */
  resetFaults(): void {
    this.resume();
    this.core.faults.latencyMs = 0;
    this.core.drops = null;
  }

  /** Drops one client connection by id (as nats-server's kick). Returns false if there is none. */
  disconnectClient(cid: number): boolean {
    const c = this.core.clients.get(cid);
    if (c === undefined) return false;
    c.close(CloseReason.Kicked, false);
    return true;
  }

  /** Counters since the server (re)started. */
  stats(): ServerStats {
    const s = this.core.stats;
    return {
      inMsgs: s.inMsgs,
      inBytes: s.inBytes,
      outMsgs: s.outMsgs,
      outBytes: s.outBytes,
      slowConsumers: s.slowConsumers,
      connections: this.core.clients.size,
      totalConnections: s.totalConnections,
      subscriptions: this.core.subscriptionCount,
    };
  }

  /**
   * Graceful shutdown: stops accepting, flushes what is queued to each client, closes every
   * connection and frees the port. Resolves when all sockets are closed. Safe to call twice.
   */
  close(): Promise<void> {
    return this.stop(true);
  }

  /**
   * Abrupt shutdown, as if the process died: sockets are destroyed without flushing anything.
   * Clients see the connection reset and start their reconnect logic.
   */
  kill(): Promise<void> {
    return this.stop(false);
  }

  /**
   * Stops the server (killed by default, or closed gracefully) and listens again on the same
   * port after `downMs`, with a new server id. Clients reconnect to it; subscriptions are not
   * kept (clients re-send them on reconnect). Works on a stopped server too.
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    const downMs = options.downMs ?? 0;
    if (!Number.isFinite(downMs) || downMs < 0) throw new RangeError('restart: downMs must be >= 0');
    await this.stop(options.graceful === true);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    this.core = this.newCore();
    await this.listen(this.port_);
  }

  /**
   * Lame duck mode, as nats-server's (SIGUSR2 / `--signal ldm`): stop accepting, send clients an
   * INFO with `ldm: true`, wait the grace period, then close the clients one by one spread over
   * the rest of `durationMs`, then shut down. Resolves when the server has stopped.
   *
   * @param durationMs total duration (default `lameDuckDuration`, 2 minutes as nats-server)
   */
  async lameDuck(durationMs = this.options.lameDuckDurationMs): Promise<void> {
    if (!Number.isFinite(durationMs) || durationMs <= 0) throw new RangeError('lameDuck: durationMs must be > 0');
    if (this.state_ !== 'running') throw new ServerClosedError('enter lame duck mode');
    this.state_ = 'lameDuck';
    this.tcp!.close();
    this.ws?.stopAccepting();
    this.cluster?.sendLameDuck();
    this.core.sendLameDuckInfo();
    const grace = Math.min(this.options.lameDuckGracePeriodMs, durationMs);
    let spread = durationMs - grace;
    if (spread <= 0) spread = 1000;
    await this.sleepInLameDuck(grace);
    const clients = [...this.core.clients.values()];
    // Between closes: a random pause of at least half the even share, at most 1 s (nats-server).
    const share = clients.length > 0 ? Math.min(spread / clients.length, 1000) : 0;
    for (let i = 0; i < clients.length && this.state_ === 'lameDuck'; i++) {
      clients[i].close(CloseReason.ServerShutdown);
      this.core.flushAll();
      if (i < clients.length - 1 && share >= 1) await this.sleepInLameDuck(Math.max(share / 2, Math.random() * share));
    }
    await this.stop(true);
  }

  private sleepInLameDuck(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.lameDuckTimer = setTimeout(() => {
        this.lameDuckTimer = null;
        resolve();
      }, ms);
    });
  }

  /**
   * Drops client connections (all, or those `filter` selects) without stopping the server,
   * to exercise client reconnect logic. Returns how many were dropped.
   */
  disconnectClients(filter?: (client: ClientSummary) => boolean): number {
    let n = 0;
    for (const client of [...this.core.clients.values()]) {
      if (filter !== undefined && !filter(summarize(client))) continue;
      client.close(CloseReason.Kicked, false);
      n++;
    }
    return n;
  }

  /** `await using server = await createServer()` closes the server at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private stop(graceful: boolean): Promise<void> {
    if (this.lameDuckTimer !== null) {
      clearTimeout(this.lameDuckTimer);
      this.lameDuckTimer = null;
    }
    if (this.state_ === 'stopped') return this.listenerClosed;
    this.state_ = 'stopped';
    const tcp = this.tcp!;
    this.tcp = null;
    if (tcp.listening) tcp.close();
    const cluster = this.cluster;
    this.cluster = null;
    const routesClosed = cluster?.stop(graceful) ?? Promise.resolve();
    const monitor = this.monitor;
    this.monitor = null;
    const monitorClosed = monitor?.close() ?? Promise.resolve();
    const ws = this.ws;
    this.ws = null;
    const wsClosed = ws?.close() ?? Promise.resolve();
    for (const client of [...this.core.clients.values()]) client.close(CloseReason.ServerShutdown, graceful);
    this.core.flushAll();
    const closed = Promise.all([this.listenerClosed, routesClosed, monitorClosed, wsClosed]).then(() => undefined);
    // A second stop() waits for all of it too.
    this.listenerClosed = closed;
    return closed;
  }
}

function summarize(c: Client): ClientSummary {
  return {
    cid: c.cid,
    name: c.name,
    lang: c.lang,
    version: c.version,
    ip: c.socket.remoteAddress ?? '',
    port: c.socket.remotePort ?? 0,
    subscriptions: c.subs.size,
  };
}

/** @internal `host:port`, IPv6 literals in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** @internal Host part of a URL: IPv6 literals go in brackets; the wildcard address means loopback. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts a broker and resolves once it is listening.
 *
 * @example
 * ```ts
 * const server = await createServer();            // 127.0.0.1, ephemeral port
 * const nc = await connect({ servers: server.url });
 * await nc.close();
 * await server.close();
 * ```
 * With `backend: 'nats-server'` (or `NATS_EMBEDDED_BACKEND=nats-server`) it starts a real
 * nats-server process with the equivalent configuration instead, and resolves once it is ready.
 *
 * @throws {ConfigError} an option is invalid (the error names it), or the nats-server binary
 *   is missing or refused the configuration
 * @throws {ListenError} the address cannot be bound
 * @throws {UnsupportedError} an option only the embedded backend has, with `backend: 'nats-server'`
 */
export async function createServer(options?: ServerOptions): Promise<NatsServer> {
  const resolved = resolveOptions(options);
  if (resolved.backend === 'nats-server') {
    // Loaded on demand: the subclass imports this module.
    const { startNatsServerProcess } = await import('./nats-server-backend.js');
    return startNatsServerProcess(resolved);
  }
  const server = new NatsServer(resolved);
  await server.listen();
  return server;
}
