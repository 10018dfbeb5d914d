/**
 * Permissions (src/auth/permissions.ts) against nats-server v2.10.29's rules, server/client.go:
 * - setPermissions (989): a publish allow list exists whenever it is given, even empty (then
 *   nothing may be published); subscribe allow and the deny lists only when non-empty.
 *   Subscribe entries are "subject" or "subject queue" (splitSubjectQueue, 975).
 * - pubAllowedFullCheck (3767): with an allow list the subject must match it; then any deny
 *   match refuses. Publish subjects are literal.
 * - canSubscribe (3015): the SUB subject goes through Sublist.Match as it is, its `*` and `>`
 *   tokens taken as literal tokens, which a wildcard entry matches as it matches any token.
 *   Allowed iff a plain entry matches; a queue SUB where queue entries match is then allowed
 *   iff its queue is among them (queueMatches, 3070: equal, or inside a wildcard queue name by
 *   subjectIsSubsetMatch). The deny list likewise refuses.
 * - checkDenySub (3216): a message is not delivered when its subject matches a plain deny entry
 *   (queue entries never match: loadMsgDenyFilter inserts "subject queue" as one subject).
 *   Only once c.mperms is set: by canSubscribe (3057), when it allows a wildcard SUB that
 *   contains a deny entry as written (subjectIsSubsetMatch(entry, subject)); per connection,
 *   for all its deliveries from then on; rebuilt from the subscriptions on reload (5267).
 * - opts.go (4028): allow_responses defaults to 1 message within 2 minutes and empties an
 *   absent publish allow list.
 * A matrix of cases, then a property: random lists and subscriptions against a port of those
 * functions (the reference model below).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Permissions, type ResolvedPermissions } from '../../src/auth/permissions.js';

// ---- The reference: nats-server's functions, written out plainly ------------------------------

const tokens = (s: string): string[] => s.split('.');

/** Sublist.Match: `subject` taken literally (its `*`/`>` are plain tokens), `pattern` with wildcards. */
function goMatch(pattern: string, subject: string): boolean {
  const p = tokens(pattern);
  const s = tokens(subject);
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

/** sublist.go isSubsetMatchTokenized: is every subject `tokens` matches also matched by `test`? */
function isSubsetMatch(subject: string, test: string): boolean {
  const t1s = tokens(subject);
  const t2s = tokens(test);
  for (let i = 0; i < t2s.length; i++) {
    if (i >= t1s.length) return false;
    const t2 = t2s[i];
    if (t2 === '') return false;
    if (t2 === '>') return true;
    const t1 = t1s[i];
    if (t1 === '' || t1 === '>') return false;
    if (t1 === '*') {
      if (t2 !== '*') return false;
      continue;
    }
    if (t2 !== '*' && t1 !== t2) return false;
  }
  return t1s.length === t2s.length;
}

const hasWildcard = (s: string): boolean => tokens(s).some((t) => t === '*' || t === '>');

function goQueueMatches(queue: string, qnames: readonly string[]): boolean {
  if (qnames.length === 0) return true;
  return qnames.some((q) => queue === q || (hasWildcard(q) && isSubsetMatch(queue, q)));
}

interface Entry {
  subject: string;
  queue: string | null;
}

const entry = (e: string): Entry => {
  const [subject, queue] = e.trim().split(/\s+/);
  return { subject, queue: queue ?? null };
};

/** The psubs and the distinct queue names of the entries that match `subject`. */
function goListMatch(list: readonly string[], subject: string): { psubs: number; qnames: string[] } {
  const hits = list.map(entry).filter((e) => goMatch(e.subject, subject));
  return { psubs: hits.filter((e) => e.queue === null).length, qnames: [...new Set(hits.flatMap((e) => (e.queue === null ? [] : [e.queue])))] };
}

function goCanSubscribe(allow: readonly string[] | undefined, deny: readonly string[] | undefined, subject: string, queue: string | null): boolean {
  let allowed = true;
  if (allow !== undefined && allow.length > 0) {
    const r = goListMatch(allow, subject);
    allowed = r.psubs > 0;
    if (queue !== null && r.qnames.length > 0) allowed = goQueueMatches(queue, r.qnames);
  }
  if (allowed && deny !== undefined && deny.length > 0) {
    const r = goListMatch(deny, subject);
    allowed = r.psubs === 0;
    if (queue !== null && r.qnames.length > 0) allowed = !goQueueMatches(queue, r.qnames);
  }
  return allowed;
}

/** canSubscribe's side effect: does this SUB set c.mperms (deny checks at delivery)? */
function goSetsMperms(allow: readonly string[] | undefined, deny: readonly string[] | undefined, subject: string, queue: string | null): boolean {
  if (deny === undefined || deny.length === 0 || !goCanSubscribe(allow, deny, subject, queue)) return false;
  return hasWildcard(subject) && deny.some((d) => isSubsetMatch(d, subject));
}

function goPubAllowed(allow: readonly string[] | undefined, deny: readonly string[] | undefined, subject: string): boolean {
  let allowed = true;
  if (allow !== undefined) allowed = allow.some((p) => goMatch(p, subject));
  if (allowed && deny !== undefined && deny.length > 0) allowed = !deny.some((p) => goMatch(p, subject));
  return allowed;
}

// ---- The matrix -----------------------------------------------------------------------------------

describe('publish permissions', () => {
  const cases: Array<[string, ResolvedPermissions, Record<string, boolean>]> = [
    ['none: everything', {}, { foo: true, 'foo.bar': true }],
    ['allow foo.*', { publish: ['foo.*'] }, { 'foo.bar': true, foo: false, 'foo.bar.baz': false, bar: false }],
    ['allow foo.> (a string)', { publish: 'foo.>' }, { 'foo.bar': true, 'foo.bar.baz': true, foo: false }],
    ['allow >', { publish: { allow: ['>'] } }, { a: true, 'a.b.c': true }],
    ['allow two subjects', { publish: ['a', 'b.*'] }, { a: true, 'b.x': true, b: false, c: false }],
    ['deny only: everything else', { publish: { deny: ['secret.>'] } }, { 'secret.x': false, secret: true, public: true }],
    ['allow with a narrower deny', { publish: { allow: ['foo.>'], deny: ['foo.secret'] } }, { 'foo.x': true, 'foo.secret': false, 'foo.secret.x': true }],
    ['deny with a leading wildcard', { publish: { deny: ['*.secret'] } }, { 'a.secret': false, 'a.b.secret': true, secret: true }],
    // setPermissions: an allow list that is given but empty exists, and allows nothing.
    ['an empty allow list', { publish: { allow: [] } }, { foo: false, 'a.b': false }],
    // opts.go: allow_responses turns off the blanket allow (responses are allowed elsewhere).
    ['allow_responses, no publish list', { allowResponses: true }, { foo: false, _INBOX: false }],
    ['allow_responses with an allow list', { publish: ['ok.>'], allowResponses: true }, { 'ok.x': true, other: false }],
    ['allow_responses with a deny list only', { publish: { deny: ['x'] }, allowResponses: true }, { y: false, x: false }],
  ];
  for (const [name, perms, expected] of cases) {
    it(name, () => {
      const p = new Permissions(perms);
      for (let round = 0; round < 2; round++) {
        // The second round is answered from the cache, and must not differ.
        for (const [subject, allowed] of Object.entries(expected)) expect(p.canPublish(subject), `${subject} (round ${round})`).toBe(allowed);
      }
    });
  }

  it('allow_responses: 1 response within 2 minutes by default, or the given limits', () => {
    expect(new Permissions({}).responses).toBeNull();
    expect(new Permissions({ allowResponses: false }).responses).toBeNull();
    expect(new Permissions({ allowResponses: true }).responses).toEqual({ max: 1, expiresMs: 120_000 });
    expect(new Permissions({ allowResponses: { max: 5, expiresMs: 500 } }).responses).toEqual({ max: 5, expiresMs: 500 });
  });
});

describe('subscribe permissions', () => {
  // [allow, deny, SUB subject, queue, allowed]
  const cases: Array<[string[] | undefined, string[] | undefined, string, string | null, boolean, string]> = [
    [undefined, undefined, '>', null, true, 'no lists: everything'],
    [['foo.*'], undefined, 'foo.bar', null, true, 'a literal inside the allow pattern'],
    [['foo.*'], undefined, 'foo.bar.baz', null, false, 'one token too many'],
    [['foo.*'], undefined, 'foo.*', null, true, 'a wildcard SUB as wide as the pattern'],
    [['foo.*'], undefined, 'foo.>', null, true, 'the literal token ">" is one token, which * matches (nats-server allows it)'],
    [['foo.*'], undefined, '*.bar', null, false, 'a wildcard SUB wider than the pattern'],
    [['foo.*'], undefined, '>', null, false, '> is wider than foo.*'],
    [['foo.bar'], undefined, 'foo.*', null, false, 'a literal pattern does not cover a wildcard SUB'],
    [['foo.>'], undefined, 'foo.*', null, true, 'foo.> covers foo.*'],
    [['foo.>'], undefined, 'foo', null, false, '> needs at least one token'],
    [['>'], undefined, '>', null, true, '> covers everything'],
    // Queue entries in the allow list.
    [['jobs.* workers'], undefined, 'jobs.a', 'workers', true, 'the named queue'],
    [['jobs.* workers'], undefined, 'jobs.a', 'others', false, 'another queue'],
    [['jobs.* workers'], undefined, 'jobs.a', null, false, 'a queue entry does not allow a plain SUB'],
    [['jobs.*', 'jobs.* workers'], undefined, 'jobs.a', null, true, 'a plain entry allows the plain SUB'],
    [['jobs.*', 'jobs.* workers'], undefined, 'jobs.a', 'others', false, 'matching queue entries restrict queue SUBs even beside a plain entry'],
    [['jobs.*'], undefined, 'jobs.a', 'any', true, 'no queue entry matches: a plain entry allows any queue'],
    [['jobs.* v1.*'], undefined, 'jobs.a', 'v1.x', true, 'a wildcard queue name'],
    [['jobs.* v1.*'], undefined, 'jobs.a', 'v1.x.y', false, 'one token too many for the queue name'],
    [['jobs.* v1.*'], undefined, 'jobs.a', 'v1.*', true, 'the same wildcard queue name'],
    [['jobs.* v1.>'], undefined, 'jobs.a', 'v1.x.y', true, 'a > queue name'],
    [['jobs.* v1.>'], undefined, 'jobs.a', 'v1', false, 'a > queue name needs one more token'],
    // Deny.
    [undefined, ['foo.secret'], 'foo.secret', null, false, 'the denied subject'],
    [undefined, ['foo.secret'], 'foo.public', null, true, 'another subject'],
    [undefined, ['foo.secret'], 'foo.*', null, true, 'a wider wildcard SUB (filtered at delivery instead)'],
    [undefined, ['foo.secret'], '>', null, true, 'the widest SUB (filtered at delivery instead)'],
    [undefined, ['foo.*'], 'foo.*', null, false, 'the denied wildcard itself'],
    [undefined, ['foo.*'], 'foo.>', null, false, 'the literal token ">" matches the denied *'],
    [undefined, ['foo.*'], 'foo.a.b', null, true, 'outside the deny pattern'],
    [undefined, ['foo q'], 'foo', 'q', false, 'a denied queue'],
    [undefined, ['foo q'], 'foo', null, true, 'a queue deny leaves plain SUBs'],
    [undefined, ['foo q'], 'foo', 'other', true, 'and other queues'],
    [undefined, ['foo v1.*'], 'foo', 'v1.x', false, 'a denied wildcard queue name'],
    [undefined, ['foo v1.*'], 'foo', 'v1', true, 'outside the denied queue names'],
    [undefined, ['foo', 'foo q'], 'foo', 'other', true, 'a plain deny with a queue deny: the queue entries decide for queue SUBs'],
    [undefined, ['foo', 'foo q'], 'foo', null, false, 'and the plain entry for plain SUBs'],
    // Both.
    [['foo.>'], ['foo.secret'], 'foo.secret', null, false, 'allowed, then denied'],
    [['foo.>'], ['foo.secret'], 'foo.public', null, true, 'allowed, not denied'],
    [['foo'], ['foo q'], 'foo', 'q', false, 'allowed plainly, the queue denied'],
    [['foo'], ['foo q'], 'foo', null, true, 'allowed plainly, no queue'],
  ];
  for (const [allow, deny, subject, queue, allowed, why] of cases) {
    it(`allow ${JSON.stringify(allow ?? null)} deny ${JSON.stringify(deny ?? null)}: SUB ${subject}${queue === null ? '' : ` ${queue}`} ${allowed ? 'allowed' : 'refused'} (${why})`, () => {
      expect(goCanSubscribe(allow, deny, subject, queue), 'the reference model').toBe(allowed);
      const p = new Permissions({ subscribe: { ...(allow ? { allow } : {}), ...(deny ? { deny } : {}) } });
      expect(p.canSubscribe(subject, queue)).toBe(allowed);
    });
  }

  // A queue name with wildcards in the SUB itself: nats-server's queueMatches asks whether the
  // SUB's queue is inside the entry's (subjectIsSubsetMatch(queue, qname)), not whether the
  // entry's pattern matches it as a literal. Checked against nats-server 2.9.10 too (same
  // queueMatches): deny "foo v1.*" does not refuse `SUB foo v1.>` there.
  it('a wildcard queue name in the SUB: deny "foo v1.*" does not refuse SUB foo v1.> (subset rule)', () => {
    expect(goCanSubscribe(undefined, ['foo v1.*'], 'foo', 'v1.>')).toBe(true);
    expect(new Permissions({ subscribe: { deny: ['foo v1.*'] } }).canSubscribe('foo', 'v1.>')).toBe(true);
  });
  it('a wildcard queue name in the SUB: allow "foo v1.*" does not allow SUB foo v1.> (subset rule)', () => {
    expect(goCanSubscribe(['foo v1.*'], undefined, 'foo', 'v1.>')).toBe(false);
    expect(new Permissions({ subscribe: { allow: ['foo v1.*'] } }).canSubscribe('foo', 'v1.>')).toBe(false);
  });
});

describe('deny at delivery (wildcard SUBs overlapping a subscribe deny)', () => {
  it('refuses each message whose subject a plain deny entry matches; queue entries never do', () => {
    const p = new Permissions({ subscribe: { deny: ['foo.secret', 'bar.*', 'q.x grp'] } });
    expect(p.hasSubDeny).toBe(true);
    const expected: Record<string, boolean> = { 'foo.secret': true, 'foo.public': false, 'bar.a': true, 'bar.a.b': false, 'q.x': false };
    for (let round = 0; round < 2; round++) {
      for (const [subject, denied] of Object.entries(expected)) expect(p.deniesDelivery(subject), `${subject} (round ${round})`).toBe(denied);
    }
  });

  // [deny, SUBs made in turn, is the check on after them]
  const switches: Array<[string[], Array<[string, string | null]>, boolean, string]> = [
    [['foo.*'], [['*.bar', null]], false, 'a wildcard SUB that only overlaps the deny entry'],
    [['foo.*'], [['foo.bar', null]], false, 'a literal SUB inside the deny entry'],
    [['foo.*'], [['>', null]], true, '> contains foo.*'],
    [['foo.*'], [['foo.*.*', null]], false, 'foo.*.* does not contain foo.*'],
    [['foo.bar'], [['foo.*', null]], true, 'foo.* contains foo.bar'],
    [['foo.bar'], [['*.bar', null], ['a.b', null], ['foo.*', null], ['x', null]], true, 'on from the first containing SUB, and it stays on'],
    [['foo.*'], [['foo.>', null]], false, 'a refused SUB turns nothing on (foo.> is refused: the deny * matches its literal >)'],
    [['foo.bar q'], [['foo.*', null]], true, 'a queue entry contains as written ("bar q" is one token): on, though it never matches a message'],
    [['foo.bar'], [['foo.*', 'q']], true, 'a queue SUB too'],
  ];
  for (const [deny, subs, on, why] of switches) {
    it(`deny ${JSON.stringify(deny)}: after ${subs.map(([s, q]) => `SUB ${s}${q === null ? '' : ` ${q}`}`).join(', ')} the check is ${on ? 'on' : 'off'} (${why})`, () => {
      const p = new Permissions({ subscribe: { deny } }).forConnection();
      expect(p.checkDeliveries).toBe(false);
      let ref = false;
      for (const [subject, queue] of subs) {
        p.canSubscribe(subject, queue);
        ref ||= goSetsMperms(undefined, deny, subject, queue);
      }
      expect(ref, 'the reference model').toBe(on);
      expect(p.checkDeliveries).toBe(on);
    });
  }

  it('the check is per connection: forConnection copies share the lists, not the switch', () => {
    const user = new Permissions({ subscribe: { deny: ['foo.*'] } });
    const a = user.forConnection();
    const b = user.forConnection();
    expect(a.canSubscribe('>', null)).toBe(true);
    expect(a.checkDeliveries).toBe(true);
    expect(b.checkDeliveries).toBe(false);
    expect(user.checkDeliveries).toBe(false);
    expect(b.deniesDelivery('foo.bar')).toBe(true);
    // Replaced under a connection (a reload): its subscriptions turn the check on again.
    expect(user.forConnection([{ subject: 'a.b', queue: null }]).checkDeliveries).toBe(false);
    expect(user.forConnection([{ subject: 'a.b', queue: null }, { subject: '*.*', queue: 'q' }]).checkDeliveries).toBe(true);
  });

  it('applies only with a subscribe deny list', () => {
    expect(new Permissions({ subscribe: ['a.>'] }).hasSubDeny).toBe(false);
    expect(new Permissions({ subscribe: { deny: [] } }).hasSubDeny).toBe(false);
    expect(new Permissions({ publish: { deny: ['x'] } }).hasSubDeny).toBe(false);
  });
});

// ---- The property ---------------------------------------------------------------------------------

const token = fc.constantFrom('a', 'b', 'c');
/** Subjects with wildcards: `*` anywhere, `>` only last. */
const wildSubject = fc
  .tuple(fc.array(fc.oneof({ weight: 3, arbitrary: token }, { weight: 1, arbitrary: fc.constant('*') }), { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([t, fwc]) => (fwc ? [...t.slice(0, -1), '>'] : t).join('.'));
const literalSubject = fc.array(token, { minLength: 1, maxLength: 3 }).map((t) => t.join('.'));
/** Queue names, in permission entries and in SUBs, may hold wildcards. */
const entryQueue = fc.constantFrom('q', 'w', 'v1.x', 'v1.*', 'v1.>', '*');
const subQueue = fc.constantFrom('q', 'w', 'v1.x', 'v1.y.z', 'v1.*', 'v1.>', '*', '>');
const subEntry = fc.tuple(wildSubject, fc.option(entryQueue, { nil: undefined })).map(([s, q]) => (q === undefined ? s : `${s} ${q}`));
const list = fc.option(fc.array(subEntry, { maxLength: 4 }), { nil: undefined });
const pubList = fc.option(fc.array(wildSubject, { maxLength: 4 }), { nil: undefined });

describe('permissions against the reference model', () => {
  it('canSubscribe and the deny-at-delivery switch agree for random lists, subjects and queues', () => {
    fc.assert(
      fc.property(list, list, fc.array(fc.tuple(wildSubject, fc.option(subQueue, { nil: null })), { minLength: 1, maxLength: 10 }), (allow, deny, subs) => {
        const p = new Permissions({ subscribe: { ...(allow ? { allow } : {}), ...(deny ? { deny } : {}) } });
        let mperms = false;
        for (const [subject, queue] of subs) {
          expect(p.canSubscribe(subject, queue), `SUB ${subject} ${queue ?? ''}`).toBe(goCanSubscribe(allow, deny, subject, queue));
          mperms ||= goSetsMperms(allow, deny, subject, queue);
          expect(p.checkDeliveries, `deny at delivery after SUB ${subject} ${queue ?? ''}`).toBe(mperms);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('canPublish and deniesDelivery agree for random lists and subjects, cached or not', () => {
    fc.assert(
      fc.property(pubList, pubList, list, fc.array(literalSubject, { minLength: 1, maxLength: 10 }), (allow, deny, subDeny, subjects) => {
        const p = new Permissions({
          publish: { ...(allow ? { allow } : {}), ...(deny ? { deny } : {}) },
          subscribe: subDeny ? { deny: subDeny } : undefined,
        });
        for (const subject of [...subjects, ...subjects]) {
          expect(p.canPublish(subject), `PUB ${subject}`).toBe(goPubAllowed(allow, deny, subject));
          if (p.hasSubDeny) expect(p.deniesDelivery(subject), `deliver ${subject}`).toBe(goListMatch(subDeny!, subject).psubs > 0);
        }
        expect(p.hasSubDeny).toBe(subDeny !== undefined && subDeny.length > 0);
      }),
      { numRuns: 500 },
    );
  });
});
