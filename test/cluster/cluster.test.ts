/**
 * Clusters of embedded servers through the official client: traffic across nodes, queue
 * groups spread over nodes, failover on kill/restart, partitions, growth and shrinking.
 */
import { describe, expect, it } from 'vitest';
import { type ConnectionOptions, type NatsConnection, type Status } from '@nats-io/transport-node';
import { createCluster, createServer, type NatsCluster, type NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually, publishUntil } from '../helpers/eventually.js';
import { relay } from '../helpers/relay.js';

const scope = useScope();

function cluster(size = 3): Promise<NatsCluster> {
  return scope.cluster({ size });
}

function client(servers: string | string[], opts: ConnectionOptions = {}): Promise<NatsConnection> {
  return scope.client(servers, { reconnectTimeWait: 20, maxReconnectAttempts: -1, reconnectJitter: 0, ...opts });
}

/** Interest crosses routes asynchronously: wait until `server` knows `n` subscriptions. */
async function interest(server: NatsServer, n: number): Promise<void> {
  await eventually(() => server.stats().subscriptions >= n, `${n} subscriptions on ${server.info.server_name}`);
}

function nextStatus(nc: NatsConnection, type: Status['type']): Promise<Status> {
  return (async () => {
    for await (const s of nc.status()) if (s.type === type) return s;
    throw new Error(`no ${type}`);
  })();
}

describe('createCluster()', () => {
  it('forms a full mesh from seed routes; every member advertises every client URL', async () => {
    const c = await cluster(3);
    for (const s of c.servers) {
      expect(s.routes().map((r) => r.name).sort()).toEqual(c.servers.filter((o) => o !== s).map((o) => o.info.server_name).sort());
      expect(s.clusterName).toBe(c.clusterName);
    }
    const nc = await client(c.urls[0]);
    expect(nc.info?.cluster).toBe(c.clusterName);
    expect([...(nc.info?.connect_urls ?? [])].sort()).toEqual(c.urls.map((u) => u.replace('nats://', '')).sort());
  });

  it('delivers from a publisher on one node to a subscriber on another, and does request/reply', async () => {
    const c = await cluster(3);
    const a = await client(c.urls[0]);
    const b = await client(c.urls[1]);
    const sub = b.subscribe('orders.>');
    b.subscribe('svc.time', { callback: (_e, m) => void m.respond(`node1:${m.string()}`) });
    await b.flush();
    await interest(c.servers[0], 2);
    a.publish('orders.created', 'o-1');
    for await (const m of sub) {
      expect(m.string()).toBe('o-1');
      break;
    }
    const reply = await a.request('svc.time', 'now', { timeout: 2000 });
    expect(reply.string()).toBe('node1:now');
  });

  it('delivers each message to exactly one member of a queue group spread over three nodes', async () => {
    const c = await cluster(3);
    const counts = [0, 0, 0];
    const members = await Promise.all(c.urls.map((u) => client(u)));
    members.forEach((nc, i) => nc.subscribe('jobs', { queue: 'workers', callback: () => void counts[i]++ }));
    await Promise.all(members.map((m) => m.flush()));
    for (const s of c.servers) await interest(s, 3);
    const pub = await client(c.urls[0]);
    const total = 600;
    for (let i = 0; i < total; i++) pub.publish('jobs', String(i));
    await pub.flush();
    await eventually(() => counts.reduce((a, b) => a + b, 0) >= total, 'all messages');
    // Settle: a duplicate delivery would show up after the last expected one.
    for (const m of members) await m.flush();
    expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
    for (const n of counts) expect(n).toBeGreaterThan(0);
  });

  it('routes a message once per node however many remote subscriptions match (one hop)', async () => {
    const c = await cluster(3);
    const b = await client(c.urls[1]);
    const got: string[] = [];
    b.subscribe('x.*', { callback: (_e, m) => void got.push(`1:${m.subject}`) });
    b.subscribe('x.>', { callback: (_e, m) => void got.push(`2:${m.subject}`) });
    const cc = await client(c.urls[2]);
    cc.subscribe('x.y', { callback: (_e, m) => void got.push(`3:${m.subject}`) });
    await Promise.all([b.flush(), cc.flush()]);
    await interest(c.servers[0], 3);
    const a = await client(c.urls[0]);
    a.publish('x.y', 'once');
    await a.flush();
    await eventually(() => got.length >= 3, 'three deliveries');
    await b.flush();
    await cc.flush();
    expect(got.sort()).toEqual(['1:x.y', '2:x.y', '3:x.y']);
    expect(c.servers[1].stats().inMsgs).toBe(1);
    expect(c.servers[2].stats().inMsgs).toBe(1);
  });

  it('no-responders works across the cluster', async () => {
    const c = await cluster(2);
    const a = await client(c.urls[0]);
    const err = await a.request('nobody.anywhere', '', { timeout: 5000 }).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(/no responders/i);
  });
});

describe('failover', () => {
  it('kill(A): clients reconnect to another node, resubscribe and traffic resumes; restart(A) rejoins', async () => {
    const c = await cluster(3);
    // One client knows every URL; the other only A's, and learns the rest from INFO.
    const withAll = await client(c.urls, { noRandomize: true, name: 'all-urls' });
    const discovered = await client(c.urls[0], { name: 'discovery' });
    expect(c.servers[0].clients().map((x) => x.name).sort()).toEqual(['all-urls', 'discovery']);
    const got: Record<string, string[]> = { all: [], disc: [] };
    withAll.subscribe('beat', { callback: (_e, m) => void got.all.push(m.string()) });
    discovered.subscribe('beat', { callback: (_e, m) => void got.disc.push(m.string()) });
    await Promise.all([withAll.flush(), discovered.flush()]);
    const pub = await client(c.urls[2]);
    await publishUntil(pub, 'beat', () => got.all.includes('before') && got.disc.includes('before'), 10_000, 'before');

    const r1 = nextStatus(withAll, 'reconnect');
    const r2 = nextStatus(discovered, 'reconnect');
    const killedAt = Date.now();
    await c.kill(0);
    await Promise.all([r1, r2]);
    expect(c.servers[0].state).toBe('stopped');
    // Both now live on the surviving nodes, resubscribed; traffic from node 2 reaches them.
    await publishUntil(pub, 'beat', () => got.all.includes('after') && got.disc.includes('after'), 10_000, 'after');
    console.log(`kill() to traffic resuming: ${Date.now() - killedAt} ms`);

    await c.restart(0);
    expect(c.servers[0].state).toBe('running');
    expect(c.servers[0].routes()).toHaveLength(2);
    const direct = await client(c.urls[0]);
    const rejoined: string[] = [];
    direct.subscribe('beat', { callback: (_e, m) => void rejoined.push(m.string()) });
    await direct.flush();
    await publishUntil(pub, 'beat', () => rejoined.includes('rejoined'), 10_000, 'rejoined');
  });

  it('clients discover new members (async INFO) and forget removed ones', async () => {
    const c = await cluster(2);
    const nc = await client(c.urls[0]);
    await nc.flush();
    const update = nextStatus(nc, 'update');
    const added = await c.add();
    await update;
    expect(nc.info?.connect_urls).toContain(added.url.replace('nats://', ''));
    const gone = nextStatus(nc, 'update');
    await c.remove(2);
    await gone;
    expect(nc.info?.connect_urls).not.toContain(added.url.replace('nats://', ''));
    expect(c.servers).toHaveLength(2);
  });
});

describe('partition and heal', () => {
  it('messages do not cross a partition, flow within each side, and flow again after heal', async () => {
    const c = await cluster(3);
    const subs = await Promise.all(c.urls.map((u) => client(u)));
    const got: string[][] = [[], [], []];
    subs.forEach((nc, i) => nc.subscribe('p', { callback: (_e, m) => void got[i].push(m.string()) }));
    await Promise.all(subs.map((s) => s.flush()));
    for (const s of c.servers) await interest(s, 3);

    await c.partition([0], [1, 2]);
    expect(c.servers[0].routes()).toHaveLength(0);
    expect(c.servers[1].routes().map((r) => r.name)).toEqual([c.servers[2].info.server_name]);
    const p1 = await client(c.urls[1], { reconnect: false });
    p1.publish('p', 'during');
    await p1.flush();
    await eventually(() => got[1].length === 1 && got[2].length === 1, 'delivery within the majority side');
    await subs[0].flush();
    expect(got[0]).toEqual([]);
    // Routes stay down while partitioned (no reconnect). Nothing marks a re-dial that did not
    // happen, so this waits three reconnect periods (createCluster's reconnectDelay is 100 ms).
    await new Promise((r) => setTimeout(r, 300));
    expect(c.servers[0].routes()).toHaveLength(0);

    await c.heal();
    for (const s of c.servers) {
      expect(s.routes()).toHaveLength(2);
      await interest(s, 3);
    }
    p1.publish('p', 'healed');
    await p1.flush();
    await eventually(() => got.every((g) => g.includes('healed')), 'delivery everywhere after heal');
    expect(got[0]).toEqual(['healed']);
  });
});

describe('routes', () => {
  it('two servers that dial each other keep exactly one route', async () => {
    const a = await scope.server({ serverName: 'a', cluster: { name: 'dup', reconnectDelay: 50 } });
    const b = await scope.server({ serverName: 'b', cluster: { name: 'dup', routes: [a.routeUrl!], reconnectDelay: 50 } });
    const a2 = await scope.server({ serverName: 'c', cluster: { name: 'dup', routes: [a.routeUrl!, b.routeUrl!], reconnectDelay: 50 } });
    await eventually(() => [a, b, a2].every((s) => s.routes().length === 2), 'full mesh');
    // Crossing dials (configured and gossiped) may still be under way, and a gossiped dial that
    // lost to a duplicate is retried after reconnectDelay; none is observable from outside, so
    // this waits four reconnect periods for a flap, which would show in routes().
    await new Promise((r) => setTimeout(r, 200));
    for (const s of [a, b, a2]) expect(s.routes()).toHaveLength(2);
  });

  it('refuses a peer with another cluster name', async () => {
    const a = await scope.server({ cluster: { name: 'one' } });
    // b dials a through a relay, so that the end of each refused attempt can be awaited.
    const toA = await relay(a.clusterPort);
    scope.defer(() => toA.close());
    const changes: string[] = [];
    a.on('routesChanged', () => void changes.push('a'));
    const b = await scope.server({ cluster: { name: 'two', routes: [`nats-route://127.0.0.1:${toA.port}`], reconnectDelay: 50 } });
    b.on('routesChanged', () => void changes.push('b'));
    await eventually(() => toA.ended >= 2, 'two route attempts (the first and a retry) to end');
    expect(a.routes()).toHaveLength(0);
    expect(b.routes()).toHaveLength(0);
    expect(changes).toEqual([]); // no route came up, even for a moment
  });

  it('a server without a cluster name adopts its peer\'s', async () => {
    const a = await scope.server({ cluster: { name: 'named' } });
    const b = await scope.server({ cluster: { routes: [a.routeUrl!] } });
    await eventually(() => b.routes().length === 1, 'route');
    expect(b.clusterName).toBe('named');
  });

  it('rejects invalid cluster options naming the option', async () => {
    await expect(createServer({ cluster: { routes: ['http://x:1'] } })).rejects.toThrow(/cluster\.routes\[0\]/);
    await expect(createServer({ cluster: { port: 99999 } })).rejects.toThrow(/cluster\.port/);
    await expect(createServer({ cluster: { nmae: 'x' } as never })).rejects.toThrow(/cluster\.nmae/);
    await expect(createCluster({ size: 0 })).rejects.toThrow(/size/);
  });
});
