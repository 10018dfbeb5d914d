/**
 * Transport security against the real nats-server (issue 19): the same config file, read by
 * both, and the same client attempts, whose answers on the wire must be equal:
 *
 * - `tls { verify_and_map }`: certificates with a DN matching a user in another order, email
 *   and DNS alternative names, DC parts, a subject attribute outside the DN table, an escaped
 *   value, a stranger, none at all; the mapped user's permissions;
 * - `websocket { authorization }`, `websocket { no_auth_user }`, a websocket-only token and
 *   its timeout: INFO's `auth_required` and the answers of websocket clients and TCP clients;
 * - `cluster { tls { verify_and_map } }`: a route between the two forms (each maps the other's
 *   certificate to the cluster user), a stranger's route CONNECT gets the same answer;
 * - `websocket { tls }` (wss) with `verify_and_map`: INFO's TLS fields and the answers;
 * - `/varz` `websocket` of those configs.
 *
 * The binary is 2.9.10: checkClientTLSCertSubject, the ldap DN package, the websocket auth
 * override (wsConfigAuth, createWSClient) and parseWebsocket are the same in 2.10.29 (compared
 * in the mirror). Run by `npm run test:conformance` (NATS_SERVER_BIN).
 */
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { TestPki, tlsAttempt, wsAttempt, type CertFiles } from '../helpers/certs.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope();
let pki: TestPki;

beforeAll(() => {
  pki = new TestPki();
});
afterAll(() => pki.remove());

interface Pair {
  /** Client ports (TLS or not), websocket ports and monitoring URLs: [real, embedded]. */
  readonly ports: [number, number];
  readonly ws: [number, number];
  readonly http: [string, string];
}

/**
 * Starts the real server and the embedded one on the same config lines; `{port}`, `{ws}` and
 * `{http}` in them stand for the listen addresses.
 */
async function pair(lines: readonly string[]): Promise<Pair> {
  const [port, ws, http] = [await freePort(), await freePort(), await freePort()];
  const fill = (p: string, w: string, h: string): string[] => lines.map((l) => l.replace('{port}', p).replace('{ws}', w).replace('{http}', h));
  const real = await startRealServer(BIN, fill(`127.0.0.1:${port}`, `127.0.0.1:${ws}`, `127.0.0.1:${http}`));
  scope.defer(() => real.stop());
  const { options } = optionsFromConf(parseConf(fill('127.0.0.1:-1', '127.0.0.1:-1', '127.0.0.1:-1').join('\n'), 'same.conf', {}));
  const s = await scope.server(options);
  return { ports: [port, s.port], ws: [ws, s.websocketPort], http: [`http://127.0.0.1:${http}`, s.monitorUrl!] };
}

const tlsBlock = (extra: string): string =>
  `tls { cert_file: "${pki.server.cert}", key_file: "${pki.server.key}", ca_file: "${pki.ca}"${extra === '' ? '' : `, ${extra}`} }`;

/** The INFO fields about auth and TLS (the rest differs by design: ids, versions, ports). */
function securityFields(info: Record<string, unknown> | null): Record<string, unknown> | null {
  if (info === null) return null;
  const pick: Record<string, unknown> = {};
  for (const k of ['auth_required', 'tls_required', 'tls_verify', 'tls_available']) if (info[k] !== undefined) pick[k] = info[k];
  return pick;
}

async function varzWebsocket(url: string): Promise<Record<string, unknown>> {
  const v = (await (await fetch(`${url}/varz`)).json()) as { websocket: Record<string, unknown> };
  const { port: _p, host: _h, ...rest } = v.websocket;
  return rest;
}

const VIOLATION = "-ERR 'Authorization Violation'\r\n";
const CONNECT = (fields: Record<string, unknown> = {}): string => `CONNECT ${JSON.stringify({ verbose: false, ...fields })}\r\nPING\r\n`;

describe.skipIf(BIN === '')('verify_and_map and websocket auth: the same answers as nats-server', () => {
  it('tls { verify_and_map }: each certificate maps (or not) to the same user', async () => {
    const certs = {
      alice: pki.issue('/C=US/O=Acme/OU=eng/CN=alice'),
      email: pki.issue('/CN=svc', 'email:svc@example.com,DNS:other.example.com'),
      dns: pki.issue('/CN=web', 'DNS:web.example.com'),
      dc: pki.issue('/DC=org/DC=example/CN=dc'),
      dcMail: pki.issue('/DC=org/DC=example/CN=dc2/emailAddress=dc2@example.com'),
      carol: pki.issue('/CN=carol/emailAddress=carol@example.com'),
      escaped: pki.issue('/O=Acme, Inc./CN=eve'),
      upper: pki.issue('/CN=ALICE/O=Acme'),
      stranger: pki.issue('/CN=stranger'),
      uri: pki.issue('/CN=workload', 'URI:SPIFFE://Example.org/ns/prod'),
    };
    const p = await pair([
      'listen: "{port}"',
      tlsBlock('verify_and_map: true'),
      'authorization {',
      '  users: [',
      '    { user: "O=Acme,OU=eng,CN=alice,C=US", permissions: { publish: "alice.>" } }',
      '    { user: "svc@example.com" }',
      '    { user: "web.example.com" }',
      '    { user: "CN=dc,DC=example,DC=org" }',
      '    { user: "CN=dc2,DC=org,DC=example" }',
      '    { user: "CN=carol" }',
      '    { user: "CN=eve,O=Acme\\\\, Inc." }',
      '    { user: "CN=alice,O=Acme", password: "pw" }',
      '    { user: "spiffe://Example.org/ns/prod" }',
      '  ]',
      '}',
    ]);
    const attempts: Array<[string, CertFiles | null, string]> = [
      ['alice (reordered DN)', certs.alice, CONNECT()],
      ['alice publishes outside her permissions', certs.alice, 'CONNECT {"verbose":false}\r\nPUB x 0\r\n\r\nPUB alice.x 0\r\n\r\nPING\r\n'],
      ['email SAN', certs.email, CONNECT()],
      ['DNS SAN', certs.dns, CONNECT({ user: 'web.example.com' })],
      ['DC parts in the DN', certs.dc, CONNECT()],
      ['DC parts after the RDN string', certs.dcMail, CONNECT()],
      ['subject attribute outside the DN table', certs.carol, CONNECT()],
      ['escaped value', certs.escaped, CONNECT()],
      ['values compare exactly', certs.upper, CONNECT()],
      ['URI SAN, scheme lower-cased as url.String() writes it', certs.uri, CONNECT()],
      ['a stranger', certs.stranger, CONNECT()],
      ['no certificate', null, CONNECT()],
    ];
    const seen: Record<string, string> = {};
    for (const [what, cert, send] of attempts) {
      const [real, emb] = await Promise.all(p.ports.map((port) => tlsAttempt(port, pki.ca, cert, send)));
      expect(emb, what).toBe(real);
      seen[what] = real;
    }
    // What nats-server answered (so the comparison is not between two refusals).
    expect(seen).toEqual({
      'alice (reordered DN)': 'PONG\r\n',
      'alice publishes outside her permissions': "-ERR 'Permissions Violation for Publish to \"x\"'\r\nPONG\r\n",
      'email SAN': 'PONG\r\n',
      'DNS SAN': 'PONG\r\n',
      'DC parts in the DN': 'PONG\r\n',
      'DC parts after the RDN string': 'PONG\r\n',
      'subject attribute outside the DN table': 'PONG\r\n',
      'escaped value': 'PONG\r\n',
      'values compare exactly': VIOLATION,
      'URI SAN, scheme lower-cased as url.String() writes it': 'PONG\r\n',
      'a stranger': VIOLATION,
      'no certificate': '<closed>',
    });
  });

  it('cluster { tls { verify_and_map } }: routes whose certificate names the cluster user form in both directions; a stranger is refused alike', async () => {
    const routeTls = tlsBlock('verify_and_map: true');
    const clusterLines = (listen: string, routes: string[]): string[] => [
      'cluster {', '  name: T', `  listen: "${listen}"`, `  ${routeTls}`,
      '  authorization { user: localhost, password: unused }',
      ...(routes.length === 0 ? [] : [`  routes: [${routes.map((r) => `"${r}"`).join(', ')}]`]), '}',
    ];
    const embedded = async (name: string, routes: string[]) => {
      const { options } = optionsFromConf(parseConf(['listen: "127.0.0.1:-1"', `server_name: ${name}`, ...clusterLines('127.0.0.1:-1', routes)].join('\n'), 'same.conf', {}));
      return scope.server({ ...options, cluster: { ...options.cluster, reconnectDelay: 100 } });
    };
    // The real server dials the first embedded one (which maps its certificate); the second
    // embedded one dials the real one (which maps that one's), and gossip joins the two embedded.
    const emb = await embedded('emb1', []);
    const [rPort, rCluster, rHttp] = [await freePort(), await freePort(), await freePort()];
    const real = await startRealServer(BIN, [
      `listen: "127.0.0.1:${rPort}"`, `http: "127.0.0.1:${rHttp}"`, 'server_name: real',
      ...clusterLines(`127.0.0.1:${rCluster}`, [`nats-route://127.0.0.1:${emb.clusterPort}`]),
    ]);
    scope.defer(() => real.stop());
    const emb2 = await embedded('emb2', [`nats-route://127.0.0.1:${rCluster}`]);
    const routez = async (): Promise<string[]> =>
      ((await (await fetch(`http://127.0.0.1:${rHttp}/routez`)).json()) as { routes?: Array<{ remote_id: string }> }).routes?.map((r) => r.remote_id).sort() ?? [];
    await eventually(async () => emb.routes().length === 2 && emb2.routes().length === 2 && (await routez()).length === 2, 'the full mesh of three', 10_000);
    expect(await routez()).toEqual([emb.id, emb2.id].sort());
    const stranger = pki.issue('/CN=stranger');
    const attempt = (port: number): Promise<string> => new Promise<string>((resolve) => {
      let out = '';
      let sent = false;
      const t = tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(pki.ca), servername: 'localhost', cert: readFileSync(stranger.cert), key: readFileSync(stranger.key) });
      t.on('data', (d: Buffer) => {
        out += d.toString('latin1');
        if (!sent && out.includes('\r\n')) {
          sent = true;
          out = '';
          t.write('CONNECT {"verbose":false,"user":"localhost","pass":"unused","name":"x","cluster":"T"}\r\nPING\r\n');
        }
      });
      t.on('error', () => undefined);
      t.on('close', () => resolve(out));
    });
    const [r, e] = await Promise.all([attempt(rCluster), attempt(emb.clusterPort)]);
    expect(e).toBe(r);
    expect(r).toBe(VIOLATION);
  });

  it('websocket { authorization { user, password } } replaces the top-level user for websocket clients', async () => {
    const p = await pair([
      'listen: "{port}"', 'http: "{http}"',
      'authorization { user: tcp, password: tp }',
      'websocket { listen: "{ws}", no_tls: true, authorization { user: web, password: wp } }',
    ]);
    const seen: string[] = [];
    for (const send of [CONNECT({ user: 'web', pass: 'wp' }), CONNECT({ user: 'tcp', pass: 'tp' }), CONNECT(), 'PING\r\n']) {
      const [real, emb] = await Promise.all(p.ws.map((port) => wsAttempt(`ws://127.0.0.1:${port}`, pki.ca, send)));
      expect(emb.out, send).toBe(real.out);
      expect(securityFields(emb.info), send).toEqual(securityFields(real.info));
      seen.push(real.out);
    }
    expect(seen).toEqual(['PONG\r\n', VIOLATION, VIOLATION, VIOLATION]);
    expect(await varzWebsocket(p.http[1])).toEqual(await varzWebsocket(p.http[0]));
  });

  it('websocket { no_auth_user } and a websocket token with its timeout', async () => {
    const p = await pair([
      'listen: "{port}"', 'http: "{http}"',
      'authorization { users: [ { user: a, password: pa }, { user: b, password: pb, permissions: { publish: "b.>" } } ] }',
      'websocket { listen: "{ws}", no_tls: true, no_auth_user: b }',
    ]);
    const seen: string[] = [];
    for (const send of [`${CONNECT()}`, 'CONNECT {"verbose":false}\r\nPUB x 0\r\n\r\nPING\r\n', CONNECT({ user: 'a', pass: 'pa' }), 'PING\r\n']) {
      const [real, emb] = await Promise.all(p.ws.map((port) => wsAttempt(`ws://127.0.0.1:${port}`, pki.ca, send)));
      expect(emb.out, send).toBe(real.out);
      expect(securityFields(emb.info), send).toEqual(securityFields(real.info));
      seen.push(real.out);
    }
    expect(seen).toEqual(['PONG\r\n', "-ERR 'Permissions Violation for Publish to \"x\"'\r\nPONG\r\n", 'PONG\r\n', VIOLATION]);
    expect(await varzWebsocket(p.http[1])).toEqual(await varzWebsocket(p.http[0]));

    const t = await pair(['listen: "{port}"', 'http: "{http}"', 'websocket { listen: "{ws}", no_tls: true, authorization { token: wt, timeout: 0.3 } }']);
    seen.length = 0;
    for (const send of [CONNECT({ auth_token: 'wt' }), CONNECT(), '']) {
      const [real, emb] = await Promise.all(t.ws.map((port) => wsAttempt(`ws://127.0.0.1:${port}`, pki.ca, send, { waitMs: 2500 })));
      expect(emb.out, send).toBe(real.out);
      expect(securityFields(emb.info), send).toEqual(securityFields(real.info));
      seen.push(real.out);
    }
    expect(seen).toEqual(['PONG\r\n', VIOLATION, "-ERR 'Authentication Timeout'\r\n"]);
    expect(await varzWebsocket(t.http[1])).toEqual(await varzWebsocket(t.http[0]));
  });

  it('websocket { tls { verify_and_map } }: wss with certificates naming users', async () => {
    const alice = pki.issue('/CN=alice/O=Acme');
    const stranger = pki.issue('/CN=stranger');
    const p = await pair([
      'listen: "{port}"', 'http: "{http}"',
      'authorization { users: [ { user: "CN=alice,O=Acme" }, { user: tcp, password: tp } ] }',
      `websocket { listen: "{ws}", ${tlsBlock('verify_and_map: true')} }`,
    ]);
    const cases: Array<[string, CertFiles | undefined, string]> = [
      ['alice', alice, CONNECT()],
      ['a stranger with the TCP user', stranger, CONNECT({ user: 'tcp', pass: 'tp' })],
      ['no certificate', undefined, CONNECT()],
    ];
    const seen: string[] = [];
    for (const [what, cert, send] of cases) {
      const [real, emb] = await Promise.all(p.ws.map((port) => wsAttempt(`wss://127.0.0.1:${port}`, pki.ca, send, { cert })));
      expect(emb.out, what).toBe(real.out);
      seen.push(real.out);
      // 2.10's generateClientInfoJSON sets tls_required and tls_available from the websocket
      // listener's TLS; 2.9.10 leaves them as the client listener has them (here: unset).
      const want = securityFields(real.info);
      expect(securityFields(emb.info), what).toEqual(want === null ? null : { ...want, tls_required: true, tls_available: true });
    }
    expect(seen).toEqual(['PONG\r\n', VIOLATION, '<closed>']);
    expect(await varzWebsocket(p.http[1])).toEqual(await varzWebsocket(p.http[0]));
  });
});
