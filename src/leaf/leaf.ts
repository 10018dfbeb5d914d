/**
 * One leaf node connection (nats-server 2.10 server/leafnode.go): accepted on the leaf node
 * listener (this server is the hub, the peer a leaf node) or dialled to a remote (this server is
 * the leaf node, the peer its hub). It is bound to one account: its interest (LS+/LS-) lives in
 * that account's sublist as a peer's, its messages (LMSG/HMSG) are routed there. What it sends
 * the peer of this server's interest is its `smap`, kept by {@link LeafConn.updateSmap} with
 * leafnode.go's updateSmap rules. Handshake decisions (authentication, binding, registration)
 * belong to its {@link LeafHost}, the leaf node manager.
 */
import { RouteParser, ROUTE_MAX_CONTROL_LINE, type RouteSink } from '../protocol/route-parser.js';
import type { PubArg } from '../protocol/parser.js';
import { DEFAULTS, PONG, encodeErr } from '../protocol/constants.js';
import { leafSubFrame } from '../protocol/leaf-encode.js';
import { LEAF_CONNECT_STRUCTS, PEER_INFO, parseJsonObject } from '../protocol/go-json.js';
import { subjectMatches } from '../subject/subject.js';
import type { Transport } from '../io/transport.js';
import { LeafKind, RemoteSub, type Account, type AnySub, type RouteTarget } from '../broker/account.js';
import { CloseReason } from '../broker/close-reason.js';
import { Connection, type ConnectionHost } from '../broker/connection.js';
import type { Permissions } from '../auth/permissions.js';

/** Loop detection subjects (leafnode.go leafNodeLoopDetectionSubjectPrefix). */
export const LDS_PREFIX = '$LDS.';
/** What a server with gateways announces to every leaf connection (gateway.go gwReplyPrefix + `>`, oldGWReplyPrefix + `*.>`). */
const GATEWAY_REPLY_SUBJECTS = ['$GR.*.>', '_GR_.>'] as const;

/**
 * nats-server 2.10 denies (publish and subscribe) JetStream's API, KV and object store subjects
 * on every leaf connection of an account other than the system account (leafnode.go
 * addLeafNodeConnection merges `denyAllClientJs`: `$JS.API.>`, `$KV.>`, `$OBJ.>`): without
 * JetStream domains, JetStream does not reach across a leaf connection.
 */
export function deniedAcrossLeaf(subject: string): boolean {
  return subject.charCodeAt(0) === 0x24 /* $ */ && (subject.startsWith('$JS.API.') || subject.startsWith('$KV.') || subject.startsWith('$OBJ.'));
}

/** What a leaf connection needs of the leaf node manager (and, through it, of the broker). */
export interface LeafHost extends ConnectionHost {
  allocCid(): number;
  /** The peer's INFO (first or later). */
  onLeafInfo(conn: LeafConn, info: Record<string, unknown>): void;
  /** An accepted connection's CONNECT. */
  onLeafConnect(conn: LeafConn, connect: Record<string, unknown>): void;
  /** The peer sent -ERR. */
  onLeafErr(conn: LeafConn, text: string): void;
  /** The peer's LS+ on a subject its user may not subscribe to. */
  onLeafPermViolation(conn: LeafConn, subject: string): void;
  /** The account's loop detection subject. */
  loopSubject(acc: Account): string;
  /** The peer announced (or withdrew: negative `delta`) interest; `sub` is in the account's sublist (or just left it). */
  onLeafInterest(conn: LeafConn, sub: RemoteSub, delta: number): void;
  /** `sub` entered (`added`) or left the account's sublist: its stream imports' shadows follow it. */
  onLeafSub(sub: RemoteSub, added: boolean): void;
  /** Routes a message the peer sent. */
  routeFromLeaf(conn: LeafConn, acc: Account, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void;
  onLeafClosed(conn: LeafConn, reason: CloseReason): void;
}

export class LeafConn extends Connection implements RouteSink, RouteTarget {
  readonly parser = new RouteParser(this, ROUTE_MAX_CONTROL_LINE, true);
  readonly cid: number;
  /** The account this connection is bound to (a solicited one from the start; an accepted one at CONNECT). */
  account: Account | null = null;
  /** Registered: bound, interest exchanged, counted in /leafz. */
  registered = false;
  /** The peer's interest, by `subject` or `subject queue`. */
  readonly remoteSubs = new Map<string, RemoteSub>();
  /** What this server announced to the peer: `subject[ queue]` → count (queue: total weight). Null until registered. */
  smap: Map<string, number> | null = null;
  /** The peer accepts HMSG. */
  headers = false;
  /** The peer's server name (INFO or CONNECT `name`), its cluster and its account name there. */
  remoteName = '';
  remoteCluster = '';
  remoteAccount = '';
  /** Nonce this server sent in INFO (accepted), or the hub's (solicited). */
  nonce = '';
  /** The first INFO came (solicited). */
  infoReceived = false;
  /** The user it authenticated as (accepted), for /leafz. */
  user = '';
  /** Bound to an account other than the system account: JetStream's subjects are denied ({@link deniedAcrossLeaf}). */
  denyJs = true;
  /** Subjects (patterns) no message goes out on: a remote's `deny_exports`, or the leaf node's CONNECT `deny_pub`. */
  denyOut: readonly string[] | null = null;
  /** Subjects (patterns) this side announces no interest in: a remote's `deny_imports`. */
  denyIn: readonly string[] | null = null;
  /**
   * The permissions of the user an accepted leaf node authenticated as (auth.go
   * RegisterUser), enforced from the hub's side as nats-server swaps them
   * (processLeafNodeConnect): the user's publish lists say what the leaf node may send in
   * (the interest announced to it, its LMSG), its subscribe lists what it may receive (its
   * LS+, the messages sent to it). On a leaf node's side, its hub's INFO `import`/`export`,
   * held swapped (publish = import) so that the same checks apply. Null: no limits.
   */
  perms: Permissions | null = null;
  /** Accepted over a websocket (`/leafnode`): a LEAFNODE_WS connection type. */
  websocket = false;

  constructor(
    protected override readonly host: LeafHost,
    socket: Transport,
    /**
     * This server's role on the connection: `ACCEPTED` as the hub, `SOLICITED` as the leaf node
     * (spoke). A dialled connection is the spoke unless its remote says `hub: true`; an accepted
     * one is the hub unless the peer's CONNECT says `hub: true` (set before registration).
     */
    public leafKind: LeafKind,
    /** The remote's index in `leafnodes.remotes` (solicited), else -1. */
    readonly remoteIndex: number,
  ) {
    super(host, socket);
    this.cid = host.allocCid();
    socket.setNoDelay(true);
  }

  /** True on the leaf node's side (the peer is this server's hub): nats-server's isSpokeLeafNode. */
  get isSpoke(): boolean {
    return this.leafKind === LeafKind.SOLICITED;
  }

  /** This server dialled it (one of its remotes): nats-server's isSolicitedLeafNode. */
  get solicited(): boolean {
    return this.remoteIndex >= 0;
  }

  /** Closes the connection if nothing binds it within `ms` (an accepted connection's CONNECT, a solicited one's INFO). */
  startAuthTimer(ms: number, text: string): void {
    this.startAuthTimeout(ms, text, () => this.registered);
  }

  clearAuthTimer(): void {
    this.clearAuthTimeout();
  }

  /**
   * Starts liveness (nats-server's setFirstPingTimer after registration): the ping interval, at
   * most 1 s, plus up to 20%.
   */
  startPings(): void {
    this.startPeerPings(Math.min(this.host.options.pingIntervalMs, DEFAULTS.routeFirstPingMs));
  }

  onData(chunk: Buffer): void {
    const msgsBefore = this.inMsgs;
    this.parser.parse(chunk);
    if (this.inMsgs !== msgsBefore) this.lastActivity = Date.now();
  }

  // ---- Interest sent to the peer (leafnode.go updateSmap) --------------------------------------

  /**
   * A change of this server's interest in the bound account: announced to the peer when it
   * changes what the peer must know (0↔1 for plain interest; every change of a queue's total
   * weight). A spoke (this server is the leaf) announces only its own clients' interest and its
   * own leaf nodes', never its cluster's; a connection never gets its own interest back, nor
   * interest whose origin is its peer's cluster (leafnode.go updateLeafNodes and
   * initLeafNodeSmapAndSendSubs: a leaf cluster attached through several servers does not get
   * its own interest back through the hub cluster); loop detection subjects always travel.
   */
  updateSmap(sub: AnySub, delta: number): void {
    const smap = this.smap;
    if (smap === null || delta === 0) return;
    if (sub.remote && sub.route === this) return;
    if (!this.sendable(sub)) return;
    const key = sub.queue === null ? sub.subject : `${sub.subject} ${sub.queue}`;
    const n = smap.get(key) ?? 0;
    if (delta < 0 && n === 0) return;
    const after = n + delta;
    const update = sub.queue !== null || (n <= 0 && after > 0) || (n > 0 && after <= 0);
    if (after > 0) smap.set(key, after);
    else smap.delete(key);
    if (update) this.sendText(leafSubFrame(key, sub.queue !== null, after));
  }

  /** Whether `sub` is interest this connection announces (see {@link updateSmap}). */
  sendable(sub: AnySub): boolean {
    if (sub.remote && (sub.route === this || (sub.origin !== '' && sub.origin === this.remoteCluster))) return false;
    if (this.denyJs && deniedAcrossLeaf(sub.subject)) return false;
    // canSubscribe: a deny entry matching the subscription's subject, its wildcards read as tokens.
    if (this.denyIn !== null && deniedBy(this.denyIn, sub.subject)) return false;
    if (this.perms !== null && !permsExempt(sub.subject) && !this.perms.leafMayPublish(sub.subject)) return false;
    if (!this.isSpoke || sub.subject.startsWith(LDS_PREFIX)) return true;
    return !sub.remote || sub.route.leafKind === LeafKind.ACCEPTED;
  }

  /**
   * nats-server's initLeafNodeSmapAndSendSubs: every interest of the account, at once, the loop
   * detection subject, and with `gatewayReplies` (this server has gateways) the prefixes of
   * replies mapped across gateways, `_GR_.>` and the old `$GR.*.>`.
   */
  sendAllInterest(subs: readonly AnySub[], lds: string, gatewayReplies = false): void {
    const smap = new Map<string, number>();
    for (const sub of subs) {
      if (!this.sendable(sub)) continue;
      const key = sub.queue === null ? sub.subject : `${sub.subject} ${sub.queue}`;
      const w = sub.remote && sub.queue !== null ? sub.weight : 1;
      smap.set(key, (smap.get(key) ?? 0) + w);
    }
    smap.set(lds, (smap.get(lds) ?? 0) + 1);
    if (gatewayReplies) {
      for (const key of GATEWAY_REPLY_SUBJECTS) smap.set(key, (smap.get(key) ?? 0) + 1);
    }
    this.smap = smap;
    let batch = '';
    for (const [key, n] of smap) {
      batch += leafSubFrame(key, key.includes(' '), n);
      if (batch.length > 64 * 1024) {
        this.sendText(batch);
        batch = '';
      }
    }
    if (batch.length > 0) this.sendText(batch);
  }

  // ---- RouteSink -------------------------------------------------------------------------------

  onInfo(json: string): void {
    const info = parseJsonObject(json, PEER_INFO);
    if (info === null) return this.close(CloseReason.ProtocolViolation);
    this.host.onLeafInfo(this, info);
  }

  onConnect(json: string): void {
    if (this.solicited) return this.close(CloseReason.ProtocolViolation);
    const opts = this.peerConnect(json, LEAF_CONNECT_STRUCTS);
    if (opts !== null) this.host.onLeafConnect(this, opts);
  }

  onPing(): void {
    this.send(PONG);
  }

  onPong(): void {
    this.pongReceived();
  }

  onErr(text: string): void {
    this.host.onLeafErr(this, text);
  }

  onSubInterest(_account: string, subject: string, queue: string | null, weight: number, _origin: string): void {
    const acc = this.account;
    // processLeafSub: nothing is inserted for a closed connection (e.g. closed by a permission
    // violation while a second CONNECT's interest is announced again in its new account).
    if (acc === null || !this.registered || this.closed) return;
    this.lastActivity = Date.now();
    // processLeafSub: our own loop detection subject coming back means a cycle.
    if (subject.startsWith(LDS_PREFIX) && subject === this.host.loopSubject(acc)) {
      return this.sendErrAndClose(loopError(acc.name), CloseReason.ProtocolViolation);
    }
    // The peer may not subscribe to JetStream's subjects here (nats-server drops them too).
    if (this.denyJs && deniedAcrossLeaf(subject)) return;
    // processLeafSub: a literal subject the user may not subscribe to is a permissions
    // violation (a wildcard passes; deliveries are filtered instead).
    if (this.perms !== null && !this.isSpoke && !permsExempt(subject) && !hasWildcard(subject) && !this.perms.leafMayReceive(subject)) {
      return this.host.onLeafPermViolation(this, subject);
    }
    const key = queue === null ? subject : `${subject} ${queue}`;
    const existing = this.remoteSubs.get(key);
    if (existing !== undefined) {
      // A queue's weight is replaced (a new total), not added.
      if (queue === null) return;
      const delta = weight - existing.weight;
      existing.weight = weight;
      if (delta !== 0) this.host.onLeafInterest(this, existing, delta);
      return;
    }
    // Its origin is the peer's cluster: no other leaf node connection of that cluster gets it.
    const sub = new RemoteSub(this, subject, queue, queue === null ? 1 : Math.max(weight, 1), acc, this.remoteCluster);
    if (!acc.sublist.insert(sub)) {
      this.send(encodeErr('Invalid Subscription'));
      return;
    }
    this.remoteSubs.set(key, sub);
    this.host.onLeafSub(sub, true);
    this.host.onLeafInterest(this, sub, sub.weight);
  }

  onUnsubInterest(_account: string, subject: string, queue: string | null, _leaf: boolean): void {
    const key = queue === null ? subject : `${subject} ${queue}`;
    const sub = this.remoteSubs.get(key);
    if (sub === undefined) return;
    this.lastActivity = Date.now();
    this.remoteSubs.delete(key);
    sub.account.sublist.remove(sub);
    this.host.onLeafSub(sub, false);
    this.host.onLeafInterest(this, sub, -sub.weight);
  }

  onRoutedMsg(_account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    const acc = this.account;
    if (acc === null || !this.registered) return;
    pa.deliver = '';
    // Its origin is the peer's cluster (nats-server's leafOrigin): it goes back to no leaf node
    // connection of that cluster, and routes carry it as `LMSG <origin> …`.
    pa.origin = this.remoteCluster;
    if (this.denyJs && deniedAcrossLeaf(pa.subject)) return;
    // A subject the user may not publish to: the hub never announced interest there, so a
    // nats-server leaf node does not send it; one that sends anyway is not routed (nats-server
    // 2.10 has no check of its own at this point: stricter here, without an answer).
    if (this.perms !== null && !permsExempt(pa.subject) && !this.perms.canPublish(pa.subject)) return;
    this.inMsgs++;
    this.inBytes += end - start;
    this.host.routeFromLeaf(this, acc, pa, queues, buf, start, end);
  }

  /**
   * nats-server's parser answers an unknown op with `-ERR 'Unknown Protocol Operation'`; bad
   * arguments of a known one (LS+, LMSG) close the connection without a word (seen on the wire
   * with 2.9.10).
   */
  onParseError(detail: string): void {
    if (detail.startsWith('unknown op')) this.send(encodeErr('Unknown Protocol Operation'));
    this.close(CloseReason.ProtocolViolation);
  }

  // ---- RouteTarget -----------------------------------------------------------------------------

  /** `LMSG <subject> [reply | + reply q… | | q…] <size>` (HMSG with headers). */
  sendMsg(_account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number): void {
    if (this.closed) return;
    // A wildcard subscription of the peer (`>`) does not take JetStream's subjects either.
    if (this.denyJs && deniedAcrossLeaf(pa.deliver === '' ? pa.subject : pa.deliver)) return;
    if (this.denyOut !== null && deniedBy(this.denyOut, pa.deliver === '' ? pa.subject : pa.deliver)) return;
    // deliverMsg: nothing the user may not receive goes to its leaf node.
    if (this.perms !== null && !this.perms.leafMayReceive(pa.deliver === '' ? pa.subject : pa.deliver)) return;
    // A JetStream delivery travels on its delivery subject, the stored subject after '@' in the reply.
    const subject = pa.deliver === '' ? pa.subject : pa.deliver;
    // A request from another cluster keeps its mapped `_GR_.` reply (as routes carry it): the
    // answer comes back through the hub's `_GR_.>` interest and goes straight to that cluster.
    const reply = pa.gwReply !== '' ? pa.gwReply : pa.deliver === '' || pa.reply === '' ? pa.reply : `${pa.reply}@${pa.subject}`;
    this.queuePeerMsg(null, subject, reply, queues, pa, buf, start, this.headers);
  }

  // ---- Liveness and closing ----------------------------------------------------------------------

  protected onPingTimer(): void {
    // The ping interval as it is: nats-server's adjustPingInterval caps only routes' and gateways'.
    this.peerPingTimer(Number.MAX_SAFE_INTEGER);
  }

  close(reason: CloseReason, flush = true): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.parser.stop();
    this.closeTransport(flush);
    this.host.onLeafClosed(this, reason);
  }
}

/**
 * Subjects nats-server never checks against a leaf user's permissions: the loop detection
 * subjects and gateway replies (`$LDS.`, `_GR_.`, `$GR.`).
 */
function permsExempt(subject: string): boolean {
  const c = subject.charCodeAt(0);
  if (c !== 0x24 /* $ */ && c !== 0x5f /* _ */) return false;
  return subject.startsWith(LDS_PREFIX) || subject.startsWith('_GR_.') || subject.startsWith('$GR.');
}

function hasWildcard(subject: string): boolean {
  for (const t of subject.split('.')) if (t === '*' || t === '>') return true;
  return false;
}

/** Whether a deny list (subject patterns) matches `subject`. */
function deniedBy(deny: readonly string[], subject: string): boolean {
  for (let i = 0; i < deny.length; i++) if (subjectMatches(deny[i], subject)) return true;
  return false;
}

/** leafnode.go handleLeafNodeLoop's error text (the delay is nats-server's 30 s). */
export function loopError(account: string): string {
  return `Loop detected for leafnode account=${JSON.stringify(account)}. Delaying attempt to reconnect for 30s`;
}
