/**
 * One JetStream consumer, live: nats-server 2.10.29's `consumer` (server/consumer.go). Pull
 * mode here — the waiting-request queue (`processNextMsgRequest`, `processWaiting`,
 * `getNextMsg`), delivery of stored messages to a request's reply subject with the ack reply
 * subject, the status replies (`404 No Messages`, `408 Request Timeout`, `409 Exceeded
 * MaxWaiting`, `409 Message Size Exceeds MaxBytes`, `100 Idle Heartbeat`), the ack subject
 * (`$JS.ACK.<stream>.<consumer>.>`) and ack-wait redelivery. The bookkeeping itself is
 * {@link ConsumerState}'s (consumer-state.ts); this file owns the subscriptions and timers. Push
 * mode (a deliver subject) delivers through {@link PushDelivery} (push.ts), which has timers of
 * its own; the consumer store (consumer-store.ts) one more.
 *
 * Timers here: at most three per consumer, all unref()ed — the ack-wait timer armed at
 * {@link ConsumerState.deadline}, one for the earliest request expiry or heartbeat, and the
 * inactivity timer of `inactive_threshold`. {@link Consumer.close} releases all of them.
 *
 * On a file stream the engine keeps the consumer's config and {@link ConsumerState} on disk
 * (consumer-store.ts) and recovers it after a restart ({@link Consumer.resume}).
 */
import type { Subscription } from '../broker/account.js';
import type { InternalClient, InternalMessage } from '../broker/internal.js';
import { goDuration } from '../protocol/go-format.js';
import { decodeGoValue, type GoStructSchema } from '../protocol/go-json.js';
import { subjectFilters } from './consumer-config-check.js';
import type { ConsumerConfig } from './consumer-config.js';
import { AckResult, ConsumerState, lastPerSubjectStart, newAckInfo, parseAckReply, sourceFromStore } from './consumer-state.js';
import { headersOnlyBlock, idleHeartbeat } from './headers.js';
import { deliveryAdvisory } from './consumer-events.js';
import type { StoredMessage, StreamStore } from './store/store.js';
import type { StreamConfig } from './stream-config.js';
import { PushDelivery, type PushOwner } from './push.js';
import { timerDelay } from '../io/timers.js';

/** What a consumer needs of its account. */
export interface ConsumerHost {
  /** Someone in the account subscribes to `subject` (a pull request's reply is still wanted). */
  hasInterest(subject: string): boolean;
  /** Another cluster has interest in `subject` (through the gateways). */
  gatewayInterest(subject: string): boolean;
  /** `inactive_threshold` passed without activity: delete the consumer. */
  inactive(c: Consumer): void;
  /** Publishes through the account's service client (outlives this consumer's). */
  reply(subject: string, data: Buffer, headers: Buffer | null): void;
  internalError(err: unknown, what: string): void;
  /** The consumer acked `seq` (or delivered it, ack none) on an interest or work queue stream. */
  streamAck(c: Consumer, seq: number): void;
  /**
   * An advisory on `subject`: published only when someone in the account listens (nats-server's
   * `sendAdvisory` interest check), so `body` is not even built otherwise.
   */
  advise(subject: string, body: (domain: string | null) => string): void;
}

/** A pull request on the waiting queue (nats-server's `waitingRequest`). */
interface WaitingRequest {
  reply: string;
  /** Messages still wanted. */
  n: number;
  /** Messages delivered. */
  d: number;
  /** Bytes still allowed (0: no limit). */
  b: number;
  noWait: boolean;
  /** Expiry time in ms (0: none). */
  expires: number;
  /** Heartbeat interval (ms, 0: none) and the next heartbeat's time. */
  hb: number;
  hbt: number;
}

/** JSApiConsumerGetNextRequest, as Go decodes it (durations in ns). */
interface NextRequest {
  expires: number;
  batch: number;
  max_bytes: number;
  no_wait: boolean;
  idle_heartbeat: number;
}
const NEXT_REQUEST: GoStructSchema = {
  kind: 'struct',
  fields: { expires: 'int64', batch: 'int64', max_bytes: 'int64', no_wait: 'bool', idle_heartbeat: 'int64' },
};

const EMPTY = Buffer.alloc(0);
const HDR_NO_MESSAGES = Buffer.from('NATS/1.0 404 No Messages\r\n\r\n');
const HDR_MAX_WAITING = Buffer.from('NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n');
const HDR_REQUESTS_PENDING = Buffer.from('NATS/1.0 408 Requests Pending\r\n\r\n');
const HDR_PUSH_BASED = Buffer.from('NATS/1.0 409 Consumer is push based\r\n\r\n');
const HDR_DELETED = Buffer.from('NATS/1.0 409 Consumer Deleted\r\n\r\n');
/** nats-server's checkPendingRequests when a clustered consumer loses its leadership. */
const HDR_LEADERSHIP_CHANGE = Buffer.from('NATS/1.0 409 Leadership Change\r\n\r\n');
const status = (line: string): Buffer => Buffer.from(`NATS/1.0 ${line}\r\n\r\n`);
const pendingStatus = (line: string, n: number, b: number): Buffer =>
  Buffer.from(`NATS/1.0 ${line}\r\nNats-Pending-Messages: ${n}\r\nNats-Pending-Bytes: ${b}\r\n\r\n`);

/** The first stream sequence a new consumer looks at (consumer.go selectStartingSeqNo). */
export function startingSeq(cfg: ConsumerConfig, store: StreamStore, lastPerSubject?: number): number {
  const st = store.state();
  const filters = subjectFilters(cfg);
  let seq: number;
  switch (cfg.deliver_policy) {
    case 'last': {
      if (filters.length === 0) seq = st.lastSeq;
      else {
        seq = 0;
        for (const f of filters) seq = Math.max(seq, store.filteredState(0, f).last);
      }
      if (seq === 0) seq = st.lastSeq + 1;
      break;
    }
    case 'new':
      seq = st.lastSeq + 1;
      break;
    case 'last_per_subject':
      // lastPerSubjectStart (consumer-state.ts) picks it, with the skip list.
      seq = lastPerSubject ?? st.firstSeq;
      break;
    case 'by_start_sequence':
      seq = cfg.opt_start_seq;
      break;
    case 'by_start_time': {
      const t = cfg.opt_start_time === undefined ? 0 : Date.parse(cfg.opt_start_time);
      seq = st.lastSeq + 1;
      for (let m = store.loadNext('', st.firstSeq); m !== null; m = store.loadNext('', m.seq + 1)) {
        if (m.ts >= t) {
          seq = m.seq;
          break;
        }
      }
      break;
    }
    default:
      seq = st.firstSeq;
  }
  return seq < st.firstSeq ? st.firstSeq : seq;
}

export class Consumer implements PushOwner {
  cfg: ConsumerConfig;
  readonly state: ConsumerState;
  /** Last delivery and last ack (ms; 0: none): `delivered.last_active`, `ack_floor.last_active`. */
  lastDelivered = 0;
  lastAcked = 0;
  private readonly waiting: WaitingRequest[] = [];
  private readonly subs: Subscription[] = [];
  private readonly ai = newAckInfo();
  private ackTimer: NodeJS.Timeout | null = null;
  private ackAt = 0;
  private reqTimer: NodeJS.Timeout | null = null;
  private reqAt = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private lastActivity = Date.now();
  private pumping = false;
  private closed = false;
  /** Test fault: deliveries held while true (`server.pauseConsumer`). */
  paused = false;
  /**
   * Clustered: where an ack's reply goes instead of out at once — held until the state holding
   * the ack is replicated, then sent with {@link sendAckReply}. Null on a single server.
   */
  deferAckReply: ((reply: string) => void) | null = null;

  /** Sends a held ack reply (clustered: the ack's state is replicated). */
  sendAckReply(reply: string): void {
    if (!this.closed) this.client.publish(reply, EMPTY);
  }

  /** Test fault: this many coming acks are dropped unread (`server.dropAcks`). */
  dropAcks = 0;
  /** Push mode (a deliver subject): its delivery loop (push.ts); null for a pull consumer. */
  readonly push: PushDelivery | null = null;

  constructor(
    readonly stream: string,
    readonly name: string,
    cfg: ConsumerConfig,
    readonly created: number,
    streamCfg: StreamConfig,
    private readonly store: StreamStore,
    private readonly client: InternalClient,
    private readonly host: ConsumerHost,
    apiPrefixes: readonly string[],
    /** The server's max_payload: a push consumer's rate-limit burst without a stream max_msg_size. */
    maxPayload = 1024 * 1024,
  ) {
    this.cfg = cfg;
    const lps =
      cfg.deliver_policy === 'last_per_subject'
        ? lastPerSubjectStart(sourceFromStore(store), subjectFilters(cfg), streamCfg.max_msgs_per_subject)
        : undefined;
    this.state = new ConsumerState(
      {
        stream,
        consumer: name,
        ackPolicy: cfg.ack_policy,
        ackWaitMs: cfg.ack_wait / 1e6,
        backoffMs: cfg.backoff?.map((ns) => ns / 1e6),
        maxDeliver: cfg.max_deliver,
        maxAckPending: cfg.max_ack_pending,
        filters: subjectFilters(cfg),
        startSeq: startingSeq(cfg, store, lps?.startSeq),
        retention: streamCfg.retention,
        lastPerSubject: lps !== undefined,
        skipList: lps?.skipList,
      },
      sourceFromStore(store),
      Date.now,
      {
        // Interest and work queue retention: the stream decides whether an acked message goes (interest.ts).
        onStreamAck: (seq) => host.streamAck(this, seq),
        onMaxDeliveries: (seq, dc) => host.advise(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${name}`,
          (d) => deliveryAdvisory('max_deliver', stream, name, 0, seq, dc, null, d)),
      },
    );
    for (const prefix of apiPrefixes) {
      this.subs.push(client.subscribe(`${prefix}.CONSUMER.MSG.NEXT.${stream}.${name}`, (msg) => this.nextRequest(msg.reply, msg.data)));
    }
    this.subs.push(client.subscribe(`$JS.ACK.${stream}.${name}.>`, (msg) => this.onAck(msg)));
    if (cfg.deliver_subject !== '') {
      const burst = streamCfg.max_msg_size > 0 ? streamCfg.max_msg_size : maxPayload;
      this.push = new PushDelivery(this, cfg, client, store.state().lastSeq, burst);
      // After the CONSUMER.CREATE reply, as nats-server starts its delivery loop.
      setImmediate(() => this.guard(() => this.pump()));
    } else this.armIdle();
  }

  /** After a recovered state was restored: arms the ack-wait timer for its pending messages. */
  resume(): void {
    this.armAck();
  }

  /**
   * `num_waiting`, as CONSUMER.INFO reports it: 2.10.29 infoWithSnapAndReply runs
   * processWaiting(false) first, so expired requests get their 408 and requests whose reply
   * subject lost its interest leave the queue before they are counted.
   */
  get numWaiting(): number {
    if (this.waiting.length > 0 && !this.closed) {
      this.expireRequests(Date.now());
      this.armRequests();
    }
    return this.waiting.length;
  }

  /**
   * Applies an accepted update (consumer.go updateConfig): the new config is recorded (headers
   * only, description, metadata, pull limits take effect from there), the delivery state takes
   * the new ack wait, backoff, max deliver, max ack pending and filters, the inactivity timer
   * restarts when its threshold changed, and delivery resumes (a larger max_ack_pending).
   */
  update(cfg: ConsumerConfig): void {
    const old = this.cfg;
    this.cfg = cfg;
    this.state.update({
      ackWaitMs: cfg.ack_wait / 1e6,
      backoffMs: cfg.backoff?.map((ns) => ns / 1e6),
      maxDeliver: cfg.max_deliver,
      maxAckPending: cfg.max_ack_pending,
      filters: subjectFilters(cfg),
    });
    if (this.push !== null && cfg.deliver_subject !== old.deliver_subject) {
      // updateDeliverSubjectLocked: "Force redeliver of all pending on change of delivery
      // subject" (forceExpirePending), then the interest of the new subject.
      this.state.expireAll();
      this.state.checkPending();
      this.push.retarget(cfg.deliver_subject);
    }
    if (cfg.inactive_threshold !== old.inactive_threshold && this.push !== null) {
      // A push consumer is deleted only after that long without interest (push.ts).
      this.push.setInactiveThreshold(cfg.inactive_threshold / 1e6);
    } else if (cfg.inactive_threshold !== old.inactive_threshold) {
      if (this.idleTimer !== null) clearTimeout(this.idleTimer);
      this.idleTimer = null;
      this.lastActivity = Date.now();
      this.armIdle();
    }
    this.pump();
  }

  /** A message was stored in the stream: num pending moves, waiting requests get it. */
  stored(seq: number, subject: string): void {
    this.state.messageStored(seq, subject);
    if (this.waiting.length > 0 || this.push !== null) this.pump();
  }

  /** A message left the stream (limits, delete, purge). */
  removed(seq: number, subject: string): void {
    const st = this.state;
    if (!st.messageRemoved(seq, subject)) return;
    // decStreamPending: a pending message that left the stream is terminated, with an advisory.
    const { stream, name } = this;
    const dseq = st.removedDseq;
    const dc = st.removedDc;
    this.host.advise(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${stream}.${name}`,
      (d) => deliveryAdvisory('terminated', stream, name, dseq, seq, dc, 'Unacknowledged message was deleted', d));
  }

  /**
   * Stops the subscriptions and timers. `deleted` (the consumer or its stream was deleted):
   * waiting requests get `409 Consumer Deleted` (releaseAnyPendingRequests); `leadershipChange`
   * (clustered: this server no longer leads the consumer): `409 Leadership Change`; on a server
   * stop they get nothing, as from nats-server.
   */
  close(deleted = false, leadershipChange = false): void {
    if (this.closed) return;
    this.closed = true;
    this.push?.close();
    if (deleted) for (const wr of this.waiting) this.host.reply(wr.reply, EMPTY, HDR_DELETED);
    else if (leadershipChange) for (const wr of this.waiting) this.host.reply(wr.reply, EMPTY, HDR_LEADERSHIP_CHANGE);
    for (const sub of this.subs) this.client.unsubscribe(sub);
    this.subs.length = 0;
    this.client.close();
    this.waiting.length = 0;
    for (const t of [this.ackTimer, this.reqTimer, this.idleTimer]) if (t !== null) clearTimeout(t);
    this.ackTimer = this.reqTimer = this.idleTimer = null;
  }

  /**
   * Test fault: every pending message's ack wait (or backoff) is over now, so it is redelivered
   * at once (redeliveries count toward `max_deliver` as a real expiry does).
   */
  expireAckWait(): void {
    if (this.closed) return;
    this.state.expireAll();
    this.state.checkPending();
    this.pump();
  }

  /** Test fault: holds (true) or resumes (false) deliveries; waiting requests still expire. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.pump();
  }

  // ---- Pull requests ------------------------------------------------------------------------

  /** processNextMsgRequest: `body` is empty (batch 1), a number, or a JSON request. */
  private nextRequest(reply: string, body: Buffer): void {
    if (this.closed || reply === '') return;
    if (this.push !== null) return this.sendStatus(reply, HDR_PUSH_BASED);
    this.lastActivity = Date.now();
    const text = body.toString('utf8').trim();
    let batch = 1;
    let expiresNs = 0;
    let maxBytes = 0;
    let noWait = false;
    let hbNs = 0;
    if (text.startsWith('{')) {
      const r = decodeGoValue(text, NEXT_REQUEST);
      if (r === null) return this.sendStatus(reply, status('400 Bad Request - invalid JSON'));
      const req = r.value as NextRequest;
      if (req.idle_heartbeat > 0 && req.idle_heartbeat * 2 > req.expires) {
        return this.sendStatus(reply, status('400 Bad Request - heartbeat value too large'));
      }
      batch = req.batch;
      expiresNs = req.expires;
      maxBytes = req.max_bytes;
      noWait = req.no_wait;
      hbNs = req.idle_heartbeat;
    } else if (/^[+-]?\d+$/.test(text)) {
      batch = Number(text);
    }
    const cfg = this.cfg;
    if (cfg.max_batch > 0 && batch > cfg.max_batch) return this.sendStatus(reply, status(`409 Exceeded MaxRequestBatch of ${cfg.max_batch}`));
    if (expiresNs > 0 && cfg.max_expires > 0 && expiresNs > cfg.max_expires) {
      return this.sendStatus(reply, status(`409 Exceeded MaxRequestExpires of ${goDuration(cfg.max_expires)}`));
    }
    if (maxBytes > 0 && cfg.max_bytes > 0 && maxBytes > cfg.max_bytes) return this.sendStatus(reply, status(`409 Exceeded MaxRequestMaxBytes of ${cfg.max_bytes}`));
    const now = Date.now();
    if (this.waiting.length >= cfg.max_waiting) this.expireRequests(now);
    if (noWait) {
      const msgsPending = this.state.numPending() + this.state.redeliveryLength;
      if (msgsPending === 0 && expiresNs === 0) return this.sendStatus(reply, HDR_NO_MESSAGES);
      if (msgsPending > 0) {
        // 2.10.29: more messages asked for by the requests already waiting than there are.
        this.expireRequests(now);
        let batchPending = 0;
        for (const wr of this.waiting) batchPending += wr.n;
        if (msgsPending < batchPending) return this.sendStatus(reply, HDR_REQUESTS_PENDING);
      }
    }
    // nats-server's waitQueue.add refuses a full queue (and a request for no messages is useless:
    // such a batch is taken as 1 here).
    if (this.waiting.length >= cfg.max_waiting) return this.sendStatus(reply, HDR_MAX_WAITING);
    const hb = hbNs / 1e6;
    this.waiting.push({
      reply, n: batch > 0 ? batch : 1, d: 0, b: maxBytes > 0 ? maxBytes : 0, noWait,
      // A negative expires is already past (time.Now().Add): the request ends 408 at once.
      expires: expiresNs !== 0 ? now + expiresNs / 1e6 : 0, hb, hbt: hb > 0 ? now + hb : 0,
    });
    this.pump();
  }

  private sendStatus(reply: string, hdr: Buffer): void {
    this.client.reply(reply, EMPTY, hdr);
  }

  /** processWaiting's expiry: 408 to expired requests, drops those without interest. */
  private expireRequests(now: number): void {
    const w = this.waiting;
    let j = 0;
    for (let i = 0; i < w.length; i++) {
      const wr = w[i]!;
      if (wr.expires !== 0 && now >= wr.expires) {
        this.sendStatus(wr.reply, pendingStatus('408 Request Timeout', wr.n, wr.b));
        continue;
      }
      if (!this.host.hasInterest(wr.reply)) continue;
      if (wr.hbt !== 0 && now >= wr.hbt) {
        this.sendStatus(wr.reply, idleHeartbeat(this.state.deliveredConsumerSeq, this.state.deliveredStreamSeq));
        wr.hbt = now + wr.hb;
      }
      w[j++] = wr;
    }
    w.length = j;
  }

  /** Delivers what there is to the waiting requests, oldest first (getNextMsg + deliverMsg). */
  private pump(): void {
    if (this.push !== null) {
      if (!this.paused) this.push.pump();
      this.armAck();
      return;
    }
    if (this.closed || this.pumping) return;
    this.pumping = true;
    try {
      const now = Date.now();
      this.expireRequests(now);
      const w = this.waiting;
      const st = this.state;
      while (w.length > 0 && !this.paused) {
        const sm = st.take();
        if (sm === null) break;
        const ackReply = st.ackReply(sm);
        const ho = this.cfg.headers_only ? headersOnlyBlock(sm.hdr, sm.data.length) : null;
        // consumer.go: the subject, the ack reply, the headers and the payload count (after the
        // headers-only conversion).
        const size = sm.subject.length + ackReply.length + (ho !== null ? ho.length : (sm.hdr?.length ?? 0) + sm.data.length);
        const wr = this.nextWaiting(size);
        if (wr === null) {
          // Every waiting request was too small for it: the message waits for the next one.
          st.putBack(sm);
          break;
        }
        st.commit(sm);
        this.deliver(wr.reply, sm, ackReply, ho);
        this.lastDelivered = now;
        wr.d++;
        if (--wr.n <= 0) {
          w.shift();
          // 2.10 (consumer.go deliverMsg path): a max_bytes request whose batch is complete with
          // bytes left is told so (2.9 sends nothing).
          if (wr.b > 0) this.sendStatus(wr.reply, pendingStatus('409 Batch Completed', 0, wr.b));
        } else if (wr.hb > 0) wr.hbt = now + wr.hb;
      }
      // processWaiting at the end of the stream: a no_wait request that got messages is done.
      if (w.length > 0) {
        let j = 0;
        for (let i = 0; i < w.length; i++) {
          const wr = w[i]!;
          if (wr.noWait && wr.d > 0) this.sendStatus(wr.reply, pendingStatus('408 Request Timeout', wr.n, wr.b));
          // A paused consumer (test fault) has nothing for a no_wait request right now.
          else if (wr.noWait && this.paused) this.sendStatus(wr.reply, HDR_NO_MESSAGES);
          else w[j++] = wr;
        }
        w.length = j;
      }
    } finally {
      this.pumping = false;
    }
    this.armAck();
    this.armRequests();
  }

  /**
   * nextWaiting: the oldest waiting request that takes a message of `size` bytes; those whose
   * max_bytes it exceeds get `409 Message Size Exceeds MaxBytes` and leave the queue (the
   * message is offered to the next). A request whose bytes run out with this message gets it
   * as its last.
   */
  private nextWaiting(size: number): WaitingRequest | null {
    const w = this.waiting;
    while (w.length > 0) {
      const wr = w[0]!;
      if (wr.b <= 0) return wr;
      if (size <= wr.b) {
        wr.b -= size;
        if (wr.b === 0) wr.n = 1;
        return wr;
      }
      this.sendStatus(wr.reply, pendingStatus('409 Message Size Exceeds MaxBytes', wr.n, wr.b));
      w.shift();
    }
    return null;
  }

  // ---- PushOwner ----------------------------------------------------------------------------

  get headersOnly(): boolean {
    return this.cfg.headers_only;
  }

  deliverTo(subject: string, sm: StoredMessage, ackReply: string, ho: Buffer | null): void {
    this.deliver(subject, sm, ackReply, ho);
  }

  afterDelivery(now: number): void {
    this.lastDelivered = now;
    this.armAck();
  }

  pushInactive(): void {
    this.host.inactive(this);
  }

  private deliver(reply: string, sm: StoredMessage, ackReply: string, headersOnly: Buffer | null = null): void {
    // Delivered to the request's reply subject with the stored subject (nats-server's pa.deliver).
    if (headersOnly !== null) {
      this.client.publish(sm.subject, EMPTY, { reply: ackReply, headers: headersOnly, deliver: reply });
      return;
    }
    this.client.publish(sm.subject, sm.data, { reply: ackReply, headers: sm.hdr !== null && sm.hdr.length > 0 ? sm.hdr : null, deliver: reply });
  }

  // ---- Acks ---------------------------------------------------------------------------------

  private onAck(msg: InternalMessage): void {
    if (this.closed) return;
    if (this.dropAcks > 0) {
      this.dropAcks--;
      return;
    }
    const ai = this.ai;
    const parsed = parseAckReply(msg.subject, ai);
    const flags = this.state.processAck(parsed ? ai.sseq : 0, parsed ? ai.dseq : 0, msg.data);
    this.lastAcked = Date.now();
    if ((flags & (AckResult.Nak | AckResult.Term)) !== 0) this.ackAdvisory(flags);
    if ((flags & AckResult.Reply) !== 0 && msg.reply !== '') {
      this.state.ackReplied();
      if (this.deferAckReply !== null) this.deferAckReply(msg.reply);
      else this.client.publish(msg.reply, EMPTY);
    }
    if ((flags & AckResult.Next) !== 0 && msg.reply !== '') this.nextRequest(msg.reply, msg.data.subarray(4));
    else this.pump();
  }

  /** processNak's MSG_NAKED, processTerm's MSG_TERMINATED advisory, from the ack subject just parsed. */
  private ackAdvisory(flags: number): void {
    const { stream, name, ai } = this;
    const { dseq, sseq, dc } = ai;
    if ((flags & AckResult.Nak) !== 0) {
      this.host.advise(`$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.${stream}.${name}`, (d) => deliveryAdvisory('nak', stream, name, dseq, sseq, dc, null, d));
    } else {
      const reason = this.state.termReason;
      this.host.advise(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${stream}.${name}`, (d) => deliveryAdvisory('terminated', stream, name, dseq, sseq, dc, reason, d));
    }
  }

  // ---- Timers -------------------------------------------------------------------------------

  /** One timer at the state's deadline: checkPending queues expired messages for redelivery. */
  private armAck(): void {
    const d = this.state.deadline;
    if (this.closed || d === 0) {
      if (this.ackTimer !== null) clearTimeout(this.ackTimer);
      this.ackTimer = null;
      return;
    }
    if (this.ackTimer !== null && this.ackAt === d) return;
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackAt = d;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      // Node's timers may fire up to 1 ms before Date.now() reaches `d`: checkPending must not
      // run early, or messages delivered 1 ms after the first (nats-server's ackWaitDelay puts
      // them in the same run) would expire in a later run and be redelivered out of order.
      if (Date.now() < d) {
        this.ackAt = 0;
        this.armAck();
        return;
      }
      this.guard(() => {
        this.state.checkPending();
        this.pump();
      });
    }, timerDelay(d - Date.now()));
    this.ackTimer.unref();
  }

  /** One timer at the earliest request expiry or heartbeat. */
  private armRequests(): void {
    let at = 0;
    for (const wr of this.waiting) {
      if (wr.expires !== 0 && (at === 0 || wr.expires < at)) at = wr.expires;
      if (wr.hbt !== 0 && (at === 0 || wr.hbt < at)) at = wr.hbt;
    }
    if (this.closed || at === 0) {
      if (this.reqTimer !== null) clearTimeout(this.reqTimer);
      this.reqTimer = null;
      return;
    }
    if (this.reqTimer !== null && this.reqAt === at) return;
    if (this.reqTimer !== null) clearTimeout(this.reqTimer);
    this.reqAt = at;
    this.reqTimer = setTimeout(() => {
      this.reqTimer = null;
      this.guard(() => this.pump());
    }, timerDelay(at - Date.now()));
    this.reqTimer.unref();
  }

  /**
   * `inactive_threshold` (ephemerals: 5s by default): the consumer is deleted once that long
   * passes with no pull request waiting and none received.
   */
  private armIdle(): void {
    const ms = this.cfg.inactive_threshold / 1e6;
    if (this.closed || ms <= 0) return;
    const check = (): void => {
      this.idleTimer = null;
      if (this.closed) return;
      const now = Date.now();
      if (this.waiting.length > 0) this.lastActivity = now;
      const due = this.lastActivity + ms;
      if (now >= due) {
        this.guard(() => this.host.inactive(this));
        return;
      }
      this.idleTimer = setTimeout(check, timerDelay(due - now));
      this.idleTimer.unref();
    };
    this.idleTimer = setTimeout(check, timerDelay(ms));
    this.idleTimer.unref();
  }

  gatewayInterest(subject: string): boolean {
    return this.host.gatewayInterest(subject);
  }

  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.host.internalError(err, `consumer ${this.stream} > ${this.name}`);
    }
  }
}
