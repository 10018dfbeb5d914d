import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type NatsServer } from 'nats-embedded';

let server: NatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  server = await createServer(); // each test file gets its own port: safe in parallel workers
  nc = await connect({ servers: server.url });
});

afterAll(async () => {
  await nc.close();
  await server.close();
});

it('replies', async () => {
  const sub = nc.subscribe('svc.echo');
  (async () => { for await (const m of sub) m.respond(m.data); })();
  const reply = await nc.request('svc.echo', 'hi');
  expect(reply.string()).toBe('hi');
});
