/**
 * `/gatewayz` (nats-server's monitor.go Gatewayz): this server's gateway name and listener, its
 * outbound connection per remote gateway and its inbound connections by remote gateway, with
 * `accs=1` the interest mode of each account on them, `gw_name=` one remote gateway only.
 */
import { peerIp } from '../broker/snapshot.js';
import { goDuration, goUptime, rfc3339Nano } from '../protocol/go-format.js';
import type { GatewayConn } from '../gateway/conn.js';
import { Mode } from '../gateway/conn.js';
import { rttForDisplay } from './connz.js';
import { decodeBool } from './query.js';
import type { MonitorContext } from './types.js';

/** gateway.go gatewayMaxRUnsubBeforeSwitch, reported as `interest_only_threshold`. */
const INTEREST_ONLY_THRESHOLD = 1000;

const MODE_NAMES = ['Optimistic', 'Transitioning', 'Interest-Only'] as const;

function connection(c: GatewayConn, now: number): object {
  let subs = 0;
  for (const e of c.outsim.values()) if (e !== null) subs += e.subs.size;
  return {
    cid: c.cid,
    kind: 'Gateway',
    ip: peerIp(c.socket.remoteAddress),
    port: c.socket.remotePort ?? 0,
    start: rfc3339Nano(c.start),
    last_activity: rfc3339Nano(c.lastActivity),
    rtt: goDuration(rttForDisplay(c.rttNs)),
    uptime: goUptime(now - c.start),
    idle: goUptime(now - c.lastActivity),
    pending_bytes: c.pendingBytes,
    in_msgs: c.inMsgs,
    out_msgs: c.outMsgs,
    in_bytes: c.inBytes,
    out_bytes: c.outBytes,
    subscriptions: subs,
    name: c.remoteId ?? '',
  };
}

function outboundAccounts(c: GatewayConn): object[] {
  return [...c.outsim.keys()].sort().map((name) => {
    const e = c.outsim.get(name) ?? null;
    const mode = e === null ? (c.interestOnlyMode ? Mode.InterestOnly : Mode.Optimistic) : e.mode;
    return {
      name,
      interest_mode: MODE_NAMES[mode],
      no_interest_count: e?.ni !== null && e?.ni !== undefined && e.ni.size > 0 ? e.ni.size : undefined,
      interest_only_threshold: INTEREST_ONLY_THRESHOLD,
      num_subs: e !== null && e.subs.size > 0 ? e.subs.size : undefined,
      num_queue_subs: e !== null && e.qsubs > 0 ? e.qsubs : undefined,
    };
  });
}

function inboundAccounts(c: GatewayConn): object[] {
  return [...c.insim.keys()].sort().map((name) => ({
    name,
    interest_mode: MODE_NAMES[c.insim.get(name)!],
    interest_only_threshold: INTEREST_ONLY_THRESHOLD,
  }));
}

export function gatewayz(ctx: MonitorContext, q: URLSearchParams): object {
  const accs = decodeBool(q, 'accs');
  const only = q.get('gw_name') ?? '';
  const core = ctx.core();
  const g = ctx.gateway();
  const now = Date.now();
  if (g === null) return { server_id: core.serverId, now: rfc3339Nano(now), outbound_gateways: {}, inbound_gateways: {} };
  const snap = g.snapshot();
  const configured = new Set(ctx.options.gateway?.gateways.map((r) => r.name) ?? []);
  const outbound: Record<string, object> = {};
  for (const o of snap.outbound) {
    if (o.conn === null || (only !== '' && o.name !== only)) continue;
    outbound[o.name] = {
      configured: configured.has(o.name),
      connection: connection(o.conn, now),
      accounts: accs ? outboundAccounts(o.conn) : undefined,
    };
  }
  const inbound: Record<string, object[]> = {};
  for (const i of snap.inbound) {
    if (only !== '' && i.name !== only) continue;
    (inbound[i.name] ??= []).push({
      configured: configured.has(i.name),
      connection: connection(i.conn, now),
      accounts: accs ? inboundAccounts(i.conn) : undefined,
    });
  }
  const [host, port] = splitUrl(snap.url);
  return {
    server_id: core.serverId,
    now: rfc3339Nano(now),
    name: snap.name,
    host,
    port,
    outbound_gateways: outbound,
    inbound_gateways: inbound,
  };
}

/** The varz `gateway` block (monitor.go GatewayOptsVarz). */
export function gatewayVarz(ctx: MonitorContext): object {
  const o = ctx.options.gateway;
  const g = ctx.gateway();
  if (o === null || g === null) return {};
  const snap = g.snapshot();
  const [host, port] = splitUrl(snap.url);
  // The configured remote gateways only, with the URLs known now (monitor.go: opts.Gateway.Gateways).
  // A remote's tls_timeout only when it has its own `tls` (monitor.go: the remote's options, which
  // the block's TLS does not fill in).
  const ownTls = new Map(o.gateways.map((r) => [r.name, r.tls !== null && r.tls !== o.tls ? r.tls.timeoutMs / 1000 : undefined]));
  const gateways = snap.outbound.filter((r) => ownTls.has(r.name)).map((r) => ({ name: r.name, tls_timeout: ownTls.get(r.name), urls: r.urls.length > 0 ? r.urls : undefined }));
  return {
    name: o.name,
    host,
    port,
    auth_timeout: o.authTimeoutMs / 1000,
    tls_timeout: o.tls === null ? 2 : o.tls.timeoutMs / 1000,
    tls_required: o.tls !== null || undefined,
    tls_verify: o.tls !== null || undefined,
    advertise: o.advertise ?? undefined,
    connect_retries: o.connectRetries > 0 ? o.connectRetries : undefined,
    gateways: gateways.length > 0 ? gateways : undefined,
    reject_unknown: o.rejectUnknown || undefined,
  };
}

function splitUrl(url: string): [string, number] {
  const i = url.lastIndexOf(':');
  return i < 0 ? [url, 0] : [url.slice(0, i), Number(url.slice(i + 1))];
}
