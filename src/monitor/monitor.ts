/**
 * Monitoring HTTP endpoints, as nats-server serves them (`/varz`, `/connz`, `/subsz`,
 * `/routez`, `/healthz`, `/`): the same paths, query parameters, JSON field names, key order,
 * types and units (nats-server 2.10 `monitor.go`), the same 400 texts for bad parameters.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { availableParallelism, cpus } from 'node:os';
import { hostPort, listen } from '../io/listen.js';
import type { BrokerCore } from '../broker/core.js';
import type { Client } from '../broker/client.js';
import type { ClusterManager } from '../cluster/cluster.js';
import type { ResolvedOptions } from '../config/options.js';
import { peerIp, type ClosedClient } from '../broker/closed.js';
import { NATS_SERVER_VERSION } from '../protocol/constants.js';
import { isValidLiteralSubject, subjectMatches } from '../subject/subject.js';
import { GLOBAL_ACCOUNT } from '../cluster/route.js';
import {
  goDuration,
  goJson,
  goUptime,
  parseGoBool,
  parseGoInt,
  parseGoUint,
  rfc3339Nano,
} from './go-format.js';

/** What the endpoints read. Getters, because a restart replaces the core. */
export interface MonitorContext {
  readonly options: ResolvedOptions;
  core(): BrokerCore;
  cluster(): ClusterManager | null;
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

// ---- Constants ---------------------------------------------------------------------------------

/** nats-server's `DefaultConnListSize` / `DefaultSubListSize`. */
const DEFAULT_LIST_SIZE = 1024;
/** nats-server's defaults, in seconds (`AUTH_TIMEOUT`, `TLS_TIMEOUT`): reported though unused here. */
const AUTH_TIMEOUT_S = 2;
const TLS_TIMEOUT_S = 2;
const NS_PER_MS = 1_000_000;

const SORT_OPTIONS = new Set([
  'cid', 'start', 'subs', 'pending', 'msgs_to', 'msgs_from', 'bytes_to', 'bytes_from', 'last', 'idle', 'uptime', 'stop',
  'reason', 'rtt',
]);

/** A request that nats-server answers with HTTP 400 and this plain text. */
class BadRequest extends Error {}

/** Starts the monitoring listener on `host:port` (0 = ephemeral). */
export async function startMonitor(ctx: MonitorContext, host: string, port: number): Promise<MonitorHandle> {
  const monitor = new Monitor(ctx);
  const http: HttpServer = createHttpServer((req, res) => monitor.handle(req, res));
  const actual = await listen(http, host, port, (err) => process.emitWarning(`nats-embedded: monitor listener error: ${err.message}`));
  return {
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

/** One open or closed client connection, before it is turned into a {@link ConnInfo}. */
interface ConnRow {
  cid: number;
  ip: string;
  port: number;
  start: number;
  last: number;
  stop: number | null;
  reason: string;
  rttNs: number;
  pending: number;
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  numSubs: number;
  name: string;
  lang: string;
  version: string;
  /** For `subs=1` / `subs=detail`. */
  subs: SubDetail[];
}

class Monitor {
  /** nats-server's `http_req_stats`: requests served, by path. */
  private readonly reqStats = new Map<string, number>();
  private readonly cpu = new CpuSampler();

  constructor(private readonly ctx: MonitorContext) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const q = url.searchParams;
    try {
      switch (url.pathname) {
        case '/': return this.root(res);
        case '/varz': return this.respond(res, q, 200, goJson(this.varz()));
        case '/connz': return this.connz(res, q);
        case '/routez': return this.routez(res, q);
        case '/subsz':
        case '/subscriptionsz': return this.subsz(res, q);
        case '/healthz': return this.healthz(res, q);
        default: return notFound(res);
      }
    } catch (err) {
      if (err instanceof BadRequest) return sendText(res, 400, err.message);
      // Anything else is a bug of ours: counted and reported like one on a connection.
      this.ctx.core().internalError(err, `monitoring request ${url.pathname}`);
      sendText(res, 500, err instanceof Error ? err.message : String(err));
    }
  }

  private count(path: string): void {
    this.reqStats.set(path, (this.reqStats.get(path) ?? 0) + 1);
  }

  /** nats-server's `handleResponse`: JSON, or JSONP with `?callback=`. */
  private respond(res: ServerResponse, q: URLSearchParams, code: number, json: string): void {
    const callback = q.get('callback') ?? '';
    let body: string;
    if (callback !== '') {
      res.setHeader('Content-Type', 'application/javascript');
      body = `${callback}(${json})`;
    } else {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Access-Control-Allow-Origin', '*');
      body = json;
    }
    const buf = Buffer.from(body, 'utf8');
    res.setHeader('Content-Length', buf.length);
    res.statusCode = code;
    res.end(buf);
  }

  // ---- / --------------------------------------------------------------------------------------

  private root(res: ServerResponse): void {
    this.count('/');
    const links = [
      ['varz', 'General'],
      ['connz', 'Connections'],
      ['subsz', 'Subscriptions'],
      ['routez', 'Routes'],
      ['healthz', 'Health Probe'],
    ]
      .map(([p, label]) => `    <a href=./${p}>${label}</a>`)
      .join('\n');
    const html = `<html lang="en">
  <head>
    <title>nats-embedded monitoring</title>
    <style type="text/css">
      body { font-family: ui-sans-serif, system-ui, sans-serif; margin-left: 32px }
      a { display: block; margin-left: 7px; padding-bottom: 6px }
    </style>
  </head>
  <body>
    <h2>nats-embedded <small>(nats-server v${NATS_SERVER_VERSION} monitoring endpoints)</small></h2>
${links}
    <a href=https://docs.nats.io/running-a-nats-service/nats_admin/monitoring>Help</a>
  </body>
</html>`;
    const buf = Buffer.from(html, 'utf8');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Length', buf.length);
    res.end(buf);
  }

  // ---- /varz ----------------------------------------------------------------------------------

  private varz(): Record<string, unknown> {
    this.count('/varz');
    const core = this.ctx.core();
    const cluster = this.ctx.cluster();
    const o = this.ctx.options;
    const info = core.info();
    const now = Date.now();
    const start = this.ctx.startedAt().getTime();
    const s = core.stats;
    const wsUrls = cluster?.wsConnectUrls() ?? null;
    const wsConnectUrls = wsUrls !== null && wsUrls.length > 0 ? [...wsUrls] : undefined;
    const ws = o.websocket;
    const connectUrls = info.connect_urls !== undefined && info.connect_urls.length > 0 ? [...info.connect_urls] : undefined;
    const reqStats: Record<string, number> = {};
    for (const key of [...this.reqStats.keys()].sort()) reqStats[key] = this.reqStats.get(key)!;
    const cores = cpus().length;
    return {
      server_id: info.server_id,
      server_name: info.server_name,
      version: info.version,
      proto: info.proto,
      go: info.go,
      host: info.host,
      port: info.port,
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
            auth_timeout: AUTH_TIMEOUT_S,
            urls: o.cluster.routes.length > 0 ? o.cluster.routes.map((r) => hostPort(r.host, r.port)) : undefined,
            tls_timeout: TLS_TIMEOUT_S,
          },
      gateway: {},
      leaf: {},
      mqtt: {},
      // nats-server's WebsocketOptsVarz (omitempty fields left out when unset).
      websocket: ws === null
        ? {}
        : {
            host: ws.host,
            port: this.ctx.wsPort(),
            no_tls: ws.noTls || undefined,
            same_origin: ws.sameOrigin || undefined,
            allowed_origins: ws.allowedOrigins.length > 0 ? [...ws.allowedOrigins] : undefined,
            compression: ws.compression || undefined,
          },
      jetstream: {},
      tls_timeout: TLS_TIMEOUT_S,
      write_deadline: o.writeDeadlineMs * NS_PER_MS,
      start: rfc3339Nano(start),
      now: rfc3339Nano(now),
      uptime: goUptime(now - start),
      mem: process.memoryUsage().rss,
      cores,
      gomaxprocs: typeof availableParallelism === 'function' ? availableParallelism() : cores,
      cpu: this.cpu.percent(),
      connections: core.clients.size,
      total_connections: s.totalConnections,
      routes: cluster?.routes.size ?? 0,
      remotes: cluster?.routes.size ?? 0,
      leafnodes: 0,
      in_msgs: s.inMsgs,
      out_msgs: s.outMsgs,
      in_bytes: s.inBytes,
      out_bytes: s.outBytes,
      slow_consumers: s.slowConsumers,
      subscriptions: core.sublist.size,
      http_req_stats: reqStats,
      config_load_time: rfc3339Nano(this.ctx.configLoadedAt().getTime()),
      slow_consumer_stats: { clients: s.slowConsumers, routes: 0, gateways: 0, leafs: 0 },
    };
  }

  // ---- /connz ---------------------------------------------------------------------------------

  private connz(res: ServerResponse, q: URLSearchParams): void {
    const sort = q.get('sort') ?? '';
    decodeBool(q, 'auth'); // accepted; there are no users or accounts to show
    const { subs, detail } = decodeSubs(q);
    let offset = decodeInt(q, 'offset');
    let limit = decodeInt(q, 'limit');
    const cid = decodeUint(q, 'cid');
    const state = decodeState(q);
    this.count('/connz');

    if (sort !== '' && !SORT_OPTIONS.has(sort)) throw new BadRequest(`invalid sorting option: ${sort}`);
    if (offset < 0) offset = 0;
    if (limit <= 0) limit = DEFAULT_LIST_SIZE;
    if (sort === 'stop' && state !== 'closed') throw new BadRequest('sort by stop only valid on closed connections');
    if (sort === 'reason' && state !== 'closed') throw new BadRequest('sort by reason only valid on closed connections');
    if (cid > 0) limit = 1;

    const core = this.ctx.core();
    const now = Date.now();
    const closedAll = state === 'open' ? [] : core.closedClients.list();
    let total = 0;
    if (state !== 'closed') total += core.clients.size;
    if (state !== 'open') total += closedAll.length;

    const rows: ConnRow[] = [];
    if (cid > 0) {
      const open = state !== 'closed' ? core.clients.get(cid) : undefined;
      if (open !== undefined) rows.push(openRow(open));
      else if (state !== 'open') {
        const closed = closedAll.find((c) => c.cid === cid);
        if (closed !== undefined) rows.push(closedRow(closed));
      }
    } else {
      if (state !== 'closed') for (const c of core.clients.values()) rows.push(openRow(c));
      for (const c of closedAll) rows.push(closedRow(c));
    }

    sortRows(rows, sort, now);
    const max = cid > 0 ? Math.min(rows.length, 1) : rows.length;
    const from = Math.min(offset, max);
    const to = Math.min(offset + limit, max);
    const page = rows.slice(from, to).map((r) => connInfo(r, now, subs, detail));
    const connz: Connz = {
      server_id: core.serverId,
      now: rfc3339Nano(now),
      num_connections: page.length,
      total,
      offset,
      limit,
      connections: page,
    };
    this.respond(res, q, 200, goJson(connz));
  }

  // ---- /subsz ---------------------------------------------------------------------------------

  private subsz(res: ServerResponse, q: URLSearchParams): void {
    this.count('/subsz');
    const subs = decodeBool(q, 'subs');
    let offset = decodeInt(q, 'offset');
    let limit = decodeInt(q, 'limit');
    const test = q.get('test') ?? '';
    const acc = q.get('acc') ?? '';
    if (offset < 0) offset = 0;
    if (limit <= 0) limit = DEFAULT_LIST_SIZE;
    if (test !== '' && !isValidLiteralSubject(test)) {
      throw new BadRequest(`invalid test subject, must be valid publish subject: ${test}`);
    }
    const core = this.ctx.core();
    // One account only: filtering on another one leaves nothing.
    const accountMatches = acc === '' || acc === GLOBAL_ACCOUNT;
    const stats = accountMatches ? sublistStats(core) : emptyStats();
    let list: SubDetail[] = [];
    if (subs && accountMatches) {
      const all: SubDetail[] = [];
      core.sublist.forEach((sub) => {
        if (sub.remote) return; // routes' interest is not listed (nats-server: local subs only)
        if (test !== '' && !subjectMatches(sub.subject, test)) return;
        all.push(subDetail(sub.subject, sub.queue, sub.sid, sub.nm, sub.max, sub.client.cid, true));
      });
      list = all.slice(Math.min(offset, all.length), Math.min(offset + limit, all.length));
    }
    if (list.length === 0) return this.respond(res, q, 200, goJson(stats));
    const body = {
      server_id: core.serverId,
      now: rfc3339Nano(Date.now()),
      ...stats,
      // nats-server reports the number listed, not the number matching.
      total: list.length,
      offset,
      limit,
      subscriptions_list: list,
    };
    this.respond(res, q, 200, goJson(body));
  }

  // ---- /routez --------------------------------------------------------------------------------

  private routez(res: ServerResponse, q: URLSearchParams): void {
    const { subs, detail } = decodeSubs(q);
    this.count('/routez');
    const core = this.ctx.core();
    const cluster = this.ctx.cluster();
    const now = Date.now();
    const routes: RouteInfoJson[] = [];
    for (const r of cluster?.routes.values() ?? []) {
      const remote = [...r.remoteSubs.values()];
      const info: RouteInfoJson = {
        rid: r.rid,
        remote_id: r.remoteId ?? '',
        remote_name: r.info?.server_name ?? '',
        did_solicit: r.solicited,
        is_configured: r.explicit,
        ip: peerIp(r.socket.remoteAddress),
        port: r.socket.remotePort ?? 0,
        start: rfc3339Nano(r.start),
        last_activity: rfc3339Nano(r.lastActivity),
        rtt: goDuration(rttForDisplay(r.rttNs)),
        uptime: goUptime(now - r.start),
        idle: goUptime(now - r.lastActivity),
        pending_size: r.out.queued + r.socket.writableLength,
        in_msgs: r.inMsgs,
        out_msgs: r.outMsgs,
        in_bytes: r.inBytes,
        out_bytes: r.outBytes,
        subscriptions: remote.length,
        subscriptions_list: undefined,
        subscriptions_list_detail: undefined,
        // Routes here never negotiate compression: 2.10 shows such a route as "not supported".
        compression: 'not supported',
      };
      if (remote.length > 0) {
        if (detail) {
          info.subscriptions_list_detail = remote.map((s) => {
            const sid = `R ${GLOBAL_ACCOUNT} ${s.subject}${s.queue === null ? '' : ` ${s.queue}`}`;
            return subDetail(s.subject, s.queue, sid, 0, 0, r.rid, false);
          });
        } else if (subs) {
          info.subscriptions_list = remote.map((s) => s.subject);
        }
      }
      routes.push(info);
    }
    const body = {
      server_id: core.serverId,
      server_name: this.ctx.options.serverName ?? '',
      now: rfc3339Nano(now),
      num_routes: routes.length,
      routes,
    };
    this.respond(res, q, 200, goJson(body));
  }

  // ---- /healthz -------------------------------------------------------------------------------

  private healthz(res: ServerResponse, q: URLSearchParams): void {
    this.count('/healthz');
    decodeBool(q, 'js-enabled');
    decodeBool(q, 'js-enabled-only');
    decodeBool(q, 'js-server-only');
    const details = decodeBool(q, 'details');
    const account = q.get('account') ?? '';
    const stream = q.get('stream') ?? '';
    const consumer = q.get('consumer') ?? '';
    let problem: string | null = null;
    if (account === '' && stream !== '') problem = '"account" must not be empty when checking stream health';
    else if (stream === '' && consumer !== '') problem = '"stream" must not be empty when checking consumer health';
    // Without JetStream there is nothing more to check.
    if (problem === null) return this.respond(res, q, 200, goJson({ status: 'ok' }, false));
    const body = details
      ? { status: 'error', errors: [{ type: 'BAD_REQUEST', error: problem }] }
      : { status: 'error', error: problem };
    this.respond(res, q, 400, goJson(body, false));
  }
}

// ---- Rows and JSON ------------------------------------------------------------------------------

function openRow(c: Client): ConnRow {
  const subs: SubDetail[] = [];
  for (const s of c.subs.values()) subs.push(subDetail(s.subject, s.queue, s.sid, s.nm, s.max, c.cid, false));
  return {
    cid: c.cid,
    ip: peerIp(c.socket.remoteAddress),
    port: c.socket.remotePort ?? 0,
    start: c.start,
    last: c.lastActivity,
    stop: null,
    reason: '',
    rttNs: c.rttNs,
    pending: c.out.queued + c.socket.writableLength,
    inMsgs: c.inMsgs,
    outMsgs: c.outMsgs,
    inBytes: c.inBytes,
    outBytes: c.outBytes,
    numSubs: c.subs.size,
    name: c.name,
    lang: c.lang,
    version: c.version,
    subs,
  };
}

function closedRow(c: ClosedClient): ConnRow {
  return {
    cid: c.cid,
    ip: c.ip,
    port: c.port,
    start: c.start,
    last: c.lastActivity,
    stop: c.stop,
    reason: c.reason,
    rttNs: c.rttNs,
    pending: c.pendingBytes,
    inMsgs: c.inMsgs,
    outMsgs: c.outMsgs,
    inBytes: c.inBytes,
    outBytes: c.outBytes,
    numSubs: c.subs.length,
    name: c.name,
    lang: c.lang,
    version: c.version,
    // Saved with the account; auto-unsubscribe limits are cleared on close (nats-server).
    subs: c.subs.map((s) => subDetail(s.subject, s.queue, s.sid, s.msgs, 0, c.cid, true)),
  };
}

function connInfo(r: ConnRow, now: number, subs: boolean, detail: boolean): ConnInfo {
  // A closed connection's times are frozen at its stop time.
  const at = r.stop ?? now;
  const info: ConnInfo = {
    cid: r.cid,
    kind: 'Client',
    type: 'nats',
    ip: r.ip,
    port: r.port,
    start: rfc3339Nano(r.start),
    last_activity: rfc3339Nano(r.last),
    stop: r.stop === null ? undefined : rfc3339Nano(r.stop),
    reason: r.reason === '' ? undefined : r.reason,
    rtt: goDuration(rttForDisplay(r.rttNs)),
    uptime: goUptime(at - r.start),
    idle: goUptime(at - r.last),
    pending_bytes: r.pending,
    in_msgs: r.inMsgs,
    out_msgs: r.outMsgs,
    in_bytes: r.inBytes,
    out_bytes: r.outBytes,
    subscriptions: r.numSubs,
    name: r.name === '' ? undefined : r.name,
    lang: r.lang === '' ? undefined : r.lang,
    version: r.version === '' ? undefined : r.version,
  };
  if (r.subs.length > 0) {
    if (detail) info.subscriptions_list_detail = r.subs;
    else if (subs) info.subscriptions_list = r.subs.map((s) => s.subject);
  }
  return info;
}

function subDetail(
  subject: string,
  queue: string | null,
  sid: string,
  msgs: number,
  max: number,
  cid: number,
  withAccount: boolean,
): SubDetail {
  return {
    account: withAccount ? GLOBAL_ACCOUNT : undefined,
    subject,
    qgroup: queue === null || queue === '' ? undefined : queue,
    sid,
    msgs,
    max: max > 0 ? max : undefined,
    cid,
  };
}

/** nats-server's `getRTT`: between 1µs and 1ms truncated to whole microseconds. */
function rttForDisplay(ns: number): number {
  if (ns > 1_000 && ns < 1_000_000) return Math.floor(ns / 1_000) * 1_000;
  return ns;
}

/** nats-server's sort orders: by cid, start, uptime and reason ascending, the others descending. */
function sortRows(rows: ConnRow[], sort: string, now: number): void {
  const desc = (key: (r: ConnRow) => number) => (a: ConnRow, b: ConnRow) => key(b) - key(a);
  const uptime = (r: ConnRow): number => (r.stop ?? now) - r.start;
  switch (sort) {
    case '':
    case 'cid':
    case 'start': rows.sort((a, b) => a.cid - b.cid); break;
    case 'subs': rows.sort(desc((r) => r.numSubs)); break;
    case 'pending': rows.sort(desc((r) => r.pending)); break;
    case 'msgs_to': rows.sort(desc((r) => r.outMsgs)); break;
    case 'msgs_from': rows.sort(desc((r) => r.inMsgs)); break;
    case 'bytes_to': rows.sort(desc((r) => r.outBytes)); break;
    case 'bytes_from': rows.sort(desc((r) => r.inBytes)); break;
    case 'last': rows.sort(desc((r) => r.last)); break;
    case 'idle': rows.sort(desc((r) => now - r.last)); break;
    case 'uptime': rows.sort((a, b) => uptime(a) - uptime(b)); break;
    case 'stop': rows.sort(desc((r) => r.stop ?? 0)); break;
    case 'reason': rows.sort((a, b) => (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0)); break;
    case 'rtt': rows.sort(desc((r) => r.rttNs)); break;
  }
}

function sublistStats(core: BrokerCore): SublistStatsJson {
  const s = core.sublist.stats();
  return {
    num_subscriptions: s.numSubscriptions,
    num_cache: s.numCache,
    num_inserts: s.numInserts,
    num_removes: s.numRemoves,
    num_matches: s.numMatches,
    cache_hit_rate: s.numMatches > 0 ? s.cacheHits / s.numMatches : 0,
    max_fanout: s.maxFanout,
    avg_fanout: s.totalFanout > 0 ? s.totalFanout / s.cachedResults : 0,
  };
}

function emptyStats(): SublistStatsJson {
  return {
    num_subscriptions: 0, num_cache: 0, num_inserts: 0, num_removes: 0, num_matches: 0,
    cache_hit_rate: 0, max_fanout: 0, avg_fanout: 0,
  };
}

// ---- Query parameters (nats-server's decodeBool / decodeInt / decodeUint64 / ...) ----------------

function decodeBool(q: URLSearchParams, param: string): boolean {
  const str = q.get(param) ?? '';
  if (str === '') return false;
  const r = parseGoBool(str);
  if (!r.ok) throw new BadRequest(`Error decoding boolean for '${param}': ${r.error}`);
  return r.value;
}

function decodeInt(q: URLSearchParams, param: string): number {
  const str = q.get(param) ?? '';
  if (str === '') return 0;
  const r = parseGoInt(str);
  if (!r.ok) throw new BadRequest(`Error decoding int for '${param}': ${r.error}`);
  return r.value;
}

function decodeUint(q: URLSearchParams, param: string): number {
  const str = q.get(param) ?? '';
  if (str === '') return 0;
  const r = parseGoUint(str);
  if (!r.ok) throw new BadRequest(`Error decoding uint64 for '${param}': ${r.error}`);
  return r.value;
}

function decodeState(q: URLSearchParams): 'open' | 'closed' | 'all' {
  const str = q.get('state') ?? '';
  if (str === '') return 'open';
  switch (str.toLowerCase()) {
    case 'open': return 'open';
    case 'closed': return 'closed';
    case 'any':
    case 'all': return 'all';
    default: throw new BadRequest(`Error decoding state for ${str}`);
  }
}

function decodeSubs(q: URLSearchParams): { subs: boolean; detail: boolean } {
  const detail = (q.get('subs') ?? '').toLowerCase() === 'detail';
  return { subs: detail ? false : decodeBool(q, 'subs'), detail };
}

// ---- Helpers ------------------------------------------------------------------------------------

function sendText(res: ServerResponse, code: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  res.statusCode = code;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', buf.length);
  res.end(buf);
}

/** Go's `http.NotFound`. */
function notFound(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  sendText(res, 404, '404 page not found\n');
}

/**
 * The process's CPU use in percent (of one core), with one decimal, over the last second or
 * so: nats-server samples `/proc/self/stat` once a second; here each request takes a new
 * sample when the last one is at least a second old.
 */
class CpuSampler {
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
