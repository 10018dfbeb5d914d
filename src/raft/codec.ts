/**
 * The binary encoding of Raft messages: one kind byte, then fixed little-endian fields (numbers
 * as unsigned 64-bit, refused above 2^53), as nats-server's NRG messages are laid out (raft.go's
 * `appendEntry.encode`, `voteRequest.encode`). Peer ids travel only inside snapshots (the
 * transport names the sender). `decodeMessage` never throws: malformed input gives `null`.
 */
import { EntryType, type LogEntry, type RaftMessage, type Snapshot } from './types.js';

const KIND = { vote: 1, 'vote-response': 2, append: 3, 'append-response': 4, snapshot: 5, 'timeout-now': 6 } as const;
const ENTRY_TYPES: ReadonlySet<number> = new Set(Object.values(EntryType));
const HI_MAX = 0x1fffff; // 2^53 - 1 >> 32
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The largest peer id, in UTF-8 bytes. */
export const MAX_PEER_ID_BYTES = 255;

class Writer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private at = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u8(v: number): void {
    this.view.setUint8(this.at++, v);
  }
  u16(v: number): void {
    this.view.setUint16(this.at, v, true);
    this.at += 2;
  }
  u32(v: number): void {
    this.view.setUint32(this.at, v, true);
    this.at += 4;
  }
  u64(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`raft: ${v} is not a term or index`);
    this.u32(v % 0x1_0000_0000);
    this.u32(Math.floor(v / 0x1_0000_0000));
  }
  raw(b: Uint8Array): void {
    this.bytes.set(b, this.at);
    this.at += b.length;
  }
}

/** Reads fields; any read past the end or out of range sets `bad` and yields 0. */
class Reader {
  private readonly view: DataView;
  at = 0;
  bad = false;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private room(n: number): boolean {
    if (this.bad || this.at + n > this.bytes.length) {
      this.bad = true;
      return false;
    }
    return true;
  }
  u8(): number {
    return this.room(1) ? this.view.getUint8(this.at++) : 0;
  }
  bool(): boolean {
    const v = this.u8();
    if (v > 1) this.bad = true;
    return v === 1;
  }
  u16(): number {
    if (!this.room(2)) return 0;
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }
  u32(): number {
    if (!this.room(4)) return 0;
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  u64(): number {
    const lo = this.u32();
    const hi = this.u32();
    if (hi > HI_MAX) this.bad = true;
    return hi * 0x1_0000_0000 + lo;
  }
  /** A copy: the input buffer may be reused by the transport. */
  raw(n: number): Uint8Array {
    if (!this.room(n)) return new Uint8Array(0);
    // Uint8Array's slice copies; a Buffer's would be a view that keeps the whole read alive.
    const b = Uint8Array.prototype.slice.call(this.bytes, this.at, this.at + n);
    this.at += n;
    return b;
  }
  get done(): boolean {
    return !this.bad && this.at === this.bytes.length;
  }
}

function peerBytes(peers: readonly string[]): Uint8Array[] {
  return peers.map((p) => {
    const b = utf8.encode(p);
    if (b.length === 0 || b.length > MAX_PEER_ID_BYTES) throw new RangeError(`raft: bad peer id ${JSON.stringify(p)}`);
    return b;
  });
}

/** Encodes a message. Throws (a bug of the caller) only for numbers or ids out of range. */
export function encodeMessage(m: RaftMessage): Uint8Array {
  switch (m.kind) {
    case 'vote': {
      const w = new Writer(26);
      w.u8(KIND.vote);
      w.u64(m.term);
      w.u64(m.lastTerm);
      w.u64(m.lastIndex);
      w.u8(m.transfer ? 1 : 0);
      return w.bytes;
    }
    case 'vote-response': {
      const w = new Writer(10);
      w.u8(KIND['vote-response']);
      w.u64(m.term);
      w.u8(m.granted ? 1 : 0);
      return w.bytes;
    }
    case 'append': {
      let size = 1 + 32 + 4;
      for (const e of m.entries) size += 13 + e.data.length;
      const w = new Writer(size);
      w.u8(KIND.append);
      w.u64(m.term);
      w.u64(m.commit);
      w.u64(m.pterm);
      w.u64(m.pindex);
      w.u32(m.entries.length);
      for (const e of m.entries) {
        w.u64(e.term);
        w.u8(e.type);
        w.u32(e.data.length);
        w.raw(e.data);
      }
      return w.bytes;
    }
    case 'append-response': {
      const w = new Writer(18);
      w.u8(KIND['append-response']);
      w.u64(m.term);
      w.u8(m.success ? 1 : 0);
      w.u64(m.index);
      return w.bytes;
    }
    case 'snapshot': {
      const s = m.snapshot;
      const peers = encodePeers(s.peers);
      const w = new Writer(1 + 24 + peers.length + 4 + s.data.length);
      w.u8(KIND.snapshot);
      w.u64(m.term);
      w.u64(s.lastIndex);
      w.u64(s.lastTerm);
      w.raw(peers);
      w.u32(s.data.length);
      w.raw(s.data);
      return w.bytes;
    }
    case 'timeout-now': {
      const w = new Writer(9);
      w.u8(KIND['timeout-now']);
      w.u64(m.term);
      return w.bytes;
    }
  }
}

function decodePeerId(r: Reader): string {
  const n = r.u8();
  if (n === 0) r.bad = true;
  const b = r.raw(n);
  if (r.bad) return '';
  try {
    return strictUtf8.decode(b);
  } catch {
    r.bad = true;
    return '';
  }
}

/** Decodes a message; `null` for anything malformed (short, long, unknown kind, bad field). */
export function decodeMessage(bytes: Uint8Array): RaftMessage | null {
  const r = new Reader(bytes);
  let m: RaftMessage | null = null;
  switch (r.u8()) {
    case KIND.vote:
      m = { kind: 'vote', term: r.u64(), lastTerm: r.u64(), lastIndex: r.u64(), transfer: r.bool() };
      break;
    case KIND['vote-response']:
      m = { kind: 'vote-response', term: r.u64(), granted: r.bool() };
      break;
    case KIND.append: {
      const term = r.u64();
      const commit = r.u64();
      const pterm = r.u64();
      const pindex = r.u64();
      const n = r.u32();
      const entries: LogEntry[] = [];
      for (let i = 0; i < n && !r.bad; i++) {
        const eterm = r.u64();
        const type = r.u8();
        if (!ENTRY_TYPES.has(type)) r.bad = true;
        entries.push({ term: eterm, type: type as EntryType, data: r.raw(r.u32()) });
      }
      m = { kind: 'append', term, commit, pterm, pindex, entries };
      break;
    }
    case KIND['append-response']:
      m = { kind: 'append-response', term: r.u64(), success: r.bool(), index: r.u64() };
      break;
    case KIND.snapshot: {
      const term = r.u64();
      const lastIndex = r.u64();
      const lastTerm = r.u64();
      const snapshot: Snapshot = { lastIndex, lastTerm, peers: readPeers(r), data: r.raw(r.u32()) };
      m = { kind: 'snapshot', term, snapshot };
      break;
    }
    case KIND['timeout-now']:
      m = { kind: 'timeout-now', term: r.u64() };
      break;
    default:
      return null;
  }
  return r.done ? m : null;
}

/** The data of an AddPeer/RemovePeer entry. */
export function encodePeerId(peer: string): Uint8Array {
  return peerBytes([peer])[0];
}

/** The peer of an AddPeer/RemovePeer entry, or null if it is not a valid id. */
export function decodePeerIdData(data: Uint8Array): string | null {
  if (data.length === 0 || data.length > MAX_PEER_ID_BYTES) return null;
  try {
    return strictUtf8.decode(data);
  } catch {
    return null;
  }
}

/** The data of a PeerState entry: the voter set. */
export function encodePeers(peers: readonly string[]): Uint8Array {
  const bytes = peerBytes(peers);
  const w = new Writer(2 + bytes.reduce((n, b) => n + 1 + b.length, 0));
  w.u16(bytes.length);
  for (const b of bytes) {
    w.u8(b.length);
    w.raw(b);
  }
  return w.bytes;
}

/** The voter set of a PeerState entry, or null if malformed. */
export function decodePeers(data: Uint8Array): string[] | null {
  const r = new Reader(data);
  const peers = readPeers(r);
  return r.done ? peers : null;
}

/** A peer set: a u16 count, then each id as a u8 length and UTF-8. */
function readPeers(r: Reader): string[] {
  const n = r.u16();
  const peers: string[] = [];
  for (let i = 0; i < n && !r.bad; i++) peers.push(decodePeerId(r));
  return peers;
}
