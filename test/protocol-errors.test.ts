import { built, startListening, type Started } from './helpers/processes';
import { send, sendRaw, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';

// Class 11 of the hardening: what Node's own HTTP parser refuses (a request that never reaches a
// handler) is answered like every other refusal: the relay's JSON error body and x-relay-error, on
// the local server and on the SCF web function alike.

const LONG = 'x'.repeat(20_000);

/** [case, status, code, raw request head (no final blank line), body]. */
const REFUSALS: [string, number, string, string, string][] = [
  ['a request line that is not HTTP', 400, 'BAD_REQUEST', 'HELLO THERE', ''],
  ['a space inside the target', 400, 'BAD_REQUEST', 'GET /get?method=a b HTTP/1.1\r\nHost: relay', ''],
  ['a header line without a colon', 400, 'BAD_REQUEST', 'GET /get?method=a HTTP/1.1\r\nHost: relay\r\nBroken header', ''],
  ['a bare LF inside a header value', 400, 'BAD_REQUEST', 'GET /get?method=a HTTP/1.1\r\nHost: relay\r\nX-A: 1\nX-B: 2', ''],
  ['Content-Length and Transfer-Encoding together', 400, 'BAD_REQUEST', 'POST /post?method=a HTTP/1.1\r\nHost: relay\r\nContent-Length: 3\r\nTransfer-Encoding: chunked', '0\r\n\r\n'],
  ['two different Content-Lengths', 400, 'BAD_REQUEST', 'POST /post?method=a HTTP/1.1\r\nHost: relay\r\nContent-Length: 3\r\nContent-Length: 4', 'abcd'],
  ['an invalid chunk size', 400, 'BAD_REQUEST', 'POST /post?method=a HTTP/1.1\r\nHost: relay\r\nTransfer-Encoding: chunked', 'zz\r\nabc\r\n0\r\n\r\n'],
  ['a request target beyond what Node accepts', 431, 'HEADERS_TOO_LARGE', `GET /get?method=a&q=${LONG} HTTP/1.1\r\nHost: relay`, ''],
  ['a header beyond what Node accepts', 431, 'HEADERS_TOO_LARGE', `GET /get?method=a HTTP/1.1\r\nHost: relay\r\nX-Big: ${LONG}`, ''],
  ['an expectation other than 100-continue', 417, 'EXPECTATION_FAILED', 'POST /post?method=a HTTP/1.1\r\nHost: relay\r\nExpect: the-impossible\r\nContent-Length: 2\r\nConnection: close', '{}'],
];

function expectJsonRefusal(raw: string, status: number, code: string): void {
  expect(raw).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  const [head, body] = [raw.slice(0, raw.indexOf('\r\n\r\n')), raw.slice(raw.indexOf('\r\n\r\n') + 4)];
  expect(head).toMatch(new RegExp(`\r\nx-relay-error: ${code}\r\n`, 'i'));
  expect(head).toMatch(/\r\ncontent-type: application\/json/i);
  const parsed = JSON.parse(body);
  expect(parsed.error.code).toBe(code);
  expect(parsed.error.requestId).toEqual(expect.any(String));
}

let upstream: Upstream;
beforeAll(async () => {
  // `/api/slow` answers late, so a request can still be in progress when the next bytes arrive.
  upstream = await startUpstream((req, res) => (req.url === '/api/slow' ? setTimeout(() => res.end('{}'), 150) : res.end('{}')));
});
afterAll(() => upstream.close());

describe('the local server', () => {
  let relay: RunningRelay;
  beforeAll(async () => {
    relay = await startRelay({ UPSTREAM_URL: upstream.url });
  });
  afterAll(() => relay.close());

  test.each(REFUSALS)('%s: %i %s as JSON', async (_case, status, code, head, body) => {
    const before = upstream.requests.length;
    expectJsonRefusal(await sendRaw(relay.url, head, body), status, code);
    expect(upstream.requests.length).toBe(before);
  });

  test('the refusals are logged like any other answer', () => {
    const codes = relay.logs.map((line) => JSON.parse(line).error);
    expect(codes).toEqual(expect.arrayContaining(['BAD_REQUEST', 'HEADERS_TOO_LARGE', 'EXPECTATION_FAILED']));
  });

  test('and it goes on serving', async () => {
    expect((await send(relay.url, '/get?method=api/ok')).status).toBe(200);
  });

  test('CONNECT (a tunnel request): 405 METHOD_NOT_ALLOWED as JSON, never a tunnel', async () => {
    expectJsonRefusal(await sendRaw(relay.url, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22'), 405, 'METHOD_NOT_ALLOWED');
  });

  test('an HTTP/1.1 request without Host is served like any other (Host is not used to route)', async () => {
    expect(await sendRaw(relay.url, 'GET /get?method=api/ok HTTP/1.1\r\nConnection: close')).toMatch(/^HTTP\/1\.1 200 /);
  });

  test('garbage pipelined behind a request is not answered as if it were that request: the connection closes', async () => {
    const before = upstream.requests.length;
    const raw = await sendRaw(relay.url, 'GET /get?method=api/slow HTTP/1.1\r\nHost: relay\r\n\r\nGARBAGE');
    expect(raw).not.toMatch(/^HTTP\/1\.1 400/);
    expect(raw === '' || /^HTTP\/1\.1 200 /.test(raw)).toBe(true);
    expect(upstream.requests.length).toBeLessThanOrEqual(before + 1);
  });
});

describe('the SCF web function', () => {
  let web: Started;
  beforeAll(async () => {
    web = await startListening('bash', [built('web', 'scf_bootstrap')], { MP_RELAY_NODE: process.execPath, HOST: '127.0.0.1', PORT: '0', UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
  });
  afterAll(() => web?.stop());

  test.each(REFUSALS)('%s: %i %s as JSON', async (_case, status, code, head, body) => {
    expectJsonRefusal(await sendRaw(web.base, head, body), status, code);
  });
});
