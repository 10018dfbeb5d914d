/**
 * The vocabulary of the consensus core: log entries, the messages Raft peers exchange, the
 * outputs a node hands to its driver, and its configuration. Pure data, no behaviour.
 *
 * The concepts follow nats-server's NRG Raft groups (server/raft.go): entry types numbered as
 * its `EntryType`, append entries with `pterm`/`pindex`/`commit`, heartbeats as empty append
 * entries, votes with `lastTerm`/`lastIndex`, snapshots, peer add/remove entries.
 */

/** The kinds of log entries (numbered as nats-server's `EntryType`). */
export const EntryType = {
  /** Data for the state machine. */
  Normal: 0,
  /** The full voter set, appended by every new leader as the first entry of its term. */
  PeerState: 2,
  /** Adds one voter (data: the peer id, UTF-8). */
  AddPeer: 3,
  /** Removes one voter (data: the peer id, UTF-8). */
  RemovePeer: 4,
} as const;
/** One of {@link EntryType}'s values. */
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One entry of the replicated log. Entries are immutable once created. */
export interface LogEntry {
  /** The term of the leader that created the entry. */
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** A snapshot: the state machine as of `lastIndex`, replacing the log up to there. */
export interface Snapshot {
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** The voters as of `lastIndex`. */
  readonly peers: readonly string[];
  /** The application's state, opaque to Raft. */
  readonly data: Uint8Array;
}

/** A candidate asks for a vote. `transfer`: the leader handed over (leader stepdown). */
export interface VoteRequest {
  readonly kind: 'vote';
  readonly term: number;
  readonly lastTerm: number;
  readonly lastIndex: number;
  readonly transfer: boolean;
}

export interface VoteResponse {
  readonly kind: 'vote-response';
  readonly term: number;
  readonly granted: boolean;
}

/** Entries after (`pindex`, `pterm`); no entries is a heartbeat. */
export interface AppendEntries {
  readonly kind: 'append';
  readonly term: number;
  readonly commit: number;
  readonly pterm: number;
  readonly pindex: number;
  readonly entries: readonly LogEntry[];
}

/**
 * The answer to an append or a snapshot. On success `index` is the last index known to match the
 * leader's log; on a refusal it is a hint: the follower's last index (the leader backs up to it).
 */
export interface AppendResponse {
  readonly kind: 'append-response';
  readonly term: number;
  readonly success: boolean;
  readonly index: number;
}

/** The leader's snapshot, for a follower that lags behind the leader's compacted log. */
export interface InstallSnapshot {
  readonly kind: 'snapshot';
  readonly term: number;
  readonly snapshot: Snapshot;
}

/** Leader transfer: "start an election now" (sent by a leader that steps down). */
export interface TimeoutNow {
  readonly kind: 'timeout-now';
  readonly term: number;
}

export type RaftMessage = VoteRequest | VoteResponse | AppendEntries | AppendResponse | InstallSnapshot | TimeoutNow;

export type RaftRole = 'follower' | 'candidate' | 'leader';

/** What a node asks its driver to do, in order (see {@link RaftNode.ready}). */
export type RaftOutput =
  /** Send `message` to peer `to` (already durable: see {@link RaftStorage}). */
  | { readonly type: 'send'; readonly to: string; readonly message: RaftMessage }
  /** Apply a committed entry; indexes come in order, each exactly once per node lifetime. */
  | { readonly type: 'apply'; readonly index: number; readonly entry: LogEntry }
  /** Replace the state machine by a snapshot's (at start-up, or installed from the leader). */
  | { readonly type: 'restore'; readonly snapshot: Snapshot }
  /** The role, term or known leader changed. */
  | { readonly type: 'state'; readonly role: RaftRole; readonly term: number; readonly leader: string | null };

/** Timing of a node, in the milliseconds of the injected clock. */
export interface RaftTiming {
  /** Election timeouts are drawn uniformly from [min, max). */
  readonly electionTimeoutMin: number;
  readonly electionTimeoutMax: number;
  /** How often a leader sends append entries (empty ones are heartbeats). */
  readonly heartbeatInterval: number;
}

/** nats-server's defaults (4–9 s elections, 1 s heartbeats). */
export const DEFAULT_TIMING: RaftTiming = { electionTimeoutMin: 4000, electionTimeoutMax: 9000, heartbeatInterval: 1000 };
