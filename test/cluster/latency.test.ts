/**
 * Service latency tracking across a route, as nats-server does it: the requester's server
 * measures the whole exchange (its `m1`), the responder's server sees the tracked reply
 * (`.<hash>.T`) come from the route and, when its client answers, sends its half (the service
 * time and the responder's client info) on `$SYS.LATENCY.M2.<hash>` in the system account; the
 * requester's server merges the two and publishes one measurement in the exporting account.
 */
import { describe, expect, it } from 'vitest';
import { useProcessWarnings } from '../helpers/warnings.js';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsServer, ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { getHash } from '../../src/broker/ids.js';

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

/**
 * A requester (B) and a listener of `lat.svc` (A) on the first server, A's responder's client on
 * the second; `got` collects the measurements.
 */
async function sides([s1, s2]: [NatsServer, NatsServer]) {
  const b1 = await client(s1, 'b', 'requester');
  const a1 = await client(s1, 'a', 'listener');
  const a2 = await client(s2, 'a', 'far-responder');
  const got: Array<Record<string, unknown>> = [];
  a1.subscribe('lat.svc', { callback: (_e, m) => void got.push(m.json<Record<string, unknown>>()) });
  return { s1, s2, b1, a1, a2, got };
}

describe('service latency across a cluster', () => {
  it('requester on one server, responder on the other: one merged measurement with the remote responder', async () => {
    const c = await scope.cluster({ size: 2, ...ACCOUNTS });
    const { s1, s2, b1, a1, a2, got } = await sides(c.servers as [NatsServer, NatsServer]);
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

describe('the responder\'s server\'s side', () => {
  const warnings = useProcessWarnings();

  it('a 30-day response threshold arms no spinning prune timer; a malformed M2 body is logged, not an internal error', async () => {
    const DAY_MS = 24 * 3600 * 1000;
    const c = await scope.cluster({
      size: 2,
      systemAccount: 'SYS',
      accounts: {
        SYS: { users: [{ user: 'sys', password: 'sys' }] },
        A: { users: [{ user: 'a', password: 'a' }], exports: [{ service: 'svc.>', latency: 'lat.svc', responseThreshold: 30 * DAY_MS }] },
        B: { users: [{ user: 'b', password: 'b' }], imports: [{ service: { account: 'A', subject: 'svc.>' } }] },
      },
    });
    const { s1, s2, b1, a1, a2, got } = await sides(c.servers as [NatsServer, NatsServer]);
    // svc.silent is never answered: its tracked reply waits on s2 for the 30-day threshold.
    a2.subscribe('svc.ok', { callback: (_e, m) => void m.respond('pong') });
    a2.subscribe('svc.silent', { callback: () => undefined });
    await Promise.all([a1.flush(), a2.flush()]);
    await s1.waitForSubscription('svc.ok', { count: 2 });
    await eventually(async () => (await b1.request('svc.ok', 'hi', { timeout: 500 }).then(() => true, () => false)) || undefined, 'a first response');
    await eventually(() => got.length >= 1 || undefined, 'the merged measurement');
    b1.publish('svc.silent', 'hi', { reply: 'never.answered' });
    await b1.flush();
    await new Promise((r) => setTimeout(r, 150));
    expect(warnings).not.toContain('TimeoutOverflowWarning');

    // Anyone in the system account can publish on s1's M2 subject: nats-server logs a body it cannot decode.
    const sys = await client(s1, 'sys', 'sys');
    sys.publish(`$SYS.LATENCY.M2.${getHash(s1.info.server_name)}`, 'not json');
    await sys.flush();
    const before = got.length;
    expect((await b1.request('svc.ok', 'hi', { timeout: 2000 })).string()).toBe('pong');
    await eventually(() => got.length > before || undefined, 'a measurement after the bad body');
    expect([s1.stats().internalErrors, s2.stats().internalErrors]).toEqual([0, 0]);
  });
});
