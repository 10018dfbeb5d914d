// In-process mode of the benchmark (forked by run.mjs; see bench/README.md): the official client
// (@nats-io/transport-node) publishes and subscribes from ONE Node process. Target `embedded`:
// createServer() (dist/index.js) runs in that same process, the way users run it in tests.
// Target `nats-server`: the same client code talks to a nats-server that run.mjs started.
//
// Config (JSON in argv[2]): { target, port?, kind: 'throughput'|'latency', size, warmup, duration }
// Result: one IPC message { type: 'result', ... } (or { type: 'error', message }).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { reportToParent } from './report.mjs';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => process.hrtime.bigint();

/** Publisher batch: messages published between two flush() calls; at most 2 flushes pending. */
const BATCH = 1000;
const MAX_FLUSHES = 2;
/** The publisher also stops while it is this many messages ahead of the subscriber. */
const MAX_AHEAD = 20_000;

async function main() {
  let server = null;
  let port = cfg.port;
  if (cfg.target === 'embedded') {
    const { createServer } = await import(process.env.NATS_EMBEDDED_DIST ? pathToFileURL(path.join(process.env.NATS_EMBEDDED_DIST, 'index.js')).href : new URL('../dist/index.js', import.meta.url).href);
    server = await createServer({ port: 0 });
    port = server.port;
  }
  const servers = `127.0.0.1:${port}`;
  const errors = [];
  const watch = (nc, name) => {
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'error' || s.type === 'disconnect' || s.type === 'slowConsumer') errors.push(`${name}: ${s.type} ${s.error?.message ?? s.server ?? ''}`.trim());
      }
    })().catch(() => {});
    nc.closed().then((err) => err && errors.push(`${name}: closed: ${err.message}`));
  };
  try {
    const r = cfg.kind === 'throughput' ? await throughput(servers, watch) : await latency(servers, watch);
    r.errors = errors.concat(r.errors ?? []);
    return r;
  } finally {
    if (server) await server.close();
  }
}

function cpuWindow() {
  const c0 = process.cpuUsage();
  const t0 = now();
  return () => {
    const c = process.cpuUsage(c0);
    return (100 * (c.user + c.system) * 1000) / Number(now() - t0);
  };
}

async function throughput(servers, watch) {
  const sub = await connect({ servers, name: 'bench-sub' });
  const pub = await connect({ servers, name: 'bench-pub' });
  watch(sub, 'sub');
  watch(pub, 'pub');
  const payload = new Uint8Array(cfg.size).fill(0x61);
  let received = 0;
  let published = 0;
  let wakePub = null;
  sub.subscribe('bench.x', {
    callback: () => {
      received++;
      if (wakePub !== null && published - received <= MAX_AHEAD / 2) {
        const w = wakePub;
        wakePub = null;
        w();
      }
    },
  });
  await sub.flush();

  let running = true;
  const pump = (async () => {
    const flushes = [];
    while (running) {
      for (let i = 0; i < BATCH; i++) pub.publish('bench.x', payload);
      published += BATCH;
      flushes.push(pub.flush());
      if (flushes.length >= MAX_FLUSHES) await flushes.shift();
      // (the timeout keeps a lost message from stalling the publisher for good: losses are counted)
      if (published - received > MAX_AHEAD) await Promise.race([new Promise((r) => (wakePub = r)), sleep(1000)]);
    }
    await Promise.all(flushes);
  })();

  await sleep(cfg.warmup * 1000);
  const m0 = { pub: published, sub: received, t: now() };
  const cpu = cpuWindow();
  await sleep(cfg.duration * 1000);
  const m1 = { pub: published, sub: received, t: now() };
  const cpuPercent = cpu();
  running = false;
  await pump;
  await pub.flush(); // the broker has everything the publisher sent
  await sub.flush(); // and the subscriber has everything the broker routed to it before that
  const ns = Number(m1.t - m0.t);
  const res = {
    pubRate: ((m1.pub - m0.pub) * 1e9) / ns,
    deliveredRate: ((m1.sub - m0.sub) * 1e9) / ns,
    publishedTotal: published,
    deliveredTotal: received,
    expectedTotal: published,
    lost: published - received,
    processCpuPercent: cpuPercent,
    processRssMiB: process.memoryUsage().rss / 2 ** 20,
  };
  await pub.close();
  await sub.close();
  return res;
}

async function latency(servers, watch) {
  const responder = await connect({ servers, name: 'bench-responder' });
  const requester = await connect({ servers, name: 'bench-requester' });
  watch(responder, 'responder');
  watch(requester, 'requester');
  const payload = new Uint8Array(cfg.size).fill(0x62);
  responder.subscribe('bench.req', { callback: (err, m) => !err && m.respond(payload) });
  await responder.flush();

  let running = true;
  let recording = false;
  let samples = [];
  let total = 0;
  const errors = [];
  const loop = (async () => {
    while (running) {
      const t0 = now();
      try {
        await requester.request('bench.req', payload, { timeout: 5000 });
      } catch (err) {
        errors.push(`request failed: ${err.message}`);
        if (errors.length > 10) return;
        continue;
      }
      const t1 = now();
      total++;
      if (recording) samples.push(Number(t1 - t0) / 1000);
    }
  })();
  await sleep(cfg.warmup * 1000);
  samples = [];
  recording = true;
  const mark = { total, t: now() };
  const cpu = cpuWindow();
  await sleep(cfg.duration * 1000);
  recording = false;
  const ns = Number(now() - mark.t);
  const count = total - mark.total;
  const cpuPercent = cpu();
  running = false;
  await loop;
  const s = Float64Array.from(samples).sort();
  const q = (p) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]);
  await requester.close();
  await responder.close();
  return {
    reqRate: (count * 1e9) / ns,
    latencyUs: { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1] ?? NaN, mean: s.reduce((a, b) => a + b, 0) / s.length },
    processCpuPercent: cpuPercent,
    processRssMiB: process.memoryUsage().rss / 2 ** 20,
    errors,
  };
}

reportToParent(main(), (err) => String(err?.stack ?? err));
