/**
 * A stream's replica count changed by STREAM.UPDATE, as nats-server allows it: R1 → R3 adds two
 * members that catch up from the leader's log; R3 → R1 removes two; the messages stay.
 */
import { describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { eventually } from '../helpers/eventually.js';
import { createCluster } from '../../src/index.js';

/** eventually(), with a probe that may reject while the cluster changes (counted as not yet). */
function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  return eventually(() => fn().catch(() => undefined), what, ms);
}

describe('clustered JetStream: replica changes', () => {
  it('R1 → R3 → R1 keeps the messages; R5 on three members is refused', async () => {
    const cluster = await createCluster({ size: 3, jetstream: true });
    try {
      const nc = await connect({ servers: cluster.urls[0] });
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      await jsm.streams.add({ name: 'Z', subjects: ['z'], num_replicas: 1 });
      for (let i = 1; i <= 5; i++) await js.publish('z', `m${i}`);
      const up = await jsm.streams.update('Z', { num_replicas: 3 });
      expect(up.config.num_replicas).toBe(3);
      const r3 = await until('Z as a healthy R3', async () => {
        const si = await jsm.streams.info('Z');
        const r = si.cluster?.replicas ?? [];
        return si.cluster?.leader !== undefined && r.length === 2 && r.every((p) => p.current) ? si : undefined;
      });
      expect(r3.state.messages).toBe(5);
      // Every member holds the messages: a new leader has them.
      await nc.request('$JS.API.STREAM.LEADER.STEPDOWN.Z', '', { timeout: 2000 });
      // Until the new leader is in place a publish gets no responders: retried with its id.
      expect((await until('an ack under the new leader', async () => js.publish('z', 'm6', { msgID: 'm6', timeout: 500 }))).seq).toBe(6);
      await expect(jsm.streams.update('Z', { num_replicas: 5 })).rejects.toThrow(/no suitable peers for placement/);
      await jsm.streams.update('Z', { num_replicas: 1 });
      const r1 = await until('Z back to R1', async () => {
        const si = await jsm.streams.info('Z');
        return si.cluster?.replicas === undefined && si.cluster?.leader !== undefined ? si : undefined;
      });
      expect(r1.state.messages).toBe(6);
      expect((await js.publish('z', 'm7')).seq).toBe(7);
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 60_000);
});

describe('clustered JetStream: STREAM.PEER.REMOVE', () => {
  it('moves an R1 stream to a free server; on a full R3 group the peer leaves and the answer is 10075', async () => {
    const cluster = await createCluster({ size: 3, jetstream: true });
    try {
      const nc = await connect({ servers: cluster.urls[0] });
      const jsm = await jetstreamManager(nc);
      const js = jetstream(nc);
      await jsm.streams.add({ name: 'ONE', subjects: ['one'], num_replicas: 1 });
      for (let i = 1; i <= 3; i++) await js.publish('one', `m${i}`);
      const host = (await jsm.streams.info('ONE')).cluster!.leader!;
      const r = await nc.request('$JS.API.STREAM.PEER.REMOVE.ONE', JSON.stringify({ peer: host }), { timeout: 2000 });
      expect(r.json()).toEqual({ type: 'io.nats.jetstream.api.v1.stream_remove_peer_response', success: true });
      const moved = await until('ONE on another server', async () => {
        const si = await jsm.streams.info('ONE');
        return si.cluster?.leader !== undefined && si.cluster.leader !== host && si.cluster.replicas === undefined ? si : undefined;
      });
      expect(moved.state.messages).toBe(3);
      const notMember = await nc.request('$JS.API.STREAM.PEER.REMOVE.ONE', JSON.stringify({ peer: host }), { timeout: 2000 });
      expect(notMember.json()).toEqual({ type: 'io.nats.jetstream.api.v1.stream_remove_peer_response', error: { code: 400, err_code: 10040, description: 'peer not a member' } });

      await jsm.streams.add({ name: 'THREE', subjects: ['three'], num_replicas: 3 });
      await js.publish('three', 'x');
      const victim = cluster.servers[2]!.info.server_name;
      const full = await nc.request('$JS.API.STREAM.PEER.REMOVE.THREE', JSON.stringify({ peer: victim }), { timeout: 2000 });
      expect(full.json()).toEqual({ type: 'io.nats.jetstream.api.v1.stream_remove_peer_response', error: { code: 503, err_code: 10075, description: 'peer remap failed' } });
      const two = await until('THREE on two members', async () => {
        const si = await jsm.streams.info('THREE');
        const names = [si.cluster?.leader, ...(si.cluster?.replicas ?? []).map((p) => p.name)];
        return names.length === 2 && !names.includes(victim) ? si : undefined;
      });
      expect(two.state.messages).toBe(1);
      expect((await js.publish('three', 'y')).seq).toBe(2);
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
