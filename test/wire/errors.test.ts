/**
 * Every -ERR the server sends to a client, byte for byte, and whether the connection closes
 * after it; plus the inputs that close a connection silently (no -ERR, just EOF).
 * The expectations are nats-server's (checked against a real v2.9.10).
 */
import { describe, expect, it } from 'vitest';
import { useBroker } from '../helpers/broker.js';

const QUIET = { verbose: false, pedantic: false };
const QUIET_HEADERS = { verbose: false, pedantic: false, headers: true };

const broker = useBroker();

const UNKNOWN_OP = "-ERR 'Unknown Protocol Operation'\r\n";

describe("-ERR 'Unknown Protocol Operation' then close", () => {
  const cases: Array<[string, string]> = [
    ['an unknown op', 'FOO bar\r\n'],
    ['an unknown op after a valid prefix (PUBX)', 'PUBX foo 1\r\n'],
    ['UNSUB with no arguments', 'UNSUB\r\n'],
    ['SUB with no space after the op', 'SUBfoo 1\r\n'],
    ['a payload longer than its size', 'PUB foo 2\r\nhello\r\n'],
    ['a payload ended by a bare LF', 'PUB foo 2\r\nhi\n'],
    ['a payload ended by nothing but junk', 'PUB foo 2\r\nhiXY'],
    ['a client sending MSG', 'MSG foo 1 2\r\nhi\r\n'],
    ['a client sending HMSG', 'HMSG foo 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n'],
    ['a client sending a route op (RS+)', 'RS+ $G foo\r\n'],
    ['a client sending a leaf op (LS+)', 'LS+ $G foo\r\n'],
    ['PINX', 'PINX\r\n'],
    ['-ERR with no space', '-ERRX\r\n'],
    ['a lone +', '+\r\n'],
    ['a bare LF', '\n'],
    ['an empty line', '\r\n'],
  ];
  for (const [what, bytes] of cases) {
    it(`for ${what}: ${JSON.stringify(bytes)}`, async () => {
      const c = await broker.connected(QUIET);
      c.send(bytes);
      expect(await c.expectClose()).toBe(UNKNOWN_OP);
    });
  }

  it('also before CONNECT', async () => {
    const c = await broker.open();
    c.send('XYZ\r\n');
    expect(await c.expectClose()).toBe(UNKNOWN_OP);
  });

  it('ops parsed before the bad byte in the same chunk are answered first', async () => {
    const c = await broker.connected({ verbose: true, pedantic: false });
    c.send('SUB foo 1\r\nPING\r\nBAD\r\n');
    expect(await c.expectClose()).toBe(`+OK\r\nPONG\r\n${UNKNOWN_OP}`);
  });
});

describe('Maximum Payload Violation', () => {
  it('closes the connection at the default limit of 1 MiB (size 1048577)', async () => {
    const c = await broker.connected(QUIET);
    c.send('PUB foo 1048577\r\n');
    expect(await c.expectClose()).toBe("-ERR 'Maximum Payload Violation'\r\n");
  });

  it('accepts exactly 1 MiB', async () => {
    const sub = await broker.connected(QUIET);
    sub.send('SUB big 1\r\n');
    await sub.expectNothing();
    const pub = await broker.connected(QUIET);
    const payload = 'x'.repeat(1048576);
    pub.send(`PUB big 1048576\r\n${payload}\r\n`);
    await sub.expect('MSG big 1 1048576\r\n');
    expect(await sub.readBytes(1048576 + 2, 5000)).toBe(`${payload}\r\n`);
    await pub.expectNothing();
  });

  describe('with maxPayload: 8', () => {
    const small = useBroker({ maxPayload: 8 });

    it('advertises max_payload 8 in INFO', async () => {
      const c = await small.open();
      expect(c.info.max_payload).toBe(8);
    });

    it('accepts a PUB of exactly 8 bytes', async () => {
      const c = await small.connected(QUIET);
      c.send('SUB foo 1\r\nPUB foo 8\r\n12345678\r\n');
      await c.expect('MSG foo 1 8\r\n12345678\r\n');
    });

    it('refuses PUB foo 9 with -ERR and closes, before the payload arrives', async () => {
      const c = await small.connected(QUIET);
      c.send('PUB foo 9\r\n');
      expect(await c.expectClose()).toBe("-ERR 'Maximum Payload Violation'\r\n");
    });

    it('counts headers in the HPUB total', async () => {
      const c = await small.connected(QUIET_HEADERS);
      c.send('HPUB foo 4 9\r\n');
      expect(await c.expectClose()).toBe("-ERR 'Maximum Payload Violation'\r\n");
    });

    it('applies before CONNECT too, with no +OK first', async () => {
      const c = await small.open();
      c.send('PUB foo 100\r\n');
      expect(await c.expectClose()).toBe("-ERR 'Maximum Payload Violation'\r\n");
    });
  });
});

describe("-ERR 'maximum control line exceeded' (maxControlLine: 64)", () => {
  const mcl = useBroker({ maxControlLine: 64 });
  const MCL = "-ERR 'maximum control line exceeded'\r\n";

  it('accepts an argument line of exactly 64 bytes', async () => {
    const c = await mcl.connected({ verbose: true, pedantic: false });
    const subject = 's'.repeat(62); // "<62 bytes> 1" is 64 bytes
    c.send(`SUB ${subject} 1\r\n`);
    await c.expect('+OK\r\n');
    await c.expectNothing();
  });

  it('closes on a complete line of 65 bytes', async () => {
    const c = await mcl.connected(QUIET);
    c.send(`SUB ${'s'.repeat(63)} 1\r\n`);
    expect(await c.expectClose()).toBe(MCL);
  });

  it('closes on a much longer complete line', async () => {
    const c = await mcl.connected(QUIET);
    c.send(`PUB ${'p'.repeat(200)} 2\r\nhi\r\n`);
    expect(await c.expectClose()).toBe(MCL);
  });

  it('closes on a partial line with no newline yet once it exceeds the limit', async () => {
    const c = await mcl.connected(QUIET);
    c.send(`PUB ${'a'.repeat(100)}`);
    expect(await c.expectClose()).toBe(MCL);
  });

  it('closes on a partial line that grows past the limit over several writes', async () => {
    const c = await mcl.connected(QUIET);
    c.send(`SUB ${'a'.repeat(40)}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 20));
    c.send('b'.repeat(40));
    expect(await c.expectClose()).toBe(MCL);
  });

  it('covers the CONNECT JSON', async () => {
    const c = await mcl.open();
    c.send(`CONNECT {"verbose":false,"name":"${'n'.repeat(80)}"}\r\n`);
    expect(await c.expectClose()).toBe(MCL);
  });
});

describe("-ERR 'Invalid Subject' keeps the connection open", () => {
  for (const subject of ['foo..bar', 'foo.>.bar', '.foo', 'foo.', '>.foo']) {
    it(`SUB ${subject} 1`, async () => {
      const c = await broker.connected({ verbose: true, pedantic: false });
      c.send(`SUB ${subject} 1\r\n`);
      // No +OK after an error.
      await c.expect("-ERR 'Invalid Subject'\r\n");
      c.send('PING\r\n');
      await c.expect('PONG\r\n');
      expect(c.closed).toBe(false);
      // The subscription does not exist; sid 1 is still free.
      c.send('SUB ok 1\r\nPUB ok 2\r\nhi\r\n');
      await c.expect('+OK\r\n+OK\r\nMSG ok 1 2\r\nhi\r\n');
      await c.expectNothing();
    });
  }
});

describe("-ERR 'invalid client protocol' then close", () => {
  for (const protocol of [2, -1, 2147483648]) {
    it(`for "protocol":${protocol} (no +OK despite default verbose)`, async () => {
      const c = await broker.open();
      c.send(`CONNECT {"protocol":${protocol}}\r\n`);
      expect(await c.expectClose()).toBe("-ERR 'invalid client protocol'\r\n");
    });
  }

  for (const protocol of [0, 1]) {
    it(`accepts "protocol":${protocol}`, async () => {
      const c = await broker.open();
      c.send(`CONNECT {"protocol":${protocol}}\r\n`);
      await c.expect('+OK\r\n');
      await c.expectNothing();
    });
  }
});

describe("-ERR 'no responders requires headers support' then close", () => {
  for (const json of ['{"no_responders":true}', '{"verbose":false,"headers":false,"no_responders":true}']) {
    it(`for CONNECT ${json}`, async () => {
      const c = await broker.open();
      c.send(`CONNECT ${json}\r\n`);
      expect(await c.expectClose()).toBe("-ERR 'no responders requires headers support'\r\n");
    });
  }
});

describe("-ERR 'maximum subscriptions exceeded' (maxSubscriptions: 2)", () => {
  const limited = useBroker({ maxSubscriptions: 2 });

  it('refuses the third SUB, keeps the connection, and drops that SUB', async () => {
    const c = await limited.connected({ verbose: true, pedantic: false });
    c.send('SUB a 1\r\nSUB b 2\r\n');
    await c.expect('+OK\r\n+OK\r\n');
    c.send('SUB c 3\r\n');
    await c.expect("-ERR 'maximum subscriptions exceeded'\r\n");
    c.send('PING\r\n');
    await c.expect('PONG\r\n');
    c.send('PUB c 1\r\nx\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
    c.send('PUB a 1\r\nx\r\n');
    await c.expect('+OK\r\nMSG a 1 1\r\nx\r\n');
  });

  it('allows a new SUB once one was removed', async () => {
    const c = await limited.connected(QUIET);
    c.send('SUB a 1\r\nSUB b 2\r\nUNSUB 1\r\nSUB c 3\r\nPUB c 1\r\nx\r\n');
    await c.expect('MSG c 3 1\r\nx\r\n');
    await c.expectNothing();
  });
});

describe("-ERR 'maximum connections exceeded' (maxConnections: 1)", () => {
  const one = useBroker({ maxConnections: 1 });

  it('is sent after the INFO line, then the connection closes', async () => {
    const first = await one.connected(QUIET);
    const second = await one.open(true);
    const rest = await second.expectClose();
    const lines = rest.split('\r\n');
    expect(lines.length).toBe(3);
    expect(lines[0]).toMatch(/^INFO \{.*\} $/);
    expect(lines[1]).toBe("-ERR 'maximum connections exceeded'");
    expect(lines[2]).toBe('');
    // The first connection is unaffected.
    await first.expectNothing();
  });
});

describe('reserved subjects: Permissions Violation, connection stays open', () => {
  it('publish to _GR_.x is refused and not delivered', async () => {
    const sub = await broker.connected(QUIET);
    sub.send('SUB _GR_.> 1\r\n');
    await sub.expectNothing();
    const c = await broker.connected({ verbose: true, pedantic: false });
    c.send('PUB _GR_.x 2\r\nhi\r\n');
    // -ERR and no +OK.
    await c.expect('-ERR \'Permissions Violation for Publish to "_GR_.x"\'\r\n');
    await c.expectNothing();
    await sub.expectNothing();
  });

  for (const reply of ['_R_.x', '_GR_.x', '$JS.ACK.x']) {
    it(`publish with reply ${reply} is refused and not delivered`, async () => {
      const sub = await broker.connected(QUIET);
      sub.send('SUB foo 1\r\n');
      await sub.expectNothing();
      const c = await broker.connected({ verbose: true, pedantic: false });
      c.send(`PUB foo ${reply} 2\r\nhi\r\n`);
      await c.expect(`-ERR 'Permissions Violation for Publish with Reply of "${reply}"'\r\n`);
      await c.expectNothing();
      await sub.expectNothing();
      // Still usable.
      c.send('PUB foo 2\r\nok\r\n');
      await c.expect('+OK\r\n');
      await sub.expect('MSG foo 1 2\r\nok\r\n');
    });
  }

  it('HPUB with a reserved reply is refused as well', async () => {
    const c = await broker.connected({ verbose: true, pedantic: false, headers: true });
    c.send('SUB foo 1\r\n');
    await c.expect('+OK\r\n');
    c.send('HPUB foo _R_.x 12 14\r\nNATS/1.0\r\n\r\nhi\r\n');
    await c.expect('-ERR \'Permissions Violation for Publish with Reply of "_R_.x"\'\r\n');
    await c.expectNothing();
  });

  it('SUB with queue _sys_ is refused, and no subscription is made', async () => {
    const c = await broker.connected({ verbose: true, pedantic: false });
    c.send('SUB foo _sys_ 1\r\n');
    await c.expect('-ERR \'Permissions Violation for Subscription to "foo" using queue "_sys_"\'\r\n');
    c.send('PUB foo 1\r\nx\r\n');
    await c.expect('+OK\r\n');
    await c.expectNothing();
  });
});

describe('silent closes: no -ERR, just EOF', () => {
  const cases: Array<[string, Record<string, unknown> | null, string]> = [
    ['PUB with one argument', QUIET, 'PUB foo\r\n'],
    ['PUB with four arguments', QUIET, 'PUB foo bar baz 2\r\n'],
    ['PUB with a negative size', QUIET, 'PUB foo -1\r\n'],
    ['PUB with a 10-digit size', QUIET, 'PUB foo 1234567890\r\n'],
    ['PUB with a non-numeric size', QUIET, 'PUB foo x2\r\n'],
    ['HPUB without headers negotiated', QUIET, 'HPUB foo 12 14\r\n'],
    ['HPUB before CONNECT (headers not negotiated)', null, 'HPUB foo 12 14\r\n'],
    ['HPUB with hdr > total', QUIET_HEADERS, 'HPUB foo 14 12\r\n'],
    ['HPUB with one size only', QUIET_HEADERS, 'HPUB foo 12\r\n'],
    ['invalid CONNECT JSON', null, 'CONNECT {bad\r\n'],
    ['CONNECT with "verbose":"yes"', null, 'CONNECT {"verbose":"yes"}\r\n'],
    ['CONNECT with "protocol":1.0 (not a JSON integer for Go)', null, 'CONNECT {"protocol":1.0}\r\n'],
    ['CONNECT with "protocol":1e0', null, 'CONNECT {"protocol":1e0}\r\n'],
    ['CONNECT with "protocol" overflowing int64', null, 'CONNECT {"protocol":9223372036854775808}\r\n'],
    ['CONNECT with "name":123', null, 'CONNECT {"name":123}\r\n'],
    ['CONNECT with "import":5', null, 'CONNECT {"import":5}\r\n'],
    ['CONNECT with "export":"x"', null, 'CONNECT {"export":"x"}\r\n'],
    ['CONNECT with "import":{"allow":5}', null, 'CONNECT {"import":{"allow":5}}\r\n'],
    ['CONNECT with a JSON array', null, 'CONNECT []\r\n'],
    ['CONNECT with trailing junk after the JSON', null, 'CONNECT {"verbose":false} x\r\n'],
    ['CONNECT with no JSON', null, 'CONNECT\r\n'],
    ['SUB with one argument', QUIET, 'SUB foo\r\n'],
    ['SUB with four arguments', QUIET, 'SUB foo q 1 extra\r\n'],
    ['UNSUB with three arguments', QUIET, 'UNSUB 1 2 3\r\n'],
    ["a client sending -ERR 'x'", QUIET, "-ERR 'x'\r\n"],
  ];
  for (const [what, connectOpts, bytes] of cases) {
    it(`${what}: ${JSON.stringify(bytes)}`, async () => {
      const c = connectOpts === null ? await broker.open() : await broker.connected(connectOpts);
      c.send(bytes);
      expect(await c.expectClose()).toBe('');
    });
  }

  it('a verbose connection gets no +OK for the bad op', async () => {
    const c = await broker.connected({ verbose: true, pedantic: false });
    c.send('SUB foo 1\r\nSUB bar\r\n');
    expect(await c.expectClose()).toBe('+OK\r\n');
  });
});
