import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { parseArgs } from '../../src/cli/args.js';
import { ConfigError } from '../../src/errors.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

describe('CLI flags', () => {
  it('parses nats-server spellings', () => {
    expect(parseArgs(['-p', '5222', '-a', '127.0.0.1']).options).toEqual({ port: 5222, host: '127.0.0.1' });
    expect(parseArgs(['--port=-1', '--addr', '::1']).options).toEqual({ port: -1, host: '::1' });
    expect(parseArgs(['-port', '1', '--net=0.0.0.0', '-n', 'a']).options).toEqual({ port: 1, host: '0.0.0.0', serverName: 'a' });
    expect(parseArgs(['-h']).help).toBe(true);
    expect(parseArgs(['--version']).version).toBe(true);
  });

  it('names the offending flag', () => {
    const cases: Array<[string[], string, RegExp]> = [
      [['-p', 'abc'], '-p', /port number/],
      [['-p', '70000'], '-p', /between/],
      [['--port'], '--port', /needs a value/],
      [['--bogus'], '--bogus', /unknown flag/],
      [['-js'], '-js', /not supported/],
      [['stray'], 'stray', /unexpected/],
    ];
    for (const [argv, option, reason] of cases) {
      let err: unknown;
      try {
        parseArgs(argv);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).option).toBe(option);
      expect((err as ConfigError).message).toMatch(reason);
    }
  });
});

describe('nats-embedded command (built by npm test)', () => {
  it('prints help and version', () => {
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--port');
    const version = spawnSync(process.execPath, [CLI, '-v'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/nats-embedded: v\d+\.\d+\.\d+/);
  });

  it('exits non-zero with a clear message for a bad flag', () => {
    const r = spawnSync(process.execPath, [CLI, '--jetstream'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--jetstream');
    expect(r.stderr).toContain('not supported');
  });

  it('starts a broker, serves clients and stops cleanly on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const child = spawn(process.execPath, [CLI, '-p', '-1', '-a', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (d: string) => {
          out += d;
          const m = /Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
      });
      const nc = await connect({ servers: `nats://127.0.0.1:${port}`, reconnect: false });
      const sub = nc.subscribe('cli.test', { max: 1 });
      nc.publish('cli.test', 'ok');
      for await (const m of sub) expect(m.string()).toBe('ok');
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      expect(await exit).toBe(0);
      await nc.closed();
      expect(out).toContain('Server Exiting');
    }
  });
});
