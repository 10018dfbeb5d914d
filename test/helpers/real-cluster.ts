/**
 * A cluster of real `nats-server -js` processes as a {@link ClusterUnderTest}: each member has its
 * own `server_name`, client port, route port and JetStream store directory (kept across
 * `kill(i)` / `restart(i)`), and routes to every other member. The clustered-JetStream scenarios
 * (test/conformance/jetstream-cluster-scenarios.ts) and the R3 benchmark run against it, and later
 * unchanged against the embedded cluster.
 *
 * nats-server's Raft has no timeout setting: elections wait a random 4–9 s (raft.go
 * minElectionTimeout / maxElectionTimeout, 2.9.10 and 2.10.29 alike), so `waitForMetaLeader`
 * polls `$JS.API.INFO` instead of sleeping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { ClusterUnderTest } from './cluster-under-test.js';
import { freePort, startRealServer, type RealServer } from './real-server.js';

/** Options of {@link startRealCluster}. */
export interface RealClusterOptions {
  /** The `cluster { name }` (default `C1`). */
  readonly clusterName?: string;
  /** Prefix of the members' `server_name`s: `<prefix>1`, `<prefix>2`, … (default `n`). */
  readonly namePrefix?: string;
  /** Extra config lines for every member (e.g. accounts). */
  readonly extraConfig?: readonly string[];
  /** Extra config lines for member `i` (e.g. its `server_tags`). */
  readonly memberConfig?: (i: number) => readonly string[];
  /** Extra lines inside every member's `jetstream {}` block (e.g. `unique_tag`). */
  readonly jetstreamConfig?: readonly string[];
  /** How long `startRealCluster` waits for the JetStream meta leader (default 20 s). */
  readonly metaLeaderTimeoutMs?: number;
  /**
   * Members configured but not started (default 0): indices `size` … `size + standby - 1`, with
   * their names, ports and routes in every member's config; `restart(i)` starts one (a server
   * joining the running cluster). `size` of the result counts them.
   */
  readonly standby?: number;
}

/** A real cluster: the common interface, plus the meta-leader wait and the members' processes. */
export interface RealCluster extends ClusterUnderTest {
  /** Resolves once `$JS.API.INFO` is answered without an error through member `via` (any live one by default). */
  waitForMetaLeader(timeoutMs?: number, via?: number): Promise<void>;
  /** The store directory of member `i`. */
  storeDir(i: number): string;
}

/**
 * Starts `size` nats-server processes forming one JetStream cluster and waits until its meta
 * group has a leader (`$JS.API.INFO` answers without "JetStream system temporarily unavailable").
 */
export async function startRealCluster(bin: string, running = 3, opts: RealClusterOptions = {}): Promise<RealCluster> {
  const size = running + (opts.standby ?? 0);
  const clusterName = opts.clusterName ?? 'C1';
  const prefix = opts.namePrefix ?? 'n';
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  const ports = new Set<number>();
  while (ports.size < 2 * size) ports.add(await freePort());
  const all = [...ports];
  for (let i = 0; i < size; i++) {
    clientPorts.push(all[i]);
    routePorts.push(all[size + i]);
  }
  const stores = Array.from({ length: size }, (_, i) => mkdtempSync(join(tmpdir(), `nats-jsc-${prefix}${i + 1}-`)));
  const names = Array.from({ length: size }, (_, i) => `${prefix}${i + 1}`);
  const config = (i: number): string[] => [
    `server_name: ${names[i]}`,
    `listen: "127.0.0.1:${clientPorts[i]}"`,
    `jetstream { store_dir: "${stores[i]}"${(opts.jetstreamConfig ?? []).map((l) => `\n  ${l}`).join('')} }`,
    'cluster {',
    `  name: ${clusterName}`,
    `  listen: "127.0.0.1:${routePorts[i]}"`,
    `  routes: [${routePorts.filter((_, j) => j !== i).map((p) => `"nats-route://127.0.0.1:${p}"`).join(', ')}]`,
    '}',
    ...(opts.extraConfig ?? []),
    ...(opts.memberConfig?.(i) ?? []),
  ];
  const members: Array<RealServer | undefined> = new Array<RealServer | undefined>(size).fill(undefined);
  const urls = clientPorts.map((p) => `nats://127.0.0.1:${p}`);

  const stopAll = async (): Promise<void> => {
    await Promise.all(members.map(async (m, i) => {
      members[i] = undefined;
      await m?.stop();
    }));
  };

  const waitForMetaLeader = async (timeoutMs = opts.metaLeaderTimeoutMs ?? 20_000, via?: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const live = (): number => {
      if (via !== undefined) return via;
      const i = members.findIndex((m) => m !== undefined);
      if (i < 0) throw new Error('no live member');
      return i;
    };
    const nc = await connect({ servers: urls[live()], reconnect: false });
    try {
      let last = '';
      for (;;) {
        try {
          const r = await nc.request('$JS.API.INFO', '', { timeout: 1000 });
          const body = r.string();
          const j = JSON.parse(body) as { error?: unknown };
          if (j.error === undefined) return;
          last = body;
        } catch (err) {
          last = String(err);
        }
        if (Date.now() > deadline) throw new Error(`no JetStream meta leader after ${timeoutMs} ms: ${last}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await nc.close();
    }
  };

  try {
    await Promise.all(names.slice(0, running).map(async (_, i) => {
      members[i] = await startRealServer(bin, config(i));
    }));
    await waitForMetaLeader();
  } catch (err) {
    await stopAll();
    for (const d of stores) rmSync(d, { recursive: true, force: true });
    throw err;
  }

  const check = (i: number): void => {
    if (!Number.isInteger(i) || i < 0 || i >= size) throw new RangeError(`no member ${i} (size ${size})`);
  };
  return {
    size,
    urls,
    serverName: (i) => {
      check(i);
      return names[i];
    },
    indexOf: (name) => names.indexOf(name),
    storeDir: (i) => {
      check(i);
      return stores[i];
    },
    async kill(i) {
      check(i);
      const m = members[i];
      members[i] = undefined;
      // RealServer.stop() sends SIGKILL and removes only its config directory, not the store.
      await m?.stop();
    },
    async restart(i) {
      check(i);
      if (members[i] !== undefined) throw new Error(`member ${i} is running`);
      members[i] = await startRealServer(bin, config(i));
    },
    waitForMetaLeader,
    async close() {
      await stopAll();
      for (const d of stores) rmSync(d, { recursive: true, force: true });
    },
  };
}
