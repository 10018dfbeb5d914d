/**
 * examples/run.mjs (`npm run test:examples`): runs each project with the environment of its
 * example.json, and exits non-zero when a project fails or when there was none to run, so that
 * CI cannot pass on a broken or missing example.
 */
import { expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../../examples/run.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/examples-runner/', import.meta.url));

function run(dir: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RUN, dir], { timeout: 60_000 }, (err, stdout) => {
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? null), stdout });
    });
  });
}

it('fails when a project fails; a project gets the env of its example.json', async () => {
  const { code, stdout } = await run(`${FIXTURES}mixed`);
  expect(stdout).toContain('examples: with-env (EXAMPLES_RUNNER_CHECK=from example.json)');
  expect(stdout).toContain('examples: 1 passed, 1 failed');
  expect(code).toBe(1);
});

it('fails when there is no project to run', async () => {
  const { code, stdout } = await run(`${FIXTURES}empty`);
  expect(stdout).toContain('examples: 0 passed, 0 failed');
  expect(code).toBe(1);
});
