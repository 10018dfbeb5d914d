/**
 * Operator mode: the exports and imports of the preloaded account JWTs, as the same
 * `ResolvedAccountLinks` configured accounts resolve to (resolve-imports.ts), so the broker's
 * import machinery (broker/imports.ts) runs them unchanged.
 *
 * As nats-server v2.10.29's server/accounts.go updateAccountClaimsWithRefresh builds them
 * (the account JWT's `nats.exports` and `nats.imports`):
 *
 * - only accounts whose JWT the resolver would hand out now take part (it decodes, names its
 *   key, a trusted operator key issued it, and it validates with the time checks —
 *   server.go verifyAccountClaims);
 * - an export is public, requires an activation token (`token_req`), or requires the
 *   importer's key at `account_token_position` of the imported subject (which then wins over
 *   `token_req`, as checkAuth has it); a service export's `response_type` (`Singleton`,
 *   `Stream`, `Chunked`) and `response_threshold` (nanoseconds; 2 minutes when absent);
 * - a stream import's `local_subject` maps the subject (the deprecated `to` is a prefix); a
 *   service import is published on its `local_subject` (else `subject`) and reaches the
 *   exporter on `subject` (else on the deprecated `to`);
 * - an import whose exporting account cannot be found is logged as an error and skipped; one
 *   the export does not authorise (no valid activation, a revoked one, the wrong account
 *   token), or that forms a cycle, duplicates another or has a bad mapping is logged at debug
 *   level and skipped (accounts.go: "Error adding stream import to account ...");
 * - an import that a token authorised ends when the token expires (checkActivation's timer).
 *
 * Imports are added account by account in preload order, each account's in its JWT's order
 * (nats-server adds them as it fetches accounts, so which of two imports that would form a cycle
 * is refused can depend on the order clients connect there).
 */
import { checkActivation } from '../auth/activation.js';
import { decodeAccountJwt, validateClaims, type AccountClaims, type JwtExport, type JwtImport } from '../auth/jwt.js';
import type { ResolvedOperatorMode } from '../auth/types.js';
import { addServiceImport, addStreamImport, DEFAULT_RESPONSE_THRESHOLD_MS, latencyRefusal, newImportState, type ExportAuthorizer } from './resolve-imports.js';
import type { ResolvedAccountLinks, ResolvedExport, ResolvedImport, ResponseType, SkippedImport } from './types.js';

const RESPONSE_TYPES: Readonly<Record<string, ResponseType>> = { '': 'singleton', Singleton: 'singleton', Stream: 'stream', Chunked: 'chunked' };

/**
 * The account JWTs the resolver would hand out at `nowSec` (`jwts`: the preloads, or a directory
 * resolver's files and updates), by account key, in their order.
 */
export function usableAccounts(mode: ResolvedOperatorMode, nowSec: number, jwts: Readonly<Record<string, string>> = mode.preload): Map<string, AccountClaims> {
  const out = new Map<string, AccountClaims>();
  for (const [name, jwt] of Object.entries(jwts)) {
    const r = decodeAccountJwt(jwt);
    if (!r.ok || r.claims.sub !== name || !mode.trustedKeys.includes(r.claims.iss)) continue;
    if (validateClaims(r.claims, nowSec).length > 0) continue;
    out.set(name, r.claims);
  }
  return out;
}

/**
 * The ResolvedExport of a JWT export (its authorisation stays with the JWT export). A latency
 * block nats-server cannot track (TrackServiceExportWithSampling refuses it: a bad results
 * subject, a service of the account, a response type other than singleton) is left out, as it
 * logs it at debug level and keeps the export; `services` are the account's service subjects so far.
 */
function resolvedExport(e: JwtExport, services: string[], hasSystemAccount: boolean): ResolvedExport {
  const r = resolvedExportBase(e);
  if (r.kind !== 'service') return r;
  services.push(r.subject);
  const l = e.latency;
  if (l === null || !hasSystemAccount) return r;
  const latency = { sampling: l.sampling, subject: l.results };
  return latencyRefusal(r, latency, services) === null ? { ...r, latency } : r;
}

function resolvedExportBase(e: JwtExport): ResolvedExport {
  const service = e.type === 'service';
  return {
    kind: service ? 'service' : 'stream',
    subject: e.subject,
    accounts: null,
    responseType: service ? RESPONSE_TYPES[e.responseType] ?? 'singleton' : 'singleton',
    // A Go duration in nanoseconds; absent (0) is nats-server's default.
    responseThresholdMs: !service ? 0 : e.responseThresholdNs > 0 ? Math.max(1, Math.round(e.responseThresholdNs / 1e6)) : DEFAULT_RESPONSE_THRESHOLD_MS,
  };
}

/** The ResolvedImport of a JWT import (accounts.go's from/to of each kind). */
function resolvedImport(i: JwtImport): ResolvedImport {
  if (i.type === 'stream') {
    return i.localSubject !== ''
      ? { kind: 'stream', account: i.account, subject: i.subject, prefix: null, to: i.localSubject }
      : { kind: 'stream', account: i.account, subject: i.subject, prefix: i.to === '' ? null : i.to, to: null };
  }
  const share = i.share ? { share: true } : {};
  if (i.localSubject !== '') return { kind: 'service', account: i.account, subject: i.subject, prefix: null, to: i.localSubject, ...share };
  return i.to !== ''
    ? { kind: 'service', account: i.account, subject: i.to, prefix: null, to: i.subject, ...share }
    : { kind: 'service', account: i.account, subject: i.subject, prefix: null, to: null, ...share };
}

/**
 * The exports and imports of the usable preloaded accounts at `nowSec`: what
 * `ResolvedOptions.accountLinks` holds in operator mode. Never throws on bad JWT content.
 */
export function jwtAccountLinks(mode: ResolvedOperatorMode, nowSec: number, jwts: Readonly<Record<string, string>> = mode.preload): Record<string, ResolvedAccountLinks> {
  const accounts = usableAccounts(mode, nowSec, jwts);
  const exports = new Map<string, ResolvedExport[]>();
  /** The JWT export behind each resolved one (its token rules). */
  const origin = new Map<ResolvedExport, JwtExport>();
  for (const [name, acc] of accounts) {
    const list: ResolvedExport[] = [];
    const services: string[] = [];
    for (const e of acc.nats.exports) {
      if (e === null || e.type === '') continue;
      const r = resolvedExport(e, services, mode.systemAccount !== null && mode.systemAccount !== '');
      origin.set(r, e);
      list.push(r);
    }
    if (list.length > 0) exports.set(name, list);
  }
  const st = newImportState(exports);
  const out: Record<string, ResolvedAccountLinks> = {};
  for (const [name, acc] of accounts) {
    const imports: ResolvedImport[] = [];
    const skipped: SkippedImport[] = [];
    const label = acc.name === '' ? name : `${name}/${acc.name}`;
    for (const i of acc.nats.imports) {
      if (i === null || i.type === '') continue;
      const exporter = accounts.get(i.account);
      if (exporter === undefined) {
        const why = i.account in mode.preload ? 'account validation failed' : 'account missing';
        skipped.push({ kind: i.type, account: i.account, subject: i.subject, error: true, reason: `Can't locate account [${i.account}] for import of [${i.subject}] ${i.type} (err=${why})` });
        continue;
      }
      let expiresAt = 0;
      // accounts.go checkAuth, for the export that matched (`tokens`: null on an exact match).
      const auth: ExportAuthorizer = (re, tokens) => {
        const e = origin.get(re);
        if (e === undefined) return false;
        if (e.accountTokenPosition === 0 && !e.tokenReq) return true;
        if (e.accountTokenPosition > 0) return tokens !== null && e.accountTokenPosition <= tokens.length && tokens[e.accountTokenPosition - 1] === name;
        const ownKey = !mode.strictSigningKeys.includes(exporter.iss);
        const v = checkActivation(exporter, ownKey, name, i, e.revocations, nowSec);
        if (v.ok) expiresAt = v.expiresAt;
        return v.ok;
      };
      const r = resolvedImport(i);
      const refused = i.type === 'stream' ? addStreamImport(st, name, r, auth) : addServiceImport(st, name, r, auth);
      if (refused !== null) {
        skipped.push({ kind: i.type, account: i.account, subject: i.subject, error: false, reason: `Error adding ${i.type} import to account [${label}]: ${refused}` });
        continue;
      }
      imports.push(expiresAt > 0 ? { ...r, expiresAt } : r);
    }
    const ex = exports.get(name) ?? [];
    if (ex.length > 0 || imports.length > 0 || skipped.length > 0) out[name] = { exports: ex, imports, ...(skipped.length > 0 ? { skipped } : {}) };
  }
  return out;
}
