/**
 * Mixed clusters and JetStream (issue 18): nats-embedded's JetStream cannot share a cluster with
 * nats-server's, so an embedded server with JetStream refuses routes to a nats-server with
 * JetStream — which says `"jetstream":true` in its route INFO (2.9.10 on the wire; 2.10.29
 * route.go) — with an `-ERR` and one error in its log, without re-dialling it in a loop. With
 * JetStream on one side only, the route is a plain core route, as before. Run by
 * `npm run test:conformance` (it needs the nats-server binary: NATS_SERVER_BIN).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsServer } from '../../src/index.js';
import { MIXED_JETSTREAM } from '../../src/cluster/cluster.js';
import { clusterBlock, freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope();

interface Real {
  clientUrl: string;
  routeUrl: string;
  /** Its log lines since it was ready. */
  log: string[];
}

/** A real nats-server in cluster C (with JetStream: `store_dir`), routing to `routes`. */
async function realServer(name: string, routes: string[], js: boolean): Promise<Real> {
  const [port, clusterPort] = [await freePort(), await freePort()];
  const lines = [
    `listen: "127.0.0.1:${port}"`,
    `server_name: ${name}`,
    ...clusterBlock(clusterPort, routes),
  ];
  if (js) {
    const store = mkdtempSync(join(tmpdir(), 'mixed-js-'));
    scope.defer(() => rmSync(store, { recursive: true, force: true }));
    lines.push(`jetstream { store_dir: "${store}" }`);
  }
  const real = await startRealServer(BIN, lines);
  scope.defer(() => real.stop());
  const log: string[] = [];
  real.child.stderr!.on('data', (d: Buffer) => log.push(...d.toString().split('\n').filter((l) => l !== '')));
  return { clientUrl: `nats://127.0.0.1:${port}`, routeUrl: `nats-route://127.0.0.1:${clusterPort}`, log };
}

interface Logged {
  errors: string[];
  debug: string[];
}

function embedded(name: string, routes: string[], js: boolean): Promise<NatsServer> & { logged: Logged } {
  const logged: Logged = { errors: [], debug: [] };
  const p = scope.server({
    serverName: name,
    ...(js ? { jetstream: true } : {}),
    cluster: { name: 'C', routes, reconnectDelay: 100 },
    debug: true,
    logger: {
      info: () => undefined,
      warn: () => undefined,
      error: (m) => void logged.errors.push(m),
      debug: (m) => void logged.debug.push(m),
    },
  });
  return Object.assign(p, { logged });
}

const refusals = (l: Logged): string[] => [...l.errors, ...l.debug].filter((m) => m.includes('refused: a cluster that mixes'));

/** Requests until a reply comes: the responder's interest crosses the route asynchronously. */
function retryRequest(nc: NatsConnection, subject: string): Promise<string> {
  return eventually(
    () => nc.request(subject, '', { timeout: 1000 }).then((m) => m.string(), () => undefined),
    `a reply on ${subject}`,
    10_000,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('mixed clusters with JetStream', () => {
  it('an embedded JetStream server dials a nats-server with JetStream: refused once, not re-dialled', async () => {
    // The real server needs a route of its own to run clustered JetStream: one that leads nowhere.
    const real = await realServer('real-js', [`nats-route://127.0.0.1:${await freePort()}`], true);
    const p = embedded('emb-js', [real.routeUrl], true);
    const emb = await p;
    await eventually(() => p.logged.errors.length > 0, 'the refusal in the log', 10_000);
    expect(p.logged.errors).toEqual([
      `JetStream: route to "real-js" refused: ${MIXED_JETSTREAM}; run JetStream on one kind of server only`,
    ]);
    // The peer is told why (nats-server logs it as a route error).
    await eventually(() => real.log.some((l) => l.includes(`JetStream route refused: ${MIXED_JETSTREAM}`)), 'the -ERR in the real log', 5000);
    // No reconnect storm: with a 100 ms reconnect delay, 1.5 s would be ~15 attempts.
    await sleep(1500);
    expect(refusals(p.logged)).toHaveLength(1);
    expect(emb.routes()).toEqual([]);
  });

  it('a nats-server with JetStream dials an embedded JetStream server: every attempt refused, one error logged', async () => {
    const p = embedded('emb-js2', [], true);
    const emb = await p;
    await realServer('real-js2', [emb.routeUrl!], true);
    // nats-server re-dials its configured route every second: each attempt is refused.
    await eventually(() => refusals(p.logged).length >= 2, 'two attempts refused', 10_000);
    expect(p.logged.errors).toEqual([
      `JetStream: route to "real-js2" refused: ${MIXED_JETSTREAM}; run JetStream on one kind of server only`,
    ]);
    expect(p.logged.debug.filter((m) => m.includes('refused'))[0]).toBe(`JetStream: route to "real-js2" refused: ${MIXED_JETSTREAM}`);
    expect(emb.routes()).toEqual([]);
  });

  it('a nats-server with JetStream and an embedded server without: a core route', async () => {
    const p = embedded('emb-core', [], false);
    const emb = await p;
    const real = await realServer('real-js3', [emb.routeUrl!], true);
    await eventually(() => emb.routes().some((r) => r.name === 'real-js3'), 'route from nats-server', 10_000);
    const onEmb = await scope.client(emb.url);
    const onReal = await scope.client(real.clientUrl);
    onEmb.subscribe('svc.emb', { callback: (_e, m) => void m.respond('from embedded') });
    onReal.subscribe('svc.real', { callback: (_e, m) => void m.respond('from real') });
    await Promise.all([onEmb.flush(), onReal.flush()]);
    expect(await retryRequest(onReal, 'svc.emb')).toBe('from embedded');
    expect(await retryRequest(onEmb, 'svc.real')).toBe('from real');
    expect(refusals(p.logged)).toEqual([]);
  });

  it('a nats-server without JetStream and an embedded JetStream server: a core route, JetStream answered by the embedded one', async () => {
    const real = await realServer('real-core', [], false);
    const p = embedded('emb-js4', [real.routeUrl], true);
    const emb = await p;
    await eventually(() => emb.routes().some((r) => r.name === 'real-core'), 'route to nats-server', 10_000);
    const onReal = await scope.client(real.clientUrl);
    const info = JSON.parse(await retryRequest(onReal, '$JS.API.INFO')) as Record<string, unknown>;
    expect(info.type).toBe('io.nats.jetstream.api.v1.account_info_response');
    expect(refusals(p.logged)).toEqual([]);
  });
});
