/**
 * The option types of authentication: the `authorization` block and its users as given to
 * `createServer()`, and as validated (`ResolvedAuth`, `ResolvedUser`), which is what
 * `auth.ts` works from. They live here, in the auth layer, so that `auth/` imports nothing
 * from `config/` (config, the upper layer, validates into these types and re-exports them).
 *
 * The block follows nats-server's `authorization { ... }` (server/opts.go parseAuthorization,
 * parseUsers): one of a token, a single user/password, or a list of users, each with optional
 * permissions.
 */
import type { PermissionsOptions, ResolvedPermissions } from './permissions.js';

export type { PermissionsOptions, ResolvedPermissions, SubjectPermission } from './permissions.js';

/**
 * A duration: milliseconds as a number, or a Go-style duration string as nats-server's
 * config accepts (`"2m"`, `"10s"`, `"500ms"`, `"1h30m"`).
 *
 * Declared here, the lowest layer whose options carry one (`authorization.timeout`); the
 * config layer re-exports it.
 */
export type Duration = number | string;

/** A user of the `authorization` block. */
export interface UserOptions {
  /** User name (with `password`), or leave out and give `nkey`. */
  user?: string;
  /** Plain text or a bcrypt hash (`$2a$...`). */
  password?: string;
  /** Public user nkey (`U...`): the client signs the INFO nonce with its seed. */
  nkey?: string;
  permissions?: PermissionsOptions;
}

/** The `authorization` block: one of token, user/password, or a users list. */
export interface AuthorizationOptions {
  token?: string;
  user?: string;
  password?: string;
  users?: UserOptions[];
  /** Permissions of users that have none of their own. */
  defaultPermissions?: PermissionsOptions;
  /** Time a client has to authenticate (CONNECT). Default 2 s. */
  timeout?: Duration;
}

/** A user after validation. */
export interface ResolvedUser {
  readonly user?: string;
  readonly password?: string;
  readonly nkey?: string;
  readonly permissions: ResolvedPermissions | null;
  /** The account the user belongs to (`$G` unless configured). */
  readonly account: string;
}

/**
 * Operator (decentralised JWT) mode after validation: nats-server's trusted operators, the
 * system account and the MEMORY account resolver with its preloaded account JWTs.
 */
export interface ResolvedOperatorMode {
  /** The operators' JWTs (the file contents or the inline JWT), in order. */
  readonly operatorJwts: readonly string[];
  /** Keys whose signature makes an account JWT trusted: each operator's own (unless strict) and its signing keys. */
  readonly trustedKeys: readonly string[];
  /** The signing keys of operators with `strict_signing_key_usage`: accounts they issued sign no users with their own key. */
  readonly strictSigningKeys: readonly string[];
  /** The system account's public key, or null (none in the options nor in the operator JWT). */
  readonly systemAccount: string | null;
  /** Where account JWTs come from: the memory resolver, or a directory of account JWTs. */
  readonly resolver: 'MEMORY' | ResolvedDirResolver;
  /** Account public key → account JWT (`resolver_preload`; a directory resolver stores them in its directory). */
  readonly preload: Readonly<Record<string, string>>;
}

/**
 * A directory account resolver after validation (nats-server's `DirAccResolver`, `type: full`,
 * and `CacheDirAccResolver`, `type: cache`): one `<account public key>.jwt` file per account.
 */
export interface ResolvedDirResolver {
  readonly type: 'full' | 'cache';
  /** The directory, absolute (created when missing). */
  readonly dir: string;
  /** What `$SYS.REQ.CLAIMS.DELETE` does: refused (`none`), renames to `.jwt.deleted`, or removes the file. */
  readonly delete: 'none' | 'rename' | 'hard';
  /** The most files kept; 0: no limit. The full resolver refuses more, the cache evicts the least recently used. */
  readonly limit: number;
  /** Full resolver: how often nats-server compares stores with its peers (accepted; see README). */
  readonly intervalMs: number;
  /** Cache: how long a file is kept after its last use; 0: until the JWT expires. */
  readonly ttlMs: number;
  /** How long a lookup of a missing account waits for other servers (accepted; see README). */
  readonly timeoutMs: number;
}

/** The `authorization` block after validation. */
export interface ResolvedAuth {
  readonly token: string | null;
  readonly user: string | null;
  readonly password: string | null;
  readonly users: readonly ResolvedUser[];
  readonly timeoutMs: number;
  readonly noAuthUser: string | null;
  /** Operator mode: clients authenticate with user JWTs only (the other credentials are not looked at). */
  readonly operator?: ResolvedOperatorMode;
}
