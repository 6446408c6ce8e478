// `npm run bench:cold`: what a cold start costs, per function bundle, next to what Node itself costs.
// A benchmark, not a test: it prints numbers and the budgets (each bundle at most 40 KB minified; its
// `require` at most 2 ms more than requiring Node's own http, https and zlib), and exits non-zero only
// with --check. `npm run bench` reuses coldStart() for its cold-start section.
//
// Every figure comes from a fresh `node` process; the files are measured in turn within each run (so a
// slow moment of the machine hits all of them), after two warm-up runs, as median (min–max) in ms:
//   require  ms inside require() of the file: for a bundle, Node's modules it loads plus its own code
//   ready    ms from process start until that require() returned (what a runtime waits for)
//   first    ms from process start until the first relayed response (an FC 3.0 event to a loopback
//            upstream, logging on as deployed): cold start plus one real request
// The baseline is a file holding only `require('node:http'); require('node:https'); require('node:zlib')`,
// loaded the same way, so both pay the same module-loader costs. got@14, bundled the way the functions
// are, is measured beside them: it is what the project would ship if it forwarded with got.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const FUNCTIONS = ['get', 'post', 'put', 'getDownImg', 'delete'];
const WARMUP = 2;
export const SIZE_BUDGET = 40 * 1024;
export const REQUIRE_BUDGET_MS = 2;

// Runs in the child: loads the file, optionally relays one FC 3.0 event, reports timings on stderr
// (stdout carries the relay's log line, as on a platform).
const PROBE = `
const t0 = performance.now();
const bundle = require(process.argv[1]);
const ready = performance.now();
const [, , mode, fn, method] = process.argv;
const event = Buffer.from(JSON.stringify({ version: 'v1', rawPath: '/' + fn, headers: {}, queryParameters: { method: 'api/ping' },
  body: '', isBase64Encoded: false, requestContext: { http: { method, path: '/' + fn, sourceIp: '127.0.0.1' } } }));
Promise.resolve(mode === 'relay' ? bundle.handler(event, {}) : null).then((result) => {
  if (mode === 'relay' && result.statusCode !== 200) throw new Error('relay answered ' + result.statusCode);
  process.stderr.write(JSON.stringify({ ready, require: ready - t0, first: performance.now() }));
  process.exit(0); // the keep-alive socket would hold the process open
});`;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
};

/** Measures Node's own modules and each function bundle; returns rows for a table. */
export async function coldStart({ runs = 15, distDir = 'dist' } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-cold-'));
  const baselineFile = path.join(dir, 'node-modules.js');
  writeFileSync(baselineFile, "require('node:http');\nrequire('node:https');\nrequire('node:zlib');\n");
  const gotFile = path.join(dir, 'got.js');
  writeFileSync(path.join(dir, 'got-entry.mjs'), "export { default as got } from 'got';\n");
  await build({ entryPoints: [path.join(dir, 'got-entry.mjs')], outfile: gotFile, bundle: true, platform: 'node', target: 'node18', format: 'cjs', minify: true, nodePaths: [path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules')], logLevel: 'silent' });

  // spawnSync blocks this process, so the upstream answers from a process of its own.
  const upstream = spawn(
    process.execPath,
    ['-e', `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"ok":true}'); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); })`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise((resolve) => upstream.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim()))));
  const targets = [
    { name: 'Node: http + https + zlib', file: baselineFile, mode: 'load', fn: 'get' },
    ...FUNCTIONS.map((fn) => ({ name: `dist/${fn}`, file: path.resolve(distDir, fn, 'index.js'), mode: 'relay', fn })),
    { name: 'got@14, bundled (comparison)', file: gotFile, mode: 'load', fn: 'get', sized: true },
  ].map((target) => ({ ...target, samples: [] }));
  const once = ({ file, mode, fn }) => {
    const method = { post: 'POST', put: 'PUT', delete: 'DELETE' }[fn] ?? 'GET';
    const run = spawnSync(process.execPath, ['-e', PROBE, file, mode, fn, method], { env: { PATH: process.env.PATH, UPSTREAM_URL: `http://127.0.0.1:${port}` }, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`probe failed for ${file}: ${run.stderr}`);
    return JSON.parse(run.stderr);
  };
  try {
    for (let i = 0; i < WARMUP + runs; i++) {
      for (const target of targets) {
        const sample = once(target);
        if (i >= WARMUP) target.samples.push(sample);
      }
    }
    const [baseline] = targets;
    const baselineRequire = median(baseline.samples.map((sample) => sample.require)).median;
    return targets.map(({ name, file, mode, samples, sized }) => {
      const stat = (key) => median(samples.map((sample) => sample[key]));
      const row = { name, ready: stat('ready'), require: stat('require'), first: mode === 'relay' ? stat('first') : undefined };
      if (sized) return { ...row, bytes: statSync(file).size, gzip: gzipSync(readFileSync(file)).length };
      if (mode !== 'relay') return row;
      const bytes = statSync(file).size;
      // Per run, so the machine's moment is the same for both; then the median of those differences.
      const extra = median(samples.map((sample, i) => sample.require - baseline.samples[i].require));
      return { ...row, bytes, gzip: gzipSync(readFileSync(file)).length, extra, withinBudget: bytes <= SIZE_BUDGET && extra.median <= REQUIRE_BUDGET_MS, baselineRequire };
    });
  } finally {
    upstream.kill();
  }
}

const fmt = ({ median: m, min, max }) => `${m.toFixed(1)} (${min.toFixed(1)}–${max.toFixed(1)})`;

/** The rows as a markdown table. */
export function coldStartTable(rows) {
  const lines = [
    '| loaded | bytes | gzip | require ms | require − Node\'s modules, ms | ready ms | first response ms | budget (≤ 40 KB, ≤ +2 ms) |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    const verdict = row.extra === undefined ? '' : row.withinBudget ? 'met' : `**missed** (${row.bytes > SIZE_BUDGET ? 'size' : 'require time'})`;
    lines.push(`| ${row.name} | ${row.bytes ?? '–'} | ${row.gzip ?? '–'} | ${fmt(row.require)} | ${row.extra ? fmt(row.extra) : '–'} | ${fmt(row.ready)} | ${row.first ? fmt(row.first) : '–'} | ${verdict} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = Number(process.env.BENCH_RUNS ?? 15);
  const rows = await coldStart({ runs });
  console.log(`cold start, Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${runs} runs after ${WARMUP} warm-up (median (min–max), ms)`);
  console.log(`budgets: bundle <= 40 KB minified; require <= Node's http + https + zlib + ${REQUIRE_BUDGET_MS} ms`);
  console.log('');
  console.log(coldStartTable(rows));
  if (process.argv.includes('--check') && rows.some((row) => row.withinBudget === false)) process.exit(1);
}
