/**
 * Monitoring HTTP endpoints, as nats-server serves them (`/varz`, `/connz`, `/subsz`,
 * `/routez`, `/accountz`, `/leafz`, `/gatewayz`, `/jsz`, `/healthz`, `/`): the same paths, query parameters, JSON field names, key order,
 * types and units (nats-server 2.10 `monitor.go`), the same 400 texts for bad parameters. This
 * module is the listener and the dispatch; each endpoint's document is built in its own module.
 *
 * A new endpoint: a function `(ctx, q) => document` in a module of its own, a case in
 * `Monitor.handle`, a link in `root()`.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { listen } from '../io/listen.js';
import { NATS_SERVER_VERSION } from '../protocol/constants.js';
import { accountz } from './accountz.js';
import { connz } from './connz.js';
import { goJson } from '../protocol/go-format.js';
import { healthz } from './healthz.js';
import { jsz } from './jsz.js';
import { BadRequest } from './query.js';
import { routez, subsz } from './subsz.js';
import { leafz } from './leafz.js';
import { gatewayz } from './gatewayz.js';
import type { MonitorContext, MonitorHandle } from './types.js';
import { CpuSampler, varz } from './varz.js';

export type { MonitorContext, MonitorHandle } from './types.js';

/** Starts the monitoring listener on `host:port` (0 = ephemeral). */
export async function startMonitor(ctx: MonitorContext, host: string, port: number): Promise<MonitorHandle> {
  const monitor = new Monitor(ctx);
  const http: HttpServer = createHttpServer((req, res) => monitor.handle(req, res));
  const actual = await listen(http, host, port, (err) => process.emitWarning(`nats-embedded: monitor listener error: ${err.message}`));
  return {
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

class Monitor {
  /** nats-server's `http_req_stats`: requests served, by path. */
  private readonly reqStats = new Map<string, number>();
  private readonly cpu = new CpuSampler();

  constructor(private readonly ctx: MonitorContext) {}

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const q = url.searchParams;
    const ctx = this.ctx;
    try {
      switch (url.pathname) {
        case '/': return this.root(res);
        case '/varz':
          this.count('/varz');
          return this.respond(res, q, 200, goJson(varz(ctx, this.reqStats, this.cpu)));
        case '/connz': return this.respond(res, q, 200, goJson(connz(ctx, q, () => this.count('/connz'))));
        case '/routez': return this.respond(res, q, 200, goJson(routez(ctx, q, () => this.count('/routez'))));
        case '/leafz':
          this.count('/leafz');
          return this.respond(res, q, 200, goJson(leafz(ctx, q)));
        case '/gatewayz':
          this.count('/gatewayz');
          return this.respond(res, q, 200, goJson(gatewayz(ctx, q)));
        case '/subsz':
        case '/subscriptionsz':
          this.count('/subsz');
          return this.respond(res, q, 200, goJson(subsz(ctx, q)));
        case '/jsz':
          // nats-server counts the request before decoding its parameters.
          this.count('/jsz');
          return this.respond(res, q, 200, jsz(ctx, q));
        case '/accountz':
          this.count('/accountz');
          return this.respond(res, q, 200, goJson(accountz(ctx, q.get('acc') ?? '')));
        case '/healthz': {
          this.count('/healthz');
          const h = healthz(ctx, q);
          return this.respond(res, q, h.code, goJson(h.body, false));
        }
        default: return notFound(res);
      }
    } catch (err) {
      if (err instanceof BadRequest) return sendText(res, 400, err.message);
      // Anything else is a bug of ours: counted and reported like one on a connection.
      ctx.core().internalError(err, `monitoring request ${url.pathname}, answered 500`);
      sendText(res, 500, err instanceof Error ? err.message : String(err));
    }
  }

  private count(path: string): void {
    this.reqStats.set(path, (this.reqStats.get(path) ?? 0) + 1);
  }

  /** nats-server's `handleResponse`: JSON, or JSONP with `?callback=`. */
  private respond(res: ServerResponse, q: URLSearchParams, code: number, json: string): void {
    const callback = q.get('callback') ?? '';
    let body: string;
    if (callback !== '') {
      res.setHeader('Content-Type', 'application/javascript');
      body = `${callback}(${json})`;
    } else {
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('Access-Control-Allow-Origin', '*');
      body = json;
    }
    const buf = Buffer.from(body, 'utf8');
    res.setHeader('Content-Length', buf.length);
    res.statusCode = code;
    res.end(buf);
  }

  // ---- / --------------------------------------------------------------------------------------

  private root(res: ServerResponse): void {
    this.count('/');
    const links = [
      ['varz', 'General'],
      ['jsz', 'JetStream'],
      ['connz', 'Connections'],
      ['accountz', 'Accounts'],
      ['subsz', 'Subscriptions'],
      ['routez', 'Routes'],
      ['leafz', 'LeafNodes'],
      ['gatewayz', 'Gateways'],
      ['healthz', 'Health Probe'],
    ]
      .map(([p, label]) => `    <a href=./${p}>${label}</a>`)
      .join('\n');
    const html = `<html lang="en">
  <head>
    <title>nats-embedded monitoring</title>
    <style type="text/css">
      body { font-family: ui-sans-serif, system-ui, sans-serif; margin-left: 32px }
      a { display: block; margin-left: 7px; padding-bottom: 6px }
    </style>
  </head>
  <body>
    <h2>nats-embedded <small>(nats-server v${NATS_SERVER_VERSION} monitoring endpoints)</small></h2>
${links}
    <a href=https://docs.nats.io/running-a-nats-service/nats_admin/monitoring>Help</a>
  </body>
</html>`;
    const buf = Buffer.from(html, 'utf8');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Length', buf.length);
    res.end(buf);
  }
}

// ---- Helpers ------------------------------------------------------------------------------------

function sendText(res: ServerResponse, code: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  res.statusCode = code;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', buf.length);
  res.end(buf);
}

/** Go's `http.NotFound`. */
function notFound(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  sendText(res, 404, '404 page not found\n');
}
