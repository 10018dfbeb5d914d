/**
 * One gateway connection (nats-server's client of kind GATEWAY): outbound (this server dialled
 * the remote cluster; it sends messages) or inbound (accepted; it receives messages and sends
 * the interest of this cluster). The protocol is the route protocol's (INFO, CONNECT, PING,
 * PONG, RS+, RS-, RMSG, HMSG), parsed by the route parser; what the ops mean is decided by its
 * {@link GatewayConnHost}, the gateway manager.
 */
import { RouteParser, type RouteSink } from '../protocol/route-parser.js';
import type { PubArg } from '../protocol/parser.js';
import { DEFAULTS, ERR, PONG, encodeErr } from '../protocol/constants.js';
import { PEER_INFO, ROUTE_CONNECT_STRUCTS, parseJsonObject } from '../protocol/go-json.js';
import type { Transport } from '../io/transport.js';
import { CloseReason } from '../broker/close-reason.js';
import { Connection, type ConnectionHost } from '../broker/connection.js';
import type { RemoteSub } from '../broker/account.js';
import type { RouteUrl } from '../config/options.js';
import { Sublist } from '../subject/sublist.js';

/** The fields of a gateway INFO this server reads (nats-server's Info, gateway part). */
export interface GatewayInfo {
  server_id: string;
  server_name?: string;
  gateway?: string;
  gateway_urls?: string[];
  gateway_url?: string;
  gateway_cmd?: number;
  gateway_cmd_payload?: string;
  gateway_iom?: boolean;
  gateway_nrp?: boolean;
  headers?: boolean;
  auth_required?: boolean;
  [key: string]: unknown;
}

/** gateway.go's GatewayInterestMode. */
export const Mode = { Optimistic: 0, Transitioning: 1, InterestOnly: 2 } as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

/** A remote's interest, as an outbound connection stores it (a queue group, or in interest-only mode a plain subject). */
export class GwInterest {
  constructor(
    readonly subject: string,
    readonly queue: string | null,
    /** The same interest as the hub announces it to its leaf nodes (never in a sublist), or null for an account this server lacks. */
    readonly leaf: RemoteSub | null = null,
  ) {}
}

/**
 * What an outbound connection knows of one account on the remote (gateway.go's outsie): in
 * optimistic mode, the subjects the remote said no to (`ni`); its queue groups, and once in
 * interest-only mode every subscription, in `sl`.
 */
export class OutAccount {
  mode: Mode = Mode.Optimistic;
  ni: Set<string> | null = new Set();
  readonly sl = new Sublist<GwInterest>();
  readonly subs = new Map<string, GwInterest>();
  qsubs = 0;
}

/** What a gateway connection needs of the gateway manager. */
export interface GatewayConnHost extends ConnectionHost {
  allocCid(): number;
  onGwInfo(conn: GatewayConn, info: GatewayInfo): void;
  onGwConnect(conn: GatewayConn, opts: Record<string, unknown>): void;
  onGwSub(conn: GatewayConn, account: string, subject: string, queue: string | null): void;
  onGwUnsub(conn: GatewayConn, account: string, subject: string, queue: string | null): void;
  onGwMsg(conn: GatewayConn, account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void;
  onGwClosed(conn: GatewayConn, reason: CloseReason): void;
  /** An outbound connection measured its RTT again. */
  onGwRtt(): void;
  /** Delay of every write to and from the named remote gateway (a test fault), 0 for none. */
  gatewayLatencyMs(name: string): number;
}

export class GatewayConn extends Connection implements RouteSink {
  readonly parser = new RouteParser(this);
  /** Connection id (shared sequence with clients and routes). */
  readonly cid: number;
  /** The remote gateway's name: the configured one for an outbound, from its INFO for an inbound. */
  name: string;
  /** The remote server's first INFO, once received. */
  info: GatewayInfo | null = null;
  /** Registered (outbound: as the one to its gateway; inbound: its INFO arrived after CONNECT). */
  registered = false;
  /** An inbound connection's CONNECT arrived. */
  connected = false;
  headers = false;
  // ---- Outbound ----
  /** The remote switches every account to interest-only mode at once (INFO `gateway_iom`). */
  interestOnlyMode = false;
  /** Per account: null means "no interest in the account at all" (A-). */
  readonly outsim = new Map<string, OutAccount | null>();
  // ---- Inbound ----
  /** Per account: the mode this server announces its interest in. */
  readonly insim = new Map<string, Mode>();

  constructor(
    protected override readonly host: GatewayConnHost,
    socket: Transport,
    /** True: this server dialled it. */
    readonly outbound: boolean,
    name: string,
    /** The URL dialled (outbound only). */
    readonly url: RouteUrl | null,
  ) {
    super(host, socket);
    this.name = name;
    this.cid = host.allocCid();
    socket.setNoDelay(true);
    // parser.go: an inbound connection must start with CONNECT (an authorization violation otherwise).
    this.expectConnect = !outbound;
  }

  get remoteId(): string | null {
    return this.info?.server_id ?? null;
  }

  /** Starts PINGs: nats-server's gateways PING regardless of traffic, at most every 15 s. */
  startPings(): void {
    this.startPeerPings();
  }

  /** An accepted connection must send CONNECT within `ms`. */
  startAuth(ms: number): void {
    this.startAuthTimeout(ms, ERR.AuthTimeout, () => this.connected);
  }

  onData(chunk: Buffer): void {
    if (!this.connectFirst(chunk)) return;
    const before = this.inMsgs;
    this.parser.parse(chunk);
    if (this.inMsgs !== before) this.lastActivity = Date.now();
  }

  // ---- RouteSink ----------------------------------------------------------------------------

  onInfo(json: string): void {
    const info = parseJsonObject(json, PEER_INFO);
    if (info === null) return this.close(CloseReason.ProtocolViolation);
    this.host.onGwInfo(this, info as GatewayInfo);
  }

  onConnect(json: string): void {
    if (this.outbound) return this.close(CloseReason.ProtocolViolation);
    const opts = this.peerConnect(json, ROUTE_CONNECT_STRUCTS);
    if (opts !== null) this.host.onGwConnect(this, opts);
  }

  onPing(): void {
    this.send(PONG);
  }

  onPong(): void {
    this.pongReceived();
    if (this.outbound && this.registered) this.host.onGwRtt();
  }

  onErr(): void {
    this.close(CloseReason.ProtocolViolation);
  }

  onSubInterest(account: string, subject: string, queue: string | null): void {
    // RS+ goes from the inbound side to the outbound one only (gateway.go processGatewayRSub).
    if (!this.outbound) return this.close(CloseReason.ProtocolViolation);
    if (this.registered) this.host.onGwSub(this, account, subject, queue);
  }

  onUnsubInterest(account: string, subject: string, queue: string | null): void {
    if (!this.outbound) return this.close(CloseReason.ProtocolViolation);
    if (this.registered) this.host.onGwUnsub(this, account, subject, queue);
  }

  onRoutedMsg(account: string, pa: PubArg, queues: readonly string[], buf: Buffer, start: number, end: number): void {
    if (!this.registered) return;
    this.inMsgs++;
    this.inBytes += end - start;
    this.host.onGwMsg(this, account, pa, queues, buf, start, end);
  }

  onParseError(): void {
    this.send(encodeErr(ERR.UnknownOp));
    this.close(CloseReason.ProtocolViolation);
  }

  // ---- Sending ------------------------------------------------------------------------------

  /** `RMSG <account> <subject> [reply | + reply q… | | q…] <size>` (HMSG with headers). */
  sendMsg(account: string, subject: string, reply: string, queues: readonly string[], pa: PubArg, buf: Buffer, start: number): void {
    if (this.closed) return;
    this.queuePeerMsg(account, subject, reply, queues, pa, buf, start, this.headers);
  }


  protected override writeDelayMs(): number {
    return this.host.gatewayLatencyMs(this.name);
  }

  // ---- Liveness and closing -----------------------------------------------------------------

  protected onPingTimer(): void {
    this.peerPingTimer(GW_MAX_PING_INTERVAL_MS);
  }

  close(reason: CloseReason, flush = true): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.parser.stop();
    this.closeTransport(flush);
    this.host.onGwClosed(this, reason);
  }
}

/** gateway.go gwMaxPingInterval. */
const GW_MAX_PING_INTERVAL_MS = 15_000;
