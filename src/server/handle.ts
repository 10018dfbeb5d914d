/**
 * `NatsServer`: the public handle of one server, whatever runs it — the broker in this process
 * or a real nats-server process (the {@link ServerBackend}). The handle holds what both share:
 * the lifecycle rules, waits, events and argument checks. Embedded-only features are forwarded
 * to the backend's {@link EmbeddedFeatures}; on the process backend they throw
 * `UnsupportedError` from one place, `embedded()`.
 *
 * Longer than 500 lines on purpose: it is the public class, one documented member per feature;
 * the work is done by the backends and the lifecycle helper.
 */
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, ServerClosedError, UnsupportedError, WaitTimeoutError } from '../errors.js';
import type { Backend, Duration, ResolvedOptions, ServerOptions } from '../config/options.js';
import { rethrowAsync } from '../broker/controls.js';
import { countArg, durationArg, functionArg, objectArg, subjectArg } from './arguments.js';
import type { BackendEvents, EmbeddedFeatures, GatewayInterestMode, GatewayPeers, ServerBackend } from './backend.js';
import { JetStreamViewImpl } from './jetstream-view.js';
import { Lifecycle } from './lifecycle.js';
import type {
  ClientSummary,
  ConnectionInfo,
  DropHandle,
  DropOptions,
  JetStreamView,
  NatsServerEvents,
  ReloadOptions,
  RestartOptions,
  RoutePeer,
  ServerInfo,
  ServerState,
  ServerStats,
  SlowConsumerEvent,
  SubscriptionInfo,
  TapOptions,
  TappedMessage,
  WaitOptions,
} from './types.js';

/** How to do without each embedded-only feature on the process backend. */
const HINTS: Readonly<Record<string, string>> = {
  'reload()': 'restart the server with the new options instead',
  connectionCount: 'use waitForConnections(), or /connz at monitorUrl (option http)',
  'clients()': 'use /connz at monitorUrl (option http)',
  'connections()': 'use /connz at monitorUrl (option http)',
  'subscriptions()': 'use waitForSubscription(), or /subsz at monitorUrl (option http)',
  'stats()': 'use /varz at monitorUrl (option http)',
  'routes()': 'use /routez at monitorUrl (option http)',
  'gateways()': 'use /gatewayz at monitorUrl (option http)',
  'gatewayInterestMode()': 'use /gatewayz?accs=1 at monitorUrl (option http)',
  'jetstreamMetaLeader()': 'use $JS.API.INFO or /jsz?leader-only=true',
  'jetstreamStreamLeader()': "use STREAM.INFO's cluster.leader",
  'jetstreamConsumerLeader()': "use CONSUMER.INFO's cluster.leader",
  'disconnectClient()': 'nats-server 2.9 has no kick; use restart() to drop every client',
  'disconnectClients()': 'nats-server 2.9 has no kick; use restart() to drop every client',
  'expireAckWait()': 'give the consumer a short ack_wait and wait with server.jetstream.waitForConsumer()',
  'dropAcks()': 'a real server cannot lose acks on purpose; skip such tests with this backend',
  'pauseConsumer()': 'nats-server 2.11 has CONSUMER.PAUSE; 2.10 has no pause',
  'resumeConsumer()': 'nats-server 2.11 has CONSUMER.PAUSE; 2.10 has no pause',
};

/** The events only the embedded broker emits. */
const EMBEDDED_EVENTS: ReadonlySet<string | symbol> = new Set(['slowConsumer', 'routesChanged', 'leafnodesChanged']);

/**
 * A running server. Create one with `createServer()`.
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
  private readonly backend_: ServerBackend;
  /** @internal Lifecycle bookkeeping: what `close()`, `kill()` and `restart()` interrupt. */
  protected readonly lifecycle = new Lifecycle();
  /** A start (first listen or restart) in progress. */
  private starting: Promise<void> | null = null;

  /** @internal Use `createServer()`. */
  constructor(backend: (events: BackendEvents) => ServerBackend) {
    super();
    const events: BackendEvents = {
      slowConsumer: (e: SlowConsumerEvent) => {
        if (this.listenerCount('slowConsumer') > 0) this.safeEmit('slowConsumer', e);
      },
      routesChanged: () => this.safeEmit('routesChanged'),
      leafnodesChanged: () => this.safeEmit('leafnodesChanged'),
      userError: (err) => this.userError(err),
      internalError: (err) => this.safeEmit('internalError', err),
    };
    this.backend_ = backend(events);
    if (this.backend_.embedded === null) {
      // Listening for an event the process cannot deliver would wait forever: say so at once.
      (this as EventEmitter).on('newListener', (event: string | symbol) => {
        if (EMBEDDED_EVENTS.has(event)) throw this.unsupported(`on('${String(event)}')`);
      });
    }
  }

  /** The embedded-only features, or `UnsupportedError` naming `feature` on the process backend. */
  private embedded(feature: string): EmbeddedFeatures {
    const e = this.backend_.embedded;
    if (e === null) throw this.unsupported(feature);
    return e;
  }

  private unsupported(feature: string): UnsupportedError {
    return new UnsupportedError(feature, this.backend_.kind, HINTS[feature]);
  }

  /** User code threw: an `'error'` event, or (without a listener) an uncaught exception. */
  private userError(err: unknown): void {
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
   * @internal Starts the server; used by `createServer()` and {@link restart}. Rejects with
   * {@link ServerClosedError} (and releases what it started) when `close()` or `kill()`
   * interrupts it.
   */
  async listen(): Promise<void> {
    const lc = this.lifecycle;
    const generation = lc.generation;
    const start = this.backend_.start(() => lc.generation === generation, () => lc.interrupted('start the server'));
    this.starting = start;
    try {
      await start;
    } finally {
      if (this.starting === start) this.starting = null;
    }
  }

  // ---- What it is -----------------------------------------------------------------------------

  /** The options in force, after defaults (durations in ms). `reload()` replaces them. */
  get options(): ResolvedOptions {
    return this.backend_.options;
  }

  /**
   * What runs this server: `'embedded'` (this process) or `'nats-server'` (a real nats-server
   * process; embedded-only features throw `UnsupportedError`).
   */
  get backend(): Backend {
    return this.backend_.kind;
  }

  /** The port clients connect to (the real one when an ephemeral port was asked for). */
  get port(): number {
    return this.backend_.port;
  }

  /** The address the server listens on. */
  get host(): string {
    return this.options.host;
  }

  /** A URL for clients, e.g. `nats://127.0.0.1:4222`. */
  get url(): string {
    return this.backend_.url;
  }

  /** The INFO clients receive on connect (without the per-connection `client_id`/`client_ip`). */
  get info(): ServerInfo {
    return this.backend_.info;
  }

  /** The server's id (INFO `server_id`). A restart gives it a new one, as a new process would. */
  get id(): string {
    return this.backend_.id;
  }

  /** The monitoring port when `http` is configured (the real one if ephemeral), else 0. */
  get monitorPort(): number {
    return this.backend_.monitorPort;
  }

  /** `http://host:port` of the monitoring endpoints, or null when `http` is not configured. */
  get monitorUrl(): string | null {
    return this.backend_.monitorUrl;
  }

  /** The websocket port when `websocket` is configured (the real one if ephemeral), else 0. */
  get websocketPort(): number {
    return this.backend_.websocketPort;
  }

  /** `ws://host:port` (`wss://` with `websocket.tls`) for browser and `wsconnect` clients, or null without `websocket`. */
  get websocketUrl(): string | null {
    return this.backend_.websocketUrl;
  }

  /** The route port when clustering is configured (the real one if ephemeral), else 0. */
  get clusterPort(): number {
    return this.backend_.clusterPort;
  }

  /** `nats-route://host:port` for other servers' `cluster.routes`, or null without clustering. */
  get routeUrl(): string | null {
    return this.backend_.routeUrl;
  }

  /** The leaf node port when `leafnodes` has a listener (the real one if ephemeral), else 0. */
  get leafnodePort(): number {
    return this.backend_.leafnodePort;
  }

  /** `nats-leaf://host:port` for other servers' `leafnodes.remotes`, or null without a leaf node listener. */
  get leafnodeUrl(): string | null {
    return this.backend_.leafnodeUrl;
  }

  /** `nats://host:port` of the gateway listener for other clusters' `gateway.gateways` URLs, or null without `gateway`. */
  get gatewayUrl(): string | null {
    return this.backend_.gatewayUrl;
  }

  /** The cluster name in use (configured, or adopted from peers), or null without clustering. */
  get clusterName(): string | null {
    return this.backend_.clusterName;
  }

  /**
   * The process id of the nats-server process behind this handle (backend `'nats-server'`,
   * while it runs), or null: the embedded broker runs in this process.
   */
  get pid(): number | null {
    return this.backend_.pid;
  }

  /** `running`, `lameDuck` or `stopped`. */
  get state(): ServerState {
    return this.backend_.state;
  }

  /** True when the server is not serving (after `close()`, `kill()`, or a finished lame duck). */
  get closed(): boolean {
    return this.state === 'stopped';
  }

  // ---- Waiting without sleeps -----------------------------------------------------------------

  /**
   * Resolves once `count` subscriptions (default 1: local, or interest from other servers)
   * match the literal `subject` — the usual race in tests is publishing before the consumer's
   * SUB has reached the server. The wait goes on across `kill()` and `restart()`. On the
   * `nats-server` backend it polls the monitoring endpoints.
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   * @throws {ServerClosedError} at once when the server is stopped (and not restarting), or
   *   when it is closed while waiting
   */
  waitForSubscription(subject: string, options: WaitOptions & { count?: number } = {}): Promise<void> {
    return settle(() => {
      const count = countArg(options.count ?? 1, 'count');
      return this.waitFor(async () => (await this.backend_.interest(subject, count)) >= count, `${count} subscription(s) matching "${subject}"`, options.timeoutMs);
    });
  }

  /**
   * Resolves once at least `n` client connections are open.
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   * @throws {ServerClosedError} as {@link waitForSubscription}
   */
  waitForConnections(n: number, options: WaitOptions = {}): Promise<void> {
    return settle(() => {
      countArg(n, 'n');
      return this.waitFor(async () => (await this.backend_.connectionCount()) >= n, `${n} connection(s)`, options.timeoutMs);
    });
  }

  // ---- JetStream ----------------------------------------------------------------------------------

  private jetstream_: JetStreamView | null = null;

  /**
   * What JetStream holds, for tests: the streams and their state, and a wait for a stream
   * (`await server.jetstream.waitForStream('ORDERS', { messages: 3 })`). On both backends.
   */
  get jetstream(): JetStreamView {
    if (this.jetstream_ === null) {
      const backend = this.backend_;
      this.jetstream_ = new JetStreamViewImpl({
        get enabled() {
          return backend.options.jetstream !== null;
        },
        get storeDir() {
          return backend.jetstreamStoreDir;
        },
        streams: (account) => {
          if (this.lifecycle.disposed) return Promise.reject(new ServerClosedError('list JetStream streams'));
          return backend.jetstreamStreams(account);
        },
        consumers: (account, stream) => {
          if (this.lifecycle.disposed) return Promise.reject(new ServerClosedError('list JetStream consumers'));
          return backend.jetstreamConsumers(account, stream);
        },
        openSession: (account) => {
          if (this.lifecycle.disposed) return Promise.reject(new ServerClosedError('send a JetStream request'));
          return backend.openSession(account);
        },
        embedded: (feature) => {
          const f = this.embedded(feature);
          if (this.lifecycle.disposed) throw new ServerClosedError('change a JetStream consumer');
          return f;
        },
        waitFor: (cond, what, timeout) => this.waitFor(cond, what, timeout),
      });
    }
    return this.jetstream_;
  }

  /** True when nothing runs and nothing is about to (for waits that would never end). */
  private get unavailable(): boolean {
    const lc = this.lifecycle;
    return lc.disposed || (this.state === 'stopped' && lc.restarting === 0 && this.starting === null);
  }

  private waitFor(cond: () => Promise<boolean>, what: string, timeout: Duration | undefined): Promise<void> {
    const timeoutMs = durationArg(timeout, 'timeoutMs', 5000);
    if (this.unavailable) return Promise.reject(new ServerClosedError(`wait for ${what}`));
    return new Promise<void>((resolve, reject) => {
      let done = false;
      let checking = false;
      const finish = (err: Error | null): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        unregister();
        unwatch();
        if (err === null) resolve();
        else reject(err);
      };
      const check = (): void => {
        if (done || checking) return;
        checking = true;
        // A probe that fails (a restarting process) counts as "not yet".
        cond().then(
          (ok) => {
            checking = false;
            if (ok) finish(null);
          },
          () => void (checking = false),
        );
      };
      const timer = setTimeout(() => finish(new WaitTimeoutError(what, timeoutMs)), timeoutMs);
      // Routes and restarts replace parts of the state: poll as well as listen.
      const poll = setInterval(check, 25);
      const unregister = this.lifecycle.whenDisposed(() => finish(new ServerClosedError(`wait for ${what}`, 'the server was closed')));
      const unwatch = this.backend_.watch(check);
      check();
    });
  }

  // ---- Lifecycle --------------------------------------------------------------------------------

  /**
   * Graceful shutdown, for good: stops accepting, flushes what is queued to each client, closes
   * every connection and frees the ports. Resolves when all sockets are closed. Interrupts a
   * pending `restart()` (it rejects with {@link ServerClosedError}) or `lameDuck()` (it
   * resolves), ends `messages()` iterators and rejects pending waits. Safe to call twice.
   */
  close(): Promise<void> {
    this.lifecycle.dispose();
    return this.afterStart(() => this.backend_.stop(true, true));
  }

  /**
   * Abrupt shutdown, as if the process died: sockets are destroyed without flushing anything.
   * Clients see the connection reset and start their reconnect logic. A pending `restart()` is
   * interrupted (rejects with {@link ServerClosedError}); the handle can `restart()` again.
   */
  kill(): Promise<void> {
    this.lifecycle.interrupt();
    return this.afterStart(() => this.backend_.stop(false, false));
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
      await this.afterStart(() => this.backend_.stop(options.graceful === true, false));
      if (downMs > 0) await lc.sleep(downMs);
      if (lc.generation !== generation) throw lc.interrupted('restart');
      await this.listen();
    } finally {
      lc.restarting--;
    }
  }

  /**
   * Lame duck mode, as nats-server's (SIGUSR2 / `--signal ldm`): stop accepting; with no client
   * connected, shut down at once; otherwise send clients an INFO with `ldm: true`, wait the
   * grace period, then close the clients one by one spread over the rest of `durationMs`, then
   * shut down. Resolves when the server has stopped — also when `close()` or `kill()` stops it
   * first. The handle can `restart()` afterwards. (A nats-server process spreads the closes
   * over its configured `lame_duck_duration`, at least 30 s; `durationMs` is checked only.)
   *
   * @param durationMs total duration: ms or a duration string (default `lameDuckDuration`, 2
   *   minutes as nats-server)
   * @throws {ServerClosedError} the server is not running
   * @throws {InvalidArgumentError} `durationMs` is not a positive duration
   */
  async lameDuck(durationMs?: Duration): Promise<void> {
    const total = durationArg(durationMs, 'durationMs', this.options.lameDuckDurationMs);
    const lc = this.lifecycle;
    if (lc.disposed || this.state !== 'running') throw new ServerClosedError('enter lame duck mode', 'the server is not running');
    const generation = lc.generation;
    await this.backend_.lameDuck(total, () => lc.generation === generation, (ms) => lc.sleep(ms));
  }

  /** `await using server = await createServer()` closes the server at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- Embedded only ----------------------------------------------------------------------------

  /**
   * Applies options to the running server, as nats-server's config reload (SIGHUP) does: limits,
   * liveness settings, authorization, logging and lame duck settings take effect at once for
   * every connection. The options given are a patch over the current ones (the others keep
   * their values; a block such as `authorization` is replaced as a whole), unless
   * `{ replace: true }`. Listen addresses and ports, server name, clustering, websocket and
   * monitoring cannot change: giving them their current values is fine, other values throw.
   * An account's `jetstream` turns JetStream on (its file streams come back) or off (its
   * streams stop, their files stay) or changes its limits; as in nats-server, limits the server
   * cannot grant, or JetStream on `$SYS`, are logged as errors and left out, not thrown.
   * The reloaded options also apply after a `restart()`.
   * @throws {ConfigError} an option is invalid, or cannot be changed by a reload
   * @throws {ServerClosedError} the server was closed
   */
  reload(options: ServerOptions, reloadOptions: ReloadOptions = {}): void {
    const features = this.embedded('reload()');
    if (this.lifecycle.disposed) throw new ServerClosedError('reload');
    features.reload(options, objectArg(reloadOptions, 'reloadOptions') ?? {});
  }

  /** Number of client connections open now. */
  get connectionCount(): number {
    return this.embedded('connectionCount').connectionCount;
  }

  /** The client connections open now. */
  clients(): ClientSummary[] {
    return this.embedded('clients()').clients();
  }

  /** The client connections open now, with their message counters. */
  connections(): ConnectionInfo[] {
    return this.embedded('connections()').connections();
  }

  /** Every client subscription, or those of one connection. */
  subscriptions(filter: { cid?: number } = {}): SubscriptionInfo[] {
    return this.embedded('subscriptions()').subscriptions(filter);
  }

  /** Counters since the server (re)started; `internalErrors` since it was created. */
  stats(): ServerStats {
    return this.embedded('stats()').stats();
  }

  /** The servers this one has a route to now. */
  routes(): RoutePeer[] {
    return this.embedded('routes()').routes();
  }

  /**
   * Clustered JetStream (`jetstream.clusterPeers`, as `createCluster({ jetstream: true })` sets
   * it): the server name of the meta group's leader as this server knows it, or null while there
   * is none, while this server is still joining the meta group (not a voter yet), and without
   * clustering.
   */
  jetstreamMetaLeader(): string | null {
    return this.embedded('jetstreamMetaLeader()').jetstreamMetaLeader();
  }

  /**
   * Clustered JetStream: the server name of the leader of `stream` (in `account`, default `$G`)
   * as this server knows it — null when there is none or this server holds no replica of it.
   */
  jetstreamStreamLeader(stream: string, account = '$G'): string | null {
    return this.embedded('jetstreamStreamLeader()').jetstreamStreamLeader(account, stream);
  }

  /**
   * Clustered JetStream: the server name of the leader of consumer `consumer` of `stream` (in
   * `account`, default `$G`) as this server knows it — null when there is none or this server
   * holds no replica of the stream. A durable consumer of a limits stream has a Raft group and a
   * leader of its own (CONSUMER.LEADER.STEPDOWN moves it alone); other replicated consumers are
   * led by their stream's leader.
   */
  jetstreamConsumerLeader(stream: string, consumer: string, account = '$G'): string | null {
    return this.embedded('jetstreamConsumerLeader()').jetstreamConsumerLeader(account, stream, consumer);
  }

  /**
   * Refuses routes to the named peer servers (by server name) and cuts existing ones, until
   * called again without them. `createCluster().partition()` is built on this.
   */
  blockRoutes(serverNames: readonly string[]): void {
    this.embedded('blockRoutes()').blockRoutes(serverNames);
  }

  /**
   * The remote gateways (clusters) this server is connected to: `outbound` names one per
   * remote gateway it dialled, `inbound` one per accepted connection (each server of a remote
   * cluster connects). Empty without `gateway`.
   */
  gateways(): GatewayPeers {
    return this.embedded('gateways()').gateways();
  }

  /**
   * Cuts the gateway connections to and from the named remote gateways (clusters) and refuses
   * new ones until called again without them. `createSupercluster().partition()` is built on this.
   */
  blockGateways(names: readonly string[]): void {
    this.embedded('blockGateways()').blockGateways(names);
  }

  /**
   * How this server sends `account`'s messages to `gateway`: `'Optimistic'` (unless told no),
   * `'Interest-Only'` (only where the remote said yes), `'Transitioning'`; null when not connected.
   */
  gatewayInterestMode(gateway: string, account = '$G'): GatewayInterestMode | null {
    return this.embedded('gatewayInterestMode()').gatewayInterestMode(gateway, account);
  }

  /** The peer server names set by {@link blockRoutes}. */
  blockedRouteNames(): readonly string[] {
    return this.embedded('blockedRouteNames()').blockedRouteNames();
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
    const features = this.embedded('onMessage()');
    functionArg(callback, 'callback');
    const subject = subjectArg(objectArg(options, 'options')?.subject, 'subject', '>');
    if (this.lifecycle.disposed) throw new ServerClosedError('tap messages');
    return features.tap(callback, { subject });
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
    this.embedded('messages()');
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
    this.embedded('pause()').pause();
  }

  /** Ends {@link pause}: reading resumes and everything queued meanwhile is written. */
  resume(): void {
    this.embedded('resume()').resume();
  }

  /**
   * Delays every write to clients by `ms` (0 turns it off), order preserved; in force across
   * `restart()` until changed.
   * @throws {InvalidArgumentError} `ms` is not a duration >= 0
   */
  setLatency(ms: Duration): void {
    const features = this.embedded('setLatency()');
    features.setLatency(durationArg(ms, 'ms', 0, true));
  }

  /**
   * Delays every write on this server's gateway connections to and from `gateway` (a remote
   * cluster's gateway name) by `ms` (0 turns it off), order preserved; in force across
   * `restart()` until changed. `createSupercluster().setLatency()` sets it on both sides.
   * @throws {InvalidArgumentError} `gateway` is not a non-empty string, or `ms` is not a duration >= 0
   */
  setGatewayLatency(gateway: string, ms: Duration): void {
    const features = this.embedded('setGatewayLatency()');
    if (typeof gateway !== 'string' || gateway === '') throw new InvalidArgumentError('gateway', 'must be a gateway name');
    features.setGatewayLatency(gateway, durationArg(ms, 'ms', 0, true));
  }

  /**
   * Drops published messages on `subject` (wildcards allowed): a `ratio` of them at random
   * (seeded by the `seed` option), or the next `count`. Returns a handle to read and cancel it.
   * The rule stays in force across `restart()` until cancelled or `resetFaults()`.
   * @throws {InvalidArgumentError} a field is invalid
   */
  dropMessages(options: DropOptions): DropHandle {
    const features = this.embedded('dropMessages()');
    if (objectArg(options, 'options') === undefined) throw new InvalidArgumentError('options', 'must be { subject, ratio } or { subject, count }');
    const subject = subjectArg(options.subject, 'subject', '');
    if (subject === '') throw new InvalidArgumentError('subject', 'must be a valid subject, got undefined');
    const { ratio, count } = options;
    if (count === undefined && (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1))) {
      throw new InvalidArgumentError('ratio', `must be between 0 and 1, got ${String(ratio)}`);
    }
    if (count !== undefined) countArg(count, 'count');
    return features.dropMessages(count === undefined ? { subject, ratio: ratio! } : { subject, count });
  }

  /** Undoes every fault: resumes, removes latency and drop rules. */
  resetFaults(): void {
    this.embedded('resetFaults()').resetFaults();
  }

  /** Drops one client connection by id (as nats-server's kick). Returns false if there is none. */
  disconnectClient(cid: number): boolean {
    return this.embedded('disconnectClient()').disconnectClient(cid);
  }

  /**
   * Drops client connections (all, or those `filter` selects) without stopping the server,
   * to exercise client reconnect logic. Returns how many were dropped.
   */
  disconnectClients(filter?: (client: ClientSummary) => boolean): number {
    const features = this.embedded('disconnectClients()');
    if (filter !== undefined) functionArg(filter, 'filter');
    return features.disconnectClients(filter);
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
