#!/usr/bin/env node
// Allocation micro-benchmark: does the embedded broker's publish path allocate per message when
// the subject's match result is cached? See bench/README.md ("alloc").
//
//   node bench/alloc.mjs [--messages 1000000] [--window 100000] [--windows 5] [--size 16] [--no-profile] [--json]
//   npm run bench -- --scenarios alloc
//
// createServer() runs in THIS process (dist/index.js), with one raw-TCP subscriber and one
// raw-TCP publisher, also in this process, publishing to one subject (so every lookup after the
// first is a cache hit). The process needs --expose-gc and a fixed, large young generation; when
// started without them it re-executes itself with:
//   --expose-gc --min-semi-space-size=64 --max-semi-space-size=64
//
// Three measurements, all after a warm-up:
//  1. Exact windows. gc() twice, then read the V8 heap (sum of space_used_size over all spaces)
//     and publish `--window` messages. If no GC of any kind ran during the window (checked with a
//     PerformanceObserver on 'gc' entries), nothing was freed, so heap-used-after minus
//     heap-used-before is exactly the number of bytes allocated on the JS heap in the window.
//     Divided by the messages: bytes per message. Windows in which a GC ran are reported as such
//     and not used for that figure.
//  2. GC count. gc(), then publish `--messages` messages and count the minor (scavenge) and major
//     GCs. Estimate: (minor GCs x semi-space size + young-generation growth) / messages. With a
//     64 MiB semi-space, an allocation of even 16 B per message would cause a scavenge about
//     every 4 M messages; 0 scavenges over 1 M messages bounds it at < 64 B per message.
//  3. Sampling heap profile (node:inspector HeapProfiler, 128 B sampling interval, objects freed
//     by GC included) over one window: the allocation sites with the most bytes.
//
// All three see the WHOLE process: the broker, the two client sockets and the harness. The
// harness allocates per socket read/write (one Buffer object per 'data' chunk of up to 64 KiB,
// one write request per 64 KiB batch), never per message. What the figures cannot show: memory
// outside the V8 heap (Buffer backing stores are counted separately as arrayBuffers growth).
import { spawnSync } from 'node:child_process';
import inspector from 'node:inspector';
import net from 'node:net';
import path from 'node:path';
import { PerformanceObserver, constants as perfConstants, performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');
const V8_FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];

if (typeof globalThis.gc !== 'function') {
  // Re-execute with the flags the measurement needs (IPC, if any, is not needed in that case:
  // run.mjs forks this file with the flags already set).
  const r = spawnSync(process.execPath, [...V8_FLAGS, SELF, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

// ---- options -------------------------------------------------------------------------------------

const opts = { messages: 1_000_000, window: 100_000, windows: 5, size: 16, profile: true, json: false, warmup: 300_000 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const num = () => {
    const v = Number(process.argv[++i]);
    if (!(Number.isInteger(v) && v > 0)) throw new Error(`${a} needs a positive integer`);
    return v;
  };
  if (a === '--messages') opts.messages = num();
  else if (a === '--window') opts.window = num();
  else if (a === '--windows') opts.windows = num();
  else if (a === '--size') opts.size = num();
  else if (a === '--warmup') opts.warmup = num();
  else if (a === '--no-profile') opts.profile = false;
  else if (a === '--json') opts.json = true;
  else {
    console.error(`alloc: unknown argument ${a}`);
    process.exit(2);
  }
}

// ---- GC observation ------------------------------------------------------------------------------

const gcLog = []; // { start, kind }
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcLog.push({ start: e.startTime, end: e.startTime + e.duration, kind: e.detail?.kind ?? e.kind });
});
obs.observe({ entryTypes: ['gc'] });
const MINOR = perfConstants.NODE_PERFORMANCE_GC_MINOR;
const MAJOR = perfConstants.NODE_PERFORMANCE_GC_MAJOR;
const INCREMENTAL = perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL;
/** GC entries overlapping [t0, t1] (performance.now() times). Entries arrive asynchronously. */
async function gcsBetween(t0, t1) {
  await new Promise((r) => setTimeout(r, 20));
  const xs = gcLog.filter((g) => g.end >= t0 && g.start <= t1);
  return {
    minor: xs.filter((g) => g.kind === MINOR).length,
    major: xs.filter((g) => g.kind === MAJOR).length,
    incremental: xs.filter((g) => g.kind === INCREMENTAL).length,
    total: xs.length,
  };
}

function heapUsed() {
  let used = 0;
  let young = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    used += s.space_used_size;
    if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') young += s.space_used_size;
  }
  return { used, young, arrayBuffers: process.memoryUsage().arrayBuffers };
}

function fullGc() {
  globalThis.gc();
  globalThis.gc();
}

// ---- broker and raw clients ----------------------------------------------------------------------

const CONNECT = 'CONNECT {"verbose":false,"pedantic":false}\r\n';
const SUBJECT = 'bench.alloc';

/** Counts MSG frames without allocating per frame (header line scan, skip size+2 bytes). */
class Counter {
  constructor() {
    this.count = 0;
    this.skip = 0;
    this.carry = null;
    this.pongs = 0;
  }
  feed(chunk) {
    let pos = 0;
    if (this.carry !== null) {
      chunk = Buffer.concat([this.carry, chunk]); // per chunk, not per message
      this.carry = null;
    }
    const len = chunk.length;
    while (pos < len) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - pos);
        this.skip -= n;
        pos += n;
        continue;
      }
      const nl = chunk.indexOf(10, pos);
      if (nl === -1) {
        this.carry = Buffer.from(chunk.subarray(pos));
        return;
      }
      const c0 = chunk[pos];
      if (c0 === 0x4d /* MSG */) {
        let end = nl - 1; // '\r'
        let size = 0;
        let mul = 1;
        let p = end - 1;
        while (chunk[p] >= 0x30 && chunk[p] <= 0x39) {
          size += (chunk[p] - 0x30) * mul;
          mul *= 10;
          p--;
        }
        this.count++;
        this.skip = size + 2;
      } else if (c0 === 0x50 /* P */ && chunk[pos + 1] === 0x4f /* PONG */) this.pongs++;
      else if (c0 === 0x2d /* - */) throw new Error(`broker sent ${chunk.toString('latin1', pos, nl)}`);
      pos = nl + 1;
    }
  }
}

function rawConnect(port, extra) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.setNoDelay(true);
    const counter = new Counter();
    sock.once('error', reject);
    const onData = (chunk) => {
      counter.feed(chunk);
      if (counter.pongs > 0) {
        sock.off('data', onData);
        resolve({ sock, counter });
      }
    };
    sock.on('data', onData);
    sock.write(`${CONNECT}${extra}PING\r\n`);
  });
}

const { createServer } = await import(process.env.NATS_EMBEDDED_DIST ? pathToFileURL(path.join(process.env.NATS_EMBEDDED_DIST, 'index.js')).href : new URL('../dist/index.js', import.meta.url).href);
const server = await createServer({ port: 0, http: -1 });
const sub = await rawConnect(server.port, `SUB ${SUBJECT} 1\r\n`);
const pub = await rawConnect(server.port, '');

const frame = Buffer.from(`PUB ${SUBJECT} ${opts.size}\r\n${'a'.repeat(opts.size)}\r\n`, 'latin1');
const perBatch = Math.max(1, Math.floor((64 * 1024) / frame.length));
const batch = Buffer.concat(new Array(perBatch).fill(frame));
const MAX_AHEAD = 4 * perBatch; // batches in flight between publisher and subscriber

let published = 0;
let target = 0;
let onDone = null;
function pump() {
  while (published < target && published - sub.counter.count < MAX_AHEAD) {
    pub.sock.write(batch);
    published += perBatch;
  }
}
sub.sock.on('data', (chunk) => {
  sub.counter.feed(chunk);
  if (published < target) pump();
  else if (onDone !== null && sub.counter.count >= target) {
    const f = onDone;
    onDone = null;
    f();
  }
});

/** Publishes about `n` messages (whole batches) and resolves once the subscriber has them all. */
function publish(n) {
  const start = published;
  target = published + Math.ceil(n / perBatch) * perBatch;
  return new Promise((resolve) => {
    onDone = () => resolve(published - start);
    pump();
  });
}

// ---- measurements --------------------------------------------------------------------------------

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

await publish(opts.warmup);

// 1. exact windows
const windows = [];
for (let w = 0; w < opts.windows; w++) {
  fullGc();
  await new Promise((r) => setTimeout(r, 20));
  const h0 = heapUsed();
  const t0 = performance.now();
  const n = await publish(opts.window);
  const t1 = performance.now();
  const h1 = heapUsed();
  const gcs = await gcsBetween(t0, t1);
  windows.push({
    messages: n,
    ms: t1 - t0,
    gcs,
    heapBytes: h1.used - h0.used,
    bytesPerMsg: gcs.total === 0 ? (h1.used - h0.used) / n : null,
    arrayBufferBytes: h1.arrayBuffers - h0.arrayBuffers,
  });
}
const clean = windows.filter((w) => w.bytesPerMsg !== null);

// 2. GC count over a long run, in slices: heap growth is summed over the slices in which no GC
// ran (exact for those), and the young generation's fill level is read after every slice.
fullGc();
await new Promise((r) => setTimeout(r, 20));
const semi = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
const semiSpaceBytes = semi.space_size / 2; // new_space space_size covers both semi-spaces
const slice = Math.max(perBatch, Math.floor(opts.window / 2));
const long = { messages: 0, ms: 0, gcs: { minor: 0, major: 0, incremental: 0, total: 0 }, cleanMessages: 0, cleanHeapBytes: 0, maxYoungBytes: 0, arrayBufferBytes: 0, semiSpaceBytes };
const lt0 = performance.now();
while (long.messages < opts.messages) {
  const h0 = heapUsed();
  const t0 = performance.now();
  const n = await publish(Math.min(slice, opts.messages - long.messages));
  const t1 = performance.now();
  const h1 = heapUsed();
  long.ms += t1 - t0;
  long.messages += n;
  long.maxYoungBytes = Math.max(long.maxYoungBytes, h1.young);
  long.arrayBufferBytes += Math.max(0, h1.arrayBuffers - h0.arrayBuffers);
  const g = await gcsBetween(t0, t1);
  for (const k of Object.keys(g)) long.gcs[k] += g[k];
  if (g.total === 0) {
    long.cleanMessages += n;
    long.cleanHeapBytes += h1.used - h0.used;
  }
}
long.wallMs = performance.now() - lt0;
long.msgsPerSec = (long.messages * 1000) / long.ms;
long.cleanBytesPerMsg = long.cleanMessages > 0 ? long.cleanHeapBytes / long.cleanMessages : null;
// A scavenge forced by JS allocation alone needs a full semi-space; if the young generation never
// came near it, the scavenges were triggered otherwise (V8 also scavenges on external, i.e.
// ArrayBuffer, memory pressure: the socket read buffers and outbound slabs).
long.scavengesExplainedByHeap = long.gcs.minor > 0 && long.maxYoungBytes > semiSpaceBytes / 2;
long.upperBoundBytesPerMsg = long.gcs.minor === 0 ? semiSpaceBytes / long.messages : null;

// 3. sampling heap profile
let profile = null;
if (opts.profile) {
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) => new Promise((res, rej) => session.post(method, params, (e, r) => (e ? rej(e) : res(r))));
  await post('HeapProfiler.enable');
  fullGc();
  await post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const n = await publish(opts.window);
  const { profile: p } = await post('HeapProfiler.stopSampling');
  session.disconnect();
  const sites = new Map();
  const walk = (node) => {
    if (node.selfSize > 0) {
      const cf = node.callFrame;
      const url = cf.url.startsWith('file://') ? path.relative(ROOT, fileURLToPath(cf.url)) : cf.url || '(native)';
      const key = `${cf.functionName || '(anonymous)'} ${url}:${cf.lineNumber + 1}`;
      sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    }
    for (const c of node.children) walk(c);
  };
  walk(p.head);
  const top = [...sites.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([site, bytes]) => ({ site, bytes, bytesPerMsg: bytes / n }));
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  profile = { messages: n, samplingIntervalBytes: 128, sampledBytes: total, sampledBytesPerMsg: total / n, top };
}

// Cache statistics from the broker's own monitoring endpoint (read after the measurements).
let sublist = null;
try {
  sublist = await (await fetch(`${server.monitorUrl}/subsz`)).json();
} catch {}

const result = {
  messages: long.messages,
  payloadBytes: opts.size,
  framesPerWrite: perBatch,
  windows,
  exactBytesPerMsg: clean.length > 0 ? clean.map((w) => w.bytesPerMsg).sort((a, b) => a - b)[Math.floor((clean.length - 1) / 2)] : null,
  cleanWindows: clean.length,
  long,
  profile,
  sublist: sublist && { num_matches: sublist.num_matches, cache_hit_rate: sublist.cache_hit_rate, num_cache: sublist.num_cache },
  v8Flags: V8_FLAGS,
  node: process.version,
};

pub.sock.destroy();
sub.sock.destroy();
await server.close();
obs.disconnect();

if (process.send) {
  process.send({ type: 'alloc', result });
} else {
  console.log(`alloc micro-bench: ${opts.size} B payload, one subject (cache hit), ${perBatch} frames per 64 KiB write; broker + raw clients in one process`);
  console.log(`\n1. exact windows (no GC inside the window => heap growth = bytes allocated):`);
  for (const w of windows) {
    console.log(`   ${w.messages.toLocaleString('en-US')} msgs in ${fmt(w.ms, 0)} ms: heap +${w.heapBytes.toLocaleString('en-US')} B` +
      (w.bytesPerMsg !== null ? ` = ${fmt(w.bytesPerMsg, 3)} B/msg` : ` (GC ran: ${JSON.stringify(w.gcs)}; not used)`) +
      `, arrayBuffers ${w.arrayBufferBytes >= 0 ? '+' : ''}${w.arrayBufferBytes.toLocaleString('en-US')} B`);
  }
  console.log(`   median: ${result.exactBytesPerMsg === null ? '-' : fmt(result.exactBytesPerMsg, 3)} B/msg over ${clean.length} clean window(s)`);
  console.log(`\n2. ${long.messages.toLocaleString('en-US')} msgs in slices of ${slice.toLocaleString('en-US')} (${Math.round(long.msgsPerSec).toLocaleString('en-US')} msgs/s): ` +
    `${long.gcs.minor} minor GC, ${long.gcs.major} major GC, semi-space ${semiSpaceBytes / 2 ** 20} MiB, young generation at most ${fmt(long.maxYoungBytes / 2 ** 20, 1)} MiB after a slice`);
  console.log(`   heap growth over the ${long.cleanMessages.toLocaleString('en-US')} msgs of GC-free slices: ${long.cleanBytesPerMsg === null ? '-' : fmt(long.cleanBytesPerMsg, 3)} B/msg` +
    (long.upperBoundBytesPerMsg !== null ? `; no scavenge at all => < ${fmt(long.upperBoundBytesPerMsg, 1)} B/msg` : '') +
    `; ArrayBuffer (Buffer memory outside the JS heap) growth ${fmt(long.arrayBufferBytes / long.messages, 1)} B/msg`);
  if (long.gcs.minor > 0 && !long.scavengesExplainedByHeap) {
    console.log(`   the ${long.gcs.minor} scavenge(s) ran with the young generation far from full: triggered by external (Buffer) memory pressure, not by per-message JS objects`);
  }
  if (profile) {
    console.log(`\n3. sampling heap profile over ${profile.messages.toLocaleString('en-US')} msgs: ${profile.sampledBytes.toLocaleString('en-US')} B sampled (${fmt(profile.sampledBytesPerMsg, 3)} B/msg); top sites:`);
    for (const s of profile.top) console.log(`   ${String(s.bytes).padStart(10)} B  ${fmt(s.bytesPerMsg, 4).padStart(8)} B/msg  ${s.site}`);
  }
  if (result.sublist) console.log(`\nsublist: ${JSON.stringify(result.sublist)}`);
  if (opts.json) console.log(JSON.stringify(result, null, 2));
}
