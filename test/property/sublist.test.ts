import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Sublist, CACHE_MAX } from '../../src/subject/sublist.js';
import { isValidLiteralSubject, isValidSubscribeSubject, subjectMatches } from '../../src/subject/subject.js';

interface TestSub {
  readonly id: number;
  readonly subject: string;
  readonly queue: string | null;
}

/** The reference: split both subjects into tokens and compare, plainly. */
function bruteMatch(pattern: string, literal: string): boolean {
  const p = pattern.split('.');
  const l = literal.split('.');
  if (l.some((t) => t === '')) return false;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return l.length > i;
    if (i >= l.length) return false;
    if (p[i] !== '*' && p[i] !== l[i]) return false;
  }
  return p.length === l.length;
}

// A small alphabet makes collisions (and therefore matches) frequent.
const litToken = fc.constantFrom('a', 'b', 'c', 'foo', 'ab', 'a*', '>x');
const patToken = fc.oneof({ weight: 4, arbitrary: litToken }, { weight: 1, arbitrary: fc.constant('*') });
const pattern = fc
  .tuple(fc.array(patToken, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([toks, fwc]) => (fwc ? [...toks.slice(0, -1), '>'] : toks).join('.'));
const literal = fc.array(litToken, { minLength: 1, maxLength: 5 }).map((t) => t.join('.'));

type Op =
  | { kind: 'insert'; subject: string; queue: string | null }
  | { kind: 'remove'; index: number }
  | { kind: 'match'; subject: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), subject: pattern, queue: fc.constantFrom(null, null, 'q1', 'q2') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), index: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('match' as const), subject: literal }) },
);

function canonical(r: { psubs: readonly TestSub[]; qsubs: readonly (readonly TestSub[])[] }) {
  return {
    psubs: r.psubs.map((s) => s.id).sort((a, b) => a - b),
    qsubs: r.qsubs
      .map((g) => ({ queue: g[0].queue, ids: g.map((s) => s.id).sort((a, b) => a - b) }))
      .sort((a, b) => String(a.queue).localeCompare(String(b.queue))),
  };
}

function expected(live: TestSub[], subject: string) {
  const m = live.filter((s) => bruteMatch(s.subject, subject));
  const queues = new Map<string, TestSub[]>();
  for (const s of m) if (s.queue !== null) queues.set(s.queue, [...(queues.get(s.queue) ?? []), s]);
  return canonical({ psubs: m.filter((s) => s.queue === null), qsubs: [...queues.values()] });
}

describe('sublist (model-based)', () => {
  for (const cache of [true, false]) {
    it(`matches like a brute-force matcher through inserts and removes (cache ${cache ? 'on' : 'off'})`, () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
          const sl = new Sublist<TestSub>(cache);
          const live: TestSub[] = [];
          let nextId = 0;
          for (const o of ops) {
            if (o.kind === 'insert') {
              const sub = { id: nextId++, subject: o.subject, queue: o.queue };
              expect(sl.insert(sub)).toBe(true);
              live.push(sub);
            } else if (o.kind === 'remove') {
              if (live.length === 0) continue;
              const [sub] = live.splice(o.index % live.length, 1);
              expect(sl.remove(sub)).toBe(true);
              expect(sl.remove(sub)).toBe(false);
            } else {
              // match(s, true) (uncached) and match (cached) see the same subscriptions, in either order.
              const want = expected(live, o.subject);
              expect(canonical(sl.match(o.subject, true))).toEqual(want);
              expect(canonical(sl.match(o.subject))).toEqual(want);
              expect(canonical(sl.match(o.subject, true))).toEqual(want);
            }
            expect(sl.size).toBe(live.length);
          }
        }),
        { numRuns: 400 },
      );
    });
  }

  it('subjectMatches agrees with the brute-force matcher', () => {
    fc.assert(
      fc.property(pattern, literal, (p, l) => {
        expect(subjectMatches(p, l)).toBe(bruteMatch(p, l));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps the cache bounded', () => {
    const sl = new Sublist<TestSub>();
    sl.insert({ id: 1, subject: '>', queue: null });
    for (let i = 0; i < CACHE_MAX * 3; i++) sl.match(`s.${i}`);
    expect(sl.stats().numCache).toBeLessThanOrEqual(CACHE_MAX);
    expect(sl.match('s.1').psubs).toHaveLength(1);
  });

  it('match(subject, true) (replies to unique inboxes) leaves the cache to the subjects looked up again', () => {
    const sl = new Sublist<TestSub>();
    sl.insert({ id: 1, subject: '$KV.B.>', queue: null });
    sl.insert({ id: 2, subject: '_INBOX.abc.*', queue: null });
    for (let k = 0; k < 1000; k++) sl.match(`$KV.B.k${k}`);
    const before = sl.stats();
    // A PubAck per put, each to a new inbox: cached, these evicted the keys' results.
    for (let i = 0; i < CACHE_MAX * 2; i++) expect(sl.match(`_INBOX.abc.${i}`, true).psubs.map((s) => s.id)).toEqual([2]);
    expect(sl.stats().numCache).toBe(before.numCache);
    for (let k = 0; k < 1000; k++) sl.match(`$KV.B.k${k}`);
    expect(sl.stats().cacheHits - before.cacheHits).toBe(1000);
    // A cached result is used by an uncached lookup too (a hit), and an uncached one is not kept.
    expect(sl.match('$KV.B.k1', true).psubs.map((s) => s.id)).toEqual([1]);
    expect(sl.stats().cacheHits - before.cacheHits).toBe(1001);
  });

  it('a result held by a caller is not changed by later inserts or removes', () => {
    const sl = new Sublist<TestSub>();
    const a = { id: 1, subject: 'foo', queue: null };
    sl.insert(a);
    const before = sl.match('foo');
    sl.insert({ id: 2, subject: 'foo', queue: null });
    sl.remove(a);
    expect(before.psubs.map((s) => s.id)).toEqual([1]);
    expect(sl.match('foo').psubs.map((s) => s.id)).toEqual([2]);
  });
});

describe('subject validation', () => {
  it('rejects empty tokens and tokens after > for SUB', () => {
    for (const bad of ['', '.', 'foo.', '.foo', 'foo..bar', 'foo.>.bar', '>.a']) expect(isValidSubscribeSubject(bad)).toBe(false);
    for (const ok of ['foo', 'foo.*', 'foo.>', '>', '*', 'foo*.b>r', 'a.*.c']) expect(isValidSubscribeSubject(ok)).toBe(true);
  });

  it('rejects wildcards and empty tokens in literal subjects', () => {
    for (const bad of ['foo.*', 'foo.>', '*', 'a..b', '', 'a.']) expect(isValidLiteralSubject(bad)).toBe(false);
    for (const ok of ['foo', 'foo*.bar', 'a.b>c', '$SYS.x']) expect(isValidLiteralSubject(ok)).toBe(true);
  });

  it('an empty-token subject matches nothing, even ">"', () => {
    const sl = new Sublist<TestSub>();
    sl.insert({ id: 1, subject: '>', queue: null });
    expect(sl.match('foo..bar').psubs).toHaveLength(0);
  });
});

describe('Sublist.watch (nats-server registerNotification)', () => {
  it('calls a watcher on inserts and removals of exactly its subject, until unwatched', () => {
    const sl = new Sublist<TestSub>();
    const calls: string[] = [];
    const fn = (): void => void calls.push(`${sl.size}`);
    sl.watch('a.b', fn);
    const exact: TestSub = { subject: 'a.b', queue: null, id: 1 };
    const group: TestSub = { subject: 'a.b', queue: 'q', id: 2 };
    const wild: TestSub = { subject: 'a.*', queue: null, id: 3 };
    sl.insert(wild);
    expect(calls).toEqual([]);
    sl.insert(exact);
    sl.insert(group);
    sl.remove(exact);
    // Called after the change: the sublist already holds (or no longer holds) the entry.
    expect(calls).toEqual(['2', '3', '2']);
    sl.unwatch('a.b', fn);
    sl.remove(group);
    expect(calls).toEqual(['2', '3', '2']);
  });
});
