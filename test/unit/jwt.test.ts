import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { decodeAccountJwt, decodeJwt, decodeOperatorJwt, decodeUserJwt, validateClaims } from '../../src/auth/jwt.js';
import { encodeJwt, makeAccount, makeOperator, makeUser, nowSec } from '../helpers/jwt.js';

const b64 = (o: unknown): string => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');

describe('JWT decoding', () => {
  const op = makeOperator({ signing_keys: [createOperator().getPublicKey()] });
  const acc = makeAccount(op.kp, { revocations: { UABC: 10 }, limits: { disallow_bearer: true } });
  const user = makeUser(acc.kp, {
    pub: { allow: ['a.>'], deny: ['a.b'] }, sub: { allow: ['x'] }, resp: { max: 3, ttl: 5_000_000_000 },
    bearer_token: true, src: ['10.0.0.0/8'], allowed_connection_types: ['STANDARD'], subs: 5, data: 100, payload: 10,
  }, { exp: 2_000_000_000, nbf: 1_000 });

  it('decodes the three kinds with their typed claims', () => {
    const o = decodeOperatorJwt(op.jwt);
    expect(o.ok && o.claims.sub).toBe(op.pub);
    expect(o.ok && o.claims.nats.signingKeys.length).toBe(1);
    const a = decodeAccountJwt(acc.jwt);
    expect(a.ok && a.claims.iss).toBe(op.pub);
    expect(a.ok && a.claims.nats.revocations).toEqual({ UABC: 10 });
    expect(a.ok && a.claims.nats.limits.disallowBearer).toBe(true);
    const u = decodeUserJwt(user.jwt);
    expect(u.ok).toBe(true);
    if (!u.ok) return;
    expect(u.claims).toMatchObject({ kind: 'user', iss: acc.pub, sub: user.pub, exp: 2_000_000_000, nbf: 1_000 });
    expect(u.claims.nats).toMatchObject({
      pub: { allow: ['a.>'], deny: ['a.b'] }, sub: { allow: ['x'], deny: [] }, resp: { max: 3, ttlNs: 5_000_000_000 },
      bearerToken: true, src: ['10.0.0.0/8'], allowedConnectionTypes: ['STANDARD'], subs: 5, data: 100, payload: 10,
    });
  });

  it('refuses a claim of another kind than asked', () => {
    const r = decodeAccountJwt(user.jwt);
    expect(r).toEqual({ ok: false, error: 'not account claim' });
  });

  it('refuses a signature by another key, or over other bytes', () => {
    const [h, c] = user.jwt.split('.');
    const other = Buffer.from(createAccount().sign(new TextEncoder().encode(`${h}.${c}`))).toString('base64url');
    expect(decodeJwt(`${h}.${c}.${other}`)).toEqual({ ok: false, error: 'claim failed V2 signature verification' });
    const claims = JSON.parse(Buffer.from(c!, 'base64url').toString()) as Record<string, unknown>;
    const forged = b64({ ...claims, exp: 0 });
    expect(decodeJwt(`${h}.${forged}.${user.jwt.split('.')[2]}`).ok).toBe(false);
  });

  it('refuses an issuer of the wrong kind (a user JWT signed by the operator)', () => {
    const bad = encodeJwt({ sub: createUser().getPublicKey(), nats: { type: 'user', version: 2 } }, op.kp);
    expect(decodeUserJwt(bad)).toEqual({ ok: false, error: 'unable to validate expected prefixes - A' });
  });

  it('checks the header as the jwt library does', () => {
    const [, c, s] = user.jwt.split('.');
    expect(decodeJwt(`${b64({ typ: 'XYZ', alg: 'ed25519-nkey' })}.${c}.${s}`)).toEqual({ ok: false, error: 'not supported type "XYZ"' });
    expect(decodeJwt(`${b64({ typ: 'jwt', alg: 'HS256' })}.${c}.${s}`)).toEqual({ ok: false, error: 'unexpected "HS256" algorithm' });
    expect(decodeJwt('a.b')).toEqual({ ok: false, error: 'expected 3 chunks' });
    // Padding is not raw base64url.
    expect(decodeJwt(`${user.jwt.split('.')[0]}=.${c}.${s}`).ok).toBe(false);
  });

  it('refuses mistyped fields as Go decoding does', () => {
    const bad = encodeJwt({ sub: createUser().getPublicKey(), exp: 'soon', nats: { type: 'user', version: 2 } }, acc.kp);
    expect(decodeUserJwt(bad).ok).toBe(false);
    const frac = encodeJwt({ sub: createUser().getPublicKey(), exp: 1.5, nats: { type: 'user', version: 2 } }, acc.kp);
    expect(decodeUserJwt(frac).ok).toBe(false);
  });

  it('validates times and contents', () => {
    const u = decodeUserJwt(user.jwt);
    if (!u.ok) throw new Error(u.error);
    expect(validateClaims(u.claims, 1_500)).toEqual([]);
    expect(validateClaims(u.claims, 999)).toEqual(['claim is not yet valid']);
    expect(validateClaims(u.claims, 2_000_000_001)).toEqual(['claim is expired']);
    const spaced = decodeUserJwt(makeUser(acc.kp, { pub: { allow: ['a b'] }, src: ['300.1.1.1/8'] }).jwt);
    if (!spaced.ok) throw new Error(spaced.error);
    // jwt v2.7.4's checkPermission: two tokens are a subject and a queue, which publish refuses.
    expect(validateClaims(spaced.claims, nowSec())).toEqual(['Permission Subject "a b" is not allowed to contain queue', 'invalid cidr "300.1.1.1/8" in user src limits']);
  });

  it("checks a user's limits and permissions as jwt v2.7.4's User.Validate", () => {
    const problems = (nats: Record<string, unknown>): string[] => {
      const r = decodeUserJwt(makeUser(acc.kp, nats).jwt);
      if (!r.ok) throw new Error(r.error);
      return validateClaims(r.claims, nowSec());
    };
    expect(problems({ src: ['10.0.0.1'] })).toEqual(['invalid cidr "10.0.0.1" in user src limits']);
    expect(problems({ src: ['10.0.0.0/8', '::1/128'] })).toEqual([]);
    expect(problems({ sub: { allow: ['a q'] } })).toEqual([]);
    expect(problems({ sub: { deny: ['a b c'] } })).toEqual(['Permission Subject "a b c" contains too many spaces']);
    expect(problems({ pub: { allow: ['foo.', '.foo', 'a..b'] } })).toEqual([
      'subject "foo." cannot start or end with a `.`', 'subject ".foo" cannot start or end with a `.`', 'subject "a..b" cannot contain consecutive `.`',
    ]);
    expect(problems({ times: [{ start: '9:00:00', end: '17:00:00' }], times_location: 'Local' })).toEqual([]);
    expect(problems({ times: [{ start: '24:00:00', end: '' }] })).toEqual(['start in time range is invalid "24:00:00"', 'time ranges end must contain an end']);
    expect(problems({ times_location: 'Europe/Paris' })).toEqual([]);
    expect(problems({ times_location: 'europe/paris' })).toHaveLength(1);
  });

  it("checks an account's other parts as jwt v2.7.4's Account.Validate", () => {
    const problems = (nats: Record<string, unknown>): string[] => {
      const r = decodeAccountJwt(makeAccount(createOperator(), nats).jwt);
      if (!r.ok) throw new Error(r.error);
      return validateClaims(r.claims, nowSec());
    };
    expect(problems({ info_url: 'https://example.com/acc', description: 'd' })).toEqual([]);
    expect(problems({ info_url: 'nohost' })).toEqual(['error parsing info url: no hostname or scheme']);
    expect(problems({ mappings: { a: [{ subject: 'b', weight: 60 }, { subject: 'c', weight: 40 }] } })).toEqual([]);
    expect(problems({ mappings: { a: [{ subject: 'b', weight: 60 }, { subject: 'c', weight: 60 }] } })).toEqual(['Mapping "a" exceeds 100% among all of it\'s weighted to mappings']);
    // The sum is a uint8 in Go: 200 + 100 wraps to 44.
    expect(problems({ mappings: { a: [{ subject: 'b', weight: 200 }, { subject: 'c', weight: 100 }] } })).toEqual([]);
    expect(problems({ authorization: { allowed_accounts: ['*'] } })).toEqual(['External authorization cannot have accounts without users specified']);
    expect(problems({ cluster_traffic: 'x' })).toEqual(['unknown cluster traffic option: "x"']);
    expect(decodeAccountJwt(makeAccount(createOperator(), { mappings: { a: [{ subject: 'b', weight: 300 }] } }).jwt).ok).toBe(false);
  });
});

describe('JWT decoding never throws (fuzz)', () => {
  const acc = createAccount();
  const valid = makeUser(acc).jwt;
  const chunk = fc.oneof(
    fc.string(),
    fc.base64String().map((s) => s.replace(/=+$/, '')),
    fc.jsonValue().map((v) => b64(v)),
    fc.constantFrom(...valid.split('.')),
  );

  it('arbitrary strings and chunk mixes give a typed result', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.array(chunk, { minLength: 0, maxLength: 5 }).map((cs) => cs.join('.'))), (token) => {
      for (const r of [decodeJwt(token), decodeUserJwt(token), decodeAccountJwt(token), decodeOperatorJwt(token)]) {
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(typeof r.error).toBe('string');
        else expect(validateClaims(r.claims, nowSec())).toBeInstanceOf(Array);
      }
    }), { numRuns: 2000 });
  });

  it('signed claims of any JSON shape decode or fail, never throw', () => {
    const nats = fc.dictionary(fc.constantFrom('type', 'version', 'pub', 'sub', 'resp', 'src', 'times', 'subs', 'bearer_token', 'signing_keys', 'revocations', 'limits', 'issuer_account', 'default_permissions'), fc.jsonValue());
    const sub = createUser().getPublicKey();
    // Signing is slow (pure-JS ed25519): fewer runs.
    fc.assert(fc.property(nats, fc.constantFrom('user', 'account', 'operator'), fc.jsonValue(), (n, type, exp) => {
      const token = encodeJwt({ sub, exp, nats: { type, version: 2, ...n } }, acc);
      const r = decodeJwt(token);
      expect(typeof r.ok).toBe('boolean');
      if (r.ok) expect(validateClaims(r.claims, nowSec())).toBeInstanceOf(Array);
    }), { numRuns: 150 });
  });
});

describe('account JWT exports, imports and activations (jwt v2.7.4 validation)', () => {
  const op = makeOperator();
  const exp = createAccount();
  const expPub = exp.getPublicKey();
  const me = createAccount();
  const mePub = me.getPublicKey();
  const act = (sub: string, subject: string, kind: string, nats: Record<string, unknown> = {}, signer = exp): string =>
    encodeJwt({ sub, nats: { subject, kind, type: 'activation', version: 2, ...nats } }, signer);
  /** The first blocking problem of an account JWT with these `nats` fields, or null. */
  const problem = (nats: Record<string, unknown>): string | null => {
    const r = decodeAccountJwt(makeAccount(op.kp, nats, {}, me).jwt);
    if (!r.ok) return `decode: ${r.error}`;
    return validateClaims(r.claims, nowSec())[0] ?? null;
  };
  const imp = (x: Record<string, unknown>): Record<string, unknown> => ({ imports: [{ subject: 'a.>', account: expPub, type: 'stream', ...x }] });
  const ex = (...list: Array<Record<string, unknown>>): Record<string, unknown> => ({ exports: list });

  it('decodes exports, imports and activation claims with their fields', () => {
    const token = act(mePub, 'a.>', 'stream', {}, exp);
    const r = decodeAccountJwt(makeAccount(op.kp, {
      exports: [{ name: 'e', subject: 'svc.*', type: 'service', token_req: true, revocations: { [mePub]: 5 }, response_type: 'Chunked', response_threshold: 1_500_000_000, account_token_position: 2, advertise: true }],
      imports: [{ name: 'i', subject: 'a.>', account: expPub, token, local_subject: 'b.>', type: 'stream' }],
    }, {}, me).jwt);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.claims.nats.exports[0]).toMatchObject({ subject: 'svc.*', type: 'service', tokenReq: true, revocations: { [mePub]: 5 }, responseType: 'Chunked', responseThresholdNs: 1_500_000_000, accountTokenPosition: 2, advertise: true });
    expect(r.claims.nats.imports[0]).toMatchObject({ subject: 'a.>', account: expPub, token, localSubject: 'b.>', type: 'stream', to: '' });
    const a = decodeJwt(token);
    expect(a.ok && a.claims).toMatchObject({ kind: 'activation', sub: mePub, iss: expPub, nats: { subject: 'a.>', importType: 'stream' } });
    expect(validateClaims(r.claims, nowSec())).toEqual([]);
  });

  it.each([
    ['an unknown export type (a decode error in Go)', ex({ subject: 'x', type: 'thing' }), 'decode: unknown export type "thing"'],
    ['an export without a type', ex({ subject: 'x' }), 'invalid export type: "unknown"'],
    ['a response type on a stream', ex({ subject: 'x', type: 'stream', response_type: 'Stream' }), 'invalid response type for stream: "Stream"'],
    ['an unknown response type', ex({ subject: 'x', type: 'service', response_type: 'Many' }), 'invalid response type for service: "Many"'],
    ['a threshold on a stream', ex({ subject: 'x', type: 'stream', response_threshold: 5 }), 'response threshold only valid for services'],
    ['overlapping exports of a kind', ex({ subject: 'x.>', type: 'stream' }, { subject: 'x.y', type: 'stream' }), 'stream export subject "x.>" already exports "x.y"'],
    ['an account token position on a literal subject', ex({ subject: 'x.y', type: 'stream', account_token_position: 1 }), 'Account Token Position can only be used with wildcard subjects: x.y'],
    ['an account token position not on a *', ex({ subject: 'x.*', type: 'stream', account_token_position: 1 }), "Account Token Position 1 matches 'x' but must match a * in: x.*"],
    ['latency tracking of a stream', ex({ subject: 'x', type: 'stream', service_latency: { sampling: 50, results: 'r' } }), 'latency tracking only permitted for services'],
    ['a latency sampling above 100', ex({ subject: 'x', type: 'service', service_latency: { sampling: 101, results: 'r' } }), 'sampling percentage needs to be between 1-100'],
    ['a negative latency sampling', ex({ subject: 'x', type: 'service', service_latency: { sampling: -5, results: 'r' } }), 'sampling percentage needs to be between 1-100'],
    ['a latency without sampling (a decode error in Go)', ex({ subject: 'x', type: 'service', service_latency: { results: 'r' } }), 'decode: empty sampling rate'],
    ['latency results on a wildcard subject', ex({ subject: 'x', type: 'service', service_latency: { sampling: 100, results: 'r.*' } }), 'results subject can not contain wildcards'],
    ['latency results without a subject', ex({ subject: 'x', type: 'service', service_latency: { sampling: 100, results: '' } }), 'subject cannot be empty'],
    ['latency sampled by headers', ex({ subject: 'x', type: 'service', service_latency: { sampling: 'headers', results: 'r' } }), null],
    ['an import without an account', imp({ account: '' }), 'account to import from is not specified'],
    ['an import with both local_subject and to', imp({ local_subject: 'b.>', to: 'p' }), 'Local Subject replaces To'],
    ['a local subject that drops a wildcard', { imports: [{ subject: 'a.*', account: expPub, type: 'stream', local_subject: 'b' }] }, 'subject does not contain enough * or reference wildcards $[0-9]'],
    ['share on a stream import', imp({ share: true }), 'sharing information (for latency tracking) is only valid for services: "a.>"'],
    ['a token that is not an activation', imp({ token: 'x.y.z' }), 'import "a.>" contains an invalid activation token'],
    ['an activation for another account', imp({ token: act(expPub, 'a.>', 'stream') }), 'activation token doesn\'t match account it is being included in, "a.>"'],
    ['an activation by another account', imp({ token: act(mePub, 'a.>', 'stream', {}, createAccount()) }), 'activation token doesn\'t match account for import "a.>"'],
    ['an activation of another type', imp({ token: act(mePub, 'a.>', 'service') }), 'mismatch between token import type service and type of import stream'],
    ['an activation narrower than the import', imp({ token: act(mePub, 'a.b', 'stream') }), 'activation token import subject "a.b" doesn\'t match import "a.>"'],
    ['overlapping service imports', { imports: [{ subject: 'q.>', account: expPub, type: 'service' }, { subject: 'q.a', account: createAccount().getPublicKey(), type: 'service' }] }, 'overlapping subject namespace for "q.a" and "q.>"'],
    ['imports beyond the limit (absent limits are 0)', { ...imp({}), limits: { subs: -1, data: -1, payload: -1 } }, 'the account contains more imports than allowed by the operator'],
    ['wildcard exports without `wildcards`', { ...ex({ subject: 'x.*', type: 'stream' }), limits: { exports: 5 } }, 'the account contains wildcard exports that are not allowed by the operator'],
    ['an expired activation (its times are checked when the import is wired, not here)', imp({ token: encodeJwt({ sub: mePub, exp: nowSec() - 5, nats: { subject: 'a.>', kind: 'stream', type: 'activation', version: 2 } }, exp) }), null],
  ])('%s', (_what, nats, expected) => {
    expect(problem(nats)).toBe(expected);
  });
});
