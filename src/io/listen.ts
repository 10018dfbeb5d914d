/**
 * Binding a listener (client, route, websocket or monitoring port) the way nats-server's Go
 * listeners bind: `0.0.0.0` is the dual-stack wildcard. Go's `net.Listen("tcp", "0.0.0.0:p")`
 * opens an IPv6 socket with IPV6_V6ONLY off where the host has IPv6, so clients that resolve
 * `localhost` to `::1` reach it too; Node's `0.0.0.0` would be IPv4 only.
 */
import type { Server } from 'node:net';
import { ListenError } from '../errors.js';

/** Errors that mean "this host has no IPv6": fall back to an IPv4-only wildcard. */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

/**
 * Binds `server` on `host:port` (0 = ephemeral) and resolves with the bound port; rejects with
 * {@link ListenError} naming the address asked for. Listener errors after the bind (accept
 * errors such as EMFILE) go to `onError` and never crash the process.
 */
export async function listen(server: Server, host: string, port: number, onError: (err: Error) => void): Promise<number> {
  try {
    if (host === '0.0.0.0') {
      try {
        await bind(server, { host: '::', port, ipv6Only: false, exclusive: true });
      } catch (err) {
        if (!NO_IPV6.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
        await bind(server, { host, port, exclusive: true });
      }
    } else {
      await bind(server, { host, port, exclusive: true });
    }
  } catch (err) {
    throw new ListenError(host, port, err);
  }
  server.on('error', onError);
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : port;
}

function bind(server: Server, options: { host: string; port: number; ipv6Only?: boolean; exclusive: boolean }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options);
  });
}

/** `host:port`, IPv6 literals in brackets (a log line or a config value). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The host a client dials to reach a listener bound to `host`: the wildcard addresses mean
 * this machine's loopback (`0.0.0.0` → `127.0.0.1`, `::` → `::1`).
 */
export function dialHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/** The host part of a URL for a listener bound to `host`: {@link dialHost}, IPv6 in brackets. */
export function urlHost(host: string): string {
  const h = dialHost(host);
  return h.includes(':') ? `[${h}]` : h;
}
