/**
 * Account imports on the wire: what the exporter's responder sees of an imported request (the
 * `_R_.<prefix>.<id>` reply and the `Nats-Request-Info` header nats-server adds), the headers of
 * the request kept, a responder without header support, and a stream import's MSG with its
 * reply subject. Runs on the embedded broker, and on the real nats-server when
 * NATS_WIRE_SERVER names one (the conformance run compares the two).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type NatsServer, type ServerOptions } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { REAL_SERVER } from '../helpers/broker.js';

const OPTIONS = {
  accounts: {
    A: { users: [{ user: 'a', password: 'a' }], exports: [{ service: 'svc.>' }, { stream: 'ev.>' }] },
    B: {
      users: [{ user: 'b', password: 'b' }],
      imports: [{ service: { account: 'A', subject: 'svc.>' } }, { stream: { account: 'A', subject: 'ev.>' }, prefix: 'from.a' }],
      exports: [{ service: 'svc.chain' }],
    },
    C: { users: [{ user: 'c', password: 'c' }], imports: [{ service: { account: 'B', subject: 'svc.chain' } }] },
  },
} satisfies ServerOptions;

let server: NatsServer;
const open: WireClient[] = [];

beforeAll(async () => {
  if (REAL_SERVER !== '') process.env.NATS_SERVER_BIN ??= REAL_SERVER;
  server = await createServer({ ...OPTIONS, ...(REAL_SERVER === '' ? {} : { backend: 'nats-server' as const }) });
});
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});
afterAll(async () => {
  await server.close();
});

async function conn(user: string, headers = true): Promise<WireClient> {
  const c = await WireClient.connected(server.port, { verbose: false, pedantic: false, user, pass: user, headers, protocol: 1 });
  c.socket.setNoDelay(true);
  open.push(c);
  return c;
}

/** SUBs sent and known to be in place. */
async function sub(c: WireClient, subs: string): Promise<void> {
  c.send(`${subs}PING\r\n`);
  await c.expect('PONG\r\n');
}

const INFO = /^NATS\/1\.0\r\nNats-Request-Info: \{"acc":"B","rtt":\d+\}\r\n\r\n$/;

describe('service import on the wire', () => {
  it('the responder sees HMSG with an _R_ reply and Nats-Request-Info; its response reaches the requester\'s inbox', async () => {
    const a = await conn('a');
    const b = await conn('b');
    await sub(a, 'SUB svc.> 1\r\n');
    await sub(b, 'SUB inbox.> 9\r\n');
    b.send('PUB svc.x inbox.1 2\r\nhi\r\n');
    const line = await a.readLine();
    const m = /^HMSG svc\.x 1 (_R_\.[0-9A-Za-z]{6}\.[0-9A-Za-z]{6}) (\d+) (\d+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const [, reply, hdr, total] = m!;
    const body = await a.readBytes(Number(total) + 2);
    expect(body.slice(0, Number(hdr))).toMatch(INFO);
    expect(body.slice(Number(hdr))).toBe('hi\r\n');
    a.send(`PUB ${reply} 4\r\npong\r\n`);
    await b.expect('MSG inbox.1 9 4\r\npong\r\n');
    // Singleton: the route is gone after the response.
    a.send(`PUB ${reply} 5\r\nagain\r\nPING\r\n`);
    await a.expect('PONG\r\n');
    await b.expectNothing();
  });

  it('the requester\'s headers are kept, Nats-Request-Info added after them', async () => {
    const a = await conn('a');
    const b = await conn('b');
    await sub(a, 'SUB svc.> 1\r\n');
    const h = 'NATS/1.0\r\nX-Trace: 7\r\n\r\n';
    b.send(`HPUB svc.h inbox.2 ${h.length} ${h.length + 2}\r\n${h}hi\r\n`);
    const line = await a.readLine();
    const m = /^HMSG svc\.h 1 _R_\.\S+ (\d+) (\d+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const body = await a.readBytes(Number(m![2]) + 2);
    expect(body.slice(0, Number(m![1]))).toMatch(/^NATS\/1\.0\r\nX-Trace: 7\r\nNats-Request-Info: \{"acc":"B","rtt":\d+\}\r\n\r\n$/);
  });

  it('a responder without header support gets a MSG without the header', async () => {
    const a = await conn('a', false);
    const b = await conn('b');
    await sub(a, 'SUB svc.> 1\r\n');
    b.send('PUB svc.plain inbox.3 2\r\nhi\r\n');
    const line = await a.readLine();
    expect(line).toMatch(/^MSG svc\.plain 1 _R_\.[0-9A-Za-z]{6}\.[0-9A-Za-z]{6} 2$/);
    await a.expect('hi\r\n');
  });
});

describe('a request through two service imports (C → B → A)', () => {
  it('keeps the first requester\'s info and names the middle account as the service (svc)', async () => {
    const a = await conn('a');
    const c = await conn('c');
    await sub(a, 'SUB svc.> 1\r\n');
    await sub(c, 'SUB inbox.> 9\r\n');
    c.send('PUB svc.chain inbox.c 2\r\nhi\r\n');
    const line = await a.readLine();
    const m = /^HMSG svc\.chain 1 (_R_\.\S+) (\d+) (\d+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const body = await a.readBytes(Number(m![3]) + 2);
    expect(body.slice(0, Number(m![2]))).toMatch(/^NATS\/1\.0\r\nNats-Request-Info: \{"acc":"C","svc":"B","rtt":\d+\}\r\n\r\n$/);
    a.send(`PUB ${m![1]} 2\r\nok\r\n`);
    await c.expect('MSG inbox.c 9 2\r\nok\r\n');
  });
});

describe('stream import on the wire', () => {
  it('MSG under the prefix, the reply subject unchanged', async () => {
    const a = await conn('a');
    const b = await conn('b');
    await sub(b, 'SUB from.a.> 4\r\n');
    a.send('PUB ev.1 r.1 2\r\nev\r\n');
    await b.expect('MSG from.a.ev.1 4 r.1 2\r\nev\r\n');
  });
});
