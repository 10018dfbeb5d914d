/**
 * Parser of the route protocol (server to server), nats-server 2.9/2.10 in a single,
 * uncompressed connection: INFO, CONNECT, PING, PONG, +OK, -ERR, RS+, RS-, LS+, LS-, RMSG,
 * HMSG, LMSG. Routes are not limited by max_control_line or max_payload (nats-server: routes
 * have no such limits). The result does not depend on how the stream is split.
 */
import { PubArg, parseSize } from './parser.js';

/** Receives the ops of a route connection. */
export interface RouteSink {
  onInfo(json: string): void;
  onConnect(json: string): void;
  onPing(): void;
  onPong(): void;
  onErr(text: string): void;
  /** RS+ (queue and weight null for plain interest) and LS+ (the origin dropped). */
  onSubInterest(account: string, subject: string, queue: string | null, weight: number): void;
  /** RS- / LS-. */
  onUnsubInterest(account: string, subject: string, queue: string | null): void;
  /** RMSG/HMSG/LMSG: `queues` are the groups the sender chose this server for. */
  onRoutedMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void;
  onParseError(detail: string): void;
}

const LF = 0x0a;
const CR = 0x0d;

export class RouteParser {
  readonly pa = new PubArg();
  private pending: Buffer | null = null;
  private stopped = false;
  /** Set while waiting for a message payload. */
  private need = -1;
  private account = '';
  private queues: string[] = [];

  constructor(private readonly sink: RouteSink) {}

  stop(): void {
    this.stopped = true;
    this.pending = null;
  }

  parse(chunk: Buffer): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let i = 0;
    const n = buf.length;
    while (i < n && !this.stopped) {
      if (this.need >= 0) {
        // Payload plus CRLF.
        if (n - i < this.need + 2) break;
        const size = this.need;
        if (buf[i + size] !== CR || buf[i + size + 1] !== LF) return this.fail('bad payload terminator');
        this.need = -1;
        this.sink.onRoutedMsg(this.account, this.pa, this.queues, buf, i, i + size);
        i += size + 2;
        continue;
      }
      const lf = buf.indexOf(LF, i);
      if (lf === -1) break;
      let e = lf;
      if (e > i && buf[e - 1] === CR) e--;
      const line = buf.latin1Slice(i, e);
      i = lf + 1;
      this.processLine(line);
    }
    if (!this.stopped && i < n) this.pending = buf.subarray(i);
  }

  private processLine(line: string): void {
    const sp = line.search(/[ \t]/);
    const op = (sp === -1 ? line : line.slice(0, sp)).toUpperCase();
    const rest = sp === -1 ? '' : line.slice(sp + 1).trim();
    const args = rest.length === 0 ? [] : rest.split(/[ \t]+/);
    switch (op) {
      case 'PING': return this.sink.onPing();
      case 'PONG': return this.sink.onPong();
      case '+OK': return;
      case 'INFO': return this.sink.onInfo(rest);
      case 'CONNECT': return this.sink.onConnect(rest);
      case '-ERR': return this.sink.onErr(rest.replace(/^'|'$/g, ''));
      case 'RS+':
      case 'LS+': {
        // LS+ carries the origin cluster first.
        const a = op === 'LS+' ? args.slice(1) : args;
        if (a.length === 2) return this.sink.onSubInterest(a[0], a[1], null, 0);
        if (a.length === 4) {
          const w = Number(a[3]);
          if (!Number.isInteger(w) || w < 0) return this.fail(`bad queue weight in ${line}`);
          return this.sink.onSubInterest(a[0], a[1], a[2], w);
        }
        if (a.length === 3) return this.sink.onSubInterest(a[0], a[1], a[2], 1);
        return this.fail(`bad ${op}`);
      }
      case 'RS-':
      case 'LS-': {
        // LS- carries an origin only towards servers that advertised lnocu, which this one does not.
        if (args.length === 2) return this.sink.onUnsubInterest(args[0], args[1], null);
        if (args.length === 3) return this.sink.onUnsubInterest(args[0], args[1], args[2]);
        return this.fail(`bad ${op}`);
      }
      case 'RMSG': return this.msgArgs(args, false, line);
      case 'HMSG': return this.msgArgs(args, true, line);
      case 'LMSG': return this.msgArgs(args.slice(1), true, line);
      default:
        return this.fail(`unknown op in ${JSON.stringify(line.slice(0, 40))}`);
    }
  }

  /**
   * `RMSG <acc> <subj> [reply | + <reply> <q...> | | <q...>] <size>`; HMSG and LMSG end with
   * `<hdr> <total>` instead of `<size>`.
   */
  private msgArgs(args: string[], headers: boolean, line: string): void {
    const tail = headers ? 2 : 1;
    if (args.length < 2 + tail) return this.fail(`bad message args: ${line}`);
    const pa = this.pa;
    pa.reset();
    this.account = args[0];
    pa.subject = args[1];
    const middle = args.slice(2, args.length - tail);
    this.queues = [];
    if (middle.length > 0) {
      if (middle[0] === '+') {
        if (middle.length < 2) return this.fail(`bad message args: ${line}`);
        pa.reply = middle[1];
        this.queues = middle.slice(2);
      } else if (middle[0] === '|') {
        this.queues = middle.slice(1);
      } else if (middle.length === 1) {
        pa.reply = middle[0];
      } else {
        return this.fail(`bad message args: ${line}`);
      }
    }
    const sizeText = args[args.length - 1];
    const size = parseSize(Buffer.from(sizeText, 'latin1'), 0, sizeText.length);
    if (size < 0) return this.fail(`bad size: ${line}`);
    if (headers) {
      const hdrText = args[args.length - 2];
      const hdr = parseSize(Buffer.from(hdrText, 'latin1'), 0, hdrText.length);
      if (hdr < 0 || hdr > size) return this.fail(`bad header size: ${line}`);
      pa.hdr = hdr;
    }
    pa.size = size;
    this.need = size;
  }

  private fail(detail: string): void {
    this.stopped = true;
    this.pending = null;
    this.sink.onParseError(detail);
  }
}
