// In-process invocations of the built function bundles, next to the hand-written minimal handlers of
// minimal-handlers.mjs, against a loopback upstream: the event-function part of `npm run bench`.
//   node invoke.mjs <dist dir> <upstream origin> <rounds> <calls per round> <result file>
// One call at a time, as a platform gives an instance one call at a time; the relay logs as deployed
// (one synchronous line per call to stdout, which the caller drains through a pipe), and again with
// RELAY_LOG=0 to show what that line costs. Rounds alternate between the three. Writes JSON to <result file>: per platform and scenario,
// calls/s and CPU ms per call of each side per round, and for the binary scenario what base64 and
// Buffer.concat did per call (counted by wrapping them).
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as minimal from './minimal-handlers.mjs';

const [distDir, origin, rounds, calls, resultFile] = process.argv.slice(2);
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

// The events are the documented ones from the test fixtures (each names its vendor document).
const bundled = await build({ entryPoints: [path.join(ROOT, 'test', 'fixtures', 'events', 'index.ts')], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'warning' });
const fixtures = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`);

process.env.UPSTREAM_URL = origin;
const require = createRequire(import.meta.url);
/** A fresh instance of a bundle, configured from the environment as it is now (as a platform loads it). */
function load(fn) {
  const file = path.resolve(distDir, fn, 'index.js');
  delete require.cache[file];
  return require(file).handler;
}
const relayHandlers = { get: load('get'), getDownImg: load('getDownImg') };
// The same bundles with RELAY_LOG=0, to show what the log line costs.
process.env.RELAY_LOG = '0';
const quietHandlers = { get: load('get'), getDownImg: load('getDownImg') };
delete process.env.RELAY_LOG;

const SCENARIOS = [
  { name: 'small JSON', fn: 'get', apiPath: 'api/small' },
  { name: '100 KB binary', fn: 'getDownImg', apiPath: 'img/100k' },
];

/** An FC 2.0 `(req, resp)` call as the runtime makes it (req.queries parsed; resp collects the answer). */
function fc2Call(handler, fn, apiPath) {
  return new Promise((resolve) => {
    let status = 0;
    const resp = { setStatusCode: (code) => (status = code), setHeader: () => undefined, deleteHeader: () => undefined, send: (body) => resolve({ statusCode: status, body }) };
    const req = { headers: { 'user-agent': 'bench', 'x-fc-request-id': 'r' }, path: `/${fn}`, url: `/${fn}?method=${apiPath}`, queries: { method: apiPath }, method: 'GET', clientIP: '42.120.0.1', body: Buffer.alloc(0) };
    handler(req, resp, { requestId: 'r' });
  });
}

const PLATFORMS = [
  { name: 'Aliyun FC 3.0', call: (handler, s) => handler(Buffer.from(JSON.stringify(fixtures.fc3({ method: 'GET', path: `/${s.fn}`, query: `method=${s.apiPath}` }))), {}), minimal: minimal.fc3 },
  { name: 'Aliyun FC 2.0', call: (handler, s) => fc2Call(handler, s.fn, s.apiPath), minimal: minimal.fc2 },
  { name: 'Tencent SCF (API Gateway event)', call: (handler, s) => handler(fixtures.scfApiGateway({ method: 'GET', path: `/${s.fn}`, query: `method=${s.apiPath}` }), {}), minimal: minimal.scf },
  { name: 'AWS Lambda (function URL)', call: (handler, s) => handler(fixtures.lambdaV2({ method: 'GET', path: `/${s.fn}`, query: `method=${s.apiPath}` }), {}), minimal: minimal.lambda },
];

// Counting wrappers: how many base64 encodes and Buffer.concat copies a call makes, and of how many bytes.
const counts = { base64: 0, base64Bytes: 0, concat: 0, concatBytes: 0 };
const toString = Buffer.prototype.toString;
Buffer.prototype.toString = function (encoding, ...rest) {
  if (encoding === 'base64') {
    counts.base64++;
    counts.base64Bytes += this.length;
  }
  return toString.call(this, encoding, ...rest);
};
const concat = Buffer.concat;
Buffer.concat = function (list, length) {
  const result = concat.call(Buffer, list, length);
  counts.concat++;
  counts.concatBytes += result.length;
  return result;
};

async function measure(invoke, n) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const result = await invoke();
    if (result.statusCode !== 200) throw new Error(`answered ${result.statusCode}`);
  }
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return { perSecond: (n / wall) * 1000, cpuMs: (used.user + used.system) / 1000 / n };
}

function describe({ statusCode, body, isBase64Encoded }) {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8');
  return `${statusCode} ${toString.call(bytes, 'base64')}`;
}

async function tally(invoke) {
  Object.assign(counts, { base64: 0, base64Bytes: 0, concat: 0, concatBytes: 0 });
  await invoke();
  return { ...counts };
}

const results = [];
for (const platform of PLATFORMS) {
  const minimalHandler = platform.minimal(origin);
  for (const scenario of SCENARIOS) {
    const relayInvoke = () => platform.call(relayHandlers[scenario.fn], scenario);
    const quietInvoke = () => platform.call(quietHandlers[scenario.fn], scenario);
    const minimalInvoke = () => platform.call(minimalHandler, scenario);
    // Warm-up: JIT, connections.
    for (const invoke of [relayInvoke, quietInvoke, minimalInvoke]) await measure(invoke, Math.min(200, Number(calls)));
    const row = { platform: platform.name, scenario: scenario.name, relay: [], quiet: [], minimal: [] };
    for (let round = 0; round < Number(rounds); round++) {
      row.relay.push(await measure(relayInvoke, Number(calls)));
      row.quiet.push(await measure(quietInvoke, Number(calls)));
      row.minimal.push(await measure(minimalInvoke, Number(calls)));
    }
    row.relayWork = await tally(relayInvoke);
    row.minimalWork = await tally(minimalInvoke);
    // The same forward on both sides: status and body bytes (the tests compare them).
    row.answers = { relay: describe(await relayInvoke()), minimal: describe(await minimalInvoke()) };
    results.push(row);
  }
}
writeFileSync(resultFile, JSON.stringify(results));
process.exit(0);
