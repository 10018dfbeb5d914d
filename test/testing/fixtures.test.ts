/**
 * The fixtures of `nats-embedded/vitest` when tests go wrong: they run in their own vitest
 * project (test/fixtures/vitest-fixtures, where tests fail on purpose), and this file checks the
 * report. A fixture closes its server when the test fails or times out, also when the test
 * times out while the server is still starting; a server that cannot start fails the test with
 * its own error; a test during which the broker caught an internal error (a bug) fails.
 *
 * Uses the built package (dist/) and the nats-server binary: run `npm run build` first, as
 * `npm test` does.
 */
import { expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROJECT = fileURLToPath(new URL('../fixtures/vitest-fixtures', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

interface Report {
  testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
}

/** Runs the project; resolves with each test's status and first failure line. */
async function run(): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'nats-embedded-fixtures-'));
  try {
    const out = join(dir, 'report.json');
    // Exits 1: some tests fail on purpose.
    await new Promise<void>((resolve) => {
      execFile(process.execPath, [VITEST, 'run', '--root', PROJECT, '--reporter=json', `--outputFile=${out}`], { timeout: 60_000 }, () => resolve());
    });
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    const results: Record<string, string> = {};
    for (const file of report.testResults) {
      for (const t of file.assertionResults) {
        results[t.title] = t.status === 'passed' ? 'passed' : `${t.status}: ${(t.failureMessages[0] ?? '').split('\n')[0]}`;
      }
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A timeout, as the JSON report words it: vitest 4 puts the placeholder of the error it made for
 * the stack trace there, not "Test timed out in N ms".
 */
const timedOut = (ms: number): unknown => expect.stringMatching(new RegExp(`^failed: Error: (Test timed out in ${ms}ms|STACK_TRACE_ERROR)`));

it('fixtures close their servers whatever the outcome, and fail the test with a start error', async () => {
  const results = await run();
  expect(results).toEqual({
    'fails: the test throws': 'failed: Error: boom',
    'fails: the test times out': timedOut(300),
    'fails: the broker had an internal error': expect.stringMatching(/^failed: Error: nats-embedded: 1 internal error\(s\) in the broker during this test/),
    'closed: the brokers of the failed and the timed-out test': 'passed',
    'fails: times out while the broker starts': timedOut(1),
    'closed: the broker that came up after its test timed out': 'passed',
    'fails: the broker cannot start': expect.stringMatching(/^failed: ListenError: Cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/),
    'the port blocker closes': 'passed',
    'fails: a cluster test throws': 'failed: Error: cluster boom',
    "closed: every member of the failed test's cluster": 'passed',
    'fails: times out while the cluster forms': timedOut(1),
    'closed: the cluster that formed after its test timed out': 'passed',
    'fails: no createCluster() on the nats-server backend': expect.stringMatching(/^failed: UnsupportedError: "createCluster\(\)" is not available with backend "nats-server"/),
  });
});
