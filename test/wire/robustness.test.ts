/**
 * The same bytes give the same answers however the stream is split into reads, and a bad
 * client never affects another connection.
 * The expectations are nats-server's (checked against a real v2.9.10).
 */
import { describe, expect, it } from 'vitest';
import { sendInChunks, startBroker, useBroker } from '../helpers/broker.js';

const QUIET = { verbose: false, pedantic: false };

const broker = useBroker();

/**
 * A session touching every op, and nats-server's exact answer to it. It holds no PUB that
 * fails the pedantic check on purpose: nats-server re-parses a PUB line whose payload is not in
 * the same read (`clonePubArg`) and then sends 'Invalid Publish Subject' a second time, so that
 * answer depends on how the kernel splits the stream.
 */
const SESSION =
  'CONNECT {"verbose":true,"pedantic":true,"headers":true}\r\n' +
  'SUB foo 1\r\n' +
  'sub\tfoo.*  2\r\n' +
  'PUB foo r 5\r\nhello\r\n' +
  'HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n' +
  'PUB foo.x 4\r\n\r\n\r\n\r\n' +
  'INFO {}\r\n' +
  '+OK\r\n' +
  'PONG\r\n' +
  'UNSUB 1\r\n' +
  'PUB foo 1\r\nx\r\n' +
  'PINGxyz\n';
const SESSION_REPLY =
  '+OK\r\n' + // CONNECT
  '+OK\r\n' + // SUB foo 1
  '+OK\r\n' + // sub foo.* 2
  '+OK\r\nMSG foo 1 r 5\r\nhello\r\n' +
  '+OK\r\nHMSG foo 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n' +
  '+OK\r\nMSG foo.x 2 4\r\n\r\n\r\n\r\n' +
  '+OK\r\n' + // UNSUB 1
  '+OK\r\n' + // PUB foo: no subscriber left
  'PONG\r\n';

describe('splitting the stream', () => {
  it('the session in one write', async () => {
    const c = await broker.open();
    c.send(SESSION);
    await c.expect(SESSION_REPLY);
    await c.expectNothing();
  });

  for (const size of [1, 2, 3, 7]) {
    it(`the session in writes of ${size} byte(s)`, async () => {
      const c = await broker.open();
      await sendInChunks(c, SESSION, size);
      await c.expect(SESSION_REPLY);
      await c.expectNothing();
    });
  }

  it('a large payload in small writes', async () => {
    const sub = await broker.connected(QUIET);
    sub.send('SUB big 1\r\n');
    await sub.expectNothing();
    const pub = await broker.connected(QUIET);
    const payload = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(i % 256)).join('');
    await sendInChunks(pub, `PUB big ${payload.length}\r\n${payload}\r\n`, 500);
    await sub.expect(`MSG big 1 ${payload.length}\r\n${payload}\r\n`);
  });

  it('an error found one byte at a time: bad payload terminator', async () => {
    const c = await broker.connected(QUIET);
    await sendInChunks(c, 'PUB foo 2\r\nhi\n');
    expect(await c.expectClose()).toBe("-ERR 'Unknown Protocol Operation'\r\n");
  });

  it('an error found one byte at a time: unknown op', async () => {
    const c = await broker.connected(QUIET);
    await sendInChunks(c, 'PUNG\r\n');
    expect(await c.expectClose()).toBe("-ERR 'Unknown Protocol Operation'\r\n");
  });

  it('a silent close found one byte at a time', async () => {
    const c = await broker.connected(QUIET);
    await sendInChunks(c, 'SUB foo\r\n');
    expect(await c.expectClose()).toBe('');
  });

  describe('max control line across reads (maxControlLine: 64)', () => {
    const mcl = useBroker({ maxControlLine: 64 });

    it('a 64-byte argument line sent byte by byte is accepted (the CR does not count)', async () => {
      const c = await mcl.connected({ verbose: true, pedantic: false });
      await sendInChunks(c, `SUB ${'s'.repeat(62)} 1\r\n`);
      await c.expect('+OK\r\n');
      await c.expectNothing();
    });

    it('a 64-byte argument line whose CRLF arrives in separate reads is accepted', async () => {
      const c = await mcl.connected({ verbose: true, pedantic: false });
      c.send(`SUB ${'s'.repeat(62)} 1\r`);
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
      c.send('\n');
      await c.expect('+OK\r\n');
      await c.expectNothing();
    });

    it('a 65-byte argument line sent byte by byte is refused', async () => {
      const c = await mcl.connected(QUIET);
      await sendInChunks(c, `SUB ${'s'.repeat(63)} 1\r\n`);
      expect(await c.expectClose()).toBe("-ERR 'maximum control line exceeded'\r\n");
    });
  });
});

describe('a bad client never affects another', () => {
  const bad: Array<[string, string]> = [
    ['unknown op', 'XXX\r\n'],
    ['max payload', 'PUB news 99999999\r\n'],
    ['silent close', 'SUB news\r\n'],
    ['bad payload terminator', 'PUB news 2\r\nhiXX'],
    ['client -ERR', "-ERR 'boom'\r\n"],
  ];
  for (const [what, bytes] of bad) {
    it(`a bystander keeps receiving after its neighbour is closed (${what})`, async () => {
      const bystander = await broker.connected(QUIET);
      bystander.send('SUB news 1\r\n');
      await bystander.expectNothing();
      const publisher = await broker.connected(QUIET);
      const neighbour = await broker.connected(QUIET);
      neighbour.send('SUB news 9\r\nSUB news q 10\r\nPUB news 6\r\nbefore\r\n');
      await neighbour.expect('MSG news 9 6\r\nbefore\r\n');
      await bystander.expect('MSG news 1 6\r\nbefore\r\n');
      neighbour.send(bytes);
      await neighbour.expectClose();
      publisher.send('PUB news 5\r\nafter\r\n');
      await publisher.expectNothing();
      await bystander.expect('MSG news 1 5\r\nafter\r\n');
      await bystander.expectNothing();
    });
  }

  it('a neighbour that vanishes in the middle of a payload delivers nothing of it', async () => {
    const bystander = await broker.connected(QUIET);
    bystander.send('SUB news 1\r\n');
    await bystander.expectNothing();
    const neighbour = await broker.connected(QUIET);
    neighbour.send('PUB news 10\r\nhalf');
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    neighbour.close();
    const publisher = await broker.connected(QUIET);
    publisher.send('PUB news 4\r\nnext\r\n');
    await publisher.expectNothing();
    await bystander.expect('MSG news 1 4\r\nnext\r\n');
    await bystander.expectNothing();
  });

  it('a neighbour refused for maxConnections does not disturb the connected client', async () => {
    const one = await startBroker({ maxConnections: 1 });
    try {
      const c = await one.connected(QUIET);
      c.send('SUB x 1\r\n');
      const refused = await one.open();
      await refused.expect("-ERR 'maximum connections exceeded'\r\n");
      await refused.expectClose();
      c.send('PUB x 2\r\nok\r\n');
      await c.expect('MSG x 1 2\r\nok\r\n');
    } finally {
      await one.close();
    }
  });
});
