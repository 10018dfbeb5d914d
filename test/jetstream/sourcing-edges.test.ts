/**
 * Mirrors and sources at their edges: an origin that already holds 6 MB (the copy's flow-control
 * replies are routed from inside the routing of the deliveries: once a recursion that overflowed
 * the stack and wedged every later PubAck and API reply), and a source whose transform
 * destination is not ASCII resuming after a restart (its Nats-Stream-Source header is UTF-8).
 */
import { describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

describe('sourcing a backlog', () => {
  it.each(['mirror', 'source'] as const)('a %s copies 6000 x 1 KiB already stored, and PubAcks keep coming', async (kind) => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'O', subjects: ['o.>'], storage: 'memory' });
    const payload = new Uint8Array(1024).fill(97);
    for (let i = 0; i < 6000; i += 300) await Promise.all(Array.from({ length: 300 }, () => js.publish('o.a', payload)));
    await jsm.streams.add(kind === 'mirror' ? { name: 'M', mirror: { name: 'O' }, storage: 'memory' } : { name: 'M', sources: [{ name: 'O' }], storage: 'memory' });
    await eventually(async () => (await jsm.streams.info('M')).state.messages === 6000, 'M to hold 6000', 10_000);
    expect((await js.publish('o.b', 'after', { timeout: 2000 })).seq).toBe(6001);
    await eventually(async () => (await jsm.streams.info('M')).state.messages === 6001, 'M to hold 6001', 5000);
  }, 30_000);
});

describe('a source resumes after a restart', () => {
  it('from its last copy when the transform destination is not ASCII: nothing copied twice', async () => {
    const root = mkdtempSync(join(tmpdir(), 'nats-embedded-sourcing-'));
    scope.defer(() => rmSync(root, { recursive: true, force: true }));
    const s = await scope.server({ jetstream: { storeDir: root } });
    let nc = await scope.client(s);
    let jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'O', subjects: ['o.>'], storage: 'file' });
    await jsm.streams.add({ name: 'S', sources: [{ name: 'O', subject_transforms: [{ src: 'o.>', dest: 'ü.>' }] }], storage: 'file' } as never);
    for (let i = 0; i < 3; i++) await jetstream(nc).publish('o.a', `x${i}`);
    await eventually(async () => (await jsm.streams.info('S')).state.messages === 3 || undefined, 'S to hold 3', 10_000);
    await nc.close();
    await s.kill();
    await s.restart();
    nc = await scope.client(s);
    jsm = await jetstreamManager(nc);
    await jetstream(nc).publish('o.a', 'x3');
    await eventually(async () => (await jsm.streams.info('S')).state.messages >= 4 || undefined, 'S to copy the new one', 15_000);
    // Give a wrong resume point time to copy the first three again.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await jsm.streams.info('S')).state.messages).toBe(4);
    const last = await jsm.streams.getMessage('S', { seq: 4 });
    expect([last?.subject, last?.string()]).toEqual(['ü.a', 'x3']);
  }, 40_000);
});
