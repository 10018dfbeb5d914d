/**
 * The option table (src/config/table.ts) and what is derived from it: every `ServerOptions` key
 * has a row, the rows yield every `ResolvedOptions` field, the config keys are nats-server's and
 * appear once, the reload flags are nats-server's (server/reload.go, v2.10.29), and
 * `checkReload()` decides as `reload()` did before the table (the JSON comparisons of
 * `checkReloadable` in backend/embedded-controls.ts, formerly in server.ts; ephemeral ports
 * standing for the bound ones).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import fc from 'fast-check';
import { ConfigError } from '../../src/errors.js';
import * as optionsModule from '../../src/config/options.js';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from '../../src/config/options.js';
import { KNOWN_KEYS, OPTIONS, OPTION_ROWS, fieldsOf, type BoundPorts } from '../../src/config/table.js';
import { checkReload } from '../../src/config/reload.js';

describe('the option table', () => {
  it('has a row for every ServerOptions key, and no other', () => {
    expectTypeOf<keyof typeof OPTIONS>().toEqualTypeOf<keyof ServerOptions>();
    expect([...KNOWN_KEYS]).toEqual(Object.keys(OPTIONS));
  });

  it('its rows yield exactly the ResolvedOptions fields', () => {
    const yielded = OPTION_ROWS.flatMap(([, row]) => fieldsOf(row));
    expect(new Set(yielded).size).toBe(yielded.length);
    expect([...yielded].sort()).toEqual(Object.keys(resolveOptions({})).sort());
  });

  it('a part row belongs to a block row; only "no" rows hold a bound port', () => {
    for (const [name, row] of OPTION_ROWS) {
      if (row.kind === 'part') expect(OPTIONS[row.of].kind, name).toBe('block');
      if (row.bound !== undefined) expect(row.reload, name).toBe('no');
    }
  });

  it('config keys are lower case and each belongs to one option', () => {
    const keys = OPTION_ROWS.flatMap(([, row]) => row.conf?.keys ?? []);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    for (const k of keys) expect(k).toBe(k.toLowerCase());
  });

  it('reload flags: nats-server reloads these (reload.go diffOptions), nats-embedded also the "extension" ones', () => {
    const by = (flag: string): string[] => OPTION_ROWS.filter(([, r]) => r.reload === flag).map(([n]) => n).sort();
    expect(by('no')).toEqual(['backend', 'cluster', 'gateway', 'host', 'http', 'jetstream', 'leafnodes', 'port', 'serverName', 'websocket']);
    expect(by('yes')).toEqual([
      'accounts', 'authorization', 'debug', 'maxConnections', 'maxControlLine', 'maxPayload', 'maxPingsOut',
      'pingInterval', 'serverTags', 'tls', 'trace', 'writeDeadline',
    ]);
    expect(by('extension')).toEqual([
      'allowNonTls', 'lameDuckDuration', 'lameDuckGracePeriod', 'logger', 'maxPending', 'maxSubscriptions',
      'noAuthUser', 'noHeaderSupport', 'noSystemAccount', 'operator', 'resolver', 'resolverPreload', 'seed', 'systemAccount',
    ]);
  });

  it('defaults are nats-server\'s, as before the table', () => {
    const d = resolveOptions({ backend: 'embedded' });
    expect(d).toMatchObject({
      port: 0, host: '127.0.0.1', serverName: undefined, maxPayload: 1048576, maxControlLine: 4096,
      maxPending: 67108864, pingIntervalMs: 120_000, maxPingsOut: 2, writeDeadlineMs: 10_000, maxConnections: 65536,
      maxSubscriptions: 0, noHeaderSupport: false, lameDuckDurationMs: 120_000, lameDuckGracePeriodMs: 10_000,
      cluster: null, http: null, logger: null, debug: false, trace: false, seed: null, auth: null, accountNames: [],
      tls: null, allowNonTls: false, websocket: null,
    });
    expect(Object.isFrozen(d)).toBe(true);
  });

  it('options.ts exports the same values as before the split', () => {
    expect(Object.keys(optionsModule).sort()).toEqual(['BACKEND_ENV', 'parseDuration', 'parseDurationMs', 'parseRouteUrl', 'resolveOptions']);
  });

  it('names nested options by their path', () => {
    const option = (o: unknown): string | undefined => {
      try {
        resolveOptions(o as ServerOptions);
      } catch (err) {
        return (err as ConfigError).option;
      }
      return undefined;
    };
    expect(option([])).toBe('options');
    expect(option({ cluster: { port: 'x' } })).toBe('cluster.port');
    expect(option({ cluster: { tls: { cert: '' } } })).toBe('cluster.tls.cert');
    expect(option({ websocket: { noTls: true, bogus: 1 } })).toBe('websocket.bogus');
    expect(option({ authorization: { users: [{ user: 'a', permissions: { allowResponses: { max: -1 } } }] } }))
      .toBe('authorization.users[0].permissions.allowResponses.max');
    expect(option({ accounts: { A: { imports: {} } } })).toBe('accounts.A.imports');
    expect(option({ accounts: { A: { imports: [{ stream: { account: 'B', subject: 'x' } }] } } })).toBe('accounts.A.imports[0]');
    expect(option({ http: { port: 1, x: 1 } })).toBe('http.x');
  });
});

// ---- checkReload ---------------------------------------------------------------------------

const BOUND: BoundPorts = { port: 4222, clusterPort: 6222, websocketPort: 8080, monitorPort: 8222 };

function reloadError(current: ServerOptions, next: ServerOptions, bound = BOUND): string | null {
  try {
    checkReload(resolveOptions(current), resolveOptions(next), bound);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`Invalid option "${(err as ConfigError).option}": cannot be changed by a reload`);
    return (err as ConfigError).option;
  }
}

/**
 * `reload()`'s check before the table (`checkReloadable` in backend/embedded-controls.ts): the
 * fixed options that changed, in its order. Kept here as the reference `checkReload()` must
 * agree with.
 */
function referenceChanges(cur: ResolvedOptions, next: ResolvedOptions, b: BoundPorts): string[] {
  const out: string[] = [];
  for (const key of ['backend', 'host', 'serverName'] as const) if (next[key] !== cur[key]) out.push(key);
  const bound = (p: number, actual: number): number => (p === 0 ? actual : p);
  if (bound(next.port, b.port) !== bound(cur.port, b.port)) out.push('port');
  const block = <T extends { port: number }>(v: T | null, actual: number): string =>
    JSON.stringify(v === null ? null : { ...v, port: bound(v.port, actual) });
  if (block(next.cluster, b.clusterPort) !== block(cur.cluster, b.clusterPort)) out.push('cluster');
  if (block(next.websocket, b.websocketPort) !== block(cur.websocket, b.websocketPort)) out.push('websocket');
  if (block(next.http, b.monitorPort) !== block(cur.http, b.monitorPort)) out.push('http');
  return out;
}

describe('checkReload()', () => {
  it('refuses a change of the system account (reload.go), while the rest of authorization reloads', () => {
    const accounts = { A: { users: [{ user: 'a', password: 'p' }] }, B: { users: [{ user: 'b', password: 'p' }] } };
    expect(reloadError({ accounts, systemAccount: 'A' }, { accounts, systemAccount: 'B' })).toBe('systemAccount');
    expect(reloadError({ accounts, systemAccount: 'A' }, { accounts: { ...accounts, C: {} }, systemAccount: 'A' })).toBeNull();
  });

  it('lets every reloadable option change', () => {
    const base: ServerOptions = { backend: 'embedded' };
    const changed: ServerOptions = {
      maxPayload: 2048, maxControlLine: 1024, maxPending: 2 ** 27, pingInterval: 5, maxPingsOut: 5, writeDeadline: 7,
      maxConnections: 3, maxSubscriptions: 3, noHeaderSupport: true, lameDuckDuration: 9, lameDuckGracePeriod: 9,
      logger: { info() {}, warn() {}, error() {} }, debug: true, trace: true, seed: 1,
      authorization: { users: [{ user: 'a' }] }, noAuthUser: 'a', accounts: { A: {} },
      tls: { cert: '-----BEGIN CERTIFICATE-----', key: '-----BEGIN PRIVATE KEY-----' }, allowNonTls: true,
    };
    for (const [name, value] of Object.entries(changed)) {
      const next = name === 'noAuthUser' ? { ...base, authorization: changed.authorization, noAuthUser: 'a' } : { ...base, [name]: value };
      expect(reloadError(base, next), name).toBeNull();
    }
    expect(reloadError(base, { ...base, ...changed })).toBeNull();
  });

  it('refuses a change of each fixed option, naming it', () => {
    const base: ServerOptions = { backend: 'embedded', port: 4222, cluster: { port: 6222 }, websocket: { noTls: true }, http: 8222 };
    const cases: Array<[ServerOptions, string]> = [
      [{ backend: 'nats-server' }, 'backend'],
      [{ port: 4223 }, 'port'],
      [{ host: '0.0.0.0' }, 'host'],
      [{ serverName: 'other' }, 'serverName'],
      [{ http: 8223 }, 'http'],
      [{ http: undefined }, 'http'],
      [{ websocket: { noTls: true, compression: true } }, 'websocket'],
      [{ websocket: undefined }, 'websocket'],
      [{ cluster: { port: 6222, name: 'C' } }, 'cluster'],
      [{ cluster: { port: 6222, routes: ['nats-route://127.0.0.1:7000'] } }, 'cluster'],
      [{ cluster: undefined }, 'cluster'],
    ];
    for (const [patch, option] of cases) expect(reloadError(base, { ...base, ...patch }), option).toBe(option);
  });

  it('takes an ephemeral port (0 or -1) for the port bound, before and after', () => {
    const ephemeral: ServerOptions = { backend: 'embedded', port: 0, cluster: { port: -1 }, websocket: { noTls: true }, http: -1 };
    const actual: ServerOptions = { backend: 'embedded', port: 4222, cluster: { port: 6222 }, websocket: { noTls: true, port: 8080 }, http: 8222 };
    expect(reloadError(ephemeral, actual)).toBeNull();
    expect(reloadError(actual, ephemeral)).toBeNull();
    expect(reloadError(ephemeral, ephemeral)).toBeNull();
    expect(reloadError(ephemeral, { ...actual, port: 4223 })).toBe('port');
    expect(reloadError(ephemeral, { ...actual, cluster: { port: 6223 } })).toBe('cluster');
    expect(reloadError(ephemeral, { ...actual, websocket: { noTls: true, port: 8081 } })).toBe('websocket');
    expect(reloadError(ephemeral, { ...actual, http: 8223 })).toBe('http');
    // A different bound port: 0 no longer equals the given one.
    expect(reloadError(ephemeral, actual, { ...BOUND, port: 5000 })).toBe('port');
  });

  it('decides as reload() did before the table, for any change', () => {
    const fixed = fc.record({
      backend: fc.constantFrom('embedded', 'nats-server'),
      port: fc.constantFrom(0, -1, 4222, 4223),
      host: fc.constantFrom('127.0.0.1', '0.0.0.0'),
      serverName: fc.constantFrom('a', 'b'),
      cluster: fc.record({ port: fc.constantFrom(0, 6222, 6223), name: fc.constantFrom('C', 'D'), noAdvertise: fc.boolean() }, { requiredKeys: [] }),
      websocket: fc.record({ noTls: fc.constant(true), port: fc.constantFrom(0, 8080, 8081), compression: fc.boolean() }, { requiredKeys: ['noTls'] }),
      http: fc.constantFrom<ServerOptions['http']>(0, -1, 8222, 8223, '127.0.0.1:8222', { port: 8222 }, { host: '0.0.0.0', port: 0 }),
      maxPayload: fc.constantFrom(1024, 2048),
      debug: fc.boolean(),
    }, { requiredKeys: [] }) as fc.Arbitrary<ServerOptions>;
    const bound = fc.record({
      port: fc.constantFrom(4222, 4223), clusterPort: fc.constantFrom(6222, 6223),
      websocketPort: fc.constantFrom(8080, 8081), monitorPort: fc.constantFrom(8222, 8223),
    });
    fc.assert(fc.property(fixed, fixed, bound, (a, b, ports) => {
      const cur = resolveOptions({ backend: 'embedded', ...a });
      const next = resolveOptions({ backend: 'embedded', ...b });
      const changes = referenceChanges(cur, next, ports);
      let thrown: string | null = null;
      try {
        checkReload(cur, next, ports);
      } catch (err) {
        thrown = (err as ConfigError).option;
      }
      // One error at a time: when several fixed options change, the first in the table's order.
      if (changes.length === 0) expect(thrown).toBeNull();
      else expect(changes).toContain(thrown);
    }), { numRuns: 2000 });
  });
});
