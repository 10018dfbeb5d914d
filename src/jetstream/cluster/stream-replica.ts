/**
 * One server's replica of a clustered stream: the local {@link Stream} and its Raft group —
 * nats-server's stream raft group (server/jetstream_cluster.go: processClusteredInboundMsg,
 * applyStreamEntries).
 *
 * Only the leader takes publishes (the stream's subscriptions follow the leadership). A publish
 * becomes a log entry; once committed, every replica applies it in log order through the same
 * checks and store as a single server's (`Stream.applyReplicated`), at the leader's timestamp, so
 * every replica's store is the same function of the log; the leader of the moment sends the
 * PubAck, which therefore leaves only once a quorum has the message. Stream API requests that
 * change the stream (purge, message delete) are entries too, applied on every replica and
 * answered by the leader.
 *
 * The log is the stream's truth: a replica rebuilds its store from the log when it starts (the
 * store starts empty, see {@link JsCluster}). Each replica compacts its log into a snapshot of
 * its state (stream-snapshot.ts) once the entries since the last one hold more bytes than the
 * stream and pass nats-server's thresholds (65,536 entries or 8 MiB); a restart restores the
 * snapshot and applies the log after it, and a member behind the leader's snapshot is sent it.
 */
import type { RaftRole } from '../../raft/types.js';
import { subjectFromText } from '../../protocol/text.js';
import { subjectMatches } from '../../subject/subject.js';
import { storeLimits, type Stream } from '../stream.js';
import { decodeStreamSnapshot, encodeStreamSnapshot, NO_LIMITS, restoreStore, type SnapshotHeader } from './stream-snapshot.js';
import { reconcilePeers } from './consumer-replica.js';
import type { InterestState } from '../interest.js';
import type { GroupHost, RaftGroup } from './nrg.js';

/** Entry kinds of a stream group. */
const E_MSG = 1;
const E_API = 2;
/** A durable consumer created or updated: {name, config, created, updated, reply, subject}. */
const E_CONSUMER = 3;
/** A durable consumer deleted: {name, rest, reply}. */
const E_CONSUMER_DEL = 4;
/** A consumer's state (the leader's, after changes): name, then consumer-store's state encoding. */
const E_CONSUMER_STATE = 5;
/** Interest or work-queue retention removed a message: {seq}; seq 0: every message (purge). */
const E_REMOVE = 6;
/** A config change (STREAM.UPDATE through the meta group): the config JSON. */
const E_CONFIG = 7;
/** max_age expiry as of the leader's time {ts (f64)}: replicas expire only through the log. */
const E_EXPIRE = 8;
/** How long after its request the proposer of a request entry still answers it. */
const ANSWER_MS = 10_000;
/** The largest snapshot the Raft messages can carry (their length fields are u32). */
const MAX_SNAPSHOT = 0xffff_0000;
/**
 * A message a mirror or source took in (on the leader; nats-server's streamMsgOp with the
 * mirror's `lseq` and the origin's time): flags (1: mirror), lseq, ts (0: the leader's clock),
 * the leader's clock (float64 each), subject, header, payload (lengths u32).
 */
const E_COPY = 10;
/** A mirror's skip of origin sequences the origin removed: start, end (float64). */
const E_SKIP = 11;
/** Interest or work-queue retention removed messages: count (u32), then each seq (float64). */
const E_REMOVE_MANY = 12;
/**
 * Interest retention lost its last consumer: every message up to the leader's last sequence
 * then (float64) goes; what was stored after (for a consumer created meanwhile) stays.
 */
const E_PURGE_UPTO = 13;

/** When a replica compacts its log (the defaults are nats-server's for streams). */
export interface CompactionPolicy {
  /** Entries applied since the last snapshot (nats-server's compactNumMin: 65,536)... */
  readonly entries: number;
  /** ...or their bytes (compactSizeMin: 8 MiB); and in either case at least the stream's bytes. */
  readonly bytes: number;
}

/** A replicated consumer as every replica keeps it: the live one runs on the leader only. */
export interface ConsumerAssignment {
  /** The config as JSON (encodeConsumerConfig). */
  config: string;
  /** Its subject filters ([] = every subject): interest retention asks them. */
  filters: readonly string[];
  created: number;
  /** Its latest replicated state (consumer-store.ts encoding), null before the first. */
  state: Buffer | null;
  /**
   * Its own Raft group's name (consumer-replica.ts), where its state is kept and its leader
   * elected; null: its state is in this log and it runs on the stream's leader.
   */
  group: string | null;
  /** Its group's voters at its creation (absent: unknown, as in older logs). */
  peers?: readonly string[];
}

/** A consumer create or update, proposed by the leader once checked. */
export interface ConsumerProposal {
  readonly name: string;
  readonly config: string;
  readonly created: number;
  readonly updated: boolean;
  readonly reply: string;
  readonly subject: string;
  /** A new consumer's own group (consumer-replica.ts); absent: it has none. */
  readonly group?: string;
  /** Its voters: the stream's at the proposal, its proposer (the preferred leader) first. */
  readonly peers?: readonly string[];
}

/** A stream API request replayed on every replica: `rest` is the subject after `$JS.API.`. */
export interface ReplicatedRequest {
  readonly rest: string;
  readonly body: Buffer;
  readonly reply: string;
}

/** What a replica needs of the cluster layer. */
export interface ReplicaHost {
  /** Runs a replicated stream API request on this replica; the answer is sent only when `respond`. */
  applyRequest(replica: StreamReplica, req: ReplicatedRequest, respond: boolean): void;
  /** A consumer state this leader proposed (`token`) is committed and applied. */
  consumerStateApplied(token: string): void;
  /** A config change was committed: every replica applies it here, in log order. */
  applyConfig(replica: StreamReplica, config: string): void;
  /** A consumer create or update was committed; on the leader (`respond`) it is made and answered. */
  applyConsumer(replica: StreamReplica, p: ConsumerProposal, respond: boolean): void;
  /** A consumer with a group of its own was deleted; its stream's leader (`respond`) answers. */
  consumerDeleted(replica: StreamReplica, name: string, rest: string, reply: string, respond: boolean): void;
  /** A snapshot replaced the replica's consumers (groups to start or stop). */
  consumersRestored(replica: StreamReplica): void;
  /** The replica's leadership changed. */
  leaderChanged(replica: StreamReplica, leader: boolean): void;
  /** The replicated consumers' interest on this server (interest.ts's view of them). */
  interestConsumers(replica: StreamReplica): ReadonlyMap<string, { readonly state: InterestState }>;
  internalError(err: unknown, what: string): void;
}

/** Encodes a publish: kind, ts (float64), subject, reply, header, payload (lengths u32). */
function encodeMsg(subject: string, reply: string, hdr: Buffer | null, data: Buffer, ts: number): Buffer {
  const sl = Buffer.byteLength(subject, 'latin1');
  const rl = Buffer.byteLength(reply, 'latin1');
  const hl = hdr === null ? 0 : hdr.length;
  const out = Buffer.allocUnsafe(1 + 8 + 4 + sl + 4 + rl + 4 + hl + data.length);
  let at = 0;
  out[at++] = E_MSG;
  out.writeDoubleLE(ts, at); at += 8;
  out.writeUInt32LE(sl, at); at += 4;
  at += out.write(subject, at, 'latin1');
  out.writeUInt32LE(rl, at); at += 4;
  at += out.write(reply, at, 'latin1');
  out.writeUInt32LE(hl, at); at += 4;
  if (hdr !== null) at += hdr.copy(out, at);
  data.copy(out, at);
  return out;
}

/** Encodes a mirrored or sourced copy (E_COPY). */
function encodeCopy(subject: string, hdr: Buffer | null, data: Buffer, lseq: number, ts: number, clock: number, mirror: boolean): Buffer {
  const sl = Buffer.byteLength(subject, 'latin1');
  const hl = hdr === null ? 0 : hdr.length;
  const out = Buffer.allocUnsafe(2 + 24 + 4 + sl + 4 + hl + data.length);
  let at = 0;
  out[at++] = E_COPY;
  out[at++] = mirror ? 1 : 0;
  out.writeDoubleLE(lseq, at); at += 8;
  out.writeDoubleLE(ts, at); at += 8;
  out.writeDoubleLE(clock, at); at += 8;
  out.writeUInt32LE(sl, at); at += 4;
  at += out.write(subject, at, 'latin1');
  out.writeUInt32LE(hl, at); at += 4;
  if (hdr !== null) at += hdr.copy(out, at);
  data.copy(out, at);
  return out;
}

/** A consumer config's subject filters, from its JSON (subjects are latin1 byte strings inside). */
function configFilters(json: string): string[] {
  const c = JSON.parse(json) as { filter_subject?: string; filter_subjects?: string[] };
  const list = c.filter_subjects !== undefined && c.filter_subjects.length > 0 ? c.filter_subjects : c.filter_subject ? [c.filter_subject] : [];
  return list.map((f) => subjectFromText(f));
}

function encodeJson(kind: number, head: unknown, tail: Buffer | null = null): Buffer {
  const h = Buffer.from(JSON.stringify(head), 'utf8');
  const out = Buffer.allocUnsafe(5 + h.length + (tail?.length ?? 0));
  out[0] = kind;
  out.writeUInt32LE(h.length, 1);
  h.copy(out, 5);
  if (tail !== null) tail.copy(out, 5 + h.length);
  return out;
}

export class StreamReplica implements GroupHost {
  /** The stream's replicated (durable) consumers. */
  readonly consumers = new Map<string, ConsumerAssignment>();
  /** The leader's PubAck replies wait for the commit: a publish proposed while not leading is dropped (the client retries). */
  group: RaftGroup | null = null;
  private leading = false;
  /** The stream group's name (`S-R3F-<hash>`). */
  groupName = '';
  /** The voters the meta group assigned (a replica change moves the group towards them). */
  targetPeers: readonly string[] = [];
  /** The config the meta group assigned (JSON); the leader proposes it when it differs from the applied one. */
  targetConfig: string | null = null;
  /** The config last applied from the log (JSON; the create config at first). */
  private appliedConfig: string;
  /** The config this leader proposed and has not seen applied yet. */
  private proposedConfig: string | null = null;
  /** The STREAM.UPDATE this leader answers once its config is applied. */
  pendingUpdate: { config: string; reply: string; subject: string } | null = null;
  /** The create requests' answers, sent by the first leader (set by the cluster layer). */
  readonly pendingCreates: Array<() => void> = [];
  private closed = false;
  /** When to compact the log; null: never. */
  compaction: CompactionPolicy | null = null;
  /** Entries and their bytes applied since the last snapshot. */
  private sinceEntries = 0;
  private sinceBytes = 0;

  constructor(
    readonly account: string,
    readonly stream: Stream,
    private readonly host: ReplicaHost,
    /** The config the store was opened with, as the meta entry wrote it (JSON). */
    createConfig: string,
  ) {
    stream.setServing(false);
    stream.replica = this;
    // Messages expire as of the times of the log's entries only (E_EXPIRE, and each message's
    // own time), never by a replica's own clock: the stores stay the same function of the log.
    stream.store.setExpiryTimer(false);
    this.appliedConfig = createConfig;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** A publish on the leader: proposed with the leader's clock. */
  propose(subject: string, reply: string, hdr: Buffer | null, data: Buffer): void {
    if (this.closed || this.group === null) return;
    // Refused when leadership was lost in between: no ack, the publisher retries.
    this.group.propose(encodeMsg(subject, reply, hdr, data, Date.now()));
  }

  /** A stream API request that changes the stream (on the leader). False when not leading. */
  proposeRequest(req: ReplicatedRequest): boolean {
    if (this.closed || this.group === null) return false;
    return this.group.propose(encodeJson(E_API, { rest: req.rest, reply: req.reply, by: this.group.selfName, at: Date.now() }, req.body));
  }

  /**
   * Whether this replica answers a request entry: the member that proposed it (`by`), while the
   * request is recent — also when its leadership passed on before the entry committed (a
   * stepdown right after the request); older entries without `by`: the leader.
   */
  private answers(head: { by?: unknown; at?: unknown }): boolean {
    if (typeof head.by !== 'string') return this.leading;
    return head.by === this.group?.selfName && typeof head.at === 'number' && Date.now() - head.at < ANSWER_MS;
  }

  /**
   * Interest or work-queue retention let `seq` go (on the leader; seq 0: every message): every
   * replica removes it. The rules decide on the leader over every replicated consumer's state
   * ({@link interestConsumers}).
   */
  proposeRemove(seq: number): boolean {
    if (this.closed || this.group === null || !this.leading) return false;
    const d = Buffer.allocUnsafe(9);
    d[0] = E_REMOVE;
    d.writeDoubleLE(seq, 1);
    return this.group.propose(d);
  }

  /** Several removals the retention decided at once (on the leader): one entry. */
  proposeRemoveMany(seqs: readonly number[]): boolean {
    if (seqs.length === 1) return this.proposeRemove(seqs[0]!);
    if (this.closed || this.group === null || !this.leading || seqs.length === 0) return false;
    const d = Buffer.allocUnsafe(5 + 8 * seqs.length);
    d[0] = E_REMOVE_MANY;
    d.writeUInt32LE(seqs.length, 1);
    for (let i = 0; i < seqs.length; i++) d.writeDoubleLE(seqs[i]!, 5 + 8 * i);
    return this.group.propose(d);
  }

  /** A mirror's or source's copy (on the leader; sourcing.ts). False when not leading. */
  proposeCopy(subject: string, hdr: Buffer | null, data: Buffer, lseq: number, ts: number, mirror: boolean): boolean {
    if (this.closed || this.group === null || !this.leading) return false;
    return this.group.propose(encodeCopy(subject, hdr, data, lseq, ts, Date.now(), mirror));
  }

  /** A mirror's skip of `start`..`end` (on the leader). False when not leading. */
  proposeSkip(start: number, end: number): boolean {
    if (this.closed || this.group === null || !this.leading) return false;
    const d = Buffer.allocUnsafe(17);
    d[0] = E_SKIP;
    d.writeDoubleLE(start, 1);
    d.writeDoubleLE(end, 9);
    return this.group.propose(d);
  }

  proposePurgeAll(): void {
    if (this.closed || this.group === null || !this.leading) return;
    const d = Buffer.allocUnsafe(9);
    d[0] = E_PURGE_UPTO;
    d.writeDoubleLE(this.stream.lastSeq, 1);
    this.group.propose(d);
  }

  /** The replicated consumers' interest, each as its last replicated state here says (interest.ts). */
  interestConsumers(): ReadonlyMap<string, { readonly state: InterestState }> {
    return this.host.interestConsumers(this);
  }

  hasConsumerInterest(subject: string): boolean {
    for (const a of this.consumers.values()) {
      if (a.filters.length === 0) return true;
      for (const f of a.filters) if (subjectMatches(f, subject)) return true;
    }
    return false;
  }

  /** A checked durable consumer create or update (on the leader). */
  proposeConsumer(p: ConsumerProposal): boolean {
    if (this.closed || this.group === null) return false;
    return this.group.propose(encodeJson(E_CONSUMER, p));
  }

  /** A durable consumer delete (on the leader); `reply` '' for none. */
  proposeConsumerDelete(name: string, rest: string, reply: string): boolean {
    if (this.closed || this.group === null) return false;
    return this.group.propose(encodeJson(E_CONSUMER_DEL, { name, rest, reply, by: this.group.selfName, at: Date.now() }));
  }

  /** The leader's consumer state, for the followers. */
  proposeConsumerState(name: string, state: Buffer, token: string): boolean {
    if (this.closed || this.group === null) return false;
    return this.group.propose(encodeJson(E_CONSUMER_STATE, { name, token }, state));
  }

  apply(_index: number, d: Buffer): void {
    if (this.closed) return;
    this.sinceEntries++;
    this.sinceBytes += d.length;
    const kind = d[0];
    if (kind === E_MSG) {
      let at = 1;
      const ts = d.readDoubleLE(at); at += 8;
      const sl = d.readUInt32LE(at); at += 4;
      const subject = d.toString('latin1', at, at + sl); at += sl;
      const rl = d.readUInt32LE(at); at += 4;
      const reply = d.toString('latin1', at, at + rl); at += rl;
      const hl = d.readUInt32LE(at); at += 4;
      const hdr = hl === 0 ? null : d.subarray(at, at + hl); at += hl;
      this.stream.applyReplicated(subject, this.leading ? reply : '', hdr, d.subarray(at), ts);
    } else if (kind === E_API) {
      const hl = d.readUInt32LE(1);
      const head = JSON.parse(d.toString('utf8', 5, 5 + hl)) as { rest: string; reply: string; by?: unknown; at?: unknown };
      this.host.applyRequest(this, { rest: head.rest, reply: head.reply, body: d.subarray(5 + hl) }, this.answers(head));
    } else if (kind === E_CONSUMER || kind === E_CONSUMER_DEL || kind === E_CONSUMER_STATE) {
      const hl = d.readUInt32LE(1);
      const head = JSON.parse(d.toString('utf8', 5, 5 + hl)) as Record<string, unknown>;
      const name = String(head.name);
      if (kind === E_CONSUMER) {
        const p = head as unknown as ConsumerProposal;
        const prev = this.consumers.get(name);
        const group = prev !== undefined ? prev.group : p.group ?? null;
        const peers = prev !== undefined ? prev.peers : p.peers;
        this.consumers.set(name, { config: p.config, filters: configFilters(p.config), created: prev?.created ?? p.created, state: prev?.state ?? null, group, ...(peers === undefined ? {} : { peers }) });
        this.host.applyConsumer(this, p, this.leading);
      } else if (kind === E_CONSUMER_DEL) {
        const a = this.consumers.get(name);
        this.consumers.delete(name);
        if (a?.group) this.host.consumerDeleted(this, name, String(head.rest), String(head.reply), this.answers(head));
        else if (this.leading) this.host.applyRequest(this, { rest: String(head.rest), reply: String(head.reply), body: Buffer.alloc(0) }, true);
      } else {
        const a = this.consumers.get(name);
        // The leader's own state is live; a copy is kept for when it leads no more.
        if (a !== undefined) a.state = Buffer.from(d.subarray(5 + hl));
        // The acks this state holds are replicated now: their replies may go.
        if (this.leading && typeof head.token === 'string') this.host.consumerStateApplied(head.token);
      }
    } else if (kind === E_CONFIG) {
      const config = d.toString('utf8', 1);
      this.appliedConfig = config;
      if (this.proposedConfig === config) this.proposedConfig = null;
      this.host.applyConfig(this, config);
    } else if (kind === E_EXPIRE) {
      this.stream.store.expireAsOf(d.readDoubleLE(1));
      if (this.leading) this.expiryProposedAt = 0;
    } else if (kind === E_REMOVE) {
      const seq = d.readDoubleLE(1);
      // Purge-all (older logs): only while no replicated consumer exists as of this entry.
      if (seq === 0) {
        if (this.consumers.size === 0) this.stream.store.purge('', 0, 0);
      }
      else this.stream.store.remove(seq, false);
    } else if (kind === E_PURGE_UPTO) {
      const upTo = d.readDoubleLE(1);
      // Nothing stored since the decision: the whole stream, its first sequence past the last.
      if (this.stream.lastSeq <= upTo) this.stream.store.purge('', 0, 0);
      else this.stream.store.purge('', upTo + 1, 0);
    } else if (kind === E_REMOVE_MANY) {
      const n = d.readUInt32LE(1);
      for (let i = 0; i < n; i++) this.stream.store.remove(d.readDoubleLE(5 + 8 * i), false);
    } else if (kind === E_COPY) {
      const mirror = d[1] === 1;
      let at = 2;
      const lseq = d.readDoubleLE(at); at += 8;
      const ts = d.readDoubleLE(at); at += 8;
      const clock = d.readDoubleLE(at); at += 8;
      const sl = d.readUInt32LE(at); at += 4;
      const subject = d.toString('latin1', at, at + sl); at += sl;
      const hl = d.readUInt32LE(at); at += 4;
      const hdr = hl === 0 ? null : d.subarray(at, at + hl); at += hl;
      const r = this.stream.applyCopy(subject, hdr, d.subarray(at), lseq, ts, clock, mirror);
      if (this.leading) this.stream.copyApplied?.(r, lseq, mirror);
    } else if (kind === E_SKIP) {
      const end = d.readDoubleLE(9);
      // Already past (a skip proposed before copies in flight were applied): nothing to do.
      if (end > this.stream.lastSeq) this.stream.skipTo(Math.max(d.readDoubleLE(1), this.stream.lastSeq + 1), end);
    } else {
      this.host.internalError(new Error(`unknown entry kind ${String(kind)}`), `stream ${this.account} > ${this.stream.name}: raft apply`);
    }
  }

  stateChanged(role: RaftRole, _leader: string | null): void {
    // Leading starts once the log before this term is applied (leaderReady).
    if (role === 'leader' || !this.leading || this.closed) return;
    this.leading = false;
    this.proposedConfig = null;
    this.pendingUpdate = null;
    this.stream.setServing(false);
    this.host.leaderChanged(this, false);
  }

  /**
   * On the leader: the assigned config (an entry), then one step of a replica change towards the
   * assigned voters (reconcilePeers).
   */
  reconcile(): void {
    const g = this.group;
    if (!this.leading || g === null || this.closed) return;
    const target = this.targetConfig;
    if (target !== null && target !== this.appliedConfig && target !== this.proposedConfig) {
      const h = Buffer.from(target, 'utf8');
      const d = Buffer.allocUnsafe(1 + h.length);
      d[0] = E_CONFIG;
      h.copy(d, 1);
      if (g.propose(d)) this.proposedConfig = target;
    }
    reconcilePeers(g, this.targetPeers);
  }

  /** Set when the meta group moved the stream off this server: called once the group let it go. */
  onDropped: (() => void) | null = null;

  /**
   * Compacts the log when the policy says so and the entries since the last snapshot hold at
   * least the stream's bytes: a snapshot holds the messages, so its cost stays in proportion to
   * the log it replaces.
   */
  private maybeCompact(): void {
    const c = this.compaction;
    const g = this.group;
    if (c === null || g === null || this.closed) return;
    if (this.sinceEntries < c.entries && this.sinceBytes < c.bytes) return;
    if (this.sinceBytes < this.stream.store.storedBytes()) return;
    const data = this.snapshot();
    this.sinceEntries = 0;
    this.sinceBytes = 0;
    if (data.length > MAX_SNAPSHOT) {
      this.host.internalError(new Error(`a snapshot of ${data.length} bytes is more than a Raft message carries`), `stream ${this.account} > ${this.stream.name}: compaction`);
      return;
    }
    g.compact(data);
  }

  /** When this leader last proposed an expiry (0: none in flight). */
  private expiryProposedAt = 0;

  /**
   * On the leader: once the first message is past max_age, proposes an expiry at its clock
   * (one in flight at a time, again after a heartbeat if it got lost).
   */
  private maybeExpire(now: number): void {
    const g = this.group;
    const maxAgeMs = this.stream.cfg.max_age / 1e6;
    if (!this.leading || g === null || this.closed || maxAgeMs <= 0) return;
    if (this.expiryProposedAt > 0 && now - this.expiryProposedAt < g.timing.heartbeatInterval) return;
    const st = this.stream.store.state();
    if (st.msgs === 0 || st.firstTs + maxAgeMs > now) return;
    const d = Buffer.allocUnsafe(9);
    d[0] = E_EXPIRE;
    d.writeDoubleLE(now, 1);
    if (g.propose(d)) this.expiryProposedAt = now;
  }

  /** This replica's state after its last applied entry: the data of a snapshot. */
  snapshot(): Buffer {
    const st = this.stream.store.state();
    const { lmsgId, dedupe } = this.stream.replicationState();
    const header: SnapshotHeader = {
      config: this.appliedConfig,
      first: st.firstSeq,
      last: this.stream.lastSeq,
      lastTs: st.lastTs,
      lmsgId,
      dedupe,
      consumers: [...this.consumers].map(([name, a]) => ({
        name, config: a.config, created: a.created, state: a.state === null ? null : a.state.toString('base64'), ...(a.group === null ? {} : { group: a.group }),
        ...(a.peers === undefined ? {} : { peers: a.peers }),
      })),
    };
    return encodeStreamSnapshot(header, this.stream.store);
  }

  restore(_index: number, data: Buffer): void {
    if (this.closed) return;
    const { header, messages } = decodeStreamSnapshot(data);
    const stream = this.stream;
    // Nothing the snapshot kept may go on the way (a limit of the older config): limits are
    // lifted, then set from the snapshot's config.
    stream.store.updateLimits(NO_LIMITS);
    try {
      restoreStore(stream.store, header, messages);
    } finally {
      if (header.config !== this.appliedConfig) {
        this.appliedConfig = header.config;
        this.host.applyConfig(this, header.config);
      }
      stream.store.updateLimits(storeLimits(stream.cfg));
    }
    stream.restoreReplicationState(header.lmsgId, header.dedupe, header.last);
    this.consumers.clear();
    for (const c of header.consumers) {
      this.consumers.set(c.name, {
        config: c.config, filters: configFilters(c.config), created: c.created, state: c.state === null ? null : Buffer.from(c.state, 'base64'), group: c.group ?? null,
        ...(c.peers === undefined ? {} : { peers: c.peers }),
      });
    }
    this.host.consumersRestored(this);
    this.sinceEntries = 0;
    this.sinceBytes = 0;
  }

  tick(): void {
    this.reconcile();
    this.maybeExpire(Date.now());
    this.maybeCompact();
    const g = this.group;
    // Gone from the voters the log names, or no leader for two election timeouts (a removed
    // member may never hear of its removal: the leader stops writing to it).
    if (this.onDropped !== null && g !== null && !this.leading
      && (!g.peers.includes(g.selfName) || (g.leader === null && Date.now() - g.lastLeaderContact > 2 * g.timing.electionTimeoutMax))) {
      const drop = this.onDropped;
      this.onDropped = null;
      drop();
    }
  }

  leaderReady(): void {
    if (this.leading || this.closed) return;
    this.leading = true;
    this.stream.setServing(true);
    this.host.leaderChanged(this, true);
    // The create answers wait for the first leader (whichever replica it is).
    for (const answer of this.pendingCreates.splice(0)) answer();
  }

  close(): void {
    this.closed = true;
    this.stream.replica = null;
    this.group?.close();
  }
}
