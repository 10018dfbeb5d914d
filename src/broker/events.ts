/**
 * The system account's events, as nats-server 2.10's events.go sends them: a client's
 * `$SYS.ACCOUNT.<account>.CONNECT` once it is authorized and `$SYS.ACCOUNT.<account>.DISCONNECT`
 * when it closes (never for the global account `$G`), published in the system account only.
 *
 * They cost nothing when nobody listens: the subject's interest in the system account (local
 * subscribers or a peer server's) is looked up before any JSON is built. The `server` block every
 * system message carries ({@link SystemEvents.serverBlock}) is also used by the request services
 * (monitor/system.ts).
 */
import { randomBytes } from 'node:crypto';
import { NATS_SERVER_VERSION } from '../protocol/constants.js';
import { goJson, rfc3339Nano } from '../protocol/go-format.js';
import type { Account } from './account.js';
import type { Client } from './client.js';
import type { InternalClient } from './internal.js';

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
}

/** nats-server's `JetStreamEnabled` capability flag (`BinaryStreamSnapshot` is not claimed). */
const FLAG_JETSTREAM = 1;
const CONNECT_TYPE = 'io.nats.server.advisory.v1.client_connect';
const DISCONNECT_TYPE = 'io.nats.server.advisory.v1.client_disconnect';
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

  /** nats-server's accountConnectEvent. */
  clientConnected(c: Client): void {
    const acc = c.account.name;
    if (acc === '$G' || this.client.closed) return;
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
    if (acc === '$G' || this.client.closed) return;
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

  /** Publishes `body` as JSON (Go's encoding: HTML-safe escapes) in the system account. */
  publish(subject: string, body: object): void {
    this.client.publish(subject, goJson(body, false));
  }

  close(): void {
    this.client.close();
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
