/**
 * Accounts: separate subject spaces. Nothing published in one account reaches another — checked
 * with the official client, with random subjects (fast-check), and across a cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type NatsConnection } from '@nats-io/transport-node';
import { createServer, type NatsServer, type ServerOptions } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const ACCOUNTS = {
  accounts: {
    A: { users: [{ user: 'a', password: 'pa' }, { user: 'a2', password: 'pa' }] },
    B: { users: [{ user: 'b', password: 'pb' }] },
  },
  authorization: { users: [{ user: 'g', password: 'pg' }] },
} satisfies ServerOptions;

const scope = useScope();

function client(s: NatsServer, user: string, pass: string): Promise<NatsConnection> {
  return scope.client(s, { user, pass, reconnect: false });
}

describe('accounts (official client)', () => {
  it('a message in one account never reaches another; users of one account share it', async () => {
    const s = await scope.server(ACCOUNTS);
    const a = await client(s, 'a', 'pa');
    const a2 = await client(s, 'a2', 'pa');
    const b = await client(s, 'b', 'pb');
    const g = await client(s, 'g', 'pg');
    const got: Record<string, string[]> = { a2: [], b: [], g: [] };
    a2.subscribe('>', { callback: (_e, m) => void got.a2.push(m.string()) });
    b.subscribe('>', { callback: (_e, m) => void got.b.push(m.string()) });
    g.subscribe('>', { callback: (_e, m) => void got.g.push(m.string()) });
    await Promise.all([a2.flush(), b.flush(), g.flush()]);
    a.publish('orders.1', 'from A');
    b.publish('orders.1', 'from B');
    g.publish('orders.1', 'from G');
    await Promise.all([a.flush(), b.flush(), g.flush()]);
    await Promise.all([a2.flush(), b.flush(), g.flush()]);
    expect(got).toEqual({ a2: ['from A'], b: ['from B'], g: ['from G'] });
    // Request/reply inside an account; a service in A does not exist for a fresh client in B.
    a2.subscribe('svc', { callback: (_e, m) => void m.respond('A service') });
    await a2.flush();
    expect((await a.request('svc', '', { timeout: 2000 })).string()).toBe('A service');
    const lone = await scope.server(ACCOUNTS);
    const a3 = await client(lone, 'a', 'pa');
    const b3 = await client(lone, 'b', 'pb');
    a3.subscribe('svc', { callback: (_e, m) => void m.respond('A service') });
    await a3.flush();
    const err = await b3.request('svc', '', { timeout: 2000 }).catch((e: Error) => e.message);
    expect(String(err)).toMatch(/no responders/i);
  });
});

describe('accounts (property: random subjects never leak)', () => {
  let s: NatsServer;
  let pubs: WireClient[];
  let subs: WireClient[];
  beforeAll(async () => {
    s = await createServer(ACCOUNTS);
    const creds: Array<[string, string]> = [['a', 'pa'], ['b', 'pb'], ['g', 'pg']];
    pubs = await Promise.all(creds.map(([user, pass]) => WireClient.connected(s.port, { verbose: false, user, pass })));
    subs = await Promise.all(creds.map(([user, pass]) => WireClient.connected(s.port, { verbose: false, user, pass })));
    subs.forEach((w, i) => w.send(`SUB > ${i}\r\nSUB *.* q${i}\r\n`));
    for (const w of subs) await w.expectNothing();
  });
  afterAll(async () => {
    for (const w of [...pubs, ...subs]) w.close();
    await s.close();
  });

  it('every subscriber sees exactly its own account\'s messages', async () => {
    const token = fc.constantFrom('a', 'b', 'orders', '$x', 'ä');
    const publication = fc.record({
      from: fc.nat(2),
      subject: fc.array(token, { minLength: 1, maxLength: 3 }).map((t) => t.join('.')),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(publication, { minLength: 1, maxLength: 20 }), async (list) => {
        const expected: string[][] = [[], [], []];
        list.forEach((p, n) => {
          const payload = `m${n}`;
          pubs[p.from].send(`PUB ${p.subject} ${payload.length}\r\n${payload}\r\n`);
          expected[p.from].push(`${p.subject}:${payload}`);
          if (p.subject.split('.').length === 2) expected[p.from].push(`${p.subject}:${payload}`);
        });
        for (const p of pubs) await p.expectNothing();
        for (const [i, w] of subs.entries()) {
          const received = await w.drain();
          const seen = received.split('MSG ').slice(1).map((f) => {
            const [line, body] = f.split('\r\n');
            return `${line.split(' ')[0]}:${body}`;
          });
          expect(seen.sort()).toEqual(expected[i].sort());
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('accounts across a cluster', () => {
  it('routes carry the account: interest and messages stay in their account on every node', async () => {
    const n1 = await scope.server({ ...ACCOUNTS, cluster: { name: 'acc' } });
    const n2 = await scope.server({ ...ACCOUNTS, cluster: { name: 'acc', routes: [n1.routeUrl!] } });
    const bOn2 = await client(n2, 'b', 'pb');
    const aOn2 = await client(n2, 'a2', 'pa');
    const got: Record<string, string[]> = { a: [], b: [] };
    aOn2.subscribe('x', { callback: (_e, m) => void got.a.push(m.string()) });
    bOn2.subscribe('x', { callback: (_e, m) => void got.b.push(m.string()) });
    await Promise.all([aOn2.flush(), bOn2.flush()]);
    // Both accounts' interest in x reaches n1 over the route (once the route is up).
    await n1.waitForSubscription('x', { count: 2 });
    const aOn1 = await client(n1, 'a', 'pa');
    aOn1.publish('x', 'A via route');
    await aOn1.flush();
    await eventually(() => got.a.length > 0, 'the message across the route');
    await bOn2.flush();
    expect(got).toEqual({ a: ['A via route'], b: [] });
  });
});
