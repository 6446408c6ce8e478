import type * as Client from '../client/index';
import { built } from './helpers/processes';
import { startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';
import { createWxStandIn, type WxStandIn } from './helpers/wx-stand-in';

// What an independent review found the client must survive: a throwing success path, a WeChat task
// that never calls back, time spent waiting in the queue, other wordings of a timeout, relay codes this
// client does not know, bad options, headers that differ only in case, awkward query values.

const client: typeof Client = require(built('client', 'index.js'));

let upstream: Upstream;
let relay: RunningRelay;
beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    const answer = () => res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'a=1; Path=/' }).end(JSON.stringify({ url: req.url, headers: req.headers }));
    if (req.url?.startsWith('/api/slow')) return void setTimeout(answer, 300);
    answer();
  });
  relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});

const make = (wx: WxStandIn | object, options: Partial<Client.RelayClientOptions> = {}) => client.createRelay({ baseUrl: relay.url, wx: wx as unknown as Client.WxApi, ...options });
const caught = (promise: Promise<unknown>) => promise.then(() => undefined, (error: Client.RelayError) => error);

test('wx storage full: cookies are lost, the answers are not, and no queue slot is held', async () => {
  const wx = createWxStandIn({ storageFull: true });
  const relayClient = make(wx, { cookies: true });
  const results = await Promise.all(Array.from({ length: 12 }, () => relayClient.get('api/a')));
  expect(results.map((res) => res.statusCode)).toEqual(Array(12).fill(200));
  expect(wx.inFlight()).toBe(0);
});

test('a WeChat task that never calls back is given up on after its timeout (TIMEOUT), freeing its slot', async () => {
  const wx = createWxStandIn({ silent: true });
  const relayClient = make(wx, { timeout: 50 });
  const errors = await Promise.all(Array.from({ length: 11 }, () => caught(relayClient.get('api/a'))));
  expect(errors.map((error) => error?.code)).toEqual(Array(11).fill('TIMEOUT'));
  expect(wx.inFlight()).toBe(0);
}, 10_000);

test('time spent waiting in the queue counts: a call whose time ran out there never reaches WeChat', async () => {
  const wx = createWxStandIn();
  const relayClient = make(wx, { maxConcurrent: 1 });
  const slow = relayClient.get('api/slow');
  const late = caught(relayClient.get('api/a', undefined, { timeout: 150 }));
  expect((await late)?.code).toBe('TIMEOUT');
  await slow;
  expect(wx.calls).toHaveLength(1);
});

test.each(['request:fail timeout', 'request:fail The request timed out.', 'request:fail 请求超时'])('"%s" is a TIMEOUT, not retried even with no time limit given', async (errMsg) => {
  const wx = createWxStandIn({ failAll: { errMsg } });
  const error = await caught(make(wx).get('api/a'));
  expect(error?.code).toBe('TIMEOUT');
  expect(wx.calls).toHaveLength(1);
});

test('a relay code this client does not know is still the relay’s (fromRelay), and `toString` is no code of ours', async () => {
  const answering = (code: string) => ({
    request: (options: any) => {
      setTimeout(() => options.success({ statusCode: 429, header: { 'X-Relay-Error': code }, data: { error: { code, message: 'slow down' } } }));
      return { abort() {} };
    },
  });
  const unknown = await caught(make(answering('RATE_LIMITED')).get('api/a'));
  expect([unknown?.code, unknown?.fromRelay, unknown?.statusCode]).toEqual(['RATE_LIMITED', true, 429]);
  expect(new client.RelayError('toString' as Client.RelayErrorCode, 0, 'x').fromRelay).toBe(false);
});

test.each([0, -1, 11, 2.5, Number.NaN])('maxConcurrent %p is refused with a TypeError', (maxConcurrent) => {
  expect(() => make(createWxStandIn(), { maxConcurrent })).toThrow(TypeError);
});

test.each([0, -5, Number.POSITIVE_INFINITY])('timeout %p is refused, once or per call', async (timeout) => {
  expect(() => make(createWxStandIn(), { timeout })).toThrow(TypeError);
  await expect(make(createWxStandIn()).get('api/a', undefined, { timeout })).rejects.toThrow(TypeError);
});

test('header names are merged without case: one Content-Type, one Cookie', async () => {
  const wx = createWxStandIn();
  const relayClient = make(wx, { cookies: true, header: { 'Content-Type': 'application/json' } });
  await relayClient.get('api/login');
  await relayClient.post('api/a', { x: 1 }, { header: { 'content-type': 'application/json; charset=utf-8', cookie: 'theme=dark' } });
  const sent = wx.calls.at(-1)!.options.header;
  expect(Object.keys(sent).filter((name) => name.toLowerCase() === 'content-type')).toEqual(['content-type']);
  expect(Object.keys(sent).filter((name) => name.toLowerCase() === 'cookie')).toEqual(['cookie']);
  expect(sent.cookie).toBe('theme=dark; a=1');
});

test('query values: a Date as ISO time, array positions kept, NaN and unknown formats refused', () => {
  expect(client.encodeQuery({ at: new Date(Date.UTC(2026, 11, 1)) })).toBe('at=2026-12-01T00%3A00%3A00.000Z');
  expect(decodeURIComponent(client.encodeQuery({ items: [{ id: 1 }, null, { id: 3 }] }))).toBe('items[0][id]=1&items[2][id]=3');
  expect(() => client.encodeQuery({ n: Number.NaN })).toThrow(TypeError);
  expect(() => client.encodeQuery({ a: [1] }, 'indices' as Client.ArrayFormat)).toThrow(TypeError);
});
