/**
 * What the broker core needs of the gateway layer (src/gateway/), stated by the core so that it
 * never imports that layer: `GatewayManager` implements it and registers itself with the core
 * (`core.gateway`). Null when no `gateway` block is configured: the hot path then pays one
 * null check.
 */
import type { PubArg } from '../protocol/parser.js';
import type { Account, AnySub, RouteTarget } from './account.js';

export interface GatewayHooks {
  /**
   * Interest in this cluster changed: a local subscription or an accepted leaf node's LS± (`sub`
   * set: a plain one is kept 2 s for the reply mapping), or a route peer's RS± (`sub` null) was
   * added or removed (`delta` +1/-1, or a leaf node's queue weight change). Inbound gateways hear
   * of the first and the last (nats-server's gatewayUpdateSubInterest).
   */
  clusterInterest(account: string, subject: string, queue: string | null, delta: number, sub: AnySub | null): void;
  /**
   * Sends a message to the remote clusters with interest (nats-server's sendMsgToGateways): one a
   * client or an internal client of this server published (`source` null), or one a leaf node
   * sent (`source` that connection; only the queue groups its LMSG named, `leafQueues`, may go
   * on). `qsubs` are the queue groups of the local match: those were served in this cluster
   * (unless the source's own members were all it had). True when it went to at least one.
   */
  sendToGateways(acc: Account, pa: PubArg, buf: Buffer, start: number, qsubs: readonly (readonly AnySub[])[], source: RouteTarget | null, leafQueues: readonly string[] | null): boolean;
  /**
   * Adds to `into` the remote clusters' interest in `acc` that the outbound gateways know (the
   * interest-only mode's subscriptions and the queue groups), as entries a hub announces to a
   * new leaf node (leafnode.go initLeafNodeSmapAndSendSubs); later changes reach the leaf
   * connections through `Account.leafInterest`.
   */
  remoteInterestForLeaf(acc: Account, into: AnySub[]): void;
  /** Whether another cluster has interest in `subject` (an outbound gateway would take it, or it is a tracked reply). */
  remoteInterest(acc: Account, subject: string): boolean;
  /** True while a tracked `_GR_` reply mapping may apply ({@link mappedReply}). */
  readonly tracksReplies: boolean;
  /**
   * A client publishes on `pa.subject`: when it answers a request that came with a `_GR_.` reply
   * (tracked for 2 s), the answer goes straight back to the origin cluster. True when it did.
   */
  mappedReply(acc: Account, pa: PubArg, buf: Buffer, start: number): boolean;
  /**
   * {@link mappedReply} for an internal client's publication (a JetStream answer or delivery to
   * a tracked reply, `deliver` its delivery subject). True when it was sent.
   */
  mappedInternal(acc: Account, subject: string, reply: string, headers: Buffer | null, data: Buffer, deliver: string): boolean;
  /**
   * A route peer's message: a `_GR_.` subject (a reply for this server) loses its prefix; a
   * `_GR_.` reply (a request from another cluster) is tracked and delivered as the plain reply.
   */
  unmapRouted(acc: Account, pa: PubArg): void;
}
