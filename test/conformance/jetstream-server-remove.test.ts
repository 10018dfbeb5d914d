/**
 * `$JS.API.SERVER.REMOVE` against four real `nats-server -js` processes and against the embedded
 * `createCluster({ size: 4, jetstream: true })`, with the same options on both (a system-account
 * user `s`, applications as `no_auth_user` `g` in the global account) and the same assertions:
 * the answers byte for byte, the R3 stream of the removed member moved to the free member with
 * its messages and its durable consumer's state, the advisory's fields, placement with one member
 * fewer. Part of `npm run test:conformance` (needs NATS_SERVER_BIN).
 *
 * Where 2.9.10 (the binary here) and 2.10.29 (which nats-embedded follows) differ, the assertion
 * depends on the server's INFO `version`: 2.10 serves SERVER.REMOVE and META.LEADER.STEPDOWN to
 * the system account only (jetstream_api.go jsLeaderServerRemoveRequest / jsLeaderStepDownRequest,
 * `acc != s.SystemAccount()` → no answer), 2.9 to any account. Not compared: what a removed
 * server does once restarted (2.9.10 rejoins the meta group at once; 2.10.29 deletes its meta
 * state and is re-added by the meta leader once its removal is 5 minutes old — raft.go trackPeer,
 * peerRemoveTimeout; nats-embedded keeps it out while its store keeps the removal, and lets it
 * join again started with an empty store once the removal is `jetstream.peerRemoveTimeout` old —
 * test/jscluster/add-member.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { createCluster } from '../../src/index.js';
import type { ClusterUnderTest } from '../helpers/cluster-under-test.js';
import { eventually } from '../helpers/eventually.js';
import { startRealCluster } from '../helpers/real-cluster.js';
import { natsServerBin } from '../jetstream/real-js.js';

const RESPONSE = 'io.nats.jetstream.api.v1.meta_server_remove_response';
const error = (code: number, errCode: number, description: string): string =>
  `{"type":"${RESPONSE}","error":{"code":${code},"err_code":${errCode},"description":"${description}"}}`;

/** The reply's text, or '(no reply)'. */
async function raw(nc: NatsConnection, subject: string, body = '', ms = 2000): Promise<string> {
  try {
    return (await nc.request(subject, body, { timeout: ms })).string();
  } catch {
    return '(no reply)';
  }
}

/** The first reply within `ms` (requests repeated while unanswered, e.g. during a meta election). */
async function answered(nc: NatsConnection, subject: string, body: string, ms = 30_000): Promise<string> {
  return eventually(async () => {
    const r = await raw(nc, subject, body, 1000);
    return r === '(no reply)' ? undefined : r;
  }, `an answer on ${subject}`, ms);
}

function is210(nc: NatsConnection): boolean {
  const [maj, min] = (nc.info?.version ?? '0.0').split('.').map(Number);
  return maj > 2 || (maj === 2 && min >= 10);
}

/** Every member of the stream's group, leader first. */
function members(si: StreamInfo): string[] {
  return [si.cluster?.leader ?? '(none)', ...(si.cluster?.replicas ?? []).map((p) => p.name)];
}

/** A cluster under test that also names its meta leader (asked of the system account). */
interface Side extends ClusterUnderTest {
  metaLeader(sys: NatsConnection): Promise<string>;
}

/** The real servers' meta leader: `$SYS.REQ.SERVER.PING.JSZ` (every server answers; `meta_cluster.leader`). */
async function pingJszLeader(sys: NatsConnection): Promise<string> {
  return eventually(async () => {
    const inbox = `_INBOX.jsz.${Math.random().toString(36).slice(2)}`;
    const leaders: string[] = [];
    const sub = sys.subscribe(inbox, { callback: (_e, m) => {
      const j = JSON.parse(m.string()) as { data?: { meta_cluster?: { leader?: string } } };
      if (j.data?.meta_cluster?.leader) leaders.push(j.data.meta_cluster.leader);
    } });
    sys.publish('$SYS.REQ.SERVER.PING.JSZ', '{}', { reply: inbox });
    await new Promise((r) => setTimeout(r, 500));
    sub.unsubscribe();
    return leaders.length > 0 && leaders.every((l) => l === leaders[0]) ? leaders[0] : undefined;
  }, 'the meta leader', 20_000);
}

async function startEmbedded(): Promise<Side> {
  const c = await createCluster({
    size: 4, jetstream: true,
    authorization: { users: [{ user: 'g', password: 'g' }] }, noAuthUser: 'g',
    accounts: { $SYS: { users: [{ user: 's', password: 's' }] } },
  });
  const names = c.servers.map((s) => s.info.server_name);
  return {
    size: 4, urls: c.urls, serverName: (i) => names[i]!, indexOf: (n) => names.indexOf(n),
    kill: (i) => c.kill(i), restart: (i) => c.restart(i), close: () => c.close(),
    metaLeader: () => c.waitForJetStream(),
  };
}

function describeServerRemove(label: string, factory: () => Promise<Side>): void {
  describe(`SERVER.REMOVE (${label})`, () => {
    let cluster: Side;
    const open: NatsConnection[] = [];
    beforeAll(async () => {
      cluster = await factory();
    }, 60_000);
    afterAll(async () => {
      await Promise.all(open.map((nc) => nc.close().catch(() => {})));
      await cluster?.close();
    }, 60_000);
    const conn = async (i: number, user?: string): Promise<NatsConnection> => {
      const nc = await connect({ servers: cluster.urls[i]!, ...(user === undefined ? {} : { user, pass: user }) });
      open.push(nc);
      return nc;
    };

    it('moves the removed member\'s R3 stream to the free member; answers and errors as nats-server', async () => {
      const g0 = await conn(0);
      const jsm = await jetstreamManager(g0);
      const js = jetstream(g0);
      await eventually(async () => jsm.getAccountInfo().catch(() => undefined), 'a meta leader', 20_000);
      await jsm.streams.add({ name: 'S', subjects: ['s.>'], num_replicas: 3 });
      await jsm.consumers.add('S', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
      for (let i = 1; i <= 10; i++) await js.publish('s.x', `m${i}`, { msgID: `m${i}` });
      const consumer = await js.consumers.get('S', 'D');
      for await (const m of await consumer.fetch({ max_messages: 4, expires: 2000 })) await m.ackAck();
      const before = await eventually(async () => {
        const si = await jsm.streams.info('S');
        return members(si).length === 3 && (si.cluster?.replicas ?? []).every((p) => p.current) ? si : undefined;
      }, 'S healthy', 20_000);
      // A replica that is neither the stream leader nor the meta leader, and a member to send the
      // requests through that is not it. (Removing the meta leader itself hands the lead over:
      // 2.9.10 answered nothing for ~6 s then. In one of six runs that did not avoid it, the stream
      // had not moved off the removed server after 30 s — not traced, so not compared here.)
      const sys0 = await conn(0, 's');
      const meta = await cluster.metaLeader(sys0);
      const victim = before.cluster!.replicas!.map((p) => p.name).find((n) => n !== meta)!;
      const free = Array.from({ length: 4 }, (_, i) => cluster.serverName(i)).find((n) => !members(before).includes(n))!;
      const via = [0, 1, 2, 3].find((i) => cluster.serverName(i) !== victim)!;
      const sys = await conn(via, 's');
      const g = await conn(via);

      // The errors (2.9.10 and 2.10.29 alike).
      expect(await raw(sys, '$JS.API.SERVER.REMOVE')).toBe(error(400, 10003, 'bad request'));
      expect(await raw(sys, '$JS.API.SERVER.REMOVE', '{}')).toBe(error(400, 10003, 'bad request'));
      expect(await raw(sys, '$JS.API.SERVER.REMOVE', '{x')).toBe(error(400, 10025, 'invalid JSON'));
      expect(await raw(sys, '$JS.API.SERVER.REMOVE', '[]')).toBe(error(400, 10025, 'invalid JSON'));
      expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: 'nope' }))).toBe(error(400, 10044, 'server is not a member of the cluster'));
      expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: victim, peer_id: 'XXXXXXXX' }))).toBe(error(400, 10044, 'server is not a member of the cluster'));
      // META.LEADER.STEPDOWN's errors (a placement only: 2.9 also answered 10005 to a body without one).
      const STEPDOWN = 'io.nats.jetstream.api.v1.meta_leader_stepdown_response';
      expect(await raw(sys, '$JS.API.META.LEADER.STEPDOWN', '{x')).toBe(`{"type":"${STEPDOWN}","error":{"code":400,"err_code":10025,"description":"invalid JSON"}}`);
      expect(await raw(sys, '$JS.API.META.LEADER.STEPDOWN', JSON.stringify({ placement: { tags: ['a'] } })))
        .toBe(`{"type":"${STEPDOWN}","error":{"code":400,"err_code":10011,"description":"tags placement not supported for operation"}}`);
      expect(await raw(sys, '$JS.API.META.LEADER.STEPDOWN', JSON.stringify({ placement: { cluster: 'elsewhere' } })))
        .toBe(`{"type":"${STEPDOWN}","error":{"code":400,"err_code":10005,"description":"no replacement peer connected"}}`);
      // From the global account: 2.10 does not answer; 2.9 does (an unknown server here, so nothing happens).
      const fromG = await raw(g, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: 'nope' }));
      expect(fromG).toBe(is210(g) ? '(no reply)' : error(400, 10044, 'server is not a member of the cluster'));

      const advisories: string[] = [];
      const sub = sys.subscribe('$JS.EVENT.ADVISORY.SERVER.REMOVED', { callback: (_e, m) => void advisories.push(m.string()) });
      await sys.flush();
      expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: victim }))).toBe(`{"type":"${RESPONSE}","success":true}`);
      // The server is no member any more. (When it was the meta leader itself, it hands the lead
      // over: the next answer waits for the new leader, 4–9 s with nats-server.)
      const again = await answered(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: victim }));
      expect(again).toBe(error(400, 10044, 'server is not a member of the cluster'));

      const jsmVia = await jetstreamManager(g, { checkAPI: false });
      const after = await eventually(async () => {
        const si = await jsmVia.streams.info('S').catch(() => undefined);
        if (si === undefined) return undefined;
        const names = members(si);
        return names.length === 3 && !names.includes(victim) && (si.cluster?.replicas ?? []).every((p) => p.current) ? si : undefined;
      }, 'S moved off the removed member', 30_000);
      expect(members(after)).toContain(free);
      expect([after.state.messages, after.state.last_seq]).toEqual([10, 10]);
      const jsVia = jetstream(g);
      const ack = await eventually(async () => jsVia.publish('s.x', 'm11', { msgID: 'm11', timeout: 1000 }).catch(() => undefined), 'a publish after the move', 30_000);
      expect(ack.seq).toBe(11);
      // (The consumer's leader may have been on the removed member: a fetch fails until it has another.)
      const next = await eventually(async () => {
        const c = await jsVia.consumers.get('S', 'D').catch(() => undefined);
        if (c === undefined) return undefined;
        try {
          for await (const m of await c.fetch({ max_messages: 1, expires: 1000 })) {
            await m.ackAck();
            return m.seq;
          }
        } catch {
          // heartbeats missed, no responders: not yet
        }
        return undefined;
      }, 'the consumer after the move', 30_000);
      expect(next).toBe(5);

      await eventually(async () => (advisories.length > 0 ? true : undefined), 'the server_removed advisory', 10_000);
      const adv = JSON.parse(advisories[0]!) as Record<string, unknown>;
      expect(Object.keys(adv)).toEqual(['type', 'id', 'timestamp', 'server', 'server_id', 'cluster']);
      expect([adv.type, adv.server]).toEqual(['io.nats.jetstream.advisory.v1.server_removed', victim]);
      sub.unsubscribe();

      // One JetStream member fewer: R4 is refused.
      const r4 = await answered(g, '$JS.API.STREAM.CREATE.R4', JSON.stringify({ name: 'R4', subjects: ['r4'], num_replicas: 4 }));
      expect(r4).toBe('{"type":"io.nats.jetstream.api.v1.stream_create_response","error":{"code":400,"err_code":10005,"description":"no suitable peers for placement"}}');
    }, 120_000);
  });
}

const bin = natsServerBin();
describeServerRemove('embedded', startEmbedded);
describe.skipIf(bin === '')('real', () => {
  describeServerRemove('nats-server', async () => ({
    ...await startRealCluster(bin, 4, {
      extraConfig: ['authorization { users: [{user: g, password: g}] }', 'no_auth_user: g', 'accounts { $SYS { users: [{user: s, password: s}] } }'],
    }),
    metaLeader: pingJszLeader,
  }));
});
