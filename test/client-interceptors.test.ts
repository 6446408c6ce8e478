import type * as Client from '../client/index';
import { built } from './helpers/processes';
import { startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';
import { createWxStandIn } from './helpers/wx-stand-in';

// Issue 15, item 7: relay.interceptors.request.use(fn) and relay.interceptors.response.use(onOk, onErr),
// async allowed, run in the order added. The common uses: a token on every call, a token refresh on a
// backend 401, a loading indicator, an error toast.

const client: typeof Client = require(built('client', 'index.js'));

let upstream: Upstream;
let relay: RunningRelay;
let validToken = 'fresh';
beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url?.startsWith('/api/refresh')) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: validToken }));
    if (req.headers.authorization !== `Bearer ${validToken}`) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"token expired"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url }));
  });
  relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});

const make = () => client.createRelay({ baseUrl: relay.url, wx: createWxStandIn() as unknown as Client.WxApi });

test('request interceptors run in the order added, may be async, and change the call', async () => {
  const relayClient = make();
  const order: string[] = [];
  relayClient.interceptors.request.use((config) => {
    order.push('first');
    config.header.Authorization = `Bearer ${validToken}`;
    return config;
  });
  relayClient.interceptors.request.use(async (config) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    order.push('second');
    return { ...config, query: { ...config.query, page: 2 } };
  });
  const res = await relayClient.get<{ url: string }>('api/users');
  expect(order).toEqual(['first', 'second']);
  expect(res.data.url).toBe('/api/users?page=2');
});

test('response interceptors run in the order added: a token refresh on 401 that retries the call', async () => {
  let token = 'stale';
  const relayClient = make();
  relayClient.interceptors.request.use((config) => {
    config.header.Authorization = `Bearer ${token}`;
    return config;
  });
  const seen: number[] = [];
  relayClient.interceptors.response.use(async (res) => {
    seen.push(res.statusCode);
    if (res.statusCode !== 401 || res.data.retried) return res;
    token = (await relayClient.get<{ token: string }>('api/refresh')).data.token;
    const again = await relayClient.get('api/users');
    return { ...again, data: { ...(again.data as object), retried: true } };
  });
  relayClient.interceptors.response.use((res) => ({ ...res, data: { ...res.data, second: true } }));
  const res = await relayClient.get<{ url: string; retried: boolean; second: boolean }>('api/users');
  expect([res.statusCode, res.data.url, res.data.retried, res.data.second]).toEqual([200, '/api/users', true, true]);
  expect(seen).toEqual([401, 200, 200]);
});

test('an error interceptor sees relay errors (to show a toast) and may recover with a value', async () => {
  const relayClient = make();
  const toasts: string[] = [];
  relayClient.interceptors.response.use(undefined, (error: Client.RelayError) => {
    toasts.push(error.code);
    if (error.code === 'BAD_PATH') return { statusCode: 0, data: 'recovered', header: {}, cookies: [] };
    throw error;
  });
  const res = await relayClient.get('../x');
  expect([toasts, res.data]).toEqual([['BAD_PATH'], 'recovered']);
});

test('a loading indicator: shown by a request interceptor, hidden by the response one on success and failure', async () => {
  const relayClient = make();
  let loading = 0;
  relayClient.interceptors.request.use((config) => {
    loading++;
    return config;
  });
  relayClient.interceptors.response.use(
    (res) => {
      loading--;
      return res;
    },
    (error) => {
      loading--;
      throw error;
    },
  );
  await Promise.allSettled([relayClient.get('api/users'), relayClient.get('../x')]);
  expect(loading).toBe(0);
});
