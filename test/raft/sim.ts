/**
 * A deterministic simulator for the Raft core: N voters plus one spare node, a network that
 * loses, duplicates, delays and reorders messages (seeded), partitions and heals, crashes (the
 * node's volatile state is lost, its storage keeps what was synced) and restarts, random
 * proposals, membership changes, stepdowns and compactions. Time advances in fixed steps.
 *
 * Every step it checks Raft's safety properties and throws a `SafetyViolation` at the first
 * breach: election safety, log matching, leader completeness, state machine safety (the same
 * entry applied at the same index everywhere; nothing committed lost or changed), commit only
 * with a quorum of durable copies, durable state equal to the state the node acts on, and that no
 * member lacking a committed entry could be elected. `settle()` then heals everything and checks
 * liveness.
 *
 * Longer than 500 lines: the nemesis, the network and the checker share one run's state.
 */
import { encodeMessage } from '../../src/raft/codec.js';
import { RaftNode } from '../../src/raft/node.js';
import { MemoryRaftStorage } from '../../src/raft/storage.js';
import type { LogEntry, RaftTiming } from '../../src/raft/types.js';
import { rng as prng } from '../helpers/chaos.js';

export class SafetyViolation extends Error {}

export type NemesisKind = 'crash' | 'restart' | 'bounce' | 'reconfigure' | 'partition' | 'heal' | 'add' | 'remove' | 'stepdown' | 'compact';
/** One fault or operation at a step; `node` and `split` pick targets (taken modulo). */
export interface NemesisOp {
  readonly step: number;
  readonly kind: NemesisKind;
  readonly node: number;
  readonly split: number;
}

export interface SimOptions {
  readonly seed: number;
  /** Voters at start (the simulator adds one spare node that may join later). */
  readonly size: number;
  readonly lossRate: number;
  readonly dupRate: number;
  /** Messages arrive after 0..maxDelay ms (so they also overtake each other). */
  readonly maxDelay: number;
  /** Chance per step that some node is asked to propose. */
  readonly proposeRate: number;
  readonly ops: readonly NemesisOp[];
  /** Chance per step of a random crash, and of a random restart of a crashed node. */
  readonly churn?: number;
  /**
   * Chance that a node crashes right after it wins an election or grants a vote (the moments
   * Figure 8 and vote durability are about; it restarts 1..5 or 1..60 steps later), or that a new
   * leader is cut off at once.
   */
  readonly targetedCrash?: number;
  /** Entries per append (small ones make followers ack partial batches). */
  readonly maxEntriesPerAppend?: number;
  readonly timing?: RaftTiming;
  /** Simulated milliseconds per step. */
  readonly stepMs?: number;
}

/** Storage that also tells the checker the lowest index written since the last look. */
class WatchedStorage extends MemoryRaftStorage {
  dirtyFrom = Infinity;
  override writeEntries(firstIndex: number, entries: readonly LogEntry[]): void {
    this.dirtyFrom = Math.min(this.dirtyFrom, firstIndex);
    super.writeEntries(firstIndex, entries);
  }
}

interface SimNode {
  readonly id: string;
  readonly storage: WatchedStorage;
  raft: RaftNode | null;
  /** The state machine: keys of the applied entries, by index - 1. */
  sm: string[];
  /** Proposals accepted by this node as leader: index -> [term, key]. */
  pending: Map<number, [number, string]>;
  seenCommit: number;
  random: () => number;
}

interface InFlight {
  readonly from: string;
  readonly to: string;
  readonly bytes: Uint8Array;
  readonly at: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const keyOf = (e: LogEntry): string => `${e.type}:${hex(e.data)}`;
const text = new TextEncoder();

export const SIM_TIMING: RaftTiming = { electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 50 };

export class Simulator {
  readonly nodes: SimNode[] = [];
  readonly timing: RaftTiming;
  private readonly stepMs: number;
  private readonly rnd: () => number;
  private inflight: InFlight[] = [];
  /** Partition group per node id; absent = no partition. */
  private groups: Map<string, number> | null = null;
  private lossRate: number;
  private dupRate: number;
  private nextValue = 0;
  /** No random proposals (while settling). */
  private quiet = false;
  private touched = new Set<SimNode>();
  /** Crashes and restarts the targeted nemesis scheduled: step -> nodes. */
  private scheduled = new Map<number, { kind: 'crash' | 'restart' | 'heal'; node: SimNode }[]>();
  now = 0;
  stepNo = 0;

  // The checker's memory.
  private readonly leaders = new Map<number, string>();
  /** `${index}:${term}` -> the previous entry's term and the entry's key (log matching). */
  private readonly entries = new Map<string, string>();
  /** index -> `${term}|${key}` of every committed entry. */
  readonly committed = new Map<number, string>();
  /** index -> the term in which the entry was first seen committed (by its leader). */
  private readonly committedIn = new Map<number, number>();
  /** index -> key of every applied entry. */
  private readonly applied = new Map<number, string>();
  /** Proposals a leader applied (acknowledged to its client): index -> key. */
  readonly acked = new Map<number, string>();
  readonly stats = { messages: 0, dropped: 0, elections: 0, proposals: 0, crashes: 0, snapshots: 0, configChanges: 0 };

  constructor(private readonly o: SimOptions) {
    this.timing = o.timing ?? SIM_TIMING;
    this.stepMs = o.stepMs ?? 5;
    this.rnd = prng(o.seed);
    this.lossRate = o.lossRate;
    this.dupRate = o.dupRate;
    for (let i = 0; i <= o.size; i++) {
      const n: SimNode = {
        id: `n${i}`,
        storage: new WatchedStorage(),
        raft: null,
        sm: [],
        pending: new Map(),
        seenCommit: 0,
        random: prng(o.seed * 31 + i + 1),
      };
      this.nodes.push(n);
      this.start(n);
    }
  }

  private bootstrapPeers(n: SimNode): string[] {
    // The spare (last) node joins with no peers: it learns the group from the leader.
    return n.id === `n${this.o.size}` ? [] : this.initial();
  }

  private initial(): string[] {
    return Array.from({ length: this.o.size }, (_, i) => `n${i}`);
  }

  private start(n: SimNode): void {
    n.storage.crash();
    n.sm = [];
    n.pending.clear();
    n.raft = new RaftNode({ id: n.id, peers: this.bootstrapPeers(n), storage: n.storage, now: this.now, timing: this.timing, random: n.random, maxEntriesPerAppend: this.o.maxEntriesPerAppend });
    n.seenCommit = n.raft.status.snapshotIndex;
    n.storage.dirtyFrom = 1;
    this.process(n);
  }

  private live(): SimNode[] {
    return this.nodes.filter((n) => n.raft !== null);
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[Math.floor(this.rnd() * xs.length)];
  }

  /** The live node that leads in the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.live()) {
      if (n.raft!.status.role === 'leader' && (best === undefined || n.raft!.status.term > best.raft!.status.term)) best = n;
    }
    return best;
  }

  private connected(a: string, b: string): boolean {
    return this.groups === null || this.groups.get(a) === this.groups.get(b);
  }

  // ---- running -------------------------------------------------------------------------------

  step(): void {
    this.stepNo++;
    this.now += this.stepMs;
    for (const op of this.o.ops) if (op.step === this.stepNo) this.nemesis(op);
    for (const t of this.scheduled.get(this.stepNo) ?? []) {
      if (t.kind === 'crash' && t.node.raft !== null) {
        t.node.raft = null;
        this.stats.crashes++;
        this.schedule(this.stepNo + 1 + Math.floor(this.rnd() * (this.rnd() < 0.5 ? 5 : 60)), 'restart', t.node);
      } else if (t.kind === 'restart' && t.node.raft === null) this.start(t.node);
      else if (t.kind === 'heal') this.groups = null;
    }
    this.scheduled.delete(this.stepNo);
    if (!this.quiet && this.o.churn !== undefined && this.rnd() < this.o.churn * 2) {
      const i = Math.floor(this.rnd() * this.nodes.length);
      this.nemesis({ step: this.stepNo, kind: this.rnd() < 0.5 ? 'crash' : 'restart', node: i, split: 0 });
    }
    if (!this.quiet && this.rnd() < this.o.proposeRate) {
      const n = this.pick(this.live());
      if (n) this.propose(n);
    }
    const due = this.inflight.filter((m) => m.at <= this.now);
    this.inflight = this.inflight.filter((m) => m.at > this.now);
    // Same-step arrivals in random order.
    for (let i = due.length - 1; i > 0; i--) {
      const j = Math.floor(this.rnd() * (i + 1));
      [due[i], due[j]] = [due[j], due[i]];
    }
    for (const m of due) {
      const n = this.nodes.find((x) => x.id === m.to)!;
      if (n.raft === null || !this.connected(m.from, m.to)) {
        this.stats.dropped++;
        continue;
      }
      n.raft.receive(m.from, m.bytes);
      this.process(n);
    }
    for (const n of this.live()) {
      n.raft!.tick(this.now);
      this.process(n);
    }
    this.check();
  }

  private schedule(step: number, kind: 'crash' | 'restart' | 'heal', node: SimNode): void {
    const list = this.scheduled.get(step) ?? [];
    list.push({ kind, node });
    this.scheduled.set(step, list);
  }

  /**
   * The targeted nemesis: maybe crash `n` at the next step (its outputs so far are sent), or
   * (a new leader) isolate it at once, so that what it just sent is lost and the entries of its
   * term stay in its log alone (Figure 8's intermediate leader); healed 20..80 steps later.
   */
  private maybeTarget(n: SimNode, leader = false): void {
    if (this.quiet || this.o.targetedCrash === undefined || this.rnd() >= this.o.targetedCrash) return;
    if (leader && this.rnd() < 0.5) {
      this.groups = new Map(this.nodes.map((x) => [x.id, x === n ? 0 : 1]));
      this.schedule(this.stepNo + 20 + Math.floor(this.rnd() * 60), 'heal', n);
    } else this.schedule(this.stepNo + 1, 'crash', n);
  }

  /** Proposes a fresh value at `n` (refused unless it leads). */
  propose(n: SimNode): boolean {
    const value = text.encode(`v${this.nextValue++}`);
    const r = n.raft!.propose(value);
    if (!r.ok) return false;
    this.stats.proposals++;
    n.pending.set(r.index, [r.term, keyOf({ term: r.term, type: 0, data: value })]);
    this.process(n);
    return true;
  }

  private nemesis(op: NemesisOp): void {
    const n = this.nodes[op.node % this.nodes.length];
    switch (op.kind) {
      case 'crash':
        if (n.raft !== null) {
          n.raft = null;
          this.stats.crashes++;
        }
        return;
      case 'restart':
        if (n.raft === null) this.start(n);
        return;
      case 'bounce':
        if (n.raft !== null) this.stats.crashes++;
        this.start(n);
        return;
      case 'partition': {
        // A random two-way split from the bits of `split`.
        this.groups = new Map(this.nodes.map((x, i) => [x.id, (op.split >> i) & 1]));
        return;
      }
      case 'heal':
        this.groups = null;
        return;
      case 'stepdown': {
        const l = this.leader();
        if (l) {
          l.raft!.stepDown(this.nodes[op.split % this.nodes.length].id);
          this.process(l);
        }
        return;
      }
      case 'compact':
        if (n.raft !== null) this.compact(n);
        return;
      case 'reconfigure': {
        // Two removals at once (the second must wait for the first to commit), then a split
        // that leaves the leader and one peer of its new config on one side: if both removals
        // counted, that side and the rest would each hold a quorum of some config.
        const l = this.leader();
        if (!l) return;
        const others = l.raft!.status.peers.filter((p) => p !== l.id);
        const first = others[op.split % Math.max(1, others.length)];
        if (first === undefined || !l.raft!.proposeRemovePeer(first).ok) return;
        this.stats.configChanges++;
        const rest = l.raft!.status.peers.filter((p) => p !== l.id);
        const second = rest[(op.split >> 3) % Math.max(1, rest.length)];
        if (second !== undefined && l.raft!.proposeRemovePeer(second).ok) this.stats.configChanges++;
        this.process(l);
        const side = new Set([l.id, ...l.raft!.status.peers.filter((p) => p !== l.id).slice(0, 1)]);
        this.groups = new Map(this.nodes.map((x) => [x.id, side.has(x.id) ? 0 : 1]));
        return;
      }
      case 'add':
      case 'remove': {
        const l = this.leader();
        if (!l) return;
        const peers = l.raft!.status.peers;
        const target = this.nodes[op.split % this.nodes.length].id;
        if (op.kind === 'remove' && (!peers.includes(target) || peers.length <= 2)) return;
        const r = op.kind === 'add' ? l.raft!.proposeAddPeer(target) : l.raft!.proposeRemovePeer(target);
        if (r.ok) this.stats.configChanges++;
        this.process(l);
        return;
      }
    }
  }

  private compact(n: SimNode): void {
    const at = n.raft!.status.applied;
    if (n.raft!.compact(at, text.encode(JSON.stringify(n.sm.slice(0, at))))) this.stats.snapshots++;
    this.process(n);
  }

  /** Hands a node's outputs to the network and the state machine, checking as it goes. */
  private process(n: SimNode): void {
    this.touched.add(n);
    for (const out of n.raft!.ready()) {
      switch (out.type) {
        case 'send': {
          if (n.storage.unsynced) throw new SafetyViolation(`${n.id} sends before its writes are durable`);
          this.stats.messages++;
          const bytes = encodeMessage(out.message);
          if (out.message.kind === 'vote-response' && out.message.granted) this.maybeTarget(n);
          if (!this.connected(n.id, out.to) || this.rnd() < this.lossRate) {
            this.stats.dropped++;
            break;
          }
          this.inflight.push({ from: n.id, to: out.to, bytes, at: this.now + Math.floor(this.rnd() * (this.o.maxDelay + 1)) });
          if (this.rnd() < this.dupRate) this.inflight.push({ from: n.id, to: out.to, bytes, at: this.now + Math.floor(this.rnd() * (this.o.maxDelay + 1)) });
          break;
        }
        case 'state':
          if (out.role === 'leader') {
            this.stats.elections++;
            const had = this.leaders.get(out.term);
            if (had !== undefined && had !== n.id) throw new SafetyViolation(`two leaders in term ${out.term}: ${had} and ${n.id}`);
            this.leaders.set(out.term, n.id);
            this.maybeTarget(n, true);
          }
          break;
        case 'restore': {
          const sm = JSON.parse(new TextDecoder().decode(out.snapshot.data)) as string[];
          if (sm.length !== out.snapshot.lastIndex) throw new SafetyViolation(`${n.id}: snapshot of ${sm.length} entries at ${out.snapshot.lastIndex}`);
          sm.forEach((key, i) => this.checkApplied(n, i + 1, key));
          n.sm = sm;
          break;
        }
        case 'apply': {
          if (out.index !== n.sm.length + 1) throw new SafetyViolation(`${n.id} applies ${out.index} after ${n.sm.length}`);
          const key = keyOf(out.entry);
          this.checkApplied(n, out.index, key);
          n.sm.push(key);
          const p = n.pending.get(out.index);
          if (p !== undefined) {
            n.pending.delete(out.index);
            if (p[0] === out.entry.term && p[1] === key) this.acked.set(out.index, key);
          }
          break;
        }
      }
    }
  }

  private checkApplied(n: SimNode, index: number, key: string): void {
    const had = this.applied.get(index);
    if (had === undefined) this.applied.set(index, key);
    else if (had !== key) throw new SafetyViolation(`${n.id} applies ${key} at ${index} where ${had} was applied`);
  }

  // ---- invariants ----------------------------------------------------------------------------

  private check(): void {
    const touched = [...this.touched].filter((n) => n.raft !== null);
    this.touched.clear();
    for (const n of touched) {
      const r = n.raft!;
      if (r.conflicts > 0 || r.malformed > 0) throw new SafetyViolation(`${n.id}: ${r.conflicts} conflicting appends, ${r.malformed} malformed messages`);
      // What the node acts on is what a crash would leave: term, vote and log are durable.
      const s = r.status;
      const img = n.storage.image;
      const base = img.snapshot?.lastIndex ?? 0;
      const durableLast = img.entries[img.entries.length - 1]?.term ?? img.snapshot?.lastTerm ?? 0;
      if (img.term !== s.term || img.vote !== s.vote || base !== s.snapshotIndex || base + img.entries.length !== s.lastIndex || durableLast !== s.lastTerm) {
        throw new SafetyViolation(`${n.id}: state term ${s.term} vote ${s.vote} log ${s.snapshotIndex}..${s.lastIndex} but durable term ${img.term} vote ${img.vote} log ${base}..${base + img.entries.length}`);
      }
      // Log matching: (index, term) fixes the entry and the previous entry's term.
      for (let i = Math.max(n.storage.dirtyFrom, s.snapshotIndex + 1); i <= s.lastIndex; i++) {
        const e = r.entryAt(i)!;
        const id = `${i}:${e.term}`;
        const what = `${r.termAt(i - 1)}|${keyOf(e)}`;
        const had = this.entries.get(id);
        if (had === undefined) this.entries.set(id, what);
        else if (had !== what) throw new SafetyViolation(`log matching: ${n.id} has ${what} at ${id}, another node ${had}`);
      }
      n.storage.dirtyFrom = Infinity;
      // Commits: never changed, and only with a quorum of durable copies.
      for (let i = Math.max(n.seenCommit, s.snapshotIndex) + 1; i <= s.commitIndex; i++) {
        const e = r.entryAt(i)!;
        const what = `${e.term}|${keyOf(e)}`;
        const had = this.committed.get(i);
        if (had === undefined) {
          this.committed.set(i, what);
          this.committedIn.set(i, s.term);
          this.checkQuorum(n, i, e.term, s.peers);
        } else if (had !== what) throw new SafetyViolation(`${n.id} commits ${what} at ${i} where ${had} was committed`);
      }
      n.seenCommit = Math.max(n.seenCommit, s.commitIndex);
    }
    this.checkElectable();
    // Election safety and leader completeness: a leader holds every entry committed in an
    // earlier term (a deposed leader of an older term that has not heard yet need not).
    for (const n of this.live()) {
      const s = n.raft!.status;
      if (s.role !== 'leader') continue;
      const had = this.leaders.get(s.term);
      if (had !== undefined && had !== n.id) throw new SafetyViolation(`two leaders in term ${s.term}: ${had} and ${n.id}`);
      this.leaders.set(s.term, n.id);
      if (!touched.includes(n)) continue;
      for (const [i, what] of this.committed) {
        if (i <= s.snapshotIndex || this.committedIn.get(i)! > s.term) continue;
        const e = n.raft!.entryAt(i);
        if (e === undefined || `${e.term}|${keyOf(e)}` !== what) {
          throw new SafetyViolation(`leader completeness: leader ${n.id} (term ${s.term}) lacks committed ${what} at ${i}`);
        }
      }
    }
  }

  /**
   * No member that lacks a committed entry could win an election: fewer than a quorum of its
   * voters (itself included) have logs it is at least as up-to-date as. This is the invariant
   * behind leader completeness, checked before any such election can happen (a commit that
   * counted old-term replicas breaks it at once, not only once a Figure 8 schedule follows).
   */
  private checkElectable(): void {
    let k = 0;
    for (const i of this.committed.keys()) if (i > k) k = i;
    if (k === 0) return;
    const termK = Number(this.committed.get(k)!.split('|')[0]);
    for (const x of this.live()) {
      const s = x.raft!.status;
      if (!s.peers.includes(x.id) || k <= s.snapshotIndex || x.raft!.termAt(k) === termK) continue;
      let voters = 0;
      for (const id of s.peers) {
        const img = this.nodes.find((n) => n.id === id)?.storage.image;
        if (img === undefined) continue;
        const last = img.entries[img.entries.length - 1];
        const vTerm = last?.term ?? img.snapshot?.lastTerm ?? 0;
        const vIndex = (img.snapshot?.lastIndex ?? 0) + img.entries.length;
        if (s.lastTerm > vTerm || (s.lastTerm === vTerm && s.lastIndex >= vIndex)) voters++;
      }
      if (voters >= Math.floor(s.peers.length / 2) + 1) {
        throw new SafetyViolation(`${x.id} lacks committed entry ${k} (term ${termK}) yet ${voters} of ${s.peers.join(',')} would elect it`);
      }
    }
  }

  private checkQuorum(by: SimNode, index: number, term: number, peers: readonly string[]): void {
    let copies = 0;
    for (const n of this.nodes) {
      if (!peers.includes(n.id)) continue;
      const img = n.storage.image;
      const base = img.snapshot?.lastIndex ?? 0;
      if (index <= base || img.entries[index - base - 1]?.term === term) copies++;
    }
    if (copies < Math.floor(peers.length / 2) + 1) {
      throw new SafetyViolation(`${by.id} commits ${index} (term ${term}) with ${copies} durable copies among ${peers.join(',')}`);
    }
  }

  // ---- liveness ------------------------------------------------------------------------------

  /**
   * Stops the nemesis: restarts crashed nodes, heals, stops loss, duplication and random
   * proposals (delays and reordering stay). Then a leader must be elected within
   * `maxElectionTimeouts` election timeouts, and within as many more a fresh proposal must commit
   * and every acknowledged proposal must be applied on every member. Returns the milliseconds
   * from healing to the first leader.
   */
  settle(maxElectionTimeouts = 10): { leaderAfterMs: number } {
    this.lastSettle = this.settleRun(maxElectionTimeouts);
    return this.lastSettle;
  }

  /** The outcome of the last `settle()`. */
  lastSettle = { leaderAfterMs: -1 };

  private settleRun(maxElectionTimeouts: number): { leaderAfterMs: number } {
    for (const n of this.nodes) if (n.raft === null) this.start(n);
    this.groups = null;
    this.lossRate = 0;
    this.dupRate = 0;
    this.quiet = true;
    this.scheduled.clear();
    const start = this.now;
    // A leader within `maxElectionTimeouts`; the catch-up of every member within as many more.
    let deadline = start + maxElectionTimeouts * this.timing.electionTimeoutMax;
    let leader: SimNode | undefined;
    const ackedBefore = this.acked.size;
    let leaderAfterMs = -1;
    let proposedAt = -Infinity;
    while (this.now < deadline) {
      this.step();
      leader = this.leader();
      if (leader === undefined) continue;
      if (leaderAfterMs < 0) {
        leaderAfterMs = this.now - start;
        deadline = this.now + maxElectionTimeouts * this.timing.electionTimeoutMax;
      }
      // A fresh value, proposed again every other election timeout until one is acknowledged
      // (the leader that took it may fall before committing it).
      const settled = this.acked.size > ackedBefore;
      if (!settled && this.now - proposedAt >= 2 * this.timing.electionTimeoutMax && this.propose(leader)) proposedAt = this.now;
      const members = leader.raft!.status.peers.map((id) => this.nodes.find((x) => x.id === id)!);
      if (settled && members.every((m) => m.raft !== null && this.holdsAcked(m))) return { leaderAfterMs };
    }
    const s = this.nodes.map((n) => `${n.id}:${n.raft ? JSON.stringify(n.raft.status) : 'down'}`).join('\n');
    throw new SafetyViolation(`no progress within ${maxElectionTimeouts} election timeouts after healing (leader ${leader?.id})\n${s}`);
  }

  private holdsAcked(n: SimNode): boolean {
    for (const [i, key] of this.acked) if (n.sm[i - 1] !== key) return false;
    return true;
  }
}
