/**
 * Streams and publishing through the official JetStream client (`@nats-io/jetstream`): what a
 * user's test suite does first — turn JetStream on, create a stream, publish with acks, read
 * back — on memory and file storage.
 */
import { describe, expect, it } from 'vitest';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { rejection } from '../helpers/errors.js';

const scope = useScope();

async function setup(opts: Parameters<typeof scope.server>[0] = { jetstream: true }): Promise<{ s: NatsServer; nc: NatsConnection; jsm: JetStreamManager }> {
  const s = await scope.server(opts);
  const nc = await scope.client(s);
  const jsm = await jetstreamManager(nc);
  return { s, nc, jsm };
}

function apiError(err: unknown): { code: number; err_code: number; description: string } {
  expect(err).toBeInstanceOf(JetStreamApiError);
  const e = err as JetStreamApiError;
  return { code: e.status, err_code: e.code, description: e.message };
}

describe('JetStream off (the default)', () => {
  it('answers $JS.API.INFO with no responders, so clients say JetStream is not enabled', async () => {
    const s = await scope.server();
    const nc = await scope.client(s);
    const err = await rejection(jetstreamManager(nc));
    expect(String(err)).toMatch(/jetstream is not enabled/i);
    expect(s.info.jetstream).toBeUndefined();
  });
});

describe.each(['memory', 'file'] as const)('streams (%s storage)', (storage) => {
  it('creates a stream with nats-server\'s defaults filled in, and INFO says jetstream', async () => {
    const { s, jsm } = await setup();
    expect(s.info.jetstream).toBe(true);
    const si = await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], storage: storage === 'memory' ? 'memory' : 'file' } as never);
    expect(si.config).toMatchObject({
      name: 'ORDERS', subjects: ['orders.>'], retention: 'limits', max_consumers: -1, max_msgs: -1, max_bytes: -1,
      max_age: 0, max_msgs_per_subject: -1, max_msg_size: -1, discard: 'old', storage, num_replicas: 1,
      duplicate_window: 120_000_000_000, allow_direct: false, mirror_direct: false, sealed: false, deny_delete: false,
      deny_purge: false, allow_rollup_hdrs: false,
    });
    expect(si.state).toMatchObject({ messages: 0, bytes: 0, first_seq: 0, last_seq: 0, first_ts: '0001-01-01T00:00:00Z', consumer_count: 0 });
  });

  it('publishes with acks, dedupes by Nats-Msg-Id and reads back by sequence and by subject', async () => {
    const { nc, jsm } = await setup();
    await jsm.streams.add({ name: 'S', subjects: ['s.>'], storage } as never);
    const js = jetstream(nc);
    const a1 = await js.publish('s.a', 'one', { msgID: 'm1' });
    expect(a1).toMatchObject({ stream: 'S', seq: 1, duplicate: false });
    const a2 = await js.publish('s.b', 'two');
    expect(a2.seq).toBe(2);
    const dup = await js.publish('s.a', 'one again', { msgID: 'm1' });
    expect(dup).toMatchObject({ stream: 'S', seq: 1, duplicate: true });

    const m = await jsm.streams.getMessage('S', { seq: 1 });
    expect(m?.subject).toBe('s.a');
    expect(m?.string()).toBe('one');
    expect(m?.header.get('Nats-Msg-Id')).toBe('m1');
    const last = await jsm.streams.getMessage('S', { last_by_subj: 's.b' });
    expect(last?.seq).toBe(2);
    const info = await jsm.streams.info('S');
    expect(info.state).toMatchObject({ messages: 2, first_seq: 1, last_seq: 2, num_subjects: 2 });
    // nats-server's stored sizes: memory 16 + subject + headers + data; file 30 (+4 with headers) + ...
    const hdrLen = 'NATS/1.0\r\nNats-Msg-Id: m1\r\n\r\n'.length;
    const expected = storage === 'memory' ? (16 + 3 + hdrLen + 3) + (16 + 3 + 3) : (34 + 3 + hdrLen + 3) + (30 + 3 + 3);
    expect(info.state.bytes).toBe(expected);
  });

  it('checks the expected-headers in nats-server\'s order with its error codes', async () => {
    const { nc, jsm } = await setup();
    await jsm.streams.add({ name: 'E', subjects: ['e.>'], storage } as never);
    const js = jetstream(nc);
    await js.publish('e.a', '1', { msgID: 'x' });
    expect(apiError(await rejection(js.publish('e.a', '2', { expect: { streamName: 'OTHER' } }))))
      .toEqual({ code: 400, err_code: 10060, description: 'expected stream does not match' });
    expect(apiError(await rejection(js.publish('e.a', '2', { expect: { lastSequence: 5 } }))))
      .toEqual({ code: 400, err_code: 10071, description: 'wrong last sequence: 1' });
    expect(apiError(await rejection(js.publish('e.b', '2', { expect: { lastSubjectSequence: 1 } }))))
      .toEqual({ code: 400, err_code: 10071, description: 'wrong last sequence: 0' });
    expect(apiError(await rejection(js.publish('e.a', '2', { expect: { lastMsgID: 'y' } }))))
      .toEqual({ code: 400, err_code: 10070, description: 'wrong last msg ID: x' });
    const ok = await js.publish('e.a', '2', { expect: { lastSequence: 1, lastMsgID: 'x', lastSubjectSequence: 1, streamName: 'E' } });
    expect(ok.seq).toBe(2);
  });

  it('enforces limits with discard new (10077) and keeps the newest with discard old', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'NEW', subjects: ['new'], storage, max_msgs: 2, discard: 'new' } as never);
    await js.publish('new', 'a');
    await js.publish('new', 'b');
    expect(apiError(await rejection(js.publish('new', 'c'))))
      .toEqual({ code: 503, err_code: 10077, description: 'maximum messages exceeded' });
    await jsm.streams.add({ name: 'OLD', subjects: ['old'], storage, max_msgs: 2 } as never);
    for (const d of ['a', 'b', 'c']) await js.publish('old', d);
    const st = (await jsm.streams.info('OLD')).state;
    expect(st).toMatchObject({ messages: 2, first_seq: 2, last_seq: 3 });
    await jsm.streams.add({ name: 'SIZE', subjects: ['size'], storage, max_msg_size: 4 } as never);
    expect(apiError(await rejection(js.publish('size', 'too long'))))
      .toEqual({ code: 400, err_code: 10054, description: 'message size exceeds maximum allowed' });
  });

  it('a purge up to a sequence past the last moves the last sequence there (2.10; 2.9 kept it)', async () => {
    // nats-server 2.10.29 stream.go purge: "if lseq > mlseq { mset.setLastSeq(lseq) }"; 2.9.10
    // left the stream's last sequence behind the store's, so the next message got the old next.
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'PP', subjects: ['pp'], storage } as never);
    for (let i = 0; i < 3; i++) await js.publish('pp', String(i));
    await jsm.streams.purge('PP', { seq: 100 });
    expect((await jsm.streams.info('PP')).state).toMatchObject({ messages: 0, first_seq: 100, last_seq: 99 });
    expect((await js.publish('pp', 'next', { expect: { lastSequence: 99 } })).seq).toBe(100);
  });

  it('purges (all, by subject, keep), deletes messages and streams, and lists them', async () => {
    const { nc, jsm } = await setup();
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'P', subjects: ['p.*'], storage } as never);
    for (let i = 0; i < 6; i++) await js.publish(`p.${i % 2 === 0 ? 'even' : 'odd'}`, String(i));
    expect((await jsm.streams.purge('P', { filter: 'p.even', keep: 1 })).purged).toBe(2);
    // Left: 2, 4, 5, 6 (p.even 1 and 3 purged, 5 kept).
    expect(await jsm.streams.deleteMessage('P', 5)).toBe(true);
    expect(apiError(await rejection(jsm.streams.deleteMessage('P', 5))))
      .toEqual({ code: 400, err_code: 10043, description: 'sequence 5 not found' });
    // Outside the stored range the file store fails the delete (filestore.go removeMsg:
    // ErrStoreMsgNotFound below the first, ErrStoreEOF past the last → 10057); the memory store
    // only reports "not removed" (10043), as for a gap.
    const outside = [apiError(await rejection(jsm.streams.deleteMessage('P', 1))), apiError(await rejection(jsm.streams.deleteMessage('P', 99)))];
    expect(outside).toEqual(storage === 'file'
      ? [{ code: 500, err_code: 10057, description: 'no message found' }, { code: 500, err_code: 10057, description: 'stream store EOF' }]
      : [{ code: 400, err_code: 10043, description: 'sequence 1 not found' }, { code: 400, err_code: 10043, description: 'sequence 99 not found' }]);
    const st = (await jsm.streams.info('P', { deleted_details: true })).state;
    expect(st).toMatchObject({ messages: 3, first_seq: 2, last_seq: 6, num_deleted: 2 });
    expect(st.deleted).toEqual([3, 5]);
    expect((await jsm.streams.purge('P')).purged).toBe(3);
    expect((await jsm.streams.info('P')).state).toMatchObject({ messages: 0, first_seq: 7, last_seq: 6 });
    await jsm.streams.add({ name: 'Q', subjects: ['q'], storage } as never);
    const names: string[] = [];
    for await (const n of jsm.streams.names()) names.push(n);
    expect(names).toEqual(['P', 'Q']);
    const infos: Array<{ name: string; messages: number }> = [];
    for await (const si of jsm.streams.list()) infos.push({ name: si.config.name, messages: si.state.messages });
    expect(infos).toEqual([{ name: 'P', messages: 0 }, { name: 'Q', messages: 0 }]);
    expect(await jsm.streams.delete('P')).toBe(true);
    expect(apiError(await rejection(jsm.streams.info('P')))).toEqual({ code: 404, err_code: 10059, description: 'stream not found' });
  });

  it('refuses a second stream on overlapping subjects and a changed config under the same name', async () => {
    const { jsm } = await setup();
    await jsm.streams.add({ name: 'A', subjects: ['x.>'], storage } as never);
    expect(apiError(await rejection(jsm.streams.add({ name: 'B', subjects: ['x.y'], storage } as never))))
      .toEqual({ code: 400, err_code: 10065, description: 'subjects overlap with an existing stream' });
    expect(apiError(await rejection(jsm.streams.add({ name: 'A', subjects: ['x.>'], storage, max_msgs: 5 } as never))))
      .toEqual({ code: 400, err_code: 10058, description: 'stream name already in use with a different configuration' });
    // The same config again is fine (nats-server answers with the stream as it is).
    expect((await jsm.streams.add({ name: 'A', subjects: ['x.>'], storage } as never)).config.name).toBe('A');
  });

  it('core subscribers on a stream subject still get the message', async () => {
    const { nc, jsm } = await setup();
    await jsm.streams.add({ name: 'C', subjects: ['c'], storage } as never);
    const sub = nc.subscribe('c', { max: 1 });
    await nc.flush();
    const hdrs = headers();
    hdrs.set('X-K', 'v');
    await jetstream(nc).publish('c', 'hello', { headers: hdrs });
    for await (const m of sub) {
      expect(m.string()).toBe('hello');
      expect(m.headers?.get('X-K')).toBe('v');
    }
  });

  it('direct get answers with the message and its Nats-* headers when allow_direct is set', async () => {
    const { nc, jsm } = await setup();
    await jsm.streams.add({ name: 'D', subjects: ['d.>'], storage, allow_direct: true } as never);
    await jetstream(nc).publish('d.k', 'v1');
    await jetstream(nc).publish('d.k', 'v2');
    const m = await jsm.direct.getMessage('D', { last_by_subj: 'd.k' });
    expect(m?.string()).toBe('v2');
    expect(m?.seq).toBe(2);
    expect(m?.header.get('Nats-Stream')).toBe('D');
    expect(await jsm.direct.getMessage('D', { seq: 9 })).toBeNull();
  });
});

describe('account info', () => {
  it('counts streams, storage and API calls as nats-server does', async () => {
    const { nc, jsm } = await setup();
    await jsm.streams.add({ name: 'M', subjects: ['m'], storage: 'memory' } as never);
    await jetstream(nc).publish('m', 'x');
    const ai = await jsm.getAccountInfo();
    expect(ai).toMatchObject({ memory: 16 + 1 + 1, storage: 0, streams: 1, consumers: 0 });
    expect(ai.limits).toMatchObject({ max_memory: -1, max_storage: -1, max_streams: -1, max_consumers: -1 });
    // The manager's own INFO probe, the create, and this INFO (counted after it is answered).
    expect(ai.api.total).toBe(2);
  });
});

describe('server storage limits', () => {
  it('refuses publishes with 10023 once the stored bytes are above max_memory, and max_bytes reservations beyond it', async () => {
    const { nc, jsm } = await setup({ jetstream: { maxMemory: 2048 } });
    await jsm.streams.add({ name: 'M', subjects: ['m'], storage: 'memory' } as never);
    expect(apiError(await rejection(jsm.streams.add({ name: 'R', subjects: ['r'], storage: 'memory', max_bytes: 4096 } as never))))
      .toEqual({ code: 500, err_code: 10028, description: 'insufficient memory resources available' });
    const js = jetstream(nc);
    // 318 bytes each (16 + subject + payload): the seventh crosses 2048 and is still stored.
    for (let i = 1; i <= 7; i++) expect((await js.publish('m', 'x'.repeat(300))).seq).toBe(i);
    expect(apiError(await rejection(js.publish('m', 'x'.repeat(300)))))
      .toEqual({ code: 503, err_code: 10023, description: 'insufficient resources' });
    await jsm.streams.purge('M');
    expect((await js.publish('m', 'again')).seq).toBe(8);
  });
});

describe('PubAck bytes', () => {
  // nats-server 2.10.29 writes them from a template (stream.go: `{%q:%q, %q:` + the sequence +
  // `}`), not with json.Marshal: note the space after each comma. Passes on the nats-server
  // backend too (NATS_EMBEDDED_BACKEND=nats-server, 2.9.10 here).
  it('are {"stream":"S", "seq":N} for every digit count, with the domain when there is one', async () => {
    for (const [opts, prefix] of [
      [{ jetstream: true }, '{"stream":"ACKS", "seq":'],
      [{ jetstream: { domain: 'hub' } }, '{"stream":"ACKS", "domain":"hub", "seq":'],
    ] as const) {
      const { nc, jsm } = await setup(opts);
      await jsm.streams.add({ name: 'ACKS', subjects: ['acks'], storage: 'memory' } as never);
      const seen: string[] = [];
      for (let seq = 1; seq <= 101; seq++) {
        const reply = await nc.request('acks', 'x');
        if (seq === 1 || seq === 9 || seq === 10 || seq === 99 || seq === 100 || seq === 101) seen.push(reply.string());
      }
      expect(seen).toEqual([1, 9, 10, 99, 100, 101].map((n) => `${prefix}${n}}`));
    }
  });
});
