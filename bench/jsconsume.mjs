// JetStream consumer benchmark client (forked by run.mjs; see bench/README.md, "JetStream consumers").
// Runs in its own process, never in the broker's, and consumes the way users do: the official
// client (@nats-io/transport-node + @nats-io/jetstream), the same code against nats-embedded and
// nats-server.
//
// Config (JSON in argv[2]):
//   { port, mode: 'consume'|'fetch'|'push'|'rtt', storage: 'memory'|'file', count, size, warmup, duration }
//
// consume / fetch / push: a stream BENCH (subject js.bench) is filled with `count` messages of
//   `size` bytes by core publishes without a reply subject (PUB, no ack), in batches of 1,000 with a
//   flush after each, until $JS.API.STREAM.INFO shows `count` messages (the fill is not measured).
//   Then a durable consumer with explicit acks is created and drained, each message acked with
//   m.ack() as it is handled:
//     consume  pull consumer, consumer.consume() with the client's defaults (max_messages 100, next
//              pull at 75 pending, expires 30 s), iterated with for await
//     fetch    pull consumer, a loop of consumer.fetch({ max_messages: 100, expires: 5 s })
//     push     push consumer (deliver_subject, explicit ack), js.consumers.getPushConsumer().consume()
//   The drain runs from just before the first consume()/fetch() call until the last message is
//   acked and a flush() round trip confirms the broker has read every ack. Checks: every stream
//   sequence 1..count was received exactly once (no gap, no duplicate, no redelivery) and the
//   consumer's num_ack_pending and num_pending end at 0 (polled for up to 5 s after the drain).
// rtt: an empty stream and a pull consumer drained with consume(); a second connection publishes
//   one message at a time with a core publish (no reply subject: the publish path without the
//   PubAck round trip); the consumer acks it with `await m.ackAck()` (the broker confirms the ack)
//   and only then is the next message published. Latency = publish → ackAck() resolved, per
//   message; also publish → receipt by the consumer. Warm-up `warmup` s, then a `duration` s window.
//
// IPC to the parent: {type:'begin'} / {type:'end'} around the measured part (the parent reads
// the broker's CPU time at each), then one {type:'result', ...} or {type:'error', message}.
import { connect } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { reportToParent } from './report.mjs';
import { stallWatchdog } from './net.mjs';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const STREAM = 'BENCH';
const SUBJECT = 'js.bench';
const DURABLE = 'C';
const FILL_BATCH = 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => process.hrtime.bigint();
const mark = (type) => process.send?.({ type });
/** The consumer's connection (acks go out on it). */
let nc;

async function main() {
  const servers = `127.0.0.1:${cfg.port}`;
  const errors = [];
  nc = await connect({ servers, name: 'bench-consumer' });
  const watch = (c, name) => {
    (async () => {
      for await (const s of c.status()) {
        if (s.type === 'error' || s.type === 'disconnect' || s.type === 'slowConsumer') errors.push(`${name}: ${s.type} ${s.error?.message ?? s.server ?? ''}`.trim());
      }
    })().catch(() => {});
  };
  watch(nc, 'consumer connection');
  const pub = await connect({ servers, name: 'bench-publisher' });
  watch(pub, 'publisher connection');
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.delete(STREAM).catch(() => {}); // (a fresh broker per run in run.mjs; this is for runs by hand)
    await jsm.streams.add({
      name: STREAM, subjects: [SUBJECT], storage: cfg.storage === 'file' ? StorageType.File : StorageType.Memory, num_replicas: 1,
    });
    const payload = new Uint8Array(cfg.size).fill(0x61);
    const r = cfg.mode === 'rtt' ? await rtt(jsm, js, pub, payload) : await drain(jsm, js, pub, payload);
    r.errors = errors.concat(r.errors ?? []);
    return r;
  } finally {
    await pub.close().catch(() => {});
    await nc.close().catch(() => {});
  }
}

/** Core publishes (no reply subject) until STREAM.INFO shows `count` messages. */
async function fill(jsm, pub, payload, count) {
  const t0 = now();
  for (let sent = 0; sent < count;) {
    const n = Math.min(FILL_BATCH, count - sent);
    for (let i = 0; i < n; i++) pub.publish(SUBJECT, payload);
    sent += n;
    await pub.flush();
  }
  // Stored asynchronously by the broker: wait for the count, failing if it stops growing.
  let last = -1;
  let since = Date.now();
  for (;;) {
    const { state } = await jsm.streams.info(STREAM);
    if (state.messages >= count) {
      if (state.messages !== count) throw new Error(`fill: the stream holds ${state.messages} messages, ${count} were published`);
      return Number(now() - t0) / 1e9;
    }
    if (state.messages !== last) {
      last = state.messages;
      since = Date.now();
    } else if (Date.now() - since > 10_000) {
      throw new Error(`fill: the stream holds ${state.messages} of ${count} published messages and stopped growing (dropped by the broker?)`);
    }
    await sleep(50);
  }
}

/** The error a consumer create answered with, as "code/err_code description" where known. */
function apiError(err) {
  const e = typeof err?.apiError === 'function' ? err.apiError() : null;
  if (e) return `${e.code}/${e.err_code} ${e.description}`;
  return String(err?.message ?? err);
}

async function drain(jsm, js, pub, payload) {
  const count = cfg.count;
  const fillSec = await fill(jsm, pub, payload, count);
  await sleep(200);

  const config = { durable_name: DURABLE, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All };
  if (cfg.mode === 'push') config.deliver_subject = 'bench.push.deliver';
  try {
    await jsm.consumers.add(STREAM, config);
  } catch (err) {
    // e.g. a broker without push consumers refusing deliver_subject (10012): a clear failure.
    throw new Error(`consumer create (${cfg.mode === 'push' ? 'push, deliver_subject' : 'pull'}) refused: ${apiError(err)}`);
  }
  const consumer = cfg.mode === 'push' ? await js.consumers.getPushConsumer(STREAM, DURABLE) : await js.consumers.get(STREAM, DURABLE);

  const seen = new Uint8Array(count + 1);
  let received = 0;
  let unique = 0;
  let duplicates = 0;
  let redelivered = 0;
  let outOfRange = 0;
  let sizeMismatch = 0;
  // Warm-up: the first WARM messages (10 %) let both processes settle (V8 compiles the broker's
  // and the client's hot paths); the measured part runs from the WARM-th message to the end.
  const warm = Math.floor(count / 10);
  let tWarm = 0n;
  let cpuWarm = null;
  const handle = (m) => {
    if (received === warm) {
      cpuWarm = process.cpuUsage();
      mark('begin');
      tWarm = now();
    }
    received++;
    const seq = m.seq;
    if (seq < 1 || seq > count) outOfRange++;
    else if (seen[seq] === 0) {
      seen[seq] = 1;
      unique++;
    } else duplicates++;
    if (m.redelivered) redelivered++;
    if (m.data.length !== cfg.size) sizeMismatch++;
    m.ack();
  };

  const t0 = now();
  let fetches = 0;
  let timedOut = false;
  if (cfg.mode === 'fetch') {
    // A drain that stalls must end: two empty fetches in a row (10 s) stop it.
    let empty = 0;
    while (unique < count && empty < 2) {
      const before = received;
      const iter = await consumer.fetch({ max_messages: 100, expires: 5000 });
      fetches++;
      for await (const m of iter) handle(m);
      empty = received === before ? empty + 1 : 0;
    }
    timedOut = unique < count;
  } else {
    const messages = await consumer.consume();
    // A drain that stalls must end: no message for 10 s stops it (what is missing is reported).
    const watchdog = stallWatchdog(() => received, () => {
      timedOut = true;
      messages.stop();
    });
    for await (const m of messages) {
      handle(m);
      if (unique >= count) break;
    }
    clearInterval(watchdog);
    await messages.close();
  }
  await nc.flush(); // every ack has reached the broker
  const t1 = now();
  mark('end');
  const cpu = cpuWarm ? process.cpuUsage(cpuWarm) : null;
  const drainSec = Number(t1 - t0) / 1e9;
  const measured = received - warm;
  const measuredSec = Number(t1 - tWarm) / 1e9;

  const errors = [];
  if (timedOut) errors.push(`drain stalled after ${received} of ${count} messages`);
  if (unique !== count) errors.push(`${count - unique} of ${count} stream messages never received`);
  if (duplicates) errors.push(`${duplicates} messages received more than once`);
  if (redelivered) errors.push(`${redelivered} messages flagged as redelivered`);
  if (outOfRange) errors.push(`${outOfRange} messages with a stream sequence outside 1..${count}`);
  if (sizeMismatch) errors.push(`${sizeMismatch} messages with a payload that is not ${cfg.size} B`);

  // The acks are fire-and-forget: give the broker up to 5 s to account for all of them.
  let info = await consumer.info();
  for (let i = 0; i < 100 && (info.num_ack_pending !== 0 || info.num_pending !== 0); i++) {
    await sleep(50);
    info = await consumer.info();
  }
  if (info.num_ack_pending !== 0) errors.push(`consumer num_ack_pending is ${info.num_ack_pending} after the drain, not 0`);
  if (info.num_pending !== 0) errors.push(`consumer num_pending is ${info.num_pending} after the drain, not 0`);
  if (info.delivered?.stream_seq !== count) errors.push(`consumer delivered.stream_seq is ${info.delivered?.stream_seq}, not ${count}`);
  if (info.ack_floor?.stream_seq !== count) errors.push(`consumer ack_floor.stream_seq is ${info.ack_floor?.stream_seq}, not ${count}`);

  return {
    messages: count,
    received,
    unique,
    lost: count - unique,
    expectedTotal: count,
    fillSec,
    drainSec,
    warmMessages: warm,
    measured,
    measuredSec,
    rate: cpuWarm && measured > 0 ? measured / measuredSec : null,
    drainRate: received / drainSec,
    fetches: cfg.mode === 'fetch' ? fetches : undefined,
    clientCpuUsPerMsg: cpu && measured > 0 ? (cpu.user + cpu.system) / measured : null,
    consumerInfo: { num_ack_pending: info.num_ack_pending, num_pending: info.num_pending, num_redelivered: info.num_redelivered, delivered: info.delivered?.stream_seq, ack_floor: info.ack_floor?.stream_seq },
    errors,
  };
}

async function rtt(jsm, js, pub, payload) {
  await jsm.consumers.add(STREAM, { durable_name: DURABLE, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
  const consumer = await js.consumers.get(STREAM, DURABLE);
  const messages = await consumer.consume();
  const errors = [];
  let recording = false;
  let rttSamples = [];
  let deliverSamples = [];
  let total = 0;
  let t0 = 0n;
  let lastSeq = 0;
  let running = true;
  let wake = null;

  // The consumer: receive, ackAck (the broker confirms the ack), then let the publisher go on.
  const consumerLoop = (async () => {
    for await (const m of messages) {
      const tRecv = now();
      if (m.seq !== lastSeq + 1) errors.push(`received stream seq ${m.seq} after ${lastSeq}`);
      lastSeq = m.seq;
      if (m.redelivered) errors.push(`seq ${m.seq} redelivered`);
      try {
        await m.ackAck({ expect: 5000 });
      } catch (err) {
        errors.push(`ackAck of seq ${m.seq} failed: ${err.message}`);
      }
      const tAck = now();
      if (recording) {
        deliverSamples.push(Number(tRecv - t0) / 1000);
        rttSamples.push(Number(tAck - t0) / 1000);
      }
      total++;
      const w = wake;
      wake = null;
      w?.(true);
      if (errors.length > 10 || !running) break;
    }
  })();

  // The publisher: one message in flight.
  const publisherLoop = (async () => {
    while (running && errors.length <= 10) {
      const next = new Promise((r) => (wake = r));
      t0 = now();
      pub.publish(SUBJECT, payload);
      if (!(await next)) break;
    }
  })();
  // A lost message must not hang the run: no round trip for 10 s ends it.
  const watchdog = stallWatchdog(() => total, () => {
    if (!running) return;
    errors.push(`message ${total + 1} not received and acked within 10 s`);
    running = false;
    const w = wake;
    wake = null;
    w?.(false);
  });

  await sleep(cfg.warmup * 1000);
  rttSamples = [];
  deliverSamples = [];
  const cpu0 = process.cpuUsage();
  mark('begin');
  recording = true;
  const m0 = { total, t: now() };
  await sleep(cfg.duration * 1000);
  recording = false;
  const m1 = { total, t: now() };
  mark('end');
  const cpu = process.cpuUsage(cpu0);
  running = false;
  await publisherLoop;
  clearInterval(watchdog);
  messages.stop();
  await consumerLoop;
  await messages.close().catch(() => {});

  const q = (arr) => {
    const s = Float64Array.from(arr).sort();
    const at = (p) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]);
    return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1] ?? NaN, mean: s.reduce((a, b) => a + b, 0) / s.length };
  };
  const count = m1.total - m0.total;
  // The last message is acked (ackAck): nothing may be left pending.
  const info = await consumer.info();
  if (info.num_ack_pending !== 0) errors.push(`consumer num_ack_pending is ${info.num_ack_pending} at the end, not 0`);
  if (info.delivered?.stream_seq !== lastSeq) errors.push(`consumer delivered.stream_seq ${info.delivered?.stream_seq}, last received ${lastSeq}`);
  return {
    roundTrips: count,
    rate: (count * 1e9) / Number(m1.t - m0.t),
    latencyUs: q(rttSamples),
    deliverUs: q(deliverSamples),
    clientCpuUsPerMsg: count > 0 ? (cpu.user + cpu.system) / count : null,
    total,
    consumerInfo: { num_ack_pending: info.num_ack_pending, num_pending: info.num_pending, delivered: info.delivered?.stream_seq, ack_floor: info.ack_floor?.stream_seq },
    errors,
  };
}

reportToParent(main());
