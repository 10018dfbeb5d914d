/**
 * Mirrors and sources on clustered streams (issue 18), through the official client: the stream's
 * leader runs the consumers on the origins and proposes every copy to the stream's Raft log, so
 * each replica stores the same messages at the same sequences (a mirror's at the origin's), and a
 * new leader resumes from what its store has — as nats-server 2.10 (stream.go
 * processInboundMirrorMsg / processInboundSourceMsg propose through the stream's raft node;
 * jetstream_cluster.go applyStreamEntries stores them with the mirror's sequence).
 */
import { describe, it, expect } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { createCluster, type NatsCluster } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';

// The probes below read STREAM.INFO with `.catch(() => null)`: right after a kill or a restart a
// request may time out while the stream elects a leader, which is not what they wait for.

const WAIT_MS = 30_000;
/**
 * After a failover that may have taken the origin's leader too: its internal consumer is gone
 * with it, noticed by the 10 s health check, and a create request sent while the origin has no
 * leader waits nats-server's 30 s (srcConsumerWaitTime) before the retry — nats-server too lets
 * only the origin's leader answer a `direct` consumer create in a cluster (2.10.29
 * jetstream_api.go jsConsumerCreateRequest).
 */
const RECOVER_MS = 90_000;
/**
 * Those timers shortened (`jetstream.sourceTiming`) in the tests that kill members (they may
 * wait for that recovery, 3-40 s with the defaults depending on which member dies): a
 * silent consumer is remade after 2 s, a create request unanswered for 3 s is retried.
 */
const QUICK_SOURCING = { healthCheckInterval: 2_000, retryThreshold: 200, retryBackoff: 200, createTimeout: 3_000 };

/** Every message of a stream, by sequence (STREAM.MSG.GET, through the leader). */
async function contents(jsm: JetStreamManager, stream: string): Promise<Map<number, StoredMsg>> {
  const si = await jsm.streams.info(stream);
  const out = new Map<number, StoredMsg>();
  for (let seq = si.state.first_seq; seq <= si.state.last_seq && si.state.messages > 0; seq++) {
    try {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m !== null) out.set(seq, m);
    } catch {
      // A sequence not stored (skipped or deleted).
    }
  }
  return out;
}

/**
 * Publishes with retries across a failover (the client reports no-responders while no leader
 * serves); the payload is the message id, so that a retry of a stored publish is a duplicate.
 */
async function publish(nc: NatsConnection, subject: string, data: string): Promise<number> {
  const js = jetstream(nc);
  for (let attempt = 0; ; attempt++) {
    try {
      return (await js.publish(subject, data, { timeout: 1000, msgID: data })).seq;
    } catch (err) {
      if (attempt > 150) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The stream's messages as `subject:data` at their sequences. */
async function asText(jsm: JetStreamManager, stream: string): Promise<Array<[number, string]>> {
  return [...(await contents(jsm, stream))].map(([seq, m]) => [seq, `${m.subject}:${m.string()}`]);
}

async function closeChecked(cluster: NatsCluster): Promise<void> {
  const errors = cluster.servers.map((s) => (s.state === 'running' ? s.stats().internalErrors : 0));
  await cluster.close();
  expect(errors).toEqual(errors.map(() => 0));
}

describe('clustered mirrors and sources', () => {
  it('an R3 mirror of an R3 origin and an R3 stream sourcing two R1 streams; STREAM.INFO from every member', async () => {
    const cluster = await createCluster({ size: 3, jetstream: true });
    const conns: NatsConnection[] = [];
    try {
      const nc = await connect({ servers: cluster.urls });
      conns.push(nc);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'O', subjects: ['o.>'], num_replicas: 3 });
      for (let i = 1; i <= 5; i++) await publish(nc, `o.${i}`, `m${i}`);
      // The origin's first message removed: the mirror keeps the origin's sequences, gaps included.
      await jsm.streams.deleteMessage('O', 1);
      await jsm.streams.add({ name: 'M', num_replicas: 3, mirror: { name: 'O' } });
      await jsm.streams.add({ name: 'M1', num_replicas: 1, mirror: { name: 'O' } });
      await jsm.streams.add({ name: 'A', subjects: ['a.>'], num_replicas: 1 });
      await jsm.streams.add({ name: 'B', subjects: ['b.>'], num_replicas: 1 });
      for (let i = 1; i <= 3; i++) await publish(nc, `a.${i}`, `a${i}`);
      for (let i = 1; i <= 2; i++) await publish(nc, `b.${i}`, `b${i}`);
      await jsm.streams.add({ name: 'S', num_replicas: 3, sources: [{ name: 'A' }, { name: 'B' }] });
      for (let i = 6; i <= 8; i++) await publish(nc, `o.${i}`, `m${i}`);
      await publish(nc, 'a.4', 'a4');

      await eventually(async () => (await jsm.streams.info('M').catch(() => null))?.state.messages === 7, 'the mirror to copy 7 messages', WAIT_MS);
      const origin = await asText(jsm, 'O');
      expect(await asText(jsm, 'M')).toEqual(origin);
      expect(origin.map(([seq]) => seq)).toEqual([2, 3, 4, 5, 6, 7, 8]);
      const mi = await jsm.streams.info('M');
      expect(mi.state.first_seq).toBe(2);
      expect(mi.state.last_seq).toBe(8);
      // An R1 mirror the same.
      await eventually(async () => (await jsm.streams.info('M1').catch(() => null))?.state.messages === 7, 'the R1 mirror to copy 7 messages', WAIT_MS);
      expect(await asText(jsm, 'M1')).toEqual(origin);

      await eventually(async () => (await jsm.streams.info('S').catch(() => null))?.state.messages === 6, 'the sources to copy 6 messages', WAIT_MS);
      const sourced = await contents(jsm, 'S');
      const got = [...sourced.values()].map((m) => `${m.subject}:${m.string()}:${m.header.get('Nats-Stream-Source')}`);
      // Each source in its own order, interleaved in any order; the 2.10 header format.
      expect(got.filter((g) => g.startsWith('a.'))).toEqual([1, 2, 3, 4].map((i) => `a.${i}:a${i}:A ${i} > >`));
      expect(got.filter((g) => g.startsWith('b.'))).toEqual([1, 2].map((i) => `b.${i}:b${i}:B ${i} > >`));
      expect([...sourced.keys()]).toEqual([1, 2, 3, 4, 5, 6]);

      // STREAM.INFO through every member: the leader's mirror and sources blocks.
      for (const url of cluster.urls) {
        const c = await connect({ servers: url });
        conns.push(c);
        const m = await jetstreamManager(c);
        const info = await eventually(async () => {
          const i = await m.streams.info('M');
          return i.mirror !== undefined && i.mirror.lag === 0 && i.mirror.active >= 0 ? i : undefined;
        }, 'the mirror info', WAIT_MS);
        expect(info.mirror?.name).toBe('O');
        expect(info.cluster?.replicas?.length).toBe(2);
        const s = await eventually(async () => {
          const i = await m.streams.info('S');
          return i.sources?.length === 2 && i.sources.every((x) => x.lag === 0 && x.active >= 0) ? i : undefined;
        }, 'the sources info', WAIT_MS);
        expect(s.sources?.map((x) => x.name).sort()).toEqual(['A', 'B']);
      }

      // STREAM.UPDATE (through the meta group, then the stream's log): B dropped, C added; the
      // leader's consumers follow the new list.
      await jsm.streams.add({ name: 'C', subjects: ['c.>'], num_replicas: 3 });
      await publish(nc, 'c.1', 'c1');
      await jsm.streams.update('S', { sources: [{ name: 'A' }, { name: 'C' }] });
      await publish(nc, 'b.3', 'b3');
      await publish(nc, 'a.5', 'a5');
      await eventually(async () => (await jsm.streams.info('S').catch(() => null))?.state.messages === 8, 'the updated sources to copy', WAIT_MS);
      const updated = [...(await contents(jsm, 'S')).values()].slice(6).map((m) => `${m.subject}:${m.header.get('Nats-Stream-Source')}`);
      expect(updated.sort()).toEqual(['a.5:A 5 > >', 'c.1:C 1 > >']);
      expect((await jsm.streams.info('S')).sources?.map((x) => x.name).sort()).toEqual(['A', 'C']);
    } finally {
      for (const c of conns) await c.close();
      await closeChecked(cluster);
    }
  }, 120_000);

  it('kill the mirror\'s and the sourcing stream\'s leaders while the origin is published to: no loss, no duplicate', async () => {
    const cluster = await createCluster({ size: 3, jetstream: { sourceTiming: QUICK_SOURCING } });
    const conns: NatsConnection[] = [];
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      conns.push(nc);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'O', subjects: ['o.>'], num_replicas: 3 });
      await jsm.streams.add({ name: 'M', num_replicas: 3, mirror: { name: 'O' } });
      await jsm.streams.add({ name: 'S', num_replicas: 3, sources: [{ name: 'O' }] });
      let published = 0;
      let stop = false;
      const publisher = (async () => {
        while (!stop) {
          published++;
          await publish(nc, `o.${published % 5}`, `p${published}`);
        }
      })();
      await eventually(async () => ((await jsm.streams.info('M').catch(() => null))?.state.messages ?? 0) >= 20, 'the mirror copying', WAIT_MS);
      const mirrorLeader = await cluster.streamLeader('M');
      await cluster.kill(mirrorLeader);
      await eventually(async () => published >= 150, 'more publishes after the kill', 60_000);
      await cluster.restart(mirrorLeader);
      const sourceLeader = await cluster.streamLeader('S');
      await cluster.kill(sourceLeader);
      const at = published;
      await eventually(async () => published >= at + 50, 'more publishes after the second kill', 60_000);
      await cluster.restart(sourceLeader);
      stop = true;
      await publisher;

      const jsm2 = await jetstreamManager(nc, { checkAPI: false });
      const origin = await asText(jsm2, 'O');
      expect(origin.length).toBe(published);
      await eventually(async () => (await jsm2.streams.info('M').catch(() => null))?.state.last_seq === published, 'the mirror to catch up', RECOVER_MS).catch(async (err: unknown) => {
        const i = await jsm2.streams.info('M');
        throw new Error(`${String(err)}: published ${published}, mirror ${JSON.stringify({ state: i.state, mirror: i.mirror, cluster: i.cluster })}`);
      });
      expect(await asText(jsm2, 'M')).toEqual(origin);
      await eventually(async () => (await jsm2.streams.info('S').catch(() => null))?.state.messages === published, 'the source to catch up', RECOVER_MS).catch(async (err: unknown) => {
        const i = await jsm2.streams.info('S');
        const got = [...(await contents(jsm2, 'S')).values()].map((m) => m.header.get('Nats-Stream-Source').split(' ')[1]);
        throw new Error(`${String(err)}: published ${published}, source ${JSON.stringify({ state: i.state, sources: i.sources, cluster: i.cluster })} seqs ${got.join(',')}`);
      });
      const sourced = await contents(jsm2, 'S');
      expect([...sourced.values()].map((m) => m.string())).toEqual(origin.map(([, t]) => t.slice(t.indexOf(':') + 1)));
      expect([...sourced.values()].map((m) => m.header.get('Nats-Stream-Source'))).toEqual(origin.map(([seq]) => `O ${seq} > >`));
      expect((await jsm2.streams.info('S')).state.last_seq).toBe(published);
    } finally {
      for (const c of conns) await c.close();
      await closeChecked(cluster);
    }
  }, 240_000);
  it('a restarted replica of a mirror and of a sourcing stream catches up from the log and then leads with the same messages', async () => {
    const cluster = await createCluster({ size: 3, jetstream: { sourceTiming: QUICK_SOURCING } });
    const conns: NatsConnection[] = [];
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      conns.push(nc);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'O', subjects: ['o.>'], num_replicas: 3, storage: StorageType.Memory });
      await jsm.streams.add({ name: 'M', num_replicas: 3, mirror: { name: 'O' } });
      await jsm.streams.add({ name: 'S', num_replicas: 3, sources: [{ name: 'O' }] });
      for (let i = 1; i <= 10; i++) await publish(nc, `o.${i}`, `a${i}`);
      await eventually(async () => (await jsm.streams.info('M').catch(() => null))?.state.messages === 10 && (await jsm.streams.info('S').catch(() => null))?.state.messages === 10, 'the first copies', WAIT_MS);
      // A follower of both (the origin's leader may be anywhere).
      const mLeader = await cluster.streamLeader('M');
      const sLeader = await cluster.streamLeader('S');
      const follower = [0, 1, 2].find((i) => i !== mLeader && i !== sLeader)!;
      await cluster.kill(follower);
      for (let i = 11; i <= 30; i++) await publish(nc, `o.${i}`, `b${i}`);
      // The origin lost its leader if it was the killed one: the mirror recreates its consumer.
      await eventually(async () => (await jsm.streams.info('M').catch(() => null))?.state.messages === 30 && (await jsm.streams.info('S').catch(() => null))?.state.messages === 30, 'the copies while a replica is down', RECOVER_MS);
      await cluster.restart(follower);
      const jsm2 = await jetstreamManager(nc, { checkAPI: false });
      for (const name of ['M', 'S']) {
        await eventually(async () => {
          const info = await jsm2.streams.info(name);
          const r = info.cluster?.replicas ?? [];
          return r.length === 2 && r.every((x) => x.current) ? info : undefined;
        }, `${name}'s restarted replica current`, WAIT_MS);
      }
      const origin = await asText(jsm2, 'O');
      const sourcedBefore = [...(await contents(jsm2, 'S')).values()].map((m) => `${m.string()} ${m.header.get('Nats-Stream-Source')}`);
      // Move each leadership onto the restarted member (kill whoever else leads, restart it; the
      // elections are random): what it stored from the log is what the others had.
      for (const name of ['M', 'S']) {
        for (let tries = 0; ; tries++) {
          const leader = await cluster.streamLeader(name, { timeoutMs: WAIT_MS });
          if (leader === follower) break;
          if (tries > 15) throw new Error(`${name} never led on the restarted member`);
          await cluster.kill(leader);
          await cluster.streamLeader(name, { timeoutMs: WAIT_MS });
          await cluster.restart(leader);
          await eventually(async () => {
            const r = (await jsm2.streams.info(name).catch(() => undefined))?.cluster?.replicas ?? [];
            return r.length === 2 && r.every((x) => x.current);
          }, `${name} whole again`, WAIT_MS);
        }
        if (name === 'M') expect(await asText(jsm2, 'M')).toEqual(origin);
        else expect([...(await contents(jsm2, 'S')).values()].map((m) => `${m.string()} ${m.header.get('Nats-Stream-Source')}`)).toEqual(sourcedBefore);
      }
      expect(sourcedBefore).toEqual(origin.map(([seq, t]) => `${t.slice(t.indexOf(':') + 1)} O ${seq} > >`));
      // The new leader copies on: no duplicate of what the log had.
      for (let i = 31; i <= 35; i++) await publish(nc, `o.${i}`, `c${i}`);
      await eventually(async () => (await jsm2.streams.info('M').catch(() => null))?.state.last_seq === 35 && (await jsm2.streams.info('S').catch(() => null))?.state.messages === 35, 'the copies after the moves', RECOVER_MS);
      expect(await asText(jsm2, 'M')).toEqual(await asText(jsm2, 'O'));
      expect((await jsm2.streams.info('S')).state.last_seq).toBe(35);
    } finally {
      for (const c of conns) await c.close();
      await closeChecked(cluster);
    }
  }, 180_000);
  it('across accounts (external api/deliver prefixes through imports): an R3 mirror and an R3 source in B of an R3 stream in A', async () => {
    // The single-server setup of test/jetstream/cross-account.test.ts, on every member.
    const cluster = await createCluster({
      size: 3,
      jetstream: true,
      accounts: {
        A: {
          users: [{ user: 'a', password: 'a' }],
          jetstream: true,
          exports: [{ service: '$JS.API.>' }, { service: '$JS.FC.>' }, { service: '$JS.ACK.>' }, { stream: 'deliver.b.>', accounts: ['B'] }],
        },
        B: {
          users: [{ user: 'b', password: 'b' }],
          jetstream: true,
          imports: [
            { service: { account: 'A', subject: '$JS.API.>' }, to: '$JS.A.API.>' },
            { service: { account: 'A', subject: '$JS.FC.>' } },
            { service: { account: 'A', subject: '$JS.ACK.>' } },
            { stream: { account: 'A', subject: 'deliver.b.>' } },
          ],
        },
      },
    });
    const conns: NatsConnection[] = [];
    try {
      const a = await connect({ servers: cluster.urls[0], user: 'a', pass: 'a' });
      const b = await connect({ servers: cluster.urls[1], user: 'b', pass: 'b' });
      conns.push(a, b);
      const jsmA = await jetstreamManager(a);
      const jsmB = await jetstreamManager(b);
      await jsmA.streams.add({ name: 'O', subjects: ['o.>'], num_replicas: 3 });
      for (let i = 1; i <= 5; i++) await publish(a, `o.${i}`, `x${i}`);
      const external = { api: '$JS.A.API', deliver: 'deliver.b' };
      await jsmB.streams.add({ name: 'M', num_replicas: 3, mirror: { name: 'O', external } });
      await jsmB.streams.add({ name: 'S', num_replicas: 3, sources: [{ name: 'O', external }] });
      for (let i = 6; i <= 8; i++) await publish(a, `o.${i}`, `x${i}`);
      await eventually(async () => (await jsmB.streams.info('M')).state.messages === 8 && (await jsmB.streams.info('S')).state.messages === 8, 'the copies in B', WAIT_MS);
      expect(await asText(jsmB, 'M')).toEqual(await asText(jsmA, 'O'));
      const info = await jsmB.streams.info('M');
      expect(info.mirror).toMatchObject({ name: 'O', external, lag: 0 });
      // The index name of an external source carries the hash of its API prefix.
      const first = (await contents(jsmB, 'S')).get(1)!;
      expect(first.header.get('Nats-Stream-Source')).toMatch(/^O:[0-9A-Za-z]{8} 1 > >$/);
    } finally {
      for (const c of conns) await c.close();
      await closeChecked(cluster);
    }
  }, 120_000);
});
