/**
 * The `leafnodes` block: nats-server 2.10's opts.go parseLeafNodes / parseLeafAuthorization /
 * parseRemoteLeafNodes and leafnode.go validateLeafNode, for the parts nats-embedded supports
 * (listener, advertise, authorization with one user or a users list bound to accounts, remotes
 * with URLs, a credentials file, a local account and TLS, the reconnect interval, the
 * listener's TLS with 2.10's `handshake_first`).
 */
import { ConfigError } from '../errors.js';
import { hostPort } from '../io/listen.js';
import { DEFAULTS } from '../protocol/constants.js';
import type { LeafRemoteUrl, ResolvedLeafNodes, ResolvedLeafRemoteTls, ResolvedLeafTls } from './types.js';
import { pem, resolveTls } from './resolve-blocks.js';
import { fromSeed } from '@nats-io/nkeys';
import { isPublicKey } from '../auth/jwt.js';
import { isValidSubscribeSubject } from '../subject/subject.js';
import { child, describe, objectWithKeys, optBool, optDuration, optPort, optString } from './validate.js';

const LEAF_KEYS: ReadonlySet<string> = new Set(['host', 'port', 'advertise', 'noAdvertise', 'authorization', 'remotes', 'reconnect', 'tls']);
const LEAF_TLS_KEYS: ReadonlySet<string> = new Set(['cert', 'key', 'ca', 'verify', 'verifyAndMap', 'timeout', 'handshakeFirst']);
const REMOTE_TLS_KEYS: ReadonlySet<string> = new Set(['cert', 'key', 'ca', 'insecure', 'timeout', 'handshakeFirst']);
const LEAF_AUTH_KEYS: ReadonlySet<string> = new Set(['user', 'password', 'nkey', 'account', 'users', 'timeout']);
const LEAF_USER_KEYS: ReadonlySet<string> = new Set(['user', 'password', 'account']);
const REMOTE_KEYS: ReadonlySet<string> = new Set(['url', 'urls', 'credentials', 'nkey', 'account', 'tls', 'denyImports', 'denyExports', 'hub']);

/** nats-server's DEFAULT_LEAF_TLS_TIMEOUT. */
const LEAF_TLS_TIMEOUT_MS = 2000;

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
    const nkey = optString(a.nkey, child(ap, 'nkey'), '');
    // opts.go parseLeafAuthorization, validateLeafNodeAuthOptions.
    if (nkey !== '' && !isPublicKey(nkey, 'U')) throw new ConfigError(child(ap, 'nkey'), 'Not a valid public nkey for leafnode authorization');
    if (nkey !== '' && usersValue.length > 0) throw new ConfigError(ap, 'can not have a single nkey and a users array');
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
      nkey: nkey === '' ? null : nkey,
      account: known(optString(a.account, child(ap, 'account'), '$G') || '$G', child(ap, 'account')),
      users,
    };
    if (authorization.user === null && authorization.nkey === null && users.length === 0 && a.account === undefined) authorization = null;
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
    const nkey = o.nkey === undefined ? null : optString(o.nkey, child(rp, 'nkey'), '');
    if (nkey !== null && !isUserSeed(nkey)) throw new ConfigError(child(rp, 'nkey'), `Remote leafnode nkey is not a valid seed: ${JSON.stringify(nkey)}`);
    if (nkey !== null && credentials !== null) throw new ConfigError(rp, 'Remote leafnode can not have both creds and nkey defined');
    return {
      urls: list.map((u, j) => parseLeafUrl(u, `${child(rp, o.url !== undefined && j === 0 ? 'url' : 'urls')}${o.url !== undefined && j === 0 ? '' : `[${o.url !== undefined ? j - 1 : j}]`}`)),
      credentials,
      nkey,
      account: known(optString(o.account, child(rp, 'account'), '$G') || '$G', child(rp, 'account')),
      tls: o.tls === undefined ? null : resolveRemoteTls(o.tls, child(rp, 'tls')),
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
    tls: l.tls === undefined ? null : resolveLeafTls(l.tls, child(path, 'tls')),
  };
}

/** A user nkey seed (`SU...`), as nkeys.DecodeSeed with PrefixByteUser checks it. */
function isUserSeed(seed: string): boolean {
  if (!seed.startsWith('SU')) return false;
  try {
    fromSeed(new TextEncoder().encode(seed));
    return true;
  } catch {
    return false;
  }
}

/** `leafnodes.tls`: a `tls` block (certificate and key required) with `handshakeFirst`. */
function resolveLeafTls(value: unknown, path: string): ResolvedLeafTls {
  const t = objectWithKeys(value, path, LEAF_TLS_KEYS);
  const { handshakeFirst, ...rest } = t;
  return { ...resolveTls(rest, path), handshakeFirst: optBool(handshakeFirst, child(path, 'handshakeFirst'), false) };
}

/**
 * `leafnodes.remotes[].tls` (opts.go parseRemoteLeafNodes: parseTLS in a client's context, so
 * the certificate is optional; its `ca_file` verifies the hub).
 */
function resolveRemoteTls(value: unknown, path: string): ResolvedLeafRemoteTls {
  const t = objectWithKeys(value, path, REMOTE_TLS_KEYS);
  if ((t.cert === undefined) !== (t.key === undefined)) throw new ConfigError(path, 'cert and key go together');
  return {
    cert: t.cert === undefined ? null : pem(t.cert, child(path, 'cert')),
    key: t.key === undefined ? null : pem(t.key, child(path, 'key')),
    ca: t.ca === undefined ? null : pem(t.ca, child(path, 'ca')),
    insecure: optBool(t.insecure, child(path, 'insecure'), false),
    timeoutMs: optDuration(t.timeout, child(path, 'timeout'), LEAF_TLS_TIMEOUT_MS),
    handshakeFirst: optBool(t.handshakeFirst, child(path, 'handshakeFirst'), false),
  };
}

/** A remote's deny list: subjects, wildcards allowed (nats-server checks them as permission subjects). */
function subjectList(value: unknown, path: string): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(path, 'must be an array of subjects');
  return value.map((s: unknown, i) => {
    if (typeof s !== 'string' || !isValidSubscribeSubject(s)) throw new ConfigError(`${path}[${i}]`, `must be a valid subject, got ${describe(s)}`);
    return s;
  });
}

/**
 * `nats-leaf://[user:pass@]host:port` (also `nats://`, `tls://`, `ws://`, `wss://`; a bare
 * `host:port`). As in nats-server, `tls://` alone does not ask for TLS: the hub's INFO or the
 * remote's `tls` block does; `wss://` does.
 */
export function parseLeafUrl(value: unknown, option: string): LeafRemoteUrl {
  if (typeof value !== 'string' || value.length === 0) throw new ConfigError(option, `must be a URL string, got ${describe(value)}`);
  const text = value.includes('://') ? value : `nats-leaf://${value}`;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new ConfigError(option, `invalid leafnode URL "${value}"`);
  }
  if (!['nats-leaf:', 'nats:', 'tls:', 'ws:', 'wss:', 'leafnode:'].includes(u.protocol)) {
    throw new ConfigError(option, `unsupported scheme in "${value}" (use nats-leaf://host:port, ws://host:port or wss://host:port)`);
  }
  const wss = u.protocol === 'wss:';
  const ws = wss || u.protocol === 'ws:';
  // opts.go setBaselineOptions: a remote URL without a port gets the default leafnode port, 7422 (websocket ones too).
  const port = u.port === '' ? 7422 : Number(u.port);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const scheme = wss ? 'wss' : ws ? 'ws' : 'nats-leaf';
  return {
    url: `${scheme}://${hostPort(host, port)}`,
    host,
    port,
    ws,
    wss,
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { pass: decodeURIComponent(u.password) } : {}),
  };
}
