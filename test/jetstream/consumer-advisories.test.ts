/**
 * A consumer's delivery advisories (MSG_NAKED, MSG_TERMINATED, MAX_DELIVERIES) read with a
 * raw subscription, on the embedded broker and on a real nats-server (the nats-server backend),
 * with the same scenario: the subjects, `type`s and JSON field sets must be the same. Advisories
 * are sent only when someone listens (nats-server's sendAdvisory interest check).
 */
import { describe, expect, it } from 'vitest';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

interface Seen {
  subject: string;
  body: Record<string, unknown>;
}

/** nak twice (max_deliver 2, so the third delivery is refused: MAX_DELIVERIES), then term another message. */
async function scenario(s: NatsServer): Promise<Seen[]> {
  const nc: NatsConnection = await scope.client(s);
  const seen: Seen[] = [];
  nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.>', {
    callback: (_e, m: Msg) => {
      seen.push({ subject: m.subject, body: m.json<Record<string, unknown>>() });
    },
  });
  await nc.flush();
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'ADV', subjects: ['adv.>'], storage: 'memory' as never });
  const js = jetstream(nc);
  await js.publish('adv.a', 'one');
  await js.publish('adv.b', 'two');
  await jsm.consumers.add('ADV', { durable_name: 'W', ack_policy: AckPolicy.Explicit, max_deliver: 2, filter_subject: 'adv.a' });
  await jsm.consumers.add('ADV', { durable_name: 'T', ack_policy: AckPolicy.Explicit, filter_subject: 'adv.b' });
  const w = await js.consumers.get('ADV', 'W');
  for (let i = 0; i < 2; i++) {
    const m = await w.next({ expires: 1000 });
    expect(m?.info.deliveryCount).toBe(i + 1);
    m!.nak();
  }
  // The third delivery would exceed max_deliver 2: none comes, and the advisory goes out.
  expect(await w.next({ expires: 1000 })).toBeNull();
  const t = await js.consumers.get('ADV', 'T');
  const m = await t.next({ expires: 1000 });
  m!.term();
  await nc.flush();
  await eventually(() => seen.some((x) => x.subject.includes('MSG_TERMINATED')) && seen.some((x) => x.subject.includes('MAX_DELIVERIES')), 'the advisories');
  return seen;
}

/** Subject, type and field names of each advisory (values such as ids and times differ). */
function shape(seen: readonly Seen[]): string[] {
  return seen
    .filter((x) => !x.subject.includes('.CREATED.'))
    .map((x) => `${x.subject} ${String(x.body.type)} ${Object.keys(x.body).join(',')}`)
    .sort();
}

describe('consumer delivery advisories', () => {
  it('MSG_NAKED, MAX_DELIVERIES and MSG_TERMINATED with nats-server\'s subjects, types and fields', async () => {
    const seen = await scenario(await scope.server({ jetstream: true }));
    const naks = seen.filter((x) => x.subject === '$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.ADV.W');
    expect(naks.map((x) => [x.body.type, x.body.stream, x.body.consumer, x.body.stream_seq, x.body.consumer_seq, x.body.deliveries])).toEqual([
      ['io.nats.jetstream.advisory.v1.nak', 'ADV', 'W', 1, 1, 1],
      ['io.nats.jetstream.advisory.v1.nak', 'ADV', 'W', 1, 2, 2],
    ]);
    const max = seen.filter((x) => x.subject === '$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.ADV.W');
    expect(max.map((x) => x.body)).toEqual([
      { type: 'io.nats.jetstream.advisory.v1.max_deliver', id: expect.any(String), timestamp: expect.stringMatching(/Z$/), stream: 'ADV', consumer: 'W', stream_seq: 1, deliveries: 2 },
    ]);
    const term = seen.filter((x) => x.subject === '$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.ADV.T');
    expect(term.map((x) => x.body)).toEqual([
      { type: 'io.nats.jetstream.advisory.v1.terminated', id: expect.any(String), timestamp: expect.any(String), stream: 'ADV', consumer: 'T', consumer_seq: 1, stream_seq: 2, deliveries: 1 },
    ]);
  });

  it('a pending message deleted from the stream is terminated with "Unacknowledged message was deleted"', async () => {
    // 2.10.29 decStreamPending -> processTerm(ackTermUnackedLimitsReason).
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const seen: Seen[] = [];
    nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>', { callback: (_e, m: Msg) => void seen.push({ subject: m.subject, body: m.json() }) });
    await nc.flush();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'DEL', subjects: ['del'] });
    const js = jetstream(nc);
    await js.publish('del', 'x');
    await jsm.consumers.add('DEL', { durable_name: 'C', ack_policy: AckPolicy.Explicit });
    const m = await (await js.consumers.get('DEL', 'C')).next({ expires: 1000 });
    expect(m?.seq).toBe(1);
    await jsm.streams.deleteMessage('DEL', 1);
    await eventually(() => seen.length === 1, 'the MSG_TERMINATED advisory');
    expect(seen[0]!.subject).toBe('$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.DEL.C');
    expect(seen[0]!.body).toMatchObject({ type: 'io.nats.jetstream.advisory.v1.terminated', stream: 'DEL', consumer: 'C', consumer_seq: 1, stream_seq: 1, deliveries: 1, reason: 'Unacknowledged message was deleted' });
    expect((await jsm.consumers.info('DEL', 'C')).num_ack_pending).toBe(0);
  });

  it('match a real nats-server\'s advisories field for field', async () => {
    const ours = shape(await scenario(await scope.server({ jetstream: true })));
    const real = shape(await scenario(await scope.server({ jetstream: true, backend: 'nats-server' })));
    expect(ours.length).toBeGreaterThanOrEqual(4);
    expect(ours).toEqual(real);
  });

  it('+TERM <reason> carries the reason (2.10.29 reads it; 2.9 has no reason field)', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const seen: Record<string, unknown>[] = [];
    nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>', { callback: (_e, m) => void seen.push(m.json()) });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'R', subjects: ['r'] });
    await jetstream(nc).publish('r', 'x');
    await jsm.consumers.add('R', { durable_name: 'C', ack_policy: AckPolicy.Explicit });
    const m = await (await jetstream(nc).consumers.get('R', 'C')).next({ expires: 1000 });
    m!.term('bad payload');
    await eventually(() => seen.length === 1, 'the advisory');
    expect(seen[0]).toMatchObject({ reason: 'bad payload', stream_seq: 1, deliveries: 1 });
  });

  it('are not published without a listener, and are once someone listens', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const routed: string[] = [];
    // The tap sees every routed message, internal publications included, without being interest.
    s.onMessage((m) => routed.push(m.subject), { subject: '$JS.EVENT.>' });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'Q', subjects: ['q'] });
    await jetstream(nc).publish('q', 'x');
    await jsm.consumers.add('Q', { durable_name: 'C', ack_policy: AckPolicy.Explicit });
    const c = await jetstream(nc).consumers.get('Q', 'C');
    const m1 = await c.next({ expires: 1000 });
    m1!.nak();
    const m2 = await c.next({ expires: 1000 });
    expect(m2?.info.deliveryCount).toBe(2);
    await nc.flush();
    expect(routed).toEqual([]);
    const sub = nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.>');
    await nc.flush();
    m2!.nak();
    await eventually(() => routed.length === 1, 'the advisory');
    expect(routed).toEqual(['$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.Q.C']);
    sub.unsubscribe();
  });
});

/** API requests with and without a body, an error, while listening on $JS.EVENT.ADVISORY.API. */
async function auditScenario(s: NatsServer): Promise<Record<string, unknown>[]> {
  const nc = await scope.client(s);
  const seen: Record<string, unknown>[] = [];
  nc.subscribe('$JS.EVENT.ADVISORY.API', { callback: (_e, m) => void seen.push(m.json()) });
  await nc.flush();
  await nc.request('$JS.API.STREAM.NAMES', '');
  await nc.request('$JS.API.STREAM.CREATE.AUD', JSON.stringify({ name: 'AUD', subjects: ['aud'], storage: 'memory' }));
  await nc.request('$JS.API.STREAM.INFO.NOPE', '');
  await eventually(() => seen.length === 3, 'three audit advisories');
  return seen;
}

describe('the JetStream API audit advisory', () => {
  it('$JS.EVENT.ADVISORY.API: one per answered request, with the request, the response and the requester', async () => {
    const s = await scope.server({ jetstream: true });
    const seen = await auditScenario(s);
    expect(seen.map((a) => [a.type, a.subject, a.request])).toEqual([
      ['io.nats.jetstream.advisory.v1.api_audit', '$JS.API.STREAM.NAMES', undefined],
      ['io.nats.jetstream.advisory.v1.api_audit', '$JS.API.STREAM.CREATE.AUD', '{"name":"AUD","subjects":["aud"],"storage":"memory"}'],
      ['io.nats.jetstream.advisory.v1.api_audit', '$JS.API.STREAM.INFO.NOPE', undefined],
    ]);
    expect(JSON.parse(String(seen[0]!.response))).toMatchObject({ type: 'io.nats.jetstream.api.v1.stream_names_response', total: 0 });
    expect(JSON.parse(String(seen[2]!.response))).toMatchObject({ error: { err_code: 10059 } });
    // The requester as nats-server's service import describes it: account, RTT and server.
    expect(seen[0]!.client).toEqual({ acc: '$G', rtt: expect.any(Number), server: seen[0]!.server });
    // An unnamed server reports its id (nats-server's s.Name()).
    expect(seen[0]!.server).toMatch(/^N[A-Z0-9]{55}$/);
  });

  it('has the fields of a real nats-server\'s', async () => {
    const keys = (list: Record<string, unknown>[]): string[] =>
      list.map((a) => `${String(a.subject)}: ${Object.keys(a).join(',')} client ${Object.keys(a.client as object).join(',')}`);
    const ours = keys(await auditScenario(await scope.server({ jetstream: true })));
    const real = keys(await auditScenario(await scope.server({ jetstream: true, backend: 'nats-server' })));
    expect(ours).toEqual(real);
  });
});

