// Appends + sync per second of FileRaftStorage (src/raftstore/file-storage.ts): 128-byte
// entries, synced in batches of 1 and of 64 (one write and one fsync per batch), in a temp dir.
// Not a CI step: `node bench/raftstore.mjs [--seconds 3] [--dir /some/disk]`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : process.argv[i + 1];
};
const SECONDS = Number(arg('--seconds', '3'));
const ROOT = mkdtempSync(join(arg('--dir', tmpdir()), 'raftstore-bench-'));
try {
  const entry = join(ROOT, 'entry.ts');
  const bundle = join(ROOT, 'storage.mjs');
  writeFileSync(entry, `export { FileRaftStorage } from '${join(REPO, 'src/raftstore/file-storage.ts')}';\n`);
  execFileSync(join(REPO, 'node_modules/.bin/esbuild'), [entry, '--bundle', '--platform=node', '--format=esm', `--outfile=${bundle}`, '--log-level=warning']);
  const { FileRaftStorage } = await import(bundle);
  const data = new Uint8Array(128).fill(7);
  {
    // The disk's floor: a bare 156-byte write + fsync (the size of one record) in a loop.
    const { openSync, writeSync, fsyncSync, closeSync } = await import('node:fs');
    const fd = openSync(join(ROOT, 'raw'), 'a');
    const buf = Buffer.alloc(156, 7);
    let n = 0;
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(SECONDS * 1e9);
    while (process.hrtime.bigint() < end) {
      writeSync(fd, buf);
      fsyncSync(fd);
      n++;
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    closeSync(fd);
    console.log(`raw write+fsync: ${Math.round(n / secs).toLocaleString('en-US')} /s, ${((secs / n) * 1e6).toFixed(0)} µs each`);
  }
  for (const batch of [1, 64]) {
    const s = new FileRaftStorage(join(ROOT, `b${batch}`));
    s.saveTermVote(1, 'a');
    s.sync();
    let index = 1;
    let syncs = 0;
    const entries = Array.from({ length: batch }, () => ({ term: 1, type: 0, data }));
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(SECONDS * 1e9);
    while (process.hrtime.bigint() < end) {
      s.writeEntries(index, entries);
      s.sync();
      index += batch;
      syncs++;
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    s.close();
    const n = index - 1;
    console.log(`batch ${String(batch).padStart(2)}: ${Math.round(n / secs).toLocaleString('en-US')} entries/s, ${Math.round(syncs / secs).toLocaleString('en-US')} syncs/s, ${((secs / syncs) * 1e6).toFixed(0)} µs per sync (${n} entries in ${secs.toFixed(1)} s)`);
  }
} finally {
  rmSync(ROOT, { recursive: true, force: true });
}
