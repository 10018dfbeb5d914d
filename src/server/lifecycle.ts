/**
 * Lifecycle bookkeeping shared by both backends of `NatsServer`: whether the handle was closed
 * for good, which operations a `close()`/`kill()` (or a newer `restart()`) interrupts, and the
 * sleeps of `restart({ downMs })` and `lameDuck()` that such an interruption must cut short.
 *
 * The rule it enforces: after `close()` nothing listens again, and every promise the handle
 * returned settles — a pending `restart()` rejects with `ServerClosedError`, a `lameDuck()`
 * resolves (the server has stopped), waits reject, tap iterators end.
 */
import { ServerClosedError } from '../errors.js';

export class Lifecycle {
  /** `close()` was called: the handle never serves again. */
  disposed = false;
  /** Bumped by every interruption (`close()`, `kill()`, a new `restart()`). */
  generation = 0;
  /** `restart()` calls in progress (a stopped server that is about to come back). */
  restarting = 0;
  private readonly sleepers = new Set<() => void>();
  private readonly disposers = new Set<() => void>();

  /** Cuts pending sleeps short and invalidates operations started before now. */
  interrupt(): void {
    this.generation++;
    for (const wake of [...this.sleepers]) wake();
  }

  /** `close()`: interrupts everything and runs the `whenDisposed` callbacks, once. */
  dispose(): void {
    if (this.disposed) {
      this.interrupt();
      return;
    }
    this.disposed = true;
    this.interrupt();
    const fns = [...this.disposers];
    this.disposers.clear();
    for (const fn of fns) fn();
  }

  /** Runs `fn` at `dispose()`; returns a function that unregisters it. */
  whenDisposed(fn: () => void): () => void {
    this.disposers.add(fn);
    return () => void this.disposers.delete(fn);
  }

  /** Sleeps `ms`; resolves true when it ran out, false when an interruption cut it short. */
  sleep(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.sleepers.delete(wake);
        resolve(true);
      }, ms);
      this.sleepers.add(wake);
    });
  }

  /** The error of an operation that `close()`, `kill()` or a newer `restart()` interrupted. */
  interrupted(operation: string): ServerClosedError {
    return new ServerClosedError(operation, this.disposed ? 'the server was closed' : 'interrupted by kill() or another restart()');
  }
}
