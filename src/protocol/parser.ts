/**
 * The client-protocol parser: a byte state machine over Buffers, after nats-server's
 * `server/parser.go`. It knows nothing of sockets; it reports each operation to a
 * {@link ParserSink}. The result is the same however the stream is split into chunks.
 *
 * - Op names are matched one byte at a time, case-insensitively, so a bad op is reported at
 *   the byte that makes it bad, as nats-server does (not at the end of the line).
 * - Argument lines are found with `indexOf('\n')` and split in place; payloads are never
 *   scanned, only jumped over. Bytes are copied only when a frame straddles two chunks.
 *
 * Longer than 500 lines on purpose: the state machine is one function over one set of states,
 * and splitting it would cost the hot path a call per op.
 */

import { Interner } from './interner.js';
import { latin1 } from './bytes.js';

/** Strings are immutable: one interning table serves every parser in the process. */
const SHARED_INTERNER = new Interner();

/** Why parsing stopped. Each maps to one nats-server answer (see `client.ts`). */
export const ParseErrorKind = {
  /** Syntax error: `-ERR 'Unknown Protocol Operation'`, then close. */
  UnknownOp: 'unknown-op',
  /** Argument line longer than max_control_line: `-ERR 'maximum control line exceeded'`, close. */
  MaxControlLine: 'max-control-line',
  /** PUB/HPUB size over max_payload: `-ERR 'Maximum Payload Violation'`, close. */
  MaxPayload: 'max-payload',
  /** An op other than CONNECT while auth is pending: `-ERR 'Authorization Violation'`, close. */
  AuthViolation: 'auth-violation',
  /** Wrong argument count or bad size in PUB/HPUB/SUB/UNSUB: silent close. */
  BadArgs: 'bad-args',
  /** HPUB on a connection that did not negotiate headers: silent close. */
  HeadersNotSupported: 'headers-not-supported',
} as const;
export type ParseErrorKind = (typeof ParseErrorKind)[keyof typeof ParseErrorKind];

/**
 * The arguments of the PUB or HPUB being parsed. One instance per parser, reset for each
 * message, so that publishing allocates nothing here.
 */
export class PubArg {
  /** Subject, latin1-decoded (one char per byte). */
  subject = '';
  /** Reply subject, or '' when there is none. */
  reply = '';
  /** Total payload size in bytes (headers included for HPUB). */
  size = 0;
  /** Header block size for HPUB, -1 for PUB. */
  hdr = -1;
  /**
   * Leading zeros the publisher wrote in the size fields (`PUB foo 002`). nats-server copies
   * the size fields into MSG/HMSG byte for byte, so deliveries repeat them.
   */
  sizeZeros = 0;
  hdrZeros = 0;
  /**
   * Internal publications only: the subject the message is routed on when it differs from the
   * one written in MSG/HMSG (nats-server's `pa.deliver`: a JetStream consumer delivers a stored
   * message, with its own subject, to a pull request's reply subject). '' = {@link subject}.
   */
  deliver = '';
  /**
   * Internal publications only: a reply to a request's own inbox, published once. Its subject's
   * match result is not cached (see Sublist.match).
   */
  once = false;
  /**
   * A message from a gateway whose reply was mapped (`_GR_.<cluster>.<server>.<reply>`): that
   * mapped reply, which routes carry on; `reply` holds the plain one local subscribers see.
   * '' otherwise (set and cleared around one routing by the gateway layer).
   */
  gwReply = '';
  /**
   * The leaf node cluster a message came from (nats-server's `pa.origin`): a route's
   * `LMSG <origin> ...`, or the cluster of the leaf node connection that brought it. '' for none.
   * Such a message never goes back to a leaf node connection of that cluster.
   */
  origin = '';

  reset(): void {
    this.gwReply = '';
    this.origin = '';
    this.deliver = '';
    this.once = false;
    this.subject = '';
    this.reply = '';
    this.size = 0;
    this.hdr = -1;
    this.sizeZeros = 0;
    this.hdrZeros = 0;
  }
}

/** Receives the operations the parser recognises. Handlers may call `parser.stop()`. */
export interface ParserSink {
  /** CONNECT with its JSON text (latin1-decoded). */
  onConnect(json: string): void;
  /** The control line of a PUB/HPUB has been parsed (pedantic checks go here). */
  onPubArgs(pa: PubArg): void;
  /** A PUB/HPUB payload is complete: `buf[start, end)`, without the trailing CRLF. */
  onMsg(pa: PubArg, buf: Buffer, start: number, end: number): void;
  onSub(subject: string, queue: string | null, sid: string): void;
  /** `max` is -1 when absent, or the parsed limit (-1 too when unparsable, as nats-server). */
  onUnsub(sid: string, max: number): void;
  onPing(): void;
  onPong(): void;
  /** INFO from a client: parsed and ignored by nats-server. */
  onInfo(json: string): void;
  /** `-ERR` from a client. */
  onErr(text: string): void;
  /** Parsing stopped for good; the connection must be answered and closed. */
  onParseError(kind: ParseErrorKind, detail: string): void;
}

const S = {
  OP_START: 0,
  OP_PLUS: 1, OP_PLUS_O: 2, OP_PLUS_OK: 3,
  OP_MINUS: 4, OP_MINUS_E: 5, OP_MINUS_ER: 6, OP_MINUS_ERR: 7, OP_MINUS_ERR_SPC: 8,
  OP_C: 9, OP_CO: 10, OP_CON: 11, OP_CONN: 12, OP_CONNE: 13, OP_CONNEC: 14, OP_CONNECT: 15,
  OP_H: 16, OP_HP: 17, OP_HPU: 18, OP_HPUB: 19, OP_HPUB_SPC: 20,
  OP_I: 21, OP_IN: 22, OP_INF: 23, OP_INFO: 24,
  OP_P: 25, OP_PI: 26, OP_PIN: 27, OP_PING: 28, OP_PO: 29, OP_PON: 30, OP_PONG: 31,
  OP_PU: 32, OP_PUB: 33, OP_PUB_SPC: 34,
  OP_S: 35, OP_SU: 36, OP_SUB: 37, OP_SUB_SPC: 38,
  OP_U: 39, OP_UN: 40, OP_UNS: 41, OP_UNSU: 42, OP_UNSUB: 43, OP_UNSUB_SPC: 44,
  /** Collecting an argument line up to LF; `argOp` says which op it belongs to. */
  ARG: 45,
  MSG_PAYLOAD: 46,
  MSG_END_R: 47,
  MSG_END_N: 48,
  /** Stopped after an error or by `stop()`: all further input is ignored. */
  CLOSED: 49,
} as const;
type State = (typeof S)[keyof typeof S];

const A = { CONNECT: 0, PUB: 1, HPUB: 2, SUB: 3, UNSUB: 4, INFO: 5, ERR: 6 } as const;
type ArgOp = (typeof A)[keyof typeof A];

const SP = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/** Largest number of digits `parseSize` accepts (nats-server: 999,999,999). */
const MAX_SIZE_DIGITS = 9;

/** Parses a decimal size field as nats-server's `parseSize`: 1-9 ASCII digits, else -1. */
export function parseSize(buf: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len === 0 || len > MAX_SIZE_DIGITS) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Zeros before the first significant digit of a size field (a lone "0" has none). */
function leadingZeros(buf: Buffer, start: number, end: number): number {
  let n = 0;
  while (start + n < end - 1 && buf[start + n] === 0x30) n++;
  return n;
}

/** Settings the connection may change while parsing (e.g. after CONNECT). */
export interface ParserLimits {
  /** `max_control_line`; 0 or less disables the check (routes). */
  maxControlLine: number;
  /** `max_payload`; 0 or less disables the check. */
  maxPayload: number;
}

/** Incremental parser of the NATS client protocol. */
export class Parser {
  /** `max_control_line`; values <= 0 disable the check. */
  maxControlLine: number;
  /** `max_payload`; values <= 0 disable the check. */
  maxPayload: number;
  /** Whether HPUB is allowed (headers negotiated in CONNECT). */
  headers = false;
  /** When true, any op but CONNECT is an authorization violation (auth pending). */
  awaitingAuth = false;

  readonly pa = new PubArg();
  /** PUB subjects repeat, so their strings are reused (one table for all connections). */
  private readonly interner = SHARED_INTERNER;
  private readonly sink: ParserSink;
  private state: State = S.OP_START;
  private argOp: ArgOp = A.CONNECT;
  /** Partial argument line carried over from an earlier chunk. */
  private argBuf: Buffer | null = null;
  private argLen = 0;
  /** Payload being assembled across chunks. */
  private msgBuf: Buffer | null = null;
  private msgLen = 0;

  constructor(sink: ParserSink, limits: ParserLimits) {
    this.sink = sink;
    this.maxControlLine = limits.maxControlLine;
    this.maxPayload = limits.maxPayload;
  }

  /** Input held back by {@link Parser.hold}; null when parsing runs. */
  private heldChunks: Buffer[] | null = null;
  private heldSize = 0;

  /** Bytes of input held back by {@link Parser.hold} (0 when parsing runs). */
  get heldBytes(): number {
    return this.heldSize;
  }

  /**
   * Holds the input after the op being handled (called from a sink callback: a CONNECT waiting
   * for its account): the rest of the chunk and the chunks that follow are kept, in order, for
   * {@link Parser.resume}.
   */
  hold(): void {
    if (this.heldChunks !== null) return;
    this.heldChunks = [];
    this.heldSize = 0;
  }

  /** Parses the input held back, then goes on as usual (it may hold again). */
  resume(): void {
    const held = this.heldChunks;
    this.heldChunks = null;
    this.heldSize = 0;
    if (held === null) return;
    for (let k = 0; k < held.length; k++) {
      const again = this.held();
      if (again !== null) {
        for (let j = k; j < held.length; j++) {
          again.push(held[j]!);
          this.heldSize += held[j]!.length;
        }
        return;
      }
      this.parse(held[k]!);
    }
  }

  /** The held input (a method: the compiler would narrow the field across the sink's callbacks). */
  private held(): Buffer[] | null {
    return this.heldChunks;
  }

  /** True once the parser has stopped (after an error or `stop()`). */
  get stopped(): boolean {
    return this.state === S.CLOSED;
  }

  /** Stops parsing for good; the rest of the current chunk is ignored. */
  stop(): void {
    this.state = S.CLOSED;
    this.argBuf = null;
    this.msgBuf = null;
  }

  /** Feeds one chunk of the stream. */
  parse(buf: Buffer): void {
    if (this.heldChunks !== null) {
      this.heldChunks.push(Buffer.from(buf));
      this.heldSize += buf.length;
      return;
    }
    const n = buf.length;
    let i = 0;
    let b = 0;
    while (i < n) {
      switch (this.state) {
        case S.CLOSED:
          return;
        case S.OP_START:
          b = buf[i];
          if (this.awaitingAuth && b !== 0x43 && b !== 0x63) return this.fail(ParseErrorKind.AuthViolation, buf, i);
          // Fast path for the most common op: "PUB " in upper case, all in this chunk. The
          // byte-by-byte states below give the same result, only slower.
          if (b === 0x50 && i + 4 < n && buf[i + 1] === 0x55 && buf[i + 2] === 0x42 && buf[i + 3] === 0x20) {
            i = this.skipBlanks(buf, i + 4, A.PUB);
            if (i < n) break;
            this.state = S.OP_PUB_SPC;
            break;
          }
          switch (b | 0x20) {
            case 0x70: this.state = S.OP_P; break; // p
            case 0x68: this.state = S.OP_H; break; // h
            case 0x73: this.state = S.OP_S; break; // s
            case 0x75: this.state = S.OP_U; break; // u
            case 0x63: this.state = S.OP_C; break; // c
            case 0x69: this.state = S.OP_I; break; // i
            default:
              if (b === 0x2b) this.state = S.OP_PLUS;
              else if (b === 0x2d) this.state = S.OP_MINUS;
              else return this.fail(ParseErrorKind.UnknownOp, buf, i);
          }
          i++;
          break;
        // Letter states: each expects one letter (either case) and moves on.
        case S.OP_P:
          b = buf[i] | 0x20;
          if (b === 0x75) this.state = S.OP_PU;
          else if (b === 0x69) this.state = S.OP_PI;
          else if (b === 0x6f) this.state = S.OP_PO;
          else return this.fail(ParseErrorKind.UnknownOp, buf, i);
          i++;
          break;
        case S.OP_H:
          if ((buf[i] | 0x20) !== 0x70) return this.fail(ParseErrorKind.UnknownOp, buf, i); // clients cannot send HMSG
          this.state = S.OP_HP; i++; break;
        case S.OP_HP: if (!this.letter(buf, i, 0x75, S.OP_HPU)) return; i++; break;
        case S.OP_HPU: if (!this.letter(buf, i, 0x62, S.OP_HPUB)) return; i++; break;
        case S.OP_PU: if (!this.letter(buf, i, 0x62, S.OP_PUB)) return; i++; break;
        case S.OP_PI: if (!this.letter(buf, i, 0x6e, S.OP_PIN)) return; i++; break;
        case S.OP_PIN: if (!this.letter(buf, i, 0x67, S.OP_PING)) return; i++; break;
        case S.OP_PO: if (!this.letter(buf, i, 0x6e, S.OP_PON)) return; i++; break;
        case S.OP_PON: if (!this.letter(buf, i, 0x67, S.OP_PONG)) return; i++; break;
        case S.OP_S: if (!this.letter(buf, i, 0x75, S.OP_SU)) return; i++; break;
        case S.OP_SU: if (!this.letter(buf, i, 0x62, S.OP_SUB)) return; i++; break;
        case S.OP_U: if (!this.letter(buf, i, 0x6e, S.OP_UN)) return; i++; break;
        case S.OP_UN: if (!this.letter(buf, i, 0x73, S.OP_UNS)) return; i++; break;
        case S.OP_UNS: if (!this.letter(buf, i, 0x75, S.OP_UNSU)) return; i++; break;
        case S.OP_UNSU: if (!this.letter(buf, i, 0x62, S.OP_UNSUB)) return; i++; break;
        case S.OP_C: if (!this.letter(buf, i, 0x6f, S.OP_CO)) return; i++; break;
        case S.OP_CO: if (!this.letter(buf, i, 0x6e, S.OP_CON)) return; i++; break;
        case S.OP_CON: if (!this.letter(buf, i, 0x6e, S.OP_CONN)) return; i++; break;
        case S.OP_CONN: if (!this.letter(buf, i, 0x65, S.OP_CONNE)) return; i++; break;
        case S.OP_CONNE: if (!this.letter(buf, i, 0x63, S.OP_CONNEC)) return; i++; break;
        case S.OP_CONNEC: if (!this.letter(buf, i, 0x74, S.OP_CONNECT)) return; i++; break;
        case S.OP_I: if (!this.letter(buf, i, 0x6e, S.OP_IN)) return; i++; break;
        case S.OP_IN: if (!this.letter(buf, i, 0x66, S.OP_INF)) return; i++; break;
        case S.OP_INF: if (!this.letter(buf, i, 0x6f, S.OP_INFO)) return; i++; break;
        case S.OP_PLUS: if (!this.letter(buf, i, 0x6f, S.OP_PLUS_O)) return; i++; break;
        case S.OP_PLUS_O: if (!this.letter(buf, i, 0x6b, S.OP_PLUS_OK)) return; i++; break;
        case S.OP_MINUS: if (!this.letter(buf, i, 0x65, S.OP_MINUS_E)) return; i++; break;
        case S.OP_MINUS_E: if (!this.letter(buf, i, 0x72, S.OP_MINUS_ER)) return; i++; break;
        case S.OP_MINUS_ER: if (!this.letter(buf, i, 0x72, S.OP_MINUS_ERR)) return; i++; break;

        // After PUB/HPUB/SUB/UNSUB/-ERR at least one space or tab is required.
        case S.OP_PUB: if (!this.space(buf, i, S.OP_PUB_SPC)) return; i++; break;
        case S.OP_HPUB: if (!this.space(buf, i, S.OP_HPUB_SPC)) return; i++; break;
        case S.OP_SUB: if (!this.space(buf, i, S.OP_SUB_SPC)) return; i++; break;
        case S.OP_UNSUB: if (!this.space(buf, i, S.OP_UNSUB_SPC)) return; i++; break;
        case S.OP_MINUS_ERR: if (!this.space(buf, i, S.OP_MINUS_ERR_SPC)) return; i++; break;

        // Skip further blanks, then the argument starts (CONNECT and INFO need no blank).
        case S.OP_PUB_SPC: i = this.skipBlanks(buf, i, A.PUB); break;
        case S.OP_HPUB_SPC: i = this.skipBlanks(buf, i, A.HPUB); break;
        case S.OP_SUB_SPC: i = this.skipBlanks(buf, i, A.SUB); break;
        case S.OP_UNSUB_SPC: i = this.skipBlanks(buf, i, A.UNSUB); break;
        case S.OP_MINUS_ERR_SPC: i = this.skipBlanks(buf, i, A.ERR); break;
        case S.OP_CONNECT: i = this.skipBlanks(buf, i, A.CONNECT); break;
        case S.OP_INFO: i = this.skipBlanks(buf, i, A.INFO); break;

        // PING, PONG and +OK: everything up to LF is ignored.
        case S.OP_PING:
        case S.OP_PONG:
        case S.OP_PLUS_OK: {
          const lf = buf.indexOf(LF, i);
          if (lf === -1) return;
          const st = this.state;
          this.state = S.OP_START;
          i = lf + 1;
          if (st === S.OP_PING) this.sink.onPing();
          else if (st === S.OP_PONG) this.sink.onPong();
          break;
        }

        case S.ARG: {
          const lf = buf.indexOf(LF, i);
          if (lf === -1) {
            this.saveArg(buf, i, n);
            // A CR waiting for its LF is not part of the argument (nats-server never saves it).
            const partial = this.argBuf !== null && this.argBuf[this.argLen - 1] === CR ? this.argLen - 1 : this.argLen;
            if (this.maxControlLine > 0 && partial > this.maxControlLine) {
              return this.fail(ParseErrorKind.MaxControlLine, buf, i);
            }
            return;
          }
          let argBuf: Buffer;
          let s: number;
          let e: number;
          if (this.argBuf !== null) {
            this.saveArg(buf, i, lf);
            argBuf = this.argBuf;
            s = 0;
            e = this.argLen;
            this.argBuf = null;
            this.argLen = 0;
          } else {
            argBuf = buf;
            s = i;
            e = lf;
          }
          // A CR before the LF is not part of the argument.
          if (e > s && argBuf[e - 1] === CR) e--;
          i = lf + 1;
          if (this.maxControlLine > 0 && e - s > this.maxControlLine) {
            return this.fail(ParseErrorKind.MaxControlLine, buf, i);
          }
          this.state = S.OP_START;
          if (!this.processArg(argBuf, s, e)) {
            // Held (a CONNECT waiting): the rest of this chunk comes first when parsing resumes.
            const held = this.held();
            if (held !== null && i < n) {
              held.unshift(Buffer.from(buf.subarray(i, n)));
              this.heldSize += n - i;
            }
            return;
          }
          break;
        }

        case S.MSG_PAYLOAD: {
          const size = this.pa.size;
          if (this.msgBuf === null) {
            // Nothing of the payload copied yet: when it and its CRLF are all in this chunk,
            // hand it over in place (the common case), else start assembling a copy.
            if (n - i >= size + 2) {
              if (buf[i + size] !== CR || buf[i + size + 1] !== LF) {
                return this.fail(ParseErrorKind.UnknownOp, buf, i + size);
              }
              this.state = S.OP_START;
              this.sink.onMsg(this.pa, buf, i, i + size);
              i += size + 2;
              break;
            }
            this.msgBuf = Buffer.allocUnsafe(size);
            this.msgLen = 0;
          }
          const take = Math.min(size - this.msgLen, n - i);
          if (take > 0) {
            buf.copy(this.msgBuf, this.msgLen, i, i + take);
            this.msgLen += take;
            i += take;
          }
          if (this.msgLen === size) this.state = S.MSG_END_R;
          break;
        }
        case S.MSG_END_R:
          if (buf[i] !== CR) return this.fail(ParseErrorKind.UnknownOp, buf, i);
          this.state = S.MSG_END_N;
          i++;
          break;
        case S.MSG_END_N: {
          if (buf[i] !== LF) return this.fail(ParseErrorKind.UnknownOp, buf, i);
          i++;
          this.state = S.OP_START;
          const msg = this.msgBuf;
          this.msgBuf = null;
          if (msg !== null) this.sink.onMsg(this.pa, msg, 0, msg.length);
          else this.sink.onMsg(this.pa, EMPTY_PAYLOAD, 0, 0);
          break;
        }
      }
    }
  }

  private letter(buf: Buffer, i: number, lower: number, next: State): boolean {
    if ((buf[i] | 0x20) !== lower) {
      this.fail(ParseErrorKind.UnknownOp, buf, i);
      return false;
    }
    this.state = next;
    return true;
  }

  private space(buf: Buffer, i: number, next: State): boolean {
    const b = buf[i];
    if (b !== SP && b !== TAB) {
      this.fail(ParseErrorKind.UnknownOp, buf, i);
      return false;
    }
    this.state = next;
    return true;
  }

  private skipBlanks(buf: Buffer, i: number, op: ArgOp): number {
    const n = buf.length;
    while (i < n && (buf[i] === SP || buf[i] === TAB)) i++;
    if (i < n) {
      this.state = S.ARG;
      this.argOp = op;
    }
    return i;
  }

  private saveArg(buf: Buffer, start: number, end: number): void {
    const len = end - start;
    if (len <= 0) return;
    let ab = this.argBuf;
    if (ab === null) {
      ab = this.argBuf = Buffer.allocUnsafe(Math.max(256, len));
      this.argLen = 0;
    } else if (this.argLen + len > ab.length) {
      const grown = Buffer.allocUnsafe(Math.max(ab.length * 2, this.argLen + len));
      ab.copy(grown, 0, 0, this.argLen);
      ab = this.argBuf = grown;
    }
    buf.copy(ab, this.argLen, start, end);
    this.argLen += len;
  }

  /** Handles a complete argument line. Returns false when parsing must stop. */
  private processArg(buf: Buffer, s: number, e: number): boolean {
    switch (this.argOp) {
      case A.PUB:
      case A.HPUB:
        return this.processPub(buf, s, e, this.argOp === A.HPUB);
      case A.SUB:
        return this.processSub(buf, s, e);
      case A.UNSUB:
        return this.processUnsub(buf, s, e);
      case A.CONNECT:
        this.sink.onConnect(latin1(buf, s, e));
        return !this.stopped && this.held() === null;
      case A.INFO:
        this.sink.onInfo(latin1(buf, s, e));
        return !this.stopped;
      case A.ERR:
        this.sink.onErr(latin1(buf, s, e));
        return !this.stopped;
    }
  }

  // Argument splitting: runs of space/tab separate arguments. Positions are kept in a small
  // reusable array so that no per-message array is allocated.
  private readonly argPos = new Int32Array(16);

  /**
   * Splits `buf[s, e)`; returns the argument count (capped at 7, enough to reject). PUB/HPUB
   * split on space and tab; SUB/UNSUB also on CR and LF (nats-server's `splitArg`).
   */
  private split(buf: Buffer, s: number, e: number, crlf = false): number {
    const pos = this.argPos;
    let count = 0;
    let start = -1;
    for (let i = s; i < e; i++) {
      const b = buf[i];
      if (b === SP || b === TAB || (crlf && (b === CR || b === LF))) {
        if (start >= 0) {
          pos[count * 2] = start;
          pos[count * 2 + 1] = i;
          start = -1;
          if (++count === 7) return count;
        }
      } else if (start < 0) {
        start = i;
      }
    }
    if (start >= 0) {
      pos[count * 2] = start;
      pos[count * 2 + 1] = e;
      count++;
    }
    return count;
  }

  private processPub(buf: Buffer, s: number, e: number, headers: boolean): boolean {
    if (headers && !this.headers) return this.failArgs(ParseErrorKind.HeadersNotSupported, 'HPUB without headers support');
    const count = this.split(buf, s, e);
    const pos = this.argPos;
    const pa = this.pa;
    pa.reset();
    const base = headers ? 3 : 2;
    if (count !== base && count !== base + 1) return this.failArgs(ParseErrorKind.BadArgs, 'wrong number of arguments');
    let k = 0;
    pa.subject = this.interner.get(buf, pos[0], pos[1]);
    k = 1;
    if (count === base + 1) {
      pa.reply = latin1(buf, pos[2], pos[3]);
      k = 2;
    }
    if (headers) {
      pa.hdr = parseSize(buf, pos[k * 2], pos[k * 2 + 1]);
      pa.hdrZeros = leadingZeros(buf, pos[k * 2], pos[k * 2 + 1]);
      k++;
      if (pa.hdr < 0) return this.failArgs(ParseErrorKind.BadArgs, 'bad or missing header size');
    }
    pa.size = parseSize(buf, pos[k * 2], pos[k * 2 + 1]);
    pa.sizeZeros = leadingZeros(buf, pos[k * 2], pos[k * 2 + 1]);
    if (pa.size < 0) return this.failArgs(ParseErrorKind.BadArgs, 'bad or missing size');
    if (headers && pa.hdr > pa.size) return this.failArgs(ParseErrorKind.BadArgs, 'header size larger than total size');
    // 0 is a limit (a user JWT's `payload: 0` allows empty messages only); options start at 1.
    if (this.maxPayload >= 0 && pa.size > this.maxPayload) {
      this.state = S.CLOSED;
      this.sink.onParseError(ParseErrorKind.MaxPayload, `${pa.size} vs ${this.maxPayload}`);
      return false;
    }
    this.state = S.MSG_PAYLOAD;
    this.msgBuf = null;
    this.sink.onPubArgs(pa);
    return !this.stopped;
  }

  private processSub(buf: Buffer, s: number, e: number): boolean {
    const count = this.split(buf, s, e, true);
    const pos = this.argPos;
    if (count === 2) {
      this.sink.onSub(latin1(buf, pos[0], pos[1]), null, latin1(buf, pos[2], pos[3]));
    } else if (count === 3) {
      this.sink.onSub(latin1(buf, pos[0], pos[1]), latin1(buf, pos[2], pos[3]), latin1(buf, pos[4], pos[5]));
    } else {
      return this.failArgs(ParseErrorKind.BadArgs, 'SUB: wrong number of arguments');
    }
    return !this.stopped;
  }

  private processUnsub(buf: Buffer, s: number, e: number): boolean {
    const count = this.split(buf, s, e, true);
    const pos = this.argPos;
    if (count === 1) {
      this.sink.onUnsub(latin1(buf, pos[0], pos[1]), -1);
    } else if (count === 2) {
      this.sink.onUnsub(latin1(buf, pos[0], pos[1]), parseSize(buf, pos[2], pos[3]));
    } else {
      return this.failArgs(ParseErrorKind.BadArgs, 'UNSUB: wrong number of arguments');
    }
    return !this.stopped;
  }

  private failArgs(kind: ParseErrorKind, detail: string): false {
    this.state = S.CLOSED;
    this.argBuf = null;
    this.msgBuf = null;
    this.sink.onParseError(kind, detail);
    return false;
  }

  private fail(kind: ParseErrorKind, buf: Buffer, i: number): void {
    this.state = S.CLOSED;
    this.argBuf = null;
    this.msgBuf = null;
    const snippet = JSON.stringify(latin1(buf, Math.min(i, buf.length), Math.min(i + 32, buf.length)));
    this.sink.onParseError(kind, `at ${snippet}`);
  }
}

const EMPTY_PAYLOAD = Buffer.alloc(0);
