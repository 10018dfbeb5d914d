/**
 * Validation of method arguments (as opposed to `createServer()` options, which throw
 * `ConfigError`): they throw {@link InvalidArgumentError} naming the argument. Durations take
 * the same forms as duration options: milliseconds, or a Go-style string such as `'1s'`.
 */
import { InvalidArgumentError } from '../errors.js';
import { isValidSubscribeSubject } from '../subject/subject.js';
import { parseDurationMs, type Duration } from '../config/options.js';

/** A duration argument in ms. `allowZero`: 0 is valid (a `downMs`), else it must be > 0. */
export function durationArg(value: Duration | undefined, name: string, def: number, allowZero = false): number {
  if (value === undefined) return def;
  let ms: number | null;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') ms = parseDurationMs(value);
  else ms = null;
  if (ms === null || !Number.isFinite(ms) || ms < 0 || (ms === 0 && !allowZero)) {
    throw new InvalidArgumentError(name, `must be ${allowZero ? 'a duration >= 0' : 'a positive duration'} (ms, or a string such as "1s"), got ${show(value)}`);
  }
  return ms;
}

/** A callback argument: must be a function. */
export function functionArg<F extends (...args: never[]) => unknown>(value: F, name: string): F {
  if (typeof value !== 'function') throw new InvalidArgumentError(name, `must be a function, got ${show(value)}`);
  return value;
}

/** An optional object argument (options bag): undefined or a plain object. */
export function objectArg<T extends object>(value: T | undefined, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(name, `must be an object, got ${show(value)}`);
  return value;
}

/** A subscription subject (wildcards allowed). */
export function subjectArg(value: string | undefined, name: string, def: string): string {
  if (value === undefined) return def;
  if (typeof value !== 'string' || !isValidSubscribeSubject(value)) throw new InvalidArgumentError(name, `must be a valid subject, got ${show(value)}`);
  return value;
}

/** A non-negative integer (count) argument. */
export function countArg(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new InvalidArgumentError(name, `must be a non-negative integer, got ${show(value)}`);
  return value;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'function') return 'a function';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : String(v);
}
