/**
 * The account JWTs in force in operator mode: what nats-server keeps as its registered
 * accounts (`s.accounts`) in front of its account resolver (server/server.go lookupAccount,
 * fetchAccountClaims, updateAccountWithClaimJWT).
 *
 * An account is looked up in the resolver — `resolver_preload` for MEMORY, the directory's file
 * for `full` and `cache` — the first time it is needed, and kept once its JWT is usable (decodes
 * as an account JWT of that subject, issued by a trusted operator key). A JWT stored later (a
 * `$SYS.REQ.CLAIMS.UPDATE`) replaces a kept account's only when it is usable too: nats-server
 * stores an update signed by an unknown key in the directory and answers `jwt updated`, but
 * the running account keeps its claims (the next start would not resolve it).
 */
import { decodeAccountJwt } from './jwt.js';
import { DirJwtStore } from './jwt-dir.js';
import type { ResolvedOperatorMode } from './types.js';

export class AccountJwts {
  /** The directory store of a `full` or `cache` resolver; null for MEMORY. */
  readonly store: DirJwtStore | null;
  private readonly trusted: ReadonlySet<string>;
  /** Accounts in use: their JWT as applied. */
  private readonly loaded = new Map<string, string>();

  constructor(readonly mode: ResolvedOperatorMode) {
    this.trusted = new Set(mode.trustedKeys);
    this.store = mode.resolver === 'MEMORY' ? null : new DirJwtStore(mode.resolver);
    this.store?.startExpiring();
    // nats-server registers the system account at startup.
    if (mode.systemAccount !== null) this.lookup(mode.systemAccount);
  }

  /** The JWT of account `name`, or undefined (the lookup hook of the operator authenticator). */
  readonly lookup = (name: string): string | undefined => {
    const kept = this.loaded.get(name);
    if (kept !== undefined) return kept;
    const jwt = this.store === null ? this.mode.preload[name] : (this.store.load(name) ?? undefined);
    if (jwt !== undefined && this.usable(name, jwt)) this.loaded.set(name, jwt);
    return jwt;
  };

  /** Is the account in use (nats-server: registered)? */
  isLoaded(name: string): boolean {
    return this.loaded.has(name);
  }

  /** A new JWT was stored for `name`: applied when the account is in use and the JWT usable. */
  apply(name: string, jwt: string): boolean {
    if (!this.loaded.has(name) || this.loaded.get(name) === jwt || !this.usable(name, jwt)) return false;
    this.loaded.set(name, jwt);
    return true;
  }

  /** The account was deleted from the resolver: it is no longer in use. */
  remove(name: string): boolean {
    return this.loaded.delete(name);
  }

  /** Every account's JWT as it is now: the stored (MEMORY: preloaded) ones, overridden by those in use. */
  all(): Record<string, string> {
    // A directory resolver stored the preloads at start: its files are the truth (a deleted one is gone).
    const out: Record<string, string> = this.store === null ? { ...this.mode.preload } : {};
    if (this.store !== null) {
      for (const pub of this.store.keys()) {
        const jwt = this.store.peek(pub);
        if (jwt !== null) out[pub] = jwt;
      }
    }
    for (const [k, v] of this.loaded) out[k] = v;
    return out;
  }

  /** Releases the store's expiry timer. */
  close(): void {
    this.store?.close();
  }

  private usable(name: string, jwt: string): boolean {
    const r = decodeAccountJwt(jwt);
    return r.ok && r.claims.sub === name && this.trusted.has(r.claims.iss);
  }
}
