/**
 * A publisher faster than a route, leaf node or gateway connection: nats-server stalls a client
 * whose message goes to a peer connection that has three quarters of `max_pending` queued, until
 * that connection drains below it, 2 ms per message (5 ms once all of `max_pending` is queued)
 * and at most 10 ms per read (client.go queueOutbound / stalledWait / stallTotalAllowed,
 * 2.10.26+); a peer connection is never closed as a slow consumer. Without the stall this server
 * would read on and buffer the whole surplus. Each test pauses the receiving server, sends 32 MiB
 * (far more than the kernel's socket buffers hold) and looks at how much the server has read of
 * it a second later, then lets the receiver go on and sees everything read.
 */
import { expect, it } from 'vitest';
import { type NatsServer } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually, publishUntil } from '../helpers/eventually.js';
import { monitorJson, type Json } from '../helpers/monitor.js';

const scope = useScope();
const MAX_PENDING = 256 * 1024;
const LIMITS = { http: '127.0.0.1:0', maxPending: MAX_PENDING, maxPayload: 64 * 1024 };
const FRAME = `PUB SUBJECT 1024\r\n${'x'.repeat(1024)}\r\n`.repeat(1024);
/** The payload bytes of a flood (what `in_bytes` counts). */
const FLOOD = 32 * 1024 * 1024;

/** Bytes `s` has read from its client named `name`. */
async function inBytes(s: NatsServer, name: string): Promise<number> {
  const connz = await monitorJson(s.monitorUrl!, '/connz');
  const c = (connz.connections as Json[]).find((x) => x.name === name);
  return (c?.in_bytes as number | undefined) ?? 0;
}

/**
 * Floods `s` with 32 MiB on `subject` while `receiver` is paused: a second later the server has
 * read much less than that; once the receiver reads again, everything is read.
 */
let floods = 0;

async function floodIsStalled(s: NatsServer, receiver: NatsServer, subject: string, creds: Record<string, string> = {}): Promise<void> {
  receiver.pause();
  scope.defer(() => receiver.resume());
  const name = `flood-${++floods}`;
  const w = await WireClient.connected(s.port, { verbose: false, pedantic: false, name, ...creds });
  scope.defer(() => w.close());
  const frame = FRAME.replaceAll('SUBJECT', subject);
  for (let i = 0; i < 32; i++) w.send(frame);
  await new Promise((r) => setTimeout(r, 1000));
  // Stalled: what the kernel's buffers took, three quarters of max_pending, then at most a read
  // (64 KiB) per 10 ms. Unstalled: all 32 MiB within that second.
  expect(await inBytes(s, name)).toBeLessThan(24 * 1024 * 1024);
  receiver.resume();
  await eventually(async () => (await inBytes(s, name)) >= FLOOD, 'the whole flood read', 30_000);
}

async function routed(extra: object = {}): Promise<[NatsServer, NatsServer]> {
  const a = await scope.server({ serverName: 'a', ...LIMITS, cluster: { name: 'C', port: 0 }, ...extra });
  const b = await scope.server({ serverName: 'b', cluster: { name: 'C', port: 0, routes: [a.routeUrl!] }, ...extra });
  await eventually(() => a.routes().length === 1 && b.routes().length === 1, 'the route');
  return [a, b];
}

/** {@link routed}, with a subscriber to `big` on B that A knows of. */
async function routedToBig(): Promise<[NatsServer, NatsServer]> {
  const [a, b] = await routed();
  const sub = await scope.client(b);
  sub.subscribe('big', { callback: () => undefined });
  await sub.flush();
  await a.waitForSubscription('big');
  return [a, b];
}

it('a client publishing into a backed-up route is stalled', async () => {
  const [a, b] = await routedToBig();
  await floodIsStalled(a, b, 'big');
});

it('a stall lasts at most 10 ms per read: a PING behind a read of 2,000 messages into a backed-up route is answered at once', async () => {
  const [a, b] = await routedToBig();
  b.pause();
  scope.defer(() => b.resume());
  const f = await WireClient.connected(a.port);
  scope.defer(() => f.close());
  for (let i = 0; i < 32; i++) f.send(FRAME.replaceAll('SUBJECT', 'big'));
  await eventually(async () => ((((await monitorJson(a.monitorUrl!, '/routez')).routes as Json[])[0].pending_size as number) ?? 0) > (MAX_PENDING / 4) * 3, 'the route backed up', 10_000);
  const w = await WireClient.connected(a.port);
  scope.defer(() => w.close());
  // 2,000 × 5 ms would be 10 s without nats-server's stallTotalAllowed.
  w.send('PUB big 0\r\n\r\n'.repeat(2000));
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  w.send('PING\r\n');
  await w.readUntil('PONG\r\n', 30_000);
  expect(performance.now() - t0).toBeLessThan(1000);
});

it("a client's request through a service import into a backed-up route is stalled", async () => {
  // processServiceImport routes the request as the client itself (client.go 4413-4416).
  const accounts = {
    EXP: { users: [{ user: 'exp', password: 'x' }], exports: [{ service: 'svc.>' }] },
    IMP: { users: [{ user: 'imp', password: 'x' }], imports: [{ service: { account: 'EXP', subject: 'svc.>' } }] },
  };
  const [a, b] = await routed({ accounts });
  const sub = await scope.client(b, { user: 'exp', pass: 'x' });
  const got: number[] = [];
  sub.subscribe('svc.x', { callback: () => void got.push(1) });
  await sub.flush();
  const probe = await scope.client(a, { user: 'imp', pass: 'x' });
  await publishUntil(probe, 'svc.x', () => got.length > 0);
  await floodIsStalled(a, b, 'svc.x', { user: 'imp', pass: 'x' });
});

it('a client publishing into a backed-up leaf node connection is stalled, also through a stream import', async () => {
  const accounts = {
    EXP: { users: [{ user: 'exp', password: 'x' }], exports: [{ stream: 'ev.>' }] },
    IMP: { users: [{ user: 'imp', password: 'x' }], imports: [{ stream: { account: 'EXP', subject: 'ev.>' } }] },
  };
  const hub = await scope.server({ ...LIMITS, accounts, leafnodes: { port: 0 } });
  // The leaf node is bound to IMP: the hub reaches it through a shadow of its interest in EXP.
  const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: `nats-leaf://imp:x@127.0.0.1:${hub.leafnodePort}` }] } });
  const sub = await scope.client(leaf);
  const got: number[] = [];
  sub.subscribe('ev.>', { callback: () => void got.push(1) });
  await sub.flush();
  const probe = await scope.client(hub, { user: 'exp', pass: 'x' });
  await publishUntil(probe, 'ev.x', () => got.length > 0);
  await floodIsStalled(hub, leaf, 'ev.x', { user: 'exp', pass: 'x' });
});

async function gatewayPending(s: NatsServer, to: string): Promise<number> {
  const gatewayz = await monitorJson(s.monitorUrl!, '/gatewayz');
  const out = (gatewayz.outbound_gateways as Record<string, Json>)[to];
  return ((out?.connection as Json | undefined)?.pending_bytes as number | undefined) ?? 0;
}

it('a client publishing into a backed-up gateway connection is stalled too', async () => {
  const a = await scope.server({ serverName: 'a', ...LIMITS, gateway: { name: 'A', port: 0 } });
  const b = await scope.server({ serverName: 'b', gateway: { name: 'B', port: 0, gateways: [{ name: 'A', url: a.gatewayUrl! }] } });
  await eventually(() => a.gateways().outbound.includes('B') && b.gateways().outbound.includes('A'), 'the gateways');
  const sub = await scope.client(b);
  const got: number[] = [];
  sub.subscribe('big', { callback: () => void got.push(1) });
  await sub.flush();
  const pub = await scope.client(a);
  await publishUntil(pub, 'big', () => got.length > 0);
  await floodIsStalled(a, b, 'big');
  await eventually(async () => (await gatewayPending(a, 'B')) === 0, 'the gateway drained', 20_000);
  // A reply the gateway layer sends straight back (B's request, reply `rep`, answered on A):
  // the same (nats-server's handleGWReplyMap sends it as the client's own message).
  const asked: number[] = [];
  (await scope.client(a)).subscribe('svc', { callback: () => void asked.push(1) });
  sub.subscribe('rep', { callback: () => undefined });
  await sub.flush();
  await eventually(async () => {
    sub.publish('svc', 'q', { reply: 'rep' });
    await sub.flush();
    return asked.length > 0;
  }, 'a request from B on A');
  await floodIsStalled(a, b, 'rep');
});
