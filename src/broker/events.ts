/**
 * The system account's events, as nats-server 2.10's events.go sends them, in the system account
 * unless said otherwise:
 *
 * - a client's `$SYS.ACCOUNT.<account>.CONNECT` once it is authorized and
 *   `$SYS.ACCOUNT.<account>.DISCONNECT` when it closes (never for the global account `$G`);
 * - the account's connection count (`AccountNumConns`) on `$SYS.ACCOUNT.<account>.SERVER.CONNS`
 *   and the older `$SYS.SERVER.ACCOUNT.<account>.CONNS` whenever a client of the account (not
 *   `$G`) is authorized or leaves, and every 30 s while it has any (nats-server's
 *   `eventsHBInterval`; the timer is reset by each change and stops at zero);
 * - `$SYS.SERVER.<id>.CLIENT.AUTH.ERR` for every connection closed for an authentication
 *   failure (client.go authViolation), and 2.10's `$SYS.ACCOUNT.CLIENT.AUTH.ERR` for a CONNECT
 *   that failed authentication, published in the account the client was in — `$G` before it
 *   authenticated (auth.go sendAccountAuthErrorEvent) — so that account's own clients see it;
 * - `$SYS.SERVER.<id>.LAMEDUCK` when lame duck mode begins and `$SYS.SERVER.<id>.SHUTDOWN` on a
 *   graceful shutdown, both with the bare `server` block as body; after SHUTDOWN nothing more is
 *   sent (nats-server closes its send queue, so the clients closed by the shutdown produce no
 *   DISCONNECT). A killed server (a crash) sends nothing: {@link SystemEvents.halt}.
 *
 * They cost nothing when nobody listens: the subject's interest (local subscribers or a peer
 * server's) is looked up before any JSON is built. The `server` block every system message
 * carries ({@link SystemEvents.serverBlock}) is also used by the request services
 * (monitor/system.ts), which publish answers in other accounts through
 * {@link SystemEvents.accountClient}.
 */
import { randomBytes } from 'node:crypto';
import { NATS_SERVER_VERSION } from '../protocol/constants.js';
import { goJson, rfc3339Nano } from '../protocol/go-format.js';
import type { Account } from './account.js';
import type { Client } from './client.js';
import type { InternalClient } from './internal.js';

/** nats-server's `eventsHBInterval`: an account's connection count is re-sent this often while it has clients. */
export const ACCOUNT_CONNS_HEARTBEAT_MS = 30_000;

/** nats-server's `ServerInfo` of system messages (`omitempty` fields optional). */
export interface SystemServerBlock {
  name: string;
  host: string;
  id: string;
  cluster?: string;
  domain?: string;
  ver: string;
  tags?: string[];
  jetstream: boolean;
  flags: number;
  seq: number;
  time: string;
}

/** What the events need of the server (the core implements it). */
export interface SystemEventsHost {
  readonly serverId: string;
  readonly clusterName: string | null;
  /** The server name (`server_name`, else the id) and the client listener's host. */
  serverNameAndHost(): { name: string; host: string };
  /** JetStream is on, and its domain ('' without one). */
  jetStreamState(): { enabled: boolean; domain: string };
  /** The server's tags (`server_tags`). */
  serverTags(): readonly string[];
  /** The client connections (an account's are counted from them). */
  readonly clients: ReadonlyMap<number, Client>;
  /** An internal client in `account` (one per account is kept here). */
  internalClient(name: string, account: Account): InternalClient;
  /** Writes out what the publications queued (a heartbeat runs outside any read chunk). */
  flushAll(): void;
  /** A bug of the broker's own, counted. */
  internalError(err: unknown, what: string): void;
}

/** nats-server's `AccountStat` (the data of CONNS events and of account STATZ answers). */
export interface AccountStat {
  acc: string;
  conns: number;
  leafnodes: number;
  total_conns: number;
  num_subscriptions: number;
  sent: { msgs: number; bytes: number };
  received: { msgs: number; bytes: number };
  slow_consumers: number;
}

/** nats-server's `JetStreamEnabled` capability flag (`BinaryStreamSnapshot` is not claimed). */
const FLAG_JETSTREAM = 1;
const CONNECT_TYPE = 'io.nats.server.advisory.v1.client_connect';
const DISCONNECT_TYPE = 'io.nats.server.advisory.v1.client_disconnect';
/** nats-server's `AccountNumConnsMsgType`. */
export const ACCOUNT_CONNECTIONS_TYPE = 'io.nats.server.advisory.v1.account_connections';
/** nats-server's `AuthenticationViolation.String()`, the reason of the auth error events. */
const AUTH_FAILURE = 'Authentication Failure';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A 22-character base-62 id, the length and alphabet of nats-server's event ids (NUIDs). */
export function eventId(): string {
  const bytes = randomBytes(22);
  let s = '';
  for (let i = 0; i < 22; i++) s += BASE62[bytes[i]! % 62];
  return s;
}

export class SystemEvents {
  /** nats-server's `sys.seq`: one per system message sent. */
  private seq = 0;
  /** After SHUTDOWN (or a kill): nothing more is sent. */
  private stopped = false;
  /** Per account with clients, its CONNS heartbeat. */
  private readonly connsTimers = new Map<Account, NodeJS.Timeout>();
  /** Per other account, the internal client that publishes there (nats-server's `a.internalClient()`). */
  private readonly accountClients = new Map<Account, InternalClient>();

  constructor(
    private readonly host: SystemEventsHost,
    /** The system account. */
    readonly account: Account,
    /** The internal client that publishes in it. */
    readonly client: InternalClient,
  ) {}

  /** The `server` block of the next system message (its `seq` counts up). */
  serverBlock(): SystemServerBlock {
    const h = this.host;
    const { name, host } = h.serverNameAndHost();
    const js = h.jetStreamState();
    const block: SystemServerBlock = { name, host, id: h.serverId, ver: NATS_SERVER_VERSION, jetstream: js.enabled, flags: js.enabled ? FLAG_JETSTREAM : 0, seq: ++this.seq, time: rfc3339Nano(Date.now()) };
    // Key order as nats-server's struct: name, host, id, cluster, domain, ver, tags, jetstream, flags, seq, time.
    const tags = h.serverTags();
    if (h.clusterName === null && js.domain === '' && tags.length === 0) return block;
    const { ver, jetstream, flags, seq, time } = block;
    return {
      name, host, id: h.serverId,
      ...(h.clusterName !== null ? { cluster: h.clusterName } : {}),
      ...(js.domain !== '' ? { domain: js.domain } : {}),
      ver,
      ...(tags.length > 0 ? { tags: [...tags] } : {}),
      jetstream, flags, seq, time,
    };
  }

  /** True when some subscriber (here or on a peer server) would receive `subject` in the system account. */
  hasInterest(subject: string): boolean {
    const r = this.account.sublist.match(subject);
    return r.psubs.length > 0 || r.qsubs.length > 0;
  }

  /** False once the server shut down or was killed. */
  get running(): boolean {
    return !this.stopped && !this.client.closed;
  }

  /** nats-server's accountConnectEvent. */
  clientConnected(c: Client): void {
    const acc = c.account.name;
    if (acc === '$G' || !this.running) return;
    const subject = `$SYS.ACCOUNT.${acc}.CONNECT`;
    if (!this.hasInterest(subject)) return;
    const now = Date.now();
    this.publish(subject, {
      type: CONNECT_TYPE,
      id: eventId(),
      timestamp: rfc3339Nano(now),
      server: this.serverBlock(),
      client: clientBlock(c, null),
    });
  }

  /** nats-server's accountDisconnectEvent (the client's `sent` is what it published). */
  clientClosed(c: Client, reason: string): void {
    const acc = c.account.name;
    if (acc === '$G' || !this.running) return;
    const subject = `$SYS.ACCOUNT.${acc}.DISCONNECT`;
    if (!this.hasInterest(subject)) return;
    const now = Date.now();
    this.publish(subject, {
      type: DISCONNECT_TYPE,
      id: eventId(),
      timestamp: rfc3339Nano(now),
      server: this.serverBlock(),
      client: clientBlock(c, now),
      sent: { msgs: c.inMsgs, bytes: c.inBytes },
      received: { msgs: c.outMsgs, bytes: c.outBytes },
      reason,
    });
  }

  /**
   * nats-server's accConnsUpdate: the account's connection count changed (a client was
   * authorized in it, or left). Never for `$G`. Also (re)starts or stops its heartbeat.
   */
  accountConnsChanged(acc: Account): void {
    if (acc.name === '$G' || !this.running) return;
    this.sendAccountConns(acc);
  }

  private sendAccountConns(acc: Account): void {
    const stat = this.accountStat(acc);
    const timer = this.connsTimers.get(acc);
    if (stat.total_conns === 0) {
      if (timer !== undefined) clearTimeout(timer);
      this.connsTimers.delete(acc);
    } else if (timer !== undefined) {
      timer.refresh();
    } else {
      const t = setTimeout(() => {
        this.connsTimers.delete(acc);
        if (!this.running) return;
        try {
          this.sendAccountConns(acc);
        } catch (err) {
          this.host.internalError(err, `CONNS heartbeat of account ${acc.name}; it stops`);
        }
        this.host.flushAll();
      }, ACCOUNT_CONNS_HEARTBEAT_MS);
      t.unref();
      this.connsTimers.set(acc, t);
    }
    for (const subject of [`$SYS.SERVER.ACCOUNT.${acc.name}.CONNS`, `$SYS.ACCOUNT.${acc.name}.SERVER.CONNS`]) {
      if (!this.hasInterest(subject)) continue;
      this.publish(subject, { type: ACCOUNT_CONNECTIONS_TYPE, id: eventId(), timestamp: rfc3339Nano(Date.now()), server: this.serverBlock(), ...stat });
    }
  }

  /**
   * nats-server's `AccountStat` of `acc`. Message counts are those of the account's open
   * connections (nats-server also keeps those of closed ones).
   */
  accountStat(acc: Account): AccountStat {
    let conns = 0;
    let sentMsgs = 0, sentBytes = 0, recvMsgs = 0, recvBytes = 0;
    for (const c of this.host.clients.values()) {
      if (c.account !== acc || !c.connectReceived || c.closed) continue;
      conns++;
      sentMsgs += c.outMsgs;
      sentBytes += c.outBytes;
      recvMsgs += c.inMsgs;
      recvBytes += c.inBytes;
    }
    return {
      acc: acc.name,
      conns,
      leafnodes: 0,
      total_conns: conns,
      num_subscriptions: acc.sublist.size,
      sent: { msgs: sentMsgs, bytes: sentBytes },
      received: { msgs: recvMsgs, bytes: recvBytes },
      slow_consumers: 0,
    };
  }

  /**
   * nats-server's sendAuthErrorEvent: a connection closed for an authentication failure. The
   * body is a disconnect event (`DisconnectEventMsg`) with the reason `Authentication Failure`.
   */
  authError(c: Client): void {
    if (!this.running) return;
    const subject = `$SYS.SERVER.${this.host.serverId}.CLIENT.AUTH.ERR`;
    if (!this.hasInterest(subject)) return;
    this.publish(subject, this.authErrorBody(c, c.account.name));
  }

  /**
   * nats-server 2.10's sendAccountAuthErrorEvent: a CONNECT that failed authentication, on
   * `$SYS.ACCOUNT.CLIENT.AUTH.ERR` in the account the client is in (`$G` until authorized), or
   * `acc` (a JWT account whose connection limit refused the client).
   */
  accountAuthError(c: Client, acc: Account = c.account): void {
    if (!this.running) return;
    const subject = '$SYS.ACCOUNT.CLIENT.AUTH.ERR';
    const r = acc.sublist.match(subject);
    if (r.psubs.length === 0 && r.qsubs.length === 0) return;
    this.accountClient(acc).publish(subject, goJson(this.authErrorBody(c, acc.name), false));
  }

  private authErrorBody(c: Client, acc: string): object {
    const now = Date.now();
    return {
      type: DISCONNECT_TYPE,
      id: eventId(),
      timestamp: rfc3339Nano(now),
      server: this.serverBlock(),
      client: { ...clientBlock(c, now), acc },
      sent: { msgs: c.inMsgs, bytes: c.inBytes },
      received: { msgs: c.outMsgs, bytes: c.outBytes },
      reason: AUTH_FAILURE,
    };
  }

  /** nats-server's sendLDMShutdownEventLocked: lame duck mode begins. */
  lameDuck(): void {
    if (!this.running) return;
    const subject = `$SYS.SERVER.${this.host.serverId}.LAMEDUCK`;
    if (this.hasInterest(subject)) this.publish(subject, this.serverBlock());
  }

  /**
   * nats-server's sendShutdownEvent (a graceful shutdown): the last system message; the
   * events stop here (heartbeats too).
   */
  shutdown(): void {
    if (!this.running) return;
    const subject = `$SYS.SERVER.${this.host.serverId}.SHUTDOWN`;
    if (this.hasInterest(subject)) this.publish(subject, this.serverBlock());
    this.halt();
  }

  /** Stops every event without a word (a kill: a crash sends nothing). */
  halt(): void {
    this.stopped = true;
    for (const t of this.connsTimers.values()) clearTimeout(t);
    this.connsTimers.clear();
  }

  /**
   * The internal client that publishes in `acc` (the system account's own for it): the
   * answers to the system requests every account imports, the account auth error event.
   */
  accountClient(acc: Account): InternalClient {
    if (acc === this.account) return this.client;
    let c = this.accountClients.get(acc);
    if (c === undefined || c.closed) {
      c = this.host.internalClient('$SYS import', acc);
      this.accountClients.set(acc, c);
    }
    return c;
  }

  /** Told when an account is forgotten (the system services drop what they forward for it). */
  onForgetAccount: ((acc: Account) => void) | null = null;

  /** `acc` was deleted (a reload or a CLAIMS.DELETE): its client and heartbeat go. */
  forgetAccount(acc: Account): void {
    this.onForgetAccount?.(acc);
    const t = this.connsTimers.get(acc);
    if (t !== undefined) clearTimeout(t);
    this.connsTimers.delete(acc);
    this.accountClients.get(acc)?.close();
    this.accountClients.delete(acc);
  }

  /** Accounts with state kept here (tests check that deleted ones are dropped). */
  accountsTracked(): Account[] {
    return [...new Set([...this.connsTimers.keys(), ...this.accountClients.keys()])];
  }

  /** Publishes `body` as JSON (Go's encoding: HTML-safe escapes) in the system account. */
  publish(subject: string, body: object): void {
    this.client.publish(subject, goJson(body, false));
  }

  close(): void {
    this.halt();
    this.client.close();
    for (const c of this.accountClients.values()) c.close();
    this.accountClients.clear();
  }
}

/** nats-server's `ClientInfo` of a client connection; `stop` for a disconnect (with its RTT). */
export function clientBlock(c: Client, stop: number | null): Record<string, unknown> {
  const user = c.authUser;
  const jwt = c.userJwt;
  const conn = c.connect;
  return {
    start: rfc3339Nano(c.start),
    host: c.snapshot(false).ip || undefined,
    id: c.cid,
    acc: c.account.name,
    user: user || undefined,
    name: conn.name || undefined,
    lang: conn.lang || undefined,
    ver: conn.version || undefined,
    rtt: stop !== null && c.rttNs > 0 ? c.rttNs : undefined,
    stop: stop === null ? undefined : rfc3339Nano(stop),
    jwt: jwt || undefined,
    kind: 'Client',
    client_type: c.websocket ? 'websocket' : 'nats',
  };
}
