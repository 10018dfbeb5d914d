/**
 * The config writer (`natsServerConfig`, options → nats-server config file) is the inverse of
 * the config reader (`parseConf` + `optionsFromConf`, file → options): for generated options,
 *
 *   optionsFromConf(parseConf(natsServerConfig(resolveOptions(o), ports))) ≅ resolveOptions(o)
 *
 * where ≅ resolves the options read back (with the CLI's merge of `debug`/`trace`, which the
 * file gives to the process settings) and compares the two resolved options (the auth timeout
 * to a nanosecond: it travels as float seconds). The same files also go through the real
 * `nats-server -t` (the version installed), which must call them valid.
 *
 * Generated: every option a config file carries and the writer writes. Not generated, because
 * the round trip cannot carry them:
 * - `backend`, `logger`, `seed`, `cluster.reconnectDelay`, `gateway.reconnectDelay`: no nats-server config key;
 * - `tls`, `cluster.tls`, `gateway.tls`: the resolved options hold PEM contents, a config file names files
 *   (and the `nats-server` backend refuses TLS, so the writer leaves it out);
 * - `websocket`, `allowNonTls`: not written (the backend refuses websocket; allow_non_tls
 *   only matters with TLS);
 * - no `http`: the writer always adds a monitoring listener (the backend needs one);
 * - `lameDuckDuration` below 30 s: raised to nats-server's minimum;
 * - fractions of a millisecond: written as whole nanoseconds (Go's resolution);
 * - `allowResponses: false` (written as nothing, which is the same) and `max: 0` (nats-server
 *   reads 0 as "the default", 1).
 *
 * Generated only as nats-server accepts them, although `resolveOptions()` accepts more: a token
 * or a single user without users anywhere (opts.go: "Can not have a token and a users array"),
 * nkeys with a valid checksum, account names without both quote characters or a NUL (a quoted
 * key has no escapes; the writer throws for those).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServerBinary } from '../../src/backend/nats-server.js';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from '../../src/config/options.js';
import { natsServerConfig, type ProcessPorts } from '../../src/config/to-conf.js';

const INT32_MAX = 2 ** 31 - 1;

// ---- Generators ----------------------------------------------------------------------------

/** Any text: quotes, backslashes, `$`, `#`, control characters, non-ASCII. */
const text = fc.string({ minLength: 1, maxLength: 12, unit: fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'Z', '0', '"', "'", '\\', '$', '#', '{', '}', '[', ']', ':', '=', ',', ' ', '.', '*', '>') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('é', 'µ', '中', '😀', '\u007f', '\u00a0') },
) });
/** A name (server, cluster, account): no white space. */
const name = text.filter((s) => !/\s/.test(s));
/** An account name is a quoted key in the file: it cannot hold both quote characters, nor a NUL. */
const accountName = name.filter((s) => !(s.includes('"') && s.includes("'")) && !s.includes('\0'));
const subject = fc.constantFrom('a', 'a.b', 'a.*', 'a.>', '>', '_INBOX.>', 'q.x queue', 'a-b.c_d', 'é.x');
const subjects = fc.array(subject, { maxLength: 3 });
const subjectPermission = fc.oneof(
  subject,
  subjects,
  fc.record({ allow: subjects, deny: subjects }, { requiredKeys: [] }),
);
const permissions = fc.record({
  publish: subjectPermission,
  subscribe: subjectPermission,
  allowResponses: fc.oneof(
    fc.constant(true),
    fc.record({ max: fc.integer({ min: 1, max: INT32_MAX }), expires: fc.integer({ min: 1, max: 10 ** 9 }) }, { requiredKeys: [] }),
  ),
}, { requiredKeys: [] });
/** Public user nkeys with valid checksums (nats-server checks them; the resolver only checks the form). */
const nkey = fc.constantFrom(
  'UD4XDDF6WB5YDT63YUOBRAIAMSHJL3JOZSLM5FF26LU62WI2ICT3KF6H',
  'UCM7L5V66J7RNTKVPENEVNZUJG3MFXUWTYCQHJAFXFPLM4LP3XPRNQAF',
  'UAN5BSJ5CP6CUKO4CRAI2M5N6UKWDJOXFR2ZQ7QXWQEZUIGQ2SGVEGVV',
  'UCBTVMOPHTPUJ5ZXS6W7HSL6TWBTBRHYF3TUFW6WOCE2WSLN66JFTRDO',
  'UC2MRJR5SP4NT7ZU4IOBCPVIIB5M527AUIXP4VM2MT2JHDAAXETIVSB6',
  'UCRJL5STB36I5BKPLOL5YEXDAYJN6TTUE3EYN3QI427QX445JJHKMUVF',
);
const user = fc.oneof(
  fc.record({ user: text, password: text, permissions }, { requiredKeys: ['user'] }),
  fc.record({ nkey, permissions }, { requiredKeys: ['nkey'] }),
);
const hosts = fc.constantFrom('127.0.0.1', '0.0.0.0', '::1', '::', 'localhost', '10.1.2.3', 'fe80::1');
const port = fc.oneof(fc.constantFrom(0, -1), fc.integer({ min: 1, max: 65535 }));
const ms = fc.integer({ min: 1, max: 10 ** 10 });
const duration = fc.oneof(ms, fc.constantFrom('1h30m', '2.5s', '500ms', '10s'));

const routeUrl = fc.record({
  user: fc.option(text, { nil: undefined }),
  pass: fc.option(text, { nil: undefined }),
  host: fc.constantFrom('127.0.0.1', 'example.com', '::1', 'a-b.local'),
  port: fc.integer({ min: 1, max: 65535 }),
}).map(({ user: u, pass, host, port: p }) => {
  const auth = u === undefined ? '' : `${encodeURIComponent(u)}${pass === undefined ? '' : `:${encodeURIComponent(pass)}`}@`;
  return `nats-route://${auth}${host.includes(':') ? `[${host}]` : host}:${p}`;
});

const cluster = fc.record({
  name,
  host: hosts,
  port,
  routes: fc.array(routeUrl, { maxLength: 3 }),
  noAdvertise: fc.boolean(),
  connectRetries: fc.integer({ min: 0, max: INT32_MAX }),
}, { requiredKeys: [] });

/** A `gateway` block (its TLS left out, as the other `tls` blocks). */
const gateway = fc.record({
  name,
  host: hosts,
  port,
  advertise: fc.constantFrom('h:1', '10.0.0.1:7222'),
  connectRetries: fc.integer({ min: 0, max: INT32_MAX }),
  rejectUnknown: fc.boolean(),
  authorization: fc.record({ user: text, password: text }),
  gateways: fc.array(fc.record({ name, urls: fc.array(routeUrl, { minLength: 1, maxLength: 2 }) }), { maxLength: 2 }),
}, { requiredKeys: ['name'] });

const http = fc.oneof(
  port,
  fc.record({ host: hosts, port }, { requiredKeys: [] }),
  fc.tuple(hosts, port).map(([h, p]) => (h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`)),
);

/** An account's `jetstream`: on, off, or limits (any int64 nats-server takes; -1 unlimited). */
const jsLimit = fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }));
const accountJetStream = fc.option(fc.oneof(
  fc.boolean(),
  fc.record({
    maxMemory: jsLimit, maxStore: jsLimit, maxStreams: jsLimit, maxConsumers: jsLimit, maxAckPending: jsLimit,
    memoryMaxStreamBytes: jsLimit, storeMaxStreamBytes: jsLimit, maxBytesRequired: fc.boolean(),
  }, { requiredKeys: [] }),
), { nil: undefined });

/**
 * A token, a user/password, or users with distinct names spread over the global account and
 * named accounts. As nats-server (opts.go parseAuthorization, parseAccounts), a token or a single
 * user excludes users anywhere.
 */
const auth = fc.record({
  mode: fc.constantFrom('token', 'user', 'users'),
  token: text,
  user: text,
  password: text,
  users: fc.uniqueArray(user, { minLength: 1, maxLength: 4, selector: (u) => ('user' in u ? u.user : u.nkey) }),
  accounts: fc.uniqueArray(accountName, { maxLength: 3 }),
  accountJs: fc.array(accountJetStream, { minLength: 3, maxLength: 3 }),
  placement: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
  defaultPermissions: fc.option(permissions, { nil: undefined }),
  timeout: fc.option(fc.integer({ min: 1, max: 10 ** 6 }), { nil: undefined }),
  noAuthUser: fc.boolean(),
}).map((a): Pick<ServerOptions, 'authorization' | 'accounts' | 'noAuthUser'> => {
  const users = a.mode === 'users' ? a.users : [];
  const global: NonNullable<ServerOptions['authorization']>['users'] = [];
  const accounts: NonNullable<ServerOptions['accounts']> = {};
  a.accounts.forEach((n, i) => {
    const js = a.accountJs[i];
    accounts[n] = { users: [], ...(js === undefined ? {} : { jetstream: js }) };
  });
  users.forEach((u, i) => {
    const slot = a.placement[i] % (a.accounts.length + 1);
    if (slot === a.accounts.length) global.push(u);
    else accounts[a.accounts[slot]].users!.push(u);
  });
  const authorization: NonNullable<ServerOptions['authorization']> = {
    ...(a.mode === 'token' ? { token: a.token } : {}),
    ...(a.mode === 'user' ? { user: a.user, password: a.password } : {}),
    ...(global.length > 0 ? { users: global } : {}),
    ...(a.defaultPermissions !== undefined ? { defaultPermissions: a.defaultPermissions } : {}),
    ...(a.timeout !== undefined ? { timeout: a.timeout } : {}),
  };
  const first = users[0];
  return {
    authorization,
    ...(a.accounts.length > 0 ? { accounts } : {}),
    ...(a.noAuthUser && first !== undefined ? { noAuthUser: 'user' in first ? first.user : first.nkey } : {}),
  };
});

const options: fc.Arbitrary<ServerOptions> = fc.record({
  port,
  host: hosts,
  serverName: name,
  // Tags as a user writes them (case, spaces, repeats): they read back as resolved (lower case, trimmed, once).
  serverTags: fc.array(fc.constantFrom('ssd', ' SSD', 'az:1', 'Az:2 ', 'cloud:aws', '!jetstream'), { maxLength: 4 }),
  limits: fc.tuple(fc.integer({ min: 1, max: INT32_MAX }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER - INT32_MAX })),
  maxControlLine: fc.integer({ min: 1, max: INT32_MAX }),
  pingInterval: duration,
  maxPingsOut: fc.integer({ min: 1, max: INT32_MAX }),
  writeDeadline: duration,
  maxConnections: fc.integer({ min: 1, max: INT32_MAX }),
  maxSubscriptions: fc.integer({ min: 0, max: INT32_MAX }),
  noHeaderSupport: fc.boolean(),
  lameDuckDuration: fc.integer({ min: 30_000, max: 10 ** 9 }),
  lameDuckGracePeriod: duration,
  http,
  debug: fc.boolean(),
  trace: fc.boolean(),
  cluster,
  gateway,
  auth,
}, { requiredKeys: ['http'] }).map(({ limits, auth: a, ...o }): ServerOptions => ({
  ...o,
  ...(limits !== undefined ? { maxPayload: limits[0], maxPending: limits[0] + limits[1] } : {}),
  ...a,
}));

// ---- The round trip ------------------------------------------------------------------------

/** The ports the `nats-server` backend passes: -1 (random) for an ephemeral one. */
function ports(o: ResolvedOptions): ProcessPorts {
  return { client: o.port || -1, http: o.http?.port || -1, cluster: o.cluster?.port || -1 };
}

/** The options a config file reads back as, resolved (the CLI's merge of debug and trace). */
function readBack(text: string, backend: ResolvedOptions['backend']): ResolvedOptions {
  const { options: o, process } = optionsFromConf(parseConf(text));
  return resolveOptions({ ...o, backend, debug: process.debug === true, trace: process.trace === true });
}

/**
 * The authorization timeout travels as float seconds (the only form nats-server reads):
 * `x / 1000 * 1000` may differ from `x` in the last bit.
 */
function comparable(o: ResolvedOptions): ResolvedOptions {
  return o.auth === null ? o : { ...o, auth: { ...o.auth, timeoutMs: Math.round(o.auth.timeoutMs * 1e6) / 1e6 } };
}

describe('natsServerConfig() and optionsFromConf() round trip', () => {
  it('options → config file → options: the same resolved options', () => {
    fc.assert(
      fc.property(options, (o) => {
        const resolved = resolveOptions(o);
        const text = natsServerConfig(resolved, ports(resolved));
        expect(comparable(readBack(text, resolved.backend))).toEqual(comparable(resolved));
      }),
      { numRuns: 300 },
    );
  });

  it('the defaults round-trip (with a monitoring port)', () => {
    const resolved = resolveOptions({ http: -1 });
    expect(readBack(natsServerConfig(resolved, ports(resolved)), resolved.backend)).toEqual(resolved);
  });

  it('writes strings with nats-server\'s escapes, account names as raw quoted keys', () => {
    const o = resolveOptions({
      http: -1, authorization: { users: [{ user: 'u\u0001"\\\t\u00e9', password: 'p\f' }] }, accounts: { 'a"b': {}, 'c\\d': {} },
    });
    const text = natsServerConfig(o, ports(o));
    expect(text).toContain('{ user: "u\\x01\\"\\\\\\t\u00e9", password: "p\\x0c" }');
    expect(text).toContain(`  'a"b': { users: [] }\n  "c\\d": { users: [] }`);
    expect(() => natsServerConfig(resolveOptions({ accounts: { 'a"\'b': { users: [{ user: 'x' }] } } }), ports(o)))
      .toThrow(/"accounts\.a"'b": cannot be written into a nats-server config file/);
  });

  it('writes accounts without users too, with each account\'s JetStream limits in full', () => {
    const o = resolveOptions({ http: -1, jetstream: { storeDir: '/tmp/js' }, accounts: { A: { jetstream: { maxStreams: 2, maxBytesRequired: true } }, B: {}, C: { jetstream: true } } });
    const text = natsServerConfig(o, ports(o));
    expect(text).toContain([
      'accounts {',
      '  "A": { users: [], jetstream: { max_mem: -1, max_file: -1, max_streams: 2, max_consumers: -1, max_ack_pending: -1, memory_max_stream_bytes: -1, store_max_stream_bytes: -1, max_bytes_required: true } }',
      '  "B": { users: [] }',
      '  "C": { users: [], jetstream: { max_mem: -1, max_file: -1, max_streams: -1, max_consumers: -1, max_ack_pending: -1, memory_max_stream_bytes: -1, store_max_stream_bytes: -1, max_bytes_required: false } }',
      '}',
    ].join('\n'));
    expect(text).not.toContain('authorization');
    expect(readBack(text, o.backend)).toEqual(o);
  });

  it('writes exports and imports: they read back the same, and nats-server accepts them', () => {
    const o = resolveOptions({
      http: -1,
      accounts: {
        A: { exports: [{ stream: 'ev.>' }, { stream: 'o.*.*', accounts: ['B'] }, { service: 'svc.>', responseType: 'chunked', responseThreshold: '1.5s' }, { service: 'one', latency: { sampling: 'headers', subject: 'lat.one' } }, { service: 'two', latency: 'lat.two' }] },
        B: {
          imports: [
            { stream: { account: 'A', subject: 'ev.>' }, prefix: 'from.a' },
            { stream: { account: 'A', subject: 'o.*.*' }, to: 'b.$2.$1' },
            { service: { account: 'A', subject: 'svc.>' } },
            { service: { account: 'A', subject: 'one' }, to: 'a.one', share: true },
          ],
        },
      },
    });
    const text = natsServerConfig(o, ports(o));
    expect(text).toContain('exports: [{ stream: "ev.>" }, { stream: "o.*.*", accounts: ["B"] }, '
      + '{ service: "svc.>", response_type: chunked, response_threshold: "1500ms" }, { service: "one", response_type: singleton, response_threshold: "120000ms", latency: { sampling: "headers", subject: "lat.one" } }, '
      + '{ service: "two", response_type: singleton, response_threshold: "120000ms", latency: { sampling: 100, subject: "lat.two" } }]');
    expect(text).toContain('{ service: { account: "A", subject: "one" }, to: "a.one", share: true }');
    expect(readBack(text, o.backend)).toEqual(o);
    const bin = findNatsServerBinary();
    const dir = mkdtempSync(join(tmpdir(), 'config-roundtrip-'));
    try {
      writeFileSync(join(dir, 'server.conf'), text);
      const r = spawnSync(bin, ['-c', join(dir, 'server.conf'), '-t'], { encoding: 'utf8' });
      expect(`${r.stderr}${r.stdout}`).toContain('is valid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('nats-server accepts the config file written (nats-server -t)', () => {
    const bin = findNatsServerBinary();
    const dir = mkdtempSync(join(tmpdir(), 'config-roundtrip-'));
    try {
      fc.assert(
        fc.property(options, (o) => {
          const resolved = resolveOptions(o);
          const file = join(dir, 'nats-server.conf');
          writeFileSync(file, natsServerConfig(resolved, ports(resolved)));
          const r = spawnSync(bin, ['-t', '-c', file], { encoding: 'utf8' });
          expect(`${r.stdout}${r.stderr}`).toMatch(/is valid/);
        }),
        { numRuns: 30 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
