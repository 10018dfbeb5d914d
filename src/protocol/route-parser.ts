/**
 * The route-protocol parser (server to server): a byte state machine over Buffers, after
 * nats-server 2.10's `server/parser.go` for connections of kind ROUTER, with the argument rules
 * of `server/route.go` (`processRoutedMsgArgs`, `processRoutedHeaderMsgArgs`,
 * `processRoutedOriginClusterMsgArgs`, `processRemoteSub`, `parseUnsubProto`). One uncompressed
 * connection, no pinned-account routes: INFO, CONNECT, PING, PONG, +OK, -ERR, RS+, RS-, LS+,
 * LS-, RMSG, HMSG, LMSG. It knows nothing of sockets; it reports each op to a {@link RouteSink}.
 * The result is the same however the stream is split into chunks.
 *
 * It works like the client parser (`parser.ts`):
 * - Op names are matched one byte at a time, case-insensitively, so a bad op is reported at the
 *   byte that makes it bad, without waiting for (or buffering up to) a newline.
 * - Argument lines are found with `indexOf('\n')` and split in place; they are copied only when
 *   they straddle two chunks, into a buffer bounded by the control-line cap.
 * - Payloads are never scanned, only jumped over, and handed over as a view of the read chunk.
 *   A payload split across chunks is assembled into one buffer allocated at its final size, so
 *   a large RMSG arriving in many reads costs one copy of its bytes, not one per read.
 *
 * The argument grammar is the one this broker has always accepted (see `processArg`); where it
 * differs from nats-server's the difference is noted there.
 *
 * Longer than 500 lines on purpose: one state machine, kept in one place as the client parser is.
 */
import { PubArg, parseSize } from './parser.js';
import { Interner } from './interner.js';
import { latin1 } from './bytes.js';

/** Receives the ops of a route connection. */
export interface RouteSink {
  onInfo(json: string): void;
  onConnect(json: string): void;
  onPing(): void;
  onPong(): void;
  onErr(text: string): void;
  /**
   * RS+ (queue and weight null for plain interest) and a route's LS+ (`origin`: the leaf node
   * cluster the interest comes from; '' for RS+ and on leaf connections).
   */
  onSubInterest(account: string, subject: string, queue: string | null, weight: number, origin: string): void;
  /**
   * RS- / LS- (`leaf`: a route's LS-, withdrawing interest an LS+ announced; `origin`: its origin
   * cluster, from a peer that advertised `lnocu`, '' otherwise).
   */
  onUnsubInterest(account: string, subject: string, queue: string | null, leaf: boolean, origin: string): void;
  /** RMSG/HMSG/LMSG: `queues` are the groups the sender chose this server for. */
  onRoutedMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void;
  onParseError(detail: string): void;
}

/**
 * Default cap on a route's argument line (the text after the op name), in bytes.
 *
 * nats-server has no such cap on routes: `overMaxControlLineLimit` returns early for any
 * connection whose kind is not CLIENT, so `max_control_line` (4096 by default) only limits
 * clients, and a route's INFO (gossiped URLs, permissions) or RMSG line (one name per queue
 * group) may legitimately be much longer. The cap here exists only to bound the memory a peer
 * can make this server hold for a line that never ends, so it is far above any line a real
 * server sends.
 */
export const ROUTE_MAX_CONTROL_LINE = 1024 * 1024;

/** Route ops repeat the same accounts, subjects and queue names: intern them, as PUB subjects. */
const ROUTE_INTERNER = new Interner();

/** Shared by every message without queue groups, so that such messages allocate no array. */
const NO_QUEUES: readonly string[] = Object.freeze([]);

const EMPTY_PAYLOAD = Buffer.alloc(0);

const SP = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const PLUS = 0x2b;
const MINUS = 0x2d;
const PIPE = 0x7c;
const QUOTE = 0x27;

/** The ops, known once their name is complete. */
const Op = {
  INFO: 0, CONNECT: 1, PING: 2, PONG: 3, OK: 4, ERR: 5,
  RS_PLUS: 6, RS_MINUS: 7, LS_PLUS: 8, LS_MINUS: 9,
  RMSG: 10, HMSG: 11, LMSG: 12,
} as const;
type Op = (typeof Op)[keyof typeof Op];

const OP_NAMES: readonly string[] = ['INFO', 'CONNECT', 'PING', 'PONG', '+OK', '-ERR', 'RS+', 'RS-', 'LS+', 'LS-', 'RMSG', 'HMSG', 'LMSG'];

const S = {
  START: 0,
  // One state per op-name prefix; each expects one more letter (either case).
  I: 1, IN: 2, INF: 3,
  C: 4, CO: 5, CON: 6, CONN: 7, CONNE: 8, CONNEC: 9,
  P: 10, PI: 11, PIN: 12, PO: 13, PON: 14,
  PLUS: 15, PLUS_O: 16,
  MINUS: 17, MINUS_E: 18, MINUS_ER: 19,
  R: 20, L: 21, RS: 22, LS: 23,
  H: 24, M: 25, MS: 26,
  /** The op name is complete (`op`): a blank, an end of line, or a bad op follows. */
  OP_END: 27,
  /** A CR right after the op name: only LF may follow. */
  OP_END_CR: 28,
  /** PING, PONG or +OK followed by a blank: the rest of the line is ignored. */
  SKIP_LINE: 29,
  /** Blanks between the op name and its argument. */
  ARG_SPC: 30,
  /** Collecting an argument line up to LF. */
  ARG: 31,
  MSG_PAYLOAD: 32,
  MSG_END_R: 33,
  MSG_END_N: 34,
  /** Stopped after an error or by `stop()`: all further input is ignored. */
  CLOSED: 35,
} as const;
type State = (typeof S)[keyof typeof S];

/**
 * Whether `b` is removed by `String.prototype.trim` (latin1 range: TAB, LF, VT, FF, CR, space,
 * NBSP). The argument of an op has always been the trimmed rest of its line; keeping that rule
 * keeps e.g. `INFO {...}\x0b` or `RS+ $G foo \r\r\n` meaning what they meant.
 */
function isTrimmed(b: number): boolean {
  return (b >= TAB && b <= CR) || b === SP || b === 0xa0;
}

/** Argument lines straddling reads go to a scratch buffer; one this small is kept for reuse. */
const SCRATCH_KEEP = 4096;

/** Incremental parser of the NATS route protocol. */
export class RouteParser {
  /** The arguments of the RMSG/HMSG/LMSG being parsed (reused for every message). */
  readonly pa = new PubArg();
  private readonly sink: RouteSink;
  /** Longest argument line accepted, in bytes; 0 or less disables the check (as nats-server). */
  private readonly maxControlLine: number;
  private state: State = S.START;
  private op: Op = Op.PING;
  /** Partial argument line carried over from an earlier chunk (`argLen` bytes used). */
  private argBuf: Buffer | null = null;
  private argLen = 0;
  /** Payload being assembled across chunks (`msgLen` bytes filled). */
  private msgBuf: Buffer | null = null;
  private msgLen = 0;
  /** Account and queue groups of the message being parsed. */
  private account = '';
  private queues: readonly string[] = NO_QUEUES;
  /** Token boundaries of the argument line being processed: start, end, start, end... */
  private pos = new Int32Array(32);
  /**
   * The peer advertised `lnocu` in its route INFO (2.10): its `LS-` carries the origin cluster
   * first. Set by the route once the INFO arrives, before any interest.
   */
  lnocu = false;

  /**
   * `leaf`: the leaf node protocol (nats-server's parser for connections of kind LEAF, client.go
   * processLeafSub / processLeafUnsub / processLeafMsgArgs / processLeafHeaderMsgArgs): `LS+
   * <subj> [<queue> <weight>]`, `LS- <subj> [<queue>]`, `LMSG`/`HMSG` without an account (a leaf
   * connection is bound to one); RS+, RS- and RMSG are unknown ops there. The sink gets '' as
   * the account.
   */
  constructor(sink: RouteSink, maxControlLine: number = ROUTE_MAX_CONTROL_LINE, private readonly leaf = false) {
    this.sink = sink;
    this.maxControlLine = maxControlLine;
  }

  /** Stops parsing for good; the rest of the current chunk is ignored. */
  stop(): void {
    this.state = S.CLOSED;
    this.argBuf = null;
    this.msgBuf = null;
  }

  /** Feeds one chunk of the stream. */
  parse(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case S.CLOSED:
          return;
        case S.START: {
          const b = buf[i];
          // Fast path for the hot op: "RMSG " / "HMSG " in upper case, all in this chunk. The
          // byte-by-byte states below give the same result, only slower.
          if ((b === 0x52 || b === 0x48) && i + 4 < n && buf[i + 1] === 0x4d && buf[i + 2] === 0x53 &&
              buf[i + 3] === 0x47 && (buf[i + 4] === SP || buf[i + 4] === TAB)) {
            this.op = b === 0x52 ? Op.RMSG : Op.HMSG;
            this.state = S.ARG_SPC;
            i += 5;
            break;
          }
          switch (b | 0x20) {
            case 0x72: this.state = S.R; break; // r
            case 0x6c: this.state = S.L; break; // l
            case 0x68: this.state = S.H; break; // h
            case 0x70: this.state = S.P; break; // p
            case 0x69: this.state = S.I; break; // i
            case 0x63: this.state = S.C; break; // c
            default:
              if (b === PLUS) this.state = S.PLUS;
              else if (b === MINUS) this.state = S.MINUS;
              else return this.failAt(buf, i);
          }
          i++;
          break;
        }
        case S.R:
        case S.L: {
          const b = buf[i] | 0x20;
          const fromR = this.state === S.R;
          if (b === 0x73) this.state = fromR ? S.RS : S.LS; // s
          else if (b === 0x6d) { // m
            this.op = fromR ? Op.RMSG : Op.LMSG;
            this.state = S.M;
          } else return this.failAt(buf, i);
          i++;
          break;
        }
        case S.RS:
        case S.LS: {
          // The sign is not a letter: matched exactly.
          const b = buf[i];
          const fromR = this.state === S.RS;
          if (b === PLUS) this.op = fromR ? Op.RS_PLUS : Op.LS_PLUS;
          else if (b === MINUS) this.op = fromR ? Op.RS_MINUS : Op.LS_MINUS;
          else return this.failAt(buf, i);
          this.state = S.OP_END;
          i++;
          break;
        }
        case S.H:
          if ((buf[i] | 0x20) !== 0x6d) return this.failAt(buf, i); // m
          this.op = Op.HMSG;
          this.state = S.M;
          i++;
          break;
        case S.P: {
          const b = buf[i] | 0x20;
          if (b === 0x69) this.state = S.PI; // i
          else if (b === 0x6f) this.state = S.PO; // o
          else return this.failAt(buf, i);
          i++;
          break;
        }
        case S.M: if (!this.letter(buf, i, 0x73, S.MS)) return; i++; break;
        case S.MS: if (!this.opEnd(buf, i, 0x67, this.op)) return; i++; break;
        case S.PI: if (!this.letter(buf, i, 0x6e, S.PIN)) return; i++; break;
        case S.PIN: if (!this.opEnd(buf, i, 0x67, Op.PING)) return; i++; break;
        case S.PO: if (!this.letter(buf, i, 0x6e, S.PON)) return; i++; break;
        case S.PON: if (!this.opEnd(buf, i, 0x67, Op.PONG)) return; i++; break;
        case S.I: if (!this.letter(buf, i, 0x6e, S.IN)) return; i++; break;
        case S.IN: if (!this.letter(buf, i, 0x66, S.INF)) return; i++; break;
        case S.INF: if (!this.opEnd(buf, i, 0x6f, Op.INFO)) return; i++; break;
        case S.C: if (!this.letter(buf, i, 0x6f, S.CO)) return; i++; break;
        case S.CO: if (!this.letter(buf, i, 0x6e, S.CON)) return; i++; break;
        case S.CON: if (!this.letter(buf, i, 0x6e, S.CONN)) return; i++; break;
        case S.CONN: if (!this.letter(buf, i, 0x65, S.CONNE)) return; i++; break;
        case S.CONNE: if (!this.letter(buf, i, 0x63, S.CONNEC)) return; i++; break;
        case S.CONNEC: if (!this.opEnd(buf, i, 0x74, Op.CONNECT)) return; i++; break;
        case S.PLUS: if (!this.letter(buf, i, 0x6f, S.PLUS_O)) return; i++; break;
        case S.PLUS_O: if (!this.opEnd(buf, i, 0x6b, Op.OK)) return; i++; break;
        case S.MINUS: if (!this.letter(buf, i, 0x65, S.MINUS_E)) return; i++; break;
        case S.MINUS_E: if (!this.letter(buf, i, 0x72, S.MINUS_ER)) return; i++; break;
        case S.MINUS_ER: if (!this.opEnd(buf, i, 0x72, Op.ERR)) return; i++; break;

        // The op name must be followed by a blank or by the end of the line (a lone CR is not
        // one): "PINGX" and "RS+x" are unknown ops. nats-server is laxer here (it ignores
        // anything between PING and its LF, and needs no blank after INFO or CONNECT).
        case S.OP_END: {
          const b = buf[i];
          i++;
          if (b === SP || b === TAB) {
            const op = this.op;
            this.state = op === Op.PING || op === Op.PONG || op === Op.OK ? S.SKIP_LINE : S.ARG_SPC;
          } else if (b === LF) {
            this.state = S.START;
            if (!this.endOfOp(buf, i, i)) return;
          } else if (b === CR) {
            this.state = S.OP_END_CR;
          } else {
            return this.failAt(buf, i - 1);
          }
          break;
        }
        case S.OP_END_CR:
          if (buf[i] !== LF) return this.failAt(buf, i);
          i++;
          this.state = S.START;
          if (!this.endOfOp(buf, i, i)) return;
          break;
        case S.SKIP_LINE: {
          // Nothing of the line is kept, so nothing is limited either.
          const lf = buf.indexOf(LF, i);
          if (lf === -1) return;
          i = lf + 1;
          this.state = S.START;
          if (!this.endOfOp(buf, i, i)) return;
          break;
        }
        case S.ARG_SPC:
          while (i < n && (buf[i] === SP || buf[i] === TAB)) i++;
          if (i < n) this.state = S.ARG;
          break;

        case S.ARG: {
          const lf = buf.indexOf(LF, i);
          if (lf === -1) {
            // A CR waiting for its LF is not part of the argument (nats-server never counts it).
            const partial = this.argLen + (n - i) - (buf[n - 1] === CR ? 1 : 0);
            if (this.maxControlLine > 0 && partial > this.maxControlLine) return this.failCap(partial);
            this.saveArg(buf, i, n);
            return;
          }
          let argBuf: Buffer;
          let s: number;
          let e: number;
          if (this.argLen > 0) {
            this.saveArg(buf, i, lf);
            argBuf = this.argBuf!;
            s = 0;
            e = this.argLen;
            this.argLen = 0;
            // A scratch buffer grown for one long line is not kept.
            if (argBuf.length > SCRATCH_KEEP) this.argBuf = null;
          } else {
            argBuf = buf;
            s = i;
            e = lf;
          }
          if (e > s && argBuf[e - 1] === CR) e--;
          i = lf + 1;
          if (this.maxControlLine > 0 && e - s > this.maxControlLine) return this.failCap(e - s);
          this.state = S.START;
          if (!this.endOfOp(argBuf, s, e)) return;
          break;
        }

        case S.MSG_PAYLOAD: {
          const size = this.pa.size;
          if (this.msgBuf === null) {
            // Nothing of the payload copied yet: when it and its CRLF are all in this chunk,
            // hand it over in place (the common case), else assemble it in a buffer of its
            // final size, filled by one copy per read.
            if (n - i >= size + 2) {
              if (buf[i + size] !== CR || buf[i + size + 1] !== LF) return this.failTerminator();
              this.state = S.START;
              this.sink.onRoutedMsg(this.account, this.pa, this.queues, buf, i, i + size);
              i += size + 2;
              break;
            }
            this.msgBuf = size === 0 ? EMPTY_PAYLOAD : Buffer.allocUnsafe(size);
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
          if (buf[i] !== CR) return this.failTerminator();
          this.state = S.MSG_END_N;
          i++;
          break;
        case S.MSG_END_N: {
          if (buf[i] !== LF) return this.failTerminator();
          i++;
          this.state = S.START;
          const msg = this.msgBuf!;
          this.msgBuf = null;
          this.sink.onRoutedMsg(this.account, this.pa, this.queues, msg, 0, msg.length);
          break;
        }
      }
    }
  }

  private letter(buf: Buffer, i: number, lower: number, next: State): boolean {
    if ((buf[i] | 0x20) !== lower) {
      this.failAt(buf, i);
      return false;
    }
    this.state = next;
    return true;
  }

  /** The last letter of an op name. */
  private opEnd(buf: Buffer, i: number, lower: number, op: Op): boolean {
    if ((buf[i] | 0x20) !== lower) {
      this.failAt(buf, i);
      return false;
    }
    this.op = op;
    this.state = S.OP_END;
    return true;
  }

  /** Appends `buf[start, end)` to the argument scratch buffer, doubling it when full. */
  private saveArg(buf: Buffer, start: number, end: number): void {
    const len = end - start;
    if (len <= 0) return;
    let ab = this.argBuf;
    if (ab === null) {
      ab = this.argBuf = Buffer.allocUnsafe(Math.max(256, len));
    } else if (this.argLen + len > ab.length) {
      const grown = Buffer.allocUnsafe(Math.max(ab.length * 2, this.argLen + len));
      ab.copy(grown, 0, 0, this.argLen);
      ab = this.argBuf = grown;
    }
    buf.copy(ab, this.argLen, start, end);
    this.argLen += len;
  }

  /**
   * A whole op has been read; `buf[s, e)` is its argument (without the CR LF). Returns false
   * when parsing must stop.
   */
  private endOfOp(buf: Buffer, s: number, e: number): boolean {
    // The argument is the trimmed rest of the line.
    while (s < e && isTrimmed(buf[s])) s++;
    while (e > s && isTrimmed(buf[e - 1])) e--;
    const sink = this.sink;
    const op = this.op;
    switch (op) {
      case Op.PING: sink.onPing(); break;
      case Op.PONG: sink.onPong(); break;
      case Op.OK: break;
      case Op.INFO: sink.onInfo(latin1(buf, s, e)); break;
      case Op.CONNECT: sink.onConnect(latin1(buf, s, e)); break;
      case Op.ERR:
        // nats-server quotes the text: -ERR 'reason'.
        if (e > s && buf[s] === QUOTE) s++;
        if (e > s && buf[e - 1] === QUOTE) e--;
        sink.onErr(latin1(buf, s, e));
        break;
      case Op.RS_PLUS:
      case Op.LS_PLUS:
        if (this.leaf) return op === Op.LS_PLUS ? this.leafSubInterest(buf, s, e) : this.failArgs('unknown op', buf, s, e);
        return this.subInterest(buf, s, e);
      case Op.RS_MINUS:
      case Op.LS_MINUS:
        if (this.leaf && op === Op.RS_MINUS) return this.failArgs('unknown op', buf, s, e);
        return this.unsubInterest(buf, s, e);
      case Op.RMSG:
      case Op.HMSG:
      case Op.LMSG:
        // On a leaf connection nats-server reads RMSG's arguments as LMSG's (no account).
        return this.msgArgs(buf, s, e);
    }
    return this.state !== S.CLOSED;
  }

  /** Splits `buf[s, e)` on runs of spaces and tabs into `pos`; returns the token count. */
  private split(buf: Buffer, s: number, e: number): number {
    let pos = this.pos;
    let count = 0;
    let start = -1;
    for (let i = s; i <= e; i++) {
      if (i === e || buf[i] === SP || buf[i] === TAB) {
        if (start < 0) continue;
        if (count * 2 + 2 > pos.length) {
          // Only RMSG with many queue groups gets here; the array is kept for the next one.
          const grown = new Int32Array(pos.length * 2);
          grown.set(pos);
          pos = this.pos = grown;
        }
        pos[count * 2] = start;
        pos[count * 2 + 1] = i;
        count++;
        start = -1;
      } else if (start < 0) {
        start = i;
      }
    }
    return count;
  }

  /** The latin1 text of token `k`, interned. */
  private token(buf: Buffer, k: number): string {
    return ROUTE_INTERNER.get(buf, this.pos[k * 2], this.pos[k * 2 + 1]);
  }

  /**
   * `RS+ <acc> <subj> [<queue> [<weight>]]`; LS+ has the origin cluster first (route.go
   * addRouteSubOrUnsubProtoToBuf: `LS+ <origin> <acc> <subj> [<queue> <weight>]`, 2.9 and 2.10).
   * A queue without a weight counts as weight 1 (nats-server requires the weight). The weight
   * is 1 to 9 decimal digits, as nats-server's `parseSize`, which however does not reject a bad
   * weight (it stores -1); this parser does.
   */
  private subInterest(buf: Buffer, s: number, e: number): boolean {
    const count = this.split(buf, s, e);
    const k = this.op === Op.LS_PLUS ? 1 : 0;
    const origin = k === 1 && count > 0 ? this.token(buf, 0) : '';
    switch (count - k) {
      case 2:
        this.sink.onSubInterest(this.token(buf, k), this.token(buf, k + 1), null, 0, origin);
        break;
      case 3:
        this.sink.onSubInterest(this.token(buf, k), this.token(buf, k + 1), this.token(buf, k + 2), 1, origin);
        break;
      case 4: {
        const w = parseSize(buf, this.pos[(k + 3) * 2], this.pos[(k + 3) * 2 + 1]);
        if (w < 0) return this.failArgs('bad queue weight', buf, s, e);
        this.sink.onSubInterest(this.token(buf, k), this.token(buf, k + 1), this.token(buf, k + 2), w, origin);
        break;
      }
      default:
        return this.failArgs(`bad ${OP_NAMES[this.op]}`, buf, s, e);
    }
    return this.state !== S.CLOSED;
  }

  /**
   * A leaf connection's `LS+ <subj> [<queue> <weight>]` (client.go processLeafSub: a queue needs
   * its weight; one nats-server cannot parse it stores as -1 and counts as one member: so here).
   */
  private leafSubInterest(buf: Buffer, s: number, e: number): boolean {
    const count = this.split(buf, s, e);
    if (count === 1) {
      this.sink.onSubInterest('', this.token(buf, 0), null, 0, '');
    } else if (count === 3) {
      const w = parseSize(buf, this.pos[4], this.pos[5]);
      this.sink.onSubInterest('', this.token(buf, 0), this.token(buf, 1), w < 1 ? 1 : w, '');
    } else {
      return this.failArgs('bad LS+', buf, s, e);
    }
    return this.state !== S.CLOSED;
  }

  /**
   * `RS- <acc> <subj> [<queue>]`. A route's LS- has the same form, or, from a peer that
   * advertised `lnocu` ({@link lnocu}), the origin cluster first: `LS- <origin> <acc> <subj>
   * [<queue>]` (route.go parseUnsubProto, 2.10).
   */
  private unsubInterest(buf: Buffer, s: number, e: number): boolean {
    const count = this.split(buf, s, e);
    if (this.leaf) {
      // A leaf connection's LS- has no account: `LS- <subj> [<queue>]`.
      if (count === 1) this.sink.onUnsubInterest('', this.token(buf, 0), null, false, '');
      else if (count === 2) this.sink.onUnsubInterest('', this.token(buf, 0), this.token(buf, 1), false, '');
      else return this.failArgs('bad LS-', buf, s, e);
      return this.state !== S.CLOSED;
    }
    const leafUnsub = this.op === Op.LS_MINUS;
    const k = leafUnsub && this.lnocu ? 1 : 0;
    const origin = k === 1 && count > 0 ? this.token(buf, 0) : '';
    if (count - k === 2) this.sink.onUnsubInterest(this.token(buf, k), this.token(buf, k + 1), null, leafUnsub, origin);
    else if (count - k === 3) this.sink.onUnsubInterest(this.token(buf, k), this.token(buf, k + 1), this.token(buf, k + 2), leafUnsub, origin);
    else return this.failArgs(`bad ${OP_NAMES[this.op]}`, buf, s, e);
    return this.state !== S.CLOSED;
  }

  /**
   * `RMSG <acc> <subj> [<reply> | + <reply> <q...> | | <q...>] <size>`; HMSG ends with
   * `<hdr> <total>` instead of `<size>`, and LMSG is an HMSG with the origin cluster first
   * (`pa.origin`; a header size of 0 there means no headers, as nats-server's `pa.hdr > 0`). As in nats-server, a single token between the subject and the sizes is the
   * reply, whatever it is (a client may reply to "+" or "|"), and with more tokens the first
   * must be exactly "+" or "|".
   */
  private msgArgs(buf: Buffer, s: number, e: number): boolean {
    const op = this.op;
    const headers = op !== Op.RMSG;
    const count = this.split(buf, s, e);
    // A leaf connection's LMSG/HMSG has neither origin nor account: the subject comes first.
    const leaf = this.leaf;
    const k = leaf ? -1 : op === Op.LMSG ? 1 : 0;
    const tail = leaf && op === Op.LMSG ? 1 : headers ? 2 : 1;
    const pos = this.pos;
    if (count - k < 2 + tail) return this.failArgs('bad message args', buf, s, e);
    const pa = this.pa;
    pa.reset();
    this.account = leaf ? '' : this.token(buf, k);
    pa.subject = this.token(buf, k + 1);
    if (k === 1) pa.origin = this.token(buf, 0);
    this.queues = NO_QUEUES;
    // Tokens [m, last) are the reply and queue groups, if any.
    const m = k + 2;
    const last = count - tail;
    if (last - m === 1) {
      pa.reply = latin1(buf, pos[m * 2], pos[m * 2 + 1]);
    } else if (last - m > 1) {
      const ts = pos[m * 2];
      const indicator = pos[m * 2 + 1] - ts === 1 ? buf[ts] : 0;
      let q = m + 1;
      if (indicator === PLUS) {
        pa.reply = latin1(buf, pos[q * 2], pos[q * 2 + 1]);
        q++;
      } else if (indicator !== PIPE) {
        return this.failArgs('bad message args', buf, s, e);
      }
      if (q < last) {
        const queues = new Array<string>(last - q);
        for (let j = q; j < last; j++) queues[j - q] = this.token(buf, j);
        this.queues = queues;
      }
    }
    const size = parseSize(buf, pos[(count - 1) * 2], pos[(count - 1) * 2 + 1]);
    if (size < 0) return this.failArgs('bad size', buf, s, e);
    if (tail === 2) {
      const hdr = parseSize(buf, pos[(count - 2) * 2], pos[(count - 2) * 2 + 1]);
      if (hdr < 0 || hdr > size) return this.failArgs('bad header size', buf, s, e);
      // A route's LMSG always has a header size; 0 is a message without headers.
      pa.hdr = k === 1 && hdr === 0 ? -1 : hdr;
    }
    pa.size = size;
    this.msgBuf = null;
    this.state = S.MSG_PAYLOAD;
    return true;
  }

  /** Unknown op: reported at the offending byte. */
  private failAt(buf: Buffer, i: number): void {
    const snippet = JSON.stringify(latin1(buf, i, Math.min(i + 32, buf.length)));
    this.fail(`unknown op: at ${snippet}`);
  }

  private failArgs(what: string, buf: Buffer, s: number, e: number): false {
    this.fail(`${what}: ${OP_NAMES[this.op]} ${latin1(buf, s, Math.min(e, s + 256))}`);
    return false;
  }

  private failCap(len: number): void {
    this.fail(`maximum control line exceeded: ${OP_NAMES[this.op]} argument of ${len} bytes, limit ${this.maxControlLine}`);
  }

  private failTerminator(): void {
    this.fail('bad payload terminator: no CR LF after the payload');
  }

  private fail(detail: string): void {
    this.stop();
    this.sink.onParseError(detail);
  }
}
