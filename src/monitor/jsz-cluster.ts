/**
 * What the monitoring endpoints show of clustered JetStream (jetstream/cluster/): the meta
 * group as nats-server 2.10.29's `MetaClusterInfo` (server/monitor.go, in `/jsz`'s
 * `meta_cluster` and `/varz`'s `jetstream.meta`), the number of Raft groups (`ha_assets`), a
 * stream's replica on this server, and whether a group is "healthy" in `/healthz`'s sense.
 */
import type { JetStream } from '../jetstream/jetstream.js';
import type { Stream } from '../jetstream/stream.js';
import { peerId, type RaftGroup } from '../jetstream/cluster/nrg.js';
import { StreamReplica } from '../jetstream/cluster/stream-replica.js';

/**
 * nats-server's `MetaClusterInfo` of the meta group, undefined on a single server: the cluster
 * name, the leader's name and node hash (`getHash` of "" while there is none, as nats-server
 * writes it), the voters as the leader sees them (`withReplicas`: only the leader has them),
 * the group's size, and `pending` — the API requests nats-server queues for its routed-request
 * worker, always 0 here (requests are answered as they come). 2.9.10 has no `pending`.
 */
export function metaClusterInfo(js: JetStream, withReplicas: boolean): Record<string, unknown> | undefined {
  const c = js.cluster;
  if (c === null) return undefined;
  const meta = c.meta;
  const leader = meta.leader;
  const replicas = withReplicas ? peerInfos(meta) : [];
  const name = js.clusterName();
  return {
    name: name === '' ? undefined : name,
    leader: leader ?? undefined,
    peer: peerId(leader ?? ''),
    replicas: replicas.length > 0 ? replicas : undefined,
    // A member still joining (no voters yet, cluster/meta-join.ts) counts the peers it was
    // configured with, as nats-server's bootstrap counts the peers it knows.
    cluster_size: meta.peers.length > 0 ? meta.peers.length : c.options.peers.length,
    pending: 0,
  };
}

/**
 * nats-server's `PeerInfo` of the other voters of a group, by name, as its leader sees them
 * (`clusterInfo`): a voter not heard from within an election timeout is `offline` and not
 * `current` (the rule of STREAM.INFO's replicas here, cluster/meta.ts), `active` in ns.
 */
function peerInfos(g: RaftGroup): Record<string, unknown>[] {
  return g.replicas().map((p) => ({
    name: p.name,
    current: p.current && !p.offline,
    offline: p.offline ? true : undefined,
    active: Math.round(p.activeMs * 1e6),
    lag: p.lag > 0 ? p.lag : undefined,
    peer: peerId(p.name),
  }));
}

/** This server's replica of a clustered stream, or null (a single server's stream). */
export function replicaOf(s: Stream): StreamReplica | null {
  return s.replica instanceof StreamReplica ? s.replica : null;
}

/**
 * `ha_assets`: nats-server's `numRaftNodes()`, the Raft groups this server runs — the meta
 * group, each replicated (R>1) stream it holds and each of their replicated consumers (nats-server
 * gives every such consumer a group; an R1 stream, an R1 consumer — `num_replicas: 1`, or an
 * ephemeral one of a limits stream — has none). Here a consumer follows its stream's group, so
 * the count is what nats-server would show.
 */
export function haAssets(js: JetStream): number {
  if (js.cluster === null) return 0;
  let n = 1;
  for (const jsa of js.accounts.values()) {
    if (!jsa.enabled) continue;
    for (const s of jsa.streams.values()) {
      const r = replicaOf(s);
      if (r === null || r.group === null || s.cfg.num_replicas <= 1) continue;
      n += 1;
      for (const a of r.consumers.values()) if (consumerReplicas(a.config) !== 1) n++;
    }
  }
  return n;
}

/** A replicated consumer's `num_replicas` (0: the stream's) from its config JSON. */
export function consumerReplicas(config: string): number {
  try {
    const n = (JSON.parse(config) as { num_replicas?: unknown }).num_replicas;
    return typeof n === 'number' ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * nats-server 2.10.29's `Healthy()` of a group (raft.go `isCurrent(true)`): something was
 * committed, and this server leads, or has applied every committed entry. A follower that knows
 * no leader (a candidate: 2.10 clears the leader when it campaigns) counts as healthy when it is
 * applied up to its commit — 2.9.10's `isCurrent` required recent contact with a leader, so a
 * replica of a group that lost its quorum was "not current" there and is healthy in 2.10.
 * (nats-server's other reasons — catching up, paused applies — do not exist here.)
 */
export function groupHealthy(g: RaftGroup): boolean {
  const st = g.node.status;
  if (st.commitIndex === 0) return false;
  return g.isLeader || st.applied >= st.commitIndex;
}
