/**
 * The monitoring endpoints: nats-server 2.10's field names, key order, types and units, query
 * options, error texts and response headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCluster, createServer, type NatsCluster, type NatsServer } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { monitorGet as get, monitorJson as json, type Json } from '../helpers/monitor.js';

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
const UPTIME = /^(\d+y)?(\d+d)?(\d+h)?(\d+m)?\d+s$/;
const GO_DURATION = /^(0s|\d+(\.\d+)?(ns|µs|ms|s)|(\d+h)?(\d+m)?\d+(\.\d+)?s)$/;

const scope = useScope();

async function wire(server: NatsServer, name: string, ops = ''): Promise<WireClient> {
  const c = await WireClient.connected(server.port, { verbose: false, pedantic: false, name, lang: 'raw', version: '1.2.3' });
  scope.defer(() => c.socket.destroy());
  if (ops !== '') {
    // The PONG comes after everything the ops caused (e.g. MSGs to this client): skip those.
    c.send(`${ops}PING\r\n`);
    while ((await c.readLine()) !== 'PONG');
  }
  return c;
}

describe('monitoring (standalone server)', () => {
  let server: NatsServer;
  let base: string;

  beforeAll(async () => {
    server = await createServer({ http: -1, serverName: 'mon-1', maxSubscriptions: 100 });
    base = server.monitorUrl!;
  });
  afterAll(() => server.close());

  it('listens on its own port, given as -1, a number, "host:port" or { host, port }', async () => {
    expect(base).toBe(`http://127.0.0.1:${server.monitorPort}`);
    expect(server.monitorPort).toBeGreaterThan(0);
    const s2 = await scope.server({ http: '127.0.0.1:0' });
    expect((await get(s2.monitorUrl!, '/healthz')).status).toBe(200);
    const s3 = await scope.server();
    expect(s3.monitorUrl).toBeNull();
  });

  it('/varz: nats-server’s fields in nats-server’s order, with its units', async () => {
    await wire(server, 'varz-client', 'SUB foo 1\r\nPUB foo 2\r\nhi\r\n');
    const r = await get(base, '/varz');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(r.cors).toBe('*');
    expect(r.text.startsWith('{\n  "server_id": ')).toBe(true); // MarshalIndent, 2 spaces
    const v = JSON.parse(r.text) as Json;
    expect(Object.keys(v)).toEqual([
      'server_id', 'server_name', 'version', 'proto', 'go', 'host', 'port', 'max_connections', 'max_subscriptions',
      'ping_interval', 'ping_max', 'http_host', 'http_port', 'http_base_path', 'https_port', 'auth_timeout',
      'max_control_line', 'max_payload', 'max_pending', 'cluster', 'gateway', 'leaf', 'mqtt', 'websocket', 'jetstream',
      'tls_timeout', 'write_deadline', 'start', 'now', 'uptime', 'mem', 'cores', 'gomaxprocs', 'cpu', 'connections',
      'total_connections', 'routes', 'remotes', 'leafnodes', 'in_msgs', 'out_msgs', 'in_bytes', 'out_bytes',
      'slow_consumers', 'subscriptions', 'http_req_stats', 'config_load_time', 'system_account', 'slow_consumer_stats',
    ]);
    expect(v).toMatchObject({
      server_id: server.id,
      server_name: 'mon-1',
      version: '2.10.29',
      proto: 1,
      host: '127.0.0.1',
      port: server.port,
      max_connections: 65536,
      max_subscriptions: 100,
      ping_interval: 120_000_000_000, // time.Duration: nanoseconds
      ping_max: 2,
      http_host: '127.0.0.1',
      http_port: -1, // as configured: random
      http_base_path: '',
      https_port: 0,
      auth_timeout: 2, // seconds, float
      max_control_line: 4096,
      max_payload: 1048576,
      max_pending: 67108864,
      cluster: {},
      gateway: {},
      leaf: {},
      mqtt: {},
      websocket: {},
      jetstream: {},
      tls_timeout: 2,
      write_deadline: 10_000_000_000,
      connections: 1,
      routes: 0,
      remotes: 0,
      leafnodes: 0,
      slow_consumers: 0,
      subscriptions: 1,
      slow_consumer_stats: { clients: 0, routes: 0, gateways: 0, leafs: 0 },
    });
    expect(v.start).toMatch(RFC3339);
    expect(v.now).toMatch(RFC3339);
    expect(v.config_load_time).toMatch(RFC3339);
    expect(v.uptime).toMatch(UPTIME);
    expect(Date.parse(v.now as string)).toBeGreaterThanOrEqual(Date.parse(v.start as string));
    expect(v.mem).toBeGreaterThan(1_000_000);
    expect(Number.isInteger(v.cores) && (v.cores as number) > 0).toBe(true);
    expect(typeof v.cpu).toBe('number');
    expect(v.total_connections).toBeGreaterThanOrEqual(1);
    expect(v.in_msgs).toBeGreaterThanOrEqual(1);
    expect(v.out_msgs).toBeGreaterThanOrEqual(1);
    expect(v.in_bytes).toBeGreaterThanOrEqual(2);
    expect(v.out_bytes).toBeGreaterThanOrEqual(2);
  });

  it('/varz counts requests per path in http_req_stats', async () => {
    await get(base, '/healthz');
    const a = (await json(base, '/varz')).http_req_stats as Record<string, number>;
    await get(base, '/connz');
    await get(base, '/subscriptionsz');
    const b = (await json(base, '/varz')).http_req_stats as Record<string, number>;
    expect(a['/varz']).toBeGreaterThanOrEqual(1);
    expect(b['/varz']).toBe(a['/varz'] + 1);
    expect(b['/connz']).toBe((a['/connz'] ?? 0) + 1);
    expect(b['/subsz']).toBe((a['/subsz'] ?? 0) + 1); // the alias counts as /subsz
    expect(Object.keys(b)).toEqual([...Object.keys(b)].sort()); // Go sorts map keys
  });

  it('/connz: ConnInfo fields, types and units', async () => {
    const c = await wire(server, 'conn-a', 'SUB foo 1\r\nSUB bar q 2\r\nUNSUB 2 5\r\nPUB foo 2\r\nhi\r\n');
    const cid = c.info.client_id as number;
    const connz = await json(base, `/connz?cid=${cid}`);
    expect(Object.keys(connz)).toEqual(['server_id', 'now', 'num_connections', 'total', 'offset', 'limit', 'connections']);
    expect(connz).toMatchObject({ server_id: server.id, num_connections: 1, offset: 0, limit: 1 });
    const ci = (connz.connections as Json[])[0];
    expect(Object.keys(ci)).toEqual([
      'cid', 'kind', 'type', 'ip', 'port', 'start', 'last_activity', 'rtt', 'uptime', 'idle', 'pending_bytes', 'in_msgs',
      'out_msgs', 'in_bytes', 'out_bytes', 'subscriptions', 'name', 'lang', 'version',
    ]);
    expect(ci).toMatchObject({
      cid,
      kind: 'Client',
      type: 'nats',
      ip: '127.0.0.1',
      port: c.socket.localPort,
      pending_bytes: 0,
      in_msgs: 1,
      out_msgs: 1,
      in_bytes: 2,
      out_bytes: 2,
      subscriptions: 2,
      name: 'conn-a',
      lang: 'raw',
      version: '1.2.3',
    });
    expect(ci.start).toMatch(RFC3339);
    expect(ci.last_activity).toMatch(RFC3339);
    expect(Date.parse(ci.last_activity as string)).toBeGreaterThanOrEqual(Date.parse(ci.start as string));
    expect(ci.rtt).toMatch(GO_DURATION);
    expect(ci.rtt).not.toBe('0s'); // measured at CONNECT
    expect(ci.uptime).toMatch(UPTIME);
    expect(ci.idle).toMatch(UPTIME);
  });

  it('/connz?subs=1 lists subjects; subs=detail lists SubDetail objects', async () => {
    const c = await wire(server, 'conn-subs', 'SUB foo.> 1\r\nSUB bar q 2\r\nUNSUB 2 5\r\n');
    const cid = c.info.client_id as number;
    const plain = await get(base, `/connz?cid=${cid}&subs=1`);
    expect(plain.text).toContain('"foo.\\u003e"'); // Go escapes '>' in JSON strings
    const list = ((JSON.parse(plain.text) as Json).connections as Json[])[0].subscriptions_list;
    expect(list).toEqual(['foo.>', 'bar']);
    const detail = ((await json(base, `/connz?cid=${cid}&subs=detail`)).connections as Json[])[0];
    expect(detail.subscriptions_list).toBeUndefined();
    expect(detail.subscriptions_list_detail).toEqual([
      { subject: 'foo.>', sid: '1', msgs: 0, cid },
      { subject: 'bar', qgroup: 'q', sid: '2', msgs: 0, max: 5, cid },
    ]);
    expect(Object.keys((detail.subscriptions_list_detail as Json[])[1])).toEqual(['subject', 'qgroup', 'sid', 'msgs', 'max', 'cid']);
    // A connection without subscriptions has no list at all (omitempty).
    const none = await wire(server, 'conn-nosubs');
    const n = ((await json(base, `/connz?cid=${none.info.client_id as number}&subs=1`)).connections as Json[])[0];
    expect(n.subscriptions_list).toBeUndefined();
  });

  it('/connz sort, offset, limit and cid', async () => {
    const a = await wire(server, 'sort-a', 'SUB a 1\r\n');
    const b = await wire(server, 'sort-b', 'SUB b 1\r\nSUB b2 2\r\nSUB b3 3\r\n');
    const c = await wire(server, 'sort-c', 'SUB c 1\r\nSUB c2 2\r\nPUB x 1\r\n1\r\nPUB x 1\r\n1\r\n');
    const mine = new Set([a, b, c].map((w) => w.info.client_id as number));
    const order = async (query: string): Promise<string[]> =>
      ((await json(base, `/connz?${query}`)).connections as Json[])
        .filter((ci) => mine.has(ci.cid as number))
        .map((ci) => ci.name as string);
    expect(await order('')).toEqual(['sort-a', 'sort-b', 'sort-c']); // by cid, ascending
    expect(await order('sort=cid')).toEqual(['sort-a', 'sort-b', 'sort-c']);
    expect(await order('sort=subs')).toEqual(['sort-b', 'sort-c', 'sort-a']); // descending
    expect((await order('sort=msgs_from'))[0]).toBe('sort-c');
    expect((await order('sort=bytes_from'))[0]).toBe('sort-c');
    for (const s of ['start', 'pending', 'msgs_to', 'bytes_to', 'last', 'idle', 'uptime', 'rtt']) {
      expect((await get(base, `/connz?sort=${s}`)).status, s).toBe(200);
    }

    const all = await json(base, '/connz');
    const total = all.total as number;
    expect(all.num_connections).toBe(total);
    expect(all.limit).toBe(1024); // default
    const page = await json(base, '/connz?offset=1&limit=1');
    expect(page).toMatchObject({ num_connections: 1, total, offset: 1, limit: 1 });
    expect((page.connections as Json[])[0].cid).toBe((all.connections as Json[])[1].cid);
    const past = await json(base, `/connz?offset=${total + 5}`);
    expect(past).toMatchObject({ num_connections: 0, connections: [] });
    const neg = await json(base, '/connz?offset=-3&limit=0');
    expect(neg).toMatchObject({ offset: 0, limit: 1024 });

    const byCid = await json(base, `/connz?cid=${b.info.client_id as number}`);
    expect(byCid).toMatchObject({ num_connections: 1, limit: 1, total });
    expect((byCid.connections as Json[])[0].name).toBe('sort-b');
    const missing = await json(base, '/connz?cid=999999');
    expect(missing).toMatchObject({ num_connections: 0, connections: [] });
  });

  it('/connz?state=closed keeps closed connections with stop time and reason', async () => {
    const gone = await wire(server, 'leaver', 'SUB foo 1\r\nSUB bar q 2\r\nUNSUB 2 5\r\n');
    const cid = gone.info.client_id as number;
    gone.socket.end();
    const find = async (): Promise<Json | undefined> =>
      ((await json(base, '/connz?state=closed&subs=detail')).connections as Json[]).find((ci) => ci.cid === cid);
    const ci = await eventually(find, 'the closed connection');
    expect(Object.keys(ci).slice(0, 10)).toEqual(['cid', 'kind', 'type', 'ip', 'port', 'start', 'last_activity', 'stop', 'reason', 'rtt']);
    expect(ci).toMatchObject({ reason: 'Client Closed', name: 'leaver', subscriptions: 2 });
    expect(ci.stop).toMatch(RFC3339);
    expect(Date.parse(ci.stop as string)).toBeGreaterThanOrEqual(Date.parse(ci.start as string));
    // Closed connections' subscriptions carry the account; the auto-unsubscribe max is gone.
    expect(ci.subscriptions_list_detail).toEqual([
      { account: '$G', subject: 'foo', sid: '1', msgs: 0, cid },
      { account: '$G', subject: 'bar', qgroup: 'q', sid: '2', msgs: 0, cid },
    ]);
    // Not among the open ones; both with state=all.
    const open = (await json(base, '/connz')).connections as Json[];
    expect(open.some((c) => c.cid === cid)).toBe(false);
    const any = await json(base, '/connz?state=any');
    expect((any.connections as Json[]).some((c) => c.cid === cid)).toBe(true);
    expect(any.total).toBe(open.length + ((await json(base, '/connz?state=closed')).total as number));
    // By cid among the closed ones.
    const one = await json(base, `/connz?state=closed&cid=${cid}`);
    expect((one.connections as Json[]).map((c) => c.cid)).toEqual([cid]);

    const kicked = await wire(server, 'kicked');
    server.disconnectClients((c) => c.name === 'kicked');
    await eventually(async () => ((await json(base, `/connz?state=closed&cid=${kicked.info.client_id as number}`)).num_connections) === 1, 'kicked');
    const k = ((await json(base, `/connz?state=closed&cid=${kicked.info.client_id as number}`)).connections as Json[])[0];
    expect(k.reason).toBe('Kicked');

    const sorted = (await json(base, '/connz?state=closed&sort=stop')).connections as Json[];
    const stops = sorted.map((c) => Date.parse(c.stop as string));
    expect(stops).toEqual([...stops].sort((x, y) => y - x));
    expect((await get(base, '/connz?state=closed&sort=reason')).status).toBe(200);
  });

  it('/subsz: only the stats without subs=1', async () => {
    await wire(server, 'subsz-a', 'SUB subsz.one 1\r\nSUB subsz.* q 2\r\nPUB subsz.one 1\r\nx\r\n');
    const r = await get(base, '/subsz');
    expect(r.type).toBe('application/json');
    const stats = JSON.parse(r.text) as Json;
    expect(Object.keys(stats)).toEqual([
      'num_subscriptions', 'num_cache', 'num_inserts', 'num_removes', 'num_matches', 'cache_hit_rate', 'max_fanout', 'avg_fanout',
    ]);
    expect(stats.num_subscriptions).toBe(server.stats().subscriptions);
    expect(stats.num_inserts).toBeGreaterThanOrEqual(stats.num_subscriptions as number);
    expect(stats.num_matches).toBeGreaterThanOrEqual(1);
    expect(stats.max_fanout).toBeGreaterThanOrEqual(2); // subsz.one: one plain sub + one queue group
    expect(typeof stats.avg_fanout).toBe('number');
    expect(stats.cache_hit_rate).toBeGreaterThanOrEqual(0);
    expect(stats.cache_hit_rate).toBeLessThanOrEqual(1);
    expect(Object.keys(await json(base, '/subscriptionsz'))).toEqual(Object.keys(stats));
  });

  it('/subsz?subs=1 lists SubDetail objects, with test=, offset and limit', async () => {
    const c = await wire(server, 'subsz-b', 'SUB list.one 11\r\nSUB list.* q 12\r\nUNSUB 12 9\r\nSUB other 13\r\n');
    const cid = c.info.client_id as number;
    const all = await json(base, '/subsz?subs=1');
    expect(Object.keys(all)).toEqual([
      'server_id', 'now', 'num_subscriptions', 'num_cache', 'num_inserts', 'num_removes', 'num_matches', 'cache_hit_rate',
      'max_fanout', 'avg_fanout', 'total', 'offset', 'limit', 'subscriptions_list',
    ]);
    expect(all).toMatchObject({ server_id: server.id, offset: 0, limit: 1024 });
    const list = all.subscriptions_list as Json[];
    expect(all.total).toBe(list.length);
    expect(list).toContainEqual({ account: '$G', subject: 'list.one', sid: '11', msgs: 0, cid });
    expect(list).toContainEqual({ account: '$G', subject: 'list.*', qgroup: 'q', sid: '12', msgs: 0, max: 9, cid });

    const tested = await json(base, '/subsz?subs=1&test=list.one');
    expect((tested.subscriptions_list as Json[]).map((s) => s.subject).sort()).toEqual(['list.*', 'list.one']);
    const paged = await json(base, '/subsz?subs=1&test=list.one&offset=1&limit=1');
    expect(paged).toMatchObject({ total: 1, offset: 1, limit: 1 });
    // Nothing listed: the stats object alone.
    const nothing = await json(base, '/subsz?subs=1&test=no.such.subject');
    expect(nothing.server_id).toBeUndefined();
    expect(nothing.num_subscriptions).toBeDefined();
    const bad = await get(base, '/subsz?subs=1&test=list.*');
    expect(bad).toMatchObject({ status: 400, text: 'invalid test subject, must be valid publish subject: list.*' });
  });

  it('/healthz: compact {"status":"ok"}', async () => {
    const r = await get(base, '/healthz');
    expect(r).toMatchObject({ status: 200, type: 'application/json', cors: '*', text: '{"status":"ok"}' });
    const bad = await get(base, '/healthz?stream=s');
    expect(bad.status).toBe(400);
    expect(bad.text).toBe('{"status":"error","error":"\\"account\\" must not be empty when checking stream health"}');
    const detailed = await get(base, '/healthz?consumer=c&details=true');
    expect(JSON.parse(detailed.text)).toEqual({
      status: 'error',
      errors: [{ type: 'BAD_REQUEST', error: '"stream" must not be empty when checking consumer health' }],
    });
  });

  it('JSONP with ?callback=', async () => {
    const r = await get(base, '/healthz?callback=cb');
    expect(r).toMatchObject({ status: 200, type: 'application/javascript', cors: null, text: 'cb({"status":"ok"})' });
    const v = await get(base, '/varz?callback=render');
    expect(v.text.startsWith('render({\n  "server_id"')).toBe(true);
    expect(v.text.endsWith('})')).toBe(true);
  });

  it('bad query values: HTTP 400 with nats-server’s plain-text message', async () => {
    const cases: Array<[string, string]> = [
      ['/connz?subs=x', `Error decoding boolean for 'subs': strconv.ParseBool: parsing "x": invalid syntax`],
      ['/connz?auth=maybe', `Error decoding boolean for 'auth': strconv.ParseBool: parsing "maybe": invalid syntax`],
      ['/connz?limit=a', `Error decoding int for 'limit': strconv.Atoi: parsing "a": invalid syntax`],
      ['/connz?offset=1.5', `Error decoding int for 'offset': strconv.Atoi: parsing "1.5": invalid syntax`],
      ['/connz?cid=-1', `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "-1": invalid syntax`],
      ['/connz?state=foo', 'Error decoding state for foo'],
      ['/connz?sort=foo', 'invalid sorting option: foo'],
      ['/connz?sort=stop', 'sort by stop only valid on closed connections'],
      ['/connz?sort=reason&state=all', 'sort by reason only valid on closed connections'],
      ['/subsz?subs=2', `Error decoding boolean for 'subs': strconv.ParseBool: parsing "2": invalid syntax`],
      ['/subsz?limit=x', `Error decoding int for 'limit': strconv.Atoi: parsing "x": invalid syntax`],
      ['/routez?subs=no', `Error decoding boolean for 'subs': strconv.ParseBool: parsing "no": invalid syntax`],
      ['/healthz?details=yes', `Error decoding boolean for 'details': strconv.ParseBool: parsing "yes": invalid syntax`],
    ];
    for (const [path, text] of cases) {
      const r = await get(base, path);
      expect(r, path).toMatchObject({ status: 400, type: 'text/plain; charset=utf-8', text });
    }
  });

  it('unknown paths are 404; / is an HTML index', async () => {
    for (const path of ['/nope', '/varz/', '/connz/x']) {
      const r = await get(base, path);
      expect(r, path).toMatchObject({ status: 404, text: '404 page not found\n' });
    }
    const root = await get(base, '/');
    expect(root.status).toBe(200);
    expect(root.type).toBe('text/html; charset=utf-8');
    for (const p of ['varz', 'connz', 'subsz', 'routez', 'healthz']) expect(root.text).toContain(`./${p}`);
  });

  it('/routez without clustering: no routes', async () => {
    const r = await json(base, '/routez');
    expect(r).toMatchObject({ server_id: server.id, server_name: 'mon-1', num_routes: 0, routes: [] });
    expect(Object.keys(r)).toEqual(['server_id', 'server_name', 'now', 'num_routes', 'routes']);
  });
});

describe('monitoring (2-node cluster)', () => {
  let cluster: NatsCluster;

  beforeAll(async () => {
    cluster = await createCluster({ size: 2, http: -1 });
  });
  afterAll(() => cluster.close());

  it('each member has its own monitor port', () => {
    const [a, b] = cluster.servers;
    expect(a.monitorPort).toBeGreaterThan(0);
    expect(b.monitorPort).toBeGreaterThan(0);
    expect(a.monitorPort).not.toBe(b.monitorPort);
  });

  it('/varz shows the cluster block, routes and connect_urls', async () => {
    const [a, b] = cluster.servers;
    const v = await json(a.monitorUrl!, '/varz');
    expect(v.cluster).toMatchObject({ name: cluster.clusterName, addr: '127.0.0.1', cluster_port: a.clusterPort, auth_timeout: 2, tls_timeout: 2 });
    expect(Object.keys(v.cluster as Json).filter((k) => k !== 'urls')).toEqual(['name', 'addr', 'cluster_port', 'auth_timeout', 'tls_timeout']);
    expect(v).toMatchObject({ routes: 1, remotes: 1 });
    expect(v.connect_urls).toEqual([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
    const vb = await json(b.monitorUrl!, '/varz');
    expect((vb.cluster as Json).urls).toEqual([`127.0.0.1:${a.clusterPort}`]); // its configured route
  });

  it('/routez: RouteInfo fields, counters and the peer’s interest', async () => {
    const [a, b] = cluster.servers;
    const sub = await wire(b, 'route-sub', 'SUB routed.x 1\r\nSUB routed.q q 2\r\n');
    const base = a.monitorUrl!;
    const routeOf = async (query = ''): Promise<Json> => ((await json(base, `/routez${query}`)).routes as Json[])[0];
    // b's interest in $G, besides its system account's services ($SYS.REQ.>), which routes carry too.
    const ownInterest = async (): Promise<string[]> => ((await routeOf('?subs=1')).subscriptions_list as string[]).filter((x) => !x.startsWith('$SYS.'));
    await eventually(async () => (await ownInterest()).length === 2, 'the interest of b on a');
    const pub = await wire(a, 'route-pub', 'PUB routed.x 5\r\nhello\r\n');
    await sub.expect('MSG routed.x 1 5\r\nhello\r\n');
    void pub;

    const rz = await json(base, '/routez');
    expect(Object.keys(rz)).toEqual(['server_id', 'server_name', 'now', 'num_routes', 'routes']);
    expect(rz).toMatchObject({ server_id: a.id, server_name: a.info.server_name, num_routes: 1 });
    const r = (rz.routes as Json[])[0];
    expect(Object.keys(r)).toEqual([
      'rid', 'remote_id', 'remote_name', 'did_solicit', 'is_configured', 'ip', 'port', 'start', 'last_activity', 'rtt',
      'uptime', 'idle', 'pending_size', 'in_msgs', 'out_msgs', 'in_bytes', 'out_bytes', 'subscriptions', 'compression',
    ]);
    expect(r).toMatchObject({
      remote_id: b.id,
      remote_name: b.info.server_name,
      ip: '127.0.0.1',
      pending_size: 0,
      out_msgs: 1,
      out_bytes: 5,
      in_msgs: 0,
    });
    expect(r.subscriptions).toBe(((await routeOf('?subs=1')).subscriptions_list as string[]).length);
    expect(typeof r.rid).toBe('number');
    expect(typeof r.did_solicit).toBe('boolean');
    expect(typeof r.is_configured).toBe('boolean');
    expect(r.start).toMatch(RFC3339);
    expect(r.last_activity).toMatch(RFC3339);
    expect(r.uptime).toMatch(UPTIME);
    expect(r.idle).toMatch(UPTIME);
    expect(r.rtt).toMatch(GO_DURATION);
    // b solicited a (a was the seed): b's route is configured and solicited.
    const rb = ((await json(b.monitorUrl!, '/routez')).routes as Json[])[0];
    expect(rb).toMatchObject({ did_solicit: true, is_configured: true, port: a.clusterPort, in_msgs: 1, in_bytes: 5 });

    expect((await routeOf('?subs=1')).subscriptions_list).toEqual(expect.arrayContaining(['routed.x', 'routed.q']));
    const detail = (await routeOf('?subs=detail')).subscriptions_list_detail as Json[];
    expect(detail).toContainEqual({ subject: 'routed.q', qgroup: 'q', sid: 'R $G routed.q q', msgs: 0, cid: r.rid });
    // Route ids come from the same sequence as client ids.
    const cids = ((await json(base, '/connz')).connections as Json[]).map((c) => c.cid);
    expect(cids).not.toContain(r.rid);
  });
});
