/**
 * Crash safety of FileRaftStorage. A child process (crash-child.mjs, running an esbuild bundle
 * of the storage) appends, replaces suffixes, changes term and vote and compacts as fast as it
 * can, reporting over IPC each state it has synced; it is SIGKILLed at a random moment, several
 * times over the same directory. After each kill the directory must open without an error, and:
 * the hard state never goes backwards (and is the reported one when its term is); the snapshot
 * is the reported one or a later one at a synced index; every index reported synced is there
 * (in the log, or covered by the snapshot) with its exact bytes and term — or, for the one
 * batch announced as pending, the bytes of that batch; the log has no gap, and every entry past
 * the reported end is a well-formed entry of the child's (an append it had not reported yet).
 *
 * Seeded: `npm test` runs a few kills, `npm run test:chaos` more (JS_CHAOS_ROUNDS; JS_CHAOS_SEED
 * replays a run: the seed is in the test name).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileRaftStorage } from '../../src/raftstore/file-storage.js';
import { entryBytes } from './crash-data.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const REPO = join(HERE, '../..');
const ROOT = mkdtempSync(join(tmpdir(), 'raft-file-crash-'));
const BUNDLE = join(ROOT, 'storage.mjs');
const CHILD = join(HERE, 'crash-child.mjs');
const ROUNDS = Number(process.env.JS_CHAOS_ROUNDS ?? 0);
const KILLS = ROUNDS > 0 ? ROUNDS * 4 : 5;
const SEED = Number(process.env.JS_CHAOS_SEED ?? (ROUNDS > 0 ? Math.floor(Math.random() * 2 ** 31) : 4242));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

beforeAll(() => {
  const entry = join(ROOT, 'entry.ts');
  writeFileSync(entry, `export { FileRaftStorage } from '${join(REPO, 'src/raftstore/file-storage.ts')}';\nexport { entryBytes } from '${join(HERE, 'crash-data.ts')}';\n`);
  execFileSync(join(REPO, 'node_modules/.bin/esbuild'), [entry, '--bundle', '--platform=node', '--format=esm', `--outfile=${BUNDLE}`, '--log-level=warning']);
});

type Msg =
  | { t: 'open'; last: number }
  | { t: 'pending'; from: number; terms: number[]; term: number; vote: string | null }
  | { t: 'synced'; term: number; vote: string | null; from: number; terms: number[]; snap: [number, number] | null };

/** What the checker knows to be durable. `terms[i]` is the term of index i (1-based, sparse below the snapshot). */
interface Known {
  term: number;
  vote: string | null;
  snap: [number, number] | null;
  terms: number[];
}

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the child until the kill: once it has reported `syncs` synced states (counted, not timed,
 * so a busy machine still gets through the paths the test is about), `killAfterMs` later — in the
 * middle of whatever it writes then. The messages it sent.
 */
async function runChild(dir: string, seed: number, syncs: number, killAfterMs: number): Promise<{ msgs: Msg[]; signal: NodeJS.Signals | null; stderr: string }> {
  const child = fork(CHILD, [BUNDLE, dir, String(seed)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  const msgs: Msg[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('message', (m) => msgs.push(m as Msg));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const deadline = Date.now() + 20_000;
  const synced = (): number => msgs.reduce((n, m) => n + (m.t === 'synced' ? 1 : 0), 0);
  while (synced() < syncs && Date.now() < deadline && child.exitCode === null) await sleep(1);
  await sleep(killAfterMs);
  child.kill('SIGKILL');
  const signal = await exited;
  return { msgs, signal, stderr };
}

describe('FileRaftStorage under SIGKILL', () => {
  it(`keeps every synced write (seed ${SEED}, ${KILLS} kills)`, async () => {
    const rnd = xorshift(SEED);
    const dir = join(ROOT, 'store');
    let known: Known = { term: 0, vote: null, snap: null, terms: [] };
    let totalSynced = 0;
    let replacements = 0;
    let compactions = 0;
    for (let round = 0; round < KILLS; round++) {
      const { msgs, signal, stderr } = await runChild(dir, Math.floor(rnd() * 2 ** 31) + 1, 8 + Math.floor(rnd() * 40), Math.floor(rnd() * 30));
      expect(signal, stderr).toBe('SIGKILL');
      let pending: Extract<Msg, { t: 'pending' }> | null = null;
      for (const m of msgs) {
        if (m.t === 'pending') {
          pending = m;
          replacements++;
        }
        if (m.t !== 'synced') continue;
        pending = null;
        totalSynced++;
        known.term = m.term;
        known.vote = m.vote;
        if (m.snap !== null && m.snap[0] !== known.snap?.[0]) compactions++;
        known.snap = m.snap;
        if (m.terms.length > 0) {
          known.terms.length = m.from - 1;
          known.terms.push(...m.terms);
        }
      }
      const s = new FileRaftStorage(dir, { segmentBytes: 64 * 1024 });
      const st = s.load();
      s.close();
      // The hard state never goes backwards.
      expect(st.term).toBeGreaterThanOrEqual(known.term);
      if (st.term === known.term) expect(st.vote).toBe(known.vote);
      if (pending !== null && st.term === pending.term) expect(st.vote).toBe(pending.vote);
      // The snapshot: the reported one, or a later compaction at a synced index.
      const base = st.snapshot?.lastIndex ?? 0;
      if (known.snap !== null) expect(base).toBeGreaterThanOrEqual(known.snap[0]);
      expect(base).toBeLessThanOrEqual(known.terms.length);
      if (st.snapshot !== null) {
        expect(Buffer.from(st.snapshot.data)).toEqual(Buffer.from(entryBytes(st.snapshot.lastIndex, st.snapshot.lastTerm, 40)));
        expect(st.snapshot.peers).toEqual(['a', 'b', 'c']);
      }
      // Every synced index is there with its term (bytes below), no gap: the reported log, or
      // the pending replacement's log if that batch reached the disk (all of it, never a mix).
      const termAt = (i: number) => (i === base ? st.snapshot?.lastTerm : st.entries[i - base - 1]?.term);
      let expected = known.terms;
      if (pending !== null && termAt(pending.from) === pending.terms[0]) expected = [...known.terms.slice(0, pending.from - 1), ...pending.terms];
      for (let i = Math.max(base, 1); i <= expected.length; i++) {
        if (termAt(i) !== expected[i - 1]) expect.fail(`index ${i}: term ${termAt(i)}, synced ${expected[i - 1]} (round ${round}, base ${base}, pending ${JSON.stringify(pending)})`);
      }
      st.entries.forEach((e, k) => {
        const i = base + 1 + k;
        expect(e.type).toBe(0);
        expect(Buffer.from(e.data).equals(Buffer.from(entryBytes(i, e.term))), `bytes of index ${i}`).toBe(true);
      });
      // What is durable is the next round's baseline.
      known = { term: st.term, vote: st.vote, snap: st.snapshot ? [st.snapshot.lastIndex, st.snapshot.lastTerm] : null, terms: [] };
      for (let i = 1; i <= base; i++) known.terms.push(i === base ? (st.snapshot?.lastTerm ?? 0) : -1);
      for (const e of st.entries) known.terms.push(e.term);
    }
    console.log(`raft file crash: seed ${SEED}, ${KILLS} kills, ${totalSynced} syncs reported, ${replacements} replacements, ${compactions} compactions`);
    // The run went through the interesting paths, not only appends.
    expect(totalSynced).toBeGreaterThan(KILLS * 5);
    expect(replacements).toBeGreaterThan(0);
    expect(compactions).toBeGreaterThan(0);
  }, 120_000);
});
