import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConf, parseConfFile } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { configErrorOf } from '../helpers/errors.js';

const values = (text: string, env: NodeJS.ProcessEnv = {}) => parseConf(text, 'test.conf', env).values;

describe('config format', () => {
  it('accepts the three key/value separators, comments and semicolons', () => {
    expect(values('a: 1\nb = 2\nc 3 # comment\n// another\nd: 4; e: 5')).toEqual({ a: 1, b: 2, c: 3, d: 4, e: 5 });
  });

  it('reads strings: double-quoted with escapes, single-quoted raw, bare, and block strings', () => {
    expect(values('a: "x\\ty\\x41\\"q\\\\"\nb: \'raw \\n\'\nc: bare-word\nd: nats-route://h:1\ne: (\nline one\n  line two\n)\n')).toEqual({
      a: 'x\tyA"q\\',
      b: 'raw \\n',
      c: 'bare-word',
      d: 'nats-route://h:1',
      e: '\nline one\n  line two',
    });
  });

  it('takes quoted keys as written, without escapes (lex.go lexDubQuotedKey)', () => {
    expect(values('"a\\x41\\": 1\n\'b"c\': 2\nm { "k\\n": 3 }')).toEqual({ 'a\\x41\\': 1, 'b"c': 2, m: { 'k\\n': 3 } });
  });

  it('reads numbers with size suffixes, negatives, floats and IP-like strings', () => {
    expect(values('a: 1k\nb: 1kb\nc: 2MB\nd: 1gi\ne: -1\nf: 2.5\ng: 127.0.0.1:4222\nh: 4222abc')).toEqual({
      a: 1000, b: 1024, c: 2 * 1024 * 1024, d: 1024 ** 3, e: -1, f: 2.5, g: '127.0.0.1:4222', h: '4222abc',
    });
  });

  it('reads booleans in every spelling nats-server accepts', () => {
    expect(values('a: true\nb: yes\nc: on\nd: false\ne: NO\nf: off')).toEqual({ a: true, b: true, c: true, d: false, e: false, f: false });
  });

  it('reads nested maps and arrays (commas or new lines), and a file wrapped in braces', () => {
    const text = '{\n cluster {\n  name: C\n  routes: [\n   nats-route://a:1\n   "nats-route://b:2", nats-route://c:3\n  ]\n }\n list: [1, 2, [3]]\n}\n';
    expect(values(text)).toEqual({
      cluster: { name: 'C', routes: ['nats-route://a:1', 'nats-route://b:2', 'nats-route://c:3'] },
      list: [1, 2, [3]],
    });
  });

  it('resolves variables from enclosing blocks, then the environment', () => {
    expect(values('port_var: 4333\nport: $port_var\nb { inner: 5, x: $inner, y: $port_var }\nz: $FROM_ENV', { FROM_ENV: '64kb' })).toEqual({
      port_var: 4333, port: 4333, b: { inner: 5, x: 5, y: 4333 }, z: 65536,
    });
    expect(configErrorOf(() => values('a: $MISSING')).message).toMatch(/test\.conf:1:4: variable reference for 'MISSING' can not be found/);
  });

  it('records which keys variable references used (nats-server lets those be), in includes too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conf-'));
    writeFileSync(join(dir, 'vars.conf'), 'SECRET: s3\nauthorization { token: $SECRET }\n');
    writeFileSync(join(dir, 'main.conf'), 'PORT: 4333\nport: $PORT\nUNUSED: 1\nb { V: 1, x: $V, l: [ { W: 2, y: $W } ] }\nenv: $FROM_ENV\nc { include vars.conf }\n');
    const parsed = parseConfFile(join(dir, 'main.conf'), { FROM_ENV: '1' });
    expect([...parsed.usedVariables].sort()).toEqual(['PORT', 'b.V', 'b.l.0.W', 'c.SECRET']);
    // Only a map's own keys are variables.
    expect(configErrorOf(() => values('a: $toString')).message).toMatch(/variable reference for 'toString' can not be found/);
  });

  it('reads an unquoted bcrypt hash ($2a$...) as a string, not a variable (nats-server\'s bcryptPrefix)', () => {
    const hash = '$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG';
    expect(values(`password: ${hash}`)).toEqual({ password: hash });
    expect(parseConf(`password: ${hash}`, 'test.conf', {}).usedVariables.size).toBe(0);
  });

  it('includes files relative to the including file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conf-'));
    writeFileSync(join(dir, 'limits.conf'), 'max_payload: 2KB\n');
    writeFileSync(join(dir, 'main.conf'), 'port: 1\ninclude ./limits.conf\n');
    expect(parseConfFile(join(dir, 'main.conf')).values).toEqual({ port: 1, max_payload: 2048 });
    writeFileSync(join(dir, 'loop.conf'), 'include loop.conf\n');
    expect(configErrorOf(() => parseConfFile(join(dir, 'loop.conf'))).message).toMatch(/include cycle/);
  });

  it('reports errors with file, line and column', () => {
    expect(configErrorOf(() => values('a: 1\nb: "open')).message).toMatch(/test\.conf:2:4: unterminated string/);
    expect(configErrorOf(() => values('a {\n  b: 1\n')).message).toMatch(/test\.conf:3:1: missing '}'/);
    expect(configErrorOf(() => values('a: [1,, 2]')).message).toMatch(/test\.conf:1:7: unexpected ','/);
    expect(configErrorOf(() => values('a: "\\q"')).message).toMatch(/test\.conf:1:6: invalid escape/);
    expect(configErrorOf(() => values('a: 1 2')).message).toMatch(/test\.conf:1:6: expected a new line/);
    expect(configErrorOf(() => values('a:\n')).message).toMatch(/test\.conf:1:3: expected a value/);
  });
});

describe('config keys → options', () => {
  const map = (text: string) => optionsFromConf(parseConf(text, 'test.conf', {}));

  it('maps nats-server keys onto createServer() options', () => {
    const r = map([
      'listen: "127.0.0.1:-1"', 'server_name: n1', 'max_payload: 64KB', 'max_control_line: 2048', 'max_pending: 1MB',
      'max_connections: 10', 'max_subs: 5', 'ping_interval: "30s"', 'ping_max: 3', 'write_deadline: "2s"',
      'lame_duck_duration: "1m"', 'lame_duck_grace_period: "5s"', 'no_header_support: true', 'http: "127.0.0.1:8222"',
      'cluster { name: C, listen: "127.0.0.1:-1", routes: [nats-route://127.0.0.1:7000], no_advertise: true, connect_retries: 2 }',
      'debug: true', 'trace: false', 'logtime: false', 'log_file: /tmp/x.log', 'pid_file: /tmp/x.pid', 'ports_file_dir: /tmp',
    ].join('\n'));
    expect(r.options).toEqual({
      host: '127.0.0.1', port: -1, serverName: 'n1', maxPayload: 65536, maxControlLine: 2048, maxPending: 1048576,
      maxConnections: 10, maxSubscriptions: 5, pingInterval: '30s', maxPingsOut: 3, writeDeadline: '2s',
      lameDuckDuration: '1m', lameDuckGracePeriod: '5s', noHeaderSupport: true, http: { host: '127.0.0.1', port: 8222 },
      cluster: { name: 'C', host: '127.0.0.1', port: -1, routes: ['nats-route://127.0.0.1:7000'], noAdvertise: true, connectRetries: 2 },
    });
    expect(r.process).toEqual({ debug: true, trace: false, logtime: false, logFile: '/tmp/x.log', pidFile: '/tmp/x.pid', portsFileDir: '/tmp' });
    expect(r.warnings).toEqual([]);
  });

  it('maps authorization blocks, users, permissions and no_auth_user', () => {
    const r = map([
      'authorization {',
      '  timeout: 0.5',
      '  users: [',
      '    { user: alice, password: "$2a$11$abc", permissions: { publish: "a.>", subscribe: { allow: ["b.>", "c q1"], deny: "b.secret" }, allow_responses: { max: 2, expires: "1m" } } }',
      '    { nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4 }',
      '  ]',
      '}',
      'no_auth_user: alice',
    ].join('\n'));
    expect(r.options).toEqual({
      authorization: {
        timeout: 500,
        users: [
          { user: 'alice', password: '$2a$11$abc', permissions: { publish: 'a.>', subscribe: { allow: ['b.>', 'c q1'], deny: ['b.secret'] }, allowResponses: { max: 2, expires: '1m' } } },
          { nkey: 'UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4' },
        ],
      },
      noAuthUser: 'alice',
    });
    expect(configErrorOf(() => map('authorization { user: u, password: p, token_x: 1 }')).option).toBe('authorization.token_x');
  });

  it('takes numeric durations as seconds, with nats-server\'s warning', () => {
    const r = map('ping_interval: 60');
    expect(r.options.pingInterval).toBe(60_000);
    expect(r.warnings).toEqual(['test.conf:1:1: invalid use of field "ping_interval": ping_interval should be converted to a duration']);
  });

  it('accepts `permission` for a user\'s permissions, and names an unknown key once, with its position', () => {
    const text = 'authorization {\n  users: [\n    { user: a, password: b, permission: { publish: "x" } }\n  ]\n}\n';
    expect(map(text).options).toEqual({ authorization: { users: [{ user: 'a', password: 'b', permissions: { publish: 'x' } }] } });
    const e = configErrorOf(() => map('authorization {\n  users: [\n    { user: a,\n      bogus: 1 }\n  ]\n}\n'));
    expect(e.option).toBe('authorization.users[0].bogus');
    // nats-server: `test.conf:4:7: unknown field "bogus"`.
    expect(e.message).toBe('Invalid option "authorization.users[0].bogus": test.conf:4:7: unknown field "bogus"');
  });

  it('lets keys be that only serve as variables, as nats-server does; unused ones are unknown', () => {
    const r = map('TOKEN: s3cr3t\nauthorization { PW: p, users: [ { user: a, password: $PW, PERMS: { publish: x }, permissions: $PERMS } ] }\naccounts { DEFAULT: { publish: y }, A: { users: [ { user: b, permissions: $DEFAULT } ] } }\nno_auth_user: a\nserver_name: $TOKEN');
    expect(r.options.authorization).toEqual({ users: [{ user: 'a', password: 'p', permissions: { publish: 'x' } }] });
    expect(r.options.accounts).toEqual({ A: { users: [{ user: 'b', permissions: { publish: 'y' } }] } });
    expect(configErrorOf(() => map('UNUSED: 1\nport: 4222')).message).toBe('Invalid option "UNUSED": test.conf:1:1: unknown field "UNUSED"');
  });

  it('gives an account\'s default_permissions to its users without permissions, and reads accounts: [A, B]', () => {
    const r = map('accounts { A: { default_permissions: { publish: d }, users: [ { user: a }, { user: b, permissions: { publish: own } } ] } }');
    expect(r.options.accounts).toEqual({ A: { users: [{ user: 'a', permissions: { publish: 'd' } }, { user: 'b', permissions: { publish: 'own' } }] } });
    expect(map('accounts: [A, B]').options.accounts).toEqual({ A: {}, B: {} });
  });

  it('reads authorization timeout as nats-server does: seconds as a number, anything else 1 second (with a warning)', () => {
    expect(map('authorization { token: t, timeout: 3 }').options.authorization?.timeout).toBe(3000);
    const r = map('authorization { token: t, timeout: "5s" }');
    expect(r.options.authorization?.timeout).toBe(1000);
    expect(r.warnings[0]).toMatch(/^test\.conf:1:27: "authorization\.timeout" must be a number of seconds; nats-server takes "5s" as 1 second/);
  });

  it('reads allow_responses as nats-server: 0 means the default, expires is a duration string', () => {
    const perms = (inner: string) => map(`authorization { users: [ { user: a, permissions: { allow_responses: { ${inner} } } } ] }`)
      .options.authorization?.users?.[0].permissions?.allowResponses;
    expect(perms('max: 0, expires: "0s"')).toEqual({});
    expect(perms('max_responses: 3, expiration: "10s"')).toEqual({ max: 3, expires: '10s' });
    expect(configErrorOf(() => perms('ttl: 5')).message).toMatch(/allow_responses\.ttl": test\.conf:1:\d+: expected a duration string$/);
    expect(configErrorOf(() => perms('ttl: "5 parsecs"')).message).toMatch(/allow_responses\.ttl": test\.conf:1:\d+: invalid duration "5 parsecs"/);
  });

  it('matches keys case-insensitively and accepts the alias spellings', () => {
    expect(map('PORT: 5\nnet: 0.0.0.0\nhttp_port: 8222\nmax_conn: 3').options).toEqual({ port: 5, host: '0.0.0.0', http: 8222, maxConnections: 3 });
  });

  it('reads jetstream as nats-server: a boolean, enabled/disabled, or a block; store_dir once', () => {
    expect(map('jetstream: true').options).toEqual({ jetstream: { enabled: true } });
    expect(map('jetstream: Disabled').options).toEqual({ jetstream: { enabled: false } });
    expect(configErrorOf(() => map('jetstream: maybe')).message).toMatch(/test\.conf:1:\d+: Expected 'enabled' or 'disabled' for string value, got 'maybe'$/);
    expect(configErrorOf(() => map('jetstream: 5')).message).toMatch(/Expected map, bool or string to define JetStream$/);
    // A string size counts in powers of 1024 (getStorageSize); an unquoted 1G is the lexer's 10^9.
    expect(map('jetstream { max_mem: "2K", max_file: 1G }').options.jetstream).toEqual({ enabled: true, maxMemory: 2048, maxStore: 1e9 });
    expect(configErrorOf(() => map('jetstream { max_file: "12Q" }')).message).toMatch(/max_file_store sizes defined as strings must end in K, M, G, T$/);
    // The top-level store_dir does not turn JetStream on, and may not be given twice.
    expect(map('store_dir: /a\njetstream: enabled').options.jetstream).toEqual({ enabled: true, storeDir: '/a' });
    expect(map('jetstream { enabled: false }\nstore_dir: /a').options.jetstream).toEqual({ enabled: false, storeDir: '/a' });
    expect(configErrorOf(() => map('store_dir: /a\njetstream { store_dir: /b }')).message).toMatch(/test\.conf:2:\d+: Duplicate 'store_dir' configuration$/);
  });

  it('warns about (and ignores) blocks for features not built yet', () => {
    const r = map('port: 1\nmqtt { port: -1 }\nserver_tags: ["a"]');
    expect(r.options).toEqual({ port: 1, serverTags: ['a'] });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/test\.conf:2:1: "mqtt" is not supported/);
  });

  it('maps the gateway block and its remote gateways (url or urls), with their tls blocks', () => {
    expect(map('gateway { name: A, listen: "127.0.0.1:7222", advertise: "h:1", connect_retries: 2, reject_unknown_cluster: true,'
      + ' authorization { user: u, password: p }, gateways: [{ name: B, url: "nats://127.0.0.1:7223" }, { name: C, urls: ["nats://h:1", "nats://h:2"] }] }').options).toEqual({
      gateway: {
        name: 'A', host: '127.0.0.1', port: 7222, advertise: 'h:1', connectRetries: 2, rejectUnknown: true, authorization: { user: 'u', password: 'p' },
        gateways: [{ name: 'B', url: 'nats://127.0.0.1:7223' }, { name: 'C', urls: ['nats://h:1', 'nats://h:2'] }],
      },
    });
    expect(map('gateway { name: A, tls { cert_file: c, key_file: k, ca_file: ca, verify: true, timeout: 3 }, gateways: [{ name: B, url: "tls://h:1", tls { cert_file: c2, key_file: k2 } }] }').options).toEqual({
      gateway: {
        name: 'A', tls: { cert: 'c', key: 'k', ca: 'ca', verify: true, timeout: 3000 },
        gateways: [{ name: 'B', url: 'tls://h:1', tls: { cert: 'c2', key: 'k2' } }],
      },
    });
  });

  it('maps the websocket block (and its ws alias) with its TLS and websocket-only auth keys', () => {
    expect(map('websocket { listen: "127.0.0.1:-1", no_tls: true, compression: true, same_origin: true, allowed_origins: ["http://a:1"] }').options).toEqual({
      websocket: { host: '127.0.0.1', port: -1, noTls: true, compression: true, sameOrigin: true, allowedOrigins: ['http://a:1'] },
    });
    expect(map('ws { port: 8080, no_tls: true, origin: "http://b" }').options).toEqual({
      websocket: { port: 8080, noTls: true, allowedOrigins: ['http://b'] },
    });
    const ignored = map('websocket { port: 1, no_tls: true, handshake_timeout: "2s" }');
    expect(ignored.warnings[0]).toMatch(/"websocket\.handshake_timeout" is not supported/);
    expect(map('websocket { port: 1, jwt_cookie: "jwt", no_auth_user: a, authorization { user: u, pass: p, timeout: 3 }, tls { cert_file: a, key_file: b, verify_and_map: true } }').options).toEqual({
      websocket: {
        port: 1, jwtCookie: 'jwt', noAuthUser: 'a', authorization: { user: 'u', password: 'p', timeout: 3000 },
        tls: { cert: 'a', key: 'b', verify: true, verifyAndMap: true },
      },
    });
    // parseSimpleAuth knows no users list.
    expect(configErrorOf(() => map('websocket { port: 1, no_tls: true, authorization { users: [] } }')).message).toMatch(/unknown field "users"/);
    expect(configErrorOf(() => map('websocket { port: 1, nope: 2 }')).message).toBe('Invalid option "websocket.nope": test.conf:1:22: unknown field "nope"');
  });

  it('refuses security settings it cannot honour, and unknown keys, naming them with their position', () => {
    const unsafe = configErrorOf(() => map('port: 1\ntrusted: OKEY'));
    expect(unsafe.option).toBe('trusted');
    expect(unsafe.message).toBe('Invalid option "trusted": test.conf:2:1: not supported by nats-embedded yet (refusing to start without it)');
    expect(configErrorOf(() => map('resolver: URL("http://h/jwt/v1/accounts/")')).message).toBe(
      'Invalid option "resolver": test.conf:1:1: only the MEMORY and directory resolvers are supported by nats-embedded yet (refusing to start without it)');
    // The directory resolvers are read (opts.go parseAccountResolver's keys; the checks are resolveOptions').
    expect(map('resolver { type: FULL, dir: /tmp/jwt, allow_delete: true, interval: "2m", limit: 5, timeout: "1s", other: 1 }').options).toEqual({
      resolver: { type: 'full', dir: '/tmp/jwt', allowDelete: true, interval: 120_000, limit: 5, timeout: 1000 },
    });
    expect(map('resolver { type: cache, dir: "./c", ttl: "1h" }').options).toEqual({ resolver: { type: 'cache', dir: './c', ttl: 3_600_000 } });
    expect(map('resolver { type: mem }').options).toEqual({ resolver: 'MEMORY' });
    expect(configErrorOf(() => map('resolver { type: url, dir: /tmp/jwt }')).message).toBe(
      'Invalid option "resolver": test.conf:1:1: error parsing account resolver, should be MEM or  URL("url") or a map containing dir and type state=[FULL|CACHE])');
    expect(map('tls { cert_file: a.pem, key_file: a.key, ca_file: ca.pem, verify: true, timeout: 3 }').options).toEqual({
      tls: { cert: 'a.pem', key: 'a.key', ca: 'ca.pem', verify: true, timeout: 3000 },
    });
    expect(configErrorOf(() => map('tls { cert_file: a.pem }')).message).toMatch(/needs cert_file and key_file/);
    const unknown = configErrorOf(() => map('port: 1\n\n  prot: 2'));
    expect(unknown.option).toBe('prot');
    // The path once (as the option), the position once, then nats-server's words.
    expect(unknown.message).toBe('Invalid option "prot": test.conf:3:3: unknown field "prot"');
    expect(configErrorOf(() => map('cluster { nmae: x }')).message).toBe('Invalid option "cluster.nmae": test.conf:1:11: unknown field "nmae"');
    expect(configErrorOf(() => map('max_payload: "big"')).message).toBe('Invalid option "max_payload": test.conf:1:1: expected an integer');
  });
});
