/**
 * `cluster { authorization }` as configuration: read from a config file, given to
 * `createServer()`, resolved with nats-server's defaults, refused where nats-server refuses it
 * (server/opts.go parseCluster: no tokens, no users lists), and written back for the
 * nats-server backend. The same refusals are compared with the real binary in
 * test/conformance/route-auth-interop.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { resolveOptions } from '../../src/config/options.js';
import { natsServerConfig } from '../../src/config/to-conf.js';
import { configErrorOf } from '../helpers/errors.js';

const map = (text: string) => optionsFromConf(parseConf(text, 'test.conf', {}));

describe('cluster authorization in a config file', () => {
  it('reads user, password (with their aliases) and timeout in seconds', () => {
    expect(map('cluster { port: 1, authorization { username: r, pass: "s3cret", timeout: 0.5 } }').options).toEqual({
      cluster: { port: 1, authorization: { user: 'r', password: 's3cret', timeout: 500 } },
    });
  });

  it('refuses tokens and users lists in nats-server\'s words, at the block', () => {
    expect(configErrorOf(() => map('cluster {\n  authorization { token: t }\n}')).message)
      .toBe('Invalid option "cluster.authorization": test.conf:2:3: Cluster authorization does not support tokens');
    expect(configErrorOf(() => map('cluster { authorization { user: a, password: b, token: t } }')).message)
      .toMatch(/Cluster authorization does not support tokens$/);
    expect(configErrorOf(() => map('cluster { authorization { users: [ { user: a, password: b } ] } }')).message)
      .toMatch(/Cluster authorization does not allow multiple users$/);
  });

  it('refuses route permissions given inside the block (not supported yet) rather than ignoring them', () => {
    expect(configErrorOf(() => map('cluster { authorization { user: a, password: b, permissions: { import: x } } }')).message)
      .toMatch(/not supported by nats-embedded yet/);
  });
});

describe('cluster authorization as createServer() options', () => {
  it("reads a route URL's escaped credentials, and refuses a malformed escape as a config error (url.Parse refuses it)", () => {
    expect(resolveOptions({ cluster: { routes: ['nats-route://u:p%40ss@127.0.0.1:7001'] } }).cluster?.routes[0]).toMatchObject({ user: 'u', pass: 'p@ss' });
    expect(configErrorOf(() => resolveOptions({ cluster: { routes: ['nats-route://u%zz:p@127.0.0.1:7001'] } })).message).toMatch(/invalid escape/);
    expect(configErrorOf(() => resolveOptions({ cluster: { routes: ['nats-route://u:p%@127.0.0.1:7001'] } })).message).toMatch(/invalid escape/);
  });

  it('resolves user and password; the timeout defaults to 2 s, or the route TLS timeout + 1 s', () => {
    const o = resolveOptions({ cluster: { authorization: { user: 'r', password: 'p' } } });
    expect(o.cluster?.authorization).toEqual({ user: 'r', password: 'p' });
    expect(o.cluster?.authTimeoutMs).toBe(2000);
    expect(resolveOptions({ cluster: { authorization: { user: 'r', password: 'p', timeout: '750ms' } } }).cluster?.authTimeoutMs).toBe(750);
    expect(resolveOptions({ cluster: {} }).cluster).toMatchObject({ authorization: null, authTimeoutMs: 2000 });
    // With route TLS: its handshake timeout + 1 s (getDefaultAuthTimeout).
    const tls = { cert: '-----BEGIN CERTIFICATE-----', key: '-----BEGIN PRIVATE KEY-----', timeout: 3000 };
    expect(resolveOptions({ cluster: { tls, authorization: { user: 'r', password: 'p' } } }).cluster?.authTimeoutMs).toBe(4000);
  });

  it('treats an empty or absent user as no route authentication, as nats-server does', () => {
    expect(resolveOptions({ cluster: { authorization: { password: 'p' } } }).cluster?.authorization).toBeNull();
    expect(resolveOptions({ cluster: { authorization: { user: '', password: 'p' } } }).cluster?.authorization).toBeNull();
  });

  it('refuses a token, a users list and unknown keys', () => {
    const token = { cluster: { authorization: { user: 'r', password: 'p', token: 't' } } };
    expect(configErrorOf(() => resolveOptions(token as never)).message)
      .toBe('Invalid option "cluster.authorization.token": Cluster authorization does not support tokens');
    const users = { cluster: { authorization: { users: [{ user: 'a' }] } } };
    expect(configErrorOf(() => resolveOptions(users as never)).message).toMatch(/Cluster authorization does not allow multiple users$/);
    const typo = { cluster: { authorization: { usr: 'a' } } };
    expect(configErrorOf(() => resolveOptions(typo as never)).option).toBe('cluster.authorization.usr');
    expect(configErrorOf(() => resolveOptions({ cluster: { authorization: { user: 1 as never } } })).option).toBe('cluster.authorization.user');
  });

  it('is written into the nats-server backend\'s config, with the timeout in seconds', () => {
    const o = resolveOptions({ cluster: { authorization: { user: 'r u', password: 'p"q', timeout: 1500 } } });
    const conf = natsServerConfig(o, { client: 4222, http: 8222, cluster: 6222 });
    expect(conf).toContain('  authorization { user: "r u", password: "p\\"q", timeout: 1.5 }');
    // And read back as the same options.
    const back = map(conf).options.cluster;
    expect(back?.authorization).toEqual({ user: 'r u', password: 'p"q', timeout: 1500 });
    expect(natsServerConfig(resolveOptions({ cluster: {} }), { client: 4222, http: 8222, cluster: 6222 })).not.toContain('authorization');
  });
});
