/**
 * The on-disk records of {@link FileRaftStorage} (file-storage.ts): log records, the hard state
 * file and the snapshot file. Our own format, little endian, each record or file checksummed
 * with zlib's CRC-32 so that a torn or damaged one is recognised and never misread.
 *
 * Log record (in `<gen>-<seq>.log` segment files, appended):
 *
 * ```
 *  0  u32  length of the whole record (checksum included)
 *  4  u8   kind       1 entry, 2 truncate
 *  5  u8   entry type (nats-server's EntryType numbers)
 *  6  u16  0
 *  8  f64  index      entry: its index (everything from there on is replaced); truncate: the
 *                     first index dropped
 * 16  f64  term       (0 for truncate)
 * 24  ...  data
 * -4  u32  CRC-32 of bytes [0, length - 4)
 * ```
 *
 * Hard state file `hard`: magic, term (f64), vote (u16 length + UTF-8, 0xffff for none), CRC-32.
 * Snapshot file `snap`: magic, generation (f64), lastIndex (f64), lastTerm (f64), the peers
 * (u32 count, each u16 length + UTF-8), data (u32 length + bytes), CRC-32. Both are replaced
 * atomically (temp file, fsync, rename, fsync of the directory), so they are never torn.
 */
import * as zlib from 'node:zlib';
import type { EntryType, LogEntry, Snapshot } from '../raft/types.js';

// zlib.crc32 exists from Node 20.15 / 22.2 on; the format depends on it.
const crc32: (data: Uint8Array) => number =
  typeof zlib.crc32 === 'function'
    ? zlib.crc32
    : () => {
        throw new Error('nats-embedded raft storage: node:zlib crc32 is missing (Node >= 20.15 needed)');
      };

export const K_ENTRY = 1;
export const K_TRUNCATE = 2;
const HEAD = 24;
/** Bytes of a log record besides its data. */
export const RECORD_OVERHEAD = HEAD + 4;
const HARD_MAGIC = 0x31485252; // "RRH1"
const SNAP_MAGIC = 0x31535252; // "RRS1"
const NO_VOTE = 0xffff;

/** Writes one log record into `buf` at `pos`; returns the position after it. */
export function writeRecord(buf: Buffer, pos: number, kind: number, index: number, term: number, type: number, data: Uint8Array): number {
  const len = RECORD_OVERHEAD + data.length;
  buf.writeUInt32LE(len, pos);
  buf.writeUInt8(kind, pos + 4);
  buf.writeUInt8(type, pos + 5);
  buf.writeUInt16LE(0, pos + 6);
  buf.writeDoubleLE(index, pos + 8);
  buf.writeDoubleLE(term, pos + 16);
  buf.set(data, pos + HEAD);
  buf.writeUInt32LE(crc32(buf.subarray(pos, pos + len - 4)), pos + len - 4);
  return pos + len;
}

/** One log record as a buffer of its own. */
export function encodeRecord(kind: number, index: number, term: number, type: number, data: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(RECORD_OVERHEAD + data.length);
  writeRecord(buf, 0, kind, index, term, type, data);
  return buf;
}

/** A decoded log record. `data` is a copy (it outlives the file buffer). */
export interface LogRecord {
  readonly kind: number;
  readonly index: number;
  readonly term: number;
  readonly entry: LogEntry | null;
  /** Where the next record starts. */
  readonly end: number;
}

const copyOut = (buf: Buffer, from: number, to: number): Uint8Array => new Uint8Array(buf.buffer.slice(buf.byteOffset + from, buf.byteOffset + to));

/** The record at `pos`, or null when it is incomplete, damaged or not a record we know. */
export function readRecord(buf: Buffer, pos: number): LogRecord | null {
  if (pos + RECORD_OVERHEAD > buf.length) return null;
  const len = buf.readUInt32LE(pos);
  if (len < RECORD_OVERHEAD || pos + len > buf.length) return null;
  if (crc32(buf.subarray(pos, pos + len - 4)) !== buf.readUInt32LE(pos + len - 4)) return null;
  const kind = buf.readUInt8(pos + 4);
  const index = buf.readDoubleLE(pos + 8);
  const term = buf.readDoubleLE(pos + 16);
  if (!Number.isSafeInteger(index) || index < 1 || !Number.isSafeInteger(term) || term < 0) return null;
  if (kind === K_TRUNCATE) return { kind, index, term, entry: null, end: pos + len };
  if (kind !== K_ENTRY) return null;
  const type = buf.readUInt8(pos + 5) as EntryType;
  return { kind, index, term, entry: { term, type, data: copyOut(buf, pos + HEAD, pos + len - 4) }, end: pos + len };
}

function sealed(parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const crc = Buffer.allocUnsafe(4);
  crc.writeUInt32LE(crc32(body), 0);
  return Buffer.concat([body, crc]);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function f64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeDoubleLE(n, 0);
  return b;
}

function str(s: string): Buffer {
  const text = Buffer.from(s, 'utf8');
  if (text.length >= NO_VOTE) throw new RangeError('raft storage: a peer id is longer than 65534 bytes');
  const len = Buffer.allocUnsafe(2);
  len.writeUInt16LE(text.length, 0);
  return Buffer.concat([len, text]);
}

/** A reader over a checksummed file that throws on any overrun. */
class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error('short');
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = copyOut(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  text(n: number): string {
    return Buffer.from(this.bytes(n)).toString('utf8');
  }
}

/** Checks the trailing CRC-32 of a whole file; the body without it, or null. */
function unseal(buf: Buffer, magic: number): Buffer | null {
  if (buf.length < 8) return null;
  const body = buf.subarray(0, buf.length - 4);
  if (crc32(body) !== buf.readUInt32LE(buf.length - 4) || body.readUInt32LE(0) !== magic) return null;
  return body;
}

export function encodeHardState(term: number, vote: string | null): Buffer {
  const none = Buffer.allocUnsafe(2);
  none.writeUInt16LE(NO_VOTE, 0);
  return sealed([u32(HARD_MAGIC), f64(term), vote === null ? none : str(vote)]);
}

/** The hard state, or null when the file is damaged. */
export function decodeHardState(buf: Buffer): { term: number; vote: string | null } | null {
  const body = unseal(buf, HARD_MAGIC);
  if (body === null) return null;
  try {
    const r = new Reader(body);
    r.u32();
    const term = r.f64();
    const n = r.u16();
    return { term, vote: n === NO_VOTE ? null : r.text(n) };
  } catch {
    return null;
  }
}

export function encodeSnapshot(s: Snapshot, gen: number): Buffer {
  return sealed([u32(SNAP_MAGIC), f64(gen), f64(s.lastIndex), f64(s.lastTerm), u32(s.peers.length), ...s.peers.map(str), u32(s.data.length), Buffer.from(s.data.buffer, s.data.byteOffset, s.data.length)]);
}

/** The snapshot and the log generation that continues it, or null when the file is damaged. */
export function decodeSnapshot(buf: Buffer): { snapshot: Snapshot; gen: number } | null {
  const body = unseal(buf, SNAP_MAGIC);
  if (body === null) return null;
  try {
    const r = new Reader(body);
    r.u32();
    const gen = r.f64();
    const lastIndex = r.f64();
    const lastTerm = r.f64();
    const peers: string[] = [];
    for (let n = r.u32(); n > 0; n--) peers.push(r.text(r.u16()));
    const data = r.bytes(r.u32());
    return { snapshot: { lastIndex, lastTerm, peers, data }, gen };
  } catch {
    return null;
  }
}
