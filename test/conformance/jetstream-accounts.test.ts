/**
 * Per-account JetStream against the real nats-server: the same options run on the embedded
 * broker and on the `nats-server` backend (which writes them into a config file — the accounts'
 * `jetstream` limits included — and starts the binary), and the same requests, made by users
 * of different accounts, must get the same replies byte for byte: "JetStream not enabled for
 * account" in each endpoint's response, the account limits in INFO, the limit errors on stream
 * create and on publish. Part of `npm run test:conformance`.
 *
 * Left out where nats-server 2.9.10 (the binary on these machines) and 2.10.29 differ, the
 * embedded broker following 2.10 (tested in test/jetstream/accounts.test.ts): unknown API
 * subjects and DIRECT.GET / CONSUMER.MSG.NEXT in an account without JetStream (2.9 does not
 * answer), the system account's requests other than INFO (2.9 does not answer them; 2.10
 * answers a system response), INFO's `reserved_memory` / `reserved_storage` (2.10 only),
 * re-creating an existing stream at `max_streams` (2.9 counted it: 10027), an account's first
 * message over its limit (2.9 checks after storing; 2.10 before, with no usage yet).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type NatsServer, type ServerOptions } from '../../src/index.js';

const OPTIONS: ServerOptions = {
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
    C: { users: [{ user: 'c', password: 'c' }], jetstream: { maxMemory: 300 } },
    $SYS: { users: [{ user: 's', password: 's' }] },
  },
};

interface Side {
  readonly server: NatsServer;
  readonly conns: Map<string, NatsConnection>;
}

async function start(backend: 'embedded' | 'nats-server'): Promise<Side> {
  const server = await createServer({ ...OPTIONS, backend });
  const conns = new Map<string, NatsConnection>();
  for (const user of ['a', 'b', 'c', 'g', 's']) conns.set(user, await connect({ servers: server.url, user, pass: user }));
  return { server, conns };
}

/** The reply's payload, or '(no reply)'. */
async function ask(side: Side, user: string, subject: string, body = ''): Promise<string> {
  try {
    return (await side.conns.get(user)!.request(subject, body, { timeout: 1500 })).string();
  } catch (err) {
    return `(no reply: ${(err as Error).message})`;
  }
}

/** Drops the fields that carry times (created, ts) so that two servers' answers compare. */
function timeless(reply: string): string {
  return reply.replace(/"(created|ts)":"[^"]*"/g, '"$1":"-"');
}

describe('per-account JetStream: embedded vs the real nats-server', () => {
  let embedded: Side;
  let real: Side;
  beforeAll(async () => {
    [embedded, real] = await Promise.all([start('embedded'), start('nats-server')]);
  });
  afterAll(async () => {
    for (const side of [embedded, real]) {
      if (side === undefined) continue;
      for (const nc of side.conns.values()) await nc.close();
      await side.server.close();
    }
  });

  /**
   * Sends the same request on both sides; error replies must be the same byte for byte, and a
   * reply without an error must be one on both sides (a stream's config differs: 2.10 adds
   * `compression`, `consumer_limits` and `ts`; the stream config table compares those).
   */
  async function same(user: string, subject: string, body = ''): Promise<string> {
    const [mine, theirs] = await Promise.all([ask(embedded, user, subject, body), ask(real, user, subject, body)]);
    const what = `${user}: ${subject} ${body}`;
    if (mine.includes('"error":') || theirs.includes('"error":') || !theirs.startsWith('{')) expect(timeless(mine), what).toBe(timeless(theirs));
    else expect(JSON.parse(mine), what).toMatchObject(JSON.parse(theirs).type === undefined ? JSON.parse(theirs) : { type: JSON.parse(theirs).type });
    return mine;
  }

  const NOT_ENABLED_REQUESTS: ReadonlyArray<readonly [string, string?]> = [
    ['$JS.API.INFO'], ['$JS.API.STREAM.NAMES'], ['$JS.API.STREAM.NAMES', '{bad'], ['$JS.API.STREAM.LIST'],
    ['$JS.API.STREAM.CREATE.X', '{"name":"X","subjects":["x"]}'], ['$JS.API.STREAM.CREATE.X', '{bad'],
    ['$JS.API.STREAM.UPDATE.X', '{"name":"X"}'], ['$JS.API.STREAM.INFO.X'], ['$JS.API.STREAM.DELETE.X'],
    ['$JS.API.STREAM.PURGE.X'], ['$JS.API.STREAM.MSG.GET.X', '{"seq":1}'], ['$JS.API.STREAM.MSG.DELETE.X', '{"seq":1}'],
    ['$JS.API.STREAM.LEADER.STEPDOWN.X'], ['$JS.API.STREAM.PEER.REMOVE.X'], ['$JS.API.CONSUMER.NAMES.X'],
    ['$JS.API.CONSUMER.LIST.X'], ['$JS.API.CONSUMER.CREATE.X', '{"stream_name":"X","config":{}}'],
    ['$JS.API.CONSUMER.CREATE.X', '{bad'], ['$JS.API.CONSUMER.DURABLE.CREATE.X.D', '{"stream_name":"X","config":{}}'],
    ['$JS.API.CONSUMER.INFO.X.Y'], ['$JS.API.CONSUMER.DELETE.X.Y'], ['$JS.API.CONSUMER.LEADER.STEPDOWN.X.Y'],
  ];

  for (const user of ['b', 'g']) {
    it(`${user === 'b' ? 'an account without jetstream' : 'the global account, with accounts configured'}: each endpoint's 10039 answer`, async () => {
      for (const [subject, body] of NOT_ENABLED_REQUESTS) await same(user, subject, body);
      expect(await same(user, '$JS.API.INFO')).toContain('"err_code":10039');
    });
  }

  it('the system account: INFO answers 10039', async () => {
    expect(await same('s', '$JS.API.INFO')).toContain('"err_code":10039');
  });

  it('INFO shows the account limits from the config', async () => {
    const limits = async (side: Side, user: string): Promise<unknown> => (JSON.parse(await ask(side, user, '$JS.API.INFO')) as { limits: unknown }).limits;
    for (const user of ['a', 'c']) expect(await limits(embedded, user), user).toEqual(await limits(real, user));
  });

  it('stream create against the account limits: 10113, 10122, 10026, 10028, 10047, 10027', async () => {
    await same('a', '$JS.API.STREAM.CREATE.S1', '{"name":"S1","subjects":["s1"]}');
    await same('a', '$JS.API.STREAM.CREATE.S1', '{"name":"S1","subjects":["s1"],"storage":"memory","max_bytes":1001}');
    await same('a', '$JS.API.STREAM.CREATE.S1', '{"name":"S1","subjects":["s1"],"storage":"file","max_bytes":2001}');
    await same('a', '$JS.API.STREAM.CREATE.S1', '{"name":"S1","subjects":["s1"],"storage":"memory","max_bytes":10,"max_consumers":4}');
    expect(await same('a', '$JS.API.STREAM.CREATE.S1', '{"name":"S1","subjects":["s1"],"storage":"memory","max_bytes":1000}')).toContain('"did_create":true');
    expect(await same('a', '$JS.API.STREAM.CREATE.S2', '{"name":"S2","subjects":["s2"],"storage":"file","max_bytes":2000}')).toContain('"did_create":true');
    expect(await same('a', '$JS.API.STREAM.CREATE.S3', '{"name":"S3","subjects":["s3"],"storage":"memory","max_bytes":10}')).toContain('"err_code":10027');
    await same('c', '$JS.API.STREAM.CREATE.M', '{"name":"M","subjects":["m"],"storage":"memory","max_bytes":301}');
    await same('c', '$JS.API.STREAM.CREATE.M', '{"name":"M","subjects":["m"],"storage":"memory","max_bytes":300}');
    await same('c', '$JS.API.STREAM.CREATE.N', '{"name":"N","subjects":["n"],"storage":"memory"}');
    await same('c', '$JS.API.STREAM.UPDATE.M', '{"name":"M","subjects":["m"],"storage":"memory","max_bytes":400}');
    await same('c', '$JS.API.STREAM.DELETE.M');
  });

  it('publishing past the account\'s max_mem: 10002 in the ack', async () => {
    await same('c', '$JS.API.STREAM.CREATE.P', '{"name":"P","subjects":["p"],"storage":"memory"}');
    // 117 bytes each (subject, data, 16): the third would make 351 > 300. (2.9.10 checks after
    // storing, 2.10 before; they agree here, not on an account's very first message.)
    await same('c', 'p', 'z'.repeat(100));
    await same('c', 'p', 'z'.repeat(100));
    expect(await same('c', 'p', 'z'.repeat(100))).toContain('"err_code":10002');
  });
});

describe('per-account JetStream: starts both backends refuse', () => {
  /** The start failure of each backend: the embedded ConfigError's text and the process's fatal line. */
  async function refusals(options: ServerOptions): Promise<{ embedded: string; real: string }> {
    const fail = async (backend: 'embedded' | 'nats-server'): Promise<string> => {
      try {
        await (await createServer({ ...options, backend })).close();
        return '(started)';
      } catch (err) {
        return String(err);
      }
    };
    return { embedded: await fail('embedded'), real: await fail('nats-server') };
  }

  it('accounts whose limits add up to more than the server has', async () => {
    const r = await refusals({
      jetstream: { maxMemory: 10_000_000 },
      accounts: { A: { jetstream: { maxMemory: 6_000_000 } }, B: { jetstream: { maxMemory: 6_000_000 } } },
    });
    const line = "Can't start JetStream: Error enabling jetstream on configured accounts: insufficient memory resources available (10028)";
    expect(r.embedded).toContain(line);
    expect(r.real).toContain(`[FTL] ${line}`);
  });

  it('JetStream on the system account', async () => {
    const r = await refusals({ jetstream: true, accounts: { $SYS: { jetstream: true } } });
    expect(r.embedded).toContain('Not allowed to enable JetStream on the system account');
    expect(r.real).toContain('[FTL] Not allowed to enable JetStream on the system account');
  });
});
