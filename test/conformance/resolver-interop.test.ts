/**
 * The directory account resolvers (`resolver { type: full | cache, dir }`) against the real
 * nats-server: the same config (each server with its own temporary directory), the same
 * `$SYS.REQ.*CLAIMS*` requests from a system-account user connected with creds, the answers
 * compared (the `server` block by its fields), then the same clients of the updated accounts
 * let in, refused or closed. Run by `npm run test:conformance` (NATS_SERVER_BIN).
 *
 * The real binary is 2.9.10. Its DirAccResolver/CacheDirAccResolver handlers, respondToUpdate,
 * handleListRequest and handleDeleteRequest are 2.10.29's but for two points, where these tests
 * follow 2.10 (server/accounts.go) and say so: a CLAIMS.LOOKUP of an account without a file gets
 * an empty answer in 2.10 (none in 2.9), and 2.10's `server` block has `flags`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { createAccount, createOperator } from '@nats-io/nkeys';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { clusterBlock, freePort, startRealServer } from '../helpers/real-server.js';
import { eventually } from '../helpers/eventually.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { useTempDirs } from '../helpers/temp-dirs.js';
import { expectSameStartup, startupOutcomes } from '../helpers/startup.js';
import { encodeJwt, makeAccount, makeOperator, makeUser, nowSec, type User } from '../helpers/jwt.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope('file');

const op = makeOperator();
const sys = makeAccount(op.kp);
const sysUser = makeUser(sys.kp);

const tempDir = useTempDirs('nats-embedded-jwt-');

/** The config of both servers but for the directory. */
function conf(resolver: (dir: string) => string, preload: readonly { pub: string; jwt: string }[]): (dir: string) => string[] {
  return (dir) => [
    `operator: ${op.jwt}`, `system_account: ${sys.pub}`, resolver(dir),
    'resolver_preload: {', ...preload.map((a) => `  ${a.pub}: ${a.jwt}`), '}',
  ];
}

interface Side {
  readonly name: 'real' | 'ours';
  readonly port: number;
  readonly dir: string;
  readonly nc: NatsConnection;
}

/** The real server and ours on the same config, each with its own directory; a system user connected to both. */
async function bothSides(lines: (dir: string) => string[]): Promise<Side[]> {
  const [realDir, ourDir] = [tempDir(), tempDir()];
  const port = await freePort();
  const real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, ...lines(realDir)]);
  scope.defer(() => real.stop());
  const ours = await scope.server({ ...optionsFromConf(parseConf(lines(ourDir).join('\n'), 'resolver.conf')).options, port: 0 });
  const sides: Side[] = [];
  for (const [name, p, dir] of [['real', port, realDir], ['ours', ours.port, ourDir]] as const) {
    const nc = await connect({ port: p, authenticator: credsAuthenticator(new TextEncoder().encode(sysUser.creds)) });
    scope.defer(() => nc.close());
    sides.push({ name, port: p, dir, nc });
  }
  return sides;
}

/** An answer with its `server` block reduced to its field names (2.10 adds `flags`). */
async function request(side: Side, subject: string, body: string): Promise<unknown> {
  try {
    const m = await side.nc.request(subject, body, { timeout: 1000 });
    const text = m.string();
    if (!text.startsWith('{')) return text;
    const j = JSON.parse(text) as Record<string, unknown>;
    // 2.9 orders the fields name, host, id, ver, seq, jetstream, time; 2.10's struct puts
    // tags, jetstream and flags before seq.
    const server = Object.keys(j.server as object).filter((k) => k !== 'flags').sort();
    return { ...j, server };
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  }
}

/** The first answer of each client to its CONNECT + PING. */
const firstLines = new WeakMap<WireClient, string>();

/** A client of user `u`, once it has the answer to its CONNECT + PING. */
async function attempt(port: number, u: User): Promise<WireClient> {
  const w = await WireClient.open(port);
  scope.defer(() => w.close());
  const sig = Buffer.from(u.kp.sign(new TextEncoder().encode(String(w.info.nonce)))).toString('base64url');
  w.send(`CONNECT ${JSON.stringify({ verbose: false, protocol: 1, jwt: u.jwt, sig })}\r\nPING\r\n`);
  const first = await w.readLine(2000);
  firstLines.set(w, first);
  // A refused client: the server closes it right after the -ERR.
  for (let i = 0; i < 40 && first.startsWith('-ERR') && !w.closed; i++) await new Promise((r) => setTimeout(r, 25));
  return w;
}

/** Everything a client got (the server's own PINGs aside), and whether it is closed. */
const lines = (w: WireClient): string =>
  `${[firstLines.get(w), ...w.buffer.split('\r\n').filter((l) => l !== '' && l !== 'PING')].join('|')} closed=${w.closed}`;

/** A self-signed generic JWT asking to delete `accounts` (what `nsc delete account` sends). */
const deleteRequest = (accounts: unknown, signer = op.kp): string =>
  encodeJwt({ sub: signer.getPublicKey(), nats: { accounts, type: 'generic', version: 2 } }, signer);

describe('the full directory resolver: the same answers as nats-server', () => {
  const accA = makeAccount(op.kp);
  const accB = makeAccount(op.kp);
  let sides: Side[];

  beforeAll(async () => {
    sides = await bothSides(conf((d) => `resolver { type: full, dir: "${d}", allow_delete: true }`, [sys, accA]));
  });

  it('the preloads are written into the directory, one <account>.jwt file each', () => {
    const expected = [`${accA.pub}.jwt`, `${sys.pub}.jwt`].sort();
    for (const s of sides) expect(readdirSync(s.dir).sort()).toEqual(expected);
  });

  it('an account updated by the system account: refused before, let in after; a revocation closes its user', async () => {
    const out: Record<string, unknown[]> = {};
    for (const s of sides) {
      const userB = makeUser(accB.kp);
      const before = lines(await attempt(s.port, userB));
      const update = await request(s, `$SYS.REQ.ACCOUNT.${accB.pub}.CLAIMS.UPDATE`, accB.jwt);
      const after = lines(await attempt(s.port, makeUser(accB.kp)));
      // The generic subject: accA now revokes a connected user and gives new default permissions.
      const doomed = makeUser(accA.kp);
      const kept = makeUser(accA.kp);
      const wd = await attempt(s.port, doomed);
      const wk = await attempt(s.port, kept);
      const revoking = makeAccount(op.kp, { revocations: { [doomed.pub]: nowSec() + 5 }, default_permissions: { pub: { allow: ['only.>'] }, sub: {} } }, {}, accA.kp);
      const update2 = await request(s, '$SYS.REQ.CLAIMS.UPDATE', revoking.jwt);
      wk.send('PUB only.x 0\r\n\r\nPUB other 0\r\n\r\nPING\r\n');
      await new Promise((r) => setTimeout(r, 300));
      out[s.name] = [before, update, after, update2, lines(wd), lines(wk), readdirSync(s.dir).sort()];
    }
    expect(out.real![1]).toMatchObject({ data: { account: accB.pub, code: 200, message: 'jwt updated' } });
    expect(out.real![0]).toBe("-ERR 'Authorization Violation' closed=true");
    expect(out.ours).toEqual(out.real);
  });

  it('a lower connection limit in an update: the oldest clients closed, the newest kept; limits follow', async () => {
    // The same accounts on both sides (the later tests compare the directories).
    const acc = makeAccount(op.kp);
    const limited = makeAccount(op.kp, { limits: { subs: -1, data: -1, payload: 4, conn: 1 } }, {}, acc.kp);
    const out: Record<string, string[]> = {};
    for (const s of sides) {
      await request(s, '$SYS.REQ.CLAIMS.UPDATE', acc.jwt);
      const ws = [];
      for (let i = 0; i < 3; i++) ws.push(await attempt(s.port, makeUser(acc.kp)));
      await request(s, '$SYS.REQ.CLAIMS.UPDATE', limited.jwt);
      await new Promise((r) => setTimeout(r, 200));
      ws[2]!.send('PUB x 5\r\nhello\r\n');
      await new Promise((r) => setTimeout(r, 300));
      out[s.name] = ws.map(lines);
    }
    expect(out.real![0]).toContain('maximum account active connections exceeded');
    expect(out.ours).toEqual(out.real);
  });

  it('bad updates: the same error answers', async () => {
    const rogue = makeAccount(createOperator());
    const invalid = makeAccount(op.kp, { default_permissions: { pub: { allow: [''] }, sub: {} } });
    const requests: Array<[string, string]> = [
      ['$SYS.REQ.CLAIMS.UPDATE', 'garbage'],
      ['$SYS.REQ.CLAIMS.UPDATE', ''],
      [`$SYS.REQ.ACCOUNT.${accA.pub}.CLAIMS.UPDATE`, accB.jwt],
      [`$SYS.REQ.ACCOUNT.${accA.pub}.CLAIMS.UPDATE`, 'x.y.z'],
      ['$SYS.REQ.CLAIMS.UPDATE', invalid.jwt],
      ['$SYS.REQ.CLAIMS.UPDATE', makeUser(accA.kp).jwt],
      [`$SYS.ACCOUNT.${accB.pub}.CLAIMS.UPDATE`, accB.jwt],
      // Signed by another operator: stored and answered "jwt updated", yet its users are refused.
      ['$SYS.REQ.CLAIMS.UPDATE', rogue.jwt],
    ];
    const out: Record<string, unknown[]> = {};
    for (const s of sides) {
      out[s.name] = [];
      for (const [subject, body] of requests) out[s.name]!.push(await request(s, subject, body));
      out[s.name]!.push(lines(await attempt(s.port, makeUser(rogue.kp))));
    }
    expect(out.ours).toEqual(out.real);
  });

  it('LOOKUP, LIST and PACK', async () => {
    const out: Record<string, unknown[]> = {};
    for (const s of sides) {
      const lookup = await request(s, `$SYS.REQ.ACCOUNT.${accB.pub}.CLAIMS.LOOKUP`, '');
      const list = (await request(s, '$SYS.REQ.CLAIMS.LIST', '')) as { data: string[] };
      const pack: string[] = [];
      const inbox = `_INBOX.pack.${s.name}`;
      const sub = s.nc.subscribe(inbox);
      const done = (async () => {
        for await (const m of sub) {
          if (m.data.length === 0) break;
          pack.push(m.string());
        }
      })();
      s.nc.publish('$SYS.REQ.CLAIMS.PACK', '', { reply: inbox });
      await done;
      // The JWTs each side made differ (new users, new revocations): the accounts, and each JWT as its file holds it.
      for (const line of pack) {
        const [pub, jwt] = line.split('|') as [string, string];
        expect(jwt).toBe(readFileSync(join(s.dir, `${pub}.jwt`), 'utf8'));
      }
      out[s.name] = [lookup, { ...list, data: [...list.data].sort() }, pack.map((l) => l.slice(0, l.indexOf('|'))).sort()];
    }
    expect(out.real![0]).toBe(accB.jwt);
    expect(out.ours).toEqual(out.real);
    // 2.10 answers a lookup of an account it has no file of with an empty message (2.9: no answer).
    const unknown = makeAccount(op.kp);
    expect(await request(sides[1]!, `$SYS.REQ.ACCOUNT.${unknown.pub}.CLAIMS.LOOKUP`, '')).toBe('');
  });

  it('DELETE: refused forms, then an account deleted (renamed to .jwt.deleted) and its connected user closed', async () => {
    const out: Record<string, unknown[]> = {};
    for (const s of sides) {
      const userB = await attempt(s.port, makeUser(accB.kp));
      const answers = [];
      for (const body of [
        'garbage',
        deleteRequest([sys.pub]),
        deleteRequest([accB.pub], accA.kp),
        encodeJwt({ sub: accB.pub, nats: { accounts: [accB.pub], type: 'generic', version: 2 } }, op.kp),
        deleteRequest('not-a-list'),
        deleteRequest([accB.pub, 'nope']),
        deleteRequest([accB.pub]),
      ]) answers.push(await request(s, '$SYS.REQ.CLAIMS.DELETE', body));
      await new Promise((r) => setTimeout(r, 200));
      out[s.name] = [...answers, lines(userB), lines(await attempt(s.port, makeUser(accB.kp))), readdirSync(s.dir).sort()];
    }
    expect(out.real![6]).toMatchObject({ data: { code: 200, message: 'deleted 1 accounts' } });
    expect(out.ours).toEqual(out.real);
  });

  it('only the system account reaches them: a user of another account gets no responders', async () => {
    const out: Record<string, string> = {};
    for (const s of sides) {
      const u = makeUser(accA.kp);
      const nc = await connect({ port: s.port, authenticator: credsAuthenticator(new TextEncoder().encode(u.creds)) });
      scope.defer(() => nc.close());
      out[s.name] = await nc.request('$SYS.REQ.CLAIMS.LIST', '', { timeout: 1000 }).then(() => 'answered', (e: Error) => e.message);
    }
    expect(out.ours).toBe(out.real);
  });
});

describe('the cache directory resolver: the same answers as nats-server', () => {
  it('an update of an account not in use is skipped, of one in use stored; DELETE always allowed', async () => {
    const accA = makeAccount(op.kp);
    const accB = makeAccount(op.kp);
    const sides = await bothSides(conf((d) => `resolver { type: cache, dir: "${d}", ttl: "1h", limit: 10 }`, [sys, accA]));
    const out: Record<string, unknown[]> = {};
    for (const s of sides) {
      const skipped = await request(s, `$SYS.REQ.ACCOUNT.${accB.pub}.CLAIMS.UPDATE`, accB.jwt);
      const u = await attempt(s.port, makeUser(accA.kp));
      const revoke = makeAccount(op.kp, { revocations: { '*': nowSec() + 5 } }, {}, accA.kp);
      const stored = await request(s, '$SYS.REQ.CLAIMS.UPDATE', revoke.jwt);
      await new Promise((r) => setTimeout(r, 200));
      const list = (await request(s, '$SYS.REQ.CLAIMS.LIST', '')) as { data: string[] };
      const deleted = await request(s, '$SYS.REQ.CLAIMS.DELETE', deleteRequest([accA.pub]));
      const lookup = await request(s, `$SYS.REQ.ACCOUNT.${accA.pub}.CLAIMS.LOOKUP`, '');
      out[s.name] = [skipped, stored, lines(u), { ...list, data: [...list.data].sort() }, deleted, lookup, readdirSync(s.dir).sort()];
    }
    expect(out.real![0]).toMatchObject({ data: { message: 'jwt update cache skipped' } });
    expect(out.ours).toEqual(out.real);
  });
});

describe('directory resolver configs: the same accepted, the same refused for the same reason', () => {
  it('as nats-server parses and starts them', async () => {
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    const withSys = tempDir();
    writeFileSync(join(withSys, `${sys.pub}.jwt`), sys.jwt);
    const base = [`operator: ${op.jwt}`, `system_account: ${sys.pub}`];
    const preload = ['resolver_preload: {', `  ${sys.pub}: ${sys.jwt}`, '}'];
    const cases: Array<[string, string[], string | null]> = [
      ['a missing directory (created)', [...base, `resolver { type: full, dir: "${join(tempDir(), 'a', 'b')}" }`, ...preload], null],
      ['the system account read from the directory, no preload', [...base, `resolver { type: full, dir: "${withSys}" }`], null],
      ['a cache with a ttl and a limit', [...base, `resolver { type: cache, dir: "${tempDir()}", ttl: "2m", limit: 3 }`, ...preload], null],
      // Both start with a "bootstrapping system account" (server.go NewServer: one operator, a directory resolver).
      ['the system account nowhere', [...base, `resolver { type: full, dir: "${tempDir()}" }`], null],
      ['a cache without the system account', [...base, `resolver { type: cache, dir: "${tempDir()}" }`], null],
      ['the system account\'s JWT of another operator', [...base, `resolver { type: full, dir: "${tempDir()}" }`, 'resolver_preload: {', `  ${sys.pub}: ${makeAccount(createOperator(), {}, {}, sys.kp).jwt}`, '}'], null],
      ['a file as the directory', [...base, `resolver { type: full, dir: "${file}" }`, ...preload], 'dir needs to point to an accessible directory'],
      ['no dir', [...base, 'resolver { type: full }', ...preload], 'dir has no value and needs to point to a directory'],
      ['a cache with allow_delete', [...base, `resolver { type: cache, dir: "${tempDir()}", allow_delete: true }`, ...preload], 'CACHE does not accept allow_delete'],
      ['a cache with an interval', [...base, `resolver { type: cache, dir: "${tempDir()}", interval: "1m" }`, ...preload], 'CACHE does not accept sync'],
      ['a full resolver with a ttl', [...base, `resolver { type: full, dir: "${tempDir()}", ttl: "1m" }`, ...preload], 'FULL does not accept ttl'],
      ['an unknown type', [...base, `resolver { type: other, dir: "${tempDir()}" }`, ...preload], 'error parsing account resolver, should be MEM or'],
    ];
    for (const [what, lines, reason] of cases) expectSameStartup(what, await startupOutcomes(BIN, scope, lines, 'resolver.conf'), reason);
  });
});

describe('the MEMORY resolver: account JWT updates through the system account, as nats-server', () => {
  it('applied to an account in use, skipped for another, refused when malformed', async () => {
    const inUse = makeAccount(op.kp);
    const idle = makeAccount(op.kp);
    // No directory: both servers get the same lines.
    const sides = await bothSides(() => [`operator: ${op.jwt}`, `system_account: ${sys.pub}`, 'resolver: MEMORY', 'resolver_preload: {',
      ...[sys, inUse, idle].map((a) => `  ${a.pub}: ${a.jwt}`), '}']);
    const out: Record<string, unknown[]> = {};
    for (const s of sides) {
      const doomed = makeUser(inUse.kp);
      const w = await attempt(s.port, doomed);
      const revoking = makeAccount(op.kp, { revocations: { [doomed.pub]: nowSec() + 5 } }, {}, inUse.kp);
      const answers = [
        await request(s, `$SYS.REQ.ACCOUNT.${inUse.pub}.CLAIMS.UPDATE`, revoking.jwt),
        await request(s, `$SYS.REQ.ACCOUNT.${idle.pub}.CLAIMS.UPDATE`, idle.jwt),
        await request(s, `$SYS.REQ.ACCOUNT.${idle.pub}.CLAIMS.UPDATE`, ''),
        await request(s, `$SYS.REQ.ACCOUNT.${idle.pub}.CLAIMS.UPDATE`, inUse.jwt),
        // The same account signed by another operator: not applied.
        await request(s, `$SYS.REQ.ACCOUNT.${inUse.pub}.CLAIMS.UPDATE`, makeAccount(createOperator(), {}, {}, inUse.kp).jwt),
        await request(s, '$SYS.REQ.CLAIMS.LIST', ''),
      ];
      await new Promise((r) => setTimeout(r, 200));
      out[s.name] = [...answers, lines(w)];
    }
    expect(out.real![0]).toMatchObject({ data: { message: 'jwt updated' } });
    expect(out.ours).toEqual(out.real);
  });
});

describe('full resolvers in a cluster: the PACK sync and the update requests between servers, as nats-server', () => {
  interface Member {
    readonly port: number;
    readonly routeUrl: string;
    readonly dir: string;
  }

  /** A server of either kind in cluster `C`: a full resolver over `dir`, syncing every 200 ms. */
  async function member(kind: 'real' | 'ours', name: string, dir: string, routes: string[]): Promise<Member> {
    const lines = [
      `server_name: ${name}`, `operator: ${op.jwt}`, `system_account: ${sys.pub}`,
      `resolver { type: full, dir: "${dir}", interval: "200ms", timeout: "500ms" }`, 'resolver_preload: {', `  ${sys.pub}: ${sys.jwt}`, '}',
    ];
    if (kind === 'real') {
      const [port, clusterPort] = [await freePort(), await freePort()];
      const real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, ...lines, ...clusterBlock(clusterPort, routes)]);
      scope.defer(() => real.stop());
      return { port, routeUrl: `nats-route://127.0.0.1:${clusterPort}`, dir };
    }
    const s = await scope.server({
      ...optionsFromConf(parseConf(lines.join('\n'), 'resolver.conf')).options, port: 0, cluster: { name: 'C', routes, reconnectDelay: 100 },
    });
    return { port: s.port, routeUrl: s.routeUrl!, dir };
  }

  /** A directory holding `accounts`' JWTs before its server starts. */
  function dirWith(...accounts: { pub: string; jwt: string }[]): string {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    for (const a of accounts) writeFileSync(join(dir, `${a.pub}.jwt`), a.jwt);
    return dir;
  }

  /** Does a user get in at `port` (its CONNECT answered)? */
  const lets = (port: number, u: User): Promise<boolean> =>
    connect({ port, reconnect: false, authenticator: credsAuthenticator(new TextEncoder().encode(u.creds)), timeout: 3000 }).then(async (nc) => {
      await nc.close();
      return true;
    }, () => false);

  const jwtFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.jwt')).sort();

  async function sysClient(m: Member): Promise<NatsConnection> {
    const nc = await connect({ port: m.port, authenticator: credsAuthenticator(new TextEncoder().encode(sysUser.creds)) });
    scope.defer(() => nc.close());
    return nc;
  }

  /** Two members: X only in the first's directory, then an update sent to the second; both directories as they end up. */
  async function scenario(first: 'real' | 'ours', second: 'real' | 'ours', tag: string): Promise<string[][]> {
    const x = makeAccount(op.kp);
    const y = makeAccount(op.kp);
    const a = await member(first, `${tag}-a`, dirWith(x), []);
    const b = await member(second, `${tag}-b`, dirWith(), [a.routeUrl]);
    const label = (files: string[]): string[] => files.map((f) => f === `${x.pub}.jwt` ? 'X' : f === `${y.pub}.jwt` ? 'Y' : f === `${sys.pub}.jwt` ? 'SYS' : f).sort();
    await eventually(() => jwtFiles(b.dir).includes(`${x.pub}.jwt`), `X merged into ${tag}-b from a pack`, 10_000);
    // The update goes to every server with interest: both store it.
    const nc = await sysClient(b);
    const answer = (await nc.request('$SYS.REQ.CLAIMS.UPDATE', y.jwt, { timeout: 2000 })).json<{ data: unknown }>().data;
    await eventually(() => jwtFiles(a.dir).includes(`${y.pub}.jwt`), `Y stored by ${tag}-a`, 5000);
    expect(readFileSync(join(b.dir, `${x.pub}.jwt`), 'utf8')).toBe(x.jwt);
    // The same stores: the same hash (DirJWTStore.Hash: the XOR of the SHA-256 of each JWT), so
    // a PACK request carrying it is answered with one empty message only.
    const hash = Buffer.alloc(32);
    for (const f of jwtFiles(a.dir)) {
      const h = createHash('sha256').update(readFileSync(join(a.dir, f), 'utf8')).digest();
      for (let i = 0; i < 32; i++) hash[i] = hash[i]! ^ h[i]!;
    }
    const pack: string[] = [];
    const sub = nc.subscribe(`_INBOX.hash.${tag}`);
    const done = (async () => {
      for await (const m of sub) {
        pack.push(m.string());
        if (m.data.length === 0) break;
      }
    })();
    nc.publish('$SYS.REQ.CLAIMS.PACK', hash, { reply: `_INBOX.hash.${tag}` });
    await done;
    const dirs = [label(jwtFiles(a.dir)), label(jwtFiles(b.dir))];
    // A lookup: W written into the first server's directory behind its back (no update, so no
    // sync yet); a CONNECT of W's user at the second waits for the first one's answer. An
    // account nowhere is refused (2.9: after `timeout`; 2.10: at the other server's empty answer).
    const w = makeAccount(op.kp);
    writeFileSync(join(a.dir, `${w.pub}.jwt`), w.jwt);
    const lookups = [String(await lets(b.port, makeUser(w.kp))), String(jwtFiles(b.dir).includes(`${w.pub}.jwt`)), String(await lets(b.port, makeUser(createAccount())))];
    return [...dirs, [JSON.stringify(answer).replace(y.pub, 'Y')], pack, lookups];
  }

  it('two real servers and two embedded ones: the same directories, the same answers', async () => {
    const real = await scenario('real', 'real', 'rr');
    const ours = await scenario('ours', 'ours', 'oo');
    expect(real[0]).toEqual(['SYS', 'X', 'Y'].sort());
    expect(real[4]).toEqual(['true', 'true', 'false']);
    expect(ours).toEqual(real);
  });

  it('a mixed cluster syncs both ways: an embedded server merges a real one\'s pack and stores its updates, and the other way round', async () => {
    const reference = await scenario('real', 'real', 'rr2');
    expect(await scenario('real', 'ours', 'ro')).toEqual(reference);
    expect(await scenario('ours', 'real', 'or')).toEqual(reference);
  });
});
