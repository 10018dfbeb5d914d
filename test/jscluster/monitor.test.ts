/**
 * Clustered JetStream on the monitor: `/jsz` (`meta_cluster`, `leader-only`, `ha_assets`, each
 * stream's `cluster` block, `stream-leader-only`, `raft`), `/varz`'s `jetstream.meta` and the
 * clustered checks of `/healthz`, on an embedded 3-member cluster, as nats-server 2.10.29 answers
 * (server/monitor.go `Jsz`, `updateJszVarz`, `healthz`; jetstream_cluster.go `clusterInfo`). The
 * shapes and texts were also read off a real 2.9.10 cluster; where 2.9 differs (no
 * `meta_cluster.pending`, no `raft_group`, no `stream_raft_group`, no `details`, "is not current"
 * without its reason) 2.10 is followed. test/conformance/jsz-cluster-fields.test.ts compares the
 * field names with a real cluster.
 */
import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsCluster } from '../../src/index.js';
import { peerId, type RaftGroup } from '../../src/jetstream/cluster/nrg.js';
import { groupHealthy } from '../../src/monitor/jsz-cluster.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { monitorGet, monitorJson as json, type Json } from '../helpers/monitor.js';
import { connect } from '@nats-io/transport-node';

/** A monitoring reply as these tests compare it: status and body. */
const get = async (base: string, path: string): Promise<{ status: number; text: string }> => {
  const { status, text } = await monitorGet(base, path);
  return { status, text };
};

const scope = useScope();

const bases = (c: NatsCluster): string[] => c.servers.map((s) => s.monitorUrl!);
const names = (c: NatsCluster): string[] => c.servers.map((s) => s.info.server_name);

/** The stream details of the `$G` account in a /jsz document. */
function streamDetails(doc: Json): Json[] {
  const accounts = (doc.account_details ?? []) as Json[];
  const g = accounts.find((a) => a.name === '$G');
  return (g?.stream_detail ?? []) as Json[];
}

async function cluster(): Promise<NatsCluster> {
  return scope.cluster({ size: 3, jetstream: true, http: -1 });
}

describe('clustered JetStream on the monitor', () => {
  it('/jsz meta_cluster and leader-only, /varz jetstream.meta', async () => {
    const c = await cluster();
    const leader = c.servers[0]!.jetstreamMetaLeader()!;
    const li = names(c).indexOf(leader);
    expect(li).toBeGreaterThanOrEqual(0);
    // The leader's view of its followers is filled by their acks: wait for both.
    await eventually(async () => {
      const meta = (await json(bases(c)[li]!, '/jsz')).meta_cluster as Json;
      return ((meta.replicas ?? []) as Json[]).every((r) => r.current === true) && (meta.replicas as Json[]).length === 2;
    }, 'the meta leader sees both followers current');

    for (const [i, base] of bases(c).entries()) {
      const doc = await json(base, '/jsz');
      // JSInfo's order: meta_cluster after bytes, before account_details and total.
      const keys = Object.keys(doc);
      expect(keys.slice(keys.indexOf('bytes'))).toEqual(['bytes', 'meta_cluster', 'total']);
      expect(doc.ha_assets, 'the meta group').toBe(1);
      const meta = doc.meta_cluster as Json;
      if (i === li) {
        const others = names(c).filter((n) => n !== leader).sort();
        expect(Object.keys(meta)).toEqual(['name', 'leader', 'peer', 'replicas', 'cluster_size', 'pending']);
        const replicas = meta.replicas as Json[];
        expect(replicas.map((r) => r.name)).toEqual(others);
        for (const r of replicas) {
          // PeerInfo: name, current, (offline), active ns, (lag), peer.
          expect(Object.keys(r)).toEqual(['name', 'current', 'active', 'peer']);
          expect(r.peer).toBe(peerId(r.name as string));
          expect(Number.isInteger(r.active) && (r.active as number) >= 0).toBe(true);
        }
      } else {
        // Only the leader lists the replicas.
        expect(Object.keys(meta)).toEqual(['name', 'leader', 'peer', 'cluster_size', 'pending']);
      }
      expect(meta.name).toBe(c.clusterName);
      expect(meta.leader).toBe(leader);
      expect(meta.peer).toBe(peerId(leader));
      expect(meta.cluster_size).toBe(3);
      expect(meta.pending).toBe(0);

      const only = await get(base, '/jsz?leader-only=true');
      if (i === li) {
        expect(only.status).toBe(200);
        expect((JSON.parse(only.text) as Json).server_id).toBe(c.servers[i]!.info.server_id);
      } else {
        expect(only).toEqual({ status: 400, text: 'filtered response: not leader' });
      }

      // /varz: the same MetaClusterInfo, replicas on the leader only.
      const js = (await json(base, '/varz')).jetstream as Json;
      expect(Object.keys(js)).toEqual(['config', 'stats', 'meta']);
      const vmeta = js.meta as Json;
      expect({ ...vmeta, replicas: undefined }).toEqual({ ...meta, replicas: undefined });
      expect(vmeta.replicas === undefined).toBe(i !== li);
      expect((js.stats as Json).ha_assets).toBe(1);
    }
  });

  it('/jsz stream details: the group cluster block, raft, stream-leader-only, ha_assets', async () => {
    const c = await cluster();
    const nc = await scope.client(c.urls);
    const jsm = await jetstreamManager(nc);
    const si = await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
    await jsm.streams.add({ name: 'R1', subjects: ['r1.>'], num_replicas: 1 });
    await jsm.consumers.add('R3', { durable_name: 'D', ack_policy: 'explicit' as never });
    // An R1 consumer of an R3 stream: no group in nats-server, so no HA asset.
    await jsm.consumers.add('R3', { durable_name: 'ONE', ack_policy: 'explicit' as never, num_replicas: 1 });
    const sl = await c.streamLeader('R3');
    const streamLeader = names(c)[sl]!;
    expect(si.cluster?.leader).toBe(streamLeader);

    // Every member: the meta group, the R3 stream's group and its durable consumer D (the R1
    // stream and the R1 consumer have no group in nats-server, so they are not HA assets).
    await eventually(async () => {
      for (const base of bases(c)) if ((await json(base, '/jsz')).ha_assets !== 3) return false;
      return true;
    }, 'ha_assets 3 on every member');

    // STREAM.INFO through the stream leader's view, to compare with its /jsz.
    const info = await jsm.streams.info('R3');
    for (const [i, base] of bases(c).entries()) {
      const doc = await json(base, '/jsz?streams=true&raft=true');
      const r3 = streamDetails(doc).find((s) => s.name === 'R3');
      expect(r3, `R3 on ${names(c)[i]}`).toBeDefined();
      const cl = r3!.cluster as Json;
      expect(cl.name).toBe(c.clusterName);
      expect(cl.leader).toBe(streamLeader);
      // 2.10.29: the group's name in the cluster block and, with raft=true, stream_raft_group.
      expect(typeof cl.raft_group).toBe('string');
      expect(r3!.stream_raft_group).toBe(cl.raft_group);
      for (const r of (cl.replicas ?? []) as Json[]) expect(r.peer).toBe(peerId(r.name as string));
      expect(Object.keys(r3!)).toEqual(['name', 'created', 'cluster', 'state', 'stream_raft_group']);
      if (i === sl) {
        // The leader's block is STREAM.INFO's (less the moving `active`).
        const strip = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v: unknown) => (k === 'active' ? undefined : v)));
        expect(strip(cl)).toEqual(strip(info.cluster));
      }
      // Without raft=true, no stream_raft_group.
      const plain = streamDetails(await json(base, '/jsz?streams=true')).find((s) => s.name === 'R3')!;
      expect(plain.stream_raft_group).toBeUndefined();
      // stream-leader-only: only the stream leader lists R3.
      const leaderOnly = streamDetails(await json(base, '/jsz?streams=true&stream-leader-only=true')).map((s) => s.name);
      expect(leaderOnly.includes('R3')).toBe(i === sl);
    }
  });

  it('/healthz: ok with a meta leader; account, stream and consumer not found', async () => {
    const c = await cluster();
    const nc = await scope.client(c.urls);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
    await jsm.consumers.add('R3', { durable_name: 'D', ack_policy: 'explicit' as never });
    for (const base of bases(c)) {
      for (const q of ['', '?js-enabled-only=true', '?js-server-only=true', '?account=$G', '?account=$G&stream=R3', '?account=$G&stream=R3&consumer=D']) {
        await eventually(async () => {
          const r = await get(base, `/healthz${q}`);
          return r.status === 200 && r.text === '{"status":"ok"}';
        }, `/healthz${q} ok on ${base}`);
      }
      expect(await get(base, '/healthz?details=true')).toEqual({ status: 200, text: '{"status":"ok"}' });
      expect(await get(base, '/healthz?account=NOPE')).toEqual({
        status: 404, text: '{"status":"unavailable","error":"JetStream account \\"NOPE\\" not found"}',
      });
      expect(await get(base, '/healthz?account=$G&stream=NOPE')).toEqual({
        status: 404, text: '{"status":"unavailable","error":"JetStream stream \\"NOPE\\" not found on account \\"$G\\""}',
      });
      expect(await get(base, '/healthz?account=$G&stream=R3&consumer=NOPE')).toEqual({
        status: 404, text: '{"status":"unavailable","error":"JetStream consumer \\"NOPE\\" not found for stream \\"R3\\" on account \\"$G\\""}',
      });
      expect(await get(base, '/healthz?account=$G&stream=R3&consumer=NOPE&details=true')).toEqual({
        status: 404,
        text: '{"status":"error","errors":[{"type":"CONSUMER","account":"$G","stream":"R3","consumer":"NOPE","error":"JetStream consumer \\"NOPE\\" not found for stream \\"R3\\" on account \\"$G\\""}]}',
      });
    }
  });

  it('/healthz: a stream whose group lost its quorum is still healthy (2.10)', async () => {
    const c = await cluster();
    const nc = await scope.client(c.urls);
    const jsm = await jetstreamManager(nc);
    // An R2 stream: cut one of its two members off with the third server, which keeps the meta
    // group's quorum (2 of 3) but leaves the stream's group without one (1 of 2).
    const si = await jsm.streams.add({ name: 'R2', subjects: ['r2.>'], num_replicas: 2 });
    const members = [si.cluster!.leader!, ...(si.cluster!.replicas ?? []).map((r) => r.name)];
    expect(members).toHaveLength(2);
    const all = names(c);
    const kept = all.indexOf(members[0]!);
    const cut = all.indexOf(members[1]!);
    const other = all.findIndex((n) => !members.includes(n));
    // Both replicas healthy first: the group has committed its first entry on each (a group
    // that never committed is "group node unhealthy" in nats-server too).
    for (const i of [kept, cut]) {
      await eventually(async () => (await get(bases(c)[i]!, '/healthz')).status === 200, `R2 healthy on ${all[i]}`, 10_000);
    }
    await c.partition([kept, other], [cut]);
    const base = bases(c)[kept]!;
    // The kept replica loses its leader: its group steps down (or campaigns in vain).
    await eventually(async () => {
      const r3 = streamDetails(await json(base, '/jsz?streams=true')).find((s) => s.name === 'R2');
      return r3 !== undefined && (r3.cluster as Json).leader === undefined;
    }, 'R2 leaderless on the kept replica', 10_000);
    await eventually(async () => (await get(base, '/healthz')).status === 200, 'a meta leader on the majority side', 10_000);
    // 2.10.29's Healthy() (raft.go isCurrent): a replica without a leader that has applied every
    // committed entry is healthy. 2.9.10 answered 503 "JetStream stream '$G > R2' is not current"
    // here (read off a real 2.9.10 cluster): 2.10 is followed.
    for (const q of ['', '?account=$G&stream=R2', '?details=true', '?js-server-only=true']) {
      expect(await get(base, `/healthz${q}`), q).toEqual({ status: 200, text: '{"status":"ok"}' });
    }
    // The cut member has no meta leader.
    expect(await get(bases(c)[cut]!, '/healthz')).toEqual({
      status: 503, text: '{"status":"unavailable","error":"JetStream has not established contact with a meta leader"}',
    });
  });

  it('/healthz and /jsz without a meta leader', async () => {
    const c = await cluster();
    const base = bases(c)[2]!;
    await c.kill(0);
    await c.kill(1);
    const noLeader = '{"status":"unavailable","error":"JetStream has not established contact with a meta leader"}';
    // The survivor loses its leader (or steps down) once it hears from no quorum.
    await eventually(async () => (await get(base, '/healthz')).text === noLeader, 'no meta leader on the survivor', 10_000);
    expect(await get(base, '/healthz')).toEqual({ status: 503, text: noLeader });
    expect(await get(base, '/healthz?js-server-only=true')).toEqual({ status: 503, text: noLeader });
    expect(await get(base, '/healthz?details=true')).toEqual({
      status: 503, text: '{"status":"error","errors":[{"type":"JETSTREAM","error":"JetStream has not established contact with a meta leader"}]}',
    });
    expect(await get(base, '/healthz?js-enabled-only=true')).toEqual({ status: 200, text: '{"status":"ok"}' });
    // nats-server writes getHash("") as the peer of no leader (2.9.10: "fqA4S4SK").
    expect((await json(base, '/jsz')).meta_cluster).toEqual({ name: c.clusterName, peer: 'fqA4S4SK', cluster_size: 3, pending: 0 });
    expect(await get(base, '/jsz?leader-only=true')).toEqual({ status: 400, text: 'filtered response: not leader' });
  });
});

describe('$SYS.REQ.SERVER.PING.RAFTZ (nats-server 2.10.x Raftz)', () => {
  it('lists each server\'s Raft groups under the system account, one answer per server', async () => {
    const c = await scope.cluster({ size: 3, jetstream: true, accounts: { SYS: { users: [{ user: 'sys', password: 'p' }] } }, systemAccount: 'SYS' });
    await eventually(() => c.servers.every((s) => s.jetstreamMetaLeader() !== null), 'a meta leader');
    const nc = await connect({ servers: c.servers[0]!.url, user: 'sys', pass: 'p' });
    scope.defer(() => nc.close());
    const answers: Json[] = [];
    const inbox = 'raftz.replies';
    nc.subscribe(inbox, { callback: (_e, m) => void answers.push(m.json<Json>()) });
    await nc.flush();
    await eventually(async () => {
      answers.length = 0;
      nc.publish('$SYS.REQ.SERVER.PING.RAFTZ', '', { reply: inbox });
      await new Promise((r) => setTimeout(r, 100));
      return answers.length === 3 && answers.every((a) => Object.keys((a.data as Json).SYS as Json ?? {}).includes('_meta_'));
    }, 'three RAFTZ answers with the meta group');
    const leader = c.servers[0]!.jetstreamMetaLeader()!;
    const states = answers.map((a) => ((a.data as Json).SYS as Json)._meta_ as Json);
    expect(states.map((g) => g.state).sort()).toEqual(['FOLLOWER', 'FOLLOWER', 'LEADER']);
    for (const g of states) {
      expect(g).toMatchObject({ size: 3, quorum_needed: 2, ever_had_leader: true, leader: peerId(leader) });
      expect(Object.keys(g.peers as Json)).toHaveLength(2);
    }
    // Another account has no Raft group: `{}`.
    expect((await nc.request(`$SYS.REQ.SERVER.${c.servers[0]!.id}.RAFTZ`, JSON.stringify({ account: 'APP' }))).json<Json>().data).toEqual({});
  });
});

describe('peerId', () => {
  it("is nats-server's getHash (values read off a real 2.9.10 cluster)", () => {
    expect(['', 'n1', 'n2', 'n3'].map(peerId)).toEqual(['fqA4S4SK', 'fjFyEjc1', '44jzkV9D', 'BXScrY9i']);
  });
});

describe('groupHealthy', () => {
  /** A group as groupHealthy reads it. */
  const group = (isLeader: boolean, leader: string | null, commitIndex: number, applied: number): RaftGroup =>
    ({ isLeader, leader, node: { status: { commitIndex, applied } } }) as unknown as RaftGroup;

  it("is 2.10.29's raft.go isCurrent(true): something committed, then the leader, or every commit applied", () => {
    expect(groupHealthy(group(true, 'a', 0, 0)), 'nothing committed yet').toBe(false);
    expect(groupHealthy(group(false, 'a', 0, 0)), 'nothing committed yet (follower)').toBe(false);
    expect(groupHealthy(group(true, 'a', 3, 2)), 'the leader').toBe(true);
    expect(groupHealthy(group(false, 'a', 3, 3)), 'a follower, all applied').toBe(true);
    expect(groupHealthy(group(false, 'a', 3, 2)), 'a follower behind').toBe(false);
    // 2.10 clears the leader of a candidate and still counts it current (2.9.10 did not).
    expect(groupHealthy(group(false, null, 3, 3)), 'no leader, all applied').toBe(true);
    expect(groupHealthy(group(false, null, 3, 1)), 'no leader, behind').toBe(false);
  });
});
