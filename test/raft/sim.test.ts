/**
 * The Raft core under a nemesis (test/raft/sim.ts): fast-check draws the cluster size, the
 * network's loss, duplication and delay, the proposal rate and a schedule of crashes, restarts,
 * partitions, heals, membership changes, stepdowns and compactions. Safety is checked at every
 * step; after the schedule, liveness (a leader within 10 election timeouts of healing, every
 * acknowledged proposal applied on every live member).
 *
 * `npm test` runs a short, fixed-seed batch (40 schedules of 600 steps). `npm run test:chaos`
 * runs 40 × JS_CHAOS_ROUNDS schedules of 1200 steps from a fresh seed, printed so that a failure
 * can be replayed with RAFT_SIM_SEED (RAFT_SIM_RUNS and RAFT_SIM_STEPS override the sizes).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Simulator, type NemesisKind, type NemesisOp, type SimOptions } from './sim.js';

// `npm run test:chaos` sets JS_CHAOS_ROUNDS: 40 schedules per round, twice as long, a fresh seed.
const CHAOS = Number(process.env.JS_CHAOS_ROUNDS ?? 0);
const RUNS = Number(process.env.RAFT_SIM_RUNS ?? (CHAOS > 0 ? 40 * CHAOS : 40));
const STEPS = Number(process.env.RAFT_SIM_STEPS ?? (CHAOS > 0 ? 1200 : 600));
const SEED = process.env.RAFT_SIM_SEED !== undefined ? Number(process.env.RAFT_SIM_SEED) : RUNS > 40 ? Date.now() % 2 ** 31 : 20261130;

const KINDS: NemesisKind[] = ['crash', 'crash', 'restart', 'restart', 'bounce', 'bounce', 'partition', 'heal', 'add', 'remove', 'reconfigure', 'stepdown', 'compact', 'compact', 'compact'];

const op: fc.Arbitrary<NemesisOp> = fc.record({
  step: fc.integer({ min: 1, max: STEPS }),
  kind: fc.constantFrom(...KINDS),
  node: fc.nat(15),
  split: fc.nat(255),
});

const scenario: fc.Arbitrary<SimOptions> = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  size: fc.constantFrom(3, 5),
  lossRate: fc.constantFrom(0, 0.05, 0.2, 0.4),
  dupRate: fc.constantFrom(0, 0.05, 0.2),
  maxDelay: fc.constantFrom(0, 10, 40, 120),
  proposeRate: fc.constantFrom(0.1, 0.3, 0.8),
  ops: fc.array(op, { maxLength: 60 }),
  churn: fc.constantFrom(0, 0.003, 0.01),
  maxEntriesPerAppend: fc.constantFrom(1, 3, 64),
  targetedCrash: fc.constantFrom(0, 0.2, 0.5),
});

/** Runs one scenario to the end and settles it; throws a SafetyViolation on any breach. */
export function runScenario(o: SimOptions, steps = STEPS): Simulator {
  const sim = new Simulator(o);
  for (let i = 0; i < steps; i++) sim.step();
  sim.settle(10);
  return sim;
}

describe('raft simulator', () => {
  it(`keeps safety and recovers liveness over ${RUNS} schedules of ${STEPS} steps (seed ${SEED})`, () => {
    const totals = { runs: 0, proposals: 0, acked: 0, elections: 0, crashes: 0, snapshots: 0, configChanges: 0, messages: 0, dropped: 0, worstLeaderMs: 0 };
    fc.assert(
      fc.property(scenario, (o) => {
        const sim = runScenario(o);
        totals.runs++;
        totals.acked += sim.acked.size;
        totals.worstLeaderMs = Math.max(totals.worstLeaderMs, sim.lastSettle.leaderAfterMs);
        for (const k of ['proposals', 'elections', 'crashes', 'snapshots', 'configChanges', 'messages', 'dropped'] as const) totals[k] += sim.stats[k];
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: RUNS > 100 },
    );
    console.log(`raft sim (seed ${SEED}): ${JSON.stringify(totals)}`);
    // The schedules exercised what they are for.
    expect(totals.acked).toBeGreaterThan(RUNS * 5);
    expect(totals.crashes).toBeGreaterThan(0);
    expect(totals.snapshots).toBeGreaterThan(0);
    expect(totals.configChanges).toBeGreaterThan(0);
  }, 30_000 + RUNS * (STEPS / 600) * 60);
});
