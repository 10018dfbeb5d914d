/**
 * Differential check of mirrors and sources: one scenario (a mirror, a filtered mirror, a
 * mirror from a start sequence, a mirror of a missing origin, a stream sourcing two origins
 * with one filtered, plus its own subject; an origin with a deleted message; more messages
 * after the copies caught up) runs through the official client against the embedded broker and
 * a real nats-server. What a client sees must be equal: each stream's state without times,
 * every stored message (sequence, subject, payload, headers), a mirror's times equal to its
 * origin's, STREAM.INFO's `mirror`/`sources` (name, lag, error; `active` present), and that
 * the internal consumers are not listed on the origin.
 *
 * The reference binary is 2.9.10; where 2.10 (the contract) differs the comparison maps it:
 * - `Nats-Stream-Source` is `<origin> <seq> <filter> <dest>` in 2.10 (stream.go
 *   genSourceHeader), `<origin> <seq>` in 2.9: compared on its first two fields;
 *   the stream's `bytes` are compared without the extra fields' length;
 * - 2.10's StreamSourceInfo has `filter_subject` / `subject_transforms` (2.9 has neither): left out.
 * Copies of two sources made at the same time may interleave differently: a sourcing stream's
 * messages are compared as a set, with their sequences checked to be 1..n.
 */
import { describe, expect, it } from 'vitest';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { eventually } from '../helpers/eventually.js';
import { useJetStreamPair } from '../helpers/js-pair.js';
import { storedMessages } from '../helpers/stream-messages.js';

const pair = useJetStreamPair('nats-js-mirrors-');

const STREAMS = ['O', 'P', 'M', 'MF', 'MS', 'S'];

function headerList(m: StoredMsg): string[] {
  const out: string[] = [];
  if (m.header === undefined) return out;
  for (const k of m.header.keys()) {
    let v = m.header.get(k);
    if (k === 'Nats-Stream-Source') v = v.split(' ').slice(0, 2).join(' ');
    out.push(`${k}: ${v}`);
  }
  return out;
}

/** What a client sees of every stream, without times. */
async function snapshot(nc: NatsConnection): Promise<unknown> {
  const jsm = await jetstreamManager(nc);
  const out: Record<string, unknown> = {};
  const origin = new Map((await storedMessages(jsm, 'O')).map((m) => [m.seq, m.time.getTime()]));
  for (const name of STREAMS) {
    const si = await jsm.streams.info(name);
    const { first_ts: _f, last_ts: _l, ...state } = si.state;
    const raw = await storedMessages(jsm, name);
    // The bytes as 2.9 counts them: without the 2.10 header's extra fields.
    for (const m of raw) {
      const v = m.header?.get('Nats-Stream-Source') ?? '';
      state.bytes -= v.length - v.split(' ').slice(0, 2).join(' ').length;
    }
    const msgs = raw.map((m) => ({ seq: m.seq, subject: m.subject, data: m.string(), headers: headerList(m), time: m.time.getTime() }));
    const mirrorTimesEqual = si.config.mirror?.name === 'O' ? msgs.every((m) => origin.get(m.seq) === m.time) : undefined;
    const sourced = name === 'S';
    const info = (x: { name: string; lag: number; active: number; error?: unknown } | undefined): unknown =>
      x === undefined ? undefined : { name: x.name, lag: x.lag, active: x.active >= 0, error: x.error };
    out[name] = {
      state,
      messages: sourced ? msgs.map(({ seq: _s, time: _t, ...m }) => m).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)) : msgs.map(({ time: _t, ...m }) => m),
      seqs: msgs.map((m) => m.seq),
      mirrorTimesEqual,
      mirror: info(si.mirror),
      sources: si.sources?.map(info).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
    };
  }
  const missing = await jsm.streams.info('MX');
  out.MX = { mirror: missing.mirror?.name, error: missing.mirror?.error, active: missing.mirror?.active };
  const names: string[] = [];
  for await (const c of jsm.consumers.list('O')) names.push(c.name);
  out.originConsumers = names;
  return out;
}

async function counts(jsm: JetStreamManager, want: Record<string, number>): Promise<void> {
  await eventually(async () => {
    for (const [name, n] of Object.entries(want)) if ((await jsm.streams.info(name)).state.messages !== n) return false;
    return (await jsm.streams.info('MX')).mirror?.error !== undefined;
  }, `stream counts ${JSON.stringify(want)}`, 15_000);
}

async function scenario(nc: NatsConnection): Promise<unknown[]> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const out: unknown[] = [];
  await jsm.streams.add({ name: 'O', subjects: ['o.>'] });
  await jsm.streams.add({ name: 'P', subjects: ['p.>'] });
  const h = headers();
  h.set('X-A', '1');
  await js.publish('o.a', 'one', { headers: h });
  await js.publish('o.b', 'two');
  await js.publish('o.a', 'three', { msgID: 'id-3' });
  await js.publish('o.b', 'four');
  await jsm.streams.deleteMessage('O', 2);
  await js.publish('p.x', 'px');
  await js.publish('p.y', 'py');
  await jsm.streams.add({ name: 'M', mirror: { name: 'O' } });
  await jsm.streams.add({ name: 'MF', mirror: { name: 'O', filter_subject: 'o.a' } });
  await jsm.streams.add({ name: 'MS', mirror: { name: 'O', opt_start_seq: 3 } });
  await jsm.streams.add({ name: 'MX', mirror: { name: 'NOPE' } });
  await jsm.streams.add({ name: 'S', subjects: ['s.>'], sources: [{ name: 'O' }, { name: 'P', filter_subject: 'p.y' }] });
  await counts(jsm, { M: 3, MF: 2, MS: 2, S: 4 });
  out.push(await snapshot(nc));
  await js.publish('o.c', 'five');
  await js.publish('s.own', 'own');
  await js.publish('p.y', 'py2');
  await js.publish('p.x', 'px2');
  await counts(jsm, { M: 4, MF: 2, MS: 3, S: 7 });
  out.push(await snapshot(nc));
  return out;
}

describe('mirrors and sources: the embedded broker and nats-server give the same results', () => {
  it('copies, sequences, headers, STREAM.INFO mirror/sources', async () => {
    const [want, got] = await Promise.all([scenario(pair.realNc), scenario(pair.embNc)]);
    expect(got).toEqual(want);
    // The scenario is not trivial: the copies are there.
    expect((want[1] as { S: { seqs: number[] } }).S.seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
  }, 60_000);
});

/** The create/update errors that need another stream to exist (the config table's cases stand alone). */
async function configErrors(nc: NatsConnection): Promise<string[]> {
  const raw = async (subject: string, body: unknown): Promise<string> =>
    new TextDecoder().decode((await nc.request(subject, body === undefined ? '' : JSON.stringify(body), { timeout: 3000 })).data);
  const out: string[] = [];
  await raw('$JS.API.STREAM.CREATE.CO', { name: 'CO', subjects: ['co.>'], max_msg_size: 2048 });
  const creates: Array<[string, unknown]> = [
    ['CM', { name: 'CM', mirror: { name: 'CO' }, max_msg_size: 1024 }], // 10030
    ['CS', { name: 'CS', sources: [{ name: 'CO' }], max_msg_size: 1024 }], // 10046
    ['CM', { name: 'CM', mirror: { name: 'CM' } }], // detected cycle
    ['CS', { name: 'CS', subjects: ['cs'], sources: [{ name: 'CS' }] }], // detected cycle
    ['CS', { name: 'CS', subjects: ['co.x'], sources: [{ name: 'CO' }] }], // 10065
  ];
  for (const [name, body] of creates) {
    out.push(await raw(`$JS.API.STREAM.CREATE.${name}`, body));
    await raw(`$JS.API.STREAM.DELETE.${name}`, undefined);
  }
  await raw('$JS.API.STREAM.CREATE.CM', { name: 'CM', mirror: { name: 'CO' } });
  out.push(await raw('$JS.API.STREAM.UPDATE.CM', { name: 'CM' })); // 10055
  await raw('$JS.API.STREAM.CREATE.CA', { name: 'CA', subjects: ['ca'] });
  out.push(await raw('$JS.API.STREAM.UPDATE.CA', { name: 'CA', subjects: ['ca'], mirror: { name: 'CO' } })); // 10034
  for (const n of ['CO', 'CM', 'CA']) await raw(`$JS.API.STREAM.DELETE.${n}`, undefined);
  return out;
}

describe('mirror and source config errors that need an existing origin', () => {
  it('are nats-server\'s, byte for byte', async () => {
    const [want, got] = await Promise.all([configErrors(pair.realNc), configErrors(pair.embNc)]);
    expect(got).toEqual(want);
    expect(want.every((r) => r.includes('"error"'))).toBe(true);
  });
});

/** Interest and work-queue origins: the copying consumer is interest, and what it got goes. */
async function retentionOrigins(nc: NatsConnection): Promise<unknown> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await jsm.streams.add({ name: 'IO', subjects: ['io.>'], retention: 'interest' } as never);
  await jsm.streams.add({ name: 'IM', mirror: { name: 'IO' } });
  await jsm.streams.add({ name: 'WO', subjects: ['wo.>'], retention: 'workqueue' } as never);
  await jsm.streams.add({ name: 'WS', sources: [{ name: 'WO' }] });
  // A work queue keeps a message until the copying consumer exists; an interest stream skips
  // it while there is none: its mirror's consumer is made 100-200 ms after the create.
  await js.publish('wo.a', 'first');
  await eventually(async () => (await jsm.streams.info('WS')).state.messages === 1, 'the first copy', 15_000);
  await new Promise((r) => setTimeout(r, 1000));
  for (let i = 0; i < 3; i++) {
    await js.publish('io.a', `x${i}`);
    await js.publish('wo.a', `y${i}`);
  }
  await eventually(async () => (await jsm.streams.info('IM')).state.messages === 3 && (await jsm.streams.info('WS')).state.messages === 4, 'all copies', 15_000);
  const out: Record<string, unknown> = {};
  for (const name of ['IO', 'IM', 'WO', 'WS']) {
    const { first_ts: _f, last_ts: _l, ...state } = (await jsm.streams.info(name)).state;
    for (const m of await storedMessages(jsm, name)) {
      const v = m.header?.get('Nats-Stream-Source') ?? '';
      state.bytes -= v.length - v.split(' ').slice(0, 2).join(' ').length;
    }
    out[name] = state;
  }
  return out;
}

describe('mirrors and sources of interest and work-queue streams', () => {
  it('leave the origin empty once copied, as nats-server', async () => {
    const [want, got] = await Promise.all([retentionOrigins(pair.realNc), retentionOrigins(pair.embNc)]);
    expect(got).toEqual(want);
    expect((want as { IO: { messages: number } }).IO.messages).toBe(0);
  }, 40_000);
});
