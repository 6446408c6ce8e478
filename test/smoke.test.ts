import { spawn } from 'node:child_process';
import { built, startListening } from './helpers/processes';

// `npm run smoke` against a real local relay: the demo backend passes every probe; a relay whose
// backend is down fails them with the relay's own error named, and the exit code says so.

function smoke(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [built('tools', 'smoke.mjs'), ...args], { env: { PATH: process.env.PATH ?? '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const startRelay = (env: Record<string, string>) => startListening(process.execPath, [built('server', 'index.js')], { PORT: '0', RELAY_LOG: '0', ...env });

test('every probe passes against the relay with its demo backend', async () => {
  const relay = await startRelay({});
  try {
    const run = await smoke([relay.base]);
    expect(run.code).toBe(0);
    const rows = run.stdout.split('\n').filter((line) => /^(PASS|FAIL) /.test(line));
    expect(rows.map((row) => row.split(/\s{2,}/).slice(0, 2))).toEqual([
      ['PASS', 'get'],
      ['PASS', 'post'],
      ['PASS', 'put'],
      ['PASS', 'getDownImg'],
      ['PASS', 'delete'],
      ['PASS', 'bad path'],
    ]);
    expect(run.stdout).toMatch(/getDownImg .* \d+ bytes, image\/png/);
    expect(run.stdout).toContain('all 6 probes passed');
  } finally {
    await relay.stop();
  }
});

test('a relay whose backend is down fails the probes, naming the relay error, and exits 1', async () => {
  const relay = await startRelay({ UPSTREAM_URL: 'http://127.0.0.1:9', RELAY_TIMEOUT_MS: '2000' });
  try {
    const run = await smoke([relay.base]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAIL +get .*relay error UPSTREAM_UNREACHABLE/m);
    // The bad-path probe is answered by the relay itself, backend or not.
    expect(run.stdout).toMatch(/^PASS +bad path/m);
    expect(run.stdout).toContain('5 of 6 probes failed');
  } finally {
    await relay.stop();
  }
});

test('without a URL it prints its usage', async () => {
  const run = await smoke([]);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/^usage: npm run smoke -- https:\/\//);
});
