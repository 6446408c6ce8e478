// `npm run bench:cold`: what a cold start costs, per function bundle, next to an empty esbuild bundle.
// A benchmark, not a test: it prints numbers and the budgets of issue 3 (each bundle at most 40 KB
// minified; ready at most 1.5x the empty bundle's), and exits non-zero only with --check.
// `npm run bench` reuses coldStart() for its cold-start section.
//
// Each figure is measured in a fresh `node` process, `runs` times after two warm-up runs, as the median
// with min and max:
//   ready   ms from process start until require() of the bundle has returned (what a runtime waits
//           for before the first invocation; includes Node's own start-up, as the cloud's does)
//   require ms spent inside require() itself
//   first   ms from process start until the first relayed response (an FC 3.0 event to a loopback
//           upstream), i.e. cold start plus one real request
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const FUNCTIONS = ['get', 'post', 'put', 'getDownImg'];
const WARMUP = 2;

// Runs in the child: loads the bundle, optionally relays one FC 3.0 event, prints timings as JSON.
const PROBE = `
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

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted[sorted.length - 1] };
};

/** Measures the empty bundle and each function bundle; returns rows for a table. */
export async function coldStart({ runs = 15, distDir = 'dist' } = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-cold-'));
  const emptySource = path.join(dir, 'empty.ts');
  writeFileSync(emptySource, 'export const handler = async () => ({ statusCode: 200 });\n');
  await build({ entryPoints: [emptySource], outfile: path.join(dir, 'empty.js'), bundle: true, platform: 'node', target: 'node18', format: 'cjs', minify: true, logLevel: 'warning' });

  // spawnSync blocks this process, so the upstream answers from a process of its own.
  const upstream = spawn(
    process.execPath,
    ['-e', `require('node:http').createServer((q, s) => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"ok":true}'); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); })`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise((resolve) => upstream.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim()))));
  const measure = (file, mode, fn = 'get') => {
    const method = { post: 'POST', put: 'PUT' }[fn] ?? 'GET';
    const samples = [];
    for (let i = 0; i < WARMUP + runs; i++) {
      const run = spawnSync(process.execPath, ['-e', PROBE, file, mode, fn, method], { env: { PATH: process.env.PATH, UPSTREAM_URL: `http://127.0.0.1:${port}`, RELAY_LOG: '0' }, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`probe failed for ${file}: ${run.stderr}`);
      if (i >= WARMUP) samples.push(JSON.parse(run.stdout));
    }
    const stat = (key) => median(samples.map((sample) => sample[key]));
    return { ready: stat('ready'), require: stat('require'), first: mode === 'relay' ? stat('first') : undefined };
  };
  try {
    const emptyFile = path.join(dir, 'empty.js');
    const empty = { name: 'empty bundle', bytes: statSync(emptyFile).size, gzip: gzipSync(readFileSync(emptyFile)).length, ...measure(emptyFile, 'load') };
    const rows = [empty];
    for (const fn of FUNCTIONS) {
      const file = path.resolve(distDir, fn, 'index.js');
      const result = measure(file, 'relay', fn);
      const ratio = result.ready.median / empty.ready.median;
      const bytes = statSync(file).size;
      rows.push({ name: `dist/${fn}`, bytes, gzip: gzipSync(readFileSync(file)).length, ...result, ratio, withinBudget: bytes <= 40 * 1024 && ratio <= 1.5 });
    }
    return rows;
  } finally {
    upstream.kill();
  }
}

const fmt = ({ median: m, min, max }) => `${m.toFixed(1)} (${min.toFixed(1)}–${max.toFixed(1)})`;

/** The rows as a markdown table. */
export function coldStartTable(rows) {
  const lines = ['| bundle | bytes | gzip | ready ms | require ms | first response ms | budget |', '|---|---:|---:|---:|---:|---:|---|'];
  for (const row of rows) {
    const verdict = row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x empty ${row.ratio <= 1.5 ? 'ok' : 'MISS'}; size ${row.bytes <= 40 * 1024 ? 'ok' : 'MISS'}`;
    lines.push(`| ${row.name} | ${row.bytes} | ${row.gzip} | ${fmt(row.ready)} | ${fmt(row.require)} | ${row.first ? fmt(row.first) : '–'} | ${verdict} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = Number(process.env.BENCH_RUNS ?? 15);
  const rows = await coldStart({ runs });
  console.log(`cold start, Node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${runs} runs after ${WARMUP} warm-up (median (min–max), ms)`);
  console.log("budgets: bundle <= 40 KB minified; ready <= 1.5x the empty bundle's");
  console.log('');
  console.log(coldStartTable(rows));
  if (process.argv.includes('--check') && rows.some((row) => row.withinBudget === false)) process.exit(1);
}
