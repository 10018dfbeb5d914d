/**
 * Protocol constants: the exact `-ERR` texts nats-server 2.10 sends, pre-encoded frames and the
 * defaults of nats-server's `const.go` / `opts.go`.
 */
import { goQuoteBytes } from './text.js';

/** The nats-server version whose client-visible behaviour this broker follows (INFO `version`). */
export const NATS_SERVER_VERSION = '2.10.29';
/** INFO `proto`: the client protocol level (1 = supports async INFO). */
export const PROTO_VERSION = 1;

/** Exact texts carried inside `-ERR '...'`. */
export const ERR = {
  UnknownOp: 'Unknown Protocol Operation',
  AuthViolation: 'Authorization Violation',
  AuthTimeout: 'Authentication Timeout',
  /** A user JWT's `exp` passed (operator mode): sent, then the connection is closed. */
  AuthExpired: 'User Authentication Expired',
  /** The account JWT's `exp` passed: every client of the account gets it, then is closed. */
  AccountAuthExpired: 'Account Authentication Expired',
  /** A reload brought an account JWT that revokes the connected user. */
  AuthRevoked: 'User Authentication Revoked',
  MaxPayload: 'Maximum Payload Violation',
  MaxControlLine: 'maximum control line exceeded',
  MaxConnections: 'maximum connections exceeded',
  /** An account JWT's `conn` limit reached (operator mode). */
  MaxAccountConnections: 'maximum account active connections exceeded',
  MaxSubscriptions: 'maximum subscriptions exceeded',
  BadClientProtocol: 'invalid client protocol',
  NoRespondersNeedHeaders: 'no responders requires headers support',
  InvalidSubject: 'Invalid Subject',
  InvalidPublishSubject: 'Invalid Publish Subject',
  StaleConnection: 'Stale Connection',
  TlsRequired: 'Secure Connection - TLS Required',
} as const;

/** `-ERR 'Permissions Violation for Publish to "<subject>"'` (Go's %q of the subject's bytes, as every text here). */
export function errPubViolation(subject: string): string {
  return `Permissions Violation for Publish to ${goQuoteBytes(subject)}`;
}

/** `-ERR 'Permissions Violation for Publish with Reply of "<reply>"'`. */
export function errReplyViolation(reply: string): string {
  return `Permissions Violation for Publish with Reply of ${goQuoteBytes(reply)}`;
}

/** `-ERR 'Permissions Violation for Subscription to "<subject>" using queue "<queue>"'` and the plain form. */
export function errSubViolation(subject: string, queue: string | null): string {
  return queue === null
    ? `Permissions Violation for Subscription to ${goQuoteBytes(subject)}`
    : `Permissions Violation for Subscription to ${goQuoteBytes(subject)} using queue ${goQuoteBytes(queue)}`;
}

/** Encodes `-ERR '<text>'\r\n`. */
export function encodeErr(text: string): Buffer {
  return Buffer.from(`-ERR '${text}'\r\n`, 'latin1');
}

export const PING = Buffer.from('PING\r\n');
export const PONG = Buffer.from('PONG\r\n');
export const OK = Buffer.from('+OK\r\n');

/** Reserved subject prefixes (nats-server: gateway routed replies, service import replies, JS acks). */
export const GW_REPLY_PREFIX = '_GR_.';
export const SERVICE_REPLY_PREFIX = '_R_.';
export const JS_ACK_PREFIX = '$JS.ACK.';
/** Queue name reserved by nats-server for system use. */
export const SYS_QUEUE = '_sys_';

/** Defaults, as nats-server 2.10. */
export const DEFAULTS = {
  port: 4222,
  host: '127.0.0.1',
  maxPayload: 1024 * 1024,
  maxControlLine: 4096,
  maxPending: 64 * 1024 * 1024,
  pingIntervalMs: 2 * 60 * 1000,
  maxPingsOut: 2,
  writeDeadlineMs: 10 * 1000,
  maxConnections: 64 * 1024,
  maxSubscriptions: 0,
  lameDuckDurationMs: 2 * 60 * 1000,
  /** TLS handshake timeout (tls_timeout). */
  tlsTimeoutMs: 2000,
  /** Time to authenticate when auth is required (no TLS). */
  authTimeoutMs: 2000,
  /** Pause between attempts to connect a configured route (DEFAULT_ROUTE_RECONNECT). */
  routeReconnectMs: 1000,
  /** First PING on a new route (firstPingInterval). */
  routeFirstPingMs: 1000,
  /** 2.10 caps the route PING interval at 30 s (routeMaxPingInterval). */
  routeMaxPingIntervalMs: 30_000,
  lameDuckGracePeriodMs: 10 * 1000,
  /** First PING after CONNECT: min(ping interval, 2s), plus up to 20% jitter. */
  firstPingIntervalMs: 2000,
} as const;
