/**
 * Activation tokens: may an account import a token-authorised export? As nats-server v2.10.29's
 * server/accounts.go checkActivation and isIssuerClaimTrusted decide it, on jwt v2.7.4's
 * checks (`Import.Validate`, `ActivationClaims.Validate`):
 *
 * 1. the import carries a token, and the import with its token validates for the importing
 *    account: the token is an activation JWT whose issuer (or `issuer_account`) is the exporting
 *    account, whose subject is the importing account, whose import type is the import's, and
 *    whose `nats.subject` covers the import's subject (a service's deprecated `to` when set);
 * 2. a token issued by a signing key names the exporting account in `issuer_account`, and the
 *    key is one of that account's signing keys (or its own key, unless a strict operator signing
 *    key issued the account);
 * 3. the token is valid now (`nbf`, `exp`: it is expired from its `exp` second on);
 * 4. the export's `revocations` do not revoke it (the importing account's key, or `*`, at or
 *    after the token's `iat`).
 *
 * Never throws: a refusal says why.
 */
import { decodeActivationJwt, validateClaims, validateImport, type AccountClaims, type JwtImport } from './jwt.js';
import { isRevoked } from './operator.js';

/** The verdict on an activation: when it lets the import in, until when (Unix seconds, 0: no end). */
export type ActivationResult = { readonly ok: true; readonly expiresAt: number } | { readonly ok: false; readonly reason: string };

/**
 * checkActivation: does `im` (an import of account `importer`) carry a valid activation of an
 * export of `exporter`? `revocations` are the export's; `exporterOwnKeyIssues` is false when a
 * strict operator signing key issued the exporting account (then only its signing keys issue).
 */
export function checkActivation(
  exporter: AccountClaims,
  exporterOwnKeyIssues: boolean,
  importer: string,
  im: JwtImport,
  revocations: Readonly<Record<string, number>>,
  nowSec: number,
): ActivationResult {
  if (im.token === '') return { ok: false, reason: 'no activation token' };
  const problems: string[] = [];
  validateImport(im, importer, problems);
  if (problems.length > 0) return { ok: false, reason: problems[0]! };
  const d = decodeActivationJwt(im.token);
  if (!d.ok) return { ok: false, reason: d.error };
  const act = d.claims;
  if (act.nats.issuerAccount !== '') {
    if (act.nats.issuerAccount !== exporter.sub) return { ok: false, reason: `invalid issuer account "${act.nats.issuerAccount}" in activation claim` };
    const signing = exporter.nats.signingKeys.some((k) => k.key === act.iss);
    if (!signing && !(act.iss === exporter.sub && exporterOwnKeyIssues)) return { ok: false, reason: 'activation issuer is not a signing key of the exporting account' };
  }
  const invalid = validateClaims(act, nowSec);
  if (invalid.length > 0) return { ok: false, reason: invalid[0]! };
  if (act.exp !== 0 && act.exp <= nowSec) return { ok: false, reason: 'claim is expired' };
  if (isRevoked(revocations, act.sub, act.iat)) return { ok: false, reason: 'activation revoked' };
  return { ok: true, expiresAt: act.exp };
}
