/**
 * Subject transforms: nats-server's `src` → `dest` subject mappings, with the behaviour and
 * error texts of nats-server v2.10.29 (`server/subject_transform.go`, the subset match of
 * `server/sublist.go`, the sentinel errors of `server/errors.go`). JetStream applies them for a
 * stream's `subject_transform` and `republish` and for source/mirror transforms; core account
 * `mappings` use the same machinery.
 *
 * Subjects, sources and destinations are the broker's latin1 strings (one char per wire byte,
 * see subject.ts), so every length, position and hashed byte below is a byte, as in Go.
 *
 * The destination is parsed once, into one step per destination token; `match()` then splits
 * the published subject once and walks the steps, with no regular expression per message.
 * One deliberate difference: `{{partition(0, …)}}` gives "0" (later nats-server releases do
 * that; 2.10.29 divides by zero). Not here: the reverse transforms that imports need.
 */

/** The texts of nats-server's errors that building a transform can give, by their Go names. */
const MAPPING = 'invalid mapping destination';
const TEXTS = {
  ErrBadSubject: 'invalid subject',
  ErrInvalidMappingDestinationSubject: `${MAPPING}: invalid subject`,
  ErrMappingDestinationNotUsingAllWildcards: `${MAPPING}: not using all of the token wildcard(s)`,
  ErrUnknownMappingDestinationFunction: `${MAPPING}: unknown function`,
  ErrMappingDestinationIndexOutOfRange: `${MAPPING}: wildcard index out of range`,
  ErrMappingDestinationNotEnoughArgs: `${MAPPING}: not enough arguments passed to the function`,
  ErrMappingDestinationInvalidArg: `${MAPPING}: function argument is invalid or in the wrong format`,
  ErrMappingDestinationTooManyArgs: `${MAPPING}: too many arguments passed to the function`,
  ErrMappingDestinationNotSupportedForImport: `${MAPPING}: the only mapping function allowed for import transforms is {{Wildcard()}}`,
} as const;

/** Which nats-server error a {@link TransformError} is, by its Go name. */
export type TransformErrorCode = keyof typeof TEXTS;

/**
 * A transform that nats-server would refuse. The message is nats-server's final text: the
 * sentinel's text, then ` in <token>` naming the offending destination token where nats-server
 * names one (for example `invalid mapping destination: wildcard index out of range in $2: [2]`).
 */
export class TransformError extends Error {
  /** The nats-server sentinel error, e.g. `ErrMappingDestinationIndexOutOfRange`. */
  readonly code: TransformErrorCode;
  /** True for every code but `ErrBadSubject` (Go's `errors.Is(err, ErrInvalidMappingDestination)`). */
  readonly invalidMappingDestination: boolean;

  constructor(code: TransformErrorCode, token?: string) {
    super(token === undefined ? TEXTS[code] : `${TEXTS[code]} in ${token}`);
    this.name = 'TransformError';
    this.code = code;
    this.invalidMappingDestination = code !== 'ErrBadSubject';
  }
}

/** What a destination token does. */
// prettier-ignore
const Fn = {
  Literal: 0, Wildcard: 1, Partition: 2, SplitFromLeft: 3, SplitFromRight: 4,
  SliceFromLeft: 5, SliceFromRight: 6, Split: 7, Left: 8, Right: 9,
} as const;
type Fn = (typeof Fn)[keyof typeof Fn];

/** One destination token, ready to run. One shape for every kind keeps `match()` monomorphic. */
interface Step {
  readonly fn: Fn;
  /** The literal token (Literal only). */
  readonly text: string;
  /** Positions of the source tokens the function reads (0-based, into the published subject). */
  readonly at: readonly number[];
  /** The integer argument as Go's int32 holds it (partitions, position, slice size, length). */
  readonly n: number;
  /** The delimiter of `split`. */
  readonly delim: string;
}

/** A destination token as parsed: wildcard numbers as written (1-based), before checking. */
interface Placeholder {
  readonly fn: Fn;
  readonly refs: readonly bigint[];
  readonly n: number;
  readonly delim: string;
}

/** Go's `\s` (RE2: ASCII white space only) and `.` (anything but a newline). */
const SPACE = '[\\t\\n\\f\\r ]*';
const COMMA = /,[\t\n\f\r ]*/;

/** nats-server's `{{ Name(args) }}` pattern: each word's first letter in either case, unanchored. */
function functionRegex(name: string): RegExp {
  const word = name.replace(/[A-Z]/g, (c) => `[${c}${c.toLowerCase()}]`);
  return new RegExp(`\\{\\{${SPACE}${word}${SPACE}\\(([^\\n]*)\\)${SPACE}\\}\\}`);
}

/** The mapping functions, in the order nats-server tries them (it matters: the patterns are unanchored). */
const FUNCTIONS: readonly (readonly [Fn, RegExp])[] = [
  [Fn.Wildcard, functionRegex('Wildcard')],
  [Fn.Partition, functionRegex('Partition')],
  [Fn.SplitFromLeft, functionRegex('SplitFromLeft')],
  [Fn.SplitFromRight, functionRegex('SplitFromRight')],
  [Fn.SliceFromLeft, functionRegex('SliceFromLeft')],
  [Fn.SliceFromRight, functionRegex('SliceFromRight')],
  [Fn.Right, functionRegex('Right')],
  [Fn.Left, functionRegex('Left')],
  [Fn.Split, functionRegex('Split')],
];

/** Go's `strconv.Atoi` (64-bit int): an optional sign and decimal digits, or null. */
function atoi(s: string): bigint | null {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const v = BigInt(s);
  return BigInt.asIntN(64, v) === v ? v : null;
}

/** Go's `int32(x)` of an int: wraps. */
const int32 = (v: bigint): number => Number(BigInt.asIntN(32, v));

/** `strings.Trim(s, " ")`: spaces only. */
const trimSpaces = (s: string): string => s.replace(/^ +| +$/g, '');

/**
 * What a destination token asks for (nats-server's `indexPlaceHolders`): null for a literal
 * token, including a `$` token whose rest is not an integer; throws for a malformed function.
 */
function parsePlaceholder(token: string): Placeholder | null {
  const len = token.length;
  if (len < 2) return null;
  if (token[0] === '$') {
    const ref = atoi(token.slice(1));
    return ref === null ? null : { fn: Fn.Wildcard, refs: [ref], n: -1, delim: '' };
  }
  if (len <= 4 || !token.startsWith('{{') || !token.endsWith('}}')) return null;
  for (const [fn, re] of FUNCTIONS) {
    const m = re.exec(token);
    if (m !== null) return functionArgs(fn, m[1].split(COMMA), token);
  }
  throw new TransformError('ErrUnknownMappingDestinationFunction', token);
}

function functionArgs(fn: Fn, args: string[], token: string): Placeholder {
  const fail = (code: TransformErrorCode): never => {
    throw new TransformError(code, token);
  };
  const int = (s: string): bigint => atoi(trimSpaces(s)) ?? fail('ErrMappingDestinationInvalidArg');
  switch (fn) {
    case Fn.Wildcard:
      if (args.length === 1 && args[0] === '') fail('ErrMappingDestinationNotEnoughArgs');
      if (args.length > 1) fail('ErrMappingDestinationTooManyArgs');
      return { fn, refs: [int(args[0])], n: -1, delim: '' };
    case Fn.Partition: {
      if (args.length < 2) fail('ErrMappingDestinationNotEnoughArgs');
      const n = int32(int(args[0]));
      return { fn, refs: args.slice(1).map(int), n, delim: '' };
    }
    default: {
      if (args.length < 2) fail('ErrMappingDestinationNotEnoughArgs');
      if (args.length > 2) fail('ErrMappingDestinationTooManyArgs');
      const ref = int(args[0]);
      if (fn !== Fn.Split) return { fn, refs: [ref], n: int32(int(args[1])), delim: '' };
      // The delimiter is taken as written (after the comma's white space), but may hold no space or dot.
      if (args[1].includes(' ') || args[1].includes('.')) fail('ErrMappingDestinationInvalidArg');
      return { fn, refs: [ref], n: -1, delim: args[1] };
    }
  }
}

/** nats-server's `subjectInfo`: the tokens, partial wildcard count and trailing `>`, or null if invalid. */
function subjectInfo(subject: string): { tokens: string[]; pwcs: number; fwc: boolean } | null {
  if (subject === '') return null;
  const tokens = subject.split('.');
  let pwcs = 0;
  let fwc = false;
  for (const t of tokens) {
    if (t.length === 0 || fwc) return null;
    if (t === '>') fwc = true;
    else if (t === '*') pwcs++;
  }
  return { tokens, pwcs, fwc };
}

const literalStep = (text: string): Step => ({ fn: Fn.Literal, text, at: [], n: -1, delim: '' });

/**
 * A compiled subject transform. Build one with {@link SubjectTransform.create}; apply it to a
 * published subject with {@link SubjectTransform.match}.
 */
export class SubjectTransform {
  private constructor(
    /** The source filter, `>` when it was given empty. */
    readonly source: string,
    /** The destination, as given. */
    readonly destination: string,
    private readonly sourceTokens: readonly string[],
    private readonly steps: readonly Step[],
    private readonly destFwc: boolean,
  ) {}

  /**
   * Compiles `src` → `dest` as nats-server's `NewSubjectTransformWithStrict` does. An empty
   * `src` means `>`. An empty `dest` gives null: nats-server has no transform then (a stream
   * `subject_transform` with no destination leaves subjects alone).
   *
   * `strict` is `NewSubjectTransformStrict`, which nats-server uses for import mappings (they must be
   * reversible): only `$n` / `{{wildcard(n)}}` allowed, and every source `*` must be used.
   * Stream `subject_transform`, `republish`, sources and mirrors use the non-strict form.
   *
   * @throws {@link TransformError} with nats-server's error text when nats-server would refuse it.
   */
  static create(src: string, dest: string, strict = false): SubjectTransform | null {
    if (dest === '') return null;
    if (src === '') src = '>';
    const s = subjectInfo(src);
    const d = subjectInfo(dest);
    if (s === null || d === null || d.pwcs > 0 || s.fwc !== d.fwc) throw new TransformError('ErrBadSubject');

    const steps: Step[] = [];
    if (s.pwcs > 0 || s.fwc) {
      // Where the n-th `*` of the source sits; a wildcard number below 1 reads token 0, as in nats-server.
      const stars: number[] = [];
      s.tokens.forEach((t, i) => t === '*' && stars.push(i));
      let used = 0;
      for (const token of d.tokens) {
        const ph = parsePlaceholder(token);
        if (ph === null) {
          steps.push(literalStep(token));
          continue;
        }
        if (strict && ph.fn !== Fn.Wildcard) throw new TransformError('ErrMappingDestinationNotSupportedForImport', token);
        if (s.pwcs === 0) throw new TransformError('ErrMappingDestinationIndexOutOfRange', token);
        used += ph.refs.length;
        const at = ph.refs.map((ref) => {
          if (ref > BigInt(s.pwcs)) throw new TransformError('ErrMappingDestinationIndexOutOfRange', `${token}: [${ref}]`);
          return ref >= 1n ? stars[Number(ref) - 1] : 0;
        });
        steps.push({ fn: ph.fn, text: '', at, n: ph.n, delim: ph.delim });
      }
      if (strict && used < s.pwcs) throw new TransformError('ErrMappingDestinationNotUsingAllWildcards', dest);
    } else {
      // A literal source: the destination is used as it is, and may call no function.
      for (const token of d.tokens) {
        if (parsePlaceholder(token) !== null) throw new TransformError('ErrMappingDestinationIndexOutOfRange', token);
      }
    }
    return new SubjectTransform(src, dest, s.tokens, steps, d.fwc);
  }

  /**
   * The transformed subject, or null when `subject` does not match the source (nats-server's
   * `ErrNoTransforms`) or is not a valid literal subject (`ErrBadSubject`); nats-server's callers
   * treat both alike. A `>` → `>` transform returns any subject unchanged, unchecked, as nats-server does.
   */
  match(subject: string): string | null {
    if (this.source === '>' && this.destination === '>') return subject;
    const tokens = subject.split('.');
    for (const t of tokens) {
      if (t.length === 0 || t === '*' || t === '>') return null;
    }
    if (this.source !== '>' && !subsetMatch(tokens, this.sourceTokens)) return null;
    return this.render(tokens);
  }

  /** nats-server's `TransformTokenizedSubject`, for tokens that matched the source. */
  private render(tokens: readonly string[]): string {
    const steps = this.steps;
    if (steps.length === 0) return this.destination;
    let out = '';
    const last = steps.length - 1;
    for (let i = 0; i <= last; i++) {
      const step = steps[i];
      const n = step.n;
      const t = step.fn === Fn.Literal || step.fn === Fn.Partition ? '' : (tokens[step.at[0]] ?? '');
      const len = t.length;
      const cut = n > 0 && n < len;
      switch (step.fn) {
        case Fn.Literal:
          if (step.text !== '>') out += step.text;
          break;
        case Fn.Wildcard:
          out += t;
          break;
        case Fn.Partition:
          out += partition(tokens, step.at, n);
          break;
        case Fn.SplitFromLeft:
          out += cut ? `${t.slice(0, n)}.${t.slice(n)}` : t;
          break;
        case Fn.SplitFromRight:
          out += cut ? `${t.slice(0, len - n)}.${t.slice(len - n)}` : t;
          break;
        case Fn.SliceFromLeft:
        case Fn.SliceFromRight: {
          // From the left the short piece is last; from the right it is first.
          let k = !cut ? len : step.fn === Fn.SliceFromLeft ? n : len % n || n;
          out += t.slice(0, k);
          for (; k < len; k += n) out += `.${t.slice(k, k + n)}`;
          break;
        }
        case Fn.Split:
          out += split(t, step.delim);
          break;
        case Fn.Left:
          out += cut ? t.slice(0, n) : t;
          break;
        case Fn.Right:
          out += cut ? t.slice(len - n) : t;
          break;
      }
      if (i < last) out += '.';
    }
    if (this.destFwc) {
      // The tokens the source's `>` stood for follow the destination's `>`.
      const from = this.sourceTokens.length - 1;
      for (let i = from; i < tokens.length; i++) out += i === from ? tokens[i] : `.${tokens[i]}`;
    }
    return out;
  }
}

/**
 * nats-server's `isSubsetMatchTokenized` for a literal subject against the source: `>` takes the
 * rest (at least one token); a source token that merely starts with `*` (`*x`) matches any token,
 * a nats-server quirk kept on purpose.
 */
function subsetMatch(tokens: readonly string[], source: readonly string[]): boolean {
  for (let i = 0; i < source.length; i++) {
    if (i >= tokens.length) return false;
    const s = source[i];
    if (s === '>') return true;
    if (s.charCodeAt(0) !== 0x2a && s !== tokens[i]) return false;
  }
  return tokens.length === source.length;
}

/**
 * `{{partition(n, ...)}}`: Go's `hash/fnv` New32a over the named tokens' bytes, concatenated with
 * no separator, modulo `uint32(n)`. nats-server 2.10.29 panics (divides by zero) for 0
 * partitions; later nats-server releases give "0", as this does.
 */
function partition(tokens: readonly string[], at: readonly number[], n: number): string {
  const buckets = n >>> 0;
  if (buckets === 0) return '0';
  let h = 0x811c9dc5;
  for (const i of at) {
    const t = tokens[i];
    for (let k = 0; k < t.length; k++) h = Math.imul(h ^ t.charCodeAt(k), 0x01000193);
  }
  return String((h >>> 0) % buckets);
}

/**
 * `{{split(i, delim)}}`: the token's pieces joined by dots, empty pieces dropped, with
 * nats-server's exact separator rule (so `--a` gives `.a`). An empty delimiter splits into
 * UTF-8 sequences, as Go's `strings.Split(s, "")` does.
 */
function split(t: string, delim: string): string {
  const parts = delim === '' ? utf8Pieces(t) : t.split(delim);
  let out = '';
  for (let j = 0; j < parts.length; j++) {
    out += parts[j];
    if (j < parts.length - 1 && parts[j + 1] !== '' && !(j === 0 && parts[j] === '')) out += '.';
  }
  return out;
}

/** A latin1 string cut into its UTF-8 sequences; a byte that starts no valid sequence stands alone. */
function utf8Pieces(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    const n = utf8Length(s, i);
    out.push(s.slice(i, i + n));
    i += n;
  }
  return out;
}

function utf8Length(s: string, i: number): number {
  const b = s.charCodeAt(i);
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const c = s.charCodeAt(i + k);
    return c >= lo && c <= hi;
  };
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 1;
  if (b >= 0xe0 && b <= 0xef) {
    const second = b === 0xe0 ? cont(1, 0xa0) : b === 0xed ? cont(1, 0x80, 0x9f) : cont(1);
    return second && cont(2) ? 3 : 1;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const second = b === 0xf0 ? cont(1, 0x90) : b === 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
    return second && cont(2) && cont(3) ? 4 : 1;
  }
  return 1;
}

/** The functions nats-server's `ValidateMappingDestination` knows: 2.10.29 leaves out left and right. */
const VALIDATED = FUNCTIONS.filter(([fn]) => fn !== Fn.Left && fn !== Fn.Right).map(([, re]) => re);

/**
 * nats-server's `ValidateMappingDestination`, the check it makes on a stream source's transform
 * destination and on core account mappings before building the transform. An empty
 * destination passes.
 *
 * @throws {@link TransformError} `ErrInvalidMappingDestinationSubject` or `ErrUnknownMappingDestinationFunction`.
 */
export function validateMappingDestination(dest: string): void {
  if (dest === '') return;
  let fwc = false;
  for (const t of dest.split('.')) {
    if (t.length === 0 || fwc) throw new TransformError('ErrInvalidMappingDestinationSubject', t);
    if (t.length > 4 && t.startsWith('{{') && t.endsWith('}}')) {
      if (!VALIDATED.some((re) => re.test(t))) throw new TransformError('ErrUnknownMappingDestinationFunction', t);
    } else if (t === '>') {
      fwc = true;
    } else if (/[\t\n\f\r ]/.test(t)) {
      throw new TransformError('ErrInvalidMappingDestinationSubject');
    }
  }
}
