/**
 * A JetStream member joining a running cluster (`cluster.add()`), as nats-server 2.10 grows its
 * meta group (raft.go trackPeer → ProposeAddPeer, one membership change at a time): the meta
 * leader adds the new server as a voter without an election, `/jsz` shows `cluster_size` 4, the
 * new member answers the API through the meta leader, and new streams are placed on it. Checked
 * against nats-server 2.9.10 by hand (a 4th server with routes to three running ones: the
 * leader's `meta_cluster.cluster_size` was 4 within ~1 s, `$JS.API.INFO` through the 4th
 * answered, an R3 stream created with one old member stopped landed on the 4th).
 *
 * A server removed by SERVER.REMOVE may join again as a new member (its store wiped) once the
 * removal is `peerRemoveTimeout` old — 5 minutes in nats-server 2.10.29 (raft.go
 * peerRemoveTimeoutDefault), shortened here through the `jetstream.peerRemoveTimeout` option.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { eventually } from '../helpers/eventually.js';
import { monitorJson, type Json } from '../helpers/monitor.js';
import { createCluster, type NatsCluster } from '../../src/index.js';
import { resolveOptions } from '../../src/config/options.js';
import { ConfigError } from '../../src/errors.js';

/** eventually(), with a probe that may reject while the cluster changes (counted as not yet). */
function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  return eventually(() => fn().catch(() => undefined), what, ms);
}

/** Every member of the stream's group, leader first. */
function members(si: StreamInfo): string[] {
  return [si.cluster?.leader ?? '(none)', ...(si.cluster?.replicas ?? []).map((p) => p.name)];
}

async function metaCluster(c: NatsCluster, i: number): Promise<Json> {
  return (await monitorJson(c.servers[i]!.monitorUrl!, '/jsz')).meta_cluster as Json;
}

let cluster: NatsCluster | undefined;
const conns: NatsConnection[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(conns.splice(0).map((nc) => nc.close().catch(() => {})));
  // An internal error of a member is a bug.
  const errors = cluster?.servers.map((s) => s.stats().internalErrors) ?? [];
  await cluster?.close();
  cluster = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  expect(errors.every((n) => n === 0)).toBe(true);
});

async function client(url: string, user?: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, ...(user === undefined ? {} : { user, pass: user }) });
  conns.push(nc);
  return nc;
}

describe('jetstream.peerRemoveTimeout', () => {
  it('defaults to nats-server\'s 5 minutes, takes ms or a duration string, and refuses what is not a positive duration', () => {
    expect(resolveOptions({ jetstream: true }).jetstream?.peerRemoveTimeout).toBe(300_000);
    expect(resolveOptions({ jetstream: { peerRemoveTimeout: 1500 } }).jetstream?.peerRemoveTimeout).toBe(1500);
    expect(resolveOptions({ jetstream: { peerRemoveTimeout: '2s' } }).jetstream?.peerRemoveTimeout).toBe(2000);
    expect(() => resolveOptions({ jetstream: { peerRemoveTimeout: 0 } })).toThrow(ConfigError);
    expect(() => resolveOptions({ jetstream: { peerRemoveTimeout: 'soon' } })).toThrow(ConfigError);
  });
});

describe('clustered JetStream: add() of a member', () => {
  it('joins a running cluster while a client publishes to an R3 stream: no loss, no election; then new streams are placed on it', async () => {
    cluster = await createCluster({ size: 3, jetstream: true, http: -1 });
    const c = cluster;
    const nc = await client(c.urls[0]!);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'ADD', subjects: ['add.>'], num_replicas: 3 });
    const streamLeader = c.servers[await c.streamLeader('ADD')]!.info.server_name;
    const metaLeader = await c.waitForJetStream();

    // A client publishes the whole time the 4th member joins.
    const acked: number[] = [];
    let stop = false;
    let failures = 0;
    const publisher = (async () => {
      for (let i = 1; !stop; i++) {
        try {
          const ack = await js.publish('add.x', String(i), { timeout: 2000 });
          acked.push(ack.seq);
        } catch {
          failures++;
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const added = await c.add();
    const name = added.info.server_name;
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await publisher;

    // The new member is a voter that knows the leader; nobody was elected meanwhile.
    expect(added.jetstreamMetaLeader()).toBe(metaLeader);
    expect(await c.waitForJetStream()).toBe(metaLeader);
    expect(c.servers[await c.streamLeader('ADD')]!.info.server_name).toBe(streamLeader);
    expect(failures).toBe(0);
    expect(acked.length).toBeGreaterThan(5);
    const si = await jsm.streams.info('ADD');
    expect(si.state.messages).toBe(acked.length);
    expect(si.state.last_seq).toBe(acked[acked.length - 1]);
    expect(acked).toEqual(Array.from({ length: acked.length }, (_, i) => i + 1));
    // Existing streams stay where they are.
    expect(members(si)).not.toContain(name);

    // /jsz: every member's meta_cluster says 4; the leader lists the new member among its replicas.
    const li = c.servers.findIndex((s) => s.info.server_name === metaLeader);
    await until('cluster_size 4 everywhere', async () => {
      for (let i = 0; i < 4; i++) if ((await metaCluster(c, i)).cluster_size !== 4) return undefined;
      return true;
    });
    const meta = await metaCluster(c, li);
    expect(meta.leader).toBe(metaLeader);
    expect((meta.replicas as Json[]).map((r) => r.name).sort()).toEqual(c.servers.map((s) => s.info.server_name).filter((n) => n !== metaLeader).sort());

    // The API through the new member (answered by the meta leader, across the routes).
    const nc4 = await client(added.url);
    const info = JSON.parse((await nc4.request('$JS.API.INFO', '', { timeout: 3000 })).string()) as Json;
    expect(info.type).toBe('io.nats.jetstream.api.v1.account_info_response');
    expect(info.error).toBeUndefined();
    expect(info.streams).toBe(1);

    // An old member (not the meta leader) goes down: a new R3 stream must use the new member.
    const vi = [0, 1, 2].find((i) => i !== li)!;
    const victim = c.servers[vi]!.info.server_name;
    await c.kill(vi);
    await until(`${victim} offline for the meta leader`, async () => {
      const r = ((await metaCluster(c, li)).replicas as Json[]).find((p) => p.name === victim);
      return r?.offline === true ? true : undefined;
    });
    const jsm4 = await jetstreamManager(nc4);
    const created = await jsm4.streams.add({ name: 'NEW', subjects: ['new.>'], num_replicas: 3 });
    expect(members(created).sort()).toEqual(c.servers.map((s) => s.info.server_name).filter((n) => n !== victim).sort());
    const ack = await jetstream(nc4).publish('new.x', 'hello');
    expect(ack).toMatchObject({ stream: 'NEW', seq: 1 });
  });

  it('a joining member takes the missing replica of a stream that lost one to SERVER.REMOVE with no server free (processAddPeer)', async () => {
    cluster = await createCluster({
      size: 3, jetstream: true,
      authorization: { users: [{ user: 'g', password: 'g' }] },
      accounts: { $SYS: { users: [{ user: 's', password: 's' }] } },
    });
    const c = cluster;
    const g = await client(c.urls[0]!, 'g');
    const jsm = await jetstreamManager(g);
    const js = jetstream(g);
    await jsm.streams.add({ name: 'SHRUNK', subjects: ['shrunk'], num_replicas: 3 });
    for (let i = 1; i <= 5; i++) await js.publish('shrunk', `m${i}`);
    const metaLeader = await c.waitForJetStream();
    const li = c.servers.findIndex((s) => s.info.server_name === metaLeader);
    const victim = c.servers[(li + 1) % 3]!.info.server_name;
    const sys = await client(c.urls[li]!, 's');
    expect((await sys.request('$JS.API.SERVER.REMOVE', JSON.stringify({ peer: victim }), { timeout: 3000 })).string())
      .toBe('{"type":"io.nats.jetstream.api.v1.meta_server_remove_response","success":true}');
    // No server free: the group is one smaller.
    const shrunk = await until('SHRUNK off the removed member', async () => {
      const si = await jsm.streams.info('SHRUNK');
      return si.cluster?.leader !== undefined && members(si).length === 2 && !members(si).includes(victim) ? si : undefined;
    });
    expect(shrunk.config.num_replicas).toBe(3);

    const added = await c.add();
    const name = added.info.server_name;
    const grown = await until('SHRUNK back to three replicas', async () => {
      const si = await jsm.streams.info('SHRUNK');
      const r = si.cluster?.replicas ?? [];
      return si.cluster?.leader !== undefined && members(si).length === 3 && members(si).includes(name) && r.every((p) => p.current) ? si : undefined;
    });
    expect(grown.state.messages).toBe(5);
    expect((await js.publish('shrunk', 'm6')).seq).toBe(6);
  });

  it('a member added to a running cluster restarts with its own log (still a voter, no election)', async () => {
    cluster = await createCluster({ size: 3, jetstream: true, http: -1 });
    const c = cluster;
    const metaLeader = await c.waitForJetStream();
    const added = await c.add();
    await c.restart(3);
    expect(await c.waitForJetStream()).toBe(metaLeader);
    expect((await metaCluster(c, 3)).cluster_size).toBe(4);
    expect(added.jetstreamMetaLeader()).toBe(metaLeader);
  });

  it('a server removed by SERVER.REMOVE joins again with an empty store once its removal is peerRemoveTimeout old', async () => {
    const store = mkdtempSync(join(tmpdir(), 'jsadd-'));
    dirs.push(store);
    const timeout = 3000;
    cluster = await createCluster({
      size: 3, http: -1,
      jetstream: { storeDir: store, peerRemoveTimeout: timeout },
      authorization: { users: [{ user: 'g', password: 'g' }] },
      accounts: { $SYS: { users: [{ user: 's', password: 's' }] } },
    });
    const c = cluster;
    const added = await c.add();
    const name = added.info.server_name;
    const metaLeader = await c.waitForJetStream();
    const li = c.servers.findIndex((s) => s.info.server_name === metaLeader);
    const sys = await client(c.urls[li]!, 's');
    const removedAt = Date.now();
    const answer = (await sys.request('$JS.API.SERVER.REMOVE', JSON.stringify({ peer: name }), { timeout: 3000 })).string();
    expect(answer).toBe('{"type":"io.nats.jetstream.api.v1.meta_server_remove_response","success":true}');
    await until('the removed member out of the meta group', async () => ((await metaCluster(c, li)).cluster_size === 3 ? true : undefined));

    // Its store wiped, it starts as a new server: not added while the removal is younger than peerRemoveTimeout.
    await c.kill(3);
    rmSync(join(store, name), { recursive: true, force: true });
    await c.restart(3);
    await new Promise((r) => setTimeout(r, 500));
    if (Date.now() - removedAt < timeout - 200) {
      expect((await metaCluster(c, li)).cluster_size).toBe(3);
      expect(added.jetstreamMetaLeader()).toBeNull();
      // It stays silent: the meta leader answers the API alone.
      const g = await client(added.url, 'g');
      const info = JSON.parse((await g.request('$JS.API.INFO', '', { timeout: 3000 })).string()) as Json;
      expect(info.error).toBeUndefined();
    }
    // Then it joins again.
    await until('the member back in the meta group', async () => ((await metaCluster(c, li)).cluster_size === 4 && added.jetstreamMetaLeader() === metaLeader ? true : undefined), 15_000);
    expect(Date.now() - removedAt).toBeGreaterThanOrEqual(timeout);
    expect(await c.waitForJetStream()).toBe(metaLeader);
    // And takes replicas: an R4 stream is placed.
    const g = await client(c.urls[li]!, 'g');
    const si = await (await jetstreamManager(g)).streams.add({ name: 'R4', subjects: ['r4'], num_replicas: 4 });
    expect(members(si)).toContain(name);
    // Restarted with its log, it replays its removal and its return: it stays in.
    await c.restart(3);
    expect(await c.waitForJetStream()).toBe(metaLeader);
    expect(added.jetstreamMetaLeader()).toBe(metaLeader);
    expect((await metaCluster(c, li)).cluster_size).toBe(4);
  });
});
