/**
 * Push delivery of a JetStream consumer: nats-server 2.10.29's `consumer` (server/consumer.go)
 * with a deliver subject — `loopAndGatherMsgs` in push mode, `deliverMsg`, flow control
 * (`needFlowControl`, `sendFlowControl`, `processFlowControl`), idle heartbeats
 * (`sendIdleHeartbeat`), the interest on the deliver subject (`updateDeliveryInterest`, with the
 * sublist's notifications), `replay_policy: original` and `rate_limit_bps`.
 *
 * Messages go to the deliver subject (a `deliver_group` is a queue group there: the router picks
 * one member) with the stored subject on the MSG line, as the pull deliveries do. Delivery runs
 * only while someone subscribes to exactly the deliver subject (with a group: a queue
 * subscription of that group), as nats-server's registerNotification counts interest; it starts
 * again when such a subscription appears.
 *
 * Timers: at most three, all unref()ed — the heartbeat (re-armed from the last send, not per
 * message), the replay/rate-limit hold, and the inactivity delete while nobody listens.
 */
import type { AnySub } from '../broker/account.js';
import type { InternalClient, InternalMessage } from '../broker/internal.js';
import type { Sublist } from '../subject/sublist.js';
import type { ConsumerConfig } from './consumer-config.js';
import type { ConsumerState } from './consumer-state.js';
import type { StoredMessage } from './store/store.js';
import { headersOnlyBlock, idleHeartbeat } from './headers.js';
import { timerDelay } from '../io/timers.js';

/** What push delivery needs of its consumer. */
export interface PushOwner {
  readonly stream: string;
  readonly name: string;
  readonly state: ConsumerState;
  /** Test fault: deliveries held while true. */
  readonly paused: boolean;
  /** `headers_only` of the current config (an update may change it). */
  readonly headersOnly: boolean;
  /**
   * Publishes `sm` on `subject` with its stored subject on the MSG line and `ackReply`; `ho`
   * (headers only) replaces its headers and payload.
   */
  deliverTo(subject: string, sm: StoredMessage, ackReply: string, ho: Buffer | null): void;
  /** A message was delivered at `now`: last-active times, the ack-wait timer. */
  afterDelivery(now: number): void;
  /** Nobody listened for `inactive_threshold`: delete the consumer. */
  pushInactive(): void;
  /** Runs a timer callback, reporting a throw as the broker's internal error. */
  guard(fn: () => void): void;
  /** Interest in `subject` in another cluster (consumer.go hasDeliveryInterest: the gateways'). */
  gatewayInterest(subject: string): boolean;
}

/** consumer.go JsFlowControlMaxPending: the flow-control window grows to 32 MiB. */
export const FLOW_CONTROL_MAX_PENDING = 32 * 1024 * 1024;

/** Deliveries per pump before yielding to the event loop (the rest follows in setImmediate). */
const PUMP_BUDGET = 4096;

const EMPTY = Buffer.alloc(0);
const HDR_FC = Buffer.from('NATS/1.0 100 FlowControl Request\r\n\r\n');
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Someone subscribes to exactly `subject` (with `group`: a queue subscription of it), here or on a peer. */
export function deliveryInterest(sl: Sublist<AnySub>, subject: string, group: string): boolean {
  const r = sl.match(subject);
  if (group === '') {
    // Interest across the routes counts (nats-server's sublist holds route subscriptions too):
    // the consumer's leader may be another server than its subscriber's.
    for (const s of r.psubs) if (s.subject === subject) return true;
    return false;
  }
  for (const q of r.qsubs) {
    for (const s of q) if (s.queue === group && s.subject === subject) return true;
  }
  return false;
}

/** The headers and payload a delivery carries: the headers-only block, or the stored ones. */
function bodySize(sm: StoredMessage, ho: Buffer | null): number {
  return ho !== null ? ho.length : (sm.hdr?.length ?? 0) + sm.data.length;
}

export class PushDelivery {
  /** Someone listens on the deliver subject (ConsumerInfo `push_bound`). */
  active = false;
  private dsubj: string;
  private readonly group: string;
  private readonly sl: Sublist<AnySub>;
  // Flow control (o.maxpb, o.pblimit, o.pbytes, o.fcid, o.fcsz).
  private maxpb = 0;
  private pblimit = 0;
  private pbytes = 0;
  private fcid = '';
  private fcsz = 0;
  // Idle heartbeats: interval (ms), time of the last delivery or heartbeat.
  private readonly hb: number;
  private lastOut = Date.now();
  private hbTimer: NodeJS.Timeout | null = null;
  // Replay original: replaying until the stream's last sequence at creation was passed.
  private replay: boolean;
  private lts = 0;
  // Rate limit (bytes per second): a token bucket (Go's rate.Limiter), full at the start, as deep
  // as the largest message (setRateLimit: the stream's max_msg_size, else max_payload).
  private readonly rate: number;
  private readonly burst: number;
  private tokens: number;
  private tokensAt = Date.now();
  /**
   * The replay or rate-limit wait before the next message: it is put back into the state (not
   * recorded as delivered: the ack wait starts when it is sent, as nats-server waits before
   * deliverMsg), and when the timer fires the next take is sent without waiting again.
   */
  private holdTimer: NodeJS.Timeout | null = null;
  private waited = false;
  private dthresh: number;
  private dtmr: NodeJS.Timeout | null = null;
  private scheduled = false;
  /** A continuation of a long backlog is scheduled (setImmediate). */
  private resuming = false;
  private readonly resume = (): void => {
    this.resuming = false;
    if (!this.closed) this.owner.guard(() => this.pump());
  };
  private pumping = false;
  private closed = false;
  /**
   * A subscription on the deliver subject came or went: delivery follows at once, before the
   * next protocol operation of the same read (nats-server's consumer goroutine wakes on the
   * notification while the client's read loop goes on, and usually delivers first; a SUB
   * followed by a PUB in one write — a watcher subscribing, then the application writing — gets
   * the backlog first).
   * A change while a delivery is being made (a subscriber leaving on its max) is handled after it.
   */
  private readonly onSubChange = (): void => {
    if (this.pumping) {
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(this.interestChanged);
      return;
    }
    this.interestChanged();
  };
  private readonly interestChanged = (): void => {
    this.scheduled = false;
    if (!this.closed) this.owner.guard(() => this.updateInterest());
  };

  constructor(
    private readonly owner: PushOwner,
    cfg: ConsumerConfig,
    private readonly client: InternalClient,
    /** The stream's last sequence at creation: replay original ends past it. */
    lastSeq: number,
    /** The rate limiter's burst in bytes. */
    burst: number,
  ) {
    this.dsubj = cfg.deliver_subject;
    this.group = cfg.deliver_group ?? '';
    this.sl = client.account.sublist;
    this.hb = cfg.idle_heartbeat / 1e6;
    this.rate = cfg.rate_limit_bps / 8;
    this.burst = burst;
    this.tokens = burst;
    this.dthresh = cfg.inactive_threshold / 1e6;
    // loopAndGatherMsgs: replay while the stream's last sequence at start is not passed.
    this.replay = cfg.replay_policy === 'original' && lastSeq > 0;
    if (cfg.flow_control) {
      // setMaxPendingBytes: the window starts at 1/16 of the limit and doubles per reply.
      this.pblimit = FLOW_CONTROL_MAX_PENDING;
      this.maxpb = FLOW_CONTROL_MAX_PENDING / 16;
      client.subscribe(`$JS.FC.${owner.stream}.${owner.name}.*`, (msg) => this.onFlowControl(msg));
    }
    this.sl.watch(this.dsubj, this.onSubChange);
    this.active = this.hasInterest();
    if (!this.active) this.armDelete();
    this.armHeartbeat();
  }

  /** Stops the interest watch and the timers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sl.unwatch(this.dsubj, this.onSubChange);
    for (const t of [this.hbTimer, this.holdTimer, this.dtmr]) if (t !== null) clearTimeout(t);
    this.hbTimer = this.holdTimer = this.dtmr = null;
  }

  /** An update changed `inactive_threshold`: the no-interest timer restarts with it. */
  setInactiveThreshold(ms: number): void {
    this.dthresh = ms;
    if (this.dtmr !== null) clearTimeout(this.dtmr);
    this.dtmr = null;
    if (!this.active) this.armDelete();
  }

  /**
   * updateDeliverSubjectLocked: delivery moves to `subject` (a consumer update); the interest
   * watch follows, and push_bound is what that subject has.
   */
  retarget(subject: string): void {
    if (this.closed || subject === this.dsubj) return;
    this.sl.unwatch(this.dsubj, this.onSubChange);
    this.dsubj = subject;
    this.sl.watch(this.dsubj, this.onSubChange);
    this.updateInterest();
  }

  /** Interest here (and across the routes), else, without a deliver group, in another cluster. */
  private hasInterest(): boolean {
    return deliveryInterest(this.sl, this.dsubj, this.group) || (this.group === '' && this.owner.gatewayInterest(this.dsubj));
  }

  /** updateDeliveryInterest: a subscription on the deliver subject came or went. */
  private updateInterest(): void {
    const interest = this.hasInterest();
    const was = this.active;
    this.active = interest;
    if (interest) {
      if (this.dtmr !== null) clearTimeout(this.dtmr);
      this.dtmr = null;
      if (!was) this.pump();
    } else this.armDelete();
  }

  /** Delivers while someone listens and flow control allows (loopAndGatherMsgs, push mode). */
  pump(): void {
    if (this.closed || this.pumping || this.owner.paused || this.holdTimer !== null) return;
    this.pumping = true;
    try {
      const st = this.owner.state;
      let budget = PUMP_BUDGET;
      while (this.active && !(this.maxpb > 0 && this.pbytes > this.maxpb)) {
        if (--budget < 0) {
          // A long backlog: let the event loop write what is queued and serve others, then go on.
          if (!this.resuming) {
            this.resuming = true;
            setImmediate(this.resume);
          }
          break;
        }
        const sm = st.take();
        if (sm === null) {
          // Caught up with the stream: replay is over (o.sseq > lseq).
          if (st.lastStall === 'empty') this.replay = false;
          break;
        }
        const ackReply = st.ackReply(sm);
        const ho = this.owner.headersOnly ? headersOnlyBlock(sm.hdr, sm.data.length) : null;
        let delay = 0;
        if (this.waited) this.waited = false;
        else {
          if (this.replay && this.lts > 0 && sm.ts - this.lts > 1) delay = sm.ts - this.lts;
          this.lts = sm.ts;
          // The rate limiter counts what the client gets (consumer.go: the stored subject, the
          // ack reply, headers and payload after the headers-only conversion).
          if (this.rate > 0) delay = Math.max(delay, this.reserve(sm.subject.length + ackReply.length + bodySize(sm, ho)));
        }
        if (delay > 0) {
          st.putBack(sm);
          this.hold(delay);
          break;
        }
        this.send(sm, ackReply, ho);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Takes `sz` bytes from the rate limiter; the wait (ms) before they are available. */
  private reserve(sz: number): number {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) * this.rate) / 1000);
    this.tokensAt = now;
    this.tokens -= sz;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.rate);
  }

  /** Waits `delay` ms; then the next message goes out without another wait. */
  private hold(delay: number): void {
    this.waited = true;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      if (!this.closed) this.owner.guard(() => this.pump());
    }, delay);
    this.holdTimer.unref();
  }

  /** deliverMsg, push mode: the delivery is recorded, the message sent, then flow control. */
  private send(sm: StoredMessage, ackReply: string, ho: Buffer | null): void {
    this.owner.state.commit(sm);
    // pmsg.size(): the deliver subject, the ack reply, headers and payload (after headers-only).
    const psz = this.dsubj.length + ackReply.length + bodySize(sm, ho);
    if (this.maxpb > 0) this.pbytes += psz;
    this.owner.deliverTo(this.dsubj, sm, ackReply, ho);
    const now = Date.now();
    this.lastOut = now;
    this.owner.afterDelivery(now);
    if (this.maxpb > 0 && this.needFlowControl(psz)) this.sendFlowControl();
  }

  private needFlowControl(sz: number): boolean {
    // Over half the window: ask the client to answer.
    if (this.fcid === '' && this.pbytes > this.maxpb / 2) return true;
    // An outstanding request covers more as long as deliveries go on past a window.
    if (this.fcid !== '' && this.pbytes - this.fcsz >= this.maxpb) this.fcsz += sz;
    return false;
  }

  private sendFlowControl(): void {
    let rn = Math.floor(Math.random() * 0x7fffffff);
    let id = `$JS.FC.${this.owner.stream}.${this.owner.name}.`;
    for (let i = 0; i < 4; i++) {
      id += DIGITS[rn % 62];
      rn = Math.floor(rn / 62);
    }
    this.fcsz = this.pbytes;
    this.fcid = id;
    this.client.publish(this.dsubj, EMPTY, { reply: id, headers: HDR_FC });
  }

  /** processFlowControl: the answer to the latest request opens the window again. */
  private onFlowControl(msg: InternalMessage): void {
    if (this.closed || msg.subject !== this.fcid) return;
    if (this.maxpb < this.pblimit) this.maxpb = Math.min(this.maxpb * 2, this.pblimit);
    this.pbytes = Math.max(0, this.pbytes - this.fcsz);
    this.fcid = '';
    this.fcsz = 0;
    this.pump();
  }

  /** The heartbeat timer: due `hb` after the last delivery or heartbeat (not reset per message). */
  private armHeartbeat(): void {
    if (this.hb <= 0 || this.closed) return;
    const fire = (): void => {
      this.hbTimer = null;
      if (this.closed) return;
      const now = Date.now();
      const due = this.lastOut + this.hb;
      if (now >= due - 1) {
        if (this.active) this.owner.guard(() => this.sendHeartbeat());
        this.lastOut = now;
      }
      this.hbTimer = setTimeout(fire, timerDelay(Math.max(1, this.lastOut + this.hb - now)));
      this.hbTimer.unref();
    };
    this.hbTimer = setTimeout(fire, timerDelay(this.hb));
    this.hbTimer.unref();
  }

  /** sendIdleHeartbeat: the last delivered sequences, and the outstanding flow control if stalled. */
  private sendHeartbeat(): void {
    const st = this.owner.state;
    this.client.publish(this.dsubj, EMPTY, { headers: idleHeartbeat(st.deliveredConsumerSeq, st.deliveredStreamSeq, this.fcid) });
  }

  /** updateDeliveryInterest: without interest, an `inactive_threshold` deletes the consumer. */
  private armDelete(): void {
    if (this.dthresh <= 0 || this.dtmr !== null || this.closed) return;
    this.dtmr = setTimeout(() => {
      this.dtmr = null;
      if (!this.closed && !this.active) this.owner.guard(() => this.owner.pushInactive());
    }, this.dthresh);
    this.dtmr.unref();
  }
}
