/**
 * Command-line flags, spelled as nats-server spells them. Go's flag package accepts `-p 4222`,
 * `-p=4222`, `--port 4222` and `--port=4222`, and boolean flags as `-D` or `-D=false`; so does
 * this parser.
 */
import { ConfigError } from '../errors.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterOptions, JetStreamOptions, ServerOptions } from '../config/options.js';
import type { ConfResult, ProcessSettings } from '../config/from-conf.js';

export interface ParsedArgs {
  /** Server options given by flags (they override the config file). */
  options: ServerOptions;
  /** Cluster options given by flags, merged over the config file's `cluster` block. */
  cluster: ClusterOptions;
  /** `-js` and `-sd`, merged over the config file's `jetstream` settings. */
  jetstream: { enabled?: boolean; storeDir?: string };
  process: ProcessSettings;
  configFile?: string;
  /** --tls* flags (nats-server: --tlscert and --tlskey with --tls or --tlsverify). */
  tls: { enabled?: boolean; verify?: boolean; cert?: string; key?: string; ca?: string };
  /** `-t`: check the config file and exit. */
  checkConfig: boolean;
  help: boolean;
  version: boolean;
}

export const HELP = `Usage: nats-embedded [options]

A NATS-compatible broker; the flags are nats-server's.

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222, -1 for random)
    -n, --name, --server_name <name> Server name (default: the server id)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring (-1 for random)
    -c, --config <file>              Configuration file
    -t                               Test configuration and exit
        --ports_file_dir <dir>       Write a <executable>_<pid>.ports file to this directory

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true; -T=false to turn off)
        --logtime_utc                Timestamps in UTC instead of local time
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -DV                              Debug and trace

Cluster Options:
        --routes <rurl-1, rurl-2>    Routes to solicit and connect
        --cluster <cluster-url>      Cluster URL for solicited routes (nats://host:port)
        --cluster_name <string>      Cluster name
        --no_advertise <bool>        Do not advertise known cluster info to clients
        --connect_retries <number>   For implicit routes, number of connect retries

TLS Options:
        --tls                        Enable TLS, do not verify clients
        --tlscert <file>             Server certificate file
        --tlskey <file>              Private key for server certificate
        --tlsverify                  Enable TLS, verify client certificates
        --tlscacert <file>           Client certificate CA for verification

JetStream Options:
    -js, --jetstream                 Enable JetStream functionality
    -sd, --store_dir <dir>           Set the storage directory (default: <tmp>/nats-embedded)

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version

Not supported yet (they fail with a message): the other nats-server flags, for features not
built here.

Signals: SIGINT/SIGTERM stop, SIGHUP reloads the config file, SIGUSR2 enters lame duck mode,
SIGUSR1 reopens the log file.
`;

type Kind =
  | 'port' | 'addr' | 'name' | 'pid' | 'http' | 'config' | 'check' | 'ports'
  | 'log' | 'logtime' | 'logtimeutc' | 'debug' | 'trace' | 'debugtrace'
  | 'routes' | 'cluster' | 'clustername' | 'noadvertise' | 'retries' | 'user' | 'pass' | 'auth'
  | 'tls' | 'tlscert' | 'tlskey' | 'tlscacert' | 'tlsverify'
  | 'js' | 'storedir' | 'help' | 'version';

const FLAGS: Readonly<Record<string, Kind>> = {
  p: 'port', port: 'port',
  a: 'addr', addr: 'addr', net: 'addr',
  n: 'name', name: 'name', server_name: 'name',
  P: 'pid', pid: 'pid',
  m: 'http', http_port: 'http',
  c: 'config', config: 'config',
  t: 'check',
  ports_file_dir: 'ports',
  l: 'log', log: 'log',
  T: 'logtime', logtime: 'logtime', logtime_utc: 'logtimeutc',
  D: 'debug', debug: 'debug',
  V: 'trace', trace: 'trace', VV: 'trace',
  DV: 'debugtrace', DVV: 'debugtrace',
  routes: 'routes',
  cluster: 'cluster', cluster_listen: 'cluster',
  cluster_name: 'clustername',
  no_advertise: 'noadvertise',
  connect_retries: 'retries',
  user: 'user', pass: 'pass', auth: 'auth',
  tls: 'tls', tlscert: 'tlscert', tlskey: 'tlskey', tlscacert: 'tlscacert', tlsverify: 'tlsverify',
  js: 'js', jetstream: 'js', sd: 'storedir', store_dir: 'storedir',
  h: 'help', help: 'help',
  v: 'version', version: 'version',
};

const BOOLEAN: ReadonlySet<Kind> = new Set(['check', 'logtime', 'logtimeutc', 'debug', 'trace', 'debugtrace', 'noadvertise', 'help', 'version', 'tls', 'tlsverify', 'js']);

/** nats-server flags for features this broker does not have yet. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  help_tls: 'TLS help',
  ms: 'HTTPS monitoring', https_port: 'HTTPS monitoring',
  sl: 'signalling a running server', signal: 'signalling a running server',
  s: 'syslog', syslog: 'syslog', r: 'remote syslog', remote_syslog: 'remote syslog',
  cluster_advertise: 'cluster advertise', client_advertise: 'client advertise',
  profile: 'profiling', max_traced_msg_len: 'trace limits', log_size_limit: 'log rotation',
  log_max_files: 'log rotation', user_nkey: 'nkey authentication',
};

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { options: {}, cluster: {}, jetstream: {}, process: {}, tls: {}, checkConfig: false, help: false, version: false };
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
      const feature = UNSUPPORTED[name];
      if (feature !== undefined) throw new ConfigError(arg, `not supported by nats-embedded yet (${feature})`);
      throw new ConfigError(arg, 'unknown flag');
    }
    if (BOOLEAN.has(kind)) {
      const on = value === undefined ? true : parseBool(value, arg);
      applyBool(out, kind, on);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(arg, 'needs a value');
    }
    applyValue(out, kind, value, arg);
  }
  const t = out.tls;
  if (t.enabled === true || t.cert !== undefined || t.key !== undefined) {
    if (t.cert === undefined || t.key === undefined) throw new ConfigError('--tls', 'needs --tlscert and --tlskey');
    out.options.tls = { cert: t.cert, key: t.key, ...(t.ca !== undefined ? { ca: t.ca } : {}), ...(t.verify === true ? { verify: true } : {}) };
  }
  return out;
}

function parseBool(value: string, arg: string): boolean {
  // Go's strconv.ParseBool.
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new ConfigError(arg, `invalid boolean value "${value}"`);
}

function applyBool(out: ParsedArgs, kind: Kind, on: boolean): void {
  switch (kind) {
    case 'check': out.checkConfig = on; break;
    case 'logtime': out.process.logtime = on; break;
    case 'logtimeutc': out.process.logtimeUtc = on; break;
    case 'debug': out.process.debug = on; break;
    case 'trace': out.process.trace = on; break;
    case 'debugtrace': out.process.debug = on; out.process.trace = on; break;
    case 'noadvertise': out.cluster.noAdvertise = on; break;
    case 'tls': out.tls.enabled = on; break;
    case 'js': if (on) out.jetstream.enabled = true; break;
    case 'tlsverify': out.tls.verify = on; if (on) out.tls.enabled = true; break;
    case 'help': out.help = on; break;
    case 'version': out.version = on; break;
    default: break;
  }
}

function port(value: string, arg: string): number {
  if (!/^-?\d+$/.test(value)) throw new ConfigError(arg, `must be a port number, got "${value}"`);
  const n = Number(value);
  if (n < -1 || n > 65535) throw new ConfigError(arg, `must be between -1 and 65535, got ${value}`);
  return n;
}

function applyValue(out: ParsedArgs, kind: Kind, value: string, arg: string): void {
  switch (kind) {
    case 'port': out.options.port = port(value, arg); break;
    case 'addr':
      if (value.length === 0) throw new ConfigError(arg, 'must not be empty');
      out.options.host = value;
      break;
    case 'name': out.options.serverName = value; break;
    case 'pid': out.process.pidFile = value; break;
    case 'http': out.options.http = port(value, arg); break;
    case 'config': out.configFile = value; break;
    case 'ports': out.process.portsFileDir = value; break;
    case 'log': out.process.logFile = value; break;
    case 'routes':
      out.cluster.routes = value.split(',').map((r) => r.trim()).filter((r) => r.length > 0);
      break;
    case 'cluster': {
      // nats-server: the URL the route listener binds, e.g. nats://0.0.0.0:6222.
      let u: URL;
      try {
        u = new URL(value.includes('://') ? value : `nats://${value}`);
      } catch {
        throw new ConfigError(arg, `invalid cluster URL "${value}"`);
      }
      out.cluster.host = u.hostname.replace(/^\[|\]$/g, '');
      out.cluster.port = u.port === '' ? 6222 : port(u.port, arg);
      // nats-server's overrideCluster: the URL's user and password become the route
      // credentials; a URL without them clears those of the config file.
      if (u.username !== '' && u.password === '') throw new ConfigError(arg, 'expected cluster password to be set');
      out.cluster.authorization = u.username === ''
        ? {}
        : { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
      break;
    }
    case 'clustername': out.cluster.name = value; break;
    case 'user': out.options.authorization = { ...out.options.authorization, user: value }; break;
    case 'pass': out.options.authorization = { ...out.options.authorization, password: value }; break;
    case 'auth': out.options.authorization = { ...out.options.authorization, token: value }; break;
    case 'storedir':
      if (value.length === 0) throw new ConfigError(arg, 'must not be empty');
      out.jetstream.storeDir = value;
      break;
    case 'tlscert': out.tls.cert = value; break;
    case 'tlskey': out.tls.key = value; break;
    case 'tlscacert': out.tls.ca = value; break;
    case 'retries': {
      if (!/^\d+$/.test(value)) throw new ConfigError(arg, `must be a number, got "${value}"`);
      out.cluster.connectRetries = Number(value);
      break;
    }
    default:
      break;
  }
}

/** Config file first, then flags on top (nats-server's precedence). */
export function mergeOptions(conf: ConfResult | null, args: ParsedArgs): { options: ServerOptions; settings: ProcessSettings } {
  const options: ServerOptions = { port: 4222, host: '0.0.0.0', ...conf?.options, ...args.options };
  const cluster = { ...conf?.options.cluster, ...args.cluster };
  // --cluster replaces the file's route credentials but keeps its auth timeout.
  const fileTimeout = conf?.options.cluster?.authorization?.timeout;
  if (args.cluster.authorization !== undefined && fileTimeout !== undefined) {
    cluster.authorization = { ...args.cluster.authorization, timeout: fileTimeout };
  }
  if (Object.keys(cluster).length > 0) options.cluster = cluster;
  // --user/--pass/--auth override those keys of the file's authorization block.
  if (conf?.options.authorization !== undefined && args.options.authorization !== undefined) {
    options.authorization = { ...conf.options.authorization, ...args.options.authorization };
  }
  const jetstream = mergeJetStream(conf?.options.jetstream, args.jetstream);
  if (jetstream !== undefined) options.jetstream = jetstream;
  const settings: ProcessSettings = { ...conf?.process, ...args.process };
  return { options, settings };
}

/**
 * The file's JetStream settings with `-js`/`-sd` on top. Without a store directory the CLI, as
 * nats-server, keeps streams under the system's temporary directory, where the next run finds
 * them (the library's default, a directory per server removed on close, suits tests instead).
 */
function mergeJetStream(conf: ServerOptions['jetstream'], flags: ParsedArgs['jetstream']): JetStreamOptions | undefined {
  if (conf === undefined && flags.enabled !== true && flags.storeDir === undefined) return undefined;
  const merged: JetStreamOptions = typeof conf === 'object' ? { ...conf } : { enabled: conf === true };
  // As nats-server: -js turns JetStream on (-js=false does not turn off the file's), -sd replaces the file's directory.
  if (flags.enabled === true) merged.enabled = true;
  if (flags.storeDir !== undefined) merged.storeDir = flags.storeDir;
  merged.storeDir ??= join(tmpdir(), 'nats-embedded');
  return merged;
}
