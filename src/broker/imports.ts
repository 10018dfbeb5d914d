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
 * A service export with `latency` has its sampled requests measured (accounts.go
 * sendTrackingLatency and its error forms, latency.ts): the response route of such a request
 * carries a {@link Tracking}, its reply subject ends in `.<server hash>.T`, and the measurement
 * is published in the exporting account on the results subject. When the response comes from a
 * route, the responder's server sends its half on `$SYS.LATENCY.M2.<hash>` in the system
 * account (client.go trackRemoteReply), which this server merges with its own.
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
import { copyPubArg, goClientInfo, headerValue, Mapping, orderedClientInfo, requestInfo, serviceMapping, streamMapping, withHeader } from './import-mapping.js';
import type { ResolvedAccountLinks, ResponseType } from '../config/types.js';
import { goJson } from '../protocol/go-format.js';
import { LeafKind, RemoteSub, Subscription, type Account, type AnySub, type RouteTarget, type Subscriber } from './account.js';
import type { Client } from './client.js';
import { clientBlock } from './events.js';
import { getHash, newNuid } from './ids.js';
import type { InternalClient, InternalMessage } from './internal.js';
import {
  latencyFromJson, latencyJson, merge, newLatency, rttOf, SAMPLED, sanitize, shouldSample, type LatencyRule, type ServiceLatency, type TraceHeader,
} from './latency.js';
import { timerDelay } from '../io/timers.js';
import type { Log } from './log.js';

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
  /** Interest of a subscription for the routes, gateways and leaf nodes (+1 added, -1 removed). */
  clusterInterest(sub: Subscription, delta: 1 | -1): void;
  /** Interest of a service import's subscription: for the account's leaf nodes only (+1 added, -1 removed). */
  leafInterest(sub: Subscription, delta: 1 | -1): void;
  /** Peer interest (a leaf node's shadow) added (`delta` its weight) or removed (minus it): for the routes, gateways and leaf nodes, as a leaf node's interest. */
  peerInterest(sub: RemoteSub, delta: number): void;
  /** Every client and internal client (whose subscriptions may have shadows). */
  subscribers(): Iterable<Subscriber>;
  /** Subscriptions changed (wakes waits on them). */
  notifyChange(): void;
  /** A new internal client in `account` (latency measurements are published by one of the exporting account). */
  internalClient(name: string, account: Account): InternalClient;
  /** The system account (remote latency measurements travel there), or null without one. */
  readonly systemAccount: Account | null;
  /** The server's name (its hash marks tracked replies) and the client listener's host. */
  serverNameAndHost(): { name: string; host: string };
  readonly clusterName: string | null;
  /** A bug of the broker's own (counted, never fatal). */
  internalError(err: unknown, what: string): void;
  /** The server's log (bad input from elsewhere is logged, not counted as a bug of ours). */
  readonly log: Log;
}

/** Why a response route goes (nats-server's rsiReason, plus the requester's interest lost). */
const enum Removal {
  Ok,
  NoDelivery,
  Timeout,
  InterestLost,
}

/** `$SYS.LATENCY.M2.<hash>`: a responder's server sends its half of a measurement there (events.go remoteLatencyEventSubj). */
const REMOTE_LATENCY_PREFIX = '$SYS.LATENCY.M2.';
/** nats-server's minReplyLen: a reply subject shorter than this is no service reply. */
const MIN_REPLY_LEN = 15;

/** A sampled request's measurement in progress (the tracking fields of nats-server's response serviceImport). */
class Tracking {
  /** The response reached the server (a 200 is, or will be, sent; no error status any more). */
  didDeliver = false;
  /** A measurement was sent (nats-server clears `rc` then): nothing more is. */
  sent = false;
  /**
   * With a response from a route: this server's measurement, waiting for the responder's
   * server's; or that one, when it came first (nats-server's `m1`).
   */
  m1: ServiceLatency | null = null;
  /** The responder's half came first (`m1` holds it). */
  m1Remote = false;

  constructor(
    readonly latency: LatencyRule,
    /** The requester (nats-server's `rc`); null for an internal client. */
    readonly requestor: Client | null,
    readonly requestorAccount: Account,
    /** The import shares the requester's details (`share`). */
    readonly share: boolean,
    /** performance.now() when the request reached the import. */
    readonly startHr: number,
    /** The tracing headers that asked for the measurement (none when the rate picked it). */
    readonly header: TraceHeader | null,
  ) {}
}

/** A remote request's responder side (nats-server's remoteLatency in a client's rrTracking). */
interface RemoteTracked {
  readonly startHr: number;
  readonly startMs: number;
  readonly thresholdMs: number;
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

/**
 * A leaf connection as seen from an exporting account, for one stream import of the account
 * the connection is bound to: the shadows of the leaf node's interest (leafnode.go processLeafSub
 * → addShadowSubscriptions) are peer interest (`RemoteSub`s) with this target, so the router
 * treats them as the leaf node's own interest — one message per connection however many of its
 * subscriptions match, a queue member only as a fallback, never back to its origin — and the
 * message goes out under the import's local subject (msgHeaderForRouteOrLeaf maps a shadow's
 * subject for a leaf node).
 */
export class LeafShadowTarget implements RouteTarget {
  /** Shadows using it. */
  refs = 0;

  constructor(private readonly links: Links, readonly conn: RouteTarget, readonly rule: StreamImportRule, private readonly importer: Account) {}

  get leafKind(): LeafKind | undefined {
    return this.conn.leafKind;
  }

  get remoteCluster(): string | undefined {
    return this.conn.remoteCluster;
  }

  /** The leaf connection's: a publisher into a backed-up leaf node is stalled through a shadow too. */
  get pendingBytes(): number | undefined {
    return this.conn.pendingBytes;
  }

  get closed(): boolean | undefined {
    return this.conn.closed;
  }

  sendMsg(_account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number): void {
    const links = this.links;
    // A message that came through a service import is not passed on to stream imports (pmrMsgImportedFromService).
    if (links.serviceDepth > 0) return;
    const to = this.rule.mapping.map(pa.deliver === '' ? pa.subject : pa.deliver);
    if (to === null) return;
    const spa = copyPubArg(links.leafScratch, pa);
    if (pa.deliver === '') spa.subject = to;
    else spa.deliver = to;
    spa.origin = pa.origin;
    spa.gwReply = pa.gwReply;
    this.conn.sendMsg(this.importer.name, spa, queues, buf, start);
  }
}

/** Whether `sub` is a leaf node's interest's shadow (a {@link LeafShadowTarget}'s). */
export function isLeafShadow(sub: AnySub): boolean {
  return sub.remote && sub.route instanceof LeafShadowTarget;
}

/** The stream import a shadow (of either kind) serves. */
function shadowRule(s: AnySub): StreamImportRule | null {
  if (s.remote) return s.route instanceof LeafShadowTarget ? s.route.rule : null;
  return s.client instanceof ShadowSubscriber ? s.client.rule : null;
}

/** A service export of an account. */
class ServiceExportRule {
  timer: NodeJS.Timeout | null = null;
  constructor(readonly subject: string, readonly responseType: ResponseType, readonly thresholdMs: number, readonly latency: LatencyRule | null) {}
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
  /** A sampled request's latency measurement, or null (most routes). */
  readonly track: Tracking | null;
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
    /** The import's `share`: the requester's details go into latency measurements. */
    private readonly share: boolean,
  ) {
    this.sub = new Subscription(this, mapping.from, null, `si${links.nextSid++}`);
  }

  deliver(_sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    const links = this.links;
    // nats-server: a routed message, or one from a gateway, is not a request for this server's
    // imports (only responses are).
    if (links.fromPeer || links.fromGateway) return false;
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
    // Latency tracking: only for an export that has it (one branch otherwise).
    const lat = this.exportRule === null ? null : this.exportRule.latency;
    const track = lat === null ? null : this.sample(lat, pa, buf, start);
    const route = pa.reply === '' || keep ? null : exp.addResponse(this.account, pa.reply, this.exportRule, track);
    // A sampled request without a reply subject: a 400 (sendBadRequestTrackingLatency).
    if (track !== null && pa.reply === '') links.sendLatencyError(exp.account, track, 400, 'Bad Request');
    // The requester's client info; a request already forwarded once keeps it and names this
    // account as the service (nats-server's ClientInfo `svc`).
    const prev = links.chain.length > 0 ? requestInfo(pa, buf, start) : null;
    const leaf = links.leaf;
    let out: PubArg;
    let msg: Buffer;
    if (prev === null && leaf !== null && !this.share && this.exporter !== links.host.systemAccount && headerValue(pa, buf, start, REQUEST_INFO) !== '') {
      // processServiceImport: a leaf node's request that already carries Nats-Request-Info (its
      // own server put it there, crossing an import) keeps it, unless the import shares the
      // requester's details or goes to the system account.
      out = copyPubArg(new PubArg(), pa);
      out.deliver = '';
      msg = buf.subarray(start, start + pa.size);
    } else {
      // The requester's RTT: the client's, or for a leaf node's request the leaf connection's
      // (getClientInfo of the LEAF connection, whose account is this one).
      const rtt = leaf !== null ? leaf.rttNs ?? 0 : links.publisher !== null ? links.publisher.rttNs : 0;
      // Header values are the wire's bytes: account names are text, written as UTF-8.
      const info = subjectFromText(prev !== null
        ? goClientInfo({ ...prev, svc: this.account.name })
        : goClientInfo({ acc: this.account.name, ...(rtt > 0 ? { rtt } : {}) }));
      ({ pa: out, buf: msg } = withHeader(pa, buf, start, REQUEST_INFO, info));
    }
    // Routes carry a leaf node's request with its origin cluster (LMSG <origin>), as the message itself.
    out.origin = pa.origin;
    if (jsDelivery) out.deliver = to;
    else out.subject = to;
    out.reply = route !== null ? route.reply : keep ? pa.reply : '';
    const delivered = links.forward(this.exporter, out, msg, this.exportRule, pa.size);
    if (!delivered && route !== null) exp.removeResponse(route, Removal.NoDelivery);
    return delivered;
  }

  /** nats-server's shouldSample for this request: its Tracking, or null. */
  private sample(lat: LatencyRule, pa: PubArg, buf: Buffer, start: number): Tracking | null {
    const header = shouldSample(lat, pa, buf, start);
    if (header === null) return null;
    const links = this.links;
    return new Tracking(lat, links.publisher, this.account, this.share, performance.now(), header === SAMPLED ? null : header);
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
    // A sampled request's response: its measurement (sendTrackingLatency), before it is delivered.
    let sentLatency = true;
    const track = route.track;
    if (track !== null && !track.didDeliver) {
      track.didDeliver = true;
      sentLatency = this.links.trackResponse(links.account, track);
    }
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
    // singleton, or at an empty message (the end of a stream or chunked response); kept while
    // the responder's server's half of its measurement is awaited.
    if (sentLatency && (!delivered || route.responseType === 'singleton' || pa.size === 0)) links.removeResponse(route, delivered ? Removal.Ok : Removal.NoDelivery);
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
  /**
   * As a responder's server: tracked replies (`.T`) of requests that came from a route for a
   * service of this account, until the response (nats-server's rrTracking, per account here).
   */
  readonly remoteTracked = new Map<string, RemoteTracked>();
  private remoteTimer: NodeJS.Timeout | null = null;
  private responder: ResponseSubscriber | null = null;

  constructor(private readonly links: Links, readonly account: Account) {}

  /** The export that covers `subject` (nats-server's getServiceExport: exact, then a wildcard). */
  serviceExport(subject: string): ServiceExportRule | null {
    return this.serviceExports.find((e) => e.subject === subject) ?? this.serviceExports.find((e) => subjectIsSubsetMatch(subject, e.subject)) ?? null;
  }

  /**
   * A new response route to `dest`'s `to`, with its `_R_` reply subject in this account; a
   * tracked one's ends in `.<server hash>.T` (newServiceReply), so that the responder's server
   * knows where its half of the measurement goes.
   */
  addResponse(dest: Account, to: string, exp: ServiceExportRule | null, track: Tracking | null = null): ResponseRoute {
    if (this.replyPrefix === null) {
      this.replyPrefix = `_R_.${randomToken(6)}.`;
      this.responder = new ResponseSubscriber(this.links, this, this.replyPrefix);
      this.links.insert(this.responder.sub, true);
    }
    const suffix = track === null ? '' : `.${this.links.serverHash}.T`;
    let reply = `${this.replyPrefix}${randomToken(6)}${suffix}`;
    while (this.responses.has(reply)) reply = `${this.replyPrefix}${randomToken(6)}${suffix}`;
    const route: ResponseRoute = { reply, dest, to, responseType: exp?.responseType ?? 'singleton', export: exp, owner: this, ts: Date.now(), track };
    this.responses.set(reply, route);
    const back = this.links.linksOf(dest).reverse;
    const list = back.get(to);
    if (list === undefined) back.set(to, [route]);
    else list.push(route);
    if (exp !== null && exp.timer === null) this.armThreshold(exp);
    return route;
  }

  /** Removes a response route; a tracked request that got no response has its error status sent (removeRespServiceImport). */
  removeResponse(route: ResponseRoute, why: Removal = Removal.Ok): void {
    if (!this.responses.delete(route.reply)) return;
    const t = route.track;
    if (t !== null && !t.didDeliver && !t.sent && why !== Removal.Ok) {
      if (why === Removal.NoDelivery) this.links.sendLatencyError(this.account, t, 503, 'Service Unavailable');
      else if (why === Removal.Timeout) this.links.sendLatencyError(this.account, t, 504, 'Service Timeout');
      else this.links.sendLatencyError(this.account, t, 408, 'Request Timeout');
    }
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
        if (r.ts <= oldest) this.removeResponse(r, Removal.Timeout);
        else left++;
      }
      if (left > 0) this.armThreshold(exp);
    }, timerDelay(exp.thresholdMs));
    exp.timer.unref();
  }

  /**
   * As the responder's server: a request from a route with a tracked reply, for a service of
   * this account (client.go trackRemoteReply); its response will send the responder's half.
   */
  trackRemote(subject: string, reply: string): void {
    const exp = this.serviceExport(subject);
    if (exp === null) return;
    this.remoteTracked.set(reply, { startHr: performance.now(), startMs: Date.now(), thresholdMs: exp.thresholdMs });
    this.links.remoteTracking++;
    if (this.remoteTimer === null) this.armRemotePrune();
  }

  /** A client of this account published on `subject`: the response of a remote tracked request? */
  remoteResponse(pub: Client | null, subject: string): void {
    const rl = this.remoteTracked.get(subject);
    if (rl === undefined) return;
    this.remoteTracked.delete(subject);
    this.links.remoteTracking--;
    this.links.sendRemoteLatency(this.account, pub, subject, rl);
  }

  /** pruneRemoteTracking: entries older than their export's response threshold go. */
  private armRemotePrune(): void {
    let lowest = Infinity;
    for (const e of this.serviceExports) lowest = Math.min(lowest, e.thresholdMs);
    this.remoteTimer = setTimeout(() => {
      this.remoteTimer = null;
      const now = performance.now();
      for (const [reply, rl] of this.remoteTracked) {
        if (now - rl.startHr < rl.thresholdMs) continue;
        this.remoteTracked.delete(reply);
        this.links.remoteTracking--;
      }
      if (this.remoteTracked.size > 0) this.armRemotePrune();
    }, Number.isFinite(lowest) ? timerDelay(lowest) : 1000);
    this.remoteTimer.unref();
  }

  /** Stops the threshold timers and forgets pending responses. */
  close(): void {
    for (const e of this.serviceExports) {
      if (e.timer !== null) clearTimeout(e.timer);
      e.timer = null;
    }
    if (this.remoteTimer !== null) clearTimeout(this.remoteTimer);
    this.remoteTimer = null;
    this.links.remoteTracking -= this.remoteTracked.size;
    this.remoteTracked.clear();
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
  /** True while a message from a gateway is being routed. */
  fromGateway = false;
  /**
   * The leaf node connection whose message is being routed, or null: its requests cross service
   * imports (nats-server's processServiceImport refuses only ROUTER and GATEWAY), and what they
   * cause is routed with the leaf connection as source.
   */
  leaf: RouteTarget | null = null;
  /** The queue groups that leaf node's LMSG named. */
  leafQueues: readonly string[] = [];
  /** Scratch publication of shadow deliveries to leaf nodes (never nested either). */
  readonly leafScratch = new PubArg();
  /** The targets of leaf nodes' shadows, per leaf connection and stream import. */
  private readonly leafTargets = new Map<RouteTarget, Map<StreamImportRule, LeafShadowTarget>>();
  /**
   * The client whose publication is being routed, or null (an internal client, a route): its
   * RTT goes into Nats-Request-Info; it is the requester or responder of latency measurements.
   */
  publisher: Client | null = null;
  /** Remote tracked requests waiting for a local response, over all accounts (0: nothing to look up). */
  remoteTracking = 0;
  /** getHash of the server name, made on first use. */
  private hash: string | null = null;
  /** Per exporting account, the internal client that publishes its measurements. */
  private readonly latencyClients = new Map<Account, InternalClient>();
  /** The system account's client: `$SYS.LATENCY.M2.<hash>` in and out. */
  private sysClient: InternalClient | null = null;
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
      for (const e of l.exports) {
        if (e.kind !== 'service') continue;
        const lat = e.latency === undefined ? null : { sampling: e.latency.sampling, subject: subjectFromText(e.latency.subject) };
        acc.serviceExports.push(new ServiceExportRule(subjectFromText(e.subject), e.responseType, e.responseThresholdMs, lat));
      }
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
          const si = new ServiceImportSubscriber(this, acc.account, exporter, mapping, exp.serviceExport(subject), exp, im.share === true);
          acc.serviceImports.push(si);
          // Not interest for the routes: a request is forwarded where it is published (nats-server's
          // noForward); but for the account's leaf nodes, whose requests it takes (addServiceImportSub's updateLeafNodes).
          this.insert(si.sub, false);
          host.leafInterest(si.sub, 1);
          if (im.expiresAt !== undefined) this.expireAt(im.expiresAt, () => this.removeServiceImport(acc, si));
        }
      }
      acc.account.streamImports = acc.streamImports.length > 0;
    }
    for (const a of this.accounts.keys()) a.linked = true;
    // With any export tracked, the responders' servers' halves of measurements arrive here.
    const tracked = [...this.accounts.values()].some((a) => a.serviceExports.some((e) => e.latency !== null));
    const sys = host.systemAccount;
    if (tracked && sys !== null) {
      this.sysClient = host.internalClient('$SYS latency', sys);
      this.sysClient.subscribe(`${REMOTE_LATENCY_PREFIX}${this.serverHash}`, (m) => this.remoteLatencyUpdate(m));
    }
  }

  /** This server's name hash (events.go getHash): tracked replies end in `.<hash>.T`. */
  get serverHash(): string {
    return (this.hash ??= getHash(this.host.serverNameAndHost().name));
  }

  /** nats-server's getClientInfo: the account and RTT, and with `detailed` the connection's and server's details. */
  private clientInfo(c: Client | null, account: Account, detailed: boolean): Record<string, unknown> {
    if (c === null) return { acc: account.name };
    if (!detailed) return c.rttNs > 0 ? { acc: c.account.name, rtt: c.rttNs } : { acc: c.account.name };
    const cluster = this.host.clusterName;
    return orderedClientInfo({
      ...clientBlock(c, null),
      rtt: c.rttNs > 0 ? c.rttNs : undefined,
      server: this.host.serverNameAndHost().name,
      cluster: cluster === null || cluster === '' ? undefined : cluster,
    });
  }

  /** Publishes a measurement in the exporting account (sendLatencyResult / sendInternalAccountMsg). */
  private sendLatency(exporter: Account, subject: string, sl: ServiceLatency): void {
    let c = this.latencyClients.get(exporter);
    if (c === undefined) {
      c = this.host.internalClient('latency', exporter);
      this.latencyClients.set(exporter, c);
    }
    c.publish(subject, goJson(latencyJson(sl, newNuid(), Date.now()), false));
  }

  /** An error status for a tracked request (sendBadRequestTrackingLatency, sendReplyInterestLostTrackLatency, sendBackendErrorTrackingLatency). */
  sendLatencyError(exporter: Account, t: Tracking, status: number, description: string): void {
    if (t.sent) return;
    t.sent = true;
    const sl = newLatency(status, description);
    sl.requestor = this.clientInfo(t.requestor, t.requestorAccount, t.share);
    sl.header = t.header;
    sl.startMs = performance.timeOrigin + t.startHr - rttOf(sl.requestor) / 1e6;
    this.sendLatency(exporter, t.latency.subject, sl);
  }

  /**
   * The response of a tracked request reached this server (sendTrackingLatency): a 200 is
   * published; false when it came from a route and waits for the responder's server's half.
   */
  trackResponse(exporter: Account, t: Tracking): boolean {
    if (t.sent) return true;
    const nowHr = performance.now();
    const serviceRtt = (nowHr - t.startHr) * 1e6;
    const sl = newLatency(200, '');
    sl.requestor = this.clientInfo(t.requestor, t.requestorAccount, t.share);
    const remote = this.fromPeer;
    // A route is no client: no responder here (its server reports it).
    sl.responder = remote ? null : this.clientInfo(this.publisher, exporter, true);
    const respRtt = rttOf(sl.responder);
    const reqRtt = rttOf(sl.requestor);
    sl.startMs = performance.timeOrigin + t.startHr - reqRtt / 1e6;
    sl.serviceNs = serviceRtt - respRtt;
    sl.totalNs = reqRtt + serviceRtt;
    if (respRtt > 0) {
      sl.systemNs = (performance.now() - nowHr) * 1e6;
      sl.totalNs += sl.systemNs;
    }
    sl.header = t.header;
    sanitize(sl);
    if (remote) {
      if (t.m1 === null) {
        t.m1 = sl;
        return false;
      }
      // The responder's server's half came first.
      merge(sl, t.m1);
    }
    t.sent = true;
    this.sendLatency(exporter, t.latency.subject, sl);
    return true;
  }

  /**
   * As the responder's server: the response to a remote tracked request (client.go, the
   * rrTracking lookup of processInboundClientMsg): the responder's half, to the requester's
   * server on `$SYS.LATENCY.M2.<its hash>` in the system account.
   */
  sendRemoteLatency(exporter: Account, pub: Client | null, reply: string, rl: RemoteTracked): void {
    const sys = this.host.systemAccount;
    if (sys === null) return;
    const sl = newLatency(200, '');
    sl.responder = this.clientInfo(pub, exporter, true);
    const respRtt = rttOf(sl.responder);
    sl.serviceNs = (performance.now() - rl.startHr) * 1e6 - respRtt;
    sl.totalNs = sl.serviceNs + respRtt;
    sl.startMs = rl.startMs;
    sanitize(sl);
    const tokens = reply.split('.');
    const m2 = latencyJson(sl, '', 0);
    // The Go zero values of the typed event's fields (the requester's server fills them).
    m2.type = '';
    m2.timestamp = '0001-01-01T00:00:00Z';
    this.sysClient ??= this.host.internalClient('$SYS latency', sys);
    this.sysClient.publish(`${REMOTE_LATENCY_PREFIX}${tokens[tokens.length - 2]}`, goJson({ account: exporter.name, req_id: reply, m2 }, false));
  }

  /** events.go remoteLatencyUpdate: the responder's server's half of a measurement. */
  private remoteLatencyUpdate(m: InternalMessage): void {
    let rl: unknown;
    try {
      rl = JSON.parse(m.data.toString('utf8'));
    } catch (err) {
      // Another server's (or any system user's) bad body, not a bug of ours: nats-server logs it
      // (events.go remoteLatencyUpdate) and goes on.
      this.host.log.error(`Error unmarshalling remote latency measurement: ${(err as Error).message}`);
      return;
    }
    if (rl === null || typeof rl !== 'object') return;
    const { account, req_id: reqId, m2: raw } = rl as Record<string, unknown>;
    const m2 = latencyFromJson(raw);
    if (typeof account !== 'string' || typeof reqId !== 'string' || m2 === null) return;
    const acc = [...this.accounts.values()].find((a) => a.account.name === account);
    const route = acc?.responses.get(reqId);
    const t = route?.track;
    if (acc === undefined || route === undefined || t === undefined || t === null || t.sent || t.m1Remote) return;
    if (t.m1 === null) {
      // The response has not come through yet: it merges this one then.
      t.m1 = m2;
      t.m1Remote = true;
      return;
    }
    const m1 = t.m1;
    merge(m1, m2);
    t.sent = true;
    this.sendLatency(acc.account, t.latency.subject, m1);
    acc.removeResponse(route);
  }

  /**
   * A message from a route in a linked account: a request with a tracked reply for one of its
   * services makes this server the responder's (deliverMsg's trackRemoteReply).
   */
  peerMessage(account: Account, subject: string, reply: string): void {
    if (reply.length <= MIN_REPLY_LEN || reply.charCodeAt(reply.length - 1) !== 0x54 /* T */ || reply.charCodeAt(reply.length - 2) !== 0x2e) return;
    this.accounts.get(account)?.trackRemote(subject, reply);
  }

  /** A client's publication in a linked account while remote tracked requests wait: maybe a response. */
  clientMessage(pub: Client | null, account: Account, subject: string): void {
    this.accounts.get(account)?.remoteResponse(pub, subject);
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
      }, timerDelay(ms));
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
        const kept = shadows.filter((s) => shadowRule(s) !== rule);
        if (kept.length === shadows.length) continue;
        for (const s of shadows) if (!kept.includes(s)) this.remove(s, true);
        sub.shadows = kept.length === 0 ? null : kept;
      }
    }
    // Leaf nodes' interest.
    acc.account.sublist.forEach((sub) => {
      const shadows = sub.remote ? sub.shadows : null;
      if (shadows === null) return;
      const kept = shadows.filter((s) => shadowRule(s) !== rule);
      for (const s of shadows) if (!kept.includes(s)) this.removeLeafShadow(s as RemoteSub);
      sub.shadows = kept.length === 0 ? null : kept;
    });
    this.host.notifyChange();
  }

  /** A service import ends: its subscription goes (requests on it reach nobody). */
  private removeServiceImport(acc: AccountLinks, si: ServiceImportSubscriber): void {
    const i = acc.serviceImports.indexOf(si);
    if (i < 0) return;
    acc.serviceImports.splice(i, 1);
    this.remove(si.sub, false);
    this.host.leafInterest(si.sub, -1);
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
    const shadows = this.shadowSubjects(sub.client.account, sub.subject, (rule, subject, filter) => {
      const shadow = new ShadowSubscriber(this, sub, rule, subject, filter);
      this.insert(shadow.sub, true);
      return shadow.sub;
    });
    sub.shadows = shadows;
  }

  /**
   * A leaf node's interest entered an account with stream imports: its shadows in the exporting
   * accounts, peer interest of the leaf connection there ({@link LeafShadowTarget}). Announced to
   * the routes, gateways and the exporter's leaf nodes as the leaf node's own interest is, except
   * on the leaf node's side (nats-server's addShadowSub updates nothing for a spoke's LEAF).
   */
  addLeafShadows(sub: RemoteSub): void {
    const conn = sub.route;
    const forward = conn.leafKind !== LeafKind.SOLICITED;
    sub.shadows = this.shadowSubjects(sub.account, sub.subject, (rule, subject) => {
      let byRule = this.leafTargets.get(conn);
      if (byRule === undefined) {
        byRule = new Map();
        this.leafTargets.set(conn, byRule);
      }
      let target = byRule.get(rule);
      if (target === undefined) {
        target = new LeafShadowTarget(this, conn, rule, sub.account);
        byRule.set(rule, target);
      }
      const shadow = new RemoteSub(target, subject, sub.queue, sub.weight, rule.exporter, sub.origin);
      if (!rule.exporter.sublist.insert(shadow)) return null;
      target.refs++;
      if (forward) this.host.peerInterest(shadow, shadow.weight);
      return shadow;
    });
  }

  /** A leaf node's shadow goes (its interest, or the import, went). */
  private removeLeafShadow(shadow: RemoteSub): void {
    const target = shadow.route as LeafShadowTarget;
    if (!shadow.account.sublist.remove(shadow)) return;
    if (target.leafKind !== LeafKind.SOLICITED) this.host.peerInterest(shadow, -shadow.weight);
    if (--target.refs > 0) return;
    const byRule = this.leafTargets.get(target.conn);
    byRule?.delete(target.rule);
    if (byRule !== undefined && byRule.size === 0) this.leafTargets.delete(target.conn);
  }

  /**
   * nats-server's addShadowSubscriptions: for each stream import of `account` whose local
   * subject meets `subject`, the exported subject its shadow takes, made by `make`.
   */
  private shadowSubjects<T extends AnySub>(account: Account, subject: string, make: (rule: StreamImportRule, shadowSubject: string, filter: boolean) => T | null): T[] | null {
    const rules = this.linksOf(account).streamImports;
    let shadows: T[] | null = null;
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
      const shadow = make(rule, shadowSubject, filter);
      if (shadow !== null) (shadows ??= []).push(shadow);
    }
    return shadows;
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
      // A tracked route whose response came through stays for the responder's server's half;
      // the others go, a tracked one with a 408.
      for (const route of [...reverse.get(reply)!]) if (route.track === null || !route.track.didDeliver) route.owner.removeResponse(route, Removal.InterestLost);
    }
  }

  /** A subscription (or a leaf node's interest) with shadows went: they go too. */
  removeShadows(sub: AnySub): void {
    if (sub.remote) {
      const shadows = sub.shadows!;
      sub.shadows = null;
      for (const s of shadows) this.removeLeafShadow(s as RemoteSub);
      return;
    }
    const shadows = sub.shadows!;
    sub.shadows = null;
    for (const s of shadows) this.remove(s, true);
  }

  /** Response routes of `account` that carry a latency measurement (tests). */
  trackedResponses(account: Account): number {
    let n = 0;
    for (const r of this.accounts.get(account)?.responses.values() ?? []) if (r.track !== null) n++;
    return n;
  }

  /** Pending response routes of `account` (tests). */
  pendingResponses(account: Account): number {
    return this.accounts.get(account)?.pendingResponses ?? 0;
  }

  /** Removes every subscription the links made and stops their timers. */
  close(): void {
    for (const t of this.expiries) clearTimeout(t);
    this.expiries.clear();
    for (const c of this.latencyClients.values()) c.close();
    this.latencyClients.clear();
    this.sysClient?.close();
    this.sysClient = null;
    this.leafTargets.clear();
    for (const a of this.accounts.values()) {
      a.close();
      a.removeResponder();
      for (const si of a.serviceImports) {
        this.remove(si.sub, false);
        this.host.leafInterest(si.sub, -1);
      }
      a.account.streamImports = false;
      a.account.linked = false;
    }
    this.accounts.clear();
  }
}
