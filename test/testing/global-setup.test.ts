/**
 * `nats-embedded/global-setup` and `nats-embedded/vitest-setup`: they run in vitest's main
 * process, where there is no test runtime, so they must not load vitest at all (importing the
 * fixtures there crashed vitest: "failed to find the current suite"). And the clusters they
 * start: with createCluster(), or, on the nats-server backend, from routed createServer()
 * members, all closed on teardown and when startup fails halfway.
 *
 * Reads the built package (dist/): run `npm run build` first, as `npm test` does. The
 * nats-server tests need the binary (NATS_SERVER_BIN, or nats-server on PATH), as CI has.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, createServer as createTcpServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError, ListenError, type ServerInfo } from 'nats-embedded';
import { natsGlobalSetup, type GlobalSetupProject } from 'nats-embedded/global-setup';
import { useScope } from '../helpers/scope.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };

/** The file a `nats-embedded[/sub]` specifier loads, from package.json "exports". */
function exportFile(spec: string): string {
  const entry = pkg.exports[spec === 'nats-embedded' ? '.' : `.${spec.slice('nats-embedded'.length)}`];
  if (entry === undefined) throw new Error(`package.json exports no ${spec}`);
  const target = typeof entry === 'string' ? entry : 'import' in entry ? (entry as { import: { default: string } }).import.default : entry.default;
  return resolve(ROOT, target);
}

/**
 * Every bare specifier (other than the package itself, which is followed) reachable from `spec`
 * in the built files, static and dynamic imports alike.
 */
function externalImports(spec: string): Set<string> {
  const seen = new Set<string>();
  const externals = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)) {
      const s = m[1];
      if (s.startsWith('.')) visit(resolve(dirname(file), s));
      else if (s === 'nats-embedded' || s.startsWith('nats-embedded/')) visit(exportFile(s));
      else externals.add(s);
    }
  };
  visit(exportFile(spec));
  return externals;
}

const isVitest = (s: string): boolean => /^(vitest|vite|@vitest\/[^/]+)(\/|$)/.test(s);

describe('global setup entry points', () => {
  it.each(['nats-embedded/global-setup', 'nats-embedded/vitest-setup'])('%s never imports vitest', (spec) => {
    expect([...externalImports(spec)].filter(isVitest)).toEqual([]);
  });

  it('the import graph walk does see vitest where it is imported (nats-embedded/vitest)', () => {
    expect([...externalImports('nats-embedded/vitest')].filter(isVitest)).toContain('vitest');
  });

  it('natsGlobalSetup runs in a plain Node process: provides the URL, tears the broker down', async () => {
    const script = `
      import { natsGlobalSetup } from 'nats-embedded/global-setup';
      import { connect } from 'node:net';
      const provided = {};
      const teardown = await natsGlobalSetup({ maxPayload: 2048 })({ provide: (k, v) => { provided[k] = v; } });
      const { hostname, port } = new URL(provided.natsUrl);
      const info = await new Promise((res, rej) => {
        const s = connect({ host: hostname, port: Number(port) });
        s.once('data', (d) => { s.destroy(); res(JSON.parse(String(d).slice(5))); });
        s.once('error', rej);
      });
      await teardown();
      const refused = await new Promise((res) => {
        const s = connect({ host: hostname, port: Number(port) });
        s.once('connect', () => { s.destroy(); res(false); });
        s.once('error', () => res(true));
      });
      console.log(JSON.stringify({ provided, maxPayload: info.max_payload, refused }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 20_000 });
    const out = JSON.parse(stdout) as { provided: { natsUrl: string; natsUrls: string[] }; maxPayload: number; refused: boolean };
    expect(out.provided.natsUrls).toEqual([out.provided.natsUrl]);
    expect(out.maxPayload).toBe(2048);
    expect(out.refused).toBe(true);
  });
});

/** A stand-in for vitest's TestProject: records what the setup provides. */
function project(): GlobalSetupProject & { provided: { natsUrl?: string; natsUrls?: string[] } } {
  const provided: { natsUrl?: string; natsUrls?: string[] } = {};
  return {
    provided,
    provide(key: 'natsUrl' | 'natsUrls', value: string | string[]) {
      Object.assign(provided, { [key]: value });
    },
  } as GlobalSetupProject & { provided: typeof provided };
}

const scope = useScope();

/** The INFO a server sends on connect, or null when nothing listens at `url`. */
function infoAt(url: string): Promise<ServerInfo | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = tcpConnect({ host: hostname, port: Number(port) });
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      if (!buf.includes('\r\n')) return;
      s.destroy();
      resolve(JSON.parse(buf.slice(5, buf.indexOf('\r\n'))) as ServerInfo);
    });
    s.once('error', () => resolve(null));
  });
}

/** A TCP port that is free now. */
async function freePort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('natsGlobalSetup clusters', () => {
  it('rejects a cluster size that is not a positive integer, and port or serverName for a cluster', () => {
    for (const clusterSize of [0, -1, 2.5, Number.NaN]) {
      expect(() => natsGlobalSetup({ clusterSize })).toThrow(ConfigError);
    }
    expect(() => natsGlobalSetup({ clusterSize: 3, port: 4222 })).toThrow(/"port": cannot be set for a cluster/);
    expect(() => natsGlobalSetup({ clusterSize: 3, serverName: 'a' })).toThrow(/"serverName": cannot be set for a cluster/);
  });

  it('embedded: a createCluster() cluster, closed on teardown', async () => {
    const p = project();
    const teardown = await natsGlobalSetup({ clusterSize: 2 })(p);
    scope.defer(teardown);
    const urls = p.provided.natsUrls!;
    expect(urls).toHaveLength(2);
    expect(p.provided.natsUrl).toBe(urls[0]);
    const infos = await Promise.all(urls.map(infoAt));
    expect(new Set(infos.map((i) => i?.cluster)).size).toBe(1);
    await teardown();
    expect(await Promise.all(urls.map(infoAt))).toEqual([null, null]);
  });

  it('nats-server: routed createServer() members, meshed before the URLs are provided, closed on teardown', async () => {
    const p = project();
    const teardown = await natsGlobalSetup({ backend: 'nats-server', clusterSize: 3 })(p);
    scope.defer(teardown);
    const urls = p.provided.natsUrls!;
    expect(urls).toHaveLength(3);
    const infos = await Promise.all(urls.map(infoAt));
    // One cluster; each member advertises the client URLs of the others, learned over the routes.
    expect(new Set(infos.map((i) => i?.cluster)).size).toBe(1);
    for (const info of infos) expect(info?.connect_urls).toHaveLength(3);
    await teardown();
    expect(await Promise.all(urls.map(infoAt))).toEqual([null, null, null]);
  });

  it('nats-server: a member that fails to start fails the setup, and the members already started are closed', async () => {
    // Every member asks for the same monitoring port: the first gets it, the others cannot start.
    const http = await freePort();
    const p = project();
    const err = await natsGlobalSetup({ backend: 'nats-server', clusterSize: 3, http })(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListenError);
    expect(p.provided).toEqual({});
    // The seed held the port; it is free again once the seed was closed.
    const again = createTcpServer();
    await new Promise<void>((r, j) => again.once('error', j).listen(http, '127.0.0.1', r));
    await new Promise<void>((r) => again.close(() => r()));
  });
});
