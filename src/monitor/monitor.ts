/**
 * Monitoring HTTP endpoints, as nats-server serves them (`/varz`, `/connz`, `/subsz`,
 * `/routez`, `/healthz`, `/`).
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { ListenError } from '../errors.js';
import type { BrokerCore } from '../server/core.js';
import type { ClusterManager } from '../cluster/cluster.js';
import type { ResolvedOptions } from '../server/options.js';

/** What the endpoints read. Getters, because a restart replaces the core. */
export interface MonitorContext {
  readonly options: ResolvedOptions;
  core(): BrokerCore;
  cluster(): ClusterManager | null;
  /** When the server (re)started. */
  startedAt(): Date;
  /** When the configuration was (re)loaded. */
  configLoadedAt(): Date;
  /** The real client port. */
  port(): number;
}

export interface MonitorHandle {
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the monitoring listener on `host:port` (0 = ephemeral). */
export async function startMonitor(ctx: MonitorContext, host: string, port: number): Promise<MonitorHandle> {
  const http: HttpServer = createHttpServer((req, res) => {
    void ctx;
    res.statusCode = 404;
    res.end('404 page not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (err) => reject(new ListenError(host, port, err)));
    http.listen({ host, port, exclusive: true }, () => resolve());
  });
  const address = http.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  return {
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
