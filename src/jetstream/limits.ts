/**
 * JetStream's resource limits, as nats-server 2.10.29 checks them (server/jetstream.go:
 * checkLimits, checkBytesLimits, sufficientResources, diffCheckedLimits, wouldExceedLimits;
 * server/jetstream_api.go: tieredReservation, jsNonClusteredStreamLimitsCheck). Pure functions
 * over the numbers the engine hands in; a single server knows only the account tier `""`
 * (limits from a config file have no replica tiers).
 */
import { jsError, type ApiError } from './errors.js';
import type { JsAccountLimits } from './types.js';

/** The server's reservations (`max_bytes` of its streams) and its maxima. */
export interface ServerResources {
  readonly memReserved: number;
  readonly storeReserved: number;
  readonly maxMemory: number;
  readonly maxStore: number;
}

/** The part of a stream config the limit checks read (a request as decoded, or a filled config). */
export interface LimitedConfig {
  readonly name: string;
  readonly storage: 'memory' | 'file' | undefined;
  readonly max_bytes: number;
  readonly max_consumers: number;
  readonly num_replicas: number;
}

/**
 * checkLimits: a stream's `max_consumers` against the account's (10026), then its bytes
 * against the account's limit given `currentRes` already reserved, and (with `server`) the
 * server's (10028 memory, 10047 file). A `max_bytes` below 0 counts as 1 byte, as in
 * nats-server; a storage the request left out (undefined) is not checked.
 */
export function checkLimits(
  selected: JsAccountLimits,
  cfg: LimitedConfig,
  server: ServerResources | null,
  currentRes: number,
  maxBytesOffset: number,
): ApiError | undefined {
  if (cfg.max_consumers > 0 && selected.max_consumers > 0 && cfg.max_consumers > selected.max_consumers) {
    return jsError('JSMaximumConsumersLimitErr');
  }
  const total = (cfg.max_bytes < 0 ? 1 : cfg.max_bytes) + maxBytesOffset;
  if (cfg.storage === 'memory') {
    if (selected.max_memory >= 0 && currentRes + total > selected.max_memory) return jsError('JSMemoryResourcesExceededErr');
    if (server !== null && server.memReserved + total > server.maxMemory) return jsError('JSMemoryResourcesExceededErr');
  } else if (cfg.storage === 'file') {
    if (selected.max_storage >= 0 && currentRes + total > selected.max_storage) return jsError('JSStorageResourcesExceededErr');
    if (server !== null && server.storeReserved + total > server.maxStore) return jsError('JSStorageResourcesExceededErr');
  }
  return undefined;
}

/**
 * tieredReservation for the tier `""`: what the account's other streams of the same storage
 * reserve (`max_bytes` > 0, times their replicas).
 */
export function tieredReservation(streams: Iterable<LimitedConfig>, cfg: Pick<LimitedConfig, 'name' | 'storage'>): number {
  let reserved = 0;
  for (const s of streams) {
    if (s.max_bytes > 0 && s.storage === cfg.storage && s.name !== cfg.name) reserved += s.num_replicas * s.max_bytes;
  }
  return reserved;
}

/** The parts of account limits sufficientResources adds up. */
export interface ByteLimits {
  readonly max_memory: number;
  readonly max_storage: number;
}

/**
 * sufficientResources (a single server): can the server grant `limits` (an account's, or the
 * change of one: {@link limitsDelta}) on top of the streams' reservations, and on top of what
 * the accounts with JetStream (`granted`) were given? Only positive limits count. 10028 / 10047.
 */
export function sufficientResources(limits: ByteLimits, server: ServerResources, granted: Iterable<ByteLimits>): ApiError | undefined {
  const mem = Math.max(0, limits.max_memory);
  const store = Math.max(0, limits.max_storage);
  if (server.memReserved + mem > server.maxMemory) return jsError('JSMemoryResourcesExceededErr');
  if (server.storeReserved + store > server.maxStore) return jsError('JSStorageResourcesExceededErr');
  let memGranted = 0;
  let storeGranted = 0;
  for (const g of granted) {
    memGranted += Math.max(0, g.max_memory);
    storeGranted += Math.max(0, g.max_storage);
  }
  if (memGranted + mem > server.maxMemory) return jsError('JSMemoryResourcesExceededErr');
  if (storeGranted + store > server.maxStore) return jsError('JSStorageResourcesExceededErr');
  return undefined;
}

/** diffCheckedLimits: what new limits add to the old (a reload's UpdateJetStreamLimits checks only that). */
export function limitsDelta(old: ByteLimits, next: ByteLimits): ByteLimits {
  return { max_memory: next.max_memory - old.max_memory, max_storage: next.max_storage - old.max_storage };
}

/**
 * jsa.wouldExceedLimits: would `size` more bytes of a storage take the account over its
 * limits? nats-server 2.10 compares the account's total of that storage with both the
 * account's maximum and its per-stream maximum (`memory_max_stream_bytes`,
 * `storage_max_stream_bytes`), and checks nothing while the account has no usage recorded
 * yet (`inUse == nil`: before its first stored message).
 */
export function wouldExceedLimits(limits: JsAccountLimits, memory: boolean, inUse: number, size: number): boolean {
  const total = inUse + size;
  const streamMax = memory ? limits.memory_max_stream_bytes : limits.storage_max_stream_bytes;
  const max = memory ? limits.max_memory : limits.max_storage;
  return (streamMax > 0 && total > streamMax) || (max >= 0 && total > max);
}

/** An API error as Go prints it (`ApiError.Error()`): "description (err_code)". */
export function apiErrorText(e: ApiError): string {
  return `${e.description} (${e.err_code})`;
}
