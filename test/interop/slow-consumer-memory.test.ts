/**
 * The broker's memory stays bounded while one subscriber never reads and a publisher sends
 * 1 GiB as fast as the broker takes it: the slow subscriber is evicted once `maxPending` is
 * queued, and a reading subscriber gets every message. The broker runs in its own process so
 * that its resident memory is measured alone.
 */
import { describe, expect, it } from 'vitest';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect as tcpConnect, type Socket } from 'node:net';
import { eventually } from '../helpers/eventually.js';
import { useScope } from '../helpers/scope.js';

const BROKER = fileURLToPath(new URL('../fixtures/broker-process.mjs', import.meta.url));
const MiB = 1024 * 1024;

interface Report {
  port?: number;
  rss: number;
  peakRss: number;
  stats: { slowConsumers: number; inMsgs: number };
  events: Array<{ reason: string; pendingBytes: number }>;
}

function request(child: ChildProcess, msg: string): Promise<Report> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as Report));
    child.send(msg);
  });
}

async function open(port: number, lines: string): Promise<Socket> {
  const s = tcpConnect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  s.write(`CONNECT {"verbose":false,"pedantic":false}\r\n${lines}PING\r\n`);
  // Wait for the PONG: everything before it has been processed.
  await new Promise<void>((resolve) => {
    let seen = '';
    const onData = (d: Buffer): void => {
      seen += d.toString('latin1');
      if (seen.includes('PONG\r\n')) {
        s.off('data', onData);
        resolve();
      }
    };
    s.on('data', onData);
  });
  return s;
}

const scope = useScope();

describe('slow consumer memory bound', () => {
  it('publishing 1 GiB with a stalled subscriber keeps the broker within a small multiple of maxPending', { timeout: 120_000 }, async () => {
    const maxPending = 32 * MiB;
    const child = fork(BROKER, [JSON.stringify({ maxPending })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    scope.defer(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const ready = await new Promise<Report>((resolve) => child.once('message', (m) => resolve(m as Report)));
    const port = ready.port!;
    const baseline = ready.rss;

    const stalled = await open(port, 'SUB data 1\r\n');
    stalled.pause();
    stalled.on('error', () => undefined);

    const reader = await open(port, 'SUB data 1\r\n');
    // MSG bytes only: the server's own PINGs (the first comes ~2 s after CONNECT) are not counted.
    let readerBytes = 0;
    let tail = '';
    reader.on('data', (d: Buffer) => {
      const text = tail + d.toString('latin1');
      const pings = text.split('PING\r\n').length - 1;
      readerBytes += d.length - pings * 'PING\r\n'.length;
      tail = text.endsWith('PING\r\n') ? '' : text.slice(-5);
    });

    const payloadSize = 64 * 1024;
    const frame = Buffer.concat([Buffer.from(`PUB data ${payloadSize}\r\n`), Buffer.alloc(payloadSize, 0x61), Buffer.from('\r\n')]);
    const batch = Buffer.concat(Array.from({ length: 16 }, () => frame)); // 1 MiB per write
    const pub = await open(port, '');
    const total = 1024; // batches of 1 MiB: 1 GiB
    const perMessage = `MSG data 1 ${payloadSize}\r\n`.length + payloadSize + 2;
    for (let i = 0; i < total; i++) {
      if (!pub.write(batch)) await new Promise((r) => pub.once('drain', r));
      // Keep the reading subscriber's backlog well under maxPending, however loaded the machine
      // is: only the stalled one may fall behind. (Flow control, not an assertion: polled every
      // millisecond, not through eventually(), so that the publisher is held back no longer.)
      while (readerBytes < (i + 1 - 8) * 16 * perMessage) await new Promise((r) => setTimeout(r, 1));
    }
    // Wait until the broker has routed all of it (its PONG comes after the last PUB).
    await new Promise<void>((resolve) => {
      let seen = '';
      pub.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
        if (seen.includes('PONG\r\n')) resolve();
      });
      pub.write('PING\r\n');
    });
    const messages = total * 16;
    const expectedReaderBytes = messages * perMessage;
    await eventually(() => readerBytes >= expectedReaderBytes, 'every message at the reading subscriber', 60_000);

    const report = await request(child, 'report');
    child.send('stop');
    await new Promise((r) => child.once('exit', r));
    for (const s of [stalled, reader, pub]) s.destroy();

    const growthMiB = (report.peakRss - baseline) / MiB;
    // Printed for the record (the assertion below is the bound, not a timing).
    console.log(`broker RSS: baseline ${(baseline / MiB).toFixed(0)} MiB, peak ${(report.peakRss / MiB).toFixed(0)} MiB, growth ${growthMiB.toFixed(0)} MiB with maxPending ${maxPending / MiB} MiB`);
    expect(report.stats.inMsgs).toBe(messages);
    expect(report.stats.slowConsumers).toBe(1);
    expect(report.events).toHaveLength(1);
    expect(report.events[0].reason).toBe('Slow Consumer (Pending Bytes)');
    expect(readerBytes).toBe(expectedReaderBytes);
    expect(report.peakRss - baseline).toBeLessThan(4 * maxPending);
  });
});
