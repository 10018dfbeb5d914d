/**
 * Chaos: the CLI (`nats-embedded -js -sd DIR`) is SIGKILLed at a random moment while a client
 * publishes to a file stream with up to 64 publishes in flight; a new CLI process on the same
 * store directory must hold every message whose publish was acknowledged, with its subject and
 * payload, in order, and nothing that was never published. Then the client goes on.
 *
 * `npm test` runs a short seeded slice; `npm run test:chaos` runs many rounds
 * (JS_CHAOS_ROUNDS, JS_CHAOS_SEED to replay a failure: the seed is in the test name).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type PubAck } from '@nats-io/jetstream';
import { useScope } from '../helpers/scope.js';
import { rng, startJetStreamCli } from '../helpers/chaos.js';
import { eventually } from '../helpers/eventually.js';

const ROUNDS = Number(process.env.JS_CHAOS_ROUNDS ?? 3);
const SEED = Number(process.env.JS_CHAOS_SEED ?? 0x5eed);
const scope = useScope();

const payload = (i: number): string => `m-${i}-${'x'.repeat(i % 61)}`;

describe('file streams survive SIGKILL of the CLI', () => {
  it(`loses no acknowledged publish over ${ROUNDS} kills (seed ${SEED})`, async () => {
    const random = rng(SEED);
    const root = mkdtempSync(join(tmpdir(), 'nats-embedded-chaos-'));
    scope.defer(() => import('node:fs').then((fs) => fs.rmSync(root, { recursive: true, force: true })));
    const storeDir = join(root, 'store');
    /** index → sequence of every acknowledged publish. */
    const acked = new Map<number, number>();
    let next = 0;
    let cli = await startJetStreamCli(scope, storeDir, root);
    let nc: NatsConnection = await connect({ servers: cli.url, reconnect: false });
    await (await jetstreamManager(nc)).streams.add({ name: 'CHAOS', subjects: ['chaos.>'], storage: 'file' } as never);

    for (let round = 0; round < ROUNDS; round++) {
      const js = jetstream(nc);
      const inflight = new Set<Promise<void>>();
      let stop = false;
      const pump = (async () => {
        // (Publishes to a dead connection fail in microtasks only: yield now and then, so that
        // the kill's exit event gets its turn.)
        while (!stop && !nc.isClosed()) {
          if (next % 64 === 0) await new Promise((r) => setImmediate(r));
          const i = next++;
          const p: Promise<void> = js.publish(`chaos.${i % 5}`, payload(i), { timeout: 2000 }).then(
            (ack: PubAck) => void acked.set(i, ack.seq),
            () => undefined, // killed before the ack: it may or may not be stored
          ).finally(() => inflight.delete(p));
          inflight.add(p);
          if (inflight.size >= 64) await Promise.race(inflight);
        }
      })();
      // Let some acks come in, then kill at a random moment.
      await eventually(() => acked.size > round * 50 + 20 || undefined, 'acks before the kill', 10_000);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 80)));
      cli.child.kill('SIGKILL');
      await new Promise((r) => cli.child.once('exit', r));
      stop = true;
      await pump;
      await Promise.allSettled([...inflight]);
      await nc.close().catch(() => undefined);

      cli = await startJetStreamCli(scope, storeDir, root);
      nc = await connect({ servers: cli.url, reconnect: false });
      const jsm = await jetstreamManager(nc);
      const si = await jsm.streams.info('CHAOS');
      // Everything acknowledged is there, at the sequence its ack named.
      const bySeq = new Map<number, number>();
      for (const [i, seq] of acked) bySeq.set(seq, i);
      for (const [seq, i] of bySeq) {
        const m = await jsm.streams.getMessage('CHAOS', { seq });
        expect(m?.subject, `round ${round}: acked publish ${i} (seq ${seq})`).toBe(`chaos.${i % 5}`);
        expect(m?.string()).toBe(payload(i));
      }
      // Whatever else is there was published (its ack lost in the kill) and is intact.
      expect(si.state.messages).toBeGreaterThanOrEqual(bySeq.size);
      for (let seq = si.state.first_seq; seq <= si.state.last_seq; seq++) {
        if (bySeq.has(seq)) continue;
        const m = await jsm.streams.getMessage('CHAOS', { seq });
        const i = Number(m!.string().split('-')[1]);
        expect(i).toBeLessThan(next);
        expect(acked.has(i), `seq ${seq} holds publish ${i}, acked at another seq`).toBe(false);
        expect(m!.string()).toBe(payload(i));
      }
      expect(si.state.num_deleted ?? 0).toBe(0);
    }
    // After the last restart the stream takes new messages after the old ones.
    const last = (await (await jetstreamManager(nc)).streams.info('CHAOS')).state.last_seq;
    expect((await jetstream(nc).publish('chaos.end', 'end')).seq).toBe(last + 1);
    await nc.close();
    expect(acked.size).toBeGreaterThan(ROUNDS * 20);
  }, 60_000 + ROUNDS * 10_000);
});
