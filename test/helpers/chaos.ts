/**
 * What the crash tests share: a seeded random generator (a failing round can be replayed from
 * its seed) and the CLI started with JetStream on a store directory, to be SIGKILLed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './eventually.js';
import type { Scope } from './scope.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** A seeded generator of numbers in [0, 1) (the broker's mulberry32). */
export { seededRandom as rng } from '../../src/broker/core.js';

/**
 * Starts the built CLI (`dist/cli.js`) with JetStream on `storeDir`, on a free port (read from
 * its ports file in `portsDir`); killed at the end of the scope if still running.
 */
export async function startJetStreamCli(scope: Scope, storeDir: string, portsDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, '-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', portsDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  scope.defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.stderr!.resume();
  const file = join(portsDir, `nats-embedded_${child.pid}.ports`);
  const ports = await eventually(
    () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { nats: string[] }) : undefined),
    'the ports file',
    10_000,
  );
  return { child, url: ports.nats[0]! };
}
