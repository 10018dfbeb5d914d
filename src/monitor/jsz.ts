/**
 * `/jsz` and `/varz`'s `jetstream` block: JetStream's configuration, usage and API counters, per
 * account and per stream, as nats-server 2.10.29 writes them (`Jsz`, `JSInfo`, `AccountDetail`,
 * `StreamDetail`, `JetStreamVarz` in server/monitor.go; `JetStreamConfig`, `JetStreamStats` in
 * server/jetstream.go). A single server has no meta group and leads every stream; a member of a
 * JetStream cluster (jetstream/cluster/) adds `meta_cluster`, counts its Raft groups in
 * `ha_assets`, gives each stream its group's `cluster` block, and honours `leader-only`,
 * `stream-leader-only` and `raft` (jsz-cluster.ts).
 *
 * `/jsz` is written as Go writes it (json.MarshalIndent of the struct): the stream configs are
 * the API's pre-encoded config text, and an account's reservations are Go's `uint64` of its
 * int64 limits (an unlimited -1 is 18446744073709551615), which `JSON.stringify` cannot write —
 * so the document is encoded here and laid out by {@link goIndent}.
 */
import type { JetStream, JsAccount } from '../jetstream/jetstream.js';
import type { Stream } from '../jetstream/stream.js';
import { consumerInfoJson, publicConsumerCount, streamState } from '../jetstream/api.js';
import { encodeStreamConfig } from '../jetstream/stream-config.js';
import { goIndent, goJson, rfc3339Nano } from '../protocol/go-format.js';
import { BadRequest, DEFAULT_LIST_SIZE, decodeBool, decodeInt } from './query.js';
import { haAssets, metaClusterInfo, replicaOf } from './jsz-cluster.js';
import type { MonitorContext } from './types.js';

/** nats-server 2.10's `defaultSyncInterval` (2 minutes, in ns): `sync` is not configurable here. */
const DEFAULT_SYNC_INTERVAL_NS = 120_000_000_000;

/** A pre-encoded JSON fragment, written as is. */
class Raw {
  constructor(readonly text: string) {}
}

/** Compact Go JSON of a document that may hold {@link Raw} fragments; undefined fields are left out (`omitempty`). */
function encode(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(encode).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const parts: string[] = [];
    for (const [k, x] of Object.entries(v)) if (x !== undefined) parts.push(`${goJson(k, false)}:${encode(x)}`);
    return `{${parts.join(',')}}`;
  }
  return goJson(v, false);
}

/** Go's `uint64(x)` of an int64: a negative value wraps around 2^64. */
function goUint64(n: number): Raw {
  const v = BigInt(Math.trunc(n));
  return new Raw((v < 0n ? 2n ** 64n + v : v).toString());
}

/** The accounts with JetStream (nats-server's `js.accounts`). */
function jsAccounts(js: JetStream): JsAccount[] {
  return [...js.accounts.values()].filter((a) => a.enabled);
}

/**
 * nats-server's `JetStreamConfig` as the server fills it: the limits, `<store_dir>/jetstream`,
 * the default sync interval and the domain. nats-server sets `compress_ok` when both limits
 * were given above 0 (a missing limit takes its dynamic-config path, which leaves it out);
 * resolved options here always hold both limits, and the nats-server backend writes both
 * into its config, so both are "given" whenever they are positive.
 */
export function jetStreamConfig(js: JetStream): Record<string, unknown> {
  const c = js.config;
  return {
    max_memory: c.maxMemory,
    max_storage: c.maxStore,
    store_dir: js.root,
    sync_interval: DEFAULT_SYNC_INTERVAL_NS,
    domain: c.domain ?? undefined,
    compress_ok: c.maxMemory > 0 && c.maxStore > 0 ? true : undefined,
    unique_tag: c.uniqueTag === '' ? undefined : c.uniqueTag,
  };
}

/** nats-server's `JetStreamStats` of the server (`usageStats`): `ha_assets` counts its Raft groups. */
function jetStreamStats(js: JetStream): Record<string, unknown> {
  const u = js.usage();
  return {
    memory: u.memory,
    storage: u.storage,
    reserved_memory: u.reservedMemory,
    reserved_storage: u.reservedStorage,
    accounts: jsAccounts(js).length,
    ha_assets: haAssets(js),
    api: { total: js.api.total, errors: js.api.errors },
  };
}

/**
 * `/varz`'s `jetstream` (nats-server's `JetStreamVarz`, `updateJszVarz`): `config` and `stats`
 * when JetStream runs, `{}` when it is off; a clustered server adds `meta`, with the replicas
 * when it is the meta leader.
 */
export function varzJetStream(ctx: MonitorContext): Record<string, unknown> {
  const js = ctx.jetstream();
  if (js === null) return {};
  const meta = metaClusterInfo(js, js.cluster?.meta.leader === js.serverName());
  const out: Record<string, unknown> = { config: jetStreamConfig(js), stats: jetStreamStats(js) };
  // Undefined fields (omitempty) are dropped by /varz's JSON.stringify.
  if (meta !== undefined) out.meta = meta;
  return out;
}

/** nats-server's `JSzOptions`, decoded as `HandleJsz` does (same order, same 400 texts). */
interface JszOptions {
  account: string;
  accounts: boolean;
  streams: boolean;
  consumers: boolean;
  config: boolean;
  offset: number;
  limit: number;
  leaderOnly: boolean;
  raft: boolean;
  streamLeaderOnly: boolean;
}

function jszOptions(q: URLSearchParams): JszOptions {
  const accounts = decodeBool(q, 'accounts');
  const streams = decodeBool(q, 'streams');
  const consumers = decodeBool(q, 'consumers');
  const config = decodeBool(q, 'config');
  const offset = decodeInt(q, 'offset');
  const limit = decodeInt(q, 'limit');
  const leaderOnly = decodeBool(q, 'leader-only');
  const raft = decodeBool(q, 'raft');
  const streamLeaderOnly = decodeBool(q, 'stream-leader-only');
  return { account: q.get('acc') ?? '', accounts, streams, consumers, config, offset, limit, leaderOnly, raft, streamLeaderOnly };
}

/** The `/jsz` document, as Go's indented JSON text. */
export function jsz(ctx: MonitorContext, q: URLSearchParams): string {
  const opts = jszOptions(q);
  // Jsz's defaults: consumers imply streams, streams without an account imply accounts.
  if (opts.offset < 0) opts.offset = 0;
  if (opts.limit === 0) opts.limit = DEFAULT_LIST_SIZE;
  if (opts.consumers) opts.streams = true;
  if (opts.streams && opts.account === '') opts.accounts = true;

  const core = ctx.core();
  const js = ctx.jetstream();
  const head = { server_id: core.serverId, now: rfc3339Nano(Date.now()) };
  if (js === null) {
    // A server without JetStream is never the meta leader.
    if (opts.leaderOnly) throw new BadRequest('filtered response: not leader');
    return goIndent(encode({
      ...zeroStats(),
      ...head,
      disabled: true,
      config: { max_memory: 0, max_storage: 0 },
      streams: 0,
      consumers: 0,
      messages: 0,
      bytes: 0,
      total: 0,
    }));
  }

  // A single server is its own leader; in a cluster only the meta leader answers `leader-only`.
  const isLeader = js.cluster === null || js.cluster.isMetaLeader;
  if (opts.leaderOnly && !isLeader) throw new BadRequest('filtered response: not leader');

  let accounts = jsAccounts(js);
  const total = accounts.length;
  let streams = 0;
  let consumers = 0;
  let messages = 0;
  let bytes = 0;
  for (const jsa of accounts) {
    for (const s of jsa.streams.values()) {
      const st = s.state();
      streams++;
      // 2.10.29 Jsz adds each stream state's consumer count: the public consumers only.
      consumers += publicConsumerCount(s);
      messages += st.msgs;
      bytes += st.bytes;
    }
  }

  // A named account takes precedence; else every account when asked, by name, paged.
  const target = accounts.find((a) => a.name === opts.account);
  if (target !== undefined) {
    accounts = [target];
  } else if (opts.accounts) {
    if (opts.limit > 0) {
      accounts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      accounts = accounts.slice(Math.min(opts.offset, accounts.length)).slice(0, opts.limit);
    }
  } else {
    accounts = [];
  }

  return goIndent(encode({
    ...jetStreamStats(js),
    ...head,
    config: jetStreamConfig(js),
    streams,
    consumers,
    messages,
    bytes,
    meta_cluster: metaClusterInfo(js, isLeader),
    account_details: accounts.length > 0 ? accounts.map((a) => accountDetail(js, a, opts)) : undefined,
    total,
  }));
}

function zeroStats(): Record<string, unknown> {
  return {
    memory: 0, storage: 0, reserved_memory: 0, reserved_storage: 0, accounts: 0, ha_assets: 0, api: { total: 0, errors: 0 },
  };
}

/** nats-server's `AccountDetail` (`accountDetail()`): the account's usage, reservations and streams. */
function accountDetail(js: JetStream, jsa: JsAccount, opts: JszOptions): Record<string, unknown> {
  const u = jsa.usage();
  const details: Record<string, unknown>[] = [];
  if (opts.streams) {
    for (const s of jsa.streams.values()) {
      const d = streamDetail(js, jsa, s, opts);
      if (d !== null) details.push(d);
    }
  }
  return {
    name: jsa.name,
    id: jsa.name,
    memory: u.memory,
    storage: u.storage,
    // The account's own limits, as Go's uint64 (unlimited: 2^64-1).
    reserved_memory: goUint64(jsa.limits.max_memory),
    reserved_storage: goUint64(jsa.limits.max_storage),
    accounts: 0,
    ha_assets: 0,
    api: { total: jsa.api.total, errors: jsa.api.errors },
    stream_detail: details.length > 0 ? details : undefined,
  };
}

/**
 * nats-server's `StreamDetail`: name, creation, the cluster info (a single server's: it leads
 * the stream; a clustered stream's: its group as STREAM.INFO shows it), the config with
 * `config=1`, the fast state (no deleted list), with `consumers=1` each consumer's ConsumerInfo
 * (`consumer.info()`; its config only with `config=1`), left out when the stream has none, and
 * with `raft=1` the stream's Raft group. Null when `stream-leader-only` filters it out (this
 * server does not lead it).
 *
 * `consumer_raft_groups` (2.10, with `raft=1` and `consumers=1`) is never written: a consumer
 * here has no Raft group of its own (it follows its stream's), and the field is `omitempty`.
 */
function streamDetail(js: JetStream, jsa: JsAccount, s: Stream, opts: JszOptions): Record<string, unknown> | null {
  const cluster = jsa.cluster !== null ? jsa.cluster.clusterInfo(jsa, s) : { leader: js.serverName() };
  if (opts.streamLeaderOnly && cluster.leader !== js.serverName()) return null;
  // getPublicConsumers: the internal consumers of mirrors and sources (`direct`) are not shown.
  const shown = opts.consumers ? [...s.consumers.values()].filter((c) => !c.cfg.direct) : [];
  const consumers = shown.length > 0 ? shown.map((c) => new Raw(consumerInfoJson(jsa, c, opts.config))) : undefined;
  const group = opts.raft ? replicaOf(s)?.group?.name : undefined;
  return {
    name: s.name,
    created: rfc3339Nano(s.created),
    cluster,
    config: opts.config ? new Raw(encodeStreamConfig(s.cfg)) : undefined,
    state: streamState(s),
    consumer_detail: consumers,
    ...jsa.sourcingInfo(s),
    stream_raft_group: group,
  };
}
