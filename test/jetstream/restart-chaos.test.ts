/**
 * Chaos in one process: a file stream, a durable pull consumer and a KV bucket are written and
 * read continuously while the in-process server is `kill()`ed at a random moment (sockets
 * destroyed, nothing flushed) and `restart()`ed on the same store directory, round after round.
 *
 * Asserted after every restart:
 * - every publish whose PubAck arrived is in the stream exactly once, at the sequence its ack
 *   named, with its subject and payload; every stored message is one the client published
 *   (no corruption), and the sequences have no holes;
 * - a publish whose ack was lost is retried with the same `Nats-Msg-Id` in the next round and
 *   is not stored twice (the duplicate window is rebuilt on recovery);
 * - the consumer resumes from its ack floor: a message whose ack was confirmed never comes
 *   again, its ack floor is at least the run of confirmed acks, its delivery sequences never
 *   repeat;
 * - every acknowledged KV put is there (its key's revision is at least the acked one);
 * - a memory stream is gone, as on nats-server.
 * At the end the consumer drains: every message is delivered and acked.
 *
 * `npm test` runs a short seeded slice; `npm run test:chaos` runs more rounds (JS_CHAOS_ROUNDS,
 * JS_CHAOS_SEED to replay: the seed is in the test name).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { useScope } from '../helpers/scope.js';
import { rng } from '../helpers/chaos.js';
import { eventually } from '../helpers/eventually.js';

const ROUNDS = Number(process.env.JS_CHAOS_ROUNDS ?? 4);
const SEED = Number(process.env.JS_CHAOS_SEED ?? 0x7e57);
const WINDOW = 16;
const KEYS = 5;
const scope = useScope();

describe('file streams, consumers and KV survive kill() + restart() of the in-process server', () => {
  it(`loses no acknowledged write and resumes consumers from their ack floor over ${ROUNDS} kills (seed ${SEED})`, async () => {
    const random = rng(SEED);
    const root = mkdtempSync(join(tmpdir(), 'nats-embedded-restart-chaos-'));
    scope.defer(() => rmSync(root, { recursive: true, force: true }));
    const server = await scope.server({ jetstream: { storeDir: join(root, 'store') } });
    const violations: string[] = [];

    let nc: NatsConnection = await connect({ servers: server.url, reconnect: false });
    const jsm0 = await jetstreamManager(nc);
    await jsm0.streams.add({ name: 'W', subjects: ['w.>'], storage: 'file', duplicate_window: 3_600_000_000_000 } as never);
    await jsm0.streams.add({ name: 'MEM', subjects: ['mem.>'], storage: 'memory' } as never);
    await jetstream(nc).publish('mem.x', 'gone after a restart');
    await jsm0.consumers.add('W', { durable_name: 'D', ack_policy: AckPolicy.Explicit, ack_wait: 2_000_000_000 });
    await new Kvm(nc).create('cfg', { history: 1, storage: 'file' } as never);

    // ---- the writer: publishes p-<i> with Nats-Msg-Id p-<i>; unacked ones are retried later ----
    let nextIndex = 1;
    const ackedSeq = new Map<number, number>(); // publish index -> stream sequence
    const unacked = new Set<number>(); // sent, no ack seen (yet)
    const kvAcked = new Map<string, number>(); // key -> highest acked revision
    const subjectOf = (i: number): string => `w.${i % 3}`;
    const write = async (conn: NatsConnection, stop: () => boolean, fresh = true): Promise<void> => {
      const js = jetstream(conn);
      const kv = await new Kvm(conn).open('cfg').catch(() => null);
      const inFlight = new Set<Promise<void>>();
      const one = (i: number): Promise<void> =>
        js.publish(subjectOf(i), `p-${i}`, { msgID: `p-${i}`, timeout: 2000 }).then(
          (ack) => {
            const before = ackedSeq.get(i);
            if (before !== undefined && before !== ack.seq) violations.push(`p-${i} acked at ${before}, then at ${ack.seq}`);
            ackedSeq.set(i, ack.seq);
            unacked.delete(i);
          },
          () => undefined,
        );
      const retry = [...unacked];
      while (!stop() && !conn.isClosed() && (fresh || retry.length > 0)) {
        const i = retry.length > 0 ? retry.shift()! : nextIndex++;
        unacked.add(i);
        const p = one(i).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (kv !== null && i % 4 === 0) {
          const key = `k${i % KEYS}`;
          const q = kv.put(key, String(i)).then(
            (rev) => void kvAcked.set(key, Math.max(kvAcked.get(key) ?? 0, rev)),
            () => undefined,
          ).finally(() => inFlight.delete(q));
          inFlight.add(q);
        }
        if (inFlight.size >= WINDOW) await Promise.race(inFlight);
        // Publishes that fail at once (a dead connection) settle in microtasks: give the event
        // loop a turn so the close is seen.
        if (i % WINDOW === 0) await new Promise((r) => setImmediate(r));
      }
      await Promise.allSettled(inFlight);
    };

    // ---- the reader: a durable pull consumer, acking most messages with ackAck ----
    const confirmed = new Set<number>();
    const ackSent = new Set<number>();
    let maxDseq = 0;
    let redelivered = 0;
    const delivered = new Set<number>();
    const read = async (conn: NatsConnection, stop: () => boolean, ackProbability: number): Promise<void> => {
      const c = await jetstream(conn).consumers.get('W', 'D').catch(() => null);
      while (c !== null && !stop() && !conn.isClosed()) {
        const acks: Array<Promise<unknown>> = [];
        try {
          for await (const m of await c.fetch({ max_messages: 20, expires: 1000 })) acks.push(onMessage(m, ackProbability));
        } catch {
          // killed mid-fetch: let the event loop see the close
          await new Promise((r) => setImmediate(r));
        }
        await Promise.allSettled(acks);
      }
    };
    const onMessage = (m: JsMsg, ackProbability: number): Promise<unknown> => {
      if (confirmed.has(m.seq)) violations.push(`seq ${m.seq} delivered again after its ack was confirmed`);
      if (m.info.deliverySequence <= maxDseq) violations.push(`delivery sequence ${m.info.deliverySequence} after ${maxDseq}`);
      if (!/^p-\d+$/.test(m.string())) violations.push(`seq ${m.seq} holds ${m.string()}`);
      maxDseq = Math.max(maxDseq, m.info.deliverySequence);
      if (delivered.has(m.seq)) redelivered++;
      delivered.add(m.seq);
      if (random() >= ackProbability) return Promise.resolve();
      ackSent.add(m.seq);
      return m.ackAck().then((ok) => void (ok && confirmed.add(m.seq)), () => undefined);
    };
    const ackPrefix = (): number => {
      let k = 0;
      while (confirmed.has(k + 1)) k++;
      return k;
    };

    /** The stream holds every acked publish once, where its ack said, and nothing else. */
    const checkStream = async (conn: NatsConnection, round: number): Promise<number> => {
      const jsm = await jetstreamManager(conn);
      const si = await jsm.streams.info('W');
      const { first_seq: first, last_seq: last, messages } = si.state;
      expect([first, messages], `round ${round}: no holes`).toEqual([1, last]);
      const seen = new Map<number, number>(); // index -> seq
      for (let seq = 1; seq <= last; seq++) {
        const m = await jsm.streams.getMessage('W', { seq });
        if (m === null) {
          violations.push(`round ${round}: seq ${seq} is missing`);
          continue;
        }
        const i = Number(/^p-(\d+)$/.exec(m.string())?.[1] ?? NaN);
        if (!Number.isInteger(i) || m.subject !== subjectOf(i)) violations.push(`round ${round}: seq ${seq} is ${m.subject} ${m.string()}`);
        if (seen.has(i)) violations.push(`round ${round}: p-${i} stored at ${seen.get(i)} and ${seq}`);
        seen.set(i, seq);
      }
      for (const [i, seq] of ackedSeq) if (seen.get(i) !== seq) violations.push(`round ${round}: acked p-${i} (seq ${seq}) is at ${seen.get(i)}`);
      return last;
    };

    for (let round = 0; round < ROUNDS; round++) {
      let stop = false;
      const ackedBefore = ackedSeq.size;
      const writing = write(nc, () => stop);
      const reading = read(nc, () => stop, 0.85);
      await eventually(() => ackedSeq.size >= ackedBefore + 100 + Math.floor(random() * 200) || undefined, 'publishes before the kill', 20_000);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
      await server.kill();
      stop = true;
      await nc.close().catch(() => undefined);
      await Promise.all([writing, reading]);
      await server.restart({ downMs: Math.floor(random() * 30) });

      nc = await connect({ servers: server.url, reconnect: false });
      const jsm = await jetstreamManager(nc);
      await checkStream(nc, round);
      const ci = await jsm.consumers.info('W', 'D');
      expect(ci.ack_floor.stream_seq, `round ${round}: ack floor`).toBeGreaterThanOrEqual(ackPrefix());
      expect(ci.delivered.consumer_seq, `round ${round}: delivery sequence`).toBeGreaterThanOrEqual(maxDseq);
      const kv = await new Kvm(nc).open('cfg');
      for (const [key, rev] of kvAcked) {
        const e = await kv.get(key);
        if (e === null || e.revision < rev) violations.push(`round ${round}: ${key} at revision ${e?.revision} after an ack of ${rev}`);
      }
      if (round === 0) {
        const names: string[] = [];
        for await (const s of jsm.streams.list()) names.push(s.config.name);
        expect(names.sort(), 'the memory stream is gone after a restart').toEqual(['KV_cfg', 'W']);
      }
    }

    // Retry what is still unacked, then drain the consumer: everything is delivered and acked.
    await write(nc, () => false, false);
    expect([...unacked], 'every publish acked in the end').toEqual([]);
    const last = await checkStream(nc, ROUNDS);
    const jsm = await jetstreamManager(nc);
    const deadline = Date.now() + 30_000;
    for (;;) {
      let fetches = 0;
      await read(nc, () => fetches++ > 0, 1);
      const info = await jsm.consumers.info('W', 'D');
      if (info.num_ack_pending === 0 && info.num_pending === 0) break;
      if (Date.now() > deadline) throw new Error(`drain stuck: ${JSON.stringify([info.num_ack_pending, info.num_pending, confirmed.size])}`);
    }
    const ci = await jsm.consumers.info('W', 'D');
    expect([ci.ack_floor.stream_seq, ci.delivered.stream_seq]).toEqual([last, last]);
    await nc.close();
    expect(violations).toEqual([]);
    const lost = Array.from({ length: last }, (_, k) => k + 1).filter((seq) => !confirmed.has(seq) && !ackSent.has(seq));
    expect(lost).toEqual([]);
    expect(redelivered, 'un-acked messages came again across kills').toBeGreaterThan(0);
  }, 60_000 + ROUNDS * 15_000);
});
