import { Readable } from 'node:stream';
import * as events from './fixtures/events';
import { loadBundle, type BundleHandler } from './helpers/processes';
import { startUpstream, type Upstream } from './helpers/servers';

// Class 8 of the hardening: an event no platform would send (wrong types, lone surrogates, missing
// fields, huge or non-string values) is answered 400 BAD_EVENT by every adapter, in the platform's
// own result format; nothing in an event can throw out of the handler.

const LONE = '\uD800';
const HUGE = 'x'.repeat(3 * 1024 * 1024);
const GET = { method: 'GET', path: '/get', query: 'method=api/users' };

type Event = Record<string, any>;
type Result = { statusCode: number; headers?: Record<string, string>; multiValueHeaders?: Record<string, string[]>; body: string };

/** [what is wrong, how the documented event is spoiled]: applied to every platform's event below. */
/** Spoils the header map the platform reads (Lambda v1 reads multiValueHeaders when it is there). */
const withHeaders = (event: Event, spoil: (headers: Record<string, unknown>) => unknown) => {
  const key = 'multiValueHeaders' in event ? 'multiValueHeaders' : 'headers';
  event[key] = spoil(event[key]);
};

const SPOILERS: [string, (event: Event) => void][] = [
  ['headers is a string', (event) => withHeaders(event, () => 'a: b')],
  ['a header value is a number', (event) => withHeaders(event, (headers) => ({ ...headers, 'x-n': 12 }))],
  ['a header value is an object', (event) => withHeaders(event, (headers) => ({ ...headers, 'x-o': { a: 1 } }))],
  ['a header value is null', (event) => withHeaders(event, (headers) => ({ ...headers, 'x-o': null }))],
  ['a header value holds a lone surrogate', (event) => withHeaders(event, (headers) => ({ ...headers, 'x-s': `a${LONE}` }))],
  ['a header value is 3 MB', (event) => withHeaders(event, (headers) => ({ ...headers, 'x-big': HUGE }))],
  ['the body is a number', (event) => (event.body = 42)],
  ['the body is an object', (event) => (event.body = { method: 'api/users' })],
  ['the body holds a lone surrogate', (event) => Object.assign(event, { body: `{"a":"${LONE}"}`, isBase64Encoded: false })],
  ['the body claims base64 but is not', (event) => Object.assign(event, { body: '%%%not base64%%%', isBase64Encoded: true })],
  ['isBase64Encoded is a number', (event) => Object.assign(event, { body: 'e30=', isBase64Encoded: 1 })],
];

/** Where each platform keeps its method and path: spoiled too, as their own rows. */
interface Shape {
  make(): Event;
  method(event: Event, value: unknown): void;
  path(event: Event, value: unknown): void;
  query(event: Event, value: unknown): void;
  /** The runtime hands the event over as a Buffer of JSON. */
  asBuffer: boolean;
}

const SHAPES: Record<string, Shape> = {
  'Aliyun FC 3.0': { make: () => events.fc3(GET), method: (e, v) => (e.requestContext.http.method = v), path: (e, v) => (e.rawPath = v), query: (e, v) => (e.queryParameters = v), asBuffer: true },
  'Aliyun API Gateway': { make: () => events.aliyunApiGateway(GET), method: (e, v) => (e.httpMethod = v), path: (e, v) => (e.path = v), query: (e, v) => (e.queryParameters = v), asBuffer: true },
  'Tencent SCF API Gateway': { make: () => events.scfApiGateway(GET), method: (e, v) => (e.httpMethod = v), path: (e, v) => (e.path = v), query: (e, v) => (e.queryString = v), asBuffer: false },
  'Tencent SCF function URL': { make: () => events.scfFunctionUrl(GET), method: (e, v) => (e.httpMethod = v), path: (e, v) => (e.path = v), query: (e, v) => (e.queryString = v), asBuffer: false },
  'AWS Lambda v2': { make: () => events.lambdaV2(GET), method: (e, v) => (e.requestContext.http.method = v), path: (e, v) => (e.rawPath = v), query: (e, v) => (e.rawQueryString = v), asBuffer: false },
  'AWS Lambda v1': { make: () => events.lambdaV1(GET), method: (e, v) => (e.httpMethod = v), path: (e, v) => (e.path = v), query: (e, v) => (e.multiValueQueryStringParameters = v), asBuffer: false },
};

const FIELD_SPOILERS: [string, (shape: Shape, event: Event) => void][] = [
  ['the method is a number', (shape, event) => shape.method(event, 7)],
  ['the method is not a token', (shape, event) => shape.method(event, 'GET /x HTTP/1.1\r\n')],
  ['the method is missing', (shape, event) => shape.method(event, undefined)],
  ['the path is a number', (shape, event) => shape.path(event, 1)],
  ['the path holds a lone surrogate', (shape, event) => shape.path(event, `/get${LONE}`)],
  ['the path is 3 MB', (shape, event) => shape.path(event, `/get/${HUGE}`)],
  ['the query is a number', (shape, event) => shape.query(event, 5)],
  ['a query value holds a lone surrogate', (shape, event) => shape.query(event, typeof shape.make().queryString === 'string' || 'rawQueryString' in shape.make() ? `method=api/users&q=${LONE}` : { method: 'api/users', q: LONE })],
];

let upstream: Upstream;
let handler: BundleHandler;
beforeAll(async () => {
  upstream = await startUpstream((_req, res) => res.end('{}'));
  handler = loadBundle('post', { UPSTREAM_URL: upstream.url, RELAY_LOG: '0' }).handler;
});
afterAll(() => upstream.close());

const relayErrorOf = (result: Result) => result.headers?.['x-relay-error'] ?? result.multiValueHeaders?.['x-relay-error']?.[0];

const rows = Object.entries(SHAPES).flatMap(([platform, shape]) => [
  ...SPOILERS.map(([what, spoil]) => [platform, what, (event: Event) => spoil(event)] as const),
  ...FIELD_SPOILERS.map(([what, spoil]) => [platform, what, (event: Event) => spoil(shape, event)] as const),
]);

test.each(rows)('%s, %s: 400 BAD_EVENT, nothing sent upstream', async (platform, _what, spoil) => {
  const shape = SHAPES[platform]!;
  const event = shape.make() as Event;
  // A POST so that body spoilers count; the path is the `post` function's.
  shape.method(event, 'POST');
  spoil(event);
  const before = upstream.requests.length;
  const result = (await handler(shape.asBuffer ? Buffer.from(JSON.stringify(event)) : event, {})) as Result;
  // A 3 MB header or path may be refused before it is read at all; either way it is a clean 4xx.
  expect([result.statusCode, relayErrorOf(result)]).toEqual([400, 'BAD_EVENT']);
  expect(typeof result.body).toBe('string');
  expect(upstream.requests.length).toBe(before);
});

test.each([
  ['null', null],
  ['a number', 42],
  ['an array', [1, 2]],
  ['a Buffer of invalid JSON', Buffer.from('{"httpMethod":')],
  ['an object with no HTTP fields', { hello: 'world' }],
  ['an object whose getter throws', Object.defineProperty({ httpMethod: 'GET', path: '/get', queryString: {} }, 'headers', { enumerable: true, get() { throw new Error('boom'); } })],
])('an event that is %s: 400 BAD_EVENT', async (_what, event) => {
  const result = (await handler(event, {})) as Result;
  expect([result.statusCode, relayErrorOf(result)]).toEqual([400, 'BAD_EVENT']);
});

test.each([
  ['method is a number', { method: 7 }],
  ['path is missing', { path: undefined }],
  ['headers is an array', { headers: ['a'] }],
  ['a header value is a number', { headers: { 'x-n': 1 } }],
  ['url is an object', { url: { href: '/' } }],
  ['clientIP is a number', { clientIP: 1 }],
])('Aliyun FC 2.0 (req, resp) where %s: 400 BAD_EVENT through resp', async (_what, spoiled) => {
  const req = Object.assign(Readable.from([Buffer.from('{}')]), { headers: {}, path: '/post', method: 'POST', url: '/post?method=api/users', clientIP: '203.0.113.1', queries: {} }, spoiled);
  const answer = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve) => {
    let status = 0;
    const headers: Record<string, unknown> = {};
    void handler(req, { setStatusCode: (code: number) => (status = code), setHeader: (name: string, value: unknown) => (headers[name] = value), send: () => resolve({ status, headers }) }, {});
  });
  expect([answer.status, answer.headers['x-relay-error']]).toEqual([400, 'BAD_EVENT']);
});

test('after all of that, the same instance still relays a good event', async () => {
  const result = (await handler(events.lambdaV2({ method: 'POST', path: '/post', query: 'method=api/users', body: Buffer.from('{}') }), {})) as Result;
  expect(result.statusCode).toBe(200);
});

describe('hostile call arguments', () => {
  // FC may call send before the handler returns (a refusal needs no await), so nothing here waits on it.
  const fc2Answer = (req: unknown) =>
    new Promise<{ status: number; headers: Record<string, unknown> }>((resolve) => {
      let status = 0;
      const headers: Record<string, unknown> = {};
      void handler(req, { setStatusCode: (code: number) => (status = code), setHeader: (name: string, value: unknown) => (headers[name] = value), send: () => resolve({ status, headers }) }, {});
    });

  test('FC 2.0: a req whose method getter throws is answered 400 BAD_EVENT through resp', async () => {
    const req = Object.assign(Readable.from([Buffer.alloc(0)]), { headers: {}, path: '/post', url: '/post?method=api/users' });
    Object.defineProperty(req, 'method', { get: () => { throw new Error('boom'); } });
    const answer = await fc2Answer(req);
    expect([answer.status, answer.headers['x-relay-error']]).toEqual([400, 'BAD_EVENT']);
  });

  test('FC 2.0: a request stream yielding strings, not bytes, is 400 BAD_EVENT, and nothing is thrown', async () => {
    const req = Object.assign(Readable.from(['{"a":', '1}'], { objectMode: true }), { headers: {}, path: '/post', method: 'POST', url: '/post?method=api/users' });
    const answer = await fc2Answer(req);
    expect([answer.status, answer.headers['x-relay-error']]).toEqual([400, 'BAD_EVENT']);
  });

  test('FC 2.0: a resp that throws leaves the handler settled, not rejected', async () => {
    const req = Object.assign(Readable.from([Buffer.alloc(0)]), { headers: {}, path: '/post', method: 'POST', url: '/post?method=api/users' });
    const resp = { setStatusCode: () => undefined, setHeader: () => { throw new Error('resp broke'); }, send: () => undefined };
    await expect(handler(req, resp, {})).resolves.toBeUndefined();
  });

  test('a revoked Proxy as the event: 400 BAD_EVENT, no synchronous throw', async () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    let result: unknown;
    expect(() => (result = handler(proxy, {}))).not.toThrow();
    expect([((await result) as Result).statusCode, relayErrorOf((await result) as Result)]).toEqual([400, 'BAD_EVENT']);
  });

  test('a Buffer event whose JSON holds bytes that are not UTF-8: 400 BAD_EVENT, not U+FFFD relayed', async () => {
    const json = Buffer.from(JSON.stringify(events.fc3({ method: 'POST', path: '/post', query: 'method=api/XX' })));
    const at = json.indexOf('api/XX') + 4;
    json[at] = 0xff;
    json[at + 1] = 0xfe;
    const before = upstream.requests.length;
    const result = (await handler(json, {})) as Result;
    expect([result.statusCode, relayErrorOf(result)]).toEqual([400, 'BAD_EVENT']);
    expect(upstream.requests.length).toBe(before);
  });
});
