/**
 * The built CLI started the way test harnesses start nats-server: a config file, `-c`, a ports
 * file directory; then the official client, monitoring, SIGHUP, SIGUSR2, SIGKILL and a restart
 * on the same ports. Also its one-shot commands (help, version, bad flags, `-t`).
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const scope = useScope();

interface Started {
  child: ChildProcess;
  log: () => string;
  exited: Promise<number | null>;
}

/** Runs the built CLI with node; or `command` (a symlink or wrapper) as a harness would, from PATH. */
function start(args: string[], command?: { name: string; dir: string }, env?: NodeJS.ProcessEnv): Started {
  const child = command === undefined
    ? spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    : spawn(command.name, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${command.dir}${delimiter}${process.env.PATH ?? ''}` },
    });
  scope.defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => void (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => void (log += d.toString()));
  // 'close' (not 'exit'): by then everything the process logged has been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, log: () => log, exited };
}

interface Ports {
  nats: string[];
  monitoring?: string[];
  cluster?: string[];
  websocket?: string[];
}

function portsFile(dir: string, pid: number, executable = 'nats-embedded'): Ports | undefined {
  const file = join(dir, `${executable}_${pid}.ports`);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Ports;
}

describe('the CLI as a nats-server stand-in', () => {
  it('config file, ports file, client, monitoring, SIGHUP, SIGUSR2, SIGKILL and restart on the same ports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-cli-'));
    const conf = join(dir, 'server.conf');
    const write = (maxPayload: string): void =>
      writeFileSync(conf, [
        '# written by a test harness',
        'listen: "127.0.0.1:-1"',
        'server_name: harness',
        `max_payload: ${maxPayload}`,
        'http: "127.0.0.1:-1"',
        'leafnodes { listen: "127.0.0.1:-1" }',
        'websocket { port: -1, no_tls: true }',
        // Lame duck mode (SIGUSR2 below) waits this long before closing the connected client:
        // 1 s instead of nats-server's default 10 s.
        'lame_duck_grace_period: "1s"',
      ].join('\n'));
    write('64KB');
    const pidFile = join(dir, 'server.pid');
    const first = start(['-c', conf, '--ports_file_dir', dir, '-P', pidFile]);
    const ports = await eventually(() => portsFile(dir, first.child.pid!), 'the ports file', 10_000);
    // The ports file can appear before the log lines have come through the stderr pipe.
    await eventually(() => first.log().includes('Server is ready'), 'the startup log', 10_000);
    expect(readFileSync(pidFile, 'utf8')).toBe(String(first.child.pid));
    expect(first.log()).toMatch(/\[INF\] Listening for leafnode connections on 127\.0\.0\.1:\d+/);
    expect(first.log()).toMatch(/\[INF\] Listening for client connections on 127\.0\.0\.1:\d+/);
    expect(first.log()).toContain('[INF] Server is ready');
    expect(ports.nats).toHaveLength(1);
    expect(ports.monitoring).toHaveLength(1);
    expect(ports.websocket).toHaveLength(1);
    expect(ports.websocket![0]).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(first.log()).toMatch(/\[INF\] Listening for websocket clients on ws:\/\/127\.0\.0\.1:\d+/);

    const nc = await scope.client(ports.nats[0], { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    expect(nc.info?.max_payload).toBe(65536);
    expect(nc.info?.server_name).toBe('harness');
    const sub = nc.subscribe('cli.>');
    await nc.flush();

    const varz = (await (await fetch(`${ports.monitoring![0]}/varz`)).json()) as Record<string, unknown>;
    expect(varz.server_name).toBe('harness');
    expect(varz.max_payload).toBe(65536);
    expect(varz.websocket).toEqual({ host: '127.0.0.1', port: Number(new URL(ports.websocket![0]).port), no_tls: true });
    const connz = (await (await fetch(`${ports.monitoring![0]}/connz?subs=detail`)).json()) as {
      connections: Array<{ subscriptions_list_detail?: Array<{ subject: string }> }>;
    };
    expect(connz.connections[0].subscriptions_list_detail?.map((s) => s.subject)).toEqual(['cli.>']);

    // SIGHUP: the changed file takes effect for new connections.
    write('128KB');
    first.child.kill('SIGHUP');
    await eventually(() => first.log().includes('Reloaded server configuration'), 'the reload', 10_000);
    const second = await scope.client(ports.nats[0]);
    expect(second.info?.max_payload).toBe(131072);
    await second.close();

    // SIGKILL, then start again on the same ports: the client reconnects and resubscribes.
    const natsPort = Number(new URL(ports.nats[0]).port);
    const monPort = Number(new URL(ports.monitoring![0]).port);
    first.child.kill('SIGKILL');
    await first.exited;
    const again = start(['-c', conf, '-p', String(natsPort), '-m', String(monPort), '--ports_file_dir', dir]);
    const ports2 = await eventually(() => portsFile(dir, again.child.pid!), 'the second ports file', 10_000);
    expect(ports2.nats).toEqual(ports.nats);
    const pub = await scope.client(ports.nats[0]);
    let got = '';
    (async () => {
      for await (const m of sub) {
        got = m.string();
        break;
      }
    })().catch(() => undefined);
    await eventually(() => {
      pub.publish('cli.after', 'restarted');
      return got === 'restarted';
    }, 'a message after the restart', 10_000);
    await pub.close();

    // SIGUSR2: lame duck mode, then the process exits and removes its ports file.
    again.child.kill('SIGUSR2');
    await eventually(() => again.log().includes('Entering lame duck mode'), 'lame duck', 10_000);
    expect(await again.exited).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.ports')).length).toBe(1); // only the SIGKILLed one's
    await nc.close();
  }, 60_000);

  it('SIGUSR2 with no client connected exits at once (nats-server shuts down without clients)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-cli-'));
    const conf = join(dir, 'ldm.conf');
    // A grace period beyond any test timeout: only an immediate shutdown passes.
    writeFileSync(conf, 'listen: "127.0.0.1:-1"\nlame_duck_grace_period: "1h"\nlame_duck_duration: "2h"\n');
    const s = start(['-c', conf, '--ports_file_dir', dir]);
    await eventually(() => portsFile(dir, s.child.pid!), 'ports file', 10_000);
    s.child.kill('SIGUSR2');
    const outcome = await Promise.race([s.exited, new Promise((r) => setTimeout(() => r('still running'), 5000))]);
    expect(outcome).toBe(0);
    expect(s.log()).toContain('Entering lame duck mode');
    expect(readdirSync(dir)).toEqual(['ldm.conf']);
  });

  it('stops cleanly on SIGTERM and SIGINT, removing its files', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-cli-'));
      const s = start(['-p', '-1', '-a', '127.0.0.1', '--ports_file_dir', dir, '-T=false']);
      const ports = await eventually(() => portsFile(dir, s.child.pid!), 'ports file', 10_000);
      const nc = await scope.client(ports.nats[0], { reconnect: false });
      const sub = nc.subscribe('cli.test', { max: 1 });
      nc.publish('cli.test', 'ok');
      for await (const m of sub) expect(m.string()).toBe('ok');
      s.child.kill(signal);
      expect(await s.exited).toBe(0);
      await nc.closed();
      expect(s.log()).toContain('Server Exiting');
      expect(s.log()).toMatch(new RegExp(`^\\[${s.child.pid}\\] \\[INF\\] `, 'm')); // -T=false: no timestamps
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it('-D and -V log connections and protocol traces', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-cli-'));
    const s = start(['-p', '-1', '-a', '127.0.0.1', '--ports_file_dir', dir, '-DV']);
    const ports = await eventually(() => portsFile(dir, s.child.pid!), 'ports file', 10_000);
    const nc = await scope.client(ports.nats[0]);
    nc.subscribe('traced.subject');
    await nc.flush();
    await nc.close();
    await eventually(() => s.log().includes('Client connection closed'), 'close debug line', 10_000);
    expect(s.log()).toMatch(/\[DBG\] 127\.0\.0\.1:\d+ - cid:\d+ - Client connection created/);
    expect(s.log()).toMatch(/\[TRC\] 127\.0\.0\.1:\d+ - cid:\d+ - <<- \[SUB traced\.subject 1\]/);
    s.child.kill('SIGTERM');
    await s.exited;
  });

  it('logtime_utc (config or flag) writes UTC timestamps, as nats-server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-cli-'));
    const conf = join(dir, 'utc.conf');
    writeFileSync(conf, 'listen: "127.0.0.1:-1"\nlogtime_utc: true\n');
    // Kathmandu is UTC+05:45: local time differs from UTC in the minutes as well as the hours.
    for (const args of [['-c', conf], ['-p', '-1', '-a', '127.0.0.1', '--logtime_utc']]) {
      const s = start(args, undefined, { TZ: 'Asia/Kathmandu' });
      await eventually(() => s.log().includes('Server is ready'), 'the startup log', 10_000);
      const m = /^\[\d+\] (\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.\d{6} \[INF\] Server is ready$/m.exec(s.log());
      expect(m, s.log()).not.toBeNull();
      const logged = Date.UTC(Number(m![1]), Number(m![2]) - 1, Number(m![3]), Number(m![4]), Number(m![5]), Number(m![6]));
      expect(Math.abs(Date.now() - logged)).toBeLessThan(60_000);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    }
  });

  it('a config written for nats-server: `permission` (its alias), upper-case keys and variables are honoured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-cli-'));
    const conf = join(dir, 'auth.conf');
    writeFileSync(conf, [
      'listen: "127.0.0.1:-1"',
      'PASS: s3cret',
      'authorization {',
      '  users: [',
      '    { user: a, password: $PASS, permission: { publish: "allowed.>", subscribe: "_INBOX.>" } }',
      '    { USER: b, PASSWORD: $PASS, PERMISSIONS: { PUB: { DENY: "allowed.>" } } }',
      '  ]',
      '}',
    ].join('\n'));
    const s = start(['-c', conf, '--ports_file_dir', dir]);
    const ports = await eventually(() => portsFile(dir, s.child.pid!), 'ports file', 10_000);
    const b = await scope.client(ports.nats[0], { user: 'b', pass: 's3cret' });
    const seen = b.subscribe('>');
    await b.flush();
    const a = await scope.client(ports.nats[0], { user: 'a', pass: 's3cret' });
    const errors: string[] = [];
    (async () => {
      for await (const st of a.status()) if (st.type === 'error') errors.push(String(st.error));
    })().catch(() => undefined);
    a.publish('denied.x', 'no');
    a.publish('allowed.x', 'yes');
    await a.flush();
    for await (const m of seen) {
      expect(m.subject).toBe('allowed.x');
      break;
    }
    await eventually(() => errors.some((e) => /Permissions Violation for Publish to "denied\.x"/i.test(e)), 'the violation', 10_000);
    await a.close();
    await b.close();
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
  });

  describe('installed as nats-server: the ports file is named after the invoked executable', () => {
    /** A harness's start: `nats-server -c <conf>` from PATH, then wait for `<exe>_<pid>.ports`. */
    async function runAs(command: { name: string; dir: string } | undefined, executable: string, viaFlag: boolean): Promise<void> {
      const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-dropin-'));
      const conf = join(dir, 'server.conf');
      writeFileSync(conf, ['listen: "127.0.0.1:-1"', ...(viaFlag ? [] : [`ports_file_dir: "${dir}"`])].join('\n'));
      const s = start(['-c', conf, ...(viaFlag ? ['--ports_file_dir', dir] : [])], command);
      const ports = await eventually(() => portsFile(dir, s.child.pid!, executable), `${executable}_<pid>.ports`, 10_000);
      // The whole file, as nats-server writes it: compact JSON, only the listeners there are.
      const text = readFileSync(join(dir, `${executable}_${s.child.pid!}.ports`), 'utf8');
      expect(text).toMatch(/^\{"nats":\["nats:\/\/127\.0\.0\.1:\d+"\]\}$/);
      // Written under a temporary name and renamed (a harness never reads it half-written): no leftovers.
      expect(readdirSync(dir).sort()).toEqual([`${executable}_${s.child.pid!}.ports`, 'server.conf']);
      const nc = await scope.client(ports.nats[0]);
      await nc.flush();
      await nc.close();
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(readdirSync(dir).filter((f) => f.endsWith('.ports'))).toEqual([]);
    }

    it('a symlink named nats-server writes nats-server_<pid>.ports (ports_file_dir in the config, or the flag)', async () => {
      const bin = mkdtempSync(join(tmpdir(), 'nats-embedded-bin-'));
      symlinkSync(CLI, join(bin, 'nats-server'));
      await runAs({ name: 'nats-server', dir: bin }, 'nats-server', false);
      await runAs({ name: 'nats-server', dir: bin }, 'nats-server', true);
    }, 30_000);

    it('run as itself (node dist/cli.js), it writes nats-embedded_<pid>.ports', async () => {
      await runAs(undefined, 'nats-embedded', false);
    });

    it('a shell wrapper that execs node on the CLI: nats-embedded_<pid>.ports, or its own name given in NATS_EMBEDDED_EXECUTABLE', async () => {
      const bin = mkdtempSync(join(tmpdir(), 'nats-embedded-bin-'));
      const wrapper = join(bin, 'nats-server');
      writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
      chmodSync(wrapper, 0o755);
      await runAs({ name: 'nats-server', dir: bin }, 'nats-embedded', false);
      writeFileSync(wrapper, `#!/bin/sh\nNATS_EMBEDDED_EXECUTABLE="$(basename "$0")" exec "${process.execPath}" "${CLI}" "$@"\n`);
      await runAs({ name: 'nats-server', dir: bin }, 'nats-server', false);
    }, 30_000);

    it('on 0.0.0.0 it lists every interface address, and the loopback ones of both families connect (dual-stack)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-cli-'));
      const s = start(['-a', '0.0.0.0', '-p', '-1', '--ports_file_dir', dir]);
      const ports = await eventually(() => portsFile(dir, s.child.pid!), 'ports file', 10_000);
      const loopback = ports.nats.filter((u) => /^nats:\/\/(127\.0\.0\.1|\[::1\]):\d+$/.test(u));
      // 127.0.0.1, and [::1] where the host has IPv6.
      const hasV6Loopback = Object.values(networkInterfaces()).some((l) => l?.some((a) => a.address === '::1'));
      expect(loopback.length).toBe(hasV6Loopback ? 2 : 1);
      for (const url of loopback) {
        const nc = await scope.client(url, { reconnect: false });
        await nc.flush();
        await nc.close();
      }
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    });

    it('a ports_file_dir that does not exist: the error is logged, the server keeps running (as nats-server)', async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'nats-embedded-cli-')), 'missing');
      const s = start(['-p', '-1', '-a', '127.0.0.1', '--ports_file_dir', dir]);
      await eventually(() => s.log().includes('Error writing ports file'), 'the error', 10_000);
      const file = join(dir, `nats-embedded_${s.child.pid!}.ports`);
      expect(s.log()).toContain(`[ERR] Error writing ports file (${file}): open ${file}: no such file or directory`);
      expect(existsSync(dir)).toBe(false);
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
    });
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
    const r = spawnSync(process.execPath, [CLI, '--profile', '6060'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--profile');
    expect(r.stderr).toContain('not supported');
  });

  it('-t checks a config file: valid, or the error with its position', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    writeFileSync(join(dir, 'ok.conf'), 'port: 4222\n');
    writeFileSync(join(dir, 'bad.conf'), 'port: 4222\nmax_payload: [\n');
    const ok = spawnSync(process.execPath, [CLI, '-t', '-c', join(dir, 'ok.conf')], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('is valid');
    const bad = spawnSync(process.execPath, [CLI, '-t', '-c', join(dir, 'bad.conf')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad\.conf:3:1: missing '\]'/);
  });
});
