import { describe, it, expect } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { headers } from '@nats-io/nats-core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createCluster } from '../../src/index.js';

describe('clustered jetstream failover', () => {
  it('kill the leader: a new leader, retried publishes succeed, nothing acked lost or duplicated', async () => {
    const cluster = await createCluster({ size: 3, jetstream: true });
    try {
      const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'S', subjects: ['s.>'], num_replicas: 3 });
      const js = jetstream(nc);
      const acked = new Map<string, number>();
      const pub = async (id: string): Promise<void> => {
        for (let attempt = 0; ; attempt++) {
          try {
            const h = headers();
            h.set('Nats-Msg-Id', id);
            const ack = await js.publish('s.a', id, { headers: h, timeout: 500 });
            acked.set(id, ack.seq);
            return;
          } catch (err) {
            if (attempt > 40) throw err;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      };
      for (let i = 0; i < 50; i++) await pub(`a${i}`);
      const leader = await cluster.streamLeader('S');
      await cluster.kill(leader);
      for (let i = 0; i < 50; i++) await pub(`b${i}`);
      const newLeader = await cluster.streamLeader('S');
      expect(newLeader).not.toBe(leader);
      await cluster.restart(leader);
      for (let i = 0; i < 20; i++) await pub(`c${i}`);
      const si = await jsm.streams.info('S');
      expect(si.state.messages).toBe(120);
      expect(si.state.last_seq).toBe(120);
      // Every acked id at its acked sequence, once.
      const seen = new Set<string>();
      for (let seq = 1; seq <= 120; seq++) {
        const m = await jsm.streams.getMessage('S', { seq });
        const id = m!.string();
        expect(seen.has(id)).toBe(false);
        seen.add(id);
        expect(acked.get(id)).toBe(seq);
      }
      // The restarted member caught up.
      const deadline = Date.now() + 5000;
      for (;;) {
        const info = await jsm.streams.info('S');
        const r = info.cluster?.replicas ?? [];
        if (r.length === 2 && r.every((x) => x.current)) break;
        if (Date.now() > deadline) throw new Error(`replicas not current: ${JSON.stringify(info.cluster)}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 60_000);
});
