/**
 * The subject rules JetStream's configuration checks use, as nats-server 2.10 has them:
 * names (`isValidName`), subjects with Go's whitespace rule (`IsValidSubject`,
 * `IsValidPublishSubject`), whether two subjects can match one literal (`SubjectsCollide`),
 * subset matching (`subjectIsSubsetMatch`), and the validity of subject transforms
 * (`NewSubjectTransform`, `ValidateMappingDestination`) with their error texts.
 *
 * Follows nats-server v2.10.29: jetstream.go (isValidName), sublist.go, subject_transform.go,
 * errors.go (the mapping error texts). Ports of the logic, quirks included: for example
 * `SubjectsCollide` treats any token that starts with `*` or `>` as a wildcard once a subject
 * holds a real wildcard.
 */
import { parseGoInt } from '../protocol/go-format.js';
import { isValidLiteralSubject, isValidSubscribeSubject } from '../subject/subject.js';
import { subjectIsSubsetMatch, subjectsCollide } from '../subject/relations.js';

// SubjectsCollide and subjectIsSubsetMatch are sublist.go's, shared with account imports.
export { subjectIsSubsetMatch, subjectsCollide };

const NAME_FORBIDDEN = /[ \t\r\n\f.*>]/;

/** jetstream.go isValidName: non-empty, no whitespace, `.`, `*` or `>`. */
export function isValidName(name: string): boolean {
  return name !== '' && !NAME_FORBIDDEN.test(name);
}

const GO_SPACE = /[\t\n\f\r ]/;

/**
 * sublist.go IsValidSubject: no empty token, nothing after a `>` token, and (unlike the
 * broker's subscribe check) no whitespace anywhere.
 */
export function isValidSubject(subject: string): boolean {
  return isValidSubscribeSubject(subject) && !GO_SPACE.test(subject);
}

/** sublist.go IsValidPublishSubject: a valid subject without wildcard tokens. */
export function isValidPublishSubject(subject: string): boolean {
  return isValidSubject(subject) && isValidLiteralSubject(subject);
}

/**
 * True when a subject of `a` and one of `b` could match the same literal subject
 * (SubjectsCollide over every pair): what nats-server checks before it lets a stream take
 * subjects another stream of the account already has (10065).
 */
export function subjectsOverlap(a: readonly string[], b: readonly string[]): boolean {
  return a.some((x) => b.some((y) => subjectsCollide(x, y)));
}

// ---------------------------------------------------------------------------------------------
// Subject transforms (subject_transform.go).

const WS = '[\\t\\n\\f\\r ]*';
const fn = (name: string): RegExp => new RegExp(`\\{\\{${WS}${name}${WS}\\((.*)\\)${WS}\\}\\}`);
const PARTITION = fn('[pP]artition');
const WILDCARD = fn('[wW]ildcard');
const SPLIT_FROM_LEFT = fn('[sS]plit[fF]rom[lL]eft');
const SPLIT_FROM_RIGHT = fn('[sS]plit[fF]rom[rR]ight');
const SLICE_FROM_LEFT = fn('[sS]lice[fF]rom[lL]eft');
const SLICE_FROM_RIGHT = fn('[sS]lice[fF]rom[rR]ight');
const SPLIT = fn('[sS]plit');
const LEFT = fn('[lL]eft');
const RIGHT = fn('[rR]ight');
const COMMA = /,[\t\n\f\r ]*/;

const E_MAPPING = 'invalid mapping destination';
const E_UNKNOWN_FUNCTION = `${E_MAPPING}: unknown function`;
const E_INDEX_OUT_OF_RANGE = `${E_MAPPING}: wildcard index out of range`;
const E_NOT_ENOUGH_ARGS = `${E_MAPPING}: not enough arguments passed to the function`;
const E_INVALID_ARG = `${E_MAPPING}: function argument is invalid or in the wrong format`;
const E_TOO_MANY_ARGS = `${E_MAPPING}: too many arguments passed to the function`;
/** errors.go ErrBadSubject. */
const E_BAD_SUBJECT = 'invalid subject';

/** mappingDestinationErr.Error(): "<error> in <token>". */
const inToken = (err: string, token: string): string => `${err} in ${token}`;

/** getMappingFunctionArgs: the comma-separated arguments of a matching function, or null. */
function args(re: RegExp, token: string): string[] | null {
  const m = re.exec(token);
  return m ? m[1].split(COMMA) : null;
}

/** strconv.Atoi of an argument with its spaces trimmed (strings.Trim(s, " ")). */
function atoi(s: string): number | undefined {
  const r = parseGoInt(s.replace(/^ +| +$/g, ''));
  return r.ok ? r.value : undefined;
}

/** The result of indexPlaceHolders: a transform kind and its wildcard indexes, or an error. */
type Placeholder = { kind: 'none' } | { kind: 'fn'; indexes: number[] } | { error: string };

function indexArgs(token: string, a: readonly string[]): Placeholder {
  if (a.length < 2) return { error: inToken(E_NOT_ENOUGH_ARGS, token) };
  if (a.length > 2) return { error: inToken(E_TOO_MANY_ARGS, token) };
  const i = atoi(a[0]);
  if (i === undefined || atoi(a[1]) === undefined) return { error: inToken(E_INVALID_ARG, token) };
  return { kind: 'fn', indexes: [i] };
}

/** subject_transform.go indexPlaceHolders, for validation. */
function indexPlaceHolders(token: string): Placeholder {
  const n = token.length;
  if (n <= 1) return { kind: 'none' };
  if (token[0] === '$') {
    // The old $1 form; anything else starting with $ is a plain token.
    const r = parseGoInt(token.slice(1));
    return r.ok ? { kind: 'fn', indexes: [r.value] } : { kind: 'none' };
  }
  if (!(n > 4 && token.startsWith('{{') && token.endsWith('}}'))) return { kind: 'none' };
  let a = args(WILDCARD, token);
  if (a !== null) {
    if (a.length === 1 && a[0] === '') return { error: inToken(E_NOT_ENOUGH_ARGS, token) };
    if (a.length > 1) return { error: inToken(E_TOO_MANY_ARGS, token) };
    const i = atoi(a[0]);
    return i === undefined ? { error: inToken(E_INVALID_ARG, token) } : { kind: 'fn', indexes: [i] };
  }
  a = args(PARTITION, token);
  if (a !== null) {
    if (a.length < 2) return { error: inToken(E_NOT_ENOUGH_ARGS, token) };
    if (atoi(a[0]) === undefined) return { error: inToken(E_INVALID_ARG, token) };
    const indexes: number[] = [];
    for (const t of a.slice(1)) {
      const i = atoi(t);
      if (i === undefined) return { error: inToken(E_INVALID_ARG, token) };
      indexes.push(i);
    }
    return { kind: 'fn', indexes };
  }
  for (const re of [SPLIT_FROM_LEFT, SPLIT_FROM_RIGHT, SLICE_FROM_LEFT, SLICE_FROM_RIGHT, RIGHT, LEFT]) {
    a = args(re, token);
    if (a !== null) return indexArgs(token, a);
  }
  a = args(SPLIT, token);
  if (a !== null) {
    if (a.length < 2) return { error: inToken(E_NOT_ENOUGH_ARGS, token) };
    if (a.length > 2) return { error: inToken(E_TOO_MANY_ARGS, token) };
    const i = atoi(a[0]);
    if (i === undefined || a[1].includes(' ') || a[1].includes('.')) return { error: inToken(E_INVALID_ARG, token) };
    return { kind: 'fn', indexes: [i] };
  }
  return { error: inToken(E_UNKNOWN_FUNCTION, token) };
}

/** subject_transform.go subjectInfo: validity (no whitespace check), tokens, `*` count, `>`. */
function subjectInfo(subject: string): { ok: boolean; tokens: string[]; npwcs: number; fwc: boolean } {
  const bad = { ok: false, tokens: [], npwcs: 0, fwc: false };
  if (subject === '') return bad;
  const tokens = subject.split('.');
  let npwcs = 0;
  let fwc = false;
  for (const t of tokens) {
    if (t === '' || fwc) return bad;
    if (t === '>') fwc = true;
    else if (t === '*') npwcs++;
  }
  return { ok: true, tokens, npwcs, fwc };
}

/**
 * The error `NewSubjectTransform(src, dest)` returns, as text (e.g. "invalid subject", or
 * "invalid mapping destination: wildcard index out of range in {{wildcard(2)}}"), or
 * undefined when the transform is valid. An empty `dest` is no transform at all (valid); an
 * empty `src` means `>`.
 */
export function subjectTransformError(src: string, dest: string): string | undefined {
  if (dest === '') return undefined;
  const s = subjectInfo(src === '' ? '>' : src);
  const d = subjectInfo(dest);
  if (!s.ok || !d.ok || d.npwcs > 0 || s.fwc !== d.fwc) return E_BAD_SUBJECT;
  for (const token of d.tokens) {
    const p = indexPlaceHolders(token);
    if ('error' in p) return p.error;
    if (p.kind === 'none') continue;
    if (s.npwcs === 0) return inToken(E_INDEX_OUT_OF_RANGE, token);
    for (const i of p.indexes) if (i > s.npwcs) return inToken(E_INDEX_OUT_OF_RANGE, `${token}: [${i}]`);
  }
  return undefined;
}

const DEST_FUNCTIONS = [PARTITION, WILDCARD, SPLIT_FROM_LEFT, SPLIT_FROM_RIGHT, SLICE_FROM_LEFT, SLICE_FROM_RIGHT, SPLIT];

/**
 * sublist.go ValidateMappingDestination: is `subject` a valid transform destination (empty
 * is)? Mustache tokens must name a known function (left and right are not among them here).
 */
export function isValidMappingDestination(subject: string): boolean {
  if (subject === '') return true;
  let fwc = false;
  for (const t of subject.split('.')) {
    if (t === '' || fwc) return false;
    if (t.length > 4 && t.startsWith('{{') && t.endsWith('}}')) {
      if (!DEST_FUNCTIONS.some((re) => re.test(t))) return false;
      continue;
    }
    if (t === '>') fwc = true;
    else if (GO_SPACE.test(t)) return false;
  }
  return true;
}
