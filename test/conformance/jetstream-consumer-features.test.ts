/**
 * Consumer features against the real nats-server over raw sockets: `deliver_policy:
 * last_per_subject` (which messages come, in which order, the consumer info's delivered
 * sequences and num_pending as the skip list is delivered and after), `headers_only` (the exact
 * header block with `Nats-Msg-Size`, for stored messages with and without headers), and a
 * consumer update (filter, max_ack_pending, headers_only) taking effect on the live consumer.
 * The same script runs on both servers; each delivery is compared byte for byte (subject,
 * ack reply without its time stamp, header block, payload) and each API reply as JSON without
 * times. Differences 2.9.10 vs 2.10.29 are named where they are set aside.
 */
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useScope } from '../helpers/scope.js';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { natsServerBin } from '../jetstream/real-js.js';

const BIN = natsServerBin();
const scope = useScope('file');

/** One MSG/HMSG frame as received. */
interface Frame {
  subject: string;
  sid: string;
  reply: string;
  hdr: string;
  data: string;
}

/** A raw client: SUB `_R.>` (sid 1: API replies) and `_D.>` (sid 2: pull deliveries). */
class Raw {
  private buf = Buffer.alloc(0);
  readonly frames: Frame[] = [];
  private wake: () => void = () => {};
  private n = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.parse();
      this.wake();
    });
  }

  static async open(port: number): Promise<Raw> {
    const socket = connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const r = new Raw(socket);
    socket.write('CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\nSUB _R.> 1\r\nSUB _D.> 2\r\nPING\r\n');
    await r.until(() => r.pongs > 0, 'PONG');
    return r;
  }

  private pongs = 0;

  private parse(): void {
    for (;;) {
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = this.buf.toString('latin1', 0, eol);
      const parts = line.split(' ');
      if (parts[0] === 'MSG' || parts[0] === 'HMSG') {
        const h = parts[0] === 'HMSG';
        const total = Number(parts[parts.length - 1]);
        const hlen = h ? Number(parts[parts.length - 2]) : 0;
        if (this.buf.length < eol + 2 + total + 2) return;
        const body = this.buf.subarray(eol + 2, eol + 2 + total);
        const reply = parts.length === (h ? 6 : 5) ? parts[3]! : '';
        this.frames.push({ subject: parts[1]!, sid: parts[2]!, reply, hdr: body.toString('latin1', 0, hlen), data: body.toString('latin1', hlen) });
        this.buf = this.buf.subarray(eol + 2 + total + 2);
        continue;
      }
      if (parts[0] === 'PING') this.socket.write('PONG\r\n');
      if (parts[0] === 'PONG') this.pongs++;
      this.buf = this.buf.subarray(eol + 2);
    }
  }

  private async until(ok: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  private publish(subject: string, reply: string, data: string, hdr = ''): void {
    if (hdr === '') this.socket.write(`PUB ${subject} ${reply} ${Buffer.byteLength(data)}\r\n${data}\r\n`);
    else this.socket.write(`HPUB ${subject} ${reply} ${hdr.length} ${hdr.length + Buffer.byteLength(data)}\r\n${hdr}${data}\r\n`);
  }

  /** A request; resolves the reply frame. */
  async request(subject: string, data: string, hdr = ''): Promise<Frame> {
    const inbox = `_R.${++this.n}`;
    this.publish(subject, inbox, data, hdr);
    await this.until(() => this.frames.some((f) => f.subject === inbox), `a reply on ${subject}`);
    const i = this.frames.findIndex((f) => f.subject === inbox);
    return this.frames.splice(i, 1)[0]!;
  }

  /** A pull request to `_D.<n>`; resolves the `count` frames delivered to it (messages, then statuses). */
  async pull(stream: string, consumer: string, req: object, count: number): Promise<Frame[]> {
    const inbox = `_D.${++this.n}`;
    this.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, inbox, JSON.stringify(req));
    await this.until(() => this.frames.filter((f) => f.sid === '2').length >= count, `${count} deliveries`);
    const out = this.frames.filter((f) => f.sid === '2');
    for (const f of out) this.frames.splice(this.frames.indexOf(f), 1);
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A delivery as compared: the ack reply's time stamp token (`$JS.ACK.s.c.dc.sseq.dseq.<ts>.pending`) scrubbed. */
const delivery = (f: Frame): string =>
  `${f.subject} ${f.reply.replace(/^(\$JS\.ACK(?:\.[^.]+){5})\.\d+\./, '$1.<ts>.')} ${JSON.stringify(f.hdr)} ${JSON.stringify(f.data)}`;

/** A consumer info or create reply: the parts that do not carry times. */
function info(f: Frame): Record<string, unknown> {
  const j = JSON.parse(f.data) as Record<string, unknown>;
  if ('error' in j) return { error: j.error };
  const strip = (s: unknown): unknown => {
    const o = { ...(s as Record<string, unknown>) };
    delete o.last_active;
    return o;
  };
  return {
    config: j.config, delivered: strip(j.delivered), ack_floor: strip(j.ack_floor),
    num_ack_pending: j.num_ack_pending, num_redelivered: j.num_redelivered, num_pending: j.num_pending,
  };
}

/** The script, run on one server: everything it saw, in order. */
async function script(port: number): Promise<string[]> {
  const c = await Raw.open(port);
  const log: string[] = [];
  const api = async (subject: string, body: object | string): Promise<Frame> =>
    c.request(`$JS.API.${subject}`, typeof body === 'string' ? body : JSON.stringify(body));
  try {
    log.push((await api('STREAM.CREATE.LPS', { name: 'LPS', subjects: ['s.>'], storage: 'memory' })).data.includes('"error"') ? 'create failed' : 'created');
    const pubs: Array<[string, string, string]> = [
      ['s.a', '1', ''],
      ['s.b', '22', 'NATS/1.0\r\nX-A: 1\r\n\r\n'],
      ['s.a', '333', ''],
      ['s.c', '', ''],
      ['s.b', '4444', 'NATS/1.0\r\nX-A: 2\r\nX-B: two words\r\n\r\n'],
      ['s.x.y', '5', ''],
    ];
    for (const [s, d, h] of pubs) log.push(`pub ${s}: ${(await c.request(s, d, h)).data}`);
    // Last per subject of s.*: s.a at 3, s.c at 4, s.b at 5 (s.x.y, the stream's last, does not match).
    const cfg = { durable_name: 'C1', deliver_policy: 'last_per_subject', filter_subject: 's.*', ack_policy: 'explicit', headers_only: true };
    log.push(`create: ${JSON.stringify(info(await api('CONSUMER.CREATE.LPS.C1', { stream_name: 'LPS', config: cfg })))}`);
    for (const f of await c.pull('LPS', 'C1', { batch: 2 }, 2)) log.push(`got ${delivery(f)}`);
    log.push(`info after 2: ${JSON.stringify(info(await api('CONSUMER.INFO.LPS.C1', '')))}`);
    // The rest of the skip list, then the request waits and expires (408).
    for (const f of await c.pull('LPS', 'C1', { batch: 5, expires: 300_000_000 }, 2)) log.push(`got ${delivery(f)}`);
    log.push(`info after the skip list: ${JSON.stringify(info(await api('CONSUMER.INFO.LPS.C1', '')))}`);
    // New messages after the skip list: every one of them (not only the last per subject).
    log.push(`pub s.a: ${(await c.request('s.a', '77')).data}`);
    log.push(`pub s.a: ${(await c.request('s.a', '888')).data}`);
    log.push(`info with two new: ${JSON.stringify(info(await api('CONSUMER.INFO.LPS.C1', '')))}`);
    const got = await c.pull('LPS', 'C1', { batch: 2 }, 2);
    for (const f of got) log.push(`got ${delivery(f)}`);
    // Ack one (with a reply: the empty ack reply).
    log.push(`ack: ${JSON.stringify((await c.request(got[0]!.reply, '')).data)}`);
    log.push(`info after an ack: ${JSON.stringify(info(await api('CONSUMER.INFO.LPS.C1', '')))}`);
    // Update: the filter narrows to s.b, headers_only off, max_ack_pending set.
    const upd = { ...cfg, filter_subject: 's.b', headers_only: false, max_ack_pending: 10 };
    log.push(`update: ${JSON.stringify(info(await api('CONSUMER.CREATE.LPS.C1', { stream_name: 'LPS', config: upd })))}`);
    log.push(`pub s.a: ${(await c.request('s.a', 'a9')).data}`);
    log.push(`pub s.b: ${(await c.request('s.b', 'b10', 'NATS/1.0\r\nX-A: 3\r\n\r\n')).data}`);
    log.push(`info after the update: ${JSON.stringify(info(await api('CONSUMER.INFO.LPS.C1', '')))}`);
    for (const f of await c.pull('LPS', 'C1', { batch: 1 }, 1)) log.push(`got ${delivery(f)}`);
    // headers_only on a plain pull consumer (deliver all) of a message without headers and one with.
    log.push(`create H: ${JSON.stringify(info(await api('CONSUMER.CREATE.LPS.H', { stream_name: 'LPS', config: { durable_name: 'H', ack_policy: 'none', headers_only: true, filter_subject: 's.b' } })))}`);
    for (const f of await c.pull('LPS', 'H', { batch: 3 }, 3)) log.push(`got ${delivery(f)}`);
    // max_msgs_per_subject 1: no skip list, the consumer starts at the first message.
    await api('STREAM.CREATE.ONE', { name: 'ONE', subjects: ['one.>'], storage: 'memory', max_msgs_per_subject: 1 });
    for (const s of ['one.a', 'one.b', 'one.a', 'one.c']) await c.request(s, s);
    log.push(`create ONE: ${JSON.stringify(info(await api('CONSUMER.CREATE.ONE.O', { stream_name: 'ONE', config: { durable_name: 'O', deliver_policy: 'last_per_subject', filter_subject: 'one.>', ack_policy: 'none' } })))}`);
    for (const f of await c.pull('ONE', 'O', { batch: 3 }, 3)) log.push(`got ${delivery(f)}`);
    // A filter no subject matches: the consumer starts at the stream's last sequence.
    log.push(`create NONE: ${JSON.stringify(info(await api('CONSUMER.CREATE.LPS.N', { stream_name: 'LPS', config: { durable_name: 'N', deliver_policy: 'last_per_subject', filter_subject: 's.zz', ack_policy: 'none' } })))}`);
  } finally {
    c.close();
  }
  return log;
}

beforeAll(() => {
  if (BIN === '') throw new Error('no nats-server binary: run this through `npm run test:conformance` (NATS_SERVER_BIN)');
});

describe('consumer features against the real nats-server', () => {
  it('last_per_subject, headers_only and a consumer update: the same deliveries and consumer infos', async () => {
    const port = await freePort();
    const store = mkdtempSync(join(tmpdir(), 'nats-js-cf-'));
    scope.defer(() => rmSync(store, { recursive: true, force: true }));
    const real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, `jetstream { store_dir: "${store}" }`]);
    scope.defer(() => real.stop());
    const emb = await scope.server({ jetstream: true });
    const [ours, theirs] = [await script(emb.port), await script(port)];
    if (process.env.CONSUMER_FEATURES_PRINT === '1') console.log([...ours, '----', ...theirs].join('\n'));
    // After the skip list, two new s.a messages (7, 8) arrive. 2.10.29 counts each stored message
    // that matches (consumer.go processStreamSignal: `if seq > o.npf { o.npc++ }`; its info's
    // checkNumPending recounts only when npc exceeds the stream's messages or the consumer is
    // past the end): num_pending 2, and the ack reply of seq 7 says 1 still pending. 2.9.10
    // recounts a last_per_subject consumer's pending as subjects whose last message is at or
    // after the next sequence (consumer.go v2.9.10 streamNumPending over SubjectsState): 1, then 0.
    const twoNew = ours.findIndex((l) => l.startsWith('info with two new:'));
    expect(ours[twoNew]).toMatch(/"num_pending":2}$/);
    expect(theirs[twoNew]).toMatch(/"num_pending":1}$/);
    expect(ours[twoNew + 1]).toMatch(/^got s\.a \$JS\.ACK\.LPS\.C1\.1\.7\.4\.<ts>\.1 /);
    expect(theirs[twoNew + 1]).toMatch(/^got s\.a \$JS\.ACK\.LPS\.C1\.1\.7\.4\.<ts>\.0 /);
    ours[twoNew] = theirs[twoNew]!;
    ours[twoNew + 1] = theirs[twoNew + 1]!;
    expect(ours).toEqual(theirs);
  });
});
