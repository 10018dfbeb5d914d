/**
 * The frames a server sends on a leaf node connection (nats-server's client.go
 * msgHeaderForRouteOrLeaf for a LEAF target, leafnode.go writeLeafSub): messages carry no
 * account, the connection being bound to one.
 */
import { writeRoutedTail } from './encode.js';

const SP = 0x20;
const NUM = 20;

/** Worst-case length of an `LMSG`/`HMSG` control line to a leaf node (CRLF included). */
export function leafLineLength(subject: string, reply: string, queues: readonly string[]): number {
  let n = 5 + subject.length + 3 + reply.length + 1 + NUM + 1 + NUM + 2;
  for (let i = 0; i < queues.length; i++) n += 1 + queues[i].length;
  return n;
}

/**
 * `LMSG <subject> [reply | + <reply> <q...> | | <q...>] <size>\r\n`, or `HMSG` with `<hdr>
 * <size>` when `hdr >= 0`.
 */
export function writeLeafLine(buf: Buffer, p: number, subject: string, reply: string, queues: readonly string[], hdr: number, size: number): number {
  buf[p++] = hdr >= 0 ? 0x48 : 0x4c; // H or L
  buf[p++] = 0x4d; // M
  buf[p++] = 0x53; // S
  buf[p++] = 0x47; // G
  buf[p++] = SP;
  return writeRoutedTail(buf, p, subject, reply, queues, hdr, size);
}

/** `LS+ <key>` (plain interest) or `LS+ <subject> <queue> <weight>`; `LS- <key>` when `n` is 0. `key` is `subject[ queue]`. */
export function leafSubFrame(key: string, queue: boolean, n: number): string {
  if (n <= 0) return `LS- ${key}\r\n`;
  return queue ? `LS+ ${key} ${n}\r\n` : `LS+ ${key}\r\n`;
}
