/**
 * Route authentication (`cluster { authorization }`) between embedded servers and on the wire:
 * the right credentials form the mesh and carry messages; wrong or missing ones are refused with
 * nats-server's `-ERR 'Authorization Violation'` and the mesh does not form; a server started
 * again with fixed credentials joins. The wire answers were taken from nats-server 2.9.10 (and
 * are the same in 2.10.29's route.go/auth.go: auth_required in route INFO, credentials checked
 * before the rest of CONNECT, an op before CONNECT and a silent peer refused).
 */
import { describe, expect, it } from 'vitest';
import { createServer as createTcpServer } from 'node:net';
import bcrypt from 'bcryptjs';
import { type NatsConnection } from '@nats-io/transport-node';
import { type NatsServer } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();
const AUTH = { user: 'ruser', password: 'r p@ss' };
/** The password as a route URL carries it. */
const PASS = encodeURIComponent(AUTH.password);

function withCreds(url: string, user: string, pass: string): string {
  return url.replace('://', `://${user}:${pass}@`);
}

function member(name: string, routes: string[] = [], extra: Record<string, unknown> = {}): Promise<NatsServer> {
  return scope.server({ serverName: name, cluster: { name: 'C', routes, reconnectDelay: 50, authorization: AUTH, ...extra } });
}

function track(w: WireClient): WireClient {
  scope.defer(() => w.close());
  return w;
}

/** Publishes until the subscriber on the other server got one: interest crosses asynchronously. */
async function flows(from: NatsConnection, to: NatsConnection, subject: string): Promise<void> {
  let got = 0;
  to.subscribe(subject, { callback: () => void got++ });
  await to.flush();
  await eventually(async () => {
    if (got > 0) return true;
    from.publish(subject, 'x');
    await from.flush();
    return false;
  }, `a message on ${subject} across the route`, 10_000);
}

describe('route authentication between embedded servers', () => {
  it('forms the mesh with the right credentials, and messages flow both ways', async () => {
    const a = await member('a');
    const b = await member('b', [withCreds(a.routeUrl!, AUTH.user, PASS)]);
    await eventually(() => a.routes().length === 1 && b.routes().length === 1, 'the route');
    const [ca, cb] = [await scope.client(a), await scope.client(b)];
    await flows(ca, cb, 'to.b');
    await flows(cb, ca, 'to.a');
  });

  it('a third server learned by gossip is dialled with the cluster\'s own credentials', async () => {
    const a = await member('a');
    const b = await member('b', [withCreds(a.routeUrl!, AUTH.user, PASS)]);
    const c = await member('c', [withCreds(a.routeUrl!, AUTH.user, PASS)]);
    // b and c only know a: their route to each other comes from gossip, and needs the credentials.
    await eventually(() => [a, b, c].every((s) => s.routes().length === 2), 'the full mesh');
    expect(b.routes().map((r) => r.name).sort()).toEqual(['a', 'c']);
  });

  it('refuses wrong or missing credentials: no route on either side', async () => {
    const errors: string[] = [];
    const logger = { info: () => {}, warn: () => {}, error: (m: string) => void errors.push(m) };
    const a = await scope.server({ serverName: 'a', logger, cluster: { name: 'C', authorization: AUTH } });
    const wrong = await scope.server({ serverName: 'w', cluster: { name: 'C', routes: [withCreds(a.routeUrl!, AUTH.user, 'nope')], reconnectDelay: 50 } });
    const none = await scope.server({ serverName: 'n', cluster: { name: 'C', routes: [a.routeUrl!], reconnectDelay: 50 } });
    // Several attempts each (reconnectDelay 50 ms), none of them registered.
    await new Promise((r) => setTimeout(r, 600));
    expect(a.routes()).toEqual([]);
    // A soliciting side registers its route on the INFO, a moment before the refusal arrives (as
    // nats-server's processRouteInfo does): between attempts it has none.
    await eventually(() => wrong.routes().length === 0, 'no route from w between attempts', 2000);
    await eventually(() => none.routes().length === 0, 'no route from n between attempts', 2000);
    // Both were refused, again and again (nats-server's log line for a refused route).
    expect(errors.filter((e) => e.endsWith(' - authentication error')).length).toBeGreaterThanOrEqual(4);
  });

  it('a server started again with fixed credentials joins', async () => {
    const a = await member('a');
    const bad = await member('b', [withCreds(a.routeUrl!, AUTH.user, 'old')]);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.routes()).toEqual([]);
    await bad.close();
    const good = await member('b', [withCreds(a.routeUrl!, AUTH.user, PASS)]);
    await eventually(() => a.routes().length === 1 && good.routes().length === 1, 'the route with fixed credentials');
    await flows(await scope.client(a), await scope.client(good), 'fixed');
  });

  it('accepts a bcrypt-hashed route password, as nats-server', async () => {
    const hash = bcrypt.hashSync('secret', 4);
    const a = await scope.server({ serverName: 'a', cluster: { name: 'C', authorization: { user: 'r', password: hash } } });
    const w = track(await WireClient.open(a.clusterPort));
    w.send('CONNECT {"user":"r","pass":"secret","name":"NX","cluster":"C"}\r\nPING\r\n');
    await w.expect('PONG\r\n');
    const bad = track(await WireClient.open(a.clusterPort));
    bad.send(`CONNECT {"user":"r","pass":${JSON.stringify(hash)},"name":"NY","cluster":"C"}\r\n`);
    await bad.expect("-ERR 'Authorization Violation'\r\n");
  });

  it('createCluster() sets the credentials on every member and dials with them', async () => {
    const cluster = await scope.cluster({ size: 3, routeAuthorization: AUTH });
    for (const s of cluster.servers) expect(s.routes()).toHaveLength(2);
    // The members really require them: a route without credentials is refused.
    const w = track(await WireClient.open(cluster.servers[0].clusterPort));
    expect(w.info.auth_required).toBe(true);
    w.send('CONNECT {"name":"NX","cluster":"' + cluster.clusterName + '"}\r\n');
    await w.expect("-ERR 'Authorization Violation'\r\n");
    await w.expectClose();
    // And a killed member comes back into the mesh with them.
    await cluster.restart(1);
    for (const s of cluster.servers) expect(s.routes()).toHaveLength(2);
  });
});

describe('route authentication on the wire', () => {
  async function open(timeout?: number): Promise<{ s: NatsServer; w: WireClient }> {
    const s = await member('emb', [], {});
    if (timeout !== undefined) {
      await s.close();
      const t = await scope.server({ serverName: 'emb', cluster: { name: 'C', authorization: { ...AUTH, timeout } } });
      return { s: t, w: track(await WireClient.open(t.clusterPort)) };
    }
    return { s, w: track(await WireClient.open(s.clusterPort)) };
  }

  it('advertises auth_required in the route INFO, between headers and max_payload', async () => {
    const { w } = await open();
    expect(w.info.auth_required).toBe(true);
    const keys = Object.keys(w.info);
    expect(keys.indexOf('auth_required')).toBe(keys.indexOf('headers') + 1);
    expect(keys.indexOf('max_payload')).toBe(keys.indexOf('auth_required') + 1);
    // Without credentials configured the field is absent.
    const plain = await scope.server({ cluster: { name: 'C' } });
    const p = track(await WireClient.open(plain.clusterPort));
    expect(p.info).not.toHaveProperty('auth_required');
  });

  for (const [what, connect] of [
    ['a wrong password', `{"user":"ruser","pass":"x","name":"NX","cluster":"C"}`],
    ['a wrong user', `{"user":"other","pass":"r p@ss","name":"NX","cluster":"C"}`],
    ['no credentials', `{"name":"NX","cluster":"C"}`],
    ['a token', `{"auth_token":"r p@ss","name":"NX","cluster":"C"}`],
    // Credentials come first: a client's CONNECT is refused for them, not for its lang.
    ['a client CONNECT', `{"lang":"node","verbose":false}`],
  ] as const) {
    it(`answers ${what} with -ERR 'Authorization Violation' and closes`, async () => {
      const { s, w } = await open();
      w.send(`CONNECT ${connect}\r\nINFO {"server_id":"NX","server_name":"x","cluster":"C","port":1}\r\n`);
      await w.expect("-ERR 'Authorization Violation'\r\n");
      await w.expectClose();
      expect(s.routes()).toEqual([]);
    });
  }

  it('answers an op before CONNECT with -ERR \'Authorization Violation\'', async () => {
    const { w } = await open();
    w.send('PING\r\n');
    await w.expect("-ERR 'Authorization Violation'\r\n");
    await w.expectClose();
  });

  it('closes a route that sends no CONNECT within the timeout with -ERR \'Authentication Timeout\'', async () => {
    const { w } = await open(300);
    const t0 = Date.now();
    await w.expect("-ERR 'Authentication Timeout'\r\n", 3000);
    await w.expectClose();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('registers a peer with the right credentials', async () => {
    const { s, w } = await open();
    w.send(`CONNECT {"user":"ruser","pass":"r p@ss","name":"NX","cluster":"C"}\r\nPING\r\n`);
    await w.expect('PONG\r\n');
    w.send('INFO {"server_id":"NX","server_name":"x","cluster":"C","port":1,"headers":true}\r\n');
    await eventually(() => s.routes().length === 1, 'registration');
    // No auth timeout once CONNECT is in.
    await new Promise((r) => setTimeout(r, 100));
    expect(s.routes()).toHaveLength(1);
  });

  /** The CONNECT a server sends to a fake peer it dials at `url(port)`. */
  async function connectSentTo(url: (port: number) => string): Promise<Record<string, unknown>> {
    let got = '';
    const listener = createTcpServer((sock) => {
      sock.on('data', (d) => void (got += d.toString('latin1')));
      sock.write('INFO {"server_id":"NFAKE","server_name":"fake","cluster":"C","port":1,"auth_required":true} \r\n');
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    scope.defer(() => new Promise((r) => listener.close(r)));
    const port = (listener.address() as { port: number }).port;
    await scope.server({ cluster: { name: 'C', routes: [url(port)] } });
    const line = await eventually(() => got.split('\r\n').find((l) => l.startsWith('CONNECT ')), 'the CONNECT');
    return JSON.parse(line.slice(8)) as Record<string, unknown>;
  }

  it('sends the route URL\'s user and password in its CONNECT', async () => {
    const c = await connectSentTo((port) => `nats-route://ruser:${PASS}@127.0.0.1:${port}`);
    expect(c).toMatchObject({ user: 'ruser', pass: 'r p@ss', cluster: 'C' });
  });

  it('sends a URL user without a password as user alone (routes have no tokens), and nothing without one', async () => {
    const c = await connectSentTo((port) => `nats-route://tok@127.0.0.1:${port}`);
    expect(c.user).toBe('tok');
    expect(c).not.toHaveProperty('pass');
    expect(c).not.toHaveProperty('auth_token');
    const bare = await connectSentTo((port) => `nats-route://127.0.0.1:${port}`);
    expect(bare).not.toHaveProperty('user');
    expect(bare).not.toHaveProperty('pass');
  });

  it('reports the route auth timeout in /varz cluster.auth_timeout', async () => {
    const s = await scope.server({ http: -1, cluster: { name: 'C', authorization: { ...AUTH, timeout: 1500 } } });
    const varz = await (await fetch(`${s.monitorUrl}/varz`)).json() as { cluster: Record<string, unknown> };
    expect(varz.cluster.auth_timeout).toBe(1.5);
  });
});
