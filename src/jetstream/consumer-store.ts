/**
 * Where a consumer of a file stream keeps its config and delivery state, so that it survives a
 * restart as nats-server's consumer file store (server/filestore.go `consumerFileStore`) makes it
 * do: every consumer of a file stream — durable or ephemeral, unless `mem_storage` — has a
 * directory `<stream dir>/obs/<consumer>/` (nats-server's `obs/<name>/meta.inf` + `o.dat`).
 * Our own format:
 *
 * `meta.json` — written once at creation (temp file, then rename), rewritten on a config change:
 * ```
 * line 1  {"created":<ms since the epoch>,"start_seq":<first stream seq it looked at>,"config":<ConsumerConfig as the API encodes it>}
 * line 2  crc32 of line 1 (its UTF-8 bytes), 8 lowercase hex digits
 * ```
 * `start_seq` lets a consumer whose state cannot be read start over where it started (see below).
 *
 * `o0.dat`, `o1.dat` — the state ({@link ConsumerSnapshot}), written alternately, so that a
 * write cut short (the process killed inside it) leaves the other one whole. Little-endian:
 * ```
 *  0  4  magic "NECS"
 *  4  1  version (1)
 *  5  3  zero
 *  8  f64  generation (1, 2, 3, ...; the valid file with the highest one is current)
 * 16  f64  delivered consumer seq      24  f64  delivered stream seq
 * 32  f64  ack floor consumer seq      40  f64  ack floor stream seq
 * 48  u32  P pending  52  u32  R redelivery counts  56  u32  Q redelivery queue  60  u32  zero
 * 64  P × (f64 stream seq, f64 delivery seq, f64 delivered time ms)
 *     R × (f64 stream seq, f64 count)
 *     Q × f64 stream seq
 * end-4  u32  crc32 of everything before it
 * ```
 * The length must be exactly 68 + 24P + 16R + 8Q.
 *
 * When it is written (what survives a crash): write-behind, like the file store's messages. A
 * change a client is about to see — a delivery, the reply to an ack (`ackAck()`) — marks the
 * consumer, and the engine writes its state before the broker's next socket write (the core's
 * flush hook), once for all the changes of a read chunk. So what a client received is in the
 * OS's page cache when the process is killed: after a restart no message whose ack was
 * confirmed comes back, and no delivery sequence is reused. Other changes (an ack without a
 * reply, a nak, an ack-wait expiry) are written within {@link LAZY_WRITE_MS} (at most 10 writes
 * a second for a stream of plain acks, as nats-server's flusher): such an ack lost in a crash
 * means its message is delivered again (at-least-once, which nats-server — writing all consumer
 * state asynchronously — allows too). A large state (more than {@link LARGE_STATE} pending and
 * redelivered entries) is written at most every {@link LARGE_STATE_INTERVAL_MS}, urgent or not,
 * as nats-server does for every consumer; with one, confirmed acks and deliveries of the last
 * interval may be repeated after a crash.
 *
 * Recovery never fails on a bad state file: a torn or corrupt one (checksum, length, contents)
 * is passed over for the other; if neither is usable the consumer starts over at `start_seq`
 * (everything since its creation still in the stream is delivered again: nothing un-acked is
 * lost) and the caller counts an internal error. A consumer whose meta file is unreadable is
 * skipped with a warning, as nats-server skips it.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { checkSnapshot, type ConsumerSnapshot, type ConsumerState } from './consumer-state.js';

const crc32: (data: Uint8Array) => number = (zlib as { crc32?: (d: Uint8Array) => number }).crc32 ?? (() => {
  throw new Error('nats-embedded consumer store: node:zlib crc32 is missing (Node >= 20.15 needed)');
});

const MAGIC = 0x5343454e; // "NECS" little-endian
const VERSION = 1;
const HEADER = 64;
/** Entries (pending + redelivered) above which the state is written at most every interval. */
export const LARGE_STATE = 4096;
export const LARGE_STATE_INTERVAL_MS = 100;
/** How soon after the last write a change that is not urgent is written (nats-server: 100 ms). */
export const LAZY_WRITE_MS = 100;

/** The meta file's contents. */
export interface ConsumerMeta {
  /** ms since the epoch. */
  readonly created: number;
  readonly startSeq: number;
  /** The config, as `encodeConsumerConfig` writes it (JSON text). */
  readonly config: string;
}

/** Encodes a state file (see the header comment). */
export function encodeConsumerState(s: ConsumerSnapshot, generation: number): Buffer {
  const p = s.pending.length / 3;
  const r = s.redelivered.length / 2;
  const q = s.redeliveryQueue.length;
  const len = HEADER + 24 * p + 16 * r + 8 * q + 4;
  const buf = Buffer.alloc(len);
  buf.writeUInt32LE(MAGIC, 0);
  buf[4] = VERSION;
  buf.writeDoubleLE(generation, 8);
  buf.writeDoubleLE(s.deliveredConsumer, 16);
  buf.writeDoubleLE(s.deliveredStream, 24);
  buf.writeDoubleLE(s.ackFloorConsumer, 32);
  buf.writeDoubleLE(s.ackFloorStream, 40);
  buf.writeUInt32LE(p, 48);
  buf.writeUInt32LE(r, 52);
  buf.writeUInt32LE(q, 56);
  let o = HEADER;
  for (const a of [s.pending, s.redelivered, s.redeliveryQueue]) {
    for (let i = 0; i < a.length; i++, o += 8) buf.writeDoubleLE(a[i]!, o);
  }
  buf.writeUInt32LE(crc32(buf.subarray(0, o)), o);
  return buf;
}

/** Decodes a state file; null when it is torn, corrupt or not one. */
export function decodeConsumerState(buf: Buffer): { generation: number; state: ConsumerSnapshot } | null {
  if (buf.length < HEADER + 4 || buf.readUInt32LE(0) !== MAGIC || buf[4] !== VERSION) return null;
  const p = buf.readUInt32LE(48);
  const r = buf.readUInt32LE(52);
  const q = buf.readUInt32LE(56);
  const end = HEADER + 24 * p + 16 * r + 8 * q;
  if (buf.length !== end + 4 || crc32(buf.subarray(0, end)) !== buf.readUInt32LE(end)) return null;
  const read = (n: number, at: number): Float64Array => {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = buf.readDoubleLE(at + 8 * i);
    return a;
  };
  const state: ConsumerSnapshot = {
    deliveredConsumer: buf.readDoubleLE(16),
    deliveredStream: buf.readDoubleLE(24),
    ackFloorConsumer: buf.readDoubleLE(32),
    ackFloorStream: buf.readDoubleLE(40),
    pending: read(3 * p, HEADER),
    redelivered: read(2 * r, HEADER + 24 * p),
    redeliveryQueue: read(q, HEADER + 24 * p + 16 * r),
  };
  const generation = buf.readDoubleLE(8);
  if (!Number.isSafeInteger(generation) || generation < 1 || checkSnapshot(state) !== '') return null;
  return { generation, state };
}

/** Writes the meta file atomically. */
export function writeConsumerMeta(dir: string, meta: ConsumerMeta): void {
  mkdirSync(dir, { recursive: true });
  const line = `{"created":${meta.created},"start_seq":${meta.startSeq},"config":${meta.config}}`;
  const crc = crc32(Buffer.from(line, 'utf8')).toString(16).padStart(8, '0');
  writeFileSync(join(dir, 'meta.json.tmp'), `${line}\n${crc}\n`);
  renameSync(join(dir, 'meta.json.tmp'), join(dir, 'meta.json'));
}

/** Reads the meta file; throws (with the reason) when it is missing or bad. */
export function readConsumerMeta(dir: string): ConsumerMeta & { configJson: unknown } {
  const text = readFileSync(join(dir, 'meta.json'), 'utf8');
  const nl = text.indexOf('\n');
  const line = nl < 0 ? text : text.slice(0, nl);
  const crc = nl < 0 ? '' : text.slice(nl + 1).trim();
  if (crc !== crc32(Buffer.from(line, 'utf8')).toString(16).padStart(8, '0')) throw new Error('meta.json checksum mismatch');
  const raw = JSON.parse(line) as { created?: unknown; start_seq?: unknown; config?: unknown };
  if (typeof raw.created !== 'number' || typeof raw.start_seq !== 'number' || typeof raw.config !== 'object' || raw.config === null) {
    throw new Error('meta.json holds no consumer');
  }
  return { created: raw.created, startSeq: raw.start_seq, config: JSON.stringify(raw.config), configJson: raw.config };
}

/** What {@link ConsumerFileStore.load} found. */
export interface LoadedState {
  /** The newest usable state, or null (none written yet, or none usable). */
  readonly state: ConsumerSnapshot | null;
  /** State files that exist but are torn or corrupt (names). */
  readonly bad: string[];
}

/** One consumer's directory: its meta file and its two state files. */
export class ConsumerFileStore {
  private generation = 0;
  private closed = false;
  /** In the owner's write-behind list (a flush is due before the next socket write). */
  private registered = false;
  /** The state changed since the last write. */
  private changed = false;
  private lastWrite = 0;
  /** A write later: a change that is not urgent, or a large state's next turn. */
  private timer: NodeJS.Timeout | null = null;
  private state: ConsumerState | null = null;
  /**
   * The two state files, kept open after their first write (a write is then one positional
   * write, not open + write + close: deliveries can be written many times a second), and the
   * length of what each holds.
   */
  private readonly fds = [-1, -1];
  private readonly sizes = [0, 0];
  private readonly fire = (): void => {
    this.timer = null;
    this.register();
  };

  constructor(
    readonly dir: string,
    /** Asks the owner to call {@link flush} before the next socket write. */
    private readonly writeBehind: (store: ConsumerFileStore) => void,
  ) {}

  /** Reads the state files (recovery); the next write goes to the older one. */
  load(): LoadedState {
    let best: { generation: number; state: ConsumerSnapshot } | null = null;
    const bad: string[] = [];
    for (const name of ['o0.dat', 'o1.dat']) {
      let buf: Buffer;
      try {
        buf = readFileSync(join(this.dir, name));
      } catch {
        continue;
      }
      const d = decodeConsumerState(buf);
      if (d === null) bad.push(name);
      else if (best === null || d.generation > best.generation) best = d;
    }
    this.generation = best?.generation ?? 0;
    return { state: best?.state ?? null, bad };
  }

  /**
   * Follows `state`: an urgent change (a delivery, an ack reply) is written before the next
   * socket write; any other within {@link LAZY_WRITE_MS} (see the header comment).
   */
  attach(state: ConsumerState): void {
    this.state = state;
    state.onChange((urgent) => {
      if (this.closed) return;
      this.changed = true;
      if (urgent) this.register();
      else if (this.timer === null && !this.registered) this.later(LAZY_WRITE_MS);
    });
  }

  private register(): void {
    if (this.registered || this.closed) return;
    this.registered = true;
    this.writeBehind(this);
  }

  /** A write `interval` ms after the last one (at once if that was long ago). */
  private later(interval: number): void {
    this.timer = setTimeout(this.fire, Math.max(0, this.lastWrite + interval - Date.now()));
    this.timer.unref();
  }

  /** Writes the state if it changed (throws on a failed write; the owner retries). */
  flush(now = Date.now()): void {
    this.registered = false;
    const st = this.state;
    if (this.closed || st === null || !this.changed) return;
    if (st.numAckPending + st.numRedelivered > LARGE_STATE && now - this.lastWrite < LARGE_STATE_INTERVAL_MS) {
      if (this.timer === null) this.later(LARGE_STATE_INTERVAL_MS);
      return;
    }
    const gen = this.generation + 1;
    const i = gen % 2;
    try {
      const buf = encodeConsumerState(st.snapshot(), gen);
      if (this.fds[i] === -1) {
        this.fds[i] = openSync(join(this.dir, `o${i}.dat`), 'w');
        this.sizes[i] = 0;
      }
      const fd = this.fds[i]!;
      writeSync(fd, buf, 0, buf.length, 0);
      // A shorter state: the old tail goes (until then the file's length does not match its
      // counts, so a crash here leaves it refused and the other file used).
      if (buf.length < this.sizes[i]!) ftruncateSync(fd, buf.length);
      this.sizes[i] = buf.length;
    } catch (err) {
      // Not written: the owner keeps it for its next flush, on a freshly opened file.
      this.closeFile(i);
      this.registered = true;
      throw err;
    }
    this.changed = false;
    this.generation = gen;
    this.lastWrite = now;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private closeFile(i: number): void {
    const fd = this.fds[i]!;
    this.fds[i] = -1;
    if (fd === -1) return;
    try {
      closeSync(fd);
    } catch {
      // Already unusable: nothing more to release.
    }
  }

  /** The server stops: a last write of what changed, then no more. */
  close(): void {
    if (this.closed) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    try {
      this.lastWrite = -Infinity;
      this.flush();
    } finally {
      this.closed = true;
      this.state?.onChange(null);
      this.closeFile(0);
      this.closeFile(1);
    }
  }

  /** The consumer was deleted: its directory goes. */
  delete(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.state?.onChange(null);
    this.closeFile(0);
    this.closeFile(1);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
