/**
 * `/connz`: open and recently closed client connections, as nats-server 2.10's `Connz` —
 * sorting (`sort`), paging (`offset`, `limit`), one connection (`cid`), `state`, and the
 * subscriptions of each (`subs=1|detail`). Connections are read through their snapshots.
 */
import type { ClosedClient } from '../broker/closed.js';
import type { ConnSnapshot } from '../broker/snapshot.js';
import { goDuration, goUptime, rfc3339Nano } from '../protocol/go-format.js';
import { BadRequest, DEFAULT_LIST_SIZE, decodeBool, decodeInt, decodeState, decodeSubs, decodeUint } from './query.js';
import type { ConnInfo, Connz, MonitorContext, SubDetail } from './types.js';
import { subjectToText } from '../protocol/text.js';
import { subjectsCollide } from '../subject/relations.js';

const SORT_OPTIONS = new Set([
  'cid', 'start', 'subs', 'pending', 'msgs_to', 'msgs_from', 'bytes_to', 'bytes_from', 'last', 'idle', 'uptime', 'stop',
  'reason', 'rtt',
]);

/** One open or closed connection, before it is turned into a {@link ConnInfo}. */
interface ConnRow {
  readonly state: ConnSnapshot;
  /** Stop time (epoch ms) of a closed connection, else null. */
  readonly stop: number | null;
  readonly reason: string;
  /** For `subs=1` / `subs=detail`. */
  readonly subs: SubDetail[];
}

/** The `/connz` document; `count` counts the request once its parameters have decoded. */
/**
 * `filterSubject` (a system request's `filter_subject`, not an HTTP parameter): only open
 * connections with a subscription that collides with it, and only with an account filter.
 */
export function connz(ctx: MonitorContext, q: URLSearchParams, count: () => void, filterSubject = ''): Connz {
  const sort = q.get('sort') ?? '';
  decodeBool(q, 'auth'); // accepted; there are no users or accounts to show
  const { subs, detail } = decodeSubs(q);
  let offset = decodeInt(q, 'offset');
  let limit = decodeInt(q, 'limit');
  const cid = decodeUint(q, 'cid');
  const state = decodeState(q);
  // nats-server's ConnzOptions.Account (`acc`): the connections of one account.
  const acc = q.get('acc') ?? '';
  count();

  if (sort !== '' && !SORT_OPTIONS.has(sort)) throw new BadRequest(`invalid sorting option: ${sort}`);
  if (offset < 0) offset = 0;
  if (limit <= 0) limit = DEFAULT_LIST_SIZE;
  if (sort === 'stop' && state !== 'closed') throw new BadRequest('sort by stop only valid on closed connections');
  if (sort === 'reason' && state !== 'closed') throw new BadRequest('sort by reason only valid on closed connections');
  if (cid > 0) limit = 1;
  const filter = filterSubject === '>' ? '' : filterSubject;
  if (filter !== '' && acc === '') throw new BadRequest('filter by subject only valid with account filtering');

  const core = ctx.core();
  const now = Date.now();
  const closedAll = state === 'open' ? [] : core.closedClients.list();
  let total = 0;
  if (state !== 'closed') total += core.clients.size;
  if (state !== 'open') total += closedAll.length;

  const withSubs = subs || detail;
  const rows: ConnRow[] = [];
  if (cid > 0) {
    const open = state !== 'closed' ? core.clients.get(cid) : undefined;
    if (open !== undefined && subscribedTo(open, filter)) rows.push(openRow(open.snapshot(withSubs)));
    else if (state !== 'open') {
      const closed = closedAll.find((c) => c.cid === cid);
      if (closed !== undefined) rows.push(closedRow(closed));
    }
  } else {
    if (state !== 'closed') for (const c of core.clients.values()) if (subscribedTo(c, filter)) rows.push(openRow(c.snapshot(withSubs)));
    for (const c of closedAll) rows.push(closedRow(c));
  }

  if (acc !== '') {
    const kept = rows.filter((r) => r.state.account === acc);
    total = kept.length;
    rows.length = 0;
    rows.push(...kept);
  }
  sortRows(rows, sort, now);
  const max = cid > 0 ? Math.min(rows.length, 1) : rows.length;
  const from = Math.min(offset, max);
  const to = Math.min(offset + limit, max);
  const page = rows.slice(from, to).map((r) => connInfo(r, now, subs, detail));
  return {
    server_id: core.serverId,
    now: rfc3339Nano(now),
    num_connections: page.length,
    total,
    offset,
    limit,
    connections: page,
  };
}

/** No filter, or a subscription of the client collides with it (monitor.go Connz). */
function subscribedTo(c: { readonly subs: ReadonlyMap<string, { readonly subject: string }> }, filter: string): boolean {
  if (filter === '') return true;
  for (const sub of c.subs.values()) if (subjectsCollide(filter, sub.subject)) return true;
  return false;
}

function openRow(s: ConnSnapshot): ConnRow {
  return { state: s, stop: null, reason: '', subs: s.subs.map((x) => subDetail(x.subject, x.queue, x.sid, x.msgs, x.max, s.cid, null)) };
}

function closedRow(c: ClosedClient): ConnRow {
  // Saved with the account; auto-unsubscribe limits are cleared on close (nats-server).
  return { state: c, stop: c.stop, reason: c.reason, subs: c.subs.map((x) => subDetail(x.subject, x.queue, x.sid, x.msgs, 0, c.cid, c.account)) };
}

function connInfo(r: ConnRow, now: number, subs: boolean, detail: boolean): ConnInfo {
  const s = r.state;
  // A closed connection's times are frozen at its stop time.
  const at = r.stop ?? now;
  const info: ConnInfo = {
    cid: s.cid,
    kind: 'Client',
    type: 'nats',
    ip: s.ip,
    port: s.port,
    start: rfc3339Nano(s.start),
    last_activity: rfc3339Nano(s.lastActivity),
    stop: r.stop === null ? undefined : rfc3339Nano(r.stop),
    reason: r.reason === '' ? undefined : r.reason,
    rtt: goDuration(rttForDisplay(s.rttNs)),
    uptime: goUptime(at - s.start),
    idle: goUptime(at - s.lastActivity),
    pending_bytes: s.pendingBytes,
    in_msgs: s.inMsgs,
    out_msgs: s.outMsgs,
    in_bytes: s.inBytes,
    out_bytes: s.outBytes,
    subscriptions: s.numSubs,
    name: s.name === '' ? undefined : s.name,
    lang: s.lang === '' ? undefined : s.lang,
    version: s.version === '' ? undefined : s.version,
  };
  if (r.subs.length > 0) {
    if (detail) info.subscriptions_list_detail = r.subs;
    else if (subs) info.subscriptions_list = r.subs.map((x) => x.subject);
  }
  return info;
}

/** nats-server's `SubDetail`; `account` (shown) for closed connections and `/subsz`. */
export function subDetail(
  subject: string,
  queue: string | null,
  sid: string,
  msgs: number,
  max: number,
  cid: number,
  account: string | null,
): SubDetail {
  // Subjects, queues and sids are the wire's bytes: written as Go writes them (protocol/text.ts).
  return {
    account: account ?? undefined,
    subject: subjectToText(subject),
    qgroup: queue === null || queue === '' ? undefined : subjectToText(queue),
    sid: subjectToText(sid),
    msgs,
    max: max > 0 ? max : undefined,
    cid,
  };
}

/** nats-server's `getRTT`: between 1µs and 1ms truncated to whole microseconds. */
export function rttForDisplay(ns: number): number {
  if (ns > 1_000 && ns < 1_000_000) return Math.floor(ns / 1_000) * 1_000;
  return ns;
}

/** nats-server's sort orders: by cid, start, uptime and reason ascending, the others descending. */
function sortRows(rows: ConnRow[], sort: string, now: number): void {
  const desc = (key: (r: ConnRow) => number) => (a: ConnRow, b: ConnRow) => key(b) - key(a);
  const uptime = (r: ConnRow): number => (r.stop ?? now) - r.state.start;
  switch (sort) {
    case '':
    case 'cid':
    case 'start': rows.sort((a, b) => a.state.cid - b.state.cid); break;
    case 'subs': rows.sort(desc((r) => r.state.numSubs)); break;
    case 'pending': rows.sort(desc((r) => r.state.pendingBytes)); break;
    case 'msgs_to': rows.sort(desc((r) => r.state.outMsgs)); break;
    case 'msgs_from': rows.sort(desc((r) => r.state.inMsgs)); break;
    case 'bytes_to': rows.sort(desc((r) => r.state.outBytes)); break;
    case 'bytes_from': rows.sort(desc((r) => r.state.inBytes)); break;
    case 'last': rows.sort(desc((r) => r.state.lastActivity)); break;
    case 'idle': rows.sort(desc((r) => now - r.state.lastActivity)); break;
    case 'uptime': rows.sort((a, b) => uptime(a) - uptime(b)); break;
    case 'stop': rows.sort(desc((r) => r.stop ?? 0)); break;
    case 'reason': rows.sort((a, b) => (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0)); break;
    case 'rtt': rows.sort(desc((r) => r.state.rttNs)); break;
  }
}
