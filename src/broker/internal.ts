/**
 * Internal clients: subscribers and publishers that live inside this process and have no
 * socket — what nats-server calls internal clients (kinds SYSTEM, JETSTREAM, ACCOUNT) with
 * their `icb` callbacks: JetStream's API handlers, system request handlers, advisories.
 *
 * A subscription's handler is called synchronously while the broker routes the message, with
 * views of the publisher's bytes: it must copy what it keeps. What an internal client publishes
 * is queued and routed once the routing in progress is over, so a handler may publish (a
 * reply, an advisory) without re-entering the router.
 */
import type { PubArg } from '../protocol/parser.js';
import type { Account, Subscriber, Subscription } from './account.js';

/** A message delivered to an internal subscription. The buffers are views: copy to keep them. */
export interface InternalMessage {
  readonly subject: string;
  /** The reply subject, or '' when there is none. */
  readonly reply: string;
  /** The raw header block (`NATS/1.0\r\n...`), or null without headers. */
  readonly headers: Buffer | null;
  readonly data: Buffer;
}

/**
 * Handles the messages of one internal subscription. Returning `false` says the message was
 * not for it (a catch-all passing on a subject it does not serve): it then does not count as
 * delivered, so a requester with no other responder gets the no-responders status.
 */
export type InternalHandler = (msg: InternalMessage, sub: Subscription) => void | boolean;

/** What an internal client needs of the broker. */
export interface InternalHost {
  subscribeInternal(client: InternalClient, subject: string, queue: string | null, sid: string): Subscription;
  unsubscribe(sub: Subscription): void;
  /** Queues a message for routing (after the routing in progress, if any). */
  publishInternal(client: InternalClient, subject: string, reply: string, headers: Buffer | null, data: Buffer, deliver?: string, once?: boolean): void;
  /** A handler threw: a bug of the broker's own (counted, never fatal to the publisher). */
  internalError(err: unknown, what: string): void;
  removeInternal(client: InternalClient): void;
}

/** The options of a publication without any (not a new object per call). */
const NO_OPTIONS: { reply?: string; headers?: Buffer | null } = Object.freeze({});

export class InternalClient implements Subscriber {
  /** Never stalled for a backed-up peer connection (nats-server stalls kind CLIENT only). */
  readonly stallable = false;
  readonly subs = new Map<string, Subscription>();
  readonly perms = null;
  /** Internal clients publish without wanting their own messages back. */
  readonly echo = false;
  /** No no-responders status for an internal publisher's requests. */
  readonly noResponders = false;
  closed = false;
  private nextSid = 1;
  private readonly handlers = new Map<string, InternalHandler>();

  constructor(
    private readonly host: InternalHost,
    readonly cid: number,
    readonly account: Account,
    /** For logs and errors, e.g. `$JS API`. */
    readonly name: string,
  ) {}

  /** Subscribes `handler` to `subject` (wildcards allowed), in a queue group when `queue` is given. */
  subscribe(subject: string, handler: InternalHandler, queue: string | null = null): Subscription {
    const sid = String(this.nextSid++);
    this.handlers.set(sid, handler);
    return this.host.subscribeInternal(this, subject, queue, sid);
  }

  unsubscribe(sub: Subscription): void {
    this.handlers.delete(sub.sid);
    this.host.unsubscribe(sub);
  }

  /** Publishes a message; it is routed after the routing in progress, if any. */
  publish(subject: string, data: Buffer | string, options: { reply?: string; headers?: Buffer | null; deliver?: string } = NO_OPTIONS): void {
    if (this.closed) return;
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.host.publishInternal(this, subject, options.reply ?? '', options.headers ?? null, payload, options.deliver);
  }

  /**
   * Publishes the answer to a request on its reply subject (a PubAck, an API response): a
   * subject used once, whose match result is not cached.
   */
  reply(subject: string, data: Buffer | string, headers: Buffer | null = null): void {
    if (this.closed) return;
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.host.publishInternal(this, subject, '', headers, payload, '', true);
  }

  deliver(sub: Subscription, pa: PubArg, buf: Buffer, start: number): boolean {
    const handler = this.handlers.get(sub.sid);
    if (handler === undefined || this.closed) return false;
    const hdr = pa.hdr > 0 ? pa.hdr : 0;
    const msg: InternalMessage = {
      subject: pa.subject,
      reply: pa.reply,
      headers: hdr > 0 ? buf.subarray(start, start + hdr) : null,
      data: buf.subarray(start + hdr, start + pa.size),
    };
    try {
      return handler(msg, sub) !== false;
    } catch (err) {
      this.host.internalError(err, `handler of internal client "${this.name}" on ${sub.subject}; other subscribers still got the message`);
      return true;
    }
  }

  allowReply(): void {
    // Internal clients have no permissions to widen.
  }

  /** Drops every subscription; the client publishes nothing more. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    this.host.removeInternal(this);
  }
}
