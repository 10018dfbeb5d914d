/**
 * Command-line flags, spelled as nats-server spells them. Go's flag package accepts `-p 4222`,
 * `-p=4222`, `--port 4222` and `--port=4222`; so does this parser.
 */
import { ConfigError } from '../errors.js';
import type { ServerOptions } from '../server/options.js';

export interface ParsedArgs {
  options: ServerOptions;
  help: boolean;
  version: boolean;
}

export const HELP = `Usage: nats-embedded [options]

Starts a NATS-compatible broker (the flags are nats-server's).

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222, -1 for random)
    -n, --name, --server_name <name> Server name (default: the server id)

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
`;

type FlagKind = 'port' | 'addr' | 'name' | 'help' | 'version';

const FLAGS: Readonly<Record<string, FlagKind>> = {
  p: 'port', port: 'port',
  a: 'addr', addr: 'addr', net: 'addr',
  n: 'name', name: 'name', server_name: 'name',
  h: 'help', help: 'help',
  v: 'version', version: 'version',
};

/** nats-server flags for features this broker does not have yet. */
const UNSUPPORTED = new Set([
  'js', 'jetstream', 'sd', 'store_dir', 'm', 'http_port', 'ms', 'https_port', 'c', 'config', 'l', 'log',
  'D', 'debug', 'V', 'trace', 'DV', 'VV', 'DVV', 'T', 'logtime', 'user', 'pass', 'auth', 'cluster',
  'cluster_name', 'routes', 'no_advertise', 'ports_file_dir', 'P', 'pid', 'tls', 'tlscert', 'tlskey',
  'tlscacert', 'tlsverify', 'sl', 'signal', 's', 'syslog', 'r', 'remote_syslog', 'cluster_advertise',
  'client_advertise', 'connect_retries', 'max_traced_msg_len', 'profile', 'log_size_limit', 'log_max_files',
  'help_tls',
]);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { options: {}, help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      throw new ConfigError(arg, 'unexpected argument (flags start with "-")');
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    let value: string | undefined = eq === -1 ? undefined : body.slice(eq + 1);
    const kind = FLAGS[name];
    if (kind === undefined) {
      if (UNSUPPORTED.has(name)) throw new ConfigError(arg, 'not supported by nats-embedded yet');
      throw new ConfigError(arg, 'unknown flag');
    }
    if (kind === 'help' || kind === 'version') {
      out[kind] = true;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(arg, 'needs a value');
    }
    switch (kind) {
      case 'port': {
        if (!/^-?\d+$/.test(value)) throw new ConfigError(arg, `must be a port number, got "${value}"`);
        const port = Number(value);
        if (port < -1 || port > 65535) throw new ConfigError(arg, `must be between -1 and 65535, got ${value}`);
        out.options.port = port;
        break;
      }
      case 'addr':
        if (value.length === 0) throw new ConfigError(arg, 'must not be empty');
        out.options.host = value;
        break;
      case 'name':
        out.options.serverName = value;
        break;
    }
  }
  return out;
}
