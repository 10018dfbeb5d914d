/**
 * Helpers of the clustered-JetStream tests that check what a given member holds: a 3-member
 * cluster with one R3 stream, publishing and consuming across leader changes, and moving a
 * stream's leadership onto a chosen member.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { headers } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, RetentionPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { createCluster, type NatsCluster } from '../../src/index.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Publishes with `hdrs` (a `Nats-Msg-Id` makes retries idempotent), retrying as a client does
 * across a leader change, until acked; returns the sequence.
 */
export async function publishRetrying(nc: NatsConnection, subject: string, payload: string | Uint8Array, hdrs: Record<string, string> = {}): Promise<number> {
  const js = jetstream(nc);
  for (let attempt = 0; ; attempt++) {
    try {
      const h = headers();
      for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
      return (await js.publish(subject, payload, { headers: h, timeout: 2000 })).seq;
    } catch (err) {
      if (attempt > 40) throw err;
      await sleep(50);
    }
  }
}

/** Steps the stream's leader down until member `target` leads it (stepdown picks any current follower). */
export async function leadTo(cluster: NatsCluster, nc: NatsConnection, stream: string, target: number): Promise<void> {
  for (let i = 0; i < 30; i++) {
    if ((await cluster.streamLeader(stream)) === target) return;
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, '', { timeout: 2000 }).catch(() => undefined);
    await sleep(200);
  }
  const errors = cluster.servers.map((s) => s.stats().internalErrors);
  throw new Error(`member ${target} never became the leader of ${stream} (internal errors: ${errors.join(', ')})`);
}

/** Fetches and double-acks up to `n` messages, retrying across leader changes; their sequences. */
export async function consume(nc: NatsConnection, stream: string, consumer: string, n: number, ms = 15_000): Promise<number[]> {
  const js = jetstream(nc);
  const got: number[] = [];
  const deadline = Date.now() + ms;
  while (got.length < n && Date.now() < deadline) {
    try {
      const c = await js.consumers.get(stream, consumer);
      const b = await c.fetch({ max_messages: n - got.length, expires: 1000 });
      for await (const m of b) {
        if (await m.ackAck({ timeout: 2000 }).catch(() => false)) got.push(m.seq);
      }
    } catch {
      await sleep(100);
    }
  }
  return got;
}

/**
 * A 3-member JetStream cluster, a client on every member's URL (quick reconnects), and an R3
 * stream (`S` on `s.>` unless named) with `retention`. The caller closes `nc` and `cluster`.
 */
export async function setUpStream(
  retention: RetentionPolicy = RetentionPolicy.Limits,
  stream: { name?: string; subjects?: string[] } = {},
): Promise<{ cluster: NatsCluster; nc: NatsConnection; jsm: JetStreamManager }> {
  const cluster = await createCluster({ size: 3, jetstream: true });
  const nc = await connect({ servers: cluster.urls, reconnectTimeWait: 50 });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream.name ?? 'S', subjects: stream.subjects ?? ['s.>'], num_replicas: 3, retention });
  return { cluster, nc, jsm };
}
