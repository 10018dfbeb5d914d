/**
 * Operator (JWT) mode with the memory resolver: the official client's `credsAuthenticator` and
 * `jwtAuthenticator` against a server configured with an operator and preloaded account JWTs,
 * and the exact wire answers on raw sockets. The JWTs are minted by test/helpers/jwt.ts.
 * The same attempts are compared with a real nats-server in
 * test/conformance/operator-interop.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, credsAuthenticator, jwtAuthenticator } from '@nats-io/transport-node';
import { jetstreamManager, jetstream } from '@nats-io/jetstream';
import { wsconnect } from '@nats-io/nats-core';
import { WebSocket } from 'ws';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { ConfigError, createServer, type NatsServer } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { jwtConnect, makeAccount, makeOperator, makeUser, nonceSigner, nowSec, type User } from '../helpers/jwt.js';

// wsconnect uses the global WebSocket, which Node 20 only has behind --experimental-websocket.
const g = globalThis as { WebSocket?: unknown };
g.WebSocket ??= WebSocket;

const scope = useScope();
const { server, defer } = scope;

const op = makeOperator();
const sys = makeAccount(op.kp);
const accA = makeAccount(op.kp);
const accB = makeAccount(op.kp);

function operatorServer(extra: Parameters<typeof createServer>[0] = {}): Promise<NatsServer> {
  return server({
    operator: op.jwt,
    systemAccount: sys.pub,
    resolver: 'MEMORY',
    resolverPreload: { [sys.pub]: sys.jwt, [accA.pub]: accA.jwt, [accB.pub]: accB.jwt },
    ...extra,
  });
}

const creds = (u: User): ReturnType<typeof credsAuthenticator> => credsAuthenticator(new TextEncoder().encode(u.creds));

async function refused(s: NatsServer, u: User): Promise<string> {
  const err = await connect({ servers: s.url, reconnect: false, authenticator: creds(u) }).then(
    async (nc) => {
      await nc.close();
      return null;
    },
    (e: Error) => e,
  );
  expect(err, 'the connection should have been refused').toBeInstanceOf(Error);
  return String((err as Error).message);
}

/** Raw CONNECT with `jwt` and a signature of the nonce by `signer` (the user's key unless given); what came back. */
async function wireAttempt(s: NatsServer, jwt: string, sign: ((nonce: string) => string) | null): Promise<{ reply: string; closed: boolean; w: WireClient }> {
  const w = await WireClient.open(s.port);
  defer(() => w.close());
  w.send(`${jwtConnect(jwt, sign === null ? undefined : sign(String(w.info.nonce)))}PING\r\n`);
  const reply = await w.readLine();
  if (reply.startsWith('-ERR')) await eventually(() => w.closed, 'the connection closed');
  return { reply, closed: w.closed, w };
}

const signer = (u: User): ((nonce: string) => string) => nonceSigner(u);

describe('operator mode: INFO', () => {
  it('advertises auth_required and a nonce per connection, as nats-server', async () => {
    const s = await operatorServer();
    const w = await WireClient.open(s.port);
    defer(() => w.close());
    expect(w.info.auth_required).toBe(true);
    expect(w.info.nonce).toMatch(/^[A-Za-z0-9_-]{15}$/);
  });
});

describe('operator mode: the official client', () => {
  it('a valid user connects with its creds and with jwtAuthenticator, and pub/subs', async () => {
    const s = await operatorServer();
    const u = makeUser(accA.kp);
    const a = await scope.client(s, { reconnect: false, authenticator: creds(u) });
    const b = await scope.client(s, { reconnect: false, authenticator: jwtAuthenticator(u.jwt, u.seed) });
    const sub = b.subscribe('greet', { max: 1 });
    await b.flush();
    a.publish('greet', 'hi');
    for await (const m of sub) expect(m.string()).toBe('hi');
  });

  it('refuses a wrong signature, an untrusted account, a user signed by another account, expired, not yet valid, revoked', async () => {
    const rogueOp = createOperator();
    const rogueAcc = makeAccount(rogueOp);
    const revokedUser = createUser();
    const accR = makeAccount(op.kp, { revocations: { [revokedUser.getPublicKey()]: nowSec() + 10 } });
    const s = await operatorServer({
      resolverPreload: { [sys.pub]: sys.jwt, [accA.pub]: accA.jwt, [rogueAcc.pub]: rogueAcc.jwt, [accR.pub]: accR.jwt },
    });
    // A good JWT with another key's seed: the nonce signature fails.
    const u = makeUser(accA.kp);
    const other = createUser();
    const wrong = await connect({ servers: s.url, reconnect: false, authenticator: jwtAuthenticator(u.jwt, other.getSeed()) }).then(
      (nc) => nc.close().then(() => 'connected'),
      (e: Error) => e.message,
    );
    expect(wrong).toMatch(/authorization violation/i);
    // An account not signed by the operator (preloaded all the same).
    expect(await refused(s, makeUser(rogueAcc.kp))).toMatch(/authorization violation/i);
    // Issued by an account that is not preloaded.
    expect(await refused(s, makeUser(createAccount()))).toMatch(/authorization violation/i);
    // Claims to be of accA but signed by accB's key.
    expect(await refused(s, makeUser(accB.kp, { issuer_account: accA.pub }))).toMatch(/authorization violation/i);
    expect(await refused(s, makeUser(accA.kp, {}, { exp: nowSec() - 5 }))).toMatch(/authorization violation/i);
    expect(await refused(s, makeUser(accA.kp, {}, { nbf: nowSec() + 60 }))).toMatch(/authorization violation/i);
    expect(await refused(s, makeUser(accR.kp, {}, { iat: nowSec() }, revokedUser))).toMatch(/authorization violation/i);
    // Issued after the revocation time: let in.
    const later = makeUser(accR.kp, {}, { iat: nowSec() + 20 }, revokedUser);
    await scope.client(s, { reconnect: false, authenticator: creds(later) });
  });

  it('a signing key of the account signs users (issuer_account), an operator signing key signs accounts', async () => {
    const opSk = createOperator();
    const op2 = makeOperator({ signing_keys: [opSk.getPublicKey()] });
    const accSk = createAccount();
    const acc = makeAccount(opSk, { signing_keys: [accSk.getPublicKey()] });
    const s = await server({ operator: op2.jwt, resolver: 'MEMORY', resolverPreload: { [acc.pub]: acc.jwt } });
    await scope.client(s, { reconnect: false, authenticator: creds(makeUser(accSk, { issuer_account: acc.pub })) });
    await scope.client(s, { reconnect: false, authenticator: creds(makeUser(acc.kp)) });
    // A key the account does not list.
    expect(await refused(s, makeUser(createAccount(), { issuer_account: acc.pub }))).toMatch(/authorization violation/i);
  });

  it('permissions from the user JWT, and the account default permissions', async () => {
    const accD = makeAccount(op.kp, { default_permissions: { pub: { allow: ['dflt.>'] }, sub: {} } });
    const s = await operatorServer({ resolverPreload: { [sys.pub]: sys.jwt, [accA.pub]: accA.jwt, [accD.pub]: accD.jwt } });
    const limited = makeUser(accA.kp, { pub: { allow: ['ok.>'] }, sub: { deny: ['secret'] } });
    const { w } = await wireAttempt(s, limited.jwt, signer(limited));
    w.send('PUB ok.1 0\r\n\r\nPUB no 0\r\n\r\nSUB secret 1\r\nPING\r\n');
    await w.expect(`-ERR 'Permissions Violation for Publish to "no"'\r\n`);
    await w.expect(`-ERR 'Permissions Violation for Subscription to "secret"'\r\nPONG\r\n`);
    const d = makeUser(accD.kp);
    const { w: wd } = await wireAttempt(s, d.jwt, signer(d));
    wd.send('PUB dflt.x 0\r\n\r\nPUB other 0\r\n\r\nPING\r\n');
    await wd.expect(`-ERR 'Permissions Violation for Publish to "other"'\r\nPONG\r\n`);
  });

  it('resp: a responder may publish to a reply subject it received, max times, and nowhere else', async () => {
    const s = await operatorServer();
    const responder = makeUser(accA.kp, { sub: { allow: ['svc'] }, resp: { max: 1, ttl: 0 } });
    const { w } = await wireAttempt(s, responder.jwt, signer(responder));
    w.send('SUB svc 1\r\nPUB other 0\r\n\r\nPING\r\n');
    await w.expect(`-ERR 'Permissions Violation for Publish to "other"'\r\nPONG\r\n`);
    const nc = await scope.client(s, { reconnect: false, authenticator: creds(makeUser(accA.kp)) });
    const reply = nc.request('svc', 'ping', { timeout: 2000 });
    const line = await w.readLine();
    const inbox = line.split(' ')[3]!;
    await w.readLine();
    w.send(`PUB ${inbox} 4\r\npong\r\nPUB ${inbox} 4\r\nmore\r\nPING\r\n`);
    expect((await reply).string()).toBe('pong');
    await w.expect(`-ERR 'Permissions Violation for Publish to ${JSON.stringify(inbox)}'\r\nPONG\r\n`);
  });

  it('accounts are isolated: a message in account A never reaches account B', async () => {
    const s = await operatorServer();
    const a = await scope.client(s, { reconnect: false, authenticator: creds(makeUser(accA.kp)) });
    const a2 = await scope.client(s, { reconnect: false, authenticator: creds(makeUser(accA.kp)) });
    const b = await scope.client(s, { reconnect: false, authenticator: creds(makeUser(accB.kp)) });
    const gotA: string[] = [];
    const gotB: string[] = [];
    a2.subscribe('x.>', { callback: (_e, m) => void gotA.push(m.string()) });
    b.subscribe('x.>', { callback: (_e, m) => void gotB.push(m.string()) });
    await Promise.all([a2.flush(), b.flush()]);
    a.publish('x.1', 'from-a');
    await a.flush();
    await eventually(() => gotA.length === 1, 'A got its message');
    expect(gotA).toEqual(['from-a']);
    await b.flush();
    expect(gotB).toEqual([]);
  });
});

describe('operator mode: wire answers', () => {
  it('bearer token: no signature needed, unless the account disallows bearer tokens', async () => {
    const noBearer = makeAccount(op.kp, { limits: { disallow_bearer: true } });
    const s = await operatorServer({ resolverPreload: { [sys.pub]: sys.jwt, [accA.pub]: accA.jwt, [noBearer.pub]: noBearer.jwt } });
    const bearer = makeUser(accA.kp, { bearer_token: true });
    const ok = await wireAttempt(s, bearer.jwt, null);
    expect(ok.reply).toBe('PONG');
    const nope = await wireAttempt(s, makeUser(noBearer.kp, { bearer_token: true }).jwt, null);
    expect(nope).toMatchObject({ reply: "-ERR 'Authorization Violation'", closed: true });
    // Without bearer_token the signature is required.
    const plain = makeUser(accA.kp);
    expect(await wireAttempt(s, plain.jwt, null)).toMatchObject({ reply: "-ERR 'Authorization Violation'", closed: true });
  });

  it('no JWT, garbage, a standard-base64 signature', async () => {
    const s = await operatorServer();
    const w = await WireClient.open(s.port);
    defer(() => w.close());
    w.send('CONNECT {"verbose":false,"user":"a","pass":"b"}\r\nPING\r\n');
    await w.expect("-ERR 'Authorization Violation'\r\n");
    await eventually(() => w.closed, 'the connection closed');
    expect(await wireAttempt(s, 'not.a.jwt', () => 'x')).toMatchObject({ reply: "-ERR 'Authorization Violation'", closed: true });
    const u = makeUser(accA.kp);
    expect((await wireAttempt(s, u.jwt, nonceSigner(u, true))).reply).toBe('PONG');
  });

  it('a JWT that expires beyond a Node timer\'s range (40 days) keeps its connection', async () => {
    const s = await operatorServer();
    const u = makeUser(accA.kp, {}, { exp: nowSec() + 40 * 86_400 });
    const { reply, w } = await wireAttempt(s, u.jwt, signer(u));
    expect(reply).toBe('PONG');
    await new Promise((r) => setTimeout(r, 300));
    w.send('PING\r\n');
    await w.expect('PONG\r\n');
    expect(w.closed).toBe(false);
  });

  it('subs and payload limits of the user (and account) apply, announced by an INFO after the first PONG', async () => {
    const s = await operatorServer();
    const u = makeUser(accA.kp, { subs: 1, payload: 4 });
    const { w } = await wireAttempt(s, u.jwt, signer(u));
    const info = JSON.parse((await w.readLine()).slice(5)) as Record<string, unknown>;
    expect(info.max_payload).toBe(4);
    expect(info.nonce).toBeUndefined();
    w.send('SUB a 1\r\nSUB b 2\r\nPUB a 4\r\nabcd\r\nPUB a 5\r\nabcde\r\n');
    await w.expect("-ERR 'maximum subscriptions exceeded'\r\nMSG a 1 4\r\nabcd\r\n-ERR 'Maximum Payload Violation'\r\n");
    await eventually(() => w.closed, 'closed');
    // Without limits in the JWT (Go decodes 0): at the limit at once, -ERR and closed.
    const none = makeUser(accA.kp, { subs: undefined, payload: undefined });
    const r = await wireAttempt(s, none.jwt, signer(none));
    await eventually(() => r.w.closed, 'closed');
    // nats-server sends that -ERR from a goroutine: before or after the PONG.
    const all = [r.reply, ...r.w.buffer.split('\r\n').filter((l) => l !== '')];
    expect(all).toContain('PONG');
    expect(all).toContain("-ERR 'maximum subscriptions exceeded'");
  });

  it('over WebSocket: creds work, and allowed_connection_types tells WEBSOCKET from STANDARD', async () => {
    const s = await operatorServer({ websocket: { noTls: true } });
    const url = s.websocketUrl!;
    const tryWs = (u: User): Promise<string> => wsconnect({ servers: url, reconnect: false, authenticator: creds(u) }).then(
      (nc) => nc.close().then(() => 'connected'),
      (e: Error) => e.message,
    );
    expect(await tryWs(makeUser(accA.kp))).toBe('connected');
    expect(await tryWs(makeUser(accA.kp, { allowed_connection_types: ['WEBSOCKET'] }))).toBe('connected');
    expect(await tryWs(makeUser(accA.kp, { allowed_connection_types: ['STANDARD'] }))).toMatch(/authorization violation/i);
  });

  it('allowed_connection_types and src are checked', async () => {
    const s = await operatorServer();
    const wsOnly = makeUser(accA.kp, { allowed_connection_types: ['WEBSOCKET'] });
    expect((await wireAttempt(s, wsOnly.jwt, signer(wsOnly))).reply).toBe("-ERR 'Authorization Violation'");
    const std = makeUser(accA.kp, { allowed_connection_types: ['STANDARD', 'MQTT'] });
    expect((await wireAttempt(s, std.jwt, signer(std))).reply).toBe('PONG');
    const far = makeUser(accA.kp, { src: ['10.0.0.0/8'] });
    expect((await wireAttempt(s, far.jwt, signer(far))).reply).toBe("-ERR 'Authorization Violation'");
    const near = makeUser(accA.kp, { src: ['127.0.0.0/8', '::1/128'] });
    expect((await wireAttempt(s, near.jwt, signer(near))).reply).toBe('PONG');
  });

  it('at the JWT\'s expiry the connection gets -ERR \'User Authentication Expired\' and is closed', async () => {
    const s = await operatorServer();
    const u = makeUser(accA.kp, {}, { exp: nowSec() + 2 });
    const { reply, w } = await wireAttempt(s, u.jwt, signer(u));
    expect(reply).toBe('PONG');
    await w.expect("-ERR 'User Authentication Expired'\r\n", 4000);
    await eventually(() => w.closed, 'the connection closed');
  });
});

describe('operator mode: JetStream', () => {
  it('accounts whose JWT has JetStream limits get JetStream, with those limits; the others none', async () => {
    const jsAcc = makeAccount(op.kp, {
      limits: { subs: -1, data: -1, payload: -1, conn: -1, mem_storage: -1, disk_storage: -1, streams: 1, consumer: -1 },
    });
    const s = await operatorServer({
      jetstream: true,
      resolverPreload: { [sys.pub]: sys.jwt, [accA.pub]: accA.jwt, [jsAcc.pub]: jsAcc.jwt },
    });
    const nc = await scope.client(s, { reconnect: false, authenticator: creds(makeUser(jsAcc.kp)) });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.getAccountInfo();
    expect(info.limits).toMatchObject({ max_memory: -1, max_storage: -1, max_streams: 1, max_consumers: -1 });
    await jsm.streams.add({ name: 'S', subjects: ['s.>'] });
    await jetstream(nc).publish('s.1', 'x');
    expect((await jsm.streams.info('S')).state.messages).toBe(1);
    // max_streams: 1 (10027).
    await expect(jsm.streams.add({ name: 'T', subjects: ['t.>'] })).rejects.toThrow(/maximum number of streams reached/);
    // An account without JetStream limits has none.
    const other = await scope.client(s, { reconnect: false, authenticator: creds(makeUser(accA.kp)) });
    await expect(jetstreamManager(other)).rejects.toThrow(/jetstream not enabled|503/i);
  });
});

describe('operator mode: reload', () => {
  it('new account JWTs re-check connected users: revoked, disallowed bearer, new default permissions', async () => {
    const acc = makeAccount(op.kp, {}, {}, accA.kp);
    const s = await operatorServer({ resolverPreload: { [sys.pub]: sys.jwt, [acc.pub]: acc.jwt } });
    const doomed = makeUser(acc.kp);
    const bearer = makeUser(acc.kp, { bearer_token: true });
    const kept = makeUser(acc.kp);
    const { w: wd } = await wireAttempt(s, doomed.jwt, signer(doomed));
    const { w: wb } = await wireAttempt(s, bearer.jwt, null);
    const { w: wk } = await wireAttempt(s, kept.jwt, signer(kept));
    const updated = makeAccount(op.kp, {
      revocations: { [doomed.pub]: nowSec() + 5 },
      limits: { subs: -1, data: -1, payload: -1, conn: -1, disallow_bearer: true },
      default_permissions: { pub: { allow: ['only.>'] }, sub: {} },
    }, {}, accA.kp);
    s.reload({
      operator: op.jwt, systemAccount: sys.pub, resolver: 'MEMORY',
      resolverPreload: { [sys.pub]: sys.jwt, [acc.pub]: updated.jwt },
    });
    await wd.expect("-ERR 'User Authentication Revoked'\r\n");
    await eventually(() => wd.closed, 'the revoked user closed');
    await wb.expect("-ERR 'Authorization Violation'\r\n");
    await eventually(() => wb.closed, 'the bearer user closed');
    wk.send('PUB only.x 0\r\n\r\nPUB other 0\r\n\r\nPING\r\n');
    await wk.expect(`-ERR 'Permissions Violation for Publish to "other"'\r\nPONG\r\n`);
  });

  it('a lowered account conn limit closes the oldest connections over it (updateAccountClaimsWithRefresh)', async () => {
    const limits = (conn: number): Record<string, unknown> => ({ limits: { subs: -1, data: -1, payload: -1, conn, wildcards: true } });
    const acc = makeAccount(op.kp, limits(3), {}, accA.kp);
    const s = await operatorServer({ resolverPreload: { [sys.pub]: sys.jwt, [acc.pub]: acc.jwt } });
    const users = [makeUser(acc.kp), makeUser(acc.kp), makeUser(acc.kp)];
    const wires: WireClient[] = [];
    for (const u of users) {
      const { w, reply } = await wireAttempt(s, u.jwt, signer(u));
      expect(reply).toBe('PONG');
      wires.push(w);
      // Distinct start times: the newest is kept.
      await new Promise((r) => setTimeout(r, 5));
    }
    s.reload({ operator: op.jwt, systemAccount: sys.pub, resolver: 'MEMORY', resolverPreload: { [sys.pub]: sys.jwt, [acc.pub]: makeAccount(op.kp, limits(1), {}, accA.kp).jwt } });
    for (const w of wires.slice(0, 2)) {
      await w.expect("-ERR 'maximum account active connections exceeded'\r\n");
      await eventually(() => w.closed, 'the older connection closed');
    }
    wires[2]!.send('PING\r\n');
    await wires[2]!.expect('PONG\r\n');
  });
});

describe('operator mode: configuration', () => {
  it('an operator JWT file, plain or decorated as nsc writes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const plain = join(dir, 'op.jwt');
    writeFileSync(plain, op.jwt);
    const decorated = join(dir, 'op-decorated.jwt');
    writeFileSync(decorated, `-----BEGIN NATS OPERATOR JWT-----\n${op.jwt}\n------END NATS OPERATOR JWT------\n`);
    for (const file of [plain, decorated]) {
      const s = await server({ operator: file, resolver: 'MEMORY', resolverPreload: { [accA.pub]: accA.jwt } });
      await scope.client(s, { reconnect: false, authenticator: creds(makeUser(accA.kp)) });
    }
  });

  it('refuses what nats-server refuses at startup', async () => {
    const fails = async (opts: Parameters<typeof createServer>[0], text: string): Promise<void> => {
      const err = await createServer(opts).then((s) => s.close().then(() => null), (e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(String((err as Error).message)).toContain(text);
    };
    await fails({ operator: op.jwt }, 'operators require an account resolver to be configured');
    await fails({ operator: op.jwt, resolver: 'MEMORY', accounts: { A: {} } }, 'operators do not allow Accounts to be configured directly');
    await fails({ operator: op.jwt, resolver: 'MEMORY', authorization: { users: [{ user: 'a', password: 'b' }] } }, 'operators do not allow users to be configured directly');
    await fails({ operator: '/nonexistent/op.jwt', resolver: 'MEMORY' }, 'error parsing operator JWT: open /nonexistent/op.jwt: no such file or directory');
    await fails({ operator: accA.jwt, resolver: 'MEMORY' }, 'error parsing operator JWT: not operator claim');
    await fails({ operator: op.jwt, resolver: 'MEMORY', resolverPreload: { [accA.pub]: 'nope' } }, 'invalid account JWT');
    const withSys = makeOperator({ system_account: sys.pub });
    await fails({ operator: withSys.jwt, systemAccount: accA.pub, resolver: 'MEMORY' }, 'system_account in config and operator JWT must be identical');
    // The system account (named here or by the operator JWT) must resolve at startup.
    await fails({ operator: withSys.jwt, resolver: 'MEMORY', resolverPreload: { [accA.pub]: accA.jwt } }, 'error resolving system account: account missing');
    const untrusted = makeAccount(createOperator());
    await fails({ operator: op.jwt, systemAccount: untrusted.pub, resolver: 'MEMORY', resolverPreload: { [untrusted.pub]: untrusted.jwt } },
      'error resolving system account: account validation failed');
  });
});
