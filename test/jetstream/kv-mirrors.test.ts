/**
 * KV buckets on a mirror or with sources through `@nats-io/kv`: the client builds the stream
 * configs (`mirror` with `mirror_direct`, or `sources` with a `$KV.<src>.>` → `$KV.<dst>.>`
 * subject transform) and reads the copies; sourcing.ts does the copying.
 */
import { describe, expect, it } from 'vitest';
import { Kvm } from '@nats-io/kv';
import { jetstreamManager } from '@nats-io/jetstream';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

describe('KV buckets on mirrors and sources', () => {
  it('a mirror bucket holds the origin bucket and answers direct gets of its keys (mirror_direct)', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const kvm = new Kvm(nc);
    const jsm = await jetstreamManager(nc);
    const origin = await kvm.create('origin', { history: 3 });
    await origin.put('a', 'a1');
    await origin.put('b', 'b1');
    await origin.put('a', 'a2');
    const m = await kvm.create('m', { history: 3, mirror: { name: 'origin' } } as never);
    const si = await jsm.streams.info('KV_m');
    expect(si.config).toMatchObject({ mirror: { name: 'KV_origin' }, mirror_direct: true, allow_direct: true, allow_rollup_hdrs: true });
    expect(si.config.subjects).toBeUndefined();
    await eventually(async () => (await m.status()).values === 3, 'the mirror bucket to hold 3 entries');
    await origin.delete('b');
    await origin.put('c', 'c1');
    await eventually(async () => (await m.status()).values === 5, 'the mirror bucket to follow');
    // This client reads a non-external mirror bucket under its own name ($KV.m.<key>), where a
    // mirror holds nothing: nats-server 2.9.10 answers the same (verified).
    expect(await m.get('a')).toBeNull();
    // The origin's keys are served by the mirror too (direct gets on KV_origin in the _sys_
    // queue group): with the origin's direct gets off, only the mirror answers.
    await jsm.streams.update('KV_origin', { allow_direct: false } as never);
    const r = await nc.request('$JS.API.DIRECT.GET.KV_origin.$KV.origin.a', '', { timeout: 2000 });
    expect(r.headers?.get('Nats-Stream')).toBe('KV_m');
    expect(r.headers?.get('Nats-Sequence')).toBe('3');
    expect(r.string()).toBe('a2');
    const o2 = await kvm.open('origin');
    expect((await o2.get('c'))?.string()).toBe('c1');
  });

  it('a bucket with sources gets the keys of the source buckets (2.10 subject transforms)', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const kvm = new Kvm(nc);
    const one = await kvm.create('one');
    const two = await kvm.create('two');
    await one.put('x', '1');
    await two.put('y', '2');
    const agg = await kvm.create('agg', { sources: [{ name: 'one' }, { name: 'two' }] } as never);
    await agg.put('own', '3');
    await eventually(async () => (await agg.get('x'))?.string() === '1' && (await agg.get('y'))?.string() === '2', 'the sourced keys');
    expect((await agg.get('own'))?.string()).toBe('3');
    await one.put('x', '1b');
    await eventually(async () => (await agg.get('x'))?.string() === '1b', 'a sourced update');
  });
});
