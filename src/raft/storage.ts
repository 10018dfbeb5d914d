/**
 * What a Raft node keeps across crashes, behind a small interface, and an in-memory
 * implementation that models a disk: writes are pending until `sync()`, and `crash()` keeps only
 * what was synced.
 *
 * The durability rule (Raft's "respond to RPCs only after updating stable storage"): the node
 * writes through this interface while it handles an input, and calls `sync()` before it hands
 * any output to its driver (`RaftNode.ready()`). So a vote is durable before the grant leaves,
 * appended entries are durable before their ack leaves, and a new term is durable before a vote
 * request or append carrying it leaves. A file-backed store makes `sync()` its fsync.
 */
import type { LogEntry, Snapshot } from './types.js';

/** The state a node starts from. `entries[0]` has index `(snapshot?.lastIndex ?? 0) + 1`. */
export interface RaftPersistentState {
  readonly term: number;
  readonly vote: string | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly LogEntry[];
}

/** Stable storage of one node. Writes may be buffered until {@link RaftStorage.sync}. */
export interface RaftStorage {
  /** What was durable when the node starts. */
  load(): RaftPersistentState;
  /** The current term and the vote cast in it. */
  saveTermVote(term: number, vote: string | null): void;
  /** Drops every entry at `firstIndex` or later, then appends `entries` from `firstIndex` on. */
  writeEntries(firstIndex: number, entries: readonly LogEntry[]): void;
  /**
   * Replaces the log up to `snapshot.lastIndex` by the snapshot. With `keepSuffix` the entries
   * after it stay (compaction, or an installed snapshot the log agrees with); without, the whole
   * log goes.
   */
  saveSnapshot(snapshot: Snapshot, keepSuffix: boolean): void;
  /** Makes every write so far durable. */
  sync(): void;
}

interface Image {
  term: number;
  vote: string | null;
  snapshot: Snapshot | null;
  entries: LogEntry[];
}

function copy(i: Image): Image {
  return { term: i.term, vote: i.vote, snapshot: i.snapshot, entries: i.entries.slice() };
}

/** {@link RaftStorage} in memory, with a durable image (synced) and a working one. */
export class MemoryRaftStorage implements RaftStorage {
  private durable: Image = { term: 0, vote: null, snapshot: null, entries: [] };
  private working: Image = copy(this.durable);
  private dirty = false;
  /** How many syncs wrote something (for tests of the durability rule). */
  syncs = 0;

  load(): RaftPersistentState {
    const d = copy(this.durable);
    this.working = copy(d);
    this.dirty = false;
    return d;
  }

  saveTermVote(term: number, vote: string | null): void {
    this.working.term = term;
    this.working.vote = vote;
    this.dirty = true;
  }

  writeEntries(firstIndex: number, entries: readonly LogEntry[]): void {
    const base = (this.working.snapshot?.lastIndex ?? 0) + 1;
    this.working.entries.length = Math.max(0, firstIndex - base);
    for (const e of entries) this.working.entries.push(e);
    this.dirty = true;
  }

  saveSnapshot(snapshot: Snapshot, keepSuffix: boolean): void {
    const base = (this.working.snapshot?.lastIndex ?? 0) + 1;
    this.working.entries = keepSuffix ? this.working.entries.slice(Math.max(0, snapshot.lastIndex + 1 - base)) : [];
    this.working.snapshot = snapshot;
    this.dirty = true;
  }

  sync(): void {
    if (!this.dirty) return;
    this.durable = copy(this.working);
    this.dirty = false;
    this.syncs++;
  }

  /** Writes not yet synced (false right after a node's `ready()`). */
  get unsynced(): boolean {
    return this.dirty;
  }

  /** A crash: every write since the last sync is lost. The next `load()` sees the durable image. */
  crash(): void {
    this.working = copy(this.durable);
    this.dirty = false;
  }

  /** The durable image, read-only (for checkers). */
  get image(): RaftPersistentState {
    return this.durable;
  }
}
