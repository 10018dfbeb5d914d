/**
 * `nats-embedded/global-setup`: the vitest `globalSetup` builder. A global setup runs in vitest's
 * main process, where there is no test runtime: anything that touches it (`test.extend`, hooks)
 * throws ("Vitest failed to find the current suite" in vitest 4, "failed to access its internal
 * state" in vitest 3). So this module, and everything it imports, must never import `vitest` at
 * runtime; the fixtures live in `nats-embedded/vitest`.
 */
import { ConfigError, createCluster, createServer, UnsupportedError, type ServerOptions } from 'nats-embedded';
import { startRoutedCluster } from './routed-cluster.js';

/** Options of {@link natsGlobalSetup}: `createServer()` options, plus the cluster size. */
export interface NatsGlobalSetupOptions extends Omit<ServerOptions, 'cluster'> {
  /**
   * Start a cluster of this many servers instead of one server (1 = one server, no cluster).
   * Members get ephemeral ports and generated names, so `port` and `serverName` cannot be set
   * with a size above 1.
   */
  clusterSize?: number;
  /** How long to wait for the cluster's routes to form. Default 10 s. */
  meshTimeoutMs?: number;
}

/**
 * What vitest passes to a global setup function (its `TestProject`), reduced to the part used
 * here so that this module needs no vitest types at runtime.
 */
export interface GlobalSetupProject {
  /** Makes `inject('natsUrl')` return `value` in the tests: the first (or only) server's client URL. */
  provide(key: 'natsUrl', value: string): void;
  /** Makes `inject('natsUrls')` return `value` in the tests: every member's client URL. */
  provide(key: 'natsUrls', value: string[]): void;
}

/** A vitest global setup function: starts before the run, returns its teardown. */
export type NatsGlobalSetup = (project: GlobalSetupProject) => Promise<() => Promise<void>>;

const DEFAULT_MESH_TIMEOUT_MS = 10_000;

/**
 * Builds a vitest `globalSetup` function: it starts a broker (or a cluster) before the run,
 * provides `natsUrl`/`natsUrls` to the tests (`inject('natsUrl')`; the types come with
 * `import 'nats-embedded/vitest'` in a test file) and closes it after the run.
 *
 * A cluster is made with `createCluster()`; with the `nats-server` backend
 * (`NATS_EMBEDDED_BACKEND=nats-server`), which has no `createCluster()`, it is made of
 * `createServer({ cluster })` members routed to the first one, and the URLs are provided once
 * every member's `/routez` lists all the others. If startup fails halfway, whatever was started
 * is closed before the error reaches vitest.
 *
 * `{ jetstream: true }` (or a `jetstream` object) turns JetStream on, with a temporary store
 * removed by the teardown (on the `nats-server` backend: `-js` with a temporary store dir). The
 * tests get the URL, not the handle: they seed and empty JetStream through it with
 * `seedJetStream(url, seed)` and `resetJetStream(url)` from `nats-embedded`, e.g.
 * `beforeEach(() => resetJetStream(inject('natsUrl')))`.
 *
 * @example
 * ```ts
 * // nats-setup.ts, listed in vitest.config.ts `globalSetup`
 * import { natsGlobalSetup } from 'nats-embedded/global-setup';
 * export default natsGlobalSetup({ clusterSize: 3 });
 *
 * // or one broker with JetStream for the run
 * export default natsGlobalSetup({ jetstream: true });
 * ```
 * @throws {ConfigError} (when called) `clusterSize` is not a positive integer, or is above 1
 *   together with `port` or `serverName`
 */
export function natsGlobalSetup(options: NatsGlobalSetupOptions = {}): NatsGlobalSetup {
  const { clusterSize = 1, meshTimeoutMs = DEFAULT_MESH_TIMEOUT_MS, ...serverOptions } = options;
  if (!Number.isInteger(clusterSize) || clusterSize < 1) {
    throw new ConfigError('clusterSize', `must be a positive integer, got ${String(clusterSize)}`);
  }
  if (clusterSize > 1) {
    for (const key of ['port', 'serverName'] as const) {
      if (serverOptions[key] !== undefined) throw new ConfigError(key, 'cannot be set for a cluster (clusterSize > 1): each member gets its own');
    }
  }
  return async (project) => {
    const started = clusterSize > 1 ? await startCluster(serverOptions, clusterSize, meshTimeoutMs) : await startOne(serverOptions);
    project.provide('natsUrl', started.urls[0]);
    project.provide('natsUrls', started.urls);
    return () => started.close();
  };
}

interface Started {
  urls: string[];
  close(): Promise<void>;
}

async function startOne(options: ServerOptions): Promise<Started> {
  const server = await createServer(options);
  return { urls: [server.url], close: () => server.close() };
}

async function startCluster(options: Omit<ServerOptions, 'cluster' | 'port' | 'serverName'>, size: number, meshTimeoutMs: number): Promise<Started> {
  try {
    return await createCluster({ ...options, size, meshTimeoutMs });
  } catch (err) {
    // createCluster() refuses a backend without the embedded route controls before it starts
    // anything, so there is nothing to clean up here.
    if (!(err instanceof UnsupportedError && err.feature === 'createCluster()')) throw err;
  }
  return startRoutedCluster(options, size, meshTimeoutMs);
}
