/**
 * The checks Go's `json.Unmarshal` makes when nats-server decodes a client's CONNECT or INFO
 * into its structs. A value that does not fit the field's Go type is an error, and nats-server
 * then closes the connection without a reply; this module says whether that would happen.
 *
 * Go matches keys case-insensitively, ignores unknown keys and treats `null` as "leave as is".
 */

/** Go field types that occur in nats-server's `ClientOpts` and `Info`. */
export type GoType = 'bool' | 'string' | 'int' | 'int32' | 'uint64' | 'uint8' | 'strings' | 'bytes' | 'perm';
export type GoStruct = Readonly<Record<string, GoType>>;

/** `ClientOpts` (CONNECT), nats-server 2.10 `client.go`. */
export const CLIENT_OPTS: GoStruct = {
  echo: 'bool', verbose: 'bool', pedantic: 'bool', tls_required: 'bool', nkey: 'string', jwt: 'string',
  sig: 'string', auth_token: 'string', user: 'string', pass: 'string', name: 'string', lang: 'string',
  version: 'string', protocol: 'int', account: 'string', new_account: 'bool', headers: 'bool',
  no_responders: 'bool', import: 'perm', export: 'perm', remote_account: 'string',
};

/** `Info` (INFO), nats-server 2.10 `server.go`. */
export const INFO: GoStruct = {
  server_id: 'string', server_name: 'string', version: 'string', proto: 'int', git_commit: 'string',
  go: 'string', host: 'string', port: 'int', headers: 'bool', auth_required: 'bool', tls_required: 'bool',
  tls_verify: 'bool', tls_available: 'bool', max_payload: 'int32', jetstream: 'bool', ip: 'string',
  client_id: 'uint64', client_ip: 'string', nonce: 'string', cluster: 'string', cluster_dynamic: 'bool',
  domain: 'string', connect_urls: 'strings', ws_connect_urls: 'strings', ldm: 'bool', compression: 'string',
  import: 'perm', export: 'perm', lnoc: 'bool', lnocu: 'bool', info_on_connect: 'bool', connect_info: 'bool',
  route_pool_size: 'int', route_pool_idx: 'int', route_account: 'string', route_acc_add_reqid: 'string',
  gateway: 'string', gateway_urls: 'strings', gateway_url: 'string', gateway_cmd: 'uint8',
  gateway_cmd_payload: 'bytes', gateway_nrp: 'bool', gateway_iom: 'bool', leafnode_urls: 'strings',
  remote_account: 'string', xkey: 'string',
};

const INT_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int: [-(2n ** 63n), 2n ** 63n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  uint8: [0n, 255n],
};

/**
 * Decodes `text` as nats-server would decode it into `struct`. Returns the parsed fields
 * (keys lower-cased, nulls dropped), or null where Go would fail.
 */
export function decodeGoJson(text: string, struct: GoStruct): Map<string, unknown> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const out = new Map<string, unknown>();
  if (parsed === null) return out;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const fields = parsed as Record<string, unknown>;
  let intFields: Map<string, string[]> | null = null;
  for (const rawKey of Object.keys(fields)) {
    const key = rawKey.toLowerCase();
    const type = struct[key];
    if (type === undefined) continue;
    const v = fields[rawKey];
    if (v === null) continue;
    if (type in INT_RANGES) {
      // JSON.parse has turned the number into a double: check the literal as written.
      intFields ??= intLiterals(text);
      const literals = intFields.get(key) ?? [];
      if (typeof v !== 'number' || literals.length === 0) return null;
      const [min, max] = INT_RANGES[type];
      for (const lit of literals) {
        if (!/^-?(0|[1-9]\d*)$/.test(lit)) return null;
        const n = BigInt(lit);
        if (n < min || n > max) return null;
      }
    } else if (!fitsType(v, type)) {
      return null;
    }
    out.set(key, v);
  }
  return out;
}

function fitsType(v: unknown, type: GoType): boolean {
  switch (type) {
    case 'bool':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string';
    case 'strings':
      return Array.isArray(v) && v.every((s) => s === null || typeof s === 'string');
    case 'bytes':
      return typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v) && v.length % 4 === 0;
    case 'perm': {
      if (typeof v !== 'object' || Array.isArray(v) || v === null) return false;
      for (const [k, list] of Object.entries(v as Record<string, unknown>)) {
        const lk = k.toLowerCase();
        if ((lk === 'allow' || lk === 'deny') && list !== null && !fitsType(list, 'strings')) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** The literal text of every `"key": <number>` value in `text`, by lower-cased key. */
function intLiterals(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = /"((?:[^"\\]|\\.)*)"\s*:\s*(-?[0-9][0-9.eE+-]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const key = m[1].toLowerCase();
    const list = out.get(key);
    if (list === undefined) out.set(key, [m[2]]);
    else list.push(m[2]);
  }
  return out;
}
