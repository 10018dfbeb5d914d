/**
 * Mints NATS JWTs for tests (operator → account → user), as nsc / @nats-io/jwt encode them:
 * header `{"typ":"JWT","alg":"ed25519-nkey"}`, the claims as base64url JSON, and the issuer's
 * ed25519 signature (by @nats-io/nkeys) over `header.claims`. `jti` is a random id (nats-server
 * does not check it). Also writes `.creds` files as nsc does, and the raw CONNECT of a JWT user
 * (its line, the signed nonce) for wire-level tests.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';

const HEADER = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' })).toString('base64url');

/** Encodes claims signed by `signer` (whose public key becomes `iss` unless given). */
export function encodeJwt(claims: Record<string, unknown>, signer: KeyPair, header = HEADER): string {
  const full = { jti: randomBytes(16).toString('hex').toUpperCase(), iat: nowSec(), iss: publicKeyOf(signer), ...claims };
  const body = Buffer.from(JSON.stringify(full)).toString('base64url');
  const input = `${header}.${body}`;
  const sig = cryptoSign(null, Buffer.from(input), privateKeyOf(signer)).toString('base64url');
  return `${input}.${sig}`;
}

// @nats-io/nkeys signs and derives public keys in pure JavaScript (milliseconds each); the
// helpers mint many JWTs, so they sign with node:crypto's ed25519 from the same seed.
const publicKeys = new WeakMap<KeyPair, string>();
const privateKeys = new WeakMap<KeyPair, KeyObject>();
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The bytes of a base32 (RFC 4648, no padding) nkey. */
function base32Decode(text: string): number[] {
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const ch of text) {
    acc = ((acc << 5) | B32.indexOf(ch)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  return bytes;
}

function base32Encode(bytes: readonly number[]): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(acc >> bits) & 31];
    }
  }
  if (bits > 0) out += B32[(acc << (5 - bits)) & 31];
  return out;
}

/** CRC-16/XMODEM, the checksum of nkeys. */
function crc16(bytes: readonly number[]): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The public key of `kp`, derived once (natively). */
export function publicKeyOf(kp: KeyPair): string {
  let k = publicKeys.get(kp);
  if (k === undefined) {
    const seed = base32Decode(new TextDecoder().decode(kp.getSeed()));
    // The seed's two prefix bytes carry the key's role (operator, account, user).
    const role = ((seed[0]! & 7) << 5) | ((seed[1]! & 0xf8) >> 3);
    const spki = createPublicKey(privateKeyOf(kp)).export({ format: 'der', type: 'spki' });
    const body = [role, ...spki.subarray(spki.length - 32)];
    const crc = crc16(body);
    k = base32Encode([...body, crc & 0xff, crc >> 8]);
    publicKeys.set(kp, k);
  }
  return k;
}

function privateKeyOf(kp: KeyPair): KeyObject {
  let k = privateKeys.get(kp);
  if (k === undefined) {
    // The seed: base32 of 2 prefix bytes, the 32-byte ed25519 seed, a 2-byte CRC.
    const bytes = base32Decode(new TextDecoder().decode(kp.getSeed()));
    const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(bytes.slice(2, 34))]);
    k = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    privateKeys.set(kp, k);
  }
  return k;
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
  const pub = publicKeyOf(kp);
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
  const pub = publicKeyOf(kp);
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
  const pub = publicKeyOf(kp);
  const jwt = encodeJwt({
    sub: pub,
    name: 'U',
    ...top,
    nats: { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, type: 'user', version: 2, ...nats },
  }, signer);
  const seed = kp.getSeed();
  return { kp, pub, seed, jwt, creds: credsFile(jwt, seed) };
}

/**
 * An activation JWT: `signer` (the exporting account, or one of its signing keys: then pass
 * `issuer_account` in `nats`) grants `importer` the import of `subject` (`kind` stream|service).
 * `top` sets claims beside `nats` (`exp`, `nbf`, `iat`).
 */
export function makeActivation(
  signer: KeyPair,
  importer: string,
  subject: string,
  kind: 'stream' | 'service',
  nats: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
): string {
  return encodeJwt({ sub: importer, name: subject, ...top, nats: { subject, kind, type: 'activation', version: 2, ...nats } }, signer);
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
