/**
 * TLS on gateway connections between embedded servers (nats-server 2.10 gateway.go
 * createGateway: the TLS handshake comes first on both sides, before any INFO; the INFO says
 * `tls_required` and `tls_verify`; remote gateways without their own `tls` use the block's, and
 * so do gateways learned from an INFO). A certificate of another CA is refused both ways, and
 * `verifyAndMap` makes the certificate name the gateway user (auth.go isGatewayAuthorized).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { readFileSync } from 'node:fs';
import type { NatsServer, ServerOptions, TlsOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { TestPki, type CertFiles } from '../helpers/certs.js';

const scope = useScope('file');
let pki: TestPki;
let other: TestPki;
let a: NatsServer;
let b: NatsServer;
const bLog: string[] = [];

function tlsOf(p: TestPki, files: CertFiles, extra: Partial<TlsOptions> = {}): TlsOptions {
  return { cert: files.cert, key: files.key, ca: p.ca, verify: true, ...extra };
}

function logger(lines: string[]): NonNullable<ServerOptions['logger']> {
  const none = (): void => undefined;
  return { info: none, warn: none, error: (m) => void lines.push(m) };
}

function gatewayPort(s: NatsServer): number {
  return Number(new URL(s.gatewayUrl!).port);
}

beforeAll(async () => {
  pki = new TestPki();
  other = new TestPki();
  b = await scope.server({ logger: logger(bLog), gateway: { name: 'B', reconnectDelay: 50, tls: tlsOf(pki, pki.server) } });
  // A names B with a tls:// URL; B dials A back (an implicit gateway) with its own block's TLS.
  a = await scope.server({ gateway: { name: 'A', reconnectDelay: 50, tls: tlsOf(pki, pki.server), gateways: [{ name: 'B', url: `tls://127.0.0.1:${gatewayPort(b)}` }] } });
  await eventually(() => a.gateways().outbound.includes('B') && b.gateways().outbound.includes('A'), 'A and B linked both ways', 5000);
});

afterAll(() => {
  pki?.remove();
  other?.remove();
});

describe('gateway TLS', () => {
  it('starts with the handshake; the INFO that follows says tls_required and tls_verify', async () => {
    const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: gatewayPort(b), ca: readFileSync(pki.ca), cert: readFileSync(pki.server.cert), key: readFileSync(pki.server.key), servername: 'localhost' });
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        const end = buf.indexOf('\r\n');
        if (end < 0) return;
        s.destroy();
        resolve(JSON.parse(buf.slice(5, end)) as Record<string, unknown>);
      });
      s.once('error', reject);
    });
    expect(info).toMatchObject({ gateway: 'B', tls_required: true, tls_verify: true });
  });

  it('sends nothing in plain text, and closes a connection that does not start the handshake within the TLS timeout', async () => {
    const lines: string[] = [];
    const quick = await scope.server({ logger: logger(lines), gateway: { name: 'Q', tls: tlsOf(pki, pki.server, { timeout: 150 }) } });
    const s = netConnect(gatewayPort(quick), '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => void (got += d.toString('latin1')));
    const started = Date.now();
    await new Promise<void>((resolve) => s.once('close', () => resolve()));
    expect(got).toBe('');
    expect(Date.now() - started).toBeLessThan(1500);
    expect(lines.some((l) => l.includes('TLS gateway handshake timeout'))).toBe(true);
  });

  it('carries messages both ways', async () => {
    const ca = await scope.client(a);
    const cb = await scope.client(b);
    ca.subscribe('to.a', { callback: (_e, m) => void m.respond(`a:${m.string()}`) });
    cb.subscribe('to.b', { callback: (_e, m) => void m.respond(`b:${m.string()}`) });
    await Promise.all([ca.flush(), cb.flush()]);
    await eventually(async () => (await cb.request('to.a', 'x', { timeout: 300 }).then((m) => m.string(), () => '')) === 'a:x', 'B to A', 5000);
    expect((await ca.request('to.b', 'y', { timeout: 2000 })).string()).toBe('b:y');
  });

  it('refuses a gateway whose certificate another CA signed, and a gateway certificate of a CA it does not trust', async () => {
    // C trusts B's CA, but its own certificate is another CA's: B's verify refuses it.
    const c = await scope.server({ gateway: { name: 'C', reconnectDelay: 50, gateways: [{ name: 'B', url: b.gatewayUrl!, tls: { ...tlsOf(other, other.server), ca: pki.ca } }] } });
    // D trusts only the other CA: it refuses B's certificate.
    const dLog: string[] = [];
    const d = await scope.server({ logger: logger(dLog), gateway: { name: 'D', reconnectDelay: 50, gateways: [{ name: 'B', url: b.gatewayUrl!, tls: tlsOf(other, other.server) }] } });
    await eventually(() => bLog.some((l) => l.includes('TLS gateway handshake error')), 'B refuses C\'s certificate', 3000);
    await eventually(() => dLog.some((l) => l.includes('TLS gateway handshake error')), 'D refuses B\'s certificate', 3000);
    expect(c.gateways().outbound).toEqual([]);
    expect(d.gateways().outbound).toEqual([]);
    expect(b.gateways().inbound.filter((n) => n === 'C' || n === 'D')).toEqual([]);
  });

  it('verifyAndMap: an inbound gateway\'s certificate must name the gateway user', async () => {
    const named = pki.issue('/CN=gw', 'DNS:gwuser,DNS:localhost,IP:127.0.0.1');
    const hubLog: string[] = [];
    const hub = await scope.server({
      logger: logger(hubLog),
      gateway: { name: 'H', reconnectDelay: 50, authorization: { user: 'gwuser', password: 'unused' }, tls: tlsOf(pki, pki.server, { verifyAndMap: true }) },
    });
    // The server certificate names no gateway user: refused after the handshake.
    const stranger = await scope.server({ gateway: { name: 'S', reconnectDelay: 50, gateways: [{ name: 'H', url: hub.gatewayUrl!, tls: tlsOf(pki, pki.server) }] } });
    const ok = await scope.server({ gateway: { name: 'M', reconnectDelay: 50, gateways: [{ name: 'H', url: hub.gatewayUrl!, tls: tlsOf(pki, named) }] } });
    await eventually(() => hub.gateways().inbound.includes('M'), 'the mapped gateway accepted', 5000);
    expect(hub.gateways().inbound).not.toContain('S');
    expect(stranger.gateways().outbound).toEqual([]);
    expect(ok.gateways().outbound).toEqual(['H']);
  });
});
