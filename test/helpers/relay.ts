/**
 * A TCP relay in front of a listener, for tests that must know a connection attempt has been
 * made and has ended (e.g. a route that must not come up): dial the relay instead of the
 * listener, then wait for `ended` instead of sleeping.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface Relay {
  /** The relay's own port on 127.0.0.1. */
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections whose both sides are closed. */
  readonly ended: number;
  /** Stops listening and destroys every relayed connection. */
  close(): Promise<void>;
}

/** Starts a relay to `targetPort` on `host`. */
export async function relay(targetPort: number, host = '127.0.0.1'): Promise<Relay> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let ended = 0;
  const listener = createServer((inbound) => {
    accepted++;
    const outbound = connect({ port: targetPort, host });
    let open = 2;
    for (const [s, other] of [[inbound, outbound], [outbound, inbound]] as const) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        other.destroy();
        if (--open === 0) ended++;
      });
      s.pipe(other);
    }
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', resolve);
  });
  const address = listener.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    get accepted() {
      return accepted;
    },
    get ended() {
      return ended;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        listener.close(() => resolve());
      }),
  };
}
