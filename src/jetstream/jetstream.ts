/**
 * The JetStream engine of one server: which accounts have JetStream, their streams, where file
 * streams live, and the API services — nats-server's `jetStream` and `jsAccount`
 * (server/jetstream.go, v2.10.29), built on the broker's internal clients.
 *
 * Each account gets an API client subscribed to `$JS.API.>` (and `$JS.<domain>.API.>` with a
 * domain) in that account — where nats-server routes the account's requests through a service
 * import to its system account; to clients the two are the same subjects with the same answers.
 * Each stream gets an internal client of its own, subscribed to the stream's subjects.
 *
 * Which accounts have JetStream (nats-server's enableJetStreamAccounts / configJetStream):
 * without configured accounts, the global account `$G`; with configured accounts, those whose
 * `jetstream` says so, with their limits — never the system account `$SYS`. The others answer
 * the API with "JetStream not enabled for account" (10039). A reload enables, disables and
 * re-limits accounts the same way (see {@link JetStream.configure}).
 *
 * File streams live under `<storeDir>/jetstream/<account>/streams/<stream>/`, as nats-server
 * lays them out: `meta.json` (the config and the creation time) and the store's files.
 * Enabling an account (at start, or by a reload) recovers its streams found there.
 *
 * Longer than ~500 lines: the engine and its accounts are one unit (each calls the other);
 * the limit arithmetic lives in limits.ts.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Account } from '../broker/account.js';
import type { BrokerCore } from '../broker/core.js';
import type { InternalClient } from '../broker/internal.js';
import type { ResolvedAccountJetStream, ResolvedJetStream, ResolvedOptions } from '../config/options.js';
import { ConfigError } from '../errors.js';
import { handleApiRequest, type ApiAccount } from './api.js';
import { UNLIMITED, type JsAccountLimits, type JsUsage } from './types.js';
import { encodeStreamConfig, type StreamConfig, type StreamConfigRequest } from './stream-config.js';
import {
  apiErrorText, checkLimits, limitsDelta, sufficientResources, tieredReservation, wouldExceedLimits, type ServerResources,
} from './limits.js';
import { fileMsgSize, memoryMsgSize } from './store/store.js';
import { StreamSourcing } from './sourcing.js';
import { INTERNAL_REPLY_PREFIX } from './sourcing-wire.js';
import { Stream, storeLimits, type StreamHost } from './stream.js';
import { Consumer, type ConsumerHost } from './consumer.js';
import { checkInterestState, cleanupAfterConsumerDelete, hasConsumerInterest, streamAck } from './interest.js';
import { CONSUMER_CONFIG_SCHEMA, encodeConsumerConfig, type ConsumerConfig } from './consumer-config.js';
import { ConsumerFileStore, readConsumerMeta, writeConsumerMeta } from './consumer-store.js';
import type { ConsumerSnapshot } from './consumer-state.js';
import { decodeGoValue } from '../protocol/go-json.js';
import { MemoryStore } from './store/memory.js';
import { FileStore } from './store/file.js';
import type { StreamStore } from './store/store.js';
import { decodeStreamConfig } from './stream-config.js';
import { subjectToText } from '../protocol/text.js';
import { apiErrorResponse, jsError, type ApiError } from './errors.js';
import { newNuid } from '../broker/ids.js';
import { goJson, rfc3339Nano } from '../protocol/go-format.js';
import { JsCluster, type ClusterEngine } from './cluster/meta.js';

/** What the stream file holds besides the messages. */
interface StreamMeta {
  readonly config: StreamConfig;
  /** ms since the epoch. */
  readonly created: number;
}

/** Whether a consumer of `stream` keeps its config and state on disk (nats-server: a file stream's consumer without `mem_storage`). */
function persisted(stream: Stream, cfg: ConsumerConfig): boolean {
  // A mirror's or source's consumer (`direct`) has no store in nats-server: never kept.
  return stream.cfg.storage === 'file' && !cfg.mem_storage && !cfg.direct;
}

/** The global account, and the account nats-server makes its system account by default. */
const GLOBAL_ACCOUNT = '$G';
const SYSTEM_ACCOUNT = '$SYS';

/** Limits from the options into nats-server's JetStreamAccountLimits (its JSON names). */
function accountLimits(r: ResolvedAccountJetStream): JsAccountLimits {
  return {
    max_memory: r.maxMemory, max_storage: r.maxStore, max_streams: r.maxStreams, max_consumers: r.maxConsumers,
    max_ack_pending: r.maxAckPending, memory_max_stream_bytes: r.memoryMaxStreamBytes,
    storage_max_stream_bytes: r.storeMaxStreamBytes, max_bytes_required: r.maxBytesRequired,
  };
}

/** Messages logged at most once per interval (nats-server's rate limited logging). */
const RATE_LIMIT_MS = 10_000;

/** `first_seq`: the store starts there (nats-server purges up to it when the store is below it). */
function applyFirstSeq(store: StreamStore, cfg: StreamConfig): void {
  if (cfg.first_seq > 1 && store.state().firstSeq < cfg.first_seq) store.purge('', cfg.first_seq, 0);
}

const BANNER = [
  '    _ ___ _____ ___ _____ ___ ___   _   __  __',
  ' _ | | __|_   _/ __|_   _| _ \\ __| /_\\ |  \\/  |',
  '| || | _|  | | \\__ \\ | | |   / _| / _ \\| |\\/| |',
  ' \\__/|___| |_| |___/ |_| |_|_\\___/_/ \\_\\_|  |_|',
  '',
  '         https://docs.nats.io/jetstream',
  '',
];

/** nats-server's friendlyBytes: `512 B`, `1.00 KB`, `5.83 GB` (powers of 1024). */
export function friendlyBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const exp = Math.min(6, Math.floor(Math.log(n) / Math.log(1024)));
  return `${(n / 1024 ** exp).toFixed(2)} ${'KMGTPE'[exp - 1]}B`;
}

/**
 * One account's JetStream: its streams, limits and API counters — or, while JetStream is not
 * enabled in it, the API's "JetStream not enabled for account" answers.
 */
export class JsAccount implements StreamHost, ApiAccount, ConsumerHost {
  readonly streams = new Map<string, Stream>();
  readonly api = { total: 0, errors: 0 };
  /** false: the account answers "JetStream not enabled for account" (10039). */
  enabled = false;
  limits: JsAccountLimits = UNLIMITED;
  /** nats-server keeps no usage totals for an account before its first stored message (limits then pass). */
  private usageSeen = false;
  private limitLoggedAt = 0;
  private readonly apiClient: InternalClient;
  private tail: Promise<void> = Promise.resolve();
  /** The copying of the streams that mirror or source others (sourcing.ts). */
  private readonly sourcing = new Map<Stream, StreamSourcing>();

  constructor(
    readonly engine: JetStream,
    readonly account: Account,
    /** The system account: it never has JetStream, and nats-server 2.10 answers it differently. */
    readonly system: boolean,
  ) {
    const core = engine.core;
    this.apiClient = core.internalClient(`$JS API ${account.name}`, account);
    if (system) {
      this.apiClient.subscribe('$JS.API.>', (msg) => this.systemRequest(msg.subject, msg.reply, msg.data));
      return;
    }
    this.apiClient.subscribe('$JS.API.>', (msg) => handleApiRequest(this, msg.subject, msg, 8));
    const domain = engine.config.domain;
    if (domain !== null) {
      // `$JS.<domain>.API.x` is `$JS.API.x` (nats-server maps one onto the other) for what
      // client connections send: 2.10.29 applies account mappings to CLIENT and LEAF
      // connections only, so the requests of its own internal clients on the domain subject (a
      // mirror or source with the server's own domain as `external.api`) stay unanswered.
      // Those are the requests with nats-server's internal reply subject `$JSC.R.<id>`.
      const skip = 9 + domain.length;
      this.apiClient.subscribe(`$JS.${domain}.API.>`, (msg) => {
        if (msg.reply.startsWith(INTERNAL_REPLY_PREFIX)) return false;
        return handleApiRequest(this, `$JS.API.${msg.subject.slice(skip)}`, msg, 8);
      });
    }
  }

  get name(): string {
    return this.account.name;
  }

  /** Clustered JetStream (cluster/meta.ts), or null on a single server. */
  get cluster(): JsCluster | null {
    return this.engine.cluster;
  }

  /**
   * A request in the system account, which has no JetStream: nats-server 2.10.29's apiDispatch
   * answers `$JS.API.INFO` as the account info endpoint does and any other API subject with a
   * system response (2.9 answered only INFO). Neither is counted.
   */
  private systemRequest(subject: string, reply: string, body: Buffer): void {
    // The meta-level requests only the system account may make (2.10.29 systemSubscribe's them
    // in the cluster, apiDispatch ignores them and `$JS.API.ACCOUNT.` ones): the meta leader
    // answers; a single server does not.
    if (subject === '$JS.API.META.LEADER.STEPDOWN' || subject === '$JS.API.SERVER.REMOVE') {
      const cluster = this.engine.cluster;
      const data = body.length === 0 ? body : Buffer.from(body);
      if (cluster === null) return;
      if (subject === '$JS.API.SERVER.REMOVE') cluster.serverRemove(this, reply, subject, data);
      else cluster.metaStepdown(this, reply, subject, data);
      return;
    }
    if (reply === '' || subject.startsWith('$JS.API.ACCOUNT.')) return;
    const kind = subject === '$JS.API.INFO' ? 'account_info' : 'system';
    this.apiClient.reply(reply, apiErrorResponse(kind, jsError('JSNotEnabledForAccountErr')));
  }

  /** Turns JetStream on with `limits` and recovers the account's file streams (before the requests after it). */
  enable(limits: JsAccountLimits): void {
    this.enabled = true;
    this.limits = limits;
    this.usageSeen = false;
    // A new jsAccount in nats-server: its API counters start again (the server's go on).
    this.api.total = 0;
    this.api.errors = 0;
    // Clustered: the streams come back from the meta group's log, their messages from theirs.
    if (this.engine.cluster === null) this.serialize(() => this.engine.recoverAccount(this));
  }

  /**
   * Turns JetStream off (nats-server's DisableJetStream): the streams stop, file streams keep
   * their data on disk for a later enable, memory streams are gone.
   */
  disable(): void {
    this.enabled = false;
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const s of streams) {
      this.stopSourcing(s);
      this.closeConsumerStores(s);
      s.close();
    }
    this.serialize(async () => {
      await Promise.all(streams.map((s) => s.store.stop()));
    });
  }

  get domain(): string | null {
    return this.engine.config.domain;
  }

  serverName(): string {
    return this.engine.serverName();
  }

  // ---- Limits ----------------------------------------------------------------------------------

  /**
   * jsNonClusteredStreamLimitsCheck, on a create request as decoded: `max_streams` (10027; a
   * stream of the same name does not count), then the account's and the server's limits.
   */
  checkRequestLimits(request: StreamConfigRequest): ApiError | undefined {
    const l = this.limits;
    if (l.max_streams > 0) {
      let n = 0;
      for (const name of this.streams.keys()) if (name !== request.name) n++;
      if (n >= l.max_streams) return jsError('JSMaximumStreamsLimitErr');
    }
    return checkLimits(l, request, this.engine.resources(), tieredReservation(this.configs(), request), 0);
  }

  /**
   * checkAllLimits on a filled config: on create (`current` undefined) all of its `max_bytes`;
   * on update only what it adds to `current`'s, on top of what `current` reserves.
   */
  checkLimits(cfg: StreamConfig, current?: StreamConfig): ApiError | undefined {
    const reserved = tieredReservation(this.configs(), cfg);
    if (current === undefined) return checkLimits(this.limits, cfg, this.engine.resources(), reserved, 0);
    const added = Math.max(0, cfg.max_bytes - current.max_bytes);
    const old = current.num_replicas > 1 ? current.max_bytes * current.num_replicas : current.max_bytes;
    return checkLimits(this.limits, { ...cfg, max_bytes: added }, this.engine.resources(), reserved + old, 0);
  }

  /** maxBytesLimits: whether streams must set `max_bytes`, and the most a stream of the config's storage may set (0 = no limit). */
  streamBytesLimits(cfg: StreamConfig): { required: boolean; limit: number } {
    const l = this.limits;
    return { required: l.max_bytes_required, limit: cfg.storage === 'memory' ? l.memory_max_stream_bytes : l.storage_max_stream_bytes };
  }

  private *configs(): Iterable<StreamConfig> {
    for (const s of this.streams.values()) yield s.cfg;
  }

  /** Bytes the account's streams of one storage hold (the account's usage total). */
  storedBytes(memory: boolean): number {
    let n = 0;
    for (const s of this.streams.values()) if ((s.cfg.storage === 'memory') === memory) n += s.store.storedBytes();
    return n;
  }

  advisory(event: string, stream: string, action: 'create' | 'modify' | 'delete'): void {
    this.engine.advisory(this, event, stream, action);
  }

  countApi(error: boolean): void {
    // An account without JetStream has no counters (nats-server's trackAPI needs its jsAccount).
    if (this.enabled) this.engine.countApi(this, error);
  }

  internalError(err: unknown, what: string): void {
    this.engine.core.internalError(err, what);
  }

  /**
   * Publishes an API reply (or an advisory) in this account, as a subject published once: its
   * match result is not cached.
   */
  reply(subject: string, data: string | Buffer, headers: Buffer | null = null): void {
    this.apiClient.reply(subject, data, headers);
  }

  // ---- StreamHost -----------------------------------------------------------------------------

  consumerInterest(stream: Stream, subject: string): boolean {
    // Clustered: the replicated consumers decide, so that every replica stores the same.
    if (stream.replica !== null) return stream.replica.hasConsumerInterest(subject);
    return hasConsumerInterest(stream, subject);
  }

  stored(stream: Stream, seq: number, subject: string): void {
    this.usageSeen = true;
    if (stream.consumers.size > 0) for (const c of stream.consumers.values()) c.stored(seq, subject);
  }

  // ---- Consumers ------------------------------------------------------------------------------

  /** The stores of the consumers kept on disk (file streams, not `mem_storage`). */
  private readonly consumerStores = new WeakMap<Consumer, ConsumerFileStore>();

  /**
   * Creates a (checked) consumer, pull or push, on `stream`. On a file stream (unless `mem_storage`, as
   * nats-server's consumerMemStore) its config and state are kept in the stream's directory
   * (consumer-store.ts) and it is recovered after a restart, durable or ephemeral.
   */
  addConsumer(stream: Stream, name: string, cfg: ConsumerConfig): Consumer {
    const c = this.newConsumer(stream, name, cfg, Date.now());
    // Clustered: the stream's log keeps the consumer and its state (cluster/stream-replica.ts).
    if (stream.replica !== null) {
      this.engine.cluster?.consumerStarted(this, stream, c);
      return c;
    }
    if (persisted(stream, cfg)) {
      const dir = this.engine.consumerDir(this.name, stream.name, name);
      // A leftover of a consumer deleted while the process died: start clean.
      rmSync(dir, { recursive: true, force: true });
      writeConsumerMeta(dir, { created: c.created, startSeq: c.state.deliveredStreamSeq + 1, config: encodeConsumerConfig(cfg) });
      this.attachStore(c, new ConsumerFileStore(dir, this.engine.consumerWriteBehind));
    }
    return c;
  }

  /**
   * Clustered: a replicated consumer started on its stream's new leader, with the state its
   * log holds (null: where it started). Throws on a state that does not restore.
   */
  resumeConsumer(stream: Stream, name: string, cfg: ConsumerConfig, created: number, state: ConsumerSnapshot | null): Consumer {
    const c = this.newConsumer(stream, name, cfg, created);
    try {
      if (state !== null) c.state.restore(state);
    } catch (err) {
      stream.consumers.delete(name);
      c.close();
      throw err;
    }
    c.resume();
    this.engine.cluster?.consumerStarted(this, stream, c);
    return c;
  }

  private newConsumer(stream: Stream, name: string, cfg: ConsumerConfig, created: number): Consumer {
    const client = this.engine.core.internalClient(`$JS consumer ${this.name} > ${stream.name} > ${name}`, this.account);
    const domain = this.domain;
    const prefixes = domain === null ? ['$JS.API'] : ['$JS.API', `$JS.${domain}.API`];
    const c = new Consumer(stream.name, name, cfg, created, stream.cfg, stream.store, client, this, prefixes, this.engine.core.options.maxPayload);
    stream.consumers.set(name, c);
    return c;
  }

  private attachStore(c: Consumer, store: ConsumerFileStore): void {
    store.attach(c.state);
    this.consumerStores.set(c, store);
  }

  /** A consumer's config changed (an update): its meta file follows. */
  consumerConfigChanged(stream: Stream, c: Consumer): void {
    const store = this.consumerStores.get(c);
    if (store === undefined) return;
    const meta = readConsumerMeta(store.dir);
    writeConsumerMeta(store.dir, { created: meta.created, startSeq: meta.startSeq, config: encodeConsumerConfig(c.cfg) });
  }

  /**
   * A consumer read back from its directory (recovery; nats-server's addConsumerWithAssignment
   * with the stored config, then setCreatedTime). Its state: the newest whole state file; with
   * none usable, where it started (see consumer-store.ts), counted as an internal error.
   */
  recoverConsumer(stream: Stream, name: string, dir: string): Consumer {
    const meta = readConsumerMeta(dir);
    const decoded = decodeGoValue(meta.config, CONSUMER_CONFIG_SCHEMA);
    if (decoded === null) throw new Error('meta.json holds no valid consumer config');
    const cfg = decoded.value as ConsumerConfig;
    const store = new ConsumerFileStore(dir, this.engine.consumerWriteBehind);
    const loaded = store.load();
    const c = this.newConsumer(stream, name, cfg, meta.created);
    const fresh: ConsumerSnapshot = {
      deliveredConsumer: 0, deliveredStream: meta.startSeq - 1, ackFloorConsumer: 0, ackFloorStream: meta.startSeq - 1,
      pending: new Float64Array(0), redelivered: new Float64Array(0), redeliveryQueue: new Float64Array(0),
    };
    let why = loaded.bad.length > 0 ? `torn or corrupt state file ${loaded.bad.join(', ')}` : '';
    try {
      // Without a usable state, a last_per_subject consumer keeps the skip list its constructor
      // built (nats-server builds it when there is no stored state); others start where they did.
      if (loaded.state !== null) c.state.restore(loaded.state);
      else if (cfg.deliver_policy !== 'last_per_subject') c.state.restore(fresh);
    } catch (err) {
      why = `${why === '' ? '' : `${why}; `}${err instanceof Error ? err.message : String(err)}`;
      try {
        c.state.restore(fresh);
      } catch (err2) {
        // Not even its start can be restored: the half-made consumer must not keep running.
        stream.consumers.delete(name);
        c.close();
        throw err2;
      }
    }
    if (why !== '') {
      const what = `consumer '${this.name} > ${stream.name} > ${name}' state (${why}): ${loaded.state === null ? 'starting over at its first sequence' : 'using the older state file'}`;
      this.engine.core.log.warn(`JetStream recovering ${what}`);
      this.internalError(new Error(why), `recovering ${what}`);
    }
    this.attachStore(c, store);
    c.resume();
    return c;
  }

  deleteConsumer(stream: Stream, c: Consumer): void {
    if (stream.consumers.get(c.name) !== c) return void c.close(true);
    stream.consumers.delete(c.name);
    c.close(true);
    this.consumerStores.get(c)?.delete();
    // Interest retention: what only this consumer still needed goes (decided by a clustered
    // stream's leader only).
    if (stream.replica === null || stream.replica.isLeader) cleanupAfterConsumerDelete(stream, c.state);
  }

  streamAck(c: Consumer, seq: number): void {
    const stream = this.streams.get(c.stream);
    if (stream === undefined || stream.consumers.get(c.name) !== c) return;
    // A consumer with a Raft group of its own: its stream's leader lets the message go once the
    // group's state holding the ack is committed (cluster/consumers.ts).
    if (stream.replica !== null && this.engine.cluster?.consumerStreamAck(stream, c, seq) === true) return;
    streamAck(stream, c.state, seq);
  }

  /** The stream stops (server stop, JetStream disabled): its consumers' last states are written. */
  private closeConsumerStores(stream: Stream): void {
    for (const c of stream.consumers.values()) {
      try {
        this.consumerStores.get(c)?.close();
      } catch (err) {
        this.engine.core.log.error(`JetStream failed to write consumer '${this.name} > ${stream.name} > ${c.name}' state: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  hasInterest(subject: string): boolean {
    const r = this.account.sublist.match(subject);
    if (r.psubs.length > 0 || r.qsubs.length > 0) return true;
    // Interest in another cluster counts (consumer.go: the gateways' interest, a tracked `_GR_.` reply).
    return this.gatewayInterest(subject);
  }

  gatewayInterest(subject: string): boolean {
    const gw = this.engine.core.gateway;
    return gw !== null && gw.remoteInterest(this.account, subject);
  }

  inactive(c: Consumer): void {
    const stream = this.streams.get(c.stream);
    if (stream === undefined) return;
    // Clustered, a replicated consumer goes through its stream's log.
    if (stream.replica !== null && this.engine.cluster?.consumerInactive(stream, c) === true) return;
    this.serialize(() => {
      if (stream.consumers.get(c.name) !== c) return;
      this.deleteConsumer(stream, c);
      this.consumerAdvisory('CONSUMER.DELETED', stream.name, c.name, 'delete');
    });
  }

  consumerAdvisory(event: string, stream: string, consumer: string, action: 'create' | 'delete'): void {
    this.engine.consumerAdvisory(this, event, stream, consumer, action);
  }

  /**
   * sendJetStreamAPIAuditAdvisory: `$JS.EVENT.ADVISORY.API` (`io.nats.jetstream.advisory.v1.api_audit`)
   * for an answered API request, only when someone in the account listens. `client` is what
   * nats-server's service import gives a non-shared request: the account, the requester's RTT
   * (here: of the client subscribed to the reply subject; left out, as Go's omitempty does, when
   * unknown) and the server (and cluster name, when configured).
   */
  apiAudit(subject: string, reply: string, request: Buffer, response: string): void {
    const adv = '$JS.EVENT.ADVISORY.API';
    if (!this.hasInterest(adv)) return;
    let rtt = 0;
    if (reply !== '') {
      const clients = this.engine.core.clients;
      for (const sub of this.account.sublist.match(reply).psubs) {
        if (sub.remote) continue;
        const c = clients.get(sub.client.cid);
        if (c !== undefined) {
          rtt = c.rttNs;
          break;
        }
      }
    }
    const server = goJson(this.serverName(), false);
    const cluster = this.engine.core.options.cluster?.name ?? null;
    const domain = this.domain;
    const body = `{"type":"io.nats.jetstream.advisory.v1.api_audit","id":${goJson(newNuid(), false)},`
      + `"timestamp":${goJson(rfc3339Nano(Date.now()), false)},"server":${server},`
      + `"client":{"acc":${goJson(this.name, false)}${rtt > 0 ? `,"rtt":${rtt}` : ''},"server":${server}${cluster === null ? '' : `,"cluster":${goJson(cluster, false)}`}},`
      + `"subject":${goJson(subjectToText(subject), false)}${request.length === 0 ? '' : `,"request":${goJson(request.toString('utf8'), false)}`},`
      + `"response":${goJson(response, false)}${domain === null ? '' : `,"domain":${goJson(domain, false)}`}}`;
    this.apiClient.publish(adv, body);
  }

  advise(subject: string, body: (domain: string | null) => string): void {
    // nats-server's sendAdvisory: no listener, no JSON and no message.
    if (this.hasInterest(subject)) this.apiClient.publish(subject, body(this.domain));
  }

  serverLimitExceeded(stream: Stream): boolean {
    return this.engine.serverLimitExceeded(stream.cfg.storage === 'memory');
  }

  accountLimitExceeded(stream: Stream, subject: string, hdr: Buffer | null, data: Buffer): boolean {
    if (!this.usageSeen) return false;
    const l = this.limits;
    const memory = stream.cfg.storage === 'memory';
    if ((memory ? l.max_memory : l.max_storage) < 0 && (memory ? l.memory_max_stream_bytes : l.storage_max_stream_bytes) <= 0) return false;
    const size = memory ? memoryMsgSize(subject, hdr, data) : fileMsgSize(subject, hdr, data);
    if (!wouldExceedLimits(l, memory, this.storedBytes(memory), size * Math.max(1, stream.cfg.num_replicas))) return false;
    const now = Date.now();
    if (now - this.limitLoggedAt >= RATE_LIMIT_MS) {
      this.limitLoggedAt = now;
      this.engine.core.log.warn(`JetStream resource limits exceeded for account: "${this.name}"`);
    }
    return true;
  }

  storeFailed(stream: Stream, err: unknown): void {
    this.engine.core.log.error(`JetStream failed to store a msg on stream '${this.name} > ${stream.name}': ${String(err)}`);
  }

  // ---- Streams --------------------------------------------------------------------------------

  /**
   * Runs API requests one at a time, in arrival order: a request that waits for the disk (a
   * file stream's creation) finishes before the next one looks at the streams.
   */
  serialize(task: () => void | Promise<void>): void {
    this.tail = this.tail.then(task).catch((err: unknown) => this.internalError(err, `JetStream API of account ${this.name}`));
  }

  /** Settles once the requests queued so far are done. */
  idle(): Promise<void> {
    return this.tail;
  }

  /** Creates a stream with a checked config; file streams get their directory and meta file. */
  async addStream(cfg: StreamConfig, created = Date.now()): Promise<Stream> {
    const store = await this.engine.openStore(this.name, cfg, created);
    const client = this.engine.core.internalClient(`$JS stream ${this.name} > ${cfg.name}`, this.account);
    const stream = new Stream(cfg, created, store, client, this, false);
    this.streams.set(cfg.name, stream);
    // Clustered, the stream's leader copies (cluster/meta.ts leaderChanged).
    if (this.engine.cluster === null) this.startSourcing(stream);
    return stream;
  }

  /**
   * Starts copying into a stream with a mirror or sources (once; recovery starts them after every
   * stream is back). Clustered, only on the stream's leader (nats-server's processInboundMirrorMsg
   * and processInboundSourceMsg cancel their consumer on a non-leader).
   */
  startSourcing(stream: Stream): void {
    if (this.sourcing.has(stream) || this.streams.get(stream.name) !== stream) return;
    if (this.engine.cluster !== null && stream.replica?.isLeader !== true) return;
    const cfg = stream.cfg;
    if (cfg.mirror === undefined && (cfg.sources === undefined || cfg.sources.length === 0)) return;
    const client = this.engine.core.internalClient(`$JS sourcing ${this.name} > ${cfg.name}`, this.account);
    const sourcing = new StreamSourcing(stream, client, {
      domain: this.domain,
      warn: (text) => this.engine.core.log.warn(text),
      internalError: (err, what) => this.internalError(err, what),
      timing: this.engine.config.sourceTiming,
    });
    this.sourcing.set(stream, sourcing);
    sourcing.start();
  }

  /** STREAM.INFO's `mirror` and `sources` of a stream (undefined when it copies nothing). */
  sourcingInfo(stream: Stream): { mirror?: Record<string, unknown>; sources?: Array<Record<string, unknown>> } {
    const s = this.sourcing.get(stream);
    if (s === undefined) return {};
    const now = Date.now();
    return { mirror: s.mirrorInfo(now), sources: s.sourcesInfo(now) };
  }

  /** Stops copying into a stream (deleted, stopped, or no longer its cluster leader). */
  stopSourcing(stream: Stream): void {
    const s = this.sourcing.get(stream);
    if (s === undefined) return;
    this.sourcing.delete(stream);
    s.close();
  }

  /** A stream read back from disk (when the account's JetStream is enabled). */
  recoverStream(meta: StreamMeta, store: StreamStore): Stream {
    const client = this.engine.core.internalClient(`$JS stream ${this.name} > ${meta.config.name}`, this.account);
    const stream = new Stream(meta.config, meta.created, store, client, this, true);
    this.streams.set(meta.config.name, stream);
    // nats-server's store reports its bytes when registered: the account has usage from then on.
    if (store.storedBytes() > 0) this.usageSeen = true;
    return stream;
  }

  /** Applies a checked update: the new config in force and, for a file stream, on disk. */
  updateStream(stream: Stream, cfg: StreamConfig): void {
    stream.update(cfg);
    const sourcing = this.sourcing.get(stream);
    if (sourcing !== undefined) sourcing.update(cfg);
    else this.startSourcing(stream);
    if (cfg.storage === 'file') this.engine.writeMeta(this.name, { config: cfg, created: stream.created });
  }

  async deleteStream(stream: Stream): Promise<void> {
    // The store's purge on delete reports to the account's usage (which then exists).
    this.usageSeen = true;
    this.streams.delete(stream.name);
    this.stopSourcing(stream);
    for (const c of stream.consumers.values()) this.consumerStores.get(c)?.delete();
    stream.close(true);
    await stream.store.delete();
    if (stream.cfg.storage === 'file') this.engine.removeStreamDir(this.name, stream.name);
  }

  usage(): JsUsage {
    const u: JsUsage = { memory: 0, storage: 0, reservedMemory: 0, reservedStorage: 0, streams: 0, consumers: 0, messages: 0, bytes: 0 };
    for (const s of this.streams.values()) {
      const st = s.state();
      u.streams++;
      u.consumers += s.consumers.size;
      u.messages += st.msgs;
      u.bytes += st.bytes;
      if (s.cfg.storage === 'memory') {
        u.memory += st.bytes;
        if (s.cfg.max_bytes > 0) u.reservedMemory += s.cfg.max_bytes * s.cfg.num_replicas;
      } else {
        u.storage += st.bytes;
        if (s.cfg.max_bytes > 0) u.reservedStorage += s.cfg.max_bytes * s.cfg.num_replicas;
      }
    }
    return u;
  }

  /** Stops every stream (stores keep their data on disk) and the API client. */
  async stop(): Promise<void> {
    this.apiClient.close();
    await this.tail;
    const stops: Array<Promise<void>> = [];
    for (const s of this.streams.values()) {
      this.stopSourcing(s);
      this.closeConsumerStores(s);
      s.close();
      stops.push(s.store.stop());
    }
    this.streams.clear();
    await Promise.all(stops);
  }
}

/** The JetStream engine of one running server. */
export class JetStream implements ClusterEngine {
  /** Clustered JetStream, from start() on when `clusterPeers` names two or more servers. */
  cluster: JsCluster | null = null;
  /** Every account of the server: with JetStream enabled or not ({@link enabledAccounts}). */
  readonly accounts = new Map<string, JsAccount>();
  /** Server-wide API counters (`/jsz`). */
  readonly api = { total: 0, errors: 0 };
  private stopped = false;
  private limitLoggedAt = 0;
  /** File stores with records not written yet (write-behind, see {@link flushStores}). */
  private readonly unwritten: FileStore[] = [];
  private flushQueued = false;
  /** Stores whose last flush failed (logged once until one succeeds). */
  private readonly failing = new WeakSet<FileStore>();
  private readonly failingConsumers = new WeakSet<ConsumerFileStore>();
  private readonly flushStoresBound = (): void => this.flushStores();
  private readonly removeFlushHook: () => void;
  /** Consumer stores with a state not written yet (same flushes as {@link unwritten}). */
  private readonly unwrittenConsumers: ConsumerFileStore[] = [];
  /** The consumer stores' write-behind callback: remembers the store until the next flush. */
  readonly consumerWriteBehind = (store: ConsumerFileStore): void => {
    this.unwrittenConsumers.push(store);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushStoresBound);
    }
  };
  /** The file stores' write-behind callback: remembers the store until the next flush. */
  private readonly writeBehind = (store: FileStore): void => {
    this.unwritten.push(store);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushStoresBound);
    }
  };

  constructor(
    readonly core: BrokerCore,
    readonly config: ResolvedJetStream,
    /** The store directory (created on first use when it is a temporary one). */
    private readonly storeDir: () => string,
    /** Whether a store directory exists yet (a temporary one is made on first use). */
    private readonly storeDirExists: () => boolean,
  ) {
    this.removeFlushHook = core.addFlushHook(this.flushStoresBound);
  }

  /**
   * Writes the file stores' pending records: before the core writes to any socket (so a PubAck
   * never leaves before its message is written: in the OS's page cache, surviving a crash of the
   * process), or at the end of the task. One write per store and read chunk instead of one per
   * message. A failed write is logged and retried at the next flush (nats-server's flusher
   * logs too; the message stays in the store's state).
   */
  private flushStores(): void {
    this.flushQueued = false;
    if (this.unwrittenConsumers.length > 0) this.flushConsumers();
    const stores = this.unwritten;
    if (stores.length === 0) return;
    let kept = 0;
    for (let i = 0; i < stores.length; i++) {
      const store = stores[i];
      try {
        store.flushWrites();
        this.failing.delete(store);
      } catch (err) {
        // Kept for the next flush (the store asks again only once it is written); logged once.
        stores[kept++] = store;
        if (!this.failing.has(store)) {
          this.failing.add(store);
          this.core.log.error(`JetStream failed to write to the store in ${store.dir}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    stores.length = kept;
  }

  /**
   * Writes the changed consumer states (consumer-store.ts): with the stores' records, before
   * the core's socket writes, so that a delivery or an ack reply that went out is on disk.
   */
  private flushConsumers(): void {
    const list = this.unwrittenConsumers;
    const now = Date.now();
    let kept = 0;
    for (let i = 0; i < list.length; i++) {
      const store = list[i];
      try {
        store.flush(now);
        this.failingConsumers.delete(store);
      } catch (err) {
        list[kept++] = store;
        if (!this.failingConsumers.has(store)) {
          this.failingConsumers.add(store);
          this.core.log.error(`JetStream failed to write consumer state in ${store.dir}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    list.length = kept;
  }

  /** `<storeDir>/jetstream`, as nats-server lays it out (its `store_dir` on `/jsz` and `/varz`). */
  get root(): string {
    return join(this.storeDir(), 'jetstream');
  }

  /**
   * Enables JetStream in the accounts that have it and recovers their file streams (nats-server's
   * enableJetStreamAccounts at start). Fails as nats-server fails to start: JetStream on the
   * system account, or account limits the server cannot grant (10028 / 10047) — nats-server
   * checks each account against the server's maxima, the limits granted before it and the
   * `max_bytes` of the streams recovered before it.
   */
  async start(): Promise<void> {
    const o = this.core.options;
    const peers = this.config.clusterPeers;
    if (peers !== null && !this.stopped) {
      if (!peers.includes(this.serverName())) {
        throw new ConfigError('jetstream.clusterPeers', `must name this server (${this.serverName()})`);
      }
      this.cluster = new JsCluster(this, { peers, timing: this.config.raftTiming, self: this.serverName(), compaction: this.config.raftCompaction, peerRemoveTimeout: this.config.peerRemoveTimeout });
    }
    const sys = this.systemAccountName();
    if (o.accountJetStream[sys] !== undefined) {
      throw new ConfigError(`accounts.${sys}.jetstream`, 'Not allowed to enable JetStream on the system account');
    }
    for (const account of this.core.accounts.values()) {
      const jsa = new JsAccount(this, account, account.name === sys);
      this.accounts.set(account.name, jsa);
      const limits = this.wantedLimits(jsa, o);
      if (limits === null) continue;
      const err = sufficientResources(limits, this.resources(), this.grantedLimits());
      if (err !== undefined) {
        throw new ConfigError(`accounts.${account.name}.jetstream`, `Can't start JetStream: Error enabling jetstream on configured accounts: ${apiErrorText(err)}`);
      }
      jsa.enable(limits);
      await jsa.idle();
    }
  }

  /**
   * The limits `jsa` should have under options `o`, or null for none: a configured account's
   * `jetstream`; `$G` without configured accounts — and, once it had JetStream, for the rest of
   * the run (nats-server keeps `$G`'s limits across reloads); never the system account.
   */
  private wantedLimits(jsa: JsAccount, o: ResolvedOptions): JsAccountLimits | null {
    if (jsa.system) return null;
    if (jsa.name === GLOBAL_ACCOUNT) {
      // nats-server's globalAccountOnly: the system account does not count as a configured one.
      if (o.accountNames.every((n) => n === this.systemAccountName()) || jsa.enabled) return jsa.enabled ? jsa.limits : UNLIMITED;
      return null;
    }
    const r = o.accountJetStream[jsa.name];
    return r === undefined ? null : accountLimits(r);
  }

  /** The system account's name (the core's; `$SYS` when there is none). */
  private systemAccountName(): string {
    return this.core.systemAccount?.name ?? SYSTEM_ACCOUNT;
  }

  /** The limits of the accounts with JetStream. */
  private *grantedLimits(): Iterable<JsAccountLimits> {
    for (const a of this.accounts.values()) if (a.enabled) yield a.limits;
  }

  /**
   * Applies reloaded options (nats-server's reload: configAllJetStreamAccounts). Each account
   * still configured, and `$G`: JetStream turned on (its streams recovered) or off (its streams
   * stopped, file data kept), or its limits replaced. Accounts the reload removed keep what
   * they had, as nats-server's do. As nats-server, a failure is logged ("Error enabling
   * jetstream on configured accounts: ..."), the reload itself stands, and the accounts after
   * the failing one are left as they were: JetStream on the system account, or limits the
   * server cannot grant (checked as the change of an account's limits).
   */
  configure(o: ResolvedOptions): void {
    if (this.stopped) return;
    const configured = new Set(o.accountNames);
    for (const account of this.core.accounts.values()) {
      if (account.name !== GLOBAL_ACCOUNT && !configured.has(account.name)) continue;
      let jsa = this.accounts.get(account.name);
      if (jsa !== undefined && jsa.account !== account) {
        // An account a reload dropped and a later one configured again is a new Account (its own
        // sublist): the old JetStream account stops (file streams keep their data, recovered
        // by the new one once the old stores are stopped; memory streams are gone).
        const old = jsa;
        jsa = new JsAccount(this, account, account.name === this.systemAccountName());
        jsa.serialize(() => old.stop());
        this.accounts.set(account.name, jsa);
      }
      if (jsa === undefined) {
        jsa = new JsAccount(this, account, account.name === this.systemAccountName());
        this.accounts.set(account.name, jsa);
      }
      const fail = (text: string): void => this.core.log.error(`Error enabling jetstream on configured accounts: ${text}`);
      if (jsa.system) {
        if (o.accountJetStream[account.name] !== undefined) return fail('jetstream can not be enabled on the system account');
        continue;
      }
      const limits = this.wantedLimits(jsa, o);
      if (limits === null) {
        if (jsa.enabled) jsa.disable();
        continue;
      }
      if (jsa.enabled) {
        const err = sufficientResources(limitsDelta(jsa.limits, limits), this.resources(), this.grantedLimits());
        if (err !== undefined) return fail(apiErrorText(err));
        jsa.limits = limits;
      } else {
        const err = sufficientResources(limits, this.resources(), this.grantedLimits());
        if (err !== undefined) return fail(apiErrorText(err));
        jsa.enable(limits);
      }
    }
  }

  /**
   * An account deleted from the account resolver (accounts.go removeCb, jetstream.go
   * disableJetStream): its JetStream is off, its streams stopped with their files kept, until a
   * new JWT of the account turns it on again. `configure` leaves accounts no longer configured
   * alone, so a delete needs this.
   */
  disableAccount(name: string): void {
    const jsa = this.accounts.get(name);
    if (jsa !== undefined && jsa.enabled && !jsa.system) jsa.disable();
  }

  /** The server's maxima and what its streams reserve (`max_bytes`). */
  resources(): ServerResources {
    let memReserved = 0;
    let storeReserved = 0;
    for (const a of this.accounts.values()) {
      for (const s of a.streams.values()) {
        if (s.cfg.max_bytes <= 0) continue;
        if (s.cfg.storage === 'memory') memReserved += s.cfg.max_bytes;
        else storeReserved += s.cfg.max_bytes;
      }
    }
    return { memReserved, storeReserved, maxMemory: this.config.maxMemory, maxStore: this.config.maxStore };
  }

  /**
   * js.limitsExceeded: the server's streams hold more bytes of a storage than its maximum; a
   * publish is then refused with 10023 (and nats-server's error line, at most every 10 s).
   */
  serverLimitExceeded(memory: boolean): boolean {
    let used = 0;
    for (const a of this.accounts.values()) used += a.storedBytes(memory);
    if (used <= (memory ? this.config.maxMemory : this.config.maxStore)) return false;
    const now = Date.now();
    if (now - this.limitLoggedAt >= RATE_LIMIT_MS) {
      this.limitLoggedAt = now;
      this.core.log.error('JetStream resource limits exceeded for server');
    }
    return true;
  }

  /** nats-server's startup lines for JetStream (its banner, limits and store directory). */
  logStartup(storeDir: string): void {
    const log = this.core.log;
    const c = this.config;
    log.info('Starting JetStream');
    for (const line of BANNER) log.info(line);
    log.info('---------------- JETSTREAM ----------------');
    log.info(`  Max Memory:      ${friendlyBytes(c.maxMemory)}`);
    log.info(`  Max Storage:     ${friendlyBytes(c.maxStore)}`);
    log.info(`  Store Directory: "${storeDir}"`);
    if (c.domain !== null) log.info(`  Domain:          ${c.domain}`);
    log.info('-------------------------------------------');
  }

  /** Stops every stream and API client; file stores flush and close. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cluster?.close();
    const all = [...this.accounts.values()];
    this.accounts.clear();
    await Promise.all(all.map((a) => a.stop()));
    this.flushStores();
    this.removeFlushHook();
  }

  /** The account's JetStream when it is enabled (clustered JetStream's assignments). */
  enabledAccount(name: string): JsAccount | undefined {
    const a = this.accounts.get(name);
    return a !== undefined && a.enabled ? a : undefined;
  }

  internalError(err: unknown, what: string): void {
    this.core.internalError(err, what);
  }

  /** The cluster's name ('' outside a cluster). */
  clusterName(): string {
    return this.core.clusterName ?? '';
  }

  /** The server's name as JetStream reports it (the server id when unnamed). */
  serverName(): string {
    return this.core.options.serverName ?? this.core.serverId;
  }

  /** Counts an API request (nats-server's trackAPI / trackAPIErr). */
  countApi(jsa: JsAccount, error: boolean): void {
    jsa.api.total++;
    this.api.total++;
    if (error) {
      jsa.api.errors++;
      this.api.errors++;
    }
  }

  /**
   * A stream action advisory on `$JS.EVENT.ADVISORY.<event>.<stream>` in the account
   * (`io.nats.jetstream.advisory.v1.stream_action`), as nats-server publishes it.
   */
  advisory(jsa: JsAccount, event: string, stream: string, action: 'create' | 'modify' | 'delete'): void {
    // publishAdvisory: nothing is built or sent without a listener.
    if (!jsa.hasInterest(`$JS.EVENT.ADVISORY.${event}.${stream}`)) return;
    const domain = this.config.domain;
    const body = `{"type":"io.nats.jetstream.advisory.v1.stream_action","id":${goJson(newNuid(), false)},`
      + `"timestamp":${goJson(rfc3339Nano(Date.now()), false)},"stream":${goJson(stream, false)},"action":"${action}"`
      + `${domain === null ? '' : `,"domain":${goJson(domain, false)}`}}`;
    jsa.reply(`$JS.EVENT.ADVISORY.${event}.${stream}`, body);
  }

  /** `$JS.EVENT.ADVISORY.CONSUMER.{CREATED,DELETED}.<stream>.<consumer>` (io.nats.jetstream.advisory.v1.consumer_action). */
  consumerAdvisory(jsa: JsAccount, event: string, stream: string, consumer: string, action: 'create' | 'delete'): void {
    if (!jsa.hasInterest(`$JS.EVENT.ADVISORY.${event}.${stream}.${consumer}`)) return;
    const domain = this.config.domain;
    const body = `{"type":"io.nats.jetstream.advisory.v1.consumer_action","id":${goJson(newNuid(), false)},`
      + `"timestamp":${goJson(rfc3339Nano(Date.now()), false)},"stream":${goJson(stream, false)},"consumer":${goJson(consumer, false)},"action":"${action}"`
      + `${domain === null ? '' : `,"domain":${goJson(domain, false)}`}}`;
    jsa.reply(`$JS.EVENT.ADVISORY.${event}.${stream}.${consumer}`, body);
  }

  /** The JetStream of account `name` (`enabled` false: the account has none), or undefined. */
  account(name: string): JsAccount | undefined {
    return this.accounts.get(name);
  }

  /**
   * The accounts with JetStream enabled (nats-server's `js.accounts`, e.g. `/jsz`'s count):
   * {@link accounts} also holds the accounts that answer 10039.
   */
  enabledAccounts(): JsAccount[] {
    return [...this.accounts.values()].filter((a) => a.enabled);
  }

  usage(): JsUsage {
    const u: JsUsage = { memory: 0, storage: 0, reservedMemory: 0, reservedStorage: 0, streams: 0, consumers: 0, messages: 0, bytes: 0 };
    for (const a of this.accounts.values()) {
      const x = a.usage();
      u.memory += x.memory; u.storage += x.storage; u.reservedMemory += x.reservedMemory; u.reservedStorage += x.reservedStorage;
      u.streams += x.streams; u.consumers += x.consumers; u.messages += x.messages; u.bytes += x.bytes;
    }
    return u;
  }

  // ---- Stores -----------------------------------------------------------------------------------

  private streamDir(account: string, stream: string): string {
    return join(this.root, account, 'streams', stream);
  }

  /** A new, empty store for a stream being created (a file stream's directory and meta file first). */
  async openStore(account: string, cfg: StreamConfig, created: number): Promise<StreamStore> {
    const limits = storeLimits(cfg);
    let store: StreamStore;
    if (cfg.storage === 'memory') {
      store = new MemoryStore(limits);
    } else {
      const dir = this.streamDir(account, cfg.name);
      // A leftover of a stream deleted while the process died: start clean.
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      this.writeMeta(account, { config: cfg, created });
      store = await FileStore.open(join(dir, 'msgs'), limits, { writeBehind: this.writeBehind });
    }
    applyFirstSeq(store, cfg);
    return store;
  }

  /** Writes a file stream's meta file atomically (temp file, then rename). */
  writeMeta(account: string, meta: StreamMeta): void {
    const dir = this.streamDir(account, meta.config.name);
    const body = `{"created":${meta.created},"config":${encodeStreamConfig(meta.config)}}\n`;
    writeFileSync(join(dir, 'meta.json.tmp'), body);
    renameSync(join(dir, 'meta.json.tmp'), join(dir, 'meta.json'));
  }

  /** A consumer's directory in its (file) stream's: `obs/<consumer>`, as nats-server's. */
  consumerDir(account: string, stream: string, consumer: string): string {
    return join(this.streamDir(account, stream), 'obs', consumer);
  }

  /** A recovered stream's consumers (nats-server: after all streams; each one on its own). */
  private recoverConsumers(jsa: JsAccount, stream: Stream, obs: string): void {
    if (!existsSync(obs)) return;
    for (const name of readdirSync(obs).sort()) {
      if (stream.consumers.has(name)) continue;
      try {
        jsa.recoverConsumer(stream, name, join(obs, name));
      } catch (err) {
        // nats-server logs and skips a consumer it cannot recover (a bad meta file).
        this.core.log.warn(`    Error adding consumer "${name}" of stream '${jsa.name} > ${stream.name}': ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    // checkForOrphanMsgs: what the recovered consumers had acked leaves an interest or
    // work-queue stream (a crash may have kept an ack and lost the stream's removal).
    checkInterestState(stream);
  }

  removeStreamDir(account: string, stream: string): void {
    rmSync(this.streamDir(account, stream), { recursive: true, force: true });
  }

  /** Reads back the account's file streams from the store directory (when its JetStream is enabled). */
  async recoverAccount(jsa: JsAccount): Promise<void> {
    if (!this.storeDirExists()) return;
    const streamsDir = join(this.root, jsa.name, 'streams');
    if (!existsSync(streamsDir)) return;
    for (const name of readdirSync(streamsDir).sort()) {
      if (jsa.streams.has(name)) continue;
      const dir = join(streamsDir, name);
      try {
        const raw = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { created: number; config: unknown };
        const decoded = decodeStreamConfig(JSON.stringify(raw.config));
        if ('error' in decoded || decoded.config.storage !== 'file') throw new Error('meta.json holds no valid stream config');
        const config = decoded.config as StreamConfig;
        const store = await FileStore.open(join(dir, 'msgs'), storeLimits(config), { writeBehind: this.writeBehind });
        applyFirstSeq(store, config);
        // Disabled (or stopped) while the store opened: leave it closed.
        if (!jsa.enabled || this.stopped) {
          await store.stop();
          return;
        }
        const stream = jsa.recoverStream({ config, created: raw.created }, store);
        this.recoverConsumers(jsa, stream, join(dir, 'obs'));
      } catch (err) {
        // nats-server logs and skips a stream it cannot recover; the others still load.
        this.core.log.warn(`Error recreating stream "${name}" for account "${jsa.name}": ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    // Mirrors and sources start once every stream is back (their origins may come later in the list).
    if (jsa.enabled && !this.stopped) for (const s of jsa.streams.values()) jsa.startSourcing(s);
  }
}
