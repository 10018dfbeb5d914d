/**
 * Clustered JetStream on the monitor, side by side with real nats-server: the field names of
 * `/jsz`'s `meta_cluster` (and its replicas), `/varz`'s `jetstream.meta`, each stream's `cluster`
 * block, `ha_assets`, `leader-only`, `stream-leader-only` and `/healthz`'s clustered answers.
 * Deliberate differences, all 2.10.29 fields the 2.9.10 binary does not write (test/jscluster/
 * monitor.test.ts asserts them from the 2.10.29 source):
 * - `meta_cluster.pending` / `jetstream.meta.pending` (2.10 `MetaClusterInfo.Pending`);
 * - a stream's `cluster.raft_group` (2.10 `ClusterInfo.RaftGroup`);
 * - `/jsz?stream-leader-only=true` (2.10; 2.9.10 ignores it), checked on the embedded side only.
 * Run by `npm run test:conformance` (it needs the nats-server binary: NATS_SERVER_BIN).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { peerId } from '../../src/jetstream/cluster/nrg.js';
import { clusterBlock, freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { monitorGet, monitorJson as json, type Json } from '../helpers/monitor.js';

/** A monitoring reply as these tests compare it: status and body. */
const get = async (base: string, path: string): Promise<{ status: number; text: string }> => {
  const { status, text } = await monitorGet(base, path);
  return { status, text };
};

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope();

/** 2.10 fields that 2.9.10 does not write. */
const ONLY_210 = new Set(['pending', 'raft_group']);
const keys210 = (o: unknown): string[] => Object.keys(o as Json).filter((k) => !ONLY_210.has(k));
/** PeerInfo's keys less the `omitempty` ones that come and go (`offline`, `lag`). */
const peerKeys = (list: unknown): string[][] => (list as Json[]).map((r) => Object.keys(r).filter((k) => k !== 'offline' && k !== 'lag'));

interface RealMember {
  name: string;
  clientUrl: string;
  monitorUrl: string;
}

/** `size` nats-server -js members of cluster C routing to each other (plus `extraRoutes`). */
async function realCluster(prefix: string, size: number, extraRoutes: string[] = []): Promise<RealMember[]> {
  const ports = new Set<number>();
  while (ports.size < 3 * size) ports.add(await freePort());
  const all = [...ports];
  const members: RealMember[] = [];
  await Promise.all(Array.from({ length: size }, async (_, i) => {
    const [port, http, route] = [all[3 * i]!, all[3 * i + 1]!, all[3 * i + 2]!];
    const store = mkdtempSync(join(tmpdir(), `jsz-cluster-${prefix}${i}-`));
    scope.defer(() => rmSync(store, { recursive: true, force: true }));
    const routes = [...all.filter((_, j) => j % 3 === 2 && j !== 3 * i + 2).map((p) => `nats-route://127.0.0.1:${p}`), ...extraRoutes];
    const real = await startRealServer(BIN, [
      `server_name: ${prefix}${i}`,
      `listen: "127.0.0.1:${port}"`,
      `http: "127.0.0.1:${http}"`,
      `jetstream { store_dir: "${store}" }`,
      ...clusterBlock(route, routes),
    ]);
    scope.defer(() => real.stop());
    members[i] = { name: `${prefix}${i}`, clientUrl: `nats://127.0.0.1:${port}`, monitorUrl: `http://127.0.0.1:${http}` };
  }));
  return members;
}

/** The stream details of the `$G` account in a /jsz document. */
function streamDetails(doc: Json): Json[] {
  const g = ((doc.account_details ?? []) as Json[]).find((a) => a.name === '$G');
  return (g?.stream_detail ?? []) as Json[];
}

describe('clustered JetStream on the monitor, compared with nats-server', () => {
  it('no meta leader: /healthz, /jsz meta_cluster and leader-only, /varz meta', async () => {
    // A member whose only peer never comes: no meta leader, a group of 2.
    const [real] = await realCluster('lone', 1, [`nats-route://127.0.0.1:${await freePort()}`]);
    const emb = await scope.server({
      serverName: 'emb-lone', http: -1,
      jetstream: { clusterPeers: ['emb-lone', 'ghost'] },
      cluster: { name: 'C', routes: [] },
    });
    const ours = emb.monitorUrl!;
    const theirs = real!.monitorUrl;
    for (const path of ['/healthz', '/healthz?js-server-only=true', '/healthz?js-enabled-only=true', '/jsz?leader-only=true']) {
      const [a, b] = [await get(ours, path), await get(theirs, path)];
      expect(a, path).toEqual(b);
    }
    expect((await get(ours, '/healthz')).text).toBe('{"status":"unavailable","error":"JetStream has not established contact with a meta leader"}');
    const [a, b] = [await json(ours, '/jsz'), await json(theirs, '/jsz')];
    expect({ ...(a.meta_cluster as Json), pending: undefined }).toEqual({ ...(b.meta_cluster as Json), pending: undefined });
    expect(b.meta_cluster).toEqual({ name: 'C', peer: peerId(''), cluster_size: 2 });
    expect([a.ha_assets, b.ha_assets]).toEqual([1, 1]);
    const [va, vb] = [(await json(ours, '/varz')).jetstream as Json, (await json(theirs, '/varz')).jetstream as Json];
    expect(keys210(va)).toEqual(Object.keys(vb));
    expect({ ...(va.meta as Json), pending: undefined }).toEqual(vb.meta);
  });

  it('a 3-member cluster with an R3 stream', async () => {
    const [real, emb] = await Promise.all([realCluster('n', 3), scope.cluster({ size: 3, jetstream: true, http: -1, name: 'C' })]);
    const sides = {
      real: { names: real.map((m) => m.name), bases: real.map((m) => m.monitorUrl), url: real.map((m) => m.clientUrl) },
      ours: { names: emb.servers.map((s) => s.info.server_name), bases: emb.servers.map((s) => s.monitorUrl!), url: emb.urls },
    };
    type Side = typeof sides.real;
    /** The meta leader's index, once every member names it (and it sees both followers current). */
    const metaLeader = (side: Side): Promise<number> => eventually(async () => {
      const docs = await Promise.all(side.bases.map((b) => json(b, '/jsz')));
      const leaders = new Set(docs.map((d) => (d.meta_cluster as Json).leader));
      const [leader] = leaders;
      if (leaders.size !== 1 || typeof leader !== 'string') return false;
      const i = side.names.indexOf(leader);
      const replicas = ((docs[i]!.meta_cluster as Json).replicas ?? []) as Json[];
      return replicas.length === 2 && replicas.every((r) => r.current === true) ? i : false;
    }, 'a meta leader known by every member', 20_000);
    const [rl, ol] = [await metaLeader(sides.real), await metaLeader(sides.ours)];

    // meta_cluster: the same fields on the leader and on a follower; PeerInfo's fields.
    const rDoc = await json(sides.real.bases[rl]!, '/jsz');
    const oDoc = await json(sides.ours.bases[ol]!, '/jsz');
    expect(keys210(oDoc.meta_cluster)).toEqual(Object.keys(rDoc.meta_cluster as Json));
    const rRep = (rDoc.meta_cluster as Json).replicas as Json[];
    const oRep = (oDoc.meta_cluster as Json).replicas as Json[];
    expect(peerKeys(oRep)).toEqual(peerKeys(rRep));
    // nats-server's peer ids are getHash of the names.
    expect((rDoc.meta_cluster as Json).peer).toBe(peerId(sides.real.names[rl]!));
    expect(rRep.map((r) => r.peer)).toEqual(rRep.map((r) => peerId(r.name as string)));
    const rf = (rl + 1) % 3;
    const of = (ol + 1) % 3;
    const [rFollower, oFollower] = [await json(sides.real.bases[rf]!, '/jsz'), await json(sides.ours.bases[of]!, '/jsz')];
    expect(keys210(oFollower.meta_cluster)).toEqual(Object.keys(rFollower.meta_cluster as Json));
    for (const [side, leader] of [[sides.real, rl], [sides.ours, ol]] as const) {
      for (const [i, base] of side.bases.entries()) {
        expect((await get(base, '/jsz?leader-only=true')).status, `${side.names[i]} leader-only`).toBe(i === leader ? 200 : 400);
      }
    }
    // /varz jetstream.meta on the leader.
    const [rv, ov] = [(await json(sides.real.bases[rl]!, '/varz')).jetstream as Json, (await json(sides.ours.bases[ol]!, '/varz')).jetstream as Json];
    expect(keys210(ov.meta)).toEqual(Object.keys(rv.meta as Json));

    // An R3 stream with a durable consumer on both.
    const streamLeaders: number[] = [];
    for (const side of [sides.real, sides.ours]) {
      const nc = await scope.client(side.url);
      const jsm = await jetstreamManager(nc);
      const si = await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
      await jsm.consumers.add('R3', { durable_name: 'D', ack_policy: 'explicit' as never });
      streamLeaders.push(side.names.indexOf(si.cluster!.leader!));
      // Meta group, stream group and the consumer's group on every member.
      await eventually(async () => {
        for (const b of side.bases) if ((await json(b, '/jsz')).ha_assets !== 3) return false;
        return true;
      }, 'ha_assets 3', 10_000);
    }
    const [rs, os] = streamLeaders as [number, number];
    const detail = async (base: string, q = ''): Promise<Json | undefined> => streamDetails(await json(base, `/jsz?streams=true${q}`)).find((s) => s.name === 'R3');
    const [rd, od] = [(await detail(sides.real.bases[rs]!))!, (await detail(sides.ours.bases[os]!))!];
    expect(Object.keys(od)).toEqual(Object.keys(rd));
    expect(keys210(od.cluster)).toEqual(Object.keys(rd.cluster as Json));
    expect(peerKeys((od.cluster as Json).replicas)).toEqual(peerKeys((rd.cluster as Json).replicas));
    // stream-leader-only is 2.10 (2.9.10 ignores it and lists every replica): only the stream leader lists it.
    for (const [i, base] of sides.ours.bases.entries()) {
      expect((await detail(base, '&stream-leader-only=true')) !== undefined, `${sides.ours.names[i]} stream-leader-only`).toBe(i === os);
    }
    // Healthy everywhere, with and without js-server-only.
    for (const side of [sides.real, sides.ours]) {
      for (const base of side.bases) {
        for (const q of ['', '?js-server-only=true']) {
          await eventually(async () => {
            const r = await get(base, `/healthz${q}`);
            return r.status === 200 && r.text === '{"status":"ok"}';
          }, `/healthz${q} on ${base}`, 10_000);
        }
      }
    }
  });
});
