/**
 * The names of the process warnings emitted during each test of the calling file or `describe`
 * (e.g. a `TimeoutOverflowWarning` from a timer armed with a delay past 2^31-1 ms).
 */
import { afterEach, beforeEach } from 'vitest';

export function useProcessWarnings(): readonly string[] {
  const names: string[] = [];
  const onWarning = (w: Error): void => void names.push(w.name);
  beforeEach(() => {
    names.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => void process.off('warning', onWarning));
  return names;
}
