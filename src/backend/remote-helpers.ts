/**
 * The `server.jetstream` API helpers (`seed()`, `reset()`, `kvBuckets()`, ...) for a server known
 * only by its URL: the broker of a vitest global setup (the test files get `inject('natsUrl')`,
 * not the handle), or any NATS server with JetStream. One client connection, in the account its
 * credentials log into; the streams are listed with `$JS.API.STREAM.LIST`.
 */
import { InvalidArgumentError } from '../errors.js';
import { GLOBAL_ACCOUNT } from '../broker/account.js';
import type { RequestSession } from '../server/backend.js';
import type { JetStreamStreamInfo } from '../server/types.js';
import type {
  JetStreamHelpers,
  JetStreamQuery,
  JetStreamResetOptions,
  JetStreamResetResult,
  JetStreamSeed,
} from '../server/jetstream-helper-types.js';
import { streamInfoFromJson } from '../server/jetstream-view.js';
import { api, kvBucket, kvBuckets, objectStore, objectStores, reset, seed, type HelperHost } from '../server/jetstream-helpers.js';
import { openClientSession } from './api-client.js';
import type { SessionCredentials } from './sessions.js';

/** How {@link jetstreamHelpers} connects. Credentials in the URL (`nats://user:pass@host:port`) work too. */
export interface JetStreamHelpersOptions {
  /** User name to connect as (with `pass`); overrides the URL's. */
  user?: string;
  /** Password of `user`; overrides the URL's. */
  pass?: string;
  /** Authentication token to connect with. */
  token?: string;
  /**
   * The account the credentials log into: the name the streams are reported under (`account`
   * of the results), as a client cannot ask which account it is in. Default `$G`. The
   * connection reaches only that account: a call with another `{ account }` throws
   * `InvalidArgumentError` (connect with that account's credentials instead).
   */
  account?: string;
  /** How long connecting and each request may take. Default 5 s. */
  timeoutMs?: number;
}

/** {@link JetStreamHelpers} over one client connection; `close()` it when done. */
export interface RemoteJetStreamHelpers extends JetStreamHelpers {
  /** The streams of the connection's account (`$JS.API.STREAM.LIST`), sorted by name. */
  streams(): Promise<JetStreamStreamInfo[]>;
  /** Closes the connection. Safe to call twice. */
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 5000;

function target(url: string, options: JetStreamHelpersOptions): { host: string; port: number; credentials: SessionCredentials | null } {
  if (typeof url !== 'string' || url === '') throw new InvalidArgumentError('url', 'expected a NATS URL such as nats://127.0.0.1:4222');
  let u: URL;
  try {
    u = new URL(url.includes('://') ? url : `nats://${url}`);
  } catch {
    throw new InvalidArgumentError('url', `not a URL: ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'nats:') throw new InvalidArgumentError('url', `expected a nats:// URL, got ${u.protocol}//`);
  const port = u.port === '' ? 4222 : Number(u.port);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const user = options.user ?? (u.username === '' ? undefined : decodeURIComponent(u.username));
  const pass = options.pass ?? (u.password === '' ? undefined : decodeURIComponent(u.password));
  let credentials: SessionCredentials | null = null;
  if (options.token !== undefined) credentials = { auth_token: options.token };
  else if (user !== undefined && pass === undefined) credentials = { auth_token: user };
  else if (user !== undefined) credentials = { user, pass };
  return { host, port, credentials };
}

/**
 * Connects the `server.jetstream` API helpers to the server at `url` — for tests that share the
 * broker of a global setup and so have its URL, not its handle.
 *
 * @example
 * ```ts
 * const js = await jetstreamHelpers(inject('natsUrl'));
 * await js.seed({ kv: { config: { 'app.port': '8080' } } });
 * js.close();
 * ```
 * @throws {InvalidArgumentError} `url` is not a `nats://` URL
 * @throws {BackendError} the server refused the connection (e.g. authorization)
 *
 * The helpers then throw `InvalidArgumentError` for an `{ account }` other than the
 * connection's, and `JetStreamApiError` when the server refuses the stream listing (e.g. no
 * JetStream for the account: 503).
 */
export async function jetstreamHelpers(url: string, options: JetStreamHelpersOptions = {}): Promise<RemoteJetStreamHelpers> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'expected an object');
  const { host, port, credentials } = target(url, options);
  const label = options.account ?? GLOBAL_ACCOUNT;
  if (typeof label !== 'string' || label === '') throw new InvalidArgumentError('account', 'expected a non-empty string');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) throw new InvalidArgumentError('timeoutMs', 'expected a number of milliseconds > 0');
  const session = await openClientSession(host, port, credentials, timeoutMs);
  // The helpers close the sessions they open; this one lives until close().
  const shared: RequestSession = {
    request: (...args) => session.request(...args),
    get maxPayload() {
      return session.maxPayload;
    },
    close: () => undefined,
  };
  /** The one account this connection reaches. */
  const own = (account: string | undefined): void => {
    if (account !== undefined && account !== label) {
      throw new InvalidArgumentError(
        'account',
        `this connection is in account "${label}" (jetstreamHelpers' account option${options.account === undefined ? ', default $G' : ''}), not "${account}": `
          + `pass { account: ${JSON.stringify(account)} } to jetstreamHelpers() if its credentials log into that account, else connect with that account's credentials`,
      );
    }
  };
  const list = async (): Promise<JetStreamStreamInfo[]> => {
    const out: JetStreamStreamInfo[] = [];
    for (;;) {
      // The server's refusals (503 without JetStream, an API error) surface as JetStreamApiError.
      const json = await api(session, '$JS.API.STREAM.LIST', { offset: out.length }, timeoutMs);
      const page = Array.isArray(json.streams) ? (json.streams as Array<Record<string, unknown>>) : [];
      for (const si of page) out.push(streamInfoFromJson(label, { ...si, name: (si.config as { name?: string } | undefined)?.name }));
      const total = typeof json.total === 'number' ? json.total : 0;
      if (page.length === 0 || out.length >= total) return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
  };
  const host_: HelperHost = {
    enabled: true,
    streams: async (account) => {
      own(account);
      return list();
    },
    openSession: async (account) => {
      own(account);
      return shared;
    },
  };
  return {
    streams: list,
    kvBuckets: (query?: JetStreamQuery) => kvBuckets(host_, query),
    kvBucket: (name, query) => kvBucket(host_, name, { timeoutMs, ...query }),
    objectStores: (query?: JetStreamQuery) => objectStores(host_, query),
    objectStore: (name, query) => objectStore(host_, name, query),
    seed: (input: JetStreamSeed) => seed(host_, { timeoutMs, ...input }),
    reset: (o?: JetStreamResetOptions) => reset(host_, { timeoutMs, ...o }),
    close: () => session.close(),
  };
}

/**
 * `reset()` of the server at `url` in one call (connect, reset, close): every stream of the
 * connection's account deleted, or purged with `{ purge: true }`.
 *
 * @example
 * ```ts
 * beforeEach(() => resetJetStream(inject('natsUrl')));
 * ```
 */
export async function resetJetStream(url: string, options: JetStreamResetOptions & JetStreamHelpersOptions = {}): Promise<JetStreamResetResult> {
  const { user, pass, token, account, timeoutMs, ...rest } = options;
  const js = await jetstreamHelpers(url, { user, pass, token, account, timeoutMs });
  try {
    return await js.reset(rest);
  } finally {
    js.close();
  }
}

/** `seed()` of the server at `url` in one call (connect, seed, close). */
export async function seedJetStream(url: string, input: JetStreamSeed, options: JetStreamHelpersOptions = {}): Promise<void> {
  const js = await jetstreamHelpers(url, options);
  try {
    await js.seed(input);
  } finally {
    js.close();
  }
}
