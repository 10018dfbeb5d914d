/**
 * The test-harness API where test suites live: teardown racing a restart or a lame duck, waits
 * and iterators on a closed server, controls that must survive a restart, user callbacks that
 * throw, method arguments, reload as a patch, and internal errors that tests can see.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type NatsConnection } from '@nats-io/transport-node';
import {
  createCluster,
  InvalidArgumentError,
  NatsEmbeddedError,
  ServerClosedError,
  WaitTimeoutError,
  type NatsServer,
  type TappedMessage,
} from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually, refused } from '../helpers/eventually.js';
import { thrown, rejection } from '../helpers/errors.js';

const scope = useScope();
const { server, defer } = scope;

function client(s: NatsServer | string[]): Promise<NatsConnection> {
  return scope.client(s, { reconnectTimeWait: 20, maxReconnectAttempts: -1, reconnectJitter: 0 });
}



describe('close() and kill() racing other lifecycle calls', () => {
  it('close() during restart({ downMs }): restart() rejects with ServerClosedError and nothing listens again', async () => {
    const s = await server();
    const port = s.port;
    const restarting = s.restart({ downMs: 200 });
    await s.close();
    const err = await rejection(restarting);
    expect(err).toBeInstanceOf(ServerClosedError);
    expect(err).toMatchObject({ code: 'ERR_SERVER_CLOSED' });
    expect(s.state).toBe('stopped');
    expect(await refused(port)).toBe(true);
    // A closed server stays closed.
    expect(await rejection(s.restart())).toBeInstanceOf(ServerClosedError);
    expect(await refused(port)).toBe(true);
  });

  it('kill() during restart({ downMs }) cancels that restart; a later restart() works', async () => {
    const s = await server();
    const port = s.port;
    const restarting = s.restart({ downMs: 200 });
    await s.kill();
    expect(await rejection(restarting)).toBeInstanceOf(ServerClosedError);
    expect(await refused(port)).toBe(true);
    await s.restart();
    expect(s.state).toBe('running');
    expect(await refused(port)).toBe(false);
  });

  it('cluster.close() during cluster.restart(i, { downMs }): the restart rejects, no member listens', async () => {
    const c = await scope.cluster({ size: 2 });
    const ports = c.servers.flatMap((s) => [s.port, s.clusterPort]);
    const restarting = c.restart(0, { downMs: 200 });
    await c.close();
    expect(await rejection(restarting)).toBeInstanceOf(ServerClosedError);
    for (const p of ports) expect(await refused(p)).toBe(true);
  });

  it('every cluster control after cluster.close() fails with ServerClosedError and starts nothing', async () => {
    const c = await createCluster({ size: 2 });
    await c.close();
    const controls: Array<[string, () => Promise<unknown>]> = [
      ['add', () => c.add()],
      ['kill', () => c.kill(0)],
      ['restart', () => c.restart(0)],
      ['remove', () => c.remove(0)],
      ['partition', () => c.partition([0], [1])],
      ['heal', () => c.heal()],
      ['waitForMesh', () => c.waitForMesh()],
    ];
    for (const [name, call] of controls) {
      const err = await rejection(call());
      expect(err, name).toBeInstanceOf(ServerClosedError);
    }
    expect(thrown(() => c.reload({ maxPayload: 1024 }))).toBeInstanceOf(ServerClosedError);
    expect(c.servers).toHaveLength(2);
    expect(c.servers.every((s) => s.state === 'stopped')).toBe(true);
  });

  it('cluster.close() while add() is starting the member: add() rejects and the member is closed', async () => {
    const c = await createCluster({ size: 1 });
    const adding = c.add();
    await c.close();
    expect(await rejection(adding)).toBeInstanceOf(ServerClosedError);
    expect(c.servers).toHaveLength(1);
  });

  it('lameDuck() settles when close() interrupts it during the grace period', async () => {
    const s = await server({ lameDuckGracePeriod: '1h', lameDuckDuration: '2h' });
    await client(s);
    const ldm = s.lameDuck();
    await eventually(() => s.state === 'lameDuck', 'lame duck mode');
    await s.close();
    await expect(ldm).resolves.toBeUndefined();
    expect(s.state).toBe('stopped');
  });

  it('lameDuck() settles when kill() interrupts it, and the server can restart', async () => {
    const s = await server({ lameDuckGracePeriod: '1h', lameDuckDuration: '2h' });
    await client(s);
    const ldm = s.lameDuck();
    await s.kill();
    await expect(ldm).resolves.toBeUndefined();
    await s.restart();
    expect(s.state).toBe('running');
  });

  it('lameDuck() with no client connected shuts down at once (nats-server: numClients == 0 → Shutdown)', async () => {
    // A grace period longer than any test timeout: waiting it out would fail the test.
    const s = await server({ lameDuckGracePeriod: '1h', lameDuckDuration: '2h' });
    const port = s.port;
    const outcome = await Promise.race([
      s.lameDuck().then(() => 'stopped'),
      new Promise((r) => setTimeout(() => r('still waiting'), 2000)),
    ]);
    expect(outcome).toBe('stopped');
    expect(s.state).toBe('stopped');
    expect(await refused(port)).toBe(true);
  });
});

describe('waits and iterators on a closed server', () => {
  it('waitForSubscription() and waitForConnections() on a closed server reject at once', async () => {
    const s = await server();
    await s.close();
    // A timeout far beyond the test's: only an immediate rejection passes.
    expect(await rejection(s.waitForSubscription('x', { timeoutMs: '1h' }))).toBeInstanceOf(ServerClosedError);
    expect(await rejection(s.waitForConnections(1, { timeoutMs: '1h' }))).toBeInstanceOf(ServerClosedError);
  });

  it('pending waits reject when the server is closed', async () => {
    const s = await server();
    // Handlers attached before close(): the waits reject while close() is still under way.
    const sub = rejection(s.waitForSubscription('never', { timeoutMs: '1h' }));
    const conns = rejection(s.waitForConnections(5, { timeoutMs: '1h' }));
    await s.close();
    expect(await sub).toBeInstanceOf(ServerClosedError);
    expect(await conns).toBeInstanceOf(ServerClosedError);
  });

  it('a pending wait goes on across a restart and resolves when the client is back', async () => {
    const s = await server();
    const nc = await client(s);
    const waiting = s.waitForSubscription('after', { timeoutMs: 10_000 });
    await s.restart({ downMs: 20 });
    nc.subscribe('after');
    await expect(waiting).resolves.toBeUndefined();
  });

  it('messages() iterators end when the server closes', async () => {
    const s = await server();
    const iterator = s.messages({ subject: 'x.>' });
    const collected = (async () => {
      const seen: string[] = [];
      for await (const m of iterator) seen.push(m.subject);
      return seen;
    })();
    const nc = await client(s);
    nc.publish('x.1');
    await nc.flush();
    await eventually(() => s.stats().inMsgs === 1, 'the message');
    await s.close();
    await expect(collected).resolves.toEqual(['x.1']);
    expect(thrown(() => s.onMessage(() => undefined))).toBeInstanceOf(ServerClosedError);
  });
});

describe('controls survive restart()', () => {
  it('onMessage() and messages() taps keep tapping after a restart', async () => {
    const s = await server();
    const seen: string[] = [];
    s.onMessage((m) => void seen.push(m.subject), { subject: 'orders.>' });
    const iterator = s.messages({ subject: 'orders.>' });
    await s.restart({ downMs: 10 });
    const nc = await client(s);
    nc.publish('orders.1');
    await nc.flush();
    await eventually(() => seen.length === 1, 'the tap');
    expect(seen).toEqual(['orders.1']);
    const first = await iterator.next();
    expect((first.value as TappedMessage).subject).toBe('orders.1');
    await iterator.return!();
  });

  it('dropMessages() rules and pause() stay in force after a restart', async () => {
    const s = await server();
    const rule = s.dropMessages({ subject: 'lossy', count: 1 });
    s.pause();
    await s.restart();
    // Paused: the restarted server accepts the connection but sends nothing, not even INFO.
    const wire = await WireClient.open(s.port, '127.0.0.1', { keepInfo: true });
    wire.send('CONNECT {"verbose":false}\r\nPING\r\n');
    // A paused server reads nothing, so no round trip can prove that it stays silent: this
    // is the one place where only time can show that nothing arrives.
    await new Promise((r) => setTimeout(r, 100));
    expect(wire.buffer).toBe('');
    s.resume();
    expect(await wire.readLine()).toMatch(/^INFO /);
    await wire.expect('PONG\r\n');
    wire.send('SUB lossy 1\r\nPUB lossy 1\r\na\r\nPUB lossy 1\r\nb\r\nPING\r\n');
    await wire.expect('MSG lossy 1 1\r\nb\r\nPONG\r\n');
    expect(rule.dropped).toBe(1);
    wire.close();
  });
});

describe('user code inside the broker', () => {
  it('an onMessage callback that throws: the message is delivered, the publisher stays, the error is emitted', async () => {
    const s = await server();
    const errors: unknown[] = [];
    s.on('error', (e) => void errors.push(e));
    s.onMessage(() => {
      throw new Error('expect() failed in a tap');
    });
    const sub = await client(s);
    const pub = await client(s);
    const got: string[] = [];
    sub.subscribe('t', { callback: (_e, m) => void got.push(m.string()) });
    await sub.flush();
    pub.publish('t', 'one');
    pub.publish('t', 'two');
    await pub.flush();
    await sub.flush();
    expect(got).toEqual(['one', 'two']);
    expect(pub.isClosed()).toBe(false);
    expect(errors.map((e) => (e as Error).message)).toEqual(['expect() failed in a tap', 'expect() failed in a tap']);
    expect(s.stats().internalErrors).toBe(0);
  });

  it('without an error listener, the error is rethrown asynchronously (the test runner sees it)', async () => {
    const script = fileURLToPath(new URL('../fixtures/tap-throws.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => void (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ delivered: true, publisherOpen: true, uncaught: ['assertion failed inside onMessage'] });
  });

  it('a slowConsumer listener that throws does not cost the publisher its connection', async () => {
    const s = await server({ maxPending: 4096, maxPayload: 1024 });
    const errors: unknown[] = [];
    s.on('error', (e) => void errors.push(e));
    s.on('slowConsumer', () => {
      throw new Error('listener bug');
    });
    const sloth = await WireClient.connected(s.port);
    sloth.send('SUB big 1\r\nPING\r\n');
    await sloth.expect('PONG\r\n');
    sloth.socket.pause();
    const pub = await client(s);
    const payload = new Uint8Array(1000);
    for (let i = 0; i < 200; i++) pub.publish('big', payload);
    await pub.flush();
    await eventually(() => errors.length === 1, 'the listener error');
    expect(pub.isClosed()).toBe(false);
    await pub.flush();
    expect(s.stats().slowConsumers).toBe(1);
    sloth.close();
  });

  it('a routesChanged listener that throws does not break the cluster', async () => {
    const c = await scope.cluster({ size: 2 });
    const errors: unknown[] = [];
    for (const s of c.servers) {
      s.on('error', (e) => void errors.push(e));
      s.on('routesChanged', () => {
        throw new Error('listener bug');
      });
    }
    await c.add();
    await eventually(() => errors.length >= 2, 'listener errors');
    const nc = await client(c.urls);
    const sub = await client([c.servers[2].url]);
    const got: string[] = [];
    sub.subscribe('x', { callback: (_e, m) => void got.push(m.string()) });
    await sub.flush();
    await c.servers[0].waitForSubscription('x');
    nc.publish('x', 'across');
    await eventually(() => got.length === 1, 'the routed message');
  });

  it('a logger that throws does not break the server', async () => {
    const errors: unknown[] = [];
    let broken = false;
    // Broken only once the listener is on: what a logger throws during createServer() has no
    // listener to go to and would be rethrown (an uncaught exception, as the test below shows).
    const bad = (): void => {
      if (broken) throw new Error('logger bug');
    };
    const s = await server({ logger: { info: bad, warn: bad, error: bad, debug: bad, trace: bad }, debug: true, trace: true });
    s.on('error', (e) => void errors.push(e));
    broken = true;
    const nc = await client(s);
    nc.subscribe('echo', { callback: (_e, m) => void m.respond(m.data) });
    const reply = await nc.request('echo', 'hi', { timeout: 2000 });
    expect(reply.string()).toBe('hi');
    expect(errors.length).toBeGreaterThan(0);
    expect((errors[0] as Error).message).toBe('logger bug');
    expect(s.stats().internalErrors).toBe(0);
  });

  it('callbacks are checked when registered, not on the first message', async () => {
    const s = await server();
    const cases: Array<[string, () => unknown]> = [
      ['onMessage(options)', () => s.onMessage({ subject: 'x' } as never)],
      ['onMessage(fn, bad subject)', () => s.onMessage(() => undefined, { subject: 'a..b' })],
      ['messages(bad subject)', () => s.messages({ subject: '' })],
      ['disconnectClients(non-function)', () => s.disconnectClients('all' as never)],
    ];
    for (const [name, call] of cases) {
      const err = thrown(call);
      expect(err, name).toBeInstanceOf(InvalidArgumentError);
      expect(err, name).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });
});

describe('method arguments', () => {
  it('invalid arguments throw InvalidArgumentError (a NatsEmbeddedError with a stable code)', async () => {
    const s = await server();
    const c = await scope.cluster({ size: 1 });
    const failures: Array<[string, () => unknown]> = [
      ['restart({ downMs: -1 })', () => s.restart({ downMs: -1 })],
      ['restart({ downMs: "soon" })', () => s.restart({ downMs: 'soon' })],
      ['lameDuck(-5)', () => s.lameDuck(-5)],
      ['lameDuck(0)', () => s.lameDuck(0)],
      ['setLatency(-1)', () => s.setLatency(-1)],
      ['dropMessages({ subject: "x", ratio: 2 })', () => s.dropMessages({ subject: 'x', ratio: 2 })],
      ['dropMessages({ subject: "", count: 1 })', () => s.dropMessages({ subject: '', count: 1 })],
      ['waitForConnections(-1)', () => s.waitForConnections(-1)],
      ['waitForSubscription(x, { timeoutMs: -1 })', () => s.waitForSubscription('x', { timeoutMs: -1 })],
      ['cluster.kill(7)', () => c.kill(7)],
      ['cluster.restart(-1)', () => c.restart(-1)],
      ['cluster.partition([0], [0])', () => c.partition([0], [0])],
      ['cluster.waitForMesh(-1)', () => c.waitForMesh(-1)],
    ];
    for (const [name, call] of failures) {
      let err: unknown;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(InvalidArgumentError);
      expect(err, name).toBeInstanceOf(NatsEmbeddedError);
      expect((err as InvalidArgumentError).code, name).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(s.state).toBe('running');
  });

  it('durations accept the same "1s" strings everywhere', async () => {
    const s = await server();
    await s.restart({ downMs: '10ms' });
    s.setLatency('0ms');
    const err = await rejection(s.waitForConnections(1, { timeoutMs: '30ms' }));
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toContain('30 ms');
    const c = await scope.cluster({ size: 2, meshTimeoutMs: '5s' });
    await c.waitForMesh('2s');
    await s.lameDuck('1s');
    expect(s.state).toBe('stopped');
  });
});

describe('reload()', () => {
  it('applies the options given and keeps the others; unchanged fixed options are not errors', async () => {
    const s = await server({ maxPayload: 2048, serverName: 'keep-me', maxPingsOut: 5 });
    s.reload({ maxPingsOut: 3 });
    expect(s.options).toMatchObject({ maxPayload: 2048, serverName: 'keep-me', maxPingsOut: 3 });
    s.reload({ serverName: 'keep-me', port: s.port, maxControlLine: 1024 });
    expect(s.options).toMatchObject({ maxPayload: 2048, maxControlLine: 1024, maxPingsOut: 3 });
    expect(() => s.reload({ serverName: 'other' })).toThrow(/serverName/);
    // The reloaded limit is what a client meets.
    const wire = await WireClient.connected(s.port);
    wire.send(`PUB x 2049\r\n${'a'.repeat(2049)}\r\n`);
    await wire.expect("-ERR 'Maximum Payload Violation'\r\n");
  });

  it('{ replace: true } replaces all options, as a SIGHUP with the whole config file', async () => {
    const s = await server({ maxPayload: 2048 });
    s.reload({ maxPingsOut: 3 }, { replace: true });
    expect(s.options.maxPayload).toBe(1024 * 1024);
    expect(s.options.maxPingsOut).toBe(3);
  });

  it('works on createCluster() members, one at a time or all at once, and survives a restart', async () => {
    const c = await scope.cluster({ size: 2 });
    c.servers[0].reload({ maxPayload: 4096 });
    expect(c.servers[0].info.max_payload).toBe(4096);
    c.reload({ maxPayload: 8192 });
    expect(c.servers.map((s) => s.info.max_payload)).toEqual([8192, 8192]);
    await c.restart(1);
    expect(c.servers[1].info.max_payload).toBe(8192);
  });
});

describe('internal errors are visible to tests', () => {
  it('counts them, emits internalError, closes only the connection being served', async () => {
    const s = await server();
    const events: unknown[] = [];
    s.on('internalError', (e) => void events.push(e));
    const bystander = await client(s);
    const echo = bystander.subscribe('ok', { callback: (_e, m) => void m.respond(m.data) });
    await bystander.flush();
    // Plant a bug in the core's subscribe path.
    const core = (s as unknown as { backend_: { core: { subscribe: (...a: unknown[]) => void } } }).backend_.core;
    const original = core.subscribe.bind(core);
    core.subscribe = (...args: unknown[]) => {
      if (args[1] === 'boom') throw new Error('planted bug');
      original(...args);
    };
    const victim = await WireClient.connected(s.port);
    victim.send('SUB boom 1\r\n');
    await victim.expectClose();
    expect(s.stats().internalErrors).toBe(1);
    expect(events).toHaveLength(1);
    expect((events[0] as Error).message).toBe('planted bug');
    const r = await bystander.request('ok', 'still here', { timeout: 2000 });
    expect(r.string()).toBe('still here');
    echo.unsubscribe();
  });
});
