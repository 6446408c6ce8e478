// `npm run bench`: the relay measured against fair baselines on this machine, every figure from this
// run. Prints the report and writes it to docs/benchmarks.md, with docs/benchmarks.svg (a chart) and the
// headline in README.md. `--quick` (about a minute; what the tests run) writes to --out <dir>, or a
// temporary directory, never to docs/.
//
// Sections (1, 2 and 4 are ratios to a baseline measured in the same run, rounds alternating):
//   1. servers: the local server and the SCF web function (default settings, logging on) against the
//      bare node:http forwarder of bare-forwarder.mjs: throughput and p99 at 32 and 64 connections
//   2. event functions: the built bundles invoked in-process with documented events, against the
//      hand-written handlers of minimal-handlers.mjs; base64 and copy work per call
//   3. memory: 64 concurrent 3 MB downloads through the local server
//   4. cold start: require() of each bundle against Node's own http + https + zlib (bench-cold.mjs)
//   5. cross-border: a warm relay request against a new connection per request, over a delayed TLS hop
//
// The relay processes log as deployed, to a pipe this process drains (as a platform's log collector
// would). Load comes from wrk when installed (full run), else from load.mjs. Linux only (/proc).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { coldStart, coldStartTable, REQUIRE_BUDGET_MS, SIZE_BUDGET } from '../bench-cold.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..', '..');
const quick = process.argv.includes('--quick');
const outIndex = process.argv.indexOf('--out');
const OUT = outIndex !== -1 ? path.resolve(process.argv[outIndex + 1]) : quick ? mkdtempSync(path.join(os.tmpdir(), 'mp-relay-bench-quick-')) : path.join(ROOT, 'docs');
const CA = path.join(ROOT, 'test', 'fixtures', 'tls', 'cert.pem');

const S = quick
  ? { rounds: 3, seconds: 0.5, invokeRounds: 3, invokeCalls: 150, downloads: 1, hopMs: 20, sequential: 5, coldRuns: 3 }
  : { rounds: 7, seconds: 2, invokeRounds: 7, invokeCalls: 1000, downloads: 4, hopMs: 80, sequential: 20, coldRuns: 15 };
const COMMAND = quick ? 'npm run bench -- --quick' : 'npm run bench';

const children = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
const log = (line) => process.stderr.write(`${line}\n`);

// ---- processes ----------------------------------------------------------------------------------

/** Starts a process whose output is drained here; resolves once `pattern` shows its port. */
function start(args, env, pattern) {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      if (output === null) return; // past start-up: drained and dropped, like a log collector
      output += chunk;
      const match = pattern.exec(output);
      if (match) {
        output = null;
        resolve({ port: Number(match[1]), pid: child.pid, child });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${output}`)));
  });
}
const role = (...args) => start([path.join(HERE, 'roles.mjs'), ...args], {}, /listening (\d+)/);
const bare = (upstream, ...flags) => start([path.join(HERE, 'bare-forwarder.mjs'), upstream, ...flags], {}, /listening (\d+)/);
const localServer = (upstream, env = {}) => start([path.join(ROOT, 'dist', 'server', 'index.js')], { UPSTREAM_URL: upstream, PORT: '0', ...env }, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
const webFunction = (upstream) => start([path.join(ROOT, 'dist', 'web', 'index.js')], { UPSTREAM_URL: upstream, HOST: '127.0.0.1', PORT: '0', RELAY_PLATFORM: 'tencent-scf' }, /listening on http:\/\/127\.0\.0\.1:(\d+)/);

/** Runs a command to its end without blocking this process; its stdout is kept unless `drop`. */
function run(command, args, { env = {}, drop = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      if (!drop) stdout += chunk;
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr}`))));
  });
}
const has = (command, ...args) => run(command, args).then(() => true, () => false);

async function nginxProxy(upstreamPort) {
  if (!(await has('nginx', '-v'))) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-nginx-'));
  const port = await new Promise((resolve) => {
    const probe = http.createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  // One worker, keep-alive to the upstream, the relay's path style.
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 2048; }
http {
  access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream backend { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location ~ ^/[^/]+(/.*)$ { proxy_pass http://backend$1$is_args$args; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 50; i++) {
    const up = await new Promise((resolve) => http.get(`http://127.0.0.1:${port}/`, (res) => resolve(res.resume() && true)).on('error', () => resolve(false)));
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, pid: child.pid, child };
}

// ---- measuring ----------------------------------------------------------------------------------

const CLK_TCK = 100; // Linux USER_HZ
/** CPU ms used so far by a process (user + system, all threads), from /proc. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
  } catch {
    return NaN;
  }
}

// `wrk --version` prints its version and exits with 1.
const WRK = !quick && (await new Promise((resolve) => {
  const child = spawn('wrk', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let text = '';
  child.stdout.on('data', (chunk) => (text += chunk));
  child.on('error', () => resolve(false));
  child.on('close', () => resolve(/^wrk /.test(text)));
}));
const scripts = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-bench-'));

function parseDuration(text) {
  const match = /([\d.]+)(us|ms|s)/.exec(text);
  return match ? Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2]] : NaN;
}

/** Closed-loop load for `seconds` at `connections`: {rps, p99, requests}. */
async function load(url, scenario, connections, seconds) {
  if (WRK) {
    const args = ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency', url];
    if (scenario.body) {
      const script = path.join(scripts, 'post.lua');
      writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(scenario.body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
      args.unshift('-s', script);
    }
    const out = await run('wrk', args);
    const failed = /Non-2xx or 3xx responses: (\d+)/.exec(out);
    if (failed) throw new Error(`${url}: ${failed[1]} failed responses`);
    return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]), p99: parseDuration(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ''), requests: Number(/(\d+) requests in/.exec(out)?.[1]) };
  }
  const out = JSON.parse(await run(process.execPath, [path.join(HERE, 'load.mjs'), url, scenario.body ? 'POST' : 'GET', scenario.body ?? '-', String(connections), String(seconds)]));
  if (out.errors) throw new Error(`${url}: ${out.errors} failed responses`);
  return out;
}

const stats = (values) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
};
const f = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const spread = (s, digits = 1) => `${f(s.median, digits)} (${f(s.min, digits)}–${f(s.max, digits)})`;
const verdict = (ok) => (ok ? 'met' : '**missed**');

// ---- 1. servers ---------------------------------------------------------------------------------

const SCENARIOS = [
  { name: 'small JSON GET', proxied: '/get/api/small' },
  { name: '1 KB JSON POST', proxied: '/post/api/echo', body: JSON.stringify({ name: '小程序', items: [1, 2, 3], note: 'x'.repeat(960) }) },
  { name: '100 KB binary download', proxied: '/getDownImg/img/100k' },
];

async function servers() {
  const upstream = await role('upstream');
  const origin = `http://127.0.0.1:${upstream.port}`;
  const targets = [
    { name: 'bare node:http forwarder (baseline)', ...(await bare(origin)) },
    { name: 'mp-relay local server', relay: true, ...(await localServer(origin)) },
    { name: 'mp-relay SCF web function', relay: true, ...(await webFunction(origin)) },
  ];
  // Context, full run only: what the project started with (got) and what a proxy written in C does.
  if (!quick) {
    targets.push({ name: 'got forwarder', ...(await role('forward-got', origin)) });
    const nginx = await nginxProxy(upstream.port);
    if (nginx) targets.push({ name: 'nginx proxy_pass', ...nginx });
  }
  const results = [];
  for (const scenario of SCENARIOS) {
    for (const connections of [64, 32]) {
      // At 32 connections only the baseline and the relay: that table is for p99.
      const measured = connections === 64 ? targets : targets.filter((target) => target.relay || target === targets[0]);
      log(`servers: ${scenario.name}, ${connections} connections`);
      for (const target of measured) await load(`http://127.0.0.1:${target.port}${scenario.proxied}`, scenario, connections, quick ? 0.3 : 1);
      const rounds = measured.map(() => ({ rps: [], p99: [], cpu: [] }));
      for (let round = 0; round < S.rounds; round++) {
        for (const [i, target] of measured.entries()) {
          const before = cpuMs(target.pid);
          const result = await load(`http://127.0.0.1:${target.port}${scenario.proxied}`, scenario, connections, S.seconds);
          rounds[i].rps.push(result.rps);
          rounds[i].p99.push(result.p99);
          rounds[i].cpu.push((cpuMs(target.pid) - before) / result.requests);
        }
      }
      const baseline = rounds[0];
      results.push({
        scenario: scenario.name,
        connections,
        rows: measured.map((target, i) => ({
          name: target.name,
          relay: Boolean(target.relay),
          rps: stats(rounds[i].rps),
          p99: stats(rounds[i].p99),
          cpu: stats(rounds[i].cpu),
          // Each round against the baseline's round next to it, so both saw the same moment of the machine.
          throughputRatio: stats(rounds[i].rps.map((rps, round) => rps / baseline.rps[round])),
          p99Ratio: stats(rounds[i].p99.map((p99, round) => p99 / baseline.p99[round])),
        })),
      });
    }
  }
  targets.forEach((target) => target.child.kill());
  upstream.child.kill();
  return results;
}

// ---- 2. event functions -------------------------------------------------------------------------

async function eventFunctions() {
  log('event functions');
  const upstream = await role('upstream');
  const resultFile = path.join(scripts, 'invoke.json');
  // Its stdout (the relay's log lines) comes here through a pipe and is dropped, as a platform collects it.
  await run(process.execPath, [path.join(HERE, 'invoke.mjs'), path.join(ROOT, 'dist'), `http://127.0.0.1:${upstream.port}`, String(S.invokeRounds), String(S.invokeCalls), resultFile], { drop: true });
  upstream.child.kill();
  return JSON.parse(readFileSync(resultFile, 'utf8')).map((row) => ({
    ...row,
    relayRate: stats(row.relay.map((one) => one.perSecond)),
    minimalRate: stats(row.minimal.map((one) => one.perSecond)),
    ratio: stats(row.relay.map((one, round) => one.perSecond / row.minimal[round].perSecond)),
    quietRatio: stats(row.quiet.map((one, round) => one.perSecond / row.minimal[round].perSecond)),
    relayCpu: stats(row.relay.map((one) => one.cpuMs)),
    minimalCpu: stats(row.minimal.map((one) => one.cpuMs)),
  }));
}

// ---- 3. memory ----------------------------------------------------------------------------------

const MB = 1024 * 1024;
const rssMb = (pid, key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/** `parallel` downloads at once, `times` over; every body read to its end and checked for length. */
async function downloads(url, parallel, times, size) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
  const once = () =>
    new Promise((resolve, reject) => {
      http.get(url, { agent }, (res) => {
        let bytes = 0;
        res.on('data', (chunk) => (bytes += chunk.length));
        res.on('end', () => (res.statusCode === 200 && bytes === size ? resolve() : reject(new Error(`${url}: ${res.statusCode}, ${bytes} bytes`))));
      }).on('error', reject);
    });
  for (let i = 0; i < times; i++) await Promise.all(Array.from({ length: parallel }, once));
  agent.destroy();
}

async function memory() {
  log('memory');
  const upstream = await role('upstream');
  const origin = `http://127.0.0.1:${upstream.port}`;
  const rows = [];
  for (const [name, started] of [['mp-relay local server', localServer(origin)], ['bare node:http forwarder', bare(origin)]]) {
    const server = await started;
    const base = `http://127.0.0.1:${server.port}`;
    // Idle: started and warmed by a few small requests, so what follows is the downloads' own memory.
    await downloads(`${base}/get/api/small`, 4, 5, 51);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const idle = rssMb(server.pid, 'VmRSS');
    await downloads(`${base}/getDownImg/img/3m`, 64, S.downloads, 3 * MB);
    const peak = rssMb(server.pid, 'VmHWM');
    rows.push({ name, idle, peak, above: peak - idle });
    server.child.kill();
  }
  upstream.child.kill();
  return rows;
}

// ---- 5. cross-border ----------------------------------------------------------------------------

/** Sequential request latencies in ms through one keep-alive connection, after `warm` unmeasured ones. */
async function sequential(url, count, warm, options = {}) {
  const client = url.startsWith('https:') ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: 1, ...options });
  const once = () =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      client.get(url, { agent }, (res) => res.on('data', () => {}).on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${url}: ${res.statusCode}`))))).on('error', reject);
    });
  for (let i = 0; i < warm; i++) await once();
  const times = [];
  for (let i = 0; i < count; i++) times.push(await once());
  agent.destroy();
  return stats(times);
}

const LOSS = 0.02;

async function crossBorder() {
  const upstream = await role('upstream', '--tls');
  const result = { rtt: 2 * S.hopMs };
  for (const [key, loss] of [['clean', 0], ['lossy', LOSS]]) {
    log(`cross-border${loss ? `, ${loss * 100}% loss` : ''}`);
    const hop = await role('delay-hop', String(upstream.port), String(S.hopMs), String(loss));
    const far = `https://127.0.0.1:${hop.port}`;
    const relay = await localServer(far, { NODE_EXTRA_CA_CERTS: CA });
    const fresh = await bare(far, '--fresh');
    result[key] = {
      relay: await sequential(`http://127.0.0.1:${relay.port}/get/api/small`, S.sequential, 2),
      fresh: await sequential(`http://127.0.0.1:${fresh.port}/get/api/small`, S.sequential, 1),
      // The floor: this process talking straight to the far upstream over a warm TLS connection.
      direct: await sequential(`${far}/api/small`, S.sequential, 2, { ca: readFileSync(CA) }),
    };
    [hop, relay, fresh].forEach((one) => one.child.kill());
  }
  upstream.child.kill();
  return result;
}

// ---- 6. where the time goes (full run) ------------------------------------------------------------

/** Which kind of work a profile frame is. */
function category(frame, relayFile) {
  const { functionName: name, url } = frame;
  if (name === '(idle)') return undefined;
  if (name === '(garbage collector)') return 'garbage collection';
  if (url === relayFile || url.endsWith('bare-forwarder.mjs')) return 'the proxy’s own code';
  if (!url) return /^write|^read/.test(name) ? 'socket reads and writes (system calls)' : 'V8 and native (other)';
  if (/_http_/.test(url)) return 'node:http (parsing, headers, agent)';
  if (/stream|net|node:net/.test(url)) return 'streams and sockets (JS side)';
  if (/async_hooks|abort_controller|event_target/.test(url)) return 'async hooks, AbortSignal';
  if (/events|task_queues|timers/.test(url)) return 'events, ticks, timers';
  return 'other Node internals';
}

const PROFILE_ROUNDS = quick ? 1 : 3;
const PROFILE_SECONDS = quick ? 1 : 5;

/**
 * CPU profiles of the local server under the small-GET load: its self time by kind of work, and its own
 * functions by source line (through the bundle's source map).
 */
async function whereTheTimeGoes() {
  log('profiles');
  const upstream = await role('upstream');
  const origin = `http://127.0.0.1:${upstream.port}`;
  const relayFile = path.join(ROOT, 'dist', 'server', 'index.js');
  const map = new SourceMap(JSON.parse(readFileSync(`${relayFile}.map`, 'utf8')));
  const profiles = { relay: { requests: 0, kinds: new Map(), own: new Map() } };
  // Only the relay: profiles of two processes taken apart are not comparable (the profiler's own cost
  // depends on how busy each is); the comparison with the bare forwarder is section 1's.
  for (const [name, script, args] of Array.from({ length: PROFILE_ROUNDS }, () => ['relay', relayFile, []])) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-profile-'));
    const server = await start(['--cpu-prof', `--cpu-prof-dir=${dir}`, script, ...args], { UPSTREAM_URL: origin, PORT: '0' }, name === 'bare' ? /listening (\d+)/ : /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const result = await load(`http://127.0.0.1:${server.port}/get/api/small`, SCENARIOS[0], 64, PROFILE_SECONDS);
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGINT');
    await exited;
    const file = readdirSync(dir).find((entry) => entry.endsWith('.cpuprofile'));
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const { kinds, own } = profiles[name];
    profiles[name].requests += result.requests;
    profile.samples.forEach((id, i) => {
      const frame = byId.get(id).callFrame;
      const kind = category(frame, pathToFileURL(relayFile).href);
      if (!kind) return;
      const us = profile.timeDeltas[i] ?? 0;
      kinds.set(kind, (kinds.get(kind) ?? 0) + us);
      if (name === 'relay' && kind === 'the proxy’s own code') {
        const entry = map.findEntry(frame.lineNumber, frame.columnNumber);
        const where = entry?.originalSource ? `${path.relative(ROOT, fileURLToPath(new URL(entry.originalSource, pathToFileURL(relayFile).href)))}:${entry.originalLine + 1}` : 'unmapped';
        own.set(where, (own.get(where) ?? 0) + us);
      }
    });
  }
  upstream.child.kill();
  return profiles;
}

// ---- the report ---------------------------------------------------------------------------------

const TARGETS = { throughput: 0.9, p99: 1.2, events: 0.9, memoryMb: 96 };

function report({ machine, took, serverResults, events, mem, cold, cross, profiles }) {
  const at = (connections) => serverResults.filter((result) => result.connections === connections);
  const relayRows = (connections) => at(connections).flatMap((result) => result.rows.filter((row) => row.relay).map((row) => ({ ...row, scenario: result.scenario })));
  const p99Rows = [...relayRows(32), ...relayRows(64)];
  const small = events.filter((row) => row.scenario === 'small JSON');
  const binary = events.filter((row) => row.scenario !== 'small JSON');
  const relayMem = mem.find((row) => row.name.startsWith('mp-relay'));
  const bundles = cold.filter((row) => row.extra);
  const goals = [
    ['1. servers: throughput ÷ bare forwarder, 64 connections', `≥ ${TARGETS.throughput}`, relayRows(64).map((row) => `${row.name.replace('mp-relay ', '')}, ${row.scenario}: ${f(row.throughputRatio.median, 2)}`).join('; '), relayRows(64).every((row) => row.throughputRatio.median >= TARGETS.throughput)],
    ['1. servers: p99 ÷ bare forwarder, 32 and 64 connections', `≤ ${TARGETS.p99}`, `${f(Math.min(...p99Rows.map((row) => row.p99Ratio.median)), 2)}–${f(Math.max(...p99Rows.map((row) => row.p99Ratio.median)), 2)}`, p99Rows.every((row) => row.p99Ratio.median <= TARGETS.p99)],
    ['2. event functions: calls/s ÷ minimal handler, small JSON', `≥ ${TARGETS.events}`, small.map((row) => `${row.platform}: ${f(row.ratio.median, 2)}`).join('; '), small.every((row) => row.ratio.median >= TARGETS.events)],
    ['2. event functions: base64 encodes and copies per 100 KB call', 'as the minimal handler', binary.map((row) => `${row.platform}: ${row.relayWork.base64} encode(s), ${row.relayWork.concat} copy (minimal: ${row.minimalWork.base64}, ${row.minimalWork.concat})`).join('; '), binary.every((row) => row.relayWork.base64 <= row.minimalWork.base64 && row.relayWork.base64Bytes <= row.minimalWork.base64Bytes && row.relayWork.concatBytes <= row.minimalWork.concatBytes)],
    ['3. memory: peak RSS above idle, 64 concurrent 3 MB downloads', `< ${TARGETS.memoryMb} MB`, `${f(relayMem.above)} MB`, relayMem.above < TARGETS.memoryMb],
    [`4. cold start: require() − Node's http + https + zlib`, `≤ +${REQUIRE_BUDGET_MS} ms, ≤ 40 KB`, bundles.map((row) => `${row.name.replace('dist/', '')} +${f(row.extra.median)} ms, ${(row.bytes / 1024).toFixed(1)} KB`).join('; '), bundles.every((row) => row.withinBudget)],
  ];

  const lines = [
    '# 性能基准 / Benchmarks',
    '',
    `Generated by \`${COMMAND}\` (scripts/bench/run.mjs) on ${machine}; the run took ${took} s. Every figure below is from that one run; rerun the command to check them on your machine. Loopback only: the figures compare the relay with baselines on the same machine, they are not what a cloud function will show.`,
    '',
    `Ratios are medians over ${S.rounds} rounds, each round measured next to its baseline (alternating), with the lowest and highest round in brackets. Load: ${WRK ? 'wrk (2 threads)' : 'scripts/bench/load.mjs (Node, keep-alive)'}, ${S.seconds} s per round. The relay runs with its default settings, logging on, its stdout drained through a pipe as a log collector would.`,
    '',
    '## 目标 / Goals (issue 14)',
    '',
    '| goal | target | measured | |',
    '|---|---|---|---|',
    ...goals.map(([goal, target, measured, ok]) => `| ${goal} | ${target} | ${measured} | ${verdict(ok)} |`),
    '',
    '## 1. 服务器模式 / Servers: local server and SCF web function',
    '',
    'Against the bare node:http forwarder in scripts/bench/bare-forwarder.mjs: the same keep-alive agent settings as the relay, the same path style, none of its checks, log or limits.',
    '',
  ];
  for (const result of serverResults) {
    lines.push(`### ${result.scenario}, ${result.connections} connections`, '', '| | req/s | ÷ bare (per round) | p99 ms | p99 ÷ bare | CPU ms/req |', '|---|---:|---:|---:|---:|---:|');
    for (const row of result.rows) {
      lines.push(`| ${row.name} | ${spread(row.rps, 0)} | ${spread(row.throughputRatio, 2)} | ${spread(row.p99, 2)} | ${spread(row.p99Ratio, 2)} | ${spread(row.cpu, 3)} |`);
    }
    lines.push('');
  }
  lines.push('## 2. 事件函数 / Event functions', '', `The built bundle (dist/get, dist/getDownImg) invoked in one process (scripts/bench/invoke.mjs) with each platform's documented event (test/fixtures/events; FC 2.0's \`(req, resp)\` call built as the tests build it), one call at a time, ${S.invokeCalls} calls per round, against the hand-written handler of scripts/bench/minimal-handlers.mjs doing the same forward (no checks, no log). The relay writes its log line per call, as deployed; the RELAY_LOG=0 column is the same bundle without it.`, '');
  lines.push('| platform | response | relay calls/s | minimal calls/s | ÷ minimal | ÷ minimal, RELAY_LOG=0 | relay CPU ms/call | minimal CPU ms/call | base64 encodes (bytes) relay / minimal | Buffer.concat (bytes) relay / minimal |', '|---|---|---:|---:|---:|---:|---:|---:|---|---|');
  for (const row of events) {
    lines.push(`| ${row.platform} | ${row.scenario} | ${spread(row.relayRate, 0)} | ${spread(row.minimalRate, 0)} | ${spread(row.ratio, 2)} | ${spread(row.quietRatio, 2)} | ${f(row.relayCpu.median, 3)} | ${f(row.minimalCpu.median, 3)} | ${row.relayWork.base64} (${row.relayWork.base64Bytes}) / ${row.minimalWork.base64} (${row.minimalWork.base64Bytes}) | ${row.relayWork.concat} (${row.relayWork.concatBytes}) / ${row.minimalWork.concat} (${row.minimalWork.concatBytes}) |`);
  }
  lines.push('', 'FC 2.0 sends bytes through `resp.send`, so it needs no base64; the others must return binary as base64, once.', '');
  lines.push('## 3. 内存 / Memory', '', `64 concurrent downloads of a 3 MB image, ${S.downloads} time(s) over, each body checked for its length. Above 256 KiB the servers stream a body instead of holding it (docs: README, "Large responses").`, '');
  lines.push('| | RSS idle MB | peak RSS MB | peak above idle MB |', '|---|---:|---:|---:|');
  for (const row of mem) lines.push(`| ${row.name} | ${f(row.idle)} | ${f(row.peak)} | ${f(row.above)} |`);
  lines.push('', '## 4. 冷启动 / Cold start', '', `Each file in a fresh \`node\` process, ${S.coldRuns} runs after 2 warm-up runs, the files taking turns within each run (scripts/bench-cold.mjs, also \`npm run bench:cold\`). Budgets: ${SIZE_BUDGET / 1024} KB per bundle; require() at most ${REQUIRE_BUDGET_MS} ms more than Node's own http + https + zlib, loaded from a file the same way.`, '', coldStartTable(cold), '');
  const extra = cross.clean.relay.median - cross.rtt;
  lines.push('## 5. 跨境：复用连接 vs 每次新建 / Cross-border: a warm connection against a new one each time', '', `A TLS upstream behind a TCP hop adding ${S.hopMs} ms each way (one round trip = ${cross.rtt} ms); ${S.sequential} sequential requests after a warm-up. The lossy hop treats ${LOSS * 100}% of the chunks it relays as lost (seeded, the same ones every run): each arrives a retransmission timeout late and holds back what follows, as TCP does.`, '');
  lines.push('| | link | ms per request, median (min–max) | round trips (median) |', '|---|---|---:|---:|');
  for (const [key, link] of [['clean', 'delay only'], ['lossy', `delay + ${LOSS * 100}% loss`]]) {
    lines.push(`| the far upstream directly, warm TLS connection (the floor) | ${link} | ${spread(cross[key].direct)} | ${f(cross[key].direct.median / cross.rtt, 2)} |`);
    lines.push(`| mp-relay, warm keep-alive connection | ${link} | ${spread(cross[key].relay)} | ${f(cross[key].relay.median / cross.rtt, 2)} |`);
    lines.push(`| new connection per request (what the PHP proxy did; bare forwarder --fresh) | ${link} | ${spread(cross[key].fresh)} | ${f(cross[key].fresh.median / cross.rtt, 2)} |`);
  }
  lines.push('', `Without loss a warm relay request takes one round trip + ${f(extra)} ms; a new connection per request takes ${f(cross.clean.fresh.median / cross.rtt, 1)} round trips, ${f(cross.clean.fresh.median / cross.clean.relay.median, 1)}x as long. With loss the warm relay takes ${f(cross.lossy.relay.median / cross.rtt, 1)} round trips (median), a new connection ${f(cross.lossy.fresh.median / cross.rtt, 1)}.`, '');
  if (profiles) {
    const { relay } = profiles;
    const total = [...relay.kinds.values()].reduce((sum, us) => sum + us, 0);
    const kinds = [...relay.kinds].sort((a, b) => b[1] - a[1]);
    lines.push('## 6. 时间花在哪里 / Where the time goes', '', `CPU profiles (\`node --cpu-prof\`) of the local server under the small-GET load at 64 connections, ${PROFILE_ROUNDS} run(s) of ${PROFILE_SECONDS} s, summed: the relay's busy time by kind of work (each profile covers its process from start; the profiler adds its own cost, so read the shares). How much more that is than a bare forwarder is section 1's ratio.`, '');
    lines.push('| kind of work | µs/req | share |', '|---|---:|---:|');
    for (const [kind, us] of kinds) lines.push(`| ${kind} | ${f(us / relay.requests)} | ${f((us / total) * 100)}% |`);
    lines.push(`| **all** | **${f(total / relay.requests)}** | 100% |`, '');
    lines.push('The relay’s own code by function (where it starts in the source, through the bundle’s source map; V8 counts inlined callees in their caller), the 15 largest:', '', '| function at | µs/req | share of all |', '|---|---:|---:|');
    for (const [where, us] of [...relay.own].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`| ${where} | ${f(us / relay.requests, 2)} | ${f((us / total) * 100)}% |`);
    lines.push('');
  }
  return { markdown: lines.join('\n'), goals, headline: { serverResults, small, relayMem, bundles, cross } };
}

function chart(serverResults, events) {
  const groups = [
    ...serverResults.filter((result) => result.connections === 64).map((result) => ({ label: result.scenario, bars: result.rows.filter((row) => row.relay).map((row) => [row.name.replace('mp-relay ', ''), row.throughputRatio.median]) })),
    ...['small JSON', '100 KB binary'].map((scenario) => ({ label: `events: ${scenario}`, bars: events.filter((row) => row.scenario === scenario).map((row) => [row.platform, row.ratio.median]) })),
  ];
  const colors = ['#1e88e5', '#43a047', '#fb8c00', '#8e24aa'];
  const barWidth = 22;
  const groupWidth = (group) => group.bars.length * (barWidth + 4) + 30;
  const width = 70 + groups.reduce((sum, group) => sum + groupWidth(group), 0);
  const base = 230;
  const scale = (ratio) => Math.max(0, Math.min(1.2, ratio)) * 160;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="300" font-family="sans-serif" font-size="10">`,
    `<text x="10" y="16" font-size="12">Relay ÷ its baseline (bare forwarder for servers, minimal handler for events); higher is better / 与基线之比</text>`,
    ...[0, 0.5, 0.9, 1].map((tick) => `<text x="22" y="${base - scale(tick) + 4}">${tick.toFixed(1)}</text><line x1="48" y1="${base - scale(tick)}" x2="${width - 10}" y2="${base - scale(tick)}" stroke="${tick === 0.9 ? '#e53935' : '#ddd'}"${tick === 0.9 ? ' stroke-dasharray="4 3"' : ''}/>`),
  ];
  let x = 60;
  for (const group of groups) {
    group.bars.forEach(([name, ratio], i) => {
      const h = scale(ratio);
      parts.push(`<rect x="${x + i * (barWidth + 4)}" y="${base - h}" width="${barWidth}" height="${h}" fill="${colors[i % colors.length]}"><title>${name}: ${f(ratio, 2)}</title></rect>`);
      parts.push(`<text x="${x + i * (barWidth + 4) + barWidth / 2}" y="${base - h - 3}" text-anchor="middle">${f(ratio, 2)}</text>`);
      parts.push(`<text transform="translate(${x + i * (barWidth + 4) + barWidth / 2},${base + 8}) rotate(40)" font-size="8">${name}</text>`);
    });
    parts.push(`<text x="${x}" y="292" font-size="9">${group.label}</text>`);
    x += groupWidth(group);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

const started = Date.now();
if (!existsSync(path.join(ROOT, 'dist', 'server', 'index.js'))) throw new Error('run npm run build first');
const cpu = os.cpus();
const machine = `${cpu.length} × ${cpu[0]?.model?.trim() ?? 'cpu'}, ${os.platform()} ${os.release()}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
const serverResults = await servers();
const events = await eventFunctions();
const mem = await memory();
log('cold start');
const cold = await coldStart({ runs: S.coldRuns, distDir: path.join(ROOT, 'dist') });
const cross = await crossBorder();
// Full run, or --quick --profile.
const profiles = quick && !process.argv.includes('--profile') ? undefined : await whereTheTimeGoes();
const took = Math.round((Date.now() - started) / 1000);
const out = report({ machine, took, serverResults, events, mem, cold, cross, profiles });
mkdirSync(OUT, { recursive: true });
writeFileSync(path.join(OUT, 'benchmarks.md'), `${out.markdown}\n`);
writeFileSync(path.join(OUT, 'benchmarks.svg'), chart(serverResults, events));
process.stdout.write(`${out.markdown}\n`);

if (!quick && outIndex === -1) {
  // README quotes the goals' lines of this same run between these markers.
  const readmePath = path.join(ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const headline = [
    '<!-- bench:headline -->',
    `_\`npm run bench\`, ${machine}; details and every other figure in [docs/benchmarks.md](docs/benchmarks.md)._`,
    '',
    '| goal | target | measured | |',
    '|---|---|---|---|',
    ...out.goals.map(([goal, target, measured, ok]) => `| ${goal} | ${target} | ${measured} | ${verdict(ok)} |`),
    '<!-- /bench:headline -->',
  ].join('\n');
  writeFileSync(readmePath, readme.replace(/<!-- bench:headline -->[\s\S]*?<!-- \/bench:headline -->/, headline));
}
log(`wrote ${path.join(OUT, 'benchmarks.md')} in ${took} s`);
process.exit(0);
