/**
 * What the memory and the file store have in common: sequences, per-subject state, the limits,
 * purges, expiry and every query — nats-server's memstore logic (server/memstore.go, with the
 * file store's own differences from server/filestore.go where they are observable). The two
 * stores differ only in where payloads live, which they implement as the few abstract methods
 * at the bottom (`writeMsg`, `readMsg`, `dropMsg`, `writeFloor`, `writeSkip`, `maintain`).
 *
 * Long because the store's semantics belong together: each rule of nats-server's stores is
 * implemented once here, for both stores.
 *
 * Rules taken from nats-server 2.10.29 (server/memstore.go `storeRawMsg`, `UpdateConfig`,
 * `expireMsgs`, `removeMsg`, `PurgeEx`, `Compact`):
 * - discard new refuses a message when `msgs >= max_msgs`, or when `bytes + size >= max_bytes`
 *   (sic, `>=`), unless the subject is at its per-subject limit and the store will drop that
 *   subject's oldest instead (for bytes only when that oldest is not smaller than the new one:
 *   memstore; not smaller or equal: filestore);
 * - per-subject limits drop the subject's oldest whatever the discard policy, unless
 *   `discardNewPerSubject` refuses the message; then max_msgs and max_bytes drop the oldest
 *   messages, with discard old only (a lowered limit with discard new drops nothing);
 * - expiry removes from the first message on while its time is at or before now − max_age.
 * Where 2.10.29 has since-fixed bugs the later behaviour is used: purge's `seq` is exclusive
 * (1 purges nothing), `keep` keeps exactly the newest N matching messages (2.10.29's memstore
 * compacted to last − keep + 1), a per-subject limit set where there was none is enforced
 * (2.10.29 skipped it when the old value was -1) and a compaction that leaves nothing sets
 * first = last + 1.
 * Documented choices of the interface: `loadLast('>')` is the newest message (nats-server loads
 * the last sequence, null if that one was removed); `filteredState` reports the first and last
 * matching sequences that exist; `firstTs` is 0 whenever the store is empty.
 */
import {
  nowMs,
  StoreError,
  type RemovalListener,
  type StoredMessage,
  type StoreLimits,
  type StoreResult,
  type StoreState,
  type StreamStore,
  type SubjectState,
} from './store.js';
import { emptyList, SeqIndex, type IndexBlock } from './seq-index.js';
import { hasWildcard, isAll, SubjectTable, type SubjectInfo } from './subjects.js';
import { timerDelay } from '../../io/timers.js';

/** Options both stores take besides their limits. */
export interface StoreOptions {
  /**
   * The clock for message times and expiry: epoch milliseconds (default {@link nowMs}).
   * Tests inject a fake one and call `checkExpiry()` after moving it.
   */
  readonly clock?: () => number;
  /** Entries per block of the sequence index (default 4096); tests use small blocks. */
  readonly indexBlock?: number;
}

const REFUSED = {
  MaxMsgs: Object.freeze({ error: StoreError.MaxMsgs }),
  MaxBytes: Object.freeze({ error: StoreError.MaxBytes }),
  MaxMsgsPerSubject: Object.freeze({ error: StoreError.MaxMsgsPerSubject }),
  MsgTooLarge: Object.freeze({ error: StoreError.MsgTooLarge }),
  Closed: Object.freeze({ error: StoreError.Closed }),
} as const;

const NONE: SubjectState = Object.freeze({ msgs: 0, first: 0, last: 0 });

/** The shared store logic (see the module comment). */
export abstract class BaseStore implements StreamStore {
  abstract readonly kind: 'memory' | 'file';

  protected limits: StoreLimits;
  /** The per-subject limit, 0 when unlimited. */
  private maxPer: number;
  protected readonly clock: () => number;
  /** Whether a timer expires messages past max_age (see {@link setExpiryTimer}). */
  private timerExpiry = true;
  protected readonly index: SeqIndex;
  protected readonly subjects = new SubjectTable();
  protected closed = false;

  protected msgs = 0;
  protected bytes = 0;
  /** 0 for a store that never held anything, else the first message's (or last + 1). */
  protected firstSeq = 0;
  protected firstTs = 0;
  protected lastSeq = 0;
  protected lastTs = 0;

  /** Set by `writeMsg`: where the payload went. */
  protected wChunk = 0;
  protected wOff = 0;

  private listener: RemovalListener | null = null;
  // Removals are reported once the operation is complete (the listener may read the store).
  private readonly pendSeq: number[] = [];
  private readonly pendSize: number[] = [];
  private readonly pendSubj: string[] = [];
  private flushing = false;
  private expiryTimer: NodeJS.Timeout | null = null;

  constructor(
    limits: StoreLimits,
    options: StoreOptions | undefined,
    private readonly sizeOf: (subject: string, hdr: Buffer | null, data: Buffer) => number,
    /** The discard-new replacement rule: is a subject's oldest of `oldest` bytes too small to make room for `size`? */
    private readonly tooSmallToReplace: (oldest: number, size: number) => boolean,
  ) {
    this.limits = limits;
    this.maxPer = limits.maxMsgsPerSubject > 0 ? limits.maxMsgsPerSubject : 0;
    this.clock = options?.clock ?? nowMs;
    this.index = new SeqIndex(options?.indexBlock);
  }

  // ─── writing ────────────────────────────────────────────────────────────────────────────

  store(subject: string, hdr: Buffer | null, data: Buffer, ts?: number): StoreResult {
    if (this.closed) return REFUSED.Closed;
    if (hdr !== null && hdr.length === 0) hdr = null;
    const hdrLen = hdr === null ? 0 : hdr.length;
    const L = this.limits;
    if (L.maxMsgSize > 0 && hdrLen + data.length > L.maxMsgSize) return REFUSED.MsgTooLarge;
    const size = this.sizeOf(subject, hdr, data);
    let info = this.subjects.get(subject);
    const maxPer = this.maxPer;
    const atLimit = maxPer > 0 && info !== undefined && info.msgs >= maxPer;
    if (L.discard === 'new') {
      if (atLimit && L.discardNewPerSubject) return REFUSED.MaxMsgsPerSubject;
      if (L.maxMsgs > 0 && this.msgs >= L.maxMsgs && !atLimit) return REFUSED.MaxMsgs;
      if (L.maxBytes > 0 && this.bytes + size >= L.maxBytes) {
        if (!atLimit) return REFUSED.MaxBytes;
        if (this.tooSmallToReplace(this.sizeOfSeq(this.subjectFirst(info as SubjectInfo)), size)) return REFUSED.MaxBytes;
      }
    }
    if (ts === undefined) ts = this.clock();
    const seq = this.lastSeq + 1;
    const created = info === undefined;
    if (info === undefined) info = this.subjects.add(subject);
    try {
      this.writeMsg(seq, ts, subject, hdr, data);
    } catch (err) {
      if (created) this.subjects.delete(info);
      throw err;
    }
    this.index.append(seq, ts, info.id, size, this.wChunk, this.wOff, hdrLen, data.length);
    if (this.msgs === 0) {
      this.firstSeq = seq;
      this.firstTs = ts;
    }
    this.msgs++;
    this.bytes += size;
    this.lastSeq = seq;
    this.lastTs = ts;
    if (info.msgs === 0) {
      info.first = seq;
      info.firstStale = false;
    }
    info.msgs++;
    info.last = seq;
    info.lastStale = false;
    if (maxPer > 0 && info.msgs > maxPer) this.enforcePerSubject(info, maxPer);
    this.enforceMsgLimit();
    this.enforceBytesLimit();
    this.armExpiry();
    this.finish();
    return { seq, ts };
  }

  skip(): number {
    if (this.closed) return 0;
    this.skipThrough(this.lastSeq + 1);
    return this.lastSeq;
  }

  skipThrough(last: number, at?: number): void {
    if (this.closed || last <= this.lastSeq) return;
    const ts = at ?? this.clock();
    // Only the highest sequence needs a record: what lies between is neither stored nor indexed.
    this.writeSkip(last, ts);
    this.lastSeq = last;
    this.lastTs = ts;
    if (this.msgs === 0) this.firstSeq = last + 1;
    this.finish();
  }

  remove(seq: number, erase = false): boolean {
    if (this.closed || !this.index.locate(seq)) return false;
    this.removeAt(this.index.b, this.index.i, true, erase);
    this.finish();
    return true;
  }

  purge(subject: string, seq: number, keep: number): number {
    if (this.closed || seq === 1) return 0; // "below 1" is nothing
    let purged = 0;
    if (isAll(subject)) {
      if (keep === 0 && seq === 0) purged = this.compactTo(this.lastSeq + 1);
      else if (seq > 1) purged = this.compactTo(seq);
      else if (keep < this.msgs) purged = this.compactTo(this.nthNewest(keep));
    } else {
      purged = this.purgeSubject(subject, seq, keep);
    }
    this.finish();
    return purged;
  }

  updateLimits(limits: StoreLimits): void {
    const oldPer = this.maxPer;
    this.limits = limits;
    this.maxPer = limits.maxMsgsPerSubject > 0 ? limits.maxMsgsPerSubject : 0;
    if (this.closed) return;
    this.enforceLimits(oldPer);
    this.finish();
  }

  onRemove(listener: RemovalListener | null): void {
    this.listener = listener;
  }

  /**
   * Removes the messages older than `max_age` now (the expiry timer calls this; tests with an
   * injected clock call it after moving the clock). Returns how many went.
   */
  checkExpiry(): number {
    if (this.closed) return 0;
    const n = this.expire();
    this.finish();
    return n;
  }

  async stop(): Promise<void> {
    this.stopNow(false);
  }

  private stopNow(discard: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.clearExpiry();
    this.close(discard);
    this.index.clear();
    this.subjects.clear();
    this.msgs = 0;
    this.bytes = 0;
    this.firstSeq = this.lastSeq + 1;
    this.firstTs = 0;
    this.pendSeq.length = 0;
    this.pendSize.length = 0;
    this.pendSubj.length = 0;
  }

  async delete(): Promise<void> {
    // What is about to be removed need not reach the disk first.
    this.stopNow(true);
    await this.destroy();
  }

  // ─── reading ────────────────────────────────────────────────────────────────────────────

  load(seq: number): StoredMessage | null {
    if (!this.index.locate(seq)) return null;
    return this.readAt(this.index.b, this.index.i);
  }

  loadLast(filter: string): StoredMessage | null {
    if (this.msgs === 0) return null;
    if (isAll(filter)) return this.index.last() ? this.readAt(this.index.b, this.index.i) : null;
    if (!hasWildcard(filter)) {
      // One subject (a KV get or an expected-last-subject-sequence check): no list of matches.
      const info = this.subjects.get(filter);
      if (info === undefined) return null;
      this.refresh(info);
      return this.load(info.last);
    }
    let last = 0;
    for (const info of this.subjects.matching(filter)) {
      this.refresh(info);
      if (info.last > last) last = info.last;
    }
    return last === 0 ? null : this.load(last);
  }

  lastSeqOn(subject: string): number {
    if (isAll(subject) || hasWildcard(subject)) return this.loadLast(subject)?.seq ?? 0; // a filter, as nats-server's LoadLastMsg
    const info = this.msgs === 0 ? undefined : this.subjects.get(subject);
    if (info === undefined) return 0;
    this.refresh(info);
    return info.last;
  }

  loadNext(filter: string, start: number): StoredMessage | null {
    if (start < this.firstSeq) start = this.firstSeq;
    if (this.msgs === 0 || start > this.lastSeq) return null;
    const idx = this.index;
    if (isAll(filter)) return idx.lowerBound(start) ? this.readAt(idx.b, idx.i) : null;
    if (!hasWildcard(filter)) {
      // One subject (an ordered consumer on an object's chunks, a KV watch of one key): no map
      // of the matching subjects, which costs a byte per subject in the stream on every call.
      const info = this.subjects.get(filter);
      if (info === undefined) return null;
      this.refresh(info);
      if (info.last < start) return null;
      if (info.first >= start) return this.load(info.first);
      for (let ok = idx.lowerBound(start); ok; ok = idx.next(idx.b, idx.i)) {
        if (idx.b.subj(idx.i) === info.id) return this.readAt(idx.b, idx.i);
      }
      return null;
    }
    const ids = this.selectSubjects(filter, start);
    if (ids === null) return null;
    if (!this.selPartial) return this.load(this.selFirst);
    // A subject with messages before `start` too: scan (stopping at the first match).
    for (let ok = idx.lowerBound(start); ok; ok = idx.next(idx.b, idx.i)) {
      const b = idx.b;
      const i = idx.i;
      if (b.seq(i) > this.selLast) break;
      if (ids[b.subj(i)] !== 0) return this.readAt(b, i);
    }
    return null;
  }

  storedBytes(): number {
    return this.bytes;
  }

  state(): StoreState {
    return {
      msgs: this.msgs,
      bytes: this.bytes,
      firstSeq: this.firstSeq,
      firstTs: this.msgs === 0 ? 0 : this.firstTs,
      lastSeq: this.lastSeq,
      lastTs: this.lastTs,
      numSubjects: this.subjects.size,
      numDeleted: this.msgs === 0 ? 0 : this.lastSeq - this.firstSeq + 1 - this.msgs,
    };
  }

  filteredState(start: number, filter: string): SubjectState {
    if (start < this.firstSeq) start = this.firstSeq;
    if (this.msgs === 0 || start > this.lastSeq) return NONE;
    const idx = this.index;
    if (isAll(filter)) {
      const msgs = start <= this.firstSeq ? this.msgs : idx.countFrom(start);
      if (msgs === 0) return NONE;
      idx.lowerBound(start);
      const first = idx.b.seq(idx.i);
      idx.last();
      return { msgs, first, last: idx.b.seq(idx.i) };
    }
    const ids = this.selectSubjects(filter, start);
    if (ids === null) return NONE;
    if (!this.selPartial) return { msgs: this.selMsgs, first: this.selFirst, last: this.selLast };
    // Some subjects have messages on both sides of `start`: count theirs from `start` on.
    let msgs = this.selMsgs;
    let first = this.selFirst;
    for (let ok = idx.lowerBound(start); ok; ok = idx.next(idx.b, idx.i)) {
      const b = idx.b;
      const i = idx.i;
      const s = b.seq(i);
      if (s > this.selPartialLast) break;
      if (ids[b.subj(i)] === 2) {
        msgs++;
        if (s < first) first = s;
      }
    }
    return { msgs, first, last: this.selLast };
  }

  subjectsState(filter: string): Map<string, SubjectState> {
    const out = new Map<string, SubjectState>();
    for (const info of this.subjects.matching(filter)) {
      this.refresh(info);
      out.set(info.name, { msgs: info.msgs, first: info.first, last: info.last });
    }
    return out;
  }

  deleted(): number[] {
    const out: number[] = [];
    if (this.msgs === 0) return out;
    const idx = this.index;
    let expect = this.firstSeq;
    for (let ok = idx.first(); ok; ok = idx.next(idx.b, idx.i)) {
      const s = idx.b.seq(idx.i);
      while (expect < s) out.push(expect++);
      expect = s + 1;
    }
    while (expect <= this.lastSeq) out.push(expect++);
    return out;
  }

  // ─── selection of subjects for the filtered queries ─────────────────────────────────────

  // Results of selectSubjects (fields, so that the queries allocate one small array at most).
  private selFirst = 0;
  private selLast = 0;
  private selMsgs = 0;
  private selPartial = false;
  private selPartialLast = 0;

  /**
   * Marks the subjects `filter` selects that have messages at or after `start`, by id: 1 when
   * all their messages are at or after `start` (counted in `selMsgs`), 2 when some are before
   * (`selPartial`; `selPartialLast` is the highest last of those). `selFirst`/`selLast` bound
   * the selected messages (`selFirst` counts whole subjects only). Null when none qualifies.
   */
  private selectSubjects(filter: string, start: number): Uint8Array | null {
    const ids = new Uint8Array(this.subjects.byId.length);
    let any = false;
    this.selFirst = Number.MAX_SAFE_INTEGER;
    this.selLast = 0;
    this.selMsgs = 0;
    this.selPartial = false;
    this.selPartialLast = 0;
    for (const info of this.subjects.matching(filter)) {
      this.refresh(info);
      if (info.last < start) continue;
      any = true;
      if (info.last > this.selLast) this.selLast = info.last;
      if (info.first >= start) {
        ids[info.id] = 1;
        this.selMsgs += info.msgs;
        if (info.first < this.selFirst) this.selFirst = info.first;
      } else {
        ids[info.id] = 2;
        this.selPartial = true;
        if (info.last > this.selPartialLast) this.selPartialLast = info.last;
      }
    }
    return any ? ids : null;
  }

  // ─── removal ────────────────────────────────────────────────────────────────────────────

  /**
   * Removes the entry at (`b`, `i`). `persist`: the backend must record this removal itself
   * (false when a floor record already covers it); `erase`: overwrite the payload.
   */
  private removeAt(b: IndexBlock, i: number, persist: boolean, erase: boolean): void {
    const seq = b.seq(i);
    const size = b.size(i);
    const info = this.subjects.byId[b.subj(i)] as SubjectInfo;
    this.dropMsg(b, i, persist, erase);
    this.index.kill(b, i);
    this.msgs--;
    this.bytes -= size;
    this.subjectRemoved(info, seq);
    if (seq === this.firstSeq) this.advanceFirst();
    if (this.listener !== null) {
      this.pendSeq.push(seq);
      this.pendSize.push(size);
      this.pendSubj.push(info.name);
    }
  }

  private advanceFirst(): void {
    if (this.index.first()) {
      this.firstSeq = this.index.b.seq(this.index.i);
      this.firstTs = this.index.b.ts(this.index.i);
    } else {
      this.firstSeq = this.lastSeq + 1;
      this.firstTs = 0;
    }
  }

  /** nats-server's `removeSeqPerSubject`: keeps first/last exact when cheap, else marks them stale. */
  private subjectRemoved(info: SubjectInfo, seq: number): void {
    if (info.msgs === 1) {
      info.msgs = 0;
      this.subjects.delete(info);
      return;
    }
    info.msgs--;
    if (info.msgs === 1) {
      if (!info.lastStale && seq !== info.last) {
        info.first = info.last;
        info.firstStale = false;
        return;
      }
      if (!info.firstStale && seq !== info.first) {
        info.last = info.first;
        info.lastStale = false;
        return;
      }
    }
    if (seq === info.first) info.firstStale = true;
    if (seq === info.last) info.lastStale = true;
  }

  /** Makes a subject's first and last exact (nats-server's `recalculateForSubj`). */
  private refresh(info: SubjectInfo): void {
    const idx = this.index;
    if (info.firstStale) {
      for (let ok = idx.lowerBound(Math.max(info.first + 1, this.firstSeq)); ok; ok = idx.next(idx.b, idx.i)) {
        if (idx.b.subj(idx.i) === info.id) {
          info.first = idx.b.seq(idx.i);
          break;
        }
      }
      info.firstStale = false;
      if (info.msgs === 1) {
        info.last = info.first;
        info.lastStale = false;
      }
    }
    if (info.lastStale) {
      for (let ok = idx.upperBound(Math.min(info.last - 1, this.lastSeq)); ok; ok = idx.prev(idx.b, idx.i)) {
        if (idx.b.subj(idx.i) === info.id) {
          info.last = idx.b.seq(idx.i);
          break;
        }
      }
      info.lastStale = false;
    }
  }

  private subjectFirst(info: SubjectInfo): number {
    this.refresh(info);
    return info.first;
  }

  private sizeOfSeq(seq: number): number {
    return this.index.locate(seq) ? this.index.b.size(this.index.i) : 0;
  }

  /** The sequence of the `n`-th newest message (n ≥ 1, n ≤ msgs). */
  private nthNewest(n: number): number {
    const idx = this.index;
    if (n <= this.msgs / 2) {
      let ok = idx.last();
      for (let k = 1; ok && k < n; k++) ok = idx.prev(idx.b, idx.i);
    } else {
      let ok = idx.first();
      for (let k = 0; ok && k < this.msgs - n; k++) ok = idx.next(idx.b, idx.i);
    }
    return idx.b.seq(idx.i);
  }

  /** nats-server's `Compact`: removes everything below `seq`; past the end, the next message gets `seq`. */
  private compactTo(seq: number): number {
    if (seq < this.firstSeq) return 0;
    const idx = this.index;
    let purged = 0;
    if (seq <= this.lastSeq) {
      if (this.msgs === 0 || this.firstSeq >= seq) return 0;
      this.writeFloor(seq);
      while (idx.first() && idx.b.seq(idx.i) < seq) {
        this.removeAt(idx.b, idx.i, false, false);
        purged++;
      }
    } else {
      this.writeFloor(seq);
      while (idx.first()) {
        this.removeAt(idx.b, idx.i, false, false);
        purged++;
      }
      this.lastSeq = seq - 1;
      this.firstSeq = seq;
      this.firstTs = 0;
    }
    return purged;
  }

  /** PurgeEx with a subject: matching messages below `seq` (0: all), keeping the newest `keep`. */
  private purgeSubject(subject: string, seq: number, keep: number): number {
    if (!hasWildcard(subject)) {
      // One subject (a rollup, a KV purge, an object's chunks): its oldest first, each found
      // from the one before; no map of the matching subjects (a byte per subject in the stream).
      const info = this.subjects.get(subject);
      if (info === undefined) return 0;
      const below = seq > 1 ? seq : Number.MAX_SAFE_INTEGER;
      let purged = 0;
      while (info.msgs > keep) {
        const first = this.subjectFirst(info);
        if (first >= below || !this.index.locate(first)) break;
        this.removeAt(this.index.b, this.index.i, true, false);
        purged++;
      }
      return purged;
    }
    // From the first sequence on, every matching subject is whole: sel* are its totals.
    const ids = this.selectSubjects(subject, this.firstSeq);
    if (ids === null) return 0;
    let max = Number.MAX_SAFE_INTEGER;
    if (keep > 0) {
      if (keep >= this.selMsgs) return 0;
      max = this.selMsgs - keep;
    }
    const last = seq > 1 ? Math.min(seq - 1, this.selLast) : this.selLast;
    const idx = this.index;
    let purged = 0;
    let ok = idx.lowerBound(this.selFirst);
    while (ok && purged < max) {
      const b = idx.b;
      const i = idx.i;
      if (b.seq(i) > last) break;
      if (ids[b.subj(i)] !== 0) {
        this.removeAt(b, i, true, false);
        purged++;
      }
      ok = idx.next(b, i);
    }
    return purged;
  }

  // ─── limits ─────────────────────────────────────────────────────────────────────────────

  /** Enforces every limit on what is stored (a limits update; the file store after reopening). */
  protected enforceLimits(oldPer: number): void {
    this.enforceMsgLimit();
    this.enforceBytesLimit();
    const maxPer = this.maxPer;
    if (maxPer > 0 && (oldPer === 0 || maxPer < oldPer)) {
      for (const info of [...this.subjects.byName.values()]) if (info.msgs > maxPer) this.enforcePerSubject(info, maxPer);
    }
    this.clearExpiry();
    if (this.timerExpiry) this.expire();
  }

  private enforcePerSubject(info: SubjectInfo, maxPer: number): void {
    while (info.msgs > maxPer) {
      if (!this.index.locate(this.subjectFirst(info))) break;
      this.removeAt(this.index.b, this.index.i, true, false);
    }
  }

  private enforceMsgLimit(): void {
    const L = this.limits;
    if (L.discard !== 'old' || L.maxMsgs <= 0) return;
    while (this.msgs > L.maxMsgs && this.index.first()) this.removeAt(this.index.b, this.index.i, true, false);
  }

  private enforceBytesLimit(): void {
    const L = this.limits;
    if (L.discard !== 'old' || L.maxBytes <= 0) return;
    while (this.bytes > L.maxBytes && this.index.first()) this.removeAt(this.index.b, this.index.i, true, false);
  }

  // ─── expiry ─────────────────────────────────────────────────────────────────────────────

  setExpiryTimer(enabled: boolean): void {
    this.timerExpiry = enabled;
    if (enabled) this.armExpiry();
    else this.clearExpiry();
  }

  expireAsOf(now: number): number {
    if (this.closed || this.limits.maxAgeMs <= 0) return 0;
    const n = this.expire(now);
    this.finish();
    return n;
  }

  private expire(now = this.clock()): number {
    const maxAge = this.limits.maxAgeMs;
    if (maxAge <= 0) return 0;
    const cutoff = now - maxAge;
    const idx = this.index;
    let n = 0;
    while (idx.first() && idx.b.ts(idx.i) <= cutoff) {
      this.removeAt(idx.b, idx.i, true, false);
      n++;
    }
    this.armExpiry();
    return n;
  }

  /** Sets the timer for the first message's expiry, if none is set. It never keeps the process alive. */
  private armExpiry(): void {
    const maxAge = this.limits.maxAgeMs;
    if (this.expiryTimer !== null || maxAge <= 0 || this.msgs === 0 || this.closed || !this.timerExpiry) return;
    const due = this.firstTs + maxAge - this.clock();
    this.expiryTimer = setTimeout(this.onExpiryTimer, timerDelay(Math.max(1, Math.ceil(due))));
    this.expiryTimer.unref();
  }

  private readonly onExpiryTimer = (): void => {
    this.expiryTimer = null;
    this.checkExpiry();
  };

  private clearExpiry(): void {
    if (this.expiryTimer !== null) {
      clearTimeout(this.expiryTimer);
      this.expiryTimer = null;
    }
  }

  // ─── recovery (the file store rebuilding its state from disk) ───────────────────────────

  /** The highest floor recovered (tells a fresh store, first 0, from a purged empty one). */
  private recoveredFloor = 0;

  /** Adds a message found on disk, without applying limits. */
  protected recoverMsg(seq: number, ts: number, subject: string, hdrLen: number, dataLen: number, size: number, chunk: number, off: number): void {
    const info = this.subjects.get(subject) ?? this.subjects.add(subject);
    this.index.append(seq, ts, info.id, size, chunk, off, hdrLen, dataLen);
    this.msgs++;
    this.bytes += size;
    if (info.msgs === 0) {
      info.first = seq;
      info.firstStale = false;
    }
    info.msgs++;
    info.last = seq;
    info.lastStale = false;
    this.recoverLast(seq, ts);
  }

  /** A sequence seen on disk (a message, a removed one, a skip, a segment's last). */
  protected recoverLast(seq: number, ts: number): void {
    if (seq > this.lastSeq) {
      this.lastSeq = seq;
      this.lastTs = ts;
    }
  }

  /** A floor found on disk: everything below `seq` is gone. */
  protected recoverFloor(seq: number): void {
    const idx = this.index;
    while (idx.first() && idx.b.seq(idx.i) < seq) this.removeAt(idx.b, idx.i, false, false);
    if (seq - 1 > this.lastSeq) this.lastSeq = seq - 1;
    if (seq > this.recoveredFloor) this.recoveredFloor = seq;
  }

  /** Everything is read: settles the first sequence. */
  protected recoverFirst(): void {
    if (this.index.first()) {
      this.firstSeq = this.index.b.seq(this.index.i);
      this.firstTs = this.index.b.ts(this.index.i);
    } else {
      this.firstSeq = this.lastSeq === 0 && this.recoveredFloor === 0 ? 0 : this.lastSeq + 1;
      this.firstTs = 0;
    }
  }

  /** Ready to write again: enforces the limits, which may have changed since the data was written. */
  protected recoverLimits(): void {
    this.enforceLimits(0);
    this.finish();
  }

  // ─── end of an operation ────────────────────────────────────────────────────────────────

  /** Tidies the index, lets the backend reclaim space, then reports removals. */
  protected finish(): void {
    this.index.tidy();
    this.maintain();
    if (this.pendSeq.length === 0 || this.flushing) return;
    this.flushing = true;
    try {
      for (let k = 0; k < this.pendSeq.length; k++) this.listener?.(this.pendSeq[k], this.pendSubj[k], this.pendSize[k]);
    } finally {
      this.flushing = false;
      emptyList(this.pendSeq);
      emptyList(this.pendSize);
      emptyList(this.pendSubj);
    }
  }

  private readAt(b: IndexBlock, i: number): StoredMessage {
    return this.readMsg(b, i, (this.subjects.byId[b.subj(i)] as SubjectInfo).name);
  }

  // ─── what a backend implements ──────────────────────────────────────────────────────────

  /** Keeps the payload of a new message; sets `wChunk`/`wOff` to where it went. */
  protected abstract writeMsg(seq: number, ts: number, subject: string, hdr: Buffer | null, data: Buffer): void;
  /** The message at (`b`, `i`), a live entry. */
  protected abstract readMsg(b: IndexBlock, i: number, subject: string): StoredMessage;
  /** A message is going (see `removeAt` for `persist` and `erase`). */
  protected abstract dropMsg(b: IndexBlock, i: number, persist: boolean, erase: boolean): void;
  /** Everything below `seq` is about to go (and, past the end, the next sequence is `seq`). */
  protected abstract writeFloor(seq: number): void;
  /** `seq` was consumed without a message at `ts`. */
  protected abstract writeSkip(seq: number, ts: number): void;
  /** End of an operation: reclaim the space of removed messages if worth it. */
  protected abstract maintain(): void;
  /** Release files and memory (stop). */
  /** Releases files and timers; `discard`: the store is being deleted (no flush needed). */
  protected abstract close(discard: boolean): void;
  /** Delete the data (after close). */
  protected abstract destroy(): Promise<void>;
}
