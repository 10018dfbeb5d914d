/**
 * `createServer()`: picks the backend the options ask for (the broker in this process, or a
 * nats-server process), wraps it in a `NatsServer` handle and starts it.
 */
import { resolveOptions, type ServerOptions } from '../config/options.js';
import { NatsServer } from '../server/handle.js';
import { EmbeddedBackend } from './embedded.js';
import { processBackend } from './nats-server.js';

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
 * With `backend: 'nats-server'` (or `NATS_EMBEDDED_BACKEND=nats-server`) it starts a real
 * nats-server process with the equivalent configuration instead, and resolves once it is ready.
 *
 * @throws {ConfigError} an option is invalid (the error names it), or there is no nats-server
 *   binary for `backend: 'nats-server'`
 * @throws {ListenError} an address cannot be bound
 * @throws {BackendError} the nats-server process did not start
 * @throws {UnsupportedError} an option only the embedded backend has, with `backend: 'nats-server'`
 */
export async function createServer(options: ServerOptions = {}): Promise<NatsServer> {
  const resolved = resolveOptions(options);
  const server = new NatsServer((events) =>
    resolved.backend === 'nats-server' ? processBackend(resolved, events) : new EmbeddedBackend(resolved, options, events),
  );
  try {
    await server.listen();
  } catch (err) {
    // Nothing listens: release what the backend keeps for restarts (a temporary store).
    await server.close();
    throw err;
  }
  return server;
}
