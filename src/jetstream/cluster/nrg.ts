/**
 * The Raft groups of one server's clustered JetStream, driven and carried — nats-server's NRG
 * layer (server/raft.go) around the pure core of `raft/`.
 *
 * One {@link NrgHub} per server owns an internal client in the system account `$SYS` and the
 * one timer that ticks every group. A group's messages are internal publications on
 * `$NRG.X.<to>.<from>.<group>` (peer ids: {@link peerId}), carried over the routes as any
 * message in `$SYS` is; each server subscribes to `$NRG.X.<self>.>` once. (nats-server's own
 * groups use other `$NRG.` subjects and another wire format; a cluster that mixes the two with
 * JetStream on both is refused by the cluster manager, see ARCHITECTURE.md.)
 *
 * A {@link RaftGroup} feeds its `RaftNode` (ticks, messages, proposals) and then, once per
 * microtask, calls `ready()` — which syncs the storage — and acts on the outputs: sends the
 * messages, applies committed entries through its {@link GroupHost}, reports role changes.
 */
import type { Account } from '../../broker/account.js';
import type { BrokerCore } from '../../broker/core.js';
import type { InternalClient, InternalMessage } from '../../broker/internal.js';
import { encodeMessage } from '../../raft/codec.js';
import { RaftNode } from '../../raft/node.js';
import type { RaftStorage } from '../../raft/storage.js';
import { getHash } from '../sourcing-wire.js';
import { EntryType, type RaftOutput, type RaftRole, type RaftTiming } from '../../raft/types.js';

/** The subject prefix of the groups' messages. */
const PREFIX = '$NRG.X.';

/**
 * A server's peer id in its groups, as nats-server makes it (`getHash` of the server name's
 * UTF-8 bytes): the `peer` STREAM.INFO shows, and a valid subject token whatever the name holds.
 */
export function peerId(serverName: string): string {
  return getHash(Buffer.from(serverName, 'utf8').toString('latin1'));
}

/** What a group does with its outputs. */
export interface GroupHost {
  /** A committed entry of the application, in index order, once per start of the group. */
  apply(index: number, data: Buffer): void;
  /** The role or the leader changed (`leader`: a server name, or null while there is none). */
  stateChanged(role: RaftRole, leader: string | null): void;
  /**
   * This server leads and has applied every entry committed before its term (it applied the
   * first entry of its own term): its state machine is current, it may answer for the group.
   */
  leaderReady(): void;
  /** Called on every tick of the hub (after the node's). */
  tick?(): void;
  /**
   * The group's state is a snapshot's (`data`, through log index `index`): at start from this
   * member's own snapshot, or installed from the leader when this member is behind its log.
   * Entries after `index` are applied next. A group whose host has none never compacts.
   */
  restore?(index: number, data: Buffer): void;
}

/** How a replica looks from its group's leader (STREAM.INFO's `cluster.replicas`). */
export interface ReplicaView {
  readonly name: string;
  /** Its log matches the leader's last entry. */
  readonly current: boolean;
  /** Milliseconds since it last answered (nats-server's `active`). */
  readonly activeMs: number;
  /** Entries behind the leader. */
  readonly lag: number;
  /** Not heard from within an election timeout. */
  readonly offline: boolean;
}

/** One group on this server. Create it through {@link NrgHub.group}. */
export class RaftGroup {
  readonly node: RaftNode;
  private closed = false;
  private role: RaftRole = 'follower';
  private leaderId: string | null = null;
  /** The term in which this server, leading, was last reported ready. */
  private readyTerm = -1;
  /** Since when the group has had no leader (its creation at first); 0 while it has one. */
  private leaderlessSince = Date.now();
  /** A leader was known at some point (nats-server's `pleader`, RAFTZ's `ever_had_leader`). */
  everHadLeader = false;

  /** @internal */
  constructor(
    readonly name: string,
    private readonly hub: NrgHub,
    readonly storage: RaftStorage,
    peers: readonly string[],
    private readonly host: GroupHost,
  ) {
    this.node = new RaftNode({
      id: hub.selfId,
      peers: peers.map((p) => hub.idOf(p)),
      storage,
      now: Date.now(),
      timing: hub.timing,
    });
  }

  get isLeader(): boolean {
    return this.role === 'leader';
  }

  /** The server name of the leader, or null. */
  get leader(): string | null {
    return this.leaderId === null ? null : this.hub.nameOf(this.leaderId);
  }

  /** When (ms) this member last heard from a leader: when it lost it, or its creation. */
  get lastLeaderContact(): number {
    return this.leaderlessSince > 0 ? this.leaderlessSince : Date.now();
  }

  /** The server names of the voters. */
  get peers(): string[] {
    return this.node.peers.map((id) => this.hub.nameOf(id));
  }

  /**
   * Without a leader for longer than nats-server's lostQuorumInterval (10 heartbeats): a member
   * then answers for the group itself (isGroupLeaderless).
   */
  leaderless(now = Date.now()): boolean {
    return this.leaderId === null && this.leaderlessSince > 0 && now - this.leaderlessSince > 10 * this.hub.timing.heartbeatInterval;
  }

  /** Appends `data` if this server leads; false otherwise (it is then not proposed). */
  propose(data: Uint8Array): boolean {
    if (this.closed) return false;
    const r = this.node.propose(data);
    this.hub.dirty(this);
    return r.ok;
  }

  /** The Raft timing of the server's groups. */
  get timing(): RaftTiming {
    return this.hub.timing;
  }

  /** This server's name. */
  get selfName(): string {
    return this.hub.selfName;
  }

  /** Proposes adding voter `name` (refused while another change is pending). */
  addPeer(name: string): boolean {
    if (this.closed) return false;
    const r = this.node.proposeAddPeer(this.hub.idOf(name));
    this.hub.dirty(this);
    return r.ok;
  }

  /** Proposes removing voter `name` (refused while another change is pending). */
  removePeer(name: string): boolean {
    if (this.closed) return false;
    const r = this.node.proposeRemovePeer(this.hub.idOf(name));
    this.hub.dirty(this);
    return r.ok;
  }

  /**
   * Compacts the log through the last applied entry into a snapshot of the host's state `data`
   * (which must be the state after that entry). False when there is nothing to compact.
   */
  compact(data: Uint8Array): boolean {
    if (this.closed) return false;
    const ok = this.node.compact(this.node.status.applied, data);
    if (ok) this.hub.dirty(this);
    return ok;
  }

  /** @internal The hub's tick. */
  hostTick(): void {
    this.host.tick?.();
  }

  /** Leader stepdown (to `preferred`, a server name, when its log is complete). False when not the leader. */
  stepDown(preferred?: string): boolean {
    if (this.closed) return false;
    const ok = this.node.stepDown(preferred === undefined ? undefined : this.hub.idOf(preferred));
    this.hub.dirty(this);
    return ok;
  }

  /** The other voters as the leader sees them; [] on a follower. */
  replicas(now = Date.now()): ReplicaView[] {
    const st = this.node.status;
    const out: ReplicaView[] = [];
    for (const id of st.peers) {
      if (id === this.hub.selfId) continue;
      const p = this.node.progressOf(id);
      if (p === undefined) continue;
      const activeMs = Math.max(0, now - p.lastAck);
      out.push({
        name: this.hub.nameOf(id),
        current: p.match >= st.lastIndex,
        activeMs,
        lag: Math.max(0, st.lastIndex - p.match),
        offline: activeMs > this.hub.timing.electionTimeoutMax,
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** @internal A message from a peer. */
  receive(from: string, data: Buffer): void {
    if (!this.closed) this.node.receive(from, data);
  }

  /**
   * @internal Acts on the node's outputs. A failure of one (a bug: counted as an internal error)
   * does not stop the others: the node has handed them over for good.
   */
  pump(): void {
    if (this.closed) return;
    const out = this.node.ready();
    for (const o of out) {
      if (this.closed) return;
      try {
        this.act(o);
      } catch (err) {
        this.hub.reportError(err, `raft group ${this.name}: ${o.type}`);
      }
    }
  }

  private act(o: RaftOutput): void {
    {
      switch (o.type) {
        case 'send':
          this.hub.send(this.name, o.to, encodeMessage(o.message));
          break;
        case 'apply':
          if (o.entry.type === EntryType.Normal) {
            const d = o.entry.data;
            this.host.apply(o.index, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
          }
          if (this.role === 'leader' && this.readyTerm !== o.entry.term && o.entry.term === this.node.status.term) {
            this.readyTerm = o.entry.term;
            this.host.leaderReady();
          }
          break;
        case 'state':
          this.role = o.role;
          this.leaderId = o.leader;
          if (o.leader !== null) {
            this.leaderlessSince = 0;
            this.everHadLeader = true;
          }
          else if (this.leaderlessSince === 0) this.leaderlessSince = Date.now();
          this.host.stateChanged(o.role, this.leader);
          break;
        case 'restore': {
          if (this.host.restore === undefined) throw new Error(`raft group ${this.name}: a snapshot for a group that has none`);
          const d = o.snapshot.data;
          this.host.restore(o.snapshot.lastIndex, Buffer.from(d.buffer, d.byteOffset, d.byteLength));
          break;
        }
      }
    }
  }

  /** Stops the group (its storage is closed by the caller). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.forget(this);
  }
}

/** The groups of one server and their transport. */
export class NrgHub {
  readonly selfId: string;
  private readonly client: InternalClient;
  private readonly groups = new Map<string, RaftGroup>();
  private readonly names = new Map<string, string>();
  private readonly pending = new Set<RaftGroup>();
  /** Messages for groups not started yet, by group, for up to an election timeout. */
  private readonly early = new Map<string, { at: number; msgs: Array<[string, Buffer]> }>();
  private pumpQueued = false;
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(
    core: BrokerCore,
    system: Account,
    readonly selfName: string,
    readonly timing: RaftTiming,
    private readonly internalError: (err: unknown, what: string) => void,
  ) {
    this.selfId = this.idOf(selfName);
    this.client = core.internalClient('$NRG', system);
    this.client.subscribe(`${PREFIX}${this.selfId}.>`, (msg) => this.onMessage(msg));
    const tickMs = Math.max(5, Math.min(100, Math.floor(timing.heartbeatInterval / 4)));
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  /** The peer id of a server name (and remembers the name for {@link nameOf}). */
  idOf(name: string): string {
    const id = peerId(name);
    this.names.set(id, name);
    return id;
  }

  /** The server name of a peer id (the id itself when the name is unknown). */
  nameOf(id: string): string {
    return this.names.get(id) ?? id;
  }

  /** Starts group `name` with `peers` (server names, this one included; [] to join an existing group). */
  group(name: string, peers: readonly string[], storage: RaftStorage, host: GroupHost): RaftGroup {
    if (this.groups.has(name)) throw new Error(`raft group ${name} exists`);
    const g = new RaftGroup(name, this, storage, peers, host);
    this.groups.set(name, g);
    const early = this.early.get(name);
    if (early !== undefined) {
      this.early.delete(name);
      for (const [from, data] of early.msgs) g.receive(from, data);
    }
    this.dirty(g);
    return g;
  }

  get(name: string): RaftGroup | undefined {
    return this.groups.get(name);
  }

  /** The groups on this server (RAFTZ). */
  list(): RaftGroup[] {
    return [...this.groups.values()];
  }

  /** @internal */
  forget(g: RaftGroup): void {
    if (this.groups.get(g.name) === g) this.groups.delete(g.name);
    this.pending.delete(g);
  }

  /** @internal A failure in a group's driver or host (a bug). */
  reportError(err: unknown, what: string): void {
    this.internalError(err, what);
  }

  /** @internal Schedules `g`'s outputs for the next microtask. */
  dirty(g: RaftGroup): void {
    this.pending.add(g);
    if (this.pumpQueued || this.closed) return;
    this.pumpQueued = true;
    queueMicrotask(() => this.pump());
  }

  /** @internal */
  send(group: string, to: string, bytes: Uint8Array): void {
    if (this.closed) return;
    this.client.publish(`${PREFIX}${to}.${this.selfId}.${group}`, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  private onMessage(msg: InternalMessage): void {
    // $NRG.X.<to>.<from>.<group>
    const s = msg.subject;
    const fromAt = PREFIX.length + this.selfId.length + 1;
    const dot = s.indexOf('.', fromAt);
    if (dot < 0) return;
    const name = s.slice(dot + 1);
    const g = this.groups.get(name);
    if (g === undefined) {
      // A group this server is about to start (its store still opening): kept for a moment, so
      // that a new group's first election is not lost to the race.
      let early = this.early.get(name);
      if (early === undefined) {
        if (this.early.size >= 1024) return;
        early = { at: Date.now(), msgs: [] };
        this.early.set(name, early);
      }
      if (early.msgs.length < 256) early.msgs.push([s.slice(fromAt, dot), Buffer.from(msg.data)]);
      return;
    }
    g.receive(s.slice(fromAt, dot), msg.data);
    this.dirty(g);
  }

  private tick(): void {
    const now = Date.now();
    for (const [name, e] of this.early) if (now - e.at > this.timing.electionTimeoutMax) this.early.delete(name);
    for (const g of this.groups.values()) {
      try {
        g.node.tick(now);
        g.hostTick();
      } catch (err) {
        this.internalError(err, `raft group ${g.name}: tick`);
      }
      this.dirty(g);
    }
  }

  private pump(): void {
    this.pumpQueued = false;
    // Outputs may start groups or make others dirty: loop until none is left.
    while (this.pending.size > 0 && !this.closed) {
      const list = [...this.pending];
      this.pending.clear();
      for (const g of list) {
        try {
          g.pump();
        } catch (err) {
          this.internalError(err, `raft group ${g.name}`);
        }
      }
    }
  }

  /** Stops the timer and the transport; the groups stop with it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.early.clear();
    for (const g of [...this.groups.values()]) g.close();
    this.client.close();
  }
}
