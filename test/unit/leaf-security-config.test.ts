/**
 * TLS and nkeys of leaf connections in the options and the config file (nats-server 2.10 opts.go
 * parseLeafNodes, parseLeafAuthorization, parseRemoteLeafNodes, parseTLS with `handshake_first`,
 * leafnode.go validateLeafNodeAuthOptions), and what the nats-server backend writes for them
 * (to-conf.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { resolveOptions } from '../../src/config/options.js';
import { parseLeafUrl } from '../../src/config/resolve-leaf.js';
import { natsServerConfig } from '../../src/config/to-conf.js';
import { configErrorOf } from '../helpers/errors.js';
import { TestPki } from '../helpers/certs.js';
import { createUser } from '@nats-io/nkeys';

const fromConf = (text: string) => optionsFromConf(parseConf(text, 'leaf.conf', {}));
let pki: TestPki;
beforeAll(() => {
  pki = new TestPki();
});
afterAll(() => pki.remove());

describe('leaf node TLS options', () => {
  it('reads leafnodes.tls (with handshake_first and its aliases) and remotes[].tls (no certificate needed, insecure)', () => {
    const r = fromConf(`leafnodes {
      port: 7422
      tls { cert_file: c.pem, key_file: k.pem, ca_file: ca.pem, verify: true, timeout: 3, handshake_first: true }
      remotes: [
        { url: "tls://h:7422", tls { ca_file: ca.pem, insecure: true, first: "auto" } },
        { url: "wss://h:443", tls { cert_file: lc.pem, key_file: lk.pem, verify: true } }
      ]
    }`);
    expect(r.options.leafnodes).toEqual({
      port: 7422,
      tls: { cert: 'c.pem', key: 'k.pem', ca: 'ca.pem', verify: true, timeout: 3000, handshakeFirst: true },
      remotes: [
        { url: 'tls://h:7422', tls: { ca: 'ca.pem', insecure: true, handshakeFirst: true } },
        { url: 'wss://h:443', tls: { cert: 'lc.pem', key: 'lk.pem' } },
      ],
    });
    // `verify` means nothing on a dialling side: warned about and left out.
    expect(r.warnings).toHaveLength(1);
    expect(fromConf('leafnodes { port: 1, tls { cert_file: c, key_file: k, immediate: "off" } }').options.leafnodes?.tls?.handshakeFirst).toBe(false);
  });

  it('refuses a listener tls without a certificate and a bad handshake_first; verify_and_map turns verify on', () => {
    expect(configErrorOf(() => fromConf('leafnodes { port: 1, tls { ca_file: ca } }')).message).toMatch(/needs cert_file and key_file/);
    expect(fromConf('leafnodes { port: 1, tls { cert_file: c, key_file: k, verify_and_map: true } }').options.leafnodes?.tls).toMatchObject({ verify: true, verifyAndMap: true });
    expect(configErrorOf(() => fromConf('leafnodes { port: 1, tls { cert_file: c, key_file: k, handshake_first: "maybe" } }')).message).toMatch(/handshake_first.*invalid/);
    expect(configErrorOf(() => resolveOptions({ leafnodes: { remotes: [{ url: 'h:1', tls: { cert: pki.server.cert } }] } })).option).toBe('leafnodes.remotes[0].tls');
  });

  it('resolves the PEM files, defaults (2 s timeouts) and URL schemes: tls:// is a plain URL, wss:// a websocket over TLS, 7422 the default port', () => {
    const o = resolveOptions({
      leafnodes: { port: 0, tls: { cert: pki.server.cert, key: pki.server.key }, remotes: [{ urls: ['tls://localhost', 'wss://127.0.0.1'], tls: { ca: pki.ca } }] },
    });
    const l = o.leafnodes!;
    expect(l.tls).toMatchObject({ ca: null, verify: false, timeoutMs: 2000, handshakeFirst: false });
    expect(l.tls!.cert).toContain('BEGIN CERTIFICATE');
    expect(l.remotes[0].tls).toMatchObject({ cert: null, key: null, insecure: false, timeoutMs: 2000, handshakeFirst: false });
    expect(l.remotes[0].tls!.ca).toContain('BEGIN CERTIFICATE');
    expect(l.remotes[0].urls.map((u) => [u.url, u.ws, u.wss])).toEqual([['nats-leaf://localhost:7422', false, false], ['wss://127.0.0.1:7422', true, true]]);
    expect(parseLeafUrl('ws://h', 'x')).toMatchObject({ port: 7422, ws: true, wss: false });
  });

  it('the nats-server backend writes the tls blocks with the PEM texts in files', () => {
    const o = resolveOptions({
      leafnodes: {
        port: 0,
        tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, verify: true, timeout: 1500 },
        remotes: [{ url: 'wss://h:1', tls: { ca: pki.ca, insecure: true, handshakeFirst: true } }],
      },
    });
    const files: Record<string, string> = {};
    const text = natsServerConfig(o, { client: 1, http: 2, cluster: 3, leaf: 4, pemFile: (name, pem) => {
      files[name] = pem;
      return `/d/${name}`;
    } });
    expect(text).toContain([
      '  tls {',
      '    cert_file: "/d/leaf-cert.pem"',
      '    key_file: "/d/leaf-key.pem"',
      '    ca_file: "/d/leaf-ca.pem"',
      '    verify: true',
      '    timeout: 1.5',
      '  }',
      '  remotes: [',
      '    { urls: ["wss://h:1"]',
      '      tls {',
      '        ca_file: "/d/leaf-remote-0-ca.pem"',
      '        insecure: true',
      '        timeout: 2',
      '        handshake_first: true',
      '      }',
      '    }',
      '  ]',
    ].join('\n'));
    expect(Object.keys(files).sort()).toEqual(['leaf-ca.pem', 'leaf-cert.pem', 'leaf-key.pem', 'leaf-remote-0-ca.pem']);
    expect(files['leaf-key.pem']).toContain('PRIVATE KEY');
  });
});

describe('leaf node nkeys', () => {
  const kp = createUser();
  const pub = kp.getPublicKey();
  const seed = new TextDecoder().decode(kp.getSeed());

  it('reads authorization.nkey and a remote\'s nkey (alias seed), and writes them back', () => {
    const r = fromConf(`leafnodes { port: 1, authorization { nkey: ${pub}, account: "$G" }, remotes: [{ url: "h:1", seed: ${seed} }] }`);
    expect(r.options.leafnodes).toEqual({ port: 1, authorization: { nkey: pub, account: '$G' }, remotes: [{ url: 'h:1', nkey: seed }] });
    const o = resolveOptions(r.options);
    expect(o.leafnodes?.authorization?.nkey).toBe(pub);
    expect(o.leafnodes?.remotes[0].nkey).toBe(seed);
    const text = natsServerConfig(o, { client: 1, http: 2, cluster: 3, leaf: 4 });
    expect(text).toContain(`    nkey: "${pub}"`);
    expect(text).toContain(`{ urls: ["nats-leaf://h:1"], nkey: "${seed}" }`);
  });

  it('refuses what nats-server refuses: a bad public key, a bad seed, nkey with users, nkey with credentials', () => {
    expect(configErrorOf(() => resolveOptions({ leafnodes: { port: 0, authorization: { nkey: 'UBAD' } } })).message).toMatch(/Not a valid public nkey for leafnode authorization/);
    expect(configErrorOf(() => resolveOptions({ leafnodes: { port: 0, authorization: { nkey: seed } } })).message).toMatch(/Not a valid public nkey/);
    expect(configErrorOf(() => resolveOptions({ leafnodes: { port: 0, authorization: { nkey: pub, users: [{ user: 'u' }] } } })).message).toMatch(/can not have a single nkey and a users array/);
    expect(configErrorOf(() => resolveOptions({ leafnodes: { remotes: [{ url: 'h:1', nkey: pub }] } })).message).toMatch(/Remote leafnode nkey is not a valid seed/);
    expect(configErrorOf(() => resolveOptions({ leafnodes: { remotes: [{ url: 'h:1', nkey: seed, credentials: '/x.creds' }] } })).message).toMatch(/can not have both creds and nkey/);
  });
});
