/**
 * Consumers of interest and work-queue streams have Raft groups of their own, as in nats-server
 * (jsClusteredConsumerRequest gives every durable a group, and ephemerals too on these
 * retentions): a consumer may run on a member that does not lead its stream, and the stream's
 * leader still removes exactly what the retention lets go — a message acked by every consumer
 * that needs it, and nothing another consumer still needs — on every replica, across consumer
 * and stream leader changes.
 */
import { describe, it, expect } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import type { NatsCluster } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { consume, publishRetrying, setUpStream, sleep } from './leadership.js';

/** Moves the consumer's leadership off member `avoid` (stepdown picks any current follower). */
async function consumerOff(cluster: NatsCluster, nc: NatsConnection, stream: string, consumer: string, avoid: number): Promise<number> {
  for (let i = 0; i < 30; i++) {
    const cl = await cluster.consumerLeader(stream, consumer);
    if (cl !== avoid) return cl;
    await nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer}`, '', { timeout: 2000 }).catch(() => undefined);
    await sleep(100);
  }
  throw new Error(`the consumer leader never left member ${avoid}`);
}

/** Every member's own replica of the stream holds exactly `seqs` (first..last and count). */
async function everyReplicaHolds(cluster: NatsCluster, stream: string, messages: number, firstSeq: number): Promise<void> {
  await eventually(async () => {
    for (const s of cluster.servers) {
      const st = (await s.jetstream.stream(stream))?.state;
      if (st === undefined || st.messages !== messages || (messages > 0 && st.firstSeq !== firstSeq)) return undefined;
    }
    return true;
  }, `every replica of ${stream} at ${messages} messages from ${firstSeq}`, 10_000);
}

describe('consumers of interest and work-queue streams with groups of their own', () => {
  it('interest: consumers led off the stream leader; a message goes once every consumer that needs it acked, on every replica', async () => {
    const { cluster, nc, jsm } = await setUpStream(RetentionPolicy.Interest);
    try {
      const a = await jsm.consumers.add('S', { durable_name: 'A', ack_policy: AckPolicy.Explicit });
      await jsm.consumers.add('S', { durable_name: 'B', ack_policy: AckPolicy.Explicit, filter_subject: 's.b' });
      // Each durable has a group of its own (named as nats-server names consumer groups).
      expect(a.cluster?.raft_group).toMatch(/^C-R3F-/);
      const sl = await cluster.streamLeader('S');
      await consumerOff(cluster, nc, 'S', 'A', sl);
      await consumerOff(cluster, nc, 'S', 'B', sl);
      // The consumers moved alone.
      expect(await cluster.streamLeader('S')).toBe(sl);
      for (let i = 1; i <= 3; i++) await publishRetrying(nc, 's.a', `a${i}`);
      for (let i = 1; i <= 3; i++) await publishRetrying(nc, 's.b', `b${i}`);
      // A takes all six; the s.b ones still wait for B.
      expect(await consume(nc, 'S', 'A', 6)).toEqual([1, 2, 3, 4, 5, 6]);
      await everyReplicaHolds(cluster, 'S', 3, 4);
      await sleep(200);
      await everyReplicaHolds(cluster, 'S', 3, 4);
      expect((await jsm.consumers.info('S', 'B')).num_pending).toBe(3);
      expect(await consume(nc, 'S', 'B', 2)).toEqual([4, 5]);
      await everyReplicaHolds(cluster, 'S', 1, 6);
      expect(await cluster.streamLeader('S')).toBe(sl);
      expect(cluster.servers.map((s) => s.stats().internalErrors)).toEqual([0, 0, 0]);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('work queue: acks on a consumer led elsewhere remove the messages; its leader killed, the rest is delivered once', async () => {
    const { cluster, nc, jsm } = await setUpStream(RetentionPolicy.Workqueue);
    try {
      await jsm.consumers.add('S', { durable_name: 'W', ack_policy: AckPolicy.Explicit, ack_wait: 2_000_000_000 });
      const sl = await cluster.streamLeader('S');
      const cl = await consumerOff(cluster, nc, 'S', 'W', sl);
      for (let i = 1; i <= 10; i++) await publishRetrying(nc, 's.job', `j${i}`);
      expect(await consume(nc, 'S', 'W', 4)).toEqual([1, 2, 3, 4]);
      await everyReplicaHolds(cluster, 'S', 6, 5);
      await cluster.kill(cl);
      const rest = await consume(nc, 'S', 'W', 6, 20_000);
      expect(rest).toEqual([5, 6, 7, 8, 9, 10]);
      await cluster.restart(cl);
      // The restarted member catches up: its replica is empty too.
      await everyReplicaHolds(cluster, 'S', 0, 0);
      expect((await jsm.streams.info('S')).state).toMatchObject({ messages: 0, first_seq: 11, last_seq: 10 });
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('the stream leader steps down as acks arrive: what was acked still goes, nothing else', async () => {
    const { cluster, nc, jsm } = await setUpStream(RetentionPolicy.Workqueue);
    try {
      await jsm.consumers.add('S', { durable_name: 'W', ack_policy: AckPolicy.Explicit });
      for (let i = 1; i <= 40; i++) await publishRetrying(nc, 's.job', `j${i}`);
      const js = jetstream(nc);
      const c = await js.consumers.get('S', 'W');
      const acked: number[] = [];
      for await (const m of await c.fetch({ max_messages: 30, expires: 2000 })) {
        m.ack();
        acked.push(m.seq);
        // Mid-way, the stream's leader changes while acks are in flight.
        if (acked.length === 15) void nc.request('$JS.API.STREAM.LEADER.STEPDOWN.S', '', { timeout: 2000 }).catch(() => undefined);
      }
      expect(acked.length).toBe(30);
      // Acks lost to the leader change are redelivered after ack_wait (30 s): not waited for here.
      // What every replica removed is exactly a prefix the consumer acked; the last 10 stay.
      await eventually(async () => ((await jsm.consumers.info('S', 'W')).ack_floor.stream_seq === 30 ? true : undefined), 'the ack floor at 30', 10_000);
      await everyReplicaHolds(cluster, 'S', 10, 31);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('work queue: acks above the ack floor made while the stream has no leader are removed by the next one', async () => {
    // The Jepsen work-queue run (seed 18402) found an acked message kept for good: acked while
    // an older one was pending, its removal lost with the stream leader's term, and the next
    // leader's re-check skipping what was acked above the ack floor. Here the acks commit in the
    // consumer's group while the stream has no leader at all (its leader killed, the consumer
    // led elsewhere): the members apply them as followers, so only the new leader's re-check
    // can remove the messages.
    const { cluster, nc, jsm } = await setUpStream(RetentionPolicy.Workqueue);
    let worker: NatsConnection | undefined;
    try {
      await jsm.consumers.add('S', { durable_name: 'W', ack_policy: AckPolicy.Explicit, ack_wait: 60_000_000_000 });
      const sl = await cluster.streamLeader('S');
      const cl = await consumerOff(cluster, nc, 'S', 'W', sl);
      for (let i = 1; i <= 3; i++) await publishRetrying(nc, 's.job', `j${i}`);
      await everyReplicaHolds(cluster, 'S', 3, 1);
      worker = await connect({ servers: [cluster.urls[cl]!], reconnect: false });
      const c = await jetstream(worker).consumers.get('S', 'W');
      const ms = [];
      for await (const m of await c.fetch({ max_messages: 3, expires: 2000 })) ms.push(m);
      expect(ms.map((m) => m.seq)).toEqual([1, 2, 3]);
      await cluster.kill(sl);
      // 2 and 3 acked, 1 still pending (the ack floor stays at 0), before any new stream leader.
      expect(await ms[1]!.ackAck({ timeout: 2000 })).toBe(true);
      expect(await ms[2]!.ackAck({ timeout: 2000 })).toBe(true);
      await cluster.streamLeader('S');
      await eventually(async () => {
        const st = (await jsm.streams.info('S')).state;
        return st.messages === 1 && st.first_seq === 1 ? true : undefined;
      }, 'only seq 1 (unacked) left in the stream', 10_000);
      expect(await ms[0]!.ackAck({ timeout: 2000 })).toBe(true);
      await eventually(async () => ((await jsm.streams.info('S')).state.messages === 0 ? true : undefined), 'the stream empty', 10_000);
    } finally {
      await worker?.close();
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('interest: deleting a consumer led elsewhere lets go what only it needed; what another needs stays', async () => {
    const { cluster, nc, jsm } = await setUpStream(RetentionPolicy.Interest);
    try {
      await jsm.consumers.add('S', { durable_name: 'A', ack_policy: AckPolicy.Explicit, filter_subject: 's.a' });
      await jsm.consumers.add('S', { durable_name: 'ALL', ack_policy: AckPolicy.Explicit });
      const sl = await cluster.streamLeader('S');
      await consumerOff(cluster, nc, 'S', 'ALL', sl);
      for (let i = 1; i <= 3; i++) await publishRetrying(nc, 's.a', `a${i}`);
      for (let i = 1; i <= 3; i++) await publishRetrying(nc, 's.b', `b${i}`);
      await jsm.consumers.delete('S', 'ALL');
      // s.b had no other consumer: gone; s.a waits for A.
      await everyReplicaHolds(cluster, 'S', 3, 1);
      expect(await consume(nc, 'S', 'A', 3)).toEqual([1, 2, 3]);
      await everyReplicaHolds(cluster, 'S', 0, 0);
      expect(cluster.servers.map((s) => s.stats().internalErrors)).toEqual([0, 0, 0]);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('an ephemeral consumer of an interest stream is replicated with a group of its own', async () => {
    const { cluster, nc, jsm } = await setUpStream(RetentionPolicy.Interest);
    try {
      const ci = await jsm.consumers.add('S', { ack_policy: AckPolicy.Explicit, inactive_threshold: 30_000_000_000 });
      expect(ci.config.durable_name).toBeUndefined();
      expect(ci.cluster?.raft_group).toMatch(/^C-R3F-/);
      await eventually(async () => ((await jsm.consumers.info('S', ci.name)).cluster?.replicas?.length === 2 ? true : undefined), 'two replicas', 10_000);
      await publishRetrying(nc, 's.a', 'x');
      expect(await consume(nc, 'S', ci.name, 1)).toEqual([1]);
      await everyReplicaHolds(cluster, 'S', 0, 0);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('limits → interest: an ephemeral that lives on the stream leader alone still counts; the change is refused while a durable has fewer replicas', async () => {
    const { cluster, nc, jsm } = await setUpStream(RetentionPolicy.Limits);
    try {
      const si = await jsm.streams.info('S');
      await jsm.consumers.add('S', { durable_name: 'ONE', ack_policy: AckPolicy.Explicit, num_replicas: 1 });
      // stream.go update (2.10): every consumer must have the stream's replica count first.
      const refused = await nc.request('$JS.API.STREAM.UPDATE.S', JSON.stringify({ ...si.config, retention: 'interest' }), { timeout: 5000 });
      expect(refused.json()).toMatchObject({ error: { code: 500, err_code: 10051, description: 'consumer "ONE" replica count must be 3' } });
      expect((await jsm.streams.info('S')).config.retention).toBe(RetentionPolicy.Limits);
      await jsm.consumers.delete('S', 'ONE');
      await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
      const e = await jsm.consumers.add('S', { ack_policy: AckPolicy.Explicit, inactive_threshold: 60_000_000_000 });
      for (let i = 1; i <= 3; i++) await publishRetrying(nc, 's.a', `m${i}`);
      await jsm.streams.update('S', { ...si.config, retention: RetentionPolicy.Interest } as never);
      // D acks all three: E (not replicated, on the stream's leader) still needs them.
      expect(await consume(nc, 'S', 'D', 3)).toEqual([1, 2, 3]);
      await sleep(300);
      await everyReplicaHolds(cluster, 'S', 3, 1);
      expect(await consume(nc, 'S', e.name, 3)).toEqual([1, 2, 3]);
      await everyReplicaHolds(cluster, 'S', 0, 0);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('the last consumer deleted while another is created and published to: the new one keeps its messages', async () => {
    const { cluster, nc: nc0, jsm: jsm0 } = await setUpStream(RetentionPolicy.Interest);
    const sl = await cluster.streamLeader('S');
    await nc0.close();
    // On the stream leader's member, so the three requests reach it in order.
    const nc = await connect({ servers: [cluster.urls[sl]!], reconnectTimeWait: 50 });
    try {
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      for (let round = 0; round < 3; round++) {
        const old = `OLD${round}`;
        const neu = `NEW${round}`;
        await jsm.consumers.add('S', { durable_name: old, ack_policy: AckPolicy.Explicit });
        await publishRetrying(nc, 's.a', 'before');
        // Pipelined: the delete's purge (no consumer left) is decided before the create applies.
        const del = nc.request(`$JS.API.CONSUMER.DELETE.S.${old}`, '', { timeout: 5000 });
        const add = nc.request(`$JS.API.CONSUMER.CREATE.S.${neu}`, JSON.stringify({ stream_name: 'S', config: { durable_name: neu, ack_policy: 'explicit' } }), { timeout: 5000 });
        const pubs = [1, 2, 3].map((i) => js.publish('s.a', `after${i}`, { timeout: 5000 }));
        await del;
        await add;
        await Promise.all(pubs);
        // The three published for it stay (the one only OLD needed went with OLD).
        await sleep(300);
        expect((await jsm.consumers.info('S', neu)).num_pending).toBe(3);
        expect((await jsm.streams.info('S')).state.messages).toBe(3);
        await jsm.consumers.delete('S', neu);
        await everyReplicaHolds(cluster, 'S', 0, 0);
      }
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('the last consumer deleted right as the stream leader steps down: the delete is answered, kept, and the stream purged', async () => {
    const { cluster, nc, jsm } = await setUpStream(RetentionPolicy.Interest);
    try {
      for (let round = 0; round < 1; round++) {
        const name = `C${round}`;
        await jsm.consumers.add('S', { durable_name: name, ack_policy: AckPolicy.Explicit });
        for (let i = 0; i < 3; i++) await publishRetrying(nc, 's.a', `m${i}`);
        const sl = await cluster.streamLeader('S');
        const one = await connect({ servers: [cluster.urls[sl]!] });
        try {
          // Pipelined on the leader: the delete's entry is appended, then the leader hands over.
          const del = one.request(`$JS.API.CONSUMER.DELETE.S.${name}`, '', { timeout: 5000 });
          const sd = one.request('$JS.API.STREAM.LEADER.STEPDOWN.S', '', { timeout: 5000 });
          // Its proposer answers it, though it no longer leads when it commits.
          expect((await del).json()).toMatchObject({ success: true });
          await sd;
        } finally {
          await one.close();
        }
        await eventually(async () => ((await jsm.consumers.list('S').next().catch(() => null))?.length === 0 ? true : undefined), 'no consumer left', 10_000);
        // The new leader made the purge the delete needed.
        await everyReplicaHolds(cluster, 'S', 0, 0);
      }
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);
});
