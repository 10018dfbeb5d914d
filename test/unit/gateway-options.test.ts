/**
 * The `gateway` option: nats-server's validateGatewayOptions rules (a name without spaces,
 * remote gateways with a name and a URL), defaults, and the refusal of the nats-server backend.
 */
import { describe, expect, it } from 'vitest';
import { resolveOptions } from '../../src/config/options.js';
import { configErrorOf } from '../helpers/errors.js';

describe('gateway option', () => {
  it('resolves defaults: the server host, an ephemeral port, 1 s between dials of a configured gateway', () => {
    const g = resolveOptions({ gateway: { name: 'A', gateways: [{ name: 'B', url: 'nats://127.0.0.1:7222' }, { name: 'C', urls: ['h1:1', 'nats://u:p@h2:2'] }] } }).gateway!;
    expect(g).toMatchObject({ name: 'A', host: '127.0.0.1', port: 0, advertise: null, authorization: null, rejectUnknown: false, connectRetries: 0, reconnectDelayMs: 1000 });
    expect(g.gateways.map((r) => [r.name, r.urls.map((u) => `${u.host}:${u.port}`)])).toEqual([['B', ['127.0.0.1:7222']], ['C', ['h1:1', 'h2:2']]]);
    expect(g.gateways[1].urls[1]).toMatchObject({ user: 'u', pass: 'p' });
    expect(resolveOptions({}).gateway).toBeNull();
  });

  it('gives remote gateways without their own tls the block\'s (gateway.go newGateway); the auth timeout follows the TLS timeout', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n';
    const own = { cert: pem, key: pem, timeout: 5000 };
    const g = resolveOptions({
      gateway: { name: 'A', tls: { cert: pem, key: pem, ca: pem, verify: true }, gateways: [{ name: 'B', url: 'tls://h:1' }, { name: 'C', url: 'h:2', tls: own }] },
    }).gateway!;
    expect(g.tls).toMatchObject({ verify: true, map: false, timeoutMs: 2000 });
    expect(g.gateways[0].tls).toBe(g.tls);
    expect(g.gateways[1].tls).toMatchObject({ ca: null, verify: false, timeoutMs: 5000 });
    expect(g.authTimeoutMs).toBe(3000);
    expect(resolveOptions({ gateway: { name: 'A', gateways: [{ name: 'B', url: 'h:1' }] } }).gateway!.gateways[0].tls).toBeNull();
  });

  it('refuses what nats-server refuses', () => {
    expect(configErrorOf(() => resolveOptions({ gateway: { name: '' } })).message).toMatch(/gateway has no name/);
    expect(configErrorOf(() => resolveOptions({ gateway: { name: 'a b' } })).message).toMatch(/cannot contain spaces/);
    expect(configErrorOf(() => resolveOptions({ gateway: { name: 'A', gateways: [{ name: 'B' }] } })).message).toMatch(/gateway "B" has no URL/);
    expect(configErrorOf(() => resolveOptions({ gateway: { name: 'A', gateways: [{ name: '', url: 'h:1' }] } })).message).toMatch(/gateway has no name/);
    expect(configErrorOf(() => resolveOptions({ gateway: { name: 'A', gateways: [{ name: 'B', url: 'h' }] } })).message).toMatch(/needs a port/);
    expect(configErrorOf(() => resolveOptions({ gateway: { name: 'A', authorization: { token: 't' } as never } })).message).toMatch(/does not support tokens/);
  });
});
