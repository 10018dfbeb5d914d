/**
 * Features built apart, tested together, through the official clients (`@nats-io/jetstream`,
 * `@nats-io/kv`): push consumers of file streams across a kill and restart, push consumers on
 * interest and work-queue streams, headers_only with last_per_subject on a push consumer (what
 * KV watchers create), an ordered consumer across a restart, and a KV bucket's basic use.
 * As nats-server 2.10.29 (server/consumer.go, stream.go, jetstream.go recovery).
 */
import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { useScope } from '../helpers/scope.js';

const scope = useScope();

function tempStore(): string {
  const root = mkdtempSync(join(tmpdir(), 'nats-embedded-combos-'));
  scope.defer(() => rmSync(root, { recursive: true, force: true }));
  return join(root, 'store');
}

/** Stream sequence and delivery count of a delivery, from its ack subject. */
function meta(m: Msg): { seq: number; dc: number } {
  const t = m.reply!.split('.');
  return { seq: Number(t[5]), dc: Number(t[4]) };
}

async function publish(nc: NatsConnection, subject: string, ...data: string[]): Promise<number[]> {
  const js = jetstream(nc);
  const seqs: number[] = [];
  for (const d of data) seqs.push((await js.publish(subject, d)).seq);
  return seqs;
}

/** Resolves on the client's next reconnect (a request sent before it may go to the dead socket). */
function reconnected(nc: NatsConnection): Promise<void> {
  return (async () => {
    for await (const st of nc.status()) if (st.type === 'reconnect') return;
  })();
}

async function storedSeqs(jsm: JetStreamManager, stream: string): Promise<number[]> {
  const si = await jsm.streams.info(stream, { deleted_details: true } as never);
  const deleted = new Set(si.state.deleted ?? []);
  const out: number[] = [];
  for (let s = si.state.first_seq; s <= si.state.last_seq && si.state.messages > 0; s++) if (!deleted.has(s)) out.push(s);
  return out;
}

describe('push consumers of file streams across a restart', () => {
  it('a durable push consumer survives kill() and restart(): un-acked messages come again, new ones follow, push_bound follows the re-subscribing client', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'F', subjects: ['f.>'], storage: 'file' } as never);
    await publish(nc, 'f.a', 'm1', 'm2', 'm3', 'm4');
    await jsm.consumers.add('F', { durable_name: 'P', deliver_subject: 'push.f', ack_policy: AckPolicy.Explicit, ack_wait: 800_000_000 });

    const got: Array<{ seq: number; dc: number; data: string }> = [];
    const toAck = new Set([1, 2]);
    const sub = nc.subscribe('push.f', { callback: (_e, m) => {
      const { seq, dc } = meta(m);
      got.push({ seq, dc, data: m.string() });
      // Acks with a reply: confirmed (on disk) before the answer comes.
      if (toAck.delete(seq)) void nc.request(m.reply!, '+ACK').catch(() => undefined);
    } });
    await vi.waitFor(async () => {
      const ci = await jsm.consumers.info('F', 'P');
      expect([ci.delivered.stream_seq, ci.ack_floor.stream_seq, ci.num_ack_pending]).toEqual([4, 2, 2]);
    });
    expect(got.map((g) => g.seq)).toEqual([1, 2, 3, 4]);
    expect((await jsm.consumers.info('F', 'P')).push_bound).toBe(true);

    const back = reconnected(nc);
    await s.kill();
    got.length = 0;
    for (const seq of [3, 4, 5]) toAck.add(seq);
    await s.restart();
    await back;
    // The client reconnects and re-sends its subscription: the recovered consumer sees the interest.
    await vi.waitFor(async () => expect((await jsm.consumers.info('F', 'P')).push_bound).toBe(true), { timeout: 5000 });
    // 3 and 4 (pending, ack wait passed) come again; then a new message.
    await vi.waitFor(() => expect(got.map((g) => g.seq).sort()).toEqual([3, 4]), { timeout: 5000 });
    expect(got.every((g) => g.dc === 2)).toBe(true);
    await publish(nc, 'f.a', 'm5');
    await vi.waitFor(() => expect(got.map((g) => g.seq)).toContain(5));
    expect(got.find((g) => g.seq === 5)).toMatchObject({ dc: 1, data: 'm5' });
    await vi.waitFor(async () => {
      const ci = await jsm.consumers.info('F', 'P');
      expect([ci.delivered.consumer_seq, ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq, ci.num_ack_pending, ci.num_pending]).toEqual([7, 7, 5, 0, 0]);
    });
    expect(s.stats().internalErrors).toBe(0);

    // push_bound follows the subscription: gone with it, back with another client's.
    sub.unsubscribe();
    await nc.flush();
    await vi.waitFor(async () => expect((await jsm.consumers.info('F', 'P')).push_bound).toBeUndefined());
    const nc2 = await scope.client(s);
    const seen2: number[] = [];
    const sub2 = nc2.subscribe('push.f', { callback: (_e, m) => {
      seen2.push(meta(m).seq);
      m.respond('+ACK');
    } });
    await nc2.flush();
    await vi.waitFor(async () => expect((await jsm.consumers.info('F', 'P')).push_bound).toBe(true));
    await publish(nc, 'f.a', 'm6');
    await vi.waitFor(() => expect(seen2).toContain(6), { timeout: 3000 });
    sub2.unsubscribe();
  });
});

describe('push consumers of file streams across a restart: retention and inactivity', () => {
  it('a deliver_group consumer of a work-queue stream redelivers after the restart and the acks remove the messages; an ephemeral push consumer nobody subscribes to again is deleted after inactive_threshold', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'W', subjects: ['w.>'], storage: 'file', retention: 'workqueue' } as never);
    await jsm.streams.add({ name: 'E', subjects: ['e.>'], storage: 'file' } as never);
    await jsm.consumers.add('W', { durable_name: 'G', deliver_subject: 'push.wq', deliver_group: 'grp', ack_policy: AckPolicy.Explicit, ack_wait: 500_000_000 });
    const eSub = nc.subscribe('push.eph');
    await nc.flush();
    await jsm.consumers.add('E', { name: 'EPH', deliver_subject: 'push.eph', ack_policy: AckPolicy.None, inactive_threshold: 500_000_000 });
    let ack = false;
    const got: string[] = [];
    nc.subscribe('push.wq', { queue: 'grp', callback: (_e, m) => {
      got.push(`${meta(m).seq}/${meta(m).dc}`);
      if (ack) m.respond('+ACK');
    } });
    await publish(nc, 'w.a', 'm1', 'm2');
    await vi.waitFor(() => expect(got).toEqual(['1/1', '2/1']));
    eSub.unsubscribe();
    const back = reconnected(nc);
    await s.kill();
    ack = true;
    await s.restart();
    await back;
    await vi.waitFor(async () => expect(await storedSeqs(jsm, 'W')).toEqual([]), { timeout: 3000 });
    expect(got.slice(2).sort()).toEqual(['1/2', '2/2']);
    // Nobody subscribed to push.eph since the restart: gone after its inactive threshold.
    await vi.waitFor(async () => expect((await jsm.streams.info('E')).state.consumer_count).toBe(0), { timeout: 3000 });
    expect(s.stats().internalErrors).toBe(0);
  });
});

describe('updating a push consumer\'s deliver subject', () => {
  it('is refused while someone listens on the current one; then pending messages go again to the new subject, push_bound follows it, and a restart keeps it', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'U', subjects: ['u.>'], storage: 'file' } as never);
    await jsm.consumers.add('U', { durable_name: 'P', deliver_subject: 'push.one', ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000 });
    const one: number[] = [];
    const sub1 = nc.subscribe('push.one', { callback: (_e, m) => void one.push(meta(m).seq) });
    await publish(nc, 'u.a', 'm1');
    await vi.waitFor(() => expect(one).toEqual([1]));
    const err = await jsm.consumers.update('U', 'P', { deliver_subject: 'push.two' } as never).then(() => null, (e: unknown) => e);
    expect((err as { code?: number } | null)?.code).toBe(10013);
    sub1.unsubscribe();
    await nc.flush();
    const two: Array<{ seq: number; dc: number }> = [];
    const sub2 = nc.subscribe('push.two', { callback: (_e, m) => void two.push(meta(m)) });
    await nc.flush();
    const ci = await jsm.consumers.update('U', 'P', { deliver_subject: 'push.two' } as never);
    expect(ci.config.deliver_subject).toBe('push.two');
    // updateDeliverSubjectLocked: what was pending goes again, at once, to the new subject.
    await vi.waitFor(() => expect(two).toEqual([{ seq: 1, dc: 2 }]));
    expect((await jsm.consumers.info('U', 'P')).push_bound).toBe(true);
    const back = reconnected(nc);
    await s.kill();
    await s.restart();
    await back;
    expect((await jsm.consumers.info('U', 'P')).config.deliver_subject).toBe('push.two');
    await publish(nc, 'u.a', 'm2');
    await vi.waitFor(() => expect(two.map((t) => t.seq)).toContain(2));
    expect(one).toEqual([1]);
    sub2.unsubscribe();
  });
});

describe('push consumers and retention', () => {
  for (const retention of ['interest', 'workqueue'] as const) {
    it(`a push consumer on a ${retention} stream: acked messages are removed, un-acked ones stay`, async () => {
      const s = await scope.server({ jetstream: true });
      const nc = await scope.client(s);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'R', subjects: ['r.>'], retention } as never);
      await jsm.consumers.add('R', { durable_name: 'P', deliver_subject: 'push.r', ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000 });
      const got: number[] = [];
      const sub = nc.subscribe('push.r', { callback: (_e, m) => {
        const { seq } = meta(m);
        got.push(seq);
        if (seq % 2 === 1) m.respond('+ACK');
      } });
      await nc.flush();
      await publish(nc, 'r.a', 'm1', 'm2', 'm3', 'm4', 'm5');
      await vi.waitFor(async () => expect(await storedSeqs(jsm, 'R')).toEqual([2, 4]));
      expect(got).toEqual([1, 2, 3, 4, 5]);
      const ci = await jsm.consumers.info('R', 'P');
      expect([ci.num_ack_pending, ci.ack_floor.stream_seq, ci.delivered.stream_seq]).toEqual([2, 1, 5]);
      sub.unsubscribe();
    });
  }

  it('a push consumer with ack none on an interest stream removes what it delivered', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'RN', subjects: ['rn.>'], retention: 'interest' } as never);
    await jsm.consumers.add('RN', { durable_name: 'P', deliver_subject: 'push.rn', ack_policy: AckPolicy.None });
    // No subscriber yet: the messages wait for the consumer.
    await publish(nc, 'rn.a', 'm1', 'm2');
    expect(await storedSeqs(jsm, 'RN')).toEqual([1, 2]);
    let n = 0;
    const sub = nc.subscribe('push.rn', { callback: () => void n++ });
    await vi.waitFor(async () => expect(await storedSeqs(jsm, 'RN')).toEqual([]));
    expect(n).toBe(2);
    sub.unsubscribe();
  });
});

describe('headers_only with last_per_subject on a push consumer', () => {
  it('delivers the last message of each subject as headers with Nats-Msg-Size, then new ones', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'K', subjects: ['k.*'], max_msgs_per_subject: 3 } as never);
    await publish(nc, 'k.a', 'a1');
    await publish(nc, 'k.b', 'b1');
    await publish(nc, 'k.a', 'a-two');
    await jsm.consumers.add('K', {
      durable_name: 'W', deliver_subject: 'push.w', ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.LastPerSubject, filter_subject: 'k.*', headers_only: true, flow_control: true, idle_heartbeat: 1_000_000_000,
    });
    const got: string[] = [];
    const sub = nc.subscribe('push.w', { callback: (_e, m) => {
      if (m.headers?.code === 100) return;
      got.push(`${m.subject}:${m.headers?.get('Nats-Msg-Size') ?? '-'}:${m.data.length}`);
    } });
    await vi.waitFor(() => expect(got).toEqual(['k.b:2:0', 'k.a:5:0']));
    await publish(nc, 'k.c', 'c123');
    await vi.waitFor(() => expect(got).toEqual(['k.b:2:0', 'k.a:5:0', 'k.c:4:0']));
    const ci = await jsm.consumers.info('K', 'W');
    expect([ci.delivered.consumer_seq, ci.delivered.stream_seq, ci.num_pending]).toEqual([3, 4, 0]);
    sub.unsubscribe();
  });
});

describe('last_per_subject push consumers of file streams across a restart', () => {
  it('a recovered last_per_subject consumer does not deliver the last messages again (its skip list is spent)', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'L', subjects: ['l.*'], storage: 'file' } as never);
    await publish(nc, 'l.a', 'a1');
    await publish(nc, 'l.b', 'b1');
    await publish(nc, 'l.a', 'a2');
    await jsm.consumers.add('L', {
      durable_name: 'W', deliver_subject: 'push.l', ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.LastPerSubject, filter_subject: 'l.*', headers_only: true,
    });
    const got: string[] = [];
    nc.subscribe('push.l', { callback: (_e, m) => void got.push(`${m.subject}@${meta(m).seq}`) });
    await vi.waitFor(() => expect(got).toEqual(['l.b@2', 'l.a@3']));
    const back = reconnected(nc);
    await s.kill();
    await s.restart();
    await back;
    await publish(nc, 'l.c', 'c1');
    await vi.waitFor(() => expect(got).toEqual(['l.b@2', 'l.a@3', 'l.c@4']));
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(['l.b@2', 'l.a@3', 'l.c@4']);
    const ci = await jsm.consumers.info('L', 'W');
    expect([ci.delivered.consumer_seq, ci.delivered.stream_seq, ci.num_pending]).toEqual([3, 4, 0]);
  });

  it('a KV watcher goes on across a restart without seeing an entry twice', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    // history > 1: with one message per subject a last_per_subject start needs no skip list.
    const kv = await new Kvm(nc).create('w', { history: 3 });
    await kv.put('a', '1');
    const w = await kv.watch();
    const seen: string[] = [];
    void (async () => {
      for await (const e of w) seen.push(`${e.key}=${e.string()}@${e.revision}`);
    })();
    await vi.waitFor(() => expect(seen).toEqual(['a=1@1']));
    // The watcher's consumer state is on disk (written within 100 ms of a delivery under ack none).
    await new Promise((r) => setTimeout(r, 250));
    const back = reconnected(nc);
    await s.kill();
    await s.restart();
    await back;
    await kv.put('a', '2');
    await vi.waitFor(() => expect(seen).toContain('a=2@2'));
    expect(seen).toEqual(['a=1@1', 'a=2@2']);
    // On the server: the watcher's consumer (recovered, not re-created) delivered 2 messages in all.
    const jsm = await jetstreamManager(nc);
    const delivered: Array<[number, number]> = [];
    for await (const ci of jsm.consumers.list('KV_w')) delivered.push([ci.delivered.consumer_seq, ci.delivered.stream_seq]);
    expect(delivered).toEqual([[2, 2]]);
    w.stop();
  });
});

describe('ordered consumer across a restart', () => {
  it('consume() of an ordered consumer of a file stream reads on, in order, after the server restarts', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'O', subjects: ['o.>'], storage: 'file' } as never);
    await publish(nc, 'o.a', 'm1', 'm2', 'm3');
    const oc = await jetstream(nc).consumers.get('O');
    const msgs = await oc.consume({ max_messages: 10, idle_heartbeat: 500 } as never);
    const seqs: number[] = [];
    const done = (async () => {
      for await (const m of msgs) {
        seqs.push(m.seq);
        if (m.seq === 6) break;
      }
    })();
    await vi.waitFor(() => expect(seqs).toEqual([1, 2, 3]));
    const back = reconnected(nc);
    await s.kill();
    await s.restart();
    await back;
    expect((await jsm.streams.info('O')).state.last_seq).toBe(3);
    await publish(nc, 'o.a', 'm4', 'm5', 'm6');
    await done;
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.stats().internalErrors).toBe(0);
  }, 20_000);
});

describe('ordered push consumer across a restart', () => {
  it('getPushConsumer(stream).consume() of a file stream reads on, in order, after the server restarts', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'OP', subjects: ['op.>'], storage: 'file' } as never);
    await publish(nc, 'op.a', 'm1', 'm2', 'm3');
    const js = jetstream(nc);
    const msgs = await (await js.consumers.getPushConsumer('OP')).consume();
    const got: string[] = [];
    const done = (async () => {
      for await (const m of msgs) {
        got.push(`${m.seq}:${m.string()}`);
        if (m.seq === 6) break;
      }
    })();
    await vi.waitFor(() => expect(got).toEqual(['1:m1', '2:m2', '3:m3']));
    const back = reconnected(nc);
    await s.kill();
    await s.restart();
    await back;
    await publish(nc, 'op.a', 'm4', 'm5', 'm6');
    await done;
    expect(got).toEqual(['1:m1', '2:m2', '3:m3', '4:m4', '5:m5', '6:m6']);
    expect(s.stats().internalErrors).toBe(0);
  });
});

describe('@nats-io/kv smoke', () => {
  it('create, put, get, update, delete, keys, history, watch, purge, destroy', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const kvm = new Kvm(nc);
    const kv = await kvm.create('b', { history: 5 });
    expect((await kv.status()).bucket).toBe('b');
    expect([await kv.put('k1', 'v1'), await kv.put('k1', 'v2'), await kv.put('k2', 'x')]).toEqual([1, 2, 3]);
    const e = await kv.get('k1');
    expect([e?.key, e?.string(), e?.revision, e?.operation]).toEqual(['k1', 'v2', 2, 'PUT']);
    expect(await kv.get('nope')).toBeNull();
    // create() of an existing key fails (expected last subject sequence 0).
    await expect(kv.create('k1', 'z')).rejects.toThrow('wrong last sequence: 2');
    expect(await kv.update('k1', 'v3', 2)).toBe(4);
    await kv.delete('k2');
    expect((await kv.get('k2'))?.operation).toBe('DEL');
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    expect(keys).toEqual(['k1']);
    const hist: Array<[string, number, string]> = [];
    for await (const h of await kv.history({ key: 'k1' })) hist.push([h.string(), h.revision, h.operation]);
    expect(hist).toEqual([['v1', 1, 'PUT'], ['v2', 2, 'PUT'], ['v3', 4, 'PUT']]);
    const w = await kv.watch();
    const seen: Array<[string, string, number, string]> = [];
    setTimeout(() => void kv.put('k3', 'new'), 100);
    for await (const x of w) {
      seen.push([x.key, x.string(), x.revision, x.operation]);
      if (x.key === 'k3') break;
    }
    expect(seen).toEqual([['k1', 'v3', 4, 'PUT'], ['k2', '', 5, 'DEL'], ['k3', 'new', 6, 'PUT']]);
    await kv.purge('k1');
    const after: string[] = [];
    for await (const h of await kv.history({ key: 'k1' })) after.push(h.operation);
    expect(after).toEqual(['PURGE']);
    expect(await kv.destroy()).toBe(true);
    expect(s.stats().internalErrors).toBe(0);
  });

  it('a file bucket after a restart: open, keys, get, history, watch with history', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const kv = await new Kvm(nc).create('f', { history: 2 });
    for (let i = 0; i < 20; i++) await kv.put(`k${i % 7}`, String(i));
    const back = reconnected(nc);
    await s.kill();
    await s.restart();
    await back;
    const kv2 = await new Kvm(nc).open('f');
    const keys: string[] = [];
    for await (const k of await kv2.keys()) keys.push(k);
    expect(keys.sort()).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    expect((await kv2.get('k3'))?.string()).toBe('17');
    expect((await kv2.status()).values).toBe(14);
    const hist: string[] = [];
    for await (const e of await kv2.history({ key: 'k3' })) hist.push(e.string());
    expect(hist).toEqual(['10', '17']);
    const w = await kv2.watch({ include: 'history' as never });
    let n = 0;
    for await (const e of w) {
      n++;
      if (e.delta === 0) break;
    }
    expect(n).toBe(14);
    expect(s.stats().internalErrors).toBe(0);
  });
});
