#!/usr/bin/env node
// R3 benchmark: JetStream publish-with-ack on a replicated (R3) stream of a 3-member cluster, and
// the consumption of such a stream by a replicated durable consumer, as applications do it,
// through the official client (@nats-io/transport-node + @nats-io/jetstream).
//
//   npm run bench:r3 -- [--targets nats-server] [--storage file,memory] [--modes tput,lat,consume]
//                       [--retention limits|workqueue|interest] [--window 64] [--size 128] [--replicas 3] [--via follower|leader]
//                       [--count 20000] [--warmup 1] [--duration 3] [--rounds 1] [--json]
//
// Scenarios, per target and storage (a fresh stream each, on one cluster per target):
//   tput     `window` js.publish() in flight (a new one as each ack arrives): acked msgs/s
//   lat      one `await js.publish()` at a time: p50 / p90 / p99 µs per publish → PubAck
//   consume  (not in the default modes: it fills two streams) two rows, each on a fresh stream
//            pre-filled with `count` messages through the publish path (`window` js.publish() in
//            flight, not measured), then a durable pull consumer with explicit acks and the
//            stream's num_replicas (the default) drained with consumer.consume({ max_messages:
//            `window` }):
//              ack     each message acked with m.ack() (fire and forget); the drain ends when the
//                      last ack is sent and a flush() round trip has seen it reach the member
//              ackAck  each message acked with m.ackAck() (the broker replies once the ack is
//                      replicated), at most `window` of them unanswered; the drain ends when the
//                      last one is answered
//            consumed-and-acked msgs/s from the 10 %-th message to the end (the first 10 % warm
//            up). Checks: every stream sequence 1..count arrives exactly once, in order, never
//            flagged redelivered, with its payload size; after the drain (up to 5 s for the
//            plain acks to replicate; the time that took is reported as "settled") CONSUMER.INFO
//            shows ack_floor.stream_seq = count, delivered.stream_seq = count, num_ack_pending 0
//            and num_pending 0. With --retention workqueue or interest (the stream's retention;
//            default limits), the stream must also be empty within 5 s of the drain ("empty").
// The client runs in its own process (this file, forked with --client), connected to one member
// only: by default a follower of the stream (the usual case: 2 of 3 clients), with --via leader
// the stream leader's own member. --via picks by the *stream's* leader in every mode: the
// consumer's leader is wherever the cluster puts it (its group is placed on the stream's peers;
// the embedded cluster starts it on the stream's leader), and each consume row reports it. Checks (tput, lat): every publish is acked, acks of one connection
// come in sequence order, and the stream holds exactly the acked messages at the end.
// The servers' CPU time over the measured window is read from /proc/<pid>/stat (100 % = a core).
//
// Targets: a function that starts a 3-member JetStream cluster and returns
//   { urls: string[], pids: number[], version: string, close(): Promise<void> }
// `nats-server`: three `nats-server` processes, routes between all, own store each (from
// $NATS_SERVER_BIN or PATH); `embedded`: createCluster({ jetstream: true }) from dist/, its three
// members in one Node.js process (build first: npm run build).
import { fork, spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath, freePort, sleep, stallWatchdog } from './net.mjs';

const SELF = fileURLToPath(import.meta.url);
const HOST = '127.0.0.1';

// ---- targets -------------------------------------------------------------------------------------

/** Waits until `$JS.API.INFO` answers without an error through `url` (the meta group has a leader). */
async function waitForMetaLeader(url, timeoutMs = 30_000) {
  const { connect } = await import('@nats-io/transport-node');
  const nc = await connect({ servers: url, reconnect: false });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        const r = await nc.request('$JS.API.INFO', '', { timeout: 1000 });
        if (r.json().error === undefined) return;
      } catch {}
      if (Date.now() > deadline) throw new Error(`no JetStream meta leader after ${timeoutMs} ms`);
      await sleep(50);
    }
  } finally {
    await nc.close();
  }
}

/** Three real nats-server processes: `server_name` n1..n3, routes to all others, a store each. */
async function startNatsServerCluster(size = 3) {
  const bin = process.env.NATS_SERVER_BIN || findOnPath('nats-server');
  if (!bin) throw new Error('no nats-server binary ($NATS_SERVER_BIN or PATH)');
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-r3-'));
  const ports = new Set();
  while (ports.size < 2 * size) ports.add(await freePort());
  const all = [...ports];
  const client = all.slice(0, size);
  const route = all.slice(size);
  const children = [];
  // Whatever happens to this process, the servers do not outlive it.
  const killAll = () => children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'));
  process.once('exit', killAll);
  const close = async () => {
    process.off('exit', killAll);
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => { c.once('exit', r); c.kill('SIGKILL'); }) : undefined)));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(client.map(async (port, i) => {
      const conf = path.join(dir, `n${i + 1}.conf`);
      fs.writeFileSync(conf, [
        `server_name: n${i + 1}`,
        `listen: "${HOST}:${port}"`,
        `jetstream { store_dir: "${path.join(dir, `store-n${i + 1}`)}" }`,
        `cluster { name: BENCH, listen: "${HOST}:${route[i]}", routes: [${route.filter((_, j) => j !== i).map((p) => `"nats-route://${HOST}:${p}"`).join(', ')}] }`,
      ].join('\n'));
      const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      await new Promise((resolve, reject) => {
        let log = '';
        const timer = setTimeout(() => reject(new Error(`n${i + 1} did not start: ${log}`)), 10_000);
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`n${i + 1} exited with ${code}: ${log}`));
        });
        child.stderr.on('data', (d) => {
          log += d.toString();
          if (log.includes('Server is ready')) {
            clearTimeout(timer);
            resolve();
          }
          if (log.length > 65536) log = log.slice(-32768);
        });
      });
    }));
    const urls = client.map((p) => `nats://${HOST}:${p}`);
    await waitForMetaLeader(urls[0]);
    return { urls, pids: children.map((c) => c.pid), version, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The embedded cluster, `createCluster({ size, jetstream: true })` from dist/, in a Node.js process
 * of its own (as a test runner would hold it), so that its CPU time is measured like the real servers'.
 */
async function startEmbeddedCluster(size = 3) {
  const dist = new URL('../dist/index.js', import.meta.url).href;
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const script = `const { createCluster } = await import(${JSON.stringify(dist)});
const c = await createCluster({ size: ${size}, jetstream: true });
process.stdout.write(JSON.stringify({ urls: c.urls }) + '\\n');
process.stdin.on('end', async () => { await c.close(); process.exit(0); });
process.stdin.resume();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const killIt = () => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL');
  process.once('exit', killIt);
  const urls = await new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`the embedded cluster exited with ${code}`)));
    child.stdout.on('data', (d) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)).urls);
    });
  });
  await waitForMetaLeader(urls[0]);
  const close = async () => {
    process.off('exit', killIt);
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise((r) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => { clearTimeout(t); r(); });
      child.stdin.end();
    });
  };
  return { urls, pids: [child.pid], version: `nats-embedded ${pkg.version}`, close };
}

/** name → start(): { urls, pids, version, close }. */
const TARGETS = {
  'nats-server': startNatsServerCluster,
  embedded: startEmbeddedCluster,
};

// ---- the client process (forked with --client <json>) -------------------------------------------

function quantiles(arr) {
  const s = Float64Array.from(arr).sort();
  const at = (p) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]);
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1] ?? NaN };
}

async function clientMain(cfg) {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream, jetstreamManager, StorageType } = await import('@nats-io/jetstream');
  const now = () => process.hrtime.bigint();
  const mark = (type) => process.send?.({ type });
  // Create the stream through member 0 and wait until its group is whole (leader + current replicas).
  const admin = await connect({ servers: cfg.urls[0], name: 'bench-r3-admin' });
  const jsm = await jetstreamManager(admin);
  // Right after start, nats-server's meta leader may not know all peers yet and answers 10005 "no
  // suitable peers for placement": retried for up to 10 s.
  for (const deadline = Date.now() + 10_000; ;) {
    try {
      await jsm.streams.add({ name: cfg.stream, subjects: [`${cfg.stream}.>`], storage: cfg.storage === 'file' ? StorageType.File : StorageType.Memory, num_replicas: cfg.replicas, retention: cfg.retention });
      break;
    } catch (err) {
      if (!/no suitable peers/.test(String(err?.message ?? err)) || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
  let leader;
  for (const deadline = Date.now() + 30_000; ;) {
    const si = await jsm.streams.info(cfg.stream).catch(() => null);
    const c = si?.cluster;
    if (c?.leader && (c.replicas ?? []).length === cfg.replicas - 1 && (c.replicas ?? []).every((p) => p.current)) {
      leader = c.leader;
      break;
    }
    if (Date.now() > deadline) throw new Error(`stream ${cfg.stream} has no healthy group: ${JSON.stringify(c)}`);
    await sleep(50);
  }
  // The member to publish through: the leader's, or the first other one.
  const names = [];
  for (const url of cfg.urls) {
    const nc = await connect({ servers: url, reconnect: false });
    names.push(nc.info.server_name);
    await nc.close();
  }
  const via = cfg.via === 'leader' ? names.indexOf(leader) : names.findIndex((n) => n !== leader);
  const nc = await connect({ servers: cfg.urls[via], name: 'bench-r3', reconnect: false });
  const js = jetstream(nc);
  const subject = `${cfg.stream}.x`;
  const payload = new Uint8Array(cfg.size).fill(120);
  const errors = [];
  let lastSeq = 0;
  let acked = 0;
  const one = async () => {
    const ack = await js.publish(subject, payload, { timeout: 10_000 });
    // One connection, one stream: acks come in sequence order.
    if (ack.seq !== lastSeq + 1 && errors.length < 10) errors.push(`ack seq ${ack.seq} after ${lastSeq}`);
    lastSeq = Math.max(lastSeq, ack.seq);
    acked++;
  };
  if (cfg.mode === 'consume') return consumeRun(cfg, { jsm, js, nc, one, errors, leader, via: names[via], admin });
  let stop = false;
  let recording = false;
  let measured = 0;
  const samples = [];
  const worker = async () => {
    while (!stop && errors.length === 0) {
      const t0 = now();
      try {
        await one();
      } catch (err) {
        errors.push(String(err?.message ?? err));
        return;
      }
      if (recording) {
        measured++;
        if (cfg.window === 1) samples.push(Number(now() - t0) / 1e3);
      }
    }
  };
  const workers = Array.from({ length: cfg.window }, worker);
  await sleep(cfg.warmup * 1000);
  const cpu0 = process.cpuUsage();
  mark('begin');
  recording = true;
  const t0 = now();
  await sleep(cfg.duration * 1000);
  recording = false;
  const sec = Number(now() - t0) / 1e9;
  mark('end');
  const cpu = process.cpuUsage(cpu0);
  stop = true;
  await Promise.all(workers);
  const state = (await jsm.streams.info(cfg.stream)).state;
  if (state.messages !== acked) errors.push(`stream holds ${state.messages} messages, ${acked} were acked`);
  await jsm.streams.delete(cfg.stream);
  await nc.close();
  await admin.close();
  return {
    leader, via: names[via], acked, measured, sec, rate: measured / sec,
    latencyUs: cfg.window === 1 ? quantiles(samples) : null,
    clientCpuUsPerMsg: measured > 0 ? (cpu.user + cpu.system) / measured : null,
    errors,
  };
}

/**
 * The consume mode (see the header): fill the stream through the publish path, then drain it with
 * a replicated durable pull consumer, acking each message with ack() or ackAck() (`cfg.ack`).
 */
async function consumeRun(cfg, { jsm, js, nc, one, errors, leader, via, admin }) {
  const { AckPolicy, DeliverPolicy } = await import('@nats-io/jetstream');
  const now = () => process.hrtime.bigint();
  const mark = (type) => process.send?.({ type });
  const count = cfg.count;
  // Fill: `window` js.publish() in flight until `count` are acked (one() checks the ack order).
  const tFill = now();
  let issued = 0;
  const filler = async () => {
    while (issued < count && errors.length === 0) {
      issued++;
      try {
        await one();
      } catch (err) {
        errors.push(`fill: ${String(err?.message ?? err)}`);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: cfg.window }, filler));
  const fillSec = Number(now() - tFill) / 1e9;
  if (errors.length > 0) throw new Error(`fill of ${cfg.stream} failed: ${errors.join('; ')}`);

  // The consumer (num_replicas: the stream's), created through member 0; wait until its group is whole.
  const durable = 'C';
  await jsm.consumers.add(cfg.stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
  let consumerLeader;
  for (const deadline = Date.now() + 30_000; ;) {
    const ci = await jsm.consumers.info(cfg.stream, durable).catch(() => null);
    const c = ci?.cluster;
    if (c?.leader && (c.replicas ?? []).length === cfg.replicas - 1 && (c.replicas ?? []).every((p) => p.current)) {
      consumerLeader = c.leader;
      break;
    }
    if (Date.now() > deadline) throw new Error(`consumer ${cfg.stream}/${durable} has no healthy group: ${JSON.stringify(c)}`);
    await sleep(50);
  }

  // The drain, on the client's connection (the member picked by --via).
  const consumer = await js.consumers.get(cfg.stream, durable);
  const messages = await consumer.consume({ max_messages: cfg.window });
  const warm = Math.floor(count / 10);
  let received = 0;
  let lastSeq = 0;
  let outOfOrder = 0;
  let redelivered = 0;
  let sizeMismatch = 0;
  let tWarm = 0n;
  let cpuWarm = null;
  // ackAck: at most `window` unanswered; `slot` wakes the loop when one is answered.
  let inflight = 0;
  let slot = null;
  let ackAckFailures = 0;
  const answered = () => {
    inflight--;
    const s = slot;
    slot = null;
    s?.();
  };
  const ackAckFailed = (seq, why) => {
    if (ackAckFailures++ < 5) errors.push(`ackAck of stream seq ${seq}: ${why}`);
  };
  // A drain that stalls must end: no message for 10 s stops it (what is missing is reported).
  let timedOut = false;
  const watchdog = stallWatchdog(() => received, () => {
    timedOut = true;
    messages.stop();
  });
  const t0 = now();
  for await (const m of messages) {
    if (received === warm) {
      cpuWarm = process.cpuUsage();
      mark('begin');
      tWarm = now();
    }
    received++;
    const seq = m.seq;
    if (seq !== lastSeq + 1 && outOfOrder++ < 5) errors.push(`received stream seq ${seq} after ${lastSeq}`);
    lastSeq = seq;
    if (m.redelivered) redelivered++;
    if (m.data.length !== cfg.size) sizeMismatch++;
    if (cfg.ack === 'ackack') {
      inflight++;
      m.ackAck({ timeout: 10_000 }).then((ok) => ok || ackAckFailed(seq, 'not sent (no reply subject, or acked before)'), (err) => ackAckFailed(seq, String(err?.message ?? err))).finally(answered);
      while (inflight >= cfg.window) await new Promise((r) => (slot = r));
    } else {
      m.ack();
    }
    if (received >= count) break;
  }
  clearInterval(watchdog);
  while (inflight > 0) await new Promise((r) => (slot = r));
  await nc.flush(); // every ack has reached the member
  const t1 = now();
  if (cpuWarm) mark('end');
  const cpu = cpuWarm ? process.cpuUsage(cpuWarm) : null;
  await messages.close().catch(() => {});
  const drainSec = Number(t1 - t0) / 1e9;
  const measured = received - warm;
  const measuredSec = Number(t1 - tWarm) / 1e9;

  if (timedOut) errors.push(`drain stalled: no message for 10 s after ${received} of ${count}`);
  if (received !== count) errors.push(`${received} of ${count} messages received`);
  if (lastSeq !== count) errors.push(`last stream seq received ${lastSeq}, not ${count}`);
  if (outOfOrder > 5) errors.push(`${outOfOrder} messages out of order in all`);
  if (redelivered) errors.push(`${redelivered} messages flagged as redelivered`);
  if (sizeMismatch) errors.push(`${sizeMismatch} messages with a payload that is not ${cfg.size} B`);

  // The replicated state: poll CONSUMER.INFO (answered by the consumer's leader) for up to 5 s.
  const settled = (i) => i?.ack_floor?.stream_seq === count && i.num_ack_pending === 0 && i.num_pending === 0 && i.delivered?.stream_seq === count;
  let info = await jsm.consumers.info(cfg.stream, durable).catch((err) => ({ error: String(err?.message ?? err) }));
  for (let i = 0; i < 250 && !settled(info); i++) {
    await sleep(20);
    info = await jsm.consumers.info(cfg.stream, durable).catch((err) => ({ error: String(err?.message ?? err) }));
  }
  const settleMs = Number(now() - t1) / 1e6;
  // Work-queue (or interest) retention: every acked message leaves the stream (poll up to 5 s).
  let emptiedMs = null;
  if (cfg.retention !== 'limits') {
    let st = null;
    for (let i = 0; i < 250; i++) {
      st = (await jsm.streams.info(cfg.stream).catch(() => null))?.state ?? null;
      if (st?.messages === 0) break;
      await sleep(20);
    }
    if (st?.messages === 0) emptiedMs = Number(now() - t1) / 1e6;
    else errors.push(`${cfg.retention} stream still holds ${st?.messages ?? '?'} messages 5 s after the drain`);
  }
  if (info.error) errors.push(`CONSUMER.INFO after the drain: ${info.error}`);
  else if (!settled(info)) {
    errors.push(`after 5 s CONSUMER.INFO shows ack_floor.stream_seq ${info.ack_floor?.stream_seq}, delivered.stream_seq ${info.delivered?.stream_seq}, num_ack_pending ${info.num_ack_pending}, num_pending ${info.num_pending} (want ${count}, ${count}, 0, 0)`);
  }
  await jsm.streams.delete(cfg.stream);
  await nc.close();
  await admin.close();
  return {
    leader, via, consumerLeader, consumerLeaderAtEnd: info.cluster?.leader ?? null,
    count, fillSec, fillRate: count / fillSec, received, drainSec, drainRate: received / drainSec,
    measured, sec: measuredSec, rate: cpuWarm && measured > 0 ? measured / measuredSec : 0,
    settleMs: settled(info) ? settleMs : null,
    emptiedMs,
    clientCpuUsPerMsg: cpu && measured > 0 ? (cpu.user + cpu.system) / measured : null,
    consumerInfo: info.error ? null : { ack_floor: info.ack_floor?.stream_seq, delivered: info.delivered?.stream_seq, num_ack_pending: info.num_ack_pending, num_pending: info.num_pending, num_redelivered: info.num_redelivered },
    errors,
  };
}

// ---- orchestrator --------------------------------------------------------------------------------

function parseCli(argv) {
  const o = { targets: Object.keys(TARGETS), storage: ['file', 'memory'], modes: ['tput', 'lat'], retention: 'limits', window: 64, size: 128, replicas: 3, via: 'follower', count: 20_000, warmup: 1, duration: 3, rounds: 1, json: false };
  const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    const num = (min) => {
      const n = Number(value());
      if (!(n >= min)) usage(`${flag} must be a number >= ${min}`);
      return n;
    };
    switch (flag) {
      case '--targets': o.targets = list(value()); for (const t of o.targets) if (!(t in TARGETS)) usage(`unknown target "${t}" (have: ${Object.keys(TARGETS).join(', ')})`); break;
      case '--storage': o.storage = list(value()); for (const s of o.storage) if (s !== 'file' && s !== 'memory') usage(`unknown storage "${s}"`); break;
      case '--modes': o.modes = list(value()); for (const m of o.modes) if (!['tput', 'lat', 'consume'].includes(m)) usage(`unknown mode "${m}"`); break;
      case '--retention': o.retention = value(); if (!['limits', 'workqueue', 'interest'].includes(o.retention)) usage('--retention is limits, workqueue or interest'); break;
      case '--window': o.window = num(1); break;
      case '--size': o.size = num(0); break;
      case '--replicas': o.replicas = num(1); break;
      case '--via': o.via = value(); if (o.via !== 'follower' && o.via !== 'leader') usage('--via is follower or leader'); break;
      case '--count': o.count = num(1); break;
      case '--warmup': o.warmup = num(0); break;
      case '--duration': o.duration = num(0.1); break;
      case '--rounds': o.rounds = num(1); break;
      case '--json': o.json = true; break;
      case '--help': case '-h': usage(); break;
      default: usage(`unknown option ${a}`);
    }
  }
  return o;
}

function usage(err) {
  const text = 'usage: node bench/r3.mjs [--targets nats-server] [--storage file,memory] [--modes tput,lat,consume] [--retention limits|workqueue|interest] [--window 64] [--size 128] [--replicas 3] [--via follower|leader] [--count 20000] [--warmup 1] [--duration 3] [--rounds 1] [--json]\n';
  if (err) {
    process.stderr.write(`bench:r3: ${err}\n${text}`);
    process.exit(2);
  }
  process.stdout.write(text);
  process.exit(0);
}

/** utime + stime of a process, seconds (Linux /proc), or null. */
function cpuSec(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}
const clusterCpu = (pids) => {
  const v = pids.map(cpuSec);
  return v.some((x) => x === null) ? null : v.reduce((a, b) => a + b, 0);
};

/** Forks the client for one scenario; resolves its result with the servers' CPU over the window. */
function runClient(cfg, pids) {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, ['--client', JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let cpu0 = null;
    let t0 = 0n;
    let serverCpu = null;
    let done = false;
    child.on('message', (m) => {
      if (m.type === 'begin') {
        cpu0 = clusterCpu(pids);
        t0 = process.hrtime.bigint();
      } else if (m.type === 'end') {
        const cpu1 = clusterCpu(pids);
        const sec = Number(process.hrtime.bigint() - t0) / 1e9;
        serverCpu = cpu0 === null || cpu1 === null ? null : { sec: cpu1 - cpu0, percent: ((cpu1 - cpu0) / sec) * 100 };
      } else if (m.type === 'result') {
        done = true;
        resolve({ ...m, serverCpu });
      } else if (m.type === 'error') {
        done = true;
        reject(new Error(m.message));
      }
    });
    child.once('exit', (code) => {
      if (!done) reject(new Error(`client exited with ${code}`));
    });
  });
}

async function main() {
  const o = parseCli(process.argv.slice(2));
  const results = [];
  let failed = false;
  for (const target of o.targets) {
    const t0 = Date.now();
    const cluster = await TARGETS[target]();
    const startMs = Date.now() - t0;
    console.log(`bench:r3: ${target} (${cluster.version}), ${cluster.urls.length} members, JetStream ready after ${startMs} ms`);
    try {
      let k = 0;
      for (const storage of o.storage) {
        // `consume` is two scenarios: plain acks, and ackAck with `window` unanswered.
        const scenarios = o.modes.flatMap((mode) => (mode === 'consume' ? [{ mode, ack: 'ack' }, { mode, ack: 'ackack' }] : [{ mode }]));
        for (const { mode, ack } of scenarios) {
          const rounds = [];
          for (let r = 0; r < o.rounds; r++) {
            const cfg = {
              urls: cluster.urls, stream: `R3B${++k}`, storage, retention: o.retention, replicas: o.replicas, via: o.via, size: o.size,
              window: mode === 'lat' ? 1 : o.window, warmup: o.warmup, duration: o.duration, mode, ack, count: o.count,
            };
            let res;
            try {
              res = await runClient(cfg, cluster.pids);
            } catch (err) {
              res = { rate: 0, errors: [String(err?.message ?? err)] };
            }
            if (res.errors.length > 0) {
              failed = true;
              for (const e of res.errors) console.log(`! ${target} ${storage} ${mode}: ${e}`);
            }
            rounds.push(res);
          }
          // The median round by rate.
          const pick = [...rounds].sort((a, b) => a.rate - b.rate)[Math.floor(rounds.length / 2)];
          const row = { target, storage, mode, ack, window: mode === 'lat' ? 1 : o.window, replicas: o.replicas, size: o.size, ...pick, rounds };
          results.push(row);
          if (mode === 'consume') {
            const label = (ack === 'ack' ? `consume, ack() (${o.window} per pull)` : `consume, ackAck() (${o.window} unanswered)`) + (o.retention === 'limits' ? '' : `, ${o.retention}`);
            console.log(
              `  ${storage.padEnd(6)} ${label}: ${Math.round(pick.rate).toLocaleString('en-US')} consumed+acked msgs/s` +
                (pick.serverCpu ? `; servers' CPU ${pick.serverCpu.percent.toFixed(0)} %` : '') +
                (pick.clientCpuUsPerMsg ? `, client ${pick.clientCpuUsPerMsg.toFixed(0)} µs/msg` : '') +
                (pick.settleMs != null ? `; ack floor settled ${pick.settleMs.toFixed(0)} ms after the drain` : '') +
                (pick.emptiedMs != null ? `; stream empty ${pick.emptiedMs.toFixed(0)} ms after` : '') +
                (pick.fillRate ? `; fill ${Math.round(pick.fillRate).toLocaleString('en-US')} msgs/s` : '') +
                ` (stream leader ${pick.leader}, consumer leader ${pick.consumerLeader}${pick.consumerLeaderAtEnd && pick.consumerLeaderAtEnd !== pick.consumerLeader ? ` → ${pick.consumerLeaderAtEnd}` : ''}, client via ${pick.via})`,
            );
            continue;
          }
          const lat = pick.latencyUs;
          console.log(
            `  ${storage.padEnd(6)} ${mode === 'tput' ? `tput (${o.window} in flight)` : 'lat (1 in flight)  '}: ${Math.round(pick.rate).toLocaleString('en-US')} acked msgs/s` +
              (lat ? `, p50 ${lat.p50.toFixed(0)} µs, p90 ${lat.p90.toFixed(0)} µs, p99 ${lat.p99.toFixed(0)} µs` : '') +
              (pick.serverCpu ? `; servers' CPU ${pick.serverCpu.percent.toFixed(0)} %` : '') +
              ` (leader ${pick.leader}, client via ${pick.via})`,
          );
        }
      }
    } finally {
      await cluster.close();
    }
  }
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, loadavg: os.loadavg() };
  if (o.json) console.log(JSON.stringify({ options: o, machine, results }, null, 2));
  process.exit(failed ? 1 : 0);
}

// ---- entry ---------------------------------------------------------------------------------------

if (process.argv[2] === '--client') {
  const { reportToParent } = await import('./report.mjs');
  reportToParent(clientMain(JSON.parse(process.argv[3])));
} else {
  await main();
}
