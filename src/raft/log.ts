/**
 * The in-memory view of a node's log: the snapshot base (index and term of the last compacted
 * entry) and the entries after it. Indexes start at 1; index 0 / term 0 is the empty log.
 */
import type { LogEntry, Snapshot } from './types.js';

export class RaftLog {
  private base: number;
  private baseTerm: number;
  private entries: LogEntry[];

  constructor(snapshot: Snapshot | null, entries: readonly LogEntry[]) {
    this.base = snapshot?.lastIndex ?? 0;
    this.baseTerm = snapshot?.lastTerm ?? 0;
    this.entries = entries.slice();
  }

  /** The index of the last compacted entry (0 without a snapshot). */
  get snapshotIndex(): number {
    return this.base;
  }

  get snapshotTerm(): number {
    return this.baseTerm;
  }

  get lastIndex(): number {
    return this.base + this.entries.length;
  }

  get lastTerm(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1].term : this.baseTerm;
  }

  /** The term at `index`, or undefined when it is compacted away or past the end. */
  termAt(index: number): number | undefined {
    if (index === this.base) return this.baseTerm;
    return this.entries[index - this.base - 1]?.term;
  }

  /** The entry at `index`, or undefined when compacted or past the end. */
  entry(index: number): LogEntry | undefined {
    return index > this.base ? this.entries[index - this.base - 1] : undefined;
  }

  /** Entries [from, from+max) that exist (from > snapshotIndex). */
  slice(from: number, max: number): LogEntry[] {
    const start = from - this.base - 1;
    return this.entries.slice(start, start + max);
  }

  /** Drops entries at `from` and after, then appends. */
  replaceFrom(from: number, entries: readonly LogEntry[]): void {
    this.entries.length = from - this.base - 1;
    for (const e of entries) this.entries.push(e);
  }

  /** Compacts through `index` (which has term `term`); keeps the suffix or drops everything. */
  compact(index: number, term: number, keepSuffix: boolean): void {
    this.entries = keepSuffix ? this.entries.slice(index - this.base) : [];
    this.base = index;
    this.baseTerm = term;
  }
}
