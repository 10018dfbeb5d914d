/**
 * The public types of the `server.jetstream` test helpers that go through the JetStream API:
 * the bucket views (`kvBuckets()`, `kvBucket()`, `objectStores()`), `seed()` and `reset()`.
 */
import type { Duration } from '../config/options.js';
import type { StreamConfig } from '../jetstream/stream-config.js';

/** Which streams `server.jetstream` looks at. */
export interface JetStreamQuery {
  /** Only this account's streams. Default: every account's. */
  account?: string;
}

/** A live key of a Key-Value bucket: its last value (not deleted or purged). */
export interface KvKeyInfo {
  readonly key: string;
  /** The revision of the last value: its stream sequence. */
  readonly revision: number;
  /** The value as UTF-8 text. */
  readonly value: string;
  /** The value's bytes. */
  readonly data: Uint8Array;
  /** When the value was put. */
  readonly created: Date;
}

/** A Key-Value bucket (the stream `KV_<bucket>`), as `@nats-io/kv`'s `status()` sees it. */
export interface KvBucketInfo {
  /** The account that owns it (`$G` when no accounts are configured). */
  readonly account: string;
  /** The bucket name (the stream name without `KV_`). */
  readonly bucket: string;
  /** The stream behind it: `KV_<bucket>`. */
  readonly stream: string;
  /** Entries stored: every kept revision of every key, delete and purge markers included. */
  readonly values: number;
  /** Revisions kept per key (`max_msgs_per_subject`). */
  readonly history: number;
  /** How long a value lives, in milliseconds (`max_age`); 0 = forever. */
  readonly ttlMs: number;
  /** Bytes stored, as the server counts them. */
  readonly bytes: number;
  /** Where the bucket is stored. */
  readonly storage: 'file' | 'memory';
  /** Replicas (always 1 on a single server). */
  readonly replicas: number;
  /** Largest value accepted (`max_msg_size`); -1 = no limit. */
  readonly maxValueSize: number;
  /** Most bytes the bucket may hold (`max_bytes`); -1 = no limit. */
  readonly maxBytes: number;
  /** The description, or null. */
  readonly description: string | null;
  /** Whether the bucket is compressed (`compression: "s2"`). */
  readonly compression: boolean;
  /** When the bucket was created. */
  readonly created: Date;
  /**
   * The live keys (deleted and purged ones left out), sorted by key, with their last value:
   * only with `kvBucket(name, { keys: true })`, else absent.
   */
  readonly keys?: readonly KvKeyInfo[];
}

/** Options of {@link JetStreamHelpers.kvBucket}. */
export interface KvBucketQuery extends JetStreamQuery {
  /**
   * Also read the live keys and their last values (one request per key, 64 at a time; a key
   * that expires or is purged meanwhile is left out). Default false.
   */
  keys?: boolean;
  /** How long each request may take. Default 5 s (the URL helpers: their `timeoutMs`). */
  timeoutMs?: number;
}

/** An Object Store bucket (the stream `OBJ_<bucket>`), as `@nats-io/obj`'s `status()` sees it. */
export interface ObjectStoreInfo {
  /** The account that owns it (`$G` when no accounts are configured). */
  readonly account: string;
  /** The bucket name (the stream name without `OBJ_`). */
  readonly bucket: string;
  /** The stream behind it: `OBJ_<bucket>`. */
  readonly stream: string;
  /** Bytes stored (chunks and metadata), as the server counts them. */
  readonly bytes: number;
  /** Where the bucket is stored. */
  readonly storage: 'file' | 'memory';
  /** Replicas (always 1 on a single server). */
  readonly replicas: number;
  /** How long objects live, in milliseconds (`max_age`); 0 = forever. */
  readonly ttlMs: number;
  /** Whether the bucket is sealed (read-only). */
  readonly sealed: boolean;
  /** The description, or null. */
  readonly description: string | null;
  /** When the bucket was created. */
  readonly created: Date;
}

/** A value of `seed()`'s JSON payloads: what `JSON.stringify` writes. */
export type SeedJson = string | number | boolean | null | readonly SeedJson[] | { readonly [key: string]: SeedJson };

/** Key → value of a seeded Key-Value bucket; values are UTF-8 text or bytes. */
export type KvSeedValues = Readonly<Record<string, string | Uint8Array>>;

/**
 * A Key-Value bucket of {@link JetStreamSeed.kv} with options. The options are `@nats-io/kv`'s
 * (`kvm.create(bucket, { history, ttl, ... })`), and the bucket gets the very stream
 * configuration that client would send.
 */
export interface KvSeedBucket {
  /**
   * The keys to put, in the object's property order (JavaScript lists integer-like keys such as
   * `'2'` and `'10'` first, in numeric order, then the others as written).
   */
  values?: KvSeedValues;
  /** Revisions kept per key (at least 1). Default 1. */
  history?: number;
  /** How long values live: milliseconds or a Go duration (`"1h"`). Default: forever. */
  ttl?: Duration;
  /** Default `'file'`, as the client's. */
  storage?: 'file' | 'memory';
  /** Largest value accepted. Default -1 (no limit). */
  maxValueSize?: number;
  /** Most bytes the bucket may hold. Default -1 (no limit). */
  maxBytes?: number;
  description?: string;
  /** S2 compression (nats-server 2.10). */
  compression?: boolean;
  /** Stream metadata (nats-server 2.10). */
  metadata?: Readonly<Record<string, string>>;
}

/** Object name → content of a seeded Object Store bucket; text is written as UTF-8. */
export type ObjectSeedValues = Readonly<Record<string, string | Uint8Array>>;

/**
 * An Object Store bucket of {@link JetStreamSeed.objects} with options: those of
 * `@nats-io/obj`'s `objm.create(bucket, { ... })`, and the bucket gets the stream configuration
 * that client would send; objects are written as its `put()` writes them (128 KiB chunks, then
 * the metadata with the SHA-256 digest), so `get()` reads and verifies them.
 */
export interface ObjectSeedBucket {
  /** The objects to put, by name. */
  objects?: ObjectSeedValues;
  description?: string;
  /** How long objects live: milliseconds or a Go duration (`"1h"`). Default: forever. */
  ttl?: Duration;
  /** Default: the server's (`'file'`), as the client's. */
  storage?: 'file' | 'memory';
  /** Most bytes the bucket may hold. */
  maxBytes?: number;
  /** S2 compression (nats-server 2.10). */
  compression?: boolean;
  /** Stream metadata (nats-server 2.10). */
  metadata?: Readonly<Record<string, string>>;
}

/** A message of a seeded stream. */
export interface SeedMessage {
  readonly subject: string;
  /** The payload: text (UTF-8), bytes, or any other JSON value (written with `JSON.stringify`). Default empty. */
  readonly data?: SeedJson | Uint8Array;
  /** Headers, e.g. `{ 'Nats-Msg-Id': 'order-1' }`. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A stream of {@link JetStreamSeed.streams}: its configuration in nats-server's JSON field names
 * (as `jsm.streams.add()` takes it; the name is the key; what is left out gets the server's
 * defaults), and the messages to publish into it, in order, each acknowledged by this stream.
 */
export type SeedStream = Readonly<Partial<Omit<StreamConfig, 'name'>>> & {
  readonly messages?: readonly SeedMessage[];
};

/**
 * What {@link JetStreamHelpers.seed} puts in place.
 *
 * @example
 * ```ts
 * await server.jetstream.seed({
 *   kv: {
 *     config: { 'app.port': '8080', 'app.mode': 'test' },
 *     sessions: { history: 5, ttl: '1h', values: { 'user.1': '{"id":1}' } },
 *   },
 *   streams: {
 *     ORDERS: { subjects: ['orders.>'], messages: [{ subject: 'orders.1', data: { id: 1 } }] },
 *   },
 * });
 * ```
 */
export interface JetStreamSeed {
  /** The account to seed. Default: the default account (`$G`). */
  account?: string;
  /**
   * Key-Value buckets by name: either the values (`{ 'app.port': '8080' }`) or
   * {@link KvSeedBucket} with options and `values`. An object with any option name among its
   * properties (`history`, `ttl`, `storage`, `description`, `values`, ...) is the options form:
   * `{ storage: 'memory' }` is an empty memory bucket; keys named like options go in
   * `{ values: { storage: '...' } }`.
   */
  kv?: Readonly<Record<string, KvSeedValues | KvSeedBucket>>;
  /**
   * Object Store buckets by name: either the objects (`{ 'logo.png': bytes }`) or
   * {@link ObjectSeedBucket} with options and `objects` (an object with any option name among
   * its properties is the options form; objects named like options go in `{ objects: { ... } }`).
   * Putting a name that exists replaces the object (its old chunks stay in the stream).
   */
  objects?: Readonly<Record<string, ObjectSeedValues | ObjectSeedBucket>>;
  /** Streams by name. Created first, then the buckets; then the messages, values and objects are put. */
  streams?: Readonly<Record<string, SeedStream>>;
  /** How long each request may take. Default 5 s. */
  timeoutMs?: number;
}

/** Options of {@link JetStreamHelpers.reset}. */
export interface JetStreamResetOptions extends JetStreamQuery {
  /**
   * Purge every stream (all messages gone, sequences go on) and keep the streams and their
   * consumers, instead of deleting them. A stream the server will not purge (sealed, e.g. a
   * sealed object store, or `deny_purge`) is deleted instead, with its consumers. Default false:
   * every stream (KV and object buckets included) is deleted, and its consumers with it.
   */
  purge?: boolean;
  /** How long each request may take. Default 5 s. */
  timeoutMs?: number;
}

/** What {@link JetStreamHelpers.reset} did. */
export interface JetStreamResetResult {
  /** Streams deleted (or purged). */
  readonly streams: number;
  /** Consumers deleted with their streams (with `purge`: those of the streams deleted instead). */
  readonly consumers: number;
}

/** The `server.jetstream` helpers that go through the JetStream API; on both backends. */
export interface JetStreamHelpers {
  /**
   * The Key-Value buckets now (streams `KV_*`), sorted by account and bucket name.
   * @throws {ServerClosedError} when the server is not running
   */
  kvBuckets(query?: JetStreamQuery): Promise<KvBucketInfo[]>;
  /**
   * One Key-Value bucket, or null when there is none of that name; with `{ keys: true }`, its
   * live keys and their last values too.
   * @throws {InvalidArgumentError} bad arguments, or several accounts have the bucket and no `account` was given
   * @throws {JetStreamApiError} the server refused a request
   * @throws {ServerClosedError} when the server is not running
   */
  kvBucket(name: string, query?: KvBucketQuery): Promise<KvBucketInfo | null>;
  /**
   * The Object Store buckets now (streams `OBJ_*`), sorted by account and bucket name.
   * @throws {ServerClosedError} when the server is not running
   */
  objectStores(query?: JetStreamQuery): Promise<ObjectStoreInfo[]>;
  /**
   * One Object Store bucket, or null when there is none of that name.
   * @throws {InvalidArgumentError} bad arguments, or several accounts have the bucket and no `account` was given
   * @throws {ServerClosedError} when the server is not running
   */
  objectStore(name: string, query?: JetStreamQuery): Promise<ObjectStoreInfo | null>;
  /**
   * Puts streams, Key-Value and Object Store buckets in place, with their messages, values and
   * objects, in one call; resolves once every message is stored. Buckets get the stream
   * configuration `@nats-io/kv` / `@nats-io/obj` send, so the clients open them as their own. Seeding a stream or bucket that exists with the
   * same configuration adds to it.
   * Every argument is checked before anything is created: stream and bucket names, keys,
   * options, message subjects (no whitespace, empty tokens or wildcards), headers, and each
   * message's size against the server's `max_payload`. Only what the server decides is found
   * after the streams are made: a message no stream stores, or another stream stores (an
   * `InvalidArgumentError` then, with the streams and earlier messages left in place), and the
   * server's refusals.
   * @throws {InvalidArgumentError} a malformed seed (bucket, stream or key name, option, message, size)
   * @throws {JetStreamApiError} the server refused a stream (e.g. 10058: it exists with another configuration) or a message
   * @throws {UnsupportedError} nats-server backend: the account has no user to connect as
   * @throws {ServerClosedError} when the server is not running
   */
  seed(seed: JetStreamSeed): Promise<void>;
  /**
   * Empties JetStream between tests without a restart: deletes every stream (and so every
   * consumer, KV and object bucket) of every account, or of `account`; with `{ purge: true }`
   * purges them instead and keeps streams and consumers. Resolves once the server has done it.
   * Every stream is tried even when one fails; the error then names the streams that failed.
   * @throws {JetStreamApiError} the server refused a request
   * @throws {UnsupportedError} nats-server backend: an account with streams has no user to connect as
   * @throws {ServerClosedError} when the server is not running
   */
  reset(options?: JetStreamResetOptions): Promise<JetStreamResetResult>;
}
