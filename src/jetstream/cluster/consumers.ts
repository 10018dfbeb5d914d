/**
 * Clustered consumers: where each replicated consumer runs, how its state is replicated, and
 * which server answers its API requests.
 *
 * - **A group of its own** (every durable, and an ephemeral of an interest or work-queue
 *   stream): nats-server's model. A Raft group per consumer (consumer-replica.ts) on the
 *   stream's replicas elects the consumer's leader, independently of the stream's: the live
 *   consumer runs there, on that server's replica of the stream, and its state changes are the
 *   group's entries. CONSUMER.INFO and CONSUMER.LEADER.STEPDOWN are answered by that leader (a
 *   member answers 10008 while the group has none); the stream's leader answers CONSUMER.NAMES
 *   and CONSUMER.LIST, asking the consumer leaders for their infos (`$JSC.CI`, as nats-server's
 *   jsClusteredConsumerListRequest, 4 s).
 * - **Interest and work-queue removals** are decided by the stream's leader, a member of every
 *   consumer group of its stream: a state entry carries the stream sequences its acks let go,
 *   and once it is applied there the leader checks them against every consumer's last applied
 *   state ({@link ClusterConsumers.interestView}) and proposes the removals to the stream's log.
 *   A new stream leader checks every consumer's acks again (checkInterestState), so a removal
 *   lost to a leader change is made by the next one. (nats-server has each replica remove on
 *   its own as it applies the consumers' acks; here the stream's log stays the one source of
 *   every replica's store.)
 * - **In the stream's log** (consumers of interest or work-queue streams created before they
 *   had groups of their own, as older logs hold them): they run on the stream's leader, their
 *   state entries are the stream's, and their leadership is the stream's.
 *
 * Either way the consumer's creation, update and deletion are entries of the stream's log (the
 * stream's leader checks and proposes them), and an ack reply waits until the state holding the
 * ack is committed (nats-server 2.10.16's fix of #5419). An ephemeral consumer of a limits
 * stream is not replicated: it lives on the stream's leader alone, as nats-server's R1 ephemerals.
 */
import { join } from 'node:path';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { InternalClient } from '../../broker/internal.js';
import { FileRaftStorage } from '../../raftstore/file-storage.js';
import { goJson, rfc3339Nano } from '../../protocol/go-format.js';
import { newNuid } from '../../broker/ids.js';
import { decodeGoValue } from '../../protocol/go-json.js';
import { jsError } from '../errors.js';
import { commitConsumerCreate, consumerInfoJson, fail, isEmptyRequest, LIST_LIMIT, NAMES_LIMIT, ok, pageRequest, RawJson, response, send, type Answer, type ApiAccount } from '../api.js';
import type { Consumer } from '../consumer.js';
import { CONSUMER_CONFIG_SCHEMA, type ConsumerConfig } from '../consumer-config.js';
import { decodeConsumerState, encodeConsumerState } from '../consumer-store.js';
import type { ConsumerSnapshot } from '../consumer-state.js';
import { checkInterestState, cleanupNoInterestMessages, InterestSnapshot, recheckAcked, streamAck, type InterestState, type InterestStream } from '../interest.js';
import type { Stream } from '../stream.js';
import { ConsumerReplica, type ConsumerGroupHost } from './consumer-replica.js';
import { peerId, type NrgHub, type RaftGroup } from './nrg.js';
import type { ConsumerAssignment, ConsumerProposal, StreamReplica } from './stream-replica.js';

/** A consumer config from its JSON (as encodeConsumerConfig wrote it); null when it does not decode. */
export function decodeConsumerConfig(json: string): ConsumerConfig | null {
  const d = decodeGoValue(json, CONSUMER_CONFIG_SCHEMA);
  return d === null ? null : (d.value as ConsumerConfig);
}

/** An account as the cluster layer uses it. */
export type ClusterAccount = ApiAccount & {
  readonly streams: ReadonlyMap<string, Stream>;
  resumeConsumer(stream: Stream, name: string, cfg: ConsumerConfig, created: number, state: ConsumerSnapshot | null): Consumer;
  advise(subject: string, body: (domain: string | null) => string): void;
};

/** What the consumers need of the cluster layer (meta.ts). */
export interface ConsumersContext {
  readonly hub: NrgHub;
  readonly sys: InternalClient;
  readonly groupsDir: string;
  enabledAccount(name: string): ClusterAccount | undefined;
  /** This server's replica of a stream. */
  replica(account: string, stream: string): StreamReplica | undefined;
  /** The `cluster` block of a group (STREAM.INFO's shape). */
  groupInfo(g: RaftGroup | null): Record<string, unknown>;
  internalError(err: unknown, what: string): void;
  /** On the meta leader: every one of `peers` is offline as the meta group sees it (allPeersOffline); false elsewhere. */
  offlineOnMeta(peers: readonly string[]): boolean;
}

/** An answer is sent only for entries this recent (not when a restarted server replays its log). */
const LIVE_MS = 10_000;
/** How long the stream leader waits for the consumer leaders' infos (jsClusteredConsumerListRequest). */
const LIST_TIMEOUT_MS = 4_000;
/** A new interest stream leader scans for messages no consumer needs up to this many messages. */
const CLEANUP_SCAN_MAX = 100_000;
/** How long the meta leader waits before it answers for an offline consumer (nats-server's errRespDelay). */
const OFFLINE_DELAY_MS = 500;
/** How long an inactive consumer's delete may take before it is asked for again. */
const INACTIVE_RETRY_MS = 2_000;
/** The file in a consumer group's directory naming its stream's group. */
const STREAM_MARK = 'stream';
const ckey = (account: string, stream: string, name: string): string => `${account}\u0000${stream}\u0000${name}`;

/** A new consumer's group name: `C-R<n><F|M>-<hash>`, as nats-server names consumer groups. */
export function consumerGroupName(streamGroup: string, name: string, created: number, replicas: number, memory: boolean): string {
  return `C-R${replicas}${memory ? 'M' : 'F'}-${peerId(`${streamGroup}/${name}/${created}`)}`;
}

export class ClusterConsumers implements ConsumerGroupHost {
  private readonly groups = new Map<string, ConsumerReplica>();
  private readonly storages = new Map<ConsumerReplica, FileRaftStorage>();
  /** Replicated consumers whose state changed since it was last proposed. */
  private readonly dirty = new Map<Consumer, StreamReplica>();
  /**
   * Ack replies (double acks) of replicated consumers: held until the consumer state holding the
   * ack is committed, as nats-server 2.10 does (consumer.go updateAcks / addAckReply): first per
   * consumer until its state is proposed, then per proposal until it is applied.
   */
  private readonly ackReplies = new Map<Consumer, string[]>();
  private readonly repliesAfter = new Map<string, { consumer: Consumer; replies: string[] }>();
  private stateTokens = 0;
  private statesQueued = false;
  private closed = false;

  constructor(private readonly ctx: ConsumersContext) {
    // A stream leader's CONSUMER.LIST asks the consumers' leaders for their infos.
    ctx.sys.subscribe('$JSC.CI', (msg) => {
      if (msg.reply === '') return;
      const q = parseJson(msg.data.toString('utf8')) as { a?: unknown; s?: unknown; c?: unknown } | null;
      if (q === null || typeof q.a !== 'string' || typeof q.s !== 'string' || typeof q.c !== 'string') return;
      const cr = this.groups.get(ckey(q.a, q.s, q.c));
      const jsa = this.ctx.enabledAccount(q.a);
      const c = jsa?.streams.get(q.s)?.consumers.get(q.c);
      if (cr === undefined || !cr.isLeader || jsa === undefined || c === undefined) return;
      this.ctx.sys.reply(msg.reply, consumerInfoJson(jsa, c, true));
    });
  }

  /** The group of a consumer on this server, if it has one. */
  groupOf(account: string, stream: string, name: string): ConsumerReplica | undefined {
    return this.groups.get(ckey(account, stream, name));
  }

  // ---- Creation, update, deletion (entries of the stream's log) ------------------------------

  /**
   * Whether a new consumer of `replica`'s stream gets a group of its own: a durable, and an
   * ephemeral of an interest or work-queue stream (jsClusteredConsumerRequest: "ephemerals be
   * R=1 unless stream is interest or workqueue"; an R1 ephemeral lives on the stream's leader).
   */
  static ownGroup(replica: StreamReplica, cfg: ConsumerConfig): boolean {
    return cfg.durable_name !== '' || replica.stream.cfg.retention !== 'limits';
  }

  /**
   * A new consumer group's voters (on the stream's leader): the stream's, this leader first (the
   * preferred leader, which campaigns at once); with fewer replicas asked for than the stream
   * has (`num_replicas`), that many of them, the ones heard from within an election timeout
   * before the others (nats-server's createGroupForConsumer picks active peers at random).
   */
  static newPeers(g: RaftGroup, replicas: number): string[] {
    const self = g.selfName;
    const heard = new Set(g.replicas().filter((r) => !r.offline).map((r) => r.name));
    const others = g.peers.filter((p) => p !== self);
    const all = [self, ...others.filter((p) => heard.has(p)), ...others.filter((p) => !heard.has(p))];
    return replicas > 0 && replicas < all.length ? all.slice(0, replicas) : all;
  }

  /**
   * The voters a consumer's group should have (read on its leader at each tick): its stream's;
   * with fewer replicas than the stream, its current voters that are still the stream's, topped
   * up from the stream's others when one left (a member removed, the stream moved).
   */
  private targetPeers(replica: StreamReplica, name: string, cr: ConsumerReplica): readonly string[] {
    const stream = replica.group?.peers ?? [];
    const a = replica.consumers.get(name);
    const n = a === undefined ? 0 : this.replicasOf(a.config);
    // Interest and work-queue retention need every consumer on the stream's voters (nats-server
    // remaps them so; a change to interest with such a consumer is refused: meta.ts).
    if (n <= 0 || n >= stream.length || replica.stream.cfg.retention !== 'limits') return stream;
    const keep = (cr.group?.peers ?? []).filter((p) => stream.includes(p));
    for (const p of stream) if (keep.length < n && !keep.includes(p)) keep.push(p);
    return keep.slice(0, n);
  }

  /** A consumer config's `num_replicas` (0: its stream's), by config JSON. */
  private replicasOf(config: string): number {
    return this.configOf(config).num_replicas;
  }

  /** The fields read often of a consumer config, by its JSON (decoded once). */
  private configOf(config: string): { num_replicas: number; ack_policy: ConsumerConfig['ack_policy'] } {
    let c = this.configs.get(config);
    if (c === undefined) {
      const d = decodeConsumerConfig(config);
      c = { num_replicas: d?.num_replicas ?? 0, ack_policy: d?.ack_policy ?? 'explicit' };
      if (this.configs.size > 1024) this.configs.clear();
      this.configs.set(config, c);
    }
    return c;
  }

  private readonly configs = new Map<string, { num_replicas: number; ack_policy: ConsumerConfig['ack_policy'] }>();

  /**
   * A consumer create or update committed in the stream's log, on every replica. A consumer in
   * the stream's log is made on its leader (`respond`); one with a group of its own starts its
   * group here, and its leader makes it (a new group's first leader answers the create).
   */
  applyConsumer(replica: StreamReplica, p: ConsumerProposal, respond: boolean): void {
    const jsa = this.ctx.enabledAccount(replica.account);
    const cfg = decodeConsumerConfig(p.config);
    const a = replica.consumers.get(p.name);
    if (jsa === undefined || cfg === null || a === undefined) return;
    const live = Date.now() - p.created < LIVE_MS && p.reply !== '';
    if (a.group === null) {
      if (!respond) return;
      const answer = commitConsumerCreate(jsa, replica.stream, p.name, cfg, p.updated);
      // Only answers the client of a live request (not a replay after a restart).
      if (live) send(jsa, p.reply, answer, p.subject, Buffer.alloc(0));
      return;
    }
    const cr = this.groups.get(ckey(replica.account, replica.stream.name, p.name));
    const make = (): void => {
      const stream = replica.stream;
      const created = !stream.consumers.has(p.name);
      // A new consumer: its first leader already started it (consumerLeaderChanged).
      const answer = commitConsumerCreate(jsa, stream, p.name, cfg, p.updated && !created);
      if (live) {
        send(jsa, p.reply, answer, p.subject, Buffer.alloc(0));
        if (p.peers !== undefined) jsa.consumerAdvisory('CONSUMER.CREATED', stream.name, p.name, 'create');
      }
    };
    if (cr === undefined) {
      const started = this.start(replica, p.name, a.group, p.peers ?? null, live && p.peers?.[0] === this.ctx.hub.selfName);
      // A live create is answered by the group's first leader once its first state is committed
      // (ConsumerReplica.pendingLeader); not by a restarted member replaying its log.
      // (Not on a server outside a group with fewer replicas than the stream: it never leads.)
      if (started !== undefined && live && started.fresh && (p.peers === undefined || p.peers.includes(this.ctx.hub.selfName))) started.pendingLeader.push(make);
      return;
    }
    // An update of a consumer led elsewhere: on an interest stream its leader (the stream's)
    // lets go what lost interest (consumer.go updateConfig; the consumer's leader, where it
    // runs live, does so in commitConsumerCreate).
    if (p.updated && replica.isLeader && replica.stream.cfg.retention === 'interest' && !replica.stream.consumers.has(p.name)) {
      cleanupNoInterestMessages(this.interestStream(replica), ackFloorOf(cr.state));
    }
    // An update: its leader applies it and answers (once it is ready, when it is not yet).
    const leader = cr.group?.leader ?? null;
    if (cr.isLeader) make();
    else if (live && (leader === null || leader === this.ctx.hub.selfName)) cr.pendingLeader.push(make);
  }

  /** A consumer with a group of its own deleted (the stream's log): its group stops everywhere. */
  deleted(replica: StreamReplica, name: string, rest: string, reply: string, respond: boolean): void {
    const jsa = this.ctx.enabledAccount(replica.account);
    const stream = replica.stream;
    // Interest retention: on the stream's leader, what only this consumer still needed goes
    // (where it runs live, deleting it does so itself: JsAccount.deleteConsumer).
    const cr = this.groups.get(ckey(replica.account, stream.name, name));
    const floor = replica.isLeader && stream.cfg.retention === 'interest' && !stream.consumers.has(name) && cr !== undefined ? ackFloorOf(cr.state) : -1;
    this.dropConsumer(replica, name);
    if (floor >= 0) cleanupNoInterestMessages(this.interestStream(replica), floor);
    if (!respond || jsa === undefined) return;
    send(jsa, reply, ok(response('consumer_delete', { success: true })), `$JS.API.${rest}`, Buffer.alloc(0));
    jsa.consumerAdvisory('CONSUMER.DELETED', stream.name, name, 'delete');
  }

  /** Deletes a consumer with a group of its own here: the live one (if it runs here), then its group. */
  private dropConsumer(replica: StreamReplica, name: string): void {
    const jsa = this.ctx.enabledAccount(replica.account);
    const c = replica.stream.consumers.get(name);
    if (c !== undefined && jsa !== undefined) {
      this.forget(c);
      jsa.deleteConsumer(replica.stream, c);
    }
    this.stop(ckey(replica.account, replica.stream.name, name));
  }

  /** A snapshot replaced the replica's consumers: groups start for the new ones, stop for the gone. */
  restored(replica: StreamReplica): void {
    const prefix = ckey(replica.account, replica.stream.name, '');
    for (const [k, cr] of [...this.groups]) {
      if (k.startsWith(prefix) && replica.consumers.get(cr.name)?.group !== cr.groupName) this.dropConsumer(replica, cr.name);
    }
    for (const [name, a] of replica.consumers) {
      if (a.group !== null && !this.groups.has(ckey(replica.account, replica.stream.name, name))) this.start(replica, name, a.group, null, false);
    }
  }

  /**
   * Starts this server's member of a consumer's group. `peers`: the voters it was created with
   * (null: unknown here, it joins, learning them from its leader's log); `campaign`: the new
   * group's preferred leader (the stream leader that proposed it) campaigns at once.
   */
  private start(replica: StreamReplica, name: string, group: string, peers: readonly string[] | null, campaign: boolean): ConsumerReplica | undefined {
    if (this.closed) return undefined;
    const self = this.ctx.hub.selfName;
    // The stream came back here while this server's member of the group still drained: afresh.
    const old = this.draining.get(group);
    if (old !== undefined) {
      this.draining.delete(group);
      this.release(old);
    }
    const cr: ConsumerReplica = new ConsumerReplica(replica.account, replica.stream.name, name, group, this, () => this.targetPeers(replica, name, cr));
    const storage = new FileRaftStorage(join(this.ctx.groupsDir, group), { fsync: false });
    const stored = storage.load();
    const fresh = stored.entries.length === 0 && stored.snapshot === null;
    try {
      cr.group = this.ctx.hub.group(group, peers !== null && peers.includes(self) ? peers : [], storage, cr);
    } catch (err) {
      storage.close();
      this.ctx.internalError(err, `consumer ${replica.account} > ${replica.stream.name} > ${name}: starting its group`);
      return undefined;
    }
    this.groups.set(ckey(replica.account, replica.stream.name, name), cr);
    this.storages.set(cr, storage);
    cr.fresh = fresh;
    // Which stream the group belongs to, for a member that learns of the stream's deletion only
    // by replaying the meta log (its replica never started again: removeLeftovers).
    try {
      writeFileSync(join(this.ctx.groupsDir, group, STREAM_MARK), replica.groupName);
    } catch (err) {
      this.ctx.internalError(err, `consumer ${replica.account} > ${replica.stream.name} > ${name}: marking its group`);
    }
    const node = cr.group.node;
    if (campaign && fresh && node.status.role === 'follower' && node.status.leader === null) {
      node.receiveMessage(node.id, { kind: 'timeout-now', term: node.status.term });
      this.ctx.hub.dirty(cr.group);
    }
    return cr;
  }

  /** Stops and deletes this server's member of a consumer's group. */
  private stop(k: string): void {
    const cr = this.groups.get(k);
    if (cr === undefined) return;
    this.groups.delete(k);
    this.release(cr);
  }

  /** Closes a group's member and deletes its log. */
  private release(cr: ConsumerReplica): void {
    cr.close();
    this.storages.get(cr)?.close();
    this.storages.delete(cr);
    rmSync(join(this.ctx.groupsDir, cr.groupName), { recursive: true, force: true });
  }

  /** The stream's replica stops here (deleted, moved off): its consumers' groups too. */
  dropStream(replica: StreamReplica, moved: boolean): void {
    const prefix = ckey(replica.account, replica.stream.name, '');
    for (const c of replica.stream.consumers.values()) this.forget(c);
    for (const [k, cr] of [...this.groups]) {
      if (!k.startsWith(prefix)) continue;
      const g = cr.group;
      // Moved off (the stream is elsewhere): still a voter of a running group, it keeps voting
      // but stops campaigning until the group's leader has removed it (else a group losing two
      // members at once could lose its quorum half-way), as a dropped stream replica does.
      if (!moved || g === null || g.peers.length <= 1 || !g.peers.includes(this.ctx.hub.selfName)) {
        this.stop(k);
        continue;
      }
      this.groups.delete(k);
      this.draining.set(cr.groupName, cr);
      g.node.setObserver(true);
      if (g.isLeader) g.stepDown();
      cr.onDropped = () => {
        if (this.draining.get(cr.groupName) === cr) this.draining.delete(cr.groupName);
        this.release(cr);
      };
    }
  }

  /** Deletes the logs of the consumer groups of stream group `streamGroup` that are not running. */
  removeLeftovers(streamGroup: string): void {
    const running = new Set([...this.groups.values(), ...this.draining.values()].map((cr) => cr.groupName));
    let names: string[];
    try {
      names = readdirSync(this.ctx.groupsDir);
    } catch {
      return;
    }
    for (const n of names) {
      if (!n.startsWith('C-') || running.has(n)) continue;
      let mark = '';
      try {
        mark = readFileSync(join(this.ctx.groupsDir, n, STREAM_MARK), 'utf8');
      } catch {
        continue;
      }
      if (mark === streamGroup) rmSync(join(this.ctx.groupsDir, n), { recursive: true, force: true });
    }
  }

  /** Groups of streams moved off this server, still voting until their leaders removed this one. */
  private readonly draining = new Map<string, ConsumerReplica>();

  /** This server was removed: its members of the stream's consumer groups stop campaigning and hand over. */
  observe(replica: StreamReplica): void {
    const prefix = ckey(replica.account, replica.stream.name, '');
    for (const [k, cr] of this.groups) {
      if (!k.startsWith(prefix) || cr.group === null) continue;
      cr.group.node.setObserver(true);
      if (cr.group.isLeader) cr.group.stepDown();
    }
  }

  // ---- Leadership -----------------------------------------------------------------------------

  /**
   * The stream's leadership changed: consumers in its log start on the new leader with the state
   * the log holds and stop on the former one (ephemeral ones are gone, as nats-server's R1
   * consumers on a lost server). Consumers with groups of their own are not concerned.
   */
  streamLeaderChanged(replica: StreamReplica, leading: boolean): void {
    const jsa = this.ctx.enabledAccount(replica.account);
    const stream = replica.stream;
    if (!leading) {
      for (const c of [...stream.consumers.values()]) {
        if (replica.consumers.get(c.name)?.group) continue;
        this.forget(c);
        c.close(false, true);
        stream.consumers.delete(c.name);
      }
      return;
    }
    if (jsa === undefined) return;
    for (const [name, a] of replica.consumers) {
      if (a.group === null && !stream.consumers.has(name)) this.resume(jsa, replica, name, a.state);
    }
    // A removal the former leader decided may have been lost with its term: what every consumer
    // acked goes again (checkInterestState, as nats-server's new leaders check interest), also
    // what it acked above its ack floor (lostRemovals).
    if (stream.cfg.retention === 'limits') return;
    const view = this.interestStream(replica);
    checkInterestState(view, true);
    // A consumer delete applied before this leader was ready: the cleanup it needed (the purge,
    // when it was the last) was lost with the former leader's term. Scanned again up to 100,000
    // messages (as nats-server bounds its interest scans); with no consumer left, purged.
    if (stream.cfg.retention === 'interest' && (view.interestConsumers.size === 0 || stream.store.state().msgs <= CLEANUP_SCAN_MAX)) {
      cleanupNoInterestMessages(view, 0);
    }
  }

  consumerLeaderChanged(cr: ConsumerReplica, leading: boolean): void {
    const jsa = this.ctx.enabledAccount(cr.account);
    if (jsa === undefined) return;
    if (!leading) {
      // (Also when the stream's replica here is already gone: a group draining after a move.)
      const stream = jsa.streams.get(cr.stream);
      const c = stream?.consumers.get(cr.name);
      if (stream === undefined || c === undefined) return;
      this.forget(c);
      c.close(false, true);
      stream.consumers.delete(cr.name);
      return;
    }
    const replica = this.ctx.replica(cr.account, cr.stream);
    if (replica === undefined) return;
    const stream = replica.stream;
    if (stream.consumers.has(cr.name)) return;
    const started = this.resume(jsa, replica, cr.name, cr.state);
    // A new consumer's first state: a later leader resumes where this one started.
    if (started !== undefined && cr.state === null) this.markDirty(started, replica);
  }

  /** Starts a replicated consumer here with its replicated state; undefined when it cannot. */
  private resume(jsa: ClusterAccount, replica: StreamReplica, name: string, raw: Buffer | null): Consumer | undefined {
    const a = replica.consumers.get(name);
    const cfg = a === undefined ? null : decodeConsumerConfig(a.config);
    if (a === undefined || cfg === null) return undefined;
    const stream = replica.stream;
    try {
      const decoded = raw === null ? null : decodeConsumerState(raw);
      if (raw !== null && decoded === null) throw new Error('its replicated state does not decode');
      const c = jsa.resumeConsumer(stream, name, cfg, a.created, decoded?.state ?? null);
      this.leaderElectedAdvisory(jsa, stream, c);
      return c;
    } catch (err) {
      this.ctx.internalError(err, `JetStream consumer '${replica.account} > ${stream.name} > ${name}': starting on the new leader`);
      return undefined;
    }
  }

  /** `$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.<stream>.<consumer>` (JSConsumerLeaderElectedAdvisory). */
  private leaderElectedAdvisory(jsa: ClusterAccount, stream: Stream, c: Consumer): void {
    jsa.advise(`$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.${stream.name}.${c.name}`, (domain) => {
      const info = this.clusterInfo(jsa, stream, c);
      return `{"type":"io.nats.jetstream.advisory.v1.consumer_leader_elected","id":${goJson(newNuid(), false)},`
        + `"timestamp":${goJson(rfc3339Nano(Date.now()), false)},"account":${goJson(jsa.name, false)},"stream":${goJson(stream.name, false)},`
        + `"consumer":${goJson(c.name, false)},"leader":${goJson(this.ctx.hub.selfName, false)},"replicas":${goJson(info.replicas ?? null, false)}`
        + `${domain === null ? '' : `,"domain":${goJson(domain, false)}`}}`;
    });
  }

  // ---- State replication ----------------------------------------------------------------------

  /** A consumer started on this server: a replicated one sends its state changes to the followers. */
  started(stream: Stream, c: Consumer): void {
    const replica = stream.replica as StreamReplica | null;
    if (replica === null || !replica.consumers.has(c.name)) return;
    c.deferAckReply = (reply) => {
      const q = this.ackReplies.get(c);
      if (q === undefined) this.ackReplies.set(c, [reply]);
      else q.push(reply);
    };
    c.state.onChange(() => this.markDirty(c, replica));
  }

  private markDirty(c: Consumer, replica: StreamReplica): void {
    this.dirty.set(c, replica);
    if (this.statesQueued) return;
    this.statesQueued = true;
    queueMicrotask(() => this.proposeStates());
  }

  private proposeStates(): void {
    this.statesQueued = false;
    for (const [c, replica] of this.dirty) {
      const replies = this.ackReplies.get(c);
      this.ackReplies.delete(c);
      const acked = this.released.get(c) ?? null;
      this.released.delete(c);
      const a = replica.consumers.get(c.name);
      if (a === undefined || replica.stream.consumers.get(c.name) !== c) continue;
      const token = `${this.ctx.hub.selfId}.${++this.stateTokens}`;
      const state = encodeConsumerState(c.state.snapshot(), 1);
      let proposed: boolean;
      if (a.group !== null) proposed = this.groups.get(ckey(replica.account, replica.stream.name, c.name))?.proposeState(state, token, acked) ?? false;
      else proposed = replica.isLeader && replica.proposeConsumerState(c.name, state, token);
      if (proposed && replies !== undefined) this.repliesAfter.set(token, { consumer: c, replies });
    }
    this.dirty.clear();
  }

  /**
   * A consumer with a group of its own acked `seq` on an interest or work-queue stream (on its
   * leader): the sequence goes with its next state entry, for the stream's leader to remove once
   * the entry is applied there ({@link consumerAcked}). False: not such a consumer.
   */
  streamAcked(stream: Stream, c: Consumer, seq: number): boolean {
    const replica = stream.replica as StreamReplica | null;
    if (replica === null || !replica.consumers.get(c.name)?.group) return false;
    const q = this.released.get(c);
    if (q === undefined) this.released.set(c, [seq]);
    else q.push(seq);
    return true;
  }

  /** Stream sequences acked by each consumer since its last proposed state. */
  private readonly released = new Map<Consumer, number[]>();

  /**
   * A consumer group's state was applied here (every member). On its stream's leader: the
   * messages its acks let go are removed as the interest rules say; null (a snapshot restored):
   * all it acked is checked again.
   */
  consumerAcked(cr: ConsumerReplica, acked: Buffer | null): void {
    const replica = this.ctx.replica(cr.account, cr.stream);
    if (replica === undefined || !replica.isLeader || replica.stream.cfg.retention === 'limits' || this.closed) return;
    // The removals of one state entry go in one stream entry.
    const removed: number[] = [];
    // A work queue removes what is acked: no other consumer's state is read (nor built).
    const view = this.interestStream(replica, removed, replica.stream.cfg.retention === 'workqueue' ? cr.name : null);
    const by = view.interestConsumers.get(cr.name)?.state;
    if (by === undefined) return;
    try {
      if (acked === null) recheckAcked(view, by, true);
      else for (let at = 0; at + 8 <= acked.length; at += 8) streamAck(view, by, acked.readDoubleLE(at));
    } catch (err) {
      this.ctx.internalError(err, `consumer ${cr.account} > ${cr.stream} > ${cr.name}: interest removals`);
    }
    replica.proposeRemoveMany(removed);
  }

  /**
   * The interest rules' view of a replicated stream's consumers on this server: each consumer
   * with a group of its own as its group's last applied state says ({@link InterestSnapshot},
   * cached per state), one in the stream's log as it runs here (or its last state). With
   * `only`, that consumer alone (a work queue's removals read no other consumer).
   */
  interestView(replica: StreamReplica, only: string | null = null): ReadonlyMap<string, { readonly state: InterestState }> {
    const out = new Map<string, { readonly state: InterestState }>();
    if (only !== null) {
      const a = replica.consumers.get(only);
      const entry = a === undefined ? replica.stream.consumers.get(only) : this.interestEntry(replica, only, a);
      if (entry !== undefined) out.set(only, entry);
      return out;
    }
    for (const [name, a] of replica.consumers) out.set(name, this.interestEntry(replica, name, a));
    // Consumers that live on this server alone (an ephemeral or a mirror's direct consumer of a
    // limits stream whose retention changed): nats-server's stream leader counts them too.
    for (const c of replica.stream.consumers.values()) if (!replica.consumers.has(c.name)) out.set(c.name, c);
    return out;
  }

  /** One consumer of the stream's log in {@link interestView}: the live one, or its last state's snapshot. */
  private interestEntry(replica: StreamReplica, name: string, a: ConsumerAssignment): { readonly state: InterestState } {
    if (a.group === null) {
      const live = replica.stream.consumers.get(name);
      if (live !== undefined) return live;
    }
    const raw = a.group === null ? a.state : this.groups.get(ckey(replica.account, replica.stream.name, name))?.state ?? null;
    return { state: this.shadowOf(raw, a.config, a.filters) };
  }

  /** Interest snapshots by the state buffer they were read from (a new buffer per applied state). */
  private readonly shadows = new WeakMap<Buffer, { config: string; shadow: InterestSnapshot }>();

  private shadowOf(raw: Buffer | null, config: string, filters: readonly string[]): InterestSnapshot {
    const cached = raw === null ? undefined : this.shadows.get(raw);
    if (cached !== undefined && cached.config === config) return cached.shadow;
    const shadow = new InterestSnapshot(raw, readState, filters, this.configOf(config).ack_policy);
    if (raw !== null) this.shadows.set(raw, { config, shadow });
    return shadow;
  }

  /**
   * The interest rules' stream, over one {@link interestView} of its consumers (`only`: of that
   * one). With `batch`, the removals are collected there (for one entry) instead of proposed one
   * by one.
   */
  private interestStream(replica: StreamReplica, batch: number[] | null = null, only: string | null = null): InterestStream {
    const stream = replica.stream;
    return {
      cfg: stream.cfg,
      store: stream.store,
      interestConsumers: this.interestView(replica, only),
      removeMsg: batch === null ? (seq) => stream.removeMsg(seq) : (seq) => (batch.push(seq), replica.isLeader),
      purgeAll: () => stream.purgeAll(),
    };
  }

  /** A state this server proposed is committed (its consumer's group or its stream's log): the ack replies it held go. */
  consumerStateApplied(token: string): void {
    const pending = this.repliesAfter.get(token);
    if (pending === undefined) return;
    this.repliesAfter.delete(token);
    for (const reply of pending.replies) pending.consumer.sendAckReply(reply);
  }

  internalError(err: unknown, what: string): void {
    this.ctx.internalError(err, what);
  }

  /** Replies held for states that may never commit under this leader: the clients retry. */
  private forget(c: Consumer): void {
    for (const [token, p] of [...this.repliesAfter]) if (p.consumer === c) this.repliesAfter.delete(token);
    this.ackReplies.delete(c);
    this.released.delete(c);
    this.dirty.delete(c);
  }

  /**
   * A replicated consumer's inactivity threshold passed (on its leader): deleted through the
   * stream's log, by the stream's leader (told over `$JSC.CD` when it is another server).
   */
  inactive(stream: Stream, c: Consumer): boolean {
    const replica = stream.replica as StreamReplica | null;
    if (replica === null || !replica.consumers.has(c.name)) return false;
    const rest = `CONSUMER.DELETE.${stream.name}.${c.name}`;
    if (replica.isLeader) replica.proposeConsumerDelete(c.name, rest, '');
    else {
      const leader = replica.group?.leader;
      if (leader) this.ctx.sys.publish(`$JSC.CD.${this.ctx.hub.idOf(leader)}`, JSON.stringify({ a: replica.account, s: stream.name, c: c.name }));
    }
    // Asked again while it still runs here (the proposal or the request lost to a leader change).
    const retry = setTimeout(() => {
      this.retries.delete(retry);
      if (!this.closed && stream.consumers.get(c.name) === c && replica.consumers.has(c.name)) this.inactive(stream, c);
    }, INACTIVE_RETRY_MS);
    retry.unref();
    this.retries.add(retry);
    return true;
  }

  /** Retries of inactive consumers' deletes (cleared on close). */
  private readonly retries = new Set<NodeJS.Timeout>();

  /** `$JSC.CD.<id>`: a consumer leader asks this stream leader to delete an inactive consumer. */
  deleteRequested(data: Buffer): void {
    const q = parseJson(data.toString('utf8')) as { a?: unknown; s?: unknown; c?: unknown } | null;
    if (q === null || typeof q.a !== 'string' || typeof q.s !== 'string' || typeof q.c !== 'string') return;
    const replica = this.ctx.replica(q.a, q.s);
    if (replica === undefined || !replica.isLeader || !replica.consumers.has(q.c)) return;
    replica.proposeConsumerDelete(q.c, `CONSUMER.DELETE.${q.s}.${q.c}`, '');
  }

  // ---- Info -----------------------------------------------------------------------------------

  /**
   * A consumer's `cluster` block. With a group of its own: that group's leader and replicas;
   * in the stream's log: the stream's, under a consumer group name. An R1 consumer (`num_replicas`
   * 1, or an ephemeral of a limits stream) names only its leader, as nats-server runs no group for it.
   */
  clusterInfo(jsa: ApiAccount, s: Stream, c: Consumer): Record<string, unknown> {
    const replica = s.replica as StreamReplica | null;
    const a = replica?.consumers.get(c.name);
    const n = c.cfg.num_replicas > 0 ? c.cfg.num_replicas : s.cfg.num_replicas;
    if (replica === null || a === undefined || n <= 1) return this.ctx.groupInfo(null);
    if (a.group !== null) {
      const cr = this.groups.get(ckey(replica.account, s.name, c.name));
      const info = this.ctx.groupInfo(cr?.group ?? null);
      return info.raft_group === undefined ? info : { ...info, raft_group: a.group };
    }
    const info = jsa.cluster?.clusterInfo(jsa, s) ?? this.ctx.groupInfo(null);
    if (info.raft_group === undefined) return info;
    const storage = c.cfg.mem_storage || s.cfg.storage === 'memory' ? 'M' : 'F';
    const { name, raft_group: group, ...rest } = info;
    return { name, raft_group: `C-R${n}${storage}-${peerId(`${String(group)}/${c.name}`)}`, ...rest };
  }

  /** The account's replicated consumers of a stream plus the local ones (not `direct`), by name. */
  static names(replica: StreamReplica): string[] {
    const out = new Set<string>(replica.consumers.keys());
    for (const c of replica.stream.consumers.values()) if (!c.cfg.direct) out.add(c.name);
    return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  // ---- The API --------------------------------------------------------------------------------

  /**
   * CONSUMER.INFO and CONSUMER.LEADER.STEPDOWN of a consumer with a group of its own: its leader
   * answers (false: with the single server's handler); a member answers 10008 while the group has
   * no leader (jsConsumerInfoRequest); the others stay silent (true). Null: not such a consumer
   * (the stream's leader answers).
   */
  interceptOwn(jsa: ApiAccount, op: string, replica: StreamReplica, name: string, body: Buffer, reply: string, subject: string): boolean | null {
    const a = replica.consumers.get(name);
    if (a === undefined || a.group === null) return null;
    const cr = this.groups.get(ckey(replica.account, replica.stream.name, name));
    if (cr === undefined) return true;
    const kind = op === 'CONSUMER.INFO' ? 'consumer_info' : 'consumer_leader_stepdown';
    const g = cr.group;
    // Every member of its group offline (say, an R1 consumer's server is down): the meta leader
    // answers 10119, after a delay that lets a member answer first (jsConsumerInfoRequest).
    const peers = g !== null && g.peers.length > 0 ? g.peers : a.peers ?? [];
    if (op === 'CONSUMER.INFO' && this.ctx.offlineOnMeta(peers)) {
      const t = setTimeout(() => {
        this.retries.delete(t);
        if (!this.closed) send(jsa, reply, fail(kind, jsError('JSConsumerOfflineErr')), subject, body);
      }, OFFLINE_DELAY_MS);
      t.unref();
      this.retries.add(t);
      return true;
    }
    // A member of a group without a leader answers 10008 (isGroupLeaderless).
    if (g !== null && g.leaderless() && g.peers.includes(this.ctx.hub.selfName)) {
      send(jsa, reply, fail(kind, jsError('JSClusterNotAvailErr')), subject, body);
      return true;
    }
    if (!cr.isLeader || !replica.stream.consumers.has(name)) return true;
    if (op === 'CONSUMER.INFO') return false;
    // jsConsumerLeaderStepDownRequest: a body is refused; a group of one (nats-server runs no
    // Raft node for an R1 consumer) stays where it is, with success.
    if (!isEmptyRequest(body)) send(jsa, reply, fail(kind, jsError('JSBadRequestErr')), subject, body);
    else {
      if (g !== null && g.peers.length > 1) g.stepDown();
      send(jsa, reply, ok(response(kind, { success: true })), subject, body);
    }
    return true;
  }

  /** The page a NAMES or LIST request asks for, of every replicated consumer and the local ones by name. */
  private page(kind: string, replica: StreamReplica, body: Buffer, limit: number): { answer: Answer } | { names: string[]; total: number; offset: number } {
    const page = pageRequest(kind, body);
    if (page === null || 'json' in page) return { answer: page };
    const all = ClusterConsumers.names(replica);
    const offset = Math.max(0, Math.min(page.offset, all.length));
    return { names: all.slice(offset, offset + limit), total: all.length, offset };
  }

  /** CONSUMER.NAMES on the stream's leader: every replicated consumer and the local ones. */
  names(jsa: ApiAccount, replica: StreamReplica, body: Buffer, reply: string, subject: string): void {
    const kind = 'consumer_names';
    const p = this.page(kind, replica, body, NAMES_LIMIT);
    if ('answer' in p) return send(jsa, reply, p.answer, subject, body);
    send(jsa, reply, ok(response(kind, { total: p.total, offset: p.offset, limit: NAMES_LIMIT, consumers: p.names })), subject, body);
  }

  /**
   * CONSUMER.LIST on the stream's leader: the local consumers' infos, and those of the consumers
   * led elsewhere from their leaders; the ones that do not answer within 4 s are `missing`.
   */
  list(jsa: ClusterAccount, replica: StreamReplica, body: Buffer, reply: string, subject: string): void {
    const kind = 'consumer_list';
    const p = this.page(kind, replica, body, LIST_LIMIT);
    if ('answer' in p) return send(jsa, reply, p.answer, subject, body);
    const { names, total, offset: from } = p;
    const infos = new Map<string, string>();
    const asked = new Set<string>();
    const stream = replica.stream;
    for (const name of names) {
      const c = stream.consumers.get(name);
      if (c !== undefined) infos.set(name, consumerInfoJson(jsa, c, true));
      else asked.add(name);
    }
    const finish = (): void => {
      const missing = names.filter((n) => !infos.has(n));
      const list = names.filter((n) => infos.has(n)).map((n) => infos.get(n)!);
      const fields: Record<string, unknown> = { total, offset: from, limit: LIST_LIMIT, consumers: new RawJson(`[${list.join(',')}]`) };
      if (missing.length > 0) fields.missing = missing;
      send(jsa, reply, ok(response(kind, fields)), subject, body);
    };
    if (asked.size === 0) return finish();
    const inbox = `$JSC.CIR.${this.ctx.hub.selfId}.${newNuid()}`;
    let timer: NodeJS.Timeout | null = null;
    const sub = this.ctx.sys.subscribe(inbox, (msg) => {
      const info = parseJson(msg.data.toString('utf8')) as { name?: unknown } | null;
      if (info === null || typeof info.name !== 'string' || !asked.delete(info.name)) return;
      infos.set(info.name, msg.data.toString('utf8'));
      if (asked.size === 0) done();
    });
    const done = (): void => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      this.ctx.sys.unsubscribe(sub);
      this.pendingLists.delete(done);
      if (!this.closed) finish();
    };
    this.pendingLists.add(done);
    timer = setTimeout(done, LIST_TIMEOUT_MS);
    timer.unref();
    for (const name of asked) this.ctx.sys.publish('$JSC.CI', JSON.stringify({ a: replica.account, s: stream.name, c: name }), { reply: inbox });
  }

  /** CONSUMER.LIST gatherings under way (settled, unanswered, on close). */
  private readonly pendingLists = new Set<() => void>();

  /** Existing consumers' configs for a create's checks: the replicated ones and the local ones. */
  static configs(replica: StreamReplica): Array<readonly [string, ConsumerConfig]> {
    const out = new Map<string, ConsumerConfig>();
    for (const [name, a] of replica.consumers) {
      const cfg = decodeConsumerConfig(a.config);
      if (cfg !== null) out.set(name, cfg);
    }
    for (const c of replica.stream.consumers.values()) out.set(c.name, c.cfg);
    return [...out];
  }

  close(): void {
    this.closed = true;
    for (const t of this.retries) clearTimeout(t);
    this.retries.clear();
    for (const done of [...this.pendingLists]) done();
    for (const cr of [...this.groups.values(), ...this.draining.values()]) {
      cr.close();
      this.storages.get(cr)?.close();
    }
    this.groups.clear();
    this.draining.clear();
    this.storages.clear();
  }
}

/** A consumer state buffer's snapshot (null: it does not decode). */
function readState(raw: Buffer): ConsumerSnapshot | null {
  return decodeConsumerState(raw)?.state ?? null;
}

/** The ack floor's stream sequence a replicated state holds (0: none yet, or it does not decode). */
function ackFloorOf(raw: Buffer | null): number {
  return raw === null ? 0 : readState(raw)?.ackFloorStream ?? 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
