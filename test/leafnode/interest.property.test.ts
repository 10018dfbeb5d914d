/**
 * Interest across a leaf connection against a model (fast-check): random subscriptions (plain
 * and queue) and unsubscriptions on a hub and its leaf node, random publications on either side;
 * every message reaches each matching plain subscription once, and each matching queue group
 * once — on the publisher's side when the group has a member there (nats-server 2.10's
 * preference), else on the other side.
 */
import { beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';

const scope = useScope('file');
const SUBJECTS = ['a', 'b', 'a.x', '*', '>', 'a.*'] as const;
const PUBLISHED = ['a', 'b', 'a.x', 'a.y'] as const;
const QUEUES = [null, 'q1', 'q2'] as const;

type Side = 0 | 1; // 0 hub, 1 leaf
interface ModelSub {
  id: number;
  side: Side;
  subject: string;
  queue: string | null;
  sub: Subscription;
}
type Op =
  | { kind: 'sub'; side: Side; subject: string; queue: string | null }
  | { kind: 'unsub'; pick: number }
  | { kind: 'pub'; side: Side; subject: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('sub' as const), side: fc.constantFrom<Side>(0, 1), subject: fc.constantFrom(...SUBJECTS), queue: fc.constantFrom(...QUEUES) }),
  fc.record({ kind: fc.constant('unsub' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('pub' as const), side: fc.constantFrom<Side>(0, 1), subject: fc.constantFrom(...PUBLISHED) }),
);

function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

let servers: [NatsServer, NatsServer];
let clients: [NatsConnection, NatsConnection];
let barrierSeq = 0;

beforeAll(async () => {
  const hub = await scope.server({ leafnodes: { port: 0 }, seed: 7 });
  const leaf = await scope.server({ leafnodes: { reconnect: 50, remotes: [{ url: hub.leafnodeUrl! }] }, seed: 11 });
  servers = [hub, leaf];
  clients = [await scope.client(hub), await scope.client(leaf)];
});

/** Every interest change made so far on `side` has reached the other side (one ordered leaf connection). */
async function settleInterest(side: Side): Promise<void> {
  const subject = `barrier.i.${barrierSeq++}`;
  const s = clients[side].subscribe(subject);
  await clients[side].flush();
  await servers[1 - side].waitForSubscription(subject, { timeoutMs: 5000 });
  s.unsubscribe();
  await clients[side].flush();
}

/** Everything published so far has been delivered: a barrier message through each side's connection, to both sides. */
async function settleDeliveries(): Promise<void> {
  const bar = `barrier.m.${barrierSeq++}`;
  const seen = [0, 0];
  const bs = clients.map((c, i) => c.subscribe(bar, { callback: () => void seen[i]++ }));
  for (const c of clients) await c.flush();
  await settleInterest(0);
  await settleInterest(1);
  for (const c of clients) c.publish(bar, '');
  for (const c of clients) await c.flush();
  const deadline = Date.now() + 5000;
  while ((seen[0] < 2 || seen[1] < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  for (const b of bs) b.unsubscribe();
  expect(seen).toEqual([2, 2]);
}

it('delivers as the model of interest says, across the leaf connection', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
      const live: ModelSub[] = [];
      const got = new Map<number, string[]>();
      const expected = new Map<number, string[]>();
      const groupsHit: Array<{ msg: string; candidates: number[]; preferred: number[] }> = [];
      let nextId = 0;
      let msgSeq = 0;
      let inFlight = false;
      try {
        for (const o of ops) {
          if (o.kind === 'sub') {
            // A message still in flight must not reach a subscription made after it was published.
            if (inFlight) await settleDeliveries();
            inFlight = false;
            const id = nextId++;
            got.set(id, []);
            expected.set(id, []);
            const sub = clients[o.side].subscribe(o.subject, { queue: o.queue ?? undefined, callback: (_e, m) => {
              // Wildcard subscriptions also see the barriers (`barrier.*`), which are not part of the model.
              if (!m.subject.startsWith('barrier.')) got.get(id)!.push(m.string());
            } });
            live.push({ id, side: o.side, subject: o.subject, queue: o.queue, sub });
            await settleInterest(o.side);
          } else if (o.kind === 'unsub') {
            if (live.length === 0) continue;
            // What was published before reaches it first.
            if (inFlight) await settleDeliveries();
            inFlight = false;
            const [s] = live.splice(o.pick % live.length, 1);
            s.sub.unsubscribe();
            await settleInterest(s.side);
          } else {
            const msg = `m${msgSeq++}`;
            for (const s of live) if (s.queue === null && matches(s.subject, o.subject)) expected.get(s.id)!.push(msg);
            const groups = new Map<string, ModelSub[]>();
            for (const s of live) {
              if (s.queue === null || !matches(s.subject, o.subject)) continue;
              // A group is a queue name: nats-server's sublist merges the members of one name
              // across the matching subscription subjects (sublist.go addNodeToResults).
              const key = s.queue;
              groups.set(key, [...(groups.get(key) ?? []), s]);
            }
            for (const members of groups.values()) {
              const near = members.filter((m) => m.side === o.side);
              groupsHit.push({ msg, candidates: members.map((m) => m.id), preferred: (near.length > 0 ? near : members).map((m) => m.id) });
            }
            clients[o.side].publish(o.subject, msg);
            inFlight = true;
          }
        }
        await settleDeliveries();
        // Plain subscriptions: exactly the matching messages, once each.
        for (const [id, want] of expected) {
          const plain = got.get(id)!.filter((m) => !groupsHit.some((g) => g.msg === m && g.candidates.includes(id)));
          expect(plain.sort()).toEqual([...want].sort());
        }
        // Queue groups: one member each message, on the publisher's side when it has one there.
        for (const g of groupsHit) {
          const receivers = g.candidates.filter((id) => got.get(id)!.includes(g.msg));
          expect(receivers).toHaveLength(1);
          expect(g.preferred).toContain(receivers[0]);
        }
      } finally {
        for (const s of live) s.sub.unsubscribe();
        await settleInterest(0);
        await settleInterest(1);
      }
    }),
    { numRuns: 15, seed: Number(process.env.FC_SEED ?? 20261201) },
  );
});
