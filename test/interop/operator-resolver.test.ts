/**
 * Operator mode with a directory account resolver (`resolver: { type: 'full' | 'cache', dir }`)
 * through `createServer()`: account JWTs pushed by a system-account user with the official
 * client (what `nsc push` does), kept in the directory across a restart, turning JetStream on
 * for an account; the option checks. Runs on both backends (`npm run test:conformance` runs it
 * on nats-server too); the request/answer details are compared with the real binary in
 * test/conformance/resolver-interop.test.ts.
 */
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { createAccount } from '@nats-io/nkeys';
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { ConfigError, createServer, type NatsServer, type ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { useTempDirs } from '../helpers/temp-dirs.js';
import { encodeJwt, makeAccount, makeOperator, makeUser, publicKeyOf, type User } from '../helpers/jwt.js';

const scope = useScope();

const op = makeOperator();
const sys = makeAccount(op.kp);
const sysUser = makeUser(sys.kp);

const tempDir = useTempDirs('nats-embedded-resolver-');

const creds = (u: User): ReturnType<typeof credsAuthenticator> => credsAuthenticator(new TextEncoder().encode(u.creds));

/**
 * A full resolver over `dir`. A CONNECT of an account the directory lacks waits for the other
 * servers' answers (none here) for `timeout`: short, so that refusals are quick.
 */
function fullServer(dir: string, extra: ServerOptions = {}): Promise<NatsServer> {
  return scope.server({
    operator: op.jwt, systemAccount: sys.pub, resolver: { type: 'full', dir, timeout: '200ms' }, resolverPreload: { [sys.pub]: sys.jwt }, ...extra,
  });
}

async function client(s: NatsServer, u: User): Promise<NatsConnection> {
  const nc = await connect({ servers: s.url, reconnect: false, authenticator: creds(u) });
  scope.defer(() => nc.close());
  return nc;
}

async function lets(s: NatsServer, u: User): Promise<boolean> {
  return connect({ servers: s.url, reconnect: false, authenticator: creds(u) }).then(async (nc) => {
    await nc.close();
    return true;
  }, () => false);
}

/** The JSON answer to a system request. */
async function ask(nc: NatsConnection, subject: string, body: string): Promise<Record<string, unknown>> {
  return (await nc.request(subject, body, { timeout: 2000 })).json<Record<string, unknown>>();
}

describe('operator mode: the full directory resolver', () => {
  it('an account pushed by the system account is let in at once and still there after a restart', async () => {
    const dir = tempDir();
    const s = await fullServer(dir);
    const acc = makeAccount(op.kp);
    const user = makeUser(acc.kp);
    expect(await lets(s, user)).toBe(false);
    const sysNc = await client(s, sysUser);
    expect((await ask(sysNc, `$SYS.REQ.ACCOUNT.${acc.pub}.CLAIMS.UPDATE`, acc.jwt)).data).toEqual({ account: acc.pub, code: 200, message: 'jwt updated' });
    expect(await lets(s, user)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([`${acc.pub}.jwt`, `${sys.pub}.jwt`].sort());
    await sysNc.close();
    await s.restart();
    expect(await lets(s, user)).toBe(true);
  });

  it('an update that gives the account JetStream limits turns JetStream on for it', async () => {
    const s = await fullServer(tempDir(), { jetstream: {} });
    const kp = makeAccount(op.kp).kp;
    const plain = makeAccount(op.kp, {}, {}, kp);
    const sysNc = await client(s, sysUser);
    await ask(sysNc, '$SYS.REQ.CLAIMS.UPDATE', plain.jwt);
    const user = makeUser(kp);
    const nc = await client(s, user);
    const jsm = await jetstreamManager(nc, { timeout: 300 }).then(() => 'enabled', (e: Error) => e.message);
    expect(jsm).not.toBe('enabled');
    const withJs = makeAccount(op.kp, {
      limits: { subs: -1, data: -1, payload: -1, conn: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
    }, {}, kp);
    expect((await ask(sysNc, '$SYS.REQ.CLAIMS.UPDATE', withJs.jwt)).data).toMatchObject({ message: 'jwt updated' });
    const nc2 = await client(s, user);
    const m = await jetstreamManager(nc2, { timeout: 2000 });
    await m.streams.add({ name: 'S', subjects: ['s.>'] });
    expect((await m.getAccountInfo()).streams).toBe(1);
  });
});

describe('operator mode: exports and imports of a directory resolver\'s accounts', () => {
  /** Messages the importer's `pub.>` subscription gets of one the exporter publishes. */
  async function flow(s: NatsServer, exporter: User, importer: User): Promise<number> {
    const e = await client(s, exporter);
    const i = await client(s, importer);
    let got = 0;
    i.subscribe('pub.>', { callback: () => void got++ });
    await i.flush();
    e.publish('pub.x', 'hi');
    await e.flush();
    // A stream import delivers through the importer's shadow subscription: a round trip each way settles it.
    await i.flush();
    await e.flush();
    await new Promise((r) => setTimeout(r, 100));
    return got;
  }

  it('accounts already in the directory and accounts pushed later are wired; an update withdrawing the export cuts the importer off', async () => {
    const exp = makeAccount(op.kp, { exports: [{ subject: 'pub.>', type: 'stream' }] });
    const imp = makeAccount(op.kp, { imports: [{ subject: 'pub.>', account: exp.pub, type: 'stream' }] });
    const [expU, impU] = [makeUser(exp.kp), makeUser(imp.kp)];
    const dir = tempDir();
    writeFileSync(join(dir, `${exp.pub}.jwt`), exp.jwt);
    writeFileSync(join(dir, `${imp.pub}.jwt`), imp.jwt);
    expect(await flow(await fullServer(dir), expU, impU)).toBe(1);

    const s = await fullServer(tempDir());
    const sysNc = await client(s, sysUser);
    for (const a of [exp, imp]) expect((await ask(sysNc, '$SYS.REQ.CLAIMS.UPDATE', a.jwt)).data).toMatchObject({ message: 'jwt updated' });
    expect(await flow(s, expU, impU)).toBe(1);
    const withdrawn = makeAccount(op.kp, {}, {}, exp.kp);
    expect((await ask(sysNc, '$SYS.REQ.CLAIMS.UPDATE', withdrawn.jwt)).data).toMatchObject({ message: 'jwt updated' });
    expect(await flow(s, expU, impU)).toBe(0);
  });
});

describe('operator mode: CLAIMS.DELETE', () => {
  it('of an account whose file is already gone answers deleted and leaves its clients alone (dirstore.delete)', async () => {
    const dir = tempDir();
    const s = await fullServer(dir, { resolver: { type: 'full', dir, allowDelete: true } });
    const acc = makeAccount(op.kp);
    const sysNc = await client(s, sysUser);
    expect((await ask(sysNc, '$SYS.REQ.CLAIMS.UPDATE', acc.jwt)).data).toMatchObject({ message: 'jwt updated' });
    const nc = await client(s, makeUser(acc.kp));
    let closed = false;
    void nc.closed().then(() => void (closed = true));
    rmSync(join(dir, `${acc.pub}.jwt`));
    const del = encodeJwt({ sub: op.pub, nats: { accounts: [acc.pub], type: 'generic', version: 2 } }, op.kp);
    expect((await ask(sysNc, '$SYS.REQ.CLAIMS.DELETE', del)).data).toEqual({ code: 200, message: 'deleted 1 accounts' });
    await nc.flush();
    expect(closed).toBe(false);
  });
});

describe('operator mode: CLAIMS.DELETE and JetStream', () => {
  it('a deleted account\'s JetStream is disabled (accounts.go removeCb): its streams leave JSZ', async () => {
    const dir = tempDir();
    const s = await fullServer(dir, { resolver: { type: 'full', dir, allowDelete: true }, jetstream: {} });
    const acc = makeAccount(op.kp, { limits: { subs: -1, data: -1, payload: -1, conn: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } });
    const sysNc = await client(s, sysUser);
    expect((await ask(sysNc, '$SYS.REQ.CLAIMS.UPDATE', acc.jwt)).data).toMatchObject({ message: 'jwt updated' });
    const jsm = await jetstreamManager(await client(s, makeUser(acc.kp)), { timeout: 2000 });
    await jsm.streams.add({ name: 'S', subjects: ['s.>'] });
    const jsz = async (): Promise<Record<string, unknown>> => (await ask(sysNc, '$SYS.REQ.SERVER.PING.JSZ', '')).data as Record<string, unknown>;
    const before = await jsz();
    expect(before.streams).toBe(1);
    const del = encodeJwt({ sub: op.pub, nats: { accounts: [acc.pub], type: 'generic', version: 2 } }, op.kp);
    expect((await ask(sysNc, '$SYS.REQ.CLAIMS.DELETE', del)).data).toEqual({ code: 200, message: 'deleted 1 accounts' });
    expect(await jsz()).toMatchObject({ accounts: (before.accounts as number) - 1, streams: 0 });
  });
});

describe('operator mode: a system account without a JWT', () => {
  it('a directory resolver starts with a bootstrapping system account: users its key signed get in; its JWT pushed replaces it', async () => {
    const signer = createAccount();
    const withSigner = makeAccount(op.kp, { signing_keys: [publicKeyOf(signer)] }, {}, sys.kp);
    const s = await scope.server({ operator: op.jwt, systemAccount: sys.pub, resolver: { type: 'full', dir: tempDir() } });
    const bySigner = makeUser(signer, { issuer_account: sys.pub });
    // The bootstrapping account knows no signing keys.
    expect(await lets(s, bySigner)).toBe(false);
    const sysNc = await client(s, sysUser);
    expect((await ask(sysNc, '$SYS.REQ.CLAIMS.UPDATE', withSigner.jwt)).data).toMatchObject({ account: sys.pub, message: 'jwt updated' });
    expect(await lets(s, bySigner)).toBe(true);
  });
});

describe('operator mode: lookups of an account the directory lacks', () => {
  it('a cache resolver alone waits `timeout` for answers (it has no lookup responder), then refuses the CONNECT', async () => {
    const s = await scope.server({ operator: op.jwt, systemAccount: sys.pub, resolver: { type: 'cache', dir: tempDir(), timeout: '300ms' }, resolverPreload: { [sys.pub]: sys.jwt } });
    const t0 = Date.now();
    expect(await lets(s, makeUser(createAccount()))).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
  });

  it('a full resolver alone gets no answer either (its own responder does not answer its own request): it waits `timeout`', async () => {
    const s = await fullServer(tempDir(), { resolver: { type: 'full', dir: tempDir(), timeout: '300ms' } });
    const t0 = Date.now();
    expect(await lets(s, makeUser(createAccount()))).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
  });
});

describe('operator mode: the cache directory resolver', () => {
  it('reads the accounts of its directory at start', async () => {
    const dir = tempDir();
    const acc = makeAccount(op.kp);
    writeFileSync(join(dir, `${acc.pub}.jwt`), acc.jwt);
    const s = await scope.server({ operator: op.jwt, systemAccount: sys.pub, resolver: { type: 'cache', dir, ttl: '1h' }, resolverPreload: { [sys.pub]: sys.jwt } });
    expect(await lets(s, makeUser(acc.kp))).toBe(true);
    const nc = await client(s, sysUser);
    expect(((await ask(nc, '$SYS.REQ.CLAIMS.LIST', '')).data as string[]).sort()).toEqual([acc.pub, sys.pub].sort());
  });
});

describe('operator mode: directory resolver options', () => {
  it('are checked as nats-server checks them', async () => {
    const base: ServerOptions = { operator: op.jwt, systemAccount: sys.pub, resolverPreload: { [sys.pub]: sys.jwt } };
    const file = join(tempDir(), 'file');
    writeFileSync(file, '');
    const refusals: Array<[ServerOptions['resolver'], string]> = [
      [{ type: 'cache', dir: tempDir(), allowDelete: true }, 'CACHE does not accept allow_delete'],
      [{ type: 'cache', dir: tempDir(), interval: '1m' }, 'CACHE does not accept sync'],
      [{ type: 'full', dir: tempDir(), ttl: '1m' }, 'FULL does not accept ttl'],
      [{ type: 'full', dir: tempDir(), hardDelete: true }, 'hard_delete has no effect without delete'],
      [{ type: 'full', dir: '' }, 'dir has no value and needs to point to a directory'],
      [{ type: 'full', dir: file }, 'dir needs to point to an accessible directory'],
      [{ type: 'url' as 'full', dir: tempDir() }, 'error parsing account resolver'],
    ];
    for (const [resolver, reason] of refusals) {
      const err = await createServer({ ...base, resolver, port: 0 }).then(async (s) => {
        await s.close();
        return null;
      }, (e: unknown) => e);
      expect(err, reason).toBeInstanceOf(ConfigError);
      expect(String((err as Error).message)).toContain(reason);
    }
  });
});

describe('operator mode: directory resolver reload', () => {
  it('reload() reads the directory again and keeps serving updates', async () => {
    const dir = tempDir();
    const s = await fullServer(dir);
    const acc = makeAccount(op.kp);
    const user = makeUser(acc.kp);
    // A file written beside the server (as another tool would) counts once the server reloads.
    writeFileSync(join(dir, `${acc.pub}.jwt`), acc.jwt);
    await s.reload({ debug: false });
    expect(await lets(s, user)).toBe(true);
    const other = makeAccount(op.kp);
    const nc = await client(s, sysUser);
    expect((await ask(nc, '$SYS.REQ.CLAIMS.UPDATE', other.jwt)).data).toMatchObject({ account: other.pub, message: 'jwt updated' });
    expect(await lets(s, makeUser(other.kp))).toBe(true);
  });
});
