// Key-Value and object store in a test suite, through the official @nats-io/kv and @nats-io/obj
// clients (the README's KV example, run as a user would): a config bucket with a watcher and
// compare-and-set, a lock taken with create(), and a file kept in an object store.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KvEntry } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { createServer, type NatsServer } from 'nats-embedded';

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await createServer({ jetstream: true });
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc.close();
  await server.close();
});

it('keeps config with history, watches changes and refuses a stale update', async () => {
  const kv = await new Kvm(nc).create('config', { history: 5 });
  const seen: string[] = [];
  const watcher = await kv.watch({ key: 'app.*' });
  const watching = (async () => {
    for await (const e of watcher as AsyncIterable<KvEntry>) {
      seen.push(`${e.key}=${e.operation === 'PUT' ? e.string() : e.operation}`);
      if (seen.length === 3) break;
    }
  })();

  const rev = await kv.put('app.port', '8080');
  await kv.update('app.port', '9090', rev); // compare-and-set on the revision read
  await expect(kv.update('app.port', '7070', rev)).rejects.toThrow(/wrong last sequence/);
  await kv.delete('app.port');
  await watching;

  expect(seen).toEqual(['app.port=8080', 'app.port=9090', 'app.port=DEL']);
  expect(await kv.get('app.port')).toMatchObject({ operation: 'DEL' });
  const history: number[] = [];
  for await (const e of await kv.history({ key: 'app.port' })) history.push(e.revision);
  expect(history).toEqual([1, 2, 3]);
});

it('takes a lock with create(): only one caller wins', async () => {
  const locks = await new Kvm(nc).create('locks', { ttl: 60_000 });
  const results = await Promise.allSettled([locks.create('job-42', 'worker-a'), locks.create('job-42', 'worker-b')]);
  expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
});

it('stores a file in an object store and reads it back', async () => {
  const os = await new Objm(nc).create('files');
  const data = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
  const info = await os.putBlob({ name: 'report.bin' }, data);
  expect(info).toMatchObject({ size: data.length, chunks: 8 }); // 128 KiB chunks

  const back = await os.getBlob('report.bin');
  expect(Buffer.compare(back!, data)).toBe(0); // (toEqual on a million elements is slow)
  await os.delete('report.bin');
  expect(await os.get('report.bin')).toBeNull();
});
