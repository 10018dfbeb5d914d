/**
 * Account exports and imports at run time, as nats-server 2.10 does them for configured
 * accounts (server/accounts.go, server/client.go addShadowSubscriptions, addShadowSub,
 * processServiceImport, addRespServiceImport, processServiceImportResponse,
 * checkExpiredResponses):
 *
 * - A **stream import** works through shadow subscriptions: a subscription in the importing
 *   account whose subject meets the import's local subject gets a twin in the exporting
 *   account's sublist, on the exported subject. A message published there reaches the twin,
 *   which hands it to the original subscription under the local subject (`prefix`/`to`). The
 *   twin is interest like any other in the exporting account, so routes carry it.
 * - A **service import** is a subscription in the importing account on the local subject. A
 *   request that reaches it is routed in the exporting account on the exported subject, with a
 *   `Nats-Request-Info` header and its reply subject replaced by `_R_.<account prefix>.<id>`; a
 *   wildcard subscription of the exporting account on `_R_.<prefix>.>` takes the responses and
 *   routes them back to the requester's reply subject: one for `singleton`, any number for
 *   `stream`/`chunked` until the export's response threshold passes without one.
 *
 * An import an activation token authorised (operator mode, `expiresAt`) is unwired when the
 * token expires, as nats-server's activationExpired does: a stream import's shadows go, a
 * service import's subscription goes.
 *
 * Nothing here runs for accounts without exports or imports: the core looks at the account's
 * `streamImports` and `linked` flags (false then) when a subscription is added or removed and
 * when a client or a route hands over a message; the router itself has no branch for imports.
 */
import { PubArg } from '../protocol/parser.js';
import { JS_ACK_PREFIX } from '../protocol/constants.js';
import { subjectFromText } from '../protocol/text.js';
import { subjectMatches } from '../subject/subject.js';
import { subjectIsSubsetMatch, subjectsCollide, subjectHasWildcard } from '../subject/relations.js';
import { copyPubArg, goClientInfo, Mapping, requestInfo, serviceMapping, streamMapping, withHeader } from './import-mapping.js';
import type { ResolvedAccountLinks, ResponseType } from '../config/types.js';
import { Subscription, type Account, type Subscriber } from './account.js';

/** What the imports need of the core. */
export interface ImportsHost {
  /** The account named `name` (configured). */
  account(name: string): Account;
  /** Routes `pa` in `acc` to its local subscribers and routes; true when anything took it. */
  routeImported(acc: Account, pa: PubArg, buf: Buffer): boolean;
  /** Delivers to a local subscription with its checks (permissions, auto-unsubscribe). */
  deliverImported(sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean;
  /** Takes back a delivery the router counted (to a subscription of an import). */
  uncountDelivery(bytes: number): void;
  /** Interest of a subscription for the routes (+1 added, -1 removed). */
  clusterInterest(sub: Subscription, delta: 1 | -1): void;
  /** Every client and internal client (whose subscriptions may have shadows). */
  subscribers(): Iterable<Subscriber>;
  /** Subscriptions changed (wakes waits on them). */
  notifyChange(): void;
}

/** The header nats-server adds to a request crossing a service import (ClientInfoHdr). */
const REQUEST_INFO = 'Nats-Request-Info';
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function randomToken(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += DIGITS[Math.floor(Math.random() * 62)];
  return s;
}

/** One stream import of an account. */
class StreamImportRule {
  constructor(readonly exporter: Account, readonly mapping: Mapping) {}
}

/** The twin of a subscription in an exporting account (a stream import's shadow subscription). */
class ShadowSubscriber implements Subscriber {
  readonly cid = 0;
  readonly echo = true;
  readonly perms = null;
  readonly subs = new Map<string, Subscription>();
  readonly sub: Subscription;

  constructor(
    private readonly links: Links,
    readonly origin: Subscription,
    readonly rule: StreamImportRule,
    subject: string,
    /** The origin's subject is narrower than what the shadow subject brings: check each message. */
    private readonly filter: boolean,
  ) {
    this.sub = new Subscription(this, subject, origin.queue, origin.sid);
  }

  get account(): Account {
    return this.rule.exporter;
  }

  get closed(): boolean {
    return this.origin.closed || this.origin.client.closed;
  }

  deliver(_sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    // A message that came through a service import is not passed on to stream imports (nats-server's pmrMsgImportedFromService).
    const links = this.links;
    if (links.serviceDepth > 0) return false;
    const matched = pa.deliver === '' ? pa.subject : pa.deliver;
    const to = this.rule.mapping.map(matched);
    if (to === null || (this.filter && !subjectMatches(this.origin.subject, to))) return false;
    const spa = copyPubArg(links.scratch, pa);
    if (pa.deliver === '') spa.subject = to;
    else spa.deliver = to;
    return links.host.deliverImported(this.origin, spa, buf, start);
  }

  allowReply(): void {}
}

/** A service export of an account. */
class ServiceExportRule {
  timer: NodeJS.Timeout | null = null;
  constructor(readonly subject: string, readonly responseType: ResponseType, readonly thresholdMs: number) {}
}

/** A pending response route: `_R_` subject in the exporting account → the requester's reply. */
interface ResponseRoute {
  readonly reply: string;
  /** The requester's account and reply subject. */
  readonly dest: Account;
  readonly to: string;
  readonly responseType: ResponseType;
  readonly export: ServiceExportRule | null;
  /** The exporting account's links, which hold the route. */
  readonly owner: AccountLinks;
  ts: number;
}

/** A service import's subscription in the importing account. */
class ServiceImportSubscriber implements Subscriber {
  readonly cid = 0;
  readonly echo = true;
  readonly closed = false;
  readonly perms = null;
  readonly subs = new Map<string, Subscription>();
  readonly sub: Subscription;

  constructor(
    private readonly links: Links,
    readonly account: Account,
    readonly exporter: Account,
    readonly mapping: Mapping,
    private readonly exportRule: ServiceExportRule | null,
    private readonly exporterLinks: AccountLinks,
  ) {
    this.sub = new Subscription(this, mapping.from, null, `si${links.nextSid++}`);
  }

  deliver(_sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    const links = this.links;
    // nats-server: a routed message is not a request for this server's imports (only responses are).
    if (links.fromPeer) return false;
    // A request that went through this export already in this chain is a cycle: dropped.
    if (this.exportRule !== null && links.chain.includes(this.exportRule)) return false;
    // A JetStream delivery was matched on its deliver subject: that is what the import maps (its
    // stored subject stays as it is in MSG, as nats-server's). Mapping the stored subject let an
    // importer's own stream publish on any subject of the exporter.
    const jsDelivery = pa.deliver !== '';
    const to = this.mapping.map(jsDelivery ? pa.deliver : pa.subject);
    if (to === null) return false;
    const exp = this.exporterLinks;
    // A `$JS.ACK.` reply (a pull consumer's message crossing the import) keeps its subject, as in
    // nats-server (a response route would break the acks).
    const keep = pa.reply.startsWith(JS_ACK_PREFIX);
    const route = pa.reply === '' || keep ? null : exp.addResponse(this.account, pa.reply, this.exportRule);
    // The requester's client info; a request already forwarded once keeps it and names this
    // account as the service (nats-server's ClientInfo `svc`).
    const prev = links.chain.length > 0 ? requestInfo(pa, buf, start) : null;
    // Header values are the wire's bytes: account names are text, written as UTF-8.
    const info = subjectFromText(prev !== null
      ? goClientInfo({ ...prev, svc: this.account.name })
      : goClientInfo({ acc: this.account.name, ...(links.rttNs > 0 ? { rtt: links.rttNs } : {}) }));
    const { pa: out, buf: msg } = withHeader(pa, buf, start, REQUEST_INFO, info);
    if (jsDelivery) out.deliver = to;
    else out.subject = to;
    out.reply = route !== null ? route.reply : keep ? pa.reply : '';
    const delivered = links.forward(this.exporter, out, msg, this.exportRule, pa.size);
    if (!delivered && route !== null) exp.removeResponse(route);
    return delivered;
  }

  allowReply(): void {}
}

/** The exporting account's subscription on `_R_.<prefix>.>`: the responses to imported requests. */
class ResponseSubscriber implements Subscriber {
  readonly cid = 0;
  readonly echo = true;
  readonly closed = false;
  readonly perms = null;
  readonly subs = new Map<string, Subscription>();
  readonly sub: Subscription;

  constructor(private readonly links: Links, private readonly owner: AccountLinks, prefix: string) {
    this.sub = new Subscription(this, `${prefix}>`, null, `rsi${links.nextSid++}`);
  }

  get account(): Account {
    return this.owner.account;
  }

  deliver(_sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    const links = this.owner;
    // A JetStream delivery (a pull consumer answering a request that crossed the import) is
    // routed on its deliver subject and keeps its stored subject in MSG.
    const jsDelivery = pa.deliver !== '';
    const route = links.responses.get(jsDelivery ? pa.deliver : pa.subject);
    if (route === undefined) return false;
    // A `$JS.ACK.` reply keeps its subject, as in nats-server: the requester's client reads
    // the message's metadata from it, and acks it through an import of `$JS.ACK.>`.
    const keep = pa.reply.startsWith(JS_ACK_PREFIX);
    const back = pa.reply === '' || keep ? null : this.links.linksOf(route.dest).addResponse(this.account, pa.reply, route.export);
    const out = copyPubArg(new PubArg(), pa);
    if (jsDelivery) out.deliver = route.to;
    else out.subject = route.to;
    out.reply = back !== null ? back.reply : keep ? pa.reply : '';
    const delivered = this.links.forward(route.dest, out, buf.subarray(start, start + pa.size), null, pa.size);
    route.ts = Date.now();
    // nats-server: removed when it could not be delivered, after the one response of a
    // singleton, or at an empty message (the end of a stream or chunked response).
    if (!delivered || route.responseType === 'singleton' || pa.size === 0) links.removeResponse(route);
    return delivered;
  }

  allowReply(): void {}
}

/** An account's exports and imports, as it uses them at run time. */
export class AccountLinks {
  readonly streamImports: StreamImportRule[] = [];
  readonly serviceExports: ServiceExportRule[] = [];
  readonly serviceImports: ServiceImportSubscriber[] = [];
  /** Pending response routes by their `_R_` subject. */
  readonly responses = new Map<string, ResponseRoute>();
  /** As the requester's account: the pending routes to each reply subject (nats-server's rrMap). */
  readonly reverse = new Map<string, ResponseRoute[]>();
  /** `_R_.<6 chars>.`, made on the first imported request. */
  private replyPrefix: string | null = null;
  private responder: ResponseSubscriber | null = null;

  constructor(private readonly links: Links, readonly account: Account) {}

  /** The export that covers `subject` (nats-server's getServiceExport: exact, then a wildcard). */
  serviceExport(subject: string): ServiceExportRule | null {
    return this.serviceExports.find((e) => e.subject === subject) ?? this.serviceExports.find((e) => subjectIsSubsetMatch(subject, e.subject)) ?? null;
  }

  /** A new response route to `dest`'s `to`, with its `_R_` reply subject in this account. */
  addResponse(dest: Account, to: string, exp: ServiceExportRule | null): ResponseRoute {
    if (this.replyPrefix === null) {
      this.replyPrefix = `_R_.${randomToken(6)}.`;
      this.responder = new ResponseSubscriber(this.links, this, this.replyPrefix);
      this.links.insert(this.responder.sub, true);
    }
    let reply = `${this.replyPrefix}${randomToken(6)}`;
    while (this.responses.has(reply)) reply = `${this.replyPrefix}${randomToken(6)}`;
    const route: ResponseRoute = { reply, dest, to, responseType: exp?.responseType ?? 'singleton', export: exp, owner: this, ts: Date.now() };
    this.responses.set(reply, route);
    const back = this.links.linksOf(dest).reverse;
    const list = back.get(to);
    if (list === undefined) back.set(to, [route]);
    else list.push(route);
    if (exp !== null && exp.timer === null) this.armThreshold(exp);
    return route;
  }

  removeResponse(route: ResponseRoute): void {
    if (!this.responses.delete(route.reply)) return;
    const back = this.links.linksOf(route.dest).reverse;
    const list = back.get(route.to);
    if (list === undefined) return;
    const i = list.indexOf(route);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) back.delete(route.to);
  }

  /** nats-server's checkExpiredResponses: routes of `exp` older than its threshold go. */
  private armThreshold(exp: ServiceExportRule): void {
    exp.timer = setTimeout(() => {
      exp.timer = null;
      const oldest = Date.now() - exp.thresholdMs;
      let left = 0;
      for (const r of [...this.responses.values()]) {
        if (r.export !== exp) continue;
        if (r.ts <= oldest) this.removeResponse(r);
        else left++;
      }
      if (left > 0) this.armThreshold(exp);
    }, exp.thresholdMs);
    exp.timer.unref();
  }

  /** Stops the threshold timers and forgets pending responses. */
  close(): void {
    for (const e of this.serviceExports) {
      if (e.timer !== null) clearTimeout(e.timer);
      e.timer = null;
    }
    this.responses.clear();
    this.reverse.clear();
  }

  /** The pending response routes (tests, monitoring). */
  get pendingResponses(): number {
    return this.responses.size;
  }

  /** Removes the response subscription (a rebuild). */
  removeResponder(): void {
    if (this.responder !== null) this.links.remove(this.responder.sub, true);
    this.responder = null;
    this.replyPrefix = null;
  }
}

/** The exports and imports of every account, and the shadow subscriptions they make. */
export class Links {
  /** Service imports being forwarded (nested): a stream import takes none of their messages. */
  serviceDepth = 0;
  /** The exports the request being forwarded went through (cycle detection). */
  readonly chain: Array<ServiceExportRule | null> = [];
  /** True while a message from a route is being routed. */
  fromPeer = false;
  /** The RTT of the client whose publication is being routed (Nats-Request-Info `rtt`). */
  rttNs = 0;
  nextSid = 1;
  /** Scratch publication of shadow deliveries (never nested: a delivery does not route). */
  readonly scratch = new PubArg();
  private readonly accounts = new Map<Account, AccountLinks>();
  /** The timers that end imports at their activation's expiry. */
  private readonly expiries = new Set<NodeJS.Timeout>();

  constructor(readonly host: ImportsHost, config: Readonly<Record<string, ResolvedAccountLinks>>) {
    for (const name of Object.keys(config)) this.linksOf(host.account(name));
    for (const [name, l] of Object.entries(config)) {
      const acc = this.linksOf(host.account(name));
      // Configured subjects are text; inside, subjects are the wire's bytes (ARCHITECTURE.md).
      for (const e of l.exports) if (e.kind === 'service') acc.serviceExports.push(new ServiceExportRule(subjectFromText(e.subject), e.responseType, e.responseThresholdMs));
    }
    for (const [name, l] of Object.entries(config)) {
      const acc = this.linksOf(host.account(name));
      for (const im of l.imports) {
        const exporter = host.account(im.account);
        const subject = subjectFromText(im.subject);
        const to = im.to == null ? null : subjectFromText(im.to);
        if (im.kind === 'stream') {
          const rule = new StreamImportRule(exporter, streamMapping(subject, im.prefix == null ? im.prefix : subjectFromText(im.prefix), to));
          acc.streamImports.push(rule);
          if (im.expiresAt !== undefined) this.expireAt(im.expiresAt, () => this.removeStreamImport(acc, rule));
        } else {
          const from = to ?? subject;
          const mapping = serviceMapping(from, subject);
          const exp = this.linksOf(exporter);
          const si = new ServiceImportSubscriber(this, acc.account, exporter, mapping, exp.serviceExport(subject), exp);
          acc.serviceImports.push(si);
          // Not interest for the routes: a request is forwarded where it is published (nats-server's noForward).
          this.insert(si.sub, false);
          if (im.expiresAt !== undefined) this.expireAt(im.expiresAt, () => this.removeServiceImport(acc, si));
        }
      }
      acc.account.streamImports = acc.streamImports.length > 0;
    }
    for (const a of this.accounts.keys()) a.linked = true;
  }

  /** Runs `end` at `unixSec` (accounts.go checkActivation's timer: whole seconds from now). */
  private expireAt(unixSec: number, end: () => void): void {
    // setTimeout holds at most 2^31-1 ms (24.8 days): longer waits go in steps.
    const arm = (): void => {
      const ms = unixSec * 1000 - Date.now();
      const t = setTimeout(() => {
        this.expiries.delete(t);
        if (unixSec * 1000 > Date.now()) arm();
        else end();
      }, Math.min(Math.max(ms, 0), 2 ** 31 - 1));
      t.unref();
      this.expiries.add(t);
    };
    arm();
  }

  /** A stream import ends: no new shadows, and the existing ones go (activationExpired). */
  private removeStreamImport(acc: AccountLinks, rule: StreamImportRule): void {
    const i = acc.streamImports.indexOf(rule);
    if (i < 0) return;
    acc.streamImports.splice(i, 1);
    acc.account.streamImports = acc.streamImports.length > 0;
    for (const owner of this.host.subscribers()) {
      if (owner.account !== acc.account) continue;
      for (const sub of owner.subs.values()) {
        const shadows = sub.shadows;
        if (shadows === null) continue;
        const kept = shadows.filter((s) => !(s.client instanceof ShadowSubscriber && s.client.rule === rule));
        if (kept.length === shadows.length) continue;
        for (const s of shadows) if (!kept.includes(s)) this.remove(s, true);
        sub.shadows = kept.length === 0 ? null : kept;
      }
    }
    this.host.notifyChange();
  }

  /** A service import ends: its subscription goes (requests on it reach nobody). */
  private removeServiceImport(acc: AccountLinks, si: ServiceImportSubscriber): void {
    const i = acc.serviceImports.indexOf(si);
    if (i < 0) return;
    acc.serviceImports.splice(i, 1);
    this.remove(si.sub, false);
    this.host.notifyChange();
  }

  /** The links of `account`, made on first use. */
  linksOf(account: Account): AccountLinks {
    let l = this.accounts.get(account);
    if (l === undefined) {
      l = new AccountLinks(this, account);
      this.accounts.set(account, l);
    }
    return l;
  }

  insert(sub: Subscription, forward: boolean): void {
    sub.client.account.sublist.insert(sub);
    sub.client.subs.set(sub.sid, sub);
    if (forward) this.host.clusterInterest(sub, 1);
  }

  remove(sub: Subscription, forward: boolean): void {
    sub.closed = true;
    sub.client.subs.delete(sub.sid);
    if (sub.client.account.sublist.remove(sub) && forward) this.host.clusterInterest(sub, -1);
  }

  /**
   * Routes `pa` into `acc` for an import; `exp` is the export it goes through (cycle detection).
   * When it was delivered, the routing that reached the import's subscription counted a delivery
   * of `counted` bytes: taken back, as nats-server counts no delivery to an internal subscription.
   */
  forward(acc: Account, pa: PubArg, buf: Buffer, exp: ServiceExportRule | null, counted: number): boolean {
    this.serviceDepth++;
    this.chain.push(exp);
    try {
      const delivered = this.host.routeImported(acc, pa, buf);
      if (delivered) this.host.uncountDelivery(counted);
      return delivered;
    } finally {
      this.chain.pop();
      this.serviceDepth--;
    }
  }

  /**
   * A subscription was added in an account with stream imports: its shadows in the exporting
   * accounts (nats-server's addShadowSubscriptions).
   */
  addShadows(sub: Subscription): void {
    if (sub.client instanceof ShadowSubscriber || sub.client instanceof ServiceImportSubscriber) return;
    const rules = this.linksOf(sub.client.account).streamImports;
    const subject = sub.subject;
    let shadows: Subscription[] | null = null;
    for (const rule of rules) {
      const m = rule.mapping;
      if (subject !== m.to && !subjectsCollide(subject, m.to)) continue;
      let shadowSubject = m.from;
      // A literal mapping delivers every message of the shadow under `to`, as nats-server does
      // (a subscription on `d.x` importing a literal subject to `d.*` gets them all).
      let filter = m.dynamic && !subjectIsSubsetMatch(m.to, subject);
      // A prefix mapping: the exact interest is the subject without the prefix.
      if (filter && m.prefix !== null && subject.startsWith(m.prefix)) {
        const rest = subject.slice(m.prefix.length);
        if (rest.length > 0 && subjectIsSubsetMatch(rest, m.from)) {
          shadowSubject = rest;
          filter = false;
        }
      }
      // A `to` mapping and a subscription within it: the reverse transform.
      if (filter && subjectIsSubsetMatch(subject, m.to)) {
        const back = m.reverse(subject);
        if (back !== null) {
          shadowSubject = back;
          filter = false;
        }
      }
      const shadow = new ShadowSubscriber(this, sub, rule, shadowSubject, filter);
      this.insert(shadow.sub, true);
      (shadows ??= []).push(shadow.sub);
    }
    sub.shadows = shadows;
  }

  /**
   * A subscription of `account` went: the response routes to reply subjects it covered go too
   * when nothing in the account listens on them any more (nats-server's checkForReverseEntry).
   */
  interestLost(account: Account, subject: string): void {
    const reverse = this.accounts.get(account)?.reverse;
    if (reverse === undefined || reverse.size === 0) return;
    const replies = subjectHasWildcard(subject) ? [...reverse.keys()].filter((k) => subjectMatches(subject, k)) : reverse.has(subject) ? [subject] : [];
    for (const reply of replies) {
      const r = account.sublist.match(reply, true);
      if (r.psubs.length > 0 || r.qsubs.length > 0) continue;
      for (const route of [...reverse.get(reply)!]) route.owner.removeResponse(route);
    }
  }

  /** A subscription with shadows went: they go too. */
  removeShadows(sub: Subscription): void {
    const shadows = sub.shadows!;
    sub.shadows = null;
    for (const s of shadows) this.remove(s, true);
  }

  /** Pending response routes of `account` (tests). */
  pendingResponses(account: Account): number {
    return this.accounts.get(account)?.pendingResponses ?? 0;
  }

  /** Removes every subscription the links made and stops their timers. */
  close(): void {
    for (const t of this.expiries) clearTimeout(t);
    this.expiries.clear();
    for (const a of this.accounts.values()) {
      a.close();
      a.removeResponder();
      for (const si of a.serviceImports) this.remove(si.sub, false);
      a.account.streamImports = false;
      a.account.linked = false;
    }
    this.accounts.clear();
  }
}
