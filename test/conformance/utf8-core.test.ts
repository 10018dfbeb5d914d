/**
 * Non-ASCII subjects in core NATS against the real nats-server: plain and queue subscriptions,
 * a user's permissions with `ü`, `€` and `😀` in its subjects and queue names, users and
 * passwords that are not ASCII, the -ERR texts, and what /connz and /subsz show of such
 * subscriptions (and of a subscription whose subject is not valid UTF-8: Go writes U+FFFD for
 * each bad byte). The same conf file is given to nats-server and to the nats-embedded CLI, and
 * the same authorization as `createServer` options; the bytes each client reads and the
 * monitoring documents (without times and ids) must be equal on all three.
 * Part of `npm run test:conformance` (it needs NATS_SERVER_BIN; the CLI case uses dist/cli.js).
 */
import { fileURLToPath } from 'node:url';
import { connect as tcpConnect, type Socket } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/index.js';
import { freePort, startRealServer } from '../helpers/real-server.js';
import { useScope } from '../helpers/scope.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const U = 'ü';
const E = '€';
const F = '😀';

const scope = useScope('file');

const AUTH: NonNullable<ServerOptions['authorization']> = {
  users: [
    {
      user: `j${U}rgen`,
      password: `p${E}${F}`,
      permissions: {
        publish: { allow: [`${U}.>`, `${E}.*`, `${F}.pub`], deny: [`${U}.no`] },
        subscribe: { allow: [`${U}.>`, `${F}.*`, `${E}.q g${F}`, 'raw.>'], deny: [`${U}.secret`] },
      },
    },
    { user: 'plain', password: 'x' },
  ],
};

/** The same authorization as a conf block. */
function confLines(): string[] {
  const list = (a: readonly string[] | undefined): string => `[${(a ?? []).map((s) => JSON.stringify(s)).join(', ')}]`;
  const users = AUTH.users!.map((u) => {
    const p = u.permissions;
    const perm = (x: unknown): { allow?: string[]; deny?: string[] } => x as { allow?: string[]; deny?: string[] };
    const perms = p === undefined ? '' : `, permissions: { publish: { allow: ${list(perm(p.publish).allow)}, deny: ${list(perm(p.publish).deny)} },`
      + ` subscribe: { allow: ${list(perm(p.subscribe).allow)}, deny: ${list(perm(p.subscribe).deny)} } }`;
    return `    { user: ${JSON.stringify(u.user)}, password: ${JSON.stringify(u.password)}${perms} }`;
  });
  return ['authorization {', '  users: [', ...users, '  ]', '}'];
}

interface Target {
  port: number;
  monitor: string;
}
const targets: Record<'real' | 'cli' | 'options', Target> = {
  real: { port: 0, monitor: '' }, cli: { port: 0, monitor: '' }, options: { port: 0, monitor: '' },
};

beforeAll(async () => {
  for (const [name, bin] of [['real', BIN], ['cli', CLI]] as const) {
    const [port, httpPort] = [await freePort(), await freePort()];
    const s = await startRealServer(bin, [`listen: "127.0.0.1:${port}"`, `http: "127.0.0.1:${httpPort}"`, ...confLines()]);
    scope.defer(() => s.stop());
    targets[name] = { port, monitor: `http://127.0.0.1:${httpPort}` };
  }
  const emb = await scope.server({ http: -1, authorization: AUTH });
  targets.options = { port: emb.port, monitor: emb.monitorUrl! };
}, 30_000);

/** A raw connection: writes bytes, reads everything up to the PONG of its own PING (as latin1: one char per byte). */
class Raw {
  private buf = '';
  private wake: (() => void) | null = null;
  private constructor(private readonly s: Socket) {
    s.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      this.wake?.();
    });
    s.on('close', () => this.wake?.());
    s.on('error', () => {
      /* seen as a close */
    });
  }

  static async open(port: number, connect: Record<string, unknown>): Promise<Raw> {
    const s = tcpConnect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    const r = new Raw(s);
    scope.defer(() => s.destroy());
    await r.until('\r\n');
    r.buf = '';
    // JSON.stringify keeps the characters; the CONNECT goes out as UTF-8, as clients send it.
    r.s.write(Buffer.from(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, ...connect })}\r\n`, 'utf8'));
    return r;
  }

  private async until(marker: string): Promise<string> {
    const deadline = Date.now() + 3000;
    while (!this.buf.includes(marker)) {
      if (this.s.destroyed || Date.now() > deadline) return `<closed or timeout> ${this.buf}`;
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 50);
      });
    }
    const i = this.buf.indexOf(marker) + marker.length;
    const out = this.buf.slice(0, i);
    this.buf = this.buf.slice(i);
    return out;
  }

  /** Sends `text` (as UTF-8) or raw bytes, then PING; gives what came back before the PONG, as text. */
  async send(data: string | Buffer): Promise<string> {
    this.s.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    this.s.write('PING\r\n');
    const got = await this.until('PONG\r\n');
    const body = got.endsWith('PONG\r\n') ? got.slice(0, -6) : got;
    return Buffer.from(body.replace(/PING\r\n/g, ''), 'latin1').toString('utf8');
  }
}

async function monitor(t: Target, path: string): Promise<Record<string, any>> {
  return (await (await fetch(`${t.monitor}${path}`)).json()) as Record<string, any>;
}

async function scenario(t: Target): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const bad = await Raw.open(t.port, { user: `j${U}rgen`, pass: 'wrong' });
  out.badPassword = await bad.send('');
  const j = await Raw.open(t.port, { user: `j${U}rgen`, pass: `p${E}${F}`, name: `n${U}me ${E}` });
  out.connect = await j.send('');
  const p = await Raw.open(t.port, { user: 'plain', pass: 'x', name: 'plain' });
  out.plainConnect = await p.send('');
  out.subs = await j.send([
    `SUB ${U}.a 1`, `SUB ${F}.* 2`, `SUB ${U}.secret 3`, `SUB ${E}.q g${F} 4`, `SUB ${E}.q other 5`, `SUB x 6`, `SUB ${U}.> 7`,
    // Unprintable characters in a refused subject: Go's %q escapes them in the -ERR.
    'SUB z.\u200b.\u0085.\u{f0000}.\x01."q" 8',
  ].map((l) => `${l}\r\n`).join(''));
  out.plainSubs = await p.send(`SUB ${U}.> 1\r\nSUB ${E}.q g${F} 2\r\nSUB ${E}.q g${F} 3\r\n`);
  out.pubs = await j.send([`PUB ${U}.a 2\r\nhi`, `PUB ${U}.no 0\r\n`, `PUB ${F}.x 0\r\n`, `PUB ${E}.z 0\r\n`, `PUB ${F}.pub 0\r\n`].map((l) => `${l}\r\n`).join(''));
  out.plainSawPubs = await p.send('');
  out.plainPubs = await p.send(`PUB ${F}.x 1\r\na\r\nPUB ${U}.secret 1\r\nb\r\n`);
  out.delivered = await j.send('');
  // The queue group: one member of the plain user's two and the permitted one of j's, per message.
  let total = 0;
  for (let i = 0; i < 6; i++) total += ((await p.send(`PUB ${E}.q 1\r\nq\r\n`)).match(/MSG/g) ?? []).length;
  const jq = ((await j.send('')).match(/MSG/g) ?? []).length;
  out.queue = total + jq;
  // A subject that is not UTF-8: 0xff, and a cut-off `€`.
  out.raw = await p.send(Buffer.concat([Buffer.from('SUB raw.'), Buffer.from([0xff]), Buffer.from(' 9\r\nSUB raw.'), Buffer.from([0xe2, 0x82]), Buffer.from('x q 10\r\n')]));
  out.rawDenied = await j.send(Buffer.concat([Buffer.from('PUB raw.'), Buffer.from([0xff]), Buffer.from(' 1\r\nr\r\n')]));
  out.rawPub = await p.send(Buffer.concat([Buffer.from('PUB raw.'), Buffer.from([0xff]), Buffer.from(' 1\r\nr\r\n')]));

  const conns = (await monitor(t, '/connz?subs=detail')).connections as Array<Record<string, any>>;
  out.connz = conns.map((c) => ({
    name: c.name, subs: c.subscriptions,
    // msgs of a queue member depend on the random choice of member: the other subscriptions' are compared.
    detail: (c.subscriptions_list_detail ?? []).map((s: Record<string, any>) => [s.subject, s.qgroup ?? null, s.sid, s.qgroup === undefined ? s.msgs : -1]).sort(),
  })).sort((a, b) => String(a.name).localeCompare(String(b.name)));
  out.connzList = ((await monitor(t, '/connz?subs=1')).connections as Array<Record<string, any>>).map((c) => [...(c.subscriptions_list ?? [])].sort()).sort();
  const subsz = await monitor(t, '/subsz?subs=1');
  // nats-server lists its system account's subscriptions too (there is none here): only the clients' are compared.
  out.subsz = (subsz.subscriptions_list as Array<Record<string, any>>).filter((s) => !String(s.subject).startsWith('$SYS.'))
    .map((s) => [s.subject, s.qgroup ?? null, s.sid]).sort();
  const tested = await monitor(t, `/subsz?subs=1&test=${encodeURIComponent(`${E}.q`)}`);
  out.subszTest = (tested.subscriptions_list as Array<Record<string, any>> | undefined ?? []).map((s) => [s.subject, s.qgroup]).sort();
  return out;
}

describe('non-ASCII subjects in core NATS, against nats-server', () => {
  it('permissions, deliveries, queue groups and monitoring are the same from a conf file and from options', async () => {
    const theirs = await scenario(targets.real);
    // The scenario did what it is about on nats-server.
    expect(theirs.connect).toBe('');
    expect(theirs.subs).toContain(`Permissions Violation for Subscription to "${U}.secret"`);
    expect(theirs.delivered).toContain(`MSG ${F}.x 2 1\r\na`);
    expect(theirs.queue).toBe(6);
    for (const target of ['cli', 'options'] as const) {
      const ours = await scenario(targets[target]);
      for (const k of Object.keys(theirs)) expect([target, k, ours[k]]).toEqual([target, k, theirs[k]]);
    }
  }, 60_000);
});
