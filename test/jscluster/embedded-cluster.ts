/**
 * The embedded cluster (`createCluster({ jetstream: true })`) as a {@link ClusterUnderTest}, so the
 * Jepsen-style run drives it exactly as it drives real nats-server members. Each member keeps
 * its own JetStream store (the handle's temporary directory) across kill and restart.
 */
import { createCluster, type ClusterHarnessOptions, type NatsCluster } from '../../src/index.js';
import type { ClusterUnderTest } from '../helpers/cluster-under-test.js';

/** A started embedded cluster behind the common interface (and the cluster itself, for extra checks). */
export interface EmbeddedClusterUnderTest extends ClusterUnderTest {
  readonly cluster: NatsCluster;
}

/** Starts `createCluster({ size: 3, jetstream: true, ...options })` and wraps it. */
export async function startEmbeddedCluster(options: ClusterHarnessOptions = {}): Promise<EmbeddedClusterUnderTest> {
  const cluster = await createCluster({ size: 3, jetstream: true, ...options });
  // Names and URLs do not change across kill and restart (same ports, same server_name).
  const names = cluster.servers.map((s) => s.info.server_name);
  const urls = cluster.urls;
  return {
    cluster,
    size: names.length,
    urls,
    serverName: (i) => {
      const name = names[i];
      if (name === undefined) throw new RangeError(`no member ${i} (size ${names.length})`);
      return name;
    },
    indexOf: (name) => names.indexOf(name),
    kill: (i) => cluster.kill(i),
    restart: (i) => cluster.restart(i),
    partition: (...groups) => cluster.partition(...groups),
    heal: () => cluster.heal(),
    // An internal error of the broker is a bug: closing reports it (the runs and scenarios fail).
    close: async () => {
      const errors = cluster.servers.map((s) => s.stats().internalErrors);
      await cluster.close();
      if (errors.some((n) => n > 0)) throw new Error(`internal errors of the embedded members: ${errors.join(', ')}`);
    },
  };
}
