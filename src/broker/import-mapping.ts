/**
 * The pieces of account imports that are plain functions of subjects and bytes (used by
 * imports.ts): the subject mapping of an import — a stream import's exported subject → local
 * subject, with its reverse for exact shadow interest; a service import's local subject →
 * exported subject — and the `Nats-Request-Info` header a request gets when it crosses a
 * service import (nats-server's ClientInfo JSON, its field order).
 */
import { PubArg } from '../protocol/parser.js';
import { subjectToText } from '../protocol/text.js';
import { subjectHasWildcard, transformTokenize, transformUntokenize } from '../subject/relations.js';
import { SubjectTransform } from '../subject/transform.js';
import { serviceTransform } from '../config/resolve-imports.js';

/** `dst` ← `src`: every field of a publication. */
export function copyPubArg(dst: PubArg, src: PubArg): PubArg {
  dst.subject = src.subject;
  dst.reply = src.reply;
  dst.size = src.size;
  dst.hdr = src.hdr;
  dst.sizeZeros = src.sizeZeros;
  dst.hdrZeros = src.hdrZeros;
  dst.deliver = src.deliver;
  dst.once = src.once;
  return dst;
}

/** A subject mapping of an import: the published subject → the subject on the other side. */
export class Mapping {
  /** Literal prefix tokens the mapping adds (`p.` for prefix `p`; '' for none), or null for a general mapping. */
  readonly prefix: string | null;
  private readonly transform: SubjectTransform | null;
  private readonly usePub: boolean;
  /** The local subject depends on the published one (a wildcard mapping): a narrower subscription must check it. */
  readonly dynamic: boolean;

  /**
   * Stream mappings with a transform: per token of the local subject, which wildcard of the
   * exported subject it carries (1-based), 0 for a literal token, -1 for a trailing `>`.
   */
  private readonly refs: readonly number[] | null;

  constructor(readonly from: string, readonly to: string, transform: SubjectTransform | null, prefix: string | null, tokenizedTo: string | null = null) {
    this.transform = transform;
    this.usePub = transform === null && from === to && subjectHasWildcard(from);
    this.dynamic = transform !== null || this.usePub;
    this.prefix = prefix;
    this.refs = tokenizedTo === null ? null : tokenizedTo.split('.').map((t) => (t === '>' ? -1 : transformUntokenize(t).refs[0] ?? 0));
  }

  /**
   * The exported subject that brings exactly what `local` (a subscription subject within the
   * local subject) receives: nats-server's reverse transform of a shadow subscription. Null when
   * there is no such subject (no transform, or a wildcard where the mapping needs a token).
   */
  reverse(local: string): string | null {
    const refs = this.refs;
    if (refs === null) return null;
    const tokens = local.split('.');
    const from = this.from.split('.');
    const stars: number[] = [];
    from.forEach((t, i) => t === '*' && stars.push(i));
    for (let p = 0; p < refs.length; p++) {
      const ref = refs[p];
      const t = tokens[p];
      if (t === undefined || (t === '>' && ref !== -1)) return null;
      if (ref > 0) {
        const at = stars[ref - 1];
        if (at === undefined) return null;
        from[at] = t;
      } else if (ref === -1) {
        from.splice(from.length - 1, 1, ...tokens.slice(p));
        return from.join('.');
      }
    }
    return tokens.length === refs.length ? from.join('.') : null;
  }

  map(subject: string): string | null {
    if (this.usePub) return subject;
    if (this.transform !== null) return this.transform.match(subject);
    return this.to;
  }
}

/** nats-server's ClientInfo field order (events.go), for the JSON of Nats-Request-Info. */
const CLIENT_INFO_ORDER = ['start', 'host', 'id', 'acc', 'svc', 'user', 'name', 'lang', 'ver', 'rtt', 'server', 'cluster', 'alts', 'stop', 'jwt', 'issuer_key', 'name_tag', 'tags', 'kind', 'client_type', 'client_id', 'nonce'];

/** `ci` with its keys in nats-server's ClientInfo order (undefined ones dropped). */
export function orderedClientInfo(ci: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of CLIENT_INFO_ORDER) if (ci[k] !== undefined) out[k] = ci[k];
  for (const k of Object.keys(ci)) if (!(k in out) && ci[k] !== undefined) out[k] = ci[k];
  return out;
}

export function goClientInfo(ci: Record<string, unknown>): string {
  const keys = [...CLIENT_INFO_ORDER.filter((k) => k in ci), ...Object.keys(ci).filter((k) => !CLIENT_INFO_ORDER.includes(k))];
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(ci[k])}`).join(',')}}`;
}

/** The Nats-Request-Info of a message, decoded, or null. */
export function requestInfo(pa: PubArg, buf: Buffer, start: number): Record<string, unknown> | null {
  if (pa.hdr <= 0) return null;
  const m = /\r\nNats-Request-Info:\s*([^\r]*)\r\n/i.exec(buf.toString('latin1', start, start + pa.hdr));
  if (m === null) return null;
  try {
    // The header's bytes are UTF-8 JSON (account names may not be ASCII).
    const v: unknown = JSON.parse(subjectToText(m[1]));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The value of header `key` in the message, '' when it has none: nats-server's sliceHeader (the
 * key's first occurrence, case-sensitive, after a CRLF and followed by `:`; spaces skipped).
 */
export function headerValue(pa: PubArg, buf: Buffer, start: number, key: string): string {
  if (pa.hdr <= 0) return '';
  const head = buf.toString('latin1', start, start + pa.hdr);
  const i = head.indexOf(key);
  if (i < 2 || head.charCodeAt(i - 1) !== 0x0a || head.charCodeAt(i - 2) !== 0x0d || head.charCodeAt(i + key.length) !== 0x3a) return '';
  let v = i + key.length + 1;
  while (head.charCodeAt(v) === 0x20) v++;
  const end = head.indexOf('\r', v);
  return end < 0 ? '' : head.slice(v, end);
}

/** A copy of the message with header `key: value` set (an existing one replaced), and its PubArg. */
export function withHeader(pa: PubArg, buf: Buffer, start: number, key: string, value: string): { pa: PubArg; buf: Buffer } {
  const hdrLen = pa.hdr > 0 ? pa.hdr : 0;
  let head = hdrLen > 0 ? buf.toString('latin1', start, start + hdrLen - 2) : 'NATS/1.0\r\n';
  const re = new RegExp(`\\r\\n${key}:[^\\r]*\\r\\n`, 'i');
  head = `${head.replace(re, '\r\n')}${key}: ${value}\r\n\r\n`;
  const h = Buffer.from(head, 'latin1');
  const payload = buf.subarray(start + hdrLen, start + pa.size);
  const out = copyPubArg(new PubArg(), pa);
  out.deliver = '';
  out.hdr = h.length;
  out.size = h.length + payload.length;
  out.hdrZeros = 0;
  out.sizeZeros = 0;
  return { pa: out, buf: Buffer.concat([h, payload]) };
}

/** A stream import's mapping: exported subject → local subject (AddMappedStreamImportWithClaim). */
export function streamMapping(from: string, prefix: string | null, to: string | null): Mapping {
  if (prefix !== null) {
    const p = prefix.endsWith('.') ? prefix : `${prefix}.`;
    const local = `${p}${from}`;
    const tr = subjectHasWildcard(from) ? SubjectTransform.create(from, transformTokenize(local), true) : null;
    return new Mapping(from, local, tr, p);
  }
  const dest = to ?? from;
  if (subjectHasWildcard(from) && dest !== from) {
    const tokenized = transformTokenize(dest);
    const tr = SubjectTransform.create(from, tokenized, true);
    return new Mapping(from, transformUntokenize(dest).subject, tr, null, tokenized);
  }
  return new Mapping(from, dest, null, dest === from ? '' : null);
}

/** A service import's mapping: local subject → exported subject (addServiceImport). */
export function serviceMapping(from: string, to: string): Mapping {
  if (subjectHasWildcard(to) && to !== from) {
    return new Mapping(transformUntokenize(from).subject, to, serviceTransform(from, to), null);
  }
  return new Mapping(from, to, null, null);
}
