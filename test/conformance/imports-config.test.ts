/**
 * Startup errors of account exports and imports against the real nats-server: the same config
 * file goes to `nats-server -t` (test the configuration and exit) and to nats-embedded's config
 * reader and option checks; both must refuse it with the same words (the file position left
 * aside: nats-server points at the `accounts` block for what it checks after parsing), and accept
 * the same good files. Part of `npm run test:conformance` (NATS_SERVER_BIN).
 *
 * Not compared: a stream import with both `prefix` and `to`. nats-server checks it only when it
 * reads `to` after `prefix` (the keys of a Go map come in random order: `nats-server -t` accepts
 * the file about one time in four); nats-embedded always refuses it, with nats-server's words
 * (test/broker/imports.test.ts).
 *
 * One case differs between 2.9.10 (the binary here) and 2.10.29, which nats-embedded follows:
 * a transform error says `from "x" to "y"` in 2.10 and `"x" to "y"` in 2.9; it is compared
 * with the 2.9 words normalized.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConf } from '../../src/config/conf.js';
import { optionsFromConf } from '../../src/config/from-conf.js';
import { resolveOptions } from '../../src/config/options.js';

const bin = process.env.NATS_SERVER_BIN ?? '';
const dir = mkdtempSync(join(tmpdir(), 'imports-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** nats-server's verdict: null when it accepts the file, else its error without the file position. */
function real(text: string): string | null {
  if (bin === '') throw new Error('no nats-server binary: run this through `npm run test:conformance` (NATS_SERVER_BIN)');
  const file = join(dir, 'server.conf');
  writeFileSync(file, text);
  const r = spawnSync(bin, ['-c', file, '-t'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const line = `${r.stderr}${r.stdout}`.split('\n').find((l) => l.startsWith('nats-server:')) ?? `${r.stderr}${r.stdout}`;
  return line.replace(/^nats-server: (?:[^:]*:\d+:\d+: )?/, '').replace(/ subject "([^"]*)" to /, ' subject from "$1" to ').trim();
}

/** nats-embedded's verdict, the same way. */
function embedded(text: string): string | null {
  try {
    resolveOptions(optionsFromConf(parseConf(text, 'server.conf')).options);
    return null;
  } catch (err) {
    return (err as Error).message.replace(/^Invalid option "[^"]*": (?:[^:]*:\d+:\d+: )?/, '').trim();
  }
}

const CASES: ReadonlyArray<readonly [string, string]> = [
  ['export allowed to another account', 'A: { exports: [{stream: "ev.>", accounts: [B]}] }, B: { imports: [{stream: {account: A, subject: "ev.>"}}] }, C: { imports: [{stream: {account: A, subject: "ev.>"}}] }'],
  ['import of a subject not exported', 'A: { exports: [{stream: "ev.>"}] }, B: { imports: [{stream: {account: A, subject: "other"}}] }'],
  ['import from an unknown account', 'A: { exports: [{stream: "ev.>"}] }, B: { imports: [{stream: {account: X, subject: "ev.>"}}] }'],
  ['stream export to an unknown account', 'A: { exports: [{stream: "ev.>", accounts: [X]}] }'],
  ['service export to an unknown account', 'A: { exports: [{service: "svc", accounts: [X]}] }'],
  ['service import not exported', 'A: { exports: [{service: "svc"}] }, B: { imports: [{service: {account: A, subject: "nope"}}] }'],
  ['service import from an unknown account', 'A: { exports: [{service: "svc"}] }, B: { imports: [{service: {account: X, subject: "svc"}}] }'],
  ['wildcard prefix', 'A: { exports: [{stream: "ev.>"}] }, B: { imports: [{stream: {account: A, subject: "ev.>"}, prefix: "p.*"}] }'],
  ['stream import cycle', 'A: { exports: [{stream: "foo"}], imports: [{stream: {account: B, subject: "foo"}}] }, B: { exports: [{stream: "foo"}], imports: [{stream: {account: A, subject: "foo"}}] }'],
  ['service import cycle', 'A: { exports: [{service: "foo"}], imports: [{service: {account: B, subject: "foo"}}] }, B: { exports: [{service: "foo"}], imports: [{service: {account: A, subject: "foo"}}] }'],
  ['invalid local subject', 'A: { exports: [{service: "svc.*"}] }, B: { imports: [{service: {account: A, subject: "svc.*"}, to: "a..b"}] }'],
  ['invalid import subject', 'A: { exports: [{stream: "ev.>"}] }, B: { imports: [{stream: {account: A, subject: "ev..x"}}] }'],
  ['mapping that drops a wildcard', 'A: { exports: [{stream: "ev.*"}] }, B: { imports: [{stream: {account: A, subject: "ev.*"}, to: "x.y"}] }'],
  ['duplicate stream import', 'A: { exports: [{stream: "ev.>"}] }, B: { imports: [{stream: {account: A, subject: "ev.>"}}, {stream: {account: A, subject: "ev.>"}, prefix: x}] }'],
  ['duplicate service import', 'A: { exports: [{service: "svc"}] }, B: { imports: [{service: {account: A, subject: "svc"}}, {service: {account: A, subject: "svc"}}] }'],
  ['unknown response type', 'A: { exports: [{service: "svc", response_type: "bogus"}] }'],
  ['response type on a stream', 'A: { exports: [{stream: "s", response_type: "stream"}] }'],
  ['bad threshold', 'A: { exports: [{service: "s", response_threshold: "x"}] }'],
  ['import without a subject', 'A: { imports: [{stream: {account: B}}] }, B: {}'],
  ['good: everything', 'A: { exports: [{stream: "ev.>"}, {stream: "o.*.*", accounts: [B]}, {service: "svc.>", response_type: chunked, response_threshold: "5s"}] }, '
    + 'B: { imports: [{stream: {account: A, subject: "ev.>"}, prefix: from.a}, {stream: {account: A, subject: "o.*.*"}, to: "b.$2.$1"}, {service: {account: A, subject: "svc.>"}}, {service: {account: A, subject: "svc.x"}, to: "x"}] }'],
  ['good: a wildcard service mapping', 'A: { exports: [{service: "rev.*.*"}] }, B: { imports: [{service: {account: A, subject: "rev.*.*"}, to: "local.$2.$1"}] }'],
  ['service mapping that drops a wildcard', 'A: { exports: [{service: "rev.*.*"}] }, B: { imports: [{service: {account: A, subject: "rev.*.*"}, to: "local.$1"}] }'],
  ['good: a subset of an export', 'A: { exports: [{stream: "ev.>"}, {service: "svc.*"}] }, B: { imports: [{stream: {account: A, subject: "ev.x.>"}}, {service: {account: A, subject: "svc.one"}}] }'],
  ['latency on a stream', 'A: { exports: [{stream: "s", latency: "lat"}] }'],
  ['latency of the wrong type', 'A: { exports: [{service: "s", latency: 5}] }'],
  ['latency sampling out of range', 'A: { exports: [{service: "s", latency: {sampling: 200, subject: "lat"}}] }'],
  ['latency sampling not a number', 'A: { exports: [{service: "s", latency: {sampling: "abc", subject: "lat"}}] }'],
  ['latency sampling of the wrong type', 'A: { exports: [{service: "s", latency: {sampling: true, subject: "lat"}}] }'],
  ['latency without a subject', 'A: { exports: [{service: "s", latency: {sampling: 50}}] }'],
  ['latency subject not a string', 'A: { exports: [{service: "s", latency: {subject: 5}}] }'],
  ['latency results on a wildcard subject', 'A: { exports: [{service: "s", latency: "lat.*"}] }'],
  ['latency results on a service of the account', 'A: { exports: [{service: "s.>", latency: "s.lat"}] }'],
  ['latency of a streamed service', 'A: { exports: [{service: "s", response_type: stream, latency: "lat"}] }'],
  ['good: latency forms', 'A: { exports: [{service: "s1", latency: "lat.1"}, {service: "s2", latency: {sampling: "50%", subject: "lat.2"}}, {service: "s3", latency: {sampling: headers, subject: "lat.3"}}, {service: "s4", latency: {subject: "lat.4"}}] }, '
    + 'B: { imports: [{service: {account: A, subject: "s1"}, share: true}] }'],
  ['good: chain without a cycle', 'A: { exports: [{stream: "a"}] }, B: { imports: [{stream: {account: A, subject: "a"}}], exports: [{stream: "a"}] }, C: { imports: [{stream: {account: B, subject: "a"}}] }'],
];

describe('account exports and imports: startup errors as nats-server', () => {
  it.each(CASES)('%s', (_name, body) => {
    const text = `accounts { ${body} }\n`;
    expect(embedded(text)).toBe(real(text));
  });
});
