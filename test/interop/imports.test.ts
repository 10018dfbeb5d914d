/**
 * Account exports and imports (nats-server's config-file accounts), with the official client:
 * stream imports under a prefix or a `to` mapping, service imports with their response types
 * and threshold. Runs on both backends (`npm run test:conformance` runs it again on the
 * nats-server backend): the options are written into nats-server's config file as they are.
 */
import { describe, expect, it } from 'vitest';
import { createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { NatsServer, ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const OPTIONS = {
  accounts: {
    A: {
      users: [{ user: 'a', password: 'a' }],
      exports: [
        { stream: 'ev.>' },
        { stream: 'orders.*.*', accounts: ['B'] },
        { service: 'svc.>' },
        { service: 'feed', responseType: 'stream', responseThreshold: '400ms' },
        { service: 'chunks', responseType: 'chunked' },
        { service: 'once' },
        { service: 'rev.*.*' },
        { stream: 'lit.x' },
      ],
    },
    B: {
      users: [{ user: 'b', password: 'b' }],
      imports: [
        { stream: { account: 'A', subject: 'ev.>' }, prefix: 'from.a' },
        { stream: { account: 'A', subject: 'orders.*.*' }, to: 'b.orders.$2.$1' },
        { service: { account: 'A', subject: 'svc.>' } },
        { service: { account: 'A', subject: 'feed' }, to: 'b.feed' },
        { service: { account: 'A', subject: 'chunks' } },
        { service: { account: 'A', subject: 'once' } },
        { service: { account: 'A', subject: 'rev.*.*' }, to: 'local.$2.$1' },
        { stream: { account: 'A', subject: 'lit.x' }, to: 'd.*' },
      ],
    },
    C: { users: [{ user: 'c', password: 'c' }] },
  },
} satisfies ServerOptions;

const scope = useScope();

interface Three {
  readonly s: NatsServer;
  readonly a: NatsConnection;
  readonly b: NatsConnection;
  readonly c: NatsConnection;
}

async function three(): Promise<Three> {
  const s = await scope.server(OPTIONS);
  const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((u) => scope.client(s, { user: u, pass: u, reconnect: false })));
  return { s, a: a!, b: b!, c: c! };
}

/** Collects `subject payload` of every message a subscription gets. */
function collect(nc: NatsConnection, subject: string, opts: { queue?: string } = {}): { got: string[]; unsubscribe(): void } {
  const got: string[] = [];
  const sub = nc.subscribe(subject, { ...opts, callback: (_e, m) => void got.push(`${m.subject} ${m.string()}`) });
  return { got, unsubscribe: () => sub.unsubscribe() };
}

/** Waits until `n` messages were collected. */
async function count(c: { got: string[] }, n: number): Promise<void> {
  await eventually(() => c.got.length >= n || undefined, `${n} messages`);
}

async function flushAll(...ncs: NatsConnection[]): Promise<void> {
  await Promise.all(ncs.map((nc) => nc.flush()));
}

describe('stream imports', () => {
  it('deliver the exporter\'s messages under the prefix, to subscriptions made before and after, and to no other account', async () => {
    const { a, b, c } = await three();
    const early = collect(b, 'from.a.>');
    const cAll = collect(c, '>');
    const aOwn = collect(a, 'ev.>');
    await flushAll(a, b, c);
    a.publish('ev.1', 'one');
    await flushAll(a);
    const late = collect(b, 'from.a.ev.*');
    const narrow = collect(b, 'from.a.ev.2');
    await flushAll(b);
    a.publish('ev.2', 'two');
    a.publish('other', 'not exported');
    b.publish('ev.3', 'B\'s own ev.3 is not A\'s');
    await flushAll(a, b);
    await count(late, 1);
    await flushAll(a, b, c);
    expect(late.got).toEqual(['from.a.ev.2 two']);
    expect(early.got).toEqual(['from.a.ev.1 one', 'from.a.ev.2 two']);
    expect(narrow.got).toEqual(['from.a.ev.2 two']);
    expect(aOwn.got).toEqual(['ev.1 one', 'ev.2 two']);
    expect(cAll.got).toEqual([]);
    // Unsubscribing ends the delivery.
    early.unsubscribe();
    late.unsubscribe();
    await flushAll(b);
    a.publish('ev.2', 'three');
    await flushAll(a, b);
    await count(narrow, 2);
    await flushAll(b);
    expect(narrow.got).toEqual(['from.a.ev.2 two', 'from.a.ev.2 three']);
    expect(early.got).toHaveLength(2);
    expect(late.got).toHaveLength(1);
  });

  it('map wildcards with `to` ($2.$1), for the accounts the export names only', async () => {
    const { a, b } = await three();
    const got = collect(b, 'b.orders.>');
    await flushAll(b);
    a.publish('orders.eu.42', 'x');
    a.publish('orders.us', 'not two tokens');
    await flushAll(a);
    await count(got, 1);
    await flushAll(b);
    expect(got.got).toEqual(['b.orders.42.eu x']);
  });

  it('a literal subject imported to a wildcard `to` reaches every subscription under it, with `to` as the subject', async () => {
    const { a, b } = await three();
    const one = collect(b, 'd.one');
    const all = collect(b, 'd.*');
    await flushAll(b);
    a.publish('lit.x', 'x');
    await flushAll(a);
    await count(one, 1);
    await count(all, 1);
    await flushAll(b);
    expect([one.got, all.got]).toEqual([['d.* x'], ['d.* x']]);
  });

  it('queue subscriptions of the importer share the messages', async () => {
    const { a, b } = await three();
    const q1 = collect(b, 'from.a.ev.q', { queue: 'workers' });
    const q2 = collect(b, 'from.a.ev.q', { queue: 'workers' });
    await flushAll(b);
    for (let i = 0; i < 40; i++) a.publish('ev.q', String(i));
    await flushAll(a);
    await eventually(() => q1.got.length + q2.got.length >= 40 || undefined, '40 messages');
    await flushAll(b);
    expect(q1.got.length + q2.got.length).toBe(40);
    const all = [...q1.got, ...q2.got].map((s) => Number(s.split(' ')[1])).sort((x, y) => x - y);
    expect(all).toEqual([...Array(40).keys()]);
  });
});

describe('service imports', () => {
  it('a request from the importer reaches the exporter\'s responder with an _R_ reply and Nats-Request-Info; the response comes back', async () => {
    const { a, b, c } = await three();
    let seen: Msg | null = null;
    a.subscribe('svc.>', {
      callback: (_e, m) => {
        seen = m;
        m.respond(`pong ${m.subject} ${m.string()}`);
      },
    });
    await flushAll(a);
    const r = await b.request('svc.echo', 'hi', { timeout: 2000 });
    expect(r.string()).toBe('pong svc.echo hi');
    const m = seen as Msg | null;
    expect(m?.reply).toMatch(/^_R_\.[0-9A-Za-z]{6}\.[0-9A-Za-z]{6}$/);
    const info = JSON.parse(m?.headers?.get('Nats-Request-Info') ?? '{}') as { acc?: string; rtt?: number };
    expect(info.acc).toBe('B');
    expect(typeof info.rtt).toBe('number');
    // An account without the import has no such service.
    const err = await c.request('svc.echo', 'hi', { timeout: 1000 }).catch((e: Error) => e.message);
    expect(String(err)).toMatch(/no responders|timeout/i);
  });

  it('a wildcard service import maps the local subject onto the export ($2.$1)', async () => {
    const { a, b } = await three();
    a.subscribe('rev.>', { callback: (_e, m) => void m.respond(m.subject) });
    await flushAll(a);
    expect((await b.request('local.x.y', '', { timeout: 2000 })).string()).toBe('rev.y.x');
  });

  it('singleton: one response reaches the requester, a second is dropped', async () => {
    const { a, b } = await three();
    a.subscribe('once', { callback: (_e, m) => { m.respond('1'); m.respond('2'); } });
    await flushAll(a);
    const inbox = createInbox();
    const got = collect(b, inbox);
    await flushAll(b);
    b.publish('once', 'x', { reply: inbox });
    await flushAll(b);
    await count(got, 1);
    await flushAll(a, b);
    await flushAll(a, b);
    expect(got.got).toEqual([`${inbox} 1`]);
  });

  it('stream and chunked: every response reaches the requester until the threshold passes without one', async () => {
    const { a, b } = await three();
    let late: (() => void) | null = null;
    a.subscribe('feed', {
      callback: (_e, m) => {
        for (const p of ['1', '2', '3']) m.respond(p);
        late = () => m.respond('late');
      },
    });
    a.subscribe('chunks', { callback: (_e, m) => { for (const p of ['a', 'b']) m.respond(p); } });
    await flushAll(a);
    const inbox = createInbox();
    const got = collect(b, `${inbox}.*`);
    await flushAll(b);
    b.publish('b.feed', 'x', { reply: `${inbox}.feed` });
    b.publish('chunks', 'x', { reply: `${inbox}.chunks` });
    await flushAll(b);
    await count(got, 5);
    expect(got.got.filter((g) => g.includes('.feed '))).toEqual(['1', '2', '3'].map((p) => `${inbox}.feed ${p}`));
    expect(got.got.filter((g) => g.includes('.chunks '))).toEqual(['a', 'b'].map((p) => `${inbox}.chunks ${p}`));
    // The export's threshold is 400ms: nats-server checks for expired routes every threshold, so
    // a response 1.2 s later finds the route gone.
    await new Promise((r) => setTimeout(r, 1200));
    (late as (() => void) | null)?.();
    await flushAll(a);
    await new Promise((r) => setTimeout(r, 100));
    await flushAll(b);
    expect(got.got).toHaveLength(5);
  });

  // nats-server 2.10.26+ (client.go deliverMsg: a service import's delivery counts only when the
  // exporter received it); 2.9 lets the request time out.
  it('no responders (2.10): a request nobody in the exporting account receives gets the 503 status', async () => {
    const { b } = await three();
    const err = await b.request('svc.nobody', 'hi', { timeout: 2000 }).catch((e: Error) => e.message);
    expect(String(err)).toMatch(/no responders/i);
  });
});
