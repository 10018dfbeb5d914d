/**
 * Consumers of file streams survive a restart, as nats-server 2.10.29's do (its consumer file
 * store, `obs/<name>/`, recovered in jetstream.go after the streams): durable and ephemeral
 * consumers come back with the same config and created time and resume — delivered and ack
 * floor sequences, pending acks (redelivered once their ack wait passes), redelivery counts,
 * num_pending as before. Consumers of memory streams, and `mem_storage` consumers (nats-server's
 * consumerMemStore), are gone. Deleting a consumer removes its files. A torn or corrupt state
 * file does not stop the recovery (consumer-store.ts): the other state file is used, or the
 * consumer starts over where it started, and an internal error is counted.
 *
 * Through the official @nats-io/jetstream client, with the in-process server's kill() and
 * restart(); the SIGKILL of the CLI is in consumer-crash.test.ts.
 *
 * Checked against the real nats-server 2.9.10 (SIGKILL, restart on the same store directory):
 * it recovers the ephemeral (no durable_name) and the durable, not the `mem_storage` consumer
 * nor the memory stream's. It also lost the durable's confirmed acks (ack floor 0, all three
 * deliveries pending again): its consumer state is written asynchronously. Here a confirmed ack
 * (ackAck) is on disk before its reply leaves — stronger, and allowed by at-least-once.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, JetStreamApiError, type ConsumerInfo, type JsMsg } from '@nats-io/jetstream';
import { useScope } from '../helpers/scope.js';
import { rejection } from '../helpers/errors.js';
import type { NatsServer } from '../../src/index.js';
import { decodeConsumerState } from '../../src/jetstream/consumer-store.js';

const scope = useScope();

function tempStore(): string {
  const root = mkdtempSync(join(tmpdir(), 'nats-embedded-consumers-'));
  scope.defer(() => rmSync(root, { recursive: true, force: true }));
  return join(root, 'store');
}

const obsDir = (storeDir: string, stream: string, consumer: string): string =>
  join(storeDir, 'jetstream', '$G', 'streams', stream, 'obs', consumer);

async function fetchAll(nc: NatsConnection, stream: string, consumer: string, max: number, expires = 1500): Promise<JsMsg[]> {
  const c = await jetstream(nc).consumers.get(stream, consumer);
  const got: JsMsg[] = [];
  for await (const m of await c.fetch({ max_messages: max, expires })) got.push(m);
  return got;
}

/** What must be the same after a restart (not `ts`, `last_active` or `num_waiting`). */
function kept(ci: ConsumerInfo): unknown {
  return {
    name: ci.name, created: ci.created, config: ci.config,
    delivered: [ci.delivered.consumer_seq, ci.delivered.stream_seq],
    ack_floor: [ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq],
    num_ack_pending: ci.num_ack_pending, num_redelivered: ci.num_redelivered, num_pending: ci.num_pending,
  };
}

async function publish(nc: NatsConnection, subject: string, n: number): Promise<void> {
  const js = jetstream(nc);
  for (let i = 1; i <= n; i++) await js.publish(subject, `m${i}`);
}

describe('consumers across restarts', () => {
  it('durable and ephemeral consumers of a file stream come back as they were and resume; memory ones are gone', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    let nc = await scope.client(s);
    let jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'F', subjects: ['f.>'], storage: 'file' } as never);
    await jsm.streams.add({ name: 'M', subjects: ['m.>'], storage: 'memory' } as never);
    await publish(nc, 'f.a', 10);
    await publish(nc, 'm.a', 2);
    await jsm.consumers.add('F', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 1_000_000_000, description: 'durable', filter_subject: 'f.>' });
    await jsm.consumers.add('F', { durable_name: 'ALL', ack_policy: AckPolicy.All });
    await jsm.consumers.add('F', { durable_name: 'MEM', ack_policy: AckPolicy.Explicit, mem_storage: true });
    await jsm.consumers.add('M', { durable_name: 'MD', ack_policy: AckPolicy.Explicit });
    const eph = await jsm.consumers.add('F', { ack_policy: AckPolicy.Explicit, inactive_threshold: 3_600_000_000_000 });

    // D: 6 delivered; 1, 2, 3 and 5 acked (confirmed); 4 naked then redelivered (count 2); 6 left.
    const first = await fetchAll(nc, 'F', 'D', 6);
    expect(first.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const m of first) if ([1, 2, 3, 5].includes(m.seq)) expect(await m.ackAck()).toBe(true);
    first[3]!.nak();
    const again = await fetchAll(nc, 'F', 'D', 1);
    expect(again.map((m) => [m.seq, m.info.deliveryCount, m.info.deliverySequence])).toEqual([[4, 2, 7]]);
    // ALL: 4 delivered, acked up to 3.
    const all = await fetchAll(nc, 'F', 'ALL', 4);
    expect(await all[2]!.ackAck()).toBe(true);
    // The ephemeral: 2 delivered, none acked.
    expect((await fetchAll(nc, 'F', eph.name, 2)).map((m) => m.seq)).toEqual([1, 2]);

    const before = new Map<string, unknown>();
    for (const name of ['D', 'ALL', eph.name]) before.set(name, kept(await jsm.consumers.info('F', name)));
    expect(before.get('D')).toMatchObject({ delivered: [7, 6], ack_floor: [3, 3], num_ack_pending: 2, num_redelivered: 1, num_pending: 4 });
    expect(before.get('ALL')).toMatchObject({ delivered: [4, 4], ack_floor: [3, 3], num_ack_pending: 1, num_pending: 6 });
    expect(existsSync(join(obsDir(storeDir, 'F', 'D'), 'meta.json'))).toBe(true);
    expect(existsSync(obsDir(storeDir, 'F', 'MEM'))).toBe(false);
    await nc.close();

    await s.kill();
    await s.restart();
    nc = await scope.client(s);
    jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const c of jsm.consumers.list('F')) names.push(c.name);
    expect(names.sort()).toEqual(['ALL', 'D', eph.name].sort());
    for (const name of ['D', 'ALL', eph.name]) expect(kept(await jsm.consumers.info('F', name)), name).toEqual(before.get(name));
    // nats-server recovers an ephemeral as an ephemeral (switchToEphemeral): no durable name.
    expect((await jsm.consumers.info('F', eph.name)).config.durable_name).toBeUndefined();
    expect(((await rejection(jsm.consumers.info('F', 'MEM'))) as JetStreamApiError).code).toBe(10014);
    expect(((await rejection(jsm.consumers.info('M', 'MD'))) as JetStreamApiError).code).toBe(10059);
    expect(s.stats().internalErrors).toBe(0);

    // D resumes: 7..10 are new; 4 and 6 (ack wait passed) come again; nothing acked does.
    const after: JsMsg[] = [];
    while (after.length < 6) after.push(...(await fetchAll(nc, 'F', 'D', 6 - after.length, 2500)));
    const bySeq = new Map(after.map((m) => [m.seq, m]));
    expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual([4, 6, 7, 8, 9, 10]);
    expect(after.length).toBe(6);
    expect(bySeq.get(4)!.info.deliveryCount).toBe(3);
    expect(bySeq.get(6)!.info.deliveryCount).toBe(2);
    expect(bySeq.get(7)!.info.deliveryCount).toBe(1);
    // Delivery sequences go on after the 7 used before the restart.
    expect(Math.min(...after.map((m) => m.info.deliverySequence))).toBe(8);
    for (const m of after) expect(await m.ackAck()).toBe(true);
    expect(kept(await jsm.consumers.info('F', 'D'))).toMatchObject({ delivered: [13, 10], ack_floor: [13, 10], num_ack_pending: 0, num_pending: 0 });
    // ALL resumes after its ack floor: 4 is pending (redelivered after its 30 s ack wait), 5 is next.
    expect((await fetchAll(nc, 'F', 'ALL', 1)).map((m) => m.seq)).toEqual([5]);

    // And a graceful restart keeps what changed since.
    const d = kept(await jsm.consumers.info('F', 'D'));
    await nc.close();
    await s.restart({ graceful: true });
    jsm = await jetstreamManager(await scope.client(s));
    expect(kept(await jsm.consumers.info('F', 'D'))).toEqual(d);
  });

  it('a deleted consumer is gone for good, with its files; so are a deleted stream\'s consumers', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'F', subjects: ['f.>'], storage: 'file' } as never);
    await jsm.streams.add({ name: 'G', subjects: ['g.>'], storage: 'file' } as never);
    await publish(nc, 'f.a', 3);
    await jsm.consumers.add('F', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add('F', { durable_name: 'KEEP', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add('G', { durable_name: 'GD', ack_policy: AckPolicy.Explicit });
    await fetchAll(nc, 'F', 'D', 2);
    expect(existsSync(obsDir(storeDir, 'F', 'D'))).toBe(true);
    expect(await jsm.consumers.delete('F', 'D')).toBe(true);
    expect(existsSync(obsDir(storeDir, 'F', 'D'))).toBe(false);
    await jsm.streams.delete('G');
    await nc.close();
    await s.restart();
    const jsm2 = await jetstreamManager(await scope.client(s));
    const names: string[] = [];
    for await (const c of jsm2.consumers.list('F')) names.push(c.name);
    expect(names).toEqual(['KEEP']);
    expect(((await rejection(jsm2.consumers.info('G', 'GD'))) as JetStreamApiError).code).toBe(10059);
    // A new consumer of the same name starts afresh.
    const ci = await jsm2.consumers.add('F', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    expect([ci.delivered.consumer_seq, ci.num_pending]).toEqual([0, 3]);
  });

  it('a delivery is on disk before it reaches the client; a plain ack (no reply) within 100 ms', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'F', subjects: ['f.>'], storage: 'file' } as never);
    await publish(nc, 'f.a', 3);
    await jsm.consumers.add('F', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const dir = obsDir(storeDir, 'F', 'D');
    const onDisk = (): { delivered: number; pending: number } => {
      let best: { generation: number; delivered: number; pending: number } | null = null;
      for (const name of ['o0.dat', 'o1.dat']) {
        if (!existsSync(join(dir, name))) continue;
        const d = decodeConsumerState(readFileSync(join(dir, name)));
        if (d !== null && (best === null || d.generation > best.generation)) {
          best = { generation: d.generation, delivered: d.state.deliveredConsumer, pending: d.state.pending.length / 3 };
        }
      }
      return { delivered: best?.delivered ?? 0, pending: best?.pending ?? 0 };
    };
    const c = await jetstream(nc).consumers.get('F', 'D');
    const m = await c.next({ expires: 1000 });
    // Read synchronously as the message arrives: the state went to disk before it was sent.
    expect(onDisk()).toEqual({ delivered: 1, pending: 1 });
    m!.ack();
    await nc.flush();
    await new Promise((r) => setTimeout(r, 300));
    expect(onDisk()).toEqual({ delivered: 1, pending: 0 });
  });

  it('a consumer update is kept across a restart', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const jsm = await jetstreamManager(await scope.client(s));
    await jsm.streams.add({ name: 'F', subjects: ['f.>'], storage: 'file' } as never);
    await jsm.consumers.add('F', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.update('F', 'D', { description: 'updated' });
    await s.restart();
    const jsm2 = await jetstreamManager(await scope.client(s));
    expect((await jsm2.consumers.info('F', 'D')).config.description).toBe('updated');
  });
});

describe('damaged consumer files', () => {
  /** A server with stream F (5 messages) and consumer D: 3 delivered, 1 acked; stopped gracefully. */
  async function prepared(): Promise<{ storeDir: string; s: NatsServer; dir: string }> {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'F', subjects: ['f.>'], storage: 'file' } as never);
    await jsm.consumers.add('F', { durable_name: 'OK', ack_policy: AckPolicy.Explicit });
    await publish(nc, 'f.a', 5);
    await jsm.consumers.add('F', { durable_name: 'D', ack_policy: AckPolicy.Explicit, deliver_policy: 'new' as never, ack_wait: 500_000_000 });
    await publish(nc, 'f.a', 5);
    const got = await fetchAll(nc, 'F', 'D', 3);
    expect(got.map((m) => m.seq)).toEqual([6, 7, 8]);
    expect(await got[0]!.ackAck()).toBe(true);
    await nc.close();
    await s.kill();
    return { storeDir, s, dir: obsDir(storeDir, 'F', 'D') };
  }

  /** The state files, newest first. */
  function stateFiles(dir: string): Array<{ name: string; delivered: number }> {
    const out: Array<{ name: string; gen: number; delivered: number }> = [];
    for (const name of ['o0.dat', 'o1.dat']) {
      if (!existsSync(join(dir, name))) continue;
      const d = decodeConsumerState(readFileSync(join(dir, name)));
      if (d !== null) out.push({ name, gen: d.generation, delivered: d.state.deliveredConsumer });
    }
    return out.sort((a, b) => b.gen - a.gen);
  }

  it('a torn newest state file: the older one is used (at-least-once), an internal error is counted', async () => {
    const { s, dir } = await prepared();
    const files = stateFiles(dir);
    expect(files.length).toBe(2);
    // Cut short, as a write the kill interrupted.
    const newest = join(dir, files[0]!.name);
    writeFileSync(newest, readFileSync(newest).subarray(0, 30));
    await s.restart();
    const jsm = await jetstreamManager(await scope.client(s));
    const ci = await jsm.consumers.info('F', 'D');
    expect(ci.delivered.consumer_seq).toBe(files[1]!.delivered);
    expect(s.stats().internalErrors).toBe(1);
    // The consumer works from there: what it holds pending or not yet delivered comes.
    const got = await fetchAll(await scope.client(s), 'F', 'D', 10, 2000);
    expect(got.map((m) => m.seq)).toContain(10);
  });

  it('both state files corrupt: the consumer starts over where it started, nothing un-acked is lost', async () => {
    const { s, dir } = await prepared();
    for (const name of ['o0.dat', 'o1.dat']) {
      const buf = readFileSync(join(dir, name));
      buf[buf.length >> 1] ^= 0xff;
      writeFileSync(join(dir, name), buf);
    }
    await s.restart();
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    const ci = await jsm.consumers.info('F', 'D');
    // deliver_policy new, created after message 5: it starts at 6 again, not at the stream's end.
    expect([ci.delivered.consumer_seq, ci.delivered.stream_seq, ci.num_pending, ci.num_ack_pending]).toEqual([0, 5, 5, 0]);
    expect(s.stats().internalErrors).toBe(1);
    expect((await fetchAll(nc, 'F', 'D', 5)).map((m) => m.seq)).toEqual([6, 7, 8, 9, 10]);
    // The other consumer of the stream is untouched.
    expect((await jsm.consumers.info('F', 'OK')).num_pending).toBe(10);
  });

  it('a garbage meta file: that consumer is skipped, the stream and its other consumers recover', async () => {
    const { s, dir } = await prepared();
    writeFileSync(join(dir, 'meta.json'), '{"created":1,"config":');
    await s.restart();
    const jsm = await jetstreamManager(await scope.client(s));
    expect(((await rejection(jsm.consumers.info('F', 'D'))) as JetStreamApiError).code).toBe(10014);
    expect((await jsm.consumers.info('F', 'OK')).num_pending).toBe(10);
    expect((await jsm.streams.info('F')).state.messages).toBe(10);
    // The name can be used again.
    expect((await jsm.consumers.add('F', { durable_name: 'D', ack_policy: AckPolicy.Explicit })).num_pending).toBe(10);
  });
});
