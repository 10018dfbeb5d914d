/**
 * One server's replica of a clustered consumer: its Raft group — nats-server's consumer raft
 * group (server/jetstream_cluster.go: processClusteredConsumer, applyConsumerEntries), named
 * `C-R<n><F|M>-<hash>` as nats-server names them.
 *
 * The group runs on the stream's replicas and has a leader of its own: the live consumer
 * (consumer.ts) runs on that leader only, on its local replica of the stream, and the others
 * keep its state as the log holds it. Each state change the leader makes (deliveries, acks,
 * redeliveries) becomes an entry holding the consumer's whole state (consumer-store.ts
 * encoding); a new leader resumes from the last one applied. The ack replies of the leader wait
 * for the entry holding the ack to commit (see {@link ConsumerGroupHost.stateApplied}).
 *
 * The consumer's existence and config are not here but in its stream's log (stream-replica.ts
 * E_CONSUMER, E_CONSUMER_DEL), which every stream replica applies: that is where a replica
 * learns to start or stop this group. The voters follow the stream's ({@link reconcilePeers}).
 */
import type { RaftRole } from '../../raft/types.js';
import type { GroupHost, RaftGroup } from './nrg.js';

/** Entry kinds of a consumer group: [kind][token length u16][token], then the state (C_STATE). */
const C_STATE = 1;
/**
 * A state with the stream sequences its acks let go (interest or work-queue retention), for the
 * stream's leader to remove: after the token, [count u32][seq f64 × count], then the state.
 */
const C_STATE_ACKS = 2;

/** Compacts the log after this many state entries: a snapshot is one state, so small. */
const COMPACT_ENTRIES = 1024;

/** What a consumer replica needs of the cluster layer. */
export interface ConsumerGroupHost {
  /** This server leads the group and has applied its log (`leading`), or leads it no more. */
  consumerLeaderChanged(cr: ConsumerReplica, leading: boolean): void;
  /** A state this leader proposed (`token`) is committed and applied: its ack replies may go. */
  consumerStateApplied(token: string): void;
  /**
   * On every member: a state applied whose acks let stream sequences go (interest or work-queue
   * retention), `acked` holding them as float64 LE (read only where they are acted on, the
   * stream's leader); null: the state jumped (a snapshot), what it acked is to be checked again.
   */
  consumerAcked(cr: ConsumerReplica, acked: Buffer | null): void;
  internalError(err: unknown, what: string): void;
}

/**
 * One step of a group's change of voters towards `target` (on its leader): adds a missing voter,
 * else removes one not in `target` (a leader that is itself dropped hands over first). One change
 * at a time: the group refuses the next until the last one is in the log; ticks call this again.
 */
export function reconcilePeers(g: RaftGroup, target: readonly string[]): void {
  if (target.length === 0) return;
  const current = g.peers;
  const add = target.find((p) => !current.includes(p));
  if (add !== undefined) {
    g.addPeer(add);
    return;
  }
  const remove = current.find((p) => !target.includes(p));
  if (remove === undefined) return;
  if (remove === g.selfName) g.stepDown(target[0]);
  else g.removePeer(remove);
}

export class ConsumerReplica implements GroupHost {
  group: RaftGroup | null = null;
  /** The last state applied (consumer-store.ts encoding); null before the first. */
  state: Buffer | null = null;
  /**
   * Answers waiting for a leader (a create, an update), run on the leader once it is ready and
   * the consumer has a committed state; dropped by a member that sees another leader.
   */
  readonly pendingLeader: Array<() => void> = [];
  /** The group's log was empty when it started here (a new group, not a restart). */
  fresh = false;
  private leading = false;
  private closed = false;
  private sinceSnapshot = 0;

  constructor(
    readonly account: string,
    readonly stream: string,
    readonly name: string,
    /** The group's name (`C-R3F-<hash>`). */
    readonly groupName: string,
    private readonly host: ConsumerGroupHost,
    /** The voters it should have: its stream group's (read at each tick, on the leader). */
    private readonly targetPeers: () => readonly string[],
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * The leader's consumer state, for the followers, with the stream sequences its acks let go
   * since the last one (interest or work-queue retention); false when not leading.
   */
  proposeState(state: Buffer, token: string, acked: readonly number[] | null = null): boolean {
    if (this.closed || this.group === null || !this.leading) return false;
    const head = Buffer.from(token, 'latin1');
    const n = acked === null ? 0 : acked.length;
    const at = 3 + head.length;
    const d = Buffer.allocUnsafe(at + (n > 0 ? 4 + 8 * n : 0) + state.length);
    d[0] = n > 0 ? C_STATE_ACKS : C_STATE;
    d.writeUInt16LE(head.length, 1);
    head.copy(d, 3);
    let o = at;
    if (n > 0) {
      d.writeUInt32LE(n, o);
      o += 4;
      for (let i = 0; i < n; i++, o += 8) d.writeDoubleLE(acked![i]!, o);
    }
    state.copy(d, o);
    return this.group.propose(d);
  }

  apply(_index: number, d: Buffer): void {
    if (this.closed) return;
    const kind = d[0];
    if ((kind !== C_STATE && kind !== C_STATE_ACKS) || d.length < 3) {
      this.host.internalError(new Error(`unknown entry kind ${String(kind)}`), `consumer ${this.account} > ${this.stream} > ${this.name}: raft apply`);
      return;
    }
    const hl = d.readUInt16LE(1);
    let at = 3 + hl;
    let acked: Buffer | null = null;
    if (kind === C_STATE_ACKS) {
      const n = d.readUInt32LE(at);
      acked = d.subarray(at + 4, at + 4 + 8 * n);
      at += 4 + 8 * n;
    }
    this.state = Buffer.from(d.subarray(at));
    this.sinceSnapshot++;
    if (this.leading && hl > 0) this.host.consumerStateApplied(d.toString('latin1', 3, 3 + hl));
    if (acked !== null) this.host.consumerAcked(this, acked);
    // A new consumer's first state is committed: a later leader starts where this one did.
    if (this.leading) this.answerPending();
  }

  private answerPending(): void {
    if (this.state === null) return;
    for (const answer of this.pendingLeader.splice(0)) answer();
  }

  restore(_index: number, data: Buffer): void {
    if (this.closed) return;
    this.state = data.length === 0 ? null : Buffer.from(data);
    this.sinceSnapshot = 0;
    this.host.consumerAcked(this, null);
  }

  stateChanged(role: RaftRole, leader: string | null): void {
    // Another member leads: it answers what waits for a leader.
    if (leader !== null && this.group !== null && leader !== this.group.selfName) this.pendingLeader.length = 0;
    if (role === 'leader' || !this.leading || this.closed) return;
    this.leading = false;
    this.host.consumerLeaderChanged(this, false);
  }

  leaderReady(): void {
    if (this.leading || this.closed) return;
    this.leading = true;
    this.host.consumerLeaderChanged(this, true);
    this.answerPending();
  }

  /** Set when its stream moved off this server: called once the group let this member go. */
  onDropped: (() => void) | null = null;

  tick(): void {
    const g = this.group;
    if (this.closed || g === null) return;
    // Out of the voters, or no leader for two election timeouts (a removed member may never
    // hear of its removal: the leader stops writing to it).
    if (this.onDropped !== null && !this.leading
      && (!g.peers.includes(g.selfName) || (g.leader === null && Date.now() - g.lastLeaderContact > 2 * g.timing.electionTimeoutMax))) {
      const drop = this.onDropped;
      this.onDropped = null;
      drop();
      return;
    }
    if (this.leading) reconcilePeers(g, this.targetPeers());
    if (this.sinceSnapshot >= COMPACT_ENTRIES) {
      this.sinceSnapshot = 0;
      g.compact(this.state ?? Buffer.alloc(0));
    }
  }

  /** Stops the group (the live consumer, if any, is the caller's to stop). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.leading = false;
    this.pendingLeader.length = 0;
    this.group?.close();
  }
}
