/**
 * Account imports reached through a leaf node connection, between embedded servers, as
 * nats-server 2.10 does them: a leaf node bound to a hub account that imports a service gets the
 * import's subject announced (LS+) and its requests cross the import (client.go
 * processServiceImport stops only routes' and gateways' requests); a leaf node's interest in a
 * subject its account imports as a stream gets shadow subscriptions in the exporting account
 * (leafnode.go processLeafSub → addShadowSubscriptions), removed with its LS- or its connection.
 */
import { describe, expect, it } from 'vitest';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { createSupercluster, type NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { monitorJson, type Json } from '../helpers/monitor.js';

const scope = useScope();

/** EXP exports a service and a stream; IMP imports both (the stream under a prefix). */
const ACCOUNTS = {
  EXP: { users: [{ user: 'exp', password: 'x' }], exports: [{ service: 'svc.>' }, { stream: 'ev.>' }] },
  IMP: {
    users: [{ user: 'imp', password: 'x' }],
    imports: [{ service: { account: 'EXP', subject: 'svc.>' } }, { stream: { account: 'EXP', subject: 'ev.>' }, prefix: 'from.exp' }],
  },
};

/** A hub with ACCOUNTS; a leaf node whose local accounts LI and LE are bound to IMP and EXP. */
async function hubAndLeaf(): Promise<{ hub: NatsServer; leaf: NatsServer }> {
  const hub = await scope.server({ http: -1, accounts: ACCOUNTS, leafnodes: { port: 0 } });
  const port = hub.leafnodePort;
  const leaf = await scope.server({
    http: -1,
    accounts: { LI: { users: [{ user: 'li', password: 'x' }] }, LE: { users: [{ user: 'le', password: 'x' }] } },
    leafnodes: { reconnect: 50, remotes: [
      { url: `nats-leaf://imp:x@127.0.0.1:${port}`, account: 'LI' },
      { url: `nats-leaf://exp:x@127.0.0.1:${port}`, account: 'LE' },
    ] },
  });
  await eventually(async () => (await monitorJson(hub.monitorUrl!, '/leafz')).leafnodes === 2, 'two leaf connections');
  return { hub, leaf };
}

function user(s: NatsServer, name: string): Promise<NatsConnection> {
  return scope.client(s, { user: name, pass: 'x', reconnect: false });
}

/** The hub's leaf connection bound to `account` (its /leafz entry). */
async function leafConn(hub: NatsServer, account: string): Promise<Json> {
  return ((await monitorJson(hub.monitorUrl!, '/leafz?subs=1')).leafs as Json[]).find((l) => l.account === account)!;
}

describe('account imports through a leaf node connection', () => {
  it('service import: a leaf node\'s request reaches the exporting account\'s queue responder on the hub, and on a leaf node; the reply comes back', async () => {
    const { hub, leaf } = await hubAndLeaf();
    const exp = await user(hub, 'exp');
    exp.subscribe('svc.>', {
      queue: 'workers',
      callback: (_e, m) => void m.respond(`hub ${m.subject} ${m.headers?.get('Nats-Request-Info') ?? ''}`),
    });
    await exp.flush();
    // The import's subject is announced to the leaf node bound to IMP (addServiceImportSub's
    // updateLeafNodes / initLeafNodeSmapAndSendSubs): the leaf node sends the request to its hub.
    await leaf.waitForSubscription('svc.a');
    expect((await leafConn(hub, 'IMP')).subscriptions_list).not.toContain('svc.>');
    const li = await user(leaf, 'li');
    const r = await li.request('svc.a', 'q', { timeout: 2000 });
    const [where, subject, info] = r.string().split(' ');
    expect([where, subject]).toEqual(['hub', 'svc.a']);
    // Nats-Request-Info names the requester's account on the hub: the leaf connection's.
    expect(JSON.parse(info)).toMatchObject({ acc: 'IMP' });

    // The responder on the leaf node, in the account bound to EXP: the request crosses the
    // import on the hub and goes back down the other leaf connection; the response comes up on
    // the `_R_` subject, whose interest the hub announced once the first request made it.
    await exp.close();
    const le = await user(leaf, 'le');
    le.subscribe('svc.>', { callback: (_e, m) => void m.respond(`leaf ${m.subject} ${m.headers?.get('Nats-Request-Info') ?? ''}`) });
    await le.flush();
    await eventually(async () => ((await leafConn(hub, 'EXP')).subscriptions_list as string[] | undefined)?.includes('svc.>') === true, 'the leaf responder on the hub');
    const r2 = (await li.request('svc.b', 'q', { timeout: 2000 })).string().split(' ');
    expect(r2.slice(0, 2)).toEqual(['leaf', 'svc.b']);
    expect(JSON.parse(r2[2])).toMatchObject({ acc: 'IMP' });
    // A request that already carries Nats-Request-Info keeps it across the import when it comes
    // from a leaf node (processServiceImport; a client's would be replaced).
    const h = headers();
    h.set('Nats-Request-Info', '{"acc":"ON-LEAF"}');
    expect((await li.request('svc.c', '', { timeout: 2000, headers: h })).string()).toBe('leaf svc.c {"acc":"ON-LEAF"}');
  });

  it('stream import: the exporter\'s messages reach the leaf node\'s subscriber; its unsubscribe and its connection\'s end remove the shadow', async () => {
    const { hub, leaf } = await hubAndLeaf();
    const exp = await user(hub, 'exp');
    // EXP's sublist: the exporter's client has no subscription, the leaf connection bound to EXP
    // its own interest; the shadows of the leaf node's interest in IMP come and go on top of it.
    const inExp = async (): Promise<number> => (await monitorJson(hub.monitorUrl!, '/subsz?acc=EXP')).num_subscriptions as number;
    const base = await inExp();
    const shadows = async (): Promise<number> => (await inExp()) - base;
    const li = await user(leaf, 'li');
    const got: string[] = [];
    const sub = li.subscribe('from.exp.ev.*', { callback: (_e, m) => void got.push(`${m.subject} ${m.string()}`) });
    await li.flush();
    // The leaf node's LS+ in IMP, and its shadow in EXP on the exported subject.
    await hub.waitForSubscription('ev.a');
    expect(await shadows()).toBe(1);
    // A second, overlapping subscription of the leaf node: still one copy each (one LMSG).
    const both: string[] = [];
    const sub2 = li.subscribe('from.exp.ev.a', { callback: (_e, m) => void both.push(m.string()) });
    await li.flush();
    await hub.waitForSubscription('ev.a', { count: 2 });
    expect(await shadows()).toBe(2);
    exp.publish('ev.a', 'one');
    exp.publish('other', 'not exported');
    await exp.flush();
    await eventually(() => got.length === 1, 'the exported message on the leaf node');
    expect(got).toEqual(['from.exp.ev.a one']);
    await eventually(() => both.length === 1, 'the message on the second subscription');
    sub2.unsubscribe();
    await li.flush();
    await eventually(async () => (await shadows()) === 1, 'the second shadow gone');

    sub.unsubscribe();
    await li.flush();
    await eventually(async () => (await shadows()) === 0, 'the shadow gone with the LS-');
    const out = (await leafConn(hub, 'IMP')).out_msgs;
    exp.publish('ev.a', 'two');
    await exp.flush();
    // A marker through another subscription of the leaf node: ev.a would have arrived before it.
    const marks: string[] = [];
    li.subscribe('mark', { callback: (_e, m) => void marks.push(m.string()) });
    await li.flush();
    await hub.waitForSubscription('mark');
    const imp = await user(hub, 'imp');
    imp.publish('mark', 'm');
    await imp.flush();
    await eventually(() => marks.length === 1, 'the marker');
    expect([got, both]).toEqual([['from.exp.ev.a one'], ['one']]);
    expect((await leafConn(hub, 'IMP')).out_msgs).toBe((out as number) + 1);

    // A subscription again, then the leaf node goes: nothing of it stays on the hub.
    li.subscribe('from.exp.ev.>');
    await li.flush();
    await hub.waitForSubscription('ev.b');
    expect(await shadows()).toBe(1);
    const leInterest = ((await leafConn(hub, 'EXP')).subscriptions_list as string[]).length;
    await leaf.close();
    await eventually(async () => (await monitorJson(hub.monitorUrl!, '/leafz')).leafnodes === 0, 'the leaf connections closed');
    expect(await shadows()).toBe(-leInterest);
  });

  it('the leaf node\'s own imports: its hub\'s request crosses the leaf node\'s service import, and its hub\'s subscriber gets the leaf node\'s imported stream', async () => {
    const hub = await scope.server({ http: -1, leafnodes: { port: 0 } });
    const leaf = await scope.server({ accounts: ACCOUNTS, leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl!, account: 'IMP' }] } });
    await eventually(async () => (await monitorJson(hub.monitorUrl!, '/leafz')).leafnodes === 1, 'the leaf connection');
    const exp = await user(leaf, 'exp');
    exp.subscribe('svc.>', { callback: (_e, m) => void m.respond(`leaf ${m.subject}`) });
    await exp.flush();
    // The leaf node announces its account's service import subject to its hub.
    await hub.waitForSubscription('svc.a');
    const h = await scope.client(hub);
    expect((await h.request('svc.a', '', { timeout: 2000 })).string()).toBe('leaf svc.a');
    const got: string[] = [];
    h.subscribe('from.exp.ev.a', { callback: (_e, m) => void got.push(m.string()) });
    await h.flush();
    // The hub's interest in IMP on the leaf node, and its shadow in EXP there.
    await leaf.waitForSubscription('ev.a');
    exp.publish('ev.a', 'to the hub');
    await exp.flush();
    await eventually(() => got.length === 1, 'the imported stream on the hub');
    expect(got).toEqual(['to the hub']);
  });

  it('a hub cluster: the shadow of a leaf cluster\'s interest and the forwarded request cross the hub\'s route', async () => {
    // The shadow is announced to the routes as the leaf node's interest (with its cluster as
    // origin); the request goes to the exporter's queue member on the other hub server.
    const c = await scope.cluster({ size: 2, accounts: ACCOUNTS, leafnodes: { port: 0 } });
    const [s1, s2] = c.servers as [NatsServer, NatsServer];
    const leaf = await scope.server({ cluster: { name: 'LC', port: 0 }, leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://imp:x@127.0.0.1:${s1.leafnodePort}` }] } });
    await leaf.waitForSubscription('svc.a');
    const l = await scope.client(leaf);
    const got: string[] = [];
    l.subscribe('from.exp.ev.*', { callback: (_e, m) => void got.push(`${m.subject} ${m.string()}`) });
    await l.flush();
    await s2.waitForSubscription('ev.a');
    const exp2 = await user(s2, 'exp');
    exp2.subscribe('svc.>', { queue: 'q', callback: (_e, m) => void m.respond('s2') });
    await exp2.flush();
    await s1.waitForSubscription('svc.a', { count: 2 });
    exp2.publish('ev.a', 'across');
    await exp2.flush();
    await eventually(() => got.length === 1, 'the message from the other hub server');
    expect(got).toEqual(['from.exp.ev.a across']);
    expect((await l.request('svc.a', '', { timeout: 2000 })).string()).toBe('s2');
  });

  it('in a supercluster: a leaf node\'s request, and a client\'s, reach the exporter\'s responder in another cluster once (the other cluster\'s import does not take it again from the gateway)', async () => {
    // processServiceImport: the forwarded request goes to the gateways too (sendMsgToGateways),
    // and a request from a gateway (as from a route) crosses no service import.
    const sc = await createSupercluster({ clusters: [1, 1], accounts: ACCOUNTS, leafnodes: { port: 0 } });
    scope.defer(() => sc.close());
    const a = sc.cluster('A').servers[0];
    const seen: string[] = [];
    const expB = await user(sc.cluster('B').servers[0], 'exp');
    expB.subscribe('svc.>', { callback: (_e, m) => {
      seen.push(m.subject);
      m.respond('B');
    } });
    await expB.flush();
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://imp:x@127.0.0.1:${a.leafnodePort}` }] } });
    await leaf.waitForSubscription('svc.a');
    const l = await scope.client(leaf);
    // The first requests may go before B's interest in EXP has reached A.
    await eventually(async () => (await l.request('svc.a', '', { timeout: 300 }).catch(() => null))?.string() === 'B', 'a reply from B');
    seen.length = 0;
    expect((await l.request('svc.b', '', { timeout: 2000 })).string()).toBe('B');
    // A marker through B's responder, sent after: a second copy of svc.b would be there before it.
    expect((await l.request('svc.marker', '', { timeout: 2000 })).string()).toBe('B');
    expect(seen).toEqual(['svc.b', 'svc.marker']);
    // A client of A in the importing account: the same, once.
    const h = await user(a, 'imp');
    expect((await h.request('svc.c', '', { timeout: 2000 })).string()).toBe('B');
    expect((await l.request('svc.marker', '', { timeout: 2000 })).string()).toBe('B');
    expect(seen).toEqual(['svc.b', 'svc.marker', 'svc.c', 'svc.marker']);
  });

  it('JetStream\'s API is not reached through an import across a leaf connection (nats-server 2.10 denies $JS.API.> on it)', async () => {
    const hub = await scope.server({
      jetstream: true,
      accounts: {
        JS: { users: [{ user: 'js', password: 'x' }], jetstream: true, exports: [{ service: '$JS.API.>' }] },
        APP: { users: [{ user: 'app', password: 'x' }], imports: [{ service: { account: 'JS', subject: '$JS.API.>' } }] },
      },
      leafnodes: { port: 0 },
    });
    const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://app:x@127.0.0.1:${hub.leafnodePort}` }] } });
    // Something else of APP's interest arrives, but not the import of $JS.API.>.
    const app = await user(hub, 'app');
    app.subscribe('ready');
    await app.flush();
    await leaf.waitForSubscription('ready');
    expect(await leaf.waitForSubscription('$JS.API.INFO', { timeoutMs: 100 }).then(() => true, () => false)).toBe(false);
    // The import works for the hub's own clients.
    expect(JSON.parse((await app.request('$JS.API.INFO', '', { timeout: 2000 })).string())).toMatchObject({ type: 'io.nats.jetstream.api.v1.account_info_response' });
  });
});
