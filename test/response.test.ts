import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { send, useRelay } from './helpers/servers';

// Transparency: status, headers and body bytes come back as the backend sent them.

const IMAGE = randomBytes(3 * 1024 * 1024);
const GZIPPED = gzipSync(JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ i, name: `item ${i}` })) }));

const context = useRelay((req, res) => {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  switch (path) {
    case '/img/big.jpg':
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': IMAGE.length, 'cache-control': 'max-age=86400', etag: '"v1"' });
      return void res.end(IMAGE);
    case '/teapot':
      res.writeHead(418, { 'content-type': 'application/json', 'x-backend': 'yes' });
      return void res.end('{"error":"I am a teapot"}');
    case '/login':
      res.setHeader('set-cookie', ['laravel_session=abc; Path=/; HttpOnly', 'XSRF-TOKEN=def; Path=/; Max-Age=7200']);
      res.writeHead(204);
      return void res.end();
    case '/gzip':
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', vary: 'Accept-Encoding' });
      return void res.end(GZIPPED);
    case '/redirect':
      res.writeHead(302, { location: '/v1/elsewhere' });
      return void res.end();
    case '/chunked':
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'keep-alive, x-hop', 'x-hop': 'internal', 'keep-alive': 'timeout=5' });
      res.write('part1,');
      setTimeout(() => res.end('part2'), 20);
      return;
    case '/own-request-id':
      res.writeHead(200, { 'x-request-id': 'from-backend' });
      return void res.end('ok');
    default:
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('backend 404');
  }
});

test('a 3 MB image comes back byte-exact with its own Content-Type', async () => {
  const reply = await send(context.relay.url, '/getDownImg?method=img/big.jpg');
  expect(reply.status).toBe(200);
  expect(reply.headers['content-type']).toBe('image/jpeg');
  expect(reply.headers['content-length']).toBe(String(IMAGE.length));
  expect(reply.headers['etag']).toBe('"v1"');
  expect(reply.body.equals(IMAGE)).toBe(true);
});

test('the backend status, headers and body pass through, with no x-relay-error', async () => {
  const reply = await send(context.relay.url, '/get?method=teapot');
  expect(reply.status).toBe(418);
  expect(reply.headers['x-backend']).toBe('yes');
  expect(reply.headers['x-relay-error']).toBeUndefined();
  expect(reply.text).toBe('{"error":"I am a teapot"}');
  const missing = await send(context.relay.url, '/get?method=nothing/here');
  expect([missing.status, missing.text, missing.headers['x-relay-error']]).toEqual([404, 'backend 404', undefined]);
});

test('two Set-Cookie headers stay two', async () => {
  const reply = await send(context.relay.url, '/post?method=login', { method: 'POST', body: '{}' });
  expect(reply.status).toBe(204);
  expect(reply.headers['set-cookie']).toEqual(['laravel_session=abc; Path=/; HttpOnly', 'XSRF-TOKEN=def; Path=/; Max-Age=7200']);
});

test('a gzip body stays gzip, with its Content-Encoding', async () => {
  const reply = await send(context.relay.url, '/get?method=gzip', { headers: { 'accept-encoding': 'gzip' } });
  expect(reply.headers['content-encoding']).toBe('gzip');
  expect(reply.headers['vary']).toBe('Accept-Encoding');
  expect(reply.body.equals(GZIPPED)).toBe(true);
  expect(context.upstream.requests.at(-1)!.headers['accept-encoding']).toBe('gzip');
});

test('a redirect is passed to the client, not followed', async () => {
  const before = context.upstream.requests.length;
  const reply = await send(context.relay.url, '/get?method=redirect');
  expect(reply.status).toBe(302);
  expect(reply.headers['location']).toBe('/v1/elsewhere');
  expect(context.upstream.requests.length).toBe(before + 1);
});

test('hop-by-hop response headers are dropped; a chunked body arrives whole with a Content-Length', async () => {
  const reply = await send(context.relay.url, '/get?method=chunked');
  expect(reply.text).toBe('part1,part2');
  expect(reply.headers['content-length']).toBe('11');
  expect(reply.headers['x-hop']).toBeUndefined();
  expect(reply.headers['keep-alive']).toBeUndefined();
  expect(reply.headers['transfer-encoding']).toBeUndefined();
});

test('x-request-id is on every response; a backend one is kept', async () => {
  expect((await send(context.relay.url, '/get?method=teapot')).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect((await send(context.relay.url, '/get?method=../x')).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect((await send(context.relay.url, '/get?method=own-request-id')).headers['x-request-id']).toBe('from-backend');
});
