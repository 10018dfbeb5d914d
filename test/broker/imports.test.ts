/**
 * The bookkeeping behind account imports (broker/imports.ts), seen from inside the embedded
 * broker: shadow subscriptions come and go with the importer's subscriptions and connections,
 * response routes are dropped after a singleton's answer, on no delivery, and when the
 * threshold passes, a reload rebuilds the imports (existing subscriptions included), an
 * internal subscriber (what JetStream's sourcing uses) gets stream imports too, and
 * `createServer()` refuses what nats-server refuses.
 */
import { describe, expect, it } from 'vitest';
import type { BrokerCore } from '../../src/broker/core.js';
import { ConfigError, createServer, type NatsServer, type ServerOptions } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

function coreOf(s: NatsServer): BrokerCore {
  return (s as unknown as { backend_: { core: BrokerCore } }).backend_.core;
}

const OPTIONS = {
  accounts: {
    A: { users: [{ user: 'a', password: 'a' }], exports: [{ stream: 'ev.>' }, { service: 'svc.>', responseThreshold: '150ms' }, { service: 'many', responseType: 'stream', responseThreshold: '150ms' }] },
    B: {
      users: [{ user: 'b', password: 'b' }],
      imports: [
        { stream: { account: 'A', subject: 'ev.>' }, prefix: 'from.a' },
        { service: { account: 'A', subject: 'svc.>' } },
        { service: { account: 'A', subject: 'many' } },
      ],
    },
  },
} satisfies ServerOptions;

const sizeOf = (core: BrokerCore, name: string): number => core.accounts.get(name)!.sublist.size;

describe('shadow subscriptions', () => {
  it('exist while the importer\'s subscription does: unsubscribe, auto-unsubscribe and close remove them', async () => {
    const s = await scope.server(OPTIONS);
    const core = coreOf(s);
    const base = sizeOf(core, 'A');
    const b = await scope.client(s, { user: 'b', pass: 'b' });
    const sub = b.subscribe('from.a.ev.1');
    b.subscribe('unrelated.>');
    const limited = b.subscribe('from.a.>', { max: 1 });
    await b.flush();
    expect(sizeOf(core, 'A')).toBe(base + 2);
    sub.unsubscribe();
    await b.flush();
    expect(sizeOf(core, 'A')).toBe(base + 1);
    const a = await scope.client(s, { user: 'a', pass: 'a' });
    a.publish('ev.x', 'one');
    await a.flush();
    await eventually(() => limited.getReceived() === 1 || undefined, 'the one message');
    await b.flush();
    expect(sizeOf(core, 'A')).toBe(base);
    b.subscribe('from.a.>');
    await b.flush();
    expect(sizeOf(core, 'A')).toBe(base + 1);
    await b.close();
    await eventually(() => sizeOf(core, 'A') === base || undefined, 'the shadows of a closed connection to go');
  });

  it('make exact interest in the exporting account: the subject without the prefix, the reverse of a `to` mapping', async () => {
    const s = await scope.server({
      accounts: {
        A: { users: [{ user: 'a', password: 'a' }], exports: [{ stream: 'ev.>' }, { stream: 'o.*.*' }] },
        B: {
          users: [{ user: 'b', password: 'b' }],
          imports: [{ stream: { account: 'A', subject: 'ev.>' }, prefix: 'from.a' }, { stream: { account: 'A', subject: 'o.*.*' }, to: 'b.$2.$1' }],
        },
      },
    });
    const core = coreOf(s);
    const b = await scope.client(s, { user: 'b', pass: 'b' });
    b.subscribe('from.a.ev.x.*');
    b.subscribe('b.42.*');
    await b.flush();
    const subjects = (subject: string): string[] => core.account('A').sublist.match(subject).psubs.map((x) => x.subject);
    expect(subjects('ev.x.1')).toEqual(['ev.x.*']);
    expect(subjects('ev.y.1')).toEqual([]);
    expect(subjects('o.eu.42')).toEqual(['o.*.42']);
    expect(subjects('o.eu.43')).toEqual([]);
  });

  it('an internal subscriber in the importing account gets the stream import too', async () => {
    const s = await scope.server(OPTIONS);
    const core = coreOf(s);
    const got: string[] = [];
    core.internalClient('sourcing', core.account('B')).subscribe('from.a.ev.*', (m) => void got.push(`${m.subject} ${m.data.toString()}`));
    const a = await scope.client(s, { user: 'a', pass: 'a' });
    a.publish('ev.9', 'x');
    await a.flush();
    await eventually(() => got.length === 1 || undefined, 'the import');
    expect(got).toEqual(['from.a.ev.9 x']);
  });
});

describe('response routes', () => {
  it('go after a singleton\'s response, when the request reaches nobody, and after the threshold', async () => {
    const s = await scope.server(OPTIONS);
    const core = coreOf(s);
    const A = core.account('A');
    const pending = (): number => core.links!.pendingResponses(A);
    const a = await scope.client(s, { user: 'a', pass: 'a' });
    const b = await scope.client(s, { user: 'b', pass: 'b' });
    a.subscribe('svc.answer', { callback: (_e, m) => void m.respond('ok') });
    a.subscribe('svc.silent');
    a.subscribe('many', { callback: (_e, m) => { m.respond('1'); m.respond('2'); } });
    await a.flush();
    const before = { ...core.stats };
    expect((await b.request('svc.answer', '', { timeout: 1000 })).string()).toBe('ok');
    expect(pending()).toBe(0);
    // As nats-server's /varz (checked with 2.9.10): the request and the response are 2 messages
    // in and 2 out, whatever the imports they crossed.
    expect([core.stats.inMsgs - before.inMsgs, core.stats.outMsgs - before.outMsgs]).toEqual([2, 2]);
    await b.request('svc.nobody', '', { timeout: 1000 }).catch(() => undefined);
    expect(pending()).toBe(0);
    const inbox = b.subscribe('inbox.>');
    await b.flush();
    b.publish('svc.silent', '', { reply: 'inbox.1' });
    b.publish('many', '', { reply: 'inbox.2' });
    await b.flush();
    await a.flush();
    await eventually(() => inbox.getReceived() === 2 || undefined, 'the stream responses');
    expect(pending()).toBe(2);
    // Threshold 150 ms: the check runs every threshold.
    await eventually(() => pending() === 0 || undefined, 'the routes to expire', 2000);
  });
});

describe('response routes and the requester\'s interest', () => {
  it('go when the requester unsubscribes its reply subject (or closes), not while another subscription covers it', async () => {
    const s = await scope.server({
      accounts: {
        A: { users: [{ user: 'a', password: 'a' }], exports: [{ service: 'slow', responseType: 'stream', responseThreshold: '1m' }] },
        B: { users: [{ user: 'b', password: 'b' }], imports: [{ service: { account: 'A', subject: 'slow' } }] },
      },
    });
    const core = coreOf(s);
    const pending = (): number => core.links!.pendingResponses(core.account('A'));
    const a = await scope.client(s, { user: 'a', pass: 'a' });
    a.subscribe('slow');
    await a.flush();
    const b = await scope.client(s, { user: 'b', pass: 'b' });
    const exact = b.subscribe('inbox.1');
    const wide = b.subscribe('inbox.*');
    await b.flush();
    b.publish('slow', '', { reply: 'inbox.1' });
    b.publish('slow', '', { reply: 'inbox.2' });
    await b.flush();
    await a.flush();
    expect(pending()).toBe(2);
    exact.unsubscribe();
    await b.flush();
    expect(pending()).toBe(2);
    wide.unsubscribe();
    await b.flush();
    expect(pending()).toBe(0);
    const b2 = await scope.client(s, { user: 'b', pass: 'b' });
    b2.subscribe('inbox.>');
    await b2.flush();
    b2.publish('slow', '', { reply: 'inbox.3' });
    await b2.flush();
    await a.flush();
    expect(pending()).toBe(1);
    await b2.close();
    await eventually(() => pending() === 0 || undefined, 'the route of a closed requester to go');
  });
});

describe('reload', () => {
  it('rebuilds imports: existing subscriptions get their shadows, removed imports stop', async () => {
    const s = await scope.server({ accounts: { A: { users: [{ user: 'a', password: 'a' }] }, B: { users: [{ user: 'b', password: 'b' }] } } });
    const a = await scope.client(s, { user: 'a', pass: 'a' });
    const b = await scope.client(s, { user: 'b', pass: 'b' });
    const got: string[] = [];
    b.subscribe('from.a.>', { callback: (_e, m) => void got.push(m.subject) });
    await b.flush();
    await s.reload(OPTIONS);
    a.publish('ev.1', '');
    await a.flush();
    await eventually(() => got.length === 1 || undefined, 'the import after reload');
    await s.reload({ accounts: { A: { users: [{ user: 'a', password: 'a' }] }, B: { users: [{ user: 'b', password: 'b' }] } } });
    expect(coreOf(s).links).toBeNull();
    a.publish('ev.2', '');
    b.publish('from.a.marker', '');
    await a.flush();
    await eventually(() => got.length === 2 || undefined, 'the marker');
    expect(got).toEqual(['from.a.ev.1', 'from.a.marker']);
  });
});

describe('createServer() options', () => {
  const refuse = async (accounts: ServerOptions['accounts'], text: string): Promise<void> => {
    const err = await createServer({ accounts }).then(async (srv) => {
      await srv.close();
      return null;
    }, (e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(text);
  };

  it('refuses what nats-server refuses, in its words', async () => {
    await refuse({ A: { exports: [{ stream: 'x', accounts: ['B'] }] }, B: {}, C: { imports: [{ stream: { account: 'A', subject: 'x' } }] } },
      'Error adding stream import "x": stream import not authorized');
    await refuse({ A: { imports: [{ service: { account: 'Z', subject: 'x' } }] } }, '"Z" account not defined for service import');
    await refuse({ A: { exports: [{ stream: 'x' }] }, B: { imports: [{ stream: { account: 'A', subject: 'x' }, prefix: 'p.>' }] } },
      'stream import prefix can not contain wildcard tokens');
    await refuse({ A: { exports: [{ service: 'x', responseType: 'many' as never }] } }, 'Unknown response type: "many"');
    await refuse({ A: { exports: [{ service: 'x', responseThreshold: 'soon' }] } }, 'accounts.A.exports[0].responseThreshold');
    await refuse({ A: { imports: [{ stream: { account: 'B', subject: 'x' }, prefix: 'p', to: 't' }] }, B: {} }, "Stream import can not have a 'prefix' and a 'to' property");
    await refuse({ A: { exports: [{ stream: 'x', service: 'y' } as never] } }, 'needs exactly one of stream or service');
    await refuse({ A: { imports: [{ stream: { account: 'B' } } as never] }, B: {} }, 'Expect an account name and a subject');
  });
});

describe('non-ASCII subjects in exports and imports', () => {
  // Configured subjects are text; the wire carries their UTF-8 bytes (nats-server compares bytes).
  it('a stream import and a service import of subjects with ü, € and an emoji deliver as configured', async () => {
    const s = await scope.server({
      accounts: {
        A: { users: [{ user: 'a', password: 'a' }], exports: [{ stream: 'ü.>' }, { service: 'dienst.€' }] },
        B: {
          users: [{ user: 'b', password: 'b' }],
          imports: [
            { stream: { account: 'A', subject: 'ü.>' }, prefix: 'von.😀' },
            { service: { account: 'A', subject: 'dienst.€' }, to: 'frage.é' },
          ],
        },
      },
    });
    const a = await scope.client(s, { user: 'a', pass: 'a' });
    const b = await scope.client(s, { user: 'b', pass: 'b' });
    const got: string[] = [];
    b.subscribe('von.😀.ü.>', { callback: (_e, m) => void got.push(`${m.subject} ${m.string()}`) });
    a.subscribe('dienst.€', { callback: (_e, m) => void m.respond(`antwort auf ${m.string()}`) });
    await b.flush();
    await a.flush();
    a.publish('ü.x', 'eins');
    await eventually(() => got.length === 1 || undefined, 'the imported message');
    expect(got).toEqual(['von.😀.ü.x eins']);
    const r = await b.request('frage.é', 'zwei', { timeout: 2000 });
    expect(r.string()).toBe('antwort auf zwei');
  });

  it('Nats-Request-Info names a non-ASCII account in UTF-8', async () => {
    const s = await scope.server({
      accounts: {
        A: { users: [{ user: 'a', password: 'a' }], exports: [{ service: 'svc' }] },
        'Bü€': { users: [{ user: 'b', password: 'b' }], imports: [{ service: { account: 'A', subject: 'svc' } }] },
      },
    });
    const a = await scope.client(s, { user: 'a', pass: 'a' });
    const b = await scope.client(s, { user: 'b', pass: 'b' });
    a.subscribe('svc', { callback: (_e, m) => void m.respond(m.headers?.get('Nats-Request-Info') ?? 'none') });
    await a.flush();
    const r = await b.request('svc', 'x', { timeout: 2000 });
    expect(JSON.parse(r.string())).toMatchObject({ acc: 'Bü€' });
  });
});
