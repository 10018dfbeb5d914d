/**
 * Validation of the accounts' `exports` and `imports`, with nats-server v2.10.29's checks and
 * words (server/opts.go parseAccounts: exports first, then stream imports, then service
 * imports; server/accounts.go addStreamExportWithAccountPos, AddStreamImportWithClaim,
 * AddMappedStreamImportWithClaim, addServiceImportWithClaim, addServiceImport,
 * checkStreamImportsForCycles, checkServiceImportsForCycles). An import needs an export of the
 * other account that covers its subject and allows the importing account; a stream prefix is
 * literal; imports may not form a cycle; wildcard mappings must be strict transforms.
 *
 * The checks also serve the imports of account JWTs (resolve-jwt-links.ts), whose exports may
 * instead require an activation token or the importer's key in a subject token: they pass their
 * own `ExportAuthorizer`, and skip a refused import instead of failing.
 */
import { ConfigError } from '../errors.js';
import { isValidLiteralSubject, isValidSubscribeSubject } from '../subject/subject.js';
import { SubjectTransform, TransformError } from '../subject/transform.js';
import {
  isSubsetMatchTokenized, subjectHasWildcard, subjectIsSubsetMatch, subjectsCollide, transformTokenize, transformUntokenize,
} from '../subject/relations.js';
import type { ResolvedAccountLinks, ResolvedExport, ResolvedImport, ResolvedServiceLatency, ResponseType } from './types.js';
import { checkKeys, child, object, optDuration } from './validate.js';

const STREAM_EXPORT_KEYS: ReadonlySet<string> = new Set(['stream', 'accounts']);
const SERVICE_EXPORT_KEYS: ReadonlySet<string> = new Set(['service', 'accounts', 'responseType', 'responseThreshold', 'latency']);
const STREAM_IMPORT_KEYS: ReadonlySet<string> = new Set(['stream', 'prefix', 'to']);
const SERVICE_IMPORT_KEYS: ReadonlySet<string> = new Set(['service', 'to', 'share']);
const LATENCY_KEYS: ReadonlySet<string> = new Set(['sampling', 'subject']);
const SOURCE_KEYS: ReadonlySet<string> = new Set(['account', 'subject']);
const RESPONSE_TYPES: ReadonlySet<string> = new Set(['singleton', 'stream', 'chunked']);

/** nats-server's DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD. */
export const DEFAULT_RESPONSE_THRESHOLD_MS = 2 * 60 * 1000;

function str(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw new ConfigError(path, 'must be a non-empty string');
  return v;
}

function accountList(v: unknown, path: string): string[] | null {
  if (v === undefined) return null;
  if (!Array.isArray(v) || !v.every((a) => typeof a === 'string' && a !== '')) throw new ConfigError(path, 'must be an array of account names');
  // nats-server: an empty list is no list (public).
  return v.length === 0 ? null : (v as string[]);
}

/** An export's `latency` (opts.go parseServiceLatency: a string is the subject, sampled at 100%). */
function resolveLatency(v: unknown, at: string): ResolvedServiceLatency {
  if (typeof v === 'string') return { sampling: 100, subject: v };
  const o = object(v, at);
  checkKeys(o, at, LATENCY_KEYS);
  let sampling = 100;
  if (o.sampling !== undefined) {
    if (o.sampling === 'headers') sampling = 0;
    else if (typeof o.sampling === 'number' && Number.isInteger(o.sampling) && o.sampling >= 1 && o.sampling <= 100) sampling = o.sampling;
    else throw new ConfigError(child(at, 'sampling'), 'bad sampling percentage, should be 1-100');
  }
  if (o.subject === undefined) throw new ConfigError(at, 'Latency subject required, but missing');
  if (typeof o.subject !== 'string') throw new ConfigError(child(at, 'subject'), 'Expected latency subject to be a string');
  return { sampling, subject: o.subject };
}

/**
 * accounts.go TrackServiceExportWithSampling's checks of a service export's latency: null, or
 * its error. `services` are the account's service export subjects added so far (this one included).
 */
export function latencyRefusal(e: ResolvedExport, lat: ResolvedServiceLatency, services: readonly string[]): string | null {
  if (!isValidLiteralSubject(lat.subject)) return 'invalid publish subject';
  // Results published on a service of its own would loop back.
  if (services.some((s) => s === lat.subject || subjectIsSubsetMatch(lat.subject, s))) return 'invalid publish subject';
  if (e.responseType !== 'singleton') return 'bad service response type';
  return null;
}

function resolveExport(v: unknown, at: string): ResolvedExport {
  const o = object(v, at);
  if ((o.stream === undefined) === (o.service === undefined)) throw new ConfigError(at, 'needs exactly one of stream or service');
  if (o.stream !== undefined) {
    checkKeys(o, at, STREAM_EXPORT_KEYS);
    return { kind: 'stream', subject: str(o.stream, child(at, 'stream')), accounts: accountList(o.accounts, child(at, 'accounts')), responseType: 'singleton', responseThresholdMs: 0 };
  }
  checkKeys(o, at, SERVICE_EXPORT_KEYS);
  const rt = o.responseType ?? 'singleton';
  if (typeof rt !== 'string' || !RESPONSE_TYPES.has(rt)) throw new ConfigError(child(at, 'responseType'), `Unknown response type: ${JSON.stringify(rt)}`);
  const out: ResolvedExport = {
    kind: 'service',
    subject: str(o.service, child(at, 'service')),
    accounts: accountList(o.accounts, child(at, 'accounts')),
    responseType: rt as ResponseType,
    responseThresholdMs: optDuration(o.responseThreshold, child(at, 'responseThreshold'), DEFAULT_RESPONSE_THRESHOLD_MS),
  };
  return o.latency === undefined ? out : { ...out, latency: resolveLatency(o.latency, child(at, 'latency')) };
}

function resolveImport(v: unknown, at: string): ResolvedImport {
  const o = object(v, at);
  if ((o.stream === undefined) === (o.service === undefined)) throw new ConfigError(at, 'needs exactly one of stream or service');
  const kind = o.stream !== undefined ? 'stream' : 'service';
  checkKeys(o, at, kind === 'stream' ? STREAM_IMPORT_KEYS : SERVICE_IMPORT_KEYS);
  const srcPath = child(at, kind);
  const src = object(kind === 'stream' ? o.stream : o.service, srcPath);
  checkKeys(src, srcPath, SOURCE_KEYS);
  if (typeof src.account !== 'string' || src.account === '' || typeof src.subject !== 'string' || src.subject === '') {
    throw new ConfigError(srcPath, 'Expect an account name and a subject');
  }
  const prefix = o.prefix === undefined ? null : str(o.prefix, child(at, 'prefix'));
  const to = o.to === undefined ? null : str(o.to, child(at, 'to'));
  if (prefix !== null && to !== null) throw new ConfigError(at, "Stream import can not have a 'prefix' and a 'to' property");
  if (o.share !== undefined && typeof o.share !== 'boolean') throw new ConfigError(child(at, 'share'), 'must be a boolean');
  const out: ResolvedImport = { kind, account: src.account, subject: src.subject, prefix, to };
  return o.share === true ? { ...out, share: true } : out;
}

/** The state of the checks before any import: the accounts' exports. */
export function newImportState(exports: Map<string, ResolvedExport[]>): State {
  return { exports, streams: new Map(), services: new Map() };
}

/** An import added so far, for the cycle checks (nats-server's streamImport / serviceImport: `acc`, `from`, `to`). */
interface Added {
  readonly acc: string;
  readonly from: string;
  readonly to: string;
}

/** What the checks keep per account while imports are added one by one, as nats-server does. */
export interface State {
  readonly exports: Map<string, ResolvedExport[]>;
  readonly streams: Map<string, Added[]>;
  readonly services: Map<string, Added[]>;
}

/**
 * May `importer` import `subject` of an export? nats-server's checkAuth, given the export that
 * matched and, when it matched by a wildcard, the import subject's tokens (null on an exact match).
 */
export type ExportAuthorizer = (e: ResolvedExport, tokens: readonly string[] | null) => boolean;

/** checkAuth for configured accounts: a public export, or one that names the importer. */
const byAccountList = (importer: string): ExportAuthorizer => (e) => e.accounts === null || e.accounts.includes(importer);

/** nats-server's checkStreamExportApproved / checkServiceExportApproved: the exact export first, then one that covers the subject. */
function approved(exports: readonly ResolvedExport[], kind: 'stream' | 'service', subject: string, auth: ExportAuthorizer): boolean {
  if (!isValidSubscribeSubject(subject)) return false;
  const own = exports.filter((e) => e.kind === kind);
  const exact = own.find((e) => e.subject === subject);
  if (exact !== undefined) return auth(exact, null);
  const tokens = subject.split('.');
  const covering = own.find((e) => isSubsetMatchTokenized(tokens, e.subject.split('.')));
  return covering !== undefined && auth(covering, tokens);
}

function streamCycle(st: State, account: string, to: string, visited: Set<string>): boolean {
  const exports = (st.exports.get(account) ?? []).filter((e) => e.kind === 'stream');
  if (!exports.some((e) => subjectIsSubsetMatch(to, e.subject))) return false;
  for (const si of st.streams.get(account) ?? []) {
    if (!subjectsCollide(to, si.to)) continue;
    if (visited.has(si.acc)) return true;
    visited.add(account);
    if (subjectIsSubsetMatch(si.to, to)) to = si.to;
    if (streamCycle(st, si.acc, to, visited)) return true;
  }
  return false;
}

function serviceCycle(st: State, account: string, from: string, visited: Set<string>): boolean {
  for (const si of st.services.get(account) ?? []) {
    if (!subjectsCollide(from, si.to)) continue;
    if (visited.has(si.acc)) return true;
    visited.add(account);
    if (subjectIsSubsetMatch(si.from, from)) from = si.from;
    if (serviceCycle(st, si.acc, from, visited)) return true;
  }
  return false;
}

function transformText(err: unknown): string {
  return err instanceof TransformError || err instanceof Error ? err.message : String(err);
}

class Refused extends Error {}

/**
 * Adds a stream import to the checks' state (AddStreamImportWithClaim /
 * AddMappedStreamImportWithClaim): null, or nats-server's reason for refusing it.
 */
export function addStreamImport(st: State, importer: string, im: ResolvedImport, auth: ExportAuthorizer = byAccountList(importer)): string | null {
  try {
    addStreamImportOrThrow(st, importer, im, auth);
    return null;
  } catch (err) {
    if (err instanceof Refused) return err.message;
    throw err;
  }
}

function addStreamImportOrThrow(st: State, importer: string, im: ResolvedImport, auth: ExportAuthorizer): void {
  const fail = (reason: string): never => {
    throw new Refused(reason);
  };
  const exporter = im.account;
  const from = im.subject;
  if (!approved(st.exports.get(exporter) ?? [], 'stream', from, auth)) fail('stream import not authorized');
  let to = im.to ?? from;
  if (im.prefix !== null) {
    if (subjectHasWildcard(im.prefix) || !isValidSubscribeSubject(im.prefix.endsWith('.') ? im.prefix.slice(0, -1) : im.prefix)) {
      fail('stream import prefix can not contain wildcard tokens');
    }
    to = `${im.prefix.endsWith('.') ? im.prefix : `${im.prefix}.`}${from}`;
  }
  if (streamCycle(st, exporter, to, new Set([importer])) || streamCycle(st, exporter, from, new Set([importer]))) fail('import forms a cycle');
  if (subjectHasWildcard(from) && to !== from) {
    try {
      SubjectTransform.create(from, transformTokenize(to), true);
    } catch (err) {
      fail(`failed to create mapping transform for stream import subject from ${JSON.stringify(from)} to ${JSON.stringify(to)}: ${transformText(err)}`);
    }
    to = transformUntokenize(to).subject;
  }
  const list = st.streams.get(importer) ?? [];
  if (list.some((s) => s.acc === exporter && s.from === from)) fail('stream import already exists');
  list.push({ acc: exporter, from, to });
  st.streams.set(importer, list);
}

/** Adds a service import to the checks' state (addServiceImportWithClaim): null, or nats-server's reason for refusing it. */
export function addServiceImport(st: State, importer: string, im: ResolvedImport, auth: ExportAuthorizer = byAccountList(importer)): string | null {
  try {
    addServiceImportOrThrow(st, importer, im, auth);
    return null;
  } catch (err) {
    if (err instanceof Refused) return err.message;
    throw err;
  }
}

function addServiceImportOrThrow(st: State, importer: string, im: ResolvedImport, auth: ExportAuthorizer): void {
  const fail = (reason: string): never => {
    throw new Refused(reason);
  };
  const exporter = im.account;
  const from = im.to ?? im.subject;
  const to = im.subject;
  if (!isValidSubscribeSubject(from) || !isValidSubscribeSubject(to)) fail('sublist: invalid subject');
  if (!approved(st.exports.get(exporter) ?? [], 'service', to, auth)) fail('service import not authorized');
  const fromT = subjectHasWildcard(to) ? transformUntokenize(from).subject : from;
  if (serviceCycle(st, exporter, fromT, new Set([importer]))) fail('import forms a cycle');
  const list = st.services.get(importer) ?? [];
  const dup = list.find((s) => s.acc === exporter && s.from === from);
  if (dup !== undefined) {
    fail(`duplicate service import subject ${JSON.stringify(from)}, previously used in import for account ${JSON.stringify(dup.acc)}, subject ${JSON.stringify(dup.to)}`);
  }
  if (subjectHasWildcard(to) && to !== from) {
    try {
      serviceTransform(from, to);
    } catch (err) {
      fail(transformText(err));
    }
  }
  list.push({ acc: exporter, from: fromT, to });
  st.services.set(importer, list);
}

/**
 * The transform of a wildcard service import: the local subject (`from`, where `$n` may name
 * the export's wildcards) to the exported one (`to`). nats-server builds it in reverse (from the
 * export to the local subject, strict) and reverses it; this builds the forward one directly.
 * @throws Error with nats-server's words when the mapping is refused.
 */
export function serviceTransform(from: string, to: string): SubjectTransform {
  const fail = (reason: string): never => {
    throw new Error(`failed to create mapping transform for service import subject from ${JSON.stringify(from)} to ${JSON.stringify(to)}: ${reason}`);
  };
  const exportSubject = transformUntokenize(to).subject;
  try {
    // The strict check, as nats-server makes it: the export's `*`s numbered, onto the local subject.
    SubjectTransform.create(exportSubject, transformTokenize(from), true);
  } catch (err) {
    fail(transformText(err));
  }
  // Local subject → export: the q-th `*` of the local subject (numbered as transformTokenize
  // numbers it, or by its `$k`) carries the export's k-th wildcard.
  const local = from.split('.');
  let q = 0;
  let star = 0;
  const byExportIndex = new Map<number, number>();
  for (const t of local) {
    const { refs } = transformUntokenize(t);
    if (t === '*') byExportIndex.set(++star, ++q);
    else if (refs.length === 1) byExportIndex.set(refs[0], ++q);
  }
  let k = 0;
  const dest = exportSubject.split('.').map((t) => (t === '*' ? `$${byExportIndex.get(++k) ?? k}` : t)).join('.');
  try {
    return SubjectTransform.create(transformUntokenize(from).subject, dest, false)!;
  } catch (err) {
    return fail(transformText(err));
  }
}

/**
 * The accounts' exports and imports (as given) into their resolved form, checked as nats-server
 * checks them at startup. `names` are the configured accounts.
 */
export function resolveAccountLinks(accounts: Record<string, unknown>, names: readonly string[]): Record<string, ResolvedAccountLinks> {
  const defined = new Set(names);
  const exportsByAccount = new Map<string, ResolvedExport[]>();
  const importsByAccount = new Map<string, Array<{ im: ResolvedImport; at: string }>>();
  for (const name of names) {
    const a = object(accounts[name] ?? {}, `accounts.${name}`);
    const at = `accounts.${name}`;
    if (a.exports !== undefined) {
      if (!Array.isArray(a.exports)) throw new ConfigError(`${at}.exports`, 'Exports should be an array');
      exportsByAccount.set(name, a.exports.map((e: unknown, i) => resolveExport(e, `${at}.exports[${i}]`)));
    }
    if (a.imports !== undefined) {
      if (!Array.isArray(a.imports)) throw new ConfigError(`${at}.imports`, 'Imports should be an array');
      importsByAccount.set(name, a.imports.map((im: unknown, i) => ({ im: resolveImport(im, `${at}.imports[${i}]`), at: `${at}.imports[${i}]` })));
    }
  }
  // Exports: every account they name must be configured; a service's latency tracking must be possible.
  for (const kind of ['stream', 'service'] as const) {
    for (const [name, list] of exportsByAccount) {
      const services: string[] = [];
      list.forEach((e, i) => {
        if (e.kind !== kind) return;
        for (const acc of e.accounts ?? []) {
          if (!defined.has(acc)) throw new ConfigError(`accounts.${name}.exports[${i}]`, `${JSON.stringify(acc)} account not defined for ${kind} export`);
        }
        if (kind !== 'service') return;
        services.push(e.subject);
        const lat = e.latency;
        const refused = lat === undefined ? null : latencyRefusal(e, lat, services);
        if (refused !== null) {
          throw new ConfigError(`accounts.${name}.exports[${i}]`, `Error adding service latency sampling for ${JSON.stringify(e.subject)} on subject ${JSON.stringify(lat!.subject)}: ${refused}`);
        }
      });
    }
  }
  const st: State = { exports: exportsByAccount, streams: new Map(), services: new Map() };
  for (const kind of ['stream', 'service'] as const) {
    for (const [name, list] of importsByAccount) {
      for (const { im, at } of list) {
        if (im.kind !== kind) continue;
        if (!defined.has(im.account)) throw new ConfigError(at, `${JSON.stringify(im.account)} account not defined for ${kind} import`);
        const refused = kind === 'stream' ? addStreamImport(st, name, im) : addServiceImport(st, name, im);
        if (refused !== null) throw new ConfigError(at, `Error adding ${kind} import ${JSON.stringify(im.subject)}: ${refused}`);
      }
    }
  }
  const out: Record<string, ResolvedAccountLinks> = {};
  for (const name of names) {
    const exports = exportsByAccount.get(name) ?? [];
    const imports = (importsByAccount.get(name) ?? []).map((x) => x.im);
    if (exports.length > 0 || imports.length > 0) out[name] = { exports, imports };
  }
  return out;
}
