/**
 * What the monitoring endpoints read (`MonitorContext`) and the JSON they answer with: nats-server
 * 2.10's structs (`monitor.go`), field for field; optional fields are Go's `omitempty`.
 */
import type { LeafManager } from '../leaf/leafnodes.js';
import type { BrokerCore } from '../broker/core.js';
import type { JetStream } from '../jetstream/jetstream.js';
import type { ClusterManager } from '../cluster/cluster.js';
import type { GatewayManager } from '../gateway/gateway.js';
import type { ResolvedOptions } from '../config/options.js';

/** What the endpoints read. Getters, because a restart replaces the core. */
export interface MonitorContext {
  readonly options: ResolvedOptions;
  core(): BrokerCore;
  cluster(): ClusterManager | null;
  /** The leaf node layer, when `leafnodes` is configured and the server runs. */
  leaf?(): LeafManager | null;
  /** The gateway layer, when a `gateway` block is configured and the server runs. */
  gateway(): GatewayManager | null;
  /** The JetStream engine, when JetStream is on and the server runs. */
  jetstream(): JetStream | null;
  /** When the server (re)started. */
  startedAt(): Date;
  /** When the configuration was (re)loaded. */
  configLoadedAt(): Date;
  /** The real client port. */
  port(): number;
  /** The real websocket port (0 without a websocket listener). */
  wsPort(): number;
}

export interface MonitorHandle {
  readonly port: number;
  close(): Promise<void>;
}

// ---- JSON shapes (nats-server's structs; optional = `omitempty`) ------------------------------

/** nats-server's `SubDetail`. */
export interface SubDetail {
  account?: string;
  subject: string;
  qgroup?: string;
  sid: string;
  msgs: number;
  max?: number;
  cid: number;
}

/** nats-server's `ConnInfo` (the fields that exist here). */
export interface ConnInfo {
  cid: number;
  kind: 'Client';
  type: 'nats';
  ip: string;
  port: number;
  start: string;
  last_activity: string;
  stop?: string;
  reason?: string;
  rtt?: string;
  uptime: string;
  idle: string;
  pending_bytes: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  subscriptions: number;
  name?: string;
  lang?: string;
  version?: string;
  subscriptions_list?: string[];
  subscriptions_list_detail?: SubDetail[];
}

/** nats-server's `Connz`. */
export interface Connz {
  server_id: string;
  now: string;
  num_connections: number;
  total: number;
  offset: number;
  limit: number;
  connections: ConnInfo[];
}

/** nats-server's `SublistStats`. */
export interface SublistStatsJson {
  num_subscriptions: number;
  num_cache: number;
  num_inserts: number;
  num_removes: number;
  num_matches: number;
  cache_hit_rate: number;
  max_fanout: number;
  avg_fanout: number;
}

/** nats-server's `RouteInfo`. */
export interface RouteInfoJson {
  rid: number;
  remote_id: string;
  remote_name: string;
  did_solicit: boolean;
  is_configured: boolean;
  ip: string;
  port: number;
  start: string;
  last_activity: string;
  rtt?: string;
  uptime: string;
  idle: string;
  pending_size: number;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
  subscriptions: number;
  subscriptions_list?: string[];
  subscriptions_list_detail?: SubDetail[];
  compression?: string;
}
