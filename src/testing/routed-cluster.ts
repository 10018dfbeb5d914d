/**
 * A cluster built from plain `createServer({ cluster })` members, for the global setup when
 * `createCluster()` is unavailable: with the `nats-server` backend there are no embedded route
 * controls, so the mesh is formed and watched the way an operator would, through the seed route
 * and each member's `/routez`. Imports no vitest code: the global setup loads it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, WaitTimeoutError, type NatsServer, type ServerOptions } from 'nats-embedded';
// A pure helper, bundled into this entry (no keep-alive agent: no socket outlives the setup).
import { getJson } from '../backend/process.js';

/** Options every member gets: the cluster block, client port and name are set per member. */
export type RoutedMemberOptions = Omit<ServerOptions, 'cluster' | 'port' | 'serverName'>;

/** A started, fully routed cluster of {@link createServer} members. */
export interface RoutedCluster {
  /** The cluster name every member was given. */
  readonly name: string;
  /** The members, seed first. */
  readonly servers: readonly NatsServer[];
  /** Client URLs of the members, seed first. */
  readonly urls: string[];
  /** Closes every member. */
  close(): Promise<void>;
}

const POLL_MS = 50;

/**
 * Starts `size` members, the first one as the seed route of the others, and resolves once each
 * member's `/routez` shows `size - 1` routes. Members get monitoring on a random port (`http: -1`)
 * unless `options.http` says otherwise, as `/routez` is how the mesh is observed.
 *
 * If anything fails (a member does not start, the mesh does not form within `meshTimeoutMs`),
 * every member started so far is closed before the error is rethrown: the caller gets no handle
 * to close them with.
 */
export async function startRoutedCluster(options: RoutedMemberOptions, size: number, meshTimeoutMs: number): Promise<RoutedCluster> {
  const name = `nats-embedded-${randomBytes(4).toString('hex')}`;
  const servers: NatsServer[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.allSettled(servers.map((s) => s.close()));
  };
  const member = (i: number, routes: string[]): Promise<NatsServer> =>
    createServer({ ...options, http: options.http ?? -1, serverName: `${name}-${i}`, cluster: { name, routes } });
  try {
    const seed = await member(0, []);
    servers.push(seed);
    const seedRoute = seed.routeUrl;
    if (seedRoute === null) throw new Error(`cluster ${name}: the seed member has no route URL`);
    // The others start together (a nats-server process takes a while to come up); every one that
    // did start is kept, so that a failure of one still closes the rest.
    const rest = await Promise.allSettled(Array.from({ length: size - 1 }, (_, i) => member(i + 1, [seedRoute])));
    for (const r of rest) if (r.status === 'fulfilled') servers.push(r.value);
    const failed = rest.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    await waitForRoutes(name, servers, meshTimeoutMs);
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { name, servers, urls: servers.map((s) => s.url), close: closeAll };
}

/** Polls every member's `/routez` until each has a route to every other member. */
async function waitForRoutes(name: string, servers: readonly NatsServer[], timeoutMs: number): Promise<void> {
  const want = servers.length - 1;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await Promise.all(servers.map((s) => numRoutes(s)));
    if (counts.every((n) => n === want)) return;
    if (Date.now() > deadline) {
      const seen = servers.map((s, i) => `${s.info.server_name}: ${counts[i] ?? 'no answer'}`).join(', ');
      throw new WaitTimeoutError(`cluster ${name} to mesh (${want} route(s) per member; ${seen})`, timeoutMs);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** `num_routes` from a member's `/routez`, or null when it does not answer (yet). */
async function numRoutes(server: NatsServer): Promise<number | null> {
  const base = server.monitorUrl;
  if (base === null) throw new Error(`${server.info.server_name} has no monitoring endpoint to read /routez from`);
  try {
    const body = await getJson<unknown>(`${base}/routez`);
    const n = (body as { num_routes?: unknown }).num_routes;
    return typeof n === 'number' ? n : null;
  } catch {
    return null;
  }
}
