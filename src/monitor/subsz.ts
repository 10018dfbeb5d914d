/**
 * `/subsz` (also `/subscriptionsz`): the sublist's statistics and, with `subs=1`, the local
 * subscriptions (`test=<subject>` keeps those matching a subject), as nats-server 2.10's
 * `Subsz`; and `/routez`: the routes, with their interest (`subs=1|detail`), as `Routez`.
 */
import type { BrokerCore } from '../broker/core.js';
import { GLOBAL_ACCOUNT } from '../broker/account.js';
import { peerIp } from '../broker/snapshot.js';
import { isValidLiteralSubject, subjectMatches } from '../subject/subject.js';
import { subDetail, rttForDisplay } from './connz.js';
import { goDuration, goUptime, rfc3339Nano } from '../protocol/go-format.js';
import { BadRequest, DEFAULT_LIST_SIZE, decodeBool, decodeInt, decodeSubs } from './query.js';
import type { MonitorContext, RouteInfoJson, SubDetail, SublistStatsJson } from './types.js';
import { subjectFromText, subjectToText } from '../protocol/text.js';

/** The `/subsz` document. */
export function subsz(ctx: MonitorContext, q: URLSearchParams): object {
  const subs = decodeBool(q, 'subs');
  let offset = decodeInt(q, 'offset');
  let limit = decodeInt(q, 'limit');
  const test = q.get('test') ?? '';
  // The query is text, subscriptions are the wire's bytes.
  const testBytes = subjectFromText(test);
  const acc = q.get('acc') ?? '';
  if (offset < 0) offset = 0;
  if (limit <= 0) limit = DEFAULT_LIST_SIZE;
  if (test !== '' && !isValidLiteralSubject(test)) {
    throw new BadRequest(`invalid test subject, must be valid publish subject: ${test}`);
  }
  const core = ctx.core();
  // The global account's subscriptions, or those of the account named by `acc` (none when it does not exist).
  const account = core.accounts.get(acc === '' ? GLOBAL_ACCOUNT : acc);
  const stats = account !== undefined ? sublistStats(account.sublist) : emptyStats();
  let list: SubDetail[] = [];
  if (subs && account !== undefined) {
    const all: SubDetail[] = [];
    account.sublist.forEach((sub) => {
      if (sub.remote) return; // routes' interest is not listed (nats-server: local subs only)
      if (testBytes !== '' && !subjectMatches(sub.subject, testBytes)) return;
      all.push(subDetail(sub.subject, sub.queue, sub.sid, sub.nm, sub.max, sub.client.cid, account.name));
    });
    list = all.slice(Math.min(offset, all.length), Math.min(offset + limit, all.length));
  }
  if (list.length === 0) return stats;
  return {
    server_id: core.serverId,
    now: rfc3339Nano(Date.now()),
    ...stats,
    // nats-server reports the number listed, not the number matching.
    total: list.length,
    offset,
    limit,
    subscriptions_list: list,
  };
}

/** The `/routez` document; `count` counts the request once its parameters have decoded. */
export function routez(ctx: MonitorContext, q: URLSearchParams, count: () => void): object {
  const { subs, detail } = decodeSubs(q);
  count();
  const core = ctx.core();
  const cluster = ctx.cluster();
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
      pending_size: r.pendingBytes,
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
        // The sid is the key the route keeps the interest by, as nats-server's (route.go
        // processRemoteSub): `R <account> <subject> [<queue>]`, `L <origin> …` for a leaf node
        // cluster's, no prefix from a peer without lnocu.
        info.subscriptions_list_detail = [...r.remoteSubs].map(([sid, s]) => subDetail(s.subject, s.queue, sid, 0, 0, r.rid, null));
      } else if (subs) {
        info.subscriptions_list = remote.map((s) => subjectToText(s.subject));
      }
    }
    routes.push(info);
  }
  return {
    server_id: core.serverId,
    server_name: ctx.options.serverName ?? '',
    now: rfc3339Nano(now),
    num_routes: routes.length,
    routes,
  };
}

function sublistStats(sublist: BrokerCore['sublist']): SublistStatsJson {
  const s = sublist.stats();
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
