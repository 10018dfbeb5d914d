/**
 * The INFO line and the parser's leniency as nats-server has it: op case, LF-only lines,
 * junk after PING, CONNECT without a space, TABs, INFO/+OK sent by a client.
 * The expectations are nats-server's (checked against a real v2.9.10).
 */
import { describe, expect, it } from 'vitest';
import { NATS_SERVER_VERSION } from '../../src/index.js';
import { useBroker } from '../helpers/broker.js';

const QUIET = { verbose: false, pedantic: false };

const broker = useBroker();

/** nats-server 2.10's INFO key order for a client on a standalone server without auth. */
const INFO_KEYS_2_10 = [
  'server_id', 'server_name', 'version', 'proto', 'go', 'host', 'port', 'headers', 'max_payload',
  'client_id', 'client_ip', 'xkey',
];

describe('INFO', () => {
  it('is the first line: "INFO " + JSON + " \\r\\n" (space before CRLF)', async () => {
    const c = await broker.open(true);
    const line = await c.readLine();
    expect(line.startsWith('INFO {')).toBe(true);
    expect(line.endsWith('} ')).toBe(true);
    expect(line.slice(5, -1)).not.toMatch(/\s$/);
    expect(c.buffer).toBe('');
    const info = JSON.parse(line.slice(5)) as Record<string, unknown>;
    const version = String(info.version);
    // 2.9 has no xkey; otherwise 2.9 and 2.10 send the same keys in the same order.
    const keys = broker.real && version.startsWith('2.9.') ? INFO_KEYS_2_10.filter((k) => k !== 'xkey') : INFO_KEYS_2_10;
    expect(Object.keys(info)).toEqual(keys);
    // The JSON is compact, as Go's encoding/json writes it.
    expect(line).toBe(`INFO ${JSON.stringify(info)} `);
  });

  it('has the field values nats-server sends', async () => {
    const c = await broker.open();
    const info = c.info;
    expect(info.server_id).toMatch(/^N[A-Z2-7]{55}$/);
    expect(info.server_name).toBe(info.server_id);
    expect(typeof info.version).toBe('string');
    if (!broker.real) expect(info.version).toBe(NATS_SERVER_VERSION);
    expect(info.proto).toBe(1);
    expect(typeof info.go).toBe('string');
    expect(info.host).toBe('127.0.0.1');
    expect(info.port).toBe(broker.port);
    expect(info.headers).toBe(true);
    expect(info.max_payload).toBe(1048576);
    expect(Number.isInteger(info.client_id)).toBe(true);
    expect(info.client_id as number).toBeGreaterThan(0);
    expect(info.client_ip).toBe('127.0.0.1');
    if (!broker.real) expect(info.xkey).toMatch(/^X[A-Z2-7]{55}$/);
  });

  it('gives each connection its own client_id; the server fields are the same', async () => {
    const a = await broker.open();
    const b = await broker.open();
    expect(a.info.client_id).not.toBe(b.info.client_id);
    expect(a.info.server_id).toBe(b.info.server_id);
    expect(a.info.xkey).toBe(b.info.xkey);
  });

  it('is sent before the client says anything, and nothing else follows it', async () => {
    const c = await broker.open();
    expect(c.buffer).toBe('');
    c.send('PING\r\n');
    await c.expect('PONG\r\n');
    expect(c.buffer).toBe('');
  });
});

describe('op names are case-insensitive', () => {
  it('sub, SuB, pub, PuB, unsub, ping', async () => {
    const c = await broker.connected(QUIET);
    c.send('sub foo 1\r\nSuB bar 2\r\n');
    c.send('pub foo 1\r\na\r\nPuB bar 1\r\nb\r\n');
    await c.expect('MSG foo 1 1\r\na\r\nMSG bar 2 1\r\nb\r\n');
    c.send('unsub 1\r\nuNsUb 2\r\npub foo 1\r\na\r\nping\r\n');
    await c.expect('PONG\r\n');
    await c.expectNothing();
  });

  it('connect, hpub, PiNg, pOnG', async () => {
    const c = await broker.open();
    c.send('connect {"verbose":false,"pedantic":false,"headers":true}\r\nsub foo 1\r\n');
    c.send('hpub foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\npOnG\r\nPiNg\r\n');
    await c.expect('HMSG foo 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPONG\r\n');
  });
});

describe('line endings and separators', () => {
  it('PING\\n (LF only) gets PONG', async () => {
    const c = await broker.connected(QUIET);
    c.send('PING\n');
    await c.expect('PONG\r\n');
  });

  it('PINGxyz\\n gets PONG (the rest of the line is ignored)', async () => {
    const c = await broker.connected(QUIET);
    c.send('PINGxyz\n');
    await c.expect('PONG\r\n');
    c.send('PING  extra words\r\n');
    await c.expect('PONG\r\n');
  });

  it('control lines may end in LF only', async () => {
    const c = await broker.open();
    c.send('CONNECT {"verbose":false,"pedantic":false}\nSUB foo 1\nPUB foo 2\nhi\r\nUNSUB 1\nPUB foo 1\nx\r\nPING\n');
    await c.expect('MSG foo 1 2\r\nhi\r\nPONG\r\n');
  });

  it('CONNECT needs no space before its JSON', async () => {
    const c = await broker.open();
    c.send('CONNECT{"verbose":false}\r\nPING\r\n');
    // No +OK: the JSON was read.
    await c.expect('PONG\r\n');
  });

  it('TABs separate like spaces, and runs of blanks count as one', async () => {
    const c = await broker.connected(QUIET);
    c.send('SUB\tfoo\t1\r\nSUB  \t bar \t q \t 2 \r\n');
    c.send('PUB\tfoo\t\treply\t2\r\nhi\r\nPUB   bar    1\r\nb\r\n');
    await c.expect('MSG foo 1 reply 2\r\nhi\r\nMSG bar 2 1\r\nb\r\n');
    c.send('UNSUB\t1\r\nPUB foo 1\r\nx\r\n');
    await c.expectNothing();
  });

});

describe('INFO, +OK and PONG from a client', () => {
  it('INFO from the client is ignored', async () => {
    const c = await broker.connected({ verbose: true, pedantic: false });
    c.send('INFO {"server_id":"x","port":1}\r\nPING\r\n');
    await c.expect('PONG\r\n');
    await c.expectNothing();
  });

  it('INFO null and INFO with unknown fields from the client are ignored', async () => {
    const c = await broker.connected(QUIET);
    c.send('INFO null\r\nINFO {"no_such_field":[1]}\r\nINFO{"port":1}\r\nPING\r\n');
    await c.expect('PONG\r\n');
  });

  // nats-server unmarshals a client's INFO into its Info struct; an error closes the connection.
  for (const line of ['INFO {bad', 'INFO ', 'INFO []', 'INFO 5', 'INFO {"port":"x"}', 'INFOX {}']) {
    it(`${JSON.stringify(line)} (not an Info object) closes the connection silently`, async () => {
      const c = await broker.connected(QUIET);
      c.send(`${line}\r\nPING\r\n`);
      expect(await c.expectClose()).toBe('');
    });
  }

  it('+OK from the client is ignored', async () => {
    const c = await broker.connected(QUIET);
    c.send('+OK\r\nPING\r\n');
    await c.expect('PONG\r\n');
    expect(c.closed).toBe(false);
  });

  it('PONG from the client is accepted silently', async () => {
    const c = await broker.connected(QUIET);
    c.send('PONG\r\n');
    await c.expectNothing();
  });

});

describe('arguments and payloads', () => {
  // nats-server splits SUB and UNSUB arguments on space, TAB, CR and LF (splitArg), so a
  // stray CR before the CRLF is not part of the sid or the max.
  it('SUB: a stray CR before CRLF is not part of the sid', async () => {
    const c = await broker.connected(QUIET);
    c.send('SUB foo 1\r\r\nPUB foo 1\r\na\r\n');
    await c.expect('MSG foo 1 1\r\na\r\n');
  });

  it('UNSUB: a stray CR before CRLF is not part of the sid or the max', async () => {
    const c = await broker.connected(QUIET);
    c.send('SUB foo 1\r\nSUB bar 2\r\nUNSUB 1\r\r\nUNSUB 2 1\r\r\n');
    c.send('PUB foo 1\r\na\r\nPUB bar 1\r\nb\r\nPUB bar 1\r\nc\r\n');
    await c.expect('MSG bar 2 1\r\nb\r\n');
    await c.expectNothing();
  });

  it('payloads may contain CRLF and any byte', async () => {
    const c = await broker.connected(QUIET);
    const payload = '\r\n\x00\xff PUB x 1\r\n';
    c.send(`SUB foo 1\r\nPUB foo ${payload.length}\r\n${payload}\r\n`);
    await c.expect(`MSG foo 1 ${payload.length}\r\n${payload}\r\n`);
  });

  it('subjects are passed through byte for byte (UTF-8)', async () => {
    const c = await broker.connected(QUIET);
    const subject = Buffer.from('grüße.日本', 'utf8').toString('latin1');
    c.send(`SUB ${subject} 1\r\nPUB ${subject} 1\r\nx\r\n`);
    await c.expect(`MSG ${subject} 1 1\r\nx\r\n`);
  });
});
