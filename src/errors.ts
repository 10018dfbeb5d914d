/**
 * Error classes thrown by nats-embedded's public API. Every error carries a stable string
 * `code` so callers can branch on it without matching message text.
 *
 * @packageDocumentation
 */

/** Stable codes of {@link NatsEmbeddedError} and its subclasses. */
export type NatsEmbeddedErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_LISTEN'
  | 'ERR_BACKEND'
  | 'ERR_SERVER_CLOSED'
  | 'ERR_TIMEOUT'
  | 'ERR_UNSUPPORTED'
  | 'ERR_JETSTREAM';

/** Base class of every error nats-embedded throws or rejects with. */
export class NatsEmbeddedError extends Error {
  /** A stable, machine-readable code. */
  readonly code: NatsEmbeddedErrorCode;

  constructor(code: NatsEmbeddedErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NatsEmbeddedError';
    this.code = code;
  }
}

/**
 * An option given to `createServer()` (or the CLI) is invalid. `option` names it, in the
 * spelling the caller used (`maxPayload`, or `--port` for the CLI).
 */
export class ConfigError extends NatsEmbeddedError {
  /** The option that was rejected. */
  readonly option: string;

  constructor(option: string, reason: string) {
    super('ERR_INVALID_OPTION', `Invalid option "${option}": ${reason}`);
    this.name = 'ConfigError';
    this.option = option;
  }
}

/** The server could not bind its listener (port in use, address not available, ...). */
export class ListenError extends NatsEmbeddedError {
  /** The host the server tried to listen on. */
  readonly host: string;
  /** The port the server tried to listen on. */
  readonly port: number;

  constructor(host: string, port: number, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super('ERR_LISTEN', `Cannot listen on ${host}:${port}: ${detail}`, { cause });
    this.name = 'ListenError';
    this.host = host;
    this.port = port;
  }
}

/**
 * An argument of a method (not an option of `createServer()`) is invalid: a negative duration,
 * a callback that is not a function, a cluster member index out of range. `argument` names it.
 */
export class InvalidArgumentError extends NatsEmbeddedError {
  /** The argument that was rejected, e.g. `downMs` or `callback`. */
  readonly argument: string;

  constructor(argument: string, reason: string) {
    super('ERR_INVALID_ARGUMENT', `Invalid argument "${argument}": ${reason}`);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
  }
}

/**
 * An operation needs a server (or cluster) that is running or can run again, but it was
 * closed — or a pending operation was interrupted by `close()`/`kill()`. `reason` says which.
 */
export class ServerClosedError extends NatsEmbeddedError {
  constructor(operation: string, reason = 'the server is closed') {
    super('ERR_SERVER_CLOSED', `Cannot ${operation}: ${reason}`);
    this.name = 'ServerClosedError';
  }
}

/** The `nats-server` backend's process failed: it did not start, or exited during startup. */
export class BackendError extends NatsEmbeddedError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_BACKEND', message, options);
    this.name = 'BackendError';
  }
}

/** A `waitFor...()` call did not see its condition within its timeout. */
export class WaitTimeoutError extends NatsEmbeddedError {
  constructor(what: string, timeoutMs: number) {
    super('ERR_TIMEOUT', `Timed out after ${timeoutMs} ms waiting for ${what}`);
    this.name = 'WaitTimeoutError';
  }
}

/**
 * A feature only the embedded broker has was used on a server of another backend (a
 * `nats-server` process: `createServer({ backend: 'nats-server' })`).
 */
export class UnsupportedError extends NatsEmbeddedError {
  /** The feature, e.g. `pause()` or `connectionCount`. */
  readonly feature: string;
  /** The backend that lacks it. */
  readonly backend: string;

  constructor(feature: string, backend: string, hint?: string) {
    super(
      'ERR_UNSUPPORTED',
      `"${feature}" is not available with backend "${backend}" (embedded only)${hint === undefined ? '' : `; ${hint}`}`,
    );
    this.name = 'UnsupportedError';
    this.feature = feature;
    this.backend = backend;
  }
}

/**
 * A JetStream API request made by a `server.jetstream` helper (`seed()`, `reset()`,
 * `kvBucket()`, ...) was refused by the server: `errCode` and `description` are the server's
 * (`$JS.API` error `err_code`, e.g. 10058 "stream name already in use with a different
 * configuration"), `status` its HTTP-like code (400, 404, 500, 503).
 */
export class JetStreamApiError extends NatsEmbeddedError {
  /** The API subject that was called, e.g. `$JS.API.STREAM.CREATE.ORDERS`. */
  readonly subject: string;
  /** The error's `code` (400, 404, 500, 503, ...). */
  readonly status: number;
  /** The error's `err_code` (e.g. 10059 stream not found), or 0 when the server gave none. */
  readonly errCode: number;
  /** The error's `description`. */
  readonly description: string;

  constructor(subject: string, status: number, errCode: number, description: string) {
    super('ERR_JETSTREAM', `JetStream API ${subject} failed: ${description} (code ${status}, err_code ${errCode})`);
    this.name = 'JetStreamApiError';
    this.subject = subject;
    this.status = status;
    this.errCode = errCode;
    this.description = description;
  }
}
