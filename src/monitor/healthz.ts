/**
 * `/healthz`: nats-server 2.10.29's `healthz()` for a single, non-clustered server. Without
 * JetStream the server is healthy once it accepts connections. With JetStream (unless
 * `js-enabled-only`) every stream directory under the store directory must belong to an account
 * that resolves and to a stream that was recovered; `account`, `stream` and `consumer` narrow
 * the check to one of them and answer 404 when it is not found. `js-server-only` only skips
 * checks of a clustered server, so here it changes nothing. With `details`, problems come as a
 * list of typed errors and the status is "error".
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JetStream } from '../jetstream/jetstream.js';
import { goQuote } from '../protocol/go-format.js';
import { decodeBool } from './query.js';
import type { MonitorContext } from './types.js';

/** nats-server's `HealthzError` (`type` as its name). */
interface HealthzError {
  type: 'BAD_REQUEST' | 'JETSTREAM' | 'ACCOUNT' | 'STREAM' | 'CONSUMER';
  account?: string;
  stream?: string;
  consumer?: string;
  error: string;
}

/** nats-server's `HealthStatus`, without `status_code` (HTTP carries it). */
export interface HealthStatus {
  status: string;
  error?: string;
  errors?: HealthzError[];
}

/** nats-server's `snapStagingDir`, skipped among the account directories. */
const SNAP_STAGING_DIR = '.snap-staging';
/** nats-server's `NewJSNotEnabledError().Error()`. */
const JS_NOT_ENABLED = 'JetStream not enabled (10076)';
const UNAVAILABLE = 'unavailable';

/** The `/healthz` answer: HTTP status and body. */
export function healthz(ctx: MonitorContext, q: URLSearchParams): { code: number; body: HealthStatus } {
  const jsEnabled = decodeBool(q, 'js-enabled'); // deprecated spelling of js-enabled-only
  const jsEnabledOnly = decodeBool(q, 'js-enabled-only');
  decodeBool(q, 'js-server-only');
  const details = decodeBool(q, 'details');
  const account = q.get('account') ?? '';
  const stream = q.get('stream') ?? '';
  const consumer = q.get('consumer') ?? '';

  const health: HealthStatus & { code: number } = { status: 'ok', code: 0 };
  check(ctx, health, { jsEnabledOnly: jsEnabledOnly || jsEnabled, details, account, stream, consumer });
  // healthz()'s deferred fix-up: with details the status says whether errors were found; a
  // status code not set on the way is 503 with errors, else 200.
  if (details) health.status = (health.errors?.length ?? 0) > 0 ? 'error' : 'ok';
  if (health.code === 0) health.code = health.error !== undefined || (health.errors?.length ?? 0) > 0 ? 503 : 200;
  const { code, ...body } = health;
  return { code, body };
}

interface Check {
  jsEnabledOnly: boolean;
  details: boolean;
  account: string;
  stream: string;
  consumer: string;
}

/** A failure: one error text without details, one typed error added with them. */
function fail(h: HealthStatus & { code: number }, o: Check, status: string, e: HealthzError, replace = false): void {
  if (!o.details) {
    h.status = status;
    h.error = e.error;
  } else if (replace || h.errors === undefined) {
    h.errors = [e];
  } else {
    h.errors.push(e);
  }
}

function check(ctx: MonitorContext, h: HealthStatus & { code: number }, o: Check): void {
  if (o.account === '' && o.stream !== '') {
    h.code = 400;
    fail(h, o, 'error', { type: 'BAD_REQUEST', error: `${goQuote('account')} must not be empty when checking stream health` });
    return;
  }
  if (o.stream === '' && o.consumer !== '') {
    h.code = 400;
    fail(h, o, 'error', { type: 'BAD_REQUEST', error: `${goQuote('stream')} must not be empty when checking consumer health` });
    return;
  }
  // The server answers, so it accepts connections. Without JetStream configured that is all.
  if (ctx.options.jetstream === null) return;
  const js = ctx.jetstream();
  if (js === null) {
    h.code = 503;
    fail(h, o, UNAVAILABLE, { type: 'JETSTREAM', error: JS_NOT_ENABLED });
    return;
  }
  if (o.jsEnabledOnly) return;
  checkStores(js, h, o);
}

/** The single-server check: the streams found on disk were recovered. */
function checkStores(js: JetStream, h: HealthStatus & { code: number }, o: Check): void {
  const root = js.root;
  let accFound = false;
  let streamFound = false;
  let consumerFound = false;
  for (const accName of list(root)) {
    if (accName === SNAP_STAGING_DIR) continue;
    if (o.account !== '') {
      if (accName !== o.account) continue;
      accFound = true;
    }
    if (!js.core.accounts.has(accName)) {
      const error = `JetStream account '${accName}' could not be resolved`;
      if (!o.details) return fail(h, o, UNAVAILABLE, { type: 'ACCOUNT', error });
      fail(h, o, UNAVAILABLE, { type: 'ACCOUNT', account: accName, error });
      continue;
    }
    const jsa = js.account(accName);
    for (const name of list(join(root, accName, 'streams'))) {
      if (o.stream !== '') {
        if (name !== o.stream) continue;
        streamFound = true;
      }
      if (jsa === undefined || !jsa.enabled || !jsa.streams.has(name)) {
        const error = `JetStream stream '${accName} > ${name}' could not be recovered`;
        if (!o.details) return fail(h, o, UNAVAILABLE, { type: 'STREAM', error });
        fail(h, o, UNAVAILABLE, { type: 'STREAM', account: accName, stream: name, error });
        continue;
      }
      if (streamFound) {
        // 2.10.29: with `consumer`, the stream must hold it (s.consumers).
        if (o.consumer !== '') consumerFound = jsa.streams.get(name)?.consumers.has(o.consumer) ?? false;
        break;
      }
    }
    if (accFound) break;
  }
  if (o.account !== '' && !accFound) {
    h.code = 404;
    const error = `JetStream account ${goQuote(o.account)} not found`;
    return fail(h, o, UNAVAILABLE, { type: 'ACCOUNT', account: o.account, error }, true);
  }
  if (o.stream !== '' && !streamFound) {
    h.code = 404;
    const error = `JetStream stream ${goQuote(o.stream)} not found on account ${goQuote(o.account)}`;
    return fail(h, o, UNAVAILABLE, { type: 'STREAM', account: o.account, stream: o.stream, error }, true);
  }
  if (o.consumer !== '' && !consumerFound) {
    h.code = 404;
    const error = `JetStream consumer ${goQuote(o.consumer)} not found for stream ${goQuote(o.stream)} on account ${goQuote(o.account)}`;
    fail(h, o, UNAVAILABLE, { type: 'CONSUMER', account: o.account, stream: o.stream, consumer: o.consumer, error }, true);
  }
}

/** The names in a directory, sorted as Go's os.ReadDir returns them; none when it cannot be read. */
function list(dir: string): string[] {
  if (!existsSync(dir)) return [];
  try {
    return readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  } catch {
    return [];
  }
}
