/**
 * Model-based property tests of message routing, end to end: random scenarios are played
 * through the official client (@nats-io/transport-node) against the broker from
 * `startBroker()`, and what every subscription received is compared with a plain reference
 * model written here (brute-force token matching, not the broker's trie).
 *
 * The same file runs against a real nats-server, which is the spec for the model:
 *
 *   npx vitest run test/property/routing.test.ts
 *   NATS_WIRE_SERVER=nats-server npx vitest run test/property/routing.test.ts
 *
 * Replaying a failure: the seed is printed at the start (`routing properties: FC_SEED=...`),
 * and on failure fast-check prints the seed and the path of the shrunk counterexample.
 * Replay with the same seed (and, to jump straight to the shrunk case, the path):
 *
 *   FC_SEED=<seed> npx vitest run test/property/routing.test.ts
 *   FC_SEED=<seed> FC_PATH=<path> npx vitest run test/property/routing.test.ts
 *
 * (FC_PATH applies to the property that failed; run it alone with `-t`.)
 *
 * Each scenario has connections (some with `noEcho`), and one to three phases. A phase adds
 * subscriptions (literal, `*`, `>`, queue groups, `max` limits on plain ones), removes some,
 * flushes every connection (so the server has processed every SUB/UNSUB), then publishes from
 * random connections (with and without reply subjects and headers), flushes the publishers
 * and then every connection (so every delivery has arrived). No sleeps: only flush round trips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { startBroker, type Broker } from '../helpers/broker.js';

// ---- Seed ---------------------------------------------------------------------------------

function envSeed(): number {
  const raw = process.env.FC_SEED;
  if (raw === undefined || raw === '') return (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return n | 0;
}

const SEED = envSeed();
const PATH = process.env.FC_PATH === undefined || process.env.FC_PATH === '' ? undefined : process.env.FC_PATH;
console.log(`routing properties: FC_SEED=${SEED}${PATH === undefined ? '' : ` FC_PATH=${PATH}`}`);

const params = (numRuns: number): fc.Parameters<unknown> => ({
  seed: SEED,
  numRuns,
  // One run that hangs (a flush that never returns) fails instead of stalling the file.
  timeout: 15_000,
  ...(PATH === undefined ? {} : { path: PATH }),
});

// ---- Scenario -----------------------------------------------------------------------------

interface SubSpec {
  /** Connection index (taken modulo the number of connections). */
  readonly conn: number;
  /** Subject tokens after the run prefix. */
  readonly pattern: readonly string[];
  readonly queue: string | null;
  /** Auto-unsubscribe limit, 0 for none (plain subscriptions only, to keep the model exact). */
  readonly max: number;
}

interface PubSpec {
  readonly conn: number;
  readonly subject: readonly string[];
  readonly reply: readonly string[] | null;
  /** Header lines in order (several values for one key are appended); null: no headers. */
  readonly headers: readonly (readonly [string, string])[] | null;
  readonly body: Uint8Array;
}

interface PhaseSpec {
  readonly subs: readonly SubSpec[];
  /** Subscriptions to remove (index modulo the number created so far). */
  readonly unsubs: readonly number[];
  readonly pubs: readonly PubSpec[];
}

interface Scenario {
  /** One entry per connection: true for `noEcho`. */
  readonly noEcho: readonly boolean[];
  readonly phases: readonly PhaseSpec[];
}

// A small alphabet and short subjects, so that subjects collide and wildcards match often.
const token = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('a', 'b') }, { weight: 1, arbitrary: fc.constant('c') });
const literalTokens = fc.oneof(
  { weight: 3, arbitrary: fc.array(token, { minLength: 1, maxLength: 2 }) },
  { weight: 1, arbitrary: fc.array(token, { minLength: 3, maxLength: 3 }) },
);
const patternTokens: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.array(fc.oneof({ weight: 3, arbitrary: token }, { weight: 1, arbitrary: fc.constant('*') }), { minLength: 0, maxLength: 3 }),
    fc.boolean(),
  )
  .map(([toks, fwc]) => (toks.length === 0 ? ['>'] : fwc ? [...toks.slice(0, 2), '>'] : toks));

const subSpec: fc.Arbitrary<SubSpec> = fc
  .record({
    conn: fc.nat({ max: 4 }),
    pattern: patternTokens,
    queue: fc.oneof(
      { weight: 5, arbitrary: fc.constant(null) },
      { weight: 3, arbitrary: fc.constant('q1') },
      { weight: 1, arbitrary: fc.constant('q2') },
    ),
    max: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }),
  })
  .map((s) => (s.queue === null ? s : { ...s, max: 0 }));

const pubSpec: fc.Arbitrary<PubSpec> = fc.record({
  conn: fc.nat({ max: 4 }),
  subject: literalTokens,
  reply: fc.option(literalTokens, { freq: 3, nil: null }),
  headers: fc.option(
    fc.array(fc.tuple(fc.constantFrom('X-A', 'X-B', 'x-lower'), fc.constantFrom('1', 'v2', 'a b')), { maxLength: 3 }),
    { freq: 2, nil: null },
  ),
  body: fc.uint8Array({ maxLength: 12 }),
});

const phaseSpec: fc.Arbitrary<PhaseSpec> = fc.record({
  subs: fc.array(subSpec, { maxLength: 8 }),
  unsubs: fc.array(fc.nat({ max: 40 }), { maxLength: 2 }),
  pubs: fc.array(pubSpec, { maxLength: 12 }),
});

const scenario: fc.Arbitrary<Scenario> = fc.record({
  noEcho: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
  phases: fc.array(phaseSpec, { minLength: 1, maxLength: 3 }),
});

// ---- Reference model ----------------------------------------------------------------------

/** `*` matches one token, `>` one or more trailing tokens; everything else literally. */
function matches(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '>') return subject.length > i;
    if (i >= subject.length) return false;
    if (pattern[i] !== '*' && pattern[i] !== subject[i]) return false;
  }
  return pattern.length === subject.length;
}

/** What a subscriber must see of one message (everything but the sid). */
interface Delivery {
  readonly subject: string;
  readonly reply: string;
  readonly body: string;
  /** Sorted by key, values in order; null when the message had no header section. */
  readonly headers: readonly (readonly [string, readonly string[]])[] | null;
}

interface ModelPub {
  readonly idx: number;
  readonly phase: number;
  readonly conn: number;
  readonly spec: PubSpec;
  readonly delivery: Delivery;
}

interface ModelSub {
  readonly id: number;
  readonly conn: number;
  readonly spec: SubSpec;
  live: boolean;
}

interface Expectation {
  readonly pubs: ModelPub[];
  readonly subs: ModelSub[];
  /** Plain subscription id -> the messages it matches while live, in publish order (before `max`). */
  readonly plain: Map<number, number[]>;
  /** Queue name -> message index -> the ids of the members allowed to take it. */
  readonly queues: Map<string, Map<number, Set<number>>>;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function headerView(lines: readonly (readonly [string, string])[]): (readonly [string, readonly string[]])[] {
  const byKey = new Map<string, string[]>();
  for (const [k, v] of lines) byKey.set(k, [...(byKey.get(k) ?? []), v]);
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Plays the scenario on the model: which subscription may receive which message. */
function model(sc: Scenario, prefix: string): Expectation {
  const nConns = sc.noEcho.length;
  const pubs: ModelPub[] = [];
  const subs: ModelSub[] = [];
  const plain = new Map<number, number[]>();
  const queues = new Map<string, Map<number, Set<number>>>();
  sc.phases.forEach((phase, p) => {
    for (const spec of phase.subs) {
      const s: ModelSub = { id: subs.length, conn: spec.conn % nConns, spec, live: true };
      subs.push(s);
      if (spec.queue === null) plain.set(s.id, []);
    }
    if (subs.length > 0) for (const u of phase.unsubs) subs[u % subs.length].live = false;
    for (const spec of phase.pubs) {
      const idx = pubs.length;
      const conn = spec.conn % nConns;
      pubs.push({
        idx,
        phase: p,
        conn,
        spec,
        delivery: {
          subject: [prefix, ...spec.subject].join('.'),
          reply: spec.reply === null ? '' : [`i${prefix}`, ...spec.reply].join('.'),
          body: `${idx}|${hex(spec.body)}`,
          // An empty header set is encoded by the client as a zero-length header section
          // (`HPUB <subj> 0 <len>`); the receiver then sees no headers (as with nats-server).
          headers: spec.headers === null || spec.headers.length === 0 ? null : headerView(spec.headers),
        },
      });
      for (const s of subs) {
        if (!s.live || !matches(s.spec.pattern, spec.subject)) continue;
        // echo: false: a connection never receives its own messages.
        if (s.conn === conn && sc.noEcho[conn]) continue;
        if (s.spec.queue === null) {
          plain.get(s.id)!.push(idx);
        } else {
          let group = queues.get(s.spec.queue);
          if (group === undefined) queues.set(s.spec.queue, (group = new Map()));
          let members = group.get(idx);
          if (members === undefined) group.set(idx, (members = new Set()));
          members.add(s.id);
        }
      }
    }
  });
  return { pubs, subs, plain, queues };
}

// ---- Running a scenario -------------------------------------------------------------------

let broker: Broker;
let runCounter = 0;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.close();
});

async function openConns(noEcho: readonly boolean[]): Promise<NatsConnection[]> {
  const settled = await Promise.allSettled(
    noEcho.map((ne) => connect({ servers: `127.0.0.1:${broker.port}`, noEcho: ne, reconnect: false })),
  );
  const ok = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await closeAll(ok);
    throw failed.reason;
  }
  return ok;
}

async function closeAll(conns: readonly NatsConnection[]): Promise<void> {
  await Promise.all(conns.map((nc) => (nc.isClosed() ? undefined : nc.close().catch(() => undefined))));
}

async function flushAll(conns: readonly NatsConnection[]): Promise<void> {
  await Promise.all(conns.map((nc) => nc.flush()));
}

/** A received message as the model describes it, plus the index read from its payload. */
interface Got extends Delivery {
  readonly idx: number;
}

function view(m: Msg): Got {
  const body = Buffer.from(m.data);
  const bar = body.indexOf(0x7c); // '|'
  const idx = bar > 0 ? Number(body.toString('latin1', 0, bar)) : -1;
  const h = m.headers;
  return {
    idx: Number.isInteger(idx) ? idx : -1,
    subject: m.subject,
    reply: m.reply ?? '',
    body: bar > 0 ? `${body.toString('latin1', 0, bar)}|${body.subarray(bar + 1).toString('hex')}` : `?${body.toString('hex')}`,
    headers:
      h === undefined
        ? null
        : h
            .keys()
            .sort()
            .map((k): readonly [string, readonly string[]] => [k, h.values(k)]),
  };
}

interface Outcome {
  /** Per subscription id, what it received in arrival order. */
  readonly got: Got[][];
  /** Per connection, messages read off the wire (any sid, counted even past a client-side `max`). */
  readonly inMsgs: number[];
}

async function play(sc: Scenario, prefix: string): Promise<Outcome> {
  const conns = await openConns(sc.noEcho);
  try {
    const got: Got[][] = [];
    const handles: Subscription[] = [];
    let nextIdx = 0;
    for (const phase of sc.phases) {
      for (const spec of phase.subs) {
        const list: Got[] = [];
        got.push(list);
        const nc = conns[spec.conn % conns.length];
        handles.push(
          nc.subscribe([prefix, ...spec.pattern].join('.'), {
            ...(spec.queue === null ? {} : { queue: spec.queue }),
            ...(spec.max === 0 ? {} : { max: spec.max }),
            callback: (err, m) => {
              if (err === null) list.push(view(m));
            },
          }),
        );
      }
      if (handles.length > 0) {
        for (const u of phase.unsubs) {
          const h = handles[u % handles.length];
          if (!h.isClosed()) h.unsubscribe();
        }
      }
      // Every SUB/UNSUB processed before anything is published.
      await flushAll(conns);
      for (const spec of phase.pubs) {
        const nc = conns[spec.conn % conns.length];
        const idx = nextIdx++; // as in the model: messages numbered in publish order
        const payload = Buffer.concat([Buffer.from(`${idx}|`, 'latin1'), Buffer.from(spec.body)]);
        const opts: { reply?: string; headers?: ReturnType<typeof headers> } = {};
        if (spec.reply !== null) opts.reply = [`i${prefix}`, ...spec.reply].join('.');
        if (spec.headers !== null) {
          const h = headers();
          for (const [k, v] of spec.headers) h.append(k, v);
          opts.headers = h;
        }
        nc.publish([prefix, ...spec.subject].join('.'), payload, opts);
      }
      // The publishers' PUBs are processed (first round), then every delivery has arrived
      // (second round: each PONG follows the messages queued before it).
      await flushAll(conns);
      await flushAll(conns);
    }
    return { got, inMsgs: conns.map((nc) => nc.stats().inMsgs) };
  } finally {
    await closeAll(conns);
  }
}

// ---- Checking -----------------------------------------------------------------------------

function fail(what: string, detail: unknown): never {
  throw new Error(`${what}: ${JSON.stringify(detail)}`);
}

/** Along one subscription's arrivals: phases never go back, each publisher's messages in order. */
function checkOrder(where: string, got: readonly Got[], pubs: readonly ModelPub[]): void {
  const lastByConn = new Map<number, number>();
  let phase = 0;
  for (const g of got) {
    const p = pubs[g.idx];
    if (p.phase < phase) fail(`${where}: message from an earlier phase arrived late`, { arrivals: got.map((x) => x.idx) });
    phase = p.phase;
    const last = lastByConn.get(p.conn);
    if (last !== undefined && g.idx <= last) {
      fail(`${where}: publisher ${p.conn}'s messages out of order (or repeated)`, { arrivals: got.map((x) => x.idx) });
    }
    lastByConn.set(p.conn, g.idx);
  }
}

/** Every received message is one that was published, intact. */
function checkContent(where: string, got: readonly Got[], pubs: readonly ModelPub[]): void {
  for (const g of got) {
    if (g.idx < 0 || g.idx >= pubs.length) fail(`${where}: unknown message`, g);
    const { idx, ...actual } = g;
    expect(actual, `${where}: message ${idx}`).toEqual(pubs[idx].delivery);
  }
}

function check(sc: Scenario, exp: Expectation, out: Outcome): void {
  const { pubs, subs } = exp;
  const perConn = sc.noEcho.map(() => 0);
  for (const s of subs) {
    const got = out.got[s.id];
    const where = `sub ${s.id} (conn ${s.conn}, ${s.spec.pattern.join('.')}${s.spec.queue === null ? '' : ` queue ${s.spec.queue}`}${s.spec.max > 0 ? ` max ${s.spec.max}` : ''})`;
    perConn[s.conn] += got.length;
    checkContent(where, got, pubs);
    checkOrder(where, got, pubs);
    if (s.spec.queue !== null) continue;

    // Plain subscription: every matching message, or with `max` N the first N of them in some
    // order the server could have seen them (phases in order, each publisher's in order).
    const candidates = exp.plain.get(s.id)!;
    const want = s.spec.max > 0 ? Math.min(s.spec.max, candidates.length) : candidates.length;
    const ids = got.map((g) => g.idx);
    const allowed = new Set(candidates);
    const extra = ids.filter((i) => !allowed.has(i));
    if (extra.length > 0 || ids.length !== want) fail(`${where}: received the wrong messages`, { received: ids, expected: candidates, want });
    if (ids.length > 0) {
      const lastPhase = pubs[ids[ids.length - 1]].phase;
      const seen = new Set(ids);
      for (const c of candidates) {
        if (seen.has(c)) continue;
        const p = pubs[c];
        // Missed a message from an earlier phase, or an earlier message of the same publisher.
        const skipped = p.phase < lastPhase || ids.some((i) => pubs[i].conn === p.conn && i > c);
        if (skipped) fail(`${where}: skipped message ${c}`, { received: ids, expected: candidates });
      }
    }
  }

  // Queue groups: each message with at least one eligible member goes to exactly one of them.
  const queueNames = new Set([...exp.queues.keys(), ...subs.flatMap((s) => (s.spec.queue === null ? [] : [s.spec.queue]))]);
  for (const q of queueNames) {
    const expected = exp.queues.get(q) ?? new Map<number, Set<number>>();
    const taker = new Map<number, number>();
    for (const s of subs) {
      if (s.spec.queue !== q) continue;
      for (const g of out.got[s.id]) {
        const prev = taker.get(g.idx);
        if (prev !== undefined) fail(`queue ${q}: message ${g.idx} delivered twice`, { members: [prev, s.id] });
        taker.set(g.idx, s.id);
        const eligible = expected.get(g.idx);
        if (eligible === undefined || !eligible.has(s.id)) {
          fail(`queue ${q}: message ${g.idx} went to sub ${s.id}, not an eligible member`, { eligible: [...(eligible ?? [])] });
        }
      }
    }
    const missing = [...expected.keys()].filter((i) => !taker.has(i));
    if (missing.length > 0) fail(`queue ${q}: no member received`, { missing, received: [...taker.keys()] });
  }

  // Nothing arrived that the client dropped (past a `max`, or for a removed sid).
  expect(out.inMsgs, 'messages read per connection').toEqual(perConn);
}

// ---- Properties ---------------------------------------------------------------------------

describe('routing through the official client (model-based)', () => {
  it('delivers what the reference model says: wildcards, echo, max, queue groups, order', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const prefix = `r${++runCounter}`;
        const exp = model(sc, prefix);
        const out = await play(sc, prefix);
        check(sc, exp, out);
      }),
      params(500),
    );
  }, 120_000);

  it('spreads a queue group: over 200 messages every one of 3 members gets some', async () => {
    const memberPattern = fc.constantFrom(['x', 'y'], ['x', '*'], ['x', '>'], ['*', 'y'], ['>']);
    await fc.assert(
      fc.asyncProperty(
        fc.array(memberPattern, { minLength: 3, maxLength: 3 }),
        // 0-2: one of the members' connections publishes; 3: a connection of its own.
        fc.integer({ min: 0, max: 3 }),
        async (patterns, publisher) => {
          const prefix = `s${++runCounter}`;
          const conns = await openConns([false, false, false, false]);
          try {
            const subs = patterns.map((p, i) => conns[i].subscribe([prefix, ...p].join('.'), { queue: 'workers' }));
            await flushAll(conns);
            const total = 200;
            for (let i = 0; i < total; i++) conns[publisher].publish(`${prefix}.x.y`, String(i));
            await flushAll(conns);
            await flushAll(conns);
            const counts = subs.map((s) => s.getReceived());
            expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
            for (const c of counts) expect(c).toBeGreaterThan(0);
            expect(conns.map((nc) => nc.stats().inMsgs)).toEqual([...counts, 0]);
          } finally {
            await closeAll(conns);
          }
        },
      ),
      params(50),
    );
  }, 60_000);
});
