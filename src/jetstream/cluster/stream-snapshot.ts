/**
 * The snapshot of a clustered stream's Raft group: what its log's applied entries built, so that
 * the log before it can go (compaction) and a member too far behind takes it whole.
 *
 * nats-server's stream snapshot (jetstream_cluster.go streamSnapshot) holds only the store's
 * state and a member behind it fetches the messages from the leader in a catch-up of its own.
 * Here the snapshot holds the messages themselves: one step, the same Raft InstallSnapshot path
 * as any state, at a cost bounded by compacting only once the log since the last snapshot holds
 * at least as many bytes as the stream (see StreamReplica's compaction).
 *
 * Layout: u8 version, u32 header length, the header as JSON (config, sequences, duplicate ids,
 * consumers), then one record per message: f64 seq, f64 ts, u32 subject length, subject (latin1),
 * u32 header length + 1 (0: none), header, u32 data length, data.
 */
import type { StoreLimits, StreamStore } from '../store/store.js';

const VERSION = 1;

/** A replicated consumer in a snapshot. */
export interface SnapshotConsumer {
  readonly name: string;
  readonly config: string;
  readonly created: number;
  /** consumer-store's state encoding, base64; null before its first state. */
  readonly state: string | null;
  /** Its own Raft group (consumer-replica.ts), where its state is; absent: the state above. */
  readonly group?: string;
  /** Its group's voters at its creation; absent: its stream's (older snapshots). */
  readonly peers?: readonly string[];
}

/** The header of a stream snapshot. */
export interface SnapshotHeader {
  /** The config applied from the log (JSON). */
  readonly config: string;
  /** The store's first sequence (last + 1 when empty) and the stream's last. */
  readonly first: number;
  readonly last: number;
  /** The store's last message time (ms; a skip's time when the last sequences were skipped). */
  readonly lastTs: number;
  readonly lmsgId: string;
  /** The duplicate window's ids: [id, seq, ts], oldest first. */
  readonly dedupe: ReadonlyArray<readonly [string, number, number]>;
  readonly consumers: readonly SnapshotConsumer[];
}

/** A message of a snapshot (views into the snapshot's buffer). */
export interface SnapshotMessage {
  readonly seq: number;
  readonly ts: number;
  readonly subject: string;
  readonly hdr: Buffer | null;
  readonly data: Buffer;
}

/** Encodes `header` and every message of `store`. */
export function encodeStreamSnapshot(header: SnapshotHeader, store: StreamStore): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.allocUnsafe(5);
  head[0] = VERSION;
  head.writeUInt32LE(h.length, 1);
  const parts: Buffer[] = [head, h];
  const st = store.state();
  for (let m = store.loadNext('', st.firstSeq); m !== null; m = store.loadNext('', m.seq + 1)) {
    const sl = Buffer.byteLength(m.subject, 'latin1');
    const rec = Buffer.allocUnsafe(8 + 8 + 4 + sl + 4);
    rec.writeDoubleLE(m.seq, 0);
    rec.writeDoubleLE(m.ts, 8);
    rec.writeUInt32LE(sl, 16);
    rec.write(m.subject, 20, 'latin1');
    rec.writeUInt32LE(m.hdr === null ? 0 : m.hdr.length + 1, 20 + sl);
    parts.push(rec);
    if (m.hdr !== null) parts.push(m.hdr);
    const dl = Buffer.allocUnsafe(4);
    dl.writeUInt32LE(m.data.length, 0);
    parts.push(dl, m.data);
  }
  return Buffer.concat(parts);
}

/** Decodes a snapshot; throws on one that does not parse (it came from this code: a bug). */
export function decodeStreamSnapshot(d: Buffer): { header: SnapshotHeader; messages: SnapshotMessage[] } {
  if (d.length < 5 || d[0] !== VERSION) throw new Error(`stream snapshot: unknown version ${String(d[0])}`);
  const hl = d.readUInt32LE(1);
  const header = JSON.parse(d.toString('utf8', 5, 5 + hl)) as SnapshotHeader;
  const messages: SnapshotMessage[] = [];
  let at = 5 + hl;
  while (at < d.length) {
    const seq = d.readDoubleLE(at);
    const ts = d.readDoubleLE(at + 8);
    const sl = d.readUInt32LE(at + 16);
    at += 20;
    const subject = d.toString('latin1', at, at + sl);
    at += sl;
    const hlen = d.readUInt32LE(at);
    at += 4;
    const hdr = hlen === 0 ? null : d.subarray(at, at + hlen - 1);
    if (hlen > 0) at += hlen - 1;
    const dl = d.readUInt32LE(at);
    at += 4;
    if (at + dl > d.length) throw new Error('stream snapshot: truncated');
    messages.push({ seq, ts, subject, hdr, data: d.subarray(at, at + dl) });
    at += dl;
  }
  return { header, messages };
}

/** Limits that keep everything: a store is brought to a snapshot's state under these. */
export const NO_LIMITS: StoreLimits = {
  maxMsgs: -1, maxBytes: -1, maxAgeMs: 0, maxMsgsPerSubject: -1, maxMsgSize: -1, discard: 'old', discardNewPerSubject: false,
};

/**
 * Brings `store` (the state of an earlier point of the same log, or empty) to the snapshot's:
 * removes what the snapshot no longer has, appends what it has beyond the store's last sequence
 * at the same sequences and times, and moves the sequences as the snapshot's. The caller lifts
 * the store's limits first (nothing the snapshot kept may be dropped on the way) and sets them
 * after. Throws when the store holds a message the snapshot lacks below its last sequence yet
 * the snapshot has one the store lacks: two different histories, which Raft rules out.
 */
export function restoreStore(store: StreamStore, header: SnapshotHeader, messages: readonly SnapshotMessage[]): void {
  const before = store.state();
  const keep = new Set<number>();
  for (const m of messages) if (m.seq <= before.lastSeq) keep.add(m.seq);
  let had = 0;
  for (let m = store.loadNext('', before.firstSeq); m !== null; m = store.loadNext('', m.seq + 1)) {
    if (keep.has(m.seq)) had++;
    else store.remove(m.seq, false);
  }
  if (had !== keep.size) throw new Error(`stream snapshot: the store lacks ${keep.size - had} of its messages up to sequence ${before.lastSeq}`);
  for (const m of messages) {
    if (m.seq <= before.lastSeq) continue;
    store.skipThrough(m.seq - 1, m.ts); // a gap of removed messages before it
    const r = store.store(m.subject, m.hdr, m.data, m.ts);
    if (!('seq' in r) || r.seq !== m.seq) throw new Error(`stream snapshot: message ${m.seq} stored as ${JSON.stringify(r)}`);
  }
  store.skipThrough(header.last, header.lastTs);
  const st = store.state();
  if (st.msgs === 0 && st.firstSeq < header.first) {
    // A purge of everything (first = last + 1; purge's sequence bound cannot say 1).
    if (header.first === st.lastSeq + 1) store.purge('', 0, 0);
    else store.purge('', header.first, 0);
  }
}
