/**
 * Account imports across routes. As in nats-server, a stream import's shadow subscription is
 * interest in the exporting account, so the routes carry it: a message published in the
 * exporting account on one server reaches the importer's subscriber on another. A service
 * import takes the request where it is published; the request then goes to a responder
 * anywhere in the exporting account, and the response comes back through the `_R_` wildcard
 * subscription, which is interest on the routes too.
 */
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsServer, ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const ACCOUNTS = {
  accounts: {
    A: { users: [{ user: 'a', password: 'a' }], exports: [{ stream: 'ev.>' }, { service: 'svc.>' }] },
    B: {
      users: [{ user: 'b', password: 'b' }],
      imports: [{ stream: { account: 'A', subject: 'ev.>' }, prefix: 'from.a' }, { service: { account: 'A', subject: 'svc.>' } }],
    },
    C: { users: [{ user: 'c', password: 'c' }] },
  },
} satisfies ServerOptions;

const scope = useScope();

function client(s: NatsServer, user: string): Promise<NatsConnection> {
  return scope.client(s, { user, pass: user, reconnect: false });
}

describe('imports across a cluster', () => {
  it('stream import: the shadow interest crosses the route; queue members are served once; unsubscribe ends it', async () => {
    const c = await scope.cluster({ size: 2, ...ACCOUNTS });
    const [s1, s2] = c.servers as [NatsServer, NatsServer];
    const b1 = await client(s1, 'b');
    const b2 = await client(s2, 'b');
    const a2 = await client(s2, 'a');
    const c2 = await client(s2, 'c');
    const plain: string[] = [];
    const queued: string[] = [];
    const other: string[] = [];
    const sub = b1.subscribe('from.a.>', { callback: (_e, m) => void plain.push(`${m.subject} ${m.string()}`) });
    b1.subscribe('from.a.ev.q', { queue: 'q', callback: (_e, m) => void queued.push(`1 ${m.string()}`) });
    b2.subscribe('from.a.ev.q', { queue: 'q', callback: (_e, m) => void queued.push(`2 ${m.string()}`) });
    c2.subscribe('>', { callback: (_e, m) => void other.push(m.subject) });
    await Promise.all([b1.flush(), b2.flush(), c2.flush()]);
    // The shadow of b1's subscription is A's interest in ev.> on s2.
    await s2.waitForSubscription('ev.1', { count: 1 });
    a2.publish('ev.1', 'one');
    for (let i = 0; i < 20; i++) a2.publish('ev.q', String(i));
    await a2.flush();
    await eventually(() => plain.length === 21 && queued.length === 20 || undefined, 'deliveries');
    expect(plain[0]).toBe('from.a.ev.1 one');
    expect(queued.map((q) => Number(q.split(' ')[1])).sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
    expect(other).toEqual([]);
    // After the unsubscribe, a marker published after ev.2 on the same route arrives, and ev.2 does not.
    const markers: string[] = [];
    b1.subscribe('from.a.ev.marker', { callback: (_e, m) => void markers.push(m.string()) });
    sub.unsubscribe();
    await b1.flush();
    await s2.waitForSubscription('ev.marker');
    a2.publish('ev.2', 'after');
    a2.publish('ev.marker', 'm');
    await a2.flush();
    await eventually(() => markers.length === 1 || undefined, 'the marker');
    expect(plain).toHaveLength(21);
  });

  it('service import: a request on one server, the responder on the other', async () => {
    const c = await scope.cluster({ size: 2, ...ACCOUNTS });
    const [s1, s2] = c.servers as [NatsServer, NatsServer];
    const b1 = await client(s1, 'b');
    const a2 = await client(s2, 'a');
    a2.subscribe('svc.>', { callback: (_e, m) => void m.respond(`pong ${m.subject}`) });
    await a2.flush();
    // The service import's subscription in B, and the responder's interest in A from s2.
    await s1.waitForSubscription('svc.x', { count: 2 });
    expect((await b1.request('svc.x', 'hi', { timeout: 3000 })).string()).toBe('pong svc.x');
    expect((await b1.request('svc.y', 'hi', { timeout: 3000 })).string()).toBe('pong svc.y');
  });
});

describe('responses across a cluster', () => {
  it('a response that came over a route goes to the requester\'s local subscribers only (one hop, as nats-server)', async () => {
    const c = await scope.cluster({ size: 2, ...ACCOUNTS });
    const [s1, s2] = c.servers as [NatsServer, NatsServer];
    const a1 = await client(s1, 'a');
    const w1 = await client(s1, 'b');
    const b2 = await client(s2, 'b');
    a1.subscribe('svc.>', { callback: (_e, m) => void m.respond('resp') });
    const watched: string[] = [];
    w1.subscribe('>', { callback: (_e, m) => void watched.push(m.subject) });
    await a1.flush();
    await w1.flush();
    await eventually(async () => (await b2.request('svc.q', 'req', { timeout: 500 }).then((m) => m.string(), () => null)) === 'resp' || undefined, 'the response on s2');
    await w1.flush();
    await b2.flush();
    // The watcher on s1 sees the request published in B on s2, never the response routed back.
    expect(watched.filter((subj) => !subj.startsWith('$JS'))).not.toHaveLength(0);
    expect(watched.filter((subj) => subj.startsWith('_INBOX.'))).toEqual([]);
  });
});
