// The child of file-crash.test.ts: opens a FileStore (from the esbuild bundle the test made)
// and stores messages as fast as it can, printing "s <seq>" after each store() returns and
// "t <seq>" before and "r <seq>" after each remove(), until it is killed. Its stdout is a file.
//
//   node crash-child.mjs <bundle.mjs> <dir> store   — the crash loop
//   node crash-child.mjs <bundle.mjs> <dir> idle    — a memory store with a pending 1 h expiry, then nothing:
//                                                     the process must exit on its own
import { writeSync } from 'node:fs';

const [bundle, dir, mode] = process.argv.slice(2);
const { FileStore, MemoryStore } = await import(bundle);
const limits = { maxMsgs: -1, maxBytes: -1, maxAgeMs: 0, maxMsgsPerSubject: -1, maxMsgSize: -1, discard: 'old', discardNewPerSubject: false };

if (mode === 'idle') {
  const mem = new MemoryStore({ ...limits, maxAgeMs: 3_600_000 });
  mem.store('a', null, Buffer.from('x'));
  const file = await FileStore.open(dir, { ...limits, maxAgeMs: 3_600_000 });
  file.store('a', null, Buffer.from('x'));
  writeSync(1, 'stored\n');
} else {
  const HDR = Buffer.from('NATS/1.0\r\nk: v\r\n\r\n');
  const payload = (seq) => Buffer.from(`payload-${seq}-${'x'.repeat(seq % 97)}`);
  const store = await FileStore.open(dir, limits, { blockSize: 16 * 1024 });
  writeSync(1, `open ${store.state().lastSeq}\n`);
  for (;;) {
    const seq = store.state().lastSeq + 1;
    const r = store.store(`crash.${seq % 7}`, seq % 3 === 0 ? HDR : null, payload(seq));
    if (r.seq !== seq) throw new Error(`stored at ${r.seq}, expected ${seq}`);
    writeSync(1, `s ${seq}\n`);
    // Some removals too (acknowledged ones must stay removed), and now and then a skip.
    // "t" first: a kill between remove() and its "r" line leaves the outcome open.
    if (seq % 5 === 0) {
      writeSync(1, `t ${seq - 3}\n`);
      if (store.remove(seq - 3)) writeSync(1, `r ${seq - 3}\n`);
    }
    if (seq % 101 === 0) writeSync(1, `k ${store.skip()}\n`);
  }
}
