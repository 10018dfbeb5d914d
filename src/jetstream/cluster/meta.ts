/**
 * Longer than ~500 lines: the meta group's state machine and the API answers that read its
 * assignments share that state (a split into an API room is noted as a follow-up); the
 * transport (nrg.ts) and the stream groups (stream-replica.ts) live in their own files.
 *
 * Clustered JetStream on one server: the meta group, the assignments it replicates, this
 * server's stream replicas, and who answers which API request — nats-server's jetStreamCluster
 * (server/jetstream_cluster.go, v2.10.29), on the Raft core of `raft/` (nrg.ts carries it).
 *
 * - **The meta group** (`_meta_`, every JetStream server of the cluster a voter) replicates the
 *   assignments: which streams exist in which account, with which config, on which peers, in
 *   which Raft group. Its leader answers the account-wide requests (INFO, STREAM.CREATE, NAMES,
 *   LIST, DELETE) after checking them against the assignments; a change is an entry of its log,
 *   applied by every server, and a server among the stream's peers starts its replica.
 * - **A stream group** per stream (stream-replica.ts) replicates its messages and its changes.
 *   Its leader answers the stream's requests (INFO, MSG.GET, PURGE, ...), takes its publishes, and
 *   sends the STREAM.CREATE answer once it is first elected (nats-server's "stream leader
 *   responds"), so a client can publish as soon as it has the answer.
 * - The other servers stay silent: every server receives a request (each has the API
 *   subscription, and interest crosses the routes), as in nats-server.
 *
 * Logs are replayed at start: a server's streams are rebuilt from the meta log and each stream's
 * store from its group's log (stores start empty; the logs live in `<store>/jetstream/$SYS/_js_/`).
 *
 * Consumers: a durable consumer is created, updated and deleted through its stream's log, and its
 * state (delivered, ack floor, pending) follows as entries of the leader's snapshots; it runs on
 * the stream's leader only (nats-server gives each consumer a group of its own: here its
 * leadership is the stream's). An ephemeral consumer of a limits stream lives on the stream
 * leader alone; on interest and work-queue streams every consumer is replicated, and the
 * removals their acks cause are entries of the stream's log.
 *
 * Mirrors and sources: the stream's leader runs the copying (sourcing.ts: the consumers on the
 * origins, flow control, heartbeats) and proposes each copy to the stream's log; every replica
 * stores it the same way (a mirror's at the origin's sequence). A new leader resumes from what
 * its store has, as a restarted single server does.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { BrokerCore } from '../../broker/core.js';
import type { InternalClient } from '../../broker/internal.js';
import { FileRaftStorage } from '../../raftstore/file-storage.js';
import { EntryType, type RaftRole, type RaftTiming } from '../../raft/types.js';
import { apiErrorResponse, jsError, type ApiError } from '../errors.js';
import {
  accountInfoAnswer, applyReplicatedRequest, checkConsumerRequest, commitConsumerCreate, publicConsumerCount, fail, isEmptyRequest, LIST_LIMIT, NAMES_LIMIT, ok, pageRequest, response, send, streamInfo,
  type Answer, type ApiAccount, type ClusterApi,
} from '../api.js';
import type { Consumer } from '../consumer.js';
import { encodeConsumerConfig, type ConsumerConfig } from '../consumer-config.js';
import type { ConsumerSnapshot } from '../consumer-state.js';
import type { InterestState } from '../interest.js';
import { goJson, rfc3339Nano } from '../../protocol/go-format.js';
import { newNuid } from '../../broker/ids.js';
import { checkStreamConfig } from '../stream-config-check.js';
import { checkStreamUpdate } from '../stream-config-update.js';
import { decodeStreamConfig, encodeStreamConfig, type StreamConfig } from '../stream-config.js';
import { subjectsOverlap, subjectsCollide } from '../subject-rules.js';
import type { Stream } from '../stream.js';
import { NrgHub, type GroupHost, type RaftGroup } from './nrg.js';
import { StreamReplica, type CompactionPolicy, type ConsumerProposal, type ReplicaHost, type ReplicatedRequest } from './stream-replica.js';
import { PeerDirectory } from './peer-info.js';
import { selectPeers, type PeerCandidate } from './placement.js';
import { SERVER_REMOVE_KIND, SERVER_REMOVED_ADVISORY, serverRemovedAdvisory, serverRemoveTarget, stepdownPlacement } from './server-remove.js';
import { MetaJoin } from './meta-join.js';
import { ClusterConsumers, consumerGroupName } from './consumers.js';

/** What the cluster layer needs of the engine. */
export interface ClusterEngine {
  readonly core: BrokerCore;
  /** `<store>/jetstream`. */
  readonly root: string;
  /** The account's JetStream, when enabled. */
  enabledAccount(name: string): (ApiAccount & {
    addStream(cfg: StreamConfig, created?: number): Promise<Stream>;
    deleteStream(stream: Stream): Promise<void>;
    readonly streams: ReadonlyMap<string, Stream>;
    serialize(task: () => void | Promise<void>): void;
    resumeConsumer(stream: Stream, name: string, cfg: ConsumerConfig, created: number, state: ConsumerSnapshot | null): Consumer;
    advise(subject: string, body: (domain: string | null) => string): void;
    /** A mirror's or sources' copying (sourcing.ts), run by the stream's leader only. */
    startSourcing(stream: Stream): void;
    stopSourcing(stream: Stream): void;
  }) | undefined;
  internalError(err: unknown, what: string): void;
  clusterName(): string;
  readonly config: { readonly domain: string | null; readonly uniqueTag: string };
}

/** Options of clustered JetStream. */
export interface JsClusterOptions {
  /** The server names of the cluster's JetStream servers, this one included. */
  readonly peers: readonly string[];
  readonly timing: RaftTiming;
  /** This server's name. */
  readonly self: string;
  /** When stream logs are compacted (default nats-server's thresholds). */
  readonly compaction?: CompactionPolicy;
  /** How old (ms) a SERVER.REMOVE must be before the server may join again (default 5 min, nats-server's peerRemoveTimeout). */
  readonly peerRemoveTimeout?: number;
}

interface StreamAssignment {
  readonly account: string;
  /** The config in force as the meta group knows it (the stream's log applies it in its order). */
  readonly cfg: StreamConfig;
  /** The config the stream was created with: a replica's store starts with it, and its log replays the changes. */
  readonly createCfg: StreamConfig;
  /** `cfg` and `createCfg` as the meta entries wrote them (JSON). */
  readonly cfgJson: string;
  readonly createJson: string;
  readonly created: number;
  readonly group: string;
  readonly peers: readonly string[];
}

type MetaEntry =
  | { op: 'stream'; account: string; config: string; created: number; group: string; peers: string[]; reply: string; subject: string }
  | { op: 'delete'; account: string; name: string; reply: string; subject: string }
  /** A config change; `kind` 'stream_create' for an identical create (answered as one). */
  | {
    op: 'update'; account: string; config: string; created: number; reply: string; subject: string;
    /** 'stream_create': an identical create; 'stream_remove_peer': peers only (a replica moved, dropped or added), nothing answered. */
    kind: 'stream_update' | 'stream_create' | 'stream_remove_peer'; peers?: string[];
  }
  /** SERVER.REMOVE: the server leaves the meta group and its replicas move (processRemovePeer). */
  | { op: 'server_remove'; peer: string; created: number }
  /** A removed server may join again (its removal is peerRemoveTimeout old): its removal is forgotten. */
  | { op: 'server_rejoin'; peer: string };

const META_GROUP = '_meta_';
/** nats-server's peerRemoveTimeout (raft.go): a removed server may join again after 5 minutes. */
const PEER_REMOVE_TIMEOUT = 5 * 60_000;
/** An answer is sent only for entries this recent (not when a restarted server replays its log). */
const LIVE_MS = 10_000;

const key = (account: string, stream: string): string => `${account}\u0000${stream}`;

/** Endpoints whose answer comes from the stream leader's replica as a single server's would. */
const STREAM_LOCAL = new Set(['STREAM.INFO', 'STREAM.MSG.GET', 'CONSUMER.NAMES', 'CONSUMER.LIST', 'CONSUMER.INFO']);
/** Consumer endpoints that change a durable consumer: through the stream's log. */
const CONSUMER_WRITES = new Set(['CONSUMER.CREATE', 'CONSUMER.DURABLE.CREATE', 'CONSUMER.DELETE']);
/** Stream endpoints that change the stream: through its log, answered by its leader. */
const STREAM_REPLICATED = new Set(['STREAM.PURGE', 'STREAM.MSG.DELETE']);

export class JsCluster implements ClusterApi, GroupHost, ReplicaHost {
  readonly hub: NrgHub;
  /** Requests between the servers' JetStream layers (account usage), in $SYS. */
  private readonly sys: InternalClient;
  private metaGroup: RaftGroup;
  private readonly metaStorage: FileRaftStorage;
  /** Joining a running cluster's meta group (meta-join.ts). */
  private readonly join: MetaJoin;
  private readonly assignments = new Map<string, StreamAssignment>();
  private readonly replicas = new Map<string, StreamReplica>();
  private readonly storages = new Map<StreamReplica, FileRaftStorage>();
  /** The replicated consumers (consumers.ts). */
  private readonly consumers: ClusterConsumers;
  private metaLeader = false;
  /** When the meta group last lost its leader (0 while it has one). */
  private leaderlessSince = Date.now();
  private closed = false;
  /** Servers removed by SERVER.REMOVE (their server_remove entry applied), with when it was proposed. */
  private readonly removedServers = new Map<string, number>();
  /** Removals this meta leader proposed that are not applied yet (a second request answers 10044). */
  private readonly pendingRemovals = new Set<string>();
  /** This server was removed: its JetStream is off in the cluster (nats-server disables it). */
  private removedSelf = false;
  private leaveTimer: NodeJS.Timeout | null = null;
  /** Removed: the meta leader that last told this server so (what metaLeaderName() reports). */
  private removedLeader: string | null = null;
  private lastRemovedNotice = 0;
  /** The meta log was empty at start (a new server, or one whose store was wiped), and when that was. */
  private readonly startedEmpty: boolean;
  private readonly startedAt = Date.now();
  /** The meta leader: the voters at its last tick (null: not leading), to notice a server that joined. */
  private knownVoters: Set<string> | null = null;
  /** The other servers' tags (placement). */
  private readonly peerDir: PeerDirectory;
  /** The meta leader this server last announced its tags to. */
  private announcedTo: string | null = null;

  constructor(
    private readonly engine: ClusterEngine,
    readonly options: JsClusterOptions,
  ) {
    const core = engine.core;
    this.hub = new NrgHub(core, core.account('$SYS'), options.self, options.timing, (err, what) => engine.internalError(err, what));
    this.sys = core.internalClient('$JSC', core.account('$SYS'));
    this.peerDir = new PeerDirectory(this.sys, options.self, () => core.options.serverTags, (err, what) => engine.internalError(err, what));
    this.peerDir.announce(true);
    // A peer's share of an account's usage (accountInfo on the meta leader).
    this.sys.subscribe(`$JSC.U.${this.hub.selfId}`, (msg) => {
      if (msg.reply !== '') this.sys.reply(msg.reply, JSON.stringify(this.localUsage(msg.data.toString('utf8'))));
    });
    // The meta leader tells a removed server that did not see its own removal (down, or cut
    // off before the entry reached it) that it is out.
    this.sys.subscribe(`$JSC.RM.${this.hub.selfId}`, (msg) => {
      // Not for a server joining with an empty log (a removed server started afresh): it waits to be added.
      if (this.join.joining && this.meta.node.status.lastIndex === 0) return;
      this.leaveCluster();
      this.removedLeader = msg.data.toString('utf8');
    });
    this.consumers = new ClusterConsumers({
      hub: this.hub,
      sys: this.sys,
      groupsDir: this.groupsDir,
      enabledAccount: (name) => engine.enabledAccount(name),
      replica: (account, stream) => this.replicas.get(key(account, stream)),
      groupInfo: (g) => this.groupInfo(g),
      internalError: (err, what) => engine.internalError(err, what),
      offlineOnMeta: (peers) => this.meta.isLeader && peers.length > 0
        && peers.every((p) => p !== this.hub.selfName && this.meta.replicas().some((r) => r.name === p && r.offline)),
    });
    // A consumer leader asks this stream leader to delete an inactive consumer.
    this.sys.subscribe(`$JSC.CD.${this.hub.selfId}`, (msg) => this.consumers.deleteRequested(msg.data));
    this.metaStorage = new FileRaftStorage(join(this.groupsDir, META_GROUP));
    // An empty meta log: no voters until the cluster answers (a new cluster: bootstrap with
    // `peers`; a running one: wait to be added, learning the voters from the leader's log).
    const stored = this.metaStorage.load();
    const empty = stored.entries.length === 0 && stored.snapshot === null;
    this.startedEmpty = empty;
    this.metaGroup = this.hub.group(META_GROUP, empty ? [] : options.peers, this.metaStorage, this);
    const self = options.self;
    this.join = new MetaJoin({
      self,
      clusterPeers: options.peers,
      sys: this.sys,
      idOf: (name) => this.hub.idOf(name),
      meta: () => this.meta,
      answersForAll: () => this.metaLeader && !this.removedSelf,
      knownLeader: () => this.meta.leader,
      removedAt: (name) => this.removedServers.get(name),
      removalPending: (name) => this.pendingRemovals.has(name),
      proposeRejoin: (name) => {
        const entry: MetaEntry = { op: 'server_rejoin', peer: name };
        this.meta.propose(Buffer.from(JSON.stringify(entry), 'utf8'));
      },
      bootstrap: () => this.bootstrapMeta(),
      heartbeatMs: options.timing.heartbeatInterval,
      peerRemoveTimeoutMs: options.peerRemoveTimeout ?? PEER_REMOVE_TIMEOUT,
    }, empty);
  }

  /** The meta group (`_meta_`). */
  get meta(): RaftGroup {
    return this.metaGroup;
  }

  /** A new cluster (meta-join.ts): the still empty meta group restarts with `peers` as its voters. */
  private bootstrapMeta(): void {
    if (this.closed || this.removedSelf) return;
    this.metaStorage.sync();
    this.metaGroup.close();
    this.metaGroup = this.hub.group(META_GROUP, this.options.peers, this.metaStorage, this);
  }

  private get groupsDir(): string {
    return join(this.engine.root, '$SYS', '_js_');
  }

  get isMetaLeader(): boolean {
    return this.metaLeader;
  }

  // ---- The meta group ------------------------------------------------------------------------

  stateChanged(role: RaftRole, leader: string | null): void {
    // Answering as the leader waits for leaderReady: the assignments must be current.
    if (role !== 'leader') {
      this.metaLeader = false;
      this.knownVoters = null;
      // Removals proposed as leader and not applied yet may never be (a new leader decides).
      this.pendingRemovals.clear();
    }
    if (leader !== null) this.leaderlessSince = 0;
    else if (this.leaderlessSince === 0) this.leaderlessSince = Date.now();
    // A new meta leader hears this server's tags (it may have missed them: routes not up yet).
    if (leader !== null && leader !== this.hub.selfName && leader !== this.announcedTo) {
      this.announcedTo = leader;
      this.peerDir.announce(false);
    }
  }

  /**
   * No meta leader for longer than nats-server's lostQuorumInterval (10 heartbeats: 10 s with its
   * timing): the account-wide requests are answered 10008 "JetStream system temporarily
   * unavailable" by every server (isLeaderless) instead of going unanswered.
   */
  private metaUnavailable(): boolean {
    // A server waiting to be added is not a member: it stays silent.
    if (this.join.joining) return false;
    return this.meta.leader === null && this.leaderlessSince > 0 && Date.now() - this.leaderlessSince > 10 * this.options.timing.heartbeatInterval;
  }

  leaderReady(): void {
    if (this.removedSelf) return;
    this.metaLeader = true;
    this.peerDir.announce(true);
    // Streams still on a removed server (its former leader lost the lead before moving them all).
    for (const name of this.removedServers.keys()) this.remapServer(name);
  }

  answersForAll(): boolean {
    return this.metaLeader;
  }

  /**
   * META.LEADER.STEPDOWN (system account only; jsLeaderStepDownRequest): with `placement.cluster`,
   * the lead goes to a responsive other member of that cluster (10005 "no replacement peer
   * connected" when there is none).
   */
  metaStepdown(jsa: ApiAccount, reply: string, subject: string, body: Buffer): void {
    if (!this.metaLeader || this.removedSelf) return;
    const kind = 'meta_leader_stepdown';
    const placement = stepdownPlacement(body);
    if (placement !== null && 'error' in placement) return this.answer(jsa, reply, subject, body, fail(kind, placement.error));
    let preferred: string | undefined;
    if (placement !== null) {
      const others = placement.cluster === this.engine.clusterName() ? this.placeable().filter((p) => p !== this.hub.selfName) : [];
      preferred = shuffle(others)[0];
      if (preferred === undefined) return this.answer(jsa, reply, subject, body, fail(kind, jsError('JSClusterNoPeersErrF', { err: 'no replacement peer connected' })));
    }
    this.meta.stepDown(preferred);
    this.answer(jsa, reply, subject, body, ok(response(kind, { success: true })));
  }

  apply(_index: number, data: Buffer): void {
    let e: MetaEntry;
    try {
      e = JSON.parse(data.toString('utf8')) as MetaEntry;
    } catch (err) {
      this.engine.internalError(err, 'JetStream meta group: an entry that is not JSON');
      return;
    }
    if (e.op === 'stream') this.applyStream(e);
    else if (e.op === 'delete') this.applyDelete(e);
    else if (e.op === 'update') this.applyUpdate(e);
    else if (e.op === 'server_remove') this.applyServerRemove(e, _index);
    else if (e.op === 'server_rejoin') this.applyServerRejoin(e);
  }

  /** A removed server asked to join again once its removal was peerRemoveTimeout old: the meta leader adds it. */
  private applyServerRejoin(e: Extract<MetaEntry, { op: 'server_rejoin' }>): void {
    this.removedServers.delete(e.peer);
    // Refused while another change is pending: the server asks again.
    if (this.metaLeader && !this.meta.peers.includes(e.peer)) this.meta.addPeer(e.peer);
  }

  // ---- SERVER.REMOVE -------------------------------------------------------------------------

  /**
   * `$JS.API.SERVER.REMOVE` (system account only; jsLeaderServerRemoveRequest): the meta leader
   * checks the body against the meta group's members, proposes the removal and answers success
   * at once, as nats-server does after ProposeRemovePeer.
   */
  serverRemove(jsa: ApiAccount, reply: string, subject: string, body: Buffer): void {
    if (!this.metaLeader || this.removedSelf) return;
    const members = this.meta.peers.filter((p) => !this.removedServers.has(p) && !this.pendingRemovals.has(p));
    const target = serverRemoveTarget(body, members, (name) => this.hub.idOf(name));
    if ('error' in target) return this.answer(jsa, reply, subject, body, fail(SERVER_REMOVE_KIND, target.error));
    const entry: MetaEntry = { op: 'server_remove', peer: target.peer, created: Date.now() };
    if (!this.meta.propose(Buffer.from(JSON.stringify(entry), 'utf8'))) {
      return this.answer(jsa, reply, subject, body, fail(SERVER_REMOVE_KIND, jsError('JSClusterNotAvailErr')));
    }
    this.pendingRemovals.add(target.peer);
    this.answer(jsa, reply, subject, body, ok(response(SERVER_REMOVE_KIND, { success: true })));
  }

  /**
   * A removal applied (every server, in log order): the meta leader moves the server's stream
   * replicas to free servers (processRemovePeer → removePeerFromStream) and, on its ticks, takes
   * it out of the meta group's voters; the removed server itself leaves (see leaveCluster).
   */
  private applyServerRemove(e: Extract<MetaEntry, { op: 'server_remove' }>, index: number): void {
    this.pendingRemovals.delete(e.peer);
    if (this.removedServers.has(e.peer)) return;
    this.removedServers.set(e.peer, e.created);
    if (this.metaLeader) this.remapServer(e.peer);
    if (e.peer === this.hub.selfName && !this.removalSuperseded(e, index)) this.leaveCluster();
  }

  /**
   * This server's removal at `index` was followed by its return (meta-join.ts): it started with
   * an empty log after the removal (the leader admits a removed server only after a
   * server_rejoin entry, which this server may not have received yet), or a server_rejoin of it
   * follows in its log (a restart replays both).
   */
  private removalSuperseded(e: Extract<MetaEntry, { op: 'server_remove' }>, index: number): boolean {
    if (this.startedEmpty && e.created < this.startedAt) return true;
    this.metaStorage.sync();
    // The meta log is never compacted: entry i is index i + 1.
    const entries = this.metaStorage.load().entries;
    for (let i = index; i < entries.length; i++) {
      const entry = entries[i]!;
      if (entry.type !== EntryType.Normal) continue;
      const text = Buffer.from(entry.data).toString('utf8');
      if (!text.includes('"server_rejoin"')) continue;
      try {
        const later = JSON.parse(text) as MetaEntry;
        if (later.op === 'server_rejoin' && later.peer === this.hub.selfName) return true;
      } catch {
        // Not an entry of ours (counted when applied).
      }
    }
    return false;
  }

  /** When this meta leader last proposed moving each stream (key) off a removed server. */
  private readonly movesProposed = new Map<string, number>();

  /**
   * Proposes moving every stream with a replica on `peer` (the meta leader). `again`: the tick's
   * repair of a move computed from an assignment another move was changing — not while a move of
   * the stream may still be on its way (it would be computed from the same stale assignment).
   */
  private remapServer(peer: string, again = false): void {
    const now = Date.now();
    for (const [k, sa] of this.assignments) {
      if (!sa.peers.includes(peer)) continue;
      if (again && now - (this.movesProposed.get(k) ?? 0) < 2 * this.options.timing.electionTimeoutMax) continue;
      this.movesProposed.set(k, now);
      this.remapPeer(sa, peer, '$JS.API.SERVER.REMOVE');
    }
  }

  /**
   * Proposes the stream's peers without `peer`: a free responsive server takes its place
   * (remapStreamAssignment); without one, a replicated stream is one smaller and a single
   * replica stays where it is ("to avoid bricking the stream"). True when a server took its place.
   */
  private remapPeer(sa: StreamAssignment, peer: string, subject: string): { proposed: boolean; replaced: boolean } {
    // remapStreamAssignment: selectPeerGroup keeping the others, with the stream's placement.
    const retain = sa.peers.filter((p) => p !== peer);
    const selected = this.selectPeers(sa.cfg, sa.peers.length, retain, [peer]);
    const spare = 'error' in selected ? undefined : selected.peers.find((p) => !retain.includes(p));
    if (spare === undefined && sa.peers.length === 1) return { proposed: true, replaced: false };
    const peers = sa.peers.flatMap((p) => (p !== peer ? [p] : spare === undefined ? [] : [spare]));
    const entry: MetaEntry = { op: 'update', account: sa.account, config: encodeStreamConfig(sa.cfg), created: Date.now(), reply: '', subject, kind: 'stream_remove_peer', peers };
    return { proposed: this.meta.propose(Buffer.from(JSON.stringify(entry), 'utf8')), replaced: spare !== undefined };
  }

  /** The servers new replicas may go to: this one and the responsive others, not removed ones. */
  private placeable(): string[] {
    const names = [this.hub.selfName, ...this.meta.replicas().filter((p) => !p.offline).map((p) => p.name)];
    return names.filter((n) => !this.removedServers.has(n) && !this.pendingRemovals.has(n));
  }

  /**
   * This server was removed (processRemovePeer "JetStream being DISABLED, our server was removed
   * from the cluster"): it announces it and stops answering. Its groups stop campaigning but keep
   * acknowledging until the leaders have taken it out of their voters — nats-server changes the
   * peer sets at once; here the leaders change them one at a time through their logs, which may
   * need this server's acknowledgement to commit (a group with another member down, two removals
   * back to back). A meta leader removes itself as a voter (it leads until that commits, then
   * steps aside). Its stream replicas go once their move is applied (`onDropped`), or once they
   * hear no leader for two election timeouts; the meta group closes the same way (see
   * {@link leaveTick}). Its meta log stays, so a restart replays the removal and it stays out.
   */
  private leaveCluster(): void {
    if (this.removedSelf || this.closed) return;
    this.removedSelf = true;
    this.metaLeader = false;
    const core = this.engine.core;
    core.log.error('JetStream being DISABLED, our server was removed from the cluster');
    this.sys.publish(SERVER_REMOVED_ADVISORY, serverRemovedAdvisory(this.hub.selfName, core.serverId, this.engine.clusterName(), this.engine.config.domain));
    this.meta.node.setObserver(true);
    if (this.meta.isLeader) this.meta.removePeer(this.hub.selfName);
    for (const sa of [...this.assignments.values()]) {
      if (!sa.peers.includes(this.hub.selfName)) continue;
      const r = this.replicas.get(key(sa.account, sa.cfg.name));
      // A single replica has no group to hand over to: it goes now (the meta leader re-creates it elsewhere, or it stays lost).
      if (r === undefined || sa.peers.length === 1 || r.group === null) {
        this.dropReplica(sa.account, sa);
        continue;
      }
      r.group.node.setObserver(true);
      if (r.group.isLeader) r.group.stepDown();
      this.consumers.observe(r);
      r.onDropped = () => this.dropReplica(sa.account, sa, true);
    }
  }

  /**
   * A removed server's meta group: a leader keeps proposing its own removal until it commits
   * (one membership change at a time); the group closes once this server is out of the voters
   * or has heard no meta leader for two election timeouts (a removed member is not told).
   */
  private leaveTick(): void {
    if (!this.removedSelf || this.closed || this.leaveTimer !== null) return;
    const self = this.hub.selfName;
    const voters = this.meta.peers;
    if (this.meta.isLeader && voters.includes(self)) {
      this.meta.removePeer(self);
      return;
    }
    const leaderless = this.meta.leader === null && Date.now() - this.meta.lastLeaderContact > 2 * this.options.timing.electionTimeoutMax;
    if (voters.includes(self) && !leaderless) return;
    // Closed from a timer, not from inside the group's own tick.
    this.leaveTimer = setTimeout(() => {
      if (!this.closed) this.meta.close();
    }, 0);
    this.leaveTimer.unref();
  }

  /**
   * The meta leader's tick: a removed server leaves the voters (one change at a time, two
   * heartbeats after the removal was applied so that a live server hears of it first), and the
   * removed servers are told once a second that they are out; a stream still assigned to a
   * removed server (a move computed from an assignment another move was changing) is moved again.
   */
  tick(): void {
    this.peerDir.tick(this.metaLeader ? this.meta.peers : [], 10 * this.options.timing.heartbeatInterval);
    this.leaveTick();
    if (!this.removedSelf) this.join.tick();
    if (this.metaLeader) this.noticeNewVoters();
    if (!this.metaLeader || this.removedServers.size === 0) return;
    const now = Date.now();
    const voters = this.meta.peers;
    for (const [name, at] of this.removedServers) {
      if (name === this.hub.selfName || !voters.includes(name) || now - at < 2 * this.options.timing.heartbeatInterval) continue;
      this.meta.removePeer(name);
      break;
    }
    if (now - this.lastRemovedNotice < 1000) return;
    this.lastRemovedNotice = now;
    // Until the removal is peerRemoveTimeout old; then the server may join again (meta-join.ts).
    const rejoinAfter = this.options.peerRemoveTimeout ?? PEER_REMOVE_TIMEOUT;
    for (const [name, at] of this.removedServers) {
      if (name === this.hub.selfName) continue;
      if (now - at < rejoinAfter) this.sys.publish(`$JSC.RM.${this.hub.idOf(name)}`, this.hub.selfName);
      this.remapServer(name, true);
    }
  }

  /**
   * The meta leader: a server that became a voter (joined, meta-join.ts) takes the missing
   * replica of every stream that has fewer peers than replicas (a removed server's, when no
   * server was free) — nats-server's processAddPeer on an applied EntryAddPeer.
   */
  private noticeNewVoters(): void {
    const voters = this.meta.peers;
    const known = this.knownVoters;
    this.knownVoters = new Set(voters);
    if (known === null) return;
    for (const peer of voters) {
      if (known.has(peer) || this.removedServers.has(peer)) continue;
      for (const sa of this.assignments.values()) {
        if (sa.peers.length >= sa.cfg.num_replicas || sa.peers.includes(peer)) continue;
        const entry: MetaEntry = { op: 'update', account: sa.account, config: encodeStreamConfig(sa.cfg), created: Date.now(), reply: '', subject: '', kind: 'stream_remove_peer', peers: [...sa.peers, peer] };
        this.meta.propose(Buffer.from(JSON.stringify(entry), 'utf8'));
      }
    }
  }

  /** The config of a meta entry; null (an internal error: the leader encoded it) when it does not decode. */
  private entryConfig(json: string, what: string): StreamConfig | null {
    const decoded = decodeStreamConfig(json);
    if (!('error' in decoded)) return decoded.config as StreamConfig;
    this.engine.internalError(new Error(decoded.error.description), `JetStream meta group: ${what}`);
    return null;
  }

  private applyStream(e: Extract<MetaEntry, { op: 'stream' }>): void {
    const cfg = this.entryConfig(e.config, 'a stream assignment');
    if (cfg === null) return;
    const k = key(e.account, cfg.name);
    const existing = this.assignments.get(k);
    if (existing !== undefined) {
      // A second create that passed the checks before the first was applied (nats-server keeps
      // such requests in flight): the same config answers as an identical create, another 10058.
      const jsa = this.engine.enabledAccount(e.account);
      if (!this.metaLeader || e.reply === '' || jsa === undefined || Date.now() - e.created >= LIVE_MS) return;
      if (e.config === existing.cfgJson) {
        const entry: MetaEntry = { op: 'update', account: e.account, config: e.config, created: Date.now(), reply: e.reply, subject: e.subject, kind: 'stream_create' };
        this.meta.propose(Buffer.from(JSON.stringify(entry), 'utf8'));
      } else {
        send(jsa, e.reply, fail('stream_create', jsError('JSStreamNameExistErr')), e.subject, Buffer.alloc(0));
      }
      return;
    }
    const sa: StreamAssignment = { account: e.account, cfg, createCfg: cfg, cfgJson: e.config, createJson: e.config, created: e.created, group: e.group, peers: e.peers };
    this.assignments.set(k, sa);
    if (!e.peers.includes(this.hub.selfName)) return;
    const live = Date.now() - e.created < LIVE_MS;
    this.startReplica(sa, live ? e : null);
  }

  /**
   * Starts this server's replica of `sa`: the store, then the group. `joining`: added to a running
   * group by a replica change (it starts with no voters and learns them from the leader's log).
   */
  private startReplica(sa: StreamAssignment, request: { reply: string; subject: string } | null, joining = false): void {
    const jsa = this.engine.enabledAccount(sa.account);
    if (jsa === undefined) return;
    const k = key(sa.account, sa.cfg.name);
    jsa.serialize(async () => {
      const current = this.assignments.get(k);
      // Already running here (a re-assignment before the drop took effect), or gone again.
      if (this.closed || this.removedSelf || this.replicas.has(k) || current?.group !== sa.group || !current.peers.includes(this.hub.selfName)) return;
      const stream = await jsa.addStream(current.createCfg, sa.created);
      if (this.closed || this.removedSelf || this.assignments.get(k)?.group !== sa.group || !this.assignments.get(k)!.peers.includes(this.hub.selfName) || this.replicas.has(k)) {
        // Deleted (or stopped) while the store opened.
        await jsa.deleteStream(stream);
        return;
      }
      const replica = new StreamReplica(sa.account, stream, this, current.createJson);
      replica.groupName = sa.group;
      replica.compaction = this.options.compaction ?? null;
      this.replicas.set(k, replica);
      if (request !== null && request.reply !== '') {
        replica.pendingCreates.push(() => {
          const answer = ok(response('stream_create', { ...streamInfo(jsa, stream), did_create: true }));
          send(jsa, request.reply, answer, request.subject, Buffer.alloc(0));
          jsa.advisory('STREAM.CREATED', stream.name, 'create');
        });
      }
      const storage = new FileRaftStorage(join(this.groupsDir, sa.group), { fsync: false });
      this.storages.set(replica, storage);
      // Read before the group starts (it may write at once: messages that waited for it).
      const fresh = storage.load().entries.length === 0;
      replica.group = this.hub.group(sa.group, joining ? [] : sa.peers, storage, replica);
      replica.targetPeers = this.assignments.get(k)!.peers;
      replica.targetConfig = this.assignments.get(k)!.cfgJson;
      // The preferred leader (the first peer) of a new group campaigns at once: the client
      // that created the stream publishes next.
      const node = replica.group.node;
      if (request !== null && sa.peers[0] === this.hub.selfName && fresh && node.status.role === 'follower' && node.status.leader === null) {
        node.receiveMessage(node.id, { kind: 'timeout-now', term: node.status.term });
        this.hub.dirty(replica.group);
      }
    });
  }

  private applyUpdate(e: Extract<MetaEntry, { op: 'update' }>): void {
    const cfg = this.entryConfig(e.config, 'a stream update');
    if (cfg === null) return;
    const k = key(e.account, cfg.name);
    const sa = this.assignments.get(k);
    if (sa === undefined) {
      // Deleted in between (the checks passed before the delete was applied).
      const jsa = this.engine.enabledAccount(e.account);
      if (this.metaLeader && e.reply !== '' && jsa !== undefined && e.kind !== 'stream_remove_peer') send(jsa, e.reply, fail(e.kind, jsError('JSStreamNotFoundErr')), e.subject, Buffer.alloc(0));
      return;
    }
    const peers = e.peers ?? sa.peers;
    // A move changes the peers only: its config was read when it was proposed, and a STREAM.UPDATE
    // applied in between must stay.
    const next: StreamAssignment = e.kind === 'stream_remove_peer' ? { ...sa, peers } : { ...sa, cfg, cfgJson: e.config, peers };
    this.assignments.set(k, next);
    const jsa = this.engine.enabledAccount(e.account);
    if (jsa === undefined) return;
    const self = this.hub.selfName;
    // A replica change: a server added starts its replica and joins the group; a server dropped
    // stops its own; the group's leader changes the voters (StreamReplica.reconcile).
    if (peers.includes(self) && !sa.peers.includes(self)) {
      // Assigned here again before a pending drop took effect: the replica stays.
      const r = this.replicas.get(k);
      if (r !== undefined) r.onDropped = null;
      // Joining a running group; or, when every former peer is a removed server (a single
      // replica moved by SERVER.REMOVE: nobody is left to catch it up), starting the group
      // afresh, empty, as nats-server starts a moved R1 stream.
      else this.startReplica(next, null, sa.peers.some((p) => !this.removedServers.has(p)));
    }
    // A dropped server keeps voting until the leader has removed it (else a group shrinking by
    // two could lose its quorum half-way): it goes once it no longer hears from a leader.
    if (!peers.includes(self) && sa.peers.includes(self)) {
      const r = this.replicas.get(k);
      if (r !== undefined) r.onDropped = () => this.dropReplica(e.account, sa, true);
    }
    const live = Date.now() - e.created < LIVE_MS && e.reply !== '';
    jsa.serialize(() => {
      const replica = this.replicas.get(k);
      if (replica === undefined) return;
      replica.targetPeers = peers;
      if (e.kind === 'stream_remove_peer') return replica.reconcile();
      if (e.kind === 'stream_update') {
        // The change takes effect as an entry of the stream's log (StreamReplica.reconcile), so a
        // replay applies each message under the config it was stored with; its leader answers then.
        replica.targetConfig = e.config;
        if (live && replica.isLeader) replica.pendingUpdate = { config: e.config, reply: e.reply, subject: e.subject };
        replica.reconcile();
        return;
      }
      // An identical create: the stream's leader answers, with the stream as it is (a new group's
      // first leader, once there is one).
      if (!live) return;
      const answer = (): void => send(jsa, e.reply, ok(response('stream_create', { ...streamInfo(jsa, replica.stream), did_create: true })), e.subject, Buffer.alloc(0));
      if (replica.isLeader) answer();
      else if (replica.group?.leader === null || replica.group?.leader === this.hub.selfName) replica.pendingCreates.push(answer);
    });
  }

  /** Stops and deletes this server's replica of `sa` (the stream deleted, or moved off this server). */
  private dropReplica(account: string, sa: StreamAssignment, moved = false): void {
    const k = key(account, sa.cfg.name);
    const jsa = this.engine.enabledAccount(account);
    const replica = this.replicas.get(k);
    // Also when no replica runs (deleted while this server was down: its log is replayed).
    if (replica === undefined) {
      rmSync(join(this.groupsDir, sa.group), { recursive: true, force: true });
      this.consumers.removeLeftovers(sa.group);
      return;
    }
    this.replicas.delete(k);
    this.consumers.dropStream(replica, moved);
    replica.close();
    this.storages.get(replica)?.close();
    this.storages.delete(replica);
    rmSync(join(this.groupsDir, sa.group), { recursive: true, force: true });
    jsa?.serialize(async () => {
      if (jsa.streams.get(sa.cfg.name) === replica.stream) await jsa.deleteStream(replica.stream);
    });
  }

  private applyDelete(e: Extract<MetaEntry, { op: 'delete' }>): void {
    const k = key(e.account, e.name);
    const sa = this.assignments.get(k);
    if (sa === undefined) {
      // A second delete that passed the check before the first was applied.
      const jsa = this.engine.enabledAccount(e.account);
      if (this.metaLeader && e.reply !== '' && jsa !== undefined) send(jsa, e.reply, fail('stream_delete', jsError('JSStreamNotFoundErr')), e.subject, Buffer.alloc(0));
      return;
    }
    this.assignments.delete(k);
    this.movesProposed.delete(k);
    const jsa = this.engine.enabledAccount(e.account);
    const live = this.metaLeader && e.reply !== '';
    this.dropReplica(e.account, sa);
    if (jsa !== undefined) {
      jsa.serialize(() => {
        if (live) {
          send(jsa, e.reply, ok(response('stream_delete', { success: true })), e.subject, Buffer.alloc(0));
          jsa.advisory('STREAM.DELETED', e.name, 'delete');
        }
      });
    }
  }

  // ---- Stream replicas -----------------------------------------------------------------------

  applyRequest(replica: StreamReplica, req: ReplicatedRequest, respond: boolean): void {
    const jsa = this.engine.enabledAccount(replica.account);
    if (jsa === undefined) return;
    applyReplicatedRequest(jsa, req.rest, req.body, req.reply, respond);
  }

  applyConfig(replica: StreamReplica, config: string): void {
    const jsa = this.engine.enabledAccount(replica.account);
    const cfg = this.entryConfig(config, `a config entry of stream ${replica.stream.name}`);
    if (jsa === undefined || cfg === null) return;
    jsa.updateStream(replica.stream, cfg);
    const pending = replica.pendingUpdate;
    if (pending === null || pending.config !== config || !replica.isLeader) return;
    replica.pendingUpdate = null;
    send(jsa, pending.reply, ok(response('stream_update', streamInfo(jsa, replica.stream, { domain: true }))), pending.subject, Buffer.alloc(0));
    jsa.advisory('STREAM.UPDATED', replica.stream.name, 'modify');
  }

  applyConsumer(replica: StreamReplica, p: ConsumerProposal, respond: boolean): void {
    this.consumers.applyConsumer(replica, p, respond);
  }

  consumerDeleted(replica: StreamReplica, name: string, rest: string, reply: string, respond: boolean): void {
    this.consumers.deleted(replica, name, rest, reply, respond);
  }

  consumersRestored(replica: StreamReplica): void {
    this.consumers.restored(replica);
  }

  interestConsumers(replica: StreamReplica): ReadonlyMap<string, { readonly state: InterestState }> {
    return this.consumers.interestView(replica);
  }

  /** A replicated consumer's ack let `seq` go (interest or work-queue retention): true when the cluster takes it. */
  consumerStreamAck(stream: Stream, c: Consumer, seq: number): boolean {
    return this.consumers.streamAcked(stream, c, seq);
  }

  /**
   * The stream's leadership changed: sourcing and the consumers in the stream's log follow it
   * (consumers.ts); a new leader announces itself.
   */
  leaderChanged(replica: StreamReplica, leading: boolean): void {
    const jsa = this.engine.enabledAccount(replica.account);
    const stream = replica.stream;
    if (!leading) jsa?.stopSourcing(stream);
    else if (jsa !== undefined) {
      this.leaderElected(jsa, replica);
      // A mirror or source resumes from what this replica's store has (its last sequence, the
      // Nats-Stream-Source headers): every copy committed before this term is applied by now.
      jsa.startSourcing(stream);
    }
    this.consumers.streamLeaderChanged(replica, leading);
  }

  /** `$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.<stream>` (nats-server's JSStreamLeaderElectedAdvisory). */
  private leaderElected(jsa: ApiAccount & { advise(subject: string, body: (domain: string | null) => string): void }, replica: StreamReplica): void {
    const stream = replica.stream;
    jsa.advise(`$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${stream.name}`, (domain) => {
      const info = this.clusterInfo(jsa, stream);
      return `{"type":"io.nats.jetstream.advisory.v1.stream_leader_elected","id":${goJson(newNuid(), false)},`
        + `"timestamp":${goJson(rfc3339Nano(Date.now()), false)},"account":${goJson(jsa.name, false)},"stream":${goJson(stream.name, false)},`
        + `"leader":${goJson(this.hub.selfName, false)},"replicas":${goJson(info.replicas ?? null, false)}`
        + `${domain === null ? '' : `,"domain":${goJson(domain, false)}`}}`;
    });
  }

  /** A replicated consumer's inactivity threshold passed (on its leader): deleted through the stream's log. */
  consumerInactive(stream: Stream, c: Consumer): boolean {
    return this.consumers.inactive(stream, c);
  }

  /** A consumer started on this server: a replicated one sends its state changes to the followers. */
  consumerStarted(_jsa: ApiAccount, stream: Stream, c: Consumer): void {
    this.consumers.started(stream, c);
  }

  consumerStateApplied(token: string): void {
    this.consumers.consumerStateApplied(token);
  }

  internalError(err: unknown, what: string): void {
    this.engine.internalError(err, what);
  }

  consumerClusterInfo(jsa: ApiAccount, s: Stream, c: Consumer): Record<string, unknown> {
    return this.consumers.clusterInfo(jsa, s, c);
  }

  clusterInfo(_jsa: ApiAccount, s: Stream): Record<string, unknown> {
    const r = s.replica instanceof StreamReplica ? s.replica : undefined;
    return this.groupInfo(r?.group ?? null);
  }

  /** The `cluster` block of a group (null: none, a single replica). */
  private groupInfo(g: RaftGroup | null): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.engine.clusterName() };
    // nats-server runs no Raft node for one replica (createRaftGroup): it names itself the leader.
    if (g === null || g.peers.length === 1) return { ...out, leader: this.hub.selfName };
    const leader = g.leader;
    // 2.10.29 names the raft group; 2.9 did not.
    out.raft_group = g.name;
    if (leader !== null) out.leader = leader;
    else {
      // Leaderless (jetstream_cluster.go clusterInfo): every member listed, this one included.
      const self = this.hub.selfName;
      const since = Date.now() - g.lastLeaderContact;
      out.replicas = g.peers.sort().map((name) => ({ name, current: false, active: name === self ? 0 : Math.round(Math.max(0, since) * 1e6), peer: this.hub.idOf(name) }));
      return out;
    }
    const replicas = g.replicas().map((p) => {
      const pi: Record<string, unknown> = { name: p.name, current: p.current && !p.offline };
      if (p.offline) pi.offline = true;
      pi.active = Math.round(p.activeMs * 1e6);
      if (p.lag > 0) pi.lag = p.lag;
      pi.peer = this.hub.idOf(p.name);
      return pi;
    });
    if (replicas.length > 0) out.replicas = replicas;
    return out;
  }

  // ---- The API -------------------------------------------------------------------------------

  intercept(jsa: ApiAccount, op: string, token: string, body: Buffer, reply: string, subject: string): boolean {
    // A removed server's JetStream is off: the others answer (the requests cross the routes).
    if (this.removedSelf) return true;
    if (STREAM_LOCAL.has(op) || STREAM_REPLICATED.has(op) || CONSUMER_WRITES.has(op) || op === 'STREAM.LEADER.STEPDOWN' || op === 'CONSUMER.LEADER.STEPDOWN') {
      const streamName = op.startsWith('CONSUMER.') ? token.split('.')[0]! : token;
      const replica = this.replicas.get(key(jsa.name, streamName));
      // A consumer with a group of its own: its leader answers (consumers.ts).
      if (replica !== undefined && (op === 'CONSUMER.INFO' || op === 'CONSUMER.LEADER.STEPDOWN')) {
        const own = this.consumers.interceptOwn(jsa, op, replica, token.slice(token.indexOf('.') + 1), body, reply, subject);
        if (own !== null) return own;
      }
      if (replica !== undefined && replica.isLeader) {
        if (op === 'CONSUMER.NAMES') {
          this.consumers.names(jsa, replica, body, reply, subject);
          return true;
        }
        const cjsa = op === 'CONSUMER.LIST' ? this.engine.enabledAccount(jsa.name) : undefined;
        if (cjsa !== undefined) {
          this.consumers.list(cjsa, replica, body, reply, subject);
          return true;
        }
        if (STREAM_LOCAL.has(op)) return false;
        if (op === 'CONSUMER.DELETE') {
          const name = token.slice(token.indexOf('.') + 1);
          // An ephemeral consumer lives on the leader alone.
          if (!replica.consumers.has(name)) return false;
          if (!replica.proposeConsumerDelete(name, subject.slice(8), reply)) this.answer(jsa, reply, subject, body, fail('consumer_delete', jsError('JSClusterNotAvailErr')));
          return true;
        }
        if (op === 'CONSUMER.CREATE' || op === 'CONSUMER.DURABLE.CREATE') {
          const r = checkConsumerRequest(jsa, op, token, body, ClusterConsumers.configs(replica));
          if ('answer' in r) {
            this.answer(jsa, reply, subject, body, r.answer);
            return true;
          }
          // An ephemeral consumer of a limits stream lives on the leader alone; on interest and
          // work-queue streams every consumer is replicated (the retention depends on them all).
          if (r.config.durable_name === '' && !replica.consumers.has(r.name) && replica.stream.cfg.retention === 'limits') {
            this.answer(jsa, reply, subject, body, commitConsumerCreate(jsa, r.stream, r.name, r.config, r.updated));
            return true;
          }
          const created = Date.now();
          const g = replica.group;
          // A new durable consumer of a limits stream gets a group of its own, on the stream's
          // voters, its proposer (this leader) first: the preferred leader.
          const own = g !== null && !replica.consumers.has(r.name) && !replica.stream.consumers.has(r.name) && ClusterConsumers.ownGroup(replica, r.config);
          // Fewer replicas than the stream (createGroupForConsumer): that many of the stream's
          // members, this leader first, then the others it hears from.
          const peers = own ? ClusterConsumers.newPeers(g, r.config.num_replicas) : [];
          const proposal: ConsumerProposal = {
            name: r.name, config: encodeConsumerConfig(r.config), created, updated: r.updated, reply, subject,
            ...(own ? {
              group: consumerGroupName(g.name, r.name, created, peers.length, r.config.mem_storage || replica.stream.cfg.storage === 'memory'),
              peers,
            } : {}),
          };
          if (!replica.proposeConsumer(proposal)) this.answer(jsa, reply, subject, body, fail('consumer_create', jsError('JSClusterNotAvailErr')));
          return true;
        }
        if (op === 'STREAM.LEADER.STEPDOWN' || op === 'CONSUMER.LEADER.STEPDOWN') {
          // A consumer's leadership is its stream's (see the module comment).
          if (op === 'CONSUMER.LEADER.STEPDOWN' && !replica.stream.consumers.has(token.slice(token.indexOf('.') + 1))) {
            this.answer(jsa, reply, subject, body, fail('consumer_leader_stepdown', jsError('JSConsumerNotFoundErr')));
            return true;
          }
          replica.group?.stepDown();
          const kind = op === 'STREAM.LEADER.STEPDOWN' ? 'stream_leader_stepdown' : 'consumer_leader_stepdown';
          send(jsa, reply, ok(response(kind, { success: true })), subject, body);
          return true;
        }
        if (!replica.proposeRequest({ rest: subject.slice(8), body: Buffer.from(body), reply })) {
          this.answer(jsa, reply, subject, body, fail(KINDS[op] ?? 'system', jsError('JSClusterNotAvailErr')));
        }
        return true;
      }
      // A member of a group that lost its leader answers STREAM.INFO itself, with no leader.
      if (op === 'STREAM.INFO' && replica?.group?.leaderless() === true) return false;
      // Not the leader: the meta leader answers for a stream that does not exist.
      if (this.metaLeader && !this.assignments.has(key(jsa.name, streamName))) {
        const kind = KINDS[op] ?? 'stream_info';
        this.answer(jsa, reply, subject, body, fail(kind, jsError('JSStreamNotFoundErr')));
      }
      return true;
    }
    if (!this.metaLeader) {
      if (this.metaUnavailable() && META_OPS.has(op)) this.answer(jsa, reply, subject, body, fail(KINDS[op] ?? 'account_info', jsError('JSClusterNotAvailErr')));
      return true;
    }
    switch (op) {
      case 'INFO': this.accountInfo(jsa, reply, subject, body); return true;
      case 'STREAM.CREATE': this.streamCreate(jsa, token, body, reply, subject); return true;
      case 'STREAM.UPDATE': this.streamUpdate(jsa, token, body, reply, subject); return true;
      case 'STREAM.DELETE': this.streamDelete(jsa, token, body, reply, subject); return true;
      case 'STREAM.NAMES': this.answer(jsa, reply, subject, body, this.streamNamesAnswer(jsa, body)); return true;
      case 'STREAM.LIST': this.streamList(jsa, body, reply, subject); return true;
      case 'STREAM.PEER.REMOVE': this.answer(jsa, reply, subject, body, this.streamRemovePeer(jsa, token, body, subject)); return true;
      default: {
        const kind = KINDS[op] ?? 'system';
        this.answer(jsa, reply, subject, body, fail(kind, jsError('JSClusterUnSupportFeatureErr')));
        return true;
      }
    }
  }

  private answer(jsa: ApiAccount, reply: string, subject: string, body: Buffer, answer: Answer): void {
    send(jsa, reply, answer, subject, body);
  }

  /** The account's assigned streams' configs. */
  private configs(account: string): StreamConfig[] {
    const out: StreamConfig[] = [];
    for (const sa of this.assignments.values()) if (sa.account === account) out.push(sa.cfg);
    return out;
  }

  private streamCreate(jsa: ApiAccount, name: string, body: Buffer, reply: string, subject: string, waited = false): void {
    if (!this.metaLeader || this.closed) return;
    const kind = 'stream_create';
    const decoded = decodeStreamConfig(body.toString('utf8'));
    if ('error' in decoded) return this.answer(jsa, reply, subject, body, fail(kind, decoded.error));
    const configs = this.configs(jsa.name);
    const r = checkStreamConfig(decoded.config, {
      isCreate: true,
      subjectName: name,
      clustered: true,
      lookupStream: (n) => configs.find((c) => c.name === n),
      overlapsOtherStreams: (subjects) => configs.some((c) => subjectsOverlap(subjects, c.subjects ?? [])),
      // max_streams counts the account's streams in the whole cluster (the assignments).
      checkRequestLimits: (request) => {
        const max = jsa.limits.max_streams;
        if (max > 0 && configs.filter((c) => c.name !== request.name).length >= max) return jsError('JSMaximumStreamsLimitErr');
        return jsa.checkRequestLimits(request);
      },
      checkLimits: (cfg) => jsa.checkLimits(cfg),
      streamBytesLimits: (cfg) => jsa.streamBytesLimits(cfg),
    });
    if ('error' in r) return this.answer(jsa, reply, subject, body, fail(kind, r.error));
    const cfg = r.config;
    if (r.existing === true) {
      // An identical config answers with the stream as it is: its leader's business, in log order.
      const entry: MetaEntry = { op: 'update', account: jsa.name, config: encodeStreamConfig(cfg), created: Date.now(), reply, subject, kind };
      if (!this.meta.propose(Buffer.from(JSON.stringify(entry), 'utf8'))) this.answer(jsa, reply, subject, body, fail(kind, jsError('JSClusterNotAvailErr')));
      return;
    }
    const unplaceable = placementError(cfg, this.engine.clusterName());
    if (unplaceable !== null) return this.answer(jsa, reply, subject, body, fail(kind, jsError('JSClusterNoPeersErrF', { err: unplaceable })));
    // Placement reads the servers' tags: a server not heard from yet (the cluster is starting)
    // gets a moment to tell them.
    if (!waited) {
      const names = this.placeable();
      if (names.some((n) => this.peerDir.tagsOf(n) === undefined)) {
        this.peerDir.whenKnown(names, Math.min(2000, 4 * this.options.timing.heartbeatInterval), () => this.streamCreate(jsa, name, body, reply, subject, true));
        return;
      }
    }
    const selected = this.selectPeers(cfg, cfg.num_replicas);
    if ('error' in selected) return this.answer(jsa, reply, subject, body, fail(kind, jsError('JSClusterNoPeersErrF', { err: selected.error })));
    const peers = selected.peers;
    const entry: MetaEntry = {
      op: 'stream', account: jsa.name, config: encodeStreamConfig(cfg), created: Date.now(),
      group: `S-R${cfg.num_replicas}${cfg.storage === 'memory' ? 'M' : 'F'}-${randomToken()}`, peers, reply, subject,
    };
    if (!this.meta.propose(Buffer.from(JSON.stringify(entry), 'utf8'))) {
      this.answer(jsa, reply, subject, body, fail(kind, jsError('JSClusterNotAvailErr')));
    }
  }

  private streamUpdate(jsa: ApiAccount, name: string, body: Buffer, reply: string, subject: string): void {
    const kind = 'stream_update';
    const decoded = decodeStreamConfig(body.toString('utf8'));
    if ('error' in decoded) return this.answer(jsa, reply, subject, body, fail(kind, decoded.error));
    const configs = this.configs(jsa.name);
    const env = {
      clustered: true,
      lookupStream: (n: string) => configs.find((c) => c.name === n),
      overlapsOtherStreams: (subjects: readonly string[]) => configs.some((c) => c.name !== name && subjectsOverlap(subjects, c.subjects ?? [])),
      checkLimits: (cfg: StreamConfig) => jsa.checkLimits(cfg, this.assignments.get(key(jsa.name, name))?.cfg),
      streamBytesLimits: (cfg: StreamConfig) => jsa.streamBytesLimits(cfg),
    };
    const first = checkStreamConfig(decoded.config, { ...env, isCreate: false, subjectName: name });
    if ('error' in first) return this.answer(jsa, reply, subject, body, fail(kind, first.error));
    const sa = this.assignments.get(key(jsa.name, name));
    if (sa === undefined) return this.answer(jsa, reply, subject, body, fail(kind, jsError('JSStreamNotFoundErr')));
    const r = checkStreamUpdate(sa.cfg, decoded.config, env);
    if ('error' in r) return this.answer(jsa, reply, subject, body, fail(kind, r.error));
    // A change to interest retention needs every consumer at the stream's replica count (stream.go
    // update: "consumer %q replica count must be %d", which 2.10 answers as a general error).
    if (sa.cfg.retention !== 'interest' && r.config.retention === 'interest') {
      const replica = this.replicas.get(key(jsa.name, name));
      for (const [cname, cfg] of replica === undefined ? [] : ClusterConsumers.configs(replica)) {
        if (cfg.num_replicas > 0 && cfg.num_replicas !== r.config.num_replicas) {
          return this.answer(jsa, reply, subject, body, fail(kind, jsError('JSStreamGeneralErrorF', { err: `consumer "${cname}" replica count must be ${r.config.num_replicas}` })));
        }
      }
    }
    let peers: string[] | undefined;
    // A new placement moves the stream (a move request): to servers that satisfy it.
    const move = r.config.placement !== undefined && JSON.stringify(r.config.placement) !== JSON.stringify(sa.cfg.placement);
    if (r.config.num_replicas !== sa.cfg.num_replicas) {
      if (move) return this.answer(jsa, reply, subject, body, fail(kind, jsError('JSStreamMoveAndScaleErr')));
      const changed = this.replicaChange(jsa.name, sa, r.config);
      if ('error' in changed) return this.answer(jsa, reply, subject, body, fail(kind, jsError('JSClusterNoPeersErrF', { err: changed.error })));
      peers = changed.peers;
    } else if (move) {
      const moved = this.movePeers(sa, r.config);
      if ('error' in moved) return this.answer(jsa, reply, subject, body, fail(kind, jsError('JSClusterNoPeersErrF', { err: moved.error })));
      if (moved.peers.length !== sa.peers.length || moved.peers.some((p) => !sa.peers.includes(p))) peers = moved.peers;
    }
    const entry: MetaEntry = { op: 'update', account: jsa.name, config: encodeStreamConfig(r.config), created: Date.now(), reply, subject, kind, ...(peers === undefined ? {} : { peers }) };
    if (!this.meta.propose(Buffer.from(JSON.stringify(entry), 'utf8'))) this.answer(jsa, reply, subject, body, fail(kind, jsError('JSClusterNotAvailErr')));
  }

  /**
   * STREAM.PEER.REMOVE (jsStreamRemovePeerRequest, removePeerFromStream): the peer leaves the
   * stream's group and, when a server is free, another takes its place; without one the group is
   * one smaller and the answer is 10075 "peer remap failed", as nats-server's.
   */
  private streamRemovePeer(jsa: ApiAccount, name: string, body: Buffer, subject: string): Answer {
    const kind = 'stream_remove_peer';
    if (isEmptyRequest(body)) return fail(kind, jsError('JSBadRequestErr'));
    let peer: unknown;
    try {
      peer = (JSON.parse(body.toString('utf8')) as { peer?: unknown }).peer;
    } catch {
      return fail(kind, jsError('JSInvalidJSONErr'));
    }
    if (typeof peer !== 'string' || peer === '') return fail(kind, jsError('JSBadRequestErr'));
    const sa = this.assignments.get(key(jsa.name, name));
    if (sa === undefined) return fail(kind, jsError('JSStreamNotFoundErr'));
    if (!sa.peers.includes(peer)) return fail(kind, jsError('JSClusterPeerNotMemberErr'));
    const r = this.remapPeer(sa, peer, subject);
    if (!r.proposed) return fail(kind, jsError('JSClusterNotAvailErr'));
    return r.replaced ? ok(response(kind, { success: true })) : fail(kind, jsError('JSPeerRemapErr'));
  }

  /** This server's share of an account's usage, for the meta leader's account info. */
  private localUsage(account: string): { memory: number; storage: number; consumers: number; total: number; errors: number } {
    const jsa = this.engine.enabledAccount(account);
    if (jsa === undefined) return { memory: 0, storage: 0, consumers: 0, total: 0, errors: 0 };
    const u = jsa.usage();
    // Each consumer counted once: by the server that leads its stream.
    let consumers = 0;
    for (const r of this.replicas.values()) if (r.account === account && r.isLeader) consumers += publicConsumerCount(r.stream);
    return { memory: u.memory, storage: u.storage, consumers, total: jsa.api.total, errors: jsa.api.errors };
  }

  /**
   * Account info from the meta leader: the streams as assigned; memory, storage, consumers and
   * the API counters summed over the servers (each replica's store counts, as in nats-server),
   * asked of the other peers with internal requests (up to 500 ms).
   */
  private accountInfo(jsa: ApiAccount, reply: string, subject: string, body: Buffer): void {
    const peers = this.meta.replicas().filter((p) => !p.offline && !this.removedServers.has(p.name)).map((p) => this.hub.idOf(p.name));
    const parts = [this.localUsage(jsa.name)];
    const finish = (): void => {
      const sum = { memory: 0, storage: 0, consumers: 0, total: 0, errors: 0 };
      for (const p of parts) {
        sum.memory += p.memory; sum.storage += p.storage; sum.consumers += p.consumers; sum.total += p.total; sum.errors += p.errors;
      }
      const u = jsa.usage();
      const usage = { ...sum, reservedMemory: u.reservedMemory, reservedStorage: u.reservedStorage, streams: this.configs(jsa.name).length };
      // This request counts too (nats-server counts it before answering).
      this.answer(jsa, reply, subject, body, accountInfoAnswer(jsa, usage, { total: sum.total + 1, errors: sum.errors }));
    };
    if (peers.length === 0) return finish();
    const inbox = `$JSC.UR.${randomToken()}${randomToken()}`;
    let waiting = peers.length;
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.sys.unsubscribe(sub);
      finish();
    };
    const timer = setTimeout(end, 500);
    timer.unref();
    const sub = this.sys.subscribe(`${inbox}.*`, (msg) => {
      try {
        parts.push(JSON.parse(msg.data.toString('utf8')) as (typeof parts)[number]);
      } catch (err) {
        this.engine.internalError(err, 'JetStream account usage from a peer');
      }
      if (--waiting === 0) end();
    });
    peers.forEach((id, i) => this.sys.publish(`$JSC.U.${id}`, jsa.name, { reply: `${inbox}.${i}` }));
  }

  private streamNamesAnswer(jsa: ApiAccount, body: Buffer): Answer {
    const kind = 'stream_names';
    const page = pageRequest(kind, body);
    if (page === null || 'json' in page) return page;
    const all = this.streamNames(jsa.name, page.filter);
    const offset = Math.max(0, Math.min(page.offset, all.length));
    const names = all.slice(offset, offset + NAMES_LIMIT);
    return ok(response(kind, { total: all.length, offset, limit: NAMES_LIMIT, streams: names.length === 0 ? null : names }));
  }

  /**
   * STREAM.LIST from the meta leader: each stream's info from its leader (nats-server's
   * jsClusteredStreamListRequest asks them too), gathered for up to 2 s; a stream whose leader
   * does not answer in time is left out and reported in `missing`.
   */
  private streamList(jsa: ApiAccount, body: Buffer, reply: string, subject: string): void {
    const kind = 'stream_list';
    const page = pageRequest(kind, body);
    if (page === null || 'json' in page) return this.answer(jsa, reply, subject, body, page);
    const all = this.streamNames(jsa.name, page.filter);
    const offset = Math.max(0, Math.min(page.offset, all.length));
    const names = all.slice(offset, offset + LIST_LIMIT);
    const infos = new Map<string, string>();
    const finish = (): void => {
      const list = names.filter((n) => infos.has(n)).map((n) => infos.get(n)!);
      const missing = names.filter((n) => !infos.has(n));
      let json = `{"type":"io.nats.jetstream.api.v1.stream_list_response","total":${all.length},"offset":${offset},"limit":${LIST_LIMIT},"streams":[${list.join(',')}]`;
      if (missing.length > 0) json += `,"missing":${JSON.stringify(missing)}`;
      this.answer(jsa, reply, subject, body, { json: `${json}}`, error: false });
    };
    if (names.length === 0) return finish();
    const account = this.engine.core.account(jsa.name);
    const client = this.engine.core.internalClient(`$JSC list ${jsa.name}`, account);
    const inbox = `$JSC.R.${randomToken()}${randomToken()}`;
    let done = false;
    const timer = setTimeout(() => end(), 2000);
    timer.unref();
    const end = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.close();
      finish();
    };
    client.subscribe(`${inbox}.*`, (msg) => {
      const i = Number(msg.subject.slice(inbox.length + 1));
      const name = names[i];
      if (name === undefined) return;
      // `{"type":...,"total":N,"offset":N,"limit":N,<info>}` → `{<info>}`.
      const text = msg.data.toString('utf8');
      const m = /^\{"type":"[^"]*","total":\d+,"offset":\d+,"limit":\d+,/.exec(text);
      if (m === null || text.includes('"error":')) return;
      infos.set(name, `{${text.slice(m[0].length)}`);
      if (infos.size === names.length) end();
    });
    names.forEach((n, i) => client.publish(`$JS.API.STREAM.INFO.${n}`, '', { reply: `${inbox}.${i}` }));
  }

  private streamDelete(jsa: ApiAccount, name: string, body: Buffer, reply: string, subject: string): void {
    const kind = 'stream_delete';
    if (body.length > 0 && body.toString() !== '{}') return this.answer(jsa, reply, subject, body, fail(kind, jsError('JSNotEmptyRequestErr')));
    if (!this.assignments.has(key(jsa.name, name))) return this.answer(jsa, reply, subject, body, fail(kind, jsError('JSStreamNotFoundErr')));
    const entry: MetaEntry = { op: 'delete', account: jsa.name, name, reply, subject };
    if (!this.meta.propose(Buffer.from(JSON.stringify(entry), 'utf8'))) {
      this.answer(jsa, reply, subject, body, fail(kind, jsError('JSClusterNotAvailErr')));
    }
  }

  /**
   * The peers of a stream whose replica count changes to `n`: more keep the current ones and add
   * responsive others; fewer keep the stream's leader (when this server knows it) and the first
   * others. Null when there are not enough servers.
   */
  private replicaChange(account: string, sa: StreamAssignment, cfg: StreamConfig): { peers: string[] } | { error: string } {
    const n = cfg.num_replicas;
    // More: the peers stay and servers that satisfy the placement join them (selectPeerGroup with existing).
    if (n > sa.peers.length) return this.selectPeers(cfg, n, sa.peers);
    const leader = this.streamLeader(account, sa.cfg.name);
    const ordered = leader !== null && sa.peers.includes(leader) ? [leader, ...sa.peers.filter((p) => p !== leader)] : [...sa.peers];
    return { peers: ordered.slice(0, n) };
  }

  /**
   * A move (a new `placement`, nats-server's isMoveRequest): the servers that satisfy the new
   * placement. nats-server picks a new group afresh (createGroupForStream); here the stream's
   * current servers that satisfy it are preferred, so a placement they already meet moves nothing.
   */
  private movePeers(sa: StreamAssignment, cfg: StreamConfig): { peers: string[] } | { error: string } {
    const unplaceable = placementError(cfg, this.engine.clusterName());
    if (unplaceable !== null) return { error: unplaceable };
    return this.selectPeers(cfg, cfg.num_replicas, [], [], sa.peers);
  }

  /**
   * The servers for `replicas` replicas of a stream with `cfg`'s placement (selectPeers):
   * `existing` kept, `ignore` not chosen; candidates are this server first (the preferred
   * leader) unless `prefer` names others, then the other responsive ones shuffled, then the
   * voters known to be down (only for the error's "peer offline").
   */
  private selectPeers(cfg: StreamConfig, replicas: number, existing: readonly string[] = [], ignore: readonly string[] = [], prefer: readonly string[] = [this.hub.selfName]): { peers: string[] } | { error: string } {
    const placeable = this.placeable();
    const first = placeable.filter((p) => prefer.includes(p));
    const ordered = [...shuffle(first.filter((p) => p !== this.hub.selfName)), ...shuffle(placeable.filter((p) => !prefer.includes(p)))];
    if (first.includes(this.hub.selfName)) ordered.unshift(this.hub.selfName);
    const candidates: PeerCandidate[] = ordered.map((name) => ({ name, tags: this.peerDir.tagsOf(name), offline: false }));
    for (const r of this.meta.replicas()) {
      if (r.offline && !placeable.includes(r.name) && !this.removedServers.has(r.name) && !this.pendingRemovals.has(r.name)) {
        candidates.push({ name: r.name, tags: this.peerDir.tagsOf(r.name), offline: true });
      }
    }
    return selectPeers(candidates, { replicas, tags: cfg.placement?.tags ?? [], uniqueTag: this.engine.config.uniqueTag, existing, ignore });
  }

  /** The leader of a stream's group as this server knows it (null: none, or no replica here). */
  streamLeader(account: string, stream: string): string | null {
    const r = this.replicas.get(key(account, stream));
    const leader = r?.group?.leader ?? null;
    // The leader itself counts once it answers for the stream (leaderReady).
    return leader === this.hub.selfName && r?.isLeader !== true ? null : leader;
  }

  /**
   * The leader of a consumer as this server knows it (null: none, or no replica of its stream
   * here): its own group's leader, else its stream's (a consumer in the stream's log, or one living
   * on the stream's leader alone).
   */
  consumerLeader(account: string, stream: string, consumer: string): string | null {
    const r = this.replicas.get(key(account, stream));
    if (r === undefined) return null;
    const a = r.consumers.get(consumer);
    if (a === undefined || a.group === null) {
      const leader = this.streamLeader(account, stream);
      // A consumer not replicated is known on the stream's leader alone.
      return a !== undefined || (r.isLeader && r.stream.consumers.has(consumer)) ? leader : null;
    }
    const cr = this.consumers.groupOf(account, stream, consumer);
    const leader = cr?.group?.leader ?? null;
    return leader === this.hub.selfName && !(cr!.isLeader && r.stream.consumers.has(consumer)) ? null : leader;
  }

  /**
   * The meta leader as this server knows it (itself once it answers for the group); on a removed
   * server, the one that last told it it is out.
   */
  metaLeaderName(): string | null {
    if (this.removedSelf) return this.removedLeader;
    // Not a voter yet (joining a running cluster): no leader to report.
    if (this.join.joining) return null;
    const leader = this.meta.leader;
    return leader === this.hub.selfName && !this.metaLeader ? null : leader;
  }

  /** Stream names of the account (the meta leader's answer to STREAM.NAMES). */
  streamNames(account: string, filter: string): string[] {
    return this.configs(account)
      .filter((c) => filter === '' || (c.subjects ?? []).some((s) => subjectsCollide(filter, s)))
      .map((c) => c.name)
      .sort();
  }

  /** Streams and consumers assigned in the account (account info). */
  counts(account: string): { streams: number; consumers: number } {
    return { streams: this.configs(account).length, consumers: 0 };
  }

  /** Stops the groups (the logs stay on disk). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.leaveTimer !== null) clearTimeout(this.leaveTimer);
    this.leaveTimer = null;
    for (const r of this.replicas.values()) {
      r.close();
      this.storages.get(r)?.close();
    }
    this.storages.clear();
    this.replicas.clear();
    this.consumers.close();
    this.peerDir.close();
    this.hub.close();
    this.sys.close();
    this.metaStorage.close();
  }
}

/** The account-wide requests the meta leader answers. */
const META_OPS = new Set(['INFO', 'STREAM.CREATE', 'STREAM.UPDATE', 'STREAM.DELETE', 'STREAM.NAMES', 'STREAM.LIST', 'STREAM.PEER.REMOVE']);

const KINDS: Readonly<Record<string, string>> = {
  INFO: 'account_info', 'STREAM.CREATE': 'stream_create', 'STREAM.NAMES': 'stream_names', 'STREAM.DELETE': 'stream_delete',
  'STREAM.INFO': 'stream_info', 'STREAM.MSG.GET': 'stream_msg_get', 'STREAM.PURGE': 'stream_purge',
  'STREAM.MSG.DELETE': 'stream_msg_delete', 'STREAM.LEADER.STEPDOWN': 'stream_leader_stepdown',
  'STREAM.UPDATE': 'stream_update', 'STREAM.LIST': 'stream_list', 'CONSUMER.NAMES': 'consumer_names',
  'CONSUMER.LIST': 'consumer_list', 'CONSUMER.INFO': 'consumer_info', 'CONSUMER.CREATE': 'consumer_create',
  'CONSUMER.DURABLE.CREATE': 'consumer_create', 'CONSUMER.DELETE': 'consumer_delete',
  'CONSUMER.LEADER.STEPDOWN': 'consumer_leader_stepdown', 'STREAM.PEER.REMOVE': 'stream_remove_peer',
};

/**
 * A `placement.cluster` no member is in (selectPeerGroup finds no server of another cluster:
 * there is one cluster). Null when it may place; the tags are selectPeers' business.
 */
function placementError(cfg: StreamConfig, clusterName: string): string | null {
  const c = cfg.placement?.cluster;
  return c !== undefined && c !== '' && c !== clusterName ? 'no suitable peers for placement' : null;
}

function randomToken(): string {
  return Math.random().toString(36).slice(2, 10).padEnd(8, '0');
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export { apiErrorResponse };
