/**
 * TLS on leaf connections between embedded servers (nats-server 2.10 leafnode.go createLeafNode,
 * processLeafnodeInfo, leafClientHandshakeIfNeeded): the hub's INFO in plain text with
 * `tls_required` then the leaf node's handshake, client certificates with `verify`, a wrong CA
 * refused, `handshakeFirst`, and `wss://` remotes to a websocket listener with TLS. And nkey
 * authentication (2.10 auth.go isLeafNodeAuthorized, leafnode.go sendLeafConnect): a remote's
 * seed signs the hub's nonce, for `leafnodes.authorization.nkey` or a top-level nkey user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { createUser } from '@nats-io/nkeys';
import type { NatsServer, ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { readInfo } from '../helpers/wire.js';
import { eventually } from '../helpers/eventually.js';
import { TestPki, type CertFiles } from '../helpers/certs.js';

const scope = useScope();
let pki: TestPki;
let other: TestPki;
let leafCert: CertFiles;

beforeAll(() => {
  pki = new TestPki();
  other = new TestPki();
  leafCert = pki.issue('/CN=leaf');
});
afterAll(() => {
  pki.remove();
  other.remove();
});

/** Log lines a server writes at error level. */
function errorLog(): { lines: string[]; logger: NonNullable<ServerOptions['logger']> } {
  const lines: string[] = [];
  const none = (): void => undefined;
  return { lines, logger: { info: none, warn: none, error: (m) => void lines.push(m) } };
}

function hubTls(extra: Record<string, unknown> = {}): NonNullable<NonNullable<ServerOptions['leafnodes']>['tls']> {
  return { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, ...extra };
}

/** A request from the leaf answered on the hub: the connection carries traffic. */
async function roundTrip(hub: NatsServer, leaf: NatsServer): Promise<void> {
  const h = await scope.client(hub);
  h.subscribe('svc', { callback: (_e, m) => void m.respond(`hub:${m.string()}`) });
  await h.flush();
  await leaf.waitForSubscription('svc', { timeoutMs: 3000 });
  const l = await scope.client(leaf);
  expect((await l.request('svc', 'q', { timeout: 2000 })).string()).toBe('hub:q');
}

describe('TLS on leaf connections', () => {
  it('the hub says tls_required/tls_verify in a plain INFO; a leaf node with the CA and a client certificate upgrades and carries traffic', async () => {
    const hub = await scope.server({ leafnodes: { port: 0, tls: hubTls({ verify: true }) } });
    const info = await readInfo(hub.leafnodePort);
    expect(info).toMatchObject({ tls_required: true, tls_verify: true, auth_required: true });
    // Go's field order: tls_required and tls_verify right after auth_required.
    const keys = Object.keys(info);
    expect(keys.slice(keys.indexOf('auth_required'), keys.indexOf('auth_required') + 4)).toEqual(['auth_required', 'tls_required', 'tls_verify', 'max_payload']);
    const leaf = await scope.server({
      leafnodes: { reconnect: 50, remotes: [{ url: `tls://127.0.0.1:${hub.leafnodePort}`, tls: { ca: pki.ca, cert: leafCert.cert, key: leafCert.key } }] },
    });
    await roundTrip(hub, leaf);
  });

  it('without verify, the CA alone is enough; a remote without a tls block upgrades because the hub asks, and checks the hub with the system CAs (refused here)', async () => {
    const hub = await scope.server({ leafnodes: { port: 0, tls: hubTls() } });
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://localhost:${hub.leafnodePort}`, tls: { ca: pki.ca } }] } });
    await roundTrip(hub, leaf);
    const log = errorLog();
    await scope.server({ logger: log.logger, leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl! }] } });
    await eventually(() => log.lines.some((l) => l.includes('TLS leafnode handshake error')), 'the handshake refused', 3000);
    expect(log.lines.find((l) => l.includes('TLS leafnode handshake error'))).toMatch(/certificate/i);
  });

  it('refuses a hub certificate of another CA, and a leaf node without a certificate when the hub verifies', async () => {
    const hub = await scope.server({ leafnodes: { port: 0, tls: hubTls({ verify: true }) } });
    const wrongCa = errorLog();
    await scope.server({ logger: wrongCa.logger, leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, tls: { ca: other.ca, cert: leafCert.cert, key: leafCert.key } }] } });
    await eventually(() => wrongCa.lines.some((l) => l.includes('TLS leafnode handshake error')), 'the wrong CA refused', 3000);
    const hubLog = errorLog();
    const hub2 = await scope.server({ logger: hubLog.logger, leafnodes: { port: 0, tls: hubTls({ verify: true }) } });
    await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub2.leafnodeUrl!, tls: { ca: pki.ca } }] } });
    await eventually(() => hubLog.lines.some((l) => l.includes('TLS leafnode handshake error')), 'the hub refuses a leaf node without a certificate', 3000);
    // The same CA but a certificate of another CA for the leaf: refused by the verifying hub too.
    const stranger = other.issue('/CN=stranger');
    const strangerLog = errorLog();
    const hub3 = await scope.server({ logger: strangerLog.logger, leafnodes: { port: 0, tls: hubTls({ verify: true }) } });
    await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub3.leafnodeUrl!, tls: { ca: pki.ca, cert: stranger.cert, key: stranger.key } }] } });
    await eventually(() => strangerLog.lines.some((l) => l.includes('TLS leafnode handshake error')), 'a certificate of another CA refused', 3000);
  });

  it('handshakeFirst (nats-server 2.10): the handshake comes before the INFO, which goes out over TLS', async () => {
    const hub = await scope.server({ leafnodes: { port: 0, tls: hubTls({ handshakeFirst: true }) } });
    // A TLS client that speaks first gets the INFO inside TLS.
    const line = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: hub.leafnodePort, ca: readFileSync(pki.ca), servername: 'localhost' });
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        if (buf.includes('\r\n')) {
          s.destroy();
          resolve(buf.slice(0, buf.indexOf('\r\n')));
        }
      });
      s.once('error', reject);
    });
    expect(JSON.parse(line.replace(/^INFO /, ''))).toMatchObject({ tls_required: true });
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, tls: { ca: pki.ca, handshakeFirst: true } }] } });
    await roundTrip(hub, leaf);
  });

  it('a wss:// remote reaches the hub through its websocket listener with TLS', async () => {
    const hub = await scope.server({ websocket: { tls: { cert: pki.server.cert, key: pki.server.key } }, leafnodes: { port: 0 } });
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `wss://127.0.0.1:${hub.websocketPort}`, tls: { ca: pki.ca } }] } });
    await roundTrip(hub, leaf);
  });
});

describe('verifyAndMap: a leaf node\'s certificate names its leafnodes.authorization user', () => {
  it('binds a leaf node to the account of the user its certificate names; a certificate naming no user is refused', async () => {
    const hubLog = errorLog();
    const hub = await scope.server({
      logger: hubLog.logger,
      accounts: { A: { users: [{ user: 'a', password: 'pa' }] } },
      leafnodes: { port: 0, tls: hubTls({ verifyAndMap: true }), authorization: { users: [{ user: 'CN=leaf', account: 'A' }] } },
    });
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, tls: { ca: pki.ca, cert: leafCert.cert, key: leafCert.key } }] } });
    const inA = await scope.client(hub, { user: 'a', pass: 'pa' });
    inA.subscribe('svc', { callback: (_e, m) => void m.respond('mapped to A') });
    await inA.flush();
    await leaf.waitForSubscription('svc', { timeoutMs: 3000 });
    expect((await (await scope.client(leaf)).request('svc', '', { timeout: 2000 })).string()).toBe('mapped to A');
    const nobody = pki.issue('/CN=nobody');
    await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, tls: { ca: pki.ca, cert: nobody.cert, key: nobody.key } }] } });
    await eventually(() => hubLog.lines.some((x) => x.endsWith('authentication error')), 'the unnamed certificate refused', 3000);
  });
});

describe('nkey authentication of leaf nodes', () => {
  const user = (): { pub: string; seed: string } => {
    const kp = createUser();
    return { pub: kp.getPublicKey(), seed: new TextDecoder().decode(kp.getSeed()) };
  };
  const accounts = { A: { users: [{ user: 'a', password: 'pa' }] } };

  it('leafnodes.authorization.nkey: the remote\'s seed signs the nonce and binds to the account; another seed, or none, is refused', async () => {
    const k = user();
    const hubLog = errorLog();
    const hub = await scope.server({ logger: hubLog.logger, accounts, leafnodes: { port: 0, authorization: { nkey: k.pub, account: 'A' } } });
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, nkey: k.seed }] } });
    const inA = await scope.client(hub, { user: 'a', pass: 'pa' });
    inA.subscribe('svc', { callback: (_e, m) => void m.respond('A answers') });
    await inA.flush();
    await leaf.waitForSubscription('svc', { timeoutMs: 3000 });
    const l = await scope.client(leaf);
    expect((await l.request('svc', '', { timeout: 2000 })).string()).toBe('A answers');
    expect(hubLog.lines).toEqual([]);
    const wrongLog = errorLog();
    await scope.server({ logger: wrongLog.logger, leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, nkey: user().seed }] } });
    await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl! }] } });
    await eventually(() => hubLog.lines.filter((x) => x.endsWith('authentication error')).length >= 2, 'both refused', 3000);
    await eventually(() => wrongLog.lines.some((x) => x.includes('Authorization Violation')), 'the leaf told', 3000);
  });

  it('without leafnodes.authorization, a top-level nkey user authenticates the leaf node and binds it to its account', async () => {
    const k = user();
    const hub = await scope.server({ accounts: { A: { users: [{ user: 'a', password: 'pa' }, { nkey: k.pub }] } }, leafnodes: { port: 0 } });
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, nkey: k.seed }] } });
    const inA = await scope.client(hub, { user: 'a', pass: 'pa' });
    inA.subscribe('svc', { callback: (_e, m) => void m.respond('A again') });
    await inA.flush();
    await leaf.waitForSubscription('svc', { timeoutMs: 3000 });
    const l = await scope.client(leaf);
    expect((await l.request('svc', '', { timeout: 2000 })).string()).toBe('A again');
  });
});
