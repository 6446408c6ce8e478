import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { AGENT_OPTIONS } from '../functions/core/forward';
import { startUpstream, type Upstream } from './helpers/servers';

// `npm run bench` is a benchmark, not a test: nothing here asserts a timing. This runs its quick
// variant end to end (its numbers mean little) and checks that the baselines it compares against are
// fair: the same agent settings, no leaked sockets, the same answers as the relay.

const ROOT = path.join(__dirname, '..');
const BENCH = path.join(ROOT, 'scripts', 'bench');

test('npm run bench -- --quick runs end to end and writes the goals, all five sections and the chart', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-bench-'));
  const run = spawnSync(process.execPath, [path.join(BENCH, 'run.mjs'), '--quick', '--out', out], { encoding: 'utf8', timeout: 150_000 });
  expect(run.stderr).toContain('wrote');
  expect(run.status).toBe(0);
  const report = readFileSync(path.join(out, 'benchmarks.md'), 'utf8');
  // What it printed is what it wrote.
  expect(run.stdout.trim()).toBe(report.trim());
  expect(report).toContain('`npm run bench -- --quick`');
  expect(report).toMatch(/Node v\d+/);
  for (const heading of ['## 目标 / Goals', '## 1. ', '## 2. ', '## 3. ', '## 4. ', '## 5. ']) expect(report).toContain(heading);
  expect(report).toMatch(/\| mp-relay local server \| \d+/);
  expect(report).toMatch(/\| mp-relay SCF web function \| \d+/);
  for (const platform of ['Aliyun FC 3.0', 'Aliyun FC 2.0', 'Tencent SCF', 'AWS Lambda']) expect(report).toContain(`| ${platform}`);
  expect(report).toMatch(/\| dist\/getDownImg \| \d+/);
  expect(readFileSync(path.join(out, 'benchmarks.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
}, 180_000);

describe('the bare forwarder the servers are compared with', () => {
  test('uses the relay’s keep-alive agent settings', () => {
    const read = `import(${JSON.stringify(path.join(BENCH, 'bare-forwarder.mjs'))}).then((m) => console.log(JSON.stringify(m.BARE_AGENT_OPTIONS)))`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', read], { encoding: 'utf8' });
    expect(JSON.parse(run.stdout)).toEqual(AGENT_OPTIONS);
  });

  test('a client that goes away mid-download takes the upstream request with it (no socket left behind)', async () => {
    let upstreamClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const upstream: Upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(Buffer.alloc(64 * 1024));
      // Never ends: only the client leaving can end this request.
      req.socket.on('close', upstreamClosed);
    });
    const forwarder = spawn(process.execPath, [path.join(BENCH, 'bare-forwarder.mjs'), upstream.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(forwarder.stdout!, 'data')) as [Buffer];
      const port = Number(/listening (\d+)/.exec(String(line))![1]);
      const request = http.get(`http://127.0.0.1:${port}/getDownImg/big.png`, { agent: false });
      const [response] = (await once(request, 'response')) as [http.IncomingMessage];
      await once(response, 'data');
      request.destroy();
      await closed;
    } finally {
      forwarder.kill();
      await upstream.close();
    }
  });
});

test('the minimal event handlers answer as the relay bundles do (same status and body), so the comparison is of the same forward', async () => {
  const upstream = await startUpstream((req, res) => {
    if (req.url?.startsWith('/img/')) return void res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0, 1, 2, 250, 255]));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url }));
  });
  try {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'mp-relay-invoke-')), 'result.json');
    // Not spawnSync: the upstream answers from this process.
    const child = spawn(process.execPath, [path.join(BENCH, 'invoke.mjs'), path.join(ROOT, 'dist'), upstream.url, '1', '3', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const [code] = (await once(child, 'exit')) as [number];
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const rows = JSON.parse(readFileSync(out, 'utf8')) as { platform: string; scenario: string; answers: { relay: string; minimal: string } }[];
    expect(rows).toHaveLength(8);
    for (const row of rows) expect([row.platform, row.scenario, row.answers.relay]).toEqual([row.platform, row.scenario, row.answers.minimal]);
  } finally {
    await upstream.close();
  }
});
