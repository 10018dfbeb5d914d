#!/usr/bin/env node
// Runs every example under examples/ with its own vitest config, as a user project would.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
let failed = 0;
let passed = 0;
for (const name of readdirSync(here).sort()) {
  const dir = join(here, name);
  if (!statSync(dir).isDirectory()) continue;
  const r = spawnSync(process.execPath, [vitest, 'run', '--root', dir], { stdio: 'inherit' });
  if (r.status === 0) passed++;
  else {
    failed++;
    console.error(`examples: ${name} failed`);
  }
}
console.log(`examples: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
