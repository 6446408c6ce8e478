import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { verifyRelaySignature } from '../examples/backend-auth/verify-relay-signature';
import { canonicalString, signatureHeaders } from '../functions/core/signing';
import { hasPhp, startPhpVerifier } from './helpers/php-verifier';
import { send, startRelay, startUpstream, type Recorded, type RunningRelay, type Upstream } from './helpers/servers';

// What RELAY_SIGNING_SECRET covers, part by part. The real relay signs requests, a recording upstream
// keeps them byte for byte, and each is then replayed to the shipped verifiers (Express always, Laravel's
// check where `php` is installed) with exactly one part changed: every covered part must be refused once
// changed, and the uncovered ones (the documented boundary) must not matter.

const SECRET = 'hmac-signing-test-secret-0123456789';
const AUTH_DOC = readFileSync(path.join(__dirname, '..', 'docs', 'backend-auth.md'), 'utf8');

/** A request as it reached the upstream, editable before it is sent again. */
interface Replay {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Buffer;
}

type Base = 'post' | 'get' | 'stale' | 'future' | 'patch';

interface Case {
  what: string;
  base: Base;
  tamper: (request: Replay) => void;
  accepted: boolean;
}

const refused = (what: string, base: Base, tamper: (request: Replay) => void): Case => ({ what, base, tamper, accepted: false });
const accepted = (what: string, base: Base, tamper: (request: Replay) => void): Case => ({ what, base, tamper, accepted: true });
const setQuery = (request: Replay, query: string) => (request.url = request.url.split('?')[0]! + query);

// `post` is POST /v1/api/orders?page=2 with a JSON body, Authorization, Content-Type and Cookie;
// `get` is GET /v1/api/users with none of them; `stale` and `future` are `post` signed 400 s off;
// `patch` is `post` with X-HTTP-Method-Override: PATCH, which the relay signs as a fourth header.
const CASES: Case[] = [
  accepted('nothing changed (a replay within the window is not prevented)', 'post', () => {}),
  accepted('nothing changed, GET without body or covered headers', 'get', () => {}),

  refused('method', 'post', (r) => (r.method = 'PUT')),
  refused('path: another resource', 'post', (r) => (r.url = r.url.replace('/api/orders', '/api/orders/2'))),
  refused('path: base path dropped', 'post', (r) => (r.url = r.url.replace('/v1/', '/'))),
  refused('query: value changed', 'post', (r) => setQuery(r, '?page=3')),
  refused('query: removed', 'post', (r) => setQuery(r, '')),
  refused('query: added', 'get', (r) => setQuery(r, '?admin=1')),
  refused('timestamp: moved by one second, still fresh', 'post', (r) => (r.headers['x-relay-timestamp'] = String(Number(r.headers['x-relay-timestamp']) + 1))),
  refused('timestamp: stale (signed 400 s ago, window 300 s)', 'stale', () => {}),
  refused('timestamp: in the future (signed 400 s ahead)', 'future', () => {}),
  refused('timestamp: removed', 'post', (r) => delete r.headers['x-relay-timestamp']),
  refused('body: one byte changed', 'post', (r) => (r.body = Buffer.from(r.body.toString().replace('1', '2')))),
  refused('body: removed', 'post', (r) => (r.body = Buffer.alloc(0))),
  refused('body: added', 'get', (r) => (r.body = Buffer.from('{"admin":true}'))),
  refused('Authorization: changed', 'post', (r) => (r.headers['authorization'] = 'Bearer token-b')),
  refused('Authorization: removed', 'post', (r) => delete r.headers['authorization']),
  refused('Authorization: added', 'get', (r) => (r.headers['authorization'] = 'Bearer token-a')),
  refused('Content-Type: changed', 'post', (r) => (r.headers['content-type'] = 'application/x-www-form-urlencoded')),
  refused('Content-Type: removed', 'post', (r) => delete r.headers['content-type']),
  refused('Content-Type: added', 'get', (r) => (r.headers['content-type'] = 'application/json')),
  refused('Cookie: changed', 'post', (r) => (r.headers['cookie'] = 'sid=other; theme=dark')),
  refused('Cookie: removed', 'post', (r) => delete r.headers['cookie']),
  refused('Cookie: added', 'get', (r) => (r.headers['cookie'] = 'sid=abc')),
  refused('signature: one hex digit changed', 'post', (r) => (r.headers['x-relay-signature'] = flipHexDigit(r.headers['x-relay-signature']!))),
  refused('signature: removed', 'post', (r) => delete r.headers['x-relay-signature']),
  refused('x-relay-signed-headers: another list', 'post', (r) => (r.headers['x-relay-signed-headers'] = 'authorization;content-type')),
  refused('x-relay-signed-headers: removed', 'post', (r) => delete r.headers['x-relay-signed-headers']),
  refused('X-HTTP-Method-Override added (not signed, yet frameworks act on it)', 'post', (r) => (r.headers['x-http-method-override'] = 'DELETE')),
  accepted('X-HTTP-Method-Override signed by the relay, nothing changed', 'patch', () => {}),
  refused('X-HTTP-Method-Override: PATCH changed to DELETE', 'patch', (r) => (r.headers['x-http-method-override'] = 'DELETE')),
  refused('X-HTTP-Method-Override: removed', 'patch', (r) => delete r.headers['x-http-method-override']),
  refused('X-HTTP-Method-Override removed and x-relay-signed-headers set back to three', 'patch', (r) => {
    delete r.headers['x-http-method-override'];
    r.headers['x-relay-signed-headers'] = 'authorization;content-type;cookie';
  }),
  refused('X-HTTP-Method-Override signed, x-relay-signed-headers set back to three', 'patch', (r) => (r.headers['x-relay-signed-headers'] = 'authorization;content-type;cookie')),

  // The boundary: these are not signed, so changing them must not matter.
  accepted('uncovered: User-Agent changed', 'post', (r) => (r.headers['user-agent'] = 'curl/8')),
  accepted('uncovered: Referer changed', 'post', (r) => (r.headers['referer'] = 'https://servicewechat.com/wxother/1/page-frame.html')),
  accepted('uncovered: X-Forwarded-For changed', 'post', (r) => (r.headers['x-forwarded-for'] = '203.0.113.9')),
  accepted('uncovered: X-Request-Id changed', 'post', (r) => (r.headers['x-request-id'] = 'another-id')),
  accepted('uncovered: a new header added', 'post', (r) => (r.headers['x-admin'] = '1')),
  accepted('uncovered: Host changed', 'post', (r) => (r.headers['host'] = 'elsewhere.example')),
  accepted('covered value with spaces around it (HTTP servers drop them)', 'post', (r) => (r.headers['authorization'] = `  ${r.headers['authorization']}  `)),
];

function flipHexDigit(hex: string): string {
  return (hex[0] === '0' ? '1' : '0') + hex.slice(1);
}

// --- backends running the shipped verifiers -------------------------------------------------------

interface Backend {
  name: string;
  url: string;
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

async function expressBackend(): Promise<Backend> {
  const app = express();
  app.use(verifyRelaySignature(SECRET));
  app.use((_req, res) => res.json({ ok: true }));
  const server = http.createServer(app);
  const url = await listen(server);
  return {
    name: 'express',
    url,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

async function phpBackend(): Promise<Backend> {
  return { name: 'php', ...(await startPhpVerifier(SECRET)) };
}

if (!hasPhp) process.stderr.write('hmac-signing.test: php is not installed, so the Laravel verifier is left out (apt-get install php-cli adds it)\n');

// --- requests signed by the real relay -----------------------------------------------------------

const POST_HEADERS = {
  authorization: 'Bearer token-a',
  'content-type': 'application/json',
  cookie: 'sid=abc; theme=dark',
  'user-agent': 'Mozilla/5.0 MicroMessenger',
  referer: 'https://servicewechat.com/wx0123456789abcdef/1/page-frame.html',
};

let recorder: Upstream;
let relay: RunningRelay;
let backends: Backend[];
const signed = {} as Record<Base, Replay>;

/** Sends through the relay and returns what the upstream received. */
async function throughRelay(target: string, options: Parameters<typeof send>[2] = {}): Promise<Replay> {
  const reply = await send(relay.url, target, options);
  expect(reply.status).toBe(200);
  return asReplay(recorder.requests.at(-1)!);
}

function asReplay(recorded: Recorded): Replay {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(recorded.headers)) {
    // Set again for the new connection and body by the client that replays it.
    if (value === undefined || ['host', 'content-length', 'connection', 'transfer-encoding'].includes(name)) continue;
    headers[name] = [value].flat().join(', ');
  }
  return { method: recorded.method, url: recorded.url, headers, body: recorded.body };
}

/** The relay signing as if its clock were `offsetMs` off, to make stale and future timestamps. */
async function signedAtOffset(offsetMs: number, target: string, options: Parameters<typeof send>[2]): Promise<Replay> {
  const realNow = Date.now.bind(Date);
  const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);
  try {
    return await throughRelay(target, options);
  } finally {
    clock.mockRestore();
  }
}

beforeAll(async () => {
  recorder = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  // A base path, so the signed path is visibly the one sent upstream rather than the one the client used.
  relay = await startRelay({ UPSTREAM_URL: `${recorder.url}/v1`, RELAY_SIGNING_SECRET: SECRET, RELAY_LOG: '0' });
  const post = { method: 'POST', headers: POST_HEADERS, body: '{"method":"api/orders","id":1}' };
  signed.post = await throughRelay('/post?page=2', post);
  signed.get = await throughRelay('/get?method=api/users');
  signed.stale = await signedAtOffset(-400_000, '/post?page=2', post);
  signed.future = await signedAtOffset(400_000, '/post?page=2', post);
  signed.patch = await throughRelay('/post?page=2', { ...post, headers: { ...POST_HEADERS, 'x-http-method-override': 'PATCH' } });
  backends = [await expressBackend(), ...(hasPhp ? [await phpBackend()] : [])];
});

afterAll(async () => {
  await relay?.close();
  await recorder?.close();
  await Promise.all((backends ?? []).map((backend) => backend.close()));
});

function replayTo(backend: Backend, request: Replay) {
  if (request.body.length === 0) return send(backend.url, request.url, { method: request.method, headers: request.headers });
  // Stated outright: Node's client sends a GET body without a length, which servers refuse.
  const headers = { ...request.headers, 'content-length': String(request.body.length) };
  return send(backend.url, request.url, { method: request.method, headers, body: request.body });
}

// --- the tests ------------------------------------------------------------------------------------

test('the relay signs the documented string over what it sent', () => {
  const request = signed.post;
  expect([request.method, request.url, request.body.toString()]).toEqual(['POST', '/v1/api/orders?page=2', '{"id":1}']);
  expect(request.headers['x-relay-signed-headers']).toBe('authorization;content-type;cookie');
  // Rebuilt here from docs/backend-auth.md, independently of functions/core/signing.ts.
  const lines = [
    'v2',
    'POST',
    '/v1/api/orders?page=2',
    request.headers['x-relay-timestamp'],
    createHash('sha256').update('{"id":1}').digest('hex'),
    'authorization:Bearer token-a',
    'content-type:application/json',
    'cookie:sid=abc; theme=dark',
  ];
  expect(request.headers['x-relay-signature']).toBe(createHmac('sha256', SECRET).update(lines.join('\n'), 'latin1').digest('hex'));
  // With the override, a ninth line, and x-relay-signed-headers naming it.
  const patch = signed.patch;
  expect(patch.headers['x-relay-signed-headers']).toBe('authorization;content-type;cookie;x-http-method-override');
  const patchLines = [...lines.slice(0, 3), patch.headers['x-relay-timestamp'], ...lines.slice(4), 'x-http-method-override:PATCH'];
  expect(patch.headers['x-relay-signature']).toBe(createHmac('sha256', SECRET).update(patchLines.join('\n'), 'latin1').digest('hex'));
  const get = signed.get;
  const getLines = ['v2', 'GET', '/v1/api/users', get.headers['x-relay-timestamp'], createHash('sha256').digest('hex'), 'authorization:', 'content-type:', 'cookie:'];
  expect(get.headers['x-relay-signature']).toBe(createHmac('sha256', SECRET).update(getLines.join('\n'), 'latin1').digest('hex'));
});

test.each(CASES.map((c) => [c.what, c] as const))('%s', async (_what, { base, tamper, accepted: ok }) => {
  const request: Replay = structuredClone(signed[base]);
  request.body = Buffer.from(signed[base].body);
  tamper(request);
  const statuses: Record<string, number> = {};
  const expected: Record<string, number> = {};
  for (const backend of backends) {
    statuses[backend.name] = (await replayTo(backend, request)).status;
    expected[backend.name] = ok ? 200 : 401;
  }
  expect(statuses).toEqual(expected);
});

test('end to end, the relay’s own requests pass every verifier, a UTF-8 cookie included', async () => {
  for (const backend of backends) {
    const direct = await startRelay({ UPSTREAM_URL: `${backend.url}/v1`, RELAY_SIGNING_SECRET: SECRET, RELAY_LOG: '0' });
    try {
      const statuses = [
        (await send(direct.url, '/post?page=2', { method: 'POST', headers: POST_HEADERS, body: '{"method":"api/orders","id":1}' })).status,
        (await send(direct.url, '/get?method=api/users')).status,
        // Raw UTF-8 bytes in a header: Node holds them as latin1 text, PHP as bytes; both must agree.
        (await send(direct.url, '/get?method=api/users', { headers: { cookie: Buffer.from('name=小程序', 'utf8').toString('latin1') } })).status,
        (await send(direct.url, '/put?method=api/orders/1', { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 255]) })).status,
      ];
      expect({ backend: backend.name, statuses }).toEqual({ backend: backend.name, statuses: [200, 200, 200, 200] });
    } finally {
      await direct.close();
    }
  }
});

test('the worked example in docs/backend-auth.md is what the relay computes', () => {
  const headers = { authorization: 'Bearer token-a', 'content-type': 'application/json' };
  const body = Buffer.from('{"id":1}');
  const text = canonicalString('POST', '/v1/api/orders?page=2', '1700000000', body, headers);
  const { 'x-relay-signature': signature } = signatureHeaders('example-secret', 'POST', '/v1/api/orders?page=2', body, headers, 1_700_000_000_000);
  expect(AUTH_DOC).toContain(`\`\`\`\n${text}\n\`\`\``);
  expect(AUTH_DOC).toContain(signature);
});
