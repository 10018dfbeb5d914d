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
 *
 * The bootstrapping system account (server.go NewServer): with one operator and a directory
 * resolver, a system account whose JWT is missing or not usable at start is registered
 * without one — no limits, its users signed by its own key — until its JWT arrives (the
 * claims service fetches it every second, {@link AccountJwts.adoptSystemAccount}).
 */
import { bareAccountClaims, decodeAccountJwt, decodeUserJwt, isPublicKey, type AccountClaims } from './jwt.js';
import { DirJwtStore } from './jwt-dir.js';
import type { ResolvedOperatorMode } from './types.js';

export class AccountJwts {
  /** The directory store of a `full` or `cache` resolver; null for MEMORY. */
  readonly store: DirJwtStore | null;
  private readonly trusted: ReadonlySet<string>;
  /** Accounts in use: their JWT as applied. */
  private readonly loaded = new Map<string, string>();
  /** The bootstrapping system account's claims while it has no JWT; null otherwise. */
  private bootstrap: AccountClaims | null = null;

  constructor(readonly mode: ResolvedOperatorMode) {
    this.trusted = new Set(mode.trustedKeys);
    this.store = mode.resolver === 'MEMORY' ? null : new DirJwtStore(mode.resolver);
    this.store?.startExpiring();
    // nats-server registers the system account at startup.
    const sys = mode.systemAccount;
    if (sys !== null) {
      this.lookup(sys);
      if (!this.loaded.has(sys) && this.store !== null && mode.operatorJwts.length === 1) {
        // Issued by the operator (TrustedOperators[0].Issuer: its own key).
        const op = mode.trustedKeys[0] ?? '';
        this.bootstrap = bareAccountClaims(sys, op);
      }
    }
  }

  /** The JWT of account `name` (the bootstrapping system account's claims), or undefined: the lookup hook of the operator authenticator. */
  readonly lookup = (name: string): string | AccountClaims | undefined => {
    const kept = this.loaded.get(name);
    if (kept !== undefined) return kept;
    if (this.bootstrap !== null && name === this.bootstrap.sub) return this.bootstrap;
    const jwt = this.store === null ? this.mode.preload[name] : (this.store.load(name) ?? undefined);
    if (jwt !== undefined && this.usable(name, jwt)) this.loaded.set(name, jwt);
    return jwt;
  };

  /** Is the system account still the bootstrapping one (no JWT yet)? */
  get bootstrapping(): boolean {
    return this.bootstrap !== null;
  }

  /** The system account's JWT arrived: it replaces the bootstrapping account when usable (updateAccountWithClaimJWT). */
  adoptSystemAccount(jwt: string): boolean {
    const b = this.bootstrap;
    if (b === null || !this.usable(b.sub, jwt)) return false;
    this.bootstrap = null;
    this.loaded.set(b.sub, jwt);
    return true;
  }

  /**
   * The account a CONNECT with this user JWT needs that the directory does not have: the
   * server asks the other servers for it before authenticating (DirAccResolver.Fetch), or
   * null (not a directory resolver, a user JWT that does not decode, an account known here).
   */
  missingAccount(userJwt: string): string | null {
    if (this.store === null || userJwt === '') return null;
    const d = decodeUserJwt(userJwt);
    if (!d.ok) return null;
    const name = d.claims.nats.issuerAccount !== '' ? d.claims.nats.issuerAccount : d.claims.iss;
    if (!isPublicKey(name, 'A') || this.loaded.has(name) || (this.bootstrap !== null && this.bootstrap.sub === name)) return null;
    return this.store.peek(name) === null ? name : null;
  }

  /** Is the account in use (nats-server: registered)? */
  isLoaded(name: string): boolean {
    return this.loaded.has(name);
  }

  /** A new JWT was stored for `name`: applied when the account is in use and the JWT usable. */
  apply(name: string, jwt: string): boolean {
    if (this.bootstrap !== null && name === this.bootstrap.sub) return this.adoptSystemAccount(jwt);
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
