/**
 * `createCluster()`: a real NATS cluster of embedded servers in one process, with the fault
 * controls failover tests need (kill, restart on the same ports, partition, heal, grow, shrink).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError, InvalidArgumentError, ServerClosedError, UnsupportedError, WaitTimeoutError } from '../errors.js';
import { createServer } from '../backend/create-server.js';
import type { NatsServer } from '../server/handle.js';
import type { ReloadOptions, RestartOptions } from '../server/types.js';
import { resolveOptions, type ClusterAuthorizationOptions, type Duration, type ServerOptions } from '../config/options.js';
import { durationArg } from '../server/arguments.js';

/**
 * Options of {@link createCluster}: how many members, plus options every member gets. A
 * directory account resolver (`resolver: { type, dir }`) gets `<dir>/<server name>` per
 * member: each server keeps its own directory, as nats-server requires (JetStream's
 * `storeDir` is shared out the same way).
 */
export interface ClusterHarnessOptions extends Omit<ServerOptions, 'cluster' | 'serverName' | 'port'> {
  /** Number of servers. Default 3. */
  size?: number;
  /** Cluster name. Default: `cluster-<random>`. */
  name?: string;
  /** Pause between attempts to re-dial a route. Default 100 ms, so a restarted node rejoins fast. */
  reconnectDelay?: Duration;
  /** How long `createCluster()`, `waitForMesh()` and the controls wait for the mesh. Default 10 s. */
  meshTimeoutMs?: Duration;
  /**
   * Route credentials for every member (`cluster.authorization`); members dial each other with
   * route URLs that carry them (`nats-route://user:pass@host:port`). Default: none.
   */
  routeAuthorization?: ClusterAuthorizationOptions;
  /**
   * Tags per member (`serverTags`), by index: member `i` gets `memberTags[i]`, e.g.
   * `[['az:1', 'ssd'], ['az:2'], ['az:3', 'ssd']]` to test stream placement by
   * `placement.tags` or `jetstream.uniqueTag`. Members beyond the list get `serverTags`.
   */
  memberTags?: ReadonlyArray<readonly string[]>;
}

/**
 * A cluster of embedded servers. Create one with {@link createCluster}.
 *
 * `close()` is final: every control called afterwards (`add()`, `kill()`, `restart()`, ...)
 * rejects with {@link ServerClosedError} and starts nothing, and a control in progress when it
 * is called settles (a `restart()` in its down time rejects with `ServerClosedError`).
 */
export class NatsCluster implements AsyncDisposable {
  /** The members, in the order they were added (`remove()` takes one out). */
  readonly servers: NatsServer[] = [];
  private readonly name: string;
  private nextIndex = 0;
  private partitioned = false;
  private closed = false;
  /** The server names of clustered JetStream's peers (the first members). */
  private jsPeers: string[] = [];

  /** @internal Use {@link createCluster}. */
  constructor(private readonly opts: ClusterHarnessOptions) {
    this.name = opts.name ?? `cluster-${randomBytes(4).toString('hex')}`;
  }

  /** Client URLs of all members, e.g. for `connect({ servers: cluster.urls })`. */
  get urls(): string[] {
    return this.servers.map((s) => s.url);
  }

  /** The cluster name. */
  get clusterName(): string {
    return this.name;
  }

  private memberOptions(): ServerOptions {
    const { size: _size, name: _name, reconnectDelay, meshTimeoutMs: _t, routeAuthorization: auth, memberTags, ...serverOptions } = this.opts;
    // Each member dials every member that exists when it starts, so a restarted member can
    // always find the mesh again; the rest is gossip.
    const userinfo = auth?.user === undefined || auth.user === ''
      ? ''
      : `${encodeURIComponent(auth.user)}${auth.password === undefined || auth.password === '' ? '' : `:${encodeURIComponent(auth.password)}`}@`;
    const routes = this.servers.filter((s) => !s.closed).map((s) => s.routeUrl!.replace('://', `://${userinfo}`));
    const index = this.nextIndex++;
    const serverName = `${this.name}-${index}`;
    const tags = memberTags?.[index];
    // A directory account resolver's directory is a member's own (nats-server needs one
    // directory per server): `<dir>/<server name>`, as JetStream's store directory.
    const resolver = serverOptions.resolver;
    const ownResolver = resolver !== undefined && typeof resolver === 'object' && typeof resolver.dir === 'string'
      ? { resolver: { ...resolver, dir: join(resolver.dir, serverName) } }
      : {};
    return {
      ...serverOptions,
      ...ownResolver,
      ...(tags === undefined ? {} : { serverTags: tags }),
      ...this.jetStreamOptions(serverName),
      serverName,
      cluster: { name: this.name, routes, reconnectDelay: reconnectDelay ?? 100, ...(auth === undefined ? {} : { authorization: auth }) },
    };
  }

  /**
   * Clustered JetStream: every member of the first `size` names the others as its JetStream
   * peers, gets short Raft timeouts (unless given) and, under a shared `storeDir`, a directory
   * of its own.
   */
  private jetStreamOptions(serverName: string): Pick<ServerOptions, 'jetstream'> {
    const js = this.opts.jetstream;
    if (js === undefined || js === false || (typeof js === 'object' && js.enabled === false)) return {};
    const o = js === true ? {} : js;
    return {
      jetstream: {
        ...o,
        ...(o.storeDir === undefined ? {} : { storeDir: join(o.storeDir, serverName) }),
        clusterPeers: o.clusterPeers ?? this.jsPeers,
        raftTiming: o.raftTiming ?? { electionTimeoutMin: 300, electionTimeoutMax: 600, heartbeatInterval: 100 },
      },
    };
  }

  /** @internal Starts `size` members and waits for the mesh; used by {@link createCluster}. */
  async start(size: number): Promise<void> {
    this.jsPeers = Array.from({ length: size }, (_, i) => `${this.name}-${i}`);
    try {
      for (let i = 0; i < size; i++) this.servers.push(await createServer(this.memberOptions()));
      await this.waitForMesh();
      if (this.jsPeers.length > 1 && this.jetStreamOptions('').jetstream !== undefined) await this.waitForJetStream();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** @throws {ServerClosedError} once `close()` was called */
  private open(operation: string): void {
    if (this.closed) throw new ServerClosedError(operation, `cluster ${this.name} is closed`);
  }

  /**
   * Adds a member; resolves once the mesh includes it.
   *
   * Clustered JetStream: the new member's `clusterPeers` are the cluster's JetStream members and
   * itself. It starts with an empty meta log and joins the running meta group as nats-server 2.10
   * does: the meta leader adds it as a voter (one membership change at a time) without an
   * election, and new streams may be placed on it. Resolves once it is a voter that knows the
   * meta leader (see {@link waitForJetStream}). Existing streams stay where they are.
   * @throws {ServerClosedError} the cluster is closed (or was closed while the member started)
   * @throws {UnsupportedError} a JetStream cluster of one member (its JetStream is not clustered)
   * @throws {WaitTimeoutError} the mesh, or the new member's place in the meta group, not in time (`meshTimeoutMs`)
   */
  async add(): Promise<NatsServer> {
    this.open('add a cluster member');
    const jetstream = this.jetStreamOptions('').jetstream !== undefined;
    if (jetstream && this.jsPeers.length < 2) {
      throw new UnsupportedError('add()', 'a JetStream cluster of one member', 'its JetStream is not clustered: create the cluster with two members or more');
    }
    const options = this.memberOptions();
    if (jetstream && typeof options.jetstream === 'object') {
      const name = options.serverName!;
      const peers = options.jetstream.clusterPeers ?? [];
      options.jetstream = { ...options.jetstream, clusterPeers: peers.includes(name) ? peers : [...peers, name] };
      if (!this.jsPeers.includes(name)) this.jsPeers = [...this.jsPeers, name];
    }
    const server = await createServer(options);
    if (this.closed) {
      await server.close();
      this.open('add a cluster member');
    }
    this.servers.push(server);
    await this.waitForMesh();
    if (jetstream) await this.waitForJetStream();
    return server;
  }

  /** Closes member `i` gracefully and takes it out of `servers` (later indices shift down). */
  async remove(i: number): Promise<void> {
    this.open('remove a cluster member');
    const server = this.member(i);
    this.servers.splice(i, 1);
    await server.close();
    await this.waitForMesh();
  }

  /** Crashes member `i` (sockets destroyed, no flush). It stays in `servers`, stopped. */
  async kill(i: number): Promise<void> {
    this.open('kill a cluster member');
    await this.member(i).kill();
    await this.waitForMesh();
  }

  /**
   * Brings member `i` back on the same client and route ports (killing it first if it is
   * running), and resolves once it has rejoined the mesh.
   * @throws {ServerClosedError} the cluster is closed, or `close()` interrupted the restart
   */
  async restart(i: number, options: RestartOptions = {}): Promise<void> {
    this.open('restart a cluster member');
    await this.member(i).restart(options);
    await this.waitForMesh();
  }

  /**
   * `reload()` on every member that has not been removed: the options are a patch over each
   * member's own (see {@link NatsServer.reload}).
   */
  reload(options: ServerOptions, reloadOptions?: ReloadOptions): void {
    this.open('reload the cluster');
    for (const s of this.servers) s.reload(options, reloadOptions);
  }

  /**
   * Cuts the routes between the given groups of member indices: members of different groups
   * stop routing to each other (no reconnect), so messages do not cross. Members in no group
   * keep all their routes. Resolves once the routes are down.
   */
  async partition(...groups: number[][]): Promise<void> {
    this.open('partition the cluster');
    const groupOf = new Map<number, number>();
    groups.forEach((g, gi) => {
      if (!Array.isArray(g)) throw new InvalidArgumentError('groups', 'each group must be an array of member indices');
      for (const i of g) {
        this.member(i);
        if (groupOf.has(i)) throw new InvalidArgumentError('groups', `member ${i} is in two groups`);
        groupOf.set(i, gi);
      }
    });
    this.servers.forEach((s, i) => {
      const mine = groupOf.get(i);
      const blocked = mine === undefined
        ? []
        : this.servers.filter((_, j) => groupOf.has(j) && groupOf.get(j) !== mine).map((o) => o.info.server_name);
      s.blockRoutes(blocked);
    });
    this.partitioned = true;
    await this.waitForMesh();
  }

  /** Undoes `partition()`: routes are re-dialled and interest re-exchanged. */
  async heal(): Promise<void> {
    this.open('heal the cluster');
    for (const s of this.servers) s.blockRoutes([]);
    this.partitioned = false;
    await this.waitForMesh();
  }

  /**
   * Resolves when every running member has a route to every other running member it is not
   * partitioned from.
   * @param timeoutMs ms or a duration string; default `meshTimeoutMs` (10 s)
   * @throws {WaitTimeoutError} the mesh did not form in time (the message lists missing routes)
   * @throws {ServerClosedError} the cluster is closed
   */
  async waitForMesh(timeoutMs?: Duration): Promise<void> {
    const ms = durationArg(timeoutMs ?? this.opts.meshTimeoutMs, 'timeoutMs', 10_000);
    this.open('wait for the mesh');
    const deadline = Date.now() + ms;
    for (;;) {
      const missing = this.missingRoutes();
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new WaitTimeoutError(`the mesh of cluster ${this.name}; missing routes: ${missing.join(', ')}`, ms);
      await new Promise((r) => setTimeout(r, 5));
      this.open('wait for the mesh');
    }
  }

  /**
   * Clustered JetStream: resolves when every running member knows the same meta leader (the
   * JetStream API answers from then on; a member still joining the meta group knows none yet).
   * `createCluster({ jetstream: true })` and `add()` wait for it.
   * @param timeoutMs ms or a duration string; default `meshTimeoutMs` (10 s)
   * @throws {WaitTimeoutError} no meta leader in time
   */
  async waitForJetStream(timeoutMs?: Duration): Promise<string> {
    const ms = durationArg(timeoutMs ?? this.opts.meshTimeoutMs, 'timeoutMs', 10_000);
    this.open('wait for JetStream');
    const deadline = Date.now() + ms;
    for (;;) {
      const leaders = new Set(this.servers.filter((s) => s.state === 'running').map((s) => s.jetstreamMetaLeader()));
      const [only] = leaders;
      if (leaders.size === 1 && only !== null && only !== undefined) return only;
      if (Date.now() > deadline) throw new WaitTimeoutError(`a JetStream meta leader in cluster ${this.name}`, ms);
      await new Promise((r) => setTimeout(r, 10));
      this.open('wait for JetStream');
    }
  }

  /**
   * Clustered JetStream: the index (in `servers`) of the member that leads `stream`, once the
   * members that hold it agree on one.
   * @param options.account the stream's account (default `$G`); `timeoutMs` default `meshTimeoutMs`
   * @throws {WaitTimeoutError} no leader agreed on in time
   */
  async streamLeader(stream: string, options: { account?: string; timeoutMs?: Duration } = {}): Promise<number> {
    return this.agreedLeader(`stream ${stream}`, (s) => s.jetstreamStreamLeader(stream, options.account), options.timeoutMs);
  }

  /**
   * Clustered JetStream: the index (in `servers`) of the member that leads consumer `consumer`
   * of `stream`, once the members that hold the stream agree on one.
   * @param options.account the stream's account (default `$G`); `timeoutMs` default `meshTimeoutMs`
   * @throws {WaitTimeoutError} no leader agreed on in time
   */
  async consumerLeader(stream: string, consumer: string, options: { account?: string; timeoutMs?: Duration } = {}): Promise<number> {
    return this.agreedLeader(`consumer ${stream} > ${consumer}`, (s) => s.jetstreamConsumerLeader(stream, consumer, options.account), options.timeoutMs);
  }

  /** Polls until the running members that know a leader of `what` (`leaderOf`) agree on one; its index. */
  private async agreedLeader(what: string, leaderOf: (s: NatsServer) => string | null, timeoutMs: Duration | undefined): Promise<number> {
    const ms = durationArg(timeoutMs ?? this.opts.meshTimeoutMs, 'timeoutMs', 10_000);
    this.open(`find the leader of ${what}`);
    const deadline = Date.now() + ms;
    for (;;) {
      const known = this.servers.filter((s) => s.state === 'running').map(leaderOf).filter((l) => l !== null);
      const names = new Set(known);
      if (names.size === 1) {
        const i = this.servers.findIndex((s) => s.state === 'running' && s.info.server_name === known[0]);
        if (i >= 0) return i;
      }
      if (Date.now() > deadline) throw new WaitTimeoutError(`the leader of ${what} in cluster ${this.name}`, ms);
      await new Promise((r) => setTimeout(r, 10));
      this.open(`find the leader of ${what}`);
    }
  }

  private missingRoutes(): string[] {
    const running = this.servers.filter((s) => s.state === 'running');
    const missing: string[] = [];
    for (const s of running) {
      const blocked = new Set(this.partitioned ? s.blockedRouteNames() : []);
      const have = new Set(s.routes().map((r) => r.name));
      for (const other of running) {
        if (other === s) continue;
        const name = other.info.server_name;
        const should = !blocked.has(name);
        if (should !== have.has(name)) missing.push(`${s.info.server_name}${should ? '→' : '↛'}${name}`);
      }
      // Routes to stopped members must be gone too.
      for (const name of have) if (!running.some((o) => o.info.server_name === name)) missing.push(`${s.info.server_name}↛${name}`);
    }
    return missing;
  }

  /** Closes every member, for good. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.servers.map((s) => s.close()));
  }

  /** `await using cluster = await createCluster()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private member(i: number): NatsServer {
    const s = this.servers[i];
    if (!Number.isInteger(i) || s === undefined) throw new InvalidArgumentError('i', `no cluster member ${String(i)} (size ${this.servers.length})`);
    return s;
  }
}

/**
 * Starts a cluster of embedded servers on ephemeral ports and resolves when it is fully meshed.
 *
 * @example
 * ```ts
 * const cluster = await createCluster({ size: 3 });
 * const nc = await connect({ servers: cluster.urls });
 * await cluster.kill(0);        // nc fails over to another member
 * await cluster.restart(0);     // back on the same ports, rejoins the mesh
 * await cluster.close();
 * ```
 */
export async function createCluster(options: ClusterHarnessOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  if (!Number.isInteger(size) || size < 1) throw new ConfigError('size', `must be a positive integer, got ${String(size)}`);
  // The harness partitions and watches routes through embedded-only controls.
  const { backend } = resolveOptions({ backend: options.backend });
  if (backend !== 'embedded') {
    throw new UnsupportedError('createCluster()', backend, 'start nats-server members with createServer({ cluster }) instead');
  }
  const cluster = new NatsCluster(options);
  await cluster.start(size);
  return cluster;
}
