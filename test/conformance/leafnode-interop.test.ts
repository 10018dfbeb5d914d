/**
 * Leaf nodes against the real nats-server, in both roles: a nats-server hub with an embedded
 * leaf node, and an embedded hub with a nats-server leaf node. Messages both ways, request/reply,
 * a queue group spread over the leaf connection, unsubscribe propagation, account binding with
 * two accounts; and on the wire, the leaf node port's INFO and its loop detection error compared
 * with nats-server's. Run by `npm run test:conformance` (NATS_SERVER_BIN). The real binary is
 * 2.9.10; the leaf protocol compared (leafnode.go: INFO/CONNECT, LS+/LS-, LMSG, $LDS.) is the same
 * in 2.10.29, which nats-embedded follows (2.10 adds compression negotiation: nats-embedded
 * advertises none, which 2.10 servers treat as a 2.9 peer).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type NatsConnection } from '@nats-io/transport-node';
import { type NatsServer } from '../../src/index.js';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { readInfo, WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually, publishUntil } from '../helpers/eventually.js';
import { monitorJson, type Json } from '../helpers/monitor.js';
import { TestPki } from '../helpers/certs.js';
import { createUser } from '@nats-io/nkeys';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope();

interface Real {
  url: string;
  leafPort: number;
  monitor: string;
}

const ACCOUNTS_CONF = [
  'accounts {',
  '  A { users: [{ user: a, password: pa }] }',
  '  B { users: [{ user: b, password: pb }] }',
  '}',
];
const ACCOUNTS = { A: { users: [{ user: 'a', password: 'pa' }] }, B: { users: [{ user: 'b', password: 'pb' }] } };

async function real(lines: string[], leafListen = true): Promise<Real> {
  const [port, leafPort, http] = [await freePort(), await freePort(), await freePort()];
  const r = await startRealServer(BIN, [
    `listen: "127.0.0.1:${port}"`,
    `http: "127.0.0.1:${http}"`,
    ...(leafListen ? [`leafnodes { listen: "127.0.0.1:${leafPort}" }`] : []),
    ...lines,
  ]);
  scope.defer(() => r.stop());
  return { url: `nats://127.0.0.1:${port}`, leafPort, monitor: `http://127.0.0.1:${http}` };
}

/** Waits until the server behind `monitor` has `n` leaf connections. */
async function leafs(monitor: string, n: number): Promise<Json[]> {
  return eventually(async () => {
    const l = await monitorJson(monitor, '/leafz').catch(() => null);
    return l !== null && l.leafnodes === n ? (l.leafs as Json[]) : false;
  }, `${n} leaf connection(s) on ${monitor}`, 10_000);
}

/** Subscribes and waits until the subscription is seen on the other side (`subsz` of the other server). */
function collect(nc: NatsConnection, subject: string, queue?: string): string[] {
  const got: string[] = [];
  nc.subscribe(subject, { queue, callback: (_e, m) => void got.push(m.string()) });
  return got;
}

/** Subscriptions (local and a peer's, every account) for the literal `subject`: an embedded server's own count, a real one's `/subsz?test=`. */
async function interest(side: NatsServer | string, subject: string, atLeast = 1): Promise<void> {
  if (typeof side !== 'string') return side.waitForSubscription(subject, { count: atLeast, timeoutMs: 10_000 });
  // nats-server's /subsz lists local subscriptions only; a leaf connection's are in /leafz.
  await eventually(async () => {
    const s = await monitorJson(side, `/subsz?subs=1&test=${encodeURIComponent(subject)}`).catch(() => null);
    const l = await monitorJson(side, '/leafz?subs=1').catch(() => null);
    if (s === null || l === null) return false;
    const fromLeafs = (l.leafs as Json[]).filter((x) => ((x.subscriptions_list ?? []) as string[]).includes(subject)).length;
    return ((s.total as number | undefined) ?? 0) + fromLeafs >= atLeast;
  }, `interest in ${subject} on ${side}`, 10_000);
}

/** The same checks, whichever side is the hub: `hub`/`leaf` are client URLs; `hubMon`/`leafMon` monitors. */
async function trafficBothWays(hubUrl: string, leafUrl: string, hubMon: string, hubSide: NatsServer | string, leafSide: NatsServer | string): Promise<void> {
  const h = await scope.client(hubUrl);
  const l = await scope.client(leafUrl);
  const onLeaf = collect(l, 'to.leaf');
  const onHub = collect(h, 'to.hub');
  h.subscribe('svc.hub', { callback: (_e, m) => void m.respond(`hub:${m.string()}`) });
  l.subscribe('svc.leaf', { callback: (_e, m) => void m.respond(`leaf:${m.string()}`) });
  await h.flush();
  await l.flush();
  await interest(hubSide, 'to.leaf', 1);
  await interest(hubSide, 'svc.leaf', 1);
  await interest(leafSide, 'to.hub', 1);
  await interest(leafSide, 'svc.hub', 1);
  h.publish('to.leaf', 'a');
  l.publish('to.hub', 'b');
  await h.flush();
  await l.flush();
  await eventually(() => onLeaf.length === 1 && onHub.length === 1, 'one message each way');
  expect([onLeaf, onHub]).toEqual([['a'], ['b']]);
  expect((await l.request('svc.hub', 'q', { timeout: 3000 })).string()).toBe('hub:q');
  expect((await h.request('svc.leaf', 'r', { timeout: 3000 })).string()).toBe('leaf:r');

  // A queue group with members on both sides: each message reaches exactly one member.
  const qh = collect(h, 'work', 'q');
  const ql = collect(l, 'work', 'q');
  await h.flush();
  await l.flush();
  await interest(hubSide, 'work', 2);
  await interest(leafSide, 'work', 2);
  for (let i = 0; i < 20; i++) h.publish('work', `h${i}`);
  for (let i = 0; i < 20; i++) l.publish('work', `l${i}`);
  await h.flush();
  await l.flush();
  await eventually(() => qh.length + ql.length === 40, '40 queue messages');
  expect([...qh, ...ql].sort()).toEqual([...[...Array(20).keys()].map((i) => `h${i}`), ...[...Array(20).keys()].map((i) => `l${i}`)].sort());

  // The leaf's own member only: the hub's messages cross to it.
  const only = collect(l, 'leafwork', 'g');
  await l.flush();
  await interest(hubSide, 'leafwork', 1);
  for (let i = 0; i < 5; i++) h.publish('leafwork', `${i}`);
  await h.flush();
  await eventually(() => only.length === 5, 'the hub\'s messages to the leaf\'s queue member');

  // Unsubscribe on the leaf: the hub drops the interest.
  const gone = l.subscribe('gone');
  await l.flush();
  await interest(hubSide, 'gone', 1);
  gone.unsubscribe();
  await l.flush();
  await eventually(async () => (await monitorJson(hubMon, '/subsz?test=gone')).num_subscriptions !== undefined
    && !JSON.stringify(await monitorJson(hubMon, '/leafz?subs=1')).includes('"gone"'), 'LS- on the hub', 10_000);
}

describe('TLS on leaf connections with the real nats-server', () => {
  // nats-server 2.9.10 and 2.10.29 (leafnode.go createLeafNode) alike: the hub's INFO goes out in
  // plain text with tls_required, then the leaf node starts the handshake (2.10's handshake_first
  // reverses that; 2.9 does not have it, so it is compared between embedded servers only).
  let pki: TestPki;
  /** A nats-server remote's tls block: a certificate of the test CA, and the CA. */
  const leafTlsConf = (): string => {
    const leaf = pki.issue('/CN=leaf');
    return `tls { cert_file: "${leaf.cert}", key_file: "${leaf.key}", ca_file: "${pki.ca}" }`;
  };
  it('nats-server hub (backend nats-server, to-conf) with verify, embedded leaf node with a client certificate; and the plain INFO has the same fields', async () => {
    pki = new TestPki();
    scope.defer(() => pki.remove());
    const leafCert = pki.issue('/CN=leaf');
    const tls = { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, verify: true };
    const hub = await scope.server({ backend: 'nats-server', http: -1, leafnodes: { port: 0, tls } });
    const leaf = await scope.server({ leafnodes: { reconnect: 100, remotes: [{ url: `tls://127.0.0.1:${hub.leafnodePort}`, tls: { ca: pki.ca, cert: leafCert.cert, key: leafCert.key } }] } });
    await leafs(hub.monitorUrl!, 1);
    const h = await scope.client(hub);
    h.subscribe('svc', { callback: (_e, m) => void m.respond('over tls') });
    await h.flush();
    await leaf.waitForSubscription('svc', { timeoutMs: 10_000 });
    const l = await scope.client(leaf);
    expect((await l.request('svc', '', { timeout: 3000 })).string()).toBe('over tls');

    const ours = await scope.server({ leafnodes: { port: 0, tls } });
    const [theirInfo, ourInfo] = [await readInfo(hub.leafnodePort), await readInfo(ours.leafnodePort)];
    expect(ourInfo).toMatchObject({ tls_required: true, tls_verify: true });
    const keys = (i: Json): string[] => Object.keys(i).filter((k) => k !== 'git_commit');
    expect(keys(ourInfo)).toEqual(keys(theirInfo));
  });

  it('embedded hub with verify, nats-server leaf node (tls block with its certificate); a nats-server leaf with another CA is refused', async () => {
    pki = new TestPki();
    scope.defer(() => pki.remove());
    const hub = await scope.server({ http: -1, leafnodes: { port: 0, tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, verify: true } } });
    const rl = await real([`leafnodes { reconnect: 1, remotes: [{ url: "tls://127.0.0.1:${hub.leafnodePort}", ${leafTlsConf()} }] }`], false);
    await leafs(hub.monitorUrl!, 1);
    const h = await scope.client(hub);
    h.subscribe('svc', { callback: (_e, m) => void m.respond('embedded hub over tls') });
    await h.flush();
    await interest(rl.monitor, 'svc', 1);
    const l = await scope.client(rl.url);
    expect((await l.request('svc', '', { timeout: 3000 })).string()).toBe('embedded hub over tls');

    const foreign = new TestPki();
    scope.defer(() => foreign.remove());
    const stranger = foreign.issue('/CN=leaf');
    const lines: string[] = [];
    const none = (): void => undefined;
    const hub2 = await scope.server({ logger: { info: none, warn: none, error: (m) => void lines.push(m) }, leafnodes: { port: 0, tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, verify: true } } });
    await real([`leafnodes { reconnect: 1, remotes: [{ url: "tls://127.0.0.1:${hub2.leafnodePort}", tls { cert_file: "${stranger.cert}", key_file: "${stranger.key}", ca_file: "${pki.ca}" } }] }`], false);
    await eventually(() => lines.some((x) => x.includes('TLS leafnode handshake error')), 'the foreign certificate refused', 10_000);
  });

  it('verify_and_map: the leaf node\'s certificate names the leafnodes.authorization user, whichever server is the hub', async () => {
    pki = new TestPki();
    scope.defer(() => pki.remove());
    const leafCert = pki.issue('/CN=leaf');
    const nobody = pki.issue('/CN=nobody');
    const tls = { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, verifyAndMap: true };
    const authorization = { users: [{ user: 'CN=leaf', account: 'A' }] };
    // nats-server hub (backend, to-conf writes verify_and_map), embedded leaf nodes.
    const rh = await scope.server({ backend: 'nats-server', http: -1, accounts: ACCOUNTS, leafnodes: { port: 0, tls, authorization } });
    await scope.server({ leafnodes: { reconnect: 100, remotes: [{ url: rh.leafnodeUrl!, tls: { ca: pki.ca, cert: leafCert.cert, key: leafCert.key } }] } });
    expect((await leafs(rh.monitorUrl!, 1))[0]).toMatchObject({ account: 'A' });
    // Embedded hub, nats-server leaf nodes.
    const none = (): void => undefined;
    const hubErrors: string[] = [];
    const eh = await scope.server({ http: -1, logger: { info: none, warn: none, error: (m) => void hubErrors.push(m) }, accounts: ACCOUNTS, leafnodes: { port: 0, tls, authorization } });
    await real([`leafnodes { reconnect: 1, remotes: [{ url: "tls://127.0.0.1:${eh.leafnodePort}", tls { cert_file: "${leafCert.cert}", key_file: "${leafCert.key}", ca_file: "${pki.ca}" } }] }`], false);
    expect((await leafs(eh.monitorUrl!, 1))[0]).toMatchObject({ account: 'A' });
    // A certificate that names no user: refused by both (still one leaf connection each).
    const leafErrors: string[] = [];
    await scope.server({ logger: { info: none, warn: none, error: (m) => void leafErrors.push(m) }, leafnodes: { reconnect: 100, remotes: [{ url: rh.leafnodeUrl!, tls: { ca: pki.ca, cert: nobody.cert, key: nobody.key } }] } });
    await real([`leafnodes { reconnect: 1, remotes: [{ url: "tls://127.0.0.1:${eh.leafnodePort}", tls { cert_file: "${nobody.cert}", key_file: "${nobody.key}", ca_file: "${pki.ca}" } }] }`], false);
    await eventually(() => leafErrors.some((x) => x.includes('Authorization Violation')), 'nats-server refusing the unnamed certificate', 10_000);
    await eventually(() => hubErrors.some((x) => x.endsWith('authentication error')), 'the embedded hub refusing it', 10_000);
    expect((await monitorJson(rh.monitorUrl!, '/leafz')).leafnodes).toBe(1);
    expect((await monitorJson(eh.monitorUrl!, '/leafz')).leafnodes).toBe(1);
  });

  it('wss:// remotes both ways: an embedded leaf to nats-server\'s websocket listener with TLS, and nats-server\'s leaf to an embedded one', async () => {
    pki = new TestPki();
    scope.defer(() => pki.remove());
    const wsPort = await freePort();
    const rh = await real([`websocket { listen: "127.0.0.1:${wsPort}", tls { cert_file: "${pki.server.cert}", key_file: "${pki.server.key}" } }`]);
    const el = await scope.server({ leafnodes: { reconnect: 100, remotes: [{ url: `wss://127.0.0.1:${wsPort}`, tls: { ca: pki.ca } }] } });
    await leafs(rh.monitor, 1);
    const eh = await scope.server({ http: -1, websocket: { tls: { cert: pki.server.cert, key: pki.server.key } }, leafnodes: { port: 0 } });
    const rl = await real([`leafnodes { reconnect: 1, remotes: [{ url: "wss://127.0.0.1:${eh.websocketPort}", tls { ca_file: "${pki.ca}" } }] }`], false);
    await leafs(eh.monitorUrl!, 1);
    for (const [hubUrl, leafUrl, leafSide] of [[rh.url, el.url, el], [eh.url, rl.url, rl.monitor]] as const) {
      const h = await scope.client(hubUrl);
      const l = await scope.client(leafUrl);
      h.subscribe('svc', { callback: (_e, m) => void m.respond('over wss') });
      await h.flush();
      await interest(leafSide, 'svc', 1);
      expect((await l.request('svc', '', { timeout: 3000 })).string()).toBe('over wss');
    }
  });
});

describe('nkey authentication of a leaf node with the real nats-server', () => {
  // 2.9.10 has no leafnodes.authorization.nkey nor a remote's nkey (both 2.10): the hub
  // authenticates the leaf node as a client (auth.go isClientAuthorized), so the CONNECT's nkey
  // and nonce signature of an embedded leaf node are what is compared here.
  it('an embedded leaf node with a remote nkey seed binds to the nkey user\'s account on a nats-server hub; another seed is refused', async () => {
    const kp = createUser();
    const hub = await real(['accounts {', `  A { users: [{ user: a, password: pa }, { nkey: ${kp.getPublicKey()} }] }`, '}']);
    const leaf = await scope.server({ leafnodes: { reconnect: 100, remotes: [{ url: `nats-leaf://127.0.0.1:${hub.leafPort}`, nkey: new TextDecoder().decode(kp.getSeed()) }] } });
    expect((await leafs(hub.monitor, 1))[0]).toMatchObject({ account: 'A' });
    const inA = await scope.client(hub.url, { user: 'a', pass: 'pa' });
    inA.subscribe('svc', { callback: (_e, m) => void m.respond('A on nats-server') });
    await inA.flush();
    await leaf.waitForSubscription('svc', { timeoutMs: 10_000 });
    const l = await scope.client(leaf);
    expect((await l.request('svc', '', { timeout: 3000 })).string()).toBe('A on nats-server');
    const lines: string[] = [];
    const none = (): void => undefined;
    await scope.server({ logger: { info: none, warn: none, error: (m) => void lines.push(m) }, leafnodes: { reconnect: 100, remotes: [{ url: `nats-leaf://127.0.0.1:${hub.leafPort}`, nkey: new TextDecoder().decode(createUser().getSeed()) }] } });
    await eventually(() => lines.some((x) => x.includes('Authorization Violation')), 'the other seed refused', 10_000);
    expect((await monitorJson(hub.monitor, '/leafz')).leafnodes).toBe(1);
  });
});

describe('leafnode_urls gossip with the real nats-server', () => {
  // route.go (2.9.10 and 2.10.29 alike): a route INFO carries the server's leaf node URL unless
  // leafnodes.no_advertise; the peer adds it to the leafnode_urls its leaf nodes are told.
  const sorted = (a: unknown): string[] => [...(a as string[])].sort();
  async function mixed(embeddedNoAdvertise: boolean, realNoAdvertise: boolean): Promise<{ ea: NatsServer; rb: { leafPort: number; monitor: string; stop: () => Promise<void> } }> {
    const ea = await scope.server({ http: -1, cluster: { name: 'mix', port: 0, reconnectDelay: 50 }, leafnodes: { port: 0, noAdvertise: embeddedNoAdvertise } });
    const [port, leafPort, http, routePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const r = await startRealServer(BIN, [
      `listen: "127.0.0.1:${port}"`,
      `http: "127.0.0.1:${http}"`,
      `cluster { name: mix, listen: "127.0.0.1:${routePort}", routes: ["${ea.routeUrl}"] }`,
      `leafnodes { listen: "127.0.0.1:${leafPort}", no_advertise: ${realNoAdvertise} }`,
    ]);
    scope.defer(() => r.stop());
    await eventually(() => ea.routes().length === 1, 'the route to nats-server', 10_000);
    return { ea, rb: { leafPort, monitor: `http://127.0.0.1:${http}`, stop: () => r.stop() } };
  }

  it('an embedded and a nats-server hub tell their leaf nodes both URLs; an embedded leaf of the nats-server hub fails over to the embedded one', async () => {
    const { ea, rb } = await mixed(false, false);
    const urls = [`127.0.0.1:${ea.leafnodePort}`, `127.0.0.1:${rb.leafPort}`].sort();
    await eventually(async () => ((await readInfo(ea.leafnodePort)).leafnode_urls as string[]).length === 2, 'the embedded hub told of nats-server\'s URL', 10_000);
    expect(sorted((await readInfo(ea.leafnodePort)).leafnode_urls)).toEqual(urls);
    await eventually(async () => ((await readInfo(rb.leafPort)).leafnode_urls as string[]).length === 2, 'nats-server told of the embedded URL', 10_000);
    expect(sorted((await readInfo(rb.leafPort)).leafnode_urls)).toEqual(urls);
    await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://127.0.0.1:${rb.leafPort}` }] } });
    await leafs(rb.monitor, 1);
    await rb.stop();
    await leafs(ea.monitorUrl!, 1);
  });

  it('no_advertise: neither hub tells the other\'s URL when that one says no_advertise', async () => {
    const one = await mixed(true, false);
    await eventually(async () => ((await readInfo(one.ea.leafnodePort)).leafnode_urls as string[]).length === 2, 'nats-server\'s URL on the embedded hub', 10_000);
    expect((await readInfo(one.rb.leafPort)).leafnode_urls).toEqual([`127.0.0.1:${one.rb.leafPort}`]);
    const two = await mixed(false, true);
    await eventually(async () => ((await readInfo(two.rb.leafPort)).leafnode_urls as string[]).length === 2, 'the embedded URL on nats-server', 10_000);
    expect((await readInfo(two.ea.leafnodePort)).leafnode_urls).toEqual([`127.0.0.1:${two.ea.leafnodePort}`]);
  });
});

describe('leaf nodes with the real nats-server', () => {
  it('nats-server hub, embedded leaf node: both ways, request/reply, queue group, unsubscribe', async () => {
    const hub = await real([]);
    const leaf = await scope.server({ http: -1, leafnodes: { reconnect: 100, remotes: [{ url: `nats-leaf://127.0.0.1:${hub.leafPort}` }] } });
    const onHub = await leafs(hub.monitor, 1);
    // 2.9.10's LeafInfo has neither name nor is_spoke (2.10 fields, which nats-embedded reports).
    expect(onHub[0]).toMatchObject({ account: '$G' });
    expect((await leafs(leaf.monitorUrl!, 1))[0]).toMatchObject({ is_spoke: true, account: '$G' });
    await trafficBothWays(hub.url, leaf.url, hub.monitor, hub.monitor, leaf);
  });

  it('embedded hub, nats-server leaf node: both ways, request/reply, queue group, unsubscribe', async () => {
    const hub = await scope.server({ http: -1, leafnodes: { port: 0 } });
    const leaf = await real([`leafnodes { reconnect: 1, remotes: [{ url: "${hub.leafnodeUrl}" }] }`], false);
    const onLeaf = await leafs(leaf.monitor, 1);
    expect(onLeaf[0]).toMatchObject({ account: '$G' });
    expect((await leafs(hub.monitorUrl!, 1))[0]).toMatchObject({ is_spoke: false, account: '$G' });
    await trafficBothWays(hub.url, leaf.url, hub.monitorUrl!, hub, leaf.monitor);
  });

  it('account binding: two remotes bind two accounts on the hub, whichever server is the hub', async () => {
    const check = async (hubUrl: string, hubMon: string, leafUrl: string, leafSide: NatsServer | string): Promise<void> => {
      const ha = await scope.client(hubUrl, { user: 'a', pass: 'pa' });
      const hb = await scope.client(hubUrl, { user: 'b', pass: 'pb' });
      const inA = collect(ha, 'x');
      const inB = collect(hb, 'x');
      await ha.flush();
      await hb.flush();
      await interest(leafSide, 'x', 2);
      const la = await scope.client(leafUrl, { user: 'la', pass: 'x' });
      la.publish('x', 'from LA');
      await la.flush();
      await eventually(() => inA.length === 1, 'the message in A');
      await hb.flush();
      expect([inA, inB]).toEqual([['from LA'], []]);
      expect((await leafs(hubMon, 2)).map((x) => x.account).sort()).toEqual(['A', 'B']);
    };
    const leafAccounts = { LA: { users: [{ user: 'la', password: 'x' }] }, LB: { users: [{ user: 'lb', password: 'x' }] } };
    const leafAccountsConf = ['accounts {', '  LA { users: [{ user: la, password: x }] }', '  LB { users: [{ user: lb, password: x }] }', '}'];

    // nats-server hub, embedded leaf.
    const rh = await real(ACCOUNTS_CONF);
    const el = await scope.server({
      http: -1,
      accounts: leafAccounts,
      leafnodes: { reconnect: 100, remotes: [
        { url: `nats-leaf://a:pa@127.0.0.1:${rh.leafPort}`, account: 'LA' },
        { url: `nats-leaf://b:pb@127.0.0.1:${rh.leafPort}`, account: 'LB' },
      ] },
    });
    await check(rh.url, rh.monitor, el.url, el);

    // Embedded hub, nats-server leaf.
    const eh = await scope.server({ http: -1, accounts: ACCOUNTS, leafnodes: { port: 0 } });
    const p = eh.leafnodePort;
    const rl = await real([
      ...leafAccountsConf,
      `leafnodes { reconnect: 1, remotes: [{ url: "nats-leaf://a:pa@127.0.0.1:${p}", account: LA }, { url: "nats-leaf://b:pb@127.0.0.1:${p}", account: LB }] }`,
    ], false);
    await check(eh.url, eh.monitorUrl!, rl.url, rl.monitor);
  });

  it('ws:// remotes: an embedded leaf to nats-server\'s websocket listener, and nats-server\'s leaf to an embedded one', async () => {
    const wsPort = await freePort();
    const rh = await real([`websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`]);
    const el = await scope.server({ leafnodes: { reconnect: 100, remotes: [{ url: `ws://127.0.0.1:${wsPort}` }] } });
    await leafs(rh.monitor, 1);
    const eh = await scope.server({ http: -1, websocket: { noTls: true }, leafnodes: { port: 0 } });
    const rl = await real([`leafnodes { reconnect: 1, remotes: [{ url: "ws://127.0.0.1:${eh.websocketPort}" }] }`], false);
    await leafs(eh.monitorUrl!, 1);
    for (const [hubUrl, leafUrl, leafSide] of [[rh.url, el.url, el], [eh.url, rl.url, rl.monitor]] as const) {
      const h = await scope.client(hubUrl);
      const l = await scope.client(leafUrl);
      h.subscribe('svc', { callback: (_e, m) => void m.respond('over ws') });
      await h.flush();
      await interest(leafSide, 'svc', 1);
      expect((await l.request('svc', '', { timeout: 3000 })).string()).toBe('over ws');
    }
  });

  it('createServer({ backend: \'nats-server\', leafnodes }) runs nats-server with the same leaf node setup (to-conf.ts)', async () => {
    const hub = await scope.server({
      backend: 'nats-server', accounts: ACCOUNTS,
      leafnodes: { port: 0, authorization: { users: [{ user: 'leafA', password: 'la', account: 'A' }] } },
    });
    expect(hub.leafnodeUrl).toBe(`nats-leaf://127.0.0.1:${hub.leafnodePort}`);
    const leaf = await scope.server({ leafnodes: { reconnect: 100, remotes: [{ url: `nats-leaf://leafA:la@127.0.0.1:${hub.leafnodePort}` }] } });
    const proc = await scope.server({ backend: 'nats-server', leafnodes: { reconnect: 2000, remotes: [{ url: `nats-leaf://leafA:la@127.0.0.1:${hub.leafnodePort}` }] } });
    const ha = await scope.client(hub, { user: 'a', pass: 'pa' });
    ha.subscribe('svc', { callback: (_e, m) => void m.respond('A answers') });
    await ha.flush();
    await leaf.waitForSubscription('svc');
    const l = await scope.client(leaf);
    expect((await l.request('svc', '', { timeout: 3000 })).string()).toBe('A answers');
    const p = await scope.client(proc);
    await eventually(async () => (await p.request('svc', '', { timeout: 300 }).catch(() => null))?.string() === 'A answers', 'the reply through the process leaf', 10_000);
  });

  it('JetStream does not reach across a leaf connection without domains ($JS.API, $KV, $OBJ are denied on it), whichever server is the hub', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leaf-js-'));
    scope.defer(() => rmSync(dir, { recursive: true, force: true }));
    const rh = await real([`jetstream { store_dir: "${dir}" }`]);
    const el = await scope.server({ leafnodes: { reconnect: 100, remotes: [{ url: `nats-leaf://127.0.0.1:${rh.leafPort}` }] } });
    await leafs(rh.monitor, 1);
    const eh = await scope.server({ http: -1, jetstream: true, leafnodes: { port: 0 } });
    const rl = await real([`leafnodes { reconnect: 1, remotes: [{ url: "${eh.leafnodeUrl}" }] }`], false);
    await leafs(eh.monitorUrl!, 1);
    for (const [hubUrl, leafUrl] of [[rh.url, el.url], [eh.url, rl.url]] as const) {
      const h = await scope.client(hubUrl);
      // The hub answers its own clients...
      expect(JSON.parse((await h.request('$JS.API.INFO', '', { timeout: 3000 })).string())).toHaveProperty('type', 'io.nats.jetstream.api.v1.account_info_response');
      // ...and a plain subject still crosses, while the leaf's JetStream request finds no responder.
      h.subscribe('plain', { callback: (_e, m) => void m.respond('yes') });
      await h.flush();
      const l = await scope.client(leafUrl);
      await eventually(async () => (await l.request('plain', '', { timeout: 300 }).catch(() => null))?.string() === 'yes', 'the plain request across', 10_000);
      await expect(l.request('$JS.API.INFO', '', { timeout: 1000 })).rejects.toThrow(/no responders|503/i);
    }
  });

  it('the leaf node port on the wire: the same INFO fields, connect_info answer and loop detection error', async () => {
    const rh = await real([]);
    const eh: NatsServer = await scope.server({ leafnodes: { port: 0 } });
    const transcript = async (port: number): Promise<{ info: string[]; answer: string[]; err: string }> => {
      const w = await WireClient.open(port);
      const info = Object.keys(w.info).filter((k) => k !== 'git_commit');
      w.send('CONNECT {"name":"wire","headers":true}\r\n');
      const answer = JSON.parse((await w.readLine()).replace(/^INFO /, '')) as Json;
      expect(answer).toMatchObject({ connect_info: true, remote_account: '$G', client_id: w.info.client_id });
      // nats-server also announces the system account's service imports ($SYS.REQ...) first.
      let lds = '';
      while (!lds.startsWith('LS+ $LDS.')) lds = await w.readLine();
      w.send(`LS+ ${lds.slice(4)}\r\n`);
      // Both send their first PING about 1 s after CONNECT (nats-server's firstPingInterval);
      // nats-server sends its interest in map order, so more LS+ may follow the $LDS. one.
      let err = await w.readLine();
      while (err === 'PING' || err.startsWith('LS+ ')) err = await w.readLine();
      await w.expectClose();
      return { info, answer: Object.keys(answer).filter((k) => k !== 'git_commit'), err };
    };
    // Bad input after CONNECT: the same answer (an -ERR or none) and the same close-or-stay-open.
    const bad = async (port: number, input: string): Promise<[string, boolean]> => {
      const w = await WireClient.open(port);
      w.dropLines = /(LS\+|PING)[^\n]*\n/g;
      w.send('CONNECT {"name":"bad"}\r\n');
      await w.readLine();
      w.send(input);
      let left = '';
      const closed = await w.expectClose(500).then((rest) => {
        left = rest;
        return true;
      }, () => false);
      if (!closed) left = w.buffer;
      w.socket.destroy();
      return [left, closed];
    };
    for (const input of ['LS+ a b c d\r\n', 'XYZ\r\n', 'LMSG a b c d e\r\n', 'RMSG a 1\r\nx\r\n', 'LS+ a q x\r\n']) {
      expect(await bad(eh.leafnodePort, input), input).toEqual(await bad(rh.leafPort, input));
    }
    const theirs = await transcript(rh.leafPort);
    const ours = await transcript(eh.leafnodePort);
    expect(ours.info).toEqual(theirs.info);
    expect(ours.answer).toEqual(theirs.answer);
    expect(ours.err).toEqual(theirs.err);
  });
});

/**
 * A leaf node's CONNECT or INFO that Go's json.Unmarshal cannot decode (into ClientOpts, then
 * leafConnectInfo; into Info) closes the connection as a protocol violation without a word
 * (client.go processConnect/processInfo, leafnode.go processLeafNodeConnect); `null` decodes as
 * an empty CONNECT or INFO. The INFO goes after a CONNECT: before one, nats-server 2.9.10 (no
 * compression, so an auth timer) answers any op but CONNECT with an authorization violation,
 * while 2.10 with its default leaf compression (s2_auto: leafnode.go createLeafNode sets no auth
 * timer then) reads it; this server follows 2.10.
 */
describe('leaf node CONNECT and INFO that Go cannot decode, against nats-server', () => {
  it('the same answer and the same close', async () => {
    const rh = await real([]);
    const eh: NatsServer = await scope.server({ leafnodes: { port: 0 } });
    const quiet = /(LS\+|PING)[^\n]*\n/g;
    const inputs = [
      ...['[1]', '1', '"s"', 'true', '{bad', '{"verbose":"x"}', '{"is_hub":"yes"}', '{"deny_pub":"foo"}'].map((j) => `CONNECT ${j}\r\n`),
      ...['[1]', '"s"', '{bad', '{"port":"x"}'].map((j) => `CONNECT {"name":"x"}\r\nINFO ${j}\r\n`),
      // client.go processConnect: an account designation is an authorization violation.
      'CONNECT {"account":"A"}\r\n', 'CONNECT {"new_account":true}\r\n',
    ];
    for (const input of inputs) {
      const theirs = await WireClient.answer(rh.leafPort, input, 1000, quiet);
      expect(theirs.closed, `nats-server: ${input}`).toBe(true);
      // After a CONNECT both answer with the connect_info INFO first.
      const strip = (t: string): string => t.replace(/^INFO [^\n]*\n/, '');
      const ours = await WireClient.answer(eh.leafnodePort, input, 1000, quiet);
      expect({ ...ours, text: strip(ours.text) }, input).toEqual({ ...theirs, text: strip(theirs.text) });
    }
    // null: an empty CONNECT, the leaf node bound (the INFO answer), an empty INFO after it.
    for (const input of ['CONNECT null\r\n', 'CONNECT {"name":"x"}\r\nINFO null\r\n']) {
      const theirs = await WireClient.answer(rh.leafPort, input, 300, quiet);
      const ours = await WireClient.answer(eh.leafnodePort, input, 300, quiet);
      expect([theirs.closed, theirs.text.startsWith('INFO {')], `nats-server: ${input}`).toEqual([false, true]);
      expect([ours.closed, ours.text.startsWith('INFO {')], input).toEqual([false, true]);
    }
  });
});

describe('leaf node authentication on the wire with the real nats-server', () => {
  // What a raw leaf connection sees after CONNECT `connect`, then `input`: the INFO answer's
  // `import`/`export`, and what arrives before the server closes (LS+ and PING left out).
  const session = async (port: number, connect: string, input: string): Promise<{ perms: unknown[]; rest: string }> => {
    const w = await WireClient.open(port);
    w.send(`CONNECT ${connect}\r\n`);
    const answer = JSON.parse((await w.readLine()).replace(/^INFO /, '')) as Json;
    w.dropLines = /(LS\+|PING)[^\n]*\n/g;
    w.send(input);
    const rest = await w.expectClose(3000);
    return { perms: [answer.import, answer.export], rest: rest.replace(/(LS\+|PING)[^\n]*\n/g, '') };
  };

  it("a user's permissions: INFO import/export, and a literal LS+ outside its subscribe permissions closes the connection with the same -ERR", async () => {
    const rh = await real([
      'authorization { users: [ { user: low, password: l, permissions: { publish: { allow: ["allowed.>"] }, subscribe: { allow: ["to-leaf.>"], deny: ["to-leaf.no"] } } } ] }',
    ]);
    const eh: NatsServer = await scope.server({
      authorization: { users: [{ user: 'low', password: 'l', permissions: { publish: { allow: ['allowed.>'] }, subscribe: { allow: ['to-leaf.>'], deny: ['to-leaf.no'] } } }] },
      leafnodes: { port: 0 },
    });
    const connect = '{"name":"wire","user":"low","pass":"l"}';
    for (const input of ['LS+ >\r\nLS+ to-leaf.a\r\nLS+ private.a\r\n', 'LS+ to-leaf.no\r\n']) {
      const theirs = await session(rh.leafPort, connect, input);
      const ours = await session(eh.leafnodePort, connect, input);
      expect(ours, input).toEqual(theirs);
    }
  });

  it("an embedded leaf node of a nats-server hub keeps to the import/export the hub's INFO names: no violation, traffic both ways where allowed", async () => {
    const rh = await real([
      'authorization { users: [ { user: admin, password: a }, { user: low, password: l, permissions: { publish: { allow: ["allowed.>"] }, subscribe: { allow: ["to-leaf.>"] } } } ] }',
    ]);
    const errors: string[] = [];
    const none = (): void => undefined;
    const leaf: NatsServer = await scope.server({
      leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://low:l@127.0.0.1:${rh.leafPort}` }] },
      logger: { info: none, warn: none, error: (m) => void errors.push(m) },
    });
    const lc = await scope.client(leaf);
    const got: string[] = [];
    const admin = await scope.client(rh.url, { user: 'admin', pass: 'a' });
    const atHub: string[] = [];
    admin.subscribe('>', { callback: (_e, m) => void atHub.push(m.subject) });
    await admin.flush();
    // The hub's interest arrives after its INFO naming import/export: the leaf knows them now.
    // (A subscription made before, while the CONNECT is answered, races the permissions, with
    // nats-server's own leaf nodes too.)
    await leaf.waitForSubscription('allowed.x', { timeoutMs: 10_000 });
    // A literal LS+ private.a would make nats-server close the connection (Permissions Violation).
    lc.subscribe('private.a', { callback: (_e, m) => void got.push(m.subject) });
    lc.subscribe('to-leaf.b', { callback: (_e, m) => void got.push(m.subject) });
    await lc.flush();
    await interest(rh.monitor, 'to-leaf.b');
    admin.publish('private.a', 'no');
    admin.publish('to-leaf.b', 'yes');
    lc.publish('secret', 'no');
    lc.publish('allowed.x', 'yes');
    await eventually(() => got.includes('to-leaf.b') && atHub.includes('allowed.x'), 'traffic both ways', 10_000);
    expect(got).toEqual(['to-leaf.b']);
    expect(atHub).not.toContain('secret');
    expect(errors).toEqual([]);
    await leafs(rh.monitor, 1);
  });

  it('a leaf node naming the hub\'s own cluster is refused with the same -ERR', async () => {
    const clusterPort = await freePort();
    const rh = await real([`cluster { name: H, listen: "127.0.0.1:${clusterPort}" }`]);
    const eh: NatsServer = await scope.server({ cluster: { name: 'H', port: 0 }, leafnodes: { port: 0 } });
    const refused = async (port: number): Promise<string> => {
      const w = await WireClient.open(port);
      w.send('CONNECT {"name":"x","cluster":"H"}\r\nPING\r\n');
      return w.expectClose(3000);
    };
    expect(await refused(eh.leafnodePort)).toBe(await refused(rh.leafPort));
  });
});

/**
 * Hub cluster H of an embedded server (`e`) and nats-server 2.9.10, routed: the real server's
 * client `port` and leaf node `leafPort`.
 */
async function mixedHub(): Promise<{ e: NatsServer; port: number; leafPort: number }> {
  const e = await scope.server({ serverName: 'hub-emb', cluster: { name: 'H', port: 0, reconnectDelay: 50 }, leafnodes: { port: 0 } });
  const [port, leafPort, routePort] = [await freePort(), await freePort(), await freePort()];
  const r = await startRealServer(BIN, [
    `listen: "127.0.0.1:${port}"`,
    'server_name: hub-real',
    `cluster { name: H, listen: "127.0.0.1:${routePort}", routes: ["${e.routeUrl}"] }`,
    `leafnodes { listen: "127.0.0.1:${leafPort}" }`,
  ]);
  scope.defer(() => r.stop());
  await eventually(() => e.routes().length === 1, 'the hub route', 10_000);
  return { e, port, leafPort };
}

describe('a leaf cluster attached to a mixed hub cluster', () => {
  // Hub cluster H: an embedded server and nats-server, routed. Leaf cluster L: two embedded
  // servers, routed, one leaf connection to each hub member. Interest of L's servers crosses the
  // hub route as `LS+ L $G <subject>` and L's messages as `LMSG L $G …` (route.go, 2.9.10 and
  // 2.10.29 alike, both advertising `lnoc`); neither hub member sends them back into L through
  // its own leaf connection, so every subscriber gets one copy. With nats-server alone in both
  // clusters (2.9.10), the same topology gives one copy too.
  it('each subscriber of both clusters gets one copy of a message published on either leaf member', async () => {
    const { e: e1, port, leafPort } = await mixedHub();
    const l1 = await scope.server({ serverName: 'leaf-1', cluster: { name: 'L', port: 0, reconnectDelay: 50 }, leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://127.0.0.1:${leafPort}` }] } });
    const l2 = await scope.server({ serverName: 'leaf-2', cluster: { name: 'L', port: 0, routes: [l1.routeUrl!], reconnectDelay: 50 }, leafnodes: { reconnect: 50, remotes: [{ url: e1.leafnodeUrl! }] } });
    await eventually(() => l1.routes().length === 1 && l2.routes().length === 1, 'the leaf route', 10_000);
    const [c1, c2, ce, cr] = [await scope.client(l1), await scope.client(l2), await scope.client(e1), await scope.client(`nats://127.0.0.1:${port}`)];
    const got = [collect(c1, 'bar'), collect(c2, 'bar'), collect(ce, 'bar'), collect(cr, 'bar')];
    const queued = [collect(c1, 'work', 'q'), collect(c2, 'work', 'q')];
    for (const c of [c1, c2, ce, cr]) await c.flush();
    // Each embedded server sees its own subscriber and its peers' interest in `bar` (one entry per
    // route or leaf connection; nats-server 2.9.10 announces a subject once on a route, whatever its origin).
    for (const s of [l1, l2, e1]) await s.waitForSubscription('bar', { count: 3, timeoutMs: 10_000 });
    await l1.waitForSubscription('work', { count: 2, timeoutMs: 10_000 });
    await l2.waitForSubscription('work', { count: 2, timeoutMs: 10_000 });
    c1.publish('bar', 'from leaf-1');
    c2.publish('bar', 'from leaf-2');
    for (let i = 0; i < 10; i++) (i % 2 === 0 ? c1 : c2).publish('work', `w${i}`);
    await c1.flush();
    await c2.flush();
    await eventually(() => got.every((g) => g.length >= 2) && queued[0].length + queued[1].length >= 10, 'the messages', 10_000);
    // A second copy through the hub cluster would come within milliseconds.
    await new Promise((res) => setTimeout(res, 200));
    for (const g of got) expect([...g].sort()).toEqual(['from leaf-1', 'from leaf-2']);
    expect([...queued[0], ...queued[1]].sort()).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8', 'w9']);
  });
});

describe("a hub's leaf node clusters' interest on a route to nats-server 2.9.10 (lnoc, no lnocu)", () => {
  // 2.9.10 keys a route's interest by subject alone (route.go processRemoteSub), so RS- or LS-
  // withdraws a subject whoever announced it. The embedded hub counts its own clients' and each
  // leaf node cluster's interest together towards it and withdraws a subject only when nobody
  // wants it any more: a client leaving, or one leaf cluster leaving, takes no interest away
  // from the other leaf cluster.
  it('a subject one leaf cluster, another one and a local client all want stays wanted until the last one leaves', async () => {
    const { e, port } = await mixedHub();
    const la = await scope.server({ serverName: 'leaf-a', cluster: { name: 'A', port: 0 }, leafnodes: { reconnect: 50, remotes: [{ url: e.leafnodeUrl! }] } });
    const lb = await scope.server({ serverName: 'leaf-b', cluster: { name: 'B', port: 0 }, leafnodes: { reconnect: 50, remotes: [{ url: e.leafnodeUrl! }] } });
    const [ca, cb, ce, cr] = [await scope.client(la), await scope.client(lb), await scope.client(e), await scope.client(`nats://127.0.0.1:${port}`)];
    const subA = ca.subscribe('foo', { callback: () => undefined });
    const gotB = collect(cb, 'foo');
    const subE = ce.subscribe('foo', { callback: () => undefined });
    for (const c of [ca, cb, ce]) await c.flush();
    await e.waitForSubscription('foo', { count: 3, timeoutMs: 10_000 });
    // The real server has processed everything the hub sent before `sync<n>`'s interest once a
    // message on it gets through (a route is one ordered stream).
    let n = 0;
    const synced = async (): Promise<void> => {
      const got: string[] = [];
      const s = ce.subscribe(`sync${++n}`, { callback: (_err, m) => void got.push(m.string()) });
      await ce.flush();
      await publishUntil(cr, `sync${n}`, () => got.length > 0);
      s.unsubscribe();
    };
    await synced();
    subE.unsubscribe();
    await ce.flush();
    subA.unsubscribe();
    await ca.flush();
    await e.waitForSubscription('foo', { count: 1, timeoutMs: 10_000 });
    await synced();
    cr.publish('foo', 'still wanted');
    await cr.flush();
    await eventually(() => gotB.length > 0, 'the message at leaf cluster B', 5_000);
    expect(gotB).toEqual(['still wanted']);
  });
});

describe('a leaf cluster attached to an embedded and a nats-server 2.9.10 hub member, interest that changes hands', () => {
  // 2.9.10 keeps the origin of a subject's first announcement (`LS+ A …`) for as long as the
  // subject stays wanted, and tells none of its leaf connections of cluster A of it. The embedded
  // hub therefore announces interest to it as plain RS+ (never LS+), and does not keep the origin
  // 2.9.10 announces: when leaf cluster A's interest leaves and a hub client's stays, a publisher
  // in A still reaches the hub client, through either hub member.
  /** A raw leaf node server of cluster A at `port`. */
  async function rawLeafA(port: number): Promise<WireClient> {
    const w = await WireClient.open(port);
    scope.defer(() => w.close());
    w.dropLines = /LS[+-] [^\r]*\r\n/g;
    w.send('CONNECT {"name":"leaf-raw","cluster":"A","headers":true}\r\n');
    await w.drain();
    return w;
  }

  for (const rawOnEmbedded of [true, false]) {
    it(`A's interest first on the ${rawOnEmbedded ? 'embedded' : 'nats-server'} hub member, then a hub client's on the ${rawOnEmbedded ? 'embedded' : 'nats-server'} one, then A's leaves`, async () => {
      const { e, port, leafPort } = await mixedHub();
      const raw = await rawLeafA(rawOnEmbedded ? e.leafnodePort! : leafPort);
      const member = await scope.server({ serverName: 'leaf-a', cluster: { name: 'A', port: 0 }, leafnodes: { reconnect: 50, remotes: [{ url: rawOnEmbedded ? `nats-leaf://127.0.0.1:${leafPort}` : e.leafnodeUrl! }] } });
      const publisher = await scope.client(member);
      const hubClient = await scope.client(rawOnEmbedded ? e : `nats://127.0.0.1:${port}`);
      raw.send('LS+ foo\r\n');
      await raw.drain();
      await e.waitForSubscription('foo', { timeoutMs: 10_000 });
      const got = collect(hubClient, 'foo');
      await hubClient.flush();
      raw.send('LS- foo\r\n');
      await raw.drain();
      await publishUntil(publisher, 'foo', () => got.length > 0, 10_000);
      expect(got.length).toBeGreaterThan(0);
    });
  }
});

describe('account imports through a leaf node connection, with the real nats-server', () => {
  // client.go processServiceImport (2.9.10 and 2.10.29 alike) stops only routes' and gateways'
  // requests: a leaf node's request crosses its account's service import; the import's subject
  // is interest announced to the leaf node (addServiceImportSub → updateLeafNodes, and
  // initLeafNodeSmapAndSendSubs); a leaf node's interest in a stream-imported subject gets
  // shadows in the exporting account (leafnode.go processLeafSub → addShadowSubscriptions).
  const EXPORTS_CONF = [
    'accounts {',
    '  EXP { users: [{ user: exp, password: x }], exports: [{ service: "svc.>" }, { stream: "ev.>" }] }',
    '  IMP {',
    '    users: [{ user: imp, password: x }]',
    '    imports: [{ service: { account: EXP, subject: "svc.>" } }, { stream: { account: EXP, subject: "ev.>" }, prefix: from.exp }]',
    '  }',
    '}',
  ];
  const EXPORTS = {
    EXP: { users: [{ user: 'exp', password: 'x' }], exports: [{ service: 'svc.>' }, { stream: 'ev.>' }] },
    IMP: {
      users: [{ user: 'imp', password: 'x' }],
      imports: [{ service: { account: 'EXP', subject: 'svc.>' } }, { stream: { account: 'EXP', subject: 'ev.>' }, prefix: 'from.exp' }],
    },
  };

  /** The leaf node's `$G` is bound to IMP on the hub; what its clients see must not depend on which server is which. */
  async function importsAcross(hubUrl: string, hubMon: string, leafUrl: string, leafSide: NatsServer | string): Promise<void> {
    const exp = await scope.client(hubUrl, { user: 'exp', pass: 'x' });
    exp.subscribe('svc.>', { queue: 'workers', callback: (_e, m) => void m.respond(`${m.subject} ${m.headers?.get('Nats-Request-Info') ?? ''}`) });
    await exp.flush();
    // The service import's subject, announced to the leaf node.
    if (typeof leafSide === 'string') await eventually(async () => JSON.stringify(await monitorJson(leafSide, '/leafz?subs=1')).includes('"svc.>"'), 'svc.> on the leaf node', 10_000);
    else await leafSide.waitForSubscription('svc.a', { timeoutMs: 10_000 });
    const l = await scope.client(leafUrl);
    const [subject, info] = (await l.request('svc.a', 'q', { timeout: 3000 })).string().split(' ');
    expect(subject).toBe('svc.a');
    // The leaf connection's ClientInfo (getClientInfo of the LEAF connection, no `share`): its
    // account, and its RTT once measured.
    const ci = JSON.parse(info) as Json;
    expect(ci.acc).toBe('IMP');
    expect(Object.keys(ci).filter((k) => k !== 'rtt')).toEqual(['acc']);

    // Stream import: the exporter's message reaches the leaf node's subscriber under the prefix.
    const got: string[] = [];
    const sub = l.subscribe('from.exp.ev.*', { callback: (_e, m) => void got.push(`${m.subject} ${m.string()}`) });
    await l.flush();
    const onHub = async (): Promise<boolean> => JSON.stringify(await monitorJson(hubMon, '/leafz?subs=1')).includes('"from.exp.ev.*"');
    await eventually(onHub, 'the leaf node\'s interest on the hub', 10_000);
    await publishUntil(exp, 'ev.a', () => got.length > 0, 10_000, 'one');
    expect(got[0]).toBe('from.exp.ev.a one');
    // A second, overlapping subscription of the leaf node: one copy for each (one LMSG), checked
    // with a marker sent after.
    const both: string[] = [];
    const sub2 = l.subscribe('from.exp.ev.x', { callback: (_e, m) => void both.push(m.string()) });
    const marked: string[] = [];
    l.subscribe('from.exp.ev.mark', { callback: (_e, m) => void marked.push(m.string()) });
    await l.flush();
    await eventually(async () => JSON.stringify(await monitorJson(hubMon, '/leafz?subs=1')).includes('"from.exp.ev.mark"'), 'the overlapping interest on the hub', 10_000);
    exp.publish('ev.x', 'x');
    exp.publish('ev.mark', 'm');
    await exp.flush();
    await eventually(() => marked.length === 1, 'the marker');
    expect([got.filter((g) => g.startsWith('from.exp.ev.x')), both]).toEqual([['from.exp.ev.x x'], ['x']]);
    sub2.unsubscribe();
    // After the unsubscribe, nothing more: a marker published after ev.b in IMP arrives, ev.b does not.
    sub.unsubscribe();
    await l.flush();
    await eventually(async () => !(await onHub()), 'the LS- on the hub', 10_000);
    const n = got.length;
    const marks = collect(l, 'mark');
    await l.flush();
    await eventually(async () => JSON.stringify(await monitorJson(hubMon, '/leafz?subs=1')).includes('"mark"'), 'the marker\'s interest', 10_000);
    exp.publish('ev.b', 'two');
    await exp.flush();
    const imp = await scope.client(hubUrl, { user: 'imp', pass: 'x' });
    imp.publish('mark', 'm');
    await imp.flush();
    await eventually(() => marks.length === 1, 'the marker');
    expect(got.length).toBe(n);
  }

  it('nats-server hub with exports and imports, embedded leaf node bound to the importing account', async () => {
    const hub = await real(EXPORTS_CONF);
    const leaf = await scope.server({ leafnodes: { reconnect: 100, remotes: [{ url: `nats-leaf://imp:x@127.0.0.1:${hub.leafPort}` }] } });
    expect((await leafs(hub.monitor, 1))[0]).toMatchObject({ account: 'IMP' });
    await importsAcross(hub.url, hub.monitor, leaf.url, leaf);
  });

  it('embedded hub with exports and imports, nats-server leaf node bound to the importing account', async () => {
    const hub = await scope.server({ http: -1, accounts: EXPORTS, leafnodes: { port: 0 } });
    const leaf = await real([`leafnodes { reconnect: 1, remotes: [{ url: "nats-leaf://imp:x@127.0.0.1:${hub.leafnodePort}" }] }`], false);
    expect((await leafs(hub.monitorUrl!, 1))[0]).toMatchObject({ account: 'IMP' });
    await importsAcross(hub.url, hub.monitorUrl!, leaf.url, leaf.monitor);
  });
});

describe('service imports across a gateway to the real nats-server, a leaf node\'s and a client\'s requests', () => {
  // client.go processServiceImport (2.9.10 and 2.10.29 alike): the request an import forwards
  // goes on to the gateways (sendMsgToGateways), and a request that came from a gateway crosses no
  // service import. Cluster E is embedded (with a leaf node bound to IMP), cluster R nats-server;
  // both have the same accounts. Each responder counts what it gets: one copy per request.
  it('a requester in either cluster reaches the exporter\'s responder in the other one once', async () => {
    const [port, gwPort] = [await freePort(), await freePort()];
    const r = await startRealServer(BIN, [
      `listen: "127.0.0.1:${port}"`,
      'server_name: real-r',
      `gateway { name: R, listen: "127.0.0.1:${gwPort}" }`,
      ...[
        'accounts {',
        '  EXP { users: [{ user: exp, password: x }], exports: [{ service: "svc.>" }] }',
        '  IMP { users: [{ user: imp, password: x }], imports: [{ service: { account: EXP, subject: "svc.>" } }] }',
        '}',
      ],
    ]);
    scope.defer(() => r.stop());
    const accounts = {
      EXP: { users: [{ user: 'exp', password: 'x' }], exports: [{ service: 'svc.>' }] },
      IMP: { users: [{ user: 'imp', password: 'x' }], imports: [{ service: { account: 'EXP', subject: 'svc.>' } }] },
    };
    const e = await scope.server({ http: -1, accounts, gateway: { name: 'E', gateways: [{ name: 'R', url: `nats://127.0.0.1:${gwPort}` }] }, leafnodes: { port: 0 } });
    const leaf = await scope.server({ leafnodes: { reconnect: 100, remotes: [{ url: `nats-leaf://imp:x@127.0.0.1:${e.leafnodePort}` }] } });
    await leaf.waitForSubscription('svc.a', { timeoutMs: 10_000 });
    const realUrl = `nats://127.0.0.1:${port}`;
    const seenR: string[] = [];
    const seenE: string[] = [];
    const expR = await scope.client(realUrl, { user: 'exp', pass: 'x' });
    expR.subscribe('svc.r.>', { callback: (_e, m) => {
      seenR.push(m.subject);
      m.respond('R');
    } });
    await expR.flush();
    const expE = await scope.client(e, { user: 'exp', pass: 'x' });
    expE.subscribe('svc.e.>', { callback: (_e, m) => {
      seenE.push(m.subject);
      m.respond('E');
    } });
    await expE.flush();
    const onLeaf = await scope.client(leaf);
    const impE = await scope.client(e, { user: 'imp', pass: 'x' });
    const impR = await scope.client(realUrl, { user: 'imp', pass: 'x' });
    const ask = (nc: NatsConnection, subject: string): Promise<string> => eventually(async () => (await nc.request(subject, '', { timeout: 500 }).catch(() => null))?.string(), `a reply on ${subject}`, 10_000);
    // The gateways are up once a request crosses each way.
    expect(await ask(onLeaf, 'svc.r.warm')).toBe('R');
    expect(await ask(impR, 'svc.e.warm')).toBe('E');
    seenR.length = 0;
    seenE.length = 0;
    expect((await onLeaf.request('svc.r.leaf', '', { timeout: 2000 })).string()).toBe('R');
    expect((await impE.request('svc.r.client', '', { timeout: 2000 })).string()).toBe('R');
    expect((await impR.request('svc.e.real', '', { timeout: 2000 })).string()).toBe('E');
    // Markers after them: a second copy of any would be there before.
    expect((await onLeaf.request('svc.r.mark', '', { timeout: 2000 })).string()).toBe('R');
    expect((await impR.request('svc.e.mark', '', { timeout: 2000 })).string()).toBe('E');
    expect(seenR).toEqual(['svc.r.leaf', 'svc.r.client', 'svc.r.mark']);
    expect(seenE).toEqual(['svc.e.real', 'svc.e.mark']);
  });
});
