/**
 * Clustered JetStream's API as clients see it, from any member: the meta leader's answers
 * (account info, stream names and list, create, update, delete) and the stream leader's (info,
 * purge, message get and delete, stepdowns), KV on an R3 bucket, and the cluster restarted
 * from its logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { createCluster, type NatsCluster } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';

let cluster: NatsCluster;
const conns: NatsConnection[] = [];
const jsms: JetStreamManager[] = [];

beforeAll(async () => {
  cluster = await createCluster({ size: 3, jetstream: true });
  for (const url of cluster.urls) {
    const nc = await connect({ servers: url });
    conns.push(nc);
    jsms.push(await jetstreamManager(nc));
  }
}, 30_000);

afterAll(async () => {
  for (const nc of conns) await nc.close();
  await cluster?.close();
});

describe('clustered JetStream API', () => {
  it('streams of every replica count are visible from every member', async () => {
    const r1 = await jsms[0]!.streams.add({ name: 'A1', subjects: ['a1.>'], num_replicas: 1 });
    expect(r1.config.num_replicas).toBe(1);
    expect(r1.cluster?.replicas ?? []).toEqual([]);
    await jsms[1]!.streams.add({ name: 'A3', subjects: ['a3.>'], num_replicas: 3, storage: 'memory' as never });
    for (const jsm of jsms) {
      const names: string[] = [];
      for await (const n of jsm.streams.names()) names.push(n);
      expect(names.sort()).toEqual(['A1', 'A3']);
      const info = await jsm.getAccountInfo();
      expect(info.streams).toBe(2);
      const listed: string[] = [];
      for await (const si of jsm.streams.list()) listed.push(`${si.config.name}:${si.cluster?.leader !== undefined}`);
      expect(listed.sort()).toEqual(['A1:true', 'A3:true']);
      const si = await jsm.streams.info('A1');
      expect(si.cluster?.name).toBe(cluster.clusterName);
    }
  });

  it('R5 on three members is refused; an identical create answers with the stream', async () => {
    await expect(jsms[2]!.streams.add({ name: 'R5', subjects: ['r5'], num_replicas: 5 })).rejects.toThrow(/no suitable peers for placement/);
    const again = await jsms[2]!.streams.add({ name: 'A3', subjects: ['a3.>'], num_replicas: 3, storage: 'memory' as never });
    expect(again.config.name).toBe('A3');
    await expect(jsms[2]!.streams.add({ name: 'A3', subjects: ['other'], num_replicas: 3 })).rejects.toThrow(/stream name already in use/);
  });

  it('update, purge, message get and delete go through the stream leader', async () => {
    const js = jetstream(conns[0]!);
    for (let i = 0; i < 5; i++) await js.publish('a3.x', `m${i}`);
    const up = await jsms[2]!.streams.update('A3', { subjects: ['a3.>', 'more.a3'], max_msgs: 100 });
    expect(up.config.subjects).toEqual(['a3.>', 'more.a3']);
    await js.publish('more.a3', 'new subject');
    expect((await jsms[1]!.streams.getMessage('A3', { seq: 6 }))!.string()).toBe('new subject');
    expect(await jsms[0]!.streams.deleteMessage('A3', 2)).toBe(true);
    const p = await jsms[1]!.streams.purge('A3', { filter: 'a3.x', keep: 1 });
    expect(p.purged).toBe(3);
    // Every replica applied the same: after a stepdown the new leader reports it too.
    const before = await cluster.streamLeader('A3');
    await jsms[0]!.streams.get('A3');
    const r = await conns[0]!.request('$JS.API.STREAM.LEADER.STEPDOWN.A3', '', { timeout: 2000 });
    expect(r.json()).toEqual({ type: 'io.nats.jetstream.api.v1.stream_leader_stepdown_response', success: true });
    let after = before;
    for (let i = 0; i < 100 && after === before; i++) {
      await new Promise((res) => setTimeout(res, 20));
      after = await cluster.streamLeader('A3');
    }
    expect(after).not.toBe(before);
    const st = (await jsms[2]!.streams.info('A3')).state;
    expect([st.messages, st.first_seq, st.last_seq]).toEqual([2, 5, 6]);
  });

  it('placement: another cluster or server tags find no peers', async () => {
    const other = conns[0]!.request('$JS.API.STREAM.CREATE.PL', JSON.stringify({ name: 'PL', subjects: ['pl'], placement: { cluster: 'elsewhere' } }), { timeout: 2000 });
    expect((await other).json()).toMatchObject({ error: { code: 400, err_code: 10005, description: 'no suitable peers for placement' } });
    const tagged = conns[1]!.request('$JS.API.STREAM.CREATE.PL', JSON.stringify({ name: 'PL', subjects: ['pl'], placement: { tags: ['ssd'] } }), { timeout: 2000 });
    expect((await tagged).json()).toMatchObject({ error: { code: 400, err_code: 10005, description: "no suitable peers for placement, tags not matched ['ssd']" } });
    const here = await jsms[2]!.streams.add({ name: 'PL', subjects: ['pl'], placement: { cluster: cluster.clusterName, tags: [] } });
    expect(here.cluster?.name).toBe(cluster.clusterName);
    await jsms[2]!.streams.delete('PL');
  });

  it('a stepdown announces the new stream leader; a consumer stepdown moves only the consumer (a group of its own)', async () => {
    await jsms[0]!.consumers.add('A3', { durable_name: 'ADV', ack_policy: 'explicit' as never });
    const streamAdv = conns[1]!.subscribe('$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.A3', { max: 1 });
    await conns[1]!.flush();
    await conns[0]!.request('$JS.API.STREAM.LEADER.STEPDOWN.A3', '', { timeout: 2000 });
    for await (const m of streamAdv) {
      const a = m.json<Record<string, unknown>>();
      expect(a).toMatchObject({ type: 'io.nats.jetstream.advisory.v1.stream_leader_elected', account: '$G', stream: 'A3' });
      expect(cluster.servers.map((x) => x.info.server_name)).toContain(a.leader);
      expect((a.replicas as unknown[]).length).toBe(2);
    }
    // The stream's new leader is settled; the consumer's leader is its own group's.
    const streamLeader = await eventually(async () => (await jsms[0]!.streams.info('A3').catch(() => null))?.cluster?.leader, 'the stream leader');
    const before = (await jsms[0]!.consumers.info('A3', 'ADV')).cluster;
    expect(before?.raft_group).toMatch(/^C-R3[FM]-/);
    const consumerAdv = conns[1]!.subscribe('$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.A3.ADV', { max: 1 });
    await conns[1]!.flush();
    const r = await conns[2]!.request('$JS.API.CONSUMER.LEADER.STEPDOWN.A3.ADV', '', { timeout: 2000 });
    expect(r.json()).toEqual({ type: 'io.nats.jetstream.api.v1.consumer_leader_stepdown_response', success: true });
    for await (const m of consumerAdv) {
      const a = m.json<Record<string, unknown>>();
      expect(a).toMatchObject({ type: 'io.nats.jetstream.advisory.v1.consumer_leader_elected', stream: 'A3', consumer: 'ADV' });
      expect(a.leader).not.toBe(before?.leader);
    }
    const after = await eventually(async () => {
      const ci = await jsms[1]!.consumers.info('A3', 'ADV').catch(() => null);
      return ci?.cluster?.leader && ci.cluster.leader !== before?.leader ? ci.cluster : undefined;
    }, 'the consumer\'s new leader');
    expect(after.raft_group).toBe(before?.raft_group);
    expect((await jsms[0]!.streams.info('A3')).cluster?.leader).toBe(streamLeader);
  });

  it('delete from any member', async () => {
    expect(await jsms[2]!.streams.delete('A1')).toBe(true);
    await expect(jsms[0]!.streams.info('A1')).rejects.toThrow(/stream not found/);
  });

  it('KV on an R3 bucket', async () => {
    const kv = await new Kvm(conns[1]!).create('cfg', { replicas: 3, history: 5 });
    await kv.put('a', 'one');
    await kv.put('a', 'two');
    const kv2 = await new Kvm(conns[2]!).open('cfg');
    expect((await kv2.get('a'))?.string()).toBe('two');
    const h: string[] = [];
    for await (const e of await kv2.history({ key: 'a' })) h.push(e.string());
    expect(h).toEqual(['one', 'two']);
  });
});
