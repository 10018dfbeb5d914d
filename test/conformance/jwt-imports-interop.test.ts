/**
 * Exports and imports of account JWTs against the real nats-server: one config file (an
 * operator, a system account, `resolver: MEMORY`, `resolver_preload` with the account JWTs)
 * started by the real binary and, through the config reader, by the embedded broker; then the
 * same clients, subscriptions and publications on both, and the deliveries compared (and with
 * the model of test/helpers/import-graph.ts).
 *
 * The graphs are generated (fixed seed): token-required exports with activations, and imports
 * whose token is missing, expired, revoked by the export or signed by a key the exporter does
 * not have. One more fixed graph covers activations signed by a signing key of the exporter,
 * `account_token_position`, a stream export narrowed by the import, and a token-required service
 * with stream responses. And a reload (SIGHUP with a rewritten config there, `server.reload()`
 * here) with new account JWTs: a new activation wires an import, an export revocation unwires it.
 *
 * The real binary is 2.9.10 (jwt v2.3.0); what is compared — accounts.go checkAuth,
 * checkActivation, isIssuerClaimTrusted, the JWT import wiring of updateAccountClaimsWithRefresh
 * and jwt's Import/Export validation — is the same in 2.10.29 (jwt v2.7.4) for these JWTs
 * (2.10 adds only `allow_trace`, not used here). Part of `npm run test:conformance`.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { createAccount } from '@nats-io/nkeys';
import { createServer, type NatsServer } from '../../src/index.js';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { freePort, startRealServer, type RealServer } from '../helpers/real-server.js';
import { choice, graph, jwtAccounts, model, play, traffic, type JwtGraph } from '../helpers/import-graph.js';
import { makeAccount, makeActivation, makeOperator, makeUser, operatorConf, publicKeyOf, type User } from '../helpers/jwt.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await Promise.all(stops.map((s) => s()));
});

/** The same config on both servers: their client ports. */
async function both(lines: readonly string[]): Promise<{ real: string; ours: string; close: () => Promise<void> }> {
  const port = await freePort();
  const real: RealServer = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, ...lines]);
  const ours: NatsServer = await createServer({ ...optionsFromConf(parseConf(lines.join('\n'), 'jwt-imports.conf')).options, port: 0 });
  const close = async (): Promise<void> => {
    await Promise.all([real.stop(), ours.close()]);
  };
  stops.push(close);
  return { real: `nats://127.0.0.1:${port}`, ours: ours.url, close };
}

const bearer = (url: string, u: User): Promise<NatsConnection> => connect({ servers: url, reconnect: false, authenticator: jwtAuthenticator(u.jwt) });

/** Rewrites the real server's config and sends SIGHUP; resolves once it logged the reload. */
function reloadReal(real: RealServer, lines: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('nats-server did not log a reload')), 5000);
    const onData = (b: Buffer): void => {
      if (!b.toString().includes('Reloaded server configuration')) return;
      clearTimeout(timer);
      real.child.stderr!.off('data', onData);
      resolve();
    };
    real.child.stderr!.on('data', onData);
    writeFileSync(real.confPath, `${lines.join('\n')}\n`);
    real.child.kill('SIGHUP');
  });
}

describe('account JWT imports: deliveries as nats-server', () => {
  const cases = fc.sample(fc.tuple(choice, traffic), { seed: 20261201, numRuns: 6 });

  it.each(cases.map((c, i) => [i, c] as const))('generated graph %i', async (_i, [c, t]) => {
    const accs = graph(c);
    const g: JwtGraph = jwtAccounts(accs);
    const s = await both(operatorConf(g.operator, [g.system, ...g.accounts], g.system.pub));
    try {
      const real = await play((i) => bearer(s.real, g.users[i]!), t);
      const ours = await play((i) => bearer(s.ours, g.users[i]!), t);
      expect(ours).toEqual(real);
      expect(real).toEqual(model(accs, t));
    } finally {
      await s.close();
    }
  });

  it('signing-key activations, account token position, narrowed imports, a token-required service with stream responses', async () => {
    const op = makeOperator();
    const sys = makeAccount(op.kp);
    const expKp = createAccount();
    const sk = createAccount();
    const exp = publicKeyOf(expKp);
    const [k1, k2, k3] = [createAccount(), createAccount(), createAccount()];
    const [p1, p2, p3] = [publicKeyOf(k1), publicKeyOf(k2), publicKeyOf(k3)];
    const exporter = makeAccount(op.kp, {
      signing_keys: [publicKeyOf(sk)],
      exports: [
        { subject: 'tok.>', type: 'stream', token_req: true },
        { subject: 'pos.*.>', type: 'stream', account_token_position: 2 },
        { subject: 'svc.*', type: 'service', token_req: true, response_type: 'Stream' },
      ],
    }, { name: 'EXP' }, expKp);
    const imp = (kp: typeof k1, imports: Array<Record<string, unknown>>): ReturnType<typeof makeAccount> => makeAccount(op.kp, { imports }, {}, kp);
    const a1 = imp(k1, [
      { subject: 'tok.a', account: exp, type: 'stream', token: makeActivation(sk, p1, 'tok.>', 'stream', { issuer_account: exp }) },
      { subject: `pos.${p1}.>`, account: exp, type: 'stream', local_subject: 'mine.>' },
      { subject: 'svc.*', account: exp, type: 'service', local_subject: 'ask.$1', token: makeActivation(expKp, p1, 'svc.*', 'service') },
    ]);
    const a2 = imp(k2, [
      // The exact wildcard of an account-token export: refused (no token to compare).
      { subject: 'pos.*.>', account: exp, type: 'stream', to: 'all' },
      // Someone else's token position.
      { subject: `pos.${p1}.>`, account: exp, type: 'stream', to: 'theirs' },
      { subject: 'svc.*', account: exp, type: 'service', local_subject: 'ask.$1', token: makeActivation(expKp, p2, 'svc.*', 'service') },
      // An activation of the whole export for a narrower import.
      { subject: 'tok.b', account: exp, type: 'stream', token: makeActivation(expKp, p2, 'tok.>', 'stream') },
    ]);
    // An activation narrower than its import fails the account JWT's validation: no user gets in.
    const a3 = imp(k3, [{ subject: 'tok.>', account: exp, type: 'stream', token: makeActivation(expKp, p3, 'tok.b', 'stream') }]);
    const users = { exp: makeUser(expKp, { bearer_token: true }), a1: makeUser(k1, { bearer_token: true }), a2: makeUser(k2, { bearer_token: true }), a3: makeUser(k3, { bearer_token: true }) };
    const s = await both(operatorConf(op, [sys, exporter, a1, a2, a3], sys.pub));
    const run = async (url: string): Promise<Record<string, string[]>> => {
      const refused = await bearer(url, users.a3).then(async (c) => {
        await c.close();
        return 'connected';
      }, (e: Error) => e.message);
      const conns = { exp: await bearer(url, users.exp), a1: await bearer(url, users.a1), a2: await bearer(url, users.a2) };
      try {
        const got: Record<string, string[]> = { exp: [], a1: [], a2: [], replies: [], a3: [refused] };
        for (const k of ['a1', 'a2'] as const) conns[k].subscribe('>', { callback: (_e, m) => void got[k]!.push(`${m.subject} ${m.string()}`) });
        conns.exp.subscribe('svc.*', {
          callback: (_e, m) => {
            got.exp!.push(`${m.subject} ${m.string()}`);
            m.respond('r1');
            m.respond('r2');
          },
        });
        await Promise.all(Object.values(conns).map((c) => c.flush()));
        conns.exp.publish('tok.a', '1');
        conns.exp.publish('tok.b', '2');
        conns.exp.publish(`pos.${p1}.x`, '3');
        conns.exp.publish(`pos.${p2}.x`, '4');
        for (const k of ['a1', 'a2'] as const) {
          const inbox = `inbox.${k}`;
          conns[k].subscribe(inbox, { callback: (_e, m) => void got.replies!.push(`${k} ${m.string()}`) });
          conns[k].publish('ask.x', k, { reply: inbox });
        }
        for (let i = 0; i < 3; i++) await Promise.all(Object.values(conns).map((c) => c.flush()));
        for (const v of Object.values(got)) v.sort();
        return got;
      } finally {
        await Promise.all(Object.values(conns).map((c) => c.close()));
      }
    };
    try {
      const real = await run(s.real);
      expect(await run(s.ours)).toEqual(real);
      // What the comparison rests on, stated.
      expect(real.a1).toEqual(expect.arrayContaining(['tok.a 1', 'mine.x 3', 'inbox.a1 r1', 'inbox.a1 r2']));
      expect(real.a1).not.toContain('tok.b 2');
      expect(real.a2).toEqual(expect.arrayContaining(['tok.b 2', 'inbox.a2 r1']));
      expect(real.a2.filter((m) => !m.startsWith('ask.') && !m.startsWith('inbox.'))).toEqual(['tok.b 2']);
      expect(real.a3).toEqual(['Authorization Violation']);
    } finally {
      await s.close();
    }
  });

  it('a reload with new account JWTs: a new activation wires the import, an export revocation unwires it', async () => {
    const op = makeOperator();
    const sys = makeAccount(op.kp);
    const expKp = createAccount();
    const impKp = createAccount();
    const [exp, imp] = [publicKeyOf(expKp), publicKeyOf(impKp)];
    const exporter = (revocations: Record<string, number>): ReturnType<typeof makeAccount> =>
      makeAccount(op.kp, { exports: [{ subject: 'tok.>', type: 'stream', token_req: true, revocations }] }, {}, expKp);
    const importer = (token: Record<string, unknown>): ReturnType<typeof makeAccount> =>
      makeAccount(op.kp, { imports: [{ subject: 'tok.>', account: exp, type: 'stream', ...token }] }, {}, impKp);
    const granted = { token: makeActivation(expKp, imp, 'tok.>', 'stream', {}, { iat: Math.floor(Date.now() / 1000) - 5 }) };
    const steps = [
      operatorConf(op, [sys, exporter({}), importer({})], sys.pub),
      operatorConf(op, [sys, exporter({}), importer(granted)], sys.pub),
      operatorConf(op, [sys, exporter({ [imp]: Math.floor(Date.now() / 1000) }), importer(granted)], sys.pub),
    ];
    const port = await freePort();
    const listen = `listen: "127.0.0.1:${port}"`;
    const real = await startRealServer(BIN, [listen, ...steps[0]!]);
    stops.push(() => real.stop());
    const ours = await createServer({ ...optionsFromConf(parseConf(steps[0]!.join('\n'), 'jwt-imports.conf')).options, port: 0 });
    stops.push(() => ours.close());
    const users = { e: makeUser(expKp, { bearer_token: true }), i: makeUser(impKp, { bearer_token: true }) };
    const results: Record<string, string[]> = {};
    for (const [name, url, reload] of [
      ['real', `nats://127.0.0.1:${port}`, (lines: readonly string[]) => reloadReal(real, [listen, ...lines])],
      ['ours', ours.url, async (lines: readonly string[]) => ours.reload({ ...optionsFromConf(parseConf(lines.join('\n'), 'jwt-imports.conf')).options, port: 0 })],
    ] as const) {
      const e = await bearer(url, users.e);
      const i = await bearer(url, users.i);
      const got: string[] = [];
      i.subscribe('tok.>', { callback: (_err, m) => void got.push(`${m.subject} ${m.string()}`) });
      await i.flush();
      for (const [n, lines] of steps.entries()) {
        if (n > 0) await reload(lines);
        e.publish('tok.a', String(n));
        await e.flush();
        await i.flush();
      }
      results[name] = got;
      await Promise.all([e.close(), i.close()]);
    }
    expect(results.ours).toEqual(results.real);
    expect(results.real).toEqual(['tok.a 1']);
  });
});
