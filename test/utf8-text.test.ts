import * as events from './fixtures/events';
import { loadBundle } from './helpers/processes';
import { send, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';

// Class 9 of the hardening: where users send UTF-8, the relay reads UTF-8: the `method` field of form
// and JSON bodies included (a raw `method=api/商品` form field was once read as Latin-1 mojibake). Bytes
// that are not UTF-8 where a path is expected are refused, never turned into U+FFFD and forwarded.

const GOODS = '/api/%E5%95%86%E5%93%81';
const utf8 = (text: string) => Buffer.from(text, 'utf8');
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

let upstream: Upstream;
let relay: RunningRelay;
beforeAll(async () => {
  upstream = await startUpstream((_req, res) => res.end('{}'));
  relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});
const last = () => upstream.requests[upstream.requests.length - 1]!;

/** [case, content type, body bytes, path the upstream must see, body the upstream must get]. */
const ACCEPTED: [string, Record<string, string>, Buffer, string, Buffer][] = [
  ['form, raw UTF-8 path', FORM, utf8('method=api/商品&name=小明'), GOODS, utf8('name=小明')],
  ['form, percent-encoded UTF-8 path', FORM, utf8('method=api%2F%E5%95%86%E5%93%81&a=1'), GOODS, utf8('a=1')],
  ['form, path after the data', FORM, utf8('a=1&method=api/商品'), GOODS, utf8('a=1')],
  ['form, other fields in GBK pass untouched', FORM, Buffer.concat([utf8('method=api/x&n='), Buffer.from([0xc4, 0xe3])]), '/api/x', Buffer.concat([utf8('n='), Buffer.from([0xc4, 0xe3])])],
  ['JSON, raw UTF-8 path', JSON_TYPE, utf8('{"method":"api/商品","n":1}'), GOODS, utf8('{"n":1}')],
  ['JSON, \\u-escaped path', JSON_TYPE, utf8('{"method":"api/\\u5546\\u54c1","n":1}'), GOODS, utf8('{"n":1}')],
  ['JSON with a UTF-8 byte order mark', JSON_TYPE, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('{"method":"api/商品","n":1}')]), GOODS, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('{"n":1}')])],
];

const REFUSED: [string, Record<string, string>, Buffer, string][] = [
  ['form, path bytes that are not UTF-8', FORM, Buffer.concat([utf8('method=api/'), Buffer.from([0xc4, 0xe3]), utf8('&a=1')]), 'BAD_PATH'],
  ['form, an overlong encoding of "/"', FORM, Buffer.concat([utf8('method=api'), Buffer.from([0xc0, 0xaf]), utf8('x')]), 'BAD_PATH'],
  ['JSON, path bytes that are not UTF-8', JSON_TYPE, Buffer.concat([utf8('{"method":"api/'), Buffer.from([0xff]), utf8('","n":1}')]), 'BAD_PATH'],
];

describe('the local server', () => {
  test.each(ACCEPTED)('%s', async (_case, headers, body, path, forwarded) => {
    const reply = await send(relay.url, '/post', { method: 'POST', headers, body });
    expect(reply.status).toBe(200);
    expect(last().url).toBe(path);
    expect(last().body.equals(forwarded)).toBe(true);
  });

  test.each(REFUSED)('%s: 400, nothing sent', async (_case, headers, body, code) => {
    const before = upstream.requests.length;
    const reply = await send(relay.url, '/post', { method: 'POST', headers, body });
    expect([reply.status, reply.headers['x-relay-error']]).toEqual([400, code]);
    expect(upstream.requests.length).toBe(before);
  });
});

describe('through an event (Aliyun FC 3.0)', () => {
  test.each(ACCEPTED)('%s', async (_case, headers, body, path, forwarded) => {
    const { handler } = loadBundle('post', { UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
    const result = (await handler(Buffer.from(JSON.stringify(events.fc3({ method: 'POST', path: '/post', query: '', headers, body, base64: true }))), {})) as { statusCode: number };
    expect(result.statusCode).toBe(200);
    expect(last().url).toBe(path);
    expect(last().body.equals(forwarded)).toBe(true);
  });
});
