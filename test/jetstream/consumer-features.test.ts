/**
 * Consumer features through the official JetStream client (`@nats-io/jetstream`), as
 * nats-server 2.10.29 serves them: `deliver_policy: last_per_subject` (the last message of
 * each subject first, then every new one), `headers_only` (headers plus `Nats-Msg-Size`, no
 * payload) and consumer updates taking effect on the live consumer (max_ack_pending frees a
 * stalled fetch, a new filter, ack_wait, headers_only switched off). The exact bytes are
 * compared with the real nats-server in test/conformance/jetstream-consumer-features.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { useScope } from '../helpers/scope.js';

const scope = useScope();

async function setup(): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const s = await scope.server({ jetstream: true });
  const nc = await scope.client(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'S', subjects: ['s.>'] });
  return { nc, jsm };
}

async function fetchAll(nc: NatsConnection, consumer: string, max: number, expires = 1000): Promise<JsMsg[]> {
  const c = await jetstream(nc).consumers.get('S', consumer);
  const out: JsMsg[] = [];
  for await (const m of await c.fetch({ max_messages: max, expires })) out.push(m);
  return out;
}

describe('deliver_policy last_per_subject', () => {
  it('delivers the last message of each subject in stream order, then every new message', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    for (const [s, d] of [['s.a', 'a1'], ['s.b', 'b1'], ['s.a', 'a2'], ['s.c', 'c1'], ['s.b', 'b2']]) await js.publish(s!, d!);
    const ci = await jsm.consumers.add('S', { durable_name: 'L', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.LastPerSubject, filter_subject: 's.>' });
    // The first selected message is seq 3 (s.a's last): delivered.stream_seq is the one before.
    expect([ci.delivered.stream_seq, ci.num_pending]).toEqual([2, 3]);
    const first = await fetchAll(nc, 'L', 3);
    expect(first.map((m) => [m.subject, m.seq, m.string(), m.info.pending])).toEqual([
      ['s.a', 3, 'a2', 2], ['s.c', 4, 'c1', 1], ['s.b', 5, 'b2', 0],
    ]);
    for (const m of first) await m.ackAck();
    await js.publish('s.a', 'a3');
    await js.publish('s.a', 'a4');
    expect((await jsm.consumers.info('S', 'L')).num_pending).toBe(2);
    expect((await fetchAll(nc, 'L', 2)).map((m) => m.string())).toEqual(['a3', 'a4']);
    const info = await jsm.consumers.info('S', 'L');
    expect([info.delivered.stream_seq, info.num_pending, info.num_ack_pending]).toEqual([7, 0, 2]);
  });

  it('with several filter_subjects (2.10), only their subjects count', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    for (const s of ['s.a', 's.b', 's.c', 's.a', 's.c', 's.b']) await js.publish(s, s);
    const ci = await jsm.consumers.add('S', { durable_name: 'M', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.LastPerSubject, filter_subjects: ['s.a', 's.c'] });
    expect(ci.num_pending).toBe(2);
    expect((await fetchAll(nc, 'M', 5)).map((m) => m.seq)).toEqual([4, 5]);
  });
});

describe('headers_only', () => {
  it('delivers the headers and Nats-Msg-Size with an empty payload', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    const h = headers();
    h.set('X-A', '1');
    await js.publish('s.a', 'hello world', { headers: h });
    await js.publish('s.b', 'xyz');
    await jsm.consumers.add('S', { durable_name: 'H', ack_policy: AckPolicy.Explicit, headers_only: true });
    const msgs = await fetchAll(nc, 'H', 2);
    expect(msgs.map((m) => [m.subject, m.data.length, m.headers?.get('Nats-Msg-Size'), m.headers?.get('X-A') ?? ''])).toEqual([
      ['s.a', 0, '11', '1'], ['s.b', 0, '3', ''],
    ]);
  });
});

describe('consumer updates take effect on the live consumer', () => {
  it('a larger max_ack_pending lets a stalled fetch continue', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    for (let i = 1; i <= 4; i++) await js.publish('s.a', `m${i}`);
    await jsm.consumers.add('S', { durable_name: 'P', ack_policy: AckPolicy.Explicit, max_ack_pending: 1 });
    const c = await js.consumers.get('S', 'P');
    const got: string[] = [];
    const done = (async () => {
      for await (const m of await c.fetch({ max_messages: 4, expires: 3000 })) got.push(m.string());
    })();
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual(['m1']);
    const ci = await jsm.consumers.update('S', 'P', { max_ack_pending: 10 });
    expect(ci.config.max_ack_pending).toBe(10);
    await done;
    expect(got).toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('a new filter subject recounts num_pending and changes what is delivered', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    for (const s of ['s.a', 's.b', 's.a', 's.b', 's.b']) await js.publish(s, s);
    await jsm.consumers.add('S', { durable_name: 'F', ack_policy: AckPolicy.None, filter_subject: 's.a' });
    expect((await jsm.consumers.info('S', 'F')).num_pending).toBe(2);
    const ci = await jsm.consumers.update('S', 'F', { filter_subject: 's.b' });
    expect([ci.config.filter_subject, ci.num_pending]).toEqual(['s.b', 3]);
    expect((await fetchAll(nc, 'F', 3)).map((m) => m.seq)).toEqual([2, 4, 5]);
  });

  it('a shorter ack_wait redelivers sooner; headers_only switched off sends payloads again', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await js.publish('s.a', 'payload');
    await jsm.consumers.add('S', { durable_name: 'W', ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000, headers_only: true });
    const [m] = await fetchAll(nc, 'W', 1);
    expect([m!.data.length, m!.headers?.get('Nats-Msg-Size')]).toEqual([0, '7']);
    await jsm.consumers.update('S', 'W', { ack_wait: 200_000_000, headers_only: false });
    const started = Date.now();
    const again = await fetchAll(nc, 'W', 1, 3000);
    expect(again.map((x) => [x.seq, x.info.deliveryCount, x.string()])).toEqual([[1, 2, 'payload']]);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
