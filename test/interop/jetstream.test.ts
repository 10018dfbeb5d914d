/**
 * JetStream across the handle's lifecycle, as a user's failover test meets it: file streams
 * and every acknowledged message survive `kill()` and `restart()` (memory streams do not), the
 * temporary store goes with `close()`, a configured `storeDir` is reopened by the next server;
 * and `server.jetstream` shows the streams and waits for them. Runs against the nats-server
 * backend too (the conformance run), where `server.jetstream` reads `/jsz`.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { InvalidArgumentError, ServerClosedError, WaitTimeoutError, type NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { rejection } from '../helpers/errors.js';

const scope = useScope();

/** Publishes `n` messages with acks on `subject.<i % 3>`; returns the acked sequences. */
async function publishAll(s: NatsServer, subject: string, n: number, from = 0): Promise<number[]> {
  const nc = await scope.client(s);
  const js = jetstream(nc);
  const seqs: number[] = [];
  for (let i = from; i < from + n; i++) {
    const h = headers();
    h.set('Nats-Msg-Id', `id-${i}`);
    seqs.push((await js.publish(`${subject}.${i % 3}`, `payload-${i}`, { headers: h })).seq);
  }
  await nc.close();
  return seqs;
}

/** Every message of stream `name`, read back through STREAM.MSG.GET on a fresh connection. */
async function readAll(s: NatsServer, name: string): Promise<Array<[number, string, string]>> {
  const nc = await scope.client(s);
  const jsm = await jetstreamManager(nc);
  const si = await jsm.streams.info(name);
  const out: Array<[number, string, string]> = [];
  for (let seq = si.state.first_seq; seq <= si.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(name, { seq });
    if (m !== null) out.push([m.seq, m.subject, m.string()]);
  }
  await nc.close();
  return out;
}

async function createStream(s: NatsServer, config: { name: string; subjects: string[]; storage: 'file' | 'memory' }): Promise<void> {
  const nc = await scope.client(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add(config as never);
  await nc.close();
}

const expected = (n: number): Array<[number, string, string]> =>
  Array.from({ length: n }, (_, i) => [i + 1, `f.${i % 3}`, `payload-${i}`] as [number, string, string]);

describe('JetStream across restarts', () => {
  it('file streams keep every acknowledged message through kill() and restart(); memory streams are gone', async () => {
    const s = await scope.server({ jetstream: true });
    await createStream(s, { name: 'F', subjects: ['f.>'], storage: 'file' });
    await createStream(s, { name: 'M', subjects: ['m.>'], storage: 'memory' });
    expect(await publishAll(s, 'f', 50)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await publishAll(s, 'm', 5);

    await s.kill();
    await expect(s.jetstream.streams()).rejects.toBeInstanceOf(ServerClosedError);
    await s.restart();
    expect((await s.jetstream.streams()).map((x) => x.name)).toEqual(['F']);
    expect(await readAll(s, 'F')).toEqual(expected(50));

    // The stream goes on where it was; the duplicate window survived too.
    const nc = await scope.client(s);
    const js = jetstream(nc);
    const h = headers();
    h.set('Nats-Msg-Id', 'id-49');
    expect(await js.publish('f.1', 'again', { headers: h })).toMatchObject({ stream: 'F', seq: 50, duplicate: true });
    expect((await js.publish('f.x', 'next')).seq).toBe(51);
    await nc.close();

    // restart() again (the default is a kill), then a graceful one.
    await s.restart();
    expect((await s.jetstream.stream('F'))?.state).toMatchObject({ messages: 51, firstSeq: 1, lastSeq: 51 });
    await s.restart({ graceful: true });
    expect(await readAll(s, 'F')).toEqual([...expected(50), [51, 'f.x', 'next']]);
  });

  it('removes removed messages and deleted streams for good', async () => {
    const s = await scope.server({ jetstream: true });
    await createStream(s, { name: 'F', subjects: ['f.>'], storage: 'file' });
    await createStream(s, { name: 'G', subjects: ['g.>'], storage: 'file' });
    await publishAll(s, 'f', 10);
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    expect(await jsm.streams.deleteMessage('F', 4)).toBe(true);
    expect(await jsm.streams.purge('F', { filter: 'f.0' })).toMatchObject({ success: true, purged: 3 }); // 1, 7, 10
    expect(await jsm.streams.delete('G')).toBe(true);
    await nc.close();
    await s.restart();
    expect((await s.jetstream.streams()).map((x) => x.name)).toEqual(['F']);
    expect((await readAll(s, 'F')).map(([seq]) => seq)).toEqual([2, 3, 5, 6, 8, 9]);
    expect((await s.jetstream.stream('F'))?.state).toMatchObject({ messages: 6, firstSeq: 2, lastSeq: 10, numDeleted: 3 });
  });

  it('the temporary store lives as long as the handle; a configured storeDir outlives it', async () => {
    const s = await scope.server({ jetstream: true });
    const dir = s.jetstream.storeDir;
    expect(dir).not.toBeNull();
    await createStream(s, { name: 'F', subjects: ['f.>'], storage: 'file' });
    await publishAll(s, 'f', 3);
    expect(existsSync(join(dir!, 'jetstream'))).toBe(true);
    await s.kill();
    expect(existsSync(join(dir!, 'jetstream'))).toBe(true);
    await s.close();
    expect(existsSync(dir!)).toBe(false);

    const own = mkdtempSync(join(tmpdir(), 'nats-embedded-js-test-'));
    scope.defer(() => rmSync(own, { recursive: true, force: true }));
    const a = await scope.server({ jetstream: { storeDir: own } });
    expect(a.jetstream.storeDir).toBe(own);
    await createStream(a, { name: 'KEEP', subjects: ['f.>'], storage: 'file' });
    await publishAll(a, 'f', 4);
    await a.close();
    expect(readdirSync(own)).toEqual(['jetstream']);
    // Another server (a new handle) on the same directory finds the stream.
    const b = await scope.server({ jetstream: { storeDir: own } });
    expect(await readAll(b, 'KEEP')).toEqual(expected(4));
  });
});

describe('server.jetstream', () => {
  it('lists streams with their config and state, finds one, and is empty when JetStream is off', async () => {
    const off = await scope.server();
    expect(off.jetstream.enabled).toBe(false);
    expect(off.jetstream.storeDir).toBeNull();
    expect(await off.jetstream.streams()).toEqual([]);
    expect(await off.jetstream.stream('S')).toBeNull();

    const before = Date.now();
    const s = await scope.server({ jetstream: true });
    expect(s.jetstream.enabled).toBe(true);
    await createStream(s, { name: 'B', subjects: ['b.>'], storage: 'memory' });
    await createStream(s, { name: 'A', subjects: ['a.*'], storage: 'file' });
    await publishAll(s, 'b', 4);
    const list = await s.jetstream.streams();
    expect(list.map((x) => `${x.account}/${x.name}`)).toEqual(['$G/A', '$G/B']);
    const b = list[1];
    expect(b.config).toMatchObject({ name: 'B', subjects: ['b.>'], storage: 'memory', retention: 'limits', max_msgs: -1, num_replicas: 1 });
    expect(b.created.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(b.state).toMatchObject({ messages: 4, firstSeq: 1, lastSeq: 4, numSubjects: 3, numDeleted: 0, consumerCount: 0 });
    expect(b.state.bytes).toBeGreaterThan(4 * 'payload-0'.length);
    expect(b.state.firstTime!.getTime()).toBeLessThanOrEqual(b.state.lastTime!.getTime());
    expect(list[0].state).toMatchObject({ messages: 0, firstSeq: 0, lastSeq: 0, firstTime: null, lastTime: null });
    expect(await s.jetstream.stream('A')).toEqual(list[0]);
    expect(await s.jetstream.stream('nope')).toBeNull();
    expect(await s.jetstream.streams({ account: 'OTHER' })).toEqual([]);
    expect(await s.jetstream.streams({ account: '$G' })).toHaveLength(2);
    expect(await rejection(s.jetstream.stream(''))).toBeInstanceOf(InvalidArgumentError);
  });

  it('waitForStream() waits for the stream and its messages, across a restart', async () => {
    const s = await scope.server({ jetstream: true });
    const waiting = s.jetstream.waitForStream('LATE', { messages: 2, timeoutMs: 10_000 });
    await s.restart({ downMs: 50 });
    await createStream(s, { name: 'LATE', subjects: ['late.>'], storage: 'file' });
    await publishAll(s, 'late', 2);
    const info = await waiting;
    expect(info.name).toBe('LATE');
    expect(info.state.messages).toBe(2);
    const err = await rejection(s.jetstream.waitForStream('NEVER', { timeoutMs: 100 }));
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toMatch(/stream "NEVER"/);
    const closing = rejection(s.jetstream.waitForStream('NEVER', { timeoutMs: 5000 }));
    await s.close();
    expect(await closing).toBeInstanceOf(ServerClosedError);
    await expect(s.jetstream.streams()).rejects.toBeInstanceOf(ServerClosedError);
  });
});
