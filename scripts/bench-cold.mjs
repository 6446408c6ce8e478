// `npm run bench:cold`: what a cold start costs, per function bundle, next to an empty esbuild bundle.
// A benchmark, not a test: it prints numbers and the budgets of issue 3 (each bundle at most 40 KB
// minified; its load at most 1.5x the empty bundle's), and exits non-zero only with --check.
//
// Each figure is measured in a fresh `node` process, RUNS times after WARMUP runs, as the median with
// min and max:
//   ready   ms from process start until require() of the bundle has returned (what a runtime waits
//           for before the first invocation; includes Node's own start-up, as the cloud's does)
//   require ms spent inside require() itself
//   first   ms from process start until the first relayed response (an FC 3.0 event to a loopback
//           upstream), i.e. cold start plus one real request
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const FUNCTIONS = ['get', 'post', 'put', 'getDownImg'];
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const WARMUP = 2;
const check = process.argv.includes('--check');

const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-cold-'));
const emptySource = path.join(dir, 'empty.ts');
writeFileSync(emptySource, 'export const handler = async () => ({ statusCode: 200 });\n');
await build({ entryPoints: [emptySource], outfile: path.join(dir, 'empty.js'), bundle: true, platform: 'node', target: 'node18', format: 'cjs', minify: true, logLevel: 'warning' });

// spawnSync blocks this process, so the upstream answers from a process of its own.
const upstreamProcess = spawn(
  process.execPath,
  ['-e', `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"ok":true}'); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); })`],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const upstreamPort = await new Promise((resolve) => upstreamProcess.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim()))));
const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;

// Runs in the child: loads the bundle, optionally relays one FC 3.0 event, prints timings as JSON.
const probe = `
const t0 = performance.now();
const bundle = require(process.argv[1]);
const ready = performance.now();
const [, , mode, fn, method] = process.argv;
const event = Buffer.from(JSON.stringify({ version: 'v1', rawPath: '/' + fn, headers: {}, queryParameters: { method: 'api/ping' },
  body: '', isBase64Encoded: false, requestContext: { http: { method, path: '/' + fn, sourceIp: '127.0.0.1' } } }));
Promise.resolve(mode === 'relay' ? bundle.handler(event, {}) : null).then((result) => {
  if (mode === 'relay' && result.statusCode !== 200) throw new Error('relay answered ' + result.statusCode);
  console.log(JSON.stringify({ ready, require: ready - t0, first: performance.now() }));
  process.exit(0); // the keep-alive socket would hold the process open
});`;

function measure(file, mode, fn = 'get') {
  const method = { post: 'POST', put: 'PUT' }[fn] ?? 'GET';
  const samples = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const run = spawnSync(process.execPath, ['-e', probe, file, mode, fn, method], { env: { PATH: process.env.PATH, UPSTREAM_URL: upstreamUrl, RELAY_LOG: '0' }, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`probe failed for ${file}: ${run.stderr}`);
    if (i >= WARMUP) samples.push(JSON.parse(run.stdout));
  }
  const stat = (key) => {
    const values = samples.map((sample) => sample[key]).sort((a, b) => a - b);
    return { median: values[Math.floor(values.length / 2)], min: values[0], max: values[values.length - 1] };
  };
  return { ready: stat('ready'), require: stat('require'), first: mode === 'relay' ? stat('first') : undefined };
}

const fmt = ({ median, min, max }) => `${median.toFixed(1)} (${min.toFixed(1)}–${max.toFixed(1)})`;
const rows = [];
const empty = measure(path.join(dir, 'empty.js'), 'load');
const emptySize = statSync(path.join(dir, 'empty.js')).size;
rows.push(['empty bundle', emptySize, gzipSync(readFileSync(path.join(dir, 'empty.js'))).length, empty, '']);
let missed = 0;
for (const fn of FUNCTIONS) {
  const file = path.resolve('dist', fn, 'index.js');
  const size = statSync(file).size;
  const result = measure(file, 'relay', fn);
  const ratio = result.ready.median / empty.ready.median;
  const sizeOk = size <= 40 * 1024;
  const loadOk = ratio <= 1.5;
  if (!sizeOk || !loadOk) missed++;
  rows.push([`dist/${fn}`, size, gzipSync(readFileSync(file)).length, result, `${ratio.toFixed(2)}x empty ${loadOk ? 'ok' : 'MISS'}; size ${sizeOk ? 'ok' : 'MISS'}`]);
}
upstreamProcess.kill();

console.log(`cold start, Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${RUNS} runs after ${WARMUP} warm-up (median (min–max), ms)`);
console.log('budgets: bundle <= 40 KB minified; ready <= 1.5x the empty bundle\'s');
console.log('');
console.log('| bundle | bytes | gzip | ready ms | require ms | first response ms | budget |');
console.log('|---|---:|---:|---:|---:|---:|---|');
for (const [name, size, gz, r, verdict] of rows) {
  console.log(`| ${name} | ${size} | ${gz} | ${fmt(r.ready)} | ${fmt(r.require)} | ${r.first ? fmt(r.first) : '–'} | ${verdict} |`);
}
if (check && missed > 0) process.exit(1);
