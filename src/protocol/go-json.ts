/**
 * The checks Go's `json.Unmarshal` makes when nats-server decodes a client's CONNECT or INFO
 * into its structs. A value that does not fit the field's Go type is an error, and nats-server
 * then closes the connection without a reply; this module says whether that would happen.
 *
 * Go's rules (encoding/json decode.go, fold.go, scanner.go; encoding/base64), and why this is a
 * small scanner over the text rather than a walk over `JSON.parse`'s result:
 * - the whole document's syntax is checked first (JSON.parse does that here), including a
 *   nesting limit of 10000;
 * - keys are unquoted, then matched to fields exactly, else by Unicode simple case folding
 *   (so "ſ" is an "s" and "K" a "k"); unknown keys are skipped; only top-level keys are fields;
 * - `null` leaves any field as it is;
 * - a value of the wrong type is remembered and decoding goes on, so the first error is
 *   returned: every value of a duplicate key counts, not only the last, which is all
 *   JSON.parse keeps;
 * - integers are checked as written (strconv.ParseInt / ParseUint: no fraction, no exponent,
 *   no sign for unsigned types, not even `-0`), not as the double JSON.parse makes of them;
 * - `[]byte` takes a base64 string (StdEncoding: padded; `\r` and `\n` are skipped) or, as
 *   any slice, an array of its elements (uint8 numbers).
 * Once per CONNECT or INFO, never per message.
 *
 * `decodeGoValue` applies the same rules to a whole Go type tree (nested structs, pointers,
 * slices, `map[string]T`, int64 and types with their own `UnmarshalJSON`), for JetStream's API
 * requests. It follows decode.go's "decode into the existing value" model exactly: a
 * duplicate key decodes again into what the first one built (structs and maps merge, a slice
 * is overwritten element by element and cut to the new length), and `null` sets a pointer,
 * slice or map to nil but leaves any other value as it is.
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

/**
 * `connectInfo` (route.go): a route's CONNECT (processRouteConnect) and a gateway's
 * (processGatewayConnect) are decoded into it after `ClientOpts`.
 */
export const ROUTE_CONNECT: GoStruct = {
  echo: 'bool', verbose: 'bool', pedantic: 'bool', user: 'string', pass: 'string', tls_required: 'bool',
  headers: 'bool', name: 'string', cluster: 'string', cluster_dynamic: 'bool', lnoc: 'bool', lnocu: 'bool',
  gateway: 'string',
};

/** `leafConnectInfo` (leafnode.go): a leaf node's CONNECT is decoded into it after `ClientOpts` (processLeafNodeConnect). */
export const LEAF_CONNECT: GoStruct = {
  version: 'string', nkey: 'string', jwt: 'string', sig: 'string', user: 'string', pass: 'string',
  auth_token: 'string', server_id: 'string', domain: 'string', name: 'string', is_hub: 'bool', cluster: 'string',
  headers: 'bool', jetstream: 'bool', deny_pub: 'strings', compress_mode: 'string', gateway: 'string',
  remote_account: 'string',
};

/** What a peer's INFO is decoded into (client.go processInfo), for {@link parseJsonObject}. */
export const PEER_INFO: readonly [GoStruct] = [INFO];
/** What a route's or gateway's CONNECT is decoded into (client.go processConnect, then connectInfo). */
export const ROUTE_CONNECT_STRUCTS: readonly [GoStruct, GoStruct] = [CLIENT_OPTS, ROUTE_CONNECT];
/** What a leaf node's CONNECT is decoded into (client.go processConnect, then leafConnectInfo). */
export const LEAF_CONNECT_STRUCTS: readonly [GoStruct, GoStruct] = [CLIENT_OPTS, LEAF_CONNECT];

const INT_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int: [-(2n ** 63n), 2n ** 63n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  uint8: [0n, 255n],
};

/** scanner.go maxNestingDepth: a document nested deeper is a syntax error. */
const MAX_DEPTH = 10000;

/** A value Go cannot decode into the field (its UnmarshalTypeError, or base64's error). */
const ERR: unique symbol = Symbol('go-json type error');
/** A decoded value: undefined for null (the field is left as it is), ERR where Go fails. */
type Decoded = unknown;

/** base64.StdEncoding once \r and \n are gone: whole quantums, the last one maybe padded. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;

/**
 * Decodes `text` as nats-server would decode it into `struct`. Returns the decoded fields
 * (keys as the struct names them; null values leave a field out, a later value of a
 * duplicate key replaces an earlier one), or null where Go would fail.
 */
export function decodeGoJson(text: string, struct: GoStruct): Map<string, unknown> | null {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  // From here on the text is valid JSON: the scanner below does not check its syntax again.
  return new Scanner(text).document(struct);
}

/**
 * A server peer's INFO or CONNECT argument (routes, gateways, leaf nodes) as nats-server takes
 * it: `json.Unmarshal` into each of `structs` in turn (an INFO into `Info`; a CONNECT into
 * `ClientOpts`, then the kind's own struct). Returns the JSON object as sent — an empty one for
 * `null`, which Go decodes as "nothing to set" — or null where Go fails: not JSON, a top-level
 * array, string, number or boolean, or a field of the wrong type. On that failure nats-server's
 * parser returns the error and its read loop closes the connection as a protocol violation,
 * without an -ERR (client.go processInfo/processConnect, readLoop). Once per INFO or CONNECT.
 */
export function parseJsonObject(text: string, structs: readonly [GoStruct, ...GoStruct[]]): Record<string, unknown> | null {
  for (const struct of structs) if (decodeGoJson(text, struct) === null) return null;
  // decodeGoJson accepted it, so it is valid JSON holding an object or null.
  const v = JSON.parse(text) as Record<string, unknown> | null;
  return v ?? {};
}

const NON_ASCII = /[\u0080-\uffff]/;

const STRING_SLICE: GoSliceSchema = { kind: 'slice', elem: 'string' };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * decode.go unquote: a `\uD800`-style escape that is not half of a valid pair becomes U+FFFD,
 * so a Go string (valid UTF-8) never holds a lone surrogate.
 */
function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * fold.go: a key names a field when their Unicode simple case folds are equal. Field names are
 * ASCII, and the only non-ASCII letters that fold onto ASCII ones are "ſ" (U+017F, an s) and
 * "K" (U+212A, a k); any other non-ASCII character leaves the key matching no field.
 */
export function foldKey(key: string): string {
  if (!NON_ASCII.test(key)) return key.toLowerCase();
  const k = key.replace(/\u017f/g, 's').replace(/\u212a/g, 'k');
  return NON_ASCII.test(k) ? k : k.toLowerCase();
}


class Scanner {
  private pos = 0;

  constructor(private readonly text: string) {}

  /** The top level: an object of `struct`'s fields, or null (which leaves it as it is). */
  document(struct: GoStruct): Map<string, unknown> | null {
    const out = new Map<string, unknown>();
    this.ws();
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x6e) return out; // null
    if (c !== LBRACE) return null;
    this.pos++;
    if (this.emptyClose(RBRACE)) return out;
    for (;;) {
      const name = foldKey(this.key());
      if (Object.hasOwn(struct, name)) {
        const v = this.value(struct[name], 1);
        if (v === ERR) return null;
        if (v !== undefined) out.set(name, v);
      } else if (!this.skip(1)) {
        return null;
      }
      if (this.next() === RBRACE) return out;
    }
  }

  /**
   * One field's value, the scanner at its first character; `depth` is the nesting of the
   * object holding it. undefined for null, ERR when Go would fail.
   */
  private value(type: GoType, depth: number): Decoded {
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x6e) {
      this.pos += 4;
      return undefined;
    }
    switch (type) {
      case 'bool':
        if (c === 0x74) {
          this.pos += 4;
          return true;
        }
        if (c === 0x66) {
          this.pos += 5;
          return false;
        }
        return ERR;
      case 'string':
        return c === QUOTE ? this.string() : ERR;
      case 'int':
      case 'int32':
      case 'uint64':
      case 'uint8':
        return c === MINUS || (c >= 0x30 && c <= 0x39) ? this.integer(type) : ERR;
      case 'strings':
        return c === LBRACKET ? this.array('string', depth) : ERR;
      case 'bytes':
        if (c === QUOTE) {
          const s = this.string();
          return BASE64.test(s.replace(/[\r\n]/g, '')) ? s : ERR;
        }
        return c === LBRACKET ? this.array('uint8', depth) : ERR;
      case 'perm':
        return c === LBRACE ? this.permission(depth) : ERR;
    }
  }

  /** An integer literal for an int field: its text must parse as that Go type. */
  private integer(type: GoType | 'int64'): Decoded {
    const start = this.pos;
    this.literal();
    const lit = this.text.slice(start, this.pos);
    if (!INTEGER.test(lit)) return ERR;
    const [min, max] = INT_RANGES[type];
    // ParseUint takes no sign at all: "-0" is an error for unsigned fields.
    if (min === 0n && lit.charCodeAt(0) === MINUS) return ERR;
    const n = BigInt(lit);
    return n < min || n > max ? ERR : Number(lit);
  }

  /** A slice: each element decoded into `elem` (null elements are left zero). */
  private array(elem: 'string' | 'uint8', depth: number): Decoded {
    if (depth + 1 > MAX_DEPTH) return ERR;
    this.pos++;
    const out: unknown[] = [];
    if (this.emptyClose(RBRACKET)) return out;
    for (;;) {
      this.ws();
      const v = this.value(elem, depth + 1);
      if (v === ERR) return ERR;
      out.push(v === undefined ? null : v);
      if (this.next() === RBRACKET) return out;
    }
  }

  /** `*SubjectPermission`: an object whose allow and deny keys are []string. */
  private permission(depth: number): Decoded {
    if (depth + 1 > MAX_DEPTH) return ERR;
    const start = this.pos;
    this.pos++;
    if (!this.emptyClose(RBRACE)) {
      for (;;) {
        const name = foldKey(this.key());
        if (name === 'allow' || name === 'deny') {
          if (this.value('strings', depth + 1) === ERR) return ERR;
        } else if (!this.skip(depth + 1)) {
          return ERR;
        }
        if (this.next() === RBRACE) break;
      }
    }
    // Reported as written; nothing reads it beyond the type check.
    return JSON.parse(this.text.slice(start, this.pos)) as unknown;
  }

  /**
   * One value decoded into `current` (the field's value so far) as Go's decode.go would:
   * returns the new value, or GO_JSON_ERROR. `depth` is the nesting of the container holding
   * the value (0 for the document itself).
   */
  typed(schema: GoSchema, depth: number, current: unknown): unknown {
    const text = this.text;
    const start = this.pos;
    const c = text.charCodeAt(start);
    if (typeof schema === 'object' && schema.kind === 'unmarshaler') {
      // indirect() finds the Unmarshaler before looking at the value, null included.
      if (!this.skip(depth)) return GO_JSON_ERROR;
      return schema.unmarshal(text.slice(start, this.pos), current);
    }
    if (c === 0x6e) {
      this.pos += 4;
      // literalStore: null zeroes interfaces, pointers, maps and slices; others are left as is.
      if (typeof schema === 'string') return schema === 'strings' || schema === 'bytes' ? undefined : current;
      return schema.kind === 'struct' ? current : undefined;
    }
    if (typeof schema === 'string') {
      if (schema === 'int64') {
        if (c !== MINUS && (c < 0x30 || c > 0x39)) return this.mismatch(depth);
        const n = this.integer('int64');
        return n === ERR ? GO_JSON_ERROR : n;
      }
      if (schema === 'strings') return this.typed(STRING_SLICE, depth, current);
      const v = this.value(schema, depth);
      if (v === ERR) return this.pos === start ? this.mismatch(depth) : GO_JSON_ERROR;
      return typeof v === 'string' ? wellFormed(v) : v;
    }
    switch (schema.kind) {
      case 'ptr':
        // A nil pointer gets a fresh zero value; an existing one is decoded into.
        return this.typed(schema.elem, depth, current === undefined ? goZero(schema.elem) : current);
      case 'struct':
        return c === LBRACE ? this.struct(schema, depth, current as Record<string, unknown>) : this.mismatch(depth);
      case 'slice':
        return c === LBRACKET ? this.slice(schema, depth, current as unknown[] | undefined) : this.mismatch(depth);
      case 'map':
        return c === LBRACE ? this.map(schema, depth, current as Record<string, unknown> | undefined) : this.mismatch(depth);
    }
  }

  /** A value of the wrong kind: Go's UnmarshalTypeError (the value is still scanned past). */
  private mismatch(depth: number): typeof GO_JSON_ERROR {
    this.skip(depth);
    return GO_JSON_ERROR;
  }

  private struct(schema: GoStructSchema, depth: number, current: Record<string, unknown>): unknown {
    if (depth + 1 > MAX_DEPTH) return GO_JSON_ERROR;
    const out = { ...current };
    this.pos++;
    if (this.emptyClose(RBRACE)) return out;
    for (;;) {
      const name = foldKey(this.key());
      if (Object.hasOwn(schema.fields, name)) {
        const v = this.typed(schema.fields[name], depth + 1, out[name]);
        if (v === GO_JSON_ERROR) return GO_JSON_ERROR;
        out[name] = v;
      } else if (!this.skip(depth + 1)) {
        return GO_JSON_ERROR;
      }
      if (this.next() === RBRACE) return out;
    }
  }

  private slice(schema: GoSliceSchema, depth: number, current: unknown[] | undefined): unknown {
    if (depth + 1 > MAX_DEPTH) return GO_JSON_ERROR;
    // decode.go array(): elements are decoded into the slice's existing elements, then the
    // slice is cut to the number decoded; [] makes an empty (non-nil) slice.
    const out = current === undefined ? [] : [...current];
    this.pos++;
    let i = 0;
    if (!this.emptyClose(RBRACKET)) {
      for (;;) {
        this.ws();
        const v = this.typed(schema.elem, depth + 1, i < out.length ? out[i] : goZero(schema.elem));
        if (v === GO_JSON_ERROR) return GO_JSON_ERROR;
        out[i++] = v;
        if (this.next() === RBRACKET) break;
      }
    }
    out.length = i;
    return out;
  }

  private map(schema: GoMapSchema, depth: number, current: Record<string, unknown> | undefined): unknown {
    if (depth + 1 > MAX_DEPTH) return GO_JSON_ERROR;
    // An existing map is added to; each element starts from the zero value.
    // A null-prototype object, so that keys such as "__proto__" are plain keys.
    const out = Object.assign(Object.create(null) as Record<string, unknown>, current);
    this.pos++;
    if (this.emptyClose(RBRACE)) return out;
    for (;;) {
      const key = wellFormed(this.key());
      const v = this.typed(schema.elem, depth + 1, goZero(schema.elem));
      if (v === GO_JSON_ERROR) return GO_JSON_ERROR;
      out[key] = v;
      if (this.next() === RBRACE) return out;
    }
  }

  /** Passes over any value; false when it nests deeper than Go's scanner allows. */
  private skip(depth: number): boolean {
    const text = this.text;
    const c = text.charCodeAt(this.pos);
    if (c === QUOTE) {
      this.stringEnd();
      return true;
    }
    if (c !== LBRACE && c !== LBRACKET) {
      this.literal();
      return true;
    }
    let d = depth;
    do {
      const ch = text.charCodeAt(this.pos);
      if (ch === QUOTE) {
        this.stringEnd();
        continue;
      }
      if (ch === LBRACE || ch === LBRACKET) {
        if (++d > MAX_DEPTH) return false;
      } else if (ch === RBRACE || ch === RBRACKET) {
        d--;
      }
      this.pos++;
    } while (d > depth);
    return true;
  }

  /** A member's key, unquoted (Go matches the unquoted key), and the colon after it. */
  private key(): string {
    this.ws();
    const k = this.string();
    this.ws();
    this.pos++; // ':'
    this.ws();
    return k;
  }

  /** After a member or element: the closing bracket or comma, consumed and returned. */
  private next(): number {
    this.ws();
    return this.text.charCodeAt(this.pos++);
  }

  /** Just after an opening bracket: consumes `close` if the container is empty. */
  private emptyClose(close: number): boolean {
    this.ws();
    if (this.text.charCodeAt(this.pos) !== close) return false;
    this.pos++;
    return true;
  }

  private string(): string {
    const start = this.pos;
    this.stringEnd();
    const raw = this.text.slice(start + 1, this.pos - 1);
    return raw.includes('\\') ? (JSON.parse(this.text.slice(start, this.pos)) as string) : raw;
  }

  /** Moves past the string starting here: to the first quote not escaped by a backslash. */
  private stringEnd(): void {
    const text = this.text;
    let i = this.pos;
    for (;;) {
      i = text.indexOf('"', i + 1);
      let b = i - 1;
      while (text.charCodeAt(b) === BACKSLASH) b--;
      // An even run of backslashes escapes each other, not the quote.
      if ((i - 1 - b) % 2 === 0) break;
    }
    this.pos = i + 1;
  }

  /** A number, true, false or null. */
  private literal(): void {
    const text = this.text;
    let i = this.pos;
    for (;;) {
      const c = text.charCodeAt(i);
      // Digits, letters (e, E, true, false, null), '.', '+', '-'.
      if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2e || c === 0x2b || c === MINUS) i++;
      else break;
    }
    this.pos = i;
  }

  ws(): void {
    const text = this.text;
    let i = this.pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
    this.pos = i;
  }
}

// ---------------------------------------------------------------------------------------------
// Typed decoding (JetStream API requests).

/**
 * A Go type for {@link decodeGoValue}. The scalar names are those of {@link GoType} plus
 * `int64` (which also stands for `time.Duration`). Decoded values: bool, string, number
 * (integers; int64 values beyond 2^53 lose precision), plain objects for structs with every
 * field at its Go zero value (nil pointers, slices and maps are `undefined`), arrays for
 * slices, and objects with the JSON keys for `map[string]T`.
 */
export type GoSchema =
  | Exclude<GoType, 'perm'>
  | 'int64'
  | GoStructSchema
  | GoPtrSchema
  | GoSliceSchema
  | GoMapSchema
  | GoUnmarshalerSchema;

/** A struct: JSON field names (lower case, as the lookup folds keys) to their types. */
export interface GoStructSchema {
  readonly kind: 'struct';
  readonly fields: Readonly<Record<string, GoSchema>>;
}
/** A pointer: null makes it nil; anything else allocates (or reuses) the pointee. */
export interface GoPtrSchema {
  readonly kind: 'ptr';
  readonly elem: GoSchema;
}
/** A slice. */
export interface GoSliceSchema {
  readonly kind: 'slice';
  readonly elem: GoSchema;
}
/** A `map[string]T`: keys are taken as written (no case folding). */
export interface GoMapSchema {
  readonly kind: 'map';
  readonly elem: GoSchema;
}
/**
 * A type with its own `UnmarshalJSON`: it is handed the raw JSON text of the value (a string
 * with its quotes and escapes as written, `null` included) and the current value, and returns
 * the new value or {@link GO_JSON_ERROR}.
 */
export interface GoUnmarshalerSchema {
  readonly kind: 'unmarshaler';
  readonly zero: unknown;
  readonly unmarshal: (raw: string, current: unknown) => unknown;
}

/** Returned by an unmarshaler (and used inside the decoder) where Go's decoding fails. */
export const GO_JSON_ERROR: unique symbol = Symbol('go-json error');

/** The Go zero value of a schema, as {@link decodeGoValue} represents it. */
export function goZero(schema: GoSchema): unknown {
  if (typeof schema === 'string') {
    switch (schema) {
      case 'bool':
        return false;
      case 'string':
        return '';
      case 'strings':
      case 'bytes':
        return undefined;
      default:
        return 0;
    }
  }
  switch (schema.kind) {
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const [k, t] of Object.entries(schema.fields)) out[k] = goZero(t);
      return out;
    }
    case 'unmarshaler':
      return schema.zero;
    default:
      return undefined;
  }
}

/**
 * Decodes `text` as Go's `json.Unmarshal` would into a fresh value of `schema`: `{ value }`,
 * or null where Go returns an error (any error: syntax, a value of the wrong type, an integer
 * out of range, an unmarshaler's refusal).
 */
export function decodeGoValue(text: string, schema: GoSchema): { value: unknown } | null {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  const sc = new Scanner(text);
  sc.ws();
  const v = sc.typed(schema, 0, goZero(schema));
  return v === GO_JSON_ERROR ? null : { value: v };
}

// ---------------------------------------------------------------------------------------------
// Syntax errors, as Go words them.

/** encoding/json quoteChar: a byte as its error messages show it. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === QUOTE) return `'"'`;
  // strconv.Quote of the byte taken as a rune (a byte >= 0x80 is a Latin-1 character then).
  let s: string;
  if (c === 0x07) s = '\\a';
  else if (c === 0x08) s = '\\b';
  else if (c === 0x0c) s = '\\f';
  else if (c === 0x0a) s = '\\n';
  else if (c === 0x0d) s = '\\r';
  else if (c === 0x09) s = '\\t';
  else if (c === 0x0b) s = '\\v';
  else if (c === BACKSLASH) s = '\\\\';
  else if (c < 0x20 || c === 0x7f) s = `\\x${c.toString(16).padStart(2, '0')}`;
  else if (c >= 0x80 && c <= 0xa0) s = `\\u00${c.toString(16)}`;
  else if (c === 0xad) s = '\\u00ad';
  else s = String.fromCharCode(c);
  return `'${s}'`;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** scanner.go's step functions, by name. */
const enum St {
  BeginValue, BeginValueOrEmpty, BeginStringOrEmpty, BeginString, EndValue, EndTop,
  InString, InStringEsc, InStringEscU, Neg, Num1, Num0, Dot, Dot0, E, ESign, E0, Literal,
}
/** What a container waits for next (scanner.go parseObjectKey, parseObjectValue, parseArrayValue). */
const enum Ps { ObjectKey, ObjectValue, ArrayValue }

/**
 * The message of the `*json.SyntaxError` Go's `json.Unmarshal` returns for `data` (its
 * checkValid pass: scanner.go's state machine, byte by byte), or null when `data` is valid
 * JSON: `unexpected end of JSON input`, or `invalid character 'x' <context>` for the first
 * byte the scanner refuses (at the end a space is fed, so `1.` fails on that space, as in Go).
 */
export function goJsonSyntaxError(data: Uint8Array): string | null {
  let st = St.BeginValue;
  const stack: Ps[] = [];
  let endTop = false;
  let word = '';
  let wordAt = 0;
  let hexLeft = 0;
  let err: string | null = null;
  const fail = (c: number, context: string): void => {
    err = `invalid character ${quoteChar(c)} ${context}`;
  };
  const push = (c: number, ps: Ps, next: St): void => {
    stack.push(ps);
    if (stack.length > MAX_DEPTH) fail(c, 'exceeded max depth');
    else st = next;
  };
  const step = (c: number): void => {
    switch (st) {
      case St.BeginValueOrEmpty:
        if (isSpace(c)) return;
        if (c === RBRACKET) return endValue(c);
        return beginValue(c);
      case St.BeginValue:
        return beginValue(c);
      case St.BeginStringOrEmpty:
        if (isSpace(c)) return;
        if (c === RBRACE) {
          stack[stack.length - 1] = Ps.ObjectValue;
          return endValue(c);
        }
        return beginString(c);
      case St.BeginString:
        return beginString(c);
      case St.EndValue:
        return endValue(c);
      case St.EndTop:
        if (!isSpace(c)) fail(c, 'after top-level value');
        return;
      case St.InString:
        if (c === QUOTE) st = St.EndValue;
        else if (c === BACKSLASH) st = St.InStringEsc;
        else if (c < 0x20) fail(c, 'in string literal');
        return;
      case St.InStringEsc:
        if (c === 0x75) {
          st = St.InStringEscU;
          hexLeft = 4;
        } else if (c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74 || c === BACKSLASH || c === 0x2f || c === QUOTE) {
          st = St.InString;
        } else {
          fail(c, 'in string escape code');
        }
        return;
      case St.InStringEscU:
        if (!isHex(c)) return fail(c, 'in \\u hexadecimal character escape');
        if (--hexLeft === 0) st = St.InString;
        return;
      case St.Neg:
        if (c === 0x30) st = St.Num0;
        else if (isDigit(c)) st = St.Num1;
        else fail(c, 'in numeric literal');
        return;
      case St.Num1:
        if (isDigit(c)) return;
        return num0(c);
      case St.Num0:
        return num0(c);
      case St.Dot:
        if (isDigit(c)) st = St.Dot0;
        else fail(c, 'after decimal point in numeric literal');
        return;
      case St.Dot0:
        if (isDigit(c)) return;
        if (c === 0x65 || c === 0x45) {
          st = St.E;
          return;
        }
        return endValue(c);
      case St.E:
        if (c === 0x2b || c === MINUS) {
          st = St.ESign;
          return;
        }
        return eSign(c);
      case St.ESign:
        return eSign(c);
      case St.E0:
        if (isDigit(c)) return;
        return endValue(c);
      case St.Literal:
        if (c !== word.charCodeAt(wordAt)) return fail(c, `in literal ${word} (expecting '${word[wordAt]}')`);
        if (++wordAt === word.length) st = St.EndValue;
        return;
    }
  };
  const beginValue = (c: number): void => {
    if (isSpace(c)) {
      st = St.BeginValue;
      return;
    }
    switch (c) {
      case LBRACE: return push(c, Ps.ObjectKey, St.BeginStringOrEmpty);
      case LBRACKET: return push(c, Ps.ArrayValue, St.BeginValueOrEmpty);
      case QUOTE:
        st = St.InString;
        return;
      case MINUS:
        st = St.Neg;
        return;
      case 0x30:
        st = St.Num0;
        return;
      case 0x74:
      case 0x66:
      case 0x6e:
        word = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
        wordAt = 1;
        st = St.Literal;
        return;
      default:
        if (isDigit(c)) st = St.Num1;
        else fail(c, 'looking for beginning of value');
    }
  };
  const beginString = (c: number): void => {
    if (isSpace(c)) {
      st = St.BeginString;
      return;
    }
    if (c === QUOTE) st = St.InString;
    else fail(c, 'looking for beginning of object key string');
  };
  const num0 = (c: number): void => {
    if (c === 0x2e) st = St.Dot;
    else if (c === 0x65 || c === 0x45) st = St.E;
    else endValue(c);
  };
  const eSign = (c: number): void => {
    if (isDigit(c)) st = St.E0;
    else fail(c, 'in exponent of numeric literal');
  };
  const endValue = (c: number): void => {
    if (stack.length === 0) {
      st = St.EndTop;
      endTop = true;
      if (!isSpace(c)) fail(c, 'after top-level value');
      return;
    }
    if (isSpace(c)) {
      st = St.EndValue;
      return;
    }
    const ps = stack[stack.length - 1]!;
    if (ps === Ps.ObjectKey) {
      if (c === 0x3a) {
        stack[stack.length - 1] = Ps.ObjectValue;
        st = St.BeginValue;
      } else {
        fail(c, 'after object key');
      }
      return;
    }
    if (ps === Ps.ObjectValue) {
      if (c === 0x2c) {
        stack[stack.length - 1] = Ps.ObjectKey;
        st = St.BeginString;
      } else if (c === RBRACE) {
        pop();
      } else {
        fail(c, 'after object key:value pair');
      }
      return;
    }
    if (c === 0x2c) st = St.BeginValue;
    else if (c === RBRACKET) pop();
    else fail(c, 'after array element');
  };
  const pop = (): void => {
    stack.pop();
    if (stack.length === 0) {
      st = St.EndTop;
      endTop = true;
    } else {
      st = St.EndValue;
    }
  };
  for (let i = 0; i < data.length; i++) {
    step(data[i]!);
    if (err !== null) return err;
  }
  // scanner.eof: a value still open gets one space (which ends a number, or fails).
  if (endTop) return null;
  step(0x20);
  if (err !== null) return err;
  return endTop ? null : 'unexpected end of JSON input';
}
