/**
 * A leaf node cluster's interest on the route wire. Raw sockets play two leaf node servers (of
 * clusters A and B) attached to an embedded hub, and a route peer of the hub that advertises
 * 2.10's `lnocu`, 2.9's `lnoc` only, or neither. nats-server 2.10 keeps a leaf node cluster's
 * interest apart by origin with a `lnocu` peer (`LS+ <origin> …` / `LS- <origin> …`,
 * route.go keyFromSubWithOrigin, addRouteSubOrUnsubProtoToBuf) and a 2.9 peer counts a subject
 * once whatever its origin (route.go updateRouteSubscriptionMap, keyFromSub): that peer keys
 * `RS+`, `LS+` and `RS-`/`LS-` by subject alone, so the hub must not withdraw a subject from it
 * while any origin still wants it. Losing that withdrawal order loses messages; these tests
 * pin it in both directions.
 */
import { describe, expect, it } from 'vitest';
import { type NatsServer } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

/** The server id of route peer `n`. */
function peerId(n: number): string {
  return `NPEER${n}`.padEnd(56, 'A');
}

function track(w: WireClient): WireClient {
  scope.defer(() => w.close());
  return w;
}

function hub(): Promise<NatsServer> {
  return scope.server({ serverName: 'hub', cluster: { name: 'H' }, leafnodes: { port: 0 } });
}

/**
 * A route peer of `s` advertising `flags` (e.g. `"lnoc":true,"lnocu":true`), registered; what
 * the hub sent on it so far (its interest snapshot) is left unread.
 */
async function openRoutePeer(s: NatsServer, flags: string, n = 0): Promise<WireClient> {
  const w = track(await WireClient.open(s.clusterPort!));
  // The system account's and the loop detection interest are not what these tests look at.
  w.dropLines = /RS[+-] (\$SYS [^\r]*|\$G \$LDS\.[^\r]*)\r\n/g;
  expect(w.info).toMatchObject({ lnoc: true, lnocu: true });
  const id = peerId(n);
  w.send(`CONNECT {"echo":true,"verbose":false,"pedantic":false,"headers":true,"name":"${id}","cluster":"H"}\r\n`);
  w.send(`INFO {"server_id":"${id}","server_name":"peer${n}","version":"2.10.0","proto":2,"host":"127.0.0.1","port":${n + 1},"headers":true,"max_payload":1048576,"cluster":"H"${flags === '' ? '' : ','}${flags}}\r\n`);
  await eventually(() => s.routes().some((r) => r.id === id), 'the route');
  return w;
}

/** {@link openRoutePeer}, its snapshot read and dropped. */
async function routePeer(s: NatsServer, flags: string, n = 0): Promise<WireClient> {
  const w = await openRoutePeer(s, flags, n);
  await w.drain();
  return w;
}

/** A raw leaf node server of cluster `cluster` attached to `s`. */
async function leaf(s: NatsServer, cluster: string): Promise<WireClient> {
  const w = track(await WireClient.open(s.leafnodePort!));
  w.dropLines = /LS[+-] [^\r]*\r\n/g;
  w.send(`CONNECT {"name":"leaf-${cluster}","cluster":"${cluster}","headers":true}\r\n`);
  await w.drain();
  return w;
}

/** Sends `lines` on `w`, waits until they are processed, and returns what `route` got meanwhile. */
async function step(w: WireClient, lines: string, route: WireClient): Promise<string> {
  w.send(lines);
  await w.drain();
  return route.drain();
}

describe("a leaf node cluster's interest sent to a route peer", () => {
  it('with lnocu (2.10): by origin, LS+ and LS- carry it, the own interest apart', async () => {
    const s = await hub();
    const r = await routePeer(s, '"lnoc":true,"lnocu":true');
    const [a, b] = [await leaf(s, 'A'), await leaf(s, 'B')];
    const c = track(await WireClient.connected(s.port));
    expect(await step(a, 'LS+ foo\r\n', r)).toBe('LS+ A $G foo\r\n');
    expect(await step(b, 'LS+ foo\r\n', r)).toBe('LS+ B $G foo\r\n');
    expect(await step(c, 'SUB foo 1\r\n', r)).toBe('RS+ $G foo\r\n');
    expect(await step(a, 'LS- foo\r\n', r)).toBe('LS- A $G foo\r\n');
    expect(await step(c, 'UNSUB 1\r\n', r)).toBe('RS- $G foo\r\n');
    expect(await step(b, 'LS- foo\r\n', r)).toBe('LS- B $G foo\r\n');
    // Queue weights by origin too.
    expect(await step(a, 'LS+ work q 2\r\n', r)).toBe('LS+ A $G work q 2\r\n');
    expect(await step(c, 'SUB work q 2\r\n', r)).toBe('RS+ $G work q 1\r\n');
    expect(await step(a, 'LS- work q\r\n', r)).toBe('LS- A $G work q\r\n');
  });

  it('without lnoc: one RS+ when the first origin wants a subject, one RS- when the last one leaves, total queue weights', async () => {
    const s = await hub();
    const r = await routePeer(s, '');
    const [a, b] = [await leaf(s, 'A'), await leaf(s, 'B')];
    const c = track(await WireClient.connected(s.port));
    expect(await step(a, 'LS+ foo\r\n', r)).toBe('RS+ $G foo\r\n');
    expect(await step(b, 'LS+ foo\r\n', r)).toBe('');
    expect(await step(c, 'SUB foo 1\r\n', r)).toBe('');
    expect(await step(a, 'LS- foo\r\n', r)).toBe('');
    expect(await step(c, 'UNSUB 1\r\n', r)).toBe('');
    expect(await step(b, 'LS- foo\r\n', r)).toBe('RS- $G foo\r\n');
    expect(await step(a, 'LS+ work q 2\r\n', r)).toBe('RS+ $G work q 2\r\n');
    expect(await step(c, 'SUB work q 2\r\n', r)).toBe('RS+ $G work q 3\r\n');
    expect(await step(a, 'LS- work q\r\n', r)).toBe('RS+ $G work q 1\r\n');
    expect(await step(c, 'UNSUB 2\r\n', r)).toBe('RS- $G work q\r\n');
  });

  it('with lnoc only (2.9): as without lnoc, never LS+ (the peer would keep the first origin for its clients too)', async () => {
    const s = await hub();
    const r = await routePeer(s, '"lnoc":true');
    const [a, b] = [await leaf(s, 'A'), await leaf(s, 'B')];
    const c = track(await WireClient.connected(s.port));
    expect(await step(a, 'LS+ foo\r\n', r)).toBe('RS+ $G foo\r\n');
    expect(await step(c, 'SUB foo 1\r\n', r)).toBe('');
    expect(await step(b, 'LS+ foo\r\n', r)).toBe('');
    expect(await step(a, 'LS- foo\r\n', r)).toBe('');
    expect(await step(c, 'UNSUB 1\r\n', r)).toBe('');
    expect(await step(b, 'LS- foo\r\n', r)).toBe('RS- $G foo\r\n');
  });

  it('a route that comes up gets the interest as that peer keys it', async () => {
    const s = await hub();
    const [a, b] = [await leaf(s, 'A'), await leaf(s, 'B')];
    const c = track(await WireClient.connected(s.port));
    a.send('LS+ foo\r\nLS+ work q 2\r\n');
    await a.drain();
    b.send('LS+ foo\r\n');
    await b.drain();
    c.send('SUB foo 1\r\nSUB work q 2\r\n');
    await c.drain();
    expect(await snapshotOf(s, '"lnoc":true,"lnocu":true')).toEqual(['LS+ A $G foo', 'LS+ A $G work q 2', 'LS+ B $G foo', 'RS+ $G foo', 'RS+ $G work q 1']);
    expect(await snapshotOf(s, '')).toEqual(['RS+ $G foo', 'RS+ $G work q 3']);
    expect(await snapshotOf(s, '"lnoc":true')).toEqual(['RS+ $G foo', 'RS+ $G work q 3']);
  });

  it("a leaf cluster's message passed from one route to another (a queue group's second hop) is an RMSG", async () => {
    // client.go msgHeaderForRouteOrLeaf: LMSG <origin> only for a message from a leaf connection.
    const s = await hub();
    const p1 = await routePeer(s, '"lnoc":true,"lnocu":true', 1);
    const p2 = await routePeer(s, '"lnoc":true,"lnocu":true', 2);
    p2.send('RS+ $G work q 1\r\n');
    await p2.drain();
    await s.waitForSubscription('work');
    p1.send('LMSG A $G work | q 0 2\r\nhi\r\n');
    await p1.drain();
    expect(await p2.readUntil('hi\r\n')).toBe('RMSG $G work | q 2\r\n');
  });
});

/** Opens a route peer with `flags` and returns the interest lines of its snapshot, sorted. */
async function snapshotOf(s: NatsServer, flags: string): Promise<string[]> {
  const w = await openRoutePeer(s, flags);
  const got = (await w.drain()).split('\r\n').filter((l) => l !== '' && !l.startsWith('INFO '));
  w.close();
  await eventually(() => s.routes().length === 0, 'the route gone');
  return got.sort();
}

describe("a route peer's leaf node cluster interest, received", () => {
  /** Publishes `foo` from a client of `s` and says whether the route peer `r` got it. */
  async function reaches(s: NatsServer, r: WireClient): Promise<boolean> {
    const c = track(await WireClient.connected(s.port));
    c.send('PUB foo 2\r\nhi\r\n');
    await c.drain();
    const got = await r.drain();
    c.close();
    return got.includes('RMSG $G foo 2\r\nhi\r\n');
  }

  it('from a lnocu peer: LS- <origin> withdraws that origin only, RS- the own interest only', async () => {
    const s = await hub();
    const r = await routePeer(s, '"lnoc":true,"lnocu":true');
    r.send('LS+ X $G foo\r\nLS+ Y $G foo\r\nRS+ $G foo\r\nLS- X $G foo\r\nRS- $G foo\r\n');
    expect(await reaches(s, r)).toBe(true);
    r.send('LS- Y $G foo\r\n');
    expect(await reaches(s, r)).toBe(false);
    r.send('RS+ $G foo\r\nLS+ X $G foo\r\nRS- $G foo\r\n');
    expect(await reaches(s, r)).toBe(true);
    r.send('LS- X $G foo\r\n');
    expect(await reaches(s, r)).toBe(false);
  });

  it('from a 2.9 peer (no lnocu): one entry per subject, withdrawn by RS- or LS- whoever announced it', async () => {
    const s = await hub();
    const r = await routePeer(s, '"lnoc":true');
    r.send('LS+ X $G foo\r\nRS+ $G foo\r\n');
    expect(await reaches(s, r)).toBe(true);
    r.send('LS- $G foo\r\n');
    expect(await reaches(s, r)).toBe(false);
    r.send('RS+ $G foo\r\nLS+ X $G foo\r\nRS- $G foo\r\n');
    expect(await reaches(s, r)).toBe(false);
  });

  it('/routez names each entry by the key the route keeps it under (route.go processRemoteSub sids)', async () => {
    for (const [flags, want] of [
      ['"lnoc":true,"lnocu":true', ['L A $G foo', 'R $G bar', 'R $G baz q']],
      ['"lnoc":true', ['$G bar', '$G baz q', '$G foo']],
    ] as const) {
      const s = await scope.server({ serverName: 'hub', http: '127.0.0.1:0', cluster: { name: 'H' } });
      const r = await routePeer(s, flags);
      r.send('LS+ A $G foo\r\nRS+ $G bar\r\nRS+ $G baz q 2\r\n');
      await r.drain();
      const routez = (await (await fetch(`${s.monitorUrl}/routez?subs=detail`)).json()) as { routes: { subscriptions_list_detail: { sid: string }[] }[] };
      const sids = routez.routes[0].subscriptions_list_detail.map((d) => d.sid).filter((x) => !x.includes('$SYS') && !x.includes('$LDS'));
      expect(sids.sort()).toEqual([...want]);
    }
  });
});
