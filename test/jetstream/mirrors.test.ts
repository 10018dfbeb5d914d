/**
 * Mirrors and sources through the official `@nats-io/jetstream` client: what is copied (subject,
 * headers, payload; a mirror keeps the origin's sequences and times), the start options,
 * filters and subject transforms, the `Nats-Stream-Source` header, STREAM.INFO's `mirror` and
 * `sources` blocks, and resuming after kill()+restart(). nats-server v2.10.29 stream.go is the
 * reference; the differential comparison with a real nats-server is
 * test/conformance/jetstream-mirrors.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { ConfigError, type NatsServer } from '../../src/index.js';
import { resolveOptions } from '../../src/config/options.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { storedMessages } from '../helpers/stream-messages.js';

const scope = useScope();

/**
 * The suite also runs on the nats-server backend (test/conformance/run.mjs BACKEND_SUITES), whose
 * binary is 2.9.10: there the Nats-Stream-Source header is `<origin> <seq>` (verified) and
 * StreamSourceInfo has no `filter_subject`; 2.10 (stream.go genSourceHeader, sourceInfo) adds them.
 */
const V29 = process.env.NATS_EMBEDDED_BACKEND === 'nats-server';
function sourceHeader(origin: string, seq: number, filter = '>', dest = '>'): string {
  return V29 ? `${origin} ${seq}` : `${origin} ${seq} ${filter} ${dest}`;
}

/**
 * The tests that wait for a mirror or source to recover shorten its timers
 * (`jetstream.sourceTiming`; nats-server 2.10's are fixed: retries no sooner than 2 s after the
 * last request plus 10 s per failure, a consumer silent for 10 s remade). The nats-server
 * backend keeps its own, hence the long upper bounds of those waits.
 */
const QUICK_RETRY = { retryThreshold: 100, retryBackoff: 100 };
const QUICK_HEALTH = { ...QUICK_RETRY, healthCheckInterval: 2_000 };

async function setup(opts: Parameters<typeof scope.server>[0] = { jetstream: true }): Promise<{ s: NatsServer; nc: NatsConnection; jsm: JetStreamManager }> {
  const s = await scope.server(opts);
  const nc = await scope.client(s);
  const jsm = await jetstreamManager(nc);
  return { s, nc, jsm };
}

async function waitMsgs(jsm: JetStreamManager, stream: string, n: number, timeoutMs = 5000): Promise<void> {
  await eventually(async () => (await jsm.streams.info(stream)).state.messages === n, `${stream} to hold ${n} messages`, timeoutMs);
}

describe.each(['memory', 'file'] as const)('a mirror (%s storage)', (storage) => {
  it('copies every message with its subject, headers, payload, sequence and time, and follows new ones', async () => {
    const { nc, jsm } = await setup();
    await jsm.streams.add({ name: 'O', subjects: ['o.>'], storage });
    const js = jetstream(nc);
    const h = headers();
    h.set('X-Trace', 'abc');
    await js.publish('o.a', 'one', { headers: h });
    await js.publish('o.b', 'two');
    await js.publish('o.a', 'three');
    await jsm.streams.deleteMessage('O', 2);
    await jsm.streams.add({ name: 'M', mirror: { name: 'O' }, storage });
    await waitMsgs(jsm, 'M', 2);
    await js.publish('o.c', 'four');
    await waitMsgs(jsm, 'M', 3);
    const [o, m] = [await storedMessages(jsm, 'O'), await storedMessages(jsm, 'M')];
    expect(m.map((x) => [x.seq, x.subject, x.string(), x.time.toISOString()])).toEqual(o.map((x) => [x.seq, x.subject, x.string(), x.time.toISOString()]));
    expect(m[0]!.header.get('X-Trace')).toBe('abc');
    const info = await jsm.streams.info('M');
    expect(info.mirror).toMatchObject({ name: 'O', lag: 0 });
    expect(info.mirror!.active).toBeGreaterThanOrEqual(0);
    expect(info.state).toMatchObject({ messages: 3, first_seq: 1, last_seq: 4, num_deleted: 1, consumer_count: 0 });
    // The mirror's consumer on the origin is internal: not listed, not counted.
    expect((await jsm.streams.info('O')).state.consumer_count).toBe(0);
    expect(await jsm.consumers.list('O').next()).toEqual([]);
  });
});

describe.each(['memory', 'file'] as const)('sources (%s storage)', (storage) => {
  it('aggregates several origins and its own subjects, each copy with a Nats-Stream-Source header', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'A', subjects: ['a.>'], storage });
    await jsm.streams.add({ name: 'B', subjects: ['b.>'], storage });
    const h = headers();
    h.set('X-Keep', 'yes');
    await js.publish('a.1', 'a1', { headers: h });
    await js.publish('b.1', 'b1');
    await js.publish('b.2', 'b2');
    await jsm.streams.add({ name: 'S', subjects: ['s.>'], storage, sources: [{ name: 'A' }, { name: 'B', filter_subject: 'b.2' }] });
    await waitMsgs(jsm, 'S', 2);
    await js.publish('s.own', 'mine');
    await js.publish('a.2', 'a2');
    await waitMsgs(jsm, 'S', 4);
    const msgs = await storedMessages(jsm, 'S');
    // Sequences are the stream's own; the order of the two origins' first copies is not fixed.
    expect(msgs.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const bySubject = new Map(msgs.map((m) => [m.subject, m]));
    expect([...bySubject.keys()].sort()).toEqual(['a.1', 'a.2', 'b.2', 's.own']);
    // 2.10's header: origin, origin sequence, filter, transform destination.
    expect(bySubject.get('a.1')!.header.get('Nats-Stream-Source')).toBe(sourceHeader('A', 1));
    expect(bySubject.get('a.1')!.header.get('X-Keep')).toBe('yes');
    expect(bySubject.get('b.2')!.header.get('Nats-Stream-Source')).toBe(sourceHeader('B', 2, 'b.2'));
    expect(bySubject.get('a.2')!.header.get('Nats-Stream-Source')).toBe(sourceHeader('A', 2));
    expect(bySubject.get('s.own')!.header?.has('Nats-Stream-Source') ?? false).toBe(false);
    const info = await jsm.streams.info('S');
    // nats-server 2.9 lists sources in map order (random): compared by name.
    const sources = [...(info.sources ?? [])].sort((x, y) => x.name.localeCompare(y.name));
    expect(sources.map((x) => ({ name: x.name, lag: x.lag, filter: (x as { filter_subject?: string }).filter_subject }))).toEqual([
      { name: 'A', lag: 0, filter: undefined }, { name: 'B', lag: 0, filter: V29 ? undefined : 'b.2' },
    ]);
  });

  it('drops Nats-Expected-* headers from the copies (2.10), which are then stored', async () => {
    const { nc, jsm } = await setup();
    const h = headers();
    h.set('Nats-Expected-Stream', 'A');
    h.set('Nats-Expected-Last-Sequence', '0');
    await jsm.streams.add({ name: 'A', subjects: ['a.>'], storage });
    await jetstream(nc).publish('a.1', 'a1', { headers: h });
    await jsm.streams.add({ name: 'S', storage, sources: [{ name: 'A' }] });
    await waitMsgs(jsm, 'S', 1);
    const m = (await jsm.streams.getMessage('S', { seq: 1 }))!;
    expect([...m.header.keys()]).toEqual(['Nats-Stream-Source']);
  });

  it('starts at opt_start_seq / opt_start_time, with subject transforms (2.10)', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'A', subjects: ['a.>'], storage });
    for (let i = 1; i <= 5; i++) {
      // A millisecond between the 3rd and 4th, so that a start time in ms falls between them.
      if (i === 4) await new Promise((r) => setTimeout(r, 3));
      await js.publish(`a.${i}`, `m${i}`);
    }
    const t4 = (await jsm.streams.getMessage('A', { seq: 4 }))!.time;
    await jsm.streams.add({
      name: 'S', storage, sources: [
        { name: 'A', opt_start_seq: 3, subject_transforms: [{ src: 'a.*', dest: 'x.{{wildcard(1)}}' }] },
        { name: 'A', filter_subject: 'a.5' },
      ],
    } as never);
    // A start time is compared with the stream's last message time (trySetupSourceConsumer):
    // alone in its stream, so that no other source's copies move it.
    await jsm.streams.add({ name: 'T', storage, sources: [{ name: 'A', opt_start_time: t4.toISOString() }] });
    await waitMsgs(jsm, 'S', 4);
    await eventually(async () => (await jsm.streams.info('T')).state.messages >= 2, 'T to hold 2 messages');
    expect((await storedMessages(jsm, 'T')).map((m) => m.subject)).toEqual(['a.4', 'a.5']);
    const msgs = await storedMessages(jsm, 'S');
    expect(msgs.map((m) => m.subject).sort()).toEqual(['a.5', 'x.3', 'x.4', 'x.5']);
    expect(msgs.find((m) => m.subject === 'x.3')!.header.get('Nats-Stream-Source')).toBe('A 3 a.* x.{{wildcard(1)}}');
    const info = await jsm.streams.info('S');
    expect(info.sources?.[0]).toMatchObject({ name: 'A', subject_transforms: [{ src: 'a.*', dest: 'x.{{wildcard(1)}}' }] });
  });
});

describe('a mirror with options', () => {
  it('starts at opt_start_seq, keeps the origin sequences, and filters (filter_subject)', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'O', subjects: ['o.>'] });
    for (let i = 1; i <= 6; i++) await js.publish(i % 2 === 0 ? 'o.even' : 'o.odd', `m${i}`);
    await jsm.streams.add({ name: 'M1', mirror: { name: 'O', opt_start_seq: 4 } });
    await jsm.streams.add({ name: 'M2', mirror: { name: 'O', filter_subject: 'o.even' } });
    await waitMsgs(jsm, 'M1', 3);
    await waitMsgs(jsm, 'M2', 3);
    expect((await storedMessages(jsm, 'M1')).map((m) => [m.seq, m.string()])).toEqual([[4, 'm4'], [5, 'm5'], [6, 'm6']]);
    expect((await storedMessages(jsm, 'M2')).map((m) => [m.seq, m.subject])).toEqual([[2, 'o.even'], [4, 'o.even'], [6, 'o.even']]);
    expect((await jsm.streams.info('M2')).mirror).toMatchObject(V29 ? { name: 'O' } : { name: 'O', filter_subject: 'o.even' });
    // Nothing publishes into a mirror: it has no subjects.
    await expect(js.publish('o.even', 'x', { expect: { streamName: 'M2' } })).rejects.toThrow(/expected stream does not match/);
  });

  it('applies subject transforms, keeping the origin sequences (2.10)', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'O', subjects: ['o.>'] });
    for (let i = 1; i <= 6; i++) await js.publish(i % 2 === 0 ? 'o.even' : 'o.odd', `m${i}`);
    await jsm.streams.add({ name: 'M3', mirror: { name: 'O', subject_transforms: [{ src: 'o.odd', dest: 'odd' }] } } as never);
    await waitMsgs(jsm, 'M3', 3);
    expect((await storedMessages(jsm, 'M3')).map((m) => [m.seq, m.subject])).toEqual([[1, 'odd'], [3, 'odd'], [5, 'odd']]);
    expect((await jsm.streams.info('M3')).mirror).toMatchObject({ name: 'O', subject_transforms: [{ src: 'o.odd', dest: 'odd' }] });
  });

  it('reports the missing origin in STREAM.INFO and starts copying once it exists', async () => {
    const { nc, jsm } = await setup({ jetstream: { sourceTiming: QUICK_RETRY } });
    await jsm.streams.add({ name: 'M', mirror: { name: 'LATER' } });
    const err = await eventually(async () => (await jsm.streams.info('M')).mirror?.error, 'the mirror error');
    expect(err).toEqual({ code: 404, err_code: 10059, description: 'stream not found' });
    expect((await jsm.streams.info('M')).mirror).toMatchObject({ name: 'LATER', lag: 0, active: -1 });
    await jsm.streams.add({ name: 'LATER', subjects: ['later'] });
    await jetstream(nc).publish('later', 'hi');
    // nats-server retries after 2 s + 10 s per failure (+ jitter); shortened here.
    await waitMsgs(jsm, 'M', 1, 20_000);
    expect((await jsm.streams.info('M')).mirror?.error).toBeUndefined();
  }, 30_000);

  it('answers direct gets for the origin when mirror_direct (the origin allows direct)', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'O', subjects: ['o.>'], allow_direct: true });
    await js.publish('o.k', 'v1');
    const mi = await jsm.streams.add({ name: 'M', mirror: { name: 'O' } });
    expect(mi.config.mirror_direct).toBe(true);
    await waitMsgs(jsm, 'M', 1);
    // The origin is gone: only the mirror can answer `$JS.API.DIRECT.GET.O`.
    await jsm.streams.update('O', { allow_direct: false } as never);
    const r = await nc.request('$JS.API.DIRECT.GET.O', JSON.stringify({ last_by_subj: 'o.k' }), { timeout: 2000 });
    expect(r.headers?.get('Nats-Stream')).toBe('M');
    expect(r.string()).toBe('v1');
  });

  it('an external API prefix: requests go to that prefix, deliveries to the deliver prefix', async () => {
    const { nc, jsm } = await setup({ jetstream: { domain: 'hub' } } as never);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'O', subjects: ['o.>'] });
    await js.publish('o.a', '1');
    // The server's own domain prefix is an account mapping for client connections only
    // (2.10.29 parser.go: CLIENT and LEAF): the server's internal requests on it are not
    // answered, as on nats-server 2.9.10 (verified): nothing is copied, no error is shown.
    await jsm.streams.add({ name: 'U', mirror: { name: 'O', external: { api: '$JS.hub.API', deliver: '' } } } as never);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await jsm.streams.info('U')).state.messages).toBe(0);
    expect((await jsm.streams.info('U')).mirror).toMatchObject({ name: 'O', active: -1 });
    expect((await jsm.streams.info('U')).mirror?.error).toBeUndefined();
    // What an account import would do: forward `$X.API.>` to the JetStream API.
    const seen: string[] = [];
    nc.subscribe('$X.API.>', {
      callback: (_err, m) => {
        seen.push(m.subject);
        nc.publish(`$JS.API.${m.subject.slice('$X.API.'.length)}`, m.data, { reply: m.reply });
      },
    });
    await nc.flush();
    await jsm.streams.add({ name: 'M', mirror: { name: 'O', external: { api: '$X.API', deliver: 'dlv' } } } as never);
    await jsm.streams.add({ name: 'S', sources: [{ name: 'O', external: { api: '$X.API', deliver: '' } }] } as never);
    await waitMsgs(jsm, 'M', 1);
    await waitMsgs(jsm, 'S', 1);
    expect(seen).toEqual(['$X.API.CONSUMER.CREATE.O', '$X.API.CONSUMER.CREATE.O']);
    expect((await jsm.streams.info('M')).mirror).toMatchObject({ name: 'O', external: { api: '$X.API', deliver: 'dlv' } });
    const m = (await jsm.streams.getMessage('S', { seq: 1 }))!;
    // The index name carries the hash of the API prefix (StreamSource.composeIName; the same
    // hash as nats-server 2.9.10's `O:HJXnVj96 1`, verified).
    expect(m.header.get('Nats-Stream-Source')).toBe(sourceHeader('O:HJXnVj96', 1));
  });

  it('follows an origin deleted and recreated, after the last origin sequence it copied (as nats-server)', async () => {
    const { nc, jsm } = await setup({ jetstream: { sourceTiming: QUICK_HEALTH } });
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'O', subjects: ['o.>'] });
    await js.publish('o.a', '1');
    await jsm.streams.add({ name: 'S', sources: [{ name: 'O' }] });
    await waitMsgs(jsm, 'S', 1);
    await jsm.streams.delete('O');
    await jsm.streams.add({ name: 'O', subjects: ['o.>'] });
    await js.publish('o.a', '2');
    await js.publish('o.a', '3');
    // The consumer went with the old origin; after 10-20 s (2-4 s here) without heartbeats it is made again,
    // starting after the origin sequence last copied (1): the new origin's message 1 is not read.
    await waitMsgs(jsm, 'S', 2, 40_000);
    expect((await storedMessages(jsm, 'S')).map((m) => [m.string(), m.header.get('Nats-Stream-Source')])).toEqual([['1', sourceHeader('O', 1)], ['3', sourceHeader('O', 2)]]);
  }, 60_000);
});

describe('kill() + restart() (file storage)', () => {
  it('a mirror and a source resume without loss or duplicates', async () => {
    const { s, nc, jsm } = await setup({ jetstream: true });
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'O', subjects: ['o.>'] });
    await jsm.streams.add({ name: 'M', mirror: { name: 'O' } });
    await jsm.streams.add({ name: 'S', subjects: ['s'], sources: [{ name: 'O' }] });
    for (let i = 1; i <= 20; i++) await js.publish('o.x', String(i));
    await waitMsgs(jsm, 'M', 20);
    await waitMsgs(jsm, 'S', 20);
    await s.kill();
    await s.restart();
    const nc2 = await scope.client(s);
    const jsm2 = await jetstreamManager(nc2);
    const js2 = jetstream(nc2);
    for (let i = 21; i <= 30; i++) await js2.publish('o.x', String(i));
    await waitMsgs(jsm2, 'M', 30);
    await waitMsgs(jsm2, 'S', 30);
    const want = Array.from({ length: 30 }, (_, i) => String(i + 1));
    expect((await storedMessages(jsm2, 'M')).map((m) => m.string())).toEqual(want);
    const sm = await storedMessages(jsm2, 'S');
    expect(sm.map((m) => m.string())).toEqual(want);
    expect(sm.map((m) => m.header.get('Nats-Stream-Source'))).toEqual(want.map((w) => sourceHeader('O', Number(w))));
    // No more after a while (nothing sourced twice).
    await new Promise((r) => setTimeout(r, 500));
    expect((await jsm2.streams.info('S')).state.messages).toBe(30);
  });
});

describe('/jsz and stream updates', () => {
  it('/jsz shows a mirror\'s and sources\' blocks and leaves out the internal consumers', async () => {
    const { s, nc, jsm } = await setup({ jetstream: true, http: -1 });
    await jsm.streams.add({ name: 'O', subjects: ['o.>'] });
    await jsm.consumers.add('O', { durable_name: 'mine' });
    await jetstream(nc).publish('o.a', '1');
    await jsm.streams.add({ name: 'M', mirror: { name: 'O' } });
    await jsm.streams.add({ name: 'S', sources: [{ name: 'O', filter_subject: 'o.a' }] });
    await waitMsgs(jsm, 'M', 1);
    await waitMsgs(jsm, 'S', 1);
    type Detail = { name: string; state: { consumer_count: number }; consumer_detail?: Array<{ name: string }>; mirror?: { name: string }; sources?: Array<{ name: string; filter_subject?: string }> };
    const jsz = await (await fetch(`${s.monitorUrl!}/jsz?streams=1&consumers=1`)).json() as { consumers: number; account_details: Array<{ stream_detail: Detail[] }> };
    const byName = new Map(jsz.account_details[0]!.stream_detail.map((d) => [d.name, d]));
    expect(byName.get('O')!.consumer_detail?.map((c) => c.name)).toEqual(['mine']);
    expect(byName.get('O')!.state.consumer_count).toBe(1);
    expect(byName.get('M')!.mirror).toMatchObject({ name: 'O', lag: 0 });
    expect(byName.get('S')!.sources).toMatchObject([V29 ? { name: 'O' } : { name: 'O', filter_subject: 'o.a' }]);
    // The server-wide count adds the streams' consumer counts: the internal ones left out.
    expect(jsz.consumers).toBe(1);
  });

  it('an update adds and removes sources', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'A', subjects: ['a'] });
    await jsm.streams.add({ name: 'B', subjects: ['b'] });
    await js.publish('a', 'a1');
    await js.publish('b', 'b1');
    await jsm.streams.add({ name: 'S', subjects: ['s'] });
    await jsm.streams.update('S', { sources: [{ name: 'A' }] } as never);
    await waitMsgs(jsm, 'S', 1);
    await jsm.streams.update('S', { sources: [{ name: 'B' }] } as never);
    await waitMsgs(jsm, 'S', 2);
    await js.publish('a', 'a2');
    await js.publish('b', 'b2');
    await waitMsgs(jsm, 'S', 3);
    await new Promise((r) => setTimeout(r, 300));
    expect((await storedMessages(jsm, 'S')).map((m) => m.string())).toEqual(['a1', 'b1', 'b2']);
    expect((await jsm.streams.info('S')).sources?.map((x) => x.name)).toEqual(['B']);
  });
});

describe('lost deliveries (embedded fault injection)', () => {
  it('a mirror recovers a dropped delivery: from the next one\'s sequence, or from the idle heartbeat', async () => {
    const { s, nc, jsm } = await setup({ jetstream: { sourceTiming: QUICK_RETRY } });
    const js = jetstream(nc);
    // Published on in.*, stored as o.* (2.10 subject transform): a drop rule on o.a then
    // matches only the deliveries to the copying consumer (they carry the stored subject).
    await jsm.streams.add({ name: 'O', subjects: ['in.>'], subject_transform: { src: 'in.>', dest: 'o.>' } } as never);
    // The consumer create requests, seen by a client: one more after each recovery.
    let creates = 0;
    nc.subscribe('$JS.API.CONSUMER.CREATE.O', { callback: () => { creates++; } });
    await nc.flush();
    await jsm.streams.add({ name: 'M', mirror: { name: 'O' } });
    await js.publish('in.a', '1');
    await waitMsgs(jsm, 'M', 1);
    // The next delivery to the mirror's consumer is lost; the one after shows the gap.
    const first = s.dropMessages({ subject: 'o.a', count: 1 });
    for (let i = 2; i <= 4; i++) await js.publish('in.a', String(i));
    await eventually(() => first.dropped === 1, 'a delivery to be dropped');
    await waitMsgs(jsm, 'M', 4, 10_000);
    expect(creates).toBe(2);
    // The last delivery is lost: only the heartbeat's Nats-Last-Consumer tells.
    const last = s.dropMessages({ subject: 'o.a', count: 1 });
    await js.publish('in.a', '5');
    await eventually(() => last.dropped === 1, 'the last delivery to be dropped');
    await waitMsgs(jsm, 'M', 5, 10_000);
    expect(creates).toBe(3);
    expect((await storedMessages(jsm, 'M')).map((m) => [m.seq, m.string()])).toEqual([[1, '1'], [2, '2'], [3, '3'], [4, '4'], [5, '5']]);
  }, 30_000);

  it('a source recovers a dropped delivery without duplicates', async () => {
    const { s, nc, jsm } = await setup({ jetstream: { sourceTiming: QUICK_RETRY } });
    const js = jetstream(nc);
    // Published on in.*, stored as o.* (2.10 subject transform): a drop rule on o.a then
    // matches only the deliveries to the copying consumer (they carry the stored subject).
    await jsm.streams.add({ name: 'O', subjects: ['in.>'], subject_transform: { src: 'in.>', dest: 'o.>' } } as never);
    // The consumer create requests, seen by a client: one more after each recovery.
    let creates = 0;
    nc.subscribe('$JS.API.CONSUMER.CREATE.O', { callback: () => { creates++; } });
    await nc.flush();
    await jsm.streams.add({ name: 'S', sources: [{ name: 'O' }] });
    await js.publish('in.a', '1');
    await waitMsgs(jsm, 'S', 1);
    const first = s.dropMessages({ subject: 'o.a', count: 1 });
    for (let i = 2; i <= 4; i++) await js.publish('in.a', String(i));
    await eventually(() => first.dropped === 1, 'a delivery to be dropped');
    await waitMsgs(jsm, 'S', 4, 10_000);
    expect(creates).toBe(2);
    const last = s.dropMessages({ subject: 'o.a', count: 1 });
    await js.publish('in.a', '5');
    await eventually(() => last.dropped === 1, 'the last delivery to be dropped');
    await waitMsgs(jsm, 'S', 5, 10_000);
    expect(creates).toBe(3);
    await new Promise((r) => setTimeout(r, 300));
    expect((await storedMessages(jsm, 'S')).map((m) => m.string())).toEqual(['1', '2', '3', '4', '5']);
  }, 30_000);
});

describe('jetstream.sourceTiming', () => {
  it('defaults to nats-server 2.10\'s timers and is checked like any option', () => {
    expect(resolveOptions({ jetstream: true }).jetstream?.sourceTiming).toEqual({ healthCheckInterval: 10_000, retryThreshold: 2_000, retryBackoff: 5_000, createTimeout: 30_000 });
    expect(resolveOptions({ jetstream: { sourceTiming: { retryThreshold: 50 } } }).jetstream?.sourceTiming).toMatchObject({ retryThreshold: 50, retryBackoff: 5_000 });
    // A silence shorter than two heartbeats (1 s apart) would remake healthy consumers.
    expect(() => resolveOptions({ jetstream: { sourceTiming: { healthCheckInterval: 1_000 } } })).toThrow(ConfigError);
    expect(() => resolveOptions({ jetstream: { sourceTiming: { retryBackof: 5 } as never } })).toThrow(/jetstream\.sourceTiming\.retryBackof/);
  });
});
