/**
 * Log lines in nats-server's wording. The library is silent unless a `logger` is given; the CLI
 * gives one that writes nats-server's format (`[pid] time [INF] message`).
 */
import type { Logger, ResolvedOptions } from './options.js';

export class Log {
  private logger: Logger | null;
  /** Debug lines wanted (`-D`): checked before building a message. */
  debugOn: boolean;
  /** Protocol traces wanted (`-V`): checked before building a message. */
  traceOn: boolean;

  constructor(options: ResolvedOptions) {
    this.logger = options.logger;
    this.debugOn = options.debug && typeof options.logger?.debug === 'function';
    this.traceOn = options.trace && typeof options.logger?.trace === 'function';
  }

  info(message: string): void {
    this.logger?.info(message);
  }

  warn(message: string): void {
    this.logger?.warn(message);
  }

  error(message: string): void {
    this.logger?.error(message);
  }

  debug(message: string): void {
    if (this.debugOn) this.logger!.debug!(message);
  }

  trace(message: string): void {
    if (this.traceOn) this.logger!.trace!(message);
  }
}
