/**
 * nats-server's account `exports` and `imports` config keys → options (server/opts.go
 * parseAccountExports, parseAccountImports, parseExportStreamOrService,
 * parseImportStreamOrService, parseAccount): the shapes and their errors, in nats-server's
 * words. What they refer to (accounts, authorization, cycles) is checked by
 * resolve-imports.ts, for options and files alike. Used by from-conf.ts, whose reader it takes
 * through {@link LinkReader}.
 */
import type { AccountExport, AccountImport, ImportSource, ServiceImport, ServiceLatencyOptions } from './types.js';
import type { ConfMap, ConfValue } from './conf.js';
import { parseDuration } from './duration.js';

/** What these readers need of from-conf.ts's reader (positions, errors, variables). */
export interface LinkReader {
  fail(path: string, reason: string): never;
  str(v: ConfValue, path: string, what?: string): string;
  bool(v: ConfValue, path: string): boolean;
  isUsedVariable(path: string): boolean;
}

export function isMap(v: ConfValue): v is ConfMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Go's `%T` of a config value, for nats-server's "got %T" errors. */
export function goType(v: ConfValue): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof Date) return 'time.Time';
  return Array.isArray(v) ? '[]interface {}' : 'map[string]interface {}';
}

/** The strings of an `accounts: [...]` list (nats-server panics on other values; refused here). */
function exportAccounts(r: LinkReader, v: ConfValue, p: string): string[] {
  if (!Array.isArray(v)) return r.fail(p, `Expected an array of account names, got ${goType(v)}`);
  return v.map((x, i) => r.str(x, `${p}[${i}]`, 'an account name'));
}

/** An export's `latency` (opts.go parseServiceLatency): a subject, or `{ sampling, subject }`. */
function serviceLatency(r: LinkReader, v: ConfValue, p: string): string | ServiceLatencyOptions {
  if (typeof v === 'string') return v;
  if (!isMap(v)) return r.fail(p, `Expected latency entry to be a map/struct or string, got ${goType(v)}`);
  let sampling: number | 'headers' | undefined;
  if ('sampling' in v) {
    const s = v.sampling;
    const sp = `${p}.sampling`;
    let n: number;
    if (typeof s === 'number' && Number.isInteger(s)) n = s;
    else if (typeof s === 'string') {
      if (s.trim().toLowerCase() === 'headers') n = 0;
      else {
        // strconv.Atoi of the text without a trailing `%`.
        const text = s.endsWith('%') ? s.slice(0, -1) : s;
        if (!/^[+-]?\d+$/.test(text)) return r.fail(sp, `Failed to parse latency sample: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
        n = Number(text);
      }
    } else return r.fail(sp, `Expected latency sample to be a string or map/struct, got ${goType(s)}`);
    if (n === 0 && typeof s === 'string' && s.trim().toLowerCase() === 'headers') sampling = 'headers';
    else if (n < 1 || n > 100) return r.fail(sp, 'bad sampling percentage, should be 1-100');
    else sampling = n;
  }
  if (!('subject' in v)) return r.fail(p, 'Latency subject required, but missing');
  // nats-server names the type of its failed conversion's zero value: always a string.
  if (typeof v.subject !== 'string') return r.fail(`${p}.subject`, 'Expected latency subject to be a string, got string');
  return { ...(sampling === undefined ? {} : { sampling }), subject: v.subject };
}

export function accountExports(r: LinkReader, v: ConfValue, path: string): AccountExport[] {
  if (!Array.isArray(v)) return r.fail(path, `Exports should be an array, got ${goType(v)}`);
  return v.map((item, i) => {
    const p = `${path}[${i}]`;
    if (!isMap(item)) return r.fail(p, `Export Items should be a map with type entry, got ${goType(item)}`);
    let stream: string | undefined;
    let service: string | undefined;
    let accounts: string[] | undefined;
    let responseType: 'singleton' | 'stream' | 'chunked' | undefined;
    let threshold: string | undefined;
    let latency: string | ServiceLatencyOptions | undefined;
    for (const [key, value] of Object.entries(item)) {
      const kp = `${p}.${key}`;
      switch (key.toLowerCase()) {
        case 'stream':
          if (service !== undefined) r.fail(kp, `Detected stream ${JSON.stringify(value)} but already saw a service`);
          if (responseType !== undefined || threshold !== undefined) r.fail(kp, 'Detected response directive on non-service');
          if (typeof value !== 'string') r.fail(kp, `Expected stream name to be string, got ${goType(value)}`);
          stream = value as string;
          break;
        case 'service':
          if (stream !== undefined) r.fail(kp, `Detected service ${JSON.stringify(value)} but already saw a stream`);
          if (typeof value !== 'string') r.fail(kp, `Expected service name to be string, got ${goType(value)}`);
          service = value as string;
          break;
        case 'response':
        case 'response_type': {
          if (responseType !== undefined) r.fail(kp, 'Duplicate response type definition');
          if (typeof value !== 'string') r.fail(kp, `Expected response type to be string, got ${goType(value)}`);
          const word = (value as string).toLowerCase();
          if (word === 'single' || word === 'singleton') responseType = 'singleton';
          else if (word === 'stream') responseType = 'stream';
          else if (word === 'chunk' || word === 'chunked') responseType = 'chunked';
          else r.fail(kp, `Unknown response type: ${JSON.stringify(value)}`);
          if (stream !== undefined) r.fail(kp, 'Detected response directive on non-service');
          break;
        }
        case 'threshold':
        case 'response_threshold':
        case 'response_max_time':
        case 'response_time':
          if (threshold !== undefined) r.fail(kp, 'Duplicate response threshold detected');
          if (typeof value !== 'string') r.fail(kp, `Expected response threshold to be a parseable time duration, got ${goType(value)}`);
          try {
            parseDuration(value as string, kp);
          } catch {
            r.fail(kp, `Expected response threshold to be a parseable time duration, got ${JSON.stringify(value)}`);
          }
          threshold = value as string;
          if (stream !== undefined) r.fail(kp, 'Detected response directive on non-service');
          break;
        case 'accounts':
          accounts = exportAccounts(r, value, kp);
          break;
        case 'latency':
          latency = serviceLatency(r, value, kp);
          if (stream !== undefined) r.fail(kp, 'Detected latency directive on non-service');
          break;
        case 'account_token_position':
          r.fail(kp, 'not supported by nats-embedded yet (refusing to start without it)');
          break;
        default:
          if (!r.isUsedVariable(kp)) r.fail(kp, `unknown field "${key}"`);
      }
    }
    if (stream !== undefined) return { stream, ...(accounts === undefined ? {} : { accounts }) };
    if (service === undefined) return r.fail(p, 'Export Items should be a map with type entry');
    return {
      service,
      ...(accounts === undefined ? {} : { accounts }),
      ...(responseType === undefined ? {} : { responseType }),
      ...(threshold === undefined ? {} : { responseThreshold: threshold }),
      ...(latency === undefined ? {} : { latency }),
    };
  });
}

/** `{ account, subject }` of an import (parseAccount). */
function importSource(r: LinkReader, v: ConfValue, p: string, kind: string): ImportSource {
  if (!isMap(v)) return r.fail(p, `${kind} entry should be an account map, got ${goType(v)}`);
  let account = '';
  let subject = '';
  for (const [key, value] of Object.entries(v)) {
    const kp = `${p}.${key}`;
    const k = key.toLowerCase();
    if (k === 'account') account = r.str(value, kp);
    else if (k === 'subject') subject = r.str(value, kp);
    else if (!r.isUsedVariable(kp)) r.fail(kp, `unknown field "${key}"`);
  }
  if (account === '' || subject === '') return r.fail(p, 'Expect an account name and a subject');
  return { account, subject };
}

export function accountImports(r: LinkReader, v: ConfValue, path: string): AccountImport[] {
  if (!Array.isArray(v)) return r.fail(path, `Imports should be an array, got ${goType(v)}`);
  const services: ServiceImport[] = [];
  return v.map((item, i) => {
    const p = `${path}[${i}]`;
    if (!isMap(item)) return r.fail(p, `Import Items should be a map with type entry, got ${goType(item)}`);
    let stream: ImportSource | undefined;
    let service: ImportSource | undefined;
    let prefix: string | undefined;
    let to: string | undefined;
    let share = false;
    for (const [key, value] of Object.entries(item)) {
      const kp = `${p}.${key}`;
      switch (key.toLowerCase()) {
        case 'stream':
          if (service !== undefined) r.fail(kp, 'Detected stream but already saw a service');
          stream = importSource(r, value, kp, 'Stream');
          break;
        case 'service':
          if (stream !== undefined) r.fail(kp, 'Detected service but already saw a stream');
          service = importSource(r, value, kp, 'Service');
          break;
        case 'prefix':
          prefix = r.str(value, kp);
          break;
        case 'to':
          to = r.str(value, kp);
          break;
        case 'share':
          share = r.bool(value, kp);
          break;
        default:
          if (!r.isUsedVariable(kp)) r.fail(kp, `unknown field "${key}"`);
      }
    }
    if (stream !== undefined) {
      if (prefix !== undefined && to !== undefined) r.fail(p, "Stream import can not have a 'prefix' and a 'to' property");
      return { stream, ...(prefix === undefined ? {} : { prefix }), ...(to === undefined ? {} : { to }) };
    }
    if (service === undefined) return r.fail(p, 'Import Items should be a map with type entry');
    const local = to ?? service.subject;
    const dup = services.find((s) => (s.to ?? s.service.subject) === local && s.service.account === service.account);
    if (dup !== undefined) {
      r.fail(p, `Duplicate service import subject ${JSON.stringify(local)}, previously used in import for account ${JSON.stringify(dup.service.account)}, subject ${JSON.stringify(dup.service.subject)}`);
    }
    const out: ServiceImport = { service, ...(to === undefined ? {} : { to }), ...(share ? { share } : {}) };
    services.push(out);
    return out;
  });
}
