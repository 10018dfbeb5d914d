/**
 * `/healthz`: nats-server 2.10.29's `healthz()`. Without JetStream the server is healthy once it
 * accepts connections. With JetStream (unless `js-enabled-only`):
 * - a single server: every stream directory under the store directory must belong to an account
 *   that resolves and to a stream that was recovered;
 * - a member of a JetStream cluster: the meta group must have a leader and this server must be
 *   current with it; then (unless `js-server-only`) every stream this server holds a replica of
 *   must have a healthy group, and on the stream's leader its replicated consumers must run.
 * `account`, `stream` and `consumer` narrow the check to one of them and answer 404 when it is
 * not found. With `details`, problems come as a list of typed errors and the status is "error".
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JetStream } from '../jetstream/jetstream.js';
import type { JsCluster } from '../jetstream/cluster/meta.js';
import { consumerReplicas, groupHealthy, replicaOf } from './jsz-cluster.js';
import type { Stream } from '../jetstream/stream.js';
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
/** nats-server 2.10.29's texts of a clustered server's checks (the same in 2.9.10). */
const NO_META_LEADER = 'JetStream has not established contact with a meta leader';
const META_NOT_CURRENT = 'JetStream is not current with the meta leader';

/** The `/healthz` answer: HTTP status and body. */
export function healthz(ctx: MonitorContext, q: URLSearchParams): { code: number; body: HealthStatus } {
  const jsEnabled = decodeBool(q, 'js-enabled'); // deprecated spelling of js-enabled-only
  const jsEnabledOnly = decodeBool(q, 'js-enabled-only');
  const jsServerOnly = decodeBool(q, 'js-server-only');
  const details = decodeBool(q, 'details');
  const account = q.get('account') ?? '';
  const stream = q.get('stream') ?? '';
  const consumer = q.get('consumer') ?? '';

  const health: HealthStatus & { code: number } = { status: 'ok', code: 0 };
  check(ctx, health, { jsEnabledOnly: jsEnabledOnly || jsEnabled, jsServerOnly, details, account, stream, consumer });
  // healthz()'s deferred fix-up: with details the status says whether errors were found; a
  // status code not set on the way is 503 with errors, else 200.
  if (details) health.status = (health.errors?.length ?? 0) > 0 ? 'error' : 'ok';
  if (health.code === 0) health.code = health.error !== undefined || (health.errors?.length ?? 0) > 0 ? 503 : 200;
  const { code, ...body } = health;
  return { code, body };
}

interface Check {
  jsEnabledOnly: boolean;
  jsServerOnly: boolean;
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
  if (js.cluster !== null) checkCluster(js, js.cluster, h, o);
  else checkStores(js, h, o);
}

/**
 * A clustered server's check (the second half of 2.10.29's `healthz()`): the meta group, then
 * the streams assigned to this server (`isStreamHealthy`) and their consumers
 * (`isConsumerHealthy`). A stream here is assigned to this server when it holds its replica.
 * Differences that follow from this broker's design: an R1 stream has a group here too, but is
 * not checked (nats-server has no group for it); a consumer runs on its stream's leader only
 * (its state is in the stream's log), so only the leader checks that it runs, and its group is
 * its stream's; nats-server's "catching up" and "still recovering meta layer" states do not
 * exist here (a replica catches up through its log, the meta log is applied at start).
 */
function checkCluster(js: JetStream, c: JsCluster, h: HealthStatus & { code: number }, o: Check): void {
  if (c.meta.leader === null) return fail(h, o, UNAVAILABLE, { type: 'JETSTREAM', error: NO_META_LEADER }, true);
  if (!groupHealthy(c.meta)) return fail(h, o, UNAVAILABLE, { type: 'JETSTREAM', error: META_NOT_CURRENT }, true);
  if (o.jsServerOnly) return;

  // The streams to check, by account: this server's replicas (all, or the one asked for).
  const selected: Array<{ account: string; stream: Stream; consumers: string[] }> = [];
  const replicated = (account: string, name: string): Stream | undefined => {
    const s = js.account(account)?.streams.get(name);
    return s !== undefined && replicaOf(s) !== null ? s : undefined;
  };
  if (o.account === '') {
    for (const jsa of js.accounts.values()) {
      if (!jsa.enabled) continue;
      for (const s of jsa.streams.values()) {
        const r = replicaOf(s);
        if (r !== null) selected.push({ account: jsa.name, stream: s, consumers: [...r.consumers.keys()] });
      }
    }
  } else {
    const assigned = c.streamNames(o.account, '');
    if (assigned.length === 0) {
      h.code = 404;
      const error = `JetStream account ${goQuote(o.account)} not found`;
      return fail(h, o, UNAVAILABLE, { type: 'ACCOUNT', account: o.account, error }, true);
    }
    const names = o.stream !== '' ? [o.stream] : assigned;
    for (const name of names) {
      const s = assigned.includes(name) ? replicated(o.account, name) : undefined;
      if (s === undefined) {
        if (o.stream === '') continue;
        h.code = 404;
        const error = `JetStream stream ${goQuote(o.stream)} not found on account ${goQuote(o.account)}`;
        return fail(h, o, UNAVAILABLE, { type: 'STREAM', account: o.account, stream: o.stream, error }, true);
      }
      const r = replicaOf(s)!;
      let consumers = [...r.consumers.keys()];
      if (o.consumer !== '') {
        // A replicated (durable) consumer, or an ephemeral one on the leader.
        if (!r.consumers.has(o.consumer) && !s.consumers.has(o.consumer)) {
          h.code = 404;
          const error = `JetStream consumer ${goQuote(o.consumer)} not found for stream ${goQuote(o.stream)} on account ${goQuote(o.account)}`;
          return fail(h, o, UNAVAILABLE, { type: 'CONSUMER', account: o.account, stream: o.stream, consumer: o.consumer, error }, true);
        }
        consumers = r.consumers.has(o.consumer) ? [o.consumer] : [];
      }
      selected.push({ account: o.account, stream: s, consumers });
    }
  }

  for (const { account, stream, consumers } of selected) {
    const err = streamHealth(stream);
    if (err !== null) {
      const error = `JetStream stream '${account} > ${stream.name}' is not current: ${err}`;
      if (!o.details) return fail(h, o, UNAVAILABLE, { type: 'STREAM', error });
      fail(h, o, UNAVAILABLE, { type: 'STREAM', account, stream: stream.name, error });
      continue;
    }
    for (const consumer of consumers) {
      const cerr = consumerHealth(stream, consumer);
      if (cerr === null) continue;
      const error = `JetStream consumer '${account} > ${stream.name} > ${consumer}' is not current: ${cerr}`;
      if (!o.details) return fail(h, o, UNAVAILABLE, { type: 'CONSUMER', error });
      fail(h, o, UNAVAILABLE, { type: 'CONSUMER', account, stream: stream.name, consumer, error });
    }
  }
}

/** nats-server's `isStreamHealthy` reasons: null when healthy. */
function streamHealth(s: Stream): string | null {
  if (s.cfg.num_replicas <= 1) return null;
  const g = replicaOf(s)?.group ?? null;
  if (g === null) return 'group node missing';
  if (!groupHealthy(g)) return 'group node unhealthy';
  return null;
}

/**
 * nats-server's `isConsumerHealthy` reasons for a replicated consumer: an R1 one (of an R1
 * stream, or `num_replicas: 1`) is not checked; else it must run on the stream's leader.
 */
function consumerHealth(s: Stream, name: string): string | null {
  const r = replicaOf(s);
  if (s.cfg.num_replicas <= 1 || r === null || !r.isLeader) return null;
  const a = r.consumers.get(name);
  if (a !== undefined && consumerReplicas(a.config) === 1) return null;
  return s.consumers.has(name) ? null : 'consumer not found';
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
