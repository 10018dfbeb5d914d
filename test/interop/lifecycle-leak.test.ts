/**
 * A leak soak: 1,000 createServer()/close() cycles on real sockets (some with a client) must
 * leave no handles behind and no heap growth beyond noise. (Was test/unit/cycles.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServer } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function heapAfterGc(): Promise<number> {
  // Let the last sockets finish closing (libuv closes handles on a later loop turn).
  await new Promise((r) => setTimeout(r, 50));
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

function handles(): number {
  return process.getActiveResourcesInfo().filter((r) => /TCP|Timeout/.test(r)).length;
}

async function cycle(withClient: boolean): Promise<void> {
  const s = await createServer();
  if (withClient) {
    const c = await WireClient.connected(s.port);
    c.send('SUB a 1\r\nPUB a 1\r\nx\r\n');
    await c.expect('MSG a 1 1\r\nx\r\n');
    await s.close();
    await c.expectClose();
  } else {
    await s.close();
  }
}

describe('1,000 createServer()/close() cycles', () => {
  it('leave no handles and no heap growth beyond noise', async () => {
    // Warm up: module-level caches, JIT, first allocations.
    for (let i = 0; i < 50; i++) await cycle(i % 5 === 0);
    const heapBefore = await heapAfterGc();
    const handlesBefore = handles();
    for (let i = 0; i < Number(process.env.CYCLES ?? 1000); i++) await cycle(i % 10 === 0);
    const heapAfter = await heapAfterGc();
    expect(handles()).toBeLessThanOrEqual(handlesBefore);
    const growth = heapAfter - heapBefore;
    console.log(`heap before ${(heapBefore / 1048576).toFixed(1)} MiB, after ${(heapAfter / 1048576).toFixed(1)} MiB (growth ${(growth / 1024).toFixed(0)} KiB)`);
    // GC noise here is a few hundred KiB; a leak of 2 KiB per cycle would be 2,000 KiB.
    expect(growth).toBeLessThan(2 * 1024 * 1024);
  });
});
