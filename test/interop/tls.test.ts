/**
 * TLS for clients and routes. Certificates are generated at run time with the machine's
 * openssl (no private key is committed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { type ServerOptions } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { relay } from '../helpers/relay.js';

let dir = '';
const file = (name: string): string => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, all signed by the CA. */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nats-tls-'));
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=test-ca');
  writeFileSync(file('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const name of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file(`${name}.pem`), '-days', '1', '-extfile', file('ext.cnf'));
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const scope = useScope();
const { server, defer } = scope;


const tlsServer = (): ServerOptions['tls'] => ({ cert: file('server.pem'), key: file('server.key') });

describe('TLS for clients', () => {
  it('INFO says tls_required; the official client upgrades and works; PEM text works as well as paths', async () => {
    const s = await server({ tls: { cert: readFileSync(file('server.pem'), 'utf8'), key: file('server.key') } });
    expect(s.info.tls_required).toBe(true);
    expect(s.info.tls_verify).toBeUndefined();
    const nc = await scope.client(s.url, { tls: { caFile: file('ca.pem') } });
    const sub = nc.subscribe('secure', { max: 1 });
    nc.publish('secure', 'over tls');
    for await (const m of sub) expect(m.string()).toBe('over tls');
  });

  it('a plaintext client gets the INFO, then is closed: at once when it speaks, or after the TLS timeout', async () => {
    const s = await server({ tls: { ...tlsServer()!, timeout: 200 } });
    const talker = await WireClient.open(s.port);
    defer(() => talker.close());
    expect(talker.info.tls_required).toBe(true);
    talker.send('CONNECT {}\r\nPING\r\n');
    await talker.expectClose();
    const idle = await WireClient.open(s.port);
    defer(() => idle.close());
    await idle.expectClose(5000);
  });

  it('verify: clients need a certificate signed by the CA', async () => {
    const s = await server({ tls: { ...tlsServer()!, ca: file('ca.pem'), verify: true } });
    expect(s.info.tls_verify).toBe(true);
    const ok = await scope.client(s.url, { tls: { caFile: file('ca.pem'), certFile: file('client.pem'), keyFile: file('client.key') } });
    await ok.flush();
    const err = await connect({ servers: s.url, reconnect: false, timeout: 2000, tls: { caFile: file('ca.pem') } }).then(
      async (nc) => {
        await nc.close();
        return null;
      },
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
  });

  it('authentication over TLS: the right password is accepted, a wrong one refused', async () => {
    const s = await server({ tls: tlsServer(), authorization: { user: 'u', password: 'p' } });
    const nc = await scope.client(s.url, { user: 'u', pass: 'p', tls: { caFile: file('ca.pem') } });
    nc.subscribe('secure.echo', { callback: (_e, m) => void m.respond(m.data) });
    const reply = await nc.request('secure.echo', 'over tls', { timeout: 2000 });
    expect(reply.string()).toBe('over tls');
    const refusedErr = await connect({ servers: s.url, user: 'u', pass: 'wrong', reconnect: false, tls: { caFile: file('ca.pem') } }).then(
      async (c) => {
        await c.close();
        return null;
      },
      (e: Error) => e,
    );
    expect(refusedErr).toBeInstanceOf(Error);
    expect(String(refusedErr)).toMatch(/authorization violation/i);
  });
});

describe('allowNonTls (nats-server allow_non_tls)', () => {
  it('INFO says tls_available; a plain-text client and a TLS client both connect and share subjects', async () => {
    const s = await server({ tls: tlsServer(), allowNonTls: true });
    expect(s.info.tls_available).toBe(true);
    expect(s.info.tls_required).toBeUndefined();
    // Raw socket: INFO, then plain CONNECT/PING are served without any handshake.
    const wire = await WireClient.open(s.port);
    defer(() => wire.close());
    expect(wire.info).toMatchObject({ tls_available: true });
    expect(wire.info.tls_required).toBeUndefined();
    wire.send('CONNECT {"verbose":false}\r\nSUB mixed 1\r\nPING\r\n');
    await wire.expect('PONG\r\n');
    // The official client with TLS options upgrades (it sees tls_available), and publishes.
    const secure = await scope.client(s.url, { tls: { caFile: file('ca.pem') } });
    const plain = await scope.client(s.url, { tls: null });
    const got: string[] = [];
    plain.subscribe('mixed', { callback: (_e, m) => void got.push(m.string()) });
    await plain.flush();
    secure.publish('mixed', 'from tls');
    await secure.flush();
    await wire.expect('MSG mixed 1 8\r\nfrom tls\r\n');
    await plain.flush();
    expect(got).toEqual(['from tls']);
    const tlsConns = s.connections().length;
    expect(tlsConns).toBe(3);
  });
});

describe('TLS on routes', () => {
  it('two servers route over TLS with verified certificates; messages cross', async () => {
    const tls = { cert: file('server.pem'), key: file('server.key'), ca: file('ca.pem'), verify: true };
    const a = await server({ serverName: 'a', cluster: { name: 'T', tls } });
    const b = await server({ serverName: 'b', cluster: { name: 'T', tls, routes: [a.routeUrl!] } });
    const nb = await scope.client(b.url);
    const got: string[] = [];
    nb.subscribe('cross', { callback: (_e, m) => void got.push(m.string()) });
    await nb.flush();
    await a.waitForSubscription('cross');
    expect(a.routes().map((r) => r.name)).toEqual(['b']);
    const na = await scope.client(a.url);
    na.publish('cross', 'via tls route');
    await na.flush();
    await eventually(() => got.length > 0, 'the message across the route');
    expect(got).toEqual(['via tls route']);
  });

  it('a plaintext route to a TLS route port does not come up', async () => {
    const a = await server({ serverName: 'a', cluster: { name: 'T', tls: { cert: file('server.pem'), key: file('server.key'), timeout: 200 } } });
    // b dials a through a relay, so that the end of each failed attempt can be awaited.
    const toA = await relay(a.clusterPort);
    defer(() => toA.close());
    const changes: string[] = [];
    a.on('routesChanged', () => void changes.push('a'));
    const b = await server({ serverName: 'b', cluster: { name: 'T', routes: [`nats-route://127.0.0.1:${toA.port}`], reconnectDelay: 50 } });
    b.on('routesChanged', () => void changes.push('b'));
    await eventually(() => toA.ended >= 2, 'two route attempts (the first and a retry) to end');
    expect(a.routes()).toEqual([]);
    expect(b.routes()).toEqual([]);
    expect(changes).toEqual([]); // no route came up, even for a moment
  });
});
