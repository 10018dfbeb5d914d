/**
 * Unit tests of the parts of the consumer delivery state (src/jetstream/consumer-state.ts) added
 * for `deliver_policy: last_per_subject` and consumer updates, against nats-server 2.10.29
 * server/consumer.go: selectStartingSeqNo + getNextMsg's skip list (`o.lss`), num pending of a
 * last-per-subject consumer, and updateConfig (max_ack_pending, max_deliver, ack_wait, backoff,
 * filters, num pending recounted). Plus the headers-only header block (convertToHeadersOnly).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryStore } from '../../src/jetstream/store/memory.js';
import { NO_LIMITS as LIMITS } from '../helpers/store-limits.js';
import { ConsumerState, lastPerSubjectStart, sourceFromStore, type ConsumerStateConfig } from '../../src/jetstream/consumer-state.js';
import { headersOnlyBlock } from '../../src/jetstream/headers.js';
import { filterMatches } from '../../src/jetstream/store/subjects.js';


/** Stores a message and returns its sequence. */
function put(store: MemoryStore, subject: string): number {
  const r = store.store(subject, null, Buffer.from('n'));
  if (!('seq' in r)) throw new Error('not stored');
  return r.seq;
}

function setup(subjects: string[], cfg: Partial<ConsumerStateConfig> = {}, lps?: { filters: string[]; mmp?: number }) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const store = new MemoryStore(LIMITS, { clock: clock.now });
  for (const s of subjects) store.store(s, null, Buffer.from(s));
  const source = sourceFromStore(store);
  const start = lps === undefined ? undefined : lastPerSubjectStart(source, lps.filters, lps.mmp ?? -1);
  const c = new ConsumerState(
    {
      stream: 'S', consumer: 'C', ackPolicy: 'explicit', ackWaitMs: 1000,
      filters: lps?.filters, startSeq: start?.startSeq, skipList: start?.skipList, lastPerSubject: lps !== undefined, ...cfg,
    },
    source,
    clock.now,
  );
  const deliver = (n: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const m = c.next();
      if (m === null) break;
      out.push(m.seq);
    }
    return out;
  };
  return { c, store, clock, deliver, start };
}

describe('last_per_subject start (selectStartingSeqNo)', () => {
  it('take() then putBack() of a skip-list entry (no request could take it) leaves the list as it was', () => {
    const { c, deliver } = setup(['a', 'b', 'a', 'c', 'b'], {}, { filters: ['*'] });
    for (let i = 0; i < 3; i++) {
      // Each entry, the last one included (which ends the list), can be taken and put back.
      const before = [c.deliveredStreamSeq, c.numPending(), c.skipListPending()];
      const m = c.take()!;
      c.putBack(m);
      expect([c.deliveredStreamSeq, c.numPending(), c.skipListPending()]).toEqual(before);
      expect(deliver(1)).toEqual([m.seq]);
    }
    expect(deliver(1)).toEqual([]);
  });

  it('delivers the last message of each matching subject in stream order, then everything new', () => {
    //            1    2    3      4    5      6
    const { c, store, deliver, start } = setup(['a', 'b', 'a', 'c', 'b', 'x.y'], {}, { filters: ['*'] });
    expect(start).toEqual({ startSeq: 3, skipList: { seqs: [3, 4, 5], resume: 6 } });
    expect([c.deliveredStreamSeq, c.numPending()]).toEqual([2, 3]);
    expect(deliver(1)).toEqual([3]);
    expect([c.lastPending, c.numPending()]).toEqual([2, 2]);
    // The next sequence steps by one per skip-list entry (nats-server's `o.sseq++`).
    expect(deliver(1)).toEqual([4]);
    expect(c.deliveredStreamSeq).toBe(4);
    expect(c.skipListPending()).toEqual([5]);
    // The last entry jumps past the stream's last sequence at creation (`resume` + 1).
    expect(deliver(1)).toEqual([5]);
    expect([c.deliveredStreamSeq, c.numPending(), c.skipListPending()]).toEqual([6, 0, []]);
    expect(deliver(1)).toEqual([]);
    // New messages: every matching one, counted one by one (processStreamSignal).
    for (const s of ['a', 'a', 'q.r']) c.messageStored(put(store, s), s);
    expect(c.numPending()).toBe(2);
    expect(deliver(5)).toEqual([7, 8]);
  });

  it('acks of skip-list messages at or past the next sequence are ignored, as 2.10.29 does', () => {
    // Skip list [1, 4, 6]: after two deliveries the next sequence is 3 (1 + 2), so an ack of 4
    // is "above the current pointer" (processAckMsg) and ignored; 2.9.10 set the pointer to the
    // delivered sequence + 1 and took it.
    const { c, deliver } = setup(['a', 'b', 'c', 'b', 'x', 'c'], {}, { filters: ['a', 'b', 'c'] });
    expect(deliver(2)).toEqual([1, 4]);
    expect(c.processAck(4, 2, Buffer.alloc(0))).toBe(0);
    expect(c.numAckPending).toBe(2);
    expect(deliver(1)).toEqual([6]);
    expect(c.processAck(4, 2, Buffer.alloc(0))).not.toBe(0);
    expect(c.pendingSeqs()).toEqual([1, 6]);
  });

  it('max_msgs_per_subject 1: no skip list, the first sequence; no match: the last sequence', () => {
    expect(setup(['a', 'b'], {}, { filters: ['>'], mmp: 1 }).start).toEqual({ startSeq: 1 });
    const none = setup(['a', 'b', 'c'], {}, { filters: ['zz'] });
    expect(none.start).toEqual({ startSeq: 3, skipList: { seqs: [], resume: 3 } });
    expect([none.c.deliveredStreamSeq, none.c.numPending()]).toEqual([2, 0]);
  });

  it('skips a skip-list message removed before its delivery', () => {
    const { c, store, deliver } = setup(['a', 'b', 'c'], {}, { filters: ['>'] });
    store.remove(2);
    c.messageRemoved(2, 'b');
    expect(deliver(5)).toEqual([1, 3]);
  });

  it('property: delivers exactly the last message of each matching subject, ascending, then the new ones', () => {
    const subj = fc.constantFrom('a', 'b', 'c.x', 'c.y', 'd');
    fc.assert(
      fc.property(
        fc.array(subj, { maxLength: 20 }),
        fc.constantFrom<string[]>(['>'], ['c.*'], ['a', 'c.y'], ['d']),
        fc.array(subj, { maxLength: 5 }),
        (before, filters, after) => {
          const { c, store, deliver } = setup(before, { ackPolicy: 'none' }, { filters });
          const match = (s: string): boolean => filters.some((f) => filterMatches(f, s));
          const last = new Map<string, number>();
          before.forEach((s, i) => match(s) && last.set(s, i + 1));
          const want = [...last.values()].sort((x, y) => x - y);
          expect(c.numPending()).toBe(want.length);
          expect(deliver(100)).toEqual(want);
          const fresh: number[] = [];
          for (const s of after) {
            const seq = put(store, s);
            c.messageStored(seq, s);
            if (match(s)) fresh.push(seq);
          }
          expect(c.numPending()).toBe(fresh.length);
          expect(deliver(100)).toEqual(fresh);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('update (updateConfig)', () => {
  it('a higher max_ack_pending frees a stalled consumer; a lower one stalls it', () => {
    const { c, deliver } = setup(['a', 'a', 'a', 'a'], { maxAckPending: 1 });
    expect(deliver(4)).toEqual([1]);
    expect(c.lastStall).toBe('max_ack_pending');
    c.update({ ackWaitMs: 1000, maxAckPending: 3 });
    expect(deliver(4)).toEqual([2, 3]);
    c.update({ ackWaitMs: 1000, maxAckPending: -1 });
    expect(deliver(4)).toEqual([4]);
  });

  it('a changed ack_wait re-arms a running timer 100 ms out; checkPending then uses the new wait', () => {
    const { c, clock, deliver } = setup(['a', 'a'], { ackWaitMs: 30_000 });
    deliver(1);
    expect(c.deadline).toBe(clock.now() + 30_001);
    c.update({ ackWaitMs: 50 });
    expect(c.deadline).toBe(clock.now() + 100);
    clock.advance(100);
    c.checkPending();
    expect(c.redeliveryQueue()).toEqual([1]);
    // Unchanged ack_wait: the timer stays.
    const before = c.deadline;
    c.update({ ackWaitMs: 50 });
    expect(c.deadline).toBe(before);
  });

  it('a lower max_deliver stops redeliveries; backoff applies from the next delivery', () => {
    const { c, clock, deliver } = setup(['a'], { ackWaitMs: 100, maxDeliver: -1 });
    deliver(1);
    clock.advance(200);
    c.checkPending();
    expect(deliver(1)).toEqual([1]);
    expect(c.lastDc).toBe(2);
    c.update({ ackWaitMs: 100, maxDeliver: 2, backoffMs: [100, 400] });
    // The backoff's first value (not ack_wait) now decides when the pending timer fires.
    expect(c.deadline).toBe(clock.now() + 101);
    clock.advance(200);
    c.checkPending();
    // Redelivered once: backoff[1] (400 ms), not ack_wait (100 ms), is its wait now.
    expect([c.pendingSeqs(), c.redeliveryQueue()]).toEqual([[1], []]);
    clock.advance(250);
    c.checkPending();
    expect(c.redeliveryQueue()).toEqual([1]);
    // Delivered twice already: a third delivery would pass max_deliver, so none comes and it
    // leaves pending.
    expect(deliver(1)).toEqual([]);
    expect(c.pendingSeqs()).toEqual([]);
  });

  it('a new filter recounts num pending and selects what comes next', () => {
    const { c, deliver } = setup(['a', 'b', 'a', 'b', 'c'], { filters: ['a'] });
    expect(c.numPending()).toBe(2);
    expect(deliver(1)).toEqual([1]);
    c.update({ ackWaitMs: 1000, filters: ['b', 'c'] });
    expect(c.numPending()).toBe(3);
    expect(deliver(5)).toEqual([2, 4, 5]);
    c.update({ ackWaitMs: 1000, filters: [] });
    expect(c.numPending()).toBe(0);
    expect(c.isFilteredMatch('zz')).toBe(true);
  });
});

describe('headers-only block (convertToHeadersOnly)', () => {
  it('appends Nats-Msg-Size before the closing blank line, or starts a block', () => {
    expect(headersOnlyBlock(null, 11).toString()).toBe('NATS/1.0\r\nNats-Msg-Size: 11\r\n\r\n');
    expect(headersOnlyBlock(Buffer.alloc(0), 0).toString()).toBe('NATS/1.0\r\nNats-Msg-Size: 0\r\n\r\n');
    expect(headersOnlyBlock(Buffer.from('NATS/1.0\r\nX-A: 1\r\n\r\n'), 4).toString()).toBe('NATS/1.0\r\nX-A: 1\r\nNats-Msg-Size: 4\r\n\r\n');
  });
});
