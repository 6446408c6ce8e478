import fc from 'fast-check';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { upstreamRequestHeaders } from '../functions/core/headers';
import * as events from './fixtures/events';
import { loadBundle, type BundleHandler } from './helpers/processes';
import { send, sendRaw, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';

// Class 6 of the hardening: header names that are also Object.prototype's (`__proto__`, `constructor`,
// `toString`, `hasOwnProperty`) are ordinary header names in every adapter, forwarded by the same rules
// as any other; and a header value from an event that is not Latin-1 text is 400 BAD_HEADER, not a 502.

// JSON.parse makes `__proto__` an own property, as a platform's JSON event does (an object literal would not).
const POISON: Record<string, string> = JSON.parse('{"__proto__":"p","constructor":"c","toString":"t","hasOwnProperty":"h","valueOf":"v"}');
const POISON_NAMES = ['__proto__', 'constructor', 'tostring', 'hasownproperty', 'valueof'];

let upstream: Upstream;
let relay: RunningRelay;
let env: Record<string, string>;
beforeAll(async () => {
  upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
  env = { UPSTREAM_URL: upstream.url, RELAY_LOG: '0' };
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});

const lastSeen = () => upstream.requests[upstream.requests.length - 1]!;
/** Values of the poisonous names as they crossed the wire (rawHeaders: Node's `headers` omits `__proto__`). */
const seenPoison = () =>
  POISON_NAMES.map((name) => {
    const raw = lastSeen().rawHeaders;
    const at = raw.findIndex((item, i) => i % 2 === 0 && item.toLowerCase() === name);
    return at === -1 ? undefined : raw[at + 1];
  });
const GET = { method: 'GET', path: '/get', query: 'method=api/users' };

test('the local server forwards them as headers like any other (Node itself leaves `__proto__` out of req.headers)', async () => {
  const head = ['GET /get?method=api/users HTTP/1.1', 'Host: relay', ...Object.entries(POISON).map(([name, value]) => `${name}: ${value}`), 'Connection: close'].join('\r\n');
  expect(await sendRaw(relay.url, head)).toMatch(/^HTTP\/1\.1 200 /);
  expect(seenPoison()).toEqual([undefined, 'c', 't', 'h', 'v']);
});

type Result = { statusCode: number; headers?: Record<string, string>; multiValueHeaders?: Record<string, string[]> };
/** x-relay-error of an event result, in whichever header shape the platform uses. */
const relayErrorOf = (result: Result) => result.headers?.['x-relay-error'] ?? result.multiValueHeaders?.['x-relay-error']?.[0];
const platforms: [string, (parts: events.RequestParts) => unknown][] = [
  ['Aliyun FC 3.0', (parts) => Buffer.from(JSON.stringify(events.fc3(parts)))],
  ['Aliyun API Gateway', (parts) => Buffer.from(JSON.stringify(events.aliyunApiGateway(parts)))],
  ['Tencent SCF API Gateway', events.scfApiGateway],
  ['Tencent SCF function URL', (parts) => events.scfFunctionUrl(parts)],
  ['AWS Lambda v2', (parts) => events.lambdaV2(parts)],
  ['AWS Lambda v1', events.lambdaV1],
];

describe.each(platforms)('%s', (_name, makeEvent) => {
  let handler: BundleHandler;
  beforeAll(() => {
    handler = loadBundle('get', env).handler;
  });

  test('forwards them as ordinary headers', async () => {
    const result = (await handler(makeEvent({ ...GET, headers: POISON }), {})) as Result;
    expect(result.statusCode).toBe(200);
    expect(seenPoison()).toEqual(['p', 'c', 't', 'h', 'v']);
  });

  test.each([
    ['Chinese text', '小程序'],
    ['an emoji', '🙂'],
    ['a character just past Latin-1', 'Ā'],
  ])('a header value with %s: 400 BAD_HEADER, nothing sent upstream', async (_case, value) => {
    const before = upstream.requests.length;
    const result = (await handler(makeEvent({ ...GET, headers: { 'x-note': value } }), {})) as Result;
    expect([result.statusCode, relayErrorOf(result)]).toEqual([400, 'BAD_HEADER']);
    expect(upstream.requests.length).toBe(before);
  });

  test('Latin-1 text beyond ASCII is a valid value and passes', async () => {
    const result = (await handler(makeEvent({ ...GET, headers: { 'x-note': 'café' } }), {})) as Result;
    expect(result.statusCode).toBe(200);
    expect(Buffer.from(lastSeen().headers['x-note'] as string, 'latin1').toString('latin1')).toBe('café');
  });
});

test('Aliyun FC 2.0 (req, resp): the same names are ordinary headers; a non-Latin-1 value is 400 BAD_HEADER', async () => {
  const { handler } = loadBundle('get', env);
  const call = (headers: Record<string, string>) => {
    const req = Object.assign(Readable.from([Buffer.alloc(0)]), { headers, path: '/get', method: 'GET', url: '/get?method=api/users', clientIP: '203.0.113.1', queries: {} });
    return new Promise<{ status: number; headers: Record<string, unknown> }>((resolve) => {
      let status = 0;
      const sent: Record<string, unknown> = {};
      void handler(req, { setStatusCode: (code: number) => (status = code), setHeader: (name: string, value: unknown) => (sent[name] = value), send: () => resolve({ status, headers: sent }) }, {});
    });
  };
  expect((await call(POISON)).status).toBe(200);
  expect(seenPoison()).toEqual(['p', 'c', 't', 'h', 'v']);
  const refused = await call({ 'x-note': '小程序' });
  expect([refused.status, refused.headers['x-relay-error']]).toEqual([400, 'BAD_HEADER']);
});

test('a header map is never consulted through its prototype: `constructor` alone does not look like a present header', async () => {
  // Had the relay used a plain object, `headers.constructor` would be Object and count as a value.
  const reply = await send(relay.url, '/get?method=api/users');
  expect(reply.status).toBe(200);
  expect(seenPoison()).toEqual([undefined, undefined, undefined, undefined, undefined]);
});

// Servers skip the core's BAD_HEADER check for headers that came through Node's parser
// (RelayRequest.headersParsed). That is sound only if the parser lets through nothing the check refuses.
test('every header Node’s HTTP parser accepts also passes the core’s header check (so servers may skip it)', async () => {
  const accepted: Record<string, string | string[] | undefined>[] = [];
  const server = http.createServer((req, res) => {
    accepted.push({ ...req.headers });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const raw = (name: string, value: Buffer) =>
    new Promise<void>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end(Buffer.concat([Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\n${name}: `, 'latin1'), value, Buffer.from('\r\nConnection: close\r\n\r\n')]));
      });
      socket.on('data', () => undefined);
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
  try {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/), fc.uint8Array({ maxLength: 16 }), async (name, bytes) => {
        await raw(name, Buffer.from(bytes.filter((byte) => byte !== 0x0d && byte !== 0x0a)));
      }),
      { numRuns: 300 },
    );
    // Every byte value at least once, alone in a value.
    for (let byte = 0; byte < 256; byte++) if (byte !== 0x0d && byte !== 0x0a) await raw('x-byte', Buffer.from([0x61, byte, 0x62]));
    expect(accepted.length).toBeGreaterThan(200);
    const context = { upstreamHost: 'u', requestId: 'r', clientIp: undefined, protocol: 'http' as const, publicHost: undefined, bodyLength: undefined };
    for (const headers of accepted) expect(() => upstreamRequestHeaders(headers, context)).not.toThrow();
  } finally {
    server.close();
  }
});
