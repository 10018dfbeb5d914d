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

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const LOADGEN = path.join(BENCH_DIR, 'loadgen.mjs');
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
};

// Publisher flow control: one write is a pre-encoded batch of ~64 KiB of frames; a PING follows
// every PING_EVERY batches and at most MAX_PINGS_OUT may be unanswered (nats-server-style).
// Both can be changed with --ping-every / --max-pings-out (0 = no flow control) for experiments.
const BATCH_BYTES = 64 * 1024;
let PING_EVERY = 4;
let MAX_PINGS_OUT = 2;

// ---- command line --------------------------------------------------------------------------------

function parseCli(argv) {
  const o = { scenarios: Object.keys(SCENARIOS), duration: 3, warmup: 0.5, rounds: 1, json: false, targets: null };
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
  return o;
}

function usage(err) {
  const text = `Usage: npm run bench -- [options]

  --scenarios a,b     scenarios to run (default: all): ${Object.keys(SCENARIOS).join(', ')}
  --duration <s>      measuring window per scenario and target, seconds (default 3)
  --warmup <s>        warm-up before the window, seconds (default 0.5)
  --rounds <n>        runs per scenario and target, alternating targets; the median round is shown (default 1)
  --targets a,b       embedded, nats-server (default: both; nats-server only if found)
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

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
async function startBroker(target) {
  const port = await freePort();
  const args = [...target.args, '-p', String(port), '-a', HOST];
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
  constructor(cfg, errors) {
    this.cfg = cfg;
    this.inbox = [];
    this.waiters = [];
    this.exited = false;
    this.proc = fork(LOADGEN, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

/** CPU time (s) and peak RSS (bytes) of a process, from /proc (Linux); null elsewhere. */
function procUsage(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime + stime
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return { cpuSec: ticks / 100, peakRssBytes: hwm ? Number(hwm[1]) * 1024 : null, t: process.hrtime.bigint() };
  } catch {
    return null;
  }
}

function brokerUsage(a, b) {
  if (!a || !b) return null;
  const wall = Number(b.t - a.t) / 1e9;
  return { cpuPercent: (100 * (b.cpuSec - a.cpuSec)) / wall, peakRssMiB: b.peakRssBytes === null ? null : b.peakRssBytes / 2 ** 20 };
}

async function runThroughput(sc, port, opts, brokerPid) {
  const errors = [];
  const children = [];
  try {
    const subs = [];
    for (let i = 0; i < sc.subs; i++) {
      subs.push(new Child({ role: 'sub', id: i, host: HOST, port, subject: 'bench.x', queue: sc.queue ?? null }, errors));
    }
    children.push(...subs);
    await all(subs, 'ready'); // every SUB is confirmed by a PONG before anyone publishes
    const pubs = [];
    for (let i = 0; i < sc.pubs; i++) {
      pubs.push(new Child({
        role: 'pub', id: i, host: HOST, port, subject: 'bench.x', size: sc.size,
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
    broadcast(subs, { type: 'drain' });
    const drained = await all(subs, 'drained', 60_000);

    const published = stopped.reduce((a, m) => a + m.count, 0);
    const received = drained.reduce((a, m) => a + m.count, 0);
    const expected = sc.queue ? published : published * sc.subs;
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

async function runLatency(sc, port, opts, brokerPid) {
  const errors = [];
  const children = [];
  try {
    const responder = new Child({ role: 'responder', id: 0, host: HOST, port, subject: 'bench.req', size: sc.size }, errors);
    children.push(responder);
    await responder.wait('ready');
    const requester = new Child({ role: 'requester', id: 0, host: HOST, port, subject: 'bench.req', size: sc.size }, errors);
    children.push(requester);
    await requester.wait('ready');
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

// ---- reporting -----------------------------------------------------------------------------------

const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const fmtNum = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
const fmtRatio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '-');

function metricRows(sc, res) {
  const e = res.embedded;
  const n = res['nats-server'];
  if (sc.kind === 'throughput') {
    return [
      ['delivered msgs/s (higher is better)', e?.deliveredRate, n?.deliveredRate, fmtInt],
      ['published msgs/s', e?.pubRate, n?.pubRate, fmtInt],
      ['delivered MB/s (payload)', e && (e.deliveredRate * sc.size) / 1e6, n && (n.deliveredRate * sc.size) / 1e6, (x) => fmtNum(x)],
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
  return [
    ['createServer() median ms', e?.createMs?.median, undefined, (x) => fmtNum(x, 3)],
    ['createServer() p90 ms', e?.createMs?.p90, undefined, (x) => fmtNum(x, 3)],
    ['server.close() median ms', e?.closeMs?.median, undefined, (x) => fmtNum(x, 3)],
    ['server.close() p90 ms', e?.closeMs?.p90, undefined, (x) => fmtNum(x, 3)],
  ];
}

function brokerRows(e, n) {
  if (!e?.broker && !n?.broker) return [];
  return [
    ['broker CPU % (100 = one core)', e?.broker?.cpuPercent, n?.broker?.cpuPercent, (x) => fmtNum(x, 0)],
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
    node: process.version,
    natsServerVersion: natsVersion,
    natsEmbeddedVersion: pkg.version,
    git,
  };
}

// ---- main ----------------------------------------------------------------------------------------

async function main() {
  const opts = parseCli(process.argv.slice(2));
  const cli = path.join(ROOT, 'dist', 'cli.js');
  if (!fs.existsSync(cli)) {
    console.error('bench: dist/cli.js is missing; build first (npx tsup)');
    process.exit(1);
  }
  const natsBin = process.env.NATS_SERVER_BIN || findOnPath('nats-server');
  const wanted = opts.targets ?? ['embedded', 'nats-server'];
  const targets = [];
  if (wanted.includes('embedded')) targets.push({ name: 'embedded', cmd: process.execPath, args: [cli] });
  if (wanted.includes('nats-server')) {
    if (natsBin && fs.existsSync(natsBin)) targets.push({ name: 'nats-server', cmd: natsBin, args: [] });
    else console.log('note: nats-server not found (set NATS_SERVER_BIN or put it on PATH); running embedded only');
  }
  const machine = machineInfo(targets.some((t) => t.name === 'nats-server') ? natsBin : null);
  console.log(`nats-embedded benchmark — ${machine.cpuModel} x${machine.cpuCount}, ${(machine.totalMemBytes / 2 ** 30).toFixed(1)} GiB, node ${machine.node}` +
    (machine.natsServerVersion ? `, nats-server ${machine.natsServerVersion}` : ''));
  console.log(`window ${opts.duration} s after ${opts.warmup} s warm-up, ${opts.rounds} round(s); scenarios: ${opts.scenarios.join(', ')}`);

  const started = Date.now();
  const results = [];
  for (const name of opts.scenarios) {
    const sc = SCENARIOS[name];
    const rounds = {};
    for (let round = 0; round < (sc.kind === 'startup' ? 1 : opts.rounds); round++) {
      for (const target of targets) {
        if (sc.kind === 'startup' && target.name !== 'embedded') continue;
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
    config: { durationSec: opts.duration, warmupSec: opts.warmup, rounds: opts.rounds, batchBytes: BATCH_BYTES, pingEveryBatches: PING_EVERY, maxPingsOut: MAX_PINGS_OUT >= 1e9 ? null : MAX_PINGS_OUT, targets: targets.map((t) => t.name) },
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
  if (sc.kind === 'startup') {
    try {
      return await runStartup(sc);
    } catch (err) {
      return { failed: err.message, errors: [] };
    }
  }
  let broker;
  let r;
  try {
    broker = await startBroker(target);
    r = sc.kind === 'throughput'
      ? await runThroughput(sc, broker.port, opts, broker.proc.pid)
      : await runLatency(sc, broker.port, opts, broker.proc.pid);
  } catch (err) {
    r = { failed: err.message, errors: [] };
  } finally {
    if (broker) {
      const exitedEarly = broker.exited;
      await stopBroker(broker);
      const problems = [];
      if (exitedEarly) problems.push(`broker exited during the run: ${JSON.stringify(exitedEarly)}`);
      for (const l of broker.output.split('\n')) {
        if (/slow consumer|warning|error|panic|uncaught|\[(ERR|WRN|FTL)\]/i.test(l)) problems.push(l.trim());
      }
      if (problems.length > 0 && r) r.brokerProblems = problems.slice(0, 20);
    }
  }
  return r;
}

/**
 * With several rounds, the reported figures are those of the round with the median primary
 * metric (delivered msgs/s, p50 latency); problems of every round are kept, and all rounds go
 * to the JSON file.
 */
function pickMedian(sc, rs) {
  if (rs.length === 1) return rs[0];
  const ok = rs.filter((r) => !r.failed);
  const key = (r) => (sc.kind === 'throughput' ? r.deliveredRate : sc.kind === 'latency' ? r.latencyUs.p50 : r.createMs.median);
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
  if (sc.kind === 'latency') return { p50: e.latencyUs.p50 / n.latencyUs.p50, p99: e.latencyUs.p99 / n.latencyUs.p99, reqRate: e.reqRate / n.reqRate };
  return null;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
