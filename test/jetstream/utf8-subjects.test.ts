/**
 * Non-ASCII subjects in what the conformance suite (test/conformance/jetstream-utf8.test.ts)
 * cannot compare with nats-server 2.9.10: the 2.10 features (a consumer's `filter_subjects`, a
 * stream's `subject_transform`, a source's `subject_transforms`), and a file stream, its
 * consumers and its source coming back after a restart with their subjects, filters and
 * positions. Behaviour follows nats-server 2.10.29, which compares subjects as bytes and
 * stores configs as JSON text.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import { storedMessages } from '../helpers/stream-messages.js';

const scope = useScope();
const U = 'ü';
const E = '€';
const F = '😀';

function tempStore(): string {
  const root = mkdtempSync(join(tmpdir(), 'nats-embedded-utf8-'));
  scope.defer(() => rmSync(root, { recursive: true, force: true }));
  return join(root, 'store');
}

async function subjectsOf(jsm: JetStreamManager, stream: string): Promise<Record<string, number>> {
  return (await jsm.streams.info(stream, { subjects_filter: '>' })).state.subjects ?? {};
}

async function nextSubjects(nc: NatsConnection, stream: string, consumer: string, n: number): Promise<string[]> {
  const c = await jetstream(nc).consumers.get(stream, consumer);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const m = await c.next({ expires: 1000 });
    if (m === null) break;
    m.ack();
    out.push(m.subject);
  }
  return out;
}

describe('non-ASCII subjects in JetStream (2.10 features, restarts)', () => {
  it('a file stream with transforms, filtered consumers and a filtered source comes back after a restart', async () => {
    const storeDir = tempStore();
    const s = await scope.server({ jetstream: { storeDir } });
    let nc = await scope.client(s);
    let jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({
      name: 'U', storage: 'file' as never, subjects: ['u.>', `${E}.*`, `t.${U}.*`],
      subject_transform: { src: `t.${U}.*`, dest: `tt.${E}.{{wildcard(1)}}` },
    });
    for (const subj of [`u.${U}`, `u.${E}`, `u.${F}`, `${E}.a`, `t.${U}.${F}`]) await js.publish(subj, subj);
    expect(await subjectsOf(jsm, 'U')).toEqual({ [`u.${U}`]: 1, [`u.${E}`]: 1, [`u.${F}`]: 1, [`${E}.a`]: 1, [`tt.${E}.${F}`]: 1 });

    await jsm.consumers.add('U', { durable_name: 'MULTI', filter_subjects: [`u.${E}`, `tt.${E}.*`], ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add('U', { durable_name: 'ONE', filter_subject: `u.${U}`, ack_policy: AckPolicy.Explicit });
    expect((await jsm.consumers.info('U', 'MULTI')).num_pending).toBe(2);
    expect(await nextSubjects(nc, 'U', 'MULTI', 1)).toEqual([`u.${E}`]);

    await jsm.streams.add({
      name: 'S', storage: 'file' as never,
      sources: [{ name: 'U', subject_transforms: [{ src: `${E}.*`, dest: `s.${U}.{{wildcard(1)}}` }] }],
    });
    await eventually(async () => (await jsm.streams.info('S')).state.messages === 1, 'the sourced copy');
    expect((await storedMessages(jsm, 'S')).map((m) => m.subject)).toEqual([`s.${U}.a`]);
    await nc.close();

    // The stored configs are JSON text, as nats-server writes them: the characters, not their bytes as latin1.
    const meta = readFileSync(join(storeDir, 'jetstream', '$G', 'streams', 'U', 'meta.json'), 'utf8');
    expect(meta).toContain(`"t.${U}.*"`);
    expect(readFileSync(join(storeDir, 'jetstream', '$G', 'streams', 'U', 'obs', 'MULTI', 'meta.json'), 'utf8')).toContain(`"u.${E}"`);

    await s.kill();
    await s.restart();
    nc = await scope.client(s);
    jsm = await jetstreamManager(nc);
    const si = await jsm.streams.info('U');
    expect(si.config.subjects).toEqual(['u.>', `${E}.*`, `t.${U}.*`]);
    expect(si.config.subject_transform).toEqual({ src: `t.${U}.*`, dest: `tt.${E}.{{wildcard(1)}}` });
    expect((await jsm.consumers.info('U', 'MULTI')).config.filter_subjects).toEqual([`u.${E}`, `tt.${E}.*`]);
    expect((await jsm.consumers.info('U', 'ONE')).config.filter_subject).toBe(`u.${U}`);

    // Captured, transformed and filtered as before the restart; the consumers resume where they were.
    const js2 = jetstream(nc);
    for (const subj of [`t.${U}.x`, `u.${U}`, `${E}.b`]) expect((await js2.publish(subj, subj)).stream).toBe('U');
    expect(await subjectsOf(jsm, 'U')).toMatchObject({ [`tt.${E}.x`]: 1, [`u.${U}`]: 2, [`${E}.b`]: 1 });
    expect((await jsm.consumers.info('U', 'MULTI')).num_pending).toBe(2);
    expect(await nextSubjects(nc, 'U', 'MULTI', 3)).toEqual([`tt.${E}.${F}`, `tt.${E}.x`]);
    expect(await nextSubjects(nc, 'U', 'ONE', 3)).toEqual([`u.${U}`, `u.${U}`]);
    const last = await jsm.streams.getMessage('U', { last_by_subj: `tt.${E}.x` });
    expect(last?.seq).toBe(6);

    // The source resumes after its last copy (the Nats-Stream-Source header read back): no duplicates.
    await eventually(async () => (await jsm.streams.info('S')).state.messages === 2, 'the new sourced copy');
    expect((await storedMessages(jsm, 'S')).map((m) => m.subject)).toEqual([`s.${U}.a`, `s.${U}.b`]);
    expect((await jsm.streams.info('S')).sources?.[0]?.subject_transforms).toEqual([{ src: `${E}.*`, dest: `s.${U}.{{wildcard(1)}}` }]);
    expect(s.stats().internalErrors).toBe(0);
  }, 30_000);

  it('the harness takes and shows subjects as text: seed(), waitForSubscription(), subscriptions(), onMessage() and dropMessages()', async () => {
    const s = await scope.server({ jetstream: true });
    await s.jetstream.seed({ streams: { SEEDED: { subjects: [`${U}.>`], messages: [{ subject: `${U}.${E}`, data: 'a' }, { subject: `${U}.${F}`, data: 'b' }] } } });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    expect(await subjectsOf(jsm, 'SEEDED')).toEqual({ [`${U}.${E}`]: 1, [`${U}.${F}`]: 1 });

    const sub = nc.subscribe(`${F}.*`, { queue: `g${U}` });
    await s.waitForSubscription(`${F}.${E}`, { timeoutMs: 2000 });
    expect(s.subscriptions().filter((x) => x.queue !== null)).toMatchObject([{ subject: `${F}.*`, queue: `g${U}` }]);
    const tapped: Array<[string, string | null]> = [];
    const stop = s.onMessage((m) => tapped.push([m.subject, m.reply]), { subject: `${F}.>` });
    const drop = s.dropMessages({ subject: `${F}.${E}`, count: 1 });
    nc.publish(`${F}.${E}`, 'dropped');
    nc.publish(`${F}.${E}`, 'kept', { reply: `r.${U}` });
    nc.publish(`${E}.other`, 'not tapped');
    const got = await new Promise<string>((resolve) => {
      void (async () => {
        for await (const m of sub) resolve(`${m.subject} ${m.string()}`);
      })();
    });
    stop();
    expect(got).toBe(`${F}.${E} kept`);
    expect(drop.dropped).toBe(1);
    // A dropped message is not tapped (drop rules come first); the other subject is outside the tap's.
    expect(tapped).toEqual([[`${F}.${E}`, `r.${U}`]]);
  });

  it('a purge filter and a consumer filter with 3- and 4-byte characters on a memory stream', async () => {
    const s = await scope.server({ jetstream: true });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'M', storage: 'memory' as never, subjects: [`${F}.>`] });
    for (const subj of [`${F}.${E}`, `${F}.${E}`, `${F}.${U}`, `${F}.${F}`]) await js.publish(subj, subj);
    await jsm.consumers.add('M', { durable_name: 'C', filter_subjects: [`${F}.${F}`, `${F}.${U}`], ack_policy: AckPolicy.Explicit });
    expect((await jsm.consumers.info('M', 'C')).num_pending).toBe(2);
    expect((await jsm.streams.purge('M', { filter: `${F}.${E}`, keep: 1 })).purged).toBe(1);
    expect(await subjectsOf(jsm, 'M')).toEqual({ [`${F}.${E}`]: 1, [`${F}.${U}`]: 1, [`${F}.${F}`]: 1 });
    expect(await nextSubjects(nc, 'M', 'C', 3)).toEqual([`${F}.${U}`, `${F}.${F}`]);
  });
});
