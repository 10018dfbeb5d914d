/**
 * Authentication of accepted leaf node connections (nats-server 2.10 auth.go
 * isLeafNodeAuthorized, leafnode.go processLeafNodeConnect): a user's permissions bind its leaf
 * connection (swapped on the hub's side: what it may publish is what the leaf node may send in,
 * what it may subscribe to is what the hub sends it; INFO `import`/`export` tell the leaf node),
 * a JWT user's allowed_connection_types see LEAFNODE, a second CONNECT moves the connection's
 * interest, and a leaf node of the hub's own cluster is refused.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { NatsServer, ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { monitorJson } from '../helpers/monitor.js';
import { WireClient } from '../helpers/wire.js';
import { makeAccount, makeOperator, makeUser } from '../helpers/jwt.js';

const scope = useScope();

function errorLog(): { lines: string[]; logger: NonNullable<ServerOptions['logger']> } {
  const lines: string[] = [];
  const none = (): void => undefined;
  return { lines, logger: { info: none, warn: none, error: (m) => void lines.push(m) } };
}

/** `low` may publish on `allowed.>` only and receive `to-leaf.>` only. */
async function permHub(): Promise<NatsServer> {
  return scope.server({
    http: -1,
    authorization: { users: [
      { user: 'admin', password: 'a' },
      { user: 'low', password: 'l', permissions: { publish: { allow: ['allowed.>'] }, subscribe: { allow: ['to-leaf.>'] } } },
    ] },
    leafnodes: { port: 0 },
  });
}

describe("a user's permissions on its leaf connection", () => {
  it('the leaf node of a restricted user gets no interest, and sends nothing, outside its publish permissions', async () => {
    const hub = await permHub();
    const admin = await scope.client(hub, { user: 'admin', pass: 'a' });
    const got: string[] = [];
    admin.subscribe('secret', { callback: (_e, m) => void got.push(m.subject) });
    admin.subscribe('allowed.>', { callback: (_e, m) => void got.push(m.subject) });
    await admin.flush();
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://low:l@127.0.0.1:${hub.leafnodePort}` }] } });
    await leaf.waitForSubscription('allowed.x', { timeoutMs: 3000 });
    const lc = await scope.client(leaf);
    lc.publish('secret', 'injected');
    lc.publish('allowed.x', 'fine');
    await lc.flush();
    await eventually(() => got.includes('allowed.x'), 'allowed.x on the hub');
    expect(got).toEqual(['allowed.x']);
  });

  it('the hub sends the leaf node only what the user may receive, even to a wildcard subscription', async () => {
    const hub = await permHub();
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://low:l@127.0.0.1:${hub.leafnodePort}` }] } });
    const lc = await scope.client(leaf);
    const got: string[] = [];
    lc.subscribe('>', { callback: (_e, m) => void got.push(m.subject) });
    await lc.flush();
    await hub.waitForSubscription('to-leaf.a', { timeoutMs: 3000 });
    const admin = await scope.client(hub, { user: 'admin', pass: 'a' });
    admin.publish('private.a', 'no');
    admin.publish('to-leaf.a', 'yes');
    await admin.flush();
    await eventually(() => got.includes('to-leaf.a'), 'to-leaf.a on the leaf node');
    expect(got).toEqual(['to-leaf.a']);
  });

  it("the leaf node applies its hub's INFO import/export: a local subscription outside them is not announced, and the connection stays up", async () => {
    const hub = await permHub();
    const log = errorLog();
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://low:l@127.0.0.1:${hub.leafnodePort}` }] }, logger: log.logger });
    const lc = await scope.client(leaf);
    const got: string[] = [];
    lc.subscribe('private.a', { callback: (_e, m) => void got.push(m.subject) });
    lc.subscribe('to-leaf.b', { callback: (_e, m) => void got.push(m.subject) });
    await lc.flush();
    await hub.waitForSubscription('to-leaf.b', { timeoutMs: 3000 });
    const admin = await scope.client(hub, { user: 'admin', pass: 'a' });
    admin.publish('to-leaf.b', 'yes');
    await admin.flush();
    await eventually(() => got.includes('to-leaf.b'), 'to-leaf.b on the leaf node');
    // private.a did not cross: a request there finds no responders on the hub.
    expect(await admin.request('private.a', '', { timeout: 1000 }).then(() => 'answered', (e: Error) => e.message)).toMatch(/no responders/i);
    expect(log.lines.filter((l) => l.includes('Permissions Violation') || l.includes('closed'))).toEqual([]);
    expect((await monitorJson(hub.monitorUrl!, '/leafz')).leafnodes).toBe(1);
  });

  it('on the wire: INFO import/export, LS+ outside the subscribe permissions is a violation, LMSG outside the publish permissions is dropped', async () => {
    const hub = await permHub();
    const admin = await scope.client(hub, { user: 'admin', pass: 'a' });
    const got: string[] = [];
    admin.subscribe('secret', { callback: (_e, m) => void got.push(m.subject) });
    admin.subscribe('allowed.z', { callback: (_e, m) => void got.push(m.subject) });
    await admin.flush();
    const w = await WireClient.open(hub.leafnodePort!);
    w.send('CONNECT {"user":"low","pass":"l"}\r\n');
    // sendPermsAndAccountInfo: import = the subscribe lists, export = the publish lists.
    const info = JSON.parse((await w.readLine()).slice(5)) as Record<string, unknown>;
    expect(info.import).toEqual({ allow: ['to-leaf.>'] });
    expect(info.export).toEqual({ allow: ['allowed.>'] });
    const subs = await w.drain();
    expect(subs).toContain('LS+ allowed.z');
    expect(subs).not.toContain('LS+ secret');
    w.send('LMSG secret 2\r\nno\r\nLMSG allowed.z 2\r\nok\r\n');
    await w.drain();
    await eventually(() => got.includes('allowed.z'), 'allowed.z on the hub');
    expect(got).toEqual(['allowed.z']);
    // A wildcard LS+ passes (deliveries are filtered); a literal one outside is refused (leafPermViolation).
    w.send('LS+ >\r\n');
    await w.drain();
    w.send('LS+ private.a\r\n');
    expect(await w.expectClose()).toContain(`-ERR 'Permissions Violation for Subscription to "private.a"'`);
  });
});

describe('allowed_connection_types on the leaf node port', () => {
  it('a user JWT allowed STANDARD only is refused as a leaf node; one allowed LEAFNODE connects, over a websocket one allowed LEAFNODE_WS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leafauth-'));
    try {
      const op = makeOperator();
      const acc = makeAccount(op.kp);
      const std = makeUser(acc.kp, { allowed_connection_types: ['STANDARD'] });
      const leafOnly = makeUser(acc.kp, { allowed_connection_types: ['LEAFNODE'] });
      writeFileSync(join(dir, 'std.creds'), std.creds);
      writeFileSync(join(dir, 'leaf.creds'), leafOnly.creds);
      const log = errorLog();
      const hub = await scope.server({ http: -1, operator: op.jwt, resolver: 'MEMORY', resolverPreload: { [acc.pub]: acc.jwt }, leafnodes: { port: 0 }, logger: log.logger });
      await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, credentials: join(dir, 'std.creds') }] } });
      await eventually(() => log.lines.some((l) => l.includes('authentication error')), 'the refusal');
      expect((await monitorJson(hub.monitorUrl!, '/leafz')).leafnodes).toBe(0);
      await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, credentials: join(dir, 'leaf.creds') }] } });
      await eventually(async () => (await monitorJson(hub.monitorUrl!, '/leafz')).leafnodes === 1, 'the LEAFNODE user connected');
      // Over the websocket listener a leaf connection is LEAFNODE_WS: the LEAFNODE user is refused there.
      const wsOnly = makeUser(acc.kp, { allowed_connection_types: ['LEAFNODE_WS'] });
      writeFileSync(join(dir, 'ws.creds'), wsOnly.creds);
      const wsHubLog = errorLog();
      const wsHub = await scope.server({ http: -1, websocket: { noTls: true }, operator: op.jwt, resolver: 'MEMORY', resolverPreload: { [acc.pub]: acc.jwt }, leafnodes: { port: 0 }, logger: wsHubLog.logger });
      await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `ws://127.0.0.1:${wsHub.websocketPort}`, credentials: join(dir, 'leaf.creds') }] } });
      await eventually(() => wsHubLog.lines.some((l) => l.includes('authentication error')), 'the refusal over the websocket');
      await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `ws://127.0.0.1:${wsHub.websocketPort}`, credentials: join(dir, 'ws.creds') }] } });
      await eventually(async () => (await monitorJson(wsHub.monitorUrl!, '/leafz')).leafnodes === 1, 'the LEAFNODE_WS user connected');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a second CONNECT on a leaf connection', () => {
  it('binds it to the new account: its interest leaves the first account and follows it; on close none stays', async () => {
    const hub = await scope.server({
      accounts: { A: { users: [{ user: 'ca', password: 'x' }] }, B: { users: [{ user: 'cb', password: 'x' }] } },
      leafnodes: { port: 0, authorization: { users: [{ user: 'a', password: 'pa', account: 'A' }, { user: 'b', password: 'pb', account: 'B' }] } },
    });
    const ca = await scope.client(hub, { user: 'ca', pass: 'x' });
    const cb = await scope.client(hub, { user: 'cb', pass: 'x' });
    const w = await WireClient.open(hub.leafnodePort!);
    w.send('CONNECT {"user":"a","pass":"pa"}\r\nLS+ foo\r\n');
    await w.drain();
    // The interest is in A: a message published there reaches the leaf node.
    ca.publish('foo', 'a1');
    await w.readUntil('LMSG foo 2\r\na1\r\n');
    w.send('CONNECT {"user":"b","pass":"pb"}\r\n');
    // As nats-server: the INFO answering the CONNECT names the new account.
    expect(await w.drain()).toContain('"remote_account":"B"');
    const answer = (c: typeof ca): Promise<string> => c.request('foo', '', { timeout: 1000 }).then(() => 'answered', (e: Error) => e.message);
    expect(await answer(ca)).toMatch(/no responders/i);
    // The interest is the leaf node's in B now: a request there reaches it.
    const req = cb.request('foo', 'q', { timeout: 2000 });
    await w.readUntil('LMSG foo ');
    const reply = (await w.readLine()).split(' ')[0];
    w.send(`LMSG ${reply} 2\r\nok\r\n`);
    expect((await req).string()).toBe('ok');
    w.close();
    await eventually(async () => /no responders/i.test(await answer(cb)), 'the interest gone from B');
    expect(await answer(ca)).toMatch(/no responders/i);
  });

  it('closed by a permission violation while its interest is announced again, it leaves no subscription behind', async () => {
    // leafnode.go processLeafSub: nothing is inserted for a closed connection.
    const hub = await permHub();
    const before = (await monitorJson(hub.monitorUrl!, '/subsz')).num_subscriptions;
    const w = await WireClient.open(hub.leafnodePort!);
    w.send('CONNECT {"user":"admin","pass":"a"}\r\nLS+ secret\r\nLS+ to-leaf.a\r\nLS+ to-leaf.b\r\nPING\r\n');
    await w.readUntil('PONG');
    // As `low`, `secret` is outside its subscribe permissions: the connection closes mid-way.
    w.send('CONNECT {"user":"low","pass":"l"}\r\n');
    await w.expectClose();
    await eventually(async () => (await monitorJson(hub.monitorUrl!, '/leafz')).leafnodes === 0, 'the leaf connection gone');
    expect((await monitorJson(hub.monitorUrl!, '/subsz')).num_subscriptions).toBe(before);
  });
});

describe('a leaf node of the hub\'s own cluster', () => {
  it('is refused with -ERR \'remote leafnode has same cluster name\'; the leaf node delays its redial', async () => {
    const hub = await scope.server({ http: -1, cluster: { name: 'H', port: 0 }, leafnodes: { port: 0 } });
    const w = await WireClient.open(hub.leafnodePort!);
    w.send('CONNECT {"name":"x","cluster":"H"}\r\nPING\r\n');
    expect(await w.expectClose()).toBe("-ERR 'remote leafnode has same cluster name'\r\n");
    // A cluster name with a space is refused too (2.10's ErrClusterNameHasSpaces).
    const w2 = await WireClient.open(hub.leafnodePort!);
    w2.send('CONNECT {"name":"x","cluster":"a b"}\r\nPING\r\n');
    expect(await w2.expectClose()).toBe("-ERR 'cluster name cannot contain spaces or new lines'\r\n");
    const log = errorLog();
    await scope.server({ cluster: { name: 'H', port: 0 }, leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl! }] }, logger: log.logger });
    await eventually(() => log.lines.some((l) => l.includes('same cluster name error. Delaying attempt to reconnect for 30s')), 'the delayed redial');
    expect((await monitorJson(hub.monitorUrl!, '/leafz')).leafnodes).toBe(0);
  });
});
