import { randomBytes } from 'node:crypto';
import { PLATFORM_FIXTURES, type PlatformFixture, type RequestParts } from './fixtures/events';
import { loadBundle, type BundleHandler } from './helpers/processes';
import { startUpstream, type Upstream } from './helpers/servers';

// One conformance table per platform, generated from the fixtures: every documented request shape in
// both forms (the vendor's example and the minimal event with only what the platform guarantees), run
// against the built bundles in dist/, checking what reached the backend and the result's format.

const IMAGE = randomBytes(64 * 1024);
const BLOB = randomBytes(4096);

interface Row {
  name: string;
  fn: 'get' | 'post' | 'put' | 'getDownImg';
  parts: RequestParts;
  /** What the backend must receive: its request target and body. */
  upstream: { url: string; body: Buffer };
  /** The response body the client must get back. */
  answer: Buffer | { json: unknown };
  /** Only where the event can mark a body as base64. */
  needsBase64?: boolean;
}

const ROWS: Row[] = [
  { name: 'GET, query style', fn: 'get', parts: { method: 'GET', path: '/get', query: 'method=api/users&page=2' }, upstream: { url: '/api/users?page=2', body: Buffer.alloc(0) }, answer: { json: { ok: true } } },
  { name: 'GET, path style, no query at all', fn: 'get', parts: { method: 'GET', path: '/get/api/users', query: '' }, upstream: { url: '/api/users', body: Buffer.alloc(0) }, answer: { json: { ok: true } } },
  {
    name: 'POST JSON, the path in the body',
    fn: 'post',
    parts: { method: 'POST', path: '/post', query: '', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"method":"api/orders","name":"小程序","n":12345678901234567890}') },
    upstream: { url: '/api/orders', body: Buffer.from('{"name":"小程序","n":12345678901234567890}') },
    answer: { json: { ok: true } },
  },
  {
    name: 'PUT binary, the path in the query',
    fn: 'put',
    parts: { method: 'PUT', path: '/put', query: 'method=api/blob', headers: { 'content-type': 'application/octet-stream' }, body: BLOB, base64: true },
    upstream: { url: '/api/blob', body: BLOB },
    answer: { json: { ok: true } },
    needsBase64: true,
  },
  { name: 'GET a binary image', fn: 'getDownImg', parts: { method: 'GET', path: '/getDownImg', query: 'method=img/a.png' }, upstream: { url: '/img/a.png', body: Buffer.alloc(0) }, answer: IMAGE },
];

let upstream: Upstream;
const handlers: Record<string, BundleHandler> = {};
beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url === '/img/a.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      return void res.end(IMAGE);
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  for (const fn of ['get', 'post', 'put', 'getDownImg']) handlers[fn] = loadBundle(fn, { UPSTREAM_URL: upstream.url, RELAY_LOG: '0' }).handler;
});
afterAll(() => upstream.close());

type Result = Record<string, any>;

/** The result in the platform's own format, and the body bytes it carries. */
function read(fixture: PlatformFixture, result: Result): { status: number; contentType: string | undefined; body: Buffer } {
  const keys = Object.keys(result).sort();
  if (fixture.result === 'lambda-v1') {
    expect(keys).toEqual(['body', 'isBase64Encoded', 'multiValueHeaders', 'statusCode']);
  } else if (fixture.result === 'lambda-v2') {
    expect(keys.filter((key) => key !== 'cookies')).toEqual(['body', 'headers', 'isBase64Encoded', 'statusCode']);
  } else {
    // Aliyun's gateway answers 503 to anything but exactly these four (document 54788).
    expect(keys).toEqual(['body', 'headers', 'isBase64Encoded', 'statusCode']);
    expect(Object.values(result.headers).every((value) => typeof value === 'string')).toBe(true);
  }
  expect(typeof result.body).toBe('string');
  expect(typeof result.isBase64Encoded).toBe('boolean');
  const contentType = fixture.result === 'lambda-v1' ? result.multiValueHeaders['content-type']?.[0] : result.headers['content-type'];
  return { status: result.statusCode, contentType, body: Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') };
}

describe.each(PLATFORM_FIXTURES.map((fixture) => [`${fixture.name} (${fixture.source.url})`, fixture] as const))('%s', (_title, fixture) => {
  test('names its source: title, section, date read', () => {
    expect(fixture.source.title.length).toBeGreaterThan(10);
    expect(fixture.source.section.length).toBeGreaterThan(3);
    expect(fixture.source.url).toMatch(/^https:\/\/(help\.aliyun\.com|cloud\.tencent\.com|docs\.aws\.amazon\.com)\//);
    expect(fixture.source.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  const rows = ['documented', 'minimal'].flatMap((form) =>
    ROWS.filter((row) => !row.needsBase64 || fixture.base64Bodies).map((row) => [`${form} event: ${row.name}`, form as 'documented' | 'minimal', row] as const),
  );
  test.each(rows)('%s', async (_name, form, row) => {
    const event = fixture[form](row.parts);
    const before = upstream.requests.length;
    const result = (await handlers[row.fn]!(fixture.asBuffer ? Buffer.from(JSON.stringify(event)) : event, {})) as Result;
    const answer = read(fixture, result);
    expect(answer.status).toBe(200);
    expect(upstream.requests.length).toBe(before + 1);
    const seen = upstream.requests[upstream.requests.length - 1]!;
    expect([seen.method, seen.url]).toEqual([row.parts.method, row.upstream.url]);
    expect(seen.body.equals(row.upstream.body)).toBe(true);
    if (Buffer.isBuffer(row.answer)) {
      expect(answer.contentType).toBe('image/png');
      expect(answer.body.equals(row.answer)).toBe(true);
    } else expect(JSON.parse(answer.body.toString('utf8'))).toEqual(row.answer.json);
  });
});
