/**
 * The JetStream API against the real nats-server, step by step: the same sequence of raw API
 * requests and publishes (JSON bodies, headers with HPUB) goes to `nats-server -js` and to the
 * embedded broker, and each reply — status line, headers, JSON body with its key order — must
 * be the same on both once times, server names and the differences listed here are set aside;
 * replies without those (acks, errors, names, purges, deletes) must be the same bytes.
 *
 * The steps are in jetstream-api-steps.ts. The binary in CI is 2.9.10; this package follows
 * 2.10.29. Where the two differ, the step (or `as29`) maps the embedded reply to the 2.9.10
 * shape, or sets a 2.9.10 bug aside, with a comment naming the 2.10 source behaviour
 * (server/jetstream_api.go, stream.go, memstore.go, filestore.go at v2.10.29).
 * Part of `npm run test:conformance` (it needs NATS_SERVER_BIN). `JS_API_PRINT=1` prints each reply.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { WireClient } from '../helpers/wire.js';
import { useScope } from '../helpers/scope.js';
import { natsServerBin } from '../jetstream/real-js.js';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adjustAccount29, as29, DOMAIN_STEPS, LIMITED_STEPS, NO_REPLY_STATUS, OFF_STEPS, STEPS, type Json, type Normalised, type Step } from './jetstream-api-steps.js';

const BIN = natsServerBin();
const scope = useScope('file');

/** One reply as received: the HMSG status line and headers (none for a MSG), and the payload. */
interface Reply {
  status: string;
  headers: Array<[string, string]>;
  data: string;
}

const NO_REPLY: Reply = { status: NO_REPLY_STATUS, headers: [], data: '' };

/** A raw client: one inbox wildcard, requests with or without headers. */
class Requester {
  private n = 0;
  /** Messages that arrived for no request (republished copies), oldest first. */
  private readonly stray: Array<{ subject: string; reply: Reply }> = [];
  private constructor(private readonly c: WireClient) {}

  static async open(port: number): Promise<Requester> {
    const c = await WireClient.connected(port, { verbose: false, pedantic: false, headers: true, no_responders: true });
    scope.defer(() => c.socket.destroy());
    c.send('SUB _R.> 1\r\n');
    await c.drain();
    return new Requester(c);
  }

  async request(subject: string, body: string, headers: ReadonlyArray<[string, string]> | undefined, timeoutMs: number): Promise<Reply> {
    const inbox = `_R.${++this.n}`;
    const data = Buffer.from(body, 'utf8');
    if (headers === undefined) {
      this.c.send(Buffer.concat([Buffer.from(`PUB ${subject} ${inbox} ${data.length}\r\n`), data, Buffer.from('\r\n')]));
    } else {
      const h = Buffer.from(`NATS/1.0\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1');
      this.c.send(Buffer.concat([
        Buffer.from(`HPUB ${subject} ${inbox} ${h.length} ${h.length + data.length}\r\n`), h, data, Buffer.from('\r\n'),
      ]));
    }
    return this.receive(inbox, timeoutMs);
  }

  /**
   * The message on `subject` (under `_R.`): one that came earlier, or the next one for it.
   * Late replies to earlier requests (already reported missing by their step) are dropped;
   * other messages (republished copies) are kept for a later call.
   */
  async receive(subject: string, timeoutMs: number): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.stray.findIndex((m) => m.subject === subject);
      if (i >= 0) return this.stray.splice(i, 1)[0].reply;
      let frame: string;
      try {
        frame = await this.c.readMsg(Math.max(1, deadline - Date.now()));
      } catch (err) {
        if (/timeout/.test(String(err))) return NO_REPLY;
        throw err;
      }
      // nats-server writes an empty reply field for its internal clients' messages (`MSG x 1  23`).
      const eol = frame.indexOf('\r\n');
      const args = frame.slice(0, eol).split(' ').filter((a) => a !== '');
      if (args[2] !== '1') throw new Error(`a message on another subscription: ${args.join(' ')}`);
      const payload = Buffer.from(frame.slice(eol + 2, frame.length - 2), 'latin1');
      if (args[1] === subject) return parse(args, payload);
      if (!/^_R\.\d+$/.test(args[1])) this.stray.push({ subject: args[1], reply: parse(args, payload) });
    }
  }
}

/** A MSG or HMSG frame's payload as a reply. */
function parse(args: string[], payload: Buffer): Reply {
  if (args[0] === 'MSG') return { status: '', headers: [], data: payload.toString('utf8') };
  const hsize = Number(args[args.length - 2]);
  const lines = payload.toString('latin1', 0, hsize).split('\r\n').filter((l) => l !== '');
  const status = lines.shift() ?? '';
  const hdrs = lines.map((l): [string, string] => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()];
  });
  return { status, headers: hdrs, data: payload.toString('utf8', hsize) };
}

// ---- Normalising ------------------------------------------------------------------------------

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const ZERO_TIME = '0001-01-01T00:00:00Z';
/** Keys whose value is a moment: compared as "a valid RFC 3339 time in UTC", the zero time exactly. */
const TIME_KEYS = new Set(['created', 'ts', 'time', 'first_ts', 'last_ts', 'last_active']);

/** Replaces times, server names and ids in a parsed reply (in place, keeping key order). */
function scrub(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => scrub(x));
  if (v !== null && typeof v === 'object') {
    const o = v as Json;
    for (const k of Object.keys(o)) o[k] = scrub(o[k], k);
    return o;
  }
  if (typeof v === 'string' && TIME_KEYS.has(key)) return v === ZERO_TIME ? v : RFC3339.test(v) ? '<time>' : `<not a time: ${v}>`;
  if (typeof v === 'string' && key === 'leader') return '<server name>';
  return v;
}

/** A reply as compared: status, headers with times scrubbed, and the body (JSON parsed and scrubbed). */
function normalise(r: Reply): Normalised {
  const headers = r.headers.map(([k, v]): [string, string] => [k, k === 'Nats-Time-Stamp' ? (RFC3339.test(v) ? '<time>' : `<not a time: ${v}>`) : v]);
  let body: unknown = r.data;
  if (r.data.startsWith('{')) {
    try {
      body = scrub(JSON.parse(r.data));
    } catch {
      body = r.data;
    }
  }
  return { status: r.status, headers, body };
}

// ---- Running them -----------------------------------------------------------------------------

interface Pair {
  ours: Requester;
  theirs: Requester;
}
const on = {} as Pair;
const off = {} as Pair;
const limited = {} as Pair;
const domain = {} as Pair;

/**
 * A real server with `jetstream` (a block's contents, the store_dir added; null: no
 * JetStream) and an embedded one with `options`, each with a requester.
 */
async function pair(jetstream: string | null, options: Parameters<typeof scope.server>[0]): Promise<Pair> {
  const port = await freePort();
  const conf = [`listen: "127.0.0.1:${port}"`];
  if (jetstream !== null) {
    const store = mkdtempSync(join(tmpdir(), 'nats-js-api-'));
    scope.defer(() => rmSync(store, { recursive: true, force: true }));
    conf.push(`jetstream { store_dir: "${store}" ${jetstream} }`);
  }
  const real = await startRealServer(BIN, conf);
  scope.defer(() => real.stop());
  const emb = await scope.server(options);
  return { ours: await Requester.open(emb.port), theirs: await Requester.open(port) };
}

beforeAll(async () => {
  if (BIN === '') throw new Error('no nats-server binary: run this through `npm run test:conformance` (NATS_SERVER_BIN)');
  Object.assign(on, await pair('', { jetstream: true }));
  Object.assign(off, await pair(null, {}));
  Object.assign(limited, await pair(', max_memory_store: 2048, max_file_store: 4096', { jetstream: { maxMemory: 2048, maxStore: 4096 } }));
  Object.assign(domain, await pair(', domain: hub', { jetstream: { domain: 'hub' } }));
});

/** The payload of each normalised reply as received, for the byte comparison. */
const raws = new WeakMap<Normalised, string>();

/**
 * Replies without times, server names or 2.10-only fields (acks, errors, names, purges,
 * deletes) must be the same bytes: Go's field order, spacing and escapes.
 */
function expectSameBytes(a: Normalised, b: Normalised): void {
  const [x, y] = [raws.get(a) ?? '', raws.get(b) ?? ''];
  if (/\d{4}-\d\d-\d\dT|"config"|account_info_response/.test(x + y)) return;
  expect(x, 'the same bytes').toBe(y);
}

async function both(pair: Pair, step: Step): Promise<[Normalised, Normalised]> {
  const body = step.body === undefined ? '' : typeof step.body === 'string' ? step.body : JSON.stringify(step.body);
  const timeout = step.quietMs ?? 2000;
  if (step.sleepMs !== undefined) await new Promise((resolve) => setTimeout(resolve, step.sleepMs));
  for (const [subject, b] of step.before ?? []) {
    const text = typeof b === 'string' ? b : JSON.stringify(b);
    const [x, y] = await Promise.all([pair.ours.request(subject, text, undefined, 2000), pair.theirs.request(subject, text, undefined, 2000)]);
    const [nx, ny] = [normalise(x), normalise(y)];
    as29(nx.body);
    expect(JSON.stringify(nx), `the reply to ${subject} (before the step)`).toBe(JSON.stringify(ny));
  }
  const [a, b] = await Promise.all([
    pair.ours.request(step.subject, body, step.headers, timeout),
    pair.theirs.request(step.subject, body, step.headers, timeout),
  ]);
  const print = (r: Reply): string => `${r.status} ${JSON.stringify(r.headers)} ${r.data}`;
  if (process.env.JS_API_PRINT) console.log(`${step.name}\n  ours:   ${print(a)}\n  theirs: ${print(b)}`);
  const [na, nb] = [normalise(a), normalise(b)];
  raws.set(na, a.data);
  raws.set(nb, b.data);
  if (step.alsoOn !== undefined) {
    const [x, y] = await Promise.all([pair.ours.receive(step.alsoOn, 2000), pair.theirs.receive(step.alsoOn, 2000)]);
    if (process.env.JS_API_PRINT) console.log(`  on ${step.alsoOn}\n  ours:   ${print(x)}\n  theirs: ${print(y)}`);
    [na.also, nb.also] = [normalise(x), normalise(y)];
  }
  return [na, nb];
}

describe('JetStream API: the same requests to nats-server and the embedded broker', () => {
  for (const step of STEPS) {
    it(step.name, async () => {
      const [a, b] = await both(on, step);
      if (step.quietMs === undefined) expect(b.status, 'nats-server answers this step').not.toBe(NO_REPLY.status);
      if (step.alsoOn !== undefined) expect(b.also?.status, `nats-server sends a message on ${step.alsoOn}`).not.toBe(NO_REPLY.status);
      as29(a.body);
      step.v29?.(a, b);
      if (/account_info_response/.test(String((b.body as Json).type))) adjustAccount29(b);
      expect(JSON.stringify(a, null, 1)).toBe(JSON.stringify(b, null, 1));
      if (step.v29 === undefined) expectSameBytes(a, b);
    });
  }
});

for (const [title, p, steps] of [
  ['small storage limits', limited, LIMITED_STEPS],
  ['a JetStream domain', domain, DOMAIN_STEPS],
] as const) {
  describe(`JetStream API on servers with ${title}: the same answers`, () => {
    for (const step of steps) {
      it(step.name, async () => {
        const [a, b] = await both(p, step);
        if (step.quietMs === undefined) expect(b.status, 'nats-server answers this step').not.toBe(NO_REPLY.status);
        as29(a.body);
        step.v29?.(a, b);
        expect(JSON.stringify(a, null, 1)).toBe(JSON.stringify(b, null, 1));
        if (step.v29 === undefined) expectSameBytes(a, b);
      });
    }
  });
}

describe('JetStream API on servers without JetStream: the same answers', () => {
  for (const step of OFF_STEPS) {
    it(step.name, async () => {
      const [a, b] = await both(off, step);
      expect(b.status, 'nats-server answers no responders').toBe('NATS/1.0 503');
      expect(JSON.stringify(a, null, 1)).toBe(JSON.stringify(b, null, 1));
    });
  }
});
