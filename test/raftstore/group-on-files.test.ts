/**
 * A 3-node Raft group on FileRaftStorage in temporary directories, driven by hand (a clock,
 * immediate delivery): entries committed, the leader crashed (its storage dropped without a
 * sync: only what it synced remains) while it has proposals in flight, a new leader elected,
 * more entries committed and compacted into snapshot files, the old leader restarted from its
 * directory (a reopen) and caught up, then the whole group restarted from disk. Every entry
 * acknowledged as committed survives on every member, in order, exactly once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileRaftStorage } from '../../src/raftstore/file-storage.js';
import { RaftNode } from '../../src/raft/node.js';
import { EntryType, type RaftMessage, type RaftTiming } from '../../src/raft/types.js';

const ROOT = mkdtempSync(join(tmpdir(), 'raft-file-group-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

const TIMING: RaftTiming = { electionTimeoutMin: 150, electionTimeoutMax: 300, heartbeatInterval: 50 };
const IDS = ['a', 'b', 'c'];
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Member {
  id: string;
  storage: FileRaftStorage;
  raft: RaftNode;
  /** The state machine: the data of the Normal entries applied, in order. */
  sm: string[];
}

function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

class Group {
  now = 0;
  readonly members = new Map<string, Member>();
  private readonly random = seeded(1818);
  /** Where each committed proposal was acknowledged (the leader applied it). */
  readonly acked: string[] = [];

  start(id: string): Member {
    const storage = new FileRaftStorage(join(ROOT, id), { segmentBytes: 2048 });
    const raft = new RaftNode({ id, peers: IDS, storage, now: this.now, timing: TIMING, random: this.random });
    const m: Member = { id, storage, raft, sm: [] };
    this.members.set(id, m);
    return m;
  }

  /** A crash: the node's volatile state goes, its storage keeps only what it synced. */
  crash(id: string): void {
    this.members.get(id)?.storage.close();
    this.members.delete(id);
  }

  leader(): Member | undefined {
    return [...this.members.values()].find((m) => m.raft.status.role === 'leader');
  }

  /** Moves the clock by `ms`, delivering every message at once. */
  run(ms: number): void {
    for (const end = this.now + ms; this.now < end; ) {
      this.now += 10;
      for (const m of this.members.values()) m.raft.tick(this.now);
      this.drain();
    }
  }

  private drain(): void {
    const queue: { from: string; to: string; m: RaftMessage }[] = [];
    const collect = () => {
      for (const m of this.members.values()) {
        for (const o of m.raft.ready()) {
          if (o.type === 'send') queue.push({ from: m.id, to: o.to, m: o.message });
          else if (o.type === 'restore') m.sm = JSON.parse(dec.decode(o.snapshot.data)) as string[];
          else if (o.type === 'apply' && o.entry.type === EntryType.Normal) {
            m.sm.push(dec.decode(o.entry.data));
            if (m.raft.status.role === 'leader') this.acked.push(dec.decode(o.entry.data));
          }
        }
      }
    };
    collect();
    while (queue.length > 0) {
      for (const { from, to, m } of queue.splice(0)) this.members.get(to)?.raft.receiveMessage(from, m);
      collect();
    }
  }

  /** Proposes on the leader, without waiting for the commit. */
  propose(data: string): boolean {
    const l = this.leader();
    return l !== undefined && l.raft.propose(enc.encode(data)).ok;
  }

  /** Compacts a member up to what it applied. */
  compact(id: string): void {
    const m = this.members.get(id)!;
    expect(m.raft.compact(m.raft.status.applied, enc.encode(JSON.stringify(m.sm)))).toBe(true);
    this.drain();
  }
}

describe('a Raft group on FileRaftStorage', () => {
  it('keeps every committed entry through a leader crash, a restart from disk, and compactions', () => {
    const g = new Group();
    for (const id of IDS) g.start(id);
    g.run(1000);
    const first = g.leader();
    expect(first).toBeDefined();
    for (let i = 0; i < 40; i++) {
      expect(g.propose(`one-${i}`)).toBe(true);
      g.run(10);
    }
    g.run(200);
    expect(g.acked).toEqual(Array.from({ length: 40 }, (_, i) => `one-${i}`));

    // Proposals in flight, then the leader dies: whatever it acked must survive.
    for (let i = 0; i < 5; i++) g.propose(`lost-maybe-${i}`);
    const old = first!.id;
    g.crash(old);
    g.run(1500);
    const second = g.leader();
    expect(second).toBeDefined();
    expect(second!.id).not.toBe(old);
    for (let i = 0; i < 40; i++) {
      expect(g.propose(`two-${i}`)).toBe(true);
      g.run(10);
    }
    g.run(200);
    // Compaction on the new leader and the follower: snapshot files, old segments removed.
    for (const m of [...g.members.values()]) g.compact(m.id);
    for (let i = 0; i < 10; i++) {
      expect(g.propose(`three-${i}`)).toBe(true);
      g.run(10);
    }
    g.run(200);

    // The old leader restarts from its directory and catches up (through the snapshot).
    const back = g.start(old);
    expect(back.raft.status.lastIndex).toBeGreaterThanOrEqual(40);
    g.run(2000);
    expect(back.raft.status.snapshotIndex).toBeGreaterThan(80); // installed the leader's snapshot
    const acked = g.acked.slice();
    for (const d of ['one-39', 'two-39', 'three-9']) expect(acked).toContain(d);
    for (const m of g.members.values()) {
      expect(m.sm.filter((d) => acked.includes(d))).toEqual(acked);
      expect(new Set(m.sm).size).toBe(m.sm.length);
    }

    // The whole group crashes and restarts from disk: the applied state is rebuilt from the
    // snapshot files and the logs, and a new leader commits on top of it.
    const before = new Map([...g.members.values()].map((m) => [m.id, m.sm.slice()]));
    for (const id of IDS) g.crash(id);
    for (const id of IDS) g.start(id);
    g.run(2000);
    expect(g.leader()).toBeDefined();
    expect(g.propose('after')).toBe(true);
    g.run(300);
    for (const m of g.members.values()) {
      expect(m.sm).toEqual([...before.get(m.id)!, 'after']);
      expect(m.storage.recovery.lostBytes).toBe(0);
      expect(readdirSync(join(ROOT, m.id)).filter((n) => n.startsWith('0000000000-'))).toEqual([]);
    }
    for (const id of IDS) g.crash(id);
  });
});
