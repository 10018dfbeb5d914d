/**
 * Leaf nodes between embedded servers (nats-server 2.10 leafnode.go), through the official client
 * and on the wire: traffic both ways, request/reply, queue groups across the leaf connection,
 * interest withdrawal, account binding, loop detection, reconnect after the hub restarts, routes
 * behind the hub, `/leafz` and `/varz`.
 */
import { describe, expect, it } from 'vitest';
import { credsAuthenticator, headers, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type NatsServer, type ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { monitorJson, type Json } from '../helpers/monitor.js';
import { WireClient } from '../helpers/wire.js';
import { makeAccount, makeOperator, makeUser } from '../helpers/jwt.js';
import { useTempDirs } from '../helpers/temp-dirs.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';

const scope = useScope();
const tempDir = useTempDirs('nats-leaf-');

async function hubAndLeaf(hubOpts: ServerOptions = {}, leafRemote: Record<string, unknown> = {}): Promise<{ hub: NatsServer; leaf: NatsServer }> {
  const hub = await scope.server({ http: -1, ...hubOpts, leafnodes: { port: 0, ...hubOpts.leafnodes } });
  const leaf = await scope.server({ http: -1, leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, ...leafRemote }] } });
  await connected(hub, 1);
  return { hub, leaf };
}

/** Waits until `server` has `n` registered leaf connections (its `/leafz`). */
async function connected(server: NatsServer, n: number): Promise<Json> {
  return eventually(async () => {
    // A restarted server's monitor closes the kept-alive socket of the last request.
    const l = await monitorJson(server.monitorUrl!, '/leafz').catch(() => null);
    return l !== null && l.leafnodes === n ? l : false;
  }, `${n} leaf connection(s)`, 5000);
}

function collect(nc: NatsConnection, subject: string, queue?: string): string[] {
  const got: string[] = [];
  nc.subscribe(subject, { queue, callback: (_e, m) => void got.push(m.string()) });
  return got;
}

describe('leaf nodes between embedded servers', () => {
  it('carries messages both ways, requests and replies, and headers', async () => {
    const { hub, leaf } = await hubAndLeaf();
    const h = await scope.client(hub);
    const l = await scope.client(leaf);
    const onLeaf = collect(l, 'to.leaf');
    const onHub = collect(h, 'to.hub');
    h.subscribe('svc', { callback: (_e, m) => void m.respond(`hub:${m.string()}`) });
    l.subscribe('hdr', { callback: (_e, m) => void m.respond(m.headers?.get('X-Test') ?? 'none') });
    await l.flush();
    await h.flush();
    await hub.waitForSubscription('to.leaf');
    await hub.waitForSubscription('hdr');
    await leaf.waitForSubscription('to.hub');
    await leaf.waitForSubscription('svc');
    h.publish('to.leaf', 'a');
    l.publish('to.hub', 'b');
    expect((await l.request('svc', 'q', { timeout: 2000 })).string()).toBe('hub:q');
    const hd = headers();
    hd.set('X-Test', 'yes');
    expect((await h.request('hdr', '', { timeout: 2000, headers: hd })).string()).toBe('yes');
    await eventually(() => onLeaf.length === 1 && onHub.length === 1, 'both messages');
    expect([onLeaf, onHub]).toEqual([['a'], ['b']]);
    // A publisher on the leaf does not get its own message back through the hub.
    const echo = collect(l, 'to.hub');
    await l.flush();
    l.publish('to.hub', 'c');
    await eventually(() => onHub.length === 2, 'the second message');
    await l.flush();
    expect(echo).toEqual(['c']);
  });

  it('queue groups: the publisher side\'s member first, the other side\'s when it has none; one member each message', async () => {
    const { hub, leaf } = await hubAndLeaf();
    const h = await scope.client(hub);
    const l = await scope.client(leaf);
    const hubQ = collect(h, 'work', 'q');
    const leafQ1 = collect(l, 'work', 'q');
    const leafQ2 = collect(l, 'work', 'q');
    await h.flush();
    await l.flush();
    // The hub counts the leaf's two members as one weighted entry (LS+ work q 2).
    await hub.waitForSubscription('work', { count: 2 });
    await leaf.waitForSubscription('work', { count: 3 });
    for (let i = 0; i < 20; i++) h.publish('work', `h${i}`);
    for (let i = 0; i < 20; i++) l.publish('work', `l${i}`);
    await h.flush();
    await l.flush();
    await eventually(() => hubQ.length === 20 && leafQ1.length + leafQ2.length === 20, '40 messages');
    // nats-server 2.10 processMsgResults: a leaf connection's member is only a fallback.
    expect(hubQ.every((m) => m.startsWith('h'))).toBe(true);
    expect([...leafQ1, ...leafQ2].every((m) => m.startsWith('l'))).toBe(true);
    // Without a member on the hub, the leaf's members get the hub's messages.
    await h.drain();
    await eventually(async () => (await monitorJson(hub.monitorUrl!, '/subsz')).num_subscriptions === 2, 'the hub member gone');
    const h2 = await scope.client(hub);
    for (let i = 0; i < 10; i++) h2.publish('work', `x${i}`);
    await h2.flush();
    await eventually(() => leafQ1.length + leafQ2.length === 30, 'the hub\'s messages on the leaf');
    expect([...leafQ1, ...leafQ2].filter((m) => m.startsWith('x')).sort()).toEqual([...Array(10).keys()].map((i) => `x${i}`).sort());
  });

  it('an unsubscribe on one side withdraws the interest on the other (no more messages cross)', async () => {
    const { hub, leaf } = await hubAndLeaf();
    const l = await scope.client(leaf);
    const sub = l.subscribe('gone');
    await l.flush();
    await hub.waitForSubscription('gone');
    const leafz = await monitorJson(hub.monitorUrl!, '/leafz?subs=1');
    expect((leafz.leafs as Json[])[0].subscriptions_list).toContain('gone');
    sub.unsubscribe();
    await l.flush();
    await eventually(async () => !((await monitorJson(hub.monitorUrl!, '/leafz?subs=1')).leafs as Json[])[0].subscriptions_list?.toString().includes('gone'), 'LS- on the hub');
    const before = ((await monitorJson(hub.monitorUrl!, '/leafz')).leafs as Json[])[0].out_msgs;
    const h = await scope.client(hub);
    h.publish('gone', 'x');
    await h.flush();
    expect(((await monitorJson(hub.monitorUrl!, '/leafz')).leafs as Json[])[0].out_msgs).toBe(before);
  });

  it('binds each connection to its account: the hub user\'s on one side, the remote\'s local account on the other', async () => {
    const accounts = {
      A: { users: [{ user: 'a', password: 'pa' }] },
      B: { users: [{ user: 'b', password: 'pb' }] },
    };
    const hub = await scope.server({ http: -1, accounts, leafnodes: { port: 0 } });
    const port = hub.leafnodePort;
    const leaf = await scope.server({
      http: -1,
      accounts: { LA: { users: [{ user: 'la', password: 'x' }] }, LB: { users: [{ user: 'lb', password: 'x' }] } },
      leafnodes: { reconnect: 50, remotes: [
        { url: `nats-leaf://a:pa@127.0.0.1:${port}`, account: 'LA' },
        { url: `nats-leaf://b:pb@127.0.0.1:${port}`, account: 'LB' },
      ] },
    });
    const lz = await connected(hub, 2);
    expect((lz.leafs as Json[]).map((x) => x.account).sort()).toEqual(['A', 'B']);
    expect(((await connected(leaf, 2)).leafs as Json[]).map((x) => [x.account, x.is_spoke]).sort()).toEqual([['LA', true], ['LB', true]]);
    const ha = await scope.client(hub, { user: 'a', pass: 'pa' });
    const hb = await scope.client(hub, { user: 'b', pass: 'pb' });
    const inA = collect(ha, 'x');
    const inB = collect(hb, 'x');
    await ha.flush();
    await hb.flush();
    await leaf.waitForSubscription('x', { count: 2 });
    const la = await scope.client(leaf, { user: 'la', pass: 'x' });
    la.publish('x', 'from LA');
    await la.flush();
    await eventually(() => inA.length === 1, 'the message in A');
    await hb.flush();
    expect([inA, inB]).toEqual([['from LA'], []]);
    // Wrong credentials: refused with nats-server's -ERR.
    const w = await WireClient.open(port);
    w.send('CONNECT {"user":"a","pass":"nope"}\r\n');
    await w.expect("-ERR 'Authorization Violation'\r\n");
    await w.expectClose();
  });

  it('a remote with a creds file binds to the user\'s account on a hub in operator mode', async () => {
    const op = makeOperator();
    const acc = makeAccount(op.kp);
    const user = makeUser(acc.kp);
    const hub = await scope.server({ http: -1, operator: op.jwt, resolver: 'MEMORY', resolverPreload: { [acc.pub]: acc.jwt }, leafnodes: { port: 0 } });
    const creds = join(tempDir(), 'leaf.creds');
    writeFileSync(creds, user.creds);
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, credentials: creds }] } });
    expect((await connected(hub, 1)).leafs).toMatchObject([{ account: acc.pub }]);
    const h = await scope.client(hub, { authenticator: credsAuthenticator(new TextEncoder().encode(user.creds)) });
    const got = collect(h, 'op.x');
    await h.flush();
    await leaf.waitForSubscription('op.x');
    const l = await scope.client(leaf);
    l.publish('op.x', 'signed');
    await l.flush();
    await eventually(() => got.length === 1, 'the message in the JWT account');
  });

  it('on the wire: leaf INFO, LS+/LS- with queue weights, LMSG in, and loop detection through $LDS.', async () => {
    const hub = await scope.server({ leafnodes: { port: 0 } });
    const w = await WireClient.open(hub.leafnodePort);
    // leafnode.go: a leaf node port's INFO has a client id, leafnode URLs and info_on_connect.
    expect(w.info).toMatchObject({ auth_required: true, proto: 1, info_on_connect: true, leafnode_urls: [`127.0.0.1:${hub.leafnodePort}`] });
    expect(typeof w.info.client_id).toBe('number');
    expect(typeof w.info.nonce).toBe('string');
    w.send('CONNECT {"name":"wire-leaf","headers":true}\r\n');
    const info = JSON.parse((await w.readLine()).replace(/^INFO /, '')) as Json;
    expect(info).toMatchObject({ connect_info: true, remote_account: '$G' });
    const lds = await w.readLine();
    expect(lds).toMatch(/^LS\+ \$LDS\.\S+$/);
    const nc = await scope.client(hub);
    const s1 = nc.subscribe('foo');
    const s2 = nc.subscribe('foo');
    nc.subscribe('bar', { queue: 'q' });
    const q2 = nc.subscribe('bar', { queue: 'q' });
    await nc.flush();
    await w.expect('LS+ foo\r\nLS+ bar q 1\r\nLS+ bar q 2\r\n');
    s1.unsubscribe();
    q2.unsubscribe();
    await nc.flush();
    await w.expect('LS+ bar q 1\r\n');
    s2.unsubscribe();
    await nc.flush();
    await w.expect('LS- foo\r\n');
    // A message from the leaf reaches the hub's client; a queue group named in LMSG gets it once.
    const got: string[] = [];
    nc.subscribe('in', { callback: (_e, m) => void got.push(`${m.subject}:${m.reply ?? ''}:${m.string()}`) });
    await nc.flush();
    await w.expect('LS+ in\r\n');
    w.send('LMSG in reply.to 2\r\nhi\r\nLMSG in 3\r\nyou\r\n');
    await eventually(() => got.length === 2, 'the two LMSGs');
    expect(got).toEqual(['in:reply.to:hi', 'in::you']);
    // The hub's own loop detection subject coming back: a loop (nats-server's error, then close).
    w.send(`LS+ ${lds.slice(4)}\r\n`);
    await w.expect(`-ERR 'Loop detected for leafnode account="$G". Delaying attempt to reconnect for 30s'\r\n`);
    await w.expectClose();
  });

  it('a client on the leaf node port is refused, as nats-server does', async () => {
    const hub = await scope.server({ leafnodes: { port: 0 } });
    const w = await WireClient.open(hub.leafnodePort);
    w.send('CONNECT {"lang":"node","verbose":false}\r\n');
    await w.expect("-ERR 'attempted to connect to leaf node port'\r\n");
    await w.expectClose();
  });

  it('reconnects after the hub restarts and sends its interest again', async () => {
    const { hub, leaf } = await hubAndLeaf();
    const l = await scope.client(leaf);
    const got = collect(l, 'again');
    await l.flush();
    await hub.waitForSubscription('again');
    let changes = 0;
    leaf.on('leafnodesChanged', () => void changes++);
    await hub.restart();
    await connected(hub, 1);
    // The leaf saw its connection go down and come up again.
    await eventually(() => changes >= 2, 'two leafnodesChanged events');
    await hub.waitForSubscription('again');
    const h = await scope.client(hub);
    h.publish('again', 'after restart');
    await h.flush();
    await eventually(() => got.length === 1, 'the message after the restart');
    expect(got).toEqual(['after restart']);
  });

  it('a ws:// remote reaches the hub through its websocket listener (/leafnode), with request/reply', async () => {
    const hub = await scope.server({ http: -1, websocket: { noTls: true }, leafnodes: { port: 0 } });
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `ws://127.0.0.1:${hub.websocketPort}` }] } });
    await connected(hub, 1);
    const h = await scope.client(hub);
    const l = await scope.client(leaf);
    const got = collect(l, 'w');
    h.subscribe('svc', { callback: (_e, m) => void m.respond('ok') });
    await l.flush();
    await h.flush();
    await hub.waitForSubscription('w');
    await leaf.waitForSubscription('svc');
    h.publish('w', 'over ws');
    expect((await l.request('svc', '', { timeout: 2000 })).string()).toBe('ok');
    await eventually(() => got.length === 1, 'the message over the websocket');
    expect(got).toEqual(['over ws']);
  });

  it('/varz reports the leaf block and the leafnodes count', async () => {
    const { hub, leaf } = await hubAndLeaf();
    const hv = await monitorJson(hub.monitorUrl!, '/varz');
    expect(hv.leaf).toEqual({ host: '127.0.0.1', port: hub.leafnodePort, auth_timeout: 2 });
    expect(hv.leafnodes).toBe(1);
    const lv = await monitorJson(leaf.monitorUrl!, '/varz');
    expect(lv.leaf).toEqual({ remotes: [{ local_account: '$G', urls: [`nats-leaf://127.0.0.1:${hub.leafnodePort}`] }] });
    expect(lv.leafnodes).toBe(1);
    const lz = (await monitorJson(leaf.monitorUrl!, '/leafz')).leafs as Json[];
    expect(lz[0]).toMatchObject({ name: hub.info.server_name, is_spoke: true, account: '$G', ip: '127.0.0.1', port: hub.leafnodePort });
  });
  it('a remote\'s deny_imports and deny_exports: that interest is not announced, those messages do not cross (CONNECT deny_pub)', async () => {
    const { hub, leaf } = await hubAndLeaf({}, { denyImports: ['in.secret', 'in.deny.>'], denyExports: ['out.secret'] });
    const h = await scope.client(hub);
    const l = await scope.client(leaf);
    const leafAll = collect(l, 'in.>');
    const leafSecret = collect(l, 'in.secret');
    const hubAll = collect(h, 'out.>');
    await l.flush();
    await h.flush();
    await hub.waitForSubscription('in.>');
    await leaf.waitForSubscription('out.>');
    // The literal subscription on a denied import is not announced to the hub (canSubscribe).
    const z = await monitorJson(hub.monitorUrl!, '/leafz?subs=1');
    const announced = (z.leafs as Json[])[0].subscriptions_list as string[];
    expect(announced).toContain('in.>');
    expect(announced).not.toContain('in.secret');
    h.publish('in.secret', 'secret');
    h.publish('in.deny.x', 'deny');
    h.publish('in.ok', 'ok');
    h.publish('in.end', 'end');
    l.publish('out.secret', 'secret');
    l.publish('out.ok', 'ok');
    l.publish('out.end', 'end');
    await h.flush();
    await l.flush();
    await eventually(() => leafAll.length >= 2 && hubAll.length >= 2, 'the allowed messages');
    expect(leafAll).toEqual(['ok', 'end']);
    expect(leafSecret).toEqual([]);
    expect(hubAll).toEqual(['ok', 'end']);
  });

  it('reads deny_imports and deny_exports of a remote from a config file (a subject or a list)', () => {
    const o = optionsFromConf(parseConf('leafnodes { remotes: [{ url: "nats-leaf://h:7422", deny_imports: "a.>", deny_export: ["b", "c.*"] }] }', 'leaf.conf', {}));
    expect(o.options.leafnodes?.remotes).toEqual([{ url: 'nats-leaf://h:7422', denyImports: ['a.>'], denyExports: ['b', 'c.*'] }]);
  });
  it('a remote with hub: true makes the dialling server the hub: the accepting one acts as the leaf node', async () => {
    const cluster = await scope.cluster({ size: 2, http: -1, leafnodes: { port: 0 } });
    const [b, b2] = cluster.servers;
    const a = await scope.server({ http: -1, leafnodes: { reconnect: 50, remotes: [{ url: b.leafnodeUrl!, hub: true }] } });
    const [za, zb] = [await connected(a, 1), await connected(b, 1)];
    expect([(za.leafs as Json[])[0].is_spoke, (zb.leafs as Json[])[0].is_spoke]).toEqual([false, true]);
    const onA = await scope.client(a);
    const gotA = collect(onA, 'x');
    await onA.flush();
    await b.waitForSubscription('x');
    // b is the spoke: its hub's interest stays with it, b2 (its route peer) does not learn it.
    const [onB, onB2] = [await scope.client(b), await scope.client(b2)];
    onB2.publish('x', 'from b2');
    await onB2.flush();
    onB.publish('x', 'from b');
    await onB.flush();
    await eventually(() => gotA.length > 0, 'the message from b');
    await new Promise((r) => setTimeout(r, 50));
    expect(gotA).toEqual(['from b']);
    // Without hub: true, b (the hub) announces a's interest to b2.
    const a2 = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: b.leafnodeUrl! }] } });
    const onA2 = await scope.client(a2);
    const gotA2 = collect(onA2, 'y');
    await onA2.flush();
    await b2.waitForSubscription('y');
    onB2.publish('y', 'from b2');
    await onB2.flush();
    await eventually(() => gotA2.length === 1, 'the message from b2 to a leaf node of b');
  });
});

/**
 * A leaf node's INFO or CONNECT that Go cannot decode (client.go processInfo/processConnect,
 * leafnode.go processLeafNodeConnect: json.Unmarshal into Info, ClientOpts, leafConnectInfo)
 * closes the connection as a protocol violation without -ERR; `null` decodes as an empty object.
 * nats-server 2.9.10 answers the same on the wire (test/conformance/leafnode-interop.test.ts).
 */
describe('leaf node INFO and CONNECT that Go cannot decode', () => {
  it('closes the connection without a word: not an object, bad JSON, a field of the wrong type', async () => {
    const hub = await scope.server({ leafnodes: { port: 0 } });
    const sent = [
      ...['[1]', '1', '"s"', 'true', '{bad', '{"port":"x"}'].map((j) => `INFO ${j}`),
      ...['[1]', '1', '"s"', 'false', '{bad', '{"verbose":"x"}', '{"is_hub":"yes"}', '{"deny_pub":"foo"}'].map((j) => `CONNECT ${j}`),
    ];
    for (const line of sent) {
      const w = await WireClient.open(hub.leafnodePort);
      scope.defer(() => w.close());
      w.send(`${line}\r\n`);
      expect(await w.expectClose(), line).toBe('');
    }
  });

  it('refuses a CONNECT naming an account (client.go processConnect: an authorization violation)', async () => {
    const hub = await scope.server({ leafnodes: { port: 0 } });
    for (const json of ['{"account":"A"}', '{"new_account":true}']) {
      const w = await WireClient.open(hub.leafnodePort);
      scope.defer(() => w.close());
      w.send(`CONNECT ${json}\r\n`);
      expect(await w.expectClose(), json).toBe("-ERR 'Authorization Violation'\r\n");
    }
  });

  it('CONNECT null is an empty CONNECT: the leaf node is bound and gets its INFO', async () => {
    const hub = await scope.server({ leafnodes: { port: 0 } });
    const w = await WireClient.open(hub.leafnodePort);
    scope.defer(() => w.close());
    w.send('CONNECT null\r\n');
    const info = JSON.parse((await w.readLine()).replace(/^INFO /, '')) as Json;
    expect(info).toMatchObject({ connect_info: true, remote_account: '$G' });
  });
});

describe('leaf node liveness', () => {
  it('closes a leaf connection that answers no PING: -ERR \'Stale Connection\' after maxPingsOut', async () => {
    const hub = await scope.server({ leafnodes: { port: 0 }, pingInterval: 50, maxPingsOut: 1 });
    const w = await WireClient.open(hub.leafnodePort);
    scope.defer(() => w.close());
    w.send('CONNECT {"name":"quiet-leaf"}\r\n');
    // Registered: the first PING after min(ping interval, 1 s); unanswered, the next tick closes it.
    const rest = await w.expectClose(3000);
    expect(rest).toMatch(/PING\r\n-ERR 'Stale Connection'\r\n$/);
  });
});
