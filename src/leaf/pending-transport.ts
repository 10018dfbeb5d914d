/**
 * A {@link Transport} whose stream comes later: a dialled websocket, or a dialled TCP connection
 * that may upgrade to TLS after the hub's INFO, is a transport only once its handshake is done, while its leaf connection exists from the first moment (timers, close).
 * Writes before then are queued; events of the stream are passed on; a failed handshake is a
 * close.
 */
import { EventEmitter } from 'node:events';
import type { Transport } from '../io/transport.js';

export class PendingTransport extends EventEmitter implements Transport {
  private inner: Transport | null = null;
  private queued: Array<Buffer | Uint8Array | string> = [];
  private done = false;

  /** `abort` gives up the stream still being made (a close before the handshake finished). */
  constructor(private readonly abort: () => void = () => undefined) {
    super();
  }

  get remoteAddress(): string | undefined {
    return this.inner?.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.inner?.remotePort;
  }

  get writableLength(): number {
    return this.inner?.writableLength ?? 0;
  }

  get bytesWritten(): number {
    return this.inner?.bytesWritten ?? 0;
  }

  get destroyed(): boolean {
    return this.done || (this.inner?.destroyed ?? false);
  }

  /**
   * The stream is ready: queued writes go out, its events become this transport's. `prefix`:
   * bytes read before it was ready (a hub's plain-text INFO before the TLS upgrade), passed on
   * first as data.
   */
  attach(inner: Transport, prefix: Buffer | null = null): void {
    if (this.done) {
      inner.destroy();
      return;
    }
    this.inner = inner;
    inner.on('data', (chunk) => this.emit('data', chunk));
    inner.on('drain', () => this.emit('drain'));
    inner.on('end', () => this.emit('end'));
    inner.on('error', (err) => this.emit('error', err));
    inner.on('close', (hadError) => this.emit('close', hadError));
    const queued = this.queued;
    this.queued = [];
    for (const c of queued) inner.write(c);
    if (prefix !== null && prefix.length > 0) this.emit('data', prefix);
  }

  /** The stream could not be made. */
  fail(): void {
    if (this.done) return;
    this.done = true;
    this.abort();
    this.queued = [];
    this.emit('close', true);
  }

  setNoDelay(): this {
    return this;
  }

  write(chunk: Buffer | Uint8Array | string, cb?: (err?: Error | null) => void): boolean {
    if (this.inner !== null) return this.inner.write(chunk, cb);
    if (!this.done) this.queued.push(chunk);
    cb?.();
    return true;
  }

  cork(): void {
    this.inner?.cork();
  }

  uncork(): void {
    this.inner?.uncork();
  }

  end(cb?: () => void): this {
    if (this.inner !== null) this.inner.end(cb);
    else {
      this.fail();
      cb?.();
    }
    return this;
  }

  destroy(): this {
    if (this.inner !== null) this.inner.destroy();
    else this.fail();
    return this;
  }

  pause(): this {
    this.inner?.pause();
    return this;
  }

  resume(): this {
    this.inner?.resume();
    return this;
  }
}
