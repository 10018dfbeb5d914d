/**
 * The `leafnodes` block: nats-server 2.10's opts.go parseLeafNodes / parseLeafAuthorization /
 * parseRemoteLeafNodes and leafnode.go validateLeafNode, for the parts nats-embedded supports
 * (listener, advertise, authorization with one user or a users list bound to accounts, remotes
 * with URLs, a credentials file and a local account, the reconnect interval).
 */
import { ConfigError } from '../errors.js';
import { DEFAULTS } from '../protocol/constants.js';
import type { LeafRemoteUrl, ResolvedLeafNodes } from './types.js';
import { isValidSubscribeSubject } from '../subject/subject.js';
import { child, describe, objectWithKeys, optBool, optDuration, optPort, optString } from './validate.js';

const LEAF_KEYS: ReadonlySet<string> = new Set(['host', 'port', 'advertise', 'noAdvertise', 'authorization', 'remotes', 'reconnect']);
const LEAF_AUTH_KEYS: ReadonlySet<string> = new Set(['user', 'password', 'account', 'users', 'timeout']);
const LEAF_USER_KEYS: ReadonlySet<string> = new Set(['user', 'password', 'account']);
const REMOTE_KEYS: ReadonlySet<string> = new Set(['url', 'urls', 'credentials', 'account', 'denyImports', 'denyExports', 'hub']);

/** nats-server's DEFAULT_LEAF_NODE_RECONNECT. */
export const LEAF_RECONNECT_MS = 1000;

/**
 * The `leafnodes` block. `serverHost` is the listener's default host; `accounts` the configured
 * account names (an account named in the block must exist, as nats-server checks).
 */
export function resolveLeafNodes(value: unknown, path: string, serverHost: string, accounts: readonly string[]): ResolvedLeafNodes {
  const l = objectWithKeys(value, path, LEAF_KEYS);
  const known = (name: string, p: string): string => {
    if (name !== '$G' && !accounts.includes(name)) throw new ConfigError(p, `cannot find local account "${name}" specified in leafnode authorization`);
    return name;
  };
  const listen = l.port === undefined && l.host === undefined ? null : {
    host: optString(l.host, child(path, 'host'), serverHost) || serverHost,
    port: optPort(l.port, child(path, 'port')),
  };
  let authorization: ResolvedLeafNodes['authorization'] = null;
  let authTimeoutMs: number = DEFAULTS.authTimeoutMs;
  if (l.authorization !== undefined) {
    const ap = child(path, 'authorization');
    const a = objectWithKeys(l.authorization, ap, LEAF_AUTH_KEYS);
    const user = optString(a.user, child(ap, 'user'), '');
    const usersValue = a.users ?? [];
    if (!Array.isArray(usersValue)) throw new ConfigError(child(ap, 'users'), 'must be an array of users');
    // leafnode.go validateLeafNodeAuthOptions.
    if (user !== '' && usersValue.length > 0) throw new ConfigError(ap, 'can not have a single user/pass and a users array');
    const users = usersValue.map((u: unknown, i) => {
      const up = `${child(ap, 'users')}[${i}]`;
      const o = objectWithKeys(u, up, LEAF_USER_KEYS);
      const name = optString(o.user, child(up, 'user'), '');
      if (name === '') throw new ConfigError(child(up, 'user'), 'must be a non-empty user name');
      return {
        user: name,
        password: optString(o.password, child(up, 'password'), ''),
        account: known(optString(o.account, child(up, 'account'), '$G') || '$G', child(up, 'account')),
      };
    });
    const seen = new Set<string>();
    for (const u of users) {
      if (seen.has(u.user)) throw new ConfigError(child(ap, 'users'), `duplicate user "${u.user}" detected in leafnode authorization`);
      seen.add(u.user);
    }
    authorization = {
      user: user === '' ? null : user,
      password: optString(a.password, child(ap, 'password'), ''),
      account: known(optString(a.account, child(ap, 'account'), '$G') || '$G', child(ap, 'account')),
      users,
    };
    if (authorization.user === null && users.length === 0 && a.account === undefined) authorization = null;
    authTimeoutMs = optDuration(a.timeout, child(ap, 'timeout'), DEFAULTS.authTimeoutMs);
  }
  const remotesValue = l.remotes ?? [];
  if (!Array.isArray(remotesValue)) throw new ConfigError(child(path, 'remotes'), 'must be an array of remotes');
  const remotes = remotesValue.map((r: unknown, i) => {
    const rp = `${child(path, 'remotes')}[${i}]`;
    const o = objectWithKeys(r, rp, REMOTE_KEYS);
    const list: unknown[] = [];
    if (o.url !== undefined) list.push(o.url);
    if (o.urls !== undefined) {
      if (!Array.isArray(o.urls)) throw new ConfigError(child(rp, 'urls'), 'must be an array of URLs');
      list.push(...(o.urls as unknown[]));
    }
    if (list.length === 0) throw new ConfigError(rp, 'needs a url or urls');
    const credentials = o.credentials === undefined ? null : optString(o.credentials, child(rp, 'credentials'), '');
    if (credentials === '') throw new ConfigError(child(rp, 'credentials'), 'must be a file path');
    return {
      urls: list.map((u, j) => parseLeafUrl(u, `${child(rp, o.url !== undefined && j === 0 ? 'url' : 'urls')}${o.url !== undefined && j === 0 ? '' : `[${o.url !== undefined ? j - 1 : j}]`}`)),
      credentials,
      account: known(optString(o.account, child(rp, 'account'), '$G') || '$G', child(rp, 'account')),
      denyImports: subjectList(o.denyImports, child(rp, 'denyImports')),
      denyExports: subjectList(o.denyExports, child(rp, 'denyExports')),
      hub: optBool(o.hub, child(rp, 'hub'), false),
    };
  });
  const advertise = optString(l.advertise, child(path, 'advertise'), '');
  return {
    listen,
    advertise: advertise === '' ? null : advertise,
    noAdvertise: optBool(l.noAdvertise, child(path, 'noAdvertise'), false),
    authorization,
    authTimeoutMs,
    remotes,
    reconnectMs: optDuration(l.reconnect, child(path, 'reconnect'), LEAF_RECONNECT_MS),
  };
}

/** `nats-leaf://[user:pass@]host:port` (also `nats://`, `tls://`, `ws://`; a bare `host:port`). */
/** A remote's deny list: subjects, wildcards allowed (nats-server checks them as permission subjects). */
function subjectList(value: unknown, path: string): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(path, 'must be an array of subjects');
  return value.map((s: unknown, i) => {
    if (typeof s !== 'string' || !isValidSubscribeSubject(s)) throw new ConfigError(`${path}[${i}]`, `must be a valid subject, got ${describe(s)}`);
    return s;
  });
}

export function parseLeafUrl(value: unknown, option: string): LeafRemoteUrl {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(option, `must be a URL string, got ${describe(value)}`);
  const text = value.includes('://') ? value : `nats-leaf://${value}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ConfigError(option, `invalid leafnode URL "${value}"`);
  }
  if (!['nats-leaf:', 'nats:', 'tls:', 'ws:', 'leafnode:'].includes(u.protocol)) {
    throw new ConfigError(option, `unsupported scheme in "${value}" (use nats-leaf://host:port or ws://host:port; wss:// is not supported yet)`);
  }
  const ws = u.protocol === 'ws:';
  if (u.protocol === 'tls:') throw new ConfigError(option, 'TLS on leaf node connections is not supported by nats-embedded yet');
  // nats-server: a leafnode URL without a port gets the default leafnode port (7422), a websocket one 80.
  const port = u.port === '' ? (ws ? 80 : 7422) : Number(u.port);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return {
    url: `${ws ? 'ws' : 'nats-leaf'}://${u.host}${ws && u.port === '' ? ':80' : ''}`,
    host,
    port,
    ws,
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { pass: decodeURIComponent(u.password) } : {}),
  };
}
