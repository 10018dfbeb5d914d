/**
 * The nemesis planner: a seed gives the same schedule, the default schedule always leaves a
 * quorum running on the majority side, the majority-loss phase loses a majority once and
 * recovers, partitions only when the cluster can, moves leaders only with `stepdowns`, and
 * `recovery()` undoes every fault; the report counts the actions by kind; and the reference
 * server's known anomalies by version, and which setup errors are retried.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../helpers/chaos.js';
import { JetStreamApiError } from '@nats-io/jetstream';
import { describeHistory, knownServerAnomalies, transient } from './jepsen.js';
import type { History, NemesisAction, NemesisOp } from './history.js';
import { NemesisPlanner, type NemesisOptions, type NemesisStep } from './nemesis.js';

/** Plans `n` steps, each succeeding unless `fails` says otherwise. */
function plan(seed: number, opts: NemesisOptions, n: number, canPartition = true, size = 3, fails = (_i: number): boolean => false): { steps: NemesisStep[]; planner: NemesisPlanner; available: number[] } {
  const planner = new NemesisPlanner(size, opts, rng(seed), canPartition);
  const steps: NemesisStep[] = [];
  const available: number[] = [];
  for (let i = 0; i < n; i++) {
    const step = planner.next();
    if (step === null) break;
    steps.push(step);
    planner.done(step, !fails(i));
    available.push([...Array(size).keys()].filter((m) => !planner.down.has(m) && !(planner.minority?.has(m) ?? false)).length);
  }
  return { steps, planner, available };
}

describe('nemesis planner', () => {
  it('replays the same schedule from the same seed, and another from another seed', () => {
    expect(plan(7, {}, 50).steps).toEqual(plan(7, {}, 50).steps);
    expect(plan(7, {}, 50).steps).not.toEqual(plan(8, {}, 50).steps);
  });

  it('keeps a quorum available by default, and uses every kind of fault', () => {
    for (const size of [3, 5]) {
      for (let seed = 1; seed <= 20; seed++) {
        const { steps, available } = plan(seed, {}, 60, true, size, (i) => i % 7 === 3);
        expect(Math.min(...available), `size ${size} seed ${seed}`).toBeGreaterThanOrEqual(Math.floor(size / 2) + 1);
        for (const s of steps) {
          if (s.action.kind === 'partition') {
            expect(s.action.groups[0]!.length).toBeLessThanOrEqual(Math.floor((size - 1) / 2));
            expect([...s.action.groups[0]!, ...s.action.groups[1]!].sort()).toEqual([...Array(size).keys()]);
          }
          expect(s.delayMs).toBeGreaterThanOrEqual(1500);
          expect(s.delayMs).toBeLessThanOrEqual(4000);
        }
      }
    }
    const kinds = new Set(plan(3, {}, 60).steps.map((s) => s.action.kind));
    expect([...kinds].sort()).toEqual(['heal', 'kill', 'partition', 'restart']);
  });

  it('never partitions a cluster that cannot be partitioned, nor restarts when told not to', () => {
    const kinds = new Set(plan(3, {}, 60, false).steps.map((s) => s.action.kind));
    expect([...kinds].sort()).toEqual(['kill', 'restart']);
    const noRestart = plan(3, { restart: false, partition: false }, 60);
    expect(noRestart.steps.map((s) => s.action.kind)).toEqual(['kill']);
  });

  it('moves the stream and consumer leaders only with stepdowns, through a member on the majority side, leaving the other choices as they were', () => {
    const stepdown = (k: string): boolean => k === 'stream-stepdown' || k === 'consumer-stepdown';
    for (let seed = 1; seed <= 20; seed++) {
      for (const opts of [{}, { stepdowns: false }, { majorityLoss: true }] satisfies NemesisOptions[]) {
        expect(plan(seed, opts, 60).steps.filter((s) => stepdown(s.action.kind)), `seed ${seed} ${JSON.stringify(opts)}`).toEqual([]);
      }
    }
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) {
      const planner = new NemesisPlanner(3, { stepdowns: true }, rng(seed), true);
      for (let i = 0; i < 60; i++) {
        const step = planner.next()!;
        kinds.add(step.action.kind);
        if (step.action.kind === 'stream-stepdown' || step.action.kind === 'consumer-stepdown') {
          const via = step.action.via;
          expect(planner.down.has(via) || (planner.minority?.has(via) ?? false), `seed ${seed} step ${i}`).toBe(false);
          const before = { down: [...planner.down], minority: planner.minority };
          planner.done(step, true);
          // A stepdown changes no fault in force.
          expect({ down: [...planner.down], minority: planner.minority }).toEqual(before);
        } else {
          planner.done(step, i % 7 !== 3);
        }
      }
    }
    expect([...kinds].sort()).toEqual(['consumer-stepdown', 'heal', 'kill', 'partition', 'restart', 'stream-stepdown']);
    // Still deterministic per seed, and with a majority loss the quorum faults still happen.
    expect(plan(9, { stepdowns: true }, 50).steps).toEqual(plan(9, { stepdowns: true }, 50).steps);
    const withLoss = plan(5, { stepdowns: true, majorityLoss: { holdMs: 1234 }, partition: false }, 40);
    expect(Math.min(...withLoss.available)).toBeLessThan(2);
    expect(withLoss.steps.some((s) => stepdown(s.action.kind))).toBe(true);
  });

  it('loses a majority once for holdMs, then recovers every member', () => {
    const { steps, available, planner } = plan(5, { majorityLoss: { holdMs: 1234 }, partition: false }, 40);
    const lowest = available.indexOf(Math.min(...available));
    expect(available[lowest]).toBeLessThan(2);
    expect(steps[lowest + 1]).toMatchObject({ delayMs: 1234, action: { kind: 'restart' } });
    const back = available.findIndex((a, i) => i > lowest && a === 3);
    expect(back).toBeGreaterThan(lowest);
    expect(Math.min(...available.slice(back))).toBeGreaterThanOrEqual(2);
    expect(planner.quorum).toBe(2);
  });

  it('recovery() heals and restarts whatever is down', () => {
    const planner = new NemesisPlanner(3, {}, rng(1), true);
    planner.done({ delayMs: 0, action: { kind: 'kill', member: 2 } }, true);
    planner.done({ delayMs: 0, action: { kind: 'partition', groups: [[0], [1, 2]] } }, true);
    planner.done({ delayMs: 0, action: { kind: 'kill', member: 1 } }, false);
    expect(planner.recovery()).toEqual([{ kind: 'heal' }, { kind: 'restart', member: 2 }]);
  });
});

describe('the report of the nemesis', () => {
  const history = (nemesis: NemesisOp[]): History => ({ seed: 1, options: {}, publishes: [], deliveries: [], acks: [], nemesis, events: [], workloadEndAt: 0, endAt: 0 });
  const op = (action: NemesisAction, outcome: NemesisOp['outcome'] = 'ok', leaders?: NemesisOp['leaders']): NemesisOp => ({ action, delayMs: 0, invokeAt: 0, outcome, ...(leaders === undefined ? {} : { leaders }) });

  it('counts the actions by kind, stepdowns included, and how often the consumer was led off the stream leader', () => {
    const before = describeHistory(history([op({ kind: 'kill', member: 1 }), op({ kind: 'restart', member: 1 }), op({ kind: 'partition', groups: [[0], [1, 2]] }), op({ kind: 'heal' })]));
    expect(before).toContain('4 faults (1 kill, 1 restart, 1 partition, 1 heal; 0 failed)');
    expect(before).not.toContain('led off');
    const h = history([
      op({ kind: 'consumer-stepdown', via: 0 }, 'ok', { stream: 'a', consumer: 'a', delivered: 10, ackFloor: 8 }),
      op({ kind: 'stream-stepdown', via: 2 }, 'ok', { stream: 'a', consumer: 'b', delivered: 20, ackFloor: 15 }),
      op({ kind: 'kill', member: 1 }, 'ok', { stream: 'c', consumer: 'b', delivered: 30, ackFloor: 12 }),
      op({ kind: 'consumer-stepdown', via: 2 }, 'fail', { stream: 'c', consumer: '' }),
    ]);
    expect(describeHistory(h)).toContain(
      '4 faults (1 kill, 1 stream-stepdown, 2 consumer-stepdown; 1 failed), consumer led off the stream leader at 2 of 3 leader samples (1 without both leaders; sampled ack floor went back 1 times)',
    );
  });
});

describe('known anomalies of the reference server', () => {
  it('tolerates confirmed acks redelivered only before nats-server 2.10.16 (nats-server#5419)', () => {
    expect(knownServerAnomalies('2.9.10')).toEqual(['redelivered-after-ack']);
    expect(knownServerAnomalies('2.10.15')).toEqual(['redelivered-after-ack']);
    expect(knownServerAnomalies('2.10.16')).toEqual([]);
    expect(knownServerAnomalies('2.10.29')).toEqual([]);
    expect(knownServerAnomalies('2.11.0')).toEqual([]);
    expect(knownServerAnomalies('')).toEqual([]);
  });
});

describe('setup retries', () => {
  it('retries what the cluster answers while it forms, not other API errors', () => {
    const api = (code: number, err_code: number): JetStreamApiError => new JetStreamApiError({ code, err_code, description: 'x' });
    expect(transient(new Error('TimeoutError: timeout'))).toBe(true);
    expect(transient(api(503, 10008))).toBe(true); // JetStream system temporarily unavailable
    expect(transient(api(400, 10005))).toBe(true); // no suitable peers for placement
    expect(transient(api(500, 10074))).toBe(false); // replicas > 1 not supported in non-clustered mode
    expect(transient(api(400, 10058))).toBe(false); // stream name already in use with a different configuration
  });
});
