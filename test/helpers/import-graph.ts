/**
 * Random account graphs with stream/service exports and imports, their traffic, and a model of
 * what every subscription receives (nats-server 2.10 client.go / accounts.go), shared by the
 * model-based property test (test/property/imports.test.ts) and the differential test against
 * the real nats-server (test/conformance/jwt-imports-interop.test.ts).
 *
 * A graph has two forms:
 * - configured accounts (`accounts` with users, `exports` public or for named accounts);
 * - account JWTs (operator mode): an export for named accounts becomes `token_req`, and each
 *   import of it carries an activation token for its importer. The JWT form also adds imports
 *   that must NOT be wired — of a token-required export the importer was not granted: without a
 *   token, with an expired one, with one the export revokes, or with one signed by a key the
 *   exporter does not have — which the model leaves out.
 *
 * The model:
 * - a message published in account K reaches K's own subscriptions that match it;
 * - for each stream import of account J from K whose subject the message matches, J's
 *   subscriptions matching the local subject (`prefix.subject`, the subject, or the `to`
 *   mapping `t<i>.$1` of `s.*`) get it, under that subject — imports are not transitive (a
 *   shadow subscription makes no shadow);
 * - for each service import of K whose local subject the message matches, the exporter's
 *   subscriptions matching the exported subject get it under that subject; a message that
 *   came through a service import reaches no stream import.
 */
import fc from 'fast-check';
import type { NatsConnection } from '@nats-io/transport-node';
import { createAccount, type KeyPair } from '@nats-io/nkeys';
import type { AccountExport, AccountImport, AccountOptions } from '../../src/index.js';
import { makeAccount, makeActivation, makeOperator, makeUser, nowSec, publicKeyOf, type Account, type Operator, type User } from './jwt.js';

export const N = 4;
export const names = [...Array(N).keys()].map((i) => `K${i}`);

// ---- Graph ------------------------------------------------------------------------------

interface Exp { readonly subject: string; readonly accounts: readonly number[] | null }
interface StreamImp { readonly from: number; readonly subject: string; readonly prefix: string | null; readonly to?: string }
interface ServiceImp { readonly from: number; readonly subject: string; readonly local: string }
/** How an import of the JWT form fails to be authorised. */
export type BadToken = 'none' | 'expired' | 'revoked' | 'rogue';
interface BadImp { readonly from: number; readonly kind: 'stream' | 'service'; readonly bad: BadToken }
export interface Acc {
  streamExports: Exp[];
  serviceExports: Exp[];
  streamImports: StreamImp[];
  serviceImports: ServiceImp[];
  /** JWT form only: imports of a token-required export this account was not granted. */
  badImports: BadImp[];
}

export interface Choice {
  readonly streamExports: ReadonlyArray<{ subject: string; allow: readonly boolean[] | null }>;
  readonly serviceExports: ReadonlyArray<{ subject: string; allow: readonly boolean[] | null }>;
  /** Per (importer, exporter): 0 none, 1 stream import with prefix, 2 without, 3 service, 4 both, 5 stream import of `s.*` to `t<i>.$1`. */
  readonly links: readonly number[];
  /** Which export to take, and whether to narrow it to `s.a` / `q.a`. */
  readonly pick: readonly number[];
  readonly narrow: readonly boolean[];
  /** Per (importer, exporter) not granted: an import with a bad token (JWT form), or none. */
  readonly bad: ReadonlyArray<BadToken | null>;
}

const allowList = fc.option(fc.array(fc.boolean(), { minLength: N, maxLength: N }), { nil: null });
export const choice: fc.Arbitrary<Choice> = fc.record({
  streamExports: fc.array(fc.record({ subject: fc.constantFrom('s.>', 's.a', 's.*'), allow: allowList }), { minLength: N, maxLength: N }),
  serviceExports: fc.array(fc.record({ subject: fc.constantFrom('q.*', 'q.a'), allow: allowList }), { minLength: N, maxLength: N }),
  links: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: N * N, maxLength: N * N }),
  pick: fc.array(fc.nat(), { minLength: N * N, maxLength: N * N }),
  narrow: fc.array(fc.boolean(), { minLength: N * N, maxLength: N * N }),
  bad: fc.array(fc.option(fc.constantFrom<BadToken>('none', 'expired', 'revoked', 'rogue'), { nil: null }), { minLength: N * N, maxLength: N * N }),
});

const allows = (e: Exp, j: number): boolean => e.accounts === null || e.accounts.includes(j);

/** A graph nats-server accepts: imports only of what an export allows; no import cycles (prefixes, or a lower account). */
export function graph(c: Choice): Acc[] {
  const accs: Acc[] = names.map((_, i) => {
    const se = c.streamExports[i]!;
    const sv = c.serviceExports[i]!;
    const accounts = (allow: readonly boolean[] | null): number[] | null => {
      if (allow === null) return null;
      const list = allow.flatMap((b, k) => (b && k !== i ? [k] : []));
      return list.length === 0 ? null : list;
    };
    return {
      streamExports: [{ subject: se.subject, accounts: accounts(se.allow) }],
      serviceExports: [{ subject: sv.subject, accounts: accounts(sv.allow) }],
      streamImports: [],
      serviceImports: [],
      badImports: [],
    };
  });
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < N; i++) {
      if (i === j) continue;
      const k = j * N + i;
      const link = c.links[k]!;
      const ex = accs[i]!;
      let refused: 'stream' | 'service' | null = null;
      if (link === 1 || link === 2 || link === 4) {
        const e = ex.streamExports[c.pick[k]! % ex.streamExports.length]!;
        // Without a prefix only from a lower account: no cycle can form.
        const prefix = link === 2 && i < j ? null : `p${i}`;
        if (allows(e, j)) accs[j]!.streamImports.push({ from: i, subject: c.narrow[k] && e.subject !== 's.a' ? 's.a' : e.subject, prefix });
        else refused = 'stream';
      }
      if (link === 5) {
        const e = ex.streamExports[0]!;
        if (e.subject !== 's.a' && allows(e, j)) accs[j]!.streamImports.push({ from: i, subject: 's.*', prefix: null, to: `t${i}.$1` });
      }
      if (link === 3 || link === 4) {
        const e = ex.serviceExports[0]!;
        if (allows(e, j)) {
          const subject = c.narrow[k] ? 'q.a' : e.subject;
          accs[j]!.serviceImports.push({ from: i, subject, local: `r${i}.${subject}` });
        } else if (refused === null) refused = 'service';
      }
      const bad = c.bad[k];
      if (refused !== null && bad !== null && bad !== undefined) accs[j]!.badImports.push({ from: i, kind: refused, bad });
    }
  }
  return accs;
}

/** The configured-accounts form (users `u<i>`/`u<i>`); bad imports have no such form. */
export function configAccounts(accs: readonly Acc[]): Record<string, AccountOptions> {
  const out: Record<string, AccountOptions> = {};
  accs.forEach((a, i) => {
    const exports: AccountExport[] = [
      ...a.streamExports.map((e) => ({ stream: e.subject, ...(e.accounts === null ? {} : { accounts: e.accounts.map((k) => names[k]!) }) })),
      ...a.serviceExports.map((e) => ({ service: e.subject, ...(e.accounts === null ? {} : { accounts: e.accounts.map((k) => names[k]!) }) })),
    ];
    const imports: AccountImport[] = [
      ...a.streamImports.map((im) => ({
        stream: { account: names[im.from]!, subject: im.subject },
        ...(im.prefix === null ? {} : { prefix: im.prefix }),
        ...(im.to === undefined ? {} : { to: im.to }),
      })),
      ...a.serviceImports.map((im) => ({ service: { account: names[im.from]!, subject: im.subject }, to: im.local })),
    ];
    out[names[i]!] = { users: [{ user: `u${i}`, password: `u${i}` }], exports, imports };
  });
  return out;
}

/** The JWT form: an operator, a system account, one account JWT per graph account and a (bearer) user of each. */
export interface JwtGraph {
  readonly operator: Operator;
  readonly system: Account;
  readonly accounts: readonly Account[];
  readonly users: readonly User[];
}

/** The graph as account JWTs signed by a new operator. */
export function jwtAccounts(accs: readonly Acc[]): JwtGraph {
  const operator = makeOperator();
  const kps: KeyPair[] = accs.map(() => createAccount());
  const keys = kps.map((k) => publicKeyOf(k));
  const rogue = createAccount();
  const now = nowSec();
  const grant = (from: number, to: number, subject: string, kind: 'stream' | 'service', bad: BadToken | null = null): Record<string, unknown> => {
    if (bad === 'none') return {};
    const token = bad === 'rogue'
      ? makeActivation(rogue, keys[to]!, subject, kind, { issuer_account: keys[from] })
      : makeActivation(kps[from]!, keys[to]!, subject, kind, {}, bad === 'expired' ? { exp: now - 5 } : bad === 'revoked' ? { iat: now - 10 } : {});
    return { token };
  };
  const accounts = accs.map((a, i) => {
    // Revocations of the exports: the importers whose bad import is a revoked token.
    const revoked = (kind: 'stream' | 'service'): Record<string, number> => Object.fromEntries(accs.flatMap((b, j) =>
      b.badImports.filter((x) => x.from === i && x.kind === kind && x.bad === 'revoked').map(() => [keys[j]!, now])));
    const exports = [
      ...a.streamExports.map((e) => ({ subject: e.subject, type: 'stream', ...(e.accounts === null ? {} : { token_req: true, revocations: revoked('stream') }) })),
      ...a.serviceExports.map((e) => ({ subject: e.subject, type: 'service', ...(e.accounts === null ? {} : { token_req: true, revocations: revoked('service') }) })),
    ];
    const tokenFor = (from: number, kind: 'stream' | 'service'): Record<string, unknown> => {
      const e = kind === 'stream' ? accs[from]!.streamExports[0]! : accs[from]!.serviceExports[0]!;
      return e.accounts === null ? {} : grant(from, i, e.subject, kind);
    };
    const imports = [
      // The deprecated `to` of a stream import is its prefix; `local_subject` maps it.
      ...a.streamImports.map((im) => ({
        subject: im.subject, account: keys[im.from], type: 'stream',
        ...(im.prefix === null ? {} : { to: im.prefix }), ...(im.to === undefined ? {} : { local_subject: im.to }), ...tokenFor(im.from, 'stream'),
      })),
      ...a.serviceImports.map((im) => ({ subject: im.subject, account: keys[im.from], type: 'service', local_subject: im.local, ...tokenFor(im.from, 'service') })),
      ...a.badImports.map((b) => {
        const e = b.kind === 'stream' ? accs[b.from]!.streamExports[0]! : accs[b.from]!.serviceExports[0]!;
        const local = b.kind === 'stream' ? { to: `bad${b.from}` } : { local_subject: `r${b.from}.${e.subject}` };
        return { subject: e.subject, account: keys[b.from], type: b.kind, ...local, ...grant(b.from, i, e.subject, b.kind, b.bad) };
      }),
    ];
    return makeAccount(operator.kp, { exports, imports }, { name: names[i] }, kps[i]);
  });
  // Bearer users: the client signs no nonce (the JavaScript ed25519 takes milliseconds).
  return { operator, system: makeAccount(operator.kp), accounts, users: kps.map((k) => makeUser(k, { bearer_token: true })) };
}

// ---- Traffic and model --------------------------------------------------------------------

const SUB_PATTERNS = ['>', 's.>', 's.a', 's.*', 's.a.b', 'q.*', 'q.a', 'p0.>', 'p1.s.a', 'p2.s.*', 'p3.>', 'r0.q.*', 'r1.>', 't0.*', 't1.a', 't2.>', '*.b', 'bad0.>', 'bad1.s.a', 'bad2.>', 'bad3.s.*'];
const PUB_SUBJECTS = ['s.a', 's.b', 's.a.b', 'q.a', 'q.b', 'p1.s.a', 'r0.q.a', 'r1.q.b', 'r2.q.a', 'r3.q.a'];

export interface Traffic {
  readonly subs: ReadonlyArray<{ acc: number; pattern: string }>;
  readonly pubs: ReadonlyArray<{ acc: number; subject: string }>;
}

export const traffic: fc.Arbitrary<Traffic> = fc.record({
  subs: fc.array(fc.record({ acc: fc.nat(N - 1), pattern: fc.constantFrom(...SUB_PATTERNS) }), { minLength: 1, maxLength: 10 }),
  pubs: fc.array(fc.record({ acc: fc.nat(N - 1), subject: fc.constantFrom(...PUB_SUBJECTS) }), { minLength: 1, maxLength: 12 }),
});

function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

/** What each subscription receives: `subIndex subject payload`, sorted. Bad imports deliver nothing. */
export function model(accs: readonly Acc[], t: Traffic): string[] {
  const out: string[] = [];
  const to = (acc: number, subject: string, payload: string): void => {
    t.subs.forEach((s, i) => {
      if (s.acc === acc && matches(s.pattern, subject)) out.push(`${i} ${subject} ${payload}`);
    });
  };
  t.pubs.forEach((p, n) => {
    const payload = String(n);
    to(p.acc, p.subject, payload);
    accs.forEach((a, j) => {
      for (const im of a.streamImports) {
        if (im.from !== p.acc || !matches(im.subject, p.subject)) continue;
        // `s.X` to `t<i>.$1`: `t<i>.X`.
        const local = im.to !== undefined ? `${im.to.split('.')[0]}.${p.subject.split('.')[1]}` : im.prefix === null ? p.subject : `${im.prefix}.${p.subject}`;
        to(j, local, payload);
      }
    });
    for (const im of accs[p.acc]!.serviceImports) {
      if (!matches(im.local, p.subject)) continue;
      // `r<i>.q.x` → `q.x`.
      to(im.from, p.subject.slice(p.subject.indexOf('.') + 1), payload);
    }
  });
  return out.sort();
}

/** A connection per account (`connect(i)`), the traffic played on them, and what arrived. */
export async function play(connect: (acc: number) => Promise<NatsConnection>, t: Traffic): Promise<string[]> {
  const conns: NatsConnection[] = [];
  try {
    for (let i = 0; i < N; i++) conns.push(await connect(i));
    const got: string[] = [];
    t.subs.forEach((s, i) => conns[s.acc]!.subscribe(s.pattern, { callback: (_e, m) => void got.push(`${i} ${m.subject} ${m.string()}`) }));
    await Promise.all(conns.map((c) => c.flush()));
    t.pubs.forEach((p, n) => conns[p.acc]!.publish(p.subject, String(n)));
    await Promise.all(conns.map((c) => c.flush()));
    await Promise.all(conns.map((c) => c.flush()));
    return got.sort();
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }
}
