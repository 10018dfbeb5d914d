// JetStream load generator for the nats-embedded benchmark (forked by run.mjs; see bench/README.md).
// Runs in its own process, never in the broker's, and speaks the NATS client protocol over raw
// TCP with pre-encoded frames: the same bytes go to nats-embedded and to nats-server.
//
// Config (JSON in argv[2]):
//   { host, port, stream, subject, storage: 'memory'|'file', size, window }
// On start it creates the stream ($JS.API.STREAM.CREATE.<stream>) and reports {type:'ready'}.
// Then it obeys IPC messages from the parent:
//   go            publish with acks continuously, `window` messages in flight
//   begin / end   window marks: {type:'window', count (acks), ns}
//   stop          stop publishing, wait for every outstanding ack: {type:'stopped', published, acked}
//   fill {count}  publish exactly `count` messages: {type:'filled', count, ns} (first write → last ack)
//   info          $JS.API.STREAM.INFO.<stream>: {type:'info', state}
//   exit          exit
//
// A publish is `PUB <subject> bench.ack.<k> <size>` (k = the message's slot in the window,
// 3 digits, so every frame has the same length); acks arrive on `bench.ack.*`. Every ack is
// checked: it must be a PubAck (`{"stream":...`, not `{"error":...`) whose sequence is one more
// than the previous ack's (acks on one connection arrive in order). Anything else is reported
// as {type:'error'}.
import net from 'node:net';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const CRLF = Buffer.from('\r\n');
const PONG = Buffer.from('PONG\r\n');
const ACK_PREFIX = Buffer.from('MSG bench.ack.');
const API_PREFIX = Buffer.from('MSG bench.api ');
const API_STATUS_PREFIX = Buffer.from('HMSG bench.api ');
const OK_ACK = Buffer.from('{"stream":');
const now = () => process.hrtime.bigint();
const send = (msg) => {
  if (process.connected) process.send(msg);
};
let errorsSent = 0;
function fail(message) {
  if (errorsSent++ < 20) send({ type: 'error', role: 'jspub', id: cfg.id ?? 0, message });
}

/**
 * Reads server-to-client protocol and hands every MSG/HMSG to `onMsg(buf, lineStart, lineEnd,
 * payloadStart, payloadEnd)` with its payload. A frame split across chunks is carried over
 * (one copy per chunk boundary, not per message).
 */
class Reader {
  constructor(onMsg, onPing, onPong, onErr) {
    this.onMsg = onMsg;
    this.onPing = onPing;
    this.onPong = onPong;
    this.onErr = onErr;
    this.pending = null;
  }

  feed(chunk) {
    if (this.pending !== null) {
      chunk = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) break;
      let end = nl;
      if (end > pos && chunk[end - 1] === 13) end--;
      const c0 = chunk[pos];
      if (c0 === 0x4d /* M */ || (c0 === 0x48 /* H */ && chunk[pos + 1] === 0x4d)) {
        let size = 0;
        let mul = 1;
        for (let p = end - 1; p > pos && chunk[p] >= 0x30 && chunk[p] <= 0x39; p--) {
          size += (chunk[p] - 0x30) * mul;
          mul *= 10;
        }
        if (nl + 1 + size + 2 > len) break; // the payload is not all here yet
        this.onMsg(chunk, pos, end, nl + 1, nl + 1 + size);
        pos = nl + 1 + size + 2;
        continue;
      }
      if (c0 === 0x50 /* P */) {
        if (chunk[pos + 1] === 0x49) this.onPing();
        else this.onPong();
      } else if (c0 === 0x2d /* - */) {
        this.onErr(chunk.toString('latin1', pos, end));
      }
      pos = nl + 1;
    }
    if (pos < len) this.pending = Buffer.from(chunk.subarray(pos));
  }
}

const startsWith = (buf, at, prefix) => buf.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;

async function main() {
  const window = cfg.window;
  const payload = Buffer.alloc(cfg.size, 0x61);
  // 2 × window frames back to back: any run of up to `window` consecutive slots is one subarray.
  const frames = [];
  for (let i = 0; i < 2 * window; i++) {
    frames.push(Buffer.from(`PUB ${cfg.subject} bench.ack.${String(i % window).padStart(3, '0')} ${cfg.size}\r\n`), payload, CRLF);
  }
  const ring = Buffer.concat(frames);
  const F = ring.length / (2 * window);

  let sock;
  let published = 0;
  let acked = 0;
  let lastSeq = 0;
  let running = false;
  let limit = Infinity; // fill: publish at most this many
  let mark = null;
  let onIdle = null; // resolved when nothing is in flight (stop / fill)
  let apiWaiter = null;
  let pongWaiter = null;

  /** Writes as many frames as the window and the limit allow, in one write. */
  const pump = () => {
    if (!running) return;
    let n = Math.min(window - (published - acked), limit - published);
    if (n <= 0) return;
    const slot = published % window;
    sock.write(ring.subarray(slot * F, (slot + n) * F));
    published += n;
  };

  const onAck = (buf, ps, pe) => {
    if (!startsWith(buf, ps, OK_ACK)) {
      fail(`not a PubAck: ${buf.toString('latin1', ps, Math.min(pe, ps + 300))}`);
    } else {
      // `{"stream":"S", "seq":N}`: N ends just before the closing brace.
      let seq = 0;
      let mul = 1;
      for (let p = pe - 2; p > ps && buf[p] >= 0x30 && buf[p] <= 0x39; p--) {
        seq += (buf[p] - 0x30) * mul;
        mul *= 10;
      }
      if (seq !== lastSeq + 1 && lastSeq !== 0) fail(`ack for seq ${seq} after ${lastSeq}`);
      lastSeq = seq;
    }
    acked++;
  };

  const reader = new Reader(
    (buf, ls, le, ps, pe) => {
      if (startsWith(buf, ls, ACK_PREFIX)) onAck(buf, ps, pe);
      else if (startsWith(buf, ls, API_PREFIX) || startsWith(buf, ls, API_STATUS_PREFIX)) {
        const w = apiWaiter;
        apiWaiter = null;
        w?.(buf.toString('utf8', ps, pe), buf[ls] === 0x48);
      } else fail(`unexpected ${buf.toString('latin1', ls, le)}`);
    },
    () => sock.write(PONG),
    () => {
      const w = pongWaiter;
      pongWaiter = null;
      w?.();
    },
    (t) => fail(`broker sent ${t}`),
  );

  sock = net.connect({ host: cfg.host, port: cfg.port });
  sock.setNoDelay(true);
  let stopping = false;
  sock.on('data', (chunk) => {
    const before = acked;
    reader.feed(chunk);
    if (acked !== before) {
      pump();
      if (onIdle !== null && acked === published && (!running || published >= limit)) {
        const f = onIdle;
        onIdle = null;
        f();
      }
    }
  });
  sock.on('error', (err) => fail(`socket error: ${err.message}`));
  sock.on('close', () => {
    if (!stopping) fail('connection closed by the broker');
  });
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const pong = new Promise((r) => (pongWaiter = r));
  sock.write(
    'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n' +
      'SUB bench.ack.* 1\r\nSUB bench.api 2\r\nPING\r\n',
  );
  await pong;

  /** One $JS.API request; retried while JetStream does not answer yet (no responders). */
  const api = async (subject, body) => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const reply = new Promise((resolve) => (apiWaiter = (text, isStatus) => resolve({ text, isStatus })));
      const data = Buffer.from(body);
      sock.write(Buffer.concat([Buffer.from(`PUB ${subject} bench.api ${data.length}\r\n`), data, CRLF]));
      const r = await Promise.race([reply, new Promise((resolve) => setTimeout(() => resolve(null), 2000))]);
      if (r !== null && !r.isStatus) return JSON.parse(r.text);
      apiWaiter = null;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no answer to ${subject}`);
  };

  const created = await api(
    `$JS.API.STREAM.CREATE.${cfg.stream}`,
    JSON.stringify({ name: cfg.stream, subjects: [cfg.subject], storage: cfg.storage, retention: 'limits', discard: 'old', num_replicas: 1 }),
  );
  if (created.error) throw new Error(`stream create: ${JSON.stringify(created.error)}`);

  const idle = () => new Promise((resolve) => (acked === published ? resolve() : (onIdle = resolve)));

  process.on('disconnect', () => process.exit(0));
  process.on('message', async (msg) => {
    try {
      switch (msg.type) {
        case 'go':
          running = true;
          pump();
          break;
        case 'begin':
          mark = { acked, t: now(), cpu: process.cpuUsage() };
          break;
        case 'end': {
          const t = now();
          const cpu = process.cpuUsage(mark.cpu);
          send({ type: 'window', count: acked - mark.acked, ns: Number(t - mark.t), cpuUs: cpu.user + cpu.system });
          break;
        }
        case 'stop':
          running = false;
          await idle();
          send({ type: 'stopped', published, acked, lastSeq });
          break;
        case 'fill': {
          limit = published + msg.count;
          const t0 = now();
          const cpu0 = process.cpuUsage();
          running = true;
          const done = new Promise((resolve) => (onIdle = resolve));
          pump();
          await done;
          running = false;
          const cpu = process.cpuUsage(cpu0);
          send({ type: 'filled', count: msg.count, ns: Number(now() - t0), cpuUs: cpu.user + cpu.system, published, acked, lastSeq });
          break;
        }
        case 'info': {
          const info = await api(`$JS.API.STREAM.INFO.${cfg.stream}`, '');
          if (info.error) throw new Error(`stream info: ${JSON.stringify(info.error)}`);
          send({ type: 'info', state: info.state, config: info.config });
          break;
        }
        case 'exit':
          stopping = true;
          sock.destroy();
          process.exit(0);
      }
    } catch (err) {
      fail(`${msg.type}: ${err.stack ?? err}`);
    }
  });
  send({ type: 'ready', frameBytes: F });
}

main().catch((err) => {
  fail(`jspub failed: ${err.stack ?? err}`);
  setTimeout(() => process.exit(1), 50);
});
