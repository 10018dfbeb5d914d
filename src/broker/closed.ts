/**
 * The last closed client connections, as nats-server keeps them for `/connz?state=closed`:
 * each one's final statistics, stop time and reason, in a fixed-size ring.
 */
import type { Client } from './client.js';

/** How many closed connections are kept (nats-server's `MaxClosedClients`). */
export const MAX_CLOSED_CLIENTS = 10_000;

/** A subscription the connection held when it closed. */
export interface ClosedSub {
  readonly subject: string;
  readonly queue: string | null;
  readonly sid: string;
  readonly msgs: number;
}

/** A closed connection's final state. Times are epoch milliseconds. */
export interface ClosedClient {
  readonly cid: number;
  readonly ip: string;
  readonly port: number;
  readonly start: number;
  readonly lastActivity: number;
  readonly stop: number;
  readonly reason: string;
  readonly rttNs: number;
  readonly pendingBytes: number;
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
  readonly name: string;
  readonly lang: string;
  readonly version: string;
  readonly subs: readonly ClosedSub[];
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

  /** Records `client`, which is closing now. Called before its subscriptions are dropped. */
  record(client: Client): void {
    const subs: ClosedSub[] = [];
    for (const s of client.subs.values()) subs.push({ subject: s.subject, queue: s.queue, sid: s.sid, msgs: s.nm });
    const socket = client.socket;
    const entry: ClosedClient = {
      cid: client.cid,
      ip: peerIp(socket.remoteAddress),
      port: socket.remotePort ?? 0,
      start: client.start,
      lastActivity: client.lastActivity,
      stop: Date.now(),
      reason: client.closeReason ?? '',
      rttNs: client.rttNs,
      pendingBytes: client.out.queued + socket.writableLength,
      inMsgs: client.inMsgs,
      outMsgs: client.outMsgs,
      inBytes: client.inBytes,
      outBytes: client.outBytes,
      name: client.name,
      lang: client.lang,
      version: client.version,
      subs,
    };
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

/** A peer address as Go prints it: IPv4-mapped IPv6 addresses as plain IPv4. */
export function peerIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
