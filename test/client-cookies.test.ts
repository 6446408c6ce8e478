import type * as Client from '../client/index';
import { built } from './helpers/processes';
import { send, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';
import { createWxStandIn } from './helpers/wx-stand-in';

// Issue 15, item 4: cookie Path rules apply to the backend's real paths with no client option, although
// UPSTREAM_URL may carry a base path: the relay maps a cookie's Path as nginx's proxy_cookie_path does
// (`/v1/api` -> `/api`), so the client's jar, which knows only API paths, matches them.

const client: typeof Client = require(built('client', 'index.js'));

let upstream: Upstream;
let relay: RunningRelay;
beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url?.startsWith('/v1/api/login')) {
      res.setHeader('set-cookie', [
        'session=s1; Path=/v1; HttpOnly',
        'api_only=a1; Path=/v1/api; Domain=backend.example.com',
        'admin=ad1; path=/v1/admin',
        'elsewhere=e1; Path=/other',
        'trailing=t1; Path=/v1/',
        'twice=w1; Path=/v1/a; Path=/v1/b',
        'lookalike=l1; Path=/v10',
      ]);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cookie: req.headers.cookie ?? null }));
  });
  relay = await startRelay({ UPSTREAM_URL: `${upstream.url}/v1`, RELAY_LOG: '0' });
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});

test('the relay takes the upstream base path off each Set-Cookie Path, leaves other paths alone', async () => {
  const reply = await send(relay.url, '/get?method=api/login');
  expect(reply.headers['set-cookie']).toEqual([
    'session=s1; Path=/; HttpOnly',
    'api_only=a1; Path=/api; Domain=backend.example.com',
    'admin=ad1; path=/admin',
    'elsewhere=e1; Path=/other',
    'trailing=t1; Path=/',
    'twice=w1; Path=/a; Path=/b',
    'lookalike=l1; Path=/v10',
  ]);
});

test('the client sends each cookie back on the API paths its backend Path covers', async () => {
  const relayClient = client.createRelay({ baseUrl: relay.url, wx: createWxStandIn() as unknown as Client.WxApi, cookies: true });
  await relayClient.get('api/login');
  expect((await relayClient.get<{ cookie: string }>('api/me')).data.cookie).toBe('api_only=a1; session=s1; trailing=t1');
  expect((await relayClient.get<{ cookie: string }>('admin/panel')).data.cookie).toBe('admin=ad1; session=s1; trailing=t1');
});

test('without a base path, Set-Cookie passes unchanged', async () => {
  const plain = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
  try {
    const reply = await send(plain.url, '/get?method=v1/api/login');
    expect(reply.headers['set-cookie']).toContain('api_only=a1; Path=/v1/api; Domain=backend.example.com');
  } finally {
    await plain.close();
  }
});
