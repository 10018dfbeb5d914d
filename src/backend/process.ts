/**
 * The nats-server process itself: finding the binary, running it behind a watchdog that kills
 * it when this Node process dies (however it dies), reading its first INFO, and GETting its
 * monitoring endpoints. The backend built on this is `nats-server.ts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync, statSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { delimiter, join } from 'node:path';
import { ConfigError } from '../errors.js';
import { hostPort } from '../io/listen.js';
import type { ServerInfo } from '../broker/info.js';

/** How to get the binary, for error messages. */
export const INSTALL_HINT =
  'install it (Debian/Ubuntu: apt-get install -y nats-server; or a release from ' +
  'https://github.com/nats-io/nats-server/releases) or set NATS_SERVER_BIN=/path/to/nats-server';

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
export class ServerChild {
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

/** Reads the INFO line a NATS server sends on connect, then hangs up. */
export function readInfo(host: string, port: number, timeoutMs = 5000): Promise<ServerInfo> {
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


/** GETs a monitoring endpoint as JSON (a non-200 answer rejects with its status and body). */
export function getJson<T>(url: string, timeoutMs = 2000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const req = httpGet(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => void (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${url}: HTTP ${String(res.statusCode)}: ${body.trim()}`));
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
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url}: timed out`)));
  });
}
