import type * as Client from '../client/index';
import { built } from './helpers/processes';
import { startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';
import { createWxStandIn } from './helpers/wx-stand-in';

// Issue 15, item 5: query encoding is explicit. Arrays: `repeat` (default), `brackets` (what PHP and
// Laravel read), `comma` (what wx.request itself does); nested objects with brackets, never
// `[object Object]`. Checked on the built client, and on what the backend receives through the relay.

const client: typeof Client = require(built('client', 'index.js'));

test.each<[Client.ArrayFormat | undefined, string]>([
  [undefined, 'tag=a&tag=b'],
  ['repeat', 'tag=a&tag=b'],
  ['brackets', 'tag%5B%5D=a&tag%5B%5D=b'],
  ['comma', 'tag=a,b'],
])('arrays, %s: %s', (format, expected) => {
  expect(client.encodeQuery({ tag: ['a', 'b'] }, format)).toBe(expected);
});

test('nested objects and arrays of objects are written with brackets; null and undefined are left out', () => {
  const query = { filter: { status: 'open', owner: { id: 7 } }, items: [{ id: 1 }, { id: 2 }], skip: null, none: undefined, tags: ['x', null, 'y'] };
  expect(decodeURIComponent(client.encodeQuery(query))).toBe('filter[status]=open&filter[owner][id]=7&items[0][id]=1&items[1][id]=2&tags=x&tags=y');
  expect(decodeURIComponent(client.encodeQuery({ filter: { tags: ['a', 'b'] } }, 'brackets'))).toBe('filter[tags][]=a&filter[tags][]=b');
  expect(client.encodeQuery(query)).not.toContain('object');
});

test('values are encoded once, commas inside values too (so `comma` stays unambiguous)', () => {
  expect(client.encodeQuery({ q: '小程序 a,b&c=d' })).toBe('q=%E5%B0%8F%E7%A8%8B%E5%BA%8F%20a%2Cb%26c%3Dd');
  expect(client.encodeQuery({ tag: ['a,b', 'c'] }, 'comma')).toBe('tag=a%2Cb,c');
});

describe('through the relay', () => {
  let upstream: Upstream;
  let relay: RunningRelay;
  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
  });
  afterAll(async () => {
    await relay.close();
    await upstream.close();
  });

  test('the backend receives the format chosen once in createRelay, or per call', async () => {
    const relayClient = client.createRelay({ baseUrl: relay.url, wx: createWxStandIn() as unknown as Client.WxApi, arrayFormat: 'brackets' });
    await relayClient.get('api/search', { tag: ['a', 'b'], filter: { status: 'open' } });
    expect(decodeURIComponent(upstream.requests.at(-1)!.url)).toBe('/api/search?tag[]=a&tag[]=b&filter[status]=open');
    await relayClient.get('api/search', { tag: ['a', 'b'] }, { arrayFormat: 'comma' });
    expect(upstream.requests.at(-1)!.url).toBe('/api/search?tag=a,b');
  });
});
