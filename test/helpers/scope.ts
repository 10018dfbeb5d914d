/**
 * Per-test resources: servers and connections made through a scope are closed after each test
 * (last made, first closed), whatever the test's outcome.
 */
import { afterEach } from 'vitest';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type NatsServer, type ServerOptions } from '../../src/index.js';

export interface Scope {
  /** Runs `fn` after the current test. */
  defer(fn: () => unknown): void;
  /** `createServer(opts)`, closed after the test. */
  server(opts?: ServerOptions): Promise<NatsServer>;
  /** `connect()` to a server (or URLs), closed after the test. */
  client(to: NatsServer | string | string[], opts?: ConnectionOptions): Promise<NatsConnection>;
}

/** Registers the cleanup hook for this test file and returns the scope. */
export function useScope(): Scope {
  const pending: Array<() => unknown> = [];
  afterEach(async () => {
    while (pending.length > 0) await pending.pop()!();
  });
  const defer = (fn: () => unknown): void => void pending.push(fn);
  return {
    defer,
    async server(opts = {}) {
      const s = await createServer(opts);
      defer(() => s.close());
      return s;
    },
    async client(to, opts = {}) {
      const servers = typeof to === 'string' || Array.isArray(to) ? to : to.url;
      const nc = await connect({ servers, ...opts });
      defer(() => (nc.isClosed() ? undefined : nc.close()));
      return nc;
    },
  };
}
