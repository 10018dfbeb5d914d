/**
 * `seed({ objects })`: Object Store buckets written as `@nats-io/obj` (3.x) writes them, so that
 * the client reads them as its own: the stream `OBJ_<bucket>` with the configuration
 * `objm.create()` sends, each object's chunks (128 KiB, or the server's max_payload when smaller) on `$O.<bucket>.C.<nuid>`, then its
 * metadata (name, size, chunks, SHA-256 digest, mtime) on `$O.<bucket>.M.<base64url name>` with
 * a subject rollup.
 */
import { createHash, randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { parseDurationMs } from '../config/duration.js';
import type { ObjectSeedBucket, ObjectSeedValues } from './jetstream-helper-types.js';

/** The chunk size `@nats-io/obj` uses (unless the server's max_payload is smaller). */
export const OBJECT_CHUNK = 128 * 1024;
const OPTIONS = new Set(['objects', 'description', 'ttl', 'storage', 'maxBytes', 'compression', 'metadata']);
const NUID_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A message of a seed: subject, payload, header block, and the stream that must store it. */
export interface SeedOutgoing {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: string | null;
  readonly stream: string;
  /** The seed field it comes from, for errors: `messages`, `kv` or `objects`. */
  readonly argument: 'messages' | 'kv' | 'objects';
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** A duration option (milliseconds or a Go duration), in milliseconds. */
export function durationOpt(v: unknown, argument: string, where: string): number {
  if (v === undefined) return 0;
  const t = typeof v === 'string' ? parseDurationMs(v) : v;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new InvalidArgumentError(argument, `${where} ttl: expected milliseconds or a duration such as "1h"`);
  return t;
}

/** A 22-character id like the clients' nuid. */
function nuid(): string {
  const bytes = randomBytes(22);
  let s = '';
  for (const b of bytes) s += NUID_CHARS[b % NUID_CHARS.length];
  return s;
}

function base64url(b: Uint8Array): string {
  return Buffer.from(b).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * An `objects` entry: the objects by name, or a bucket with options. An object with any option
 * name among its properties is the options form: objects named like options go in
 * `{ objects: { ... } }`.
 */
function bucketArg(bucket: string, v: unknown): ObjectSeedBucket {
  if (!isPlainObject(v)) throw new InvalidArgumentError('objects', `bucket "${bucket}": expected an object of objects by name, or { objects, description, ttl, ... }`);
  const keys = Object.keys(v);
  if (!keys.some((k) => OPTIONS.has(k))) return { objects: v as ObjectSeedValues };
  for (const k of keys) {
    if (!OPTIONS.has(k)) throw new InvalidArgumentError('objects', `bucket "${bucket}": unknown option "${k}" (with options, the objects go in { objects: { ... } })`);
  }
  return v as ObjectSeedBucket;
}

/**
 * The stream config of one seeded Object Store bucket, and the function that writes its
 * messages for a chunk size (the arguments are all checked before it returns).
 */
export function objectBucketSeed(bucket: string, spec: unknown): { config: Record<string, unknown>; out: (chunkSize: number) => SeedOutgoing[] } {
  const b = bucketArg(bucket, spec);
  const where = `bucket "${bucket}"`;
  if (b.storage !== undefined && b.storage !== 'file' && b.storage !== 'memory') throw new InvalidArgumentError('objects', `${where} storage: expected "file" or "memory"`);
  if (b.description !== undefined && typeof b.description !== 'string') throw new InvalidArgumentError('objects', `${where} description: expected a string`);
  if (b.compression !== undefined && typeof b.compression !== 'boolean') throw new InvalidArgumentError('objects', `${where} compression: expected a boolean`);
  if (b.maxBytes !== undefined && (typeof b.maxBytes !== 'number' || !Number.isInteger(b.maxBytes) || b.maxBytes < -1)) {
    throw new InvalidArgumentError('objects', `${where} maxBytes: expected an integer >= -1`);
  }
  if (b.metadata !== undefined && (!isPlainObject(b.metadata) || !Object.values(b.metadata).every((x) => typeof x === 'string'))) {
    throw new InvalidArgumentError('objects', `${where} metadata: expected an object of strings`);
  }
  const ttlMs = durationOpt(b.ttl, 'objects', where);
  const stream = `OBJ_${bucket}`;
  // The order and fields of `objm.create(bucket, { ttl, description, storage, max_bytes, metadata, compression })`.
  const config: Record<string, unknown> = { max_age: Math.round(ttlMs * 1e6) };
  if (b.description !== undefined) config.description = b.description;
  if (b.storage !== undefined) config.storage = b.storage;
  if (b.maxBytes !== undefined) config.max_bytes = b.maxBytes;
  if (b.metadata !== undefined) config.metadata = { ...b.metadata };
  config.name = stream;
  config.allow_direct = true;
  config.allow_rollup_hdrs = true;
  config.num_replicas = 1;
  config.discard = 'new';
  config.subjects = [`$O.${bucket}.C.>`, `$O.${bucket}.M.>`];
  if (b.compression !== undefined) config.compression = b.compression ? 's2' : 'none';

  if (b.objects !== undefined && !isPlainObject(b.objects)) throw new InvalidArgumentError('objects', `${where} objects: expected an object`);
  const objects: Array<[string, Uint8Array]> = [];
  for (const [name, value] of Object.entries(b.objects ?? {})) {
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new InvalidArgumentError('objects', `${where} object "${name}": expected a string or bytes`);
    // The client encodes the name with btoa(): Latin-1 only.
    if (name === '' || /[^\u0000-\u00ff]/.test(name)) throw new InvalidArgumentError('objects', `${where}: invalid object name ${JSON.stringify(name)}`);
    objects.push([name, typeof value === 'string' ? Buffer.from(value, 'utf8') : value]);
  }
  return { config, out: (chunkSize) => objects.flatMap(([name, data]) => objectMessages(bucket, stream, name, data, chunkSize)) };
}

/** The chunks and the metadata of one object, as `@nats-io/obj`'s `put()` writes them. */
function objectMessages(bucket: string, stream: string, name: string, data: Uint8Array, chunkSize: number): SeedOutgoing[] {
  const out: SeedOutgoing[] = [];
  {
    const id = nuid();
    const chunkSubject = `$O.${bucket}.C.${id}`;
    let chunks = 0;
    for (let at = 0; at < data.length; at += chunkSize) {
      out.push({ subject: chunkSubject, data: data.subarray(at, Math.min(data.length, at + chunkSize)), headers: null, stream, argument: 'objects' });
      chunks++;
    }
    const meta = {
      bucket,
      nuid: id,
      size: data.length,
      chunks,
      name,
      description: '',
      options: { max_chunk_size: chunkSize },
      mtime: new Date().toISOString(),
      digest: `SHA-256=${base64url(createHash('sha256').update(data).digest())}`,
      deleted: false,
    };
    out.push({
      subject: `$O.${bucket}.M.${base64url(Buffer.from(name, 'latin1'))}`,
      data: Buffer.from(JSON.stringify(meta), 'utf8'),
      headers: 'NATS/1.0\r\nNats-Rollup: sub\r\n\r\n',
      stream,
      argument: 'objects',
    });
  }
  return out;
}
