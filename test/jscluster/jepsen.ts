/**
 * A Jepsen-style run against a clustered JetStream (issue 18): publishers publish with unique
 * Nats-Msg-Ids (retrying a publish of unknown outcome with the same id), workers consume a
 * durable pull consumer with double acks, and a seeded nemesis kills, restarts, partitions and
 * heals members. At the end every fault is undone, the consumer is drained, and the stream and
 * the consumer are read back for the checker (`check()` in checker.ts).
 *
 * Everything random (nemesis schedule, payloads, which member a client dials first, pauses)
 * comes from the seed; timing does not, so a seed replays the same schedule and workload.
 */
import { performance } from 'node:perf_hooks';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { ClusterUnderTest } from '../helpers/cluster-under-test.js';
import { rng } from '../helpers/chaos.js';
import type { Anomaly, AnomalyKind, AckOp, ConsumerFinalState, Delivery, FinalRead, History, LeaderSample, NemesisAction, NemesisOp, PublishAttempt, PublishOp, StoredMessage } from './history.js';
import { NemesisPlanner, type NemesisOptions } from './nemesis.js';
import { check, summarize } from './checker.js';

export { check, summarize };
export type { NemesisOptions } from './nemesis.js';

export interface JepsenOptions {
  cluster: ClusterUnderTest;
  seed: number;
  /** How long the workload (and the nemesis) runs. Default 20 s unless `operations` is given. */
  durationMs?: number;
  /** Stop after this many logical publishes (over all publishers). */
  operations?: number;
  /** Stream storage. Default 'file'. */
  storage?: 'file' | 'memory';
  /**
   * Stream retention. Default 'limits' (the stream keeps everything). With 'workqueue' an ack
   * removes the message: the final read waits for the removals to follow the acks, and the
   * checker runs in its work-queue mode (`check()` reads `history.options.retention`).
   */
  retention?: 'limits' | 'workqueue';
  /** Stream replicas. Default 3. */
  replicas?: number;
  /** Publisher clients. Default 3. */
  publishers?: number;
  /** Consumer workers sharing the durable pull consumer. Default 2. */
  consumers?: number;
  /** The nemesis (false: none). Partitions only if the cluster can partition. Default: kill, restart, partition. */
  nemesis?: NemesisOptions | false;
  /** Timeout of one publish attempt. Default 2000 ms. */
  publishTimeoutMs?: number;
  /** Attempts of one logical publish (same Nats-Msg-Id). Default 4. */
  publishAttempts?: number;
  /** Pause of a publisher between publishes, uniform in [min, max] ms. Default [0, 20]. */
  publishPauseMs?: readonly [number, number];
  /**
   * Pause of a worker between fetches, uniform in [min, max] ms. Default [0, 0]. A pause lets a
   * backlog build up (a work-queue stream then holds messages while the nemesis strikes).
   */
  fetchPauseMs?: readonly [number, number];
  /** The consumer's ack_wait. Default 4000 ms. */
  ackWaitMs?: number;
  /** Timeout of a double ack. Default 1500 ms. */
  ackTimeoutMs?: number;
  /**
   * Share of deliveries a worker drops without acking (a consumer that crashed mid-message),
   * so redelivery after ack_wait is exercised. Default 0.01.
   */
  dropProbability?: number;
  /** How long the end waits for leaders and current replicas. Default 30 s. */
  settleTimeoutMs?: number;
  /** How long the end waits for the workers to ack everything. Default 40 s. */
  drainTimeoutMs?: number;
  /**
   * Work queue only: how long the end waits, after the drain, for the stream to hold only what
   * the consumer has not acked (the removal follows the ack's commit). Default 10 s.
   */
  removalTimeoutMs?: number;
  /** Progress lines (nemesis schedule, summary). */
  log?: (line: string) => void;
}

/** What `runJepsen()` returns: the history and the final read, for `check()`. */
export interface JepsenRun {
  history: History;
  final: FinalRead;
}

/** The stream and the durable consumer a run creates. */
export const STREAM = 'JEPSEN';
export const DURABLE = 'workers';
const ms = (n: number): number => n * 1_000_000;

/** FNV-1a, to derive one generator per role from the seed. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
const streamOf = (seed: number, role: string): (() => number) => rng((seed ^ hash(role)) >>> 0);

const errText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** True if the request reached nobody (503 no responders), also when wrapped as a cause. */
function isNoResponders(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const f = (e as { isNoResponders?: () => boolean }).isNoResponders;
    if (typeof f === 'function' && f.call(e) === true) return true;
    if (e.name === 'NoRespondersError') return true;
  }
  return false;
}

function isTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e.name === 'TimeoutError' || /timeout/i.test(e.message)) return true;
  }
  return false;
}

/** Runs the workload and the nemesis, undoes every fault, drains the consumer and reads back. */
export async function runJepsen(opts: JepsenOptions): Promise<JepsenRun> {
  const { cluster, seed } = opts;
  const durationMs = opts.durationMs ?? (opts.operations === undefined ? 20_000 : undefined);
  const replicas = opts.replicas ?? 3;
  const retention = opts.retention ?? 'limits';
  const fetchPause = opts.fetchPauseMs ?? [0, 0];
  const publishers = opts.publishers ?? 3;
  const workers = opts.consumers ?? 2;
  const publishTimeoutMs = opts.publishTimeoutMs ?? 2000;
  const publishAttempts = opts.publishAttempts ?? 4;
  const publishPause = opts.publishPauseMs ?? [0, 20];
  const ackWaitMs = opts.ackWaitMs ?? 4000;
  const ackTimeoutMs = opts.ackTimeoutMs ?? 1500;
  const dropProbability = opts.dropProbability ?? 0.01;
  const settleTimeoutMs = opts.settleTimeoutMs ?? 30_000;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 40_000;
  const log = opts.log ?? ((): void => {});
  const t0 = performance.now();
  const now = (): number => performance.now() - t0;
  const stamp = (): string => `[${(now() / 1000).toFixed(2)}s]`;

  const history: History = {
    seed,
    options: {
      durationMs, operations: opts.operations, storage: opts.storage ?? 'file', retention, replicas, publishers, consumers: workers,
      nemesis: opts.nemesis ?? {}, publishTimeoutMs, publishAttempts, ackWaitMs, ackTimeoutMs, dropProbability, canPartition: cluster.partition !== undefined,
    },
    publishes: [], deliveries: [], acks: [], nemesis: [], events: [], workloadEndAt: 0, endAt: 0,
  };

  // Every sleep ends early when the run stops; every connection is closed at the end.
  const timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const sleep = (n: number): Promise<void> =>
    new Promise((resolve) => {
      const entry = { timer: setTimeout(() => { timers.delete(entry); resolve(); }, n), resolve };
      timers.add(entry);
    });
  const wakeAll = (): void => {
    for (const e of timers) {
      clearTimeout(e.timer);
      e.resolve();
    }
    timers.clear();
  };
  const connections: NatsConnection[] = [];
  const dial = async (random: () => number, name: string, role: 'publisher' | 'worker' | 'admin', index: number): Promise<NatsConnection> => {
    const first = Math.floor(random() * cluster.size);
    const servers = cluster.urls.map((_, i) => cluster.urls[(first + i) % cluster.size]!);
    const nc = await connect({ servers, noRandomize: true, name, reconnectTimeWait: 100, maxReconnectAttempts: -1, timeout: 5000, pingInterval: 2000 });
    connections.push(nc);
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect') history.events.push({ role, index, at: now(), event: `${s.type} ${'server' in s ? String(s.server) : ''}`.trim() });
      }
    })();
    return nc;
  };

  let workloadOver = false;
  let workersStop = false;
  // Set when the setup is done: the workload runs for durationMs from then.
  let deadline = Infinity;
  let issued = 0;
  const over = (): boolean => workloadOver || now() >= deadline || (opts.operations !== undefined && issued >= opts.operations);

  const runs: Array<Promise<unknown>> = [];
  try {
    // ---- Setup: the R3 stream and the durable consumer, once the cluster has leaders.
    const admin = await dial(streamOf(seed, 'admin'), 'jepsen-admin', 'admin', 0);
    history.options.serverVersion = admin.info?.version ?? '';
    const jsm = await retry(() => jetstreamManager(admin, { timeout: 5000 }), 'the JetStream API', settleTimeoutMs, sleep);
    const config: Partial<StreamConfig> & { name: string } = {
      name: STREAM, subjects: ['jepsen.>'], storage: (opts.storage ?? 'file') as StreamConfig['storage'], num_replicas: replicas,
      retention: retention as StreamConfig['retention'],
      // Longer than any run, so every retry of a publish is deduplicated.
      duplicate_window: ms(10 * 60_000),
    };
    await retry(() => jsm.streams.add(config), `stream ${STREAM}`, settleTimeoutMs, sleep, transient);
    await retry(
      () => jsm.consumers.add(STREAM, { durable_name: DURABLE, ack_policy: AckPolicy.Explicit, ack_wait: ms(ackWaitMs), max_deliver: -1 }),
      `consumer ${DURABLE}`, settleTimeoutMs, sleep, transient,
    );
    await settle(jsm, replicas, settleTimeoutMs, sleep, (l) => log(`${stamp()} ${l}`));
    log(`${stamp()} seed ${seed}: stream ${STREAM} (R${replicas}, ${opts.storage ?? 'file'}, ${retention}) and consumer ${DURABLE} ready on ${cluster.size} members`);

    // ---- Workload.
    if (durationMs !== undefined) deadline = now() + durationMs;
    const publisher = async (p: number): Promise<void> => {
      const random = streamOf(seed, `publisher-${p}`);
      const nc = await dial(random, `jepsen-pub-${p}`, 'publisher', p);
      const js = jetstream(nc, { timeout: publishTimeoutMs });
      const subject = `jepsen.p${p}`;
      for (let n = 0; !over(); n++) {
        issued++;
        const payload = randomPayload(random);
        const op: PublishOp = { process: p, id: `p${p}-${n}`, subject, payload, invokeAt: now(), outcome: 'pending', attempts: [] };
        history.publishes.push(op);
        for (let k = 0; k < publishAttempts && !(k > 0 && workloadOver); k++) {
          const at = now();
          try {
            const pa = await js.publish(subject, payload, { msgID: op.id, timeout: publishTimeoutMs, retries: 1 });
            op.attempts.push({ at, end: now(), result: 'ack', seq: pa.seq, duplicate: pa.duplicate });
            op.outcome = 'ok';
            op.seq = pa.seq;
            break;
          } catch (err) {
            const result: PublishAttempt['result'] = isNoResponders(err) ? 'no-responders' : isTimeout(err) ? 'timeout' : 'error';
            op.attempts.push({ at, end: now(), result, error: errText(err) });
            await sleep(50 + Math.floor(random() * 200));
          }
        }
        op.completeAt = now();
        if (op.outcome === 'pending') op.outcome = op.attempts.every((a) => a.result === 'no-responders') ? 'fail' : 'info';
        const [lo, hi] = publishPause;
        const pause = lo + Math.floor(random() * (hi - lo + 1));
        if (pause > 0) await sleep(pause);
      }
    };

    const worker = async (w: number): Promise<void> => {
      const random = streamOf(seed, `worker-${w}`);
      const nc = await dial(random, `jepsen-worker-${w}`, 'worker', w);
      const js = jetstream(nc, { timeout: 5000 });
      while (!workersStop) {
        let consumer;
        try {
          consumer = await js.consumers.get(STREAM, DURABLE);
        } catch (err) {
          history.events.push({ role: 'worker', index: w, at: now(), event: `consumers.get: ${errText(err)}` });
          await sleep(200);
          continue;
        }
        while (!workersStop) {
          try {
            const batch = await consumer.fetch({ max_messages: 16, expires: 1000 });
            // Acks go out as messages arrive, without waiting for each other: a delivery's time
            // is its arrival, and one slow ack does not hold back the next.
            const acking: Array<Promise<void>> = [];
            try {
              for await (const m of batch) {
                const d: Delivery = {
                  worker: w, id: m.headers?.get('Nats-Msg-Id') || undefined, seq: m.seq, deliveryCount: m.info.deliveryCount,
                  redelivered: m.redelivered, payload: m.string(), at: now(),
                };
                history.deliveries.push(d);
                if (random() < dropProbability) {
                  d.dropped = true;
                  continue;
                }
                const ack: AckOp = { worker: w, id: d.id, seq: d.seq, deliveryCount: d.deliveryCount, invokeAt: now(), outcome: 'pending' };
                history.acks.push(ack);
                acking.push(m.ackAck({ timeout: ackTimeoutMs }).then(
                  () => {
                    ack.outcome = 'ok';
                    ack.completeAt = now();
                  },
                  (err: unknown) => {
                    ack.outcome = isNoResponders(err) ? 'fail' : 'info';
                    ack.error = errText(err);
                    ack.completeAt = now();
                  },
                ));
              }
            } finally {
              await Promise.all(acking);
            }
            const [lo, hi] = fetchPause;
            const pause = lo + Math.floor(random() * (hi - lo + 1));
            if (pause > 0 && !workersStop) await sleep(pause);
          } catch (err) {
            history.events.push({ role: 'worker', index: w, at: now(), event: `fetch: ${errText(err)}` });
            await sleep(200);
            break;
          }
        }
      }
    };

    const planner = opts.nemesis === false ? null : new NemesisPlanner(cluster.size, opts.nemesis ?? {}, streamOf(seed, 'nemesis'), cluster.partition !== undefined);
    const stepdowns = opts.nemesis !== false && opts.nemesis?.stepdowns === true;
    const perform = async (action: NemesisAction, delayMs: number): Promise<boolean> => {
      // With stepdowns, each action notes who leads the stream and the consumer just before it.
      const leaders = stepdowns ? await sampleLeaders(admin) : undefined;
      const op: NemesisOp = { action, delayMs, invokeAt: now(), outcome: 'pending', ...(leaders === undefined ? {} : { leaders }) };
      history.nemesis.push(op);
      try {
        if (action.kind === 'kill') await cluster.kill(action.member);
        else if (action.kind === 'restart') await cluster.restart(action.member);
        else if (action.kind === 'partition') await cluster.partition!(...action.groups);
        else if (action.kind === 'heal') await cluster.heal!();
        else {
          // An API error (no leader: 10008, ...) or a timeout is an outcome, never a stop.
          const r = await stepDown(cluster.urls[action.via]!, action.kind === 'stream-stepdown' ? `$JS.API.STREAM.LEADER.STEPDOWN.${STREAM}` : `$JS.API.CONSUMER.LEADER.STEPDOWN.${STREAM}.${DURABLE}`);
          op.outcome = r.outcome;
          if (r.error !== undefined) op.error = r.error;
        }
        if (op.outcome === 'pending') op.outcome = 'ok';
      } catch (err) {
        op.outcome = 'fail';
        op.error = errText(err);
      }
      op.completeAt = now();
      log(`${stamp()} nemesis (after ${delayMs} ms) ${describe(action, cluster)}: ${op.outcome}${op.error === undefined ? '' : ` (${op.error})`} in ${(op.completeAt - op.invokeAt).toFixed(0)} ms`);
      return op.outcome === 'ok';
    };
    const nemesis = async (): Promise<void> => {
      if (planner === null) return;
      while (!over()) {
        const step = planner.next();
        if (step === null) return;
        await sleep(step.delayMs);
        if (over()) return;
        planner.done(step, await perform(step.action, step.delayMs));
      }
    };

    // A client that cannot even connect is an event of the history (its absence shows in the check).
    const guard = (role: 'publisher' | 'worker', index: number, run: Promise<void>): Promise<void> =>
      run.catch((err: unknown) => void history.events.push({ role, index, at: now(), event: `failed: ${errText(err)}` }));
    const workerRuns = [...Array(workers).keys()].map((w) => guard('worker', w, worker(w)));
    const publisherRuns = [...Array(publishers).keys()].map((p) => guard('publisher', p, publisher(p)));
    const nemesisRun = nemesis();
    runs.push(...workerRuns, ...publisherRuns, nemesisRun);
    // The deadline ends the workload even while a publisher waits on a long retry.
    const stopAtDeadline = durationMs === undefined ? undefined : setTimeout(() => { workloadOver = true; }, durationMs);
    await Promise.all(publisherRuns);
    workloadOver = true;
    if (stopAtDeadline !== undefined) clearTimeout(stopAtDeadline);
    wakeAll();
    await nemesisRun;
    history.workloadEndAt = now();

    // ---- Undo every fault, wait for leaders, let the workers ack everything.
    for (const action of planner?.recovery() ?? []) await perform(action, 0);
    await settle(jsm, replicas, settleTimeoutMs, sleep, (l) => log(`${stamp()} ${l}`));
    const drainDeadline = now() + drainTimeoutMs;
    let drained = false;
    while (now() < drainDeadline) {
      const ci = await jsm.consumers.info(STREAM, DURABLE).catch(() => null);
      if (ci !== null && ci.num_pending === 0 && ci.num_ack_pending === 0) {
        drained = true;
        break;
      }
      await sleep(250);
    }
    workersStop = true;
    await Promise.all(workerRuns);
    if (!drained) log(`${stamp()} the consumer was not drained within ${drainTimeoutMs} ms`);

    // ---- Work queue: the removals follow the acks' commits; wait until the stream holds only
    // what the consumer still has to deliver or see acked (num_pending + num_ack_pending).
    if (retention === 'workqueue') {
      const removalDeadline = now() + (opts.removalTimeoutMs ?? 10_000);
      let left = '';
      while (now() < removalDeadline) {
        const [si, ci] = await Promise.all([jsm.streams.info(STREAM).catch(() => null), jsm.consumers.info(STREAM, DURABLE).catch(() => null)]);
        if (si !== null && ci !== null) {
          if (si.state.messages === ci.num_pending + ci.num_ack_pending) {
            left = '';
            break;
          }
          left = `the stream holds ${si.state.messages} messages, the consumer has ${ci.num_pending} pending and ${ci.num_ack_pending} unacked`;
        }
        await sleep(250);
      }
      if (left !== '') log(`${stamp()} removals not settled within ${opts.removalTimeoutMs ?? 10_000} ms: ${left}`);
    }

    // ---- Read back.
    const final = await readBack(jsm, settleTimeoutMs, sleep);
    history.endAt = now();
    log(`${stamp()} seed ${seed}: ${describeHistory(history)}; stream ${final.state.messages} messages, consumer ${JSON.stringify(final.consumer)}`);
    return { history, final };
  } finally {
    workloadOver = true;
    workersStop = true;
    wakeAll();
    await Promise.all(connections.map((nc) => nc.close().catch(() => {})));
    // On an early exit (a throw), the clients stop once their connections are closed.
    await Promise.allSettled(runs);
    wakeAll();
  }
}

function randomPayload(random: () => number): string {
  const n = 4 + Math.floor(random() * 29);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + Math.floor(random() * 26));
  return s;
}

/** A stepdown request through the member at `url` (its own connection, closed at once). */
async function stepDown(url: string, subject: string): Promise<{ outcome: 'ok' | 'fail' | 'info'; error?: string }> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers: [url], reconnect: false, timeout: 2000 });
    const m = await nc.request(subject, '', { timeout: 2000 });
    const r = m.json<{ success?: boolean; error?: { code: number; err_code: number; description: string } }>();
    if (r.error !== undefined) return { outcome: 'fail', error: `${r.error.err_code}: ${r.error.description}` };
    return r.success === true ? { outcome: 'ok' } : { outcome: 'fail', error: `unexpected answer ${m.string()}` };
  } catch (err) {
    return { outcome: isNoResponders(err) ? 'fail' : 'info', error: errText(err) };
  } finally {
    await nc?.close().catch(() => {});
  }
}

/** Who leads the stream and the durable consumer now (from whichever member the admin reaches; '' unknown). */
async function sampleLeaders(admin: NatsConnection): Promise<LeaderSample> {
  type Info = { cluster?: { leader?: string }; delivered?: { stream_seq: number }; ack_floor?: { stream_seq: number } };
  const info = (subject: string): Promise<Info | null> =>
    admin.request(subject, '', { timeout: 1000 }).then((m) => m.json<Info>(), () => null);
  const [si, ci] = await Promise.all([info(`$JS.API.STREAM.INFO.${STREAM}`), info(`$JS.API.CONSUMER.INFO.${STREAM}.${DURABLE}`)]);
  const sample: LeaderSample = { stream: si?.cluster?.leader ?? '', consumer: ci?.cluster?.leader ?? '' };
  if (ci?.delivered !== undefined && ci.ack_floor !== undefined) {
    sample.delivered = ci.delivered.stream_seq;
    sample.ackFloor = ci.ack_floor.stream_seq;
  }
  return sample;
}

function describe(action: NemesisAction, cluster: ClusterUnderTest): string {
  switch (action.kind) {
    case 'kill':
      return `kill ${action.member} (${cluster.serverName(action.member)})`;
    case 'restart':
      return `restart ${action.member} (${cluster.serverName(action.member)})`;
    case 'partition':
      return `partition ${action.groups.map((g) => `[${g.join(',')}]`).join(' | ')}`;
    case 'heal':
      return 'heal';
    case 'stream-stepdown':
    case 'consumer-stepdown':
      return `${action.kind} via ${action.via} (${cluster.serverName(action.via)})`;
  }
}

/** Counts for the report: publishes by outcome, deliveries, redeliveries, acks by outcome, faults. */
export function describeHistory(h: History): string {
  const count = <T>(xs: readonly T[], f: (x: T) => boolean): number => xs.filter(f).length;
  return [
    `${h.publishes.length} publishes (${count(h.publishes, (p) => p.outcome === 'ok')} ok, ${count(h.publishes, (p) => p.outcome === 'info')} indeterminate, ${count(h.publishes, (p) => p.outcome === 'fail')} failed, ${count(h.publishes, (p) => p.attempts.length > 1)} retried)`,
    `${h.deliveries.length} deliveries (${count(h.deliveries, (d) => d.redelivered)} redelivered, ${count(h.deliveries, (d) => d.dropped === true)} dropped unacked)`,
    `${h.acks.length} acks (${count(h.acks, (a) => a.outcome === 'ok')} confirmed)`,
    describeNemesis(h),
    `${count(h.events, (e) => e.event.startsWith('reconnect'))} reconnects`,
  ].join(', ');
}

/**
 * The nemesis actions by kind and how many failed, and (runs with stepdowns) how often the
 * consumer was led off its stream's leader: `7 faults (2 kill, 1 restart, 2 consumer-stepdown; 0 failed), consumer led ...`.
 */
export function describeNemesis(h: History): string {
  const failed = h.nemesis.filter((n) => n.outcome === 'fail').length;
  const faults = `${h.nemesis.length} faults (${describeFaults(h)}; ${failed} failed)`;
  return h.nemesis.some((n) => n.leaders !== undefined) ? `${faults}, ${describeLeaders(h)}` : faults;
}

/** Nemesis actions by kind, in a fixed order: `3 kill, 3 restart, 1 partition, 1 heal, 2 consumer-stepdown`. */
function describeFaults(h: History): string {
  const kinds: Array<NemesisAction['kind']> = ['kill', 'restart', 'partition', 'heal', 'stream-stepdown', 'consumer-stepdown'];
  const parts = kinds.map((k) => [k, h.nemesis.filter((n) => n.action.kind === k).length] as const).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** How often the consumer was led by another member than its stream, over the samples taken before each nemesis action. */
function describeLeaders(h: History): string {
  const samples = h.nemesis.flatMap((n) => (n.leaders === undefined ? [] : [n.leaders]));
  const both = samples.filter((l) => l.stream !== '' && l.consumer !== '');
  const apart = both.filter((l) => l.stream !== l.consumer).length;
  // Not an anomaly (a sample may come from a deposed leader still answering), but worth seeing.
  let floorBack = 0;
  let floor = 0;
  for (const l of samples) {
    if (l.ackFloor === undefined) continue;
    if (l.ackFloor < floor) floorBack++;
    floor = Math.max(floor, l.ackFloor);
  }
  return `consumer led off the stream leader at ${apart} of ${both.length} leader samples (${samples.length - both.length} without both leaders; sampled ack floor went back ${floorBack} times)`;
}

/**
 * Whether a JetStream API call may succeed if repeated: anything but an API error, an API error
 * with status 503 ("JetStream system temporarily unavailable", "insufficient resources" while
 * the cluster elects its leaders), or 10005 "no suitable peers for placement" (a new meta
 * leader that has not heard from every peer yet). Other API errors are answers.
 */
export function transient(err: unknown): boolean {
  const api = err as { code?: unknown; status?: unknown };
  if (!(err instanceof Error && typeof api.code === 'number' && typeof api.status === 'number')) return true;
  return api.status === 503 || api.code === 10005;
}

async function retry<T>(f: () => Promise<T>, what: string, timeoutMs: number, sleep: (n: number) => Promise<void>, retryable: (err: unknown) => boolean = () => true): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return await f();
    } catch (err) {
      if (performance.now() > deadline || !retryable(err)) throw new Error(`${what}: ${errText(err)}${retryable(err) ? ` (for ${timeoutMs} ms)` : ''}`, { cause: err });
      await sleep(200);
    }
  }
}

/**
 * Waits until the stream and the consumer have a leader and every replica is current. A
 * replica that stays behind past `timeoutMs` is logged, not fatal (nats-server 2.9 can leave a
 * follower at "lag 1" for a long time): what the end reads comes from the leaders, which must be
 * there within a second `timeoutMs`.
 */
async function settle(jsm: JetStreamManager, replicas: number, timeoutMs: number, sleep: (n: number) => Promise<void>, log: (line: string) => void): Promise<void> {
  type Group = { leader?: string; replicas?: Array<{ current: boolean; offline?: boolean }> } | undefined;
  const led = (c: Group): boolean => replicas <= 1 || (c?.leader !== undefined && c.leader !== '');
  const current = (c: Group): boolean => replicas <= 1 || ((c?.replicas ?? []).length === replicas - 1 && (c?.replicas ?? []).every((r) => r.current && r.offline !== true));
  const probe = (want: (c: Group) => boolean) => async (): Promise<void> => {
    const si = await jsm.streams.info(STREAM);
    const ci = await jsm.consumers.info(STREAM, DURABLE);
    if (!want(si.cluster) || !want(ci.cluster)) throw new Error(`not settled: stream ${JSON.stringify(si.cluster)}, consumer ${JSON.stringify(ci.cluster)}`);
  };
  try {
    await retry(probe((c) => led(c) && current(c)), 'leaders and current replicas', timeoutMs, sleep);
  } catch (err) {
    log(`replicas not all current after ${timeoutMs} ms, going on with the leaders: ${errText(err)}`);
    await retry(probe(led), 'leaders', timeoutMs, sleep);
  }
}

/**
 * Every message of the stream (STREAM.MSG.GET from the leader) and the consumer's state. A
 * sequence that is gone reads as nothing (work queue: removed). If the stream state changed
 * while the messages were read (a late removal), the read starts over, up to three times.
 */
async function readBack(jsm: JetStreamManager, timeoutMs: number, sleep: (n: number) => Promise<void>): Promise<FinalRead> {
  for (let attempt = 1; ; attempt++) {
    const read = await readOnce(jsm, timeoutMs, sleep);
    const si = await retry(() => jsm.streams.info(STREAM), 'stream info', timeoutMs, sleep);
    const { state } = read;
    if (attempt >= 3 || (si.state.first_seq === state.firstSeq && si.state.last_seq === state.lastSeq && si.state.messages === state.messages)) return read;
    await sleep(500);
  }
}

async function readOnce(jsm: JetStreamManager, timeoutMs: number, sleep: (n: number) => Promise<void>): Promise<FinalRead> {
  const si = await retry(() => jsm.streams.info(STREAM), 'stream info', timeoutMs, sleep);
  const state = { firstSeq: si.state.first_seq, lastSeq: si.state.last_seq, messages: si.state.messages };
  const messages: StoredMessage[] = [];
  const seqs: number[] = [];
  if (state.messages > 0) for (let s = state.firstSeq; s <= state.lastSeq; s++) seqs.push(s);
  const got = new Map<number, StoredMessage>();
  for (let i = 0; i < seqs.length; i += 64) {
    await Promise.all(seqs.slice(i, i + 64).map(async (seq) => {
      const m = await retry(() => jsm.streams.getMessage(STREAM, { seq }), `message ${seq}`, timeoutMs, sleep);
      if (m !== null) got.set(seq, { seq: m.seq, subject: m.subject, id: m.header.get('Nats-Msg-Id') || undefined, payload: m.string() });
    }));
  }
  for (const s of seqs) if (got.has(s)) messages.push(got.get(s)!);
  const ci = await retry(() => jsm.consumers.info(STREAM, DURABLE), 'consumer info', timeoutMs, sleep).catch(() => null);
  const consumer: ConsumerFinalState | null = ci === null ? null : {
    deliveredStreamSeq: ci.delivered.stream_seq, ackFloorStreamSeq: ci.ack_floor.stream_seq, numPending: ci.num_pending, numAckPending: ci.num_ack_pending,
  };
  return { state, messages, consumer };
}

/** A checked run: the run, its anomalies and a printable report (counts, nemesis log, first anomalies). */
export interface CheckedRun extends JepsenRun {
  anomalies: Anomaly[];
  report: string;
}

/** `runJepsen()` then `check()`, with the report a failing test prints (seed first, to replay it). */
export async function runAndCheck(opts: JepsenOptions): Promise<CheckedRun> {
  const lines: string[] = [];
  const run = await runJepsen({ ...opts, log: (l) => { lines.push(l); opts.log?.(l); } });
  const anomalies = check(run.history, run.final);
  const report = [
    `seed ${opts.seed}: ${describeHistory(run.history)}; ${summarize(anomalies)}`,
    ...lines,
    ...anomalies.slice(0, 30).map((a) => `  ${a.kind}: ${a.message}`),
    ...(anomalies.length > 30 ? [`  ... and ${anomalies.length - 30} more`] : []),
  ].join('\n');
  return { ...run, anomalies, report };
}

/** The most members down at once during the run (from the nemesis ops that succeeded). */
export function maxDown(history: History): number {
  const down = new Set<number>();
  let max = 0;
  for (const op of history.nemesis) {
    if (op.outcome !== 'ok') continue;
    if (op.action.kind === 'kill') down.add(op.action.member);
    else if (op.action.kind === 'restart') down.delete(op.action.member);
    max = Math.max(max, down.size);
  }
  return max;
}

/**
 * Anomaly kinds the reference server is known to show at `version` (its INFO `version`), which
 * a test against it may tolerate: before 2.10.16 a clustered consumer answered a double ack when
 * it proposed the ack, not once its Raft group had committed it, so losing the consumer leader
 * right after could redeliver a message whose ack was confirmed (nats-server#5419, "Fix acked
 * messages being sometimes redelivered during rollouts"; 2.10.16+ answers from updateAcks once
 * applied). The embedded cluster follows 2.10: nothing is tolerated there.
 */
export function knownServerAnomalies(version: string): AnomalyKind[] {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (m === null) return [];
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const before21016 = major < 2 || (major === 2 && (minor < 10 || (minor === 10 && patch < 16)));
  return before21016 ? ['redelivered-after-ack'] : [];
}
