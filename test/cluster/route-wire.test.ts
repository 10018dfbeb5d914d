/**
 * The route protocol on the wire: a raw socket plays a peer server, so the exact handshake,
 * interest (RS+/RS-) and message (RMSG) bytes can be asserted.
 */
import { describe, expect, it } from 'vitest';
import { type NatsServer } from '../../src/index.js';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const scope = useScope();

function server(): Promise<NatsServer> {
  return scope.server({ serverName: 'emb', cluster: { name: 'C' } });
}

/** A raw connection, closed after the test. */
function track(w: WireClient): WireClient {
  scope.defer(() => w.close());
  return w;
}

const PEER_ID = 'NPEERAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** Connects to the route port as a peer server named `fake` and completes the handshake. */
async function peer(s: NatsServer, id = PEER_ID, name = 'fake'): Promise<WireClient> {
  const w = track(await WireClient.open(s.clusterPort));
  // The interest of the system account's services ($SYS.REQ.>), sent to every peer, is not what these tests look at.
  w.dropLines = /RS[+-] \$SYS [^\r]*\r\n/g;
  expect(w.info).toMatchObject({ server_name: 'emb', proto: 2, cluster: 'C', headers: true, port: s.clusterPort });
  expect(w.info.connect_urls).toEqual([`127.0.0.1:${s.port}`]);
  expect(w.info).not.toHaveProperty('route_pool_size');
  expect(w.info).not.toHaveProperty('compression');
  w.send(`CONNECT {"echo":true,"verbose":false,"pedantic":false,"tls_required":false,"headers":true,"name":"${id}","cluster":"C"}\r\n`);
  w.send(`INFO {"server_id":"${id}","server_name":"${name}","version":"2.9.10","proto":2,"host":"127.0.0.1","port":1,"headers":true,"max_payload":1048576,"cluster":"C","connect_urls":["127.0.0.1:9"]}\r\n`);
  return w;
}

describe('route handshake', () => {
  it('sends INFO at once on accept and registers the peer after its INFO', async () => {
    const s = await server();
    await peer(s);
    await eventually(() => s.routes().length === 1, 'registration');
    expect(s.routes()[0]).toMatchObject({ id: PEER_ID, name: 'fake', solicited: false });
  });

  it('refuses a client CONNECT (non-empty lang) on the route port', async () => {
    const s = await server();
    const w = track(await WireClient.open(s.clusterPort));
    w.send('CONNECT {"lang":"node","verbose":false}\r\n');
    await w.expect("-ERR 'attempted to connect to route port'\r\n");
    await w.expectClose();
  });

  it('refuses another cluster name', async () => {
    const s = await server();
    const w = track(await WireClient.open(s.clusterPort));
    w.send('CONNECT {"name":"x","cluster":"OTHER"}\r\n');
    await w.expect(`-ERR 'Rejecting connection, cluster name "OTHER" does not match "C"'\r\n`);
    await w.expectClose();
    // No name at all does not match either (route.go processRouteConnect; `null` is `{}`).
    for (const json of ['{"name":"x"}', 'null']) {
      const v = track(await WireClient.open(s.clusterPort));
      v.send(`CONNECT ${json}\r\n`);
      await v.expect(`-ERR 'Rejecting connection, cluster name "" does not match "C"'\r\n`);
      await v.expectClose();
    }
  });

  it('closes a second connection from the same server (duplicate route)', async () => {
    const s = await server();
    await peer(s);
    await eventually(() => s.routes().length === 1, 'first route');
    const dup = await peer(s);
    await dup.expectClose();
    expect(s.routes()).toHaveLength(1);
  });
});

/**
 * An INFO or CONNECT Go cannot decode (client.go processInfo/processConnect, route.go
 * processRouteConnect: json.Unmarshal into Info, ClientOpts, connectInfo) makes nats-server's
 * read loop close the route as a protocol violation, without -ERR (nats-server 2.9.10 on the
 * wire: test/conformance/cluster-interop.test.ts).
 */
describe('route INFO and CONNECT that Go cannot decode', () => {
  it('closes the route without a word: not an object, bad JSON, a field of the wrong type', async () => {
    const s = await server();
    const sent = [
      ...['[1]', '1', '"s"', 'true', '{bad', '{"server_id":"X","port":"1"}'].map((j) => `INFO ${j}`),
      ...['[1]', '1', '"s"', 'false', '{bad', '{"verbose":"x"}', '{"cluster":5}', '{"name":"x","cluster":"C","lnoc":"yes"}'].map((j) => `CONNECT ${j}`),
    ];
    for (const line of sent) {
      const w = track(await WireClient.open(s.clusterPort));
      w.send(`${line}\r\n`);
      expect(await w.expectClose(), line).toBe('');
    }
    expect(s.routes()).toHaveLength(0);
  });

  it('refuses a CONNECT naming an account (client.go processConnect: an authorization violation)', async () => {
    const s = await server();
    for (const json of ['{"name":"x","cluster":"C","account":"A"}', '{"name":"x","cluster":"C","new_account":true}']) {
      const w = track(await WireClient.open(s.clusterPort));
      w.send(`CONNECT ${json}\r\n`);
      expect(await w.expectClose(), json).toBe("-ERR 'Authorization Violation'\r\n");
    }
    expect(s.routes()).toHaveLength(0);
  });
});

describe('route liveness', () => {
  it('closes a route whose peer answers no PING: -ERR \'Stale Connection\' after maxPingsOut', async () => {
    const s = await scope.server({ serverName: 'emb', cluster: { name: 'C' }, pingInterval: 50, maxPingsOut: 1 });
    const w = await peer(s);
    await eventually(() => s.routes().length === 1, 'registration');
    // The first PING comes after 1 s (firstPingInterval, up to 20% more); unanswered, the next tick closes the route.
    await w.expect('PING\r\n', 3000);
    await w.expect("-ERR 'Stale Connection'\r\n");
    await w.expectClose();
    await eventually(() => s.routes().length === 0, 'route removed');
  });
});

describe('interest and messages', () => {
  it('exports local interest as RS+/RS- with queue weights, snapshot first', async () => {
    const s = await server();
    const c = track(await WireClient.connected(s.port));
    c.send('SUB before 1\r\nSUB work q 2\r\n');
    await c.expectNothing();
    const w = await peer(s);
    // The full snapshot when the route comes up.
    await w.expect('RS+ $G before\r\nRS+ $G work q 1\r\n');
    c.send('SUB work q 3\r\nSUB before 4\r\nSUB fresh 5\r\n');
    await w.expect('RS+ $G work q 2\r\nRS+ $G fresh\r\n'); // second `before` sub: no RS+
    c.send('UNSUB 3\r\nUNSUB 4\r\nUNSUB 1\r\nUNSUB 2\r\n');
    await w.expect('RS+ $G work q 1\r\nRS- $G before\r\nRS- $G work q\r\n');
  });

  it('forwards one RMSG per message with the reply and the chosen queue groups', async () => {
    const s = await server();
    const w = await peer(s);
    await eventually(() => s.routes().length === 1, 'route');
    w.send('RS+ $G foo\r\nRS+ $G foo.* \r\nRS+ $G foo qx 1\r\n');
    const c = track(await WireClient.connected(s.port, { verbose: false, headers: true }));
    await eventually(() => s.stats().subscriptions === 3, 'remote interest');
    c.send('PUB foo r.1 2\r\nhi\r\n');
    await w.expect('RMSG $G foo + r.1 qx 2\r\nhi\r\n');
    c.send('PUB foo 2\r\nho\r\n');
    await w.expect('RMSG $G foo | qx 2\r\nho\r\n');
    c.send('PUB foo.bar 1\r\nx\r\n');
    await w.expect('RMSG $G foo.bar 1\r\nx\r\n');
    c.send('HPUB foo.bar 12 14\r\nNATS/1.0\r\n\r\nhi\r\n');
    await w.expect('HMSG $G foo.bar 12 14\r\nNATS/1.0\r\n\r\nhi\r\n');
  });

  it('delivers routed messages to local subscribers only (one hop), and queue groups only when named', async () => {
    const s = await server();
    const w1 = await peer(s);
    const w2 = await peer(s, 'NPEERBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', 'fake2');
    await eventually(() => s.routes().length === 2, 'two routes');
    w2.send('RS+ $G foo\r\n');
    const c = track(await WireClient.connected(s.port));
    c.send('SUB foo 1\r\nSUB foo g 2\r\n');
    await c.expectNothing();
    await eventually(() => s.stats().subscriptions === 3, 'interest');
    w1.send('RMSG $G foo 2\r\nhi\r\n');
    await c.expect('MSG foo 1 2\r\nhi\r\n');
    w1.send('RMSG $G foo | g 2\r\nqq\r\n');
    await c.expect('MSG foo 1 2\r\nqq\r\nMSG foo 2 2\r\nqq\r\n');
    w1.send('RMSG $G foo + _INBOX.x g 2\r\nrr\r\n');
    await c.expect('MSG foo 1 _INBOX.x 2\r\nrr\r\nMSG foo 2 _INBOX.x 2\r\nrr\r\n');
    // w1 saw the newcomer's INFO and the local interest; nothing else.
    expect((await w1.readLine()).startsWith('INFO {')).toBe(true);
    await w1.expect('RS+ $G foo\r\nRS+ $G foo g 1\r\n');
    // Nothing went on to the second peer; messages for unknown accounts are ignored.
    w1.send('RMSG $SYS foo 2\r\nno\r\nRS+ $SYS bar\r\nPING\r\n');
    await w1.expect('PONG\r\n');
    await c.expectNothing();
    w2.send('PING\r\n');
    await w2.expect('RS+ $G foo\r\nRS+ $G foo g 1\r\nPONG\r\n');
    expect(w2.buffer).toBe('');
  });

  it('passes a routed queue message on to another server when no local member can take it', async () => {
    const s = await server();
    const w1 = await peer(s);
    await eventually(() => s.routes().length === 1, 'first route');
    const w2 = await peer(s, 'NPEERBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', 'fake2');
    await eventually(() => s.routes().length === 2, 'two routes');
    expect((await w1.readLine()).startsWith('INFO {')).toBe(true); // gossip about fake2
    w1.send('RS+ $G jobs g 1\r\n');
    w2.send('RS+ $G jobs g 1\r\n');
    await eventually(() => s.stats().subscriptions === 2, 'remote queue interest');
    w1.send('RMSG $G jobs | g 2\r\nhi\r\n');
    await w2.expect('RMSG $G jobs | g 2\r\nhi\r\n');
    // Never back to the route it came from.
    w1.send('PING\r\n');
    await w1.expect('PONG\r\n');
  });

  it('tells other peers about a newcomer (gossip INFO with ip, no trailing space)', async () => {
    const s = await server();
    const w1 = await peer(s);
    await eventually(() => s.routes().length === 1, 'first route');
    await peer(s, 'NPEERBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', 'fake2');
    const line = await w1.readLine();
    expect(line.startsWith('INFO {')).toBe(true);
    expect(line.endsWith('}')).toBe(true);
    const info = JSON.parse(line.slice(5)) as Record<string, unknown>;
    expect(info).toMatchObject({ server_id: 'NPEERBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', ip: 'nats-route://127.0.0.1:1/' });
  });

  it('answers route PINGs and closes on a parse error', async () => {
    const s = await server();
    const w = await peer(s);
    w.send('PING\r\n');
    await w.expect('PONG\r\n');
    w.send('BOGUS\r\n');
    await w.expect("-ERR 'Unknown Protocol Operation'\r\n");
    await w.expectClose();
    await eventually(() => s.routes().length === 0, 'route removed');
  });
});
