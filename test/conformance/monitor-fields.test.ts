/**
 * Monitoring conformance: a real nats-server (`http` on) and an embedded server, routed to each
 * other, each with one client holding the same subscriptions and one closed client. The keys of
 * every response (top level, nested blocks, each connection, route and subscription entry) and
 * the JSON type of each value must be the same on both, except the differences listed in
 * {@link ALLOWED} with their reason. Run by `npm run test:conformance` (it needs NATS_SERVER_BIN).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type NatsServer } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { compare, type Json } from '../helpers/json-shape.js';
import { eventually } from '../helpers/eventually.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';

/**
 * Every accepted difference, as `<where>.<key>`: present on one side only, or (with ` (type)`)
 * a different JSON type. The real server in CI is 2.9.10; this broker follows 2.10.
 */
const ALLOWED: Readonly<Record<string, string>> = {
  'varz.slow_consumer_stats': '2.10-only field (per-kind slow consumer counts); 2.9.10 lacks it',
  'varz.cluster.pool_size': '2.10 route pooling is not implemented (routes behave as 2.9 routes)',
  'routez.server_name': '2.10-only field (added in 2.9.2x); 2.9.10 lacks it',
  'routez.routes[].remote_name': '2.10-only field',
  'routez.routes[].compression': '2.10-only field: route compression; here always "not supported"',
  'jsz.total': '2.10-only field (the number of JetStream accounts; 0 when JetStream is off)',
  'leafz.leafs (type)': '2.9.10 writes no leaf nodes as null, 2.10.29 as []',
  'accountz.account_detail.imports': 'the service imports nats-server adds to every account for the system services are not listed (they are not imports here)',
};


/** The servers and clients made in beforeAll, undone after the last test. */
const scope = useScope('file');

interface Real {
  port: number;
  monitor: string;
}

async function realServer(port: number, httpPort: number, clusterPort: number, routes: string[]): Promise<Real> {
  const real = await startRealServer(BIN, [
    `listen: "127.0.0.1:${port}"`,
    `http: "127.0.0.1:${httpPort}"`,
    'server_name: real-mon',
    'cluster {',
    '  name: M',
    `  listen: "127.0.0.1:${clusterPort}"`,
    `  routes: [${routes.map((r) => `"${r}"`).join(', ')}]`,
    '}',
  ]);
  scope.defer(() => real.stop());
  return { port, monitor: `http://127.0.0.1:${httpPort}` };
}

async function get(base: string, path: string): Promise<Json> {
  const r = await fetch(`${base}${path}`);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${base}${path}: HTTP ${r.status}: ${text}`);
  return JSON.parse(text) as Json;
}

const CONNECT = { verbose: false, pedantic: false, name: 'mon-client', lang: 'raw', version: '1.0', protocol: 1 };

/** The same client on either server: a plain and a queue subscription (with a max), one PUB. */
async function subscriber(port: number): Promise<WireClient> {
  const c = await WireClient.connected(port, CONNECT);
  scope.defer(() => c.socket.destroy());
  c.send('SUB mon.> 1\r\nSUB mon.q grp 2\r\nUNSUB 2 5\r\nPUB unheard.subject 2\r\nhi\r\nPING\r\n');
  while ((await c.readLine()) !== 'PONG');
  return c;
}

/** A client that subscribes and leaves (a FIN: "Client Closed"). */
async function leaver(port: number): Promise<number> {
  const c = await WireClient.connected(port, { ...CONNECT, name: 'mon-leaver' });
  c.send('SUB mon.gone 1\r\nPING\r\n');
  while ((await c.readLine()) !== 'PONG');
  const cid = c.info.client_id as number;
  c.socket.end();
  return cid;
}

let emb: NatsServer;
let real: Real;
const bases: { ours: string; theirs: string } = { ours: '', theirs: '' };

beforeAll(async () => {
  const [port, httpPort, clusterPort] = [await freePort(), await freePort(), await freePort()];
  emb = await scope.server({
    serverName: 'emb-mon',
    http: -1,
    cluster: { name: 'M', routes: [`nats-route://127.0.0.1:${clusterPort}`], reconnectDelay: 100 },
  });
  real = await realServer(port, httpPort, clusterPort, [emb.routeUrl!]);
  bases.ours = emb.monitorUrl!;
  bases.theirs = real.monitor;
  for (const base of [bases.ours, bases.theirs]) {
    await eventually(async () => (await get(base, '/routez')).num_routes === 1, `the route on ${base}`, 10_000);
  }
  await subscriber(emb.port);
  await subscriber(real.port);
  const gone = [await leaver(emb.port), await leaver(real.port)];
  const closedOn = async (base: string, cid: number): Promise<boolean> =>
    (await get(base, `/connz?state=closed&cid=${cid}`)).num_connections === 1;
  await eventually(async () => (await closedOn(bases.ours, gone[0])) && (await closedOn(bases.theirs, gone[1])), 'the closed clients', 10_000);
  // Each side's route must carry the other side's client interest.
  for (const base of [bases.ours, bases.theirs]) {
    await eventually(async () => {
      const r = ((await get(base, '/routez?subs=1')).routes as Json[])[0];
      const subs = (r?.subscriptions_list as string[] | undefined) ?? [];
      return subs.includes('mon.>') && subs.includes('mon.q');
    }, `the peer's interest on ${base}`, 10_000);
  }
});

/** Fetches `path` from both servers. */
async function both(path: string): Promise<[Json, Json]> {
  return [await get(bases.ours, path), await get(bases.theirs, path)];
}

function byName(connz: Json, name: string): Json {
  const ci = (connz.connections as Json[]).find((c) => c.name === name);
  if (ci === undefined) throw new Error(`no connection named ${name}`);
  return ci;
}

function bySubject(list: unknown, subject: string): Json {
  const d = (list as Json[] | undefined ?? []).find((s) => s.subject === subject);
  if (d === undefined) throw new Error(`no subscription on ${subject}`);
  return d;
}

/**
 * Fails listing the differences that ALLOWED does not explain. A variant of a request, as in
 * `connz(closed)` or `routez(subs=1)`, is covered by the entry for the plain one.
 */
function expectConformant(diffs: string[]): void {
  const unexplained = diffs.filter((d) => !(d.replace(/(?<=\w)\([^)]*\)/g, '') in ALLOWED));
  expect(unexplained, 'differences from nats-server not listed in ALLOWED').toEqual([]);
}

describe('monitoring responses have nats-server’s keys and types', () => {
  it('/varz', async () => {
    const [ours, theirs] = await both('/varz');
    const diffs: string[] = [];
    compare('varz', ours, theirs, diffs);
    for (const block of ['cluster', 'gateway', 'leaf', 'mqtt', 'websocket', 'jetstream']) {
      compare(`varz.${block}`, ours[block], theirs[block], diffs);
    }
    expectConformant(diffs);
    expect(ours.connect_urls).toHaveLength(2);
    expect((ours.cluster as Json).name).toBe('M');
  });

  it('/connz with subs=detail, open and closed connections', async () => {
    const diffs: string[] = [];
    const [ours, theirs] = await both('/connz?subs=detail');
    compare('connz', ours, theirs, diffs);
    const [a, b] = [byName(ours, 'mon-client'), byName(theirs, 'mon-client')];
    compare('connz.connections[]', a, b, diffs);
    for (const subject of ['mon.>', 'mon.q']) {
      compare(`connz.connections[].subscriptions_list_detail[${subject}]`,
        bySubject(a.subscriptions_list_detail, subject), bySubject(b.subscriptions_list_detail, subject), diffs);
    }
    for (const key of ['kind', 'type', 'ip', 'subscriptions', 'in_msgs', 'in_bytes', 'lang', 'version']) {
      expect(a[key], key).toEqual(b[key]);
    }

    const [oursList, theirsList] = await both('/connz?subs=1');
    compare('connz(subs=1).connections[]', byName(oursList, 'mon-client'), byName(theirsList, 'mon-client'), diffs);
    expect(new Set(byName(oursList, 'mon-client').subscriptions_list as string[]))
      .toEqual(new Set(byName(theirsList, 'mon-client').subscriptions_list as string[]));

    const [oursClosed, theirsClosed] = await both('/connz?state=closed&subs=detail');
    compare('connz(closed)', oursClosed, theirsClosed, diffs);
    const [ca, cb] = [byName(oursClosed, 'mon-leaver'), byName(theirsClosed, 'mon-leaver')];
    compare('connz(closed).connections[]', ca, cb, diffs);
    compare('connz(closed).connections[].subscriptions_list_detail[]',
      bySubject(ca.subscriptions_list_detail, 'mon.gone'), bySubject(cb.subscriptions_list_detail, 'mon.gone'), diffs);
    expect(ca.reason).toBe(cb.reason);
    expectConformant(diffs);
  });

  it('/subsz without and with subs=1', async () => {
    const diffs: string[] = [];
    const [ours, theirs] = await both('/subsz');
    compare('subsz', ours, theirs, diffs);
    const [oursList, theirsList] = await both('/subsz?subs=1');
    compare('subsz(subs=1)', oursList, theirsList, diffs);
    for (const subject of ['mon.>', 'mon.q']) {
      const [x, y] = [bySubject(oursList.subscriptions_list, subject), bySubject(theirsList.subscriptions_list, subject)];
      compare(`subsz(subs=1).subscriptions_list[${subject}]`, x, y, diffs);
      expect({ ...x, cid: 0 }).toEqual({ ...y, cid: 0 });
    }
    expectConformant(diffs);
  });

  it('/routez with subs=1 and subs=detail', async () => {
    const diffs: string[] = [];
    const [ours, theirs] = await both('/routez?subs=detail');
    compare('routez', ours, theirs, diffs);
    const [a, b] = [(ours.routes as Json[])[0], (theirs.routes as Json[])[0]];
    compare('routez.routes[]', a, b, diffs);
    for (const subject of ['mon.>', 'mon.q']) {
      compare(`routez.routes[].subscriptions_list_detail[${subject}]`,
        bySubject(a.subscriptions_list_detail, subject), bySubject(b.subscriptions_list_detail, subject), diffs);
    }
    const [oursList, theirsList] = await both('/routez?subs=1');
    compare('routez(subs=1).routes[]', (oursList.routes as Json[])[0], (theirsList.routes as Json[])[0], diffs);
    expectConformant(diffs);
  });

  it('/jsz and /varz jetstream with JetStream off', async () => {
    const diffs: string[] = [];
    const [ours, theirs] = await both('/jsz?accounts=1&streams=1&config=1');
    compare('jsz', ours, theirs, diffs);
    compare('jsz.config', ours.config, theirs.config, diffs);
    compare('jsz.api', ours.api, theirs.api, diffs);
    expectConformant(diffs);
    expect({ ...ours, server_id: '', now: '', total: undefined }).toEqual({ ...theirs, server_id: '', now: '' });
    const leaderOnly = await Promise.all([bases.ours, bases.theirs].map(async (b) => {
      const r = await fetch(`${b}/jsz?leader-only=1`);
      return { status: r.status, text: await r.text() };
    }));
    expect(leaderOnly[0]).toEqual(leaderOnly[1]);
    const [v, w] = await both('/varz');
    expect(v.jetstream).toEqual({});
    expect(w.jetstream).toEqual({});
  });

  it('/accountz (list, one account, an unknown one), /leafz and /gatewayz', async () => {
    const diffs: string[] = [];
    const [ours, theirs] = await both('/accountz');
    compare('accountz', ours, theirs, diffs);
    expect((ours.accounts as string[]).slice().sort()).toEqual((theirs.accounts as string[]).slice().sort());
    const [a, b] = await both('/accountz?acc=$G');
    compare('accountz', a, b, diffs);
    compare('accountz.account_detail', a.account_detail, b.account_detail, diffs);
    const [l, m] = await both('/leafz');
    compare('leafz', l, m, diffs);
    const [g, h] = await both('/gatewayz');
    compare('gatewayz', g, h, diffs);
    expect([g.outbound_gateways, g.inbound_gateways]).toEqual([h.outbound_gateways, h.inbound_gateways]);
    expectConformant(diffs);
    const missing = await Promise.all([bases.ours, bases.theirs].map(async (base) => {
      const r = await fetch(`${base}/accountz?acc=NOPE`);
      return { status: r.status, text: await r.text() };
    }));
    expect(missing[0]).toEqual(missing[1]);
  });

  it('/healthz', async () => {
    const diffs: string[] = [];
    const [ours, theirs] = await both('/healthz');
    compare('healthz', ours, theirs, diffs);
    expectConformant(diffs);
    expect(ours).toEqual(theirs);
  });
});
