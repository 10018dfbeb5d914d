/**
 * createServer() on real sockets: listening, ids, many servers in one process, close() and
 * its guarantees, option validation and defaults, liveness PINGs.
 */
import { describe, expect, it } from 'vitest';
import { createServer as createTcpServer } from 'node:net';
import { ConfigError, ListenError, NatsEmbeddedError, NATS_SERVER_VERSION, createServer, type NatsServer } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';

/** Servers made here are closed after each test, also when it fails (close() is idempotent). */
const scope = useScope();
const { server: start } = scope;

/** A raw connection, closed after the test. */
function track(w: WireClient): WireClient {
  scope.defer(() => w.close());
  return w;
}

/** Resources that belong to sockets, servers and timers (what a leaked broker would hold). */
function openHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => /TCP|Timeout|Pipe/.test(r));
}

/** [type, count] pairs of a handle list. */
function countByType(handles: string[]): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const h of handles) m.set(h, (m.get(h) ?? 0) + 1);
  return [...m];
}

async function settle(): Promise<void> {
  // Handle closes complete on a later turn of the loop.
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

describe('createServer()', () => {
  it('listens on 127.0.0.1 on an ephemeral port by default', async () => {
    const server = await start();
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(server.info.port).toBe(server.port);
    expect(server.info.version).toBe(NATS_SERVER_VERSION);
    expect(server.info.server_id).toMatch(/^N[A-Z2-7]{55}$/);
    expect(server.info.server_name).toBe(server.info.server_id);
    expect(server.info.xkey).toMatch(/^X[A-Z2-7]{55}$/);
  });

  it('accepts nats-server\'s -1 for a random port', async () => {
    const server = await start({ port: -1, serverName: 'n1' });
    expect(server.port).toBeGreaterThan(0);
    expect(server.info.server_name).toBe('n1');
  });

  it('gives every server a unique id', async () => {
    const a = await start();
    const b = await start();
    expect(a.id).not.toBe(b.id);
  });

  it('runs 100 servers in one process, and close() leaves no handle behind', async () => {
    await settle();
    const beforeList = openHandles();
    const servers = await Promise.all(Array.from({ length: 100 }, () => createServer()));
    scope.defer(() => Promise.all(servers.map((s) => s.close()))); // should the test fail first
    expect(new Set(servers.map((s) => s.port)).size).toBe(100);
    // Each one really serves clients.
    const clients = await Promise.all(servers.slice(0, 10).map(async (s) => track(await WireClient.connected(s.port))));
    for (const c of clients) c.send('SUB x 1\r\nPUB x 2\r\nhi\r\n');
    for (const c of clients) await c.expect('MSG x 1 2\r\nhi\r\n');
    await Promise.all(servers.map((s) => s.close()));
    for (const c of clients) await c.expectClose();
    await settle();
    // Nothing added by the 100 servers. (A timer of the test runner's own may have fired
    // meanwhile, so the count may also go down.)
    for (const [type, n] of countByType(openHandles())) expect(n, type).toBeLessThanOrEqual(countByType(beforeList).find(([t]) => t === type)?.[1] ?? 0);
  });

  it('close() closes client connections and frees the port', async () => {
    const server = await start();
    const port = server.port;
    const nc = await scope.client(server, { reconnect: false });
    const closed = nc.closed();
    await server.close();
    await closed;
    expect(server.closed).toBe(true);
    await server.close(); // idempotent
    const again = await start({ port });
    expect(again.port).toBe(port);
  });

  it('close() flushes what is queued before closing', async () => {
    const server = await start();
    const sub = track(await WireClient.connected(server.port));
    const pub = track(await WireClient.connected(server.port));
    sub.send('SUB last 1\r\n');
    await sub.expectNothing();
    pub.send('PUB last 4\r\nbye!\r\n');
    await pub.expectNothing(); // the server has routed it
    await server.close();
    await sub.expect('MSG last 1 4\r\nbye!\r\n');
    await sub.expectClose();
  });

  it('supports await using (Symbol.asyncDispose): the server is closed at the end of the block', async () => {
    let port = 0;
    let escaped: NatsServer | null = null;
    {
      await using server = await createServer();
      escaped = server;
      port = server.port;
      const c = await WireClient.connected(port);
      c.close();
      expect(server.state).toBe('running');
    }
    expect(escaped.state).toBe('stopped');
    // The port is free again.
    const probe = createTcpServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  it('host 0.0.0.0 listens dual-stack, as Go does: clients dialling ::1 (localhost) connect too', async () => {
    const server = await start({ host: '0.0.0.0' });
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    for (const host of ['127.0.0.1', '::1']) {
      const c = track(await WireClient.open(server.port, host));
      expect(c.info.port).toBe(server.port);
      c.close();
    }
  });

  it('rejects with ListenError when the port is taken', async () => {
    const a = await start();
    const err = await createServer({ port: a.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListenError);
    expect((err as ListenError).code).toBe('ERR_LISTEN');
    expect((err as ListenError).port).toBe(a.port);
  });
});

describe('options', () => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ port: 70000 }, 'port'],
    [{ port: 1.5 }, 'port'],
    [{ port: '4222' }, 'port'],
    [{ host: '' }, 'host'],
    [{ maxPayload: 0 }, 'maxPayload'],
    [{ maxPayload: 2048, maxPending: 1024 }, 'maxPayload'],
    [{ maxControlLine: -1 }, 'maxControlLine'],
    [{ pingInterval: 'soon' }, 'pingInterval'],
    [{ pingInterval: -5 }, 'pingInterval'],
    [{ writeDeadline: {} }, 'writeDeadline'],
    [{ maxPingsOut: 0 }, 'maxPingsOut'],
    [{ maxConnections: 0 }, 'maxConnections'],
    [{ maxSubscriptions: -1 }, 'maxSubscriptions'],
    [{ noHeaderSupport: 'yes' }, 'noHeaderSupport'],
    [{ serverName: 'has space' }, 'serverName'],
    [{ prot: 4222 }, 'prot'],
  ];
  for (const [opts, option] of bad) {
    it(`rejects ${JSON.stringify(opts)} naming "${option}"`, async () => {
      const err = await createServer(opts as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err).toBeInstanceOf(NatsEmbeddedError);
      expect((err as ConfigError).code).toBe('ERR_INVALID_OPTION');
      expect((err as ConfigError).option).toBe(option);
      expect((err as ConfigError).message).toContain(option);
    });
  }

  it('accepts durations as milliseconds or Go-style strings', async () => {
    const s = await start({ pingInterval: '1m30s', writeDeadline: 250 });
    expect(s.options.pingIntervalMs).toBe(90_000);
    expect(s.options.writeDeadlineMs).toBe(250);
  });

  it('defaults equal nats-server\'s', async () => {
    const s = await start();
    expect(s.options).toMatchObject({
      maxPayload: 1048576,
      maxControlLine: 4096,
      maxPending: 67108864,
      pingIntervalMs: 120_000,
      maxPingsOut: 2,
      writeDeadlineMs: 10_000,
      maxConnections: 65536,
      maxSubscriptions: 0,
      noHeaderSupport: false,
    });
  });

  it('noHeaderSupport: INFO says headers false and HPUB is refused', async () => {
    const s = await start({ noHeaderSupport: true });
    const c = track(await WireClient.open(s.port));
    expect(c.info.headers).toBe(false);
    c.send('CONNECT {"verbose":false,"headers":true}\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n');
    expect(await c.expectClose()).toBe('');
  });
});

describe('liveness', () => {
  it('PINGs the client and closes it as stale after maxPingsOut unanswered PINGs', async () => {
    const s = await start({ pingInterval: 50, maxPingsOut: 2 });
    const c = track(await WireClient.open(s.port));
    c.send('CONNECT {"verbose":false}\r\n');
    await c.expect('PING\r\n');
    await c.expect('PING\r\n');
    await c.expect("-ERR 'Stale Connection'\r\n");
    expect(await c.expectClose()).toBe('');
  });

  it('keeps a client that answers PINGs', async () => {
    const s = await start({ pingInterval: 30, maxPingsOut: 1 });
    const c = track(await WireClient.open(s.port));
    c.send('CONNECT {"verbose":false}\r\n');
    for (let i = 0; i < 4; i++) {
      await c.expect('PING\r\n');
      c.send('PONG\r\n');
    }
    expect(c.closed).toBe(false);
  });
});
