/**
 * `NatsServer`: the public handle of one broker — its TCP listener, lifecycle controls and
 * events, around a {@link BrokerCore}.
 */
import { EventEmitter } from 'node:events';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { ConfigError, InvalidArgumentError, ServerClosedError, WaitTimeoutError } from '../errors.js';
import { subjectMatches } from '../subject/subject.js';
import { NATS_SERVER_VERSION } from '../protocol/constants.js';
import { hostPort, listen, urlHost } from '../io/listen.js';
import { BrokerCore, type ServerInfo } from '../broker/core.js';
import { type Client, CloseReason } from '../broker/client.js';
import { resolveOptions, type Backend, type Duration, type ResolvedOptions, type ServerOptions } from '../config/options.js';
import { rethrowAsync, TestControls, warnInternal, type DropRule, type FaultSink, type TappedMessage } from '../broker/controls.js';
import { Lifecycle } from './lifecycle.js';
import { countArg, durationArg, functionArg, objectArg, subjectArg } from './arguments.js';
import { ClusterManager, type RoutePeer } from '../cluster/cluster.js';
import { startMonitor, type MonitorHandle } from '../monitor/monitor.js';
import { startWebSocketListener, type WebSocketListener } from '../io/websocket.js';

export type { RoutePeer } from '../cluster/cluster.js';

export type { ServerInfo } from '../broker/core.js';
export type { TappedMessage } from '../broker/controls.js';

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
  /** How long to wait: ms, or a duration string such as `'2s'`. Default 5000 ms. */
  timeoutMs?: Duration;
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
  /**
   * Errors of the broker's own caught while serving a connection (each closed that connection),
   * since the server was created. A bug: tests can assert it stays 0.
   */
  readonly internalErrors: number;
}

/** Events of {@link NatsServer}. */
export interface NatsServerEvents {
  /** A client was dropped because it could not keep up (`maxPending` or `writeDeadline`). */
  slowConsumer: [event: SlowConsumerEvent];
  /** A route to a peer server came up or went down. */
  routesChanged: [];
  /**
   * User code the server called (a tap, an event listener, the logger) threw. Without a
   * listener the error is rethrown asynchronously (an uncaught exception, which test runners
   * report); the client the broker was serving is never affected.
   */
  error: [error: unknown];
  /** The broker caught an error of its own (a bug) and closed the connection it was serving. */
  internalError: [error: unknown];
}

/** Options of {@link NatsServer.restart}. */
export interface RestartOptions {
  /**
   * Time the server stays down before it listens again: ms, or a duration string such as
   * `'500ms'`. Default 0.
   */
  downMs?: Duration;
  /** Close gracefully (flush, then close) instead of killing. Default false: like a crash. */
  graceful?: boolean;
}

/** Options of {@link NatsServer.reload}. */
export interface ReloadOptions {
  /**
   * Replace every option instead of patching: options not given return to their defaults, as
   * when nats-server re-reads its whole config file on SIGHUP. Default false.
   */
  replace?: boolean;
}

/** Lifecycle state: `running` accepts clients; `lameDuck` is draining; `stopped` serves nothing. */
export type ServerState = 'running' | 'lameDuck' | 'stopped';

/** Listeners bound by one start of the server, released together. */
interface Listeners {
  readonly tcp: TcpServer;
  readonly port: number;
  readonly ws: WebSocketListener | null;
  readonly cluster: ClusterManager | null;
  readonly monitor: MonitorHandle | null;
}

/**
 * A running broker. Create one with {@link createServer}.
 *
 * Lifecycle: `close()` is final — nothing listens again, and every pending operation settles
 * (`restart()` rejects with {@link ServerClosedError}, `lameDuck()` resolves, waits reject,
 * `messages()` iterators end). `kill()` is a crash the handle can `restart()` from; taps, fault
 * rules and pending waits stay in force across `kill()` and `restart()`.
 *
 * User code the server calls (taps, event listeners, the `logger`) never costs a client
 * anything: what it throws is emitted as an `'error'` event, or, without an `'error'` listener,
 * rethrown asynchronously so the test runner reports it.
 */
export class NatsServer extends EventEmitter<NatsServerEvents> implements AsyncDisposable {
  private options_: ResolvedOptions;
  /** The options as given (before defaults): `reload()` patches them. */
  private input: ServerOptions;
  private core: BrokerCore;
  /** Test controls and fault state: kept across restarts. */
  private readonly controls = new TestControls();
  /** @internal Lifecycle bookkeeping shared with the `nats-server` backend. */
  protected readonly lifecycle = new Lifecycle();
  private readonly faultSink: FaultSink = {
    userError: (err) => this.userError(err),
    internalError: (err, who) => {
      warnInternal(err, who);
      this.safeEmit('internalError', err);
    },
  };
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
  /** A start (first listen or restart) in progress. */
  private starting: Promise<void> | null = null;

  /** @internal Use {@link createServer}. */
  constructor(options: ResolvedOptions, input: ServerOptions = {}) {
    super();
    this.options_ = options;
    this.input = input;
    this.core = this.newCore();
  }

  private newCore(): BrokerCore {
    const core = new BrokerCore(this.options, this.controls, this.faultSink);
    core.onSlowConsumer = (client, reason, pendingBytes) => {
      if (this.listenerCount('slowConsumer') === 0) return;
      this.safeEmit('slowConsumer', {
        cid: client.cid,
        name: client.name,
        reason: reason as SlowConsumerEvent['reason'],
        pendingBytes,
      });
    };
    return core;
  }

  /** @internal User code threw: an `'error'` event, or (without a listener) an uncaught exception. */
  protected userError(err: unknown): void {
    if (this.listenerCount('error') === 0) return rethrowAsync(err);
    try {
      this.emit('error', err);
    } catch (thrown) {
      rethrowAsync(thrown);
    }
  }

  /** Emits an event whose listeners are user code: what they throw takes the user-error path. */
  private safeEmit<K extends keyof NatsServerEvents>(event: K, ...args: NatsServerEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: NatsServerEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.userError(err);
    }
  }

  /**
   * @internal Binds the listeners; used by {@link createServer} and {@link restart}. Rejects
   * with {@link ServerClosedError} (and releases what it bound) when `close()` or `kill()`
   * interrupts it.
   */
  async listen(port = this.options.port): Promise<void> {
    const start = this.start(port, this.lifecycle.generation);
    this.starting = start;
    try {
      await start;
    } finally {
      if (this.starting === start) this.starting = null;
    }
  }

  /**
   * @internal Binds everything; an interruption (`lifecycle.generation` moved on) releases what
   * was bound and rejects with `ServerClosedError`.
   */
  protected async start(port: number, generation: number): Promise<void> {
    const o = this.options;
    const core = this.core;
    const release: Array<() => Promise<void>> = [];
    const check = (): void => {
      if (this.lifecycle.generation !== generation) throw this.lifecycle.interrupted('start the server');
    };
    try {
      const tcp = createTcpServer({ noDelay: true }, (socket: Socket) => core.accept(socket));
      // Accept errors (e.g. EMFILE) must not crash the process; nats-server logs them the same way.
      const bound = await listen(tcp, o.host, port, (err) => core.log.error(`Temporary Client Accept Error (${err.message})`));
      release.push(() => new Promise<void>((resolve) => tcp.close(() => resolve())));
      check();
      core.port = bound;
      let ws: WebSocketListener | null = null;
      if (o.websocket !== null) {
        ws = await startWebSocketListener(o.websocket, this.wsPort_ || o.websocket.port, (conn) => core.accept(conn.asSocket(), true), core.log);
        const w = ws;
        release.push(() => w.close());
        check();
        core.wsPort = ws.port;
      }
      let cluster: ClusterManager | null = null;
      if (o.cluster !== null) {
        const c = new ClusterManager(core, o.cluster);
        release.push(() => c.stop(false));
        await c.start(this.clusterPort_ || o.cluster.port);
        check();
        c.setBlocked(this.blockedPeers);
        if (this.controls.paused) c.setPaused(true);
        c.onChange = () => this.safeEmit('routesChanged');
        cluster = c;
      }
      let monitor: MonitorHandle | null = null;
      if (o.http !== null) {
        // eslint-disable-next-line @typescript-eslint/no-this-alias
        const self = this;
        monitor = await startMonitor(
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
          o.http.host,
          this.monitorPort_ || o.http.port,
        );
        const m = monitor;
        release.push(() => m.close());
        check();
      }
      this.commit({ tcp, port: bound, ws, cluster, monitor });
    } catch (err) {
      for (const r of release.reverse()) await r();
      throw err;
    }
  }

  /** The listeners are bound: the server runs. */
  private commit(l: Listeners): void {
    this.tcp = l.tcp;
    this.port_ = l.port;
    this.ws = l.ws;
    if (l.ws !== null) this.wsPort_ = l.ws.port;
    this.cluster = l.cluster;
    if (l.cluster !== null) this.clusterPort_ = l.cluster.port;
    this.monitor = l.monitor;
    if (l.monitor !== null) this.monitorPort_ = l.monitor.port;
    this.startedAt = new Date();
    this.logStartup();
    this.listenerClosed = new Promise<void>((resolve) => l.tcp.once('close', () => resolve()));
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
   * Applies options to the running server, as nats-server's config reload (SIGHUP) does: limits,
   * liveness settings, authorization, logging and lame duck settings take effect at once for
   * every connection. The options given are a patch over the current ones (the others keep
   * their values; a block such as `authorization` is replaced as a whole), unless
   * `{ replace: true }`. Listen addresses and ports, server name, clustering, websocket and
   * monitoring cannot change: giving them their current values is fine, other values throw.
   * The reloaded options also apply after a `restart()`.
   * @throws {ConfigError} an option is invalid, or cannot be changed by a reload
   * @throws {ServerClosedError} the server was closed
   */
  reload(options: ServerOptions, reloadOptions: ReloadOptions = {}): void {
    if (this.lifecycle.disposed) throw new ServerClosedError('reload');
    objectArg(reloadOptions, 'reloadOptions');
    const cur = this.options_;
    const input: ServerOptions = reloadOptions.replace === true ? { ...options } : { ...this.input, ...options };
    const next = resolveOptions({ ...input, backend: options.backend ?? cur.backend });
    const fixed: Array<[keyof ResolvedOptions, string]> = [
      ['backend', 'backend'], ['host', 'host'], ['serverName', 'serverName'],
    ];
    for (const [key, name] of fixed) {
      if (next[key] !== cur[key]) throw new ConfigError(name, 'cannot be changed by a reload');
    }
    // Ephemeral ports (0) stand for the ports actually bound.
    const bound = (p: number, actual: number): number => (p === 0 ? actual : p);
    if (bound(next.port, this.port_) !== bound(cur.port, this.port_)) throw new ConfigError('port', 'cannot be changed by a reload');
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
    this.input = input;
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
   * SUB has reached the server. The wait goes on across `kill()` and `restart()`.
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   * @throws {ServerClosedError} at once when the server is stopped (and not restarting), or
   *   when it is closed while waiting
   */
  waitForSubscription(subject: string, options: WaitOptions & { count?: number } = {}): Promise<void> {
    return settle(() => {
      const count = countArg(options.count ?? 1, 'count');
      return this.waitFor(() => this.interestCount(subject) >= count, `${count} subscription(s) matching "${subject}"`, options.timeoutMs);
    });
  }

  private interestCount(subject: string): number {
    let n = 0;
    for (const acc of this.core.accounts.values()) {
      const r = acc.sublist.match(subject);
      n += r.psubs.length;
      for (const g of r.qsubs) n += g.length;
    }
    return n;
  }

  /**
   * Resolves once at least `n` client connections are open.
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   * @throws {ServerClosedError} as {@link waitForSubscription}
   */
  waitForConnections(n: number, options: WaitOptions = {}): Promise<void> {
    return settle(() => this.waitFor(() => this.core.clients.size >= countArg(n, 'n'), `${n} connection(s)`, options.timeoutMs));
  }

  /** @internal True when nothing runs and nothing is about to (for waits that would never end). */
  protected get unavailable(): boolean {
    const lc = this.lifecycle;
    return lc.disposed || (this.state === 'stopped' && lc.restarting === 0 && this.starting === null);
  }

  private waitFor(cond: () => boolean, what: string, timeout: Duration | undefined): Promise<void> {
    const timeoutMs = durationArg(timeout, 'timeoutMs', 5000);
    if (this.unavailable) return Promise.reject(new ServerClosedError(`wait for ${what}`));
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
      const unregister = this.lifecycle.whenDisposed(() => {
        cleanup();
        reject(new ServerClosedError(`wait for ${what}`, 'the server was closed'));
      });
      const cleanup = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        unregister();
        this.controls.changeWaiters.delete(check);
      };
      this.controls.changeWaiters.add(check);
    });
  }

  /**
   * Calls `callback` with every message the server routes (matching `options.subject`), with
   * its headers, reply subject and the publisher's client id. Returns a function that stops it.
   * Costs nothing while no tap is registered; stays registered across `kill()` and `restart()`.
   * What `callback` throws never reaches the publisher (see the class notes on user code).
   * @throws {InvalidArgumentError} `callback` is not a function, or `options.subject` is not a subject
   * @throws {ServerClosedError} the server was closed
   */
  onMessage(callback: (msg: TappedMessage) => void, options: TapOptions = {}): () => void {
    functionArg(callback, 'callback');
    const pattern = subjectArg(objectArg(options, 'options')?.subject, 'subject', '>');
    if (this.lifecycle.disposed) throw new ServerClosedError('tap messages');
    const tap = (msg: TappedMessage): void => {
      if (subjectMatches(pattern, msg.subject)) callback(msg);
    };
    const controls = this.controls;
    if (controls.taps === null) controls.taps = new Set();
    controls.taps.add(tap);
    return () => {
      controls.taps?.delete(tap);
      if (controls.taps?.size === 0) controls.taps = null;
    };
  }

  /**
   * The messages the server routes, as an async iterator (see {@link onMessage}). Breaking out
   * of the loop stops the tap; `close()` ends the iteration.
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
    const finish = (): void => {
      if (done) return;
      done = true;
      stop();
      unregister();
      wake?.();
    };
    const unregister = this.lifecycle.whenDisposed(finish);
    const iterator: AsyncIterableIterator<TappedMessage> = {
      next: async () => {
        while (queue.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        wake = null;
        if (queue.length > 0) return { value: queue.shift()!, done: false };
        return { value: undefined, done: true };
      },
      return: async () => {
        finish();
        queue.length = 0;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Makes the server hang, as a stuck process looks to clients: it stops reading and writing
   * without closing anything (clients' PINGs go unanswered). {@link resume} undoes it. A
   * paused server stays paused across `restart()`.
   */
  pause(): void {
    const controls = this.controls;
    if (controls.paused) return;
    controls.paused = true;
    for (const c of this.core.clients.values()) c.socket.pause();
    this.cluster?.setPaused(true);
  }

  /** Ends {@link pause}: reading resumes and everything queued meanwhile is written. */
  resume(): void {
    const controls = this.controls;
    if (!controls.paused) return;
    controls.paused = false;
    const core = this.core;
    for (const c of core.clients.values()) {
      c.socket.resume();
      core.markForFlush(c);
    }
    this.cluster?.setPaused(false);
    core.flushAll();
  }

  /**
   * Delays every write to clients by `ms` (0 turns it off), order preserved; in force across
   * `restart()` until changed.
   * @throws {InvalidArgumentError} `ms` is not a duration >= 0
   */
  setLatency(ms: Duration): void {
    this.controls.latencyMs = durationArg(ms, 'ms', 0, true);
  }

  /**
   * Drops published messages on `subject` (wildcards allowed): a `ratio` of them at random
   * (seeded by the `seed` option), or the next `count`. Returns a handle to read and cancel it.
   * The rule stays in force across `restart()` until cancelled or `resetFaults()`.
   * @throws {InvalidArgumentError} a field is invalid
   */
  dropMessages(options: DropOptions): DropHandle {
    if (objectArg(options, 'options') === undefined) throw new InvalidArgumentError('options', 'must be { subject, ratio } or { subject, count }');
    const subject = subjectArg(options.subject, 'subject', '');
    if (subject === '') throw new InvalidArgumentError('subject', 'must be a valid subject, got undefined');
    const { ratio, count } = options;
    if (count === undefined && (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1))) {
      throw new InvalidArgumentError('ratio', `must be between 0 and 1, got ${String(ratio)}`);
    }
    if (count !== undefined) countArg(count, 'count');
    const rule: DropRule = { subject, ratio: ratio ?? 0, remaining: count ?? null, dropped: 0 };
    const controls = this.controls;
    controls.drops = [...(controls.drops ?? []), rule];
    return {
      get dropped() {
        return rule.dropped;
      },
      cancel: () => {
        const left = (controls.drops ?? []).filter((r) => r !== rule);
        controls.drops = left.length > 0 ? left : null;
      },
    };
  }

  /** Undoes every fault: resumes, removes latency and drop rules. */
  resetFaults(): void {
    this.resume();
    this.controls.latencyMs = 0;
    this.controls.drops = null;
  }

  /** Drops one client connection by id (as nats-server's kick). Returns false if there is none. */
  disconnectClient(cid: number): boolean {
    const c = this.core.clients.get(cid);
    if (c === undefined) return false;
    c.close(CloseReason.Kicked, false);
    return true;
  }

  /** Counters since the server (re)started; `internalErrors` since it was created. */
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
      internalErrors: this.controls.internalErrors,
    };
  }

  /**
   * Graceful shutdown, for good: stops accepting, flushes what is queued to each client, closes
   * every connection and frees the ports. Resolves when all sockets are closed. Interrupts a
   * pending `restart()` (it rejects with {@link ServerClosedError}) or `lameDuck()` (it
   * resolves), ends `messages()` iterators and rejects pending waits. Safe to call twice.
   */
  close(): Promise<void> {
    this.lifecycle.dispose();
    return this.afterStart(() => this.stop(true));
  }

  /**
   * Abrupt shutdown, as if the process died: sockets are destroyed without flushing anything.
   * Clients see the connection reset and start their reconnect logic. A pending `restart()` is
   * interrupted (rejects with {@link ServerClosedError}); the handle can `restart()` again.
   */
  kill(): Promise<void> {
    this.lifecycle.interrupt();
    return this.afterStart(() => this.stop(false));
  }

  /** Runs `stop` once a start in progress (which an interruption makes roll back) has settled. */
  private afterStart(stop: () => Promise<void>): Promise<void> {
    const starting = this.starting;
    return starting === null ? stop() : starting.then(stop, stop);
  }

  /**
   * Stops the server (killed by default, or closed gracefully) and listens again on the same
   * ports after `downMs`, with a new server id. Clients reconnect to it; subscriptions are not
   * kept (clients re-send them on reconnect); taps, fault rules and reloaded options are.
   * Works on a killed server too.
   * @throws {ServerClosedError} the server was closed, or `close()`, `kill()` or another
   *   `restart()` interrupted this one (nothing listens then)
   * @throws {InvalidArgumentError} `downMs` is not a duration >= 0
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    const downMs = durationArg(objectArg(options, 'options')?.downMs, 'downMs', 0, true);
    const lc = this.lifecycle;
    if (lc.disposed) throw new ServerClosedError('restart');
    lc.interrupt();
    const generation = lc.generation;
    lc.restarting++;
    try {
      await this.afterStart(() => this.stop(options.graceful === true));
      if (downMs > 0) await lc.sleep(downMs);
      if (lc.generation !== generation) throw lc.interrupted('restart');
      this.core = this.newCore();
      await this.listen(this.port_);
    } finally {
      lc.restarting--;
    }
  }

  /**
   * Lame duck mode, as nats-server's (SIGUSR2 / `--signal ldm`): stop accepting; with no client
   * connected, shut down at once; otherwise send clients an INFO with `ldm: true`, wait the
   * grace period, then close the clients one by one spread over the rest of `durationMs`, then
   * shut down. Resolves when the server has stopped — also when `close()` or `kill()` stops it
   * first. The handle can `restart()` afterwards.
   *
   * @param durationMs total duration: ms or a duration string (default `lameDuckDuration`, 2
   *   minutes as nats-server)
   * @throws {ServerClosedError} the server is not running
   * @throws {InvalidArgumentError} `durationMs` is not a positive duration
   */
  async lameDuck(durationMs?: Duration): Promise<void> {
    const total = durationArg(durationMs, 'durationMs', this.options.lameDuckDurationMs);
    if (this.lifecycle.disposed || this.state_ !== 'running') throw new ServerClosedError('enter lame duck mode', 'the server is not running');
    const lc = this.lifecycle;
    const generation = lc.generation;
    this.state_ = 'lameDuck';
    this.tcp!.close();
    this.ws?.stopAccepting();
    const core = this.core;
    // nats-server: with no client to move, lame duck mode is a plain shutdown.
    if (core.clients.size === 0) return this.stop(true);
    this.cluster?.sendLameDuck();
    core.sendLameDuckInfo();
    const grace = Math.min(this.options.lameDuckGracePeriodMs, total);
    let spread = total - grace;
    if (spread <= 0) spread = 1000;
    if (!(await lc.sleep(grace))) return;
    core.log.info('Closing existing clients');
    const clients = [...core.clients.values()];
    // Between closes: a random pause of at least half the even share, at most 1 s (nats-server).
    const share = clients.length > 0 ? Math.min(spread / clients.length, 1000) : 0;
    for (let i = 0; i < clients.length; i++) {
      if (lc.generation !== generation) return;
      clients[i].close(CloseReason.ServerShutdown);
      core.flushAll();
      if (i < clients.length - 1 && share >= 1 && !(await lc.sleep(Math.max(share / 2, Math.random() * share)))) return;
    }
    if (lc.generation === generation) await this.stop(true);
  }

  /**
   * Drops client connections (all, or those `filter` selects) without stopping the server,
   * to exercise client reconnect logic. Returns how many were dropped.
   */
  disconnectClients(filter?: (client: ClientSummary) => boolean): number {
    if (filter !== undefined) functionArg(filter, 'filter');
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

  /** @internal Stops serving (flushing first when `graceful`); resolves when all is closed. */
  protected stop(graceful: boolean): Promise<void> {
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

/** Runs `fn`, turning a synchronous throw (argument validation) into a rejection. */
function settle<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
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
    const { startNatsServerProcess } = await import('../backend/nats-server.js');
    return startNatsServerProcess(resolved);
  }
  const server = new NatsServer(resolved, options);
  await server.listen();
  return server;
}
