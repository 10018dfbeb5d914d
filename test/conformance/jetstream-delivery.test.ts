/**
 * Consumer delivery transcripts against the real nats-server: the same raw-socket script runs
 * against `nats-server -js` and the embedded broker, and what the consumer's client sees is
 * recorded as a transcript — every frame on its inboxes in order (MSG/HMSG subject, the ack
 * reply subject with only its timestamp token normalised, status line, headers, payload), the
 * replies to acks sent with a reply subject, each publish's PubAck, and after every step the
 * consumer's `delivered`, `ack_floor`, `num_pending`, `num_ack_pending`, `num_redelivered`
 * and `num_waiting` from CONSUMER.INFO. The two transcripts must be equal line for line.
 *
 * Frames whose moment depends on timers (request expiry, ack-wait redelivery, idle heartbeats)
 * are compared by order and content only: a step collects what arrives within its window
 * (`wait`, chosen well clear of the timers involved), never the time it arrived.
 *
 * The binary in CI is 2.9.10; this package follows 2.10.29. Where the two differ, the
 * scenario's `v29` maps the embedded transcript to the 2.9.10 one, with a comment naming the
 * 2.10.29 source (server/consumer.go).
 *
 * Extending: a scenario is a stream config, a consumer config and a list of steps. Inboxes are
 * named (`_I.<name>`, each its own subscription, so a delivery — whose MSG carries the stored
 * subject — is attributed to the inbox it was sent to); a push consumer's scenario sets
 * `deliver_subject: "_I.push"` and subscribes with `{ sub: 'push' }` (`queue` for a
 * deliver_group); its info lines carry `push_bound`, flow-control requests are answered with
 * `{ fc: true }`, and the random token of a `$JS.FC.` subject is normalised. Each session's
 * connection closes after its scenario, so no subscription on `_I.push` outlives it.
 * Part of `npm run test:conformance` (it needs NATS_SERVER_BIN). `JS_DELIVERY_PRINT=1` prints
 * both transcripts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { WireClient } from '../helpers/wire.js';
import { natsServerBin } from '../jetstream/real-js.js';

const BIN = natsServerBin();
const scope = useScope('file');

type Json = Record<string, unknown>;

/** One step of a scenario; after it the frames of `wait` ms (default 100) are collected. */
type Step = { wait?: number; note?: string } & (
  /** Publishes (as a request: the PubAck is part of the transcript). */
  | { pub: string; data?: string; headers?: ReadonlyArray<[string, string]> }
  /** A pull request (CONSUMER.MSG.NEXT) with reply `_I.<pull>`; `req` is the body (object: JSON). */
  | { pull: string; req?: Json | string }
  /**
   * Acks the `ack`-th delivery this session has seen (0-based) with `body` (default +ACK),
   * with reply `_I.<reply>` when given.
   */
  | { ack: number; body?: string; reply?: string }
  /**
   * Subscribes `_I.<sub>` (a push consumer's deliver subject); with `queue`, as a member of that
   * queue group (its frames are attributed to `<sub>@<queue>`; unsubscribe it by that name).
   */
  | { sub: string; queue?: string }
  /** Answers the latest flow-control request seen (an empty publish to its reply subject). */
  | { fc: true }
  /** Deletes the consumer (the reply is in the transcript). */
  | { del: true }
  /** Updates the consumer with these config fields over the scenario's (the reply's error or deliver_subject). */
  | { update: Json }
  /** Unsubscribes `_I.<unsub>`: a waiting request without interest. */
  | { unsub: string }
  /** Purges the stream, or deletes message `delmsg` from it (the API reply is in the transcript). */
  | { purge: true }
  | { delmsg: number }
  /** Records the stream's messages, first and last sequence (STREAM.INFO). */
  | { stream: true }
  /** Only waits and collects. */
  | { idle: true }
);

interface Scenario {
  name: string;
  /** The stream: name, subjects and the rest; storage memory. */
  stream: Json;
  /** The consumer config (durable_name is set to "C"). */
  consumer: Json;
  steps: Step[];
  /** Messages published before the consumer is created. */
  before?: Array<{ subject: string; data?: string; headers?: ReadonlyArray<[string, string]> }>;
  /** Maps the embedded transcript to 2.9.10's where 2.10.29 differs (comment: the source). */
  v29?: (lines: string[]) => string[];
}

// ---- A session: one client against one server ----------------------------------------------

class Session {
  private sids = new Map<string, number>();
  private nextSid = 10;
  private n = 0;
  private readonly waiters = new Map<string, (frame: Frame) => void>();
  /** Frames on the `_I.` inboxes not yet written to the transcript. */
  private fresh: string[] = [];
  /** Ack reply subjects of the deliveries seen, in order (raw). */
  readonly deliveries: string[] = [];
  /** Reply subject of the latest flow-control request (raw). */
  private fcReply = '';
  readonly lines: string[] = [];

  /** The scenario's consumer config (updates start from it). */
  consumer: Json = {};

  private constructor(private readonly c: WireClient, private readonly stream: string) {}

  /** Unparsed input (latin1); WireClient's own readers are not used once the session reads. */
  private buf = '';
  private pongs: Array<() => void> = [];

  static async open(port: number, stream: string): Promise<Session> {
    const c = await WireClient.connected(port, { verbose: false, pedantic: false, headers: true, no_responders: true });
    scope.defer(() => c.socket.destroy());
    const s = new Session(c, stream);
    s.buf = c.buffer;
    c.buffer = '';
    c.socket.on('data', (d: string) => {
      s.buf += d;
      c.buffer = '';
      s.parse();
    });
    c.send('SUB _R.> 1\r\n');
    await s.flush();
    return s;
  }

  close(): void {
    this.c.socket.destroy();
  }

  /** PING/PONG: everything the server sent before the PONG has been parsed. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.pongs.push(resolve);
      this.c.send('PING\r\n');
    });
  }

  private parse(): void {
    for (;;) {
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = this.buf.slice(0, eol);
      if (line === 'PING') {
        this.c.send('PONG\r\n');
        this.buf = this.buf.slice(eol + 2);
        continue;
      }
      if (line === 'PONG') {
        this.buf = this.buf.slice(eol + 2);
        this.pongs.shift()?.();
        continue;
      }
      if (!line.startsWith('MSG ') && !line.startsWith('HMSG ')) {
        this.buf = this.buf.slice(eol + 2);
        this.fresh.push(`  protocol: ${line}`);
        continue;
      }
      const size = Number(line.split(' ').pop());
      if (this.buf.length < eol + 2 + size + 2) return;
      const raw = this.buf.slice(0, eol + 2 + size + 2);
      this.buf = this.buf.slice(raw.length);
      this.frame(parseFrame(raw));
    }
  }

  private frame(f: Frame): void {
    if (f.sid === '1') {
      const w = this.waiters.get(f.subject);
      if (w !== undefined) {
        this.waiters.delete(f.subject);
        w(f);
      }
      return;
    }
    const inbox = [...this.sids].find(([, sid]) => String(sid) === f.sid)?.[0] ?? `?sid ${f.sid}`;
    if (f.reply.startsWith('$JS.ACK.')) this.deliveries.push(f.reply);
    if (f.reply.startsWith('$JS.FC.')) this.fcReply = f.reply;
    this.fresh.push(`  ${inbox}: ${describeFrame(f)}`);
  }

  async request(subject: string, body: string, headers?: ReadonlyArray<[string, string]>): Promise<Frame> {
    const inbox = `_R.${++this.n}`;
    const got = new Promise<Frame>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(inbox);
        reject(new Error(`no reply to ${subject}`));
      }, 3000);
      this.waiters.set(inbox, (f) => {
        clearTimeout(t);
        resolve(f);
      });
    });
    this.c.send(pubFrame(subject, inbox, body, headers));
    return got;
  }

  async inbox(name: string, queue?: string): Promise<string> {
    const key = queue === undefined ? name : `${name}@${queue}`;
    if (!this.sids.has(key)) {
      const sid = this.nextSid++;
      this.sids.set(key, sid);
      this.c.send(`SUB _I.${name}${queue === undefined ? '' : ` ${queue}`} ${sid}\r\n`);
      await this.flush();
    }
    return `_I.${name}`;
  }

  async api(subject: string, body: Json | string = ''): Promise<Json> {
    const r = await this.request(`$JS.API.${subject}`, typeof body === 'string' ? body : JSON.stringify(body));
    return JSON.parse(r.data) as Json;
  }

  async step(step: Step): Promise<void> {
    const s = this.stream;
    if ('pub' in step) {
      const r = await this.request(step.pub, step.data ?? '', step.headers);
      const ack = JSON.parse(r.data) as Json;
      this.lines.push(`pub ${step.pub} -> ${ack.error !== undefined ? JSON.stringify(ack.error) : `seq ${String(ack.seq)}`}`);
    } else if ('pull' in step) {
      const inbox = await this.inbox(step.pull);
      const body = step.req === undefined ? '' : typeof step.req === 'string' ? step.req : JSON.stringify(step.req);
      this.c.send(pubFrame(`$JS.API.CONSUMER.MSG.NEXT.${s}.C`, inbox, body));
      this.lines.push(`pull ${step.pull} ${body}`);
    } else if ('ack' in step) {
      const subject = this.deliveries[step.ack];
      if (subject === undefined) throw new Error(`no delivery #${step.ack} to ack (${this.deliveries.length} seen)`);
      const body = step.body ?? '+ACK';
      this.c.send(pubFrame(subject, step.reply === undefined ? '' : await this.inbox(step.reply), body));
      this.lines.push(`ack #${step.ack} ${body}${step.reply === undefined ? '' : ` reply ${step.reply}`}`);
    } else if ('sub' in step) {
      await this.inbox(step.sub, step.queue);
      this.lines.push(`sub ${step.sub}${step.queue === undefined ? '' : ` queue ${step.queue}`}`);
    } else if ('fc' in step) {
      if (this.fcReply === '') throw new Error('no flow-control request to answer');
      this.c.send(pubFrame(this.fcReply, '', ''));
      this.lines.push(`fc reply ${normaliseFc(this.fcReply)}`);
    } else if ('update' in step) {
      const r = await this.api(`CONSUMER.CREATE.${s}.C`, { stream_name: s, config: { durable_name: 'C', ...this.consumer, ...step.update } });
      const cfg = r.config as Json | undefined;
      this.lines.push(`update ${JSON.stringify(step.update)} -> ${r.error !== undefined ? JSON.stringify(r.error) : `deliver_subject ${String(cfg?.deliver_subject)}`}`);
    } else if ('del' in step) {
      const r = await this.api(`CONSUMER.DELETE.${s}.C`);
      this.lines.push(`delete -> ${JSON.stringify(r.error ?? r.success)}`);
    } else if ('unsub' in step) {
      const sid = this.sids.get(step.unsub);
      if (sid === undefined) throw new Error(`no inbox ${step.unsub}`);
      this.c.send(`UNSUB ${sid}\r\n`);
      this.sids.delete(step.unsub);
      await this.flush();
      this.lines.push(`unsub ${step.unsub}`);
    } else if ('purge' in step) {
      const r = await this.api(`STREAM.PURGE.${s}`);
      this.lines.push(`purge -> ${JSON.stringify(r.error ?? r.purged)}`);
    } else if ('delmsg' in step) {
      const r = await this.api(`STREAM.MSG.DELETE.${s}`, { seq: step.delmsg });
      this.lines.push(`delete message ${step.delmsg} -> ${JSON.stringify(r.error ?? r.success)}`);
    } else if ('stream' in step) {
      const r = await this.api(`STREAM.INFO.${s}`);
      const st = r.state as { messages: number; first_seq: number; last_seq: number } | undefined;
      this.lines.push(st === undefined ? `stream -> ${JSON.stringify(r.error)}` : `stream -> messages ${st.messages} first ${st.first_seq} last ${st.last_seq}`);
    } else {
      this.lines.push('idle');
    }
    await new Promise((resolve) => setTimeout(resolve, step.wait ?? 100));
    await this.flush();
    this.lines.push(...this.fresh.splice(0));
    const info = await this.api(`CONSUMER.INFO.${s}.C`);
    this.lines.push(`  info ${infoLine(info)}`);
  }
}

interface Frame {
  subject: string;
  sid: string;
  reply: string;
  status: string;
  headers: Array<[string, string]>;
  data: string;
}

function pubFrame(subject: string, reply: string, body: string, headers?: ReadonlyArray<[string, string]>): Buffer {
  const data = Buffer.from(body, 'utf8');
  const r = reply === '' ? '' : ` ${reply}`;
  if (headers === undefined) return Buffer.concat([Buffer.from(`PUB ${subject}${r} ${data.length}\r\n`), data, Buffer.from('\r\n')]);
  const h = Buffer.from(`NATS/1.0\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1');
  return Buffer.concat([Buffer.from(`HPUB ${subject}${r} ${h.length} ${h.length + data.length}\r\n`), h, data, Buffer.from('\r\n')]);
}

function parseFrame(raw: string): Frame {
  const eol = raw.indexOf('\r\n');
  const args = raw.slice(0, eol).split(' ').filter((a) => a !== '');
  const payload = Buffer.from(raw.slice(eol + 2, raw.length - 2), 'latin1');
  const hmsg = args[0] === 'HMSG';
  const nSizes = hmsg ? 2 : 1;
  const reply = args.length === 4 + nSizes ? args[3]! : '';
  const f: Frame = { subject: args[1]!, sid: args[2]!, reply, status: '', headers: [], data: '' };
  if (!hmsg) {
    f.data = payload.toString('utf8');
    return f;
  }
  const hsize = Number(args[args.length - 2]);
  const lines = payload.toString('latin1', 0, hsize).split('\r\n').filter((l) => l !== '');
  f.status = lines.shift() ?? '';
  f.headers = lines.map((l): [string, string] => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()];
  });
  f.data = payload.toString('utf8', hsize);
  return f;
}

/** `$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>`: the timestamp token normalised. */
function normaliseAck(reply: string): string {
  const t = reply.split('.');
  if (t[0] === '$JS' && t[1] === 'ACK' && t.length === 9) t[7] = /^\d+$/.test(t[7]!) ? '<ts>' : `<not a ts: ${t[7]}>`;
  return t.join('.');
}

/** `$JS.FC.<stream>.<consumer>.<random>`: the random token normalised. */
function normaliseFc(subject: string): string {
  const t = subject.split('.');
  if (t[0] === '$JS' && t[1] === 'FC' && t.length === 5) t[4] = /^[0-9A-Za-z]+$/.test(t[4]!) ? '<id>' : `<not an id: ${t[4]}>`;
  return t.join('.');
}

function describeFrame(f: Frame): string {
  const parts = [f.subject];
  if (f.reply !== '') parts.push(`reply ${normaliseFc(normaliseAck(f.reply))}`);
  if (f.status !== '') parts.push(`[${f.status}]`);
  for (const [k, v] of f.headers) parts.push(`${k}=${normaliseFc(v)}`);
  // Large payloads (flow-control scenarios) by size and first characters.
  parts.push(f.data.length > 64 ? `<${f.data.length} bytes ${JSON.stringify(f.data.slice(0, 8))}...>` : JSON.stringify(f.data));
  return parts.join(' ');
}

function infoLine(info: Json): string {
  if (info.error !== undefined) return `error ${JSON.stringify(info.error)}`;
  const seq = (v: unknown): string => {
    const o = v as { consumer_seq: number; stream_seq: number };
    return `${o.consumer_seq}/${o.stream_seq}`;
  };
  return `delivered ${seq(info.delivered)} ack_floor ${seq(info.ack_floor)} pending ${String(info.num_pending)} ` +
    `ack_pending ${String(info.num_ack_pending)} redelivered ${String(info.num_redelivered)} waiting ${String(info.num_waiting)}` +
    // Push consumers: push_bound (omitted when false).
    (info.push_bound === undefined ? '' : ` push_bound ${String(info.push_bound)}`);
}

// ---- Scenarios ----------------------------------------------------------------------------

const ms = (n: number): number => n * 1_000_000;
/** `n` publishes; `wait` 0 (the default) only where no request is waiting for them. */
const pubs = (subject: string, n: number, prefix = 'm', wait = 0): Step[] =>
  Array.from({ length: n }, (_, i) => ({ pub: subject, data: `${prefix}${i + 1}`, wait }));

const SCENARIOS: Scenario[] = [
  {
    name: 'batch fetch with fewer and with more messages than the batch',
    stream: { subjects: ['a.>'] },
    consumer: { ack_policy: 'explicit' },
    steps: [
      ...pubs('a.1', 3),
      { pull: 'p1', req: { batch: 5, expires: ms(400) }, wait: 600 },
      ...pubs('a.2', 4),
      { pull: 'p2', req: { batch: 2 } },
      { pull: 'p3', req: { batch: 2, expires: ms(300) }, wait: 500 },
    ],
  },
  {
    name: 'no_wait with and without messages',
    stream: { subjects: ['nw.>'] },
    consumer: { ack_policy: 'explicit' },
    steps: [
      { pull: 'p1', req: { batch: 3, no_wait: true } },
      ...pubs('nw.x', 2),
      { pull: 'p2', req: { batch: 3, no_wait: true } },
      { pull: 'p3', req: { batch: 3, no_wait: true } },
      { pub: 'nw.y', data: 'late' },
      { pull: 'p4', req: { batch: 1, no_wait: true } },
      { pull: 'p5', req: { batch: 2, no_wait: true, expires: ms(200) }, wait: 400 },
    ],
  },
  {
    name: 'expires: 408 Request Timeout with the pending counts',
    stream: { subjects: ['ex'] },
    consumer: { ack_policy: 'explicit' },
    steps: [
      { pull: 'p1', req: { batch: 4, expires: ms(250) }, wait: 450 },
      { pull: 'p2', req: { batch: 4, max_bytes: 1000, expires: ms(250) }, wait: 0 },
      { pub: 'ex', data: 'one', wait: 450 },
      { pull: 'p3', req: '3' },
      { pub: 'ex', data: 'two' },
    ],
  },
  {
    name: 'max_bytes: a partial batch, and 409 Message Size Exceeds MaxBytes',
    stream: { subjects: ['mb'] },
    consumer: { ack_policy: 'explicit' },
    steps: [
      { pub: 'mb', data: 'x'.repeat(40), wait: 0 },
      { pub: 'mb', data: 'y'.repeat(40), wait: 0 },
      { pub: 'mb', data: 'z'.repeat(200), wait: 0 },
      { pull: 'p1', req: { batch: 10, max_bytes: 180, expires: ms(300) }, wait: 450 },
      { pull: 'p2', req: { batch: 10, max_bytes: 100, expires: ms(300) }, wait: 450 },
      { pull: 'p3', req: { batch: 10, max_bytes: 1000, no_wait: true } },
    ],
  },
  {
    name: 'max_waiting exceeded',
    stream: { subjects: ['mw'] },
    consumer: { ack_policy: 'explicit', max_waiting: 2 },
    steps: [
      { pull: 'p1', req: { batch: 1, expires: ms(600) }, wait: 30 },
      { pull: 'p2', req: { batch: 1, expires: ms(600) }, wait: 30 },
      { pull: 'p3', req: { batch: 1, expires: ms(600) }, wait: 30 },
      { pub: 'mw', data: 'one' },
      { pull: 'p4', req: { batch: 1, expires: ms(600) }, wait: 700 },
    ],
  },
  {
    name: 'idle_heartbeat in a pull request',
    stream: { subjects: ['hb'] },
    consumer: { ack_policy: 'explicit' },
    steps: [
      { pub: 'hb', data: 'one' },
      { pull: 'p0', req: { batch: 1 } },
      { pull: 'p1', req: { batch: 2, expires: ms(1000), idle_heartbeat: ms(300) }, wait: 1200 },
      { pull: 'p2', req: { batch: 2, expires: ms(100), idle_heartbeat: ms(80) } },
      // A delivery restarts the heartbeat interval (getNextMsg: wr.hbt = now + wr.hb): one
      // heartbeat (at ~800 ms) before the expiry at 1200 ms, not two (500, 1000).
      { pull: 'p3', req: { batch: 2, expires: ms(1200), idle_heartbeat: ms(500) }, wait: 300 },
      { pub: 'hb', data: 'two', wait: 1100 },
    ],
  },
  {
    name: 'acks: +ACK, -NAK with and without delay, +WPI, +TERM, +NXT, acks with a reply',
    stream: { subjects: ['ak'] },
    consumer: { ack_policy: 'explicit', ack_wait: ms(2000) },
    steps: [
      ...pubs('ak', 6),
      { pull: 'p1', req: { batch: 6 } },
      { ack: 0 },
      { ack: 0, reply: 'r1' },
      { ack: 1, body: '-NAK' },
      { pull: 'p2', req: { batch: 1 } },
      { ack: 2, body: '-NAK {"delay": 300000000}', reply: 'r2' },
      { pull: 'p3', req: { batch: 1, expires: ms(600) }, wait: 750 },
      { ack: 3, body: '+WPI', reply: 'r3' },
      { ack: 4, body: '+TERM', reply: 'r4' },
      { ack: 5, body: '+NXT', reply: 'nxt' },
      { ack: 6, body: '+NXT {"batch":2}', reply: 'nxt2' },
      { ack: 7, body: '+ACK', reply: 'r5' },
      { ack: 7, body: '+ACK', reply: 'r6' },
      // The +NXT requests wait: new messages go to them, oldest first.
      ...pubs('ak', 3, 'n', 80),
      { idle: true },
      { ack: 8, body: '+ACK', reply: 'r7' },
      { ack: 8, body: '+ACK', reply: 'r8' },
      { ack: 9, body: '-NAK', reply: 'r9' },
      { ack: 10, body: '+TERM' },
      { ack: 10, body: '+ACK', reply: 'r10' },
    ],
  },
  {
    name: 'ack_wait expiry redelivers with the delivered count in the ack subject; max_deliver',
    stream: { subjects: ['aw'] },
    consumer: { ack_policy: 'explicit', ack_wait: ms(300), max_deliver: 2 },
    steps: [
      ...pubs('aw', 2),
      { pull: 'p1', req: { batch: 2 } },
      { pull: 'p2', req: { batch: 4, expires: ms(900) }, wait: 1100 },
      { pull: 'p3', req: { batch: 4, expires: ms(500) }, wait: 700 },
    ],
    // 2.10.29 checkPending: once max_deliver leaves nothing pending, "Mimic behavior in
    // processAckMsg when pending is empty": o.adflr, o.asflr = o.dseq-1, o.sseq-1 (ack floor
    // 4/2 here). 2.9.10 leaves the ack floor where it was (0/0).
    v29: (lines) => lines.map((l) => l.replace('ack_floor 4/2 pending 0 ack_pending 0 redelivered 2', 'ack_floor 0/0 pending 0 ack_pending 0 redelivered 2')),
  },
  {
    name: 'max_ack_pending stalls deliveries until an ack',
    stream: { subjects: ['ap'] },
    consumer: { ack_policy: 'explicit', max_ack_pending: 2 },
    steps: [
      ...pubs('ap', 4),
      { pull: 'p1', req: { batch: 4, expires: ms(400) }, wait: 550 },
      { pull: 'p2', req: { batch: 4, expires: ms(600) }, wait: 50 },
      { ack: 0 },
      { ack: 1, wait: 600 },
    ],
  },
  {
    name: 'ack_policy all',
    stream: { subjects: ['aa'] },
    consumer: { ack_policy: 'all' },
    steps: [
      ...pubs('aa', 4),
      { pull: 'p1', req: { batch: 4 } },
      { ack: 2, reply: 'r1' },
      { ack: 1, reply: 'r2' },
      { ack: 3 },
    ],
  },
  {
    name: 'ack_policy none',
    stream: { subjects: ['an'] },
    consumer: { ack_policy: 'none' },
    steps: [
      ...pubs('an', 3),
      { pull: 'p1', req: { batch: 2 } },
      { ack: 0, reply: 'r1' },
      { pull: 'p2', req: { batch: 2, no_wait: true } },
    ],
    // 2.10.29 processAck: for AckNone, processAckMsg returns ackInPlace (false on a limits
    // stream) before updateAcks, which is where replies are sent, and skipAckReply is set: an
    // ack with a reply gets none. 2.9.10 answers it (empty message).
    v29: (lines) => lines.flatMap((l) => (l === 'ack #0 +ACK reply r1' ? [l, '  r1: _I.r1 ""'] : [l])),
  },
  {
    name: 'filter_subject',
    stream: { subjects: ['f.>'] },
    consumer: { ack_policy: 'explicit', filter_subject: 'f.b.*' },
    steps: [
      { pub: 'f.a.1', data: 'a1', wait: 0 },
      { pub: 'f.b.1', data: 'b1', wait: 0 },
      { pub: 'f.a.2', data: 'a2', wait: 0 },
      { pub: 'f.b.2', data: 'b2', wait: 0 },
      { pull: 'p1', req: { batch: 5, expires: ms(200) }, wait: 350 },
      { pub: 'f.b.3', data: 'b3' },
      { pull: 'p2', req: { batch: 1 } },
    ],
  },
  {
    name: 'deliver_policy last',
    before: [{ subject: 'dl.a', data: '1' }, { subject: 'dl.b', data: '2' }, { subject: 'dl.a', data: '3' }],
    stream: { subjects: ['dl.*'] },
    consumer: { ack_policy: 'explicit', deliver_policy: 'last' },
    steps: [{ pull: 'p1', req: { batch: 5, no_wait: true } }, { pub: 'dl.b', data: '4' }, { pull: 'p2', req: { batch: 5, no_wait: true } }],
  },
  {
    name: 'deliver_policy last with a filter',
    before: [{ subject: 'dlf.a', data: '1' }, { subject: 'dlf.b', data: '2' }, { subject: 'dlf.a', data: '3' }, { subject: 'dlf.c', data: '4' }],
    stream: { subjects: ['dlf.*'] },
    consumer: { ack_policy: 'explicit', deliver_policy: 'last', filter_subject: 'dlf.a' },
    steps: [{ pull: 'p1', req: { batch: 5, no_wait: true } }],
  },
  {
    name: 'deliver_policy new',
    before: [{ subject: 'dn', data: 'old1' }, { subject: 'dn', data: 'old2' }],
    stream: { subjects: ['dn'] },
    consumer: { ack_policy: 'explicit', deliver_policy: 'new' },
    steps: [{ pull: 'p1', req: { batch: 5, no_wait: true } }, { pub: 'dn', data: 'new1' }, { pull: 'p2', req: { batch: 5, no_wait: true } }],
  },
  {
    name: 'deliver_policy by_start_sequence',
    before: [1, 2, 3, 4].map((i) => ({ subject: 'ds', data: `d${i}` })),
    stream: { subjects: ['ds'] },
    consumer: { ack_policy: 'explicit', deliver_policy: 'by_start_sequence', opt_start_seq: 3 },
    steps: [{ pull: 'p1', req: { batch: 5, no_wait: true } }],
  },
  {
    name: 'the consumer\'s request limits: max_batch, max_expires, max_bytes',
    stream: { subjects: ['rl'] },
    consumer: { ack_policy: 'explicit', max_batch: 2, max_expires: ms(500), max_bytes: 100 },
    steps: [
      ...pubs('rl', 3),
      { pull: 'p1', req: { batch: 3 } },
      { pull: 'p2', req: { batch: 1, expires: ms(600) } },
      { pull: 'p3', req: { batch: 1, max_bytes: 101 } },
      { pull: 'p4', req: '5' },
      { pull: 'p5', req: { batch: 2, max_bytes: 100, expires: ms(200) }, wait: 350 },
    ],
    // p5's batch completes with 10 bytes left: 2.10.29 (consumer.go, JsPullRequestRemainingBytesT)
    // then sends `409 Batch Completed`; 2.9.10 sends nothing.
    v29: (lines) => lines.filter((l) => !l.includes('[NATS/1.0 409 Batch Completed]')),
  },
  {
    name: 'work queue stream: an ack removes the message',
    stream: { subjects: ['wq'], retention: 'workqueue' },
    consumer: { ack_policy: 'explicit', ack_wait: ms(2000) },
    steps: [
      ...pubs('wq', 3),
      { pull: 'p1' },
      { pull: 'p2', req: '' },
      { ack: 0, reply: 'r1' },
      { ack: 1, body: '-NAK' },
      { pull: 'p3', req: { batch: 5, no_wait: true } },
      { ack: 2, body: '+TERM', reply: 'r2' },
      { ack: 3 },
      { ack: 0, reply: 'r3' },
      { pull: 'p4', req: { batch: 5, no_wait: true } },
      { stream: true },
    ],
  },
  {
    name: 'backoff: redeliveries after each backoff step, then max_deliver',
    stream: { subjects: ['bo'] },
    consumer: { ack_policy: 'explicit', backoff: [ms(200), ms(500)], max_deliver: 3 },
    steps: [
      { pub: 'bo', data: 'one' },
      { pull: 'p1', req: { batch: 1 }, wait: 50 },
      { pull: 'p2', req: { batch: 1, expires: ms(450) }, wait: 600 },
      { pull: 'p3', req: { batch: 1, expires: ms(800) }, wait: 1000 },
    ],
  },
  {
    name: 'stream changes under a consumer: a deleted pending message, a request without interest, a purge',
    stream: { subjects: ['sc'] },
    consumer: { ack_policy: 'explicit', ack_wait: ms(3000) },
    steps: [
      ...pubs('sc', 4),
      { pull: 'p1', req: { batch: 2 } },
      { delmsg: 1 },
      { delmsg: 3 },
      { pull: 'p2', req: { batch: 5, expires: ms(300) }, wait: 450 },
      { ack: 1, body: '-NAK' },
      { pull: 'p3', req: { batch: 1, expires: ms(1000) } },
      { pull: 'p4', req: { batch: 5, expires: ms(1000) }, wait: 50 },
      { unsub: 'p4' },
      { pub: 'sc', data: 'after unsub' },
      { pull: 'p5', req: { batch: 1, no_wait: true } },
      { purge: true },
      { pub: 'sc', data: 'after purge', wait: 0 },
      { pull: 'p6', req: { batch: 5, no_wait: true } },
      { stream: true },
    ],
    // 2.10.29 consumer.purge: with nothing left pending, `o.pending, o.rdc = nil, nil`, so
    // num_redelivered is 0 after the purge; 2.9.10 keeps the redelivery count (1).
    v29: (lines) => {
      const at = lines.findIndex((l) => l.startsWith('purge -> '));
      return lines.map((l, i) => (i > at && l.startsWith('  info ') ? l.replace(' redelivered 0 ', ' redelivered 1 ') : l));
    },
  },
  {
    name: '-NAK up to max_deliver',
    stream: { subjects: ['nm'] },
    consumer: { ack_policy: 'explicit', max_deliver: 2 },
    steps: [
      ...pubs('nm', 2),
      { pull: 'p1', req: { batch: 1 } },
      { ack: 0, body: '-NAK' },
      { pull: 'p2', req: { batch: 1 } },
      { ack: 1, body: '-NAK', reply: 'r1' },
      { pull: 'p3', req: { batch: 2, no_wait: true } },
      { pull: 'p4', req: { batch: 2, no_wait: true } },
    ],
  },
  {
    name: 'odd pull request bodies',
    stream: { subjects: ['ob'] },
    consumer: { ack_policy: 'explicit' },
    steps: [
      ...pubs('ob', 6),
      { pull: 'p2', req: { batch: 0, no_wait: true } },
      { pull: 'p3', req: { batch: -3, no_wait: true } },
      { pull: 'p4', req: ' 2 ' },
      { pull: 'p5', req: 'hello' },
      { pull: 'p7', req: { batch: 1, expires: -5 } },
      { pull: 'p8', req: { batch: 1, idle_heartbeat: ms(100) } },
      { pull: 'p9', req: { batch: 1, max_bytes: -1, no_wait: true } },
    ],
    // Bodies that are not valid JSON for JSApiConsumerGetNextRequest are left out: nats-server
    // answers `400 Bad Request - <Go's json error text>`, which the embedded server does not
    // reproduce (it answers `400 Bad Request - invalid JSON`).
    // A negative expires: 2.10.29 nextReqFromMsg makes it time.Now().Add(expires), already past,
    // and nextWaiting answers it 408 Request Timeout; 2.9.10's nextWaiting drops it silently.
    v29: (lines) => lines.filter((l) => !l.startsWith('  p7: _I.p7 [NATS/1.0 408 Request Timeout]')),
  },
  {
    name: 'no_wait while waiting requests already ask for more than there is: 408 Requests Pending',
    stream: { subjects: ['rp'] },
    consumer: { ack_policy: 'explicit', max_ack_pending: 1 },
    steps: [
      ...pubs('rp', 3),
      { pull: 'p1', req: { batch: 1 } },
      { pull: 'p2', req: { batch: 5, expires: ms(800) }, wait: 50 },
      { pull: 'p3', req: { batch: 1, no_wait: true } },
      { pull: 'p4', req: { batch: 1, no_wait: true, expires: ms(300) } },
      { ack: 0, wait: 900 },
    ],
  },
  {
    name: 'deliver_policy by_start_time',
    before: [{ subject: 'dt', data: 'old' }],
    stream: { subjects: ['dt'] },
    consumer: { ack_policy: 'explicit', deliver_policy: 'by_start_time', opt_start_time: '2000-01-01T00:00:00Z' },
    steps: [{ pull: 'p1', req: { batch: 5, no_wait: true } }],
  },
  {
    // 2.10.29 releaseAnyPendingRequests(false) on delete: 409 Consumer Deleted to each waiting
    // request; 2.9.10 sends the same.
    name: 'consumer deleted while a request waits',
    stream: { subjects: ['cd'] },
    consumer: { ack_policy: 'explicit' },
    steps: [
      { pull: 'p1', req: { batch: 2, expires: ms(2000) }, wait: 50 },
      { del: true },
    ],
  },
  {
    name: 'headers on stored messages',
    stream: { subjects: ['h'] },
    consumer: { ack_policy: 'explicit' },
    steps: [
      { pub: 'h', data: 'with headers', headers: [['X-One', '1'], ['X-Two', 'two words']] },
      { pub: 'h', data: 'no headers' },
      { pub: 'h', data: '', headers: [['Only', 'header']] },
      { pull: 'p1', req: { batch: 3 } },
      { pull: 'p2', req: { batch: 5, max_bytes: 1000, no_wait: true } },
    ],
  },
  // ---- Push consumers (deliver_subject `_I.push`) ----
  {
    name: 'push: plain delivery and acks',
    stream: { subjects: ['pp'] },
    consumer: { deliver_subject: '_I.push', ack_policy: 'explicit', ack_wait: ms(3000) },
    steps: [
      { sub: 'push' },
      ...pubs('pp', 3, 'm', 50),
      { ack: 0 },
      { ack: 1, reply: 'r1' },
      { ack: 2, body: '-NAK' },
      { ack: 3, body: '+TERM', reply: 'r2' },
      { pub: 'pp', data: 'four' },
      { ack: 4, body: '+WPI', reply: 'r3' },
      { ack: 4, reply: 'r4' },
    ],
  },
  {
    name: 'push: no interest, then a subscriber appears (push_bound), leaves and comes back',
    before: [{ subject: 'pi', data: 'early1' }, { subject: 'pi', data: 'early2' }],
    stream: { subjects: ['pi'] },
    consumer: { deliver_subject: '_I.push', ack_policy: 'explicit', ack_wait: ms(3000) },
    steps: [
      { idle: true },
      { pub: 'pi', data: 'unheard' },
      { sub: 'push' },
      { ack: 0 },
      { unsub: 'push' },
      { pub: 'pi', data: 'while away' },
      { sub: 'push' },
      { ack: 1 },
      { ack: 2 },
      { ack: 3 },
    ],
  },
  {
    name: 'push: deliver_group needs a queue subscription of that group',
    stream: { subjects: ['pg'] },
    consumer: { deliver_subject: '_I.push', deliver_group: 'g', ack_policy: 'explicit', ack_wait: ms(3000) },
    steps: [
      { sub: 'push' },
      { pub: 'pg', data: 'one' },
      { sub: 'push', queue: 'other' },
      { pub: 'pg', data: 'two' },
      { sub: 'push', queue: 'g' },
      { pub: 'pg', data: 'three' },
      { ack: 0 },
      { unsub: 'push@g' },
      { pub: 'pg', data: 'four' },
    ],
  },
  {
    name: 'push: ack_wait redelivery up to max_deliver',
    stream: { subjects: ['pw'] },
    consumer: { deliver_subject: '_I.push', ack_policy: 'explicit', ack_wait: ms(300), max_deliver: 3 },
    steps: [
      { sub: 'push' },
      // m2 is delivered at T; redelivered at T+300 and T+600; at T+900 it has had max_deliver.
      ...pubs('pw', 2, 'm', 50),
      { ack: 0, wait: 450 },
      { idle: true, wait: 250 },
      { idle: true, wait: 450 },
    ],
    // As the pull 'ack_wait expiry' scenario: 2.10.29 checkPending moves the ack floor to the
    // delivered sequences (4/2) once max_deliver leaves nothing pending; 2.9.10 leaves it (1/1).
    v29: (lines) => lines.map((l) => l.replace('ack_floor 4/2 pending 0 ack_pending 0', 'ack_floor 1/1 pending 0 ack_pending 0')),
  },
  {
    name: 'push: max_ack_pending holds deliveries until acks',
    stream: { subjects: ['pm'] },
    consumer: { deliver_subject: '_I.push', ack_policy: 'explicit', max_ack_pending: 2, ack_wait: ms(3000) },
    steps: [
      ...pubs('pm', 5),
      { sub: 'push' },
      { ack: 1 },
      { ack: 0 },
      { ack: 3 },
      { ack: 2 },
      { ack: 4 },
    ],
  },
  {
    name: 'push: flow_control and idle_heartbeat frames',
    stream: { subjects: ['pf'] },
    consumer: { deliver_subject: '_I.push', ack_policy: 'none', flow_control: true, idle_heartbeat: ms(400) },
    steps: [
      { sub: 'push', wait: 550 },
      { pub: 'pf', data: 'small' },
      ...pubs('pf', 4, 'x'.repeat(300_000), 50),
      { idle: true, wait: 500 },
      { pub: 'pf', data: 'held?' },
      { fc: true },
      { idle: true, wait: 500 },
    ],
  },
  {
    // Flow control counts the bytes sent: headers_only deliveries of large messages stay far
    // below the window (no request), full ones pass it.
    name: 'push: flow_control with headers_only',
    stream: { subjects: ['pfh'] },
    consumer: { deliver_subject: '_I.push', ack_policy: 'none', flow_control: true, idle_heartbeat: ms(2000), headers_only: true },
    steps: [
      { sub: 'push' },
      ...pubs('pfh', 5, 'x'.repeat(300_000), 50),
      { stream: true },
    ],
  },
  {
    // What KV watchers (keys(), watch()) create: last per subject, headers only, ack none.
    name: 'push: headers_only with last_per_subject and ack_policy none',
    before: [
      { subject: 'kv.a', data: 'a1' },
      { subject: 'kv.b', data: 'b1', headers: [['X-K', 'v']] },
      { subject: 'kv.a', data: 'a2-longer' },
    ],
    stream: { subjects: ['kv.*'] },
    consumer: { deliver_subject: '_I.push', ack_policy: 'none', deliver_policy: 'last_per_subject', headers_only: true, filter_subject: 'kv.>' },
    steps: [
      { sub: 'push' },
      { pub: 'kv.c', data: 'c1', headers: [['Nats-Msg-Id', 'x1']] },
      { pub: 'kv.a', data: 'a3' },
    ],
  },
  {
    name: 'push: interest stream, acks and ack none remove messages; a deleted consumer drops its interest',
    stream: { subjects: ['pr'], retention: 'interest' },
    consumer: { deliver_subject: '_I.push', ack_policy: 'explicit', ack_wait: ms(3000) },
    steps: [
      { pub: 'pr', data: 'unheard' },
      { stream: true },
      { sub: 'push' },
      { pub: 'pr', data: 'two' },
      { ack: 1, reply: 'r1' },
      { stream: true },
      { ack: 0, body: '+TERM' },
      { stream: true },
      { pub: 'pr', data: 'three' },
      { del: true },
      { stream: true },
    ],
  },
  {
    name: 'push: idle heartbeats only while bound, with the last sequences; -NAK with delay on push',
    stream: { subjects: ['ph'] },
    consumer: { deliver_subject: '_I.push', ack_policy: 'explicit', idle_heartbeat: ms(400), ack_wait: ms(3000) },
    // Delivery at T; heartbeat at T+400; the redelivery at ~T+710 restarts the interval (a
    // heartbeat at ~T+1110, none at T+800); none after the unsubscribe (T+1510 would be one).
    steps: [
      { pub: 'ph', data: 'one', wait: 500 },
      { sub: 'push', wait: 600 },
      { ack: 0, body: '-NAK {"delay": 100000000}', wait: 300 },
      { ack: 1, wait: 300 },
      { unsub: 'push', wait: 500 },
    ],
  },
  {
    // 2.10.29 updateConfig: the deliver subject may change only while nobody listens on the
    // current one (else 10013); updateDeliverSubjectLocked redelivers everything pending.
    name: 'push: updating the deliver subject',
    stream: { subjects: ['pu'] },
    consumer: { deliver_subject: '_I.push', ack_policy: 'explicit', ack_wait: ms(3000) },
    steps: [
      { sub: 'push' },
      ...pubs('pu', 2, 'm', 50),
      { ack: 0 },
      { update: { deliver_subject: '_I.other' } },
      { unsub: 'push' },
      { sub: 'other' },
      { update: { deliver_subject: '_I.other' } },
      { unsub: 'other' },
      { update: { deliver_subject: '_I.other' } },
      { sub: 'other' },
      { ack: 2 },
      { pub: 'pu', data: 'three' },
    ],
  },
  {
    name: 'push: ack_policy none',
    stream: { subjects: ['pn'] },
    consumer: { deliver_subject: '_I.push', ack_policy: 'none' },
    steps: [
      ...pubs('pn', 2),
      { sub: 'push' },
      { ack: 0, reply: 'r1' },
      { pub: 'pn', data: 'three' },
    ],
    // As the pull 'ack_policy none' scenario: 2.9.10 answers an ack with a reply, 2.10.29 does not.
    v29: (lines) => lines.flatMap((l) => (l === 'ack #0 +ACK reply r1' ? [l, '  r1: _I.r1 ""'] : [l])),
  },
];

// ---- Running them -------------------------------------------------------------------------

const ports = { ours: 0, theirs: 0 };

beforeAll(async () => {
  if (BIN === '') throw new Error('no nats-server binary: run this through `npm run test:conformance` (NATS_SERVER_BIN)');
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'nats-js-delivery-'));
  scope.defer(() => rmSync(store, { recursive: true, force: true }));
  const real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, `jetstream { store_dir: "${store}" }`]);
  scope.defer(() => real.stop());
  const emb = await scope.server({ jetstream: true });
  ports.ours = emb.port;
  ports.theirs = port;
});

/** Runs a scenario on one server; returns its transcript. */
async function transcript(port: number, name: string, sc: Scenario): Promise<string[]> {
  const s = await Session.open(port, name);
  const created = await s.api(`STREAM.CREATE.${name}`, { name, storage: 'memory', ...sc.stream });
  if (created.error !== undefined) throw new Error(`stream create: ${JSON.stringify(created.error)}`);
  for (const m of sc.before ?? []) {
    const r = await s.request(m.subject, m.data ?? '', m.headers);
    s.lines.push(`pub ${m.subject} -> ${r.data}`);
  }
  s.consumer = sc.consumer;
  const c = await s.api(`CONSUMER.CREATE.${name}.C`, { stream_name: name, config: { durable_name: 'C', ...sc.consumer } });
  if (c.error !== undefined) throw new Error(`consumer create: ${JSON.stringify(c.error)}`);
  try {
    for (const step of sc.steps) await s.step(step);
  } catch (err) {
    // Kept in the transcript, so that the comparison shows how far the two got.
    s.lines.push(`! ${(err as Error).message}`);
  }
  await s.api(`STREAM.DELETE.${name}`);
  // Closed, so that its subscriptions (the push deliver subject `_I.push`) do not outlive it.
  s.close();
  return s.lines;
}

describe('JetStream consumer delivery (pull and push): the same transcript from nats-server and the embedded broker', () => {
  SCENARIOS.forEach((sc, i) => {
    it(sc.name, async () => {
      const name = `D${i}`;
      const [ours, theirs] = await Promise.all([transcript(ports.ours, name, sc), transcript(ports.theirs, name, sc)]);
      const mapped = sc.v29 === undefined ? ours : sc.v29(ours);
      if (process.env.JS_DELIVERY_PRINT) console.log(`${sc.name}\n--- ours\n${ours.join('\n')}\n--- theirs\n${theirs.join('\n')}`);
      expect(theirs.filter((l) => l.startsWith('! ')), 'the script runs to its end on nats-server').toEqual([]);
      expect(theirs.some((l) => l.includes('reply $JS.ACK.') || l.includes('[NATS/1.0')), 'nats-server delivered something').toBe(true);
      expect(mapped.join('\n')).toBe(theirs.join('\n'));
    });
  });
});
