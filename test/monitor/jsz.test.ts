/**
 * JetStream on the monitor: `/jsz` with every option, `/varz`'s `jetstream` block and the
 * JetStream checks of `/healthz`, as nats-server 2.10.29 answers for a single server (field
 * order of 2.10's structs: `JSInfo` starts with its embedded `JetStreamStats`, 2.9 put
 * `server_id` first; 2.10 adds `total`, `sync_interval` and `compress_ok`, and checks the
 * stream directories in `/healthz`, which 2.9 does not). Streams are made with the official
 * `@nats-io/jetstream` client; the figures are compared with what its STREAM.INFO says.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { monitorGet as get, monitorJson as json, type Json, type MonitorReply as Reply } from '../helpers/monitor.js';

const scope = useScope('file');

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
/** 2.10's JSInfo keys, in order (`disabled`, `limits`, `meta_cluster`, `account_details` optional). */
const JSINFO_KEYS = [
  'memory', 'storage', 'reserved_memory', 'reserved_storage', 'accounts', 'ha_assets', 'api',
  'server_id', 'now', 'config', 'streams', 'consumers', 'messages', 'bytes', 'total',
];
const ACCOUNT_KEYS = ['name', 'id', 'memory', 'storage', 'reserved_memory', 'reserved_storage', 'accounts', 'ha_assets', 'api'];
/** Go's uint64(-1): an unlimited account limit as an AccountDetail reservation. */
const UNLIMITED_U64 = '18446744073709551615';
const MAX_MEMORY = 64 * 1024 * 1024;
const MAX_STORE = 256 * 1024 * 1024;

describe('/jsz, /varz and /healthz with JetStream', () => {
  let s: NatsServer;
  let base: string;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let storeDir: string;
  let mem: StreamInfo;
  let file: StreamInfo;

  beforeAll(async () => {
    storeDir = mkdtempSync(join(tmpdir(), 'jsz-test-'));
    scope.defer(() => rmSync(storeDir, { recursive: true, force: true }));
    s = await scope.server({ http: -1, serverName: 'jsz-1', jetstream: { storeDir, maxMemory: MAX_MEMORY, maxStore: MAX_STORE } });
    base = s.monitorUrl!;
    nc = await scope.client(s);
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'MEM', subjects: ['mem.>'], storage: 'memory', max_bytes: 10_000 } as never);
    await jsm.streams.add({ name: 'FILE', subjects: ['file.>'], storage: 'file' } as never);
    const js = jetstream(nc);
    await js.publish('mem.a', 'hello');
    await js.publish('file.a', 'x');
    await js.publish('file.b', 'yy');
    await js.publish('file.b', 'zz');
    await jsm.streams.deleteMessage('FILE', 2);
    mem = await jsm.streams.info('MEM');
    file = await jsm.streams.info('FILE');
  });

  const config = (): Json => ({
    max_memory: MAX_MEMORY,
    max_storage: MAX_STORE,
    store_dir: join(storeDir, 'jetstream'),
    sync_interval: 120_000_000_000,
    compress_ok: true,
  });

  it('/jsz: the server\'s usage, in 2.10\'s field order, laid out as Go\'s MarshalIndent', async () => {
    const r = await get(base, '/jsz');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    const doc = JSON.parse(r.text) as Json;
    expect(r.text).toBe(JSON.stringify(doc, null, 2));
    expect(Object.keys(doc)).toEqual(JSINFO_KEYS);
    expect(doc.server_id).toBe(s.info.server_id);
    expect(doc.now).toMatch(RFC3339);
    expect(Math.abs(Date.parse(doc.now as string) - Date.now())).toBeLessThan(5_000);
    expect(doc.config).toEqual(config());
    expect(Object.keys(doc.config as Json)).toEqual(['max_memory', 'max_storage', 'store_dir', 'sync_interval', 'compress_ok']);
    expect(doc).toMatchObject({
      memory: mem.state.bytes,
      storage: file.state.bytes,
      reserved_memory: 10_000,
      reserved_storage: 0,
      accounts: 1,
      ha_assets: 0,
      streams: 2,
      consumers: 0,
      messages: mem.state.messages + file.state.messages,
      bytes: mem.state.bytes + file.state.bytes,
      total: 1,
    });
    expect(doc.messages).toBe(3);
    expect(Object.keys(doc.api as Json)).toEqual(['total', 'errors']);
  });

  it('/jsz api counts every JetStream API request and its errors', async () => {
    const before = (await json(base, '/jsz')).api as { total: number; errors: number };
    await nc.request('$JS.API.INFO', '');
    let after = (await json(base, '/jsz')).api as { total: number; errors: number };
    expect(after).toEqual({ total: before.total + 1, errors: before.errors });
    await nc.request('$JS.API.STREAM.INFO.NOPE', '');
    after = (await json(base, '/jsz')).api as { total: number; errors: number };
    expect(after).toEqual({ total: before.total + 2, errors: before.errors + 1 });
    // The account's own counters are the same (one account).
    const acc = ((await json(base, '/jsz?accounts=1')).account_details as Json[])[0];
    expect(acc.api).toEqual(after);
  });

  it('/jsz?accounts=1: one detail per account, reservations as Go\'s uint64 of the account limits', async () => {
    const r = await get(base, '/jsz?accounts=1');
    const doc = JSON.parse(r.text) as Json;
    const details = doc.account_details as Json[];
    expect(details).toHaveLength(1);
    const acc = details[0];
    expect(Object.keys(acc)).toEqual(ACCOUNT_KEYS);
    expect(acc).toMatchObject({ name: '$G', id: '$G', memory: mem.state.bytes, storage: file.state.bytes, accounts: 0, ha_assets: 0 });
    // Beyond 2^53: checked in the text.
    expect(r.text).toContain(`      "reserved_memory": ${UNLIMITED_U64},\n      "reserved_storage": ${UNLIMITED_U64},\n`);
    expect(Object.keys(doc)).toEqual([...JSINFO_KEYS.slice(0, -1), 'account_details', 'total']);
  });

  it('/jsz?streams=1 (implies accounts): each stream\'s name, creation, leader and fast state', async () => {
    const doc = await json(base, '/jsz?streams=1');
    const details = ((doc.account_details as Json[])[0].stream_detail as Json[]);
    expect(details.map((d) => d.name).sort()).toEqual(['FILE', 'MEM']);
    for (const si of [mem, file]) {
      const d = details.find((x) => x.name === si.config.name)!;
      expect(Object.keys(d)).toEqual(['name', 'created', 'cluster', 'state']);
      expect(d.created).toBe(si.created);
      expect(d.cluster).toEqual({ leader: 'jsz-1' });
      expect(d.state).toEqual(si.state);
    }
    const fileState = details.find((x) => x.name === 'FILE')!.state as Json;
    expect(fileState).toMatchObject({ messages: 2, first_seq: 1, last_seq: 3, num_subjects: 2, num_deleted: 1, consumer_count: 0 });
  });

  it('/jsz?streams=1&config=1: the configs as STREAM.INFO gives them; consumers=1 lists none and implies streams', async () => {
    const withConfig = await json(base, '/jsz?streams=1&config=1');
    for (const d of (withConfig.account_details as Json[])[0].stream_detail as Json[]) {
      const si = d.name === 'MEM' ? mem : file;
      expect(Object.keys(d)).toEqual(['name', 'created', 'cluster', 'config', 'state']);
      expect(d.config).toEqual(si.config);
    }
    const withConsumers = await json(base, '/jsz?consumers=true');
    const details = (withConsumers.account_details as Json[])[0].stream_detail as Json[];
    expect(details).toHaveLength(2);
    // No consumers exist: consumer_detail is left out (omitempty), and no config without config=1.
    for (const d of details) expect(Object.keys(d)).toEqual(['name', 'created', 'cluster', 'state']);
  });

  it('/jsz acc, leader-only, raft and stream-leader-only', async () => {
    const one = await json(base, '/jsz?acc=$G');
    expect(((one.account_details as Json[])[0]).name).toBe('$G');
    expect((one.account_details as Json[])[0].stream_detail).toBeUndefined();
    const withStreams = await json(base, '/jsz?acc=$G&streams=1');
    expect(((withStreams.account_details as Json[])[0].stream_detail as Json[])).toHaveLength(2);
    // An unknown account: no details, unless all accounts are asked for.
    expect((await json(base, '/jsz?acc=NOPE')).account_details).toBeUndefined();
    expect((await json(base, '/jsz?acc=NOPE&accounts=1')).account_details).toHaveLength(1);
    // A single server leads: leader-only answers; no raft groups to show.
    expect(Object.keys(await json(base, '/jsz?leader-only=1'))).toEqual(JSINFO_KEYS);
    const raft = await json(base, '/jsz?streams=1&raft=1&stream-leader-only=1');
    for (const d of (raft.account_details as Json[])[0].stream_detail as Json[]) expect(Object.keys(d)).toEqual(['name', 'created', 'cluster', 'state']);
  });

  it('/jsz bad parameters: nats-server\'s 400 texts; JSONP; counted in /varz', async () => {
    for (const [path, text] of [
      ['/jsz?accounts=x', `Error decoding boolean for 'accounts': strconv.ParseBool: parsing "x": invalid syntax`],
      ['/jsz?streams=2', `Error decoding boolean for 'streams': strconv.ParseBool: parsing "2": invalid syntax`],
      ['/jsz?consumers=no', `Error decoding boolean for 'consumers': strconv.ParseBool: parsing "no": invalid syntax`],
      ['/jsz?config=y', `Error decoding boolean for 'config': strconv.ParseBool: parsing "y": invalid syntax`],
      ['/jsz?offset=a', `Error decoding int for 'offset': strconv.Atoi: parsing "a": invalid syntax`],
      ['/jsz?limit=1.5', `Error decoding int for 'limit': strconv.Atoi: parsing "1.5": invalid syntax`],
      ['/jsz?leader-only=z', `Error decoding boolean for 'leader-only': strconv.ParseBool: parsing "z": invalid syntax`],
      ['/jsz?raft=z', `Error decoding boolean for 'raft': strconv.ParseBool: parsing "z": invalid syntax`],
      ['/jsz?stream-leader-only=z', `Error decoding boolean for 'stream-leader-only': strconv.ParseBool: parsing "z": invalid syntax`],
    ]) {
      const r = await get(base, path);
      expect({ path, status: r.status, text: r.text }).toEqual({ path, status: 400, text });
    }
    const cb = await get(base, '/jsz?callback=cb');
    expect(cb.type).toBe('application/javascript');
    expect(cb.text).toMatch(/^cb\(\{\n {2}"memory": /);
    const before = ((await json(base, '/varz')).http_req_stats as Json)['/jsz'] as number;
    await get(base, '/jsz?offset=bad');
    await get(base, '/jsz');
    expect(((await json(base, '/varz')).http_req_stats as Json)['/jsz']).toBe(before + 2);
  });

  it('/varz jetstream: config and stats as /jsz has them', async () => {
    const v = (await json(base, '/varz')).jetstream as Json;
    expect(Object.keys(v)).toEqual(['config', 'stats']);
    expect(v.config).toEqual(config());
    const j = await json(base, '/jsz');
    const stats = Object.fromEntries(JSINFO_KEYS.slice(0, 7).map((k) => [k, j[k]]));
    // Nothing changed in between (/jsz is not a JetStream API request): the same figures.
    expect(v.stats).toEqual(stats);
    expect(Object.keys(v.stats as Json)).toEqual(JSINFO_KEYS.slice(0, 7));
  });

  it('/healthz checks that each stream found on disk was recovered', async () => {
    const h = (p: string): Promise<Reply> => get(base, `/healthz${p}`);
    const ok = { status: 200, text: '{"status":"ok"}' };
    const pick = (r: Reply): { status: number; text: string } => ({ status: r.status, text: r.text });
    expect(pick(await h(''))).toEqual(ok);
    expect(pick(await h('?account=$G'))).toEqual(ok);
    expect(pick(await h('?account=$G&stream=FILE'))).toEqual(ok);
    expect(pick(await h('?js-server-only=1'))).toEqual(ok);

    // What is not found: 404.
    expect(pick(await h('?account=NOPE'))).toEqual({ status: 404, text: '{"status":"unavailable","error":"JetStream account \\"NOPE\\" not found"}' });
    expect(pick(await h('?account=NOPE&details=1'))).toEqual({
      status: 404,
      text: '{"status":"error","errors":[{"type":"ACCOUNT","account":"NOPE","error":"JetStream account \\"NOPE\\" not found"}]}',
    });
    // A memory stream has no directory: nats-server does not find it either.
    expect(pick(await h('?account=$G&stream=MEM'))).toEqual({
      status: 404, text: '{"status":"unavailable","error":"JetStream stream \\"MEM\\" not found on account \\"$G\\""}',
    });
    expect(pick(await h('?account=$G&stream=FILE&consumer=C'))).toEqual({
      status: 404, text: '{"status":"unavailable","error":"JetStream consumer \\"C\\" not found for stream \\"FILE\\" on account \\"$G\\""}',
    });
    expect(pick(await h('?account=$G&stream=FILE&consumer=C&details=1'))).toEqual({
      status: 404,
      text: '{"status":"error","errors":[{"type":"CONSUMER","account":"$G","stream":"FILE","consumer":"C","error":"JetStream consumer \\"C\\" not found for stream \\"FILE\\" on account \\"$G\\""}]}',
    });
    // Once the stream holds consumer C, the consumer check passes (2.10.29 looks in s.consumers).
    await jsm.consumers.add('FILE', { durable_name: 'HC', ack_policy: 'explicit' } as never);
    expect(pick(await h('?account=$G&stream=FILE&consumer=HC'))).toEqual(ok);
    expect(pick(await h('?account=$G&stream=FILE&consumer=C'))).toMatchObject({ status: 404 });
    await jsm.consumers.delete('FILE', 'HC');
    expect(pick(await h('?account=$G&stream=FILE&consumer=HC'))).toMatchObject({ status: 404 });

    // A stream directory without a stream, and a directory of an account that does not exist: 503.
    const root = join(storeDir, 'jetstream');
    mkdirSync(join(root, '$G', 'streams', 'GHOST'), { recursive: true });
    mkdirSync(join(root, 'NOACC', 'streams', 'Z'), { recursive: true });
    try {
      expect(pick(await h(''))).toEqual({ status: 503, text: `{"status":"unavailable","error":"JetStream stream '$G \\u003e GHOST' could not be recovered"}` });
      expect(pick(await h('?details=true'))).toEqual({
        status: 503,
        text: '{"status":"error","errors":['
          + `{"type":"STREAM","account":"$G","stream":"GHOST","error":"JetStream stream '$G \\u003e GHOST' could not be recovered"},`
          + `{"type":"ACCOUNT","account":"NOACC","error":"JetStream account 'NOACC' could not be resolved"}]}`,
      });
      expect(pick(await h('?account=NOACC'))).toEqual({ status: 503, text: `{"status":"unavailable","error":"JetStream account 'NOACC' could not be resolved"}` });
      // Another stream of the account is still found healthy.
      expect(pick(await h('?account=$G&stream=FILE'))).toEqual(ok);
      expect(pick(await h('?js-server-only=true'))).toMatchObject({ status: 503 });
      // js-enabled-only (and the deprecated js-enabled) skip the store check.
      expect(pick(await h('?js-enabled-only=1'))).toEqual(ok);
      expect(pick(await h('?js-enabled=1'))).toEqual(ok);
    } finally {
      rmSync(join(root, '$G', 'streams', 'GHOST'), { recursive: true, force: true });
      rmSync(join(root, 'NOACC'), { recursive: true, force: true });
    }
    expect(pick(await h(''))).toEqual(ok);
    expect((await h('?js-enabled-only=maybe')).status).toBe(400);
  });
});

describe('/jsz follows the streams', () => {
  it('deleting and purging move the figures; a restart shows the recovered file streams', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'jsz-test-'));
    scope.defer(() => rmSync(storeDir, { recursive: true, force: true }));
    const s = await scope.server({ http: -1, serverName: 'jsz-r', jetstream: { storeDir } });
    const nc = await scope.client(s, { reconnect: false });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'M', subjects: ['m'], storage: 'memory', max_bytes: 4096 } as never);
    await jsm.streams.add({ name: 'F', subjects: ['f'], storage: 'file', max_bytes: 8192 } as never);
    const js = jetstream(nc);
    for (let i = 0; i < 3; i++) {
      await js.publish('m', 'mm');
      await js.publish('f', 'ff');
    }
    const figures = async (): Promise<Json> => {
      const d = await json(s.monitorUrl!, '/jsz');
      return Object.fromEntries(['memory', 'storage', 'reserved_memory', 'reserved_storage', 'streams', 'messages', 'bytes'].map((k) => [k, d[k]]));
    };
    const [m, f] = [await jsm.streams.info('M'), await jsm.streams.info('F')];
    expect(await figures()).toEqual({
      memory: m.state.bytes, storage: f.state.bytes, reserved_memory: 4096, reserved_storage: 8192, streams: 2, messages: 6,
      bytes: m.state.bytes + f.state.bytes,
    });
    await jsm.streams.delete('M');
    await jsm.streams.purge('F');
    expect(await figures()).toEqual({ memory: 0, storage: 0, reserved_memory: 0, reserved_storage: 8192, streams: 1, messages: 0, bytes: 0 });
    await js.publish('f', 'again');
    const before = stripNow(await json(s.monitorUrl!, '/jsz?streams=1&config=1'));
    await nc.close();

    await s.restart();
    const after = stripNow(await json(s.monitorUrl!, '/jsz?streams=1&config=1'));
    // The same stream, creation time, config and state; the API counters start again at 0.
    expect({ ...after, api: null, account_details: null }).toEqual({ ...before, api: null, account_details: null });
    const detail = (d: Json): Json => ((d.account_details as Json[])[0].stream_detail as Json[])[0];
    expect(detail(after)).toEqual(detail(before));
    expect(after.api).toEqual({ total: 0, errors: 0 });
    expect((await get(s.monitorUrl!, '/healthz?account=$G&stream=F')).text).toBe('{"status":"ok"}');
  });
});

function stripNow(d: Json): Json {
  return { ...d, now: null, server_id: null };
}

describe('/jsz paging over accounts', () => {
  it('sorts the accounts by name, then offset and limit; acc picks one', async () => {
    const s = await scope.server({
      http: -1,
      jetstream: true,
      accounts: { B: { users: [{ user: 'b', password: 'p' }], jetstream: true }, A: { users: [{ user: 'a', password: 'p' }], jetstream: true }, C: { users: [{ user: 'c', password: 'p' }], jetstream: true }, D: { users: [{ user: 'd', password: 'p' }] } },
    });
    const base = s.monitorUrl!;
    const names = async (q: string): Promise<string[]> =>
      (((await json(base, `/jsz?${q}`)).account_details as Json[] | undefined) ?? []).map((a) => a.name as string);
    const all = await names('accounts=1');
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(['A', 'B', 'C']); // D has no JetStream
    expect((await json(base, '/jsz')).total).toBe(all.length);
    expect(await names('accounts=1&offset=1&limit=1')).toEqual([all[1]]);
    expect(await names('accounts=1&offset=2')).toEqual(all.slice(2));
    expect(await names(`accounts=1&offset=${all.length + 5}`)).toEqual([]);
    expect(await names('accounts=1&offset=-3&limit=2')).toEqual(all.slice(0, 2));
    // A negative limit: no paging.
    expect((await names('accounts=1&limit=-1')).sort()).toEqual(all);
    expect(await names('acc=B')).toEqual(['B']);
    expect(await names('acc=B&accounts=1&limit=1')).toEqual(['B']);
  });
});

describe('JetStream off', () => {
  it('/jsz says disabled with an empty config, /varz jetstream is {}, /healthz is ok', async () => {
    const s = await scope.server({ http: -1 });
    const base = s.monitorUrl!;
    const doc = await json(base, '/jsz?accounts=1&streams=1');
    expect(Object.keys(doc)).toEqual([...JSINFO_KEYS.slice(0, 9), 'disabled', ...JSINFO_KEYS.slice(9)]);
    expect(doc).toMatchObject({
      memory: 0, storage: 0, reserved_memory: 0, reserved_storage: 0, accounts: 0, ha_assets: 0, api: { total: 0, errors: 0 },
      server_id: s.info.server_id, disabled: true, config: { max_memory: 0, max_storage: 0 },
      streams: 0, consumers: 0, messages: 0, bytes: 0, total: 0,
    });
    const leader = await get(base, '/jsz?leader-only=true');
    expect({ status: leader.status, text: leader.text }).toEqual({ status: 400, text: 'filtered response: not leader' });
    expect((await json(base, '/varz')).jetstream).toEqual({});
    for (const p of ['', '?js-enabled-only=1', '?js-server-only=1', '?account=A']) {
      expect((await get(base, `/healthz${p}`)).text).toBe('{"status":"ok"}');
    }
  });

  it('a temporary store directory is reported as <dir>/jetstream; no limits given above 0: no compress_ok', async () => {
    const s = await scope.server({ http: -1, jetstream: { maxStore: 0, domain: 'hub' } });
    const cfg = (await json(s.monitorUrl!, '/jsz')).config as Json;
    expect(Object.keys(cfg)).toEqual(['max_memory', 'max_storage', 'store_dir', 'sync_interval', 'domain']);
    expect(cfg.store_dir).toMatch(/[/\\]jetstream$/);
    expect(cfg).toMatchObject({ max_storage: 0, domain: 'hub', sync_interval: 120_000_000_000 });
  });
});
