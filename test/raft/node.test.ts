/**
 * The Raft rules one at a time, on nodes driven by hand (test/raft/sim.test.ts runs them all
 * together under a nemesis).
 */
import { describe, expect, it } from 'vitest';
import { encodePeerId } from '../../src/raft/codec.js';
import { RaftNode } from '../../src/raft/node.js';
import { MemoryRaftStorage } from '../../src/raft/storage.js';
import { EntryType, type LogEntry, type RaftMessage, type RaftOutput, type RaftTiming } from '../../src/raft/types.js';

const TIMING: RaftTiming = { electionTimeoutMin: 100, electionTimeoutMax: 200, heartbeatInterval: 20 };
const PEERS = ['a', 'b', 'c'];
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const entry = (term: number, data = `t${term}`): LogEntry => ({ term, type: EntryType.Normal, data: bytes(data) });

/** A node over a storage holding `term`, `vote` and `entries` (already durable). */
function node(id: string, o: { term?: number; vote?: string | null; entries?: LogEntry[]; peers?: string[]; now?: number } = {}) {
  const storage = new MemoryRaftStorage();
  storage.saveTermVote(o.term ?? 0, o.vote ?? null);
  storage.writeEntries(1, o.entries ?? []);
  storage.sync();
  // random() = 0: the election timeout is exactly the minimum.
  const raft = new RaftNode({ id, peers: o.peers ?? PEERS, storage, now: o.now ?? 0, timing: TIMING, random: () => 0 });
  raft.ready();
  return { raft, storage };
}

const sends = (out: RaftOutput[]) => out.flatMap((o) => (o.type === 'send' ? [{ to: o.to, m: o.message }] : []));
const applied = (out: RaftOutput[]) => out.flatMap((o) => (o.type === 'apply' ? [o.index] : []));

/** Delivers messages among `nodes` until none are left (optionally dropping some); every output. */
function deliver(nodes: Map<string, RaftNode>, from: string, out: RaftOutput[], drop: (to: string, m: RaftMessage) => boolean = () => false) {
  const seen: { node: string; out: RaftOutput }[] = [];
  const queue = sends(out).map((s) => ({ from, ...s }));
  while (queue.length > 0) {
    const { from: f, to, m } = queue.shift()!;
    const n = nodes.get(to);
    if (n === undefined || drop(to, m)) continue;
    n.receiveMessage(f, m);
    const got = n.ready();
    for (const o of got) seen.push({ node: to, out: o });
    for (const s of sends(got)) queue.push({ from: to, ...s });
  }
  return { applied: (id: string) => applied(seen.filter((s) => s.node === id).map((s) => s.out)), restores: (id: string) => seen.filter((s) => s.node === id && s.out.type === 'restore').length };
}

/** Three nodes with `a` elected leader in term 1. */
function cluster() {
  const made = PEERS.map((id) => node(id));
  const nodes = new Map(made.map((n) => [n.raft.id, n.raft]));
  const a = nodes.get('a')!;
  a.tick(100);
  deliver(nodes, 'a', a.ready());
  expect(a.status.role).toBe('leader');
  return { nodes, a, b: nodes.get('b')!, c: nodes.get('c')!, storages: new Map(made.map((n) => [n.raft.id, n.storage])) };
}

describe('raft: elections', () => {
  it('a follower whose election timeout passes campaigns in the next term and votes for itself, durably', () => {
    const { raft, storage } = node('a', { term: 4 });
    raft.tick(99);
    expect(raft.status.role).toBe('follower');
    raft.tick(100);
    const out = raft.ready();
    expect(storage.image).toMatchObject({ term: 5, vote: 'a' });
    expect(sends(out)).toEqual([
      { to: 'b', m: { kind: 'vote', term: 5, lastTerm: 0, lastIndex: 0, transfer: false } },
      { to: 'c', m: { kind: 'vote', term: 5, lastTerm: 0, lastIndex: 0, transfer: false } },
    ]);
    expect(out[0]).toEqual({ type: 'state', role: 'candidate', term: 5, leader: null });
  });

  it('grants one vote per term, to an up-to-date candidate, and makes it durable before the reply', () => {
    const { raft, storage } = node('b', { term: 1, entries: [entry(1), entry(1)] });
    raft.receiveMessage('a', { kind: 'vote', term: 2, lastTerm: 1, lastIndex: 2, transfer: false });
    expect(storage.unsynced).toBe(true);
    expect(sends(raft.ready())).toEqual([{ to: 'a', m: { kind: 'vote-response', term: 2, granted: true } }]);
    expect(storage.unsynced).toBe(false);
    expect(storage.image).toMatchObject({ term: 2, vote: 'a' });
    // The same candidate again (a duplicate) is granted again; another one is not.
    raft.receiveMessage('a', { kind: 'vote', term: 2, lastTerm: 1, lastIndex: 2, transfer: false });
    raft.receiveMessage('c', { kind: 'vote', term: 2, lastTerm: 5, lastIndex: 9, transfer: false });
    expect(sends(raft.ready()).map((s) => s.m)).toEqual([
      { kind: 'vote-response', term: 2, granted: true },
      { kind: 'vote-response', term: 2, granted: false },
    ]);
  });

  it('a restarted node remembers its vote', () => {
    const { raft, storage } = node('b', { term: 1 });
    raft.receiveMessage('a', { kind: 'vote', term: 2, lastTerm: 0, lastIndex: 0, transfer: false });
    raft.ready();
    storage.crash();
    const again = new RaftNode({ id: 'b', peers: PEERS, storage, now: 0, timing: TIMING });
    again.receiveMessage('c', { kind: 'vote', term: 2, lastTerm: 0, lastIndex: 0, transfer: false });
    expect(sends(again.ready()).map((s) => s.m)).toEqual([{ kind: 'vote-response', term: 2, granted: false }]);
  });

  it('refuses a candidate whose log is behind: older last term, or same last term and shorter', () => {
    const log = [entry(1), entry(2), entry(2)];
    for (const [lastTerm, lastIndex, granted] of [
      [1, 9, false],
      [2, 2, false],
      [2, 3, true],
      [3, 1, true],
    ] as const) {
      const { raft } = node('b', { term: 2, entries: log });
      raft.receiveMessage('a', { kind: 'vote', term: 3, lastTerm, lastIndex, transfer: false });
      expect(sends(raft.ready()).map((s) => s.m)).toEqual([{ kind: 'vote-response', term: 3, granted }]);
      // The term moved on even when the vote was refused.
      expect(raft.status.term).toBe(3);
    }
  });

  it('refuses a request of an older term and answers with its own term', () => {
    const { raft } = node('b', { term: 5 });
    raft.receiveMessage('a', { kind: 'vote', term: 4, lastTerm: 4, lastIndex: 10, transfer: false });
    expect(sends(raft.ready()).map((s) => s.m)).toEqual([{ kind: 'vote-response', term: 5, granted: false }]);
  });

  it('wins with a quorum of votes, then appends a PeerState entry of its term and replicates it', () => {
    const { nodes, a, b, c } = cluster();
    expect(a.status).toMatchObject({ term: 1, leader: 'a', lastIndex: 1, commitIndex: 1 });
    expect(a.entryAt(1)).toMatchObject({ term: 1, type: EntryType.PeerState });
    for (const f of [b, c]) expect(f.status).toMatchObject({ role: 'follower', term: 1, leader: 'a', lastIndex: 1 });
    expect(nodes.size).toBe(3);
  });

  it('ignores a disruptive candidate while it hears from a leader, but not a leader transfer', () => {
    const { b } = cluster();
    b.receiveMessage('c', { kind: 'vote', term: 7, lastTerm: 1, lastIndex: 1, transfer: false });
    expect(sends(b.ready()).map((s) => s.m)).toEqual([{ kind: 'vote-response', term: 1, granted: false }]);
    expect(b.status).toMatchObject({ term: 1, leader: 'a' });
    b.receiveMessage('c', { kind: 'vote', term: 7, lastTerm: 1, lastIndex: 1, transfer: true });
    expect(sends(b.ready()).map((s) => s.m)).toEqual([{ kind: 'vote-response', term: 7, granted: true }]);
  });

  it('refusing a candidate whose log is behind makes it campaign soon; the old leader may campaign at once', () => {
    const { raft } = node('b', { term: 1, entries: [entry(1), entry(1)] });
    raft.receiveMessage('c', { kind: 'vote', term: 2, lastTerm: 1, lastIndex: 1, transfer: false });
    raft.ready();
    // Its next election is due within half the minimum election timeout, not a full timeout.
    raft.tick(TIMING.electionTimeoutMin / 2);
    expect(raft.status).toMatchObject({ role: 'candidate', term: 3 });

    const { b } = cluster();
    // a (the leader b follows) campaigns itself: its leader lease does not hold that back.
    b.receiveMessage('a', { kind: 'vote', term: 2, lastTerm: 1, lastIndex: 1, transfer: false });
    expect(sends(b.ready()).map((s) => s.m)).toEqual([{ kind: 'vote-response', term: 2, granted: true }]);
  });

  it('a leader or candidate that sees a higher term becomes a follower of that term, vote cleared', () => {
    const { a, storages } = cluster();
    a.receiveMessage('c', { kind: 'append-response', term: 3, success: false, index: 0 });
    expect(a.ready()[0]).toEqual({ type: 'state', role: 'follower', term: 3, leader: null });
    expect(storages.get('a')!.image).toMatchObject({ term: 3, vote: null });
    expect(a.propose(bytes('x'))).toEqual({ ok: false, reason: 'not-leader', leader: null });
  });

  it('a leader that hears from no quorum for an election timeout steps down', () => {
    const { a } = cluster();
    // The followers answered at 100: the check at 300 passes, the one at 500 does not.
    a.tick(100 + TIMING.electionTimeoutMax);
    expect(a.status.role).toBe('leader');
    a.tick(100 + 2 * TIMING.electionTimeoutMax);
    expect(a.status.role).toBe('follower');
  });

  it('stepDown hands leadership to an up-to-date peer with timeout-now', () => {
    const { nodes, a, c } = cluster();
    expect(a.stepDown('c')).toBe(true);
    const out = a.ready();
    expect(sends(out)).toEqual([{ to: 'c', m: { kind: 'timeout-now', term: 1 } }]);
    expect(a.status.role).toBe('follower');
    deliver(nodes, 'a', out);
    expect(c.status).toMatchObject({ role: 'leader', term: 2 });
    expect(a.status).toMatchObject({ role: 'follower', term: 2, leader: 'c' });
  });

  it('stepDown right after a proposal waits for a follower to have it (refusing proposals), then hands over: the entry survives', () => {
    const { nodes, a, b, c } = cluster();
    expect(a.propose(bytes('x')).ok).toBe(true);
    const appends = a.ready();
    // No follower has entry 2 yet: the transfer waits, and the leader takes no new proposal.
    expect(a.stepDown()).toBe(true);
    expect(a.status.role).toBe('leader');
    expect(a.propose(bytes('y'))).toMatchObject({ ok: false, reason: 'not-leader' });
    // Once a follower acks entry 2 it is told to campaign, and it wins with entry 2 in its log.
    deliver(nodes, 'a', [...appends, ...a.ready()]);
    const leader = [b, c].find((n) => n.status.role === 'leader');
    expect(leader).toBeDefined();
    expect(leader!.status.term).toBe(2);
    expect(a.status.role).toBe('follower');
    leader!.tick(120);
    deliver(nodes, leader!.id, leader!.ready());
    for (const n of [a, b, c]) expect(n.status.commitIndex).toBeGreaterThanOrEqual(3);
  });

  it('a stepdown no follower can complete ends after an election timeout without a target', () => {
    const { a } = cluster();
    expect(a.propose(bytes('x')).ok).toBe(true);
    a.ready();
    expect(a.stepDown()).toBe(true);
    a.tick(100 + TIMING.electionTimeoutMax - 1);
    expect(a.status.role).toBe('leader');
    a.tick(100 + TIMING.electionTimeoutMax);
    expect(a.status.role).toBe('follower');
    expect(sends(a.ready()).filter((s) => s.m.kind === 'timeout-now')).toEqual([]);
  });

  it('an observer never campaigns', () => {
    const storage = new MemoryRaftStorage();
    const raft = new RaftNode({ id: 'a', peers: PEERS, storage, now: 0, timing: TIMING, random: () => 0, observer: true });
    raft.tick(10_000);
    expect(raft.status.role).toBe('follower');
    raft.setObserver(false);
    raft.tick(20_000);
    expect(raft.status.role).toBe('candidate');
  });
});

describe('raft: replication', () => {
  it('commits a proposal once a quorum has it and applies it in order on every node', () => {
    const { nodes, a, b, c } = cluster();
    const r = a.propose(bytes('x'));
    expect(r).toEqual({ ok: true, index: 2, term: 1 });
    // c never gets it: a and b are a quorum.
    const seen = deliver(nodes, 'a', a.ready(), (to) => to === 'c');
    expect(a.status.commitIndex).toBe(2);
    expect(seen.applied('a')).toEqual([2]);
    // Once 2 commits the leader tells the followers at once (nats-server sends a heartbeat after
    // committing), not at the next heartbeat (1, the leader's no-op, was told the same way).
    expect(seen.applied('b')).toEqual([2]);
    a.tick(120); // a heartbeat catches c up
    const later = deliver(nodes, 'a', a.ready());
    expect(later.applied('b')).toEqual([]);
    expect(later.applied('c')).toEqual([2]); // c had 1 from the election's commit broadcast
    expect(c.status).toMatchObject({ lastIndex: 2, commitIndex: 2 });
  });

  it('a follower refuses an append that does not follow its log, with a hint where to resume', () => {
    const { raft } = node('b', { term: 2, entries: [entry(1), entry(1), entry(2), entry(2)] });
    raft.receiveMessage('a', { kind: 'append', term: 3, commit: 0, pterm: 3, pindex: 9, entries: [] });
    raft.receiveMessage('a', { kind: 'append', term: 3, commit: 0, pterm: 3, pindex: 4, entries: [] });
    expect(sends(raft.ready()).map((s) => s.m)).toEqual([
      { kind: 'append-response', term: 3, success: false, index: 4 }, // past its end: its last index
      { kind: 'append-response', term: 3, success: false, index: 2 }, // conflicting term 2: before it
    ]);
  });

  it('truncates a conflicting suffix, and never on a stale append whose entries it holds', () => {
    const { raft, storage } = node('b', { term: 2, entries: [entry(1), entry(1), entry(2), entry(2)] });
    raft.receiveMessage('a', { kind: 'append', term: 3, commit: 0, pterm: 1, pindex: 2, entries: [entry(3, 'new')] });
    expect(sends(raft.ready()).map((s) => s.m)).toEqual([{ kind: 'append-response', term: 3, success: true, index: 3 }]);
    expect(raft.status).toMatchObject({ lastIndex: 3, lastTerm: 3 });
    expect(storage.image.entries.map((e) => e.term)).toEqual([1, 1, 3]);
    raft.receiveMessage('a', { kind: 'append', term: 3, commit: 0, pterm: 3, pindex: 3, entries: [entry(3, 'n2')] });
    // A reordered older append of the same term: entries match, nothing is dropped.
    raft.receiveMessage('a', { kind: 'append', term: 3, commit: 0, pterm: 1, pindex: 2, entries: [entry(3, 'new')] });
    expect(sends(raft.ready()).map((s) => s.m)).toEqual([
      { kind: 'append-response', term: 3, success: true, index: 4 },
      { kind: 'append-response', term: 3, success: true, index: 3 },
    ]);
    expect(raft.status.lastIndex).toBe(4);
  });

  it('a follower commits no further than the entries an append proved to match', () => {
    const { raft } = node('b', { term: 1, entries: [entry(1), entry(1), entry(1)] });
    raft.receiveMessage('a', { kind: 'append', term: 2, commit: 3, pterm: 1, pindex: 1, entries: [] });
    raft.ready();
    expect(raft.status.commitIndex).toBe(1);
  });

  it('a new leader counts replicas only for entries of its own term (Figure 8)', () => {
    // a holds an entry of term 2 that b also holds; a wins term 3.
    const log = [entry(1), entry(2)];
    const a = node('a', { term: 2, entries: log }).raft;
    a.tick(100);
    a.ready();
    a.receiveMessage('b', { kind: 'vote-response', term: 3, granted: true });
    a.ready();
    expect(a.status).toMatchObject({ role: 'leader', term: 3, lastIndex: 3 });
    // b acknowledges index 2 (the term 2 entry): a quorum holds it, yet it is not committed.
    a.receiveMessage('b', { kind: 'append-response', term: 3, success: true, index: 2 });
    a.ready();
    expect(a.status.commitIndex).toBe(0);
    // Once the term 3 entry is on a quorum, everything up to it commits.
    a.receiveMessage('b', { kind: 'append-response', term: 3, success: true, index: 3 });
    expect(applied(a.ready())).toEqual([1, 2, 3]);
  });

  it('a follower that lost its log (deleted when it left the group, back before its removal took) is caught up from the start', () => {
    const { nodes, a } = cluster();
    expect(a.propose(bytes('x')).ok).toBe(true);
    deliver(nodes, 'a', a.ready());
    expect(a.progressOf('c')?.match).toBe(2);
    // c comes back with an empty log (and no memory of its term): the leader's match for it is stale.
    const fresh = node('c', { peers: [] });
    nodes.set('c', fresh.raft);
    expect(a.propose(bytes('y')).ok).toBe(true);
    deliver(nodes, 'a', a.ready());
    a.tick(120);
    deliver(nodes, 'a', a.ready());
    expect(fresh.raft.status).toMatchObject({ lastIndex: 3, commitIndex: 3 });
    expect(a.progressOf('c')?.match).toBe(3);
  });

  it('a leader backs up to a lagging follower and catches it up in batches', () => {
    const { nodes, a, c } = cluster();
    for (let i = 0; i < 150; i++) a.propose(bytes(`m${i}`));
    deliver(nodes, 'a', a.ready(), (to) => to === 'c');
    expect(a.status.commitIndex).toBe(151);
    a.tick(120);
    deliver(nodes, 'a', a.ready());
    expect(c.status).toMatchObject({ lastIndex: 151, commitIndex: 151 });
  });
});

describe('raft: snapshots', () => {
  it('compaction keeps the log after the snapshot; a follower behind it gets the snapshot', () => {
    const { nodes, a, c, storages } = cluster();
    for (let i = 0; i < 5; i++) a.propose(bytes(`m${i}`));
    deliver(nodes, 'a', a.ready(), (to) => to === 'c');
    a.ready();
    expect(a.compact(4, bytes('state@4'))).toBe(true);
    expect(a.compact(4, bytes('again'))).toBe(false);
    expect(a.compact(99, bytes('too far'))).toBe(false);
    a.ready();
    expect(storages.get('a')!.image.snapshot).toMatchObject({ lastIndex: 4, lastTerm: 1, peers: PEERS });
    expect(storages.get('a')!.image.entries).toHaveLength(2);
    expect(a.status).toMatchObject({ snapshotIndex: 4, lastIndex: 6 });
    // c has index 1 only: once the heartbeat finds it behind the compaction, it gets the snapshot.
    a.tick(120);
    const seen = deliver(nodes, 'a', a.ready());
    expect(seen.restores('c')).toBe(1);
    expect(seen.applied('c')).toEqual([5, 6]);
    expect(c.status).toMatchObject({ snapshotIndex: 4, lastIndex: 6, commitIndex: 6 });
    expect(storages.get('c')!.image.snapshot).toMatchObject({ lastIndex: 4, data: bytes('state@4') });
  });

  it('installing a snapshot emits restore, then applies what follows; a node restarts from it', () => {
    const { raft, storage } = node('b', { term: 1, entries: [entry(1)] });
    const snap = { lastIndex: 10, lastTerm: 1, peers: PEERS, data: bytes('S') };
    raft.receiveMessage('a', { kind: 'snapshot', term: 1, snapshot: snap });
    const out = raft.ready();
    expect(out.filter((o) => o.type !== 'state')).toEqual([
      { type: 'restore', snapshot: snap },
      { type: 'send', to: 'a', message: { kind: 'append-response', term: 1, success: true, index: 10 } },
    ]);
    expect(raft.status).toMatchObject({ commitIndex: 10, applied: 10, lastIndex: 10 });
    raft.receiveMessage('a', { kind: 'append', term: 1, commit: 11, pterm: 1, pindex: 10, entries: [entry(1, 'eleven')] });
    expect(applied(raft.ready())).toEqual([11]);
    storage.crash();
    const again = new RaftNode({ id: 'b', peers: PEERS, storage, now: 0, timing: TIMING });
    expect(again.ready().filter((o) => o.type === 'restore')).toEqual([{ type: 'restore', snapshot: snap }]);
    expect(again.status).toMatchObject({ snapshotIndex: 10, lastIndex: 11, applied: 10 });
  });

  it('an old snapshot (at or below the commit index) changes nothing', () => {
    const { nodes, a, b } = cluster();
    a.tick(120);
    deliver(nodes, 'a', a.ready());
    expect(b.status.commitIndex).toBe(1);
    b.receiveMessage('a', { kind: 'snapshot', term: 1, snapshot: { lastIndex: 1, lastTerm: 1, peers: PEERS, data: bytes('S') } });
    expect(b.ready().some((o) => o.type === 'restore')).toBe(false);
    expect(b.status.snapshotIndex).toBe(0);
  });
});

describe('raft: membership', () => {
  it('adds a peer as a log entry that counts at once, one change at a time', () => {
    const made = [...PEERS, 'd'].map((id) => node(id, { peers: id === 'd' ? [] : PEERS }));
    const nodes = new Map(made.map((n) => [n.raft.id, n.raft]));
    const a = nodes.get('a')!;
    a.tick(100);
    deliver(nodes, 'a', a.ready());
    const r = a.proposeAddPeer('d');
    expect(r).toEqual({ ok: true, index: 2, term: 1 });
    expect(a.status.peers).toEqual(['a', 'b', 'c', 'd']);
    expect(a.proposeAddPeer('e')).toEqual({ ok: false, reason: 'change-pending', leader: 'a' });
    expect(a.proposeAddPeer('d')).toEqual({ ok: false, reason: 'no-change', leader: 'a' });
    // With four voters, a and b alone (2 of 4) do not commit it.
    deliver(nodes, 'a', a.ready(), (to) => to === 'c' || to === 'd');
    expect(a.status.commitIndex).toBe(1);
    a.tick(120);
    deliver(nodes, 'a', a.ready(), (to) => to === 'c');
    expect(a.status.commitIndex).toBe(2);
    expect(nodes.get('d')!.status).toMatchObject({ peers: ['a', 'b', 'c', 'd'], lastIndex: 2 });
    expect(a.proposeRemovePeer('c')).toMatchObject({ ok: true, index: 3 });
  });

  it('a leader that removes itself leads until the removal commits, then steps aside and never campaigns', () => {
    const { nodes, a, b } = cluster();
    expect(a.proposeRemovePeer('a')).toMatchObject({ ok: true, index: 2 });
    expect(a.status.peers).toEqual(['b', 'c']);
    deliver(nodes, 'a', a.ready());
    expect(a.status).toMatchObject({ role: 'follower', commitIndex: 2 });
    a.tick(100_000);
    expect(a.status.role).toBe('follower');
    expect(b.status.peers).toEqual(['b', 'c']);
  });

  it('a truncated membership entry no longer counts', () => {
    const add: LogEntry = { term: 1, type: EntryType.AddPeer, data: encodePeerId('d') };
    const { raft } = node('b', { term: 1, entries: [entry(1), add] });
    expect(raft.status.peers).toEqual(['a', 'b', 'c', 'd']);
    raft.receiveMessage('a', { kind: 'append', term: 2, commit: 0, pterm: 1, pindex: 1, entries: [entry(2)] });
    raft.ready();
    expect(raft.status.peers).toEqual(PEERS);
  });
});
