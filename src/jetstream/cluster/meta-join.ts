/**
 * A JetStream server joining a running cluster's meta group — nats-server 2.10.29's way of
 * growing `_meta_` (raft.go trackPeer / ProposeAddPeer: the meta leader proposes adding a server
 * it hears from that is not a member yet, one membership change at a time, and a removed server
 * only once its removal is `peerRemoveTimeout`, 5 minutes, old), over an internal request of our
 * own instead of nats-server's Raft traffic.
 *
 * - A server whose meta log is empty starts its group with no voters (it cannot campaign, so it
 *   cannot raise the cluster's term) and asks on `$JSC.JOIN` (system account) every heartbeat.
 *   Every JetStream server answers with the meta leader it knows and whether its own meta log is
 *   empty. Answers from a quorum of `clusterPeers` (this server included) that all know no leader
 *   and no log: the cluster is new, and the server bootstraps the group with `clusterPeers`.
 *   Any answer that knows a leader or a log: the cluster runs, and the server waits to be added;
 *   it learns the voters (itself among them) from the leader's log, as a stream replica added to
 *   a running group does.
 * - The meta leader adds a server that asks and is not a voter (a server removed by
 *   SERVER.REMOVE: only once the removal is `peerRemoveTimeout` old, after an entry of the meta
 *   log that forgets the removal everywhere).
 *
 * `$JSC.JOIN` is in the system account, as nats-server's Raft traffic is: a system-account user
 * who publishes there can have a name added to the voters (as it can remove servers with
 * SERVER.REMOVE).
 *
 * nats-server bootstraps a new server with the peers it has seen and lets it campaign at once
 * (setupMetaGroup → bootstrapRaftNode; with 2.9.10, a 4th server's first vote request carried
 * the running group's term by chance and was refused). Here a joining server never campaigns.
 */
import type { InternalClient } from '../../broker/internal.js';
import type { RaftGroup } from './nrg.js';

/** The subject a server asks to join on, in the system account. */
export const JOIN_SUBJECT = '$JSC.JOIN';

/** What the meta-join logic needs of the cluster (meta.ts). */
export interface JoinHost {
  readonly self: string;
  /** `clusterPeers`, this server included. */
  readonly clusterPeers: readonly string[];
  readonly sys: InternalClient;
  idOf(name: string): string;
  /** The meta group (replaced once when a new cluster bootstraps). */
  meta(): RaftGroup;
  /** This server answers for the meta group (leader, state current). */
  answersForAll(): boolean;
  /** The meta leader as this server knows it, or null. */
  knownLeader(): string | null;
  /** When `name`'s SERVER.REMOVE was proposed (undefined: not removed). */
  removedAt(name: string): number | undefined;
  /** A removal of `name` is proposed and not applied yet. */
  removalPending(name: string): boolean;
  /** Proposes the meta entry that forgets `name`'s removal (the meta leader). */
  proposeRejoin(name: string): void;
  /** Restarts the meta group (still empty) with `clusterPeers` as its voters. */
  bootstrap(): void;
  readonly heartbeatMs: number;
  readonly peerRemoveTimeoutMs: number;
}

interface JoinAnswer {
  readonly name: string;
  readonly leader: string | null;
  readonly fresh: boolean;
}

export class MetaJoin {
  /** Undecided: the meta log was empty at start, and no answer said whether the cluster runs. */
  private undecided: boolean;
  private readonly fresh = new Set<string>();
  private lastAsk = 0;

  constructor(private readonly host: JoinHost, emptyAtStart: boolean) {
    this.undecided = emptyAtStart;
    for (const p of host.clusterPeers) host.idOf(p);
    const sys = host.sys;
    sys.subscribe(JOIN_SUBJECT, (msg) => {
      const name = msg.data.toString('utf8');
      if (name === '' || name === host.self) return;
      host.idOf(name);
      if (msg.reply !== '') sys.reply(msg.reply, JSON.stringify(this.answer()));
      if (host.answersForAll()) this.admit(name);
    });
    sys.subscribe(`$JSC.JA.${host.idOf(host.self)}`, (msg) => {
      let a: JoinAnswer;
      try {
        a = JSON.parse(msg.data.toString('utf8')) as JoinAnswer;
      } catch {
        return;
      }
      // The names of servers this one may not have met (a joining group starts with no voters).
      if (typeof a.name === 'string') host.idOf(a.name);
      if (typeof a.leader === 'string') host.idOf(a.leader);
      this.onAnswer(a);
    });
  }

  /** Not a voter of the meta group (yet): asking to join. */
  get joining(): boolean {
    return !this.host.meta().peers.includes(this.host.self);
  }

  private answer(): JoinAnswer {
    const meta = this.host.meta();
    const empty = meta.node.status.lastIndex === 0;
    return { name: this.host.self, leader: this.host.knownLeader(), fresh: empty && meta.leader === null };
  }

  private onAnswer(a: JoinAnswer): void {
    if (!this.undecided || typeof a.name !== 'string' || !this.host.clusterPeers.includes(a.name)) return;
    if (a.fresh !== true || a.leader !== null) {
      // The cluster runs: wait to be added.
      this.undecided = false;
      return;
    }
    this.fresh.add(a.name);
  }

  /** The meta leader: adds `name` when it may (one change at a time: it asks again). */
  private admit(name: string): void {
    const h = this.host;
    if (h.meta().peers.includes(name) || h.removalPending(name)) return;
    const removedAt = h.removedAt(name);
    if (removedAt !== undefined) {
      // raft.go trackPeer: "Removed peers can rejoin after timeout".
      if (Date.now() - removedAt >= h.peerRemoveTimeoutMs) h.proposeRejoin(name);
      return;
    }
    h.meta().addPeer(name);
  }

  /** On the meta group's ticks: asks to join while this server is not a voter. */
  tick(): void {
    const h = this.host;
    const now = Date.now();
    if (now - this.lastAsk < h.heartbeatMs) return;
    if (this.undecided) {
      const quorum = Math.floor(h.clusterPeers.length / 2) + 1;
      if (this.fresh.size + 1 >= quorum && h.meta().node.status.lastIndex === 0 && h.meta().leader === null) {
        this.undecided = false;
        h.bootstrap();
        return;
      }
    }
    if (!this.joining) {
      this.undecided = false;
      return;
    }
    this.lastAsk = now;
    h.sys.publish(JOIN_SUBJECT, h.self, { reply: `$JSC.JA.${h.idOf(h.self)}` });
  }
}
