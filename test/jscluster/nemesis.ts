/**
 * The nemesis schedule: which fault comes next and after how long, drawn from a seeded
 * generator and the faults in force (never from timing), so a seed replays the same schedule.
 *
 * By default the nemesis keeps a quorum: at any time a majority of members is running and on
 * the majority side of any partition. With `majorityLoss`, once in the run (after a seeded
 * number of actions) it kills members until a majority is down, waits `holdMs`, and restarts
 * them; afterwards it goes back to minority faults.
 *
 * With `stepdowns`, the minority faults also include leadership moves: `stream-stepdown` and
 * `consumer-stepdown` (STREAM / CONSUMER.LEADER.STEPDOWN through a member on the majority side),
 * so the durable consumer is often led by another member than its stream. Without it, no random
 * draw changes: a seed plans what it planned before the option existed.
 */
import type { NemesisAction } from './history.js';

export interface NemesisOptions {
  /** Crash members. Default true. */
  kill?: boolean;
  /** Restart crashed members (else they stay down until the end). Default true. */
  restart?: boolean;
  /** Partition the cluster into a majority and a minority, and heal (only if the cluster can). Default true. */
  partition?: boolean;
  /** Pause between actions: uniform in [min, max] ms. Default [1500, 4000] (nats-server needs 4–9 s for an election). */
  intervalMs?: readonly [number, number];
  /** Once in the run, lose a majority for `holdMs` (default 3000 ms), then recover. Default off. */
  majorityLoss?: boolean | { holdMs?: number };
  /** Also move the stream's and the durable consumer's leaders (`stream-stepdown`, `consumer-stepdown`). Default false. */
  stepdowns?: boolean;
}

/** One planned step: wait `delayMs`, then do `action`. */
export interface NemesisStep {
  delayMs: number;
  action: NemesisAction;
}

type Phase = { kind: 'normal'; untilMajorityLoss: number } | { kind: 'losing' } | { kind: 'holding' } | { kind: 'recovering' } | { kind: 'done' };

/** Plans nemesis steps for a cluster of `size` members. Call `next()`, perform, then `done(step, ok)`. */
export class NemesisPlanner {
  /** Members currently killed. */
  readonly down = new Set<number>();
  /** The minority side while partitioned, else null. */
  minority: ReadonlySet<number> | null = null;
  private phase: Phase;
  private readonly kill: boolean;
  private readonly restart: boolean;
  private readonly partition: boolean;
  private readonly stepdowns: boolean;
  private readonly interval: readonly [number, number];
  private readonly holdMs: number;

  constructor(
    readonly size: number,
    opts: NemesisOptions,
    private readonly random: () => number,
    canPartition: boolean,
  ) {
    this.kill = opts.kill ?? true;
    this.restart = opts.restart ?? true;
    this.partition = (opts.partition ?? true) && canPartition;
    this.stepdowns = opts.stepdowns ?? false;
    this.interval = opts.intervalMs ?? [1500, 4000];
    const ml = opts.majorityLoss ?? false;
    this.holdMs = typeof ml === 'object' ? (ml.holdMs ?? 3000) : 3000;
    this.phase = ml === false || !this.kill ? { kind: 'done' } : { kind: 'normal', untilMajorityLoss: 1 + this.int(3) };
  }

  /** Members a quorum needs. */
  get quorum(): number {
    return Math.floor(this.size / 2) + 1;
  }

  /** The next step, or null when no fault can be injected or undone. */
  next(): NemesisStep | null {
    const action = this.choose();
    if (action === null) return null;
    let delayMs = this.delay();
    if (this.phase.kind === 'holding' && action.kind === 'restart') {
      delayMs = this.holdMs;
      this.phase = { kind: 'recovering' };
    }
    return { delayMs, action };
  }

  /** Records the outcome of a step: the planner's view changes only if it succeeded. */
  done(step: NemesisStep, ok: boolean): void {
    if (!ok) return;
    const a = step.action;
    if (a.kind === 'kill') this.down.add(a.member);
    else if (a.kind === 'restart') this.down.delete(a.member);
    else if (a.kind === 'partition') this.minority = new Set(a.groups[0]);
    else if (a.kind === 'heal') this.minority = null;
    if (this.phase.kind === 'normal') this.phase.untilMajorityLoss--;
    if (this.phase.kind === 'losing' && this.size - this.down.size < this.quorum) this.phase = { kind: 'holding' };
    if (this.phase.kind === 'recovering' && this.down.size === 0) this.phase = { kind: 'done' };
  }

  /** The steps that undo every fault in force (heal first, then restarts), for the end of a run. */
  recovery(): NemesisAction[] {
    const out: NemesisAction[] = [];
    if (this.minority !== null) out.push({ kind: 'heal' });
    for (const m of [...this.down].sort((a, b) => a - b)) out.push({ kind: 'restart', member: m });
    return out;
  }

  private choose(): NemesisAction | null {
    const running = [...Array(this.size).keys()].filter((i) => !this.down.has(i));
    const downs = [...this.down].sort((a, b) => a - b);
    switch (this.phase.kind) {
      case 'normal':
        if (this.phase.untilMajorityLoss <= 0) {
          if (this.minority !== null) return { kind: 'heal' };
          this.phase = { kind: 'losing' };
          return this.choose();
        }
        break;
      case 'losing':
        return { kind: 'kill', member: this.pick(running) };
      case 'holding':
      case 'recovering':
        return { kind: 'restart', member: this.pick(downs) };
      case 'done':
        break;
    }
    // Minority faults: weighted choice among what keeps a quorum.
    const options: Array<{ weight: number; make: () => NemesisAction }> = [];
    const available = (i: number): boolean => !this.down.has(i) && (this.minority === null || !this.minority.has(i));
    if (this.kill) {
      const victims = running.filter((i) => running.filter((j) => j !== i && available(j)).length >= this.quorum);
      if (victims.length > 0) options.push({ weight: 2, make: () => ({ kind: 'kill', member: this.pick(victims) }) });
    }
    if (this.restart && downs.length > 0) options.push({ weight: 3, make: () => ({ kind: 'restart', member: this.pick(downs) }) });
    if (this.partition && this.minority !== null) options.push({ weight: 3, make: () => ({ kind: 'heal' }) });
    if (this.partition && this.minority === null) {
      const maxMinority = Math.floor((this.size - 1) / 2);
      options.push({
        weight: 2,
        make: () => {
          // A minority of 1..maxMinority members, never cutting off so many running members
          // that the majority side has no quorum (down members may fill the minority).
          const want = 1 + this.int(maxMinority);
          let majorityRunning = running.length;
          const minority: number[] = [];
          for (const i of this.shuffle([...Array(this.size).keys()])) {
            if (minority.length === want) break;
            if (this.down.has(i)) minority.push(i);
            else if (majorityRunning - 1 >= this.quorum) {
              minority.push(i);
              majorityRunning--;
            }
          }
          const majority = [...Array(this.size).keys()].filter((i) => !minority.includes(i));
          return { kind: 'partition', groups: [minority.sort((a, b) => a - b), majority] };
        },
      });
    }
    if (this.stepdowns) {
      // Through a member that reaches the leaders (running, on the majority side).
      const vias = running.filter(available);
      if (vias.length > 0) {
        options.push({ weight: 1, make: () => ({ kind: 'stream-stepdown', via: this.pick(vias) }) });
        options.push({ weight: 2, make: () => ({ kind: 'consumer-stepdown', via: this.pick(vias) }) });
      }
    }
    if (options.length === 0) return null;
    const total = options.reduce((s, o) => s + o.weight, 0);
    let r = this.random() * total;
    for (const o of options) {
      r -= o.weight;
      if (r < 0) return o.make();
    }
    return options[options.length - 1]!.make();
  }

  private delay(): number {
    const [lo, hi] = this.interval;
    return Math.round(lo + this.random() * (hi - lo));
  }

  private int(n: number): number {
    return Math.min(n - 1, Math.floor(this.random() * n));
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  private shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}
