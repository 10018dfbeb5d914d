/**
 * A PubAck from a file stream means the message is written (in the OS's page cache): the file
 * store writes behind, one write per read chunk, but before any socket write of the broker, so
 * a broker process killed (SIGKILL) right after the last ack arrives still has every acked
 * message when it restarts on the same store directory.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { useScope } from '../helpers/scope.js';

const BROKER = fileURLToPath(new URL('../fixtures/broker-process.mjs', import.meta.url));
const ROOT = mkdtempSync(join(tmpdir(), 'js-ack-durability-'));
afterAll(() => rmSync(ROOT, { recursive: true, force: true }));

const scope = useScope();

describe('file stream acks', () => {
  it('every acknowledged message survives SIGKILL of the broker right after the last ack', async () => {
    const storeDir = join(ROOT, 'store');
    const child = fork(BROKER, [JSON.stringify({ jetstream: { storeDir } })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })));
      const nc = await scope.client(`127.0.0.1:${port}`);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'D', subjects: ['d.>'], storage: 'file' } as never);
      const js = jetstream(nc);
      // Windows of 500 publishes in flight: many messages per read chunk of the broker.
      let last = 0;
      for (let w = 0; w < 6; w++) {
        const acks = await Promise.all(Array.from({ length: 500 }, (_, i) => js.publish(`d.${i % 7}`, `m-${w * 500 + i + 1}`)));
        last = Math.max(...acks.map((a) => a.seq));
      }
      // Killed as soon as the last ack is here: nothing gets the chance to write later.
      child.kill('SIGKILL');
      expect(last).toBe(3000);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }

    const s = await scope.server({ jetstream: { storeDir } });
    const nc = await scope.client(s);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('D');
    expect(info.state).toMatchObject({ messages: 3000, first_seq: 1, last_seq: 3000 });
    const m = await jsm.streams.getMessage('D', { seq: 3000 });
    expect(m?.string()).toBe('m-3000');
  });
});
