/**
 * The file store's on-disk records: encoding, parsing and checksums. Our own format, in the
 * spirit of nats-server's message blocks (server/filestore.go: a length, the sequence, the
 * time, the subject, header and payload, a hash; removed messages marked rather than moved).
 *
 * A segment file (`<10-digit id>.seg`) is a sequence of records, little endian:
 *
 * ```
 *  0  u8   flags        bit 0 removed, bit 1 erased — set in place later, not checksummed
 *  1  u8   type         1 message, 2 skip, 3 floor, 4 segment header
 *  2  u16  subject length
 *  4  u32  record length (all of it, checksum included)
 *  8  f64  sequence
 * 16  f64  time (epoch ms)
 * 24  u32  header length (0: no header)
 * 28  ...  subject (latin1), header, data
 * -4  u32  CRC-32 (zlib's) of bytes [1, length - 4)
 * ```
 *
 * - message: a stored message. Removing it sets its `removed` flag with a 1-byte write in place
 *   (erasing also overwrites subject, header and data with random bytes), so removals need no
 *   record of their own and compaction simply leaves removed records out.
 * - skip: a sequence consumed without a message (keeps the last sequence and time).
 * - floor: every sequence below `seq` is gone (a purge or compaction: one record, not one flag
 *   per message); past the end it also moves the last sequence to `seq - 1`.
 * - segment header: first record of every segment: `seq`/`time` are the store's last sequence
 *   and time and the data holds the floor (the first sequence, f64), a magic and a version.
 *   Because every segment starts with the state as of its creation, older segments can be
 *   compacted or deleted without losing the last sequence or a floor recorded in them.
 *
 * A removed record's checksum is not checked (erasing changed it); its length is trusted.
 */
import * as zlib from 'node:zlib';

export const FLAG_REMOVED = 1;
export const FLAG_ERASED = 2;

export const T_MSG = 1;
export const T_SKIP = 2;
export const T_FLOOR = 3;
export const T_SEGMENT = 4;

/** Bytes before the subject. */
export const REC_HEAD = 28;
/** Bytes of a record besides subject, header and data. */
export const REC_OVERHEAD = REC_HEAD + 4;

const SEG_MAGIC = 0x314a534e; // "NSJ1"
const SEG_VERSION = 1;
const SEG_DATA = 16;
/** Length of a segment header record. */
export const SEG_HEADER_LEN = REC_OVERHEAD + SEG_DATA;

// zlib.crc32 exists from Node 20.15 / 22.2 on; the format depends on it.
const crc32: (data: Uint8Array) => number =
  typeof zlib.crc32 === 'function'
    ? zlib.crc32
    : () => {
        throw new Error('nats-embedded file store: node:zlib crc32 is missing (Node >= 20.15 needed)');
      };

/** Length of a record with these parts. */
export function recordLength(subjectLen: number, hdrLen: number, dataLen: number): number {
  return REC_OVERHEAD + subjectLen + hdrLen + dataLen;
}

/**
 * Writes a record at `buf[pos]` (which must have room) and returns its length. `subject` is
 * written as latin1: subjects are latin1 strings in the broker, one char per wire byte.
 */
export function encodeRecord(
  buf: Buffer,
  pos: number,
  type: number,
  seq: number,
  ts: number,
  subject: string,
  hdr: Buffer | null,
  data: Buffer | null,
): number {
  const subjLen = subject.length;
  const hdrLen = hdr === null ? 0 : hdr.length;
  const dataLen = data === null ? 0 : data.length;
  const len = recordLength(subjLen, hdrLen, dataLen);
  buf[pos] = 0;
  buf[pos + 1] = type;
  buf.writeUInt16LE(subjLen, pos + 2);
  buf.writeUInt32LE(len, pos + 4);
  buf.writeDoubleLE(seq, pos + 8);
  buf.writeDoubleLE(ts, pos + 16);
  buf.writeUInt32LE(hdrLen, pos + 24);
  let p = pos + REC_HEAD;
  if (subjLen > 0) p += buf.write(subject, p, subjLen, 'latin1');
  if (hdr !== null) p += hdr.copy(buf, p);
  if (data !== null) p += data.copy(buf, p);
  buf.writeUInt32LE(crc32(buf.subarray(pos + 1, p)), p);
  return len;
}

/** The data of a segment header record: floor, magic, version. */
export function segmentHeaderData(floor: number): Buffer {
  const b = Buffer.alloc(SEG_DATA);
  b.writeDoubleLE(floor, 0);
  b.writeUInt32LE(SEG_MAGIC, 8);
  b.writeUInt32LE(SEG_VERSION, 12);
  return b;
}

/** Parses records one at a time (fields of the last good one), without allocating. */
export class RecordParser {
  flags = 0;
  type = 0;
  subjLen = 0;
  len = 0;
  seq = 0;
  ts = 0;
  hdrLen = 0;
  dataLen = 0;
  /** For a segment header: its floor. */
  floor = 0;

  /**
   * Reads the record at `buf[pos]` (`end` = bytes available). False when there is no intact
   * record there: torn (cut short), corrupt (checksum) or not a record at all.
   */
  parse(buf: Buffer, pos: number, end: number): boolean {
    if (end - pos < REC_OVERHEAD) return false;
    const flags = buf[pos];
    const type = buf[pos + 1];
    const subjLen = buf.readUInt16LE(pos + 2);
    const len = buf.readUInt32LE(pos + 4);
    const hdrLen = buf.readUInt32LE(pos + 24);
    if (type < T_MSG || type > T_SEGMENT || flags > (FLAG_REMOVED | FLAG_ERASED)) return false;
    if (len > end - pos || REC_OVERHEAD + subjLen + hdrLen > len) return false;
    const removed = (flags & FLAG_REMOVED) !== 0;
    if (removed && type !== T_MSG) return false;
    if (!removed && crc32(buf.subarray(pos + 1, pos + len - 4)) !== buf.readUInt32LE(pos + len - 4)) return false;
    this.flags = flags;
    this.type = type;
    this.subjLen = subjLen;
    this.len = len;
    this.seq = buf.readDoubleLE(pos + 8);
    this.ts = buf.readDoubleLE(pos + 16);
    this.hdrLen = hdrLen;
    this.dataLen = len - REC_OVERHEAD - subjLen - hdrLen;
    if (!Number.isSafeInteger(this.seq) || this.seq < 0) return false;
    if (type === T_SEGMENT) {
      if (this.dataLen !== SEG_DATA) return false;
      const d = pos + REC_HEAD + subjLen + hdrLen;
      if (buf.readUInt32LE(d + 8) !== SEG_MAGIC || buf.readUInt32LE(d + 12) !== SEG_VERSION) return false;
      this.floor = buf.readDoubleLE(d);
    }
    return true;
  }
}
