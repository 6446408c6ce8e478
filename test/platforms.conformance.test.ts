import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PLATFORM_IDS, type PlatformId } from '../functions/local/emulator/platforms';
import { built, startListening, type Started } from './helpers/processes';
import { send, startUpstream, type Reply, type Upstream } from './helpers/servers';

// One suite, six platforms: the built bundles (dist/<fn>/index.js) called through the emulator the way
// each cloud calls them, against a loopback upstream. The expectations are the same everywhere except
// where a platform documents a difference, and each difference is spelled out in PLATFORM_TRAITS.

interface Traits {
  /** Headers the emulated platform adds for itself (its credentials among them); none may reach the upstream. */
  platformHeaders: string[];
  /** The platform vouches for the caller's address in its event (so X-Forwarded-For/X-Real-IP carry it). */
  vouchesForCaller: boolean;
  /** Several Set-Cookie arrive as separate headers (otherwise joined into one, as WeChat does too). */
  separateSetCookie: boolean;
  /** The platform parses the query and joins repeated keys with commas before the function sees it. */
  repeatedKeysJoined: boolean;
  /** FC 2.0 cannot pass Content-Encoding, so the relay asks the upstream for identity. */
  contentEncodingPassed: boolean;
  /** Largest response the platform can return after base64, when it is below the relay's own limit. */
  responseLimitName?: string;
}

const PLATFORM_TRAITS: Record<PlatformId, Traits> = {
  fc3: { platformHeaders: ['x-fc-request-id', 'x-fc-access-key-id', 'x-fc-access-key-secret', 'x-fc-security-token'], vouchesForCaller: true, separateSetCookie: false, repeatedKeysJoined: true, contentEncodingPassed: true },
  fc2: { platformHeaders: ['x-fc-request-id', 'x-fc-access-key-id', 'x-fc-access-key-secret', 'x-fc-security-token'], vouchesForCaller: true, separateSetCookie: true, repeatedKeysJoined: false, contentEncodingPassed: false },
  // The gateway's event names no caller (only an opt-in CaClientIp parameter), so none is passed on.
  'aliyun-apigw': { platformHeaders: ['x-ca-request-id', 'x-fc-request-id', 'x-fc-security-token'], vouchesForCaller: false, separateSetCookie: false, repeatedKeysJoined: true, contentEncodingPassed: true, responseLimitName: 'Aliyun API Gateway' },
  'scf-apigw': { platformHeaders: ['x-api-requestid', 'x-anonymous-consumer'], vouchesForCaller: true, separateSetCookie: false, repeatedKeysJoined: false, contentEncodingPassed: true, responseLimitName: 'Tencent SCF' },
  'scf-url': { platformHeaders: ['x-scf-remote-addr', 'x-scf-request-id'], vouchesForCaller: true, separateSetCookie: false, repeatedKeysJoined: false, contentEncodingPassed: true, responseLimitName: 'Tencent SCF' },
  lambda: { platformHeaders: ['x-amzn-trace-id'], vouchesForCaller: true, separateSetCookie: true, repeatedKeysJoined: false, contentEncodingPassed: true, responseLimitName: 'AWS Lambda' },
};

const IMAGE = randomBytes(300 * 1024);
const MB = 1024 * 1024;
// Between the 6 MB platforms' limit (once base64 grows it) and the others'.
const FIVE_MB = randomBytes(5 * MB);
const GBK_TEXT = Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x0a]); // "你好\n" in GBK: not UTF-8

function upstreamHandler(): Parameters<typeof startUpstream>[0] {
  return (req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const json = (status: number, value: unknown, headers: Record<string, string | string[]> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(value));
    };
    switch (url.pathname) {
      case '/api/users':
        return json(200, { users: ['张三', 'Li Si'], page: url.searchParams.get('page') }, { 'x-backend': 'yes' });
      case '/api/echo':
        return json(200, { method: req.method, url: req.url, headers: req.headers, body: body.toString('base64') });
      case '/api/teapot':
        return json(418, { message: 'backend says no' });
      case '/api/login':
        return json(200, { ok: true }, { 'set-cookie': ['session=abc; Path=/; HttpOnly', 'XSRF-TOKEN=xyz; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT'] });
      case '/api/gzip': {
        const payload = Buffer.from(JSON.stringify({ compressed: true, text: '压缩'.repeat(200) }));
        if (/gzip/.test(String(req.headers['accept-encoding']))) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', vary: 'accept-encoding' });
          return void res.end(gzipSync(payload));
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(payload);
      }
      case '/api/always-gzip':
        // Compresses whatever the request asked for, as some misconfigured servers do.
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return void res.end(gzipSync(JSON.stringify({ compressed: 'always' })));
      case '/api/gbk':
        res.writeHead(200, { 'content-type': 'text/plain; charset=gbk' });
        return void res.end(GBK_TEXT);
      case '/img/photo.png':
        res.writeHead(200, { 'content-type': 'image/png' });
        return void res.end(IMAGE);
      case '/img/five-mb.bin':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(FIVE_MB);
      case '/img/nine-mb.bin':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(Buffer.alloc(9 * MB, 1));
      case '/api/slow':
        return; // never answers: the relay's timeout must fire
      default:
        return json(404, { message: 'no such route' });
    }
  };
}

/** Set-Cookie values, whether sent as separate headers or joined into one (split before each `name=`). */
function setCookies(reply: Reply): string[] {
  return [reply.headers['set-cookie'] ?? []].flat().flatMap((value) => value.split(/,\s*(?=[^;,=\s]+=)/));
}

function isRelayError(reply: Reply, code: string, status: number): void {
  expect([reply.status, reply.headers['x-relay-error'], reply.json().error.code]).toEqual([status, code, code]);
}

describe.each(PLATFORM_IDS)('on %s', (platform) => {
  const traits = PLATFORM_TRAITS[platform];
  let upstream: Upstream;
  let emulator: Started;

  beforeAll(async () => {
    upstream = await startUpstream(upstreamHandler());
    emulator = await startListening(process.execPath, [built('emulator', 'index.js'), '--platform', platform, '--port', '0'], {
      UPSTREAM_URL: upstream.url,
      RELAY_TIMEOUT_MS: '800',
      RELAY_MAX_RESPONSE_BYTES: String(8 * MB),
      RELAY_LOG: '0',
    });
  });
  afterAll(async () => {
    await emulator?.stop();
    await upstream?.close();
  });
  const lastUpstreamRequest = () => upstream.requests[upstream.requests.length - 1]!;

  test('GET with the path in `method` (query style): status, headers and body as the backend sent them', async () => {
    const reply = await send(emulator.base, '/get?method=api/users&page=2');
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ users: ['张三', 'Li Si'], page: '2' });
    expect(reply.headers['x-backend']).toBe('yes');
    expect(reply.headers['x-relay-error']).toBeUndefined();
    expect(lastUpstreamRequest().url).toBe('/api/users?page=2');
  });

  test('GET with the path after the function name (path style)', async () => {
    const reply = await send(emulator.base, '/get/api/users?page=3');
    expect([reply.status, reply.json().page]).toEqual([200, '3']);
  });

  test('POST with `method` in the JSON body: the rest of the body reaches the backend byte for byte', async () => {
    const reply = await send(emulator.base, '/post', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"method":"api/echo","id":12345678901234567890,"price":1.0,"name":"小程序"}',
    });
    const seen = reply.json();
    expect([reply.status, seen.method, seen.url]).toEqual([200, 'POST', '/api/echo']);
    expect(Buffer.from(seen.body, 'base64').toString('utf8')).toBe('{"id":12345678901234567890,"price":1.0,"name":"小程序"}');
    expect(seen.headers['content-type']).toBe('application/json');
  });

  test('PUT with a binary body arrives byte-exact (base64 on the way in where the platform uses it)', async () => {
    const payload = randomBytes(64 * 1024);
    const reply = await send(emulator.base, '/put?method=api/echo', { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: payload });
    expect(reply.status).toBe(200);
    expect(Buffer.from(reply.json().body, 'base64').equals(payload)).toBe(true);
  });

  test('a binary download comes back byte-exact', async () => {
    const reply = await send(emulator.base, '/getDownImg?method=img/photo.png');
    expect([reply.status, reply.headers['content-type']]).toEqual([200, 'image/png']);
    expect(reply.body.equals(IMAGE)).toBe(true);
  });

  test('text that is not UTF-8 (GBK) comes back byte-exact', async () => {
    const reply = await send(emulator.base, '/get?method=api/gbk');
    expect(reply.body.equals(GBK_TEXT)).toBe(true);
  });

  test("the backend's own error status and body pass through, without x-relay-error", async () => {
    const reply = await send(emulator.base, '/get?method=api/teapot');
    expect([reply.status, reply.json(), reply.headers['x-relay-error']]).toEqual([418, { message: 'backend says no' }, undefined]);
  });

  test('two Set-Cookie both reach the client', async () => {
    const reply = await send(emulator.base, '/get?method=api/login');
    expect(setCookies(reply)).toEqual(['session=abc; Path=/; HttpOnly', 'XSRF-TOKEN=xyz; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT']);
    const raw = reply.rawHeaders.filter((_, i) => i % 2 === 0 && reply.rawHeaders[i]!.toLowerCase() === 'set-cookie');
    expect(raw).toHaveLength(traits.separateSetCookie ? 2 : 1);
  });

  test.each([
    ['api/gzip', { compressed: true }],
    ['api/always-gzip', { compressed: 'always' }],
  ])('a compressed response (%s) is decodable by the client', async (path, expected) => {
    const reply = await send(emulator.base, `/get?method=${path}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(reply.headers['content-encoding']).toBe(traits.contentEncodingPassed ? 'gzip' : undefined);
    const body = reply.headers['content-encoding'] === 'gzip' ? gunzipSync(reply.body) : reply.body;
    expect(JSON.parse(body.toString('utf8'))).toMatchObject(expected);
    // Where Content-Encoding cannot pass, the relay asks for an uncompressed body in the first place.
    expect(lastUpstreamRequest().headers['accept-encoding']).toBe(traits.contentEncodingPassed ? 'gzip' : 'identity');
  });

  test('unicode and repeated query keys', async () => {
    await send(emulator.base, `/get?method=api/echo&q=${encodeURIComponent('小程序 a+b')}&tag=a&tag=b`);
    const url = new URL(lastUpstreamRequest().url, 'http://upstream');
    expect(url.searchParams.get('q')).toBe('小程序 a+b');
    expect(url.searchParams.getAll('tag')).toEqual(traits.repeatedKeysJoined ? ['a,b'] : ['a', 'b']);
  });

  test("the platform's own headers never reach the backend, an API's own do; the caller's address is the platform's", async () => {
    // Real APIs use names that share a platform's prefix; only the platform's exact names are dropped.
    const apiHeaders = { 'x-api-key': 'k1', 'x-ca-key': 'k2', 'x-amzn-custom': 'k3' };
    await send(emulator.base, '/get?method=api/echo', { headers: { ...apiHeaders, 'x-forwarded-for': '6.6.6.6', 'x-real-ip': '6.6.6.6' } });
    const headers = lastUpstreamRequest().headers;
    expect(traits.platformHeaders.filter((name) => name in headers)).toEqual([]);
    expect([headers['x-api-key'], headers['x-ca-key'], headers['x-amzn-custom']]).toEqual(['k1', 'k2', 'k3']);
    expect([headers['x-forwarded-for'], headers['x-real-ip']]).toEqual(traits.vouchesForCaller ? ['127.0.0.1', '127.0.0.1'] : [undefined, undefined]);
  });

  test('a path that tries to leave the upstream is refused by the relay, not sent', async () => {
    const before = upstream.requests.length;
    isRelayError(await send(emulator.base, '/get?method=..%2F..%2Fetc%2Fpasswd'), 'BAD_PATH', 400);
    isRelayError(await send(emulator.base, '/get?method=%2F%2Fevil.example%2Fx'), 'BAD_PATH', 400);
    expect(upstream.requests.length).toBe(before);
  });

  test('the wrong method gets 405', async () => {
    isRelayError(await send(emulator.base, '/get?method=api/users', { method: 'POST', body: '{}' }), 'METHOD_NOT_ALLOWED', 405);
  });

  test('an upstream that never answers gives 504', async () => {
    isRelayError(await send(emulator.base, '/get?method=api/slow'), 'UPSTREAM_TIMEOUT', 504);
  });

  test("a response over the relay's limit gives 502 RESPONSE_TOO_LARGE", async () => {
    isRelayError(await send(emulator.base, '/getDownImg?method=img/nine-mb.bin'), 'RESPONSE_TOO_LARGE', 502);
  });

  test(`a 5 MB binary response ${traits.responseLimitName ? 'exceeds the 6 MB platform limit once base64-encoded' : 'fits the platform'}`, async () => {
    const reply = await send(emulator.base, '/getDownImg?method=img/five-mb.bin');
    if (traits.responseLimitName) {
      isRelayError(reply, 'RESPONSE_TOO_LARGE', 502);
      expect(reply.json().error.message).toContain(traits.responseLimitName);
    } else {
      expect(reply.status).toBe(200);
      expect(reply.body.equals(FIVE_MB)).toBe(true);
    }
  });
});
