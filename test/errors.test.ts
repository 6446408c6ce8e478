import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { echo, send, sendRaw, startRawUpstream, startRelay, startUpstream, useRelay, type Reply, type Upstream } from './helpers/servers';

// The relay's own answers: JSON with a code and x-relay-error, with the right status, never a 200.

const TLS = {
  key: readFileSync(path.join(__dirname, 'fixtures/tls/key.pem')),
  cert: readFileSync(path.join(__dirname, 'fixtures/tls/cert.pem')),
};

function expectRelayError(reply: Reply, status: number, code: string): void {
  expect([reply.status, reply.headers['x-relay-error']]).toEqual([status, code]);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  const body = reply.json();
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.requestId).toBe(reply.headers['x-request-id']);
  expect(reply.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
}

/** Runs `body` against a relay pointed at `upstream`, closing both afterwards. */
async function withRelay(upstream: Upstream, env: Record<string, string>, body: (relayUrl: string) => Promise<void>, tlsCa?: Buffer) {
  const relay = await startRelay({ UPSTREAM_URL: upstream.url, ...env }, { tlsCa });
  try {
    await body(relay.url);
  } finally {
    await relay.close();
    await upstream.close();
  }
}

describe('routing', () => {
  const context = useRelay(echo);

  test.each([
    ['DELETE', '/get', 'GET'],
    ['POST', '/get', 'GET'],
    ['HEAD', '/getDownImg', 'GET'],
    ['GET', '/post', 'POST'],
    ['PATCH', '/put', 'PUT'],
    ['GET', '/delete', 'DELETE'],
    ['POST', '/delete', 'DELETE'],
  ])('%s %s: 405 with Allow: %s', async (method, endpoint, allow) => {
    const reply = await send(context.relay.url, `${endpoint}?method=api/x`, { method });
    expect(reply.status).toBe(405);
    expect(reply.headers['allow']).toBe(allow);
    expect(reply.headers['x-relay-error']).toBe('METHOD_NOT_ALLOWED');
    if (method !== 'HEAD') expectRelayError(reply, 405, 'METHOD_NOT_ALLOWED');
    expect(context.upstream.requests).toHaveLength(0);
  });

  test('an unknown endpoint: 404 NOT_FOUND', async () => {
    expectRelayError(await send(context.relay.url, '/patch?method=api/x'), 404, 'NOT_FOUND');
    expectRelayError(await send(context.relay.url, '/'), 404, 'NOT_FOUND');
    expectRelayError(await send(context.relay.url, '/gets?method=api/x'), 404, 'NOT_FOUND');
  });

  test('/healthz answers without touching the upstream', async () => {
    const reply = await send(context.relay.url, '/healthz');
    expect([reply.status, reply.json()]).toEqual([200, { ok: true }]);
    expect(context.upstream.requests).toHaveLength(0);
  });
});

describe('413 BODY_TOO_LARGE', () => {
  test('a declared Content-Length over the limit: the client receives the 413, nothing is forwarded', async () => {
    const upstream = await startUpstream(echo);
    await withRelay(upstream, { RELAY_MAX_BODY_BYTES: '1024' }, async (relayUrl) => {
      const reply = await send(relayUrl, '/post?method=api/upload', { method: 'POST', body: Buffer.alloc(8 * 1024 * 1024, 1) });
      expectRelayError(reply, 413, 'BODY_TOO_LARGE');
      expect(upstream.requests).toHaveLength(0);
    });
  });

  test('after a 413 the relay reads the rest of the upload, so the client is not reset mid-send', async () => {
    const upstream = await startUpstream(echo);
    await withRelay(upstream, { RELAY_MAX_BODY_BYTES: '1024' }, async (relayUrl) => {
      const { port } = new URL(relayUrl);
      const outcome = await new Promise<{ status: number; sendError?: string }>((resolve) => {
        let status = 0;
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/post?method=api/upload', agent: false });
        req.on('response', (res) => {
          status = res.statusCode ?? 0;
          res.resume();
        });
        req.on('error', (error: NodeJS.ErrnoException) => resolve({ status, sendError: error.code }));
        // Write a large body in many pieces, the way a slow client would, and see that every piece is taken.
        let left = 64;
        const writeMore = () => {
          while (left > 0) {
            left--;
            if (!req.write(Buffer.alloc(256 * 1024, 7))) return void req.once('drain', writeMore);
          }
          req.end(() => setTimeout(() => resolve({ status }), 50));
        };
        writeMore();
      });
      expect(outcome).toEqual({ status: 413 });
      expect(upstream.requests).toHaveLength(0);
    });
  });

  test('with Expect: 100-continue an oversized upload is refused before its body is sent', async () => {
    const upstream = await startUpstream(echo);
    await withRelay(upstream, { RELAY_MAX_BODY_BYTES: '1024' }, async (relayUrl) => {
      const head = ['POST /post?method=api/upload HTTP/1.1', 'Host: relay', 'Content-Length: 50000000', 'Expect: 100-continue', 'Connection: close'];
      const answer = await sendRaw(relayUrl, head.join('\r\n'));
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).not.toMatch(/100 Continue/);
      expect(answer).toMatch(/x-relay-error: BODY_TOO_LARGE/i);
    });
  });

  test('a chunked body that grows past the limit: 413, nothing is forwarded', async () => {
    const upstream = await startUpstream(echo);
    await withRelay(upstream, { RELAY_MAX_BODY_BYTES: '1024' }, async (relayUrl) => {
      const chunks = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 2));
      const reply = await send(relayUrl, '/put?method=api/upload', { method: 'PUT', chunks });
      expectRelayError(reply, 413, 'BODY_TOO_LARGE');
      expect(upstream.requests).toHaveLength(0);
    });
  });

  test('a body at the limit is accepted', async () => {
    const upstream = await startUpstream(echo);
    await withRelay(upstream, { RELAY_MAX_BODY_BYTES: '1024' }, async (relayUrl) => {
      const reply = await send(relayUrl, '/post?method=api/upload', { method: 'POST', body: Buffer.alloc(1024, 3) });
      expect(reply.status).toBe(200);
      expect(upstream.requests[0]!.body.length).toBe(1024);
    });
  });

  test('the default limit is 6 MiB', async () => {
    const upstream = await startUpstream(echo);
    await withRelay(upstream, {}, async (relayUrl) => {
      const over = await send(relayUrl, '/post?method=api/upload', { method: 'POST', body: Buffer.alloc(6 * 1024 * 1024 + 1, 'a') });
      expectRelayError(over, 413, 'BODY_TOO_LARGE');
      const at = await send(relayUrl, '/post?method=api/upload', { method: 'POST', body: Buffer.alloc(6 * 1024 * 1024, 'a') });
      expect(at.status).toBe(200);
    });
  });
});

describe('502 UPSTREAM_UNREACHABLE', () => {
  test('connection refused', async () => {
    const closed = await startUpstream(echo);
    await closed.close(); // nothing listens on that port any more
    const relay = await startRelay({ UPSTREAM_URL: closed.url });
    try {
      const reply = await send(relay.url, '/get?method=api/x');
      expectRelayError(reply, 502, 'UPSTREAM_UNREACHABLE');
      expect(reply.json().error.message).toMatch(/ECONNREFUSED/);
    } finally {
      await relay.close();
    }
  });

  test('reset before any response byte', async () => {
    const upstream = await startRawUpstream((socket) => socket.once('data', () => socket.resetAndDestroy()));
    await withRelay(upstream, {}, async (relayUrl) => {
      expectRelayError(await send(relayUrl, '/post?method=api/x', { method: 'POST', body: '{}' }), 502, 'UPSTREAM_UNREACHABLE');
    });
  });

  test('a body cut short of its Content-Length', async () => {
    const upstream = await startRawUpstream((socket) =>
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(400))),
    );
    await withRelay(upstream, {}, async (relayUrl) => {
      const reply = await send(relayUrl, '/getDownImg?method=img/a.png');
      expectRelayError(reply, 502, 'UPSTREAM_UNREACHABLE');
      expect(reply.json().error.message).toMatch(/before the response was complete/);
    });
  });

  test('a chunked body that never reaches its last chunk', async () => {
    const upstream = await startRawUpstream((socket) =>
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n')),
    );
    await withRelay(upstream, {}, async (relayUrl) => {
      expectRelayError(await send(relayUrl, '/get?method=api/x'), 502, 'UPSTREAM_UNREACHABLE');
    });
  });

  test('a self-signed certificate is refused: verification is never switched off', async () => {
    const upstream = await startUpstream(echo, TLS);
    await withRelay(upstream, {}, async (relayUrl) => {
      const reply = await send(relayUrl, '/get?method=api/x');
      expectRelayError(reply, 502, 'UPSTREAM_UNREACHABLE');
      expect(reply.json().error.message).toMatch(/TLS certificate was rejected \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
      expect(upstream.requests).toHaveLength(0);
    });
  });

  test('the same certificate, once trusted, relays over HTTPS', async () => {
    const upstream = await startUpstream(echo, TLS);
    await withRelay(
      upstream,
      {},
      async (relayUrl) => {
        const reply = await send(relayUrl, '/get?method=api/secure&x=1');
        expect(reply.status).toBe(200);
        expect(reply.json().url).toBe('/api/secure?x=1');
      },
      TLS.cert,
    );
  });
});

describe('504 UPSTREAM_TIMEOUT', () => {
  test('headers that never come', async () => {
    const upstream = await startRawUpstream(() => {});
    await withRelay(upstream, { RELAY_TIMEOUT_MS: '200' }, async (relayUrl) => {
      const reply = await send(relayUrl, '/get?method=api/slow');
      expectRelayError(reply, 504, 'UPSTREAM_TIMEOUT');
      expect(reply.json().error.message).toMatch(/200 ms/);
    });
  });

  test('a body that stalls after the headers', async () => {
    const upstream = await startRawUpstream((socket) =>
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial')),
    );
    await withRelay(upstream, { RELAY_TIMEOUT_MS: '200' }, async (relayUrl) => {
      expectRelayError(await send(relayUrl, '/get?method=api/slow'), 504, 'UPSTREAM_TIMEOUT');
    });
  });
});

describe('500 CONFIG', () => {
  test('a bad UPSTREAM_URL is named in the answer, and nothing is contacted', async () => {
    const relay = await startRelay({ UPSTREAM_URL: 'http://api.example.com' });
    try {
      const reply = await send(relay.url, '/get?method=api/x');
      expectRelayError(reply, 500, 'CONFIG');
      expect(reply.json().error.message).toMatch(/^UPSTREAM_URL: must use https:\/\//);
    } finally {
      await relay.close();
    }
  });
});
