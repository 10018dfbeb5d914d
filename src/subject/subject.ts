/**
 * Subject syntax rules, as nats-server's sublist applies them.
 *
 * Subjects are held as latin1 strings throughout the broker: one char per wire byte, so a
 * subject round-trips byte for byte whatever its encoding (UTF-8 subjects included).
 */

const DOT = 0x2e;
const STAR = 0x2a;
const GT = 0x3e;

/**
 * True when `subject` may be subscribed to: no empty token and nothing after a `>` token
 * (`Sublist.Insert`). Wildcards count only as whole tokens; `foo*` is a literal token.
 */
export function isValidSubscribeSubject(subject: string): boolean {
  const n = subject.length;
  if (n === 0) return false;
  let tokenStart = 0;
  let sawFwc = false;
  for (let i = 0; i <= n; i++) {
    if (i === n || subject.charCodeAt(i) === DOT) {
      const len = i - tokenStart;
      if (len === 0 || sawFwc) return false;
      if (len === 1 && subject.charCodeAt(tokenStart) === GT) sawFwc = true;
      tokenStart = i + 1;
    }
  }
  return true;
}

/**
 * True when `subject` is a valid literal (publish) subject: no empty token and no token that
 * is exactly `*` or `>` (`IsValidLiteralSubject`). Used only for pedantic connections.
 */
export function isValidLiteralSubject(subject: string): boolean {
  const n = subject.length;
  if (n === 0) return false;
  let tokenStart = 0;
  for (let i = 0; i <= n; i++) {
    if (i === n || subject.charCodeAt(i) === DOT) {
      const len = i - tokenStart;
      if (len === 0) return false;
      if (len === 1) {
        const c = subject.charCodeAt(tokenStart);
        if (c === STAR || c === GT) return false;
      }
      tokenStart = i + 1;
    }
  }
  return true;
}

/**
 * Does the literal subject `literal` match the subscription subject `pattern` (which may hold
 * `*` and `>` tokens)? Works on the strings directly, without splitting, because it runs for
 * every cached subject on every subscription change.
 */
export function subjectMatches(pattern: string, literal: string): boolean {
  const pn = pattern.length;
  const ln = literal.length;
  let pi = 0;
  let li = 0;
  for (;;) {
    // Both positions are at the start of a token.
    const pEnd = tokenEnd(pattern, pi);
    const pLen = pEnd - pi;
    if (li > ln) return false;
    const lEnd = tokenEnd(literal, li);
    if (pLen === 1) {
      const c = pattern.charCodeAt(pi);
      if (c === GT) return lEnd - li > 0 || li < ln; // `>` needs at least one more token
      if (c !== STAR) {
        if (lEnd - li !== 1 || literal.charCodeAt(li) !== c) return false;
      }
    } else {
      if (lEnd - li !== pLen) return false;
      for (let k = 0; k < pLen; k++) {
        if (pattern.charCodeAt(pi + k) !== literal.charCodeAt(li + k)) return false;
      }
    }
    const pDone = pEnd >= pn;
    const lDone = lEnd >= ln;
    if (pDone || lDone) return pDone && lDone;
    pi = pEnd + 1;
    li = lEnd + 1;
  }
}

function tokenEnd(s: string, from: number): number {
  const i = s.indexOf('.', from);
  return i === -1 ? s.length : i;
}
