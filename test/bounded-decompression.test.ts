import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { loadBundle } from './helpers/processes';
import { send, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';

// Class 5 of the hardening: the relay inflates only where it must (FC 2.0 cannot pass Content-Encoding
// on), and then only up to RELAY_MAX_RESPONSE_BYTES of output: a small compressed bomb is a 502, not
// hundreds of megabytes in memory. Compressed request bodies are never inflated: they go upstream
// exactly as they came.

const MB = 1024 * 1024;
const BOMB_SIZE = 256 * MB;

/** 256 MB of zeros, compressed without ever holding them: a few hundred KB on the wire. */
function bomb(compress: zlib.Gzip | zlib.Deflate | zlib.BrotliCompress): Promise<Buffer> {
  const zeros = Buffer.alloc(MB);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    compress.on('data', (chunk: Buffer) => chunks.push(chunk));
    compress.on('end', () => resolve(Buffer.concat(chunks)));
    compress.on('error', reject);
    Readable.from((function* () {
      for (let i = 0; i < BOMB_SIZE / MB; i++) yield zeros;
    })()).pipe(compress);
  });
}

const bombs: Record<string, Buffer> = {};
let upstream: Upstream;

beforeAll(async () => {
  bombs.gzip = await bomb(zlib.createGzip({ level: 1 }));
  bombs.deflate = await bomb(zlib.createDeflate({ level: 1 }));
  bombs.br = await bomb(zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } }));
  upstream = await startUpstream((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const encoding = url.pathname.split('/').pop() ?? '';
    if (url.pathname.startsWith('/bomb/')) {
      // Compresses whatever the relay asked for, as a hostile or misconfigured server would.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': encoding });
      return void res.end(bombs[encoding]);
    }
    if (url.pathname === '/small/gzip') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      return void res.end(zlib.gzipSync('{"small":true}'));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ encoding: req.headers['content-encoding'], body: body.toString('base64') }));
  });
}, 60_000);
afterAll(() => upstream.close());

/** Calls the FC 2.0 `(req, resp)` handler of a built bundle and collects what it sends. */
function callFc2(handler: (...args: unknown[]) => unknown, target: string) {
  const req = Object.assign(Readable.from([Buffer.alloc(0)]), { headers: {}, path: target.split('?')[0], method: 'GET', url: target, clientIP: '203.0.113.1', queries: {} });
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve) => {
    let status = 0;
    const headers: Record<string, unknown> = {};
    void handler(req, { setStatusCode: (code: number) => (status = code), setHeader: (name: string, value: unknown) => (headers[name] = value), send: (body: Buffer | string) => resolve({ status, headers, body: Buffer.from(body) }) }, {});
  });
}

describe('FC 2.0 inflates, bounded by RELAY_MAX_RESPONSE_BYTES', () => {
  test.each(['gzip', 'deflate', 'br'])('a %s bomb (256 MB inflated) is a 502 RESPONSE_TOO_LARGE, memory flat', async (encoding) => {
    const { handler } = loadBundle('getDownImg', { UPSTREAM_URL: upstream.url, RELAY_MAX_RESPONSE_BYTES: String(4 * MB), RELAY_LOG: '0' });
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const answer = await callFc2(handler, `/getDownImg?method=bomb/${encoding}`);
    const growth = process.memoryUsage().rss - rssBefore;
    expect([answer.status, answer.headers['x-relay-error']]).toEqual([502, 'RESPONSE_TOO_LARGE']);
    expect(JSON.parse(answer.body.toString()).error.message).toMatch(/larger than 4194304 bytes once decoded/);
    // Inflating it whole would take 256 MB; the cap keeps it to a few.
    expect(growth).toBeLessThan(64 * MB);
  });

  test('a small compressed answer is still decoded and passed on', async () => {
    const { handler } = loadBundle('get', { UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
    const answer = await callFc2(handler, '/get?method=small/gzip');
    expect([answer.status, answer.body.toString(), answer.headers['content-encoding']]).toEqual([200, '{"small":true}', undefined]);
  });
});

describe('compressed request bodies are never inflated', () => {
  let relay: RunningRelay;
  beforeAll(async () => {
    relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
  });
  afterAll(() => relay.close());

  test('with the path in the query, a gzip body (a bomb included) goes upstream byte for byte, encoding kept', async () => {
    const reply = await send(relay.url, '/post?method=api/echo', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bombs.gzip });
    expect(reply.status).toBe(200);
    const seen = reply.json();
    expect(seen.encoding).toBe('gzip');
    expect(Buffer.from(seen.body, 'base64').equals(bombs.gzip!)).toBe(true);
  });

  test('with the path expected in the body, a compressed body is refused with 400 BAD_BODY (it is not read)', async () => {
    const before = upstream.requests.length;
    const reply = await send(relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: zlib.gzipSync('{"method":"api/echo"}') });
    expect([reply.status, reply.headers['x-relay-error']]).toEqual([400, 'BAD_BODY']);
    expect(reply.json().error.message).toMatch(/gzip-encoded/);
    expect(upstream.requests.length).toBe(before);
  });
});
