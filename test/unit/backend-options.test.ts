/**
 * `backend: 'nats-server'` without a process: the option and its environment variable, and
 * the configuration file written for nats-server. (The process itself: test/backend/.)
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/index.js';
import { resolveOptions } from '../../src/config/options.js';
import { natsServerConfig } from '../../src/config/to-conf.js';
import { useScope } from '../helpers/scope.js';
import { thrown } from '../helpers/errors.js';

const scope = useScope();


describe('the backend option', () => {
  it('defaults to embedded, and NATS_EMBEDDED_BACKEND picks the default', () => {
    scope.env('NATS_EMBEDDED_BACKEND', undefined);
    expect(resolveOptions({}).backend).toBe('embedded');
    scope.env('NATS_EMBEDDED_BACKEND', '');
    expect(resolveOptions({}).backend).toBe('embedded');
    scope.env('NATS_EMBEDDED_BACKEND', 'nats-server');
    expect(resolveOptions({}).backend).toBe('nats-server');
    expect(resolveOptions({ backend: 'embedded' }).backend).toBe('embedded');
  });

  it('rejects other values with a ConfigError naming backend', () => {
    const e = thrown(() => resolveOptions({ backend: 'docker' as 'embedded' }));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).option).toBe('backend');
    expect((e as ConfigError).message).toBe('Invalid option "backend": must be "embedded" or "nats-server", got "docker"');
    scope.env('NATS_EMBEDDED_BACKEND', 'real');
    const env = thrown(() => resolveOptions({}));
    expect((env as ConfigError).option).toBe('backend');
    expect((env as ConfigError).message).toMatch(/NATS_EMBEDDED_BACKEND must be "embedded" or "nats-server", got "real"/);
  });
});

describe('the configuration written for nats-server', () => {
  it('carries every option, durations in Go syntax, lame duck duration raised to 30 s', () => {
    const o = resolveOptions({
      host: '::1', serverName: 'n1', maxPayload: 2048, maxControlLine: 512, maxPending: 65536,
      pingInterval: '1500ms', maxPingsOut: 3, writeDeadline: 0.5, maxConnections: 10, maxSubscriptions: 5,
      noHeaderSupport: true, lameDuckDuration: 200, lameDuckGracePeriod: '50ms', debug: true,
      cluster: { name: 'C', port: 7000, routes: ['nats-route://u:p%40ss@127.0.0.1:7001'], noAdvertise: true, connectRetries: 2 },
    });
    expect(natsServerConfig(o, { client: -1, http: -1, cluster: 7000 })).toBe([
      '# Written by nats-embedded for backend "nats-server".',
      'listen: "[::1]:-1"',
      'server_name: "n1"',
      'max_payload: 2048',
      'max_control_line: 512',
      'max_pending: 65536',
      'ping_interval: "1500ms"',
      'ping_max: 3',
      'write_deadline: "500000ns"',
      'max_connections: 10',
      'max_subscriptions: 5',
      'no_header_support: true',
      'lame_duck_duration: "30000ms"',
      'lame_duck_grace_period: "50ms"',
      'http: "[::1]:-1"',
      'debug: true',
      'cluster {',
      '  name: "C"',
      '  listen: "[::1]:7000"',
      '  routes: ["nats-route://u:p%40ss@127.0.0.1:7001"]',
      '  no_advertise: true',
      '  connect_retries: 2',
      '}',
      '',
    ].join('\n'));
  });
});
