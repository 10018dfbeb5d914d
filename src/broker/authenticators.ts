/**
 * The authenticators of a server's clients, built from its options: one for the client
 * listener (with the `tls` block's `verify_and_map`) and one for websocket clients, which may
 * have credentials, a certificate mapping and an auth timeout of their own (nats-server's
 * websocket auth override, server/websocket.go and auth.go).
 */
import { Authenticator } from '../auth/auth.js';
import type { AccountLookup } from '../auth/jwt.js';
import type { ResolvedOptions } from '../config/options.js';
import { DEFAULTS } from '../protocol/constants.js';

/** TCP clients' authenticator, or null without authentication. */
export function clientAuthenticator(o: ResolvedOptions, lookup?: AccountLookup): Authenticator | null {
  return o.auth === null ? null : new Authenticator(o.auth, { tlsMap: o.tls?.map ?? false, lookup });
}

/** Websocket clients' authenticator, or null when they need none (or there is no websocket listener). */
export function webSocketAuthenticator(o: ResolvedOptions, lookup?: AccountLookup): Authenticator | null {
  const ws = o.websocket;
  if (ws === null) return null;
  // opts.go setBaselineOptions: the default auth timeout follows the top-level TLS timeout.
  const defaultTimeoutMs = o.tls === null ? DEFAULTS.authTimeoutMs : o.tls.timeoutMs + 1000;
  return Authenticator.forWebSocket(o.auth, ws.authOverride, ws.authTimeoutMs, ws.tls?.map ?? false, defaultTimeoutMs, lookup);
}
