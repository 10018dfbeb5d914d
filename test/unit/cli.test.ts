import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeOptions, parseArgs } from '../../src/cli/args.js';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { ConfigError } from '../../src/errors.js';

describe('CLI flags', () => {
  it('parses nats-server spellings', () => {
    expect(parseArgs(['-p', '5222', '-a', '127.0.0.1']).options).toEqual({ port: 5222, host: '127.0.0.1' });
    expect(parseArgs(['--port=-1', '--addr', '::1']).options).toEqual({ port: -1, host: '::1' });
    expect(parseArgs(['-port', '1', '--net=0.0.0.0', '-n', 'a', '-m', '8222']).options).toEqual({
      port: 1, host: '0.0.0.0', serverName: 'a', http: 8222,
    });
    const a = parseArgs(['-c', 'x.conf', '-l', 'log.txt', '-T=false', '-DV', '-P', 'p.pid', '--ports_file_dir', '/tmp']);
    expect(a.configFile).toBe('x.conf');
    expect(a.process).toEqual({ logFile: 'log.txt', logtime: false, debug: true, trace: true, pidFile: 'p.pid', portsFileDir: '/tmp' });
    const c = parseArgs(['--cluster', 'nats://127.0.0.1:6222', '--cluster_name', 'C', '--routes', 'nats-route://a:1, nats-route://b:2', '--no_advertise', '--connect_retries', '3']);
    // A cluster URL without credentials clears the file's route credentials (overrideCluster).
    expect(c.cluster).toEqual({ host: '127.0.0.1', port: 6222, name: 'C', routes: ['nats-route://a:1', 'nats-route://b:2'], noAdvertise: true, connectRetries: 3, authorization: {} });
    expect(parseArgs(['--user', 'u', '--pass', 'p']).options).toEqual({ authorization: { user: 'u', password: 'p' } });
    expect(parseArgs(['--auth', 'tok']).options).toEqual({ authorization: { token: 'tok' } });
    expect(parseArgs(['--logtime_utc']).process).toEqual({ logtimeUtc: true });
    expect(parseArgs(['-D']).process).toEqual({ debug: true });
    expect(parseArgs(['-V']).process).toEqual({ trace: true });
    expect(parseArgs(['-t', '-c', 'a.conf']).checkConfig).toBe(true);
    expect(parseArgs(['-h']).help).toBe(true);
    expect(parseArgs(['--version']).version).toBe(true);
  });

  it('names the offending flag', () => {
    const cases: Array<[string[], string, RegExp]> = [
      [['-p', 'abc'], '-p', /port number/],
      [['-p', '70000'], '-p', /between/],
      [['--port'], '--port', /needs a value/],
      [['--bogus'], '--bogus', /unknown flag/],
      [['--profile', '1'], '--profile', /not supported.*profiling/],
      [['-sd', ''], '-sd', /must not be empty/],
      [['--tls'], '--tls', /needs --tlscert/],
      [['-D=maybe'], '-D=maybe', /invalid boolean/],
      [['stray'], 'stray', /unexpected/],
    ];
    for (const [argv, option, reason] of cases) {
      let err: unknown;
      try {
        parseArgs(argv);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).option).toBe(option);
      expect((err as ConfigError).message).toMatch(reason);
    }
  });
});

describe('CLI JetStream flags over the config file (nats-server precedence)', () => {
  const merged = (argv: string[], conf?: string) =>
    mergeOptions(conf === undefined ? null : optionsFromConf(parseConf(conf, 't.conf', {})), parseArgs(argv)).options.jetstream;
  const defaultDir = join(tmpdir(), 'nats-embedded');

  it('-js turns JetStream on, with streams under the temporary directory unless -sd names one', () => {
    expect(merged([])).toBeUndefined();
    expect(merged(['-js'])).toEqual({ enabled: true, storeDir: defaultDir });
    expect(merged(['--jetstream', '-sd', '/data'])).toEqual({ enabled: true, storeDir: '/data' });
    expect(merged(['--store_dir=/data'])).toEqual({ enabled: false, storeDir: '/data' });
  });

  it('-js adds to the file, -js=false does not turn the file\'s JetStream off, -sd replaces its store_dir', () => {
    expect(merged(['-js'], 'jetstream { max_mem: "1M" }')).toEqual({ enabled: true, maxMemory: 1024 * 1024, storeDir: defaultDir });
    expect(merged(['-js=false'], 'jetstream: enabled')).toEqual({ enabled: true, storeDir: defaultDir });
    expect(merged(['-js'], 'store_dir: /a')).toEqual({ enabled: true, storeDir: '/a' });
    expect(merged(['-sd', '/b'], 'jetstream { store_dir: /a }')).toEqual({ enabled: true, storeDir: '/b' });
    expect(merged([], 'store_dir: /a')).toEqual({ enabled: false, storeDir: '/a' });
  });
});

describe('--cluster with credentials (nats-server overrideCluster)', () => {
  const merged = (conf: string | null, argv: string[]) =>
    mergeOptions(conf === null ? null : optionsFromConf(parseConf(conf, 't.conf', {})), parseArgs(argv)).options.cluster;

  it('takes the URL\'s user and password as the route credentials', () => {
    expect(parseArgs(['--cluster', 'nats://ru:r%40p@127.0.0.1:6222']).cluster.authorization).toEqual({ user: 'ru', password: 'r@p' });
  });

  it('refuses a user without a password in nats-server\'s words', () => {
    expect(() => parseArgs(['--cluster', 'nats://ru@127.0.0.1:6222'])).toThrow(/expected cluster password to be set/);
  });

  it('replaces (or clears) the file\'s credentials and keeps its auth timeout', () => {
    const conf = 'cluster { authorization { user: f, password: fp, timeout: 3 } }';
    expect(merged(conf, ['--cluster', 'nats://a:b@127.0.0.1:6222'])?.authorization).toEqual({ user: 'a', password: 'b', timeout: 3000 });
    expect(merged(conf, ['--cluster', 'nats://127.0.0.1:6222'])?.authorization).toEqual({ timeout: 3000 });
    expect(merged(conf, [])?.authorization).toEqual({ user: 'f', password: 'fp', timeout: 3000 });
  });
});
