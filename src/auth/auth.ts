/**
 * Client authentication, as nats-server's `processClientOrLeafAuthentication` does it for the
 * modes this broker supports. Order: nkey users (signature over the INFO nonce) → users by name
 * (plain or bcrypt password) → single token → single user/password. `no_auth_user` stands in for
 * a CONNECT without credentials. Secrets are compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { fromPublic } from '@nats-io/nkeys';
import { Permissions } from './permissions.js';
import { OperatorAuthenticator, type ConnectionFacts, type JwtLimits } from './operator.js';
import type { ResolvedAuth, ResolvedUser } from './types.js';

/** The credentials a CONNECT carried. */
export interface Credentials {
  user: string;
  pass: string;
  token: string;
  nkey: string;
  sig: string;
  /** A user JWT (operator mode). */
  jwt: string;
}

/** An authenticated user: its name (for /connz and logs) and permissions. */
export interface AuthenticatedUser {
  readonly name: string;
  readonly permissions: Permissions | null;
  /** The user's account (`$G` unless configured; the account's public key in operator mode). */
  readonly account: string;
  /** Operator mode: milliseconds until the connection must close (the JWT's `exp`), if it must. */
  readonly expiresInMs?: number;
  /** Operator mode: milliseconds until the account JWT expires, if it does. */
  readonly accountExpiresInMs?: number;
  /** Operator mode: the account's connection limit (-1 none). */
  readonly accountMaxConnections?: number;
  /** Operator mode: payload and subscription limits of the user and its account (-1 unlimited). */
  readonly limits?: JwtLimits;
}

const BCRYPT = /^\$2[abxy]\$\d{2}\$.*/;

/** nats-server's comparePasswords: bcrypt when the configured secret is a hash. */
export function comparePasswords(configured: string, given: string): boolean {
  if (configured.startsWith('$') && BCRYPT.test(configured)) {
    try {
      return bcrypt.compareSync(given, configured);
    } catch {
      return false;
    }
  }
  const a = Buffer.from(configured, 'utf8');
  const b = Buffer.from(given, 'utf8');
  // Compare in constant time; a length difference must not end the comparison early.
  const same = timingSafeEqual(a.length === b.length ? a : Buffer.alloc(a.length), a.length === b.length ? b : a);
  return same && a.length === b.length;
}

/** A fresh nonce for INFO: base64url of 11 random bytes (15 chars), as nats-server. */
export function newNonce(): string {
  return randomBytes(11).toString('base64url');
}

export class Authenticator {
  private readonly usersByName = new Map<string, ResolvedUser>();
  private readonly usersByNkey = new Map<string, ResolvedUser>();
  private readonly permissions = new Map<ResolvedUser, Permissions | null>();
  /** Operator mode: user JWTs only. */
  private readonly operator: OperatorAuthenticator | null;

  /** @param lookup operator mode: where account JWTs come from (default: `resolver_preload`) */
  constructor(readonly config: ResolvedAuth, lookup?: (name: string) => string | undefined) {
    this.operator = config.operator === undefined ? null : new OperatorAuthenticator(config.operator, lookup);
    for (const u of config.users) {
      if (u.nkey !== undefined) this.usersByNkey.set(u.nkey, u);
      else if (u.user !== undefined) this.usersByName.set(u.user, u);
      this.permissions.set(u, u.permissions === null ? null : new Permissions(u.permissions));
    }
  }

  /** Nkey users and operator mode (user JWTs) need a nonce in INFO. */
  get needsNonce(): boolean {
    return this.operator !== null || this.usersByNkey.size > 0;
  }

  /** Authenticates a CONNECT; null means `Authorization Violation`. */
  authenticate(creds: Credentials, nonce: string | null, conn: ConnectionFacts = { websocket: false, ip: '' }): AuthenticatedUser | null {
    // Operator mode: a user JWT is required, whatever else the CONNECT carries (auth.go).
    if (this.operator !== null) return this.operator.authenticate(creds.jwt, creds.sig, nonce, conn);
    const cfg = this.config;
    const c = creds;
    const anonymous = c.user === '' && c.pass === '' && c.token === '' && c.nkey === '';
    if (anonymous && cfg.noAuthUser !== null) {
      const u = this.usersByName.get(cfg.noAuthUser) ?? this.usersByNkey.get(cfg.noAuthUser);
      if (u !== undefined) return this.userFor(u);
    }
    if (this.usersByNkey.size > 0 && c.nkey !== '') {
      const u = this.usersByNkey.get(c.nkey);
      if (u === undefined || nonce === null || !verifyNonce(c.nkey, c.sig, nonce)) return null;
      return this.userFor(u);
    }
    if (this.usersByName.size > 0 && c.user !== '') {
      const u = this.usersByName.get(c.user);
      if (u === undefined) return null;
      return comparePasswords(u.password ?? '', c.pass) ? this.userFor(u) : null;
    }
    if (cfg.token !== null) return comparePasswords(cfg.token, c.token) ? { name: '', permissions: null, account: '$G' } : null;
    if (cfg.user !== null) {
      if (c.user !== cfg.user) return null;
      return comparePasswords(cfg.password ?? '', c.pass) ? { name: cfg.user, permissions: null, account: '$G' } : null;
    }
    return null;
  }

  /** Operator mode: is the user of these credentials revoked by its account now? */
  revoked(creds: Credentials): boolean {
    return this.operator !== null && this.operator.revoked(creds.jwt);
  }

  /** Operator mode: is the user's JWT a bearer token its account now refuses? */
  refusesBearer(creds: Credentials): boolean {
    return this.operator !== null && this.operator.refusesBearer(creds.jwt);
  }

  /** The user `no_auth_user` names (for clients that send ops before CONNECT). */
  noAuthUser(): AuthenticatedUser | null {
    const name = this.config.noAuthUser;
    if (name === null) return null;
    const u = this.usersByName.get(name) ?? this.usersByNkey.get(name);
    return u === undefined ? null : this.userFor(u);
  }

  private userFor(u: ResolvedUser): AuthenticatedUser {
    return { name: u.user ?? u.nkey ?? '', permissions: this.permissions.get(u) ?? null, account: u.account };
  }
}

/** Ed25519 signature of the nonce's bytes, base64url (falling back to standard base64). */
function verifyNonce(nkey: string, sig: string, nonce: string): boolean {
  if (sig === '') return false;
  try {
    const decoded = /[+/=]/.test(sig) ? Buffer.from(sig, 'base64') : Buffer.from(sig, 'base64url');
    return fromPublic(nkey).verify(new TextEncoder().encode(nonce), decoded);
  } catch {
    return false;
  }
}
