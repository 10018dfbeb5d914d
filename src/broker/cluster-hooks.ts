/**
 * What the broker core needs of the cluster layer, stated by the core so that it never imports
 * `cluster/`: `ClusterManager` implements it and registers itself with the core.
 */
import type { Subscription } from './account.js';

export interface ClusterHooks {
  /** A local subscription was added (+1) or removed (-1): update interest sent to routes. */
  localInterest(sub: Subscription, delta: 1 | -1): void;
  /**
   * Interest of a leaf node connection (leaf/) changed: it is announced to routes as this
   * server's own (`delta` +1/-1, or a queue weight's change), with the leaf node's cluster as
   * its `origin` when it has one ('' otherwise).
   */
  leafInterest(account: string, subject: string, queue: string | null, delta: number, origin?: string): void;
  /** connect_urls for client INFO (own URL first), or null when there are no routes. */
  connectUrls(): readonly string[] | null;
  /** The websocket URLs of the cluster (own first), or null when there are none or no routes. */
  wsConnectUrls(): readonly string[] | null;
}
