/**
 * SERVER.REMOVE in the hard cases (found by a review; each failed before its fix): removals that
 * need the removed server's acknowledgement to commit (two back to back, a group with another
 * member down, the meta leader of a two-member cluster), and a STREAM.UPDATE applied while a
 * move is in flight. Each test states what nats-server 2.10.29 does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { createCluster, type NatsCluster } from '../../src/index.js';
import { members, OPTIONS, raw, REMOVED as OK, until } from './server-remove-helpers.js';

let cluster: NatsCluster | undefined;
const conns: NatsConnection[] = [];
afterEach(async () => {
  await Promise.all(conns.splice(0).map((nc) => nc.close().catch(() => {})));
  // An internal error of a member is a bug.
  const errors = cluster?.servers.map((s) => s.stats().internalErrors) ?? [];
  await cluster?.close();
  cluster = undefined;
  expect(errors.every((n) => n === 0)).toBe(true);
});

async function as(user: 'g' | 's', url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, user, pass: user });
  conns.push(nc);
  return nc;
}


describe('SERVER.REMOVE races', () => {
  it('two members of a 3-node cluster removed back to back: the meta leader keeps leading alone (2.10.29 shrinks the peer set at each proposal)', async () => {
    cluster = await createCluster({ size: 3, ...OPTIONS });
    const c = cluster;
    const names = c.servers.map((s) => s.info.server_name);
    const meta = await c.waitForJetStream();
    const [b, x] = names.filter((n) => n !== meta);
    const url = c.urls[names.indexOf(meta)]!;
    const sys = await as('s', url);
    const g = await as('g', url);
    const [r1, r2] = await Promise.all([
      raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: b })),
      raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: x })),
    ]);
    expect([r1, r2]).toEqual([OK, OK]);
    // Give the voter changes time (each waits two heartbeats), then the lone member must still
    // answer as meta leader: an R1 stream can be created.
    await new Promise((r) => setTimeout(r, 3000));
    const jsm = await jetstreamManager(g, { checkAPI: false });
    const si = await until('an R1 stream on the remaining member', async () => jsm.streams.add({ name: 'ONE', subjects: ['one'], num_replicas: 1 }), 20_000);
    expect(si.cluster?.leader).toBe(meta);
  }, 60_000);

  it('two members removed back to back: no stream keeps a replica on a removed server', async () => {
    cluster = await createCluster({ size: 4, ...OPTIONS });
    const c = cluster;
    const names = c.servers.map((s) => s.info.server_name);
    const meta = await c.waitForJetStream();
    const url = c.urls[names.indexOf(meta)]!;
    const sys = await as('s', url);
    const g = await as('g', url);
    const jsm = await jetstreamManager(g);
    await jsm.streams.add({ name: 'S', subjects: ['s.>'], num_replicas: 3 });
    const before = await until('S healthy', async () => {
      const si = await jsm.streams.info('S');
      return members(si).length === 3 && (si.cluster?.replicas ?? []).every((p) => p.current) ? si : undefined;
    });
    const [b, x] = members(before).filter((n) => n !== meta);
    const [r1, r2] = await Promise.all([
      raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: b })),
      raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: x })),
    ]);
    expect([r1, r2]).toEqual([OK, OK]);
    // Two members are left: S (R3) can only shrink to them, and must not name b or x.
    let last = '';
    const after = await until('S off both removed servers', async () => {
      const si = await jsm.streams.info('S');
      const m = members(si);
      last = `${m.join(',')} (removed ${b}, ${x})`;
      return si.cluster?.leader !== undefined && !m.includes(b!) && !m.includes(x!) ? si : undefined;
    }, 20_000).catch((err: unknown) => {
      throw new Error(`${String(err)}; S's members: ${last}`);
    });
    expect(members(after)).not.toContain(b);
  }, 60_000);

  it('a STREAM.UPDATE that lands while a removal is being applied is not reverted by the move', async () => {
    cluster = await createCluster({ size: 4, ...OPTIONS });
    const c = cluster;
    const names = c.servers.map((s) => s.info.server_name);
    const meta = await c.waitForJetStream();
    const url = c.urls[names.indexOf(meta)]!;
    const sys = await as('s', url);
    const g = await as('g', url);
    const jsm = await jetstreamManager(g);
    const created = await jsm.streams.add({ name: 'S', subjects: ['a'], num_replicas: 3 });
    const victim = members(created).find((n) => n !== meta) ?? (await until('members', async () => members(await jsm.streams.info('S')).find((n) => n !== meta && n !== '(none)')));
    // Back to back: the update is proposed before the removal is applied.
    const cfg = { ...created.config, subjects: ['a', 'b'] };
    const [rm, up] = await Promise.all([
      raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: victim })),
      raw(g, '$JS.API.STREAM.UPDATE.S', JSON.stringify(cfg), 5000),
    ]);
    expect(rm).toBe(OK);
    expect(up).toContain('"subjects":["a","b"]');
    await until('S off the removed server', async () => {
      const si = await jsm.streams.info('S');
      return si.cluster?.leader !== undefined && !members(si).includes(victim!) && members(si).length === 3 ? si : undefined;
    }, 20_000);
    // S captures `b`: another stream on `b` overlaps (10065).
    const t = await raw(g, '$JS.API.STREAM.CREATE.T', JSON.stringify({ name: 'T', subjects: ['b'], num_replicas: 1 }), 5000);
    expect(t).toContain('"err_code":10065');
  }, 60_000);
  it('control: without a removal, an updated subject is checked for overlap', async () => {
    cluster = await createCluster({ size: 4, ...OPTIONS });
    const c = cluster;
    const names = c.servers.map((s) => s.info.server_name);
    const meta = await c.waitForJetStream();
    const g = await as('g', c.urls[names.indexOf(meta)]!);
    const jsm = await jetstreamManager(g);
    const created = await jsm.streams.add({ name: 'S', subjects: ['a'], num_replicas: 3 });
    const up = await raw(g, '$JS.API.STREAM.UPDATE.S', JSON.stringify({ ...created.config, subjects: ['a', 'b'] }), 5000);
    expect(up).toContain('"subjects":["a","b"]');
    const t = await raw(g, '$JS.API.STREAM.CREATE.T', JSON.stringify({ name: 'T', subjects: ['b'], num_replicas: 1 }), 5000);
    expect(t).toContain('"err_code":10065');
  }, 60_000);
  it('removing a live replica of an R3 stream while another of its replicas is down keeps the stream available (2.10.29 UpdateKnownPeers)', async () => {
    cluster = await createCluster({ size: 4, ...OPTIONS });
    const c = cluster;
    const names = c.servers.map((s) => s.info.server_name);
    const meta = await c.waitForJetStream();
    const url = c.urls[names.indexOf(meta)]!;
    const sys = await as('s', url);
    const g = await as('g', url);
    const jsm = await jetstreamManager(g);
    await jsm.streams.add({ name: 'S', subjects: ['s.>'], num_replicas: 3 });
    const before = await until('S healthy', async () => {
      const si = await jsm.streams.info('S');
      return members(si).length === 3 && (si.cluster?.replicas ?? []).every((p) => p.current) ? si : undefined;
    });
    const [b, down] = members(before).filter((n) => n !== meta);
    await c.kill(names.indexOf(down!));
    expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: b }))).toBe(OK);
    // b has applied its removal (it names the meta leader that told it it is out, or has left).
    await new Promise((r) => setTimeout(r, 3000));
    // The meta group keeps its quorum (meta and the fourth server); S moves to {meta, down, free}
    // and, with two of three live, takes publishes again.
    const js = (await import('@nats-io/jetstream')).jetstream(g);
    const ack = await until('a publish to S', async () => js.publish('s.x', 'after', { timeout: 1000 }), 30_000);
    expect(ack.seq).toBe(1);
  }, 90_000);
  it('removing the meta leader of a 2-member cluster leaves the other member leading (2.10.29: the removal shrinks the peer set to one)', async () => {
    cluster = await createCluster({ size: 2, ...OPTIONS });
    const c = cluster;
    const names = c.servers.map((s) => s.info.server_name);
    const meta = await c.waitForJetStream();
    const other = names.find((n) => n !== meta)!;
    const url = c.urls[names.indexOf(other)]!;
    const sys = await as('s', url);
    const g = await as('g', url);
    // An R1 stream on the meta leader (its first choice): applying the removal, the leader
    // proposes the move and steps down at once, with no follower caught up to hand over to.
    const jsm0 = await jetstreamManager(g);
    const zero = await jsm0.streams.add({ name: 'Z', subjects: ['z'], num_replicas: 1 });
    expect(zero.cluster?.leader).toBe(meta);
    expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: meta }))).toBe(OK);
    await until('the other member leading', async () => (c.servers[names.indexOf(other)]!.jetstreamMetaLeader() === other ? true : undefined), 20_000);
    const jsm = await jetstreamManager(g, { checkAPI: false });
    const si = await until('an R1 stream', async () => jsm.streams.add({ name: 'ONE', subjects: ['one'], num_replicas: 1 }), 10_000);
    expect(si.cluster?.leader).toBe(other);
  }, 60_000);
});
