/**
 * A raw-socket test client: send protocol bytes, wait for exact replies, observe closes.
 * For wire details the official client hides (verbose +OK, -ERR texts, close-or-not).
 */
import { connect, type Socket } from 'node:net';

export interface WireOptions {
  /** Skip reading the INFO line on connect (default false: `open()` waits for it). */
  keepInfo?: boolean;
}

/** Raw connection to a NATS server. */
export class WireClient {
  /** Everything received and not yet consumed by `expect`/`read*`. */
  buffer = '';
  /** The INFO JSON the server sent on connect. */
  info: Record<string, unknown> = {};
  closed = false;
  /** Complete lines matching this (a global regex) are dropped as they arrive, e.g. a route's `$SYS` interest. */
  dropLines: RegExp | null = null;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      if (this.dropLines !== null) this.buffer = this.buffer.replace(this.dropLines, '');
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {
      /* surfaced as close */
    });
  }

  /** Connects and consumes the server's INFO line. */
  static async open(port: number, host = '127.0.0.1', opts: WireOptions = {}): Promise<WireClient> {
    const socket = connect({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new WireClient(socket);
    if (!opts.keepInfo) {
      const line = await c.readLine();
      if (!line.startsWith('INFO ')) throw new Error(`expected INFO, got ${JSON.stringify(line)}`);
      c.info = JSON.parse(line.slice(5)) as Record<string, unknown>;
    }
    return c;
  }

  /**
   * Opens a connection (its INFO consumed), sends `input` and returns what arrived until the
   * server closed it, or until `waitMs` passed (`closed` false), for comparing two servers'
   * answers to the same bytes. Lines matching `dropLines` (a global regex) are left out.
   */
  static async answer(port: number, input: string, waitMs = 1000, dropLines: RegExp | null = null): Promise<{ text: string; closed: boolean }> {
    const c = await WireClient.open(port);
    c.dropLines = dropLines;
    c.send(input);
    let closed = true;
    const text = await c.expectClose(waitMs).catch(() => {
      closed = false;
      return c.buffer;
    });
    c.close();
    return { text, closed };
  }

  /** Connects, reads INFO and sends `CONNECT <json>`; with verbose the +OK is consumed. */
  static async connected(port: number, connectOpts: Record<string, unknown> = { verbose: false, pedantic: false }): Promise<WireClient> {
    const c = await WireClient.open(port);
    c.send(`CONNECT ${JSON.stringify(connectOpts)}\r\n`);
    if (connectOpts.verbose !== false) await c.expect('+OK\r\n');
    // PING/PONG round trip guarantees the CONNECT was processed.
    c.send('PING\r\n');
    await c.expect('PONG\r\n');
    return c;
  }

  send(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async waitFor<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}; buffer=${JSON.stringify(this.buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}; buffer=${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * The server PINGs every client about 2 s after CONNECT. Unless a test is waiting for that
   * PING itself, answer it and drop it from the buffer so long tests see only what they expect.
   */
  private answerServerPing(expected: string): void {
    while (this.buffer.startsWith('PING\r\n') && !expected.startsWith('PING')) {
      this.buffer = this.buffer.slice(6);
      this.send('PONG\r\n');
    }
  }

  /** Waits until the buffer starts with `text`, then consumes it. */
  async expect(text: string, timeoutMs = 2000): Promise<void> {
    await this.waitFor(
      () => {
        this.answerServerPing(text);
        if (this.buffer.length < text.length) {
          if (!text.startsWith(this.buffer)) throw new Error(`expected ${JSON.stringify(text)}, got ${JSON.stringify(this.buffer)}`);
          return undefined;
        }
        if (!this.buffer.startsWith(text)) throw new Error(`expected ${JSON.stringify(text)}, got ${JSON.stringify(this.buffer)}`);
        this.buffer = this.buffer.slice(text.length);
        return true;
      },
      JSON.stringify(text),
      timeoutMs,
    );
  }

  /** Reads one line (without CRLF). */
  async readLine(timeoutMs = 2000): Promise<string> {
    return this.waitFor(
      () => {
        this.answerServerPing('');
        const i = this.buffer.indexOf('\r\n');
        if (i === -1) return undefined;
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        return line;
      },
      'a line',
      timeoutMs,
    );
  }

  /** Reads exactly `n` characters (bytes, latin1) from the buffer. */
  async readBytes(n: number, timeoutMs = 2000): Promise<string> {
    return this.waitFor(
      () => {
        if (this.buffer.length < n) return undefined;
        const out = this.buffer.slice(0, n);
        this.buffer = this.buffer.slice(n);
        return out;
      },
      `${n} bytes`,
      timeoutMs,
    );
  }

  /** Waits until `text` arrives; consumes everything up to and including it, returns what came before. */
  async readUntil(text: string, timeoutMs = 2000): Promise<string> {
    return this.waitFor(
      () => {
        const i = this.buffer.indexOf(text);
        if (i === -1) return undefined;
        const before = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + text.length);
        return before;
      },
      JSON.stringify(text),
      timeoutMs,
    );
  }

  /** PING/PONG round trip; returns (and consumes) everything that arrived before the PONG. */
  async drain(): Promise<string> {
    this.send('PING\r\n');
    return this.readUntil('PONG\r\n');
  }

  /**
   * Reads one MSG or HMSG frame and returns it whole (control line, payload and CRLFs), so
   * that frames whose order the server does not fix can be compared as a set.
   */
  async readMsg(timeoutMs = 2000): Promise<string> {
    const line = await this.readLine(timeoutMs);
    const args = line.split(' ');
    if (args[0] !== 'MSG' && args[0] !== 'HMSG') throw new Error(`expected MSG or HMSG, got ${JSON.stringify(line)}`);
    const size = Number(args[args.length - 1]);
    const payload = await this.readBytes(size + 2, timeoutMs);
    return `${line}\r\n${payload}`;
  }

  /** Waits for the server to close the connection; returns what arrived unread before it. */
  async expectClose(timeoutMs = 2000): Promise<string> {
    await this.waitFor(() => (this.closed ? true : undefined), 'close', timeoutMs).catch((e: Error) => {
      if (!this.closed) throw e;
    });
    const rest = this.buffer;
    this.buffer = '';
    return rest;
  }

  /** Asserts that nothing arrives within `ms` (after a PING/PONG round trip it is exact). */
  async expectNothing(): Promise<void> {
    this.send('PING\r\n');
    await this.expect('PONG\r\n');
    this.answerServerPing('');
    if (this.buffer.length > 0) throw new Error(`unexpected data: ${JSON.stringify(this.buffer)}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * The INFO a port sends first, parsed (read in plain text: a TLS port's INFO comes before the
 * upgrade), the connection closed at once.
 */
export async function readInfo(port: number, host = '127.0.0.1'): Promise<Record<string, unknown>> {
  const w = await WireClient.open(port, host);
  w.close();
  return w.info;
}
