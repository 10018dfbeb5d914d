/**
 * Crash safety of the file store. A child process (crash-child.mjs, running an esbuild bundle
 * of the store) stores messages flat out and prints each sequence after `store()` returns; it
 * is SIGKILLed at random moments, several times over the same directory. Reopening must find
 * every message the child reported stored (with its exact payload), none it reported removed,
 * and nothing else but those it may have stored without reporting yet. Then torn writes:
 * the last segment cut at random byte offsets, or its last record damaged, must reopen without
 * an error to a prefix of the messages, and take new ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileStore } from '../../../src/jetstream/store/file.js';
import { NO_LIMITS as LIMITS } from '../../helpers/store-limits.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = join(HERE, '../../..');
const ROOT = mkdtempSync(join(tmpdir(), 'js-store-crash-'));
const BUNDLE = join(ROOT, 'store.mjs');
const CHILD = join(HERE, 'crash-child.mjs');
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

beforeAll(() => {
  // The child runs plain Node: bundle the two stores with the esbuild binary of node_modules.
  const entry = join(ROOT, 'entry.ts');
  const src = join(REPO, 'src/jetstream/store');
  writeFileSync(entry, `export { FileStore } from '${src}/file.ts';\nexport { MemoryStore } from '${src}/memory.ts';\n`);
  execFileSync(join(REPO, 'node_modules/.bin/esbuild'), [entry, '--bundle', '--platform=node', '--format=esm', `--outfile=${BUNDLE}`, '--log-level=warning']);
});

const payload = (seq: number) => `payload-${seq}-${'x'.repeat(seq % 97)}`;
const HDR = 'NATS/1.0\r\nk: v\r\n\r\n';

/** Runs the child in `mode` with stdout to `out`; resolves with its exit signal/code. */
function runChild(dir: string, mode: string, out: string, killAfter: (lines: () => number) => Promise<void>) {
  const fd = openSync(out, 'w');
  const child = spawn(process.execPath, [CHILD, BUNDLE, dir, mode], { stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines = () => readFileSync(out, 'utf8').split('\n').length - 1;
  return killAfter(lines).then(async () => {
    child.kill('SIGKILL');
    const r = await exited;
    return { ...r, stderr };
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('file store crashes', () => {
  it('loses no acknowledged store or removal when the process is killed at random moments', async () => {
    const dir = join(ROOT, 'killed');
    const stored = new Set<number>();
    const removed = new Set<number>();
    const tried = new Set<number>(); // a remove() begun; without its "r" it may or may not have happened
    let lastAcked = 0;
    for (let round = 0; round < 6; round++) {
      const out = join(ROOT, `out-${round}.txt`);
      const r = await runChild(dir, 'store', out, async (lines) => {
        // Wait for the child to be writing, then kill it at a random moment.
        const deadline = Date.now() + 20_000;
        while (lines() < 2 && Date.now() < deadline) await sleep(5);
        await sleep(Math.floor(Math.random() * 150));
      });
      expect(r.signal, r.stderr).toBe('SIGKILL');
      for (const line of readFileSync(out, 'utf8').split('\n')) {
        const [op, arg] = line.split(' ');
        const seq = Number(arg);
        if (op === 's') stored.add(seq);
        if (op === 'r') removed.add(seq);
        if (op === 't') tried.add(seq);
        if (op === 's' || op === 'k') lastAcked = Math.max(lastAcked, seq);
      }
      const s = await FileStore.open(dir, LIMITS, { blockSize: 16 * 1024 });
      try {
        expect(s.recovered.lostBytes).toBe(0); // a kill is not a torn write: write() completes
        const st = s.state();
        expect(st.lastSeq).toBeGreaterThanOrEqual(lastAcked);
        for (const seq of stored) {
          const m = s.load(seq);
          if (removed.has(seq)) expect(m, `removed ${seq}`).toBeNull();
          else if (m === null && tried.has(seq)) removed.add(seq); // removed just before the kill
          else {
            expect(m?.data.toString(), `stored ${seq}`).toBe(payload(seq));
            expect(m?.subject).toBe(`crash.${seq % 7}`);
            expect(m?.hdr?.toString() ?? null).toBe(seq % 3 === 0 ? HDR : null);
          }
        }
        // Whatever else is there (stored but not yet reported) is intact too.
        let count = 0;
        for (let m = s.loadNext('>', 0); m !== null; m = s.loadNext('>', m.seq + 1)) {
          expect(m.data.toString()).toBe(payload(m.seq));
          count++;
        }
        expect(count).toBe(st.msgs);
        expect(count).toBeGreaterThanOrEqual(stored.size - removed.size - tried.size);
      } finally {
        await s.stop();
      }
    }
    expect(stored.size).toBeGreaterThan(100);
  }, 120_000);

  it('a pending expiry timer does not keep a process alive', async () => {
    const dir = join(ROOT, 'idle');
    const out = join(ROOT, 'idle.txt');
    const t0 = Date.now();
    const fd = openSync(out, 'w');
    const child = spawn(process.execPath, [CHILD, BUNDLE, dir, 'idle'], { stdio: ['ignore', fd, 'inherit'] });
    closeSync(fd);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('stored\n');
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 30_000);
});

describe('file store torn writes', () => {
  const BASE = join(ROOT, 'base');
  let total = 0;

  beforeAll(async () => {
    const s = await FileStore.open(BASE, LIMITS, { blockSize: 4096 });
    for (let seq = 1; seq <= 300; seq++) s.store(`t.${seq % 5}`, seq % 4 === 0 ? Buffer.from(HDR) : null, Buffer.from(payload(seq)));
    total = s.state().msgs;
    await s.stop();
  });

  /** Reopens a copy of BASE changed by `damage` (given the last segment's path and size); checks a prefix survived. */
  async function reopenDamaged(name: string, damage: (path: string, size: number) => void) {
    const dir = join(ROOT, name);
    cpSync(BASE, dir, { recursive: true });
    const segs = readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
    const last = join(dir, segs[segs.length - 1]);
    damage(last, statSync(last).size);
    const s = await FileStore.open(dir, LIMITS, { blockSize: 4096 });
    const seqs: number[] = [];
    for (let m = s.loadNext('>', 0); m !== null; m = s.loadNext('>', m.seq + 1)) {
      expect(m.data.toString()).toBe(payload(m.seq));
      seqs.push(m.seq);
    }
    // A prefix: 1..k without gaps.
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(s.state()).toMatchObject({ msgs: seqs.length, numDeleted: 0 });
    // It takes new messages after the cut, and keeps them.
    const next = s.store('t.new', null, Buffer.from('after'));
    expect(next).toHaveProperty('seq', s.state().lastSeq);
    await s.stop();
    const again = await FileStore.open(dir, LIMITS, { blockSize: 4096 });
    expect(again.loadLast('t.new')?.data.toString()).toBe('after');
    expect(again.state().msgs).toBe(seqs.length + 1);
    await again.delete();
    return seqs.length;
  }

  it('reopens a store cut at random byte offsets of its last segment to a prefix of its messages', async () => {
    const kept: number[] = [];
    for (let k = 0; k < 40; k++) {
      kept.push(
        await reopenDamaged(`cut-${k}`, (path, size) => {
          truncateSync(path, Math.floor(Math.random() * size));
        }),
      );
    }
    expect(Math.min(...kept)).toBeGreaterThan(0);
    expect(Math.max(...kept)).toBeLessThan(total);
  }, 60_000);

  it('drops a damaged last record', async () => {
    const kept = await reopenDamaged('flip', (path, size) => {
      const bytes = readFileSync(path);
      bytes[size - 7] ^= 0x5a;
      writeFileSync(path, bytes);
    });
    expect(kept).toBe(total - 1);
    const whole = await reopenDamaged('whole', () => {});
    expect(whole).toBe(total);
  });
});
