/**
 * TLS certificate to user mapping (`verify_and_map`): the names a client certificate offers,
 * in the order nats-server v2.10's `checkClientTLSCertSubject` (server/auth.go) tries them, and
 * the DN comparison of its internal/ldap package.
 *
 * 1. the rfc822 (email) names of the subject alternative names, then its DNS names, then its
 *    URIs, each looked up as a user name;
 * 2. the subject as a DN (RFC 4514 order, from the raw subject) equal to a user name parsed as
 *    a DN — attribute types compared case-insensitively, values exactly — and then the same
 *    with the RDNs in any order; only when every attribute of the subject is one of CN,
 *    SERIALNUMBER, C, L, ST, STREET, O, OU, POSTALCODE, DC with a string value;
 * 3. Go's `pkix.Name.ToRDNSequence().String()` of the subject followed by its `DC=` parts,
 *    when it has any;
 * 4. that string alone (e.g. `CN=alice,OU=eng,O=Acme,C=US`: Go lists C, O, OU, L, ST, STREET,
 *    POSTALCODE, SERIALNUMBER, CN and prints them reversed, leaving other attributes out).
 *
 * Pure: DER in, strings out; malformed input yields no names (never throws).
 */

/** One attribute of a distinguished name. */
export interface DnAttribute {
  readonly type: string;
  readonly value: string;
}

/** A DN as lists of attributes, one list per RDN. */
export type Dn = readonly (readonly DnAttribute[])[];

/** What a certificate offers to be mapped to a user, in lookup order. */
export interface CertNames {
  readonly emails: readonly string[];
  readonly dnsNames: readonly string[];
  readonly uris: readonly string[];
  /** The subject as nats-server's ldap package reads it (RFC 4514 order), or null when it cannot. */
  readonly dn: Dn | null;
  /** Go's RDNSequence string of the subject (see the module comment). */
  readonly rdn: string;
  /** The `DC=` parts of the subject, in certificate order, joined with commas ('' without). */
  readonly dcs: string;
  /** Whether the subject has any attribute (Go's `len(cert.Subject.String()) > 0`). */
  readonly hasSubject: boolean;
}

interface Tlv {
  readonly tag: number;
  /** Start of the value. */
  readonly start: number;
  /** End of the value. */
  readonly end: number;
}

/** Reads one DER element at `pos` (definite lengths only); null when malformed. */
function tlv(buf: Buffer, pos: number, limit: number): Tlv | null {
  if (pos + 2 > limit) return null;
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) return null;
  let len = buf[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    start += n;
  }
  const end = start + len;
  return end > limit ? null : { tag, start, end };
}

/** The elements inside a constructed element. */
function children(buf: Buffer, parent: Tlv): Tlv[] | null {
  const out: Tlv[] = [];
  let pos = parent.start;
  while (pos < parent.end) {
    const t = tlv(buf, pos, parent.end);
    if (t === null) return null;
    out.push(t);
    pos = t.end;
  }
  return out;
}

function oidString(buf: Buffer, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (buf[i] & 0x7f);
    if ((buf[i] & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** The ASN.1 string kinds Go decodes into a `string`; other values are not strings. */
function stringValue(buf: Buffer, t: Tlv): string | null {
  const bytes = buf.subarray(t.start, t.end);
  switch (t.tag) {
    case 0x0c: // UTF8String
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x12: // NumericString
    case 0x14: // T61String (Go keeps the bytes)
      return bytes.toString('utf8');
    case 0x1e: { // BMPString: UTF-16 big endian
      if (bytes.length % 2 !== 0) return null;
      const swapped = Buffer.from(bytes);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    default:
      return null;
  }
}

interface RawAttribute {
  readonly oid: string;
  /** null: not one of the string kinds (pkix.Name skips such values; the ldap package fails on them). */
  readonly value: string | null;
}

const OID_DC = '0.9.2342.19200300.100.1.25';
/** Go's attributeTypeNames (crypto/x509/pkix); the ldap package adds DC. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.6': 'C', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.3': 'CN', '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.9': 'STREET', '2.5.4.17': 'POSTALCODE',
};
/** pkix.Name.ToRDNSequence's order of the parsed fields. */
const RDN_ORDER = ['2.5.4.6', '2.5.4.10', '2.5.4.11', '2.5.4.7', '2.5.4.8', '2.5.4.9', '2.5.4.17', '2.5.4.5', '2.5.4.3'];
/** Fields of pkix.Name holding one value (the last one wins). */
const SINGLE = new Set(['2.5.4.3', '2.5.4.5']);

/** A Name (SEQUENCE OF SET OF AttributeTypeAndValue) as RDNs; null when malformed. */
function readName(buf: Buffer, name: Tlv): RawAttribute[][] | null {
  if (name.tag !== 0x30) return null;
  const sets = children(buf, name);
  if (sets === null) return null;
  const rdns: RawAttribute[][] = [];
  for (const set of sets) {
    if (set.tag !== 0x31) return null;
    const atvs = children(buf, set);
    if (atvs === null) return null;
    const rdn: RawAttribute[] = [];
    for (const atv of atvs) {
      const parts = atv.tag === 0x30 ? children(buf, atv) : null;
      if (parts === null || parts.length !== 2 || parts[0].tag !== 0x06) return null;
      rdn.push({ oid: oidString(buf, parts[0]), value: stringValue(buf, parts[1]) });
    }
    rdns.push(rdn);
  }
  return rdns;
}

/** crypto/x509/pkix's escaping of an attribute value in RDNSequence.String. */
function escapeValue(v: string): string {
  const last = Buffer.byteLength(v) - 1;
  let out = '';
  let k = 0;
  for (const c of v) {
    let escape = false;
    if (c === ',' || c === '+' || c === '"' || c === '\\' || c === '<' || c === '>' || c === ';') escape = true;
    else if (c === ' ') escape = k === 0 || k === last;
    else if (c === '#') escape = k === 0;
    out += escape ? `\\${c}` : c;
    k += Buffer.byteLength(c);
  }
  return out;
}

/** Go's `cert.Subject.ToRDNSequence().String()`. */
function goRdnString(rdns: readonly RawAttribute[][]): string {
  const fields = new Map<string, string[]>();
  for (const rdn of rdns) {
    for (const a of rdn) {
      if (a.value === null || TYPE_NAMES[a.oid] === undefined) continue;
      const list = fields.get(a.oid) ?? [];
      if (SINGLE.has(a.oid)) list.length = 0;
      list.push(a.value);
      fields.set(a.oid, list);
    }
  }
  const seq: string[] = [];
  for (const oid of RDN_ORDER) {
    const values = fields.get(oid);
    if (values === undefined || values.length === 0 || (SINGLE.has(oid) && values[0] === '')) continue;
    seq.push(values.map((v) => `${TYPE_NAMES[oid]}=${escapeValue(v)}`).join('+'));
  }
  return seq.reverse().join(',');
}

/** The ldap package's FromRawCertSubject: RDNs and their attributes reversed; null on a foreign attribute. */
function ldapDn(rdns: readonly RawAttribute[][]): Dn | null {
  const out: DnAttribute[][] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    const rdn = rdns[i];
    if (rdn.length === 0) continue;
    const attrs: DnAttribute[] = [];
    for (let j = rdn.length - 1; j >= 0; j--) {
      const a = rdn[j];
      const type = a.oid === OID_DC ? 'DC' : TYPE_NAMES[a.oid];
      if (type === undefined || a.value === null) return null;
      attrs.push({ type, value: a.value });
    }
    out.push(attrs);
  }
  return out;
}

/**
 * A URI SAN as nats-server compares it: Go's x509 parses it with url.Parse and the map looks up
 * `url.String()`, which lower-cases the scheme (the rest — host, escaped path, query — is kept
 * as written for the URIs a certificate can hold).
 */
function goUriString(uri: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri);
  return m === null ? uri : m[1].toLowerCase() + uri.slice(m[1].length);
}

/** The subject alternative names: rfc822Name [1], dNSName [2], uniformResourceIdentifier [6]. */
function readSans(buf: Buffer, extensions: Tlv | null): { emails: string[]; dnsNames: string[]; uris: string[] } {
  const out = { emails: [] as string[], dnsNames: [] as string[], uris: [] as string[] };
  if (extensions === null) return out;
  const seq = children(buf, extensions)?.[0];
  const exts = seq === undefined || seq.tag !== 0x30 ? null : children(buf, seq);
  for (const ext of exts ?? []) {
    const parts = ext.tag === 0x30 ? children(buf, ext) : null;
    if (parts === null || parts.length < 2 || parts[0].tag !== 0x06 || oidString(buf, parts[0]) !== '2.5.29.17') continue;
    const octets = parts[parts.length - 1];
    if (octets.tag !== 0x04) continue;
    const names = tlv(buf, octets.start, octets.end);
    const list = names === null || names.tag !== 0x30 ? null : children(buf, names);
    for (const n of list ?? []) {
      const text = buf.subarray(n.start, n.end).toString('latin1');
      if (n.tag === 0x81) out.emails.push(text);
      else if (n.tag === 0x82) out.dnsNames.push(text);
      else if (n.tag === 0x86) out.uris.push(goUriString(text));
    }
  }
  return out;
}

/** The names of a DER certificate, or null when it cannot be read. */
export function certNames(der: Buffer): CertNames | null {
  const cert = tlv(der, 0, der.length);
  const parts = cert === null || cert.tag !== 0x30 ? null : children(der, cert);
  const tbs = parts?.[0];
  const fields = tbs === undefined || tbs.tag !== 0x30 ? null : children(der, tbs);
  if (fields === null) return null;
  // version [0] is optional; then serial, signature, issuer, validity, subject.
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[base + 4];
  if (subject === undefined) return null;
  const rdns = readName(der, subject);
  if (rdns === null) return null;
  const extensions = fields.slice(base + 6).find((f) => f.tag === 0xa3) ?? null;
  const dcs: string[] = [];
  for (const rdn of rdns) for (const a of rdn) if (a.oid === OID_DC && a.value !== null) dcs.push(`DC=${a.value}`);
  return {
    ...readSans(der, extensions),
    dn: ldapDn(rdns),
    rdn: goRdnString(rdns),
    dcs: dcs.join(','),
    hasSubject: rdns.some((r) => r.length > 0),
  };
}

/**
 * The ldap package's ParseDN (a configured user name as a DN): `type=value` pairs, `,` between
 * RDNs, `+` inside one, backslash escapes (a special character or two hex digits), spaces
 * around values dropped unless escaped. Null when it is not a DN.
 */
export function parseDn(text: string): Dn | null {
  const rdns: DnAttribute[][] = [];
  let rdn: DnAttribute[] = [];
  let buffer: number[] = [];
  let type = '';
  let escaping = false;
  let trailingSpaces = 0;
  const take = (): string => {
    const s = Buffer.from(buffer.slice(0, buffer.length - trailingSpaces)).toString('utf8');
    buffer = [];
    trailingSpaces = 0;
    return s;
  };
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i];
    const c = String.fromCharCode(ch);
    if (escaping) {
      trailingSpaces = 0;
      escaping = false;
      if (' "#+,;<=>\\'.includes(c)) {
        buffer.push(ch);
        continue;
      }
      if (i + 1 >= bytes.length) return null;
      const hex = bytes.subarray(i, i + 2).toString('latin1');
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      buffer.push(parseInt(hex, 16));
      i++;
    } else if (c === '\\') {
      trailingSpaces = 0;
      escaping = true;
    } else if (c === '=') {
      type = take();
      if (bytes[i + 1] === 0x23) return null; // '#': BER encoded values are not supported
    } else if (c === ',' || c === '+') {
      if (type === '') return null;
      rdn.push({ type, value: take() });
      type = '';
      if (c === ',') {
        rdns.push(rdn);
        rdn = [];
      }
    } else if (c === ' ' && buffer.length === 0) {
      continue;
    } else {
      trailingSpaces = c === ' ' ? trailingSpaces + 1 : 0;
      buffer.push(ch);
    }
  }
  if (buffer.length > 0) {
    if (type === '') return null;
    rdn.push({ type, value: take() });
    rdns.push(rdn);
  }
  return rdns;
}

function sameAttribute(a: DnAttribute, b: DnAttribute): boolean {
  return a.type.toLowerCase() === b.type.toLowerCase() && a.value === b.value;
}

function sameRdn(a: readonly DnAttribute[], b: readonly DnAttribute[]): boolean {
  return a.length === b.length && a.every((x) => b.some((y) => sameAttribute(x, y))) && b.every((y) => a.some((x) => sameAttribute(x, y)));
}

/** The ldap package's DN.Equal: the same RDNs in the same order. */
export function dnEqual(a: Dn, b: Dn): boolean {
  return a.length === b.length && a.every((rdn, i) => sameRdn(rdn, b[i]));
}

/** The ldap package's DN.RDNsMatch: the same number of RDNs, each found in the other in any order. */
export function dnRdnsMatch(a: Dn, b: Dn): boolean {
  return a.length === b.length && a.every((rdn) => b.some((o) => sameRdn(rdn, o)));
}

/**
 * The user a certificate maps to, among `users` (names, in configuration order), following
 * checkClientTLSCertSubject; null when none.
 */
export function mapCertificate(names: CertNames, users: ReadonlyMap<string, unknown>): string | null {
  if (names.emails.length === 0 && !names.hasSubject && names.uris.length === 0) return null;
  for (const list of [names.emails, names.dnsNames, names.uris]) {
    for (const n of list) if (users.has(n)) return n;
  }
  if (names.dn !== null) {
    const parsed: Array<[string, Dn]> = [];
    for (const name of users.keys()) {
      const dn = parseDn(name);
      if (dn === null) continue;
      if (dnEqual(dn, names.dn)) return name;
      parsed.push([name, dn]);
    }
    for (const [name, dn] of parsed) if (dnRdnsMatch(dn, names.dn)) return name;
  }
  if (names.dcs !== '') {
    const withDcs = names.rdn === '' ? `,${names.dcs}` : `${names.rdn},${names.dcs}`;
    if (users.has(withDcs)) return withDcs;
  }
  return names.rdn !== '' && users.has(names.rdn) ? names.rdn : null;
}

/**
 * Route certificates (auth.go isRouterAuthorized with `verify_and_map`): whether one of the
 * names checkClientTLSCertSubject tries — the alternative names, then the RDN string with its
 * DC parts, then without; never the DN comparison — is `user` (the cluster's user). An empty
 * `user` matches nothing.
 */
export function certNamesInclude(names: CertNames, user: string): boolean {
  return user !== '' && certNameMatch(names, (n) => n === user) !== null;
}

/**
 * The first of the names checkClientTLSCertSubject tries, in its order, that `known` accepts —
 * the email, DNS and URI alternative names, then the RDN string with its DC parts, then
 * without (its DN comparison step passes an empty name, which matches no user: routes and leaf
 * node users, auth.go isRouterAuthorized and isLeafNodeAuthorized); null when none.
 */
export function certNameMatch(names: CertNames, known: (name: string) => boolean): string | null {
  if (names.emails.length === 0 && !names.hasSubject && names.uris.length === 0) return null;
  for (const list of [names.emails, names.dnsNames, names.uris]) for (const n of list) if (known(n)) return n;
  if (names.dcs !== '') {
    const withDcs = names.rdn === '' ? `,${names.dcs}` : `${names.rdn},${names.dcs}`;
    if (known(withDcs)) return withDcs;
  }
  return known(names.rdn) ? names.rdn : null;
}
