/**
 * nats-embedded: a NATS-wire-compatible message broker inside your Node.js process.
 *
 * @example
 * ```ts
 * import { createServer } from 'nats-embedded';
 * const server = await createServer();
 * // connect any NATS client to server.url
 * await server.close();
 * ```
 * @packageDocumentation
 */
export { createServer, NatsServer } from './server/server.js';
export { createCluster, NatsCluster } from './cluster/create-cluster.js';
export type { ClusterHarnessOptions } from './cluster/create-cluster.js';
export type {
  ServerInfo,
  ClientSummary,
  SlowConsumerEvent,
  ServerStats,
  NatsServerEvents,
  RestartOptions,
  ServerState,
  RoutePeer,
} from './server/server.js';
export type {
  ServerOptions,
  ResolvedOptions,
  Duration,
  ClusterOptions,
  ResolvedClusterOptions,
  RouteUrl,
} from './server/options.js';
export { NatsEmbeddedError, ConfigError, ListenError, ServerClosedError } from './errors.js';
export type { NatsEmbeddedErrorCode } from './errors.js';
export { NATS_SERVER_VERSION } from './protocol/constants.js';
