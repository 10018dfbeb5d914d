/**
 * The internal-client seam: subscribers and publishers inside the process with no socket (what
 * JetStream's API handlers and system request handlers are built on), used with the official
 * client on the other side.
 */
import { describe, expect, it } from 'vitest';
import { headers } from '@nats-io/transport-node';
import type { BrokerCore } from '../../src/broker/core.js';
import type { NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

/** The embedded broker behind a handle (internal: tests only). */
function coreOf(s: NatsServer): BrokerCore {
  return (s as unknown as { backend_: { core: BrokerCore } }).backend_.core;
}

describe('internal clients', () => {
  it('an internal subscriber answers a client request; the client sees a normal reply', async () => {
    const s = await scope.server();
    const svc = coreOf(s).internalClient('echo service');
    svc.subscribe('svc.echo', (msg) => svc.publish(msg.reply, Buffer.from(`echo: ${msg.data.toString()}`)));
    await s.waitForSubscription('svc.echo');
    const nc = await scope.client(s);
    const reply = await nc.request('svc.echo', 'hi', { timeout: 2000 });
    expect(reply.string()).toBe('echo: hi');
  });

  it('sees headers and reply subjects, and publishes with headers to client subscribers', async () => {
    const s = await scope.server();
    const core = coreOf(s);
    const seen: Array<{ subject: string; reply: string; headers: string | null; data: string }> = [];
    const listener = core.internalClient('listener');
    listener.subscribe('in.>', (m) => void seen.push({ subject: m.subject, reply: m.reply, headers: m.headers?.toString() ?? null, data: m.data.toString() }));
    const nc = await scope.client(s);
    const got: Array<{ data: string; h: string | undefined }> = [];
    nc.subscribe('out', { callback: (_e, m) => void got.push({ data: m.string(), h: m.headers?.get('X-From') }) });
    await nc.flush();
    const h = headers();
    h.set('X-Test', '1');
    nc.publish('in.a', 'payload', { headers: h, reply: 'my.reply' });
    await nc.flush();
    expect(seen).toEqual([{ subject: 'in.a', reply: 'my.reply', headers: 'NATS/1.0\r\nX-Test: 1\r\n\r\n', data: 'payload' }]);
    core.internalClient('publisher').publish('out', 'from inside', { headers: Buffer.from('NATS/1.0\r\nX-From: broker\r\n\r\n') });
    await eventually(() => got.length === 1, 'the internal publication');
    expect(got).toEqual([{ data: 'from inside', h: 'broker' }]);
  });

  it('a publication made inside a handler is routed after the fan-out in progress', async () => {
    const s = await scope.server();
    const core = coreOf(s);
    const order: string[] = [];
    const a = core.internalClient('a');
    const b = core.internalClient('b');
    a.subscribe('evt', () => {
      order.push('a got evt');
      a.publish('followup', 'x');
      order.push('a published followup');
    });
    b.subscribe('evt', () => void order.push('b got evt'));
    b.subscribe('followup', () => void order.push('b got followup'));
    core.internalClient('source').publish('evt', 'go');
    // Subscribers of `evt` are tried in sublist order; whatever it is, the follow-up comes after both.
    expect(order.indexOf('b got followup')).toBe(order.length - 1);
    expect(order).toContain('a published followup');
    expect(order.filter((o) => o.endsWith('got evt'))).toHaveLength(2);
  });

  it('a handler that throws is an internal error: counted, the publisher keeps its connection', async () => {
    const s = await scope.server();
    const errors: unknown[] = [];
    s.on('internalError', (e) => void errors.push(e));
    const bad = coreOf(s).internalClient('bad');
    bad.subscribe('boom', () => {
      throw new Error('handler bug');
    });
    const nc = await scope.client(s);
    const got: string[] = [];
    nc.subscribe('boom', { callback: (_e, m) => void got.push(m.string()) });
    await nc.flush();
    nc.publish('boom', 'still delivered');
    await nc.flush();
    expect(got).toEqual(['still delivered']);
    expect(s.stats().internalErrors).toBe(1);
    expect((errors[0] as Error).message).toBe('handler bug');
    expect(nc.isClosed()).toBe(false);
  });

  it('a routing that throws (a bug) loses its own message only: the publications queued after it keep their subject, headers and bytes', async () => {
    const s = await scope.server();
    const core = coreOf(s);
    // The router reuses queue slots and their PubArgs; a failure in the middle of a drain moves
    // the rest to the front. Inject the failure where no real bug is known today.
    const router = (core as unknown as { router: { route: (...args: unknown[]) => void } }).router;
    const route = router.route.bind(router);
    let armed = true;
    router.route = (...args: unknown[]) => {
      if (armed && (args[2] as { subject: string }).subject === 'boom') {
        armed = false;
        throw new Error('routing bug');
      }
      route(...args);
    };
    const seen: string[] = [];
    const sink = core.internalClient('sink');
    sink.subscribe('out.>', (m) => void seen.push(`${m.subject}=${m.data.toString()}${m.headers === null ? '' : ` [${m.headers.toString().trim()}]`}`));
    const src = core.internalClient('src');
    src.subscribe('go', () => {
      src.publish('out.1', 'one');
      src.publish('boom', 'x');
      src.publish('out.2', 'two', { headers: Buffer.from('NATS/1.0\r\nA: b\r\n\r\n') });
      src.publish('out.3', 'three');
    });
    expect(() => core.internalClient('t').publish('go', '')).toThrow('routing bug');
    expect(seen).toEqual(['out.1=one']);
    // The next routing drains what was queued after the failure, intact and in order.
    core.internalClient('t2').publish('nothing', '');
    expect(seen).toEqual(['out.1=one', 'out.2=two [NATS/1.0\r\nA: b]', 'out.3=three']);
    // And the slots keep working for ordinary traffic.
    src.publish('out.4', 'four');
    expect(seen.at(-1)).toBe('out.4=four');
  });

  it('close() drops its subscriptions', async () => {
    const s = await scope.server();
    const c = coreOf(s).internalClient('temp');
    c.subscribe('gone.soon', () => undefined);
    expect(s.subscriptions()).toEqual([]); // internal subscriptions are not client subscriptions
    expect(s.stats().subscriptions).toBe(1);
    c.close();
    expect(s.stats().subscriptions).toBe(0);
  });
});
