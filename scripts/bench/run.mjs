// `npm run bench`: how fast the relay is, side by side with what users would use instead, on loopback
// only and bounded in time. Writes docs/benchmarks.md (tables) and docs/benchmarks.svg (a chart), and
// refreshes the headline in README.md. `--smoke` runs a tiny version (seconds) into --out <dir>, which
// CI uses to keep this script working; its numbers mean nothing.
//
// Every proxy runs in its own process so its CPU can be read from /proc (Linux). Load comes from wrk
// when installed, else from scripts/bench/load.mjs. nginx is measured when installed.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { coldStart, coldStartTable } from '../bench-cold.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..', '..');
const smoke = process.argv.includes('--smoke');
const outIndex = process.argv.indexOf('--out');
const OUT = outIndex === -1 ? path.join(ROOT, 'docs') : path.resolve(process.argv[outIndex + 1]);
const CA = path.join(ROOT, 'test', 'fixtures', 'tls', 'cert.pem');

const S = smoke
  ? { runs: 1, seconds: 0.15, warm: 0.05, concurrency: 8, invocations: 100, hopMs: 5, sequential: 2, coldRuns: 1, images: 2 }
  : { runs: 3, seconds: 2, warm: 1, concurrency: 64, invocations: 3000, hopMs: 80, sequential: 10, coldRuns: 10, images: 100 };

const children = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
const log = (line) => process.stderr.write(`${line}\n`);

// ---- processes ----------------------------------------------------------------------------------

function start(command, args, env, pattern) {
  const child = spawn(command, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = pattern.exec(output);
      if (match) resolve({ port: Number(match[1]), pid: child.pid, child });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${output}`)));
  });
}
const role = (...args) => start(process.execPath, [path.join(HERE, 'roles.mjs'), ...args], {}, /listening (\d+)/);
const relayServer = (upstream, env = {}) =>
  start(process.execPath, [path.join(ROOT, 'dist', 'server', 'index.js')], { UPSTREAM_URL: upstream, PORT: '0', RELAY_LOG: '0', ...env }, /listening on http:\/\/127\.0\.0\.1:(\d+)/);

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const has = (command, ...args) => spawnSync(command, args, { encoding: 'utf8' }).status === 0;

async function nginxProxy(upstreamPort) {
  if (!has('nginx', '-v')) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-nginx-'));
  const port = await freePort();
  // One process (no master), keep-alive to the upstream, the relay's path style.
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
    if (await new Promise((resolve) => net.connect(port, '127.0.0.1').on('connect', function () { this.destroy(); resolve(true); }).on('error', () => resolve(false)))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { port, pid: child.pid, child };
}

// ---- measuring ----------------------------------------------------------------------------------

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
/** CPU ms used so far by a process (user + system), from /proc. */
function cpuMs(pid) {
  if (!pid) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
  } catch {
    return NaN;
  }
}

// wrk counts whole seconds only; the smoke run uses the Node generator for its fractions of a second.
const WRK = !smoke && /wrk/.test(spawnSync('wrk', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const wrkScripts = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-wrk-'));

function parseDuration(text) {
  const match = /([\d.]+)(us|ms|s)/.exec(text);
  if (!match) return NaN;
  return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2]];
}

/** Closed-loop load for `seconds`: {rps, p50, p99, requests}. */
function load(url, method, body, seconds) {
  if (WRK) {
    const args = ['-t2', `-c${S.concurrency}`, `-d${seconds}s`, '--latency', url];
    if (method === 'POST') {
      const script = path.join(wrkScripts, 'post.lua');
      writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`);
      args.unshift('-s', script);
    }
    const run = spawnSync('wrk', args, { encoding: 'utf8' });
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1]);
    // The "Latency Distribution" lines; anchored, since the Thread Stats table also ends in "NN.50%".
    const p50 = parseDuration(/^\s+50%\s+(\S+)/m.exec(run.stdout)?.[1] ?? '');
    const p99 = parseDuration(/^\s+99%\s+(\S+)/m.exec(run.stdout)?.[1] ?? '');
    const requests = Number(/(\d+) requests in/.exec(run.stdout)?.[1]);
    const errors = /Non-2xx or 3xx responses: (\d+)/.exec(run.stdout);
    if (errors) throw new Error(`${url}: ${errors[1]} failed responses`);
    return { rps, p50, p99, requests };
  }
  const run = spawnSync(process.execPath, [path.join(HERE, 'load.mjs'), url, method, body ?? '-', String(S.concurrency), String(seconds)], { encoding: 'utf8' });
  const result = JSON.parse(run.stdout);
  if (result.errors) throw new Error(`${url}: ${result.errors} failed responses`);
  return result;
}

const stats = (values) => {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
};
const f = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const range = (s, digits = 1) => `${f(s.median, digits)} (${f(s.min, digits)}–${f(s.max, digits)})`;

/** Sequential request latencies in ms through a keep-alive client (after `warm` unmeasured ones). */
async function sequential(url, count, warm) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const once = () =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      http.get(url, { agent }, (res) => res.on('data', () => {}).on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${url}: ${res.statusCode}`))))).on('error', reject);
    });
  for (let i = 0; i < warm; i++) await once();
  const times = [];
  for (let i = 0; i < count; i++) times.push(await once());
  agent.destroy();
  return stats(times);
}

async function sequentialTls(url, count, warm) {
  const https = await import('node:https');
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(CA) });
  const once = () =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      https.get(url, { agent }, (res) => res.on('data', () => {}).on('end', () => resolve(performance.now() - started))).on('error', reject);
    });
  for (let i = 0; i < warm; i++) await once();
  const times = [];
  for (let i = 0; i < count; i++) times.push(await once());
  agent.destroy();
  return stats(times);
}

// ---- the sections -------------------------------------------------------------------------------

async function throughput() {
  const upstream = await role('upstream');
  const up = `http://127.0.0.1:${upstream.port}`;
  const relay = await relayServer(up);
  const node = await role('forward-node', up);
  const got = await role('forward-got', up);
  const nginx = await nginxProxy(upstream.port);
  const targets = [
    { name: 'direct (no proxy)', port: upstream.port, direct: true },
    { name: 'mp-relay (local server)', ...relay },
    { name: 'bare node:http forwarder', ...node },
    { name: 'got forwarder', ...got },
    ...(nginx ? [{ name: 'nginx proxy_pass', ...nginx }] : []),
  ];
  const scenarios = [
    { name: 'small JSON GET', method: 'GET', direct: '/api/small', proxied: '/get/api/small' },
    { name: 'JSON POST', method: 'POST', direct: '/api/echo', proxied: '/post/api/echo', body: JSON.stringify({ name: '小程序', items: [1, 2, 3], note: 'x'.repeat(120) }) },
    { name: '100 KB image', method: 'GET', direct: '/img/100k', proxied: '/getDownImg/img/100k' },
  ];
  const results = [];
  for (const scenario of scenarios) {
    log(`throughput: ${scenario.name}`);
    const perTarget = new Map(targets.map((target) => [target.name, { rps: [], p50: [], p99: [], cpu: [] }]));
    for (const target of targets) load(`http://127.0.0.1:${target.port}${target.direct ? scenario.direct : scenario.proxied}`, scenario.method, scenario.body, S.warm);
    for (let run = 0; run < S.runs; run++) {
      for (const target of targets) {
        const before = cpuMs(target.pid);
        const result = load(`http://127.0.0.1:${target.port}${target.direct ? scenario.direct : scenario.proxied}`, scenario.method, scenario.body, S.seconds);
        const cpu = target.direct ? NaN : (cpuMs(target.pid) - before) / result.requests;
        const bucket = perTarget.get(target.name);
        bucket.rps.push(result.rps);
        bucket.p50.push(result.p50);
        bucket.p99.push(result.p99);
        bucket.cpu.push(cpu);
      }
    }
    results.push({ scenario: scenario.name, rows: targets.map((target) => ({ name: target.name, ...Object.fromEntries(Object.entries(perTarget.get(target.name)).map(([key, values]) => [key, stats(values)])) })) });
  }
  [relay, node, got, nginx, upstream].forEach((process) => process?.child.kill());
  return { results, nginx: Boolean(nginx) };
}

async function invocationOverhead() {
  log('event handler overhead');
  const upstream = await role('upstream');
  const runs = [];
  for (let run = 0; run < S.runs; run++) {
    const result = spawnSync(process.execPath, [path.join(HERE, 'invoke.mjs'), path.join(ROOT, 'dist', 'get', 'index.js'), String(S.invocations)], {
      env: { PATH: process.env.PATH, UPSTREAM_URL: `http://127.0.0.1:${upstream.port}`, RELAY_LOG: '0' },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(result.stderr);
    runs.push(JSON.parse(result.stdout));
  }
  upstream.child.kill();
  return {
    handler: stats(runs.map((run) => run.handlerCpuMs)),
    direct: stats(runs.map((run) => run.directCpuMs)),
    overhead: stats(runs.map((run) => run.handlerCpuMs - run.directCpuMs)),
  };
}

async function crossBorder() {
  log('cross-border latency');
  const upstream = await role('upstream', '--tls');
  const hop = await role('delay-hop', String(upstream.port), String(S.hopMs));
  const far = `https://127.0.0.1:${hop.port}`;
  const relay = await relayServer(far, { NODE_EXTRA_CA_CERTS: CA });
  const fresh = await role('forward-fresh', far);
  const relayTimes = await sequential(`http://127.0.0.1:${relay.port}/get/api/small`, S.sequential, 2);
  const freshTimes = await sequential(`http://127.0.0.1:${fresh.port}/get/api/small`, S.sequential, 1);
  // The floor: this process talking straight to the far upstream over a warm TLS connection.
  const directTimes = await sequentialTls(`${far}/api/small`, S.sequential, 2);
  [upstream, hop, relay, fresh].forEach((process) => process.child.kill());
  return { rtt: 2 * S.hopMs, relay: relayTimes, fresh: freshTimes, direct: directTimes };
}

async function memory() {
  log('memory');
  const upstream = await role('upstream');
  const relay = await relayServer(`http://127.0.0.1:${upstream.port}`);
  const status = () => readFileSync(`/proc/${relay.pid}/status`, 'utf8');
  const kb = (text, key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(text)?.[1]) / 1024;
  const before = kb(status(), 'VmRSS');
  await sequential(`http://127.0.0.1:${relay.port}/getDownImg/img/5m`, S.images, 0);
  const after = status();
  const result = { before, peak: kb(after, 'VmHWM'), after: kb(after, 'VmRSS') };
  [upstream, relay].forEach((process) => process.child.kill());
  return result;
}

// ---- the report ---------------------------------------------------------------------------------

function chart(results) {
  const colors = ['#9e9e9e', '#1e88e5', '#43a047', '#fb8c00', '#8e24aa'];
  const names = results[0].rows.map((row) => row.name);
  const groupWidth = 40 + names.length * 34;
  const width = 80 + results.length * groupWidth;
  const height = 300;
  const top = 30;
  const base = 230;
  const scale = (ratio) => Math.max(0, Math.min(1.2, ratio)) * 160;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 20 * names.length}" font-family="sans-serif" font-size="11">`,
    `<text x="10" y="18" font-size="13">Throughput as a ratio to direct (higher is better) / 吞吐量与直连之比</text>`,
    `<line x1="60" y1="${base}" x2="${width - 10}" y2="${base}" stroke="#333"/>`,
    ...[0, 0.5, 1].map((tick) => `<text x="30" y="${base - scale(tick) + 4}">${tick.toFixed(1)}</text><line x1="55" y1="${base - scale(tick)}" x2="${width - 10}" y2="${base - scale(tick)}" stroke="#ddd"/>`),
  ];
  results.forEach((result, group) => {
    const direct = result.rows[0].rps.median;
    const x0 = 70 + group * groupWidth;
    result.rows.forEach((row, i) => {
      const ratio = row.rps.median / direct;
      const h = scale(ratio);
      parts.push(`<rect x="${x0 + i * 34}" y="${base - h}" width="28" height="${h}" fill="${colors[i % colors.length]}"/>`);
      parts.push(`<text x="${x0 + i * 34 + 14}" y="${base - h - 4}" text-anchor="middle">${f(ratio, 2)}</text>`);
    });
    parts.push(`<text x="${x0 + (names.length * 34) / 2}" y="${base + 18}" text-anchor="middle">${result.scenario}</text>`);
  });
  names.forEach((name, i) => {
    parts.push(`<rect x="70" y="${height - 30 + i * 20}" width="12" height="12" fill="${colors[i % colors.length]}"/><text x="88" y="${height - 20 + i * 20}">${name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function report({ machine, throughputResult, invoke, cross, cold, mem }) {
  const lines = [];
  const { results, nginx } = throughputResult;
  lines.push('# 性能基准 / Benchmarks', '');
  lines.push(`由 \`npm run bench\` 生成 / generated by \`npm run bench\` on ${machine}.`, '');
  lines.push(`Each figure: ${S.runs} runs after a warm-up, median (min–max). Load: ${WRK ? `wrk, ${S.concurrency} connections` : `scripts/bench/load.mjs, ${S.concurrency} connections`}, ${S.seconds} s per run. All on loopback; every process shares the same cores, load generator included.`, '');
  lines.push('![throughput ratio to direct](benchmarks.svg)', '');

  lines.push('## 1. 吞吐量与延迟 / Throughput and latency', '');
  if (!nginx) lines.push('_nginx is not installed here, so its row is missing (`apt-get install nginx` adds it)._', '');
  for (const result of results) {
    const direct = result.rows[0].rps.median;
    const node = result.rows.find((row) => row.name.startsWith('bare')).rps.median;
    lines.push(`### ${result.scenario}`, '', '| path | req/s | × direct | × bare node:http | p50 ms | p99 ms | proxy CPU ms/req |', '|---|---:|---:|---:|---:|---:|---:|');
    for (const row of result.rows) {
      lines.push(`| ${row.name} | ${range(row.rps, 0)} | ${f(row.rps.median / direct, 2)} | ${f(row.rps.median / node, 2)} | ${range(row.p50, 2)} | ${range(row.p99, 2)} | ${row.cpu.median ? range(row.cpu, 3) : '–'} |`);
    }
    lines.push('');
  }
  const relayVsNode = results.map((result) => result.rows[1].rps.median / result.rows.find((row) => row.name.startsWith('bare')).rps.median);
  lines.push(`Target: the relay at least 0.9x the bare node:http forwarder. Measured: ${relayVsNode.map((ratio, i) => `${results[i].scenario} ${f(ratio, 2)}x`).join(', ')} — ${relayVsNode.every((ratio) => ratio >= 0.9) ? '**met**' : '**missed** where below 0.9x (see the issue note)'}.`, '');

  lines.push('## 2. 事件函数每次调用的开销 / Per-invocation overhead of the event handler', '');
  lines.push('An FC 3.0 event in, the result object out, against a loopback upstream, minus the same request made directly (CPU ms per call, one process).', '');
  lines.push('| | CPU ms per call |', '|---|---:|', `| handler (dist/get, FC 3.0 event) | ${range(invoke.handler, 3)} |`, `| direct request | ${range(invoke.direct, 3)} |`, `| **overhead** | **${range(invoke.overhead, 3)}** |`, '');
  lines.push(`Target: under 0.3 ms. ${invoke.overhead.median < 0.3 ? '**Met.**' : '**Missed** (see the issue note).'}`, '');

  lines.push('## 3. 跨境：复用连接 vs 每次新建 / Cross-border: a warm connection vs a new one each time', '');
  lines.push(`A TLS upstream behind a TCP hop adding ${S.hopMs} ms each way (one round trip = ${cross.rtt} ms). Sequential requests after a warm-up.`, '');
  lines.push('| | ms per request | round trips |', '|---|---:|---:|');
  lines.push(`| the far upstream directly, warm TLS connection (the floor) | ${range(cross.direct)} | ${f(cross.direct.median / cross.rtt, 2)} |`);
  lines.push(`| mp-relay, warm keep-alive connection | ${range(cross.relay)} | ${f(cross.relay.median / cross.rtt, 2)} |`);
  lines.push(`| new connection per request (what the PHP proxy did) | ${range(cross.fresh)} | ${f(cross.fresh.median / cross.rtt, 2)} |`, '');
  const extra = cross.relay.median - cross.rtt;
  lines.push(`Warm relay request = one round trip + ${f(extra)} ms (target: under 5 ms, ${extra < 5 ? '**met**' : '**missed**'}), of which ${f(cross.direct.median - cross.rtt)} ms the hop's own timers and TLS cost a direct client too; a new connection costs ${f(cross.fresh.median / cross.rtt, 1)} round trips; the relay is **${f(cross.fresh.median / cross.relay.median, 1)}x** faster.`, '');

  lines.push('## 4. 冷启动 / Cold start', '');
  lines.push('Each bundle in a fresh `node` process: size, time from process start to loaded ("ready", what a runtime waits for), time inside `require`, and time to the first relayed response. Budgets: 40 KB, ready ≤ 1.5x the empty bundle.', '');
  lines.push(coldStartTable(cold), '');

  lines.push('## 5. 内存 / Memory', '');
  lines.push(`The local server relaying a 5 MB image ${S.images} times in a row (responses are buffered whole, so a truncated body becomes a clean 502).`, '');
  lines.push('| RSS before | peak RSS | RSS after |', '|---:|---:|---:|', `| ${f(mem.before)} MB | ${f(mem.peak)} MB | ${f(mem.after)} MB |`, '');
  return { markdown: lines.join('\n'), relayVsNode, extra, cross, invoke, results };
}

const started = Date.now();
if (!existsSync(path.join(ROOT, 'dist', 'server', 'index.js'))) throw new Error('run npm run build first');
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model?.trim() ?? 'cpu'}, ${os.platform()} ${os.release()}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
const throughputResult = await throughput();
const invoke = await invocationOverhead();
const cross = await crossBorder();
log('cold start');
const cold = await coldStart({ runs: S.coldRuns, distDir: path.join(ROOT, 'dist') });
const mem = await memory();
const out = report({ machine, throughputResult, invoke, cross, cold, mem });
mkdirSync(OUT, { recursive: true });
writeFileSync(path.join(OUT, 'benchmarks.md'), `${out.markdown}\n_${smoke ? 'Smoke run: numbers are meaningless.' : `Took ${Math.round((Date.now() - started) / 1000)} s.`}_\n`);
writeFileSync(path.join(OUT, 'benchmarks.svg'), chart(throughputResult.results));

if (!smoke) {
  // The README quotes the headline figures between these markers.
  const readmePath = path.join(ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const small = out.results[0];
  const direct = small.rows[0].rps.median;
  const headline = [
    '<!-- bench:headline -->',
    `- 小 JSON GET：中转 ${f(small.rows[1].rps.median / direct, 2)}x 直连吞吐，为裸 node:http 转发器的 ${f(out.relayVsNode[0], 2)}x；每请求中转进程 CPU ${f(small.rows[1].cpu.median, 3)} ms。 *Small JSON GET: ${f(small.rows[1].rps.median / direct, 2)}x direct, ${f(out.relayVsNode[0], 2)}x the bare node:http forwarder.*`,
    `- 跨境（每程 ${S.hopMs} ms）：热连接比每次新建连接快 ${f(out.cross.fresh.median / out.cross.relay.median, 1)} 倍（一个往返 + ${f(out.extra)} ms）。 *Cross-border: a warm request is ${f(out.cross.fresh.median / out.cross.relay.median, 1)}x faster than a new connection each time.*`,
    `- 事件函数每次调用开销 ${f(out.invoke.overhead.median, 3)} ms CPU。 *Event handler overhead: ${f(out.invoke.overhead.median, 3)} ms CPU per invocation.*`,
    '<!-- /bench:headline -->',
  ].join('\n');
  writeFileSync(readmePath, readme.replace(/<!-- bench:headline -->[\s\S]*?<!-- \/bench:headline -->/, headline));
}
log(`wrote ${path.join(OUT, 'benchmarks.md')} in ${Math.round((Date.now() - started) / 1000)} s`);
process.exit(0);
