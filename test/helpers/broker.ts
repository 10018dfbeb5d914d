/**
 * A broker for wire tests: the embedded one (`createServer()`), or, when the environment
 * variable `NATS_WIRE_SERVER` names a nats-server binary, a real nats-server started with the
 * same limits. The second mode checks that the wire tests assert what nats-server really does:
 *
 *   NATS_WIRE_SERVER=nats-server npx vitest run test/wire
 *
 * Tracks the WireClients it opens so that a test file can close them all in `afterEach`.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createServer, type NatsServer } from '../../src/index.js';
import { WireClient } from './wire.js';
import { freePort, startRealServer } from './real-server.js';

/** The limits a wire test may set; each maps to a nats-server config key. */
export interface BrokerOptions {
  maxPayload?: number;
  maxControlLine?: number;
  maxConnections?: number;
  maxSubscriptions?: number;
}

/** The nats-server binary to test against instead of the embedded broker, if any. */
export const REAL_SERVER = process.env.NATS_WIRE_SERVER ?? '';

export interface Broker {
  readonly port: number;
  /** True when this is a real nats-server process. */
  readonly real: boolean;
  /** Opens a raw connection and reads INFO (tracked, closed by `closeClients`). */
  open(keepInfo?: boolean): Promise<WireClient>;
  /** Opens a connection and sends CONNECT (see `WireClient.connected`); tracked. */
  connected(connectOpts?: Record<string, unknown>): Promise<WireClient>;
  /** Destroys every connection opened through this broker. */
  closeClients(): void;
  close(): Promise<void>;
}

class BrokerHandle implements Broker {
  private readonly clients: WireClient[] = [];

  constructor(
    readonly port: number,
    readonly real: boolean,
    private readonly stop: () => Promise<void>,
  ) {}

  async open(keepInfo = false): Promise<WireClient> {
    const c = await WireClient.open(this.port, '127.0.0.1', { keepInfo });
    // Without Nagle a PING right after another write is not held back for an ACK.
    c.socket.setNoDelay(true);
    this.clients.push(c);
    return c;
  }

  /** As `WireClient.connected`, on a socket without Nagle's delay. */
  async connected(connectOpts: Record<string, unknown> = { verbose: false, pedantic: false }): Promise<WireClient> {
    const c = await this.open();
    c.send(`CONNECT ${JSON.stringify(connectOpts)}\r\n`);
    if (connectOpts.verbose !== false) await c.expect('+OK\r\n');
    c.send('PING\r\n');
    await c.expect('PONG\r\n');
    return c;
  }

  closeClients(): void {
    for (const c of this.clients.splice(0)) c.close();
  }

  async close(): Promise<void> {
    this.closeClients();
    await this.stop();
  }
}

/** Starts a broker with `opts`: embedded by default, nats-server when NATS_WIRE_SERVER is set. */
export async function startBroker(opts: BrokerOptions = {}): Promise<Broker> {
  if (REAL_SERVER === '') {
    const server: NatsServer = await createServer(opts);
    return new BrokerHandle(server.port, false, () => server.close());
  }
  return startRealBroker(REAL_SERVER, opts);
}

async function startRealBroker(bin: string, opts: BrokerOptions): Promise<Broker> {
  const port = await freePort();
  const lines = [`listen: "127.0.0.1:${port}"`];
  if (opts.maxPayload !== undefined) lines.push(`max_payload: ${opts.maxPayload}`);
  if (opts.maxControlLine !== undefined) lines.push(`max_control_line: ${opts.maxControlLine}`);
  if (opts.maxConnections !== undefined) lines.push(`max_connections: ${opts.maxConnections}`);
  if (opts.maxSubscriptions !== undefined) lines.push(`max_subscriptions: ${opts.maxSubscriptions}`);
  const real = await startRealServer(bin, lines);
  return new BrokerHandle(port, true, () => real.stop());
}

/**
 * Sends `data` in writes of `size` bytes (default 1), waiting a little between writes so that
 * the server most likely reads each one separately. The result must not depend on it.
 */
export async function sendInChunks(c: WireClient, data: string, size = 1): Promise<void> {
  for (let i = 0; i < data.length; i += size) {
    c.send(data.slice(i, i + size));
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * One broker for a whole test file: started before the first test, its clients closed after
 * each test, the broker closed after the last. Returns a handle that forwards to it.
 */
export function useBroker(opts: BrokerOptions = {}): Broker {
  let current: Broker | null = null;
  beforeAll(async () => {
    current = await startBroker(opts);
  });
  afterAll(async () => {
    await current?.close();
  });
  afterEach(() => {
    current?.closeClients();
  });
  const get = (): Broker => {
    if (current === null) throw new Error('useBroker(): the broker is started in beforeAll');
    return current;
  };
  return {
    get port() {
      return get().port;
    },
    get real() {
      return get().real;
    },
    open: (keepInfo?: boolean) => get().open(keepInfo),
    connected: (connectOpts?: Record<string, unknown>) => get().connected(connectOpts),
    closeClients: () => get().closeClients(),
    close: () => get().close(),
  };
}
