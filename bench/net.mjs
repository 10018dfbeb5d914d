// What the benchmark scripts share to start servers: a pause, a binary on PATH, a free port.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Calls `stalled()` each time `count()` did not move for `ms` (a drain that stalls must end); returns the interval to clear. */
export function stallWatchdog(count, stalled, ms = 10_000) {
  let seen = -1;
  return setInterval(() => {
    const n = count();
    if (n === seen) stalled();
    seen = n;
  }, ms);
}

/** The executable `name` in a PATH directory, or null. */
export function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

/** A TCP port on `host` that was free a moment ago. */
export async function freePort(host = '127.0.0.1') {
  // A port handed out before (and released) can come back from the kernel while its first
  // taker is still starting: the route scenarios pick up to six at once (EADDRINUSE at startup).
  for (let i = 0; ; i++) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, host, () => {
        const { port: p } = srv.address();
        srv.close(() => resolve(p));
      });
    });
    if (!issuedPorts.has(port) || i >= 20) {
      issuedPorts.add(port);
      return port;
    }
  }
}

/** Ports {@link freePort} has handed out in this process. */
const issuedPorts = new Set();
