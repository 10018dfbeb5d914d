/**
 * HTTP requests to a monitoring port (`/varz`, `/jsz`, ...) for the monitor tests: the reply as
 * it came, and its body as JSON once asserted 200.
 */
import { expect } from 'vitest';

export type Json = Record<string, unknown>;

export interface MonitorReply {
  readonly status: number;
  readonly type: string | null;
  readonly cors: string | null;
  readonly text: string;
}

/** GET `base` + `path`: status, content type, CORS header and body. */
export async function monitorGet(base: string, path: string): Promise<MonitorReply> {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, type: r.headers.get('content-type'), cors: r.headers.get('access-control-allow-origin'), text: await r.text() };
}

/** GET `base` + `path`, expecting 200, parsed as JSON. */
export async function monitorJson(base: string, path: string): Promise<Json> {
  const r = await monitorGet(base, path);
  expect(r.status, `${path}: ${r.text}`).toBe(200);
  return JSON.parse(r.text) as Json;
}
