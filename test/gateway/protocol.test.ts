/**
 * The gateway protocol of one embedded server against a scripted peer on raw sockets: the
 * outbound side in optimistic mode (no-interest records from RS-, cleared by RS+), the switch to
 * interest-only mode announced by `gateway_cmd` 2 and 3, queue groups (sent only when no member
 * here served the message), and the inbound side's handshake (queue subscriptions, then every
 * account switched to interest-only mode with its plain subscriptions). Facts from nats-server
 * 2.10's gateway.go; nats-server itself (2.9+) always asks for interest-only mode, so the
 * optimistic part can only be driven by a scripted peer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createTcpServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createServer, type NatsServer } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';

/** A scripted gateway peer: what it read so far, and a way to write. */
class Peer {
  text = '';
  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.text += d.toString('latin1');
      // Answer PINGs so the connection stays up.
      if (this.text.endsWith('PING\r\n')) socket.write('PONG\r\n');
    });
  }
  write(s: string): void {
    this.socket.write(s);
  }
  /** Waits until what was read contains `s`; returns everything after it was found. */
  async waitFor(s: string): Promise<void> {
    await eventually(() => this.text.includes(s), `"${s.trim()}" from the server`, 3000);
  }
}

let listener: Server;
let peer: Peer;
let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  let accepted!: (p: Peer) => void;
  const got = new Promise<Peer>((r) => (accepted = r));
  listener = createTcpServer((s) => accepted(new Peer(s)));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const port = (listener.address() as { port: number }).port;
  server = await createServer({ gateway: { name: 'E', gateways: [{ name: 'F', url: `nats://127.0.0.1:${port}` }] } });
  peer = await got;
  // No gateway_iom: this peer is optimistic.
  peer.write(`INFO {"server_id":"FAKE","server_name":"fake","gateway":"F","gateway_urls":["127.0.0.1:${port}"],"headers":true,"max_payload":1048576}\r\n`);
  await peer.waitFor('CONNECT ');
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc?.close();
  await server?.close();
  peer?.socket.destroy();
  await new Promise((r) => listener.close(r));
});

/** Publishes `subject`, then a marker on `mark.<n>`: resolves once the marker reached the peer. */
let marks = 0;
async function publish(subject: string): Promise<void> {
  nc.publish(subject, 'x');
  const mark = `mark.${++marks}`;
  nc.publish(mark, 'x');
  await nc.flush();
  await peer.waitFor(`RMSG $G ${mark} 1\r\n`);
}

function sent(subject: string): number {
  return peer.text.split(`RMSG $G ${subject} `).length - 1;
}

describe('gateway protocol (scripted peer)', () => {
  it('sends the gateway CONNECT and INFO after the peer\'s INFO', () => {
    const connect = JSON.parse(/CONNECT (.*)\r\n/.exec(peer.text)![1]) as Record<string, unknown>;
    expect(connect).toMatchObject({ gateway: 'E', name: server.id, verbose: false, pedantic: false });
    const info = JSON.parse(/INFO (.*)\r\n/.exec(peer.text)![1]) as Record<string, unknown>;
    expect(info).toMatchObject({ server_id: server.id, gateway: 'E', gateway_nrp: true, gateway_iom: true });
    expect(server.gateways().outbound).toEqual(['F']);
    expect(server.gatewayInterestMode('F')).toBe('Optimistic');
  });

  it('optimistic mode: sends until RS- says no, again after RS+', async () => {
    await publish('a');
    expect(sent('a')).toBe(1);
    peer.write('RS- $G a\r\n');
    await publish('a');
    await publish('b');
    expect([sent('a'), sent('b')]).toEqual([1, 1]);
    peer.write('RS+ $G a\r\n');
    await publish('a');
    expect(sent('a')).toBe(2);
  });

  it('queue groups: RS+ with a queue; the group goes to the peer only when no member here took it', async () => {
    peer.write('RS+ $G jobs workers 1\r\n');
    await publish('jobs');
    expect(peer.text).toContain('RMSG $G jobs | workers 1\r\n');
    const local = await connect({ servers: server.url });
    let got = 0;
    local.subscribe('jobs', { queue: 'workers', callback: () => void got++ });
    await local.flush();
    const before = peer.text.split('| workers').length;
    await publish('jobs');
    await eventually(() => got === 1, 'the local member');
    // Still sent (optimistic: plain interest unknown), but without the group.
    expect(peer.text.split('| workers').length).toBe(before);
    await local.close();
  });

  it('switches to interest-only mode on gateway_cmd 2 … 3: then only what RS+ named is sent', async () => {
    const payload = Buffer.from('$G').toString('base64');
    peer.write(`INFO {"server_id":"FAKE","gateway":"F","gateway_cmd":2,"gateway_cmd_payload":"${payload}"}\r\n`);
    await eventually(() => server.gatewayInterestMode('F') === 'Transitioning', 'Transitioning');
    peer.write('RS+ $G only.this\r\n');
    peer.write(`INFO {"server_id":"FAKE","gateway":"F","gateway_cmd":3,"gateway_cmd_payload":"${payload}"}\r\n`);
    await eventually(() => server.gatewayInterestMode('F') === 'Interest-Only', 'Interest-Only');
    const b = sent('b');
    nc.publish('b', 'x');
    nc.publish('only.this', 'x');
    await nc.flush();
    await peer.waitFor('RMSG $G only.this 1\r\n');
    expect(sent('b')).toBe(b);
    peer.write('RS- $G only.this\r\n');
    await eventually(async () => {
      const n = sent('only.this');
      nc.publish('only.this', 'x');
      await nc.flush();
      await new Promise((r) => setTimeout(r, 20));
      return sent('only.this') === n;
    }, 'RS- removes the interest');
  });

  it('inbound: answers a peer\'s CONNECT and INFO with its queue subscriptions and an interest-only switch per account', async () => {
    const sub = await connect({ servers: server.url });
    sub.subscribe('plain.x', { callback: () => undefined });
    sub.subscribe('q.x', { queue: 'grp', callback: () => undefined });
    await sub.flush();
    const port = Number(new URL(server.gatewayUrl!).port);
    const inbound = new Peer(tcpConnect({ port, host: '127.0.0.1' }));
    await inbound.waitFor('INFO ');
    expect(JSON.parse(/INFO (.*)\r\n/.exec(inbound.text)![1])).toMatchObject({ gateway: 'E', gateway_iom: true, gateway_nrp: true });
    inbound.write('CONNECT {"gateway":"F","name":"FAKE2","verbose":false,"pedantic":false,"tls_required":false}\r\n');
    inbound.write('INFO {"server_id":"FAKE2","gateway":"F"}\r\n');
    const payload = Buffer.from('$G').toString('base64');
    await inbound.waitFor(`"gateway_cmd":3,"gateway_cmd_payload":"${payload}"`);
    const t = inbound.text;
    // Queue subscriptions first, then per account: start, the plain subscriptions, complete.
    const q = t.indexOf('RS+ $G q.x grp 1\r\n');
    const start = t.indexOf(`"gateway_cmd":2,"gateway_cmd_payload":"${payload}"`);
    const plain = t.indexOf('RS+ $G plain.x\r\n');
    const done = t.indexOf(`"gateway_cmd":3,"gateway_cmd_payload":"${payload}"`);
    expect(q).toBeGreaterThan(0);
    expect(q < start && start < plain && plain < done).toBe(true);
    // Interest-only from now on: a new subscription is announced, and its removal.
    sub.subscribe('later', { callback: () => undefined }).unsubscribe();
    await sub.flush();
    await inbound.waitFor('RS- $G later\r\n');
    expect(inbound.text).toContain('RS+ $G later\r\n');
    inbound.socket.destroy();
    await sub.close();
  });

  it('refuses a client or route on the gateway port', async () => {
    const port = Number(new URL(server.gatewayUrl!).port);
    const wrong = new Peer(tcpConnect({ port, host: '127.0.0.1' }));
    await wrong.waitFor('INFO ');
    wrong.write('CONNECT {"verbose":false}\r\n');
    await wrong.waitFor("-ERR 'attempted to connect to gateway port'");
    wrong.socket.destroy();
  });
});

/**
 * What an inbound gateway connection does with a first op other than CONNECT, and with an INFO
 * or CONNECT Go cannot decode (parser.go: an inbound gateway must start with CONNECT, else
 * authErr; client.go processConnect / gateway.go processGatewayConnect: a failed json.Unmarshal
 * closes the connection as a protocol violation without -ERR). Every answer here is nats-server
 * 2.9.10's on the wire (test/conformance/gateway-interop.test.ts compares them).
 */
describe('inbound gateway: the first op and undecodable JSON', () => {
  async function opened(): Promise<Peer> {
    const port = Number(new URL(server.gatewayUrl!).port);
    const p = new Peer(tcpConnect({ port, host: '127.0.0.1' }));
    await p.waitFor('INFO ');
    p.text = '';
    return p;
  }
  function closed(p: Peer): Promise<void> {
    return new Promise((r) => (p.socket.destroyed || p.socket.readyState === 'closed' ? r() : p.socket.once('close', () => r())));
  }

  it('anything but CONNECT first, an INFO Go cannot decode included, is an authorization violation', async () => {
    for (const first of ['PING\r\n', 'INFO {"server_id":"X","gateway":"F"}\r\n', 'INFO [1]\r\n', 'INFO {bad\r\n', 'RS+ $G foo\r\n']) {
      const p = await opened();
      p.write(first);
      await closed(p);
      expect(p.text, first).toBe("-ERR 'Authorization Violation'\r\n");
    }
  });

  it('a CONNECT Go cannot decode closes without a word; null is an empty CONNECT (no gateway name: the wrong port)', async () => {
    for (const json of ['[1]', '1', '"s"', 'true', '{bad', '{"verbose":"x"}', '{"gateway":"F","cluster":5}']) {
      const p = await opened();
      p.write(`CONNECT ${json}\r\n`);
      await closed(p);
      expect(p.text, json).toBe('');
    }
    const p = await opened();
    p.write('CONNECT null\r\n');
    await closed(p);
    expect(p.text).toBe("-ERR 'attempted to connect to gateway port'\r\n");
    // client.go processConnect: naming an account is an authorization violation.
    for (const json of ['{"gateway":"F","account":"A"}', '{"gateway":"F","new_account":true}']) {
      const a = await opened();
      a.write(`CONNECT ${json}\r\n`);
      await closed(a);
      expect(a.text, json).toBe("-ERR 'Authorization Violation'\r\n");
    }
  });
});

describe('gateway liveness', () => {
  it('closes an inbound gateway that answers no PING: -ERR \'Stale Connection\' after maxPingsOut', async () => {
    const s = await createServer({ gateway: { name: 'P' }, pingInterval: 50, maxPingsOut: 1 });
    try {
      const port = Number(new URL(s.gatewayUrl!).port);
      const socket = tcpConnect({ port, host: '127.0.0.1' });
      let text = '';
      socket.on('data', (d: Buffer) => void (text += d.toString('latin1')));
      await eventually(() => text.includes('INFO '), 'INFO');
      socket.write('CONNECT {"gateway":"Q","name":"FAKEQ"}\r\nINFO {"server_id":"FAKEQ","gateway":"Q"}\r\n');
      await eventually(() => s.gateways().inbound.includes('Q'), 'inbound Q registered');
      // The first PING comes after 1 s (firstPingInterval, up to 20% more); unanswered, the next tick closes it.
      await new Promise<void>((r) => socket.once('close', () => r()));
      expect(text).toMatch(/PING\r\n-ERR 'Stale Connection'\r\n$/);
      expect(s.gateways().inbound).not.toContain('Q');
    } finally {
      await s.close();
    }
  });
});

describe('gateway authorization', () => {
  it('refuses an inbound gateway without the configured credentials', async () => {
    const s = await createServer({ gateway: { name: 'S', authorization: { user: 'gw', password: 'pw' } } });
    try {
      const port = Number(new URL(s.gatewayUrl!).port);
      const bad = new Peer(tcpConnect({ port, host: '127.0.0.1' }));
      await bad.waitFor('INFO ');
      expect(JSON.parse(/INFO (.*)\r\n/.exec(bad.text)![1])).toMatchObject({ auth_required: true });
      bad.write('CONNECT {"gateway":"F","user":"gw","pass":"wrong"}\r\n');
      await bad.waitFor("-ERR 'Authorization Violation'");
      bad.socket.destroy();
      // Credentials are checked before the gateway name (client.go processConnect, then
      // processGatewayConnect): a client on the port is an authorization violation here (so
      // nats-server 2.9.10 answers on the wire).
      const client = new Peer(tcpConnect({ port, host: '127.0.0.1' }));
      await client.waitFor('INFO ');
      client.text = '';
      client.write('CONNECT {"verbose":false}\r\n');
      await client.waitFor("-ERR 'Authorization Violation'");
      expect(client.text).toBe("-ERR 'Authorization Violation'\r\n");
      client.socket.destroy();
      // A server dialling with the credentials in its URL gets in.
      const other = await createServer({ gateway: { name: 'T', gateways: [{ name: 'S', url: `nats://gw:pw@127.0.0.1:${port}` }] } });
      try {
        await eventually(() => other.gateways().outbound.includes('S') && s.gateways().inbound.includes('T'), 'T connected to S');
      } finally {
        await other.close();
      }
    } finally {
      await s.close();
    }
  });
});

/**
 * JetStream answers and deliveries to a client in another cluster: the request comes through a
 * gateway with a `_GR_.` reply, and the server's internal answer (an API reply, a pull
 * consumer's delivery with its `$JS.ACK.` reply) goes straight back to the requester's cluster
 * (nats-server's processInboundClientMsg maps an internal client's publication too), with the
 * stored subject shown on the other side; a push consumer counts its subscriber's interest in
 * the other cluster (consumer.go hasDeliveryInterest).
 */
describe('JetStream across a gateway', () => {
  it('serves a pull consumer to a client in another cluster: the stored subject, a working ack', async () => {
    const a = await createServer({ jetstream: true, gateway: { name: 'JA' } });
    const b = await createServer({ gateway: { name: 'JB', gateways: [{ name: 'JA', url: a.gatewayUrl! }] } });
    const ncA = await connect({ servers: a.url });
    const ncB = await connect({ servers: b.url });
    try {
      await eventually(() => a.gateways().outbound.includes('JB') && b.gateways().outbound.includes('JA'), 'both gateways');
      const jsm = await jetstreamManager(ncA);
      await jsm.streams.add({ name: 'S', subjects: ['js.>'] });
      await jsm.consumers.add('S', { durable_name: 'C', ack_policy: AckPolicy.Explicit });
      ncA.publish('js.one', 'x');
      await ncA.flush();
      const consumer = await eventually(async () => {
        try {
          return await jetstream(ncB).consumers.get('S', 'C');
        } catch {
          return false;
        }
      }, 'the consumer from B');
      const m = await consumer.next({ expires: 2000 });
      expect(m?.subject).toBe('js.one');
      expect(m?.info.stream).toBe('S');
      expect(m?.seq).toBe(1);
      await m!.ackAck();
      expect((await jsm.consumers.info('S', 'C')).num_ack_pending).toBe(0);
    } finally {
      await ncA.close();
      await ncB.close();
      await b.close();
      await a.close();
    }
  });

  it('delivers a push consumer to a subscriber in another cluster (its interest counts), and the ack comes back', async () => {
    const a = await createServer({ jetstream: true, gateway: { name: 'PA' } });
    const b = await createServer({ gateway: { name: 'PB', gateways: [{ name: 'PA', url: a.gatewayUrl! }] } });
    const ncA = await connect({ servers: a.url });
    const ncB = await connect({ servers: b.url });
    try {
      await eventually(() => a.gateways().outbound.includes('PB') && b.gateways().outbound.includes('PA'), 'both gateways');
      const jsm = await jetstreamManager(ncA);
      await jsm.streams.add({ name: 'P', subjects: ['p.>'] });
      await jsm.consumers.add('P', { durable_name: 'C', deliver_subject: 'dlv', ack_policy: AckPolicy.Explicit });
      expect((await jsm.consumers.info('P', 'C')).push_bound ?? false).toBe(false);
      const got: string[] = [];
      ncB.subscribe('dlv', { callback: (_e, m) => {
        got.push(m.subject);
        m.respond();
      } });
      await ncB.flush();
      await eventually(async () => (await jsm.consumers.info('P', 'C')).push_bound === true, 'push_bound from the other cluster');
      ncA.publish('p.one', 'x');
      await ncA.flush();
      await eventually(() => got.length === 1, 'the delivery in B');
      expect(got).toEqual(['p.one']);
      await eventually(async () => (await jsm.consumers.info('P', 'C')).num_ack_pending === 0, 'the ack back in A');
    } finally {
      await ncA.close();
      await ncB.close();
      await b.close();
      await a.close();
    }
  });
});

describe('gateway URLs from a peer', () => {
  it('a gossiped URL no dial can use is dropped: no crash, the configured URL is dialled again', async () => {
    // gateway.go: a dial that fails is logged and retried, never fatal.
    let dials = 0;
    const sockets: Socket[] = [];
    const fake = createTcpServer((s) => {
      dials++;
      sockets.push(s);
      s.on('error', () => undefined);
      s.write('INFO {"server_id":"FAKE","gateway":"B","gateway_urls":["127.0.0.1:99999999","127.0.0.1:abc",":1"],"gateway_iom":true}\r\n');
      setTimeout(() => s.destroy(), 20);
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const port = (fake.address() as { port: number }).port;
    const s = await createServer({ gateway: { name: 'A', reconnectDelay: 30, gateways: [{ name: 'B', url: `nats://127.0.0.1:${port}` }] } });
    try {
      await eventually(() => dials >= 3, 'the configured URL dialled again', 5000);
      expect(s.stats().internalErrors).toBe(0);
    } finally {
      await s.close();
      for (const x of sockets) x.destroy();
      await new Promise((r) => fake.close(r));
    }
  });
});
