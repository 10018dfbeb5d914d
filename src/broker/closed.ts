/**
 * The last closed client connections, as nats-server keeps them for `/connz?state=closed`:
 * each one's final state, stop time and reason, in a fixed-size ring.
 */
import type { ConnSnapshot } from './snapshot.js';

/** How many closed connections are kept (nats-server's `MaxClosedClients`). */
export const MAX_CLOSED_CLIENTS = 10_000;

/** A closed connection's final state. Times are epoch milliseconds. */
export interface ClosedClient extends ConnSnapshot {
  readonly stop: number;
  readonly reason: string;
}

/** A fixed-size ring of closed connections: the oldest is dropped when full. */
export class ClosedRing {
  private readonly items: ClosedClient[] = [];
  private total = 0;

  constructor(readonly max = MAX_CLOSED_CLIENTS) {}

  /** Closed connections recorded since start (including those dropped from the ring). */
  get totalClosed(): number {
    return this.total;
  }

  get size(): number {
    return this.items.length;
  }

  /** Records a connection closing now for `reason`, with its final `state`. */
  record(state: ConnSnapshot, reason: string): void {
    const entry: ClosedClient = { ...state, stop: Date.now(), reason };
    if (this.items.length < this.max) this.items.push(entry);
    else this.items[this.total % this.max] = entry;
    this.total++;
  }

  /** The kept connections, oldest first. */
  list(): ClosedClient[] {
    if (this.items.length < this.max) return this.items.slice();
    const head = this.total % this.max;
    return [...this.items.slice(head), ...this.items.slice(0, head)];
  }
}
