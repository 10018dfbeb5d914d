/**
 * `nats-embedded/global-setup`: the vitest `globalSetup` builder. A global setup runs in vitest's
 * main process, where there is no test runtime: anything that touches it (`test.extend`, hooks)
 * throws "Vitest failed to find the current suite". So this module, and everything it imports,
 * must never import `vitest` at runtime; the fixtures live in `nats-embedded/vitest`.
 */
import { createCluster, createServer, type ServerOptions } from 'nats-embedded';

/** Options of {@link natsGlobalSetup}. */
export interface NatsGlobalSetupOptions extends Omit<ServerOptions, 'cluster'> {
  /** Start a cluster of this many servers instead of one server. */
  clusterSize?: number;
}

/** What vitest passes to a global setup function (the part used here). */
export interface GlobalSetupProject {
  provide(key: 'natsUrl', value: string): void;
  provide(key: 'natsUrls', value: string[]): void;
}

/**
 * Builds a vitest `globalSetup` function: it starts a broker (or a cluster) before the run,
 * provides `natsUrl`/`natsUrls` to the tests (`inject('natsUrl')`) and closes it afterwards.
 *
 * ```ts
 * // test/nats-setup.ts, listed in vitest.config.ts `globalSetup`
 * import { natsGlobalSetup } from 'nats-embedded/global-setup';
 * export default natsGlobalSetup({ clusterSize: 3 });
 * ```
 */
export function natsGlobalSetup(options: NatsGlobalSetupOptions = {}): (project: GlobalSetupProject) => Promise<() => Promise<void>> {
  return async (project) => {
    const { clusterSize, ...serverOptions } = options;
    if (clusterSize !== undefined && clusterSize > 1) {
      const cluster = await createCluster({ ...serverOptions, size: clusterSize });
      project.provide('natsUrl', cluster.urls[0]);
      project.provide('natsUrls', cluster.urls);
      return () => cluster.close();
    }
    const server = await createServer(serverOptions);
    project.provide('natsUrl', server.url);
    project.provide('natsUrls', [server.url]);
    return () => server.close();
  };
}

