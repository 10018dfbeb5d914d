/**
 * The CLI as a drop-in for the nats-server binary, compared with the real one (NATS_SERVER_BIN):
 * both installed as a symlink named `nats-server` and started as a client library's harness
 * does (`nats-server -c <conf>` from PATH, then wait for `<ports_file_dir>/nats-server_<pid>.ports`);
 * the ports files must be the same but for the port numbers. And `-t` must agree on which
 * configuration files are valid. Run by `npm run test:conformance` (it needs NATS_SERVER_BIN).
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useScope } from '../helpers/scope.js';
import { eventually } from '../helpers/eventually.js';

const BIN = process.env.NATS_SERVER_BIN ?? '';
const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

const scope = useScope();

/** A directory holding a symlink named nats-server to `target`. */
function installAsNatsServer(target: string): string {
  const bin = mkdtempSync(join(tmpdir(), 'dropin-bin-'));
  symlinkSync(target, join(bin, 'nats-server'));
  return bin;
}

const env = (bin: string): NodeJS.ProcessEnv => ({ ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` });

/** Starts `nats-server <args>` from `bin` and returns the ports file's text once it is complete JSON. */
async function portsFileOf(bin: string, args: string[], dir: string): Promise<string> {
  const child = spawn('nats-server', args, { env: env(bin), stdio: 'ignore' });
  scope.defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const file = join(dir, `nats-server_${child.pid!}.ports`);
  const text = await eventually(() => {
    if (!existsSync(file)) return undefined;
    const written = readFileSync(file, 'utf8');
    try {
      JSON.parse(written);
      return written;
    } catch {
      return undefined; // written but not complete yet
    }
  }, file, 10_000);
  child.kill('SIGTERM');
  return text;
}

const withoutPorts = (text: string): string => text.replace(/:\d+"/g, ':<port>"');

describe.skipIf(BIN === '')('the CLI installed as nats-server, beside the real one', () => {
  it('writes the same nats-server_<pid>.ports file (but for the ports)', async () => {
    const texts: string[] = [];
    for (const target of [BIN, CLI]) {
      const dir = mkdtempSync(join(tmpdir(), 'dropin-'));
      const conf = join(dir, 'server.conf');
      writeFileSync(conf, [
        'listen: "127.0.0.1:-1"',
        'http: "127.0.0.1:-1"',
        'cluster { name: C, listen: "127.0.0.1:-1" }',
        'websocket { listen: "127.0.0.1:-1", no_tls: true }',
        `ports_file_dir: "${dir}"`,
      ].join('\n'));
      texts.push(await portsFileOf(installAsNatsServer(target), ['-c', conf], dir));
    }
    expect(withoutPorts(texts[1])).toBe(withoutPorts(texts[0]));
    expect(withoutPorts(texts[0])).toBe(
      '{"nats":["nats://127.0.0.1:<port>"],"monitoring":["http://127.0.0.1:<port>"],"cluster":["nats://127.0.0.1:<port>"],"websocket":["ws://127.0.0.1:<port>"]}',
    );
  });

  it('on 0.0.0.0 lists the interface addresses nats-server lists, IPv6 ones too (both listen dual-stack)', async () => {
    const lists: string[][] = [];
    for (const target of [BIN, CLI]) {
      const dir = mkdtempSync(join(tmpdir(), 'dropin-'));
      const text = await portsFileOf(installAsNatsServer(target), ['-a', '0.0.0.0', '-p', '-1', '--ports_file_dir', dir], dir);
      lists.push((JSON.parse(withoutPorts(text)) as { nats: string[] }).nats);
    }
    const [theirs, ours] = lists;
    expect(ours.length).toBeGreaterThan(0);
    expect(ours).toEqual(theirs);
  });

  it('-t agrees on which config files are valid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dropin-t-'));
    const cases: Array<[string, string | null]> = [
      // [config, the unknown field both must name, or null when valid]
      ['authorization { users: [ { user: a, password: b, permission: { publish: "x" } } ] }', null],
      ['authorization { users: [ { USER: a, PERMISSIONS: { PUB: x, SUB: { ALLOW: y } } } ] }', null],
      ['authorization { default_permission: { import: x, export: y }, users: [ { user: a } ] }', null],
      ['TOKEN: s3\nauthorization { token: $TOKEN }', null],
      ['authorization { users: [ { user: a, password: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG } ] }', null],
      ['accounts: [A, B]', null],
      ['accounts { A: { users: [ { user: a } ], default_permissions: { publish: x } } }', null],
      ['trace_verbose: true\nPORT: 4222\nmonitor_port: 8222', null],
      ['UNUSED: 1', 'UNUSED'],
      ['authorization { users: [ { user: a, bogus: 1 } ] }', 'bogus'],
      ['cluster { nmae: x }', 'nmae'],
      ['websocket { no_tls: true, nope: 1 }', 'nope'],
    ];
    for (const [text, unknown] of cases) {
      const conf = join(dir, 'case.conf');
      writeFileSync(conf, `${text}\n`);
      for (const [cmd, args] of [[BIN, ['-t', '-c', conf]], [process.execPath, [CLI, '-t', '-c', conf]]] as const) {
        const r = spawnSync(cmd, args, { encoding: 'utf8' });
        if (unknown === null) expect(r.status, `${cmd}: ${text}\n${r.stderr}`).toBe(0);
        else {
          expect(r.status, `${cmd}: ${text}`).toBe(1);
          expect(r.stderr, `${cmd}: ${text}`).toContain(`unknown field "${unknown}"`);
        }
      }
    }
  });
});
