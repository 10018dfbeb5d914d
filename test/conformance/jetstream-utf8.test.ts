/**
 * Non-ASCII subjects in JetStream against the real nats-server. On the wire a subject is bytes
 * (UTF-8 when a client sends text); in the JSON of the API it is text. nats-server compares the
 * bytes, so a stream's `subjects`, a consumer's `filter_subject`, a deliver subject, purge and
 * get filters written as JSON must match the same subjects published on the wire, and every
 * subject written back as JSON (STREAM.INFO's `subjects` map, MSG.GET, /jsz) must read as the
 * text the client sent. One scenario with `ü` (2 bytes), `€` (3 bytes) and `😀` (4 bytes) runs
 * through the official client against both servers; the transcripts must be equal. Subjects
 * that are not valid UTF-8 (sent raw) must be stored, and written as JSON with U+FFFD for each
 * bad byte, as Go's encoding/json does.
 *
 * The binary in CI is 2.9.10: `filter_subjects` and subject transforms are 2.10 and are tested
 * on the embedded broker alone (test/jetstream/utf8-subjects.test.ts), as is recovery after a
 * restart. KV keys cannot hold these characters: @nats-io/kv refuses such keys itself.
 * Part of `npm run test:conformance` (it needs NATS_SERVER_BIN).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tcpConnect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { storedMessages } from '../helpers/stream-messages.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const U = 'ü';
const E = '€';
const F = '😀';

const scope = useScope('file');

interface Target {
  port: number;
  monitor: string;
}
const targets: { real: Target; emb: Target } = { real: { port: 0, monitor: '' }, emb: { port: 0, monitor: '' } };

beforeAll(async () => {
  const store = mkdtempSync(join(tmpdir(), 'js-utf8-'));
  scope.defer(() => rmSync(store, { recursive: true, force: true }));
  const [port, httpPort] = [await freePort(), await freePort()];
  const real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, `http: "127.0.0.1:${httpPort}"`, `jetstream { store_dir: "${store}" }`]);
  scope.defer(() => real.stop());
  targets.real = { port, monitor: `http://127.0.0.1:${httpPort}` };
  const emb = await scope.server({ http: -1, jetstream: true });
  targets.emb = { port: emb.port, monitor: emb.monitorUrl! };
}, 30_000);

type Transcript = Record<string, unknown>;

/** Records what `fn` gives, or its error's message and API code. */
async function rec(t: Transcript, label: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    t[label] = { ok: await fn() };
  } catch (err) {
    const e = err as Error & { api_error?: { err_code?: number } };
    t[label] = { err: e.message, code: e.api_error?.err_code };
  }
}

/** Writes raw protocol bytes on a connection of its own and waits for the PONG after them. */
async function rawSend(port: number, bytes: Buffer): Promise<void> {
  const s = tcpConnect({ port, host: '127.0.0.1' });
  let got = '';
  await new Promise<void>((resolve, reject) => {
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('PONG\r\n')) resolve();
      if (got.includes('-ERR')) reject(new Error(got));
    });
    s.write(Buffer.concat([Buffer.from('CONNECT {"verbose":false}\r\n'), bytes, Buffer.from('PING\r\n')]));
  });
  s.destroy();
}

/** A consumer's name, or a placeholder for the ordered consumer's random one. */
const named = (n: string): string => (['C1', 'C2', 'P'].includes(n) ? n : '<random>');

async function stored(jsm: JetStreamManager, stream: string): Promise<unknown> {
  return (await storedMessages(jsm, stream)).map((m) => [m.seq, m.subject, m.string()]);
}

async function collect(nc: NatsConnection, subject: string, n: number): Promise<{ sub: ReturnType<NatsConnection['subscribe']>; got: Promise<string[][]> }> {
  const sub = nc.subscribe(subject, { max: n });
  const got = (async () => {
    const out: string[][] = [];
    for await (const m of sub) out.push([m.subject, m.headers?.get('Nats-Subject') ?? '', m.string()]);
    return out;
  })();
  await nc.flush();
  return { sub, got };
}

async function scenario(target: Target): Promise<Transcript> {
  const t: Transcript = {};
  const nc = await scope.client(`nats://127.0.0.1:${target.port}`);
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);

  await rec(t, 'create', async () => (await jsm.streams.add({ name: 'U', subjects: ['u.>', `${U}.x`, `${E}.*`, `${F}.>`], allow_direct: true })).config.subjects);
  await rec(t, 'overlap', async () => (await jsm.streams.add({ name: 'V', subjects: [`${E}.a`] })).config.subjects);
  const acks: unknown[] = [];
  for (const s of [`u.${U}`, `u.${E}`, `u.${F}`, `${U}.x`, `${E}.a`, `${F}.b.c`, 'u.a', `u.${U}`, `${E}.b`]) {
    const a = await js.publish(s, s);
    acks.push([s, a.stream, a.seq]);
  }
  t.acks = acks;
  await rec(t, 'no stream', () => js.publish(`${U}.y`, 'z'));

  const info = async (filter: string): Promise<unknown> => {
    const si = await jsm.streams.info('U', { subjects_filter: filter });
    return { msgs: si.state.messages, subjects: si.state.subjects, n: si.state.num_subjects };
  };
  await rec(t, 'info >', () => info('>'));
  await rec(t, `info u.${U}`, () => info(`u.${U}`));
  await rec(t, `info ${F}.>`, () => info(`${F}.>`));
  await rec(t, 'names', async () => {
    const out: string[] = [];
    for await (const n of jsm.streams.names(`${E}.a`)) out.push(n);
    return out;
  });

  // A durable pull consumer with a filter: created through CONSUMER.CREATE.<stream>.<name>.<filter>.
  await rec(t, 'pull', async () => {
    const ci = await jsm.consumers.add('U', { durable_name: 'C1', filter_subject: `u.${E}`, ack_policy: AckPolicy.Explicit });
    const m = await (await js.consumers.get('U', 'C1')).next({ expires: 1000 });
    m?.ack();
    return { pending: ci.num_pending, filter: ci.config.filter_subject, next: m && [m.subject, m.string()] };
  });
  await rec(t, 'last per subject', async () => {
    const ci = await jsm.consumers.add('U', { durable_name: 'C2', filter_subject: 'u.*', deliver_policy: DeliverPolicy.LastPerSubject, ack_policy: AckPolicy.None });
    const c = await js.consumers.get('U', 'C2');
    const out: unknown[] = [];
    for (let i = 0; i < ci.num_pending; i++) {
      const m = await c.next({ expires: 1000 });
      out.push(m && [m.seq, m.subject]);
    }
    return { pending: ci.num_pending, msgs: out };
  });
  await rec(t, 'ordered', async () => {
    const c = await js.consumers.get('U', { filter_subjects: `${F}.>` });
    const m = await c.next({ expires: 1000 });
    return m && [m.subject, m.string()];
  });
  await rec(t, 'push', async () => {
    const { got } = await collect(nc, `dlv.${U}.${F}`, 5);
    const ci = await jsm.consumers.add('U', { durable_name: 'P', deliver_subject: `dlv.${U}.${F}`, filter_subject: 'u.>', ack_policy: AckPolicy.None });
    return { deliver: ci.config.deliver_subject, msgs: await got };
  });
  await rec(t, 'consumer info', async () => (await jsm.consumers.info('U', 'C1')).config.filter_subject);
  await rec(t, 'consumer list', async () => (await jsm.consumers.list('U').next()).map((c) => [named(c.name), c.config.filter_subject ?? '', c.config.deliver_subject ?? '']).sort());
  // A deliver subject the stream itself captures (a cycle), known only by comparing the bytes.
  await rec(t, 'deliver cycle', () => jsm.consumers.add('U', { durable_name: 'C3', deliver_subject: `${E}.z`, ack_policy: AckPolicy.None }));

  await rec(t, 'get last', async () => {
    const m = await jsm.streams.getMessage('U', { last_by_subj: `u.${U}` });
    return m && [m.seq, m.subject, m.string()];
  });
  await rec(t, 'get next', async () => {
    const m = await jsm.streams.getMessage('U', { next_by_subj: `${E}.*`, seq: 1 } as never);
    return m && [m.seq, m.subject];
  });
  await rec(t, 'direct get', async () => {
    const m = await jsm.direct.getMessage('U', { last_by_subj: `${F}.b.c` });
    return m && [m.seq, m.subject, m.header.get('Nats-Subject'), m.string()];
  });
  await rec(t, 'direct get next', async () => {
    const m = await jsm.direct.getMessage('U', { next_by_subj: `${U}.x`, seq: 1 });
    return m && [m.seq, m.subject];
  });

  // Mirrors and sources with filters (a mirror's filter is 2.10; 2.9 takes it too).
  await rec(t, 'mirror', async () => {
    await jsm.streams.add({ name: 'M', mirror: { name: 'U', filter_subject: `${F}.>` } });
    await eventually(async () => (await jsm.streams.info('M')).state.messages === 1, 'the mirror copy');
    return stored(jsm, 'M');
  });
  await rec(t, 'source', async () => {
    await jsm.streams.add({ name: 'S', sources: [{ name: 'U', filter_subject: `${E}.*` }] });
    await eventually(async () => (await jsm.streams.info('S')).state.messages === 2, 'the sourced copies');
    return stored(jsm, 'S');
  });

  await rec(t, 'republish', async () => {
    await jsm.streams.add({ name: 'R', subjects: ['r.>'], republish: { src: `r.${U}.>`, dest: `rp.${E}.>` } });
    const { got } = await collect(nc, `rp.${E}.>`, 1);
    await js.publish(`r.${U}.${F}`, 'x');
    return { cfg: (await jsm.streams.info('R')).config.republish, msgs: await got };
  });

  // Raw bytes that are not UTF-8: 0xff, a cut-off `€`, and a surrogate's encoding.
  await rec(t, 'invalid utf-8', async () => {
    await rawSend(target.port, Buffer.concat([
      Buffer.from('PUB u.'), Buffer.from([0xff]), Buffer.from(' 1\r\na\r\n'),
      Buffer.from('PUB u.'), Buffer.from([0xe2, 0x82]), Buffer.from('x 1\r\nb\r\n'),
      Buffer.from('PUB u.'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(' 1\r\nc\r\n'),
    ]));
    const si = await jsm.streams.info('U', { subjects_filter: 'u.*' });
    const last = si.state.last_seq;
    const msgs: unknown[] = [];
    for (let seq = last - 2; seq <= last; seq++) {
      const m = await jsm.streams.getMessage('U', { seq });
      msgs.push(m && [m.seq, m.subject, m.string()]);
    }
    return { subjects: si.state.subjects, msgs };
  });

  await rec(t, 'jsz', async () => {
    const r = await fetch(`${target.monitor}/jsz?streams=1&consumers=1&config=1`);
    const doc = (await r.json()) as { account_details?: Array<{ stream_detail?: Array<Record<string, any>> }> };
    const streams = doc.account_details?.[0]?.stream_detail ?? [];
    return streams
      .map((s) => [s.name, s.config?.subjects, s.config?.republish, s.config?.mirror?.filter_subject,
        (s.consumer_detail ?? []).map((c: Record<string, any>) => [named(c.name), c.config?.filter_subject, c.config?.deliver_subject]).sort()])
      .sort();
  });

  await rec(t, 'purge', async () => {
    const p = await jsm.streams.purge('U', { filter: `u.${E}` });
    const k = await jsm.streams.purge('U', { filter: `u.${U}`, keep: 1 });
    const si = await jsm.streams.info('U', { subjects_filter: 'u.>' });
    return { purged: p.purged, kept: k.purged, subjects: si.state.subjects };
  });
  await rec(t, 'update', async () => (await jsm.streams.update('U', { subjects: ['u.>', `${U}.x`, `${F}.>`, `${E}.${U}`] })).config.subjects);
  return t;
}

describe('non-ASCII subjects in JetStream, against nats-server', () => {
  it('the same transcript on both servers', async () => {
    const theirs = await scenario(targets.real);
    const ours = await scenario(targets.emb);
    // The scenario itself must have worked on nats-server (or the comparison says little).
    expect(theirs.create).toEqual({ ok: ['u.>', `${U}.x`, `${E}.*`, `${F}.>`] });
    expect((theirs.pull as { ok: { next: unknown } }).ok.next).toEqual([`u.${E}`, `u.${E}`]);
    expect((theirs['invalid utf-8'] as { ok: { subjects: Record<string, number> } }).ok.subjects).toHaveProperty('u.\ufffd', 1);
    for (const k of Object.keys(theirs)) expect([k, ours[k]]).toEqual([k, theirs[k]]);
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
  }, 60_000);
});
