/**
 * Hostile input over real sockets: random bytes and grammar-aware mutations of valid frames,
 * split at random points. The broker must answer only with nats-server's frames and -ERR texts
 * (or close), never throw, and a bystander must keep its messages flowing throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type NatsServer } from '../../src/index.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const KNOWN_ERRORS = [
  /^Unknown Protocol Operation$/,
  /^maximum control line exceeded$/,
  /^Maximum Payload Violation$/,
  /^Invalid Subject$/,
  /^Invalid Publish Subject$/,
  /^invalid client protocol$/,
  /^no responders requires headers support$/,
  /^Authorization Violation$/,
  /^maximum subscriptions exceeded$/,
  /^Permissions Violation for (Publish to|Publish with Reply of|Subscription to) "[^]*"( using queue "[^]*")?$/,
];

/**
 * Splits what the server sent into frames; returns a description of the first byte sequence that
 * is not a frame nats-server could send, or null when all of it is well-formed.
 */
function checkServerOutput(out: Buffer): string | null {
  let i = 0;
  const text = out.toString('latin1');
  while (i < text.length) {
    const eol = text.indexOf('\r\n', i);
    if (eol === -1) return null; // a frame cut short by the close: fine
    const line = text.slice(i, eol);
    if (line === '+OK' || line === 'PING' || line === 'PONG') {
      i = eol + 2;
    } else if (line.startsWith('INFO {') && line.endsWith('} ')) {
      i = eol + 2;
    } else if (line.startsWith("-ERR '") && line.endsWith("'")) {
      const msg = line.slice(6, -1);
      if (!KNOWN_ERRORS.some((re) => re.test(msg))) return `unknown -ERR text: ${JSON.stringify(msg)}`;
      i = eol + 2;
    } else if (line.startsWith('MSG ') || line.startsWith('HMSG ')) {
      const size = Number(line.split(' ').pop());
      if (!Number.isInteger(size)) return `bad size in ${JSON.stringify(line)}`;
      i = eol + 2 + size;
      if (i + 2 <= text.length && text.slice(i, i + 2) !== '\r\n') return `payload not terminated after ${JSON.stringify(line)}`;
      i += 2;
    } else {
      return `unexpected server output: ${JSON.stringify(text.slice(i, i + 60))}`;
    }
  }
  return null;
}

/** Sends `chunks` one by one, then waits until the server closes or stays quiet. */
async function attack(port: number, chunks: Buffer[]): Promise<{ out: Buffer; closed: boolean }> {
  const socket: Socket = tcpConnect({ port, host: '127.0.0.1' });
  const received: Buffer[] = [];
  let closed = false;
  let lastData = Date.now();
  socket.on('data', (d: Buffer) => {
    received.push(d);
    lastData = Date.now();
  });
  const done = new Promise<void>((resolve) => socket.on('close', () => {
    closed = true;
    resolve();
  }));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const c of chunks) {
    if (closed) break;
    socket.write(c);
    await new Promise((r) => setImmediate(r));
  }
  // Settle: the server has answered everything once it is quiet for a moment or has closed.
  while (!closed && Date.now() - lastData < 30) await Promise.race([done, new Promise((r) => setTimeout(r, 10))]);
  socket.destroy();
  await done;
  return { out: Buffer.concat(received), closed };
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = p;
  }
  if (prev < buf.length) out.push(buf.subarray(prev));
  return out;
}

const token = fc.constantFrom('foo', 'bar', '*', '>', '', 'a.b', 'a..b', '.x', 'x.>.y', '_GR_.x', '_R_.y', '$SYS', 'q', '_sys_', 'ä');
const validFrame = fc.oneof(
  fc.constantFrom(
    'CONNECT {"verbose":true,"pedantic":true,"headers":true,"protocol":1}\r\n',
    'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n',
    'CONNECT {"echo":false}\r\n',
    'PING\r\n', 'PONG\r\n', '+OK\r\n', 'INFO {}\r\n',
  ),
  fc.tuple(token, token, fc.nat(5)).map(([s, q, sid]) => `SUB ${s} ${q} ${sid}\r\n`),
  fc.tuple(token, fc.nat(5)).map(([s, sid]) => `SUB ${s} ${sid}\r\n`),
  fc.tuple(fc.nat(5), fc.nat(3)).map(([sid, max]) => `UNSUB ${sid} ${max}\r\n`),
  fc.tuple(token, fc.string({ maxLength: 20 })).map(([s, p]) => `PUB ${s} ${Buffer.byteLength(p)}\r\n${p}\r\n`),
  fc.tuple(token, token, fc.string({ maxLength: 20 })).map(([s, r, p]) => `PUB ${s} ${r} ${Buffer.byteLength(p)}\r\n${p}\r\n`),
  fc.tuple(token, fc.string({ maxLength: 10 })).map(([s, p]) => {
    const h = 'NATS/1.0\r\nK: v\r\n\r\n';
    return `HPUB ${s} ${h.length} ${h.length + Buffer.byteLength(p)}\r\n${h}${p}\r\n`;
  }),
);

type Mutation = (frame: string, rnd: number) => string;
const mutations: Mutation[] = [
  (f) => f,
  (f, r) => f.replace(/\d+/, String(r)), // wrong size
  (f) => f.replace(/\d+/, '9999999999'), // too many digits
  (f) => f.replace(/\d+/, '-1'),
  (f) => f.replace(/\d+/, '1048577'), // over max_payload
  (f) => f.replace('\r\n', '\n'),
  (f) => f.replace(/\r\n$/, ''), // truncated
  (f, r) => f.slice(0, r % (f.length + 1)),
  (f) => f.replace(' ', ''), // op glued to its argument
  (f) => f.replace(/^[A-Z]+/, (op) => op.toLowerCase()),
  (f) => f.replace(/\{.*\}/, '{"verbose":'), // broken JSON
  (f) => f.replace(/\{.*\}/, '{"protocol":7}'),
  (f) => f.replace(/\{.*\}/, '{"verbose":"yes"}'),
  (f, r) => f + 'x'.repeat(r % 5000), // trailing junk, sometimes over the control line limit
  (f) => f.replace(' ', ` ${'a'.repeat(5000)} `),
  (f) => `MSG ${f}`,
  (f) => `-ERR '${f}'\r\n`,
];
const mutated = fc.tuple(validFrame, fc.nat(mutations.length - 1), fc.nat(10_000)).map(([f, m, r]) => mutations[m](f, r));
const randomBytes = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('latin1'));
const session = fc.array(fc.oneof({ weight: 3, arbitrary: mutated }, { weight: 1, arbitrary: randomBytes }), { minLength: 1, maxLength: 8 });

const scope = useScope();
let server: NatsServer;
let bystander: NatsConnection;
let crashes = 0;
const onUncaught = (): void => void crashes++;

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  server = await createServer();
  bystander = await connect({ servers: server.url });
  const svc = bystander.subscribe('bystander.echo');
  (async () => {
    for await (const m of svc) m.respond(m.data);
  })().catch(() => undefined);
  await bystander.flush();
});

afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await bystander.close();
  await server.close();
});

describe('hostile input (fuzz)', () => {
  it('answers only with nats-server frames and known -ERR texts, and the bystander keeps working', async () => {
    let cases = 0;
    let bystanderRound = 0;
    await fc.assert(
      fc.asyncProperty(session, fc.array(fc.nat(), { maxLength: 8 }), async (frames, cuts) => {
        cases++;
        const bytes = Buffer.from(frames.join(''), 'utf8');
        const { out } = await attack(server.port, splitAt(bytes, cuts));
        const problem = checkServerOutput(out);
        expect(problem, `input ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`).toBeNull();
        const payload = `round ${bystanderRound++}`;
        const reply = await bystander.request('bystander.echo', payload, { timeout: 2000 });
        expect(reply.string()).toBe(payload);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 1000) },
    );
    expect(cases).toBeGreaterThanOrEqual(Number(process.env.FUZZ_RUNS ?? 1000));
    expect(crashes).toBe(0);
    // The broker catches its own errors and closes the connection (a close is a legitimate
    // answer above): without this count a parser bug found by the fuzzer would pass.
    expect(server.stats().internalErrors).toBe(0);
    expect(server.state).toBe('running');
    // Every attacker connection is gone; only the bystander remains.
    expect(server.connectionCount).toBe(1);
  });
});

describe('abandoned connections', () => {
  it('cleans up 1,000 connections abandoned mid-frame', async () => {
    const base = server.connectionCount;
    const accepted = server.stats().totalConnections;
    const subsBefore = server.stats().subscriptions;
    const partials = ['PUB foo 100\r\nabc', 'SUB fo', 'CONNECT {"verb', 'PUB x 5 10\r\nNA', 'PI', 'UNSUB 1'];
    const sockets: Socket[] = [];
    scope.defer(() => sockets.forEach((s) => s.destroy()));
    for (let i = 0; i < 1000; i++) {
      const s = tcpConnect({ port: server.port, host: '127.0.0.1' });
      s.on('error', () => undefined);
      sockets.push(s);
    }
    await Promise.all(sockets.map((s, i) => new Promise<void>((resolve) => {
      s.once('connect', () => {
        s.write(`CONNECT {"verbose":false}\r\n${partials[i % partials.length]}`);
        resolve();
      });
    })));
    await eventually(() => server.stats().totalConnections === accepted + 1000, 'all 1,000 connections accepted', 10_000);
    for (const s of sockets) s.destroy();
    await eventually(() => server.connectionCount === base, 'all abandoned connections cleaned up', 10_000);
    expect(server.stats().subscriptions).toBe(subsBefore); // the bystander's only
    const reply = await bystander.request('bystander.echo', 'after', { timeout: 2000 });
    expect(reply.string()).toBe('after');
  });

  it('drops silent connections that stop answering PINGs', async () => {
    const s = await scope.server({ pingInterval: 20, maxPingsOut: 2 });
    const sockets: Socket[] = [];
    scope.defer(() => sockets.forEach((sock) => sock.destroy()));
    for (let i = 0; i < 50; i++) {
      const sock = tcpConnect({ port: s.port, host: '127.0.0.1' });
      sock.on('error', () => undefined);
      sock.on('connect', () => sock.write('CONNECT {}\r\nSUB x 1\r\nPUB x 5\r\nhe'));
      sockets.push(sock);
    }
    await eventually(() => s.stats().totalConnections === 50, 'connections accepted', 10_000);
    await eventually(() => s.connectionCount === 0, 'stale connections dropped', 10_000);
    expect(s.stats().subscriptions).toBe(0);
  });
});
