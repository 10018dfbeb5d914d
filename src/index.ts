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
export { createServer } from './backend/create-server.js';
export { NatsServer } from './server/handle.js';
export { jetstreamHelpers, resetJetStream, seedJetStream } from './backend/remote-helpers.js';
export type { JetStreamHelpersOptions, RemoteJetStreamHelpers } from './backend/remote-helpers.js';
export { createCluster, NatsCluster } from './harness/create-cluster.js';
export type { ClusterHarnessOptions } from './harness/create-cluster.js';
export { createSupercluster, NatsSupercluster } from './harness/create-supercluster.js';
export type { SuperclusterOptions, SuperclusterMember } from './harness/create-supercluster.js';
export type { GatewayPeers, GatewayInterestMode } from './server/backend.js';
export type {
  ServerInfo,
  ClientSummary,
  SlowConsumerEvent,
  ServerStats,
  NatsServerEvents,
  RestartOptions,
  ReloadOptions,
  ServerState,
  RoutePeer,
  ConnectionInfo,
  SubscriptionInfo,
  WaitOptions,
  TapOptions,
  DropOptions,
  DropHandle,
  TappedMessage,
  JetStreamView,
  JetStreamQuery,
  JetStreamStreamInfo,
  JetStreamStreamConfig,
  JetStreamStreamState,
  WaitForStreamOptions,
  JetStreamConsumerInfo,
  JetStreamConsumerConfig,
  JetStreamConsumerState,
  JetStreamSequenceInfo,
  WaitForConsumerOptions,
} from './server/types.js';
export type {
  JetStreamHelpers,
  KvBucketInfo,
  KvBucketQuery,
  KvKeyInfo,
  ObjectStoreInfo,
  JetStreamSeed,
  KvSeedBucket,
  KvSeedValues,
  ObjectSeedBucket,
  ObjectSeedValues,
  SeedStream,
  SeedMessage,
  SeedJson,
  JetStreamResetOptions,
  JetStreamResetResult,
} from './server/jetstream-helper-types.js';
export type {
  Backend,
  ServerOptions,
  ResolvedOptions,
  Duration,
  ClusterOptions,
  ClusterAuthorizationOptions,
  ResolvedClusterOptions,
  GatewayOptions,
  RemoteGatewayOptions,
  ResolvedGatewayOptions,
  RouteUrl,
  Logger,
  WebSocketOptions,
  WebSocketAuthorizationOptions,
  TlsOptions,
  ResolvedWebSocket,
  JetStreamOptions,
  ResolvedJetStream,
  SourceTiming,
  AccountOptions,
  DirResolverOptions,
  AccountJetStreamLimits,
  ResolvedAccountJetStream,
  AccountExport,
  AccountImport,
  StreamExport,
  ServiceExport,
  ServiceLatencyOptions,
  ResolvedServiceLatency,
  StreamImport,
  ServiceImport,
  ImportSource,
  ResponseType,
  ResolvedExport,
  ResolvedImport,
  ResolvedAccountLinks,
  SkippedImport,
} from './config/options.js';
export {
  NatsEmbeddedError,
  ConfigError,
  InvalidArgumentError,
  ListenError,
  ServerClosedError,
  WaitTimeoutError,
  UnsupportedError,
  BackendError,
  JetStreamApiError,
} from './errors.js';
export type { NatsEmbeddedErrorCode } from './errors.js';
export { NATS_SERVER_VERSION } from './protocol/constants.js';
