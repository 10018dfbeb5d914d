/**
 * The `nats-embedded` command: starts a broker the way `nats-server` does, with the same flag
 * spellings for what the broker supports.
 */
import { createServer, type NatsServer } from '../server/server.js';
import { ConfigError, NatsEmbeddedError } from '../errors.js';
import { NATS_SERVER_VERSION } from '../protocol/constants.js';
import type { ServerOptions } from '../server/options.js';
import { parseArgs, HELP } from './args.js';

declare const __PKG_VERSION__: string | undefined;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`nats-embedded: ${err.message}\n${'Run "nats-embedded --help" for usage.'}\n`);
      return 1;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (parsed.version) {
    process.stdout.write(`nats-embedded: v${packageVersion()} (nats-server ${NATS_SERVER_VERSION} compatible)\n`);
    return 0;
  }
  const options: ServerOptions = { port: 4222, host: '0.0.0.0', ...parsed.options };
  let server: NatsServer;
  try {
    server = await createServer(options);
  } catch (err) {
    if (err instanceof NatsEmbeddedError) {
      process.stderr.write(`nats-embedded: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const log = (msg: string): void => {
    process.stdout.write(`[${process.pid}] ${new Date().toISOString()} [INF] ${msg}\n`);
  };
  log(`Starting nats-embedded v${packageVersion()} (nats-server ${NATS_SERVER_VERSION} protocol)`);
  log(`Server ID: ${server.id}`);
  log(`Listening for client connections on ${server.host}:${server.port}`);
  log(`Server is ready (clients: ${server.url})`);

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log(`Trapped "${signal}" signal`);
      log('Initiating Shutdown...');
      server.close().then(() => {
        log('Server Exiting..');
        resolve(0);
      }, () => resolve(1));
    };
    process.once('SIGINT', () => stop('interrupt'));
    process.once('SIGTERM', () => stop('terminated'));
  });
}

function packageVersion(): string {
  return typeof __PKG_VERSION__ === 'string' ? __PKG_VERSION__ : '0.0.0-dev';
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
