/**
 * Operator (JWT) mode against the real nats-server: one config file (an operator, a system
 * account, `resolver: MEMORY`, `resolver_preload`) started by the real binary and, through the
 * config reader, by the embedded broker; then the same raw CONNECT attempts on both, and their
 * wire answers compared line for line (the first answer, later -ERRs, whether the connection
 * closed). Run by `npm run test:conformance` (NATS_SERVER_BIN).
 *
 * The real binary is 2.9.10. The code compared — auth.go processClientOrLeafAuthentication's
 * trusted-keys branch, accounts.go isRevoked/buildInternalNkeyUser, client.go setExpiration/
 * authExpired, jwt.go validateTrustedOperators — is the same in 2.10.29 for every attempt here.
 * The CLI case needs dist/cli.js (`npm run build`; `npm test` builds it first).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { type NatsServer } from '../../src/index.js';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { expectSameStartup, startupOutcomes } from '../helpers/startup.js';
import { jwtConnect, makeAccount, makeOperator, makeUser, nonceSigner, nowSec, operatorConf, type User } from '../helpers/jwt.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const scope = useScope('file');

const op = makeOperator();
const sys = makeAccount(op.kp);
const accA = makeAccount(op.kp);
const accB = makeAccount(op.kp);
const accSk = createAccount();
const accSigned = makeAccount(op.kp, { signing_keys: [accSk.getPublicKey()] });
const scopedKey = createAccount();
const accScoped = makeAccount(op.kp, {
  signing_keys: [{ kind: 'user_scope', key: scopedKey.getPublicKey(), role: 'r', template: { pub: { allow: ['scoped.>'] }, sub: {}, subs: -1, data: -1, payload: -1 } }],
});
const templKey = createAccount();
const accTemplated = makeAccount(op.kp, {
  tags: ['team:blue'],
  signing_keys: [{
    kind: 'user_scope', key: templKey.getPublicKey(), role: 't',
    template: {
      pub: { allow: ['{{name()}}.>', 'acc.{{account-subject()}}', 'dept.{{tag(dept)}}.x', 'team.{{account-tag(team)}}', 'bad.{{nope()}}'] },
      sub: { allow: ['{{subject()}}.in'] }, subs: -1, data: -1, payload: -1,
    },
  }, {
    kind: 'user_scope', key: createAccount().getPublicKey(), role: 'unused', template: { pub: { allow: ['{{tag(missing)}}.x'] }, sub: {}, subs: -1, data: -1, payload: -1 },
  }],
}, { name: 'TEAMACC' });
const denyKey = createAccount();
const emptyKey = createAccount();
const accTemplated2 = makeAccount(op.kp, {
  signing_keys: [
    { kind: 'user_scope', key: denyKey.getPublicKey(), role: 'd', template: { pub: {}, sub: { deny: ['{{tag(missing)}}'] }, subs: -1, data: -1, payload: -1 } },
    { kind: 'user_scope', key: emptyKey.getPublicKey(), role: 'e', template: { pub: { allow: ['{{tag(missing)}}.x'] }, sub: {}, subs: -1, data: -1, payload: -1 } },
  ],
});
/** A user of a scoped signing key: no permissions or limits of its own. */
const scopedUser = (key: ReturnType<typeof createAccount>, account: string, extra: Record<string, unknown> = {}): User =>
  makeUser(key, { issuer_account: account, pub: undefined, sub: undefined, subs: undefined, data: undefined, payload: undefined, ...extra });
const revokedKey = createUser();
const accRevoking = makeAccount(op.kp, { revocations: { [revokedKey.getPublicKey()]: nowSec() + 30 } });
const accRevokeAll = makeAccount(op.kp, { revocations: { '*': nowSec() + 30 } });
const accNoBearer = makeAccount(op.kp, { limits: { disallow_bearer: true, subs: -1, data: -1, payload: -1, conn: -1 } });
const accExpired = makeAccount(op.kp, {}, { exp: nowSec() - 10 });
const rogue = makeAccount(createOperator());
const accDefaults = makeAccount(op.kp, { default_permissions: { pub: { allow: ['dflt.>'] }, sub: { deny: ['hidden'] } } });
const accLimited = makeAccount(op.kp, { limits: { subs: 1, payload: 2, data: -1, conn: -1 } });
// jwt v2's Account.Validate refuses these accounts whole (Info.Validate, Mapping.Validate).
const accBadInfo = makeAccount(op.kp, { info_url: 'nohost' });
const accBadMapping = makeAccount(op.kp, { mappings: { 'm.>': [{ subject: 'x.>', weight: 60 }, { subject: 'y.>', weight: 60 }] } });
const accDefaultsSpaces = makeAccount(op.kp, { default_permissions: { sub: { allow: ['a b c'] } } });
const preloaded = [accBadInfo, accBadMapping, accDefaultsSpaces, sys, accA, accB, accSigned, accScoped, accRevoking, accNoBearer, accExpired, rogue, accDefaults, accLimited, accTemplated, accTemplated2, accRevokeAll];

interface Attempt {
  /** The user JWT sent in CONNECT. */
  readonly jwt: string;
  /** Signs the nonce (null: no `sig`). */
  readonly sign: ((nonce: string) => string) | null;
  /** Sent after the CONNECT's PONG, when it got one. */
  readonly then?: string;
  /** How long to keep listening for late answers (an expiry). */
  readonly listenMs?: number;
  /** Compare the lines as a set: nats-server sends some from a goroutine, racing the PONG. */
  readonly unordered?: boolean;
}

/** `HH:MM:SS` in UTC, `offset` seconds from now. */
const utcTime = (offset: number): string => new Date(Date.now() + offset * 1000).toISOString().slice(11, 19);

const signer = nonceSigner;

/** Every line the server sent after INFO for the attempt, and whether it closed the connection. */
async function transcript(port: number, a: Attempt): Promise<{ lines: string[]; closed: boolean; info: string[] }> {
  const w = await WireClient.open(port);
  try {
    const info = Object.keys(w.info).filter((k) => ['auth_required', 'nonce', 'headers', 'proto', 'max_payload'].includes(k)).sort();
    const sig = a.sign === null ? undefined : a.sign(String(w.info.nonce));
    w.send(`${jwtConnect(a.jwt, sig, { verbose: false, pedantic: false, headers: true, protocol: 1 })}PING\r\n`);
    const first = await w.readLine(3000);
    if (first === 'PONG' && a.then !== undefined) w.send(`${a.then}PING\r\n`);
    const deadline = Date.now() + (a.listenMs ?? 300);
    while (Date.now() < deadline && !w.closed) await new Promise((r) => setTimeout(r, 25));
    // An async INFO: its fields that do not name the server or the connection.
    // The server's own PINGs depend on timing (its first-ping timer), not on the attempt.
    const lines = [first, ...w.buffer.split('\r\n').filter((l) => l !== '' && l !== 'PING')].map((l) => {
      if (!l.startsWith('INFO ')) return l;
      const i = JSON.parse(l.slice(5)) as Record<string, unknown>;
      return `INFO max_payload=${String(i.max_payload)} nonce=${'nonce' in i} auth_required=${String(i.auth_required)}`;
    });
    return { lines: a.unordered === true ? lines.sort() : lines, closed: w.closed, info };
  } finally {
    w.close();
  }
}

const conf = operatorConf(op, preloaded, sys.pub);

async function bothPorts(lines: readonly string[] = conf): Promise<{ real: number; embedded: number }> {
  const port = await freePort();
  const real = await startRealServer(BIN, [`listen: "127.0.0.1:${port}"`, ...lines]);
  scope.defer(() => real.stop());
  const opts = optionsFromConf(parseConf(lines.join('\n'), 'operator.conf')).options;
  const s: NatsServer = await scope.server({ ...opts, port: 0 });
  return { real: port, embedded: s.port };
}

const ATTEMPTS: Record<string, () => Attempt> = {
  'a valid user, then pub/sub in its account': () => {
    const u = makeUser(accA.kp);
    return { jwt: u.jwt, sign: signer(u), then: 'SUB foo 1\r\nPUB foo 2\r\nhi\r\n' };
  },
  'a signature in standard base64': () => {
    const u = makeUser(accA.kp);
    return { jwt: u.jwt, sign: signer(u, true) };
  },
  'no signature': () => ({ jwt: makeUser(accA.kp).jwt, sign: null }),
  'a signature by another key': () => ({ jwt: makeUser(accA.kp).jwt, sign: (n) => Buffer.from(createUser().sign(new TextEncoder().encode(n))).toString('base64url') }),
  'a signature of something else': () => {
    const u = makeUser(accA.kp);
    return { jwt: u.jwt, sign: () => signer(u)('not-the-nonce') };
  },
  'no JWT': () => ({ jwt: '', sign: null }),
  'a garbage JWT': () => ({ jwt: 'eyJhbGciOi.garbage.x', sign: () => 'x' }),
  'a JWT whose claims were altered after signing': () => {
    const u = makeUser(accA.kp, { pub: { allow: ['only'] } });
    const [h, c, s] = u.jwt.split('.');
    const claims = JSON.parse(Buffer.from(c!, 'base64url').toString()) as { nats: Record<string, unknown> };
    claims.nats.pub = {};
    return { jwt: `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`, sign: signer(u) };
  },
  'an account JWT instead of a user JWT': () => ({ jwt: accA.jwt, sign: () => 'x' }),
  'an account the resolver does not have': () => {
    const u = makeUser(createAccount());
    return { jwt: u.jwt, sign: signer(u) };
  },
  'an account signed by another operator': () => {
    const u = makeUser(rogue.kp);
    return { jwt: u.jwt, sign: signer(u) };
  },
  'an expired account': () => {
    const u = makeUser(accExpired.kp);
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a user signed by a key the account does not list': () => {
    const u = makeUser(createAccount(), { issuer_account: accA.pub });
    return { jwt: u.jwt, sign: signer(u) };
  },
  "a user signed by another account's key claiming this account": () => {
    const u = makeUser(accB.kp, { issuer_account: accA.pub });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a user signed by an account signing key': () => {
    const u = makeUser(accSk, { issuer_account: accSigned.pub });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a user of a scoped signing key takes the scope\'s permissions': () => {
    const u = makeUser(scopedKey, { issuer_account: accScoped.pub, pub: undefined, sub: undefined, subs: undefined, data: undefined, payload: undefined });
    return { jwt: u.jwt, sign: signer(u), then: 'PUB scoped.x 0\r\n\r\nPUB other 0\r\n\r\n' };
  },
  'a scoped signing key\'s template: name, subject, account subject, user and account tags': () => {
    const u = scopedUser(templKey, accTemplated.pub, { tags: ['dept:eng', 'dept:ops'] });
    const pubs = ['U.a', 'dept.eng.x', 'dept.ops.x', 'dept.hr.x', `acc.${accTemplated.pub}`, 'team.blue', 'bad.x'];
    return { jwt: u.jwt, sign: signer(u), then: `${pubs.map((p) => `PUB ${p} 0\r\n\r\n`).join('')}SUB ${u.pub}.in 1\r\nSUB other 2\r\n` };
  },
  'a scoped template whose deny list generates an invalid subject': () => {
    const u = scopedUser(denyKey, accTemplated2.pub);
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a scoped template whose allow list comes out empty denies everything': () => {
    const u = scopedUser(emptyKey, accTemplated2.pub);
    return { jwt: u.jwt, sign: signer(u), then: 'PUB x 0\r\n\r\nSUB y 1\r\n' };
  },
  'a scoped signing key\'s user with permissions of its own': () => {
    const u = makeUser(scopedKey, { issuer_account: accScoped.pub, pub: { allow: ['>'] } });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'an expired user': () => {
    const u = makeUser(accA.kp, {}, { exp: nowSec() - 2 });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a user not valid yet': () => {
    const u = makeUser(accA.kp, {}, { nbf: nowSec() + 120 });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a user that expires while connected': () => {
    const u = makeUser(accA.kp, {}, { exp: nowSec() + 2 });
    return { jwt: u.jwt, sign: signer(u), listenMs: 3500 };
  },
  'a revoked user': () => {
    const u = makeUser(accRevoking.kp, {}, { iat: nowSec() }, revokedKey);
    return { jwt: u.jwt, sign: signer(u) };
  },
  'the same user issued after the revocation': () => {
    const u = makeUser(accRevoking.kp, {}, { iat: nowSec() + 60 }, revokedKey);
    return { jwt: u.jwt, sign: signer(u) };
  },
  "every user issued before the account's '*' revocation": () => {
    const u = makeUser(accRevokeAll.kp, {}, { iat: nowSec() });
    return { jwt: u.jwt, sign: signer(u) };
  },
  "a user issued after the account's '*' revocation": () => {
    const u = makeUser(accRevokeAll.kp, {}, { iat: nowSec() + 60 });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a bearer token without signature': () => ({ jwt: makeUser(accA.kp, { bearer_token: true }).jwt, sign: null }),
  'a bearer token where the account disallows them': () => ({ jwt: makeUser(accNoBearer.kp, { bearer_token: true }).jwt, sign: null }),
  'permissions from the JWT': () => {
    const u = makeUser(accA.kp, { pub: { allow: ['ok.>'], deny: ['ok.no'] }, sub: { deny: ['secret.>'] } });
    return { jwt: u.jwt, sign: signer(u), then: 'PUB ok.1 0\r\n\r\nPUB ok.no 0\r\n\r\nPUB elsewhere 0\r\n\r\nSUB secret.x 1\r\nSUB fine 2\r\n' };
  },
  "a user without permissions takes the account's default permissions": () => {
    const u = makeUser(accDefaults.kp);
    return { jwt: u.jwt, sign: signer(u), then: 'PUB dflt.x 0\r\n\r\nPUB other 0\r\n\r\nSUB hidden 1\r\n' };
  },
  "a user with permissions of its own ignores the account's defaults": () => {
    const u = makeUser(accDefaults.kp, { pub: { allow: ['mine'] } });
    return { jwt: u.jwt, sign: signer(u), then: 'PUB mine 0\r\n\r\nPUB dflt.x 0\r\n\r\nSUB hidden 1\r\n' };
  },
  'resp without a publish allow list': () => {
    const u = makeUser(accA.kp, { resp: { max: 1, ttl: 0 } });
    return { jwt: u.jwt, sign: signer(u), then: 'PUB anything 0\r\n\r\n' };
  },
  'websocket-only user over TCP': () => {
    const u = makeUser(accA.kp, { allowed_connection_types: ['WEBSOCKET'] });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'an unknown connection type only': () => {
    const u = makeUser(accA.kp, { allowed_connection_types: ['CARRIER_PIGEON'] });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a src CIDR the client is outside of': () => {
    const u = makeUser(accA.kp, { src: ['10.0.0.0/8'] });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a src CIDR the client is in': () => {
    const u = makeUser(accA.kp, { src: ['127.0.0.0/8'] });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a times window around now (UTC)': () => {
    const u = makeUser(accA.kp, { times: [{ start: utcTime(-600), end: utcTime(600) }], times_location: 'UTC' });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a times window later today (UTC)': () => {
    const u = makeUser(accA.kp, { times: [{ start: utcTime(3600), end: utcTime(7200) }], times_location: 'UTC' });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'an unknown times_location': () => {
    const u = makeUser(accA.kp, { times: [{ start: '00:00:00', end: '23:59:59' }], times_location: 'Mars/Olympus_Mons' });
    return { jwt: u.jwt, sign: signer(u) };
  },
  'a mistyped claim': () => {
    const u = makeUser(accA.kp, { subs: 'many' });
    return { jwt: u.jwt, sign: signer(u) };
  },
  // nsc writes -1 (no limit); left out, Go decodes 0. subs 0: the connection is at its limit
  // at once (-ERR, then closed); payload 0: empty messages only. The INFO after the first PONG
  // says max_payload 0.
  'a user JWT without limits': () => {
    const u = makeUser(accA.kp, { subs: undefined, data: undefined, payload: undefined });
    return { jwt: u.jwt, sign: signer(u), unordered: true };
  },
  'a user JWT without a payload limit': () => {
    const u = makeUser(accA.kp, { payload: undefined });
    return { jwt: u.jwt, sign: signer(u), then: 'PUB a 0\r\n\r\nPUB a 2\r\nhi\r\n' };
  },
  'user limits: subs and payload, announced in an INFO after the first PONG': () => {
    const u = makeUser(accA.kp, { subs: 2, payload: 3 });
    return { jwt: u.jwt, sign: signer(u), then: 'SUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPUB a 3\r\nabc\r\nPUB a 4\r\nabcd\r\n' };
  },
  "the account's limits where they are lower than the user's": () => {
    const u = makeUser(accLimited.kp, { subs: 5, payload: 100 });
    return { jwt: u.jwt, sign: signer(u), then: 'SUB a 1\r\nSUB b 2\r\nPUB a 2\r\nab\r\nPUB a 3\r\nabc\r\n' };
  },
  // jwt v2's user validation (Limits.Validate, checkPermission) and client.go's
  // convertAllowedConnectionTypes, case by case.
  ...Object.fromEntries(([
    ['src: a plain address is not a CIDR', { src: ['127.0.0.1'] }],
    ['src: a CIDR', { src: ['127.0.0.0/8'] }],
    ['sub allow with too many spaces', { sub: { allow: ['a b c'] } }],
    ['pub allow with a queue', { pub: { allow: ['foo q'] } }],
    ['sub allow with a queue', { sub: { allow: ['foo q'] } }],
    ['times with a one-digit hour', { times: [{ start: '0:00:00', end: '23:59:59' }], times_location: 'UTC' }],
    ['times with a three-digit hour', { times: [{ start: '000:00:00', end: '23:59:59' }] }],
    ['times_location unknown, no times', { times_location: 'Nowhere/Nocity' }],
    ['times_location Local', { times: [{ start: '00:00:00', end: '23:59:59' }], times_location: 'Local' }],
    ['times_location in the wrong case', { times_location: 'europe/paris' }],
    ['allowed_connection_types in lower case', { allowed_connection_types: ['standard'] }],
  ] as Array<[string, Record<string, unknown>]>).map(([what, nats]) => [`user JWT ${what}`, (): Attempt => {
    const u = makeUser(accA.kp, nats);
    return { jwt: u.jwt, sign: signer(u) };
  }])),
  ...Object.fromEntries(([
    ['an account whose info_url has no host', accBadInfo],
    ['an account whose mapping weights exceed 100', accBadMapping],
    ["an account whose default permissions have too many spaces", accDefaultsSpaces],
  ] as const).map(([what, acc]) => [`a user of ${what}`, (): Attempt => {
    const u = makeUser(acc.kp);
    return { jwt: u.jwt, sign: signer(u) };
  }])),
  ...Object.fromEntries(([
    ['"src": []', { src: [] }],
    ['"pub": {"allow": []}', { pub: { allow: [] } }],
    ['"allowed_connection_types": []', { allowed_connection_types: [] }],
    ['"pub": {}', { pub: {} }],
  ] as Array<[string, Record<string, unknown>]>).map(([what, extra]) => [`a scoped signing key's user with ${what} (HasEmptyPermissions is a DeepEqual)`, (): Attempt => {
    const u = scopedUser(scopedKey, accScoped.pub, extra);
    return { jwt: u.jwt, sign: signer(u) };
  }])),
  'a publish subject with a space': () => {
    const u = makeUser(accA.kp, { pub: { allow: ['a b'] } });
    return { jwt: u.jwt, sign: signer(u) };
  },
};

describe('operator mode: the same attempts, the same wire answers as nats-server', () => {
  let ports: { real: number; embedded: number };

  it.each(Object.keys(ATTEMPTS))('%s', async (name) => {
    ports ??= await bothPorts();
    const attempt = ATTEMPTS[name]!();
    const [real, ours] = await Promise.all([transcript(ports.real, attempt), transcript(ports.embedded, attempt)]);
    expect(ours).toEqual(real);
  });

  it('an account that expires while its user is connected', async () => {
    const expiring = makeAccount(op.kp, {}, { exp: nowSec() + 3 });
    const pair = await bothPorts(operatorConf(op, [sys, expiring], sys.pub));
    const u = makeUser(expiring.kp, {}, { exp: nowSec() + 60 });
    const attempt: Attempt = { jwt: u.jwt, sign: signer(u), listenMs: 4500 };
    const [real, ours] = await Promise.all([transcript(pair.real, attempt), transcript(pair.embedded, attempt)]);
    expect(real.lines).toEqual(['PONG', "-ERR 'Account Authentication Expired'"]);
    expect(ours).toEqual(real);
  });

  it('a reload with new account JWTs: a revoked user, a disallowed bearer token, new default permissions', async () => {
    const acc = makeAccount(op.kp);
    const port = await freePort();
    const before = [`listen: "127.0.0.1:${port}"`, ...operatorConf(op, [sys, acc], sys.pub)];
    const real = await startRealServer(BIN, before);
    scope.defer(() => real.stop());
    const ours = await scope.server({ ...optionsFromConf(parseConf(before.join('\n'), 'operator.conf')).options, port: 0 });
    const doomed = makeUser(acc.kp);
    const bearer = makeUser(acc.kp, { bearer_token: true });
    const kept = makeUser(acc.kp);
    const updated = makeAccount(op.kp, {
      revocations: { [doomed.pub]: nowSec() + 5 },
      limits: { subs: -1, data: -1, payload: -1, conn: -1, disallow_bearer: true },
      default_permissions: { pub: { allow: ['only.>'] }, sub: {} },
    }, {}, acc.kp);
    const after = [`listen: "127.0.0.1:${port}"`, ...operatorConf(op, [sys, updated], sys.pub)];
    const results: Record<string, string[]> = {};
    for (const [name, p, reload] of [
      ['real', port, () => { writeFileSync(real.confPath, `${after.join('\n')}\n`); real.child.kill('SIGHUP'); }],
      ['ours', ours.port, () => ours.reload({ ...optionsFromConf(parseConf(after.join('\n'), 'operator.conf')).options, port: 0 })],
    ] as const) {
      const open = async (u: User, sign: boolean): Promise<WireClient> => {
        const w = await WireClient.open(p);
        scope.defer(() => w.close());
        w.send(`${jwtConnect(u.jwt, sign ? signer(u)(String(w.info.nonce)) : undefined, { verbose: false })}PING\r\n`);
        await w.expect('PONG\r\n');
        return w;
      };
      const ws = [await open(doomed, true), await open(bearer, false), await open(kept, true)];
      reload();
      await new Promise((r) => setTimeout(r, 500));
      ws[2]!.send('PUB only.x 0\r\n\r\nPUB other 0\r\n\r\nPING\r\n');
      await new Promise((r) => setTimeout(r, 300));
      results[name] = ws.map((w) => `${w.buffer.replace(/\r\n/g, '|')} closed=${w.closed}`);
    }
    expect(results.real).toEqual([
      "-ERR 'User Authentication Revoked'| closed=true",
      "-ERR 'Authorization Violation'| closed=true",
      `-ERR 'Permissions Violation for Publish to "other"'|PONG| closed=false`,
    ]);
    expect(results.ours).toEqual(results.real);
  });

  it('a reload that lowers an account conn limit: the oldest connections over it go', async () => {
    const limits = (conn: number): Record<string, unknown> => ({ limits: { subs: -1, data: -1, payload: -1, conn } });
    const acc = makeAccount(op.kp, limits(3));
    const lowered = makeAccount(op.kp, limits(1), {}, acc.kp);
    const port = await freePort();
    const conf = (a: typeof acc): string[] => [`listen: "127.0.0.1:${port}"`, ...operatorConf(op, [sys, a], sys.pub)];
    const real = await startRealServer(BIN, conf(acc));
    scope.defer(() => real.stop());
    const ours = await scope.server({ ...optionsFromConf(parseConf(conf(acc).join('\n'), 'operator.conf')).options, port: 0 });
    const results: Record<string, string[]> = {};
    for (const [name, p, reload] of [
      ['real', port, () => { writeFileSync(real.confPath, `${conf(lowered).join('\n')}\n`); real.child.kill('SIGHUP'); }],
      ['ours', ours.port, () => ours.reload({ ...optionsFromConf(parseConf(conf(lowered).join('\n'), 'operator.conf')).options, port: 0 })],
    ] as const) {
      const ws: WireClient[] = [];
      for (const u of [makeUser(acc.kp), makeUser(acc.kp), makeUser(acc.kp)]) {
        const w = await WireClient.open(p);
        scope.defer(() => w.close());
        w.send(`CONNECT ${JSON.stringify({ verbose: false, jwt: u.jwt, sig: signer(u)(String(w.info.nonce)) })}\r\nPING\r\n`);
        await w.expect('PONG\r\n');
        ws.push(w);
        await new Promise((r) => setTimeout(r, 20));
      }
      reload();
      await new Promise((r) => setTimeout(r, 500));
      ws[2]!.send('PING\r\n');
      await new Promise((r) => setTimeout(r, 200));
      results[name] = ws.map((w) => `${w.buffer.replace(/\r\n/g, '|').replace(/^(PING\|)+/, '')} closed=${w.closed}`);
    }
    // nats-server keeps the newest (it sorts them newest first and kicks past the limit).
    expect(results.real).toEqual([
      "-ERR 'maximum account active connections exceeded'| closed=true",
      "-ERR 'maximum account active connections exceeded'| closed=true",
      'PONG| closed=false',
    ]);
    expect(results.ours).toEqual(results.real);
  });

  it("an account's connection limit (conn; absent decodes as 0: none)", async () => {
    const one = makeAccount(op.kp, { limits: { subs: -1, data: -1, payload: -1, conn: 1 } });
    const zero = makeAccount(op.kp, { limits: { subs: -1, data: -1, payload: -1 } });
    const pair = await bothPorts(operatorConf(op, [sys, one, zero], sys.pub));
    const run = async (port: number): Promise<unknown> => {
      const [u1, u2, u3] = [makeUser(one.kp), makeUser(one.kp), makeUser(zero.kp)];
      const first = transcript(port, { jwt: u1.jwt, sign: signer(u1), listenMs: 1500 });
      await new Promise((r) => setTimeout(r, 300));
      const second = await transcript(port, { jwt: u2.jwt, sign: signer(u2) });
      const none = await transcript(port, { jwt: u3.jwt, sign: signer(u3) });
      return [await first, second, none];
    };
    const real = await run(pair.real);
    expect(real).toMatchObject([
      { lines: ['PONG'], closed: false },
      { lines: ["-ERR 'maximum account active connections exceeded'"], closed: true },
      { lines: ["-ERR 'maximum account active connections exceeded'"], closed: true },
    ]);
    expect(await run(pair.embedded)).toEqual(real);
  });

  it('mutated JWTs (flipped, cut, swapped chunks, re-encoded claims): the same answer as nats-server, every time', async () => {
    ports ??= await bothPorts();
    const u = makeUser(accA.kp, { pub: { allow: ['a.>'] } }, { exp: nowSec() + 3600 });
    const [h, c, sg] = u.jwt.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown> & { nats: Record<string, unknown> };
    const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
    // A fixed pseudo-random sequence, so a failure replays.
    let seed = 19;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const flip = (x: string): string => {
      const i = rnd(x.length);
      return x.slice(0, i) + B64[(B64.indexOf(x[i]!) + 1 + rnd(63)) % 64] + x.slice(i + 1);
    };
    const mutants: string[] = [
      `${flip(h)}.${c}.${sg}`, `${h}.${flip(c)}.${sg}`, `${h}.${c}.${flip(sg)}`,
      `${h}.${c.slice(0, -1 - rnd(5))}.${sg}`, `${h}.${c}.${sg.slice(0, -2)}`, `${c}.${h}.${sg}`, `${h}.${c}`, `${h}.${c}.${sg}.x`,
      `${h}.${c}.${sg}=`, `${h}=.${c}.${sg}`, `${h}.${c.replace(/-/g, '+')}.${sg}`, '', '..', 'eyJ', `${h}.${enc('[]')}.${sg}`,
      `${enc({ typ: 'JWT', alg: 'ed25519' })}.${c}.${sg}`, `${enc({ typ: 'jwt', alg: 'ED25519-NKEY' })}.${c}.${sg}`,
      ...['iss', 'sub', 'exp', 'iat', 'nats'].map((k) => `${h}.${enc({ ...claims, [k]: null })}.${sg}`),
      ...['type', 'version', 'pub', 'sub', 'subs'].map((k) => `${h}.${enc({ ...claims, nats: { ...claims.nats, [k]: 'x' } })}.${sg}`),
    ];
    for (let i = 0; i < 12; i++) mutants.push(`${flip(h)}.${flip(c)}.${flip(sg)}`);
    for (const jwt of mutants) {
      const attempt: Attempt = { jwt, sign: signer(u), listenMs: 100 };
      const [real, ours] = await Promise.all([transcript(ports.real, attempt), transcript(ports.embedded, attempt)]);
      expect({ jwt, ...ours }).toEqual({ jwt, ...real });
    }
    // Both still serve a valid user afterwards.
    for (const p of [ports.real, ports.embedded]) expect((await transcript(p, { jwt: u.jwt, sign: signer(u) })).lines).toEqual(['PONG']);
  });

  it('accounts are isolated on both', async () => {
    ports ??= await bothPorts();
    for (const port of [ports.real, ports.embedded]) {
      const a = makeUser(accA.kp);
      const b = makeUser(accB.kp);
      const wb = await WireClient.open(port);
      scope.defer(() => wb.close());
      wb.send(`${jwtConnect(b.jwt, signer(b)(String(wb.info.nonce)), { verbose: false })}SUB x 1\r\nPING\r\n`);
      await wb.expect('PONG\r\n');
      const wa = await WireClient.open(port);
      scope.defer(() => wa.close());
      wa.send(`${jwtConnect(a.jwt, signer(a)(String(wa.info.nonce)), { verbose: false })}SUB x 1\r\nPUB x 2\r\nhi\r\nPING\r\n`);
      await wa.expect('MSG x 1 2\r\nhi\r\nPONG\r\n');
      wb.send('PING\r\n');
      await wb.expect('PONG\r\n');
      expect(wb.buffer).toBe('');
    }
  });

  it('the same config files accepted, the same refused for the same reason', async () => {
    const cases: Array<[string, string[], string | null]> = [
      ['the operator config', conf, null],
      // Both refuse; the reasons differ: with one operator and no resolver, nats-server (2.9 and
      // 2.10's opts.go alike) makes a URL resolver of the operator's (empty) account_server_url
      // and fails fetching from it; nats-embedded names the missing resolver (jwt.go's text).
      ['no resolver', [`operator: ${op.jwt}`], 'could not fetch|operators require an account resolver to be configured'],
      ['accounts with an operator', [...conf, 'accounts { X: {} }'], 'operators do not allow Accounts to be configured directly'],
      ['a preload that is not an account JWT', [`operator: ${op.jwt}`, 'resolver: MEMORY', `resolver_preload { ${accA.pub}: "nope" }`], 'invalid account JWT'],
      ['an account JWT as the operator', [`operator: ${accA.jwt}`, 'resolver: MEMORY'], 'error parsing operator JWT'],
      ['a system account that is not preloaded', [`operator: ${op.jwt}`, `system_account: ${accA.pub}`, 'resolver: MEMORY', `resolver_preload { ${sys.pub}: ${sys.jwt} }`],
        'error resolving system account: account missing'],
      ['a system account of another operator', [`operator: ${op.jwt}`, `system_account: ${rogue.pub}`, 'resolver: MEMORY', `resolver_preload { ${rogue.pub}: ${rogue.jwt} }`],
        'error resolving system account: account validation failed'],
      ['no_auth_user with an operator', [...conf, 'no_auth_user: foo'], 'no_auth_user not compatible with Trusted Operator'],
      ['a system account other than the operator\'s', [`operator: ${makeOperator({ system_account: sys.pub }).jwt}`, `system_account: ${accA.pub}`, 'resolver: MEMORY'],
        'system_account in config and operator JWT must be identical'],
    ];
    for (const [what, lines, reason] of cases) expectSameStartup(what, await startupOutcomes(BIN, scope, lines, 'operator.conf'), reason);
  });
});

describe('the CLI with an operator config file, as the real binary', () => {
  it('the operator as a JWT file beside the config; a creds user connects, publishes and receives on both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'op-cli-'));
    scope.defer(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'operator.jwt'), op.jwt);
    const u = makeUser(accA.kp);
    const run = async (cmd: string, args: string[]): Promise<string> => {
      const port = await freePort();
      const conf = join(dir, `server-${port}.conf`);
      writeFileSync(conf, [`listen: "127.0.0.1:${port}"`, `operator: ${join(dir, 'operator.jwt')}`, ...operatorConf(op, [sys, accA], sys.pub).slice(1)].join('\n'));
      const child = spawn(cmd, [...args, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      scope.defer(() => void child.kill('SIGKILL'));
      let log = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ready: ${log}`)), 10_000);
        child.stderr!.on('data', (d: Buffer) => {
          log += d.toString();
          if (log.includes('Server is ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const nc = await connect({ servers: `127.0.0.1:${port}`, reconnect: false, authenticator: credsAuthenticator(new TextEncoder().encode(u.creds)) });
      const sub = nc.subscribe('hello', { max: 1 });
      nc.publish('hello', 'world');
      let got = '';
      for await (const m of sub) got = m.string();
      await nc.close();
      return got;
    };
    expect(await run(BIN, [])).toBe('world');
    expect(await run(process.execPath, [fileURLToPath(new URL('../../dist/cli.js', import.meta.url))])).toBe('world');
  });
});
