import { readFileSync } from 'node:fs';
import net from 'node:net';
import { ENDPOINTS } from '../functions/core/endpoints';
import { createAgents } from '../functions/core/forward';
import { createRelay } from '../functions/core/relay';
import { loadConfig } from '../functions/core/config';
import { createRelayServer } from '../functions/adapters/node-http/server';
import { startDemoBackend } from '../functions/local/demo-backend';
import { FUNCTIONS } from './helpers/endpoints';
import { built, startListening, type Started } from './helpers/processes';
import { send, startUpstream, type Upstream } from './helpers/servers';

// Issue 16, item 1 and 5: dist/web (server mode) started through each platform's bootstrap, as the
// platform starts it: every endpoint, the health path, FC's PreStop hook, SIGTERM, the platform's own
// headers; then 200 concurrent calls through one in-process server against a slow demo backend.

let upstream: Upstream;
let release: (() => void)[] = [];
beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    // An upstream that itself runs on FC would add FC's headers to its answers (x-fc-status is read as the call's result).
    const answer = () => res.writeHead(200, { 'content-type': 'application/json', 'x-fc-status': '404', 'x-fc-request-id': 'upstream', 'x-backend': 'kept' }).end(JSON.stringify({ method: req.method, url: req.url }));
    // /api/hold waits until the test releases it: a call surely in flight.
    if (req.url?.startsWith('/api/hold')) release.push(answer);
    else answer();
  });
});
afterAll(() => upstream.close());

function startWeb(bootstrap: 'bootstrap' | 'scf_bootstrap', env: Record<string, string> = {}): Promise<Started> {
  return startListening('bash', [built('web', bootstrap)], { MP_RELAY_NODE: process.execPath, HOST: '127.0.0.1', UPSTREAM_URL: upstream.url, RELAY_LOG: '0', ...env });
}

const exitOf = (web: Started) => new Promise<{ code: number | null; at: number }>((resolve) => web.child.once('exit', (code) => resolve({ code, at: Date.now() })));
const waitFor = async (condition: () => boolean) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
};

describe('Aliyun FC custom runtime: dist/web/bootstrap', () => {
  let web: Started;
  beforeAll(async () => {
    // FC gives the port in FC_CUSTOM_LISTEN_PORT; 0 lets the test take any free one.
    web = await startWeb('bootstrap', { FC_CUSTOM_LISTEN_PORT: '0' });
  });
  afterAll(() => web.stop());

  test('the bootstrap execs Node (no shell left to swallow signals) and says which platform it serves', () => {
    expect(readFileSync(`/proc/${web.child.pid}/cmdline`, 'utf8').split('\0')).toContain('index.js');
    expect(web.output()).toContain('server mode (aliyun-fc) listening on');
  });

  test.each(FUNCTIONS)('/%s serves %s, in both styles', async (fn, method) => {
    const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
    for (const target of [`/${fn}?method=api/x&a=1`, `/${fn}/api/x?a=1`]) {
      const reply = await send(web.base, target, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
      expect([target, reply.status, reply.json()]).toEqual([target, 200, { method, url: '/api/x?a=1' }]);
    }
  });

  test("FC's x-fc-* headers (the instance's AccessKey and token among them) never reach the upstream; x-fc-client-ip names the caller", async () => {
    const headers = { 'x-fc-access-key-id': 'LTAI-secret', 'x-fc-access-key-secret': 'secret', 'x-fc-security-token': 'token', 'x-fc-request-id': 'r', 'x-fc-some-new-header': 'n', 'x-fc-client-ip': '203.0.113.7', 'x-api-key': 'kept' };
    expect((await send(web.base, '/get?method=api/x', { headers })).status).toBe(200);
    const seen = upstream.requests.at(-1)!.headers;
    expect(Object.keys(seen).filter((name) => name.startsWith('x-fc-'))).toEqual([]);
    expect([seen['x-forwarded-for'], seen['x-api-key'], seen['x-forwarded-proto']]).toEqual(['203.0.113.7', 'kept', 'https']);
  });

  test("the upstream's own x-fc-* response headers never reach FC; the others pass", async () => {
    const reply = await send(web.base, '/get?method=api/x');
    expect([reply.status, reply.headers['x-fc-status'], reply.headers['x-fc-request-id'], reply.headers['x-backend']]).toEqual([200, undefined, undefined, 'kept']);
  });

  test('the health path answers without calling the upstream', async () => {
    const before = upstream.requests.length;
    const reply = await send(web.base, '/healthz');
    expect([reply.status, reply.json()]).toEqual([200, { ok: true }]);
    expect(upstream.requests.length).toBe(before);
  });

  test.each([
    ['no x-fc-control-path', '/pre-stop', {}],
    // What FC marks a client's call through the HTTP trigger with.
    ['x-fc-control-path: /http-invoke', '/pre-stop', { 'x-fc-control-path': '/http-invoke' }],
    ['another path', '/pre-stop/', { 'x-fc-control-path': '/pre-stop' }],
    ['a query', '/pre-stop?x', { 'x-fc-control-path': '/pre-stop' }],
  ])('GET /pre-stop from a client (%s) is just an unknown path: 404, and nothing drains', async (_what, target, headers) => {
    const reply = await send(web.base, target, { headers });
    expect([reply.status, reply.headers['x-relay-error']]).toEqual([404, 'NOT_FOUND']);
    expect((await send(web.base, '/get?method=api/x')).status).toBe(200);
  });
});

describe('draining', () => {
  test("FC's PreStop waits for the calls in flight, answers, and the server takes no new connections", async () => {
    const web = await startWeb('bootstrap', { FC_CUSTOM_LISTEN_PORT: '0' });
    try {
      release = [];
      const held = send(web.base, '/get?method=api/hold');
      await waitFor(() => release.length === 1);
      let preStopped = false;
      const preStop = send(web.base, '/pre-stop', { headers: { 'x-fc-control-path': '/pre-stop' } }).then((reply) => ((preStopped = true), reply));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(preStopped).toBe(false);
      release.shift()!();
      expect((await held).status).toBe(200);
      expect([(await preStop).status, (await preStop).json()]).toEqual([200, { ok: true }]);
      const { port } = new URL(web.base);
      await expect(new Promise((resolve, reject) => net.connect(Number(port), '127.0.0.1', () => resolve('connected')).on('error', reject))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await web.stop();
    }
  });

  test('a client-sent x-fc-control-path on a Tencent web function drains nothing', async () => {
    const web = await startWeb('scf_bootstrap', { PORT: '0' });
    try {
      expect((await send(web.base, '/pre-stop', { headers: { 'x-fc-control-path': '/pre-stop' } })).status).toBe(404);
      expect((await send(web.base, '/get?method=api/x')).status).toBe(200);
    } finally {
      await web.stop();
    }
  });

  test.each(['bootstrap', 'scf_bootstrap'] as const)('%s: SIGTERM lets the call in flight finish, then the process exits 0', async (bootstrap) => {
    const web = await startWeb(bootstrap, { PORT: '0' });
    release = [];
    const held = send(web.base, '/get?method=api/hold');
    await waitFor(() => release.length === 1);
    const exited = exitOf(web);
    web.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(web.child.exitCode).toBe(null);
    const answeredAt = Date.now();
    release.shift()!();
    expect((await held).status).toBe(200);
    const exit = await exited;
    expect(exit.code).toBe(0);
    expect(exit.at - answeredAt).toBeLessThan(2000);
  });

  test('a second SIGTERM while draining changes nothing: the call in flight still finishes', async () => {
    const web = await startWeb('scf_bootstrap', { PORT: '0' });
    release = [];
    const held = send(web.base, '/get?method=api/hold');
    await waitFor(() => release.length === 1);
    const exited = exitOf(web);
    web.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    web.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(web.child.exitCode).toBe(null);
    release.shift()!();
    expect((await held).status).toBe(200);
    expect((await exited).code).toBe(0);
  });

  test('a call still in flight when RELAY_SHUTDOWN_GRACE_MS runs out does not keep the process', async () => {
    const web = await startWeb('scf_bootstrap', { PORT: '0', RELAY_SHUTDOWN_GRACE_MS: '300' });
    release = [];
    const held = send(web.base, '/get?method=api/hold').catch((error: Error) => error);
    await waitFor(() => release.length === 1);
    const exited = exitOf(web);
    const sentAt = Date.now();
    web.child.kill('SIGTERM');
    const exit = await exited;
    expect(exit.code).toBe(0);
    expect(exit.at - sentAt).toBeGreaterThanOrEqual(250);
    expect(exit.at - sentAt).toBeLessThan(3000);
    // Cut off rather than answered: the grace period is over, and the log says how many were.
    expect(String(await held)).toMatch(/socket hang up|ECONNRESET/);
    expect(web.output()).toMatch(/"event":"shutdown","cut":1,"graceMs":300/);
    release.splice(0).forEach((answer) => answer());
  });

  test('request bodies in flight are bounded by RELAY_MAX_BODY_BYTES_INFLIGHT: the one that would pass it gets 503 BUSY at once', async () => {
    const web = await startWeb('bootstrap', { PORT: '0', RELAY_MAX_BODY_BYTES_INFLIGHT: String(1024 * 1024) });
    try {
      release = [];
      const body = 'x'.repeat(400 * 1024);
      const post = () => send(web.base, '/post?method=api/hold', { method: 'POST', body, headers: { 'content-type': 'text/plain', 'content-length': String(body.length) } });
      const held = [post(), post()];
      await waitFor(() => release.length === 2);
      // 800 KiB held; 400 more would pass 1 MiB. A small call still goes through.
      const refused = await post();
      expect([refused.status, refused.headers['x-relay-error'], refused.headers['retry-after']]).toEqual([503, 'BUSY', '1']);
      expect((await send(web.base, '/get?method=api/x')).status).toBe(200);
      release.splice(0).forEach((answer) => answer());
      expect((await Promise.all(held)).map((reply) => reply.status)).toEqual([200, 200]);
      // Given back once those calls ended.
      const again = post();
      await waitFor(() => release.length === 1);
      release.shift()!();
      expect((await again).status).toBe(200);
    } finally {
      await web.stop();
    }
  });

  test('a bad RELAY_PLATFORM or port stops the server at once, saying why', async () => {
    await expect(startListening(process.execPath, [built('web', 'index.js')], { RELAY_PLATFORM: 'aws', PORT: '0' })).rejects.toThrow(/RELAY_PLATFORM must be aliyun-fc, tencent-scf or none/);
    await expect(startWeb('bootstrap', { FC_CUSTOM_LISTEN_PORT: '70000' })).rejects.toThrow(/FC_CUSTOM_LISTEN_PORT must be a port number/);
    // A port already taken: exit 1, naming it (not an uncaught exception and exit 0).
    const first = await startWeb('scf_bootstrap', { PORT: '0' });
    try {
      const { port } = new URL(first.base);
      await expect(startWeb('scf_bootstrap', { PORT: port })).rejects.toThrow(new RegExp(`exited with 1: mp-relay: cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE`));
    } finally {
      await first.stop();
    }
  });
});

test('200 concurrent calls through one server, 200 ms upstream latency: all answered, sockets within the agent limit, memory bounded', async () => {
  const demo = await startDemoBackend('127.0.0.1', 200);
  let open = 0;
  let peakOpen = 0;
  demo.server.on('connection', (socket: net.Socket) => {
    peakOpen = Math.max(peakOpen, ++open);
    socket.once('close', () => open--);
  });
  const MAX_SOCKETS = 64;
  const agents = createAgents(undefined, MAX_SOCKETS);
  const config = loadConfig({ UPSTREAM_URL: demo.url, RELAY_LOG: '0' });
  const server = createRelayServer(Object.values(ENDPOINTS).map((endpoint) => createRelay(endpoint, config, { agents, log: () => undefined })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  try {
    const round = () =>
      Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          send(base, i % 2 ? `/get?method=api/users&i=${i}` : '/post?method=api/echo', { method: i % 2 ? 'GET' : 'POST', body: i % 2 ? undefined : JSON.stringify({ i }), headers: { 'content-type': 'application/json' } }),
        ),
      );
    await round();
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Date.now();
    for (let i = 0; i < 3; i++) {
      const replies = await round();
      expect(replies.map((reply) => reply.status)).toEqual(Array(200).fill(200));
    }
    // 200 calls over 64 sockets at 200 ms each: at least four rounds of the upstream's wait per batch.
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 4 * 200 - 100);
    expect(peakOpen).toBeLessThanOrEqual(MAX_SOCKETS);
    expect(peakOpen).toBeGreaterThan(MAX_SOCKETS / 2);
    global.gc?.();
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    agents.http.destroy();
    demo.server.closeAllConnections();
    await demo.close();
  }
}, 30_000);
