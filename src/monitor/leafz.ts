/**
 * `/leafz` and the `leaf` block of `/varz`: nats-server 2.10's monitor.go `Leafz`, `LeafInfo`
 * and `LeafNodeOptsVarz` (field names, order, `omitempty`).
 */
import { goDuration, rfc3339Nano } from '../protocol/go-format.js';
import { rttForDisplay } from './connz.js';
import { peerIp } from '../broker/snapshot.js';
import { decodeBool } from './query.js';
import type { MonitorContext } from './types.js';

/** The `/leafz` document (`?subs=1` lists each connection's subscriptions, `?acc=` filters by account). */
export function leafz(ctx: MonitorContext, q: URLSearchParams): object {
  const subs = decodeBool(q, 'subs');
  const acc = q.get('acc') ?? '';
  const conns = (ctx.leaf?.()?.leafs() ?? []).filter((c) => acc === '' || c.account?.name === acc);
  const leafs = conns.map((c) => ({
    name: c.remoteName,
    is_spoke: c.isSpoke,
    account: c.account?.name ?? '',
    ip: peerIp(c.socket.remoteAddress ?? ''),
    port: c.socket.remotePort ?? 0,
    rtt: goDuration(rttForDisplay(c.rttNs)),
    in_msgs: c.inMsgs,
    out_msgs: c.outMsgs,
    in_bytes: c.inBytes,
    out_bytes: c.outBytes,
    subscriptions: c.remoteSubs.size,
    subscriptions_list: subs ? [...c.remoteSubs.values()].map((s) => s.subject) : undefined,
    // nats-server 2.10 reports the negotiated compression; nats-embedded has none, as a 2.9 peer.
    compression: 'not supported',
  }));
  return { server_id: ctx.core().serverId, now: rfc3339Nano(Date.now()), leafnodes: leafs.length, leafs };
}

/** The `leaf` block of `/varz` (empty without `leafnodes`). */
export function varzLeaf(ctx: MonitorContext): object {
  const l = ctx.options.leafnodes;
  if (l === null) return {};
  const port = ctx.leaf?.()?.port ?? 0;
  return {
    host: l.listen?.host,
    port: l.listen === null ? undefined : port || undefined,
    auth_timeout: l.listen === null ? undefined : l.authTimeoutMs / 1000,
    remotes: l.remotes.length === 0 ? undefined : l.remotes.map((r) => ({
      local_account: r.account,
      urls: r.urls.map((u) => `${u.ws ? 'ws' : 'nats-leaf'}://${u.host}:${u.port}`),
    })),
  };
}
