/**
 * The system account's request services and STATSZ heartbeat, as nats-server 2.10's events.go
 * serves them (`initEventTracking`), answered from the monitoring endpoints' own documents:
 *
 * - `$SYS.REQ.SERVER.PING` and `$SYS.REQ.SERVER.PING.STATSZ` / `$SYS.REQ.SERVER.<id>.STATSZ`: the
 *   `{"server":{...},"statsz":{...}}` message (`ServerStatsMsg`); `$SYS.SERVER.<id>.STATSZ` carries
 *   it periodically (after 250 ms, doubling up to 10 s), sent only while someone listens.
 * - `$SYS.REQ.SERVER.PING.<KIND>` and `$SYS.REQ.SERVER.<id>.<KIND>`, KIND one of VARZ, CONNZ,
 *   SUBSZ, ROUTEZ, JSZ, HEALTHZ: `{"server":{...},"data":{...}}` (`ServerAPIResponse`), the body's
 *   JSON the endpoint's options plus the filters `server_name`, `cluster`, `host`, `tags`, `domain`
 *   (a server that does not match stays silent); IDZ: `{"name","host","id"}`.
 * - `$SYS.REQ.ACCOUNT.<acc>.<KIND>`, KIND one of CONNZ, SUBSZ, JSZ, INFO, STATZ, CONNS: the same
 *   for one account.
 * - `$SYS.REQ.USER.INFO`: the requesting user's `user`, `account`, `permissions` and `expires`,
 *   from the system account and (nats-server's service import into every account) from any other.
 *
 * Everything is published in the system account by one internal client: events never reach
 * another account. A bad request body gets nats-server's error envelope (`"error":{"code":400}`).
 */
import type { Account } from '../broker/account.js';
import type { BrokerCore } from '../broker/core.js';
import { eventId, type SystemEvents } from '../broker/events.js';
import { Client } from '../broker/client.js';
import type { InternalClient, InternalMessage } from '../broker/internal.js';
import { goJson, rfc3339Nano } from '../protocol/go-format.js';
import { connz } from './connz.js';
import { healthz } from './healthz.js';
import { jsz } from './jsz.js';
import { BadRequest, DEFAULT_LIST_SIZE } from './query.js';
import { routez, subsz } from './subsz.js';
import type { MonitorContext } from './types.js';
import { CpuSampler, varz } from './varz.js';

/** The first STATSZ heartbeat's delay; it doubles up to {@link STATSZ_MAX_MS} (nats-server's `cstatsz`/`statsz`). */
const STATSZ_FIRST_MS = 250;
const STATSZ_MAX_MS = 10_000;
const ACCOUNT_CONNECTIONS_TYPE = 'io.nats.server.advisory.v1.account_connections';

/** A request body that is not JSON of the expected kind. */
class BadBody extends Error {}

/** The endpoint options of a request body (`ConnzOptions` etc.), by their JSON names. */
type Body = Record<string, unknown>;

/** Starts the services of `ctx`'s core, or returns null without a system account. */
export function startSystemServices(ctx: MonitorContext): SystemServices | null {
  const core = ctx.core();
  if (core.events === null || core.systemAccount === null) return null;
  return new SystemServices(ctx, core, core.events, core.systemAccount);
}

export class SystemServices {
  private readonly client: InternalClient;
  private readonly cpu = new CpuSampler();
  private readonly reqStats = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private intervalMs = STATSZ_FIRST_MS;
  private readonly statszSubject: string;
  private closed = false;
  /** Per other account, a client (without subscriptions) that answers its USER.INFO requests there. */
  private readonly repliers = new Map<Account, InternalClient>();

  constructor(
    private readonly ctx: MonitorContext,
    private readonly core: BrokerCore,
    private readonly events: SystemEvents,
    private readonly account: Account,
  ) {
    this.client = core.internalClient('$SYS services', account);
    const id = core.serverId;
    this.statszSubject = `$SYS.SERVER.${id}.STATSZ`;
    const c = this.client;
    c.subscribe('$SYS.REQ.SERVER.PING', (m) => this.statsz(m));
    c.subscribe('$SYS.REQ.SERVER.PING.*', (m) => this.serverRequest(m, m.subject.slice('$SYS.REQ.SERVER.PING.'.length)));
    c.subscribe(`$SYS.REQ.SERVER.${id}.*`, (m) => this.serverRequest(m, m.subject.slice(`$SYS.REQ.SERVER.${id}.`.length)));
    c.subscribe('$SYS.REQ.ACCOUNT.*.*', (m) => this.accountRequest(m));
    c.subscribe('$SYS.REQ.USER.INFO', (m) => this.userInfoFromSystem(m));
    core.onUnanswered = (pub, acc, subject, reply) => this.userInfoFromAccount(pub, acc, subject, reply);
    this.schedule();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.core.onUnanswered !== null) this.core.onUnanswered = null;
    this.client.close();
    for (const r of this.repliers.values()) r.close();
    this.repliers.clear();
  }

  // ---- STATSZ ---------------------------------------------------------------------------------

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      try {
        if (this.events.hasInterest(this.statszSubject)) this.sendStatsz(this.statszSubject);
      } catch (err) {
        this.core.internalError(err, 'STATSZ heartbeat; the next one is still scheduled');
      }
      this.core.flushAll();
      this.intervalMs = Math.min(this.intervalMs * 2, STATSZ_MAX_MS);
      this.schedule();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** `$SYS.REQ.SERVER.PING` (and `.STATSZ`): the statsz message, unless the body's filters exclude this server. */
  private statsz(m: InternalMessage): void {
    // No reply: nats-server sends it on its broadcast subject.
    const reply = m.reply === '' ? this.statszSubject : m.reply;
    let body: Body;
    try {
      body = parseBody(m.data);
    } catch (err) {
      return this.answer(reply, { server: this.events.serverBlock(), error: { code: 400, description: (err as Error).message } });
    }
    if (this.filtered(body)) return;
    this.sendStatsz(reply);
  }

  private sendStatsz(subject: string): void {
    this.client.reply(subject, goJson({ server: this.events.serverBlock(), statsz: this.statszData() }, false));
  }

  /** nats-server's `ServerStats`. */
  private statszData(): Record<string, unknown> {
    const core = this.core;
    const s = core.stats;
    const cluster = this.ctx.cluster();
    const routes = cluster === null ? [] : [...cluster.routes.values()].map((r) => ({
      rid: r.rid,
      name: r.info?.server_name || undefined,
      sent: { msgs: r.outMsgs, bytes: r.outBytes },
      received: { msgs: r.inMsgs, bytes: r.inBytes },
      pending: r.pendingBytes,
    }));
    const v = varz(this.ctx, this.reqStats, this.cpu);
    let active = 0;
    for (const a of core.accounts.values()) if (this.accountConns(a) > 0) active++;
    return {
      start: rfc3339Nano(this.ctx.startedAt().getTime()),
      mem: v.mem,
      cores: v.cores,
      cpu: v.cpu,
      connections: core.clients.size,
      total_connections: s.totalConnections,
      active_accounts: active,
      subscriptions: core.subscriptionCount,
      sent: { msgs: s.outMsgs, bytes: s.outBytes },
      received: { msgs: s.inMsgs, bytes: s.inBytes },
      slow_consumers: s.slowConsumers,
      routes: routes.length > 0 ? routes : undefined,
      active_servers: 1 + routes.length,
      jetstream: this.ctx.jetstream() === null ? undefined : v.jetstream,
      gomaxprocs: v.gomaxprocs,
    };
  }

  // ---- Server requests ------------------------------------------------------------------------

  /** `$SYS.REQ.SERVER.{PING,<id>}.<kind>`; false for a kind not served here (not a delivery). */
  private serverRequest(m: InternalMessage, kind: string): boolean {
    const ctx = this.ctx;
    switch (kind) {
      case 'STATSZ':
        this.statsz(m);
        return true;
      case 'IDZ': {
        if (m.reply === '') return true;
        const { name, host } = this.core.serverNameAndHost();
        this.client.reply(m.reply, goJson({ name, host, id: this.core.serverId }, false));
        return true;
      }
      case 'VARZ': return this.zReq(m, () => varz(ctx, this.reqStats, this.cpu));
      case 'CONNZ': return this.zReq(m, (b) => connz(ctx, connzQuery(b), noop));
      case 'SUBSZ': return this.zReq(m, (b) => fullSubsz(this.core, subsz(ctx, subszQuery(b)), b));
      case 'ROUTEZ': return this.zReq(m, (b) => routez(ctx, query(b, { subscriptions: 'subs' }, detailSubs(b)), noop));
      case 'JSZ': return this.zReq(m, (b) => new RawJson(jsz(ctx, jszQuery(b))));
      case 'HEALTHZ': return this.zReq(m, (b) => healthz(ctx, query(b, {
        'js-enabled': 'js-enabled', 'js-enabled-only': 'js-enabled-only', 'js-server-only': 'js-server-only',
        account: 'account', stream: 'stream', consumer: 'consumer', details: 'details',
      })).body);
      default: return false;
    }
  }

  /** `$SYS.REQ.ACCOUNT.<acc>.<kind>`. */
  private accountRequest(m: InternalMessage): boolean {
    const parts = m.subject.split('.');
    const name = parts[3]!;
    const kind = parts[4]!;
    const ctx = this.ctx;
    switch (kind) {
      case 'CONNZ': return this.zReq(m, (b) => connz(ctx, connzQuery({ ...b, acc: name }), noop));
      case 'SUBSZ': return this.zReq(m, (b) => fullSubsz(this.core, subsz(ctx, subszQuery({ ...b, account: name, subscriptions: true })), b));
      case 'JSZ': return this.zReq(m, (b) => new RawJson(jsz(ctx, jszQuery({ ...b, account: name }))));
      case 'INFO': return this.zReq(m, () => this.accountInfo(name));
      case 'STATZ': {
        const acc = this.core.accounts.get(name);
        if (name === 'PING') return this.zReq(m, (b) => this.accountStatz(b, null));
        return this.zReq(m, (b) => (acc === undefined ? SKIP : this.accountStatz(b, [name])));
      }
      case 'CONNS': {
        const acc = this.core.accounts.get(name);
        if (acc === undefined || this.accountConns(acc) === 0 || m.reply === '') return true;
        this.answer(m.reply, {
          type: ACCOUNT_CONNECTIONS_TYPE, id: eventId(), timestamp: rfc3339Nano(Date.now()), server: this.events.serverBlock(),
          ...this.accountStat(acc),
        });
        return true;
      }
      default: return false;
    }
  }

  /** nats-server's `zReq`: the body's options and filters, then the envelope with the data or the error. */
  private zReq(m: InternalMessage, data: (body: Body) => unknown): boolean {
    if (m.reply === '') return true;
    let body: Body;
    try {
      body = parseBody(m.data);
    } catch (err) {
      this.answer(m.reply, { server: this.events.serverBlock(), error: { code: 400, description: (err as Error).message } });
      return true;
    }
    if (this.filtered(body)) return true;
    let result: unknown;
    try {
      result = data(body);
    } catch (err) {
      // Options of the wrong JSON type: nats-server's json.Unmarshal fails, a 400.
      if (err instanceof BadBody) {
        this.answer(m.reply, { server: this.events.serverBlock(), error: { code: 400, description: err.message } });
        return true;
      }
      if (!(err instanceof BadRequest)) throw err;
      // nats-server's errSkipZreq: a `leader_only` request to a follower stays unanswered.
      if (err.message.startsWith('filtered response')) return true;
      this.answer(m.reply, { server: this.events.serverBlock(), error: { code: 500, description: err.message } });
      return true;
    }
    if (result === SKIP) return true;
    const server = goJson(this.events.serverBlock(), false);
    const text = result instanceof RawJson ? result.text : goJson(result, false);
    this.client.reply(m.reply, `{"server":${server},"data":${text}}`);
    return true;
  }

  /** nats-server's filterRequest: true when the filters in `body` exclude this server. */
  private filtered(body: Body): boolean {
    const { name, host } = this.core.serverNameAndHost();
    const str = (k: string): string => (typeof body[k] === 'string' ? (body[k] as string) : '');
    if (str('server_name') !== '' && !name.includes(str('server_name'))) return true;
    if (str('host') !== '' && !host.includes(str('host'))) return true;
    if (str('cluster') !== '' && !(this.core.clusterName ?? '').includes(str('cluster'))) return true;
    // Every tag asked for must be one of the server's (nats-server: case-insensitive, as jwt.TagList).
    if (Array.isArray(body.tags) && body.tags.length > 0) {
      const own = this.core.serverTags().map((t) => t.toLowerCase());
      if (!body.tags.every((t) => typeof t === 'string' && own.includes(t.toLowerCase()))) return true;
    }
    if (str('domain') !== '' && this.core.jetStreamState().domain !== str('domain')) return true;
    return false;
  }

  private answer(reply: string, body: object): void {
    this.client.reply(reply, goJson(body, false));
  }

  // ---- Accounts -------------------------------------------------------------------------------

  private accountConns(acc: Account): number {
    let n = 0;
    for (const c of this.core.clients.values()) if (c.account === acc && c.connectReceived) n++;
    return n;
  }

  /**
   * nats-server's `AccountStat`. Message counts are those of the account's open connections
   * (nats-server also keeps those of closed ones).
   */
  private accountStat(acc: Account): Record<string, unknown> {
    let conns = 0;
    let sentMsgs = 0, sentBytes = 0, recvMsgs = 0, recvBytes = 0;
    for (const c of this.core.clients.values()) {
      if (c.account !== acc || !c.connectReceived) continue;
      conns++;
      sentMsgs += c.outMsgs;
      sentBytes += c.outBytes;
      recvMsgs += c.inMsgs;
      recvBytes += c.inBytes;
    }
    return {
      acc: acc.name,
      conns,
      leafnodes: 0,
      total_conns: conns,
      num_subscriptions: acc.sublist.size,
      sent: { msgs: sentMsgs, bytes: sentBytes },
      received: { msgs: recvMsgs, bytes: recvBytes },
      slow_consumers: 0,
    };
  }

  /** nats-server's `AccountStatz`: the named accounts (all with `null`), those without connections only with `include_unused`. */
  private accountStatz(body: Body, names: string[] | null): unknown {
    const wanted = names ?? (Array.isArray(body.accounts) ? (body.accounts as unknown[]).filter((a): a is string => typeof a === 'string') : []);
    const unused = body.include_unused === true;
    const list: Record<string, unknown>[] = [];
    const accounts = wanted.length === 0 ? [...this.core.accounts.values()] : wanted.map((n) => this.core.accounts.get(n)).filter((a): a is Account => a !== undefined);
    for (const a of accounts) {
      if (!unused && this.accountConns(a) === 0) continue;
      list.push(this.accountStat(a));
    }
    if (list.length === 0 && !unused) return SKIP;
    return { server_id: this.core.serverId, now: rfc3339Nano(Date.now()), account_statz: list };
  }

  /** nats-server's `AccountInfo` (the fields that exist here). */
  private accountInfo(name: string): unknown {
    const acc = this.core.accounts.get(name);
    if (acc === undefined) throw new BadRequest('account not found');
    const js = this.ctx.jetstream();
    const s = acc.sublist.stats();
    return {
      account_name: name,
      update_time: rfc3339Nano(this.ctx.startedAt().getTime()),
      is_system: acc === this.account || undefined,
      expired: false,
      complete: true,
      jetstream_enabled: js?.accounts.get(name)?.enabled ?? false,
      leafnode_connections: 0,
      client_connections: this.accountConns(acc),
      subscriptions: acc.sublist.size,
      sublist_stats: {
        num_subscriptions: s.numSubscriptions, num_cache: s.numCache, num_inserts: s.numInserts, num_removes: s.numRemoves,
        num_matches: s.numMatches, cache_hit_rate: s.numMatches > 0 ? s.cacheHits / s.numMatches : 0,
        max_fanout: s.maxFanout, avg_fanout: s.totalFanout > 0 ? s.totalFanout / s.cachedResults : 0,
      },
    };
  }

  // ---- USER.INFO ------------------------------------------------------------------------------

  /** `$SYS.REQ.USER.INFO` from a client of the system account. */
  private userInfoFromSystem(m: InternalMessage): void {
    const pub = this.core.publisher;
    if (m.reply === '' || !(pub instanceof Client)) return;
    this.sendUserInfo(pub, m.reply, this.client);
  }

  /** The same request from another account (nats-server's import of it), which nobody else took. */
  private userInfoFromAccount(pub: Client | InternalClient, acc: Account, subject: string, reply: string): boolean {
    if (subject !== '$SYS.REQ.USER.INFO' || acc === this.account || !(pub instanceof Client) || this.closed) return false;
    // The answer goes back in the requester's account, as the response of nats-server's service import.
    let replier = this.repliers.get(acc);
    if (replier === undefined) {
      replier = this.core.internalClient('$SYS import', acc);
      this.repliers.set(acc, replier);
    }
    this.sendUserInfo(pub, reply, replier);
    return true;
  }

  /** nats-server's `UserInfo` in the envelope; `expires` in nanoseconds, whole seconds. */
  private sendUserInfo(c: Client, reply: string, via: InternalClient): void {
    const expiresMs = c.expiresAt === 0 ? 0 : Math.max(0, c.expiresAt - Date.now());
    const data = {
      user: c.authUser,
      account: c.account.name,
      permissions: c.perms?.publicView(),
      expires: expiresMs > 0 ? Math.floor(expiresMs / 1000) * 1_000_000_000 : undefined,
    };
    via.reply(reply, `{"server":${goJson(this.events.serverBlock(), false)},"data":${goJson(data, false)}}`);
  }
}

/**
 * nats-server's whole `Subsz` struct, which the system request marshals (the HTTP endpoint
 * shows only the statistics when no subscription is listed): with `server_id`, `now`, `total`,
 * `offset` and `limit` always.
 */
function fullSubsz(core: BrokerCore, doc: object, body: Body): object {
  if ('server_id' in doc) return doc;
  const offset = typeof body.offset === 'number' && body.offset > 0 ? body.offset : 0;
  const limit = typeof body.limit === 'number' && body.limit > 0 ? body.limit : DEFAULT_LIST_SIZE;
  return { server_id: core.serverId, now: rfc3339Nano(Date.now()), ...doc, total: 0, offset, limit };
}

/** Text that is already JSON (`/jsz`'s document, with its 64-bit integers). */
class RawJson {
  constructor(readonly text: string) {}
}

/** A request this server does not answer (nats-server's errSkipZreq). */
const SKIP: unique symbol = Symbol('skip');

function noop(): void {}

/** The body's JSON object; empty for no body. */
function parseBody(data: Buffer): Body {
  if (data.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new BadBody((err as Error).message);
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadBody('json: cannot unmarshal into Go value of type struct');
  return v as Body;
}

/** The body's options as the endpoint's query parameters (`names`: JSON name → parameter). */
function query(body: Body, names: Record<string, string>, extra: Record<string, string> = {}): URLSearchParams {
  const q = new URLSearchParams();
  for (const [json, param] of Object.entries(names)) {
    const v = body[json];
    if (v === undefined || v === null || v === false || v === '' || v === 0) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new BadBody(`json: cannot unmarshal ${typeof v} into field ${json}`);
    q.set(param, String(v));
  }
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q;
}

/** `subscriptions_detail` as `subs=detail`. */
function detailSubs(body: Body): Record<string, string> {
  return body.subscriptions_detail === true ? { subs: 'detail' } : {};
}

/** nats-server's `ConnzOptions` (state: 0 open, 1 closed, 2 any). */
function connzQuery(body: Body): URLSearchParams {
  const state = body.state === 1 ? 'closed' : body.state === 2 ? 'any' : '';
  return query(body, { sort: 'sort', auth: 'auth', subscriptions: 'subs', offset: 'offset', limit: 'limit', cid: 'cid', acc: 'acc' },
    { ...detailSubs(body), ...(state === '' ? {} : { state }) });
}

/** nats-server's `SubszOptions`. */
function subszQuery(body: Body): URLSearchParams {
  return query(body, { subscriptions: 'subs', offset: 'offset', limit: 'limit', test: 'test', account: 'acc' });
}

/** nats-server's `JSzOptions`. */
function jszQuery(body: Body): URLSearchParams {
  return query(body, {
    account: 'acc', accounts: 'accounts', streams: 'streams', consumer: 'consumers', config: 'config',
    leader_only: 'leader-only', offset: 'offset', limit: 'limit', raft: 'raft', stream_leader_only: 'stream-leader-only',
  });
}
