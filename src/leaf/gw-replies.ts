/**
 * The `_GR_.` replies a hub with gateways sends its leaf nodes (nats-server's deliverMsg and
 * trackGWReply, on a server without gateways of its own): a request from another cluster whose
 * reply the requester's cluster mapped (`_GR_.<cluster hash>.<server hash>.<reply>`) reaches this
 * server's clients with the plain reply, since a client may not publish on `_GR_.`; for 2 s an
 * answer on the plain reply is routed on the mapped subject instead, which the hub's `_GR_.>`
 * interest takes back to the hub and the hub straight to the requester's cluster.
 */
import type { Account } from '../broker/account.js';
import type { MappedReplies } from '../broker/core.js';
import type { PubArg } from '../protocol/parser.js';

const GW_REPLY_PREFIX = '_GR_.';
/** `_GR_.<cluster hash>.<server hash>.` (hashes of 6 characters). */
const GW_SUBJECT_OFFSET = GW_REPLY_PREFIX.length + 2 * 7;
/** gateway.go defaultGatewayRecentSubExpiration. */
const TTL_MS = 2000;

export class LeafGatewayReplies implements MappedReplies {
  active = false;
  private readonly replies = new Map<Account, Map<string, { routed: string; exp: number }>>();
  private timer: NodeJS.Timeout | null = null;

  /**
   * A message from this server's hub: a mapped reply is tracked, and the message is delivered
   * with the plain one (`pa.gwReply` keeps the mapped one for this server's own leaf nodes).
   */
  unmap(acc: Account, pa: PubArg): void {
    const r = pa.reply;
    if (r.length <= GW_SUBJECT_OFFSET || r.charCodeAt(0) !== 0x5f || !r.startsWith(GW_REPLY_PREFIX)) return;
    pa.gwReply = r;
    pa.reply = r.slice(GW_SUBJECT_OFFSET);
    let m = this.replies.get(acc);
    if (m === undefined) {
      m = new Map();
      this.replies.set(acc, m);
    }
    m.set(pa.reply, { routed: r, exp: Date.now() + TTL_MS });
    this.active = true;
    if (this.timer === null) {
      this.timer = setInterval(() => this.expire(), TTL_MS / 2);
      this.timer.unref();
    }
  }

  routed(acc: Account, subject: string): string | null {
    const e = this.replies.get(acc)?.get(subject);
    return e === undefined || e.exp < Date.now() ? null : e.routed;
  }

  private expire(): void {
    const now = Date.now();
    for (const [acc, m] of this.replies) {
      for (const [k, v] of m) if (v.exp <= now) m.delete(k);
      if (m.size === 0) this.replies.delete(acc);
    }
    if (this.replies.size === 0) this.stop();
  }

  /** Forgets every mapping and its timer. */
  stop(): void {
    this.replies.clear();
    this.active = false;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
