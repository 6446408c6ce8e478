import type * as Client from '../client/index';
import { built } from './helpers/processes';
import { startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';
import { createWxStandIn } from './helpers/wx-stand-in';

// Issue 15, item 9: the wx.request options that matter pass through (responseType 'arraybuffer',
// enableHttp2, enableQuic, enableCache, dataType), only when given; downloadImage takes a per-call header.

const client: typeof Client = require(built('client', 'index.js'));
const BYTES = Buffer.from([0, 1, 2, 250, 255]);

let upstream: Upstream;
let relay: RunningRelay;
beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url?.startsWith('/bin')) return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(BYTES);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ header: req.headers['x-page'] ?? null }));
  });
  relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});

test('the flags reach wx.request as given, and are absent when not given', async () => {
  const wx = createWxStandIn();
  const relayClient = client.createRelay({ baseUrl: relay.url, wx: wx as unknown as Client.WxApi });
  await relayClient.get('api/a', undefined, { enableHttp2: true, enableQuic: false, enableCache: true, dataType: 'text' });
  await relayClient.get('api/a');
  const [given, plain] = wx.calls.map((call) => call.options);
  expect([given.enableHttp2, given.enableQuic, given.enableCache, given.dataType]).toEqual([true, false, true, 'text']);
  expect(['enableHttp2', 'enableQuic', 'enableCache', 'responseType'].filter((flag) => flag in plain)).toEqual([]);
  expect(plain.dataType).toBe('json');
});

test("responseType 'arraybuffer' gives the bytes as they came", async () => {
  const res = await client.createRelay({ baseUrl: relay.url, wx: createWxStandIn() as unknown as Client.WxApi }).get<ArrayBuffer>('bin', undefined, { responseType: 'arraybuffer' });
  expect(Buffer.from(res.data).equals(BYTES)).toBe(true);
});

test('downloadImage sends a per-call header', async () => {
  const wx = createWxStandIn();
  await client.createRelay({ baseUrl: relay.url, wx: wx as unknown as Client.WxApi }).downloadImage('api/a', undefined, { header: { 'X-Page': 'home' } });
  expect(wx.calls[0]!.options.header['X-Page']).toBe('home');
  expect(upstream.requests.at(-1)!.headers['x-page']).toBe('home');
});
