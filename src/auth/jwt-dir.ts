/**
 * The directory of account JWTs behind the `full` and `cache` account resolvers, as
 * nats-server v2.10.29's DirJWTStore keeps it (server/dirstore.go; the resolvers create it in
 * server/accounts.go NewDirAccResolver / NewCacheDirAccResolver):
 *
 * - one file `<dir>/<account public key>.jwt` per account, the JWT as it came (never sharded:
 *   both resolvers open the store with `shard` false), mode 0600, the directory 0700;
 * - an index of the files, built from the directory at start, with each JWT's expiry: the JWT's
 *   `exp` for the full resolver (a file whose JWT expired is removed by a periodic check), the
 *   last use plus `ttl` for the cache (when `ttl` is set);
 * - `limit` files at most: the full resolver refuses one more (`jwt store is full`), the cache
 *   removes its least recently used file (a lookup is a use);
 * - `saveIfNewer` (preloads, packs of other servers): an existing file with the same `jti` or a
 *   later `iat` wins;
 * - deletes rename the file to `.jwt.deleted`, or remove it (`hard_delete`); `.jwt.deleted` files
 *   are not JWTs to the store.
 *
 * Synchronous file calls: these are rare administrative requests and first lookups of an
 * account. The expiry check is one unref'd timer, released by `close()`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isPublicKey, verifySignature } from './jwt.js';

/** Go's error for base64 that RawURLEncoding refuses: the first bad byte, or the lone last one. */
function base64Error(s: string): string {
  const bad = /[^A-Za-z0-9_-]/.exec(s);
  return `illegal base64 data at input byte ${bad !== null ? bad.index : s.length - 1}`;
}
import type { ResolvedDirResolver } from './types.js';

const EXT = '.jwt';

/** The generic claims of any JWT (jwt.DecodeGeneric): the registered fields and `nats` as it is. */
export interface GenericClaims {
  readonly jti: string;
  readonly iat: number;
  readonly iss: string;
  readonly sub: string;
  readonly exp: number;
  /** The `nats` object (v2) or the claims themselves (v1). */
  readonly data: Readonly<Record<string, unknown>>;
}

/** jwt.DecodeGeneric: header, claims and signature checked; the error text as the Go library words it. */
export function decodeGenericJwt(token: string): { ok: true; claims: GenericClaims } | { ok: false; error: string } {
  const chunks = token.split('.');
  if (chunks.length !== 3) return { ok: false, error: 'expected 3 chunks' };
  const [h, c, s] = chunks as [string, string, string];
  const json = (part: string): Record<string, unknown> | null => {
    if (!/^[A-Za-z0-9_-]*$/.test(part) || part.length % 4 === 1) return null;
    try {
      const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };
  const header = json(h);
  if (header === null) return { ok: false, error: base64Error(h) };
  const typ = typeof header.typ === 'string' ? header.typ : '';
  const alg = typeof header.alg === 'string' ? header.alg.toLowerCase() : '';
  if (typ.toUpperCase() !== 'JWT') return { ok: false, error: `not supported type "${typ}"` };
  if (alg !== 'ed25519' && alg !== 'ed25519-nkey') return { ok: false, error: `unexpected "${String(header.alg)}" algorithm` };
  const raw = json(c);
  if (raw === null) return { ok: false, error: base64Error(c) };
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0);
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const nats = raw.nats !== null && typeof raw.nats === 'object' && !Array.isArray(raw.nats) ? (raw.nats as Record<string, unknown>) : null;
  const v2 = nats !== null && num(nats.version) >= 2;
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return { ok: false, error: base64Error(s) };
  const signed = v2 ? `${h}.${c}` : c;
  const iss = text(raw.iss);
  if (!verifySignature(iss, new TextEncoder().encode(signed), Buffer.from(s, 'base64url'))) {
    return { ok: false, error: `claim failed V${v2 ? 2 : 1} signature verification` };
  }
  return {
    ok: true,
    claims: { jti: text(raw.jti), iat: num(raw.iat), iss, sub: text(raw.sub), exp: num(raw.exp), data: v2 ? nats : raw },
  };
}

interface Entry {
  hash: Buffer;
  /** Milliseconds since the epoch when the file goes; Infinity: never. */
  expiresAt: number;
}

export class DirJwtStore {
  readonly dir: string;
  /** The indexed files; the Map's order is the order of use (the cache's LRU). */
  private readonly index = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  /** The store's hash: the XOR of the SHA-256 of every indexed JWT (DirJWTStore.Hash). */
  private readonly xor = Buffer.alloc(32);

  /** Opens (and creates) the directory and indexes its `.jwt` files. */
  constructor(readonly cfg: ResolvedDirResolver, private readonly now: () => number = Date.now) {
    this.dir = resolve(cfg.dir);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const file of readdirSync(this.dir).sort()) {
      if (!file.endsWith(EXT)) continue;
      try {
        this.track(file.slice(0, -EXT.length), readFileSync(join(this.dir, file), 'utf8'));
      } catch {
        // A file that cannot be read is not indexed (nats-server skips it too).
      }
    }
  }

  /** Starts the periodic removal of expired files (nats-server: every ttl/2, at most every minute). */
  startExpiring(): void {
    if (this.timer !== null) return;
    const every = this.cfg.ttlMs > 0 ? Math.min(this.cfg.ttlMs / 2, 60_000) : 60_000;
    this.timer = setInterval(() => this.expire(), Math.max(every, 1));
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Removes the files whose time is up. */
  expire(): void {
    const now = this.now();
    for (const [pub, e] of [...this.index]) {
      if (e.expiresAt > now) continue;
      try {
        rmSync(this.path(pub)!);
        this.untrack(pub);
      } catch {
        // Kept for the next check, as nats-server does when the remove fails.
      }
    }
  }

  /** The file of an account, or null for a key that is not a public nkey. */
  path(pub: string): string | null {
    if (!isPublicKey(pub, 'A') && !isPublicKey(pub, 'O') && !isPublicKey(pub, 'U')) return null;
    return join(this.dir, `${pub}${EXT}`);
  }

  /** The JWT on disk for `pub` (a use of it, for the cache), or null. */
  load(pub: string): string | null {
    const path = this.path(pub);
    if (path === null) return null;
    let jwt: string;
    try {
      jwt = readFileSync(path, 'utf8');
    } catch {
      return null;
    }
    this.touch(pub);
    return jwt;
  }

  /** The JWT on disk for `pub`, without counting as a use; null when there is none. */
  peek(pub: string): string | null {
    const path = this.path(pub);
    if (path === null) return null;
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  }

  /** Stores a JWT (DirJWTStore.save): whether the file changed, or the error's text. */
  save(pub: string, jwt: string): { changed: boolean } | { error: string } {
    const path = this.path(pub);
    if (path === null) return { error: 'invalid public key' };
    return this.write(path, pub, jwt);
  }

  /** Stores a JWT unless the file holds the same or a later one (DirJWTStore.saveIfNewer). */
  saveIfNewer(pub: string, jwt: string): { changed: boolean } | { error: string } {
    const path = this.path(pub);
    if (path === null) return { error: 'invalid public key' };
    let existing: string | null = null;
    try {
      existing = readFileSync(path, 'utf8');
    } catch {
      existing = null;
    }
    if (existing !== null) {
      const next = decodeGenericJwt(jwt);
      if (!next.ok) return { error: next.error };
      const old = decodeGenericJwt(existing);
      if (old.ok) {
        if (old.claims.jti === next.claims.jti || old.claims.iat > next.claims.iat) return { changed: false };
        if (next.claims.sub !== pub) return { error: 'jwt subject nkey and provided nkey do not match' };
        if (old.claims.sub !== next.claims.sub) return { error: 'subject of existing and new jwt do not match' };
      }
    }
    return this.write(path, pub, jwt);
  }

  /** Deletes an account's file as configured; null, or the error's text. */
  delete(pub: string): string | null {
    if (this.cfg.delete === 'none') return 'store is not set up to for delete';
    const path = this.path(pub) ?? join(this.dir, EXT);
    try {
      if (this.cfg.delete === 'rename') renameSync(path, `${path}.deleted`);
      else rmSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      return String((err as Error).message);
    }
    this.untrack(pub);
    return null;
  }

  /** `pub|jwt` of every indexed file whose JWT has not expired, in file name order (PackWalk). */
  pack(): string[] {
    const out: string[] = [];
    const nowSec = Math.floor(this.now() / 1000);
    for (const pub of [...this.index.keys()].sort()) {
      let jwt: string;
      try {
        jwt = readFileSync(this.path(pub)!, 'utf8');
      } catch {
        continue;
      }
      if (jwt === '') continue;
      const g = decodeGenericJwt(jwt);
      if (g.ok && g.claims.exp > 0 && g.claims.exp < nowSec) continue;
      out.push(`${pub}|${jwt}`);
    }
    return out;
  }

  /** The public keys of the indexed files. */
  keys(): string[] {
    return [...this.index.keys()];
  }

  /** The store's hash (DirJWTStore.Hash). */
  hash(): Buffer {
    return Buffer.from(this.xor);
  }

  private write(path: string, pub: string, jwt: string): { changed: boolean } | { error: string } {
    if (jwt.length === 0) return { error: 'invalid JWT' };
    const hash = createHash('sha256').update(jwt).digest();
    const known = this.index.get(pub);
    if (known !== undefined) {
      this.touch(pub);
      if (known.hash.equals(hash)) return { changed: false };
    } else if (this.cfg.limit > 0 && this.index.size >= this.cfg.limit) {
      if (this.cfg.type === 'full') return { error: 'jwt store is full' };
      const oldest = this.index.keys().next().value as string;
      try {
        rmSync(this.path(oldest)!);
      } catch (err) {
        return { error: String((err as Error).message) };
      }
      this.untrack(oldest);
    }
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      writeFileSync(path, jwt, { mode: 0o600 });
    } catch (err) {
      return { error: String((err as Error).message) };
    }
    this.track(pub, jwt);
    return { changed: true };
  }

  private track(pub: string, jwt: string): void {
    const hash = createHash('sha256').update(jwt).digest();
    let expiresAt = Infinity;
    if (this.cfg.ttlMs > 0) expiresAt = this.now() + this.cfg.ttlMs;
    else {
      const g = decodeGenericJwt(jwt);
      if (g.ok && g.claims.exp > 0) expiresAt = g.claims.exp * 1000;
    }
    const old = this.index.get(pub);
    if (old !== undefined) xorInto(this.xor, old.hash);
    this.index.delete(pub);
    this.index.set(pub, { hash, expiresAt });
    xorInto(this.xor, hash);
  }

  private untrack(pub: string): void {
    const e = this.index.get(pub);
    if (e === undefined) return;
    xorInto(this.xor, e.hash);
    this.index.delete(pub);
  }

  /** A use: the cache's LRU order and `ttl` restart (expirationTracker.updateTrack). */
  private touch(pub: string): void {
    const e = this.index.get(pub);
    if (e === undefined) return;
    if (this.cfg.ttlMs > 0) e.expiresAt = this.now() + this.cfg.ttlMs;
    if (this.cfg.type === 'cache') {
      this.index.delete(pub);
      this.index.set(pub, e);
    }
  }
}

function xorInto(acc: Buffer, h: Buffer): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! ^ h[i]!;
}

/** Is `dir` unusable as the store's directory (opts.go checkDir: exists but not a directory, or not owner-executable)? */
export function badDirectory(dir: string): boolean {
  try {
    const st = statSync(dir);
    return !st.isDirectory() || (st.mode & 0o100) === 0;
  } catch {
    return false;
  }
}
