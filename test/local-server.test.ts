import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { built, startListening } from './helpers/processes';
import { echo, send, startUpstream } from './helpers/servers';

// `npm start` as a newcomer meets it: the built bundle, a demo backend when UPSTREAM_URL is unset,
// the same message as the functions' CONFIG error when a setting is wrong, a clean stop on SIGTERM.

const SERVER = built('server', 'index.js');
const startServer = (env: Record<string, string>) => startListening(process.execPath, [SERVER], { PORT: '0', ...env });

function exitOf(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

test('without UPSTREAM_URL it relays to the built-in demo backend', async () => {
  const { child, base, output } = await startServer({});
  try {
    expect(output()).toMatch(/built-in demo backend/);
    expect(output()).toContain(`curl -i '${base}/get?method=api/users&page=2'`);
    const users = await send(base, '/get?method=api/users&page=2');
    expect([users.status, users.json().page]).toEqual([200, 2]);
    const image = await send(base, '/getDownImg?method=img/logo.png');
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.body.subarray(1, 4).toString()).toBe('PNG');
    const posted = await send(base, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"api/echo","n":1.0}' });
    expect(posted.json()).toMatchObject({ method: 'POST', path: '/api/echo', body: '{"n":1.0}' });
    expect((await send(base, '/healthz')).status).toBe(200);
    // The request log goes to stdout, one JSON line per request.
    expect(output()).toMatch(/^\{"time":.*"fn":"get".*"status":200/m);
  } finally {
    child.kill('SIGTERM');
  }
});

test('with UPSTREAM_URL it relays there, and SIGTERM stops it cleanly', async () => {
  const upstream = await startUpstream(echo);
  const { child, base } = await startServer({ UPSTREAM_URL: `${upstream.url}/v2` });
  try {
    const reply = await send(base, '/put?method=items/7', { method: 'PUT', body: '{"a":1}' });
    expect(reply.json()).toMatchObject({ method: 'PUT', url: '/v2/items/7', body: '{"a":1}' });
    const exited = exitOf(child);
    child.kill('SIGTERM');
    expect((await exited).code).toBe(0);
  } finally {
    child.kill('SIGKILL');
    await upstream.close();
  }
});

test('a bad setting stops it at once with the variable named', async () => {
  const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH ?? '', UPSTREAM_URL: 'http://api.example.com' } });
  const { code, stderr } = await exitOf(child);
  expect(code).toBe(1);
  expect(stderr).toMatch(/^mp-relay: UPSTREAM_URL: must use https:\/\//);
});

test('a bad PORT is refused', async () => {
  const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH ?? '', PORT: 'eighty' } });
  const { code, stderr } = await exitOf(child);
  expect([code, stderr]).toEqual([1, expect.stringMatching(/PORT: must be a port number/)]);
});
