/**
 * One cleanup scope for every test file: servers, clusters, connections, environment variables
 * and anything else registered through a scope are undone after each test (or, with
 * `useScope('file')`, after the last test of the file), last made first undone, whatever the
 * test's outcome. Every cleanup runs even when an earlier one throws; the first error is
 * reported afterwards.
 */
import { afterAll, afterEach } from 'vitest';
import { connect, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import {
  createCluster,
  createServer,
  type ClusterHarnessOptions,
  type NatsCluster,
  type NatsServer,
  type ServerOptions,
} from '../../src/index.js';

export interface Scope {
  /** Runs `fn` when the scope ends. */
  defer(fn: () => unknown): void;
  /** `createServer(opts)`, closed when the scope ends. */
  server(opts?: ServerOptions): Promise<NatsServer>;
  /** `createCluster(opts)`, closed when the scope ends. */
  cluster(opts?: ClusterHarnessOptions): Promise<NatsCluster>;
  /** `connect()` to a server (or URLs), closed when the scope ends. */
  client(to: NatsServer | string | string[], opts?: ConnectionOptions): Promise<NatsConnection>;
  /** Sets (or, with undefined, removes) an environment variable until the scope ends. */
  env(name: string, value: string | undefined): void;
}

/**
 * Registers the cleanup hook for this test file and returns the scope: `'test'` (the default)
 * undoes after each test, `'file'` after the last one (for resources made in `beforeAll`).
 */
export function useScope(lifetime: 'test' | 'file' = 'test'): Scope {
  const pending: Array<() => unknown> = [];
  const unwind = async (): Promise<void> => {
    const errors: unknown[] = [];
    while (pending.length > 0) {
      try {
        await pending.pop()!();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanups failed`);
  };
  if (lifetime === 'test') afterEach(unwind);
  else afterAll(unwind);
  const defer = (fn: () => unknown): void => void pending.push(fn);
  return {
    defer,
    async server(opts = {}) {
      const s = await createServer(opts);
      defer(() => s.close());
      return s;
    },
    async cluster(opts = {}) {
      const c = await createCluster(opts);
      defer(() => c.close());
      return c;
    },
    async client(to, opts = {}) {
      const servers = typeof to === 'string' || Array.isArray(to) ? to : to.url;
      const nc = await connect({ servers, ...opts });
      defer(() => (nc.isClosed() ? undefined : nc.close()));
      return nc;
    },
    env(name, value) {
      const before = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
      defer(() => {
        if (before === undefined) delete process.env[name];
        else process.env[name] = before;
      });
    },
  };
}
