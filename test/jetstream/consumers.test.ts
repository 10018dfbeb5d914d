/**
 * Pull consumers through the official JetStream client (`@nats-io/jetstream`): management
 * (add, info, list, delete), fetch / consume / next with acks, ack-wait redelivery, nak, term,
 * and the pull request status replies (404 no_wait, 409 max_waiting) as nats-server 2.10
 * answers them.
 */
import { describe, expect, it } from 'vitest';
import { createInbox, headers, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, JetStreamApiError, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { useScope } from '../helpers/scope.js';
import { rejection } from '../helpers/errors.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

async function setup(): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const s = await scope.server({ jetstream: true });
  const nc = await scope.client(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
  return { nc, jsm };
}

async function publish(nc: NatsConnection, n: number, subject = 'orders.new'): Promise<void> {
  const js = jetstream(nc);
  for (let i = 1; i <= n; i++) await js.publish(subject, `m${i}`);
}

describe('consumer management', () => {
  it('adds a durable pull consumer with nats-server\'s defaults, and info, list, names and delete see it', async () => {
    const { nc, jsm } = await setup();
    await publish(nc, 3);
    const ci = await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    expect(ci).toMatchObject({
      stream_name: 'ORDERS', name: 'D',
      config: { durable_name: 'D', name: 'D', deliver_policy: 'all', ack_policy: 'explicit', ack_wait: 30_000_000_000, max_deliver: -1, replay_policy: 'instant', max_waiting: 512, max_ack_pending: 1000, num_replicas: 0 },
      delivered: { consumer_seq: 0, stream_seq: 0 }, ack_floor: { consumer_seq: 0, stream_seq: 0 },
      num_ack_pending: 0, num_redelivered: 0, num_waiting: 0, num_pending: 3,
    });
    // nats-server 2.10 sets `cluster` only on a clustered consumer.
    expect(ci.cluster).toBeUndefined();
    // The JSON keys in nats-server's order.
    const raw = await nc.request('$JS.API.CONSUMER.INFO.ORDERS.D');
    expect(Object.keys(raw.json<Record<string, unknown>>())).toEqual([
      'type', 'stream_name', 'name', 'created', 'config', 'delivered', 'ack_floor', 'num_ack_pending', 'num_redelivered', 'num_waiting', 'num_pending', 'ts',
    ]);
    expect((await jsm.consumers.info('ORDERS', 'D')).num_pending).toBe(3);
    await jsm.consumers.add('ORDERS', { durable_name: 'A', ack_policy: AckPolicy.Explicit, filter_subject: 'orders.x' });
    const names: string[] = [];
    for await (const c of jsm.consumers.list('ORDERS')) names.push(c.name);
    expect(names).toEqual(['A', 'D']);
    expect((await jsm.streams.info('ORDERS')).state.consumer_count).toBe(2);
    expect((await jsm.getAccountInfo()).consumers).toBe(2);
    expect(await jsm.consumers.delete('ORDERS', 'A')).toBe(true);
    const err = await rejection(jsm.consumers.info('ORDERS', 'A'));
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect((err as JetStreamApiError).code).toBe(10014);
    expect((await jsm.streams.info('ORDERS')).state.consumer_count).toBe(1);
  });

  it('/jsz counts the consumers', async () => {
    const s = await scope.server({ http: -1, jetstream: true });
    const jsm = await jetstreamManager(await scope.client(s));
    await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    await jsm.consumers.add('ORDERS', { durable_name: 'A', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add('ORDERS', { durable_name: 'B', ack_policy: AckPolicy.Explicit });
    const doc = await (await fetch(`${s.monitorUrl!}/jsz`)).json() as { consumers: number; streams: number };
    expect([doc.streams, doc.consumers]).toEqual([1, 2]);
  });

  it('answers create errors as nats-server does (stream not found, action create on a different config)', async () => {
    const { jsm } = await setup();
    const e1 = await rejection(jsm.consumers.add('NOPE', { durable_name: 'D', ack_policy: AckPolicy.Explicit }));
    expect((e1 as JetStreamApiError).code).toBe(10059);
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    // Same config again: the existing consumer is returned.
    expect((await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit })).name).toBe('D');
    // A description may change (update).
    const upd = await jsm.consumers.update('ORDERS', 'D', { description: 'now described' });
    expect(upd.config.description).toBe('now described');
  });

  it('deletes an ephemeral consumer after inactive_threshold without pull requests', async () => {
    const { jsm } = await setup();
    const ci = await jsm.consumers.add('ORDERS', { ack_policy: AckPolicy.Explicit, inactive_threshold: 300_000_000 });
    expect(ci.name).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(ci.config.durable_name).toBeUndefined();
    expect((await jsm.consumers.info('ORDERS', ci.name)).name).toBe(ci.name);
    await eventually(async () => (await jsm.streams.info('ORDERS')).state.consumer_count === 0, 'the ephemeral to go');
    expect(((await rejection(jsm.consumers.info('ORDERS', ci.name))) as JetStreamApiError).code).toBe(10014);
  });

  it('deleting a consumer answers its waiting pull requests 409 Consumer Deleted', async () => {
    const { nc, jsm } = await setup();
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const pending = nc.request('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 1, expires: 5_000_000_000 }), { timeout: 5000 });
    await eventually(async () => (await jsm.consumers.info('ORDERS', 'D')).num_waiting === 1, 'the request to wait');
    await jsm.consumers.delete('ORDERS', 'D');
    const r = await pending;
    expect([r.headers?.code, r.headers?.description]).toEqual([409, 'Consumer Deleted']);
  });

  it('deleting the stream stops its consumers', async () => {
    const { nc, jsm } = await setup();
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    await jsm.streams.delete('ORDERS');
    const err = await rejection(nc.request('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', '', { timeout: 1000 }));
    expect(String(err)).toMatch(/503|no responders/i);
  });
});

describe('pull delivery', () => {
  it('fetch delivers stored messages with headers, in order, and acks move the ack floor', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    const h = headers();
    h.set('X-Trace', 'abc');
    await js.publish('orders.new', 'with-header', { headers: h });
    await publish(nc, 2, 'orders.other');
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('ORDERS', 'D');
    const got: JsMsg[] = [];
    for await (const m of await c.fetch({ max_messages: 3, expires: 2000 })) {
      got.push(m);
      m.ack();
    }
    expect(got.map((m) => [m.subject, m.string(), m.seq])).toEqual([['orders.new', 'with-header', 1], ['orders.other', 'm1', 2], ['orders.other', 'm2', 3]]);
    expect(got[0]!.headers?.get('X-Trace')).toBe('abc');
    expect(got[1]!.info.pending).toBe(1);
    const ci = await eventually(async () => {
      const i = await jsm.consumers.info('ORDERS', 'D');
      return i.ack_floor.stream_seq === 3 && i;
    }, 'the acks');
    expect(ci).toMatchObject({ delivered: { consumer_seq: 3, stream_seq: 3 }, ack_floor: { consumer_seq: 3, stream_seq: 3 }, num_ack_pending: 0, num_pending: 0 });
    expect(ci.delivered.last_active).toBeTypeOf('string');
  });

  it('fetch on an empty stream waits for messages published later and ends at expiry', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('ORDERS', 'D');
    const iter = await c.fetch({ max_messages: 5, expires: 1000 });
    setTimeout(() => void publish(nc, 2), 100);
    const got: string[] = [];
    const t0 = Date.now();
    for await (const m of iter) {
      got.push(m.string());
      m.ack();
    }
    expect(got).toEqual(['m1', 'm2']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('consume() keeps pulling; next() returns one message or null', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('ORDERS', 'D');
    await publish(nc, 30);
    const msgs = await c.consume({ max_messages: 7, expires: 2000 });
    const got: string[] = [];
    for await (const m of msgs) {
      got.push(m.string());
      m.ack();
      if (got.length === 30) break;
    }
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => `m${i + 1}`));
    await publish(nc, 1, 'orders.last');
    const m = await c.next({ expires: 2000 });
    expect(m?.subject).toBe('orders.last');
    await m!.ackAck();
    expect(await c.next({ expires: 1000 })).toBeNull();
    await eventually(async () => (await jsm.consumers.info('ORDERS', 'D')).ack_floor.stream_seq === 31, 'ack floor 31');
  });

  it('answers a no_wait request with nothing to deliver 404 No Messages', async () => {
    const { nc, jsm } = await setup();
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const r = await nc.request('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 1, no_wait: true }));
    expect(r.headers?.code).toBe(404);
    expect(r.headers?.description).toBe('No Messages');
  });

  it('a message over a request\'s max_bytes ends that request 409 and stays undelivered for the next one', async () => {
    // 2.10.29 nextWaiting + loopAndGatherMsgs: the message is not delivered (o.sseq--, o.npc++),
    // so delivered, num_pending and the next delivery's sequences are as if it was never taken.
    const { nc, jsm } = await setup();
    await jetstream(nc).publish('orders.big', 'x'.repeat(300));
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const small = await nc.request('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 5, max_bytes: 100, expires: 1_000_000_000 }));
    expect([small.headers?.code, small.headers?.description, small.headers?.get('Nats-Pending-Messages'), small.headers?.get('Nats-Pending-Bytes')])
      .toEqual([409, 'Message Size Exceeds MaxBytes', '5', '100']);
    const info = await jsm.consumers.info('ORDERS', 'D');
    expect([info.delivered.consumer_seq, info.delivered.stream_seq, info.num_pending, info.num_ack_pending, info.num_redelivered]).toEqual([0, 0, 1, 0, 0]);
    const big = await nc.request('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 1, max_bytes: 1000 }), { timeout: 2000, noMux: true });
    expect(big.string()).toBe('x'.repeat(300));
    expect(big.reply?.split('.').slice(4, 7)).toEqual(['1', '1', '1']);
  });

  it('a max_bytes request whose batch is complete with bytes left gets 409 Batch Completed after its messages', async () => {
    // 2.10.29 consumer.go (JsPullRequestRemainingBytesT): sent after the last delivery when
    // wr.n <= 0 && wr.b > 0. 2.9 sends nothing here.
    const { nc, jsm } = await setup();
    await publish(nc, 2);
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.None });
    const inbox = createInbox();
    const frames: string[] = [];
    const sub = nc.subscribe(inbox, {
      callback: (_e, m) => void frames.push(m.headers?.code ? `${m.headers.code} ${m.headers.description} ${m.headers.get('Nats-Pending-Messages')} ${m.headers.get('Nats-Pending-Bytes')}` : m.string()),
    });
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 2, max_bytes: 10_000, expires: 1_000_000_000 }), { reply: inbox });
    await eventually(() => frames.length === 3, 'two messages and the status');
    // Each delivery counts its subject, ack reply, headers and payload against max_bytes.
    const left = Number(frames[2]!.split(' ').pop());
    expect(frames.slice(0, 2)).toEqual(['m1', 'm2']);
    expect(frames[2]).toBe(`409 Batch Completed 0 ${left}`);
    expect(left).toBeGreaterThan(9_800);
    expect(left).toBeLessThan(10_000);
    sub.unsubscribe();
  });

  it('num_waiting leaves out a waiting request whose reply subject lost its subscriber', async () => {
    // 2.10.29 infoWithSnapAndReply: processWaiting(false) before NumWaiting = o.waiting.len().
    const { nc, jsm } = await setup();
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const inbox = createInbox();
    const sub = nc.subscribe(inbox);
    await nc.flush();
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 2, expires: 5_000_000_000 }), { reply: inbox });
    await nc.flush();
    expect((await jsm.consumers.info('ORDERS', 'D')).num_waiting).toBe(1);
    sub.unsubscribe();
    await nc.flush();
    expect((await jsm.consumers.info('ORDERS', 'D')).num_waiting).toBe(0);
  });

  it('answers no_wait 408 Requests Pending when waiting requests already ask for more than there is', async () => {
    // 2.10.29 processNextMsgRequest: msgsPending < the waiting requests' batches.
    const { nc, jsm } = await setup();
    await publish(nc, 3);
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit, max_ack_pending: 1 });
    const first = await nc.request('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 1 }), { timeout: 2000, noMux: true });
    expect(first.string()).toBe('m1');
    // Stalled at max_ack_pending: this one waits for 5 (its reply subject has a subscriber).
    const waiting = createInbox();
    nc.subscribe(waiting);
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 5, expires: 2_000_000_000 }), { reply: waiting });
    await nc.flush();
    const r = await nc.request('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 1, no_wait: true }));
    expect([r.headers?.code, r.headers?.description]).toEqual([408, 'Requests Pending']);
  });

  it('answers a request with a negative expires 408 Request Timeout at once', async () => {
    // 2.10.29 nextReqFromMsg: time.Now().Add(expires) is already past; nextWaiting answers 408.
    const { nc, jsm } = await setup();
    await publish(nc, 1);
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const r = await nc.request('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 2, expires: -5 }));
    expect([r.headers?.code, r.headers?.description, r.headers?.get('Nats-Pending-Messages')]).toEqual([408, 'Request Timeout', '2']);
    expect((await jsm.consumers.info('ORDERS', 'D')).num_pending).toBe(1);
  });

  it('answers a request over max_waiting 409 Exceeded MaxWaiting, and an expired one 408 with the pending counts', async () => {
    const { nc, jsm } = await setup();
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit, max_waiting: 1 });
    const inbox = createInbox();
    const statuses: Array<{ code: number | undefined; description: string | undefined; pending: string | undefined }> = [];
    nc.subscribe(`${inbox}.*`, { callback: (_e, m) => void statuses.push({ code: m.headers?.code, description: m.headers?.description, pending: m.headers?.get('Nats-Pending-Messages') || undefined }) });
    await nc.flush();
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 4, expires: 400_000_000 }), { reply: `${inbox}.1` });
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.ORDERS.D', JSON.stringify({ batch: 1, expires: 400_000_000 }), { reply: `${inbox}.2` });
    await eventually(() => statuses.length > 0, 'the 409');
    expect(statuses).toEqual([{ code: 409, description: 'Exceeded MaxWaiting', pending: undefined }]);
    expect((await jsm.consumers.info('ORDERS', 'D')).num_waiting).toBe(1);
    await eventually(() => statuses.length > 1, 'the 408');
    expect(statuses[1]).toEqual({ code: 408, description: 'Request Timeout', pending: '4' });
  });
});

describe('acks', () => {
  it('redelivers a message not acked within ack_wait, and counts it as redelivered', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await publish(nc, 1);
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 300_000_000 });
    const c = await js.consumers.get('ORDERS', 'D');
    const first = await c.next({ expires: 1000 });
    expect(first?.info.deliveryCount).toBe(1);
    expect(first?.redelivered).toBe(false);
    // Not acked: after 300ms it comes again.
    const again = await c.next({ expires: 2000 });
    expect(again?.seq).toBe(1);
    expect(again?.info.deliveryCount).toBe(2);
    expect(again?.redelivered).toBe(true);
    const ci = await jsm.consumers.info('ORDERS', 'D');
    expect(ci).toMatchObject({ num_redelivered: 1, num_ack_pending: 1 });
    await again!.ackAck();
    expect((await jsm.consumers.info('ORDERS', 'D'))).toMatchObject({ num_ack_pending: 0, num_redelivered: 0, ack_floor: { stream_seq: 1 } });
  });

  it('nak redelivers at once; term never again; working (+WPI) keeps it', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await publish(nc, 2);
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 2_000_000_000 });
    const c = await js.consumers.get('ORDERS', 'D');
    const m1 = await c.next({ expires: 1000 });
    expect(m1?.string()).toBe('m1');
    m1!.working();
    m1!.nak();
    const m1again = await c.next({ expires: 1000 });
    expect([m1again?.string(), m1again?.info.deliveryCount]).toEqual(['m1', 2]);
    m1again!.term();
    const m2 = await c.next({ expires: 1000 });
    expect(m2?.string()).toBe('m2');
    await m2!.ackAck();
    expect(await c.next({ expires: 1000 })).toBeNull();
    const ci = await jsm.consumers.info('ORDERS', 'D');
    expect(ci).toMatchObject({ num_ack_pending: 0, ack_floor: { stream_seq: 2 }, num_pending: 0 });
  });

  it('messages purged from the stream leave num_pending and num_ack_pending', async () => {
    const { nc, jsm } = await setup();
    await publish(nc, 4);
    await jsm.consumers.add('ORDERS', { durable_name: 'D', ack_policy: AckPolicy.Explicit });
    const c = await jetstream(nc).consumers.get('ORDERS', 'D');
    const m = await c.next({ expires: 1000 });
    expect(m?.seq).toBe(1);
    expect(await jsm.consumers.info('ORDERS', 'D')).toMatchObject({ num_pending: 3, num_ack_pending: 1 });
    await jsm.streams.purge('ORDERS');
    expect(await jsm.consumers.info('ORDERS', 'D')).toMatchObject({ num_pending: 0, num_ack_pending: 0 });
    await publish(nc, 1, 'orders.after');
    const next = await c.next({ expires: 1000 });
    expect([next?.subject, next?.seq]).toEqual(['orders.after', 5]);
  });

  it('a work queue stream drops acked messages', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'WQ', subjects: ['wq.>'], retention: 'workqueue' as never });
    await publish(nc, 3, 'wq.job');
    await jsm.consumers.add('WQ', { durable_name: 'W', ack_policy: AckPolicy.Explicit });
    const c = await jetstream(nc).consumers.get('WQ', 'W');
    for await (const m of await c.fetch({ max_messages: 2, expires: 1000 })) await m.ackAck();
    expect((await jsm.streams.info('WQ')).state).toMatchObject({ messages: 1, first_seq: 3 });
  });
});

describe('what this slice refuses rather than serves wrongly', () => {
  it('refuses an update that changes a push consumer\'s deliver group with 10012, and keeps the consumer as it was', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'L', subjects: ['l.>'] } as never);
    await jsm.consumers.add('L', { durable_name: 'p', ack_policy: 'explicit', deliver_subject: 'out' } as never);
    const err = await rejection(jsm.consumers.update('L', 'p', { deliver_group: 'g' } as never));
    expect((err as JetStreamApiError).code).toBe(10012);
    expect(String(err)).toMatch(/updating deliver_group of a consumer is not supported by nats-embedded yet/);
    expect((await jsm.consumers.info('L', 'p')).config.deliver_group).toBeUndefined();
  });
});
