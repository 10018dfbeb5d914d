/**
 * Query parameters of the monitoring endpoints, decoded as nats-server's `decodeBool`,
 * `decodeInt`, `decodeUint64`, `decodeState` and `decodeSubs` do, with their 400 texts.
 */
import { parseGoBool, parseGoInt, parseGoUint } from '../protocol/go-format.js';

/** nats-server's `DefaultConnListSize` / `DefaultSubListSize`. */
export const DEFAULT_LIST_SIZE = 1024;

/** A request that nats-server answers with HTTP 400 and this plain text. */
export class BadRequest extends Error {}

export function decodeBool(q: URLSearchParams, param: string): boolean {
  const str = q.get(param) ?? '';
  if (str === '') return false;
  const r = parseGoBool(str);
  if (!r.ok) throw new BadRequest(`Error decoding boolean for '${param}': ${r.error}`);
  return r.value;
}

export function decodeInt(q: URLSearchParams, param: string): number {
  const str = q.get(param) ?? '';
  if (str === '') return 0;
  const r = parseGoInt(str);
  if (!r.ok) throw new BadRequest(`Error decoding int for '${param}': ${r.error}`);
  return r.value;
}

export function decodeUint(q: URLSearchParams, param: string): number {
  const str = q.get(param) ?? '';
  if (str === '') return 0;
  const r = parseGoUint(str);
  if (!r.ok) throw new BadRequest(`Error decoding uint64 for '${param}': ${r.error}`);
  return r.value;
}

export function decodeState(q: URLSearchParams): 'open' | 'closed' | 'all' {
  const str = q.get('state') ?? '';
  if (str === '') return 'open';
  switch (str.toLowerCase()) {
    case 'open': return 'open';
    case 'closed': return 'closed';
    case 'any':
    case 'all': return 'all';
    default: throw new BadRequest(`Error decoding state for ${str}`);
  }
}

export function decodeSubs(q: URLSearchParams): { subs: boolean; detail: boolean } {
  const detail = (q.get('subs') ?? '').toLowerCase() === 'detail';
  return { subs: detail ? false : decodeBool(q, 'subs'), detail };
}
