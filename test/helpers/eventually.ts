/**
 * One polling helper for every test (nats-server's `checkFor`): waits until `probe()` returns a
 * value other than undefined/false, polling the event loop; no fixed sleeps in assertions.
 */
export async function eventually<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves true when a TCP connection to `host:port` is refused (nothing listens). */
export async function refused(port: number, host = '127.0.0.1'): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise<boolean>((resolve) => {
    const s = connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

/** What {@link publishUntil} needs of a connection. */
interface Publisher {
  publish(subject: string, payload: string): void;
  flush(): Promise<void>;
}

/**
 * Publishes `payload` on `subject` until `done()`: interest crosses routes, gateways and leaf
 * node connections asynchronously, so the first messages may reach no one.
 */
export async function publishUntil(nc: Publisher, subject: string, done: () => boolean, timeoutMs = 10_000, payload = 'probe'): Promise<void> {
  await eventually(async () => {
    if (done()) return true;
    nc.publish(subject, payload);
    await nc.flush();
    return false;
  }, `a message on ${subject}`, timeoutMs);
}
