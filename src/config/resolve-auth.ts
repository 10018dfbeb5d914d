/**
 * Validation of the authentication options: `authorization`, `accounts` and `noAuthUser`,
 * resolved together into a `ResolvedAuth` (every user, with its account and permissions) and
 * the list of configured account names.
 *
 * The rules follow nats-server v2.10.29's server/opts.go (parseAuthorization, parseUsers,
 * parseAccounts, parseUserPermissions, parseAllowResponses) and server/auth.go
 * (validateNoAuthUser, the auth timeout with TLS): a user has exactly one of a name or an nkey,
 * names are unique across accounts, `no_auth_user` must name a configured user, and users
 * without permissions of their own take the block's default permissions.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { DEFAULTS } from '../protocol/constants.js';
import type { ResolvedAuth, ResolvedPermissions, ResolvedUser, SubjectPermission } from '../auth/types.js';
import type { ResolvedAccountJetStream, ResolvedAccountLinks, ResolvedTls } from './types.js';
import { resolveAccountLinks } from './resolve-imports.js';
import { INT32_MAX, checkKeys, child, object, objectWithKeys, optBool, optDuration, optInt } from './validate.js';

const AUTH_KEYS: ReadonlySet<string> = new Set(['token', 'user', 'password', 'users', 'defaultPermissions', 'timeout']);
const USER_KEYS: ReadonlySet<string> = new Set(['user', 'password', 'nkey', 'permissions']);
const PERM_KEYS: ReadonlySet<string> = new Set(['publish', 'subscribe', 'allowResponses']);
const ACCOUNT_KEYS: ReadonlySet<string> = new Set(['users', 'jetstream', 'exports', 'imports']);
const ACCOUNT_JS_KEYS: ReadonlySet<string> = new Set([
  'maxMemory', 'maxStore', 'maxStreams', 'maxConsumers', 'maxAckPending', 'memoryMaxStreamBytes', 'storeMaxStreamBytes', 'maxBytesRequired',
]);

/** nats-server's dynamicJSAccountLimits: `jetstream: enabled` without limits. */
const UNLIMITED_ACCOUNT: ResolvedAccountJetStream = {
  maxMemory: -1, maxStore: -1, maxStreams: -1, maxConsumers: -1, maxAckPending: -1,
  memoryMaxStreamBytes: -1, storeMaxStreamBytes: -1, maxBytesRequired: false,
};

/** An account's `jetstream`: null when it has none (nats-server's parseJetStreamForAccount). */
function accountJetStream(value: unknown, path: string): ResolvedAccountJetStream | null {
  if (value === undefined || value === false) return null;
  if (value === true) return UNLIMITED_ACCOUNT;
  const o = objectWithKeys(value, path, ACCOUNT_JS_KEYS);
  // nats-server takes any int64; -1 (and any negative size) is unlimited.
  const int = (k: string): number => optInt(o[k], child(path, k), -1, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  return {
    maxMemory: int('maxMemory'),
    maxStore: int('maxStore'),
    maxStreams: int('maxStreams'),
    maxConsumers: int('maxConsumers'),
    maxAckPending: int('maxAckPending'),
    memoryMaxStreamBytes: int('memoryMaxStreamBytes'),
    storeMaxStreamBytes: int('storeMaxStreamBytes'),
    maxBytesRequired: optBool(o.maxBytesRequired, child(path, 'maxBytesRequired'), false),
  };
}
const SUBJECT_KEYS: ReadonlySet<string> = new Set(['allow', 'deny']);

/** nats-server's default for `allow_responses: true` (DEFAULT_ALLOW_RESPONSE_EXPIRATION). */
const ALLOW_RESPONSES_EXPIRES_MS = 2 * 60 * 1000;

/** A user as given, with where it came from. */
interface UserInput {
  readonly user: unknown;
  readonly account: string;
  readonly at: string;
}

/**
 * `authorization`, `noAuthUser` and `accounts` (as given) into the resolved auth, null when no
 * authentication is configured. Users of accounts alone (no `authorization` block) still turn
 * authentication on, as in nats-server.
 */
export function resolveAccountsAndAuth(
  authorization: unknown,
  noAuthUser: unknown,
  accounts: unknown,
  tls: ResolvedTls | null,
): {
  auth: ResolvedAuth | null;
  accountNames: string[];
  accountJetStream: Record<string, ResolvedAccountJetStream>;
  accountLinks: Record<string, ResolvedAccountLinks>;
} {
  // With TLS the client has the handshake time plus one second to authenticate (nats-server).
  const authTimeoutMs = tls === null ? DEFAULTS.authTimeoutMs : tls.timeoutMs + 1000;
  if (accounts === undefined) return { auth: resolveAuth(authorization, noAuthUser, [], authTimeoutMs), accountNames: [], accountJetStream: {}, accountLinks: {} };
  const names: string[] = [];
  const users: UserInput[] = [];
  const js: Record<string, ResolvedAccountJetStream> = {};
  for (const [name, value] of Object.entries(object(accounts, 'accounts'))) {
    const at = `accounts.${name}`;
    if (name === '' || /\s/.test(name)) throw new ConfigError(at, 'account names must be non-empty, without spaces');
    // nats-server's isReservedAccount: the global account is not configured, it is there.
    if (name === '$G') throw new ConfigError(at, '"$G" is a Reserved Account');
    const a = objectWithKeys(value, at, ACCOUNT_KEYS);
    if (a.users !== undefined && !Array.isArray(a.users)) throw new ConfigError(`${at}.users`, 'must be an array');
    names.push(name);
    for (const [i, u] of ((a.users as unknown[] | undefined) ?? []).entries()) users.push({ user: u, account: name, at: `${at}.users[${i}]` });
    const limits = accountJetStream(a.jetstream, `${at}.jetstream`);
    if (limits !== null) js[name] = limits;
  }
  return {
    auth: resolveAuth(authorization ?? (users.length > 0 ? {} : undefined), noAuthUser, users, authTimeoutMs),
    accountNames: names,
    accountJetStream: js,
    accountLinks: resolveAccountLinks(accounts as Record<string, unknown>, names),
  };
}

/** A non-empty string, or null when not given. */
function secret(v: unknown, path: string): string | null {
  if (v === undefined) return null;
  if (typeof v !== 'string' || v === '') throw new ConfigError(path, 'must be a non-empty string');
  return v;
}

function resolveAuth(
  value: unknown,
  noAuthUser: unknown,
  accountUsers: readonly UserInput[],
  defaultTimeoutMs: number,
): ResolvedAuth | null {
  if (value === undefined) {
    if (noAuthUser !== undefined) throw new ConfigError('noAuthUser', 'needs authorization.users');
    return null;
  }
  const a = objectWithKeys(value, 'authorization', AUTH_KEYS);
  const token = secret(a.token, 'authorization.token');
  const user = secret(a.user, 'authorization.user');
  const password = secret(a.password, 'authorization.password');
  if (token !== null && user !== null) throw new ConfigError('authorization.token', 'cannot be combined with user/password');
  const defaults = a.defaultPermissions === undefined ? null : resolvePermissions(a.defaultPermissions, 'authorization.defaultPermissions');
  const usersValue = a.users ?? [];
  if (!Array.isArray(usersValue)) throw new ConfigError('authorization.users', 'must be an array');
  const all: UserInput[] = [
    ...usersValue.map((u: unknown, i) => ({ user: u, account: '$G', at: `authorization.users[${i}]` })),
    ...accountUsers,
  ];
  const users = all.map(({ user: u, account, at }) => resolveUser(u, account, at, defaults));
  const names = new Set<string>();
  for (const u of users) {
    const key = u.user ?? u.nkey!;
    if (names.has(key)) throw new ConfigError('authorization.users', `duplicate user "${key}"`);
    names.add(key);
  }
  let nau: string | null = null;
  if (noAuthUser !== undefined) {
    nau = secret(noAuthUser, 'noAuthUser');
    if (!users.some((u) => u.user === nau || u.nkey === nau)) throw new ConfigError('noAuthUser', `"${nau}" is not one of authorization.users`);
  }
  if (token === null && user === null && users.length === 0) {
    throw new ConfigError('authorization', 'needs a token, a user/password or users');
  }
  return {
    token,
    user,
    password,
    users,
    timeoutMs: optDuration(a.timeout, 'authorization.timeout', defaultTimeoutMs),
    noAuthUser: nau,
  };
}

function resolveUser(value: unknown, account: string, at: string, defaults: ResolvedPermissions | null): ResolvedUser {
  const r = objectWithKeys(value, at, USER_KEYS);
  const name = secret(r.user, `${at}.user`);
  const nkey = secret(r.nkey, `${at}.nkey`);
  if ((name === null) === (nkey === null)) throw new ConfigError(at, 'needs exactly one of user or nkey');
  if (nkey !== null && !/^U[A-Z2-7]{55}$/.test(nkey)) throw new ConfigError(`${at}.nkey`, 'must be a public user nkey (U...)');
  const permissions = r.permissions === undefined ? defaults : resolvePermissions(r.permissions, `${at}.permissions`);
  const password = secret(r.password, `${at}.password`);
  return {
    ...(name !== null ? { user: name } : {}),
    ...(nkey !== null ? { nkey } : {}),
    ...(password !== null ? { password } : {}),
    permissions,
    account,
  };
}

/** Subjects as one, a list, or `{ allow, deny }` lists (nats-server's parseSubjectPermission). */
function subjectPermission(v: unknown, path: string): SubjectPermission | undefined {
  if (v === undefined) return undefined;
  const isList = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string' && s.length > 0);
  if (typeof v === 'string' && v.length > 0) return v;
  if (isList(v)) return v;
  // An array that is not a list of subjects is checked as a map too: its indices are unknown keys.
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    checkKeys(o, path, SUBJECT_KEYS, 'unknown option (allow or deny)');
    if (o.allow !== undefined && !isList(o.allow)) throw new ConfigError(`${path}.allow`, 'must be an array of subjects');
    if (o.deny !== undefined && !isList(o.deny)) throw new ConfigError(`${path}.deny`, 'must be an array of subjects');
    return { ...(o.allow !== undefined ? { allow: o.allow as string[] } : {}), ...(o.deny !== undefined ? { deny: o.deny as string[] } : {}) };
  }
  throw new ConfigError(path, 'must be a subject, a list of subjects, or { allow, deny }');
}

function resolvePermissions(value: unknown, at: string): ResolvedPermissions {
  const p = objectWithKeys(value, at, PERM_KEYS);
  const out: { -readonly [K in keyof ResolvedPermissions]: ResolvedPermissions[K] } = {};
  const pub = subjectPermission(p.publish, child(at, 'publish'));
  const sub = subjectPermission(p.subscribe, child(at, 'subscribe'));
  if (pub !== undefined) out.publish = pub;
  if (sub !== undefined) out.subscribe = sub;
  const ar = p.allowResponses;
  if (ar !== undefined) {
    const path = child(at, 'allowResponses');
    if (typeof ar === 'boolean') out.allowResponses = ar;
    else if (ar !== null && typeof ar === 'object' && !Array.isArray(ar)) {
      // Other keys are not refused here (they never were); the config file's reader refuses them.
      const r = ar as Record<string, unknown>;
      out.allowResponses = {
        max: optInt(r.max, child(path, 'max'), 1, 0, INT32_MAX),
        expiresMs: optDuration(r.expires, child(path, 'expires'), ALLOW_RESPONSES_EXPIRES_MS),
      };
    } else throw new ConfigError(path, 'must be a boolean or { max, expires }');
  }
  return out;
}

/** nats-server's default system account, created when no other is named (`DEFAULT_SYSTEM_ACCOUNT`). */
export const DEFAULT_SYSTEM_ACCOUNT = '$SYS';

/**
 * The system account without operator mode, as nats-server's startup picks it: `system_account`
 * when given (it must be a configured account: "error resolving system account: account
 * missing"), else a configured `$SYS`, else the `$SYS` account nats-server creates — unless
 * `no_system_account` (server.go: a named system account still wins over it): then none.
 */
export function resolveSystemAccount(systemAccount: unknown, accountNames: readonly string[], noSystemAccount: unknown = undefined): string | null {
  if (noSystemAccount !== undefined && typeof noSystemAccount !== 'boolean') throw new ConfigError('noSystemAccount', 'must be a boolean');
  if (systemAccount === undefined || systemAccount === '') return noSystemAccount === true ? null : DEFAULT_SYSTEM_ACCOUNT;
  if (typeof systemAccount !== 'string') throw new ConfigError('systemAccount', 'must be a string');
  if (systemAccount !== DEFAULT_SYSTEM_ACCOUNT && !accountNames.includes(systemAccount)) {
    throw new ConfigError('systemAccount', 'error resolving system account: account missing');
  }
  return systemAccount;
}

/**
 * Only the system account configured (its users to administer the server), no `authorization`
 * block and no `no_auth_user`: nats-server (server.go configureAccounts) adds a user of the
 * global account and makes it the `no_auth_user`, so that other clients still connect without
 * credentials, into `$G`. Its name is `nats-` and 8 characters, here derived from the configured
 * users (stable across reloads); its password is never used.
 */
export function withGlobalNoAuthUser(auth: ResolvedAuth): ResolvedAuth {
  const digest = createHash('sha256').update(JSON.stringify(auth.users)).digest('hex');
  const name = `nats-${digest.slice(0, 8)}`;
  const user: ResolvedUser = { user: name, password: digest.slice(8, 16), permissions: null, account: '$G' };
  return { ...auth, users: [...auth.users, user], noAuthUser: name };
}
