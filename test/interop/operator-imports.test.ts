/**
 * Operator mode: exports and imports declared in account JWTs, through the official client.
 * Public exports, token-authorised ones (activation JWTs signed by the exporting account or by
 * one of its signing keys), exports bound to the importer's key by `account_token_position`,
 * export revocations, an activation that expires while the server runs, a service export's
 * stream responses, and `server.reload()` with new account JWTs. The rules are nats-server
 * v2.10.29's accounts.go (checkAuth, checkActivation, isIssuerClaimTrusted,
 * updateAccountClaimsWithRefresh); test/conformance/jwt-imports-interop.test.ts compares
 * generated account graphs with the real nats-server.
 */
import { describe, expect, it } from 'vitest';
import { jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { createAccount, type KeyPair } from '@nats-io/nkeys';
import type { NatsServer, ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { makeAccount, makeActivation, makeOperator, makeUser, nowSec, publicKeyOf, type Account } from '../helpers/jwt.js';

const scope = useScope();

const op = makeOperator();
const sys = makeAccount(op.kp);
const expKp = createAccount();
const sk = createAccount();
const EXP = publicKeyOf(expKp);
const kps = {
  good: createAccount(), noToken: createAccount(), expired: createAccount(), revoked: createAccount(),
  skSigned: createAccount(), skRogue: createAccount(), pos: createAccount(), other: createAccount(),
};
const pub = (k: keyof typeof kps): string => publicKeyOf(kps[k]);

const exporter = (revocations: Record<string, number> = {}): Account => makeAccount(op.kp, {
  signing_keys: [publicKeyOf(sk)],
  exports: [
    { name: 'public', subject: 'pub.>', type: 'stream' },
    { name: 'tokens', subject: 'tok.>', type: 'stream', token_req: true, revocations: { [pub('revoked')]: nowSec() + 60, ...revocations } },
    { name: 'mine', subject: 'pos.*.>', type: 'stream', account_token_position: 2 },
    { name: 'svc', subject: 'svc.>', type: 'service', token_req: true, response_type: 'Stream', response_threshold: 300_000_000 },
  ],
}, { name: 'EXP' }, expKp);

const token = (importer: string, subject = 'tok.>', kind: 'stream' | 'service' = 'stream', top: Record<string, unknown> = {}, signer: KeyPair = expKp, nats: Record<string, unknown> = {}): string =>
  makeActivation(signer, importer, subject, kind, nats, top);

const importer = (k: keyof typeof kps, imports: Array<Record<string, unknown>>): Account => makeAccount(op.kp, { imports }, { name: k }, kps[k]);

const accounts = (): Account[] => [
  sys,
  exporter(),
  importer('good', [
    { subject: 'pub.>', account: EXP, type: 'stream', to: 'p' },
    { subject: 'tok.>', account: EXP, type: 'stream', token: token(pub('good')) },
    { subject: 'svc.>', account: EXP, type: 'service', local_subject: 'ask.>', token: token(pub('good'), 'svc.>', 'service') },
  ]),
  importer('noToken', [
    { subject: 'pub.>', account: EXP, type: 'stream', to: 'p' },
    { subject: 'tok.>', account: EXP, type: 'stream' },
    { subject: 'svc.>', account: EXP, type: 'service', local_subject: 'ask.>' },
  ]),
  importer('expired', [{ subject: 'tok.>', account: EXP, type: 'stream', token: token(pub('expired'), 'tok.>', 'stream', { exp: nowSec() - 5 }) }]),
  importer('revoked', [{ subject: 'tok.>', account: EXP, type: 'stream', token: token(pub('revoked'), 'tok.>', 'stream', { iat: nowSec() - 10 }) }]),
  importer('skSigned', [{ subject: 'tok.>', account: EXP, type: 'stream', token: token(pub('skSigned'), 'tok.>', 'stream', {}, sk, { issuer_account: EXP }) }]),
  importer('skRogue', [{ subject: 'tok.>', account: EXP, type: 'stream', token: token(pub('skRogue'), 'tok.>', 'stream', {}, createAccount(), { issuer_account: EXP }) }]),
  importer('pos', [
    { subject: `pos.${pub('pos')}.>`, account: EXP, type: 'stream' },
    { subject: `pos.${pub('other')}.>`, account: EXP, type: 'stream', local_subject: 'stolen.>' },
  ]),
];

const options = (list: readonly Account[], extra: ServerOptions = {}): ServerOptions => ({
  operator: op.jwt, systemAccount: sys.pub, resolver: 'MEMORY',
  resolverPreload: Object.fromEntries(list.map((a) => [a.pub, a.jwt])),
  ...extra,
});

/** A bearer user of the account (the client signs no nonce: test/interop/operator.test.ts covers creds). */
async function user(s: NatsServer, kp: KeyPair): Promise<NatsConnection> {
  return scope.client(s, { reconnect: false, authenticator: jwtAuthenticator(makeUser(kp, { bearer_token: true }).jwt) });
}

/** Subscribes `nc` to `subject`; `got` lists `subject payload` of what arrives. */
function collect(nc: NatsConnection, subject: string): string[] {
  const got: string[] = [];
  nc.subscribe(subject, { callback: (_e, m) => void got.push(`${m.subject} ${m.string()}`) });
  return got;
}

async function settle(...conns: NatsConnection[]): Promise<void> {
  await Promise.all(conns.map((c) => c.flush()));
  await Promise.all(conns.map((c) => c.flush()));
}

describe('operator mode: imports and exports of account JWTs', () => {
  it('wires public, activated, signing-key-activated and own-token imports; skips missing, expired, revoked and untrusted activations', async () => {
    const lines: string[] = [];
    const s = await scope.server(options(accounts(), { debug: true, logger: { info() {}, warn() {}, error: (m) => void lines.push(`E ${m}`), debug: (m) => void lines.push(`D ${m}`) } }));
    const e = await user(s, expKp);
    const names = Object.keys(kps).filter((k) => k !== 'other') as Array<keyof typeof kps>;
    const conns = new Map<string, NatsConnection>();
    const got = new Map<string, string[]>();
    for (const k of names) {
      const nc = await user(s, kps[k]);
      conns.set(k, nc);
      got.set(k, collect(nc, '>'));
    }
    await settle(e, ...conns.values());
    e.publish('pub.a', '1');
    e.publish('tok.a', '2');
    e.publish(`pos.${pub('pos')}.x`, '3');
    e.publish(`pos.${pub('other')}.x`, '4');
    await settle(e, ...conns.values());
    expect(Object.fromEntries(got)).toEqual({
      good: ['p.pub.a 1', 'tok.a 2'],
      noToken: ['p.pub.a 1'],
      expired: [],
      revoked: [],
      skSigned: ['tok.a 2'],
      skRogue: [],
      pos: [`pos.${pub('pos')}.x 3`],
    });
    // nats-server's debug lines for the imports it skipped.
    const skipped = (k: keyof typeof kps, kind = 'stream'): string => `D Error adding ${kind} import to account [${pub(k)}/${k}]: ${kind} import not authorized`;
    for (const k of ['noToken', 'expired', 'revoked', 'skRogue', 'pos'] as const) expect(lines).toContain(skipped(k));
    expect(lines).toContain(skipped('noToken', 'service'));
  });

  it('a token-authorised service import with stream responses; without a token the request reaches no one', async () => {
    const s = await scope.server(options(accounts()));
    const e = await user(s, expKp);
    e.subscribe('svc.>', {
      callback: (_err, m) => {
        m.respond(`one:${m.subject}`);
        m.respond('two');
        m.respond('');
      },
    });
    await e.flush();
    const g = await user(s, kps.good);
    const inbox = 'reply.here';
    const answers = collect(g, inbox);
    g.publish('ask.x', 'q', { reply: inbox });
    await eventually(() => answers.length === 3 || undefined, 'three responses');
    expect(answers).toEqual([`${inbox} one:svc.x`, `${inbox} two`, `${inbox} `]);
    const n = await user(s, kps.noToken);
    await expect(n.request('ask.x', 'q', { timeout: 1000 })).rejects.toThrow(/no responders/i);
  });

  it('an account JWT whose activation names another account fails validation: its users are refused', async () => {
    const wrong = makeAccount(op.kp, { imports: [{ subject: 'tok.>', account: EXP, type: 'stream', token: token(pub('good')) }] }, {}, kps.other);
    const s = await scope.server(options([sys, exporter(), wrong]));
    await expect(user(s, kps.other)).rejects.toThrow(/Authorization Violation/);
  });

  it('an import ends when its activation expires', async () => {
    // At least 600 ms ahead, so the first message goes while the activation holds.
    const exp = Math.ceil((Date.now() + 600) / 1000);
    const soon = importer('good', [{ subject: 'tok.>', account: EXP, type: 'stream', token: token(pub('good'), 'tok.>', 'stream', { exp }) }]);
    const s = await scope.server(options([sys, exporter(), soon]));
    const e = await user(s, expKp);
    const g = await user(s, kps.good);
    const got = collect(g, 'tok.>');
    await settle(e, g);
    e.publish('tok.a', 'before');
    await settle(e, g);
    expect(got).toEqual(['tok.a before']);
    // The shadow subscription in the exporting account goes at the expiry.
    const core = (s as unknown as { backend_: { core: { accounts: Map<string, { sublist: { size: number } }> } } }).backend_.core;
    expect(core.accounts.get(EXP)!.sublist.size).toBe(1);
    await eventually(() => core.accounts.get(EXP)!.sublist.size === 0 || undefined, 'the shadow subscription removed', 4000);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    e.publish('tok.a', 'after');
    await settle(e, g);
    expect(got).toEqual(['tok.a before']);
  });

  it('reload with new account JWTs re-wires imports: a new activation wires, a revocation unwires', async () => {
    const without = importer('noToken', [{ subject: 'tok.>', account: EXP, type: 'stream' }]);
    const s = await scope.server(options([sys, exporter(), without]));
    const e = await user(s, expKp);
    const n = await user(s, kps.noToken);
    const got = collect(n, 'tok.>');
    await settle(e, n);
    e.publish('tok.a', '1');
    await settle(e, n);
    expect(got).toEqual([]);
    const withToken = importer('noToken', [{ subject: 'tok.>', account: EXP, type: 'stream', token: token(pub('noToken'), 'tok.>', 'stream', { iat: nowSec() - 5 }) }]);
    s.reload(options([sys, exporter(), withToken]));
    e.publish('tok.a', '2');
    await settle(e, n);
    expect(got).toEqual(['tok.a 2']);
    s.reload(options([sys, exporter({ [pub('noToken')]: nowSec() }), withToken]));
    e.publish('tok.a', '3');
    await settle(e, n);
    expect(got).toEqual(['tok.a 2']);
  });
});

describe('operator mode: arbitrary exports and imports in account JWTs', () => {
  it('never make startup or reload throw: what nats-server would refuse is skipped, an invalid account left out', async () => {
    const { default: fc } = await import('fast-check');
    const subject = fc.constantFrom('a', 'a.*', 'a.>', 'a.b', '*', '>', 'a.*.*', 'b.$1', 'c.$2.$1', 'a..b', '', 'x y', '*.b');
    const kind = fc.constantFrom('stream', 'service');
    const keys = [createAccount(), createAccount(), createAccount()];
    const exportArb = fc.record({ subject, type: kind, token_req: fc.boolean(), account_token_position: fc.constantFrom(0, 1, 2, 3), response_type: fc.constantFrom('', 'Singleton', 'Stream', 'Chunked') }, { requiredKeys: ['subject', 'type'] });
    const importArb = fc.record({
      subject, type: kind, account: fc.nat(2), to: fc.option(subject, { nil: undefined }), local_subject: fc.option(subject, { nil: undefined }),
      token: fc.option(fc.tuple(fc.nat(2), subject, kind, fc.integer({ min: -5, max: 5 })), { nil: undefined }),
    }, { requiredKeys: ['subject', 'type', 'account'] });
    const acc = fc.record({ exports: fc.array(exportArb, { maxLength: 3 }), imports: fc.array(importArb, { maxLength: 3 }) });
    let s: NatsServer | null = null;
    await fc.assert(fc.asyncProperty(fc.array(acc, { minLength: 3, maxLength: 3 }), async (specs) => {
        const list = specs.map((spec, i) => makeAccount(op.kp, {
          exports: spec.exports,
          imports: spec.imports.map((im) => {
            const { token, account, ...rest } = im;
            const from = keys[account]!;
            return {
              ...rest, account: publicKeyOf(from),
              ...(token === undefined ? {} : { token: makeActivation(keys[token[0]]!, publicKeyOf(keys[i]!), token[1], token[2] as 'stream' | 'service', {}, { exp: nowSec() + token[3] * 60 }) }),
            };
          }),
        }, {}, keys[i]));
        const opts = options([sys, ...list]);
        if (s === null) s = await scope.server(opts);
        else s.reload(opts);
      }), { numRuns: 25, seed: 7 });
  });
});
