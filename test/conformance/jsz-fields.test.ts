/**
 * JetStream monitoring conformance: a real `nats-server` with JetStream and an embedded server
 * with JetStream, each given the same streams and messages through the official
 * `@nats-io/jetstream` client. The keys and JSON types of `/jsz` (plain, `accounts`, `streams`,
 * `config`, `consumers`) and of `/varz`'s `jetstream` block must be the same on both, except
 * the 2.10-only additions listed in {@link ALLOWED} (the real server here is 2.9.10; this broker
 * follows 2.10.29). The usage figures, which both servers count the same way, must be equal.
 * Key order is not compared: 2.10 writes JSInfo's embedded stats first, 2.9 after `config`.
 * Run by `npm run test:conformance` (it needs NATS_SERVER_BIN).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { compare, type Json } from '../helpers/json-shape.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';

/** Accepted differences, as `<where>.<key>`: all are fields 2.10 has and 2.9.10 lacks. */
const ALLOWED: Readonly<Record<string, string>> = {
  'jsz.total': '2.10-only: the number of JetStream accounts, paged or not',
  'jsz.config.sync_interval': '2.10 fills the default sync interval (2m) into the config it reports',
  'jsz.config.compress_ok': '2.10-only: set when max_memory and max_storage are both given',
  'varz.jetstream.config.sync_interval': 'as jsz.config.sync_interval',
  'varz.jetstream.config.compress_ok': 'as jsz.config.compress_ok',
  'jsz.account_details[].stream_detail[].config.compression': '2.10-only stream config field',
  'jsz.account_details[].stream_detail[].config.consumer_limits': '2.10-only stream config field',
  'jsz.consumer_detail[].ts': '2.10-only ConsumerInfo field (TimeStamp, when the info was made)',
};


function expectConformant(diffs: string[]): void {
  const unexplained = diffs.filter((d) => !(d in ALLOWED));
  expect(unexplained, 'differences from nats-server not listed in ALLOWED').toEqual([]);
}

const scope = useScope('file');

async function get(base: string, path: string): Promise<{ json: Json; text: string }> {
  const r = await fetch(`${base}${path}`);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${base}${path}: HTTP ${r.status}: ${text}`);
  return { json: JSON.parse(text) as Json, text };
}

/** The same streams and messages on a server: a memory stream with max_bytes, a file stream with a deleted message. */
async function populate(port: number): Promise<void> {
  const nc = await scope.client(`nats://127.0.0.1:${port}`);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'MEM', subjects: ['mem.>'], storage: 'memory', max_bytes: 10_000 } as never);
  await jsm.streams.add({ name: 'FILE', subjects: ['file.>'], storage: 'file' } as never);
  const js = jetstream(nc);
  await js.publish('mem.a', 'hello');
  await js.publish('file.a', 'x');
  await js.publish('file.b', 'yy');
  await js.publish('file.b', 'zz');
  await jsm.streams.deleteMessage('FILE', 2);
  // A consumer with one delivery acked and one pending: consumer_detail has all its sequences.
  await jsm.consumers.add('FILE', { durable_name: 'C', ack_policy: 'explicit', filter_subject: 'file.>' } as never);
  const msgs = await (await js.consumers.get('FILE', 'C')).fetch({ max_messages: 2, expires: 1000 });
  let first = true;
  for await (const m of msgs) {
    if (first) await m.ackAck();
    first = false;
  }
  await nc.close();
}

const bases = { ours: '', theirs: '' };

beforeAll(async () => {
  const store = mkdtempSync(join(tmpdir(), 'jsz-conf-'));
  scope.defer(() => rmSync(store, { recursive: true, force: true }));
  const [port, httpPort] = [await freePort(), await freePort()];
  const real = await startRealServer(BIN, [
    `listen: "127.0.0.1:${port}"`,
    `http: "127.0.0.1:${httpPort}"`,
    'server_name: real-js',
    `jetstream { store_dir: "${store}" }`,
  ]);
  scope.defer(() => real.stop());
  const emb = await scope.server({ serverName: 'emb-js', http: -1, jetstream: true });
  bases.ours = emb.monitorUrl!;
  bases.theirs = `http://127.0.0.1:${httpPort}`;
  await populate(port);
  await populate(emb.port);
});

async function both(path: string): Promise<[Json, Json]> {
  return [(await get(bases.ours, path)).json, (await get(bases.theirs, path)).json];
}

const FIGURES = ['memory', 'storage', 'reserved_memory', 'reserved_storage', 'accounts', 'ha_assets', 'streams', 'consumers', 'messages', 'bytes'];

function stream(doc: Json, name: string): Json {
  const d = (((doc.account_details as Json[])[0].stream_detail as Json[] | undefined) ?? []).find((s) => s.name === name);
  if (d === undefined) throw new Error(`no stream_detail for ${name}`);
  return d;
}

describe('JetStream monitoring has nats-server’s keys, types and figures', () => {
  it('/jsz', async () => {
    const diffs: string[] = [];
    const [ours, theirs] = await both('/jsz');
    compare('jsz', ours, theirs, diffs);
    compare('jsz.config', ours.config, theirs.config, diffs);
    compare('jsz.api', ours.api, theirs.api, diffs);
    expectConformant(diffs);
    for (const k of FIGURES) expect(ours[k], k).toBe(theirs[k]);
    expect(ours.api).toEqual(theirs.api);
  });

  it('/jsz?accounts=1: the account detail, reservations as uint64', async () => {
    const diffs: string[] = [];
    const [ours, theirs] = await both('/jsz?accounts=1');
    compare('jsz', ours, theirs, diffs);
    const [a, b] = [(ours.account_details as Json[])[0], (theirs.account_details as Json[])[0]];
    compare('jsz.account_details[]', a, b, diffs);
    compare('jsz.account_details[].api', a.api, b.api, diffs);
    expectConformant(diffs);
    for (const k of ['name', 'id', 'memory', 'storage', 'accounts', 'ha_assets']) expect(a[k], k).toEqual(b[k]);
    // 2^64-1 is beyond JSON.parse's precision: compare the text.
    const reserved = /"reserved_memory": (\d+),\s+"reserved_storage": (\d+)/;
    const [ot, tt] = [(await get(bases.ours, '/jsz?accounts=1')).text, (await get(bases.theirs, '/jsz?accounts=1')).text];
    expect(reserved.exec(ot)?.slice(1)).toEqual(reserved.exec(tt)?.slice(1));
  });

  it('/jsz?streams=1&config=1 and consumers=1: the stream details', async () => {
    const diffs: string[] = [];
    for (const q of ['streams=1&config=1', 'consumers=1', 'streams=1']) {
      const [ours, theirs] = await both(`/jsz?${q}`);
      for (const name of ['MEM', 'FILE']) {
        const [a, b] = [stream(ours, name), stream(theirs, name)];
        compare('jsz.account_details[].stream_detail[]', a, b, diffs);
        compare('jsz.account_details[].stream_detail[].cluster', a.cluster, b.cluster, diffs);
        compare('jsz.account_details[].stream_detail[].state', a.state, b.state, diffs);
        if (q.includes('config')) compare('jsz.account_details[].stream_detail[].config', a.config, b.config, diffs);
        const times = { first_ts: '', last_ts: '' };
        expect({ ...(a.state as Json), ...times }, `${q} ${name} state`).toEqual({ ...(b.state as Json), ...times });
      }
      expect(stream(ours, 'MEM').cluster).toEqual({ leader: 'emb-js' });
      expect(stream(theirs, 'MEM').cluster).toEqual({ leader: 'real-js' });
    }
    expectConformant(diffs);
  });

  it('/jsz?consumers=1 (and config=1): consumer_detail, ConsumerInfo with its config only when asked', async () => {
    const diffs: string[] = [];
    for (const q of ['consumers=1', 'consumers=1&config=1']) {
      const [ours, theirs] = await both(`/jsz?${q}`);
      expect(stream(ours, 'MEM').consumer_detail, 'a stream without consumers').toBeUndefined();
      expect(stream(theirs, 'MEM').consumer_detail).toBeUndefined();
      const [a, b] = [(stream(ours, 'FILE').consumer_detail as Json[])[0], (stream(theirs, 'FILE').consumer_detail as Json[])[0]];
      compare('jsz.consumer_detail[]', a, b, diffs);
      for (const k of ['delivered', 'ack_floor']) compare(`jsz.consumer_detail[].${k}`, a[k] as Json, b[k] as Json, diffs);
      if (q.includes('config')) compare('jsz.consumer_detail[].config', a.config as Json, b.config as Json, diffs);
      else expect([a.config, b.config]).toEqual([undefined, undefined]);
      const seqs = (x: Json): unknown[] => [x.stream_name, x.name, (x.delivered as Json).consumer_seq, (x.delivered as Json).stream_seq,
        (x.ack_floor as Json).consumer_seq, (x.ack_floor as Json).stream_seq, x.num_ack_pending, x.num_redelivered, x.num_waiting, x.num_pending];
      expect(seqs(a), q).toEqual(seqs(b));
      // Stream seq 2 was deleted: the ack floor of consumer seq 1 stands at stream seq 2 on both.
      expect(seqs(a)).toEqual(['FILE', 'C', 2, 3, 1, 2, 1, 0, 0, 0]);
    }
    expectConformant(diffs);
  });

  it('/varz jetstream', async () => {
    const diffs: string[] = [];
    const [ours, theirs] = await both('/varz');
    const [a, b] = [ours.jetstream as Json, theirs.jetstream as Json];
    compare('varz.jetstream', a, b, diffs);
    compare('varz.jetstream.config', a.config, b.config, diffs);
    compare('varz.jetstream.stats', a.stats, b.stats, diffs);
    compare('varz.jetstream.stats.api', (a.stats as Json).api, (b.stats as Json).api, diffs);
    expectConformant(diffs);
    const stats = (v: Json): Json => ({ ...(v.stats as Json), api: undefined });
    expect(stats(a)).toEqual(stats(b));
  });
});
