/**
 * Key-Value and Object Store against the real nats-server: the same scenarios run through the
 * official clients (`@nats-io/kv`, `@nats-io/obj`) against `nats-server -js` and the embedded
 * broker, and everything the client sees — returned values, entries (key, operation, revision,
 * delta, value, the watcher's `isUpdate` "initialized" marker), statuses, errors (class, text,
 * API code) — is recorded as a transcript; the two transcripts must be equal. So is the raw
 * STREAM.INFO state of the `KV_` / `OBJ_` streams behind them. Times and random names (an
 * object's `nuid`, `mtime`, `created`) are left out.
 *
 * The binary in CI is 2.9.10; this package follows 2.10.29. Where the two differ the transcript
 * maps the embedded side to 2.9.10 (`as29`) with a comment naming the 2.10.29 source; what only
 * 2.10 has (bucket metadata, compression) is tested against the embedded broker alone, at the
 * end, with the source it follows.
 * Part of `npm run test:conformance` (it needs NATS_SERVER_BIN). `JS_KV_PRINT=<file>` appends both
 * transcripts to that file.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { Kvm, KvWatchInclude, type KV, type KvEntry, type KvStatus, type KvWatchEntry } from '@nats-io/kv';
import { Objm, type ObjectInfo, type ObjectStore, type ObjectStoreStatus } from '@nats-io/obj';
import { useJetStreamPair } from '../helpers/js-pair.js';

type Json = Record<string, unknown>;

const pair = useJetStreamPair('nats-js-kv-');


/** A transcript: labelled outcomes, in order. */
class Transcript {
  readonly lines: Array<[string, unknown]> = [];
  constructor(readonly nc: NatsConnection) {}
  add(label: string, v: unknown): void {
    this.lines.push([label, scrub(v)]);
  }
  /** Records what `p` resolves to (mapped) or the error it rejects with; returns the value. */
  async rec<T>(label: string, p: Promise<T>, map: (v: T) => unknown = (v) => v): Promise<T | undefined> {
    try {
      const v = await p;
      this.add(label, { ok: map(v) });
      return v;
    } catch (err) {
      this.add(label, { err: errShape(err) });
      return undefined;
    }
  }
}

/** Times and random ids (an object's `mtime`, `nuid`) anywhere in a value, as placeholders. */
function scrub(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(scrub);
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return v;
  const o: Json = {};
  for (const [k, x] of Object.entries(v)) o[k] = k === 'mtime' || k === 'nuid' ? `<${k}>` : scrub(x);
  return o;
}

function errShape(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return { thrown: String(err) };
  if (depth > 2) return { name: err.name };
  const e = err as Error & { code?: unknown; status?: unknown };
  return {
    name: e.name, message: e.message,
    ...(e.code === undefined ? {} : { code: e.code }),
    ...(e.status === undefined ? {} : { status: e.status }),
    ...(e.cause === undefined ? {} : { cause: errShape(e.cause, depth + 1) }),
  };
}

const text = (d: Uint8Array): string => new TextDecoder().decode(d);

function entry(e: KvEntry | null): unknown {
  if (e === null) return null;
  return { bucket: e.bucket, key: e.key, op: e.operation, rev: e.revision, delta: e.delta, length: e.length, value: text(e.value) };
}
/**
 * A watcher's entry. `delta` (the consumer's pending count at delivery) is kept for the initial
 * entries (the scenario lets them be delivered before writing more) but not for updates, where
 * it depends on how many writes the server had stored when it delivered (a race on both).
 */
function watchEntry(e: KvWatchEntry): unknown {
  const { delta, ...rest } = entry(e) as Json;
  return { ...rest, ...(e.isUpdate ? {} : { delta }), isUpdate: e.isUpdate };
}

/** The STREAM.INFO state without times. */
function state(si: StreamInfo): Json {
  const { first_ts: _f, last_ts: _l, ...rest } = si.state as unknown as Json;
  return rest;
}

/**
 * A stream config as 2.9.10 shows it: 2.10.29 adds `compression` and `consumer_limits` to every
 * StreamConfig (server/stream.go StreamConfig), `metadata` when set; each must be there (with
 * its default when not asked for) before it is set aside.
 */
function config29(si: StreamInfo, v210: boolean): Json {
  const c = { ...(si.config as unknown as Json) };
  if (v210) {
    expect(c.compression, 'config.compression (2.10)').toBe('none');
    expect(c.consumer_limits, 'config.consumer_limits (2.10)').toEqual({});
    delete c.compression;
    delete c.consumer_limits;
  }
  return c;
}

const is210 = (nc: NatsConnection): boolean => !(nc.info?.version ?? '').startsWith('2.9.');

async function streamInfo(t: Transcript, label: string, stream: string): Promise<void> {
  const jsm = await jetstreamManager(t.nc);
  await t.rec(label, jsm.streams.info(stream, { deleted_details: true }), (si) => ({ config: config29(si, is210(t.nc)), state: state(si) }));
}

function kvStatus(s: KvStatus, v210: boolean): unknown {
  return {
    bucket: s.bucket, values: s.values, history: s.history, ttl: s.ttl, backingStore: (s as KvStatus & { backingStore: string }).backingStore, storage: s.storage,
    replicas: s.replicas, description: s.description,  maxValueSize: s.maxValueSize,
    max_bytes: s.max_bytes, republish: s.republish, size: s.size,
    metadata: s.metadata,
    compression: s.compression,
    config: config29(s.streamInfo, v210),
    state: state(s.streamInfo),
  };
}

async function drain<T>(it: AsyncIterable<T>, map: (v: T) => unknown): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const v of it) out.push(map(v));
  return out;
}

/**
 * Reads a watcher until `stop(entry)` says so (the scenario writes a sentinel key last), or
 * until `ms` pass without one.
 */
async function watchUntil(w: AsyncIterable<KvWatchEntry> & { stop(): void }, stop: (e: KvWatchEntry) => boolean, ms = 3000): Promise<unknown[]> {
  const out: unknown[] = [];
  const timer = setTimeout(() => {
    out.push('(timed out)');
    w.stop();
  }, ms);
  for await (const e of w) {
    out.push(watchEntry(e));
    if (stop(e)) break;
  }
  clearTimeout(timer);
  return out;
}

/** Runs `scenario` on both servers (the real one first) and compares the transcripts. */
async function compare(scenario: (t: Transcript) => Promise<void>): Promise<Array<[string, unknown]>> {
  const want = new Transcript(pair.realNc);
  await scenario(want);
  const got = new Transcript(pair.embNc);
  await scenario(got);
  if (process.env.JS_KV_PRINT) writeFileSync(process.env.JS_KV_PRINT, `${JSON.stringify({ want: want.lines, got: got.lines }, null, 1)}\n`, { flag: 'a' });
  for (let i = 0; i < Math.max(want.lines.length, got.lines.length); i++) expect(got.lines[i], `line ${i}`).toEqual(want.lines[i]);
  return want.lines;
}

const line = (lines: Array<[string, unknown]>, label: string): unknown => lines.find(([l]) => l === label)?.[1];

describe('Key-Value against nats-server', () => {
  it('put, get, revisions, create and update conflicts, delete, purge, history and keys', async () => {
    const lines = await compare(async (t) => {
      const kv = (await new Kvm(t.nc).create('basics', { history: 5 })) as KV;
      await t.rec('put a', kv.put('a', 'one'));
      await t.rec('put b.x', kv.put('b.x', 'bee'));
      await t.rec('put a again', kv.put('a', 'two'));
      await t.rec('get a', kv.get('a'), entry);
      await t.rec('get a @1', kv.get('a', { revision: 1 }), entry);
      await t.rec('get a @2 (another key)', kv.get('a', { revision: 2 }), entry);
      await t.rec('get a @99', kv.get('a', { revision: 99 }), entry);
      await t.rec('get missing', kv.get('nope'), entry);
      await t.rec('create a (exists)', kv.create('a', 'x'));
      await t.rec('create c', kv.create('c', 'sea'));
      await t.rec('update a at 1 (stale)', kv.update('a', 'x', 1));
      await t.rec('update a at 3', kv.update('a', 'three', 3));
      await t.rec('update missing at 1', kv.update('zz', 'x', 1));
      await t.rec('put a previousSeq 1 (stale)', kv.put('a', 'x', { previousSeq: 1 }));
      await t.rec('delete a previousSeq 2 (stale)', kv.delete('a', { previousSeq: 2 }));
      await t.rec('delete a', kv.delete('a'));
      await t.rec('get a (deleted)', kv.get('a'), entry);
      await t.rec('create a over the delete', kv.create('a', 'again'));
      await t.rec('purge b.x', kv.purge('b.x'));
      await t.rec('get b.x (purged)', kv.get('b.x'), entry);
      await t.rec('history a', kv.history({ key: 'a' }).then((h) => drain(h, watchEntry)));
      await t.rec('history all', kv.history().then((h) => drain(h, watchEntry)));
      for (let i = 0; i < 7; i++) await kv.put('deep', `v${i}`);
      await t.rec('history deep (5 kept)', kv.history({ key: 'deep' }).then((h) => drain(h, watchEntry)));
      await kv.put('b.y', 'y');
      await kv.put('b.z.w', 'w');
      await t.rec('keys', kv.keys().then((k) => drain(k, String)).then((k) => k.sort()));
      await t.rec('keys b.*', kv.keys('b.*').then((k) => drain(k, String)).then((k) => k.sort()));
      await t.rec('keys b.>', kv.keys('b.>').then((k) => drain(k, String)).then((k) => k.sort()));
      await t.rec('keys none.>', kv.keys('none.>').then((k) => drain(k, String)));
      await t.rec('bad key', kv.put('bad key', 'x'));
      await t.rec('status', kv.status(), (s) => kvStatus(s, is210(t.nc)));
      await streamInfo(t, 'stream', 'KV_basics');
    });
    // Not two empty transcripts: the conflicts are errors, history is cut at 5.
    expect(line(lines, 'create a (exists)')).toMatchObject({ err: { name: 'JetStreamApiError', code: 10071 } });
    expect(line(lines, 'update a at 1 (stale)')).toMatchObject({ err: { code: 10071 } });
    expect((line(lines, 'history deep (5 kept)') as { ok: unknown[] }).ok).toHaveLength(5);
  }, 30_000);

  it('watch: history, ignoreDeletes, updatesOnly, key filters and the initialized marker', async () => {
    const lines = await compare(async (t) => {
      const kvm = new Kvm(t.nc);
      // An empty bucket: everything is an update.
      const empty = await kvm.create('wempty');
      const w0 = await empty.watch();
      await empty.put('k', '1');
      await empty.delete('k');
      await empty.put('end', '!');
      t.add('empty bucket, default watch', await watchUntil(w0, (e) => e.key === 'end'));

      const kv = await kvm.create('watch', { history: 3 });
      await kv.put('a', '1');
      await kv.put('b', '1');
      await kv.put('a', '2');
      await kv.delete('b');
      await kv.put('c.d', '1');
      await kv.purge('c.d');
      await kv.put('e', '1');
      const ws = {
        last: await kv.watch(),
        history: await kv.watch({ include: KvWatchInclude.AllHistory }),
        ignoreDeletes: await kv.watch({ ignoreDeletes: true }),
        updatesOnly: await kv.watch({ include: KvWatchInclude.UpdatesOnly }),
        filtered: await kv.watch({ key: 'a' }),
        headersOnly: await kv.watch({ headers_only: true }),
      };
      // Each watcher's initial delivery (its `delta`, the pending count) done before the next
      // write: on nats-server a write right after watch() usually loses the race with the
      // consumer's first deliveries, but not always.
      await new Promise((r) => setTimeout(r, 200));
      await kv.put('a', '3');
      await kv.delete('e');
      await kv.put('end', '!');
      for (const [name, w] of Object.entries(ws)) {
        t.add(`watch ${name}`, await watchUntil(w, (e) => e.key === 'end' || (name === 'filtered' && e.value.length > 0 && text(e.value) === '3')));
      }
      // Every key gone: the marker comes with the first update.
      const gone = await kvm.create('wgone');
      await gone.put('x', '1');
      await gone.purge('x');
      const wg = await gone.watch({ ignoreDeletes: true });
      await new Promise((r) => setTimeout(r, 200));
      await gone.put('end', '!');
      t.add('watch of purged keys, ignoreDeletes', await watchUntil(wg, (e) => e.key === 'end'));
    });
    expect(line(lines, 'watch updatesOnly')).toEqual([
      expect.objectContaining({ key: 'a', rev: 8, isUpdate: true }), expect.objectContaining({ key: 'e', op: 'DEL' }), expect.objectContaining({ key: 'end' }),
    ]);
  }, 30_000);

  it('purgeDeletes with and without olderThan', async () => {
    const lines = await compare(async (t) => {
      const kv = (await new Kvm(t.nc).create('pdel', { history: 4 })) as KV & { purgeDeletes(olderMillis?: number): Promise<unknown> };
      await kv.put('a', '1');
      await kv.put('a', '2');
      await kv.delete('a');
      await kv.put('b', '1');
      await kv.purge('b');
      await kv.put('c', '1');
      await t.rec('purgeDeletes older than 1 h (history cut, markers kept)', kv.purgeDeletes(3_600_000));
      await streamInfo(t, 'stream after markers kept', 'KV_pdel');
      await t.rec('history after markers kept', kv.history().then((h) => drain(h, watchEntry)));
      await t.rec('purgeDeletes all (-1)', kv.purgeDeletes(-1));
      await streamInfo(t, 'stream', 'KV_pdel');
      await t.rec('history', kv.history().then((h) => drain(h, watchEntry)));
      await t.rec('status', kv.status(), (s) => kvStatus(s, is210(t.nc)));
      await kv.delete('c');
      await new Promise((r) => setTimeout(r, 50));
      // The default keeps markers younger than 30 min: c's marker stays.
      await t.rec('purgeDeletes default', kv.purgeDeletes());
      await t.rec('history after default', kv.history().then((h) => drain(h, watchEntry)));
    });
    expect(line(lines, 'history')).toEqual({ ok: [expect.objectContaining({ key: 'c', op: 'PUT' })] });
  }, 30_000);

  it('limits: TTL, max_value_size, max_bytes with discard new, deny_delete', async () => {
    const lines = await compare(async (t) => {
      const kvm = new Kvm(t.nc);
      const jsm = await jetstreamManager(t.nc);
      const ttl = await kvm.create('ttl', { ttl: 1000 });
      await t.rec('put', ttl.put('k', 'v'));
      await t.rec('get before expiry', ttl.get('k'), entry);
      await t.rec('status ttl', ttl.status(), (s) => s.ttl);
      const deadline = Date.now() + 6000;
      while ((await ttl.get('k')) !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      await t.rec('get after expiry', ttl.get('k'), entry);
      await streamInfo(t, 'ttl stream', 'KV_ttl');

      const small = await kvm.create('small', { maxValueSize: 10 });
      await t.rec('value of 10 bytes', small.put('k', '0123456789'));
      await t.rec('value of 11 bytes', small.put('k', '01234567890'));
      await t.rec('status', small.status(), (s) => kvStatus(s, is210(t.nc)));

      // discard new on max_bytes: 2.10.29 refuses a message when stored bytes + its record size
      // (fileStoreMsgSize) reach max_bytes (filestore.go storeRawMsg); 2.9.10 compares with
      // header + payload only and then drops old messages. Records of 141 bytes (22 + subject 11
      // + 100 + 8) into 300: both take two and refuse the third.
      const full = await kvm.create('full', { max_bytes: 300 });
      const results: unknown[] = [];
      for (let i = 0; i < 4; i++) {
        try {
          results.push(await full.put(`k${i}`, 'x'.repeat(100)));
        } catch (err) {
          results.push(errShape(err));
        }
      }
      t.add('puts into 300 bytes', results);
      await streamInfo(t, 'full stream', 'KV_full');


      // Message deletes on a KV stream (the client's buckets allow them; deny_delete set by an update).
      const dels = await kvm.create('dels');
      for (const k of ['a', 'b', 'c', 'd']) await dels.put(k, k);
      await t.rec('delete message 2', jsm.streams.deleteMessage('KV_dels', 2));
      await t.rec('delete message 2 again (interior gap)', jsm.streams.deleteMessage('KV_dels', 2));
      await t.rec('erase message 1', jsm.streams.deleteMessage('KV_dels', 1, true));
      await t.rec('delete message 1 (below first)', jsm.streams.deleteMessage('KV_dels', 1));
      await t.rec('delete message 99 (past last)', jsm.streams.deleteMessage('KV_dels', 99));
      await t.rec('get b (its message deleted)', dels.get('b'), entry);
      const si = await jsm.streams.info('KV_dels');
      await t.rec('deny_delete by update', jsm.streams.update('KV_dels', { ...si.config, deny_delete: true }), (u) => u.config.deny_delete);
      await t.rec('delete a message (deny_delete)', jsm.streams.deleteMessage('KV_dels', 3));
      await t.rec('kv delete (deny_delete)', dels.delete('c'));
      await t.rec('kv purge (deny_delete)', dels.purge('d'));
      await t.rec('keys', dels.keys().then((k) => drain(k, String)).then((k) => k.sort()));
      await streamInfo(t, 'dels stream', 'KV_dels');
    });
    expect(line(lines, 'get after expiry')).toEqual({ ok: null });
    expect(line(lines, 'value of 11 bytes')).toMatchObject({ err: { code: 10054 } });
    expect(line(lines, 'delete a message (deny_delete)')).toMatchObject({ err: { code: 10057, message: 'message delete not permitted' } });
    expect(line(lines, 'delete message 1 (below first)')).toMatchObject({ err: { code: 10057, message: 'no message found' } });
    expect(line(lines, 'delete message 2 again (interior gap)')).toMatchObject({ err: { code: 10043 } });
  }, 30_000);

  it('memory storage, republish, description and a revision across keys', async () => {
    const lines = await compare(async (t) => {
      const kvm = new Kvm(t.nc);
      const sub = t.nc.subscribe('repub.>');
      const repub: unknown[] = [];
      const got = (async () => {
        for await (const m of sub) {
          const h = m.headers === undefined ? {} : Object.fromEntries(m.headers.keys().sort().map((k) => [k, m.headers!.values(k)]));
          // 2.10.29 adds Nats-Time-Stamp to a republished message (server/stream.go
          // processJetStreamMsg, the republish header template); 2.9.10 does not.
          if (is210(t.nc)) {
            expect(h['Nats-Time-Stamp']?.[0], 'Nats-Time-Stamp (2.10)').toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
            delete h['Nats-Time-Stamp'];
          }
          repub.push({ subject: m.subject, data: m.string(), headers: h });
          if (m.subject.endsWith('.end')) break;
        }
      })();
      const kv = await kvm.create('mem', { storage: 'memory' as never, history: 3, description: 'in memory', republish: { src: '$KV.mem.>', dest: 'repub.>' } });
      await t.rec('put x', kv.put('x', 'one'));
      await t.rec('put x again', kv.put('x', 'two'));
      await t.rec('put y', kv.put('y', 'y'));
      await t.rec('update x at 3 (y\'s)', kv.update('x', 'three', 3));
      await t.rec('delete', kv.delete('x'));
      await t.rec('purge', kv.purge('y'));
      await t.rec('update x at its delete marker', kv.update('x', 'back', 4));
      await kv.put('end', '!');
      await got;
      t.add('republished', repub);
      await t.rec('status', kv.status(), (s) => kvStatus(s, is210(t.nc)));
      await streamInfo(t, 'stream', 'KV_mem');
    });
    expect((line(lines, 'republished') as unknown[]).length).toBe(7);
  }, 30_000);

  it('bucket list, open and destroy', async () => {
    const lines = await compare(async (t) => {
      const kvm = new Kvm(t.nc);
      await kvm.create('lone', { history: 2, description: 'one bucket', maxValueSize: 100, max_bytes: 10_000 });
      await t.rec('list', drain(kvm.list(), (s) => kvStatus(s, is210(t.nc))).then((l) => (l as Array<{ bucket: string }>).sort((a, b) => a.bucket.localeCompare(b.bucket))));
      const kv = await kvm.open('lone');
      await t.rec('put', kv.put('k', 'v'));
      await t.rec('destroy', kv.destroy());
      await t.rec('open destroyed', kvm.open('lone').then((b) => b.get('k')), entry);
      await t.rec('list after', drain(kvm.list(), (s) => s.bucket).then((l) => (l as string[]).sort()));
      await t.rec('create with a bad name', kvm.create('bad.name'));
      await kvm.create('twice', { history: 2 });
      await t.rec('create again, same options', kvm.create('twice', { history: 2 }).then((b) => b.status()), (s) => s.history);
      await t.rec('create again, other options', kvm.create('twice', { history: 3 }).then((b) => b.status()), (s) => s.history);
      const fresh = await kvm.create('fresh');
      await t.rec('history of an empty bucket', fresh.history().then((h) => drain(h, watchEntry)));
      await t.rec('keys of an empty bucket', fresh.keys().then((k) => drain(k, String)));
      for (const v of ['1', '2', '3']) await fresh.put('k', v);
      await fresh.put('j', 'j');
      const w = await fresh.watch({ resumeFromRevision: 2 });
      await new Promise((r) => setTimeout(r, 200));
      await fresh.put('end', '!');
      t.add('watch resumed from revision 2', await watchUntil(w, (e) => e.key === 'end'));
    });
    expect((line(lines, 'list') as { ok: unknown[] }).ok.length).toBeGreaterThan(1);
    expect((line(lines, 'list after') as { ok: string[] }).ok).not.toContain('lone');
  }, 30_000);
});

/** An object's info as the client sees it, without times and the random chunk id. */
function objInfo(i: ObjectInfo | null): unknown {
  if (i === null) return null;
  return {
    bucket: i.bucket, name: i.name, description: i.description,
    headers: i.headers === undefined ? undefined : Object.fromEntries(i.headers.keys().map((k) => [k, i.headers!.values(k)])), options: i.options, size: i.size, chunks: i.chunks,
    digest: i.digest, deleted: i.deleted, revision: i.revision, metadata: i.metadata, mtime: i.mtime, nuid: i.nuid,
  };
}
function objStatus(s: ObjectStoreStatus, v210: boolean): unknown {
  return {
    bucket: s.bucket, description: s.description, ttl: s.ttl, storage: s.storage, replicas: s.replicas, sealed: s.sealed,
    size: s.size, backingStore: s.backingStore, metadata: s.metadata,
    compression: s.compression, config: config29(s.streamInfo, v210), state: state(s.streamInfo),
  };
}

const bytes = (n: number, seed: number): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};
async function getBytes(os: ObjectStore, name: string): Promise<unknown> {
  const r = await os.get(name);
  if (r === null) return null;
  const chunks: Uint8Array[] = [];
  for await (const c of r.data) chunks.push(c);
  const err = await r.error;
  const all = Buffer.concat(chunks);
  return { info: objInfo(r.info), length: all.length, sum: all.reduce((a, b) => (a * 33 + b) >>> 0, 5381), error: err === null || err === undefined ? null : errShape(err) };
}

describe('Object Store against nats-server', () => {
  it('put (chunked: 0 bytes, one chunk exactly, several), get, info, list, update meta, delete, status', async () => {
    const lines = await compare(async (t) => {
      const objm = new Objm(t.nc);
      const os = await objm.create('files', { description: 'files' });
      const chunk = 1024;
      const sizes: Array<[string, number]> = [['empty', 0], ['one', 1], ['exact', chunk], ['exact+1', chunk + 1], ['several', 5 * chunk + 17], ['default chunks', 300_000]];
      for (const [name, n] of sizes) {
        const opts = name === 'default chunks' ? {} : { options: { max_chunk_size: chunk } };
        const h = headers();
        h.set('x-n', String(n));
        await t.rec(`put ${name}`, os.putBlob({ name, description: `${n} bytes`, headers: h, ...opts }, bytes(n, n)), objInfo);
      }
      for (const [name] of sizes) await t.rec(`get ${name}`, getBytes(os, name));
      await t.rec('getBlob missing', os.getBlob('missing'));
      await t.rec('info several', os.info('several'), objInfo);
      await t.rec('list', os.list().then((l) => l.map(objInfo).sort((a, b) => String((a as Json).name).localeCompare(String((b as Json).name)))));
      await t.rec('put over an existing name', os.putBlob({ name: 'one' }, bytes(2500, 9)), objInfo);
      // Names that are not subject tokens (the metadata subject carries them base64url-encoded).
      for (const name of ['dir/file name.txt', 'ünïcödé ✓', 'a.b.c']) {
        await t.rec(`put "${name}"`, os.putBlob({ name }, bytes(300, 7)), objInfo);
        await t.rec(`get "${name}"`, getBytes(os, name));
      }
      await t.rec('put one default chunk exactly', os.putBlob({ name: '128k' }, bytes(128 * 1024, 3)), objInfo);
      await t.rec('get one default chunk exactly', getBytes(os, '128k'));
      await t.rec('get replaced', getBytes(os, 'one'));
      await t.rec('update meta (rename)', os.update('several', { name: 'renamed', description: 'moved' }));
      await t.rec('info old name', os.info('several'), objInfo);
      await t.rec('update to an existing name', os.update('renamed', { name: 'exact' }));
      await t.rec('delete', os.delete('exact+1'));
      await t.rec('info deleted', os.info('exact+1'), objInfo);
      await t.rec('get deleted', os.get('exact+1'));
      await t.rec('delete again', os.delete('exact+1'));
      await t.rec('delete missing', os.delete('missing'));
      await t.rec('status', os.status(), (s) => objStatus(s, is210(t.nc)));
      await streamInfo(t, 'stream', 'OBJ_files');
      // An object whose chunks were purged behind the client's back: the digest check fails.
      const jsm = await jetstreamManager(t.nc);
      const broken = await os.info('default chunks');
      await t.rec('purge its chunks', jsm.streams.purge('OBJ_files', { filter: `$O.files.C.${broken!.nuid}`, keep: 1 }), (r) => r.purged);
      await t.rec('get with chunks missing', getBytes(os, 'default chunks'));
    });
    expect(line(lines, 'get several')).toMatchObject({ ok: { length: 5 * 1024 + 17, error: null } });
    expect(line(lines, 'put exact')).toMatchObject({ ok: { chunks: 1, size: 1024 } });
  }, 60_000);

  it('watch, links to an object and to a bucket, seal', async () => {
    const lines = await compare(async (t) => {
      const objm = new Objm(t.nc);
      const os = await objm.create('linked');
      const other = await objm.create('other');
      await os.putBlob({ name: 'a' }, bytes(100, 1));
      await other.putBlob({ name: 'b' }, bytes(200, 2));
      const w = await os.watch({ includeHistory: true });
      const seen: unknown[] = [];
      const done = (async () => {
        for await (const e of w) {
          if (e === null) continue;
          seen.push({ name: e.name, deleted: e.deleted, size: e.size, isUpdate: (e as ObjectInfo & { isUpdate: boolean }).isUpdate, link: e.options?.link ?? null });
          if (e.name === 'end') break;
        }
      })();
      const b = await other.info('b');
      await t.rec('link to an object in another bucket', os.link('to-b', b!), objInfo);
      await t.rec('get through the link', getBytes(os, 'to-b'));
      await t.rec('link to a bucket', os.linkStore('to-other', other), objInfo);
      await t.rec('get a bucket link', os.get('to-other'));
      const toB = await os.info('to-b');
      await t.rec('link to a link', os.link('to-to-b', toB!));
      await os.putBlob({ name: 'gone' }, bytes(10, 3));
      await os.delete('gone');
      const gone = await os.info('gone');
      await t.rec('link to a deleted object', os.link('to-gone', gone!));
      await t.rec('link over an object', os.link('a', b!));
      await os.putBlob({ name: 'end' }, new Uint8Array(0));
      await done;
      t.add('watch with history', seen);
      // A watcher without history sees only what comes after it; ignoreDeletes drops deletions.
      const upd = await os.watch({ ignoreDeletes: true });
      const updates: unknown[] = [];
      const updDone = (async () => {
        for await (const e of upd) {
          if (e === null) continue;
          updates.push({ name: e.name, deleted: e.deleted, size: e.size, isUpdate: (e as ObjectInfo & { isUpdate: boolean }).isUpdate });
          if (e.name === 'end2') break;
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      await os.putBlob({ name: 'later' }, bytes(5, 5));
      await os.delete('later');
      await os.putBlob({ name: 'end2' }, new Uint8Array(0));
      await updDone;
      t.add('watch updates, ignoreDeletes', updates);
      await t.rec('seal', os.seal(), (s) => objStatus(s, is210(t.nc)));
      await t.rec('put after seal', os.putBlob({ name: 'late' }, bytes(10, 4)));
      await t.rec('delete after seal', os.delete('a'));
      await t.rec('status', os.status(), (s) => objStatus(s, is210(t.nc)));
      await streamInfo(t, 'stream', 'OBJ_linked');
      await t.rec('bucket list', drain(objm.list(), (s) => s.bucket).then((l) => (l as string[]).sort()));
      await t.rec('destroy', other.destroy());
      await t.rec('bucket list after destroy', drain(objm.list(), (s) => s.bucket).then((l) => (l as string[]).sort()));
    });
    expect(line(lines, 'put after seal')).toMatchObject({ err: {} });
    expect(line(lines, 'get through the link')).toMatchObject({ ok: { length: 200 } });
  }, 60_000);
});

describe('2.10 only (embedded broker)', () => {
  // nats-server 2.10.29 keeps a stream's `metadata` (server/stream.go StreamConfig.Metadata) and
  // `compression` ("s2" or "none", server/filestore.go StoreCompression), which @nats-io/kv maps to
  // KvStatus.metadata and .compression; 2.9.10 drops both fields.
  it('bucket metadata and compression', async () => {
    const kvm = new Kvm(pair.embNc);
    const kv = await kvm.create('meta210', { metadata: { owner: 'team-a' }, compression: true });
    await kv.put('k', 'v'.repeat(1000));
    const s = await kv.status();
    expect(s.metadata).toEqual({ owner: 'team-a' });
    expect(s.compression).toBe(true);
    expect(s.streamInfo.config.compression).toBe('s2');
    expect((await kv.get('k'))?.string()).toBe('v'.repeat(1000));
    const os = await new Objm(pair.embNc).create('meta210', { metadata: { owner: 'team-b' }, compression: true });
    const st = await os.status();
    expect(st.metadata).toEqual({ owner: 'team-b' });
    expect(st.compression).toBe(true);
  });

  // Keys (and watch) over several filters: @nats-io/kv asks for one consumer with
  // `filter_subjects`, which 2.10 has (server/consumer.go ConsumerConfig.FilterSubjects) and 2.9
  // does not.
  it('keys with several filters', async () => {
    const kv = await new Kvm(pair.embNc).create('multi210');
    for (const k of ['a.1', 'a.2', 'b.1', 'c.1']) await kv.put(k, k);
    await kv.delete('a.2');
    expect((await drain(await kv.keys(['a.*', 'c.*']), String)).sort()).toEqual(['a.1', 'c.1']);
    const w = await kv.watch({ key: ['b.*', 'c.*'] });
    await kv.put('c.end', '!');
    expect((await watchUntil(w, (e) => e.key === 'c.end')).map((e) => (e as { key: string }).key)).toEqual(['b.1', 'c.1', 'c.end']);
  });
});
