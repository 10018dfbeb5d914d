/**
 * One connection's state as the introspection APIs see it: `/connz` (open and closed),
 * `connections()`/`clients()`/`subscriptions()` and the closed-connection ring all read this
 * one projection, built by the connection itself.
 */

/** A subscription of a connection. */
export interface SubSnapshot {
  readonly subject: string;
  readonly queue: string | null;
  readonly sid: string;
  /** Messages delivered so far. */
  readonly msgs: number;
  /** Auto-unsubscribe limit, or 0. */
  readonly max: number;
}

/** A client connection's state. Times are epoch milliseconds. */
export interface ConnSnapshot {
  readonly cid: number;
  /** The account's name (`$G` for the global account). */
  readonly account: string;
  /** Peer address as Go prints it (IPv4-mapped addresses as plain IPv4). */
  readonly ip: string;
  readonly port: number;
  readonly start: number;
  readonly lastActivity: number;
  /** Last measured round trip, ns (0: not measured). */
  readonly rttNs: number;
  /** Bytes queued for the client and not yet written. */
  readonly pendingBytes: number;
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
  /** Subscriptions held (also when `subs` was not filled in). */
  readonly numSubs: number;
  readonly name: string;
  readonly lang: string;
  readonly version: string;
  readonly subs: readonly SubSnapshot[];
}

/** A peer address as Go prints it: IPv4-mapped IPv6 addresses as plain IPv4. */
export function peerIp(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
