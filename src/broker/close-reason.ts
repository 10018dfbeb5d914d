/**
 * Why a connection (client or route) was closed: one set for every kind, with nats-server's
 * texts (`ClosedState.String()` in monitor.go), as `/connz` `reason` shows them. Three are this
 * broker's own: `Partitioned` (a test partition cut the route), `Route To Self` and `Mixed
 * JetStream Cluster` (a route to a nats-server with JetStream, refused: cluster/cluster.ts).
 */
export const CloseReason = {
  ClientClosed: 'Client Closed',
  ProtocolViolation: 'Protocol Violation',
  AuthViolation: 'Authentication Failure',
  AuthTimeout: 'Authentication Timeout',
  AuthExpired: 'Authentication Expired',
  Revoked: 'Credentials Revoked',
  TlsHandshake: 'TLS Handshake Failure',
  MaxPayload: 'Maximum Message Payload Exceeded',
  MaxControlLine: 'Maximum Control Line Exceeded',
  MaxConnections: 'Maximum Connections Exceeded',
  MaxSubscriptions: 'Maximum Subscriptions Exceeded',
  MaxAccountConnections: 'Maximum Account Connections Exceeded',
  SlowConsumerPendingBytes: 'Slow Consumer (Pending Bytes)',
  SlowConsumerWriteDeadline: 'Slow Consumer (Write Deadline)',
  StaleConnection: 'Stale Connection',
  BadClientProtocol: 'Bad Client Protocol Version',
  NoRespondersRequiresHeaders: 'No Responders Requires Headers',
  ServerShutdown: 'Server Shutdown',
  ReadError: 'Read Error',
  WriteError: 'Write Error',
  Kicked: 'Kicked',
  DuplicateRoute: 'Duplicate Route',
  ClusterNameConflict: 'Cluster Name Conflict',
  ClusterNamesIdentical: 'Cluster Names Identical',
  RouteToSelf: 'Route To Self',
  Partitioned: 'Partitioned',
  MixedJetStream: 'Mixed JetStream Cluster',
  WrongGateway: 'Wrong Gateway',
  WrongPort: 'Wrong Port',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];
