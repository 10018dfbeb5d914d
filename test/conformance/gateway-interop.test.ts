/**
 * An embedded server and a real nats-server joined by gateways (two clusters, E and R): plain
 * messages both ways, request/reply across (the `_GR_.` reply mapping), a queue group that
 * prefers the publisher's cluster and fails over to the other, and the interest-only mode each
 * side switches the other to. Run by `npm run test:conformance` (NATS_SERVER_BIN).
 *
 * The real server is configured without remote gateways: it dials the embedded one back as an
 * implicit gateway, learned from the embedded server's CONNECT and INFO.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NatsConnection } from '@nats-io/transport-node';
import { type NatsServer } from '../../src/index.js';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually, publishUntil } from '../helpers/eventually.js';
import { TestPki } from '../helpers/certs.js';
import { WireClient } from '../helpers/wire.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope('file');

let emb: NatsServer;
let realUrl = '';
let realMonitor = '';
let realGwPort = 0;
let onEmb: NatsConnection;
let onReal: NatsConnection;

interface Gatewayz {
  server_id: string;
  name: string;
  outbound_gateways: Record<string, { connection: { name: string }; accounts?: Array<{ name: string; interest_mode: string }> }>;
  inbound_gateways: Record<string, unknown[]>;
}

async function realGatewayz(query = ''): Promise<Gatewayz> {
  const res = await fetch(`${realMonitor}/gatewayz${query}`);
  return (await res.json()) as Gatewayz;
}

beforeAll(async () => {
  const [port, gwPort, http] = [await freePort(), await freePort(), await freePort()];
  const real = await startRealServer(BIN, [
    `listen: "127.0.0.1:${port}"`,
    'server_name: real-1',
    `http: "127.0.0.1:${http}"`,
    `gateway { name: R, listen: "127.0.0.1:${gwPort}" }`,
  ]);
  scope.defer(() => real.stop());
  realUrl = `nats://127.0.0.1:${port}`;
  realMonitor = `http://127.0.0.1:${http}`;
  realGwPort = gwPort;
  emb = await scope.server({ serverName: 'emb-1', http: 0, gateway: { name: 'E', gateways: [{ name: 'R', url: `nats://127.0.0.1:${gwPort}` }] } });
  // Both directions are up: the real server's outbound to E (implicit) and E's outbound to R.
  await eventually(async () => {
    const z = await realGatewayz();
    return z.outbound_gateways.E !== undefined && z.inbound_gateways.E !== undefined;
  }, 'the gateways between E and R', 10_000);
  onEmb = await scope.client(emb.url);
  onReal = await scope.client(realUrl);
});

afterAll(() => undefined);

describe('gateways between an embedded server and nats-server', () => {
  it('carries messages both ways', async () => {
    let realGot = 0;
    let embGot = 0;
    onReal.subscribe('to.real', { callback: () => void realGot++ });
    onEmb.subscribe('to.emb', { callback: () => void embGot++ });
    await Promise.all([onReal.flush(), onEmb.flush()]);
    await publishUntil(onEmb, 'to.real', () => realGot > 0);
    await publishUntil(onReal, 'to.emb', () => embGot > 0);
  });

  it('answers requests across the gateway, each way (the reply goes back to its cluster)', async () => {
    onReal.subscribe('svc.real', { callback: (_e, m) => void m.respond('from real') });
    onEmb.subscribe('svc.emb', { callback: (_e, m) => void m.respond('from embedded') });
    await Promise.all([onReal.flush(), onEmb.flush()]);
    const ask = async (nc: NatsConnection, subject: string): Promise<string> => eventually(async () => {
      try {
        return (await nc.request(subject, 'q', { timeout: 500 })).string();
      } catch {
        return false;
      }
    }, `an answer on ${subject}`, 10_000);
    expect(await ask(onEmb, 'svc.real')).toBe('from real');
    expect(await ask(onReal, 'svc.emb')).toBe('from embedded');
    // A fresh inbox each time: its subscription is recent, so the reply is mapped (_GR_.).
    for (let i = 0; i < 5; i++) {
      const own = await scope.client(emb.url);
      expect((await own.request('svc.real', 'q', { timeout: 2000 })).string()).toBe('from real');
      await own.close();
    }
  });

  it('switches each side to interest-only mode for its accounts', async () => {
    // The real server's outbound connection to E: E sent gateway_cmd start/complete for $G.
    const z = await realGatewayz('?accs=1');
    const accs = z.outbound_gateways.E.accounts ?? [];
    expect(accs.find((a) => a.name === '$G')?.interest_mode).toBe('Interest-Only');
    // And E's outbound to R got the same from the real server: no interest, nothing sent.
    expect(emb.gatewayInterestMode('R', '$G')).toBe('Interest-Only');
  });

  it('reports /gatewayz and the varz gateway block in nats-server\'s shape', async () => {
    const real = await realGatewayz('?accs=1');
    const mine = (await (await fetch(`${emb.monitorUrl}/gatewayz?accs=1`)).json()) as Gatewayz;
    expect(Object.keys(mine)).toEqual(Object.keys(real));
    expect([mine.name, Object.keys(mine.outbound_gateways), Object.keys(mine.inbound_gateways)]).toEqual(['E', ['R'], ['R']]);
    const [ro, mo] = [real.outbound_gateways.E, mine.outbound_gateways.R];
    expect(Object.keys(mo)).toEqual(Object.keys(ro));
    expect(Object.keys(mo.connection)).toEqual(Object.keys(ro.connection));
    // Each side's outbound knows the other's server id as the connection's name.
    expect(mo.connection.name).toBe(real.server_id);
    expect(ro.connection.name).toBe(emb.id);
    const gAcc = (mo.accounts ?? []).find((a) => a.name === '$G');
    expect(gAcc).toMatchObject({ interest_mode: 'Interest-Only', interest_only_threshold: 1000 });
    const ri = real.inbound_gateways.E as Array<Record<string, unknown>>;
    const mi = mine.inbound_gateways.R as Array<Record<string, unknown>>;
    expect(Object.keys(mi[0])).toEqual(Object.keys(ri[0]));
    const varz = async (base: string): Promise<Record<string, unknown>> => (await (await fetch(`${base}/varz`)).json() as { gateway: Record<string, unknown> }).gateway;
    const [rv, mv] = [await varz(realMonitor), await varz(emb.monitorUrl!)];
    // E lists its configured gateway R; R was configured with none (it dialled E implicitly).
    expect(Object.keys(mv).sort()).toEqual([...Object.keys(rv), 'gateways'].sort());
    expect(mv).toMatchObject({ name: 'E', auth_timeout: 2, tls_timeout: 2, gateways: [{ name: 'R' }] });
  });

  it('prefers the local cluster for a queue group, and the remote one once the local member leaves', async () => {
    const counts = { emb: 0, real: 0 };
    const embSub = onEmb.subscribe('work', { queue: 'g', callback: () => void counts.emb++ });
    onReal.subscribe('work', { queue: 'g', callback: () => void counts.real++ });
    await Promise.all([onReal.flush(), onEmb.flush()]);
    // Each side knows the other's queue member once a marker went through (RS+ came first).
    let marks = 0;
    onReal.subscribe('mark.real', { callback: () => void marks++ });
    onEmb.subscribe('mark.emb', { callback: () => void marks++ });
    await Promise.all([onReal.flush(), onEmb.flush()]);
    await publishUntil(onEmb, 'mark.real', () => marks >= 1);
    await publishUntil(onReal, 'mark.emb', () => marks >= 2);
    for (let i = 0; i < 20; i++) onEmb.publish('work', 'e');
    for (let i = 0; i < 20; i++) onReal.publish('work', 'r');
    await Promise.all([onEmb.flush(), onReal.flush()]);
    await eventually(() => counts.emb + counts.real === 40, '40 queue messages');
    expect(counts).toEqual({ emb: 20, real: 20 });
    // The embedded member leaves: the embedded publisher's messages go to R's member.
    embSub.unsubscribe();
    await onEmb.flush();
    for (let i = 0; i < 10; i++) onEmb.publish('work', 'e');
    await onEmb.flush();
    await eventually(() => counts.real === 30, 'the remote member took over');
    expect(counts.emb).toBe(20);
  });
});

/**
 * Gateway TLS against nats-server (2.9 and 2.10 alike: gateway.go createGateway does the
 * handshake first, on both sides): a real server whose gateway block has TLS with verify, and
 * an embedded one dialling it with its certificate; the real server dials back (an implicit
 * gateway) over TLS with its own block's settings, checking the embedded certificate.
 */
/**
 * An inbound gateway connection must start with CONNECT (parser.go: anything else is authErr, an
 * INFO not even decoded), and a CONNECT Go's json.Unmarshal cannot decode into ClientOpts or
 * connectInfo closes it as a protocol violation without a word (client.go processConnect,
 * gateway.go processGatewayConnect); `null` decodes as an empty CONNECT: no gateway name; naming
 * an account is an authorization violation.
 */
describe('the first op of an inbound gateway and undecodable CONNECTs, against nats-server', () => {
  it('the same answer and the same close', async () => {
    const embPort = Number(new URL(emb.gatewayUrl!).port);
    const inputs = [
      'PING\r\n', 'INFO {"server_id":"X","gateway":"Z"}\r\n', 'INFO [1]\r\n', 'INFO {bad\r\n', 'RS+ $G foo\r\n',
      ...['[1]', '1', '"s"', 'true', '{bad', '{"verbose":"x"}', '{"gateway":"Z","cluster":5}', 'null'].map((j) => `CONNECT ${j}\r\n`),
      // client.go processConnect: an account designation is an authorization violation.
      'CONNECT {"gateway":"Z","account":"A"}\r\n', 'CONNECT {"gateway":"Z","new_account":true}\r\n',
    ];
    for (const input of inputs) {
      const theirs = await WireClient.answer(realGwPort, input);
      expect(theirs.closed, `nats-server: ${input}`).toBe(true);
      expect(await WireClient.answer(embPort, input), input).toEqual(theirs);
    }
  });
});

describe('gateways over TLS between an embedded server and nats-server', () => {
  let pki: TestPki;
  let tlsEmb: NatsServer;
  let tlsRealUrl = '';

  beforeAll(async () => {
    pki = new TestPki();
    scope.defer(() => pki.remove());
    const [port, gwPort] = [await freePort(), await freePort()];
    const real = await startRealServer(BIN, [
      `listen: "127.0.0.1:${port}"`,
      'server_name: real-tls',
      `gateway { name: RT, listen: "127.0.0.1:${gwPort}", tls { cert_file: "${pki.server.cert}", key_file: "${pki.server.key}", ca_file: "${pki.ca}", verify: true } }`,
    ]);
    scope.defer(() => real.stop());
    tlsRealUrl = `nats://127.0.0.1:${port}`;
    tlsEmb = await scope.server({
      http: 0,
      gateway: {
        name: 'ET', reconnectDelay: 100,
        tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, verify: true },
        gateways: [{ name: 'RT', url: `tls://127.0.0.1:${gwPort}` }],
      },
    });
    await eventually(() => tlsEmb.gateways().outbound.includes('RT') && tlsEmb.gateways().inbound.includes('RT'), 'the TLS gateways between ET and RT', 10_000);
  });

  it('carries messages both ways', async () => {
    const e = await scope.client(tlsEmb.url);
    const r = await scope.client(tlsRealUrl);
    let realGot = 0;
    let embGot = 0;
    r.subscribe('tls.to.real', { callback: () => void realGot++ });
    e.subscribe('tls.to.emb', { callback: () => void embGot++ });
    await Promise.all([r.flush(), e.flush()]);
    await publishUntil(e, 'tls.to.real', () => realGot > 0);
    await publishUntil(r, 'tls.to.emb', () => embGot > 0);
  });

  it('backend: \'nats-server\' passes the gateway block (its TLS as PEM files) to the process; gatewayUrl is its listener', async () => {
    const p = await scope.server({
      backend: 'nats-server', http: 0,
      gateway: { name: 'PT', tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, verify: true }, gateways: [{ name: 'ET', url: tlsEmb.gatewayUrl! }] },
    });
    await eventually(() => tlsEmb.gateways().inbound.includes('PT') && tlsEmb.gateways().outbound.includes('PT'), 'the TLS gateways between ET and PT', 10_000);
    const varz = async (base: string): Promise<Record<string, unknown>> => (await (await fetch(`${base}/varz`)).json() as { gateway: Record<string, unknown> }).gateway;
    const [pv, ev] = [await varz(p.monitorUrl!), await varz(tlsEmb.monitorUrl!)];
    expect(pv.name).toBe('PT');
    expect(p.gatewayUrl).toBe(`nats://127.0.0.1:${pv.port as number}`);
    // The varz gateway block with TLS, in nats-server's shape (each has one configured remote,
    // which uses the block's TLS: no tls_timeout of its own).
    expect(Object.keys(ev).sort()).toEqual(Object.keys(pv).sort());
    const tlsFields = (v: Record<string, unknown>): unknown[] => [v.tls_required, v.tls_verify, v.tls_timeout, v.auth_timeout, Object.keys((v.gateways as object[])[0]).sort()];
    expect(tlsFields(ev)).toEqual(tlsFields(pv));
    expect(tlsFields(ev).slice(0, 4)).toEqual([true, true, 2, 3]);
    const onP = await scope.client(p.url);
    const e = await scope.client(tlsEmb.url);
    let got = 0;
    onP.subscribe('to.process', { callback: () => void got++ });
    await onP.flush();
    await publishUntil(e, 'to.process', () => got > 0);
  });
});
