/**
 * Object store at scale, through `@nats-io/obj` against the embedded broker: a 20 MiB object in
 * 128 KiB chunks is put (streamed, never held whole by the test's writer) and got back, with
 * the client's SHA-256 digest check and our own; and the broker does not hold more than a
 * bounded amount per transfer.
 *
 * The bound: the client gets an object through a push consumer with flow control. The broker
 * (consumer.go, push.ts) delivers while the bytes sent since the last answered flow-control
 * request stay within its window, which starts at 1/16 of JsFlowControlMaxPending (32 MiB / 16
 * = 2 MiB) and doubles with each answer. A reader that stops reading answers nothing, so the
 * broker must stop after the first window: at most 2 MiB plus the one message that crossed it
 * (a 128 KiB chunk and its MSG line and headers) — whatever the object's size. The test stalls
 * the reader (a relay in front of its socket stops reading from the broker as soon as the first
 * chunk arrives, before any flow-control request can have been answered) and measures, from the
 * broker's own counters for that connection (`connections()`: bytes written and bytes still
 * queued), how much the broker sent or queued after the get started; then resumes it and checks
 * the object arrives whole. The bound allows two chunks of slack for protocol lines and the
 * message in progress: 2 MiB + 256 KiB, an eighth of the object.
 */
import { createHash } from 'node:crypto';
import { connect as tcpConnect, createServer as tcpServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';
import type { NatsServer } from '../../src/index.js';

const scope = useScope();

const CHUNK = 128 * 1024;
const CHUNKS = 160;
const SIZE = CHUNK * CHUNKS; // 20 MiB
/** consumer.go JsFlowControlMaxPending / 16: the first flow-control window. */
const FIRST_WINDOW = (32 * 1024 * 1024) / 16;

/** The `i`-th 128 KiB piece of the object: different in every piece. */
function piece(i: number): Uint8Array {
  const b = Buffer.alloc(CHUNK);
  for (let j = 0; j < CHUNK; j += 4) b.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
  return b;
}

/** The object store's digest form: SHA-256, base64url with padding. */
const sha256 = (h: ReturnType<typeof createHash>): string => `SHA-256=${h.digest('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;

/** The object as a stream of pieces (made on demand), and its SHA-256. */
function source(): { stream: ReadableStream<Uint8Array>; digest: () => string } {
  const h = createHash('sha256');
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === CHUNKS) {
        controller.close();
        return;
      }
      const p = piece(i++);
      h.update(p);
      controller.enqueue(p);
    },
  });
  let sum = '';
  return { stream, digest: () => (sum ||= sha256(h)) };
}

/**
 * A relay in front of the broker whose broker-to-client direction stops reading when `stallOn`
 * first appears in what the broker sends (it stays stopped until `resume()`).
 */
async function stallingRelay(target: number, stallOn: string): Promise<{ port: number; stalled: Promise<void>; resume(): void; close(): void }> {
  const sockets = new Set<Socket>();
  let fromBroker: Socket | null = null;
  let onStall: () => void = () => {};
  const stalled = new Promise<void>((r) => (onStall = r));
  let armed = true;
  const listener = tcpServer((client) => {
    const broker = tcpConnect({ port: target, host: '127.0.0.1' });
    fromBroker = broker;
    for (const s of [client, broker]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => (s === client ? broker : client).destroy());
    }
    client.pipe(broker);
    let tail = Buffer.alloc(0);
    broker.on('data', (d: Buffer) => {
      client.write(d);
      if (!armed) return;
      // The marker may straddle two reads: look at the end of the previous one too.
      const seen = Buffer.concat([tail, d]);
      tail = seen.subarray(Math.max(0, seen.length - stallOn.length));
      if (seen.includes(stallOn)) {
        armed = false;
        broker.pause();
        onStall();
      }
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const a = listener.address();
  return {
    port: typeof a === 'object' && a !== null ? a.port : 0,
    stalled,
    resume: () => fromBroker?.resume(),
    close: () => {
      for (const s of sockets) s.destroy();
      listener.close();
    },
  };
}

/** What the broker has sent or queued for the client named `name` (bytes). */
function sentOrQueued(s: NatsServer, name: string): number {
  const c = s.connections().find((x) => x.name === name);
  if (c === undefined) throw new Error(`no connection named ${name}`);
  return c.outBytes + c.pendingBytes;
}

describe('object store at scale', () => {
  it('a 20 MiB object in 128 KiB chunks: put, get with the digest checked, and at most one flow-control window in flight to a stalled reader', async () => {
    const s = await scope.server({ jetstream: true });
    const writer = await scope.client(s);
    const os = await new Objm(writer).create('big');
    const src = source();
    const info = await os.put({ name: 'movie', options: { max_chunk_size: CHUNK } }, src.stream);
    expect({ size: info.size, chunks: info.chunks, digest: info.digest }).toEqual({ size: SIZE, chunks: CHUNKS, digest: src.digest() });
    const st = (await (await jetstreamManager(writer)).streams.info('OBJ_big')).state;
    expect(st.messages).toBe(CHUNKS + 1); // the chunks and the metadata message

    const relay = await stallingRelay(Number(new URL(s.url).port), 'MSG $O.big.C.');
    scope.defer(() => relay.close());
    const reader = await scope.client(`127.0.0.1:${relay.port}`, { name: 'reader' });
    const ros = await new Objm(reader).open('big');
    const before = sentOrQueued(s, 'reader');
    const r = await ros.get('movie');
    expect(r).not.toBeNull();
    await relay.stalled;
    // The broker stops once the window is full: the count settles.
    let last = -1;
    let settledAt = Date.now();
    await eventually(() => {
      const now = sentOrQueued(s, 'reader');
      if (now !== last) {
        last = now;
        settledAt = Date.now();
      }
      return Date.now() - settledAt > 500;
    }, 'the broker to stop sending to the stalled reader', 10_000);
    const inFlight = last - before;
    if (process.env.OBJ_PRINT) console.log({ inFlight });
    expect(inFlight).toBeGreaterThan(FIRST_WINDOW);
    expect(inFlight).toBeLessThanOrEqual(FIRST_WINDOW + 2 * CHUNK);

    relay.resume();
    const h = createHash('sha256');
    let n = 0;
    for await (const c of r!.data) {
      h.update(c);
      n += c.length;
    }
    expect((await r!.error) ?? null).toBeNull(); // the client's digest check (it resolves undefined when fine)
    expect({ n, digest: sha256(h) }).toEqual({ n: SIZE, digest: src.digest() });
  }, 120_000);
});
