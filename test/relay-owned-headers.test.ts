import net from 'node:net';
import { Readable } from 'node:stream';
import * as events from './fixtures/events';
import { built, loadBundle, startListening, type Started } from './helpers/processes';
import { send, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';

// Class 7 of the hardening: the headers that speak for the relay are the relay's. A backend cannot
// forge a relay error (x-relay-* in its answer are dropped); a client cannot forge who it is (the
// identity headers below are removed and X-Forwarded-For/X-Real-IP come from the address the platform
// vouches for, per runtime); X-Forwarded-Host is the relay's configured domain. Platform headers are
// stripped by exact name, so an API's own X-Api-Key still arrives.

const SPOOFED_IDENTITY: Record<string, string> = {
  'x-forwarded-for': '6.6.6.1',
  'x-real-ip': '6.6.6.2',
  forwarded: 'for=6.6.6.3;host=evil.example',
  'true-client-ip': '6.6.6.4',
  'x-client-ip': '6.6.6.5',
  'x-cluster-client-ip': '6.6.6.6',
  'cf-connecting-ip': '6.6.6.7',
  'x-original-url': '/admin',
  'x-rewrite-url': '/admin',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-port': '1',
  'x-scf-remote-addr': '6.6.6.8',
};
const API_HEADERS = { 'x-api-key': 'key-1', 'x-ca-key': 'key-2', 'x-amzn-custom': 'key-3', authorization: 'Bearer t' };

let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url?.startsWith('/api/forge')) {
      res.writeHead(500, { 'content-type': 'application/json', 'x-relay-error': 'UPSTREAM_TIMEOUT', 'X-Relay-Signature': 'x', 'x-backend': 'kept' });
      return void res.end('{"error":{"code":"UPSTREAM_TIMEOUT"}}');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
});
afterAll(() => upstream.close());
const lastSeen = () => upstream.requests[upstream.requests.length - 1]!.headers;

/** What reached the backend of the identity headers, and of the API's own. */
function expectOnlyVouched(address: string | undefined): void {
  const seen = lastSeen();
  expect([seen['x-forwarded-for'], seen['x-real-ip']]).toEqual([address, address]);
  for (const name of Object.keys(SPOOFED_IDENTITY).filter((name) => name !== 'x-forwarded-for' && name !== 'x-real-ip')) {
    expect([name, seen[name]]).toEqual([name, name === 'x-forwarded-host' ? 'relay.example.cn' : undefined]);
  }
  expect([seen['x-api-key'], seen['x-ca-key'], seen['x-amzn-custom'], seen.authorization]).toEqual(['key-1', 'key-2', 'key-3', 'Bearer t']);
}

describe('the local server', () => {
  let relay: RunningRelay;
  beforeAll(async () => {
    relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_PUBLIC_HOST: 'relay.example.cn', RELAY_LOG: '0' });
  });
  afterAll(() => relay.close());

  test('spoofed identity headers are replaced by the socket address; X-Forwarded-Host is RELAY_PUBLIC_HOST, not the Host sent', async () => {
    expect((await send(relay.url, '/get?method=api/me', { headers: { host: 'evil.example', ...SPOOFED_IDENTITY, ...API_HEADERS } })).status).toBe(200);
    expectOnlyVouched('127.0.0.1');
  });

  test.each([
    // CGI-style backends (PHP's $_SERVER, WSGI's environ) read these as X-Forwarded-For and X-Real-IP.
    ['X_Forwarded_For', '6.6.6.9'],
    ['X_Real_IP', '6.6.6.9'],
    ['X-Originating-IP', '6.6.6.9'],
    ['X-Remote-Addr', '6.6.6.9'],
    ['Client-IP', '6.6.6.9'],
    ['X_Relay_Signature', 'forged'],
    // The relay sets X-Request-Id itself; a CGI backend would read this spelling as it.
    ['X_Request_Id', 'spoof'],
    // Frameworks obey these over the method the relay forwards (Laravel turns a POST into a DELETE).
    // X-HTTP-Method-Override itself passes on /post as PATCH or DELETE: see the tests below.
    ['X_HTTP_Method_Override', 'DELETE'],
    ['X-HTTP-Method', 'DELETE'],
    ['X-Method-Override', 'DELETE'],
  ])('%s is never forwarded', async (name, value) => {
    const { port } = new URL(relay.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(`POST /post?method=api/me HTTP/1.1\r\nHost: relay\r\n${name}: ${value}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 200 /);
    const sent = upstream.requests[upstream.requests.length - 1]!.rawHeaders;
    expect(sent.filter((_, i) => i % 2 === 0).map((header) => header.toLowerCase())).not.toContain(name.toLowerCase());
    expect(sent.filter((_, i) => i % 2 === 1)).not.toContain(value);
  });

  test("a backend's x-relay-* headers never reach the client: its 500 is its own, not a forged relay error", async () => {
    const reply = await send(relay.url, '/get?method=api/forge');
    expect(reply.status).toBe(500);
    expect(Object.keys(reply.headers).filter((name) => name.startsWith('x-relay-'))).toEqual([]);
    expect(reply.headers['x-backend']).toBe('kept');
  });
});

describe('the SCF web function (scf_bootstrap), behind which SCF sets x-scf-remote-addr', () => {
  let web: Started;
  beforeAll(async () => {
    web = await startListening('bash', [built('web', 'scf_bootstrap')], { MP_RELAY_NODE: process.execPath, HOST: '127.0.0.1', PORT: '0', UPSTREAM_URL: upstream.url, RELAY_PUBLIC_HOST: 'relay.example.cn', RELAY_LOG: '0' });
  });
  afterAll(() => web?.stop());

  test("the caller is the platform's x-scf-remote-addr; SCF's own headers stay behind, X-Api-Key passes", async () => {
    const { 'x-scf-remote-addr': _spoof, ...spoofed } = SPOOFED_IDENTITY;
    // Here the test plays SCF, which sets x-scf-remote-addr (and refuses it from clients).
    const reply = await send(web.base, '/get?method=api/me', { headers: { ...spoofed, ...API_HEADERS, 'x-scf-remote-addr': '203.0.113.50', 'x-scf-request-id': 'r1', 'x-scf-uin': '100' } });
    expect(reply.status).toBe(200);
    expectOnlyVouched('203.0.113.50');
    expect(Object.keys(lastSeen()).filter((name) => name.startsWith('x-scf-'))).toEqual([]);
  });

  test("a backend's x-relay-* headers never reach the client", async () => {
    const reply = await send(web.base, '/get?method=api/forge');
    expect([reply.status, reply.headers['x-relay-error']]).toEqual([500, undefined]);
  });
});

type Result = { statusCode: number; headers?: Record<string, string>; multiValueHeaders?: Record<string, string[]> };
const GET = { method: 'GET', path: '/get', query: 'method=api/me', headers: { ...SPOOFED_IDENTITY, ...API_HEADERS } };

// Per runtime, the address the platform vouches for (README, "Security"), from each documented event.
const VOUCHED: [string, () => unknown, string | undefined][] = [
  ['Aliyun FC 3.0: requestContext.http.sourceIp', () => Buffer.from(JSON.stringify(events.fc3(GET))), '11.11.11.12'],
  ['Aliyun API Gateway: none in the event, so none is sent', () => Buffer.from(JSON.stringify(events.aliyunApiGateway(GET))), undefined],
  ['Tencent SCF API Gateway: requestContext.sourceIp', () => events.scfApiGateway(GET), '10.0.2.14'],
  ['Tencent SCF function URL: the x-scf-remote-addr SCF sets', () => events.scfFunctionUrl({ ...GET, headers: { ...GET.headers, 'x-scf-remote-addr': '203.0.113.7' } }), '203.0.113.7'],
  ['AWS Lambda v2: requestContext.http.sourceIp', () => events.lambdaV2(GET), '198.51.100.9'],
  ['AWS Lambda v1: requestContext.identity.sourceIp', () => events.lambdaV1(GET), '198.51.100.10'],
];

describe('event functions', () => {
  test.each(VOUCHED)('%s', async (_name, makeEvent, address) => {
    const { handler } = loadBundle('get', { UPSTREAM_URL: upstream.url, RELAY_PUBLIC_HOST: 'relay.example.cn', RELAY_LOG: '0' });
    expect(((await handler(makeEvent(), {})) as Result).statusCode).toBe(200);
    expectOnlyVouched(address);
  });

  test('Aliyun FC 2.0: req.clientIP', async () => {
    const { handler } = loadBundle('get', { UPSTREAM_URL: upstream.url, RELAY_PUBLIC_HOST: 'relay.example.cn', RELAY_LOG: '0' });
    const req = Object.assign(Readable.from([Buffer.alloc(0)]), { headers: { ...SPOOFED_IDENTITY, ...API_HEADERS }, path: '/get', method: 'GET', url: '/get?method=api/me', clientIP: '42.120.0.9', queries: {} });
    const status = await new Promise<number>((resolve) => {
      let code = 0;
      void handler(req, { setStatusCode: (value: number) => (code = value), setHeader: () => undefined, send: () => resolve(code) }, {});
    });
    expect(status).toBe(200);
    expectOnlyVouched('42.120.0.9');
  });

  test("a backend's x-relay-* headers never reach the client through an event either", async () => {
    const { handler } = loadBundle('get', { UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
    const result = (await handler(events.lambdaV2({ method: 'GET', path: '/get', query: 'method=api/forge' }), {})) as Result;
    expect(result.statusCode).toBe(500);
    expect(Object.keys(result.headers ?? {}).filter((name) => name.startsWith('x-relay-'))).toEqual([]);
  });
});
