/**
 * The directory of account JWTs (src/auth/jwt-dir.ts), as nats-server's DirJWTStore keeps it
 * for the `full` and `cache` resolvers (server/dirstore.go): file names, limits (refuse / evict
 * the least recently used), expiry (JWT `exp`, cache `ttl`), saveIfNewer, deletes, the store
 * hash, and the generic JWT decode that DELETE requests use.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createOperator } from '@nats-io/nkeys';
import { decodeGenericJwt, DirJwtStore } from '../../src/auth/jwt-dir.js';
import type { ResolvedDirResolver } from '../../src/auth/types.js';
import { encodeJwt, makeAccount, makeOperator, nowSec } from '../helpers/jwt.js';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { resolveOptions } from '../../src/config/options.js';
import { natsServerConfig } from '../../src/config/to-conf.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const op = makeOperator();

function store(cfg: Partial<ResolvedDirResolver> = {}, now?: () => number): DirJwtStore {
  const dir = mkdtempSync(join(tmpdir(), 'jwt-dir-'));
  dirs.push(dir);
  const s = new DirJwtStore({ type: 'full', dir, delete: 'none', limit: 0, intervalMs: 60_000, ttlMs: 0, timeoutMs: 1900, ...cfg }, now);
  return s;
}

describe('DirJwtStore', () => {
  it('one <key>.jwt file per account, mode 0600; a file already there is indexed at open', () => {
    const s = store();
    const a = makeAccount(op.kp);
    expect(s.save(a.pub, a.jwt)).toEqual({ changed: true });
    expect(s.save(a.pub, a.jwt)).toEqual({ changed: false });
    expect(readdirSync(s.dir)).toEqual([`${a.pub}.jwt`]);
    expect(statSync(join(s.dir, `${a.pub}.jwt`)).mode & 0o777).toBe(0o600);
    const b = makeAccount(op.kp);
    writeFileSync(join(s.dir, `${b.pub}.jwt`), b.jwt);
    writeFileSync(join(s.dir, `${b.pub}.jwt.deleted`), b.jwt);
    const again = new DirJwtStore(s.cfg);
    expect(again.keys().sort()).toEqual([a.pub, b.pub].sort());
    expect(again.load(b.pub)).toBe(b.jwt);
    expect(again.load('not-a-key')).toBeNull();
    expect(again.save('not-a-key', a.jwt)).toEqual({ error: 'invalid public key' });
    expect(again.save(a.pub, '')).toEqual({ error: 'invalid JWT' });
  });

  it('full: the limit refuses one more; cache: the least recently used file goes', () => {
    const [a, b, c] = [makeAccount(op.kp), makeAccount(op.kp), makeAccount(op.kp)];
    const full = store({ limit: 2 });
    full.save(a.pub, a.jwt);
    full.save(b.pub, b.jwt);
    expect(full.save(c.pub, c.jwt)).toEqual({ error: 'jwt store is full' });
    const cache = store({ type: 'cache', limit: 2, delete: 'hard' });
    cache.save(a.pub, a.jwt);
    cache.save(b.pub, b.jwt);
    cache.load(a.pub); // a use: b is now the least recent
    expect(cache.save(c.pub, c.jwt)).toEqual({ changed: true });
    expect(readdirSync(cache.dir).sort()).toEqual([`${a.pub}.jwt`, `${c.pub}.jwt`].sort());
  });

  it('expiry: the JWT exp (full), the time since the last use (cache ttl)', () => {
    let now = Date.now();
    const full = store({}, () => now);
    const soon = makeAccount(op.kp, {}, { exp: nowSec() + 10 });
    const never = makeAccount(op.kp);
    full.save(soon.pub, soon.jwt);
    full.save(never.pub, never.jwt);
    full.expire();
    expect(full.keys().length).toBe(2);
    now += 11_000;
    // An expired JWT is left out of a pack (and a list) before the check removes its file.
    expect(full.pack().map((l) => l.split('|')[0])).toEqual([never.pub]);
    full.expire();
    expect(readdirSync(full.dir)).toEqual([`${never.pub}.jwt`]);
    const cache = store({ type: 'cache', ttlMs: 1000, delete: 'hard', limit: 1000 }, () => now);
    cache.save(soon.pub, soon.jwt);
    cache.save(never.pub, never.jwt);
    now += 800;
    cache.load(never.pub);
    now += 300;
    cache.expire();
    expect(cache.keys()).toEqual([never.pub]);
  });

  it('saveIfNewer keeps a file with the same jti or a later iat', () => {
    const s = store();
    const kp = makeAccount(op.kp).kp;
    const older = makeAccount(op.kp, {}, { iat: nowSec() - 100 }, kp);
    const newer = makeAccount(op.kp, {}, { iat: nowSec() }, kp);
    expect(s.saveIfNewer(kp.getPublicKey(), newer.jwt)).toEqual({ changed: true });
    expect(s.saveIfNewer(kp.getPublicKey(), older.jwt)).toEqual({ changed: false });
    expect(s.load(kp.getPublicKey())).toBe(newer.jwt);
    const other = makeAccount(op.kp);
    expect(s.saveIfNewer(kp.getPublicKey(), other.jwt)).toEqual({ error: 'jwt subject nkey and provided nkey do not match' });
  });

  it('deletes: refused without allow_delete, renamed to .jwt.deleted, or removed; the hash follows the files', () => {
    const a = makeAccount(op.kp);
    const none = store();
    none.save(a.pub, a.jwt);
    expect(none.delete(a.pub)).toBe('store is not set up to for delete');
    const renamed = store({ delete: 'rename' });
    const empty = renamed.hash();
    renamed.save(a.pub, a.jwt);
    expect(renamed.hash().equals(empty)).toBe(false);
    expect(renamed.delete(a.pub)).toBeNull();
    expect(renamed.hash().equals(empty)).toBe(true);
    expect(readdirSync(renamed.dir)).toEqual([`${a.pub}.jwt.deleted`]);
    expect(renamed.delete(a.pub)).toBeNull(); // already gone: not an error
    const hard = store({ delete: 'hard' });
    hard.save(a.pub, a.jwt);
    expect(hard.delete(a.pub)).toBeNull();
    expect(readdirSync(hard.dir)).toEqual([]);
  });
});

describe('decodeGenericJwt (jwt.DecodeGeneric)', () => {
  it('any claim type, the nats object as data; errors worded as the Go library', () => {
    const del = encodeJwt({ sub: op.pub, nats: { accounts: ['A1'], type: 'generic', version: 2 } }, op.kp);
    const g = decodeGenericJwt(del);
    expect(g).toMatchObject({ ok: true, claims: { sub: op.pub, iss: op.pub, data: { accounts: ['A1'] } } });
    expect(decodeGenericJwt('a.b')).toEqual({ ok: false, error: 'expected 3 chunks' });
    expect(decodeGenericJwt('x.y.z')).toEqual({ ok: false, error: 'illegal base64 data at input byte 0' });
    const [h, c] = del.split('.');
    const forged = `${h}.${c}.${encodeJwt({ sub: 'x' }, createOperator()).split('.')[2]}`;
    expect(decodeGenericJwt(forged)).toEqual({ ok: false, error: 'claim failed V2 signature verification' });
  });
});

describe('the resolver option in a config file', () => {
  it('written for nats-server and read back: the same resolved resolver; the preloads stored in the directory', () => {
    const sys = makeAccount(op.kp);
    for (const resolver of [
      { type: 'full' as const, dir: join(mkdtempSync(join(tmpdir(), 'jwt-rt-')), 'jwt'), allowDelete: true, hardDelete: true, interval: '2m', limit: 5, timeout: '1s' },
      { type: 'full' as const, dir: join(mkdtempSync(join(tmpdir(), 'jwt-rt-')), 'jwt') },
      { type: 'cache' as const, dir: join(mkdtempSync(join(tmpdir(), 'jwt-rt-')), 'jwt'), ttl: '90s', limit: 7 },
    ]) {
      dirs.push(join(resolver.dir, '..'));
      const o = resolveOptions({ operator: op.jwt, systemAccount: sys.pub, resolver, resolverPreload: { [sys.pub]: sys.jwt } });
      expect(readdirSync(resolver.dir)).toEqual([`${sys.pub}.jwt`]);
      const text = natsServerConfig(o, { client: 4222, http: 8222, cluster: 0 });
      const back = resolveOptions(optionsFromConf(parseConf(text, 'written.conf')).options);
      expect(back.auth?.operator?.resolver).toEqual(o.auth?.operator?.resolver);
    }
  });
});
