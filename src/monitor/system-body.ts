/**
 * The request bodies of the system services (monitor/system.ts): nats-server's `*EventOptions`
 * decoded from JSON and turned into the monitoring endpoints' query parameters.
 */
import type { BrokerCore } from '../broker/core.js';
import { rfc3339Nano } from '../protocol/go-format.js';
import { DEFAULT_LIST_SIZE } from './query.js';
import { GO_JSON_ERROR, type GoSchema } from '../protocol/go-json.js';
import { goTimeFromJson } from '../jetstream/json.js';

/** events.go `ServerInfo`, as a request body may carry it (`time` is a `time.Time`). */
export const SERVER_INFO: GoSchema = {
  kind: 'struct',
  fields: {
    name: 'string', host: 'string', id: 'string', cluster: 'string', domain: 'string', ver: 'string',
    tags: { kind: 'slice', elem: 'string' }, jetstream: 'bool', flags: 'uint64', seq: 'uint64',
    time: { kind: 'unmarshaler', zero: '', unmarshal: (raw, current) => (raw === 'null' ? current : (goTimeFromJson(raw) ?? GO_JSON_ERROR)) },
  },
};

/** A request body that is not JSON of the expected kind. */
export class BadBody extends Error {}

/** The endpoint options of a request body (`ConnzOptions` etc.), by their JSON names. */
export type Body = Record<string, unknown>;

/**
 * nats-server's whole `Subsz` struct, which the system request marshals (the HTTP endpoint
 * shows only the statistics when no subscription is listed): with `server_id`, `now`, `total`,
 * `offset` and `limit` always.
 */
export function fullSubsz(core: BrokerCore, doc: object, body: Body): object {
  if ('server_id' in doc) return doc;
  const offset = typeof body.offset === 'number' && body.offset > 0 ? body.offset : 0;
  const limit = typeof body.limit === 'number' && body.limit > 0 ? body.limit : DEFAULT_LIST_SIZE;
  return { server_id: core.serverId, now: rfc3339Nano(Date.now()), ...doc, total: 0, offset, limit };
}

/** Text that is already JSON (`/jsz`'s document, with its 64-bit integers). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A request this server does not answer (nats-server's errSkipZreq). */
export const SKIP: unique symbol = Symbol('skip');

export function noop(): void {}

/** The body's JSON object; empty for no body. */
export function parseBody(data: Buffer): Body {
  if (data.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new BadBody((err as Error).message);
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadBody('json: cannot unmarshal into Go value of type struct');
  return v as Body;
}

/** The body's options as the endpoint's query parameters (`names`: JSON name → parameter). */
export function query(body: Body, names: Record<string, string>, extra: Record<string, string> = {}): URLSearchParams {
  const q = new URLSearchParams();
  for (const [json, param] of Object.entries(names)) {
    const v = body[json];
    if (v === undefined || v === null || v === false || v === '' || v === 0) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new BadBody(`json: cannot unmarshal ${typeof v} into field ${json}`);
    q.set(param, String(v));
  }
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q;
}

/** `subscriptions_detail` as `subs=detail`. */
export function detailSubs(body: Body): Record<string, string> {
  return body.subscriptions_detail === true ? { subs: 'detail' } : {};
}

/** nats-server's `ConnzOptions` (state: 0 open, 1 closed, 2 any). */
export function connzQuery(body: Body): URLSearchParams {
  const state = body.state === 1 ? 'closed' : body.state === 2 ? 'any' : '';
  return query(body, { sort: 'sort', auth: 'auth', subscriptions: 'subs', offset: 'offset', limit: 'limit', cid: 'cid', acc: 'acc' },
    { ...detailSubs(body), ...(state === '' ? {} : { state }) });
}

/** nats-server's `SubszOptions`. */
export function subszQuery(body: Body): URLSearchParams {
  return query(body, { subscriptions: 'subs', offset: 'offset', limit: 'limit', test: 'test', account: 'acc' });
}

/** nats-server's `JSzOptions`. */
export function jszQuery(body: Body): URLSearchParams {
  return query(body, {
    account: 'acc', accounts: 'accounts', streams: 'streams', consumer: 'consumers', config: 'config',
    leader_only: 'leader-only', offset: 'offset', limit: 'limit', raft: 'raft', stream_leader_only: 'stream-leader-only',
  });
}
