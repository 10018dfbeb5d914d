/**
 * The reference for the store property tests: the StreamStore semantics written as plainly as
 * possible (arrays, filters, loops), with no attention to cost. See src/jetstream/store/base.ts
 * for the rules (nats-server 2.10.29's memstore/filestore, with the later fixes to PurgeEx).
 */
import type { StoredMessage, StoreLimits, StoreResult, StoreState, SubjectState } from '../../../src/jetstream/store/store.js';
import { StoreError } from '../../../src/jetstream/store/store.js';
import { subjectMatches } from '../../../src/subject/subject.js';

export interface ModelMsg extends StoredMessage {
  readonly size: number;
}

export type SizeOf = (subject: string, hdr: Buffer | null, data: Buffer) => number;

function matches(filter: string, subject: string): boolean {
  if (filter === '' || filter === '>') return true;
  const wild = filter.split('.').some((t) => t === '*' || t === '>');
  return wild ? subjectMatches(filter, subject) : filter === subject;
}

export class Model {
  /** Live messages in sequence order. */
  msgs: ModelMsg[] = [];
  first = 0;
  last = 0;
  lastTs = 0;
  removed: [number, string, number][] = [];

  constructor(
    public limits: StoreLimits,
    private readonly sizeOf: SizeOf,
    /** The discard-new replacement rule (memory: oldest < size refuses; file: oldest <= size). */
    private readonly refuseReplace: (oldest: number, size: number) => boolean,
  ) {}

  private get bytes(): number {
    return this.msgs.reduce((n, m) => n + m.size, 0);
  }
  private get maxPer(): number {
    return this.limits.maxMsgsPerSubject > 0 ? this.limits.maxMsgsPerSubject : 0;
  }

  private drop(seq: number): void {
    const k = this.msgs.findIndex((m) => m.seq === seq);
    const [m] = this.msgs.splice(k, 1);
    this.removed.push([m.seq, m.subject, m.size]);
    this.first = this.msgs.length > 0 ? this.msgs[0].seq : this.last + 1;
  }

  store(subject: string, hdr: Buffer | null, data: Buffer, ts: number): StoreResult {
    if (hdr !== null && hdr.length === 0) hdr = null;
    const L = this.limits;
    if (L.maxMsgSize > 0 && (hdr?.length ?? 0) + data.length > L.maxMsgSize) return { error: StoreError.MsgTooLarge };
    const size = this.sizeOf(subject, hdr, data);
    const same = this.msgs.filter((m) => m.subject === subject);
    const atLimit = this.maxPer > 0 && same.length >= this.maxPer;
    if (L.discard === 'new') {
      if (atLimit && L.discardNewPerSubject) return { error: StoreError.MaxMsgsPerSubject };
      if (L.maxMsgs > 0 && this.msgs.length >= L.maxMsgs && !atLimit) return { error: StoreError.MaxMsgs };
      if (L.maxBytes > 0 && this.bytes + size >= L.maxBytes) {
        if (!atLimit || this.refuseReplace(same[0].size, size)) return { error: StoreError.MaxBytes };
      }
    }
    const seq = this.last + 1;
    this.msgs.push({ seq, subject, hdr, data: Buffer.from(data), ts, size });
    if (this.msgs.length === 1) this.first = seq;
    this.last = seq;
    this.lastTs = ts;
    while (this.maxPer > 0 && this.msgs.filter((m) => m.subject === subject).length > this.maxPer) {
      this.drop((this.msgs.find((m) => m.subject === subject) as ModelMsg).seq);
    }
    this.enforceMsgsAndBytes();
    return { seq, ts };
  }

  private enforceMsgsAndBytes(): void {
    const L = this.limits;
    if (L.discard !== 'old') return;
    while (L.maxMsgs > 0 && this.msgs.length > L.maxMsgs) this.drop(this.msgs[0].seq);
    while (L.maxBytes > 0 && this.bytes > L.maxBytes) this.drop(this.msgs[0].seq);
  }

  skip(ts: number): number {
    this.last++;
    this.lastTs = ts;
    if (this.msgs.length === 0) this.first = this.last + 1;
    return this.last;
  }

  remove(seq: number): boolean {
    if (!this.msgs.some((m) => m.seq === seq)) return false;
    this.drop(seq);
    return true;
  }

  purge(subject: string, seq: number, keep: number): number {
    if (seq === 1) return 0;
    if (subject === '' || subject === '>') {
      if (keep === 0 && seq === 0) return this.compact(this.last + 1);
      if (seq > 1) return this.compact(seq);
      if (keep >= this.msgs.length) return 0;
      return this.compact(this.msgs[this.msgs.length - keep].seq);
    }
    const matching = this.msgs.filter((m) => matches(subject, m.subject));
    if (matching.length === 0 || (keep > 0 && keep >= matching.length)) return 0;
    const max = keep > 0 ? matching.length - keep : matching.length;
    const victims = matching.filter((m) => seq === 0 || m.seq < seq).slice(0, max);
    for (const m of victims) this.drop(m.seq);
    return victims.length;
  }

  private compact(seq: number): number {
    if (seq < this.first) return 0;
    const victims = this.msgs.filter((m) => m.seq < seq);
    if (seq <= this.last) {
      for (const m of victims) this.drop(m.seq);
      return victims.length;
    }
    for (const m of victims) this.drop(m.seq);
    this.last = seq - 1;
    this.first = seq;
    return victims.length;
  }

  expire(now: number): number {
    let n = 0;
    if (this.limits.maxAgeMs <= 0) return n;
    for (; this.msgs.length > 0 && this.msgs[0].ts <= now - this.limits.maxAgeMs; n++) this.drop(this.msgs[0].seq);
    return n;
  }

  updateLimits(limits: StoreLimits, now: number): void {
    const oldPer = this.maxPer;
    this.limits = limits;
    this.enforceMsgsAndBytes();
    const maxPer = this.maxPer;
    if (maxPer > 0 && (oldPer === 0 || maxPer < oldPer)) {
      for (const subject of new Set(this.msgs.map((m) => m.subject))) {
        while (this.msgs.filter((m) => m.subject === subject).length > maxPer) {
          this.drop((this.msgs.find((m) => m.subject === subject) as ModelMsg).seq);
        }
      }
    }
    this.expire(now);
  }

  load(seq: number): StoredMessage | null {
    return this.msgs.find((m) => m.seq === seq) ?? null;
  }

  loadNext(filter: string, start: number): StoredMessage | null {
    return this.msgs.find((m) => m.seq >= start && matches(filter, m.subject)) ?? null;
  }

  loadLast(filter: string): StoredMessage | null {
    return [...this.msgs].reverse().find((m) => matches(filter, m.subject)) ?? null;
  }

  state(): StoreState {
    const n = this.msgs.length;
    return {
      msgs: n,
      bytes: this.bytes,
      firstSeq: this.first,
      firstTs: n === 0 ? 0 : this.msgs[0].ts,
      lastSeq: this.last,
      lastTs: this.lastTs,
      numSubjects: new Set(this.msgs.map((m) => m.subject)).size,
      numDeleted: n === 0 ? 0 : this.last - this.first + 1 - n,
    };
  }

  filteredState(start: number, filter: string): SubjectState {
    const m = this.msgs.filter((x) => x.seq >= start && matches(filter, x.subject));
    return m.length === 0 ? { msgs: 0, first: 0, last: 0 } : { msgs: m.length, first: m[0].seq, last: m[m.length - 1].seq };
  }

  subjectsState(filter: string): Map<string, SubjectState> {
    const out = new Map<string, SubjectState>();
    for (const m of this.msgs) {
      if (!matches(filter, m.subject)) continue;
      const s = out.get(m.subject);
      out.set(m.subject, s === undefined ? { msgs: 1, first: m.seq, last: m.seq } : { msgs: s.msgs + 1, first: s.first, last: m.seq });
    }
    return out;
  }

  deleted(): number[] {
    if (this.msgs.length === 0) return [];
    const live = new Set(this.msgs.map((m) => m.seq));
    const out: number[] = [];
    for (let s = this.first; s <= this.last; s++) if (!live.has(s)) out.push(s);
    return out;
  }
}
