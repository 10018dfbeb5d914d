/**
 * The README's vitest section shows only code that `npm run test:examples` runs: each code block
 * there is a file of examples/, named on the line before it ("... (`examples/x/y.ts`):"), and
 * every example project is shown.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START = '## In a test suite (vitest)';
const END = '### node:test and Jest';

function section(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const a = readme.indexOf(START);
  const b = readme.indexOf(END, a);
  if (a < 0 || b < 0) throw new Error(`README.md has no section from "${START}" to "${END}"`);
  return readme.slice(a, b);
}

/** The code blocks of the section, each with the line before it. */
function blocks(text: string): Array<{ before: string; code: string }> {
  const out: Array<{ before: string; code: string }> = [];
  for (const m of text.matchAll(/(?:^|\n)([^\n]*)\n\n?```[a-z]*\n([\s\S]*?)\n```/g)) out.push({ before: m[1], code: m[2] });
  return out;
}

describe('README vitest section', () => {
  const text = section();
  const found = blocks(text);

  it('has code blocks', () => {
    expect(found.length).toBeGreaterThan(0);
    expect(found.length).toBe(text.match(/^```[a-z]*$/gm)!.length / 2);
  });

  it.each(found.map((b, i) => [i, b] as const))('block %i is an examples/ file, verbatim', (_i, { before, code }) => {
    const m = /`(examples\/[^`]+)`\)?:$/.exec(before);
    expect(m, `the line before the block names its file: "${before}"`).not.toBeNull();
    expect(code).toBe(readFileSync(join(ROOT, m![1]), 'utf8').replace(/\n+$/, ''));
  });

  it('shows every example project', () => {
    const examples = join(ROOT, 'examples');
    const projects = readdirSync(examples).filter((n) => statSync(join(examples, n)).isDirectory());
    const shown = new Set(found.map(({ before }) => /`examples\/([^/`]+)\//.exec(before)?.[1]));
    expect(projects.filter((p) => !shown.has(p))).toEqual([]);
  });
});
