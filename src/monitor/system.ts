/**
 * The system account's request services and STATSZ heartbeat, as nats-server 2.10's events.go
 * serves them (`initEventTracking`), answered from the monitoring endpoints' own documents:
 *
 * - `$SYS.REQ.SERVER.PING` and `$SYS.REQ.SERVER.PING.STATSZ` / `$SYS.REQ.SERVER.<id>.STATSZ`: the
 *   `{"server":{...},"statsz":{...}}` message (`ServerStatsMsg`); `$SYS.SERVER.<id>.STATSZ` carries
 *   it periodically (after 250 ms, doubling up to 10 s), sent only while someone listens.
 * - `$SYS.REQ.SERVER.PING.<KIND>` and `$SYS.REQ.SERVER.<id>.<KIND>`, KIND one of VARZ, CONNZ,
 *   SUBSZ, ROUTEZ, GATEWAYZ, LEAFZ, ACCOUNTZ, JSZ, HEALTHZ, RAFTZ: `{"server":{...},"data":{...}}`
 *   (`ServerAPIResponse`), the body's JSON the endpoint's options plus the filters
 *   `server_name`, `cluster`, `host`, `tags`, `domain` (a server that does not match stays
 *   silent); IDZ: `{"name","host","id"}`.
 * - By id only (2.10): RELOAD (the options in force applied again, as `server.reload({})`), KICK
 *   and LDM (`{"cid":N}`: close that client, or send it the lame duck INFO); the answer is the
 *   envelope without `data`, or with `"error":{"code":500,...}`. A body that does not decode
 *   gets no answer (nats-server logs it). They run after the routing in progress.
 * - `$SYS.REQ.ACCOUNT.<acc>.<KIND>`, KIND one of CONNZ, SUBSZ, LEAFZ, JSZ, INFO, STATZ, CONNS:
 *   the same for one account.
 * - The system requests nats-server imports into every other account (registerSystemImports):
 *   `$SYS.REQ.USER.INFO` (the requesting user's `user`, `account`, `permissions` and
 *   `expires`), answered here; `$SYS.REQ.ACCOUNT.PING.CONNZ` and `$SYS.REQ.SERVER.PING.CONNZ`
 *   (that account's CONNZ) and `$SYS.REQ.ACCOUNT.PING.STATZ` (its STATZ), forwarded in the system
 *   account as `$SYS.REQ.ACCOUNT.<acc>.CONNZ|STATZ` with a reply inbox of ours, so that every
 *   server answers, and the answers handed back into the requester's account. The router hands
 *   them over (`core.onUnanswered`).
 *
 * Events and answers are published in the system account by its internal clients (answers to
 * imported requests in the requester's account); a bad request body gets nats-server's error
 * envelope (`"error":{"code":400}`).
 */
import type { Account } from '../broker/account.js';
import type { BrokerCore } from '../broker/core.js';
import { ACCOUNT_CONNECTIONS_TYPE, eventId, type SystemEvents } from '../broker/events.js';
import { Client } from '../broker/client.js';
import { CloseReason } from '../broker/close-reason.js';
import type { InternalClient, InternalMessage } from '../broker/internal.js';
import type { PubArg } from '../protocol/parser.js';
import { goJson, rfc3339Nano } from '../protocol/go-format.js';
import { GO_JSON_ERROR, decodeGoValue, type GoSchema } from '../protocol/go-json.js';
import { accountInfo, accountz, clientConnections, raftz } from './accountz.js';
import { gatewayz } from './gatewayz.js';
import { leafz } from './leafz.js';
import { connz } from './connz.js';
import { healthz } from './healthz.js';
import { jsz } from './jsz.js';
import { BadRequest } from './query.js';
import { routez, subsz } from './subsz.js';
import {
  BadBody, OPTIONS, SERVER_INFO, connzQuery, decodeBody, detailSubs, fullSubsz, jszQuery, noop, query, RawJson, SKIP, subszQuery,
  type Body, type OptionsStruct,
} from './system-body.js';
import type { MonitorContext } from './types.js';
import { CpuSampler, varz } from './varz.js';

/** The first STATSZ heartbeat's delay; it doubles up to {@link STATSZ_MAX_MS} (nats-server's `cstatsz`/`statsz`). */
const STATSZ_FIRST_MS = 250;
const STATSZ_MAX_MS = 10_000;
/** How long answers to a forwarded imported request are taken (nats-server's default response threshold, 2 min). */
const RESPONSE_TTL_MS = 120_000;
/** The requests every other account may make (nats-server's service imports from the system account). */
const IMPORTED = new Set(['$SYS.REQ.USER.INFO', '$SYS.REQ.ACCOUNT.PING.CONNZ', '$SYS.REQ.SERVER.PING.CONNZ', '$SYS.REQ.ACCOUNT.PING.STATZ']);

/** events.go `accNumConnsReq` (`ServerInfo` and `acc`); `acc` stays undefined when the body leaves it out. */
const CONNS_REQUEST: GoSchema = {
  kind: 'struct',
  fields: {
    server: SERVER_INFO,
    acc: { kind: 'unmarshaler', zero: undefined, unmarshal: (raw, current) => (raw === 'null' ? current : raw.charCodeAt(0) === 0x22 ? JSON.parse(raw) : GO_JSON_ERROR) },
  },
};

/** events.go `KickClientReq` and `LDMClientReq`. */
const CID_REQUEST: GoSchema = { kind: 'struct', fields: { cid: 'uint64' } };

/** A string option of a request body ('' when absent or not a string). */
function str(body: Body, key: string): string {
  const v = body[key];
  if (v !== undefined && v !== null && typeof v !== 'string') throw new BadBody(`json: cannot unmarshal ${typeof v} into field ${key} of type string`);
  return v ?? '';
}

/** What the services need of the backend. */
export interface SystemControls {
  /** `$SYS.REQ.SERVER.<id>.RELOAD`: applies the options again; throws what a reload throws. */
  reload(): void;
}

/** Starts the services of `ctx`'s core, or returns null without a system account. */
export function startSystemServices(ctx: MonitorContext, controls: SystemControls): SystemServices | null {
  const core = ctx.core();
  if (core.events === null || core.systemAccount === null) return null;
  return new SystemServices(ctx, core, core.events, core.systemAccount, controls);
}

export class SystemServices {
  private readonly client: InternalClient;
  private readonly cpu = new CpuSampler();
  private readonly reqStats = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private intervalMs = STATSZ_FIRST_MS;
  private readonly statszSubject: string;
  private closed = false;
  /** RELOAD, KICK and LDM requests waiting for the routing in progress to end. */
  private readonly deferred = new Set<NodeJS.Immediate>();
  /** Publishes the imported CONNZ/STATZ requests in the system account and takes their answers. */
  private readonly importer: InternalClient;
  /** The reply subject prefix of those requests. */
  private readonly inbox: string;
  /** The imported requests forwarded, by reply token, in the order made. */
  private readonly forwards = new Map<string, { acc: Account; reply: string; at: number }>();
  private forwardSeq = 0;

  constructor(
    private readonly ctx: MonitorContext,
    private readonly core: BrokerCore,
    private readonly events: SystemEvents,
    private readonly account: Account,
    private readonly controls: SystemControls,
  ) {
    this.client = core.internalClient('$SYS services', account);
    const id = core.serverId;
    this.statszSubject = `$SYS.SERVER.${id}.STATSZ`;
    const c = this.client;
    c.subscribe('$SYS.REQ.SERVER.PING', (m) => this.statsz(m));
    c.subscribe('$SYS.REQ.SERVER.PING.*', (m) => this.serverRequest(m, m.subject.slice('$SYS.REQ.SERVER.PING.'.length)));
    c.subscribe(`$SYS.REQ.SERVER.${id}.*`, (m) => this.serverRequest(m, m.subject.slice(`$SYS.REQ.SERVER.${id}.`.length), true));
    c.subscribe('$SYS.REQ.ACCOUNT.*.*', (m) => this.accountRequest(m));
    c.subscribe('$SYS.REQ.USER.INFO', (m) => this.userInfoFromSystem(m));
    // A client of its own (not `c`): internal clients do not receive what they publish.
    this.inbox = `$SYS._INBOX.${id}.`;
    this.importer = core.internalClient('$SYS imports', account);
    this.importer.subscribe(`${this.inbox}*`, (m) => this.forwarded(m));
    core.onUnanswered = (pub, acc, pa, buf, start, end) => this.imported(pub, acc, pa, buf, start, end);
    // A late answer for a deleted account must not bring its internal client back.
    events.onForgetAccount = (acc) => {
      for (const [token, f] of this.forwards) if (f.acc === acc) this.forwards.delete(token);
    };
    this.schedule();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.core.onUnanswered !== null) this.core.onUnanswered = null;
    this.events.onForgetAccount = null;
    for (const d of this.deferred) clearImmediate(d);
    this.deferred.clear();
    this.forwards.clear();
    this.importer.close();
    this.client.close();
  }

  // ---- STATSZ ---------------------------------------------------------------------------------

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      try {
        this.sweepForwards(Date.now());
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
      body = decodeBody(m.data, OPTIONS.statsz);
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
    for (const a of core.accounts.values()) if (clientConnections(this.ctx, a) > 0) active++;
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
  private serverRequest(m: InternalMessage, kind: string, byId = false): boolean {
    const ctx = this.ctx;
    const via = this.client;
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
      case 'VARZ': return this.zReq(m.reply, m.data, via, OPTIONS.varz, () => varz(ctx, this.reqStats, this.cpu));
      case 'CONNZ': return this.zReq(m.reply, m.data, via, OPTIONS.connz, (b) => connz(ctx, connzQuery(b), noop, str(b, 'filter_subject')));
      case 'SUBSZ': return this.zReq(m.reply, m.data, via, OPTIONS.subsz, (b) => fullSubsz(this.core, subsz(ctx, subszQuery(b)), b));
      case 'ROUTEZ': return this.zReq(m.reply, m.data, via, OPTIONS.routez, (b) => routez(ctx, query(b, { subscriptions: 'subs' }, detailSubs(b)), noop));
      case 'GATEWAYZ': return this.zReq(m.reply, m.data, via, OPTIONS.gatewayz, (b) => gatewayz(ctx, query(b, { name: 'gw_name', accounts: 'accs' })));
      case 'LEAFZ': return this.zReq(m.reply, m.data, via, OPTIONS.leafz, (b) => leafz(ctx, query(b, { subscriptions: 'subs', account: 'acc' })));
      case 'ACCOUNTZ': return this.zReq(m.reply, m.data, via, OPTIONS.accountz, (b) => accountz(ctx, str(b, 'account')));
      case 'JSZ': return this.zReq(m.reply, m.data, via, OPTIONS.jsz, (b) => new RawJson(jsz(ctx, jszQuery(b))));
      case 'HEALTHZ': return this.zReq(m.reply, m.data, via, OPTIONS.healthz, (b) => healthz(ctx, query(b, {
        'js-enabled': 'js-enabled', 'js-enabled-only': 'js-enabled-only', 'js-server-only': 'js-server-only',
        account: 'account', stream: 'stream', consumer: 'consumer', details: 'details',
      })).body);
      case 'RAFTZ': return this.zReq(m.reply, m.data, via, OPTIONS.raftz, (b) => raftz(ctx, str(b, 'account'), str(b, 'group')));
      case 'RELOAD': return byId && this.control(m, false, () => this.controls.reload());
      case 'KICK': return byId && this.control(m, true, (cid) => this.kick(cid));
      case 'LDM': return byId && this.control(m, true, (cid) => this.ldm(cid));
      default: return false;
    }
  }

  /**
   * RELOAD, KICK, LDM (events.go reloadConfig, kickClient, ldmClient): the body checked now,
   * the work and the answer after the routing in progress (a reload or a kick closes clients).
   * With `cid`, a body that is not `{"cid":<uint64>}` JSON gets no answer, as nats-server; a
   * request without a reply subject does nothing.
   */
  private control(m: InternalMessage, withCid: boolean, run: (cid: number) => void): boolean {
    // zReq: without a reply subject nothing is done at all.
    if (m.reply === '') return true;
    let cid = 0;
    if (withCid) {
      // KickClientReq / LDMClientReq first: a body that does not decode is only logged.
      const r = decodeGoValue(m.data.toString('utf8'), CID_REQUEST);
      if (r === null) {
        this.core.log.error('Error unmarshalling kick client request');
        return true;
      }
      cid = (r.value as { cid: number }).cid;
    }
    let body: Body;
    try {
      body = decodeBody(m.data, OPTIONS.filter);
    } catch (err) {
      this.answer(m.reply, { server: this.events.serverBlock(), error: { code: 400, description: (err as Error).message } });
      return true;
    }
    if (this.filtered(body)) return true;
    const reply = m.reply;
    const d = setImmediate(() => {
      this.deferred.delete(d);
      if (this.closed) return;
      let error: string | null = null;
      try {
        run(cid);
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      if (!this.closed) {
        const server = this.events.serverBlock();
        this.answer(reply, error === null ? { server } : { server, error: { code: 500, description: error } });
      }
      this.core.flushAll();
    });
    this.deferred.add(d);
    return true;
  }

  /** nats-server's DisconnectClientByID. */
  private kick(cid: number): void {
    const c = this.core.clients.get(cid);
    if (c === undefined || c.closed) throw new Error('no such client or leafnode id');
    c.close(CloseReason.Kicked);
  }

  /** nats-server's LDMClientByID: the lame duck INFO to one client. */
  private ldm(cid: number): void {
    const c = this.core.clients.get(cid);
    if (c === undefined || c.closed) throw new Error('no such client id');
    if (!c.acceptsAsyncInfo) throw new Error('client does not support Lame Duck Mode or is not ready to receive the notification');
    c.send(this.core.asyncInfoFrame(c, true));
  }

  /** `$SYS.REQ.ACCOUNT.<acc>.<kind>`. */
  private accountRequest(m: InternalMessage): boolean {
    const parts = m.subject.split('.');
    const name = parts[3]!;
    const kind = parts[4]!;
    const ctx = this.ctx;
    const via = this.client;
    switch (kind) {
      case 'CONNZ': return this.zReq(m.reply, m.data, via, OPTIONS.connz, (b) => connz(ctx, connzQuery({ ...b, acc: name }), noop, str(b, 'filter_subject')));
      case 'SUBSZ': return this.zReq(m.reply, m.data, via, OPTIONS.subsz, (b) => fullSubsz(this.core, subsz(ctx, subszQuery({ ...b, account: name, subscriptions: true })), b));
      case 'LEAFZ': return this.zReq(m.reply, m.data, via, OPTIONS.leafz, (b) => leafz(ctx, query({ ...b, account: name }, { subscriptions: 'subs', account: 'acc' })));
      case 'JSZ': return this.zReq(m.reply, m.data, via, OPTIONS.jsz, (b) => new RawJson(jsz(ctx, jszQuery({ ...b, account: name }))));
      case 'INFO': return this.zReq(m.reply, m.data, via, OPTIONS.accInfo, () => accountInfo(ctx, name));
      case 'STATZ': {
        if (name === 'PING') return this.zReq(m.reply, m.data, via, OPTIONS.accountStatz, (b) => this.accountStatz(b, null));
        return this.zReq(m.reply, m.data, via, OPTIONS.accountStatz, (b) => (this.core.accounts.has(name) ? this.accountStatz(b, [name]) : SKIP));
      }
      case 'CONNS': {
        // events.go connsRequest: a body must decode as `accNumConnsReq` and name the subject's
        // account (an empty body, or one without `acc`, keeps it); otherwise only a log line.
        if (m.data.length > 0) {
          const r = decodeGoValue(m.data.toString('utf8'), CONNS_REQUEST);
          if (r === null) {
            this.core.log.error('Error unmarshalling account connections request message');
            return true;
          }
          const acc = (r.value as { acc: string | undefined }).acc;
          if (acc !== undefined && acc !== name) {
            this.core.log.error('Error unmarshalled account does not match subject');
            return true;
          }
        }
        const acc = this.core.accounts.get(name);
        if (acc === undefined || clientConnections(ctx, acc) === 0 || m.reply === '') return true;
        this.answer(m.reply, {
          type: ACCOUNT_CONNECTIONS_TYPE, id: eventId(), timestamp: rfc3339Nano(Date.now()), server: this.events.serverBlock(),
          ...this.events.accountStat(acc),
        });
        return true;
      }
      default: return false;
    }
  }

  /**
   * nats-server's `zReq`: the body's options and filters, then the envelope with the data or
   * the error, published by `via` (the system account's client, or the requester's account's).
   */
  private zReq(reply: string, data: Buffer, via: InternalClient, struct: OptionsStruct, make: (body: Body) => unknown): boolean {
    if (reply === '') return true;
    let body: Body;
    try {
      body = decodeBody(data, struct);
    } catch (err) {
      this.answerVia(via, reply, { server: this.events.serverBlock(), error: { code: 400, description: (err as Error).message } });
      return true;
    }
    if (this.filtered(body)) return true;
    let result: unknown;
    try {
      result = make(body);
    } catch (err) {
      // Options of the wrong JSON type: nats-server's json.Unmarshal fails, a 400.
      if (err instanceof BadBody) {
        this.answerVia(via, reply, { server: this.events.serverBlock(), error: { code: 400, description: err.message } });
        return true;
      }
      if (!(err instanceof BadRequest)) throw err;
      // nats-server's errSkipZreq: a `leader_only` request to a follower stays unanswered.
      if (err.message.startsWith('filtered response')) return true;
      this.answerVia(via, reply, { server: this.events.serverBlock(), error: { code: 500, description: err.message } });
      return true;
    }
    if (result === SKIP) return true;
    const server = goJson(this.events.serverBlock(), false);
    const text = result instanceof RawJson ? result.text : goJson(result, false);
    via.reply(reply, `{"server":${server},"data":${text}}`);
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

  private answerVia(via: InternalClient, reply: string, body: object): void {
    via.reply(reply, goJson(body, false));
  }

  // ---- Accounts -------------------------------------------------------------------------------

  /** nats-server's `AccountStatz`: the named accounts (all with `null`), those without connections only with `include_unused`. */
  private accountStatz(body: Body, names: string[] | null): unknown {
    const wanted = names ?? (Array.isArray(body.accounts) ? (body.accounts as unknown[]).filter((a): a is string => typeof a === 'string') : []);
    const unused = body.include_unused === true;
    const list: object[] = [];
    const accounts = wanted.length === 0 ? [...this.core.accounts.values()] : wanted.map((n) => this.core.accounts.get(n)).filter((a): a is Account => a !== undefined);
    for (const a of accounts) {
      if (!unused && clientConnections(this.ctx, a) === 0) continue;
      list.push(this.events.accountStat(a));
    }
    if (list.length === 0 && !unused) return SKIP;
    return { server_id: this.core.serverId, now: rfc3339Nano(Date.now()), account_statz: list };
  }

  // ---- USER.INFO ------------------------------------------------------------------------------

  /** `$SYS.REQ.USER.INFO` from a client of the system account. */
  private userInfoFromSystem(m: InternalMessage): void {
    const pub = this.core.publisher;
    if (m.reply === '' || !(pub instanceof Client)) return;
    this.sendUserInfo(pub, m.reply, this.client);
  }

  /**
   * A system request from another account (nats-server's service imports from the system
   * account into every account), which the router hands over whether or not a subscriber there
   * got it too: answered in the requester's account. True when it is one of them.
   */
  private imported(pub: Client | InternalClient, acc: Account, pa: PubArg, buf: Buffer, start: number, end: number): boolean {
    const subject = pa.subject;
    if (!IMPORTED.has(subject) || acc === this.account || this.closed) return false;
    const reply = pa.reply;
    if (subject === '$SYS.REQ.USER.INFO') {
      if (!(pub instanceof Client)) return false;
      this.sendUserInfo(pub, reply, this.events.accountClient(acc));
      return true;
    }
    // The CONNZ and STATZ imports: as nats-server's service import, the request goes on in the
    // system account as `$SYS.REQ.ACCOUNT.<acc>.CONNZ|STATZ` (so every server of the cluster
    // answers, this one through its own subscription), with a reply inbox of ours whose answers
    // are handed back to the requester for RESPONSE_TTL_MS (a streamed response).
    const kind = subject === '$SYS.REQ.ACCOUNT.PING.STATZ' ? 'STATZ' : 'CONNZ';
    const token = String(++this.forwardSeq);
    this.forwards.set(token, { acc, reply, at: Date.now() });
    const body = Buffer.from(buf.subarray(start + Math.max(pa.hdr, 0), end));
    this.importer.publish(`$SYS.REQ.ACCOUNT.${acc.name}.${kind}`, body, { reply: this.inbox + token });
    return true;
  }

  /** An answer to a forwarded imported request: to the requester, in its account. */
  private forwarded(m: InternalMessage): void {
    const f = this.forwards.get(m.subject.slice(this.inbox.length));
    if (f === undefined) return;
    this.events.accountClient(f.acc).reply(f.reply, Buffer.from(m.data));
  }

  /** Forgets the forwarded requests older than RESPONSE_TTL_MS (on the STATSZ timer). */
  private sweepForwards(now: number): void {
    for (const [token, f] of this.forwards) {
      if (now - f.at < RESPONSE_TTL_MS) break;
      this.forwards.delete(token);
    }
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

