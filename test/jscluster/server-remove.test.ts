/**
 * `$JS.API.SERVER.REMOVE` and the system-account gating of the meta-level requests, as nats-server
 * 2.10.29 has them (jetstream_api.go jsLeaderServerRemoveRequest / jsLeaderStepDownRequest,
 * jetstream_cluster.go processRemovePeer / removePeerFromStreamLocked): only a system-account
 * client gets an answer; the meta leader removes the server from the meta group and moves every
 * stream replica it held to a free server; the removed server's JetStream goes off.
 *
 * 2.9.10 (the binary of the conformance run) answered both requests from any account; 2.10.29
 * drops a request from another account unanswered (`acc != s.SystemAccount()`), which is what
 * is asserted here. The error answers are the same in both (checked against 2.9.10 on the wire).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { createCluster, type NatsCluster } from '../../src/index.js';
import { members, OPTIONS, raw, RESPONSE, until } from './server-remove-helpers.js';
import { peerIdOf } from '../conformance/jetstream-cluster-scenarios.js';

const error = (code: number, errCode: number, description: string): string =>
  `{"type":"${RESPONSE}","error":{"code":${code},"err_code":${errCode},"description":"${description}"}}`;

/** The stream once its group is `n` healthy members without `gone`. */
function movedOff(jsm: JetStreamManager, stream: string, gone: string, n: number): Promise<StreamInfo> {
  return until(`${stream} off ${gone}`, async () => {
    const si = await jsm.streams.info(stream);
    const r = si.cluster?.replicas ?? [];
    const names = members(si);
    return si.cluster?.leader !== undefined && names.length === n && !names.includes(gone) && r.every((p) => p.current) ? si : undefined;
  });
}

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

describe('clustered JetStream: SERVER.REMOVE', () => {
  it('moves the R3 stream a removed member held to the free member, keeping messages and consumer state', async () => {
    cluster = await createCluster({ size: 4, ...OPTIONS });
    const c = cluster;
    const names = c.servers.map((s) => s.info.server_name);
    const meta = await c.waitForJetStream();
    // The client and the operator sit on a member that is not the victim.
    const g = await as('g', c.urls[names.indexOf(meta)]!);
    const sys = await as('s', c.urls[names.indexOf(meta)]!);
    const jsm = await jetstreamManager(g);
    const js = jetstream(g);
    await jsm.streams.add({ name: 'S', subjects: ['s.>'], num_replicas: 3 });
    await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    for (let i = 1; i <= 10; i++) await js.publish('s.x', `m${i}`, { msgID: `m${i}` });
    const consumer = await js.consumers.get('S', 'D');
    const first = await consumer.fetch({ max_messages: 4, expires: 2000 });
    for await (const m of first) await m.ackAck();

    const before = await until('S healthy', async () => {
      const si = await jsm.streams.info('S');
      return members(si).length === 3 && (si.cluster?.replicas ?? []).every((p) => p.current) ? si : undefined;
    });
    // A member with a replica of S that is not the meta leader (the client's server stays up).
    const victim = members(before).find((n) => n !== meta)!;
    const free = names.find((n) => !members(before).includes(n))!;

    const advisories: string[] = [];
    const sub = sys.subscribe('$JS.EVENT.ADVISORY.SERVER.REMOVED', { callback: (_e, m) => void advisories.push(m.string()) });
    await sys.flush();

    expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: victim }))).toBe(`{"type":"${RESPONSE}","success":true}`);
    // The server is no member any more: the same request is refused at once (2.9.10 alike).
    expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: victim }))).toBe(error(400, 10044, 'server is not a member of the cluster'));

    const after = await movedOff(jsm, 'S', victim, 3);
    expect(members(after)).toContain(free);
    expect(after.state.messages).toBe(10);
    expect(after.state.last_seq).toBe(10);
    // Publishing goes on where it was; the stream's dedupe window came along.
    expect((await js.publish('s.x', 'm11', { msgID: 'm11' })).seq).toBe(11);
    expect((await js.publish('s.x', 'm5', { msgID: 'm5' })).duplicate).toBe(true);
    // The durable consumer resumes after its acked messages.
    const next = await until('the consumer after the move', async () => {
      const batch = await consumer.fetch({ max_messages: 1, expires: 1000 });
      for await (const m of batch) {
        await m.ackAck();
        return m.seq;
      }
      return undefined;
    });
    expect(next).toBe(5);

    // The removed member announced it in the system account (JSServerRemovedAdvisory).
    await until('the advisory', async () => (advisories.length > 0 ? true : undefined));
    const adv = JSON.parse(advisories[0]!) as Record<string, unknown>;
    expect(Object.keys(adv)).toEqual(['type', 'id', 'timestamp', 'server', 'server_id', 'cluster']);
    expect(adv.type).toBe('io.nats.jetstream.advisory.v1.server_removed');
    expect(adv.server).toBe(victim);
    expect(adv.server_id).toBe(c.servers[names.indexOf(victim)]!.info.server_id);
    sub.unsubscribe();

    // Every member, the removed one included, names the same meta leader.
    expect(await c.waitForJetStream()).toBe(meta);
    // Three JetStream members are left: R4 cannot be placed, R3 is.
    await expect(jsm.streams.add({ name: 'R4', subjects: ['r4'], num_replicas: 4 })).rejects.toThrow(/no suitable peers for placement/);
    const r3 = await jsm.streams.add({ name: 'R3', subjects: ['r3'], num_replicas: 3 });
    expect(members(r3)).not.toContain(victim);

    // A client of the removed member is still served, by the others (the requests cross the routes).
    const onVictim = await as('g', c.urls[names.indexOf(victim)]!);
    const info = JSON.parse(await raw(onVictim, '$JS.API.INFO')) as { streams: number };
    expect(info.streams).toBe(2);
    expect((await jetstream(onVictim).publish('s.x', 'm12')).seq).toBe(12);
  }, 90_000);

  it('moves a single replica off a removed (dead) member, empty as nats-server re-creates an R1 stream; restarted, the member stays out', async () => {
    cluster = await createCluster({ size: 3, ...OPTIONS });
    const c = cluster;
    const names = c.servers.map((s) => s.info.server_name);
    const victim = await c.waitForJetStream();
    const vi = names.indexOf(victim);
    const survivor = c.urls[(vi + 1) % 3]!;
    const g = await as('g', survivor);
    const jsm = await jetstreamManager(g, { checkAPI: false });
    // Placed on the meta leader (the preferred first peer), which is then lost for good.
    const one = await jsm.streams.add({ name: 'ONE', subjects: ['one'], num_replicas: 1 });
    expect(one.cluster?.leader).toBe(victim);
    await jetstream(g).publish('one', 'x');
    await c.kill(vi);
    await until('a new meta leader', async () => {
      const l = await c.waitForJetStream(1000);
      return l !== victim ? l : undefined;
    });
    const sys = await as('s', survivor);
    // By Raft peer id (which takes precedence over the name).
    expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: 'ignored', peer_id: peerIdOf(victim) }))).toBe(`{"type":"${RESPONSE}","success":true}`);
    const moved = await until('ONE on another member', async () => {
      const si = await jsm.streams.info('ONE');
      return si.cluster?.leader !== undefined && si.cluster.leader !== victim ? si : undefined;
    });
    // Its only copy was on the removed server.
    expect(moved.state.messages).toBe(0);
    expect((await jetstream(g).publish('one', 'y')).seq).toBe(1);
    // Two JetStream members are left.
    await expect(jsm.streams.add({ name: 'R3', subjects: ['r3'], num_replicas: 3 })).rejects.toThrow(/no suitable peers for placement/);

    // Restarted, the removed member (which never saw its removal) hears from no meta leader; the
    // meta leader tells it that it is out, so it stays silent instead of answering its clients
    // 10008 "JetStream system temporarily unavailable" after ten heartbeats without a leader.
    await c.restart(vi);
    // It names the meta leader that told it (so waitForJetStream works with it running).
    expect(await c.waitForJetStream()).toBe(await until('the meta leader', async () => c.servers[(vi + 1) % 3]!.jetstreamMetaLeader() ?? undefined));
    await new Promise((r) => setTimeout(r, 2000));
    expect(c.servers[vi]!.jetstreamStreamLeader('ONE')).toBeNull();
    const onVictim = await as('g', c.urls[vi]!);
    for (let i = 0; i < 5; i++) expect(JSON.parse(await raw(onVictim, '$JS.API.INFO'))).toMatchObject({ type: 'io.nats.jetstream.api.v1.account_info_response', streams: 1 });
    const si = JSON.parse(await raw(onVictim, '$JS.API.STREAM.INFO.ONE')) as StreamInfo;
    expect(si.cluster?.leader).toBe(moved.cluster?.leader);
    expect(si.state.messages).toBe(1);
    expect((await jetstream(onVictim).publish('one', 'z')).seq).toBe(2);
  }, 90_000);

  it('removes the meta leader itself: it hands the lead over and its stream replica moves', async () => {
    cluster = await createCluster({ size: 4, ...OPTIONS });
    const c = cluster;
    const names = c.servers.map((s) => s.info.server_name);
    const meta = await c.waitForJetStream();
    const via = c.urls[(names.indexOf(meta) + 1) % 4]!;
    const g = await as('g', via);
    const sys = await as('s', via);
    const jsm = await jetstreamManager(g);
    // The meta leader is a new stream's first peer.
    const si = await jsm.streams.add({ name: 'M', subjects: ['m'], num_replicas: 3 });
    expect(members(si)).toContain(meta);
    for (let i = 1; i <= 3; i++) await jetstream(g).publish('m', `m${i}`);
    expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: meta }))).toBe(`{"type":"${RESPONSE}","success":true}`);
    const jsmAfter = await jetstreamManager(g, { checkAPI: false });
    const moved = await movedOff(jsmAfter, 'M', meta, 3);
    expect(moved.state.messages).toBe(3);
    const next = await until('another meta leader', async () => {
      const leaders = new Set(c.servers.filter((s) => s.info.server_name !== meta).map((s) => s.jetstreamMetaLeader()));
      const [only] = leaders;
      return leaders.size === 1 && only !== null && only !== meta ? only : undefined;
    });
    expect(names).toContain(next);
    expect(await until('an answer', async () => {
      const r = await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: meta }));
      return r === '(no reply)' ? undefined : r;
    })).toBe(error(400, 10044, 'server is not a member of the cluster'));
    await expect(jsmAfter.streams.add({ name: 'R4', subjects: ['r4'], num_replicas: 4 })).rejects.toThrow(/no suitable peers for placement/);
  }, 90_000);

  it('answers errors as nats-server, and only to the system account', async () => {
    cluster = await createCluster({ size: 3, name: 'CR', ...OPTIONS });
    const c = cluster;
    const names = c.servers.map((s) => s.info.server_name);
    const meta = await c.waitForJetStream();
    const other = names.find((n) => n !== meta)!;
    // Through a member that is not the meta leader: the request crosses the routes.
    const sys = await as('s', c.urls[names.indexOf(other)]!);
    const g = await as('g', c.urls[names.indexOf(other)]!);
    expect(await raw(sys, '$JS.API.SERVER.REMOVE')).toBe(error(400, 10003, 'bad request'));
    expect(await raw(sys, '$JS.API.SERVER.REMOVE', '{}')).toBe(error(400, 10003, 'bad request'));
    expect(await raw(sys, '$JS.API.SERVER.REMOVE', '{x')).toBe(error(400, 10025, 'invalid JSON'));
    expect(await raw(sys, '$JS.API.SERVER.REMOVE', '[]')).toBe(error(400, 10025, 'invalid JSON'));
    expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: 'nope' }))).toBe(error(400, 10044, 'server is not a member of the cluster'));
    // `peer_id` takes precedence over the name.
    expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: other, peer_id: 'XXXXXXXX' }))).toBe(error(400, 10044, 'server is not a member of the cluster'));

    // Another account gets no answer, and nothing happens (2.10.29; 2.9.10 answered any account).
    expect(await raw(g, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: other }))).toBe('(no reply)');
    expect(await raw(g, '$JS.API.META.LEADER.STEPDOWN')).toBe('(no reply)');
    expect(await c.waitForJetStream()).toBe(meta);
    const jsm = await jetstreamManager(g);
    const r3 = await jsm.streams.add({ name: 'ALL', subjects: ['all'], num_replicas: 3 });
    expect(members(r3).sort()).toEqual([...names].sort());

    // The system account steps the meta leader down; a placement names the cluster of the next one.
    const STEPDOWN = 'io.nats.jetstream.api.v1.meta_leader_stepdown_response';
    expect(await raw(sys, '$JS.API.META.LEADER.STEPDOWN', '{x')).toBe(`{"type":"${STEPDOWN}","error":{"code":400,"err_code":10025,"description":"invalid JSON"}}`);
    expect(await raw(sys, '$JS.API.META.LEADER.STEPDOWN', JSON.stringify({ placement: { tags: ['a'] } })))
      .toBe(`{"type":"${STEPDOWN}","error":{"code":400,"err_code":10011,"description":"tags placement not supported for operation"}}`);
    expect(await raw(sys, '$JS.API.META.LEADER.STEPDOWN', JSON.stringify({ placement: { cluster: 'elsewhere' } })))
      .toBe(`{"type":"${STEPDOWN}","error":{"code":400,"err_code":10005,"description":"no replacement peer connected"}}`);
    expect(await c.waitForJetStream()).toBe(meta);
    expect(await raw(sys, '$JS.API.META.LEADER.STEPDOWN', JSON.stringify({ placement: { cluster: 'CR' } }))).toBe(`{"type":"${STEPDOWN}","success":true}`);
    await until('a new meta leader', async () => ((await c.waitForJetStream()) !== meta ? true : undefined));
  }, 60_000);
});

