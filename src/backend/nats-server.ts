/**
 * The `nats-server` backend: `createServer({ backend: 'nats-server' })` spawns the real
 * nats-server binary with the configuration equivalent to the options, behind the same
 * {@link NatsServer} handle. Lifecycle controls map onto signals and respawns (on the same
 * ports), waiting and INFO onto the monitoring endpoints and the wire; what only the embedded
 * broker can do (synchronous introspection, the message tap, fault injection, kicking clients)
 * throws {@link UnsupportedError}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { EventEmitter } from 'node:events';
import { BackendError, ConfigError, ListenError, ServerClosedError, UnsupportedError, WaitTimeoutError } from '../errors.js';
import type { Duration, ResolvedOptions, ServerOptions } from '../config/options.js';
import { subjectMatches } from '../subject/subject.js';
import { dialHost, hostPort, urlHost } from '../io/listen.js';
import { httpHost, natsServerConfig, type ProcessPorts } from '../config/to-conf.js';
import { countArg, durationArg } from '../server/arguments.js';
import {
  NatsServer,
  type ClientSummary,
  type ConnectionInfo,
  type DropHandle,
  type DropOptions,
  type RoutePeer,
  type ServerInfo,
  type ServerState,
  type ServerStats,
  type SubscriptionInfo,
  type TapOptions,
  type TappedMessage,
  type WaitOptions,
} from '../server/server.js';

const BACKEND = 'nats-server';

/** How to get the binary, for error messages. */
export const INSTALL_HINT =
  'install it (Debian/Ubuntu: apt-get install -y nats-server; or a release from ' +
  'https://github.com/nats-io/nats-server/releases) or set NATS_SERVER_BIN=/path/to/nats-server';

/** How long the process may take to print "Server is ready". */
const START_TIMEOUT_MS = 15_000;
/** How long a SIGTERM'd process may take to exit before it is killed. */
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 20;

/**
 * The nats-server binary: `NATS_SERVER_BIN`, else `nats-server` on `PATH`.
 * @throws {ConfigError} (option `backend`) when there is none, saying how to install it
 */
export function findNatsServerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.NATS_SERVER_BIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isExecutable(fromEnv)) {
      throw new ConfigError('backend', `"nats-server" needs the nats-server binary: NATS_SERVER_BIN=${fromEnv} is not an executable file; ${INSTALL_HINT}`);
    }
    return fromEnv;
  }
  const names = process.platform === 'win32' ? ['nats-server.exe', 'nats-server'] : ['nats-server'];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    for (const name of names) {
      const candidate = join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  throw new ConfigError('backend', `"nats-server" needs the nats-server binary, and there is none on PATH (NATS_SERVER_BIN is not set); ${INSTALL_HINT}`);
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * POSIX wrapper around nats-server: runs it, prints its pid, and SIGKILLs it once its own
 * stdin (a pipe from this process) reaches end of file — that is, when this process has died,
 * however it died — so a crashed test run leaves no nats-server behind. Then removes the
 * config directory (`$2` is the config file) and exits with nats-server's code.
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$0" "$@" 3<&- </dev/null &',
  'p=$!',
  'echo "nats-embedded: nats-server pid $p" >&2',
  // The shell's own messages ("Killed") must not go to a pipe nobody reads any more.
  'exec 2>/dev/null',
  '{ read _ <&3; kill -9 "$p"; } &',
  'w=$!',
  'wait "$p"',
  'c=$?',
  'kill "$w" 2>/dev/null',
  'rm -rf "${2%/*}"',
  'exit "$c"',
].join('\n');

const PID_LINE = /^nats-embedded: nats-server pid (\d+)$/;

/** Children still running, killed if this process exits without closing them. */
const live = new Set<ServerChild>();
let exitHookInstalled = false;

/** One nats-server process (behind the watchdog wrapper where there is a POSIX shell). */
class ServerChild {
  readonly child: ChildProcess;
  /** nats-server's own pid, once known. */
  pid: number | null = null;
  /** Settles when the process has exited and its config directory is removed. */
  readonly exited: Promise<void>;
  private done = false;

  constructor(bin: string, private readonly dir: string, onLine: (line: string) => void, onExit: () => void) {
    const conf = join(dir, 'nats-server.conf');
    if (process.platform === 'win32') {
      this.child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      this.pid = this.child.pid ?? null;
    } else {
      this.child = spawn('/bin/sh', ['-c', WATCHDOG, bin, '-c', conf], { stdio: ['pipe', 'ignore', 'pipe'] });
      this.child.stdin!.on('error', () => undefined);
    }
    live.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const c of live) c.killNow();
      });
    }
    this.exited = new Promise<void>((resolve) => {
      const finish = (): void => {
        if (this.done) return;
        this.done = true;
        live.delete(this);
        rmSync(this.dir, { recursive: true, force: true });
        onExit();
        resolve();
      };
      this.child.once('close', finish);
      // A spawn that failed (no pid) may never emit 'close'.
      this.child.once('error', () => {
        if (this.child.pid === undefined) finish();
      });
    });
    let pending = '';
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        const pid = this.pid === null ? PID_LINE.exec(line) : null;
        if (pid !== null) this.pid = Number(pid[1]);
        else onLine(line);
      }
    });
  }

  get running(): boolean {
    return !this.done;
  }

  /** Sends `signal` to nats-server. */
  signal(signal: NodeJS.Signals): void {
    if (this.done) return;
    if (signal === 'SIGKILL') {
      this.killNow();
      return;
    }
    if (this.pid === null) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** SIGKILL to nats-server, and end of file to the watchdog (which kills it too). Synchronous. */
  killNow(): void {
    if (this.pid !== null) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (this.child.stdin !== null) this.child.stdin.destroy();
    else this.child.kill('SIGKILL');
    if (!this.done) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The events only the embedded broker emits. */
const EMBEDDED_EVENTS: ReadonlySet<string | symbol> = new Set(['slowConsumer', 'routesChanged']);

/**
 * A real nats-server process behind the {@link NatsServer} handle. Create one with
 * `createServer({ backend: 'nats-server' })`.
 */
export class NatsServerProcess extends NatsServer {
  private readonly bin: string;
  private proc: ServerChild | null = null;
  private procState: ServerState = 'stopped';
  private clientPortNow = 0;
  private httpPortNow = 0;
  private routePortNow = 0;
  private infoNow: ServerInfo | null = null;
  /** The last log lines, for startup errors. */
  private logTail: string[] = [];

  /** @internal Use `createServer({ backend: 'nats-server' })`. */
  constructor(options: ResolvedOptions, bin: string) {
    super(options);
    this.bin = bin;
    // Listening for an event the process cannot deliver would wait forever: say so at once.
    (this as unknown as EventEmitter).on('newListener', (event: string | symbol) => {
      if (EMBEDDED_EVENTS.has(event)) throw this.unsupported(`on('${String(event)}')`);
    });
  }

  private unsupported(feature: string, hint?: string): UnsupportedError {
    return new UnsupportedError(feature, BACKEND, hint);
  }

  /**
   * @internal Starts the process; used by `createServer()` and `restart()`. `close()` or
   * `kill()` during the start kills the process, and the start rejects with ServerClosedError.
   */
  protected override async start(_port: number, generation: number): Promise<void> {
    if (this.procState !== 'stopped') return;
    const o = this.options;
    const ports: ProcessPorts = {
      client: this.clientPortNow || o.port || -1,
      http: this.httpPortNow || o.http?.port || -1,
      cluster: this.routePortNow || o.cluster?.port || -1,
    };
    const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-backend-'));
    writeFileSync(join(dir, 'nats-server.conf'), natsServerConfig(o, ports));
    this.logTail = [];
    const seen = { ready: false, client: 0, http: 0, route: 0 };
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
      this.clientPortNow = seen.client;
      this.httpPortNow = seen.http;
      this.routePortNow = seen.route;
      this.infoNow = await readInfo(dialHost(o.host), seen.client);
      // The INFO probe is a connection too: let the server drop it before anyone counts.
      await this.pollUntil(async () => (await this.connz()).total === 0, 'the INFO probe to close', 2000).catch(() => undefined);
      if (this.lifecycle.generation !== generation || !proc.running) throw this.lifecycle.interrupted('start the server');
      this.procState = 'running';
    } catch (err) {
      if (this.proc === proc) this.proc = null;
      proc.killNow();
      await proc.exited;
      throw this.lifecycle.generation !== generation ? this.lifecycle.interrupted('start the server') : err;
    }
  }

  private onLogLine(line: string, seen: { ready: boolean; client: number; http: number; route: number }): void {
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
      this.userError(err);
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

  /** GET a monitoring endpoint of the process as JSON. */
  private monitorJson<T>(path: string): Promise<T> {
    const url = `http://${urlHost(httpHost(this.options))}:${this.httpPortNow}${path}`;
    return new Promise<T>((resolve, reject) => {
      const req = httpGet(url, { agent: false, headers: { connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => void (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(new Error(`GET ${path}: HTTP ${String(res.statusCode)}: ${body.trim()}`));
            return;
          }
          try {
            resolve(JSON.parse(body) as T);
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(2000, () => req.destroy(new Error(`GET ${path}: timed out`)));
    });
  }

  private connz(): Promise<{ total: number }> {
    return this.monitorJson<{ total: number }>('/connz?limit=1');
  }

  /** Polls `probe` (errors count as "not yet": the process may be restarting) until it holds. */
  private async pollUntil(probe: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.lifecycle.disposed) throw new ServerClosedError(`wait for ${what}`, 'the server was closed');
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

  // ---- What the process can answer ----------------------------------------------------------

  override get port(): number {
    return this.clientPortNow;
  }

  override get url(): string {
    return `nats://${urlHost(this.options.host)}:${this.clientPortNow}`;
  }

  /** The INFO the process sent on its last start (without `client_id`/`client_ip`). */
  override get info(): ServerInfo {
    if (this.infoNow === null) throw new ServerClosedError('read INFO');
    return this.infoNow;
  }

  override get id(): string {
    return this.infoNow?.server_id ?? '';
  }

  override get monitorPort(): number {
    return this.options.http === null ? 0 : this.httpPortNow;
  }

  override get monitorUrl(): string | null {
    if (this.options.http === null) return null;
    return `http://${urlHost(this.options.http.host)}:${this.httpPortNow}`;
  }

  override get clusterPort(): number {
    return this.options.cluster === null ? 0 : this.routePortNow;
  }

  override get routeUrl(): string | null {
    const c = this.options.cluster;
    if (c === null) return null;
    return `nats-route://${urlHost(c.host)}:${this.routePortNow}`;
  }

  /** The configured cluster name, else the one the process reported in its INFO at start. */
  override get clusterName(): string | null {
    const c = this.options.cluster;
    if (c === null) return null;
    return c.name ?? this.infoNow?.cluster ?? null;
  }

  override get state(): ServerState {
    return this.procState;
  }

  override get closed(): boolean {
    return this.procState === 'stopped';
  }

  /** The process id of the running nats-server, or null when stopped. */
  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /**
   * Polls the monitoring endpoints until `count` subscriptions (default 1) match the literal
   * `subject`: local ones (`/subsz?test=<subject>`), and, when clustered, interest from other
   * servers (`/routez?subs=detail`, global account).
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   */
  override async waitForSubscription(subject: string, options: WaitOptions & { count?: number } = {}): Promise<void> {
    const count = countArg(options.count ?? 1, 'count');
    const what = `${count} subscription(s) matching "${subject}"`;
    const timeoutMs = durationArg(options.timeoutMs, 'timeoutMs', 5000);
    if (this.unavailable) throw new ServerClosedError(`wait for ${what}`);
    await this.pollUntil(async () => (await this.interest(subject, count)) >= count, what, timeoutMs);
  }

  /** Subscriptions matching `subject`, counted up to at least `enough`. */
  private async interest(subject: string, enough: number): Promise<number> {
    // Every account's sublist (as the embedded backend counts): `$G` and the configured ones.
    const accounts = ['$G', ...this.options.accountNames];
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

  /**
   * Polls `/connz` until at least `n` client connections are open.
   * @throws {WaitTimeoutError} after `timeoutMs` (default 5 s)
   */
  override async waitForConnections(n: number, options: WaitOptions = {}): Promise<void> {
    countArg(n, 'n');
    const timeoutMs = durationArg(options.timeoutMs, 'timeoutMs', 5000);
    if (this.unavailable) throw new ServerClosedError(`wait for ${n} connection(s)`);
    await this.pollUntil(async () => (await this.connz()).total >= n, `${n} connection(s)`, timeoutMs);
  }

  /** `close()` sends SIGTERM (nats-server closes its clients and exits), `kill()` SIGKILL. */
  protected override stop(graceful: boolean): Promise<void> {
    return this.stopProcess(graceful ? 'SIGTERM' : 'SIGKILL');
  }

  private stopProcess(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    this.procState = 'stopped';
    if (proc === null) return Promise.resolve();
    if (proc.running) {
      proc.signal(signal);
      if (signal === 'SIGTERM') {
        const timer = setTimeout(() => proc.killNow(), STOP_TIMEOUT_MS);
        void proc.exited.then(() => clearTimeout(timer));
      }
    }
    return proc.exited;
  }

  /**
   * SIGUSR2: nats-server's lame duck mode; resolves when the process has exited. nats-server
   * spreads the client closes over its configured `lame_duck_duration` (the `lameDuckDuration`
   * option, at least 30 s, which nats-server enforces); `durationMs` is checked but cannot
   * change a running process's setting. With few clients it ends after the grace period and
   * about one second per client.
   */
  override async lameDuck(durationMs?: Duration): Promise<void> {
    durationArg(durationMs, 'durationMs', this.options.lameDuckDurationMs);
    const proc = this.proc;
    if (this.lifecycle.disposed || this.procState !== 'running' || proc === null) {
      throw new ServerClosedError('enter lame duck mode', 'the server is not running');
    }
    this.procState = 'lameDuck';
    proc.signal('SIGUSR2');
    await proc.exited;
  }

  // ---- Embedded only --------------------------------------------------------------------------

  override reload(_options: ServerOptions): never {
    throw this.unsupported('reload()', 'restart the server with the new options instead');
  }

  override get connectionCount(): number {
    throw this.unsupported('connectionCount', 'use waitForConnections(), or /connz at monitorUrl (option http)');
  }

  override clients(): ClientSummary[] {
    throw this.unsupported('clients()', 'use /connz at monitorUrl (option http)');
  }

  override connections(): ConnectionInfo[] {
    throw this.unsupported('connections()', 'use /connz at monitorUrl (option http)');
  }

  override subscriptions(_filter: { cid?: number } = {}): SubscriptionInfo[] {
    throw this.unsupported('subscriptions()', 'use waitForSubscription(), or /subsz at monitorUrl (option http)');
  }

  override stats(): ServerStats {
    throw this.unsupported('stats()', 'use /varz at monitorUrl (option http)');
  }

  override routes(): RoutePeer[] {
    throw this.unsupported('routes()', 'use /routez at monitorUrl (option http)');
  }

  override blockRoutes(_serverNames: readonly string[]): void {
    throw this.unsupported('blockRoutes()');
  }

  override onMessage(_callback: (msg: TappedMessage) => void, _options: TapOptions = {}): () => void {
    throw this.unsupported('onMessage()');
  }

  override messages(_options: TapOptions = {}): AsyncIterableIterator<TappedMessage> {
    throw this.unsupported('messages()');
  }

  override pause(): void {
    throw this.unsupported('pause()');
  }

  override resume(): void {
    throw this.unsupported('resume()');
  }

  override setLatency(_ms: number): void {
    throw this.unsupported('setLatency()');
  }

  override dropMessages(_options: DropOptions): DropHandle {
    throw this.unsupported('dropMessages()');
  }

  override resetFaults(): void {
    throw this.unsupported('resetFaults()');
  }

  override disconnectClient(_cid: number): boolean {
    throw this.unsupported('disconnectClient()', 'nats-server 2.9 has no kick; use restart() to drop every client');
  }

  override disconnectClients(_filter?: (client: ClientSummary) => boolean): number {
    throw this.unsupported('disconnectClients()', 'nats-server 2.9 has no kick; use restart() to drop every client');
  }
}

/** Reads the INFO line a NATS server sends on connect, then hangs up. */
function readInfo(host: string, port: number, timeoutMs = 5000): Promise<ServerInfo> {
  return new Promise<ServerInfo>((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    let buf = '';
    const done = (err: Error | null, info?: ServerInfo): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err !== null) reject(err);
      else resolve(info!);
    };
    const timer = setTimeout(() => done(new Error(`no INFO from nats-server on ${hostPort(host, port)} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buf += d;
      const end = buf.indexOf('\r\n');
      if (end < 0) return;
      const line = buf.slice(0, end);
      if (!line.startsWith('INFO ')) {
        done(new Error(`expected INFO from nats-server, got ${JSON.stringify(line.slice(0, 200))}`));
        return;
      }
      try {
        const info = JSON.parse(line.slice(5)) as Record<string, unknown>;
        delete info.client_id;
        delete info.client_ip;
        done(null, info as unknown as ServerInfo);
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('error', (err) => done(err));
  });
}

/**
 * @internal Starts a {@link NatsServerProcess}; `createServer()` calls it for
 * `backend: 'nats-server'`.
 */
export async function startNatsServerProcess(options: ResolvedOptions): Promise<NatsServerProcess> {
  if (options.seed !== null) throw new UnsupportedError('seed', BACKEND, 'nats-server picks queue members at random');
  if (options.tls !== null || options.cluster?.tls != null) {
    throw new UnsupportedError('tls', BACKEND, 'not yet passed on to the nats-server process');
  }
  if (options.websocket !== null) {
    throw new UnsupportedError('websocket', BACKEND, 'not yet passed on to the nats-server process');
  }
  const server = new NatsServerProcess(options, findNatsServerBinary());
  await server.listen();
  return server;
}
