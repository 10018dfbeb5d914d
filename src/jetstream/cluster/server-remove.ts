/**
 * The meta-level requests of the system account, `$JS.API.SERVER.REMOVE` and
 * `$JS.API.META.LEADER.STEPDOWN`: their request bodies and the removal advisory, as nats-server
 * 2.10.29 has them (jetstream_api.go jsLeaderServerRemoveRequest, JSApiMetaServerRemoveRequest,
 * jsLeaderStepDownRequest, JSApiLeaderStepdownRequest; jetstream_cluster.go processRemovePeer,
 * JSServerRemovedAdvisory). What the meta group does with them lives in meta.ts; this file only
 * decides what a request asks for.
 */
import { isEmptyRequest } from '../api.js';
import { jsError, type ApiError } from '../errors.js';
import { goJson, rfc3339Nano } from '../../protocol/go-format.js';
import { newNuid } from '../../broker/ids.js';

/** The response kind (`io.nats.jetstream.api.v1.meta_server_remove_response`). */
export const SERVER_REMOVE_KIND = 'meta_server_remove';

/** A request body that is a JSON object, or null where Go's json.Unmarshal into a struct fails. */
function decodeObject(body: Buffer): Record<string, unknown> | null {
  let req: unknown;
  try {
    req = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  return typeof req === 'object' && req !== null && !Array.isArray(req) ? (req as Record<string, unknown>) : null;
}

/**
 * The meta group's member a SERVER.REMOVE body names, or the error nats-server answers:
 * 10003 "bad request" for an empty body (or `{}`: isEmptyRequest), 10025 "invalid JSON" for a
 * body Go's json.Unmarshal refuses (not an object, or `peer` / `peer_id` not strings), 10044
 * "server is not a member of the cluster" when no member matches. `peer_id` (the 8-character
 * Raft peer id), when given, takes precedence over `peer` (the server name).
 *
 * `members`: the server names of the meta group's voters; `idOf`: a name's peer id.
 */
export function serverRemoveTarget(body: Buffer, members: readonly string[], idOf: (name: string) => string): { peer: string } | { error: ApiError } {
  if (isEmptyRequest(body)) return { error: jsError('JSBadRequestErr') };
  const req = decodeObject(body);
  if (req === null) return { error: jsError('JSInvalidJSONErr') };
  const { peer, peer_id: peerIdField } = req;
  if ((peer !== undefined && peer !== null && typeof peer !== 'string') || (peerIdField !== undefined && peerIdField !== null && typeof peerIdField !== 'string')) {
    return { error: jsError('JSInvalidJSONErr') };
  }
  const name = typeof peer === 'string' ? peer : '';
  const id = typeof peerIdField === 'string' ? peerIdField : '';
  const found = id !== '' ? members.find((m) => idOf(m) === id) : members.find((m) => m === name);
  return found === undefined ? { error: jsError('JSClusterServerNotMemberErr') } : { peer: found };
}

/** The subject of the advisory a removed server publishes in the system account. */
export const SERVER_REMOVED_ADVISORY = '$JS.EVENT.ADVISORY.SERVER.REMOVED';

/** `io.nats.jetstream.advisory.v1.server_removed` (JSServerRemovedAdvisory; `domain` omitted when empty). */
export function serverRemovedAdvisory(server: string, serverId: string, cluster: string, domain: string | null): string {
  return `{"type":"io.nats.jetstream.advisory.v1.server_removed","id":${goJson(newNuid(), false)},`
    + `"timestamp":${goJson(rfc3339Nano(Date.now()), false)},"server":${goJson(server, false)},"server_id":${goJson(serverId, false)},`
    + `"cluster":${goJson(cluster, false)}${domain === null || domain === '' ? '' : `,"domain":${goJson(domain, false)}`}}`;
}

/**
 * What a META.LEADER.STEPDOWN body asks for (2.10.29 jsLeaderStepDownRequest): null for no
 * preference (an empty body, or no `placement`), the cluster the next leader must be in, or the
 * error: 10025 "invalid JSON" for a body Go cannot decode into the request, 10011 for placement
 * tags. (2.9.10 read a body without `placement` as the cluster "" and answered 10005.)
 */
export function stepdownPlacement(body: Buffer): { cluster: string } | { error: ApiError } | null {
  if (isEmptyRequest(body)) return null;
  const req = decodeObject(body);
  if (req === null) return { error: jsError('JSInvalidJSONErr') };
  const placement = req.placement;
  if (placement === undefined || placement === null) return null;
  if (typeof placement !== 'object' || Array.isArray(placement)) return { error: jsError('JSInvalidJSONErr') };
  const { cluster, tags } = placement as { cluster?: unknown; tags?: unknown };
  const badCluster = cluster !== undefined && cluster !== null && typeof cluster !== 'string';
  const badTags = tags !== undefined && tags !== null && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'));
  if (badCluster || badTags) return { error: jsError('JSInvalidJSONErr') };
  if (Array.isArray(tags) && tags.length > 0) return { error: jsError('JSClusterTagsErr') };
  return { cluster: typeof cluster === 'string' ? cluster : '' };
}
