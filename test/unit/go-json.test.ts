/**
 * decodeGoJson (src/protocol/go-json.ts): would Go's encoding/json, as nats-server uses it,
 * decode a CONNECT (ClientOpts) or INFO (Info) without an error? The rules, from Go's
 * encoding/json (decode.go: object, literalStore; fold.go):
 * - the syntax of the whole document is checked first (scanner.go: at most 10000 levels);
 * - the top level must be an object, or null (which leaves the struct as it is);
 * - keys, unquoted, match fields exactly, else case-insensitively (Unicode simple folding, so
 *   "ſ" is an "s" and "K" a "k"); keys of no field are skipped, whatever their value; only
 *   top-level keys are fields;
 * - null leaves any field as it is;
 * - bool fields take only true/false, string fields only strings;
 * - int fields take only integer literals (strconv.ParseInt: no fraction, no exponent) within
 *   the type's range; unsigned ones also no minus sign (strconv.ParseUint), so not even -0;
 * - []string takes an array of strings (null elements allowed); []byte a base64 string
 *   (StdEncoding, padded; \r and \n are skipped) or an array of uint8 numbers;
 * - a value of the wrong type is remembered and decoding goes on: the first such error is
 *   returned, so a duplicate key with a wrong value fails even when a later one fits.
 * nats-server closes a connection whose CONNECT (or route INFO) fails to decode.
 * Every verdict here was also checked against Go's encoding/json itself (go 1.19, with
 * nats-server's struct definitions); Go is not needed to run these tests.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CLIENT_OPTS, INFO, LEAF_CONNECT, LEAF_CONNECT_STRUCTS, PEER_INFO, ROUTE_CONNECT, ROUTE_CONNECT_STRUCTS, decodeGoJson, parseJsonObject, type GoStruct,
} from '../../src/protocol/go-json.js';

/** The decoded fields as an object, or null where Go fails. */
function decode(text: string, struct: GoStruct = CLIENT_OPTS): Record<string, unknown> | null {
  const m = decodeGoJson(text, struct);
  return m === null ? null : Object.fromEntries(m);
}

type Case = [title: string, json: string, struct: GoStruct, expected: Record<string, unknown> | null];

const cases: Case[] = [
  // The document.
  ['an empty object', '{}', CLIENT_OPTS, {}],
  ['top-level null leaves the struct as it is', 'null', CLIENT_OPTS, {}],
  ['a top-level array is an error', '[]', CLIENT_OPTS, null],
  ['a top-level string is an error', '"x"', CLIENT_OPTS, null],
  ['a top-level number is an error', '1', CLIENT_OPTS, null],
  ['invalid JSON', '{"verbose":tru}', CLIENT_OPTS, null],
  ['trailing data after the object', '{"verbose":true} x', CLIENT_OPTS, null],
  ['whitespace around values', ' { "protocol" : 1 , "verbose" : false } ', CLIENT_OPTS, { protocol: 1, verbose: false }],
  // Unknown keys.
  ['unknown keys are skipped, whatever their value', '{"unknown":{"deep":[1,"x",null]},"x":1.5}', CLIENT_OPTS, {}],
  ['a field of INFO is unknown in CONNECT', '{"server_id":1}', CLIENT_OPTS, {}],
  // null.
  ['null leaves every kind of field as it is', '{"echo":null,"name":null,"protocol":null,"import":null}', CLIENT_OPTS, {}],
  ['null for a list field', '{"connect_urls":null}', INFO, {}],
  // bool.
  ['bool: true and false', '{"verbose":true,"pedantic":false}', CLIENT_OPTS, { verbose: true, pedantic: false }],
  ['bool: a string is an error', '{"verbose":"true"}', CLIENT_OPTS, null],
  ['bool: a number is an error', '{"verbose":1}', CLIENT_OPTS, null],
  ['bool: an object is an error', '{"headers":{}}', CLIENT_OPTS, null],
  ['bool: an array is an error', '{"no_responders":[]}', CLIENT_OPTS, null],
  // string.
  ['string: a string, escapes and all', '{"name":"a\\"b\\u00e9"}', CLIENT_OPTS, { name: 'a"bé' }],
  ['string: a number is an error', '{"name":1}', CLIENT_OPTS, null],
  ['string: a bool is an error', '{"user":false}', CLIENT_OPTS, null],
  ['string: an array is an error', '{"lang":["go"]}', CLIENT_OPTS, null],
  ['string: text that looks like an int field inside a string value is a string', '{"name":"\\"protocol\\": 1.5","protocol":1}', CLIENT_OPTS, { name: '"protocol": 1.5', protocol: 1 }],
  // int.
  ['int: an integer', '{"protocol":1}', CLIENT_OPTS, { protocol: 1 }],
  ['int: a negative integer', '{"protocol":-1}', CLIENT_OPTS, { protocol: -1 }],
  ['int: -0 (ParseInt takes it)', '{"protocol":-0}', CLIENT_OPTS, { protocol: -0 }],
  ['int: a fraction is an error, even .0', '{"protocol":1.0}', CLIENT_OPTS, null],
  ['int: an exponent is an error', '{"protocol":1e2}', CLIENT_OPTS, null],
  ['int: a string is an error', '{"protocol":"1"}', CLIENT_OPTS, null],
  ['int: a bool is an error', '{"protocol":true}', CLIENT_OPTS, null],
  ['int (64 bits): the largest value', '{"protocol":9223372036854775807}', CLIENT_OPTS, { protocol: Number('9223372036854775807') }],
  ['int (64 bits): one more overflows', '{"protocol":9223372036854775808}', CLIENT_OPTS, null],
  ['int (64 bits): the smallest value', '{"port":-9223372036854775808}', INFO, { port: Number('-9223372036854775808') }],
  ['int (64 bits): one less overflows', '{"port":-9223372036854775809}', INFO, null],
  ['int32: the largest value', '{"max_payload":2147483647}', INFO, { max_payload: 2147483647 }],
  ['int32: one more overflows', '{"max_payload":2147483648}', INFO, null],
  ['uint64: the largest value', '{"client_id":18446744073709551615}', INFO, { client_id: Number('18446744073709551615') }],
  ['uint64: one more overflows', '{"client_id":18446744073709551616}', INFO, null],
  ['uint64: a negative number is an error', '{"client_id":-1}', INFO, null],
  ['uint8: 255', '{"gateway_cmd":255}', INFO, { gateway_cmd: 255 }],
  ['uint8: 256 overflows', '{"gateway_cmd":256}', INFO, null],
  // []string.
  ['[]string: strings', '{"connect_urls":["a:1","b:2"]}', INFO, { connect_urls: ['a:1', 'b:2'] }],
  ['[]string: an empty array', '{"connect_urls":[]}', INFO, { connect_urls: [] }],
  ['[]string: a null element is left empty', '{"connect_urls":["a",null]}', INFO, { connect_urls: ['a', null] }],
  ['[]string: a number element is an error', '{"connect_urls":["a",1]}', INFO, null],
  ['[]string: a single string is an error', '{"connect_urls":"a"}', INFO, null],
  // []byte.
  ['[]byte: padded base64', '{"gateway_cmd_payload":"YWI="}', INFO, { gateway_cmd_payload: 'YWI=' }],
  ['[]byte: an empty string', '{"gateway_cmd_payload":""}', INFO, { gateway_cmd_payload: '' }],
  ['[]byte: unpadded base64 is an error (StdEncoding)', '{"gateway_cmd_payload":"YQ"}', INFO, null],
  ['[]byte: non-zero trailing bits are accepted (StdEncoding is not strict)', '{"gateway_cmd_payload":"YR=="}', INFO, { gateway_cmd_payload: 'YR==' }],
  ['[]byte: characters outside base64 are an error', '{"gateway_cmd_payload":"Y$=="}', INFO, null],
  ['[]byte: a number is an error', '{"gateway_cmd_payload":1}', INFO, null],
  // *SubjectPermission (import/export).
  ['permissions: allow and deny lists', '{"import":{"allow":["a.>"],"deny":["a.b"]}}', CLIENT_OPTS, { import: { allow: ['a.>'], deny: ['a.b'] } }],
  ['permissions: keys matched case-insensitively, unknown keys skipped', '{"import":{"Allow":["x"],"other":1}}', CLIENT_OPTS, { import: { Allow: ['x'], other: 1 } }],
  ['permissions: null lists', '{"export":{"allow":null,"deny":null}}', CLIENT_OPTS, { export: { allow: null, deny: null } }],
  ['permissions: a string list is an error', '{"import":{"allow":"x"}}', CLIENT_OPTS, null],
  ['permissions: a number in a list is an error (whatever the case of the key)', '{"import":{"ALLOW":[1]}}', CLIENT_OPTS, null],
  ['permissions: an array is an error', '{"import":[]}', CLIENT_OPTS, null],
  ['permissions: a string is an error', '{"export":"a.>"}', CLIENT_OPTS, null],
  // Keys.
  ['keys match case-insensitively, and are reported lower-cased', '{"Verbose":true,"NAME":"x","Protocol":1}', CLIENT_OPTS, { verbose: true, name: 'x', protocol: 1 }],
  ['a case-insensitive match is type-checked too', '{"Verbose":1}', CLIENT_OPTS, null],
  ['the Kelvin sign folds to k', '{"n\u212aey":"UABC"}', CLIENT_OPTS, { nkey: 'UABC' }],
  ['two spellings of one key: both are checked', '{"VERBOSE":true,"verbose":"x"}', CLIENT_OPTS, null],
  ['a duplicate key: the last value wins', '{"protocol":1,"protocol":2}', CLIENT_OPTS, { protocol: 2 }],
  ['a duplicate key: a wrong last value is an error', '{"verbose":true,"verbose":"x"}', CLIENT_OPTS, null],
  ['a duplicate int key: every value is checked', '{"protocol":1,"protocol":1.5}', CLIENT_OPTS, null],
  ['a duplicate key: a later null leaves the earlier value', '{"verbose":true,"verbose":null}', CLIENT_OPTS, { verbose: true }],
  ['a duplicate key inside permissions: every value is checked', '{"import":{"allow":1,"allow":["a"]}}', CLIENT_OPTS, null],
  ['keys named like Object.prototype members are unknown keys', '{"constructor":1,"__proto__":"x","hasownproperty":[]}', CLIENT_OPTS, {}],
  ['the long s and the Kelvin sign, with other letters in upper case', '{"PA\u017f\u017f":"p","N\u212aEY":"k"}', CLIENT_OPTS, { pass: 'p', nkey: 'k' }],
  ['other non-ASCII letters fold onto no ASCII one: "\u0130mport" is unknown', '{"\u0130mport":1}', CLIENT_OPTS, {}],
  ['an escaped key with a wrong value', '{"verbos\\u0065":1}', CLIENT_OPTS, null],
  ['uint8: -0 is an error (ParseUint)', '{"gateway_cmd":-0}', INFO, null],
  // []byte, more.
  ['[]byte: \\r and \\n are skipped anywhere, padding included', '{"gateway_cmd_payload":"Y\\r\\nQ=\\n="}', INFO, { gateway_cmd_payload: 'Y\r\nQ=\n=' }],
  ['[]byte: other whitespace is an error', '{"gateway_cmd_payload":"YQ== "}', INFO, null],
  ['[]byte: data after the padding is an error', '{"gateway_cmd_payload":"YQ==YQ=="}', INFO, null],
  ['[]byte: one = after two characters is an error', '{"gateway_cmd_payload":"YQ="}', INFO, null],
  ['[]byte: an array with null and the uint8 bounds', '{"gateway_cmd_payload":[null,0,255]}', INFO, { gateway_cmd_payload: [null, 0, 255] }],
  ['[]byte: an empty array', '{"gateway_cmd_payload":[]}', INFO, { gateway_cmd_payload: [] }],
  ['[]byte: 256 in an array overflows uint8', '{"gateway_cmd_payload":[256]}', INFO, null],
  ['[]byte: a fraction in an array is an error', '{"gateway_cmd_payload":[1.5]}', INFO, null],
  ['[]byte: a string in an array is an error', '{"gateway_cmd_payload":["YQ=="]}', INFO, null],
  ['[]byte: an object is an error', '{"gateway_cmd_payload":{}}', INFO, null],
  // Nesting (scanner.go maxNestingDepth: 10000 levels, the top-level object being the first).
  ['10000 levels of nesting are accepted', `{"x":${'['.repeat(9999)}${']'.repeat(9999)}}`, CLIENT_OPTS, {}],
  ['10001 levels are a syntax error, even under an unknown key', `{"x":${'['.repeat(10000)}${']'.repeat(10000)}}`, CLIENT_OPTS, null],
];

describe('decodeGoJson: what Go\'s encoding/json decodes into nats-server\'s structs', () => {
  for (const [title, json, struct, expected] of cases) {
    it(`${title}: ${json}`, () => {
      expect(decode(json, struct)).toEqual(expected);
    });
  }

  it('every field of ClientOpts, Info, connectInfo and leafConnectInfo has a type Go can check', () => {
    const types = new Set(['bool', 'string', 'int', 'int32', 'uint64', 'uint8', 'strings', 'bytes', 'perm']);
    for (const struct of [CLIENT_OPTS, INFO, ROUTE_CONNECT, LEAF_CONNECT]) {
      for (const [key, type] of Object.entries(struct)) {
        expect(key, 'keys are lower case (as the lookup folds them)').toBe(key.toLowerCase());
        expect(types.has(type), `${key}: ${type}`).toBe(true);
      }
    }
  });
});

// Differences from Go that the first decoder (JSON.parse, then a regex over the text for int
// literals) had; each case asserts what Go does (checked with Go's encoding/json).
describe('decodeGoJson: former differences from Go', () => {
  const differences: Case[] = [
    // JSON.parse keeps only the last of two equal keys; Go decodes both and keeps the first error.
    ['a duplicate key: a wrong first value is an error even when the last fits', '{"verbose":"x","verbose":true}', CLIENT_OPTS, null],
    // ParseUint has no sign: "-0" is not an unsigned integer.
    ['uint64: -0 is an error', '{"client_id":-0}', INFO, null],
    // fold.go: "ſ" (U+017F) folds to "s", so the key is the string field sig.
    ['the long s folds to s: a number for "ſig" is an error', '{"\u017fig":1}', CLIENT_OPTS, null],
    // Keys are unquoted before matching; the int check reads literals by the key as written.
    ['an escaped key names its field: "po\\u0072t" is port', '{"po\\u0072t":1}', INFO, { port: 1 }],
    // Only top-level keys are fields; the int check reads literals at any depth.
    ['a nested key is not a field: "port" inside import', '{"import":{"port":1.5},"port":1}', INFO, { import: { port: 1.5 }, port: 1 }],
    // base64.StdEncoding.Decode skips \r and \n.
    ['[]byte: newlines in base64 are skipped', '{"gateway_cmd_payload":"YQ==\\n"}', INFO, { gateway_cmd_payload: 'YQ==\n' }],
    // A JSON array decodes into a slice element by element, []byte included.
    ['[]byte: an array of uint8 numbers', '{"gateway_cmd_payload":[1,2]}', INFO, { gateway_cmd_payload: [1, 2] }],
  ];
  for (const [title, json, struct, expected] of differences) {
    it(`${title}: ${json}`, () => {
      expect(decode(json, struct)).toEqual(expected);
    });
  }
});

/**
 * parseJsonObject: a route's, gateway's or leaf node's INFO (into Info) or CONNECT (into
 * ClientOpts, then route.go connectInfo or leafnode.go leafConnectInfo). nats-server closes the
 * connection when any of those decodes fails; the object is handed on as sent otherwise.
 */
describe('parseJsonObject: a peer\'s INFO or CONNECT as nats-server decodes it', () => {
  const all = [PEER_INFO, ROUTE_CONNECT_STRUCTS, LEAF_CONNECT_STRUCTS] as const;

  it('refuses what is not a JSON object or null, for every kind', () => {
    for (const text of ['[1]', '[]', '1', '-2.5', '"s"', 'true', 'false', '{bad', '', '{"a":1} x']) {
      for (const structs of all) expect(parseJsonObject(text, structs), text).toBeNull();
    }
  });

  it('takes null as an empty object (Go decodes it as nothing to set)', () => {
    for (const structs of all) {
      expect(parseJsonObject('null', structs)).toEqual({});
      expect(parseJsonObject(' null\t', structs)).toEqual({});
    }
  });

  it('hands on the object as sent, unknown keys and their values included', () => {
    const text = '{"server_id":"S","port":4222,"x":[1,{"y":null}],"gateway_cmd_payload":"YQ=="}';
    expect(parseJsonObject(text, PEER_INFO)).toEqual({ server_id: 'S', port: 4222, x: [1, { y: null }], gateway_cmd_payload: 'YQ==' });
  });

  it('refuses a field of the wrong type in any of the structs of the kind', () => {
    // Info
    expect(parseJsonObject('{"port":"4222"}', PEER_INFO)).toBeNull();
    // ClientOpts, for a route's CONNECT and a leaf node's
    expect(parseJsonObject('{"verbose":"x"}', ROUTE_CONNECT_STRUCTS)).toBeNull();
    expect(parseJsonObject('{"verbose":"x"}', LEAF_CONNECT_STRUCTS)).toBeNull();
    // connectInfo only: cluster is not a ClientOpts field
    expect(parseJsonObject('{"cluster":5}', ROUTE_CONNECT_STRUCTS)).toBeNull();
    expect(parseJsonObject('{"lnoc":"yes"}', ROUTE_CONNECT_STRUCTS)).toBeNull();
    expect(parseJsonObject('{"is_hub":"yes"}', ROUTE_CONNECT_STRUCTS)).toEqual({ is_hub: 'yes' });
    // leafConnectInfo only
    expect(parseJsonObject('{"is_hub":"yes"}', LEAF_CONNECT_STRUCTS)).toBeNull();
    expect(parseJsonObject('{"deny_pub":"a.b"}', LEAF_CONNECT_STRUCTS)).toBeNull();
    expect(parseJsonObject('{"deny_pub":["a.b"],"is_hub":true,"cluster":"L"}', LEAF_CONNECT_STRUCTS)).toEqual({ deny_pub: ['a.b'], is_hub: true, cluster: 'L' });
  });

  it('property: an object is handed on as JSON.parse reads it exactly when every struct decodes it', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('port', 'verbose', 'cluster', 'is_hub', 'deny_pub', 'name', 'other'), fc.jsonValue())), fc.constantFrom(...all), (value, structs) => {
        const text = JSON.stringify(value) ?? 'null';
        const got = parseJsonObject(text, structs);
        const decodes = structs.every((s) => decodeGoJson(text, s) !== null);
        const isObject = value === null || (typeof value === 'object' && !Array.isArray(value));
        if (!isObject || !decodes) return got === null;
        return JSON.stringify(got) === JSON.stringify(value ?? {});
      }),
      { numRuns: 100 },
    );
  });
});
