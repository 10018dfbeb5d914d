/**
 * verbose and pedantic on the wire: the defaults a connection runs on before (or without)
 * CONNECT fields, every +OK a verbose connection gets, and pedantic subject checks.
 * The expectations are nats-server's (checked against a real v2.9.10).
 */
import { describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker.js';

const QUIET = { verbose: false, pedantic: false };
const INVALID_PUB = "-ERR 'Invalid Publish Subject'\r\n";

const broker = useBroker();

describe('defaults when CONNECT leaves fields out', () => {
  it('CONNECT {} is answered with +OK (verbose defaults to true)', async () => {
    const c = await broker.open();
    c.send('CONNECT {}\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
  });

  it('CONNECT {} keeps verbose on for every later op', async () => {
    const c = await broker.open();
    c.send('CONNECT {}\r\nSUB foo 1\r\nPUB foo 2\r\nhi\r\nUNSUB 1\r\n');
    await c.expect('+OK\r\n+OK\r\n+OK\r\nMSG foo 1 2\r\nhi\r\n+OK\r\n');
    await c.expectNothing();
  });

  it('CONNECT {} keeps pedantic on', async () => {
    const c = await broker.open();
    c.send('CONNECT {}\r\nPUB foo.* 2\r\nhi\r\n');
    await c.expect(`+OK\r\n${INVALID_PUB}+OK\r\n`);
  });

  it('"verbose":false alone leaves pedantic on', async () => {
    const c = await broker.open();
    c.send('CONNECT {"verbose":false}\r\nPUB foo.> 2\r\nhi\r\n');
    await c.expect(INVALID_PUB);
    await c.expectNothing();
  });

  it('CONNECT null is accepted like {}', async () => {
    const c = await broker.open();
    c.send('CONNECT null\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
  });

  it('null fields keep their defaults', async () => {
    const c = await broker.open();
    c.send('CONNECT {"verbose":null,"pedantic":null}\r\nPUB foo.* 2\r\nhi\r\n');
    await c.expect(`+OK\r\n${INVALID_PUB}+OK\r\n`);
  });

  it('unknown CONNECT fields are ignored', async () => {
    const c = await broker.open();
    c.send('CONNECT {"verbose":false,"pedantic":false,"no_such_field":[1,2],"lang":"x"}\r\nPING\r\n');
    await c.expect('PONG\r\n');
  });

  it('ops before CONNECT are accepted and answered with +OK', async () => {
    const c = await broker.open();
    c.send('SUB foo 1\r\n');
    await c.expect('+OK\r\n');
    c.send('PUB foo 2\r\nhi\r\n');
    await c.expect('+OK\r\nMSG foo 1 2\r\nhi\r\n');
    c.send('PUB foo reply 3\r\nabc\r\n');
    await c.expect('+OK\r\nMSG foo 1 reply 3\r\nabc\r\n');
    c.send('UNSUB 1\r\n');
    await c.expect('+OK\r\n');
    c.send('PUB foo 2\r\nhi\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
  });

  it('ops before CONNECT are pedantic', async () => {
    const c = await broker.open();
    c.send('PUB foo..bar 2\r\nhi\r\n');
    await c.expect(`${INVALID_PUB}+OK\r\n`);
    await c.expectNothing();
  });

  it('a later CONNECT switches verbose off', async () => {
    const c = await broker.open();
    c.send('SUB foo 1\r\n');
    await c.expect('+OK\r\n');
    c.send('CONNECT {"verbose":false,"pedantic":false}\r\nPUB foo 2\r\nhi\r\n');
    await c.expect('MSG foo 1 2\r\nhi\r\n');
    await c.expectNothing();
  });
});

describe('verbose: +OK after each op', () => {
  const VERBOSE = { verbose: true, pedantic: false };

  it('after SUB, PUB and UNSUB', async () => {
    const c = await broker.connected(VERBOSE);
    c.send('SUB foo 1\r\n');
    await c.expect('+OK\r\n');
    c.send('PUB foo 5\r\nhello\r\n');
    // +OK comes before the delivery.
    await c.expect('+OK\r\nMSG foo 1 5\r\nhello\r\n');
    c.send('UNSUB 1\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
  });

  it('after a queue SUB', async () => {
    const c = await broker.connected(VERBOSE);
    c.send('SUB foo q 1\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
  });

  it('after UNSUB of an unknown sid', async () => {
    const c = await broker.connected(VERBOSE);
    c.send('UNSUB 99\r\n');
    await c.expect('+OK\r\n');
    c.send('UNSUB 99 5\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
  });

  it('after a SUB that reuses a sid, which keeps the first subscription', async () => {
    const c = await broker.connected(VERBOSE);
    c.send('SUB foo 1\r\n');
    await c.expect('+OK\r\n');
    c.send('SUB bar 1\r\n');
    await c.expect('+OK\r\n');
    c.send('PUB bar 1\r\nb\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
    c.send('PUB foo 1\r\nf\r\n');
    await c.expect('+OK\r\nMSG foo 1 1\r\nf\r\n');
    await c.expectNothing();
  });

  it('after PUB with no subscriber', async () => {
    const c = await broker.connected(VERBOSE);
    c.send('PUB nobody 0\r\n\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
  });

  it('after HPUB', async () => {
    const c = await broker.connected({ verbose: true, pedantic: false, headers: true });
    c.send('HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
  });

  it('not after PING, PONG, +OK or INFO from the client', async () => {
    const c = await broker.connected(VERBOSE);
    c.send('PONG\r\n+OK\r\nINFO {}\r\nPING\r\n');
    await c.expect('PONG\r\n');
    await c.expectNothing();
  });

  it('one +OK per op when many ops arrive in one chunk', async () => {
    const c = await broker.connected(VERBOSE);
    c.send('SUB a 1\r\nSUB b 2\r\nUNSUB 2\r\nPUB c 0\r\n\r\nPING\r\n');
    await c.expect('+OK\r\n+OK\r\n+OK\r\n+OK\r\nPONG\r\n');
  });
});

describe('verbose false: no +OK at all', () => {
  it('after CONNECT, SUB, PUB, UNSUB', async () => {
    const c = await broker.open();
    c.send('CONNECT {"verbose":false,"pedantic":false}\r\n');
    c.send('SUB foo 1\r\nSUB foo 1\r\nUNSUB 99\r\nPUB bar 2\r\nhi\r\n');
    await c.expectNothing();
    c.send('PUB foo 2\r\nhi\r\nUNSUB 1\r\n');
    await c.expect('MSG foo 1 2\r\nhi\r\n');
    await c.expectNothing();
  });
});

describe('pedantic', () => {
  const PEDANTIC = { verbose: true, pedantic: true };

  it("PUB foo.* gets -ERR 'Invalid Publish Subject' then +OK, and is still delivered", async () => {
    const sub = await broker.connected(QUIET);
    sub.send('SUB foo.* 7\r\n');
    await sub.expectNothing();
    const c = await broker.connected(PEDANTIC);
    c.send('PUB foo.* 2\r\nhi\r\n');
    await c.expect(`${INVALID_PUB}+OK\r\n`);
    await c.expectNothing();
    expect(c.closed).toBe(false);
    await sub.expect('MSG foo.* 7 2\r\nhi\r\n');
  });

  it('the error, the +OK and the own delivery come in that order', async () => {
    const c = await broker.connected(PEDANTIC);
    c.send('SUB foo.* 1\r\n');
    await c.expect('+OK\r\n');
    c.send('PUB foo.* 2\r\nhi\r\n');
    await c.expect(`${INVALID_PUB}+OK\r\nMSG foo.* 1 2\r\nhi\r\n`);
    await c.expectNothing();
  });

  it('PUB foo.> is reported and delivered to a foo.> subscriber', async () => {
    const sub = await broker.connected(QUIET);
    sub.send('SUB foo.> 1\r\n');
    await sub.expectNothing();
    const c = await broker.connected(PEDANTIC);
    c.send('PUB foo.> 2\r\nhi\r\n');
    await c.expect(`${INVALID_PUB}+OK\r\n`);
    await sub.expect('MSG foo.> 1 2\r\nhi\r\n');
  });

  for (const subject of ['*', '>', '.foo', 'foo.', 'a.*.b']) {
    it(`PUB ${subject} is an invalid publish subject`, async () => {
      const c = await broker.connected(PEDANTIC);
      c.send(`PUB ${subject} 1\r\nx\r\n`);
      await c.expect(`${INVALID_PUB}+OK\r\n`);
      await c.expectNothing();
    });
  }

  it('PUB foo..bar gets -ERR then +OK, and matches no subscriber', async () => {
    const sub = await broker.connected(QUIET);
    sub.send('SUB > 1\r\nSUB foo.> 2\r\nSUB foo.*.bar 3\r\n');
    await sub.expectNothing();
    const c = await broker.connected(PEDANTIC);
    c.send('PUB foo..bar 2\r\nhi\r\n');
    await c.expect(`${INVALID_PUB}+OK\r\n`);
    await c.expectNothing();
    await sub.expectNothing();
  });

  it('HPUB subjects are checked too', async () => {
    const c = await broker.connected({ verbose: false, pedantic: true, headers: true });
    c.send('SUB foo.* 1\r\nHPUB foo.* 12 14\r\nNATS/1.0\r\n\r\nhi\r\n');
    await c.expect(`${INVALID_PUB}HMSG foo.* 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n`);
  });

  it('without verbose: only the -ERR, and the message is delivered', async () => {
    const c = await broker.connected({ verbose: false, pedantic: true });
    c.send('SUB foo.* 1\r\nPUB foo.* 2\r\nhi\r\n');
    await c.expect(`${INVALID_PUB}MSG foo.* 1 2\r\nhi\r\n`);
    await c.expectNothing();
  });

  it('valid literal subjects get no error', async () => {
    const c = await broker.connected(PEDANTIC);
    c.send('PUB foo.bar 2\r\nhi\r\nPUB foo*.b>r 2\r\nhi\r\nPUB $SYS.x_y-z 2\r\nhi\r\n');
    await c.expect('+OK\r\n+OK\r\n+OK\r\n');
    await c.expectNothing();
  });

  it('not pedantic: no error, and foo.* is matched literally', async () => {
    const sub = await broker.connected(QUIET);
    sub.send('SUB foo.* 1\r\nSUB foo.bar 2\r\nSUB foo.> 3\r\n');
    await sub.expectNothing();
    const c = await broker.connected({ verbose: true, pedantic: false });
    c.send('PUB foo.* 2\r\nhi\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
    const got = [await sub.readMsg(), await sub.readMsg()].sort();
    expect(got).toEqual(['MSG foo.* 1 2\r\nhi\r\n', 'MSG foo.* 3 2\r\nhi\r\n']);
    await sub.expectNothing();
  });

  it('not pedantic: PUB foo..bar is accepted silently and matches nothing', async () => {
    const sub = await broker.connected(QUIET);
    sub.send('SUB > 1\r\n');
    await sub.expectNothing();
    const c = await broker.connected({ verbose: true, pedantic: false });
    c.send('PUB foo..bar 2\r\nhi\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
    await sub.expectNothing();
  });
});
