/**
 * Mirrors and sources: how a stream copies the messages of other streams, as nats-server 2.10
 * does it (server/stream.go v2.10.29: setupMirrorConsumer, processInboundMirrorMsg,
 * setupSourceConsumer / trySetupSourceConsumer, processInboundSourceMsg,
 * startingSequenceForSources, sourceInfo, subscribeToMirrorDirect).
 *
 * Each origin is read through an internal ephemeral push consumer (`direct`, ack none, flow
 * control, 1 s heartbeats, 10 s inactive threshold) made with an ordinary
 * `$JS.API.CONSUMER.CREATE` request, so an `external.api` prefix (a JetStream domain's
 * `$JS.<domain>.API`) and `external.deliver` prefix work the same way. Deliveries arrive on an
 * internal subscription; the origin's sequence, the delivery sequence, the time and the pending
 * count come from the `$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>` reply.
 *
 * - A mirror stores each message at the origin's sequence with the origin's time (gaps are
 *   skipped in the store), applies its filter / subject transforms, and answers direct gets
 *   for the origin's name once nearly caught up when `mirror_direct` is set.
 * - A source stores each message at the stream's next sequence with a
 *   `Nats-Stream-Source: <name> <seq> <filter> <dest>` header (2.10's format), after removing an
 *   older one and any `Nats-Expected-*` header; after a restart it resumes after the origin
 *   sequence of the last message of that source found in the stream.
 *
 * Setup failures (origin missing, no answer within 30 s) are retried on nats-server's timers:
 * no sooner than 2 s after the last request, plus 10 s per failure up to 2 minutes, plus
 * 100-200 ms of jitter. A consumer silent for 10 s (checked every 10 s) is recreated. A
 * delivery sequence that does not follow (an origin deleted and recreated, a lost message)
 * recreates it at once. Every timer is unref()ed and cleared by {@link StreamSourcing.close}.
 *
 * The wire forms (the create request, index names, the header) are in sourcing-wire.ts. This
 * file is longer than the house's ~500 lines: the mirror and the sources share one consumer
 * setup, retry and health-check machine (nats-server's sourceInfo), which reads best whole.
 *
 * Clustered (cluster/meta.ts), this runs on the stream's leader only and each copy or skip is
 * proposed to the stream's Raft log (Stream.replica.proposeCopy / proposeSkip) instead of stored:
 * every replica stores it when it is applied (Stream.applyCopy), and {@link StreamSourcing.applied}
 * hears back on the leader, so that a mirror copy that does not follow restarts the consumer.
 *
 * Not reproduced: a duplicate `Nats-Msg-Id` in a sourced message makes nats-server recreate the
 * consumer at the same sequence again; here the duplicate is dropped and copying goes on. In a
 * cluster, a source copy the store refuses when applied (e.g. `discard: new` at `max_msgs`) is
 * logged and lost rather than retried (the single server retries at its sequence).
 */
import { randomInt } from 'node:crypto';
import type { Subscription } from '../broker/account.js';
import type { InternalClient, InternalMessage } from '../broker/internal.js';
import { SYS_QUEUE } from '../protocol/constants.js';
import { rfc3339Nano } from '../protocol/go-format.js';
import { SubjectTransform } from '../subject/transform.js';
import { subjectFromText, subjectToText } from '../protocol/text.js';
import { parseAckReply, type AckInfo } from './consumer-state.js';
import { directGet, directGetLastKey } from './direct.js';
import { isApiError, type ApiError } from './errors.js';
import { headerValue } from './headers.js';
import {
  apiSubject, createRequest, deliverSubject, getHash, HDR_STREAM_SOURCE, INTERNAL_REPLY_PREFIX, isControl, nsToMs, sourceIndexName,
  streamAndSeq, stripHeaders, syncSubject, type ConsumerRequest, type CreateAnswer,
} from './sourcing-wire.js';
import type { StreamConfig, StreamSource } from './stream-config.js';
import type { SourceTiming } from '../config/options.js';
import { COPY_DUPLICATE, COPY_LAST_SEQ_MISMATCH, COPY_MAX_MSGS, COPY_OK, type CopyResult, type Stream } from './stream.js';

/** retryMaximum (the other timers are the server's `jetstream.sourceTiming`). */
const RETRY_MAX_MS = 120_000;
/** dgetCaughtUpThresh: a mirror answers direct gets once fewer than this many are pending. */
const DGET_CAUGHT_UP = 10;
const EMPTY = Buffer.alloc(0);
/** calculateRetryBackoff, with `unit` for nats-server's retryBackOff (5 s). */
function retryBackoff(unit: number, fails: number): number {
  return Math.min(unit * fails * 2, RETRY_MAX_MS);
}

function jitter(): number {
  return 100 + randomInt(100);
}

/** Parsing scratch: one per process (handlers run one at a time). */
const ACK: AckInfo = { stream: '', consumer: '', domain: '', accountHash: '', dc: 0, sseq: 0, dseq: 0, ts: '0', pending: 0 };

/** One filter of a mirror or source with its transform (null: the subject stays). */
interface Filter {
  readonly src: string;
  readonly tr: SubjectTransform | null;
  readonly dest: string;
}

/** nats-server's sourceInfo: one mirror or source and its consumer. */
class Link {
  /** The origin's consumer in use ('' while none). */
  cname = '';
  sub: Subscription | null = null;
  /** Mirror direct get subscriptions on the origin's name. */
  direct: Subscription[] = [];
  /** The last origin sequence seen, and delivery sequence. */
  sseq = 0;
  dseq = 0;
  lag = 0;
  err: ApiError | null = null;
  fails = 0;
  /** When the consumer was made or last delivered (ms; 0: never). */
  last = 0;
  /** When a consumer was last asked for (ms; 0: never). */
  lreq = 0;
  /** A create request is out. */
  sip = false;
  /** The scheduled setup, or the wait for a create answer. */
  timer: NodeJS.Timeout | null = null;
  /** The subscription waiting for the create answer. */
  crSub: Subscription | null = null;
  /** Changes on every cancel: an answer for an older request is ignored. */
  generation = 0;
  /** The filter STREAM.INFO shows (a mirror's once its first consumer was asked for, as 2.10's `sf`). */
  sf = '';
  /** A source's `Nats-Stream-Source: <name> ` and ` <filter> <dest>` + end of block (the index name's bytes). */
  readonly srcHead: Buffer;
  readonly srcTail: Buffer;

  constructor(
    readonly name: string,
    readonly iname: string,
    readonly cfg: StreamSource,
    readonly filters: readonly Filter[],
  ) {
    // A mirror (no index name) adds no header.
    const [indexed = '', filter = '', dest = ''] = iname.split(' ');
    this.srcHead = Buffer.from(iname === '' ? '' : `${HDR_STREAM_SOURCE}: ${indexed} `, 'latin1');
    this.srcTail = Buffer.from(iname === '' ? '' : ` ${filter} ${dest}\r\n\r\n`, 'latin1');
  }
}

const STATUS_LINE = Buffer.from('NATS/1.0\r\n', 'latin1');

/**
 * A sourced copy's header block (processInboundSourceMsg, genSourceHeader): the origin's
 * headers without an older `Nats-Stream-Source` or any `Nats-Expected-*`, then
 * `Nats-Stream-Source: <name> <seq> <filter> <dest>`. Without those headers to remove, the
 * origin's block is copied as it is.
 */
function sourcedHeaders(l: Link, hdr: Buffer | null, seq: number): Buffer {
  let head: Buffer;
  if (hdr === null || hdr.length < 4) head = STATUS_LINE;
  else if (hdr.indexOf(HDR_STREAM_SOURCE, 0, 'latin1') < 0 && hdr.indexOf('Nats-Expected-', 0, 'latin1') < 0) head = hdr.subarray(0, hdr.length - 2);
  else head = Buffer.from(`${stripHeaders(hdr, HDR_STREAM_SOURCE, 'Nats-Expected-')}\r\n`, 'latin1');
  const digits = String(seq);
  const out = Buffer.allocUnsafe(head.length + l.srcHead.length + digits.length + l.srcTail.length);
  let at = head.copy(out, 0);
  at += l.srcHead.copy(out, at);
  at += out.write(digits, at, 'latin1');
  l.srcTail.copy(out, at);
  return out;
}

function filtersOf(s: StreamSource): Filter[] {
  return (s.subject_transforms ?? []).map((t) => ({
    src: t.src,
    dest: t.dest,
    tr: t.dest === '' ? null : SubjectTransform.create(t.src === '' ? '>' : t.src, t.dest),
  }));
}

/** What sourcing needs of the stream's account. */
export interface SourcingHost {
  /** The JetStream domain, or null: direct get subjects then have one prefix only. */
  readonly domain: string | null;
  /** A failure worth a warning (nats-server's Warnf / RateLimitWarnf). */
  warn(text: string): void;
  /** A bug of the broker's own (counted, so that tests can fail on it). */
  internalError(err: unknown, what: string): void;
  /** The retry, health check and wait timers (nats-server's by default). */
  readonly timing: SourceTiming;
}

/** The mirror or sources of one stream, with their consumers on the origins. */
export class StreamSourcing {
  private mirror: Link | null = null;
  private readonly sources = new Map<string, Link>();
  private health: NodeJS.Timeout | null = null;
  private closed = false;
  /** The stream is clustered: copies go through its log (set at start, on its leader). */
  private clustered = false;
  /** When each rate-limited warning was last logged. */
  private readonly warned = new Map<string, number>();

  constructor(
    private readonly stream: Stream,
    /** An internal client of the stream's account, only for this (closed with it). */
    private readonly client: InternalClient,
    private readonly host: SourcingHost,
  ) {}

  /** Starts copying (subscribeToStream): the mirror after a short delay, the sources at once. */
  start(): void {
    const cfg = this.stream.cfg;
    // Clustered (on the stream's leader): the copies go through the stream's log.
    if (this.stream.replica !== null) {
      this.clustered = true;
      this.stream.copyApplied = (r, lseq, mirror) => this.applied(r, lseq, mirror);
    }
    if (cfg.mirror !== undefined) {
      this.mirror = new Link(cfg.mirror.name, '', cfg.mirror, filtersOf(cfg.mirror));
      this.scheduleMirror();
    } else if (cfg.sources !== undefined && cfg.sources.length > 0) {
      this.resetSources(cfg);
      this.startingSequences();
      for (const l of this.sources.values()) this.scheduleSource(l, l.sseq + 1, '');
    }
    this.health = setInterval(() => {
      try {
        this.checkHealth();
      } catch (err) {
        this.host.internalError(err, `JetStream sourcing health check of '${this.stream.name}'`);
      }
    }, this.host.timing.healthCheckInterval);
    this.health.unref();
  }

  /** The stream's sources changed (an update): consumers follow the new list. */
  update(cfg: StreamConfig): void {
    if (this.closed || cfg.mirror !== undefined) return;
    const before = new Set(this.sources.keys());
    const next = new Map<string, StreamSource>();
    for (const s of cfg.sources ?? []) next.set(sourceIndexName(s), s);
    for (const [iname, l] of this.sources) {
      if (!next.has(iname)) {
        this.cancel(l);
        this.sources.delete(iname);
      }
    }
    const added = new Set<string>();
    for (const [iname, s] of next) {
      if (before.has(iname)) continue;
      this.addSource(s);
      added.add(iname);
    }
    if (added.size === 0) return;
    this.startingSequences(added);
    for (const iname of added) {
      const l = this.sources.get(iname)!;
      this.scheduleSource(l, l.sseq + 1, '');
    }
  }

  /** Stops every consumer subscription and timer (the origin drops the consumers after 10 s). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.copyApplied = null;
    if (this.health !== null) clearInterval(this.health);
    this.health = null;
    if (this.mirror !== null) this.cancel(this.mirror);
    for (const l of this.sources.values()) this.cancel(l);
    this.client.close();
  }

  /** STREAM.INFO `mirror`. */
  mirrorInfo(now: number): Record<string, unknown> | undefined {
    return this.mirror === null ? undefined : this.info(this.mirror, now);
  }

  /** STREAM.INFO `sources`, in config order. */
  sourcesInfo(now: number): Array<Record<string, unknown>> | undefined {
    if (this.sources.size === 0) return undefined;
    return [...this.sources.values()].map((l) => this.info(l, now));
  }

  /** stream.go sourceInfo: StreamSourceInfo in Go's field order. */
  private info(l: Link, now: number): Record<string, unknown> {
    const ext = l.cfg.external;
    const sf = l.sf;
    return {
      name: l.name,
      external: ext === undefined ? undefined : { api: subjectToText(ext.api), deliver: subjectToText(ext.deliver) },
      lag: l.lag,
      active: l.last === 0 ? -1 : Math.max(0, Math.round((now - l.last) * 1e6)),
      error: l.err ?? undefined,
      filter_subject: sf === '' ? undefined : subjectToText(sf),
      subject_transforms: l.filters.length === 0 ? undefined : l.filters.map((f) => ({ src: subjectToText(f.src), dest: subjectToText(f.dest) })),
    };
  }

  // ---- Shared ---------------------------------------------------------------------------------

  /**
   * Stores a copy, or in a cluster proposes it to the stream's log (nats-server's
   * processInboundMirrorMsg / processInboundSourceMsg with a raft node): COPY_OK then means
   * proposed, and null that it was not (leadership lost: this sourcing is about to stop).
   */
  private copy(subject: string, hdr: Buffer | null, data: Buffer, lseq: number, ts: number, mirror: boolean): CopyResult | null {
    const replica = this.stream.replica;
    if (!this.clustered) return this.stream.storeCopy(subject, hdr, data, lseq, ts);
    // The replica is gone (the stream is being deleted or moved off this server).
    if (replica === null) return null;
    // The server's and account's limits, checked by the leader before it proposes (as a publish;
    // nats-server's processInboundMirrorMsg checks limitsExceeded): refused, the copy is asked
    // for again from this origin sequence (everything before it is proposed already).
    if (!this.stream.checkLimitsBeforeProposing(subject, '', hdr, data)) return COPY_MAX_MSGS;
    return replica.proposeCopy(subject, hdr, data, lseq, ts, mirror) ? COPY_OK : null;
  }

  /** Skips `start`..`end` in the store, or through the stream's log in a cluster. */
  private skip(start: number, end: number): void {
    const replica = this.stream.replica;
    if (!this.clustered) this.stream.skipTo(start, end);
    else if (replica !== null && end >= start) replica.proposeSkip(start, end);
  }

  /**
   * Clustered, on the leader: a copy this leader proposed was applied. A mirror's copy that
   * does not follow the stream's last sequence (a gap: a copy was lost) recreates the consumer
   * from what the store has, as a single server does at once (jetstream_cluster.go: a cluster
   * reset error of a mirror's leader retries its consumer). A source's failure is logged.
   */
  private applied(r: CopyResult, lseq: number, mirror: boolean): void {
    if (this.closed || r === COPY_OK || r === COPY_DUPLICATE) return;
    const m = this.mirror;
    if (mirror && m !== null) {
      if (r === COPY_LAST_SEQ_MISMATCH && lseq > this.stream.lastSeq && !m.sip && m.timer === null) this.retryMirror();
      else if (r !== COPY_LAST_SEQ_MISMATCH) this.rateLimitedWarn(`Error processing inbound mirror message for '${this.stream.name}'`);
      return;
    }
    if (!mirror) this.rateLimitedWarn(`Error processing inbound source message for '${this.stream.name}'`);
  }

  /** cancelSourceInfo: the subscription, the mirror direct subscriptions, the timers. */
  private cancel(l: Link): void {
    l.generation++;
    if (l.sub !== null) this.client.unsubscribe(l.sub);
    l.sub = null;
    for (const d of l.direct) this.client.unsubscribe(d);
    l.direct = [];
    if (l.crSub !== null) this.client.unsubscribe(l.crSub);
    l.crSub = null;
    if (l.timer !== null) clearTimeout(l.timer);
    l.timer = null;
    l.cname = '';
    l.sip = false;
  }

  private setTimer(l: Link, ms: number, fn: () => void): void {
    if (l.timer !== null) clearTimeout(l.timer);
    l.timer = setTimeout(() => {
      l.timer = null;
      if (this.closed) return;
      try {
        fn();
      } catch (err) {
        this.host.internalError(err, `JetStream ${l === this.mirror ? 'mirror' : 'source'} setup for '${this.stream.name}'`);
      }
    }, ms);
    l.timer.unref();
  }

  /**
   * Sends the CONSUMER.CREATE request and handles its answer: `onReady` with the consumer's
   * name and delivered stream sequence, or a retry through `onFail`.
   */
  private requestConsumer(l: Link, subject: string, body: string, onReady: (name: string, delivered: number) => void, onFail: () => void): void {
    const gen = l.generation;
    const reply = syncSubject(INTERNAL_REPLY_PREFIX.slice(0, -1));
    l.sip = true;
    l.err = null;
    const done = (ok: boolean): void => {
      if (l.crSub !== null) this.client.unsubscribe(l.crSub);
      l.crSub = null;
      if (l.timer !== null) clearTimeout(l.timer);
      l.timer = null;
      l.sip = false;
      if (ok) l.fails = 0;
      else {
        l.fails++;
        onFail();
      }
    };
    l.crSub = this.client.subscribe(reply, (msg) => {
      if (gen !== l.generation || this.closed) return;
      let answer: CreateAnswer;
      try {
        answer = JSON.parse(msg.data.toString('utf8')) as CreateAnswer;
      } catch {
        this.host.warn(`JetStream bad ${l === this.mirror ? 'mirror' : 'source'} consumer create response: ${JSON.stringify(msg.data.toString('utf8'))}`);
        return;
      }
      if (answer.error !== undefined || typeof answer.name !== 'string') {
        l.err = isApiError(answer.error) ? answer.error : null;
        const what = l.err === null ? '' : `${l.err.description} (${l.err.err_code})`;
        this.host.warn(`JetStream error response for stream ${this.stream.name} create ${l === this.mirror ? 'mirror' : `source consumer ${l.name}`}: ${what}`);
        return done(false);
      }
      const delivered = typeof answer.delivered?.stream_seq === 'number' ? answer.delivered.stream_seq : 0;
      done(true);
      onReady(answer.name, delivered);
    });
    this.setTimer(l, this.host.timing.createTimeout, () => {
      if (gen === l.generation) done(false);
    });
    this.client.publish(apiSubject(subject, l.cfg), body, { reply });
  }

  /** RateLimitWarnf: a per-message failure is logged once per statement and minute. */
  private rateLimitedWarn(text: string): void {
    const now = Date.now();
    const at = this.warned.get(text);
    if (at !== undefined && now - at < 60_000) return;
    this.warned.set(text, now);
    this.host.warn(text);
  }

  private checkHealth(): void {
    if (this.closed) return;
    const now = Date.now();
    const silent = this.host.timing.healthCheckInterval;
    const m = this.mirror;
    if (m !== null && m.sub !== null && now - m.last > silent) this.retryMirror();
    for (const l of this.sources.values()) {
      if (l.sub !== null && now - l.last > silent) {
        this.scheduleSource(l, l.sseq + 1, '');
        l.last = now;
      }
    }
  }

  /** A flow control request is answered; a heartbeat whose last delivery we did not see asks for a retry (true). */
  private control(l: Link, msg: InternalMessage): boolean {
    if (msg.reply !== '') {
      this.client.publish(msg.reply, EMPTY);
      return false;
    }
    const ld = headerValue(msg.headers, 'Nats-Last-Consumer');
    const ldseq = ld === null || !/^\d{1,16}$/.test(ld) ? 0 : Number(ld);
    if (ldseq > 0 && ldseq !== l.dseq) return true;
    const stalled = headerValue(msg.headers, 'Nats-Consumer-Stalled');
    if (stalled !== null && stalled !== '') this.client.publish(stalled, EMPTY);
    return false;
  }

  private transform(l: Link, subject: string): string {
    for (const f of l.filters) {
      if (f.tr === null) continue;
      const t = f.tr.match(subject);
      if (t !== null) return t;
    }
    return subject;
  }

  // ---- Mirror ---------------------------------------------------------------------------------

  /** scheduleSetupMirrorConsumerRetry. */
  private scheduleMirror(): void {
    const l = this.mirror;
    if (l === null || this.closed) return;
    const t = this.host.timing;
    const next = Math.max(0, t.retryThreshold - (Date.now() - l.lreq)) + retryBackoff(t.retryBackoff, l.fails) + jitter();
    this.setTimer(l, next, () => this.setupMirror());
  }

  /** retryMirrorConsumer. */
  private retryMirror(): void {
    if (this.mirror === null) return;
    this.cancel(this.mirror);
    this.setupMirror();
  }

  /** setupMirrorConsumer. */
  private setupMirror(): void {
    const l = this.mirror;
    if (l === null || this.closed) return;
    this.cancel(l);
    l.sseq = this.stream.lastSeq;
    if (Date.now() - l.lreq < this.host.timing.retryThreshold || l.sip) return this.scheduleMirror();
    l.lreq = Date.now();
    const m = l.cfg;
    const deliver = deliverSubject(m, 'M');
    const state = this.stream.state();
    const req: ConsumerRequest = { deliver_policy: 'by_start_sequence', opt_start_seq: state.lastSeq + 1, deliver_subject: deliver };
    if (state.msgs === 0 && state.lastSeq === 0) {
      req.opt_start_seq = 0;
      if (m.opt_start_seq > 0) req.opt_start_seq = m.opt_start_seq;
      else if (m.opt_start_time !== undefined) {
        req.opt_start_time = m.opt_start_time;
        req.deliver_policy = 'by_start_time';
      }
    }
    if (req.opt_start_seq === 0 && req.opt_start_time === undefined) req.deliver_policy = 'all';
    let subject = `$JS.API.CONSUMER.CREATE.${m.name}`;
    if (m.filter_subject !== '') {
      req.filter_subject = m.filter_subject;
      l.sf = m.filter_subject;
      req.name = `mirror-${getHash(syncSubject(''))}`;
      subject = `$JS.API.CONSUMER.CREATE.${m.name}.${req.name}.${m.filter_subject}`;
    }
    if (l.filters.length > 0) req.filter_subjects = l.filters.map((f) => f.src);
    this.requestConsumer(l, subject, createRequest(m.name, req, this.host.timing.healthCheckInterval), (name, delivered) => {
      const st = this.stream.state();
      if (st.lastSeq !== delivered) this.skip(st.lastSeq + 1, delivered);
      l.cname = name;
      l.dseq = 0;
      l.sseq = delivered;
      l.last = Date.now();
      l.sub = this.client.subscribe(deliver, (msg) => this.onMirrorMsg(l, msg));
    }, () => {
      this.cancel(l);
      this.scheduleMirror();
    });
  }

  /** processInboundMirrorMsg. */
  private onMirrorMsg(l: Link, msg: InternalMessage): void {
    if (this.closed || this.mirror !== l) return;
    l.last = Date.now();
    if (isControl(msg)) {
      if (this.control(l, msg)) this.retryMirror();
      return;
    }
    if (l.cname === '' || !parseAckReply(msg.reply, ACK) || ACK.consumer !== l.cname || ACK.dc > 1) return;
    const sseq = ACK.sseq;
    const dseq = ACK.dseq;
    const pending = ACK.pending;
    const ts = nsToMs(ACK.ts);
    const olag = l.lag;
    const osseq = l.sseq;
    const odseq = l.dseq;
    if (sseq === l.sseq + 1) {
      l.dseq = dseq;
      l.sseq++;
    } else if (sseq <= l.sseq) {
      return;
    } else if (dseq === l.dseq + 1) {
      // The origin removed the messages in between.
      this.skip(l.sseq + 1, sseq - 1);
      l.dseq++;
      l.sseq = sseq;
    } else {
      return this.retryMirror();
    }
    l.lag = pending === 0 ? 0 : pending - 1;
    if (this.stream.cfg.mirror_direct && l.direct.length === 0 && pending < DGET_CAUGHT_UP) this.subscribeMirrorDirect(l);
    const subject = l.filters.length === 0 ? msg.subject : this.transform(l, msg.subject);
    const r = this.copy(subject, msg.headers, msg.data, sseq - 1, ts, true);
    if (r === null) return;
    if (r === COPY_LAST_SEQ_MISMATCH) {
      if (sseq <= this.stream.lastSeq) {
        l.lag = olag;
        l.sseq = osseq;
        l.dseq = odseq;
      } else {
        l.sseq = osseq;
        l.dseq = odseq;
        this.retryMirror();
      }
    } else if (r !== COPY_OK && r !== COPY_DUPLICATE) {
      this.rateLimitedWarn(`Error processing inbound mirror message for '${this.stream.name}'`);
    }
  }

  /** subscribeToMirrorDirect: direct gets for the origin's name, answered from the mirror. */
  private subscribeMirrorDirect(l: Link): void {
    const store = this.stream.store;
    const domain = this.host.domain;
    const prefixes = domain === null ? ['$JS.API'] : ['$JS.API', `$JS.${domain}.API`];
    const name = this.stream.name;
    for (const prefix of prefixes) {
      const base = `${prefix}.DIRECT.GET.${l.name}`;
      l.direct.push(this.client.subscribe(base, (msg) => {
        if (msg.reply === '') return;
        const r = directGet(name, store, msg.data);
        this.client.reply(msg.reply, r.data, r.headers);
      }, SYS_QUEUE));
      l.direct.push(this.client.subscribe(`${base}.>`, (msg) => {
        if (msg.reply === '') return;
        const r = directGetLastKey(name, store, msg.subject.slice(base.length + 1), msg.data);
        this.client.reply(msg.reply, r.data, r.headers);
      }, SYS_QUEUE));
    }
  }

  // ---- Sources --------------------------------------------------------------------------------

  private addSource(s: StreamSource): void {
    const l = new Link(s.name, sourceIndexName(s), s, filtersOf(s));
    if (l.filters.length === 0) l.sf = s.filter_subject;
    this.sources.set(l.iname, l);
  }

  /** resetSourceInfo. */
  private resetSources(cfg: StreamConfig): void {
    for (const l of this.sources.values()) this.cancel(l);
    this.sources.clear();
    for (const s of cfg.sources ?? []) {
      this.addSource(s);
    }
  }

  /**
   * startingSequenceForSources / setStartingSequenceForSources: the origin sequence of the last
   * message of each source (of those in `only`) still in the stream, read newest first.
   */
  private startingSequences(only?: Set<string>): void {
    const want = new Set(only ?? this.sources.keys());
    const store = this.stream.store;
    const st = store.state();
    if (st.msgs === 0) {
      for (const iname of want) {
        const l = this.sources.get(iname);
        if (l !== undefined) l.dseq = 0;
      }
      return;
    }
    for (let seq = st.lastSeq; seq >= st.firstSeq && seq > 0 && want.size > 0; seq--) {
      const m = store.load(seq);
      if (m === null || m.hdr === null) continue;
      // Bytes, as index names are (sourceIndexName).
      const v = headerValue(m.hdr, HDR_STREAM_SOURCE, 'latin1');
      if (v === null || v === '') continue;
      const r = streamAndSeq(v);
      const found = (iname: string): void => {
        const l = this.sources.get(iname);
        if (l === undefined || !want.has(iname)) return;
        l.sseq = r.seq;
        l.dseq = 0;
        want.delete(iname);
      };
      if (r.iname !== '') found(r.iname);
      else if (r.stream !== '') {
        // A 2.9 header names the stream only: it counts for each source of that stream.
        for (const l of [...this.sources.values()]) {
          const ext = l.cfg.external;
          const bname = subjectFromText(l.name);
          if (r.stream === bname || (ext !== undefined && r.stream === `${bname}:${getHash(ext.api)}`)) found(l.iname);
        }
      }
    }
  }

  /** setupSourceConsumer: the next attempt, throttled and backed off. */
  private scheduleSource(l: Link, seq: number, startTime: string): void {
    if (this.closed || this.sources.get(l.iname) !== l || l.sip) return;
    if (l.timer !== null && l.crSub === null) return; // already scheduled
    let delay = 0;
    if (l.lreq !== 0) {
      const t = this.host.timing;
      const since = Date.now() - l.lreq;
      if (since < t.retryThreshold) delay = t.retryThreshold - since;
      if (l.fails > 0) delay += retryBackoff(t.retryBackoff, l.fails);
    }
    this.setTimer(l, delay + jitter(), () => this.setupSource(l, seq, startTime));
  }

  /** trySetupSourceConsumer. */
  private setupSource(l: Link, seq: number, startTime: string): void {
    if (this.closed || this.sources.get(l.iname) !== l) return;
    this.cancel(l);
    l.lreq = Date.now();
    const s = l.cfg;
    const deliver = deliverSubject(s, 'S');
    const req: ConsumerRequest = { deliver_policy: 'all', deliver_subject: deliver };
    if (startTime !== '' && seq > 1) {
      req.opt_start_time = startTime;
      req.deliver_policy = 'by_start_time';
    } else if (seq <= 1) {
      if (s.opt_start_seq > 0) {
        req.opt_start_seq = s.opt_start_seq;
        req.deliver_policy = 'by_start_sequence';
      } else {
        const st = this.stream.state();
        const lastTime = st.lastTs === 0 ? '' : rfc3339Nano(st.lastTs);
        if (s.opt_start_time !== undefined) {
          req.opt_start_time = lastTime !== '' && Date.parse(s.opt_start_time) < st.lastTs ? lastTime : s.opt_start_time;
          req.deliver_policy = 'by_start_time';
        } else if (st.firstSeq > 1 && lastTime !== '') {
          req.opt_start_time = lastTime;
          req.deliver_policy = 'by_start_time';
        }
      }
    } else {
      req.opt_start_seq = seq;
      req.deliver_policy = 'by_start_sequence';
    }
    let subject = `$JS.API.CONSUMER.CREATE.${l.name}`;
    if (s.filter_subject !== '') {
      req.filter_subject = s.filter_subject;
    }
    const filters = l.filters.map((f) => f.src);
    if (req.filter_subject !== undefined) {
      req.name = `src-${getHash(syncSubject(''))}`;
      subject = `$JS.API.CONSUMER.CREATE.${l.name}.${req.name}.${req.filter_subject}`;
    } else if (filters.length === 1) {
      req.name = `src-${getHash(syncSubject(''))}`;
      req.filter_subject = filters[0];
      subject = `$JS.API.CONSUMER.CREATE.${l.name}.${req.name}.${req.filter_subject}`;
    } else if (filters.length > 1) {
      req.filter_subjects = filters;
    }
    this.requestConsumer(l, subject, createRequest(l.name, req, this.host.timing.healthCheckInterval), (name, delivered) => {
      if (l.sseq !== delivered) l.sseq = delivered + 1;
      l.cname = name;
      l.dseq = 0;
      l.last = Date.now();
      l.sub = this.client.subscribe(deliver, (msg) => this.onSourceMsg(l, msg));
    }, () => {
      this.cancel(l);
      this.scheduleSource(l, seq, startTime);
    });
  }

  /** retrySourceConsumerAtSeq. */
  private retrySource(l: Link, seq: number): void {
    this.cancel(l);
    this.scheduleSource(l, seq, '');
  }

  /** processInboundSourceMsg. */
  private onSourceMsg(l: Link, msg: InternalMessage): void {
    if (this.closed || this.sources.get(l.iname) !== l) return;
    l.last = Date.now();
    if (isControl(msg)) {
      if (this.control(l, msg)) this.retrySource(l, l.sseq + 1);
      return;
    }
    if (l.cname === '' || !parseAckReply(msg.reply, ACK) || ACK.consumer !== l.cname || ACK.dc > 1) return;
    const sseq = ACK.sseq;
    const dseq = ACK.dseq;
    if (dseq === l.dseq + 1) {
      l.dseq++;
      l.sseq = sseq;
    } else {
      if (dseq > l.dseq) this.retrySource(l, l.sseq + 1);
      return;
    }
    l.lag = ACK.pending === 0 ? 0 : ACK.pending - 1;
    const hdr = sourcedHeaders(l, msg.headers, sseq);
    const subject = l.filters.length === 0 ? msg.subject : this.transform(l, msg.subject);
    const r = this.copy(subject, hdr, msg.data, 0, 0, false);
    if (r === null) return;
    if (r === COPY_OK || r === COPY_DUPLICATE) return;
    if (r === COPY_MAX_MSGS) return this.retrySource(l, l.sseq);
    this.rateLimitedWarn(`Error processing inbound source "${l.iname}" for '${this.stream.name}'`);
    this.startingSequences(new Set([l.iname]));
    this.retrySource(l, l.sseq + 1);
  }
}
