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
 * File streams live under `<storeDir>/jetstream/<account>/streams/<stream>/`, as nats-server
 * lays them out: `meta.json` (the config and the creation time) and the store's files. A
 * start recovers every stream found there.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Account } from '../broker/account.js';
import type { BrokerCore } from '../broker/core.js';
import type { InternalClient } from '../broker/internal.js';
import type { ResolvedJetStream } from '../config/options.js';
import { handleApiRequest, type ApiAccount } from './api.js';
import { UNLIMITED, type JsAccountLimits, type JsUsage } from './types.js';
import { encodeStreamConfig, type StreamConfig } from './stream-config.js';
import { Stream, storeLimits, type StreamHost } from './stream.js';
import { MemoryStore } from './store/memory.js';
import { FileStore } from './store/file.js';
import type { StreamStore } from './store/store.js';
import { decodeStreamConfig } from './stream-config.js';
import { jsError, type ApiError } from './errors.js';
import { newNuid } from '../broker/ids.js';
import { goJson, rfc3339Nano } from '../protocol/go-format.js';

/** What the stream file holds besides the messages. */
interface StreamMeta {
  readonly config: StreamConfig;
  /** ms since the epoch. */
  readonly created: number;
}

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

/** JetStream in one account: its streams, limits and API counters. */
export class JsAccount implements StreamHost, ApiAccount {
  readonly streams = new Map<string, Stream>();
  readonly api = { total: 0, errors: 0 };
  readonly limits: JsAccountLimits = UNLIMITED;
  private readonly apiClient: InternalClient;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly engine: JetStream,
    readonly account: Account,
    /** false: the account answers "JetStream not enabled for account" (10039). */
    readonly enabled: boolean,
  ) {
    const core = engine.core;
    this.apiClient = core.internalClient(`$JS API ${account.name}`, account);
    this.apiClient.subscribe('$JS.API.>', (msg) => handleApiRequest(this, msg.subject, msg, 8));
    const domain = engine.config.domain;
    if (domain !== null) {
      // `$JS.<domain>.API.x` is `$JS.API.x` (nats-server maps one onto the other).
      const skip = 9 + domain.length;
      this.apiClient.subscribe(`$JS.${domain}.API.>`, (msg) => handleApiRequest(this, `$JS.API.${msg.subject.slice(skip)}`, msg, 8));
    }
  }

  get name(): string {
    return this.account.name;
  }

  get domain(): string | null {
    return this.engine.config.domain;
  }

  serverName(): string {
    return this.engine.serverName();
  }

  checkReservation(cfg: StreamConfig): ApiError | undefined {
    return this.engine.checkReservation(this, cfg);
  }

  advisory(event: string, stream: string, action: 'create' | 'modify' | 'delete'): void {
    this.engine.advisory(this, event, stream, action);
  }

  countApi(error: boolean): void {
    this.engine.countApi(this, error);
  }

  internalError(err: unknown, what: string): void {
    this.engine.core.internalError(err, what);
  }

  /** Publishes an API reply (or any message of the service) in this account. */
  reply(subject: string, data: string | Buffer, headers: Buffer | null = null): void {
    this.apiClient.publish(subject, data, { headers });
  }

  // ---- StreamHost -----------------------------------------------------------------------------

  consumerInterest(): boolean {
    return false;
  }

  stored(): void {
    // Consumers (a later slice) are woken here.
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
    return stream;
  }

  /** A stream read back from disk at start. */
  recoverStream(meta: StreamMeta, store: StreamStore): Stream {
    const client = this.engine.core.internalClient(`$JS stream ${this.name} > ${meta.config.name}`, this.account);
    const stream = new Stream(meta.config, meta.created, store, client, this, true);
    this.streams.set(meta.config.name, stream);
    return stream;
  }

  /** Applies a checked update: the new config in force and, for a file stream, on disk. */
  updateStream(stream: Stream, cfg: StreamConfig): void {
    stream.update(cfg);
    if (cfg.storage === 'file') this.engine.writeMeta(this.name, { config: cfg, created: stream.created });
  }

  async deleteStream(stream: Stream): Promise<void> {
    this.streams.delete(stream.name);
    stream.close();
    await stream.store.delete();
    if (stream.cfg.storage === 'file') this.engine.removeStreamDir(this.name, stream.name);
  }

  usage(): JsUsage {
    const u: JsUsage = { memory: 0, storage: 0, reservedMemory: 0, reservedStorage: 0, streams: 0, consumers: 0, messages: 0, bytes: 0 };
    for (const s of this.streams.values()) {
      const st = s.state();
      u.streams++;
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
      s.close();
      stops.push(s.store.stop());
    }
    this.streams.clear();
    await Promise.all(stops);
  }
}

/** The JetStream engine of one running server. */
export class JetStream {
  readonly accounts = new Map<string, JsAccount>();
  /** Server-wide API counters (`/jsz`). */
  readonly api = { total: 0, errors: 0 };
  private stopped = false;
  /** File stores with records not written yet (write-behind, see {@link flushStores}). */
  private readonly unwritten: FileStore[] = [];
  private flushQueued = false;
  /** Stores whose last flush failed (logged once until one succeeds). */
  private readonly failing = new WeakSet<FileStore>();
  private readonly flushStoresBound = (): void => this.flushStores();
  private readonly removeFlushHook: () => void;
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

  /** `<storeDir>/jetstream`, as nats-server lays it out. */
  private get root(): string {
    return join(this.storeDir(), 'jetstream');
  }

  /**
   * Enables JetStream in the accounts that have it and recovers their file streams. nats-server:
   * with no configured accounts, the global account has JetStream; with configured accounts,
   * those that enable it (all of them, until per-account settings exist here).
   */
  async start(): Promise<void> {
    const core = this.core;
    for (const account of core.accounts.values()) {
      this.accounts.set(account.name, new JsAccount(this, account, true));
    }
    if (this.storeDirExists()) await this.recover();
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
    const all = [...this.accounts.values()];
    this.accounts.clear();
    await Promise.all(all.map((a) => a.stop()));
    this.flushStores();
    this.removeFlushHook();
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
   * The server's storage limits, checked when a stream reserves `max_bytes`: the other streams'
   * reservations of the same storage plus this one must fit (nats-server's checkLimits /
   * checkBytesLimits). Streams without `max_bytes` reserve nothing and are not refused.
   */
  checkReservation(jsa: JsAccount, cfg: StreamConfig): ApiError | undefined {
    if (cfg.max_bytes <= 0) return undefined;
    const memory = cfg.storage === 'memory';
    let reserved = 0;
    for (const a of this.accounts.values()) {
      for (const s of a.streams.values()) {
        if ((a !== jsa || s.name !== cfg.name) && s.cfg.storage === cfg.storage && s.cfg.max_bytes > 0) reserved += s.cfg.max_bytes * s.cfg.num_replicas;
      }
    }
    const max = memory ? this.config.maxMemory : this.config.maxStore;
    if (max >= 0 && reserved + cfg.max_bytes * cfg.num_replicas > max) {
      return jsError(memory ? 'JSMemoryResourcesExceededErr' : 'JSStorageResourcesExceededErr');
    }
    return undefined;
  }

  /**
   * A stream action advisory on `$JS.EVENT.ADVISORY.<event>.<stream>` in the account
   * (`io.nats.jetstream.advisory.v1.stream_action`), as nats-server publishes it.
   */
  advisory(jsa: JsAccount, event: string, stream: string, action: 'create' | 'modify' | 'delete'): void {
    const domain = this.config.domain;
    const body = `{"type":"io.nats.jetstream.advisory.v1.stream_action","id":${goJson(newNuid(), false)},`
      + `"timestamp":${goJson(rfc3339Nano(Date.now()), false)},"stream":${goJson(stream, false)},"action":"${action}"`
      + `${domain === null ? '' : `,"domain":${goJson(domain, false)}`}}`;
    jsa.reply(`$JS.EVENT.ADVISORY.${event}.${stream}`, body);
  }

  /** The JetStream of account `name`, or undefined. */
  account(name: string): JsAccount | undefined {
    return this.accounts.get(name);
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

  removeStreamDir(account: string, stream: string): void {
    rmSync(this.streamDir(account, stream), { recursive: true, force: true });
  }

  /** Reads back every file stream under the store directory. */
  private async recover(): Promise<void> {
    const root = this.root;
    if (!existsSync(root)) return;
    for (const accName of readdirSync(root)) {
      const jsa = this.accounts.get(accName);
      const streamsDir = join(root, accName, 'streams');
      if (jsa === undefined || !existsSync(streamsDir)) continue;
      for (const name of readdirSync(streamsDir).sort()) {
        const dir = join(streamsDir, name);
        try {
          const raw = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { created: number; config: unknown };
          const decoded = decodeStreamConfig(JSON.stringify(raw.config));
          if ('error' in decoded || decoded.config.storage !== 'file') throw new Error('meta.json holds no valid stream config');
          const config = decoded.config as StreamConfig;
          const store = await FileStore.open(join(dir, 'msgs'), storeLimits(config), { writeBehind: this.writeBehind });
          applyFirstSeq(store, config);
          jsa.recoverStream({ config, created: raw.created }, store);
        } catch (err) {
          // nats-server logs and skips a stream it cannot recover; the others still load.
          this.core.log.warn(`Error recreating stream "${name}" for account "${accName}": ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
  }
}
