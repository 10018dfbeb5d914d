/**
 * The system account against the real nats-server: the same config (accounts SYS and APP,
 * `system_account: SYS`) on a real server and an embedded one, a client of SYS subscribed to
 * `$SYS.ACCOUNT.APP.>`, a client of APP that connects, publishes and leaves, then the server and
 * account requests. The keys and JSON types of every event and answer (envelope, `server` block,
 * `client` block, `data`) must be the same, except the differences in {@link ALLOWED}; values
 * (ids, times, counters) are not compared. The real server in CI is 2.9.10; this broker follows
 * 2.10 (events.go, monitor.go), so 2.10's additions are listed. Run by `npm run test:conformance`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type NatsServer } from '../../src/index.js';
import { clusterBlock, freePort, startRealServer, type RealServer } from '../helpers/real-server.js';
import { compare, type Json } from '../helpers/json-shape.js';
import { json } from '../helpers/system.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';

/** Accepted differences, as `<where>.<key>` (see monitor-fields.test.ts), with the reason. */
const ALLOWED: Readonly<Record<string, string>> = {
  'server.flags': '2.10-only field of the server block (capability flags)',
  'statsz.gomaxprocs': '2.10-only field (GOMAXPROCS; here the available parallelism)',
  'varz.slow_consumer_stats': '2.10-only field (per-kind slow consumer counts)',
  'jsz.total': '2.10-only field (the number of JetStream accounts)',
  'conns.num_subscriptions': '2.10-only field of AccountStat (the account\'s subscriptions)',
  'info.imports': 'the service imports nats-server adds to every account for the system services are not listed (they are not imports here)',
};

const ACCOUNT_LINES = [
  'accounts {',
  '  SYS: { users: [{ user: sys, password: pass }] }',
  '  APP: { users: [{ user: app, password: pass }] }',
  '}',
  'system_account: SYS',
];

interface Side {
  url: string;
  sys: NatsConnection;
  /** The CONNECT and DISCONNECT events of the APP client. */
  events: Map<string, Json>;
  /** Answers to the requests made while the APP client was connected, by subject. */
  answers: Map<string, Json>;
}

const SERVER_REQUESTS = ['PING', 'PING.STATSZ', 'PING.VARZ', 'PING.CONNZ', 'PING.SUBSZ', 'PING.JSZ', 'PING.HEALTHZ'].map((k) => `$SYS.REQ.SERVER.${k}`);
const ACCOUNT_REQUESTS = ['CONNZ', 'SUBSZ', 'INFO', 'CONNS'].map((k) => `$SYS.REQ.ACCOUNT.APP.${k}`);

let real: RealServer;
let emb: NatsServer;
const sides: { ours?: Side; theirs?: Side } = {};

/** Drives one server: the events of an APP client's life, and the requests while it is there. */
async function exercise(url: string): Promise<Side> {
  const sys = await connect({ servers: url, user: 'sys', pass: 'pass' });
  const events = new Map<string, Json>();
  const done = new Promise<void>((resolve) => {
    sys.subscribe('$SYS.ACCOUNT.APP.*', {
      callback: (_e, m) => {
        events.set(m.subject, m.json<Json>());
        if (events.has('$SYS.ACCOUNT.APP.DISCONNECT')) resolve();
      },
    });
  });
  await sys.flush();
  const app = await connect({ servers: url, user: 'app', pass: 'pass', name: 'sys-interop' });
  app.subscribe('app.x');
  app.publish('app.x', 'hello');
  await app.flush();
  const answers = new Map<string, Json>();
  for (const subject of [...SERVER_REQUESTS, ...ACCOUNT_REQUESTS]) {
    answers.set(subject, (await sys.request(subject, '', { timeout: 2000 })).json<Json>());
  }
  await app.close();
  await done;
  return { url, sys, events, answers };
}

beforeAll(async () => {
  const port = await freePort();
  real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, 'server_name: real-sys', ...ACCOUNT_LINES]);
  emb = await createServer({
    serverName: 'emb-sys',
    accounts: {
      SYS: { users: [{ user: 'sys', password: 'pass' }] },
      APP: { users: [{ user: 'app', password: 'pass' }] },
    },
    systemAccount: 'SYS',
  });
  sides.theirs = await exercise(`127.0.0.1:${port}`);
  sides.ours = await exercise(emb.url);
});

afterAll(async () => {
  await sides.ours?.sys.close();
  await sides.theirs?.sys.close();
  await emb?.close();
  await real?.stop();
});

function expectConformant(diffs: string[]): void {
  expect(diffs.filter((d) => !(d in ALLOWED)), 'differences from nats-server not listed in ALLOWED').toEqual([]);
}

describe('system account events and requests have nats-server’s keys and types', () => {
  it('$SYS.ACCOUNT.<acc>.CONNECT and DISCONNECT', () => {
    const diffs: string[] = [];
    for (const kind of ['CONNECT', 'DISCONNECT']) {
      const subject = `$SYS.ACCOUNT.APP.${kind}`;
      const [a, b] = [sides.ours!.events.get(subject)!, sides.theirs!.events.get(subject)!];
      expect(a, `our ${kind}`).toBeDefined();
      expect(b, `nats-server's ${kind}`).toBeDefined();
      compare('event', a, b, diffs);
      compare('server', a.server, b.server, diffs);
      compare('client', a.client, b.client, diffs);
      expect(a.type).toBe(b.type);
      for (const key of ['acc', 'user', 'name', 'lang', 'kind', 'client_type']) {
        expect((a.client as Json)[key], key).toEqual((b.client as Json)[key]);
      }
      if (kind === 'DISCONNECT') {
        compare('sent', a.sent, b.sent, diffs);
        compare('received', a.received, b.received, diffs);
        expect(a.reason).toBe(b.reason);
        expect(a.sent).toEqual(b.sent); // one message of 5 bytes
      }
    }
    expectConformant(diffs);
  });

  it('$SYS.REQ.SERVER.PING and PING.STATSZ: the statsz message', () => {
    const diffs: string[] = [];
    for (const subject of ['$SYS.REQ.SERVER.PING', '$SYS.REQ.SERVER.PING.STATSZ']) {
      const [a, b] = [sides.ours!.answers.get(subject)!, sides.theirs!.answers.get(subject)!];
      compare('ping', a, b, diffs);
      compare('server', a.server, b.server, diffs);
      compare('statsz', a.statsz, b.statsz, diffs);
      compare('statsz.sent', (a.statsz as Json).sent, (b.statsz as Json).sent, diffs);
    }
    expectConformant(diffs);
  });

  it('$SYS.REQ.SERVER.PING.<KIND>: the envelope and the endpoint’s document', () => {
    const diffs: string[] = [];
    for (const kind of ['VARZ', 'CONNZ', 'SUBSZ', 'JSZ', 'HEALTHZ']) {
      const subject = `$SYS.REQ.SERVER.PING.${kind}`;
      const [a, b] = [sides.ours!.answers.get(subject)!, sides.theirs!.answers.get(subject)!];
      compare('envelope', a, b, diffs);
      compare('server', a.server, b.server, diffs);
      compare(kind.toLowerCase(), a.data, b.data, diffs);
    }
    const [va, vb] = [sides.ours!.answers.get('$SYS.REQ.SERVER.PING.VARZ')!.data as Json, sides.theirs!.answers.get('$SYS.REQ.SERVER.PING.VARZ')!.data as Json];
    expect(va.system_account).toBe(vb.system_account);
    expect(va.auth_required).toBe(vb.auth_required);
    const [ca, cb] = [sides.ours!.answers.get('$SYS.REQ.SERVER.PING.CONNZ')!.data as Json, sides.theirs!.answers.get('$SYS.REQ.SERVER.PING.CONNZ')!.data as Json];
    expect(ca.num_connections).toBe(cb.num_connections);
    compare('connz.connections[]', (ca.connections as Json[])[0], (cb.connections as Json[])[0], diffs);
    expectConformant(diffs);
  });

  it('$SYS.REQ.ACCOUNT.<acc>.CONNZ, SUBSZ, INFO and CONNS', () => {
    const diffs: string[] = [];
    for (const kind of ['CONNZ', 'SUBSZ', 'INFO']) {
      const subject = `$SYS.REQ.ACCOUNT.APP.${kind}`;
      const [a, b] = [sides.ours!.answers.get(subject)!, sides.theirs!.answers.get(subject)!];
      compare('envelope', a, b, diffs);
      compare(kind.toLowerCase(), a.data, b.data, diffs);
    }
    const connz = (side: Side): Json => side.answers.get('$SYS.REQ.ACCOUNT.APP.CONNZ')!.data as Json;
    expect(connz(sides.ours!).num_connections).toBe(connz(sides.theirs!).num_connections);
    const info = (side: Side): Json => side.answers.get('$SYS.REQ.ACCOUNT.APP.INFO')!.data as Json;
    compare('info.sublist_stats', info(sides.ours!).sublist_stats, info(sides.theirs!).sublist_stats, diffs);
    expect(info(sides.ours!).client_connections).toBe(info(sides.theirs!).client_connections);
    const [a, b] = [sides.ours!.answers.get('$SYS.REQ.ACCOUNT.APP.CONNS')!, sides.theirs!.answers.get('$SYS.REQ.ACCOUNT.APP.CONNS')!];
    compare('conns', a, b, diffs);
    expect(a.conns).toBe(b.conns);
    expectConformant(diffs);
  });
});

describe('request bodies Go cannot decode get nats-server’s 400 (zReq), CONNS stays silent', () => {
  /**
   * Bodies Go's json.Unmarshal refuses into the typed option structs, and the syntax errors of
   * its scanner. 2.9.10 is built with Go 1.19, whose UnmarshalTypeError leaves the embedded
   * struct out of the field path; 2.10.29 is built with Go 1.24, which names it
   * (`ConnzEventOptions.EventFilterOptions.server_name`): that segment is removed from our text
   * before comparing.
   */
  const BAD: Array<[subject: string, body: string]> = [
    ['$SYS.REQ.SERVER.PING.CONNZ', '{"server_name":5}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '{"tags":"a"}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '{"tags":["a",1]}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '{"offset":1.5}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '{"cid":-1}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '{"limit":"10"}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '{"sort":5}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '{"state":"open"}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '[]'],
    ['$SYS.REQ.SERVER.PING.SUBSZ', '{"limit":1e3}'],
    ['$SYS.REQ.SERVER.PING.JSZ', '{"leader_only":0}'],
    ['$SYS.REQ.SERVER.PING.HEALTHZ', '{"js-server-only":"yes"}'],
    ['$SYS.REQ.SERVER.PING.VARZ', '{"HOST":true}'],
    ['$SYS.REQ.SERVER.PING.STATSZ', '{"domain":1}'],
    ['$SYS.REQ.SERVER.PING', '5'],
    ['$SYS.REQ.ACCOUNT.APP.CONNZ', '{"cluster":{}}'],
    ['$SYS.REQ.ACCOUNT.APP.SUBSZ', '{"offset":-0.0}'],
    ['$SYS.REQ.ACCOUNT.APP.INFO', '{"tags":[true]}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', 'nul'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '1.'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '{"a" 1}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '{"a":1,}'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '"\\q"'],
    ['$SYS.REQ.SERVER.PING.CONNZ', '{}x'],
  ];
  const go119 = (text: string): string => text.replace(/(Go struct field \w+)\.\w+Options\./, '$1.');

  it('the same error code and text for each body', async () => {
    for (const [subject, body] of BAD) {
      const [a, b] = [await json(sides.ours!.sys, subject, body), await json(sides.theirs!.sys, subject, body)];
      const [ea, eb] = [a.error as Json, b.error as Json];
      expect(eb, `${subject} ${body}: nats-server answers an error`).toMatchObject({ code: 400 });
      expect({ ...ea, description: go119(ea.description as string) }, `${subject} ${body}`).toEqual(eb);
      expect(Object.keys(a)).toEqual(Object.keys(b));
    }
  });

  it('CONNS answers a body that decodes and names the subject’s account, nothing else', async () => {
    const bodies = ['', '{}', 'null', '{"acc":"APP"}', '{"ACC":"APP"}', '{"acc":"SYS"}', '{"acc":5}', 'x', '[]', '{"server":{"seq":-1}}'];
    const answered = async (nc: NatsConnection, body: string): Promise<boolean> =>
      nc.request('$SYS.REQ.ACCOUNT.APP.CONNS', body, { timeout: 300 }).then(() => true, () => false);
    // APP needs a connection for CONNS to answer at all.
    const apps = await Promise.all([sides.ours!.url, sides.theirs!.url].map((url) => connect({ servers: url, user: 'app', pass: 'pass' })));
    try {
      const [ours, theirs] = await Promise.all([sides.ours!, sides.theirs!].map((side) => Promise.all(bodies.map((b) => answered(side.sys, b)))));
      expect(ours).toEqual(theirs);
      expect(ours).toEqual([true, true, true, true, true, false, false, false, false, false]);
    } finally {
      await Promise.all(apps.map((nc) => nc.close()));
    }
  });
});

describe('system account in a mixed cluster', () => {
  it('routes carry the system account: PING from either side gets one answer per server, and nats-server takes our STATSZ', async () => {
    const [port, clusterPort] = [await freePort(), await freePort()];
    const cluster = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, 'server_name: real-mixed', ...ACCOUNT_LINES, ...clusterBlock(clusterPort), 'debug: true']);
    let errors = '';
    cluster.child.stderr!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.includes('[ERR]') || /rror/.test(line)) errors += `${line}\n`;
    });
    const ours = await createServer({
      serverName: 'emb-mixed',
      accounts: { SYS: { users: [{ user: 'sys', password: 'pass' }] }, APP: { users: [{ user: 'app', password: 'pass' }] } },
      systemAccount: 'SYS',
      cluster: { name: 'C', routes: [`nats-route://127.0.0.1:${clusterPort}`] },
    });
    try {
      for (const url of [`127.0.0.1:${port}`, ours.url]) {
        const nc = await connect({ servers: url, user: 'sys', pass: 'pass' });
        const names = new Set<string>();
        nc.subscribe('mixed.ping', { callback: (_e, m) => { names.add((m.json<Json>().server as Json).name as string); } });
        await nc.flush();
        // Until the route is up and its interest has crossed.
        for (let i = 0; i < 50 && names.size < 2; i++) {
          nc.publish('$SYS.REQ.SERVER.PING', '', { reply: 'mixed.ping' });
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(names, url).toEqual(new Set(['real-mixed', 'emb-mixed']));
        // The embedded server's STATSZ heartbeat reaches the real server's subscription on
        // $SYS.SERVER.*.STATSZ (which it parses); a client of SYS there sees it too.
        const statsz = await new Promise<Json>((resolve) => {
          nc.subscribe(`$SYS.SERVER.${ours.id}.STATSZ`, { max: 1, callback: (_e, m) => resolve(m.json<Json>()) });
          nc.publish('$SYS.REQ.SERVER.PING'); // no reply: each server sends on its STATSZ subject
        });
        expect((statsz.server as Json).name).toBe('emb-mixed');
        await nc.close();
      }
      expect(errors).toBe('');
    } finally {
      await ours.close();
      await cluster.stop();
    }
  });
});

/**
 * The server events and the request kinds nats-server 2.9.10 has too: CONNS (both subjects),
 * CLIENT.AUTH.ERR, SHUTDOWN, GATEWAYZ/LEAFZ/ACCOUNTZ, and the account-scoped CONNZ/STATZ every
 * account imports. (LAMEDUCK, KICK, LDM, RELOAD, RAFTZ and the account `$SYS.ACCOUNT.CLIENT.AUTH.ERR`
 * are 2.10's: test/monitor/system-events.test.ts follows 2.10's events.go for them.)
 */
describe('server events and the 2.9 request kinds have nats-server’s keys and types', () => {
  /** Accepted differences of this block, with the reason. */
  const MORE_ALLOWED: Readonly<Record<string, string>> = {
    ...ALLOWED,
    'connsev.num_subscriptions': '2.10-only field of AccountStat (the account\'s subscriptions)',
    'statz.num_subscriptions': '2.10-only field of AccountStat (the account\'s subscriptions)',
    '$SYS.REQ.SERVER.PING.LEAFZ.leafs (type)': '2.9.10 writes no leaf nodes as null, 2.10.29 as []',
  };
  const EVENTS = ['$SYS.ACCOUNT.APP.SERVER.CONNS', '$SYS.SERVER.ACCOUNT.APP.CONNS', '$SYS.SERVER.*.CLIENT.AUTH.ERR', '$SYS.SERVER.*.SHUTDOWN'];
  const REQUESTS = ['GATEWAYZ', 'LEAFZ', 'ACCOUNTZ'].map((k) => `$SYS.REQ.SERVER.PING.${k}`);
  const IMPORTED = ['$SYS.REQ.ACCOUNT.PING.CONNZ', '$SYS.REQ.SERVER.PING.CONNZ', '$SYS.REQ.ACCOUNT.PING.STATZ'];

  interface Run {
    /** Events by subscription subject, in arrival order. */
    events: Map<string, Json[]>;
    answers: Map<string, Json>;
  }

  /** Drives one server: an APP client's life, a failed login, the requests, then the shutdown (`stop`). */
  async function run(url: string, stop: () => Promise<void>): Promise<Run> {
    const sys = await connect({ servers: url, user: 'sys', pass: 'pass', reconnect: false });
    const events = new Map<string, Json[]>(EVENTS.map((s) => [s, []]));
    for (const s of EVENTS) sys.subscribe(s, { callback: (_e, m) => void events.get(s)!.push(m.json<Json>()) });
    await sys.flush();
    const app = await connect({ servers: url, user: 'app', pass: 'pass', reconnect: false });
    const answers = new Map<string, Json>();
    for (const subject of IMPORTED) answers.set(subject, (await app.request(subject, '', { timeout: 2000 })).json<Json>());
    for (const subject of REQUESTS) answers.set(subject, (await sys.request(subject, '', { timeout: 2000 })).json<Json>());
    answers.set('ACCOUNTZ detail', (await sys.request('$SYS.REQ.SERVER.PING.ACCOUNTZ', JSON.stringify({ account: 'APP' }), { timeout: 2000 })).json<Json>());
    answers.set('ACCOUNTZ missing', (await sys.request('$SYS.REQ.SERVER.PING.ACCOUNTZ', JSON.stringify({ account: 'NOPE' }), { timeout: 2000 })).json<Json>());
    await app.close();
    await connect({ servers: url, user: 'app', pass: 'wrong', reconnect: false }).then((nc) => nc.close(), () => undefined);
    const until = Date.now() + 2000;
    while (Date.now() < until && (events.get(EVENTS[0]!)!.length < 2 || events.get(EVENTS[2]!)!.length < 1)) await new Promise((r) => setTimeout(r, 20));
    const closed = sys.closed();
    await stop();
    await closed;
    return { events, answers };
  }

  let ours: Run;
  let theirs: Run;

  beforeAll(async () => {
    const port = await freePort();
    const r = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, 'server_name: real-ev', ...ACCOUNT_LINES]);
    // SIGINT: nats-server's Shutdown (with its SHUTDOWN event), then exit.
    theirs = await run(`127.0.0.1:${port}`, async () => {
      const exited = new Promise((resolve) => r.child.once('exit', resolve));
      r.child.kill('SIGINT');
      await exited;
    });
    await r.stop();
    const e = await createServer({
      serverName: 'emb-ev',
      accounts: { SYS: { users: [{ user: 'sys', password: 'pass' }] }, APP: { users: [{ user: 'app', password: 'pass' }] } },
      systemAccount: 'SYS',
    });
    ours = await run(e.url, () => e.close());
  });

  function conformant(diffs: string[]): void {
    expect(diffs.filter((d) => !(d in MORE_ALLOWED)), 'differences from nats-server not listed').toEqual([]);
  }

  it('CONNS on both subjects: up, then down to 0', () => {
    const diffs: string[] = [];
    for (const s of EVENTS.slice(0, 2)) {
      const [a, b] = [ours.events.get(s)!, theirs.events.get(s)!];
      expect(a.map((m) => m.conns), s).toEqual(b.map((m) => m.conns));
      expect(a.length, s).toBe(2);
      compare('connsev', a[0], b[0], diffs);
      compare('server', a[0]!.server, b[0]!.server, diffs);
      expect(a[0]!.type).toBe(b[0]!.type);
    }
    conformant(diffs);
  });

  it('CLIENT.AUTH.ERR of a failed login, and SHUTDOWN (the bare server block) at the end', () => {
    const diffs: string[] = [];
    const [a, b] = [ours.events.get(EVENTS[2]!)!, theirs.events.get(EVENTS[2]!)!];
    expect(a.length).toBe(b.length);
    compare('autherr', a[0], b[0], diffs);
    compare('client', a[0]!.client, b[0]!.client, diffs);
    for (const key of ['type', 'reason']) expect(a[0]![key], key).toEqual(b[0]![key]);
    expect((a[0]!.client as Json).acc).toBe((b[0]!.client as Json).acc);
    const [sa, sb] = [ours.events.get(EVENTS[3]!)!, theirs.events.get(EVENTS[3]!)!];
    expect(sa.length, 'one SHUTDOWN').toBe(1);
    expect(sb.length).toBe(1);
    compare('server', sa[0], sb[0], diffs);
    conformant(diffs);
  });

  it('GATEWAYZ, LEAFZ, ACCOUNTZ (list, detail, unknown account)', () => {
    const diffs: string[] = [];
    for (const k of [...REQUESTS, 'ACCOUNTZ detail']) {
      const [a, b] = [ours.answers.get(k)!, theirs.answers.get(k)!];
      compare('envelope', a, b, diffs);
      compare(k, a.data, b.data, diffs);
    }
    const gw = (r: Run): Json => r.answers.get(REQUESTS[0]!)!.data as Json;
    expect(gw(ours).outbound_gateways).toEqual(gw(theirs).outbound_gateways);
    const lz = (r: Run): Json => r.answers.get(REQUESTS[1]!)!.data as Json;
    expect(lz(ours).leafnodes).toBe(lz(theirs).leafnodes);
    // 2.9.10 marshals the empty list as null; 2.10.29's Leafz makes it (make(..., 0, n)), so [].
    expect(lz(ours).leafs).toEqual([]);
    expect(lz(theirs).leafs ?? []).toEqual([]);
    const names = (r: Run): string[] => ((r.answers.get(REQUESTS[2]!)!.data as Json).accounts as string[]).slice().sort();
    expect(names(ours)).toEqual(names(theirs));
    const [ma, mb] = [ours.answers.get('ACCOUNTZ missing')!, theirs.answers.get('ACCOUNTZ missing')!];
    expect(ma.error).toEqual(mb.error);
    conformant(diffs);
  });

  it('the account-scoped CONNZ and STATZ every account imports answer for the requester’s account', () => {
    const diffs: string[] = [];
    for (const k of IMPORTED) {
      const [a, b] = [ours.answers.get(k)!, theirs.answers.get(k)!];
      compare('envelope', a, b, diffs);
      compare(k.endsWith('STATZ') ? 'statz' : 'connz', a.data, b.data, diffs);
    }
    for (const k of IMPORTED.slice(0, 2)) {
      const n = (r: Run): unknown => (r.answers.get(k)!.data as Json).num_connections;
      expect(n(ours), k).toBe(n(theirs));
    }
    const st = (r: Run): Json[] => (r.answers.get(IMPORTED[2]!)!.data as Json).account_statz as Json[];
    expect(st(ours).map((s) => [s.acc, s.conns])).toEqual(st(theirs).map((s) => [s.acc, s.conns]));
    compare('statz', st(ours)[0], st(theirs)[0], diffs);
    conformant(diffs);
  });
});

describe('no_system_account and the global account’s imports', () => {
  /** What a client of `$G` gets for `$SYS.REQ.SERVER.PING.CONNZ` (the import of its account's CONNZ), and /varz's system_account. */
  async function probe(url: string, monitor: string): Promise<{ answer: string; system: unknown }> {
    const nc = await connect({ servers: url });
    let answer: string;
    try {
      const m = await nc.request('$SYS.REQ.SERVER.PING.CONNZ', '', { timeout: 1000 });
      const data = m.json<Json>().data as Json;
      answer = `connz of ${(data.connections as Json[]).length} connection(s)`;
    } catch (err) {
      answer = /no responders|503/i.test(String(err)) ? 'no responders' : String(err);
    }
    await nc.close();
    const varz = (await (await fetch(`${monitor}/varz`)).json()) as Json;
    return { answer, system: varz.system_account };
  }

  it('without a system account nothing answers; with the default one $G gets its own CONNZ', async () => {
    for (const noSys of [true, false]) {
      const [port, http] = [await freePort(), await freePort()];
      const r = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, `http: "127.0.0.1:${http}"`, ...(noSys ? ['no_system_account: true'] : [])]);
      const e = await createServer({ http: -1, ...(noSys ? { noSystemAccount: true } : {}) });
      try {
        const [theirs, ours] = [await probe(`127.0.0.1:${port}`, `http://127.0.0.1:${http}`), await probe(e.url, e.monitorUrl!)];
        expect(ours, `no_system_account: ${noSys}`).toEqual(theirs);
        expect(ours.answer).toBe(noSys ? 'no responders' : 'connz of 1 connection(s)');
      } finally {
        await e.close();
        await r.stop();
      }
    }
  });
});
