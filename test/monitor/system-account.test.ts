/**
 * The system account (nats-server 2.10 events.go): CONNECT/DISCONNECT events, the server and
 * account requests answered in the `{"server","data"}` envelope, `$SYS.REQ.USER.INFO` (the
 * official client's `nc.context()`), the STATSZ heartbeat, and which account is the system one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createCluster, createServer, type NatsServer } from '../../src/index.js';
import { ConfigError } from '../../src/errors.js';
import { monitorJson } from '../helpers/monitor.js';
import { collect, json, type Json } from '../helpers/system.js';

const ACCOUNTS = {
  SYS: { users: [{ user: 'sys', password: 'pass' }] },
  APP: {
    users: [
      { user: 'app', password: 'pass', permissions: { publish: { allow: ['foo.>', '$SYS.REQ.USER.INFO'] }, subscribe: { allow: ['_INBOX.>', 'foo.>'] } } },
    ],
  },
  OTHER: { users: [{ user: 'other', password: 'pass' }] },
};

/** The official client's `nc.context()` (`$SYS.REQ.USER.INFO`), not in the NatsConnection interface. */
function context(nc: NatsConnection): Promise<Json> {
  return (nc as unknown as { context(): Promise<Json> }).context();
}

const SERVER_KEYS = ['name', 'host', 'id', 'ver', 'jetstream', 'flags', 'seq', 'time'];

describe('system account with configured accounts', () => {
  let server: NatsServer;
  let sys: NatsConnection;

  beforeAll(async () => {
    server = await createServer({ serverName: 'sys-1', http: -1, accounts: ACCOUNTS, systemAccount: 'SYS' });
    sys = await connect({ servers: server.url, user: 'sys', pass: 'pass' });
  });
  afterAll(async () => {
    await sys.close();
    await server.close();
  });

  it('publishes CONNECT and DISCONNECT events of other accounts in the system account', async () => {
    const events = collect(sys, '$SYS.ACCOUNT.APP.*', 2);
    await sys.flush();
    const app = await connect({ servers: server.url, user: 'app', pass: 'pass', name: 'app-client' });
    app.publish('foo.bar', 'hello');
    await app.flush();
    await app.close();
    const [c, d] = await events;
    expect(c!.subject).toBe('$SYS.ACCOUNT.APP.CONNECT');
    expect(Object.keys(c!.data)).toEqual(['type', 'id', 'timestamp', 'server', 'client']);
    expect(c!.data).toMatchObject({ type: 'io.nats.server.advisory.v1.client_connect', server: { name: 'sys-1', id: server.id, ver: '2.10.29', jetstream: false } });
    expect(Object.keys(c!.data.server as Json)).toEqual(SERVER_KEYS);
    expect(c!.data.client).toMatchObject({ host: '127.0.0.1', acc: 'APP', user: 'app', name: 'app-client', lang: 'nats.js', kind: 'Client', client_type: 'nats' });
    expect(d!.subject).toBe('$SYS.ACCOUNT.APP.DISCONNECT');
    expect(Object.keys(d!.data)).toEqual(['type', 'id', 'timestamp', 'server', 'client', 'sent', 'received', 'reason']);
    expect(d!.data).toMatchObject({ type: 'io.nats.server.advisory.v1.client_disconnect', reason: 'Client Closed', sent: { msgs: 1, bytes: 5 } });
    expect((d!.data.client as Json).stop).toEqual(expect.any(String));
    expect((d!.data.server as Json).seq).toBeGreaterThan((c!.data.server as Json).seq as number);
  });

  it('publishes no event while nobody in the system account listens', async () => {
    const before = server.stats().inMsgs;
    for (let i = 0; i < 3; i++) await (await connect({ servers: server.url, user: 'app', pass: 'pass' })).close();
    // Internal publications are routed like any message and would count here.
    expect(server.stats().inMsgs).toBe(before);
  });

  it('sends events in the system account only', async () => {
    // A client of another account subscribed to the same subjects gets nothing.
    const other = await connect({ servers: server.url, user: 'other', pass: 'pass' });
    let leaked = 0;
    other.subscribe('$SYS.>', { callback: () => { leaked++; } });
    await other.flush();
    const got = collect(sys, '$SYS.ACCOUNT.APP.CONNECT', 1);
    await sys.flush();
    const app = await connect({ servers: server.url, user: 'app', pass: 'pass' });
    await got;
    await app.close();
    await other.flush();
    expect(leaked).toBe(0);
    await other.close();
  });

  it('answers PING (statsz) and the PING.<KIND> and <id>.<KIND> requests in the envelope', async () => {
    const ping = await json(sys, '$SYS.REQ.SERVER.PING');
    expect(Object.keys(ping)).toEqual(['server', 'statsz']);
    expect(ping.statsz).toMatchObject({ connections: 1, active_accounts: 1, sent: { msgs: expect.any(Number) } });
    for (const kind of ['VARZ', 'CONNZ', 'SUBSZ', 'ROUTEZ', 'JSZ', 'HEALTHZ']) {
      const r = await json(sys, `$SYS.REQ.SERVER.PING.${kind}`);
      expect(Object.keys(r), kind).toEqual(['server', 'data']);
      const direct = await json(sys, `$SYS.REQ.SERVER.${server.id}.${kind}`);
      expect(Object.keys(direct.data as Json), kind).toEqual(Object.keys(r.data as Json));
    }
    const varz = (await json(sys, '$SYS.REQ.SERVER.PING.VARZ')).data as Json;
    expect(varz).toMatchObject({ server_id: server.id, system_account: 'SYS' });
    expect((await json(sys, '$SYS.REQ.SERVER.PING.HEALTHZ')).data).toEqual({ status: 'ok' });
    expect(await json(sys, '$SYS.REQ.SERVER.PING.IDZ')).toEqual({ name: 'sys-1', host: '127.0.0.1', id: server.id });
    // The body carries the endpoint's options.
    const connz = (await json(sys, '$SYS.REQ.SERVER.PING.CONNZ', JSON.stringify({ subscriptions: true }))).data as Json;
    expect((connz.connections as Json[])[0]!.subscriptions_list).toEqual(expect.any(Array));
  });

  it('filters by server name, and answers a bad body with a 400 error', async () => {
    // No answer: the no-responders status would come at once, the answer within milliseconds.
    await expect(json(sys, '$SYS.REQ.SERVER.PING.VARZ', JSON.stringify({ server_name: 'elsewhere' }), 300)).rejects.toThrow(/timeout/);
    expect((await json(sys, '$SYS.REQ.SERVER.PING.VARZ', JSON.stringify({ server_name: 'sys' }))).data).toBeDefined();
    const bad = await json(sys, '$SYS.REQ.SERVER.PING.VARZ', '{nope');
    expect(Object.keys(bad)).toEqual(['server', 'error']);
    expect(bad.error).toMatchObject({ code: 400 });
  });

  it('answers hostile bodies with an error or the data, never an internal error', async () => {
    const bodies = ['{nope', '[1,2]', '"x"', '42', 'null', '{"offset":"x","limit":{}}', '{"subscriptions":[1]}', '{"state":"closed","cid":-1}', '\u0000\xff'];
    const kinds = ['PING', 'PING.STATSZ', 'PING.VARZ', 'PING.CONNZ', 'PING.SUBSZ', 'PING.ROUTEZ', 'PING.JSZ', 'PING.HEALTHZ',
      'PING.GATEWAYZ', 'PING.LEAFZ', 'PING.ACCOUNTZ', 'PING.RAFTZ'].map((k) => `$SYS.REQ.SERVER.${k}`)
      .concat(['CONNZ', 'SUBSZ', 'LEAFZ', 'JSZ', 'INFO', 'STATZ'].map((k) => `$SYS.REQ.ACCOUNT.SYS.${k}`));
    const before = server.stats().internalErrors;
    await Promise.all(kinds.flatMap((subject) => bodies.map(async (body) => {
      const r = await json(sys, subject, body);
      expect(r.server, `${subject} ${body}`).toBeDefined();
      expect('data' in r || 'error' in r || 'statsz' in r, `${subject} ${body}`).toBe(true);
    })));
    // RELOAD answers the bare envelope, or the 400 of a body that is not JSON.
    for (const body of bodies) {
      const r = await json(sys, `$SYS.REQ.SERVER.${server.id}.RELOAD`, body);
      expect([['server'], ['server', 'error']], `RELOAD ${body}`).toContainEqual(Object.keys(r));
    }
    // KICK and LDM answer an error for a body that decodes (no such client), nothing for one that does not.
    for (const kind of ['KICK', 'LDM']) {
      for (const body of ['{"cid":0}', 'null', '{"cid":123456789}', '{"cid":1,"server_name":"sys"}']) {
        expect((await json(sys, `$SYS.REQ.SERVER.${server.id}.${kind}`, body)).error, `${kind} ${body}`).toMatchObject({ code: 500 });
      }
      await Promise.all(['', '{nope', '[1]', '{"cid":-1}', '{"cid":"1"}', '{"cid":1.5}'].map((body) =>
        expect(json(sys, `$SYS.REQ.SERVER.${server.id}.${kind}`, body, 150), `${kind} ${body}`).rejects.toThrow(/timeout/i)));
    }
    expect(server.stats().internalErrors).toBe(before);
  });

  it('answers account requests: CONNZ, SUBSZ, INFO, STATZ, CONNS', async () => {
    const app = await connect({ servers: server.url, user: 'app', pass: 'pass' });
    app.subscribe('foo.x');
    await app.flush();
    const connz = (await json(sys, '$SYS.REQ.ACCOUNT.APP.CONNZ')).data as Json;
    expect(connz).toMatchObject({ num_connections: 1, total: 1 });
    const subsz = (await json(sys, '$SYS.REQ.ACCOUNT.APP.SUBSZ')).data as Json;
    expect(subsz.subscriptions_list).toEqual(expect.arrayContaining([expect.objectContaining({ account: 'APP', subject: 'foo.x' })]));
    const info = (await json(sys, '$SYS.REQ.ACCOUNT.APP.INFO')).data as Json;
    expect(info).toMatchObject({ account_name: 'APP', expired: false, complete: true, client_connections: 1 });
    const statz = (await json(sys, '$SYS.REQ.ACCOUNT.APP.STATZ')).data as Json;
    expect(statz.account_statz).toEqual([expect.objectContaining({ acc: 'APP', conns: 1 })]);
    const conns = await json(sys, '$SYS.REQ.ACCOUNT.APP.CONNS');
    expect(conns).toMatchObject({ type: 'io.nats.server.advisory.v1.account_connections', acc: 'APP', conns: 1 });
    await app.close();
  });

  it('answers USER.INFO with the requester’s user, account and permissions (nc.context())', async () => {
    const app = await connect({ servers: server.url, user: 'app', pass: 'pass' });
    const ctx = await context(app);
    expect(ctx.data).toEqual({
      user: 'app',
      account: 'APP',
      permissions: { publish: { allow: ['foo.>', '$SYS.REQ.USER.INFO'] }, subscribe: { allow: ['_INBOX.>', 'foo.>'] } },
    });
    await app.close();
    expect(((await json(sys, '$SYS.REQ.USER.INFO')).data as Json)).toEqual({ user: 'sys', account: 'SYS' });
  });

  it('answers USER.INFO from any account even when a subscriber there gets the request too (nats-server: a service import)', async () => {
    const other = await createServer({
      accounts: { SYS: { users: [{ user: 'sys', password: 'p' }] }, APP: { users: [{ user: 'a', password: 'p' }, { user: 'b', password: 'p' }] } },
      systemAccount: 'SYS',
    });
    const a = await connect({ servers: other.url, user: 'a', pass: 'p' });
    const b = await connect({ servers: other.url, user: 'b', pass: 'p' });
    try {
      const seen: string[] = [];
      a.subscribe('>', { callback: (_e, m) => void seen.push(m.subject) });
      await a.flush();
      const info = await context(b);
      expect(info.data).toMatchObject({ user: 'b', account: 'APP' });
      await a.flush();
      expect(seen).toContain('$SYS.REQ.USER.INFO');
    } finally {
      await a.close();
      await b.close();
      await other.close();
    }
  });

  it('reports the system account in /varz', async () => {
    expect((await monitorJson(server.monitorUrl!, '/varz')).system_account).toBe('SYS');
  });

  it('sends STATSZ on its subject for a PING without a reply', async () => {
    const got = collect(sys, `$SYS.SERVER.${server.id}.STATSZ`, 1);
    await sys.flush();
    sys.publish('$SYS.REQ.SERVER.PING');
    const [m] = await got;
    expect(Object.keys(m!.data)).toEqual(['server', 'statsz']);
  });
});

describe('the default system account', () => {
  it('is $SYS, and a client of $G gets its user info from nc.context()', async () => {
    const server = await createServer({ http: -1 });
    try {
      expect((await monitorJson(server.monitorUrl!, '/varz')).system_account).toBe('$SYS');
      const nc = await connect({ servers: server.url });
      expect((await context(nc)).data).toEqual({ user: '', account: '$G' });
      await nc.close();
    } finally {
      await server.close();
    }
  });

  it('sends STATSZ heartbeats (the first after 250 ms) while someone listens', async () => {
    const server = await createServer({ accounts: { SYS: ACCOUNTS.SYS }, systemAccount: 'SYS' });
    try {
      const nc = await connect({ servers: server.url, user: 'sys', pass: 'pass' });
      const [m] = await collect(nc, `$SYS.SERVER.${server.id}.STATSZ`, 1);
      expect(m!.data.statsz).toMatchObject({ connections: 1 });
      await nc.close();
    } finally {
      await server.close();
    }
  });

  it('with only the system account configured, clients without credentials still connect, into $G (as nats-server)', async () => {
    const server = await createServer({ accounts: { SYS: ACCOUNTS.SYS }, systemAccount: 'SYS' });
    try {
      const anon = await connect({ servers: server.url });
      // The user is what CONNECT carried (nats-server's getRawAuthUser): none.
      expect((await context(anon)).data).toEqual({ user: '', account: '$G' });
      const sys = await connect({ servers: server.url, user: 'sys', pass: 'pass' });
      expect((await json(sys, '$SYS.REQ.USER.INFO')).data).toEqual({ user: 'sys', account: 'SYS' });
      await expect(connect({ servers: server.url, user: 'sys', pass: 'wrong' })).rejects.toThrow();
      await anon.close();
      await sys.close();
    } finally {
      await server.close();
    }
  });

  it('carries the server tags in the server block, and filters requests by them', async () => {
    const server = await createServer({ accounts: { SYS: ACCOUNTS.SYS }, systemAccount: 'SYS', serverTags: ['az:1', 'ssd'] });
    try {
      const sys = await connect({ servers: server.url, user: 'sys', pass: 'pass' });
      const r = await json(sys, '$SYS.REQ.SERVER.PING.IDZ');
      expect(r.id).toBe(server.id);
      const ping = await json(sys, '$SYS.REQ.SERVER.PING', JSON.stringify({ tags: ['ssd'] }));
      expect((ping.server as Json).tags).toEqual(['az:1', 'ssd']);
      await expect(json(sys, '$SYS.REQ.SERVER.PING', JSON.stringify({ tags: ['ssd', 'az:2'] }), 300)).rejects.toThrow(/timeout/);
      await sys.close();
    } finally {
      await server.close();
    }
  });

  it('refuses a system account that is not configured', async () => {
    await expect(createServer({ systemAccount: 'NOPE' })).rejects.toThrow(ConfigError);
    await expect(createServer({ systemAccount: 'NOPE' })).rejects.toThrow(/error resolving system account: account missing/);
  });
});

describe('system account across routes', () => {
  it('PING gets one answer per server', async () => {
    const cluster = await createCluster({ size: 3, accounts: { SYS: ACCOUNTS.SYS }, systemAccount: 'SYS' });
    try {
      const nc = await connect({ servers: cluster.servers[0]!.url, user: 'sys', pass: 'pass' });
      const ids = new Set<string>();
      const inbox = nc.subscribe('ping.replies', { callback: (_e, m) => { ids.add((m.json<Json>().server as Json).id as string); } });
      await nc.flush();
      // Interest in $SYS.REQ.SERVER.PING crosses the routes once they are up.
      for (let i = 0; i < 50 && ids.size < 3; i++) {
        ids.clear();
        nc.publish('$SYS.REQ.SERVER.PING', '', { reply: 'ping.replies' });
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(ids).toEqual(new Set(cluster.servers.map((s) => s.id)));
      inbox.unsubscribe();
      await nc.close();
    } finally {
      await cluster.close();
    }
  });
});
