/**
 * Account imports in a cluster of a real nats-server and an embedded server: each side's
 * stream-import interest (a shadow subscription: interest in the exporting account) and
 * service-import responses (`_R_` interest in the exporting account) cross the route in both
 * directions, and the other server acts on them. Run by `npm run test:conformance`
 * (NATS_SERVER_BIN).
 */
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ServerOptions } from '../../src/index.js';
import { clusterBlock, freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually, publishUntil } from '../helpers/eventually.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope();

const ACCOUNTS = {
  A: { users: [{ user: 'a', password: 'a' }], exports: [{ stream: 'ev.>' }, { service: 'svc.>' }] },
  B: {
    users: [{ user: 'b', password: 'b' }],
    imports: [{ stream: { account: 'A', subject: 'ev.>' }, prefix: 'from.a' }, { service: { account: 'A', subject: 'svc.>' } }],
  },
} satisfies ServerOptions['accounts'];

const ACCOUNTS_CONF = [
  'accounts {',
  '  A: { users: [{ user: a, password: a }], exports: [{ stream: "ev.>" }, { service: "svc.>" }] }',
  '  B: { users: [{ user: b, password: b }], imports: [{ stream: { account: A, subject: "ev.>" }, prefix: from.a }, { service: { account: A, subject: "svc.>" } }] }',
  '}',
];

async function pair(): Promise<{ real: string; emb: string }> {
  const [port, clusterPort] = [await freePort(), await freePort()];
  const real = await startRealServer(BIN, [
    `listen: "127.0.0.1:${port}"`,
    'server_name: real',
    ...clusterBlock(clusterPort),
    ...ACCOUNTS_CONF,
  ]);
  scope.defer(() => real.stop());
  const emb = await scope.server({ serverName: 'emb', accounts: ACCOUNTS, cluster: { name: 'C', routes: [`nats-route://127.0.0.1:${clusterPort}`], reconnectDelay: 100 } });
  return { real: `nats://127.0.0.1:${port}`, emb: emb.url };
}

function client(url: string, user: string): Promise<NatsConnection> {
  return scope.client(url, { user, pass: user });
}

async function requestUntil(nc: NatsConnection, subject: string): Promise<string> {
  return eventually(async () => {
    try {
      return (await nc.request(subject, 'hi', { timeout: 500 })).string();
    } catch {
      return undefined;
    }
  }, `a response on ${subject}`, 10_000);
}

describe('imports across a route between nats-server and nats-embedded', () => {
  it('stream import: the importer\'s subscriber on either server gets the exporter\'s messages from the other', async () => {
    const { real, emb } = await pair();
    const got: Record<string, string[]> = { real: [], emb: [] };
    const bReal = await client(real, 'b');
    const bEmb = await client(emb, 'b');
    bReal.subscribe('from.a.ev.to-real', { callback: (_e, m) => void got.real.push(m.subject) });
    bEmb.subscribe('from.a.ev.to-emb', { callback: (_e, m) => void got.emb.push(m.subject) });
    await Promise.all([bReal.flush(), bEmb.flush()]);
    await publishUntil(await client(emb, 'a'), 'ev.to-real', () => got.real.length > 0);
    await publishUntil(await client(real, 'a'), 'ev.to-emb', () => got.emb.length > 0);
    expect([got.real[0], got.emb[0]]).toEqual(['from.a.ev.to-real', 'from.a.ev.to-emb']);
  });

  it('service import: a request on either server reaches the responder on the other, and the response comes back', async () => {
    const { real, emb } = await pair();
    (await client(real, 'a')).subscribe('svc.real', { callback: (_e, m) => void m.respond('from real') });
    (await client(emb, 'a')).subscribe('svc.emb', { callback: (_e, m) => void m.respond('from embedded') });
    expect(await requestUntil(await client(emb, 'b'), 'svc.real')).toBe('from real');
    expect(await requestUntil(await client(real, 'b'), 'svc.emb')).toBe('from embedded');
  });
});
