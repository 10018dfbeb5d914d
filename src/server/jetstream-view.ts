/**
 * `server.jetstream`: the streams of a server for tests, on both backends. The backend lists
 * them (the engine in this process, or `/jsz` of a nats-server process); this file filters,
 * waits and reads nats-server's JSON.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JetStreamQuery, JetStreamStreamConfig, JetStreamStreamInfo, JetStreamView, WaitForStreamOptions } from './types.js';
import type { Duration } from '../config/options.js';

/** What the view needs from its handle. */
export interface JetStreamViewHost {
  readonly enabled: boolean;
  readonly storeDir: string | null;
  /** Every stream of the running server (of `account` only, when given). */
  streams(account: string | undefined): Promise<JetStreamStreamInfo[]>;
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

function nameArg(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('name', 'expected a stream name');
  return name;
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
