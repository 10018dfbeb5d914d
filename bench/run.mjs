#!/usr/bin/env node
// Benchmark orchestrator: nats-embedded (dist/cli.js) against nats-server, same scenarios, same
// load generator. Each broker runs as its own process on a free port; every publisher and
// subscriber is a separate process (bench/loadgen.mjs). See bench/README.md.
//
//   npm run bench -- [--scenarios a,b] [--duration <s>] [--warmup <s>] [--targets embedded,nats-server] [--json]
import { fork, spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findOnPath, freePort, sleep } from './net.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const LOADGEN = path.join(BENCH_DIR, 'loadgen.mjs');
const INPROC = path.join(BENCH_DIR, 'inproc.mjs');
const ALLOC = path.join(BENCH_DIR, 'alloc.mjs');
const JSLOAD = path.join(BENCH_DIR, 'jsload.mjs');
const JSCONSUME = path.join(BENCH_DIR, 'jsconsume.mjs');
const KVOBJ = path.join(BENCH_DIR, 'kvobj.mjs');
const HOST = '127.0.0.1';

// ---- scenarios -----------------------------------------------------------------------------------

const SCENARIOS = {
  'pubsub-16': { kind: 'throughput', pubs: 1, subs: 1, size: 16, desc: '1 publisher -> 1 subscriber, 16 B payload' },
  'pubsub-1k': { kind: 'throughput', pubs: 1, subs: 1, size: 1024, desc: '1 publisher -> 1 subscriber, 1 KiB payload' },
  'fanout-4': { kind: 'throughput', pubs: 1, subs: 4, size: 16, desc: '1 publisher -> 4 subscribers, 16 B payload' },
  'fanout-16': { kind: 'throughput', pubs: 1, subs: 16, size: 16, desc: '1 publisher -> 16 subscribers, 16 B payload' },
  'queue-4': { kind: 'throughput', pubs: 1, subs: 4, size: 16, queue: 'q', desc: '1 publisher -> 4 subscribers in one queue group, 16 B payload' },
  'fanin-4': { kind: 'throughput', pubs: 4, subs: 1, size: 16, desc: '4 publishers -> 1 subscriber, 16 B payload' },
  reqrep: { kind: 'latency', size: 16, desc: 'request/reply round trip, 1 requester (one request in flight) + 1 responder, 16 B payload' },
  startup: { kind: 'startup', iterations: 100, warmup: 10, desc: 'in-process createServer() / server.close() (embedded only)' },
  'subs-10k': {
    kind: 'throughput', pubs: 1, subs: 10, size: 16, fanout: 4, subSubjects: subs10kFor, pubSubjects: () => pubSubjects10k(1000),
    desc: '10,000 subscriptions (literal, * and >) on 10 connections; 1 publisher cycling over 1,000 subjects that match 4 subscriptions each, 16 B',
  },
  'subs-10k-miss': {
    kind: 'throughput', pubs: 1, subs: 10, size: 16, fanout: 4, subSubjects: subs10kFor, pubSubjects: () => pubSubjects10k(8000),
    desc: 'as subs-10k, but cycling over 8,000 subjects: more than the 1,024-entry match cache, so most lookups walk the trie',
  },
  'idle-10k': { kind: 'idle', connections: 10_000, procs: 4, parallel: 100, desc: '10,000 idle connections (CONNECT + PING/PONG each, from 4 processes): broker resident memory' },
  'subs-1m': { kind: 'subflood', total: 1_000_000, conns: 4, desc: '1,000,000 SUBs (80 % literal, 10 % *, 10 % >) written at once over 4 connections, until every PONG: wall time and broker RSS' },
  'inproc-pubsub-16': { kind: 'inproc', mode: 'throughput', size: 16, desc: 'in-process: official client (1 publisher + 1 subscriber connection) and the broker in one Node process, 16 B' },
  'inproc-reqrep': { kind: 'inproc', mode: 'latency', size: 16, desc: 'in-process: official client request() (one in flight) + responder, broker in the same Node process, 16 B' },
  alloc: { kind: 'alloc', desc: 'allocation on the publish path (cache hit), in-process micro-bench bench/alloc.mjs (embedded only)' },
  // Two servers of the same target joined by a route (server B solicits A): publishers (the
  // requester) on A, subscribers (the responder) on B, so every message crosses the route.
  'route-pubsub-16': { kind: 'throughput', route: true, pubs: 1, subs: 1, size: 16, desc: 'two servers joined by a route: 1 publisher on A -> 1 subscriber on B, 16 B payload' },
  'route-fanin-4': { kind: 'throughput', route: true, pubs: 4, subs: 1, size: 16, desc: 'two servers joined by a route: 4 publishers on A -> 1 subscriber on B, 16 B payload' },
  'route-fanout-4': { kind: 'throughput', route: true, pubs: 1, subs: 4, size: 16, desc: 'two servers joined by a route: 1 publisher on A -> 4 subscribers on B (one copy crosses the route, B fans out), 16 B payload' },
  'route-reqrep': { kind: 'latency', route: true, size: 16, desc: 'two servers joined by a route: requester on A (one request in flight), responder on B, 16 B payload; request and reply both cross the route' },
};
const INPROCESS = ['inproc-pubsub-16', 'inproc-reqrep'];

// JetStream: both brokers run with `-js -sd <fresh temp dir>`; one client process (bench/jsload.mjs)
// creates the stream and publishes with acks. sync = one message in flight, async = a window of 256.
const JS_WINDOW = 256;
const JETSTREAM = [];
for (const [mode, window] of [['sync', 1], ['async', JS_WINDOW]]) {
  for (const size of [16, 1024]) {
    for (const storage of ['memory', 'file']) {
      const name = `js-${mode}-${size === 16 ? '16' : '1k'}-${storage === 'memory' ? 'mem' : 'file'}`;
      SCENARIOS[name] = {
        kind: 'jspub', window, size, storage,
        desc: `JetStream publish with ack, ${mode === 'sync' ? 'sync (one in flight)' : `async (${window} in flight)`}, ${size === 16 ? '16 B' : '1 KiB'}, ${storage} storage, 1 stream, 1 client process`,
      };
      JETSTREAM.push(name);
    }
  }
}
/** Messages in the fill scenarios (`--fill` / `--short` change it). */
let FILL_COUNT = 1_000_000;
for (const storage of ['memory', 'file']) {
  const name = `js-fill-${storage === 'memory' ? 'mem' : 'file'}`;
  SCENARIOS[name] = {
    kind: 'jsfill', window: JS_WINDOW, size: 16, storage,
    desc: `JetStream: fill a ${storage} stream with N messages of 16 B (async publish, ${JS_WINDOW} in flight): time, and broker RSS growth per message`,
  };
  JETSTREAM.push(name);
}
// JetStream consumers: one forked client process (bench/jsconsume.mjs) with the official client
// (@nats-io/transport-node + @nats-io/jetstream). The drain scenarios pre-fill a stream with
// CONSUME_COUNT messages of 16 B (core publishes, not measured), then drain it through a durable
// consumer with explicit acks; js-rtt-mem measures one message in flight, publish → ackAck().
/** Messages in the consumer drain scenarios (`--consume-count` / `--short` change it). */
let CONSUME_COUNT = 100_000;
for (const [mode, label, how] of [
  ['consume', 'consume', 'durable pull consumer drained with consumer.consume() (client defaults: 100 per pull, for await), m.ack() each'],
  ['fetch', 'fetch100', 'durable pull consumer drained with a loop of consumer.fetch({ max_messages: 100 }), m.ack() each'],
]) {
  for (const storage of ['memory', 'file']) {
    const name = `js-${label}-${storage === 'memory' ? 'mem' : 'file'}`;
    SCENARIOS[name] = { kind: 'jsconsume', mode, size: 16, storage, desc: `JetStream: a ${storage} stream pre-filled with N messages of 16 B; ${how}; official client, 1 process` };
    JETSTREAM.push(name);
  }
}
SCENARIOS['js-push-mem'] = {
  kind: 'jsconsume', mode: 'push', size: 16, storage: 'memory',
  desc: 'JetStream: a memory stream pre-filled with N messages of 16 B; durable push consumer (deliver_subject, explicit ack) via js.consumers.getPushConsumer().consume(), m.ack() each; official client, 1 process',
};
JETSTREAM.push('js-push-mem');
SCENARIOS['js-rtt-mem'] = {
  kind: 'jsrtt', mode: 'rtt', size: 16, storage: 'memory',
  desc: 'JetStream: one message in flight: core publish (no PubAck) → pull consumer consume() receives → await m.ackAck(); round trip per message, memory stream, 16 B; official client, 2 connections in 1 process',
};
JETSTREAM.push('js-rtt-mem');
// Key-Value and object store: one forked client process (bench/kvobj.mjs) with the official
// clients @nats-io/kv and @nats-io/obj; a fresh broker per round, as the js-* scenarios.
/** KV: keys cycled over, value size, and the window of the *-tput scenarios. */
const KV_KEYS = 1000;
const KV_SIZE = 128;
const KV_WINDOW = 64;
/** Object store: the object size (`--object-mib` changes it). */
let OBJECT_BYTES = 10 * 2 ** 20;
const KVOBJ_SCENARIOS = [];
for (const storage of ['memory', 'file']) {
  const st = storage === 'memory' ? 'mem' : 'file';
  for (const [mode, desc] of [
    ['put-lat', `KV: one \`await kv.put()\` in flight, ${KV_SIZE} B values cycling over ${KV_KEYS} keys (history 1)`],
    ['put-tput', `KV: ${KV_WINDOW} \`kv.put()\` in flight, ${KV_SIZE} B values cycling over ${KV_KEYS} keys (history 1)`],
    ['get-lat', `KV: one \`await kv.get()\` (direct get, last_by_subj) in flight, cycling over ${KV_KEYS} keys of ${KV_SIZE} B`],
    ['get-tput', `KV: ${KV_WINDOW} \`kv.get()\` in flight, cycling over ${KV_KEYS} keys of ${KV_SIZE} B`],
    ['obj-put', 'object store: `os.putBlob()` of one 10 MiB object (128 KiB chunks), repeated (each replaces the last)'],
    ['obj-get', 'object store: `os.getBlob()` of one 10 MiB object (128 KiB chunks, ordered push consumer, digest checked), repeated'],
  ]) {
    const name = mode.startsWith('obj-') ? `${mode}-${st}` : `kv-${mode}-${st}`;
    SCENARIOS[name] = { kind: 'kvobj', mode, storage, size: mode.startsWith('obj-') ? null : KV_SIZE, desc: `${desc}, ${storage} storage; official client, 1 process` };
    KVOBJ_SCENARIOS.push(name);
  }
}
/** What `npm run bench` runs without --scenarios: everything (about 3 minutes on 2 vCPUs). */
const DEFAULT_SCENARIOS = Object.keys(SCENARIOS);

/**
 * subs-10k: the 10,000 subscription subjects, dealt round-robin to 10 connections.
 *   8,000 literal   sb.<a>.<b>      a < 100, b < 80
 *     100 `*`       sb.<a>.*        a < 100
 *     900 `*`       sb.*.<b>        b < 900
 *     100 `>`       sb.<a>.>        a < 100
 *     900 `>`       sb.<a>.<b>.>    a < 100, b < 9  (need 4+ tokens: never match what is published)
 * A message on sb.<a>.<b> (b < 80) matches exactly 4: sb.<a>.<b>, sb.<a>.*, sb.*.<b>, sb.<a>.>.
 */
function subs10kAll() {
  const list = [];
  for (let a = 0; a < 100; a++) for (let b = 0; b < 80; b++) list.push(`sb.${a}.${b}`);
  for (let a = 0; a < 100; a++) list.push(`sb.${a}.*`);
  for (let b = 0; b < 900; b++) list.push(`sb.*.${b}`);
  for (let a = 0; a < 100; a++) list.push(`sb.${a}.>`);
  for (let a = 0; a < 100; a++) for (let b = 0; b < 9; b++) list.push(`sb.${a}.${b}.>`);
  return list;
}
function subs10kFor(conn, conns) {
  return subs10kAll().filter((_, k) => k % conns === conn);
}
/** `n` distinct published subjects sb.<a>.<b> (a < 100, b < 80), spread over a and b. */
function pubSubjects10k(n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const a = i % 100;
    const j = Math.floor(i / 100); // 8 * (j % 10) + floor(j / 10) is a permutation of 0..79
    const b = (8 * (j % 10) + Math.floor(j / 10) + a) % 80;
    out.push(`sb.${a}.${b}`);
  }
  if (new Set(out).size !== n) throw new Error('pubSubjects10k: subjects not distinct');
  return out;
}

// Publisher flow control: one write is a pre-encoded batch of ~64 KiB of frames; a PING follows
// every PING_EVERY batches and at most MAX_PINGS_OUT may be unanswered (nats-server-style).
// Both can be changed with --ping-every / --max-pings-out (0 = no flow control) for experiments.
const BATCH_BYTES = 64 * 1024;
let PING_EVERY = 4;
let MAX_PINGS_OUT = 2;

// ---- command line --------------------------------------------------------------------------------

function parseCli(argv) {
  const o = { scenarios: DEFAULT_SCENARIOS, duration: 3, warmup: 0.5, rounds: 1, json: false, targets: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    switch (flag) {
      case '--scenarios':
        o.scenarios = value().split(',').map((s) => s.trim()).filter(Boolean);
        for (const s of o.scenarios) if (!(s in SCENARIOS)) usage(`unknown scenario "${s}"`);
        break;
      case '--duration':
        o.duration = Number(value());
        if (!(o.duration > 0)) usage('--duration must be a positive number of seconds');
        break;
      case '--warmup':
        o.warmup = Number(value());
        if (!(o.warmup >= 0)) usage('--warmup must be a non-negative number of seconds');
        break;
      case '--rounds':
        o.rounds = Number(value());
        if (!(Number.isInteger(o.rounds) && o.rounds > 0)) usage('--rounds must be a positive integer');
        break;
      case '--targets':
        o.targets = value().split(',').map((s) => s.trim());
        for (const t of o.targets) if (t !== 'embedded' && t !== 'nats-server') usage(`unknown target "${t}"`);
        break;
      case '--ping-every':
        PING_EVERY = Number(value());
        if (!(Number.isInteger(PING_EVERY) && PING_EVERY > 0)) usage('--ping-every must be a positive integer');
        break;
      case '--max-pings-out':
        MAX_PINGS_OUT = Number(value());
        if (!(Number.isInteger(MAX_PINGS_OUT) && MAX_PINGS_OUT >= 0)) usage('--max-pings-out must be a non-negative integer');
        if (MAX_PINGS_OUT === 0) MAX_PINGS_OUT = 1e9;
        break;
      case '--inprocess':
        o.inprocess = true;
        break;
      case '--js':
        o.js = true;
        break;
      case '--kv':
        o.kv = true;
        break;
      case '--object-mib':
        OBJECT_BYTES = Math.round(Number(value()) * 2 ** 20);
        if (!(OBJECT_BYTES > 0)) usage('--object-mib must be a positive number');
        break;
      case '--short':
        o.short = true;
        break;
      case '--fill':
        o.fill = Number(value());
        if (!(Number.isInteger(o.fill) && o.fill > 0)) usage('--fill must be a positive integer');
        break;
      case '--consume-count':
        o.consumeCount = Number(value());
        if (!(Number.isInteger(o.consumeCount) && o.consumeCount > 0)) usage('--consume-count must be a positive integer');
        break;
      case '--route-peer':
        o.routePeer = value();
        if (o.routePeer !== 'embedded' && o.routePeer !== 'nats-server') usage(`unknown --route-peer "${o.routePeer}"`);
        break;
      case '--json':
        o.json = true;
        break;
      case '-h':
      case '--help':
        usage();
        break;
      default:
        usage(`unknown argument "${a}"`);
    }
  }
  if (o.inprocess) o.scenarios = o.scenarios === DEFAULT_SCENARIOS ? [...INPROCESS] : [...new Set([...o.scenarios, ...INPROCESS])];
  if (o.js) o.scenarios = o.scenarios === DEFAULT_SCENARIOS || o.inprocess ? [...(o.inprocess ? o.scenarios : []), ...JETSTREAM] : [...new Set([...o.scenarios, ...JETSTREAM])];
  if (o.kv) o.scenarios = o.scenarios === DEFAULT_SCENARIOS || o.inprocess || o.js ? [...(o.inprocess || o.js ? o.scenarios : []), ...KVOBJ_SCENARIOS] : [...new Set([...o.scenarios, ...KVOBJ_SCENARIOS])];
  if (o.short) {
    // Quick check that everything runs: short windows, a 100,000-message fill.
    if (!argv.some((a) => a.startsWith('--duration'))) o.duration = 1;
    if (!argv.some((a) => a.startsWith('--warmup'))) o.warmup = 0.2;
    FILL_COUNT = 100_000;
    CONSUME_COUNT = 20_000;
  }
  if (o.fill) FILL_COUNT = o.fill;
  if (o.consumeCount) CONSUME_COUNT = o.consumeCount;
  if (process.env.BENCH_JS === '1' && !o.js && o.scenarios === DEFAULT_SCENARIOS) o.scenarios = [...JETSTREAM];
  return o;
}

function usage(err) {
  const text = `Usage: npm run bench -- [options]

  --scenarios a,b     scenarios to run (default: all): ${Object.keys(SCENARIOS).join(', ')}
  --duration <s>      measuring window per scenario and target, seconds (default 3)
  --warmup <s>        warm-up before the window, seconds (default 0.5)
  --rounds <n>        runs per scenario and target, alternating targets; the median round is shown (default 1)
  --targets a,b       embedded, nats-server (default: both; nats-server only if found)
  --inprocess         run the in-process scenarios (${INPROCESS.join(', ')}); with --scenarios, in addition
  --js                only the JetStream scenarios (js-*); with --scenarios / --inprocess, in addition
                      (BENCH_JS=1 in the environment does the same as --js)
  --kv                only the KV and object store scenarios (kv-*, obj-*); with --scenarios / --js /
                      --inprocess, in addition
  --object-mib <n>    object size in the obj-* scenarios, MiB (default 10)
  --short             short run: 1 s window, 0.2 s warm-up, fill scenarios with 100,000 messages,
                      consumer drains of 20,000
  --fill <n>          messages in the fill scenarios (default 1,000,000)
  --consume-count <n> messages in the consumer drain scenarios (js-consume-*, js-fetch100-*, js-push-*;
                      default 100,000)
  --route-peer <t>    route-* scenarios: server B is target <t> (embedded or nats-server) in every
                      column, e.g. the embedded column = embedded A <-> nats-server B (default: A's target)
  --json              also print the JSON result to stdout
  --ping-every <n>    publisher flow control: PING after every n ~64 KiB batches (default 4)
  --max-pings-out <n> publisher flow control: most unanswered PINGs (default 2; 0 = unbounded)

nats-server is taken from $NATS_SERVER_BIN, else from PATH.
`;
  if (err) {
    process.stderr.write(`bench: ${err}\n\n${text}`);
    process.exit(2);
  }
  process.stdout.write(text);
  process.exit(0);
}

// ---- helpers -------------------------------------------------------------------------------------

function tryConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts a broker process and resolves once its port accepts TCP connections. */
async function startBroker(target, extraArgs = []) {
  const port = await freePort();
  const args = [...target.args, '-p', String(port), '-a', HOST, ...extraArgs];
  const proc = spawn(target.cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const broker = { proc, port, output: '', exited: null };
  const keep = (d) => {
    broker.output += d.toString();
    if (broker.output.length > 256 * 1024) broker.output = broker.output.slice(-128 * 1024);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  proc.on('exit', (code, signal) => (broker.exited = { code, signal }));
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (broker.exited) throw new Error(`${target.name} exited during startup (${JSON.stringify(broker.exited)}):\n${broker.output}`);
    if (await tryConnect(port)) return broker;
    await sleep(20);
  }
  proc.kill('SIGKILL');
  throw new Error(`${target.name} did not accept connections on ${HOST}:${port} within 15 s:\n${broker.output}`);
}

async function stopBroker(broker) {
  if (broker.exited) return broker.exited;
  const done = new Promise((r) => broker.proc.once('exit', (code, signal) => r({ code, signal })));
  broker.proc.kill('SIGTERM');
  const t = setTimeout(() => broker.proc.kill('SIGKILL'), 5000);
  const res = await done;
  clearTimeout(t);
  return res;
}

/** A forked loadgen process with a mailbox of the messages it sent. */
class Child {
  constructor(cfg, errors, script = LOADGEN) {
    this.cfg = cfg;
    this.inbox = [];
    this.waiters = [];
    this.exited = false;
    this.proc = fork(script, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (msg) => {
      if (msg.type === 'error') {
        errors.push(`${cfg.role}#${cfg.id}: ${msg.message}`);
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === msg.type);
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(msg);
      else this.inbox.push(msg);
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      if (!this.exiting) errors.push(`${cfg.role}#${cfg.id}: exited unexpectedly (code ${code}, signal ${signal})`);
      for (const w of this.waiters.splice(0)) w.reject(new Error(`${cfg.role}#${cfg.id} exited while waiting for "${w.type}"`));
    });
  }

  wait(type, timeoutMs = 20_000) {
    const i = this.inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]);
    if (this.exited) return Promise.reject(new Error(`${this.cfg.role}#${this.cfg.id} has exited`));
    return new Promise((resolve, reject) => {
      const w = { type, resolve, reject };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`${this.cfg.role}#${this.cfg.id}: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      w.resolve = (m) => (clearTimeout(t), resolve(m));
      w.reject = (e) => (clearTimeout(t), reject(e));
      this.waiters.push(w);
    });
  }

  send(msg) {
    if (!this.exited && this.proc.connected) this.proc.send(msg);
  }

  async close() {
    this.exiting = true;
    if (this.exited) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    this.send({ type: 'exit' });
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(t);
  }
}

const all = (children, type, timeoutMs) => Promise.all(children.map((c) => c.wait(type, timeoutMs)));
const broadcast = (children, msg) => children.forEach((c) => c.send(msg));
const rate = (w) => (w.ns > 0 ? (w.count * 1e9) / w.ns : 0);

// ---- scenario runners ----------------------------------------------------------------------------

/** CPU time (s) and peak RSS (bytes) of a process, from /proc (Linux); null elsewhere. An array of pids gives an array. */
function procUsage(pid) {
  if (Array.isArray(pid)) return pid.map(procUsage);
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime + stime
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    // Time its threads waited, runnable, for a CPU (schedstat's 2nd field, ns): how much the
    // scheduler held the broker back, as opposed to the broker waiting for input.
    let runWaitNs = 0;
    try {
      for (const t of fs.readdirSync(`/proc/${pid}/task`)) runWaitNs += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      runWaitNs = NaN;
    }
    return { cpuSec: ticks / 100, peakRssBytes: hwm ? Number(hwm[1]) * 1024 : null, runWaitNs, t: process.hrtime.bigint() };
  } catch {
    return null;
  }
}

function brokerUsage(a, b) {
  if (Array.isArray(a)) {
    // Several brokers (route-*): CPU summed, the largest peak RSS, and each one's figures.
    const each = a.map((x, i) => brokerUsage(x, b[i]));
    if (each.some((x) => x === null)) return null;
    return { cpuPercent: each.reduce((t, x) => t + x.cpuPercent, 0), peakRssMiB: Math.max(...each.map((x) => x.peakRssMiB ?? 0)), perServer: each };
  }
  if (!a || !b) return null;
  const wall = Number(b.t - a.t) / 1e9;
  return { cpuPercent: (100 * (b.cpuSec - a.cpuSec)) / wall, runWaitPercent: (b.runWaitNs - a.runWaitNs) / 1e7 / wall, peakRssMiB: b.peakRssBytes === null ? null : b.peakRssBytes / 2 ** 20 };
}

/**
 * Throughput: subscribers, then publishers, each a loadgen process. `route` (route-* scenarios):
 * the subscribers connect to server B (`route.subPort`), and nobody publishes before A's route
 * to B carries their interest.
 */
async function runThroughput(sc, port, opts, brokerPid, route = null) {
  const errors = [];
  const children = [];
  try {
    const subs = [];
    for (let i = 0; i < sc.subs; i++) {
      subs.push(new Child({
        role: 'sub', id: i, host: HOST, port: route?.subPort ?? port, subject: 'bench.x', queue: sc.queue ?? null,
        subjects: sc.subSubjects ? sc.subSubjects(i, sc.subs) : undefined,
      }, errors));
    }
    children.push(...subs);
    await all(subs, 'ready'); // every SUB is confirmed by a PONG before anyone publishes
    if (route) await route.interest('A', 'bench.x');
    const pubSubjects = sc.pubSubjects ? sc.pubSubjects() : undefined;
    const pubs = [];
    for (let i = 0; i < sc.pubs; i++) {
      pubs.push(new Child({
        role: 'pub', id: i, host: HOST, port, subject: 'bench.x', subjects: pubSubjects, size: sc.size,
        batchBytes: BATCH_BYTES, pingEvery: PING_EVERY, maxPingsOut: MAX_PINGS_OUT,
      }, errors));
    }
    children.push(...pubs);
    await all(pubs, 'ready');
    broadcast(pubs, { type: 'go' });
    await sleep(opts.warmup * 1000);
    broadcast(children, { type: 'begin' });
    const u0 = procUsage(brokerPid);
    await sleep(opts.duration * 1000);
    broadcast(children, { type: 'end' });
    const u1 = procUsage(brokerPid);
    const pubWin = await all(pubs, 'window');
    const subWin = await all(subs, 'window');
    broadcast(pubs, { type: 'stop' });
    const stopped = await all(pubs, 'stopped', 60_000);
    const published = stopped.reduce((a, m) => a + m.count, 0);
    // Deliveries per published message: 1 for a queue group, `fanout` with subject lists.
    const expected = published * (sc.fanout ?? (sc.queue ? 1 : sc.subs));
    broadcast(subs, { type: 'drain' });
    let received = (await all(subs, 'drained', 60_000)).reduce((a, m) => a + m.count, 0);
    if (route) {
      // The publishers' PONG came from A once it had written every message to the route; B may
      // still be reading them. Drain again until the count is complete or has not moved for 1 s.
      for (let still = Date.now(); received < expected && Date.now() - still < 1000;) {
        await sleep(20);
        broadcast(subs, { type: 'drain' });
        const n = (await all(subs, 'drained', 60_000)).reduce((a, m) => a + m.count, 0);
        if (n !== received) still = Date.now();
        received = n;
      }
    }
    const perSub = subWin.map(rate);
    if (pubWin.some((w) => w.count === 0)) errors.push('a publisher sent nothing during the measuring window (stalled)');
    if (subWin.some((w) => w.count === 0)) errors.push('a subscriber received nothing during the measuring window');
    return {
      pubRate: pubWin.reduce((a, w) => a + rate(w), 0),
      deliveredRate: perSub.reduce((a, b) => a + b, 0),
      perSubRate: { min: Math.min(...perSub), max: Math.max(...perSub) },
      publishedTotal: published,
      deliveredTotal: received,
      expectedTotal: expected,
      lost: expected - received,
      broker: brokerUsage(u0, u1),
      errors,
    };
  } catch (err) {
    return { failed: err.message, errors };
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
}

/** Request/reply latency. `route` (route-reqrep): the responder on B, the requester on A. */
async function runLatency(sc, port, opts, brokerPid, route = null) {
  const errors = [];
  const children = [];
  try {
    const responder = new Child({ role: 'responder', id: 0, host: HOST, port: route?.subPort ?? port, subject: 'bench.req', size: sc.size }, errors);
    children.push(responder);
    await responder.wait('ready');
    if (route) await route.interest('A', 'bench.req');
    const requester = new Child({ role: 'requester', id: 0, host: HOST, port, subject: 'bench.req', size: sc.size }, errors);
    children.push(requester);
    await requester.wait('ready');
    if (route) await route.interest('B', 'bench.inbox.*');
    requester.send({ type: 'go' });
    await sleep(opts.warmup * 1000);
    requester.send({ type: 'begin' });
    const u0 = procUsage(brokerPid);
    await sleep(opts.duration * 1000);
    requester.send({ type: 'end' });
    const u1 = procUsage(brokerPid);
    const w = await requester.wait('window');
    requester.send({ type: 'stop' });
    await requester.wait('stopped');
    return { reqRate: rate(w), latencyUs: w.latency, broker: brokerUsage(u0, u1), errors };
  } catch (err) {
    return { failed: err.message, errors };
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
}

async function runStartup(sc) {
  const errors = [];
  const child = new Child({ role: 'startup', id: 0, iterations: sc.iterations, warmup: sc.warmup }, errors);
  try {
    const r = await child.wait('startup', 60_000);
    return { createMs: r.create, closeMs: r.close, errors };
  } finally {
    await child.close();
  }
}

/** Resident memory of a process now (VmRSS) and at its peak (VmHWM), in MiB, from /proc. */
function memOf(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMiB: null, hwmMiB: null };
  }
}

/** Soft limit on open files of a process (from /proc/<pid>/limits), or null. */
function openFilesLimit(pid = 'self') {
  try {
    const m = /Max open files\s+(\d+|unlimited)/.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : null;
  } catch {
    return null;
  }
}

/**
 * idle-10k: `sc.procs` loadgen processes open `sc.connections` connections between them; each
 * connection sends CONNECT + PING and waits for its PONG. Then, after 1 s, the broker's VmRSS.
 */
async function runIdle(sc, port, opts, brokerPid) {
  const errors = [];
  const children = [];
  try {
    const perProc = Math.ceil(sc.connections / sc.procs);
    const limits = { loadgen: openFilesLimit(), broker: openFilesLimit(brokerPid) };
    if (limits.loadgen !== null && limits.loadgen < perProc + 64) errors.push(`open-files limit ${limits.loadgen} < ${perProc} connections per load-generator process: expect EMFILE`);
    if (limits.broker !== null && limits.broker < sc.connections + 64) errors.push(`broker open-files limit ${limits.broker} < ${sc.connections} connections: expect EMFILE in the broker`);
    await sleep(300);
    const before = memOf(brokerPid);
    const u0 = procUsage(brokerPid);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < sc.procs; i++) {
      const count = Math.min(perProc, sc.connections - i * perProc);
      children.push(new Child({ role: 'idle', id: i, host: HOST, port, count, parallel: Math.ceil(sc.parallel / sc.procs) }, errors));
    }
    const ready = await all(children, 'ready', 120_000);
    const connectSec = Number(process.hrtime.bigint() - t0) / 1e9;
    const u1 = procUsage(brokerPid);
    await sleep(1000);
    const after = memOf(brokerPid);
    broadcast(children, { type: 'check' });
    const alive = await all(children, 'alive');
    const opened = ready.reduce((a, r) => a + r.opened, 0);
    const failures = {};
    for (const r of ready) for (const [k, v] of Object.entries(r.failures)) failures[k] = (failures[k] ?? 0) + v;
    const failed = Object.values(failures).reduce((a, b) => a + b, 0);
    if (failed > 0) {
      errors.push(`${failed} of ${sc.connections} connections failed: ${JSON.stringify(failures)}` +
        (failures.EMFILE ? ' (EMFILE: too many open files in the load generator; raise `ulimit -n`)' : '') +
        (failures.TIMEOUT || failures.ECONNRESET || failures.CLOSED ? ' (timeouts/resets: the broker may have hit its own open-files limit; see its log)' : '') +
        ` — first: ${ready.find((r) => r.firstError)?.firstError}`);
    }
    const stillOpen = alive.reduce((a, r) => a + r.open, 0);
    if (stillOpen < opened) errors.push(`${opened - stillOpen} connections were closed by the broker while idle`);
    return {
      connections: opened,
      failedConnections: failed,
      failures,
      stillOpen,
      connectSec,
      connectRate: opened / connectSec,
      rssBeforeMiB: before.rssMiB,
      rssMiB: after.rssMiB,
      peakRssMiB: after.hwmMiB,
      perConnKiB: opened > 0 ? ((after.rssMiB - before.rssMiB) * 1024) / opened : null,
      broker: brokerUsage(u0, u1),
      openFilesLimit: limits,
      errors,
    };
  } catch (err) {
    return { failed: err.message, errors };
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
}

/**
 * subs-1m: `sc.conns` loadgen processes, one connection each, build their SUB lines, connect, then
 * on 'go' write them all at once followed by PING. Wall time = from 'go' to the last PONG.
 * The count is checked against the broker's /subsz (monitoring port `monitorPort`).
 */
async function runSubFlood(sc, port, opts, brokerPid, monitorPort) {
  const errors = [];
  const children = [];
  try {
    const per = Math.ceil(sc.total / sc.conns);
    for (let i = 0; i < sc.conns; i++) {
      children.push(new Child({ role: 'subflood', id: i, host: HOST, port, count: Math.min(per, sc.total - i * per) }, errors));
    }
    const ready = await all(children, 'ready', 60_000);
    await sleep(200);
    // nats-server counts its own internal subscriptions too: count only what this run adds.
    const subsz = async () => (await (await fetch(`http://${HOST}:${monitorPort}/subsz`)).json()).num_subscriptions;
    const baseline = await subsz().catch(() => 0);
    const before = memOf(brokerPid);
    const u0 = procUsage(brokerPid);
    const t0 = process.hrtime.bigint();
    broadcast(children, { type: 'go' });
    const done = await Promise.all(children.map((c) => c.wait('done', 300_000)));
    const wallSec = Number(process.hrtime.bigint() - t0) / 1e9;
    const u1 = procUsage(brokerPid);
    const after = memOf(brokerPid);
    let reported = null;
    try {
      reported = (await subsz()) - baseline;
    } catch (err) {
      errors.push(`could not read /subsz: ${err.message}`);
    }
    await sleep(1000);
    const settled = memOf(brokerPid);
    const sent = done.reduce((a, d) => a + d.count, 0);
    if (reported !== null && reported !== sent) errors.push(`broker reports ${reported} subscriptions, ${sent} were sent`);
    return {
      subscriptions: sent,
      reportedSubscriptions: reported,
      bytes: ready.reduce((a, r) => a + r.bytes, 0),
      wallSec,
      perConnSec: done.map((d) => d.ns / 1e9),
      subsPerSec: sent / wallSec,
      rssBeforeMiB: before.rssMiB,
      rssMiB: after.rssMiB,
      rssSettledMiB: settled.rssMiB,
      peakRssMiB: settled.hwmMiB,
      broker: brokerUsage(u0, u1),
      errors,
    };
  } catch (err) {
    return { failed: err.message, errors };
  } finally {
    await Promise.all(children.map((c) => c.close()));
  }
}

/** inproc-*: bench/inproc.mjs in a forked process (official client; embedded: broker in it too). */
async function runInproc(sc, target, port, opts, brokerPid) {
  const cfg = { target: target.name, port, kind: sc.mode, size: sc.size, warmup: opts.warmup, duration: opts.duration };
  const proc = fork(INPROC, [JSON.stringify(cfg)], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const u0 = brokerPid ? procUsage(brokerPid) : null;
  const msg = await new Promise((resolve) => {
    const t = setTimeout(() => (proc.kill('SIGKILL'), resolve({ type: 'error', message: 'no result within 120 s' })), 120_000);
    proc.on('message', (m) => (clearTimeout(t), resolve(m)));
    proc.on('exit', (code, signal) => (clearTimeout(t), resolve({ type: 'error', message: `exited (code ${code}, signal ${signal}) without a result` })));
  });
  const u1 = brokerPid ? procUsage(brokerPid) : null;
  if (msg.type !== 'result') return { failed: msg.message, errors: [] };
  const { type, ...r } = msg;
  // The broker's CPU, over the whole run (warm-up included) — only for a separate broker process.
  r.broker = brokerUsage(u0, u1);
  return r;
}

/** alloc: bench/alloc.mjs in a forked process with the V8 flags it needs. */
async function runAlloc() {
  const proc = fork(ALLOC, [], { cwd: ROOT, execArgv: ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const msg = await new Promise((resolve) => {
    const t = setTimeout(() => (proc.kill('SIGKILL'), resolve(null)), 120_000);
    proc.on('message', (m) => (clearTimeout(t), resolve(m)));
    proc.on('exit', (code) => (clearTimeout(t), resolve(null)));
  });
  if (!msg) return { failed: 'alloc.mjs gave no result', errors: [] };
  return { ...msg.result, errors: [] };
}

/** The JetStream client process (bench/jsload.mjs) for one scenario; resolves once the stream exists. */
async function jsClient(sc, port, errors) {
  const c = new Child({ role: 'jspub', id: 0, host: HOST, port, stream: 'BENCH', subject: 'js.bench', storage: sc.storage, size: sc.size, window: sc.window }, errors, JSLOAD);
  await c.wait('ready', 30_000);
  return c;
}

/** Asks the client for $JS.API.STREAM.INFO and checks the stream holds `expected` messages. */
async function jsCheckStream(c, expected, errors) {
  c.send({ type: 'info' });
  const { state } = await c.wait('info', 30_000);
  if (state.messages !== expected) errors.push(`stream holds ${state.messages} messages, ${expected} were acknowledged`);
  return state;
}

/**
 * js-sync-* / js-async-*: one client process publishes with acks (`sc.window` in flight) for the
 * warm-up and the window; rate = acks received in the window / its length. Afterwards every
 * outstanding ack is awaited and the stream's message count is checked against the acks.
 */
async function runJsPub(sc, port, opts, brokerPid) {
  const errors = [];
  let c;
  try {
    c = await jsClient(sc, port, errors);
    c.send({ type: 'go' });
    await sleep(opts.warmup * 1000);
    c.send({ type: 'begin' });
    const u0 = procUsage(brokerPid);
    await sleep(opts.duration * 1000);
    c.send({ type: 'end' });
    const u1 = procUsage(brokerPid);
    const w = await c.wait('window');
    c.send({ type: 'stop' });
    const stopped = await c.wait('stopped', 60_000);
    if (w.count === 0) errors.push('no ack during the measuring window (stalled)');
    const state = await jsCheckStream(c, stopped.acked, errors);
    const broker = brokerUsage(u0, u1);
    return {
      pubRate: rate(w),
      // CPU per message: less sensitive to other load on the machine than the rate.
      brokerCpuUsPerMsg: broker && w.count > 0 ? (u1.cpuSec - u0.cpuSec) * 1e6 / w.count : null,
      clientCpuUsPerMsg: w.count > 0 ? w.cpuUs / w.count : null,
      ackLatencyUs: w.count > 0 ? (w.ns / 1000 / w.count) * sc.window : null,
      published: stopped.published,
      acked: stopped.acked,
      streamBytes: state.bytes,
      broker,
      errors,
    };
  } catch (err) {
    return { failed: err.message, errors };
  } finally {
    await c?.close();
  }
}

/**
 * js-fill-*: after the stream is created (and 0.5 s of quiet) the broker's RSS is read; the client
 * publishes FILL_COUNT messages of 16 B with acks (window 256); the wall time runs from the first
 * write to the last ack. RSS is read right after and 2 s later; the growth over the baseline,
 * divided by the message count, is reported per message and beyond the 16-byte payload.
 */
async function runJsFill(sc, port, opts, brokerPid) {
  const errors = [];
  let c;
  try {
    c = await jsClient(sc, port, errors);
    await sleep(500);
    const before = memOf(brokerPid);
    const u0 = procUsage(brokerPid);
    c.send({ type: 'fill', count: FILL_COUNT });
    const filled = await c.wait('filled', 300_000);
    const u1 = procUsage(brokerPid);
    const after = memOf(brokerPid);
    await sleep(2000);
    const settled = memOf(brokerPid);
    const state = await jsCheckStream(c, FILL_COUNT, errors);
    if (filled.acked !== FILL_COUNT) errors.push(`${filled.acked} acks for ${FILL_COUNT} messages`);
    const perMsg = (settled.rssMiB - before.rssMiB) * 2 ** 20 / FILL_COUNT;
    return {
      messages: FILL_COUNT,
      fillSec: filled.ns / 1e9,
      fillRate: FILL_COUNT / (filled.ns / 1e9),
      brokerCpuUsPerMsg: u0 && u1 ? (u1.cpuSec - u0.cpuSec) * 1e6 / FILL_COUNT : null,
      clientCpuUsPerMsg: filled.cpuUs / FILL_COUNT,
      rssBeforeMiB: before.rssMiB,
      rssAfterMiB: after.rssMiB,
      rssSettledMiB: settled.rssMiB,
      peakRssMiB: settled.hwmMiB,
      bytesPerMsg: perMsg,
      bytesPerMsgBeyondPayload: perMsg - sc.size,
      streamBytes: state.bytes,
      broker: brokerUsage(u0, u1),
      errors,
    };
  } catch (err) {
    return { failed: err.message, errors };
  } finally {
    await c?.close();
  }
}

/**
 * Forks a benchmark client (`script` with `cfg` as JSON) and waits for its result, reading the
 * broker's CPU time at the client's 'begin' and 'end' messages. Resolves `{ failed }` when the
 * client reports an error, exits without a result or takes over 300 s.
 */
async function forkMeasured(script, cfg, brokerPid) {
  const proc = fork(script, [JSON.stringify(cfg)], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let u0 = null;
  let u1 = null;
  const msg = await new Promise((resolve) => {
    const t = setTimeout(() => (proc.kill('SIGKILL'), resolve({ type: 'error', message: 'no result within 300 s' })), 300_000);
    proc.on('message', (m) => {
      if (m.type === 'begin') u0 = procUsage(brokerPid);
      else if (m.type === 'end') u1 = procUsage(brokerPid);
      else {
        clearTimeout(t);
        resolve(m);
      }
    });
    proc.on('exit', (code, signal) => (clearTimeout(t), resolve({ type: 'error', message: `exited (code ${code}, signal ${signal}) without a result` })));
  });
  if (msg.type !== 'result') return { failed: msg.message };
  const { type, ...r } = msg;
  r.broker = brokerUsage(u0, u1);
  return { r, cpuSec: u0 && u1 ? u1.cpuSec - u0.cpuSec : null };
}

/**
 * js-consume-* / js-fetch100-* / js-push-* / js-rtt-mem: bench/jsconsume.mjs in a forked process
 * (official client). It reports 'begin' / 'end' around the measured part (the drain after its
 * first 10 %, or the rtt window), where the broker's CPU time is read, then one result.
 */
async function runJsConsume(sc, port, opts, brokerPid) {
  const cfg = { port, mode: sc.mode, storage: sc.storage, size: sc.size, count: CONSUME_COUNT, warmup: opts.warmup, duration: opts.duration };
  const { failed, r, cpuSec } = await forkMeasured(JSCONSUME, cfg, brokerPid);
  if (failed !== undefined) return { failed, errors: [] };
  const n = sc.kind === 'jsrtt' ? r.roundTrips : r.measured;
  r.brokerCpuUsPerMsg = cpuSec !== null && n > 0 ? (cpuSec * 1e6) / n : null;
  return r;
}

/**
 * kv-* / obj-*: bench/kvobj.mjs in a forked process (official clients). It reports 'begin' /
 * 'end' around the measured window, where the broker's CPU time is read, then one result.
 */
async function runKvObj(sc, port, opts, brokerPid) {
  const cfg = { port, mode: sc.mode, storage: sc.storage, size: KV_SIZE, keys: KV_KEYS, window: KV_WINDOW, objectBytes: OBJECT_BYTES, warmup: opts.warmup, duration: opts.duration };
  const { failed, r, cpuSec } = await forkMeasured(KVOBJ, cfg, brokerPid);
  if (failed !== undefined) return { failed, errors: [] };
  r.brokerCpuUsPerOp = cpuSec !== null && r.ops > 0 ? (cpuSec * 1e6) / r.ops : null;
  return r;
}

// ---- reporting -----------------------------------------------------------------------------------

const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const fmtNum = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const fmtRatio = (a, b) => (typeof a === 'number' && typeof b === 'number' && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '-');

function metricRows(sc, res) {
  const e = res.embedded;
  const n = res['nats-server'];
  if (sc.kind === 'throughput') {
    return [
      ['delivered msgs/s (higher is better)', e?.deliveredRate, n?.deliveredRate, fmtInt],
      ['published msgs/s', e?.pubRate, n?.pubRate, fmtInt],
      ['delivered MB/s (payload)', e && (e.deliveredRate * sc.size) / 1e6, n && (n.deliveredRate * sc.size) / 1e6, (x) => fmtNum(x)],
      // route-*: the CPU both servers spent per delivered message, less sensitive to other load
      // on the machine than the rate (the rate follows the CPU share the processes get).
      ...(sc.route ? [['servers\' CPU µs per delivered msg, A + B (lower is better)', cpuPerMsg(e), cpuPerMsg(n), (x) => fmtNum(x, 2)]] : []),
      ...brokerRows(e, n),
    ];
  }
  if (sc.kind === 'latency') {
    return [
      ['p50 latency µs (lower is better)', e?.latencyUs?.p50, n?.latencyUs?.p50, (x) => fmtNum(x)],
      ['p99 latency µs (lower is better)', e?.latencyUs?.p99, n?.latencyUs?.p99, (x) => fmtNum(x)],
      ['requests/s', e?.reqRate, n?.reqRate, fmtInt],
      ...brokerRows(e, n),
    ];
  }
  if (sc.kind === 'idle') {
    return [
      [`broker RSS MiB, ${fmtInt(sc.connections)} idle conns (lower is better)`, e?.rssMiB, n?.rssMiB, (x) => fmtNum(x)],
      ['RSS growth per connection KiB', e?.perConnKiB, n?.perConnKiB, (x) => fmtNum(x, 2)],
      ['broker RSS MiB before connecting', e?.rssBeforeMiB, n?.rssBeforeMiB, (x) => fmtNum(x)],
      ['broker peak RSS MiB', e?.peakRssMiB, n?.peakRssMiB, (x) => fmtNum(x)],
      ['connections open (PONG received)', e?.connections, n?.connections, fmtInt],
      ['connect + handshake, connections/s', e?.connectRate, n?.connectRate, fmtInt],
      ['broker CPU % while connecting', e?.broker?.cpuPercent, n?.broker?.cpuPercent, (x) => fmtNum(x, 0)],
    ];
  }
  if (sc.kind === 'subflood') {
    return [
      [`insert ${fmtInt(sc.total)} SUBs, s until last PONG (lower is better)`, e?.wallSec, n?.wallSec, (x) => fmtNum(x, 2)],
      ['subscriptions/s', e?.subsPerSec, n?.subsPerSec, fmtInt],
      ['subscriptions reported by /subsz', e?.reportedSubscriptions, n?.reportedSubscriptions, fmtInt],
      ['broker RSS MiB before', e?.rssBeforeMiB, n?.rssBeforeMiB, (x) => fmtNum(x)],
      ['broker RSS MiB after the last PONG', e?.rssMiB, n?.rssMiB, (x) => fmtNum(x)],
      ['broker RSS MiB 1 s later', e?.rssSettledMiB, n?.rssSettledMiB, (x) => fmtNum(x)],
      ['broker peak RSS MiB', e?.peakRssMiB, n?.peakRssMiB, (x) => fmtNum(x)],
      ['broker CPU % while inserting', e?.broker?.cpuPercent, n?.broker?.cpuPercent, (x) => fmtNum(x, 0)],
    ];
  }
  if (sc.kind === 'inproc' && sc.mode === 'throughput') {
    return [
      ['delivered msgs/s (higher is better)', e?.deliveredRate, n?.deliveredRate, fmtInt],
      ['published msgs/s', e?.pubRate, n?.pubRate, fmtInt],
      ['client process CPU % (embedded: + broker)', e?.processCpuPercent, n?.processCpuPercent, (x) => fmtNum(x, 0)],
      ['client process RSS MiB (embedded: + broker)', e?.processRssMiB, n?.processRssMiB, (x) => fmtNum(x, 0)],
      ['nats-server process CPU %', undefined, n?.broker?.cpuPercent, (x) => fmtNum(x, 0)],
    ];
  }
  if (sc.kind === 'inproc') {
    return [
      ['p50 latency µs (lower is better)', e?.latencyUs?.p50, n?.latencyUs?.p50, (x) => fmtNum(x)],
      ['p99 latency µs (lower is better)', e?.latencyUs?.p99, n?.latencyUs?.p99, (x) => fmtNum(x)],
      ['requests/s', e?.reqRate, n?.reqRate, fmtInt],
      ['client process CPU % (embedded: + broker)', e?.processCpuPercent, n?.processCpuPercent, (x) => fmtNum(x, 0)],
    ];
  }
  if (sc.kind === 'jspub') {
    return [
      ['acked msgs/s (higher is better)', e?.pubRate, n?.pubRate, fmtInt],
      ['payload MB/s', e && (e.pubRate * sc.size) / 1e6, n && (n.pubRate * sc.size) / 1e6, (x) => fmtNum(x)],
      [`mean µs per ack (window / rate; ${sc.window} in flight)`, e?.ackLatencyUs, n?.ackLatencyUs, (x) => fmtNum(x)],
      ['broker CPU µs per acked msg (lower is better)', e?.brokerCpuUsPerMsg, n?.brokerCpuUsPerMsg, (x) => fmtNum(x, 2)],
      ['client CPU µs per acked msg', e?.clientCpuUsPerMsg, n?.clientCpuUsPerMsg, (x) => fmtNum(x, 2)],
      ['messages acked in all (warm-up, window, drain)', e?.acked, n?.acked, fmtInt],
      ...brokerRows(e, n),
    ];
  }
  if (sc.kind === 'jsfill') {
    return [
      [`fill ${fmtInt(e?.messages ?? n?.messages ?? FILL_COUNT)} msgs, s (lower is better)`, e?.fillSec, n?.fillSec, (x) => fmtNum(x, 2)],
      ['fill rate, acked msgs/s', e?.fillRate, n?.fillRate, fmtInt],
      ['broker CPU µs per msg while filling (lower is better)', e?.brokerCpuUsPerMsg, n?.brokerCpuUsPerMsg, (x) => fmtNum(x, 2)],
      ['client CPU µs per msg while filling', e?.clientCpuUsPerMsg, n?.clientCpuUsPerMsg, (x) => fmtNum(x, 2)],
      ['RSS growth B/msg beyond the 16 B payload (lower is better)', e?.bytesPerMsgBeyondPayload, n?.bytesPerMsgBeyondPayload, (x) => fmtNum(x, 1)],
      ['broker RSS MiB before the fill', e?.rssBeforeMiB, n?.rssBeforeMiB, (x) => fmtNum(x)],
      ['broker RSS MiB after the last ack', e?.rssAfterMiB, n?.rssAfterMiB, (x) => fmtNum(x)],
      ['broker RSS MiB 2 s later (used for B/msg)', e?.rssSettledMiB, n?.rssSettledMiB, (x) => fmtNum(x)],
      ['broker peak RSS MiB', e?.peakRssMiB, n?.peakRssMiB, (x) => fmtNum(x)],
      ['stream bytes (STREAM.INFO state.bytes)', e?.streamBytes, n?.streamBytes, fmtInt],
      ['broker CPU % while filling', e?.broker?.cpuPercent, n?.broker?.cpuPercent, (x) => fmtNum(x, 0)],
    ];
  }
  if (sc.kind === 'jsconsume') {
    return [
      [`consumed + acked msgs/s, last 90 % of ${fmtInt(e?.messages ?? n?.messages ?? CONSUME_COUNT)} (higher is better)`, e?.rate, n?.rate, fmtInt],
      ['whole drain s (first consume/fetch → last ack flushed)', e?.drainSec, n?.drainSec, (x) => fmtNum(x, 2)],
      ['whole drain msgs/s (first 10 % = warm-up included)', e?.drainRate, n?.drainRate, fmtInt],
      ['broker CPU µs per msg, last 90 % (deliver + ack; lower is better)', e?.brokerCpuUsPerMsg, n?.brokerCpuUsPerMsg, (x) => fmtNum(x, 2)],
      ['client CPU µs per msg', e?.clientCpuUsPerMsg, n?.clientCpuUsPerMsg, (x) => fmtNum(x, 2)],
      ['messages received / distinct stream seqs (must both be N)', e?.received != null ? `${fmtInt(e.received)} / ${fmtInt(e.unique)}` : undefined, n?.received != null ? `${fmtInt(n.received)} / ${fmtInt(n.unique)}` : undefined, (x) => x ?? '-'],
      ['consumer num_ack_pending after the drain', e?.consumerInfo?.num_ack_pending, n?.consumerInfo?.num_ack_pending, fmtInt],
      ['fill s (core publishes, not measured)', e?.fillSec, n?.fillSec, (x) => fmtNum(x, 2)],
      ...brokerRows(e, n),
    ];
  }
  if (sc.kind === 'jsrtt') {
    return [
      ['p50 publish → ackAck µs (lower is better)', e?.latencyUs?.p50, n?.latencyUs?.p50, (x) => fmtNum(x)],
      ['p90 publish → ackAck µs', e?.latencyUs?.p90, n?.latencyUs?.p90, (x) => fmtNum(x)],
      ['p99 publish → ackAck µs', e?.latencyUs?.p99, n?.latencyUs?.p99, (x) => fmtNum(x)],
      ['p50 publish → received µs', e?.deliverUs?.p50, n?.deliverUs?.p50, (x) => fmtNum(x)],
      ['p99 publish → received µs', e?.deliverUs?.p99, n?.deliverUs?.p99, (x) => fmtNum(x)],
      ['round trips/s', e?.rate, n?.rate, fmtInt],
      ['broker CPU µs per round trip (store + deliver + ack; lower is better)', e?.brokerCpuUsPerMsg, n?.brokerCpuUsPerMsg, (x) => fmtNum(x, 2)],
      ['client CPU µs per round trip', e?.clientCpuUsPerMsg, n?.clientCpuUsPerMsg, (x) => fmtNum(x, 2)],
      ...brokerRows(e, n),
    ];
  }
  if (sc.kind === 'kvobj' && sc.mode.startsWith('obj-')) {
    const mib = (OBJECT_BYTES / 2 ** 20).toFixed(0);
    return [
      [`MB/s per ${sc.mode === 'obj-put' ? 'putBlob' : 'getBlob'} of ${mib} MiB, median (higher is better)`, e?.mbps?.p50, n?.mbps?.p50, (x) => fmtNum(x)],
      ['MB/s over the window (all ops)', e?.aggregateMBps, n?.aggregateMBps, (x) => fmtNum(x)],
      ['operations in the window', e?.ops, n?.ops, fmtInt],
      ['broker CPU ms per op (lower is better)', e?.brokerCpuUsPerOp && e.brokerCpuUsPerOp / 1000, n?.brokerCpuUsPerOp && n.brokerCpuUsPerOp / 1000, (x) => fmtNum(x, 1)],
      ['client CPU ms per op', e?.clientCpuUsPerOp && e.clientCpuUsPerOp / 1000, n?.clientCpuUsPerOp && n.clientCpuUsPerOp / 1000, (x) => fmtNum(x, 1)],
      ...brokerRows(e, n),
    ];
  }
  if (sc.kind === 'kvobj') {
    const lat = sc.mode.endsWith('-lat');
    const op = sc.mode.startsWith('put') ? 'put' : 'get';
    return [
      ...(lat ? [
        [`p50 ${op} latency µs (lower is better)`, e?.latencyUs?.p50, n?.latencyUs?.p50, (x) => fmtNum(x)],
        [`p99 ${op} latency µs (lower is better)`, e?.latencyUs?.p99, n?.latencyUs?.p99, (x) => fmtNum(x)],
      ] : []),
      [`${op}s/s${lat ? ' (one in flight)' : ` (${KV_WINDOW} in flight; higher is better)`}`, e?.rate, n?.rate, fmtInt],
      [`broker CPU µs per ${op} (lower is better)`, e?.brokerCpuUsPerOp, n?.brokerCpuUsPerOp, (x) => fmtNum(x, 2)],
      [`client CPU µs per ${op}`, e?.clientCpuUsPerOp, n?.clientCpuUsPerOp, (x) => fmtNum(x, 2)],
      ...brokerRows(e, n),
    ];
  }
  if (sc.kind === 'alloc') {
    return [
      ['JS heap B/msg, GC-free windows (exact; lower is better)', e?.exactBytesPerMsg, undefined, (x) => fmtNum(x, 2)],
      ['JS heap B/msg over the GC-free slices of the long run', e?.long?.cleanBytesPerMsg, undefined, (x) => fmtNum(x, 2)],
      ['minor GCs / major GCs over the long run', e?.long && `${e.long.gcs.minor} / ${e.long.gcs.major}`, undefined, (x) => x ?? '-'],
      ['messages in the long run', e?.long?.messages, undefined, fmtInt],
      ['young generation max MiB (semi-space 64)', e?.long && e.long.maxYoungBytes / 2 ** 20, undefined, (x) => fmtNum(x, 2)],
      ['Buffer (off-heap) B/msg', e?.long && e.long.arrayBufferBytes / e.long.messages, undefined, (x) => fmtNum(x, 1)],
      ['heap-profile sampled B/msg', e?.profile?.sampledBytesPerMsg, undefined, (x) => fmtNum(x, 2)],
      ['msgs/s (broker + both clients, one process)', e?.long?.msgsPerSec, undefined, fmtInt],
    ];
  }
  return [
    ['createServer() median ms', e?.createMs?.median, undefined, (x) => fmtNum(x, 3)],
    ['createServer() p90 ms', e?.createMs?.p90, undefined, (x) => fmtNum(x, 3)],
    ['server.close() median ms', e?.closeMs?.median, undefined, (x) => fmtNum(x, 3)],
    ['server.close() p90 ms', e?.closeMs?.p90, undefined, (x) => fmtNum(x, 3)],
  ];
}

/** Broker CPU µs per delivered message (throughput results), or undefined. */
function cpuPerMsg(r) {
  return r?.broker && r.deliveredRate > 0 ? (r.broker.cpuPercent * 1e4) / r.deliveredRate : undefined;
}

function brokerRows(e, n) {
  if (!e?.broker && !n?.broker) return [];
  const perServer = (x, k) => x?.broker?.perServer && x.broker.perServer.map((u) => fmtNum(u[k], 0)).join(' / ');
  return [
    ['broker CPU % (100 = one core)', e?.broker?.cpuPercent, n?.broker?.cpuPercent, (x) => fmtNum(x, 0)],
    ...(e?.broker?.perServer || n?.broker?.perServer ? [
      ['  of which server A / B', perServer(e, 'cpuPercent'), perServer(n, 'cpuPercent'), (x) => x ?? '-'],
      ['run-queue wait % (runnable, no CPU), A / B', perServer(e, 'runWaitPercent'), perServer(n, 'runWaitPercent'), (x) => x ?? '-'],
    ] : []),
    ['broker peak RSS MiB', e?.broker?.peakRssMiB, n?.broker?.peakRssMiB, (x) => fmtNum(x, 0)],
  ];
}

function printTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  console.log('  ' + line(headers));
  console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log('  ' + line(r));
}

function printScenario(name, sc, res) {
  console.log(`\n${name}: ${sc.desc}`);
  const rows = metricRows(sc, res).map(([label, e, n, f]) => [label, f(e), f(n), fmtRatio(e, n)]);
  printTable(['metric', 'embedded', 'nats-server', 'ratio'], rows);
  if (sc.kind === 'alloc' && res.embedded?.profile) {
    console.log(`  top allocation sites (sampling heap profile over ${fmtInt(res.embedded.profile.messages)} msgs):`);
    for (const x of res.embedded.profile.top.slice(0, 8)) console.log(`    ${fmtNum(x.bytesPerMsg, 3).padStart(7)} B/msg  ${x.site}`);
  }
  for (const [t, r] of Object.entries(res)) {
    if (!r) continue;
    if (r.failed) console.log(`  ! ${t}: FAILED: ${r.failed}`);
    if (r.lost) console.log(`  ! ${t}: ${r.lost} of ${r.expectedTotal} messages not delivered`);
    for (const e of r.errors ?? []) console.log(`  ! ${t}: ${e}`);
    for (const e of r.brokerProblems ?? []) console.log(`  ! ${t} broker: ${e}`);
  }
}

// ---- machine -------------------------------------------------------------------------------------

function machineInfo(natsBin) {
  const cpus = os.cpus();
  let raw = '';
  try {
    raw = fs.readFileSync('/etc/machine-id', 'utf8').trim();
  } catch {}
  if (!raw) raw = `${os.hostname()}|${cpus[0]?.model}|${cpus.length}|${os.totalmem()}`;
  const id = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  let natsVersion = null;
  if (natsBin) {
    try {
      natsVersion = execFileSync(natsBin, ['--version'], { encoding: 'utf8' }).trim().replace(/^nats-server:\s*/, '');
    } catch {}
  }
  let git = null;
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    git = { commit, srcDirty: dirty };
  } catch {}
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  return {
    id,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemBytes: os.totalmem(),
    openFilesLimit: openFilesLimit(),
    node: process.version,
    natsServerVersion: natsVersion,
    natsEmbeddedVersion: pkg.version,
    git,
  };
}

// ---- main ----------------------------------------------------------------------------------------

async function main() {
  const opts = parseCli(process.argv.slice(2));
  // NATS_EMBEDDED_DIST: benchmark another build (e.g. a snapshot built outside the work tree, so
  // a rebuild of dist/ during the run cannot interfere); it is inherited by every child process.
  const distDir = process.env.NATS_EMBEDDED_DIST ? path.resolve(process.env.NATS_EMBEDDED_DIST) : path.join(ROOT, 'dist');
  const cli = path.join(distDir, 'cli.js');
  if (!fs.existsSync(cli)) {
    console.error(`bench: ${cli} is missing; build first (npx tsup)`);
    process.exit(1);
  }
  const natsBin = process.env.NATS_SERVER_BIN || findOnPath('nats-server');
  const wanted = opts.targets ?? ['embedded', 'nats-server'];
  const targets = [];
  // BENCH_EMBEDDED_NODE_ARGS: Node flags for the embedded broker processes only, e.g. to profile
  // them: BENCH_EMBEDDED_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' (NODE_OPTIONS refuses --cpu-prof).
  const nodeArgs = (process.env.BENCH_EMBEDDED_NODE_ARGS ?? '').split(' ').filter(Boolean);
  if (wanted.includes('embedded')) targets.push({ name: 'embedded', cmd: process.execPath, args: [...nodeArgs, cli] });
  if (wanted.includes('nats-server')) {
    if (natsBin && fs.existsSync(natsBin)) targets.push({ name: 'nats-server', cmd: natsBin, args: [] });
    else console.log('note: nats-server not found (set NATS_SERVER_BIN or put it on PATH); running embedded only');
  }
  if (opts.routePeer === 'embedded') opts.routePeerTarget = { name: 'embedded', cmd: process.execPath, args: [...nodeArgs, cli] };
  if (opts.routePeer === 'nats-server') {
    if (!natsBin || !fs.existsSync(natsBin)) usage('--route-peer nats-server: nats-server not found (set NATS_SERVER_BIN or put it on PATH)');
    opts.routePeerTarget = { name: 'nats-server', cmd: natsBin, args: [] };
  }
  const machine = machineInfo(targets.some((t) => t.name === 'nats-server') || opts.routePeer === 'nats-server' ? natsBin : null);
  console.log(`nats-embedded benchmark — ${machine.cpuModel} x${machine.cpuCount}, ${(machine.totalMemBytes / 2 ** 30).toFixed(1)} GiB, node ${machine.node}` +
    (machine.natsServerVersion ? `, nats-server ${machine.natsServerVersion}` : ''));
  console.log(`window ${opts.duration} s after ${opts.warmup} s warm-up, ${opts.rounds} round(s); scenarios: ${opts.scenarios.join(', ')}`);
  if (opts.routePeerTarget) console.log(`route-* scenarios: server B is ${opts.routePeerTarget.name} in every column`);

  const started = Date.now();
  const results = [];
  for (const name of opts.scenarios) {
    const sc = SCENARIOS[name];
    const rounds = {};
    const embeddedOnly = sc.kind === 'startup' || sc.kind === 'alloc';
    for (let round = 0; round < (embeddedOnly ? 1 : opts.rounds); round++) {
      for (const target of targets) {
        if (embeddedOnly && target.name !== 'embedded') continue;
        (rounds[target.name] ??= []).push(await runOnce(sc, target, opts));
      }
    }
    const res = {};
    for (const [t, rs] of Object.entries(rounds)) res[t] = pickMedian(sc, rs);
    printScenario(name, sc, res);
    results.push({ scenario: name, kind: sc.kind, description: sc.desc, payloadBytes: sc.size ?? null, results: res, ratio: ratios(sc, res) });
  }

  console.log('\nsummary (ratio = embedded / nats-server; throughput: higher is better, latency: lower is better)');
  const rows = [];
  for (const r of results) {
    const sc = SCENARIOS[r.scenario];
    const [label, e, n, f] = metricRows(sc, r.results)[0];
    if (e == null && n == null) continue;
    rows.push([r.scenario, label, f(e), f(n), fmtRatio(e, n)]);
  }
  printTable(['scenario', 'metric', 'embedded', 'nats-server', 'ratio'], rows);
  const totalSec = (Date.now() - started) / 1000;
  console.log(`\ntotal time ${totalSec.toFixed(1)} s`);

  const out = {
    date: new Date().toISOString(),
    machine,
    dist: { dir: path.relative(ROOT, distDir).startsWith('..') ? distDir : path.relative(ROOT, distDir), builtAt: fs.statSync(cli).mtime.toISOString(), commit: process.env.NATS_EMBEDDED_DIST_COMMIT ?? null },
    config: { routePeer: opts.routePeer ?? null, durationSec: opts.duration, warmupSec: opts.warmup, rounds: opts.rounds, batchBytes: BATCH_BYTES, pingEveryBatches: PING_EVERY, maxPingsOut: MAX_PINGS_OUT >= 1e9 ? null : MAX_PINGS_OUT, targets: targets.map((t) => t.name), jsWindow: JS_WINDOW, jsFillCount: FILL_COUNT, jsConsumeCount: CONSUME_COUNT, kvKeys: KV_KEYS, kvValueBytes: KV_SIZE, kvWindow: KV_WINDOW, objectBytes: OBJECT_BYTES },
    results,
    totalSec,
  };
  const dir = path.join(BENCH_DIR, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const base = `${out.date.slice(0, 10)}-${machine.id}`;
  let file = path.join(dir, `${base}.json`);
  for (let i = 2; fs.existsSync(file); i++) file = path.join(dir, `${base}-${i}.json`);
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
  if (opts.json) console.log(JSON.stringify(out, null, 2));

  const problems = results.some((r) => Object.values(r.results).some((x) => x && (x.failed || x.lost || x.errors?.length || x.brokerProblems?.length)));
  if (problems) {
    console.log('\nWARNING: problems were observed (see "!" lines above)');
    process.exitCode = 1;
  }
}

/** One run of a scenario against one target, with a fresh broker process. */
async function runOnce(sc, target, opts) {
  if (sc.route) return runRoute(sc, target, opts);
  if (sc.kind === 'startup' || sc.kind === 'alloc' || (sc.kind === 'inproc' && target.name === 'embedded')) {
    try {
      if (sc.kind === 'startup') return await runStartup(sc);
      if (sc.kind === 'alloc') return await runAlloc();
      return await runInproc(sc, target, null, opts, null);
    } catch (err) {
      return { failed: err.message, errors: [] };
    }
  }
  let broker;
  let r;
  let storeDir = null;
  try {
    const monitorPort = sc.kind === 'subflood' ? await freePort() : null;
    const extra = monitorPort ? ['-m', String(monitorPort)] : [];
    if (sc.kind === 'jspub' || sc.kind === 'jsfill' || sc.kind === 'jsconsume' || sc.kind === 'jsrtt' || sc.kind === 'kvobj') {
      storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nats-bench-js-'));
      extra.push('-js', '-sd', storeDir);
    }
    broker = await startBroker(target, extra);
    const pid = broker.proc.pid;
    r = sc.kind === 'throughput' ? await runThroughput(sc, broker.port, opts, pid)
      : sc.kind === 'jspub' ? await runJsPub(sc, broker.port, opts, pid)
      : sc.kind === 'jsfill' ? await runJsFill(sc, broker.port, opts, pid)
      : sc.kind === 'jsconsume' || sc.kind === 'jsrtt' ? await runJsConsume(sc, broker.port, opts, pid)
      : sc.kind === 'kvobj' ? await runKvObj(sc, broker.port, opts, pid)
      : sc.kind === 'latency' ? await runLatency(sc, broker.port, opts, pid)
      : sc.kind === 'idle' ? await runIdle(sc, broker.port, opts, pid)
      : sc.kind === 'subflood' ? await runSubFlood(sc, broker.port, opts, pid, monitorPort)
      : await runInproc(sc, target, broker.port, opts, pid);
  } catch (err) {
    r = { failed: err.message, errors: [] };
  } finally {
    if (broker) {
      const problems = await stopAndCheck(broker);
      if (problems.length > 0 && r) r.brokerProblems = problems.slice(0, 20);
    }
    if (storeDir) fs.rmSync(storeDir, { recursive: true, force: true });
  }
  return r;
}

/**
 * Stops a broker; its problems: an exit during the run, and warning / error lines in its log
 * (only in its first `logEnd` characters when given: what it logged before the stop began).
 */
async function stopAndCheck(broker, prefix = '', logEnd = undefined) {
  const exitedEarly = broker.exited;
  await stopBroker(broker);
  const problems = [];
  if (exitedEarly) problems.push(`${prefix}broker exited during the run: ${JSON.stringify(exitedEarly)}`);
  for (const l of broker.output.slice(0, logEnd).split('\n')) {
    if (/slow consumer|warning|error|panic|uncaught|\[(ERR|WRN|FTL)\]/i.test(l)) problems.push(prefix + l.trim());
  }
  return problems;
}

/**
 * route-*: two brokers of one target, A and B, with the cluster flags both accept (`--cluster`,
 * `--cluster_name`; B also `--routes` to A, so B solicits the route) and a monitoring port each.
 * Publishers (the requester) connect to A, subscribers (the responder) to B. The run starts
 * once each side's `/routez` shows the route, and each publish waits until the other side's
 * route lists the interest it needs (`/routez?subs=1`), so no message is published into a
 * route that does not carry its subject yet. `--route-peer` makes B another target than A (a
 * mixed pair). B is stopped first (it solicited the route: A does not try to reconnect); both
 * logs are checked for problems up to the moment the stop began (after it, nats-server may log
 * the route's close as a "Read Error").
 */
async function runRoute(sc, target, opts) {
  const brokers = [];
  let r;
  try {
    const mon = [await freePort(), await freePort()];
    const clusterA = await freePort();
    brokers.push(await startBroker(target, ['-m', String(mon[0]), '--cluster', `nats://${HOST}:${clusterA}`, '--cluster_name', 'bench']));
    const clusterB = await freePort();
    brokers.push(await startBroker(opts.routePeerTarget ?? target, ['-m', String(mon[1]), '--cluster', `nats://${HOST}:${clusterB}`, '--cluster_name', 'bench', '--routes', `nats://${HOST}:${clusterA}`]));
    for (const m of mon) await routezWait(m, (z) => (z.num_routes ?? 0) >= 1, 'a route');
    const route = {
      subPort: brokers[1].port,
      interest: (server, subject) => routezWait(mon[server === 'A' ? 0 : 1], (z) => (z.routes ?? []).some((x) => (x.subscriptions_list ?? []).includes(subject)), `route interest in ${subject} on server ${server}`),
    };
    const pids = brokers.map((b) => b.proc.pid);
    r = sc.kind === 'throughput' ? await runThroughput(sc, brokers[0].port, opts, pids, route) : await runLatency(sc, brokers[0].port, opts, pids, route);
  } catch (err) {
    r = { failed: err.message, errors: [] };
  } finally {
    const problems = [];
    const logEnd = brokers.map((b) => b.output.length);
    for (let i = brokers.length - 1; i >= 0; i--) problems.push(...(await stopAndCheck(brokers[i], `${'AB'[i]}: `, logEnd[i])));
    if (problems.length > 0 && r) r.brokerProblems = problems.slice(0, 20);
  }
  return r;
}

/** Polls `/routez?subs=1` on a monitoring port until `ok(json)`; throws after 10 s. */
async function routezWait(monitorPort, ok, what) {
  const deadline = Date.now() + 10_000;
  let last = null;
  while (Date.now() < deadline) {
    try {
      last = await (await fetch(`http://${HOST}:${monitorPort}/routez?subs=1`)).json();
      if (ok(last)) return;
    } catch {}
    await sleep(10);
  }
  throw new Error(`no ${what} within 10 s (last /routez: ${JSON.stringify(last)?.slice(0, 400)})`);
}

/**
 * With several rounds, the reported figures are those of the round with the median primary
 * metric (delivered msgs/s, p50 latency); problems of every round are kept, and all rounds go
 * to the JSON file.
 */
function pickMedian(sc, rs) {
  if (rs.length === 1) return rs[0];
  const ok = rs.filter((r) => !r.failed);
  const key = (r) => {
    switch (sc.kind) {
      case 'throughput': return r.deliveredRate;
      case 'latency': return r.latencyUs.p50;
      case 'idle': return r.rssMiB;
      case 'subflood': return r.wallSec;
      case 'jspub': return r.pubRate;
      case 'jsfill': return r.fillSec;
      case 'jsconsume': return r.rate;
      case 'jsrtt': return r.latencyUs.p50;
      case 'kvobj': return sc.mode.endsWith('-lat') ? r.latencyUs.p50 : r.rate;
      case 'inproc': return sc.mode === 'throughput' ? r.deliveredRate : r.latencyUs.p50;
      default: return r.createMs.median;
    }
  };
  const sorted = [...ok].sort((a, b) => key(a) - key(b));
  const mid = sorted.length > 0 ? sorted[Math.floor((sorted.length - 1) / 2)] : rs[0];
  return {
    ...mid,
    lost: rs.reduce((a, r) => a + (r.lost ?? 0), 0),
    failed: rs.map((r) => r.failed).filter(Boolean).join('; ') || undefined,
    errors: rs.flatMap((r) => r.errors ?? []),
    brokerProblems: rs.flatMap((r) => r.brokerProblems ?? []),
    rounds: rs,
  };
}

function ratios(sc, res) {
  const e = res.embedded;
  const n = res['nats-server'];
  if (!e || !n || e.failed || n.failed) return null;
  if (sc.kind === 'throughput') return { deliveredRate: e.deliveredRate / n.deliveredRate, pubRate: e.pubRate / n.pubRate };
  if (sc.kind === 'latency' || (sc.kind === 'inproc' && sc.mode === 'latency')) return { p50: e.latencyUs.p50 / n.latencyUs.p50, p99: e.latencyUs.p99 / n.latencyUs.p99, reqRate: e.reqRate / n.reqRate };
  if (sc.kind === 'inproc') return { deliveredRate: e.deliveredRate / n.deliveredRate, pubRate: e.pubRate / n.pubRate };
  if (sc.kind === 'idle') return { rss: e.rssMiB / n.rssMiB, perConn: e.perConnKiB / n.perConnKiB };
  if (sc.kind === 'subflood') return { wallSec: e.wallSec / n.wallSec, rss: e.rssMiB / n.rssMiB };
  if (sc.kind === 'jspub') return { pubRate: e.pubRate / n.pubRate };
  if (sc.kind === 'jsfill') return { fillSec: e.fillSec / n.fillSec, bytesPerMsg: e.bytesPerMsg / n.bytesPerMsg };
  if (sc.kind === 'jsconsume') return { rate: e.rate / n.rate, brokerCpuUsPerMsg: e.brokerCpuUsPerMsg / n.brokerCpuUsPerMsg };
  if (sc.kind === 'kvobj' && sc.mode.endsWith('-lat')) return { p50: e.latencyUs.p50 / n.latencyUs.p50, p99: e.latencyUs.p99 / n.latencyUs.p99, rate: e.rate / n.rate, brokerCpuUsPerOp: e.brokerCpuUsPerOp / n.brokerCpuUsPerOp };
  if (sc.kind === 'kvobj') return { rate: e.rate / n.rate, brokerCpuUsPerOp: e.brokerCpuUsPerOp / n.brokerCpuUsPerOp };
  if (sc.kind === 'jsrtt') return { p50: e.latencyUs.p50 / n.latencyUs.p50, p90: e.latencyUs.p90 / n.latencyUs.p90, p99: e.latencyUs.p99 / n.latencyUs.p99, brokerCpuUsPerMsg: e.brokerCpuUsPerMsg / n.brokerCpuUsPerMsg };
  return null;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
