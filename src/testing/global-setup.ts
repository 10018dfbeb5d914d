/**
 * The vitest `globalSetup` builder. Kept apart from the fixtures: a global setup runs outside
 * the test runner and must not load vitest's runtime.
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
 * import { natsGlobalSetup } from 'nats-embedded/vitest';
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

