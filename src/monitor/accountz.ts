/**
 * The account and topology documents of nats-server 2.10's monitor.go that the system account
 * serves (and, for `/accountz`, `/leafz` and `/gatewayz`, the HTTP listener too):
 *
 * - `Accountz`: the account names (`accounts`), or with `account`/`?acc=` one account's
 *   `AccountInfo` (`account_detail`, also the answer of `$SYS.REQ.ACCOUNT.<acc>.INFO`);
 * - `Leafz` and `Gatewayz`: the documents of a server without leaf nodes or gateways (this
 *   broker has neither);
 * - `RaftzStatus`: the Raft groups of clustered JetStream, by account and group name.
 */
import type { Account } from '../broker/account.js';
import { rfc3339Nano } from '../protocol/go-format.js';
import { BadRequest } from './query.js';
import type { MonitorContext } from './types.js';

/** Go's zero time.Time, as encoding/json writes it. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** nats-server's `accountInfo` error for an unknown account. */
function noAccount(name: string): BadRequest {
  return new BadRequest(`Account ${name} does not exist`);
}

/** nats-server's `AccountInfo` (the fields that exist here; imports and exports are not listed). */
export function accountInfo(ctx: MonitorContext, name: string): Record<string, unknown> {
  const core = ctx.core();
  const acc = core.accounts.get(name);
  if (acc === undefined) throw noAccount(name);
  const js = ctx.jetstream();
  const s = acc.sublist.stats();
  return {
    account_name: name,
    update_time: rfc3339Nano(ctx.startedAt().getTime()),
    is_system: acc === core.systemAccount || undefined,
    expired: false,
    complete: true,
    jetstream_enabled: js?.accounts.get(name)?.enabled ?? false,
    leafnode_connections: 0,
    client_connections: clientConnections(ctx, acc),
    subscriptions: acc.sublist.size,
    sublist_stats: {
      num_subscriptions: s.numSubscriptions, num_cache: s.numCache, num_inserts: s.numInserts, num_removes: s.numRemoves,
      num_matches: s.numMatches, cache_hit_rate: s.numMatches > 0 ? s.cacheHits / s.numMatches : 0,
      max_fanout: s.maxFanout, avg_fanout: s.totalFanout > 0 ? s.totalFanout / s.cachedResults : 0,
    },
  };
}

/** The authorized client connections of `acc`. */
export function clientConnections(ctx: MonitorContext, acc: Account): number {
  let n = 0;
  for (const c of ctx.core().clients.values()) if (c.account === acc && c.connectReceived) n++;
  return n;
}

/** nats-server's `Accountz`: `account` '' lists the accounts, else that account's details. */
export function accountz(ctx: MonitorContext, account: string): Record<string, unknown> {
  const core = ctx.core();
  const head = { server_id: core.serverId, now: rfc3339Nano(Date.now()), system_account: core.systemAccount?.name };
  if (account === '') return { ...head, accounts: [...core.accounts.keys()] };
  return { ...head, account_detail: accountInfo(ctx, account) };
}

/**
 * nats-server's `Raftz` (2.10.x): the Raft groups of clustered JetStream, which belong to the
 * system account, as `{<account>: {<group>: RaftzGroup}}`; `{}` when the account filter (the
 * system account by default) or the group filter matches none, or without clustered JetStream.
 * The group's `ipq_*` queue lengths are 0 (no such queues here); `wal` is the log's first and
 * last index (no byte counts or times); a peer's `last_seen` is not tracked and is left out.
 */
export function raftz(ctx: MonitorContext, account: string, group: string): Record<string, unknown> {
  const core = ctx.core();
  const sys = core.systemAccount?.name ?? null;
  const afilter = account === '' ? sys : account;
  const hub = ctx.jetstream()?.cluster?.hub;
  if (afilter === null || hub === undefined || afilter !== sys) return {};
  const groups: Record<string, unknown> = {};
  for (const g of hub.list()) {
    if (group !== '' && g.name !== group) continue;
    const st = g.node.status;
    const peers: Record<string, unknown> = {};
    for (const id of st.peers) {
      if (id === hub.selfId) continue;
      const p = g.node.progressOf(id);
      peers[id] = { name: hub.nameOf(id), known: true, last_replicated_index: p?.match || undefined };
    }
    const size = st.peers.length;
    groups[g.name] = {
      id: hub.selfId,
      state: st.role === 'leader' ? 'LEADER' : st.role === 'candidate' ? 'CANDIDATE' : 'FOLLOWER',
      size,
      quorum_needed: Math.floor(size / 2) + 1,
      committed: st.commitIndex,
      applied: st.applied,
      leader: st.leader ?? undefined,
      ever_had_leader: g.everHadLeader,
      term: st.term,
      voted_for: st.vote ?? undefined,
      pterm: st.lastTerm,
      pindex: st.lastIndex,
      ipq_proposal_len: 0,
      ipq_entry_len: 0,
      ipq_resp_len: 0,
      ipq_apply_len: 0,
      wal: { messages: st.lastIndex - st.snapshotIndex, bytes: 0, first_seq: st.snapshotIndex + 1, first_ts: ZERO_TIME, last_seq: st.lastIndex, last_ts: ZERO_TIME, consumer_count: 0 },
      peers,
    };
  }
  return Object.keys(groups).length === 0 ? {} : { [afilter]: groups };
}
