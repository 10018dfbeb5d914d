/**
 * One member of a Raft group, as a pure state machine: no sockets, no timers. Its driver feeds it
 * inputs (`tick(now)`, `receive(from, bytes)`, `propose(data)`, `stepDown()`, `compact()`, peer
 * changes) and then calls `ready()`, which makes the node's writes durable and hands back what to
 * do: messages to send, committed entries to apply in order, snapshots to restore, state changes.
 *
 * The rules are Raft's (Ongaro & Ousterhout) as nats-server's NRG applies them (server/raft.go):
 * no pre-vote; randomized election timeouts; a new leader appends a PeerState entry (its no-op,
 * so entries of older terms commit with it); commit only of the current term's entries by quorum;
 * single-server membership changes as AddPeer/RemovePeer entries that take effect when appended,
 * one at a time; lagging followers catch up from the leader's log or, past its compaction, from
 * its snapshot; leader transfer on stepdown. Two additions from the Raft dissertation keep a
 * removed or partitioned server from disrupting a healthy group: a vote request is ignored while
 * the node has heard from a leader within the minimum election timeout (unless it is a transfer),
 * and a leader that has not heard from a quorum within the maximum election timeout steps down.
 * Like nats-server, a node that refuses a vote because its own log is ahead campaigns soon after,
 * so that a member that cannot win (one restarted with an old log) does not keep a group
 * leaderless by raising the term.
 *
 * Longer than 500 lines: one state machine whose rules share its state; the log, the voters, the
 * storage and the encoding live in their own files.
 */
import { decodeMessage, encodePeerId, encodePeers } from './codec.js';
import { RaftLog } from './log.js';
import { Membership } from './membership.js';
import type { RaftStorage } from './storage.js';
import {
  DEFAULT_TIMING,
  EntryType,
  type AppendEntries,
  type AppendResponse,
  type InstallSnapshot,
  type LogEntry,
  type RaftMessage,
  type RaftOutput,
  type RaftRole,
  type RaftTiming,
  type Snapshot,
  type VoteRequest,
  type VoteResponse,
} from './types.js';

/** How to start a node. */
export interface RaftNodeOptions {
  readonly id: string;
  /** The voters when the log is empty (the group's initial peers); `[]` for a node that joins. */
  readonly peers: readonly string[];
  readonly storage: RaftStorage;
  /** The clock at start, in milliseconds. */
  readonly now: number;
  readonly timing?: RaftTiming;
  /** Uniform in [0, 1); `Math.random` by default (tests inject a seeded one). */
  readonly random?: () => number;
  /** The most entries one append carries (64 by default). */
  readonly maxEntriesPerAppend?: number;
  /** An observer never campaigns (it still votes and acknowledges). */
  readonly observer?: boolean;
}

/** The answer to a proposal: where the entry went, or why it was refused. */
export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: 'not-leader' | 'change-pending' | 'no-change'; readonly leader: string | null };

interface Progress {
  /** The next index to send (advanced optimistically when sent). */
  next: number;
  /** The highest index known to match. */
  match: number;
  /** When the peer last answered in this term. */
  lastAck: number;
  /** The hint of the last refusal acted on, and when: the refusals of the other appends in flight repeat it. */
  refusedAt: number;
  refusedHint: number;
}

/** A node of one Raft group. See the module comment for the rules. */
export class RaftNode {
  readonly id: string;
  private readonly storage: RaftStorage;
  private readonly timing: RaftTiming;
  private readonly random: () => number;
  private readonly maxBatch: number;
  private observer: boolean;

  private term: number;
  private vote: string | null;
  private role: RaftRole = 'follower';
  private leader: string | null = null;
  private readonly log: RaftLog;
  private snapshot: Snapshot | null;
  private commitIndex: number;
  private applied: number;
  private readonly members: Membership;

  private now: number;
  private electionDeadline = 0;
  private heartbeatDue = 0;
  private quorumCheckDue = 0;
  private lastLeaderContact = -Infinity;
  private readonly votes = new Set<string>();
  private readonly progress = new Map<string, Progress>();
  private broadcastPending = false;
  private out: RaftOutput[] = [];
  private reported = '';
  /** Messages that did not decode (dropped). */
  malformed = 0;
  /** Appends refused because they would have overwritten a committed entry (a broken leader). */
  conflicts = 0;

  constructor(o: RaftNodeOptions) {
    this.id = o.id;
    this.storage = o.storage;
    this.timing = o.timing ?? DEFAULT_TIMING;
    this.random = o.random ?? Math.random;
    this.maxBatch = o.maxEntriesPerAppend ?? 64;
    this.observer = o.observer ?? false;
    this.now = o.now;
    const p = o.storage.load();
    this.term = p.term;
    this.vote = p.vote;
    this.snapshot = p.snapshot;
    this.log = new RaftLog(p.snapshot, p.entries);
    this.commitIndex = this.applied = this.log.snapshotIndex;
    this.members = new Membership(p.snapshot?.peers ?? o.peers.slice(), this.log);
    if (p.snapshot) this.out.push({ type: 'restore', snapshot: p.snapshot });
    this.resetElectionTimer();
  }

  /** The role, term, leader, indexes and voters, for drivers and tests. */
  get status(): {
    role: RaftRole;
    term: number;
    vote: string | null;
    leader: string | null;
    commitIndex: number;
    applied: number;
    lastIndex: number;
    lastTerm: number;
    snapshotIndex: number;
    peers: readonly string[];
  } {
    return {
      role: this.role,
      term: this.term,
      vote: this.vote,
      leader: this.leader,
      commitIndex: this.commitIndex,
      applied: this.applied,
      lastIndex: this.log.lastIndex,
      lastTerm: this.log.lastTerm,
      snapshotIndex: this.log.snapshotIndex,
      peers: this.peers,
    };
  }

  /**
   * On the leader, its view of voter `peer`: the highest index known to match, and when (the
   * injected clock) it last answered in this term. Undefined on other nodes and for unknown peers.
   */
  progressOf(peer: string): { readonly match: number; readonly lastAck: number } | undefined {
    if (this.role !== 'leader') return undefined;
    const p = this.progress.get(peer);
    return p === undefined ? undefined : { match: p.match, lastAck: p.lastAck };
  }

  /** The term of the entry at `index` (undefined when compacted away or past the end). */
  termAt(index: number): number | undefined {
    return this.log.termAt(index);
  }

  /** The entry at `index` (undefined when compacted away or past the end). */
  entryAt(index: number): LogEntry | undefined {
    return this.log.entry(index);
  }

  /** The voters: those of the latest config entry in the log (committed or not). */
  get peers(): readonly string[] {
    return this.members.peers;
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** Advances the clock: heartbeats, the leader's quorum check, election timeouts. */
  tick(now: number): void {
    this.now = now;
    if (this.role === 'leader') {
      // A transfer that found no complete follower in time: down without one.
      if (this.transfer !== null && now >= this.transfer.deadline) return this.finishStepDown(undefined);
      if (now >= this.heartbeatDue) {
        this.heartbeatDue = now + this.timing.heartbeatInterval;
        for (const peer of this.progress.keys()) this.sendAppend(peer);
      }
      if (now >= this.quorumCheckDue) {
        this.quorumCheckDue = now + this.timing.electionTimeoutMax;
        const since = now - this.timing.electionTimeoutMax;
        let heard = this.peers.includes(this.id) ? 1 : 0;
        for (const [peer, p] of this.progress) if (this.peers.includes(peer) && p.lastAck >= since) heard++;
        if (heard < this.quorum()) this.becomeFollower(this.term, null);
      }
    } else if (now >= this.electionDeadline) {
      if (this.canCampaign()) this.campaign(false);
      else this.resetElectionTimer();
    }
  }

  /** A message from a peer, as bytes. Malformed input is counted in `malformed` and dropped. */
  receive(from: string, bytes: Uint8Array): void {
    const m = decodeMessage(bytes);
    if (m === null) this.malformed++;
    else this.receiveMessage(from, m);
  }

  /** A decoded message from a peer. */
  receiveMessage(from: string, m: RaftMessage): void {
    switch (m.kind) {
      case 'vote':
        return this.onVoteRequest(from, m);
      case 'vote-response':
        return this.onVoteResponse(from, m);
      case 'append':
      case 'snapshot':
        return this.onLeaderMessage(from, m);
      case 'append-response':
        return this.onAppendResponse(from, m);
      case 'timeout-now':
        if (m.term === this.term && this.role === 'follower' && this.canCampaign()) this.campaign(true);
        return;
    }
  }

  /** Appends `data` to the log if this node leads; committed later (an `apply` output). */
  propose(data: Uint8Array): ProposeResult {
    return this.appendAsLeader(EntryType.Normal, data);
  }

  /** Proposes adding a voter (one membership change at a time). */
  proposeAddPeer(peer: string): ProposeResult {
    if (this.role === 'leader' && this.peers.includes(peer)) return this.refuse('no-change');
    return this.appendAsLeader(EntryType.AddPeer, encodePeerId(peer));
  }

  /** Proposes removing a voter (one membership change at a time; never the last one). */
  proposeRemovePeer(peer: string): ProposeResult {
    if (this.role === 'leader' && (!this.peers.includes(peer) || this.peers.length === 1)) return this.refuse('no-change');
    return this.appendAsLeader(EntryType.RemovePeer, encodePeerId(peer));
  }

  /**
   * Leader stepdown with transfer: the preferred peer (or any voter whose log is complete) is
   * told to campaign now, and this node becomes a follower. False when it is not the leader.
   */
  stepDown(preferred?: string): boolean {
    if (this.role !== 'leader') return false;
    // Already handing over: the first stepdown's wait goes on.
    if (this.transfer !== null) return true;
    const target = this.transferTarget(preferred);
    // No follower has the whole log yet (an entry was just appended): the transfer waits for
    // one, refusing proposals meanwhile (the dissertation's §3.10), so that what this leader
    // appended is not lost to a follower elected without it; at most an election timeout.
    if (target === undefined && this.peers.some((p) => p !== this.id)) {
      this.transfer = { preferred, deadline: this.now + this.timing.electionTimeoutMax };
      this.broadcastPending = true;
      return true;
    }
    this.finishStepDown(target);
    return true;
  }

  /** A stepdown waiting for a follower to have the whole log (null: none). */
  private transfer: { readonly preferred: string | undefined; readonly deadline: number } | null = null;

  /** The follower to hand over to: the preferred one if its log is complete, else any complete one. */
  private transferTarget(preferred: string | undefined): string | undefined {
    const last = this.log.lastIndex;
    const complete = [...this.progress].filter(([peer, p]) => p.match === last && this.peers.includes(peer)).map(([peer]) => peer);
    // Without a preference, any complete follower (nats-server picks the first of a Go map: in no set order).
    return preferred !== undefined && complete.includes(preferred) ? preferred : complete[Math.floor(this.random() * complete.length)];
  }

  /** Tells `target` (if any) to campaign now and becomes a follower that gives it the first chance. */
  private finishStepDown(target: string | undefined): void {
    if (target !== undefined) this.send(target, { kind: 'timeout-now', term: this.term });
    this.becomeFollower(this.term, null);
    this.electionDeadline = this.now + this.timing.electionTimeoutMax + this.randomTimeout();
  }

  /** An observer does not campaign. */
  setObserver(observer: boolean): void {
    this.observer = observer;
  }

  /**
   * Compacts the log through `index` (at most the applied index) into a snapshot whose state is
   * `data`. False when there is nothing to compact there.
   */
  compact(index: number, data: Uint8Array): boolean {
    if (index <= this.log.snapshotIndex || index > this.applied) return false;
    const snap: Snapshot = { lastIndex: index, lastTerm: this.log.termAt(index)!, peers: this.members.at(index), data };
    this.installSnapshotLocally(snap, true);
    return true;
  }

  /**
   * Makes this step's writes durable (`storage.sync()`), then hands back the outputs in order:
   * a state change if any, messages and restores, then newly committed entries.
   */
  ready(): RaftOutput[] {
    if (this.broadcastPending && this.role === 'leader') {
      for (const [peer, p] of this.progress) if (p.next > this.log.snapshotIndex) this.sendAppend(peer);
    }
    this.broadcastPending = false;
    this.storage.sync();
    const out = this.out;
    this.out = [];
    const state = `${this.role}|${this.term}|${this.leader}`;
    if (state !== this.reported) {
      this.reported = state;
      out.unshift({ type: 'state', role: this.role, term: this.term, leader: this.leader });
    }
    while (this.applied < this.commitIndex) {
      this.applied++;
      out.push({ type: 'apply', index: this.applied, entry: this.log.entry(this.applied)! });
    }
    return out;
  }

  // ---- elections -------------------------------------------------------------------------------

  private canCampaign(): boolean {
    return !this.observer && this.peers.includes(this.id);
  }

  private quorum(): number {
    return Math.floor(this.peers.length / 2) + 1;
  }

  private randomTimeout(): number {
    const { electionTimeoutMin: min, electionTimeoutMax: max } = this.timing;
    return min + Math.floor(this.random() * (max - min));
  }

  private resetElectionTimer(): void {
    this.electionDeadline = this.now + this.randomTimeout();
  }

  private campaign(transfer: boolean): void {
    this.term++;
    this.vote = this.id;
    this.storage.saveTermVote(this.term, this.vote);
    this.role = 'candidate';
    this.leader = null;
    this.progress.clear();
    this.votes.clear();
    this.votes.add(this.id);
    this.resetElectionTimer();
    if (this.votes.size >= this.quorum()) return this.becomeLeader();
    const req: VoteRequest = { kind: 'vote', term: this.term, lastTerm: this.log.lastTerm, lastIndex: this.log.lastIndex, transfer };
    for (const peer of this.peers) if (peer !== this.id) this.send(peer, req);
  }

  private onVoteRequest(from: string, m: VoteRequest): void {
    const leaderRecent = this.role === 'leader' || (this.leader !== null && this.now - this.lastLeaderContact < this.timing.electionTimeoutMin);
    if (m.term > this.term && leaderRecent && !m.transfer && from !== this.leader) {
      // A disruptive candidate (removed, or partitioned away): do not let it depose a live leader.
      this.send(from, { kind: 'vote-response', term: this.term, granted: false });
      return;
    }
    if (m.term > this.term) this.becomeFollower(m.term, null);
    const upToDate = m.lastTerm > this.log.lastTerm || (m.lastTerm === this.log.lastTerm && m.lastIndex >= this.log.lastIndex);
    const granted = m.term === this.term && this.role === 'follower' && (this.vote === null || this.vote === from) && upToDate;
    if (granted && this.vote === null) {
      this.vote = from;
      this.storage.saveTermVote(this.term, from);
    }
    if (granted) this.resetElectionTimer();
    else if (!upToDate && m.term === this.term && this.vote === null && this.role === 'follower') {
      // Our log is ahead of the candidate's: campaign soon rather than let a node that cannot
      // win keep raising the term (nats-server's randCampaignTimeout).
      const { electionTimeoutMin: min } = this.timing;
      this.electionDeadline = Math.min(this.electionDeadline, this.now + Math.floor(min / 10 + this.random() * (min / 2 - min / 10)));
    }
    this.send(from, { kind: 'vote-response', term: this.term, granted });
  }

  private onVoteResponse(from: string, m: VoteResponse): void {
    if (m.term > this.term) return this.becomeFollower(m.term, null);
    if (this.role !== 'candidate' || m.term !== this.term || !m.granted) return;
    if (this.peers.includes(from)) this.votes.add(from);
    let n = 0;
    for (const v of this.votes) if (this.peers.includes(v)) n++;
    if (n >= this.quorum()) this.becomeLeader();
  }

  private becomeLeader(): void {
    this.transfer = null;
    this.role = 'leader';
    this.leader = this.id;
    this.votes.clear();
    this.progress.clear();
    this.heartbeatDue = this.now + this.timing.heartbeatInterval;
    this.quorumCheckDue = this.now + this.timing.electionTimeoutMax;
    this.syncProgress();
    // The term's first entry: the peer set (nats-server's EntryPeerState), which also commits
    // the entries of earlier terms once it commits.
    this.appendLocal({ term: this.term, type: EntryType.PeerState, data: encodePeers(this.peers) });
    this.broadcastPending = true;
  }

  private becomeFollower(term: number, leader: string | null): void {
    this.transfer = null;
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
      this.storage.saveTermVote(term, null);
    }
    this.role = 'follower';
    this.leader = leader;
    this.votes.clear();
    this.progress.clear();
    if (leader === null) this.resetElectionTimer();
  }

  // ---- replication -----------------------------------------------------------------------------

  private refuse(reason: 'not-leader' | 'change-pending' | 'no-change'): ProposeResult {
    return { ok: false, reason, leader: this.leader };
  }

  private appendAsLeader(type: EntryType, data: Uint8Array): ProposeResult {
    if (this.role !== 'leader' || this.transfer !== null) return this.refuse('not-leader');
    if (type !== EntryType.Normal && this.members.lastChange > this.commitIndex) {
      return this.refuse('change-pending');
    }
    this.appendLocal({ term: this.term, type, data });
    this.broadcastPending = true;
    return { ok: true, index: this.log.lastIndex, term: this.term };
  }

  private appendLocal(e: LogEntry): void {
    const index = this.log.lastIndex + 1;
    this.log.replaceFrom(index, [e]);
    this.storage.writeEntries(index, [e]);
    if (e.type !== EntryType.Normal) {
      this.members.rebuild(this.log, index);
      this.syncProgress();
    }
    this.advanceCommit();
  }

  private send(to: string, message: RaftMessage): void {
    this.out.push({ type: 'send', to, message });
  }

  private sendAppend(peer: string): void {
    const p = this.progress.get(peer)!;
    if (p.next <= this.log.snapshotIndex) {
      const m: InstallSnapshot = { kind: 'snapshot', term: this.term, snapshot: this.snapshot! };
      this.send(peer, m);
      // Sent once, not at every heartbeat (a snapshot holds a whole state): a follower that did
      // not take it refuses the next append, which brings `next` back here.
      p.next = this.snapshot!.lastIndex + 1;
      return;
    }
    const pindex = p.next - 1;
    const entries = this.log.slice(p.next, this.maxBatch);
    const m: AppendEntries = { kind: 'append', term: this.term, commit: this.commitIndex, pterm: this.log.termAt(pindex)!, pindex, entries };
    this.send(peer, m);
    p.next = pindex + entries.length + 1;
  }

  /** The leader's progress entries follow the voters (other than itself). */
  private syncProgress(): void {
    if (this.role !== 'leader') return;
    const peers = this.peers;
    for (const peer of peers) {
      if (peer !== this.id && !this.progress.has(peer)) this.progress.set(peer, { next: this.log.lastIndex + 1, match: 0, lastAck: this.now, refusedAt: -Infinity, refusedHint: -1 });
    }
    for (const peer of [...this.progress.keys()]) if (!peers.includes(peer)) this.progress.delete(peer);
  }

  private onLeaderMessage(from: string, m: AppendEntries | InstallSnapshot): void {
    if (m.term < this.term) {
      this.send(from, { kind: 'append-response', term: this.term, success: false, index: this.log.lastIndex });
      return;
    }
    if (m.term > this.term || this.role !== 'follower' || this.leader !== from) this.becomeFollower(m.term, from);
    this.lastLeaderContact = this.now;
    this.resetElectionTimer();
    const index = m.kind === 'append' ? this.onAppend(m) : this.onSnapshot(m);
    this.send(from, { kind: 'append-response', term: this.term, success: index >= 0, index: index >= 0 ? index : -index - 1 });
  }

  /** The matched index on success; on refusal `-(hint + 1)`. */
  private onAppend(m: AppendEntries): number {
    let { pindex, pterm } = m;
    let entries = m.entries;
    const base = this.log.snapshotIndex;
    if (pindex < base) {
      // Entries up to the snapshot are committed here, so they match: skip them.
      const skip = base - pindex;
      if (skip >= entries.length) return pindex + entries.length;
      entries = entries.slice(skip);
      pindex = base;
      pterm = this.log.snapshotTerm;
    }
    if (pindex > this.log.lastIndex) return -(this.log.lastIndex + 1);
    const have = this.log.termAt(pindex);
    if (have !== pterm) {
      // Back up past the whole conflicting term, never below what is known committed.
      let hint = pindex - 1;
      const floor = Math.max(this.commitIndex, base);
      while (hint > floor && this.log.termAt(hint) === have) hint--;
      return -(hint + 1);
    }
    for (let i = 0; i < entries.length; i++) {
      const index = pindex + 1 + i;
      const t = this.log.termAt(index);
      if (t === entries[i].term) continue;
      if (t !== undefined && index <= this.commitIndex) {
        // Only a broken leader asks this: keep the committed entry, refuse the append.
        this.conflicts++;
        return -(this.commitIndex + 1);
      }
      const rest = entries.slice(i);
      this.log.replaceFrom(index, rest);
      this.storage.writeEntries(index, rest);
      if (t !== undefined || rest.some((e) => e.type !== EntryType.Normal)) this.members.rebuild(this.log, index);
      break;
    }
    const matched = pindex + entries.length;
    const commit = Math.min(m.commit, matched);
    if (commit > this.commitIndex) this.commitIndex = commit;
    return matched;
  }

  private onSnapshot(m: InstallSnapshot): number {
    const s = m.snapshot;
    if (s.lastIndex <= this.commitIndex) return s.lastIndex;
    this.installSnapshotLocally(s, this.log.termAt(s.lastIndex) === s.lastTerm);
    this.commitIndex = this.applied = s.lastIndex;
    this.out.push({ type: 'restore', snapshot: s });
    return s.lastIndex;
  }

  private installSnapshotLocally(s: Snapshot, keepSuffix: boolean): void {
    this.log.compact(s.lastIndex, s.lastTerm, keepSuffix);
    this.storage.saveSnapshot(s, keepSuffix);
    this.snapshot = s;
    this.members.compacted(s.peers, this.log);
  }

  private onAppendResponse(from: string, m: AppendResponse): void {
    if (m.term > this.term) return this.becomeFollower(m.term, null);
    const p = this.progress.get(from);
    if (this.role !== 'leader' || m.term !== this.term || p === undefined) return;
    p.lastAck = this.now;
    if (m.success) {
      if (m.index > p.match) p.match = m.index;
      if (p.next < m.index + 1) p.next = m.index + 1;
      this.advanceCommit();
      if (this.transfer !== null && this.role === 'leader') {
        const target = this.transferTarget(this.transfer.preferred);
        if (target !== undefined) return this.finishStepDown(target);
      }
      // Catch-up: keep a window of batches in flight to a lagging follower (8 batches, and at
      // least 64 entries so that small batches do not make catch-up crawl on a slow network).
      const window = Math.max(this.maxBatch * 8, 64);
      while (this.role === 'leader' && p.next <= this.log.lastIndex && p.next > this.log.snapshotIndex && p.next - 1 - p.match < window) {
        this.sendAppend(from);
      }
    } else {
      // Back up and resend once per hint and heartbeat, not once per append that was in flight.
      if (m.index === p.refusedHint && this.now - p.refusedAt < this.timing.heartbeatInterval) return;
      p.refusedHint = m.index;
      p.refusedAt = this.now;
      // A follower whose log ends below what it acked before lost it (a member whose log was
      // deleted when it left the group, back before its removal reached this leader): its
      // match goes back, or it would be sent the same append, refused, for ever.
      if (m.index < p.match) p.match = m.index;
      p.next = Math.max(p.match + 1, Math.min(p.next, m.index + 1));
      this.sendAppend(from);
    }
  }

  private advanceCommit(): void {
    if (this.role !== 'leader') return;
    const peers = this.peers;
    const quorum = this.quorum();
    for (let n = this.log.lastIndex; n > this.commitIndex; n--) {
      if (this.log.termAt(n) !== this.term) break;
      let count = peers.includes(this.id) ? 1 : 0;
      for (const [peer, p] of this.progress) if (p.match >= n && peers.includes(peer)) count++;
      if (count >= quorum) {
        this.commitIndex = n;
        // Followers learn the new commit at once, not at the next heartbeat (nats-server's
        // trackResponse sends a heartbeat after committing), so they apply promptly.
        this.broadcastPending = true;
        break;
      }
    }
    // A leader that removed itself leads until the removal commits, then steps aside.
    if (!peers.includes(this.id) && this.members.lastChange <= this.commitIndex) {
      this.broadcastPending = false;
      for (const peer of this.progress.keys()) this.sendAppend(peer); // the commit index, once more
      this.becomeFollower(this.term, null);
    }
  }
}
