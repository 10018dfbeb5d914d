/**
 * The ports file's name and content (src/cli/ports.ts), against nats-server's server.go:
 * `<filepath.Base(os.Args[0])>_<pid>.ports` and `resolveHostPorts`/`formatURL` URLs.
 */
import { describe, expect, it } from 'vitest';
import { networkInterfaces } from 'node:os';
import { EXECUTABLE_ENV, executableName, listenerUrls, portsFilePath, portsInfo, portsJson, type Listeners } from '../../src/cli/ports.js';

const OWN = '/opt/app/node_modules/nats-embedded/dist/cli.js';

describe('ports file name', () => {
  it('is the base name of the invoked script, as Go takes filepath.Base(os.Args[0])', () => {
    const cases: Array<[string | undefined, string]> = [
      ['/usr/local/bin/nats-server', 'nats-server'], // a symlink to dist/cli.js: Node keeps the link's path
      ['/tmp/bin/my-broker', 'my-broker'],
      ['/tmp/bin/nats-server.js', 'nats-server'], // .js/.mjs/.cjs dropped
      ['/tmp/bin/nats-server.mjs', 'nats-server'],
      ['/tmp/bin/nats-server.cjs', 'nats-server'],
      ['/tmp/bin/nats-server.exe', 'nats-server.exe'], // other extensions kept, as Go keeps them
      ['/opt/app/node_modules/.bin/nats-embedded', 'nats-embedded'], // the npm bin link
      [OWN, 'nats-embedded'], // node dist/cli.js: run as itself
      ['/elsewhere/dist/cli.js', 'nats-embedded'], // the same file name is the CLI's own file
      [undefined, 'nats-embedded'],
      ['', 'nats-embedded'],
    ];
    for (const [script, name] of cases) expect(executableName(script, OWN, {}), String(script)).toBe(name);
  });

  it('takes a wrapper script’s name from NATS_EMBEDDED_EXECUTABLE, as a base name only', () => {
    expect(EXECUTABLE_ENV).toBe('NATS_EMBEDDED_EXECUTABLE');
    expect(executableName(OWN, OWN, { NATS_EMBEDDED_EXECUTABLE: 'nats-server' })).toBe('nats-server');
    expect(executableName(OWN, OWN, { NATS_EMBEDDED_EXECUTABLE: '../../etc/nats-server' })).toBe('nats-server');
    expect(executableName('/usr/bin/x', OWN, { NATS_EMBEDDED_EXECUTABLE: '' })).toBe('x');
  });

  it('is <dir>/<executable>_<pid>.ports', () => {
    expect(portsFilePath('/tmp/p', 'nats-server', 1234)).toBe('/tmp/p/nats-server_1234.ports');
  });
});

describe('ports file content', () => {
  it('is compact JSON with the keys in nats-server’s order', () => {
    expect(portsJson({ nats: ['nats://127.0.0.1:4222'], monitoring: ['http://127.0.0.1:8222'] }))
      .toBe('{"nats":["nats://127.0.0.1:4222"],"monitoring":["http://127.0.0.1:8222"]}');
  });

  it('lists the bound address: an IP as given, a host name as it resolves, IPv6 in brackets', async () => {
    expect(await listenerUrls('nats', '127.0.0.1', 4222)).toEqual(['nats://127.0.0.1:4222']);
    expect(await listenerUrls('tls', '::1', 4222)).toEqual(['tls://[::1]:4222']);
    const local = await listenerUrls('nats', 'localhost', 4222);
    expect(local).toHaveLength(1);
    expect(local[0]).toMatch(/^nats:\/\/(127\.0\.0\.1|\[::1\]):4222$/);
  });

  it('lists every interface address, IPv6 too, for a wildcard listener (0.0.0.0 and :: are dual-stack, as in Go)', async () => {
    const all = Object.values(networkInterfaces()).flatMap((a) => a ?? []);
    const every = all.map((a) => (a.family === 'IPv4' ? `nats://${a.address}:1` : `nats://[${a.address}]:1`));
    expect(await listenerUrls('nats', '0.0.0.0', 1)).toEqual(every);
    expect(await listenerUrls('nats', '::', 1)).toEqual(every);
  });
});

describe('ports file listeners', () => {
  const server = (tls: boolean, clusterTls: boolean, allowNonTls = false): Listeners => ({
    port: 4222, monitorPort: 8222, clusterPort: 6222, websocketPort: 8080,
    options: {
      host: '127.0.0.1',
      tls: tls ? {} : null,
      allowNonTls,
      http: { host: '127.0.0.1' },
      cluster: { host: '127.0.0.1', tls: clusterTls ? {} : null },
      websocket: { host: '127.0.0.1', tls: null },
    },
  });

  it('names each listener with the scheme it speaks: tls:// when TLS is configured, as nats-server', async () => {
    expect(await portsInfo(server(false, false))).toEqual({
      nats: ['nats://127.0.0.1:4222'], monitoring: ['http://127.0.0.1:8222'], cluster: ['nats://127.0.0.1:6222'], websocket: ['ws://127.0.0.1:8080'],
    });
    expect(await portsInfo(server(true, true))).toEqual({
      nats: ['tls://127.0.0.1:4222'], monitoring: ['http://127.0.0.1:8222'], cluster: ['tls://127.0.0.1:6222'], websocket: ['ws://127.0.0.1:8080'],
    });
    // allow_non_tls: TLS is offered, not required (INFO tls_required false), so nats://.
    expect((await portsInfo(server(true, false, true))).nats).toEqual(['nats://127.0.0.1:4222']);
  });

  it('leaves out listeners that are not configured', async () => {
    const s = server(false, false);
    expect(await portsInfo({ ...s, options: { ...s.options, http: null, cluster: null, websocket: null } })).toEqual({ nats: ['nats://127.0.0.1:4222'] });
  });
});
