/**
 * Log lines in nats-server's wording. The library is silent unless a `logger` is given; the CLI
 * gives one that writes nats-server's format (`[pid] time [INF] message`). The logger is user
 * code: what it throws goes to `onError` (the handle's user-error path), never into the broker.
 */
import type { Logger, ResolvedOptions } from '../config/options.js';

export class Log {
  private readonly logger: Logger | null;
  private readonly onError: (err: unknown) => void;
  /** Debug lines wanted (`-D`): checked before building a message. */
  readonly debugOn: boolean;
  /** Protocol traces wanted (`-V`): checked before building a message. */
  readonly traceOn: boolean;

  constructor(options: ResolvedOptions, onError: (err: unknown) => void) {
    this.logger = options.logger;
    this.onError = onError;
    this.debugOn = options.debug && typeof options.logger?.debug === 'function';
    this.traceOn = options.trace && typeof options.logger?.trace === 'function';
  }

  info(message: string): void {
    if (this.logger !== null) this.call('info', message);
  }

  warn(message: string): void {
    if (this.logger !== null) this.call('warn', message);
  }

  error(message: string): void {
    if (this.logger !== null) this.call('error', message);
  }

  debug(message: string): void {
    if (this.debugOn) this.call('debug', message);
  }

  trace(message: string): void {
    if (this.traceOn) this.call('trace', message);
  }

  private call(level: keyof Logger, message: string): void {
    try {
      this.logger![level]!(message);
    } catch (err) {
      this.onError(err);
    }
  }
}
