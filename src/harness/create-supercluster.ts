/**
 * `createSupercluster()`: named clusters of embedded servers joined by gateways (nats-server's
 * superclusters), with the fault controls failover tests need: kill or restart one member or a
 * whole cluster, and cut the gateways between two clusters.
 */
import { ConfigError, InvalidArgumentError, ServerClosedError, UnsupportedError, WaitTimeoutError } from '../errors.js';
import { resolveOptions, type Duration } from '../config/options.js';
import { durationArg } from '../server/arguments.js';
import type { NatsServer } from '../server/handle.js';
import { NatsCluster, type ClusterHarnessOptions } from './create-cluster.js';

/** One cluster of a supercluster: its size, and optionally its name (also its gateway name). */
export interface SuperclusterMember {
  size: number;
  name?: string;
}

/** Options of {@link createSupercluster}: the clusters, plus options every server gets. */
export interface SuperclusterOptions extends Omit<ClusterHarnessOptions, 'size' | 'name' | 'gateway' | 'jetstream'> {
  /** The clusters: sizes (`[3, 3]`) or `{ size, name }`. Names default to `A`, `B`, `C`, ... */
  clusters: ReadonlyArray<number | SuperclusterMember>;
  /** Pause between attempts to re-dial a gateway. Default 100 ms, so a restarted cluster rejoins fast. */
  gatewayReconnectDelay?: Duration;
}

/**
 * Clusters of embedded servers joined by gateways. Create one with {@link createSupercluster}.
 * `close()` is final, as a {@link NatsCluster}'s.
 */
export class NatsSupercluster implements AsyncDisposable {
  /** The clusters, in the order given. */
  readonly clusters: NatsCluster[] = [];
  /** Pairs of cluster names whose gateways are cut (`a|b`, both orders). */
  private readonly cut = new Set<string>();
  private closed = false;

  /** @internal Use {@link createSupercluster}. */
  constructor(private readonly opts: SuperclusterOptions, private readonly names: readonly string[]) {}

  /** Every server of every cluster. */
  get servers(): NatsServer[] {
    return this.clusters.flatMap((c) => c.servers);
  }

  /** The cluster named `name` (also its gateway name). */
  cluster(name: string): NatsCluster {
    const i = this.names.indexOf(name);
    if (i < 0) throw new InvalidArgumentError('name', `no cluster "${name}" (clusters: ${this.names.join(', ')})`);
    return this.clusters[i];
  }

  /** @internal Starts the clusters one after another; each later one dials the earlier ones' gateways. */
  async start(sizes: readonly number[]): Promise<void> {
    const { clusters: _c, gatewayReconnectDelay, ...common } = this.opts;
    try {
      for (let i = 0; i < sizes.length; i++) {
        const gateways = this.clusters.map((c, j) => ({ name: this.names[j], urls: c.servers.map((s) => s.gatewayUrl!) }));
        const cluster = new NatsCluster({
          ...common,
          name: this.names[i],
          gateway: { name: this.names[i], gateways, reconnectDelay: gatewayReconnectDelay ?? 100 },
        });
        this.clusters.push(cluster);
        await cluster.start(sizes[i]);
      }
      await this.waitForGateways();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private open(operation: string): void {
    if (this.closed) throw new ServerClosedError(operation, 'the supercluster is closed');
  }

  /** Crashes every member of cluster `name`; resolves once the other clusters' gateways to it are down. */
  async killCluster(name: string): Promise<void> {
    this.open('kill a cluster');
    const c = this.cluster(name);
    await Promise.all(c.servers.map((s) => (s.state === 'running' ? s.kill() : undefined)));
    await this.waitForGateways();
  }

  /** Brings every member of cluster `name` back on its ports; resolves once its routes and gateways are up. */
  async restartCluster(name: string): Promise<void> {
    this.open('restart a cluster');
    const c = this.cluster(name);
    await Promise.all(c.servers.map((s) => s.restart()));
    await c.waitForMesh();
    await this.waitForGateways();
  }

  /** Cuts the gateways between clusters `a` and `b` (both ways, no reconnect) until {@link heal}. */
  async partition(a: string, b: string): Promise<void> {
    this.open('partition the supercluster');
    this.cluster(a);
    this.cluster(b);
    if (a === b) throw new InvalidArgumentError('b', 'a cluster cannot be partitioned from itself');
    this.cut.add(`${a}|${b}`).add(`${b}|${a}`);
    this.applyBlocks();
    await this.waitForGateways();
  }

  /** Undoes every {@link partition}: the gateways are dialled again. */
  async heal(): Promise<void> {
    this.open('heal the supercluster');
    this.cut.clear();
    this.applyBlocks();
    await this.waitForGateways();
  }

  /**
   * Delays every write on the gateway connections between clusters `a` and `b` by `ms`, both
   * ways (0 turns it off); in force across restarts until changed.
   */
  setLatency(a: string, b: string, ms: Duration): void {
    this.open('set gateway latency');
    for (const s of this.cluster(a).servers) s.setGatewayLatency(b, ms);
    for (const s of this.cluster(b).servers) s.setGatewayLatency(a, ms);
  }

  private applyBlocks(): void {
    this.clusters.forEach((c, i) => {
      const blocked = this.names.filter((n) => this.cut.has(`${this.names[i]}|${n}`));
      for (const s of c.servers) if (s.state === 'running') s.blockGateways(blocked);
    });
  }

  /**
   * Resolves when every running server has an outbound gateway to every other cluster that has
   * a running server and is not partitioned from its own, and none to a partitioned one.
   * @param timeoutMs ms or a duration string; default `meshTimeoutMs` (10 s)
   * @throws {WaitTimeoutError} not in time (the message lists what is missing)
   */
  async waitForGateways(timeoutMs?: Duration): Promise<void> {
    const ms = durationArg(timeoutMs ?? this.opts.meshTimeoutMs, 'timeoutMs', 10_000);
    this.open('wait for the gateways');
    const deadline = Date.now() + ms;
    for (;;) {
      const missing = this.missingGateways();
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new WaitTimeoutError(`the gateways of the supercluster; missing: ${missing.join(', ')}`, ms);
      await new Promise((r) => setTimeout(r, 5));
      this.open('wait for the gateways');
    }
  }

  private missingGateways(): string[] {
    const missing: string[] = [];
    const up = this.clusters.map((c) => c.servers.some((s) => s.state === 'running'));
    this.clusters.forEach((c, i) => {
      for (const s of c.servers) {
        if (s.state !== 'running') continue;
        const out = new Set(s.gateways().outbound);
        this.names.forEach((other, j) => {
          if (j === i) return;
          const should = up[j] && !this.cut.has(`${this.names[i]}|${other}`);
          if (should !== out.has(other)) missing.push(`${s.info.server_name}${should ? '→' : '↛'}${other}`);
        });
      }
    });
    return missing;
  }

  /** Closes every cluster, for good. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.clusters.map((c) => c.close()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts clusters of embedded servers joined by gateways and resolves once every server has a
 * gateway connection to every other cluster.
 *
 * @example
 * ```ts
 * const sc = await createSupercluster({ clusters: [3, 3] });   // clusters A and B
 * const a = await connect({ servers: sc.cluster('A').urls });
 * const b = await connect({ servers: sc.cluster('B').urls });
 * await sc.partition('A', 'B');   // no message crosses
 * await sc.heal();
 * await sc.killCluster('A');      // B's queue members take A's share
 * await sc.close();
 * ```
 */
export async function createSupercluster(options: SuperclusterOptions): Promise<NatsSupercluster> {
  const list = options?.clusters;
  if (!Array.isArray(list) || list.length < 1) throw new ConfigError('clusters', 'must be a non-empty array of cluster sizes or { size, name }');
  const sizes: number[] = [];
  const names: string[] = [];
  list.forEach((m: number | SuperclusterMember, i: number) => {
    const size = typeof m === 'number' ? m : m?.size;
    if (!Number.isInteger(size) || size! < 1) throw new ConfigError(`clusters[${i}]`, `size must be a positive integer, got ${String(size)}`);
    const name = typeof m === 'number' || m.name === undefined ? String.fromCharCode(65 + (i % 26)) + (i >= 26 ? String(i) : '') : m.name;
    if (name === '' || /[\s.*>]/.test(name)) throw new ConfigError(`clusters[${i}].name`, `invalid cluster name "${name}"`);
    if (names.includes(name)) throw new ConfigError(`clusters[${i}].name`, `duplicate cluster name "${name}"`);
    sizes.push(size!);
    names.push(name);
  });
  const { backend } = resolveOptions({ backend: options.backend });
  if (backend !== 'embedded') {
    throw new UnsupportedError('createSupercluster()', backend, 'start nats-server members with their own gateway blocks instead');
  }
  const sc = new NatsSupercluster(options, names);
  await sc.start(sizes);
  return sc;
}
