/**
 * verify_and_map's reading of client certificates (src/auth/cert-map.ts) on certificates made
 * by openssl: the names nats-server's checkClientTLSCertSubject would try, in its order, and
 * the ldap DN comparison. The wire behaviour against the real nats-server is compared in
 * test/conformance/tls-map-ws-auth.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { certNames, mapCertificate, parseDn } from '../../src/auth/cert-map.js';
import { TestPki } from '../helpers/certs.js';

const pki = new TestPki();
afterAll(() => pki.remove());
const names = (subject: string, san?: string) => certNames(pki.der(pki.issue(subject, san)))!;
const users = (...list: string[]) => new Map(list.map((u) => [u, u]));

describe('certNames', () => {
  it("prints the subject as Go's RDNSequence does: C, O, OU, ... CN reversed, whatever the DER order", () => {
    const a = names('/C=US/O=Acme/OU=eng/CN=alice');
    expect(a.rdn).toBe('CN=alice,OU=eng,O=Acme,C=US');
    expect(a.dn).toEqual([[{ type: 'CN', value: 'alice' }], [{ type: 'OU', value: 'eng' }], [{ type: 'O', value: 'Acme' }], [{ type: 'C', value: 'US' }]]);
    const b = names('/CN=alice/O=Acme');
    expect(b.rdn).toBe('CN=alice,O=Acme');
    // The ldap DN keeps the certificate's order, reversed (RFC 4514).
    expect(b.dn).toEqual([[{ type: 'O', value: 'Acme' }], [{ type: 'CN', value: 'alice' }]]);
  });

  it('keeps DC parts apart, leaves foreign attributes out of the RDN string and gives no DN for them', () => {
    const d = names('/DC=org/DC=example/CN=bob');
    expect(d.rdn).toBe('CN=bob');
    expect(d.dcs).toBe('DC=org,DC=example');
    expect(d.dn).toEqual([[{ type: 'CN', value: 'bob' }], [{ type: 'DC', value: 'example' }], [{ type: 'DC', value: 'org' }]]);
    const e = names('/CN=carol/emailAddress=carol@example.com');
    expect(e.rdn).toBe('CN=carol');
    expect(e.dn).toBeNull();
  });

  it('escapes values as RFC 2253 asks and reads multi-valued RDNs', () => {
    expect(names('/CN=#tag, x\\+y').rdn).toBe('CN=\\#tag\\, x\\+y');
    const m = names('/O=Acme+OU=eng/CN=dave');
    expect(m.rdn).toBe('CN=dave,OU=eng,O=Acme');
    // DER sorts a SET's members by their encoding (OU=eng is shorter); the ldap DN reverses them.
    expect(m.dn).toEqual([[{ type: 'CN', value: 'dave' }], [{ type: 'O', value: 'Acme' }, { type: 'OU', value: 'eng' }]]);
  });

  it('lists the email, DNS and URI names of the subject alternative names', () => {
    const s = names('/CN=svc', 'email:svc@example.com,DNS:svc.example.com,URI:spiffe://example.com/svc,IP:127.0.0.1');
    expect([s.emails, s.dnsNames, s.uris]).toEqual([['svc@example.com'], ['svc.example.com'], ['spiffe://example.com/svc']]);
  });

  it('never throws on damaged certificates', () => {
    const der = pki.der(pki.server);
    fc.assert(
      fc.property(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(der.length), (at, byte, cut) => {
        const copy = Buffer.from(der.subarray(0, Math.max(cut, at + 1)));
        copy[at] = byte;
        certNames(copy);
      }),
      { numRuns: 300 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void certNames(Buffer.from(bytes))), { numRuns: 200 });
  });
});

describe('mapCertificate', () => {
  it("compares a URI SAN as Go's url.String() writes it: the scheme lower-cased, the rest as written", () => {
    const s = names('/CN=svc', 'URI:SPIFFE://Example.com/Svc');
    expect(s.uris).toEqual(['spiffe://Example.com/Svc']);
  });

  it("tries emails, DNS names and URIs first, then the DN, then Go's RDN string (with DCs, then without)", () => {
    const s = names('/O=Acme/CN=svc', 'email:svc@example.com,DNS:svc.example.com');
    expect(mapCertificate(s, users('CN=svc,O=Acme', 'svc.example.com', 'svc@example.com'))).toBe('svc@example.com');
    expect(mapCertificate(s, users('CN=svc,O=Acme', 'svc.example.com'))).toBe('svc.example.com');
    expect(mapCertificate(s, users('cn=svc, o=Acme'))).toBe('cn=svc, o=Acme');
    // Reordered RDNs still match; values are compared exactly.
    expect(mapCertificate(s, users('O=Acme,CN=svc'))).toBe('O=Acme,CN=svc');
    expect(mapCertificate(s, users('CN=SVC,O=Acme'))).toBeNull();
    const d = names('/DC=org/DC=example/CN=bob/emailAddress=bob@example.com');
    expect(d.dn).toBeNull();
    expect(mapCertificate(d, users('CN=bob,DC=org,DC=example'))).toBe('CN=bob,DC=org,DC=example');
    expect(mapCertificate(d, users('CN=bob'))).toBe('CN=bob');
    expect(mapCertificate(d, users('bob'))).toBeNull();
  });

  it('parses configured DNs as the ldap package does', () => {
    expect(parseDn('CN=a\\,b, O = x ')).toEqual([[{ type: 'CN', value: 'a,b' }], [{ type: 'O', value: 'x' }]]);
    expect(parseDn('CN=\\41b+OU=u')).toEqual([[{ type: 'CN', value: 'Ab' }, { type: 'OU', value: 'u' }]]);
    expect(parseDn('alice')).toBeNull();
    expect(parseDn('CN=#0101')).toBeNull();
  });
});
