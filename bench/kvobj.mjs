// Key-Value and object store benchmark client (forked by run.mjs; see bench/README.md, "KV and
// object store"). Runs in its own process, never in the broker's, and uses the stores the way
// applications do: the official clients @nats-io/kv and @nats-io/obj over
// @nats-io/transport-node, the same code against nats-embedded and nats-server.
//
// Config (JSON in argv[2]):
//   { port, mode, storage: 'memory'|'file', size, keys, window, objectBytes, warmup, duration }
//
// KV modes: a bucket BENCH (history 1, the client's defaults otherwise: allow_direct, discard new)
// with `storage`; `keys` keys k0..k<keys-1>, values of `size` bytes.
//   put-lat   one put in flight: `await kv.put(k, v)`, cycling over the keys (every put replaces
//             the key's previous revision: max_msgs_per_subject 1). Latency per put.
//   put-tput  `window` puts in flight (a new one as each resolves), cycling over the keys. puts/s.
//   get-lat   the keys are put once (not measured); then one `await kv.get(k)` in flight (a direct
//             get of the key's last message: $JS.API.DIRECT.GET with last_by_subj), cycling over
//             the keys; each entry must be the key's, with `size` bytes. Latency per get.
//   get-tput  as get-lat, `window` gets in flight. gets/s.
// Object modes: a bucket BENCHOBJ with `storage`; one object of `objectBytes` bytes in the client's
// default 128 KiB chunks.
//   obj-put   `await os.putBlob({ name: 'blob' }, data)` repeated (each put replaces the object:
//             the client purges the previous one's chunks). MB/s per put.
//   obj-get   the object is put once (not measured); then `await os.getBlob('blob')` repeated (an
//             ordered push consumer with flow control on the chunk subject; the client checks the
//             SHA-256 digest); every result must have `objectBytes` bytes. MB/s per get.
//   Object rounds run for at least `duration` s and at least 3 operations after the warm-up.
//
// IPC to the parent: {type:'begin'} / {type:'end'} around the measured window (the parent reads
// the broker's CPU time at each), then one {type:'result', ...} or {type:'error', message}.
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { Objm, StorageType } from '@nats-io/obj';
import { reportToParent } from './report.mjs';

const cfg = JSON.parse(process.argv[2] ?? '{}');
const now = () => process.hrtime.bigint();
const mark = (type) => process.send?.({ type });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function quantiles(arr) {
  const s = Float64Array.from(arr).sort();
  const at = (p) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]);
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1] ?? NaN, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

async function main() {
  const nc = await connect({ servers: `127.0.0.1:${cfg.port}`, name: 'bench-kvobj' });
  const errors = [];
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' || s.type === 'disconnect' || s.type === 'slowConsumer') errors.push(`${s.type} ${s.error?.message ?? s.server ?? ''}`.trim());
    }
  })().catch(() => {});
  try {
    const storage = cfg.storage === 'file' ? StorageType.File : StorageType.Memory;
    const r = cfg.mode.startsWith('obj-') ? await objBench(nc, storage) : await kvBench(nc, storage);
    r.errors = errors.concat(r.errors ?? []);
    return r;
  } finally {
    await nc.close().catch(() => {});
  }
}

/**
 * Runs `op(i)` with `window` in flight for warm-up + window; returns the measured count, the
 * wall time and, for window 1, the latency of every measured op (µs).
 */
async function drive(op, window, errors) {
  let i = 0;
  let recording = false;
  let stop = false;
  let measured = 0;
  const samples = [];
  const worker = async () => {
    while (!stop && errors.length < 10) {
      const n = i++;
      const t0 = now();
      try {
        await op(n);
      } catch (err) {
        errors.push(`op ${n}: ${err?.message ?? err}`);
        continue;
      }
      if (recording) {
        measured++;
        if (window === 1) samples.push(Number(now() - t0) / 1000);
      }
    }
  };
  const workers = Array.from({ length: window }, worker);
  await sleep(cfg.warmup * 1000);
  const cpu0 = process.cpuUsage();
  mark('begin');
  const t0 = now();
  recording = true;
  await sleep(cfg.duration * 1000);
  recording = false;
  const sec = Number(now() - t0) / 1e9;
  mark('end');
  const cpu = process.cpuUsage(cpu0);
  stop = true;
  await Promise.all(workers);
  return { ops: measured, sec, rate: measured / sec, latencyUs: window === 1 ? quantiles(samples) : undefined, clientCpuUsPerOp: measured > 0 ? (cpu.user + cpu.system) / measured : null };
}

async function kvBench(nc, storage) {
  const kvm = new Kvm(nc);
  const kv = await kvm.create('BENCH', { history: 1, storage });
  const keys = Array.from({ length: cfg.keys }, (_, k) => `k${k}`);
  const value = new Uint8Array(cfg.size).fill(0x61);
  const errors = [];
  const lat = cfg.mode.endsWith('-lat');
  let r;
  if (cfg.mode.startsWith('put-')) {
    let lastSeq = 0;
    let outOfOrder = 0;
    r = await drive(async (n) => {
      const seq = await kv.put(keys[n % keys.length], value);
      if (lat && seq !== lastSeq + 1) outOfOrder++;
      lastSeq = seq;
    }, lat ? 1 : cfg.window, errors);
    if (outOfOrder) errors.push(`${outOfOrder} puts got a revision that was not the previous one + 1`);
    // Every key holds exactly one revision (history 1) and the bucket one message per key.
    const st = await kv.status();
    if (st.values !== keys.length) errors.push(`bucket holds ${st.values} values after the run, not ${keys.length} (history 1)`);
    r.puts = lastSeq;
  } else {
    for (const k of keys) await kv.put(k, value);
    let wrong = 0;
    r = await drive(async (n) => {
      const k = keys[n % keys.length];
      const e = await kv.get(k);
      if (e === null || e.key !== k || e.value.length !== cfg.size || e.operation !== 'PUT') wrong++;
    }, lat ? 1 : cfg.window, errors);
    if (wrong) errors.push(`${wrong} gets returned no entry or a wrong one`);
  }
  return { ...r, errors };
}

async function objBench(nc, storage) {
  const objm = new Objm(nc);
  const os = await objm.create('BENCHOBJ', { storage });
  const bytes = cfg.objectBytes;
  const data = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
  const errors = [];
  const mbps = [];
  let measuredBytes = 0;
  let put = 0;
  const once = async () => {
    if (cfg.mode === 'obj-put') {
      const info = await os.putBlob({ name: 'blob' }, data);
      put++;
      if (info.size !== bytes) errors.push(`put: info.size ${info.size}, not ${bytes}`);
    } else {
      const got = await os.getBlob('blob');
      if (got === null || got.length !== bytes) errors.push(`get: ${got === null ? 'null' : `${got.length} bytes`}, not ${bytes}`);
    }
  };
  if (cfg.mode === 'obj-get') await os.putBlob({ name: 'blob' }, data);
  // Warm-up: at least one operation, and the warm-up time.
  const tw = Date.now();
  do await once(); while (Date.now() - tw < cfg.warmup * 1000 && errors.length === 0);
  const cpu0 = process.cpuUsage();
  mark('begin');
  const t0 = now();
  let ops = 0;
  while (errors.length === 0 && (ops < 3 || Number(now() - t0) / 1e9 < cfg.duration)) {
    const t = now();
    await once();
    mbps.push(bytes / (Number(now() - t) / 1e3)); // bytes per µs = MB/s
    measuredBytes += bytes;
    ops++;
  }
  const sec = Number(now() - t0) / 1e9;
  mark('end');
  const cpu = process.cpuUsage(cpu0);
  const st = await os.status();
  // One object of `bytes` (plus its metadata message): the replaced objects' chunks are purged.
  if (st.size < bytes || st.size > bytes + 65536) errors.push(`bucket size ${st.size} after the run, expected one object of ${bytes} B, its metadata and per-message overhead`);
  const q = quantiles(mbps);
  return {
    ops, sec, rate: q.p50, mbps: q, aggregateMBps: measuredBytes / sec / 1e6, objectBytes: bytes, puts: put,
    clientCpuUsPerOp: ops > 0 ? (cpu.user + cpu.system) / ops : null, bucketBytes: st.size, errors,
  };
}

reportToParent(main());
