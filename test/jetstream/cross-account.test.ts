/**
 * Mirrors and sources of a stream in another account, the standard nats-server setup: account
 * A exports its JetStream API (`$JS.API.>`) and flow control (`$JS.FC.>`) as services and the
 * deliver subjects as a stream; account B imports the API under `$JS.A.API.>` and the deliver
 * subjects, and names them in `external: { api: '$JS.A.API', deliver: 'deliver.b' }`. The
 * internal consumer on A's stream is created through the service import, its deliveries reach
 * B's stream through the stream import. Through the official `@nats-io/jetstream` client; also
 * on the nats-server backend (test/conformance/run.mjs BACKEND_SUITES).
 */
import { describe, expect, it } from 'vitest';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { storedMessages } from '../helpers/stream-messages.js';

const scope = useScope();

const OPTIONS = {
  jetstream: true,
  accounts: {
    A: {
      users: [{ user: 'a', password: 'a' }],
      jetstream: true,
      exports: [{ service: '$JS.API.>' }, { service: '$JS.FC.>' }, { service: '$JS.ACK.>' }, { stream: 'deliver.b.>', accounts: ['B'] }],
    },
    B: {
      users: [{ user: 'b', password: 'b' }],
      jetstream: true,
      imports: [
        { service: { account: 'A', subject: '$JS.API.>' }, to: '$JS.A.API.>' },
        { service: { account: 'A', subject: '$JS.FC.>' } },
        { service: { account: 'A', subject: '$JS.ACK.>' } },
        { stream: { account: 'A', subject: 'deliver.b.>' } },
      ],
    },
  },
} satisfies ServerOptions;

const EXTERNAL = { api: '$JS.A.API', deliver: 'deliver.b' };

async function waitMsgs(jsm: JetStreamManager, stream: string, n: number): Promise<void> {
  await eventually(async () => (await jsm.streams.info(stream)).state.messages === n, `${stream} to hold ${n} messages`, 10_000);
}

describe('JetStream across accounts (external API and deliver prefixes through imports)', () => {
  it('a mirror and a source in B fill from A\'s stream and track new messages', async () => {
    const s = await scope.server(OPTIONS);
    const na = await scope.client(s, { user: 'a', pass: 'a' });
    const nb = await scope.client(s, { user: 'b', pass: 'b' });
    const jsmA = await jetstreamManager(na);
    const jsmB = await jetstreamManager(nb);
    const jsA = jetstream(na);
    await jsmA.streams.add({ name: 'O', subjects: ['o.>'] });
    for (const p of ['1', '2', '3']) await jsA.publish(`o.${p}`, p);
    // B's request through the import reaches A's API: A's stream info, seen from B.
    expect((await jsmB.streams.info('O').catch((e: Error) => e.message))).toMatch(/stream not found/);
    const viaImport = await nb.request('$JS.A.API.STREAM.INFO.O', '', { timeout: 2000 });
    expect(JSON.parse(viaImport.string())).toMatchObject({ config: { name: 'O' }, state: { messages: 3 } });

    await jsmB.streams.add({ name: 'M', mirror: { name: 'O', external: EXTERNAL } });
    await jsmB.streams.add({ name: 'S', subjects: ['s.>'], sources: [{ name: 'O', external: EXTERNAL }] });
    await waitMsgs(jsmB, 'M', 3);
    await waitMsgs(jsmB, 'S', 3);
    await jsA.publish('o.4', '4');
    await waitMsgs(jsmB, 'M', 4);
    await waitMsgs(jsmB, 'S', 4);
    const m = await storedMessages(jsmB, 'M');
    expect(m.map((x) => [x.seq, x.subject, x.string()])).toEqual([[1, 'o.1', '1'], [2, 'o.2', '2'], [3, 'o.3', '3'], [4, 'o.4', '4']]);
    const src = await storedMessages(jsmB, 'S');
    expect(src.map((x) => [x.subject, x.string()])).toEqual([['o.1', '1'], ['o.2', '2'], ['o.3', '3'], ['o.4', '4']]);
    const info = await jsmB.streams.info('M');
    expect(info.mirror).toMatchObject({ name: 'O', external: EXTERNAL, lag: 0 });
    // A's stream is untouched by B's streams; B's own API does not see A's stream.
    expect((await jsmA.streams.info('O')).state.messages).toBe(4);
    expect((await jsmA.streams.info('M').catch((e: Error) => e.message))).toMatch(/stream not found/);
  });

  it('a pull consumer of A\'s stream, read and acked from B through the API prefix', async () => {
    const s = await scope.server(OPTIONS);
    const na = await scope.client(s, { user: 'a', pass: 'a' });
    const nb = await scope.client(s, { user: 'b', pass: 'b' });
    const jsmA = await jetstreamManager(na);
    await jsmA.streams.add({ name: 'O', subjects: ['o.>'] });
    const jsA = jetstream(na);
    for (const p of ['1', '2']) await jsA.publish(`o.${p}`, p);
    await jsmA.consumers.add('O', { durable_name: 'C', ack_policy: AckPolicy.Explicit });
    const jsB = jetstream(nb, { apiPrefix: '$JS.A.API' });
    const c = await jsB.consumers.get('O', 'C');
    const got: Array<[string, number, string]> = [];
    for (let i = 0; i < 2; i++) {
      const m = await c.next({ expires: 2000 });
      expect(m).not.toBeNull();
      // The $JS.ACK reply crossed the import unchanged: the client reads the metadata from it.
      got.push([m!.subject, m!.info.streamSequence, m!.string()]);
      await m!.ackAck();
    }
    expect(got).toEqual([['o.1', 1, '1'], ['o.2', 2, '2']]);
    const info = await jsmA.consumers.info('O', 'C');
    expect(info).toMatchObject({ num_ack_pending: 0, num_pending: 0, ack_floor: { stream_seq: 2 } });
  });
});

/** A exports a service on `svc.>`; B imports it as it is. Both have JetStream. */
const SERVICE = {
  jetstream: true,
  accounts: {
    A: { users: [{ user: 'a', password: 'a' }], jetstream: true, exports: [{ service: 'svc.>' }] },
    B: { users: [{ user: 'b', password: 'b' }], jetstream: true, imports: [{ service: { account: 'A', subject: 'svc.>' } }] },
  },
} satisfies ServerOptions;

describe('JetStream publications crossing a service import', () => {
  it('a push consumer delivering to an imported service subject: A gets it on the deliver subject, never on the stored one', async () => {
    const s = await scope.server(SERVICE);
    const na = await scope.client(s, { user: 'a', pass: 'a' });
    const nb = await scope.client(s, { user: 'b', pass: 'b' });
    const onStored: string[] = [];
    const onService: string[] = [];
    na.subscribe('orders.>', { callback: (_e, m) => void onStored.push(m.subject) });
    na.subscribe('svc.>', { callback: (_e, m) => void onService.push(`${m.subject} ${m.string()}`) });
    await na.flush();
    const jsmB = await jetstreamManager(nb);
    await jsmB.streams.add({ name: 'O', subjects: ['orders.>'] });
    const local: string[] = [];
    nb.subscribe('svc.x', { callback: (_e, m) => void local.push(m.subject) });
    await nb.flush();
    await jsmB.consumers.add('O', { durable_name: 'd', deliver_subject: 'svc.x', ack_policy: AckPolicy.None });
    await jetstream(nb).publish('orders.secret', 'payload');
    await eventually(() => (local.length === 1 && onService.length === 1) || undefined, 'the delivery in B and through the import');
    await na.flush();
    // As nats-server: the import maps the deliver subject; MSG keeps the stored subject. Mapping
    // the stored subject let B publish into A on subjects A never exported.
    expect(onService).toEqual(['orders.secret payload']);
    expect(onStored).toEqual([]);
  });

  it('a republished message crossing the import carries Nats-Request-Info without the publisher\'s RTT', async () => {
    const s = await scope.server(SERVICE);
    const na = await scope.client(s, { user: 'a', pass: 'a' });
    const nb = await scope.client(s, { user: 'b', pass: 'b' });
    const infos: (string | undefined)[] = [];
    na.subscribe('svc.>', { callback: (_e, m) => void infos.push(m.headers?.get('Nats-Request-Info')) });
    await na.flush();
    const jsmB = await jetstreamManager(nb);
    await jsmB.streams.add({ name: 'S', subjects: ['in.>'], republish: { src: 'in.>', dest: 'svc.rp.>' } });
    // A request (the client's RTT is known) whose stored copy is republished: an internal
    // publication, which has no RTT of its own.
    await nb.request('in.local', 'x', { timeout: 2000 });
    await eventually(() => infos.length === 1 || undefined, 'the republished copy in A');
    expect(JSON.parse(infos[0]!)).toEqual({ acc: 'B' });
  });
});
