import { describe, it, expect } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createCluster } from '../../src/index.js';

describe('clustered jetstream smoke', () => {
  it('creates an R3 stream and publishes', async () => {
    const cluster = await createCluster({ size: 3, jetstream: true });
    try {
      const nc = await connect({ servers: cluster.urls[1] });
      const jsm = await jetstreamManager(nc);
      // wait for meta leader
      let info;
      for (let i = 0; i < 100; i++) {
        try { info = await jsm.streams.add({ name: 'S', subjects: ['s.>'], num_replicas: 3 }); break; } catch (e) { await new Promise((r) => setTimeout(r, 100)); }
      }
      const js = jetstream(nc);
      for (let i = 0; i < 10; i++) {
        const ack = await js.publish('s.a', `m${i}`);
        expect(ack.seq).toBe(i + 1);
      }
      const si = await jsm.streams.info('S');
      expect(si.state.messages).toBe(10);
      await nc.close();
    } finally {
      await cluster.close();
    }
  }, 30_000);
});
