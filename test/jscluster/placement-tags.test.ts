/**
 * Stream placement by server tags in a cluster, as nats-server's selectPeerGroup places:
 * `placement.tags` (every tag, compared in lower case), `jetstream.uniqueTag` (one replica per
 * tag value with the prefix, unless the stream names such a tag), the `!jetstream` tag, tags
 * changed by a reload, a move by a new placement, and PEER.REMOVE's replacement keeping to the
 * stream's tags. The same answers from real servers: test/conformance/jetstream-cluster-tags.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager, type Placement } from '@nats-io/jetstream';
import { createCluster, type NatsCluster } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';

let cluster: NatsCluster;
let nc: NatsConnection;
let jsm: JetStreamManager;
const name = (i: number): string => `${cluster.clusterName}-${i}`;

beforeAll(async () => {
  cluster = await createCluster({
    size: 3,
    jetstream: { uniqueTag: 'AZ:' },
    // Member 1's tags as a config might write them: case and spaces do not matter.
    memberTags: [['az:1', 'ssd'], [' AZ:2', 'SSD '], ['az:2', 'hdd']],
  });
  nc = await connect({ servers: cluster.urls[0] });
  // Short request timeouts: a request that lands while a moved stream changes leader goes
  // unanswered (as with nats-server), and the polls below ask again.
  jsm = await jetstreamManager(nc, { timeout: 1000 });
}, 30_000);

afterAll(async () => {
  await nc?.close();
  await cluster?.close();
});

/** `placement.tags` alone (nats.js types `cluster` as required; nats-server does not). */
function tagged(tags: string[]): Placement {
  return { tags } as Placement;
}

async function create(config: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await nc.request(`$JS.API.STREAM.CREATE.${String(config.name)}`, JSON.stringify(config), { timeout: 3000 });
  return r.json<Record<string, unknown>>();
}

/** The servers holding the stream, from its cluster info (leader and replicas); [] when unanswered. */
async function placedOn(stream: string): Promise<string[]> {
  const si = await jsm.streams.info(stream).catch(() => null);
  if (si === null) return [];
  return [si.cluster?.leader ?? '', ...(si.cluster?.replicas ?? []).map((r) => r.name)].filter((n) => n !== '').sort();
}

describe('clustered JetStream: placement by server tags', () => {
  it('places on the servers holding every tag asked for, whatever its case', async () => {
    await jsm.streams.add({ name: 'HDD', subjects: ['hdd'], placement: tagged(['hdd']) });
    expect(await placedOn('HDD')).toEqual([name(2)]);
    await jsm.streams.add({ name: 'SSD', subjects: ['ssd'], num_replicas: 2, placement: tagged(['SSD']) });
    expect(await placedOn('SSD')).toEqual([name(0), name(1)]);
    expect((await create({ name: 'NONE', subjects: ['none'], placement: { tags: ['nvme'] } })).error)
      .toEqual({ code: 400, err_code: 10005, description: "no suitable peers for placement, tags not matched ['nvme']" });
    // Each server lacks one of them: both are named (in no fixed order, as nats-server's map).
    const both = (await create({ name: 'BOTH', subjects: ['both'], placement: { tags: ['ssd', 'hdd'] } })).error as { description: string };
    expect([
      "no suitable peers for placement, tags not matched ['hdd', 'ssd']",
      "no suitable peers for placement, tags not matched ['ssd', 'hdd']",
    ]).toContain(both.description);
  });

  it('unique_tag: one replica per zone; a stream naming a zone turns the check off', async () => {
    // Two zones among three servers.
    expect((await create({ name: 'U3', subjects: ['u3'], num_replicas: 3 })).error)
      .toEqual({ code: 400, err_code: 10005, description: 'no suitable peers for placement, server tag not unique' });
    await jsm.streams.add({ name: 'U2', subjects: ['u2'], num_replicas: 2 });
    const u2 = await placedOn('U2');
    expect(u2).toContain(name(0));
    expect(u2.filter((n) => n === name(1) || n === name(2))).toHaveLength(1);
    await jsm.streams.add({ name: 'Z2', subjects: ['z2'], num_replicas: 2, placement: tagged(['az:2']) });
    expect(await placedOn('Z2')).toEqual([name(1), name(2)]);
  });

  it('a new placement moves the stream with its messages; a move and a scale at once are refused', async () => {
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++) await js.publish('hdd', `m${i}`);
    const refused = await nc.request('$JS.API.STREAM.UPDATE.HDD', JSON.stringify({ name: 'HDD', subjects: ['hdd'], num_replicas: 2, placement: { tags: ['ssd'] } }), { timeout: 3000 });
    expect(refused.json<Record<string, unknown>>().error).toEqual({ code: 400, err_code: 10123, description: 'can not move and scale a stream in a single update' });
    const nowhere = await nc.request('$JS.API.STREAM.UPDATE.HDD', JSON.stringify({ name: 'HDD', subjects: ['hdd'], placement: { tags: ['nvme'] } }), { timeout: 3000 });
    expect(nowhere.json<Record<string, unknown>>().error).toEqual({ code: 400, err_code: 10005, description: "no suitable peers for placement, tags not matched ['nvme']" });

    const up = await jsm.streams.update('HDD', { placement: tagged(['ssd']) });
    expect(up.config.placement?.tags).toEqual(['ssd']);
    const moved = await eventually(async () => {
      const on = await placedOn('HDD');
      return on.length === 1 && on[0] !== name(2) ? on[0] : undefined;
    }, 'the stream on an ssd server', 10_000);
    expect([name(0), name(1)]).toContain(moved);
    const st = (await jsm.streams.info('HDD')).state;
    expect([st.messages, st.first_seq, st.last_seq]).toEqual([5, 1, 5]);
    expect((await jsm.streams.getMessage('HDD', { seq: 3 }))!.string()).toBe('m2');
    // A placement the servers already meet moves nothing.
    await jsm.streams.update('SSD', { placement: { tags: ['SSD'], cluster: cluster.clusterName } });
    expect(await placedOn('SSD')).toEqual([name(0), name(1)]);
  });

  it('PEER.REMOVE replaces a peer only with a server holding the tags', async () => {
    await jsm.streams.add({ name: 'PR', subjects: ['pr'], num_replicas: 2, placement: tagged(['az:2']) });
    const r = await nc.request('$JS.API.STREAM.PEER.REMOVE.PR', JSON.stringify({ peer: name(1) }), { timeout: 3000 });
    // No other az:2 server: the group shrinks, as nats-server's "peer remap failed".
    expect(r.json<Record<string, unknown>>().error).toMatchObject({ code: 503, err_code: 10075 });
    await eventually(async () => ((await placedOn('PR')).join() === name(2) ? true : undefined), 'PR on member 2 alone', 10_000);
  });

  it('tags changed by a reload reach the placement; a !jetstream server gets no new replica', async () => {
    cluster.servers[2]!.reload({ serverTags: ['az:3', 'ssd'] });
    await eventually(async () => {
      const r = await create({ name: 'SSD3', subjects: ['ssd3'], num_replicas: 3, placement: { tags: ['ssd'] } });
      return r.error === undefined ? true : undefined;
    }, 'R3 on three ssd servers in three zones', 10_000);
    expect(await placedOn('SSD3')).toEqual([name(0), name(1), name(2)]);

    cluster.servers[0]!.reload({ serverTags: ['az:1', '!jetstream'] });
    const refused = await eventually(async () => {
      const r = await create({ name: 'EX3', subjects: ['ex3'], num_replicas: 3 });
      if (r.error !== undefined) return r.error;
      // Placed before the meta leader heard the new tags: again.
      await jsm.streams.delete('EX3');
      return undefined;
    }, 'the !jetstream tag heard', 10_000);
    expect(refused).toEqual({ code: 400, err_code: 10005, description: 'no suitable peers for placement, exclude tag set' });
    await jsm.streams.add({ name: 'EX2', subjects: ['ex2'], num_replicas: 2 });
    expect(await placedOn('EX2')).toEqual([name(1), name(2)]);
  });
});
