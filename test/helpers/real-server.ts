/**
 * Starts a real nats-server for comparison tests: writes a config file, spawns the binary and
 * waits for "Server is ready". One helper for every test that needs the reference server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RealServer {
  readonly child: ChildProcess;
  /** The config file it was started with (rewrite it and send SIGHUP to reload). */
  readonly confPath: string;
  /** Kills the process (if still running) and removes its config directory. */
  stop(): Promise<void>;
}

/** A port that was free a moment ago (for configs that need a fixed port). */
export async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const a = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/**
 * The config lines of a `cluster` block for a real server in the tests' cluster `C`: its route
 * listener on 127.0.0.1, the routes it dials, and any more lines inside the block (`authorization`).
 */
export function clusterBlock(clusterPort: number, routes: readonly string[] = [], extra: readonly string[] = []): string[] {
  return [
    'cluster {',
    '  name: C',
    `  listen: "127.0.0.1:${clusterPort}"`,
    ...(routes.length === 0 ? [] : [`  routes: [${routes.map((r) => `"${r}"`).join(', ')}]`]),
    ...extra.map((l) => `  ${l}`),
    '}',
  ];
}

/** Spawns `bin -c <config>` with the given config lines; resolves once the server is ready. */
export async function startRealServer(bin: string, configLines: readonly string[], timeoutMs = 10_000): Promise<RealServer> {
  if (bin === '') throw new Error('no nats-server binary: run this through `npm run test:conformance` (NATS_SERVER_BIN)');
  const dir = mkdtempSync(join(tmpdir(), 'nats-real-'));
  const conf = join(dir, 'server.conf');
  writeFileSync(conf, `${configLines.join('\n')}\n`);
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`nats-server did not start: ${log}`)), timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${String(code)}: ${log}`));
      });
      child.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, stop, confPath: conf };
}
