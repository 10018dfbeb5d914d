/**
 * `server.jetstream`: the streams and consumers of a server for tests, on both backends. The
 * backend lists them (the engine in this process, or `/jsz` of a nats-server process); this file
 * filters, waits and reads nats-server's JSON (both backends go through the same ConsumerInfo JSON).
 */
import { InvalidArgumentError } from '../errors.js';
import type {
  JetStreamConsumerConfig,
  JetStreamConsumerInfo,
  JetStreamQuery,
  JetStreamSequenceInfo,
  JetStreamStreamConfig,
  JetStreamStreamInfo,
  JetStreamView,
  WaitForConsumerOptions,
  WaitForStreamOptions,
  WaitOptions,
} from './types.js';
import type { Duration } from '../config/options.js';
import type { ConsumerFault, EmbeddedFeatures, RequestSession } from './backend.js';
import { kvBucket, kvBuckets, objectStore, objectStores, reset, seed } from './jetstream-helpers.js';
import type {
  JetStreamResetOptions,
  JetStreamResetResult,
  JetStreamSeed,
  KvBucketInfo,
  KvBucketQuery,
  ObjectStoreInfo,
} from './jetstream-helper-types.js';

/** What the view needs from its handle. */
export interface JetStreamViewHost {
  readonly enabled: boolean;
  readonly storeDir: string | null;
  /** Every stream of the running server (of `account` only, when given). */
  streams(account: string | undefined): Promise<JetStreamStreamInfo[]>;
  /** The consumers of the streams named `stream` (of `account` only, when given). */
  consumers(account: string | undefined, stream: string): Promise<JetStreamConsumerInfo[]>;
  /** The embedded-only features, or `UnsupportedError` naming `feature` on the process backend. */
  embedded(feature: string): EmbeddedFeatures;
  /** A request session in `account` (the default account when undefined), for the API helpers. */
  openSession(account: string | undefined): Promise<RequestSession>;
  /** The handle's wait: polls `cond` across restarts until it is true. */
  waitFor(cond: () => Promise<boolean>, what: string, timeout: Duration | undefined): Promise<void>;
}

function queryArg(query: JetStreamQuery | undefined): string | undefined {
  if (query === undefined) return undefined;
  if (typeof query !== 'object' || query === null) throw new InvalidArgumentError('query', 'expected an object');
  const { account } = query;
  if (account !== undefined && (typeof account !== 'string' || account === '')) throw new InvalidArgumentError('account', 'expected a non-empty string');
  return account;
}

function nameArg(name: unknown, argument = 'name', what = 'a stream name'): string {
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentError(argument, `expected ${what}`);
  return name;
}

/** A count or sequence condition: undefined, or an integer >= 0. */
function countArg(v: unknown, argument: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new InvalidArgumentError(argument, 'expected an integer >= 0');
  return v;
}

/** The consumers of one stream: refused when several accounts have it and none was named. */
function oneAccount(list: JetStreamConsumerInfo[], stream: string): JetStreamConsumerInfo[] {
  const accounts = [...new Set(list.map((c) => c.account))];
  if (accounts.length > 1) {
    throw new InvalidArgumentError('stream', `stream "${stream}" exists in accounts ${accounts.sort().join(', ')}: pass { account }`);
  }
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The conditions of {@link WaitForConsumerOptions}, checked. */
interface ConsumerConditions {
  pending?: number;
  ackPending?: number;
  redelivered?: number;
  waiting?: number;
  ackFloor?: number;
  delivered?: number;
}

function conditionsArg(o: WaitForConsumerOptions): ConsumerConditions {
  const c: ConsumerConditions = {};
  for (const k of ['pending', 'ackPending', 'redelivered', 'waiting', 'ackFloor', 'delivered'] as const) {
    const v = countArg(o[k], k);
    if (v !== undefined) c[k] = v;
  }
  return c;
}

function meets(ci: JetStreamConsumerInfo, c: ConsumerConditions): boolean {
  const st = ci.state;
  return (c.pending === undefined || st.pending === c.pending)
    && (c.ackPending === undefined || st.ackPending === c.ackPending)
    && (c.redelivered === undefined || st.redelivered === c.redelivered)
    && (c.waiting === undefined || st.waiting === c.waiting)
    && (c.ackFloor === undefined || st.ackFloor.streamSeq >= c.ackFloor)
    && (c.delivered === undefined || st.delivered.streamSeq >= c.delivered);
}

function describeConditions(c: ConsumerConditions): string {
  const parts = Object.entries(c).map(([k, v]) => (k === 'ackFloor' || k === 'delivered' ? `${k} >= ${String(v)}` : `${k} = ${String(v)}`));
  return parts.length === 0 ? '' : ` with ${parts.join(', ')}`;
}

function pick(list: readonly JetStreamStreamInfo[], name: string): JetStreamStreamInfo | null {
  const found = list.filter((s) => s.name === name);
  if (found.length > 1) {
    throw new InvalidArgumentError('name', `stream "${name}" exists in accounts ${found.map((s) => s.account).join(', ')}: pass { account }`);
  }
  return found[0] ?? null;
}

/** The `server.jetstream` object of a handle. */
export class JetStreamViewImpl implements JetStreamView {
  constructor(private readonly host: JetStreamViewHost) {}

  get enabled(): boolean {
    return this.host.enabled;
  }

  get storeDir(): string | null {
    return this.host.storeDir;
  }

  async streams(query?: JetStreamQuery): Promise<JetStreamStreamInfo[]> {
    const list = await this.host.streams(queryArg(query));
    return list.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async stream(name: string, query?: JetStreamQuery): Promise<JetStreamStreamInfo | null> {
    const n = nameArg(name);
    return pick(await this.host.streams(queryArg(query)), n);
  }

  async waitForStream(name: string, options: WaitForStreamOptions = {}): Promise<JetStreamStreamInfo> {
    const n = nameArg(name);
    const account = queryArg(options);
    const messages = options.messages ?? 0;
    if (typeof messages !== 'number' || !Number.isInteger(messages) || messages < 0) {
      throw new InvalidArgumentError('messages', 'expected an integer >= 0');
    }
    let seen: JetStreamStreamInfo | null = null;
    const what = `stream "${n}"${account === undefined ? '' : ` in account ${account}`}${messages > 0 ? ` with ${messages} message(s)` : ''}`;
    await this.host.waitFor(
      async () => {
        const s = pick(await this.host.streams(account), n);
        if (s === null || s.state.messages < messages) return false;
        seen = s;
        return true;
      },
      what,
      options.timeoutMs,
    );
    return seen as unknown as JetStreamStreamInfo;
  }

  async consumers(stream: string, query?: JetStreamQuery): Promise<JetStreamConsumerInfo[]> {
    const s = nameArg(stream, 'stream');
    return oneAccount(await this.host.consumers(queryArg(query), s), s);
  }

  async consumer(stream: string, name: string, query?: JetStreamQuery): Promise<JetStreamConsumerInfo | null> {
    const s = nameArg(stream, 'stream');
    const n = nameArg(name, 'name', 'a consumer name');
    return oneAccount(await this.host.consumers(queryArg(query), s), s).find((c) => c.name === n) ?? null;
  }

  async waitForConsumer(stream: string, name: string, options: WaitForConsumerOptions = {}): Promise<JetStreamConsumerInfo> {
    const s = nameArg(stream, 'stream');
    const n = nameArg(name, 'name', 'a consumer name');
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'expected an object');
    const account = queryArg(options);
    const cond = conditionsArg(options);
    let seen: JetStreamConsumerInfo | null = null;
    let last: JetStreamConsumerInfo | null = null;
    const what = `consumer "${s} > ${n}"${account === undefined ? '' : ` in account ${account}`}${describeConditions(cond)}`;
    try {
      await this.host.waitFor(
        async () => {
          const c = oneAccount(await this.host.consumers(account, s), s).find((x) => x.name === n) ?? null;
          last = c;
          if (c === null || !meets(c, cond)) return false;
          seen = c;
          return true;
        },
        what,
        options.timeoutMs,
      );
    } catch (err) {
      // Say where the consumer stood when the wait gave up.
      const l = last as JetStreamConsumerInfo | null;
      if (err instanceof Error && l !== null) {
        const st = l.state;
        err.message += ` (last seen: pending ${st.pending}, ackPending ${st.ackPending}, redelivered ${st.redelivered}, `
          + `waiting ${st.waiting}, ackFloor ${st.ackFloor.streamSeq}, delivered ${st.delivered.streamSeq})`;
      }
      throw err;
    }
    return seen as unknown as JetStreamConsumerInfo;
  }

  async waitForAckFloor(stream: string, name: string, streamSeq: number, options: WaitOptions & JetStreamQuery = {}): Promise<JetStreamConsumerInfo> {
    const seq = countArg(streamSeq, 'streamSeq');
    if (seq === undefined) throw new InvalidArgumentError('streamSeq', 'expected an integer >= 0');
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'expected an object');
    return this.waitForConsumer(stream, name, { ...options, ackFloor: seq });
  }

  kvBuckets(query?: JetStreamQuery): Promise<KvBucketInfo[]> {
    return kvBuckets(this.host, query);
  }

  kvBucket(name: string, query?: KvBucketQuery): Promise<KvBucketInfo | null> {
    return kvBucket(this.host, name, query);
  }

  objectStores(query?: JetStreamQuery): Promise<ObjectStoreInfo[]> {
    return objectStores(this.host, query);
  }

  objectStore(name: string, query?: JetStreamQuery): Promise<ObjectStoreInfo | null> {
    return objectStore(this.host, name, query);
  }

  seed(input: JetStreamSeed): Promise<void> {
    return seed(this.host, input);
  }

  reset(options?: JetStreamResetOptions): Promise<JetStreamResetResult> {
    return reset(this.host, options);
  }

  expireAckWait(stream: string, consumer: string, query?: JetStreamQuery): void {
    this.fault('expireAckWait()', stream, consumer, query, { kind: 'expireAckWait' });
  }

  pauseConsumer(stream: string, consumer: string, query?: JetStreamQuery): void {
    this.fault('pauseConsumer()', stream, consumer, query, { kind: 'pause', paused: true });
  }

  resumeConsumer(stream: string, consumer: string, query?: JetStreamQuery): void {
    this.fault('resumeConsumer()', stream, consumer, query, { kind: 'pause', paused: false });
  }

  dropAcks(stream: string, consumer: string, count: number, query?: JetStreamQuery): void {
    const features = this.host.embedded('dropAcks()');
    const n = countArg(count, 'count');
    if (n === undefined) throw new InvalidArgumentError('count', 'expected an integer >= 0');
    features.consumerFault(queryArg(query), nameArg(stream, 'stream'), nameArg(consumer, 'consumer', 'a consumer name'), { kind: 'dropAcks', count: n });
  }

  private fault(feature: string, stream: string, consumer: string, query: JetStreamQuery | undefined, f: ConsumerFault): void {
    const features = this.host.embedded(feature);
    features.consumerFault(queryArg(query), nameArg(stream, 'stream'), nameArg(consumer, 'consumer', 'a consumer name'), f);
  }
}

// ---- nats-server's JSON -----------------------------------------------------------------------

const ZERO_TIME = '0001-01-01T00:00:00Z';

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function time(v: unknown): Date | null {
  return typeof v === 'string' && v !== ZERO_TIME ? new Date(v) : null;
}

/**
 * A stream of `/jsz?accounts=true&streams=true&config=true`'s `account_details[].stream_detail[]`
 * (the same `config` and `state` JSON as `$JS.API.STREAM.INFO`).
 */
export function streamInfoFromJson(account: string, detail: Record<string, unknown>): JetStreamStreamInfo {
  const st = (detail.state ?? {}) as Record<string, unknown>;
  const name = String(detail.name);
  return {
    account,
    name,
    created: new Date(String(detail.created)),
    config: { ...((detail.config ?? {}) as object), name } as JetStreamStreamConfig,
    state: {
      messages: num(st.messages),
      bytes: num(st.bytes),
      firstSeq: num(st.first_seq),
      lastSeq: num(st.last_seq),
      firstTime: num(st.messages) > 0 ? time(st.first_ts) : null,
      lastTime: time(st.last_ts),
      numSubjects: num(st.num_subjects),
      numDeleted: num(st.num_deleted),
      consumerCount: num(st.consumer_count),
    },
  };
}

function seqInfo(v: unknown): JetStreamSequenceInfo {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
  return { consumerSeq: num(o.consumer_seq), streamSeq: num(o.stream_seq), lastActive: time(o.last_active) };
}

/**
 * A consumer of `$JS.API.CONSUMER.INFO`'s JSON, or of `/jsz?consumers=true&config=true`'s
 * `consumer_detail[]` (the same ConsumerInfo): both backends read it this way.
 */
export function consumerInfoFromJson(account: string, detail: Record<string, unknown>): JetStreamConsumerInfo {
  return {
    account,
    stream: String(detail.stream_name),
    name: String(detail.name),
    created: new Date(String(detail.created)),
    config: { ...((detail.config ?? {}) as object) } as JetStreamConsumerConfig,
    state: {
      delivered: seqInfo(detail.delivered),
      ackFloor: seqInfo(detail.ack_floor),
      pending: num(detail.num_pending),
      ackPending: num(detail.num_ack_pending),
      redelivered: num(detail.num_redelivered),
      waiting: num(detail.num_waiting),
    },
  };
}
