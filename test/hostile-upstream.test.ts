import { buildSync } from 'esbuild';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as events from './fixtures/events';
import { built, loadBundle, startListening, type Started } from './helpers/processes';
import { send, startRawUpstream, startRelay, type RunningRelay, type Upstream } from './helpers/servers';

// Class 1 of the hardening: nothing an upstream sends can end the process or leave a request
// unanswered. Each answer below is one Node's HTTP parser accepts (or refuses), written byte for byte
// by a raw TCP upstream; the relay must answer each as listed and keep serving afterwards, both
// in-process and as the built local server (a child process, as `npm start` runs it).

const BIG = 'y'.repeat(100_000);

/** name -> [what the upstream writes, status the client gets, x-relay-error or the body expected]. */
const HOSTILE_ANSWERS: Record<string, [string, number, string]> = {
  'status-600': ['HTTP/1.1 600 Weird\r\nContent-Length: 2\r\n\r\nok', 502, 'BAD_UPSTREAM'],
  'status-999': ['HTTP/1.1 999 Weird\r\nContent-Length: 2\r\n\r\nok', 502, 'BAD_UPSTREAM'],
  'status-099': ['HTTP/1.1 099 Weird\r\nContent-Length: 2\r\n\r\nok', 502, 'BAD_UPSTREAM'],
  'status-000': ['HTTP/1.1 000 Weird\r\nContent-Length: 2\r\n\r\nok', 502, 'BAD_UPSTREAM'],
  'status-two-digits': ['HTTP/1.1 20 Weird\r\nContent-Length: 2\r\n\r\nok', 502, 'BAD_UPSTREAM'],
  'switching-protocols': ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', 502, 'BAD_UPSTREAM'],
  'bare-101': ['HTTP/1.1 101 Switching Protocols\r\n\r\n', 502, 'BAD_UPSTREAM'],
  'not-http': ['SSH-2.0-OpenSSH_9.6\r\n\r\n', 502, 'BAD_UPSTREAM'],
  'header-overflow': [`HTTP/1.1 200 OK\r\nX-Big: ${BIG}\r\nContent-Length: 2\r\n\r\nok`, 502, 'BAD_UPSTREAM'],
  'length-and-chunked': ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', 502, 'BAD_UPSTREAM'],
  'two-lengths': ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!', 502, 'BAD_UPSTREAM'],
  'bad-chunk': ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n', 502, 'BAD_UPSTREAM'],
  // Informational answers are not final: the answer after them is what the client gets.
  'continue-then-200': ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 200, 'ok'],
  'early-hints-then-201': ['HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok', 201, 'ok'],
  'fifty-1xx-then-200': [`${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(50)}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok`, 200, 'ok'],
  'processing-forever': ['HTTP/1.1 102 Processing\r\n\r\n', 504, 'UPSTREAM_TIMEOUT'],
  'upgrade-header-on-200': ['HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 2\r\n\r\nok', 200, 'ok'],
  'poisonous-names': ['HTTP/1.1 200 OK\r\n__proto__: p\r\nconstructor: c\r\ntoString: t\r\nhasOwnProperty: h\r\nContent-Length: 2\r\n\r\nok', 200, 'ok'],
  'forged-relay-error': ['HTTP/1.1 404 Not Found\r\nX-Relay-Error: NOT_FOUND\r\nX-Relay-Anything: 1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}', 404, '{}'],
  'truncated-body': ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok', 502, 'UPSTREAM_UNREACHABLE'],
  ok: ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 200, 'ok'],
};

/** Answers `GET /<name>` with HOSTILE_ANSWERS[name], then closes (so nothing is reused after it). */
function hostileUpstream(): Promise<Upstream> {
  return startRawUpstream((socket: net.Socket) => {
    let head = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const name = /^[A-Z]+ \/([^ ?]+)/.exec(head)?.[1] ?? '';
      const answer = HOSTILE_ANSWERS[name]?.[0];
      if (answer === undefined) return void socket.destroy();
      socket.write(answer);
      // A truncated or forever-informational answer is left hanging; the relay must end it.
      if (name !== 'truncated-body' && name !== 'processing-forever') socket.end();
      else if (name === 'truncated-body') setTimeout(() => socket.destroy(), 20);
    });
  });
}

const ENV = { RELAY_TIMEOUT_MS: '600', RELAY_LOG: '0' };
const cases = Object.entries(HOSTILE_ANSWERS).map(([name, [, status, expected]]) => [name, status, expected] as const);

function check(reply: { status: number; headers: Record<string, unknown>; text: string }, status: number, expected: string): void {
  expect(reply.status).toBe(status);
  if (/^[A-Z_]+$/.test(expected)) {
    expect(reply.headers['x-relay-error']).toBe(expected);
    expect(JSON.parse(reply.text).error.code).toBe(expected);
  } else {
    // The backend's answer: no relay error, whatever the backend wrote into x-relay-* headers.
    expect(reply.text).toBe(expected);
    expect(Object.keys(reply.headers).filter((name) => name.startsWith('x-relay-'))).toEqual([]);
  }
}

describe('in-process relay', () => {
  let upstream: Upstream;
  let relay: RunningRelay;
  beforeAll(async () => {
    upstream = await hostileUpstream();
    relay = await startRelay({ UPSTREAM_URL: upstream.url, ...ENV });
  });
  afterAll(async () => {
    await relay.close();
    await upstream.close();
  });

  test.each(cases)('%s: %i %s', async (name, status, expected) => {
    const started = Date.now();
    check(await send(relay.url, `/get?method=${name}`), status, expected);
    // Refusals are immediate: only a genuinely silent upstream waits for the timeout.
    if (expected !== 'UPSTREAM_TIMEOUT') expect(Date.now() - started).toBeLessThan(500);
  });

  test("header names such as __proto__ and constructor are ordinary headers in the client's answer", async () => {
    const reply = await send(relay.url, '/get?method=poisonous-names');
    expect(reply.rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase())).toEqual(expect.arrayContaining(['__proto__', 'constructor', 'tostring', 'hasownproperty']));
    expect(reply.headers['constructor']).toBe('c');
  });
});

describe('the built local server, as a child process', () => {
  let upstream: Upstream;
  let server: Started;
  beforeAll(async () => {
    upstream = await hostileUpstream();
    server = await startListening(process.execPath, [built('server', 'index.js')], { UPSTREAM_URL: upstream.url, PORT: '0', ...ENV });
  });
  afterAll(async () => {
    await server?.stop();
    await upstream.close();
  });

  test('answers every hostile upstream as documented, in one process, and is still serving after each', async () => {
    for (const [name, status, expected] of cases) {
      check(await send(server.base, `/get?method=${name}`), status, expected);
      check(await send(server.base, '/get?method=ok'), 200, 'ok');
    }
    expect(server.child.exitCode).toBeNull();
    // Every request answered, none left to the safety net.
    expect(server.output()).not.toMatch(/uncaughtException|unhandledRejection/);
  });
});

describe('the safety net, for what no rule foresaw', () => {
  // A server whose relay throws from a timer (an uncaught exception) or leaves a rejected promise
  // behind, as a bug would: bundled from the real server and net, run as its own process.
  const SCRIPT = `
    import { createRelayServer } from './functions/adapters/node-http/server';
    import { installSafetyNet } from './functions/adapters/node-http/safety-net';
    installSafetyNet();
    const ok = (id) => ({ status: 200, headers: { 'x-request-id': id, 'content-type': 'text/plain' }, body: Buffer.from('ok') });
    const relay = {
      endpoint: { name: 'get', method: 'GET' }, maxBodyBytes: 1000, maxResponseBytes: 1000, bodyTimeoutMs: 1000, maxInflight: undefined,
      reject: (error, _m) => ({ status: error.status, headers: { 'x-relay-error': error.code }, body: Buffer.from('{}') }),
      handleStreaming: (request) => relay.handle(request),
      handle: (request) => new Promise((resolve) => {
        const id = request.headers['x-request-id'];
        if (request.query === 'throw') setTimeout(() => { throw new Error('a bug in a callback'); }, 5);
        else if (request.query === 'reject') Promise.reject(new Error('a forgotten promise'));
        else if (request.query === 'hold') setTimeout(() => resolve(ok(id)), 300);
        else if (request.query === 'throw-later') setTimeout(() => { throw new Error('a bug while another request is in flight'); }, 100);
        else resolve(ok(id));
      }),
    };
    const server = createRelayServer([relay]);
    server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
  `;
  let server: Started;
  beforeAll(async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mp-relay-net-')), 'server.js');
    const bundle = buildSync({ stdin: { contents: SCRIPT, resolveDir: path.join(__dirname, '..'), loader: 'ts' }, bundle: true, platform: 'node', write: false });
    writeFileSync(file, bundle.outputFiles[0]!.contents);
    server = await startListening(process.execPath, [file], {});
  });
  afterAll(() => server?.stop());

  test.each([
    ['throw', 'uncaughtException'],
    ['reject', 'unhandledRejection'],
  ])('?%s: logged as JSON with its request id, answered 502 UNEXPECTED, and the process serves on', async (query, event) => {
    const reply = await send(server.base, `/get?${query}`, { headers: { 'x-request-id': `req-${query}` } });
    expect([reply.status, reply.headers['x-relay-error'], reply.headers['x-request-id']]).toEqual([502, 'UNEXPECTED', `req-${query}`]);
    // The log line travels through a pipe, the answer through a socket: wait for the line.
    const logged = () => server.output().split('\n').find((text) => text.includes(`"event":"${event}"`));
    for (let waited = 0; !logged() && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(JSON.parse(logged()!)).toMatchObject({ level: 'error', event, requestId: `req-${query}` });
    expect((await send(server.base, '/get?fine')).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });

  test('with several requests in flight it cannot tell whose error it was: it lists them and answers none in its place', async () => {
    const held = send(server.base, '/get?hold', { headers: { 'x-request-id': 'req-held' } });
    const broken = http.get(`${server.base}/get?throw-later`, { headers: { 'x-request-id': 'req-broken' }, agent: false });
    broken.on('error', () => undefined);
    const logged = () => server.output().split('\n').find((text) => text.includes('a bug while another request'));
    for (let waited = 0; !logged() && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    const line = JSON.parse(logged()!);
    expect(line).toMatchObject({ level: 'error', event: 'uncaughtException', requestId: null });
    expect([...line.inFlight].sort()).toEqual(['req-broken', 'req-held']);
    // The other request is not answered in the broken one's place: it completes as its own.
    expect((await held).status).toBe(200);
    broken.destroy();
    expect(server.child.exitCode).toBeNull();
  });
});

describe('an event function (the built FC 3.0 bundle), whose forwarding is the same core', () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await hostileUpstream();
  });
  afterAll(() => upstream.close());

  const EVENT_CASES = cases.filter(([name]) => name !== 'processing-forever');
  test('answers every hostile upstream as documented, in the platform format, warm instance after warm instance', async () => {
    const { handler } = loadBundle('get', { UPSTREAM_URL: upstream.url, ...ENV });
    for (const [name, status, expected] of EVENT_CASES) {
      const result = (await handler(Buffer.from(JSON.stringify(events.fc3({ method: 'GET', path: '/get', query: `method=${name}` }))), {})) as { statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded: boolean };
      const text = Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8').toString();
      check({ status: result.statusCode, headers: result.headers, text }, status, expected);
    }
  });
});
