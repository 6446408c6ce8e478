import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// `npm run bench` is a benchmark, not a test: this only runs its smoke-sized version (a few seconds,
// numbers meaningless) so the script keeps working, and checks the report has its five sections.

test('the benchmark script runs end to end and writes all five sections and the chart', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-bench-'));
  const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'bench', 'run.mjs'), '--smoke', '--out', out], { encoding: 'utf8', timeout: 90_000 });
  expect(run.status).toBe(0);
  const report = readFileSync(path.join(out, 'benchmarks.md'), 'utf8');
  for (const heading of ['## 1. ', '## 2. ', '## 3. ', '## 4. ', '## 5. ']) expect(report).toContain(heading);
  expect(report).toMatch(/\| mp-relay \(local server\) \| \d+/);
  expect(report).toMatch(/\| \*\*overhead\*\* \| \*\*-?\d/);
  expect(readFileSync(path.join(out, 'benchmarks.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
}, 120_000);
