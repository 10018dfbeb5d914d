/**
 * How two subjects with wildcards relate, as nats-server's sublist.go answers it
 * (`isSubsetMatchTokenized`, `subjectIsSubsetMatch`, `SubjectsCollide`, `tokensCanMatch`): what
 * JetStream's configuration checks need (overlapping stream subjects, consumer filters), and what
 * account imports and exports need to decide whether an import is allowed by an export, which
 * subscriptions an import feeds, and whether imports form a cycle. Not used per message.
 */

/** True when every subject `tokens` matches is also matched by `test` (nats-server's isSubsetMatchTokenized). */
export function isSubsetMatchTokenized(tokens: readonly string[], test: readonly string[]): boolean {
  for (let i = 0; i < test.length; i++) {
    if (i >= tokens.length) return false;
    const t2 = test[i];
    if (t2.length === 0) return false;
    if (t2 === '>') return true;
    const t1 = tokens[i];
    if (t1.length === 0 || t1 === '>') return false;
    if (t1 === '*') {
      if (t2 !== '*') return false;
      continue;
    }
    // Only the first character of the test token is looked at here (as in Go).
    if (t2[0] !== '*' && t1 !== t2) return false;
  }
  return tokens.length === test.length;
}

/** `subject` is a subset of `test` (nats-server's subjectIsSubsetMatch). */
export function subjectIsSubsetMatch(subject: string, test: string): boolean {
  return isSubsetMatchTokenized(subject.split('.'), test.split('.'));
}

function hasWildcards(tokens: readonly string[]): { pwc: boolean; fwc: boolean } {
  let pwc = false;
  let fwc = false;
  for (const t of tokens) {
    if (t === '*') pwc = true;
    else if (t === '>') fwc = true;
  }
  return { pwc, fwc };
}

/** nats-server's tokensCanMatch: it looks at the first byte only, as there. */
function tokensCanMatch(t1: string, t2: string): boolean {
  if (t1.length === 0 || t2.length === 0) return false;
  const a = t1[0];
  const b = t2[0];
  if (a === '*' || b === '*' || a === '>' || b === '>') return true;
  return t1 === t2;
}

/** True when some subject could match both (nats-server's SubjectsCollide). */
export function subjectsCollide(subj1: string, subj2: string): boolean {
  if (subj1 === subj2) return true;
  const toks1 = subj1.split('.');
  const toks2 = subj2.split('.');
  const w1 = hasWildcards(toks1);
  const w2 = hasWildcards(toks2);
  const l1 = !(w1.pwc || w1.fwc);
  const l2 = !(w2.pwc || w2.fwc);
  if (l1 && l2) return false;
  if (l1 && !l2) return isSubsetMatchTokenized(toks1, toks2);
  if (l2 && !l1) return isSubsetMatchTokenized(toks2, toks1);
  const n1 = toks1.length;
  const n2 = toks2.length;
  if (!w1.fwc && !w2.fwc && n1 !== n2) return false;
  if (n1 !== n2 && ((n1 < n2 && !w1.fwc) || (n2 < n1 && !w2.fwc))) return false;
  const stop = Math.min(n1, n2);
  for (let i = 0; i < stop; i++) if (!tokensCanMatch(toks1[i], toks2[i])) return false;
  return true;
}

/** True when `subject` has a `*` or `>` token. */
export function subjectHasWildcard(subject: string): boolean {
  const w = hasWildcards(subject.split('.'));
  return w.pwc || w.fwc;
}

/**
 * nats-server's transformTokenize: each `*` token of `subject` becomes `$1`, `$2`, ... in order
 * (what a strict import transform's destination is written in).
 */
export function transformTokenize(subject: string): string {
  let n = 0;
  return subject.split('.').map((t) => (t === '*' ? `$${++n}` : t)).join('.');
}

/** nats-server's transformUntokenize: `$n` (and `{{wildcard(n)}}`) tokens back to `*`, with the numbers in order. */
export function transformUntokenize(subject: string): { subject: string; refs: number[] } {
  const refs: number[] = [];
  const out = subject.split('.').map((t) => {
    const m = /^\$(\d+)$/.exec(t) ?? /^\{\{\s*[wW]ildcard\s*\(\s*(\d+)\s*\)\s*\}\}$/.exec(t);
    if (m === null) return t;
    refs.push(Number(m[1]));
    return '*';
  });
  return { subject: out.join('.'), refs };
}
