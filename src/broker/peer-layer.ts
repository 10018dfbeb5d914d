/**
 * What the route, leaf node and gateway layers share (nats-server keeps them in one server
 * struct): the host their connections see — the core's options, test controls, flush list and
 * connection ids — pausing their reads for `NatsServer.pause()`, and closing every connection
 * and the listener when the server stops.
 */
import type { Server as TcpServer } from 'node:net';
import type { ResolvedOptions } from '../config/options.js';
import type { Connection, ConnectionHost, Flushable } from './connection.js';
import type { TestControls } from './controls.js';
import type { BrokerCore } from './core.js';
import { CloseReason } from './close-reason.js';

/** A connection of a peer layer: it can be closed with a reason. */
type PeerConnection = Connection & { close(reason: CloseReason, flush?: boolean): void; onData(chunk: Buffer): void };

export abstract class PeerLayer<C extends PeerConnection> implements ConnectionHost {
  /** Every open connection of this layer, registered or not. */
  readonly conns = new Set<C>();
  /** The listener, once bound. */
  protected tcp: TcpServer | null = null;
  /** Set by {@link closeAll}: nothing is dialled or accepted any more. */
  protected stopped = false;

  constructor(readonly core: BrokerCore) {}

  get options(): ResolvedOptions {
    return this.core.options;
  }

  get controls(): TestControls {
    return this.core.controls;
  }

  markForFlush(c: Flushable): void {
    this.core.markForFlush(c);
  }

  flushAll(): void {
    this.core.flushAll();
  }

  allocCid(): number {
    return this.core.allocCid();
  }

  /**
   * Takes over a new connection: tracks it, pauses it while the server is paused, and wires its
   * socket — reads run through the core's guard (`what` names the kind in an internal error),
   * errors and closes close the connection.
   */
  protected track(conn: C, what: string): C {
    const socket = conn.socket;
    this.conns.add(conn);
    // A paused (hung) server does not read new connections either.
    if (this.core.controls.paused) socket.pause();
    socket.on('data', (chunk: Buffer) => {
      this.core.runRead(() => conn.onData(chunk), () => conn.close(CloseReason.ProtocolViolation, false), what);
    });
    socket.on('error', () => conn.close(CloseReason.ReadError, false));
    socket.on('end', () => conn.close(CloseReason.ClientClosed));
    socket.on('close', () => conn.close(CloseReason.ClientClosed, false));
    return conn;
  }

  /** Pauses (or resumes) reading every connection of the layer. */
  setPaused(paused: boolean): void {
    for (const conn of this.conns) {
      if (paused) conn.socket.pause();
      else {
        conn.socket.resume();
        this.core.markForFlush(conn);
      }
    }
  }

  /**
   * Marks the layer stopped, closes every connection (flushing unless `graceful` is false) and
   * the listener; settles once the listener is closed. The layer clears its own dial timers.
   */
  protected closeAll(graceful: boolean): Promise<void> {
    this.stopped = true;
    for (const conn of [...this.conns]) conn.close(CloseReason.ServerShutdown, graceful);
    const tcp = this.tcp;
    this.tcp = null;
    if (tcp === null) return Promise.resolve();
    return new Promise((resolve) => tcp.close(() => resolve()));
  }
}
