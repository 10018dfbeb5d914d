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
import { jetstream, jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

async function setup(opts: Parameters<typeof scope.server>[0] = { jetstream: true }): Promise<{ s: NatsServer; nc: NatsConnection; jsm: JetStreamManager }> {
  const s = await scope.server(opts);
  const nc = await scope.client(s);
  const jsm = await jetstreamManager(nc);
  return { s, nc, jsm };
}

async function waitMsgs(jsm: JetStreamManager, stream: string, n: number, timeoutMs = 5000): Promise<void> {
  await eventually(async () => (await jsm.streams.info(stream)).state.messages === n, `${stream} to hold ${n} messages`, timeoutMs);
}

async function all(jsm: JetStreamManager, stream: string): Promise<StoredMsg[]> {
  const st = (await jsm.streams.info(stream)).state;
  const out: StoredMsg[] = [];
  for (let seq = st.first_seq; seq <= st.last_seq && st.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    if (m !== null) out.push(m);
  }
  return out;
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
    const [o, m] = [await all(jsm, 'O'), await all(jsm, 'M')];
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
