/**
 * Transport security (issue 19): `wss://` (websocket `tls`), websocket-only authentication
 * (`websocket.authorization`, `noAuthUser`, `jwtCookie`) and `tls.verifyAndMap` (client
 * certificates naming users), through raw TLS and `ws` sockets and the official clients.
 * Facts from nats-server v2.10.29 server/websocket.go and auth.go; the same attempts are
 * compared with the real nats-server in test/conformance/tls-map-ws-auth.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ConfigError, createServer, type ServerOptions } from '../../src/index.js';
import { TestPki, tlsAttempt, wsAttempt, type CertFiles } from '../helpers/certs.js';
import { useScope } from '../helpers/scope.js';
import { makeAccount, makeOperator, makeUser } from '../helpers/jwt.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();
let pki: TestPki;
let alice: CertFiles;
let svc: CertFiles;
let stranger: CertFiles;

beforeAll(() => {
  pki = new TestPki();
  alice = pki.issue('/C=US/O=Acme/OU=eng/CN=alice');
  svc = pki.issue('/CN=svc', 'email:svc@example.com,DNS:svc.example.com');
  stranger = pki.issue('/CN=stranger');
});
afterAll(() => pki.remove());

const serverTls = (extra: Partial<NonNullable<ServerOptions['tls']>> = {}): NonNullable<ServerOptions['tls']> => ({
  cert: pki.server.cert, key: pki.server.key, ca: pki.ca, ...extra,
});

const CONNECT = (fields: Record<string, unknown> = {}): string => `CONNECT ${JSON.stringify({ verbose: false, ...fields })}\r\nPING\r\n`;
const VIOLATION = "-ERR 'Authorization Violation'\r\n";

describe('tls.verifyAndMap: client certificates name users', () => {
  it("maps the subject's DN or an email/DNS alternative name to a user; anything else is an Authorization Violation", async () => {
    const s = await scope.server({
      tls: serverTls({ verifyAndMap: true }),
      authorization: {
        users: [
          { user: 'O=Acme,OU=eng,CN=alice,C=US', permissions: { publish: ['alice.>'] } },
          { user: 'svc@example.com' },
        ],
      },
    });
    expect(s.info.tls_verify).toBe(true);
    expect(await tlsAttempt(s.port, pki.ca, alice, CONNECT())).toBe('PONG\r\n');
    // The mapped user's permissions apply.
    expect(await tlsAttempt(s.port, pki.ca, alice, `CONNECT {"verbose":false}\r\nPUB nope 0\r\n\r\nPUB alice.x 0\r\n\r\nPING\r\n`)).toBe(
      "-ERR 'Permissions Violation for Publish to \"nope\"'\r\nPONG\r\n",
    );
    expect(await tlsAttempt(s.port, pki.ca, svc, CONNECT({ user: 'ignored' }))).toBe('PONG\r\n');
    expect(await tlsAttempt(s.port, pki.ca, stranger, CONNECT())).toBe(VIOLATION);
    // verify: no certificate, no handshake.
    expect(await tlsAttempt(s.port, pki.ca, null, CONNECT())).toBe('<closed>');
    const conns = s.connections();
    expect(conns.length).toBe(0);
  });

  it('verify: a client certificate of another CA is refused (the handshake fails), on the client and the route listeners', async () => {
    const foreign = new TestPki();
    try {
      const outsider = foreign.issue('/CN=alice');
      const s = await scope.server({ tls: serverTls({ verify: true }), cluster: { name: 'T', tls: serverTls({ verify: true }) } });
      expect(await tlsAttempt(s.port, pki.ca, alice, CONNECT())).toBe('PONG\r\n');
      expect(await tlsAttempt(s.port, pki.ca, outsider, CONNECT())).toBe('<closed>');
      const route = await new Promise<string>((resolve) => {
        let out = '';
        const t = tlsConnect({ port: s.clusterPort, host: '127.0.0.1', ca: readFileSync(pki.ca), servername: 'localhost', cert: readFileSync(outsider.cert), key: readFileSync(outsider.key) });
        t.on('data', (d: Buffer) => void (out += d.toString('latin1')));
        t.on('error', () => undefined);
        t.on('close', () => resolve(out === '' ? '<closed>' : out));
      });
      expect(route).toBe('<closed>');
    } finally {
      foreign.remove();
    }
  });

  it('a mapped user with a password must still send it; without users the mapping is not used', async () => {
    const s = await scope.server({ tls: serverTls({ verifyAndMap: true }), authorization: { users: [{ user: 'CN=stranger', password: 'pw' }] } });
    expect(await tlsAttempt(s.port, pki.ca, stranger, CONNECT())).toBe(VIOLATION);
    expect(await tlsAttempt(s.port, pki.ca, stranger, CONNECT({ pass: 'pw' }))).toBe('PONG\r\n');
    const t = await scope.server({ tls: serverTls({ verifyAndMap: true }), authorization: { token: 'tok' } });
    expect(await tlsAttempt(t.port, pki.ca, stranger, CONNECT({ auth_token: 'tok' }))).toBe('PONG\r\n');
    expect(await tlsAttempt(t.port, pki.ca, stranger, CONNECT())).toBe(VIOLATION);
  });

  it("on routes: the route's certificate must name the cluster's user (its CONNECT credentials do not count)", async () => {
    // The server certificate's DNS name `localhost` is the cluster user.
    const a = await scope.server({
      serverName: 'a',
      cluster: { name: 'T', tls: serverTls({ verifyAndMap: true }), authorization: { user: 'localhost', password: 'unused' } },
    });
    const b = await scope.server({ serverName: 'b', cluster: { name: 'T', tls: serverTls(), routes: [`nats-route://127.0.0.1:${a.clusterPort}`], reconnectDelay: 50 } });
    await eventually(() => a.routes().length === 1 && b.routes().length === 1, 'the route, authorized by its certificate');
    // A certificate naming someone else, with the right password: refused (TLS comes first on routes).
    const answer = await new Promise<string>((resolve) => {
      let out = '';
      const t = tlsConnect({ port: a.clusterPort, host: '127.0.0.1', ca: readFileSync(pki.ca), servername: 'localhost', cert: readFileSync(stranger.cert), key: readFileSync(stranger.key) });
      t.on('data', (d: Buffer) => {
        out += d.toString('latin1');
        if (out.startsWith('INFO ') && out.includes('\r\n') && !out.includes('CONNECT-SENT')) {
          out = 'CONNECT-SENT';
          t.write('CONNECT {"verbose":false,"user":"localhost","pass":"unused","name":"x","cluster":"T"}\r\nPING\r\n');
        }
      });
      t.on('error', () => undefined);
      t.on('close', () => resolve(out.replace('CONNECT-SENT', '')));
    });
    expect(answer).toBe(VIOLATION);
  });
});

describe('wss: the websocket listener with tls', () => {
  it('serves wss://, says tls_required and tls_available in INFO, and carries messages to TCP clients', async () => {
    const s = await scope.server({ websocket: { tls: serverTls(), host: '127.0.0.1' }, http: -1 });
    expect(s.websocketUrl).toBe(`wss://127.0.0.1:${s.websocketPort}`);
    const tcp = await scope.client(s);
    const sub = tcp.subscribe('from.web', { max: 1 });
    await tcp.flush();
    const r = await wsAttempt(s.websocketUrl!, pki.ca, 'CONNECT {"verbose":false}\r\nPUB from.web 2\r\nhi\r\nPING\r\n');
    expect(r.out).toBe('PONG\r\n');
    expect(r.info).toMatchObject({ port: s.websocketPort, tls_required: true, tls_available: true });
    expect(r.info!.auth_required).toBeUndefined();
    for await (const m of sub) expect(m.string()).toBe('hi');
    const varz = (await (await fetch(`${s.monitorUrl}/varz`)).json()) as { websocket: Record<string, unknown> };
    expect(varz.websocket).toEqual({ host: '127.0.0.1', port: s.websocketPort });
  });

  it('with verify, a client without a certificate cannot connect; with verifyAndMap its certificate is its user', async () => {
    const s = await scope.server({
      websocket: { tls: serverTls({ verifyAndMap: true }) },
      authorization: { users: [{ user: 'CN=alice,OU=eng,O=Acme,C=US' }, { user: 'tcp', password: 'p' }] },
      http: -1,
    });
    expect((await wsAttempt(s.websocketUrl!, pki.ca, CONNECT())).out).toBe('<closed>');
    expect((await wsAttempt(s.websocketUrl!, pki.ca, CONNECT(), { cert: alice })).out).toBe('PONG\r\n');
    expect((await wsAttempt(s.websocketUrl!, pki.ca, CONNECT({ user: 'tcp', pass: 'p' }), { cert: stranger })).out).toBe(VIOLATION);
    const varz = (await (await fetch(`${s.monitorUrl}/varz`)).json()) as { websocket: Record<string, unknown> };
    expect(varz.websocket.tls_map).toBe(true);
  });

  it('drops a client that never finishes its handshake (TLS timeout), and close() does not wait for one', async () => {
    const quick = await scope.server({ websocket: { tls: serverTls({ timeout: 100 }) } });
    const stuck = netConnect(quick.websocketPort, '127.0.0.1');
    stuck.on('error', () => undefined);
    await new Promise<void>((resolve) => stuck.once('close', () => resolve()));
    const s = await createServer({ websocket: { tls: serverTls({ timeout: 10_000 }) } });
    const idle = netConnect(s.websocketPort, '127.0.0.1');
    scope.defer(() => idle.destroy());
    idle.on('error', () => undefined);
    await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('needs tls or noTls', async () => {
    await expect(createServer({ websocket: {} })).rejects.toThrow(/websocket requires TLS configuration/);
  });
});

describe('websocket-only authentication', () => {
  it('websocket.authorization replaces the top-level credentials for websocket clients only', async () => {
    const s = await scope.server({
      authorization: { user: 'tcp', password: 'tp' },
      websocket: { noTls: true, authorization: { user: 'web', password: 'wp' } },
    });
    const ws = s.websocketUrl!;
    const web = await wsAttempt(ws, pki.ca, CONNECT({ user: 'web', pass: 'wp' }));
    expect(web.out).toBe('PONG\r\n');
    expect(web.info!.auth_required).toBe(true);
    expect((await wsAttempt(ws, pki.ca, CONNECT({ user: 'tcp', pass: 'tp' }))).out).toBe(VIOLATION);
    await expect(scope.client(s, { user: 'web', pass: 'wp', reconnect: false })).rejects.toThrow(/authorization/i);
    await scope.client(s, { user: 'tcp', pass: 'tp', reconnect: false });
  });

  it('a websocket token turns authentication on for websocket clients alone', async () => {
    const s = await scope.server({ websocket: { noTls: true, authorization: { token: 'wt' } } });
    expect(s.info.auth_required).toBeUndefined();
    expect((await wsAttempt(s.websocketUrl!, pki.ca, CONNECT({ auth_token: 'wt' }))).out).toBe('PONG\r\n');
    expect((await wsAttempt(s.websocketUrl!, pki.ca, CONNECT())).out).toBe(VIOLATION);
    await scope.client(s, { reconnect: false });
  });

  it("websocket noAuthUser: credential-less websocket clients become that user; INFO still says auth_required; ops before CONNECT are refused", async () => {
    const s = await scope.server({
      authorization: { users: [{ user: 'a', password: 'pa' }, { user: 'b', password: 'pb', permissions: { publish: ['b.>'] } }] },
      websocket: { noTls: true, noAuthUser: 'b' },
    });
    const r = await wsAttempt(s.websocketUrl!, pki.ca, `${CONNECT()}PUB x 0\r\n\r\nPING\r\n`);
    expect(r.info!.auth_required).toBe(true);
    expect(r.out).toBe("PONG\r\n-ERR 'Permissions Violation for Publish to \"x\"'\r\nPONG\r\n");
    expect((await wsAttempt(s.websocketUrl!, pki.ca, CONNECT({ user: 'a', pass: 'pa' }))).out).toBe('PONG\r\n');
    // parser.go only lets the top-level no_auth_user skip CONNECT.
    expect((await wsAttempt(s.websocketUrl!, pki.ca, 'PING\r\n')).out).toBe(VIOLATION);
    await expect(scope.client(s, { reconnect: false })).rejects.toThrow(/authorization/i);
  });

  it('websocket.authorization.timeout bounds the time to CONNECT', async () => {
    const s = await scope.server({ websocket: { noTls: true, authorization: { token: 't', timeout: 150 } }, http: -1 });
    const started = Date.now();
    expect((await wsAttempt(s.websocketUrl!, pki.ca, '', { waitMs: 3000 })).out).toBe("-ERR 'Authentication Timeout'\r\n");
    expect(Date.now() - started).toBeLessThan(1500);
    const varz = (await (await fetch(`${s.monitorUrl}/varz`)).json()) as { websocket: Record<string, unknown> };
    expect(varz.websocket).toMatchObject({ auth_timeout: 0.15, no_tls: true });
  });

  it('jwtCookie: in operator mode the user JWT may come in a cookie of the upgrade request', async () => {
    const op = makeOperator();
    const acc = makeAccount(op.kp);
    const bearer = makeUser(acc.kp, { bearer_token: true });
    const s = await scope.server({
      operator: op.jwt, resolver: 'MEMORY', resolverPreload: { [acc.pub]: acc.jwt },
      websocket: { noTls: true, jwtCookie: 'natsjwt' },
      http: -1,
    });
    expect((await wsAttempt(s.websocketUrl!, pki.ca, CONNECT(), { cookie: `other=1; natsjwt=${bearer.jwt}` })).out).toBe('PONG\r\n');
    expect((await wsAttempt(s.websocketUrl!, pki.ca, CONNECT(), { cookie: 'natsjwt=' })).out).toBe(VIOLATION);
    expect((await wsAttempt(s.websocketUrl!, pki.ca, CONNECT())).out).toBe(VIOLATION);
    const varz = (await (await fetch(`${s.monitorUrl}/varz`)).json()) as { websocket: Record<string, unknown> };
    expect(varz.websocket.jwt_cookie).toBe('natsjwt');
  });

  it('refuses what nats-server refuses', async () => {
    const users = { users: [{ user: 'a', password: 'p' }] };
    const refused = async (opts: ServerOptions): Promise<string> => {
      const e = await createServer(opts).then((s) => s.close().then(() => null), (err: unknown) => err);
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).message;
    };
    expect(await refused({ authorization: users, websocket: { noTls: true, authorization: { user: 'w', password: 'x' } } })).toMatch(
      /websocket authentication username not compatible with presence of users\/nkeys/,
    );
    expect(await refused({ authorization: users, websocket: { noTls: true, authorization: { token: 't' } } })).toMatch(
      /websocket authentication token not compatible with presence of users\/nkeys/,
    );
    expect(await refused({ authorization: users, websocket: { noTls: true, noAuthUser: 'zz' } })).toMatch(
      /no_auth_user: "zz" not present as user or nkey in authorization block or account configuration/,
    );
    expect(await refused({ websocket: { noTls: true, noAuthUser: 'zz' } })).toMatch(/no_auth_user: "zz" present, but users\/nkeys are not defined/);
  });
});

