/**
 * What makes nats-embedded better than a broker in Docker for tests: introspection, waiting
 * without sleeps, a message tap, fault injection and replayable queue choices.
 */
import { describe, expect, it } from 'vitest';
import { headers, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { WaitTimeoutError, type NatsServer, type TappedMessage } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';

const scope = useScope();
const { server, defer } = scope;


function client(s: NatsServer, opts: ConnectionOptions = {}): Promise<NatsConnection> {
  return scope.client(s, { ...opts });
}

describe('introspection', () => {
  it('waitForSubscription resolves once the SUB has reached the server (no sleeps, no flush)', async () => {
    const s = await server();
    const consumer = await client(s);
    const producer = await client(s);
    const got: string[] = [];
    consumer.subscribe('jobs.*', { callback: (_e, m) => void got.push(m.string()) });
    await s.waitForSubscription('jobs.1');
    producer.publish('jobs.1', 'first');
    await producer.flush();
    await consumer.flush();
    expect(got).toEqual(['first']);
    await expect(s.waitForSubscription('nobody', { timeoutMs: 50 })).rejects.toBeInstanceOf(WaitTimeoutError);
  });

  it('waitForSubscription counts queue members too', async () => {
    const s = await server();
    const clients = await Promise.all([client(s), client(s), client(s)]);
    clients.forEach((nc) => nc.subscribe('work', { queue: 'q' }));
    await s.waitForSubscription('work', { count: 3 });
    if (s.backend === 'nats-server') return; // subscriptions() is embedded only
    expect(s.subscriptions().filter((x) => x.subject === 'work' && x.queue === 'q')).toHaveLength(3);
  });

  it('waitForConnections, connections() and subscriptions() report clients and their counters', async () => {
    const s = await server();
    const waiting = s.waitForConnections(2);
    const a = await client(s, { name: 'a' });
    const b = await client(s, { name: 'b' });
    await waiting;
    a.subscribe('x', { max: 5 });
    await a.flush();
    b.publish('x', 'hello');
    await b.flush();
    await a.flush();
    const conns = s.connections();
    expect(conns.map((c) => c.name).sort()).toEqual(['a', 'b']);
    expect(conns.find((c) => c.name === 'b')).toMatchObject({ inMsgs: 1, inBytes: 5 });
    expect(conns.find((c) => c.name === 'a')).toMatchObject({ outMsgs: 1, outBytes: 5, subscriptions: 1 });
    const [sub] = s.subscriptions({ cid: conns.find((c) => c.name === 'a')!.cid });
    expect(sub).toMatchObject({ clientName: 'a', subject: 'x', queue: null, msgs: 1, max: 5 });
  });
});

describe('message tap', () => {
  it('sees every routed message with headers, reply and publisher id; stops when the loop ends', async () => {
    const s = await server();
    const nc = await client(s, { name: 'pub' });
    const seen: TappedMessage[] = [];
    const done = (async () => {
      for await (const m of s.messages({ subject: 'orders.>' })) {
        seen.push(m);
        if (seen.length === 2) break;
      }
    })();
    const h = headers();
    h.set('K', 'v');
    nc.publish('other', 'not tapped');
    nc.publish('orders.new', 'o1', { headers: h, reply: 'r.1' });
    nc.publish('orders.eu.paid', 'o2');
    await nc.flush();
    await done;
    const cid = s.connections().find((c) => c.name === 'pub')!.cid;
    expect(seen.map((m) => [m.subject, m.data.toString(), m.reply, m.publisherCid])).toEqual([
      ['orders.new', 'o1', 'r.1', cid],
      ['orders.eu.paid', 'o2', null, cid],
    ]);
    expect(seen[0].headers?.toString()).toContain('K: v');
    // The loop's break removed the tap.
    const stop = s.onMessage(() => undefined);
    stop();
    nc.publish('orders.after', 'x');
    await nc.flush();
    expect(seen).toHaveLength(2);
  });
});

describe('fault injection', () => {
  it('pause(): a request times out while the server hangs and succeeds after resume()', async () => {
    const s = await server();
    const svc = await client(s);
    svc.subscribe('svc', { callback: (_e, m) => void m.respond('pong') });
    await svc.flush();
    const nc = await client(s, { pingInterval: 60_000 });
    s.pause();
    const err = await nc.request('svc', '', { timeout: 300 }).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(/timeout/i);
    s.resume();
    const reply = await nc.request('svc', '', { timeout: 2000 });
    expect(reply.string()).toBe('pong');
  });

  it('setLatency(): deliveries are delayed, in order', async () => {
    const s = await server();
    const nc = await client(s);
    const got: string[] = [];
    nc.subscribe('slow', { callback: (_e, m) => void got.push(m.string()) });
    await nc.flush();
    s.setLatency(100);
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) nc.publish('slow', String(i));
    await nc.flush(); // the PONG is delayed as well
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    await nc.flush();
    expect(got).toEqual(['0', '1', '2', '3', '4']);
    s.setLatency(0);
  });

  it('dropMessages(): the next N, or a ratio, of matching messages are lost; cancel() restores', async () => {
    const s = await server();
    const nc = await client(s);
    const got: string[] = [];
    nc.subscribe('drop.>', { callback: (_e, m) => void got.push(m.string()) });
    await nc.flush();
    const rule = s.dropMessages({ subject: 'drop.count', count: 2 });
    for (let i = 0; i < 4; i++) nc.publish('drop.count', `c${i}`);
    const all = s.dropMessages({ subject: 'drop.all', ratio: 1 });
    nc.publish('drop.all', 'lost');
    nc.publish('drop.other', 'kept');
    await nc.flush();
    expect(got).toEqual(['c2', 'c3', 'kept']);
    expect(rule.dropped).toBe(2);
    expect(all.dropped).toBe(1);
    all.cancel();
    nc.publish('drop.all', 'back');
    await nc.flush();
    expect(got).toContain('back');
    s.dropMessages({ subject: '>', ratio: 1 });
    s.resetFaults();
    nc.publish('drop.x', 'after reset');
    await nc.flush();
    expect(got).toContain('after reset');
    expect(() => s.dropMessages({ subject: 'x', ratio: 2 })).toThrow(/ratio/);
  });

  it('disconnectClient(): one client is dropped and reconnects', async () => {
    const s = await server();
    const victim = await client(s, { name: 'victim', reconnectTimeWait: 20 });
    await client(s, { name: 'other' });
    const cid = s.connections().find((c) => c.name === 'victim')!.cid;
    const reconnected = (async () => {
      for await (const st of victim.status()) if (st.type === 'reconnect') return;
    })();
    expect(s.disconnectClient(cid)).toBe(true);
    expect(s.disconnectClient(cid)).toBe(false);
    await reconnected;
    await s.waitForConnections(2);
    expect(s.connections().map((c) => c.name).sort()).toEqual(['other', 'victim']);
  });
});

describe('deterministic queue selection', () => {
  async function picks(seed: number): Promise<number[]> {
    const s = await server({ seed });
    const members = await Promise.all([0, 1, 2].map(() => WireClient.connected(s.port)));
    members.forEach((m, i) => m.send(`SUB q.x g ${i}\r\n`));
    for (const m of members) await m.expectNothing();
    const pub = await WireClient.connected(s.port);
    for (let i = 0; i < 30; i++) pub.send(`PUB q.x ${String(i).length}\r\n${i}\r\n`);
    await pub.expectNothing();
    const owner: number[] = [];
    for (const [i, m] of members.entries()) {
      // Everything before the PONG was delivered before the PING was answered.
      const received = await m.drain();
      for (const frame of received.split('MSG ').slice(1)) owner[Number(frame.split('\r\n')[1])] = i;
      m.close();
    }
    pub.close();
    return owner;
  }

  it('the same seed picks the same members', async () => {
    const a = await picks(42);
    const b = await picks(42);
    expect(a).toHaveLength(30);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(3);
  });
});
