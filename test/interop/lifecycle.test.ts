/**
 * Lifecycle controls that failover tests rely on, exercised with the official client's
 * reconnect logic.
 */
import { describe, expect, it } from 'vitest';
import { type NatsConnection, type Status } from '@nats-io/transport-node';
import { type NatsServer, type SlowConsumerEvent } from '../../src/index.js';
import { createUser } from '@nats-io/nkeys';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();
const { server, defer } = scope;


function client(s: NatsServer): Promise<NatsConnection> {
  return scope.client(s, { reconnectTimeWait: 20, maxReconnectAttempts: -1, reconnectJitter: 0 });
}

/** Resolves with the first status event of `type`. */
function nextStatus(nc: NatsConnection, type: Status['type']): Promise<Status> {
  return (async () => {
    for await (const s of nc.status()) if (s.type === type) return s;
    throw new Error(`status stream ended before ${type}`);
  })();
}

describe('restart()', () => {
  it('comes back on the same port; the client reconnects and resubscribes', async () => {
    const s = await server();
    const port = s.port;
    const firstId = s.id;
    const nc = await client(s);
    const got: string[] = [];
    nc.subscribe('after.restart', { callback: (_e, m) => void got.push(m.string()) });
    await nc.flush();
    const reconnected = nextStatus(nc, 'reconnect');
    await s.restart({ downMs: 50 });
    expect(s.port).toBe(port);
    expect(s.id).not.toBe(firstId);
    expect(s.state).toBe('running');
    await reconnected;
    await nc.flush(); // the SUB re-sent on reconnect has been processed
    nc.publish('after.restart', 'hello again');
    await nc.flush();
    expect(got).toEqual(['hello again']);
    await s.waitForSubscription('after.restart', { timeoutMs: 100 });
    if (s.backend === 'embedded') expect(s.stats().subscriptions).toBe(1);
  });

  it('restarts a killed server', async () => {
    const s = await server();
    const nc = await client(s);
    const disconnected = nextStatus(nc, 'disconnect');
    await s.kill();
    expect(s.closed).toBe(true);
    await disconnected;
    const reconnected = nextStatus(nc, 'reconnect');
    await s.restart();
    await reconnected;
    const r = await nc.request('nobody', '', { timeout: 2000 }).catch((e: Error) => e.message);
    expect(String(r)).toMatch(/no responders/i);
  });
});

describe('kill()', () => {
  it('drops connections without flushing queued data', async () => {
    const s = await server();
    const c = await WireClient.connected(s.port);
    await s.kill();
    await c.expectClose();
    if (s.backend === 'embedded') expect(s.connectionCount).toBe(0);
    expect(s.state).toBe('stopped');
  });
});

describe('lameDuck()', () => {
  it('tells clients (INFO ldm:true), stops accepting, then closes them and stops', async () => {
    const s = await server({ lameDuckGracePeriod: 50 });
    const nc = await client(s);
    await nc.flush(); // first PING answered: the client may now receive async INFO
    const ldm = nextStatus(nc, 'ldm');
    const done = s.lameDuck(200);
    await ldm;
    expect(s.state).toBe('lameDuck');
    // New connections are refused while in lame duck mode.
    await expect(WireClient.open(s.port)).rejects.toThrow();
    await done;
    expect(s.state).toBe('stopped');
    if (s.backend === 'embedded') expect(s.connectionCount).toBe(0);
  });

  it('sends the exact INFO with ldm only to protocol-1 clients past their first PING', async () => {
    const s = await server({ lameDuckGracePeriod: 300 });
    const modern = await WireClient.connected(s.port, { verbose: false, protocol: 1 });
    const legacy = await WireClient.connected(s.port, { verbose: false, protocol: 0 });
    const done = s.lameDuck(400);
    const line = await modern.readLine();
    expect(line.startsWith('INFO {')).toBe(true);
    expect(line.endsWith('} ')).toBe(true);
    const info = JSON.parse(line.slice(5)) as Record<string, unknown>;
    expect(info.ldm).toBe(true);
    expect(info.client_id).toBe(modern.info.client_id);
    // `xkey` came with nats-server 2.10 (the conformance run's nats-server backend may be 2.9).
    const xkey = String(info.version).startsWith('2.9.') ? [] : ['xkey'];
    expect(Object.keys(info)).toEqual([
      'server_id', 'server_name', 'version', 'proto', 'go', 'host', 'port', 'headers', 'max_payload',
      'client_id', 'client_ip', 'ldm', ...xkey,
    ]);
    await legacy.expectNothing();
    await done;
    await modern.expectClose();
    await legacy.expectClose();
  });
});

describe('async INFO', () => {
  it('a lame duck INFO carries no nonce: nats-server builds async INFO from its server INFO', async () => {
    const kp = createUser();
    const s = await server({ lameDuckGracePeriod: 300, authorization: { users: [{ nkey: kp.getPublicKey() }] } });
    const w = await WireClient.open(s.port);
    const nonce = String(w.info.nonce);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{15}$/);
    const sig = Buffer.from(kp.sign(Buffer.from(nonce))).toString('base64url');
    w.send(`CONNECT ${JSON.stringify({ verbose: false, protocol: 1, nkey: kp.getPublicKey(), sig })}\r\nPING\r\n`);
    expect(await w.readLine()).toBe('PONG');
    const done = s.lameDuck(400);
    const info = JSON.parse((await w.readLine()).slice(5)) as Record<string, unknown>;
    expect(info.ldm).toBe(true);
    expect(info.auth_required).toBe(true);
    expect('nonce' in info).toBe(false);
    await done;
    await w.expectClose();
  });
});

describe('disconnectClients()', () => {
  it('drops the selected clients; they reconnect and keep working', async () => {
    const s = await server();
    const a = await scope.client(s, { name: 'victim', reconnectTimeWait: 20 });
    const b = await scope.client(s, { name: 'bystander' });
    const bDisconnects: string[] = [];
    (async () => {
      for await (const st of b.status()) bDisconnects.push(st.type);
    })().catch(() => undefined);
    const got: string[] = [];
    a.subscribe('kick.test', { callback: (_e, m) => void got.push(m.string()) });
    await a.flush();
    const reconnected = nextStatus(a, 'reconnect');
    expect(s.disconnectClients((c) => c.name === 'victim')).toBe(1);
    await reconnected;
    await a.flush();
    b.publish('kick.test', 'still here');
    await b.flush();
    await eventually(() => got.length === 1, 'the message after reconnect');
    expect(got).toEqual(['still here']);
    expect(bDisconnects).not.toContain('disconnect');
    expect(s.clients().map((c) => c.name).sort()).toEqual(['bystander', 'victim']);
  });
});

describe('slow consumers', () => {
  it('drops a client over maxPending without -ERR, emits an event, and others keep receiving', async () => {
    const maxPending = 256 * 1024;
    const s = await server({ maxPending, maxPayload: 64 * 1024 });
    const events: SlowConsumerEvent[] = [];
    s.on('slowConsumer', (e) => events.push(e));
    const slow = await WireClient.connected(s.port, { verbose: false, name: 'sloth' });
    slow.send('SUB flood 1\r\n');
    await slow.expectNothing();
    slow.socket.pause(); // stops reading: the kernel buffers fill, then the broker's queue
    const good = await client(s);
    let goodCount = 0;
    good.subscribe('flood', { callback: () => void goodCount++ });
    await good.flush();
    const pub = await WireClient.connected(s.port);
    const payload = 'x'.repeat(1000);
    const frame = `PUB flood ${payload.length}\r\n${payload}\r\n`.repeat(100);
    let sent = 0;
    // 100 kB per round, well under maxPending, and the good subscriber catches up before the
    // next round: only the paused client can ever be over the bound, however loaded the machine.
    while (events.length === 0 && sent < 200_000) {
      pub.send(frame);
      sent += 100;
      await pub.expectNothing(); // the broker has routed what was sent
      await eventually(() => goodCount === sent, `the good subscriber caught up at ${sent}`);
    }
    await pub.expectNothing();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ name: 'sloth', reason: 'Slow Consumer (Pending Bytes)' });
    expect(events[0].pendingBytes).toBeGreaterThan(maxPending - 2000);
    expect(s.stats().slowConsumers).toBe(1);
    slow.socket.resume();
    const tail = await slow.expectClose(10_000);
    expect(tail).not.toContain('-ERR');
    await good.flush();
    await eventually(() => goodCount === sent, `all ${sent} messages at the good subscriber`);
  });

  it('drops a client whose writes make no progress within writeDeadline', async () => {
    const s = await server({ writeDeadline: 100, maxPending: 1024 * 1024 * 1024 });
    const events: SlowConsumerEvent[] = [];
    s.on('slowConsumer', (e) => events.push(e));
    const slow = await WireClient.connected(s.port, { verbose: false });
    slow.send('SUB wd 1\r\n');
    await slow.expectNothing();
    slow.socket.pause();
    const pub = await WireClient.connected(s.port);
    const big = 'y'.repeat(60_000);
    // Enough to fill the kernel buffers on both sides, so the broker's socket cannot drain.
    for (let i = 0; i < 200 && events.length === 0; i++) {
      pub.send(`PUB wd ${big.length}\r\n${big}\r\n`);
      await pub.expectNothing();
    }
    await eventually(() => events.length === 1, 'the write deadline to fire');
    expect(events[0].reason).toBe('Slow Consumer (Write Deadline)');
    slow.close();
  });
});
