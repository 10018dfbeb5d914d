/**
 * Accounts and what their sublists hold. An account is a subject space: a message published in
 * one never reaches a subscription in another. `$G` is the global account of every client not
 * assigned to one. A sublist entry is either a local subscription — of a client connection or
 * of an internal subscriber living in this process — or interest a peer server announced.
 */
import { Sublist } from '../subject/sublist.js';
import type { PubArg } from '../protocol/parser.js';
import type { Permissions } from '../auth/permissions.js';

/** The global account's name (nats-server's `$G`). */
export const GLOBAL_ACCOUNT = '$G';

export class Account {
  readonly sublist = new Sublist<AnySub>();
  /** It has stream imports: its new subscriptions get shadows in the exporting accounts (broker/imports.ts). */
  streamImports = false;
  /** It has exports or imports (broker/imports.ts). */
  linked = false;
  /**
   * Leaf nodes (leaf/): told of every change to this account's interest — local subscriptions,
   * routes' and leaf nodes' — while the account has leaf node connections; null otherwise.
   * `delta` is +1/-1, or a queue weight's change.
   */
  leafInterest: ((sub: AnySub, delta: number) => void) | null = null;
  constructor(readonly name: string) {}
}

/**
 * What holds local subscriptions and receives their messages: a client connection, or an
 * internal subscriber (no socket: JetStream's API handlers, system request handlers).
 */
export interface Subscriber {
  readonly cid: number;
  readonly account: Account;
  /** False: messages this subscriber publishes are not delivered back to it (CONNECT `echo`). */
  readonly echo: boolean;
  readonly closed: boolean;
  /** Subscribe permissions checked at delivery (deny lists), or null. */
  readonly perms: Permissions | null;
  /** Its subscriptions by sid. */
  readonly subs: Map<string, Subscription>;
  /**
   * Takes `pa`'s message (payload `buf[start, start + pa.size)`) for `sub`. Returns false when it could not
   * (the subscriber was closed as a slow consumer meanwhile).
   */
  deliver(sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean;
  /** allow_responses: a delivered message carried `reply`, which may now be answered. */
  allowReply(reply: string): void;
}

/** A subscription of a local subscriber. */
export class Subscription {
  readonly remote = false;
  /** Messages delivered so far. */
  nm = 0;
  /** Auto-unsubscribe limit; 0 means none. */
  max = 0;
  closed = false;
  /** Its twins in accounts it imports streams from (broker/imports.ts), or null. */
  shadows: Subscription[] | null = null;

  constructor(
    readonly client: Subscriber,
    readonly subject: string,
    readonly queue: string | null,
    readonly sid: string,
  ) {}
}

/**
 * This server's role on a leaf node connection (leaf/): `ACCEPTED` as the hub (the peer is a leaf
 * node of this server: it dialled in, or this server dialled it with `hub: true`), `SOLICITED` as
 * the leaf node (the peer is this server's hub).
 */
export const LeafKind = { ACCEPTED: 1, SOLICITED: 2 } as const;
export type LeafKind = (typeof LeafKind)[keyof typeof LeafKind];

/** A peer connection a publisher may be stalled for: how much is queued for it, and whether it closed. */
export interface Backlogged {
  readonly pendingBytes?: number;
  readonly closed?: boolean;
}

/**
 * Whether `target` holds more than three quarters of `maxPending` queued: a client publishing into
 * it is stalled until it no longer does (client.go queueOutbound's stall channel).
 */
export function backedUp(target: Backlogged, maxPending: number): boolean {
  return (target.pendingBytes ?? 0) > (maxPending / 4) * 3;
}

/** Where a message goes when it leaves this server (a route connection, or a leaf node connection). */
export interface RouteTarget {
  /** Set on leaf node connections only (the router's rules differ from routes'). */
  readonly leafKind?: LeafKind;
  /** A leaf node connection's peer cluster ('' for none): no message or interest of that cluster goes back to it. */
  readonly remoteCluster?: string;
  /** The connection's round-trip time in ns, 0 before the first PONG (a leaf node's request crossing a service import carries it). */
  readonly rttNs?: number;
  /** Sends one RMSG/HMSG carrying `pa`'s message and the queue groups chosen for that server. */
  sendMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number): void;
  /** Bytes queued for the peer and not yet written (a publisher is stalled when it is high). */
  readonly pendingBytes?: number;
  /** The connection is closed (a publisher stalled for it reads again). */
  readonly closed?: boolean;
}

/** Interest a peer server announced (RS+): lives in the sublist beside local subscriptions. */
export class RemoteSub {
  readonly remote = true;
  /** A leaf node's interest in an account with stream imports: its twins in the exporting accounts (broker/imports.ts), or null. */
  shadows: RemoteSub[] | null = null;
  constructor(
    readonly route: RouteTarget,
    readonly subject: string,
    readonly queue: string | null,
    /** Queue weight: how many members the peer has in the group (1 for plain interest). */
    public weight: number,
    readonly account: Account,
    /**
     * The leaf node cluster the interest comes from (nats-server's `sub.origin`): a leaf node
     * connection's peer cluster, or a route's `LS+ <origin> ...`. '' for none.
     */
    readonly origin: string = '',
  ) {}
}

/** A sublist entry: a local subscription or a peer's interest. */
export type AnySub = Subscription | RemoteSub;
