/**
 * Identifiers in nats-server's formats: the server id is an nkey-encoded server public key
 * (56 chars, starting with `N`) and the 2.10 `xkey` a curve public key (starting with `X`).
 *
 * The broker signs nothing with these keys (auth uses @nats-io/nkeys), so random key bytes
 * in the right encoding are enough: clients only display and compare them.
 */
import { createHash, randomBytes } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** nkey prefix bytes: Server = 13 << 3, Curve = 23 << 3. */
const PREFIX_SERVER = 13 << 3;
const PREFIX_CURVE = 23 << 3;

/** CRC-16/XMODEM (polynomial 0x1021), the checksum nkeys appends. */
function crc16(data: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) {
    crc ^= data[i] << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function base32(data: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (let i = 0; i < data.length; i++) {
    value = (value << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function encodePublicKey(prefix: number): string {
  const raw = Buffer.alloc(35);
  raw[0] = prefix;
  randomBytes(32).copy(raw, 1);
  const crc = crc16(raw.subarray(0, 33));
  raw[33] = crc & 0xff;
  raw[34] = crc >>> 8;
  return base32(raw);
}

/** A fresh server id, e.g. `NCPK...` (56 chars). */
export function newServerId(): string {
  return encodePublicKey(PREFIX_SERVER);
}

/** A fresh curve public key for INFO `xkey`, e.g. `XBQ...` (56 chars). */
export function newXKey(): string {
  return encodePublicKey(PREFIX_CURVE);
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A unique id in the NUID format (22 base-62 characters), as advisories and events carry. */
export function newNuid(): string {
  const bytes = randomBytes(22);
  let out = '';
  for (let i = 0; i < 22; i++) out += BASE62[bytes[i] % 62];
  return out;
}


/**
 * events.go getHash: 8 base-62 characters of the SHA-256 of `name`, a byte string
 * (protocol/text.ts). A server's is its `shash` (NRG peer ids, tracked replies' `.<hash>.T`).
 */
export function getHash(name: string): string {
  const b = createHash('sha256').update(name, 'latin1').digest();
  let out = '';
  for (let i = 0; i < 8; i++) out += BASE62[b[i]! % 62];
  return out;
}
