// Load generator for the nats-embedded benchmark. Runs in its own process (forked by run.mjs),
// never in the broker's. Speaks the NATS client protocol over raw TCP with pre-encoded frames,
// so the client side costs as little CPU as possible.
//
// Roles (config is JSON in argv[2]):
//   pub       publishes `PUB <subject> <n>\r\n<payload>\r\n` frames as fast as backpressure allows
//   sub       subscribes (optionally in a queue group, or to a list of subjects) and counts MSG frames
//   responder subscribes to the request subject and answers each request on its reply subject
//   requester sends one request at a time and records round-trip latencies
//   startup   in-process: times createServer() and server.close() from ../dist/index.js
//   idle      opens `count` connections (CONNECT + PING, waits for each PONG) and keeps them idle
//   subflood  one connection; on 'go' writes `count` SUB lines at once, then PING, reports the PONG
//
// IPC with the parent: the child sends {type:'ready'} once connected (subscribers: after the
// PONG that confirms their SUB), then obeys {type:'go'|'begin'|'end'|'stop'|'drain'|'exit'}.
// Anything unexpected from the broker (-ERR, connection closed) is sent as {type:'error'}.
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const CRLF = Buffer.from('\r\n');
const PING = Buffer.from('PING\r\n');
const PONG = Buffer.from('PONG\r\n');
const CONNECT = Buffer.from('CONNECT {"verbose":false,"pedantic":false}\r\n');

const now = () => process.hrtime.bigint();
const send = (msg) => {
  if (process.connected) process.send(msg);
};

function fail(message) {
  send({ type: 'error', role: cfg.role, id: cfg.id, message });
}

/**
 * Streaming reader of server-to-client NATS protocol. For MSG/HMSG it reads only the header
 * line, takes the size from its last token and skips size+2 bytes, however the frames are split
 * across chunks. Control lines (PING, PONG, -ERR, +OK, INFO) go to callbacks.
 */
class ProtoReader {
  constructor(handlers) {
    this.count = 0; // MSG/HMSG frames seen
    this.skip = 0; // payload bytes (+CRLF) still to skip
    this.carry = null; // partial control line from the previous chunk
    this.onMsg = handlers.onMsg ?? null; // (buf, lineStart, lineEnd) — lineEnd excludes CRLF
    this.onPing = handlers.onPing ?? (() => {});
    this.onPong = handlers.onPong ?? (() => {});
    this.onErr = handlers.onErr ?? (() => {});
  }

  feed(chunk) {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      if (this.skip > 0) {
        const avail = len - pos;
        if (avail <= this.skip) {
          this.skip -= avail;
          return;
        }
        pos += this.skip;
        this.skip = 0;
        continue;
      }
      const nl = chunk.indexOf(10, pos);
      if (this.carry !== null) {
        if (nl === -1) {
          this.carry = Buffer.concat([this.carry, chunk.subarray(pos)]);
          if (this.carry.length > 1 << 20) throw new Error('control line longer than 1 MiB');
          return;
        }
        const line = Buffer.concat([this.carry, chunk.subarray(pos, nl + 1)]);
        this.carry = null;
        this.line(line, 0, line.length - 1);
        pos = nl + 1;
        continue;
      }
      if (nl === -1) {
        this.carry = Buffer.from(chunk.subarray(pos)); // copy: the chunk may be reused
        return;
      }
      this.line(chunk, pos, nl);
      pos = nl + 1;
    }
  }

  /** buf[start, nl) is one line; buf[nl] is '\n'. */
  line(buf, start, nl) {
    let end = nl;
    if (end > start && buf[end - 1] === 13) end--;
    const c0 = buf[start];
    if (c0 === 0x4d /* M */ || (c0 === 0x48 /* H */ && buf[start + 1] === 0x4d)) {
      // MSG <subject> <sid> [reply] <size>  |  HMSG <subject> <sid> [reply] <hdr> <total>
      let size = 0;
      let mul = 1;
      let p = end - 1;
      while (p > start && buf[p] >= 0x30 && buf[p] <= 0x39) {
        size += (buf[p] - 0x30) * mul;
        mul *= 10;
        p--;
      }
      this.count++;
      this.skip = size + 2;
      if (this.onMsg !== null) this.onMsg(buf, start, end);
      return;
    }
    if (c0 === 0x50 /* P */) {
      if (buf[start + 1] === 0x49) this.onPing();
      else this.onPong();
      return;
    }
    if (c0 === 0x2d /* - */) {
      this.onErr(buf.toString('latin1', start, end));
      return;
    }
    // +OK, INFO: ignored.
  }
}

/** Connects, sends CONNECT + `extra` + PING and resolves with the socket once PONG arrives. */
function connect(reader, extra = '') {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: cfg.host, port: cfg.port });
    sock.setNoDelay(true);
    let ready = false;
    const origPong = reader.onPong;
    reader.onPong = () => {
      if (!ready) {
        ready = true;
        reader.onPong = origPong;
        resolve(sock);
      } else origPong();
    };
    reader.onPing = () => sock.write(PONG);
    sock.on('data', (chunk) => reader.feed(chunk));
    sock.once('error', (err) => {
      if (!ready) reject(err);
      else if (!stopping) fail(`socket error: ${err.message}`);
    });
    sock.once('close', () => {
      if (!ready) reject(new Error('closed before PONG'));
      else if (!stopping) fail('connection closed by the broker (slow consumer?)');
      // No PONG will come any more: release whoever waits for one.
      sock.closedByPeer = true;
      for (const f of sock.onClosed ?? []) f();
    });
    sock.write(Buffer.concat([CONNECT, Buffer.from(extra), PING]));
  });
}

let stopping = false;

function onParent(handler) {
  process.on('message', (msg) => {
    if (msg.type === 'exit') {
      stopping = true;
      process.exit(0);
    }
    handler(msg);
  });
  process.on('disconnect', () => process.exit(0));
}

/** Sends PING on `sock` and resolves when its PONG (counted in `state.pongs`) arrives. */
function makePinger(sock) {
  const st = { sent: 0, received: 0, waiters: [] };
  (sock.onClosed ??= []).push(() => {
    for (const w of st.waiters.splice(0)) w.resolve();
  });
  st.ping = () => {
    if (sock.closedByPeer) return Promise.resolve();
    sock.write(PING);
    const n = ++st.sent;
    return new Promise((resolve) => st.waiters.push({ n, resolve }));
  };
  st.pong = () => {
    st.received++;
    while (st.waiters.length > 0 && st.waiters[0].n <= st.received) st.waiters.shift().resolve();
  };
  return st;
}

// ---- roles -------------------------------------------------------------------------------------

async function runSub() {
  const reader = new ProtoReader({ onErr: (t) => fail(`broker sent ${t}`) });
  const queue = cfg.queue ? ` ${cfg.queue}` : '';
  // `subjects`: one SUB per subject (sids 1..n) on this connection, e.g. wildcards for subs-10k.
  const subs = cfg.subjects ? cfg.subjects.map((s, i) => `SUB ${s} ${i + 1}\r\n`).join('') : `SUB ${cfg.subject}${queue} 1\r\n`;
  const sock = await connect(reader, subs);
  const pinger = makePinger(sock);
  reader.onPong = pinger.pong;
  let mark = null;
  onParent(async (msg) => {
    if (msg.type === 'begin') mark = { count: reader.count, t: now() };
    else if (msg.type === 'end') {
      const t = now();
      send({ type: 'window', count: reader.count - mark.count, ns: Number(t - mark.t) });
    } else if (msg.type === 'drain') {
      // Everything routed to us before this PING was processed arrives before its PONG.
      await pinger.ping();
      send({ type: 'drained', count: reader.count });
    }
  });
  send({ type: 'ready' });
}

async function runPub() {
  const reader = new ProtoReader({ onErr: (t) => fail(`broker sent ${t}`) });
  const sock = await connect(reader);
  const pinger = makePinger(sock);
  const payload = Buffer.alloc(cfg.size, 0x61);
  // `subjects`: the publisher cycles through them, frame after frame, across the batches.
  const subjects = cfg.subjects ?? [cfg.subject];
  const frames = subjects.map((s) => Buffer.concat([Buffer.from(`PUB ${s} ${cfg.size}\r\n`), payload, CRLF]));
  const frame = frames[0];
  const avgFrame = frames.reduce((a, f) => a + f.length, 0) / frames.length;
  const perBatch = Math.max(1, Math.floor(cfg.batchBytes / avgFrame));
  const batchList = [];
  for (let b = 0, k = 0; b < Math.max(1, Math.ceil(frames.length / perBatch)); b++) {
    const part = [];
    for (let j = 0; j < perBatch; j++) part.push(frames[k++ % frames.length]);
    batchList.push(Buffer.concat(part));
  }
  let batchIdx = 0;
  const { pingEvery, maxPingsOut } = cfg;

  let sent = 0;
  let batches = 0;
  let running = false;
  let waitDrain = false;
  let waitPong = false;
  let mark = null;

  const pump = () => {
    while (running) {
      if (pinger.sent - pinger.received >= maxPingsOut) {
        waitPong = true;
        return;
      }
      const ok = sock.write(batchList[batchIdx]);
      if (++batchIdx === batchList.length) batchIdx = 0;
      sent += perBatch;
      if (++batches % pingEvery === 0) {
        sock.write(PING);
        pinger.sent++;
      }
      if (!ok) {
        waitDrain = true;
        return;
      }
    }
  };
  reader.onPong = () => {
    pinger.pong();
    if (waitPong && pinger.sent - pinger.received < maxPingsOut) {
      waitPong = false;
      if (!waitDrain) pump();
    }
  };
  sock.on('drain', () => {
    waitDrain = false;
    if (!waitPong) pump();
  });

  onParent(async (msg) => {
    if (msg.type === 'go') {
      running = true;
      pump();
    } else if (msg.type === 'begin') mark = { sent, t: now() };
    else if (msg.type === 'end') {
      const t = now();
      send({ type: 'window', count: sent - mark.sent, ns: Number(t - mark.t) });
    } else if (msg.type === 'stop') {
      running = false;
      // The PONG to this PING comes after the broker has routed every message we wrote.
      await pinger.ping();
      send({ type: 'stopped', count: sent });
    }
  });
  send({ type: 'ready', perBatch, frameBytes: frame.length });
}

async function runResponder() {
  const payload = Buffer.alloc(cfg.size, 0x62);
  let sock;
  const reader = new ProtoReader({
    onErr: (t) => fail(`broker sent ${t}`),
    onMsg: (buf, start, end) => {
      // MSG <subject> <sid> <reply> <size>: the reply is the 4th token.
      const parts = buf.toString('latin1', start, end).split(' ');
      if (parts.length < 5) return fail('request without a reply subject');
      sock.write(Buffer.concat([Buffer.from(`PUB ${parts[3]} ${cfg.size}\r\n`), payload, CRLF]));
    },
  });
  sock = await connect(reader, `SUB ${cfg.subject} 1\r\n`);
  onParent(() => {});
  send({ type: 'ready' });
}

async function runRequester() {
  const payload = Buffer.alloc(cfg.size, 0x63);
  const tail = Buffer.concat([payload, CRLF]);
  let sock;
  let seq = 0;
  let t0 = 0n;
  let running = false;
  let recording = false;
  let samples = [];
  let total = 0;
  let expect = '';
  const request = () => {
    seq++;
    expect = `MSG bench.inbox.${seq} `;
    t0 = now();
    sock.write(Buffer.concat([Buffer.from(`PUB ${cfg.subject} bench.inbox.${seq} ${cfg.size}\r\n`), tail]));
  };
  const reader = new ProtoReader({
    onErr: (t) => fail(`broker sent ${t}`),
    onMsg: (buf, start, end) => {
      const t1 = now();
      if (buf.toString('latin1', start, start + expect.length) !== expect) {
        return fail(`unexpected reply ${buf.toString('latin1', start, end)}`);
      }
      total++;
      if (recording) samples.push(Number(t1 - t0) / 1000); // µs
      if (running) request();
    },
  });
  sock = await connect(reader, 'SUB bench.inbox.* 1\r\n');
  let mark = null;
  onParent((msg) => {
    if (msg.type === 'go') {
      running = true;
      request();
    } else if (msg.type === 'begin') {
      samples = [];
      recording = true;
      mark = { total, t: now() };
    } else if (msg.type === 'end') {
      recording = false;
      const ns = Number(now() - mark.t);
      const s = Float64Array.from(samples).sort();
      const q = (p) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]);
      send({
        type: 'window',
        count: total - mark.total,
        ns,
        latency: { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1] ?? NaN, mean: s.reduce((a, b) => a + b, 0) / s.length },
      });
    } else if (msg.type === 'stop') {
      running = false;
      send({ type: 'stopped', count: total });
    }
  });
  send({ type: 'ready' });
}

async function runStartup() {
  const { createServer } = await import(process.env.NATS_EMBEDDED_DIST ? pathToFileURL(path.join(process.env.NATS_EMBEDDED_DIST, 'index.js')).href : new URL('../dist/index.js', import.meta.url).href);
  const ms = (a, b) => Number(b - a) / 1e6;
  const create = [];
  const close = [];
  for (let i = 0; i < cfg.warmup + cfg.iterations; i++) {
    const a = now();
    const server = await createServer();
    const b = now();
    await server.close();
    const c = now();
    if (i >= cfg.warmup) {
      create.push(ms(a, b));
      close.push(ms(b, c));
    }
  }
  const stats = (xs) => {
    const s = Float64Array.from(xs).sort();
    const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    return { n: s.length, median: q(0.5), p90: q(0.9), min: s[0], max: s[s.length - 1] };
  };
  onParent(() => {});
  send({ type: 'startup', create: stats(create), close: stats(close) });
}

/**
 * Idle connections: opens `cfg.count` connections, at most `cfg.parallel` handshakes at a time.
 * Each sends CONNECT + PING and counts as open once its PONG arrives. Then they stay idle (they
 * answer the broker's PINGs). Failures (EMFILE, ECONNREFUSED, ECONNRESET, closed before PONG, ...)
 * are counted by error code and reported, not thrown: a limit is a result here.
 */
async function runIdle() {
  const open = new Set();
  const failures = {};
  let closedLater = 0;
  let firstError = null;
  const hello = Buffer.concat([CONNECT, PING]);
  const one = () =>
    new Promise((resolve) => {
      let done = false;
      let sock;
      const timer = setTimeout(() => finish(Object.assign(new Error('no PONG within 10 s'), { code: 'TIMEOUT' })), 10_000);
      const finish = (err) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) {
          const code = err.code ?? err.message;
          failures[code] = (failures[code] ?? 0) + 1;
          firstError ??= `${code}: ${err.message}`;
          sock?.destroy();
        } else open.add(sock);
        resolve();
      };
      try {
        sock = net.connect({ host: cfg.host, port: cfg.port });
      } catch (err) {
        return finish(err); // EMFILE can be thrown synchronously on some platforms
      }
      const reader = new ProtoReader({
        onPong: () => finish(null),
        onPing: () => sock.write(PONG),
        onErr: (t) => finish(new Error(`broker sent ${t}`)),
      });
      sock.on('data', (chunk) => reader.feed(chunk));
      sock.on('error', (err) => finish(err));
      sock.on('close', () => {
        if (!done) finish(Object.assign(new Error('closed before PONG'), { code: 'CLOSED' }));
        else if (open.delete(sock) && !stopping) closedLater++;
      });
      sock.write(hello);
    });
  const t0 = now();
  // After 60 s no new connection is started (a broker that stopped accepting would otherwise
  // keep every worker waiting out one timeout after the other); the rest count as NOT_TRIED.
  const deadline = Date.now() + 60_000;
  let next = 0;
  const worker = async () => {
    while (next < cfg.count && Date.now() < deadline) {
      next++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.parallel ?? 64, cfg.count) }, worker));
  const ns = Number(now() - t0);
  if (next < cfg.count) failures.NOT_TRIED = cfg.count - next;
  onParent((msg) => {
    if (msg.type === 'check') send({ type: 'alive', open: open.size, closedLater });
  });
  send({ type: 'ready', opened: open.size, failures, firstError, ns });
}

/**
 * Subject of the i-th subscription of connection `c` in subs-1m: 80 % literal, 10 % with `*`,
 * 10 % with `>`, every subject distinct, 1,000 leaves under each group token.
 */
function floodSubject(c, i) {
  const g = Math.floor(i / 1000);
  switch (i % 10) {
    case 8: return `app.${c}.*.${i}`;
    case 9: return `app.${c}.${g}.${i}.>`;
    default: return `app.${c}.${g}.${i}`;
  }
}

/** One connection that writes `cfg.count` SUB lines in one go when told, then PING; reports the PONG. */
async function runSubFlood() {
  const parts = [];
  for (let i = 0; i < cfg.count; i++) parts.push(`SUB ${floodSubject(cfg.id, i)} ${i + 1}\r\n`);
  const buf = Buffer.from(parts.join(''), 'latin1');
  parts.length = 0;
  const reader = new ProtoReader({ onErr: (t) => fail(`broker sent ${t}`) });
  const sock = await connect(reader);
  const pinger = makePinger(sock);
  reader.onPong = pinger.pong;
  onParent(async (msg) => {
    if (msg.type !== 'go') return;
    const t0 = now();
    sock.write(buf);
    await pinger.ping(); // its PONG comes after the broker has processed every SUB before it
    const ns = Number(now() - t0);
    if (sock.closedByPeer) fail('connection closed by the broker while subscribing');
    send({ type: 'done', ns, count: cfg.count });
  });
  send({ type: 'ready', bytes: buf.length });
}

const roles = { sub: runSub, pub: runPub, responder: runResponder, requester: runRequester, startup: runStartup, idle: runIdle, subflood: runSubFlood };
const role = roles[cfg.role];
if (role === undefined) {
  fail(`unknown role ${cfg.role}`);
  process.exit(1);
}
role().catch((err) => {
  fail(`${cfg.role} failed: ${err.stack ?? err}`);
  setTimeout(() => process.exit(1), 50);
});
