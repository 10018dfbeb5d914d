/**
 * Route authentication (`cluster { authorization }`) against the real nats-server: routes with
 * the same credentials in both directions carry messages, a mismatch is refused the same way on
 * both sides (the same wire answers to the same raw attempts), the same config files are
 * accepted or refused with the same reason, and /varz reports the same `cluster.auth_timeout`.
 * Run by `npm run test:conformance` (NATS_SERVER_BIN). The real binary is 2.9.10; the code paths
 * compared (auth.go isRouterAuthorized, route.go processRouteConnect/sendRouteConnect, opts.go
 * parseCluster) are unchanged in 2.10.29.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type NatsConnection } from '@nats-io/transport-node';
import { type NatsServer } from '../../src/index.js';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { clusterBlock, freePort, startRealServer } from '../helpers/real-server.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope();
const AUTH = { user: 'ruser', password: 'rpass' };

interface Real {
  clientUrl: string;
  routePort: number;
  monitorUrl: string;
}

async function realServer(name: string, routes: string[], auth: string | null = `authorization { user: ${AUTH.user}, password: ${AUTH.password} }`): Promise<Real> {
  const [port, clusterPort, http] = [await freePort(), await freePort(), await freePort()];
  const real = await startRealServer(BIN, [
    `listen: "127.0.0.1:${port}"`,
    `http: "127.0.0.1:${http}"`,
    `server_name: ${name}`,
    ...clusterBlock(clusterPort, routes, auth === null ? [] : [auth]),
  ]);
  scope.defer(() => real.stop());
  return { clientUrl: `nats://127.0.0.1:${port}`, routePort: clusterPort, monitorUrl: `http://127.0.0.1:${http}` };
}

function embedded(name: string, routes: string[] = [], authorization: Record<string, unknown> | null = AUTH): Promise<NatsServer> {
  return scope.server({
    serverName: name,
    http: -1,
    cluster: { name: 'C', routes, reconnectDelay: 100, ...(authorization === null ? {} : { authorization }) },
  });
}

const url = (port: number, creds = `${AUTH.user}:${AUTH.password}`): string => `nats-route://${creds}@127.0.0.1:${port}`;

/** A message published on `from` reaches a subscriber on `to` (retried: interest crosses asynchronously). */
async function flows(fromUrl: string, toUrl: string, subject: string): Promise<void> {
  const [from, to]: NatsConnection[] = [await scope.client(fromUrl), await scope.client(toUrl)];
  let got = 0;
  to.subscribe(subject, { callback: () => void got++ });
  await to.flush();
  await eventually(async () => {
    if (got > 0) return true;
    from.publish(subject, 'x');
    await from.flush();
    return false;
  }, `a message on ${subject}`, 10_000);
}

/** The real server's registered routes (2.9's /routez has no remote_name: the count it is). */
async function realRoutes(real: Real): Promise<number> {
  const routez = await (await fetch(`${real.monitorUrl}/routez`)).json() as { num_routes: number };
  return routez.num_routes;
}

describe('route authentication with a real nats-server', () => {
  it('nats-server dials an embedded server with the credentials in its route URL', async () => {
    const emb = await embedded('emb-a');
    const real = await realServer('real-a', [url(emb.clusterPort)]);
    await eventually(() => emb.routes().some((r) => r.name === 'real-a'), 'route from nats-server', 10_000);
    await flows(real.clientUrl, emb.url, 'to.emb');
    await flows(emb.url, real.clientUrl, 'to.real');
  });

  it('an embedded server dials nats-server with the credentials in its route URL', async () => {
    const real = await realServer('real-b', []);
    const emb = await embedded('emb-b', [url(real.routePort)]);
    await eventually(() => emb.routes().some((r) => r.name === 'real-b'), 'route to nats-server', 10_000);
    expect(await realRoutes(real)).toBe(1);
    await flows(real.clientUrl, emb.url, 'to.emb');
    await flows(emb.url, real.clientUrl, 'to.real');
  });

  it('gossip: an embedded server dials another it learned from nats-server with its own credentials', async () => {
    const real = await realServer('real-g', []);
    const e1 = await embedded('emb-g1', [url(real.routePort)]);
    const e2 = await embedded('emb-g2', [url(real.routePort)]);
    await eventually(() => e1.routes().length === 2 && e2.routes().length === 2, 'full mesh via gossip', 10_000);
    await flows(e1.url, e2.url, 'to.e2');
  });

  it('a mismatch is refused in both directions and no route forms', async () => {
    const real = await realServer('real-m', []);
    const emb = await embedded('emb-m', [url(real.routePort, 'ruser:wrong')]);
    const real2 = await realServer('real-m2', [url(emb.clusterPort, 'ruser:wrong')]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(emb.routes()).toEqual([]);
    expect(await realRoutes(real)).toBe(0);
    expect(await realRoutes(real2)).toBe(0);
  });

  it('answers the same raw route attempts with the same bytes', async () => {
    const real = await realServer('real-w', [], `authorization { user: ${AUTH.user}, password: ${AUTH.password}, timeout: 0.5 }`);
    const emb = await embedded('emb-w', [], { ...AUTH, timeout: 500 });
    const attempts: Array<[string, string | null]> = [
      ['wrong password', 'CONNECT {"user":"ruser","pass":"x","name":"NX","cluster":"C"}\r\n'],
      ['no credentials', 'CONNECT {"name":"NX","cluster":"C"}\r\n'],
      ['token', 'CONNECT {"auth_token":"rpass","name":"NX","cluster":"C"}\r\n'],
      ['client CONNECT', 'CONNECT {"lang":"node","verbose":false}\r\n'],
      ['op before CONNECT', 'PING\r\n'],
      ['silence', null],
      ['right credentials', 'CONNECT {"user":"ruser","pass":"rpass","name":"NX","cluster":"C"}\r\nPING\r\n'],
    ];
    const answer = async (port: number, send: string | null): Promise<{ info: Record<string, unknown>; rest: string; closed: boolean }> => {
      const w = await WireClient.open(port);
      scope.defer(() => w.close());
      if (send !== null) w.send(send);
      const rest = await w.readUntil('\r\n', 3000);
      const closed = await w.expectClose(1500).then(() => true, () => false);
      return { info: w.info, rest, closed };
    };
    for (const [what, send] of attempts) {
      const [r, e] = [await answer(real.routePort, send), await answer(emb.clusterPort, send)];
      expect({ what, rest: e.rest, closed: e.closed }).toEqual({ what, rest: r.rest, closed: r.closed });
      expect(e.info.auth_required).toBe(r.info.auth_required);
    }
  });

  it('reports the same cluster.auth_timeout in /varz (configured and default)', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      [`authorization { user: ${AUTH.user}, password: ${AUTH.password}, timeout: 3 }`, { ...AUTH, timeout: 3000 }],
      [`authorization { user: ${AUTH.user}, password: ${AUTH.password} }`, AUTH],
    ];
    for (const [conf, opts] of cases) {
      const real = await realServer('real-v', [], conf);
      const emb = await embedded('emb-v', [], opts);
      const varz = async (base: string): Promise<unknown> =>
        ((await (await fetch(`${base}/varz`)).json()) as { cluster: { auth_timeout?: number } }).cluster.auth_timeout;
      expect(await varz(emb.monitorUrl!)).toBe(await varz(real.monitorUrl));
    }
  });
});

describe('cluster authorization config files, as nats-server -t judges them', () => {
  const files: Array<[string, string]> = [
    ['user and password', 'cluster { listen: "127.0.0.1:-1", authorization { user: a, password: b, timeout: 3 } }'],
    ['a token', 'cluster { listen: "127.0.0.1:-1", authorization { token: t } }'],
    ['a token and a user', 'cluster { listen: "127.0.0.1:-1", authorization { user: a, password: b, token: t } }'],
    ['a users list', 'cluster { listen: "127.0.0.1:-1", authorization { users: [ { user: a, password: b } ] } }'],
  ];
  for (const [what, text] of files) {
    it(`${what}: accepted or refused with the same reason`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'route-auth-'));
      try {
        const file = join(dir, 'c.conf');
        writeFileSync(file, `${text}\n`);
        let realErr: string | null = null;
        try {
          execFileSync(BIN, ['-t', '-c', file], { stdio: 'pipe' });
        } catch (err) {
          realErr = String((err as { stderr: Buffer }).stderr);
        }
        let ours: string | null = null;
        try {
          optionsFromConf(parseConf(text, file, {}));
        } catch (err) {
          ours = (err as Error).message;
        }
        if (realErr === null) {
          expect(ours).toBeNull();
        } else {
          // nats-server: "<file>:1:32: <reason>"; ours ends with the same reason.
          const reason = /:\d+:\d+: (.*)/.exec(realErr)?.[1]?.trim();
          expect(reason).toBeDefined();
          expect(ours).toMatch(new RegExp(`${reason!}$`));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
