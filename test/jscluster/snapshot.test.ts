/**
 * Log compaction of clustered streams: every replica compacts its stream's Raft log into a
 * snapshot (with `jetstream.raftCompaction` lowered here so that a few hundred publishes do it
 * many times). A member that was down while the others compacted past its log catches up from
 * the leader's snapshot and then leads with exactly the stream it would have had: the same
 * messages at the same sequences, gaps, duplicate window and consumer state. A whole-cluster
 * restart rebuilds every store from the snapshot and the log after it.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { headers } from '@nats-io/nats-core';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { ConfigError, createCluster, createServer } from '../../src/index.js';
import { leadTo, publishRetrying } from './leadership.js';

const COMPACTION = { entries: 20, bytes: 1 << 30 };

/** Every file named `snap` under `dir` (the Raft groups' snapshots) with its size. */
function snapshots(dir: string): Array<{ path: string; size: number; mtime: number }> {
  const out: Array<{ path: string; size: number; mtime: number }> = [];
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name === 'snap') {
      const path = join(e.parentPath, e.name);
      const st = statSync(path);
      out.push({ path, size: st.size, mtime: st.mtimeMs });
    }
  }
  return out;
}

/** Publishes with a message id (retries are duplicates), across leader changes. */
function publish(nc: NatsConnection, subject: string, id: string, payload: string | Uint8Array = `payload of ${id}`): Promise<number> {
  return publishRetrying(nc, subject, payload, { 'Nats-Msg-Id': id });
}

/** The stream's state and every message (seq → subject and payload) as its current leader has them. */
async function contents(jsm: JetStreamManager, name: string): Promise<{ state: Record<string, unknown>; msgs: string[] }> {
  const si = await jsm.streams.info(name);
  const msgs: string[] = [];
  for (let seq = si.state.first_seq; seq <= si.state.last_seq; seq++) {
    try {
      const m = await jsm.streams.getMessage(name, { seq });
      msgs.push(m === null ? `${seq} -` : `${m.seq} ${m.subject} ${m.string()}`);
    } catch {
      msgs.push(`${seq} -`);
    }
  }
  const { messages, bytes, first_seq, last_seq, num_deleted, num_subjects, consumer_count } = si.state;
  return { state: { messages, bytes, first_seq, last_seq, num_deleted, num_subjects, consumer_count }, msgs };
}

describe('clustered JetStream: log compaction and snapshots', () => {
  it('a member down while the others compacted catches up from the snapshot and leads with the same stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'js-snap-'));
    const cluster = await createCluster({ size: 3, jetstream: { storeDir: dir, raftCompaction: COMPACTION } });
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'S', subjects: ['s.>'], num_replicas: 3, max_msgs_per_subject: 5, duplicate_window: 60_000_000_000 });
      await jsm.consumers.add('S', { durable_name: 'C', ack_policy: AckPolicy.Explicit });
      for (let i = 0; i < 30; i++) await publish(nc, `s.${i % 10}`, `m${i}`);

      const follower = ((await cluster.streamLeader('S')) + 1) % 3;
      const followerName = cluster.servers[follower].info.server_name;
      await cluster.kill(follower);
      const killedAt = Date.now();
      for (let i = 0; i < 300; i++) await publish(nc, `s.${i % 10}`, `n${i}`);
      const si = await jsm.streams.info('S');
      await jsm.streams.deleteMessage('S', si.state.last_seq - 3);
      await jsm.streams.purge('S', { filter: 's.3' });
      const c = await jetstream(nc).consumers.get('S', 'C');
      const batch = await c.fetch({ max_messages: 12, expires: 2000 });
      let acked = 0;
      for await (const m of batch) {
        await m.ackAck();
        if (++acked === 12) break;
      }
      expect(acked).toBe(12);
      const before = await contents(jsm, 'S');
      const consumerBefore = await jsm.consumers.info('S', 'C');
      // The survivors compacted their logs: snapshots on disk, and far fewer log bytes than 300 publishes.
      const survivor = cluster.servers[(follower + 1) % 3].info.server_name;
      expect(snapshots(join(dir, survivor)).length).toBeGreaterThan(0);

      await cluster.restart(follower);
      await leadTo(cluster, nc, 'S', follower);
      // Its stream: installed from a snapshot taken after it went down.
      expect(snapshots(join(dir, followerName)).some((s) => s.mtime > killedAt)).toBe(true);
      expect(await contents(jsm, 'S')).toEqual(before);
      const consumerAfter = await jsm.consumers.info('S', 'C');
      // (ack_floor.last_active is the leader's own time of the last ack: not replicated, as in nats-server.)
      expect(consumerAfter.ack_floor.stream_seq).toBe(consumerBefore.ack_floor.stream_seq);
      expect(consumerAfter.ack_floor.consumer_seq).toBe(consumerBefore.ack_floor.consumer_seq);
      expect(consumerAfter.delivered.stream_seq).toBe(consumerBefore.delivered.stream_seq);
      expect(consumerAfter.num_pending).toBe(consumerBefore.num_pending);
      // The duplicate window came with it: an id published before the snapshot is a duplicate.
      const h = headers();
      h.set('Nats-Msg-Id', 'n299');
      expect((await jetstream(nc).publish('s.9', 'again', { headers: h })).duplicate).toBe(true);
      await nc.close();
    } finally {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a whole-cluster restart after compactions rebuilds every store from its snapshot and the log after it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'js-snap-'));
    const cluster = await createCluster({ size: 3, jetstream: { storeDir: dir, raftCompaction: COMPACTION } });
    try {
      let nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      let jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'F', subjects: ['f.>'], num_replicas: 3, max_msgs: 40 });
      await jsm.streams.add({ name: 'M', subjects: ['m.>'], num_replicas: 3, storage: 'memory' as never });
      for (let i = 0; i < 150; i++) {
        await publish(nc, `f.${i % 7}`, `f${i}`);
        await publish(nc, `m.${i % 3}`, `g${i}`);
      }
      await jsm.streams.update('F', { max_msgs: 30 });
      for (let i = 0; i < 5; i++) await publish(nc, 'f.x', `late${i}`);
      const f = await contents(jsm, 'F');
      const m = await contents(jsm, 'M');
      for (const s of cluster.servers) expect(snapshots(join(dir, s.info.server_name)).length).toBeGreaterThan(0);
      await nc.close();
      for (let i = 0; i < 3; i++) await cluster.kill(i);
      for (let i = 0; i < 3; i++) await cluster.restart(i);
      await cluster.waitForJetStream();
      nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      jsm = await jetstreamManager(nc);
      for (let i = 0; i < 3; i++) {
        await leadTo(cluster, nc, 'F', i);
        expect(await contents(jsm, 'F')).toEqual(f);
        expect((await jsm.streams.info('F')).config.max_msgs).toBe(30);
      }
      expect(await contents(jsm, 'M')).toEqual(m);
      await nc.close();
    } finally {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('jetstream.raftCompaction is checked like any option', async () => {
    await expect(createServer({ jetstream: { raftCompaction: { entries: 0 } } })).rejects.toMatchObject({ option: 'jetstream.raftCompaction.entries' });
    await expect(createServer({ jetstream: { raftCompaction: { bytes: -1 } } })).rejects.toBeInstanceOf(ConfigError);
    await expect(createServer({ jetstream: { raftCompaction: { entires: 5 } as never } })).rejects.toMatchObject({ option: 'jetstream.raftCompaction.entires' });
  });

  it('a snapshot larger than max_payload (4 MB of messages) reaches a member that was down', async () => {
    const cluster = await createCluster({ size: 3, jetstream: { raftCompaction: COMPACTION } });
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'B', subjects: ['b.>'], num_replicas: 3 });
      const follower = ((await cluster.streamLeader('B')) + 1) % 3;
      await cluster.kill(follower);
      const chunk = new Uint8Array(200 * 1024).fill(7);
      for (let i = 0; i < 20; i++) await publish(nc, `b.${i}`, `big${i}`, chunk);
      for (let i = 0; i < 40; i++) await publish(nc, 'b.small', `s${i}`);
      await cluster.restart(follower);
      await leadTo(cluster, nc, 'B', follower);
      const si = await jsm.streams.info('B');
      expect(si.state.messages).toBe(60);
      expect(si.state.bytes).toBeGreaterThan(4_000_000);
      const m = await jsm.streams.getMessage('B', { seq: 10 });
      expect(m?.data.length).toBe(200 * 1024);
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 120_000);

  it('a mirror replica that was down catches up from its leader\'s snapshot with the origin\'s sequences', async () => {
    const cluster = await createCluster({ size: 3, jetstream: { raftCompaction: COMPACTION } });
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'O', subjects: ['o.>'], num_replicas: 3 });
      // The mirror's own limits leave gaps in its sequences (a mirror keeps the origin's).
      await jsm.streams.add({ name: 'MO', num_replicas: 3, mirror: { name: 'O' }, max_msgs_per_subject: 3 });
      for (let i = 0; i < 20; i++) await publish(nc, `o.${i % 4}`, `a${i}`);
      const follower = ((await cluster.streamLeader('MO')) + 1) % 3;
      await cluster.kill(follower);
      for (let i = 0; i < 200; i++) await publish(nc, `o.${i % 4}`, `b${i}`);
      // The mirror has copied everything (its leader runs on a member that stayed up).
      for (let i = 0; i < 100 && (await jsm.streams.info('MO')).state.last_seq < 220; i++) await new Promise((r) => setTimeout(r, 100));
      const before = await contents(jsm, 'MO');
      expect(before.state.last_seq).toBe(220);
      expect(before.state.messages).toBe(12);
      expect(before.msgs.filter((m) => !m.endsWith(' -'))).toEqual(['209 o.0 payload of b188', '210 o.1 payload of b189', '211 o.2 payload of b190', '212 o.3 payload of b191',
        '213 o.0 payload of b192', '214 o.1 payload of b193', '215 o.2 payload of b194', '216 o.3 payload of b195',
        '217 o.0 payload of b196', '218 o.1 payload of b197', '219 o.2 payload of b198', '220 o.3 payload of b199']);
      await cluster.restart(follower);
      await leadTo(cluster, nc, 'MO', follower);
      expect(await contents(jsm, 'MO')).toEqual(before);
      // It copies on from where the snapshot left it.
      await publish(nc, 'o.9', 'c0');
      for (let i = 0; i < 100 && (await jsm.streams.info('MO')).state.last_seq < 221; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await jsm.streams.getMessage('MO', { seq: 221 }))?.string()).toBe('payload of c0');
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 120_000);
});
