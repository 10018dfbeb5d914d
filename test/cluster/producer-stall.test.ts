/**
 * A publisher faster than a route or a gateway: nats-server stalls a client whose message goes to
 * a route, leaf node or gateway connection that has three quarters of `max_pending` queued, until the route
 * drains below that or 2-5 ms per message pass (client.go queueOutbound / stalledWait); a route
 * is never closed as a slow consumer. Without the stall the server would read on and buffer
 * the whole surplus for the route.
 */
import { expect, it } from 'vitest';
import { type NatsServer } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { monitorJson, type Json } from '../helpers/monitor.js';
import { publishUntil } from '../helpers/eventually.js';

const scope = useScope();

async function routePending(s: NatsServer): Promise<number> {
  const routez = await monitorJson(s.monitorUrl!, '/routez');
  return ((routez.routes as Json[])[0].pending_size as number) ?? 0;
}

it('a client publishing into a backed-up route is stalled: the route\'s backlog stays near max_pending instead of taking everything sent', async () => {
  const maxPending = 256 * 1024;
  const a = await scope.server({ serverName: 'a', http: '127.0.0.1:0', maxPending, maxPayload: 64 * 1024, cluster: { name: 'C', port: 0 } });
  const b = await scope.server({ serverName: 'b', cluster: { name: 'C', port: 0, routes: [a.routeUrl!] } });
  await eventually(() => a.routes().length === 1 && b.routes().length === 1, 'the route');
  const sub = await scope.client(b);
  sub.subscribe('big', { callback: () => undefined });
  await sub.flush();
  await a.waitForSubscription('big');
  // B stops reading: the route fills the kernel's buffers, then queues in A.
  b.pause();
  scope.defer(() => b.resume());
  const w = await WireClient.connected(a.port);
  scope.defer(() => w.close());
  // 32 MiB of 1 KiB messages, far beyond the kernel's socket buffers (a few MiB each way).
  const payload = 'x'.repeat(1024);
  const frame = `PUB big 1024\r\n${payload}\r\n`.repeat(1024);
  for (let i = 0; i < 32; i++) w.send(frame);
  // The route backs up past three quarters of max_pending; then A gets a second to read on:
  // without the stall, everything past the kernel's buffers lands in the route's backlog.
  await eventually(async () => (await routePending(a)) > (maxPending / 4) * 3, 'the route backed up', 10_000);
  await new Promise((r) => setTimeout(r, 1000));
  const pending = await routePending(a);
  // Each further read of the publisher waits up to 5 ms per message it routed: a few hundred
  // KiB a second at most, against tens of MiB unstalled.
  expect(pending).toBeLessThan(4 * 1024 * 1024);
  expect(a.routes()).toHaveLength(1);
  // Once B reads again, the route drains and the publisher's messages all arrive.
  b.resume();
  await eventually(async () => (await routePending(a)) === 0, 'the route drained', 20_000);
});

async function gatewayPending(s: NatsServer, to: string): Promise<number> {
  const gatewayz = await monitorJson(s.monitorUrl!, '/gatewayz');
  const out = (gatewayz.outbound_gateways as Record<string, Json>)[to];
  return ((out?.connection as Json | undefined)?.pending_bytes as number | undefined) ?? 0;
}

it('a client publishing into a backed-up gateway connection is stalled too', async () => {
  const maxPending = 256 * 1024;
  const a = await scope.server({ serverName: 'a', http: '127.0.0.1:0', maxPending, maxPayload: 64 * 1024, gateway: { name: 'A', port: 0 } });
  const b = await scope.server({ serverName: 'b', gateway: { name: 'B', port: 0, gateways: [{ name: 'A', url: a.gatewayUrl! }] } });
  await eventually(() => a.gateways().outbound.includes('B') && b.gateways().outbound.includes('A'), 'the gateways');
  const sub = await scope.client(b);
  const got: number[] = [];
  sub.subscribe('big', { callback: () => void got.push(1) });
  await sub.flush();
  const pub = await scope.client(a);
  await publishUntil(pub, 'big', () => got.length > 0);
  b.pause();
  scope.defer(() => b.resume());
  const w = await WireClient.connected(a.port);
  scope.defer(() => w.close());
  const frame = `PUB big 1024\r\n${'x'.repeat(1024)}\r\n`.repeat(1024);
  for (let i = 0; i < 32; i++) w.send(frame);
  await eventually(async () => (await gatewayPending(a, 'B')) > (maxPending / 4) * 3, 'the gateway backed up', 10_000);
  await new Promise((r) => setTimeout(r, 1000));
  expect(await gatewayPending(a, 'B')).toBeLessThan(4 * 1024 * 1024);
  b.resume();
  await eventually(async () => (await gatewayPending(a, 'B')) === 0, 'the gateway drained', 20_000);
});
