#!/usr/bin/env node
// Conformance: runs the wire transcripts (test/wire) and the model-based routing properties
// (test/property/routing.test.ts) twice — against a real nats-server and against the embedded
// broker — and reports every test whose outcome differs. The tests assert nats-server's
// behaviour, so:
//   - a test that fails against nats-server is a wrong test;
//   - a test that passes there and fails here is a difference of the broker.
// Deliberate differences are listed in test/conformance/differences.json with their reason.
// Then the integration tests (test/interop) run once more on the nats-server backend.
//
// The real server is NATS_SERVER_BIN, or `nats-server` on PATH.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SUITES = ['test/wire', 'test/property/routing.test.ts', 'test/property/imports.test.ts'].filter((p) => existsSync(join(root, p)));
// Suites that need the real server beside the embedded one (mixed clusters): run once, must pass.
// cli-dropin uses the built CLI (dist/cli.js): `npm test` builds it first.
const INTEROP = [
  'test/conformance/cluster-interop.test.ts', 'test/conformance/monitor-fields.test.ts', 'test/conformance/cli-dropin.test.ts',
  'test/conformance/jetstream-config.test.ts', 'test/conformance/jsz-fields.test.ts', 'test/conformance/jetstream-accounts.test.ts',
  'test/conformance/jetstream-api.test.ts', 'test/conformance/jetstream-consumer-config.test.ts',
  'test/conformance/jetstream-consumer-features.test.ts',
  'test/conformance/jetstream-delivery.test.ts',
  'test/conformance/jetstream-interest.test.ts',
  'test/conformance/jetstream-kv.test.ts',
  'test/conformance/jetstream-mirrors.test.ts',
  'test/conformance/imports-config.test.ts',
  'test/conformance/imports-cluster.test.ts',
  'test/conformance/latency-shape.test.ts',
  'test/conformance/jetstream-utf8.test.ts',
  'test/conformance/utf8-core.test.ts',
  'test/conformance/route-auth-interop.test.ts',
  'test/conformance/leafnode-interop.test.ts',
  'test/conformance/leafnode-gateway-interop.test.ts',
  'test/conformance/leafnode-remotes-interop.test.ts',
  'test/conformance/tls-map-ws-auth.test.ts',
  'test/conformance/operator-interop.test.ts',
  'test/conformance/jwt-imports-interop.test.ts',
  'test/conformance/resolver-interop.test.ts',
  'test/conformance/mixed-jetstream-interop.test.ts',
  'test/conformance/jsz-cluster-fields.test.ts',
  'test/conformance/jepsen-real.test.ts',
  'test/conformance/jetstream-cluster.test.ts',
  'test/conformance/jetstream-server-remove.test.ts',
  'test/conformance/jetstream-add-member.test.ts',
  'test/conformance/jetstream-cluster-tags.test.ts',
  'test/conformance/system-account-interop.test.ts',
  'test/conformance/gateway-interop.test.ts',
  'test/conformance/gateway-cluster-interop.test.ts',
];
// The project's integration tests, run again on the nats-server backend
// (NATS_EMBEDDED_BACKEND=nats-server: `createServer()` spawns the real binary behind the same
// handle). Every test must pass there, except those of features only the embedded broker has,
// listed below with the reason; `test` is the start of "<describe> <test name>".
const BACKEND_SUITES = ['test/interop/client.test.ts', 'test/interop/lifecycle.test.ts', 'test/interop/test-controls.test.ts', 'test/interop/auth.test.ts', 'test/interop/operator.test.ts', 'test/interop/operator-resolver.test.ts', 'test/interop/accounts.test.ts', 'test/interop/imports.test.ts', 'test/interop/latency.test.ts', 'test/interop/harness.test.ts', 'test/interop/jetstream.test.ts',
  'test/jetstream/streams.test.ts', 'test/jetstream/interest.test.ts', 'test/jetstream/retention.property.test.ts',
  'test/jetstream/kv.property.test.ts', 'test/jetstream/mirrors.test.ts', 'test/jetstream/kv-mirrors.test.ts',
  'test/jetstream/cross-account.test.ts'];
const EMBEDDED_ONLY = [
  { file: 'test/interop/imports.test.ts', test: 'service imports no responders (2.10)', reason: 'nats-server 2.10.26+ answers 503 when a service import delivers to nobody; 2.9 lets the request time out' },
  { file: 'test/interop/auth.test.ts', test: 'permissions reload', reason: 'server.reload() is embedded only (nats-server reloads on SIGHUP)' },
  { file: 'test/interop/operator.test.ts', test: 'operator mode: reload', reason: 'server.reload() is embedded only (nats-server reloads on SIGHUP)' },
  { file: 'test/interop/operator-resolver.test.ts', test: 'operator mode: directory resolver reload', reason: 'server.reload() is embedded only (nats-server reloads on SIGHUP)' },
  { file: 'test/interop/operator.test.ts', test: 'operator mode: wire answers over WebSocket', reason: 'the nats-server backend does not pass the websocket option on yet' },
  { file: 'test/interop/lifecycle.test.ts', test: 'disconnectClients()', reason: 'kicks clients; nats-server 2.9 has no kick' },
  { file: 'test/interop/lifecycle.test.ts', test: 'slow consumers', reason: 'asserts through the slowConsumer event and stats()' },
  { file: 'test/interop/test-controls.test.ts', test: 'introspection waitForConnections, connections() and subscriptions()', reason: 'synchronous introspection (connections(), subscriptions())' },
  { file: 'test/interop/test-controls.test.ts', test: 'message tap', reason: 'the tap sees messages inside the broker' },
  { file: 'test/interop/test-controls.test.ts', test: 'fault injection', reason: 'pause, latency, drops and kicks are injected inside the broker' },
  { file: 'test/interop/test-controls.test.ts', test: 'deterministic queue selection', reason: "the seed drives the embedded broker's queue choice" },
  { file: 'test/interop/harness.test.ts', test: 'close() and kill() racing other lifecycle calls cluster', reason: 'createCluster() is embedded only' },
  { file: 'test/interop/harness.test.ts', test: 'close() and kill() racing other lifecycle calls every cluster control', reason: 'createCluster() is embedded only' },
  { file: 'test/interop/harness.test.ts', test: 'waits and iterators on a closed server messages()', reason: 'the tap sees messages inside the broker' },
  { file: 'test/interop/harness.test.ts', test: 'controls survive restart()', reason: 'taps, drop rules and pause are inside the broker' },
  { file: 'test/interop/harness.test.ts', test: 'user code inside the broker', reason: 'taps, embedded-only events and the logger of the broker itself' },
  { file: 'test/interop/harness.test.ts', test: 'method arguments', reason: 'uses createCluster(), setLatency() and dropMessages()' },
  { file: 'test/interop/harness.test.ts', test: 'reload()', reason: 'server.reload() is embedded only (nats-server reloads on SIGHUP)' },
  { file: 'test/interop/harness.test.ts', test: 'internal errors are visible to tests', reason: 'counts errors of the embedded broker' },
  { file: 'test/jetstream/interest.test.ts', test: 'interest retention a stream updated from limits to interest (2.10)', reason: 'nats-server 2.9 refuses any retention change; 2.10 allows limits to interest' },
  ...['memory', 'file'].map((storage) => ({ file: 'test/jetstream/streams.test.ts', test: `streams (${storage} storage) a purge up to a sequence past the last moves the last sequence there (2.10; 2.9 kept it)`, reason: 'nats-server 2.10 (stream.go purge) moves the last sequence with the store; 2.9 leaves it behind' })),
  ...['memory', 'file'].flatMap((storage) => [
    { file: 'test/jetstream/mirrors.test.ts', test: `sources (${storage} storage) drops Nats-Expected-*`, reason: 'nats-server 2.9 keeps Nats-Expected-* in sourced copies (and then refuses them); 2.10 (processInboundSourceMsg) removes them' },
    { file: 'test/jetstream/mirrors.test.ts', test: `sources (${storage} storage) starts at opt_start_seq / opt_start_time, with subject transforms (2.10)`, reason: 'subject_transforms are 2.10 (the client refuses them for 2.9)' },
  ]),
  { file: 'test/jetstream/mirrors.test.ts', test: 'lost deliveries (embedded fault injection)', reason: 'dropMessages() is embedded only' },
  { file: 'test/jetstream/mirrors.test.ts', test: 'a mirror with options applies subject transforms', reason: 'subject_transforms are 2.10 (the client refuses them for 2.9)' },
  { file: 'test/jetstream/kv-mirrors.test.ts', test: 'KV buckets on mirrors and sources a bucket with sources', reason: 'the KV client sources buckets through 2.10 subject_transforms' },
  { file: 'test/jetstream/interest.test.ts', test: 'interest retention a consumer update that narrows its filter', reason: 'nats-server 2.9 keeps the messages; 2.10 (consumer.go updateConfig) cleans up what lost interest' },
];
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const BACKEND_ARGS = ['--testNamePattern', `^(?!(?:${EMBEDDED_ONLY.map((e) => escapeRe(e.test)).join('|')})).*$`];

function findServer() {
  const env = process.env.NATS_SERVER_BIN;
  if (env) return existsSync(env) ? env : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'nats-server');
    if (dir && existsSync(candidate)) return candidate;
  }
  return null;
}

const bin = findServer();
if (bin === null) {
  console.error(
    'conformance: no nats-server binary found.\n' +
      '  Install it (Debian/Ubuntu: apt-get install -y nats-server) or point NATS_SERVER_BIN at one.\n' +
      '  The conformance suite never passes without comparing against the real server.',
  );
  process.exit(1);
}
const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();

const work = mkdtempSync(join(tmpdir(), 'nats-conformance-'));
function run(label, env, suites = SUITES, args = []) {
  const out = join(work, `${label}.json`);
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...suites, '--reporter=dot', '--reporter=json', `--outputFile=${out}`,
      // The interop suite lives outside the default include list.
      ...(suites === INTEROP ? ['--config', 'test/conformance/vitest.interop.config.ts'] : []),
      ...args,
    ],
    { cwd: root, env: { ...process.env, ...env, CI: '' }, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (!existsSync(out)) {
    console.error(`conformance: the ${label} run produced no results (exit ${r.status})`);
    process.exit(1);
  }
  const results = new Map();
  for (const file of JSON.parse(readFileSync(out, 'utf8')).testResults) {
    const rel = file.name.slice(root.length);
    for (const t of file.assertionResults) results.set(`${rel} > ${t.fullName}`, { status: t.status, error: (t.failureMessages ?? [])[0] ?? '' });
  }
  return results;
}

console.log(`conformance: against ${bin} (${version})`);
const real = run('nats-server', { NATS_WIRE_SERVER: bin });
console.log('conformance: against the embedded broker');
const embedded = run('embedded', { NATS_WIRE_SERVER: '' });
console.log('conformance: mixed clusters of nats-server and embedded servers');
const interop = run('interop', { NATS_SERVER_BIN: bin }, INTEROP);
console.log('conformance: the integration tests on the nats-server backend');
const backend = run('backend', { NATS_SERVER_BIN: bin, NATS_EMBEDDED_BACKEND: 'nats-server' }, BACKEND_SUITES, BACKEND_ARGS);
rmSync(work, { recursive: true, force: true });

const deliberate = new Map(
  JSON.parse(readFileSync(new URL('./differences.json', import.meta.url), 'utf8')).map((d) => [d.test, d.reason]),
);
const wrongTests = [];
const differences = [];
const explained = [];
for (const [name, r] of real) {
  const e = embedded.get(name);
  if (r.status === 'skipped' || r.status === 'pending') wrongTests.push(`${name}: skipped against nats-server`);
  else if (r.status !== 'passed') wrongTests.push(`${name}: fails against nats-server: ${r.error.split('\n')[0]}`);
  else if (e === undefined) differences.push(`${name}: missing from the embedded run`);
  else if (e.status !== 'passed') {
    if (deliberate.has(name)) explained.push(`${name}: ${deliberate.get(name)}`);
    else differences.push(`${name}: ${e.error.split('\n')[0]}`);
  }
}

for (const [name, r] of interop) {
  if (r.status !== 'passed') differences.push(`${name}: ${r.status}: ${r.error.split('\n')[0]}`);
}

// Skipped on the nats-server backend must mean listed in EMBEDDED_ONLY, and every entry must still name a test.
const embeddedOnly = (name) => EMBEDDED_ONLY.find((e) => name.startsWith(`${e.file} > ${e.test}`));
const excluded = new Set();
let backendRun = 0;
for (const [name, r] of backend) {
  const entry = embeddedOnly(name);
  if ((r.status === 'skipped' || r.status === 'pending') && entry !== undefined) {
    excluded.add(entry);
    continue;
  }
  backendRun++;
  if (r.status === 'skipped' || r.status === 'pending') differences.push(`${name}: skipped on the nats-server backend, and not listed as embedded only`);
  else if (r.status !== 'passed') differences.push(`${name}: fails on the nats-server backend: ${r.error.split('\n')[0]}`);
}
for (const e of EMBEDDED_ONLY) if (!excluded.has(e)) wrongTests.push(`EMBEDDED_ONLY entry "${e.file} > ${e.test}" names no test`);

console.log(`\nconformance: ${real.size} tests (transcripts and routing scenarios) run against both servers, ${interop.size} interop tests in mixed clusters, ${backendRun} integration tests on the nats-server backend`);
for (const e of EMBEDDED_ONLY) console.log(`  embedded only, not run on the nats-server backend: ${e.file} > ${e.test}: ${e.reason}`);
for (const line of explained) console.log(`  deliberate difference: ${line}`);
for (const line of wrongTests) console.log(`  WRONG TEST: ${line}`);
for (const line of differences) console.log(`  DIFFERENCE: ${line}`);
const failed = wrongTests.length + differences.length;
const total = real.size + interop.size + backendRun;
console.log(`conformance: ${total - failed} passed, ${failed} failed`);
process.exit(failed === 0 && real.size > 0 && interop.size > 0 && backendRun > 0 ? 0 : 1);
