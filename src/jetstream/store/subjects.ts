/**
 * Per-subject state of a store: how many messages a subject has and its first and last
 * sequence, so that `loadLast`, `filteredState`, `subjectsState` and the per-subject limit do
 * not scan the messages. nats-server keeps the same `SimpleState` per subject (memstore's `fss`,
 * filestore's `psim`), including its lazy first/last: removing a subject's first (or last)
 * message only marks the bound stale, and the next reader finds the new one (server/memstore.go
 * `removeSeqPerSubject`, `recalculateForSubj`).
 *
 * Each subject also has a small integer id, which is what the sequence index stores per message
 * instead of the string. Ids of subjects that lost their last message are reused.
 */
import { subjectMatches } from '../../subject/subject.js';

/** One subject's state. `first`/`last` are exact unless the matching `*Stale` flag is set. */
export class SubjectInfo {
  msgs = 0;
  first = 0;
  last = 0;
  firstStale = false;
  lastStale = false;

  constructor(
    readonly id: number,
    readonly name: string,
  ) {}
}

/** The subjects of a store, by name and by id. */
export class SubjectTable {
  readonly byName = new Map<string, SubjectInfo>();
  readonly byId: (SubjectInfo | undefined)[] = [];
  private readonly freeIds: number[] = [];

  get size(): number {
    return this.byName.size;
  }

  get(name: string): SubjectInfo | undefined {
    return this.byName.get(name);
  }

  /** A new subject with no messages yet. */
  add(name: string): SubjectInfo {
    const id = this.freeIds.length > 0 ? (this.freeIds.pop() as number) : this.byId.length;
    const info = new SubjectInfo(id, name);
    this.byId[id] = info;
    this.byName.set(name, info);
    return info;
  }

  delete(info: SubjectInfo): void {
    this.byName.delete(info.name);
    this.byId[info.id] = undefined;
    this.freeIds.push(info.id);
  }

  clear(): void {
    this.byName.clear();
    this.byId.length = 0;
    this.freeIds.length = 0;
  }

  /** The subjects `filter` selects ('' and '>' select all; wildcards allowed). */
  matching(filter: string): SubjectInfo[] {
    if (isAll(filter)) return [...this.byName.values()];
    if (!hasWildcard(filter)) {
      const info = this.byName.get(filter);
      return info === undefined ? [] : [info];
    }
    const out: SubjectInfo[] = [];
    for (const info of this.byName.values()) if (subjectMatches(filter, info.name)) out.push(info);
    return out;
  }
}

/** Does `filter` select every subject? */
export function isAll(filter: string): boolean {
  return filter === '' || filter === '>';
}

/** Does `subject` hold a `*` or `>` token (nats-server `subjectHasWildcard`)? */
export function hasWildcard(subject: string): boolean {
  for (let i = 0; i < subject.length; i++) {
    const c = subject.charCodeAt(i);
    if ((c === 0x2a || c === 0x3e) && (i === 0 || subject.charCodeAt(i - 1) === 0x2e)) {
      if (i + 1 === subject.length || subject.charCodeAt(i + 1) === 0x2e) return true;
    }
  }
  return false;
}

/** Does the stored subject `subject` match `filter` (literal, wildcard, '' or '>')? */
export function filterMatches(filter: string, subject: string): boolean {
  if (isAll(filter)) return true;
  return hasWildcard(filter) ? subjectMatches(filter, subject) : filter === subject;
}
