/**
 * `NatsServer`: the public handle of one broker — its TCP listener and lifecycle around a
 * {@link BrokerCore}.
 */
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { ListenError } from '../errors.js';
import { BrokerCore, type ServerInfo } from './core.js';
import { CloseReason } from './client.js';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from './options.js';

export type { ServerInfo } from './core.js';

/** A running broker. Create one with {@link createServer}. */
export class NatsServer implements AsyncDisposable {
  /** The options in force, after defaults. Durations are in milliseconds. */
  readonly options: ResolvedOptions;
  private readonly core: BrokerCore;
  private readonly tcp: TcpServer;
  private closing: Promise<void> | null = null;

  /** @internal Use {@link createServer}. */
  constructor(options: ResolvedOptions) {
    this.options = options;
    this.core = new BrokerCore(options);
    this.tcp = createTcpServer({ noDelay: true }, (socket: Socket) => this.core.accept(socket));
  }

  /** @internal Binds the listener; used by {@link createServer}. */
  async listen(): Promise<void> {
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.tcp.off('listening', onListening);
        reject(new ListenError(host, port, err));
      };
      const onListening = (): void => {
        this.tcp.off('error', onError);
        resolve();
      };
      this.tcp.once('error', onError);
      this.tcp.once('listening', onListening);
      this.tcp.listen({ host, port, exclusive: true });
    });
    const address = this.tcp.address();
    this.core.port = typeof address === 'object' && address !== null ? address.port : port;
  }

  /** The port clients connect to (the real one when an ephemeral port was asked for). */
  get port(): number {
    return this.core.port;
  }

  /** The address the server listens on. */
  get host(): string {
    return this.options.host;
  }

  /** A URL for clients, e.g. `nats://127.0.0.1:4222`. */
  get url(): string {
    return `nats://${urlHost(this.options.host)}:${this.core.port}`;
  }

  /** The INFO clients receive on connect (without the per-connection `client_id`/`client_ip`). */
  get info(): ServerInfo {
    return this.core.info();
  }

  /** The server's unique id (INFO `server_id`). */
  get id(): string {
    return this.core.serverId;
  }

  /** Number of client connections open now. */
  get connectionCount(): number {
    return this.core.clients.size;
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /**
   * Graceful shutdown: stops accepting, flushes what is queued to each client, closes every
   * connection and frees the port. Resolves when all sockets are closed. Safe to call twice.
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = new Promise<void>((resolve) => {
      this.tcp.close(() => resolve());
      for (const client of [...this.core.clients.values()]) client.close(CloseReason.ServerShutdown);
      this.core.flushAll();
    });
    return this.closing;
  }

  /** `await using server = await createServer()` closes the server at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Host part of a URL: IPv6 literals go in brackets; the wildcard address means loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts a broker and resolves once it is listening.
 *
 * @example
 * ```ts
 * const server = await createServer();            // 127.0.0.1, ephemeral port
 * const nc = await connect({ servers: server.url });
 * await nc.close();
 * await server.close();
 * ```
 * @throws {ConfigError} an option is invalid (the error names it)
 * @throws {ListenError} the address cannot be bound
 */
export async function createServer(options?: ServerOptions): Promise<NatsServer> {
  const server = new NatsServer(resolveOptions(options));
  await server.listen();
  return server;
}
