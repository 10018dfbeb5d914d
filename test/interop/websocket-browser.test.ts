/**
 * A real browser on the WebSocket listener: headless Chromium loads a page (served by this test
 * on loopback) whose script opens `new WebSocket(url)` and speaks the raw NATS protocol —
 * CONNECT, SUB, PUB, PING, then reads a MSG published by a TCP client and writes it into the
 * DOM, which the test reads back with `--dump-dom`. The page's origin is the only one in
 * `allowedOrigins`, so the browser's Origin header is checked too.
 *
 * Skipped only when no Chromium binary is installed (`/usr/bin/chromium`, or `CHROMIUM_BIN`);
 * CI installs it (`.ci/run`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useScope } from '../helpers/scope.js';

const CHROMIUM = [process.env.CHROMIUM_BIN, '/usr/bin/chromium'].find((p): p is string => p !== undefined && p !== '' && existsSync(p));

const scope = useScope();

/** The page: raw NATS over the browser's WebSocket; the result goes into #result and to /result. */
function page(wsUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>nats-embedded websocket</title></head>
<body>
<div id="status">starting</div>
<div id="result"></div>
<img src="/hold" alt="">
<script>
(function () {
  var status = document.getElementById('status');
  var out = document.getElementById('result');
  function report(text) {
    out.textContent = text;
    fetch('/result', { method: 'POST', body: text }).catch(function () {});
  }
  var ws = new WebSocket(${JSON.stringify(wsUrl)});
  ws.binaryType = 'arraybuffer';
  var decoder = new TextDecoder();
  var enc = new TextEncoder();
  var buf = '';
  var connected = false;
  ws.onerror = function () { status.textContent = 'error'; report('error'); };
  ws.onclose = function () { if (!out.textContent) report('closed'); };
  ws.onmessage = function (ev) {
    if (!(ev.data instanceof ArrayBuffer)) { report('text frame'); return; }
    buf += decoder.decode(new Uint8Array(ev.data), { stream: true });
    for (;;) {
      var eol = buf.indexOf('\\r\\n');
      if (eol < 0) return;
      var line = buf.slice(0, eol);
      if (line.indexOf('MSG ') === 0) {
        var parts = line.split(' ');
        var size = Number(parts[parts.length - 1]);
        if (buf.length < eol + 2 + size + 2) return;
        var payload = buf.slice(eol + 2, eol + 2 + size);
        buf = buf.slice(eol + 2 + size + 2);
        status.textContent = 'received';
        report(parts[1] + ':' + payload);
        ws.close();
        continue;
      }
      buf = buf.slice(eol + 2);
      if (line.indexOf('INFO ') === 0 && !connected) {
        connected = true;
        var hello = 'hello from chromium';
        ws.send(enc.encode('CONNECT {"verbose":false,"pedantic":false,"protocol":1,"lang":"browser","name":"chromium"}\\r\\n' +
          'SUB browser.in 1\\r\\nPUB browser.out ' + hello.length + '\\r\\n' + hello + '\\r\\nPING\\r\\n'));
        status.textContent = 'subscribed';
      } else if (line === 'PING') {
        ws.send(enc.encode('PONG\\r\\n'));
      } else if (line.indexOf('-ERR') === 0) {
        report(line);
      }
    }
  };
})();
</script>
</body></html>`;
}

describe.skipIf(CHROMIUM === undefined)('websocket: headless Chromium', () => {
  it('a page connects, subscribes and publishes over the browser WebSocket', async () => {
    let result: string | null = null;
    let holding: ServerResponse | null = null;
    const release = (): void => {
      holding?.end();
      holding = null;
    };
    let wsUrl = '';
    const http = createHttpServer((req, res) => {
      if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(page(wsUrl));
      } else if (req.url === '/hold') {
        // Keeps the page's load event (and so --dump-dom) waiting for the result.
        res.writeHead(200, { 'Content-Type': 'image/gif', 'Cache-Control': 'no-store' });
        holding = res;
        if (result !== null) release();
      } else if (req.url === '/result' && req.method === 'POST') {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          result = body;
          res.writeHead(204);
          res.end();
          release();
        });
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    scope.defer(() => new Promise<void>((resolve) => {
      release();
      http.closeAllConnections();
      http.close(() => resolve());
    }));
    const pageUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;

    const server = await scope.server({ websocket: { noTls: true, allowedOrigins: [pageUrl.slice(0, -1)] } });
    wsUrl = server.websocketUrl!;
    const nc = await scope.client(server, { reconnect: false });
    const fromBrowser = nc.subscribe('browser.out', { max: 1 });
    await nc.flush();
    // Publish to the page once its SUB is in.
    const published = server.waitForSubscription('browser.in', { timeoutMs: 25_000 }).then(() => {
      nc.publish('browser.in', 'hello browser');
      return nc.flush();
    });
    published.catch(() => undefined);

    const profile = mkdtempSync(join(tmpdir(), 'nats-embedded-chromium-'));
    scope.defer(() => rmSync(profile, { recursive: true, force: true }));
    const child = spawn(CHROMIUM!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-extensions', '--no-first-run', '--no-default-browser-check',
      '--no-proxy-server', '--mute-audio', `--user-data-dir=${profile}`, '--dump-dom', pageUrl,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let dom = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (dom += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    scope.defer(() => {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await new Promise<void>((resolve) => child.once('close', () => resolve()));

    expect(result, `chromium stderr:\n${stderr.slice(-2000)}`).toBe('browser.in:hello browser');
    expect(dom).toContain('<div id="result">browser.in:hello browser</div>');
    expect(dom).toContain('<div id="status">received</div>');
    let got = '';
    for await (const m of fromBrowser) got = m.string();
    expect(got).toBe('hello from chromium');
  }, 60_000);
});
