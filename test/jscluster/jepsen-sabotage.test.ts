/**
 * The Jepsen-style pipeline end to end (runner, client history, final read, checker) on one
 * embedded JetStream server with an R1 stream, where it runs today: a clean run finds nothing,
 * and a "nemesis" that deletes stored messages and injects foreign ones is caught as `lost`
 * and `unexpected`. So the clustered runs (jepsen-embedded.test.ts, jepsen-real.test.ts) can
 * fail, and their zero means something.
 */
import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsServer } from '../../src/index.js';
import type { ClusterUnderTest } from '../helpers/cluster-under-test.js';
import { useScope, type Scope } from '../helpers/scope.js';
import { runAndCheck, STREAM } from './jepsen.js';

/**
 * One server seen as three "members" (the same URL): kill(i) deletes the oldest stored message,
 * restart(i) publishes a message no publisher sent. Without `sabotage` they do nothing.
 */
async function singleServer(scope: Scope, server: NatsServer, sabotage: boolean): Promise<ClusterUnderTest> {
  const nc = await scope.client(server);
  const jsm = await jetstreamManager(nc);
  let injected = 0;
  return {
    size: 3,
    urls: [server.url, server.url, server.url],
    serverName: (i) => `single-${i}`,
    indexOf: (name) => ['single-0', 'single-1', 'single-2'].indexOf(name),
    async kill() {
      if (!sabotage) return;
      const { state } = await jsm.streams.info(STREAM);
      if (state.messages > 0) await jsm.streams.deleteMessage(STREAM, state.first_seq, false);
    },
    async restart() {
      if (!sabotage) return;
      await nc.request(`jepsen.intruder`, `intruder-${injected++}`, { timeout: 2000 });
    },
    close: () => server.close(),
  };
}

describe('Jepsen-style pipeline on one embedded server (R1)', () => {
  const scope = useScope();

  it('a clean run has no anomalies', async () => {
    const server = await scope.server({ jetstream: true });
    const cluster = await singleServer(scope, server, false);
    const { history, final, anomalies, report } = await runAndCheck({
      cluster, seed: 1820, durationMs: 2500, replicas: 1, storage: 'file', dropProbability: 0.05, ackWaitMs: 1000,
      nemesis: { partition: false, intervalMs: [300, 600] },
    });
    expect(history.nemesis.length, report).toBeGreaterThan(2);
    expect(history.publishes.filter((p) => p.outcome === 'ok').length, report).toBeGreaterThan(20);
    expect(final.messages.length, report).toBe(history.publishes.filter((p) => p.outcome === 'ok').length);
    expect(history.deliveries.some((d) => d.redelivered), report).toBe(true);
    expect(anomalies, report).toEqual([]);
  }, 30_000);

  it('deleted and foreign messages are reported as lost and unexpected', async () => {
    const server = await scope.server({ jetstream: true });
    const cluster = await singleServer(scope, server, true);
    const { history, anomalies, report } = await runAndCheck({
      cluster, seed: 1821, durationMs: 2500, replicas: 1, storage: 'memory', ackWaitMs: 1000,
      nemesis: { partition: false, intervalMs: [300, 600] },
    });
    const kills = history.nemesis.filter((n) => n.action.kind === 'kill' && n.outcome === 'ok').length;
    const restarts = history.nemesis.filter((n) => n.action.kind === 'restart' && n.outcome === 'ok').length;
    expect(kills, report).toBeGreaterThan(0);
    expect(restarts, report).toBeGreaterThan(0);
    expect(anomalies.filter((a) => a.kind === 'lost').length, report).toBe(kills);
    const unexpected = anomalies.filter((a) => a.kind === 'unexpected');
    expect(unexpected.length, report).toBe(restarts);
    for (const a of unexpected) expect(a.message).toMatch(/no Nats-Msg-Id\) was never published/);
    // Deleted messages that had been consumed also show as deliveries the stream no longer has.
    expect(new Set(anomalies.map((a) => a.kind)), report).toEqual(new Set(anomalies.some((a) => a.kind === 'delivered-not-stored') ? ['lost', 'unexpected', 'delivered-not-stored'] : ['lost', 'unexpected']));
  }, 30_000);
});
