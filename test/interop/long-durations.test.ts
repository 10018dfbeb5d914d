/**
 * Durations longer than Node's timers hold (2^31-1 ms, about 24.8 days). Go waits the full time;
 * a Node timer given more fires after 1 ms. A 30-day stream `max_age` (a common KV TTL), a long
 * ack wait or a `720h` auth timeout must neither act at once nor spin a timer every millisecond.
 */
import { describe, expect, it } from 'vitest';
import { useProcessWarnings } from '../helpers/warnings.js';
import { jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { useScope } from '../helpers/scope.js';
import { WireClient } from '../helpers/wire.js';
import { useTempDirs } from '../helpers/temp-dirs.js';
import { jwtConnect, makeAccount, makeOperator, makeUser, nonceSigner } from '../helpers/jwt.js';

const scope = useScope();
const tempDir = useTempDirs('nats-embedded-long-durations-');
const DAY_NS = 24 * 3600 * 1e9;
const DAY_MS = 24 * 3600 * 1000;

const warnings = useProcessWarnings();

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('durations past 24.8 days', () => {
  it('a stream with a 30-day max_age keeps its messages, a consumer with a 30-day ack wait does not redeliver', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'LONG', subjects: ['long.>'], max_age: 30 * DAY_NS });
    await jsm.consumers.add('LONG', { durable_name: 'C', ack_policy: AckPolicy.Explicit, ack_wait: 30 * DAY_NS, inactive_threshold: 0 });
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    await js.publish('long.a', 'x');
    const c = await js.consumers.get('LONG', 'C');
    const m = await c.next({ expires: 1000 });
    expect(m?.subject).toBe('long.a');
    await settle(150);
    expect((await jsm.streams.info('LONG')).state.messages).toBe(1);
    const ci = await jsm.consumers.info('LONG', 'C');
    expect([ci.num_ack_pending, ci.num_redelivered]).toEqual([1, 0]);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it("an auth timeout of 30 days leaves a silent client connected (Go's timer waits)", async () => {
    const s = await scope.server({ authorization: { token: 't', timeout: 30 * DAY_MS } });
    const w = await WireClient.open(s.port);
    scope.defer(() => w.close());
    await settle(150);
    expect(w.closed).toBe(false);
    w.send('CONNECT {"verbose":false,"auth_token":"t"}\r\nPING\r\n');
    await w.expect('PONG\r\n');
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('a service export with a 30-day response threshold keeps a pending response route without spinning', async () => {
    const s = await scope.server({
      accounts: {
        A: { users: [{ user: 'a', password: 'a' }], exports: [{ service: 'svc', responseType: 'stream', responseThreshold: 30 * DAY_MS }] },
        B: { users: [{ user: 'b', password: 'b' }], imports: [{ service: { account: 'A', subject: 'svc' } }] },
      },
    });
    const a = await scope.client(s, { user: 'a', pass: 'a' });
    const b = await scope.client(s, { user: 'b', pass: 'b' });
    const replies: string[] = [];
    a.subscribe('svc', { callback: (_e, m) => void (m.respond('1'), setTimeout(() => m.respond('2'), 100)) });
    await a.flush();
    const inbox = b.subscribe('my.inbox', { callback: (_e, m) => void replies.push(m.string()) });
    await b.flush();
    b.publish('svc', '', { reply: 'my.inbox' });
    await settle(250);
    inbox.unsubscribe();
    expect(replies).toEqual(['1', '2']);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('leaf node and gateway listeners with a 30-day auth timeout leave a silent peer connected', async () => {
    const s = await scope.server({
      leafnodes: { port: 0, authorization: { user: 'l', password: 'l', timeout: 30 * DAY_MS } },
      gateway: { name: 'G', authorization: { user: 'g', password: 'g', timeout: 30 * DAY_MS } },
    });
    const leaf = await WireClient.open(s.leafnodePort);
    const gw = await WireClient.open(Number(new URL(s.gatewayUrl!).port));
    scope.defer(() => leaf.close());
    scope.defer(() => gw.close());
    await settle(150);
    expect([leaf.closed, gw.closed]).toEqual([false, false]);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('a directory resolver with a 720h interval sends no PACK request until then; a 720h lookup timeout keeps the CONNECT waiting', async () => {
    const op = makeOperator();
    const sys = makeAccount(op.kp);
    const s = await scope.server({
      operator: op.jwt, systemAccount: sys.pub, resolver: { type: 'full', dir: tempDir(), interval: '720h', timeout: '720h' }, resolverPreload: { [sys.pub]: sys.jwt },
    });
    const sysUser = makeUser(sys.kp);
    const w = await WireClient.open(s.port);
    scope.defer(() => w.close());
    w.send(`${jwtConnect(sysUser.jwt, nonceSigner(sysUser)(w.info.nonce as string))}SUB $SYS.REQ.CLAIMS.PACK 1\r\nSUB $SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP 2\r\nPING\r\n`);
    await w.expect('PONG\r\n');
    // A user of an account this server lacks: its CONNECT waits for the other servers' answers.
    const stranger = makeUser(makeAccount(op.kp).kp);
    const c = await WireClient.open(s.port);
    scope.defer(() => c.close());
    c.send(`${jwtConnect(stranger.jwt, nonceSigner(stranger)(c.info.nonce as string))}PING\r\n`);
    await settle(150);
    // One lookup, no pack request (a clamp-less 720h interval sent one every millisecond).
    expect(w.buffer.match(/^MSG \S+/gm)).toEqual([expect.stringMatching(/^MSG \$SYS\.REQ\.ACCOUNT\.A[A-Z0-9]+\.CLAIMS\.LOOKUP$/)]);
    // Nothing answered yet (a clamp-less 720h timeout refused the CONNECT at once).
    expect([c.buffer, c.closed]).toEqual(['', false]);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});
