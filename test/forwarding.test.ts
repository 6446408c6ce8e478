import { echo, send, sendRaw, startRelay, useRelay } from './helpers/servers';

// The client contract: where the API path comes from, and what reaches the backend.

const context = useRelay(echo, '/v1');
beforeEach(() => {
  context.upstream.requests.length = 0;
});

const lastUpstream = () => context.upstream.requests.at(-1)!;

describe('GET', () => {
  test('method in the query becomes the path; the rest of the query is forwarded', async () => {
    const reply = await send(context.relay.url, '/get?method=api/users&page=2');
    expect(reply.status).toBe(200);
    expect(lastUpstream().method).toBe('GET');
    expect(lastUpstream().url).toBe('/v1/api/users?page=2');
  });

  test('the query is forwarded as the raw substring: repeats, +, %20, order kept', async () => {
    await send(context.relay.url, '/get?b=1&a=x+y&method=api%2Fsearch&a=%20z&c[]=1&c[]=2&flag');
    expect(lastUpstream().url).toBe('/v1/api/search?b=1&a=x+y&a=%20z&c[]=1&c[]=2&flag');
  });

  test('a leading slash in method is accepted', async () => {
    await send(context.relay.url, '/get?method=%2Fapi%2Fusers');
    expect(lastUpstream().url).toBe('/v1/api/users');
  });

  test('path style keeps the API its own method parameter', async () => {
    await send(context.relay.url, '/get/api/users?method=list&page=2');
    expect(lastUpstream().url).toBe('/v1/api/users?method=list&page=2');
  });

  test('non-ASCII path segments are percent-encoded once', async () => {
    await send(context.relay.url, `/get?method=${encodeURIComponent('api/用户/café')}`);
    expect(lastUpstream().url).toBe('/v1/api/%E7%94%A8%E6%88%B7/caf%C3%A9');
    await send(context.relay.url, '/get/api/%E7%94%A8%E6%88%B7');
    expect(lastUpstream().url).toBe('/v1/api/%E7%94%A8%E6%88%B7');
  });

  test('the renamed path parameter is honoured (RELAY_PATH_PARAM)', async () => {
    const renamed = await startRelay({ UPSTREAM_URL: context.upstream.url, RELAY_PATH_PARAM: 'api' });
    try {
      await send(renamed.url, '/get?api=users/1&method=keep');
      expect(lastUpstream().url).toBe('/users/1?method=keep');
    } finally {
      await renamed.close();
    }
  });

  test('getDownImg forwards a GET like get', async () => {
    await send(context.relay.url, '/getDownImg?method=img/a.png&w=100');
    expect(lastUpstream()).toMatchObject({ method: 'GET', url: '/v1/img/a.png?w=100' });
  });
});

describe('POST and PUT', () => {
  test('method as a JSON field is removed and every other byte stays', async () => {
    const body = '{ "id": 12345678901234567890,\n  "method": "api/orders",  "price": 1.0, "nested": {"method": "inner"}, "z": [1, 2] }';
    const reply = await send(context.relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(reply.status).toBe(200);
    expect(lastUpstream().url).toBe('/v1/api/orders');
    expect(lastUpstream().body.toString()).toBe('{ "id": 12345678901234567890,\n  "price": 1.0, "nested": {"method": "inner"}, "z": [1, 2] }');
    expect(lastUpstream().headers['content-length']).toBe(String(lastUpstream().body.length));
  });

  test('method as the last or only JSON field', async () => {
    await send(context.relay.url, '/put', { method: 'PUT', body: '{"a":"x,}\\"","method":"api/a"}' });
    expect(lastUpstream()).toMatchObject({ method: 'PUT', url: '/v1/api/a' });
    expect(lastUpstream().body.toString()).toBe('{"a":"x,}\\""}');
    await send(context.relay.url, '/put', { method: 'PUT', body: '{"method":"api/b"}' });
    expect(lastUpstream().body.toString()).toBe('{}');
  });

  test('method in a form-urlencoded body is removed, the rest kept byte for byte', async () => {
    await send(context.relay.url, '/post', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=%E5%BC%A0+san&method=api%2Fusers&tags=a&tags=b',
    });
    expect(lastUpstream().url).toBe('/v1/api/users');
    expect(lastUpstream().body.toString()).toBe('name=%E5%BC%A0+san&tags=a&tags=b');
  });

  test('method in the query: the body goes through untouched, its own method field too', async () => {
    const body = '{"method":"mine","n":1}';
    await send(context.relay.url, '/post?method=api/rpc&v=2', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(lastUpstream().url).toBe('/v1/api/rpc?v=2');
    expect(lastUpstream().body.toString()).toBe(body);
  });

  test('path style with a binary body', async () => {
    const body = Buffer.from([0, 255, 1, 254, 0x7b, 0x22]);
    await send(context.relay.url, '/put/api/blob', { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body });
    expect(lastUpstream()).toMatchObject({ method: 'PUT', url: '/v1/api/blob' });
    expect(lastUpstream().body.equals(body)).toBe(true);
  });

  test('a chunked request body is forwarded with a computed Content-Length', async () => {
    await send(context.relay.url, '/post?method=api/chunks', { method: 'POST', chunks: [Buffer.from('ab'), Buffer.from('cd')] });
    expect(lastUpstream().body.toString()).toBe('abcd');
    expect(lastUpstream().headers['content-length']).toBe('4');
    expect(lastUpstream().headers['transfer-encoding']).toBeUndefined();
  });

  test('malformed JSON without method in the query: 400 BAD_BODY, upstream untouched', async () => {
    const reply = await send(context.relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"api/x",' });
    expect(reply.status).toBe(400);
    expect(reply.headers['x-relay-error']).toBe('BAD_BODY');
    expect(context.upstream.requests).toHaveLength(0);
  });

  test('a JSON body that is not an object: 400 BAD_BODY', async () => {
    const reply = await send(context.relay.url, '/post', { method: 'POST', body: '["method","api/x"]' });
    expect(reply.headers['x-relay-error']).toBe('BAD_BODY');
  });

  test('no method anywhere, or a non-string one: 400 BAD_PATH', async () => {
    for (const body of ['', '{"a":1}', '{"method":42}', '{"method":"a","method":"b"}']) {
      const reply = await send(context.relay.url, '/post', { method: 'POST', body });
      expect([body, reply.status, reply.headers['x-relay-error']]).toEqual([body, 400, 'BAD_PATH']);
    }
    expect(context.upstream.requests).toHaveLength(0);
  });
});

describe('request headers', () => {
  test('client headers are forwarded, hop-by-hop ones are not, Host is the upstream', async () => {
    const head = [
      'GET /get?method=api/me HTTP/1.1',
      'Host: relay.example.cn',
      'Authorization: Bearer abc',
      'Cookie: laravel_session=xyz',
      'Referer: https://servicewechat.com/wx1234567890abcdef/3/page-frame.html',
      'X-Custom: kept',
      'Connection: close, X-Private',
      'X-Private: dropped because Connection lists it',
      'Keep-Alive: timeout=5',
      'TE: trailers',
      'Trailer: X-T',
      'Upgrade: websocket',
      'Proxy-Authorization: Basic c2VjcmV0',
      'Proxy-Connection: keep-alive',
    ].join('\r\n');
    expect(await sendRaw(context.relay.url, head)).toMatch(/^HTTP\/1\.1 200 /);
    const { headers } = lastUpstream();
    expect(headers).toMatchObject({
      authorization: 'Bearer abc',
      cookie: 'laravel_session=xyz',
      referer: 'https://servicewechat.com/wx1234567890abcdef/3/page-frame.html',
      'x-custom': 'kept',
      host: `127.0.0.1:${context.upstream.port}`,
      'x-forwarded-proto': 'http',
      'x-forwarded-for': '127.0.0.1',
      'x-real-ip': '127.0.0.1',
    });
    // Without RELAY_PUBLIC_HOST there is no X-Forwarded-Host: the client's Host is not evidence of anything.
    expect(headers['x-forwarded-host']).toBeUndefined();
    for (const name of ['x-private', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-connection']) {
      expect([name, headers[name]]).toEqual([name, undefined]);
    }
  });

  test("a client's x-forwarded-for is replaced by the address the relay saw; x-request-id is propagated", async () => {
    const reply = await send(context.relay.url, '/get?method=api/me', { headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'abc-123' } });
    expect(lastUpstream().headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(lastUpstream().headers['x-request-id']).toBe('abc-123');
    expect(reply.headers['x-request-id']).toBe('abc-123');
  });

  test('without a usable x-request-id one is generated and sent both ways', async () => {
    const reply = await send(context.relay.url, '/get?method=api/me', { headers: { 'x-request-id': 'bad id with spaces' } });
    const id = lastUpstream().headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply.headers['x-request-id']).toBe(id);
  });

  test('GET sends no body upstream even if the client sent one', async () => {
    await send(context.relay.url, '/get?method=api/me', { body: 'ignored', headers: { 'content-length': '7' } });
    expect(lastUpstream().body.length).toBe(0);
    expect(lastUpstream().headers['content-length']).toBeUndefined();
  });
});

describe('uploads', () => {
  test('a multipart body of a few MB with a binary part reaches the backend byte for byte (never parsed)', async () => {
    const boundary = '----mp-relay-test-boundary';
    const file = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < file.length; i++) file[i] = (i * 131 + 7) % 256; // every byte value, CR and LF included
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n小程序头像\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const reply = await send(context.relay.url, '/post?method=api/upload', {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(body.length) },
      body,
    });
    expect(reply.status).toBe(200);
    expect(lastUpstream().url).toBe('/v1/api/upload');
    expect(lastUpstream().headers['content-type']).toBe(`multipart/form-data; boundary=${boundary}`);
    expect(lastUpstream().body.equals(body)).toBe(true);
  });
});
