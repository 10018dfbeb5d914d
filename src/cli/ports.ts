/**
 * The ports file (`ports_file_dir`, `--ports_file_dir`): once the listeners are up, the URLs
 * of each are written as JSON to `<dir>/<executable>_<pid>.ports`. Client libraries' test
 * harnesses start "nats-server" and wait for exactly that file name, so both the name and the
 * content follow nats-server's `server/server.go` (portFile, logPorts, PortsInfo,
 * resolveHostPorts, formatURL):
 *
 * - `<executable>` is the base name of the program as it was invoked (Go's
 *   `filepath.Base(os.Args[0])`): started through a symlink named `nats-server`, the file is
 *   `nats-server_<pid>.ports`, which is what makes this CLI a drop-in;
 * - the content is `{"nats":[...],"monitoring":[...],"cluster":[...],"websocket":[...]}`,
 *   compact, keys in that order, a key left out when its listener is not configured;
 * - URLs carry the scheme the listener speaks: `nats` (`tls` when client TLS is required, i.e.
 *   configured without `allow_non_tls`), `http` for monitoring, `nats` (`tls`) for routes, `ws`
 *   (`wss` with TLS) for websocket;
 * - a listener bound to a wildcard address (`0.0.0.0` and `::` are both dual-stack, as Go's)
 *   lists every interface address, IPv4 and IPv6, in interface order; a host name is given as
 *   the address it resolved to, as a Go listener reports it.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { basename, join } from 'node:path';
import { hostPort } from '../io/listen.js';

/** The name used when the CLI is run as itself (`node dist/cli.js`, or the npm bin link). */
export const OWN_NAME = 'nats-embedded';

/**
 * The environment variable that names the executable for the ports file, for wrapper scripts.
 *
 * A symlink named `nats-server` pointing at the CLI needs nothing: Node keeps the symlink's
 * path in `process.argv[1]` (it resolves it with path.resolve, not realpath), so the file is
 * `nats-server_<pid>.ports`. A shell wrapper that `exec`s node on the CLI is different: by the
 * time the CLI runs, the wrapper's name is gone (`process.argv[1]` is the CLI's own file), so
 * the file is `nats-embedded_<pid>.ports` — the truth about what runs, but not what a harness
 * that started "nats-server" waits for. Such a wrapper passes its own name through this
 * variable (with `exec`, the pid is the wrapper's, so the rest of the name is right):
 *
 * ```sh
 * #!/bin/sh
 * NATS_EMBEDDED_EXECUTABLE="$(basename "$0")" exec node /path/to/nats-embedded/dist/cli.js "$@"
 * ```
 */
export const EXECUTABLE_ENV = 'NATS_EMBEDDED_EXECUTABLE';

/**
 * The `<executable>` part of the ports file name: {@link EXECUTABLE_ENV} when set; else the base
 * name of the invoked script (`process.argv[1]`) without a `.js`/`.mjs`/`.cjs` extension; else,
 * when that is the CLI's own file (`ownFile`, e.g. `dist/cli.js`) or nothing was invoked,
 * {@link OWN_NAME}.
 */
export function executableName(script: string | undefined, ownFile: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[EXECUTABLE_ENV];
  // Only a base name: the variable must not steer the file out of ports_file_dir.
  if (fromEnv !== undefined && basename(fromEnv) !== '') return basename(fromEnv);
  if (script === undefined || script === '') return OWN_NAME;
  const base = basename(script);
  if (base === basename(ownFile)) return OWN_NAME;
  return base.replace(/\.(?:js|mjs|cjs)$/, '') || OWN_NAME;
}

/** `<dir>/<executable>_<pid>.ports`. */
export function portsFilePath(dir: string, executable: string, pid: number): string {
  return join(dir, `${executable}_${pid}.ports`);
}

/** The ports file's content (nats-server's `Ports`; `profile` is never set: no profiler here). */
export interface Ports {
  nats?: string[];
  monitoring?: string[];
  cluster?: string[];
  websocket?: string[];
}

/** What the ports file needs of a started server (a `NatsServer` has it). */
export interface Listeners {
  readonly port: number;
  readonly monitorPort: number;
  readonly clusterPort: number;
  readonly websocketPort: number;
  readonly options: {
    readonly host: string;
    readonly tls: object | null;
    readonly allowNonTls: boolean;
    readonly http: { readonly host: string } | null;
    readonly cluster: { readonly host: string; readonly tls: object | null } | null;
    readonly websocket: { readonly host: string; readonly tls: object | null } | null;
  };
}

/** The listeners of a started server, as the ports file lists them. */
export async function portsInfo(server: Listeners): Promise<Ports> {
  const o = server.options;
  const ports: Ports = {};
  // nats-server says "tls" when its INFO has tls_required: TLS configured, and not optional.
  ports.nats = await listenerUrls(o.tls !== null && !o.allowNonTls ? 'tls' : 'nats', o.host, server.port);
  if (o.http !== null) ports.monitoring = await listenerUrls('http', o.http.host, server.monitorPort);
  if (o.cluster !== null) ports.cluster = await listenerUrls(o.cluster.tls !== null ? 'tls' : 'nats', o.cluster.host, server.clusterPort);
  if (o.websocket !== null) ports.websocket = await listenerUrls(o.websocket.tls !== null ? 'wss' : 'ws', o.websocket.host, server.websocketPort);
  return ports;
}

/** The ports file's text: compact JSON, as Go's json.Marshal writes it (no trailing new line). */
export function portsJson(ports: Ports): string {
  return JSON.stringify(ports);
}

/**
 * `scheme://address:port` for each address the listener accepts connections on.
 *
 * For an unspecified listen address nats-server (resolveHostPorts) lists every address of
 * every interface, IPv6 ones included even for `0.0.0.0`, because Go listens dual-stack there;
 * so does this broker (io/listen.ts), and so does this list. On a host without IPv6 the
 * interfaces have no IPv6 addresses to list.
 */
export async function listenerUrls(scheme: string, host: string, port: number): Promise<string[]> {
  const url = (address: string): string => `${scheme}://${hostPort(address, port)}`;
  const unspecified = host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';
  if (!unspecified) return [url(await boundAddress(host))];
  const out: string[] = [];
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) out.push(url(a.address));
  }
  return out.length > 0 ? out : [url('127.0.0.1')];
}

/**
 * The address a listener on `host` is bound to: `host` itself when it is an IP address; else
 * what `dns.lookup` gives, which is the lookup Node's `net.Server.listen()` does for a name.
 */
async function boundAddress(host: string): Promise<string> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) !== 0) return bare;
  try {
    return (await lookup(bare)).address;
  } catch {
    return bare;
  }
}
