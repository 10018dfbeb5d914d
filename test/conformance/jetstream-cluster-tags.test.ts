/**
 * Stream placement by server tags, against three real `nats-server -js` processes with
 * `server_tags` and `jetstream { unique_tag: "az:" }`, and against the embedded
 * `createCluster({ memberTags, jetstream: { uniqueTag } })`, with the same client-visible
 * assertions: where streams land, the exact 10005 texts, a move by a new placement (with its
 * messages), 10123 for a move and a scale at once, and a PEER.REMOVE with no server holding the
 * tags (10075, the group one smaller). Part of `npm run test:conformance`.
 *
 * Tags: n1 [az:1, ssd], n2 [az:2, ssd] (written " AZ:2", "SSD " as a config might), n3 [az:2, hdd].
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { createCluster } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { startRealCluster } from '../helpers/real-cluster.js';
import { natsServerBin } from '../jetstream/real-js.js';

const TAGS = [['az:1', 'ssd'], [' AZ:2', 'SSD '], ['az:2', 'hdd']];

interface Side {
  readonly urls: readonly string[];
  serverName(i: number): string;
  close(): Promise<void>;
}

async function startEmbedded(): Promise<Side> {
  const c = await createCluster({ size: 3, jetstream: { uniqueTag: 'az:' }, memberTags: TAGS });
  return { urls: c.urls, serverName: (i) => c.servers[i]!.info.server_name, close: () => c.close() };
}

async function startReal(bin: string): Promise<Side> {
  const c = await startRealCluster(bin, 3, {
    jetstreamConfig: ['unique_tag: "az:"'],
    memberConfig: (i) => [`server_tags: [${TAGS[i]!.map((t) => JSON.stringify(t)).join(', ')}]`],
  });
  return { urls: c.urls, serverName: (i) => c.serverName(i), close: () => c.close() };
}

function describeTags(label: string, factory: () => Promise<Side>, strict: boolean): void {
  describe(`stream placement by server tags (${label})`, () => {
    let cluster: Side;
    let nc: NatsConnection;
    beforeAll(async () => {
      cluster = await factory();
      nc = await connect({ servers: cluster.urls[0] });
    }, 60_000);
    afterAll(async () => {
      await nc?.close().catch(() => {});
      await cluster?.close();
    });

    async function api(subject: string, body: unknown): Promise<Record<string, unknown>> {
      try {
        // Short: a request landing while a moved stream changes leader goes unanswered (both servers); the polls ask again.
        return (await nc.request(subject, JSON.stringify(body), { timeout: 1500 })).json<Record<string, unknown>>();
      } catch {
        return { noReply: true };
      }
    }
    const names = (...i: number[]): string[] => i.map((x) => cluster.serverName(x)).sort();
    /** The stream's servers from STREAM.INFO; [] when unanswered or leaderless. */
    async function placedOn(stream: string): Promise<string[]> {
      const si = await api(`$JS.API.STREAM.INFO.${stream}`, {}) as { cluster?: { leader?: string; replicas?: Array<{ name: string }> } };
      const leader = si.cluster?.leader;
      if (leader === undefined) return [];
      return [leader, ...(si.cluster?.replicas ?? []).map((r) => r.name)].sort();
    }
    const noPeers = (description: string): unknown => ({ code: 400, err_code: 10005, description });

    it('places on servers holding every tag; unique_tag keeps one replica per zone', async () => {
      const hdd = await api('$JS.API.STREAM.CREATE.HDD', { name: 'HDD', subjects: ['hdd'], placement: { tags: ['hdd'] } });
      expect(hdd.error).toBeUndefined();
      expect(await eventually(async () => (await placedOn('HDD')).length > 0 && placedOn('HDD'), 'HDD placed', 20_000)).toEqual(names(2));
      expect((await api('$JS.API.STREAM.CREATE.SSD', { name: 'SSD', subjects: ['ssd'], num_replicas: 2, placement: { tags: ['SSD'] } })).error).toBeUndefined();
      expect(await eventually(async () => (await placedOn('SSD')).length === 2 && placedOn('SSD'), 'SSD placed', 20_000)).toEqual(names(0, 1));
      expect((await api('$JS.API.STREAM.CREATE.NONE', { name: 'NONE', subjects: ['none'], placement: { tags: ['nvme'] } })).error)
        .toEqual(noPeers("no suitable peers for placement, tags not matched ['nvme']"));
      expect((await api('$JS.API.STREAM.CREATE.U3', { name: 'U3', subjects: ['u3'], num_replicas: 3 })).error)
        .toEqual(noPeers('no suitable peers for placement, server tag not unique'));
      expect((await api('$JS.API.STREAM.CREATE.Z2', { name: 'Z2', subjects: ['z2'], num_replicas: 2, placement: { tags: ['az:2'] } })).error).toBeUndefined();
      expect(await eventually(async () => (await placedOn('Z2')).length === 2 && placedOn('Z2'), 'Z2 placed', 20_000)).toEqual(names(1, 2));
    }, 90_000);

    it('a new placement moves the stream with its messages; a move and a scale at once are refused', async () => {
      const js = jetstream(nc);
      for (let i = 0; i < 5; i++) await js.publish('hdd', `m${i}`, { timeout: 5000 });
      const cfg = { name: 'HDD', subjects: ['hdd'], storage: 'file', num_replicas: 1 };
      expect((await api('$JS.API.STREAM.UPDATE.HDD', { ...cfg, num_replicas: 2, placement: { tags: ['ssd'] } })).error)
        .toEqual({ code: 400, err_code: 10123, description: 'can not move and scale a stream in a single update' });
      const up = await api('$JS.API.STREAM.UPDATE.HDD', { ...cfg, placement: { tags: ['ssd', 'az:1'] } });
      expect(up.error).toBeUndefined();
      await eventually(async () => ((await placedOn('HDD')).join() === names(0).join() ? true : undefined), 'HDD on n1', 60_000);
      const st = await eventually(async () => {
        const si = await api('$JS.API.STREAM.INFO.HDD', {}) as { state?: { messages: number; first_seq: number; last_seq: number } };
        return si.state?.messages === 5 ? si.state : undefined;
      }, 'the moved messages', 20_000);
      expect([st.first_seq, st.last_seq]).toEqual([1, 5]);
    }, 90_000);

    it('PEER.REMOVE with no other server holding the tags: 10075, the group one smaller', async () => {
      const r = await api('$JS.API.STREAM.PEER.REMOVE.Z2', { peer: cluster.serverName(1) });
      expect(r.error).toMatchObject({ code: 503, err_code: 10075 });
      // The group is n3 alone. nats-server 2.9.10 proposes the group without n2 too
      // (removePeerFromStreamLocked), but it was seen with n3 not leading Z2 for over 30 s
      // afterwards (probably n3's Raft peer set still holding n2, so that n3 cannot win an
      // election alone); only
      // the embedded side, whose removed member keeps voting until the leader has removed it, is
      // held to it.
      if (strict) await eventually(async () => ((await placedOn('Z2')).join() === names(2).join() ? true : undefined), 'Z2 on n3 alone', 30_000);
    }, 60_000);
  });
}

const bin = natsServerBin();
describeTags('embedded', startEmbedded, true);
describe.skipIf(bin === '')('real', () => {
  describeTags('nats-server', () => startReal(bin), false);
});
