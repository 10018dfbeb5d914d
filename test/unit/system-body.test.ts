/**
 * The system services' request bodies (monitor/system-body.ts decodeBody) decoded as nats-server
 * decodes them: `json.Unmarshal` into the typed `*EventOptions` structs of events.go and
 * monitor.go. A body Go cannot decode gets zReq's 400 with Go's error text: the scanner's syntax
 * error (scanner.go, src/protocol/go-json.ts goJsonSyntaxError), or the first value of the wrong
 * Go type (decode.go UnmarshalTypeError: `json: cannot unmarshal <value> into Go struct field
 * <Struct>.<Embedded>.<field> of type <type>`; the embedded struct's name is in the path since
 * Go 1.24, which built nats-server 2.10.29; 2.9.10 (Go 1.19) leaves it out). Integers are
 * checked as written (strconv.ParseInt / ParseUint: `number 1.5`, `number 1e2`, `number -1` for
 * a uint64).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BadBody, decodeBody, OPTIONS, type OptionsStruct } from '../../src/monitor/system-body.js';
import { goJsonSyntaxError } from '../../src/protocol/go-json.js';

function error(body: string, struct: OptionsStruct = OPTIONS.connz, encoding: BufferEncoding = 'latin1'): string | null {
  try {
    decodeBody(Buffer.from(body, encoding), struct);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(BadBody);
    return (err as Error).message;
  }
}

const CONNZ = 'Go struct field ConnzEventOptions.ConnzOptions';
const FILTER = 'Go struct field ConnzEventOptions.EventFilterOptions';

describe('Go\'s syntax errors (checkValid)', () => {
  const cases: Array<[string, string | null]> = [
    ['{}', null],
    [' {"a":[1,-2.5e+3,true,false,null,"\\u00e9\\n"]} ', null],
    ['', 'unexpected end of JSON input'],
    ['   ', 'unexpected end of JSON input'],
    ['{', 'unexpected end of JSON input'],
    ['{"a":"b', 'unexpected end of JSON input'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ["'a'", "invalid character '\\'' looking for beginning of value"],
    ['\u00c3\u00a9', "invalid character '\u00c3' looking for beginning of value"],
    // strconv.Quote: 0x80-0xA0 and 0xAD are not printable (escaped), 0xA1 is.
    ['\u009f', "invalid character '\\u009f' looking for beginning of value"],
    ['\u00a0', "invalid character '\\u00a0' looking for beginning of value"],
    ['\u00a1', "invalid character '\u00a1' looking for beginning of value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', 'invalid character \'"\' after object key:value pair'],
    ['{1:2}', "invalid character '1' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['{"a":}', "invalid character '}' looking for beginning of value"],
    ['[1 2]', "invalid character '2' after array element"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['trux', "invalid character 'x' in literal true (expecting 'e')"],
    ['fals', "invalid character ' ' in literal false (expecting 'e')"],
    ['nul', "invalid character ' ' in literal null (expecting 'l')"],
    ['nulL', "invalid character 'L' in literal null (expecting 'l')"],
    // At the end the scanner is fed a space (scanner.eof): an unfinished number or literal fails on it.
    ['1.', "invalid character ' ' after decimal point in numeric literal"],
    ['-', "invalid character ' ' in numeric literal"],
    ['1e', "invalid character ' ' in exponent of numeric literal"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['01', "invalid character '1' after top-level value"],
    ['{}x', "invalid character 'x' after top-level value"],
    ['{"a":1}}', "invalid character '}' after top-level value"],
    ['"a\u0001"', "invalid character '\\x01' in string literal"],
    ['"a\n"', "invalid character '\\n' in string literal"],
    ['"\\q"', "invalid character 'q' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    [`${'['.repeat(10001)}${']'.repeat(10001)}`, "invalid character '[' exceeded max depth"],
    [`${'['.repeat(10000)}${']'.repeat(10000)}`, null],
  ];
  it.each(cases.map(([text, expected]) => [text.length > 40 ? `${text.slice(0, 12)}... (${text.length} bytes)` : JSON.stringify(text), text, expected]))('%s', (_title, text, expected) => {
    expect(goJsonSyntaxError(Buffer.from(text as string, 'latin1'))).toBe(expected);
  });
});

describe('a system request body decoded into its options struct', () => {
  it('takes the fields of the right types; keys match case-insensitively; null and unknown keys are skipped', () => {
    const body = '{"Server_Name":"n","tags":["a",null],"offset":2,"limit":-1,"cid":18446744073709551615,"sort":"cid","state":1,"auth":true,"acc":null,"x":{"y":[1]}}';
    expect(decodeBody(Buffer.from(body), OPTIONS.connz)).toEqual({
      server_name: 'n', tags: ['a', ''], offset: 2, limit: -1, cid: 18446744073709551615n, sort: 'cid', state: 1, auth: true,
    });
    expect(decodeBody(Buffer.from(''), OPTIONS.connz)).toEqual({});
    expect(decodeBody(Buffer.from(' null '), OPTIONS.connz)).toEqual({});
  });

  const cases: Array<[string, OptionsStruct, string]> = [
    ['5', OPTIONS.connz, 'json: cannot unmarshal number into Go value of type server.ConnzEventOptions'],
    ['[]', OPTIONS.connz, 'json: cannot unmarshal array into Go value of type server.ConnzEventOptions'],
    ['"x"', OPTIONS.statsz, 'json: cannot unmarshal string into Go value of type server.StatszEventOptions'],
    ['{"server_name":5}', OPTIONS.connz, `json: cannot unmarshal number into ${FILTER}.server_name of type string`],
    ['{"SERVER_NAME":true}', OPTIONS.connz, `json: cannot unmarshal bool into ${FILTER}.server_name of type string`],
    ['{"cluster":{}}', OPTIONS.connz, `json: cannot unmarshal object into ${FILTER}.cluster of type string`],
    ['{"host":[]}', OPTIONS.connz, `json: cannot unmarshal array into ${FILTER}.host of type string`],
    ['{"domain":1}', OPTIONS.connz, `json: cannot unmarshal number into ${FILTER}.domain of type string`],
    ['{"tags":"a"}', OPTIONS.connz, `json: cannot unmarshal string into ${FILTER}.tags of type []string`],
    ['{"tags":["a",1]}', OPTIONS.connz, `json: cannot unmarshal number into ${FILTER}.tags of type string`],
    ['{"offset":1.5}', OPTIONS.connz, `json: cannot unmarshal number 1.5 into ${CONNZ}.offset of type int`],
    ['{"offset":1e2}', OPTIONS.connz, `json: cannot unmarshal number 1e2 into ${CONNZ}.offset of type int`],
    ['{"limit":9223372036854775808}', OPTIONS.connz, `json: cannot unmarshal number 9223372036854775808 into ${CONNZ}.limit of type int`],
    ['{"limit":"10"}', OPTIONS.connz, `json: cannot unmarshal string into ${CONNZ}.limit of type int`],
    ['{"cid":-1}', OPTIONS.connz, `json: cannot unmarshal number -1 into ${CONNZ}.cid of type uint64`],
    ['{"cid":-0}', OPTIONS.connz, `json: cannot unmarshal number -0 into ${CONNZ}.cid of type uint64`],
    ['{"subscriptions":1}', OPTIONS.connz, `json: cannot unmarshal number into ${CONNZ}.subscriptions of type bool`],
    ['{"sort":5}', OPTIONS.connz, `json: cannot unmarshal number into ${CONNZ}.sort of type server.SortOpt`],
    ['{"state":"open"}', OPTIONS.connz, `json: cannot unmarshal string into ${CONNZ}.state of type server.ConnState`],
    // The first error in the document, even when a later duplicate fits.
    ['{"limit":"x","server_name":5}', OPTIONS.connz, `json: cannot unmarshal string into ${CONNZ}.limit of type int`],
    ['{"server_name":5,"server_name":"x"}', OPTIONS.connz, `json: cannot unmarshal number into ${FILTER}.server_name of type string`],
    ['{"js-enabled":"yes"}', OPTIONS.healthz, 'json: cannot unmarshal string into Go struct field HealthzEventOptions.HealthzOptions.js-enabled of type bool'],
    ['{"accounts":"APP"}', OPTIONS.accountStatz, 'json: cannot unmarshal string into Go struct field AccountStatzEventOptions.AccountStatzOptions.accounts of type []string'],
    ['{"domain":1}', OPTIONS.statsz, 'json: cannot unmarshal number into Go struct field StatszEventOptions.EventFilterOptions.domain of type string'],
    ['{"leader_only":0}', OPTIONS.jsz, 'json: cannot unmarshal number into Go struct field JszEventOptions.JSzOptions.leader_only of type bool'],
    // RELOAD, KICK, LDM decode into EventFilterOptions itself.
    ['{"host":1}', OPTIONS.filter, 'json: cannot unmarshal number into Go struct field EventFilterOptions.host of type string'],
    ['{"offset":', OPTIONS.connz, 'unexpected end of JSON input'],
  ];
  it.each(cases)('%s', (body, struct, expected) => {
    expect(error(body, struct)).toBe(expected);
  });
});

describe('decodeBody against a model of Go\'s decoding (property)', () => {
  /** What Go makes of `v` in a field of `type`: the value, or null where it fails. */
  function model(type: string, v: unknown): { ok: unknown } | null {
    const int = (min: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && /^-?[0-9]+$/.test(JSON.stringify(v));
    switch (type) {
      case 'string':
      case 'server.SortOpt': return typeof v === 'string' ? { ok: v } : null;
      case 'bool': return typeof v === 'boolean' ? { ok: v } : null;
      case 'int':
      case 'server.ConnState': return int(-Infinity) ? { ok: v } : null;
      case 'uint64': return int(0) ? { ok: v } : null;
      default:
        return Array.isArray(v) && v.every((e) => e === null || typeof e === 'string') ? { ok: v.map((e) => e ?? '') } : null;
    }
  }
  const struct = OPTIONS.connz;
  const keys = [...struct.fields.keys(), 'other', 'Offset', 'TAGS'];
  it('takes what Go takes and fails on the first value Go fails on, whatever the layout', () => {
    fc.assert(fc.property(fc.dictionary(fc.constantFrom(...keys), fc.jsonValue({ maxDepth: 2 })), fc.constantFrom(0, 2, '\t'), (obj, space) => {
      const text = JSON.stringify(obj, null, space);
      const expected: Record<string, unknown> = {};
      let failed: string | null = null;
      for (const [k, v] of Object.entries(obj)) {
        const name = k.toLowerCase();
        const field = struct.fields.get(name);
        if (field === undefined || v === null) continue;
        const r = model(field.type, v);
        if (r === null) {
          failed = name;
          break;
        }
        expected[name] = r.ok;
      }
      const got = error(text, struct, 'utf8');
      if (failed === null) {
        expect(got).toBeNull();
        expect(decodeBody(Buffer.from(text), struct)).toEqual(expected);
      } else {
        expect(got).toMatch(new RegExp(`^json: cannot unmarshal .* into Go struct field ConnzEventOptions\\.\\w+\\.${failed} of type `));
      }
    }), { numRuns: 200 });
  });
});
