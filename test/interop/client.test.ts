/**
 * The official NATS client (@nats-io/transport-node) against the embedded broker.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { headers, type ConnectionOptions, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { type NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';

/** One server for the file; it and every connection are closed after the last test. */
const scope = useScope('file');
let server: NatsServer;
const conns: NatsConnection[] = [];

async function client(opts: ConnectionOptions = {}): Promise<NatsConnection> {
  const nc = await scope.client(server, opts);
  conns.push(nc);
  return nc;
}

/** Collects `n` messages from `sub` (fails the test on timeout). */
async function take(sub: Subscription, n: number, timeoutMs = 5000): Promise<Msg[]> {
  const out: Msg[] = [];
  if (n === 0) return out;
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
  for await (const m of sub) {
    out.push(m);
    if (out.length === n) break;
  }
  clearTimeout(timer);
  if (out.length < n) throw new Error(`only ${out.length} of ${n} messages arrived`);
  return out;
}

/** Drains everything `sub` receives until `nc.flush()` round trips have passed. */
async function received(nc: NatsConnection, subs: Subscription[]): Promise<number[]> {
  await nc.flush();
  for (const c of conns) if (!c.isClosed()) await c.flush();
  return subs.map((s) => s.getReceived());
}

beforeAll(async () => {
  server = await scope.server();
});

describe('official client', () => {
  it('connects and sees the INFO the server advertises', async () => {
    const nc = await client();
    expect(nc.info?.server_id).toBe(server.id);
    expect(nc.info?.headers).toBe(true);
    expect(nc.info?.max_payload).toBe(1024 * 1024);
    expect(nc.info?.proto).toBe(1);
  });

  it('publishes and subscribes', async () => {
    const nc = await client();
    const sub = nc.subscribe('greet.hello');
    nc.publish('greet.hello', 'world');
    const [m] = await take(sub, 1);
    expect(m.subject).toBe('greet.hello');
    expect(m.string()).toBe('world');
  });

  it('matches * and > wildcards', async () => {
    const nc = await client();
    const star = nc.subscribe('orders.*.created');
    const full = nc.subscribe('orders.>');
    await nc.flush();
    nc.publish('orders.eu.created', '1');
    nc.publish('orders.eu.deleted', '2');
    nc.publish('orders', '3'); // `orders.>` needs at least one more token
    nc.publish('orders.us.created.x', '4');
    expect((await take(star, 1)).map((m) => m.string())).toEqual(['1']);
    expect((await take(full, 3)).map((m) => m.string())).toEqual(['1', '2', '4']);
    expect(await received(nc, [star, full])).toEqual([1, 3]);
  });

  it('delivers each message to exactly one member of a queue group, spread over members', async () => {
    const pub = await client();
    const members = await Promise.all([client(), client(), client()]);
    const subs = members.map((nc) => nc.subscribe('work', { queue: 'workers' }));
    const plain = members[0].subscribe('work');
    await Promise.all(members.map((m) => m.flush()));
    const total = 300;
    for (let i = 0; i < total; i++) pub.publish('work', String(i));
    const counts = await received(pub, [...subs, plain]);
    const queueCounts = counts.slice(0, 3);
    expect(queueCounts.reduce((a, b) => a + b, 0)).toBe(total);
    for (const c of queueCounts) expect(c).toBeGreaterThan(0);
    expect(counts[3]).toBe(total); // a plain subscriber gets every message as well
  });

  it('does request/reply', async () => {
    const nc = await client();
    const svc = nc.subscribe('svc.echo');
    (async () => {
      for await (const m of svc) m.respond(`echo:${m.string()}`);
    })().catch(() => undefined);
    const r = await nc.request('svc.echo', 'hi', { timeout: 2000 });
    expect(r.string()).toBe('echo:hi');
  });

  it('rejects a request to a subject with no subscribers at once (no responders)', async () => {
    const nc = await client();
    const started = Date.now();
    const err = await nc.request('nobody.home', 'x', { timeout: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).toMatch(/no responders/i);
    // It must not be the 10 s timeout firing.
    expect(Date.now() - started).toBeLessThan(9000);
  });

  it('round-trips headers', async () => {
    const nc = await client();
    const sub = nc.subscribe('with.headers');
    const h = headers();
    h.set('X-Trace', 'abc');
    h.append('X-Multi', '1');
    h.append('X-Multi', '2');
    nc.publish('with.headers', 'body', { headers: h });
    const [m] = await take(sub, 1);
    expect(m.headers?.get('X-Trace')).toBe('abc');
    expect(m.headers?.values('X-Multi')).toEqual(['1', '2']);
    expect(m.string()).toBe('body');
  });

  it('auto-unsubscribes after max messages', async () => {
    const nc = await client();
    const sub = nc.subscribe('limited', { max: 3 });
    await nc.flush();
    for (let i = 0; i < 10; i++) nc.publish('limited', String(i));
    const got: string[] = [];
    for await (const m of sub) got.push(m.string()); // the iterator ends when max is reached
    expect(got).toEqual(['0', '1', '2']);
  });

  it('auto-unsubscribe limit is enforced by the server too (UNSUB with max)', async () => {
    const nc = await client();
    const other = await client();
    const sub = nc.subscribe('limited.server', { max: 2 });
    await nc.flush();
    for (let i = 0; i < 5; i++) other.publish('limited.server', String(i));
    await other.flush();
    await nc.flush();
    expect(sub.getReceived()).toBe(2);
  });

  it('honours echo: false', async () => {
    const quiet = await client({ noEcho: true });
    const other = await client();
    const mine = quiet.subscribe('echo.test');
    const theirs = other.subscribe('echo.test');
    await Promise.all([quiet.flush(), other.flush()]);
    quiet.publish('echo.test', 'from quiet');
    other.publish('echo.test', 'from other');
    expect((await take(mine, 1)).map((m) => m.string())).toEqual(['from other']);
    expect((await take(theirs, 2)).map((m) => m.string()).sort()).toEqual(['from other', 'from quiet']);
    expect(await received(quiet, [mine])).toEqual([1]);
  });

  it('drains: pending messages are processed before close', async () => {
    const nc = await client();
    const pub = await client();
    const seen: number[] = [];
    const sub = nc.subscribe('drain.me', {
      callback: (_err, m) => {
        seen.push(Number(m.string()));
      },
    });
    await nc.flush();
    for (let i = 0; i < 100; i++) pub.publish('drain.me', String(i));
    await pub.flush();
    await nc.drain();
    expect(sub.isClosed()).toBe(true);
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('carries a 1 MiB payload, and the client refuses one byte more (max_payload from INFO)', async () => {
    const nc = await client();
    const sub = nc.subscribe('big');
    const payload = Buffer.alloc(1024 * 1024, 7);
    nc.publish('big', payload);
    const [m] = await take(sub, 1);
    expect(m.data.length).toBe(payload.length);
    expect(Buffer.from(m.data).equals(payload)).toBe(true);
    expect(() => nc.publish('big', Buffer.alloc(1024 * 1024 + 1))).toThrow(/max.?payload/i);
  });

  it('handles many subscriptions', async () => {
    const nc = await client();
    const pub = await client();
    const n = 5000;
    const subs = Array.from({ length: n }, (_, i) => nc.subscribe(`many.${i}`));
    const wild = nc.subscribe('many.*');
    await nc.flush();
    for (let i = 0; i < n; i++) pub.publish(`many.${i}`, 'x');
    await pub.flush();
    await nc.flush();
    expect(subs.every((s) => s.getReceived() === 1)).toBe(true);
    expect(wild.getReceived()).toBe(n);
  });

  it('keeps per-publisher order', async () => {
    const nc = await client();
    const pub = await client();
    const sub = nc.subscribe('ordered');
    await nc.flush();
    for (let i = 0; i < 1000; i++) pub.publish('ordered', String(i));
    const got = (await take(sub, 1000)).map((m) => Number(m.string()));
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});
