/**
 * Go durations, as nats-server's config takes them (`ping_interval: "2m"`, `"1h30m"`,
 * `"500ms"`): parsed into milliseconds for the options, and written back for the config file
 * of the `nats-server` backend. The syntax follows Go's `time.ParseDuration`
 * (src/time/format.go): a sequence of decimal numbers, each with a unit `ns`, `us` (`µs`),
 * `ms`, `s`, `m` or `h`.
 */
import { ConfigError } from '../errors.js';

export type { Duration } from '../auth/types.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};

/** Parses a Go duration string (`"1h30m"`, `"2.5s"`, `"500ms"`) into milliseconds, or null. */
export function parseDurationMs(text: string): number | null {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    matched += m[0].length;
  }
  return matched !== text.length || text.length === 0 ? null : total;
}

/** {@link parseDurationMs}, throwing {@link ConfigError} naming `option` when `text` is not a duration. */
export function parseDuration(text: string, option: string): number {
  const ms = parseDurationMs(text);
  if (ms === null) throw new ConfigError(option, `invalid duration "${text}" (use e.g. "500ms", "10s", "2m")`);
  return ms;
}

/**
 * Milliseconds as a Go duration string, for a config file: whole milliseconds as `ms`, a
 * fraction as whole nanoseconds (Go's resolution; at least 1 ns, so a positive duration stays
 * positive).
 */
export function goDuration(ms: number): string {
  return Number.isInteger(ms) ? `${ms}ms` : `${Math.max(1, Math.round(ms * 1e6))}ns`;
}
