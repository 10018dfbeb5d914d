/**
 * What only the embedded broker can do, in one place: synchronous introspection, the message
 * tap, fault injection (pause, latency, drops, kicks), route blocks for partitions, and config
 * reload. The state these controls set lives in the backend's `TestControls`, which every core
 * consults, so it survives a restart.
 */
import type { JetStream } from '../jetstream/jetstream.js';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from '../config/options.js';
import { checkReload } from '../config/reload.js';
import { CloseReason } from '../broker/close-reason.js';
import type { DropRule } from '../broker/controls.js';
import type { ConnSnapshot } from '../broker/snapshot.js';
import { subjectMatches } from '../subject/subject.js';
import type { ConsumerFault, EmbeddedFeatures, GatewayInterestMode, GatewayPeers } from '../server/backend.js';
import type { Consumer } from '../jetstream/consumer.js';
import { InvalidArgumentError, ServerClosedError } from '../errors.js';
import type {
  ClientSummary,
  ConnectionInfo,
  DropHandle,
  DropOptions,
  ReloadOptions,
  RoutePeer,
  ServerStats,
  SubscriptionInfo,
  TapOptions,
  TappedMessage,
} from '../server/types.js';
import type { BrokerCore } from '../broker/core.js';
import type { TestControls } from '../broker/controls.js';
import type { ClusterManager } from '../cluster/cluster.js';
import type { GatewayManager } from '../gateway/gateway.js';
import { subjectFromText, subjectToText } from '../protocol/text.js';

/** The embedded backend's state the controls read and change (`EmbeddedBackend` is it). */
export interface EmbeddedState {
  options: ResolvedOptions;
  input: ServerOptions;
  configLoadedAt: Date;
  blockedPeers: readonly string[];
  readonly core: BrokerCore;
  readonly controls: TestControls;
  readonly cluster: ClusterManager | null;
  /** The leaf node layer, when `leafnodes` is configured. */
  readonly leaf: { setPaused(paused: boolean): void } | null;
  blockedGateways: readonly string[];
  /** Write delay per remote gateway name (`setGatewayLatency`), kept across restarts. */
  readonly gatewayLatency: Map<string, number>;
  readonly gateway: GatewayManager | null;
  /** The JetStream engine of the current start, when JetStream is on. */
  readonly jetstream: JetStream | null;
  readonly boundPorts: { port: number; clusterPort: number; websocketPort: number; monitorPort: number };
  /** Operator mode: the account resolver's system requests follow the reloaded options. */
  restartClaims(): void;
}

export class EmbeddedControls implements EmbeddedFeatures {
  constructor(private readonly backend: EmbeddedState) {}

  // ---- Reload -----------------------------------------------------------------------------------

  reload(options: ServerOptions, reloadOptions: ReloadOptions): void {
    const b = this.backend;
    const cur = b.options;
    const input: ServerOptions = reloadOptions.replace === true ? { ...options } : { ...b.input, ...options };
    const next = resolveOptions({ ...input, backend: options.backend ?? cur.backend });
    checkReload(cur, next, b.boundPorts);
    b.options = next;
    b.input = input;
    b.core.applyOptions(next);
    b.restartClaims();
    // Accounts gaining or losing JetStream, or new limits (nats-server's reload re-checks them).
    b.jetstream?.configure(next);
    b.configLoadedAt = new Date();
    b.core.log.info('Reloaded server configuration');
  }

  // ---- Introspection ----------------------------------------------------------------------------

  get connectionCount(): number {
    return this.backend.core.clients.size;
  }

  clients(): ClientSummary[] {
    return [...this.backend.core.clients.values()].map((c) => summarize(c.snapshot(false)));
  }

  connections(): ConnectionInfo[] {
    return [...this.backend.core.clients.values()].map((c) => {
      const s = c.snapshot(false);
      return { ...summarize(s), inMsgs: s.inMsgs, outMsgs: s.outMsgs, inBytes: s.inBytes, outBytes: s.outBytes, pendingBytes: s.pendingBytes };
    });
  }

  subscriptions(filter: { cid?: number }): SubscriptionInfo[] {
    const out: SubscriptionInfo[] = [];
    for (const c of this.backend.core.clients.values()) {
      if (filter.cid !== undefined && c.cid !== filter.cid) continue;
      for (const s of c.subs.values()) {
        // The wire's bytes as text (protocol/text.ts).
        out.push({
          cid: c.cid, clientName: c.name, subject: subjectToText(s.subject), queue: s.queue === null ? null : subjectToText(s.queue),
          sid: subjectToText(s.sid), msgs: s.nm, max: s.max,
        });
      }
    }
    return out;
  }

  stats(): ServerStats {
    const core = this.backend.core;
    const s = core.stats;
    return {
      inMsgs: s.inMsgs,
      inBytes: s.inBytes,
      outMsgs: s.outMsgs,
      outBytes: s.outBytes,
      slowConsumers: s.slowConsumers,
      connections: core.clients.size,
      totalConnections: s.totalConnections,
      subscriptions: core.subscriptionCount,
      internalErrors: this.backend.controls.internalErrors,
    };
  }

  routes(): RoutePeer[] {
    return this.backend.cluster?.peers() ?? [];
  }

  jetstreamMetaLeader(): string | null {
    return this.backend.jetstream?.cluster?.metaLeaderName() ?? null;
  }

  jetstreamStreamLeader(account: string, stream: string): string | null {
    return this.backend.jetstream?.cluster?.streamLeader(account, stream) ?? null;
  }

  jetstreamConsumerLeader(account: string, stream: string, consumer: string): string | null {
    return this.backend.jetstream?.cluster?.consumerLeader(account, stream, consumer) ?? null;
  }

  blockRoutes(serverNames: readonly string[]): void {
    const b = this.backend;
    b.blockedPeers = [...serverNames];
    b.cluster?.setBlocked(b.blockedPeers);
  }

  blockedRouteNames(): readonly string[] {
    return this.backend.blockedPeers;
  }

  gateways(): GatewayPeers {
    const g = this.backend.gateway;
    if (g === null) return { outbound: [], inbound: [] };
    return { outbound: g.connectedGateways(), inbound: g.snapshot().inbound.map((i) => i.name) };
  }

  blockGateways(names: readonly string[]): void {
    const b = this.backend;
    b.blockedGateways = [...names];
    b.gateway?.setBlocked(b.blockedGateways);
  }

  setGatewayLatency(gateway: string, ms: number): void {
    const m = this.backend.gatewayLatency;
    if (ms > 0) m.set(gateway, ms);
    else m.delete(gateway);
  }

  gatewayInterestMode(gateway: string, account: string): GatewayInterestMode | null {
    return this.backend.gateway?.interestMode(gateway, account) ?? null;
  }

  // ---- The tap ----------------------------------------------------------------------------------

  tap(callback: (msg: TappedMessage) => void, options: TapOptions): () => void {
    const pattern = options.subject ?? '>';
    const tap = (msg: TappedMessage): void => {
      if (subjectMatches(pattern, msg.subject)) callback(msg);
    };
    const controls = this.backend.controls;
    if (controls.taps === null) controls.taps = new Set();
    controls.taps.add(tap);
    return () => {
      controls.taps?.delete(tap);
      if (controls.taps?.size === 0) controls.taps = null;
    };
  }

  // ---- Faults -----------------------------------------------------------------------------------

  pause(): void {
    const { controls, core, cluster } = this.backend;
    if (controls.paused) return;
    controls.paused = true;
    for (const c of core.clients.values()) c.socket.pause();
    cluster?.setPaused(true);
    this.backend.leaf?.setPaused(true);
    this.backend.gateway?.setPaused(true);
  }

  resume(): void {
    const { controls, core, cluster } = this.backend;
    if (!controls.paused) return;
    controls.paused = false;
    for (const c of core.clients.values()) {
      // A client whose CONNECT waits for its account reads again when that ends, a stalled one
      // when its stall does.
      if (!c.readHeld && !c.stalled) c.socket.resume();
      core.markForFlush(c);
    }
    cluster?.setPaused(false);
    this.backend.leaf?.setPaused(false);
    this.backend.gateway?.setPaused(false);
    core.flushAll();
  }

  setLatency(ms: number): void {
    this.backend.controls.latencyMs = ms;
  }

  dropMessages(options: DropOptions): DropHandle {
    const rule: DropRule = { subject: subjectFromText(options.subject), ratio: options.ratio ?? 0, remaining: options.count ?? null, dropped: 0 };
    const controls = this.backend.controls;
    controls.drops = [...(controls.drops ?? []), rule];
    return {
      get dropped() {
        return rule.dropped;
      },
      cancel: () => {
        const left = (controls.drops ?? []).filter((r) => r !== rule);
        controls.drops = left.length > 0 ? left : null;
      },
    };
  }

  resetFaults(): void {
    this.resume();
    this.backend.controls.latencyMs = 0;
    this.backend.controls.drops = null;
  }

  disconnectClient(cid: number): boolean {
    const c = this.backend.core.clients.get(cid);
    if (c === undefined) return false;
    c.close(CloseReason.Kicked, false);
    return true;
  }

  disconnectClients(filter?: (client: ClientSummary) => boolean): number {
    let n = 0;
    for (const client of [...this.backend.core.clients.values()]) {
      if (filter !== undefined && !filter(summarize(client.snapshot(false)))) continue;
      client.close(CloseReason.Kicked, false);
      n++;
    }
    return n;
  }

  // ---- JetStream consumer faults ------------------------------------------------------------------

  consumerFault(account: string | undefined, stream: string, consumer: string, fault: ConsumerFault): void {
    const c = this.liveConsumer(account, stream, consumer);
    switch (fault.kind) {
      case 'expireAckWait':
        c.expireAckWait();
        break;
      case 'pause':
        c.setPaused(fault.paused);
        break;
      case 'dropAcks':
        c.dropAcks = fault.count;
        break;
    }
  }

  private liveConsumer(account: string | undefined, stream: string, name: string): Consumer {
    const js = this.backend.jetstream;
    if (this.backend.options.jetstream === null) throw new InvalidArgumentError('stream', 'JetStream is not enabled');
    if (js === null) throw new ServerClosedError('change a JetStream consumer', 'the server is not running');
    const found: Array<{ account: string; c: Consumer }> = [];
    for (const jsa of js.enabledAccounts()) {
      if (account !== undefined && jsa.name !== account) continue;
      const c = jsa.streams.get(stream)?.consumers.get(name);
      if (c !== undefined) found.push({ account: jsa.name, c });
    }
    if (found.length === 0) {
      throw new InvalidArgumentError('consumer', `no consumer "${stream} > ${name}"${account === undefined ? '' : ` in account ${account}`}`);
    }
    if (found.length > 1) {
      throw new InvalidArgumentError('stream', `consumer "${stream} > ${name}" exists in accounts ${found.map((f) => f.account).sort().join(', ')}: pass { account }`);
    }
    return found[0]!.c;
  }
}

function summarize(s: ConnSnapshot): ClientSummary {
  return { cid: s.cid, name: s.name, lang: s.lang, version: s.version, ip: s.ip, port: s.port, subscriptions: s.numSubs };
}
