/**
 * Mints NATS JWTs for tests (operator → account → user), as nsc / @nats-io/jwt encode them:
 * header `{"typ":"JWT","alg":"ed25519-nkey"}`, the claims as base64url JSON, and the issuer's
 * ed25519 signature (by @nats-io/nkeys) over `header.claims`. `jti` is a random id (nats-server
 * does not check it). Also writes `.creds` files as nsc does, and the raw CONNECT of a JWT user
 * (its line, the signed nonce) for wire-level tests.
 */
import { randomBytes } from 'node:crypto';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';

const HEADER = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' })).toString('base64url');

/** Encodes claims signed by `signer` (whose public key becomes `iss` unless given). */
export function encodeJwt(claims: Record<string, unknown>, signer: KeyPair, header = HEADER): string {
  const full = { jti: randomBytes(16).toString('hex').toUpperCase(), iat: nowSec(), iss: signer.getPublicKey(), ...claims };
  const body = Buffer.from(JSON.stringify(full)).toString('base64url');
  const input = `${header}.${body}`;
  const sig = Buffer.from(signer.sign(new TextEncoder().encode(input))).toString('base64url');
  return `${input}.${sig}`;
}

export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

export interface Operator {
  readonly kp: KeyPair;
  readonly pub: string;
  readonly jwt: string;
}

export interface Account {
  readonly kp: KeyPair;
  readonly pub: string;
  readonly jwt: string;
}

export interface User {
  readonly kp: KeyPair;
  readonly pub: string;
  readonly seed: Uint8Array;
  readonly jwt: string;
  /** The `.creds` file contents. */
  readonly creds: string;
}

/** An operator JWT (self-signed); `nats` merges into the claims' `nats` object. */
export function makeOperator(nats: Record<string, unknown> = {}, kp: KeyPair = createOperator(), signer: KeyPair = kp): Operator {
  const pub = kp.getPublicKey();
  const jwt = encodeJwt({ sub: pub, name: 'O', nats: { type: 'operator', version: 2, ...nats } }, signer);
  return { kp, pub, jwt };
}

/** An account JWT signed by `signer` (the operator or one of its signing keys). */
export function makeAccount(
  signer: KeyPair,
  nats: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
  kp: KeyPair = createAccount(),
): Account {
  const pub = kp.getPublicKey();
  const jwt = encodeJwt({
    sub: pub,
    name: 'A',
    ...top,
    nats: { limits: { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 }, default_permissions: { pub: {}, sub: {} }, type: 'account', version: 2, ...nats },
  }, signer);
  return { kp, pub, jwt };
}

/**
 * A user JWT signed by `signer` (the account or one of its signing keys; then pass
 * `issuer_account` in `nats`). `top` sets claims beside `nats` (`exp`, `nbf`, `iat`, `sub`).
 */
export function makeUser(
  signer: KeyPair,
  nats: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
  kp: KeyPair = createUser(),
): User {
  const pub = kp.getPublicKey();
  const jwt = encodeJwt({
    sub: pub,
    name: 'U',
    ...top,
    nats: { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, type: 'user', version: 2, ...nats },
  }, signer);
  const seed = kp.getSeed();
  return { kp, pub, seed, jwt, creds: credsFile(jwt, seed) };
}

/** A `.creds` file as nsc writes it. */
export function credsFile(jwt: string, seed: Uint8Array): string {
  return [
    '-----BEGIN NATS USER JWT-----', jwt, '------END NATS USER JWT------', '',
    '************************* IMPORTANT *************************',
    'NKEY Seed printed below can be used to sign and prove identity.',
    'NKEYs are sensitive and should be treated as secrets.', '',
    '-----BEGIN USER NKEY SEED-----', new TextDecoder().decode(seed), '------END USER NKEY SEED------', '',
    '*************************************************************', '',
  ].join('\n');
}

/** The config lines of operator mode with the MEMORY resolver preloading `accounts`. */
export function operatorConf(op: Operator, accounts: readonly Account[], systemAccount?: string): string[] {
  return [
    `operator: ${op.jwt}`,
    ...(systemAccount !== undefined ? [`system_account: ${systemAccount}`] : []),
    'resolver: MEMORY',
    'resolver_preload: {',
    ...accounts.map((a) => `  ${a.pub}: ${a.jwt}`),
    '}',
  ];
}

/**
 * Signs a server's INFO nonce with the user's key, as a client's CONNECT `sig`: base64url, or
 * (`std`) the standard alphabet, which nats-server accepts too.
 */
export function nonceSigner(u: User, std = false): (nonce: string) => string {
  return (nonce) => Buffer.from(u.kp.sign(new TextEncoder().encode(nonce))).toString(std ? 'base64' : 'base64url');
}

/**
 * A raw `CONNECT` line (with its CRLF) for a user JWT: `fields` first, then `jwt`, then `sig`
 * when given — the order nats.js sends them in.
 */
export function jwtConnect(jwt: string, sig?: string, fields: Record<string, unknown> = { verbose: false, pedantic: false, protocol: 1 }): string {
  return `CONNECT ${JSON.stringify({ ...fields, jwt, ...(sig === undefined ? {} : { sig }) })}\r\n`;
}
