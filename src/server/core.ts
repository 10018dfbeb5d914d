/**
 * The broker core: client registry, subscriptions and message routing. It owns no listener;
 * `NatsServer` (server.ts) accepts sockets and hands them to `accept()`.
 */
import type { Socket } from 'node:net';
import { Sublist } from '../subject/sublist.js';
import type { PubArg } from '../protocol/parser.js';
import { ERR, NATS_SERVER_VERSION, PROTO_VERSION, SYS_QUEUE, OK, errSubViolation } from '../protocol/constants.js';
import { Client, CloseReason, Subscription } from './client.js';
import type { ResolvedOptions } from './options.js';
import { newServerId, newXKey } from './ids.js';

/** The INFO fields a client sees (one connection's view: `client_id`/`client_ip` vary). */
export interface ServerInfo {
  readonly server_id: string;
  readonly server_name: string;
  readonly version: string;
  readonly proto: number;
  readonly go: string;
  readonly host: string;
  readonly port: number;
  readonly headers: boolean;
  readonly max_payload: number;
  readonly client_id?: number;
  readonly client_ip?: string;
  /** Only in the async INFO sent when the server enters lame duck mode. */
  readonly ldm?: boolean;
  readonly xkey: string;
}

/** Server-wide counters. */
export interface CoreStats {
  inMsgs: number;
  inBytes: number;
  outMsgs: number;
  outBytes: number;
  slowConsumers: number;
  totalConnections: number;
}

const NO_RESPONDERS_HDR = Buffer.from('NATS/1.0 503\r\n\r\n');

export class BrokerCore {
  readonly sublist = new Sublist<Subscription>();
  readonly clients = new Map<number, Client>();
  readonly serverId = newServerId();
  readonly xkey = newXKey();
  readonly stats: CoreStats = {
    inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, slowConsumers: 0, totalConnections: 0,
  };
  /** Set by the server once it listens. */
  port = 0;

  private nextCid = 1;
  private readonly pending: Client[] = [];
  private inRead = false;
  private flushScheduled = false;
  private readonly flushAllBound = (): void => this.flushAll();
  /** Called when a client is closed as a slow consumer (set by NatsServer). */
  onSlowConsumer: ((client: Client, reason: CloseReason, pendingBytes: number) => void) | null = null;

  constructor(readonly options: ResolvedOptions) {}

  /** The INFO a client sees; without `client` the fields common to every connection. */
  info(client?: { cid: number; ip: string }, ldm = false): ServerInfo {
    const o = this.options;
    return {
      server_id: this.serverId,
      server_name: o.serverName ?? this.serverId,
      version: NATS_SERVER_VERSION,
      proto: PROTO_VERSION,
      go: `node${process.versions.node}`,
      host: o.host,
      port: this.port,
      headers: !o.noHeaderSupport,
      max_payload: o.maxPayload,
      ...(client === undefined ? {} : { client_id: client.cid, client_ip: client.ip }),
      ...(ldm ? { ldm: true } : {}),
      xkey: this.xkey,
    };
  }

  /** Takes over an accepted socket: sends INFO, enforces max_connections, wires events. */
  accept(socket: Socket): Client {
    const cid = this.nextCid++;
    socket.setNoDelay(true);
    const client = new Client(this, cid, socket);
    client.sendProto(this.infoFrame(client));
    socket.on('data', (chunk: Buffer) => this.onData(client, chunk));
    socket.on('drain', client.onDrain);
    socket.on('error', () => client.close(CloseReason.ReadError, false));
    socket.on('end', () => client.close(CloseReason.ClientClosed));
    socket.on('close', () => client.close(CloseReason.ClientClosed, false));
    if (this.clients.size >= this.options.maxConnections) {
      // nats-server sends INFO first, then the error, then closes.
      client.sendErrAndClose(ERR.MaxConnections, CloseReason.MaxConnections);
    } else {
      this.clients.set(cid, client);
      this.stats.totalConnections++;
    }
    this.flushAll();
    return client;
  }

  /** `INFO {...} \r\n` as `client` sees it (note the space before CRLF, as nats-server). */
  infoFrame(client: Client, ldm = false): Buffer {
    const json = JSON.stringify(this.info({ cid: client.cid, ip: client.socket.remoteAddress ?? '' }, ldm));
    return Buffer.from(`INFO ${json} \r\n`, 'utf8');
  }

  /** Lame duck: tells every client that accepts async INFO (protocol 1, past its first PING). */
  sendLameDuckInfo(): void {
    for (const client of this.clients.values()) {
      if (client.acceptsAsyncInfo) client.sendProto(this.infoFrame(client, true));
    }
    this.flushAll();
  }

  private onData(client: Client, chunk: Buffer): void {
    this.inRead = true;
    try {
      client.onData(chunk);
    } catch (err) {
      // A bug must cost one connection, never the process or other clients.
      process.emitWarning(`nats-embedded: closing client ${client.cid} after an internal error: ${String(err)}`);
      client.close(CloseReason.ProtocolViolation, false);
    } finally {
      this.inRead = false;
    }
    this.flushAll();
  }

  // ---- Subscriptions ------------------------------------------------------------------------

  subscribe(client: Client, subject: string, queue: string | null, sid: string): void {
    if (queue === SYS_QUEUE) return client.sendErr(errSubViolation(subject, queue));
    const max = this.options.maxSubscriptions;
    if (max > 0 && client.subs.size >= max) return client.sendErr(ERR.MaxSubscriptions);
    if (!client.subs.has(sid)) {
      const sub = new Subscription(client, subject, queue, sid);
      if (!this.sublist.insert(sub)) return client.sendErr(ERR.InvalidSubject);
      client.subs.set(sid, sub);
    }
    // A SUB reusing a live sid is ignored, but still acknowledged.
    if (client.verbose) client.sendProto(OK);
  }

  unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    const subs = sub.client.subs;
    if (subs.get(sub.sid) === sub) subs.delete(sub.sid);
    this.sublist.remove(sub);
  }

  // ---- Routing ------------------------------------------------------------------------------

  /** Delivers a published message to every matching subscription. */
  routeMessage(pub: Client, pa: PubArg, buf: Buffer, start: number, end: number): void {
    this.stats.inMsgs++;
    this.stats.inBytes += end - start;
    const r = this.sublist.match(pa.subject);
    let delivered = false;
    const psubs = r.psubs;
    for (let i = 0; i < psubs.length; i++) {
      if (this.deliverTo(pub, psubs[i], pa, buf, start, end)) delivered = true;
    }
    const qsubs = r.qsubs;
    for (let g = 0; g < qsubs.length; g++) {
      const members = qsubs[g];
      const n = members.length;
      // Start at a random member, then walk on until one can take the message.
      const first = n > 1 ? Math.floor(Math.random() * n) : 0;
      for (let k = 0; k < n; k++) {
        if (this.deliverTo(pub, members[(first + k) % n], pa, buf, start, end)) {
          delivered = true;
          break;
        }
      }
    }
    if (!delivered && pa.reply.length > 0 && pub.noResponders) this.sendNoResponders(pub, pa.reply);
  }

  private deliverTo(pub: Client, sub: Subscription, pa: PubArg, buf: Buffer, start: number, end: number): boolean {
    const client = sub.client;
    if ((client === pub && !pub.echo) || sub.closed || client.closed) return false;
    sub.nm++;
    if (sub.max > 0) {
      if (sub.nm > sub.max) {
        this.unsubscribe(sub);
        return false;
      }
      if (sub.nm === sub.max) {
        // The message that reaches the limit is delivered, then the subscription goes.
        const ok = client.deliver(sub, pa, buf, start, end);
        this.unsubscribe(sub);
        if (ok) this.countOut(end - start);
        return ok;
      }
    }
    if (!client.deliver(sub, pa, buf, start, end)) return false;
    this.countOut(end - start);
    return true;
  }

  private countOut(bytes: number): void {
    this.stats.outMsgs++;
    this.stats.outBytes += bytes;
  }

  /**
   * nats-server answers a request nobody received with a 503 status message, on the
   * publisher's own subscription that matches the reply subject; without one, nothing.
   */
  private sendNoResponders(pub: Client, reply: string): void {
    const psubs = this.sublist.match(reply).psubs;
    for (let i = 0; i < psubs.length; i++) {
      const sub = psubs[i];
      if (sub.client !== pub) continue;
      pub.sendProto(Buffer.from(`HMSG ${reply} ${sub.sid} 16 16\r\n${NO_RESPONDERS_HDR.toString('latin1')}\r\n`, 'latin1'));
      return;
    }
  }

  // ---- Flushing -----------------------------------------------------------------------------

  /** Remembers that `client` has queued output; it is written once per read chunk. */
  markForFlush(client: Client): void {
    if (client.flushQueued) return;
    client.flushQueued = true;
    this.pending.push(client);
    if (!this.inRead && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushAllBound);
    }
  }

  /** Writes out every client with queued output. */
  flushAll(): void {
    this.flushScheduled = false;
    const pending = this.pending;
    for (let i = 0; i < pending.length; i++) pending[i].flush();
    pending.length = 0;
  }

  // ---- Connection end -----------------------------------------------------------------------

  /** Drops `client` without flushing (nats-server sends no -ERR to a slow consumer). */
  slowConsumer(client: Client, reason: CloseReason): void {
    if (client.closed) return;
    const pendingBytes = client.out.queued + client.socket.writableLength;
    this.stats.slowConsumers++;
    client.close(reason, false);
    this.onSlowConsumer?.(client, reason, pendingBytes);
  }

  /** Called by `Client.close()`: drops the client's subscriptions and registration. */
  removeClient(client: Client): void {
    for (const sub of client.subs.values()) {
      sub.closed = true;
      this.sublist.remove(sub);
    }
    client.subs.clear();
    this.clients.delete(client.cid);
  }
}
