/**
 * The `nats-embedded` command: starts a broker the way `nats-server` does — same flags, same
 * config file format, ports and pid files, signals and log format — so that anything that
 * starts nats-server can start nats-embedded instead.
 */
import { createWriteStream, renameSync, unlinkSync, writeFileSync, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../backend/create-server.js';
import type { NatsServer } from '../server/handle.js';
import { ConfigError, NatsEmbeddedError } from '../errors.js';
import { NATS_SERVER_VERSION } from '../protocol/constants.js';
import type { Logger, ServerOptions } from '../config/options.js';
import { parseConfFile } from '../config/conf.js';
import { optionsFromConf, type ConfResult, type ProcessSettings } from '../config/from-conf.js';
import { HELP, mergeOptions, parseArgs, type ParsedArgs } from './args.js';
import { executableName, portsFilePath, portsInfo, portsJson } from './ports.js';

declare const __PKG_VERSION__: string | undefined;

/** Log lines in nats-server's format: `[pid] 2006/01/02 15:04:05.000000 [INF] message`. */
class CliLogger implements Logger {
  private stream: WriteStream | null = null;

  constructor(private settings: ProcessSettings) {
    this.open();
  }

  update(settings: ProcessSettings): void {
    const reopen = settings.logFile !== this.settings.logFile;
    this.settings = settings;
    if (reopen) this.reopen();
  }

  /** SIGUSR1: reopen the log file (after log rotation moved it away). */
  reopen(): void {
    const old = this.stream;
    this.stream = null;
    old?.end();
    this.open();
  }

  private open(): void {
    if (this.settings.logFile !== undefined) this.stream = createWriteStream(this.settings.logFile, { flags: 'a' });
  }

  close(): Promise<void> {
    const s = this.stream;
    this.stream = null;
    return s === null ? Promise.resolve() : new Promise((resolve) => s.end(() => resolve()));
  }

  private write(level: string, message: string): void {
    const time = this.settings.logtime === false ? '' : `${timestamp(new Date(), this.settings.logtimeUtc === true)} `;
    const line = `[${process.pid}] ${time}[${level}] ${message}\n`;
    if (this.stream !== null) this.stream.write(line);
    else process.stderr.write(line);
  }

  info(message: string): void {
    this.write('INF', message);
  }

  warn(message: string): void {
    this.write('WRN', message);
  }

  error(message: string): void {
    this.write('ERR', message);
  }

  debug(message: string): void {
    this.write('DBG', message);
  }

  trace(message: string): void {
    this.write('TRC', message);
  }
}

/** Go's log.LstdFlags|Lmicroseconds layout, in local time or (logtime_utc) UTC, as nats-server's logger. */
function timestamp(d: Date, utc: boolean): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  if (utc) {
    return `${d.getUTCFullYear()}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds() * 1000, 6)}`;
  }
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

function packageVersion(): string {
  return typeof __PKG_VERSION__ === 'string' ? __PKG_VERSION__ : '0.0.0-dev';
}


function loadConf(path: string | undefined): ConfResult | null {
  return path === undefined ? null : optionsFromConf(parseConfFile(path));
}

function serverOptions(options: ServerOptions, settings: ProcessSettings, logger: Logger): ServerOptions {
  // The CLI is the embedded broker, whatever NATS_EMBEDDED_BACKEND says.
  return { ...options, backend: 'embedded', logger, debug: settings.debug === true, trace: settings.trace === true };
}

/**
 * Writes `<dir>/<executable>_<pid>.ports` (see ./ports.ts). As nats-server, a directory that
 * does not exist is not created: the error is logged and the server keeps running.
 *
 * Harnesses poll for the file and parse it as soon as it exists; nats-server's os.WriteFile
 * lets them see it empty for a moment. Here it is written under a temporary name (not ending
 * in .ports) and renamed, so it appears complete.
 */
async function writePortsFile(dir: string, server: NatsServer, logger: Logger): Promise<string | null> {
  const file = portsFilePath(dir, executableName(process.argv[1], fileURLToPath(import.meta.url)), process.pid);
  const data = portsJson(await portsInfo(server));
  const partial = join(dirname(file), `.${basename(file)}.tmp`);
  try {
    writeFileSync(partial, data);
    renameSync(partial, file);
  } catch (err) {
    removeQuietly(partial);
    logger.error(`Error writing ports file (${file}): ${goFileError(err, partial, file)}`);
    return null;
  }
  return file;
}

/** A Node fs error in Go's words, naming the ports file: `open <path>: no such file or directory`. */
function goFileError(err: unknown, partial: string, file: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const m = /^[A-Z]+: (.*?), (open|rename) /.exec(message);
  return m === null ? message.split(partial).join(file) : `${m[2]} ${file}: ${m[1]}`;
}

function removeQuietly(path: string | null): void {
  if (path === null) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

async function main(argv: string[]): Promise<number> {
  let args: ParsedArgs;
  let conf: ConfResult | null;
  try {
    args = parseArgs(argv);
    if (args.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (args.version) {
      process.stdout.write(`nats-embedded: v${packageVersion()} (nats-server ${NATS_SERVER_VERSION} compatible)\n`);
      return 0;
    }
    conf = loadConf(args.configFile);
    if (args.checkConfig) {
      if (args.configFile === undefined) throw new ConfigError('-t', 'needs a configuration file (-c)');
      process.stdout.write(`nats-embedded: configuration file ${args.configFile} is valid\n`);
      return 0;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`nats-embedded: ${err.message}\nRun "nats-embedded --help" for usage.\n`);
      return 1;
    }
    throw err;
  }

  let { options, settings } = mergeOptions(conf, args);
  const logger = new CliLogger(settings);
  for (const w of conf?.warnings ?? []) logger.warn(w);
  let pidFile: string | null = null;
  if (settings.pidFile !== undefined) {
    pidFile = settings.pidFile;
    writeFileSync(pidFile, String(process.pid));
  }
  let server: NatsServer;
  try {
    server = await createServer(serverOptions(options, settings, logger));
  } catch (err) {
    removeQuietly(pidFile);
    if (err instanceof NatsEmbeddedError) {
      logger.error(err.message);
      process.stderr.write(`nats-embedded: ${err.message}\n`);
      await logger.close();
      return 1;
    }
    throw err;
  }
  // The signals are trapped before the ports file is written: a SIGTERM right after its error
  // (or its write) stops the server cleanly, not the process by Node's default.
  let portsFile: string | null = null;
  let stopping = false;
  const exited = new Promise<number>((resolve) => {
    const finish = async (code: number): Promise<void> => {
      removeQuietly(portsFile);
      removeQuietly(pidFile);
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) process.removeAllListeners(s);
      await logger.close();
      resolve(code);
    };
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info(`Trapped "${signal}" signal`);
      logger.info('Initiating Shutdown...');
      server.close().then(
        () => {
          logger.info('Server Exiting..');
          void finish(0);
        },
        () => void finish(1),
      );
    };
    process.on('SIGINT', () => stop('interrupt'));
    process.on('SIGTERM', () => stop('terminated'));
    process.on('SIGUSR1', () => {
      logger.reopen();
      logger.info('Reopened log file');
    });
    process.on('SIGHUP', () => {
      logger.info('Trapped "hangup" signal');
      if (args.configFile === undefined) {
        logger.warn('No configuration file to reload');
        return;
      }
      try {
        const next = mergeOptions(loadConf(args.configFile), args);
        // The file is the whole configuration: keys removed from it return to their defaults.
        server.reload(serverOptions(next.options, next.settings, logger), { replace: true });
        options = next.options;
        settings = next.settings;
        logger.update(settings);
      } catch (err) {
        logger.error(`Failed to reload server configuration: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    process.on('SIGUSR2', () => {
      if (stopping) return;
      stopping = true;
      logger.info('Entering lame duck mode, stop accepting new clients');
      server.lameDuck().then(
        () => {
          logger.info('Server Exiting..');
          void finish(0);
        },
        () => void finish(1),
      );
    });
  });
  if (settings.portsFileDir !== undefined) {
    portsFile = await writePortsFile(settings.portsFileDir, server, logger);
    // Stopped while it was written: it goes too.
    if (stopping) removeQuietly(portsFile);
  }
  return await exited;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`nats-embedded: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
