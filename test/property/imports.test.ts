/**
 * Model-based property test of account exports and imports: a random graph of four accounts
 * (stream and service exports, public or for named accounts; stream imports with or without a
 * prefix; service imports mapped to a local subject) with random subscriptions and
 * publications, played through the official client. Every subscription must receive exactly
 * what a small model of nats-server's import rules says — in particular nothing from an
 * account it did not import from.
 *
 * The model (nats-server 2.10 client.go / accounts.go):
 * - a message published in account K reaches K's own subscriptions that match it;
 * - for each stream import of account J from K whose subject the message matches, J's
 *   subscriptions matching the local subject (`prefix.subject`, the subject, or the `to`
 *   mapping `t<i>.$1` of `s.*`) get it, under
 *   that subject — imports are not transitive (a shadow subscription makes no shadow);
 * - for each service import of K whose local subject the message matches, the exporter's
 *   subscriptions matching the exported subject get it under that subject; a message that
 *   came through a service import reaches no stream import.
 *
 * The same file runs against a real nats-server (NATS_WIRE_SERVER, as the conformance run
 * does), which checks the model. Replay: FC_SEED=<seed> (printed at the start).
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type AccountExport, type AccountImport, type AccountOptions, type NatsServer } from '../../src/index.js';
import { REAL_SERVER } from '../helpers/broker.js';

const raw = process.env.FC_SEED;
const SEED = raw === undefined || raw === '' ? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0 : Number(raw) | 0;
console.log(`imports properties: FC_SEED=${SEED}`);
if (REAL_SERVER !== '') process.env.NATS_SERVER_BIN ??= REAL_SERVER;

const N = 4;
const names = [...Array(N).keys()].map((i) => `K${i}`);

// ---- Graph ------------------------------------------------------------------------------

interface StreamExp { readonly subject: string; readonly accounts: readonly number[] | null }
interface ServiceExp { readonly subject: string; readonly accounts: readonly number[] | null }
interface StreamImp { readonly from: number; readonly subject: string; readonly prefix: string | null; readonly to?: string }
interface ServiceImp { readonly from: number; readonly subject: string; readonly local: string }
interface Acc {
  streamExports: StreamExp[];
  serviceExports: ServiceExp[];
  streamImports: StreamImp[];
  serviceImports: ServiceImp[];
}

interface Choice {
  readonly streamExports: ReadonlyArray<{ subject: string; allow: readonly boolean[] | null }>;
  readonly serviceExports: ReadonlyArray<{ subject: string; allow: readonly boolean[] | null }>;
  /** Per (importer, exporter): 0 none, 1 stream import with prefix, 2 without, 3 service, 4 both, 5 stream import of `s.*` to `t<i>.$1`. */
  readonly links: readonly number[];
  /** Which export to take, and whether to narrow it to `s.a` / `q.a`. */
  readonly pick: readonly number[];
  readonly narrow: readonly boolean[];
}

const allowList = fc.option(fc.array(fc.boolean(), { minLength: N, maxLength: N }), { nil: null });
const choice: fc.Arbitrary<Choice> = fc.record({
  streamExports: fc.array(fc.record({ subject: fc.constantFrom('s.>', 's.a', 's.*'), allow: allowList }), { minLength: N, maxLength: N }),
  serviceExports: fc.array(fc.record({ subject: fc.constantFrom('q.*', 'q.a'), allow: allowList }), { minLength: N, maxLength: N }),
  links: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: N * N, maxLength: N * N }),
  pick: fc.array(fc.nat(), { minLength: N * N, maxLength: N * N }),
  narrow: fc.array(fc.boolean(), { minLength: N * N, maxLength: N * N }),
});

const allows = (e: { accounts: readonly number[] | null }, j: number): boolean => e.accounts === null || e.accounts.includes(j);

/** A graph nats-server accepts: imports only of what an export allows; no import cycles (prefixes, or a lower account). */
function graph(c: Choice): Acc[] {
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
    };
  });
  for (let j = 0; j < N; j++) {
    for (let i = 0; i < N; i++) {
      if (i === j) continue;
      const k = j * N + i;
      const link = c.links[k]!;
      const ex = accs[i]!;
      if (link === 1 || link === 2 || link === 4) {
        const e = ex.streamExports[c.pick[k]! % ex.streamExports.length]!;
        // Without a prefix only from a lower account: no cycle can form.
        const prefix = link === 2 && i < j ? null : `p${i}`;
        if (allows(e, j)) accs[j]!.streamImports.push({ from: i, subject: c.narrow[k] && e.subject !== 's.a' ? 's.a' : e.subject, prefix });
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
        }
      }
    }
  }
  return accs;
}

function options(accs: readonly Acc[]): Record<string, AccountOptions> {
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

// ---- Traffic and model --------------------------------------------------------------------

const SUB_PATTERNS = ['>', 's.>', 's.a', 's.*', 's.a.b', 'q.*', 'q.a', 'p0.>', 'p1.s.a', 'p2.s.*', 'p3.>', 'r0.q.*', 'r1.>', 't0.*', 't1.a', 't2.>', '*.b'];
const PUB_SUBJECTS = ['s.a', 's.b', 's.a.b', 'q.a', 'q.b', 'p1.s.a', 'r0.q.a', 'r1.q.b', 'r2.q.a', 'r3.q.a'];

interface Traffic {
  readonly subs: ReadonlyArray<{ acc: number; pattern: string }>;
  readonly pubs: ReadonlyArray<{ acc: number; subject: string }>;
}

const traffic: fc.Arbitrary<Traffic> = fc.record({
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

/** What each subscription receives: `subIndex subject payload`, sorted. */
function model(accs: readonly Acc[], t: Traffic): string[] {
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

async function play(server: NatsServer, t: Traffic): Promise<string[]> {
  const conns: NatsConnection[] = [];
  try {
    for (let i = 0; i < N; i++) conns.push(await connect({ servers: server.url, user: `u${i}`, pass: `u${i}`, reconnect: false }));
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

const servers: NatsServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('account imports (model-based)', () => {
  it('every subscription receives exactly what the import rules say; nothing leaks to an account that did not import it', async () => {
    await fc.assert(
      fc.asyncProperty(choice, fc.array(traffic, { minLength: 1, maxLength: 3 }), async (c, rounds) => {
        const accs = graph(c);
        const server = await createServer({ accounts: options(accs), ...(REAL_SERVER === '' ? {} : { backend: 'nats-server' as const }) });
        servers.push(server);
        try {
          for (const t of rounds) expect(await play(server, t)).toEqual(model(accs, t));
        } finally {
          await server.close();
          servers.splice(servers.indexOf(server), 1);
        }
      }),
      { seed: SEED, numRuns: REAL_SERVER === '' ? 60 : 25, timeout: 20_000 },
    );
  }, 180_000);
});
