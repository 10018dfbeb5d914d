/**
 * Service latency tracking across a route, as nats-server does it: the requester's server
 * measures the whole exchange (its `m1`), the responder's server sees the tracked reply
 * (`.<hash>.T`) come from the route and, when its client answers, sends its half (the service
 * time and the responder's client info) on `$SYS.LATENCY.M2.<hash>` in the system account; the
 * requester's server merges the two and publishes one measurement in the exporting account.
 */
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsServer, ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const ACCOUNTS = {
  accounts: {
    A: { users: [{ user: 'a', password: 'a' }], exports: [{ service: 'svc.>', latency: 'lat.svc' }] },
    B: { users: [{ user: 'b', password: 'b' }], imports: [{ service: { account: 'A', subject: 'svc.>' } }] },
  },
} satisfies ServerOptions;

const scope = useScope();

function client(s: NatsServer, user: string, name: string): Promise<NatsConnection> {
  return scope.client(s, { user, pass: user, name, reconnect: false });
}

describe('service latency across a cluster', () => {
  it('requester on one server, responder on the other: one merged measurement with the remote responder', async () => {
    const c = await scope.cluster({ size: 2, ...ACCOUNTS });
    const [s1, s2] = c.servers as [NatsServer, NatsServer];
    const b1 = await client(s1, 'b', 'requester');
    const a1 = await client(s1, 'a', 'listener');
    const a2 = await client(s2, 'a', 'far-responder');
    const got: Array<Record<string, unknown>> = [];
    a1.subscribe('lat.svc', { callback: (_e, m) => void got.push(m.json<Record<string, unknown>>()) });
    a2.subscribe('svc.>', { callback: (_e, m) => void m.respond('pong') });
    await Promise.all([a1.flush(), a2.flush()]);
    await s1.waitForSubscription('svc.x', { count: 2 });
    // The `_R_` interest of s1 and its M2 subscription must have reached s2.
    await eventually(async () => (await b1.request('svc.x', 'hi', { timeout: 500 }).then(() => true, () => false)) || undefined, 'a first response');
    await eventually(() => got.length >= 1 || undefined, 'the merged measurement');
    for (let i = 0; i < 3; i++) expect((await b1.request('svc.x', 'hi', { timeout: 2000 })).string()).toBe('pong');
    await eventually(() => got.length >= 4 || undefined, 'four measurements');
    await a1.flush();
    expect(got).toHaveLength(4);
    for (const m of got) {
      expect(m).toMatchObject({ type: 'io.nats.server.metric.v1.service_latency', status: 200, requestor: { acc: 'B' } });
      expect(m.responder).toMatchObject({ acc: 'A', name: 'far-responder', server: s2.info.server_name });
      expect(m.total as number).toBeGreaterThanOrEqual(m.service as number);
    }
  });
});
