/**
 * What subscribers receive, byte for byte: MSG and HMSG framing, fan-out to overlapping
 * subscriptions, header stripping, no-responders, auto-unsubscribe, echo and queue groups.
 * The expectations are nats-server's (checked against a real v2.9.10).
 */
import { describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker.js';
import type { WireClient } from '../helpers/wire.js';

const QUIET = { verbose: false, pedantic: false };
const HEADERS = { verbose: false, pedantic: false, headers: true };

const broker = useBroker();

/** A subscriber whose SUBs are known to be in place when this resolves. */
async function subscriber(subs: string, opts: Record<string, unknown> = QUIET): Promise<WireClient> {
  const c = await broker.connected(opts);
  c.send(subs);
  await c.expectNothing();
  return c;
}

async function readMsgs(c: WireClient, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await c.readMsg());
  return out;
}

describe('MSG framing', () => {
  it('MSG <subject> <sid> <size>', async () => {
    const sub = await subscriber('SUB foo 1\r\n');
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo 5\r\nhello\r\n');
    await sub.expect('MSG foo 1 5\r\nhello\r\n');
    await sub.expectNothing();
  });

  it('MSG <subject> <sid> <reply> <size>', async () => {
    const sub = await subscriber('SUB foo sid-x\r\n');
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo _INBOX.abc 5\r\nhello\r\n');
    await sub.expect('MSG foo sid-x _INBOX.abc 5\r\nhello\r\n');
  });

  it('an empty payload', async () => {
    const sub = await subscriber('SUB foo 1\r\n');
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo 0\r\n\r\n');
    await sub.expect('MSG foo 1 0\r\n\r\n');
  });

  it('the subject published, not the wildcard subscribed', async () => {
    const sub = await subscriber('SUB foo.* 1\r\nSUB > 2\r\n');
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo.bar 1\r\nx\r\n');
    expect((await readMsgs(sub, 2)).sort()).toEqual(['MSG foo.bar 1 1\r\nx\r\n', 'MSG foo.bar 2 1\r\nx\r\n']);
  });

  it('overlapping subscriptions of one client each get a copy', async () => {
    const sub = await subscriber('SUB foo 1\r\nSUB foo 2\r\nSUB * 3\r\n');
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo 2\r\nhi\r\n');
    // nats-server does not fix the order between subscriptions.
    expect((await readMsgs(sub, 3)).sort()).toEqual([
      'MSG foo 1 2\r\nhi\r\n',
      'MSG foo 2 2\r\nhi\r\n',
      'MSG foo 3 2\r\nhi\r\n',
    ]);
    await sub.expectNothing();
  });

  it('messages from one publisher arrive in order', async () => {
    const sub = await subscriber('SUB seq 1\r\n');
    const pub = await broker.connected(QUIET);
    let bytes = '';
    let want = '';
    for (let i = 0; i < 50; i++) {
      bytes += `PUB seq ${String(i).length}\r\n${i}\r\n`;
      want += `MSG seq 1 ${String(i).length}\r\n${i}\r\n`;
    }
    pub.send(bytes);
    await sub.expect(want);
  });
});

describe('size fields are echoed as the publisher wrote them', () => {
  // nats-server copies the size bytes of PUB/HPUB into MSG/HMSG (pa.szb, pa.hdb); it only
  // formats a number when it strips headers for a client without headers support.
  it('PUB foo 002 is delivered as MSG foo 1 002', async () => {
    const sub = await subscriber('SUB foo 1\r\n');
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo 002\r\nhi\r\nPUB foo rep 00\r\n\r\n');
    await sub.expect('MSG foo 1 002\r\nhi\r\nMSG foo 1 rep 00\r\n\r\n');
  });

  it('HPUB foo 012 0014 is delivered as HMSG foo 1 012 0014', async () => {
    const sub = await subscriber('SUB foo 1\r\n', HEADERS);
    const pub = await broker.connected(HEADERS);
    pub.send('HPUB foo 012 0014\r\nNATS/1.0\r\n\r\nhi\r\n');
    await sub.expect('HMSG foo 1 012 0014\r\nNATS/1.0\r\n\r\nhi\r\n');
  });

  it('HPUB foo 00 0002 (no headers) is delivered as MSG foo 1 0002', async () => {
    const sub = await subscriber('SUB foo 1\r\n', HEADERS);
    const pub = await broker.connected(HEADERS);
    pub.send('HPUB foo 00 0002\r\nhi\r\n');
    await sub.expect('MSG foo 1 0002\r\nhi\r\n');
  });

  it('stripped headers give a formatted size: HPUB foo 012 0014 reaches a plain client as MSG foo 1 2', async () => {
    const sub = await subscriber('SUB foo 1\r\n');
    const pub = await broker.connected(HEADERS);
    pub.send('HPUB foo 012 0014\r\nNATS/1.0\r\n\r\nhi\r\n');
    await sub.expect('MSG foo 1 2\r\nhi\r\n');
  });
});

describe('headers: HPUB and HMSG', () => {
  const HDR = 'NATS/1.0\r\nA: b\r\n\r\n'; // 18 bytes

  it('a headers client gets HMSG with the original sizes', async () => {
    const sub = await subscriber('SUB foo 1\r\n', HEADERS);
    const pub = await broker.connected(HEADERS);
    pub.send(`HPUB foo 18 20\r\n${HDR}hi\r\n`);
    await sub.expect(`HMSG foo 1 18 20\r\n${HDR}hi\r\n`);
  });

  it('HMSG with a reply', async () => {
    const sub = await subscriber('SUB foo 1\r\n', HEADERS);
    const pub = await broker.connected(HEADERS);
    pub.send(`HPUB foo rep 18 20\r\n${HDR}hi\r\n`);
    await sub.expect(`HMSG foo 1 rep 18 20\r\n${HDR}hi\r\n`);
  });

  it('a client without headers gets MSG without the header block, size total-hdr', async () => {
    const sub = await subscriber('SUB foo 1\r\n');
    const pub = await broker.connected(HEADERS);
    pub.send(`HPUB foo rep 18 20\r\n${HDR}hi\r\n`);
    await sub.expect('MSG foo 1 rep 2\r\nhi\r\n');
  });

  it('a headers-only message reaches a client without headers as an empty MSG', async () => {
    const sub = await subscriber('SUB foo 1\r\n');
    const pub = await broker.connected(HEADERS);
    pub.send('HPUB foo 12 12\r\nNATS/1.0\r\n\r\n\r\n');
    await sub.expect('MSG foo 1 0\r\n\r\n');
  });

  it('HPUB foo 0 2 is delivered as MSG, even to a headers client', async () => {
    const sub = await subscriber('SUB foo 1\r\n', HEADERS);
    const pub = await broker.connected(HEADERS);
    pub.send('HPUB foo 0 2\r\nhi\r\n');
    await sub.expect('MSG foo 1 2\r\nhi\r\n');
  });

  it('PUB reaches a headers client as MSG', async () => {
    const sub = await subscriber('SUB foo 1\r\n', HEADERS);
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo 2\r\nhi\r\n');
    await sub.expect('MSG foo 1 2\r\nhi\r\n');
  });

  it('the header block is not validated, only hdr <= total', async () => {
    const sub = await subscriber('SUB foo 1\r\n', HEADERS);
    const pub = await broker.connected(HEADERS);
    pub.send('HPUB foo 3 5\r\nabcde\r\n');
    await sub.expect('HMSG foo 1 3 5\r\nabcde\r\n');
  });
});

describe('no responders', () => {
  const NR = { verbose: false, pedantic: false, headers: true, no_responders: true };

  it('sends HMSG <reply> <sid> 16 16 with a 503 status to the publisher', async () => {
    const c = await broker.connected(NR);
    c.send('SUB _INBOX.r1 9\r\nPUB nobody.home _INBOX.r1 2\r\nhi\r\n');
    await c.expect('HMSG _INBOX.r1 9 16 16\r\nNATS/1.0 503\r\n\r\n\r\n');
    await c.expectNothing();
  });

  it('uses a wildcard subscription matching the reply', async () => {
    const c = await broker.connected(NR);
    c.send('SUB _INBOX.* 4\r\nHPUB nobody _INBOX.r2 12 14\r\nNATS/1.0\r\n\r\nhi\r\n');
    await c.expect('HMSG _INBOX.r2 4 16 16\r\nNATS/1.0 503\r\n\r\n\r\n');
  });

  it('sends nothing when the publisher has no subscription on the reply', async () => {
    const c = await broker.connected(NR);
    c.send('SUB other 1\r\nPUB nobody _INBOX.r3 2\r\nhi\r\n');
    await c.expectNothing();
  });

  it('sends nothing when someone received the message', async () => {
    const responder = await subscriber('SUB svc 1\r\n');
    const c = await broker.connected(NR);
    c.send('SUB _INBOX.r4 1\r\nPUB svc _INBOX.r4 2\r\nhi\r\n');
    await responder.expect('MSG svc 1 _INBOX.r4 2\r\nhi\r\n');
    await c.expectNothing();
  });

  it('a queue subscription on the reply does not count', async () => {
    const c = await broker.connected(NR);
    c.send('SUB _INBOX.r8 q 1\r\nPUB nobody _INBOX.r8 2\r\nhi\r\n');
    await c.expectNothing();
  });

  it('sends nothing without a reply subject', async () => {
    const c = await broker.connected(NR);
    c.send('SUB _INBOX.r5 1\r\nPUB nobody 2\r\nhi\r\n');
    await c.expectNothing();
  });

  it('sends nothing when the client did not ask for no_responders', async () => {
    const c = await broker.connected(HEADERS);
    c.send('SUB _INBOX.r6 1\r\nPUB nobody _INBOX.r6 2\r\nhi\r\n');
    await c.expectNothing();
  });

  it('counts the publisher itself as no responder when echo is off', async () => {
    const c = await broker.connected({ ...NR, echo: false });
    c.send('SUB svc 1\r\nSUB _INBOX.r7 2\r\nPUB svc _INBOX.r7 2\r\nhi\r\n');
    await c.expect('HMSG _INBOX.r7 2 16 16\r\nNATS/1.0 503\r\n\r\n\r\n');
    await c.expectNothing();
  });
});

describe('auto-unsubscribe: UNSUB <sid> <max>', () => {
  it('UNSUB 1 2 then 3 PUBs gives exactly 2 MSGs', async () => {
    const sub = await subscriber('SUB foo 1\r\nUNSUB 1 2\r\n');
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo 1\r\na\r\nPUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n');
    await pub.expectNothing();
    await sub.expect('MSG foo 1 1\r\na\r\nMSG foo 1 1\r\nb\r\n');
    await sub.expectNothing();
  });

  it('UNSUB 1 1 after one delivery removes the subscription at once', async () => {
    const sub = await subscriber('SUB foo 1\r\n');
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo 1\r\na\r\n');
    await sub.expect('MSG foo 1 1\r\na\r\n');
    sub.send('UNSUB 1 1\r\n');
    await sub.expectNothing();
    pub.send('PUB foo 1\r\nb\r\n');
    await pub.expectNothing();
    await sub.expectNothing();
  });

  it('the limit counts deliveries made before the UNSUB', async () => {
    const sub = await subscriber('SUB foo 1\r\n');
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo 1\r\na\r\n');
    await sub.expect('MSG foo 1 1\r\na\r\n');
    sub.send('UNSUB 1 2\r\n');
    await sub.expectNothing();
    pub.send('PUB foo 1\r\nb\r\nPUB foo 1\r\nc\r\n');
    await pub.expectNothing();
    await sub.expect('MSG foo 1 1\r\nb\r\n');
    await sub.expectNothing();
  });

  it('UNSUB 1 0 unsubscribes at once', async () => {
    const sub = await subscriber('SUB foo 1\r\nUNSUB 1 0\r\n');
    const pub = await broker.connected(QUIET);
    pub.send('PUB foo 1\r\na\r\n');
    await pub.expectNothing();
    await sub.expectNothing();
  });

  it('a removed sid can be reused', async () => {
    const c = await broker.connected(QUIET);
    c.send('SUB foo 1\r\nUNSUB 1 1\r\nPUB foo 1\r\na\r\nSUB bar 1\r\nPUB bar 1\r\nb\r\n');
    await c.expect('MSG foo 1 1\r\na\r\nMSG bar 1 1\r\nb\r\n');
    await c.expectNothing();
  });
});

describe('echo', () => {
  it('echo:false: own messages are not delivered, other clients get them', async () => {
    const other = await subscriber('SUB foo 1\r\n');
    const c = await broker.connected({ verbose: false, pedantic: false, echo: false });
    c.send('SUB foo 1\r\nPUB foo 2\r\nhi\r\n');
    await c.expectNothing();
    await other.expect('MSG foo 1 2\r\nhi\r\n');
    // Messages from others still reach it.
    other.send('PUB foo 2\r\nyo\r\n');
    await c.expect('MSG foo 1 2\r\nyo\r\n');
  });

  it('echo:false with the only queue member: nobody receives it', async () => {
    const c = await broker.connected({ verbose: false, pedantic: false, echo: false });
    c.send('SUB foo q 1\r\nPUB foo 2\r\nhi\r\n');
    await c.expectNothing();
  });

  it('echo:false: the queue group passes the message to another member', async () => {
    const other = await subscriber('SUB foo q 1\r\n');
    const c = await broker.connected({ verbose: false, pedantic: false, echo: false });
    c.send('SUB foo q 1\r\n');
    let bytes = '';
    let want = '';
    for (let i = 0; i < 10; i++) {
      bytes += `PUB foo 1\r\n${i}\r\n`;
      want += `MSG foo 1 1\r\n${i}\r\n`;
    }
    c.send(bytes);
    await c.expectNothing();
    await other.expect(want);
  });

  it('echo defaults to true', async () => {
    const c = await broker.connected(QUIET);
    c.send('SUB foo 1\r\nPUB foo 2\r\nhi\r\n');
    await c.expect('MSG foo 1 2\r\nhi\r\n');
  });
});

describe('queue groups', () => {
  it('queue names are not validated: dots and wildcards are plain bytes', async () => {
    const c = await broker.connected({ verbose: true, pedantic: false });
    c.send('SUB foo q.* 1\r\nSUB foo * 2\r\nSUB foo > 3\r\nSUB foo _sys_x 4\r\n');
    await c.expect('+OK\r\n+OK\r\n+OK\r\n+OK\r\n');
    c.send('PUB foo 1\r\nx\r\n');
    await c.expect('+OK\r\n');
    // Four groups with one member each: four copies.
    expect((await readMsgs(c, 4)).sort()).toEqual([
      'MSG foo 1 1\r\nx\r\n',
      'MSG foo 2 1\r\nx\r\n',
      'MSG foo 3 1\r\nx\r\n',
      'MSG foo 4 1\r\nx\r\n',
    ]);
    await c.expectNothing();
  });

  it('each message goes to exactly one member of each group, plus every plain subscriber', async () => {
    const a = await subscriber('SUB work q 1\r\n');
    const b = await subscriber('SUB work q 1\r\n');
    const other = await subscriber('SUB work q2 5\r\n');
    const plain = await subscriber('SUB work 7\r\n');
    const pub = await broker.connected(QUIET);
    const n = 20;
    let bytes = '';
    for (let i = 0; i < n; i++) bytes += 'PUB work 1\r\nx\r\n';
    pub.send(bytes);
    await pub.expectNothing();
    await plain.expect('MSG work 7 1\r\nx\r\n'.repeat(n));
    await other.expect('MSG work 5 1\r\nx\r\n'.repeat(n));
    const frame = 'MSG work 1 1\r\nx\r\n';
    const gotA = await a.drain();
    const gotB = await b.drain();
    expect(gotA).toBe(frame.repeat(gotA.length / frame.length));
    expect(gotB).toBe(frame.repeat(gotB.length / frame.length));
    const total = (gotA.length + gotB.length) / frame.length;
    expect(total).toBe(n);
  });
});
