/**
 * What a config reload may change, as the option table (`table.ts`) says: the options whose
 * row has `reload: 'no'` must resolve to the same value before and after. This is the check
 * of nats-server's server/reload.go (`diffOptions`, which fails with "config reload not
 * supported for ..."), for the options nats-embedded has.
 */
import { ConfigError } from '../errors.js';
import type { ResolvedOptions } from './types.js';
import { OPTION_ROWS, fieldsOf, type BoundPorts } from './table.js';

export type { BoundPorts } from './table.js';

/**
 * Throws `ConfigError(option, 'cannot be changed by a reload')` for the first option (in the
 * table's order) that `next` changes although a reload may not change it. Ephemeral ports (0)
 * stand for the ports the running server bound (`bound`), so that giving the port a server
 * actually got, or 0 again, is no change. Blocks compare as a whole (after that port).
 */
export function checkReload(current: ResolvedOptions, next: ResolvedOptions, bound: BoundPorts): void {
  // reload.go: "config reload not supported for SystemAccount" (a field of the auth block,
  // whose other parts do reload).
  if (current.systemAccount !== next.systemAccount) throw new ConfigError('systemAccount', 'cannot be changed by a reload');
  for (const [name, row] of OPTION_ROWS) {
    if (row.reload !== 'no') continue;
    const actual = row.bound === undefined ? undefined : bound[row.bound];
    for (const field of fieldsOf(row)) {
      if (comparable(current[field], actual) !== comparable(next[field], actual)) {
        throw new ConfigError(name, 'cannot be changed by a reload');
      }
    }
  }
}

/** A value as compared: JSON, with an ephemeral port (itself, or a block's `port`) replaced by the bound one. */
function comparable(value: unknown, boundPort: number | undefined): string | undefined {
  const port = (p: unknown): unknown => (p === 0 && boundPort !== undefined ? boundPort : p);
  if (typeof value === 'number') return JSON.stringify(port(value));
  if (value !== null && typeof value === 'object' && 'port' in value) return JSON.stringify({ ...value, port: port(value.port) });
  return JSON.stringify(value);
}
