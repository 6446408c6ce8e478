import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { STREAM_ABOVE_BYTES } from '../functions/core/relay';
import { createServerBodies } from '../functions/core/stream';
import { loadBundle } from './helpers/processes';
import { send, startRawUpstream, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';

// Servers (local server, SCF web function) stream an upstream body above STREAM_ABOVE_BYTES instead of
// holding it: memory stays flat however many downloads run. What that changes, and what it does not:
// a buffered body cut short by the upstream is a clean 502; a streamed one is an answer cut short.

const BIG = randomBytes(STREAM_ABOVE_BYTES * 3);
const SMALL = randomBytes(STREAM_ABOVE_BYTES / 2);

let upstream: Upstream;
let relay: RunningRelay;
/** Lets /held finish: the upstream holds the rest of its body until then. */
let release: () => void = () => undefined;
let upstreamSawClose: () => void = () => undefined;

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    const path = req.url ?? '';
    if (path.startsWith('/held')) {
      // Half of a large body, then nothing until the test says so.
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': BIG.length });
      res.write(BIG.subarray(0, BIG.length / 2));
      release = () => res.end(BIG.subarray(BIG.length / 2));
      req.socket.once('close', () => upstreamSawClose());
      return;
    }
    if (path.startsWith('/chunked')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(BIG.subarray(0, 1000));
      return void setTimeout(() => res.end(BIG.subarray(1000)), 10);
    }
    if (path.startsWith('/cut-large')) {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': BIG.length });
      res.write(BIG.subarray(0, STREAM_ABOVE_BYTES + 4096), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (path.startsWith('/cut-small')) {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': SMALL.length });
      res.write(SMALL.subarray(0, 1000), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (path.startsWith('/stall')) {
      res.writeHead(200, { 'content-type': 'image/png' });
      return void res.write(BIG.subarray(0, STREAM_ABOVE_BYTES + 1));
    }
    if (path.startsWith('/small')) return void res.writeHead(200, { 'content-type': 'image/png', 'content-length': SMALL.length }).end(SMALL);
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': BIG.length }).end(BIG);
  });
  relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_TIMEOUT_MS: '300' });
});
afterAll(async () => {
  await relay.close();
  await upstream.close();
});

/** A GET whose answer is read as far as it goes: complete, or cut short (`aborted`). */
function fetchAll(path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${relay.url}${path}`, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        const done = (aborted: boolean) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), aborted });
        res.on('end', () => done(!res.complete));
        res.on('error', () => done(true));
        res.on('aborted', () => done(true));
      })
      .on('error', reject);
  });
}

const lastLog = (fragment: string) => relay.logs.map((line) => JSON.parse(line)).filter((line) => String(line.path).includes(fragment)).pop();
const until = async (condition: () => unknown) => {
  for (let waited = 0; !(await condition()) && waited < 3000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
};

test('a large body is streamed: the client has the headers and the first half while the upstream still holds the rest', async () => {
  const request = http.get(`${relay.url}/getDownImg?method=held`, { agent: false });
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  expect(response.headers['content-length']).toBe(String(BIG.length));
  const chunks: Buffer[] = [];
  let received = 0;
  response.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
  });
  await until(() => received >= BIG.length / 2);
  expect(received).toBe(BIG.length / 2);
  release();
  await once(response, 'end');
  expect(Buffer.concat(chunks).equals(BIG)).toBe(true);
  await until(() => lastLog('/held'));
  expect(lastLog('/held')).toMatchObject({ status: 200, bytesOut: BIG.length });
  expect(lastLog('/held').error).toBeUndefined();
});

test('byte-exact with the upstream’s Content-Length, or chunked when the upstream sent none', async () => {
  const declared = await fetchAll('/getDownImg?method=big');
  expect([declared.status, declared.aborted, declared.headers['content-length']]).toEqual([200, false, String(BIG.length)]);
  expect(declared.body.equals(BIG)).toBe(true);
  const chunked = await fetchAll('/getDownImg?method=chunked');
  expect([chunked.status, chunked.aborted, chunked.headers['content-length'], chunked.headers['transfer-encoding']]).toEqual([200, false, undefined, 'chunked']);
  expect(chunked.body.equals(BIG)).toBe(true);
});

test('cut short by the upstream: a streamed body ends the answer early (logged), a buffered one is a 502', async () => {
  const streamed = await fetchAll('/getDownImg?method=cut-large');
  expect([streamed.status, streamed.aborted]).toEqual([200, true]);
  expect(streamed.body.length).toBeLessThan(BIG.length);
  await until(() => lastLog('/cut-large'));
  expect(lastLog('/cut-large')).toMatchObject({ status: 200, error: 'UPSTREAM_UNREACHABLE' });

  const buffered = await send(relay.url, '/getDownImg?method=cut-small');
  expect([buffered.status, buffered.headers['x-relay-error']]).toEqual([502, 'UPSTREAM_UNREACHABLE']);
});

test('a streamed body that stops coming for RELAY_TIMEOUT_MS is cut short, and the wait is logged as UPSTREAM_TIMEOUT', async () => {
  const stalled = await fetchAll('/getDownImg?method=stall');
  expect([stalled.status, stalled.aborted]).toEqual([200, true]);
  await until(() => lastLog('/stall'));
  expect(lastLog('/stall')).toMatchObject({ status: 200, error: 'UPSTREAM_TIMEOUT' });
});

test('a client that leaves during a streamed body closes the upstream connection too (logged CLIENT_CLOSED)', async () => {
  const closed = new Promise<void>((resolve) => (upstreamSawClose = resolve));
  const request = http.get(`${relay.url}/getDownImg?method=held-then-leave`, { agent: false });
  const [response] = (await once(request, 'response')) as [http.IncomingMessage];
  await once(response, 'data');
  request.destroy();
  await closed;
  await until(() => lastLog('/held-then-leave'));
  expect(lastLog('/held-then-leave')).toMatchObject({ status: 200, error: 'CLIENT_CLOSED' });
});

test('RELAY_MAX_RESPONSE_BYTES holds for streamed bodies: 502 when declared larger, cut short when it grows past', async () => {
  const limited = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_MAX_RESPONSE_BYTES: String(STREAM_ABOVE_BYTES * 2) });
  try {
    const declared = await send(limited.url, '/getDownImg?method=big');
    expect([declared.status, declared.headers['x-relay-error']]).toEqual([502, 'RESPONSE_TOO_LARGE']);
    const grown = await new Promise<{ status: number; aborted: boolean; bytes: number }>((resolve, reject) => {
      http.get(`${limited.url}/getDownImg?method=chunked`, { agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, aborted: !res.complete, bytes }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, aborted: true, bytes }));
      }).on('error', reject);
    });
    expect(grown.status).toBe(200);
    expect(grown.aborted).toBe(true);
    expect(grown.bytes).toBeLessThanOrEqual(STREAM_ABOVE_BYTES * 2);
  } finally {
    await limited.close();
  }
});

test('bodies up to the threshold are buffered whole and sent with their length', async () => {
  const reply = await send(relay.url, '/getDownImg?method=small');
  expect([reply.status, reply.headers['content-length']]).toEqual([200, String(SMALL.length)]);
  expect(reply.body.equals(SMALL)).toBe(true);
});

test('event functions never stream: the bundle returns the whole large body, once, as base64', async () => {
  const { handler } = loadBundle('getDownImg', { UPSTREAM_URL: upstream.url, RELAY_LOG: '0' });
  const event = Buffer.from(JSON.stringify({ version: 'v1', rawPath: '/getDownImg', headers: {}, queryParameters: { method: 'big' }, body: '', isBase64Encoded: false, requestContext: { http: { method: 'GET', path: '/getDownImg', sourceIp: '127.0.0.1' } } }));
  const result = (await handler(event, {})) as { statusCode: number; body: string; isBase64Encoded: boolean };
  expect([result.statusCode, result.isBase64Encoded]).toEqual([200, true]);
  expect(Buffer.from(result.body, 'base64').equals(BIG)).toBe(true);
});

test('clients that never read cannot take the upstream pool: past the cap on streams a large answer is 503 BUSY, small ones still flow', async () => {
  const capped = await startRelay({ UPSTREAM_URL: upstream.url }, { streaming: createServerBodies(2) });
  const stuck: http.ClientRequest[] = [];
  try {
    // Two downloads whose clients read nothing: each holds a stream, and with it an upstream socket.
    for (let i = 0; i < 2; i++) {
      const request = http.get(`${capped.url}/getDownImg?method=held-${i}`, { agent: false });
      stuck.push(request);
      const [response] = (await once(request, 'response')) as [http.IncomingMessage];
      response.pause();
    }
    const refused = await send(capped.url, '/getDownImg?method=big');
    expect([refused.status, refused.headers['x-relay-error'], refused.headers['retry-after']]).toEqual([503, 'BUSY', '1']);
    expect((await send(capped.url, '/getDownImg?method=small')).status).toBe(200);
    stuck.forEach((request) => request.destroy());
    await until(async () => (await send(capped.url, '/getDownImg?method=big')).status === 200);
    expect((await send(capped.url, '/getDownImg?method=big')).body.equals(BIG)).toBe(true);
  } finally {
    stuck.forEach((request) => request.destroy());
    await capped.close();
  }
});

test.each(['0000000002000000', '9999999999999999'])('a declared Content-Length of %s above RELAY_MAX_RESPONSE_BYTES is a 502 before anything is sent', async (length) => {
  const raw = await startRawUpstream((socket) => {
    socket.once('data', () => socket.write(`HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: ${length}\r\n\r\n${'x'.repeat(1000)}`));
    socket.on('error', () => undefined);
  });
  const limited = await startRelay({ UPSTREAM_URL: raw.url, RELAY_MAX_RESPONSE_BYTES: '1000000' });
  try {
    const reply = await send(limited.url, '/getDownImg?method=huge');
    expect([reply.status, reply.headers['x-relay-error']]).toEqual([502, 'RESPONSE_TOO_LARGE']);
  } finally {
    await limited.close();
    await raw.close();
  }
});
