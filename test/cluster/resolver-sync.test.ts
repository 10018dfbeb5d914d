/**
 * Directory account resolvers across a cluster, as nats-server 2.10 runs them between servers
 * (server/accounts.go DirAccResolver.Start and Fetch, Server.fetch; server.go's bootstrapping
 * system account): an update sent to one server is stored by every server (the routes carry
 * the system account's interest); every `interval` a full resolver sends its store's hash in
 * `$SYS.REQ.CLAIMS.PACK` and merges what another server answers; a CONNECT of an account a
 * server lacks waits while it asks the others (`$SYS.REQ.ACCOUNT.<acc>.CLAIMS.LOOKUP`, within
 * `timeout`). Each member has its own directory (`<dir>/<server name>`, createCluster).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { createAccount } from '@nats-io/nkeys';
import { describe, expect, it } from 'vitest';
import type { NatsServer, ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { useTempDirs } from '../helpers/temp-dirs.js';
import { eventually } from '../helpers/eventually.js';
import { jwtConnect, makeAccount, makeOperator, makeUser, nonceSigner, publicKeyOf, type User } from '../helpers/jwt.js';
import { WireClient } from '../helpers/wire.js';
import type { Socket } from 'node:net';
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import { acceptSocket } from '../../src/broker/accept.js';
import type { Transport } from '../../src/io/transport.js';
import type { Msg } from '@nats-io/transport-node';
import type { BrokerCore } from '../../src/broker/core.js';

const scope = useScope();
const tempDir = useTempDirs('nats-embedded-resolver-sync-');

const op = makeOperator();
const sys = makeAccount(op.kp);
const sysUser = makeUser(sys.kp);

const creds = (u: User): ReturnType<typeof credsAuthenticator> => credsAuthenticator(new TextEncoder().encode(u.creds));

function operatorMode(dir: string, resolver: Record<string, unknown> = {}): ServerOptions {
  return { operator: op.jwt, systemAccount: sys.pub, resolver: { type: 'full', dir, ...resolver }, resolverPreload: { [sys.pub]: sys.jwt } };
}

async function client(s: NatsServer, u: User): Promise<NatsConnection> {
  const nc = await connect({ servers: s.url, reconnect: false, authenticator: creds(u) });
  scope.defer(() => nc.close());
  return nc;
}

/** Does a user of this account get in (its CONNECT answered)? */
async function lets(s: NatsServer, u: User): Promise<boolean> {
  return connect({ servers: s.url, reconnect: false, authenticator: creds(u), timeout: 3000 }).then(async (nc) => {
    await nc.close();
    return true;
  }, () => false);
}

/** The account files of a member's directory. */
const files = (dir: string, s: NatsServer): string[] => readdirSync(join(dir, s.info.server_name)).filter((f) => f.endsWith('.jwt')).sort();

describe('a cluster of full directory resolvers', () => {
  it('an update sent to one server is stored by all; a member down meanwhile gets it from the others\' packs after its restart', async () => {
    const dir = tempDir();
    const c = await scope.cluster({ size: 3, ...operatorMode(dir, { interval: '100ms' }) });
    const [s0, s1, s2] = c.servers as [NatsServer, NatsServer, NatsServer];
    const sysNc = await client(s0, sysUser);
    const a = makeAccount(op.kp);
    // Every server answers the request; the client takes the first answer.
    expect((await sysNc.request('$SYS.REQ.CLAIMS.UPDATE', a.jwt, { timeout: 2000 })).json()).toMatchObject({ data: { account: a.pub, message: 'jwt updated' } });
    const all = [`${a.pub}.jwt`, `${sys.pub}.jwt`].sort();
    await eventually(() => [s0, s1, s2].every((s) => files(dir, s).join() === all.join()), 'the update in every directory');
    expect(await lets(s2, makeUser(a.kp))).toBe(true);

    await c.kill(2);
    const b = makeAccount(op.kp);
    expect((await sysNc.request(`$SYS.REQ.ACCOUNT.${b.pub}.CLAIMS.UPDATE`, b.jwt, { timeout: 2000 })).json()).toMatchObject({ data: { message: 'jwt updated' } });
    await c.restart(2);
    expect(files(dir, s2)).not.toContain(`${b.pub}.jwt`);
    // The pack request goes to one other server of the `responder` group: the next interval merges its JWTs.
    await eventually(() => files(dir, s2).includes(`${b.pub}.jwt`), 'the missed update merged from a pack');
    expect(await lets(s2, makeUser(b.kp))).toBe(true);

    // The old subject (`$SYS.ACCOUNT.<acc>.CLAIMS.UPDATE`, what older nsc versions publish, no reply) too.
    const d = makeAccount(op.kp);
    sysNc.publish(`$SYS.ACCOUNT.${d.pub}.CLAIMS.UPDATE`, d.jwt);
    await eventually(() => [s0, s1, s2].every((s) => files(dir, s).includes(`${d.pub}.jwt`)), 'the old-subject update in every directory');

    // A new member with an empty directory gets every JWT.
    const s3 = await c.add();
    await eventually(() => files(dir, s3).join() === files(dir, s0).join(), 'every JWT in the new member\'s directory');
    expect(files(dir, s3)).toEqual([`${a.pub}.jwt`, `${b.pub}.jwt`, `${d.pub}.jwt`, `${sys.pub}.jwt`].sort());
  });

  it('a CONNECT of an account the server lacks waits while the other servers are asked; an account none has is refused', async () => {
    const dir = tempDir();
    // No sync within the test: only the lookup can bring the account.
    const c = await scope.cluster({ size: 3, ...operatorMode(dir, { interval: '1h' }) });
    const [s0, , s2] = c.servers as [NatsServer, NatsServer, NatsServer];
    await c.kill(2);
    const sysNc = await client(s0, sysUser);
    const a = makeAccount(op.kp);
    await sysNc.request('$SYS.REQ.CLAIMS.UPDATE', a.jwt, { timeout: 2000 });
    await c.restart(2);
    expect(files(dir, s2)).not.toContain(`${a.pub}.jwt`);
    // s2 asks the other two (its own responder does not answer it): the first JWT wins.
    expect(await lets(s2, makeUser(a.kp))).toBe(true);
    expect(files(dir, s2)).toContain(`${a.pub}.jwt`);
    // An account no server has: every answer is empty, the CONNECT is refused.
    expect(await lets(s2, makeUser(createAccount()))).toBe(false);
    // A cache resolver joining the cluster fetches the account from the full servers and keeps it.
    const cacheDir = tempDir();
    const cache = await scope.server({
      operator: op.jwt, systemAccount: sys.pub, resolver: { type: 'cache', dir: cacheDir, timeout: '1s' }, resolverPreload: { [sys.pub]: sys.jwt },
      cluster: { name: c.clusterName, routes: [s0.routeUrl!], reconnectDelay: 100 },
    });
    await eventually(() => cache.routes().length === 3, 'the cache server in the mesh');
    expect(readdirSync(cacheDir)).not.toContain(`${a.pub}.jwt`);
    expect(await lets(cache, makeUser(a.kp))).toBe(true);
    expect(readdirSync(cacheDir)).toContain(`${a.pub}.jwt`);
  });

  it('a server started without the system account\'s JWT bootstraps it, then fetches it from the others', async () => {
    const dir = tempDir();
    const name = `boot-${Math.random().toString(36).slice(2, 8)}`;
    // Members 0 and 1 have the system account's JWT in their directory; member 2 has none.
    for (const i of [0, 1]) {
      mkdirSync(join(dir, `${name}-${i}`), { recursive: true });
      writeFileSync(join(dir, `${name}-${i}`, `${sys.pub}.jwt`), sysWithSigningKey.jwt);
    }
    const c = await scope.cluster({ size: 3, name, operator: op.jwt, systemAccount: sys.pub, resolver: { type: 'full', dir, interval: '1h' } });
    const s2 = c.servers[2]!;
    // Fetched by the bootstrap ticker (every second): the system account's signing key then signs users.
    await eventually(() => files(dir, s2).includes(`${sys.pub}.jwt`), 'the system account fetched', 4000);
    const signed = makeUser(sysSigner, { issuer_account: sys.pub });
    await eventually(() => lets(s2, signed), 'a user of the system account\'s signing key let in');
    const nc = await client(s2, signed);
    expect(((await nc.request('$SYS.REQ.CLAIMS.LIST', '', { timeout: 2000 })).json<{ data: string[] }>()).data).toEqual([sys.pub]);
  });
});

const sysSigner = createAccount();
const sysWithSigningKey = makeAccount(op.kp, { signing_keys: [publicKeyOf(sysSigner)] }, {}, sys.kp);

/**
 * Subscribes the system client `sysNc` to account lookups: `asked` is the first one, for the test
 * to answer when it chooses.
 */
async function firstLookup(sysNc: NatsConnection): Promise<{ asked: Promise<Msg> }> {
  let lookup: (m: Msg) => void = () => undefined;
  const asked = new Promise<Msg>((r) => { lookup = r; });
  sysNc.subscribe('$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP', { callback: (_e, m) => lookup(m) });
  await sysNc.flush();
  return { asked };
}

describe('a CONNECT waiting for its account', () => {
  it('pauses reading the connection: what the client sends meanwhile stays in its socket, and is served once the account comes', async () => {
    const s = await scope.server(operatorMode(tempDir(), { interval: '1h', timeout: '5s' }));
    const core = (s as unknown as { backend_: { core: BrokerCore } }).backend_.core;
    const sysNc = await client(s, sysUser);
    // The lookup is answered by this test, when it chooses.
    const { asked } = await firstLookup(sysNc);
    const a = makeAccount(op.kp);
    const u = makeUser(a.kp);
    const w = await WireClient.open(s.port);
    scope.defer(() => w.close());
    // 24 MB of publications after the CONNECT, then a PING: far more than the kernel's buffers take.
    const payload = Buffer.alloc(256 * 1024, 0x61);
    const pub = Buffer.concat([Buffer.from(`PUB sink ${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
    w.send(jwtConnect(u.jwt, nonceSigner(u)(w.info.nonce as string)));
    for (let i = 0; i < 96; i++) w.send(pub);
    w.send('PING\r\n');
    const m = await asked;
    expect(m.subject).toBe(`$SYS.REQ.ACCOUNT.${a.pub}.CLAIMS.LOOKUP`);
    await new Promise((r) => setTimeout(r, 100));
    const c = [...core.clients.values()].find((x) => x.cid !== sysNc.info!.client_id)!;
    const socket = c.socket as unknown as Socket;
    // Held: at most the rest of a read; the rest was never read (TCP back-pressure, as nats-server's blocked read loop).
    expect(c.parser.heldBytes).toBeLessThanOrEqual(64 * 1024);
    expect(socket.bytesRead).toBeLessThan(96 * pub.length / 2);
    m.respond(a.jwt);
    await w.expect('PONG\r\n', 10_000);
    expect(socket.bytesRead).toBeGreaterThan(96 * pub.length);
    expect(c.readHeld).toBe(false);
    expect((await s.connections()).find((x) => x.cid === c.cid)?.inMsgs).toBe(96);
  });

  it('over a websocket too: the frames that follow stay unread', async () => {
    const s = await scope.server({ ...operatorMode(tempDir(), { interval: '1h', timeout: '5s' }), websocket: { noTls: true } });
    const core = (s as unknown as { backend_: { core: BrokerCore } }).backend_.core;
    const sysNc = await client(s, sysUser);
    const { asked } = await firstLookup(sysNc);
    const a = makeAccount(op.kp);
    const u = makeUser(a.kp);
    const ws = new WebSocket(s.websocketUrl!);
    scope.defer(() => ws.terminate());
    const frames: string[] = [];
    let wake = (): void => undefined;
    ws.on('message', (d: Buffer) => {
      frames.push(d.toString('latin1'));
      wake();
    });
    const frame = async (pred: (f: string) => boolean): Promise<string> => {
      for (;;) {
        const f = frames.find(pred);
        if (f !== undefined) return f;
        await new Promise<void>((r) => { wake = r; });
      }
    };
    const info = JSON.parse((await frame((f) => f.startsWith('INFO '))).slice(5)) as { nonce: string };
    // Small frames: many arrive in each read; the socket is paused, so only the read in hand is delivered.
    ws.send(jwtConnect(u.jwt, nonceSigner(u)(info.nonce)));
    const pub = `PUB sink 100\r\n${'a'.repeat(100)}\r\n`;
    for (let i = 0; i < 20_000; i++) ws.send(pub);
    ws.send('PING\r\n');
    const m = await asked;
    await new Promise((r) => setTimeout(r, 100));
    const c = [...core.clients.values()].find((x) => x.cid !== sysNc.info!.client_id)!;
    expect(c.parser.heldBytes).toBeLessThanOrEqual(64 * 1024);
    expect(c.readHeld).toBe(true);
    m.respond(a.jwt);
    await frame((f) => f.includes('PONG'));
    expect((await s.connections()).find((x) => x.cid === c.cid)?.inMsgs).toBe(20_000);
  });

  it('a reload while the CONNECT waits leaves it waiting: it is authenticated once the account comes', async () => {
    const s = await scope.server(operatorMode(tempDir(), { interval: '1h', timeout: '5s' }));
    const sysNc = await client(s, sysUser);
    const a = makeAccount(op.kp);
    const u = makeUser(a.kp);
    // The first lookup is left unanswered; once the server reloaded, lookups are answered.
    let reloaded = false;
    let lookups = 0;
    let lookup: () => void = () => undefined;
    const asked = new Promise<void>((r) => { lookup = r; });
    sysNc.subscribe('$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP', {
      callback: (_e, m) => {
        lookups++;
        if (reloaded) m.respond(a.jwt);
        lookup();
      },
    });
    await sysNc.flush();
    const w = await WireClient.open(s.port);
    scope.defer(() => w.close());
    w.send(jwtConnect(u.jwt, nonceSigner(u)(w.info.nonce as string)) + 'PING\r\n');
    await asked;
    // nats-server's reload checks the registered client again, looking its account up again.
    reloaded = true;
    s.reload({});
    await w.expect('PONG\r\n');
    expect(lookups).toBe(2);
    expect(w.closed).toBe(false);
  });

  it('a websocket message delivered whole while the CONNECT in it waits is held and served, not taken for a deaf transport', async () => {
    // nats-server decodes websocket frames per read, then processes what follows the CONNECT
    // once its account is known; `ws` hands over a whole message, which may be large.
    const s = await scope.server({ ...operatorMode(tempDir(), { interval: '1h', timeout: '5s' }), websocket: { noTls: true } });
    const sysNc = await client(s, sysUser);
    const { asked } = await firstLookup(sysNc);
    const a = makeAccount(op.kp);
    const u = makeUser(a.kp);
    const ws = new WebSocket(s.websocketUrl!);
    scope.defer(() => ws.terminate());
    let pongs = 0;
    let info: ((nonce: string) => void) | null = null;
    const nonce = new Promise<string>((r) => { info = r; });
    let done = (): void => undefined;
    const all = new Promise<void>((r) => { done = r; });
    ws.on('message', (d: Buffer) => {
      const text = d.toString('latin1');
      if (text.startsWith('INFO ')) info?.((JSON.parse(text.slice(5, text.indexOf('\r\n'))) as { nonce: string }).nonce);
      pongs += text.split('PONG').length - 1;
      if (pongs === 200_000) done();
    });
    // One message: the CONNECT and 1.2 MB of PINGs, more than one read and one maximal operation.
    ws.send(jwtConnect(u.jwt, nonceSigner(u)(await nonce)) + 'PING\r\n'.repeat(200_000));
    const m = await asked;
    m.respond(a.jwt);
    await all;
    expect(pongs).toBe(200_000);
  });

  it('a transport that keeps delivering while paused is closed once the held input passes one read and one maximal operation', async () => {
    const s = await scope.server({ ...operatorMode(tempDir(), { interval: '1h', timeout: '5s' }), maxPayload: 1024 });
    const core = (s as unknown as { backend_: { core: BrokerCore } }).backend_.core;
    /** Ignores pause(): what a misbehaving Transport would do. */
    class Deaf extends EventEmitter {
      remoteAddress = '127.0.0.1';
      remotePort = 1;
      writableLength = 0;
      bytesWritten = 0;
      destroyed = false;
      out = '';
      setNoDelay(): void {}
      write(chunk: Buffer | Uint8Array | string): boolean {
        this.out += Buffer.from(chunk).toString('latin1');
        return true;
      }
      cork(): void {}
      uncork(): void {}
      end(cb?: () => void): void {
        this.destroy();
        cb?.();
      }
      destroy(): void {
        if (this.destroyed) return;
        this.destroyed = true;
        this.emit('close', false);
      }
      pause(): void {}
      resume(): void {}
    }
    const t = new Deaf();
    acceptSocket(core, t as unknown as Socket);
    const c = [...core.clients.values()].find((x) => x.socket === (t as unknown as Transport))!;
    const nonce = (JSON.parse(t.out.slice(5, t.out.indexOf('\r\n'))) as { nonce: string }).nonce;
    const u = makeUser(makeAccount(op.kp).kp);
    t.emit('data', Buffer.from(jwtConnect(u.jwt, nonceSigner(u)(nonce))));
    expect(c.readHeld).toBe(true);
    const chunk = Buffer.from('PING\r\n'.repeat(1024 * 1024 / 6));
    // 64 KB + 4 KB + 1 KB may be held; a megabyte is too much.
    t.emit('data', chunk);
    expect(c.closed).toBe(true);
    expect(c.closeReason).toBe('Read Error');
    expect(t.destroyed).toBe(true);
  });
});
