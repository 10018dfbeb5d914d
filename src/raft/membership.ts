/**
 * The voters of a Raft group as its log says: the snapshot's peer set, changed by each PeerState,
 * AddPeer and RemovePeer entry after it. A change counts from the moment it is in the log
 * (committed or not) and is undone if that entry is truncated (single-server changes, as in the
 * Raft dissertation and nats-server).
 */
import { decodePeerIdData, decodePeers } from './codec.js';
import type { RaftLog } from './log.js';
import { EntryType, type LogEntry } from './types.js';

interface ConfigEntry {
  readonly index: number;
  readonly peers: readonly string[];
}

export class Membership {
  /** The config entries of the log after the snapshot, in order. */
  private configs: ConfigEntry[] = [];

  /** `base`: the voters before the log's first entry (the snapshot's, or the initial peers). */
  constructor(
    private base: readonly string[],
    log: RaftLog,
  ) {
    this.rebuild(log, log.snapshotIndex + 1);
  }

  /** The voters now: those of the latest config entry. */
  get peers(): readonly string[] {
    return this.configs.length > 0 ? this.configs[this.configs.length - 1].peers : this.base;
  }

  /** The voters as of `index`. */
  at(index: number): readonly string[] {
    let peers = this.base;
    for (const c of this.configs) if (c.index <= index) peers = c.peers;
    return peers;
  }

  /** The index of the latest config entry in the log (0 when none after the snapshot). */
  get lastChange(): number {
    return this.configs.length > 0 ? this.configs[this.configs.length - 1].index : 0;
  }

  /** Re-reads the log from `from` on (after an append or a truncation there). */
  rebuild(log: RaftLog, from: number): void {
    const first = log.snapshotIndex + 1;
    this.configs = this.configs.filter((c) => c.index >= first && c.index < from);
    for (let i = Math.max(from, first); i <= log.lastIndex; i++) {
      const e = log.entry(i)!;
      if (e.type === EntryType.Normal) continue;
      const peers = applyConfig(this.peers, e);
      if (peers !== null) this.configs.push({ index: i, peers });
    }
  }

  /** After the log was compacted into a snapshot with voters `peers`. */
  compacted(peers: readonly string[], log: RaftLog): void {
    this.base = peers;
    this.rebuild(log, log.snapshotIndex + 1);
  }
}

/** The voters after a config entry, or null if its data is malformed. */
function applyConfig(prev: readonly string[], e: LogEntry): readonly string[] | null {
  if (e.type === EntryType.PeerState) return decodePeers(e.data);
  const peer = decodePeerIdData(e.data);
  if (peer === null) return null;
  if (e.type === EntryType.AddPeer) return prev.includes(peer) ? prev : [...prev, peer];
  return prev.filter((p) => p !== peer);
}
