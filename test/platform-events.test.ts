import { Readable } from 'node:stream';
import * as events from './fixtures/events';
import { loadBundle } from './helpers/processes';
import { startUpstream, type Upstream } from './helpers/servers';

// The built bundles called directly with each runtime's documented event (test/fixtures/events), as
// the runtime would: what they answer, in which shape, and what reached the upstream.

type Result = { statusCode: number; headers?: Record<string, string>; body: string; isBase64Encoded: boolean; [key: string]: unknown };

const bodyOf = (result: Result) => Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
const jsonOf = (result: Result) => JSON.parse(bodyOf(result).toString('utf8'));

let upstream: Upstream;
let env: Record<string, string>;
const logLines: string[] = [];

beforeAll(async () => {
  upstream = await startUpstream((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    if (url.pathname === '/api/login') {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'] });
      return void res.end('{"ok":true}');
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString('base64') }));
  });
  env = { UPSTREAM_URL: upstream.url };
  // The bundles log one JSON line per request to stdout; collect them instead of printing them.
  jest.spyOn(process.stdout, 'write').mockImplementation((line) => {
    logLines.push(String(line));
    return true;
  });
});
afterAll(async () => {
  jest.restoreAllMocks();
  await upstream.close();
});

const lastSeen = () => upstream.requests[upstream.requests.length - 1]!;
const GET_USERS: events.RequestParts = { method: 'GET', path: '/get', query: 'method=api/users&page=2' };

test.each(['get', 'post', 'put', 'getDownImg', 'delete'])('dist/%s/index.js exports handler and main_handler, the same function of arity 0', (fn) => {
  const bundle = loadBundle(fn, env);
  expect(typeof bundle.handler).toBe('function');
  expect(bundle.main_handler).toBe(bundle.handler);
  // Lambda's newer Node runtimes refuse a handler that declares a callback parameter.
  expect(bundle.handler.length).toBe(0);
});

describe('each documented event shape is recognised and answered in kind', () => {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const cases: [string, (parts: events.RequestParts) => unknown, string[]][] = [
    ['Aliyun FC 3.0 (Buffer of JSON)', (parts) => json(events.fc3(parts)), ['statusCode', 'headers', 'body', 'isBase64Encoded']],
    ['Aliyun API Gateway (Buffer of JSON)', (parts) => json(events.aliyunApiGateway(parts)), ['isBase64Encoded', 'statusCode', 'headers', 'body']],
    ['Tencent SCF API Gateway', (parts) => events.scfApiGateway(parts), ['isBase64Encoded', 'statusCode', 'headers', 'body']],
    ['Tencent SCF function URL, parsed queryString', (parts) => events.scfFunctionUrl(parts), ['isBase64Encoded', 'statusCode', 'headers', 'body']],
    ['Tencent SCF function URL, raw queryString', (parts) => events.scfFunctionUrl(parts, true), ['isBase64Encoded', 'statusCode', 'headers', 'body']],
    ['AWS Lambda v2', (parts) => events.lambdaV2(parts), ['statusCode', 'headers', 'body', 'isBase64Encoded']],
    ['AWS Lambda v1', (parts) => events.lambdaV1(parts), ['statusCode', 'multiValueHeaders', 'body', 'isBase64Encoded']],
    ['Aliyun FC 3.0 (JSON string)', (parts) => JSON.stringify(events.fc3(parts)), ['statusCode', 'headers', 'body', 'isBase64Encoded']],
  ];

  test.each(cases)('%s: GET', async (_name, makeEvent, keys) => {
    const { handler } = loadBundle('get', env);
    const result = (await handler(makeEvent(GET_USERS), {})) as Result;
    expect(Object.keys(result).sort()).toEqual([...keys].sort());
    expect(result.statusCode).toBe(200);
    expect(jsonOf(result).url).toBe('/api/users?page=2');
    // Internal headers of every platform stay behind.
    expect(Object.keys(lastSeen().headers).filter((name) => /^x-(fc|scf|api|ca|amzn)-/.test(name))).toEqual([]);
  });

  test.each(cases)('%s: POST with a base64 binary body and `method` in the query', async (_name, makeEvent) => {
    const { handler } = loadBundle('post', env);
    const payload = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]);
    const result = (await handler(makeEvent({ method: 'POST', path: '/post', query: 'method=api/upload', body: payload, base64: true, headers: { 'content-type': 'application/octet-stream' } }), {})) as Result;
    expect(result.statusCode).toBe(200);
    expect(lastSeen().url).toBe('/api/upload');
    expect(lastSeen().body.equals(payload)).toBe(true);
  });
});

test('warm invocations of one instance reuse one upstream connection', async () => {
  const { handler } = loadBundle('get', env);
  const before = upstream.connections();
  for (let i = 0; i < 3; i++) expect(((await handler(events.fc3(GET_USERS), {})) as Result).statusCode).toBe(200);
  expect(upstream.connections() - before).toBe(1);
});

test("the caller's address comes from each platform's own field", async () => {
  const { handler } = loadBundle('get', env);
  const seenIp = async (event: unknown) => {
    await handler(event, {});
    return lastSeen().headers['x-forwarded-for'];
  };
  expect(await seenIp(events.fc3(GET_USERS))).toBe('11.11.11.12');
  expect(await seenIp(events.scfApiGateway(GET_USERS))).toBe('10.0.2.14');
  expect(await seenIp(events.scfFunctionUrl(GET_USERS))).toBe('203.0.113.7');
  expect(await seenIp(events.lambdaV2(GET_USERS))).toBe('198.51.100.9');
  expect(await seenIp(events.lambdaV1(GET_USERS))).toBe('198.51.100.10');
});

test('a callback-style runtime is answered through the callback', async () => {
  const { main_handler } = loadBundle('get', env);
  const result = await new Promise<Result>((resolve, reject) => {
    const returned = main_handler(events.scfApiGateway(GET_USERS), {}, (error: unknown, value: Result) => (error ? reject(error) : resolve(value)));
    expect(returned).toBeUndefined();
  });
  expect(result.statusCode).toBe(200);
});

test('Lambda v2: cookies go upstream as a Cookie header and come back in `cookies`', async () => {
  const { handler } = loadBundle('get', env);
  const result = (await handler(events.lambdaV2({ method: 'GET', path: '/get', query: 'method=api/login' }, ['sid=1', 'lang=zh']), {})) as Result;
  expect(lastSeen().headers.cookie).toBe('sid=1; lang=zh');
  expect(result.cookies).toEqual(['a=1; Path=/', 'b=2; Path=/']);
  expect(result.headers?.['set-cookie']).toBeUndefined();
});

test('Lambda v1: several Set-Cookie come back in multiValueHeaders', async () => {
  const { handler } = loadBundle('get', env);
  const result = (await handler(events.lambdaV1({ method: 'GET', path: '/get', query: 'method=api/login' }), {})) as Result;
  expect((result.multiValueHeaders as Record<string, string[]>)['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
});

test('single-value platforms join several Set-Cookie into one header, as WeChat does', async () => {
  const { handler } = loadBundle('get', env);
  const result = (await handler(events.scfFunctionUrl({ method: 'GET', path: '/get', query: 'method=api/login' }), {})) as Result;
  expect(result.headers?.['set-cookie']).toBe('a=1; Path=/, b=2; Path=/');
});

describe('Aliyun FC 2.0 (req, resp, context)', () => {
  function fc2Call(req: Record<string, unknown>) {
    const calls: [string, unknown][] = [];
    return new Promise<{ status: number; headers: [string, unknown][]; body: Buffer }>((resolve) => {
      let status = 0;
      const resp = {
        setStatusCode: (code: number) => (status = code),
        setHeader: (name: string, value: unknown) => calls.push([name, value]),
        deleteHeader: () => undefined,
        send: (body: Buffer) => resolve({ status, headers: calls, body }),
      };
      const { handler } = loadBundle('post', env);
      void handler(req, resp, { requestId: 'r' });
    });
  }

  test('a body already buffered in req.body (newer runtimes), on the default domain', async () => {
    const answer = await fc2Call({
      headers: { 'content-type': 'application/json', 'x-fc-request-id': 'r' },
      path: '/2016-08-15/proxy/mp-relay/post/',
      url: '/2016-08-15/proxy/mp-relay/post/?x=1',
      queries: { x: '1' },
      method: 'POST',
      clientIP: '42.120.0.1',
      body: Buffer.from('{"method":"api/login","n":1}'),
    });
    expect(answer.status).toBe(200);
    expect(lastSeen().url).toBe('/api/login?x=1');
    expect(lastSeen().body.toString()).toBe('{"n":1}');
    expect(lastSeen().headers['x-forwarded-for']).toBe('42.120.0.1');
    // Several Set-Cookie go as one array; Content-Length is the platform's to set.
    expect(answer.headers).toContainEqual(['set-cookie', ['a=1; Path=/', 'b=2; Path=/']]);
    expect(answer.headers.map(([name]) => name)).not.toContain('content-length');
  });

  test('a body on the request stream (older runtimes), the query rebuilt from req.queries when url has none', async () => {
    const req = Object.assign(Readable.from([Buffer.from('{"method":"api/echo","a":[1]}')]), {
      headers: { 'content-type': 'application/json' },
      path: '/post',
      queries: { tag: ['a', 'b'], q: '小程序' },
      method: 'POST',
      clientIP: '42.120.0.2',
    });
    const answer = await fc2Call(req as unknown as Record<string, unknown>);
    expect(answer.status).toBe(200);
    expect(lastSeen().body.toString()).toBe('{"a":[1]}');
    const url = new URL(lastSeen().url, 'http://x');
    expect([url.pathname, url.searchParams.getAll('tag'), url.searchParams.get('q')]).toEqual(['/api/echo', ['a', 'b'], '小程序']);
  });
});

describe('relay errors in the platform format', () => {
  test.each([
    ['an object no runtime sends', { records: [{ secret: 'do-not-log' }], detail: 'x' }, 'event keys: records,detail'],
    ['a Buffer that is not JSON', Buffer.from('not json'), 'not a JSON object: object'],
    ['nothing', undefined, 'not a JSON object: undefined'],
  ])('%s: 400 BAD_EVENT, logged with top-level keys only', async (_name, event, logged) => {
    const { handler } = loadBundle('get', env);
    logLines.length = 0;
    const result = (await handler(event, {})) as Result;
    expect([result.statusCode, result.headers?.['x-relay-error'], jsonOf(result).error.code]).toEqual([400, 'BAD_EVENT', 'BAD_EVENT']);
    const line = logLines.join('');
    expect(line).toContain(logged);
    expect(line).not.toContain('do-not-log');
  });

  test('a request body over the platform limit: 413 naming the platform', async () => {
    const { handler } = loadBundle('post', { ...env, RELAY_MAX_BODY_BYTES: String(64 * 1024 * 1024) });
    const body = Buffer.alloc(7 * 1024 * 1024, 0x61);
    const result = (await handler(events.scfFunctionUrl({ method: 'POST', path: '/post', query: 'method=api/echo', body }), {})) as Result;
    expect([result.statusCode, result.headers?.['x-relay-error']]).toEqual([413, 'BODY_TOO_LARGE']);
    expect(jsonOf(result).error.message).toContain('Tencent SCF');
  });

  test('a missing UPSTREAM_URL: 500 CONFIG naming the variable', async () => {
    const { handler } = loadBundle('get', {});
    const result = (await handler(events.lambdaV2(GET_USERS), {})) as Result;
    expect([result.statusCode, result.headers?.['x-relay-error']]).toEqual([500, 'CONFIG']);
    expect(jsonOf(result).error.message).toMatch(/^UPSTREAM_URL: /);
  });
});

test('Aliyun FC 2.0: a request stream that fails is still answered, with a relay error', async () => {
  const { handler } = loadBundle('post', env);
  const req = Object.assign(new Readable({ read() { this.destroy(new Error('client went away')); } }), {
    headers: {},
    path: '/post',
    method: 'POST',
    url: '/post?method=api/echo',
  });
  const answer = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve) => {
    let status = 0;
    const headers: Record<string, unknown> = {};
    void handler(req, { setStatusCode: (code: number) => (status = code), setHeader: (name: string, value: unknown) => (headers[name] = value), send: () => resolve({ status, headers }) }, {});
  });
  expect([answer.status, answer.headers['x-relay-error']]).toEqual([400, 'BAD_REQUEST']);
});
