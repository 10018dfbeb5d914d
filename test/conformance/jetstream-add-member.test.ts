/**
 * A 4th JetStream server joining a running 3-server cluster, against real `nats-server -js`
 * processes (the 4th started later with routes to the three, whose configs already route to its
 * port) and against the embedded `createCluster({ size: 3, jetstream: true }).add()`, with the
 * same client-visible assertions: publishes to an R3 stream go on while it joins, none acked is
 * lost, the stream keeps its leader; then the API answers through the new server, and an R4
 * stream — refused with 10005 before — is placed on all four. Part of `npm run
 * test:conformance` (the real side needs NATS_SERVER_BIN).
 *
 * Same on both (2.9.10 checked by hand too: `/jsz` meta_cluster.cluster_size 4 on the leader
 * within ~1 s). How the new server gets in differs inside: nats-server bootstraps it with the
 * peers it has seen and lets it campaign (its vote request makes the meta leader add it,
 * raft.go trackPeer → ProposeAddPeer); nats-embedded's joins with no voters and asks the meta
 * leader (meta-join.ts), so it never raises the group's term.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { createCluster } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { startRealCluster } from '../helpers/real-cluster.js';
import { natsServerBin } from '../jetstream/real-js.js';

/** Three running members and a 4th started by `add()`. */
interface Side {
  readonly urls: readonly string[];
  serverName(i: number): string;
  add(): Promise<void>;
  close(): Promise<void>;
}

/** The reply's text, or '(no reply)'. */
async function raw(nc: NatsConnection, subject: string, body = '', ms = 2000): Promise<string> {
  try {
    return (await nc.request(subject, body, { timeout: ms })).string();
  } catch {
    return '(no reply)';
  }
}

/** Every member of the stream's group, leader first. */
function members(si: StreamInfo): string[] {
  return [si.cluster?.leader ?? '(none)', ...(si.cluster?.replicas ?? []).map((p) => p.name)];
}

async function startEmbedded(): Promise<Side> {
  const c = await createCluster({ size: 3, jetstream: true });
  return {
    get urls() {
      return c.urls;
    },
    serverName: (i) => c.servers[i]!.info.server_name,
    add: async () => {
      await c.add();
    },
    close: () => c.close(),
  };
}

async function startReal(bin: string): Promise<Side> {
  const c = await startRealCluster(bin, 3, { standby: 1 });
  return { urls: c.urls, serverName: (i) => c.serverName(i), add: () => c.restart(3), close: () => c.close() };
}

const R4 = JSON.stringify({ name: 'R4', subjects: ['r4'], num_replicas: 4 });
const NO_PEERS = '{"type":"io.nats.jetstream.api.v1.stream_create_response","error":{"code":400,"err_code":10005,"description":"no suitable peers for placement"}}';

function describeAdd(label: string, factory: () => Promise<Side>): void {
  describe(`a 4th JetStream server joins (${label})`, () => {
    let cluster: Side;
    const open: NatsConnection[] = [];
    beforeAll(async () => {
      cluster = await factory();
    }, 60_000);
    afterAll(async () => {
      await Promise.all(open.map((nc) => nc.close().catch(() => {})));
      await cluster?.close();
    });

    it('while a client publishes to an R3 stream: nothing acked lost, same stream leader; then R4 is placed on all four', async () => {
      const nc = await connect({ servers: cluster.urls[0] });
      open.push(nc);
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      await jsm.streams.add({ name: 'ADD', subjects: ['add.>'], num_replicas: 3 });
      const leader = await eventually(async () => (await jsm.streams.info('ADD')).cluster?.leader, 'the stream leader', 20_000);
      expect(await raw(nc, '$JS.API.STREAM.CREATE.R4', R4)).toBe(NO_PEERS);

      const acked: number[] = [];
      let stop = false;
      const publisher = (async () => {
        for (let i = 1; !stop; i++) {
          const ack = await js.publish('add.x', String(i), { timeout: 5000, retries: 20 });
          acked.push(ack.seq);
        }
      })();
      await new Promise((r) => setTimeout(r, 200));
      await cluster.add();
      const newName = cluster.serverName(3);

      // Placement uses the new server once the meta leader has added it.
      const created = await eventually(async () => {
        const r = await raw(nc, '$JS.API.STREAM.CREATE.R4', R4);
        return r.includes('"did_create":true') ? r : undefined;
      }, 'R4 placed', 20_000);
      stop = true;
      await publisher;
      const r4 = JSON.parse(created) as StreamInfo;
      expect(members(r4).sort()).toEqual([0, 1, 2, 3].map((i) => cluster.serverName(i)).sort());

      const si = await jsm.streams.info('ADD');
      expect(si.cluster?.leader).toBe(leader);
      expect(members(si)).not.toContain(newName);
      expect(acked.length).toBeGreaterThan(0);
      expect(acked).toEqual(Array.from({ length: acked.length }, (_, i) => i + 1));
      expect(si.state.messages).toBe(acked.length);

      // The API through the new server.
      const nc4 = await connect({ servers: cluster.urls[3] });
      open.push(nc4);
      const info = JSON.parse(await raw(nc4, '$JS.API.INFO', '', 5000)) as { type: string; streams: number; error?: unknown };
      expect(info.error).toBeUndefined();
      expect(info.type).toBe('io.nats.jetstream.api.v1.account_info_response');
      expect(info.streams).toBe(2);
      const ack = await jetstream(nc4).publish('r4', 'x', { timeout: 5000, retries: 20 });
      expect(ack).toMatchObject({ stream: 'R4', seq: 1 });
    }, 120_000);
  });
}

const bin = natsServerBin();
describeAdd('embedded', startEmbedded);
describe.skipIf(bin === '')('real', () => {
  describeAdd('nats-server', () => startReal(bin));
});
