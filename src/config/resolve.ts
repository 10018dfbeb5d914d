/**
 * `resolveOptions()`: validates `createServer()` options and fills in the defaults (nats-server
 * v2.10.29's), by walking the option table (`table.ts`) row by row. Errors are a
 * {@link ConfigError} naming the option by its path (`cluster.routes[0]`).
 */
import type { ResolvedOptions, ServerOptions } from './types.js';
import { KNOWN_KEYS, OPTION_ROWS, type OptionRow, type ResolveContext } from './table.js';
import { objectWithKeys, optBool, optDuration, optInt, optPort, optString } from './validate.js';

/** Validates `options` and fills in the defaults. Throws {@link ConfigError} naming the option. */
export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  const input = objectWithKeys(options, '', KNOWN_KEYS);
  const out: Partial<Record<keyof ResolvedOptions, unknown>> = {};
  const ctx: ResolveContext = {
    input,
    resolved: (field) => {
      // A row reading a field of a later row: the table's order is wrong.
      if (!(field in out)) throw new Error(`option table: "${field}" is read before it is resolved`);
      return out[field] as ResolvedOptions[typeof field];
    },
  };
  for (const [name, row] of OPTION_ROWS) Object.assign(out, resolveRow(row, input[name], name, ctx));
  return Object.freeze(out as ResolvedOptions);
}

/** One row's fields, from its value as given (`undefined`: not given). */
function resolveRow(row: OptionRow, value: unknown, path: string, ctx: ResolveContext): Partial<ResolvedOptions> {
  switch (row.kind) {
    case 'int': {
      const n = optInt(value, path, row.default, row.min, row.max);
      if (n !== null) row.check?.(n, ctx);
      return { [row.into]: n };
    }
    case 'port':
      return { [row.into]: optPort(value, path) };
    case 'bool':
      return { [row.into]: optBool(value, path, row.default) };
    case 'duration':
      return { [row.into]: optDuration(value, path, row.default) };
    case 'string': {
      const s = optString(value, path, row.default);
      if (value !== undefined && s !== undefined) row.validate?.(s, path);
      return { [row.into]: s };
    }
    case 'block':
      return row.resolve(value, path, ctx);
    case 'part':
      // Resolved by the row it is part of.
      return {};
  }
}
