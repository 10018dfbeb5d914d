/**
 * The `server.jetstream` helpers that go through the JetStream API, on both backends (the
 * nats-server backend answers them through a client connection): `seed()` puts streams and KV
 * buckets in place (buckets as `@nats-io/kv` creates them, opened by that client), the bucket
 * views (`kvBuckets()`, `kvBucket(name, { keys })`, `objectStores()`) show what the official
 * clients stored, and `reset()` empties JetStream between tests (delete or purge, per account).
 * The URL-only forms (`jetstreamHelpers`, `resetJetStream`, `seedJetStream`) for a global setup's
 * broker are checked at the end.
 */
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import {
  InvalidArgumentError,
  JetStreamApiError,
  ServerClosedError,
  jetstreamHelpers,
  resetJetStream,
  seedJetStream,
  type NatsServer,
  type ServerOptions,
} from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { rejection } from '../helpers/errors.js';

const scope = useScope();

async function setup(opts: ServerOptions): Promise<{ s: NatsServer; nc: NatsConnection }> {
  const s = await scope.server({ jetstream: true, ...opts });
  const nc = await scope.client(s);
  return { s, nc };
}

/** A stream config without what differs between two buckets (name, subjects) and what the server stamps. */
function bucketShape(config: Record<string, unknown>): Record<string, unknown> {
  const { name: _n, subjects: _s, ...rest } = config;
  return rest;
}

describe.each(['embedded', 'nats-server'] as const)('server.jetstream helpers (%s backend)', (backend) => {
  it('seed() creates streams and KV buckets in one call, which the official clients use as their own', async () => {
    const { s, nc } = await setup({ backend });
    await s.jetstream.seed({
      kv: {
        config: { 'app.port': '8080', 'app.mode': 'test' },
        sessions: { history: 5, ttl: '1h', storage: 'memory', description: 'logins', values: { 'user.1': 'a', 'user.2': new Uint8Array([1, 2, 3]) } },
        empty: {},
      },
      streams: {
        ORDERS: {
          subjects: ['orders.>'],
          storage: 'memory',
          messages: [
            { subject: 'orders.1', data: { id: 1, items: ['book'] } },
            { subject: 'orders.2', data: 'two', headers: { 'Nats-Msg-Id': 'order-2', 'X-Trace': 't1' } },
            { subject: 'orders.3' },
          ],
        },
      },
    });

    const kvm = new Kvm(nc);
    const config = await kvm.open('config');
    expect((await config.get('app.port'))?.string()).toBe('8080');
    expect((await config.get('app.mode'))?.revision).toBe(2);
    const sessions = await kvm.open('sessions');
    const st = await sessions.status();
    expect({ history: st.history, ttl: st.ttl, storage: st.storage, description: st.description, values: st.values }).toEqual({
      history: 5, ttl: 3_600_000, storage: 'memory', description: 'logins', values: 2,
    });
    expect((await sessions.get('user.2'))?.value).toEqual(new Uint8Array([1, 2, 3]));
    // The client writes to a seeded bucket as to its own: CAS on the seeded revision.
    expect(await config.update('app.port', '9090', 1)).toBe(3);
    expect((await (await kvm.open('empty')).status()).values).toBe(0);

    const jsm = await jetstreamManager(nc);
    const o1 = await jsm.streams.getMessage('ORDERS', { seq: 1 });
    expect(o1?.json()).toEqual({ id: 1, items: ['book'] });
    const o2 = await jsm.streams.getMessage('ORDERS', { seq: 2 });
    expect(o2?.string()).toBe('two');
    expect(o2?.header.get('X-Trace')).toBe('t1');
    expect((await jsm.streams.getMessage('ORDERS', { seq: 3 }))?.data.length).toBe(0);
    // The seeded message id is in the dedupe window: the same id again is a duplicate.
    expect(await jetstream(nc).publish('orders.2', 'again', { msgID: 'order-2' })).toMatchObject({ seq: 2, duplicate: true });

    // Seeding again with the same configuration adds to what is there.
    await s.jetstream.seed({ kv: { config: { 'app.extra': 'x' } } });
    expect((await config.get('app.extra'))?.revision).toBe(4);
  });

  it('a seeded bucket has exactly the stream configuration @nats-io/kv gives its own buckets', async () => {
    const { s, nc } = await setup({ backend });
    const kvm = new Kvm(nc);
    const cases = [
      [{}, {}],
      [{ history: 10, ttl: 90_000, storage: 'memory', maxBytes: 1 << 20, max_bytes: 1 << 20, description: 'd' }, { history: 10, ttl: 90_000, storage: 'memory', maxBytes: 1 << 20, description: 'd' }],
      [{ maxValueSize: 1024 }, { maxValueSize: 1024 }],
      [{ max_bytes: 0, history: 100 }, { maxBytes: 0, history: 100 }],
    ] as const;
    let i = 0;
    for (const [clientOpts, seedOpts] of cases) {
      i++;
      await kvm.create(`client${i}`, clientOpts as never);
      await s.jetstream.seed({ kv: { [`seeded${i}`]: seedOpts } });
      const a = (await s.jetstream.stream(`KV_client${i}`))!.config as unknown as Record<string, unknown>;
      const b = (await s.jetstream.stream(`KV_seeded${i}`))!.config as unknown as Record<string, unknown>;
      expect(b.subjects).toEqual([`$KV.seeded${i}.>`]);
      expect(bucketShape(b)).toEqual(bucketShape(a));
    }
    // The client's own KV invariants, present in both.
    expect((await s.jetstream.stream('KV_seeded1'))!.config).toMatchObject({
      retention: 'limits', max_msgs_per_subject: 1, discard: 'new', allow_direct: true, allow_rollup_hdrs: true, num_replicas: 1,
    });
  });

  it('seed({ objects }) writes objects as @nats-io/obj does: the client lists, reads and verifies them', async () => {
    const { s, nc } = await setup({ backend });
    const big = new Uint8Array(300 * 1024).map((_, i) => (i * 7) % 251); // three chunks
    await s.jetstream.seed({
      objects: {
        files: { 'a.txt': 'hello', 'big.bin': big, 'empty': '' },
        docs: { description: 'manuals', ttl: '2h', storage: 'memory', objects: { 'guide.md': '# guide' } },
      },
    });
    const objm = new Objm(nc);
    const files = await objm.open('files');
    expect(new TextDecoder().decode(await files.getBlob('a.txt') ?? undefined)).toBe('hello');
    // The client checks the digest while reading (toEqual on 300 KiB would take seconds).
    expect(Buffer.from((await files.getBlob('big.bin'))!).equals(Buffer.from(big))).toBe(true);
    expect((await files.getBlob('empty'))?.length).toBe(0);
    const info = await files.info('big.bin');
    expect(info).toMatchObject({ name: 'big.bin', size: big.length, chunks: 3, deleted: false });
    expect((await files.list()).map((o) => o.name).sort()).toEqual(['a.txt', 'big.bin', 'empty']);
    // The client writes over a seeded object (and removes its chunks) as over its own.
    await files.putBlob({ name: 'a.txt' }, new TextEncoder().encode('bye'));
    expect(new TextDecoder().decode(await files.getBlob('a.txt') ?? undefined)).toBe('bye');
    const docs = await (await objm.open('docs')).status();
    expect({ description: docs.description, ttl: docs.ttl, storage: docs.storage }).toEqual({ description: 'manuals', ttl: 7_200_000_000_000, storage: 'memory' });

    // The same stream configuration as objm.create() with the same options.
    await objm.create('viaclient', { description: 'manuals', ttl: 7_200_000_000_000, storage: 'memory' as never });
    const a = (await s.jetstream.stream('OBJ_viaclient'))!.config as unknown as Record<string, unknown>;
    const b = (await s.jetstream.stream('OBJ_docs'))!.config as unknown as Record<string, unknown>;
    expect(bucketShape(b)).toEqual(bucketShape(a));
    expect(b.subjects).toEqual(['$O.docs.C.>', '$O.docs.M.>']);
    await objm.create('plain');
    await s.jetstream.seed({ objects: { plain2: {} } });
    expect(bucketShape((await s.jetstream.stream('OBJ_plain2'))!.config as unknown as Record<string, unknown>))
      .toEqual(bucketShape((await s.jetstream.stream('OBJ_plain'))!.config as unknown as Record<string, unknown>));
  });

  it('kvBuckets() and kvBucket(name, { keys }) show what @nats-io/kv stored: live keys with their last revision', async () => {
    const { s, nc } = await setup({ backend });
    const kvm = new Kvm(nc);
    const kv = await kvm.create('profile', { history: 3, ttl: 60_000 });
    await kv.put('name', 'ada');
    const r2 = await kv.put('name', 'ada lovelace');
    await kv.put('city', 'london');
    await kv.put('gone', 'x');
    await kv.delete('gone');
    await kv.put('purged', 'y');
    await kv.purge('purged');
    await kvm.create('other', { storage: 'memory' });

    const list = await s.jetstream.kvBuckets();
    expect(list.map((b) => `${b.account}/${b.bucket}`)).toEqual(['$G/other', '$G/profile']);
    const p = list[1];
    expect(p).toMatchObject({ stream: 'KV_profile', history: 3, ttlMs: 60_000, storage: 'file', values: 6, replicas: 1, maxValueSize: -1, maxBytes: -1, description: null, compression: false });
    expect(p.keys).toBeUndefined();
    expect(p.bytes).toBeGreaterThan(0);
    expect(p.created).toBeInstanceOf(Date);
    expect(list[0]).toMatchObject({ bucket: 'other', storage: 'memory', values: 0, history: 1, ttlMs: 0 });

    const withKeys = await s.jetstream.kvBucket('profile', { keys: true });
    expect(withKeys?.keys?.map((k) => [k.key, k.value, k.revision])).toEqual([['city', 'london', 3], ['name', 'ada lovelace', r2]]);
    expect(withKeys?.keys?.[0].data).toEqual(new TextEncoder().encode('london'));
    expect((await kv.get('city'))?.created.getTime()).toBe(withKeys?.keys?.[0].created.getTime());
    expect(await s.jetstream.kvBucket('nope')).toBeNull();
    // A value larger than a socket read (the nats-server backend's reply arrives in pieces).
    const large = 'v'.repeat(200 * 1024);
    await kv.put('large', large);
    const again = await s.jetstream.kvBucket('profile', { keys: true });
    expect(again?.keys?.find((k) => k.key === 'large')?.value === large).toBe(true);
    expect((await s.jetstream.kvBucket('other', { keys: true }))?.keys).toEqual([]);
    // A plain stream is not a bucket.
    await (await jetstreamManager(nc)).streams.add({ name: 'PLAIN', subjects: ['plain'] });
    expect((await s.jetstream.kvBuckets()).length).toBe(2);
  });

  it('objectStores() shows the buckets @nats-io/obj made, sealed or not', async () => {
    const { s, nc } = await setup({ backend });
    const objm = new Objm(nc);
    const files = await objm.create('files', { description: 'uploads', ttl: 120_000_000_000 }); // nanoseconds
    await files.putBlob({ name: 'a.txt' }, new TextEncoder().encode('hello'));
    const frozen = await objm.create('frozen', { storage: 'memory' as never });
    await frozen.seal();
    await new Kvm(nc).create('notobj');
    const list = await s.jetstream.objectStores();
    expect(list.map((o) => o.bucket)).toEqual(['files', 'frozen']);
    expect(list[0]).toMatchObject({ account: '$G', stream: 'OBJ_files', storage: 'file', sealed: false, description: 'uploads', ttlMs: 120_000, replicas: 1 });
    expect(list[0].bytes).toBeGreaterThan(5);
    expect(list[1]).toMatchObject({ stream: 'OBJ_frozen', storage: 'memory', sealed: true, description: null });
    // One bucket by name, as kvBucket(name) / stream(name).
    expect(await s.jetstream.objectStore('frozen')).toEqual(list[1]);
    expect(await s.jetstream.objectStore('nope')).toBeNull();
    expect(await s.jetstream.objectStore('notobj')).toBeNull();
  });

  it('reset() deletes every stream and consumer; reset({ purge: true }) empties them and keeps them', async () => {
    const { s, nc } = await setup({ backend });
    const streams: Record<string, { subjects: string[]; messages: Array<{ subject: string; data: string }> }> = {};
    for (let i = 0; i < 5; i++) streams[`S${i}`] = { subjects: [`s${i}.>`], messages: [{ subject: `s${i}.a`, data: 'x' }, { subject: `s${i}.b`, data: 'y' }] };
    await s.jetstream.seed({ streams, kv: { config: { a: '1' } } });
    const jsm = await jetstreamManager(nc);
    for (let i = 0; i < 5; i++) await jsm.consumers.add(`S${i}`, { durable_name: 'C', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add('S0', { durable_name: 'D', ack_policy: AckPolicy.None });

    expect(await s.jetstream.reset({ purge: true })).toEqual({ streams: 6, consumers: 0 });
    const purged = await s.jetstream.streams();
    expect(purged.map((x) => [x.name, x.state.messages, x.state.consumerCount])).toEqual([
      ['KV_config', 0, 0], ['S0', 0, 2], ['S1', 0, 1], ['S2', 0, 1], ['S3', 0, 1], ['S4', 0, 1],
    ]);
    // Sequences go on after a purge, as nats-server's purge.
    expect(purged[1].state).toMatchObject({ firstSeq: 3, lastSeq: 2 });
    expect(await jetstream(nc).publish('s0.c', 'z')).toMatchObject({ stream: 'S0', seq: 3 });

    expect(await s.jetstream.reset()).toEqual({ streams: 6, consumers: 6 });
    expect(await s.jetstream.streams()).toEqual([]);
    expect((await rejection(jsm.streams.info('S0'))) as Error).toMatchObject({ message: 'stream not found' });
    // The next test starts from nothing: the same names can be made again.
    await s.jetstream.seed({ streams: { S0: { subjects: ['s0.>'] } } });
    expect((await s.jetstream.stream('S0'))?.state).toMatchObject({ messages: 0, lastSeq: 0, consumerCount: 0 });
    expect(await s.jetstream.reset()).toEqual({ streams: 1, consumers: 0 });
    expect(await s.jetstream.reset()).toEqual({ streams: 0, consumers: 0 });
  });

  it('reset() and seed() work per account', async () => {
    const s = await scope.server({
      backend,
      jetstream: true,
      accounts: {
        A: { users: [{ user: 'a', password: 'pa' }], jetstream: true },
        B: { users: [{ user: 'b', password: 'pb' }], jetstream: true },
      },
    });
    await s.jetstream.seed({ account: 'A', streams: { SAME: { subjects: ['x'] } }, kv: { cfg: { k: 'a' } } });
    await s.jetstream.seed({ account: 'B', streams: { SAME: { subjects: ['x'], messages: [{ subject: 'x', data: 'b' }] } } });
    expect((await s.jetstream.streams()).map((x) => `${x.account}/${x.name}`)).toEqual(['A/KV_cfg', 'A/SAME', 'B/SAME']);
    const ncB = await scope.client(s, { user: 'b', pass: 'pb' });
    expect((await (await jetstreamManager(ncB)).streams.info('SAME')).state.messages).toBe(1);
    expect((await s.jetstream.kvBucket('cfg', { keys: true, account: 'A' }))?.keys?.map((k) => k.value)).toEqual(['a']);

    expect(await s.jetstream.reset({ account: 'A' })).toEqual({ streams: 2, consumers: 0 });
    expect((await s.jetstream.streams()).map((x) => `${x.account}/${x.name}`)).toEqual(['B/SAME']);
    expect(await s.jetstream.reset()).toEqual({ streams: 1, consumers: 0 });
    expect(await s.jetstream.streams()).toEqual([]);
    expect(await rejection(s.jetstream.seed({ account: 'C', streams: { X: {} } }))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'account' });
  });

  it('refuses bad seeds with InvalidArgumentError and passes on the server\'s refusals as JetStreamApiError', async () => {
    const { s } = await setup({ backend });
    const bad = async (seed: unknown, argument: string, text: RegExp): Promise<void> => {
      const err = await rejection(s.jetstream.seed(seed as never));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument });
      expect((err as Error).message).toMatch(text);
    };
    await bad(null, 'seed', /expected an object/);
    await bad({ buckets: {} }, 'seed', /unknown field "buckets"/);
    await bad({ kv: { 'no.dots': { a: '1' } } }, 'kv', /invalid bucket name/);
    await bad({ kv: { b: { '.a': '1' } } }, 'kv', /invalid key "\.a"/);
    await bad({ kv: { b: { values: { a: 1 } } } }, 'kv', /key "a": expected a string or bytes/);
    await bad({ kv: { b: { history: 5, hist: 1 } } }, 'kv', /unknown option "hist"/);
    await bad({ kv: { b: { history: 0 } } }, 'kv', /history: expected an integer >= 1/);
    // An option name makes it the options form, even with every property a string.
    await bad({ kv: { b: { ttl: 'soon' } } }, 'kv', /ttl: expected milliseconds/);
    await bad({ kv: { b: { ttl: 'soon', history: 2 } } }, 'kv', /ttl/);
    await bad({ objects: { o: { objects: { 'x': 1 } } } }, 'objects', /object "x": expected a string or bytes/);
    await bad({ objects: { o: { ttl: '1h', sealed: true } } }, 'objects', /unknown option "sealed"/);
    await bad({ streams: { S: { messages: [{ data: 'no subject' }] } } }, 'messages', /expected \{ subject/);
    await bad({ streams: { S: { messages: [{ subject: 's', headers: { 'a b': 'x' } }] } } }, 'messages', /invalid header/);
    // Nothing was created by the refused seeds (they are checked before any request).
    expect(await s.jetstream.streams()).toEqual([]);

    // A message no stream stores, or one another stream takes.
    await bad({ streams: { S: { subjects: ['s'], messages: [{ subject: 'elsewhere' }] } } }, 'messages', /no stream stores subject "elsewhere"/);
    await bad({ streams: { T: { subjects: ['t'], messages: [{ subject: 's' }] } } }, 'messages', /stored by stream "S", not "T"/);

    // The server's own answer: the stream exists with another configuration (10058).
    const err = await rejection(s.jetstream.seed({ streams: { S: { subjects: ['other'] } } }));
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect(err).toMatchObject({ code: 'ERR_JETSTREAM', status: 400, errCode: 10058, subject: '$JS.API.STREAM.CREATE.S' });
    const err2 = await rejection(s.jetstream.seed({ streams: { S2: { subjects: ['s'] } } }));
    expect(err2).toMatchObject({ code: 'ERR_JETSTREAM', status: 400, errCode: 10065 }); // subjects overlap

    expect(await rejection(s.jetstream.kvBucket('a.b'))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'name' });
    expect(await rejection(s.jetstream.reset({ purge: 'yes' } as never))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'purge' });
  });

  it('without JetStream: nothing to reset, and a seed says JetStream is off; a closed server refuses', async () => {
    const s = await scope.server({ backend });
    expect(await s.jetstream.reset()).toEqual({ streams: 0, consumers: 0 });
    expect(await s.jetstream.kvBuckets()).toEqual([]);
    const err = await rejection(s.jetstream.seed({ streams: { S: {} } }));
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect(err).toMatchObject({ code: 'ERR_JETSTREAM', status: 503 });
    await s.close();
    expect(await rejection(s.jetstream.seed({ streams: { S: {} } }))).toBeInstanceOf(ServerClosedError);
    expect(await rejection(s.jetstream.reset())).toBeInstanceOf(ServerClosedError);
  });

  it('from the URL alone (a global setup\'s broker): jetstreamHelpers(), seedJetStream(), resetJetStream()', async () => {
    const s = await scope.server({ backend, jetstream: true, authorization: { users: [{ user: 'u', password: 'p' }] } });
    const url = `nats://u:p@127.0.0.1:${s.port}`;
    await seedJetStream(url, { kv: { config: { 'app.port': '8080' } }, streams: { ORDERS: { subjects: ['orders.>'], messages: [{ subject: 'orders.1', data: '1' }] } } });
    const js = await jetstreamHelpers(s.url, { user: 'u', pass: 'p' });
    try {
      expect((await js.streams()).map((x) => [x.account, x.name, x.state.messages])).toEqual([['$G', 'KV_config', 1], ['$G', 'ORDERS', 1]]);
      expect((await js.kvBucket('config', { keys: true }))?.keys?.map((k) => [k.key, k.value])).toEqual([['app.port', '8080']]);
      expect(await js.reset({ purge: true })).toEqual({ streams: 2, consumers: 0 });
    } finally {
      js.close();
    }
    expect(await resetJetStream(url)).toEqual({ streams: 2, consumers: 0 });
    expect(await s.jetstream.streams()).toEqual([]);
    // Wrong credentials: the server's refusal, as a NatsEmbeddedError.
    expect(await rejection(resetJetStream(`nats://u:wrong@127.0.0.1:${s.port}`))).toMatchObject({ code: 'ERR_BACKEND' });
    expect(await rejection(resetJetStream('http://127.0.0.1:1'))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'url' });
  });
});

describe('server.jetstream helpers on the nats-server backend', () => {
  it('refuse an account without a user they can connect as (a bcrypt password)', async () => {
    const s = await scope.server({
      backend: 'nats-server',
      jetstream: true,
      accounts: { A: { users: [{ user: 'a', password: '$2a$11$7bFvVJx7Wb5KEdvW8C0Y4OQkK0f0VxGmDGXGJ4K5jqvWqT0rF4nNe' }], jetstream: true } },
    });
    expect(await rejection(s.jetstream.seed({ account: 'A', streams: { S: {} } }))).toMatchObject({ code: 'ERR_UNSUPPORTED', backend: 'nats-server' });
  });
});
