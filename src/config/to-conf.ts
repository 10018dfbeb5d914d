/**
 * Options → nats-server configuration file: the inverse of `from-conf.ts`. The `nats-server`
 * backend writes this file for the process it starts, so the process runs with exactly the
 * resolved values.
 */
import { hostPort } from '../io/listen.js';
import type { ResolvedAuth, ResolvedOptions, ResolvedUser } from './options.js';
import type { ResolvedPermissions, SubjectPermission } from '../auth/permissions.js';

/** nats-server refuses a `lame_duck_duration` below 30 s. */
export const MIN_LAME_DUCK_MS = 30_000;
/** Ports written into the config: -1 asks nats-server for a random one. */
export interface ProcessPorts {
  readonly client: number;
  readonly http: number;
  /** Ignored without a `cluster` block. */
  readonly cluster: number;
}

/** A duration for the config file: Go's `time.ParseDuration` syntax. */
function goDuration(ms: number): string {
  return Number.isInteger(ms) ? `${ms}ms` : `${Math.max(1, Math.round(ms * 1e6))}ns`;
}

function q(s: string): string {
  return JSON.stringify(s);
}

/** The monitoring listener the process gets: the user's, or an internal one on loopback. */
export function httpHost(o: ResolvedOptions): string {
  return o.http?.host ?? (o.host === '::' || o.host.includes(':') ? '::1' : '127.0.0.1');
}

/**
 * The nats-server configuration equivalent to `o`, listening on `ports`. Every limit is written
 * out, so the process runs with exactly the resolved values. `lame_duck_duration` is raised to
 * nats-server's minimum of 30 s; `cluster.reconnectDelay` and `logger` have no config key.
 */
export function natsServerConfig(o: ResolvedOptions, ports: ProcessPorts): string {
  const lines = [
    '# Written by nats-embedded for backend "nats-server".',
    `listen: ${q(hostPort(o.host, ports.client))}`,
  ];
  if (o.serverName !== undefined) lines.push(`server_name: ${q(o.serverName)}`);
  lines.push(
    `max_payload: ${o.maxPayload}`,
    `max_control_line: ${o.maxControlLine}`,
    `max_pending: ${o.maxPending}`,
    `ping_interval: ${q(goDuration(o.pingIntervalMs))}`,
    `ping_max: ${o.maxPingsOut}`,
    `write_deadline: ${q(goDuration(o.writeDeadlineMs))}`,
    `max_connections: ${o.maxConnections}`,
    `max_subscriptions: ${o.maxSubscriptions}`,
    `no_header_support: ${o.noHeaderSupport}`,
    `lame_duck_duration: ${q(goDuration(Math.max(o.lameDuckDurationMs, MIN_LAME_DUCK_MS)))}`,
    `lame_duck_grace_period: ${q(goDuration(o.lameDuckGracePeriodMs))}`,
    `http: ${q(hostPort(httpHost(o), ports.http))}`,
  );
  if (o.debug) lines.push('debug: true');
  if (o.trace) lines.push('trace: true');
  if (o.auth !== null) lines.push(...authorizationConfig(o.auth, o.accountNames));
  const c = o.cluster;
  if (c !== null) {
    const routes = c.routes.map((r) => {
      const auth = r.user === undefined ? '' : `${encodeURIComponent(r.user)}${r.pass === undefined ? '' : `:${encodeURIComponent(r.pass)}`}@`;
      return q(`nats-route://${auth}${hostPort(r.host, r.port)}`);
    });
    lines.push('cluster {');
    if (c.name !== null) lines.push(`  name: ${q(c.name)}`);
    lines.push(
      `  listen: ${q(hostPort(c.host, ports.cluster))}`,
      `  routes: [${routes.join(', ')}]`,
      `  no_advertise: ${c.noAdvertise}`,
      `  connect_retries: ${c.connectRetries}`,
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The `authorization` block (and `no_auth_user`) for `auth`. */
function authorizationConfig(a: ResolvedAuth, accountNames: readonly string[]): string[] {
  const subjects = (p: SubjectPermission): string => {
    if (typeof p === 'string') return q(p);
    if (Array.isArray(p)) return `[${p.map(q).join(', ')}]`;
    const parts: string[] = [];
    if (p.allow !== undefined) parts.push(`allow: [${p.allow.map(q).join(', ')}]`);
    if (p.deny !== undefined) parts.push(`deny: [${p.deny.map(q).join(', ')}]`);
    return `{ ${parts.join(', ')} }`;
  };
  const permissions = (p: ResolvedPermissions): string => {
    const parts: string[] = [];
    if (p.publish !== undefined) parts.push(`publish: ${subjects(p.publish)}`);
    if (p.subscribe !== undefined) parts.push(`subscribe: ${subjects(p.subscribe)}`);
    const ar = p.allowResponses;
    if (ar === true) parts.push('allow_responses: true');
    else if (ar !== undefined && ar !== false) parts.push(`allow_responses: { max: ${ar.max}, expires: ${q(goDuration(ar.expiresMs))} }`);
    return `{ ${parts.join(', ')} }`;
  };
  const userLine = (u: ResolvedUser): string => {
    const parts: string[] = [];
    if (u.user !== undefined) parts.push(`user: ${q(u.user)}`);
    if (u.nkey !== undefined) parts.push(`nkey: ${q(u.nkey)}`);
    if (u.password !== undefined) parts.push(`password: ${q(u.password)}`);
    if (u.permissions !== null) parts.push(`permissions: ${permissions(u.permissions)}`);
    return `{ ${parts.join(', ')} }`;
  };
  const lines: string[] = [];
  // Users of configured accounts go in the accounts block; the rest in authorization.
  const byAccount = new Map<string, ResolvedUser[]>();
  for (const name of accountNames) byAccount.set(name, []);
  for (const u of a.users) if (u.account !== '$G') byAccount.get(u.account)?.push(u);
  if (byAccount.size > 0) {
    lines.push('accounts {');
    for (const [name, users] of byAccount) lines.push(`  ${q(name)}: { users: [${users.map(userLine).join(', ')}] }`);
    lines.push('}');
  }
  const global = a.users.filter((u) => u.account === '$G');
  lines.push('authorization {');
  if (a.token !== null) lines.push(`  token: ${q(a.token)}`);
  if (a.user !== null) lines.push(`  user: ${q(a.user)}`);
  if (a.password !== null) lines.push(`  password: ${q(a.password)}`);
  lines.push(`  timeout: ${a.timeoutMs / 1000}`);
  if (global.length > 0) {
    lines.push('  users: [');
    for (const u of global) lines.push(`    ${userLine(u)}`);
    lines.push('  ]');
  }
  lines.push('}');
  if (a.noAuthUser !== null) lines.push(`no_auth_user: ${q(a.noAuthUser)}`);
  return lines;
}

