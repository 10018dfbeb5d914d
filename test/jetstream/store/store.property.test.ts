/**
 * Model-based tests of the two stores: random operation sequences applied to a MemoryStore, a
 * FileStore and the plain model (model.ts); after every step the results, the state, the
 * deleted list, the per-subject state and the removal reports must agree. The FileStore is
 * also stopped and reopened at random points and must come back in the same state. Each store
 * is compared with a model using its own message size (memory and file account differently);
 * the two stores are compared with each other too when no byte limit can make them diverge.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Harness, limitsArb, opArb } from './harness.js';

const ROOT = mkdtempSync(join(tmpdir(), 'js-store-prop-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

const SUBJECTS = ['a', 'b', 'c.d', 'c.e', 'x.y.z', 'x.q.z'];
const FILTERS = ['', '>', 'a', 'b', 'c.*', 'c.>', '*.y.*', 'x.>', 'none', 'c'];
const HDR = Buffer.from('NATS/1.0\r\nk: v\r\n\r\n');

/**
 * `npm test` runs 150 sequences (fresh ones each run, about 8 s); `npm run test:chaos` runs
 * STORE_PROP_RUNS=1000 (about 2 min) for a deeper search.
 */
const RUNS = Number(process.env.STORE_PROP_RUNS ?? 150);

describe('stores against the model', () => {
  it('agree after every step of random operation sequences (file store reopened at random points)', async () => {
    await fc.assert(
      fc.asyncProperty(limitsArb, fc.array(opArb, { minLength: 1, maxLength: 80, size: 'max' }), async (limits, ops) => {
        const h = new Harness(limits, ROOT);
        await h.openFile();
        try {
          for (const op of ops) await h.step(op);
          // And once more from disk at the end.
          await h.step({ k: 'reopen' });
        } finally {
          await h.mem.stop();
          await h.file.delete();
        }
      }),
      { numRuns: RUNS },
    );
  }, Math.max(120_000, RUNS * 300));

  it('agree with a write-behind file store, flushed every third step, reopened from what a killed process leaves after a flush', async () => {
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(limitsArb, fc.array(opArb, { minLength: 1, maxLength: 80, size: 'max' }), async (limits, ops) => {
        const h = new Harness(limits, ROOT, true);
        await h.openFile();
        try {
          for (const op of ops) await h.step(op);
          await h.step({ k: 'reopen' });
          requests += h.flushRequests;
        } finally {
          await h.mem.stop();
          await h.file.delete();
        }
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    // The callback was used (the store asked for its records to be written).
    expect(requests).toBeGreaterThan(0);
  }, Math.max(120_000, RUNS * 300));
});
