/**
 * JetStream answers and deliveries to a client in another cluster: the request comes through a
 * gateway with a `_GR_.` reply, and the server's internal answer (an API reply, a pull
 * consumer's delivery with its `$JS.ACK.` reply) goes straight back to the requester's cluster
 * (nats-server's processInboundClientMsg maps an internal client's publication too), with the
 * stored subject shown on the other side.
 */
import { describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createServer } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';

describe('JetStream across a gateway', () => {
  it('serves a pull consumer to a client in another cluster: the stored subject, a working ack', async () => {
    const a = await createServer({ jetstream: true, gateway: { name: 'JA' } });
    const b = await createServer({ gateway: { name: 'JB', gateways: [{ name: 'JA', url: a.gatewayUrl! }] } });
    const ncA = await connect({ servers: a.url });
    const ncB = await connect({ servers: b.url });
    try {
      await eventually(() => a.gateways().outbound.includes('JB') && b.gateways().outbound.includes('JA'), 'both gateways');
      const jsm = await jetstreamManager(ncA);
      await jsm.streams.add({ name: 'S', subjects: ['js.>'] });
      await jsm.consumers.add('S', { durable_name: 'C', ack_policy: AckPolicy.Explicit });
      ncA.publish('js.one', 'x');
      await ncA.flush();
      const consumer = await eventually(async () => {
        try {
          return await jetstream(ncB).consumers.get('S', 'C');
        } catch {
          return false;
        }
      }, 'the consumer from B');
      const m = await consumer.next({ expires: 2000 });
      expect(m?.subject).toBe('js.one');
      expect(m?.info.stream).toBe('S');
      expect(m?.seq).toBe(1);
      await m!.ackAck();
      expect((await jsm.consumers.info('S', 'C')).num_ack_pending).toBe(0);
    } finally {
      await ncA.close();
      await ncB.close();
      await b.close();
      await a.close();
    }
  });

  it('delivers a push consumer to a subscriber in another cluster (its interest counts), and the ack comes back', async () => {
    const a = await createServer({ jetstream: true, gateway: { name: 'PA' } });
    const b = await createServer({ gateway: { name: 'PB', gateways: [{ name: 'PA', url: a.gatewayUrl! }] } });
    const ncA = await connect({ servers: a.url });
    const ncB = await connect({ servers: b.url });
    try {
      await eventually(() => a.gateways().outbound.includes('PB') && b.gateways().outbound.includes('PA'), 'both gateways');
      const jsm = await jetstreamManager(ncA);
      await jsm.streams.add({ name: 'P', subjects: ['p.>'] });
      await jsm.consumers.add('P', { durable_name: 'C', deliver_subject: 'dlv', ack_policy: AckPolicy.Explicit });
      expect((await jsm.consumers.info('P', 'C')).push_bound ?? false).toBe(false);
      const got: string[] = [];
      ncB.subscribe('dlv', { callback: (_e, m) => {
        got.push(m.subject);
        m.respond();
      } });
      await ncB.flush();
      await eventually(async () => (await jsm.consumers.info('P', 'C')).push_bound === true, 'push_bound from the other cluster');
      ncA.publish('p.one', 'x');
      await ncA.flush();
      await eventually(() => got.length === 1, 'the delivery in B');
      expect(got).toEqual(['p.one']);
      await eventually(async () => (await jsm.consumers.info('P', 'C')).num_ack_pending === 0, 'the ack back in A');
    } finally {
      await ncA.close();
      await ncB.close();
      await b.close();
      await a.close();
    }
  });
});
