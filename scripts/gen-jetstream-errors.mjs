#!/usr/bin/env node
/**
 * Regenerates the error table of src/jetstream/errors.ts from nats-server's errors.json.
 *
 *   git --git-dir=<nats-server clone> show v2.10.29:server/errors.json > /tmp/errors.json
 *   node scripts/gen-jetstream-errors.mjs /tmp/errors.json
 *
 * Only the code between the GENERATED markers is replaced: one entry per error, keyed by
 * nats-server's constant name (JS...Err / ...ErrF), sorted by err_code. errors.json itself is
 * not kept in this repository.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/gen-jetstream-errors.mjs <errors.json>');
  process.exit(2);
}
const target = fileURLToPath(new URL('../src/jetstream/errors.ts', import.meta.url));
const entries = JSON.parse(readFileSync(source, 'utf8'));
entries.sort((a, b) => a.error_code - b.error_code);

/** A single-quoted TS string literal (the house style). */
const quote = (s) => `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
const lines = entries.map(
  (e) => `  ${e.constant}: { code: ${e.code}, err_code: ${e.error_code}, description: ${quote(e.description)} },`,
);
const BEGIN = '// BEGIN GENERATED (scripts/gen-jetstream-errors.mjs)';
const END = '// END GENERATED';
const text = readFileSync(target, 'utf8');
const i = text.indexOf(BEGIN);
const j = text.indexOf(END);
if (i < 0 || j < i) throw new Error(`markers not found in ${target}`);
writeFileSync(target, `${text.slice(0, i + BEGIN.length)}\n${lines.join('\n')}\n${text.slice(j)}`);
console.log(`${entries.length} errors written to ${target}`);
