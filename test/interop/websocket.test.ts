/**
 * The WebSocket listener through the official `wsconnect` client (`@nats-io/nats-core`) and
 * raw `ws` sockets: WebSocket and TCP clients share subjects, queue groups, auth and the
 * slow-consumer rules; origin checks, compression, text frames, restart, /varz, cluster URLs.
 */
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { wsconnect, type NatsConnection } from '@nats-io/nats-core';
import { type ConnectionOptions } from '@nats-io/transport-node';
import { ConfigError, createServer, type NatsServer, type ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

// wsconnect uses the global WebSocket, which Node 20 only has behind --experimental-websocket.
const g = globalThis as { WebSocket?: unknown };
g.WebSocket ??= WebSocket;

const scope = useScope();

const WS = { noTls: true } as const;

function server(opts: ServerOptions = {}): Promise<NatsServer> {
  return scope.server({ websocket: WS, ...opts });
}

function track(nc: NatsConnection): NatsConnection {
  scope.defer(() => (nc.isClosed() ? undefined : nc.close()));
  return nc;
}

async function wsClient(s: NatsServer, opts: Parameters<typeof wsconnect>[0] = {}): Promise<NatsConnection> {
  return track(await wsconnect({ servers: s.websocketUrl!, reconnect: false, ...opts }));
}

function tcpClient(s: NatsServer, opts: ConnectionOptions = {}): Promise<NatsConnection> {
  return scope.client(s, { reconnect: false, ...opts });
}

async function next(sub: AsyncIterable<{ string(): string }>): Promise<string> {
  for await (const m of sub) return m.string();
  throw new Error('subscription ended');
}

/** A raw `ws` socket; resolves once open. */
async function rawWs(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, options);
  scope.defer(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

/** The HTTP status a handshake is refused with, or 101 when it succeeds. */
function handshakeStatus(url: string, origin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe('websocket listener', () => {
  it('serves wsconnect clients: pub/sub with TCP clients both ways, INFO of the websocket listener', async () => {
    const s = await server();
    expect(s.websocketUrl).toBe(`ws://127.0.0.1:${s.websocketPort}`);
    expect(s.websocketPort).toBeGreaterThan(0);
    expect(s.websocketPort).not.toBe(s.port);
    const w = await wsClient(s, { name: 'browserish' });
    const t = await tcpClient(s);
    // nats-server's generateClientInfoJSON: host/port of the websocket listener, no ws_connect_urls.
    expect(w.info?.port).toBe(s.websocketPort);
    expect(w.info?.host).toBe('127.0.0.1');
    expect(w.info?.tls_required).toBeUndefined();
    expect(w.info).not.toHaveProperty('ws_connect_urls');
    expect(t.info?.port).toBe(s.port);

    const fromTcp = w.subscribe('to.ws', { max: 1 });
    const fromWs = t.subscribe('to.tcp', { max: 1 });
    await w.flush();
    await t.flush();
    t.publish('to.ws', 'hello ws');
    w.publish('to.tcp', 'hello tcp');
    expect(await next(fromTcp)).toBe('hello ws');
    expect(await next(fromWs)).toBe('hello tcp');

    // Large payloads (many frames / one frame of 512 KiB) arrive intact.
    const big = 'x'.repeat(512 * 1024);
    const bigSub = w.subscribe('big', { max: 1 });
    await w.flush();
    t.publish('big', big);
    expect((await next(bigSub)).length).toBe(big.length);

    const summary = s.clients().find((c) => c.name === 'browserish');
    expect(summary?.lang).toBe('nats.ws');
    expect(s.stats().connections).toBe(2);
  });

  it('request/reply across kinds, and queue groups spanning WebSocket and TCP members', async () => {
    const s = await server();
    const w = await wsClient(s);
    const t = await tcpClient(s);
    w.subscribe('svc.ws', { callback: (_e, m) => void m.respond(`ws:${m.string()}`) });
    t.subscribe('svc.tcp', { callback: (_e, m) => void m.respond(`tcp:${m.string()}`) });
    await w.flush();
    await t.flush();
    expect((await t.request('svc.ws', 'a', { timeout: 2000 })).string()).toBe('ws:a');
    expect((await w.request('svc.tcp', 'b', { timeout: 2000 })).string()).toBe('tcp:b');

    const counts = { ws: 0, tcp: 0 };
    const members = [await wsClient(s), await wsClient(s), await tcpClient(s), await tcpClient(s)];
    members.forEach((nc, i) => nc.subscribe('work', { queue: 'q', callback: () => void counts[i < 2 ? 'ws' : 'tcp']++ }));
    await Promise.all(members.map((nc) => nc.flush()));
    await s.waitForSubscription('work', { count: 4 });
    for (let i = 0; i < 200; i++) w.publish('work', String(i));
    await w.flush();
    await eventually(() => counts.ws + counts.tcp >= 200, 'all 200 queue messages');
    // Settle without sleeping: the publisher's flush returned, so every delivery (a duplicate
    // too) was queued before each member's PONG; a member's flush brings everything before it.
    await Promise.all(members.map((nc) => nc.flush()));
    expect(counts.ws + counts.tcp).toBe(200);
    expect(counts.ws).toBeGreaterThan(0);
    expect(counts.tcp).toBeGreaterThan(0);
  });

  it('applies the same auth and permissions to WebSocket clients', async () => {
    const s = await server({
      authorization: {
        users: [
          { user: 'alice', password: 'pw' },
          { user: 'bob', password: 'pw', permissions: { publish: 'ok.>' } },
        ],
      },
    });
    const w = await wsClient(s, { user: 'alice', pass: 'pw' });
    expect(w.info?.auth_required).toBe(true);
    const bad = await wsconnect({ servers: s.websocketUrl!, reconnect: false, user: 'alice', pass: 'nope' }).then(
      (nc) => nc.close().then(() => 'connected'),
      (err: Error) => err.message,
    );
    expect(bad).toMatch(/Authorization Violation/i);

    const bob = await wsClient(s, { user: 'bob', pass: 'pw' });
    const sub = w.subscribe('>', { max: 1 });
    await w.flush();
    bob.publish('denied.x', 'no');
    bob.publish('ok.x', 'yes');
    await bob.flush();
    expect(await next(sub)).toBe('yes');
  });

  it('clients reconnect after server.restart(), on the same websocket port', async () => {
    const s = await server();
    const port = s.websocketPort;
    const w = track(await wsconnect({ servers: s.websocketUrl!, reconnectTimeWait: 50, maxReconnectAttempts: -1 }));
    const sub = w.subscribe('after.restart', { max: 1 });
    await w.flush();
    await s.restart();
    expect(s.websocketPort).toBe(port);
    await s.waitForSubscription('after.restart', { timeoutMs: 10_000 });
    const t = await tcpClient(s);
    t.publish('after.restart', 'back');
    expect(await next(sub)).toBe('back');
  });

  it('closes the listener on close(): new handshakes fail', async () => {
    const s = await server();
    const url = s.websocketUrl!;
    const w = await wsconnect({ servers: url, reconnect: false });
    const closed = w.closed();
    await s.close();
    await closed;
    await expect(rawWs(url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('checks Origin with allowedOrigins and sameOrigin (HTTP 403), accepting requests without one', async () => {
    const s = await server({ websocket: { ...WS, allowedOrigins: ['http://allowed.test:8080'] } });
    const url = s.websocketUrl!;
    expect(await handshakeStatus(url, 'http://allowed.test:8080')).toBe(101);
    expect(await handshakeStatus(url, 'http://evil.test:8080')).toBe(403);
    expect(await handshakeStatus(url, 'https://allowed.test:8080')).toBe(403);
    expect(await handshakeStatus(url, 'http://allowed.test')).toBe(403);
    expect(await handshakeStatus(url)).toBe(101);

    const same = await server({ websocket: { ...WS, sameOrigin: true } });
    const sameUrl = same.websocketUrl!;
    expect(await handshakeStatus(sameUrl, `http://127.0.0.1:${same.websocketPort}`)).toBe(101);
    expect(await handshakeStatus(sameUrl, 'http://127.0.0.1:1')).toBe(403);
    expect(await handshakeStatus(sameUrl)).toBe(101);
  });

  it('sends binary frames, accepts text frames, and negotiates permessage-deflate when enabled', async () => {
    const s = await server({ websocket: { ...WS, compression: true } });
    const ws = await rawWs(s.websocketUrl!, { perMessageDeflate: true });
    expect(ws.extensions).toMatch(/permessage-deflate/);
    const frames: Array<{ text: string; binary: boolean }> = [];
    ws.on('message', (data, isBinary) => frames.push({ text: String(data), binary: isBinary }));
    ws.send('CONNECT {"verbose":false,"protocol":1}\r\nSUB t 1\r\nPUB t 2\r\nhi\r\nPING\r\n');
    await eventually(() => frames.some((f) => f.text.includes('PONG')), 'the PONG');
    const all = frames.map((f) => f.text).join('');
    expect(all).toMatch(/^INFO \{.*\} \r\n/);
    expect(all).toContain('MSG t 1 2\r\nhi\r\n');
    expect(frames.every((f) => f.binary)).toBe(true);

    const plain = await server();
    const ws2 = await rawWs(plain.websocketUrl!, { perMessageDeflate: true });
    expect(ws2.extensions).toBe('');
  });

  it('drops a WebSocket client that stops reading as a slow consumer', async () => {
    const s = await server({ maxPending: 256 * 1024, maxPayload: 64 * 1024, writeDeadline: 60_000 });
    const slow: string[] = [];
    s.on('slowConsumer', (e) => slow.push(e.reason));
    const ws = await rawWs(s.websocketUrl!);
    ws.send('CONNECT {"verbose":false}\r\nSUB flood 1\r\nPING\r\n');
    await s.waitForSubscription('flood');
    ws.pause();
    const t = await tcpClient(s);
    const payload = new Uint8Array(32 * 1024);
    for (let i = 0; i < 2000 && slow.length === 0; i++) {
      t.publish('flood', payload);
      if (i % 50 === 0) await t.flush();
    }
    await t.flush();
    await s.waitForConnections(1);
    expect(slow).toEqual(['Slow Consumer (Pending Bytes)']);
    expect(s.connectionCount).toBe(1);
  });

  it('reports the websocket block in /varz, and ws_connect_urls / connect_urls in a cluster', async () => {
    const s = await server({ http: -1, websocket: { ...WS, compression: true, sameOrigin: true, allowedOrigins: ['http://a.test'] } });
    const varz = (await (await fetch(`${s.monitorUrl}/varz`)).json()) as Record<string, unknown>;
    expect(varz.websocket).toEqual({
      host: '127.0.0.1',
      port: s.websocketPort,
      no_tls: true,
      same_origin: true,
      allowed_origins: ['http://a.test'],
      compression: true,
    });
    expect(varz).not.toHaveProperty('ws_connect_urls');

    const cluster = await scope.cluster({ size: 2, websocket: WS, http: -1 });
    const [a, b] = cluster.servers;
    const wsUrls = [a, b].map((x) => `127.0.0.1:${x.websocketPort}`);
    const w = track(await wsconnect({ servers: a.websocketUrl!, reconnect: false }));
    const t = await scope.client(a.url, { reconnect: false });
    expect([...(w.info?.connect_urls ?? [])].sort()).toEqual([...wsUrls].sort());
    expect(w.info?.connect_urls?.[0]).toBe(wsUrls[0]);
    expect(t.info?.connect_urls).toContain(`127.0.0.1:${a.port}`);
    expect(t.info?.connect_urls).not.toContain(wsUrls[0]);
    const av = (await (await fetch(`${a.monitorUrl}/varz`)).json()) as { ws_connect_urls?: string[] };
    expect([...(av.ws_connect_urls ?? [])].sort()).toEqual([...wsUrls].sort());
    // A ws client on one member reaches a TCP client on the other.
    const tb = await scope.client(b.url, { reconnect: false });
    const sub = tb.subscribe('across', { max: 1 });
    await tb.flush();
    await a.waitForSubscription('across');
    w.publish('across', 'routed');
    expect(await next(sub)).toBe('routed');
  });

  it('validates the websocket option', async () => {
    await expect(createServer({ websocket: {} })).rejects.toThrow(ConfigError);
    await expect(createServer({ websocket: {} })).rejects.toMatchObject({ option: 'websocket.tls' });
    await expect(createServer({ websocket: { noTls: false } })).rejects.toThrow(/requires TLS configuration/);
    await expect(createServer({ websocket: { noTls: true, allowedOrigins: ['nope'] } })).rejects.toMatchObject({
      option: 'websocket.allowedOrigins[0]',
    });
    // websocket.go validateWebsocketOptions: a JWT cookie needs operator mode.
    await expect(createServer({ websocket: { noTls: true, jwtCookie: 'x' } })).rejects.toThrow(
      /trusted operators or trusted keys configuration is required for JWT authentication via cookie "x"/,
    );
    const s = await server();
    expect(() => s.reload({ websocket: { noTls: true, compression: true } })).toThrow(/websocket/);
    expect(() => s.reload({ websocket: { noTls: true } })).not.toThrow();
  });
});

describe('websocket listener: close()', () => {
  it('drops a socket whose upgrade request never finished, so close() settles (nats-server: http.Server.Close)', async () => {
    const { connect: netConnect } = await import('node:net');
    const s = await createServer({ websocket: { port: 0, noTls: true } });
    const port = Number(new URL(s.websocketUrl!).port);
    const sock = netConnect(port, '127.0.0.1');
    sock.on('error', () => undefined);
    await new Promise((r) => sock.once('connect', r));
    // Half an HTTP upgrade request: the HTTP server holds the socket, neither idle nor upgraded.
    sock.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
    const dropped = new Promise<void>((r) => sock.once('close', () => r()));
    await new Promise((r) => setTimeout(r, 50));
    await s.close();
    await dropped;
    expect(sock.destroyed).toBe(true);
  });
});
