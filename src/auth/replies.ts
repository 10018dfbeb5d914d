/**
 * `allow_responses`: the reply subjects a client may publish to because it received a request
 * carrying them, each for at most `max` responses within `expires` (nats-server's
 * `replies map[string]*resp` on the client, pruned like `pruneReplyPerms`).
 */

/** The allowance limits (a user's `allow_responses` after defaults). */
export interface ResponseLimits {
  readonly max: number;
  readonly expiresMs: number;
}

/** Above this many remembered replies, expired and used-up ones are pruned. */
const PRUNE_ABOVE = 4096;

export class ReplyAllowance {
  /** Reply subject → responses sent so far and when the request arrived. */
  private readonly replies = new Map<string, { n: number; t: number }>();

  /** `reply` arrived on a delivered message: it may now be answered (under `limits`). */
  allow(reply: string, limits: ResponseLimits): void {
    this.replies.set(reply, { n: 0, t: Date.now() });
    if (this.replies.size > PRUNE_ABOVE) this.prune(limits);
  }

  /** May `subject` be published as a response under `limits`? Counts the response when it may. */
  use(subject: string, limits: ResponseLimits): boolean {
    const entry = this.replies.get(subject);
    if (entry === undefined) return false;
    entry.n++;
    if ((limits.max > 0 && entry.n > limits.max) || (limits.expiresMs > 0 && Date.now() - entry.t > limits.expiresMs)) {
      this.replies.delete(subject);
      return false;
    }
    return true;
  }

  /** Drops expired and used-up entries (all of them when `limits` is null: responses no longer allowed). */
  prune(limits: ResponseLimits | null): void {
    const now = Date.now();
    for (const [k, v] of this.replies) {
      if (limits === null || (limits.expiresMs > 0 && now - v.t > limits.expiresMs) || (limits.max > 0 && v.n >= limits.max)) {
        this.replies.delete(k);
      }
    }
  }
}
