import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type * as Client from '../client/index';
import { built } from './helpers/processes';
import { startFlakyFront, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';
import { createWxStandIn, type WxStandIn } from './helpers/wx-stand-in';

// The built mini program client (dist/client/index.js) end to end: a wx stand-in doing real HTTP,
// the real local relay, a loopback upstream. Nothing between them is mocked.

const client: typeof Client = require(built('client', 'index.js'));

const IMAGE = randomBytes(50 * 1024);
let upstream: Upstream;
let relay: RunningRelay;
let inFlight = 0;
let peakInFlight = 0;

beforeAll(async () => {
  upstream = await startUpstream((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const json = (status: number, value: unknown, headers: Record<string, string | string[]> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(value));
    };
    switch (url.pathname) {
      case '/api/login':
        return json(200, { ok: true }, {
          'set-cookie': [
            'session=abc123; Path=/; HttpOnly',
            'XSRF-TOKEN=xyz; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT',
            'admin_only=1; Path=/admin',
          ],
        });
      case '/api/logout':
        return json(200, { ok: true }, { 'set-cookie': 'session=; Path=/; Max-Age=0' });
      case '/api/missing':
        return json(404, { message: 'no such thing' });
      case '/api/slow': {
        inFlight++;
        peakInFlight = Math.max(peakInFlight, inFlight);
        setTimeout(() => {
          inFlight--;
          json(200, { slow: true });
        }, 80);
        return;
      }
      case '/api/never':
        return; // no answer: the client's timeout must fire
      case '/img/a.png':
        res.writeHead(200, { 'content-type': 'image/png' });
        return void res.end(IMAGE);
      default:
        return json(200, { method: req.method, url: req.url, headers: req.headers, body: body.toString('base64') });
    }
  });
  relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});

const lastSeen = () => upstream.requests[upstream.requests.length - 1]!;
const make = (wx: WxStandIn, options: Partial<Client.RelayClientOptions> = {}) =>
  client.createRelay({ baseUrl: relay.url, wx: wx as unknown as Client.WxApi, ...options });

/** Rejects with the RelayError the promise rejected with, or fails the test. */
async function relayError(promise: Promise<unknown>): Promise<Client.RelayError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(client.RelayError);
  return error as Client.RelayError;
}

describe('get, post, put', () => {
  test('get: the path goes in `method`; unicode, arrays and numbers are encoded, null is left out', async () => {
    const wx = createWxStandIn();
    const res = await make(wx).get<{ url: string }>('api/users', { q: '小程序 a+b&c', tag: ['a', 'b'], page: 2, skip: null });
    expect(res.statusCode).toBe(200);
    const seen = new URL(lastSeen().url, 'http://x');
    expect(seen.pathname).toBe('/api/users');
    expect(seen.searchParams.get('q')).toBe('小程序 a+b&c');
    expect(seen.searchParams.getAll('tag')).toEqual(['a', 'b']);
    expect(seen.searchParams.get('page')).toBe('2');
    expect(seen.searchParams.has('skip')).toBe(false);
    expect(wx.log[0]).toMatch(/\/get\?method=api%2Fusers&q=/);
  });

  test('post and put send JSON; the backend gets exactly the data', async () => {
    const wx = createWxStandIn();
    const relayClient = make(wx);
    await relayClient.post('api/items', { name: '小程序', tags: ['x'] });
    expect([lastSeen().method, lastSeen().url, lastSeen().headers['content-type']]).toEqual(['POST', '/api/items', 'application/json']);
    expect(JSON.parse(lastSeen().body.toString())).toEqual({ name: '小程序', tags: ['x'] });
    await relayClient.put('/api/items/7', { done: true });
    expect([lastSeen().method, lastSeen().url, lastSeen().body.toString()]).toEqual(['PUT', '/api/items/7', '{"done":true}']);
  });

  test("code written for the PHP proxy (`method` inside data) keeps working", async () => {
    const wx = createWxStandIn();
    await make(wx).post('', { method: 'api/legacy', name: 'y' });
    expect([lastSeen().url, lastSeen().body.toString()]).toEqual(['/api/legacy', '{"name":"y"}']);
  });

  test('the path style puts the API path in the URL path, each segment encoded', async () => {
    const wx = createWxStandIn();
    await make(wx, { style: 'path' }).get('api/users/张三', { page: 1 });
    expect(lastSeen().url).toBe('/api/users/%E5%BC%A0%E4%B8%89?page=1');
    expect(wx.log[0]).toContain('/get/api/users/%E5%BC%A0%E4%B8%89?page=1');
  });

  test("the backend's own error status resolves, as wx.request does", async () => {
    const res = await make(createWxStandIn()).get('api/missing');
    expect([res.statusCode, res.data]).toEqual([404, { message: 'no such thing' }]);
  });

  test("the relay's own error rejects with a RelayError carrying its code, status and request id", async () => {
    const before = upstream.requests.length;
    const error = await relayError(make(createWxStandIn()).get('../etc/passwd'));
    expect([error.code, error.statusCode, error.fromRelay]).toEqual(['BAD_PATH', 400, true]);
    expect(error.message).toMatch(/\.\./);
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(upstream.requests.length).toBe(before);
  });

  test('an unreachable backend is the relay’s 502, not a network error', async () => {
    const downRelay = await startRelay({ UPSTREAM_URL: 'http://127.0.0.1:9', RELAY_LOG: '0' });
    try {
      const error = await relayError(client.createRelay({ baseUrl: downRelay.url, wx: createWxStandIn() as unknown as Client.WxApi }).get('api/users'));
      expect([error.code, error.statusCode]).toEqual(['UPSTREAM_UNREACHABLE', 502]);
    } finally {
      await downRelay.close();
    }
  });
});

describe('retries and network failures', () => {
  const flakyFront = (drops: number) => startFlakyFront(relay.url, drops);

  test('get and downloadImage are retried once after a network failure', async () => {
    const front = await flakyFront(1);
    try {
      const relayClient = client.createRelay({ baseUrl: front.url, wx: createWxStandIn() as unknown as Client.WxApi });
      expect((await relayClient.get('api/users')).statusCode).toBe(200);
      expect(front.connections()).toBe(2);
    } finally {
      await front.close();
    }
    const downloadFront = await flakyFront(1);
    try {
      const relayClient = client.createRelay({ baseUrl: downloadFront.url, wx: createWxStandIn() as unknown as Client.WxApi });
      const file = await relayClient.downloadImage('img/a.png');
      expect(readFileSync(file.tempFilePath).equals(IMAGE)).toBe(true);
      expect(downloadFront.connections()).toBe(2);
    } finally {
      await downloadFront.close();
    }
  });

  test('post and put are never retried: the backend may have acted on them', async () => {
    // Two connections are cut: one each, since neither is sent twice.
    const front = await flakyFront(2);
    try {
      const relayClient = client.createRelay({ baseUrl: front.url, wx: createWxStandIn() as unknown as Client.WxApi });
      const error = await relayError(relayClient.post('api/items', { a: 1 }));
      expect([error.code, error.statusCode, error.fromRelay]).toEqual(['NETWORK', 0, false]);
      await relayError(relayClient.put('api/items/1', { a: 1 }));
      expect(front.connections()).toBe(2);
    } finally {
      await front.close();
    }
  });

  test('a timeout rejects with TIMEOUT and is not retried: the caller’s time is spent', async () => {
    const wx = createWxStandIn();
    const error = await relayError(make(wx, { timeout: 300 }).get('api/never'));
    expect(error.code).toBe('TIMEOUT');
    expect(wx.log).toHaveLength(1);
  });
});

describe('downloadImage and upload', () => {
  test('downloadImage resolves with the file for a 2xx, byte for byte', async () => {
    const wx = createWxStandIn();
    const file = await make(wx).downloadImage('img/a.png');
    expect(file.statusCode).toBe(200);
    expect(readFileSync(file.tempFilePath).equals(IMAGE)).toBe(true);
    expect(wx.log[0]).toContain('/getDownImg?method=img%2Fa.png');
  });

  test('a relay error on a download rejects with its code (the file held JSON, not an image)', async () => {
    const error = await relayError(make(createWxStandIn()).downloadImage('img/../../secret.png'));
    expect([error.code, error.statusCode, error.fromRelay]).toEqual(['BAD_PATH', 400, true]);
  });

  test("a backend's non-2xx on a download rejects with BAD_STATUS", async () => {
    const error = await relayError(make(createWxStandIn()).downloadImage('api/missing'));
    expect([error.code, error.statusCode, error.fromRelay]).toEqual(['BAD_STATUS', 404, false]);
  });

  test('upload: the multipart body reaches the backend untouched; JSON answers are parsed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-upload-'));
    const filePath = path.join(dir, 'photo.jpg');
    const bytes = randomBytes(2 * 1024 * 1024);
    writeFileSync(filePath, bytes);
    const res = await make(createWxStandIn()).upload<{ url: string }>('api/avatar', { filePath, name: 'file', formData: { userId: '42' } });
    expect([res.statusCode, res.data.url]).toEqual([200, '/api/avatar']);
    const seen = lastSeen();
    expect(seen.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.body.includes(bytes)).toBe(true);
    expect(seen.body.toString('latin1')).toContain('name="userId"\r\n\r\n42\r\n');
  });

  test('a relay error on an upload rejects with its code', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mp-relay-upload-'));
    writeFileSync(path.join(dir, 'a.txt'), 'x');
    const error = await relayError(make(createWxStandIn()).upload('a/../../b', { filePath: path.join(dir, 'a.txt'), name: 'file' }));
    expect(error.code).toBe('BAD_PATH');
  });
});

describe.each([
  ['a base library that lists cookies', true],
  ['an older base library that merges Set-Cookie into one header', false],
])('cookies, with %s', (_name, cookiesField) => {
  test('a login flow: stored, sent back by path, deleted by Max-Age=0, cleared on demand', async () => {
    const wx = createWxStandIn({ cookiesField });
    const relayClient = make(wx, { cookies: true });
    const login = await relayClient.post('api/login', { user: 'a' });
    expect(login.cookies).toHaveLength(3);
    await relayClient.get('api/me');
    expect(lastSeen().headers.cookie).toBe('session=abc123; XSRF-TOKEN=xyz');
    await relayClient.get('admin/panel');
    expect(lastSeen().headers.cookie).toBe('admin_only=1; session=abc123; XSRF-TOKEN=xyz');
    await relayClient.post('api/logout');
    await relayClient.get('api/me');
    expect(lastSeen().headers.cookie).toBe('XSRF-TOKEN=xyz');
    // They live in wx storage, so a new client (a restarted mini program) still has them.
    await make(wx, { cookies: true }).get('api/me');
    expect(lastSeen().headers.cookie).toBe('XSRF-TOKEN=xyz');
    relayClient.clearCookies();
    await relayClient.get('api/me');
    expect(lastSeen().headers.cookie).toBeUndefined();
  });
});

test('without cookies: true nothing is stored or sent', async () => {
  const wx = createWxStandIn();
  const relayClient = make(wx);
  await relayClient.post('api/login');
  await relayClient.get('api/me');
  expect(lastSeen().headers.cookie).toBeUndefined();
  expect(wx.storage.size).toBe(0);
});

describe('the concurrency queue', () => {
  beforeEach(() => {
    peakInFlight = 0;
  });

  test('beyond maxConcurrent, calls wait instead of failing', async () => {
    const wx = createWxStandIn();
    const relayClient = make(wx, { maxConcurrent: 3 });
    const results = await Promise.all(Array.from({ length: 12 }, () => relayClient.get('api/slow')));
    expect(results.every((res) => res.statusCode === 200)).toBe(true);
    expect(wx.peakInFlight()).toBe(3);
    expect(peakInFlight).toBeLessThanOrEqual(3);
  });

  test("by default 30 calls at once, requests and downloads together, stay within WeChat's limit of 10", async () => {
    const wx = createWxStandIn();
    const relayClient = make(wx);
    const calls = [
      ...Array.from({ length: 20 }, () => relayClient.get('api/slow')),
      ...Array.from({ length: 10 }, () => relayClient.downloadImage('img/a.png')),
    ];
    await expect(Promise.all(calls)).resolves.toHaveLength(30);
    expect(wx.peakInFlight()).toBe(10);
  });
});

test('splitSetCookie splits the merged header WeChat produces, leaving Expires whole', () => {
  expect(client.splitSetCookie('a=1; Path=/, b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/, c=3')).toEqual([
    'a=1; Path=/',
    'b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/',
    'c=3',
  ]);
});

test("README's comparison table: every mp-relay cell names a test file that exists, and the other columns cite their sources", () => {
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### 和常用请求库对比'), readme.indexOf('```js', readme.indexOf('### 和常用请求库对比')));
  const rows = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| 功能') && !line.startsWith('|---'));
  expect(rows).toHaveLength(9);
  for (const row of rows) {
    const ours = row.split(' | ')[1]!;
    const named = [...ours.matchAll(/`(client-[a-z-]+)`/g)].map((match) => match[1]!);
    expect([row.slice(0, 40), named.length]).toEqual([row.slice(0, 40), 1]);
    expect(readFileSync(path.join(__dirname, `${named[0]}.test.ts`), 'utf8').length).toBeGreaterThan(0);
  }
  for (const source of ['developers.weixin.qq.com', 'docs.taro.zone', 'lei-mu/luch-request', 'wendux/fly']) expect(section).toContain(source);
});
