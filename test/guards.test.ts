import type http from 'node:http';
import * as events from './fixtures/events';
import { built, startListening } from './helpers/processes';
import { echo, send, startRelay, startUpstream, type Upstream } from './helpers/servers';

// The optional controls, each on the local server and through an event-style platform (the built
// bundle called as Aliyun FC 3.0): what they let through, what they refuse, and that a refused
// request never reaches the backend.

const APP = 'wx0123456789abcdef';
const referer = (appId: string, version: string) => `https://servicewechat.com/${appId}/${version}/page-frame.html`;

let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream(echo);
});
afterAll(() => upstream.close());

/** Status and relay error code of a GET through a local relay configured with `env`. */
async function through(env: Record<string, string>, target: string, headers: http.OutgoingHttpHeaders = {}) {
  const relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0', ...env });
  try {
    const before = upstream.requests.length;
    const reply = await send(relay.url, target, { headers });
    return { status: reply.status, code: reply.headers['x-relay-error'], reached: upstream.requests.length > before };
  } finally {
    await relay.close();
  }
}

describe('RELAY_ALLOW_PATHS', () => {
  const env = { RELAY_ALLOW_PATHS: 'api/*, img/**, public' };

  test.each([
    ['api/users', true],
    ['api/orders', true],
    ['img/a.png', true],
    ['img/2024/11/a.png', true],
    ['public', true],
    ['public/terms.html', true],
    // An encoded letter is still that letter: the check sees what the backend will see.
    ['ap%2569/users', true],
    ['api/users/1', false], // `*` is one segment
    ['publicity', false], // a prefix ends at a segment boundary
    ['admin/users', false],
    ['adm%2569n/users', false],
    ['API/users', false],
  ])('%s: allowed %s', async (apiPath, allowed) => {
    const result = await through(env, `/get?method=${apiPath}`);
    expect(result).toEqual(allowed ? { status: 200, code: undefined, reached: true } : { status: 403, code: 'PATH_NOT_ALLOWED', reached: false });
  });

  test('the path style is checked the same way', async () => {
    expect(await through(env, '/get/admin/users')).toEqual({ status: 403, code: 'PATH_NOT_ALLOWED', reached: false });
    expect((await through(env, '/get/api/users')).status).toBe(200);
  });

  test('a traversal to a disallowed path is refused before the allow list is even asked', async () => {
    expect(await through(env, '/get?method=api%2F..%2Fadmin')).toEqual({ status: 400, code: 'BAD_PATH', reached: false });
  });
});

describe('RELAY_ALLOW_APPIDS', () => {
  const env = { RELAY_ALLOW_APPIDS: `${APP},wxfedcba9876543210` };

  test.each([
    ['an allowed mini program (release)', referer(APP, '12'), 200],
    ['an allowed mini program (development or trial, version 0)', referer(APP, '0'), 200],
    ['another mini program', referer('wx1111111111111111', '3'), 403],
    ['the devtools, not admitted by default', referer(APP, 'devtools'), 403],
    ['no Referer', undefined, 403],
    ['a look-alike host', `https://servicewechat.com.evil.example/${APP}/3/page-frame.html`, 403],
    ['plain http', `http://servicewechat.com/${APP}/3/page-frame.html`, 403],
  ])('%s', async (_name, value, status) => {
    const result = await through(env, '/get?method=api/users', value ? { referer: value } : {});
    expect([result.status, result.code, result.reached]).toEqual(status === 200 ? [200, undefined, true] : [403, 'APPID_NOT_ALLOWED', false]);
  });

  test('RELAY_ALLOW_DEVTOOLS=1 admits the devtools for an allowed AppID', async () => {
    expect((await through({ ...env, RELAY_ALLOW_DEVTOOLS: '1' }, '/get?method=api/users', { referer: referer(APP, 'devtools') })).status).toBe(200);
    expect((await through({ ...env, RELAY_ALLOW_DEVTOOLS: '1' }, '/get?method=api/users', { referer: referer('wx1111111111111111', 'devtools') })).status).toBe(403);
  });
});

describe('through an event platform (bundle called as Aliyun FC 3.0)', () => {
  function loadGet(env: Record<string, string>) {
    const saved = process.env;
    process.env = { UPSTREAM_URL: upstream.url, RELAY_LOG: '0', ...env };
    try {
      let bundle: { handler: (...args: unknown[]) => Promise<{ statusCode: number; headers: Record<string, string> }> } | undefined;
      jest.isolateModules(() => {
        bundle = require(built('get', 'index.js'));
      });
      return bundle!.handler;
    } finally {
      process.env = saved;
    }
  }
  const call = (handler: ReturnType<typeof loadGet>, query: string, headers: Record<string, string> = {}) =>
    handler(Buffer.from(JSON.stringify(events.fc3({ method: 'GET', path: '/get', query, headers }))), {});

  test('paths and AppIDs are enforced in the platform format', async () => {
    const handler = loadGet({ RELAY_ALLOW_PATHS: 'api/*', RELAY_ALLOW_APPIDS: APP });
    const ok = await call(handler, 'method=api/users', { Referer: referer(APP, '1') });
    const path = await call(handler, 'method=admin/users', { Referer: referer(APP, '1') });
    const appId = await call(handler, 'method=api/users', { Referer: referer('wx1111111111111111', '1') });
    expect([ok.statusCode, path.statusCode, path.headers['x-relay-error'], appId.statusCode, appId.headers['x-relay-error']]).toEqual([200, 403, 'PATH_NOT_ALLOWED', 403, 'APPID_NOT_ALLOWED']);
  });
});

describe('RELAY_MAX_INFLIGHT', () => {
  /** An upstream that holds every answer until released. */
  async function holdingUpstream() {
    const held: (() => void)[] = [];
    const server = await startUpstream((_req, res) => held.push(() => res.end('{"ok":true}')));
    return { server, held, release: () => held.splice(0).forEach((answer) => answer()) };
  }
  const waitFor = async (condition: () => boolean) => {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  test('on the local server: beyond the cap, 503 BUSY with Retry-After; capacity returns as answers finish', async () => {
    const slow = await holdingUpstream();
    const relay = await startRelay({ UPSTREAM_URL: slow.server.url, RELAY_MAX_INFLIGHT: '2', RELAY_LOG: '0' });
    try {
      const first = [send(relay.url, '/get?method=a'), send(relay.url, '/get?method=b')];
      await waitFor(() => slow.held.length === 2);
      const busy = await send(relay.url, '/get?method=c');
      expect([busy.status, busy.headers['x-relay-error'], busy.headers['retry-after']]).toEqual([503, 'BUSY', '1']);
      slow.release();
      expect((await Promise.all(first)).map((reply) => reply.status)).toEqual([200, 200]);
      const later = send(relay.url, '/get?method=d');
      await waitFor(() => slow.held.length === 1);
      slow.release();
      expect((await later).status).toBe(200);
      expect(slow.server.requests.map((request) => request.url)).toEqual(['/a', '/b', '/d']);
    } finally {
      await relay.close();
      await slow.server.close();
    }
  });

  test('in the SCF web function (started by scf_bootstrap)', async () => {
    const slow = await holdingUpstream();
    const web = await startListening('bash', [built('web', 'scf_bootstrap')], {
      MP_RELAY_NODE: process.execPath,
      HOST: '127.0.0.1',
      PORT: '0',
      UPSTREAM_URL: slow.server.url,
      RELAY_MAX_INFLIGHT: '1',
      RELAY_LOG: '0',
    });
    try {
      const first = send(web.base, '/get?method=a');
      await waitFor(() => slow.held.length === 1);
      const busy = await send(web.base, '/post?method=b', { method: 'POST', body: '{}' });
      expect([busy.status, busy.headers['x-relay-error']]).toEqual([503, 'BUSY']);
      slow.release();
      expect((await first).status).toBe(200);
    } finally {
      slow.release();
      await web.stop();
      await slow.server.close();
    }
  });
});
