/**
 * Client authentication, as nats-server's `processClientOrLeafAuthentication` does it for the
 * modes this broker supports. Order: nkey users (signature over the INFO nonce) → users by name
 * (plain or bcrypt password; or the user a TLS client certificate names, `verify_and_map`) →
 * single token → single user/password. `no_auth_user` stands in for a CONNECT without
 * credentials. Websocket clients may have credentials of their own (`forWebSocket`). Secrets
 * are compared in constant time.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { fromPublic } from '@nats-io/nkeys';
import { Permissions } from './permissions.js';
import { OperatorAuthenticator, decodeSig, type ConnectionFacts, type JwtLimits } from './operator.js';
import type { AccountLookup } from './jwt.js';
import { certNames, certNamesInclude, mapCertificate } from './cert-map.js';
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

/**
 * Whether a server-to-server link (a route, a gateway) may connect: nats-server's
 * isRouterAuthorized and isGatewayAuthorized. Without a configured user any credentials (or
 * none) pass. With `tlsMap` (`verifyAndMap`), the peer's certificate (`cert`, DER) must name
 * the configured user instead, whatever the CONNECT says; without a user nothing passes.
 */
export function linkAuthorized(
  auth: { readonly user: string; readonly password: string } | null,
  connect: Record<string, unknown>,
  tlsMap: boolean,
  cert: () => Buffer | null,
): boolean {
  if (tlsMap) {
    const der = cert();
    const names = der === null ? null : certNames(der);
    return names !== null && certNamesInclude(names, auth?.user ?? '');
  }
  if (auth === null) return true;
  const user = typeof connect.user === 'string' ? connect.user : '';
  const pass = typeof connect.pass === 'string' ? connect.pass : '';
  return user === auth.user && comparePasswords(auth.password, pass);
}

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

/** What authentication may look at besides the CONNECT: the connection's kind, address and certificate. */
export interface ClientFacts extends ConnectionFacts {
  /** The client's TLS certificate (DER), read only for `verify_and_map`; null or absent without one. */
  readonly cert?: () => Buffer | null;
}

/** How one kind of connection authenticates, besides the `authorization` block. */
export interface AuthenticatorSettings {
  /** `verify_and_map`: with users configured, the client certificate names the user. */
  readonly tlsMap?: boolean;
  /**
   * The `no_auth_user` that lets a client send other ops before CONNECT (nats-server's parser
   * looks at the top-level one, also for websocket clients). Default: the config's.
   */
  readonly preConnectNoAuthUser?: string | null;
  /** Operator mode: where account JWTs come from (default: `resolver_preload`). */
  readonly lookup?: AccountLookup;
}

/** Websocket-only credentials (nats-server's websocket auth override), as the config resolves them. */
export interface WebSocketAuthOverride {
  readonly user: string | null;
  readonly password: string | null;
  readonly token: string | null;
  readonly noAuthUser: string | null;
}

export class Authenticator {
  private readonly usersByName = new Map<string, ResolvedUser>();
  private readonly usersByNkey = new Map<string, ResolvedUser>();
  private readonly permissions = new Map<ResolvedUser, Permissions | null>();
  /** Operator mode: user JWTs only. */
  private readonly operator: OperatorAuthenticator | null;
  private readonly tlsMap: boolean;
  private readonly preConnectNoAuthUser: string | null;

  constructor(
    readonly config: ResolvedAuth,
    settings: AuthenticatorSettings = {},
  ) {
    this.operator = config.operator === undefined ? null : new OperatorAuthenticator(config.operator, settings.lookup);
    this.tlsMap = settings.tlsMap ?? false;
    this.preConnectNoAuthUser = settings.preConnectNoAuthUser === undefined ? config.noAuthUser : settings.preConnectNoAuthUser;
    for (const u of config.users) {
      if (u.nkey !== undefined) this.usersByNkey.set(u.nkey, u);
      else if (u.user !== undefined) this.usersByName.set(u.user, u);
      this.permissions.set(u, u.permissions === null ? null : new Permissions(u.permissions));
    }
  }

  /**
   * The authenticator of websocket clients (auth.go processClientOrLeafAuthentication and
   * websocket.go createWSClient): with an override, its user/password, token and no_auth_user
   * replace the top-level ones (the users, nkeys and operator mode stay); the certificate
   * mapping is always the websocket TLS block's; the websocket auth timeout, when set, replaces
   * the top-level one. Null: websocket clients need no authentication.
   */
  static forWebSocket(
    global: ResolvedAuth | null,
    override: WebSocketAuthOverride | null,
    timeoutMs: number | null,
    tlsMap: boolean,
    defaultTimeoutMs: number,
    lookup?: AccountLookup,
  ): Authenticator | null {
    if (global === null && override === null) return null;
    const base: ResolvedAuth = global ?? { token: null, user: null, password: null, users: [], timeoutMs: defaultTimeoutMs, noAuthUser: null };
    const config: ResolvedAuth = {
      ...base,
      ...(override === null ? {} : { token: override.token, user: override.user, password: override.password, noAuthUser: override.noAuthUser }),
      timeoutMs: timeoutMs !== null && timeoutMs > 0 ? timeoutMs : base.timeoutMs,
    };
    return new Authenticator(config, { tlsMap, preConnectNoAuthUser: global?.noAuthUser ?? null, lookup });
  }

  /** Nkey users and operator mode (user JWTs) need a nonce in INFO. */
  get needsNonce(): boolean {
    return this.operator !== null || this.usersByNkey.size > 0;
  }

  /**
   * Authenticates a CONNECT; null means `Authorization Violation`. The order is auth.go's:
   * operator mode; nkeys (a no_auth_user nkey stands in for no credentials); with users, the
   * certificate's user under `verify_and_map`, else the user named (or no_auth_user); then
   * the single token or user.
   */
  authenticate(creds: Credentials, nonce: string | null, conn: ClientFacts = { websocket: false, ip: '' }): AuthenticatedUser | null {
    // Operator mode: a user JWT is required, whatever else the CONNECT carries (auth.go).
    if (this.operator !== null) return this.operator.authenticate(creds.jwt, creds.sig, nonce, conn);
    const cfg = this.config;
    const c = creds;
    const noAuth = cfg.noAuthUser;
    if (this.usersByNkey.size > 0) {
      let nkey = c.nkey;
      if (noAuth !== null && c.user === '' && c.pass === '' && c.token === '' && nkey === '' && this.usersByNkey.has(noAuth)) nkey = noAuth;
      if (nkey !== '') {
        const u = this.usersByNkey.get(nkey);
        if (u === undefined) return null;
        // The no_auth_user nkey needs no signature.
        if (nkey !== noAuth && (nonce === null || !verifyNonce(nkey, c.sig, nonce))) return null;
        return this.userFor(u);
      }
    }
    if (this.usersByName.size > 0) {
      if (this.tlsMap) {
        const der = conn.cert?.() ?? null;
        const names = der === null ? null : certNames(der);
        const name = names === null ? null : mapCertificate(names, this.usersByName);
        const u = name === null ? undefined : this.usersByName.get(name);
        if (u === undefined) return null;
        return comparePasswords(u.password ?? '', c.pass) ? this.userFor(u) : null;
      }
      if (noAuth !== null && c.user === '' && c.pass === '' && c.token === '') {
        const u = this.usersByName.get(noAuth);
        if (u !== undefined) return this.userFor(u);
      }
      if (c.user !== '') {
        const u = this.usersByName.get(c.user);
        if (u === undefined) return null;
        return comparePasswords(u.password ?? '', c.pass) ? this.userFor(u) : null;
      }
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

  /**
   * The user a client that sends other ops before CONNECT becomes (parser.go: the top-level
   * `no_auth_user`, looked up among the users with a name only — an nkey user named there serves
   * credential-less CONNECTs, yet an op before CONNECT is still a violation), or null: such a
   * client violates authorization.
   */
  noAuthUser(): AuthenticatedUser | null {
    const name = this.preConnectNoAuthUser;
    if (name === null) return null;
    const u = this.usersByName.get(name);
    return u === undefined ? null : this.userFor(u);
  }

  private userFor(u: ResolvedUser): AuthenticatedUser {
    return { name: u.user ?? u.nkey ?? '', permissions: this.permissions.get(u) ?? null, account: u.account };
  }
}

/** Ed25519 signature of the nonce's bytes, raw base64url or standard base64. */
export function verifyNonce(nkey: string, sig: string, nonce: string): boolean {
  if (sig === '') return false;
  // Node's decoder skips characters outside the alphabet; Go's refuses them ("Signature not valid base64").
  const decoded = decodeSig(sig);
  if (decoded === null) return false;
  try {
    return fromPublic(nkey).verify(new TextEncoder().encode(nonce), decoded);
  } catch {
    return false;
  }
}
