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
 * peerRemoveTimeout; nats-embedded keeps it out).
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

function is210(nc: NatsConnection): boolean {
  const [maj, min] = (nc.info?.version ?? '0.0').split('.').map(Number);
  return maj > 2 || (maj === 2 && min >= 10);
}

/** Every member of the stream's group, leader first. */
function members(si: StreamInfo): string[] {
  return [si.cluster?.leader ?? '(none)', ...(si.cluster?.replicas ?? []).map((p) => p.name)];
}

async function startEmbedded(): Promise<ClusterUnderTest> {
  const c = await createCluster({
    size: 4, jetstream: true,
    authorization: { users: [{ user: 'g', password: 'g' }] }, noAuthUser: 'g',
    accounts: { $SYS: { users: [{ user: 's', password: 's' }] } },
  });
  const names = c.servers.map((s) => s.info.server_name);
  return {
    size: 4, urls: c.urls, serverName: (i) => names[i]!, indexOf: (n) => names.indexOf(n),
    kill: (i) => c.kill(i), restart: (i) => c.restart(i), close: () => c.close(),
  };
}

function describeServerRemove(label: string, factory: () => Promise<ClusterUnderTest>): void {
  describe(`SERVER.REMOVE (${label})`, () => {
    let cluster: ClusterUnderTest;
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
      // A replica (not the stream leader), and a member to send the requests through that is not it.
      const victim = before.cluster!.replicas![0]!.name;
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
      // From the global account: 2.10 does not answer; 2.9 does (an unknown server here, so nothing happens).
      const fromG = await raw(g, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: 'nope' }));
      expect(fromG).toBe(is210(g) ? '(no reply)' : error(400, 10044, 'server is not a member of the cluster'));

      const advisories: string[] = [];
      const sub = sys.subscribe('$JS.EVENT.ADVISORY.SERVER.REMOVED', { callback: (_e, m) => void advisories.push(m.string()) });
      await sys.flush();
      expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: victim }))).toBe(`{"type":"${RESPONSE}","success":true}`);
      expect(await raw(sys, '$JS.API.SERVER.REMOVE', JSON.stringify({ peer: victim }))).toBe(error(400, 10044, 'server is not a member of the cluster'));

      const jsmVia = await jetstreamManager(g, { checkAPI: false });
      const after = await eventually(async () => {
        const si = await jsmVia.streams.info('S').catch(() => undefined);
        if (si === undefined) return undefined;
        const names = members(si);
        return names.length === 3 && !names.includes(victim) && (si.cluster?.replicas ?? []).every((p) => p.current) ? si : undefined;
      }, 'S moved off the removed member', 20_000);
      expect(members(after)).toContain(free);
      expect([after.state.messages, after.state.last_seq]).toEqual([10, 10]);
      const jsVia = jetstream(g);
      expect((await jsVia.publish('s.x', 'm11', { msgID: 'm11' })).seq).toBe(11);
      const next = await eventually(async () => {
        const c = await jsVia.consumers.get('S', 'D').catch(() => undefined);
        if (c === undefined) return undefined;
        for await (const m of await c.fetch({ max_messages: 1, expires: 1000 })) {
          await m.ackAck();
          return m.seq;
        }
        return undefined;
      }, 'the consumer after the move', 20_000);
      expect(next).toBe(5);

      await eventually(async () => (advisories.length > 0 ? true : undefined), 'the server_removed advisory', 10_000);
      const adv = JSON.parse(advisories[0]!) as Record<string, unknown>;
      expect(Object.keys(adv)).toEqual(['type', 'id', 'timestamp', 'server', 'server_id', 'cluster']);
      expect([adv.type, adv.server]).toEqual(['io.nats.jetstream.advisory.v1.server_removed', victim]);
      sub.unsubscribe();

      // One JetStream member fewer: R4 is refused.
      const r4 = await raw(g, '$JS.API.STREAM.CREATE.R4', JSON.stringify({ name: 'R4', subjects: ['r4'], num_replicas: 4 }));
      expect(r4).toBe('{"type":"io.nats.jetstream.api.v1.stream_create_response","error":{"code":400,"err_code":10005,"description":"no suitable peers for placement"}}');
    }, 120_000);
  });
}

const bin = natsServerBin();
describeServerRemove('embedded', startEmbedded);
describe.skipIf(bin === '')('real', () => {
  describeServerRemove('nats-server', () => startRealCluster(bin, 4, {
    extraConfig: ['authorization { users: [{user: g, password: g}] }', 'no_auth_user: g', 'accounts { $SYS { users: [{user: s, password: s}] } }'],
  }));
});
