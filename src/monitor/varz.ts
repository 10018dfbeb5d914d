/**
 * `/varz`: the server's configuration, counters and resource use, as nats-server 2.10's
 * `Varz` (field names, order, units: durations in nanoseconds, times in RFC 3339).
 */
import { availableParallelism, cpus } from 'node:os';
import { hostPort } from '../io/listen.js';
import { goUptime, rfc3339Nano } from '../protocol/go-format.js';
import { varzJetStream } from './jsz.js';
import { varzLeaf } from './leafz.js';
import { gatewayVarz } from './gatewayz.js';
import type { MonitorContext } from './types.js';

/** nats-server's defaults, in seconds (`AUTH_TIMEOUT`, `TLS_TIMEOUT`): reported though unused here. */
const AUTH_TIMEOUT_S = 2;
const TLS_TIMEOUT_S = 2;
const NS_PER_MS = 1_000_000;

/** The `/varz` document. */
export function varz(ctx: MonitorContext, reqStatsByPath: ReadonlyMap<string, number>, cpu: CpuSampler): Record<string, unknown> {
  const core = ctx.core();
  const cluster = ctx.cluster();
  const o = ctx.options;
  const info = core.info();
  const now = Date.now();
  const start = ctx.startedAt().getTime();
  const s = core.stats;
  const wsUrls = cluster?.wsConnectUrls() ?? null;
  const wsConnectUrls = wsUrls !== null && wsUrls.length > 0 ? [...wsUrls] : undefined;
  const ws = o.websocket;
  const connectUrls = info.connect_urls !== undefined && info.connect_urls.length > 0 ? [...info.connect_urls] : undefined;
  const reqStats: Record<string, number> = {};
  for (const key of [...reqStatsByPath.keys()].sort()) reqStats[key] = reqStatsByPath.get(key)!;
  const cores = cpus().length;
  return {
    server_id: info.server_id,
    server_name: info.server_name,
    version: info.version,
    proto: info.proto,
    go: info.go,
    host: info.host,
    port: info.port,
    auth_required: info.auth_required,
    connect_urls: connectUrls,
    ws_connect_urls: wsConnectUrls,
    max_connections: o.maxConnections,
    max_subscriptions: o.maxSubscriptions > 0 ? o.maxSubscriptions : undefined,
    ping_interval: o.pingIntervalMs * NS_PER_MS,
    ping_max: o.maxPingsOut,
    http_host: o.http?.host ?? '',
    // nats-server reports the configured port: -1 for a random one.
    http_port: o.http === null ? 0 : o.http.port === 0 ? -1 : o.http.port,
    http_base_path: '',
    https_port: 0,
    auth_timeout: AUTH_TIMEOUT_S,
    max_control_line: o.maxControlLine,
    max_payload: o.maxPayload,
    max_pending: o.maxPending,
    cluster: cluster === null || o.cluster === null
      ? {}
      : {
          name: cluster.name,
          addr: o.cluster.host,
          cluster_port: cluster.port,
          auth_timeout: o.cluster.authTimeoutMs / 1000,
          urls: o.cluster.routes.length > 0 ? o.cluster.routes.map((r) => hostPort(r.host, r.port)) : undefined,
          tls_timeout: TLS_TIMEOUT_S,
        },
    gateway: gatewayVarz(ctx),
    leaf: varzLeaf(ctx),
    mqtt: {},
    // nats-server's WebsocketOptsVarz (omitempty fields left out when unset).
    websocket: ws === null
      ? {}
      : {
          host: ws.host,
          port: ctx.wsPort(),
          no_auth_user: ws.authOverride?.noAuthUser ?? undefined,
          jwt_cookie: ws.jwtCookie ?? undefined,
          auth_timeout: ws.authTimeoutMs === null || ws.authTimeoutMs === 0 ? undefined : ws.authTimeoutMs / 1000,
          no_tls: ws.noTls || undefined,
          tls_map: ws.tls?.map || undefined,
          same_origin: ws.sameOrigin || undefined,
          allowed_origins: ws.allowedOrigins.length > 0 ? [...ws.allowedOrigins] : undefined,
          compression: ws.compression || undefined,
        },
    jetstream: varzJetStream(ctx),
    tls_timeout: TLS_TIMEOUT_S,
    write_deadline: o.writeDeadlineMs * NS_PER_MS,
    start: rfc3339Nano(start),
    now: rfc3339Nano(now),
    uptime: goUptime(now - start),
    mem: process.memoryUsage().rss,
    cores,
    gomaxprocs: typeof availableParallelism === 'function' ? availableParallelism() : cores,
    cpu: cpu.percent(),
    connections: core.clients.size,
    total_connections: s.totalConnections,
    routes: cluster?.routes.size ?? 0,
    remotes: cluster?.routes.size ?? 0,
    leafnodes: ctx.leaf?.()?.leafs().length ?? 0,
    in_msgs: s.inMsgs,
    out_msgs: s.outMsgs,
    in_bytes: s.inBytes,
    out_bytes: s.outBytes,
    slow_consumers: s.slowConsumers,
    subscriptions: core.sublist.size,
    http_req_stats: reqStats,
    config_load_time: rfc3339Nano(ctx.configLoadedAt().getTime()),
    tags: o.serverTags.length > 0 ? [...o.serverTags] : undefined,
    system_account: core.systemAccount?.name,
    slow_consumer_stats: { clients: s.slowConsumers, routes: 0, gateways: 0, leafs: 0 },
  };
}

/**
 * The process's CPU use in percent (of one core), with one decimal, over the last second or
 * so: nats-server samples `/proc/self/stat` once a second; here each request takes a new
 * sample when the last one is at least a second old.
 */
export class CpuSampler {
  private lastUsage = process.cpuUsage();
  private lastAt = performance.now();
  private value: number;

  constructor() {
    // Until a second has passed: the average since the process started.
    const used = this.lastUsage.user + this.lastUsage.system;
    this.value = tenths(used / (process.uptime() * 1e6));
  }

  percent(): number {
    const at = performance.now();
    const elapsedUs = (at - this.lastAt) * 1000;
    if (elapsedUs >= 1e6) {
      const usage = process.cpuUsage();
      const used = usage.user - this.lastUsage.user + usage.system - this.lastUsage.system;
      this.value = tenths(used / elapsedUs);
      this.lastUsage = usage;
      this.lastAt = at;
    }
    return this.value;
  }
}

/** A fraction as a percentage truncated to one decimal (nats-server's `ipcpu / 10`). */
function tenths(fraction: number): number {
  return Math.floor(fraction * 1000) / 10;
}
