/**
 * `backend: 'nats-server'`: the real binary behind the `NatsServer` handle — what it supports
 * and the clear error for what only the embedded broker has. (The option and the configuration
 * written for the process, without a process: test/unit/backend-options.test.ts.)
 *
 * Needs the nats-server binary (NATS_SERVER_BIN, or `nats-server` on PATH). Without it these
 * tests fail with the install hint rather than skip: CI installs it.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NatsConnection } from '@nats-io/transport-node';
import {
  ConfigError,
  createCluster,
  createServer,
  ListenError,
  NatsServer,
  ServerClosedError,
  UnsupportedError,
  WaitTimeoutError,
} from '../../src/index.js';
import { findNatsServerBinary } from '../../src/backend/nats-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { thrown } from '../helpers/errors.js';

/** The built package: a separate Node process loads it. */
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

const scope = useScope();

function real(opts: Parameters<typeof createServer>[0] = {}): Promise<NatsServer> {
  return scope.server({ ...opts, backend: 'nats-server' });
}

function client(url: string): Promise<NatsConnection> {
  return scope.client(url, { reconnectTimeWait: 20, maxReconnectAttempts: -1 });
}


describe('the backend option', () => {
  it('the embedded broker reports its backend and keeps it across reloads, whatever the environment', async () => {
    scope.env('NATS_EMBEDDED_BACKEND', undefined);
    const s = await scope.server();
    expect(s.backend).toBe('embedded');
    scope.env('NATS_EMBEDDED_BACKEND', 'nats-server');
    s.reload({ maxPayload: 1000 });
    expect(s.options.backend).toBe('embedded');
    expect(() => s.reload({ backend: 'nats-server' })).toThrow(/"backend": cannot be changed by a reload/);
  });

  it('createCluster() is embedded only', async () => {
    const e = await createCluster({ backend: 'nats-server', size: 1 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UnsupportedError);
    expect((e as Error).message).toMatch(/^"createCluster\(\)" is not available with backend "nats-server" \(embedded only\)/);
  });
});

describe('the nats-server binary', () => {
  it('is found (NATS_SERVER_BIN, or nats-server on PATH) — install it to run these tests', () => {
    // Fails, with the install hint, where the binary is missing: CI must install it.
    expect(findNatsServerBinary()).toMatch(/nats-server/);
  });

  it('a missing binary is a ConfigError that says how to install it', async () => {
    const none = thrown(() => findNatsServerBinary({ PATH: '/nonexistent' }));
    expect(none).toBeInstanceOf(ConfigError);
    expect((none as ConfigError).option).toBe('backend');
    expect((none as Error).message).toMatch(/none on PATH.*apt-get install -y nats-server.*NATS_SERVER_BIN/);
    const wrong = thrown(() => findNatsServerBinary({ NATS_SERVER_BIN: '/nonexistent/nats-server' }));
    expect((wrong as Error).message).toMatch(/NATS_SERVER_BIN=\/nonexistent\/nats-server is not an executable file.*apt-get install/);
    scope.env('NATS_SERVER_BIN', '/nonexistent/nats-server');
    await expect(createServer({ backend: 'nats-server' })).rejects.toThrow(/apt-get install -y nats-server/);
  });
});

describe('createServer({ backend: "nats-server" })', () => {
  it('returns the same handle type around a real nats-server', async () => {
    const started = performance.now();
    const s = await real({ serverName: 'real-1', maxPayload: 4096 });
    const ms = performance.now() - started;
    console.log(`nats-server backend: ready in ${ms.toFixed(0)} ms`);
    expect(s).toBeInstanceOf(NatsServer);
    expect(s.pid).toBeGreaterThan(0);
    expect(s.backend).toBe('nats-server');
    expect(s.state).toBe('running');
    expect(s.closed).toBe(false);
    expect(s.url).toBe(`nats://127.0.0.1:${s.port}`);
    expect(s.info).toMatchObject({ server_name: 'real-1', max_payload: 4096, port: s.port, headers: true });
    expect(s.info.version).not.toBe(''); // the binary's own version
    expect(s.info.client_id).toBeUndefined();
    expect(s.id).toBe(s.info.server_id);
    expect(s.monitorUrl).toBeNull(); // monitoring runs (for waitFor...), but was not asked for
    expect(s.routeUrl).toBeNull();
    const nc = await client(s.url);
    expect(nc.info?.server_id).toBe(s.id);
    expect(nc.info?.max_payload).toBe(4096);
    const got: string[] = [];
    nc.subscribe('greet', { callback: (_e, m) => void got.push(m.string()) });
    await s.waitForSubscription('greet');
    nc.publish('greet', 'hi');
    await nc.flush();
    expect(got).toEqual(['hi']);
  });

  it('waitForSubscription and waitForConnections poll the monitoring endpoints', async () => {
    const s = await real();
    const waiting = s.waitForConnections(2);
    const a = await client(s.url);
    const b = await client(s.url);
    await waiting;
    [a, b].forEach((nc) => nc.subscribe('work.*', { queue: 'q' }));
    await s.waitForSubscription('work.1', { count: 2 });
    await expect(s.waitForSubscription('work.1', { count: 3, timeoutMs: 100 })).rejects.toBeInstanceOf(WaitTimeoutError);
    await expect(s.waitForConnections(3, { timeoutMs: 100 })).rejects.toThrow('Timed out after 100 ms waiting for 3 connection(s)');
  });

  it('throws UnsupportedError for what only the embedded broker has', async () => {
    const s = await real();
    const calls: Array<[string, () => unknown]> = [
      ['connectionCount', () => s.connectionCount],
      ['clients()', () => s.clients()],
      ['connections()', () => s.connections()],
      ['subscriptions()', () => s.subscriptions()],
      ['stats()', () => s.stats()],
      ['routes()', () => s.routes()],
      ['blockRoutes()', () => s.blockRoutes(['x'])],
      ['gateways()', () => s.gateways()],
      ['blockGateways()', () => s.blockGateways(['x'])],
      ['gatewayInterestMode()', () => s.gatewayInterestMode('x')],
      ['setGatewayLatency()', () => s.setGatewayLatency('x', 10)],
      ['onMessage()', () => s.onMessage(() => undefined)],
      ['messages()', () => s.messages()],
      ['pause()', () => s.pause()],
      ['resume()', () => s.resume()],
      ['setLatency()', () => s.setLatency(10)],
      ['dropMessages()', () => s.dropMessages({ subject: 'a', count: 1 })],
      ['resetFaults()', () => s.resetFaults()],
      ['disconnectClient()', () => s.disconnectClient(1)],
      ['disconnectClients()', () => s.disconnectClients()],
      ['reload()', () => s.reload({ maxPayload: 10 })],
      ["on('slowConsumer')", () => s.on('slowConsumer', () => undefined)],
      ["on('routesChanged')", () => s.once('routesChanged', () => undefined)],
    ];
    for (const [feature, call] of calls) {
      const e = thrown(call);
      expect(e, feature).toBeInstanceOf(UnsupportedError);
      expect((e as UnsupportedError).code).toBe('ERR_UNSUPPORTED');
      expect((e as UnsupportedError).feature).toBe(feature);
      expect((e as Error).message.startsWith(`"${feature}" is not available with backend "nats-server" (embedded only)`)).toBe(true);
    }
    expect(s.listenerCount('slowConsumer')).toBe(0);
    await expect(createServer({ backend: 'nats-server', seed: 1 })).rejects.toThrow(
      /^"seed" is not available with backend "nats-server" \(embedded only\)/,
    );
  });

  it('kill() and restart() bring the process back on the same port; clients reconnect', async () => {
    const s = await real();
    const port = s.port;
    const firstId = s.id;
    const nc = await client(s.url);
    const got: string[] = [];
    nc.subscribe('after', { callback: (_e, m) => void got.push(m.string()) });
    await s.waitForSubscription('after');
    await s.kill();
    expect(s.state).toBe('stopped');
    expect(s.closed).toBe(true);
    const started = performance.now();
    await s.restart({ downMs: 20 });
    console.log(`nats-server backend: restart (down 20 ms) in ${(performance.now() - started).toFixed(0)} ms`);
    expect(s.port).toBe(port);
    expect(s.id).not.toBe(firstId);
    expect(s.state).toBe('running');
    await s.waitForSubscription('after', { timeoutMs: 10_000 }); // re-sent by the client
    nc.publish('after', 'again');
    await nc.flush();
    expect(got).toEqual(['again']);
    await s.restart({ graceful: true });
    expect(s.port).toBe(port);
    await s.close();
    await s.close(); // twice is fine
    expect(s.state).toBe('stopped');
    await expect(s.lameDuck()).rejects.toBeInstanceOf(ServerClosedError);
  });

  it('lameDuck() sends SIGUSR2: clients get the ldm notice, the process exits', async () => {
    const s = await real({ lameDuckGracePeriod: 50 });
    const nc = await client(s.url);
    await nc.flush();
    const ldm = (async () => {
      for await (const st of nc.status()) if (st.type === 'ldm') return true;
      return false;
    })();
    const done = s.lameDuck();
    expect(s.state).toBe('lameDuck');
    expect(await ldm).toBe(true);
    await done;
    expect(s.state).toBe('stopped');
  });

  it('serves monitoring when asked (http), and forwards its log lines to the logger', async () => {
    const lines: string[] = [];
    const log = (m: string): void => void lines.push(m);
    const s = await real({ http: -1, logger: { info: log, warn: log, error: log } });
    expect(s.monitorUrl).toBe(`http://127.0.0.1:${s.monitorPort}`);
    const varz = (await (await fetch(`${s.monitorUrl}/varz`)).json()) as { server_id: string; port: number };
    expect(varz).toMatchObject({ server_id: s.id, port: s.port });
    expect(lines).toContain('Server is ready');
    expect(lines.some((l) => l.startsWith('Starting nats-server'))).toBe(true);
  });

  it('an address in use is a ListenError', async () => {
    const blocker = createTcpServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    scope.defer(() => new Promise((r) => blocker.close(r)));
    const port = (blocker.address() as { port: number }).port;
    const e = await createServer({ backend: 'nats-server', port }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ListenError);
    expect((e as ListenError).port).toBe(port);
  });

  it('clusters: with other nats-server processes and with embedded servers', async () => {
    const a = await real({ serverName: 'ra', cluster: { name: 'C' } });
    expect(a.routeUrl).toBe(`nats-route://127.0.0.1:${a.clusterPort}`);
    expect(a.clusterName).toBe('C');
    const b = await real({ serverName: 'rb', cluster: { name: 'C', routes: [a.routeUrl!] } });
    const emb = await scope.server({ backend: 'embedded', serverName: 'emb', cluster: { name: 'C', routes: [a.routeUrl!], reconnectDelay: 50 } });
    const onEmb = await client(emb.url);
    onEmb.subscribe('x.y', { callback: () => undefined });
    await onEmb.flush();
    // Interest from the embedded server reaches both processes over routes.
    await a.waitForSubscription('x.y', { timeoutMs: 10_000 });
    await b.waitForSubscription('x.y', { timeoutMs: 10_000 });
    await emb.waitForSubscription('x.y');
  });

  it('a Node process that dies without closing leaves no nats-server (and no config directory) behind', async () => {
    const script = `
      import { createServer } from ${JSON.stringify(DIST)};
      const s = await createServer({ backend: 'nats-server' });
      process.stdout.write(JSON.stringify({ pid: s.pid }) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const node = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    scope.defer(() => node.kill('SIGKILL'));
    const line = await new Promise<string>((resolve) => node.stdout!.once('data', (d: Buffer) => resolve(d.toString())));
    const { pid } = JSON.parse(line) as { pid: number };
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(true);
    // nats-server -c <dir>/nats-server.conf
    const conf = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[2];
    expect(existsSync(conf)).toBe(true);
    node.kill('SIGKILL'); // no exit handlers run
    // Within one 5 s budget, as before: the process exits, then its config directory goes.
    await eventually(() => !alive() && !existsSync(dirname(conf)), 'the orphaned nats-server to exit and its config directory to go', 5000);
  });

  it('await using closes the process', async () => {
    let pid: number | null = null;
    {
      await using s = await createServer({ backend: 'nats-server' });
      pid = s.pid;
      expect(pid).toBeGreaterThan(0);
    }
    expect(() => process.kill(pid!, 0)).toThrow();
  });
});
