/**
 * Model-based property test of account exports and imports: a random graph of four accounts
 * (stream and service exports, public or for named accounts; stream imports with or without a
 * prefix; service imports mapped to a local subject) with random subscriptions and
 * publications, played through the official client. Every subscription must receive exactly
 * what a small model of nats-server's import rules says — in particular nothing from an
 * account it did not import from. Graphs, model and traffic: test/helpers/import-graph.ts.
 *
 * Two forms of the same graph: configured accounts, and account JWTs in operator mode (an
 * export for named accounts requires an activation token; imports with a missing, expired,
 * revoked or untrusted token are added too, and must deliver nothing).
 *
 * The same file runs against a real nats-server (NATS_WIRE_SERVER, as the conformance run
 * does), which checks the model. Replay: FC_SEED=<seed> (printed at the start).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, jwtAuthenticator } from '@nats-io/transport-node';
import { createServer, type NatsServer, type ServerOptions } from '../../src/index.js';
import { REAL_SERVER } from '../helpers/broker.js';
import { choice, configAccounts, graph, jwtAccounts, model, play, traffic } from '../helpers/import-graph.js';

const raw = process.env.FC_SEED;
const SEED = raw === undefined || raw === '' ? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0 : Number(raw) | 0;
console.log(`imports properties: FC_SEED=${SEED}`);
if (REAL_SERVER !== '') process.env.NATS_SERVER_BIN ??= REAL_SERVER;

const servers: NatsServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function withServer(opts: ServerOptions, body: (s: NatsServer) => Promise<void>): Promise<void> {
  const server = await createServer({ ...opts, ...(REAL_SERVER === '' ? {} : { backend: 'nats-server' as const }) });
  servers.push(server);
  try {
    await body(server);
  } finally {
    await server.close();
    servers.splice(servers.indexOf(server), 1);
  }
}

describe('account imports (model-based)', () => {
  it('configured accounts: every subscription receives exactly what the import rules say; nothing leaks to an account that did not import it', async () => {
    await fc.assert(
      fc.asyncProperty(choice, fc.array(traffic, { minLength: 1, maxLength: 3 }), async (c, rounds) => {
        const accs = graph(c);
        await withServer({ accounts: configAccounts(accs) }, async (server) => {
          const conn = (i: number) => connect({ servers: server.url, user: `u${i}`, pass: `u${i}`, reconnect: false });
          for (const t of rounds) expect(await play(conn, t)).toEqual(model(accs, t));
        });
      }),
      { seed: SEED, numRuns: REAL_SERVER === '' ? 60 : 25, timeout: 20_000 },
    );
  }, 180_000);

  it('account JWTs: the same graphs as token-required exports and activations; imports without a valid activation deliver nothing', async () => {
    await fc.assert(
      fc.asyncProperty(choice, traffic, async (c, t) => {
        const accs = graph(c);
        const g = jwtAccounts(accs);
        const opts: ServerOptions = {
          operator: g.operator.jwt, systemAccount: g.system.pub, resolver: 'MEMORY',
          resolverPreload: Object.fromEntries([g.system, ...g.accounts].map((a) => [a.pub, a.jwt])),
        };
        await withServer(opts, async (server) => {
          const conn = (i: number) => connect({ servers: server.url, reconnect: false, authenticator: jwtAuthenticator(g.users[i]!.jwt) });
          expect(await play(conn, t)).toEqual(model(accs, t));
        });
      }),
      { seed: SEED, numRuns: REAL_SERVER === '' ? 40 : 10, timeout: 20_000 },
    );
  }, 180_000);
});
