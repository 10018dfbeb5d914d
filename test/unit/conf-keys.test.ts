/**
 * Every configuration key nats-server v2.10.29 accepts (server/opts.go: processConfigFileLine,
 * parseCluster, parseAuthorization, parseUsers, parseUserPermissions, parseAllowResponses,
 * parseSubjectPermission, parseTLS, parseWebsocket, parseAccounts), with each alias, and what the
 * CLI does with it: maps it onto an option, ignores it with a warning, or refuses it. None may be
 * an "unknown field", and keys match whatever their case, as in nats-server.
 */
import { describe, expect, it } from 'vitest';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf, type ProcessSettings } from '../../src/config/from-conf.js';
import type { ServerOptions } from '../../src/config/options.js';
import { configErrorOf } from '../helpers/errors.js';

type Block = 'top' | 'jetstream' | 'cluster' | 'authorization' | 'user' | 'permissions' | 'subjects' | 'allow_responses' | 'tls' | 'websocket' | 'account' | 'account_jetstream';

/** The keys of each block in nats-server v2.10.29's opts.go (the `case` labels of its parse functions). */
const NATS_SERVER_KEYS: Readonly<Record<Block, readonly string[]>> = {
  top: [
    'listen', 'client_advertise', 'port', 'server_name', 'host', 'net', 'debug', 'trace', 'trace_verbose', 'logtime',
    'logtime_utc', 'mappings', 'maps', 'disable_sublist_cache', 'no_sublist_cache', 'accounts', 'authorization', 'http',
    'https', 'http_port', 'monitor_port', 'https_port', 'http_base_path', 'cluster', 'gateway', 'leaf', 'leafnodes',
    'store_dir', 'storedir', 'jetstream', 'logfile', 'log_file', 'logfile_size_limit', 'log_size_limit', 'logfile_max_num',
    'log_max_num', 'syslog', 'remote_syslog', 'pidfile', 'pid_file', 'ports_file_dir', 'prof_port', 'prof_block_rate',
    'max_control_line', 'max_payload', 'max_pending', 'max_connections', 'max_conn', 'max_traced_msg_len',
    'max_subscriptions', 'max_subs', 'max_sub_tokens', 'max_subscription_tokens', 'ping_interval', 'ping_max', 'tls',
    'ocsp', 'allow_non_tls', 'write_deadline', 'lame_duck_duration', 'lame_duck_grace_period', 'operator', 'operators',
    'roots', 'root', 'root_operators', 'root_operator', 'resolver', 'account_resolver', 'accounts_resolver',
    'resolver_tls', 'resolver_preload', 'resolver_pinned_accounts', 'no_auth_user', 'system_account', 'system',
    'no_system_account', 'no_system', 'no_sys_acc', 'no_header_support', 'trusted', 'trusted_keys',
    'connect_error_reports', 'reconnect_error_reports', 'websocket', 'ws', 'mqtt', 'server_tags', 'default_js_domain',
    'ocsp_cache', 'no_fast_producer_stall', 'max_closed_clients',
  ],
  jetstream: [
    'store', 'store_dir', 'storedir', 'sync', 'sync_interval', 'max_memory_store', 'max_mem_store', 'max_mem',
    'max_file_store', 'max_file', 'domain', 'enable', 'enabled', 'key', 'ek', 'encryption_key', 'prev_key', 'prev_ek',
    'prev_encryption_key', 'cipher', 'extension_hint', 'limits', 'unique_tag', 'max_outstanding_catchup',
    'request_queue_limit',
  ],
  cluster: [
    'name', 'listen', 'port', 'host', 'net', 'authorization', 'routes', 'tls', 'cluster_advertise', 'advertise',
    'no_advertise', 'connect_retries', 'permissions', 'pool_size', 'accounts', 'compression', 'ping_interval', 'ping_max',
  ],
  authorization: [
    'user', 'username', 'pass', 'password', 'token', 'timeout', 'users', 'default_permission', 'default_permissions',
    'permissions', 'auth_callout', 'auth_hook',
  ],
  user: [
    'nkey', 'user', 'username', 'pass', 'password', 'permission', 'permissions', 'authorization',
    'allowed_connection_types', 'connection_types', 'clients',
  ],
  permissions: ['pub', 'publish', 'import', 'sub', 'subscribe', 'export', 'publish_allow_responses', 'allow_responses'],
  subjects: ['allow', 'deny'],
  allow_responses: ['max', 'max_msgs', 'max_messages', 'max_responses', 'expires', 'expiration', 'ttl'],
  tls: [
    'cert_file', 'key_file', 'ca_file', 'insecure', 'verify', 'verify_and_map', 'verify_cert_and_check_known_urls',
    'cipher_suites', 'curve_preferences', 'timeout', 'connection_rate_limit', 'pinned_certs', 'cert_store',
    'cert_match_by', 'cert_match', 'ca_certs_match', 'handshake_first', 'first', 'immediate', 'cert_match_skip_invalid',
    'ocsp_peer', 'certs', 'certificates', 'min_version',
  ],
  websocket: [
    'listen', 'port', 'host', 'net', 'advertise', 'no_tls', 'tls', 'same_origin', 'allowed_origins', 'allowed_origin',
    'allow_origins', 'allow_origin', 'origins', 'origin', 'handshake_timeout', 'compress', 'compression',
    'authorization', 'authentication', 'jwt_cookie', 'no_auth_user',
  ],
  account: ['nkey', 'imports', 'exports', 'jetstream', 'users', 'default_permissions', 'mappings', 'maps', 'limits'],
  // parseJetStreamForAccount
  account_jetstream: [
    'max_memory', 'max_mem', 'mem', 'memory', 'max_store', 'max_file', 'max_disk', 'store', 'disk', 'max_streams', 'streams',
    'max_consumers', 'consumers', 'max_bytes_required', 'max_stream_bytes', 'max_bytes', 'mem_max_stream_bytes',
    'memory_max_stream_bytes', 'disk_max_stream_bytes', 'store_max_stream_bytes', 'max_ack_pending',
  ],
};

interface Mapped {
  options?: ServerOptions;
  process?: ProcessSettings;
}

/** Where a key of each block is written, and where its mapping lands. */
const BLOCKS: Readonly<Record<Block, { conf: (line: string) => string; wrap: (fragment: object) => Mapped }>> = {
  top: { conf: (l) => l, wrap: (f) => f },
  // The block turns JetStream on unless it says otherwise.
  jetstream: { conf: (l) => `jetstream { ${l} }`, wrap: (f) => ({ options: { jetstream: { enabled: true, ...f } } }) },
  cluster: { conf: (l) => `cluster { ${l} }`, wrap: (f) => ({ options: { cluster: f } }) },
  authorization: { conf: (l) => `authorization { ${l} }`, wrap: (f) => ({ options: { authorization: f } }) },
  user: { conf: (l) => `authorization { users: [ { ${l} } ] }`, wrap: (f) => ({ options: { authorization: { users: [f] } } }) },
  permissions: {
    conf: (l) => `authorization { users: [ { user: u, permissions: { ${l} } } ] }`,
    wrap: (f) => ({ options: { authorization: { users: [{ user: 'u', permissions: f }] } } }),
  },
  subjects: {
    conf: (l) => `authorization { users: [ { user: u, permissions: { publish: { ${l} } } } ] }`,
    wrap: (f) => ({ options: { authorization: { users: [{ user: 'u', permissions: { publish: f } }] } } }),
  },
  allow_responses: {
    conf: (l) => `authorization { users: [ { user: u, permissions: { allow_responses: { ${l} } } } ] }`,
    wrap: (f) => ({ options: { authorization: { users: [{ user: 'u', permissions: { allowResponses: f } }] } } }),
  },
  tls: { conf: (l) => `tls { cert_file: c.pem, key_file: k.pem, ${l} }`, wrap: (f) => ({ options: { tls: { cert: 'c.pem', key: 'k.pem', ...f } } }) },
  websocket: { conf: (l) => `websocket { no_tls: true, ${l} }`, wrap: (f) => ({ options: { websocket: { noTls: true, ...f } } }) },
  account: { conf: (l) => `accounts { A: { ${l} } }`, wrap: (f) => ({ options: { accounts: { A: f } } }) },
  account_jetstream: {
    conf: (l) => `accounts { A: { jetstream: { ${l} } } }`,
    wrap: (f) => ({ options: { accounts: { A: { jetstream: f } } } }),
  },
};

/** What the CLI does with a key: the option fragment it maps to (in its block), or ignore/refuse. */
type Outcome = object | 'ignored' | 'refused';

/** [block, the key and its aliases, a value in config syntax, outcome]. */
const TABLE: ReadonlyArray<readonly [Block, readonly string[], string, Outcome]> = [
  // ---- top level: mapped
  ['top', ['listen'], '"127.0.0.1:4333"', { options: { host: '127.0.0.1', port: 4333 } }],
  ['top', ['port'], '4333', { options: { port: 4333 } }],
  ['top', ['host', 'net'], '127.0.0.2', { options: { host: '127.0.0.2' } }],
  ['top', ['server_name'], 'n1', { options: { serverName: 'n1' } }],
  ['top', ['max_payload'], '2MB', { options: { maxPayload: 2 * 1024 * 1024 } }],
  ['top', ['max_control_line'], '2048', { options: { maxControlLine: 2048 } }],
  ['top', ['max_pending'], '1000', { options: { maxPending: 1000 } }],
  ['top', ['max_connections', 'max_conn'], '10', { options: { maxConnections: 10 } }],
  ['top', ['max_subscriptions', 'max_subs'], '5', { options: { maxSubscriptions: 5 } }],
  ['top', ['ping_interval'], '"30s"', { options: { pingInterval: '30s' } }],
  ['top', ['ping_max'], '3', { options: { maxPingsOut: 3 } }],
  ['top', ['write_deadline'], '"2s"', { options: { writeDeadline: '2s' } }],
  ['top', ['lame_duck_duration'], '"1m"', { options: { lameDuckDuration: '1m' } }],
  ['top', ['lame_duck_grace_period'], '"5s"', { options: { lameDuckGracePeriod: '5s' } }],
  ['top', ['no_header_support'], 'true', { options: { noHeaderSupport: true } }],
  ['top', ['http'], '"127.0.0.1:8222"', { options: { http: { host: '127.0.0.1', port: 8222 } } }],
  ['top', ['http_port', 'monitor_port'], '8222', { options: { http: 8222 } }],
  ['top', ['cluster'], '{ port: 6222 }', { options: { cluster: { port: 6222 } } }],
  ['top', ['authorization'], '{ token: t }', { options: { authorization: { token: 't' } } }],
  ['top', ['accounts'], '{ A: {} }', { options: { accounts: { A: {} } } }],
  ['top', ['no_auth_user'], 'u', { options: { noAuthUser: 'u' } }],
  // Operator mode (issue 19): the memory resolver; the URL and directory resolvers are refused (conf.test.ts).
  ['top', ['operator', 'operators', 'roots', 'root', 'root_operators', 'root_operator'], '/tmp/op.jwt', { options: { operator: '/tmp/op.jwt' } }],
  ['top', ['system_account', 'system'], 'SYS', { options: { systemAccount: 'SYS' } }],
  ['top', ['resolver', 'account_resolver', 'accounts_resolver'], 'MEMORY', { options: { resolver: 'MEMORY' } }],
  ['top', ['resolver_preload'], '{ A: jwt }', { options: { resolverPreload: { A: 'jwt' } } }],
  ['top', ['tls'], '{ cert_file: c.pem, key_file: k.pem }', { options: { tls: { cert: 'c.pem', key: 'k.pem' } } }],
  ['top', ['websocket', 'ws'], '{ port: 8080, no_tls: true }', { options: { websocket: { port: 8080, noTls: true } } }],
  ['top', ['leafnodes', 'leaf'], '{ port: -1, remotes: [{ url: "nats-leaf://h:7422", account: A }] }', { options: { leafnodes: { port: -1, remotes: [{ url: 'nats-leaf://h:7422', account: 'A' }] } } }],
  ['top', ['debug'], 'true', { process: { debug: true } }],
  ['top', ['trace'], 'true', { process: { trace: true } }],
  ['top', ['trace_verbose'], 'true', { process: { trace: true } }],
  ['top', ['logtime'], 'false', { process: { logtime: false } }],
  ['top', ['logtime_utc'], 'true', { process: { logtimeUtc: true } }],
  ['top', ['logfile', 'log_file'], '/tmp/x.log', { process: { logFile: '/tmp/x.log' } }],
  ['top', ['pidfile', 'pid_file'], '/tmp/x.pid', { process: { pidFile: '/tmp/x.pid' } }],
  ['top', ['ports_file_dir'], '/tmp', { process: { portsFileDir: '/tmp' } }],
  // store_dir alone does not turn JetStream on (nats-server: only -js or the jetstream key do).
  ['top', ['store_dir', 'storedir'], '/tmp/js', { options: { jetstream: { enabled: false, storeDir: '/tmp/js' } } }],
  ['top', ['jetstream'], 'enabled', { options: { jetstream: { enabled: true } } }],
  // ---- top level: features not built, harmless to leave out
  ['top', ['client_advertise'], '"h:1"', 'ignored'],
  ['top', ['mappings', 'maps'], '{ a: b }', 'ignored'],
  ['top', ['disable_sublist_cache', 'no_sublist_cache'], 'true', 'ignored'],
  ['top', ['gateway'], '{ name: g, port: 7222 }', { options: { gateway: { name: 'g', port: 7222 } } }],
  ['top', ['logfile_size_limit', 'log_size_limit'], '1MB', 'ignored'],
  ['top', ['logfile_max_num', 'log_max_num'], '3', 'ignored'],
  ['top', ['syslog'], 'true', 'ignored'],
  ['top', ['remote_syslog'], '"udp://h:514"', 'ignored'],
  ['top', ['prof_port'], '6060', 'ignored'],
  ['top', ['prof_block_rate'], '1', 'ignored'],
  ['top', ['http_base_path'], '/nats', 'ignored'],
  ['top', ['max_traced_msg_len'], '100', 'ignored'],
  ['top', ['max_sub_tokens', 'max_subscription_tokens'], '10', 'ignored'],
  ['top', ['no_system_account', 'no_system', 'no_sys_acc'], 'true', { options: { noSystemAccount: true } }],
  ['top', ['connect_error_reports'], '10', 'ignored'],
  ['top', ['reconnect_error_reports'], '10', 'ignored'],
  ['top', ['mqtt'], '{ port: -1 }', 'ignored'],
  ['top', ['server_tags'], '[a, " B "]', { options: { serverTags: ['a', ' B '] } }],
  ['top', ['default_js_domain'], '{ A: d }', 'ignored'],
  ['top', ['ocsp_cache'], 'false', 'ignored'],
  ['top', ['no_fast_producer_stall'], 'true', 'ignored'],
  ['top', ['max_closed_clients'], '10', 'ignored'],
  ['top', ['allow_non_tls'], 'true', { options: { allowNonTls: true } }],
  // ---- top level: security features, refused
  ['top', ['https'], '"127.0.0.1:8443"', 'refused'],
  ['top', ['https_port'], '8443', 'refused'],
  ['top', ['ocsp'], 'true', 'refused'],
  ['top', ['resolver_tls'], '{ cert_file: c }', 'refused'],
  ['top', ['resolver_pinned_accounts'], '[A]', 'refused'],
  ['top', ['trusted', 'trusted_keys'], 'OKEY', 'refused'],

  // ---- cluster
  ['cluster', ['name'], 'C', { name: 'C' }],
  ['cluster', ['listen'], '"127.0.0.1:6333"', { host: '127.0.0.1', port: 6333 }],
  ['cluster', ['port'], '6333', { port: 6333 }],
  ['cluster', ['host', 'net'], '127.0.0.1', { host: '127.0.0.1' }],
  ['cluster', ['routes'], '[nats-route://127.0.0.1:7000]', { routes: ['nats-route://127.0.0.1:7000'] }],
  ['cluster', ['no_advertise'], 'true', { noAdvertise: true }],
  ['cluster', ['connect_retries'], '2', { connectRetries: 2 }],
  ['cluster', ['tls'], '{ cert_file: c.pem, key_file: k.pem }', { tls: { cert: 'c.pem', key: 'k.pem' } }],
  ['cluster', ['cluster_advertise', 'advertise'], '"h:1"', 'ignored'],
  ['cluster', ['pool_size'], '3', 'ignored'],
  ['cluster', ['accounts'], '[A]', 'ignored'],
  ['cluster', ['compression'], 'off', 'ignored'],
  ['cluster', ['ping_interval'], '"1m"', 'ignored'],
  ['cluster', ['ping_max'], '2', 'ignored'],
  ['cluster', ['authorization'], '{ user: r, password: p, timeout: 3 }', { authorization: { user: 'r', password: 'p', timeout: 3000 } }],
  ['cluster', ['permissions'], '{ import: a }', 'refused'],

  // ---- authorization
  ['authorization', ['user', 'username'], 'a', { user: 'a' }],
  ['authorization', ['password', 'pass'], 'p', { password: 'p' }],
  ['authorization', ['token'], 't', { token: 't' }],
  ['authorization', ['timeout'], '0.5', { timeout: 500 }],
  ['authorization', ['users'], '[ { user: a } ]', { users: [{ user: 'a' }] }],
  ['authorization', ['permissions', 'default_permissions', 'default_permission'], '{ publish: a }', { defaultPermissions: { publish: 'a' } }],
  ['authorization', ['auth_callout', 'auth_hook'], '{ issuer: A }', 'refused'],

  // ---- a user of authorization.users (and accounts' users)
  ['user', ['user', 'username'], 'a', { user: 'a' }],
  ['user', ['password', 'pass'], 'p', { password: 'p' }],
  ['user', ['nkey'], 'UKEY', { nkey: 'UKEY' }],
  ['user', ['permissions', 'permission', 'authorization'], '{ subscribe: s }', { permissions: { subscribe: 's' } }],
  ['user', ['allowed_connection_types', 'connection_types', 'clients'], '[STANDARD]', 'refused'],

  // ---- permissions, their subjects and allow_responses
  ['permissions', ['publish', 'pub', 'import'], '[a, b]', { publish: ['a', 'b'] }],
  ['permissions', ['subscribe', 'sub', 'export'], 's', { subscribe: 's' }],
  ['permissions', ['allow_responses', 'publish_allow_responses'], 'true', { allowResponses: true }],
  ['subjects', ['allow'], 'a', { allow: ['a'] }],
  ['subjects', ['deny'], '[d]', { deny: ['d'] }],
  ['allow_responses', ['max', 'max_msgs', 'max_messages', 'max_responses'], '5', { max: 5 }],
  ['allow_responses', ['expires', 'expiration', 'ttl'], '"1m"', { expires: '1m' }],

  // ---- tls
  ['tls', ['cert_file'], 'x.pem', { cert: 'x.pem' }],
  ['tls', ['key_file'], 'x.key', { key: 'x.key' }],
  ['tls', ['ca_file'], 'ca.pem', { ca: 'ca.pem' }],
  ['tls', ['verify'], 'true', { verify: true }],
  ['tls', ['timeout'], '3', { timeout: 3000 }],
  ['tls', ['insecure'], 'true', 'ignored'],
  ['tls', ['connection_rate_limit'], '100', 'ignored'],
  ['tls', ['verify_and_map'], 'true', { verify: true, verifyAndMap: true }],
  ['tls', ['verify_cert_and_check_known_urls'], 'true', 'refused'],
  ['tls', ['cipher_suites'], '[TLS_AES_128_GCM_SHA256]', 'refused'],
  ['tls', ['curve_preferences'], '[X25519]', 'refused'],
  ['tls', ['min_version'], '"1.3"', 'refused'],
  ['tls', ['pinned_certs'], '[abc]', 'refused'],
  ['tls', ['cert_store'], 'WindowsCurrentUser', 'refused'],
  ['tls', ['cert_match_by'], 'Subject', 'refused'],
  ['tls', ['cert_match'], 'x', 'refused'],
  ['tls', ['cert_match_skip_invalid'], 'true', 'refused'],
  ['tls', ['ca_certs_match'], '[x]', 'refused'],
  ['tls', ['handshake_first', 'first', 'immediate'], 'true', 'refused'],
  ['tls', ['ocsp_peer'], 'true', 'refused'],
  ['tls', ['certs', 'certificates'], '[ { cert_file: a, key_file: b } ]', 'refused'],

  // ---- websocket
  ['websocket', ['listen'], '"127.0.0.1:8080"', { host: '127.0.0.1', port: 8080 }],
  ['websocket', ['port'], '8080', { port: 8080 }],
  ['websocket', ['host', 'net'], '127.0.0.1', { host: '127.0.0.1' }],
  ['websocket', ['no_tls'], 'true', {}],
  ['websocket', ['compression', 'compress'], 'true', { compression: true }],
  ['websocket', ['same_origin'], 'true', { sameOrigin: true }],
  ['websocket', ['allowed_origins', 'allowed_origin', 'allow_origins', 'allow_origin', 'origins', 'origin'], '"http://a"', { allowedOrigins: ['http://a'] }],
  ['websocket', ['advertise'], '"h:1"', 'ignored'],
  ['websocket', ['handshake_timeout'], '"2s"', 'ignored'],
  ['websocket', ['tls'], '{ cert_file: c, key_file: k }', { tls: { cert: 'c', key: 'k' } }],
  ['websocket', ['authorization', 'authentication'], '{ token: t, timeout: 1.5 }', { authorization: { token: 't', timeout: 1500 } }],
  ['websocket', ['jwt_cookie'], 'jwt', { jwtCookie: 'jwt' }],
  ['websocket', ['no_auth_user'], 'u', { noAuthUser: 'u' }],

  // ---- jetstream { }
  ['jetstream', ['store', 'store_dir', 'storedir'], '/tmp/js', { storeDir: '/tmp/js' }],
  ['jetstream', ['max_memory_store', 'max_mem_store', 'max_mem'], '"1G"', { maxMemory: 1024 ** 3 }],
  ['jetstream', ['max_file_store', 'max_file'], '1048576', { maxStore: 1048576 }],
  ['jetstream', ['domain'], 'hub', { domain: 'hub' }],
  ['jetstream', ['enable', 'enabled'], 'false', { enabled: false }],
  ['jetstream', ['sync', 'sync_interval'], '"2m"', 'ignored'],
  ['jetstream', ['extension_hint'], 'x', 'ignored'],
  ['jetstream', ['unique_tag'], 'az', { uniqueTag: 'az' }],
  ['jetstream', ['max_outstanding_catchup'], '64M', 'ignored'],
  ['jetstream', ['request_queue_limit'], '1000', 'ignored'],
  ['jetstream', ['key', 'ek', 'encryption_key'], 's3cr3t', 'refused'],
  ['jetstream', ['prev_key', 'prev_ek', 'prev_encryption_key'], 's3cr3t', 'refused'],
  ['jetstream', ['cipher'], 'aes', 'refused'],
  ['jetstream', ['limits'], '{ max_ack_pending: 10 }', 'refused'],

  // ---- an account of the accounts block
  ['account', ['users'], '[ { user: a } ]', { users: [{ user: 'a' }] }],
  ['account', ['default_permissions'], '{ publish: a }', {}],
  ['account', ['nkey'], 'AKEY', 'ignored'],
  ['account', ['jetstream'], 'enabled', { jetstream: true }],
  ['account', ['mappings', 'maps'], '{ a: b }', 'ignored'],
  ['account', ['imports'], '[ { stream: { account: A, subject: x } } ]', { imports: [{ stream: { account: 'A', subject: 'x' } }] }],
  ['account', ['exports'], '[ { service: x, response_type: stream } ]', { exports: [{ service: 'x', responseType: 'stream' }] }],
  ['account', ['limits'], '{ max_conn: 1 }', 'refused'],

  // ---- an account's jetstream { } (sizes are int64 only: the lexer's suffixes work, quoted "1G" does not)
  ['account_jetstream', ['max_memory', 'max_mem', 'mem', 'memory'], '1G', { maxMemory: 1e9 }],
  ['account_jetstream', ['max_store', 'max_file', 'max_disk', 'store', 'disk'], '2GB', { maxStore: 2 * 1024 ** 3 }],
  ['account_jetstream', ['max_streams', 'streams'], '10', { maxStreams: 10 }],
  ['account_jetstream', ['max_consumers', 'consumers'], '20', { maxConsumers: 20 }],
  ['account_jetstream', ['max_bytes_required', 'max_stream_bytes', 'max_bytes'], 'true', { maxBytesRequired: true }],
  ['account_jetstream', ['mem_max_stream_bytes', 'memory_max_stream_bytes'], '1024', { memoryMaxStreamBytes: 1024 }],
  ['account_jetstream', ['disk_max_stream_bytes', 'store_max_stream_bytes'], '4096', { storeMaxStreamBytes: 4096 }],
  ['account_jetstream', ['max_ack_pending'], '100', { maxAckPending: 100 }],
];

const map = (text: string) => optionsFromConf(parseConf(text, 'keys.conf', {}));

describe('every nats-server v2.10.29 config key', () => {
  it('is in the table: each block lists exactly the keys nats-server knows', () => {
    for (const block of Object.keys(NATS_SERVER_KEYS) as Block[]) {
      const listed = TABLE.filter(([b]) => b === block).flatMap(([, keys]) => keys);
      expect([...listed].sort(), block).toEqual([...NATS_SERVER_KEYS[block]].sort());
      expect(new Set(listed).size, `${block}: a key listed twice`).toBe(listed.length);
    }
  });

  for (const [block, keys, value, outcome] of TABLE) {
    const name = `${block}: ${keys.join(' / ')} → ${typeof outcome === 'string' ? outcome : JSON.stringify(outcome)}`;
    it(name, () => {
      // Each alias, as written and upper-cased (nats-server lower-cases keys before matching).
      for (const key of keys.flatMap((k) => [k, k.toUpperCase()])) {
        const text = BLOCKS[block].conf(`${key}: ${value}`);
        if (outcome === 'refused') {
          const e = configErrorOf(() => map(text));
          expect(e.message, text).toMatch(/: not supported by nats-embedded yet \(refusing to start without it\)$/);
          expect(e.option.endsWith(key), text).toBe(true);
          continue;
        }
        const r = map(text);
        if (outcome === 'ignored') {
          expect(r.warnings, text).toHaveLength(1);
          expect(r.warnings[0], text).toMatch(new RegExp(`^keys\\.conf:1:\\d+: ".*${key}" is not supported by nats-embedded yet; ignored$`));
          // Nothing else changes: the block is as if the key were not there.
          const empty = BLOCKS[block].wrap({});
          expect({ options: r.options, process: r.process }, text).toEqual({ options: empty.options ?? {}, process: empty.process ?? {} });
          continue;
        }
        const want = BLOCKS[block].wrap(outcome);
        expect({ options: r.options, process: r.process }, text).toEqual({ options: want.options ?? {}, process: want.process ?? {} });
        expect(r.warnings, text).toEqual([]);
      }
    });
  }
});

describe("an account's jetstream value (parseJetStreamForAccount)", () => {
  const account = (value: string) => map(`accounts {\n  A: { jetstream: ${value} }\n}`).options.accounts?.A;

  it('takes a boolean, enabled/enable/disabled/disable in any case, or the limits block ({} = no limits)', () => {
    expect(account('true')).toEqual({ jetstream: true });
    expect(account('false')).toEqual({ jetstream: false });
    expect(account('Enabled')).toEqual({ jetstream: true });
    expect(account('enable')).toEqual({ jetstream: true });
    expect(account('DISABLED')).toEqual({ jetstream: false });
    expect(account('disable')).toEqual({ jetstream: false });
    expect(account('{}')).toEqual({ jetstream: {} });
  });

  // The texts as nats-server 2.9.10 printed them for the same files (d.conf, e.conf, f.conf of
  // the probe; 2.10.29's parseJetStreamForAccount has the same strings).
  it('refuses other values in nats-server\'s words, with the position', () => {
    const e = (value: string) => configErrorOf(() => account(value));
    expect(e('"yes"').message).toBe('Invalid option "accounts.A.jetstream": keys.conf:2:8: Expected \'enabled\' or \'disabled\' for string value, got \'yes\'');
    expect(e('[1]').message).toMatch(/: Expected map, bool or string to define JetStream, got \[\]interface \{\}$/);
    expect(e('5').message).toMatch(/: Expected map, bool or string to define JetStream, got int64$/);
    const size = e('{ max_mem: "1G" }');
    expect(size.option).toBe('accounts.A.jetstream.max_mem');
    expect(size.message).toMatch(/keys\.conf:2:\d+: Expected a parseable size for "max_mem", got 1G$/);
    expect(e('{ Max_Streams: 1.5 }').message).toMatch(/: Expected a parseable size for "Max_Streams", got 1\.5$/);
    expect(e('{ max_bytes_required: 1 }').message).toMatch(/: Expected a parseable bool for "max_bytes_required", got 1$/);
    const unknown = e('{ max_msgs: 1 }');
    expect(unknown.option).toBe('accounts.A.jetstream.max_msgs');
    expect(unknown.message).toMatch(/: unknown field "max_msgs"$/);
  });

  it('lets a key that only serves as a variable be', () => {
    const r = map('accounts { A: { jetstream: { LIMIT: 5, max_streams: $LIMIT } } }');
    expect(r.options.accounts?.A).toEqual({ jetstream: { maxStreams: 5 } });
  });
});
