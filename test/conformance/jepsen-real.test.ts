/**
 * The Jepsen-style test (issue 18) against three real `nats-server -js` processes: the runner
 * and checker of test/jscluster must find zero anomalies on the reference server before their
 * verdict on the embedded cluster means anything. Real processes cannot be partitioned from
 * here, so the nemesis kills and restarts members (a minority at a time).
 *
 * Needs NATS_SERVER_BIN (run through `npm run test:conformance`, or
 * `NATS_SERVER_BIN=$(which nats-server) npx vitest run -c test/conformance/vitest.interop.config.ts test/conformance/jepsen-real.test.ts`).
 */
import { describe, expect, it } from 'vitest';
import { startRealCluster } from '../helpers/real-cluster.js';
import { useScope } from '../helpers/scope.js';
import { check, describeHistory, runJepsen, summarize } from '../jscluster/jepsen.js';

const bin = process.env.NATS_SERVER_BIN ?? '';
const SEEDS = [1801, 1802];

describe('Jepsen-style run against real nats-server members', () => {
  const scope = useScope();
  for (const seed of SEEDS) {
    it(`seed ${seed}: acked publishes stored once, in order, delivered until acked`, async () => {
      const cluster = await startRealCluster(bin, 3, { namePrefix: `j${seed}-` });
      scope.defer(() => cluster.close());
      const lines: string[] = [];
      const { history, final } = await runJepsen({ cluster, seed, durationMs: 25_000, storage: 'file', log: (l) => lines.push(l) });
      const anomalies = check(history, final);
      const report = `seed ${seed}: ${describeHistory(history)}; ${summarize(anomalies)}\n${lines.join('\n')}\n${anomalies.slice(0, 20).map((a) => `  ${a.kind}: ${a.message}`).join('\n')}`;
      console.log(report);
      // The run did something: faults happened, publishes were acked and everything was consumed.
      expect(history.nemesis.filter((n) => n.outcome === 'ok').length, report).toBeGreaterThan(3);
      expect(history.publishes.filter((p) => p.outcome === 'ok').length, report).toBeGreaterThan(100);
      expect(final.messages.length, report).toBeGreaterThan(100);
      expect(anomalies, report).toEqual([]);
    }, 150_000);
  }
});
