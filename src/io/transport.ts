/**
 * What a connection needs of its byte stream: exactly the members the broker uses of a
 * `net.Socket`. A TCP or TLS socket satisfies it as it is (structurally); the WebSocket
 * listener's connections implement it; a test can hand the broker an in-memory duplex that
 * does. The anchor is nats.js's `Transport` (core/src/transport.ts): runtime specifics behind
 * one small interface.
 */
import type { X509Certificate } from 'node:crypto';

export interface Transport {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  /** Bytes queued in the transport and not yet taken by the kernel. */
  readonly writableLength: number;
  /** Bytes written so far (taken by the kernel, plus `writableLength`), as `net.Socket` counts. */
  readonly bytesWritten: number;
  readonly destroyed: boolean;
  setNoDelay(noDelay?: boolean): unknown;
  write(chunk: Buffer | Uint8Array | string, cb?: (err?: Error | null) => void): boolean;
  /** Writes between `cork()` and `uncork()` leave together. */
  cork(): void;
  uncork(): void;
  /** Ends the stream once queued bytes are written; `cb` runs when it has finished. */
  end(cb?: () => void): unknown;
  destroy(): unknown;
  /** A TLS connection's client certificate (a `TLSSocket`'s, or the one under a `wss://` connection). */
  getPeerX509Certificate?(): X509Certificate | undefined;
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'drain' | 'end' | 'secure', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'close', listener: (hadError: boolean) => void): unknown;
  once(event: 'data', listener: (chunk: Buffer) => void): unknown;
  once(event: 'drain' | 'end' | 'secure' | 'secureConnect' | 'connect', listener: () => void): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'close', listener: (hadError: boolean) => void): unknown;
}
