/**
 * The `nats-server` backend: `createServer({ backend: 'nats-server' })` runs the real
 * nats-server binary with the configuration equivalent to the options, behind the same
 * `NatsServer` handle. Lifecycle controls map onto signals and respawns (on the same ports),
 * waiting and INFO onto the monitoring endpoints and the wire. What only the embedded broker
 * can do has no counterpart here (`embedded` is null: the handle throws `UnsupportedError`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendError, ListenError, ServerClosedError, UnsupportedError, WaitTimeoutError } from '../errors.js';
import type { ResolvedOptions } from '../config/options.js';
import { httpHost, natsServerConfig, type ProcessPorts } from '../config/to-conf.js';
import { dialHost, urlHost } from '../io/listen.js';
import { subjectMatches } from '../subject/subject.js';
import { GLOBAL_ACCOUNT } from '../broker/account.js';
import type { ServerInfo } from '../broker/info.js';
import type { BackendEvents, ServerBackend } from '../server/backend.js';
import type { JetStreamConsumerInfo, JetStreamStreamInfo, ServerState } from '../server/types.js';
import { consumerInfoFromJson, streamInfoFromJson } from '../server/jetstream-view.js';
import { openClientSession } from './api-client.js';
import { credentialsFor } from './sessions.js';
import type { RequestSession } from '../server/backend.js';
import { INSTALL_HINT, ServerChild, findNatsServerBinary, getJson, readInfo } from './process.js';

export { findNatsServerBinary, INSTALL_HINT } from './process.js';

const BACKEND = 'nats-server';
/** How long the process may take to print "Server is ready". */
const START_TIMEOUT_MS = 15_000;
/** How long a SIGTERM'd process may take to exit before it is killed. */
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 20;

/** What the process printed about its start. */
interface Seen {
  ready: boolean;
  client: number;
  http: number;
  route: number;
}

export class ProcessBackend implements ServerBackend {
  readonly kind = BACKEND;
  readonly embedded = null;
  private proc: ServerChild | null = null;
  private procState: ServerState = 'stopped';
  // Ports of the last start: a restart asks for the same ones.
  private clientPort = 0;
  private httpPort = 0;
  private routePort = 0;
  private leafPort = 0;
  private gatewayPort = 0;
  private lastInfo: ServerInfo | null = null;
  /** The last log lines, for startup errors. */
  private logTail: string[] = [];
  /**
   * JetStream's store when the options name none: one directory for the handle's life, so file
   * streams survive `kill()` and `restart()`; `close()` removes it. nats-server creates it.
   */
  private readonly tempStoreDir: string | null;

  constructor(
    readonly options: ResolvedOptions,
    private readonly bin: string,
    private readonly events: BackendEvents,
  ) {
    this.tempStoreDir = options.jetstream !== null && options.jetstream.storeDir === null
      ? join(tmpdir(), `nats-embedded-js-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`)
      : null;
  }

  get state(): ServerState {
    return this.procState;
  }

  /** The process id of the running nats-server, or null when stopped. */
  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /**
   * Starts the process and resolves once it has said "Server is ready" and answered with its
   * INFO. `close()`/`kill()` during the start kill it.
   */
  async start(current: () => boolean, interrupted: () => Error): Promise<void> {
    if (this.procState !== 'stopped') return;
    const o = this.options;
    const ports: ProcessPorts = {
      client: this.clientPort || o.port || -1,
      http: this.httpPort || o.http?.port || -1,
      cluster: this.routePort || o.cluster?.port || -1,
      leaf: this.leafPort || o.leafnodes?.listen?.port || -1,
      gateway: this.gatewayPort || o.gateway?.port || -1,
      ...(this.tempStoreDir === null ? {} : { storeDir: this.tempStoreDir }),
    };
    const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-backend-'));
    const pemFile = (name: string, pem: string): string => {
      const path = join(dir, name);
      writeFileSync(path, pem, { mode: 0o600 });
      return path;
    };
    writeFileSync(join(dir, 'nats-server.conf'), natsServerConfig(o, { ...ports, pemFile }));
    this.logTail = [];
    const seen: Seen = { ready: false, client: 0, http: 0, route: 0 };
    let onReady: (() => void) | null = null;
    const proc: ServerChild = new ServerChild(
      this.bin,
      dir,
      (line) => {
        this.onLogLine(line, seen);
        if (seen.ready && seen.client > 0 && seen.http > 0 && (o.cluster === null || seen.route > 0)) onReady?.();
      },
      () => {
        if (this.proc === proc) {
          this.proc = null;
          this.procState = 'stopped';
        }
      },
    );
    const child = proc.child;
    // Known at once, so that close() and kill() during the start reach the process.
    this.proc = proc;
    try {
      await new Promise<void>((resolve, reject) => {
        const settle = (err: Error | null): void => {
          clearTimeout(timer);
          onReady = null;
          child.off('error', onError);
          child.off('exit', onExitEarly);
          if (err === null) resolve();
          else reject(err);
        };
        const timer = setTimeout(() => {
          settle(new BackendError(`nats-server did not report "Server is ready" within ${START_TIMEOUT_MS} ms:\n${this.logTail.join('\n')}`));
        }, START_TIMEOUT_MS);
        const onError = (err: Error): void => settle(new BackendError(`cannot run ${this.bin}: ${err.message}; ${INSTALL_HINT}`, { cause: err }));
        const onExitEarly = (code: number | null, signal: NodeJS.Signals | null): void => settle(this.startupError(code, signal, ports));
        onReady = () => settle(null);
        child.once('error', onError);
        child.once('exit', onExitEarly);
      });
      this.clientPort = seen.client;
      this.httpPort = seen.http;
      this.routePort = seen.route;
      this.lastInfo = await readInfo(dialHost(o.host), seen.client);
      // The INFO probe is a connection too: let the server drop it before anyone counts.
      await this.pollUntil(async () => (await this.connz()).total === 0, 'the INFO probe to close', 2000).catch(() => undefined);
      if (!current() || !proc.running) throw interrupted();
      this.procState = 'running';
    } catch (err) {
      if (this.proc === proc) this.proc = null;
      proc.killNow();
      await proc.exited;
      throw current() ? err : interrupted();
    }
  }

  private onLogLine(line: string, seen: Seen): void {
    this.logTail.push(line);
    if (this.logTail.length > 40) this.logTail.shift();
    // [pid] 2024/01/02 15:04:05.000000 [INF] message
    const m = /^\[\d+\] \S+ \S+ \[([A-Z]{3})\] (.*)$/.exec(line);
    const level = m?.[1] ?? 'INF';
    const text = m?.[2] ?? line;
    let p: RegExpExecArray | null;
    if (text === 'Server is ready') seen.ready = true;
    else if ((p = /^Listening for client connections on .*:(\d+)$/.exec(text)) !== null) seen.client = Number(p[1]);
    else if ((p = /^Starting http monitor on .*:(\d+)$/.exec(text)) !== null) seen.http = Number(p[1]);
    else if ((p = /^Listening for route connections on .*:(\d+)$/.exec(text)) !== null) seen.route = Number(p[1]);
    else if ((p = /^Listening for leafnode connections on .*:(\d+)$/.exec(text)) !== null) this.leafPort = Number(p[1]);
    // Logged before "Server is ready" (server.go Start starts the gateways first).
    else if ((p = /^Listening for gateways connections on .*:(\d+)$/.exec(text)) !== null) this.gatewayPort = Number(p[1]);
    const logger = this.options.logger;
    if (logger === null) return;
    // The logger is user code: what it throws takes the user-error path, not the pipe handler's.
    try {
      if (level === 'ERR' || level === 'FTL') logger.error(text);
      else if (level === 'WRN') logger.warn(text);
      else if (level === 'DBG') logger.debug?.(text);
      else if (level === 'TRC') logger.trace?.(text);
      else logger.info(text);
    } catch (err) {
      this.events.userError(err);
    }
  }

  private startupError(code: number | null, signal: NodeJS.Signals | null, ports: ProcessPorts): Error {
    const log = this.logTail.join('\n');
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${String(code)}`;
    const inUse = this.logTail.find((l) => /address already in use|bind:/i.test(l));
    if (inUse !== undefined) {
      const reason = new Error(inUse.replace(/^\[\d+\] \S+ \S+ \[[A-Z]{3}\] /, ''));
      const o = this.options;
      if (/route/i.test(inUse) && o.cluster !== null) return new ListenError(o.cluster.host, ports.cluster, reason);
      if (/http|monitor/i.test(inUse)) return new ListenError(httpHost(o), ports.http, reason);
      return new ListenError(o.host, ports.client, reason);
    }
    return new BackendError(`nats-server ${how} during startup:\n${log}`);
  }

  /** `close()` sends SIGTERM (nats-server closes its clients and exits), `kill()` SIGKILL. */
  stop(graceful: boolean, final: boolean): Promise<void> {
    const proc = this.proc;
    this.procState = 'stopped';
    const done = final ? this.removeTempStore.bind(this) : (): void => undefined;
    if (proc === null) {
      done();
      return Promise.resolve();
    }
    if (proc.running) {
      proc.signal(graceful ? 'SIGTERM' : 'SIGKILL');
      if (graceful) {
        const timer = setTimeout(() => proc.killNow(), STOP_TIMEOUT_MS);
        void proc.exited.then(() => clearTimeout(timer));
      }
    }
    return proc.exited.then(done);
  }

  private removeTempStore(): void {
    if (this.tempStoreDir !== null) rmSync(this.tempStoreDir, { recursive: true, force: true });
  }

  /**
   * SIGUSR2: nats-server's lame duck mode; resolves when the process has exited (also when
   * `close()`/`kill()` made it exit first). nats-server spreads the client closes over its
   * configured `lame_duck_duration` (at least 30 s); the duration asked for cannot change it.
   */
  async lameDuck(): Promise<void> {
    const proc = this.proc;
    if (proc === null) throw new ServerClosedError('enter lame duck mode', 'the server is not running');
    this.procState = 'lameDuck';
    proc.signal('SIGUSR2');
    await proc.exited;
  }

  // ---- Monitoring -------------------------------------------------------------------------------

  /** GET a monitoring endpoint of the process as JSON. */
  private monitorJson<T>(path: string): Promise<T> {
    return getJson<T>(`http://${urlHost(httpHost(this.options))}:${this.httpPort}${path}`);
  }

  get jetstreamStoreDir(): string | null {
    return this.options.jetstream === null ? null : (this.options.jetstream.storeDir ?? this.tempStoreDir);
  }

  async openSession(account: string | undefined): Promise<RequestSession> {
    const credentials = credentialsFor(this.options, account, 'server.jetstream helpers');
    if (this.proc === null || this.procState !== 'running') throw new ServerClosedError('send a JetStream request', 'the server is not running');
    return openClientSession(dialHost(this.options.host), this.clientPort, credentials);
  }

  async jetstreamConsumers(account: string | undefined, stream: string): Promise<JetStreamConsumerInfo[]> {
    if (this.options.jetstream === null) return [];
    if (this.proc === null || this.procState === 'stopped') throw new ServerClosedError('list JetStream consumers', 'the server is not running');
    const acc = account === undefined ? '' : `&acc=${encodeURIComponent(account)}`;
    type Detail = { name: string; consumer_detail?: Array<Record<string, unknown>> };
    const jsz = await this.monitorJson<{ account_details?: Array<{ name: string; stream_detail?: Detail[] }> }>(
      `/jsz?accounts=true&consumers=true&config=true${acc}`,
    );
    const out: JetStreamConsumerInfo[] = [];
    for (const a of jsz.account_details ?? []) {
      if (account !== undefined && a.name !== account) continue;
      for (const d of a.stream_detail ?? []) {
        if (d.name !== stream) continue;
        for (const c of d.consumer_detail ?? []) out.push(consumerInfoFromJson(a.name, c));
      }
    }
    return out;
  }

  async jetstreamStreams(account: string | undefined): Promise<JetStreamStreamInfo[]> {
    if (this.options.jetstream === null) return [];
    if (this.proc === null || this.procState === 'stopped') throw new ServerClosedError('list JetStream streams', 'the server is not running');
    const acc = account === undefined ? '' : `&acc=${encodeURIComponent(account)}`;
    const jsz = await this.monitorJson<{ account_details?: Array<{ name: string; stream_detail?: Array<Record<string, unknown>> }> }>(
      `/jsz?accounts=true&streams=true&config=true${acc}`,
    );
    const out: JetStreamStreamInfo[] = [];
    for (const a of jsz.account_details ?? []) {
      if (account !== undefined && a.name !== account) continue;
      for (const d of a.stream_detail ?? []) out.push(streamInfoFromJson(a.name, d));
    }
    return out;
  }

  private connz(): Promise<{ total: number }> {
    return this.monitorJson<{ total: number }>('/connz?limit=1');
  }

  /** Polls `probe` (errors count as "not yet": the process may be restarting) until it holds. */
  private async pollUntil(probe: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.proc !== null) {
        try {
          if (await probe()) return;
        } catch {
          // not reachable now: try again
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(what, timeoutMs);
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, left)));
    }
  }

  /**
   * Subscriptions matching `subject`, counted up to at least `enough`: local ones
   * (`/subsz?test=<subject>`, every account), and, when clustered, interest from other servers
   * (`/routez?subs=detail`).
   */
  async interest(subject: string, enough: number): Promise<number> {
    if (this.proc === null) return 0;
    const accounts = [GLOBAL_ACCOUNT, ...this.options.accountNames];
    let n = 0;
    for (const acc of accounts) {
      // `total` counts the matches on the page: a page of `enough` says whether there are enough.
      const subsz = await this.monitorJson<{ total?: number }>(
        `/subsz?subs=1&limit=${Math.max(enough, 1)}&acc=${encodeURIComponent(acc)}&test=${encodeURIComponent(subject)}`,
      );
      n += subsz.total ?? 0;
    }
    if (n >= enough || this.options.cluster === null) return n;
    // /subsz leaves out route interest; /routez lists it per route (`sid` is "<account> <subject> [<queue>]").
    const routez = await this.monitorJson<{ routes?: Array<{ subscriptions_list_detail?: Array<{ subject: string; sid: string }> }> }>('/routez?subs=detail');
    for (const route of routez.routes ?? []) {
      for (const sub of route.subscriptions_list_detail ?? []) {
        if (accounts.some((a) => sub.sid.startsWith(`${a} `)) && subjectMatches(sub.subject, subject)) n++;
      }
    }
    return n;
  }

  async connectionCount(): Promise<number> {
    if (this.proc === null) return 0;
    return (await this.connz()).total;
  }

  watch(): () => void {
    // Nothing tells about changes: the handle polls.
    return () => undefined;
  }

  // ---- Addresses and identity -------------------------------------------------------------------

  get port(): number {
    return this.clientPort;
  }

  get url(): string {
    return `nats://${urlHost(this.options.host)}:${this.clientPort}`;
  }

  /** The INFO the process sent on its last start (without `client_id`/`client_ip`). */
  get info(): ServerInfo {
    if (this.lastInfo === null) throw new ServerClosedError('read INFO');
    return this.lastInfo;
  }

  get id(): string {
    return this.lastInfo?.server_id ?? '';
  }

  get monitorPort(): number {
    return this.options.http === null ? 0 : this.httpPort;
  }

  get monitorUrl(): string | null {
    const http = this.options.http;
    return http === null ? null : `http://${urlHost(http.host)}:${this.httpPort}`;
  }

  get websocketPort(): number {
    return 0;
  }

  get websocketUrl(): string | null {
    return null;
  }

  get clusterPort(): number {
    return this.options.cluster === null ? 0 : this.routePort;
  }

  get leafnodePort(): number {
    return this.options.leafnodes?.listen == null ? 0 : this.leafPort;
  }

  get leafnodeUrl(): string | null {
    const l = this.options.leafnodes?.listen;
    return l == null ? null : `nats-leaf://${urlHost(l.host)}:${this.leafPort}`;
  }

  /** The advertised gateway address, else the listener's (as the embedded backend's). */
  get gatewayUrl(): string | null {
    const g = this.options.gateway;
    if (g === null || this.gatewayPort === 0) return null;
    return `nats://${g.advertise ?? `${urlHost(dialHost(g.host))}:${this.gatewayPort}`}`;
  }

  get routeUrl(): string | null {
    const c = this.options.cluster;
    return c === null ? null : `nats-route://${urlHost(c.host)}:${this.routePort}`;
  }

  /** The configured cluster name, else the one the process reported in its INFO at start. */
  get clusterName(): string | null {
    const c = this.options.cluster;
    if (c === null) return null;
    return c.name ?? this.lastInfo?.cluster ?? null;
  }
}

/**
 * The process backend for `options`: refuses what cannot be passed on to nats-server yet, and
 * finds the binary.
 * @throws {UnsupportedError} `seed`, `tls`, `websocket`
 * @throws {ConfigError} no nats-server binary
 */
export function processBackend(options: ResolvedOptions, events: BackendEvents): ProcessBackend {
  if (options.seed !== null) throw new UnsupportedError('seed', BACKEND, 'nats-server picks queue members at random');
  if (options.tls !== null || options.cluster?.tls != null) {
    throw new UnsupportedError('tls', BACKEND, 'not yet passed on to the nats-server process');
  }
  if (options.websocket !== null) {
    throw new UnsupportedError('websocket', BACKEND, 'not yet passed on to the nats-server process');
  }
  return new ProcessBackend(options, findNatsServerBinary(), events);
}

