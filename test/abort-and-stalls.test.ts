import http from 'node:http';
import net from 'node:net';
import { send, startRelay, startUpstream, type RunningRelay, type Upstream } from './helpers/servers';

// Class 4 of the hardening: RELAY_MAX_INFLIGHT counts a request until its upstream call has really
// ended; a client that goes away takes its upstream call with it; a request body that stalls is
// answered 408 REQUEST_TIMEOUT after RELAY_BODY_TIMEOUT_MS instead of holding a slot for minutes.

/** An upstream that holds `/api/hold` open (never answers) and reports when the relay closes it. */
async function holdingUpstream() {
  const held: http.ServerResponse[] = [];
  const closed: string[] = [];
  const upstream = await startUpstream((req, res) => {
    if (req.url?.startsWith('/api/hold')) {
      held.push(res);
      req.socket.once('close', () => closed.push(req.url ?? ''));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  return { upstream, held, closed };
}

/** Sends a request through a socket the test can cut; resolves once the upstream has it. */
function requestThenHangUp(base: string, target: string, arrived: () => boolean): Promise<void> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: relay\r\n\r\n`));
    socket.on('error', reject);
    const poll = setInterval(() => {
      if (!arrived()) return;
      clearInterval(poll);
      socket.destroy();
      resolve();
    }, 5);
  });
}

const until = async (condition: () => boolean, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('a client that goes away', () => {
  let context: Awaited<ReturnType<typeof holdingUpstream>>;
  let relay: RunningRelay;
  beforeAll(async () => {
    context = await holdingUpstream();
    relay = await startRelay({ UPSTREAM_URL: context.upstream.url, RELAY_TIMEOUT_MS: '10000', RELAY_MAX_INFLIGHT: '1' });
  });
  afterAll(async () => {
    await relay.close();
    await context.upstream.close();
  });

  test('aborts its upstream call at once (not at the 10 s timeout), and the abort is logged as 499 CLIENT_CLOSED', async () => {
    const before = context.upstream.requests.length;
    const started = Date.now();
    await requestThenHangUp(relay.url, '/get?method=api/hold/1', () => context.held.length > 0);
    expect(context.upstream.requests.length).toBe(before + 1);
    await until(() => context.closed.includes('/api/hold/1'));
    expect(Date.now() - started).toBeLessThan(2000);
    await until(() => relay.logs.some((line) => line.includes('CLIENT_CLOSED')));
    expect(JSON.parse(relay.logs.find((line) => line.includes('CLIENT_CLOSED'))!)).toMatchObject({ status: 499, error: 'CLIENT_CLOSED', path: '/api/hold/1' });
  });

  test('RELAY_MAX_INFLIGHT holds the slot while the upstream call runs, and gives it back when that call ends', async () => {
    context.held.length = 0;
    // One request occupies the only slot, its upstream call open.
    const { port } = new URL(relay.url);
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('GET /get?method=api/hold/2 HTTP/1.1\r\nHost: relay\r\n\r\n'));
    socket.on('error', () => undefined);
    await until(() => context.held.length > 0);
    const busy = await send(relay.url, '/get?method=api/other');
    expect([busy.status, busy.headers['x-relay-error']]).toEqual([503, 'BUSY']);
    // The client goes; its upstream call ends with it, and only then is the slot free again.
    socket.destroy();
    await until(() => context.closed.includes('/api/hold/2'));
    await until(() => relay.logs.filter((line) => line.includes('CLIENT_CLOSED')).length >= 2);
    const admitted = await send(relay.url, '/get?method=api/other');
    expect(admitted.status).toBe(200);
  });
});

describe('a request body that stalls', () => {
  let upstream: Upstream;
  let relay: RunningRelay;
  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => res.end('{}'));
    relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_BODY_TIMEOUT_MS: '300', RELAY_LOG: '0' });
  });
  afterAll(async () => {
    await relay.close();
    await upstream.close();
  });

  test.each([
    ['a Content-Length body that stops halfway', 'POST /post?method=api/x HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"half":'],
    ['a chunked body that never ends', 'PUT /put?method=api/x HTTP/1.1\r\nHost: relay\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'],
  ])('%s: 408 REQUEST_TIMEOUT after RELAY_BODY_TIMEOUT_MS, connection closed, nothing sent upstream', async (_case, head) => {
    const before = upstream.requests.length;
    const { port } = new URL(relay.url);
    const started = Date.now();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(head));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      const giveUp = setTimeout(() => socket.destroy(), 5000);
      socket.on('close', () => {
        clearTimeout(giveUp);
        resolve(text);
      });
      socket.on('error', reject);
    });
    const elapsed = Date.now() - started;
    expect(raw).toMatch(/^HTTP\/1\.1 408 /);
    expect(raw).toMatch(/\r\nx-relay-error: REQUEST_TIMEOUT\r\n/i);
    expect(raw).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).error.code).toBe('REQUEST_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
    expect(upstream.requests.length).toBe(before);
  });

  test('a slow but steady body is not cut off: each piece restarts the clock', async () => {
    const pieces = Array.from({ length: 5 }, () => Buffer.from('{"a":1}'.padEnd(20, ' ')));
    const { port } = new URL(relay.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', method: 'PUT', path: '/put?method=api/slow', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      let i = 0;
      const tick = setInterval(() => {
        if (i < pieces.length) req.write(pieces[i++]!);
        else {
          clearInterval(tick);
          req.end();
        }
      }, 150);
    });
    expect(status).toBe(200);
  });
});

describe('a client that never reads its answer', () => {
  const BIG = Buffer.alloc(8 * 1024 * 1024, 7);
  let upstream: Upstream;
  let relay: RunningRelay;
  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(BIG);
    });
    relay = await startRelay({ UPSTREAM_URL: upstream.url, RELAY_MAX_INFLIGHT: '1', RELAY_BODY_TIMEOUT_MS: '400', RELAY_LOG: '0' });
  });
  afterAll(async () => {
    await relay.close();
    await upstream.close();
  });

  test('keeps its slot while the buffered answer waits (memory stays bounded by RELAY_MAX_INFLIGHT), and loses the connection after RELAY_BODY_TIMEOUT_MS without progress', async () => {
    const { port } = new URL(relay.url);
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('GET /getDownImg?method=big HTTP/1.1\r\nHost: relay\r\n\r\n'));
    socket.on('error', () => undefined);
    // Read the first bytes, then stop reading: the rest stays in the relay's buffers.
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.pause();
    const started = Date.now();
    const busy = await send(relay.url, '/get?method=api/x');
    expect([busy.status, busy.headers['x-relay-error']]).toEqual([503, 'BUSY']);
    // The relay closes that connection once nothing has moved for 400 ms; then the slot is free again.
    let after = busy;
    while (after.status === 503 && Date.now() - started < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await send(relay.url, '/get?method=api/x');
    }
    expect(after.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    socket.destroy();
  });
});
