/**
 * Differential check of interest retention: one fixed scenario (consumers with overlapping and
 * disjoint filters and each ack policy, publishes nobody matches, fetch, ack, ack all, nak,
 * term, a consumer delete) runs through the official client against the embedded broker and a
 * real nats-server; STREAM.INFO's state (with deleted details) and each consumer's delivered /
 * ack floor / pending counts must be equal after every phase. Timestamps are left out.
 *
 * The reference binary is 2.9.10. Where 2.10 differs the scenario stays clear of it: 2.10
 * purges an interest stream when its last consumer is deleted (2.9 removes the messages one by
 * one, which differs only on a stream that never used a sequence), and 2.10 allows changing
 * retention from limits to interest (2.9 refuses any retention change).
 */
import { describe, expect, it } from 'vitest';
import { type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { useJetStreamPair } from '../helpers/js-pair.js';

const pair = useJetStreamPair('nats-js-interest-');


/** What is compared: the stream state and the consumers' counters, without times. */
async function snapshot(nc: NatsConnection): Promise<unknown> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info('I', { deleted_details: true });
  const { first_ts: _f, last_ts: _l, ...rest } = state;
  const consumers: Record<string, unknown> = {};
  for await (const ci of jsm.consumers.list('I')) {
    consumers[ci.name] = {
      delivered: [ci.delivered.consumer_seq, ci.delivered.stream_seq],
      ack_floor: [ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq],
      num_pending: ci.num_pending, num_ack_pending: ci.num_ack_pending, num_redelivered: ci.num_redelivered,
    };
  }
  return { state: rest, consumers };
}

async function fetch(nc: NatsConnection, consumer: string, n: number): Promise<JsMsg[]> {
  const c = await jetstream(nc).consumers.get('I', consumer);
  const out: JsMsg[] = [];
  for await (const m of await c.fetch({ max_messages: n, expires: 1000 })) out.push(m);
  return out;
}

/** The scenario, in phases; each phase's snapshot is returned. */
async function scenario(nc: NatsConnection): Promise<unknown[]> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const pub = async (...subjects: string[]): Promise<void> => {
    for (const s of subjects) await js.publish(s, `body of ${s}`);
  };
  const out: unknown[] = [];
  await jsm.streams.add({ name: 'I', subjects: ['i.>'], retention: 'interest' } as never);
  await pub('i.a', 'i.b'); // nobody: skipped
  await jsm.consumers.add('I', { durable_name: 'ALL', ack_policy: AckPolicy.Explicit });
  await jsm.consumers.add('I', { durable_name: 'A', ack_policy: AckPolicy.All, filter_subject: 'i.a' });
  await jsm.consumers.add('I', { durable_name: 'N', ack_policy: AckPolicy.None, filter_subject: 'i.b' });
  await pub('i.a', 'i.b', 'i.a', 'i.c', 'i.b', 'i.a');
  out.push(await snapshot(nc));

  await fetch(nc, 'N', 2); // ack none: i.b 4 and 7 count as acked
  const a = await fetch(nc, 'A', 3);
  await a[1]!.ackAck(); // ack all up to 5
  out.push(await snapshot(nc));

  const all = await fetch(nc, 'ALL', 6);
  await all[0]!.ackAck(); // 3: acked by A and ALL
  await all[1]!.ackAck(); // 4: N had it
  all[2]!.nak(); // 5 stays
  all[3]!.term(); // 6: i.c, ALL only
  await all[4]!.ackAck(); // 7
  await nc.flush();
  out.push(await snapshot(nc));

  await jsm.consumers.delete('I', 'ALL'); // 5 (nak'd; A had acked it) goes, 8 stays: pending in A
  out.push(await snapshot(nc));

  await pub('i.b', 'i.c', 'i.a'); // i.c: nobody now
  await jsm.consumers.delete('I', 'N');
  out.push(await snapshot(nc));
  return out;
}

describe('interest retention against nats-server', () => {
  it('the stream state and consumer counters after each phase are the real server\'s', async () => {
    const want = await scenario(pair.realNc);
    const got = await scenario(pair.embNc);
    expect(got).toEqual(want);
    // The scenario does remove and keep messages (not a comparison of two empty streams).
    expect(want[2]).toMatchObject({ state: { messages: 2, first_seq: 5, last_seq: 8, num_deleted: 2, deleted: [6, 7] } });
  }, 30_000);
});
