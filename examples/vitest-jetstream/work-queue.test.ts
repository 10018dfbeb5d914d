// A work queue in a test suite: jobs on a work-queue stream, a worker that dies holding a job,
// and the job redelivered to the next worker at once (expireAckWait) instead of after ack_wait.
// The README's "Consumers and work queues" example, run as a user would.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createServer, type NatsServer } from 'nats-embedded';

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await createServer({ jetstream: true });
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc.close();
  await server.close();
});

it('gives a job a crashed worker held to the next worker, and removes jobs once acked', async () => {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'JOBS', subjects: ['jobs.>'], retention: 'workqueue' } as never);
  // ack_wait of a minute: without the fault below, the crashed job would come back in 60 s.
  await jsm.consumers.add('JOBS', { durable_name: 'workers', ack_policy: AckPolicy.Explicit, ack_wait: 60_000_000_000 });

  const js = jetstream(nc);
  for (const id of [1, 2, 3]) await js.publish('jobs.resize', JSON.stringify({ id }));
  const workers = await js.consumers.get('JOBS', 'workers');

  // Worker 1 takes a job and dies without acking it.
  const held = await workers.next({ expires: 1000 });
  expect(held?.json()).toEqual({ id: 1 });
  await server.jetstream.waitForConsumer('JOBS', 'workers', { ackPending: 1 });

  // The test makes its ack wait run out now (embedded backend only).
  server.jetstream.expireAckWait('JOBS', 'workers');

  // Worker 2 gets the crashed job first, marked as a redelivery, then the others.
  const done: number[] = [];
  for await (const m of await workers.fetch({ max_messages: 3, expires: 1000 })) {
    if (m.info.redelivered) expect(m.info.deliveryCount).toBe(2);
    done.push(m.json<{ id: number }>().id);
    await m.ackAck();
  }
  expect(done).toEqual([1, 2, 3]);

  // Every job acked: nothing pending, and a work queue keeps nothing once acked.
  await server.jetstream.waitForConsumer('JOBS', 'workers', { pending: 0, ackPending: 0 });
  expect((await server.jetstream.stream('JOBS'))?.state.messages).toBe(0);
});
