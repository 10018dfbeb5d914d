/**
 * The request bodies of the system services (monitor/system.ts): nats-server's `*EventOptions`
 * decoded from JSON and turned into the monitoring endpoints' query parameters.
 */
import type { BrokerCore } from '../broker/core.js';
import { rfc3339Nano } from '../protocol/go-format.js';
import { DEFAULT_LIST_SIZE } from './query.js';
import { GO_JSON_ERROR, foldKey, goJsonSyntaxError, type GoSchema } from '../protocol/go-json.js';
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
  const offset = listNumber(body.offset, 0);
  const limit = listNumber(body.limit, DEFAULT_LIST_SIZE);
  return { server_id: core.serverId, now: rfc3339Nano(Date.now()), ...doc, total: 0, offset, limit };
}

/** A positive `offset`/`limit` of a request body (a bigint past 2^53), else `otherwise`. */
function listNumber(v: unknown, otherwise: number): number {
  return (typeof v === 'number' || typeof v === 'bigint') && v > 0 ? Number(v) : otherwise;
}

/** Text that is already JSON (`/jsz`'s document, with its 64-bit integers). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A request this server does not answer (nats-server's errSkipZreq). */
export const SKIP: unique symbol = Symbol('skip');

export function noop(): void {}

/** Go field types of the options structs (a named type's Go name where it is one). */
type OptType = 'string' | 'bool' | 'int' | 'uint64' | '[]string' | 'server.SortOpt' | 'server.ConnState';

/**
 * One of nats-server's `*EventOptions` structs (events.go): its Go name, and its fields by JSON
 * name, each with its type and the embedded struct it is promoted from (`ConnzOptions`,
 * `EventFilterOptions`), or null for a field of the struct itself.
 */
export interface OptionsStruct {
  readonly name: string;
  readonly fields: ReadonlyMap<string, { readonly type: OptType; readonly embed: string | null }>;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const FILTER: Record<string, OptType> = { server_name: 'string', cluster: 'string', host: 'string', tags: '[]string', domain: 'string' };

/** An `XEventOptions` struct: `XOptions` (monitor.go) and `EventFilterOptions` embedded. */
function eventOptions(name: string, embedded: string | null, own: Record<string, OptType>): OptionsStruct {
  const fields = new Map<string, { type: OptType; embed: string | null }>();
  for (const [k, t] of Object.entries(own)) fields.set(k, { type: t, embed: embedded });
  for (const [k, t] of Object.entries(FILTER)) fields.set(k, { type: t, embed: name === 'EventFilterOptions' ? null : 'EventFilterOptions' });
  return { name, fields };
}

/** The request bodies' structs, nats-server 2.10 (events.go, monitor.go). */
export const OPTIONS = {
  filter: eventOptions('EventFilterOptions', null, {}),
  statsz: eventOptions('StatszEventOptions', null, {}),
  varz: eventOptions('VarzEventOptions', 'VarzOptions', {}),
  connz: eventOptions('ConnzEventOptions', 'ConnzOptions', {
    sort: 'server.SortOpt', auth: 'bool', subscriptions: 'bool', subscriptions_detail: 'bool', offset: 'int', limit: 'int',
    cid: 'uint64', mqtt_client: 'string', state: 'server.ConnState', user: 'string', acc: 'string', filter_subject: 'string',
  }),
  routez: eventOptions('RoutezEventOptions', 'RoutezOptions', { subscriptions: 'bool', subscriptions_detail: 'bool' }),
  subsz: eventOptions('SubszEventOptions', 'SubszOptions', { offset: 'int', limit: 'int', subscriptions: 'bool', account: 'string', test: 'string' }),
  gatewayz: eventOptions('GatewayzEventOptions', 'GatewayzOptions', {
    name: 'string', accounts: 'bool', account_name: 'string', subscriptions: 'bool', subscriptions_detail: 'bool',
  }),
  leafz: eventOptions('LeafzEventOptions', 'LeafzOptions', { subscriptions: 'bool', account: 'string' }),
  accountz: eventOptions('AccountzEventOptions', 'AccountzOptions', { account: 'string' }),
  accInfo: eventOptions('AccInfoEventOptions', null, {}),
  accountStatz: eventOptions('AccountStatzEventOptions', 'AccountStatzOptions', { accounts: '[]string', include_unused: 'bool' }),
  jsz: eventOptions('JszEventOptions', 'JSzOptions', {
    account: 'string', accounts: 'bool', streams: 'bool', consumer: 'bool', config: 'bool', leader_only: 'bool',
    offset: 'int', limit: 'int', raft: 'bool', stream_leader_only: 'bool',
  }),
  healthz: eventOptions('HealthzEventOptions', 'HealthzOptions', {
    'js-enabled': 'bool', 'js-enabled-only': 'bool', 'js-server-only': 'bool', account: 'string', stream: 'string', consumer: 'string', details: 'bool',
  }),
  raftz: eventOptions('RaftzEventOptions', 'RaftzOptions', { account: 'string', group: 'string' }),
} as const satisfies Record<string, OptionsStruct>;

const INT_RANGE: Readonly<Record<'int' | 'uint64' | 'server.ConnState', readonly [bigint, bigint]>> = {
  int: [-(2n ** 63n), 2n ** 63n - 1n],
  'server.ConnState': [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};
const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

/** How Go's UnmarshalTypeError names a JSON value of the wrong type. */
function kindOf(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return Array.isArray(v) ? 'array' : 'object';
}

/**
 * The value of field `type` from its JSON text, or the UnmarshalTypeError's value part
 * (`string`, `number 1.5`, ...) with the Go type it failed for.
 */
function fieldValue(type: OptType, raw: string): { ok: unknown } | { value: string; type: string } {
  const v: unknown = JSON.parse(raw);
  switch (type) {
    case 'string':
    case 'server.SortOpt':
      return typeof v === 'string' ? { ok: v } : { value: kindOf(v), type };
    case 'bool':
      return typeof v === 'boolean' ? { ok: v } : { value: kindOf(v), type };
    case 'int':
    case 'uint64':
    case 'server.ConnState': {
      if (typeof v !== 'number') return { value: kindOf(v), type };
      // strconv.ParseInt / ParseUint of the literal as written: no fraction or exponent, in range.
      const text = raw.trim();
      const [min, max] = INT_RANGE[type];
      if (!INTEGER.test(text) || (type === 'uint64' && text.startsWith('-'))) return { value: `number ${text}`, type };
      const n = BigInt(text);
      if (n < min || n > max) return { value: `number ${text}`, type };
      // Past 2^53 the exact value stays a bigint, which the query parameters carry as written.
      return { ok: n >= -MAX_SAFE && n <= MAX_SAFE ? Number(n) : n };
    }
    case '[]string': {
      if (!Array.isArray(v)) return { value: kindOf(v), type };
      const out: string[] = [];
      for (const e of v as unknown[]) {
        // A null element leaves the zero value ("").
        if (e === null) out.push('');
        else if (typeof e === 'string') out.push(e);
        else return { value: kindOf(e), type: 'string' };
      }
      return { ok: out };
    }
  }
}

/** The top-level object's members of valid JSON text, in order, values as their raw text. */
function members(text: string): Array<[key: string, raw: string]> {
  const out: Array<[string, string]> = [];
  let i = text.indexOf('{') + 1;
  const ws = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  /** The end (exclusive) of the string starting at `from` (its quote). */
  const stringEnd = (from: number): number => {
    let j = from + 1;
    while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  for (;;) {
    ws();
    if (text[i] === '}') return out;
    const keyEnd = stringEnd(i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = keyEnd;
    ws();
    i++; // ':'
    ws();
    const start = i;
    let depth = 0;
    for (;;) {
      const c = text[i]!;
      if (c === '"') {
        i = stringEnd(i);
        if (depth === 0) break;
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      } else if (depth === 0 && (c === ',' || ' \t\r\n'.includes(c))) break;
      i++;
    }
    out.push([key, text.slice(start, i)]);
    ws();
    if (text[i] === ',') i++;
  }
}

/**
 * A request body decoded as nats-server's `json.Unmarshal` into `struct` decodes it: {} for
 * no body or `null`; otherwise Go's error text in a {@link BadBody} (the syntax error of its
 * scanner, or the first value of the wrong Go type, named as Go 1.24 names it: the struct, the
 * embedded struct and the JSON field, `json: cannot unmarshal number into Go struct field
 * ConnzEventOptions.EventFilterOptions.server_name of type string`). Keys match fields
 * case-insensitively; unknown keys and null values are skipped.
 */
export function decodeBody(data: Buffer, struct: OptionsStruct): Body {
  if (data.length === 0) return {};
  const syntax = goJsonSyntaxError(data);
  if (syntax !== null) throw new BadBody(syntax);
  const text = data.toString('utf8');
  const top: unknown = JSON.parse(text);
  if (top === null) return {};
  if (typeof top !== 'object' || Array.isArray(top)) throw new BadBody(`json: cannot unmarshal ${kindOf(top)} into Go value of type server.${struct.name}`);
  const body: Body = {};
  for (const [key, raw] of members(text)) {
    const name = foldKey(key);
    const field = struct.fields.get(name);
    if (field === undefined || raw === 'null') continue;
    const r = fieldValue(field.type, raw);
    if ('ok' in r) {
      body[name] = r.ok;
      continue;
    }
    const path = field.embed === null ? name : `${field.embed}.${name}`;
    throw new BadBody(`json: cannot unmarshal ${r.value} into Go struct field ${struct.name}.${path} of type ${r.type}`);
  }
  return body;
}

/** The body's options as the endpoint's query parameters (`names`: JSON name → parameter). */
export function query(body: Body, names: Record<string, string>, extra: Record<string, string> = {}): URLSearchParams {
  const q = new URLSearchParams();
  for (const [json, param] of Object.entries(names)) {
    const v = body[json];
    if (v === undefined || v === null || v === false || v === '' || v === 0) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'bigint' && typeof v !== 'boolean') throw new BadBody(`json: cannot unmarshal ${typeof v} into field ${json}`);
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
