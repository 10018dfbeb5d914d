import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function imports(dir: string): Array<{ file: string; spec: string }> {
  const out: Array<{ file: string; spec: string }> = [];
  for (const name of readdirSync(join(SRC, dir))) {
    if (!name.endsWith('.ts')) continue;
    const text = readFileSync(join(SRC, dir, name), 'utf8');
    for (const m of text.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)) out.push({ file: `${dir}/${name}`, spec: m[1] });
  }
  return out;
}

describe('module boundaries', () => {
  it('subject/ and protocol/ are pure: no sockets, no process, nothing from server/ or io/', () => {
    const offending = [...imports('subject'), ...imports('protocol')].filter(
      ({ spec }) => /^node:(net|tls|http|dgram|child_process)$/.test(spec) || /\/(server|io|cli)\//.test(spec),
    );
    expect(offending).toEqual([]);
  });
});
