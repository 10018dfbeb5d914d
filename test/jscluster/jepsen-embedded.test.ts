/**
 * The Jepsen-style test (issue 18) against the embedded cluster: `createCluster({ size: 3,
 * jetstream: true })` with an R3 file stream, clients failing over between members while the
 * nemesis kills, restarts, partitions and heals them (and, in the third and fourth seeds, moves
 * the stream's and the consumer's leaders). The fourth seed's stream is a work queue (an ack
 * removes the message; the checker's work-queue mode, ~15 s). Four short seeds; many more run in
 * jepsen.chaos.test.ts (`npm run test:chaos`). The same runner finds zero anomalies against
 * three real nats-server members (test/conformance/jepsen-real.test.ts).
 *
 * Part of `npm test`.
 * A failing seed replays with the same schedule: the report starts with it.
 */
import { describe, expect, it } from 'vitest';
import { useScope } from '../helpers/scope.js';
import { startEmbeddedCluster } from './embedded-cluster.js';
import { maxDown, runAndCheck, type NemesisOptions } from './jepsen.js';

/** Low compaction thresholds: the stream's logs are compacted many times during the run (members catch up from snapshots). */
const JEPSEN_COMPACTION = { entries: 200, bytes: 1 << 30 };

/**
 * Short runs: each seed's fault schedule is the one it had over 20 s with the default pauses
 * (1.5–4 s), played with pauses of 0.8–2 s (the embedded cluster elects within 300–600 ms), so
 * the same faults happen in about half the time: 5–7 per seed, seed 1814 loses its majority
 * after about 6.4 s. The long runs (20 s each, many seeds) are jepsen.chaos.test.ts.
 */
const INTERVAL_MS = [800, 2000] as const;
const CASES: Array<{ seed: number; storage: 'file' | 'memory'; nemesis: NemesisOptions; compaction: boolean; durationMs: number; workqueue?: boolean }> = [
  { seed: 1811, storage: 'file', nemesis: { intervalMs: INTERVAL_MS }, compaction: true, durationMs: 11_000 },
  { seed: 1814, storage: 'file', nemesis: { intervalMs: INTERVAL_MS, majorityLoss: { holdMs: 2000 } }, compaction: false, durationMs: 12_000 },
  // Leadership moves too: the durable consumer led off its stream's leader (its own Raft group).
  { seed: 1820, storage: 'memory', nemesis: { intervalMs: INTERVAL_MS, stepdowns: true }, compaction: false, durationMs: 10_000 },
  // A work-queue stream: an ack removes the message (through the stream leader's log, over the
  // consumer's own group); more seeds in `npm run test:chaos`.
  { seed: 1830, storage: 'file', nemesis: { intervalMs: INTERVAL_MS, stepdowns: true }, compaction: false, durationMs: 10_000, workqueue: true },
];

describe('Jepsen-style run against the embedded cluster', () => {
  const scope = useScope();
  for (const { seed, storage, nemesis, compaction, durationMs, workqueue = false } of CASES) {
    const what = workqueue ? 'acked publishes delivered until acked, removed once acked, never without an ack' : 'acked publishes stored once, in order, delivered until acked';
    it(`seed ${seed} (${storage}${workqueue ? ', work queue' : ''}${nemesis.majorityLoss === undefined ? '' : ', with a majority loss'}${compaction ? ', compacting logs' : ''}${nemesis.stepdowns === true ? ', with leader stepdowns' : ''}): ${what}`, async () => {
      const cluster = await startEmbeddedCluster(compaction ? { jetstream: { raftCompaction: JEPSEN_COMPACTION } } : {});
      scope.defer(() => cluster.close());
      const { history, final, anomalies, report } = await runAndCheck({ cluster, seed, durationMs, storage, nemesis, ...(workqueue ? { retention: 'workqueue' as const } : {}) });
      console.log(report);
      expect(history.nemesis.filter((n) => n.outcome === 'ok').length, report).toBeGreaterThan(3);
      expect(history.publishes.filter((p) => p.outcome === 'ok').length, report).toBeGreaterThan(100);
      // A work queue ends empty once every message was acked (the checker says why if not).
      if (workqueue) expect(history.acks.filter((a) => a.outcome === 'ok').length, report).toBeGreaterThan(100);
      else expect(final.messages.length, report).toBeGreaterThan(100);
      expect(maxDown(history), report).toBe(nemesis.majorityLoss === undefined ? 1 : 2);
      if (nemesis.stepdowns === true) {
        expect(history.nemesis.filter((n) => n.action.kind === 'consumer-stepdown' && n.outcome === 'ok').length, report).toBeGreaterThan(0);
        // Some action ran while the consumer was led by another member than the stream.
        expect(history.nemesis.some((n) => n.leaders !== undefined && n.leaders.consumer !== '' && n.leaders.stream !== '' && n.leaders.consumer !== n.leaders.stream), report).toBe(true);
      }
      expect(anomalies, report).toEqual([]);
    }, 150_000);
  }
});
