/**
 * Per-user publish/subscribe permissions, as nats-server enforces them (`client.go`
 * setPermissions / canSubscribe / queueMatches / pubAllowedFullCheck / checkDenySub):
 *
 * - publish: with an allow list a subject must match it; then any deny match refuses.
 *   Results are cached per subject.
 * - subscribe: the SUB subject is matched against the lists as a literal, so a wildcard SUB is
 *   allowed only where an allow pattern covers it. Entries may be `"subject queue"`, to allow or
 *   deny queue groups; the SUB's queue name counts as named by an entry when it is equal to the
 *   entry's, or inside the entry's wildcard queue name (the subset rule, so deny `foo v1.*`
 *   does not refuse `SUB foo v1.>`, and allow `foo v1.*` does not allow it).
 * - deny at delivery: a deny does not refuse a broader wildcard SUB. nats-server then checks
 *   messages against the deny list at delivery, but only for a connection that has made a
 *   wildcard SUB containing a deny entry (`SUB >` with deny `foo.*`; `SUB *.bar`, which only
 *   overlaps it, turns nothing on). From then on every delivery to that connection is
 *   checked. That switch is per connection: `forConnection()` gives each connection its own
 *   Permissions, sharing the compiled lists and caches of the user's.
 * - allow_responses: the publish allow list becomes empty (unless given), and a reply subject
 *   the user received may be published to `max` times within `expires`.
 */
import { Sublist } from '../subject/sublist.js';
import { subjectFromText } from '../protocol/text.js';

/** Subjects as nats-server's config takes them: one, a list, or allow/deny lists. */
export type SubjectPermission = string | string[] | { allow?: string[]; deny?: string[] };

/** A user's permissions (config `permissions { publish, subscribe, allow_responses }`). */
export interface PermissionsOptions {
  publish?: SubjectPermission;
  subscribe?: SubjectPermission;
  /**
   * Let the user publish to reply subjects of messages it received: `true` (1 response within
   * 2 minutes, as nats-server) or `{ max, expires }` (expires: ms or a duration string).
   */
  allowResponses?: boolean | { max?: number; expires?: number | string };
}

/** Permissions after validation (durations in ms). */
export interface ResolvedPermissions {
  readonly publish?: SubjectPermission;
  readonly subscribe?: SubjectPermission;
  readonly allowResponses?: boolean | { readonly max: number; readonly expiresMs: number };
}

/** nats-server's `Permissions` JSON (`$SYS.REQ.USER.INFO`). */
export interface PublicPermissions {
  readonly publish: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
  readonly subscribe: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
  readonly responses?: { readonly max: number; readonly ttl: number };
}

interface Entry {
  readonly subject: string;
  readonly queue: string | null;
}

/** `allow_responses` defaults (nats-server DEFAULT_ALLOW_RESPONSE_*). */
const RESPONSE_MAX = 1;
const RESPONSE_EXPIRES_MS = 2 * 60 * 1000;
const CACHE_MAX = 1024;

function lists(p: SubjectPermission | undefined): { allow: string[] | null; deny: string[] } {
  if (p === undefined) return { allow: null, deny: [] };
  if (typeof p === 'string') return { allow: [p], deny: [] };
  if (Array.isArray(p)) return { allow: p, deny: [] };
  return { allow: p.allow ?? null, deny: p.deny ?? [] };
}

function sublistOf(subjects: readonly string[], withQueues: boolean): Sublist<Entry> {
  const sl = new Sublist<Entry>();
  for (const s of subjects) {
    // Split as text (Go's TrimSpace and Fields are Unicode-aware), then matched as the wire's bytes.
    const trimmed = s.trim();
    const sp = withQueues ? trimmed.search(/[ \t]/) : -1;
    const entry: Entry = sp === -1
      ? { subject: subjectFromText(trimmed), queue: null }
      : { subject: subjectFromText(trimmed.slice(0, sp)), queue: subjectFromText(trimmed.slice(sp).trim()) };
    sl.insert(entry);
  }
  return sl;
}

/** nats-server subjectHasWildcard: is a whole token `*` or `>`? */
function hasWildcardToken(subject: string): boolean {
  for (const t of subject.split('.')) if (t === '*' || t === '>') return true;
  return false;
}

/**
 * nats-server subjectIsSubsetMatch(subject, test): is every subject that `subject` matches also
 * matched by `test`? Both may hold wildcards; a `*` or `>` in `subject` is covered only by the
 * same or a wider wildcard of `test`.
 */
function isSubsetMatch(subject: string, test: string): boolean {
  const t1s = subject.split('.');
  const t2s = test.split('.');
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

/**
 * nats-server queueMatches: is the SUB's `queue` named by one of the matching queue entries?
 * Equal names first (`*` and `>` are valid queue names, so `v1.*` names `v1.*`), then the
 * subset rule against a wildcard entry name: the SUB's whole queue must lie inside it.
 */
function queueMatches(queue: string, qsubs: readonly (readonly Entry[])[]): boolean {
  if (qsubs.length === 0) return true;
  for (const group of qsubs) {
    const name = group[0].queue!;
    if (name === queue || (hasWildcardToken(name) && isSubsetMatch(queue, name))) return true;
  }
  return false;
}

/** The lists of one user, compiled once and shared by every connection of that user. */
class Rules {
  readonly pubAllow: Sublist<Entry> | null;
  readonly pubDeny: Sublist<Entry> | null;
  readonly subAllow: Sublist<Entry> | null;
  readonly subDeny: Sublist<Entry> | null;
  /** The subscribe deny entries as configured (nats-server's `darray`), as byte strings. */
  readonly denyEntries: readonly string[];
  // Both caches depend on the subject only, so connections can share them.
  readonly pubCache = new Map<string, boolean>();
  readonly denyCache = new Map<string, boolean>();
  readonly recvCache = new Map<string, boolean>();
  readonly responses: { max: number; expiresMs: number } | null;
  /** The lists as configured, for nats-server's `publicPermissions` (`$SYS.REQ.USER.INFO`). */
  readonly pub: { allow: string[] | null; deny: string[] };
  readonly sub: { allow: string[] | null; deny: string[] };

  constructor(opts: ResolvedPermissions) {
    const pub = lists(opts.publish);
    const sub = lists(opts.subscribe);
    this.pub = pub;
    this.sub = sub;
    const ar = opts.allowResponses;
    this.responses = ar === undefined || ar === false
      ? null
      : { max: (ar === true ? undefined : ar.max) ?? RESPONSE_MAX, expiresMs: (ar === true ? undefined : ar.expiresMs) ?? RESPONSE_EXPIRES_MS };
    // With allow_responses and no publish allow list, only responses may be published.
    const pubAllow = pub.allow ?? (this.responses !== null ? [] : null);
    this.pubAllow = pubAllow === null ? null : sublistOf(pubAllow, false);
    this.pubDeny = pub.deny.length > 0 ? sublistOf(pub.deny, false) : null;
    this.subAllow = sub.allow !== null && sub.allow.length > 0 ? sublistOf(sub.allow, true) : null;
    this.subDeny = sub.deny.length > 0 ? sublistOf(sub.deny, true) : null;
    this.denyEntries = sub.deny.map(subjectFromText);
  }
}

export class Permissions {
  private readonly rules: Rules;
  /** allow_responses limits, or null. */
  readonly responses: { max: number; expiresMs: number } | null;
  /**
   * Whether deliveries to this connection are checked against the subscribe deny list
   * (`deniesDelivery`): nats-server's `c.mperms != nil`. Off until `canSubscribe` allows a
   * wildcard SUB that contains a deny entry; never turned off again (as nats-server, which
   * only rebuilds it on a config reload). A plain field: the router tests it per message.
   */
  checkDeliveries = false;

  /** Compiles `opts`; given a Permissions instead, shares its compiled lists (see forConnection). */
  constructor(opts: ResolvedPermissions | Permissions) {
    this.rules = opts instanceof Permissions ? opts.rules : new Rules(opts);
    this.responses = this.rules.responses;
  }

  /**
   * This user's permissions for one connection: the same lists, and a deny-at-delivery switch
   * of its own. `subs` are the connection's subscriptions when the permissions are replaced
   * under it (a config reload): like nats-server's reload, they are checked again so that the
   * switch is on when one of them turns it on.
   */
  forConnection(subs: Iterable<{ readonly subject: string; readonly queue: string | null }> = []): Permissions {
    const p = new Permissions(this);
    for (const s of subs) {
      p.canSubscribe(s.subject, null);
      if (s.queue !== null) p.canSubscribe(s.subject, s.queue);
    }
    return p;
  }

  /**
   * The permissions as nats-server's `publicPermissions` shows them (`$SYS.REQ.USER.INFO`):
   * `publish` and `subscribe` with their non-empty `allow`/`deny` lists, `responses` with
   * allow_responses (`ttl` in nanoseconds).
   */
  publicView(): PublicPermissions {
    const side = (l: { allow: string[] | null; deny: string[] }): { allow?: string[]; deny?: string[] } => ({
      ...(l.allow !== null && l.allow.length > 0 ? { allow: [...l.allow] } : {}),
      ...(l.deny.length > 0 ? { deny: [...l.deny] } : {}),
    });
    const r = this.rules.responses;
    return {
      publish: side(this.rules.pub),
      subscribe: side(this.rules.sub),
      ...(r === null ? {} : { responses: { max: r.max, ttl: r.expiresMs * 1_000_000 } }),
    };
  }

  /** True when there is a subscribe deny list. */
  get hasSubDeny(): boolean {
    return this.rules.subDeny !== null;
  }

  /** May the user publish to `subject` by its lists (responses aside)? Cached. */
  canPublish(subject: string): boolean {
    const { pubAllow, pubDeny, pubCache } = this.rules;
    if (pubAllow === null && pubDeny === null) return true;
    const cached = pubCache.get(subject);
    if (cached !== undefined) return cached;
    let allowed = true;
    if (pubAllow !== null) allowed = count(pubAllow, subject) > 0;
    if (allowed && pubDeny !== null) allowed = count(pubDeny, subject) === 0;
    if (pubCache.size >= CACHE_MAX) pubCache.clear();
    pubCache.set(subject, allowed);
    return allowed;
  }

  /**
   * May the user subscribe to `subject` (optionally in queue group `queue`)? An allowed
   * wildcard SUB that contains a deny entry turns on `checkDeliveries`.
   */
  canSubscribe(subject: string, queue: string | null): boolean {
    const { subAllow, subDeny } = this.rules;
    let allowed = true;
    if (subAllow !== null) {
      const r = subAllow.match(subject);
      allowed = r.psubs.length > 0;
      if (queue !== null && r.qsubs.length > 0) allowed = queueMatches(queue, r.qsubs);
    }
    if (allowed && subDeny !== null) {
      const r = subDeny.match(subject);
      allowed = r.psubs.length === 0;
      if (queue !== null && r.qsubs.length > 0) allowed = !queueMatches(queue, r.qsubs);
      if (allowed && !this.checkDeliveries && hasWildcardToken(subject)) {
        // As nats-server, the entries are taken as written: a "subject queue" entry's queue
        // is part of its last token, and such an entry can turn the check on too (it then
        // never matches a message; the plain entries do).
        for (const d of this.rules.denyEntries) {
          if (isSubsetMatch(d, subject)) {
            this.checkDeliveries = true;
            break;
          }
        }
      }
    }
    return allowed;
  }

  /**
   * A leaf node connection of this user (the hub's side): may the hub announce its interest
   * in `subject` to the leaf node, that is, may the leaf node publish there? nats-server swaps
   * the lists on an accepted leaf connection (leafnode.go processLeafNodeConnect) and asks
   * canSubscribe of the publish lists: a wildcard subject passes when an allow entry lies
   * inside it (the Sublist's ReverseMatch), then no deny entry may match it.
   */
  leafMayPublish(subject: string): boolean {
    const { pubAllow, pubDeny, pub } = this.rules;
    let allowed = true;
    if (pubAllow !== null) {
      allowed = count(pubAllow, subject) > 0;
      if (!allowed && hasWildcardToken(subject)) allowed = (pub.allow ?? []).some((a) => isSubsetMatch(subjectFromText(a.trim()), subject));
    }
    if (allowed && pubDeny !== null) allowed = count(pubDeny, subject) === 0;
    return allowed;
  }

  /**
   * A leaf node connection of this user (the hub's side): may the leaf node receive a message
   * on `subject`, or subscribe to it (a literal LS+)? The subscribe lists' plain entries, as
   * nats-server's pubAllowedFullCheck of the swapped lists. Cached.
   */
  leafMayReceive(subject: string): boolean {
    const { subAllow, subDeny, recvCache } = this.rules;
    if (subAllow === null && subDeny === null) return true;
    const cached = recvCache.get(subject);
    if (cached !== undefined) return cached;
    let allowed = true;
    if (subAllow !== null) allowed = subAllow.match(subject).psubs.length > 0;
    if (allowed && subDeny !== null) allowed = subDeny.match(subject).psubs.length === 0;
    if (recvCache.size >= CACHE_MAX) recvCache.clear();
    recvCache.set(subject, allowed);
    return allowed;
  }

  /**
   * The lists as a hub sends them to its leaf node (leafnode.go sendPermsAndAccountInfo: INFO
   * `import`, the subscribe lists, and `export`, the publish lists), each only when configured.
   */
  leafInfoLists(): { import?: { allow?: string[]; deny?: string[] }; export?: { allow?: string[]; deny?: string[] } } {
    const side = (l: { allow: string[] | null; deny: string[] }): { allow?: string[]; deny?: string[] } | undefined =>
      l.allow === null && l.deny.length === 0 ? undefined : { ...(l.allow !== null ? { allow: [...l.allow] } : {}), ...(l.deny.length > 0 ? { deny: [...l.deny] } : {}) };
    const imp = side(this.rules.sub);
    const exp = side(this.rules.pub);
    return { ...(imp === undefined ? {} : { import: imp }), ...(exp === undefined ? {} : { export: exp }) };
  }

  /**
   * Is a message on `subject` refused by a plain subscribe deny entry? Only asked while
   * `checkDeliveries` is on (there is a deny list then). Queue entries never refuse one:
   * nats-server inserts "subject queue" into its delivery filter as one subject. Cached.
   */
  deniesDelivery(subject: string): boolean {
    const { subDeny, denyCache } = this.rules;
    const cached = denyCache.get(subject);
    if (cached !== undefined) return cached;
    const denied = subDeny!.match(subject).psubs.length > 0;
    if (denyCache.size >= CACHE_MAX) denyCache.clear();
    denyCache.set(subject, denied);
    return denied;
  }
}

function count(sl: Sublist<Entry>, subject: string): number {
  const r = sl.match(subject);
  let n = r.psubs.length;
  for (const g of r.qsubs) n += g.length;
  return n;
}
