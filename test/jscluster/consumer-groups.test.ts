/**
 * A durable consumer of a limits stream has a Raft group and a leader of its own, as in
 * nats-server (jetstream_cluster.go processClusteredConsumer): CONSUMER.LEADER.STEPDOWN moves the
 * consumer alone, the consumer survives the loss of its own leader or of the stream's, and the
 * API finds it wherever it runs (CONSUMER.INFO from its leader, NAMES and LIST from the stream's
 * leader asking the consumer leaders).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, RetentionPolicy } from '@nats-io/jetstream';
import type { NatsCluster } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { consume, publishRetrying, setUpStream, sleep } from './leadership.js';

/** Moves the consumer's leadership off the stream's leader (stepdown picks any current follower). */
async function consumerAwayFromStream(cluster: NatsCluster, nc: NatsConnection, stream: string, consumer: string): Promise<{ sl: number; cl: number }> {
  for (let i = 0; i < 30; i++) {
    const sl = await cluster.streamLeader(stream);
    const cl = await cluster.consumerLeader(stream, consumer);
    if (sl !== cl) return { sl, cl };
    await nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.${consumer}`, '', { timeout: 2000 }).catch(() => undefined);
    await sleep(100);
  }
  throw new Error('the consumer leader never left the stream leader');
}

describe('clustered consumers with groups of their own', () => {
  it('a consumer stepdown moves the consumer alone; its state goes with it', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      const ci = await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 5_000_000_000 });
      // nats-server names consumer groups C-R<replicas><storage>-<hash>.
      expect(ci.cluster?.raft_group).toMatch(/^C-R3F-[A-Za-z0-9]{8}$/);
      expect(ci.cluster?.replicas?.length).toBe(2);
      for (let i = 1; i <= 10; i++) await publishRetrying(nc, 's.a', `m${i}`);
      expect(await consume(nc, 'S', 'D', 4)).toEqual([1, 2, 3, 4]);
      const streamLeader = await cluster.streamLeader('S');
      const { cl } = await consumerAwayFromStream(cluster, nc, 'S', 'D');
      expect(await cluster.streamLeader('S')).toBe(streamLeader);
      // The consumer runs on a stream follower: info from it, deliveries and acks go on.
      const info = await eventually(async () => (await jsm.consumers.info('S', 'D').catch(() => null)) ?? undefined, 'consumer info');
      expect(info.cluster?.leader).toBe(cluster.servers[cl]!.info.server_name);
      expect(info.ack_floor.stream_seq).toBe(4);
      expect(info.num_pending).toBe(6);
      expect(await consume(nc, 'S', 'D', 6)).toEqual([5, 6, 7, 8, 9, 10]);
      expect(cluster.servers.map((s) => s.stats().internalErrors)).toEqual([0, 0, 0]);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('killing the consumer leader elects another; the stream keeps its leader and the consumer its ack floor', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 5_000_000_000 });
      for (let i = 1; i <= 10; i++) await publishRetrying(nc, 's.a', `m${i}`);
      expect(await consume(nc, 'S', 'D', 3)).toEqual([1, 2, 3]);
      const { sl, cl } = await consumerAwayFromStream(cluster, nc, 'S', 'D');
      await cluster.kill(cl);
      const next = await cluster.consumerLeader('S', 'D');
      expect(next).not.toBe(cl);
      expect(await cluster.streamLeader('S')).toBe(sl);
      expect(await consume(nc, 'S', 'D', 7)).toEqual([4, 5, 6, 7, 8, 9, 10]);
      // The member comes back and catches up; the consumer's state is the same on every member.
      await cluster.restart(cl);
      await eventually(async () => {
        const i = await jsm.consumers.info('S', 'D').catch(() => null);
        return i?.cluster?.replicas?.length === 2 && i.cluster.replicas.every((r) => r.current) ? true : undefined;
      }, 'every consumer replica current', 10_000);
      const info = await jsm.consumers.info('S', 'D');
      expect(info.ack_floor.stream_seq).toBe(10);
      expect(info.num_ack_pending).toBe(0);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('killing the stream leader leaves a consumer led elsewhere in place', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 5_000_000_000 });
      for (let i = 1; i <= 6; i++) await publishRetrying(nc, 's.a', `m${i}`);
      expect(await consume(nc, 'S', 'D', 2)).toEqual([1, 2]);
      const { sl, cl } = await consumerAwayFromStream(cluster, nc, 'S', 'D');
      await cluster.kill(sl);
      const newStream = await cluster.streamLeader('S');
      expect(newStream).not.toBe(sl);
      expect(await cluster.consumerLeader('S', 'D')).toBe(cl);
      for (let i = 7; i <= 8; i++) await publishRetrying(nc, 's.a', `m${i}`);
      expect(await consume(nc, 'S', 'D', 6)).toEqual([3, 4, 5, 6, 7, 8]);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('NAMES and LIST from the stream leader include consumers led elsewhere; INFO comes from their leader', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      for (const d of ['A', 'B', 'C']) await jsm.consumers.add('S', { durable_name: d, ack_policy: AckPolicy.Explicit });
      await publishRetrying(nc, 's.a', 'one');
      await consumerAwayFromStream(cluster, nc, 'S', 'B');
      const names: string[] = [];
      for await (const n of jsm.consumers.list('S')) names.push(n.name);
      expect(names).toEqual(['A', 'B', 'C']);
      const list = await nc.request('$JS.API.CONSUMER.LIST.S', '', { timeout: 5000 });
      const body = list.json<{ total: number; consumers: Array<{ name: string; num_pending: number; cluster: { leader: string } }>; missing?: string[] }>();
      expect(body.total).toBe(3);
      expect(body.missing).toBeUndefined();
      expect(body.consumers.map((c) => [c.name, c.num_pending])).toEqual([['A', 1], ['B', 1], ['C', 1]]);
      const bLeader = cluster.servers[await cluster.consumerLeader('S', 'B')]!.info.server_name;
      expect(body.consumers[1]!.cluster.leader).toBe(bLeader);
      const namesReply = await nc.request('$JS.API.CONSUMER.NAMES.S', '', { timeout: 5000 });
      expect(namesReply.json()).toMatchObject({ total: 3, consumers: ['A', 'B', 'C'] });
      // Exactly one answer to CONSUMER.INFO (the consumer's leader), from any member.
      for (const url of cluster.urls) {
        const one = await connect({ servers: url });
        let answers = 0;
        one.subscribe('answers', { callback: () => void answers++ });
        await one.flush();
        // The reply subject's interest reaches the other members over the routes.
        await sleep(100);
        one.publish('$JS.API.CONSUMER.INFO.S.B', '', { reply: 'answers' });
        await sleep(300);
        expect(answers).toBe(1);
        await one.close();
      }
      // Account info counts every consumer once.
      expect((await jsm.getAccountInfo()).consumers).toBe(3);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('deleting a consumer led off the stream leader: 409 to its waiting pulls, its group gone from every member', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
      const group = (await jsm.consumers.info('S', 'D')).cluster!.raft_group!;
      await consumerAwayFromStream(cluster, nc, 'S', 'D');
      const inbox = nc.subscribe('pull.reply');
      nc.publish('$JS.API.CONSUMER.MSG.NEXT.S.D', JSON.stringify({ batch: 1, expires: 10_000_000_000 }), { reply: 'pull.reply' });
      await nc.flush();
      await eventually(async () => ((await jsm.consumers.info('S', 'D')).num_waiting === 1 ? true : undefined), 'the pull waiting');
      expect(await jsm.consumers.delete('S', 'D')).toBe(true);
      for await (const m of inbox) {
        expect(m.headers?.code).toBe(409);
        expect(m.headers?.description).toBe('Consumer Deleted');
        break;
      }
      await expect(jsm.consumers.info('S', 'D')).rejects.toThrow(/consumer not found/);
      const dirs = cluster.servers.map((s) => join(s.jetstream.storeDir!, 'jetstream', '$SYS', '_js_'));
      await eventually(() => dirs.every((d) => !existsSync(join(d, group))) || undefined, 'the group directories removed');
      expect(dirs.every((d) => readdirSync(d).length > 0)).toBe(true);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('a stream deleted while a member was down: the member removes its consumer groups\' logs too', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
      const group = (await jsm.consumers.info('S', 'D')).cluster!.raft_group!;
      const sl = await cluster.streamLeader('S');
      const down = [0, 1, 2].find((i) => i !== sl)!;
      const dir = join(cluster.servers[down]!.jetstream.storeDir!, 'jetstream', '$SYS', '_js_');
      await eventually(() => existsSync(join(dir, group)) || undefined, 'the group\'s log on the member');
      await cluster.kill(down);
      await eventually(async () => (await jsm.streams.delete('S').catch(() => false)) || undefined, 'the stream deleted', 10_000);
      await cluster.restart(down);
      await eventually(() => (!existsSync(join(dir, group)) && readdirSync(dir).every((n) => !n.startsWith('S-'))) || undefined, 'the logs removed', 10_000);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('the stream scaled R3 → R1 and back: the consumer\'s group follows its voters and keeps serving from its state', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 5_000_000_000 });
      for (let i = 1; i <= 6; i++) await publishRetrying(nc, 's.a', `m${i}`);
      expect(await consume(nc, 'S', 'D', 2)).toEqual([1, 2]);
      await consumerAwayFromStream(cluster, nc, 'S', 'D');
      const si = await jsm.streams.update('S', { subjects: ['s.>'], num_replicas: 1 });
      expect(si.config.num_replicas).toBe(1);
      // Two members leave the stream (and the consumer's group) one at a time: the group keeps
      // its quorum all along, and ends on the stream's one member.
      const streamLeader = (await jsm.streams.info('S')).cluster?.leader;
      const one = await eventually(async () => {
        const i = await jsm.consumers.info('S', 'D').catch(() => null);
        return i !== null && i.cluster?.replicas === undefined && i.cluster?.leader === streamLeader ? i : undefined;
      }, 'the consumer on the stream\'s one member', 20_000);
      // The other members let the consumer's group go (no member left to lead it there).
      await eventually(() => cluster.servers.every((s) => s.info.server_name === streamLeader || s.jetstreamConsumerLeader('S', 'D') === null) || undefined, 'the group gone elsewhere', 20_000);
      expect(one.ack_floor.stream_seq).toBe(2);
      expect(await consume(nc, 'S', 'D', 2)).toEqual([3, 4]);
      await jsm.streams.update('S', { subjects: ['s.>'], num_replicas: 3 });
      await eventually(async () => {
        const i = await jsm.consumers.info('S', 'D').catch(() => null);
        return i?.cluster?.replicas?.length === 2 && i.cluster.replicas.every((r) => r.current) ? true : undefined;
      }, 'the consumer on three members again', 20_000);
      // Its new members lead it with the same state.
      await consumerAwayFromStream(cluster, nc, 'S', 'D');
      expect(await consume(nc, 'S', 'D', 2)).toEqual([5, 6]);
      expect(cluster.servers.map((s) => s.stats().internalErrors)).toEqual([0, 0, 0]);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 90_000);

  it('a create is answered and advised once, whatever leader changes follow', async () => {
    const { cluster, nc } = await setUpStream();
    try {
      let answers = 0;
      let advisories = 0;
      nc.subscribe('create.answers', { callback: () => void answers++ });
      nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.CREATED.S.D', { callback: () => void advisories++ });
      await nc.flush();
      await sleep(100);
      nc.publish('$JS.API.CONSUMER.DURABLE.CREATE.S.D', JSON.stringify({ stream_name: 'S', config: { durable_name: 'D', ack_policy: 'explicit' } }), { reply: 'create.answers' });
      await eventually(() => answers === 1 || undefined, 'the create answer');
      const seen = new Set<number>();
      for (let i = 0; i < 15 && seen.size < 3; i++) {
        seen.add(await cluster.consumerLeader('S', 'D'));
        await nc.request('$JS.API.CONSUMER.LEADER.STEPDOWN.S.D', '', { timeout: 2000 }).catch(() => undefined);
        await sleep(150);
      }
      expect(seen.size).toBe(3);
      expect({ answers, advisories }).toEqual({ answers: 1, advisories: 1 });
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('stepdown: 10008 from a member while the group has no leader, 10003 with a body; on an R1 stream a no-op success', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
      const bad = await nc.request('$JS.API.CONSUMER.LEADER.STEPDOWN.S.D', '{"x":1}', { timeout: 2000 });
      expect(bad.json()).toEqual({ type: 'io.nats.jetstream.api.v1.consumer_leader_stepdown_response', error: { code: 400, err_code: 10003, description: 'bad request' } });
      await jsm.streams.add({ name: 'ONE', subjects: ['one'], num_replicas: 1 });
      await jsm.consumers.add('ONE', { durable_name: 'D1', ack_policy: AckPolicy.Explicit });
      const leader1 = await cluster.consumerLeader('ONE', 'D1');
      const ok = await nc.request('$JS.API.CONSUMER.LEADER.STEPDOWN.ONE.D1', '', { timeout: 2000 });
      expect(ok.json()).toEqual({ type: 'io.nats.jetstream.api.v1.consumer_leader_stepdown_response', success: true });
      // Still there at once (nats-server runs no Raft node for it).
      expect((await jsm.consumers.info('ONE', 'D1')).name).toBe('D1');
      expect(await cluster.consumerLeader('ONE', 'D1')).toBe(leader1);
      const cl = await cluster.consumerLeader('S', 'D');
      const others = [0, 1, 2].filter((i) => i !== cl);
      await cluster.kill(cl);
      await cluster.kill(others[0]!);
      const one = await connect({ servers: cluster.urls[others[1]!], reconnect: false });
      try {
        const info = await eventually(async () => {
          const r = await one.request('$JS.API.CONSUMER.INFO.S.D', '', { timeout: 1000 }).catch(() => null);
          return r?.string().includes('10008') ? r.json() : undefined;
        }, 'consumer info 10008', 10_000);
        expect(info).toEqual({ type: 'io.nats.jetstream.api.v1.consumer_info_response', error: { code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' } });
        const sd = await one.request('$JS.API.CONSUMER.LEADER.STEPDOWN.S.D', '', { timeout: 2000 });
        expect(sd.json()).toEqual({ type: 'io.nats.jetstream.api.v1.consumer_leader_stepdown_response', error: { code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' } });
      } finally {
        await one.close();
      }
    } finally {
      await nc.close().catch(() => undefined);
      await cluster.close();
    }
  }, 60_000);

  it('a limits stream changed to interest: its durable stays where it runs, acked messages go, none needed is lost', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      await jsm.consumers.add('S', { durable_name: 'G', ack_policy: AckPolicy.Explicit });
      for (let i = 1; i <= 5; i++) await publishRetrying(nc, 's.a', `m${i}`);
      const { sl, cl } = await consumerAwayFromStream(cluster, nc, 'S', 'G');
      // Acked before the change: with limits retention, nothing goes.
      expect(await consume(nc, 'S', 'G', 2)).toEqual([1, 2]);
      const si = await jsm.streams.info('S');
      await jsm.streams.update('S', { ...si.config, retention: RetentionPolicy.Interest } as never);
      // The change re-acks what G had acked (checkInterestState), on the stream's leader.
      await eventually(async () => ((await jsm.streams.info('S')).state.messages === 3 ? true : undefined), 'the acked messages removed', 10_000);
      // Another consumer created and deleted after the change keeps what G needs.
      await jsm.consumers.add('S', { durable_name: 'X', ack_policy: AckPolicy.Explicit });
      await jsm.consumers.delete('S', 'X');
      expect((await jsm.consumers.info('S', 'G')).num_pending).toBe(3);
      expect((await jsm.streams.info('S')).state.messages).toBe(3);
      expect(await consume(nc, 'S', 'G', 1)).toEqual([3]);
      await eventually(async () => ((await jsm.streams.info('S')).state.messages === 2 ? true : undefined), 'the acked message removed', 10_000);
      expect((await jsm.streams.info('S')).state.first_seq).toBe(4);
      // G stayed on its own leader, off the stream's.
      expect(await cluster.consumerLeader('S', 'G')).toBe(cl);
      expect(await cluster.streamLeader('S')).toBe(sl);
      expect(cluster.servers.map((s) => s.stats().internalErrors)).toEqual([0, 0, 0]);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it('a member that misses many state changes catches up from the consumer group\'s snapshot', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 5_000_000_000 });
      const sl = await cluster.streamLeader('S');
      const cl = await cluster.consumerLeader('S', 'D');
      const down = [0, 1, 2].find((i) => i !== sl && i !== cl)!;
      await cluster.kill(down);
      // More than a consumer group's compaction threshold (1,024 state entries), one ack each.
      const n = 1_300;
      // (The client may have been on the killed member: publishes retry across its reconnect.)
      for (let i = 0; i < n; i++) await publishRetrying(nc, 's.a', `m${i}`);
      const got = await consume(nc, 'S', 'D', n);
      expect(got.length).toBe(n);
      await cluster.restart(down);
      // The member leads the consumer next: its state is the snapshot's and the log's after it.
      await eventually(async () => {
        const i = await jsm.consumers.info('S', 'D').catch(() => null);
        return i?.cluster?.replicas?.every((r) => r.current) === true ? true : undefined;
      }, 'the member current', 15_000);
      for (let i = 0; i < 30 && (await cluster.consumerLeader('S', 'D')) !== down; i++) {
        await nc.request('$JS.API.CONSUMER.LEADER.STEPDOWN.S.D', '', { timeout: 2000 }).catch(() => undefined);
        await sleep(150);
      }
      expect(await cluster.consumerLeader('S', 'D')).toBe(down);
      const info = await eventually(async () => (await jsm.consumers.info('S', 'D').catch(() => null)) ?? undefined, 'consumer info');
      expect(info.ack_floor.stream_seq).toBe(n);
      expect(info.delivered.stream_seq).toBe(n);
      expect(info.num_pending).toBe(0);
      expect(cluster.servers.map((s) => s.stats().internalErrors)).toEqual([0, 0, 0]);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 120_000);

  it('num_replicas 1 on an R3 stream: one member runs it; its server down, the meta leader answers 10119; restarted, it resumes', async () => {
    const { cluster, nc, jsm } = await setUpStream();
    try {
      const sl = await cluster.streamLeader('S');
      const ci = await jsm.consumers.add('S', { durable_name: 'ONE', ack_policy: AckPolicy.Explicit, num_replicas: 1, ack_wait: 30_000_000_000 });
      // nats-server runs no Raft node for an R1 consumer: its cluster block names its server only.
      expect(ci.cluster?.replicas).toBeUndefined();
      const host = cluster.servers.findIndex((s) => s.info.server_name === ci.cluster?.leader);
      expect(host).toBe(sl);
      for (let i = 1; i <= 4; i++) await publishRetrying(nc, 's.a', `m${i}`);
      expect(await consume(nc, 'S', 'ONE', 2)).toEqual([1, 2]);
      // A stepdown of a group of one succeeds and leaves it where it is.
      const r = await nc.request('$JS.API.CONSUMER.LEADER.STEPDOWN.S.ONE', '', { timeout: 2000 });
      expect(r.json()).toMatchObject({ success: true });
      const sd = await jsm.consumers.info('S', 'ONE');
      expect(sd.cluster?.leader).toBe(cluster.servers[host]!.info.server_name);
      // An R2 consumer of the same stream: two voters.
      const two = await jsm.consumers.add('S', { durable_name: 'TWO', ack_policy: AckPolicy.Explicit, num_replicas: 2 });
      expect(two.cluster?.raft_group).toMatch(/^C-R2F-/);
      await eventually(async () => ((await jsm.consumers.info('S', 'TWO')).cluster?.replicas?.length === 1 ? true : undefined), 'TWO with one follower', 10_000);
      await cluster.kill(host);
      // Only its server had it: no member answers; the meta leader says it is offline.
      const err = await eventually(async () => {
        const r = await nc.request('$JS.API.CONSUMER.INFO.S.ONE', '', { timeout: 3000 }).catch(() => null);
        const e = r === null ? undefined : (r.json() as { error?: { err_code?: number; code?: number; description?: string } }).error;
        return e?.err_code === 10119 ? e : undefined;
      }, '10119 from the meta leader', 20_000);
      expect(err).toMatchObject({ code: 500, err_code: 10119, description: 'consumer is offline' });
      await cluster.restart(host);
      const back = await eventually(async () => {
        const i = await jsm.consumers.info('S', 'ONE').catch(() => null);
        return i !== null && i.cluster?.leader === cluster.servers[host]!.info.server_name ? i : undefined;
      }, 'ONE back on its server', 20_000);
      expect(back.ack_floor.stream_seq).toBe(2);
      expect(await consume(nc, 'S', 'ONE', 2)).toEqual([3, 4]);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 90_000);
});
