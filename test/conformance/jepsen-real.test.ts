/**
 * The Jepsen-style test (issue 18) against three real `nats-server -js` processes: the runner
 * and checker of test/jscluster must find zero anomalies on the reference server before their
 * verdict on the embedded cluster means anything. Real processes cannot be partitioned from
 * here, so the nemesis kills and restarts members: a minority at a time in the first seed, and
 * in the second also once a majority (file storage: the restarted members keep their Raft logs).
 *
 * Needs NATS_SERVER_BIN (run through `npm run test:conformance`, or
 * `NATS_SERVER_BIN=$(which nats-server) npx vitest run -c test/conformance/vitest.interop.config.ts test/conformance/jepsen-real.test.ts`).
 */
import { describe, expect, it } from 'vitest';
import { startRealCluster } from '../helpers/real-cluster.js';
import { useScope } from '../helpers/scope.js';
import { knownServerAnomalies, maxDown, runAndCheck, type NemesisOptions } from '../jscluster/jepsen.js';

const bin = process.env.NATS_SERVER_BIN ?? '';
const CASES: Array<{ seed: number; nemesis: NemesisOptions }> = [
  { seed: 1801, nemesis: {} },
  { seed: 1802, nemesis: { majorityLoss: { holdMs: 3000 } } },
];

describe('Jepsen-style run against real nats-server members', () => {
  const scope = useScope();

  it('without faults, a bounded number of operations: every publish acked and stored once, every delivery acked', async () => {
    const cluster = await startRealCluster(bin, 3, { namePrefix: 'j0-' });
    scope.defer(() => cluster.close());
    const { history, final, anomalies, report } = await runAndCheck({ cluster, seed: 1800, operations: 300, storage: 'memory', nemesis: false, dropProbability: 0.05 });
    expect(history.publishes.length, report).toBe(300);
    expect(history.publishes.every((p) => p.outcome === 'ok' && p.attempts.length === 1), report).toBe(true);
    expect(final.messages.map((m) => m.id).sort(), report).toEqual(history.publishes.map((p) => p.id).sort());
    // Dropped deliveries came back (ack_wait) and were acked.
    const dropped = history.deliveries.filter((d) => d.dropped === true).length;
    expect(dropped, report).toBeGreaterThan(0);
    expect(history.deliveries.filter((d) => d.redelivered).length, report).toBeGreaterThanOrEqual(dropped);
    expect(history.acks.filter((a) => a.outcome === 'ok').length, report).toBe(300);
    expect(anomalies, report).toEqual([]);
  }, 60_000);
  for (const { seed, nemesis } of CASES) {
    it(`seed ${seed}${nemesis.majorityLoss === undefined ? '' : ' (with a majority loss)'}: acked publishes stored once, in order, delivered until acked`, async () => {
      const cluster = await startRealCluster(bin, 3, { namePrefix: `j${seed}-` });
      scope.defer(() => cluster.close());
      const { history, final, anomalies, report } = await runAndCheck({ cluster, seed, durationMs: 20_000, storage: 'file', nemesis });
      console.log(report);
      // The run did something: faults happened, publishes were acked, and everything was consumed.
      expect(history.nemesis.filter((n) => n.outcome === 'ok').length, report).toBeGreaterThan(3);
      expect(history.publishes.filter((p) => p.outcome === 'ok').length, report).toBeGreaterThan(100);
      expect(final.messages.length, report).toBeGreaterThan(100);
      expect(maxDown(history), report).toBe(nemesis.majorityLoss === undefined ? 1 : 2);
      // nats-server before 2.10.16 may redeliver a message whose ack it confirmed, when the
      // consumer leader is lost right after (see knownServerAnomalies); nothing else is tolerated.
      const known = knownServerAnomalies(String(history.options.serverVersion));
      expect(anomalies.filter((a) => !known.includes(a.kind)), report).toEqual([]);
    }, 150_000);
  }
});
