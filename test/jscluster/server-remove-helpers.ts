/**
 * What the SERVER.REMOVE tests share: a cluster with a system-account user, and probes that
 * tolerate the cluster changing under them.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { StreamInfo } from '@nats-io/jetstream';
import { eventually } from '../helpers/eventually.js';
import type { ClusterHarnessOptions } from '../../src/index.js';

/** eventually(), with a probe that may reject while the cluster changes (counted as not yet). */
export function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  return eventually(() => fn().catch(() => undefined), what, ms);
}

/** The reply's text, or '(no reply)' when none came within `ms`. */
export async function raw(nc: NatsConnection, subject: string, body = '', ms = 1500): Promise<string> {
  try {
    return (await nc.request(subject, body, { timeout: ms })).string();
  } catch {
    return '(no reply)';
  }
}

export const RESPONSE = 'io.nats.jetstream.api.v1.meta_server_remove_response';
/** A successful SERVER.REMOVE answer. */
export const REMOVED = `{"type":"${RESPONSE}","success":true}`;

/** Every member of the stream's group, leader first. */
export function members(si: StreamInfo): string[] {
  return [si.cluster?.leader ?? '(none)', ...(si.cluster?.replicas ?? []).map((p) => p.name)];
}

export const OPTIONS: ClusterHarnessOptions = {
  jetstream: true,
  // A global-account user for the applications, a system-account user for the operator.
  authorization: { users: [{ user: 'g', password: 'g' }] },
  accounts: { $SYS: { users: [{ user: 's', password: 's' }] } },
};
