/**
 * The broker core: accounts, the registry of client and internal connections, subscriptions,
 * the entry points of routing (the fan-out is the {@link Router}'s) and the flush scheduler.
 * It owns no listener: the listeners' accept functions (accept.ts) hand it each new client.
 * Connections reach it through the narrow host interfaces they declare (`ClientHost`,
 * `InternalHost`; routes through the cluster's `RouteHost`), never through its fields.
 */
import type { PubArg } from '../protocol/parser.js';
import { ERR, SYS_QUEUE, OK, errSubViolation } from '../protocol/constants.js';
import type { Authenticator } from '../auth/auth.js';
import { AccountJwts } from '../auth/account-jwts.js';
import { clientAuthenticator, webSocketAuthenticator } from './authenticators.js';
import type { ResolvedOptions } from '../config/options.js';
import { Account, GLOBAL_ACCOUNT, Subscription, type Backlogged, type RemoteSub, type RouteTarget, type Subscriber } from './account.js';
import { Client, type ClientHost } from './client.js';
import { CloseReason } from './close-reason.js';
import { ClosedRing } from './closed.js';
import type { ClusterHooks } from './cluster-hooks.js';
import type { GatewayHooks } from './gateway-hooks.js';
import type { Flushable } from './connection.js';
import { DEFAULT_FAULT_SINK, TestControls, type FaultSink } from './controls.js';
import { clientInfo, infoFrame, type InfoSource, type ServerInfo } from './info.js';
import { InternalClient, type InternalHost } from './internal.js';
import { newServerId, newXKey } from './ids.js';
import { ALL_QUEUES, Router, type Publisher, type RouterHost } from './router.js';
import { SystemEvents, type SystemEventsHost } from './events.js';
import { isLeafShadow, Links, type ImportsHost } from './imports.js';
import type { CoreStats } from './stats.js';

export type { CoreStats } from './stats.js';
import { Log } from './log.js';

/** Internal publications (PubAcks) inside one read chunk between writes: see {@link BrokerCore.flushOutsideRead}. */
/** A response from a route is routed into the requester's account as a route's message is. */
const NO_QUEUES: readonly string[] = [];
const LOCAL_ONLY: RouteTarget = { sendMsg: () => undefined };
const INTERNAL_FLUSH_EVERY = 64;
/** The first of those writes comes sooner, so the publisher works on its first acks while the rest of the chunk is processed. */
const INTERNAL_FIRST_FLUSH = 8;

/** mulberry32: a small, fast, seedable generator (for replayable queue choices; the crash tests use it too). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Answers a system request made in a non-system account that nats-server imports into every
 * account (`$SYS.REQ.USER.INFO`, `$SYS.REQ.ACCOUNT.PING.CONNZ`...): set by the system services
 * (monitor/system.ts). `buf[start..end]` holds the message (headers, then payload); views, to be
 * copied if kept. True when it answered.
 */
export type UnansweredHandler = (pub: Client | InternalClient, acc: Account, pa: PubArg, buf: Buffer, start: number, end: number) => boolean;

/**
 * Replies mapped across gateways (`_GR_.…`) that this server's hub sent it (leaf/gw-replies.ts):
 * a client's answer on a tracked plain reply is routed on the mapped subject.
 */
export interface MappedReplies {
  /** False while nothing is tracked (the publish path pays one test). */
  readonly active: boolean;
  /** The mapped subject of an answer on `subject` in `acc`, or null. */
  routed(acc: Account, subject: string): string | null;
}

export class BrokerCore implements ClientHost, InternalHost, InfoSource, RouterHost, ImportsHost, SystemEventsHost {
  // ---- Identity and configuration ---------------------------------------------------------
  readonly serverId = newServerId();
  readonly xkey = newXKey();
  /** Replaced by a config reload (`applyOptions`). */
  options: ResolvedOptions;
  log: Log;
  /** The authenticator, when authorization is configured. */
  auth: Authenticator | null;
  /** The websocket clients' authenticator (websocket.go's overrides), when they need one. */
  wsAuth: Authenticator | null;
  /** Operator mode: the account JWTs in force, over the account resolver (auth/account-jwts.ts). */
  accountJwts: AccountJwts | null;
  /**
   * A directory resolver's lookup of an account at the other servers (broker/claims-service.ts
   * sets it while it runs): resolves once the account is stored, or the lookup failed.
   */
  accountFetcher: ((account: string) => Promise<void>) | null = null;
  /** Queue-member choice: Math.random, or a seeded generator (`seed` option). */
  readonly random: () => number;
  /** Set by the server once it listens. */
  port = 0;
  /** The websocket listener's port, once it listens (0 without one). */
  wsPort = 0;

  // ---- Registry -----------------------------------------------------------------------------
  /** Accounts by name; `$G` always exists. */
  readonly accounts = new Map<string, Account>();
  readonly globalAccount: Account;
  readonly clients = new Map<number, Client>();
  readonly internals = new Set<InternalClient>();
  readonly stats: CoreStats = {
    inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, slowConsumers: 0, totalConnections: 0,
  };
  /** The last closed client connections (`/connz?state=closed`). */
  readonly closedClients = new ClosedRing();
  private nextCid = 1;

  // ---- Cluster ------------------------------------------------------------------------------
  /** The cluster layer, when clustering is configured. */
  cluster: ClusterHooks | null = null;
  /** Set by the cluster layer: INFO `cluster`. */
  clusterName: string | null = null;
  /** The gateway layer, when a `gateway` block is configured (src/gateway/). */
  gateway: GatewayHooks | null = null;
  /** Set by the leaf node layer: the `_GR_.` replies this server's hubs sent. */
  leafReplies: MappedReplies | null = null;

  // ---- System account -------------------------------------------------------------------------
  /** The system account (`options.systemAccount`), or null without one (operator mode without a system account). */
  readonly systemAccount: Account | null;
  /** Its CONNECT/DISCONNECT events and the `server` block of system messages; null without a system account. */
  readonly events: SystemEvents | null;
  /** Set by the system services: answers `$SYS.REQ.USER.INFO` in accounts that import it. */
  onUnanswered: UnansweredHandler | null = null;
  /** Set by the embedded backend: JetStream on, and its domain. */
  jetStreamState: () => { enabled: boolean; domain: string } = () => ({ enabled: false, domain: '' });

  /** Message fan-out. */
  private readonly router: Router;
  /** Account exports and imports; null when no account has any. */
  links: Links | null = null;

  // ---- Flush scheduling -----------------------------------------------------------------------
  private readonly pending: Flushable[] = [];
  private inRead = false;
  /** Internal publications since the read chunk began or output was last written. */
  private internalInRead = 0;
  private flushScheduled = false;
  private readonly flushHooks: Array<() => void> = [];
  private readonly flushAllBound = (): void => this.flushAll();

  /** Called when a client is closed as a slow consumer (the handle emits `slowConsumer`). */
  onSlowConsumer: ((client: Client, reason: CloseReason, pendingBytes: number) => void) | null = null;

  /**
   * @param controls the handle's test controls (they outlive this core across restarts)
   * @param faults where user-code exceptions and internal errors go
   */
  constructor(
    options: ResolvedOptions,
    readonly controls: TestControls = new TestControls(),
    readonly faults: FaultSink = DEFAULT_FAULT_SINK,
  ) {
    this.globalAccount = this.account(GLOBAL_ACCOUNT);
    for (const name of options.accountNames) this.account(name);
    this.options = options;
    this.log = new Log(options, faults.userError);
    this.random = options.seed === null ? Math.random : seededRandom(options.seed);
    this.accountJwts = options.auth?.operator === undefined ? null : new AccountJwts(options.auth.operator);
    this.auth = clientAuthenticator(options, this.accountJwts?.lookup);
    this.wsAuth = webSocketAuthenticator(options, this.accountJwts?.lookup);
    this.router = new Router(this);
    // nats-server's setSystemAccount: an internal client of the system account sends its events.
    this.systemAccount = options.systemAccount === null ? null : this.account(options.systemAccount);
    this.events = this.systemAccount === null ? null : new SystemEvents(this, this.systemAccount, this.internalClient('$SYS events', this.systemAccount));
    // After the system account: latency tracking listens there for the responders' servers' halves.
    this.setLinks(options);
  }

  // ---- SystemEventsHost ------------------------------------------------------------------------

  serverNameAndHost(): { name: string; host: string } {
    return { name: this.options.serverName ?? this.serverId, host: this.options.host };
  }

  serverTags(): readonly string[] {
    return this.options.serverTags;
  }

  /** The publisher of the message being routed (a system request's handler asks who sent it). */
  get publisher(): Publisher {
    return this.router.publisher;
  }

  clientConnected(client: Client): void {
    const events = this.events;
    if (events === null) return;
    // nats-server registers the client with its account (the CONNS update) before the CONNECT event.
    events.accountConnsChanged(client.account);
    events.clientConnected(client);
  }

  clientAuthFailed(client: Client, account?: Account): void {
    this.events?.accountAuthError(client, account);
  }

  answerUnanswered(pub: Client | InternalClient, acc: Account, pa: PubArg, buf: Buffer, start: number, end: number): boolean {
    const h = this.onUnanswered;
    return h !== null && h(pub, acc, pa, buf, start, end);
  }

  /** (Re)builds the accounts' exports and imports, and the shadows of existing subscriptions. */
  private setLinks(options: ResolvedOptions): void {
    const old = this.links;
    const config = options.accountLinks;
    if (old === null && Object.keys(config).length === 0) return;
    const owners: Subscriber[] = [...this.clients.values(), ...this.internals];
    if (old !== null) {
      for (const o of owners) for (const sub of o.subs.values()) if (sub.shadows !== null) old.removeShadows(sub);
      for (const acc of this.accounts.values()) {
        acc.sublist.forEach((sub) => {
          if (sub.remote && sub.shadows !== null) old.removeShadows(sub);
        });
      }
      old.close();
    }
    // Operator mode: the imports of account JWTs that were not wired, logged as nats-server does.
    for (const l of Object.values(config)) {
      for (const sk of l.skipped ?? []) {
        if (sk.error) this.log.error(sk.reason);
        else this.log.debug(sk.reason);
      }
    }
    this.links = Object.keys(config).length === 0 ? null : new Links(this, config);
    const links = this.links;
    if (links === null) return;
    for (const o of owners) {
      if (!o.account.streamImports) continue;
      for (const sub of o.subs.values()) links.addShadows(sub);
    }
    // Leaf nodes' interest (the only peer interest with shadows), all of it before any shadow is made.
    const leafSubs: RemoteSub[] = [];
    for (const acc of this.accounts.values()) {
      if (!acc.streamImports) continue;
      acc.sublist.forEach((sub) => {
        if (sub.remote && sub.route.leafKind !== undefined && !isLeafShadow(sub)) leafSubs.push(sub);
      });
    }
    for (const sub of leafSubs) links.addLeafShadows(sub);
  }

  // ---- ImportsHost (broker/imports.ts) -------------------------------------------------------

  *subscribers(): Iterable<Subscriber> {
    yield* this.clients.values();
    yield* this.internals;
  }

  routeImported(acc: Account, pa: PubArg, buf: Buffer): boolean {
    // A response that came from a route goes to local subscribers only (one hop, and no queue
    // groups: the RMSG named none), as nats-server routes anything a route brought. A leaf
    // node's request or response goes on with the leaf connection as its source (the router's
    // rules for a leaf node's message), to any queue group unless its LMSG named some
    // (processServiceImport's pmrIgnoreEmptyQueueFilter).
    const links = this.links!;
    const peer = links.fromPeer;
    const leaf = links.leaf;
    const queues = peer ? NO_QUEUES : leaf === null ? null : links.leafQueues.length > 0 ? links.leafQueues : ALL_QUEUES;
    // What an import forwards goes on to the gateways too (processServiceImport's
    // sendMsgToGateways): a leaf node's as the router sends a leaf node's message; a client's, an
    // internal client's or a gateway's response through this flag.
    const router = this.router;
    const outer = router.imported;
    router.imported = !peer && leaf === null;
    let delivered: boolean;
    try {
      delivered = router.route(null, acc, pa, buf, 0, buf.length, queues, peer ? LOCAL_ONLY : leaf);
    } finally {
      router.imported = outer;
    }
    // Not a message received: nats-server counts the publication once (in_msgs), not its import.
    this.stats.inMsgs--;
    this.stats.inBytes -= buf.length;
    return delivered;
  }

  deliverImported(sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    return this.router.deliverImported(sub, pa, buf, start);
  }

  uncountDelivery(bytes: number): void {
    this.stats.outMsgs--;
    this.stats.outBytes -= bytes;
  }

  clusterInterest(sub: Subscription, delta: 1 | -1): void {
    this.cluster?.localInterest(sub, delta);
    sub.client.account.leafInterest?.(sub, delta);
    this.gateway?.clusterInterest(sub.client.account.name, sub.subject, sub.queue, delta, sub);
  }

  leafInterest(sub: Subscription, delta: 1 | -1): void {
    sub.client.account.leafInterest?.(sub, delta);
  }

  /**
   * A leaf node's interest entered its account's sublist (leafnode.go processLeafSub): in an
   * account with stream imports, its shadows in the exporting accounts.
   */
  leafSubAdded(sub: RemoteSub): void {
    if (sub.account.streamImports) this.links!.addLeafShadows(sub);
  }

  peerInterest(sub: RemoteSub, delta: number): void {
    this.cluster?.leafInterest(sub.account.name, sub.subject, sub.queue, delta, sub.origin);
    this.gateway?.clusterInterest(sub.account.name, sub.subject, sub.queue, delta, sub);
    sub.account.leafInterest?.(sub, delta);
  }

  /**
   * A leaf node's interest left its account's sublist (LS-, the connection closed or moved to
   * another account): its shadows go, and the response routes to replies only it covered
   * (processLeafUnsub → unsubscribe: the shadows, checkForReverseEntry).
   */
  leafSubRemoved(sub: RemoteSub): void {
    if (sub.shadows !== null) this.links?.removeShadows(sub);
    if (sub.account.linked) this.links?.interestLost(sub.account, sub.subject);
  }

  /** The global account's sublist (the only one without configured accounts). */
  get sublist(): Account['sublist'] {
    return this.globalAccount.sublist;
  }

  /** The account named `name`, created on first use (configured accounts). */
  account(name: string): Account {
    let acc = this.accounts.get(name);
    if (acc === undefined) {
      acc = new Account(name);
      this.accounts.set(name, acc);
    }
    return acc;
  }

  /**
   * The lookup a CONNECT with this user JWT waits for: its account is not in the directory
   * resolver here (DirAccResolver.Fetch asks the other servers), or null to go on at once.
   */
  accountFetchFor(userJwt: string): Promise<void> | null {
    const fetcher = this.accountFetcher;
    if (fetcher === null || this.accountJwts === null) return null;
    const name = this.accountJwts.missingAccount(userJwt);
    return name === null ? null : fetcher(name);
  }

  /** Goes on with a client's input after a wait (its CONNECT's account lookup), as a read chunk is processed. */
  resumeClient(client: Client, work: () => void): void {
    if (client.closed) return;
    this.runRead(work, () => client.close(CloseReason.ProtocolViolation, false), `client ${client.cid}`);
  }

  /** The clients (not internal ones) in the account named `name` (operator mode's `conn` limit). */
  accountClients(name: string): number {
    let n = 0;
    for (const c of this.clients.values()) if (c.account.name === name && c.connectReceived && !c.closed) n++;
    return n;
  }

  /**
   * Subscriptions held in all accounts (local and remote interest), except the system account's
   * own machinery: there only client connections' subscriptions count (not the system services'
   * and clustered JetStream's internal ones, nor the peers' interest in them).
   */
  get subscriptionCount(): number {
    let n = 0;
    const sys = this.systemAccount;
    for (const a of this.accounts.values()) if (a !== sys) n += a.sublist.size;
    if (sys !== null && sys.sublist.size > 0) {
      for (const c of this.clients.values()) if (c.account === sys) n += c.subs.size;
    }
    return n;
  }

  /** A connection id: clients, internal clients and routes share one sequence, as in nats-server. */
  allocCid(): number {
    return this.nextCid++;
  }

  /** Subscriptions or connections changed: wakes `waitFor...()` calls. */
  notifyChange(): void {
    this.controls.notifyChange();
  }

  /**
   * Applies reloaded options to the running core: limits take effect for every client now.
   * `keepAccountJwts`: an account JWT update (broker/claims-service.ts), not a reload: the
   * accounts in use stay as they are (a reload looks them up in the resolver again).
   */
  applyOptions(options: ResolvedOptions, keepAccountJwts = false): void {
    for (const name of options.accountNames) this.account(name);
    // Accounts the new options no longer have: the system services forget them. A reload also
    // drops them from the server's accounts as nats-server's reloadAuthorization does with
    // configured accounts and the memory resolver's (a name configured again later is a new
    // account); a directory resolver keeps its accounts there (a deleted JWT only disables one).
    const operator = options.auth?.operator;
    const drop = !keepAccountJwts && (operator === undefined || operator.resolver === 'MEMORY');
    const names = new Set(options.accountNames);
    for (const acc of this.accounts.values()) {
      if (acc === this.globalAccount || acc === this.systemAccount || names.has(acc.name)) continue;
      this.events?.forgetAccount(acc);
      if (drop) this.accounts.delete(acc.name);
    }
    const relink = JSON.stringify(options.accountLinks) !== JSON.stringify(this.options.accountLinks);
    this.options = options;
    this.log = new Log(options, this.faults.userError);
    if (relink) this.setLinks(options);
    if (!keepAccountJwts || options.auth?.operator === undefined) {
      this.accountJwts?.close();
      this.accountJwts = options.auth?.operator === undefined ? null : new AccountJwts(options.auth.operator);
    }
    this.auth = clientAuthenticator(options, this.accountJwts?.lookup);
    this.wsAuth = webSocketAuthenticator(options, this.accountJwts?.lookup);
    for (const client of [...this.clients.values()]) {
      client.parser.maxPayload = options.maxPayload;
      client.parser.maxControlLine = options.maxControlLine;
      // As nats-server's reload: clients whose credentials no longer pass are closed, the
      // others get their (possibly new) permissions. An account JWT update re-checks its
      // account's clients itself (Client.accountUpdated).
      if (client.connectReceived && !keepAccountJwts) client.reauthenticate();
    }
    this.enforceAccountConnectionLimits();
    this.flushAll();
  }

  /**
   * After new account JWTs: an account over its (lowered) `conn` limit keeps its newest
   * connections and closes the older ones with `-ERR 'maximum account active connections
   * exceeded'` (accounts.go updateAccountClaimsWithRefresh sorts newest first and kicks past the
   * limit; seen on the wire with nats-server 2.9.10).
   */
  private enforceAccountConnectionLimits(): void {
    const byAccount = new Map<string, Client[]>();
    for (const c of this.clients.values()) {
      if (c.closed || !c.connectReceived || c.accountMaxConnections < 0) continue;
      const list = byAccount.get(c.account.name);
      if (list === undefined) byAccount.set(c.account.name, [c]);
      else list.push(c);
    }
    for (const list of byAccount.values()) {
      const max = list[0]!.accountMaxConnections;
      if (list.length <= max) continue;
      list.sort((a, b) => b.start - a.start || b.cid - a.cid);
      for (const c of list.slice(max)) c.closeOverAccountLimit();
    }
  }

  // ---- INFO ---------------------------------------------------------------------------------

  /** The INFO a client sees; without `client` the fields common to every connection. */
  info(): ServerInfo {
    return clientInfo(this);
  }

  /** `INFO {...} \r\n` as `client` sees it first (with its nonce). */
  infoFrame(client: Client): Buffer {
    return this.clientInfoFrame(client, client.nonce, false);
  }

  /**
   * An async INFO for `client` (cluster change, lame duck, lowered max_payload): nats-server
   * builds those from its server INFO, which has no nonce (sendAsyncInfoToClients).
   */
  asyncInfoFrame(client: Client, ldm = false): Buffer {
    return this.clientInfoFrame(client, null, ldm);
  }

  private clientInfoFrame(client: Client, nonce: string | null, ldm: boolean): Buffer {
    const own = client.maxPayload;
    return infoFrame(this, { cid: client.cid, ip: client.socket.remoteAddress ?? '', nonce, websocket: client.websocket, ...(own === null ? {} : { maxPayload: own }) }, ldm);
  }

  /** Pushes a fresh INFO (new connect_urls) to every client that accepts async INFO. */
  sendAsyncInfo(): void {
    for (const client of this.clients.values()) {
      if (client.acceptsAsyncInfo) client.send(this.asyncInfoFrame(client));
    }
    this.flushAll();
  }

  /** Lame duck: tells every client that accepts async INFO (protocol 1, past its first PING). */
  sendLameDuckInfo(): void {
    for (const client of this.clients.values()) {
      if (client.acceptsAsyncInfo) client.send(this.asyncInfoFrame(client, true));
    }
    this.flushAll();
  }

  // ---- Connections ----------------------------------------------------------------------------

  /**
   * Registers a new client (the listeners' accept functions make it, see accept.ts): enforces
   * max_connections (nats-server sends INFO first, then the error, then closes) and pauses it
   * while the server is paused.
   */
  register(client: Client): void {
    if (this.clients.size >= this.options.maxConnections) {
      client.sendErrAndClose(ERR.MaxConnections, CloseReason.MaxConnections);
    } else {
      this.clients.set(client.cid, client);
      this.stats.totalConnections++;
      if (this.controls.paused) client.socket.pause();
    }
    this.flushAll();
    this.notifyChange();
  }

  /** Feeds a client's read chunk (a bug closes that client only). */
  onData(client: Client, chunk: Buffer): void {
    this.runRead(() => client.onData(chunk), () => client.close(CloseReason.ProtocolViolation, false), `client ${client.cid}`);
  }

  /** A new internal client in `account` (default `$G`): subscribes and publishes without a socket. */
  internalClient(name: string, account: Account = this.globalAccount): InternalClient {
    const client = new InternalClient(this, this.allocCid(), account, name);
    this.internals.add(client);
    return client;
  }

  /**
   * Runs the processing of one read chunk, then flushes every connection it queued output
   * for. A bug must cost one connection (`onError`), never the process or other clients.
   */
  runRead(work: () => void, onError: () => void, who: string): void {
    this.inRead = true;
    this.internalInRead = 0;
    try {
      work();
    } catch (err) {
      this.router.reset();
      this.internalError(err, `closed ${who}`);
      onError();
    } finally {
      this.inRead = false;
    }
    this.flushAll();
  }

  /** Counts and reports a bug of the broker's own; `what` says what it was doing and what it did. */
  internalError(err: unknown, what: string): void {
    this.controls.internalErrors++;
    this.faults.internalError(err, what);
  }

  // ---- Subscriptions ------------------------------------------------------------------------

  subscribe(client: Client, subject: string, queue: string | null, sid: string): void {
    const perms = client.perms;
    if (queue === SYS_QUEUE || (perms !== null && !perms.canSubscribe(subject, queue))) {
      return client.sendErr(errSubViolation(subject, queue));
    }
    // A user JWT's limit (with the account's and the server's: client.go applyAccountLimits) or the server's.
    const own = client.maxSubs;
    const max = this.options.maxSubscriptions;
    if (own !== null ? own !== -1 && client.subs.size >= own : max > 0 && client.subs.size >= max) return client.sendErr(ERR.MaxSubscriptions);
    if (!client.subs.has(sid)) {
      if (this.addSubscription(client, subject, queue, sid) === null) return client.sendErr(ERR.InvalidSubject);
    }
    // A SUB reusing a live sid is ignored, but still acknowledged.
    if (client.connect.verbose) client.send(OK);
  }

  subscribeInternal(client: InternalClient, subject: string, queue: string | null, sid: string): Subscription {
    const sub = this.addSubscription(client, subject, queue, sid);
    if (sub === null) throw new Error(`internal client ${client.name}: invalid subject "${subject}"`);
    return sub;
  }

  /** Inserts a subscription; null when the subject is invalid. */
  private addSubscription(owner: Subscriber, subject: string, queue: string | null, sid: string): Subscription | null {
    const sub = new Subscription(owner, subject, queue, sid);
    if (!owner.account.sublist.insert(sub)) return null;
    owner.subs.set(sid, sub);
    this.cluster?.localInterest(sub, 1);
    owner.account.leafInterest?.(sub, 1);
    this.gateway?.clusterInterest(owner.account.name, subject, queue, 1, sub);
    if (owner.account.streamImports) this.links!.addShadows(sub);
    this.notifyChange();
    return sub;
  }

  unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    const subs = sub.client.subs;
    if (subs.get(sub.sid) === sub) subs.delete(sub.sid);
    if (sub.client.account.sublist.remove(sub)) this.lostInterest(sub);
    if (sub.shadows !== null) this.links?.removeShadows(sub);
    if (sub.client.account.linked) this.links?.interestLost(sub.client.account, sub.subject);
    this.notifyChange();
  }

  /** A local subscription left the sublist: the routes, leaf nodes and gateways hear of it. */
  private lostInterest(sub: Subscription): void {
    this.cluster?.localInterest(sub, -1);
    sub.client.account.leafInterest?.(sub, -1);
    this.gateway?.clusterInterest(sub.client.account.name, sub.subject, sub.queue, -1, sub);
  }

  /** Drops every subscription of a closing subscriber. */
  private dropSubscriptions(owner: Subscriber): void {
    for (const sub of owner.subs.values()) {
      sub.closed = true;
      if (owner.account.sublist.remove(sub)) this.lostInterest(sub);
      if (sub.shadows !== null) this.links?.removeShadows(sub);
      if (owner.account.linked) this.links?.interestLost(owner.account, sub.subject);
    }
    owner.subs.clear();
  }

  // ---- Routing (the router's entry points) -------------------------------------------------

  /** A message a client published. */
  routeFromClient(pub: Client, pa: PubArg, buf: Buffer, start: number, end: number): void {
    const acc = pub.account;
    // An answer to a request that crossed a gateway with a `_GR_.` reply goes straight back (the
    // client is stalled if that gateway connection is backed up, as handleGWReplyMap's client).
    if (this.gateway !== null && this.gateway.tracksReplies) {
      const armed = this.router.armStall(true);
      const mapped = this.gateway.mappedReply(acc, pa, buf, start);
      this.router.armStall(armed);
      if (mapped) return;
    }
    // An answer to a request a hub brought with a `_GR_.` reply goes back on that subject.
    if (this.leafReplies !== null && this.leafReplies.active) this.mapLeafReply(acc, pa);
    if (acc.linked) return this.routeLinkedFromClient(pub, acc, pa, buf, start, end);
    this.router.route(pub, acc, pa, buf, start, end, null, null);
  }

  private mapLeafReply(acc: Account, pa: PubArg): void {
    const routed = this.leafReplies!.routed(acc, pa.subject);
    if (routed !== null) pa.subject = routed;
  }

  /**
   * A message a peer server sent: to local subscribers only (one hop), and to local members of
   * the queue groups in `queues` only.
   */
  routeFromPeer(source: RouteTarget, account: Account, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    if (this.gateway !== null) this.gateway.unmapRouted(account, pa);
    if (account.linked) return this.routeLinkedFromPeer(source, account, pa, queues, buf, start, end);
    this.router.route(null, account, pa, buf, start, end, queues, source);
  }

  /**
   * {@link routeFromClient} in an account with exports or imports: Nats-Request-Info of a
   * request crossing a service import carries the requester's RTT (internal publishers have
   * none), and latency measurements name the publisher as requester or responder.
   * Kept apart so that the common path stays small.
   */
  private routeLinkedFromClient(pub: Client, acc: Account, pa: PubArg, buf: Buffer, start: number, end: number): void {
    const links = this.links!;
    links.publisher = pub;
    // The response to a request a route brought for a tracked service (latency measurement).
    if (links.remoteTracking > 0) links.clientMessage(pub, acc, pa.subject);
    let ok = false;
    this.router.hold();
    try {
      this.router.route(pub, acc, pa, buf, start, end, null, null);
      ok = true;
    } finally {
      links.publisher = null;
      // Internal publications caused by this message are routed now, without the flag.
      if (ok) this.router.release();
    }
  }

  /**
   * {@link routeFromPeer} in an account with exports or imports: service imports take requests
   * where they are published, not from routes; a leaf node's requests cross them
   * (processServiceImport returns early for ROUTER and GATEWAY only).
   */
  private routeLinkedFromPeer(source: RouteTarget, account: Account, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    const links = this.links!;
    const fromLeaf = source.leafKind !== undefined;
    // A request with a tracked reply (`.T`): this server may be the responder's (latency
    // measurement; deliverMsg tracks it for any kind but CLIENT).
    if (pa.reply !== '') links.peerMessage(account, pa.subject, pa.reply);
    if (fromLeaf) {
      links.leaf = source;
      links.leafQueues = queues;
    } else {
      links.fromPeer = true;
    }
    let ok = false;
    this.router.hold();
    try {
      this.router.route(null, account, pa, buf, start, end, queues, source);
      ok = true;
    } finally {
      links.fromPeer = false;
      links.leaf = null;
      links.leafQueues = NO_QUEUES;
      if (ok) this.router.release();
    }
  }

  /**
   * A message a remote cluster sent through a gateway: to this cluster's subscribers (local, and
   * through the routes), to the queue groups in `queues` only, and to no other gateway.
   */
  routeFromGateway(account: Account, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): boolean {
    if (account.linked) return this.routeLinkedFromGateway(account, pa, queues, buf, start, end);
    return this.router.route(null, account, pa, buf, start, end, queues, null);
  }

  /**
   * {@link routeFromGateway} in an account with exports or imports: a request from another
   * cluster does not cross this cluster's service imports (processServiceImport returns early
   * for GATEWAY); the cluster where it was published forwarded it already, through the gateways
   * too when a leaf node sent it.
   */
  private routeLinkedFromGateway(account: Account, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): boolean {
    const links = this.links!;
    links.fromGateway = true;
    let ok = false;
    let delivered = false;
    this.router.hold();
    try {
      delivered = this.router.route(null, account, pa, buf, start, end, queues, null);
      ok = true;
    } finally {
      links.fromGateway = false;
      if (ok) this.router.release();
    }
    return delivered;
  }

  /** Queues an internal client's message; it is routed once the routing in progress is over. */
  publishInternal(client: InternalClient, subject: string, reply: string, headers: Buffer | null, data: Buffer, deliver?: string, once?: boolean): void {
    // An answer to a request that came from another cluster with a `_GR_.` reply goes straight back.
    if (this.gateway !== null && this.gateway.tracksReplies && this.gateway.mappedInternal(client.account, subject, reply, headers, data, deliver ?? '')) return;
    this.router.publishInternal(client, subject, reply, headers, data, deliver, once);
  }

  // ---- Flushing -----------------------------------------------------------------------------

  /** Remembers that `c` has queued output; it is written once per read chunk. */
  markForFlush(c: Flushable): void {
    if (c.flushQueued) return;
    c.flushQueued = true;
    this.pending.push(c);
    if (!this.inRead && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushAllBound);
    }
  }

  /**
   * Runs `hook` at the start of every {@link flushAll}, before any connection is written (the
   * JetStream file stores write their pending records there). It must not throw. Returns its
   * remover.
   */
  addFlushHook(hook: () => void): () => void {
    this.flushHooks.push(hook);
    return () => {
      const i = this.flushHooks.indexOf(hook);
      if (i >= 0) this.flushHooks.splice(i, 1);
    };
  }

  get maxPending(): number {
    return this.options.maxPending;
  }

  takeStall(): { target: Backlogged; ms: number } | null {
    return this.router.takeStall();
  }

  /** A message of the publisher being routed went to the gateway connection `conn` ({@link Router.checkBacklog}). */
  checkBacklog(conn: Backlogged): void {
    this.router.checkBacklog(conn);
  }

  /**
   * After an internal publication (a stream's PubAck): {@link flushAll} at once outside a read
   * chunk; inside one (`runRead` flushes at its end), after the first
   * {@link INTERNAL_FIRST_FLUSH} publications, then every {@link INTERNAL_FLUSH_EVERY}, so that a
   * publisher with many messages in flight gets its first acks while the rest of the chunk is
   * processed, and sends more meanwhile (nats-server acks as it goes).
   */
  flushOutsideRead(): void {
    if (!this.inRead) return this.flushAll();
    const n = ++this.internalInRead;
    if (n === INTERNAL_FIRST_FLUSH || n % INTERNAL_FLUSH_EVERY === 0) this.flushAll();
  }

  /** Writes out every connection with queued output. */
  flushAll(): void {
    this.flushScheduled = false;
    const hooks = this.flushHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i]();
    const pending = this.pending;
    for (let i = 0; i < pending.length; i++) pending[i].flush();
    pending.length = 0;
  }

  // ---- Connection end -----------------------------------------------------------------------

  /** Drops `client` without flushing (nats-server sends no -ERR to a slow consumer). */
  slowConsumer(client: Client, reason: CloseReason): void {
    if (client.closed) return;
    const pendingBytes = client.pendingBytes;
    this.stats.slowConsumers++;
    client.close(reason, false);
    this.onSlowConsumer?.(client, reason, pendingBytes);
  }

  /** Called by `Client.close()`: records it as closed, drops its subscriptions and registration. */
  removeClient(client: Client): void {
    const events = this.events;
    events?.clientClosed(client, client.closeReason ?? '');
    // client.go authViolation: every connection closed for an authentication failure.
    if (client.closeReason === CloseReason.AuthViolation) events?.authError(client);
    this.closedClients.record(client.snapshot(), client.closeReason ?? '');
    this.dropSubscriptions(client);
    this.clients.delete(client.cid);
    // client.go closeConnection: a client closed by the shutdown (lame duck mode's too) skips the
    // account's accounting, so no CONNS update.
    if (client.connectReceived && client.closeReason !== CloseReason.ServerShutdown) events?.accountConnsChanged(client.account);
    this.notifyChange();
  }

  /** Called by `InternalClient.close()`. */
  removeInternal(client: InternalClient): void {
    this.dropSubscriptions(client);
    this.internals.delete(client);
    this.notifyChange();
  }
}

export type { ServerInfo } from './info.js';
export type { TappedMessage, DropRule } from './controls.js';
