/**
 * nats-server's `getHash` (server/events.go, 2.9 and 2.10 alike): the 8-character node hash of a
 * server name that clustered JetStream shows as a peer id (`peer` in STREAM.INFO's
 * `cluster.replicas`, `/jsz`'s `meta_cluster.peer` and its replicas). Each of the first 8 bytes of
 * the name's SHA-256 picks a character of nats-server's base-62 alphabet (digits, A–Z, a–z).
 * Known values, read off a real 2.9.10 cluster: "" → `fqA4S4SK`, "n1" → `fjFyEjc1`, "n2" →
 * `44jzkV9D`, "n3" → `BXScrY9i`.
 */
import { createHash } from 'node:crypto';

/** nats-server's `digits` (accounts.go), `base` 62. */
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** nats-server's `getHash(name)`: 8 characters of `DIGITS` from the name's SHA-256. */
export function serverHash(name: string): string {
  const b = createHash('sha256').update(name, 'utf8').digest();
  let out = '';
  for (let i = 0; i < 8; i++) out += DIGITS[b[i]! % DIGITS.length];
  return out;
}
