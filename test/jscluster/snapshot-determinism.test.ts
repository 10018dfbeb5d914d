/**
 * Replicas restored from a snapshot decide as the replicas that applied every entry (found by a
 * review; each case failed before its fix): messages expire only as of the log's times (the
 * leader proposes the expiries, no replica expires by its own clock), so a member restarted after
 * max_age passed still installs the leader's snapshot and replays the log after it under the
 * checks the leader ran (a KV update's Expected-Last-Subject-Sequence); a purge past the last
 * sequence moves the stream's last sequence as nats-server's (stream.go purge), the same on
 * every member, restored or not.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { createCluster } from '../../src/index.js';
import { leadTo, publishRetrying, sleep } from './leadership.js';

const COMPACTION = { entries: 20, bytes: 1 << 30 };
const publish = (nc: NatsConnection, subject: string, payload: string, hdrs?: Record<string, string>): Promise<number> => publishRetrying(nc, subject, payload, hdrs);

async function lastSeq(jsm: JetStreamManager, name: string): Promise<number> {
  return (await jsm.streams.info(name)).state.last_seq;
}

describe('clustered JetStream: restored replicas decide as the others', () => {
  it('max_age: a restarted member whose own snapshot expired messages the leader\'s snapshot still holds ends with the same stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'js-rev-'));
    const cluster = await createCluster({ size: 3, jetstream: { storeDir: dir, raftCompaction: COMPACTION } });
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'T', subjects: ['t.>'], num_replicas: 3, max_age: 4_000_000_000, max_msgs_per_subject: 10 });
      const t0 = Date.now();
      for (let i = 0; i < 40; i++) await publish(nc, `t.a.${i}`, `a${i}`);
      await sleep(300); // every member compacts (hub ticks)
      const follower = ((await cluster.streamLeader('T')) + 1) % 3;
      await cluster.kill(follower);
      // Many entries on one subject (kept to 10): the log outgrows the stream and the survivors compact.
      for (let i = 0; i < 200; i++) await publish(nc, 't.b', `b${i}`);
      await sleep(300); // the survivors compact past the follower's log
      // Batch a is older than max_age by the restart, yet within it when the leader compacted.
      await sleep(Math.max(0, t0 + 4_600 - Date.now()));
      await cluster.restart(follower);
      await sleep(1500);
      for (let i = 0; i < 5; i++) await publish(nc, 't.c', `c${i}`);
      const want = await lastSeq(jsm, 'T');
      const errors = cluster.servers[follower].stats().internalErrors;
      await leadTo(cluster, nc, 'T', follower);
      expect({ errors, last: await lastSeq(jsm, 'T') }).toEqual({ errors: 0, last: want });
      await nc.close();
    } finally {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a purge past the last sequence, then a restore: Nats-Expected-Last-Sequence gets the same answer on every member', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'js-rev-'));
    const cluster = await createCluster({ size: 3, jetstream: { storeDir: dir, raftCompaction: { entries: 1, bytes: 1 << 30 } } });
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'P', subjects: ['p.>'], num_replicas: 3 });
      for (let i = 0; i < 3; i++) await publish(nc, 'p.x', `m${i}`);
      // Store: first 100, last 99; the stream's own last sequence stays 3 (Stream.purge).
      await jsm.streams.purge('P', { seq: 100 });
      await sleep(500); // every member compacts (the stream holds no bytes)
      const follower = ((await cluster.streamLeader('P')) + 1) % 3;
      await cluster.kill(follower);
      await cluster.restart(follower); // restores its own snapshot: its last sequence becomes 99
      await sleep(1500);
      // Accepted by the members that applied every entry (last 3), refused by the restored one.
      await publish(nc, 'p.x', 'expect-3', { 'Nats-Expected-Last-Sequence': '3' }).catch(() => 0);
      await publish(nc, 'p.x', 'next');
      const want = await jsm.streams.info('P');
      await leadTo(cluster, nc, 'P', follower);
      const got = await jsm.streams.info('P');
      expect({ last: got.state.last_seq, msgs: got.state.messages }).toEqual({ last: want.state.last_seq, msgs: want.state.messages });
      await nc.close();
    } finally {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('max_age and a restart: the log after the snapshot is replayed under the same checks the leader ran (Nats-Expected-Last-Subject-Sequence, as KV updates send)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'js-rev-'));
    const cluster = await createCluster({ size: 3, jetstream: { storeDir: dir, raftCompaction: COMPACTION } });
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'K', subjects: ['k.>'], num_replicas: 3, max_age: 3_000_000_000, max_msgs_per_subject: 1 });
      const t0 = Date.now();
      const n = await publish(nc, 'k.key', 'v1');
      // Many entries on one subject (one message kept): every member compacts; its snapshot holds k.key@n.
      for (let i = 0; i < 40; i++) await publish(nc, 'k.other', `o${i}`);
      await sleep(300);
      // After the snapshot, in the log: an update that expects k.key's last sequence to be n (KV update).
      const m = await publish(nc, 'k.key', 'v2', { 'Nats-Expected-Last-Subject-Sequence': String(n) });
      expect(m).toBeGreaterThan(n);
      await sleep(300);
      const follower = ((await cluster.streamLeader('K')) + 1) % 3;
      await cluster.kill(follower);
      // k.key@n is past max_age at the restart (not when the update was applied).
      await sleep(Math.max(0, t0 + 3_800 - Date.now()));
      await cluster.restart(follower);
      await sleep(1500);
      await publish(nc, 'k.after', 'x');
      const want = (await jsm.streams.info('K')).state.last_seq;
      await leadTo(cluster, nc, 'K', follower);
      expect((await jsm.streams.info('K')).state.last_seq).toBe(want);
      await nc.close();
    } finally {
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('max_age without new publishes: the leader proposes the expiry, every member applies it', async () => {
    const cluster = await createCluster({ size: 3, jetstream: true });
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'A', subjects: ['a.>'], num_replicas: 3, max_age: 1_000_000_000 });
      for (let i = 0; i < 5; i++) await publish(nc, `a.${i}`, `m${i}`);
      expect((await jsm.streams.info('A')).state.messages).toBe(5);
      await sleep(1600);
      expect((await jsm.streams.info('A')).state).toMatchObject({ messages: 0, first_seq: 6, last_seq: 5 });
      // On every member: whoever leads next has them gone too.
      for (let i = 0; i < 3; i++) {
        await leadTo(cluster, nc, 'A', i);
        expect((await jsm.streams.info('A')).state.messages).toBe(0);
      }
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
