/**
 * Message fan-out, as nats-server's `processMsgResults`: one copy per matching plain
 * subscription, one member per queue group (weighted over local and remote members), one
 * message per route carrying the queue groups that route's server must serve; never more than
 * one hop, except nats-server's queue fallback. The hot path of the broker: no allocation per
 * message (route targets go into reused arrays).
 *
 * Internal clients' publications are queued and routed after the routing in progress, so an
 * internal subscriber called during a fan-out never re-enters it.
 */
import { PubArg } from '../protocol/parser.js';
import { noRespondersFrame } from '../protocol/encode.js';
import { backedUp, LeafKind, type Account, type AnySub, type Backlogged, type RemoteSub, type RouteTarget, type Subscriber, type Subscription } from './account.js';
import type { Client } from './client.js';
import type { FaultSink, TestControls } from './controls.js';
import type { CoreStats } from './stats.js';
import type { InternalClient } from './internal.js';
import type { GatewayHooks } from './gateway-hooks.js';

/** What the router needs of the core. */
export interface RouterHost {
  readonly stats: CoreStats;
  readonly controls: TestControls;
  readonly faults: FaultSink;
  /** The gateway layer, or null without gateways. */
  readonly gateway: GatewayHooks | null;
  /** Queue-member choice (seeded with the `seed` option). */
  readonly random: () => number;
  unsubscribe(sub: Subscription): void;
  /**
   * Writes out queued output now, unless a read chunk is being processed: then the end of that
   * chunk writes it, once for everything the chunk caused.
   */
  flushOutsideRead(): void;
  /** The `maxPending` option: a peer connection with three quarters of it queued stalls client publishers. */
  readonly maxPending: number;
  /** A request in `acc` (subject starting with `$`): true when the host answered it (a system request imported into every account). */
  answerUnanswered(pub: Client | InternalClient, acc: Account, pa: PubArg, buf: Buffer, start: number, end: number): boolean;
}

/** Who published a message being routed: a client, an internal client, or null for a route. */
export type Publisher = Client | InternalClient | null;

const NO_BYTES = Buffer.alloc(0);
/** nats-server's stallClientMinDuration, stallClientMaxDuration and stallTotalAllowed (client.go, 2.10.26+). */
const STALL_MIN_MS = 2;
const STALL_MAX_MS = 5;
const STALL_TOTAL_MS = 10;
/**
 * A queue filter for a peer's message that lets every queue group take it: a request or response
 * a leaf node sent through a service import (nats-server's pmrIgnoreEmptyQueueFilter).
 */
export const ALL_QUEUES: readonly string[] = Object.freeze([]);
/** Queue slots kept (with their PubArgs) after a drain; a longer queue's extra slots are dropped. */
const INTERNAL_SLOTS_KEPT = 1024;

export class Router {
  // Route targets of the messages being routed (reused: no allocation per message).
  private readonly rtRoutes: RouteTarget[] = [];
  private readonly rtQueues: string[][] = [];
  private rtCount = 0;
  // Internal publications waiting for the routing in progress: slot i holds a publisher, its
  // message's PubArg and bytes. The slots and their PubArgs are reused (none allocated per
  // publication): a PubArg is only read while its message is routed, as the parser's is.
  private readonly iqClient: (InternalClient | null)[] = [];
  private readonly iqPa: PubArg[] = [];
  private readonly iqBuf: Buffer[] = [];
  private iqLen = 0;
  private routingDepth = 0;
  /** The publisher of the message being routed (system requests ask who sent them). */
  publisher: Publisher = null;
  /**
   * The first backed-up route, leaf node or gateway connection a client's messages went to since the last
   * {@link takeStall}, and how long nats-server would have stalled that client for them (ms).
   */
  private stallTarget: Backlogged | null = null;
  private stallMs = 0;
  /**
   * The routing in progress is a client's message, or something it caused that a nested routing
   * forwards for it (a service import's request): what goes to a backed-up peer connection
   * stalls that client (nats-server's processServiceImport routes as the client itself).
   */
  private stallArmed = false;
  /**
   * Set by the imports while they route a request or response they forwarded for a client (or an
   * internal client, or a gateway's response): it goes on to the gateways as the client's own
   * message would (processServiceImport's sendMsgToGateways).
   */
  imported = false;

  constructor(private readonly host: RouterHost) {}

  /**
   * Forgets a routing that a bug interrupted (the core's read loop calls it after catching): its
   * route targets and nesting. Kept out of the hot path instead of a try/finally there.
   */
  reset(): void {
    this.rtCount = 0;
    this.routingDepth = 0;
    this.publisher = null;
    this.stallArmed = false;
    this.stallTarget = null;
    this.stallMs = 0;
    this.imported = false;
  }

  /**
   * Queues an internal client's message; it is routed once the routing in progress is over.
   * Headers and data that are adjacent views of one buffer (a direct get's reply) are routed as
   * that buffer, without a copy, as data without headers always is: neither may change after.
   */
  publishInternal(client: InternalClient, subject: string, reply: string, headers: Buffer | null, data: Buffer, deliver = '', once = false): void {
    const i = this.iqLen++;
    let pa = this.iqPa[i];
    if (pa === undefined) {
      pa = new PubArg();
      this.iqPa[i] = pa;
    } else {
      pa.sizeZeros = 0;
      pa.hdrZeros = 0;
    }
    pa.subject = subject;
    pa.deliver = deliver;
    pa.once = once;
    pa.reply = reply;
    const hdr = headers === null ? 0 : headers.length;
    pa.hdr = headers === null ? -1 : hdr;
    pa.size = hdr + data.length;
    this.iqBuf[i] = headers === null ? data
      : headers.buffer === data.buffer && headers.byteOffset + hdr === data.byteOffset ? Buffer.from(headers.buffer, headers.byteOffset, pa.size)
        : Buffer.concat([headers, data]);
    this.iqClient[i] = client;
    if (this.routingDepth === 0) this.drainInternal();
  }

  /**
   * Defers the internal publications a routing causes until {@link release}: a caller that sets
   * state for one message (the imports' route-only and RTT flags) restores it first, so that
   * the publications it caused (a republish, a PubAck) do not inherit it.
   */
  hold(): void {
    this.routingDepth++;
  }

  /** Ends a {@link hold}; routes what waited. After a routing threw, the core's reset() does. */
  release(): void {
    if (this.routingDepth > 0) this.routingDepth--;
    if (this.routingDepth === 0 && !this.draining && this.iqLen > 0) this.drainInternal();
  }

  /** True while {@link drainInternal} runs: what routing queues meanwhile joins that loop. */
  private draining = false;

  /**
   * Routes the queued internal publications, the ones they cause included, in one loop (not
   * one nested call per message: a mirror catching up answers its origin's flow control from
   * inside the routing, and recursion overflowed the stack). A bug in one routing loses that
   * message only: the nesting is reset so that later publications are not left queued forever.
   */
  private drainInternal(): void {
    if (this.draining) return;
    this.draining = true;
    let head = 0;
    try {
      while (head < this.iqLen) {
        const i = head++;
        const client = this.iqClient[i]!;
        const buf = this.iqBuf[i];
        // The slot lets go of its publisher and bytes now (a routing error must not pin them).
        this.iqClient[i] = null;
        this.iqBuf[i] = NO_BYTES;
        if (!client.closed) this.route(client, client.account, this.iqPa[i], buf, 0, buf.length, null, null);
      }
    } catch (err) {
      this.reset();
      throw err;
    } finally {
      this.compactInternal(head);
      this.draining = false;
    }
    // Not a write per internal publication: a stream's PubAck for every message of a read chunk
    // went out in a write of its own (one syscall per ack), 1/7 of nats-server's async rate.
    this.host.flushOutsideRead();
  }

  /** Drops the first `done` queue slots' publications (routed), keeping the rest in order. */
  private compactInternal(done: number): void {
    const len = this.iqLen;
    if (done < len) {
      // A routing threw: the publications after it move to the front, each slot keeping a PubArg.
      for (let j = done; j < len; j++) {
        const k = j - done;
        const pa = this.iqPa[k];
        this.iqPa[k] = this.iqPa[j];
        this.iqPa[j] = pa;
        this.iqClient[k] = this.iqClient[j];
        this.iqBuf[k] = this.iqBuf[j];
        this.iqClient[j] = null;
        this.iqBuf[j] = NO_BYTES;
      }
    }
    this.iqLen = len - done;
    if (this.iqPa.length > INTERNAL_SLOTS_KEPT && this.iqLen <= INTERNAL_SLOTS_KEPT) {
      this.iqPa.length = INTERNAL_SLOTS_KEPT;
      this.iqClient.length = INTERNAL_SLOTS_KEPT;
      this.iqBuf.length = INTERNAL_SLOTS_KEPT;
    }
  }

  /**
   * Routes one message: drop rules and taps, then the fan-out. `pub` published it (null: a
   * route sent it, to local subscribers only, and to local members of the queue groups in
   * `queueFilter` only; `source` is that route; or, with `source` null and a `queueFilter`, a
   * gateway sent it: to this cluster's subscribers, and to the queue groups in `queueFilter`).
   * A publisher's own messages and a leaf node's go on to the gateways (and those an import
   * forwarded for them: {@link imported}). One function, not two:
   * the fan-out path must fit V8's inlining budget (measured with the fan-out benchmark).
   */
  route(
    pub: Publisher,
    acc: Account,
    pa: PubArg,
    buf: Buffer,
    start: number,
    end: number,
    queueFilter: readonly string[] | null,
    source: RouteTarget | null,
  ): boolean {
    const host = this.host;
    const stats = host.stats;
    stats.inMsgs++;
    stats.inBytes += end - start;
    const controls = host.controls;
    if (controls.drops !== null && controls.dropped(pa.subject, host.random)) return false;
    if (controls.taps !== null) controls.tap(pub === null ? null : pub.cid, pa, buf, start, end, host.faults.userError);
    this.routingDepth++;
    const outer = this.publisher;
    this.publisher = pub;
    const outerArmed = this.stallArmed;
    if (pub !== null) this.stallArmed = pub.stallable;
    else if (this.routingDepth === 1) this.stallArmed = false;
    // A consumer's delivery (pa.deliver) is routed on its delivery subject, to local
    // subscribers: a route would read the stored subject from the RMSG line.
    const r = acc.sublist.match(pa.deliver === '' ? pa.subject : pa.deliver, pa.once);
    // The source: a route, or a leaf node connection (leafKind set): nats-server's rules of
    // processMsgResults for kinds ROUTER and LEAF.
    const srcLeaf = source === null ? undefined : source.leafKind;
    const fromRoute = source !== null && srcLeaf === undefined;
    // The leaf node cluster the message came from ('' for none): it goes back to no leaf node
    // connection of that cluster (processMsgResults' leafOrigin: cluster-wide no echo).
    const origin = source === null ? '' : pa.origin;
    let delivered = false;
    // Route targets of this message: a routing nested in it (an import forwarding a request or
    // a response; internal publications wait) works on its own part of the reused arrays.
    const base = this.rtCount;
    const psubs = r.psubs;
    for (let i = 0; i < psubs.length; i++) {
      const sub = psubs[i];
      if (sub.remote) {
        if (source === null) this.addRouteTarget(base, sub.route, null);
        else if (srcLeaf !== undefined || sub.route.leafKind !== undefined) this.leafTarget(base, sub, source, srcLeaf, origin);
      } else if (this.deliverTo(pub, sub, pa, buf, start)) {
        delivered = true;
      }
    }
    const qsubs = r.qsubs;
    for (let g = 0; g < qsubs.length; g++) {
      const members = qsubs[g];
      if (source !== null) {
        if (queueFilter === null || (queueFilter !== ALL_QUEUES && !queueFilter.includes(members[0].queue!))) continue;
        if (fromRoute ? this.pickLocal(base, members, source, origin, pa, buf, start) : this.pickMember(base, null, members, pa, buf, start, source, origin)) delivered = true;
      } else if (queueFilter !== null && !queueFilter.includes(members[0].queue!)) {
        continue;
      } else if (this.pickMember(base, pub, members, pa, buf, start, null, '')) {
        delivered = true;
      }
    }
    if (this.rtCount > base) {
      // A route's message passed on to another route (a queue group's second hop) is an RMSG:
      // `LMSG <origin>` is for a leaf node's own messages (client.go msgHeaderForRouteOrLeaf).
      if (fromRoute) pa.origin = '';
      this.sendToRoutes(base, acc, pa, buf, start);
      delivered = true;
    }
    // A publisher's message and a leaf node's go on to the other clusters (processMsgResults'
    // callers for CLIENT and LEAF); a route's or a gateway's never.
    if ((pub !== null || srcLeaf !== undefined || this.imported) && host.gateway !== null && host.gateway.sendToGateways(acc, pa, buf, start, qsubs, source, queueFilter)) delivered = true;
    if (pub !== null && pa.reply.length > 0) this.requested(pub, acc, pa, delivered, buf, start, end);
    this.publisher = outer;
    this.stallArmed = outerArmed;
    this.routingDepth--;
    if (this.routingDepth === 0 && !this.draining && this.iqLen > 0) this.drainInternal();
    return delivered;
  }

  /**
   * One message per route, carrying the queue groups that route's server must serve. A client's
   * message to a peer connection that has three quarters of `maxPending` queued stalls that
   * client (nats-server's fast producer stall, client.go queueOutbound / stalledWait: each such
   * message waits until the connection is below that again, at most 2 ms, 5 ms once the whole of
   * `maxPending` is queued, and at most 10 ms per read in all), so that a publisher faster than a
   * route is slowed down to it; a route or leaf node connection is never closed for it.
   */
  private sendToRoutes(base: number, acc: Account, pa: PubArg, buf: Buffer, start: number): void {
    // A client's message (a route's, a leaf node's or an internal one is not stalled).
    const stalls = this.stallArmed;
    for (let i = base; i < this.rtCount; i++) {
      const target = this.rtRoutes[i];
      target.sendMsg(acc.name, pa, this.rtQueues[i], buf, start);
      if (stalls) this.checkBacklog(target);
    }
    this.rtCount = base;
  }

  /**
   * A message of the publisher being routed was queued for the peer connection `target` (a
   * route, leaf node or gateway connection): when three quarters of `maxPending` are queued
   * there, that publisher owes a stall (see {@link sendToRoutes}).
   */
  checkBacklog(target: Backlogged): void {
    if (!this.stallArmed) return;
    const max = this.host.maxPending;
    if (backedUp(target, max)) {
      if (this.stallTarget === null) this.stallTarget = target;
      // At most 10 ms per read, whatever the number of messages (2.10.26+'s stallTotalAllowed).
      this.stallMs = Math.min(STALL_TOTAL_MS, this.stallMs + (target.pendingBytes! >= max ? STALL_MAX_MS : STALL_MIN_MS));
    }
  }

  /**
   * Arms (or disarms) the producer stall for a client's message sent outside {@link route} (a
   * reply the gateway layer maps straight back); returns the previous state, to be put back.
   */
  armStall(on: boolean): boolean {
    const was = this.stallArmed;
    this.stallArmed = on;
    return was;
  }

  /**
   * The stall the messages routed since the last call ask of their client publisher (null for
   * none), and forgets it: the client stops reading until `target` is below three quarters of
   * `maxPending` again, for at most `ms`.
   */
  takeStall(): { target: Backlogged; ms: number } | null {
    const target = this.stallTarget;
    if (target === null) return null;
    const ms = this.stallMs;
    this.stallTarget = null;
    this.stallMs = 0;
    return { target, ms };
  }

  /**
   * A plain subscription of a peer for a message from a route or leaf node (nats-server's
   * processMsgResults): a leaf node never gets its own message back, and from a route only
   * leaf nodes of this hub (accepted) get it; a route gets a leaf node's message unless that
   * leaf node is this server's hub (a spoke forwards nothing of its hub to its cluster); no leaf
   * node connection to the message's `origin` cluster gets it.
   */
  private leafTarget(base: number, sub: RemoteSub, source: RouteTarget, srcLeaf: number | undefined, origin: string): void {
    const kind = sub.route.leafKind;
    if (kind === undefined) {
      if (srcLeaf === LeafKind.ACCEPTED) this.addRouteTarget(base, sub.route, null);
    } else if (sub.route !== source && (srcLeaf !== undefined || kind === LeafKind.ACCEPTED) && (origin === '' || sub.route.remoteCluster !== origin)) {
      this.addRouteTarget(base, sub.route, null);
    }
  }

  /**
   * A queue member for a local publisher's message (or a leaf node's, `source`): weighted random
   * over local and route members. A leaf node's member is only a fallback, taken when no local
   * or route member can be (nats-server 2.10 processMsgResults prefers its own cluster), and so
   * is a route's member that a leaf node cluster announced (LS+); a leaf node never gets its own
   * message back, nor its cluster's (`origin`), and a message from this server's hub goes to no route.
   */
  private pickMember(base: number, pub: Publisher, members: readonly AnySub[], pa: PubArg, buf: Buffer, start: number, source: RouteTarget | null, origin: string): boolean {
    const n = members.length;
    let total = 0;
    let remote = false;
    for (let i = 0; i < n; i++) {
      const m = members[i];
      if (m.remote) {
        remote = true;
        total += m.weight;
      } else {
        total++;
      }
    }
    // Start at a random member (remote ones weighted by their member count), then walk on
    // until one can take the message.
    let first = 0;
    if (n > 1) {
      if (!remote) first = Math.floor(this.host.random() * n);
      else {
        let x = this.host.random() * total;
        while (first < n - 1) {
          const m = members[first];
          x -= m.remote ? m.weight : 1;
          if (x < 0) break;
          first++;
        }
      }
    }
    let leaf: RemoteSub | null = null;
    for (let k = 0; k < n; k++) {
      const m = members[(first + k) % n];
      if (m.remote) {
        if (m.weight === 0 || m.route === source) continue;
        if (m.route.leafKind !== undefined) {
          if (leaf === null && (origin === '' || m.route.remoteCluster !== origin)) leaf = m;
          continue;
        }
        if (source !== null && source.leafKind === LeafKind.SOLICITED) continue;
        // A route's member on behalf of a leaf node cluster is only a fallback too, and never one
        // of the message's own cluster (nats-server 2.10 processMsgResults, `sub.origin`).
        if (m.origin !== '') {
          if (leaf === null && m.origin !== origin) leaf = m;
          continue;
        }
        this.addRouteTarget(base, m.route, m.queue);
        return true;
      }
      if (this.deliverTo(pub, m, pa, buf, start)) return true;
    }
    if (leaf === null) return false;
    this.addRouteTarget(base, leaf.route, leaf.queue);
    return true;
  }

  /**
   * A queue member for a routed message: a local member, chosen at random. When none can take
   * it (e.g. the last one just left), nats-server passes it on to another server that has
   * members of the group: the only case of a second hop.
   */
  private pickLocal(base: number, members: readonly AnySub[], source: RouteTarget | null, origin: string, pa: PubArg, buf: Buffer, start: number): boolean {
    const n = members.length;
    const first = n > 1 ? Math.floor(this.host.random() * n) : 0;
    let fallback: RemoteSub | null = null;
    for (let k = 0; k < n; k++) {
      const m = members[(first + k) % n];
      if (m.remote) {
        // A leaf node's member is preferred to another route's (nats-server 2.10), and one of
        // the message's own leaf node cluster is never taken.
        if (m.route === source || m.weight === 0) continue;
        if (origin !== '' && m.route.leafKind !== undefined && m.route.remoteCluster === origin) continue;
        if (fallback === null || (fallback.route.leafKind === undefined && m.route.leafKind !== undefined)) fallback = m;
      } else if (this.deliverTo(null, m, pa, buf, start)) {
        return true;
      }
    }
    if (fallback === null) return false;
    this.addRouteTarget(base, fallback.route, fallback.queue);
    return true;
  }

  private addRouteTarget(base: number, route: RouteTarget, queue: string | null): void {
    let i = base;
    while (i < this.rtCount && this.rtRoutes[i] !== route) i++;
    if (i === this.rtCount) {
      this.rtRoutes[i] = route;
      const queues = this.rtQueues[i];
      // Setting `length` is a runtime call even on an empty array (2.6 % of a route-pubsub-16
      // publisher-side server's time): only a slot that held queue names is emptied.
      if (queues === undefined) this.rtQueues[i] = [];
      else if (queues.length !== 0) queues.length = 0;
      this.rtCount++;
    }
    if (queue !== null) this.rtQueues[i].push(queue);
  }

  /**
   * Delivers to one local subscription. Kept small, the rare cases (permissions, auto-unsubscribe
   * limits) in functions of their own: the whole delivery path must fit V8's inlining budget,
   * or the encoder's helpers stop inlining (measured with the fan-out benchmark).
   */
  private deliverTo(pub: Publisher, sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    const client = sub.client;
    if ((client === pub && !pub.echo) || sub.closed || client.closed) return false;
    if (client.perms !== null && !this.permitted(client, pa)) return false;
    sub.nm++;
    if (sub.max > 0) return this.deliverLimited(sub, pa, buf, start);
    if (!client.deliver(sub, pa, buf, start)) return false;
    this.countOut(pa.size);
    return true;
  }

  /**
   * Delivers to a local subscription on behalf of an import (broker/imports.ts: a stream
   * import's shadow subscription hands over the message): the checks of {@link deliverTo},
   * counted once, by the routing that reached the shadow.
   */
  deliverImported(sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    const client = sub.client;
    if (sub.closed || client.closed) return false;
    if (client.perms !== null && !this.permitted(client, pa)) return false;
    sub.nm++;
    if (sub.max > 0 && sub.nm > sub.max) {
      this.host.unsubscribe(sub);
      return false;
    }
    const ok = client.deliver(sub, pa, buf, start);
    if (sub.max > 0 && sub.nm === sub.max) this.host.unsubscribe(sub);
    return ok;
  }

  /** Delivery-time permissions: deny checks and allowed responses. */
  private permitted(client: Subscriber, pa: PubArg): boolean {
    const perms = client.perms!;
    // nats-server's mperms: once this connection has made a wildcard SUB containing a
    // subscribe deny entry, every delivery to it is checked against the deny list; until
    // then (and for most connections, always) this is one boolean test.
    if (perms.checkDeliveries && perms.deniesDelivery(pa.subject)) return false;
    // allow_responses: the reply subject of a delivered message may be published to.
    if (perms.responses !== null && pa.reply.length > 0) client.allowReply(pa.reply);
    return true;
  }

  /** A subscription with an auto-unsubscribe limit: the message that reaches it is the last. */
  private deliverLimited(sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    if (sub.nm > sub.max) {
      this.host.unsubscribe(sub);
      return false;
    }
    const ok = sub.client.deliver(sub, pa, buf, start);
    if (sub.nm === sub.max) this.host.unsubscribe(sub);
    if (ok) this.countOut(pa.size);
    return ok;
  }

  private countOut(bytes: number): void {
    const stats = this.host.stats;
    stats.outMsgs++;
    stats.outBytes += bytes;
  }

  /**
   * A request: a system request every account may make (nats-server imports
   * `$SYS.REQ.USER.INFO` from the system account into each account as a service) is answered
   * by the host, whether or not the account's own subscribers got it too; a request nobody
   * received and nobody answered gets the no-responders status, when the client asked for it.
   */
  private requested(pub: Client | InternalClient, acc: Account, pa: PubArg, delivered: boolean, buf: Buffer, start: number, end: number): void {
    const answered = pa.subject.charCodeAt(0) === 36 /* $ */ && this.host.answerUnanswered(pub, acc, pa, buf, start, end);
    if (!delivered && !answered && pub.noResponders) this.sendNoResponders(pub as Client, pa.reply);
  }

  /**
   * nats-server answers a request nobody received with a 503 status message, on the
   * publisher's own subscription that matches the reply subject; without one, nothing.
   */
  private sendNoResponders(pub: Client, reply: string): void {
    const psubs = pub.account.sublist.match(reply, true).psubs;
    for (let i = 0; i < psubs.length; i++) {
      const sub = psubs[i];
      if (sub.remote || sub.client !== pub) continue;
      pub.send(noRespondersFrame(reply, sub.sid));
      return;
    }
  }
}
