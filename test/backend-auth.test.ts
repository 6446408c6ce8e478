import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { verifyRelaySignature } from '../examples/backend-auth/verify-relay-signature';
import * as events from './fixtures/events';
import { built } from './helpers/processes';
import { hasPhp, startPhpVerifier } from './helpers/php-verifier';
import { send, startRelay } from './helpers/servers';

// RELAY_SIGNING_SECRET end to end: the relay signs what it sends, and the verification snippets shipped
// in docs/backend-auth.md accept exactly that and nothing else. The Express one always runs; the Laravel
// one runs where `php` is installed.

const SECRET = 'test-secret-0123456789abcdef';
const AUTH_DOC = readFileSync(path.join(__dirname, '..', 'docs', 'backend-auth.md'), 'utf8');

function listen(server: http.Server): Promise<{ url: string; close(): Promise<void> }> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}

/** An Express backend behind verifyRelaySignature that echoes what it accepted. */
async function expressBackend() {
  const app = express();
  app.use(verifyRelaySignature(SECRET));
  app.use((req, res) => res.json({ ok: true, url: req.originalUrl, body: (req as typeof req & { rawBody?: Buffer }).rawBody?.toString() ?? '' }));
  return listen(http.createServer(app));
}

/** Signs as docs/backend-auth.md specifies (no Authorization, Content-Type or Cookie), independently of the relay's code. */
function sign(method: string, target: string, body: string, timestamp: number, secret = SECRET) {
  const hash = createHash('sha256').update(body).digest('hex');
  const text = ['v2', method, target, timestamp, hash, 'authorization:', 'content-type:', 'cookie:'].join('\n');
  return {
    'x-relay-timestamp': String(timestamp),
    'x-relay-signed-headers': 'authorization;content-type;cookie',
    'x-relay-signature': createHmac('sha256', secret).update(text, 'latin1').digest('hex'),
  };
}

describe('Express middleware (examples/backend-auth/verify-relay-signature.ts)', () => {
  test('accepts what the relay signs: GET with a query, POST with the body after `method` is cut', async () => {
    const backend = await expressBackend();
    const relay = await startRelay({ UPSTREAM_URL: backend.url, RELAY_SIGNING_SECRET: SECRET, RELAY_LOG: '0' });
    try {
      const got = await send(relay.url, `/get?method=api/users&q=${encodeURIComponent('小程序')}&tag=a&tag=b`);
      expect([got.status, got.json().url]).toEqual([200, '/api/users?q=%E5%B0%8F%E7%A8%8B%E5%BA%8F&tag=a&tag=b']);
      const posted = await send(relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"api/orders","id":12345678901234567890}' });
      expect([posted.status, posted.json().body]).toEqual([200, '{"id":12345678901234567890}']);
      const put = await send(relay.url, '/put?method=api/orders/1', { method: 'PUT', body: Buffer.from([0, 1, 2, 255]) });
      expect(put.status).toBe(200);
    } finally {
      await relay.close();
      await backend.close();
    }
  });

  test('refuses requests that did not come through the relay, and forged, stale or wrongly signed ones', async () => {
    const backend = await expressBackend();
    const unsigned = await startRelay({ UPSTREAM_URL: backend.url, RELAY_LOG: '0' });
    const otherSecret = await startRelay({ UPSTREAM_URL: backend.url, RELAY_SIGNING_SECRET: 'another-secret-0123456789', RELAY_LOG: '0' });
    try {
      const now = Math.floor(Date.now() / 1000);
      expect((await send(backend.url, '/api/users')).status).toBe(401);
      // A client's own x-relay-* headers are dropped by a relay, so they cannot be forged through it.
      const forged = await send(unsigned.url, '/get?method=api/users', { headers: sign('GET', '/api/users', '', now) });
      expect(forged.status).toBe(401);
      expect((await send(otherSecret.url, '/get?method=api/users')).status).toBe(401);
      expect((await send(backend.url, '/api/users', { headers: sign('GET', '/api/users', '', now - 301) })).status).toBe(401);
      expect((await send(backend.url, '/api/users', { headers: sign('GET', '/api/users?x=1', '', now) })).status).toBe(401);
      // The control: a correct signature made here passes, so the refusals above are the checks at work.
      expect((await send(backend.url, '/api/users', { headers: sign('GET', '/api/users', '', now) })).status).toBe(200);
    } finally {
      await unsigned.close();
      await otherSecret.close();
      await backend.close();
    }
  });

  test('the same signature from a function bundle called as Aliyun FC 3.0', async () => {
    const backend = await expressBackend();
    const saved = process.env;
    process.env = { UPSTREAM_URL: backend.url, RELAY_SIGNING_SECRET: SECRET, RELAY_LOG: '0' };
    try {
      let bundle: { handler: (...args: unknown[]) => Promise<{ statusCode: number; body: string }> } | undefined;
      jest.isolateModules(() => {
        bundle = require(built('post', 'index.js'));
      });
      process.env = saved;
      const event = Buffer.from(JSON.stringify(events.fc3({ method: 'POST', path: '/post', query: 'method=api/orders', body: Buffer.from('{"id":1}'), headers: { 'content-type': 'application/json' } })));
      const result = await bundle!.handler(event, {});
      expect([result.statusCode, JSON.parse(result.body).body]).toEqual([200, '{"id":1}']);
    } finally {
      process.env = saved;
      await backend.close();
    }
  });

  test('docs/backend-auth.md shows this exact code', () => {
    expect(AUTH_DOC).toContain(readFileSync(path.join(__dirname, '..', 'examples', 'backend-auth', 'verify-relay-signature.ts'), 'utf8').trim());
  });
});

const describePhp = hasPhp ? describe : describe.skip;
if (!hasPhp) process.stderr.write('backend-auth.test: php is not installed, so the Laravel middleware test is skipped (apt-get install php-cli runs it)\n');

describePhp('Laravel middleware (examples/backend-auth/VerifyRelaySignature.php), with php', () => {
  test('its check accepts what the relay signs and refuses the rest', async () => {
    const php = await startPhpVerifier(SECRET);
    const backendUrl = php.url;
    const relay = await startRelay({ UPSTREAM_URL: backendUrl, RELAY_SIGNING_SECRET: SECRET, RELAY_LOG: '0' });
    try {
      expect((await send(relay.url, '/get?method=api/users&q=%E5%B0%8F')).status).toBe(200);
      const posted = await send(relay.url, '/post', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"method":"api/orders","n":1.0}' });
      expect(posted.status).toBe(200);
      expect((await send(backendUrl, '/api/users')).status).toBe(401);
      const now = Math.floor(Date.now() / 1000);
      expect((await send(backendUrl, '/api/users', { headers: sign('GET', '/api/users', '', now - 400) })).status).toBe(401);
      expect((await send(backendUrl, '/api/users', { headers: sign('GET', '/api/users', '', now) })).status).toBe(200);
    } finally {
      await relay.close();
      await php.close();
    }
  });

  test('docs/backend-auth.md shows this exact code', () => {
    expect(AUTH_DOC).toContain(readFileSync(path.join(__dirname, '..', 'examples', 'backend-auth', 'VerifyRelaySignature.php'), 'utf8').trim());
  });
});
