/**
 * Clustered JetStream as a client sees it, written once and run against any
 * {@link ClusterUnderTest}: three real `nats-server -js` processes
 * (test/conformance/jetstream-cluster.test.ts) and, later, the embedded
 * `createCluster({ jetstream: true })`. Everything is asserted from the outside, through the
 * official clients (`@nats-io/transport-node`, `@nats-io/jetstream`) and raw `$JS.API`
 * requests where the client hides the JSON (key order, absent keys).
 *
 * The expected values are what nats-server 2.9.10 answers (the binary here); where 2.10.29
 * (which nats-embedded follows) differs, the assertion depends on the server's INFO `version`
 * and a comment names the 2.10 source. The facts behind each assertion, with timings, are in
 * /work/notes/jscluster-facts.md (the lead's notes).
 *
 * One cluster is shared by the whole describe block; the scenarios run in order and every one
 * that kills members restarts them before it ends. Leader elections take nats-server 4–9 s
 * (raft.go minElectionTimeout / maxElectionTimeout), so waits poll with generous bounds.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers, RequestError, TimeoutError, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, StorageType, type JetStreamClient } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { ClusterUnderTest } from '../helpers/cluster-under-test.js';
import { eventually } from '../helpers/eventually.js';

/** A raw `$JS.API` (or publish) reply: its JSON, or what happened instead. */
type Reply =
  | { readonly kind: 'json'; readonly body: string; readonly json: Json }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'no-responders' };
type Json = Record<string, unknown>;

/** A replica entry of a `cluster` block. */
interface Peer {
  name: string;
  current: boolean;
  offline?: boolean;
  active: number;
  lag?: number;
  peer: string;
}
/** A `cluster` block of STREAM.INFO / CONSUMER.INFO. */
interface ClusterBlock {
  name?: string;
  raft_group?: string;
  leader?: string;
  replicas?: Peer[];
}

const ELECTION_MS = 25_000; // nats-server: 4–9 s election timeout, plus a loaded 2-core machine
const STEPDOWN_RESPONSE = (what: 'stream' | 'consumer' | 'meta'): string =>
  `{"type":"io.nats.jetstream.api.v1.${what}_leader_stepdown_response","success":true}`;

/**
 * The raft peer id of a server: nats-server's getHash(server_name) (events.go getHashSize,
 * 2.9 and 2.10): sha256 of the name, the first 8 bytes each mapped to base-62 digits.
 */
export function peerIdOf(serverName: string): string {
  const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const b = createHash('sha256').update(serverName).digest();
  let s = '';
  for (let i = 0; i < 8; i++) s += digits[b[i] % 62];
  return s;
}

/** Sends `body` to `subject` and waits up to `timeoutMs` for the reply. */
async function api(nc: NatsConnection, subject: string, body: unknown = '', timeoutMs = 2000, hdrs?: ReturnType<typeof headers>): Promise<Reply> {
  try {
    const m = await nc.request(subject, typeof body === 'string' ? body : JSON.stringify(body), { timeout: timeoutMs, headers: hdrs });
    const text = m.string();
    return { kind: 'json', body: text, json: JSON.parse(text) as Json };
  } catch (err) {
    if (err instanceof TimeoutError || (err instanceof RequestError && err.cause instanceof TimeoutError)) return { kind: 'timeout' };
    if (err instanceof RequestError && err.isNoResponders()) return { kind: 'no-responders' };
    throw err;
  }
}

/** The JSON of a reply that must be JSON. */
function jsonOf(r: Reply): Json {
  if (r.kind !== 'json') throw new Error(`expected a JSON reply, got ${r.kind}`);
  return r.json;
}

/** True when the server says it is 2.10 or later (INFO `version`): the shapes that differ follow it. */
function is210(nc: NatsConnection): boolean {
  const [maj, min] = (nc.info?.version ?? '0.0').split('.').map(Number);
  return maj > 2 || (maj === 2 && min >= 10);
}

/** With JS_CLUSTER_PRINT=1, prints timings and replies (for the facts file). */
const note = (...what: unknown[]): void => {
  if (process.env.JS_CLUSTER_PRINT) console.log('[cluster]', ...what.map((w) => (typeof w === 'string' ? w : JSON.stringify(w))));
};

/** Sorted copy. */
const sorted = (a: readonly string[]): string[] => [...a].sort();

/**
 * Registers the clustered-JetStream scenarios for the cluster `factory` starts (3 members,
 * JetStream on each, no accounts configured: clients are in the global account).
 */
export function describeClusterScenarios(label: string, factory: () => Promise<ClusterUnderTest>): void {
  describe(`clustered JetStream (${label})`, () => {
    let cluster: ClusterUnderTest;
    const open: NatsConnection[] = [];
    let names: string[] = [];

    beforeAll(async () => {
      cluster = await factory();
      names = Array.from({ length: cluster.size }, (_, i) => cluster.serverName(i));
    }, 60_000);
    afterAll(async () => {
      await Promise.all(open.map((nc) => nc.close().catch(() => {})));
      await cluster?.close();
    }, 60_000);

    /** Members killed by a scenario and not yet restarted: restarted after a failed scenario, so the next one starts whole. */
    const down = new Set<number>();
    const kill = async (i: number): Promise<void> => {
      down.add(i);
      await cluster.kill(i);
    };
    const restart = async (i: number): Promise<void> => {
      await cluster.restart(i);
      down.delete(i);
    };
    afterEach(async () => {
      for (const i of [...down]) await restart(i);
    });

    /** A client connected to member `i` only (no reconnect elsewhere), closed after the block. */
    const client = async (i: number): Promise<NatsConnection> => {
      const nc = await connect({ servers: cluster.urls[i], reconnect: false, name: `scenario-${i}` });
      open.push(nc);
      return nc;
    };
    const clients = async (): Promise<NatsConnection[]> => Promise.all(names.map((_, i) => client(i)));

    /** STREAM.INFO's raw JSON once `ok` holds for it (polled through `nc`). */
    const streamInfoWhen = async (nc: NatsConnection, stream: string, ok: (j: Json) => boolean, what: string, timeoutMs = ELECTION_MS): Promise<Json> => {
      let last = '';
      return eventually(async () => {
        const r = await api(nc, `$JS.API.STREAM.INFO.${stream}`, '', 1000);
        last = r.kind === 'json' ? r.body : r.kind;
        return r.kind === 'json' && r.json.error === undefined && ok(r.json) ? r.json : undefined;
      }, what, timeoutMs).catch((err: unknown) => {
        throw new Error(`${String(err)}; the last reply: ${last}`);
      });
    };
    const consumerInfoWhen = async (nc: NatsConnection, stream: string, consumer: string, ok: (j: Json) => boolean, what: string, timeoutMs = ELECTION_MS): Promise<Json> =>
      eventually(async () => {
        const r = await api(nc, `$JS.API.CONSUMER.INFO.${stream}.${consumer}`, '', 1000);
        return r.kind === 'json' && r.json.error === undefined && ok(r.json) ? r.json : undefined;
      }, what, timeoutMs);
    /** $JS.API.INFO without an error through `nc`: the meta group has a leader (after a kill it may be electing). */
    const metaReady = async (nc: NatsConnection, timeoutMs = ELECTION_MS): Promise<Json> =>
      eventually(async () => {
        const r = await api(nc, '$JS.API.INFO', '', 1000);
        return r.kind === 'json' && r.json.error === undefined ? r.json : undefined;
      }, 'a JetStream meta leader', timeoutMs);
    const clusterOf = (j: Json): ClusterBlock => j.cluster as ClusterBlock;
    /** Leader set and every other member a current replica without lag. */
    const healthy = (size: number) => (j: Json): boolean => {
      const c = clusterOf(j);
      return c?.leader !== undefined && c.replicas?.length === size - 1 && c.replicas.every((p) => p.current && p.lag === undefined);
    };

    /**
     * The `cluster` block of a healthy R`size` group: the cluster's name, the 2.10 raft group,
     * a member as leader, the others as current replicas (sorted by name) with their peer ids.
     */
    const expectHealthyBlock = (nc: NatsConnection, c: ClusterBlock, size: number, groupPrefix: string): void => {
      // 2.10.29 adds `raft_group` (jetstream_cluster.go clusterInfo, ClusterInfo.RaftGroup) between
      // name and leader; 2.9.10 has no such key. R1 groups have no raft node, so no raft_group in either.
      const withGroup = is210(nc) && size > 1;
      expect(Object.keys(c)).toEqual(['name', ...(withGroup ? ['raft_group'] : []), 'leader', ...(size > 1 ? ['replicas'] : [])]);
      // The cluster name, as INFO `cluster` says to the client.
      expect(typeof c.name === 'string' && c.name.length > 0).toBe(true);
      expect(c.name).toBe(nc.info?.cluster);
      if (withGroup) expect(c.raft_group).toMatch(new RegExp(`^${groupPrefix}-[0-9A-Za-z]{8}$`));
      expect(names).toContain(c.leader);
      if (size === 1) return;
      const replicas = c.replicas!;
      expect(replicas.map((p) => p.name)).toEqual(sorted(replicas.map((p) => p.name)));
      expect(replicas.map((p) => p.name)).not.toContain(c.leader);
      for (const p of replicas) {
        expect(names).toContain(p.name);
        // `offline` and `lag` are omitempty: absent while the replica is up and caught up.
        expect(Object.keys(p)).toEqual(['name', 'current', 'active', 'peer']);
        expect(p.current).toBe(true);
        expect(Number.isInteger(p.active) && p.active >= 0).toBe(true);
        expect(p.peer).toBe(peerIdOf(p.name));
      }
    };
    /** The block without what changes between two reads (`active`, ns since the peer was heard from). */
    const stable = (c: ClusterBlock): ClusterBlock => ({ ...c, replicas: c.replicas?.map((p) => ({ ...p, active: 0 })) });

    describe.each([['file', StorageType.File, 'F'], ['memory', StorageType.Memory, 'M']] as const)('an R3 stream (%s storage)', (storageName, storage, letter) => {
      it('STREAM.CREATE and STREAM.INFO from every member show the cluster block: name, leader, two current replicas', async () => {
        const ncs = await clients();
        const stream = `R3${letter}`;
        const jsm = await jetstreamManager(ncs[0]);
        const created = await jsm.streams.add({ name: stream, subjects: [`r3${letter.toLowerCase()}.>`], storage, num_replicas: 3 });
        expect(created.config.num_replicas).toBe(3);
        expect(created.config.storage).toBe(storageName);
        // The create reply already names a leader: it is sent once the new group has elected one.
        expect(names).toContain(created.cluster?.leader);
        const blocks: ClusterBlock[] = [];
        for (const nc of ncs) {
          const info = await streamInfoWhen(nc, stream, healthy(3), `a healthy R3 cluster block via ${nc.info?.server_name}`);
          const keys = Object.keys(info);
          // The block follows `state` (StreamInfo field order, 2.9 and 2.10).
          expect(keys[keys.indexOf('cluster') - 1]).toBe('state');
          expectHealthyBlock(nc, clusterOf(info), 3, `S-R3${letter}`);
          blocks.push(stable(clusterOf(info)));
        }
        // The same answer whichever member the client is connected to (only the leader answers).
        expect(blocks[1]).toEqual(blocks[0]);
        expect(blocks[2]).toEqual(blocks[0]);
        // Publishing through any member is acked by the stream, in one sequence.
        const js = jetstream(ncs[2]);
        for (let i = 1; i <= 3; i++) expect((await js.publish(`r3${letter.toLowerCase()}.x`, `m${i}`)).seq).toBe(i);
        const after = await streamInfoWhen(ncs[1], stream, (j) => (j.state as { messages: number }).messages === 3, 'three messages');
        expect((after.state as { last_seq: number }).last_seq).toBe(3);
      });
    });

    it('an R1 stream is placed on one member: cluster block with the leader only, the same from every member', async () => {
      const ncs = await clients();
      const jsm = await jetstreamManager(ncs[1]);
      const si = await jsm.streams.add({ name: 'ONE', subjects: ['one.>'], num_replicas: 1 });
      expect(si.config.num_replicas).toBe(1);
      const leaders = new Set<string>();
      for (const nc of ncs) {
        const info = jsonOf(await api(nc, '$JS.API.STREAM.INFO.ONE'));
        const c = clusterOf(info);
        // R1: no raft node (createRaftGroup skips single-peer groups), so no replicas and no raft_group, 2.9 and 2.10.
        expect(Object.keys(c)).toEqual(['name', 'leader']);
        expect(c.name).toBe(nc.info?.cluster);
        leaders.add(c.leader!);
      }
      expect(leaders.size).toBe(1);
      expect(names).toContain([...leaders][0]);
      // num_replicas 0 means 1: the config says 1, and the stream is R1.
      const zero = jsonOf(await api(ncs[0], '$JS.API.STREAM.CREATE.ZERO', { name: 'ZERO', subjects: ['zero'], num_replicas: 0 }));
      expect((zero.config as { num_replicas: number }).num_replicas).toBe(1);
      expect(Object.keys(clusterOf(zero))).toEqual(['name', 'leader']);
      // Published through another member, still one stream.
      const js = jetstream(ncs[2]);
      expect((await js.publish('one.a', 'x')).seq).toBe(1);
      const state = (await jsm.streams.info('ONE')).state;
      expect(state.messages).toBe(1);
    });

    it('$JS.API.INFO answers the same counts from every member; CONSUMER.INFO of an R3 consumer shows its own cluster block', async () => {
      const ncs = await clients();
      const infos = await Promise.all(ncs.map(async (nc) => jsonOf(await api(nc, '$JS.API.INFO'))));
      for (const info of infos) {
        expect(info.type).toBe('io.nats.jetstream.api.v1.account_info_response');
        expect(info.error).toBeUndefined();
        // R3F, R3M, ONE, ZERO (created above).
        expect(info.streams).toBe(4);
        expect(info.consumers).toBe(0);
        expect(info.limits).toEqual(infos[0].limits);
      }
      // Account usage in a cluster is summed over the members' stores: an R3 stream's bytes count three times.
      // (Each member reports its own usage to the others, so poll until the sums have arrived.)
      const bytesOf = async (stream: string): Promise<number> => (jsonOf(await api(ncs[0], `$JS.API.STREAM.INFO.${stream}`)).state as { bytes: number }).bytes;
      const fileBytes = 3 * (await bytesOf('R3F')) + (await bytesOf('ONE'));
      const memBytes = 3 * (await bytesOf('R3M'));
      expect(fileBytes).toBeGreaterThan(0);
      expect(memBytes).toBeGreaterThan(0);
      for (const nc of ncs) {
        await eventually(async () => {
          const j = jsonOf(await api(nc, '$JS.API.INFO'));
          return j.storage === fileBytes && j.memory === memBytes;
        }, `account usage ${fileBytes} B file, ${memBytes} B memory via ${nc.info?.server_name}`);
      }

      const jsm = await jetstreamManager(ncs[0]);
      // A durable without num_replicas inherits the stream's R3 (config keeps num_replicas 0).
      const ci = await jsm.consumers.add('R3F', { durable_name: 'DUR', ack_policy: AckPolicy.Explicit });
      expect(ci.config.num_replicas).toBe(0);
      const blocks: ClusterBlock[] = [];
      for (const nc of ncs) {
        const info = await consumerInfoWhen(nc, 'R3F', 'DUR', healthy(3), `a healthy consumer block via ${nc.info?.server_name}`);
        const keys = Object.keys(info);
        expect(keys[keys.indexOf('cluster') - 1]).toBe('num_pending');
        expect(info.num_pending).toBe(3);
        expectHealthyBlock(nc, clusterOf(info), 3, 'C-R3F');
        blocks.push(stable(clusterOf(info)));
      }
      expect(blocks[1]).toEqual(blocks[0]);
      expect(blocks[2]).toEqual(blocks[0]);
      // num_replicas 1 on an R3 stream: an R1 consumer, leader only.
      const r1 = jsonOf(await api(ncs[1], '$JS.API.CONSUMER.CREATE.R3F.SOLO', { stream_name: 'R3F', config: { durable_name: 'SOLO', ack_policy: 'explicit', num_replicas: 1 } }));
      expect(Object.keys(clusterOf(r1))).toEqual(['name', 'leader']);
      // An ephemeral on a limits stream is R1 (2.9 and 2.10: "ephemerals be R=1 unless stream is interest or workqueue").
      const eph = jsonOf(await api(ncs[2], '$JS.API.CONSUMER.CREATE.R3F', { stream_name: 'R3F', config: { ack_policy: 'explicit' } }));
      expect(Object.keys(clusterOf(eph))).toEqual(['name', 'leader']);
      const counted = jsonOf(await api(ncs[2], '$JS.API.INFO'));
      expect(counted.consumers).toBe(3);
    });

    it('STREAM.LEADER.STEPDOWN and CONSUMER.LEADER.STEPDOWN answer success and another member leads', async () => {
      const [nc] = await clients();
      const before = clusterOf(await streamInfoWhen(nc, 'R3F', healthy(3), 'a healthy R3F'));
      const sd = await api(nc, '$JS.API.STREAM.LEADER.STEPDOWN.R3F');
      expect(sd.kind === 'json' && sd.body).toBe(STEPDOWN_RESPONSE('stream'));
      const after = clusterOf(await streamInfoWhen(nc, 'R3F', (j) => healthy(3)(j) && clusterOf(j).leader !== before.leader, 'a new stream leader'));
      expect(names).toContain(after.leader);
      expect(after.leader).not.toBe(before.leader);
      // The stream keeps its messages and takes new ones under the new leader.
      expect((await jetstream(nc).publish('r3f.y', 'after')).seq).toBe(4);

      const cBefore = clusterOf(await consumerInfoWhen(nc, 'R3F', 'DUR', healthy(3), 'a healthy DUR'));
      const csd = await api(nc, '$JS.API.CONSUMER.LEADER.STEPDOWN.R3F.DUR');
      expect(csd.kind === 'json' && csd.body).toBe(STEPDOWN_RESPONSE('consumer'));
      const cAfter = clusterOf(await consumerInfoWhen(nc, 'R3F', 'DUR', (j) => healthy(3)(j) && clusterOf(j).leader !== cBefore.leader, 'a new consumer leader'));
      expect(cAfter.leader).not.toBe(cBefore.leader);
      // A consumer has a group of its own: its stepdown leaves the stream's leader where it was.
      const sNow = clusterOf(await streamInfoWhen(nc, 'R3F', healthy(3), 'R3F after the consumer stepdown'));
      expect(sNow.leader).toBe(after.leader);
      // Stepping the consumer down until it leads off the stream's leader: it serves from there.
      for (let i = 0; i < 20 && clusterOf(await consumerInfoWhen(nc, 'R3F', 'DUR', healthy(3), 'a healthy DUR')).leader === sNow.leader; i++) {
        await api(nc, '$JS.API.CONSUMER.LEADER.STEPDOWN.R3F.DUR');
        await consumerInfoWhen(nc, 'R3F', 'DUR', healthy(3), 'DUR after a stepdown');
      }
      const away = clusterOf(await consumerInfoWhen(nc, 'R3F', 'DUR', healthy(3), 'DUR led off the stream leader'));
      expect(away.leader).not.toBe(sNow.leader);
      expect(clusterOf(await streamInfoWhen(nc, 'R3F', healthy(3), 'R3F')).leader).toBe(sNow.leader);
      const m = await (await jetstream(nc).consumers.get('R3F', 'DUR')).next({ expires: 2000 });
      expect(m?.seq).toBe(1);
      expect(await m!.ackAck({ timeout: 2000 })).toBe(true);

      // Stepdowns of what does not exist: the usual not-found errors, in the stepdown response type.
      const noStream = await api(nc, '$JS.API.STREAM.LEADER.STEPDOWN.NOPE');
      expect(noStream.kind === 'json' && noStream.body).toBe('{"type":"io.nats.jetstream.api.v1.stream_leader_stepdown_response","error":{"code":404,"err_code":10059,"description":"stream not found"}}');
      const noStreamC = await api(nc, '$JS.API.CONSUMER.LEADER.STEPDOWN.NOPE.X');
      expect(noStreamC.kind === 'json' && noStreamC.body).toBe('{"type":"io.nats.jetstream.api.v1.consumer_leader_stepdown_response","error":{"code":404,"err_code":10059,"description":"stream not found"}}');
      const noConsumer = await api(nc, '$JS.API.CONSUMER.LEADER.STEPDOWN.R3F.NOPE');
      expect(noConsumer.kind === 'json' && noConsumer.body).toBe('{"type":"io.nats.jetstream.api.v1.consumer_leader_stepdown_response","error":{"code":404,"err_code":10014,"description":"consumer not found"}}');
    });

    it('direct gets on an R3 stream with allow_direct are answered through every member, the same message', async () => {
      const ncs = await clients();
      const jsm = await jetstreamManager(ncs[0]);
      await jsm.streams.add({ name: 'DG', subjects: ['dg.>'], num_replicas: 3, allow_direct: true });
      await streamInfoWhen(ncs[0], 'DG', healthy(3), 'a healthy DG');
      const js = jetstream(ncs[1]);
      for (let i = 1; i <= 3; i++) await js.publish(`dg.${i}`, `v${i}`);
      for (const nc of ncs) {
        // Followers answer direct gets too; one that has not applied the message yet says 404, so poll.
        const m = await eventually(async () => {
          try {
            const r = await nc.request('$JS.API.DIRECT.GET.DG', JSON.stringify({ seq: 2 }), { timeout: 1000 });
            return r.headers?.get('Nats-Sequence') === '2' ? r : undefined;
          } catch {
            return undefined;
          }
        }, `direct get via ${nc.info?.server_name}`);
        expect(m.string()).toBe('v2');
        expect(m.headers?.get('Nats-Stream')).toBe('DG');
        expect(m.headers?.get('Nats-Subject')).toBe('dg.2');
        const last = await nc.request('$JS.API.DIRECT.GET.DG.dg.3', '', { timeout: 1000 });
        expect(last.string()).toBe('v3');
      }
    });

    it('META.LEADER.STEPDOWN from the global account (no system account configured): 2.9 steps down, 2.10 leaves it unanswered; the API answers afterwards', async () => {
      const [nc] = await clients();
      const r = await api(nc, '$JS.API.META.LEADER.STEPDOWN');
      // 2.10.29 jsLeaderStepDownRequest: "This should only be coming from the System Account"
      // (`acc != s.SystemAccount()` → no answer); 2.9.10 has no such check.
      if (is210(nc)) expect(r.kind).toBe('timeout');
      else expect(r.kind === 'json' && r.body).toBe(STEPDOWN_RESPONSE('meta'));
      // Requests that need the meta leader go unanswered until the new one is elected; then they work.
      const info = await metaReady(nc);
      expect(info.streams).toBe(5);
    });

    // A successful SERVER.REMOVE is not a scenario of this shared cluster: it would shrink it for
    // the scenarios after it, and it needs a system-account client (2.10), which this cluster
    // (no accounts configured) has none of — test/conformance/jetstream-server-remove.test.ts
    // compares it on clusters of its own, with a system-account user.
    it('SERVER.REMOVE from the global account: 2.9 answers (here: an unknown server, 10044), 2.10 leaves it unanswered', async () => {
      const [nc] = await clients();
      const r = await api(nc, '$JS.API.SERVER.REMOVE', { peer: 'no-such-server' });
      // 2.10.29 jsLeaderServerRemoveRequest: `if acc != s.SystemAccount() { return }`; 2.9.10 has no such check.
      if (is210(nc)) expect(r.kind).toBe('timeout');
      else expect(r.kind === 'json' && r.body).toBe('{"type":"io.nats.jetstream.api.v1.meta_server_remove_response","error":{"code":400,"err_code":10044,"description":"server is not a member of the cluster"}}');
    });

    it('refuses replica counts the cluster cannot place, with nats-server\'s errors', async () => {
      const [nc] = await clients();
      const create = async (name: string, replicas: number): Promise<Json> =>
        jsonOf(await api(nc, `$JS.API.STREAM.CREATE.${name}`, { name, subjects: [name.toLowerCase()], num_replicas: replicas }));
      // 5 replicas on 3 members: a placement error (JSClusterNoPeersErrF, selectPeerError), not 10074.
      expect((await create('FIVE', 5)).error).toEqual({ code: 400, err_code: 10005, description: 'no suitable peers for placement' });
      // Over 5: the config check (stream.go checkStreamCfg, StreamMaxReplicas), JSStreamInvalidConfigF.
      expect((await create('SIX', 6)).error).toEqual({ code: 500, err_code: 10052, description: 'maximum replicas is 5' });
      expect((await create('NEG', -1)).error).toEqual({ code: 400, err_code: 10133, description: 'replicas count cannot be negative' });
      // Updating an R3 stream to R5: the same placement error.
      const upd = jsonOf(await api(nc, '$JS.API.STREAM.UPDATE.R3M', { name: 'R3M', subjects: ['r3m.>'], storage: 'memory', num_replicas: 5 }));
      expect(upd.error).toEqual({ code: 400, err_code: 10005, description: 'no suitable peers for placement' });
      // None of them exists.
      const list = jsonOf(await api(nc, '$JS.API.STREAM.NAMES'));
      expect(sorted(list.streams as string[])).toEqual(['DG', 'ONE', 'R3F', 'R3M', 'ZERO']);
    });

    it('scales a stream R1 → R3 and R3 → R1 by STREAM.UPDATE, keeping its messages', async () => {
      const [nc, nc1] = await clients();
      const jsm = await jetstreamManager(nc);
      // ZERO is R1; put two messages in it, then scale up.
      const js = jetstream(nc1);
      await js.publish('zero', 'a');
      await js.publish('zero', 'b');
      const up = jsonOf(await api(nc, '$JS.API.STREAM.UPDATE.ZERO', { name: 'ZERO', subjects: ['zero'], num_replicas: 3 }));
      expect(up.error).toBeUndefined();
      expect((up.config as { num_replicas: number }).num_replicas).toBe(3);
      const info = await streamInfoWhen(nc, 'ZERO', healthy(3), 'ZERO as a healthy R3');
      // 2.10 keeps the group's name on a scale-up from R1 (jsClusteredStreamUpdateRequest renames only
      // single-peer groups), so the raft_group still says R1.
      expectHealthyBlock(nc, clusterOf(info), 3, 'S-R1F');
      expect((info.state as { messages: number }).messages).toBe(2);
      const down = jsonOf(await api(nc, '$JS.API.STREAM.UPDATE.ZERO', { name: 'ZERO', subjects: ['zero'], num_replicas: 1 }));
      expect(down.error).toBeUndefined();
      const r1 = await streamInfoWhen(nc, 'ZERO', (j) => clusterOf(j).replicas === undefined && clusterOf(j).leader !== undefined, 'ZERO back to R1');
      expect(Object.keys(clusterOf(r1))).toEqual(['name', 'leader']);
      expect((r1.state as { messages: number }).messages).toBe(2);
      expect((await jsm.streams.getMessage('ZERO', { seq: 2 }))?.string()).toBe('b');
    });

    it('failover: the R3 stream leader is killed; a new leader takes over, every acked message is kept once and in order, a durable resumes, the member catches up', async () => {
      const N1 = 40;
      const N2 = 30;
      const K = 15;
      const ncs = await clients();
      await metaReady(ncs[0]);
      const jsm = await jetstreamManager(ncs[0]);
      await jsm.streams.add({ name: 'FAIL', subjects: ['fail.>'], storage: StorageType.File, num_replicas: 3 });
      await jsm.consumers.add('FAIL', { durable_name: 'W', ack_policy: AckPolicy.Explicit });
      const start = clusterOf(await streamInfoWhen(ncs[0], 'FAIL', healthy(3), 'a healthy FAIL'));
      const victim = cluster.indexOf(start.leader!);
      const survivors = names.map((_, i) => i).filter((i) => i !== victim);
      const pubNc = ncs[survivors[0]];
      const js = jetstream(pubNc);
      /** Publishes with a message id, retrying on no responders / timeout with the same id: one ack per message. */
      const publish = async (jsc: JetStreamClient, i: number): Promise<{ seq: number; duplicate: boolean; tries: number }> => {
        for (let tries = 1; ; tries++) {
          try {
            const ack = await jsc.publish('fail.m', `msg ${i}`, { msgID: `m${i}`, timeout: 1000 });
            return { seq: ack.seq, duplicate: ack.duplicate, tries };
          } catch (err) {
            const cause = (err as { cause?: unknown }).cause;
            const retriable = err instanceof TimeoutError || (cause instanceof RequestError && cause.isNoResponders()) || (err instanceof RequestError && err.isNoResponders());
            if (!retriable || tries > 200) throw err;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      };
      for (let i = 1; i <= N1; i++) expect((await publish(js, i)).seq).toBe(i);
      // The durable takes and acks K messages (ackAck: the ack is committed before the kill).
      const w = await js.consumers.get('FAIL', 'W');
      for (let k = 1; k <= K; k++) {
        const m = await w.next({ expires: 5000 });
        expect(m?.seq).toBe(k);
        expect(await m!.ackAck()).toBe(true);
      }

      await kill(victim);
      const killedAt = Date.now();
      // Right after the kill, a publish through a survivor is not acked: nats-server answers 503 no
      // responders at once (only the stream leader subscribes to the stream's subjects).
      const first = await api(pubNc, 'fail.m', 'probe', 1000);
      expect(first.kind).toBe('no-responders');
      const acks: Array<{ seq: number; duplicate: boolean; tries: number }> = [];
      for (let i = N1 + 1; i <= N1 + N2; i++) acks.push(await publish(js, i));
      const tookOver = Date.now() - killedAt;
      note(`failover: the ${N2} publishes after the kill acked within ${tookOver} ms (the first after ${acks[0].tries} tries), leader was ${start.leader}`);
      expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: N2 }, (_, k) => N1 + 1 + k));
      expect(acks.every((a) => !a.duplicate)).toBe(true);
      expect(tookOver).toBeLessThan(ELECTION_MS);
      const now = clusterOf(await streamInfoWhen(pubNc, 'FAIL', (j) => clusterOf(j).leader !== undefined, 'the new leader'));
      note('failover: cluster block after', now);
      expect(now.leader).not.toBe(start.leader);
      expect(survivors.map((i) => names[i])).toContain(now.leader);
      // The killed member is a replica that is behind: current false, lag > 0 (2.9 and 2.10).
      const dead = now.replicas!.find((p) => p.name === start.leader)!;
      expect(dead.current).toBe(false);
      expect(dead.lag).toBeGreaterThan(0);
      expect(dead.peer).toBe(peerIdOf(start.leader!));
      // The dedupe window survived the failover: an old id is a duplicate of its first sequence.
      const again = await publish(js, 10);
      expect(again).toMatchObject({ seq: 10, duplicate: true });

      // Every acked message, once, in order.
      // checkAPI false: jetstreamManager() otherwise asks $JS.API.INFO, which needs the META leader — gone
      // for a few seconds more when the killed member also led the meta group.
      const jsm2 = await jetstreamManager(pubNc, { checkAPI: false });
      const state = (await jsm2.streams.info('FAIL')).state;
      expect(state.messages).toBe(N1 + N2);
      expect(state.last_seq).toBe(N1 + N2);
      for (let seq = 1; seq <= N1 + N2; seq++) {
        const sm = await jsm2.streams.getMessage('FAIL', { seq });
        expect(sm?.header.get('Nats-Msg-Id')).toBe(`m${seq}`);
        expect(sm?.string()).toBe(`msg ${seq}`);
      }
      // The durable resumes after its K acked messages (its leader may have moved too).
      const w2 = await eventually(async () => {
        try {
          return await jetstream(pubNc).consumers.get('FAIL', 'W');
        } catch {
          return undefined;
        }
      }, 'the durable W after the failover', ELECTION_MS);
      const next = await eventually(async () => (await w2.next({ expires: 2000 }).catch(() => null)) ?? undefined, 'the next message of W', ELECTION_MS);
      expect(next.seq).toBe(K + 1);
      expect(next.info.deliveryCount).toBe(1);
      next.ack();

      // The killed member comes back and catches up: current again, no lag, and its clients see the same stream.
      await restart(victim);
      const restartedAt = Date.now();
      const caughtUp = await streamInfoWhen(pubNc, 'FAIL', (j) => {
        const p = clusterOf(j).replicas?.find((x) => x.name === start.leader);
        return p !== undefined && p.current && p.lag === undefined;
      }, 'the restarted member caught up');
      expect(clusterOf(caughtUp).replicas).toHaveLength(2);
      note(`failover: restarted member current again ${Date.now() - restartedAt} ms after its restart`);
      const back = await client(victim);
      const seen = await streamInfoWhen(back, 'FAIL', healthy(3), 'FAIL via the restarted member');
      expect((seen.state as { messages: number }).messages).toBe(N1 + N2);
    }, 120_000);

    it('quorum loss: with two of three members down a publish gets no ack and STREAM.INFO shows no leader; after restarting them it works again', async () => {
      const ncs = await clients();
      await metaReady(ncs[0]);
      const jsm = await jetstreamManager(ncs[0]);
      await jsm.streams.add({ name: 'QL', subjects: ['ql.>'], storage: StorageType.File, num_replicas: 3 });
      await streamInfoWhen(ncs[0], 'QL', healthy(3), 'a healthy QL');
      const js = jetstream(ncs[0]);
      for (let i = 1; i <= 5; i++) expect((await js.publish('ql.x', `q${i}`, { msgID: `q${i}` })).seq).toBe(i);
      // The survivor is a follower of QL: with the leader and the other follower gone, no member leads.
      const leader = cluster.indexOf(clusterOf(jsonOf(await api(ncs[0], '$JS.API.STREAM.INFO.QL'))).leader!);
      const survivor = names.map((_, i) => i).find((i) => i !== leader)!;
      const victims = names.map((_, i) => i).filter((i) => i !== survivor);
      await Promise.all(victims.map((v) => kill(v)));
      const killedAt = Date.now();
      const nc = ncs[survivor];
      // No ack: 503 no responders at once (only a stream leader subscribes to the stream's subjects).
      expect((await api(nc, 'ql.x', 'lost', 2000)).kind).toBe('no-responders');
      // STREAM.INFO from the survivor: no reply at first, then (once its Raft group knows it is leaderless,
      // jetstream_cluster.go isGroupLeaderless) the info with no `leader` and every member listed, none current.
      const lost = await streamInfoWhen(nc, 'QL', (j) => clusterOf(j).leader === undefined, 'leaderless STREAM.INFO', 30_000);
      const c = clusterOf(lost);
      note(`quorum loss: leaderless STREAM.INFO ${Date.now() - killedAt} ms after the kills`, c);
      expect(c.name).toBe(nc.info?.cluster);
      expect(sorted(c.replicas!.map((p) => p.name))).toEqual(sorted(names));
      for (const p of c.replicas!) {
        expect(p.peer).toBe(peerIdOf(p.name));
        if (p.name !== names[survivor]) expect(p.current).toBe(false);
      }
      expect((lost.state as { messages: number }).messages).toBe(5);
      // The meta group has lost quorum too: account info is 503 / 10008 once the survivor knows it has
      // no meta leader (jsAccountInfoRequest → isLeaderless → JSClusterNotAvailErr). Before that there is
      // no reply, or — when the survivor was the meta leader — its normal answer, until the Raft leader
      // notices the lost quorum and steps down (raft.go lostQuorumCheck / lostQuorumInterval, 10 s each).
      const acct = await eventually(async () => {
        const r = await api(nc, '$JS.API.INFO', '', 1000);
        return r.kind === 'json' && r.json.error !== undefined ? r.json : undefined;
      }, 'an account info error without a meta leader', 40_000);
      note(`quorum loss: account info reply ${Date.now() - killedAt} ms after the kills`, acct);
      expect(acct.error).toEqual({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' });
      // Still no ack.
      expect((await api(nc, 'ql.x', 'lost', 1000)).kind).toBe('no-responders');

      await Promise.all(victims.map((v) => restart(v)));
      const restartedAt = Date.now();
      // With a message id: a try that timed out but was stored after all is a duplicate, not a second message.
      const h = headers();
      h.set('Nats-Msg-Id', 'back');
      const replies: string[] = [];
      const ack = await eventually(async () => {
        const r = await api(nc, 'ql.x', 'back', 1000, h);
        replies.push(r.kind === 'json' ? r.body : r.kind);
        return r.kind === 'json' && r.json.error === undefined ? r.json : undefined;
      }, 'a publish acked after the restart', 60_000).catch(async (err: unknown) => {
        // What each member says, for the failure message.
        const views = await Promise.all(names.map(async (_, i) => {
          const c = await connect({ servers: cluster.urls[i], reconnect: false }).catch(() => undefined);
          if (c === undefined) return `${names[i]}: no connection`;
          const r = await api(c, '$JS.API.STREAM.INFO.QL', '', 1000);
          await c.close();
          return `${names[i]}: ${r.kind === 'json' ? JSON.stringify(r.json.cluster ?? r.json.error) : r.kind}`;
        }));
        throw new Error(`${String(err)}; last replies ${replies.slice(-3).join(' | ')} of ${replies.length}; ${views.join('; ')}`);
      });
      note(`quorum loss: first ack ${Date.now() - restartedAt} ms after the restarts`);
      // The lost publishes were never stored: the sequence continues after the 5 acked ones.
      expect(ack).toMatchObject({ stream: 'QL', seq: 6 });
      const healed = await streamInfoWhen(nc, 'QL', healthy(3), 'QL healthy again', 40_000);
      expect((healed.state as { messages: number }).messages).toBe(6);
      // The meta group is back too, with every stream: ALL = the 7 created by the scenarios. A just-elected
      // meta leader may count one short for a moment while it applies its log, so poll.
      // nats-server 2.9.10 sometimes (2 of ~20 runs here) comes back WITHOUT the FAIL stream of the failover
      // scenario: its assignment is gone from the meta state for good after this kill -9 of two members
      // (STREAM.NAMES lists the other 6). That is a 2.9.10 bug in recovering the meta state (cause not
      // traced: its Raft logs are flushed in place, so not lost writes), not a behaviour to copy: on 2.10
      // (and the embedded cluster) every stream must still be there; on 2.9 the stream under test, QL, must.
      const ALL = ['DG', 'FAIL', 'ONE', 'QL', 'R3F', 'R3M', 'ZERO'];
      let listed: string[] = [];
      await eventually(async () => {
        await metaReady(nc, 40_000);
        const r = await api(nc, '$JS.API.STREAM.NAMES', '', 1000);
        listed = r.kind === 'json' && Array.isArray(r.json.streams) ? sorted(r.json.streams as string[]) : [];
        return listed.length === ALL.length;
      }, 'the 7 streams listed again', 20_000).catch(() => undefined);
      note('quorum loss: streams listed after the restarts', listed);
      if (is210(nc)) expect(listed).toEqual(ALL);
      else {
        expect(listed).toContain('QL');
        for (const name of listed) expect(ALL).toContain(name);
        expect(listed.length).toBeGreaterThanOrEqual(ALL.length - 1);
      }
      const recovered = await metaReady(nc);
      expect(recovered.streams).toBe(listed.length);
    }, 150_000);

    // ---- Mirrors and sources (after the quorum-loss scenario: its stream count stays 7) --------

    /** A stream's messages as `seq subject data`, read through `nc` (STREAM.MSG.GET; skipped and deleted sequences left out). */
    const messagesOf = async (nc: NatsConnection, stream: string): Promise<string[]> => {
      const info = jsonOf(await api(nc, `$JS.API.STREAM.INFO.${stream}`, '', 2000));
      const st = info.state as { first_seq: number; last_seq: number; messages: number };
      const out: string[] = [];
      for (let seq = st.first_seq; st.messages > 0 && seq <= st.last_seq; seq++) {
        const r = await api(nc, `$JS.API.STREAM.MSG.GET.${stream}`, { seq }, 2000);
        const m = jsonOf(r).message as { subject: string; seq: number; data?: string; hdrs?: string } | undefined;
        if (m === undefined) continue;
        const hdrs = m.hdrs === undefined ? '' : Buffer.from(m.hdrs, 'base64').toString('latin1');
        // Nats-Stream-Source: `<origin> <seq>` in 2.9, `<origin> <seq> <filter> <dest>` in 2.10
        // (stream.go genSourceHeader): compared on its first two fields.
        const src = /Nats-Stream-Source: ([^ \r]+) (\d+)/.exec(hdrs);
        out.push(`${m.seq} ${m.subject} ${Buffer.from(m.data ?? '', 'base64').toString('utf8')}${src === null ? '' : ` <${src[1]} ${src[2]}>`}`);
      }
      return out;
    };
    /** Publishes with a message id, retrying (same id) across a failover. */
    const publishOnce = async (js: JetStreamClient, subject: string, id: string): Promise<number> => {
      for (let tries = 1; ; tries++) {
        try {
          return (await js.publish(subject, id, { msgID: id, timeout: 1000 })).seq;
        } catch (err) {
          if (tries > 300) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    /** STREAM.INFO's `mirror` or `sources[i]` block: name, lag 0 and a recent `active` (ns) — 2.9.10 and 2.10 alike without filters. */
    const expectSourceInfo = (block: unknown, name: string): void => {
      const b = block as Json;
      expect(Object.keys(b)).toEqual(['name', 'lag', 'active']);
      expect(b.name).toBe(name);
      expect(b.lag).toBe(0);
      expect(Number.isInteger(b.active) && (b.active as number) >= 0).toBe(true);
    };

    it('an R3 mirror of an R3 origin keeps the origin\'s sequences; an R3 stream sources two R1 streams; every member shows the leader\'s mirror/sources info', async () => {
      const ncs = await clients();
      await metaReady(ncs[0]);
      const jsm = await jetstreamManager(ncs[0], { checkAPI: false });
      const js = jetstream(ncs[0]);
      await jsm.streams.add({ name: 'MO', subjects: ['mo.>'], num_replicas: 3 });
      for (let i = 1; i <= 5; i++) await publishOnce(js, `mo.${i}`, `mo${i}`);
      await jsm.streams.deleteMessage('MO', 2);
      const created = jsonOf(await api(ncs[1], '$JS.API.STREAM.CREATE.MM', { name: 'MM', num_replicas: 3, mirror: { name: 'MO' } }, 10_000));
      expect(created.error).toBeUndefined();
      expect((created.config as Json).mirror).toMatchObject({ name: 'MO' });
      await jsm.streams.add({ name: 'SA', subjects: ['sa.>'], num_replicas: 1 });
      await jsm.streams.add({ name: 'SB', subjects: ['sb.>'], num_replicas: 1 });
      for (let i = 1; i <= 3; i++) await publishOnce(js, `sa.${i}`, `sa${i}`);
      for (let i = 1; i <= 2; i++) await publishOnce(js, `sb.${i}`, `sb${i}`);
      await jsm.streams.add({ name: 'SS', num_replicas: 3, sources: [{ name: 'SA' }, { name: 'SB' }] });
      for (let i = 6; i <= 8; i++) await publishOnce(js, `mo.${i}`, `mo${i}`);
      await publishOnce(js, 'sb.3', 'sb3');

      const origin = await messagesOf(ncs[0], 'MO');
      expect(origin.map((m) => Number(m.split(' ')[0]))).toEqual([1, 3, 4, 5, 6, 7, 8]);
      // nats-server 2.9.10 loses the origin's first message here in 3 of 4 runs: its clustered
      // skipMsgs (stream.go v2.9.10) proposes the skip of the deleted sequence 2 with
      // node.ProposeDirect, which overtakes the queued proposal of message 1; applied to an empty
      // store it moves the first sequence to 3, and message 1 (lseq 0) is then dropped. 2.10.29
      // proposes skips in order (ProposeMulti): the mirror has all 7. Followed here: 2.10.
      const lossy = !is210(ncs[0]);
      for (let i = 0; i < ncs.length; i++) {
        const nc = ncs[i];
        const mm = await streamInfoWhen(nc, 'MM', (j) => (j.state as Json).last_seq === 8 && (j.mirror as Json | undefined)?.lag === 0 && ((j.mirror as Json).active as number) >= 0 && healthy(3)(j), `MM caught up via ${names[i]}`);
        expectSourceInfo(mm.mirror, 'MO');
        const mirrored = await messagesOf(nc, 'MM');
        if (lossy && mirrored.length === 6) {
          expect(mirrored).toEqual(origin.slice(1));
        } else {
          expect(mm.state).toMatchObject({ messages: 7, first_seq: 1, last_seq: 8, num_deleted: 1 });
          expect(mirrored).toEqual(origin);
        }
        const ss = await streamInfoWhen(nc, 'SS', (j) => (j.state as Json).messages === 6 && Array.isArray(j.sources) && (j.sources as Json[]).every((x) => x.lag === 0 && (x.active as number) >= 0) && healthy(3)(j), `SS caught up via ${names[i]}`);
        // In Go map order (stream.go sourcesInfo ranges over mset.sources, 2.9 and 2.10): any order.
        const blocks = [...(ss.sources as Json[])].sort((a, b) => String(a.name).localeCompare(String(b.name)));
        expect(blocks.map((b) => b.name)).toEqual(['SA', 'SB']);
        expectSourceInfo(blocks[0], 'SA');
        expectSourceInfo(blocks[1], 'SB');
        const sourced = await messagesOf(nc, 'SS');
        // Stored at the stream's own sequences 1..6; each source in its order, the two interleaved in any order.
        expect(sourced.map((m) => Number(m.split(' ')[0]))).toEqual([1, 2, 3, 4, 5, 6]);
        const rest = (m: string): string => m.slice(m.indexOf(' ') + 1);
        expect(sourced.map(rest).filter((m) => m.startsWith('sa.'))).toEqual([1, 2, 3].map((k) => `sa.${k} sa${k} <SA ${k}>`));
        expect(sourced.map(rest).filter((m) => m.startsWith('sb.'))).toEqual([1, 2, 3].map((k) => `sb.${k} sb${k} <SB ${k}>`));
      }
    }, 120_000);

    it('the mirror\'s leader is killed while the origin is published to: the mirror ends with exactly the origin\'s messages at the origin\'s sequences', async () => {
      const TOTAL = 90;
      const ncs = await clients();
      await metaReady(ncs[0]);
      const jsm = await jetstreamManager(ncs[0], { checkAPI: false });
      await jsm.streams.add({ name: 'FO', subjects: ['fo.>'], num_replicas: 3 });
      await jsm.streams.add({ name: 'FM', num_replicas: 3, mirror: { name: 'FO' } });
      const start = clusterOf(await streamInfoWhen(ncs[0], 'FM', healthy(3), 'a healthy FM'));
      const victim = cluster.indexOf(start.leader!);
      const survivor = names.map((_, i) => i).find((i) => i !== victim)!;
      const nc = ncs[survivor];
      const js = jetstream(nc);
      let acked = 0;
      let killed = false;
      // Paced, and held at 45 until the kill is done: publishes go on before, during and after it.
      const publisher = (async () => {
        for (let i = 1; i <= TOTAL; i++) {
          expect(await publishOnce(js, `fo.${i % 4}`, `fo${i}`)).toBe(i);
          acked = i;
          if (i === 45) await eventually(() => killed, 'the kill', 60_000);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      await eventually(async () => {
        const r = await api(nc, '$JS.API.STREAM.INFO.FM', '', 1000);
        return r.kind === 'json' && ((r.json.state as Json | undefined)?.messages as number) >= 20;
      }, 'FM copying', ELECTION_MS);
      const originLeader = clusterOf(jsonOf(await api(nc, '$JS.API.STREAM.INFO.FO', '', 2000))).leader;
      await kill(victim);
      killed = true;
      const killedAt = Date.now();
      note(`mirror failover: ${acked} acked at the kill of ${start.leader}, FO led by ${originLeader}`);
      await eventually(() => acked >= 70, '70 publishes acked', 60_000);
      await restart(victim);
      await publisher;
      note(`mirror failover: ${TOTAL} publishes done ${Date.now() - killedAt} ms after the kill of ${start.leader}`);
      const origin = await messagesOf(nc, 'FO');
      expect(origin).toHaveLength(TOTAL);
      const back = await client(victim);
      for (const c of [nc, back]) {
        // 90 s: when the killed member also led FO, the mirror's consumer went with it; the 10 s
        // health check notices, and a create sent before FO has a leader again waits 30 s (2.9 and 2.10).
        const fm = await streamInfoWhen(c, 'FM', (j) => (j.state as Json).last_seq === TOTAL && (j.mirror as Json | undefined)?.lag === 0 && healthy(3)(j), 'FM caught up', 90_000);
        note(`mirror failover: FM caught up ${Date.now() - killedAt} ms after the kill`);
        expect(fm.state).toMatchObject({ messages: TOTAL, first_seq: 1, last_seq: TOTAL });
        expect(await messagesOf(c, 'FM')).toEqual(origin);
      }
    }, 180_000);

    it('a KV bucket mirror (R3) of an R3 bucket through @nats-io/kv: the same entries at the same sequences, direct gets answered', async () => {
      const ncs = await clients();
      await metaReady(ncs[0]);
      const kvm = new Kvm(ncs[0]);
      const origin = await kvm.create('KO', { replicas: 3, history: 2 });
      await origin.put('a', '1');
      await origin.put('b', '2');
      await origin.put('a', '3');
      await origin.delete('b');
      // The client builds the mirror stream KV_KM: mirror KV_KO, mirror_direct.
      await kvm.create('KM', { replicas: 3, history: 2, mirror: { name: 'KO' } } as never);
      await origin.put('c', '4');
      const want = await messagesOf(ncs[0], 'KV_KO');
      expect(want).toHaveLength(5);
      for (let i = 0; i < ncs.length; i++) {
        const km = await streamInfoWhen(ncs[i], 'KV_KM', (j) => (j.state as Json).last_seq === 5 && (j.mirror as Json | undefined)?.lag === 0 && healthy(3)(j), `KV_KM caught up via ${names[i]}`);
        expect(km.config).toMatchObject({ mirror: { name: 'KV_KO' }, mirror_direct: true, num_replicas: 3 });
        expect(await messagesOf(ncs[i], 'KV_KM')).toEqual(want);
        // The origin's keys through any member (its members and the mirror's leader answer direct gets).
        const kv = await new Kvm(ncs[i]).open('KO');
        expect((await kv.get('a'))?.string()).toBe('3');
        expect((await kv.get('c'))?.string()).toBe('4');
        expect((await kv.get('b'))?.operation).toBe('DEL');
      }
    }, 120_000);
  });
}
