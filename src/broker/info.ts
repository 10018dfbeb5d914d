/**
 * The INFO a client receives, as nats-server's `generateClientInfoJSON` builds it: the server's
 * fields, the per-connection `client_id`/`client_ip`/`nonce`, the cluster's `connect_urls`,
 * and the websocket listener's own view for websocket clients. Field order is nats-server's
 * `Info` struct's, so the JSON matches byte for byte.
 */
import { NATS_SERVER_VERSION, PROTO_VERSION } from '../protocol/constants.js';
import type { ResolvedOptions } from '../config/options.js';
import type { ClusterHooks } from './cluster-hooks.js';

/** The INFO fields a client sees (one connection's view: `client_id`/`client_ip` vary). */
export interface ServerInfo {
  readonly server_id: string;
  readonly server_name: string;
  readonly version: string;
  readonly proto: number;
  readonly go: string;
  readonly host: string;
  readonly port: number;
  readonly headers: boolean;
  /** Present (true) when clients must authenticate. */
  readonly auth_required?: boolean;
  /** Present (true) when clients must upgrade to TLS after INFO. */
  readonly tls_required?: boolean;
  /** Present (true) when client certificates are required and verified. */
  readonly tls_verify?: boolean;
  /** Present (true) when TLS is offered but not required (`allowNonTls`). */
  readonly tls_available?: boolean;
  readonly max_payload: number;
  /** Present (true) when JetStream is enabled. */
  readonly jetstream?: boolean;
  readonly client_id?: number;
  readonly client_ip?: string;
  /** Per-connection nonce for nkey signatures, when nkey users exist. */
  readonly nonce?: string;
  /** The cluster name, when clustered. */
  readonly cluster?: string;
  /** Client URLs (`host:port`) of the cluster's members, this server's first. */
  readonly connect_urls?: readonly string[];
  /** Only in the async INFO sent when the server enters lame duck mode. */
  readonly ldm?: boolean;
  readonly xkey: string;
}

/** What the INFO is made of. */
export interface InfoSource {
  readonly options: ResolvedOptions;
  readonly serverId: string;
  readonly xkey: string;
  /** The client port, once listening. */
  readonly port: number;
  /** The websocket listener's port (0 without one). */
  readonly wsPort: number;
  /** The cluster name in use, or null without clustering. */
  readonly clusterName: string | null;
  readonly cluster: ClusterHooks | null;
}

/** One connection's part of its INFO. */
export interface InfoClient {
  readonly cid: number;
  readonly ip: string;
  readonly nonce?: string | null;
  readonly websocket?: boolean;
  /** This connection's payload limit when a user JWT lowered it (client.go generateClientInfoJSON: `c.mpay`). */
  readonly maxPayload?: number;
}

/** The INFO a client sees; without `client` the fields common to every connection. */
export function clientInfo(src: InfoSource, client?: InfoClient, ldm = false): ServerInfo {
  const o = src.options;
  const auth = o.auth;
  // As nats-server's generateClientInfoJSON and createWSClient: a websocket client sees the
  // websocket listener's host/port, tls_required and tls_available as that listener has TLS
  // (tls_verify stays the client listener's), the websocket URLs as connect_urls, and
  // auth_required when auth is configured or overridden for websocket clients (no_auth_user
  // does not clear it there).
  if (client?.websocket === true && o.websocket !== null) {
    const ws = o.websocket;
    const base = clientInfo(src, undefined, ldm);
    let urls = src.cluster?.wsConnectUrls() ?? null;
    if (urls !== null && ldm) urls = urls.slice(1);
    return {
      server_id: base.server_id,
      server_name: base.server_name,
      version: base.version,
      proto: base.proto,
      go: base.go,
      host: ws.host,
      port: src.wsPort,
      headers: base.headers,
      ...(auth !== null || ws.authOverride !== null ? { auth_required: true } : {}),
      ...(ws.tls !== null ? { tls_required: true } : {}),
      ...(base.tls_verify === true ? { tls_verify: true } : {}),
      ...(ws.tls !== null ? { tls_available: true } : {}),
      max_payload: client.maxPayload ?? base.max_payload,
      ...(base.jetstream === true ? { jetstream: true } : {}),
      client_id: client.cid,
      client_ip: client.ip,
      ...(client.nonce ? { nonce: client.nonce } : {}),
      ...(base.cluster !== undefined ? { cluster: base.cluster } : {}),
      ...(urls !== null && urls.length > 0 ? { connect_urls: urls } : {}),
      ...(ldm ? { ldm: true } : {}),
      xkey: base.xkey,
    };
  }
  return {
    server_id: src.serverId,
    server_name: o.serverName ?? src.serverId,
    version: NATS_SERVER_VERSION,
    proto: PROTO_VERSION,
    go: `node${process.versions.node}`,
    host: o.host,
    port: src.port,
    headers: !o.noHeaderSupport,
    // auth_required is false when no_auth_user lets clients in without credentials.
    ...(auth !== null && auth.noAuthUser === null ? { auth_required: true } : {}),
    ...(o.tls !== null && !o.allowNonTls ? { tls_required: true } : {}),
    ...(o.tls !== null && o.tls.verify ? { tls_verify: true } : {}),
    ...(o.tls !== null && o.allowNonTls ? { tls_available: true } : {}),
    max_payload: client?.maxPayload ?? o.maxPayload,
    ...(o.jetstream !== null ? { jetstream: true } : {}),
    ...(client === undefined ? {} : { client_id: client.cid, client_ip: client.ip }),
    ...(client?.nonce ? { nonce: client.nonce } : {}),
    ...clusterInfo(src, ldm),
    ...(ldm ? { ldm: true } : {}),
    xkey: src.xkey,
  };
}

function clusterInfo(src: InfoSource, ldm: boolean): { cluster?: string; connect_urls?: readonly string[] } {
  const name = src.clusterName;
  if (name === null) return {};
  let urls = src.cluster?.connectUrls() ?? null;
  // In lame duck mode clients are pointed at the other servers only.
  if (urls !== null && ldm) urls = urls.slice(1);
  return urls === null || urls.length === 0 ? { cluster: name } : { cluster: name, connect_urls: urls };
}

/** `INFO {...} \r\n` as one connection sees it (note the space before CRLF, as nats-server). */
export function infoFrame(src: InfoSource, client: InfoClient, ldm = false): Buffer {
  return Buffer.from(`INFO ${JSON.stringify(clientInfo(src, client, ldm))} \r\n`, 'utf8');
}
