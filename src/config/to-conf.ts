/**
 * Options → nats-server configuration file: the inverse of `from-conf.ts`. The `nats-server`
 * backend writes this file for the process it starts, so the process runs with exactly the
 * resolved values.
 *
 * The option table (`table.ts`) says what each option writes, in its order: a scalar under its
 * first config key, or, for `write: 'own'`, the writer here (`listen`, `http`, the
 * authorization and cluster blocks). The syntax is nats-server's (conf/lex.go): quoted strings
 * with its escapes, Go durations, `{ }` blocks.
 */
import { ConfigError } from '../errors.js';
import { hostPort } from '../io/listen.js';
import type { ResolvedAccountJetStream, ResolvedAccountLinks, ResolvedAuth, ResolvedExport, ResolvedOptions, ResolvedUser, LeafRemoteUrl, ResolvedLeafRemote, ResolvedTls, RouteUrl } from './types.js';
import type { ResolvedOperatorMode, ResolvedPermissions, SubjectPermission } from '../auth/types.js';
import { goDuration } from './duration.js';
import { OPTION_ROWS, type OwnWritten, type ScalarWrite } from './table.js';

export { MIN_LAME_DUCK_MS } from './table.js';

/** Ports written into the config: -1 asks nats-server for a random one. */
export interface ProcessPorts {
  readonly client: number;
  readonly http: number;
  /** Ignored without a `cluster` block. */
  readonly cluster: number;
  /** The leaf node listener's port; ignored without one. */
  readonly leaf?: number;
  /** The gateway listener's port; ignored without a `gateway` block. */
  readonly gateway?: number;
  /** JetStream's store directory when the options leave it to the backend (`storeDir` null). */
  readonly storeDir?: string;
  /**
   * Writes PEM text (a certificate, key or CA of a `tls` block, which the options hold as text)
   * into a file of the process's directory under `name`, and returns its path.
   */
  readonly pemFile?: (name: string, pem: string) => string;
}

/** nats-server's escapes in a double-quoted string (conf/lex.go lexStringEscape). */
const ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * `s` as a double-quoted config string. Not JSON: nats-server's lexer refuses JSON's `\u`, `\b`
 * and `\f`, so other control characters are written as `\xHH`; the rest goes as is (UTF-8).
 */
function q(s: string): string {
  return `"${s.replace(/["\\\x00-\x1f]/g, (c) => ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;
}

/**
 * `name` as a quoted key. nats-server takes a quoted key as written, up to the closing quote
 * (conf/lex.go lexMapDubQuotedKey, lexMapQuotedKey: no escapes), so a name with a `"` goes in
 * single quotes; one with both quote characters, or a NUL (the lexer's end of input), cannot
 * be written.
 */
function quotedKey(name: string): string {
  if (!name.includes('\0')) {
    if (!name.includes('"')) return `"${name}"`;
    if (!name.includes("'")) return `'${name}'`;
  }
  throw new ConfigError(`accounts.${name}`, 'cannot be written into a nats-server config file: it has both quote characters, or a NUL');
}

/** The monitoring listener the process gets: the user's, or an internal one on loopback. */
export function httpHost(o: ResolvedOptions): string {
  return o.http?.host ?? (o.host === '::' || o.host.includes(':') ? '::1' : '127.0.0.1');
}

/** The writers of the options the table marks `write: 'own'`. */
const OWN: { readonly [K in OwnWritten]: (o: ResolvedOptions, ports: ProcessPorts) => string[] } = {
  port: (o, ports) => [`listen: ${q(hostPort(o.host, ports.client))}`],
  // Always written: the backend watches the process through its monitoring port.
  http: (o, ports) => [`http: ${q(hostPort(httpHost(o), ports.http))}`],
  // Operator mode: the accounts are the preloaded account JWTs, not an `accounts` block.
  authorization: (o) => (o.auth?.operator !== undefined ? operatorConfig(o.auth)
    : [...accountsConfig(o), ...(o.systemAccount === null ? ['no_system_account: true'] : o.systemAccount === '$SYS' ? [] : [`system_account: ${q(o.systemAccount)}`]),
      ...(o.auth === null ? [] : authorizationConfig(o.auth))]),
  cluster: (o, ports) => (o.cluster === null ? [] : clusterConfig(o.cluster, ports.cluster)),
  leafnodes: (o, ports) => (o.leafnodes === null ? [] : leafConfig(o.leafnodes, ports)),
  gateway: (o, ports) => (o.gateway === null ? [] : gatewayConfig(o.gateway, ports)),
  serverTags: (o) => (o.serverTags.length === 0 ? [] : [`server_tags: [${o.serverTags.map(q).join(', ')}]`]),
  jetstream: (o, ports) => (o.jetstream === null ? [] : jetStreamConfig(o.jetstream, ports.storeDir)),
};

/** The `jetstream` block. */
function jetStreamConfig(j: NonNullable<ResolvedOptions['jetstream']>, tempDir: string | undefined): string[] {
  const dir = j.storeDir ?? tempDir;
  if (dir === undefined) throw new ConfigError('jetstream.storeDir', 'the nats-server backend needs a store directory');
  return [
    'jetstream {',
    `  store_dir: ${q(dir)}`,
    `  max_mem: ${j.maxMemory}`,
    `  max_file: ${j.maxStore}`,
    ...(j.domain === null ? [] : [`  domain: ${q(j.domain)}`]),
    ...(j.uniqueTag === '' ? [] : [`  unique_tag: ${q(j.uniqueTag)}`]),
    '}',
  ];
}

/** `key: value` for a scalar, or null when nothing is written. */
function scalarLine(key: string, write: ScalarWrite, value: unknown): string | null {
  if (typeof write === 'object') return `${key}: ${q(goDuration(Math.max(value as number, write.atLeastMs)))}`;
  switch (write) {
    case 'int':
    case 'bool':
      return `${key}: ${String(value)}`;
    case 'ifTrue':
      return value === true ? `${key}: true` : null;
    case 'string':
      return value === undefined ? null : `${key}: ${q(value as string)}`;
    case 'duration':
      return `${key}: ${q(goDuration(value as number))}`;
  }
}

/**
 * The nats-server configuration equivalent to `o`, listening on `ports`. Every limit is written
 * out, so the process runs with exactly the resolved values. `lame_duck_duration` is raised to
 * nats-server's minimum of 30 s; `cluster.reconnectDelay` and `logger` have no config key.
 */
export function natsServerConfig(o: ResolvedOptions, ports: ProcessPorts): string {
  const lines = ['# Written by nats-embedded for backend "nats-server".'];
  for (const [name, row] of OPTION_ROWS) {
    if (row.write === null) continue;
    if (row.write === 'own') {
      lines.push(...OWN[name as OwnWritten](o, ports));
      continue;
    }
    // A scalar row (only those have a scalar write; the kind test narrows the type): its one
    // field, under its first key.
    if (row.kind === 'block' || row.kind === 'port' || row.conf === null) continue;
    const line = scalarLine(row.conf.keys[0], row.write, o[row.into]);
    if (line !== null) lines.push(line);
  }
  return `${lines.join('\n')}\n`;
}

function denyList(key: string, subjects: readonly string[]): string {
  return subjects.length === 0 ? '' : `, ${key}: [${subjects.map(q).join(', ')}]`;
}

/** The parts of a resolved `tls` block written into a config file. */
interface TlsWritten {
  readonly cert: string | null;
  readonly key: string | null;
  readonly ca: string | null;
  readonly timeoutMs: number;
  readonly handshakeFirst?: boolean;
}

/**
 * A `tls { ... }` block (opts.go parseTLS keys) at `indent`, its PEM texts written to files
 * named `<prefix>-cert.pem` etc. through `ports.pemFile`; `extra` lines (`verify: true`, ...)
 * inside. `handshake_first` only when set (nats-server 2.9 does not know it).
 */
function tlsConfig(ports: ProcessPorts, option: string, indent: string, prefix: string, t: TlsWritten, extra: readonly string[]): string[] {
  const file = (name: string, pem: string): string => {
    if (ports.pemFile === undefined) throw new ConfigError(option, 'cannot be written into a nats-server config file without a directory for its PEM files');
    return q(ports.pemFile(name, pem));
  };
  return [
    `${indent}tls {`,
    ...(t.cert === null ? [] : [`${indent}  cert_file: ${file(`${prefix}-cert.pem`, t.cert)}`]),
    ...(t.key === null ? [] : [`${indent}  key_file: ${file(`${prefix}-key.pem`, t.key)}`]),
    ...(t.ca === null ? [] : [`${indent}  ca_file: ${file(`${prefix}-ca.pem`, t.ca)}`]),
    ...extra.map((x) => `${indent}  ${x}`),
    `${indent}  timeout: ${t.timeoutMs / 1000}`,
    ...(t.handshakeFirst === true ? [`${indent}  handshake_first: true`] : []),
    `${indent}}`,
  ];
}

/** `verify_and_map: true` or `verify: true` for a listener's `tls` block. */
function verifyLines(t: ResolvedTls): string[] {
  return t.map ? ['verify_and_map: true'] : t.verify ? ['verify: true'] : [];
}

/**
 * The `gateway` block (opts.go parseGateway; an ephemeral listener port is written as -1, as
 * nats-server starts no gateway on port 0). A remote gateway's `tls` is written only when it
 * is its own (nats-server gives the others the block's, as the options do). `reconnectDelay`
 * has no config key (nats-server waits 1 s).
 */
function gatewayConfig(g: NonNullable<ResolvedOptions['gateway']>, ports: ProcessPorts): string[] {
  const port = ports.gateway ?? (g.port === 0 ? -1 : g.port);
  const url = (u: RouteUrl): string => {
    const auth = u.user === undefined ? '' : `${encodeURIComponent(u.user)}${u.pass === undefined ? '' : `:${encodeURIComponent(u.pass)}`}@`;
    return q(`nats://${auth}${hostPort(u.host, u.port)}`);
  };
  const remote = (r: NonNullable<ResolvedOptions['gateway']>['gateways'][number], i: number): string[] => {
    const head = `    { name: ${q(r.name)}, urls: [${r.urls.map(url).join(', ')}]`;
    if (r.tls === null || r.tls === g.tls) return [`${head} }`];
    return [head, ...tlsConfig(ports, `gateway.gateways[${i}].tls`, '      ', `gateway-remote-${i}`, r.tls, verifyLines(r.tls)), '    }'];
  };
  const a = g.authorization;
  return [
    'gateway {',
    `  name: ${q(g.name)}`,
    `  listen: ${q(hostPort(g.host, port))}`,
    ...(g.advertise === null ? [] : [`  advertise: ${q(g.advertise)}`]),
    `  connect_retries: ${g.connectRetries}`,
    ...(g.rejectUnknown ? ['  reject_unknown_cluster: true'] : []),
    ...(a === null ? [] : [`  authorization { user: ${q(a.user)}, password: ${q(a.password)}, timeout: ${g.authTimeoutMs / 1000} }`]),
    ...(g.tls === null ? [] : tlsConfig(ports, 'gateway.tls', '  ', 'gateway', g.tls, verifyLines(g.tls))),
    ...(g.gateways.length === 0 ? [] : ['  gateways: [', ...g.gateways.flatMap(remote), '  ]']),
    '}',
  ];
}

/** The `leafnodes` block (an ephemeral listener port is written as -1: nats-server picks one). */
function leafConfig(l: NonNullable<ResolvedOptions['leafnodes']>, ports: ProcessPorts): string[] {
  const port = ports.leaf;
  const url = (u: LeafRemoteUrl): string => {
    const auth = u.user === undefined ? '' : `${encodeURIComponent(u.user)}${u.pass === undefined ? '' : `:${encodeURIComponent(u.pass)}`}@`;
    return q(`${u.wss ? 'wss' : u.ws ? 'ws' : 'nats-leaf'}://${auth}${hostPort(u.host, u.port)}`);
  };
  const tlsBlock = (indent: string, prefix: string, t: TlsWritten, extra: string[]): string[] => tlsConfig(ports, 'leafnodes.tls', indent, prefix, t, extra);
  const remote = (r: ResolvedLeafRemote, i: number): string[] => {
    const head = `    { urls: [${r.urls.map(url).join(', ')}]${r.credentials === null ? '' : `, credentials: ${q(r.credentials)}`}${r.nkey === null ? '' : `, nkey: ${q(r.nkey)}`}${r.account === '$G' ? '' : `, account: ${q(r.account)}`}`
      + `${denyList('deny_imports', r.denyImports)}${denyList('deny_exports', r.denyExports)}${r.hub ? ', hub: true' : ''}`;
    if (r.tls === null) return [`${head} }`];
    return [head, ...tlsBlock('      ', `leaf-remote-${i}`, r.tls, r.tls.insecure ? ['insecure: true'] : []), '    }'];
  };
  const a = l.authorization;
  return [
    'leafnodes {',
    ...(l.listen === null ? [] : [`  listen: ${q(hostPort(l.listen.host, port ?? (l.listen.port === 0 ? -1 : l.listen.port)))}`]),
    ...(l.advertise === null ? [] : [`  advertise: ${q(l.advertise)}`]),
    `  no_advertise: ${l.noAdvertise}`,
    // nats-server 2.9 reads `reconnect` as whole seconds (2.10 takes a duration too); the default is left out.
    ...(l.reconnectMs === 1000 ? [] : [`  reconnect: ${l.reconnectMs % 1000 === 0 ? String(l.reconnectMs / 1000) : q(goDuration(l.reconnectMs))}`]),
    ...(a === null ? [] : [
      '  authorization {',
      ...(a.user === null ? [] : [`    user: ${q(a.user)}`, `    password: ${q(a.password)}`]),
      // nats-server 2.10 (2.9 does not know the key).
      ...(a.nkey === null ? [] : [`    nkey: ${q(a.nkey)}`]),
      ...(a.account === '$G' ? [] : [`    account: ${q(a.account)}`]),
      ...(a.users.length === 0 ? [] : [`    users: [${a.users.map((u) => `{ user: ${q(u.user)}, password: ${q(u.password)}${u.account === '$G' ? '' : `, account: ${q(u.account)}`} }`).join(', ')}]`]),
      `    timeout: ${l.authTimeoutMs / 1000}`,
      '  }',
    ]),
    ...(l.tls === null ? [] : tlsBlock('  ', 'leaf', l.tls, verifyLines(l.tls))),
    ...(l.remotes.length === 0 ? [] : [
      '  remotes: [',
      ...l.remotes.flatMap(remote),
      '  ]',
    ]),
    '}',
  ];
}

/** The `cluster` block. */
function clusterConfig(c: NonNullable<ResolvedOptions['cluster']>, port: number): string[] {
  const routes = c.routes.map((r) => {
    const auth = r.user === undefined ? '' : `${encodeURIComponent(r.user)}${r.pass === undefined ? '' : `:${encodeURIComponent(r.pass)}`}@`;
    return q(`nats-route://${auth}${hostPort(r.host, r.port)}`);
  });
  return [
    'cluster {',
    ...(c.name !== null ? [`  name: ${q(c.name)}`] : []),
    `  listen: ${q(hostPort(c.host, port))}`,
    `  routes: [${routes.join(', ')}]`,
    `  no_advertise: ${c.noAdvertise}`,
    `  connect_retries: ${c.connectRetries}`,
    ...(c.authorization === null
      ? []
      : [`  authorization { user: ${q(c.authorization.user)}, password: ${q(c.authorization.password)}, timeout: ${c.authTimeoutMs / 1000} }`]),
    '}',
  ];
}

/** A user's permissions in config syntax. */
function permissionsConfig(p: ResolvedPermissions): string {
  const subjects = (sp: SubjectPermission): string => {
    if (typeof sp === 'string') return q(sp);
    if (Array.isArray(sp)) return `[${sp.map(q).join(', ')}]`;
    const parts: string[] = [];
    if (sp.allow !== undefined) parts.push(`allow: [${sp.allow.map(q).join(', ')}]`);
    if (sp.deny !== undefined) parts.push(`deny: [${sp.deny.map(q).join(', ')}]`);
    return `{ ${parts.join(', ')} }`;
  };
  const parts: string[] = [];
  if (p.publish !== undefined) parts.push(`publish: ${subjects(p.publish)}`);
  if (p.subscribe !== undefined) parts.push(`subscribe: ${subjects(p.subscribe)}`);
  const ar = p.allowResponses;
  if (ar === true) parts.push('allow_responses: true');
  else if (ar !== undefined && ar !== false) parts.push(`allow_responses: { max: ${ar.max}, expires: ${q(goDuration(ar.expiresMs))} }`);
  return `{ ${parts.join(', ')} }`;
}

/** One user in config syntax. */
function userConfig(u: ResolvedUser): string {
  const parts: string[] = [];
  if (u.user !== undefined) parts.push(`user: ${q(u.user)}`);
  if (u.nkey !== undefined) parts.push(`nkey: ${q(u.nkey)}`);
  if (u.password !== undefined) parts.push(`password: ${q(u.password)}`);
  if (u.permissions !== null) parts.push(`permissions: ${permissionsConfig(u.permissions)}`);
  return `{ ${parts.join(', ')} }`;
}

/** An account's JetStream limits, every one written (nats-server's keys; sizes as plain integers). */
function accountJetStreamConfig(j: ResolvedAccountJetStream): string {
  return `{ max_mem: ${j.maxMemory}, max_file: ${j.maxStore}, max_streams: ${j.maxStreams}, max_consumers: ${j.maxConsumers}, `
    + `max_ack_pending: ${j.maxAckPending}, memory_max_stream_bytes: ${j.memoryMaxStreamBytes}, `
    + `store_max_stream_bytes: ${j.storeMaxStreamBytes}, max_bytes_required: ${j.maxBytesRequired} }`;
}

/** A service export's `latency` block ('' without one). */
function latency(e: ResolvedExport): string {
  const l = e.latency;
  if (l === undefined) return '';
  return `, latency: { sampling: ${l.sampling === 0 ? '"headers"' : l.sampling}, subject: ${q(l.subject)} }`;
}

/** An account's `exports` and `imports` (the threshold in milliseconds, a Go duration). */
function linksConfig(l: ResolvedAccountLinks): string {
  const accounts = (list: readonly string[] | null): string => (list === null ? '' : `, accounts: [${list.map(q).join(', ')}]`);
  const exports = l.exports.map((e) => (e.kind === 'stream'
    ? `{ stream: ${q(e.subject)}${accounts(e.accounts)} }`
    : `{ service: ${q(e.subject)}${accounts(e.accounts)}, response_type: ${e.responseType}, response_threshold: "${e.responseThresholdMs}ms"${latency(e)} }`));
  const imports = l.imports.map((i) => {
    const src = `{ account: ${q(i.account)}, subject: ${q(i.subject)} }`;
    const extra = `${i.prefix === null ? '' : `, prefix: ${q(i.prefix)}`}${i.to === null ? '' : `, to: ${q(i.to)}`}${i.share === true ? ', share: true' : ''}`;
    return `{ ${i.kind}: ${src}${extra} }`;
  });
  return `, exports: [${exports.join(', ')}], imports: [${imports.join(', ')}]`;
}

/** The `accounts` block: each configured account with its users, its JetStream, exports and imports. */
function accountsConfig(o: ResolvedOptions): string[] {
  if (o.accountNames.length === 0) return [];
  const lines = ['accounts {'];
  for (const name of o.accountNames) {
    const users = (o.auth?.users ?? []).filter((u) => u.account === name);
    const js = o.accountJetStream[name];
    const links = o.accountLinks[name];
    lines.push(`  ${quotedKey(name)}: { users: [${users.map(userConfig).join(', ')}]${js === undefined ? '' : `, jetstream: ${accountJetStreamConfig(js)}`}${links === undefined ? '' : linksConfig(links)} }`);
  }
  lines.push('}');
  return lines;
}

/** The `resolver` line or block (durations in milliseconds; nats-server 2.9 ignores `hard_delete`). */
function resolverConfig(r: ResolvedOperatorMode['resolver']): string {
  if (r === 'MEMORY') return 'resolver: MEMORY';
  const parts = [`type: ${r.type}`, `dir: ${q(r.dir)}`];
  if (r.type === 'full') {
    if (r.delete !== 'none') parts.push('allow_delete: true');
    if (r.delete === 'hard') parts.push('hard_delete: true');
    parts.push(`interval: ${q(goDuration(r.intervalMs))}`);
  } else if (r.ttlMs > 0) parts.push(`ttl: ${q(goDuration(r.ttlMs))}`);
  if (r.limit > 0) parts.push(`limit: ${r.limit}`);
  parts.push(`timeout: ${q(goDuration(r.timeoutMs))}`);
  return `resolver { ${parts.join(', ')} }`;
}

/** Operator mode: the operators inline, the system account, the resolver and its preloads. */
function operatorConfig(a: ResolvedAuth): string[] {
  const m = a.operator!;
  return [
    // One operator as a scalar: nats-server 2.9 refuses a list here ("unsupported type []interface {}").
    m.operatorJwts.length === 1 ? `operator: ${q(m.operatorJwts[0]!)}` : `operator: [${m.operatorJwts.map(q).join(', ')}]`,
    ...(m.systemAccount === null ? [] : [`system_account: ${q(m.systemAccount)}`]),
    resolverConfig(m.resolver),
    'resolver_preload {',
    ...Object.entries(m.preload).map(([k, v]) => `  ${quotedKey(k)}: ${q(v)}`),
    '}',
    `authorization { timeout: ${a.timeoutMs / 1000} }`,
  ];
}

/** The `authorization` block (and `no_auth_user`) for `auth`; users of configured accounts are in `accounts`. */
function authorizationConfig(a: ResolvedAuth): string[] {
  const lines: string[] = [];
  const global = a.users.filter((u) => u.account === '$G');
  lines.push('authorization {');
  if (a.token !== null) lines.push(`  token: ${q(a.token)}`);
  if (a.user !== null) lines.push(`  user: ${q(a.user)}`);
  if (a.password !== null) lines.push(`  password: ${q(a.password)}`);
  lines.push(`  timeout: ${a.timeoutMs / 1000}`);
  if (global.length > 0) {
    lines.push('  users: [');
    for (const u of global) lines.push(`    ${userConfig(u)}`);
    lines.push('  ]');
  }
  lines.push('}');
  if (a.noAuthUser !== null) lines.push(`no_auth_user: ${q(a.noAuthUser)}`);
  return lines;
}
