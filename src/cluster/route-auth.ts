/**
 * Route authentication, as nats-server 2.10 does it (server/auth.go isRouterAuthorized,
 * server/route.go sendRouteConnect and processImplicitRoute): one user and password for every
 * route. Pure decisions; the route connection applies them (timer, `-ERR`, close).
 */
import { linkAuthorized } from '../auth/auth.js';
import type { ResolvedClusterOptions, RouteUrl } from '../config/options.js';

/**
 * Whether an accepted route's CONNECT carries the configured credentials. Without a configured
 * user any credentials (or none) are accepted, as nats-server does. With `cluster.tls`
 * `verifyAndMap` (`tlsMap`), the route's certificate (`cert`) must name the cluster's user
 * instead, whatever the CONNECT says; without a cluster user no route passes (isRouterAuthorized).
 */
export function routeAuthorized(
  auth: ResolvedClusterOptions['authorization'],
  connect: Record<string, unknown>,
  tlsMap = false,
  cert: () => Buffer | null = () => null,
): boolean {
  return linkAuthorized(auth, connect, tlsMap, cert);
}

/**
 * The credentials a dialled route sends in its CONNECT: its URL's user and password (a URL user
 * alone is sent as `user`, as nats-server does: routes have no tokens). `undefined` fields are
 * left out of the JSON (nats-server's `omitempty`).
 */
export function routeConnectCredentials(url: RouteUrl): { user?: string; pass?: string } {
  const out: { user?: string; pass?: string } = {};
  if (url.user !== undefined && url.user !== '') out.user = url.user;
  if (url.pass !== undefined && url.pass !== '') out.pass = url.pass;
  return out;
}

/**
 * A route learned by gossip: nats-server dials it with its own cluster credentials when the
 * peer's INFO says `auth_required` (processImplicitRoute).
 */
export function implicitRouteUrl(url: RouteUrl, authRequired: boolean, auth: ResolvedClusterOptions['authorization']): RouteUrl {
  if (!authRequired || auth === null) return url;
  return { ...url, user: auth.user, pass: auth.password };
}
