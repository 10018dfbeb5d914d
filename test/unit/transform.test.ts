/**
 * Subject transforms against nats-server v2.10.29's behaviour: the cases of its
 * subject_transform_test.go, the error texts its code gives, and partition numbers that a real
 * nats-server produced for the same mappings.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SubjectTransform, TransformError, validateMappingDestination } from '../../src/subject/transform.js';

const M = 'invalid mapping destination';

function create(src: string, dest: string, strict = false): SubjectTransform {
  const tr = SubjectTransform.create(src, dest, strict);
  if (tr === null) throw new Error('no transform');
  return tr;
}

function refusal(src: string, dest: string, strict = false): TransformError {
  try {
    SubjectTransform.create(src, dest, strict);
  } catch (err) {
    expect(err).toBeInstanceOf(TransformError);
    return err as TransformError;
  }
  throw new Error(`accepted ${src} -> ${dest}`);
}

/** A latin1 (wire) string from text, as the broker holds subjects. */
const wire = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('SubjectTransform.create refuses what nats-server refuses, with its error text', () => {
  it.each([
    // [src, dest, strict, code, message]
    ['foo..', 'bar', false, 'ErrBadSubject', 'invalid subject'],
    ['foo.*', 'bar.*', false, 'ErrBadSubject', 'invalid subject'],
    ['foo.*', 'bar.$1.>', false, 'ErrBadSubject', 'invalid subject'],
    ['foo.>', 'bar.baz', false, 'ErrBadSubject', 'invalid subject'],
    ['foo.>.bar', 'bar.>', false, 'ErrBadSubject', 'invalid subject'],
    ['foo.*', 'bar.$2', false, 'ErrMappingDestinationIndexOutOfRange', `${M}: wildcard index out of range in $2: [2]`],
    ['foo.*.*', 'bar.$2', true, 'ErrMappingDestinationNotUsingAllWildcards', `${M}: not using all of the token wildcard(s) in bar.$2`],
    ['foo.*', 'foo.$foo', true, 'ErrMappingDestinationNotUsingAllWildcards', `${M}: not using all of the token wildcard(s) in foo.$foo`],
    [
      'foo.*',
      'bar.{{Partition(2,1)}}',
      true,
      'ErrMappingDestinationNotSupportedForImport',
      `${M}: the only mapping function allowed for import transforms is {{Wildcard()}} in {{Partition(2,1)}}`,
    ],
    ['foo.*', 'foo.{{wildcard(2)}}', false, 'ErrMappingDestinationIndexOutOfRange', `${M}: wildcard index out of range in {{wildcard(2)}}: [2]`],
    ['foo.*', 'foo.{{unimplemented(1)}}', false, 'ErrUnknownMappingDestinationFunction', `${M}: unknown function in {{unimplemented(1)}}`],
    ['foo.*', 'foo.{{partition(10)}}', false, 'ErrMappingDestinationNotEnoughArgs', `${M}: not enough arguments passed to the function in {{partition(10)}}`],
    ['foo.*', 'foo.{{wildcard(foo)}}', false, 'ErrMappingDestinationInvalidArg', `${M}: function argument is invalid or in the wrong format in {{wildcard(foo)}}`],
    ['foo.*', 'foo.{{wildcard()}}', false, 'ErrMappingDestinationNotEnoughArgs', `${M}: not enough arguments passed to the function in {{wildcard()}}`],
    ['foo.*', 'foo.{{wildcard(1,2)}}', false, 'ErrMappingDestinationTooManyArgs', `${M}: too many arguments passed to the function in {{wildcard(1,2)}}`],
    ['foo.*', 'foo.{{ wildcard5) }}', false, 'ErrUnknownMappingDestinationFunction', `${M}: unknown function in {{ wildcard5) }}`],
    ['foo.*', 'foo.{{splitLeft(2,2}}', false, 'ErrUnknownMappingDestinationFunction', `${M}: unknown function in {{splitLeft(2,2}}`],
    ['foo', 'bla.{{wildcard(1)}}', false, 'ErrMappingDestinationIndexOutOfRange', `${M}: wildcard index out of range in {{wildcard(1)}}`],
    ['foo.>', 'bla.$1.>', false, 'ErrMappingDestinationIndexOutOfRange', `${M}: wildcard index out of range in $1`],
    ['*', '{{splitfromleft(1)}}', false, 'ErrMappingDestinationNotEnoughArgs', `${M}: not enough arguments passed to the function in {{splitfromleft(1)}}`],
    ['*', '{{left(1,2,3)}}', false, 'ErrMappingDestinationTooManyArgs', `${M}: too many arguments passed to the function in {{left(1,2,3)}}`],
    ['*', '{{right(1,x)}}', false, 'ErrMappingDestinationInvalidArg', `${M}: function argument is invalid or in the wrong format in {{right(1,x)}}`],
    ['*', '{{split(1,a b)}}', false, 'ErrMappingDestinationInvalidArg', `${M}: function argument is invalid or in the wrong format in {{split(1,a b)}}`],
    ['*', '{{split(1)}}', false, 'ErrMappingDestinationNotEnoughArgs', `${M}: not enough arguments passed to the function in {{split(1)}}`],
    ['*', '{{partition(3,1,x)}}', false, 'ErrMappingDestinationInvalidArg', `${M}: function argument is invalid or in the wrong format in {{partition(3,1,x)}}`],
    ['*', '{{partition(3,1,2)}}', false, 'ErrMappingDestinationIndexOutOfRange', `${M}: wildcard index out of range in {{partition(3,1,2)}}: [2]`],
    ['*', '{{PARTITION(3,1)}}', false, 'ErrUnknownMappingDestinationFunction', `${M}: unknown function in {{PARTITION(3,1)}}`],
  ] as const)('%s -> %s (strict %s): %s', (src, dest, strict, code, message) => {
    const err = refusal(src, dest, strict);
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
    expect(err.invalidMappingDestination).toBe(code !== 'ErrBadSubject');
  });
});

describe('SubjectTransform.create accepts what nats-server accepts', () => {
  it.each([
    ['foo.*', 'bar.{{Wildcard(1)}}', true],
    ['foo.*.*', 'bar.$2.$1', true],
    ['foo.*.*', 'bar.$1.$1', true], // strict counts references, not distinct wildcards
    ['foo.*.*', 'bar.$2', false],
    ['foo.*.*', 'bar.{{wildcard(1)}}', false],
    ['foo', 'bar', false],
    ['foo', 'bar.$x', false],
    ['foo.*.bar.*.baz', 'req.$2.$1', false],
    ['baz.>', 'mybaz.>', false],
    ['*', '{{splitfromleft(1,1)}}', false],
    ['', 'prefix.>', false],
    ['*.*', '{{partition(10,1,2)}}', false],
    ['foo.*.*', 'foo.{{wildcard(1)}}.{{wildcard(2)}}.{{partition(5,1,2)}}', false],
    ['*', '{{ Partition (10,1) }}', false],
    ['*', '{{split(1,)}}', false],
  ] as const)('%s -> %s (strict %s)', (src, dest, strict) => {
    expect(SubjectTransform.create(src, dest, strict)).toBeInstanceOf(SubjectTransform);
  });

  it('gives no transform for an empty destination, and reads an empty source as ">"', () => {
    expect(SubjectTransform.create('foo', '')).toBeNull();
    expect(SubjectTransform.create('', '')).toBeNull();
    expect(create('', 'x.>').source).toBe('>');
  });
});

describe('SubjectTransform.match', () => {
  it.each([
    ['', 'prefix.>', 'foo', 'prefix.foo'],
    ['foo', 'bar', 'foo', 'bar'],
    ['foo.*.bar.*.baz', 'req.$2.$1', 'foo.A.bar.B.baz', 'req.B.A'],
    ['foo.*.bar.*.baz', 'req.{{wildcard(2)}}.{{wildcard(1)}}', 'foo.A.bar.B.baz', 'req.B.A'],
    ['baz.>', 'my.pre.>', 'baz.1.2.3', 'my.pre.1.2.3'],
    ['baz.>', 'foo.bar.>', 'baz.1.2.3', 'foo.bar.1.2.3'],
    ['foo.*.>', '>', 'foo.x.1.2', '1.2'],
    ['*.>', '$1.x.>', 'a.b.c', 'a.x.b.c'],
    ['*', 'foo.bar.$1', 'foo', 'foo.bar.foo'],
    ['*', '{{splitfromleft(1,3)}}', '12345', '123.45'],
    ['*', '{{SplitFromRight(1,3)}}', '12345', '12.345'],
    ['*', '{{SliceFromLeft(1,3)}}', '1234567890', '123.456.789.0'],
    ['*', '{{SliceFromRight(1,3)}}', '1234567890', '1.234.567.890'],
    ['*', '{{SliceFromLeft(1,3)}}', '123456', '123.456'],
    ['*', '{{SliceFromRight(1,3)}}', '123456', '123.456'],
    ['*', '{{sliceFromLeft(1,0)}}.{{sliceFromRight(1,-2)}}.{{splitFromLeft(1,5)}}', 'abcde', 'abcde.abcde.abcde'],
    ['*', '{{split(1,-)}}', '-abc-def--ghi-', 'abc.def.ghi'],
    ['*', '{{split(1,-)}}', 'abc-def--ghi-', 'abc.def.ghi'],
    ['*.*', '{{split(2,-)}}.{{splitfromleft(1,2)}}', 'foo.-abc-def--ghij-', 'abc.def.ghij.fo.o'],
    ['*', '{{split(1,ab)}}', 'xabyabz', 'x.y.z'],
    ['*', '{{right(1,1)}}', '1234', '4'],
    ['*', '{{right(1,3)}}', '1234', '234'],
    ['*', '{{right(1,6)}}', '1234', '1234'],
    ['*', '{{left(1,1)}}', '1234', '1'],
    ['*', '{{left(1,3)}}', '1234', '123'],
    ['*', '{{left(1,6)}}', '1234', '1234'],
    ['*', '{{ Wildcard ( 1 ) }}', 'x', 'x'],
    ['*.*', '{{partition(3, 2, 1)}}', 'a.b', '2'],
    ['*', 'a.$foo.$1', 'x', 'a.$foo.x'], // `$foo` is not a reference, just a token
  ])('%s -> %s maps %s to %s', (src, dest, subject, expected) => {
    expect(create(src, dest).match(subject)).toBe(expected);
  });

  it('is null when the subject does not match the source or is not a literal subject', () => {
    const tr = create('foo.*.bar', 'x.$1');
    expect(tr.match('foo.a.baz')).toBeNull();
    expect(tr.match('foo.a')).toBeNull();
    expect(tr.match('foo.a.bar.c')).toBeNull();
    expect(tr.match('foo..bar')).toBeNull();
    expect(tr.match('foo.*.bar')).toBeNull();
    expect(create('foo.>', 'x.>').match('foo')).toBeNull();
    expect(create('>', 'x.>').match('a.>')).toBeNull();
    expect(create('foo', 'bar').match('foo.bar')).toBeNull();
  });

  it('passes any subject through a ">" -> ">" transform unchecked, as nats-server does', () => {
    expect(create('>', '>').match('a..b')).toBe('a..b');
    expect(create('', '>').match('foo.bar')).toBe('foo.bar');
  });

  it('keeps nats-server quirks', () => {
    // $0 (and any reference below 1) reads source token 0.
    expect(create('w.*.*', 'out.$0.$2').match('w.A.B')).toBe('out.w.B');
    // A source token starting with `*` matches any token.
    expect(create('k.*x', 'out.k').match('k.zzz')).toBe('out.k');
    // Split's separator rule: two leading delimiters leave a leading dot.
    expect(create('*', '{{split(1,-)}}').match('--a')).toBe('.a');
    expect(create('*', '{{split(1,-)}}').match('a--b')).toBe('a.b');
    expect(create('*', '{{split(1,-)}}').match('-')).toBe('');
    // An empty delimiter splits into UTF-8 sequences.
    expect(create('e.*', 'out.{{split(1,)}}').match(wire('e.aé日'))).toBe(wire('out.a.é.日'));
    // Integer arguments wrap as Go's int32 does.
    expect(create('*', '{{left(1,4294967298)}}').match('abcd')).toBe('ab');
  });

  it('cuts by bytes, as nats-server does', () => {
    expect(create('*', '{{splitfromleft(1,2)}}').match(wire('éa'))).toBe(`${wire('é')}.a`);
  });
});

describe('{{partition}}', () => {
  // Results a nats-server (the same FNV-1a code as 2.10.29) gave for these core mappings.
  it.each([
    ['p.*.*', 'out.p.{{partition(10,1,2)}}.$1.$2', 'p.a.b', 'out.p.6.a.b'],
    ['p.*.*', 'out.p.{{partition(10,1,2)}}.$1.$2', 'p.foo.bar', 'out.p.0.foo.bar'],
    ['p.*.*', 'out.p.{{partition(10,1,2)}}.$1.$2', 'p.ORDERS.42', 'out.p.2.ORDERS.42'],
    ['p.*.*', 'out.p.{{partition(10,1,2)}}.$1.$2', 'p.hello.world', 'out.p.7.hello.world'],
    ['p.*.*', 'out.p.{{partition(10,1,2)}}.$1.$2', 'p.0.0', 'out.p.1.0.0'],
    ['p.*.*', 'out.p.{{partition(10,1,2)}}.$1.$2', wire('p.ü.é'), wire('out.p.2.ü.é')],
    ['q.*', 'out.q.{{partition(7,1)}}.$1', 'q.a', 'out.q.5.a'],
    ['q.*', 'out.q.{{partition(7,1)}}.$1', 'q.foobar', 'out.q.0.foobar'],
    ['q.*', 'out.q.{{partition(7,1)}}.$1', 'q.xyz123', 'out.q.6.xyz123'],
    ['q.*', 'out.q.{{partition(7,1)}}.$1', wire('q.日本'), wire('out.q.1.日本')],
    // 4294967295 is int32 -1, so uint32 4294967295 buckets: the raw FNV-1a hash shows through.
    ['h.*', 'out.h.{{partition(4294967295,1)}}', 'h.a', 'out.h.3826002220'], // 0xe40c292c
    ['h.*', 'out.h.{{partition(4294967295,1)}}', 'h.foobar', 'out.h.3214735720'], // 0xbf9cf968
    ['h.*', 'out.h.{{partition(4294967295,1)}}', 'h.ORDERS', 'out.h.3575514028'],
  ])('%s -> %s maps %s to %s', (src, dest, subject, expected) => {
    expect(create(src, dest).match(subject)).toBe(expected);
  });

  it('hashes the named tokens concatenated, in the order named', () => {
    const raw = create('*.*', '{{partition(4294967295,2,1)}}');
    expect(raw.match('bar.foo')).toBe('3214735720'); // fnv1a("foobar")
  });

  it('gives partition 0 for 0 partitions (where nats-server 2.10.29 would divide by zero)', () => {
    expect(create('*', '{{partition(0,1)}}').match('a')).toBe('0');
  });
});

describe('validateMappingDestination', () => {
  it('accepts what nats-server accepts', () => {
    for (const d of ['', 'foo', 'foo.>', 'foo.{{partition(2,1)}}', '{{wildcard(1)}}.$1', 'a.{{ SplitFromLeft(1,2) }}']) {
      expect(() => validateMappingDestination(d)).not.toThrow();
    }
  });

  it.each([
    ['foo..bar', `${M}: invalid subject in `],
    ['foo.>.bar', `${M}: invalid subject in bar`],
    ['foo bar', `${M}: invalid subject`],
    ['foo.{{nope(1)}}', `${M}: unknown function in {{nope(1)}}`],
    // nats-server 2.10.29's check does not know left() and right().
    ['foo.{{left(1,2)}}', `${M}: unknown function in {{left(1,2)}}`],
  ])('refuses %s', (dest, message) => {
    let err: unknown;
    try {
      validateMappingDestination(dest);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TransformError);
    expect((err as Error).message).toBe(message);
  });
});

/** Tokens of a literal subject: no dots, never a lone `*` or `>`. */
const token = fc.stringMatching(/^[a-zA-Z0-9_$-]{1,8}$/);
const subjectTokens = fc.array(token, { minLength: 1, maxLength: 8 });

/** Go's hash/fnv New32a, written independently with BigInt arithmetic. */
function fnv1a(bytes: string): bigint {
  let h = 2166136261n;
  for (const c of bytes) h = ((h ^ BigInt(c.charCodeAt(0))) * 16777619n) % 2n ** 32n;
  return h;
}

describe('properties', () => {
  it('">" -> ">" is the identity; ">" -> "p.>" prefixes', () => {
    fc.assert(
      fc.property(subjectTokens, (toks) => {
        const s = toks.join('.');
        expect(create('>', '>').match(s)).toBe(s);
        expect(create('', 'p.q.>').match(s)).toBe(`p.q.${s}`);
        expect(create('>', 'p.>').match(`${s}.`)).toBeNull();
      }),
    );
  });

  it('a wildcard permutation and its inverse round-trip', () => {
    const perm = fc.integer({ min: 1, max: 7 }).chain((n) => fc.tuple(fc.shuffledSubarray([...Array(n).keys()], { minLength: n }), fc.array(token, { minLength: n, maxLength: n }), fc.boolean()));
    fc.assert(
      fc.property(perm, ([p, toks, mustache]) => {
        const n = p.length;
        const ref = (i: number): string => (mustache ? `{{wildcard(${i + 1})}}` : `$${i + 1}`);
        const src = `in.${Array(n).fill('*').join('.')}`;
        const inverse = p.map((_, j) => p.indexOf(j));
        const fwd = create(src, `out.${p.map(ref).join('.')}`, true);
        const back = create(`out.${Array(n).fill('*').join('.')}`, `in.${inverse.map(ref).join('.')}`, true);
        const subject = `in.${toks.join('.')}`;
        const mapped = fwd.match(subject);
        expect(mapped).toBe(`out.${p.map((i) => toks[i]).join('.')}`);
        expect(back.match(mapped as string)).toBe(subject);
      }),
    );
  });

  it('slices and splits only add dots; partitions are FNV-1a modulo n', () => {
    fc.assert(
      fc.property(token, fc.integer({ min: -3, max: 10 }), fc.integer({ min: 1, max: 1000 }), (t, k, n) => {
        const cut = k > 0 && k < t.length;
        for (const f of ['splitFromLeft', 'splitFromRight', 'sliceFromLeft', 'sliceFromRight']) {
          const pieces = (create('*', `{{${f}(1,${k})}}`).match(t) as string).split('.');
          expect(pieces.join('')).toBe(t);
          if (!cut) expect(pieces).toEqual([t]);
          else if (f.startsWith('split')) expect(pieces[f === 'splitFromLeft' ? 0 : 1].length).toBe(k);
          else expect(pieces.every((piece) => piece.length > 0 && piece.length <= k)).toBe(true);
        }
        const left = create('*', `{{left(1,${k})}}.{{right(1,${k})}}`).match(t) as string;
        expect(left).toBe(k > 0 && k < t.length ? `${t.slice(0, k)}.${t.slice(t.length - k)}` : `${t}.${t}`);
        expect(create('*.*', `{{partition(${n},1,2)}}`).match(`${t}.${t}`)).toBe(String(fnv1a(t + t) % BigInt(n)));
      }),
    );
  });
});
