/** Shared by the system-account tests: requests answered with JSON, and collecting messages. */
import type { NatsConnection } from '@nats-io/transport-node';

export type Json = Record<string, unknown>;

/** A request whose answer is JSON. */
export async function json(nc: NatsConnection, subject: string, body = '', timeout = 1000): Promise<Json> {
  return (await nc.request(subject, body, { timeout })).json<Json>();
}

/** The next `n` messages on `subject`, decoded as JSON. */
export function collect(nc: NatsConnection, subject: string, n = 1): Promise<Array<{ subject: string; data: Json }>> {
  const out: Array<{ subject: string; data: Json }> = [];
  return new Promise((resolve) => {
    nc.subscribe(subject, {
      max: n,
      callback: (_e, m) => {
        out.push({ subject: m.subject, data: m.json<Json>() });
        if (out.length === n) resolve(out);
      },
    });
  });
}
