/**
 * `server.jetstream`'s consumer helpers: consumers(), consumer(), waitForConsumer() and
 * waitForAckFloor() on both backends (the nats-server backend reads /jsz's consumer_detail),
 * and the embedded-only consumer faults — expireAckWait(), pauseConsumer()/resumeConsumer(),
 * dropAcks() — shown through the official @nats-io/jetstream client.
 */
import { describe, expect, it } from 'vitest';
import { createInbox, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { InvalidArgumentError, UnsupportedError, WaitTimeoutError, type NatsServer, type ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { rejection } from '../helpers/errors.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

async function setup(opts: ServerOptions = {}): Promise<{ s: NatsServer; nc: NatsConnection; jsm: JetStreamManager }> {
  const s = await scope.server({ jetstream: true, ...opts });
  const nc = await scope.client(s);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'JOBS', subjects: ['jobs.>'] });
  const js = jetstream(nc);
  for (let i = 1; i <= 3; i++) await js.publish('jobs.new', `job ${i}`);
  // ack_wait one minute: nothing is redelivered by the clock during a test.
  await jsm.consumers.add('JOBS', { durable_name: 'W', ack_policy: AckPolicy.Explicit, ack_wait: 60_000_000_000 });
  return { s, nc, jsm };
}

describe.each(['embedded', 'nats-server'] as const)('server.jetstream consumers (%s backend)', (backend) => {
  it('lists consumers with their state, and waits for acks instead of sleeping', async () => {
    const { s, nc } = await setup({ backend });
    expect((await s.jetstream.consumers('JOBS')).map((c) => c.name)).toEqual(['W']);
    expect(await s.jetstream.consumers('NOPE')).toEqual([]);
    expect(await s.jetstream.consumer('JOBS', 'nope')).toBeNull();
    const before = await s.jetstream.consumer('JOBS', 'W');
    expect(before).toMatchObject({
      account: '$G', stream: 'JOBS', name: 'W',
      config: { durable_name: 'W', ack_policy: 'explicit', ack_wait: 60_000_000_000 },
      state: { pending: 3, ackPending: 0, redelivered: 0, waiting: 0, delivered: { consumerSeq: 0, streamSeq: 0, lastActive: null }, ackFloor: { consumerSeq: 0, streamSeq: 0 } },
    });
    expect(before!.created).toBeInstanceOf(Date);

    const c = await jetstream(nc).consumers.get('JOBS', 'W');
    const batch = await c.fetch({ max_messages: 3, expires: 2000 });
    const got = [];
    for await (const m of batch) got.push(m);
    expect(got).toHaveLength(3);
    const mid = await s.jetstream.waitForConsumer('JOBS', 'W', { pending: 0, ackPending: 3 });
    expect(mid.state.delivered).toMatchObject({ consumerSeq: 3, streamSeq: 3 });
    expect(mid.state.delivered.lastActive).toBeInstanceOf(Date);
    // Fire-and-forget acks: the wait sees them land, no sleep needed.
    got[0]!.ack();
    got[1]!.ack();
    expect((await s.jetstream.waitForAckFloor('JOBS', 'W', 2)).state).toMatchObject({ ackPending: 1, ackFloor: { consumerSeq: 2, streamSeq: 2 } });
    got[2]!.ack();
    const done = await s.jetstream.waitForConsumer('JOBS', 'W', { ackPending: 0, pending: 0, ackFloor: 3 });
    expect(done.state.ackFloor.lastActive).toBeInstanceOf(Date);

    // A condition that does not come true: WaitTimeoutError saying where the consumer stood.
    const err = await rejection(s.jetstream.waitForConsumer('JOBS', 'W', { pending: 5, timeoutMs: 300 }));
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toContain('consumer "JOBS > W" with pending = 5');
    expect((err as Error).message).toContain('last seen: pending 0, ackPending 0');
  });

  it('refuses bad arguments with InvalidArgumentError', async () => {
    const { s } = await setup({ backend });
    await expect(s.jetstream.consumers('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(s.jetstream.consumer('JOBS', 7 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'name' });
    await expect(s.jetstream.waitForConsumer('JOBS', 'W', { ackPending: -1 })).rejects.toMatchObject({ argument: 'ackPending' });
    await expect(s.jetstream.waitForConsumer('JOBS', 'W', { ackFloor: 1.5 })).rejects.toMatchObject({ argument: 'ackFloor' });
    await expect(s.jetstream.waitForAckFloor('JOBS', 'W', -2)).rejects.toMatchObject({ argument: 'streamSeq' });
  });
});

describe('consumer faults (embedded only)', () => {
  it('expireAckWait: a worker that crashed holding a message gets it redelivered at once, not after ack_wait', async () => {
    const { s, nc } = await setup();
    const c = await jetstream(nc).consumers.get('JOBS', 'W');
    const crashed = await c.next({ expires: 1000 });
    expect(crashed?.info.deliveryCount).toBe(1);
    // The worker dies without acking: with a one minute ack_wait nothing would come back for a minute.
    const t0 = Date.now();
    s.jetstream.expireAckWait('JOBS', 'W');
    const again = await c.next({ expires: 1000 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect([again?.seq, again?.info.deliveryCount, again?.info.redelivered]).toEqual([1, 2, true]);
    again!.ack();
    expect((await s.jetstream.waitForConsumer('JOBS', 'W', { ackPending: 0 })).state.redelivered).toBe(0);
  });

  it('expireAckWait counts toward max_deliver (MAX_DELIVERIES, then nothing more)', async () => {
    const { s, nc, jsm } = await setup();
    await jsm.consumers.add('JOBS', { durable_name: 'M', ack_policy: AckPolicy.Explicit, max_deliver: 2, ack_wait: 60_000_000_000, filter_subject: 'jobs.new' });
    const adv: string[] = [];
    nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.JOBS.M', { callback: (_e, m) => void adv.push(m.string()) });
    await nc.flush();
    const c = await jetstream(nc).consumers.get('JOBS', 'M');
    expect((await c.next({ expires: 1000 }))?.seq).toBe(1);
    s.jetstream.expireAckWait('JOBS', 'M');
    expect((await c.next({ expires: 1000 }))?.info.deliveryCount).toBe(2);
    s.jetstream.expireAckWait('JOBS', 'M');
    // Seq 1 is done for (max_deliver 2); the next delivery is seq 2.
    expect((await c.next({ expires: 1000 }))?.seq).toBe(2);
    await nc.flush();
    expect(adv.map((a) => (JSON.parse(a) as { stream_seq: number; deliveries: number }))).toMatchObject([{ stream_seq: 1, deliveries: 2 }]);
  });

  it('pauseConsumer holds deliveries to a waiting pull; resumeConsumer releases them', async () => {
    const { s, nc } = await setup();
    s.jetstream.pauseConsumer('JOBS', 'W');
    const c = await jetstream(nc).consumers.get('JOBS', 'W');
    let settled = false;
    const pending = c.next({ expires: 5000 }).finally(() => {
      settled = true;
    });
    // The pull is parked on the consumer, with messages there for it, and gets none.
    const parked = await s.jetstream.waitForConsumer('JOBS', 'W', { waiting: 1 });
    expect(parked.state).toMatchObject({ pending: 3, ackPending: 0 });
    await nc.flush();
    expect(settled).toBe(false);
    s.jetstream.resumeConsumer('JOBS', 'W');
    const m = await pending;
    expect(m?.seq).toBe(1);
  });

  it('pauseConsumer holds a push consumer\'s deliveries too; resumeConsumer sends them', async () => {
    const { s, nc, jsm } = await setup();
    const inbox = createInbox();
    const got: string[] = [];
    const sub = nc.subscribe(inbox, { callback: (_e, m) => void got.push(m.string()) });
    await nc.flush();
    await jsm.consumers.add('JOBS', { durable_name: 'P', ack_policy: AckPolicy.None, deliver_subject: inbox });
    await eventually(() => got.length === 3, 'the three jobs at the push subscriber');
    s.jetstream.pauseConsumer('JOBS', 'P');
    await jetstream(nc).publish('jobs.new', 'job 4');
    // Paused: the new job stays in the stream while the consumer is held.
    await new Promise((r) => setTimeout(r, 50));
    await nc.flush();
    expect(got).toEqual(['job 1', 'job 2', 'job 3']);
    expect((await s.jetstream.consumer('JOBS', 'P'))?.state.pending).toBe(1);
    s.jetstream.resumeConsumer('JOBS', 'P');
    await eventually(() => got.length === 4, 'job 4 after resume');
    expect(got[3]).toBe('job 4');
    sub.unsubscribe();
  });

  it('pauseConsumer lets a pull expire with its 408 (the client sees no message)', async () => {
    const { s, nc } = await setup();
    s.jetstream.pauseConsumer('JOBS', 'W');
    const c = await jetstream(nc).consumers.get('JOBS', 'W');
    expect(await c.next({ expires: 1000 })).toBeNull();
    expect((await s.jetstream.consumer('JOBS', 'W'))!.state).toMatchObject({ pending: 3, waiting: 0 });
    // A no_wait pull gets 404 No Messages at once, as from a consumer with nothing to deliver.
    const inbox = createInbox();
    const statuses: string[] = [];
    const sub = nc.subscribe(inbox, { callback: (_e, m) => void statuses.push(`${m.headers?.code ?? 0} ${m.headers?.description ?? ''}`) });
    nc.publish('$JS.API.CONSUMER.MSG.NEXT.JOBS.W', JSON.stringify({ batch: 1, no_wait: true }), { reply: inbox });
    await eventually(() => statuses.length === 1, 'the status');
    expect(statuses).toEqual(['404 No Messages']);
    sub.unsubscribe();
    s.jetstream.resumeConsumer('JOBS', 'W');
    expect((await c.next({ expires: 1000 }))?.seq).toBe(1);
  });

  it('dropAcks loses the next acks: the message stays pending and comes back', async () => {
    const { s, nc } = await setup();
    s.jetstream.dropAcks('JOBS', 'W', 1);
    const c = await jetstream(nc).consumers.get('JOBS', 'W');
    const m = await c.next({ expires: 1000 });
    // An ack sent as a request gets no reply when it is lost.
    const lost = await rejection(m!.ackAck({ timeout: 300 }));
    expect(lost).toBeInstanceOf(Error);
    expect((await s.jetstream.consumer('JOBS', 'W'))!.state.ackPending).toBe(1);
    s.jetstream.expireAckWait('JOBS', 'W');
    const again = await c.next({ expires: 1000 });
    expect([again?.seq, again?.info.deliveryCount]).toEqual([1, 2]);
    // The drop budget is spent: this ack lands.
    expect(await again!.ackAck()).toBe(true);
    expect((await s.jetstream.waitForConsumer('JOBS', 'W', { ackPending: 0, ackFloor: 1 })).state.ackFloor.streamSeq).toBe(1);
  });

  it('refuses a missing consumer and bad counts with InvalidArgumentError', async () => {
    const { s } = await setup();
    expect(() => s.jetstream.expireAckWait('JOBS', 'nope')).toThrow(/no consumer "JOBS > nope"/);
    expect(() => s.jetstream.pauseConsumer('NOPE', 'W')).toThrow(InvalidArgumentError);
    expect(() => s.jetstream.dropAcks('JOBS', 'W', -1)).toThrow(InvalidArgumentError);
    expect(() => s.jetstream.dropAcks('JOBS', 'W', 1.5)).toThrow(/count/);
  });

  it('are refused on the nats-server backend with UnsupportedError (ERR_UNSUPPORTED)', async () => {
    const { s } = await setup({ backend: 'nats-server' });
    for (const f of [
      () => s.jetstream.expireAckWait('JOBS', 'W'),
      () => s.jetstream.pauseConsumer('JOBS', 'W'),
      () => s.jetstream.resumeConsumer('JOBS', 'W'),
      () => s.jetstream.dropAcks('JOBS', 'W', 1),
    ]) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err).toMatchObject({ code: 'ERR_UNSUPPORTED', backend: 'nats-server' });
    }
  });
});
