/**
 * Starting the real nats-server and the embedded broker from the same config file lines, for
 * the conformance tests of startup refusals: what each said, or null when it started.
 */
import { expect } from 'vitest';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { freePort, startRealServer } from './real-server.js';
import type { Scope } from './scope.js';

/** Each server's startup error message (null: it started, and was stopped again). */
export async function startupOutcomes(bin: string, scope: Scope, lines: readonly string[], confName: string): Promise<{ real: string | null; ours: string | null }> {
  const real = await startRealServer(bin, [`listen: "127.0.0.1:${await freePort()}"`, ...lines], 5000).then(
    async (r) => {
      await r.stop();
      return null;
    },
    (e: Error) => e.message,
  );
  let ours: string | null = null;
  try {
    const s = await scope.server({ ...optionsFromConf(parseConf(lines.join('\n'), confName)).options, port: 0 });
    await s.close();
  } catch (e) {
    ours = (e as Error).message;
  }
  return { real, ours };
}

/**
 * Asserts a case of {@link startupOutcomes}: both start (`reason` null), or both refuse with
 * messages containing `reason` (`real|ours` when the texts differ).
 */
export function expectSameStartup(what: string, outcome: { real: string | null; ours: string | null }, reason: string | null): void {
  const { real, ours } = outcome;
  if (reason === null) {
    expect({ what, real, ours }).toEqual({ what, real: null, ours: null });
    return;
  }
  const [realReason, ourReason] = reason.includes('|') ? reason.split('|') as [string, string] : [reason, reason];
  expect(real ?? 'started', what).toContain(realReason);
  expect(ours, what).toContain(ourReason);
}
