/**
 * The Jepsen-style pipeline end to end (runner, client history, final read, checker) on one
 * embedded JetStream server with an R1 stream, where it runs today: a clean run finds nothing,
 * and a "nemesis" that deletes stored messages and injects foreign ones is caught as `lost`
 * and `unexpected`; on a work-queue stream, deleting a delivered unacked message and an undelivered
 * one is caught as `removed-unacked` and `lost`. So the clustered runs (jepsen-embedded.test.ts, jepsen-real.test.ts) can
 * fail, and their zero means something.
 */
import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsServer } from '../../src/index.js';
import type { ClusterUnderTest } from '../helpers/cluster-under-test.js';
import { useScope, type Scope } from '../helpers/scope.js';
import type { AnomalyKind, History } from './history.js';
import { DURABLE, runAndCheck, STREAM } from './jepsen.js';

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

/** A message the work-queue sabotage deleted: its sequence and Nats-Msg-Id. */
interface Deleted {
  seq: number;
  id: string;
}

/**
 * A work-queue sabotage on one server seen as three members: it watches the deliveries (the
 * workers' inboxes) and the acks (`$JS.ACK.JEPSEN.>`) go by; kill(i) deletes a message that was
 * delivered and not acked (a dropped one waiting for its redelivery), restart(i) one the
 * consumer has not delivered yet. Each deletion is recorded. Without `sabotage` they do nothing.
 */
async function workQueueSaboteur(scope: Scope, server: NatsServer, sabotage: boolean): Promise<{ cluster: ClusterUnderTest; deleted: Deleted[] }> {
  const nc = await scope.client(server);
  const jsm = await jetstreamManager(nc);
  const delivered = new Set<number>();
  const acked = new Set<number>();
  // $JS.ACK.<stream>.<consumer>.<delivery count>.<stream seq>.<consumer seq>.<time>.<pending>
  const sseqOf = (ackSubject: string): number => Number(ackSubject.split('.')[5]);
  nc.subscribe('_INBOX.>', { callback: (_e, m) => { if (m.reply?.startsWith(`$JS.ACK.${STREAM}.`) === true) delivered.add(sseqOf(m.reply)); } });
  nc.subscribe(`$JS.ACK.${STREAM}.>`, { callback: (_e, m) => void acked.add(sseqOf(m.subject)) });
  await nc.flush();
  const deleted: Deleted[] = [];
  const remove = async (seq: number): Promise<void> => {
    const m = await jsm.streams.getMessage(STREAM, { seq });
    if (m === null) return;
    if (await jsm.streams.deleteMessage(STREAM, seq, false)) deleted.push({ seq, id: m.header.get('Nats-Msg-Id') });
  };
  const cluster: ClusterUnderTest = {
    size: 3,
    urls: [server.url, server.url, server.url],
    serverName: (i) => `single-${i}`,
    indexOf: (name) => ['single-0', 'single-1', 'single-2'].indexOf(name),
    async kill() {
      if (!sabotage) return;
      const { state } = await jsm.streams.info(STREAM);
      for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
        if (!delivered.has(seq) || acked.has(seq)) continue;
        if (await jsm.streams.getMessage(STREAM, { seq }) === null) continue;
        await remove(seq);
        return;
      }
    },
    async restart() {
      if (!sabotage) return;
      const ci = await jsm.consumers.info(STREAM, DURABLE);
      const { state } = await jsm.streams.info(STREAM);
      if (state.last_seq > ci.delivered.stream_seq && state.messages > 0) await remove(state.last_seq);
    },
    close: () => server.close(),
  };
  return { cluster, deleted };
}

/**
 * What the work-queue checker must say of the deleted messages, from the history: gone after an
 * ack was sent (the worker's ack crossed the deletion) is nothing; delivered without an ack is
 * `removed-unacked`; never delivered, though its publish was acknowledged, is `lost`.
 */
function expectedOfDeletions(history: History, deleted: readonly Deleted[]): Array<{ kind: AnomalyKind; id: string }> {
  const out: Array<{ kind: AnomalyKind; id: string }> = [];
  for (const { seq, id } of deleted) {
    if (history.acks.some((a) => a.seq === seq && a.outcome !== 'fail')) continue;
    if (history.deliveries.some((d) => d.seq === seq)) out.push({ kind: 'removed-unacked', id });
    else if (history.publishes.some((p) => p.id === id && p.outcome === 'ok')) out.push({ kind: 'lost', id });
  }
  return out.sort((x, y) => x.id.localeCompare(y.id));
}

describe('Jepsen-style pipeline on one embedded server (R1), work-queue stream', () => {
  const scope = useScope();
  // Workers slower than the publishers (a backlog of undelivered messages), many deliveries
  // dropped unacked (delivered, waiting for their redelivery): both kinds of victim exist.
  const run = (seed: number, cluster: ClusterUnderTest): ReturnType<typeof runAndCheck> => runAndCheck({
    cluster, seed, durationMs: 2500, replicas: 1, storage: 'memory', retention: 'workqueue', ackWaitMs: 1000, dropProbability: 0.2,
    fetchPauseMs: [150, 250], nemesis: { partition: false, intervalMs: [250, 450] },
  });

  it('a clean run has no anomalies: every message delivered, acked and removed', async () => {
    const server = await scope.server({ jetstream: true });
    const { cluster, deleted } = await workQueueSaboteur(scope, server, false);
    const { history, final, anomalies, report } = await run(1822, cluster);
    expect(deleted).toEqual([]);
    expect(history.options.retention, report).toBe('workqueue');
    expect(history.publishes.filter((p) => p.outcome === 'ok').length, report).toBeGreaterThan(20);
    expect(history.deliveries.some((d) => d.redelivered), report).toBe(true);
    expect(final.messages, report).toEqual([]);
    expect(anomalies, report).toEqual([]);
  }, 30_000);

  it('a removal without an ack is reported as removed-unacked, a lost acked publish as lost', async () => {
    const server = await scope.server({ jetstream: true });
    const { cluster, deleted } = await workQueueSaboteur(scope, server, true);
    const { history, anomalies, report } = await run(1823, cluster);
    const expected = expectedOfDeletions(history, deleted);
    const found = anomalies.filter((a) => a.kind === 'lost' || a.kind === 'removed-unacked').map((a) => ({ kind: a.kind, id: a.id! })).sort((x, y) => x.id.localeCompare(y.id));
    const details = `${report}\ndeleted: ${JSON.stringify(deleted)}`;
    expect(found, details).toEqual(expected);
    expect(expected.filter((e) => e.kind === 'removed-unacked').length, details).toBeGreaterThan(0);
    expect(expected.filter((e) => e.kind === 'lost').length, details).toBeGreaterThan(0);
    // Nothing else: the consumer and the stream agree once the victims are gone.
    expect(anomalies.filter((a) => a.kind !== 'lost' && a.kind !== 'removed-unacked'), details).toEqual([]);
  }, 30_000);
});
