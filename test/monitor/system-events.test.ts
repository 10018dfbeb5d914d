/**
 * The system account's server events and control requests (nats-server 2.10 events.go):
 * SHUTDOWN and LAMEDUCK, the auth error events, the account connection counts (CONNS), the
 * RELOAD/KICK/LDM requests, the LEAFZ/GATEWAYZ/ACCOUNTZ/RAFTZ kinds, the account-scoped CONNZ
 * and STATZ every account imports, and `noSystemAccount`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { createCluster, createServer, type NatsServer } from '../../src/index.js';
import type { BrokerCore } from '../../src/broker/core.js';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { resolveOptions } from '../../src/config/options.js';
import { ConfigError } from '../../src/errors.js';
import { monitorJson } from '../helpers/monitor.js';
import { collect as next, json, type Json } from '../helpers/system.js';
import { WireClient } from '../helpers/wire.js';
import { createAccount } from '@nats-io/nkeys';
import { makeAccount, makeOperator, makeUser, nowSec, publicKeyOf } from '../helpers/jwt.js';

const ACCOUNTS = {
  SYS: { users: [{ user: 'sys', password: 'pass' }] },
  APP: { users: [{ user: 'app', password: 'pass' }] },
  OTHER: { users: [{ user: 'other', password: 'pass' }] },
};
const SERVER_KEYS = ['name', 'host', 'id', 'ver', 'jetstream', 'flags', 'seq', 'time'];
const AUTH_ERR_KEYS = ['type', 'id', 'timestamp', 'server', 'client', 'sent', 'received', 'reason'];
const CONNS_KEYS = ['type', 'id', 'timestamp', 'server', 'acc', 'conns', 'leafnodes', 'total_conns', 'num_subscriptions', 'sent', 'received', 'slow_consumers'];

function coreOf(s: NatsServer): BrokerCore {
  return (s as unknown as { backend_: { core: BrokerCore } }).backend_.core;
}

describe('system events and requests of one server', () => {
  let server: NatsServer;
  let sys: NatsConnection;

  beforeAll(async () => {
    server = await createServer({ serverName: 'ev-1', http: -1, accounts: ACCOUNTS, systemAccount: 'SYS' });
    sys = await connect({ servers: server.url, user: 'sys', pass: 'pass' });
  });
  afterAll(async () => {
    await sys.close();
    await server.close();
  });

  it('sends the account connection count on both CONNS subjects when a client comes and goes', async () => {
    const news = next(sys, '$SYS.ACCOUNT.APP.SERVER.CONNS', 2);
    const olds = next(sys, '$SYS.SERVER.ACCOUNT.APP.CONNS', 2);
    await sys.flush();
    const app = await connect({ servers: server.url, user: 'app', pass: 'pass' });
    app.subscribe('x');
    await app.flush();
    // The 30 s heartbeat (nats-server's eventsHBInterval) runs while the account has clients...
    const tracked = (): string[] => coreOf(server).events!.accountsTracked().map((a) => a.name);
    expect(tracked()).toContain('APP');
    await app.close();
    const [up, down] = await news;
    // ... and stops at zero.
    expect(tracked()).not.toContain('APP');
    const [oldUp] = await olds;
    expect(Object.keys(up!.data)).toEqual(CONNS_KEYS);
    expect(up!.data).toMatchObject({ type: 'io.nats.server.advisory.v1.account_connections', acc: 'APP', conns: 1, total_conns: 1, leafnodes: 0 });
    expect(Object.keys(up!.data.server as Json)).toEqual(SERVER_KEYS);
    expect(oldUp!.data).toMatchObject({ acc: 'APP', conns: 1 });
    expect(down!.data).toMatchObject({ acc: 'APP', conns: 0, total_conns: 0 });
  });

  it('CONNS decodes its body as nats-server’s accNumConnsReq: answers when `acc` is absent or the subject’s, stays silent otherwise', async () => {
    const app = await connect({ servers: server.url, user: 'app', pass: 'pass' });
    try {
      const bodies: Record<string, boolean> = {
        '': true, '{}': true, 'null': true, '{"acc":"APP"}': true, '{"ACC":"APP"}': true, '{"acc":null}': true,
        '{"server":{"name":"x","seq":1,"time":"2024-01-02T03:04:05Z"}}': true,
        '{"acc":"OTHER"}': false, '{"acc":""}': false, '{"acc":5}': false, 'not json': false, '[]': false, '"APP"': false,
        '{"server":{"seq":-1}}': false, '{"server":{"time":"yesterday"}}': false, '{"server":5}': false,
      };
      const answered = new Set<string>();
      let done: () => void = () => undefined;
      const end = new Promise<void>((r) => { done = r; });
      const sub = sys.subscribe('conns.>', { callback: (_e, m) => {
        if (m.subject === 'conns.end') return done();
        answered.add(Object.keys(bodies)[Number(m.subject.slice(6))]!);
        expect(m.json<Json>()).toMatchObject({ acc: 'APP', conns: 1 });
      } });
      Object.keys(bodies).forEach((b, i) => sys.publish('$SYS.REQ.ACCOUNT.APP.CONNS', b, { reply: `conns.${i}` }));
      sys.publish('$SYS.REQ.ACCOUNT.APP.CONNS', '', { reply: 'conns.end' });
      await end;
      sub.unsubscribe();
      expect([...answered].sort()).toEqual(Object.keys(bodies).filter((b) => bodies[b]).sort());
    } finally {
      await app.close();
    }
  });

  it('sends CLIENT.AUTH.ERR in the system account for a failed CONNECT', async () => {
    const got = next(sys, `$SYS.SERVER.${server.id}.CLIENT.AUTH.ERR`);
    await sys.flush();
    await expect(connect({ servers: server.url, user: 'app', pass: 'wrong', name: 'intruder', reconnect: false })).rejects.toThrow();
    const [e] = await got;
    expect(Object.keys(e!.data)).toEqual(AUTH_ERR_KEYS);
    expect(e!.data).toMatchObject({ type: 'io.nats.server.advisory.v1.client_disconnect', reason: 'Authentication Failure' });
    // The client was not in an account yet: nats-server's accForClient gives the global one.
    expect(e!.data.client).toMatchObject({ acc: '$G', name: 'intruder', kind: 'Client', client_type: 'nats' });
  });

  it('answers GATEWAYZ, LEAFZ and ACCOUNTZ (PING and by id) and account LEAFZ', async () => {
    for (const form of ['PING', server.id]) {
      const gw = await json(sys, `$SYS.REQ.SERVER.${form}.GATEWAYZ`);
      expect(Object.keys(gw)).toEqual(['server', 'data']);
      expect(gw.data).toEqual({ server_id: server.id, now: expect.any(String), outbound_gateways: {}, inbound_gateways: {} });
      expect((await json(sys, `$SYS.REQ.SERVER.${form}.LEAFZ`)).data).toEqual({ server_id: server.id, now: expect.any(String), leafnodes: 0, leafs: [] });
      const accz = (await json(sys, `$SYS.REQ.SERVER.${form}.ACCOUNTZ`)).data as Json;
      expect(accz).toMatchObject({ server_id: server.id, system_account: 'SYS' });
      expect(accz.accounts).toEqual(expect.arrayContaining(['$G', 'SYS', 'APP', 'OTHER']));
    }
    const detail = (await json(sys, '$SYS.REQ.SERVER.PING.ACCOUNTZ', JSON.stringify({ account: 'APP' }))).data as Json;
    expect(detail.account_detail).toMatchObject({ account_name: 'APP', expired: false, complete: true });
    const missing = await json(sys, '$SYS.REQ.SERVER.PING.ACCOUNTZ', JSON.stringify({ account: 'NOPE' }));
    expect(missing.error).toEqual({ code: 500, description: 'Account NOPE does not exist' });
    expect((await json(sys, '$SYS.REQ.ACCOUNT.APP.LEAFZ')).data).toMatchObject({ leafnodes: 0, leafs: [] });
    // Without clustered JetStream there is no Raft group: an empty RaftzStatus.
    expect((await json(sys, '$SYS.REQ.SERVER.PING.RAFTZ')).data).toEqual({});
  });

  it('serves /accountz, /leafz and /gatewayz over HTTP', async () => {
    const url = server.monitorUrl!;
    expect((await monitorJson(url, '/accountz')).accounts).toEqual(expect.arrayContaining(['APP', 'SYS']));
    expect(((await monitorJson(url, '/accountz?acc=APP')).account_detail as Json).account_name).toBe('APP');
    expect((await monitorJson(url, '/leafz')).leafs).toEqual([]);
    expect((await monitorJson(url, '/gatewayz')).outbound_gateways).toEqual({});
    const res = await fetch(`${url}/accountz?acc=NOPE`);
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Account NOPE does not exist');
  });

  it('RELOAD applies the options again and answers the bare envelope', async () => {
    const before = (await monitorJson(server.monitorUrl!, '/varz')).config_load_time;
    await new Promise((r) => setTimeout(r, 5));
    const r = await json(sys, `$SYS.REQ.SERVER.${server.id}.RELOAD`);
    expect(Object.keys(r)).toEqual(['server']);
    expect((await monitorJson(server.monitorUrl!, '/varz')).config_load_time).not.toBe(before);
  });

  it('KICK closes a client by cid; an unknown cid is an error; a body without cid JSON gets no answer', async () => {
    const app = await connect({ servers: server.url, user: 'app', pass: 'pass', reconnect: false });
    const cid = app.info!.client_id;
    const closed = app.closed();
    // Without a reply subject nothing is done (nats-server's zReq returns first).
    sys.publish(`$SYS.REQ.SERVER.${server.id}.KICK`, JSON.stringify({ cid }));
    await json(sys, `$SYS.REQ.SERVER.${server.id}.IDZ`);
    await new Promise((r) => setImmediate(r));
    expect(server.clients().map((c) => c.cid)).toContain(cid);
    const r = await json(sys, `$SYS.REQ.SERVER.${server.id}.KICK`, JSON.stringify({ cid }));
    expect(Object.keys(r)).toEqual(['server']);
    await closed;
    const connz = await monitorJson(server.monitorUrl!, `/connz?state=closed&cid=${cid}`);
    expect((connz.connections as Json[])[0]).toMatchObject({ cid, reason: 'Kicked' });
    expect((await json(sys, `$SYS.REQ.SERVER.${server.id}.KICK`, JSON.stringify({ cid: 999_999 }))).error)
      .toEqual({ code: 500, description: 'no such client or leafnode id' });
    // nats-server logs the decoding error and answers nothing.
    await expect(json(sys, `$SYS.REQ.SERVER.${server.id}.KICK`, '', 200)).rejects.toThrow(/timeout/i);
    // By id only: PING.KICK is not served (the no-responders status comes at once).
    await expect(json(sys, '$SYS.REQ.SERVER.PING.KICK', JSON.stringify({ cid }))).rejects.toThrow(/no responders|503/i);
  });

  it('a body of the wrong Go types gets zReq’s 400 with json.Unmarshal’s text; KICK’s cid must decode first (else no answer)', async () => {
    const id = server.id;
    const cases: Array<[string, string, string]> = [
      ['$SYS.REQ.SERVER.PING.CONNZ', '{"server_name":5}', 'json: cannot unmarshal number into Go struct field ConnzEventOptions.EventFilterOptions.server_name of type string'],
      ['$SYS.REQ.SERVER.PING.CONNZ', '{"tags":["a",1]}', 'json: cannot unmarshal number into Go struct field ConnzEventOptions.EventFilterOptions.tags of type string'],
      ['$SYS.REQ.SERVER.PING.SUBSZ', '{"offset":1.5}', 'json: cannot unmarshal number 1.5 into Go struct field SubszEventOptions.SubszOptions.offset of type int'],
      ['$SYS.REQ.SERVER.PING.HEALTHZ', '{"js-enabled":1}', 'json: cannot unmarshal number into Go struct field HealthzEventOptions.HealthzOptions.js-enabled of type bool'],
      ['$SYS.REQ.SERVER.PING', '{"domain":[]}', 'json: cannot unmarshal array into Go struct field StatszEventOptions.EventFilterOptions.domain of type string'],
      ['$SYS.REQ.ACCOUNT.APP.STATZ', '{"include_unused":"yes"}', 'json: cannot unmarshal string into Go struct field AccountStatzEventOptions.AccountStatzOptions.include_unused of type bool'],
      [`$SYS.REQ.SERVER.${id}.RELOAD`, '{"host":1}', 'json: cannot unmarshal number into Go struct field EventFilterOptions.host of type string'],
      [`$SYS.REQ.SERVER.${id}.KICK`, '{"cid":1,"cluster":true}', 'json: cannot unmarshal bool into Go struct field EventFilterOptions.cluster of type string'],
      ['$SYS.REQ.SERVER.PING.CONNZ', '{"a" 1}', "invalid character '1' after object key"],
    ];
    for (const [subject, body, description] of cases) {
      const r = await json(sys, subject, body);
      expect(Object.keys(r), subject).toEqual(['server', 'error']);
      expect(r.error, `${subject} ${body}`).toEqual({ code: 400, description });
    }
    // KickClientReq is decoded before the filters: a cid of the wrong type is only logged.
    await expect(json(sys, `$SYS.REQ.SERVER.${id}.KICK`, '{"cid":-1,"cluster":true}', 200)).rejects.toThrow(/timeout/i);
    expect(server.stats().internalErrors).toBe(0);
  });

  it('CONNZ takes 64-bit integers Go accepts, and filter_subject only with an account', async () => {
    // Past 2^53: nats-server answers with data (the value as its int64/uint64).
    const big = (await json(sys, '$SYS.REQ.SERVER.PING.CONNZ', '{"limit":9223372036854775807}')).data as Json;
    expect(big.num_connections).toBeGreaterThan(0);
    const noCid = (await json(sys, '$SYS.REQ.SERVER.PING.CONNZ', '{"cid":18446744073709551615}')).data as Json;
    expect([noCid.num_connections, noCid.limit]).toEqual([0, 1]);
    // monitor.go Connz: "filter by subject only valid with account filtering" (zReq's 500).
    expect((await json(sys, '$SYS.REQ.SERVER.PING.CONNZ', '{"filter_subject":"foo"}')).error)
      .toEqual({ code: 500, description: 'filter by subject only valid with account filtering' });
    const w = await WireClient.connected(server.port, { verbose: false, pedantic: false, protocol: 1, user: 'app', pass: 'pass' });
    try {
      w.send('SUB only.this 1\r\nPING\r\n');
      await w.expect('PONG\r\n');
      const cid = w.info.client_id as number;
      const conns = (b: object): Promise<number[]> => json(sys, '$SYS.REQ.SERVER.PING.CONNZ', JSON.stringify(b))
        .then((r) => ((r.data as Json).connections as Json[]).map((c) => c.cid as number));
      expect(await conns({ acc: 'APP', filter_subject: 'only.*' })).toEqual([cid]);
      expect(await conns({ acc: 'APP', filter_subject: 'other' })).toEqual([]);
      expect(await conns({ acc: 'APP', filter_subject: '>' })).toContain(cid);
    } finally {
      w.close();
    }
  });

  it('LDM sends the lame duck INFO to one client', async () => {
    const w = await WireClient.connected(server.port, { verbose: false, pedantic: false, protocol: 1, user: 'app', pass: 'pass' });
    try {
      const cid = w.info.client_id as number;
      const r = await json(sys, `$SYS.REQ.SERVER.${server.id}.LDM`, JSON.stringify({ cid }));
      expect(Object.keys(r)).toEqual(['server']);
      const line = await w.readUntil('\r\n');
      expect(line).toMatch(/^INFO /);
      expect(JSON.parse(line.slice(5))).toMatchObject({ ldm: true });
      expect((await json(sys, `$SYS.REQ.SERVER.${server.id}.LDM`, JSON.stringify({ cid: 999_999 }))).error)
        .toEqual({ code: 500, description: 'no such client id' });
    } finally {
      w.socket.destroy();
    }
  });

  it('answers the account-scoped CONNZ and STATZ every account imports, for the requester’s account', async () => {
    const other = await connect({ servers: server.url, user: 'other', pass: 'pass' });
    const app = await connect({ servers: server.url, user: 'app', pass: 'pass' });
    try {
      for (const subject of ['$SYS.REQ.ACCOUNT.PING.CONNZ', '$SYS.REQ.SERVER.PING.CONNZ']) {
        const r = await json(other, subject);
        expect(Object.keys(r), subject).toEqual(['server', 'data']);
        const conns = (r.data as Json).connections as Json[];
        expect(conns.map((c) => c.cid), subject).toEqual([other.info!.client_id]);
      }
      const statz = (await json(other, '$SYS.REQ.ACCOUNT.PING.STATZ')).data as Json;
      expect(statz.account_statz).toEqual([expect.objectContaining({ acc: 'OTHER', conns: 1 })]);
      // The body's options pass through.
      const subs = (await json(app, '$SYS.REQ.ACCOUNT.PING.CONNZ', JSON.stringify({ subscriptions: true }))).data as Json;
      expect((subs.connections as Json[])[0]!.subscriptions_list).toEqual(expect.any(Array));
    } finally {
      await other.close();
      await app.close();
    }
  });

  it('sends nothing while nobody listens, and counts no internal error for all of it', async () => {
    const before = server.stats();
    for (let i = 0; i < 2; i++) await (await connect({ servers: server.url, user: 'app', pass: 'pass' })).close();
    await expect(connect({ servers: server.url, user: 'app', pass: 'bad', reconnect: false })).rejects.toThrow();
    const after = server.stats();
    // The subscriptions of the earlier tests are gone (max reached): no event was routed.
    expect(after.inMsgs).toBe(before.inMsgs);
    expect(after.internalErrors).toBe(0);
  });
});

describe('the account auth error event (2.10)', () => {
  it('is published in the account the failed client was in ($G), where its clients see it', async () => {
    const server = await createServer({ authorization: { users: [{ user: 'a', password: 'p' }] } });
    try {
      const a = await connect({ servers: server.url, user: 'a', pass: 'p' });
      const got = next(a, '$SYS.ACCOUNT.CLIENT.AUTH.ERR');
      await a.flush();
      await expect(connect({ servers: server.url, user: 'a', pass: 'nope', reconnect: false })).rejects.toThrow();
      const [e] = await got;
      expect(Object.keys(e!.data)).toEqual(AUTH_ERR_KEYS);
      expect(e!.data).toMatchObject({ reason: 'Authentication Failure', client: { acc: '$G', user: 'a' } });
      await a.close();
    } finally {
      await server.close();
    }
  });

  it('is published in a JWT account whose `conn` limit refused a user (auth.go: RegisterNkeyUser failed after c.acc was set)', async () => {
    const sysKp = createAccount();
    const op = makeOperator({ system_account: publicKeyOf(sysKp) });
    const sys = makeAccount(op.kp, {}, {}, sysKp);
    const limits = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: 1, leaf: -1 };
    const acc = makeAccount(op.kp, { limits });
    const server = await createServer({ operator: op.jwt, resolver: 'MEMORY', resolverPreload: { [sys.pub]: sys.jwt, [acc.pub]: acc.jwt } });
    const creds = (u: { creds: string }): ReturnType<typeof credsAuthenticator> => credsAuthenticator(new TextEncoder().encode(u.creds));
    try {
      const first = makeUser(acc.kp);
      const a = await connect({ servers: server.url, authenticator: creds(first) });
      const got = next(a, '$SYS.ACCOUNT.CLIENT.AUTH.ERR');
      await a.flush();
      const second = makeUser(acc.kp);
      await expect(connect({ servers: server.url, authenticator: creds(second), name: 'one-too-many', reconnect: false })).rejects.toThrow(/maximum account active connections/i);
      const [e] = await got;
      expect(Object.keys(e!.data)).toEqual(AUTH_ERR_KEYS);
      expect(e!.data).toMatchObject({ reason: 'Authentication Failure', client: { acc: acc.pub, name: 'one-too-many', user: second.pub } });
      await a.close();
    } finally {
      await server.close();
    }
  });
});

describe('SHUTDOWN and LAMEDUCK', () => {
  it('close() sends SHUTDOWN (the bare server block) and then no DISCONNECT; lameDuck() sends LAMEDUCK first', async () => {
    const server = await createServer({ accounts: ACCOUNTS, systemAccount: 'SYS' });
    const sys = await connect({ servers: server.url, user: 'sys', pass: 'pass', reconnect: false });
    const app = await connect({ servers: server.url, user: 'app', pass: 'pass', reconnect: false });
    const seen: string[] = [];
    const shutdown = next(sys, `$SYS.SERVER.${server.id}.SHUTDOWN`);
    sys.subscribe('$SYS.ACCOUNT.*.DISCONNECT', { callback: (_e, m) => void seen.push(m.subject) });
    await sys.flush();
    await server.close();
    const [m] = await shutdown;
    expect(Object.keys(m!.data)).toEqual(SERVER_KEYS);
    expect(m!.data.id).toBe(server.id);
    await app.closed();
    await sys.closed();
    // nats-server closes its send queue after SHUTDOWN: the clients it then closes make no DISCONNECT.
    expect(seen).toEqual([]);

    const ld = await createServer({ accounts: ACCOUNTS, systemAccount: 'SYS' });
    const sys2 = await connect({ servers: ld.url, user: 'sys', pass: 'pass', reconnect: false });
    const lame = next(sys2, `$SYS.SERVER.${ld.id}.LAMEDUCK`);
    await sys2.flush();
    const done = ld.lameDuck(100);
    const [l] = await lame;
    expect(Object.keys(l!.data)).toEqual(SERVER_KEYS);
    await done;
    await ld.close();
  });

  it('crosses the routes: the imported CONNZ is answered by every server; a peer’s client sees SHUTDOWN of a closed server, and nothing of a killed one (a crash)', async () => {
    const cluster = await createCluster({ size: 3, accounts: { SYS: ACCOUNTS.SYS }, systemAccount: 'SYS' });
    try {
      const [a, b, c] = cluster.servers;
      const nc = await connect({ servers: a!.url, user: 'sys', pass: 'pass' });
      const ids: string[] = [];
      nc.subscribe('$SYS.SERVER.*.SHUTDOWN', { callback: (_e, m) => void ids.push(m.json<Json>().id as string) });
      await nc.flush();
      await b!.waitForSubscription('$SYS.SERVER.x.SHUTDOWN', { timeoutMs: 5000 });
      await c!.waitForSubscription('$SYS.SERVER.x.SHUTDOWN', { timeoutMs: 5000 });
      void a;
      // The CONNZ every account imports reaches every server, as nats-server's service import:
      // a client of $G on one server gets one answer per server, each with that server's $G clients.
      const g = await connect({ servers: a!.url });
      const g2 = await connect({ servers: b!.url });
      const answers = new Map<string, number>();
      g.subscribe('imp.replies', { callback: (_e, m) => {
        const d = m.json<Json>();
        answers.set((d.server as Json).id as string, ((d.data as Json).connections as Json[]).length);
      } });
      await g.flush();
      for (let i = 0; i < 50 && answers.size < 3; i++) {
        g.publish('$SYS.REQ.SERVER.PING.CONNZ', '', { reply: 'imp.replies' });
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(answers).toEqual(new Map([[a!.id, 1], [b!.id, 1], [c!.id, 0]]));
      await g.close();
      await g2.close();
      const [bId, cId] = [b!.id, c!.id];
      // kill() simulates a crash: nats-server sends nothing then, so neither does the embedded broker.
      await c!.kill();
      await b!.close();
      await nc.flush();
      for (let i = 0; i < 50 && ids.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(ids).toEqual([bId]);
      expect(ids).not.toContain(cId);
      await nc.close();
    } finally {
      await cluster.close();
    }
  });
});

describe('deleted accounts and USER.INFO expiry', () => {
  it('a reload that removes an account drops the system state kept for it', async () => {
    const server = await createServer({ accounts: ACCOUNTS, systemAccount: 'SYS' });
    try {
      const other = await connect({ servers: server.url, user: 'other', pass: 'pass' });
      await (other as unknown as { context(): Promise<Json> }).context();
      const events = coreOf(server).events!;
      const tracked = (): string[] => events.accountsTracked().map((a) => a.name);
      // The USER.INFO replier and the CONNS heartbeat of OTHER.
      expect(tracked()).toContain('OTHER');
      await other.close();
      server.reload({ accounts: { SYS: ACCOUNTS.SYS, APP: ACCOUNTS.APP } });
      expect(tracked()).not.toContain('OTHER');
    } finally {
      await server.close();
    }
  });

  it('a reload drops a removed account from the server’s accounts; a late answer to its forwarded CONNZ does not bring its client back', async () => {
    const server = await createServer({ accounts: ACCOUNTS, systemAccount: 'SYS', serverName: 'late-1' });
    try {
      const core = coreOf(server);
      const events = core.events!;
      const other = await connect({ servers: server.url, user: 'other', pass: 'pass' });
      // Forwarded in the system account with the reply `$SYS._INBOX.<id>.1`; answered, but kept open for more answers.
      expect(((await json(other, '$SYS.REQ.ACCOUNT.PING.CONNZ')).data as Json).num_connections).toBe(1);
      await other.close();
      server.reload({ accounts: { SYS: ACCOUNTS.SYS, APP: ACCOUNTS.APP } });
      // reload.go reloadAuthorization: s.accounts.Delete for a configured account no longer configured.
      expect([...core.accounts.keys()].sort()).toEqual(['$G', 'APP', 'SYS']);
      expect(events.accountsTracked().map((a) => a.name)).not.toContain('OTHER');
      // Another server's answer, arriving now.
      const sys = await connect({ servers: server.url, user: 'sys', pass: 'pass' });
      sys.publish(`$SYS._INBOX.${server.id}.1`, '{"late":true}');
      await sys.flush();
      await json(sys, '$SYS.REQ.SERVER.PING.IDZ');
      expect(events.accountsTracked().map((a) => a.name)).not.toContain('OTHER');
      expect(server.stats().internalErrors).toBe(0);
      await sys.close();
    } finally {
      await server.close();
    }
  });

  it('USER.INFO expires is the user JWT’s expiry, not the account’s when sooner (nats-server’s c.expires)', async () => {
    const sysKp = createAccount();
    const op = makeOperator({ system_account: publicKeyOf(sysKp) });
    const sys = makeAccount(op.kp, {}, {}, sysKp);
    const acc = makeAccount(op.kp, {}, { exp: nowSec() + 60 });
    const user = makeUser(acc.kp, {}, { exp: nowSec() + 3600 });
    const server = await createServer({ operator: op.jwt, resolver: 'MEMORY', resolverPreload: { [sys.pub]: sys.jwt, [acc.pub]: acc.jwt } });
    try {
      const nc = await connect({ servers: server.url, authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)) });
      const info = await (nc as unknown as { context(): Promise<Json> }).context();
      const expires = (info.data as Json).expires as number;
      // Whole seconds in nanoseconds, about an hour (the account's 60 s would be sooner).
      expect(expires % 1_000_000_000).toBe(0);
      expect(expires).toBeGreaterThan(3500 * 1e9);
      expect(expires).toBeLessThanOrEqual(3600 * 1e9);
      await nc.close();
    } finally {
      await server.close();
    }
  });
});

describe('noSystemAccount', () => {
  it('creates no system account: no $SYS services, no varz system_account', async () => {
    const server = await createServer({ noSystemAccount: true, http: -1 });
    try {
      expect((await monitorJson(server.monitorUrl!, '/varz')).system_account).toBeUndefined();
      expect(coreOf(server).events).toBeNull();
      const nc = await connect({ servers: server.url });
      await expect((nc as unknown as { context(): Promise<Json> }).context()).rejects.toThrow();
      await expect(nc.request('$SYS.REQ.SERVER.PING', '', { timeout: 500 })).rejects.toThrow(/no responders|503/i);
      await nc.close();
    } finally {
      await server.close();
    }
  });

  it('is read from no_system_account (and its aliases), yields to a named system account, and must be a boolean', () => {
    for (const key of ['no_system_account', 'no_system', 'no_sys_acc']) {
      expect(resolveOptions(optionsFromConf(parseConf(`${key}: true`)).options).systemAccount, key).toBeNull();
    }
    expect(resolveOptions({ noSystemAccount: true, accounts: { S: {} }, systemAccount: 'S' }).systemAccount).toBe('S');
    expect(resolveOptions({ noSystemAccount: false }).systemAccount).toBe('$SYS');
    expect(() => resolveOptions({ noSystemAccount: 'yes' as unknown as boolean })).toThrow(ConfigError);
  });
});
