/** Catching what a call throws or rejects with, for assertions on the error itself. */
import { expect } from 'vitest';
import { ConfigError } from '../../src/errors.js';

/** The error `fn` throws synchronously (fails the test if it does not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** The ConfigError `fn` throws (fails the test if it throws nothing or something else). */
export function configErrorOf(fn: () => unknown): ConfigError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}
