/**
 * The `server.jetstream` helpers that go through the JetStream API, so that both backends answer
 * them the same way: the bucket views (KV and object store: streams `KV_*` and `OBJ_*` with the
 * keys read by `STREAM.INFO` subjects and `STREAM.MSG.GET`), `seed()` (`STREAM.CREATE` and
 * acknowledged publishes) and `reset()` (`STREAM.DELETE` / `STREAM.PURGE`). The requests go
 * through a backend session in the stream's account (an internal client, or a client connection
 * to the nats-server process).
 */
import { InvalidArgumentError, JetStreamApiError } from '../errors.js';
import { parseDurationMs } from '../config/duration.js';
import type { RequestSession } from './backend.js';
import { OBJECT_CHUNK, objectBucketSeed, type SeedOutgoing } from './jetstream-seed-obj.js';
import type { JetStreamStreamInfo } from './types.js';
import type {
  JetStreamQuery,
  JetStreamResetOptions,
  JetStreamResetResult,
  JetStreamSeed,
  KvBucketInfo,
  KvBucketQuery,
  KvKeyInfo,
  KvSeedBucket,
  KvSeedValues,
  ObjectStoreInfo,
  SeedMessage,
  SeedStream,
} from './jetstream-helper-types.js';

/** What the helpers need of the handle. */
export interface HelperHost {
  /** Whether JetStream is on (false: nothing answers `$JS.API`). */
  readonly enabled: boolean;
  /** Every stream of the running server (of `account` only, when given). */
  streams(account: string | undefined): Promise<JetStreamStreamInfo[]>;
  /** A request session in `account` (the default account when undefined). */
  openSession(account: string | undefined): Promise<RequestSession>;
}

const DEFAULT_TIMEOUT_MS = 5000;
const EMPTY = new Uint8Array(0);
const KV_PREFIX = 'KV_';
const OBJ_PREFIX = 'OBJ_';
/** Bucket names as `@nats-io/kv` and `@nats-io/obj` accept them. */
const BUCKET_RE = /^[-\w]+$/;
/** Keys as `@nats-io/kv` accepts them (and not starting or ending with a dot). */
const KEY_RE = /^[-/=.\w]+$/;
/** Publishes in flight at once while seeding. */
const SEED_WINDOW = 256;
/** `STREAM.MSG.GET`s in flight at once while reading a bucket's keys. */
const GET_WINDOW = 64;
const NOT_ENABLED = 'no responders: JetStream is not enabled (for this account)';
/** JSStreamNotFoundErr. */
const STREAM_NOT_FOUND = 10059;
/** JSNoMessageFoundErr: a key expired or was purged between STREAM.INFO and MSG.GET. */
const NO_MESSAGE_FOUND = 10037;
/** JSStreamSealedErr and JSStreamPurgeFailedF's "not permitted" (deny_purge): purge refused. */
const PURGE_REFUSED = new Set([10109, 10110]);
/** Longest stream name nats-server accepts (JSMaxNameLen). */
const MAX_NAME_LEN = 255;

type Json = Record<string, unknown>;

// ---- Arguments --------------------------------------------------------------------------------

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function accountArg(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new InvalidArgumentError('account', 'expected a non-empty string');
  return v;
}

function queryArg(query: unknown): string | undefined {
  if (query === undefined) return undefined;
  if (!isObject(query)) throw new InvalidArgumentError('query', 'expected an object');
  return accountArg(query.account);
}

function timeoutArg(v: unknown): number {
  if (v === undefined) return DEFAULT_TIMEOUT_MS;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError('timeoutMs', 'expected a number of milliseconds > 0');
  return v;
}

function bucketArg(name: unknown, argument: string): string {
  if (typeof name !== 'string' || !BUCKET_RE.test(name)) {
    throw new InvalidArgumentError(argument, `invalid bucket name ${JSON.stringify(name)} (letters, digits, "-" and "_")`);
  }
  return name;
}

function keyArg(key: string, bucket: string): string {
  if (!KEY_RE.test(key) || key.startsWith('.') || key.endsWith('.')) {
    throw new InvalidArgumentError('kv', `invalid key ${JSON.stringify(key)} in bucket "${bucket}"`);
  }
  return key;
}

/**
 * Checks a stream name as nats-server does before it makes a stream (no whitespace or control
 * characters, no `.`, `*`, `>`, no path separators, at most 255 characters), so that it never
 * reaches a `$JS.API.STREAM.CREATE.<name>` subject it would break.
 */
export function streamNameArg(name: string, argument: string): string {
  if (name === '' || name.length > MAX_NAME_LEN || /[\s\x00-\x1f\x7f.*>/\\]/.test(name)) {
    throw new InvalidArgumentError(argument, `invalid stream name ${JSON.stringify(name)} (1 to ${MAX_NAME_LEN} characters, no whitespace, ".", "*", ">", "/" or "\\")`);
  }
  return name;
}

/** Whether `subject` is one a client may publish to: tokens not empty, no whitespace, no wildcards. */
export function isPublishSubject(subject: string): boolean {
  if (subject === '' || /[\s\x00-\x1f\x7f]/.test(subject)) return false;
  for (const t of subject.split('.')) if (t === '' || t === '*' || t === '>') return false;
  return true;
}

// ---- Requests ---------------------------------------------------------------------------------

/** A `$JS.API` request; resolves with its JSON reply, or throws the server's error. */
export async function api(session: RequestSession, subject: string, body: object | null, timeoutMs: number): Promise<Json> {
  const data = body === null ? EMPTY : Buffer.from(JSON.stringify(body), 'utf8');
  return reply(subject, await session.request(subject, data, null, timeoutMs));
}

function reply(subject: string, r: { data: Buffer; status: number }): Json {
  if (r.status === 503) throw new JetStreamApiError(subject, 503, 0, NOT_ENABLED);
  let json: unknown;
  try {
    json = JSON.parse(r.data.toString('utf8'));
  } catch {
    throw new JetStreamApiError(subject, 500, 0, `unreadable reply ${JSON.stringify(r.data.toString('utf8').slice(0, 200))}`);
  }
  if (!isObject(json)) throw new JetStreamApiError(subject, 500, 0, 'reply is not a JSON object');
  const err = json.error;
  if (isObject(err)) {
    throw new JetStreamApiError(subject, typeof err.code === 'number' ? err.code : 500, typeof err.err_code === 'number' ? err.err_code : 0, String(err.description ?? ''));
  }
  return json;
}

/** Runs `fn` with a session in `account`, closed afterwards. */
async function withSession<T>(host: HelperHost, account: string | undefined, fn: (s: RequestSession) => Promise<T>): Promise<T> {
  const session = await host.openSession(account);
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}

// ---- Views ------------------------------------------------------------------------------------

function num(v: unknown, dflt: number): number {
  return typeof v === 'number' ? v : dflt;
}

function byAccountAndName<T extends { account: string; bucket: string }>(a: T, b: T): number {
  return a.account < b.account ? -1 : a.account > b.account ? 1 : a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0;
}

function kvInfo(s: JetStreamStreamInfo): KvBucketInfo {
  const c = s.config;
  return {
    account: s.account,
    bucket: s.name.slice(KV_PREFIX.length),
    stream: s.name,
    values: s.state.messages,
    history: num(c.max_msgs_per_subject, 1),
    ttlMs: num(c.max_age, 0) / 1e6,
    bytes: s.state.bytes,
    storage: c.storage === 'memory' ? 'memory' : 'file',
    replicas: num(c.num_replicas, 1),
    maxValueSize: num(c.max_msg_size, -1),
    maxBytes: num(c.max_bytes, -1),
    description: typeof c.description === 'string' && c.description !== '' ? c.description : null,
    compression: c.compression === 's2',
    created: s.created,
  };
}

function objInfo(s: JetStreamStreamInfo): ObjectStoreInfo {
  const c = s.config;
  return {
    account: s.account,
    bucket: s.name.slice(OBJ_PREFIX.length),
    stream: s.name,
    bytes: s.state.bytes,
    storage: c.storage === 'memory' ? 'memory' : 'file',
    replicas: num(c.num_replicas, 1),
    ttlMs: num(c.max_age, 0) / 1e6,
    sealed: c.sealed === true,
    description: typeof c.description === 'string' && c.description !== '' ? c.description : null,
    created: s.created,
  };
}

export async function kvBuckets(host: HelperHost, query: JetStreamQuery | undefined): Promise<KvBucketInfo[]> {
  const list = await host.streams(queryArg(query));
  return list.filter((s) => s.name.startsWith(KV_PREFIX)).map(kvInfo).sort(byAccountAndName);
}

export async function objectStores(host: HelperHost, query: JetStreamQuery | undefined): Promise<ObjectStoreInfo[]> {
  const list = await host.streams(queryArg(query));
  return list.filter((s) => s.name.startsWith(OBJ_PREFIX)).map(objInfo).sort(byAccountAndName);
}

/** The stream `prefix + bucket`, the only one of that name (of `account` when given), or null. */
async function oneBucket(host: HelperHost, prefix: string, bucket: string, account: string | undefined): Promise<JetStreamStreamInfo | null> {
  const stream = `${prefix}${bucket}`;
  const found = (await host.streams(account)).filter((s) => s.name === stream);
  if (found.length > 1) {
    throw new InvalidArgumentError('name', `bucket "${bucket}" exists in accounts ${found.map((s) => s.account).sort().join(', ')}: pass { account }`);
  }
  return found[0] ?? null;
}

export async function objectStore(host: HelperHost, name: string, query: JetStreamQuery | undefined): Promise<ObjectStoreInfo | null> {
  const bucket = bucketArg(name, 'name');
  const s = await oneBucket(host, OBJ_PREFIX, bucket, queryArg(query));
  return s === null ? null : objInfo(s);
}

export async function kvBucket(host: HelperHost, name: string, query: KvBucketQuery | undefined): Promise<KvBucketInfo | null> {
  const bucket = bucketArg(name, 'name');
  const account = queryArg(query);
  const withKeys = query?.keys ?? false;
  if (typeof withKeys !== 'boolean') throw new InvalidArgumentError('keys', 'expected a boolean');
  const timeoutMs = timeoutArg(query?.timeoutMs);
  const stream = `${KV_PREFIX}${bucket}`;
  const s = await oneBucket(host, KV_PREFIX, bucket, account);
  if (s === null) return null;
  const info = kvInfo(s);
  if (!withKeys) return info;
  const keys = await withSession(host, s.account, (session) => liveKeys(session, stream, bucket, timeoutMs));
  return { ...info, keys };
}

/** The subjects of `stream` matching `filter`, every page of STREAM.INFO's `subjects`. */
async function subjects(session: RequestSession, stream: string, filter: string, timeoutMs: number): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const r = await api(session, `$JS.API.STREAM.INFO.${stream}`, { subjects_filter: filter, offset: out.length }, timeoutMs);
    const state = isObject(r.state) ? r.state : {};
    const page = isObject(state.subjects) ? Object.keys(state.subjects) : [];
    out.push(...page);
    const total = num(r.total, 0);
    if (page.length === 0 || out.length >= total) return out;
  }
}

/** The value of the header `name` in a header block, or null. */
function header(block: string, name: string): string | null {
  const lower = name.toLowerCase();
  for (const line of block.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).trim().toLowerCase() === lower) return line.slice(i + 1).trim();
  }
  return null;
}

async function liveKeys(session: RequestSession, stream: string, bucket: string, timeoutMs: number): Promise<KvKeyInfo[]> {
  const prefix = `$KV.${bucket}.`;
  const subs = await subjects(session, stream, `${prefix}>`, timeoutMs);
  const got: Json[] = [];
  // A window at a time (nats-server bounds its JS API queue); a key that expired (TTL) or was
  // purged since STREAM.INFO is gone (10037), not an error.
  for (let i = 0; i < subs.length; i += GET_WINDOW) {
    const batch = await Promise.all(subs.slice(i, i + GET_WINDOW).map(async (subject) => {
      try {
        return await api(session, `$JS.API.STREAM.MSG.GET.${stream}`, { last_by_subj: subject }, timeoutMs);
      } catch (err) {
        if (err instanceof JetStreamApiError && err.errCode === NO_MESSAGE_FOUND) return null;
        throw err;
      }
    }));
    for (const r of batch) if (r !== null) got.push(r);
  }
  const keys: KvKeyInfo[] = [];
  for (const r of got) {
    const m = isObject(r.message) ? r.message : {};
    const hdrs = typeof m.hdrs === 'string' ? Buffer.from(m.hdrs, 'base64').toString('latin1') : '';
    const op = hdrs === '' ? null : header(hdrs, 'KV-Operation');
    if (op === 'DEL' || op === 'PURGE') continue;
    const data = typeof m.data === 'string' ? new Uint8Array(Buffer.from(m.data, 'base64')) : new Uint8Array(0);
    keys.push({
      key: String(m.subject).slice(prefix.length),
      revision: num(m.seq, 0),
      value: Buffer.from(data).toString('utf8'),
      data,
      created: new Date(String(m.time)),
    });
  }
  return keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// ---- seed() -----------------------------------------------------------------------------------

const KV_OPTIONS = new Set(['values', 'history', 'ttl', 'storage', 'maxValueSize', 'maxBytes', 'description', 'compression', 'metadata']);

/**
 * A `kv` entry: the values, or a bucket with options. An object with any option name among its
 * properties is the options form (so `{ storage: 'memory' }` is a memory bucket, never a key
 * "storage"): keys named like options go in `{ values: { ... } }`.
 */
function kvSeedArg(bucket: string, v: unknown): KvSeedBucket {
  if (!isObject(v)) throw new InvalidArgumentError('kv', `bucket "${bucket}": expected an object of values, or { values, history, ttl, ... }`);
  const keys = Object.keys(v);
  if (!keys.some((k) => KV_OPTIONS.has(k))) return { values: v as KvSeedValues };
  for (const k of keys) {
    if (!KV_OPTIONS.has(k)) throw new InvalidArgumentError('kv', `bucket "${bucket}": unknown option "${k}" (with options, the keys go in { values: { ... } })`);
  }
  return v as KvSeedBucket;
}

/** A positive integer option, or the default. */
function intOpt(v: unknown, dflt: number, what: string, min: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new InvalidArgumentError('kv', `${what}: expected an integer >= ${min}`);
  return v;
}

/** The STREAM.CREATE body `@nats-io/kv` (3.x) sends for `kvm.create(bucket, options)` on a 2.10 server. */
function kvStreamConfig(bucket: string, o: KvSeedBucket): Json {
  const where = `bucket "${bucket}"`;
  // No upper bound: @nats-io/kv sets none (nats.go's 64 is a client rule, not the server's).
  const history = intOpt(o.history, 1, `${where} history`, 1);
  if (o.storage !== undefined && o.storage !== 'file' && o.storage !== 'memory') throw new InvalidArgumentError('kv', `${where} storage: expected "file" or "memory"`);
  let ttlMs = 0;
  if (o.ttl !== undefined) {
    const t = typeof o.ttl === 'string' ? parseDurationMs(o.ttl) : o.ttl;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new InvalidArgumentError('kv', `${where} ttl: expected milliseconds or a duration such as "1h"`);
    ttlMs = t;
  }
  if (o.description !== undefined && typeof o.description !== 'string') throw new InvalidArgumentError('kv', `${where} description: expected a string`);
  if (o.compression !== undefined && typeof o.compression !== 'boolean') throw new InvalidArgumentError('kv', `${where} compression: expected a boolean`);
  if (o.metadata !== undefined && (!isObject(o.metadata) || !Object.values(o.metadata).every((x) => typeof x === 'string'))) {
    throw new InvalidArgumentError('kv', `${where} metadata: expected an object of strings`);
  }
  const maxBytes = intOpt(o.maxBytes, -1, `${where} maxBytes`, -1);
  const cfg: Json = { name: `${KV_PREFIX}${bucket}`, retention: 'limits', max_msgs_per_subject: history };
  // The client leaves max_bytes out when it is 0.
  if (maxBytes !== 0) cfg.max_bytes = maxBytes;
  cfg.max_msg_size = intOpt(o.maxValueSize, -1, `${where} maxValueSize`, -1);
  cfg.storage = o.storage ?? 'file';
  if (o.description !== undefined && o.description !== '') cfg.description = o.description;
  cfg.subjects = [`$KV.${bucket}.>`];
  if (o.metadata !== undefined) cfg.metadata = { ...o.metadata };
  if (o.compression !== undefined) cfg.compression = o.compression ? 's2' : 'none';
  cfg.discard = 'new';
  cfg.allow_direct = true;
  cfg.num_replicas = 1;
  if (ttlMs > 0) cfg.max_age = Math.round(ttlMs * 1e6);
  cfg.allow_rollup_hdrs = true;
  return cfg;
}

type Outgoing = SeedOutgoing;

function payload(v: unknown, where: string): Uint8Array {
  if (v === undefined) return EMPTY;
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (err) {
    throw new InvalidArgumentError('messages', `${where}: data cannot be written as JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (text === undefined) throw new InvalidArgumentError('messages', `${where}: data cannot be written as JSON`);
  return Buffer.from(text, 'utf8');
}

function headerBlock(h: unknown, where: string): string | null {
  if (h === undefined) return null;
  if (!isObject(h)) throw new InvalidArgumentError('messages', `${where}: headers must be an object of strings`);
  let block = 'NATS/1.0\r\n';
  for (const [k, v] of Object.entries(h)) {
    // Names: printable ASCII but ":"; values: any text (sent as UTF-8, as the clients do) but CR, LF, NUL.
    if (typeof v !== 'string' || !/^[!-9;-~]+$/.test(k) || /[\r\n\0]/.test(v)) {
      throw new InvalidArgumentError('messages', `${where}: invalid header ${JSON.stringify(k)}${typeof v === 'string' && /^[!-9;-~]+$/.test(k) ? ` (its value ${JSON.stringify(v)} has CR, LF or NUL)` : ''}`);
    }
    block += `${k}: ${v}\r\n`;
  }
  return `${block}\r\n`;
}

function streamMessages(name: string, list: unknown): Outgoing[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new InvalidArgumentError('messages', `stream "${name}": expected an array`);
  return list.map((m: unknown, i) => {
    const where = `stream "${name}" message ${i}`;
    if (!isObject(m) || typeof m.subject !== 'string' || m.subject === '') throw new InvalidArgumentError('messages', `${where}: expected { subject, data?, headers? }`);
    const msg = m as unknown as SeedMessage;
    if (!isPublishSubject(msg.subject)) {
      throw new InvalidArgumentError('messages', `${where}: invalid subject ${JSON.stringify(msg.subject)} (no whitespace, empty tokens or wildcards: a client could not publish it)`);
    }
    return { subject: msg.subject, data: payload(msg.data, where), headers: headerBlock(msg.headers, where), stream: name, argument: 'messages' };
  });
}

/** Publishes every message, `SEED_WINDOW` in flight, each acknowledged by its stream. */
async function publishAll(session: RequestSession, out: readonly Outgoing[], timeoutMs: number): Promise<void> {
  for (let i = 0; i < out.length; i += SEED_WINDOW) {
    const batch = out.slice(i, i + SEED_WINDOW);
    const replies = await Promise.all(batch.map((m) => session.request(m.subject, m.data, m.headers, timeoutMs)));
    replies.forEach((r, j) => {
      const m = batch[j];
      if (r.status === 503) throw new InvalidArgumentError('messages', `no stream stores subject "${m.subject}" (meant for "${m.stream}")`);
      const ack = reply(m.subject, r);
      if (ack.stream !== m.stream) throw new InvalidArgumentError('messages', `subject "${m.subject}" was stored by stream "${String(ack.stream)}", not "${m.stream}"`);
    });
  }
}

export async function seed(host: HelperHost, input: JetStreamSeed): Promise<void> {
  if (!isObject(input)) throw new InvalidArgumentError('seed', 'expected an object { kv?, streams?, account? }');
  for (const k of Object.keys(input)) {
    if (!['kv', 'objects', 'streams', 'account', 'timeoutMs'].includes(k)) throw new InvalidArgumentError('seed', `unknown field "${k}" (kv, objects, streams, account, timeoutMs)`);
  }
  const account = accountArg(input.account);
  const timeoutMs = timeoutArg(input.timeoutMs);
  const creates: Array<{ name: string; config: Json }> = [];
  const out: Outgoing[] = [];
  if (input.streams !== undefined) {
    if (!isObject(input.streams)) throw new InvalidArgumentError('streams', 'expected an object of streams by name');
    for (const [name, spec] of Object.entries(input.streams)) {
      streamNameArg(name, 'streams');
      if (!isObject(spec)) throw new InvalidArgumentError('streams', `stream "${name}": expected an object`);
      const { messages, ...config } = spec as SeedStream;
      if ('name' in config && config.name !== name) throw new InvalidArgumentError('streams', `stream "${name}": its name is the key, not "${String(config.name)}"`);
      creates.push({ name, config: { ...config, name } });
      out.push(...streamMessages(name, messages));
    }
  }
  if (input.kv !== undefined) {
    if (!isObject(input.kv)) throw new InvalidArgumentError('kv', 'expected an object of buckets by name');
    for (const [name, spec] of Object.entries(input.kv)) {
      const bucket = bucketArg(name, 'kv');
      const b = kvSeedArg(bucket, spec);
      const config = kvStreamConfig(bucket, b);
      creates.push({ name: String(config.name), config });
      if (b.values !== undefined && !isObject(b.values)) throw new InvalidArgumentError('kv', `bucket "${bucket}" values: expected an object`);
      for (const [key, value] of Object.entries(b.values ?? {})) {
        if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new InvalidArgumentError('kv', `bucket "${bucket}" key "${key}": expected a string or bytes`);
        out.push({ subject: `$KV.${bucket}.${keyArg(key, bucket)}`, data: payload(value, `key "${key}"`), headers: null, stream: String(config.name), argument: 'kv' });
      }
    }
  }
  const objects: Array<(chunkSize: number) => Outgoing[]> = [];
  if (input.objects !== undefined) {
    if (!isObject(input.objects)) throw new InvalidArgumentError('objects', 'expected an object of buckets by name');
    for (const [name, spec] of Object.entries(input.objects)) {
      const { config, out: msgs } = objectBucketSeed(bucketArg(name, 'objects'), spec);
      creates.push({ name: String(config.name), config });
      objects.push(msgs);
    }
  }
  if (creates.length === 0) return;
  await withSession(host, account, async (session) => {
    if (!host.enabled) throw new JetStreamApiError(`$JS.API.STREAM.CREATE.${creates[0].name}`, 503, 0, NOT_ENABLED);
    // Objects are cut into chunks as @nats-io/obj cuts them: 128 KiB, or max_payload when smaller.
    const max = session.maxPayload;
    for (const build of objects) out.push(...build(Math.min(OBJECT_CHUNK, max)));
    checkPayloads(out, max);
    for (const c of creates) await api(session, `$JS.API.STREAM.CREATE.${c.name}`, c.config, timeoutMs);
    await publishAll(session, out, timeoutMs);
  });
}

/** Refuses, before anything is created, a message the server would refuse as over `max_payload`. */
function checkPayloads(out: readonly Outgoing[], maxPayload: number): void {
  if (!(maxPayload > 0)) return;
  for (const m of out) {
    const size = m.data.byteLength + (m.headers === null ? 0 : Buffer.byteLength(m.headers, 'utf8'));
    if (size > maxPayload) {
      throw new InvalidArgumentError(m.argument, `the message to "${m.subject}" (stream "${m.stream}") is ${size} bytes, over the server's max_payload of ${maxPayload} bytes`);
    }
  }
}

// ---- reset() ----------------------------------------------------------------------------------

export async function reset(host: HelperHost, options: JetStreamResetOptions | undefined): Promise<JetStreamResetResult> {
  if (options !== undefined && !isObject(options)) throw new InvalidArgumentError('options', 'expected an object');
  const account = queryArg(options);
  const purge = options?.purge ?? false;
  if (typeof purge !== 'boolean') throw new InvalidArgumentError('purge', 'expected a boolean');
  const timeoutMs = timeoutArg(options?.timeoutMs);
  const byAccount = new Map<string, JetStreamStreamInfo[]>();
  for (const s of await host.streams(account)) {
    const list = byAccount.get(s.account) ?? [];
    list.push(s);
    byAccount.set(s.account, list);
  }
  let streams = 0;
  let consumers = 0;
  const failed: Array<{ name: string; err: unknown }> = [];
  /** Deletes `s`; false when it was gone already. */
  const remove = async (session: RequestSession, s: JetStreamStreamInfo): Promise<boolean> => {
    try {
      await api(session, `$JS.API.STREAM.DELETE.${s.name}`, null, timeoutMs);
    } catch (err) {
      // Deleted meanwhile (by the test's own cleanup): nothing left to do.
      if (err instanceof JetStreamApiError && err.errCode === STREAM_NOT_FOUND) return false;
      throw err;
    }
    consumers += s.state.consumerCount;
    return true;
  };
  /** Purges `s`; a stream the server will not purge (sealed, deny_purge) is deleted instead. */
  const empty = async (session: RequestSession, s: JetStreamStreamInfo): Promise<boolean> => {
    if (s.config.sealed === true || s.config.deny_purge === true) return remove(session, s);
    try {
      await api(session, `$JS.API.STREAM.PURGE.${s.name}`, null, timeoutMs);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.errCode === STREAM_NOT_FOUND) return false;
      // Sealed or made deny_purge since the listing.
      if (err instanceof JetStreamApiError && PURGE_REFUSED.has(err.errCode)) return remove(session, s);
      throw err;
    }
    return true;
  };
  // Every stream is tried, whatever happens to the others (no error may hide what was done).
  await Promise.all([...byAccount].map(async ([acc, list]) => {
    try {
      await withSession(host, acc, (session) => Promise.all(list.map(async (s) => {
        try {
          if (await (purge ? empty(session, s) : remove(session, s))) streams++;
        } catch (err) {
          failed.push({ name: `${s.account}/${s.name}`, err });
        }
      })));
    } catch (err) {
      for (const s of list) failed.push({ name: `${s.account}/${s.name}`, err });
    }
  }));
  if (failed.length > 0) {
    const first = failed[0].err;
    if (first instanceof Error) {
      first.message += ` (reset() ${purge ? 'purged' : 'deleted'} ${streams} stream(s) and could not ${purge ? 'purge' : 'delete'} ${failed.length}: ${failed.map((f) => f.name).sort().join(', ')})`;
    }
    throw first;
  }
  return { streams, consumers };
}
