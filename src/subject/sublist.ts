/**
 * The subject trie ("sublist"): subscriptions indexed by token, with `*` and `>` in dedicated
 * slots of each level, and a bounded cache of match results per literal subject.
 *
 * Shape after nats-server's `server/sublist.go`: results are immutable once built, so a caller
 * may keep iterating a result while the trie changes underneath it; the cache is updated by
 * dropping the entries a change affects, never by mutating a result in place.
 */
import { isValidSubscribeSubject, subjectMatches } from './subject.js';

/** What the sublist needs of a subscription. */
export interface SublistEntry {
  readonly subject: string;
  /** Queue group name, or null for a plain subscription. */
  readonly queue: string | null;
}

/** The subscriptions matching one literal subject. Treat as read-only. */
export interface SublistResult<S extends SublistEntry> {
  /** Plain subscriptions, one entry per subscription. */
  readonly psubs: readonly S[];
  /** One array per queue group name, holding every member that matched. */
  readonly qsubs: readonly (readonly S[])[];
}

/** Counters reported by `/subsz` (and useful in tests). */
export interface SublistStats {
  numSubscriptions: number;
  numCache: number;
  numInserts: number;
  numRemoves: number;
  numMatches: number;
  cacheHits: number;
  /** Over the cached results: the largest and the total fanout (plain subscriptions plus
   * queue groups), and how many results that is (nats-server's `max_fanout`, `avg_fanout`). */
  maxFanout: number;
  totalFanout: number;
  cachedResults: number;
}

/** Cache bound and sweep target, as nats-server (`slCacheMax`, `slCacheSweep`). */
export const CACHE_MAX = 1024;
export const CACHE_SWEEP = 256;

class Level<S extends SublistEntry> {
  readonly nodes = new Map<string, Node<S>>();
  pwc: Node<S> | null = null;
  fwc: Node<S> | null = null;

  get isEmpty(): boolean {
    return this.nodes.size === 0 && this.pwc === null && this.fwc === null;
  }
}

class Node<S extends SublistEntry> {
  next: Level<S> | null = null;
  readonly psubs = new Set<S>();
  qsubs: Map<string, Set<S>> | null = null;

  get isEmpty(): boolean {
    return this.psubs.size === 0 && (this.qsubs === null || this.qsubs.size === 0) &&
      (this.next === null || this.next.isEmpty);
  }
}

const EMPTY: SublistResult<never> = Object.freeze({ psubs: Object.freeze([]), qsubs: Object.freeze([]) });
const NO_GROUPS: readonly never[] = Object.freeze([]);

/** A subject trie with a bounded match cache. */
export class Sublist<S extends SublistEntry> {
  private readonly root = new Level<S>();
  private readonly cache: Map<string, SublistResult<S>> | null;
  private count = 0;
  private inserts = 0;
  private removes = 0;
  private matches = 0;
  private hits = 0;
  /** Watchers of exact subjects (nats-server's registerNotification): called on insert/remove. */
  private watchers: Map<string, (() => void)[]> | null = null;

  /** @param cacheEnabled keep a cache of match results (tests run both modes). */
  constructor(cacheEnabled = true) {
    this.cache = cacheEnabled ? new Map() : null;
  }

  /** Number of subscriptions held. */
  get size(): number {
    return this.count;
  }

  /** Adds `sub`. Returns false (and changes nothing) when its subject is not valid for SUB. */
  insert(sub: S): boolean {
    const subject = sub.subject;
    if (!isValidSubscribeSubject(subject)) return false;
    let level = this.root;
    let node: Node<S> | null = null;
    let start = 0;
    for (;;) {
      const dot = subject.indexOf('.', start);
      const end = dot === -1 ? subject.length : dot;
      node = childFor(level, subject, start, end);
      if (dot === -1) break;
      if (node.next === null) node.next = new Level<S>();
      level = node.next;
      start = dot + 1;
    }
    if (sub.queue === null) {
      node.psubs.add(sub);
    } else {
      if (node.qsubs === null) node.qsubs = new Map();
      let group = node.qsubs.get(sub.queue);
      if (group === undefined) {
        group = new Set();
        node.qsubs.set(sub.queue, group);
      }
      group.add(sub);
    }
    this.count++;
    this.inserts++;
    this.invalidate(subject);
    if (this.watchers !== null) this.notify(subject);
    return true;
  }

  /** Removes `sub`. Returns false when it was not present. */
  remove(sub: S): boolean {
    const subject = sub.subject;
    // Walk down remembering the path so empty nodes can be pruned on the way back.
    const levels: Level<S>[] = [];
    const nodes: Node<S>[] = [];
    const keys: string[] = [];
    let level: Level<S> | null = this.root;
    let start = 0;
    for (;;) {
      if (level === null) return false;
      const dot = subject.indexOf('.', start);
      const end = dot === -1 ? subject.length : dot;
      const token = subject.slice(start, end);
      let node: Node<S> | null | undefined;
      if (token === '*') node = level.pwc;
      else if (token === '>') node = level.fwc;
      else node = level.nodes.get(token);
      if (node == null) return false;
      levels.push(level);
      nodes.push(node);
      keys.push(token);
      if (dot === -1) break;
      level = node.next;
      start = dot + 1;
    }
    const leaf = nodes[nodes.length - 1];
    if (sub.queue === null) {
      if (!leaf.psubs.delete(sub)) return false;
    } else {
      const group = leaf.qsubs?.get(sub.queue);
      if (group === undefined || !group.delete(sub)) return false;
      if (group.size === 0) leaf.qsubs!.delete(sub.queue);
    }
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      if (node.next !== null && node.next.isEmpty) node.next = null;
      if (!node.isEmpty) break;
      const lvl = levels[i];
      const key = keys[i];
      if (key === '*') lvl.pwc = null;
      else if (key === '>') lvl.fwc = null;
      else lvl.nodes.delete(key);
    }
    this.count--;
    this.removes++;
    this.invalidate(subject);
    if (this.watchers !== null) this.notify(subject);
    return true;
  }

  /**
   * Calls `fn` whenever an entry whose subject is exactly `subject` is inserted or removed
   * (nats-server's `registerNotification`, which JetStream push consumers use to follow the
   * interest on their deliver subject). `fn` runs inside insert/remove: it must not change this
   * sublist.
   */
  watch(subject: string, fn: () => void): void {
    if (this.watchers === null) this.watchers = new Map();
    const list = this.watchers.get(subject);
    if (list === undefined) this.watchers.set(subject, [fn]);
    else list.push(fn);
  }

  /**
   * Calls the watchers of `subject`: interest held outside this sublist changed (a remote
   * cluster's, through a gateway).
   */
  notifyWatchers(subject: string): void {
    if (this.watchers !== null) this.notify(subject);
  }

  /** Stops a {@link watch}. */
  unwatch(subject: string, fn: () => void): void {
    const list = this.watchers?.get(subject);
    if (list === undefined) return;
    const i = list.indexOf(fn);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) {
      this.watchers!.delete(subject);
      if (this.watchers!.size === 0) this.watchers = null;
    }
  }

  private notify(subject: string): void {
    const list = this.watchers!.get(subject);
    if (list !== undefined) for (const fn of list.slice()) fn();
  }

  /**
   * All subscriptions matching the literal subject `subject`. `once`: a subject published once
   * (a reply to a request's unique inbox), whose result is not cached: caching it only evicted
   * the results that are looked up again, and a request-reply load filled the cache with dead
   * inboxes so that every lookup missed. One method with a flag, not two: the router's fan-out
   * inlines this call and must stay within V8's inlining budget.
   */
  match(subject: string, once = false): SublistResult<S> {
    this.matches++;
    const cache = this.cache;
    if (cache !== null) {
      const hit = cache.get(subject);
      if (hit !== undefined) {
        this.hits++;
        return hit;
      }
    }
    const result = this.collect(subject);
    if (cache !== null && !once) {
      cache.set(subject, result);
      if (cache.size > CACHE_MAX) this.sweep(cache);
    }
    return result;
  }

  /** Counters for monitoring. The fanout figures walk the cache (at most `CACHE_MAX` entries). */
  stats(): SublistStats {
    let maxFanout = 0;
    let totalFanout = 0;
    let cachedResults = 0;
    if (this.cache !== null) {
      for (const r of this.cache.values()) {
        const n = r.psubs.length + r.qsubs.length;
        cachedResults++;
        totalFanout += n;
        if (n > maxFanout) maxFanout = n;
      }
    }
    return {
      numSubscriptions: this.count,
      numCache: this.cache === null ? 0 : this.cache.size,
      numInserts: this.inserts,
      numRemoves: this.removes,
      numMatches: this.matches,
      cacheHits: this.hits,
      maxFanout,
      totalFanout,
      cachedResults,
    };
  }

  /** Calls `fn` for every subscription held, walking the trie (plain ones before queue members). */
  forEach(fn: (sub: S) => void): void {
    const visitNode = (node: Node<S>): void => {
      for (const s of node.psubs) fn(s);
      if (node.qsubs !== null) for (const group of node.qsubs.values()) for (const s of group) fn(s);
      if (node.next !== null) visitLevel(node.next);
    };
    const visitLevel = (level: Level<S>): void => {
      for (const node of level.nodes.values()) visitNode(node);
      if (level.pwc !== null) visitNode(level.pwc);
      if (level.fwc !== null) visitNode(level.fwc);
    };
    visitLevel(this.root);
  }

  /** Tokens of the subject being collected (reused: no array per lookup). */
  private readonly tokens: string[] = [];
  /**
   * Plain subscriptions found by the lookup in progress (the first {@link nfound}), copied into
   * its result. Never truncated: an array set to length 0 gives up its storage, and the next
   * push allocated it again.
   */
  private readonly found: (S | null)[] = [];
  private nfound = 0;
  /** Queue members found by the lookup in progress, by group; null when none. */
  private groups: Map<string, S[]> | null = null;

  private collect(subject: string): SublistResult<S> {
    const tokens = this.tokens;
    let n = 0;
    let start = 0;
    for (;;) {
      const dot = subject.indexOf('.', start);
      const end = dot === -1 ? subject.length : dot;
      // A subject with an empty token matches nothing (nats-server returns an empty result).
      if (end === start) return EMPTY;
      tokens[n++] = subject.slice(start, end);
      if (dot === -1) break;
      start = dot + 1;
    }
    const found = this.found;
    this.nfound = 0;
    this.groups = null;
    this.walk(this.root, 0, n - 1);
    const groups = this.groups as Map<string, S[]> | null;
    this.groups = null;
    const nfound = this.nfound;
    if (nfound === 0 && groups === null) return EMPTY;
    const psubs = found.slice(0, nfound) as S[];
    for (let i = 0; i < nfound; i++) found[i] = null;
    return { psubs, qsubs: groups === null ? NO_GROUPS : [...groups.values()] };
  }

  /** Collects the subscriptions under `level` that match tokens `i..last` (recursive, no closures). */
  private walk(level: Level<S>, i: number, last: number): void {
    if (level.fwc !== null) this.add(level.fwc);
    const pwc = level.pwc;
    if (pwc !== null) {
      if (i === last) this.add(pwc);
      else if (pwc.next !== null) this.walk(pwc.next, i + 1, last);
    }
    const node = level.nodes.get(this.tokens[i]);
    if (node !== undefined) {
      if (i === last) this.add(node);
      else if (node.next !== null) this.walk(node.next, i + 1, last);
    }
  }

  /** Adds one plain subscription to {@link found} (made once: Set.forEach without a closure per call). */
  private readonly pushFound = (sub: S): void => {
    this.found[this.nfound++] = sub;
  };

  private add(node: Node<S>): void {
    // forEach, not for-of: the Set iterator was an allocation per matched node.
    if (node.psubs.size > 0) node.psubs.forEach(this.pushFound);
    if (node.qsubs === null) return;
    for (const [name, group] of node.qsubs) {
      if (this.groups === null) this.groups = new Map();
      let members = this.groups.get(name);
      if (members === undefined) {
        members = [];
        this.groups.set(name, members);
      }
      for (const s of group) members.push(s);
    }
  }

  /** Drops cached results that a change to `pattern` affects. */
  private invalidate(pattern: string): void {
    const cache = this.cache;
    if (cache === null || cache.size === 0) return;
    for (const key of cache.keys()) {
      if (subjectMatches(pattern, key)) cache.delete(key);
    }
  }

  private sweep(cache: Map<string, SublistResult<S>>): void {
    // Map iteration is insertion order: the oldest entries go first.
    let excess = cache.size - CACHE_SWEEP;
    for (const key of cache.keys()) {
      if (excess-- <= 0) break;
      cache.delete(key);
    }
  }
}

function childFor<S extends SublistEntry>(level: Level<S>, subject: string, start: number, end: number): Node<S> {
  if (end - start === 1) {
    const c = subject.charCodeAt(start);
    if (c === 0x2a) return level.pwc ?? (level.pwc = new Node<S>());
    if (c === 0x3e) return level.fwc ?? (level.fwc = new Node<S>());
  }
  const token = subject.slice(start, end);
  let node = level.nodes.get(token);
  if (node === undefined) {
    node = new Node<S>();
    level.nodes.set(token, node);
  }
  return node;
}
