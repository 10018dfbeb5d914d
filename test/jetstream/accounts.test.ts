/**
 * JetStream per account, as nats-server 2.10 runs it, through the official client
 * (`@nats-io/jetstream`) on connections authenticated into different accounts: which accounts
 * have JetStream (without configured accounts `$G`; with them, those that enable it), what the
 * others are answered (10039), the account limits (INFO `limits`, 10027, 10026, 10028/10047,
 * 10113, 10122 on create; 10002 and 10023 when publishing) and a reload turning JetStream on
 * and off in an account or changing its limits. The same answers from the real binary are
 * compared in test/conformance/jetstream-accounts.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { ConfigError, type NatsServer, type ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { rejection } from '../helpers/errors.js';

const scope = useScope();

function apiError(err: unknown): { code: number; err_code: number; description: string } {
  expect(err).toBeInstanceOf(JetStreamApiError);
  const e = err as JetStreamApiError;
  return { code: e.status, err_code: e.code, description: e.message };
}

const NOT_ENABLED = { code: 503, err_code: 10039, description: 'JetStream not enabled for account' };

/** The client turns a 10039 answer into a JetStreamNotEnabled error, the API error as its cause. */
function notEnabled(err: unknown): { code: number; err_code: number; description: string } {
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).name).toBe('JetStreamNotEnabled');
  return apiError((err as Error).cause);
}

/** Accounts A (limits), B (no JetStream) and C (JetStream without limits), and a user of `$G`. */
function accountsOptions(extra: Partial<ServerOptions> = {}): ServerOptions {
  return {
    jetstream: { maxMemory: 10_000_000, maxStore: 100_000_000 },
    authorization: { users: [{ user: 'g', password: 'g' }] },
    accounts: {
      A: {
        users: [{ user: 'a', password: 'a' }],
        jetstream: {
          maxMemory: 1_000_000, maxStore: 2_000_000, maxStreams: 2, maxConsumers: 3, maxAckPending: 7,
          memoryMaxStreamBytes: 1000, storeMaxStreamBytes: 2000, maxBytesRequired: true,
        },
      },
      B: { users: [{ user: 'b', password: 'b' }] },
      C: { users: [{ user: 'c', password: 'c' }], jetstream: true },
    },
    ...extra,
  };
}

async function as(s: NatsServer, user: string): Promise<NatsConnection> {
  return scope.client(s, { user, pass: user });
}

/** A request's raw reply text. */
async function raw(nc: NatsConnection, subject: string, body = ''): Promise<string> {
  return (await nc.request(subject, body, { timeout: 2000 })).string();
}

describe('which accounts have JetStream', () => {
  it('without configured accounts, the global account has it, without limits', async () => {
    const s = await scope.server({ jetstream: true });
    const jsm = await jetstreamManager(await scope.client(s));
    const info = await jsm.getAccountInfo();
    expect(info.limits).toEqual({
      max_memory: -1, max_storage: -1, max_streams: -1, max_consumers: -1, max_ack_pending: -1,
      memory_max_stream_bytes: -1, storage_max_stream_bytes: -1, max_bytes_required: false,
    });
    // A config file's limits have no replica tiers: INFO shows none.
    expect(info.tiers).toBeUndefined();
  });

  it('with configured accounts, only those that enable it; the others and $G get 10039, counted nowhere', async () => {
    const s = await scope.server(accountsOptions());
    const a = await jetstreamManager(await as(s, 'a'));
    expect((await a.getAccountInfo()).limits).toEqual({
      max_memory: 1_000_000, max_storage: 2_000_000, max_streams: 2, max_consumers: 3, max_ack_pending: 7,
      memory_max_stream_bytes: 1000, storage_max_stream_bytes: 2000, max_bytes_required: true,
    });
    const c = await jetstreamManager(await as(s, 'c'));
    expect((await c.getAccountInfo()).limits.max_streams).toBe(-1);
    for (const user of ['b', 'g']) {
      const nc = await as(s, user);
      // The client's own check (an INFO request) reports it.
      expect(notEnabled(await rejection(jetstreamManager(nc)))).toEqual(NOT_ENABLED);
      const unchecked = await jetstreamManager(nc, { checkAPI: false });
      expect(notEnabled(await rejection(unchecked.streams.add({ name: 'S', subjects: ['s'] })))).toEqual(NOT_ENABLED);
      // Each endpoint answers with its own response type and its always-present fields.
      expect(await raw(nc, '$JS.API.STREAM.NAMES')).toBe(
        '{"type":"io.nats.jetstream.api.v1.stream_names_response","error":{"code":503,"err_code":10039,"description":"JetStream not enabled for account"},"total":0,"offset":0,"limit":0,"streams":null}',
      );
      expect(await raw(nc, '$JS.API.STREAM.LIST')).toBe(
        '{"type":"io.nats.jetstream.api.v1.stream_list_response","error":{"code":503,"err_code":10039,"description":"JetStream not enabled for account"},"total":0,"offset":0,"limit":0,"streams":[]}',
      );
      // Clustering endpoints answer 10010 before looking at the account; consumer creation
      // decodes its request first.
      expect(await raw(nc, '$JS.API.STREAM.LEADER.STEPDOWN.S')).toContain('"err_code":10010');
      expect(await raw(nc, '$JS.API.CONSUMER.CREATE.S', '{bad')).toContain('"err_code":10025');
      expect(await raw(nc, '$JS.API.CONSUMER.CREATE.S', '{"stream_name":"S","config":{}}')).toContain('"err_code":10039');
    }
    // Nothing was counted in the accounts with JetStream, nor on the server.
    expect((await a.getAccountInfo()).api).toMatchObject({ total: 2, errors: 0 });
  });

  it('keeps each account\'s streams apart: the same name in two accounts, publishes stay in their account', async () => {
    const s = await scope.server(accountsOptions());
    const [ncA, ncC] = [await as(s, 'a'), await as(s, 'c')];
    const [a, c] = [await jetstreamManager(ncA), await jetstreamManager(ncC)];
    await a.streams.add({ name: 'S', subjects: ['s.>'], max_bytes: 1500, storage: 'file' } as never);
    await c.streams.add({ name: 'S', subjects: ['s.>'], storage: 'memory' } as never);
    await jetstream(ncA).publish('s.1', 'from a');
    for (let i = 0; i < 3; i++) await jetstream(ncC).publish('s.1', 'from c');
    expect((await a.streams.info('S')).state.messages).toBe(1);
    expect((await c.streams.info('S')).state.messages).toBe(3);
    expect((await a.getAccountInfo()).streams).toBe(1);
    expect((await c.getAccountInfo()).storage).toBe(0);
  });

  it('never the system account: $SYS with jetstream does not start, $SYS clients are told 10039', async () => {
    const err = await rejection(scope.server({ jetstream: true, accounts: { $SYS: { users: [{ user: 's', password: 's' }], jetstream: true } } }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe('Invalid option "accounts.$SYS.jetstream": Not allowed to enable JetStream on the system account');
    const s = await scope.server({ jetstream: true, accounts: { $SYS: { users: [{ user: 's', password: 's' }] } } });
    const nc = await as(s, 's');
    expect(await raw(nc, '$JS.API.INFO')).toBe(
      '{"type":"io.nats.jetstream.api.v1.account_info_response","error":{"code":503,"err_code":10039,"description":"JetStream not enabled for account"}}',
    );
    // 2.10.29's apiDispatch answers the system account's other API requests with a system
    // response (2.9.10 answered none of them).
    for (const subject of ['$JS.API.STREAM.NAMES', '$JS.API.NOPE', '$JS.API.DIRECT.GET.S']) {
      expect(await raw(nc, subject)).toBe(
        '{"type":"io.nats.jetstream.api.v1.system_response","error":{"code":503,"err_code":10039,"description":"JetStream not enabled for account"}}',
      );
    }
    // ... except the meta-level and account requests it leaves to their system subscriptions,
    // which a single server does not have: no answer (the three waited for at once).
    await Promise.all(['$JS.API.META.LEADER.STEPDOWN', '$JS.API.SERVER.REMOVE', '$JS.API.ACCOUNT.PURGE.X'].map((subject) =>
      expect(raw(nc, subject, '{"peer":"x"}'), subject).rejects.toThrow(/timeout/i)));
  });

  it('the system account with users does not take JetStream from the global account (globalAccountOnly)', async () => {
    const s = await scope.server({ jetstream: true, authorization: { users: [{ user: 'g', password: 'g' }] }, accounts: { $SYS: { users: [{ user: 's', password: 's' }] } } });
    const info = JSON.parse(await raw(await as(s, 'g'), '$JS.API.INFO')) as { type: string; limits?: unknown; error?: unknown };
    expect(info.error).toBeUndefined();
    expect(info.type).toBe('io.nats.jetstream.api.v1.account_info_response');
  });

  it('does not start when the accounts\' limits add up to more than the server has (10028 / 10047)', async () => {
    const twice = (k: 'maxMemory' | 'maxStore'): ServerOptions => ({
      jetstream: { maxMemory: 10_000_000, maxStore: 10_000_000 },
      accounts: { A: { jetstream: { [k]: 6_000_000 } }, B: { jetstream: { [k]: 6_000_000 } } },
    });
    const mem = await rejection(scope.server(twice('maxMemory')));
    expect(mem).toBeInstanceOf(ConfigError);
    expect((mem as ConfigError).message).toBe(
      'Invalid option "accounts.B.jetstream": Can\'t start JetStream: Error enabling jetstream on configured accounts: insufficient memory resources available (10028)',
    );
    expect(String(await rejection(scope.server(twice('maxStore'))))).toContain('insufficient storage resources available (10047)');
  });
});

describe('account limits on stream create', () => {
  async function accountA(): Promise<JetStreamManager> {
    const s = await scope.server(accountsOptions());
    return jetstreamManager(await as(s, 'a'));
  }

  it('max_bytes_required (10113) and the per-stream maxima of each storage (10122)', async () => {
    const jsm = await accountA();
    expect(apiError(await rejection(jsm.streams.add({ name: 'S', subjects: ['s'] } as never))))
      .toEqual({ code: 400, err_code: 10113, description: 'account requires a stream config to have max bytes set' });
    const over = { code: 400, err_code: 10122, description: 'stream max bytes exceeds account limit max stream bytes' };
    expect(apiError(await rejection(jsm.streams.add({ name: 'S', subjects: ['s'], storage: 'memory', max_bytes: 1001 } as never)))).toEqual(over);
    expect(apiError(await rejection(jsm.streams.add({ name: 'S', subjects: ['s'], storage: 'file', max_bytes: 2001 } as never)))).toEqual(over);
    await jsm.streams.add({ name: 'M', subjects: ['m'], storage: 'memory', max_bytes: 1000 } as never);
    await jsm.streams.add({ name: 'F', subjects: ['f'], storage: 'file', max_bytes: 2000 } as never);
  });

  // 2.10's countStreams leaves out the stream of the same name; 2.9.10 counted it (10027).
  it('max_streams (10027), where re-creating an existing stream does not count', async () => {
    const jsm = await accountA();
    const cfg = (name: string) => ({ name, subjects: [name.toLowerCase()], storage: 'memory', max_bytes: 100 }) as never;
    await jsm.streams.add(cfg('S1'));
    await jsm.streams.add(cfg('S2'));
    expect(apiError(await rejection(jsm.streams.add(cfg('S3')))))
      .toEqual({ code: 400, err_code: 10027, description: 'maximum number of streams reached' });
    expect((await jsm.streams.add(cfg('S2'))).config.name).toBe('S2');
    await jsm.streams.delete('S1');
    await jsm.streams.add(cfg('S3'));
  });

  it('max_consumers of a stream above the account\'s (10026)', async () => {
    const jsm = await accountA();
    expect(apiError(await rejection(jsm.streams.add({ name: 'S', subjects: ['s'], storage: 'memory', max_bytes: 10, max_consumers: 4 } as never))))
      .toEqual({ code: 400, err_code: 10026, description: 'maximum consumers limit reached' });
  });

  it('reservations above the account\'s max_mem / max_file (10028 / 10047), on create and on update', async () => {
    const s = await scope.server({ jetstream: true, accounts: { A: { users: [{ user: 'a', password: 'a' }], jetstream: { maxMemory: 1000, maxStore: 3000 } } } });
    const jsm = await jetstreamManager(await as(s, 'a'));
    await jsm.streams.add({ name: 'M1', subjects: ['m1'], storage: 'memory', max_bytes: 600 } as never);
    const mem = { code: 500, err_code: 10028, description: 'insufficient memory resources available' };
    expect(apiError(await rejection(jsm.streams.add({ name: 'M2', subjects: ['m2'], storage: 'memory', max_bytes: 401 } as never)))).toEqual(mem);
    await jsm.streams.add({ name: 'M2', subjects: ['m2'], storage: 'memory', max_bytes: 400 } as never);
    // Fully reserved: a stream without max_bytes counts as one byte (nats-server's checkBytesLimits).
    expect(apiError(await rejection(jsm.streams.add({ name: 'M3', subjects: ['m3'], storage: 'memory' } as never)))).toEqual(mem);
    // An update reserves only what it adds.
    expect(apiError(await rejection(jsm.streams.update('M1', { max_bytes: 601 } as never)))).toEqual(mem);
    await jsm.streams.update('M1', { max_bytes: 500 } as never);
    await jsm.streams.add({ name: 'M3', subjects: ['m3'], storage: 'memory', max_bytes: 100 } as never);
    expect(apiError(await rejection(jsm.streams.add({ name: 'F', subjects: ['f'], storage: 'file', max_bytes: 3001 } as never))))
      .toEqual({ code: 500, err_code: 10047, description: 'insufficient storage resources available' });
    const info = await jsm.getAccountInfo();
    expect(info).toMatchObject({ reserved_memory: 1000, reserved_storage: 0, streams: 3 });
  });

  it('the server\'s own maxima still apply to the global account (10028)', async () => {
    const s = await scope.server({ jetstream: { maxMemory: 1000 } });
    const jsm = await jetstreamManager(await scope.client(s));
    expect(apiError(await rejection(jsm.streams.add({ name: 'S', subjects: ['s'], storage: 'memory', max_bytes: 1001 } as never))))
      .toEqual({ code: 500, err_code: 10028, description: 'insufficient memory resources available' });
  });
});

describe('account limits when publishing', () => {
  it('refuses a message that takes the account over max_mem (10002), once the account has stored anything', async () => {
    const s = await scope.server({ jetstream: true, accounts: { A: { users: [{ user: 'a', password: 'a' }], jetstream: { maxMemory: 300 } } } });
    const nc = await as(s, 'a');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'S', subjects: ['s'], storage: 'memory' } as never);
    const js = jetstream(nc);
    // Memory size: subject + data + 16. nats-server 2.10 keeps no usage before the account's
    // first storage update, so that message is stored whatever its size (2.9.10 checked after
    // storing and refused it).
    await js.publish('s', 'x'.repeat(400));
    expect(apiError(await rejection(js.publish('s', 'y'))))
      .toEqual({ code: 400, err_code: 10002, description: 'resource limits exceeded for account' });
    await jsm.streams.purge('S');
    for (let i = 0; i < 2; i++) await js.publish('s', 'z'.repeat(100));
    // 2 × 117 stored; a third would make 351 > 300.
    expect(apiError(await rejection(js.publish('s', 'z'.repeat(100))))).toMatchObject({ err_code: 10002 });
    expect((await jsm.streams.info('S')).state.messages).toBe(2);
  });

  it('store_max_stream_bytes caps all of the account\'s file stream bytes, as 2.10 checks it (10002)', async () => {
    const s = await scope.server({ jetstream: true, accounts: { A: { users: [{ user: 'a', password: 'a' }], jetstream: { storeMaxStreamBytes: 200 } } } });
    const nc = await as(s, 'a');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'F1', subjects: ['f1'], storage: 'file' } as never);
    await jsm.streams.add({ name: 'F2', subjects: ['f2'], storage: 'file' } as never);
    const js = jetstream(nc);
    // File size: 22 + subject + data + 8 = 132 each.
    await js.publish('f1', 'x'.repeat(100));
    expect(apiError(await rejection(js.publish('f2', 'x'.repeat(100))))).toMatchObject({ err_code: 10002 });
    expect((await jsm.streams.info('F2')).state.messages).toBe(0);
  });

  it('refuses messages once the server holds more than its max_mem (10023)', async () => {
    const s = await scope.server({ jetstream: { maxMemory: 300 } });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'S', subjects: ['s'], storage: 'memory' } as never);
    const js = jetstream(nc);
    // 117 bytes each: the third takes the server to 351; the fourth is refused.
    for (let i = 0; i < 3; i++) await js.publish('s', 'x'.repeat(100));
    expect(apiError(await rejection(js.publish('s', 'x'))))
      .toEqual({ code: 503, err_code: 10023, description: 'insufficient resources' });
  });
});

describe('reload()', () => {
  it('turns JetStream on in an account, and off again, keeping its file streams on disk for the next time', async () => {
    const s = await scope.server(accountsOptions());
    const nc = await as(s, 'b');
    expect(notEnabled(await rejection(jetstreamManager(nc)))).toEqual(NOT_ENABLED);
    const accounts = accountsOptions().accounts!;
    s.reload({ accounts: { ...accounts, B: { ...accounts.B, jetstream: { maxStreams: 1 } } } });
    // The same connection: nats-server does not disconnect a client whose account stays.
    const jsm = await jetstreamManager(nc);
    expect((await jsm.getAccountInfo()).limits.max_streams).toBe(1);
    await jsm.streams.add({ name: 'F', subjects: ['f'], storage: 'file' } as never);
    expect(apiError(await rejection(jsm.streams.add({ name: 'M', subjects: ['m'], storage: 'memory' } as never)))).toMatchObject({ err_code: 10027 });
    await jetstream(nc).publish('f', 'kept');
    s.reload({ accounts });
    expect(notEnabled(await rejection(jsm.getAccountInfo()))).toEqual(NOT_ENABLED);
    expect(await raw(nc, '$JS.API.STREAM.INFO.F')).toContain('"err_code":10039');
    // Publishing to the stream's subject now reaches no stream: no responders, which the client
    // reports as JetStream not enabled.
    expect(String(await rejection(jetstream(nc).publish('f', 'lost', { timeout: 1000 })))).toBe('JetStreamNotEnabled: jetstream is not enabled');
    s.reload({ accounts: { ...accounts, B: { ...accounts.B, jetstream: true } } });
    // As nats-server 2.9.10 showed after the same reloads (SIGHUP): a new start of the
    // account's API counters, its file stream back with its message.
    expect((await jsm.getAccountInfo()).api).toMatchObject({ total: 0, errors: 0 });
    const si = await jsm.streams.info('F');
    expect(si.state.messages).toBe(1);
    expect((await jsm.streams.getMessage('F', { seq: 1 }))?.string()).toBe('kept');
  });

  it('an account a reload removed and a later reload configured again has its JetStream API and its file streams back', async () => {
    const s = await scope.server(accountsOptions());
    const accounts = accountsOptions().accounts!;
    const before = await as(s, 'c');
    const jsm = await jetstreamManager(before);
    await jsm.streams.add({ name: 'F', subjects: ['f'], storage: 'file' } as never);
    await jetstream(before).publish('f', 'kept');
    const { C: _c, ...withoutC } = accounts;
    s.reload({ accounts: withoutC });
    s.reload({ accounts });
    // nats-server's EnableJetStream finds the account's JetStream again for the new Account.
    const jsm2 = await jetstreamManager(await as(s, 'c'));
    const si = await jsm2.streams.info('F');
    expect(si.state.messages).toBe(1);
    expect((await jsm2.streams.getMessage('F', { seq: 1 }))?.string()).toBe('kept');
    await jetstream(await as(s, 'c')).publish('f', 'again');
    expect((await jsm2.streams.info('F')).state.messages).toBe(2);
  });

  it('changes an account\'s limits; limits the server cannot grant are logged and not applied', async () => {
    const lines: string[] = [];
    const logger = { info: () => {}, warn: () => {}, error: (m: string) => void lines.push(m) };
    const s = await scope.server(accountsOptions({ logger }));
    const jsm = await jetstreamManager(await as(s, 'a'));
    const accounts = accountsOptions().accounts!;
    const withA = (js: NonNullable<ServerOptions['accounts']>[string]['jetstream']) => ({ accounts: { ...accounts, A: { ...accounts.A, jetstream: js } } });
    s.reload(withA({ maxStreams: 5, maxMemory: 2_000_000 }));
    expect((await jsm.getAccountInfo()).limits).toMatchObject({ max_streams: 5, max_memory: 2_000_000, max_bytes_required: false });
    // 10 MB of memory on the server: 11 MB for A cannot be granted. nats-server's reload logs
    // it and carries on with everything else.
    s.reload(withA({ maxMemory: 11_000_000 }));
    expect(lines).toContain('Error enabling jetstream on configured accounts: insufficient memory resources available (10028)');
    expect((await jsm.getAccountInfo()).limits).toMatchObject({ max_streams: 5, max_memory: 2_000_000 });
  });

  it('keeps $G\'s JetStream once it had it, when accounts are added (as nats-server keeps its limits)', async () => {
    const s = await scope.server({ jetstream: true, authorization: { users: [{ user: 'g', password: 'g' }] } });
    const nc = await as(s, 'g');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'G', subjects: ['g'] } as never);
    s.reload({ accounts: { A: { users: [{ user: 'a', password: 'a' }] } } });
    expect((await jsm.streams.info('G')).config.name).toBe('G');
    expect(notEnabled(await rejection(jetstreamManager(await as(s, 'a'))))).toEqual(NOT_ENABLED);
  });

  it('turns $G\'s JetStream on when the reload leaves no configured accounts', async () => {
    const s = await scope.server({ jetstream: true, accounts: { A: { users: [{ user: 'a', password: 'a' }] } }, authorization: { users: [{ user: 'g', password: 'g' }] } });
    const nc = await as(s, 'g');
    expect(notEnabled(await rejection(jetstreamManager(nc)))).toEqual(NOT_ENABLED);
    s.reload({ accounts: {} });
    expect((await (await jetstreamManager(nc)).getAccountInfo()).limits.max_streams).toBe(-1);
  });

  it('logs, and does not apply, JetStream on the system account', async () => {
    const lines: string[] = [];
    const logger = { info: () => {}, warn: () => {}, error: (m: string) => void lines.push(m) };
    const s = await scope.server({ jetstream: true, logger, accounts: { $SYS: { users: [{ user: 's', password: 's' }] } } });
    s.reload({ accounts: { $SYS: { users: [{ user: 's', password: 's' }], jetstream: true } } });
    expect(lines).toContain('Error enabling jetstream on configured accounts: jetstream can not be enabled on the system account');
    expect(await raw(await as(s, 's'), '$JS.API.INFO')).toContain('"err_code":10039');
  });
});

describe('the accounts option\'s jetstream', () => {
  it('resolves true, false and limits (defaults -1 / false), and refuses bad values naming the field', async () => {
    const { resolveOptions } = await import('../../src/config/options.js');
    const r = resolveOptions({ accounts: { A: { jetstream: true }, B: { jetstream: false }, C: { jetstream: { maxStreams: 3 } }, D: {} } });
    expect(r.accountNames).toEqual(['A', 'B', 'C', 'D']);
    expect(Object.keys(r.accountJetStream)).toEqual(['A', 'C']);
    expect(r.accountJetStream.C).toEqual({
      maxMemory: -1, maxStore: -1, maxStreams: 3, maxConsumers: -1, maxAckPending: -1,
      memoryMaxStreamBytes: -1, storeMaxStreamBytes: -1, maxBytesRequired: false,
    });
    const bad = (jetstream: unknown): string => {
      try {
        resolveOptions({ accounts: { A: { jetstream } } } as never);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ maxStreams: 1.5 })).toBe('Invalid option "accounts.A.jetstream.maxStreams": must be an integer, got 1.5');
    expect(bad({ maxBytesRequired: 'yes' })).toMatch(/^Invalid option "accounts\.A\.jetstream\.maxBytesRequired": must be a boolean/);
    expect(bad({ max_streams: 1 })).toMatch(/^Invalid option "accounts\.A\.jetstream\.max_streams": unknown option/);
    expect(bad('enabled')).toMatch(/^Invalid option "accounts\.A\.jetstream": /);
    expect(() => resolveOptions({ accounts: { $G: {} } })).toThrow('Invalid option "accounts.$G": "$G" is a Reserved Account');
  });
});
