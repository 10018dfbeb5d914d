/**
 * `nats-embedded/global-setup` and `nats-embedded/vitest-setup`: they run in vitest's main
 * process, where there is no test runtime, so they must not load vitest at all (importing the
 * fixtures there crashed vitest: "failed to find the current suite").
 *
 * Reads the built package (dist/): run `npm run build` first, as `npm test` does.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };

/** The file a `nats-embedded[/sub]` specifier loads, from package.json "exports". */
function exportFile(spec: string): string {
  const entry = pkg.exports[spec === 'nats-embedded' ? '.' : `.${spec.slice('nats-embedded'.length)}`];
  if (entry === undefined) throw new Error(`package.json exports no ${spec}`);
  const target = typeof entry === 'string' ? entry : 'import' in entry ? (entry as { import: { default: string } }).import.default : entry.default;
  return resolve(ROOT, target);
}

/**
 * Every bare specifier (other than the package itself, which is followed) reachable from `spec`
 * in the built files, static and dynamic imports alike.
 */
function externalImports(spec: string): Set<string> {
  const seen = new Set<string>();
  const externals = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)) {
      const s = m[1];
      if (s.startsWith('.')) visit(resolve(dirname(file), s));
      else if (s === 'nats-embedded' || s.startsWith('nats-embedded/')) visit(exportFile(s));
      else externals.add(s);
    }
  };
  visit(exportFile(spec));
  return externals;
}

const isVitest = (s: string): boolean => /^(vitest|vite|@vitest\/[^/]+)(\/|$)/.test(s);

describe('global setup entry points', () => {
  it.each(['nats-embedded/global-setup', 'nats-embedded/vitest-setup'])('%s never imports vitest', (spec) => {
    expect([...externalImports(spec)].filter(isVitest)).toEqual([]);
  });

  it('the import graph walk does see vitest where it is imported (nats-embedded/vitest)', () => {
    expect([...externalImports('nats-embedded/vitest')].filter(isVitest)).toContain('vitest');
  });

  it('natsGlobalSetup runs in a plain Node process: provides the URL, tears the broker down', async () => {
    const script = `
      import { natsGlobalSetup } from 'nats-embedded/global-setup';
      import { connect } from 'node:net';
      const provided = {};
      const teardown = await natsGlobalSetup({ maxPayload: 2048 })({ provide: (k, v) => { provided[k] = v; } });
      const { hostname, port } = new URL(provided.natsUrl);
      const info = await new Promise((res, rej) => {
        const s = connect({ host: hostname, port: Number(port) });
        s.once('data', (d) => { s.destroy(); res(JSON.parse(String(d).slice(5))); });
        s.once('error', rej);
      });
      await teardown();
      const refused = await new Promise((res) => {
        const s = connect({ host: hostname, port: Number(port) });
        s.once('connect', () => { s.destroy(); res(false); });
        s.once('error', () => res(true));
      });
      console.log(JSON.stringify({ provided, maxPayload: info.max_payload, refused }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 20_000 });
    const out = JSON.parse(stdout) as { provided: { natsUrl: string; natsUrls: string[] }; maxPayload: number; refused: boolean };
    expect(out.provided.natsUrls).toEqual([out.provided.natsUrl]);
    expect(out.maxPayload).toBe(2048);
    expect(out.refused).toBe(true);
  });
});
