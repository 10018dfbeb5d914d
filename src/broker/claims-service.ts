/**
 * The account resolver's requests in the system account (operator mode), as nats-server
 * v2.10.29 serves them (server/accounts.go DirAccResolver.Start, CacheDirAccResolver.Start,
 * respondToUpdate, handleListRequest, handleDeleteRequest; server/events.go
 * accountClaimUpdate for the MEMORY resolver):
 *
 * | subject | full | cache | MEMORY |
 * |---|---|---|---|
 * | `$SYS.REQ.ACCOUNT.<acc>.CLAIMS.UPDATE`, `$SYS.ACCOUNT.<acc>.CLAIMS.UPDATE` | stored, applied | stored when the account is in use | applied when in use |
 * | `$SYS.REQ.CLAIMS.UPDATE` (the account from the JWT) | stored, applied | as above | — |
 * | `$SYS.REQ.ACCOUNT.<acc>.CLAIMS.LOOKUP` | the stored JWT, or an empty answer | — | — |
 * | `$SYS.REQ.CLAIMS.LIST` | the stored accounts | the same | — |
 * | `$SYS.REQ.CLAIMS.PACK` (queue `responder`) | `pub\|jwt` messages, then an empty one | — | — |
 * | `$SYS.REQ.CLAIMS.DELETE` (a generic JWT by the operator) | when `allow_delete` | always | — |
 *
 * Only clients of the system account reach these subscriptions. An update's answer is
 * `{"data":{"account","code":200,"message"},"server":{...}}` or
 * `{"error":{"account","code":500,"description":"<message> - <error>"},"server":{...}}` (Go's
 * map: keys sorted). A stored JWT that changes an account in use is applied before the answer
 * goes out: the options' accounts are recomputed and the clients re-checked, as a reload does
 * (`host.apply`); a deleted account's clients are closed with `Account Authentication Expired`.
 *
 * Between servers (the requests above reach every server of a cluster: the routes carry the
 * system account's interest, so an update sent to one is stored by all):
 *
 * - the full resolver's sync (DirAccResolver.Start): every `interval`, a
 *   `$SYS.REQ.CLAIMS.PACK` request whose body is the store's hash (32 bytes), its reply
 *   subject an inbox of this server; the queue group `responder` picks one other server
 *   (the request and the responders are the same internal client, which gets no echo, as
 *   nats-server's system client), which answers with one empty message when the hashes match, else with every
 *   `pub|jwt` of its store, one per message, then an empty one. Each is merged: stored unless
 *   the file here has the same `jti` or a later `iat` (DirJWTStore.Merge, saveIfNewer), and
 *   applied to an account in use. nats-server sends the first request one `interval` after
 *   start, not at start; so does this.
 * - the lookup of an account the directory lacks (both resolvers: DirAccResolver.Fetch,
 *   Server.fetch): a CONNECT of a user of that account waits while a
 *   `$SYS.REQ.ACCOUNT.<acc>.CLAIMS.LOOKUP` request goes out, at most `timeout`. 2.10's rule
 *   for the answers: the first non-empty one wins; an empty one (a full resolver that lacks
 *   the account) is taken only once as many answers came as there are other servers (here:
 *   routes). This server's own responder never answers (no echo): a server alone waits the
 *   whole `timeout`, then the CONNECT is refused. A JWT fetched is stored (saveIfNewer; the cache
 *   evicts its least recently used file at `limit`).
 * - the bootstrapping system account (server.go Start): while the system account has no
 *   JWT, it is fetched every second, then applied ("System account fetched and updated").
 */
import { randomBytes } from 'node:crypto';
import { decodeAccountJwt, decodeOperatorJwt, isPublicKey, validateClaims, type AccountClaims } from '../auth/jwt.js';
import { decodeGenericJwt } from '../auth/jwt-dir.js';
import type { ResolvedOperatorMode } from '../auth/types.js';
import type { ResolvedOptions } from '../config/options.js';
import { operatorAccounts } from '../config/resolve-operator.js';
import { jwtAccountLinks } from '../config/resolve-jwt-links.js';
import { NATS_SERVER_VERSION } from '../protocol/constants.js';
import { goJson, rfc3339Nano } from '../protocol/go-format.js';
import { CloseReason } from './close-reason.js';
import { ERR } from '../protocol/constants.js';
import type { BrokerCore } from './core.js';
import type { InternalClient, InternalMessage } from './internal.js';
import { timerDelay } from '../io/timers.js';

/** What the service needs of the server around the core. */
export interface ClaimsServiceHost {
  /** Options whose accounts changed (a JWT update): applied as a reload applies them, without the checks. */
  apply(next: ResolvedOptions): void;
  /** The `server` block of a system message (nats-server's ServerInfo, its `seq` counting up). */
  serverBlock(): object;
  /** How many other servers this one knows (nats-server's `s.sys.servers`): its routes. */
  remoteServers(): number;
  /** An account was deleted from the resolver: its JetStream is disabled (accounts.go removeCb). */
  accountRemoved(name: string): void;
}

/** A lookup of an account at the other servers, waiting for its answers. */
interface Fetch {
  readonly account: string;
  /** Answers still expected before an empty one counts (2.10's expectedServers). */
  expected: number;
  readonly timer: NodeJS.Timeout;
  readonly settle: (jwt: string | null) => void;
}

/** How often the bootstrapping system account's JWT is asked for (server.go: a one-second ticker). */
const BOOTSTRAP_FETCH_MS = 1000;

/** A `server` block for a host that has no system events of its own. */
export function simpleServerBlock(core: BrokerCore): () => Record<string, unknown> {
  let seq = 0;
  return () => {
    const o = core.options;
    const js = o.jetstream !== null;
    return {
      name: o.serverName ?? core.serverId,
      host: o.host,
      id: core.serverId,
      ...(core.clusterName !== null ? { cluster: core.clusterName } : {}),
      ver: NATS_SERVER_VERSION,
      jetstream: js,
      flags: js ? 1 : 0,
      seq: ++seq,
      time: rfc3339Nano(Date.now()),
    };
  };
}

type Outcome = { ok: true; message: string } | { ok: false; message: string; error: string };

export class ClaimsService {
  private readonly client: InternalClient;
  /** The first operator's key and strictness (accounts.go getOperatorKeys reads only the first). */
  private readonly operatorKey: string;
  private readonly strict: boolean;
  /** The first operator's own key (unless strict) and its signing keys: who may DELETE. */
  private readonly deleteKeys: ReadonlySet<string>;
  /** This server's reply subjects: `$SYS._INBOX.<id>.<n>` (nats-server's newRespInbox). */
  private readonly inbox = `$SYS._INBOX.${randomBytes(6).toString('base64url').replace(/[-_]/g, 'x')}.`;
  private nextReply = 0;
  /** Lookups at other servers in flight, by reply subject. */
  private readonly fetches = new Map<string, Fetch>();
  /** The same, by account: a second CONNECT waits for the lookup in flight. */
  private readonly fetching = new Map<string, Promise<void>>();
  private syncTimer: NodeJS.Timeout | null = null;
  private bootstrapTimer: NodeJS.Timeout | null = null;
  private fetchingSystem = false;
  /** This service's account lookups, as the core calls them (`core.accountFetcher`). */
  private readonly fetcher = (name: string): Promise<void> => this.fetchAccount(name);

  constructor(
    private readonly core: BrokerCore,
    private readonly mode: ResolvedOperatorMode,
    private readonly host: ClaimsServiceHost,
  ) {
    const op = decodeOperatorJwt(mode.operatorJwts[0] ?? '');
    this.operatorKey = op.ok ? op.claims.sub : '';
    this.strict = op.ok && op.claims.nats.strictSigningKeyUsage;
    this.deleteKeys = new Set(op.ok ? [...(this.strict ? [] : [op.claims.sub]), ...op.claims.nats.signingKeys] : []);
    this.client = core.internalClient('$SYS claims', core.account(mode.systemAccount!));
    const c = this.client;
    const type = mode.resolver === 'MEMORY' ? 'memory' : mode.resolver.type;
    for (const subject of ['$SYS.ACCOUNT.*.CLAIMS.UPDATE', '$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE']) {
      c.subscribe(subject, (m) => this.onSubjectUpdate(m, type));
    }
    if (type === 'memory') return;
    c.subscribe('$SYS.REQ.CLAIMS.UPDATE', (m) => this.onUpdate(m, type));
    c.subscribe('$SYS.REQ.CLAIMS.LIST', (m) => this.onList(m));
    c.subscribe('$SYS.REQ.CLAIMS.DELETE', (m) => this.onDelete(m));
    c.subscribe(`${this.inbox}*`, (m) => this.onReply(m));
    core.accountFetcher = this.fetcher;
    if (core.accountJwts?.bootstrapping === true) {
      core.log.info('Using bootstrapping system account');
      this.bootstrapTimer = setInterval(() => void this.fetchSystemAccount(), BOOTSTRAP_FETCH_MS);
      this.bootstrapTimer.unref();
    }
    if (type === 'cache') return;
    c.subscribe('$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP', (m) => this.onLookup(m));
    c.subscribe('$SYS.REQ.CLAIMS.PACK', (m) => this.onPack(m), 'responder');
    const store = core.accountJwts?.store ?? null;
    if (store !== null) {
      this.syncTimer = setInterval(() => this.requestPack(), timerDelay(store.cfg.intervalMs));
      this.syncTimer.unref();
    }
  }

  close(): void {
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    if (this.bootstrapTimer !== null) clearInterval(this.bootstrapTimer);
    this.syncTimer = this.bootstrapTimer = null;
    if (this.core.accountFetcher === this.fetcher) this.core.accountFetcher = null;
    // Lookups in flight fail, as nats-server's do at shutdown; the CONNECTs waiting go on (refused).
    for (const f of [...this.fetches.values()]) f.settle(null);
    this.client.close();
  }

  // ---- Between servers --------------------------------------------------------------------------

  /** The periodic sync: our hash to one server of the `responder` group. */
  private requestPack(): void {
    const store = this.core.accountJwts?.store ?? null;
    if (store === null) return;
    this.client.publish('$SYS.REQ.CLAIMS.PACK', store.hash(), { reply: `${this.inbox}pack` });
  }

  /** An answer to one of this server's requests: a pack message or a lookup's answer. */
  private onReply(m: InternalMessage): void {
    if (m.subject === `${this.inbox}pack`) return this.merge(m.data);
    const f = this.fetches.get(m.subject);
    if (f === undefined) return;
    f.expected--;
    // An empty answer (a server without the account) counts once every other server answered.
    if (m.data.length === 0 && f.expected > 0) return;
    f.settle(m.data.toString('utf8'));
  }

  /** DirJWTStore.Merge of one pack message: `pub|jwt` lines, each stored unless ours is the same or newer. */
  private merge(data: Buffer): void {
    const jwts = this.core.accountJwts;
    const store = jwts?.store ?? null;
    if (jwts === null || store === null || data.length === 0) return;
    let changed = false;
    const applied: string[] = [];
    for (const line of data.toString('utf8').split('\n')) {
      if (line === '') continue;
      const parts = line.split('|');
      let error: string | null = null;
      if (parts.length !== 2) error = `line in package didn't contain 2 entries: ${JSON.stringify(line)}`;
      else if (!isPublicKey(parts[0]!, 'A')) error = 'key to merge is not a valid public account key';
      else {
        const r = store.saveIfNewer(parts[0]!, parts[1]!);
        if ('error' in r) error = r.error;
        else if (r.changed) {
          changed = true;
          if (this.storedChange(parts[0]!, parts[1]!)) applied.push(parts[0]!);
        }
      }
      if (error !== null) {
        this.core.log.error(`DirResolver - Merging resulted in error: ${error}`);
        break;
      }
    }
    if (changed) this.accountsChanged();
    for (const pub of applied) this.recheckClients(pub);
  }

  /**
   * DirJWTStore's `changed` callback: a new JWT of an account in use (the bootstrapping system
   * account too) is applied to it. True when applied: the caller re-checks the account's
   * clients once the accounts are recomputed.
   */
  private storedChange(pub: string, jwt: string): boolean {
    const jwts = this.core.accountJwts;
    if (jwts === null) return false;
    const wasBootstrap = jwts.bootstrapping && pub === this.mode.systemAccount;
    if (!jwts.apply(pub, jwt)) return false;
    if (wasBootstrap) this.systemAccountFetched();
    return true;
  }

  /**
   * The account the CONNECT of one of its users needs, from the other servers (DirAccResolver.Fetch
   * after LoadAcc found no file). Resolves when it is stored, or the lookup failed or timed out.
   */
  fetchAccount(name: string): Promise<void> {
    const inFlight = this.fetching.get(name);
    if (inFlight !== undefined) return inFlight;
    const p = this.lookupRemote(name).then((jwt) => {
      this.fetching.delete(name);
      // Closed for a reload (a new service took over): the lookup is made again there, as
      // nats-server's reload looks the waiting client's account up again.
      const next = this.core.accountFetcher;
      if (jwt === null && this.client.closed && next !== null && next !== this.fetcher) return next(name);
    });
    this.fetching.set(name, p);
    return p;
  }

  /** Server.fetch: one lookup request, the answers counted as 2.10 does; the JWT stored (saveIfNewer). */
  private lookupRemote(name: string): Promise<string | null> {
    const store = this.core.accountJwts?.store ?? null;
    if (store === null || this.client.closed || !isPublicKey(name, 'A')) return Promise.resolve(null);
    return new Promise((resolve) => {
      const reply = `${this.inbox}${++this.nextReply}`;
      const settle = (jwt: string | null): void => {
        if (!this.fetches.delete(reply)) return;
        clearTimeout(timer);
        // null: timed out, or the service closed.
        if (jwt === null) return resolve(null);
        if (jwt === '') return resolve(null);
        const r = store.saveIfNewer(name, jwt);
        if ('error' in r) {
          this.core.log.error(`DirResolver - storing the fetched jwt of ${name} resulted in error: ${r.error}`);
          return resolve(null);
        }
        if (r.changed) {
          const applied = this.storedChange(name, jwt);
          this.accountsChanged();
          if (applied) this.recheckClients(name);
        }
        resolve(jwt);
      };
      const timer = setTimeout(() => {
        this.core.log.debug(`DirResolver - fetching jwt for ${name} timed out`);
        settle(null);
      }, timerDelay(store.cfg.timeoutMs));
      timer.unref();
      this.fetches.set(reply, { account: name, expected: this.host.remoteServers(), timer, settle });
      this.client.publish(`$SYS.REQ.ACCOUNT.${name}.CLAIMS.LOOKUP`, '', { reply });
    });
  }

  /** The bootstrapping system account's ticker: its JWT from the directory, else from the other servers. */
  private async fetchSystemAccount(): Promise<void> {
    const jwts = this.core.accountJwts;
    const sys = this.mode.systemAccount;
    if (jwts === null || jwts.store === null || sys === null || !jwts.bootstrapping) {
      // Not bootstrapping any more (a reload read the directory again): nothing to fetch.
      if (this.bootstrapTimer !== null) clearInterval(this.bootstrapTimer);
      this.bootstrapTimer = null;
      return;
    }
    // nats-server's ticker waits for each fetch: one lookup at a time.
    if (this.fetchingSystem) return;
    this.fetchingSystem = true;
    const jwt = jwts.store.peek(sys) ?? (await this.lookupRemote(sys));
    this.fetchingSystem = false;
    if (jwt === null || !jwts.bootstrapping) return;
    if (jwts.adoptSystemAccount(jwt)) {
      this.systemAccountFetched();
      this.accountsChanged();
      this.recheckClients(sys);
    }
  }

  private systemAccountFetched(): void {
    if (this.bootstrapTimer === null) return;
    clearInterval(this.bootstrapTimer);
    this.bootstrapTimer = null;
    this.core.log.info('System account fetched and updated');
  }

  // ---- Updates ----------------------------------------------------------------------------------

  /** `$SYS.REQ.ACCOUNT.<acc>.CLAIMS.UPDATE` (6 tokens) and `$SYS.ACCOUNT.<acc>.CLAIMS.UPDATE` (5). */
  private onSubjectUpdate(m: InternalMessage, type: 'full' | 'cache' | 'memory'): void {
    const tk = m.subject.split('.');
    const pub = tk.length === 6 ? tk[3]! : tk.length === 5 ? tk[2]! : null;
    if (pub === null) return;
    const body = m.data.toString('utf8');
    if (type === 'memory') return this.respond(m.reply, pub, this.memoryUpdate(pub, body));
    const cache = type === 'cache';
    const failed = cache ? 'jwt update cache resulted in error' : 'jwt update resulted in error';
    const d = decodeAccountJwt(body);
    if (!d.ok) return this.respond(m.reply, cache ? pub : 'n/a', { ok: false, message: failed, error: d.error });
    const claim = d.claims;
    if (!cache) {
      const invalid = this.invalid(claim);
      if (invalid !== null) return this.respond(m.reply, claim.sub, { ok: false, message: 'jwt validation failed', error: invalid });
    }
    if (claim.sub !== pub) return this.respond(m.reply, pub, { ok: false, message: failed, error: 'subject does not match jwt content' });
    if (claim.iss === this.operatorKey && this.strict) return this.respond(m.reply, pub, { ok: false, message: failed, error: 'operator requires issuer to be a signing key' });
    this.respond(m.reply, pub, this.store(pub, body, claim, cache));
  }

  /** `$SYS.REQ.CLAIMS.UPDATE`: the account is the JWT's subject. */
  private onUpdate(m: InternalMessage, type: 'full' | 'cache'): void {
    const body = m.data.toString('utf8');
    const cache = type === 'cache';
    const failed = cache ? 'jwt update cache resulted in error' : 'jwt update resulted in error';
    const d = decodeAccountJwt(body);
    if (!d.ok) return this.respond(m.reply, 'n/a', { ok: false, message: failed, error: d.error });
    const claim = d.claims;
    if (claim.iss === this.operatorKey && this.strict) return this.respond(m.reply, claim.sub, { ok: false, message: failed, error: 'operator requires issuer to be a signing key' });
    if (!cache) {
      const invalid = this.invalid(claim);
      if (invalid !== null) return this.respond(m.reply, claim.sub, { ok: false, message: 'jwt validation failed', error: invalid });
    }
    this.respond(m.reply, claim.sub, this.store(claim.sub, body, claim, cache));
  }

  /** The cache's remaining checks, then the store and the running account. */
  private store(pub: string, jwt: string, claim: AccountClaims, cache: boolean): Outcome {
    const jwts = this.core.accountJwts;
    const store = jwts?.store ?? null;
    if (jwts === null || store === null) return { ok: false, message: 'jwt update resulted in error', error: 'no account resolver' };
    if (cache) {
      if (!jwts.isLoaded(pub)) return { ok: true, message: 'jwt update cache skipped' };
      const invalid = this.invalid(claim);
      if (invalid !== null) return { ok: false, message: 'jwt update cache validation failed', error: invalid };
    }
    const saved = store.save(pub, jwt);
    if ('error' in saved) return { ok: false, message: cache ? 'jwt update cache resulted in error' : 'jwt update resulted in error', error: saved.error };
    // A change: applied to the account in use; a new account may bring JetStream.
    if (saved.changed) {
      const applied = this.storedChange(pub, jwt);
      this.accountsChanged();
      if (applied) this.recheckClients(pub);
    }
    return { ok: true, message: cache ? 'jwt updated cache' : 'jwt updated' };
  }

  /** events.go accountClaimUpdate (MEMORY): applied to an account in use, else skipped. */
  private memoryUpdate(pub: string, body: string): Outcome {
    if (body.length === 0) return { ok: false, message: 'jwt update error', error: 'request body is empty' };
    const d = decodeAccountJwt(body);
    if (!d.ok) return { ok: false, message: 'jwt update resulted in error', error: d.error };
    if (d.claims.sub !== pub) return { ok: false, message: 'jwt update resulted in error', error: 'subject does not match jwt content' };
    const jwts = this.core.accountJwts;
    if (jwts === null || !jwts.isLoaded(pub)) return { ok: true, message: 'jwt update skipped' };
    // updateAccountWithClaimJWT: the issuer must be trusted (verifyAccountClaims).
    if (!this.mode.trustedKeys.includes(d.claims.iss)) return { ok: false, message: 'jwt update resulted in error', error: 'account validation failed' };
    if (jwts.apply(pub, body)) {
      this.accountsChanged();
      this.recheckClients(pub);
    }
    return { ok: true, message: 'jwt updated' };
  }

  /** accounts.go claimValidate: the blocking problems without the time checks, as Go prints them. */
  private invalid(claim: AccountClaims): string | null {
    const problems = validateClaims(claim, 0).filter((p) => !p.startsWith('claim is'));
    return problems.length === 0 ? null : `validation errors: [${problems.join(' ')}]`;
  }

  // ---- Lookup, pack, list, delete ----------------------------------------------------------------

  /** The stored JWT; an empty answer when there is none (2.10; 2.9 did not answer). */
  private onLookup(m: InternalMessage): void {
    if (m.reply === '') return;
    const tk = m.subject.split('.');
    if (tk.length !== 6) return;
    const store = this.core.accountJwts?.store ?? null;
    if (store === null || store.path(tk[3]!) === null) return;
    this.client.reply(m.reply, store.load(tk[3]!) ?? '');
  }

  /** The other server's store hash in the body: the same, one empty answer; else every JWT, then an empty one. */
  private onPack(m: InternalMessage): void {
    if (m.reply === '') return;
    const store = this.core.accountJwts?.store ?? null;
    if (store === null) return;
    if (!store.hash().equals(m.data)) for (const line of store.pack()) this.client.reply(m.reply, line);
    this.client.reply(m.reply, '');
  }

  private onList(m: InternalMessage): void {
    if (m.reply === '') return;
    const store = this.core.accountJwts?.store ?? null;
    if (store === null) return;
    const ids = store.pack().map((line) => line.slice(0, line.indexOf('|')));
    this.client.reply(m.reply, goJson({ data: ids, server: this.host.serverBlock() }, false));
  }

  /** handleDeleteRequest: a generic JWT, self-signed by a key of the operator, listing `accounts`. */
  private onDelete(m: InternalMessage): void {
    const jwts = this.core.accountJwts;
    const store = jwts?.store ?? null;
    if (jwts === null || store === null) return;
    const g = decodeGenericJwt(m.data.toString('utf8'));
    let subj = '';
    let error: string | null = null;
    let accounts: string[] = [];
    if (!g.ok) error = g.error;
    else {
      subj = g.claims.sub;
      const list = g.claims.data.accounts;
      if (store.cfg.delete === 'none') error = 'delete must be enabled in server config';
      else if (subj !== g.claims.iss) error = 'not self signed';
      else if (!this.deleteKeys.has(g.claims.iss)) error = 'not trusted';
      else if (!Array.isArray(list)) error = 'malformed request';
      else {
        for (const entry of list as unknown[]) {
          if (typeof entry !== 'string' || !isPublicKey(entry, 'A')) {
            error = 'malformed request';
            break;
          }
          if (entry === this.mode.systemAccount) {
            error = 'not allowed to delete system account';
            break;
          }
        }
        accounts = list as string[];
      }
    }
    if (error !== null) return this.respond(m.reply, '', { ok: false, message: `delete accounts request by ${subj} failed`, error });
    const errs: string[] = [];
    let removed = false;
    for (const acc of accounts) {
      // dirstore.delete: a file already gone is no error, and calls no removal callback.
      const existed = store.peek(acc) !== null;
      const e = store.delete(acc);
      if (e !== null) {
        errs.push(e);
        continue;
      }
      if (existed) {
        removed = this.removeAccount(acc) || removed;
        // removeCb: the account's JetStream is disabled (its streams stopped, their files kept).
        this.host.accountRemoved(acc);
      }
    }
    if (removed) this.accountsChanged();
    const passed = accounts.length - errs.length;
    this.respond(m.reply, '', errs.length === 0
      ? { ok: true, message: `deleted ${passed} accounts` }
      : { ok: false, message: `deleted ${passed} accounts, failed for ${errs.length}`, error: errs.join('\n') });
  }

  /**
   * accounts.go UpdateAccountClaims, for the clients of the updated account: beyond the new
   * connection limit the oldest are closed (the newest kept), the others re-checked
   * (Client.accountUpdated: revocations, bearer tokens, limits, expiry).
   */
  private recheckClients(pub: string): void {
    const jwt = this.core.accountJwts?.lookup(pub);
    const d = decodeAccountJwt(typeof jwt === 'string' ? jwt : '');
    if (!d.ok) return;
    const max = d.claims.nats.limits.conn;
    const clients = [...this.core.clients.values()].filter((c) => c.account.name === pub && c.connectReceived && !c.closed);
    if (max !== -1 && clients.length > max) clients.sort((a, b) => b.cid - a.cid);
    let count = 0;
    for (const c of clients) {
      if (max !== -1 && count >= max) {
        c.sendErrAndClose(ERR.MaxAccountConnections, CloseReason.MaxAccountConnections);
        continue;
      }
      count++;
      c.accountUpdated();
    }
    this.core.flushAll();
  }

  /** accounts.go removeCb: the account is no longer in use; its clients' accounts expired. */
  private removeAccount(pub: string): boolean {
    const was = this.core.accountJwts?.remove(pub) ?? false;
    for (const c of [...this.core.clients.values()]) {
      if (c.account.name === pub && !c.closed) c.sendErrAndClose(ERR.AccountAuthExpired, CloseReason.AuthExpired);
    }
    return was;
  }

  // ---- Answers ----------------------------------------------------------------------------------

  /** The accounts' names, JetStream, exports and imports from the JWTs now in force; the clients re-checked. */
  private accountsChanged(): void {
    const jwts = this.core.accountJwts;
    if (jwts === null) return;
    const o = this.core.options;
    const all = jwts.all();
    // The exports and imports too (updateAccountClaimsWithRefresh): a withdrawn export or a
    // revoked activation cuts the importer off, a new one wires it.
    this.host.apply({ ...o, ...operatorAccounts(this.mode, all), accountLinks: jwtAccountLinks(this.mode, Math.floor(Date.now() / 1000), all) });
  }

  /** accounts.go respondToUpdate. */
  private respond(reply: string, account: string, r: Outcome): void {
    if (r.ok) this.core.log.debug(account === '' ? r.message : `${r.message} - ${account}`);
    else this.core.log.error(account === '' ? `${r.message} - ${r.error}` : `${r.message} - ${account} - ${r.error}`);
    if (reply === '') return;
    const m: Record<string, unknown> = account === '' ? {} : { account };
    const body = r.ok
      ? { data: { ...m, code: 200, message: r.message }, server: this.host.serverBlock() }
      : { error: { ...m, code: 500, description: `${r.message} - ${r.error}` }, server: this.host.serverBlock() };
    this.client.reply(reply, goJson(body, false));
  }
}
