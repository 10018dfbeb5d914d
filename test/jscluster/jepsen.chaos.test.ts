/**
 * The long Jepsen-style job (issue 18, `npm run test:chaos`): many seeds against the embedded
 * cluster, each a fresh `createCluster({ size: 3, jetstream: true })`, alternating file and
 * memory storage; every third seed (file storage only: a restarted memory member has lost its
 * Raft log, so a majority loss may lose acked data by design) also loses a majority once.
 * The nemesis also moves the stream's and the consumer's leaders (stepdowns), so the durable
 * consumer is often led by another member than its stream. `npm run test:chaos` then runs ten
 * seeds on a work-queue stream (JEPSEN_RETENTION=workqueue, from seed 18400).
 *
 *   JEPSEN_SEEDS=n       number of seeds (default 10)
 *   JEPSEN_SEED=s        first seed (default 18100); replay a failing one with JEPSEN_SEEDS=1 JEPSEN_SEED=<seed>
 *   JEPSEN_DURATION_MS   workload per seed (default 20000)
 *   JEPSEN_RETENTION=workqueue   a work-queue stream (an ack removes the message; the checker's
 *                        work-queue mode); seeds with seed % 4 >= 2 also pause the workers
 *                        between fetches (20–80 ms), so a backlog is stored while the nemesis strikes
 *   JEPSEN_STEPDOWNS=0   no leader stepdowns (the schedules the seeds had before stepdowns existed)
 *   JEPSEN_DUMP_DIR=dir  write each seed's history, final read and anomalies there (seed-<n>.json)
 *   JEPSEN_TARGET=nats-server   run the same seeds against three real nats-server members
 *                        (NATS_SERVER_BIN; no partitions: processes cannot be partitioned from here)
 *
 * The report lists the seeds run and the anomalies found (expected: zero).
 * Not in the default run (vitest.config.ts excludes it): `npx vitest run -c test/jscluster/vitest.jepsen.config.ts test/jscluster/jepsen.chaos.test.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterUnderTest } from '../helpers/cluster-under-test.js';
import { startRealCluster } from '../helpers/real-cluster.js';
import { useScope } from '../helpers/scope.js';
import { startEmbeddedCluster } from './embedded-cluster.js';
import { describeNemesis, knownServerAnomalies, maxDown, runAndCheck, summarize } from './jepsen.js';

const count = Number(process.env.JEPSEN_SEEDS ?? 10);
const first = Number(process.env.JEPSEN_SEED ?? 18100);
const durationMs = Number(process.env.JEPSEN_DURATION_MS ?? 20_000);
const seeds = Array.from({ length: count }, (_, i) => first + i);
const real = process.env.JEPSEN_TARGET === 'nats-server';
const stepdowns = process.env.JEPSEN_STEPDOWNS !== '0';
const workqueue = process.env.JEPSEN_RETENTION === 'workqueue';
if (!['', 'limits', 'workqueue'].includes(process.env.JEPSEN_RETENTION ?? '')) throw new Error(`JEPSEN_RETENTION: limits or workqueue, not ${process.env.JEPSEN_RETENTION}`);
/** Work queue: the seeds whose workers pause between fetches (a backlog builds up). */
const backlog = (seed: number): boolean => workqueue && seed % 4 >= 2;
/** Seeds in alternate pairs (so file and memory alike) run with low compaction thresholds: members catch up from snapshots. */
const compacting = (seed: number): boolean => !real && Math.floor(seed / 2) % 2 === 0;
const start = (seed: number): Promise<ClusterUnderTest> =>
  real ? startRealCluster(process.env.NATS_SERVER_BIN ?? '', 3, { namePrefix: `c${seed}-` })
    : startEmbeddedCluster(compacting(seed) ? { jetstream: { raftCompaction: { entries: 200, bytes: 1 << 30 } } } : {});

describe(`Jepsen-style chaos against ${real ? 'real nats-server members' : 'the embedded cluster'}`, () => {
  const scope = useScope();
  const results: string[] = [];
  afterAll(() => {
    console.log(`jepsen chaos: ${results.length} seeds run\n${results.join('\n')}`);
  });
  for (const seed of seeds) {
    const storage = seed % 2 === 0 ? 'file' : 'memory';
    const majorityLoss = storage === 'file' && seed % 3 === 0;
    const label = `${storage}${workqueue ? ', workqueue' : ''}${backlog(seed) ? ', backlog' : ''}${majorityLoss ? ', majority loss' : ''}${compacting(seed) ? ', compacting' : ''}`;
    it(`seed ${seed} (${label})`, async () => {
      const cluster = await start(seed);
      scope.defer(() => cluster.close());
      const { history, final, anomalies, report } = await runAndCheck({
        cluster, seed, durationMs, storage, nemesis: { majorityLoss, stepdowns },
        ...(workqueue ? { retention: 'workqueue' as const } : {}), ...(backlog(seed) ? { fetchPauseMs: [20, 80] as const } : {}),
      });
      const dump = process.env.JEPSEN_DUMP_DIR;
      if (dump !== undefined && dump !== '') {
        mkdirSync(dump, { recursive: true });
        writeFileSync(join(dump, `seed-${seed}.json`), JSON.stringify({ history, final, anomalies }));
      }
      if (anomalies.length > 0) console.log(report);
      results.push(`  seed ${seed} (${label}): ${history.publishes.length} publishes, ${describeNemesis(history)}, ${summarize(anomalies)}`);
      expect(history.publishes.filter((p) => p.outcome === 'ok').length, report).toBeGreaterThan(0);
      if (majorityLoss) expect(maxDown(history), report).toBe(2);
      // Against nats-server, what that version is known to do (knownServerAnomalies) is reported, not failed.
      const known = real ? knownServerAnomalies(String(history.options.serverVersion)) : [];
      expect(anomalies.filter((a) => !known.includes(a.kind)), report).toEqual([]);
    }, durationMs + 120_000);
  }
});
