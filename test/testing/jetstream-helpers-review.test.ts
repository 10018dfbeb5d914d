/**
 * The `server.jetstream` helpers against what a review found: seeds are checked before anything
 * is created (stream names, subjects that could break the protocol line, payloads over
 * max_payload), header values go out as UTF-8, reset({ purge }) copes with streams the server
 * will not purge, the URL helpers reach only their own account and surface listing errors, the
 * nats-server backend logs in as a user that can do the job, kvBucket({ keys }) survives keys
 * that vanish mid-read, requests reject at once when the server closes, and the `kv` shorthand
 * never turns options into keys. On both backends where it applies.
 */
import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import {
  BackendError,
  InvalidArgumentError,
  JetStreamApiError,
  ServerClosedError,
  jetstreamHelpers,
  resetJetStream,
  seedJetStream,
} from '../../src/index.js';
import { kvBucket, reset, type HelperHost } from '../../src/server/jetstream-helpers.js';
import type { RequestSession, SessionReply } from '../../src/server/backend.js';
import type { JetStreamStreamInfo } from '../../src/server/types.js';
import { useScope } from '../helpers/scope.js';
import { rejection } from '../helpers/errors.js';

const scope = useScope();

async function invalid(p: Promise<unknown>, argument: string, text: RegExp): Promise<void> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect(err).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument });
  expect((err as Error).message).toMatch(text);
}

describe.each(['embedded', 'nats-server'] as const)('server.jetstream helpers after review (%s backend)', (backend) => {
  it('seed() refuses bad stream names and subjects a client could not publish, before anything is created', async () => {
    const s = await scope.server({ backend, jetstream: true });
    for (const name of ['A B', 'A.B', '', 'A*', 'A>', 'a/b', 'x'.repeat(256), 'tab\there']) {
      await invalid(s.jetstream.seed({ streams: { [name]: { subjects: ['ok'] } } }), 'streams', /invalid stream name/);
    }
    const msg = (subject: string) => s.jetstream.seed({ streams: { S: { subjects: ['s.>'], messages: [{ subject }] } } });
    // A subject with CR/LF would be a second protocol line (an extra PUB, a SUB) on a client connection.
    for (const subject of ['s.a b', 's.a 0\r\n\r\nSUB evil 9\r\nPUB s.b', 's..a', 's.a.', 's.*', 's.>', 's.\u0000']) {
      await invalid(msg(subject), 'messages', /invalid subject/);
    }
    await invalid(s.jetstream.seed({ streams: { S: { messages: [{ subject: 's', headers: { 'X-A': 'a\r\nX-B: b' } }] } } }), 'messages', /invalid header "X-A"/);
    expect(await s.jetstream.streams()).toEqual([]);
    // A 255-character name is nats-server's limit, and fine.
    await s.jetstream.seed({ streams: { ['N'.repeat(255)]: { subjects: ['n'], messages: [{ subject: 'n' }] } } });
    expect((await s.jetstream.streams()).map((x) => [x.name.length, x.state.messages])).toEqual([[255, 1]]);
  });

  it('payloads over max_payload are refused before the bucket is made; objects are cut at min(128 KiB, max_payload) as @nats-io/obj does', async () => {
    const s = await scope.server({ backend, jetstream: true, maxPayload: 65536 });
    await invalid(s.jetstream.seed({ kv: { big: { x: 'v'.repeat(65537) } } }), 'kv', /"\$KV\.big\.x".*65537 bytes, over the server's max_payload of 65536/);
    await invalid(
      s.jetstream.seed({ streams: { S: { subjects: ['s'], messages: [{ subject: 's', data: 'v'.repeat(65530), headers: { 'X-Pad': 'pad' } }] } } }),
      'messages',
      /over the server's max_payload/,
    );
    expect(await s.jetstream.streams()).toEqual([]);
    // Exactly max_payload is fine.
    await s.jetstream.seed({ kv: { big: { x: 'v'.repeat(65536) } } });

    const data = new Uint8Array(200 * 1024).map((_, i) => i % 251);
    await s.jetstream.seed({ objects: { files: { 'blob.bin': data } } });
    const nc = await scope.client(s);
    const os = await new Objm(nc).open('files');
    const info = await os.info('blob.bin');
    expect({ size: info?.size, chunks: info?.chunks, max: info?.options?.max_chunk_size }).toEqual({ size: 200 * 1024, chunks: 4, max: 65536 });
    expect(Buffer.from((await os.getBlob('blob.bin')) ?? []).equals(data)).toBe(true);
  });

  it('reset({ purge: true }) deletes the streams the server will not purge (sealed, deny_purge) and purges the others', async () => {
    const s = await scope.server({ backend, jetstream: true });
    const nc = await scope.client(s);
    await s.jetstream.seed({
      streams: {
        KEEP: { subjects: ['keep'], messages: [{ subject: 'keep' }, { subject: 'keep' }] },
        NOPURGE: { subjects: ['np'], deny_purge: true, messages: [{ subject: 'np' }] },
      },
      objects: { frozen: { 'a.txt': 'a' } },
    });
    await (await new Objm(nc).open('frozen')).seal();
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info('OBJ_frozen')).config.sealed).toBe(true);

    expect(await s.jetstream.reset({ purge: true })).toEqual({ streams: 3, consumers: 0 });
    expect((await s.jetstream.streams()).map((x) => [x.name, x.state.messages])).toEqual([['KEEP', 0]]);
    // The next reset({ purge }) has nothing in its way.
    expect(await s.jetstream.reset({ purge: true })).toEqual({ streams: 1, consumers: 0 });
  });

  it('header values are sent as UTF-8, as the clients send them', async () => {
    const s = await scope.server({ backend, jetstream: true });
    const nc = await scope.client(s);
    await s.jetstream.seed({ streams: { H: { subjects: ['h'], messages: [{ subject: 'h', data: 'x', headers: { 'X-Name': 'café ✓' } }] } } });
    const m = await (await jetstreamManager(nc)).streams.getMessage('H', { seq: 1 });
    expect(m?.header.get('X-Name')).toBe('café ✓');
  });

  it('the URL helpers reach only their own account, and a refused listing is an error, not an empty list', async () => {
    const s = await scope.server({
      backend,
      jetstream: true,
      accounts: {
        A: { users: [{ user: 'a', password: 'pa' }], jetstream: true },
        B: { users: [{ user: 'b', password: 'pb' }], jetstream: true },
        N: { users: [{ user: 'n', password: 'pn' }] },
      },
    });
    const urlB = `nats://b:pb@127.0.0.1:${s.port}`;
    await invalid(seedJetStream(urlB, { account: 'A', streams: { T: {} } }, { account: 'B' }), 'account', /in account "B".*not "A"/);
    await invalid(seedJetStream(urlB, { account: 'A', streams: { T: {} } }), 'account', /in account "\$G".*not "A"/);
    expect(await s.jetstream.streams()).toEqual([]);
    await seedJetStream(urlB, { account: 'B', streams: { T: { subjects: ['t'] } }, kv: { x: { k: 'v' } } }, { account: 'B' });
    const js = await jetstreamHelpers(urlB, { account: 'B' });
    try {
      expect((await js.kvBucket('x', { account: 'B', keys: true }))?.keys?.map((k) => k.value)).toEqual(['v']);
      await invalid(js.kvBucket('x', { account: 'A' }), 'account', /not "A"/);
      await invalid(js.reset({ account: 'A' }), 'account', /not "A"/);
      expect(await js.reset({ account: 'B' })).toEqual({ streams: 2, consumers: 0 });
    } finally {
      js.close();
    }
    expect(await s.jetstream.streams()).toEqual([]);
    // Account N has no JetStream: the server's 503, not "nothing to reset".
    const err = await rejection(resetJetStream(`nats://n:pn@127.0.0.1:${s.port}`));
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect(err).toMatchObject({ status: 503, subject: '$JS.API.STREAM.LIST' });
  });

  it('requests reject at once with ServerClosedError when the server closes under them', async () => {
    const s = await scope.server({ backend, jetstream: true });
    const nc = await scope.client(s);
    // A core subscriber that never answers: the seed's publish waits for an ack that never comes.
    nc.subscribe('hang.x', { callback: () => undefined });
    await nc.flush();
    const started = Date.now();
    const p = rejection(s.jetstream.seed({ timeoutMs: 8000, streams: { S: { subjects: ['s'], messages: [{ subject: 'hang.x' }] } } }));
    await new Promise((r) => setTimeout(r, 300));
    await s.close();
    expect(await p).toBeInstanceOf(ServerClosedError);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('the URL helpers page past 256 streams and read replies that span many reads', async () => {
    const s = await scope.server({ backend, jetstream: true });
    const streams: Record<string, { subjects: string[]; storage: 'memory' }> = {};
    for (let i = 0; i < 300; i++) streams[`P${String(i).padStart(3, '0')}`] = { subjects: [`p.${i}`], storage: 'memory' };
    // A value of ~900 KiB: its MSG.GET reply (base64 in JSON, ~1.2 MB) arrives in many reads.
    const big = new Uint8Array(900 * 1024).map((_, i) => (i * 7) % 256);
    await seedJetStream(s.url, { streams, kv: { blob: { values: { v: big } } } });
    const js = await jetstreamHelpers(s.url);
    try {
      expect((await js.streams()).length).toBe(301);
      // (Buffer.equals: a deep toEqual of 900 K elements takes seconds.)
      expect(Buffer.from((await js.kvBucket('blob', { keys: true }))?.keys?.[0]?.data ?? []).equals(big)).toBe(true);
      expect(await js.reset()).toEqual({ streams: 301, consumers: 0 });
      expect(await js.streams()).toEqual([]);
    } finally {
      js.close();
    }
  });

  it('seed({ kv }) and seed({ objects }): an object with an option name is options, never keys', async () => {
    const s = await scope.server({ backend, jetstream: true });
    await s.jetstream.seed({
      kv: {
        sessions: { storage: 'memory' },
        described: { description: 'x' },
        named: { values: { storage: 'disk', ttl: '1h' } },
        plain: { 'app.port': '8080' },
      },
      objects: { docs: { description: 'manuals' }, files: { objects: { description: 'a file named description' } } },
    });
    const buckets = await s.jetstream.kvBuckets();
    expect(buckets.map((b) => [b.bucket, b.storage, b.values, b.description])).toEqual([
      ['described', 'file', 0, 'x'], ['named', 'file', 2, null], ['plain', 'file', 1, null], ['sessions', 'memory', 0, null],
    ]);
    expect((await s.jetstream.kvBucket('named', { keys: true }))?.keys?.map((k) => [k.key, k.value])).toEqual([['storage', 'disk'], ['ttl', '1h']]);
    expect((await s.jetstream.objectStores()).map((o) => [o.bucket, o.description, o.bytes > 0])).toEqual([['docs', 'manuals', false], ['files', null, true]]);
    await invalid(s.jetstream.seed({ kv: { mixed: { storage: 'memory', 'app.port': '1' } } }), 'kv', /unknown option "app\.port".*values/);
  });
});

describe.each(['embedded', 'nats-server'] as const)('server.jetstream helpers with restricted users (%s backend)', (backend) => {
  it('log in as a user without permissions when the first one is restricted; a refused publish fails that request only', async () => {
    const s = await scope.server({
      backend,
      jetstream: true,
      accounts: {
        A: {
          jetstream: true,
          users: [
            { user: 'ro', password: 'pro', permissions: { publish: ['foo'], subscribe: ['foo'] } },
            { user: 'lim', password: 'plim', permissions: { publish: ['$JS.API.>'], subscribe: ['_INBOX.>'] } },
            { user: 'admin', password: 'padmin' },
          ],
        },
      },
    });
    await s.jetstream.seed({ account: 'A', streams: { S: { subjects: ['s'], messages: [{ subject: 's', data: '1' }] } } });
    expect((await s.jetstream.streams({ account: 'A' })).map((x) => [x.name, x.state.messages])).toEqual([['S', 1]]);

    // Through the URL as a user that may not subscribe to its inbox: a clear refusal, not a hang.
    const refused = await rejection(jetstreamHelpers(`nats://ro:pro@127.0.0.1:${s.port}`));
    expect(refused).toBeInstanceOf(BackendError);
    expect((refused as Error).message).toMatch(/refused the helper's connection: 'Permissions Violation for Subscription/);

    // A user that may use $JS.API but not publish to "s": that publish fails with the server's
    // text at once; the connection goes on.
    const js = await jetstreamHelpers(`nats://lim:plim@127.0.0.1:${s.port}`, { account: 'A' });
    try {
      const started = Date.now();
      const err = await rejection(js.seed({ streams: { S: { subjects: ['s'], messages: [{ subject: 's', data: '2' }] } } }));
      expect(err).toBeInstanceOf(BackendError);
      expect((err as Error).message).toMatch(/the server refused a request: 'Permissions Violation for Publish to "s"'/);
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await js.streams()).map((x) => [x.name, x.state.messages])).toEqual([['S', 1]]);
    } finally {
      js.close();
    }
  });
});

describe('seeded KV buckets with nats-server 2.10 options (embedded backend: 2.9.10 lacks them)', () => {
  it('compression and metadata give the same stream configuration as @nats-io/kv', async () => {
    const s = await scope.server({ backend: 'embedded', jetstream: true });
    const kvm = new Kvm(await scope.client(s));
    const cases = [
      [{ compression: true, metadata: { team: 'a' } }, { compression: true, metadata: { team: 'a' } }],
      [{ compression: false, history: 3, description: 'd' }, { compression: false, history: 3, description: 'd' }],
    ] as const;
    let i = 0;
    for (const [clientOpts, seedOpts] of cases) {
      i++;
      await kvm.create(`client${i}`, clientOpts as never);
      await s.jetstream.seed({ kv: { [`seeded${i}`]: seedOpts } });
      const { name: _a, subjects: _b, ...a } = (await s.jetstream.stream(`KV_client${i}`))!.config as unknown as Record<string, unknown>;
      const { name: _c, subjects: _d, ...b } = (await s.jetstream.stream(`KV_seeded${i}`))!.config as unknown as Record<string, unknown>;
      expect(b).toEqual(a);
    }
    expect((await s.jetstream.stream('KV_seeded1'))!.config).toMatchObject({ compression: 's2', metadata: { team: 'a' } });
  });
});

describe('kvBucket({ keys: true }) reading keys (a scripted server)', () => {
  /** A bucket `b` of `n` keys; the keys in `gone` answer 10037 (expired or purged since STREAM.INFO). */
  function fakeHost(n: number, gone: Set<number>): { host: HelperHost; maxInFlight: () => number; timeouts: Set<number> } {
    let inFlight = 0;
    let max = 0;
    const timeouts = new Set<number>();
    const ok = (body: unknown): SessionReply => ({ data: Buffer.from(JSON.stringify(body)), status: 0 });
    const session: RequestSession = {
      maxPayload: 1024 * 1024,
      async request(subject, data, _headers, timeoutMs) {
        timeouts.add(timeoutMs);
        const req = JSON.parse(Buffer.from(data).toString() || '{}') as { last_by_subj?: string };
        if (subject.startsWith('$JS.API.STREAM.INFO.')) {
          const subjects: Record<string, number> = {};
          for (let i = 0; i < n; i++) subjects[`$KV.b.k${i}`] = 1;
          return ok({ total: n, state: { subjects } });
        }
        inFlight++;
        max = Math.max(max, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        const i = Number(String(req.last_by_subj).slice('$KV.b.k'.length));
        if (gone.has(i)) return ok({ error: { code: 404, err_code: 10037, description: 'no message found' } });
        return ok({ message: { subject: `$KV.b.k${i}`, seq: i + 1, data: Buffer.from(`v${i}`).toString('base64'), time: new Date(0).toISOString() } });
      },
      close: () => undefined,
    };
    const info = {
      account: '$G', name: 'KV_b', created: new Date(0),
      config: { max_msgs_per_subject: 1, storage: 'file', num_replicas: 1 },
      state: { messages: n, bytes: 0, consumerCount: 0 },
    } as unknown as JetStreamStreamInfo;
    const host: HelperHost = { enabled: true, streams: async () => [info], openSession: async () => session };
    return { host, maxInFlight: () => max, timeouts };
  }

  it('leaves out keys that vanish between STREAM.INFO and MSG.GET, sends the GETs in bounded windows, and uses timeoutMs', async () => {
    const f = fakeHost(500, new Set([3, 250]));
    const b = await kvBucket(f.host, 'b', { keys: true, timeoutMs: 1234 });
    expect(b?.keys?.length).toBe(498);
    expect(b?.keys?.some((k) => k.key === 'k3' || k.key === 'k250')).toBe(false);
    expect(b?.keys?.find((k) => k.key === 'k7')?.value).toBe('v7');
    expect(f.maxInFlight()).toBeLessThanOrEqual(64);
    expect([...f.timeouts]).toEqual([1234]);
  });
});

describe('reset() when the server refuses some streams (a scripted server)', () => {
  it('tries every stream, and the error names the ones that failed', async () => {
    const sent: string[] = [];
    const session: RequestSession = {
      maxPayload: 1024 * 1024,
      async request(subject) {
        sent.push(subject);
        const body = subject.endsWith('.BAD1') || subject.endsWith('.BAD2')
          ? { error: { code: 500, err_code: 10050, description: 'stream delete failed' } }
          : { success: true };
        return { data: Buffer.from(JSON.stringify(body)), status: 0 };
      },
      close: () => undefined,
    };
    const info = (name: string) => ({ account: '$G', name, created: new Date(0), config: {}, state: { messages: 1, bytes: 1, consumerCount: 2 } }) as unknown as JetStreamStreamInfo;
    const host: HelperHost = { enabled: true, streams: async () => ['A', 'BAD1', 'B', 'BAD2', 'C'].map(info), openSession: async () => session };
    const err = await rejection(reset(host, undefined));
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect(err).toMatchObject({ errCode: 10050 });
    expect((err as Error).message).toMatch(/deleted 3 stream\(s\) and could not delete 2: \$G\/BAD1, \$G\/BAD2/);
    expect(sent.sort()).toEqual(['A', 'B', 'BAD1', 'BAD2', 'C'].map((n) => `$JS.API.STREAM.DELETE.${n}`));
  });
});
