#!/usr/bin/env node
// Runs every example under examples/ (or under the directory given as argument) with its own
// vitest config, as a user project would. An example may hold an `example.json`, `{ "env": { "NAME": "value" } }`: environment
// variables for its run (e.g. NATS_EMBEDDED_BACKEND=nats-server). Exits non-zero when an
// example fails, or when none ran.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = process.argv[2] ?? fileURLToPath(new URL('.', import.meta.url));
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

/** The environment an example asks for; throws on anything but `{ env: { [name]: string } }`. */
function exampleEnv(dir) {
  const file = join(dir, 'example.json');
  if (!existsSync(file)) return {};
  const json = JSON.parse(readFileSync(file, 'utf8'));
  const bad = (why) => new Error(`${file}: ${why}`);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad('must be an object');
  for (const key of Object.keys(json)) if (key !== 'env') throw bad(`unknown key "${key}"`);
  const env = json.env ?? {};
  if (env === null || typeof env !== 'object' || Array.isArray(env)) throw bad('"env" must be an object');
  for (const [name, value] of Object.entries(env)) if (typeof value !== 'string') throw bad(`env.${name} must be a string`);
  return env;
}

let failed = 0;
let passed = 0;
for (const name of readdirSync(here).sort()) {
  const dir = join(here, name);
  if (!statSync(dir).isDirectory()) continue;
  let env;
  try {
    env = exampleEnv(dir);
  } catch (err) {
    failed++;
    console.error(`examples: ${name}: ${err.message}`);
    continue;
  }
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
  console.log(`examples: ${name}${vars === '' ? '' : ` (${vars})`}`);
  const r = spawnSync(process.execPath, [vitest, 'run', '--root', dir], { stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status === 0) passed++;
  else {
    failed++;
    console.error(`examples: ${name} failed`);
  }
}
console.log(`examples: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
