import * as events from './fixtures/events';
import { built } from './helpers/processes';
import { echo, send, sendRaw, useRelay } from './helpers/servers';

// Hostile input, with regressions named after the public advisories they mirror. Every case either
// reaches the configured upstream as a single, well-formed request, or is refused before any upstream
// contact; none crashes the relay (the last test checks it still serves).

const context = useRelay(echo, '/v1');
const seenCount = () => context.upstream.requests.length;
const last = () => context.upstream.requests[context.upstream.requests.length - 1]!;

async function refused(target: string, code = 'BAD_PATH', status = 400) {
  const before = seenCount();
  const reply = await send(context.relay.url, target);
  expect([reply.status, reply.headers['x-relay-error']]).toEqual([status, code]);
  expect(seenCount()).toBe(before);
}

describe('advisory regressions', () => {
  test.each([
    '/get?method=//evil.example/x',
    '/get?method=%2F%2Fevil.example%2Fx',
    '/get?method=%252F%252Fevil.example%252Fx',
    '/get//evil.example/x',
    '/get?method=\\\\evil.example\\x',
    '/get?method=%5C%5Cevil.example',
  ])('CVE-2022-35949 (undici): SSRF through a path starting with // — %s', (target) => refused(target));

  test.each([
    '/get?method=api%0d%0aHost:%20evil.example',
    '/get?method=api%250d%250aX-Injected:%201',
    '/get?method=api%0aGET%20/admin%20HTTP/1.1',
    '/get/api%0d%0aX-Injected:%201',
    '/get?method=api/%E5%98%8A%E5%98%8DX-Injected:1', // U+560A U+560D, whose low bytes are CR and LF
  ])('CVE-2023-25690 (Apache mod_proxy): request splitting through decoded CR/LF — %s', async (target) => {
    const before = seenCount();
    const reply = await send(context.relay.url, target);
    if (reply.status === 200) {
      // Forwarded only as one request with the characters still encoded, never as a split.
      expect(seenCount()).toBe(before + 1);
      expect(last().url).not.toMatch(/[\r\n]/);
      expect(last().headers['x-injected']).toBeUndefined();
    } else {
      expect([reply.status, reply.headers['x-relay-error'], seenCount()]).toEqual([400, 'BAD_PATH', before]);
    }
  });

  test.each([
    '/get?method=http://169.254.169.254/latest/meta-data/',
    '/get?method=http%3A%2F%2F169.254.169.254%2Flatest',
    '/get?method=//169.254.169.254/latest',
    '/get?method=%2F%2F%5B::ffff:a9fe:a9fe%5D/latest',
    '/get?method=@169.254.169.254/latest',
  ])('CVE-2020-36851 (cors-anywhere): SSRF to the cloud metadata address — %s', (target) => refused(target));

  test('a path that merely names the metadata address stays on the configured upstream', async () => {
    const reply = await send(context.relay.url, '/get?method=169.254.169.254/latest');
    expect(reply.status).toBe(200);
    expect([last().url, last().headers.host]).toEqual(['/v1/169.254.169.254/latest', new URL(context.upstream.url).host]);
  });
});

describe('header injection through every header the relay writes', () => {
  test('x-request-id: an unsafe or oversized value is replaced, never echoed', async () => {
    for (const bad of ['a b', 'x'.repeat(200), 'id;evil=1', 'é']) {
      const reply = await send(context.relay.url, '/get?method=api', { headers: { 'x-request-id': bad } });
      expect(reply.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(last().headers['x-request-id']).toBe(reply.headers['x-request-id']);
    }
  });

  test('x-forwarded-host: a Host that is not a host name is not passed on', async () => {
    const raw = await sendRaw(context.relay.url, 'GET /get?method=api HTTP/1.1\r\nHost: evil.example/<script>\r\nConnection: close');
    expect(raw).toMatch(/^HTTP\/1\.1 200/);
    expect(last().headers['x-forwarded-host']).toBeUndefined();
  });

  test('x-relay-*: a client cannot set the relay’s own headers', async () => {
    await send(context.relay.url, '/get?method=api', { headers: { 'x-relay-signature': 'forged', 'x-relay-timestamp': '1', 'x-relay-anything': '1' } });
    expect(Object.keys(last().headers).filter((name) => name.startsWith('x-relay-'))).toEqual([]);
  });

  describe('through an event, whose headers no HTTP parser has checked', () => {
    let bundle: { handler: (...args: unknown[]) => Promise<{ statusCode: number; headers: Record<string, string> }> } | undefined;
    beforeAll(() => {
      const saved = process.env;
      process.env = { UPSTREAM_URL: context.upstream.url, RELAY_LOG: '0' };
      try {
        jest.isolateModules(() => {
          bundle = require(built('get', 'index.js'));
        });
      } finally {
        process.env = saved;
      }
    });
    const call = (headers: Record<string, string>, sourceIp = '203.0.113.9') => {
      const event = events.fc3({ method: 'GET', path: '/get', query: 'method=api', headers });
      (event.requestContext.http as { sourceIp: string }).sourceIp = sourceIp;
      return bundle!.handler(Buffer.from(JSON.stringify(event)), {});
    };

    test.each([
      ['a CR/LF value', { 'X-Evil': 'a\r\nX-Injected: 1' }],
      ['a CR/LF in X-Forwarded-For', { 'X-Forwarded-For': '1.1.1.1\r\nX-Injected: 2' }],
      ['a CR/LF in X-Request-Id', { 'X-Request-Id': 'r\r\nX-Injected: 3' }],
      ['a name with a space', { 'Bad Name': 'x' }],
      ['a NUL in a value', { 'X-Evil': 'a\u0000b' }],
    ])('%s: 400 BAD_HEADER, nothing sent upstream', async (_case, headers) => {
      const before = context.upstream.requests.length;
      const result = await call(headers);
      expect([result.statusCode, result.headers['x-relay-error']]).toEqual([400, 'BAD_HEADER']);
      expect(context.upstream.requests.length).toBe(before);
    });

    test('a source address that is not an IP is not passed on; the request still goes', async () => {
      const result = await call({}, '1.2.3.4\r\nX-Injected: 4');
      expect(result.statusCode).toBe(200);
      const headers = last().headers;
      expect(headers['x-injected']).toBeUndefined();
      expect(headers['x-forwarded-for']).toBeUndefined();
      expect(headers['x-real-ip']).toBeUndefined();
      expect(headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });
});

describe('oversized input is answered, never a crash', () => {
  test('an API path over 2048 bytes: 400 BAD_PATH', () => refused(`/get?method=${'a/'.repeat(1100)}`));

  test('a request line or headers beyond what Node accepts: 431 from the server itself', async () => {
    const longUrl = await sendRaw(context.relay.url, `GET /get?method=api&q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\nConnection: close`);
    expect(longUrl).toMatch(/^HTTP\/1\.1 431/);
    const bigHeader = await sendRaw(context.relay.url, `GET /get?method=api HTTP/1.1\r\nHost: a\r\nX-Big: ${'y'.repeat(20_000)}\r\nConnection: close`);
    expect(bigHeader).toMatch(/^HTTP\/1\.1 431/);
  });

  test('thousands of query pairs pass through as the raw substring', async () => {
    const query = Array.from({ length: 1000 }, (_, i) => `k${i}=${i}`).join('&');
    const reply = await send(context.relay.url, `/get?method=api&${query}`);
    expect(reply.status).toBe(200);
    expect(last().url).toBe(`/v1/api?${query}`);
  });
});

describe('ambiguous and malformed bodies', () => {
  test('a duplicated `method` parameter is refused, in the query and in the body', async () => {
    await refused('/get?method=api/a&method=api/b');
    await refused('/get?method=api/a&%6Dethod=api/b');
    const before = seenCount();
    const body = await send(context.relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"api/a","method":"api/b"}' });
    expect([body.status, body.headers['x-relay-error'], seenCount()]).toEqual([400, 'BAD_PATH', before]);
  });

  test('`method` in both query and body: the query names the API, the body passes through untouched', async () => {
    const body = '{"method":"api/from-body","x":1}';
    await send(context.relay.url, '/post?method=api/from-query', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect([last().url, last().body.toString()]).toEqual(['/v1/api/from-query', body]);
  });

  test('non-UTF-8 bytes in a JSON body: `method` is cut, every other byte kept', async () => {
    const body = Buffer.concat([Buffer.from('{"method":"api/x","name":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    const reply = await send(context.relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(reply.status).toBe(200);
    expect(last().body.equals(Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]))).toBe(true);
  });

  test('non-UTF-8 bytes in a form body: `method` is cut, every other byte kept', async () => {
    const body = Buffer.concat([Buffer.from('method=api%2Fx&name='), Buffer.from([0xb0, 0xa1]), Buffer.from('&n=%FF')]);
    const reply = await send(context.relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(reply.status).toBe(200);
    expect(last().body.equals(Buffer.concat([Buffer.from('name='), Buffer.from([0xb0, 0xa1]), Buffer.from('&n=%FF')]))).toBe(true);
  });

  test.each(['[{"method":"api/x"}]', '"api/x"', '42', 'null', 'true'])('a JSON body whose top level is not an object (%s): 400 BAD_BODY', async (body) => {
    const before = seenCount();
    const reply = await send(context.relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect([reply.status, reply.headers['x-relay-error'], seenCount()]).toEqual([400, 'BAD_BODY', before]);
  });
});

test('after all of it the relay still serves', async () => {
  const reply = await send(context.relay.url, '/get?method=api/health');
  expect([reply.status, last().url]).toEqual([200, '/v1/api/health']);
});
