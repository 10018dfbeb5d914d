/**
 * A real nats-server with JetStream, spoken to over a raw socket: sends an API request and
 * returns the reply's payload byte for byte (as UTF-8 text). For comparing this package's
 * JetStream answers with the reference server's.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRealServer } from '../helpers/real-server.js';

/** The nats-server binary to compare with: NATS_SERVER_BIN, else the one on PATH, else ''. */
export function natsServerBin(): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  try {
    return execFileSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export interface RealJetStream {
  /** The binary's version line, e.g. "nats-server: v2.9.10". */
  readonly version: string;
  /** Publishes `body` to `subject` with a reply inbox; resolves the reply's payload ('(no reply)' after the timeout). */
  request(subject: string, body: string, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `bin` with JetStream on a loopback port and a fresh store directory. */
export async function startRealJetStream(bin: string): Promise<RealJetStream> {
  const store = mkdtempSync(join(tmpdir(), 'nats-js-store-'));
  const port = await freePort();
  const real = await startRealServer(bin, [`listen: "127.0.0.1:${port}"`, `jetstream { store_dir: "${store}" }`]);
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  const socket: Socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  let wake: () => void = () => {};
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    wake();
  });
  socket.write('CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\nSUB _R.> 1\r\n');
  let n = 0;

  /** Takes the MSG for `inbox` out of the buffer, or undefined while it is incomplete. */
  const take = (inbox: string): string | undefined => {
    const text = buf.toString('latin1');
    const i = text.indexOf(`MSG ${inbox} `);
    if (i < 0) return undefined;
    const eol = text.indexOf('\r\n', i);
    if (eol < 0) return undefined;
    const size = Number(text.slice(i, eol).split(' ').pop());
    if (buf.length < eol + 2 + size + 2) return undefined;
    const payload = buf.subarray(eol + 2, eol + 2 + size).toString('utf8');
    buf = Buffer.concat([buf.subarray(0, i), buf.subarray(eol + 2 + size + 2)]);
    return payload;
  };

  const request = async (subject: string, body: string, timeoutMs = 2000): Promise<string> => {
    const inbox = `_R.${++n}`;
    const b = Buffer.from(body, 'utf8');
    socket.write(Buffer.concat([Buffer.from(`PUB ${subject} ${inbox} ${b.length}\r\n`), b, Buffer.from('\r\n')]));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = take(inbox);
      if (got !== undefined) return got;
      const left = deadline - Date.now();
      if (left <= 0) return '(no reply)';
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  };

  const stop = async (): Promise<void> => {
    socket.destroy();
    await real.stop();
    rmSync(store, { recursive: true, force: true });
  };
  return { version, request, stop };
}
