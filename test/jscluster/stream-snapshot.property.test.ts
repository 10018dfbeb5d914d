/**
 * A clustered stream's snapshot (src/jetstream/cluster/stream-snapshot.ts) against a model: a
 * store that applied a prefix of a random operation sequence (or none: a restart), brought to
 * the snapshot of a store that applied all of it, must then be that store — the same messages at
 * the same sequences and times, the same first and last sequence and gaps — and must stay so for
 * whatever comes next (the log after the snapshot). For the memory and the file store, under
 * random limits that must never drop what the snapshot kept. SNAPSHOT_PROP_RUNS=n searches deeper
 * (3,000 runs each passed when this was written).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../src/jetstream/store/memory.js';
import { FileStore } from '../../src/jetstream/store/file.js';
import type { StoreLimits, StreamStore } from '../../src/jetstream/store/store.js';
import { decodeStreamSnapshot, encodeStreamSnapshot, NO_LIMITS, restoreStore, type SnapshotHeader } from '../../src/jetstream/cluster/stream-snapshot.js';

const ROOT = mkdtempSync(join(tmpdir(), 'js-snap-prop-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));
let dirs = 0;

const SUBJECTS = ['a', 'b', 'c.d', 'c.e'];
const HDR = Buffer.from('NATS/1.0\r\nNats-Msg-Id: x\r\n\r\n');

type Op =
  | { k: 'store'; subject: string; hdr: boolean; data: Uint8Array }
  | { k: 'remove'; at: number }
  | { k: 'purge'; subject: string; at: number; keep: number }
  | { k: 'skip'; n: number }
  | { k: 'expire' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('store' as const), subject: fc.constantFrom(...SUBJECTS), hdr: fc.boolean(), data: fc.uint8Array({ maxLength: 30 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('remove' as const), at: fc.integer({ min: 0, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('purge' as const), subject: fc.constantFrom('', '', 'a', 'c.d'), at: fc.integer({ min: 0, max: 1000 }), keep: fc.constantFrom(0, 0, 1, 3) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('skip' as const), n: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('expire' as const) }) },
);

const limitsArb: fc.Arbitrary<StoreLimits> = fc.record({
  maxMsgs: fc.constantFrom(-1, -1, 5, 20),
  maxBytes: fc.constantFrom(-1, -1, 600),
  // ms, with 1.5 ms between operations: messages expire (only as of the operations' times, as a
  // clustered replica's store does: see StreamReplica).
  maxAgeMs: fc.constantFrom(0, 0, 10, 40),
  maxMsgsPerSubject: fc.constantFrom(-1, -1, 1, 3),
  maxMsgSize: fc.constant(-1),
  discard: fc.constantFrom<'old' | 'new'>('old', 'old', 'new'),
  discardNewPerSubject: fc.constant(false),
});

/** Applies `op` with time `ts`; positions `at` map onto the store's range. */
function apply(s: StreamStore, op: Op, ts: number): void {
  const st = s.state();
  const seqAt = (at: number): number => Math.floor((at / 1000) * (st.lastSeq + 2));
  switch (op.k) {
    case 'store':
      s.expireAsOf(ts);
      s.store(op.subject, op.hdr ? HDR : null, Buffer.from(op.data), ts);
      break;
    case 'expire':
      s.expireAsOf(ts);
      break;
    case 'remove':
      s.remove(seqAt(op.at));
      break;
    case 'purge':
      s.purge(op.subject, op.at < 300 ? 0 : seqAt(op.at), op.keep);
      break;
    case 'skip':
      s.skipThrough(st.lastSeq + op.n, ts);
      break;
  }
}

function contents(s: StreamStore): unknown {
  const st = s.state();
  const msgs: unknown[] = [];
  for (let m = s.loadNext('', st.firstSeq); m !== null; m = s.loadNext('', m.seq + 1)) {
    msgs.push([m.seq, m.ts, m.subject, m.hdr?.toString('latin1') ?? null, m.data.toString('hex')]);
  }
  return { msgs: st.msgs, bytes: st.bytes, first: st.firstSeq, firstTs: st.firstTs, last: st.lastSeq, lastTs: st.lastTs, subjects: st.numSubjects, deleted: st.numDeleted, list: s.deleted(), messages: msgs };
}

async function open(kind: 'memory' | 'file', limits: StoreLimits): Promise<StreamStore> {
  const s = kind === 'memory' ? new MemoryStore(limits) : await FileStore.open(join(ROOT, `s${++dirs}`), limits, { blockSize: 2048 });
  s.setExpiryTimer(false);
  return s;
}

describe('clustered stream snapshots', () => {
  for (const kind of ['memory', 'file'] as const) {
    it(`a ${kind} store that applied a prefix of the log becomes the snapshot's store, and stays equal after it`, async () => {
      await fc.assert(
        fc.asyncProperty(
          limitsArb,
          fc.array(opArb, { minLength: 1, maxLength: 60 }),
          fc.nat(),
          fc.array(opArb, { maxLength: 15 }),
          async (limits, ops, cutSeed, after) => {
            const cut = cutSeed % (ops.length + 1);
            const full = await open(kind, limits);
            const behind = await open(kind, limits);
            try {
              let ts = 1_700_000_000_000;
              ops.forEach((op, i) => {
                ts += 1.5;
                apply(full, op, ts);
                if (i < cut) apply(behind, op, ts);
              });
              const st = full.state();
              const header: SnapshotHeader = { config: '{}', first: st.firstSeq, last: st.lastSeq, lastTs: st.lastTs, lmsgId: '', dedupe: [], consumers: [] };
              const { header: h, messages } = decodeStreamSnapshot(encodeStreamSnapshot(header, full));
              expect(h).toEqual(header);
              behind.updateLimits(NO_LIMITS);
              restoreStore(behind, h, messages);
              behind.updateLimits(limits);
              expect(contents(behind)).toEqual(contents(full));
              for (const op of after) {
                ts += 1.5;
                apply(full, op, ts);
                apply(behind, op, ts);
              }
              expect(contents(behind)).toEqual(contents(full));
            } finally {
              await full.delete();
              await behind.delete();
            }
          },
        ),
        { numRuns: Number(process.env.SNAPSHOT_PROP_RUNS ?? 300) },
      );
    }, 120_000);
  }
});
