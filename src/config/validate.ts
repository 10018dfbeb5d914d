/**
 * The validators every option resolver is built from. Each takes the value as given and the
 * option's path (`cluster.port`, `authorization.users[0].nkey`), which names the option in the
 * {@link ConfigError} it throws; `undefined` (not given) yields the default.
 *
 * The bounds the callers pass are nats-server's (server/opts.go, server/const.go): an int32
 * field such as `max_payload` holds at most {@link INT32_MAX}.
 */
import { ConfigError } from '../errors.js';
import { parseDuration } from './duration.js';

/** Largest value nats-server holds in an int32 field such as max_payload. */
export const INT32_MAX = 2 ** 31 - 1;

/** An integer between `min` and `max`, or `def` when not given. */
export function optInt<D extends number | null>(value: unknown, path: string, def: D, min: number, max: number): number | D {
  if (value === undefined) return def;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ConfigError(path, `must be an integer, got ${describe(value)}`);
  if (value < min || value > max) throw new ConfigError(path, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A port: 0 to 65535, where `-1` (nats-server's "random") means ephemeral, as 0 does. */
export function optPort(value: unknown, path: string): number {
  const port = optInt(value, path, 0, -1, 65535);
  return port === -1 ? 0 : port;
}

/** A string, or `def` when not given. */
export function optString<D extends string | undefined>(value: unknown, path: string, def: D): string | D {
  if (value === undefined) return def;
  if (typeof value !== 'string') throw new ConfigError(path, `must be a string, got ${describe(value)}`);
  return value;
}

/** A boolean, or `def` when not given. */
export function optBool(value: unknown, path: string, def: boolean): boolean {
  if (value === undefined) return def;
  if (typeof value !== 'boolean') throw new ConfigError(path, `must be a boolean, got ${describe(value)}`);
  return value;
}

/** A positive duration in milliseconds (a number of ms, or a Go duration string), or `def`. */
export function optDuration(value: unknown, path: string, def: number): number {
  if (value === undefined) return def;
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') ms = parseDuration(value, path);
  else throw new ConfigError(path, `must be milliseconds or a duration string, got ${describe(value)}`);
  if (!Number.isFinite(ms) || ms <= 0) throw new ConfigError(path, `must be a positive duration, got ${describe(value)}`);
  return ms;
}

/**
 * A name such as `serverName` or `cluster.name`: nats-server puts it in INFO and in route
 * handshakes, where a space would split the protocol line.
 */
export function checkName(name: string, path: string): void {
  if (name.length === 0 || /\s/.test(name)) throw new ConfigError(path, 'must be a non-empty string without spaces');
}

/** `a.b` below `path` (a top-level option's path is its name: `path` is empty). */
export function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** A plain object, or a {@link ConfigError} naming `path` (`options` at the top level). */
export function object(value: unknown, path: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(path === '' ? 'options' : path, 'must be an object');
  }
  return value as Record<string, unknown>;
}

/** Throws naming the first key of `o` that is not in `known`, with `reason`. */
export function checkKeys(o: object, path: string, known: ReadonlySet<string>, reason = 'unknown option'): void {
  for (const key of Object.keys(o)) if (!known.has(key)) throw new ConfigError(child(path, key), reason);
}

/**
 * A plain object (a block of options) whose keys are all in `known`: the one check every
 * block makes. Throws naming the block when `value` is not an object, or naming the first
 * unknown key with `reason`.
 */
export function objectWithKeys(
  value: unknown,
  path: string,
  known: ReadonlySet<string>,
  reason = 'unknown option',
): Record<string, unknown> {
  const o = object(value, path);
  checkKeys(o, path, known, reason);
  return o;
}

/** A value, briefly, for an error message. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : String(v);
}
